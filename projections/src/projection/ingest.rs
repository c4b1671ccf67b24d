//! How one event goes into the state: what a bulk fold is fed (`ToFold`, `Prepared`), the interned
//! texts, and the ingest of procedures, merges, retractions and settings, live or in bulk.

use std::collections::HashMap;

use events::event::Merger;
use events::value::{Date, ProcedureCode, Text, Timestamp};
use events::{Change, Changes, Estimates, Event, Procedure};
use uuid::Uuid;

use super::*;
use crate::code_index::ShortCode;
use crate::timeline::{Entry, Kind, Restatement, Snapshot, Standing, TextChange, Timeline, field};

/// An event on its way into a bulk fold: whole with its `StreamKey`, or already made into the entry it
/// adds.
#[derive(Debug)]
pub enum ToFold<E> {
    Event(E, StreamKey),
    Prepared(Prepared),
}

/// A simplification, amendment or estimate revision made into the timeline entry it adds, from a glance
/// at its stored bytes ([`events::codec::glance`]) — on a decoder's thread, so that the fold reads this
/// small record instead of a whole event another thread wrote, and the event is never built. A change
/// that sets an agency or a sector (which the fold interns), or whose procedure's code is too long to
/// hold inline, or whose event id is not the one the log derives from its seq, has no `Prepared`: it is
/// folded whole. Kept small (88 bytes): the fold reads millions of them from memory another core wrote.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Prepared {
    pub(super) seq: u64,
    pub(super) recorded_at: Timestamp,
    pub(super) effective_on: Date,
    pub(super) kind: Kind,
    pub(super) mask: u16,
    pub(super) code: ShortCode,
    pub(super) after: Snapshot,
    /// Texts and restatements, which few changes carry.
    pub(super) extra: Option<Box<Extra>>,
}

/// What a prepared change adds besides its entry.
#[derive(Clone, PartialEq, Eq, Debug)]
pub(super) struct Extra {
    text: Option<Texts>,
    restatement: Option<Restatement>,
}

impl Prepared {
    /// The entry a glanced change adds, or `None` if it must be folded whole. Its texts (name, documents,
    /// legal basis) are moved out of `g`, not copied, when it has a `Prepared`; `g` is untouched otherwise.
    #[inline]
    pub fn of(g: &mut events::codec::Glance<'_>) -> Option<Self> {
        use events::codec::GlancedChange;
        if g.event_id != events::event::derived_id(g.seq, g.recorded_at) {
            return None; // The fold keeps such an id: the whole event brings it.
        }
        let code = g.stream.strip_prefix("procedure-").filter(|c| ProcedureCode::is_valid(c))?;
        let code = ShortCode::new(code)?;
        let simplified = matches!(g.change, GlancedChange::Simplified(_));
        let (kind, mask, after, text, restatement) = match &mut g.change {
            GlancedChange::Simplified(set) | GlancedChange::Amended(set) => {
                if set.agency.is_some() || set.sector.is_some() {
                    return None;
                }
                let text = (set.name.is_some() || set.documents.is_some() || set.legal_basis.is_some())
                    .then(|| (set.name.take(), set.documents.take(), set.legal_basis.take()));
                let (mut mask, after, _) = plain_delta(set);
                if text.is_some() {
                    mask |= field::TEXT;
                }
                let kind = if simplified { Kind::Simplified } else { Kind::Amended };
                (kind, mask, after, text, None)
            }
            GlancedChange::EstimateRevised { baseline, current } => {
                let (restatement, mask, after) =
                    revision_delta(g.seq, g.recorded_at, g.effective_on, baseline.as_ref(), current.as_ref());
                (Kind::EstimateRevised, mask, after, None, restatement)
            }
            GlancedChange::Other(_) => return None,
        };
        Some(Self {
            seq: g.seq,
            recorded_at: g.recorded_at,
            effective_on: g.effective_on,
            kind,
            mask,
            code,
            after,
            extra: (text.is_some() || restatement.is_some()).then(|| Box::new(Extra { text, restatement })),
        })
    }
}

/// Interned text values (agencies, sectors): snapshots hold a `u32`, groups index a vector by it.
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub(crate) struct Interner<const MIN: usize, const MAX: usize> {
    values: Vec<Text<MIN, MAX>>,
    index: HashMap<String, u32>,
}

impl<const MIN: usize, const MAX: usize> Interner<MIN, MAX> {
    pub(super) fn intern(&mut self, value: &Text<MIN, MAX>) -> u32 {
        if let Some(&id) = self.index.get(value.as_str()) {
            return id;
        }
        let id = self.values.len() as u32;
        self.values.push(value.clone());
        self.index.insert(value.as_str().to_owned(), id);
        id
    }

    pub(crate) fn get(&self, id: u32) -> &Text<MIN, MAX> {
        &self.values[id as usize]
    }

    pub(crate) fn find(&self, s: &str) -> Option<u32> {
        self.index.get(s).copied()
    }

    pub(crate) fn len(&self) -> usize {
        self.values.len()
    }
}

impl Projection {
    /// The index of the procedure whose stream `e` is in, if the projection has seen its code.
    pub(super) fn known_stream(&self, e: &Event) -> Option<u32> {
        e.stream.code().and_then(|c| self.index_of(c.as_str()))
    }

    /// Ingests one event; `known` is `known_stream(e)`, looked up by the caller (a bulk fold looks a window
    /// of events up at once). An index, once given, never changes, so a lookup made before the events
    /// ahead of `e` were ingested is still right; one that found nothing is made again.
    pub(super) fn ingest(&mut self, e: &Event, mode: Mode, known: Option<u32>) -> Result<Touched, ApplyError> {
        if e.seq <= self.last_seq {
            return Err(ApplyError::OutOfOrder { seq: e.seq, last_seq: self.last_seq });
        }
        self.last_seq = e.seq;
        self.ids.record(e.seq, e.recorded_at, e.event_id);
        if !matches!(e.change, Change::ProceduresMerged(_)) {
            self.open_merge = None;
        }
        let known = known.or_else(|| self.known_stream(e));
        Ok(match known {
            Some(p) => self.ingest_procedure(p, e, mode),
            None => match e.stream.code() {
                Some(code) => {
                    let p = self.index_or_insert(code, mode);
                    self.ingest_procedure(p, e, mode)
                }
                None => self.ingest_setting(e),
            },
        })
    }

    pub(crate) fn index_of(&self, code: &str) -> Option<u32> {
        self.by_code.get(code)
    }

    pub(super) fn index_or_insert(&mut self, code: &ProcedureCode, mode: Mode) -> u32 {
        if let Some(p) = self.index_of(code.as_str()) {
            return p;
        }
        let p = self.procedures.len() as u32;
        let mut timeline = Timeline::new(code.clone());
        if mode == Mode::Batch
            && let Some(events) = self.expected.get(code.as_str())
        {
            timeline.reserve_exact(events as usize);
        }
        self.procedures.push(timeline);
        self.by_code.insert(code.as_str(), p);
        match mode {
            // A new code shifts 4 bytes a procedure: nothing next to a write.
            Mode::Live => {
                let at = self.in_code_order.partition_point(|&q| self.procedures[q as usize].code < *code);
                self.in_code_order.insert(at, p);
            }
            Mode::Batch => self.in_code_order.push(p),
        }
        p
    }

    pub(crate) fn timeline(&self, p: u32) -> &Timeline {
        &self.procedures[p as usize]
    }

    pub(super) fn ingest_procedure(&mut self, p: u32, e: &Event, mode: Mode) -> Touched {
        let mut touched = Touched::Procedure(p);
        let mut text = None;
        let (kind, mask, after) = match &e.change {
            Change::ProcedureRegistered(procedure) => {
                self.registrations.insert((e.effective_on, e.seq, p));
                text = Some(text_of(procedure));
                (Kind::Registered, field::ALL, self.snapshot_of(procedure))
            }
            Change::ProcedureSimplified(s) => {
                let (mask, after, t) = self.delta_of(&s.set);
                text = t;
                (Kind::Simplified, mask, after)
            }
            Change::ProcedureAmended(a) => {
                let (mask, after, t) = self.delta_of(&a.set);
                text = t;
                (Kind::Amended, mask, after)
            }
            Change::EstimateRevised(r) => {
                let (restatement, mask, after) =
                    revision_delta(e.seq, e.recorded_at, e.effective_on, r.baseline.as_ref(), r.current.as_ref());
                if let Some(restatement) = restatement {
                    match mode {
                        Mode::Live => self.procedures[p as usize].restatements.push(restatement),
                        Mode::Batch => self.procedures[p as usize].restatements.push(restatement),
                    }
                }
                (Kind::EstimateRevised, mask, after)
            }
            Change::ProceduresMerged(m) => {
                let merge = self.join_merge(p, e, m, mode);
                touched = Touched::Merge(merge);
                if self.timeline(p).code == m.into.code {
                    text = Some(text_of(&m.into));
                    (Kind::Merged, field::ALL, self.snapshot_of(&m.into))
                } else {
                    let mut after = Snapshot::UNREGISTERED;
                    after.set_status(Standing::Merged);
                    after.set_merged_into(self.merges[merge].into);
                    (Kind::Merged, field::STANDING, after)
                }
            }
            Change::ProcedureAbolished(_) => {
                let mut after = Snapshot::UNREGISTERED;
                after.set_status(Standing::Abolished);
                (Kind::Abolished, field::STANDING, after)
            }
            Change::EntryRetracted(r) => {
                self.procedures[p as usize].retraction_events.push(e.recorded_at);
                return Touched::Procedures(self.retract(p, r.event_id, e.recorded_at, mode));
            }
            // Settings are written to the settings stream; in a procedure's stream they mean nothing.
            Change::TariffSet(_) | Change::ProgrammeDefined(_) => return Touched::Nothing,
        };
        let entry = Entry {
            seq: e.seq,
            recorded_at: e.recorded_at,
            known_from: e.recorded_at,
            after,
            effective_on: e.effective_on,
            mask,
            kind,
            retracted: false,
        };
        let text = text.map(|(name, documents, legal_basis)| TextChange {
            seq: e.seq,
            effective_on: e.effective_on,
            name,
            documents,
            legal_basis,
        });
        match mode {
            Mode::Live => {
                let t = &mut self.procedures[p as usize];
                t.texts.extend(text);
                t.insert(entry);
            }
            Mode::Batch => self.place(p, entry, text),
        }
        touched
    }

    /// Appends a bulk fold's entry (and text) to its timeline, out of order: the fold sorts each timeline
    /// it touched when it settles.
    pub(super) fn place(&mut self, p: u32, entry: Entry, text: Option<TextChange>) {
        if let Some(text) = text {
            self.batch_texts.push((p, text));
        }
        self.procedures[p as usize].push(entry);
    }

    /// Ingests a prepared change in a bulk fold, as `ingest` would the event it was prepared from; `known`
    /// as for `ingest`.
    pub(super) fn ingest_prepared(&mut self, r: &mut Prepared, known: Option<u32>) -> Result<(), ApplyError> {
        if r.seq <= self.last_seq {
            return Err(ApplyError::OutOfOrder { seq: r.seq, last_seq: self.last_seq });
        }
        self.last_seq = r.seq;
        // Its id is the derived one (`Prepared::of` sees to it): `ids` has nothing to keep.
        self.open_merge = None;
        let p = match known.or_else(|| self.by_code.find_short(&r.code)) {
            Some(p) => p,
            None => match r.code.to_code() {
                Some(code) => self.index_or_insert(&code, Mode::Batch),
                None => return Ok(()),
            },
        };
        let (text, restatement) = r.extra.take().map_or((None, None), |x| (x.text, x.restatement));
        if let Some(restatement) = restatement {
            self.procedures[p as usize].restatements.push(restatement);
        }
        let text = text.map(|(name, documents, legal_basis)| TextChange {
            seq: r.seq,
            effective_on: r.effective_on,
            name,
            documents,
            legal_basis,
        });
        let entry = Entry {
            seq: r.seq,
            recorded_at: r.recorded_at,
            known_from: r.recorded_at,
            after: r.after,
            effective_on: r.effective_on,
            mask: r.mask,
            kind: r.kind,
            retracted: false,
        };
        self.place(p, entry, text);
        Ok(())
    }

    /// Finds or opens the merge this copy belongs to and records the copy; returns the merge's index.
    ///
    /// The log writes a merge as one event per stream it touches, same payload and `recorded_at`, at
    /// consecutive seqs: that is how the copies are told to be one merge, counted once.
    pub(super) fn join_merge(&mut self, p: u32, e: &Event, m: &Merger, mode: Mode) -> usize {
        let joins = self.open_merge.as_ref().filter(|open| {
            open.seq + 1 == e.seq
                && open.recorded_at == e.recorded_at
                && open.effective_on == e.effective_on
                && open.payload == *m
                && !self.merges[open.index].members.iter().any(|&(q, _)| q == p)
        });
        let index = match joins {
            Some(open) => open.index,
            None => {
                let sources = m.sources.iter().map(|c| self.index_or_insert(c, mode)).collect();
                let into = self.index_or_insert(&m.into.code, mode);
                self.merges.push(MergeRecord { first_seq: e.seq, members: Vec::new(), sources, into });
                self.merges.len() - 1
            }
        };
        self.merges[index].members.push((p, e.seq));
        self.open_merge = Some(OpenMerge {
            seq: e.seq,
            index,
            recorded_at: e.recorded_at,
            effective_on: e.effective_on,
            payload: m.clone(),
        });
        index
    }

    /// The merge a copy (procedure `p`, `seq`) belongs to.
    pub(crate) fn merge_of(&self, p: u32, seq: u64) -> Option<&MergeRecord> {
        let i = self.merges.partition_point(|m| m.first_seq <= seq).checked_sub(1)?;
        let hit = |m: &&MergeRecord| m.members.contains(&(p, seq));
        Some(&self.merges[i]).filter(hit).or_else(|| self.merges.iter().find(hit))
    }

    /// Retracts the event `event_id` of procedure `p`'s stream at `at`; retracting any copy of a merge
    /// retracts the merge in every stream it touched. Returns the procedures touched.
    pub(super) fn retract(&mut self, p: u32, event_id: Uuid, at: Timestamp, mode: Mode) -> Vec<u32> {
        let t = self.timeline(p);
        let Some(i) = t.entries.iter().position(|e| self.ids.get(e.seq, e.recorded_at) == event_id) else {
            // The log only writes a retraction to the streams of its target; there is nothing else to undo.
            return vec![p];
        };
        let (seq, kind) = (t.entries[i].seq, t.entries[i].kind);
        let copies = match kind {
            Kind::Merged => self.merge_of(p, seq).map_or_else(|| vec![(p, seq)], |m| m.members.clone()),
            _ => vec![(p, seq)],
        };
        for &(q, s) in &copies {
            let t = &mut self.procedures[q as usize];
            if let Some(i) = t.mark_retracted(s, at) {
                match mode {
                    Mode::Live => t.rebuild_from(i),
                    Mode::Batch => t.dirty = true,
                }
            }
        }
        copies.into_iter().map(|(q, _)| q).collect()
    }

    pub(super) fn ingest_setting(&mut self, e: &Event) -> Touched {
        match &e.change {
            Change::TariffSet(t) => {
                self.tariffs.push(TariffRecord {
                    event_id: e.event_id,
                    seq: e.seq,
                    effective_on: e.effective_on,
                    recorded_at: e.recorded_at,
                    retracted_at: None,
                    applicant: t.applicant,
                    vnd_per_hour: t.vnd_per_hour.get(),
                });
                Touched::Tariffs
            }
            Change::ProgrammeDefined(programme) => {
                self.programmes.push(ProgrammeRecord {
                    event_id: e.event_id,
                    seq: e.seq,
                    recorded_at: e.recorded_at,
                    retracted_at: None,
                    programme: programme.clone(),
                });
                Touched::Programmes
            }
            Change::EntryRetracted(r) => {
                let earliest =
                    |slot: &mut Option<Timestamp>| *slot = Some(slot.map_or(e.recorded_at, |t| t.min(e.recorded_at)));
                if let Some(t) = self.tariffs.iter_mut().find(|t| t.event_id == r.event_id) {
                    earliest(&mut t.retracted_at);
                    Touched::Tariffs
                } else if let Some(p) = self.programmes.iter_mut().find(|p| p.event_id == r.event_id) {
                    earliest(&mut p.retracted_at);
                    Touched::Programmes
                } else {
                    Touched::Nothing
                }
            }
            _ => Touched::Nothing,
        }
    }

    pub(super) fn snapshot_of(&mut self, p: &Procedure) -> Snapshot {
        let mut s = Snapshot::UNREGISTERED;
        s.set_processing_days(small(p.processing_days.hundredths()));
        s.set_applicant_hours(small(p.applicant_hours.hundredths()));
        s.set_fee_vnd(small(p.fee_vnd.get()));
        s.set_out_of_pocket_vnd(small(p.out_of_pocket_vnd.get()));
        s.set_annual_volume(small(p.annual_volume.get()));
        s.set_agency(self.agencies.intern(&p.agency));
        s.set_sector(self.sectors.intern(&p.sector));
        s.set_steps(small(p.steps.get()));
        s.set_level(p.level);
        s.set_applicant(p.applicant);
        s.set_online(p.online);
        s.set_status(Standing::Active);
        s
    }

    /// The mask, values and text of a `set`.
    pub(super) fn delta_of(&mut self, c: &Changes) -> (u16, Snapshot, Option<Texts>) {
        let (mut mask, mut s, text) = plain_delta(c);
        if let Some(v) = &c.agency {
            s.set_agency(self.agencies.intern(v));
            mask |= field::AGENCY;
        }
        if let Some(v) = &c.sector {
            s.set_sector(self.sectors.intern(v));
            mask |= field::SECTOR;
        }
        (mask, s, text)
    }

    // ---------------------------------------------------------------------------------------------------
    // Questions every read model asks.
}

type Texts = (Option<events::value::Name>, Option<Vec<events::Document>>, Option<events::value::LongText>);

fn text_of(p: &Procedure) -> Texts {
    (Some(p.name.clone()), Some(p.documents.clone()), Some(p.legal_basis.clone()))
}

/// Every number a procedure holds fits in 32 bits (the largest, fees, are at most 10⁹).
fn small(n: u64) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// The mask, values and text of a `set`, but for a new agency or sector (which the projection interns).
#[inline]
fn plain_delta(c: &Changes) -> (u16, Snapshot, Option<Texts>) {
    let mut s = Snapshot::UNREGISTERED;
    let mut mask = 0;
    macro_rules! number {
        ($field:ident, $set:ident, $bit:expr, $get:ident) => {
            if let Some(v) = c.$field {
                s.$set(small(v.$get()));
                mask |= $bit;
            }
        };
    }
    number!(processing_days, set_processing_days, field::DAYS, hundredths);
    number!(applicant_hours, set_applicant_hours, field::HOURS, hundredths);
    number!(fee_vnd, set_fee_vnd, field::FEE, get);
    number!(out_of_pocket_vnd, set_out_of_pocket_vnd, field::OUT_OF_POCKET, get);
    number!(annual_volume, set_annual_volume, field::VOLUME, get);
    number!(steps, set_steps, field::STEPS, get);
    if let Some(v) = c.level {
        s.set_level(v);
        mask |= field::LEVEL;
    }
    if let Some(v) = c.applicant {
        s.set_applicant(v);
        mask |= field::APPLICANT;
    }
    if let Some(v) = c.online {
        s.set_online(v);
        mask |= field::ONLINE;
    }
    let text = (c.name.is_some() || c.documents.is_some() || c.legal_basis.is_some())
        .then(|| (c.name.clone(), c.documents.clone(), c.legal_basis.clone()));
    if text.is_some() {
        mask |= field::TEXT;
    }
    (mask, s, text)
}

/// What an `EstimateRevised` at (`seq`, `effective_on`) makes: its restatement of the baseline, if any,
/// and the mask and values of its `current` side.
fn revision_delta(
    seq: u64,
    recorded_at: Timestamp,
    effective_on: Date,
    baseline: Option<&Estimates>,
    current: Option<&Estimates>,
) -> (Option<Restatement>, u16, Snapshot) {
    let restatement = baseline.filter(|b| !b.is_empty()).map(|b| Restatement {
        seq,
        recorded_at,
        effective_on,
        annual_volume: b.annual_volume.map(|v| small(v.get())),
        applicant_hours: b.applicant_hours.map(|v| small(v.hundredths())),
        out_of_pocket_vnd: b.out_of_pocket_vnd.map(|v| small(v.get())),
    });
    let mut after = Snapshot::UNREGISTERED;
    let mut mask = 0;
    if let Some(c) = current {
        if let Some(v) = c.annual_volume {
            after.set_annual_volume(small(v.get()));
            mask |= field::VOLUME;
        }
        if let Some(v) = c.applicant_hours {
            after.set_applicant_hours(small(v.hundredths()));
            mask |= field::HOURS;
        }
        if let Some(v) = c.out_of_pocket_vnd {
            after.set_out_of_pocket_vnd(small(v.get()));
            mask |= field::OUT_OF_POCKET;
        }
    }
    (restatement, mask, after)
}
