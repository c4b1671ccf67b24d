//! Reductions kept up to date event by event: the figures of one `(as_of, baseline_on)` under everything
//! recorded, which each applied event changes in time proportional to what it touches, not a refold.
//!
//! A group's figures are sums of two kinds of terms: a root's baseline (its count, volume, days and cost)
//! and a terminal's current burden shared among the roots that flow into it (or an introduced
//! procedure's own). An event changes the state of the procedures it touches; the terms that can change
//! are theirs as roots and those of the terminals their merge chains end in, before and after. The tally
//! keeps each procedure's state and the merge tree read upward (who merged into whom), takes those terms
//! out of the sums, reads the touched procedures again and puts the terms back. Every sum is exact and
//! can be subtracted from: money in whole 1/200-đồng units plus, for a terminal shared by roots of
//! different groups, fractions kept per denominator.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use events::event::{Programme, Scope};
use events::value::{Date, Timestamp};

use crate::QueryError;
use crate::cost::Tariffs;
use crate::exact::{Ratio, UnitSum};
use crate::programmes::ProgrammeProgress;
use crate::projection::{Applied, Moment, Projection};
use crate::reductions::{Filter, Group, GroupBy, Reductions, Totals};
use crate::timeline::{Snapshot, Standing};

/// Known at the end of time: a tally counts everything recorded.
fn everything_recorded() -> Timestamp {
    Timestamp::from_micros(i64::MAX)
}

/// What a tally knows of one procedure.
#[derive(Clone, Copy, Debug)]
struct Place {
    /// Its state as of `as_of`.
    now: Snapshot,
    /// Its restated baseline, if it is a root (active on `baseline_on`).
    baseline: Option<Snapshot>,
    /// Registered after the baseline and active now: introduced, unless a root flows into it.
    fresh: bool,
}

impl Place {
    const NOWHERE: Place = Place { now: Snapshot::UNREGISTERED, baseline: None, fresh: false };
}

/// One group's running sums, each of which can be taken back out.
#[derive(Clone, Debug, Default)]
struct Sums {
    roots: u64,
    introduced: u64,
    /// Baseline cost in 1/200 đồng, and how many baseline costs needed a tariff not in force.
    baseline_units: u128,
    baseline_gaps: u64,
    /// Current cost in whole 1/200-đồng units, plus the fractions of shares.
    current_units: u128,
    current_shares: Shares,
    current_gaps: u64,
    volume: u128,
    baseline_day_filings: u128,
    current_day_filings: u128,
}

/// Adds or subtracts.
fn bump<T: std::ops::AddAssign + std::ops::SubAssign>(sum: &mut T, by: T, add: bool) {
    if add {
        *sum += by;
    } else {
        *sum -= by;
    }
}

/// How many blocks a group's share fractions are kept in.
const BLOCKS: usize = 64;

/// The fractional parts of a group's shares, exact: per denominator, a numerator below it.
///
/// A group may hold thousands of denominators (one per terminal whose roots are in several groups), and
/// their exact sum has a denominator of their least common multiple, thousands of bits long: summing them
/// all after every event would cost milliseconds. So the denominators are spread over `BLOCKS` blocks by a
/// hash, each block's sum is kept, and the whole is kept as the sum of the blocks' sums: a change costs
/// one block (a few dozen small terms) and one sum of the blocks' sums, and a group whose shares did not
/// change costs nothing.
#[derive(Clone, Debug, Default)]
struct Shares {
    /// Empty until the group has a share.
    blocks: Vec<BTreeMap<u64, u64>>,
    /// Each block's sum in units, `None` while it must be summed again.
    sums: Vec<Option<Ratio>>,
    /// The sum of the blocks' sums, `None` while it must be summed again.
    total: Option<Ratio>,
}

impl Shares {
    fn block(d: u64) -> usize {
        (d.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 58) as usize % BLOCKS
    }

    /// Adds or subtracts `r / d` (`r < d`) units; a whole unit carried or borrowed goes to `units`.
    fn change(&mut self, r: u64, d: u64, add: bool, units: &mut u128) {
        if self.blocks.is_empty() {
            self.blocks = vec![BTreeMap::new(); BLOCKS];
            self.sums = vec![Some(Ratio::zero()); BLOCKS];
        }
        let b = Self::block(d);
        let slot = self.blocks[b].entry(d).or_insert(0);
        let wide = u128::from(d);
        if add {
            let sum = u128::from(*slot) + u128::from(r);
            if sum >= wide {
                *slot = (sum - wide) as u64;
                *units += 1;
            } else {
                *slot = sum as u64;
            }
        } else if *slot >= r {
            *slot -= r;
        } else {
            *slot = d - (r - *slot);
            *units -= 1;
        }
        if *slot == 0 {
            self.blocks[b].remove(&d);
        }
        self.sums[b] = None;
        self.total = None;
    }

    /// Sums again what changed since the last time.
    fn settle(&mut self) {
        if self.total.is_some() {
            return;
        }
        for (block, sum) in self.blocks.iter().zip(&mut self.sums) {
            if sum.is_none() {
                let mut s = UnitSum::default();
                for (&d, &n) in block {
                    s.add_fraction(u128::from(n), d);
                }
                *sum = Some(s.into_units());
            }
        }
        self.total = Some(self.sums.iter().flatten().fold(Ratio::zero(), |acc, s| acc.add(s)));
    }

    /// The sum in units (`settle` first).
    fn total(&self) -> Ratio {
        self.total.clone().expect("shares are settled before they are read")
    }
}

impl Sums {
    /// Adds or subtracts `n / d` units of current cost.
    fn share(&mut self, n: u128, d: u64, add: bool) {
        let wide = u128::from(d);
        bump(&mut self.current_units, n / wide, add);
        let r = (n % wide) as u64;
        if r != 0 {
            self.current_shares.change(r, d, add, &mut self.current_units);
        }
    }

    fn figures(&self, key: String, always: bool) -> Group {
        let mut current = UnitSum::default();
        current.add_units(self.current_units);
        if !self.current_shares.blocks.is_empty() {
            current.add_ratio(&self.current_shares.total());
        }
        Totals {
            roots: self.roots,
            introduced: self.introduced,
            baseline_units: self.baseline_units,
            baseline_gap: self.baseline_gaps > 0,
            current,
            current_gap: self.current_gaps > 0,
            volume: self.volume,
            baseline_day_filings: self.baseline_day_filings,
            current_day_filings: self.current_day_filings,
            seen: always || self.roots + self.introduced > 0,
        }
        .figures(key)
    }
}

/// The reductions at one `as_of` from one `baseline_on`, under everything recorded, kept up to date by
/// [`Tally::update`] after each event the projection applies. Its answers equal
/// [`Projection::reductions`] asked at the same moment with a `known_at` at or after the last event (a
/// property test checks it after every event).
#[derive(Clone, Debug)]
pub struct Tally {
    as_of: Date,
    /// The baseline asked for; `None` for the default one, which an event may move.
    asked: Option<Date>,
    baseline_on: Date,
    tariffs: Tariffs,
    places: Vec<Place>,
    /// The procedures merged (as of `as_of`) straight into each procedure: the merge trees read upward.
    feeders: HashMap<u32, Vec<u32>>,
    /// Per grouping (`GroupBy as usize`), per key index (`GroupBy::key_of`).
    sums: [Vec<Sums>; 4],
    /// The groups whose sums changed since `take_changed`, as (grouping, key index).
    changed: BTreeSet<(usize, u32)>,
}

impl Projection {
    /// A tally of the reductions at `as_of` from `baseline_on` (default: the default baseline), under
    /// everything recorded. Cost: one reductions pass.
    pub fn tally(&self, as_of: Date, baseline_on: Option<Date>) -> Result<Tally, QueryError> {
        let at = Moment::new(as_of, everything_recorded());
        let resolved = self.baseline_for(at, baseline_on)?;
        let mut tally = Tally {
            as_of,
            asked: baseline_on,
            baseline_on: resolved,
            tariffs: self.tariffs_in_force(at),
            places: Vec::new(),
            feeders: HashMap::new(),
            sums: Default::default(),
            changed: BTreeSet::new(),
        };
        tally.count(self);
        Ok(tally)
    }
}

impl Tally {
    pub fn as_of(&self) -> Date {
        self.as_of
    }

    pub fn baseline_on(&self) -> Date {
        self.baseline_on
    }

    fn moment(&self) -> Moment {
        Moment::new(self.as_of, everything_recorded())
    }

    /// Counts everything afresh from `projection` (one reductions survey, then each term once).
    fn count(&mut self, projection: &Projection) {
        let flows = projection.flows(self.moment(), self.baseline_on);
        self.places = flows.now.iter().map(|&now| Place { now, ..Place::NOWHERE }).collect();
        for &(p, baseline) in &flows.roots {
            self.places[p as usize].baseline = Some(baseline);
        }
        for &p in &flows.fresh {
            self.places[p as usize].fresh = true;
        }
        self.feeders.clear();
        for (p, place) in self.places.iter().enumerate() {
            if place.now.standing() == Standing::Merged {
                self.feeders.entry(place.now.merged_into()).or_default().push(p as u32);
            }
        }
        self.sums = Default::default();
        self.grow(projection);
        for &(p, _) in &flows.roots {
            self.root(p, true);
        }
        for p in 0..self.places.len() as u32 {
            if self.places[p as usize].now.is_active() {
                self.sink(p, true);
            }
        }
        self.everything_changed();
        self.settle();
    }

    /// Sums again the shares of the groups that changed.
    fn settle(&mut self) {
        for &(g, k) in &self.changed {
            self.sums[g][k as usize].current_shares.settle();
        }
    }

    /// Room for procedures, agencies and sectors the projection has come to know.
    fn grow(&mut self, projection: &Projection) {
        self.places.resize(projection.procedure_count(), Place::NOWHERE);
        for (sums, by) in self.sums.iter_mut().zip(GroupBy::EVERY) {
            let len = projection.group_count(by);
            if sums.len() < len {
                sums.resize(len, Sums::default());
            }
        }
    }

    fn everything_changed(&mut self) {
        self.changed.clear();
        for (g, sums) in self.sums.iter().enumerate() {
            self.changed.extend((0..sums.len() as u32).map(|k| (g, k)));
        }
    }

    /// Brings the tally up to `projection`, which has just applied an event and said what it touched
    /// (`applied`). Cost: the touched procedures, the merge trees of their terminals before and after, and
    /// the groups of those roots; a count afresh (one reductions pass) only when a tariff in force changed
    /// or the default baseline moved.
    pub fn update(&mut self, projection: &Projection, applied: &Applied) {
        self.grow(projection);
        let at = self.moment();
        if applied.tariffs && projection.tariffs_in_force(at) != self.tariffs {
            self.tariffs = projection.tariffs_in_force(at);
            return self.count(projection);
        }
        if self.asked.is_none() {
            let baseline_on = projection.default_baseline(at).unwrap_or(self.as_of);
            if baseline_on != self.baseline_on {
                self.baseline_on = baseline_on;
                return self.count(projection);
            }
        }
        let touched: BTreeSet<u32> =
            applied.procedures.iter().filter_map(|c| projection.index_of(c.as_str())).collect();
        if touched.is_empty() {
            return;
        }
        let read: BTreeMap<u32, Place> = touched.iter().map(|&p| (p, self.read(projection, p))).collect();
        // The terminals the touched procedures flow into, before and after: the only ones whose terms
        // can change. Those active before give their terms back, all of them as they were.
        let mut terminals: BTreeSet<u32> = touched.iter().filter_map(|&p| self.terminal(p, &BTreeMap::new())).collect();
        terminals.extend(touched.iter().filter_map(|&p| self.terminal(p, &read)));
        terminals.retain(|&t| self.places[t as usize].now.is_active());
        for &t in &terminals {
            self.sink(t, false);
        }
        for &p in &touched {
            self.root(p, false);
        }
        for (p, place) in read {
            let old = self.places[p as usize].now;
            if old.standing() == Standing::Merged
                && let Some(fs) = self.feeders.get_mut(&old.merged_into())
            {
                fs.retain(|&f| f != p);
            }
            if place.now.standing() == Standing::Merged {
                self.feeders.entry(place.now.merged_into()).or_default().push(p);
            }
            self.places[p as usize] = place;
        }
        for &p in &touched {
            self.root(p, true);
        }
        // Each terminal of before is where its own terms go now (itself, unless it was touched), and each
        // touched procedure's terminal now is among them or was read above.
        let now: BTreeSet<u32> =
            terminals.iter().chain(&touched).filter_map(|&t| self.terminal(t, &BTreeMap::new())).collect();
        for t in now {
            self.sink(t, true);
        }
        self.settle();
    }

    /// Procedure `p` as the tally sees it, read from its timeline.
    fn read(&self, projection: &Projection, p: u32) -> Place {
        let known = everything_recorded();
        let t = projection.timeline(p);
        let now = t.state(self.as_of, known);
        if !now.is_registered() {
            return Place { now, ..Place::NOWHERE };
        }
        let then = t.state(self.baseline_on, known);
        if then.is_active() {
            let mut baseline = then;
            t.restate(&mut baseline, self.baseline_on, self.as_of, known);
            Place { now, baseline: Some(baseline), fresh: false }
        } else {
            Place { now, baseline: None, fresh: !then.is_registered() && now.is_active() }
        }
    }

    /// The end of `p`'s merge chain, if it is active (`None`: abolished, or not registered yet), with
    /// the places in `instead` in place of those kept.
    fn terminal(&self, p: u32, instead: &BTreeMap<u32, Place>) -> Option<u32> {
        let mut cur = p;
        // The decider makes cycles impossible; a corrupt log must still not loop forever.
        for _ in 0..=self.places.len() {
            let now = instead.get(&cur).unwrap_or(&self.places[cur as usize]).now;
            match now.standing() {
                Standing::Active => return Some(cur),
                Standing::Merged => cur = now.merged_into(),
                Standing::Abolished | Standing::Unregistered => return None,
            }
        }
        None
    }

    /// The key index of `s` in each grouping.
    fn keys(s: &Snapshot) -> [u32; 4] {
        GroupBy::EVERY.map(|by| by.key_of(s))
    }

    /// Adds (or takes out) root `p`'s baseline terms, if it is a root.
    fn root(&mut self, p: u32, add: bool) {
        let Some(b) = self.places[p as usize].baseline else { return };
        let volume = u128::from(b.annual_volume());
        let units = self.tariffs.annual_units(&b);
        for (g, key) in Self::keys(&b).into_iter().enumerate() {
            let s = &mut self.sums[g][key as usize];
            bump(&mut s.roots, 1, add);
            bump(&mut s.volume, volume, add);
            bump(&mut s.baseline_day_filings, u128::from(b.processing_days()) * volume, add);
            match units {
                Some(u) => bump(&mut s.baseline_units, u, add),
                None => bump(&mut s.baseline_gaps, 1, add),
            }
            self.changed.insert((g, key));
        }
    }

    /// The roots that flow into active procedure `t` (itself included, if it is one), with their baselines.
    fn flowing_into(&self, t: u32) -> Vec<Snapshot> {
        let mut roots = Vec::new();
        let mut stack = vec![t];
        let mut visited = 0;
        while let Some(x) = stack.pop() {
            visited += 1;
            if visited > self.places.len() {
                break; // Only a corrupt log has a cycle.
            }
            roots.extend(self.places[x as usize].baseline);
            if let Some(fs) = self.feeders.get(&x) {
                stack.extend(fs);
            }
        }
        roots
    }

    /// Adds (or takes out) the current terms of active procedure `t`: its burden shared among the roots
    /// flowing into it, by their baseline volumes, or, if none does and it is new, its own as introduced.
    fn sink(&mut self, t: u32, add: bool) {
        let place = self.places[t as usize];
        let now = place.now;
        let units = self.tariffs.annual_units(&now);
        let roots = self.flowing_into(t);
        if roots.is_empty() {
            if !place.fresh {
                return;
            }
            for (g, key) in Self::keys(&now).into_iter().enumerate() {
                let s = &mut self.sums[g][key as usize];
                bump(&mut s.introduced, 1, add);
                match units {
                    Some(u) => bump(&mut s.current_units, u, add),
                    None => bump(&mut s.current_gaps, 1, add),
                }
                self.changed.insert((g, key));
            }
            return;
        }
        let days = u128::from(now.processing_days());
        let flow_volume: u64 = roots.iter().map(|b| u64::from(b.annual_volume())).sum();
        for g in 0..GroupBy::EVERY.len() {
            // Per key: the baseline volume and number of the roots in it.
            let mut parts: BTreeMap<u32, (u64, u64)> = BTreeMap::new();
            for b in &roots {
                let key = Self::keys(b)[g];
                let s = &mut self.sums[g][key as usize];
                bump(&mut s.current_day_filings, days * u128::from(b.annual_volume()), add);
                if units.is_none() {
                    bump(&mut s.current_gaps, 1, add);
                }
                let part = parts.entry(key).or_default();
                part.0 += u64::from(b.annual_volume());
                part.1 += 1;
                self.changed.insert((g, key));
            }
            let Some(u) = units else { continue };
            for (key, (volume, count)) in parts {
                // Shares by baseline volume; equal shares when the volumes sum to 0.
                let (part, whole) = match flow_volume {
                    0 => (count, roots.len() as u64),
                    total => (volume, total),
                };
                let s = &mut self.sums[g][key as usize];
                if part == whole {
                    bump(&mut s.current_units, u, add);
                } else {
                    s.share(u * u128::from(part), whole, add);
                }
            }
        }
    }

    /// The groups whose figures may have changed since the last call, as `(grouping, key)`.
    pub fn take_changed(&mut self, projection: &Projection) -> Vec<(GroupBy, String)> {
        let changed = std::mem::take(&mut self.changed);
        changed.into_iter().map(|(g, k)| (GroupBy::EVERY[g], projection.group_name(GroupBy::EVERY[g], k))).collect()
    }

    /// The reductions by `group_by`, as `Projection::reductions` answers them at this tally's moment with
    /// `known_at` (any time at or after the last event). Cost: the groups.
    pub fn reductions(&self, projection: &Projection, group_by: GroupBy, known_at: Timestamp) -> Reductions {
        let mut groups: Vec<Group> = self.sums[group_by as usize]
            .iter()
            .enumerate()
            .map(|(k, s)| s.figures(projection.group_name(group_by, k as u32), group_by == GroupBy::All))
            .filter(|group| group_by == GroupBy::All || group.roots + group.introduced > 0)
            .collect();
        groups.sort_by(|a, b| a.key.cmp(&b.key));
        Reductions {
            as_of: self.as_of,
            known_at,
            baseline_on: self.baseline_on,
            group_by,
            tariffs: self.tariffs,
            groups,
        }
    }

    /// One group's figures, if the group is listed (it has a root or an introduced procedure, or is `all`).
    pub fn group(&self, projection: &Projection, group_by: GroupBy, key: &str) -> Option<Group> {
        let k = projection.group_index(group_by, key)?;
        let s = self.sums[group_by as usize].get(k as usize)?;
        let group = s.figures(key.to_owned(), group_by == GroupBy::All);
        (group_by == GroupBy::All || group.roots + group.introduced > 0).then_some(group)
    }

    /// The figures of a programme's scope: its group, listed or not (an empty scope has zeros).
    fn scope(&self, projection: &Projection, scope: &Scope) -> Group {
        let group = Filter::of_scope(projection, scope).group();
        let empty = Sums::default();
        let s = group.and_then(|(by, k)| self.sums[by as usize].get(k as usize)).unwrap_or(&empty);
        s.figures(scope.to_string(), true)
    }
}

/// What live readers show as of one day: the reductions from the default baseline and every programme's
/// progress, each a [`Tally`] kept up to date event by event. Equal to `Projection::reductions` and
/// `Projection::programmes` asked that day with `known_at` at or after the last event.
#[derive(Clone, Debug)]
pub struct LiveFigures {
    as_of: Date,
    today: Tally,
    /// Each programme defined, with the tally of its scope from its baseline at `min(as_of, deadline)`
    /// (`None` while that is before its baseline).
    programmes: Vec<(Programme, Option<Tally>)>,
}

/// What an event changed in [`LiveFigures`].
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct Changed {
    /// Reductions groups (from the default baseline) whose figures may read differently.
    pub groups: Vec<(GroupBy, String)>,
    /// Programmes whose progress may read differently, by id.
    pub programmes: Vec<String>,
}

impl LiveFigures {
    /// The figures as of `as_of`. Cost: one reductions pass, and one per programme.
    pub fn new(projection: &Projection, as_of: Date) -> Self {
        let today = projection.tally(as_of, None).expect("the default baseline is never after as_of");
        let mut figures = Self { as_of, today, programmes: Vec::new() };
        figures.define_programmes(projection);
        figures
    }

    pub fn as_of(&self) -> Date {
        self.as_of
    }

    fn define_programmes(&mut self, projection: &Projection) {
        self.programmes = projection
            .programme_definitions(everything_recorded())
            .into_values()
            .map(|p| {
                let evaluated_on = self.as_of.min(p.deadline);
                let tally = projection.tally(evaluated_on, Some(p.baseline_on)).ok();
                (p.clone(), tally)
            })
            .collect();
    }

    /// Brings the figures up to `projection` after it applied an event that touched `applied`, and says
    /// what changed. Cost: [`Tally::update`] for the default baseline and each programme; a programme
    /// defined or retracted recounts every programme.
    pub fn update(&mut self, projection: &Projection, applied: &Applied) -> Changed {
        self.today.update(projection, applied);
        let mut changed = Changed { groups: self.today.take_changed(projection), programmes: Vec::new() };
        if applied.programmes {
            self.define_programmes(projection);
            changed.programmes = self.programmes.iter().map(|(p, _)| p.id.as_str().to_owned()).collect();
            return changed;
        }
        for (p, tally) in &mut self.programmes {
            // The tariffs in force show in the progress, even without figures or a cost that needs them.
            let mut moved = applied.tariffs;
            if let Some(tally) = tally {
                tally.update(projection, applied);
                let scope = Filter::of_scope(projection, &p.scope).group();
                moved |= scope.is_some_and(|(by, k)| tally.changed.contains(&(by as usize, k)));
                tally.changed.clear();
            }
            if moved {
                changed.programmes.push(p.id.as_str().to_owned());
            }
        }
        changed
    }

    /// The reductions by `group_by` from the default baseline.
    pub fn reductions(&self, projection: &Projection, group_by: GroupBy, known_at: Timestamp) -> Reductions {
        self.today.reductions(projection, group_by, known_at)
    }

    /// One group's figures from the default baseline, if it is listed.
    pub fn group(&self, projection: &Projection, group_by: GroupBy, key: &str) -> Option<Group> {
        self.today.group(projection, group_by, key)
    }

    /// Every programme's progress, ordered by id, as `Projection::programmes` answers with `known_at`.
    pub fn programmes(&self, projection: &Projection, known_at: Timestamp) -> Vec<ProgrammeProgress> {
        self.programmes
            .iter()
            .map(|(p, tally)| {
                let at = Moment::new(self.as_of, known_at);
                projection.progress_with(p, at, |_, _| tally.as_ref().map(|t| t.scope(projection, &p.scope)))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn shares_taken_out_in_any_order_leave_the_exact_sum_of_the_rest(
            terms in proptest::collection::vec((0u128..1_000_000_000, 1u64..5_000), 1..60),
            out in proptest::collection::vec(any::<bool>(), 60),
        ) {
            let mut s = Sums::default();
            for &(n, d) in &terms {
                s.share(n, d, true);
            }
            let mut kept = Ratio::zero();
            // Take some out again, last added first and first added last alike.
            for (i, &(n, d)) in terms.iter().enumerate().rev() {
                if out[i] {
                    s.share(n, d, false);
                } else {
                    kept = kept.add(&Ratio::new(n, u128::from(d)));
                }
            }
            s.current_shares.settle();
            let total = if s.current_shares.blocks.is_empty() { Ratio::zero() } else { s.current_shares.total() };
            prop_assert_eq!(Ratio::from_int(s.current_units as i128).add(&total), kept);
        }
    }
}
