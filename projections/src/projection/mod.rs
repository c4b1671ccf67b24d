//! The projection state: every procedure's timeline, the tariffs, the programmes and the merges, folded
//! from recorded events in seq order, live (`apply`) or in bulk (`fold`, `extend`).
//!
//! Both ways end in the same state: `apply` inserts each event at its place and brings the snapshots after
//! it up to date; a bulk fold appends everything, then sorts and rebuilds each touched timeline once.

use std::borrow::Borrow;
use std::collections::BTreeSet;

use events::event::{Merger, Programme};
use events::value::{Date, ProcedureCode, TariffApplicant, Timestamp};
use events::{Event, Procedure};
use uuid::Uuid;

use crate::code_index::CodeIndex;
pub use crate::code_index::StreamKey;
use crate::cost::{TariffInForce, Tariffs};
use crate::timeline::{Entry, Kind, Restatement, Snapshot, Standing, TextChange, Timeline};

mod ingest;

pub(crate) use ingest::Interner;
pub use ingest::{Prepared, ToFold};

/// A point on both time axes: the valid-time date a question is asked about, and the transaction time
/// whose knowledge answers it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Moment {
    pub as_of: Date,
    pub known_at: Timestamp,
}

impl Moment {
    pub fn new(as_of: Date, known_at: Timestamp) -> Self {
        Self { as_of, known_at }
    }
}

/// Why an event could not be applied. Nothing changes when one is refused.
#[derive(Clone, PartialEq, Eq, Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ApplyError {
    #[error("event #{seq} arrived after event #{last_seq}; events are applied in seq order, each once")]
    OutOfOrder { seq: u64, last_seq: u64 },
}

/// What an applied event changed: the procedures whose read models may now read differently (for a merge
/// or its retraction, every procedure it touches), and whether the settings changed.
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct Applied {
    pub procedures: Vec<ProcedureCode>,
    /// A tariff changed: every cost may read differently.
    pub tariffs: bool,
    /// A programme was defined or its definition retracted.
    pub programmes: bool,
}

/// Heap bytes by part, estimated from capacities (allocator overhead not included).
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct Footprint {
    /// Per-procedure records, codes and restatements.
    pub procedures: usize,
    /// Timeline entries (snapshots) and their dates.
    pub entries: usize,
    /// Event ids (what retractions name).
    pub ids: usize,
    /// Names, documents and legal bases.
    pub texts: usize,
    /// Code, registration and merge indexes.
    pub indexes: usize,
    pub total: usize,
}

/// Event ids by seq. The log derives an event's id from its seq and `recorded_at`
/// ([`events::event::derived_id`]), which every entry holds, so only ids that differ from that (events
/// from elsewhere, tests) are kept: a full-scale projection keeps none, instead of 16 bytes an event.
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub(crate) struct EventIds {
    others: std::collections::BTreeMap<u64, Uuid>,
}

impl EventIds {
    fn record(&mut self, seq: u64, recorded_at: Timestamp, id: Uuid) {
        if id != events::event::derived_id(seq, recorded_at) {
            self.others.insert(seq, id);
        }
    }

    /// The id of the event at `seq`, recorded at `recorded_at`.
    pub(crate) fn get(&self, seq: u64, recorded_at: Timestamp) -> Uuid {
        self.others.get(&seq).copied().unwrap_or_else(|| events::event::derived_id(seq, recorded_at))
    }

    fn footprint(&self) -> usize {
        self.others.len() * (size_of::<u64>() + size_of::<Uuid>())
    }
}

#[derive(Clone, PartialEq, Eq, Debug)]
pub(crate) struct TariffRecord {
    pub event_id: Uuid,
    pub seq: u64,
    pub effective_on: Date,
    pub recorded_at: Timestamp,
    pub retracted_at: Option<Timestamp>,
    pub applicant: TariffApplicant,
    pub vnd_per_hour: u64,
}

#[derive(Clone, PartialEq, Eq, Debug)]
pub(crate) struct ProgrammeRecord {
    pub event_id: Uuid,
    pub seq: u64,
    pub recorded_at: Timestamp,
    pub retracted_at: Option<Timestamp>,
    pub programme: Programme,
}

impl ProgrammeRecord {
    pub(crate) fn counts(&self, known_at: Timestamp) -> bool {
        self.recorded_at <= known_at && self.retracted_at.is_none_or(|at| at > known_at)
    }
}

/// One merge: its copies (one per stream it touched) and who merged into whom, by procedure index.
#[derive(Clone, PartialEq, Eq, Debug)]
pub(crate) struct MergeRecord {
    pub first_seq: u64,
    /// (procedure, seq) of each copy.
    pub members: Vec<(u32, u64)>,
    pub sources: Vec<u32>,
    pub into: u32,
}

/// The merge whose copies are arriving: the next event joins it if it is the same merge in another stream.
#[derive(Clone, PartialEq, Eq, Debug)]
struct OpenMerge {
    seq: u64,
    index: usize,
    recorded_at: Timestamp,
    effective_on: Date,
    payload: Merger,
}

/// What ingesting one event touched, by index: `apply` turns it into an `Applied`, a bulk fold drops it.
enum Touched {
    Nothing,
    Procedure(u32),
    /// Every procedure a merge touches (its copies so far).
    Merge(usize),
    Procedures(Vec<u32>),
    Tariffs,
    Programmes,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Insert at the event's place and rebuild what follows it.
    Live,
    /// Append; the touched timelines are sorted and rebuilt at the end.
    Batch,
}

/// Every read model's source: procedures' timelines, settings and merges, folded from the log.
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct Projection {
    pub(crate) procedures: Vec<Timeline>,
    /// Procedure index by code.
    pub(crate) by_code: CodeIndex,
    /// Procedure indices ordered by code (for the list): kept sorted by `apply`, sorted once at the end
    /// of a bulk fold.
    pub(crate) in_code_order: Vec<u32>,
    pub(crate) agencies: Interner<1, 64>,
    pub(crate) sectors: Interner<1, 200>,
    /// `ProcedureRegistered` events by (effective_on, seq, procedure): the default baseline is the first
    /// that counts.
    pub(crate) registrations: BTreeSet<(Date, u64, u32)>,
    /// In seq order of their first copy.
    pub(crate) merges: Vec<MergeRecord>,
    pub(crate) tariffs: Vec<TariffRecord>,
    pub(crate) programmes: Vec<ProgrammeRecord>,
    /// Every event's id, by seq: what retractions name and histories show.
    pub(crate) ids: EventIds,
    last_seq: u64,
    open_merge: Option<OpenMerge>,
    /// How many events each procedure's stream holds, for the next bulk fold (`expect_streams`): a
    /// timeline registered in it gets exactly that room at once. Emptied when the fold ends.
    expected: CodeIndex,
    /// How many threads a reductions pass may use.
    pub(crate) query_threads: QueryThreads,
    /// A bulk fold's texts by procedure, in seq order, until it settles (then empty).
    batch_texts: Vec<(u32, TextChange)>,
}

/// How many threads a pass over every procedure may use (`Projection::set_query_threads`): a setting of
/// the process that holds the projection, not part of its state, so it never makes two projections differ.
#[derive(Clone, Copy, Debug)]
pub(crate) struct QueryThreads {
    pub threads: usize,
    /// The fewest procedures a thread takes: below that, a thread costs more than it saves.
    pub min_range: usize,
}

/// The fewest procedures a pass gives a thread of its own, unless told otherwise (tests are).
const MIN_RANGE: usize = 4096;

impl Default for QueryThreads {
    fn default() -> Self {
        Self { threads: 1, min_range: MIN_RANGE }
    }
}

impl PartialEq for QueryThreads {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Eq for QueryThreads {}

/// How many events `extend` hands to a bulk fold at a time.
const FOLD_CHUNK: usize = 1024;

/// How many events a bulk fold looks up before it ingests them: the lookups of a window run back to back,
/// so their cache misses can overlap instead of each waiting behind a whole event's work (not measured
/// apart from the inline keys that came with it).
const LOOKAHEAD: usize = 32;

/// Runs `work` on `threads` contiguous ranges of `timelines` side by side (on this thread alone for one).
fn on_ranges(timelines: &mut [Timeline], threads: usize, work: impl Fn(&mut [Timeline]) + Sync) {
    let per = timelines.len().div_ceil(threads.max(1)).max(1);
    if threads <= 1 || timelines.len() <= per {
        work(timelines);
        return;
    }
    std::thread::scope(|s| {
        let mut ranges = timelines.chunks_mut(per);
        let mine = ranges.next();
        for range in ranges {
            let work = &work;
            s.spawn(move || work(range));
        }
        if let Some(range) = mine {
            work(range);
        }
    });
}

impl Projection {
    pub fn new() -> Self {
        Self::default()
    }

    /// Folds recorded events, in seq order, from scratch. Equivalent to `apply`ing them one by one, but
    /// sorts and rebuilds each timeline once instead of once per late event.
    pub fn fold<E: Borrow<Event>>(events: impl IntoIterator<Item = E>) -> Result<Self, ApplyError> {
        let mut projection = Self::new();
        projection.extend(events)?;
        Ok(projection)
    }

    /// Folds more recorded events in bulk (catching up after a restart, say). On an error the events
    /// before the offending one stay applied.
    pub fn extend<E: Borrow<Event>>(&mut self, events: impl IntoIterator<Item = E>) -> Result<(), ApplyError> {
        let mut events = events.into_iter().map(|e| {
            let key = StreamKey::of(e.borrow());
            ToFold::Event(e, key)
        });
        let chunks = std::iter::from_fn(|| {
            let chunk: Vec<_> = events.by_ref().take(FOLD_CHUNK).collect();
            (!chunk.is_empty()).then_some(chunk)
        });
        self.extend_on(chunks, 1)
    }

    /// `extend` for events that come in chunks, with their `StreamKey`s or already prepared, settling the
    /// timelines on `threads` threads (the sorts and snapshot rebuilds at the end of a bulk fold are
    /// independent per procedure). The fold reads each chunk in place, so a prepared change is never
    /// moved; a chunk is dropped once folded. The state is the same for any chunking and number of threads.
    pub fn extend_on<E: Borrow<Event>, C: AsMut<[ToFold<E>]>>(
        &mut self,
        chunks: impl IntoIterator<Item = C>,
        threads: usize,
    ) -> Result<(), ApplyError> {
        let mut outcome = Ok(());
        let mut known = [None; LOOKAHEAD];
        let mut homes = [usize::MAX; LOOKAHEAD];
        'fold: for mut chunk in chunks {
            for window in chunk.as_mut().chunks_mut(LOOKAHEAD) {
                // Passes over the window, each of loads that do not wait on one another, so their cache
                // misses overlap: the index's slots (where each lookup starts, computed first so the loop
                // that loads them is short), the lookups, the timelines' records, then their ends.
                for (home, item) in homes.iter_mut().zip(window.iter()) {
                    *home = match item {
                        ToFold::Event(_, StreamKey(Some(code))) | ToFold::Prepared(Prepared { code, .. }) => {
                            self.by_code.short.home(code)
                        }
                        ToFold::Event(_, StreamKey(None)) => usize::MAX,
                    };
                }
                for &home in homes.iter().take(window.len()) {
                    self.by_code.short.touch(home);
                }
                for ((k, item), &home) in known.iter_mut().zip(window.iter()).zip(&homes) {
                    *k = match item {
                        ToFold::Event(_, StreamKey(Some(code))) | ToFold::Prepared(Prepared { code, .. }) => {
                            self.by_code.short.find_from(home, code)
                        }
                        // The settings stream, or a code too long to hold inline: `ingest` finds it by name.
                        ToFold::Event(_, StreamKey(None)) => None,
                    };
                }
                for &p in known.iter().take(window.len()).flatten() {
                    self.procedures[p as usize].touch();
                }
                for &p in known.iter().take(window.len()).flatten() {
                    self.procedures[p as usize].touch_end();
                }
                for (item, &k) in window.iter_mut().zip(&known) {
                    let ingested = match item {
                        ToFold::Event(e, _) => self.ingest((*e).borrow(), Mode::Batch, k).map(drop),
                        ToFold::Prepared(r) => self.ingest_prepared(r, k),
                    };
                    if let Err(e) = ingested {
                        outcome = Err(e);
                        break 'fold;
                    }
                }
            }
        }
        self.settle_batch(threads);
        self.expected = CodeIndex::default();
        self.procedures.shrink_to_fit();
        let procedures = &self.procedures;
        self.in_code_order.sort_unstable_by(|&a, &b| procedures[a as usize].code.cmp(&procedures[b as usize].code));
        outcome
    }

    /// Tells the next bulk fold how many events each stream holds (`(stream, version)`, as the log keeps
    /// them), so that a procedure it registers gets room for all of its entries at once, exactly: no
    /// timeline grows in steps, leaving holes in the heap, and timelines registered together end up
    /// neighbours in memory. Only a hint: a stream holding more or fewer entries is folded all the same.
    pub fn expect_streams<S: AsRef<str>>(&mut self, streams: impl IntoIterator<Item = (S, u64)>) {
        for (stream, events) in streams {
            if let Some(code) = stream.as_ref().strip_prefix("procedure-") {
                self.expected.insert(code, u32::try_from(events).unwrap_or(u32::MAX));
            }
        }
        // The index then never grows (and rehashes) in the middle of the fold.
        self.by_code.reserve(self.expected.len());
    }

    /// Ends a bulk fold: sorts and rebuilds each timeline it touched, once. Procedures are split into
    /// `threads` ranges, each settled on a thread of its own.
    fn settle_batch(&mut self, threads: usize) {
        // The texts came aside (`place`): each timeline now gets room for exactly its own, at once, in
        // procedure order, instead of growing a vector in steps all through the fold.
        let texts = std::mem::take(&mut self.batch_texts);
        if !texts.is_empty() {
            let mut counts = vec![0usize; self.procedures.len()];
            for &(p, _) in &texts {
                counts[p as usize] += 1;
            }
            for (t, n) in self.procedures.iter_mut().zip(counts) {
                t.texts.reserve_exact(n);
            }
            for (p, text) in texts {
                self.procedures[p as usize].texts.push(text);
            }
        }
        on_ranges(&mut self.procedures, threads, |timelines| {
            for t in timelines.iter_mut().filter(|t| t.dirty) {
                t.sort_and_rebuild();
                // Copied into a new vector, exactly as long: restatements came in one by one all through
                // the fold, scattered over the heap, and a reductions pass reads them for every root.
                // Copied as the fold settles, in procedure order, they end up side by side.
                if !t.restatements.is_empty() {
                    t.restatements = t.restatements.to_vec();
                }
            }
        });
    }

    /// Applies one recorded event. Cost: proportional to what it touches — its procedure's entries dated
    /// after it (none for an event recorded in date order), every stream of a merge, or one settings list.
    pub fn apply(&mut self, event: &Event) -> Result<Applied, ApplyError> {
        let known = self.known_stream(event);
        let touched = self.ingest(event, Mode::Live, known)?;
        let codes = |ps: Vec<u32>| ps.into_iter().map(|p| self.timeline(p).code.clone()).collect();
        Ok(match touched {
            Touched::Nothing => Applied::default(),
            Touched::Procedure(p) => Applied { procedures: codes(vec![p]), ..Applied::default() },
            Touched::Merge(m) => {
                let copies = self.merges[m].members.iter().map(|&(q, _)| q).collect();
                Applied { procedures: codes(copies), ..Applied::default() }
            }
            Touched::Procedures(ps) => Applied { procedures: codes(ps), ..Applied::default() },
            Touched::Tariffs => Applied { tariffs: true, ..Applied::default() },
            Touched::Programmes => Applied { programmes: true, ..Applied::default() },
        })
    }

    /// Lets each pass over every procedure (reductions, programmes) run on up to `threads` threads: the
    /// pass waits on memory, one miss per timeline after another, and more threads wait side by side.
    /// The answers are the same for any number.
    pub fn set_query_threads(&mut self, threads: usize) {
        self.query_threads = QueryThreads { threads: threads.max(1), min_range: MIN_RANGE };
    }

    /// `set_query_threads`, with ranges as short as `min_range` procedures: for tests, which need small
    /// projections split as big ones are.
    #[doc(hidden)]
    pub fn set_query_split(&mut self, threads: usize, min_range: usize) {
        self.query_threads = QueryThreads { threads: threads.max(1), min_range: min_range.max(1) };
    }

    /// The seq of the last event applied (0 before any).
    pub fn last_seq(&self) -> u64 {
        self.last_seq
    }

    /// How many procedure codes the log has named (registered or not as of any date).
    pub fn procedure_count(&self) -> usize {
        self.procedures.len()
    }

    /// An estimate of the heap this projection holds, by part (for metrics and capacity planning).
    pub fn footprint(&self) -> Footprint {
        use std::mem::size_of;
        let mut f =
            Footprint { procedures: self.procedures.capacity() * size_of::<Timeline>(), ..Footprint::default() };
        for t in &self.procedures {
            f.entries += t.entries.capacity() * size_of::<Entry>() + t.dates.capacity() * size_of::<Date>();
            f.texts += t.texts.capacity() * size_of::<TextChange>()
                + t.texts
                    .iter()
                    .map(|x| {
                        x.name.as_ref().map_or(0, |n| n.as_str().len())
                            + x.legal_basis.as_ref().map_or(0, |n| n.as_str().len())
                    })
                    .sum::<usize>();
            f.procedures += t.code.as_str().len() * 2 + t.restatements.capacity() * size_of::<Restatement>();
        }
        f.ids = self.ids.footprint();
        f.indexes = self.registrations.len() * 32
            + self.by_code.heap()
            + self.in_code_order.capacity() * 4
            + self.merges.len() * 96;
        f.total = f.procedures + f.entries + f.ids + f.texts + f.indexes;
        f
    }

    /// The tariffs in force on `as_of` as known at `known_at`: for each applicant type, the counted
    /// `TariffSet` with the latest `(effective_on, seq)`. Cost: one pass over the tariff events.
    pub fn tariffs_in_force(&self, at: Moment) -> Tariffs {
        let mut citizen: Option<&TariffRecord> = None;
        let mut business: Option<&TariffRecord> = None;
        for t in &self.tariffs {
            let counts = t.effective_on <= at.as_of
                && t.recorded_at <= at.known_at
                && t.retracted_at.is_none_or(|r| r > at.known_at);
            if !counts {
                continue;
            }
            let slot = match t.applicant {
                TariffApplicant::Citizen => &mut citizen,
                TariffApplicant::Business => &mut business,
            };
            if slot.is_none_or(|s| (s.effective_on, s.seq) < (t.effective_on, t.seq)) {
                *slot = Some(t);
            }
        }
        let in_force = |t: Option<&TariffRecord>| {
            t.map(|t| TariffInForce { vnd_per_hour: t.vnd_per_hour, effective_on: t.effective_on })
        };
        Tariffs { citizen: in_force(citizen), business: in_force(business) }
    }

    /// The default `baseline_on`: the earliest `effective_on` of a `ProcedureRegistered` that counts at
    /// `at`, or `None` if none does. Cost: usually one look at the earliest registration.
    pub fn default_baseline(&self, at: Moment) -> Option<Date> {
        for &(date, seq, p) in &self.registrations {
            if date > at.as_of {
                return None;
            }
            let t = self.timeline(p);
            if t.entries.iter().position(|e| e.seq == seq).is_some_and(|i| t.counts(i, at.known_at)) {
                return Some(date);
            }
        }
        None
    }

    /// The procedures merged into `p` by merges that count at `at` (not `p` itself, when it was a source).
    pub(crate) fn merged_from(&self, p: u32, at: Moment) -> Vec<u32> {
        let t = self.timeline(p);
        let mut out = Vec::new();
        for i in t.counted(at.as_of, at.known_at) {
            let e = &t.entries[i];
            if e.kind != Kind::Merged {
                continue;
            }
            if let Some(m) = self.merge_of(p, e.seq).filter(|m| m.into == p) {
                for &s in &m.sources {
                    if s != p && !out.contains(&s) {
                        out.push(s);
                    }
                }
            }
        }
        out
    }

    /// The whole procedure `p` on `on` as known at `known_at`, if it is registered then.
    pub(crate) fn procedure_on(&self, p: u32, on: Date, known_at: Timestamp) -> Option<(Snapshot, Procedure)> {
        let t = self.timeline(p);
        let s = t.state(on, known_at);
        s.is_registered().then(|| (s, self.procedure_of(p, &s, on, known_at)))
    }

    /// A whole procedure from its snapshot and its text attributes on `on`.
    pub(crate) fn procedure_of(&self, p: u32, s: &Snapshot, on: Date, known_at: Timestamp) -> Procedure {
        let t = self.timeline(p);
        crate::timeline::procedure_from(
            &t.code,
            s,
            t.texts_on(on, known_at),
            self.agencies.get(s.agency()),
            self.sectors.get(s.sector()),
        )
    }

    /// Follows merges from `p` at `at` to the procedure it flows to: itself if active, the end of its merge
    /// chain, or `None` if that one is abolished (or not registered yet, mid-way through a merge's copies).
    pub(crate) fn terminal_of(&self, p: u32, at: Moment) -> Option<u32> {
        let mut cur = p;
        for _ in 0..=self.procedures.len() {
            let s = self.timeline(cur).state(at.as_of, at.known_at);
            match s.standing() {
                Standing::Active => return Some(cur),
                Standing::Merged => cur = s.merged_into(),
                Standing::Abolished | Standing::Unregistered => return None,
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use events::event::{Merger, Retraction, Simplification};
    use events::value::{
        Agency, AnnualVolume, Applicant, Hours, Level, LongText, Name, Online, Sector, Steps, Vnd, WorkingDays,
    };
    use events::{Change, Changes, SCHEMA_VERSION, StreamId};

    use super::*;
    use crate::code_index::SHORT_CODE;

    fn procedure(code: &str, days: u64) -> Procedure {
        Procedure {
            code: ProcedureCode::parse(code).unwrap(),
            name: Name::parse(code).unwrap(),
            sector: Sector::parse("Hộ tịch").unwrap(),
            agency: Agency::parse("UBND").unwrap(),
            level: Level::Commune,
            applicant: Applicant::Citizen,
            processing_days: WorkingDays::from_hundredths(days * 100).unwrap(),
            steps: Steps::new(2).unwrap(),
            documents: vec![],
            fee_vnd: Vnd::new(1_000).unwrap(),
            out_of_pocket_vnd: Vnd::new(0).unwrap(),
            applicant_hours: Hours::from_hundredths(150).unwrap(),
            annual_volume: AnnualVolume::new(10).unwrap(),
            online: Online::None,
            legal_basis: LongText::default(),
        }
    }

    /// Registrations, late simplifications, a merge and the retraction of one of its copies.
    fn log() -> Vec<Event> {
        let day = |d: i64| Date::from_inner(Date::from_ymd(2011, 1, 1).unwrap().inner() + time::Duration::days(d));
        let code = |c: &str| ProcedureCode::parse(c).unwrap();
        let simplify = |c: &str, days: u64| {
            Change::ProcedureSimplified(Simplification {
                code: code(c),
                set: Changes {
                    processing_days: Some(WorkingDays::from_hundredths(days * 100).unwrap()),
                    ..Changes::default()
                },
                measures: vec![],
            })
        };
        let merger = Change::ProceduresMerged(Merger { sources: vec![code("A"), code("B")], into: procedure("C", 1) });
        let script: Vec<(&str, i64, Change)> = vec![
            ("A", 0, Change::ProcedureRegistered(procedure("A", 9))),
            ("B", 0, Change::ProcedureRegistered(procedure("B", 8))),
            ("A", 50, simplify("A", 7)),
            ("B", 20, simplify("B", 6)),
            ("A", 10, simplify("A", 5)),
            ("A", 100, merger.clone()),
            ("B", 100, merger.clone()),
            ("C", 100, merger),
            (
                "A",
                120,
                // The merge's first copy: seq 6, recorded at second 6 (its id as the log derives it).
                Change::EntryRetracted(Retraction {
                    event_id: events::event::derived_id(6, Timestamp::from_micros(6_000_000)),
                    reason: LongText::default(),
                }),
            ),
            ("B", 30, simplify("B", 4)),
        ];
        script
            .into_iter()
            .enumerate()
            .map(|(i, (c, d, change))| {
                let seq = i as u64 + 1;
                // The three copies of the merge share one recorded_at.
                let at = if (6..=8).contains(&seq) { 6 } else { seq as i64 };
                let recorded_at = Timestamp::from_micros(at * 1_000_000);
                // The ids the log derives, but for the last event's, as an event from elsewhere may have.
                let event_id = match seq {
                    10 => Uuid::from_u128(u128::from(seq)),
                    _ => events::event::derived_id(seq, recorded_at),
                };
                Event {
                    event_id,
                    seq,
                    stream: StreamId::procedure(&code(c)),
                    version: 0,
                    schema_version: SCHEMA_VERSION,
                    recorded_at,
                    effective_on: day(d),
                    actor: String::new(),
                    command_id: None,
                    legal_basis: LongText::default(),
                    note: LongText::default(),
                    change,
                }
            })
            .collect()
    }

    #[test]
    fn a_fold_of_changes_prepared_from_their_stored_bytes_equals_a_fold_of_the_events() {
        let events = log();
        let stored: Vec<Vec<u8>> = events.iter().map(events::codec::encode).collect();
        let mut prepared = 0;
        let mut items: Vec<ToFold<&Event>> = stored
            .iter()
            .zip(&events)
            .map(|(bytes, e)| match events::codec::glance(bytes).unwrap().and_then(|mut g| Prepared::of(&mut g)) {
                Some(r) => {
                    prepared += 1;
                    ToFold::Prepared(r)
                }
                None => ToFold::Event(e, StreamKey::of(e)),
            })
            .collect();
        assert_eq!(prepared, 3, "the simplifications but the one whose id is not derived");
        assert_eq!(size_of::<Prepared>(), 88, "what the fold reads per event, from memory another core wrote");
        let mut folded = Projection::new();
        let (first, rest) = items.split_at_mut(3);
        folded.extend_on([first, rest], 2).unwrap();
        assert_eq!(folded, Projection::fold(&events).unwrap(), "in chunks of 3 and 7");
        assert_eq!(
            folded.ids.get(10, events[9].recorded_at),
            events[9].event_id,
            "an id the log did not derive is kept"
        );
    }

    #[test]
    fn codes_too_long_to_hold_inline_are_found_like_short_ones() {
        let long = "1.012753.H19-a-very-long-local-variant-code-of-64-characters-xx";
        assert!(long.len() > SHORT_CODE && long.len() <= 64);
        let mut events = log();
        for e in &mut events {
            if e.stream == StreamId::procedure(&ProcedureCode::parse("B").unwrap()) {
                e.stream = StreamId::procedure(&ProcedureCode::parse(long).unwrap());
            }
        }
        let folded = Projection::fold(&events).unwrap();
        let mut live = Projection::new();
        for e in &events {
            live.apply(e).unwrap();
        }
        assert_eq!(folded, live);
        let b = folded.index_of(long).expect("the long code is indexed");
        assert_eq!(folded.timeline(b).code.as_str(), long);
        assert_eq!(folded.timeline(b).entries.len(), 4, "its registration, two simplifications and a merge's copy");
    }

    #[test]
    fn bulk_folds_of_one_event_each_or_settled_on_several_threads_or_told_what_to_expect_equal_one_fold_and_live_apply()
    {
        let events = log();
        let once = Projection::fold(&events).unwrap();
        let mut often = Projection::new();
        for e in &events {
            often.extend([e]).unwrap();
        }
        let mut expecting = Projection::new();
        // Wrong on purpose for B (too few) and C (too many): a hint, not a promise.
        expecting.expect_streams([("procedure-A", 3), ("procedure-B", 1), ("procedure-C", 40), ("settings", 2)]);
        expecting.extend(&events).unwrap();
        assert_eq!(once, expecting, "told how long the streams are");
        let mut live = Projection::new();
        for e in &events {
            live.apply(e).unwrap();
        }
        let mut side_by_side = Projection::new();
        side_by_side
            .extend_on([events.iter().map(|e| ToFold::Event(e, StreamKey::of(e))).collect::<Vec<_>>()], 3)
            .unwrap();
        assert_eq!(once, often);
        assert_eq!(once, live);
        assert_eq!(once, side_by_side, "settling on three threads, one procedure each");
        // The merge is retracted in every stream (only A's copy was named).
        let c = once.index_of("C").unwrap();
        let now = Timestamp::from_micros(i64::MAX);
        assert!(!once.timeline(c).state(Date::from_ymd(2012, 1, 1).unwrap(), now).is_registered());
        let b = once.timeline(once.index_of("B").unwrap()).state(Date::from_ymd(2012, 1, 1).unwrap(), now);
        assert_eq!((b.standing(), b.processing_days()), (Standing::Active, 400));
    }
}
