//! A procedure's timeline: its events in `(effective_on, seq)` order, each kept as a compact delta and the
//! snapshot of the procedure after it, so any `(as_of, known_at)` question is one binary search.
//!
//! An entry's snapshot is the state after every entry up to it that is not retracted as far as the
//! projection knows now ("latest knowledge"). `known_from` is the earliest transaction time from which
//! every entry up to this one counts exactly as it does under latest knowledge (its own and every earlier
//! entry's recording and retraction are known). A question with `known_at >= known_from` reads the
//! snapshot as it is; an older `known_at` starts from the last snapshot that is still valid for it and
//! replays only the entries after that one.

use events::value::{Applicant, Date, Level, LongText, Name, Online, ProcedureCode, Timestamp};
use events::{Document, Procedure};

/// Where a procedure stands at one point of its timeline.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Standing {
    Unregistered,
    Active,
    Abolished,
    /// Merged into the procedure `Snapshot::merged_into` indexes.
    Merged,
}

/// A procedure's numbers and categories at one point: everything the cost model, the groups and the merge
/// chains need, packed in eight 32-bit words so that an `Entry` is one 64-byte cache line. Agency and
/// sector are interned; text attributes live in `TextChange`s.
///
/// Every value comes from a validated procedure, so each fits its bits: processing days (hundredths,
/// at most 365 000) take 19, hours (hundredths, at most 1 000 000) 20, steps (at most 1 000) 10.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct Snapshot([u32; 8]);

/// Where a value lives in a snapshot: a word and a run of bits.
#[derive(Clone, Copy)]
struct Slot {
    word: usize,
    shift: u32,
    width: u32,
}

impl Slot {
    const fn bits(self) -> u32 {
        (if self.width == 32 { u32::MAX } else { (1 << self.width) - 1 }) << self.shift
    }
}

const DAYS: Slot = Slot { word: 0, shift: 0, width: 19 };
const LEVEL: Slot = Slot { word: 0, shift: 19, width: 2 };
const APPLICANT: Slot = Slot { word: 0, shift: 21, width: 2 };
const ONLINE: Slot = Slot { word: 0, shift: 23, width: 2 };
const STATUS: Slot = Slot { word: 0, shift: 25, width: 2 };
const REGISTERED: Slot = Slot { word: 0, shift: 27, width: 1 };
const HOURS: Slot = Slot { word: 1, shift: 0, width: 20 };
const STEPS: Slot = Slot { word: 1, shift: 20, width: 10 };
const FEE: Slot = Slot { word: 2, shift: 0, width: 32 };
const OUT_OF_POCKET: Slot = Slot { word: 3, shift: 0, width: 32 };
const VOLUME: Slot = Slot { word: 4, shift: 0, width: 32 };
const AGENCY: Slot = Slot { word: 5, shift: 0, width: 32 };
const SECTOR: Slot = Slot { word: 6, shift: 0, width: 32 };
const MERGED_INTO: Slot = Slot { word: 7, shift: 0, width: 32 };

/// The slots each field bit of an event's mask sets.
const FIELD_SLOTS: [(u16, Slot); 13] = [
    (field::DAYS, DAYS),
    (field::HOURS, HOURS),
    (field::FEE, FEE),
    (field::OUT_OF_POCKET, OUT_OF_POCKET),
    (field::VOLUME, VOLUME),
    (field::AGENCY, AGENCY),
    (field::SECTOR, SECTOR),
    (field::STEPS, STEPS),
    (field::LEVEL, LEVEL),
    (field::APPLICANT, APPLICANT),
    (field::ONLINE, ONLINE),
    (field::STANDING, STATUS),
    (field::STANDING, MERGED_INTO),
];

const LEVELS: [Level; 4] = [Level::Central, Level::Province, Level::District, Level::Commune];
const APPLICANTS: [Applicant; 3] = [Applicant::Citizen, Applicant::Business, Applicant::Both];
const ONLINES: [Online; 3] = [Online::None, Online::Partial, Online::Full];
const STANDINGS: [Standing; 4] = [Standing::Unregistered, Standing::Active, Standing::Abolished, Standing::Merged];

/// Numeric accessors: `name()` reads a slot, `set_name(v)` writes it.
macro_rules! numbers {
    ($($get:ident, $set:ident, $slot:ident);* $(;)?) => {$(
        pub(crate) fn $get(&self) -> u32 {
            self.get($slot)
        }

        pub(crate) fn $set(&mut self, v: u32) {
            self.put($slot, v);
        }
    )*};
}

/// Accessors of categories stored as their index in a table.
macro_rules! categories {
    ($($get:ident, $set:ident, $slot:ident, $ty:ty, $table:ident);* $(;)?) => {$(
        pub(crate) fn $get(&self) -> $ty {
            $table[(self.get($slot) as usize).min($table.len() - 1)]
        }

        pub(crate) fn $set(&mut self, v: $ty) {
            let i = $table.iter().position(|x| *x == v).unwrap_or(0);
            self.put($slot, i as u32);
        }
    )*};
}

impl Snapshot {
    pub(crate) const UNREGISTERED: Snapshot = Snapshot([0; 8]);

    fn get(&self, slot: Slot) -> u32 {
        (self.0[slot.word] & slot.bits()) >> slot.shift
    }

    fn put(&mut self, slot: Slot, v: u32) {
        let w = &mut self.0[slot.word];
        *w = (*w & !slot.bits()) | ((v << slot.shift) & slot.bits());
    }

    numbers! {
        processing_days, set_processing_days, DAYS;
        applicant_hours, set_applicant_hours, HOURS;
        steps, set_steps, STEPS;
        fee_vnd, set_fee_vnd, FEE;
        out_of_pocket_vnd, set_out_of_pocket_vnd, OUT_OF_POCKET;
        annual_volume, set_annual_volume, VOLUME;
        agency, set_agency, AGENCY;
        sector, set_sector, SECTOR;
        merged_into, set_merged_into, MERGED_INTO;
    }

    categories! {
        level, set_level, LEVEL, Level, LEVELS;
        applicant, set_applicant, APPLICANT, Applicant, APPLICANTS;
        online, set_online, ONLINE, Online, ONLINES;
        status, set_status, STATUS, Standing, STANDINGS;
    }

    /// A registration (or a merge creating this procedure) counts: until then nothing else applies.
    pub(crate) fn registered(&self) -> bool {
        self.get(REGISTERED) == 1
    }

    pub(crate) fn set_registered(&mut self, registered: bool) {
        self.put(REGISTERED, u32::from(registered));
    }

    /// The standing as set by the last event that set it, unless no registration counts.
    pub(crate) fn standing(&self) -> Standing {
        if self.registered() { self.status() } else { Standing::Unregistered }
    }

    pub(crate) fn is_registered(&self) -> bool {
        self.standing() != Standing::Unregistered
    }

    pub(crate) fn is_active(&self) -> bool {
        self.standing() == Standing::Active
    }

    /// `self`'s values for the fields in `mask`, `before`'s for the others: applying an event's delta.
    ///
    /// Only a registration (every field set) registers a procedure; a change of a procedure that is not
    /// registered keeps its values here, for a replay in which the registration does count, but leaves it
    /// unregistered.
    pub(crate) fn overlay(&self, before: &Snapshot, mask: u16) -> Snapshot {
        let mut take = [0u32; 8];
        for (bit, slot) in FIELD_SLOTS {
            if mask & bit != 0 {
                take[slot.word] |= slot.bits();
            }
        }
        let mut out = Snapshot(std::array::from_fn(|w| (self.0[w] & take[w]) | (before.0[w] & !take[w])));
        out.set_registered(before.registered() || mask == field::ALL);
        out
    }
}

impl std::fmt::Debug for Snapshot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Snapshot")
            .field("standing", &self.standing())
            .field("merged_into", &self.merged_into())
            .field("processing_days", &self.processing_days())
            .field("applicant_hours", &self.applicant_hours())
            .field("fee_vnd", &self.fee_vnd())
            .field("out_of_pocket_vnd", &self.out_of_pocket_vnd())
            .field("annual_volume", &self.annual_volume())
            .field("agency", &self.agency())
            .field("sector", &self.sector())
            .field("steps", &self.steps())
            .field("level", &self.level())
            .field("applicant", &self.applicant())
            .field("online", &self.online())
            .finish()
    }
}

/// The bits of an entry's mask: which fields its event sets.
pub(crate) mod field {
    pub const DAYS: u16 = 1 << 0;
    pub const HOURS: u16 = 1 << 1;
    pub const FEE: u16 = 1 << 2;
    pub const OUT_OF_POCKET: u16 = 1 << 3;
    pub const VOLUME: u16 = 1 << 4;
    pub const AGENCY: u16 = 1 << 5;
    pub const SECTOR: u16 = 1 << 6;
    pub const STEPS: u16 = 1 << 7;
    pub const LEVEL: u16 = 1 << 8;
    pub const APPLICANT: u16 = 1 << 9;
    pub const ONLINE: u16 = 1 << 10;
    /// Status and, for a merge, the procedure merged into.
    pub const STANDING: u16 = 1 << 11;
    /// Name, documents or legal basis: the values are in the timeline's `TextChange` of the same seq.
    pub const TEXT: u16 = 1 << 12;
    pub const ALL: u16 = (1 << 13) - 1;
}

/// The event type behind an entry.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Kind {
    Registered,
    Simplified,
    Amended,
    EstimateRevised,
    Merged,
    Abolished,
}

impl Kind {
    pub(crate) fn type_name(self) -> &'static str {
        match self {
            Self::Registered => "ProcedureRegistered",
            Self::Simplified => "ProcedureSimplified",
            Self::Amended => "ProcedureAmended",
            Self::EstimateRevised => "EstimateRevised",
            Self::Merged => "ProceduresMerged",
            Self::Abolished => "ProcedureAbolished",
        }
    }
}

/// One event of a procedure's stream (retractions aside): one 64-byte cache line, so reading a snapshot
/// costs one miss. Its date lives in a parallel vector, so a date search touches only dates; its id, in
/// the projection's `EventIds`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[repr(align(64))]
pub(crate) struct Entry {
    pub seq: u64,
    pub recorded_at: Timestamp,
    /// From this transaction time on, every entry up to this one counts as it does under latest knowledge.
    pub known_from: Timestamp,
    /// The state after this entry under latest knowledge; for a retracted entry, the state it would have
    /// made. Either way the fields in `mask` hold the event's own values, which is what a replay applies.
    pub after: Snapshot,
    pub effective_on: Date,
    pub mask: u16,
    pub kind: Kind,
    /// Retracted under latest knowledge (when: `Timeline::retracted`).
    pub retracted: bool,
}

/// New text attributes an event sets.
#[derive(Clone, PartialEq, Eq, Debug)]
pub(crate) struct TextChange {
    pub seq: u64,
    pub effective_on: Date,
    pub name: Option<Name>,
    pub documents: Option<Vec<Document>>,
    pub legal_basis: Option<LongText>,
}

/// The `baseline` side of an `EstimateRevised`: figures that replace the baseline values for every
/// `baseline_on` before `effective_on`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct Restatement {
    pub seq: u64,
    /// The revision's own `recorded_at`, so a question can tell whether it counts without finding its entry.
    pub recorded_at: Timestamp,
    pub effective_on: Date,
    pub annual_volume: Option<u32>,
    pub applicant_hours: Option<u32>,
    pub out_of_pocket_vnd: Option<u32>,
}

/// One procedure's stream, folded.
#[derive(Clone, PartialEq, Eq, Debug)]
pub(crate) struct Timeline {
    pub code: ProcedureCode,
    /// `effective_on` of each entry, parallel to `entries`: what date searches read.
    pub dates: Vec<Date>,
    /// Sorted by `(effective_on, seq)`.
    pub entries: Vec<Entry>,
    /// Copies of the first and last date and the last `known_from`, so most searches never touch the
    /// vectors at all.
    pub first_date: Date,
    pub last_date: Date,
    pub settled_at: Timestamp,
    /// In seq order.
    pub texts: Vec<TextChange>,
    /// In seq order.
    pub restatements: Vec<Restatement>,
    /// Retracted entries: (seq, `recorded_at` of the retraction).
    pub retracted: Vec<(u64, Timestamp)>,
    /// `recorded_at` of each `EntryRetracted` written to this stream (they count toward its version).
    pub retraction_events: Vec<Timestamp>,
    /// Entries were pushed out of order by a batch fold and await `sort_and_rebuild`.
    pub dirty: bool,
}

/// How many timelines `positions` searches side by side.
pub(crate) const LOCKSTEP: usize = 32;

/// Earlier than any event: the `known_from` of nothing at all.
fn never_before() -> Timestamp {
    Timestamp::from_micros(i64::MIN)
}

impl Timeline {
    pub(crate) fn new(code: ProcedureCode) -> Self {
        let epoch = Date::from_ymd(1970, 1, 1).expect("a valid date");
        Self {
            code,
            dates: Vec::new(),
            entries: Vec::new(),
            first_date: epoch,
            last_date: epoch,
            settled_at: never_before(),
            texts: Vec::new(),
            restatements: Vec::new(),
            retracted: Vec::new(),
            retraction_events: Vec::new(),
            dirty: false,
        }
    }

    pub(crate) fn retracted_at(&self, seq: u64) -> Option<Timestamp> {
        self.retracted.iter().find(|(s, _)| *s == seq).map(|&(_, at)| at)
    }

    /// Whether entry `i` counts for a question asked with `known_at` (its date is the caller's business).
    pub(crate) fn counts(&self, i: usize, known_at: Timestamp) -> bool {
        let e = &self.entries[i];
        e.recorded_at <= known_at && !(e.retracted && self.retracted_at(e.seq).is_some_and(|at| at <= known_at))
    }

    /// How many entries take effect on or before `on`.
    pub(crate) fn position(&self, on: Date) -> usize {
        if self.entries.is_empty() || on < self.first_date {
            0
        } else if on >= self.last_date {
            self.entries.len()
        } else {
            self.dates.partition_point(|d| *d <= on)
        }
    }

    /// The state after `entries[..end]` under latest knowledge.
    fn latest_before(&self, end: usize) -> Snapshot {
        self.entries[..end].iter().rev().find(|e| !e.retracted).map_or(Snapshot::UNREGISTERED, |e| e.after)
    }

    /// The state on `on` as known at `known_at`. Cost: one binary search by date, plus a replay of the
    /// entries recorded or retracted after `known_at` that come before `on` (none when asking with
    /// latest knowledge).
    pub(crate) fn state(&self, on: Date, known_at: Timestamp) -> Snapshot {
        self.state_before(self.position(on), known_at)
    }

    /// The state after `entries[..end]` (`end` from `position`) as known at `known_at`.
    pub(crate) fn state_before(&self, end: usize, known_at: Timestamp) -> Snapshot {
        if end == 0 {
            return Snapshot::UNREGISTERED;
        }
        if self.settled_at <= known_at || self.entries[end - 1].known_from <= known_at {
            return self.latest_before(end);
        }
        let start = self.entries[..end].partition_point(|e| e.known_from <= known_at);
        let mut state = self.latest_before(start);
        for i in start..end {
            if self.counts(i, known_at) {
                let e = &self.entries[i];
                state = e.after.overlay(&state, e.mask);
            }
        }
        state
    }

    /// `position(on)` for many timelines at once, into `out`. The searches advance in lockstep, one probe
    /// per timeline per round, so their cache misses overlap instead of queueing one behind another: a
    /// reductions query is bound by memory latency, not by arithmetic.
    pub(crate) fn positions(timelines: &[Timeline], on: Date, out: &mut [usize]) {
        debug_assert!(out.len() >= timelines.len());
        // Per timeline: the search window [base, base + size); size 0 once the answer is in `out`.
        let mut base = [0usize; LOCKSTEP];
        let mut size = [0usize; LOCKSTEP];
        for (ts, out) in timelines.chunks(LOCKSTEP).zip(out.chunks_mut(LOCKSTEP)) {
            let mut searching = false;
            for (k, t) in ts.iter().enumerate() {
                let n = t.dates.len();
                size[k] = 0;
                if n == 0 || on < t.first_date {
                    out[k] = 0;
                } else if on >= t.last_date {
                    out[k] = n;
                } else {
                    base[k] = 0;
                    size[k] = n;
                    searching = true;
                }
            }
            while searching {
                searching = false;
                for (k, t) in ts.iter().enumerate() {
                    let s = size[k];
                    if s > 1 {
                        let half = s / 2;
                        let mid = base[k] + half;
                        // Branch-free: a data-dependent branch would mispredict half the time.
                        base[k] = if t.dates[mid] <= on { mid } else { base[k] };
                        size[k] = s - half;
                        searching |= size[k] > 1;
                    }
                }
            }
            for (k, t) in ts.iter().enumerate() {
                if size[k] > 0 {
                    out[k] = base[k] + usize::from(t.dates[base[k]] <= on);
                }
            }
        }
    }

    /// Indices of the entries that count on `on` as known at `known_at`, in `(effective_on, seq)` order.
    pub(crate) fn counted(&self, on: Date, known_at: Timestamp) -> impl Iterator<Item = usize> + '_ {
        (0..self.position(on)).filter(move |&i| self.counts(i, known_at))
    }

    /// Inserts an event with a seq above every seq here at its place by `(effective_on, seq)` and brings
    /// the snapshots after it up to date: cost proportional to the entries after it (none for an event
    /// recorded in date order).
    pub(crate) fn insert(&mut self, entry: Entry) {
        let at = self.dates.partition_point(|d| *d <= entry.effective_on);
        self.dates.insert(at, entry.effective_on);
        self.entries.insert(at, entry);
        self.rebuild_from(at);
    }

    /// Room for `more` entries, exactly: a bulk fold knows how many are coming.
    pub(crate) fn reserve_exact(&mut self, more: usize) {
        self.dates.reserve_exact(more);
        self.entries.reserve_exact(more);
    }

    /// Reads this record (the vectors' lengths and places) and returns it unread: a prefetch, as `touch_end`.
    pub(crate) fn touch(&self) {
        std::hint::black_box(self.entries.len());
    }

    /// Reads this timeline's end, where `push` writes next, and returns it unread: a bulk fold touches the
    /// timelines of a window of events back to back before pushing to them, so their cache misses overlap
    /// (a prefetch, in safe code).
    pub(crate) fn touch_end(&mut self) {
        if let Some(slot) = self.entries.spare_capacity_mut().first() {
            std::hint::black_box(*slot);
        }
    }

    /// Reads the first restatement, if any, and returns it unread: a reductions pass touches those of a
    /// run of roots back to back before it restates them, so their cache misses overlap (as `touch_end`).
    pub(crate) fn touch_restatements(&self) {
        if let Some(r) = self.restatements.first() {
            std::hint::black_box(r.effective_on);
        }
    }

    /// Appends an entry out of order; `sort_and_rebuild` puts things right (bulk folds).
    pub(crate) fn push(&mut self, entry: Entry) {
        self.entries.push(entry);
        self.dirty = true;
    }

    /// Sorts in place (no allocation) and rebuilds the dates and every snapshot.
    pub(crate) fn sort_and_rebuild(&mut self) {
        self.entries.sort_unstable_by_key(|e| (e.effective_on, e.seq));
        self.dates.clear();
        self.dates.extend(self.entries.iter().map(|e| e.effective_on));
        self.rebuild_from(0);
        self.dirty = false;
    }

    /// Marks the entry with `seq` retracted at `at` (the earliest retraction wins) and returns its index.
    pub(crate) fn mark_retracted(&mut self, seq: u64, at: Timestamp) -> Option<usize> {
        let i = self.entries.iter().position(|e| e.seq == seq)?;
        match self.retracted.iter_mut().find(|(s, _)| *s == seq) {
            Some((_, when)) => *when = (*when).min(at),
            None => self.retracted.push((seq, at)),
        }
        self.entries[i].retracted = true;
        Some(i)
    }

    /// Recomputes `known_from` and the snapshots from entry `from` on.
    pub(crate) fn rebuild_from(&mut self, from: usize) {
        let mut state = self.latest_before(from);
        let mut known = if from == 0 { never_before() } else { self.entries[from - 1].known_from };
        for i in from..self.entries.len() {
            let settled = match self.entries[i].retracted {
                true => self.retracted_at(self.entries[i].seq).unwrap_or(self.entries[i].recorded_at),
                false => self.entries[i].recorded_at,
            };
            let e = &mut self.entries[i];
            known = known.max(settled).max(e.recorded_at);
            e.known_from = known;
            e.after = e.after.overlay(&state, e.mask);
            if !e.retracted {
                state = e.after;
            }
        }
        self.settled_at = self.entries.last().map_or(never_before(), |e| e.known_from);
        if let (Some(&first), Some(&last)) = (self.dates.first(), self.dates.last()) {
            self.first_date = first;
            self.last_date = last;
        }
    }

    /// The text attributes on `on` as known at `known_at`: the latest counted value of each.
    pub(crate) fn texts_on(
        &self,
        on: Date,
        known_at: Timestamp,
    ) -> (Option<Name>, Option<Vec<Document>>, Option<LongText>) {
        let mut counted: Vec<&TextChange> = self
            .texts
            .iter()
            .filter(|t| t.effective_on <= on)
            .filter(|t| self.entries.iter().position(|e| e.seq == t.seq).is_some_and(|i| self.counts(i, known_at)))
            .collect();
        counted.sort_by_key(|t| (t.effective_on, t.seq));
        let (mut name, mut documents, mut legal_basis) = (None, None, None);
        for t in counted {
            if t.name.is_some() {
                name.clone_from(&t.name);
            }
            if t.documents.is_some() {
                documents.clone_from(&t.documents);
            }
            if t.legal_basis.is_some() {
                legal_basis.clone_from(&t.legal_basis);
            }
        }
        (name, documents, legal_basis)
    }

    /// The restatements that replace `baseline_on`'s figures for a question as of `as_of`, known at
    /// `known_at`, applied in `(effective_on, seq)` order: each figure takes the value of the last counted
    /// restatement that gives one. Reads only the restatements (a reductions pass asks this of every root),
    /// never the entries, and allocates nothing.
    pub(crate) fn restate(&self, baseline: &mut Snapshot, baseline_on: Date, as_of: Date, known_at: Timestamp) {
        if self.restatements.is_empty() {
            return;
        }
        // Per figure (volume, hours, out of pocket): the `(effective_on, seq)` and value of the last one.
        let mut last: [Option<((Date, u64), u32)>; 3] = [None; 3];
        for r in &self.restatements {
            let counts = baseline_on < r.effective_on
                && r.effective_on <= as_of
                && r.recorded_at <= known_at
                && self.retracted_at(r.seq).is_none_or(|at| at > known_at);
            if !counts {
                continue;
            }
            let at = (r.effective_on, r.seq);
            for (slot, value) in last.iter_mut().zip([r.annual_volume, r.applicant_hours, r.out_of_pocket_vnd]) {
                if let Some(v) = value.filter(|_| slot.is_none_or(|(seen, _)| seen < at)) {
                    *slot = Some((at, v));
                }
            }
        }
        let [volume, hours, out_of_pocket] = last.map(|l| l.map(|(_, v)| v));
        if let Some(v) = volume {
            baseline.set_annual_volume(v);
        }
        if let Some(v) = hours {
            baseline.set_applicant_hours(v);
        }
        if let Some(v) = out_of_pocket {
            baseline.set_out_of_pocket_vnd(v);
        }
    }

    /// The stream's version as known at `known_at`: its events recorded by then, retractions included.
    pub(crate) fn version(&self, known_at: Timestamp) -> u64 {
        let entries = self.entries.iter().filter(|e| e.recorded_at <= known_at).count();
        let retractions = self.retraction_events.iter().filter(|t| **t <= known_at).count();
        (entries + retractions) as u64
    }
}

/// A whole procedure from a snapshot and its text attributes.
pub(crate) fn procedure_from(
    code: &ProcedureCode,
    s: &Snapshot,
    texts: (Option<Name>, Option<Vec<Document>>, Option<LongText>),
    agency: &events::value::Agency,
    sector: &events::value::Sector,
) -> Procedure {
    use events::value::{AnnualVolume, Hours, Steps, Vnd, WorkingDays};
    // Every number here came from a valid procedure, so the conversions cannot fail; the fallbacks only
    // keep a corrupt log from panicking a read.
    Procedure {
        code: code.clone(),
        name: texts.0.unwrap_or_else(|| Name::parse(code.as_str()).expect("a code is a valid name")),
        sector: sector.clone(),
        agency: agency.clone(),
        level: s.level(),
        applicant: s.applicant(),
        processing_days: WorkingDays::from_hundredths(u64::from(s.processing_days())).unwrap_or_default(),
        steps: Steps::new(u64::from(s.steps())).unwrap_or_else(|_| Steps::new(1).expect("1 is a valid step count")),
        documents: texts.1.unwrap_or_default(),
        fee_vnd: Vnd::new(u64::from(s.fee_vnd())).unwrap_or_default(),
        out_of_pocket_vnd: Vnd::new(u64::from(s.out_of_pocket_vnd())).unwrap_or_default(),
        applicant_hours: Hours::from_hundredths(u64::from(s.applicant_hours())).unwrap_or_default(),
        annual_volume: AnnualVolume::new(u64::from(s.annual_volume())).unwrap_or_default(),
        online: s.online(),
        legal_basis: texts.2.unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_is_one_cache_line_and_a_snapshot_half_of_one() {
        assert_eq!(std::mem::size_of::<Entry>(), 64);
        assert_eq!(std::mem::align_of::<Entry>(), 64);
        assert_eq!(std::mem::size_of::<Snapshot>(), 32);
    }

    #[test]
    fn packed_values_keep_to_their_bits() {
        let mut s = Snapshot::UNREGISTERED;
        s.set_processing_days(365_000);
        s.set_level(Level::Commune);
        s.set_applicant(Applicant::Both);
        s.set_online(Online::Full);
        s.set_status(Standing::Merged);
        s.set_registered(true);
        s.set_applicant_hours(1_000_000);
        s.set_steps(1_000);
        s.set_fee_vnd(1_000_000_000);
        s.set_merged_into(u32::MAX);
        assert_eq!(s.processing_days(), 365_000);
        assert_eq!(
            (s.level(), s.applicant(), s.online(), s.standing()),
            (Level::Commune, Applicant::Both, Online::Full, Standing::Merged)
        );
        assert_eq!(
            (s.applicant_hours(), s.steps(), s.fee_vnd(), s.merged_into()),
            (1_000_000, 1_000, 1_000_000_000, u32::MAX)
        );
        s.set_processing_days(0);
        s.set_steps(1);
        assert_eq!((s.level(), s.applicant_hours(), s.steps()), (Level::Commune, 1_000_000, 1));
    }

    #[test]
    fn an_overlay_takes_the_masked_fields_and_registers_only_with_a_registration() {
        let mut registered = Snapshot::UNREGISTERED;
        registered.set_status(Standing::Active);
        registered.set_fee_vnd(100);
        registered.set_processing_days(2_000);
        let base = registered.overlay(&Snapshot::UNREGISTERED, field::ALL);
        assert!(base.is_active());
        let mut change = Snapshot::UNREGISTERED;
        change.set_processing_days(1_000);
        change.set_fee_vnd(7);
        let after = change.overlay(&base, field::DAYS);
        assert_eq!((after.processing_days(), after.fee_vnd(), after.standing()), (1_000, 100, Standing::Active));
        let orphan = change.overlay(&Snapshot::UNREGISTERED, field::DAYS);
        assert!(!orphan.is_registered(), "a change without a registration registers nothing");
        let mut abolition = Snapshot::UNREGISTERED;
        abolition.set_status(Standing::Abolished);
        assert_eq!(abolition.overlay(&after, field::STANDING).standing(), Standing::Abolished);
    }
}
