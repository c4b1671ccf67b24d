//! The benchmark data set: a deterministic history of `procedures` procedures and `events` events in all,
//! generated from a seed and written straight into a log (BENCH.md: 200 000 procedures, 10 000 000 events).
//!
//! The history is valid by construction, without running the decider per event (far too slow at this
//! scale): every prefix of the log, replayed per stream in `(effective_on, seq)` order, breaks no rule.
//! The trick that makes late entries safe is that each procedure's burden values follow fixed curves of
//! the effective date from its origin (its registration, or the merge that last gave it new attributes):
//! - a simplification on day `d` sets `out_of_pocket_vnd` to a curve that falls strictly from day to day
//!   (so it always differs from the value before it), and other attributes to curves that never rise;
//! - an amendment or an estimate revision on day `d` sets values strictly above the curves on `d`;
//! - at most one simplification per procedure and day, and only after the origin day.
//!
//! So wherever an event lands in a stream — in date order or recorded late, before events already
//! recorded — what comes before it is at or above the curve on its date, and what comes after is at or
//! below it, or an amendment or revision, which no rule checks against the value before. Abolitions and
//! merges are never recorded late: they fall on or after every date their streams have seen, and the
//! procedures they end get no more events.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use events::event::{Abolition, Amendment, EstimateRevision, Merger, Programme, Scope, Simplification, Tariff};
use events::value::{
    AnnualVolume, Date, Fraction, Hours, LongText, Name, Online, ProcedureCode, Steps, Tag, TariffApplicant, Timestamp,
    Vnd, VndPerHour, WorkingDays,
};
use events::{Change, Changes, Document, Estimates, NewEvent, Procedure, StreamId};
use eventstore::{Append, Log, Options};
use serde::{Deserialize, Serialize};

use server::demo::{Rng, sample_procedure};

/// Bumped whenever the generated history changes, so a kept data dir of an older generator is not reused.
pub const GENERATOR_VERSION: u32 = 1;

/// The file in a data dir that says which data set its log holds (written once the log is complete).
pub const MARKER: &str = "p30-dataset.json";

/// Events per append: one fsync per this many events, never one per event.
pub const APPEND_BATCH: usize = 8192;

/// Days from 2011-01-01 to 2020-12-31: effective dates are spread over 2011–2020.
pub const LAST_DAY: u16 = 3652;

/// The day (from 2011-01-01) the second programme and the revised tariffs take effect: 2016-01-01.
const SECOND_PERIOD: u16 = 1826;

/// Curves fall by `base × days / SLOPE`: half of the base in 20 years, a quarter by the end of 2020.
const SLOPE: u64 = 7306;

/// What to generate. The same spec always gives the same log, byte for byte.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct Spec {
    pub seed: u64,
    /// Procedures registered (the inventory and those introduced later); merges add a few new codes.
    pub procedures: u64,
    /// Events in all.
    pub events: u64,
}

impl Spec {
    pub fn check(&self) -> anyhow::Result<()> {
        if self.procedures < 2 {
            bail!("a data set needs at least 2 procedures");
        }
        if self.events < self.procedures + 16 {
            bail!(
                "{} events cannot hold {} registrations and a history; ask for more events",
                self.events,
                self.procedures
            );
        }
        Ok(())
    }
}

/// The date `day` days after 2011-01-01.
pub fn day(n: u16) -> Date {
    let first = Date::from_ymd(2011, 1, 1).expect("a valid date");
    Date::from_inner(first.inner() + time::Duration::days(i64::from(n)))
}

/// `recorded_at` of something recorded on `day` (09:00 in Vietnam), `k` milliseconds into the day's work.
pub fn recorded_on(day: u16, k: u32) -> Timestamp {
    const FIRST_MORNING: i64 = 1_293_847_200_000_000; // 2011-01-01T02:00:00Z, 09:00 in Hà Nội
    Timestamp::from_micros(FIRST_MORNING + i64::from(day) * 86_400_000_000 + i64::from(k.min(36_000_000)) * 1000)
}

/// A procedure while its history is generated: where its curves start, and which dates it has used.
#[derive(Clone, Debug)]
struct Proc {
    code: ProcedureCode,
    /// The day its attributes were last given whole (registration or merge into it): curves start here.
    origin: u16,
    /// The latest effective day of any event in its stream.
    frontier: u16,
    base: Base,
    /// Days with a simplification (two on one day would make the second change nothing).
    simplified_on: Vec<u16>,
}

/// The burden values on the origin day.
#[derive(Clone, Debug)]
struct Base {
    days: u64,
    steps: u64,
    fee: u64,
    out_of_pocket: u64,
    hours: u64,
    volume: u64,
    online: Online,
    documents: Vec<Document>,
}

impl Base {
    fn of(p: &Procedure) -> Self {
        Self {
            days: p.processing_days.hundredths(),
            steps: p.steps.get(),
            fee: p.fee_vnd.get(),
            out_of_pocket: p.out_of_pocket_vnd.get(),
            hours: p.applicant_hours.hundredths(),
            volume: p.annual_volume.get(),
            online: p.online,
            documents: p.documents.clone(),
        }
    }
}

impl Proc {
    fn new(p: &Procedure, origin: u16) -> Self {
        Self { code: p.code.clone(), origin, frontier: origin, base: Base::of(p), simplified_on: Vec::new() }
    }

    /// A non-increasing curve from `base` on the origin day (`slope` days to lose all of it).
    fn fall(&self, base: u64, day: u16, slope: u64) -> u64 {
        let since = u64::from(day.saturating_sub(self.origin));
        base - base * since / slope
    }

    /// Strictly falling from day to day: `out_of_pocket_vnd` is at least 10 000 ≥ SLOPE at every origin.
    fn out_of_pocket(&self, day: u16) -> u64 {
        self.fall(self.base.out_of_pocket, day, SLOPE)
    }

    /// Offered online more and more: partial from 2014, full from 2018 (never less than at the origin).
    fn online(&self, day: u16) -> Online {
        let stage = match day {
            0..1100 => Online::None,
            1100..2600 => Online::Partial,
            _ => Online::Full,
        };
        stage.max(self.base.online)
    }

    /// Fewer documents: the first ones of the origin's list, down to half of them.
    fn documents(&self, day: u16) -> Vec<Document> {
        let n = self.base.documents.len() as u64;
        let keep = self.fall(n, day, SLOPE) as usize;
        self.base.documents[..keep].to_vec()
    }
}

fn stream(code: &ProcedureCode) -> StreamId {
    StreamId::procedure(code)
}

fn text(s: &str) -> LongText {
    LongText::parse(s).expect("generated text is valid")
}

/// One command's events (several for a merge, which must go in one append) and the day it is recorded.
#[derive(Clone, Debug)]
pub struct Unit {
    pub events: Vec<NewEvent>,
    pub recorded_day: u16,
}

/// How many events of each kind a generator produced.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    pub registrations: u64,
    pub simplifications: u64,
    pub amendments: u64,
    pub revisions: u64,
    pub abolitions: u64,
    /// Merge commands (each writes one event per stream it touches).
    pub merges: u64,
    pub merge_events: u64,
    pub settings: u64,
    /// Simplifications, amendments and revisions recorded late: dated before the history's clock, so
    /// before events recorded earlier.
    pub late: u64,
    /// Of those, the ones dated before an event already recorded in their own stream (they land in the
    /// middle of its timeline).
    pub late_in_stream: u64,
}

/// The history, one command at a time.
#[derive(Debug)]
pub struct Generator {
    spec: Spec,
    rng: Rng,
    procs: Vec<Proc>,
    /// Indices of the active procedures, and each procedure's position in it.
    active: Vec<u32>,
    position: Vec<u32>,
    emitted: u64,
    /// Registrations recorded up front (the inventory); the rest are introduced over the years.
    inventory: u64,
    introduced: u64,
    introduced_done: u64,
    /// Where the history after the inventory starts, and how long it is.
    changes_from: u64,
    /// Chances per million of an abolition and of a merge per change, so that about a tenth of the
    /// procedures are abolished and a twentieth merged whatever the ratio of events to procedures.
    abolish_ppm: u64,
    merge_ppm: u64,
    step: u8,
    second_period_done: bool,
    legal: Vec<LongText>,
    measures: Vec<Tag>,
    pub counts: Counts,
}

impl Generator {
    pub fn new(spec: Spec) -> anyhow::Result<Self> {
        spec.check()?;
        let introduced = spec.procedures / 20;
        let inventory = spec.procedures - introduced;
        let changes = spec.events - inventory - 3;
        let ppm = |per_procedure: u64| (per_procedure * spec.procedures * 10_000 / changes).min(100_000);
        let legal = (0..64)
            .map(|i| text(&format!("Quyết định số {}/QĐ-UBND ngày {} về công bố TTHC", 100 + i * 37, 1 + i % 28)))
            .collect();
        let measures = ["rút ngắn thời hạn", "giảm thành phần hồ sơ", "giảm phí", "cung cấp trực tuyến"]
            .iter()
            .map(|m| Tag::parse(m).expect("tag"))
            .collect();
        Ok(Self {
            spec,
            rng: Rng::new(spec.seed),
            procs: Vec::with_capacity(spec.procedures as usize + spec.procedures as usize / 10),
            active: Vec::new(),
            position: Vec::new(),
            emitted: 0,
            inventory,
            introduced,
            introduced_done: 0,
            changes_from: inventory + 3,
            abolish_ppm: ppm(10),
            merge_ppm: ppm(2),
            step: 0,
            second_period_done: false,
            legal,
            measures,
            counts: Counts::default(),
        })
    }

    pub fn spec(&self) -> Spec {
        self.spec
    }

    fn legal(&mut self) -> LongText {
        self.legal[self.rng.below(self.legal.len() as u64) as usize].clone()
    }

    fn event(&mut self, stream: StreamId, on: u16, change: Change) -> NewEvent {
        NewEvent { stream, effective_on: day(on), legal_basis: self.legal(), note: LongText::default(), change }
    }

    fn add(&mut self, p: &Procedure, origin: u16) -> u32 {
        let i = self.procs.len() as u32;
        self.procs.push(Proc::new(p, origin));
        self.position.push(self.active.len() as u32);
        self.active.push(i);
        i
    }

    /// Takes an abolished or merged-away procedure out of the active ones: it gets no more events.
    fn end(&mut self, i: u32) {
        let at = self.position[i as usize] as usize;
        let last = *self.active.last().expect("an active procedure");
        self.active.swap_remove(at);
        if last != i {
            self.position[last as usize] = at as u32;
        }
    }

    /// The next command, or `None` once `events` events have been produced.
    pub fn next_unit(&mut self) -> Option<Unit> {
        let left = self.spec.events - self.emitted;
        if left == 0 {
            return None;
        }
        let unit = if self.emitted < 3 {
            self.opening()
        } else if self.emitted < self.changes_from {
            self.register(self.emitted - 3, 0)
        } else {
            self.change(left)
        };
        self.emitted += unit.events.len() as u64;
        Some(unit)
    }

    /// Tariffs and the first programme, in force from the first day.
    fn opening(&mut self) -> Unit {
        let n = self.emitted;
        self.counts.settings += 1;
        let change = match n {
            0 => tariff(TariffApplicant::Citizen, 25_000),
            1 => tariff(TariffApplicant::Business, 50_000),
            _ => programme("de-an-30-2011", "Đề án 30 — kế hoạch 2011–2015 (dữ liệu đo tốc độ)", 0, 1825, "0.3"),
        };
        let event = self.event(StreamId::settings(), 0, change);
        Unit { events: vec![event], recorded_day: 0 }
    }

    fn register(&mut self, n: u64, on: u16) -> Unit {
        let p = sample_procedure(&mut self.rng, n);
        self.add(&p, on);
        self.counts.registrations += 1;
        let event = self.event(stream(&p.code), on, Change::ProcedureRegistered(p));
        Unit { events: vec![event], recorded_day: on }
    }

    /// The clock of the history after the inventory: from 2011-01-02 to 2020-12-31 as events are produced.
    fn today(&self) -> u16 {
        let span = self.spec.events - self.changes_from;
        let done = self.emitted - self.changes_from;
        (1 + done * u64::from(LAST_DAY - 1) / span.max(1)) as u16
    }

    fn change(&mut self, left: u64) -> Unit {
        let today = self.today();
        let done = self.emitted - self.changes_from;
        let span = self.spec.events - self.changes_from;
        // Tariffs revised and a second programme from 2016, recorded when the clock gets there.
        if today >= SECOND_PERIOD && !self.second_period_done && left >= 3 {
            self.step += 1;
            self.counts.settings += 1;
            let change = match self.step {
                1 => tariff(TariffApplicant::Citizen, 32_000),
                2 => tariff(TariffApplicant::Business, 64_000),
                _ => {
                    self.second_period_done = true;
                    programme(
                        "ctr-2016-2020",
                        "Chương trình cải cách TTHC 2016–2020 (dữ liệu đo tốc độ)",
                        1826,
                        3652,
                        "0.2",
                    )
                }
            };
            let on = if self.second_period_done { today } else { SECOND_PERIOD };
            let event = self.event(StreamId::settings(), on, change);
            return Unit { events: vec![event], recorded_day: today };
        }
        // Procedures introduced over the years, spread evenly over the history.
        if self.introduced_done < self.introduced && (2 * self.introduced_done + 1) * span <= 2 * done * self.introduced
        {
            let n = self.inventory + self.introduced_done;
            self.introduced_done += 1;
            return self.register(n, today);
        }
        let roll = self.rng.below(1_000_000);
        // Keep a tenth of the procedures active whatever happens, so there is always something to change.
        let can_end = self.active.len() as u64 > (self.spec.procedures / 10).max(4);
        let mut unit = if can_end && roll < self.abolish_ppm {
            self.abolish(today)
        } else if can_end && roll < self.abolish_ppm + self.merge_ppm && left >= 4 {
            self.merge(today)
        } else {
            let p = self.active[self.rng.below(self.active.len() as u64) as usize];
            let late = self.rng.below(50) == 0;
            match self.rng.below(100) {
                0..4 => self.amend(p, today, late),
                4..9 => self.revise(p, today, late),
                _ => self.simplify(p, today, late),
            }
        };
        unit.recorded_day = today;
        unit
    }

    /// The effective day of an event recorded on `today`: on or after the stream's last date, or, if
    /// `late`, up to a year before today (possibly before dates already recorded), but never before `floor`.
    fn when(&mut self, p: u32, today: u16, late: bool, floor: u16) -> u16 {
        let proc = &self.procs[p as usize];
        let on = if late { today.saturating_sub(1 + self.rng.below(365) as u16) } else { today.max(proc.frontier) };
        on.max(floor).min(LAST_DAY)
    }

    fn note(&mut self, p: u32, on: u16, today: u16) {
        let proc = &mut self.procs[p as usize];
        if on < today {
            self.counts.late += 1;
        }
        if on < proc.frontier {
            self.counts.late_in_stream += 1;
        }
        proc.frontier = proc.frontier.max(on);
    }

    fn simplify(&mut self, p: u32, today: u16, late: bool) -> Unit {
        let origin = self.procs[p as usize].origin;
        if origin >= LAST_DAY {
            return self.amend(p, today, late);
        }
        let wanted = self.when(p, today, late, origin + 1);
        let used = &self.procs[p as usize].simplified_on;
        // The wanted day, else the next free one, else the last free one before it.
        let free = (wanted..=LAST_DAY).chain((origin + 1..wanted).rev()).find(|d| !used.contains(d));
        let Some(on) = free else { return self.amend(p, today, late) };
        let mut set = Changes::default();
        let proc = &self.procs[p as usize];
        let b = proc.base.clone();
        set.out_of_pocket_vnd = Some(vnd(proc.out_of_pocket(on)));
        let mut roll = self.rng.next_u64();
        let mut coin = |n: u64| {
            let hit = roll.is_multiple_of(n);
            roll /= n;
            hit
        };
        if coin(2) {
            set.processing_days = Some(days(proc.fall(b.days, on, 2 * SLOPE / 3)));
        }
        if coin(2) {
            set.applicant_hours = Some(hours(proc.fall(b.hours, on, SLOPE / 2)));
        }
        if coin(3) {
            set.fee_vnd = Some(vnd(proc.fall(b.fee, on, SLOPE / 2)));
        }
        if coin(4) {
            set.steps = Some(steps(proc.fall(b.steps, on, SLOPE)));
        }
        if coin(8) {
            set.annual_volume = Some(volume(proc.fall(b.volume, on, 2 * SLOPE)));
        }
        if coin(3) {
            set.online = Some(proc.online(on));
        }
        if coin(8) {
            set.documents = Some(proc.documents(on));
        }
        let measures = if coin(3) { vec![self.measures[(roll % 4) as usize].clone()] } else { Vec::new() };
        let code = proc.code.clone();
        self.procs[p as usize].simplified_on.push(on);
        self.note(p, on, today);
        self.counts.simplifications += 1;
        let change = Change::ProcedureSimplified(Simplification { code: code.clone(), set, measures });
        Unit { events: vec![self.event(stream(&code), on, change)], recorded_day: today }
    }

    /// Burden rises again (a new requirement), always strictly above the curves on its date.
    fn amend(&mut self, p: u32, today: u16, late: bool) -> Unit {
        let origin = self.procs[p as usize].origin;
        let on = self.when(p, today, late, origin);
        let roll = self.rng.below(12);
        let proc = &self.procs[p as usize];
        let b = &proc.base;
        let mut set = Changes::default();
        let d = proc.fall(b.days, on, 2 * SLOPE / 3);
        set.processing_days = Some(days((d + d / 5 + 100).min(365_000)));
        set.steps = Some(steps(proc.fall(b.steps, on, SLOPE) + 1));
        if roll.is_multiple_of(3) {
            set.fee_vnd = Some(vnd(proc.fall(b.fee, on, SLOPE / 2) + 5_000));
        }
        if roll.is_multiple_of(4) {
            set.out_of_pocket_vnd = Some(vnd(proc.out_of_pocket(on) + 10_000));
        }
        let code = proc.code.clone();
        self.note(p, on, today);
        self.counts.amendments += 1;
        let change = Change::ProcedureAmended(Amendment { code: code.clone(), set });
        Unit { events: vec![self.event(stream(&code), on, change)], recorded_day: today }
    }

    /// Re-measured figures: current values strictly above the curves on its date; sometimes a baseline.
    fn revise(&mut self, p: u32, today: u16, late: bool) -> Unit {
        let origin = self.procs[p as usize].origin;
        let on = self.when(p, today, late, origin);
        let roll = self.rng.below(6);
        let proc = &self.procs[p as usize];
        let b = &proc.base;
        let mut current = Estimates::default();
        match roll % 3 {
            0 => {
                let v = proc.fall(b.volume, on, 2 * SLOPE);
                current.annual_volume = Some(volume((v + v / 10 + 1).min(100_000_000)));
            }
            1 => current.applicant_hours = Some(hours(proc.fall(b.hours, on, SLOPE / 2) + 50)),
            _ => current.out_of_pocket_vnd = Some(vnd(proc.out_of_pocket(on) + 1_000)),
        }
        let baseline = (roll < 3)
            .then(|| Estimates { annual_volume: Some(volume(b.volume + b.volume / 20)), ..Estimates::default() });
        let code = proc.code.clone();
        self.note(p, on, today);
        self.counts.revisions += 1;
        let change = Change::EstimateRevised(EstimateRevision { code: code.clone(), baseline, current: Some(current) });
        Unit { events: vec![self.event(stream(&code), on, change)], recorded_day: today }
    }

    fn abolish(&mut self, today: u16) -> Unit {
        let p = self.active[self.rng.below(self.active.len() as u64) as usize];
        let on = today.max(self.procs[p as usize].frontier);
        self.note(p, on, on);
        self.end(p);
        self.counts.abolitions += 1;
        let code = self.procs[p as usize].code.clone();
        let reason = text("Bãi bỏ theo phương án đơn giản hóa TTHC");
        let change = Change::ProcedureAbolished(Abolition { code: code.clone(), reason });
        Unit { events: vec![self.event(stream(&code), on, change)], recorded_day: today }
    }

    /// Two or three active procedures merged into a new one or into the first of them.
    fn merge(&mut self, today: u16) -> Unit {
        let k = if self.rng.below(5) == 0 { 3 } else { 2 };
        let mut sources: Vec<u32> = Vec::with_capacity(k);
        while sources.len() < k {
            let p = self.active[self.rng.below(self.active.len() as u64) as usize];
            if !sources.contains(&p) {
                sources.push(p);
            }
        }
        let on = sources.iter().map(|&p| self.procs[p as usize].frontier).max().unwrap_or(0).max(today);
        let volume_sum: u64 = sources
            .iter()
            .map(|&p| {
                let proc = &self.procs[p as usize];
                proc.fall(proc.base.volume, on, 2 * SLOPE)
            })
            .sum();
        let into_new = self.rng.below(2) == 0;
        let n = if into_new { self.procs.len() as u64 } else { u64::from(sources[0]) };
        let mut into = sample_procedure(&mut self.rng, n);
        into.code = if into_new {
            ProcedureCode::parse(&format!("9.{n:06}.HN")).expect("a valid code")
        } else {
            self.procs[sources[0] as usize].code.clone()
        };
        into.annual_volume = volume(volume_sum.min(100_000_000));
        into.name = Name::parse(&format!("{} (hợp nhất)", into.name)).unwrap_or(into.name);
        let codes: Vec<ProcedureCode> = sources.iter().map(|&p| self.procs[p as usize].code.clone()).collect();
        for (i, &p) in sources.iter().enumerate() {
            self.note(p, on, on);
            if into_new || i > 0 {
                self.end(p);
            }
        }
        if into_new {
            self.add(&into, on);
        } else {
            // The surviving source takes the merged attributes: its curves start again from them.
            let proc = &mut self.procs[sources[0] as usize];
            proc.base = Base::of(&into);
            proc.origin = on;
            proc.simplified_on.clear();
        }
        let merger = Merger { sources: codes, into };
        let streams = events::decide::streams_of(&Change::ProceduresMerged(merger.clone()));
        let legal = self.legal();
        let events: Vec<NewEvent> = streams
            .into_iter()
            .map(|s| NewEvent {
                stream: s,
                effective_on: day(on),
                legal_basis: legal.clone(),
                note: LongText::default(),
                change: Change::ProceduresMerged(merger.clone()),
            })
            .collect();
        self.counts.merges += 1;
        self.counts.merge_events += events.len() as u64;
        Unit { events, recorded_day: today }
    }
}

fn tariff(applicant: TariffApplicant, vnd: u64) -> Change {
    Change::TariffSet(Tariff { applicant, vnd_per_hour: VndPerHour::new(vnd).expect("tariff in range") })
}

fn programme(id: &str, name: &str, from: u16, to: u16, cut: &str) -> Change {
    Change::ProgrammeDefined(Programme {
        id: ProcedureCode::parse(id).expect("programme id"),
        name: Name::parse(name).expect("programme name"),
        baseline_on: day(from),
        deadline: day(to),
        cost_reduction: Fraction::parse(cut).expect("fraction"),
        time_reduction: Fraction::parse(cut).expect("fraction"),
        scope: Scope::All,
    })
}

fn vnd(n: u64) -> Vnd {
    Vnd::new(n.min(1_000_000_000)).expect("in range")
}

fn days(h: u64) -> WorkingDays {
    WorkingDays::from_hundredths(h.min(365_000)).expect("in range")
}

fn hours(h: u64) -> Hours {
    Hours::from_hundredths(h.min(1_000_000)).expect("in range")
}

fn steps(n: u64) -> Steps {
    Steps::new(n.clamp(1, 1000)).expect("in range")
}

fn volume(n: u64) -> AnnualVolume {
    AnnualVolume::new(n.min(100_000_000)).expect("in range")
}

/// What the marker file records.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct Marker {
    generator: u32,
    spec: Spec,
    head: u64,
    counts: Counts,
}

/// What writing a data set did.
#[derive(Clone, Copy, Debug)]
pub struct Written {
    pub events: u64,
    pub elapsed: Duration,
    pub counts: Counts,
}

/// Generates the data set into the (empty) log dir `dir`, in appends of `APPEND_BATCH` events or so, and
/// writes the marker once every event is durable. `recorded_at` follows the history's clock
/// (2011–2020), not the wall clock, so questions "known at" a past date see what was known then.
pub fn write(dir: &Path, spec: Spec, mut progress: impl FnMut(u64)) -> anyhow::Result<Written> {
    let mut generator = Generator::new(spec)?;
    let clock = Arc::new(AtomicI64::new(recorded_on(0, 0).micros()));
    let log = {
        let clock = clock.clone();
        let options = Options {
            clock: Arc::new(move || Timestamp::from_micros(clock.load(Ordering::SeqCst))),
            ..Options::default()
        };
        Log::open(dir, options)?
    };
    anyhow::ensure!(log.head() == 0, "{} already holds a log; generate into an empty dir", dir.display());
    let start = Instant::now();
    // The generator runs ahead on a thread of its own while the log encodes and fsyncs the last batch.
    let (tx, rx) = std::sync::mpsc::sync_channel::<(Vec<NewEvent>, u16)>(4);
    let counts = std::thread::scope(|s| -> anyhow::Result<Counts> {
        let producer = s.spawn(move || {
            let mut batch = Vec::with_capacity(APPEND_BATCH + 4);
            let mut last_day = 0;
            while let Some(unit) = generator.next_unit() {
                batch.extend(unit.events);
                last_day = unit.recorded_day;
                if batch.len() >= APPEND_BATCH {
                    let full = std::mem::replace(&mut batch, Vec::with_capacity(APPEND_BATCH + 4));
                    if tx.send((full, last_day)).is_err() {
                        return generator.counts;
                    }
                }
            }
            if !batch.is_empty() {
                let _ = tx.send((batch, last_day));
            }
            generator.counts
        });
        let (mut day_seen, mut k) = (0, 0);
        for (events, on) in rx {
            (k, day_seen) = if on == day_seen { (k + 1, on) } else { (0, on) };
            clock.store(recorded_on(on, k).micros(), Ordering::SeqCst);
            let append = Append {
                events,
                expected: Vec::new(),
                actor: "dataset".into(),
                command_id: None,
                fingerprint: [0; 32],
            };
            log.append(append).context("append the generated events")?;
            progress(log.head());
        }
        producer.join().map_err(|_| anyhow::anyhow!("the generator panicked"))
    })?;
    let head = log.head();
    log.close();
    drop(log);
    anyhow::ensure!(head == spec.events, "generated {head} events, expected {}", spec.events);
    let marker = Marker { generator: GENERATOR_VERSION, spec, head, counts };
    std::fs::write(dir.join(MARKER), serde_json::to_vec_pretty(&marker)?)?;
    Ok(Written { events: head, elapsed: start.elapsed(), counts })
}

/// A data set on disk: in a temp dir (removed on drop) or a kept data dir.
#[derive(Debug)]
pub struct Dataset {
    pub dir: PathBuf,
    pub spec: Spec,
    pub counts: Counts,
    /// How long generating took, if this run generated it (a kept data dir is reused as it is).
    pub generated_in: Option<Duration>,
    _temp: Option<tempfile::TempDir>,
}

/// The data set of `spec`: reused from `data_dir` when its marker names the same data set, else
/// generated there (or in a temp dir). A data dir that holds anything else is left alone.
pub fn prepare(spec: Spec, data_dir: Option<&Path>) -> anyhow::Result<Dataset> {
    spec.check()?;
    let (dir, temp) = match data_dir {
        Some(d) => (d.to_owned(), None),
        None => {
            let t = tempfile::Builder::new().prefix("p30-dataset-").tempdir()?;
            (t.path().to_owned(), Some(t))
        }
    };
    if let Ok(bytes) = std::fs::read(dir.join(MARKER)) {
        let marker: Marker = serde_json::from_slice(&bytes).context("read the data set marker")?;
        if marker.generator == GENERATOR_VERSION && marker.spec == spec {
            eprintln!("reusing the data set in {} ({} events)", dir.display(), marker.head);
            return Ok(Dataset { dir, spec, counts: marker.counts, generated_in: None, _temp: temp });
        }
        bail!(
            "{} holds another data set ({:?}, generator {}); use another --data-dir",
            dir.display(),
            marker.spec,
            marker.generator
        );
    }
    if dir.is_dir() && std::fs::read_dir(&dir)?.next().is_some() {
        bail!("{} is not empty and holds no data set marker; use an empty or new --data-dir", dir.display());
    }
    std::fs::create_dir_all(&dir)?;
    eprintln!(
        "generating {} events for {} procedures (seed {}) in {}",
        spec.events,
        spec.procedures,
        spec.seed,
        dir.display()
    );
    let step = (spec.events / 10).max(1);
    let mut next = step;
    let written = write(&dir, spec, |head| {
        if head >= next {
            eprintln!("  {head} events written");
            next = head + step;
        }
    })?;
    eprintln!(
        "generated {} events in {:.1} s ({:.0} events/s): {:?}",
        written.events,
        written.elapsed.as_secs_f64(),
        written.events as f64 / written.elapsed.as_secs_f64(),
        written.counts
    );
    Ok(Dataset { dir, spec, counts: written.counts, generated_in: Some(written.elapsed), _temp: temp })
}

/// A plausible procedure for benchmarks: number `i` of a generated province inventory.
pub fn numbered_procedure(i: u64) -> Procedure {
    let sectors = ["Hộ tịch", "Xây dựng", "Đất đai", "Thành lập và hoạt động doanh nghiệp", "Giáo dục và Đào tạo"];
    let agencies = ["STP", "SXD", "STNMT", "SKHDT", "SGDDT"];
    let k = (i % 5) as usize;
    let level = ["province", "district", "commune"][(i % 3) as usize];
    let applicant = ["citizen", "business", "both"][(i % 3) as usize];
    serde_json::from_value(serde_json::json!({
        "code": format!("{}.{:06}.H19", 1 + i % 3, i),
        "name": format!("Thủ tục số {i}: cấp giấy chứng nhận đăng ký"),
        "sector": sectors[k], "agency": agencies[k], "level": level,
        "applicant": applicant,
        "processing_days": 5 + i % 20, "steps": 3,
        "documents": [{"name": "Tờ khai theo mẫu", "copies": 1}, {"name": "Bản sao giấy tờ tùy thân", "copies": 2}],
        "fee_vnd": 50_000 + (i % 10) * 5_000, "out_of_pocket_vnd": 20_000, "applicant_hours": 6.5,
        "annual_volume": 1_000 + i % 5_000, "online": "partial",
        "legal_basis": "Nghị định 63/2010/NĐ-CP"
    }))
    .expect("generated procedures are valid")
}
