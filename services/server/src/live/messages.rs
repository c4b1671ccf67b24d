//! What the live feed carries: for every event, one message with the event and the read-model rows it
//! changed as of today, written once as an SSE frame and shared by every subscriber and by NATS.

use std::collections::BTreeSet;

use events::value::ProcedureCode;
use events::{Change, Event};
use projections::{Changed, Group, GroupBy, ProcedureView, ProgrammeProgress};
use serde::Serialize;

use super::{Live, now};

/// One SSE message, prepared once for every subscriber.
#[derive(Debug)]
pub struct Message {
    pub seq: u64,
    pub event_type: &'static str,
    /// The whole SSE frame, `id: {seq}\nevent: {type}\ndata: {the event's JSON with changes}\n\n`, written
    /// once and shared by every subscriber's connection (the JSON is compact, so it is one `data` line).
    pub frame: bytes::Bytes,
    /// The read-model rows it changed (also what goes to NATS).
    pub rows: Vec<Row>,
}

/// A read-model row an event changed, as of today: `{"name", "key", "value"}` on the wire.
#[derive(Clone, Debug, Serialize)]
pub struct Row {
    pub name: RowName,
    /// The procedure's code, the group's key or the programme's id.
    pub key: String,
    pub value: RowValue,
}

/// Which read model a row belongs to: `procedure`, `reductions-{all|agency|sector|level}`, `programme`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RowName {
    Procedure,
    Reductions(GroupBy),
    Programme,
}

impl RowName {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Procedure => "procedure",
            Self::Reductions(GroupBy::All) => "reductions-all",
            Self::Reductions(GroupBy::Agency) => "reductions-agency",
            Self::Reductions(GroupBy::Sector) => "reductions-sector",
            Self::Reductions(GroupBy::Level) => "reductions-level",
            Self::Programme => "programme",
        }
    }
}

impl Serialize for RowName {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// A row's figures, as the API answers them for the same read model.
#[derive(Clone, Debug, Serialize)]
#[serde(untagged)]
pub enum RowValue {
    Procedure(Box<ProcedureView>),
    Group(Box<Group>),
    Programme(Box<ProgrammeProgress>),
}

/// The event's JSON with its rows beside the envelope: the `data` of an SSE frame.
#[derive(Serialize)]
struct FrameData<'a> {
    #[serde(flatten)]
    event: &'a serde_json::Value,
    changes: &'a [Row],
}

/// The codes an event is about.
fn codes_of(event: &Event) -> Vec<ProcedureCode> {
    match &event.change {
        Change::ProceduresMerged(m) => {
            let mut codes = m.sources.clone();
            if !codes.contains(&m.into.code) {
                codes.push(m.into.code.clone());
            }
            codes
        }
        other => other.subject_code().into_iter().cloned().collect(),
    }
}

impl Live {
    /// The message of one event: the event and the rows it changed, as of today. For an event read back
    /// from the log (a subscriber catching up) the rows are today's, of the groups its procedures are in.
    pub fn message(&self, event: &Event) -> Message {
        self.message_with(event, None)
    }

    /// The message of one event, with the figures it `changed` if it has just been applied.
    pub(super) fn message_with(&self, event: &Event, changed: Option<&Changed>) -> Message {
        let at = now();
        let projection = self.projection.read().unwrap_or_else(|p| p.into_inner());
        let figures = self.figures_today(&projection);
        let mut rows = Vec::new();
        let mut keys: BTreeSet<(GroupBy, String)> = BTreeSet::new();
        let everything = matches!(event.change, Change::TariffSet(_) | Change::EntryRetracted(_));
        for code in codes_of(event) {
            let Ok(view) = projection.procedure(code.as_str(), at, None) else { continue };
            keys.insert((GroupBy::All, "all".into()));
            for p in view.baseline.iter().chain(std::iter::once(&view.current)) {
                keys.insert((GroupBy::Agency, p.agency.as_str().to_owned()));
                keys.insert((GroupBy::Sector, p.sector.as_str().to_owned()));
                keys.insert((GroupBy::Level, p.level.as_str().to_owned()));
            }
            let value = RowValue::Procedure(Box::new(view));
            rows.push(Row { name: RowName::Procedure, key: code.as_str().to_owned(), value });
        }
        let touched_groups = !keys.is_empty();
        keys.extend(changed.iter().flat_map(|c| c.groups.iter().cloned()));
        let known = at.known_at;
        let group_row = |by, g: Group| Row {
            name: RowName::Reductions(by),
            key: g.key.clone(),
            value: RowValue::Group(Box::new(g)),
        };
        if everything {
            for by in [GroupBy::All, GroupBy::Agency, GroupBy::Sector, GroupBy::Level] {
                rows.extend(figures.reductions(&projection, by, known).groups.into_iter().map(|g| group_row(by, g)));
            }
        } else {
            for (by, key) in &keys {
                rows.extend(figures.group(&projection, *by, key).map(|g| group_row(*by, g)));
            }
        }
        let every_programme =
            everything || matches!(event.change, Change::ProgrammeDefined(_)) || (changed.is_none() && touched_groups);
        let moved = |id: &str| every_programme || changed.is_some_and(|c| c.programmes.iter().any(|p| p == id));
        for p in figures.programmes(&projection, known).into_iter().filter(|p| moved(p.id.as_str())) {
            let key = p.id.as_str().to_owned();
            rows.push(Row { name: RowName::Programme, key, value: RowValue::Programme(Box::new(p)) });
        }
        drop(figures);
        drop(projection);
        let event_json = event.to_json();
        let data = serde_json::to_string(&FrameData { event: &event_json, changes: &rows }).unwrap_or_else(|e| {
            tracing::error!(seq = event.seq, error = %e, "cannot write an event's rows; the frame carries the event alone");
            event_json.to_string()
        });
        let frame = format!("id: {}\nevent: {}\ndata: {data}\n\n", event.seq, event.type_name());
        Message { seq: event.seq, event_type: event.type_name(), frame: frame.into(), rows }
    }
}
