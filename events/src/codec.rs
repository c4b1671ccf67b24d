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
/// [`decode_for_projection`]) reads. The fast path ([`glance_plain`]) first, then serde. Inline, so that
/// a caller in another crate (a rebuild's decoders) gets the fast path's answer built in place.
#[inline]
pub fn glance(bytes: &[u8]) -> Result<Option<Glance<'_>>, DecodeError> {
    match glance_plain(bytes) {
        Some(glance) => Ok(Some(glance)),
        None => glance_through_serde(bytes),
    }
}

/// [`glance`] through serde alone, for what [`glance_plain`] does not read.
fn glance_through_serde(bytes: &[u8]) -> Result<Option<Glance<'_>>, DecodeError> {
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

/// The fast path of [`glance`], read by hand from postcard's bytes without serde: a simplification or
/// amendment that sets only numbers and categories (no name, sector, agency, documents or legal basis),
/// or an estimate revision — nearly every event of a long log. `None` for anything else, including bytes
/// it does not read to their exact end; `glance` then reads them through serde, which also reports what is
/// wrong with bytes that are. For the bytes it reads, the answer is exactly `glance`'s through serde (a
/// property test says so).
///
/// postcard writes unsigned integers as LEB128 varints, signed ones zigzagged first, strings and byte
/// strings as a varint length and the bytes, an `Option` as a 0 or 1 byte before the value, an enum's
/// variant as a varint index, a struct's fields in order; `uuid` writes its 16 bytes as a byte string.
#[inline]
pub fn glance_plain(bytes: &[u8]) -> Option<Glance<'_>> {
    use crate::value::{AnnualVolume, Applicant, Hours, Level, Online, Steps, Vnd, WorkingDays};

    let (&format, body) = bytes.split_first()?;
    if format != FORMAT_POSTCARD_V1 {
        return None;
    }
    let mut r = Reader { bytes: body };
    let event_id = uuid::Uuid::from_slice(r.bytes()?).ok()?;
    let seq = r.varint()?;
    let stream = std::str::from_utf8(r.bytes()?).ok()?;
    let _version = r.varint()?;
    let _schema_version = u16::try_from(r.varint()?).ok()?;
    let recorded_at = Timestamp::from_micros(r.zigzag()?);
    let effective_on = Date::from_inner(time::Date::from_julian_day(i32::try_from(r.zigzag()?).ok()?).ok()?);
    // The prose: actor, command id, legal basis, note.
    r.bytes()?;
    r.option(Reader::bytes)?;
    r.bytes()?;
    r.bytes()?;
    let variant = r.varint()?;
    let volume = |r: &mut Reader<'_>| AnnualVolume::new(r.varint()?).ok();
    let hours = |r: &mut Reader<'_>| Hours::from_hundredths(r.varint()?).ok();
    let vnd = |r: &mut Reader<'_>| Vnd::new(r.varint()?).ok();
    let estimates = |r: &mut Reader<'_>| -> Option<Estimates> {
        Some(Estimates {
            annual_volume: r.option(volume)?,
            applicant_hours: r.option(hours)?,
            out_of_pocket_vnd: r.option(vnd)?,
        })
    };
    let change = match variant {
        1 | 2 => {
            r.bytes()?; // The code: the stream names it.
            // Name, sector, agency: text, left to serde.
            for _ in 0..3 {
                r.absent()?;
            }
            let levels = [Level::Central, Level::Province, Level::District, Level::Commune];
            let level = r.option(|r| levels.get(r.index()?).copied())?;
            let applicants = [Applicant::Citizen, Applicant::Business, Applicant::Both];
            let applicant = r.option(|r| applicants.get(r.index()?).copied())?;
            let processing_days = r.option(|r| WorkingDays::from_hundredths(r.varint()?).ok())?;
            let steps = r.option(|r| Steps::new(r.varint()?).ok())?;
            r.absent()?; // Documents.
            let fee_vnd = r.option(vnd)?;
            let out_of_pocket_vnd = r.option(vnd)?;
            let applicant_hours = r.option(hours)?;
            let annual_volume = r.option(volume)?;
            let onlines = [Online::None, Online::Partial, Online::Full];
            let online = r.option(|r| onlines.get(r.index()?).copied())?;
            r.absent()?; // Legal basis.
            let set = Changes {
                level,
                applicant,
                processing_days,
                steps,
                fee_vnd,
                out_of_pocket_vnd,
                applicant_hours,
                annual_volume,
                online,
                ..Changes::default()
            };
            if variant == 1 {
                // The measures: tags the projections never read.
                for _ in 0..r.varint()? {
                    r.bytes()?;
                }
                GlancedChange::Simplified(set)
            } else {
                GlancedChange::Amended(set)
            }
        }
        3 => {
            r.bytes()?; // The code.
            let baseline = r.option(estimates)?;
            let current = r.option(estimates)?;
            GlancedChange::EstimateRevised { baseline, current }
        }
        _ => return None,
    };
    r.bytes.is_empty().then_some(Glance { event_id, seq, stream, recorded_at, effective_on, change })
}

/// postcard's bytes, read from the front; every read is `None` past the end or on a malformed value.
struct Reader<'a> {
    bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    #[inline]
    fn byte(&mut self) -> Option<u8> {
        let (&b, rest) = self.bytes.split_first()?;
        self.bytes = rest;
        Some(b)
    }

    /// An unsigned LEB128 varint of at most ten bytes (a `u64`).
    #[inline]
    fn varint(&mut self) -> Option<u64> {
        let mut n = 0u64;
        for i in 0..10 {
            let b = self.byte()?;
            if i == 9 && b > 1 {
                return None; // Bits past the 64th.
            }
            n |= u64::from(b & 0x7f) << (7 * i);
            if b & 0x80 == 0 {
                return Some(n);
            }
        }
        None
    }

    /// A zigzagged signed varint.
    #[inline]
    fn zigzag(&mut self) -> Option<i64> {
        let n = self.varint()?;
        Some((n >> 1) as i64 ^ -((n & 1) as i64))
    }

    /// An enum's variant index.
    #[inline]
    fn index(&mut self) -> Option<usize> {
        usize::try_from(self.varint()?).ok()
    }

    /// A string or byte string: its length, then its bytes.
    #[inline]
    fn bytes(&mut self) -> Option<&'a [u8]> {
        let n = usize::try_from(self.varint()?).ok()?;
        let (taken, rest) = self.bytes.split_at_checked(n)?;
        self.bytes = rest;
        Some(taken)
    }

    /// An `Option`: `Some(None)` for absent, `Some(Some(v))` for present, `None` if unreadable.
    #[inline]
    fn option<T>(&mut self, read: impl FnOnce(&mut Self) -> Option<T>) -> Option<Option<T>> {
        match self.byte()? {
            0 => Some(None),
            1 => read(self).map(Some),
            _ => None,
        }
    }

    /// An `Option` that must be absent: `None` if it is present (or unreadable).
    #[inline]
    fn absent(&mut self) -> Option<()> {
        (self.byte()? == 0).then_some(())
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

#[cfg(test)]
mod tests {
    use super::Reader;

    #[test]
    fn the_hand_reader_reads_postcard_varints_and_zigzags() {
        let read = |bytes: &[u8]| {
            let mut r = Reader { bytes };
            (r.zigzag(), r.bytes.len())
        };
        assert_eq!(read(&[0x00]), (Some(0), 0));
        assert_eq!(read(&[0x01]), (Some(-1), 0));
        assert_eq!(read(&[0x02]), (Some(1), 0));
        assert_eq!(read(&[0x03, 0x7f]), (Some(-2), 1));
        assert_eq!(read(&[0xff, 0x01]), (Some(-128), 0));
        assert_eq!(read(&[0x80]), (None, 0), "a varint cut short");
        let mut r = Reader { bytes: &[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01] };
        assert_eq!(r.varint(), Some(u64::MAX));
        let mut r = Reader { bytes: &[0xff; 11] };
        assert_eq!(r.varint(), None, "longer than a u64");
        let mut r = Reader { bytes: &[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02] };
        assert_eq!(r.varint(), None, "past the 64th bit");
    }
}
