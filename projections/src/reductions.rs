//! Reductions: the SPEC's arithmetic over roots, terminals, shares and introduced procedures, per group.
//!
//! One evaluation is one pass over the procedures, each answered by a date search in its timeline (two:
//! as of `as_of` and as of `baseline_on`), then a pass over the roots. Merge shares are summed exactly,
//! terminal by terminal, so the groups add up to the whole before anything is rounded.
//!
//! One pass over every timeline: two date searches each (as of `as_of` and of `baseline_on`, 32 timelines
//! in lockstep so their misses overlap), the snapshots there, the restatements of the roots; then the
//! terminals, shares and sums over the roots alone. The pass is bound by memory latency, so the projection
//! splits it into contiguous ranges surveyed on `set_query_threads` threads side by side (the server uses
//! one per core; ranges under 4 096 procedures stay on the calling thread), and joins their roots in
//! procedure order: the answer is the same for any number of threads (a property test splits small
//! projections into ranges of one procedure).

use std::fmt;
use std::str::FromStr;

use events::event::Scope;
use events::value::{Date, Level, Timestamp};
use serde::{Serialize, Serializer};

use crate::QueryError;
use crate::cost::Tariffs;
use crate::exact::{Money, Ratio, UnitSum, money_from_units};
use crate::projection::{Moment, Projection};
use crate::timeline::{LOCKSTEP, Snapshot, Standing, Timeline};

/// How reductions are grouped: by the roots' baseline attributes (introduced procedures by their current
/// ones).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub enum GroupBy {
    All,
    Agency,
    Sector,
    Level,
}

impl GroupBy {
    pub const RULE: &'static str = "must be all, agency, sector or level";

    pub fn as_str(self) -> &'static str {
        match self {
            Self::All => "all",
            Self::Agency => "agency",
            Self::Sector => "sector",
            Self::Level => "level",
        }
    }

    /// `all`, `agency`, `sector` or `level`.
    pub fn parse(s: &str) -> Result<Self, String> {
        Self::EVERY.into_iter().find(|by| by.as_str() == s).ok_or_else(|| Self::RULE.to_owned())
    }
}

impl GroupBy {
    /// The four groupings, in the order of their discriminants (`GroupBy as usize`).
    pub(crate) const EVERY: [GroupBy; 4] = [Self::All, Self::Agency, Self::Sector, Self::Level];

    /// The index of the group `s` is in: agency and sector ids, levels by discriminant, 0 for `all`.
    pub(crate) fn key_of(self, s: &Snapshot) -> u32 {
        match self {
            Self::All => 0,
            Self::Agency => s.agency(),
            Self::Sector => s.sector(),
            Self::Level => s.level() as u32,
        }
    }
}

impl FromStr for GroupBy {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "all" => Ok(Self::All),
            "agency" => Ok(Self::Agency),
            "sector" => Ok(Self::Sector),
            "level" => Ok(Self::Level),
            _ => Err(Self::RULE.to_owned()),
        }
    }
}

impl fmt::Display for GroupBy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for GroupBy {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// The figures of one group of roots (and of its introduced procedures), exact until serialised.
///
/// On the wire: money rounded half-up to the đồng, ratios and average days as JSON numbers, `null` where a
/// denominator is 0 or a tariff the figure needs is not in force.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, PartialEq, Eq, Debug, Serialize)]
pub struct Group {
    pub key: String,
    pub baseline_annual_cost_vnd: Option<Money>,
    pub current_annual_cost_vnd: Option<Money>,
    pub cost_reduction: Option<Ratio>,
    pub baseline_avg_days: Option<Ratio>,
    pub current_avg_days: Option<Ratio>,
    pub time_reduction: Option<Ratio>,
    /// How many roots the group has.
    pub roots: u64,
    /// How many active introduced procedures the group has.
    pub introduced: u64,
    /// Σ baseline `annual_volume` of the roots: the weight of the average days (not on the wire).
    #[serde(skip)]
    pub baseline_volume: u128,
}

/// `GET /v1/reductions`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, PartialEq, Eq, Debug, Serialize)]
pub struct Reductions {
    pub as_of: Date,
    pub known_at: Timestamp,
    pub baseline_on: Date,
    pub group_by: GroupBy,
    pub tariffs: Tariffs,
    /// Ordered by key; exactly one, keyed `all`, for `group_by=all`.
    pub groups: Vec<Group>,
}

/// Which roots (by baseline attributes) and introduced procedures (by current ones) an evaluation covers.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Filter {
    All,
    Agency(u32),
    Sector(u32),
    Level(Level),
    /// A scope naming an agency or sector the log has never seen.
    Nothing,
}

impl Filter {
    pub(crate) fn of_scope(projection: &Projection, scope: &Scope) -> Self {
        match scope {
            Scope::All => Self::All,
            Scope::Agency(a) => projection.agencies.find(a).map_or(Self::Nothing, Self::Agency),
            Scope::Sector(s) => projection.sectors.find(s).map_or(Self::Nothing, Self::Sector),
            Scope::Level(l) => Self::Level(*l),
        }
    }

    /// The one group (grouping, key index) a scope covers, if the log knows it.
    pub(crate) fn group(self) -> Option<(GroupBy, u32)> {
        match self {
            Self::All => Some((GroupBy::All, 0)),
            Self::Agency(a) => Some((GroupBy::Agency, a)),
            Self::Sector(x) => Some((GroupBy::Sector, x)),
            Self::Level(l) => Some((GroupBy::Level, l as u32)),
            Self::Nothing => None,
        }
    }

    fn admits(self, s: &Snapshot) -> bool {
        match self {
            Self::All => true,
            Self::Agency(a) => s.agency() == a,
            Self::Sector(x) => s.sector() == x,
            Self::Level(l) => s.level() == l,
            Self::Nothing => false,
        }
    }
}

/// Running totals of one group, in exact units: money in 1/200 đồng, days in hundredths.
#[derive(Clone, Debug, Default)]
pub(crate) struct Totals {
    pub roots: u64,
    pub introduced: u64,
    pub baseline_units: u128,
    /// A baseline cost needed a tariff that is not in force.
    pub baseline_gap: bool,
    pub current: UnitSum,
    pub current_gap: bool,
    pub volume: u128,
    /// Σ baseline days × baseline volume (hundredths of a day × filings).
    pub baseline_day_filings: u128,
    /// Σ current days × baseline volume.
    pub current_day_filings: u128,
    pub seen: bool,
}

impl Totals {
    pub(crate) fn figures(self, key: String) -> Group {
        let baseline = (!self.baseline_gap).then(|| money_from_units(self.baseline_units));
        let current = (!self.current_gap).then(|| self.current.into_money());
        let cost_reduction = match (&baseline, &current) {
            (Some(b), Some(c)) if !b.as_ratio().is_zero() => c.as_ratio().div(b.as_ratio()).map(|r| r.one_minus()),
            _ => None,
        };
        let days = |n: u128| (self.volume > 0).then(|| Ratio::new(n, self.volume * 100));
        let time_reduction = (self.volume > 0 && self.baseline_day_filings > 0)
            .then(|| Ratio::new(self.current_day_filings, self.baseline_day_filings).one_minus());
        Group {
            key,
            baseline_annual_cost_vnd: baseline,
            current_annual_cost_vnd: current,
            cost_reduction,
            baseline_avg_days: days(self.baseline_day_filings),
            current_avg_days: days(self.current_day_filings),
            time_reduction,
            roots: self.roots,
            introduced: self.introduced,
            baseline_volume: self.volume,
        }
    }
}

/// Marks in the per-query terminal table.
const UNRESOLVED: u32 = u32::MAX;
const NO_TERMINAL: u32 = u32::MAX - 1;

impl Projection {
    /// `GET /v1/reductions`: the group figures at `at`, measured from `baseline_on` (default: the earliest
    /// counted registration).
    ///
    /// Cost: one pass over the procedures with a date search in each timeline (no replay of events unless
    /// `known_at` predates some of them), then one pass over the roots; memory, a few vectors of one entry
    /// per procedure. The same code answers as of today and as of any date.
    pub fn reductions(
        &self,
        group_by: GroupBy,
        at: Moment,
        baseline_on: Option<Date>,
    ) -> Result<Reductions, QueryError> {
        let baseline_on = self.baseline_for(at, baseline_on)?;
        let tariffs = self.tariffs_in_force(at);
        let groups = self.evaluate(at, baseline_on, group_by, Filter::All, &tariffs);
        Ok(Reductions { as_of: at.as_of, known_at: at.known_at, baseline_on, group_by, tariffs, groups })
    }

    /// `reductions` by every grouping (all, agency, sector, level, in that order) from one survey of the
    /// timelines — most of a pass's cost — instead of four: what a live dashboard's rows need after each
    /// batch of events. Equal to the four calls (a test says so).
    pub fn reductions_by_every_grouping(
        &self,
        at: Moment,
        baseline_on: Option<Date>,
    ) -> Result<Vec<Reductions>, QueryError> {
        let baseline_on = self.baseline_for(at, baseline_on)?;
        let tariffs = self.tariffs_in_force(at);
        let every = [GroupBy::All, GroupBy::Agency, GroupBy::Sector, GroupBy::Level];
        let flows = self.flows(at, baseline_on);
        Ok(every
            .into_iter()
            .map(|group_by| Reductions {
                as_of: at.as_of,
                known_at: at.known_at,
                baseline_on,
                group_by,
                tariffs,
                groups: self.group(&flows, group_by, Filter::All, &tariffs),
            })
            .collect())
    }

    /// The baseline a question uses: the one given, else the default; `as_of` may not precede it.
    pub(crate) fn baseline_for(&self, at: Moment, baseline_on: Option<Date>) -> Result<Date, QueryError> {
        // With nothing registered as of `as_of` there are no roots: measure from `as_of` itself.
        let baseline_on = baseline_on.or_else(|| self.default_baseline(at)).unwrap_or(at.as_of);
        if at.as_of < baseline_on {
            return Err(QueryError::AsOfBeforeBaseline { as_of: at.as_of, baseline_on });
        }
        Ok(baseline_on)
    }

    /// The SPEC's arithmetic at `at` from `baseline_on`, for the roots and introduced procedures `filter`
    /// admits, grouped by `group_by`; groups ordered by key (`all` always has its one group).
    pub(crate) fn evaluate(
        &self,
        at: Moment,
        baseline_on: Date,
        group_by: GroupBy,
        filter: Filter,
        tariffs: &Tariffs,
    ) -> Vec<Group> {
        self.group(&self.flows(at, baseline_on), group_by, filter, tariffs)
    }

    /// Every procedure's state at `at`, the roots at `baseline_on` and where each flows: one survey of the
    /// timelines (most of a pass's cost), then the terminals. What any grouping's figures are summed from.
    pub(crate) fn flows(&self, at: Moment, baseline_on: Date) -> Flows {
        let n = self.procedures.len();
        // The survey is bound by memory latency, so it runs on `query_threads` ranges side by side.
        let mut now: Vec<Snapshot> = vec![Snapshot::UNREGISTERED; n];
        let split = self.query_threads;
        let threads = split.threads.clamp(1, n.div_ceil(split.min_range).max(1));
        let per = n.div_ceil(threads).max(1);
        let mut parts: Vec<Survey> = Vec::with_capacity(threads);
        if threads <= 1 {
            parts.push(survey(&self.procedures, 0, &mut now, at, baseline_on));
        } else {
            std::thread::scope(|s| {
                let mut ranges = self.procedures.chunks(per).zip(now.chunks_mut(per)).enumerate();
                let mine = ranges.next();
                let others: Vec<_> = ranges
                    .map(|(i, (timelines, out))| s.spawn(move || survey(timelines, i * per, out, at, baseline_on)))
                    .collect();
                if let Some((_, (timelines, out))) = mine {
                    parts.push(survey(timelines, 0, out, at, baseline_on));
                }
                // A survey does no I/O and takes no lock; it cannot fail but by a bug, which stays a panic.
                parts.extend(others.into_iter().map(|h| h.join().expect("a reductions survey thread panicked")));
            });
        }
        let (mut roots, mut fresh) = (Vec::new(), Vec::new());
        for part in parts {
            roots.extend(part.roots);
            fresh.extend(part.fresh);
        }

        // Each root's terminal, and per terminal the baseline volume and number of roots flowing to it.
        let mut terminal = vec![UNRESOLVED; n];
        let mut flow_volume = vec![0u64; n];
        let mut flow_roots = vec![0u32; n];
        let mut root_terminals = Vec::with_capacity(roots.len());
        for &(p, baseline) in &roots {
            let t = resolve(&now, &mut terminal, p);
            if t != NO_TERMINAL {
                flow_volume[t as usize] += u64::from(baseline.annual_volume());
                flow_roots[t as usize] += 1;
            }
            root_terminals.push(t);
        }
        Flows { now, roots, fresh, root_terminals, flow_volume, flow_roots }
    }

    /// The figures of `flows` for the roots and introduced procedures `filter` admits, grouped by
    /// `group_by`: a pass over the roots alone.
    fn group(&self, flows: &Flows, group_by: GroupBy, filter: Filter, tariffs: &Tariffs) -> Vec<Group> {
        let key_of = |s: &Snapshot| group_by.key_of(s) as usize;
        let mut totals = vec![Totals::default(); self.group_count(group_by)];
        if group_by == GroupBy::All {
            totals[0].seen = true;
        }

        // Roots whose terminal several roots share: (terminal, group, baseline volume), summed per pair below.
        let mut shared: Vec<(u32, u32, u64)> = Vec::new();
        for (&(_, baseline), &t) in flows.roots.iter().zip(&flows.root_terminals) {
            if !filter.admits(&baseline) {
                continue;
            }
            let key = key_of(&baseline);
            let g = &mut totals[key];
            g.seen = true;
            g.roots += 1;
            let volume = u128::from(baseline.annual_volume());
            g.volume += volume;
            g.baseline_day_filings += u128::from(baseline.processing_days()) * volume;
            match tariffs.annual_units(&baseline) {
                Some(units) => g.baseline_units += units,
                None => g.baseline_gap = true,
            }
            if t == NO_TERMINAL {
                continue; // Abolished: no cost, no days.
            }
            let terminal = &flows.now[t as usize];
            g.current_day_filings += u128::from(terminal.processing_days()) * volume;
            match tariffs.annual_units(terminal) {
                None => g.current_gap = true,
                Some(units) if flows.flow_roots[t as usize] == 1 => g.current.add_units(units),
                Some(_) => shared.push((t, key as u32, baseline.annual_volume().into())),
            }
        }

        // A shared terminal's cost, split by baseline volume (equal shares when the volumes sum to 0), one
        // exact term per (terminal, group).
        shared.sort_unstable();
        for run in shared.chunk_by(|a, b| (a.0, a.1) == (b.0, b.1)) {
            let (t, key) = (run[0].0 as usize, run[0].1 as usize);
            let units = tariffs.annual_units(&flows.now[t]).expect("a terminal with shares has a cost");
            let (part, whole) = match flows.flow_volume[t] {
                0 => (run.len() as u128, u64::from(flows.flow_roots[t])),
                total => (run.iter().map(|r| u128::from(r.2)).sum(), total),
            };
            if part == u128::from(whole) {
                totals[key].current.add_units(units);
            } else {
                totals[key].current.add_fraction(units * part, whole);
            }
        }

        for &p in &flows.fresh {
            let current = &flows.now[p as usize];
            if flows.flow_roots[p as usize] > 0 || !filter.admits(current) {
                continue;
            }
            let g = &mut totals[key_of(current)];
            g.seen = true;
            g.introduced += 1;
            match tariffs.annual_units(current) {
                Some(units) => g.current.add_units(units),
                None => g.current_gap = true,
            }
        }

        let mut groups: Vec<Group> = totals
            .into_iter()
            .enumerate()
            .filter(|(_, g)| g.seen)
            .map(|(key, g)| g.figures(self.group_name(group_by, key as u32)))
            .collect();
        groups.sort_by(|a, b| a.key.cmp(&b.key));
        groups
    }
}

impl Projection {
    /// How many groups `group_by` has room for: every agency or sector the log has named, four levels.
    pub(crate) fn group_count(&self, group_by: GroupBy) -> usize {
        match group_by {
            GroupBy::All => 1,
            GroupBy::Agency => self.agencies.len(),
            GroupBy::Sector => self.sectors.len(),
            GroupBy::Level => LEVELS.len(),
        }
    }

    /// The key on the wire of group `k` of `group_by`.
    pub(crate) fn group_name(&self, group_by: GroupBy, k: u32) -> String {
        match group_by {
            GroupBy::All => "all".to_owned(),
            GroupBy::Agency => self.agencies.get(k).as_str().to_owned(),
            GroupBy::Sector => self.sectors.get(k).as_str().to_owned(),
            GroupBy::Level => LEVELS[k as usize].as_str().to_owned(),
        }
    }

    /// The index of the group keyed `key` of `group_by`, if the log has named it.
    pub(crate) fn group_index(&self, group_by: GroupBy, key: &str) -> Option<u32> {
        match group_by {
            GroupBy::All => (key == "all").then_some(0),
            GroupBy::Agency => self.agencies.find(key),
            GroupBy::Sector => self.sectors.find(key),
            GroupBy::Level => LEVELS.iter().position(|l| l.as_str() == key).map(|i| i as u32),
        }
    }
}

/// What every grouping's figures are summed from (`Projection::flows`), by procedure index.
pub(crate) struct Flows {
    /// Every procedure's state as of `as_of`.
    pub now: Vec<Snapshot>,
    /// The roots, with their (restated) baselines.
    pub roots: Vec<(u32, Snapshot)>,
    /// Registered after the baseline and active now: introduced, unless a root flows into them.
    pub fresh: Vec<u32>,
    /// Each root's terminal (`NO_TERMINAL` if abolished), parallel to `roots`.
    root_terminals: Vec<u32>,
    /// Per terminal: the baseline volume of the roots flowing to it, and how many they are.
    flow_volume: Vec<u64>,
    flow_roots: Vec<u32>,
}

/// The levels in the order of their discriminants (`Level as usize`).
const LEVELS: [Level; 4] = [Level::Central, Level::Province, Level::District, Level::Commune];

/// What a survey of a range of timelines found, by procedure index.
#[derive(Default)]
struct Survey {
    /// The roots, with their restated baselines.
    roots: Vec<(u32, Snapshot)>,
    /// Registered after the baseline and active now: introduced, unless a root flows into them.
    fresh: Vec<u32>,
}

/// One range of a reductions pass: each timeline's state at `at` into `now` (as long as `timelines`), and
/// the roots with their restated baselines and the procedures that may be introduced, by index (the range
/// starts at procedure `first`).
fn survey(timelines: &[Timeline], first: usize, now: &mut [Snapshot], at: Moment, baseline_on: Date) -> Survey {
    let mut found = Survey::default();
    let (mut ends_now, mut ends_then) = ([0usize; LOCKSTEP], [0usize; LOCKSTEP]);
    let mut thens = [Snapshot::UNREGISTERED; LOCKSTEP];
    for (chunk, (timelines, now)) in timelines.chunks(LOCKSTEP).zip(now.chunks_mut(LOCKSTEP)).enumerate() {
        Timeline::positions(timelines, at.as_of, &mut ends_now);
        Timeline::positions(timelines, baseline_on, &mut ends_then);
        // Snapshot reads in tight loops of their own, so their cache misses overlap too.
        for ((t, &end), out) in timelines.iter().zip(&ends_now).zip(now.iter_mut()) {
            *out = t.state_before(end, at.known_at);
        }
        for (k, t) in timelines.iter().enumerate() {
            thens[k] = t.state_before(ends_then[k], at.known_at);
            t.touch_restatements();
        }
        for (k, t) in timelines.iter().enumerate() {
            let p = (first + chunk * LOCKSTEP + k) as u32;
            let current = now[k];
            if !current.is_registered() {
                continue;
            }
            let then = thens[k];
            if then.is_active() {
                let mut baseline = then;
                t.restate(&mut baseline, baseline_on, at.as_of, at.known_at);
                found.roots.push((p, baseline));
            } else if !then.is_registered() && current.is_active() {
                found.fresh.push(p);
            }
        }
    }
    found
}

/// The terminal of `p` given every procedure's state, memoised along the chain.
fn resolve(now: &[Snapshot], terminal: &mut [u32], p: u32) -> u32 {
    let mut chain = Vec::new();
    let mut cur = p;
    let found = loop {
        if terminal[cur as usize] != UNRESOLVED {
            break terminal[cur as usize];
        }
        let s = &now[cur as usize];
        match s.standing() {
            Standing::Active => break cur,
            Standing::Abolished | Standing::Unregistered => break NO_TERMINAL,
            Standing::Merged => {
                chain.push(cur);
                // The decider makes cycles impossible; a corrupt log must still not loop forever.
                if chain.len() > now.len() {
                    break NO_TERMINAL;
                }
                cur = s.merged_into();
            }
        }
    };
    for c in chain {
        terminal[c as usize] = found;
    }
    terminal[cur as usize] = found;
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_are_indexed_by_discriminant() {
        for (i, level) in LEVELS.iter().enumerate() {
            assert_eq!(*level as usize, i);
        }
        for (i, by) in GroupBy::EVERY.iter().enumerate() {
            assert_eq!(*by as usize, i);
        }
    }

    #[test]
    fn group_by_parses_its_four_values_only() {
        assert_eq!("agency".parse::<GroupBy>(), Ok(GroupBy::Agency));
        assert_eq!("level".parse::<GroupBy>(), Ok(GroupBy::Level));
        assert!("Agency".parse::<GroupBy>().is_err());
        assert!("".parse::<GroupBy>().is_err());
    }
}
