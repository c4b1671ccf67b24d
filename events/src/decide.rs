//! Commands and the decider: from the history of the streams a command touches, the events it produces
//! or the rule it breaks, in words a reform officer understands.
//!
//! Every rule is checked by replaying each stream in `(effective_on, seq)` order with the new events in
//! their place. The same replay answers three questions: does the command break a rule at its
//! `effective_on`; would it make an event already recorded with a later `effective_on` break one; and,
//! for a retraction, which recorded events depend on the retracted one.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::fmt;
use std::sync::Arc;

use uuid::Uuid;

use crate::event::{Change, Event, NewEvent, StreamId};
use crate::procedure::{BurdenRise, Procedure, SIMPLIFIABLE};
use crate::value::{Date, LongText, ProcedureCode};

/// A request to change the log: what should happen, when it takes effect, and on what legal basis.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Command {
    pub change: Change,
    /// Valid time. Retractions and programme definitions take none: the caller passes the recording date.
    pub effective_on: Date,
    pub legal_basis: LongText,
    pub note: LongText,
}

/// A field that breaks a rule of its own: `field` is a JSON Pointer into the request body.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self { field: field.into(), message: message.into() }
    }
}

/// Where a procedure stands.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum Status {
    Unregistered,
    Active,
    Abolished,
    Merged { into: ProcedureCode },
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unregistered => f.write_str("not yet registered"),
            Self::Active => f.write_str("active"),
            Self::Abolished => f.write_str("abolished"),
            Self::Merged { into } => write!(f, "merged into {into}"),
        }
    }
}

/// A domain rule an event breaks.
#[derive(Clone, PartialEq, Eq, Debug, thiserror::Error)]
pub enum RuleBroken {
    #[error("procedure {code} is {status} on {on}; only an active procedure can be {action}")]
    NotActive { code: ProcedureCode, on: Date, status: Status, action: &'static str },
    #[error("procedure {code} is not registered yet on {on}")]
    NotRegistered { code: ProcedureCode, on: Date },
    #[error("procedure {code} is already registered")]
    AlreadyRegistered { code: ProcedureCode },
    #[error("nothing changes: every value given equals the current value of procedure {code}")]
    NothingChanges { code: ProcedureCode },
    #[error("a simplification cannot raise the burden of procedure {code} ({}); record an amendment instead", describe_rises(.rises))]
    BurdenRises { code: ProcedureCode, rises: Vec<BurdenRise> },
}

fn describe_rises(rises: &[BurdenRise]) -> String {
    rises.iter().map(|r| format!("{} would rise from {} to {}", r.field, r.from, r.to)).collect::<Vec<_>>().join(", ")
}

/// A recorded event named in a refusal, and the rule it would break.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Affected {
    pub event_id: Uuid,
    pub seq: u64,
    pub event_type: &'static str,
    pub effective_on: Date,
    pub rule: RuleBroken,
}

impl fmt::Display for Affected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} #{} effective {} ({}): {}",
            self.event_type, self.seq, self.effective_on, self.event_id, self.rule
        )
    }
}

/// Why the decider refuses a command. Nothing is written for any of them.
#[derive(Clone, PartialEq, Eq, Debug, thiserror::Error)]
pub enum Refusal {
    /// Fields that break a rule of their own (422).
    #[error("{}", .0.iter().map(|e| format!("{}: {}", e.field, e.message)).collect::<Vec<_>>().join("; "))]
    Invalid(Vec<FieldError>),
    /// A code is never reused, not even after its registration was retracted (409).
    #[error("procedure code {code} is already taken; a code is never reused")]
    CodeTaken { code: ProcedureCode },
    /// The procedure named is not in the log at all (404 when it is in the path).
    #[error("there is no procedure {code}")]
    UnknownProcedure { code: ProcedureCode },
    /// The event named is not in the log.
    #[error("there is no event {event_id}")]
    UnknownEvent { event_id: Uuid },
    #[error("event {event_id} is a retraction; retractions cannot be retracted")]
    RetractionOfRetraction { event_id: Uuid },
    #[error("event {event_id} is already retracted")]
    AlreadyRetracted { event_id: Uuid },
    /// The command itself breaks a rule at its effective date (422).
    #[error("{0}")]
    Rule(RuleBroken),
    /// The command would make events recorded with a later effective date break a rule (422).
    #[error("this change would make later recorded events break a rule: {}", list(.0))]
    BreaksLaterEvents(Vec<Affected>),
    /// A retraction refused because recorded events depend on the retracted one (422).
    #[error("cannot retract: these recorded events depend on it: {}", list(.0))]
    HasDependents(Vec<Affected>),
}

fn list(items: &[Affected]) -> String {
    items.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")
}

/// The recorded history of the streams a command touches, each stream's events in version order.
#[derive(Clone, Debug, Default)]
pub struct History {
    /// Each stream's events in seq order, shared with whoever read them (the log keeps recently read
    /// streams decoded, so a command reads them without copying).
    streams: BTreeMap<StreamId, Arc<Vec<Event>>>,
}

impl History {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds recorded events; events already present (by `seq`) are skipped.
    pub fn extend(&mut self, events: impl IntoIterator<Item = Event>) {
        for e in events {
            let stream = Arc::make_mut(self.streams.entry(e.stream.clone()).or_default());
            if !stream.iter().any(|x| x.seq == e.seq) {
                stream.push(e);
            }
        }
        for events in self.streams.values_mut() {
            if !events.is_sorted_by_key(|e| e.seq) {
                Arc::make_mut(events).sort_by_key(|e| e.seq);
            }
        }
    }

    /// Puts in the whole of one stream as the log read it: every event of `stream`, in seq order,
    /// replacing what the history held of that stream.
    pub fn insert_stream(&mut self, stream: StreamId, events: Arc<Vec<Event>>) {
        debug_assert!(events.iter().all(|e| e.stream == stream) && events.is_sorted_by_key(|e| e.seq));
        self.streams.insert(stream, events);
    }

    pub fn from_events(events: impl IntoIterator<Item = Event>) -> Self {
        let mut h = Self::new();
        h.extend(events);
        h
    }

    pub fn stream(&self, id: &StreamId) -> &[Event] {
        self.streams.get(id).map(|events| events.as_slice()).unwrap_or_default()
    }

    fn events(&self) -> impl Iterator<Item = &Event> {
        self.streams.values().flat_map(|events| events.iter())
    }

    fn find(&self, event_id: Uuid) -> Option<&Event> {
        self.events().find(|e| e.event_id == event_id)
    }

    /// Ids of the events some retraction in these streams withdrew.
    fn retracted(&self) -> HashSet<Uuid> {
        retracted_by(self.events())
    }
}

/// Ids of the events the retractions among `events` withdrew.
fn retracted_by<'a>(events: impl Iterator<Item = &'a Event>) -> HashSet<Uuid> {
    events
        .filter_map(|e| match &e.change {
            Change::EntryRetracted(r) => Some(r.event_id),
            _ => None,
        })
        .collect()
}

/// The streams a command's events are written to (a retraction's are those of the event it names).
pub fn streams_of(change: &Change) -> Vec<StreamId> {
    match change {
        Change::ProceduresMerged(m) => {
            let mut out: Vec<StreamId> = m.sources.iter().map(StreamId::procedure).collect();
            let into = StreamId::procedure(&m.into.code);
            if !out.contains(&into) {
                out.push(into);
            }
            out
        }
        Change::TariffSet(_) | Change::ProgrammeDefined(_) => vec![StreamId::settings()],
        // A retraction goes to the streams of the event it names, which only the log knows.
        Change::EntryRetracted(_) => Vec::new(),
        other => other.subject_code().map(StreamId::procedure).into_iter().collect(),
    }
}

/// Decides a command against the history of the streams it touches.
pub fn decide(command: &Command, history: &History) -> Result<Vec<NewEvent>, Refusal> {
    check_fields(&command.change)?;
    let event = |stream: StreamId, change: Change| NewEvent {
        stream,
        effective_on: command.effective_on,
        legal_basis: command.legal_basis.clone(),
        note: command.note.clone(),
        change,
    };
    match &command.change {
        Change::EntryRetracted(r) => return decide_retraction(command, r.event_id, history),
        Change::TariffSet(_) | Change::ProgrammeDefined(_) => {
            return Ok(vec![event(StreamId::settings(), command.change.clone())]);
        }
        Change::ProcedureRegistered(p) => {
            if !history.stream(&StreamId::procedure(&p.code)).is_empty() {
                return Err(Refusal::CodeTaken { code: p.code.clone() });
            }
        }
        Change::ProceduresMerged(m) => {
            for code in &m.sources {
                if history.stream(&StreamId::procedure(code)).is_empty() {
                    return Err(Refusal::UnknownProcedure { code: code.clone() });
                }
            }
            if !m.sources.contains(&m.into.code) && !history.stream(&StreamId::procedure(&m.into.code)).is_empty() {
                return Err(Refusal::CodeTaken { code: m.into.code.clone() });
            }
        }
        other => {
            let code = other.subject_code().expect("procedure changes name their procedure");
            if history.stream(&StreamId::procedure(code)).is_empty() {
                return Err(Refusal::UnknownProcedure { code: code.clone() });
            }
        }
    }
    let new: Vec<NewEvent> =
        streams_of(&command.change).into_iter().map(|s| event(s, command.change.clone())).collect();
    let retracted = history.retracted();
    let mut later = Vec::new();
    for n in &new {
        let recorded = effective_events(history.stream(&n.stream), &retracted, None);
        let after = replay(&n.stream, &recorded, Some(n));
        if let Some(rule) = after.new_event_broke {
            return Err(Refusal::Rule(rule));
        }
        // Only events that break with the new one in place, and did not already without it, stand in
        // its way; most commands break none, and then the replay without it is not needed.
        if !after.broken.is_empty() {
            let before = replay(&n.stream, &recorded, None);
            later.extend(after.broken.into_iter().filter(|a| !before.broken.iter().any(|b| b.seq == a.seq)));
        }
    }
    if later.is_empty() { Ok(new) } else { Err(Refusal::BreaksLaterEvents(dedupe(later))) }
}

fn decide_retraction(command: &Command, event_id: Uuid, history: &History) -> Result<Vec<NewEvent>, Refusal> {
    let target = history.find(event_id).ok_or(Refusal::UnknownEvent { event_id })?;
    if matches!(target.change, Change::EntryRetracted(_)) {
        return Err(Refusal::RetractionOfRetraction { event_id });
    }
    let retracted = history.retracted();
    if retracted.contains(&event_id) {
        return Err(Refusal::AlreadyRetracted { event_id });
    }
    // A merge is one event in each stream it touches; retracting any of them retracts the merge.
    let siblings: Vec<&Event> = history
        .events()
        .filter(|e| {
            e.event_id == event_id
                || (matches!(e.change, Change::ProceduresMerged(_))
                    && e.change == target.change
                    && e.recorded_at == target.recorded_at
                    && e.effective_on == target.effective_on)
        })
        .collect();
    let without: HashSet<Uuid> = siblings.iter().map(|e| e.event_id).collect();
    let mut dependents = Vec::new();
    for sibling in &siblings {
        let recorded = effective_events(history.stream(&sibling.stream), &retracted, None);
        let before = replay(&sibling.stream, &recorded, None);
        let reduced = effective_events(history.stream(&sibling.stream), &retracted, Some(&without));
        let after = replay(&sibling.stream, &reduced, None);
        dependents.extend(after.broken.into_iter().filter(|a| !before.broken.iter().any(|b| b.seq == a.seq)));
    }
    if !dependents.is_empty() {
        return Err(Refusal::HasDependents(dedupe(dependents)));
    }
    Ok(siblings
        .iter()
        .map(|e| NewEvent {
            stream: e.stream.clone(),
            effective_on: command.effective_on,
            legal_basis: command.legal_basis.clone(),
            note: command.note.clone(),
            change: Change::EntryRetracted(crate::event::Retraction {
                event_id: e.event_id,
                reason: match &command.change {
                    Change::EntryRetracted(r) => r.reason.clone(),
                    _ => unreachable!("decide_retraction is called for retractions"),
                },
            }),
        })
        .collect())
}

fn dedupe(mut items: Vec<Affected>) -> Vec<Affected> {
    items.sort_by_key(|a| a.seq);
    items.dedup_by_key(|a| a.seq);
    items
}

/// Field rules that need more than one value to check.
fn check_fields(change: &Change) -> Result<(), Refusal> {
    let mut errors = Vec::new();
    match change {
        Change::ProcedureSimplified(s) => {
            if s.set.is_empty() {
                errors.push(FieldError::new("/set", "must change at least one attribute"));
            }
            for f in s.set.fields() {
                if !SIMPLIFIABLE.contains(&f) {
                    errors.push(FieldError::new(
                        format!("/set/{f}"),
                        format!("a simplification cannot change `{f}`; record an amendment instead"),
                    ));
                }
            }
        }
        Change::ProcedureAmended(a) if a.set.is_empty() => {
            errors.push(FieldError::new("/set", "must change at least one attribute"));
        }
        Change::EstimateRevised(r) => {
            let given = |e: &Option<crate::procedure::Estimates>| e.as_ref().is_some_and(|e| !e.is_empty());
            if !given(&r.baseline) && !given(&r.current) {
                errors.push(FieldError::new(
                    "/current",
                    "give at least one of annual_volume, applicant_hours, out_of_pocket_vnd in baseline or current",
                ));
            }
        }
        Change::ProceduresMerged(m) => {
            if m.sources.len() < 2 {
                errors.push(FieldError::new("/sources", "a merge needs at least two source procedures"));
            }
            for (i, code) in m.sources.iter().enumerate() {
                if m.sources[..i].contains(code) {
                    errors.push(FieldError::new(format!("/sources/{i}"), format!("{code} is listed twice")));
                }
            }
        }
        Change::ProgrammeDefined(p) if p.baseline_on >= p.deadline => {
            errors.push(FieldError::new("/deadline", "must be after baseline_on"));
        }
        _ => {}
    }
    if errors.is_empty() { Ok(()) } else { Err(Refusal::Invalid(errors)) }
}

/// One event in a replay: its place and its change.
struct Entry<'a> {
    key: (Date, u64),
    event_id: Uuid,
    change: &'a Change,
}

/// The events of a stream that count: not retractions, not retracted, not in `without`.
fn effective_events<'a>(
    events: impl IntoIterator<Item = &'a Event>,
    retracted: &HashSet<Uuid>,
    without: Option<&HashSet<Uuid>>,
) -> Vec<Entry<'a>> {
    events
        .into_iter()
        .filter(|e| !matches!(e.change, Change::EntryRetracted(_)))
        .filter(|e| !retracted.contains(&e.event_id) && without.is_none_or(|w| !w.contains(&e.event_id)))
        .map(|e| Entry { key: (e.effective_on, e.seq), event_id: e.event_id, change: &e.change })
        .collect()
}

#[derive(Default)]
struct Replay {
    /// Recorded events that break a rule in this replay, with the rule.
    broken: Vec<Affected>,
    /// The rule the new event breaks, if it does.
    new_event_broke: Option<RuleBroken>,
}

/// Replays a procedure stream in `(effective_on, seq)` order, the new event (if any) after every
/// recorded event of the same date. An event that breaks a rule is noted and skipped.
fn replay(stream: &StreamId, recorded: &[Entry<'_>], new: Option<&NewEvent>) -> Replay {
    let mut out = Replay::default();
    let Some(code) = stream.code() else {
        return out;
    };
    let mut entries: Vec<&Entry<'_>> = recorded.iter().collect();
    let new_entry = new.map(|n| Entry { key: (n.effective_on, u64::MAX), event_id: Uuid::nil(), change: &n.change });
    if let Some(e) = &new_entry {
        entries.push(e);
    }
    entries.sort_by_key(|e| e.key);
    let mut state = ProcedureState { status: Status::Unregistered, attributes: None };
    for entry in entries {
        match state.apply(code, entry.key.0, entry.change) {
            Ok(()) => {}
            Err(rule) if entry.key.1 == u64::MAX => out.new_event_broke = Some(rule),
            Err(rule) => out.broken.push(Affected {
                event_id: entry.event_id,
                seq: entry.key.1,
                event_type: entry.change.type_name(),
                effective_on: entry.key.0,
                rule,
            }),
        }
    }
    out
}

/// A procedure as the decider sees it while replaying its stream.
#[derive(Clone, Debug)]
pub struct ProcedureState {
    pub status: Status,
    pub attributes: Option<Procedure>,
}

impl ProcedureState {
    fn require_active(&self, code: &ProcedureCode, on: Date, action: &'static str) -> Result<&Procedure, RuleBroken> {
        match (&self.status, &self.attributes) {
            (Status::Active, Some(p)) => Ok(p),
            (Status::Unregistered, _) => Err(RuleBroken::NotRegistered { code: code.clone(), on }),
            (status, _) => Err(RuleBroken::NotActive { code: code.clone(), on, status: status.clone(), action }),
        }
    }

    /// Checks `change` against this state on `on` and applies it, as seen from the stream of `code`.
    fn apply(&mut self, code: &ProcedureCode, on: Date, change: &Change) -> Result<(), RuleBroken> {
        match change {
            Change::ProcedureRegistered(p) => {
                if self.status != Status::Unregistered {
                    return Err(RuleBroken::AlreadyRegistered { code: code.clone() });
                }
                self.status = Status::Active;
                self.attributes = Some(p.clone());
            }
            Change::ProcedureSimplified(s) => {
                let current = self.require_active(code, on, "simplified")?;
                if !s.set.differs_from(current) {
                    return Err(RuleBroken::NothingChanges { code: code.clone() });
                }
                let rises = s.set.burden_rises(current);
                if !rises.is_empty() {
                    return Err(RuleBroken::BurdenRises { code: code.clone(), rises });
                }
                // Changed in place: a replay copies a procedure only where one is registered or merged.
                if let Some(p) = self.attributes.as_mut() {
                    s.set.apply_to(p);
                }
            }
            Change::ProcedureAmended(a) => {
                self.require_active(code, on, "amended")?;
                if let Some(p) = self.attributes.as_mut() {
                    a.set.apply_to(p);
                }
            }
            Change::EstimateRevised(r) => {
                let Some(p) = self.attributes.as_mut() else {
                    return Err(RuleBroken::NotRegistered { code: code.clone(), on });
                };
                if let Some(current) = &r.current {
                    current.apply_to(p);
                }
            }
            Change::ProceduresMerged(m) => {
                if m.sources.contains(code) {
                    self.require_active(code, on, "merged")?;
                    if *code == m.into.code {
                        self.attributes = Some(m.into.clone());
                    } else {
                        self.status = Status::Merged { into: m.into.code.clone() };
                    }
                } else {
                    if self.status != Status::Unregistered {
                        return Err(RuleBroken::AlreadyRegistered { code: code.clone() });
                    }
                    self.status = Status::Active;
                    self.attributes = Some(m.into.clone());
                }
            }
            Change::ProcedureAbolished(_) => {
                self.require_active(code, on, "abolished")?;
                self.status = Status::Abolished;
            }
            Change::EntryRetracted(_) | Change::TariffSet(_) | Change::ProgrammeDefined(_) => {}
        }
        Ok(())
    }
}

/// A procedure's status and attributes on `as_of`, from its stream's recorded events.
pub fn procedure_state(stream: &StreamId, events: &[Event], as_of: Date) -> ProcedureState {
    let mut state = ProcedureState { status: Status::Unregistered, attributes: None };
    let Some(code) = stream.code() else {
        return state;
    };
    // Read in place: the retractions among all of `events`, the entries of `stream` alone.
    let retracted = retracted_by(events.iter());
    let ours = events.iter().filter(|e| e.stream == *stream && e.effective_on <= as_of);
    let mut entries = effective_events(ours, &retracted, None);
    entries.sort_by_key(|e| e.key);
    for e in entries {
        let _ = state.apply(code, e.key.0, e.change);
    }
    state
}

/// The agency that owns the procedure of `stream` once all of `events` apply (only that stream's,
/// retracted ones aside): what [`procedure_state`] at the stream's last date holds as its agency, found
/// without copying a procedure. Every write for a procedure asks it, to check who may write.
pub fn current_agency<'a>(stream: &StreamId, events: &'a [Event]) -> Option<&'a crate::value::Agency> {
    #[derive(PartialEq)]
    enum Is {
        Unregistered,
        Active,
        Gone,
    }
    let code = stream.code()?;
    let retracted = retracted_by(events.iter());
    let mut entries = effective_events(events.iter().filter(|e| e.stream == *stream), &retracted, None);
    entries.sort_by_key(|e| e.key);
    let (mut is, mut agency) = (Is::Unregistered, None);
    // The same transitions as `ProcedureState::apply`; a change refused there changes nothing here.
    for e in entries {
        match e.change {
            Change::ProcedureRegistered(p) if is == Is::Unregistered => (is, agency) = (Is::Active, Some(&p.agency)),
            Change::ProcedureAmended(a) if is == Is::Active => agency = a.set.agency.as_ref().or(agency),
            Change::ProceduresMerged(m) if m.sources.contains(code) && is == Is::Active => {
                if m.into.code == *code {
                    agency = Some(&m.into.agency);
                } else {
                    is = Is::Gone;
                }
            }
            Change::ProceduresMerged(m) if !m.sources.contains(code) && is == Is::Unregistered => {
                (is, agency) = (Is::Active, Some(&m.into.agency));
            }
            Change::ProcedureAbolished(_) if is == Is::Active => is = Is::Gone,
            _ => {}
        }
    }
    agency
}

/// The agencies a command touches, which a recorder's token must all name: the current agency of every
/// procedure whose stream it reads (`streams`, with their `history`) and every agency the command names
/// (a registration's, a merge's `into`, a changed `agency`). Settings touch none (they are admin-only).
pub fn agencies_touched(change: &Change, history: &History, streams: &[StreamId]) -> BTreeSet<crate::value::Agency> {
    let mut out: BTreeSet<crate::value::Agency> =
        streams.iter().filter_map(|s| current_agency(s, history.stream(s))).cloned().collect();
    match change {
        Change::ProcedureRegistered(p) => {
            out.insert(p.agency.clone());
        }
        Change::ProceduresMerged(m) => {
            out.insert(m.into.agency.clone());
        }
        Change::ProcedureSimplified(s) => out.extend(s.set.agency.iter().cloned()),
        Change::ProcedureAmended(a) => out.extend(a.set.agency.iter().cloned()),
        _ => {}
    }
    out
}
