//! The stored encoding of events, and the reading of older schema versions (upcasting).
//!
//! A stored event is one format byte and a body:
//! - `0x01`: schema version 1 as postcard (compact binary, field order of [`Event`]); written by this build.
//! - `{` (a JSON document): any schema version as the event's JSON; version 0 is upcast on read.
//!
//! JSON stays the language of export and of people; the binary form is what replays fast.

use serde_json::{Map, Value};

use crate::event::{Change, Event, SCHEMA_VERSION, StreamId};
use crate::procedure::{Changes, Estimates};
use crate::value::{Date, LongText, Timestamp};

/// The format byte of postcard-encoded schema-1 events.
pub const FORMAT_POSTCARD_V1: u8 = 0x01;

/// Why stored bytes could not be read as an event.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    #[error("empty record")]
    Empty,
    #[error("unknown format byte {0:#04x}")]
    UnknownFormat(u8),
    #[error("corrupt binary event: {0}")]
    Binary(String),
    #[error("bad JSON event: {0}")]
    Json(String),
    #[error("schema version {0} is newer than this build reads ({SCHEMA_VERSION})")]
    FutureSchema(u64),
}

/// Encodes an event in the current stored format.
pub fn encode(event: &Event) -> Vec<u8> {
    let mut out = Vec::with_capacity(256);
    out.push(FORMAT_POSTCARD_V1);
    // Serialising plain data into a Vec cannot fail.
    postcard::to_io(event, &mut out).expect("postcard encoding into a Vec");
    out
}

/// Decodes stored bytes of any supported format and schema version.
pub fn decode(bytes: &[u8]) -> Result<Event, DecodeError> {
    match bytes.first() {
        None => Err(DecodeError::Empty),
        Some(&FORMAT_POSTCARD_V1) => postcard::from_bytes(&bytes[1..]).map_err(|e| DecodeError::Binary(e.to_string())),
        Some(b'{') => {
            let value: Value = serde_json::from_slice(bytes).map_err(|e| DecodeError::Json(e.to_string()))?;
            from_json(value)
        }
        Some(&b) => Err(DecodeError::UnknownFormat(b)),
    }
}

/// A schema-1 binary event in the stored field order of [`Event`], for the decodings that skip its prose:
/// that is borrowed from the stored bytes as bytes, neither copied nor checked as UTF-8 (postcard writes
/// a string as its length and bytes, which is what bytes read). The stream and the change are read as
/// the caller asks.
#[derive(serde::Deserialize)]
#[serde(bound(deserialize = "S: serde::Deserialize<'de>, C: serde::Deserialize<'de>"))]
struct Stored<'a, S, C> {
    event_id: uuid::Uuid,
    seq: u64,
    stream: S,
    version: u64,
    schema_version: u16,
    recorded_at: Timestamp,
    effective_on: Date,
    #[serde(borrow)]
    _actor: &'a [u8],
    #[serde(borrow)]
    _command_id: Option<&'a [u8]>,
    #[serde(borrow)]
    _legal_basis: &'a [u8],
    #[serde(borrow)]
    _note: &'a [u8],
    change: C,
}

/// Decodes stored bytes for a fold that never reads an envelope's prose: like [`decode`], but `actor`,
/// `command_id`, `legal_basis` and `note` come back empty. Those are a binary event's only strings besides
/// its stream and payload, so a rebuild decoding millions of events skips two allocations (and their
/// frees) per event. JSON events are decoded whole.
pub fn decode_for_projection(bytes: &[u8]) -> Result<Event, DecodeError> {
    match bytes.first() {
        Some(&FORMAT_POSTCARD_V1) => {
            let e: Stored<'_, StreamId, Change> =
                postcard::from_bytes(&bytes[1..]).map_err(|e| DecodeError::Binary(e.to_string()))?;
            Ok(Event {
                event_id: e.event_id,
                seq: e.seq,
                stream: e.stream,
                version: e.version,
                schema_version: e.schema_version,
                recorded_at: e.recorded_at,
                effective_on: e.effective_on,
                actor: String::new(),
                command_id: None,
                legal_basis: LongText::default(),
                note: LongText::default(),
                change: e.change,
            })
        }
        _ => decode(bytes),
    }
}

/// A stored binary event as a bulk fold first reads it: the envelope's numbers, the stream borrowed from
/// the stored bytes, and the change — without allocating for the simplifications, amendments and estimate
/// revisions that are nearly all of a log (their code is skipped: the stream names it).
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Glance<'a> {
    pub event_id: uuid::Uuid,
    pub seq: u64,
    pub stream: &'a str,
    pub recorded_at: Timestamp,
    pub effective_on: Date,
    pub change: GlancedChange,
}

/// The change of a [`Glance`].
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum GlancedChange {
    Simplified(Changes),
    Amended(Changes),
    EstimateRevised {
        baseline: Option<Estimates>,
        current: Option<Estimates>,
    },
    /// Any other type, whole.
    Other(Box<Change>),
}

/// Reads a stored event at a glance; `Ok(None)` for an event stored as JSON, which only [`decode`] (or
/// [`decode_for_projection`]) reads.
pub fn glance(bytes: &[u8]) -> Result<Option<Glance<'_>>, DecodeError> {
    use crate::event::{Abolition, Merger, Programme, Retraction, Tariff};
    use serde::Deserialize;

    /// `Change` in the stored variant order.
    #[derive(Deserialize)]
    enum StoredChange<'a> {
        ProcedureRegistered(crate::Procedure),
        ProcedureSimplified(#[serde(borrow)] StoredSimplification<'a>),
        ProcedureAmended(#[serde(borrow)] StoredAmendment<'a>),
        EstimateRevised(#[serde(borrow)] StoredRevision<'a>),
        ProceduresMerged(Merger),
        ProcedureAbolished(Abolition),
        EntryRetracted(Retraction),
        TariffSet(Tariff),
        ProgrammeDefined(Programme),
    }

    #[derive(Deserialize)]
    struct StoredSimplification<'a> {
        #[serde(borrow)]
        _code: &'a [u8],
        set: Changes,
        #[serde(borrow)]
        _measures: Vec<&'a [u8]>,
    }

    #[derive(Deserialize)]
    struct StoredAmendment<'a> {
        #[serde(borrow)]
        _code: &'a [u8],
        set: Changes,
    }

    #[derive(Deserialize)]
    struct StoredRevision<'a> {
        #[serde(borrow)]
        _code: &'a [u8],
        baseline: Option<Estimates>,
        current: Option<Estimates>,
    }

    match bytes.first() {
        Some(&FORMAT_POSTCARD_V1) => {
            let e: Stored<'_, &str, StoredChange<'_>> =
                postcard::from_bytes(&bytes[1..]).map_err(|e| DecodeError::Binary(e.to_string()))?;
            let other = |c: Change| GlancedChange::Other(Box::new(c));
            let change = match e.change {
                StoredChange::ProcedureSimplified(s) => GlancedChange::Simplified(s.set),
                StoredChange::ProcedureAmended(a) => GlancedChange::Amended(a.set),
                StoredChange::EstimateRevised(r) => {
                    GlancedChange::EstimateRevised { baseline: r.baseline, current: r.current }
                }
                StoredChange::ProcedureRegistered(p) => other(Change::ProcedureRegistered(p)),
                StoredChange::ProceduresMerged(m) => other(Change::ProceduresMerged(m)),
                StoredChange::ProcedureAbolished(a) => other(Change::ProcedureAbolished(a)),
                StoredChange::EntryRetracted(r) => other(Change::EntryRetracted(r)),
                StoredChange::TariffSet(t) => other(Change::TariffSet(t)),
                StoredChange::ProgrammeDefined(p) => other(Change::ProgrammeDefined(p)),
            };
            Ok(Some(Glance {
                event_id: e.event_id,
                seq: e.seq,
                stream: e.stream,
                recorded_at: e.recorded_at,
                effective_on: e.effective_on,
                change,
            }))
        }
        Some(_) => Ok(None),
        None => Err(DecodeError::Empty),
    }
}

/// Reads an event from its JSON form, upcasting older schema versions to the current one.
pub fn from_json(value: Value) -> Result<Event, DecodeError> {
    let Value::Object(mut obj) = value else {
        return Err(DecodeError::Json("not an object".into()));
    };
    let version = obj.get("schema_version").and_then(Value::as_u64).unwrap_or(0);
    match version {
        0 => upcast_v0(&mut obj)?,
        1 => {}
        v => return Err(DecodeError::FutureSchema(v)),
    }
    read_v1(obj)
}

fn field<'a>(obj: &'a Map<String, Value>, name: &str) -> Result<&'a Value, DecodeError> {
    obj.get(name).ok_or_else(|| DecodeError::Json(format!("missing `{name}`")))
}

fn str_field<'a>(obj: &'a Map<String, Value>, name: &str) -> Result<&'a str, DecodeError> {
    field(obj, name)?.as_str().ok_or_else(|| DecodeError::Json(format!("`{name}` is not a string")))
}

fn u64_field(obj: &Map<String, Value>, name: &str) -> Result<u64, DecodeError> {
    field(obj, name)?.as_u64().ok_or_else(|| DecodeError::Json(format!("`{name}` is not a whole number")))
}

fn text(obj: &Map<String, Value>, name: &str) -> Result<LongText, DecodeError> {
    match obj.get(name) {
        None | Some(Value::Null) => Ok(LongText::default()),
        Some(Value::String(v)) => LongText::parse(v).map_err(|e| DecodeError::Json(format!("`{name}` {e}"))),
        Some(_) => Err(DecodeError::Json(format!("`{name}` is not a string"))),
    }
}

fn read_v1(obj: Map<String, Value>) -> Result<Event, DecodeError> {
    let bad = |name: &str, e: String| DecodeError::Json(format!("`{name}` {e}"));
    let type_name = str_field(&obj, "type")?;
    let payload = field(&obj, "payload")?.clone();
    Ok(Event {
        event_id: str_field(&obj, "event_id")?.parse().map_err(|e: uuid::Error| bad("event_id", e.to_string()))?,
        seq: u64_field(&obj, "seq")?,
        stream: StreamId::parse(str_field(&obj, "stream")?).ok_or_else(|| bad("stream", "is not a stream".into()))?,
        version: u64_field(&obj, "version")?,
        schema_version: SCHEMA_VERSION,
        recorded_at: Timestamp::parse(str_field(&obj, "recorded_at")?).map_err(|e| bad("recorded_at", e))?,
        effective_on: Date::parse(str_field(&obj, "effective_on")?).map_err(|e| bad("effective_on", e))?,
        actor: str_field(&obj, "actor")?.to_owned(),
        command_id: obj.get("command_id").and_then(Value::as_str).map(str::to_owned),
        legal_basis: text(&obj, "legal_basis")?,
        note: text(&obj, "note")?,
        change: Change::from_json(type_name, payload).map_err(|e| bad("payload", e))?,
    })
}

/// Schema version 0 (never shipped; kept as a fixture to prove upcasting). It differed from version 1:
/// - the envelope said `occurred_on` for `effective_on`, and had no `legal_basis` or `note`: the legal
///   basis travelled in the payload as `legal_ref`;
/// - procedures said `processing_time_days` for `processing_days`, listed `documents` as bare names
///   (one copy each) and `online` as a boolean (true meant `full`);
/// - simplifications and amendments said `changes` for `set`.
fn upcast_v0(obj: &mut Map<String, Value>) -> Result<(), DecodeError> {
    if let Some(d) = obj.remove("occurred_on") {
        obj.insert("effective_on".into(), d);
    }
    let payload = obj.get_mut("payload").and_then(Value::as_object_mut);
    let Some(payload) = payload else {
        return Err(DecodeError::Json("missing `payload`".into()));
    };
    let legal = payload.remove("legal_ref").unwrap_or(Value::String(String::new()));
    if let Some(changes) = payload.remove("changes") {
        payload.insert("set".into(), changes);
    }
    let type_name = obj.get("type").and_then(Value::as_str).unwrap_or_default().to_owned();
    let payload = obj.get_mut("payload").and_then(Value::as_object_mut).expect("checked above");
    match type_name.as_str() {
        "ProcedureRegistered" => upcast_procedure_v0(payload, Some(&legal)),
        "ProceduresMerged" => {
            if let Some(into) = payload.get_mut("into").and_then(Value::as_object_mut) {
                upcast_procedure_v0(into, Some(&legal));
            }
        }
        "ProcedureSimplified" | "ProcedureAmended" => {
            if let Some(set) = payload.get_mut("set").and_then(Value::as_object_mut) {
                upcast_procedure_v0(set, None);
            }
        }
        _ => {}
    }
    obj.insert("legal_basis".into(), legal);
    obj.entry("note").or_insert(Value::String(String::new()));
    obj.insert("schema_version".into(), Value::from(SCHEMA_VERSION));
    Ok(())
}

fn upcast_procedure_v0(p: &mut Map<String, Value>, legal: Option<&Value>) {
    if let Some(days) = p.remove("processing_time_days") {
        p.insert("processing_days".into(), days);
    }
    if let Some(Value::Array(docs)) = p.get_mut("documents") {
        for d in docs.iter_mut() {
            if let Value::String(name) = d {
                *d = serde_json::json!({ "name": name, "copies": 1 });
            }
        }
    }
    if let Some(Value::Bool(online)) = p.get("online") {
        let level = if *online { "full" } else { "none" };
        p.insert("online".into(), Value::String(level.into()));
    }
    if let Some(legal) = legal {
        p.entry("legal_basis").or_insert_with(|| legal.clone());
    }
}
