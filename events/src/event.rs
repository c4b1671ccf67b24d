//! The event catalogue (schema version 1) and the envelope every recorded event carries.

use std::fmt;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::procedure::{Changes, Estimates, Procedure};
use crate::value::{Date, Fraction, LongText, Name, ProcedureCode, Tag, TariffApplicant, Timestamp, VndPerHour};

/// The schema version this build writes.
pub const SCHEMA_VERSION: u16 = 1;

/// The id the log gives the event at `seq` recorded at `at`: a UUID v7 whose 48-bit timestamp is `at` in
/// milliseconds, whose 12 `rand_a` bits are the sub-millisecond fraction (RFC 9562 §6.2, method 3) and
/// whose 62 `rand_b` bits hold the seq. So the id alone says where the event is, and a projection that
/// knows an event's seq and `recorded_at` need not keep its id.
pub fn derived_id(seq: u64, at: Timestamp) -> Uuid {
    let micros = u64::try_from(at.micros()).unwrap_or(0);
    let (millis, sub) = (micros / 1000, (micros % 1000) * 4096 / 1000);
    let mut b = [0u8; 16];
    b[..6].copy_from_slice(&millis.to_be_bytes()[2..]);
    b[6] = 0x70 | ((sub >> 8) as u8 & 0x0f);
    b[7] = sub as u8;
    b[8..].copy_from_slice(&((0b10 << 62) | (seq & ((1 << 62) - 1))).to_be_bytes());
    Uuid::from_bytes(b)
}

/// A stream: a procedure's (`procedure-{code}` in the log and on the wire) or `settings`.
///
/// Ordered as its names are (`procedure-…` before `settings`, procedures by code), and written as its
/// name in every encoding, so the stored format is the name's.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum StreamId {
    Procedure(ProcedureCode),
    Settings,
}

impl StreamId {
    pub const SETTINGS: &'static str = "settings";
    /// What a procedure stream's name starts with.
    pub const PROCEDURE_PREFIX: &'static str = "procedure-";

    pub fn procedure(code: &ProcedureCode) -> Self {
        Self::Procedure(code.clone())
    }

    pub fn settings() -> Self {
        Self::Settings
    }

    /// Parses a stream name as written in the log.
    pub fn parse(s: &str) -> Option<Self> {
        if s == Self::SETTINGS {
            return Some(Self::Settings);
        }
        let code = ProcedureCode::parse(s.strip_prefix(Self::PROCEDURE_PREFIX)?).ok()?;
        Some(Self::Procedure(code))
    }

    /// The procedure this stream belongs to, if it is a procedure's.
    pub fn code(&self) -> Option<&ProcedureCode> {
        match self {
            Self::Procedure(code) => Some(code),
            Self::Settings => None,
        }
    }

    /// The stream's name, as the log's keys and the wire write it.
    pub fn name(&self) -> String {
        self.to_string()
    }
}

impl fmt::Display for StreamId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Procedure(code) => write!(f, "{}{code}", Self::PROCEDURE_PREFIX),
            Self::Settings => f.write_str(Self::SETTINGS),
        }
    }
}

impl fmt::Debug for StreamId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "\"{self}\"")
    }
}

impl Serialize for StreamId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for StreamId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Name;
        impl serde::de::Visitor<'_> for Name {
            type Value = StreamId;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a stream name: procedure-{code} or settings")
            }

            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<StreamId, E> {
                StreamId::parse(v).ok_or_else(|| E::custom(format!("{v:?} is not a stream name")))
            }
        }
        d.deserialize_str(Name)
    }
}

/// `ProcedureSimplified`: burden attributes fall (and/or name, legal basis change).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Simplification {
    pub code: ProcedureCode,
    pub set: Changes,
    #[serde(default)]
    pub measures: Vec<Tag>,
}

/// `ProcedureAmended`: any attribute but the code changes; burden may rise.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Amendment {
    pub code: ProcedureCode,
    pub set: Changes,
}

/// `EstimateRevised`: a re-measurement of volumes, hours or out-of-pocket costs.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, PartialEq, Eq, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EstimateRevision {
    pub code: ProcedureCode,
    #[serde(default)]
    pub baseline: Option<Estimates>,
    #[serde(default)]
    pub current: Option<Estimates>,
}

serialize_leaving_out_absent!(EstimateRevision { code; baseline, current });

/// `ProceduresMerged`: two or more procedures become one.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Merger {
    pub sources: Vec<ProcedureCode>,
    pub into: Procedure,
}

/// `ProcedureAbolished`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Abolition {
    pub code: ProcedureCode,
    pub reason: LongText,
}

/// `EntryRetracted`: a recorded event is withdrawn as a mistake.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Retraction {
    pub event_id: Uuid,
    pub reason: LongText,
}

/// `TariffSet`: the value of an hour of an applicant's time, from `effective_on`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tariff {
    pub applicant: TariffApplicant,
    pub vnd_per_hour: VndPerHour,
}

/// Which procedures a programme covers, by their baseline attributes.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum Scope {
    All,
    Agency(String),
    Sector(String),
    Level(crate::value::Level),
}

impl Scope {
    pub const RULE: &'static str = "must be `all`, `agency:X`, `sector:Y` or `level:Z`";

    pub fn parse(s: &str) -> Result<Self, String> {
        if s == "all" {
            return Ok(Self::All);
        }
        let (kind, value) = s.split_once(':').ok_or(Self::RULE)?;
        let rule = |e: String| format!("{}: {e}", Self::RULE);
        if kind == "agency" {
            return crate::value::Agency::parse(value).map(|a| Self::Agency(a.as_str().to_owned())).map_err(rule);
        }
        let value = crate::value::Sector::parse(value).map_err(rule)?;
        match kind {
            "sector" => Ok(Self::Sector(value.as_str().to_owned())),
            "level" => serde_json::from_value(serde_json::Value::String(value.as_str().to_owned()))
                .map(Self::Level)
                .map_err(|_| "level must be central, province, district or commune".to_owned()),
            _ => Err(Self::RULE.to_owned()),
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::All => f.write_str("all"),
            Self::Agency(a) => write!(f, "agency:{a}"),
            Self::Sector(s) => write!(f, "sector:{s}"),
            Self::Level(l) => write!(f, "level:{}", l.as_str()),
        }
    }
}

impl Serialize for Scope {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Scope {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// `ProgrammeDefined`: a reform programme with its baseline, deadline and targets.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Programme {
    pub id: ProcedureCode,
    pub name: Name,
    pub baseline_on: Date,
    pub deadline: Date,
    pub cost_reduction: Fraction,
    pub time_reduction: Fraction,
    pub scope: Scope,
}

/// Declares the catalogue once: the `Change` enum (its variants named as the event types), the list of
/// type names, and the mappings between a change, its type name and its payload as JSON, so the nine
/// names stand in one place.
macro_rules! catalogue {
    ($($type:ident($payload:ty)),+ $(,)?) => {
        /// What happened: the event's type and its payload.
        ///
        /// The stored encoding names variants by position, so new variants go at the end, never between.
        #[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
        pub enum Change {
            $($type($payload)),+
        }

        /// The names of the event types, as they appear in `type`, in the catalogue's order.
        pub const EVENT_TYPES: &[&str] = &[$(stringify!($type)),+];

        impl Change {
            pub fn type_name(&self) -> &'static str {
                match self {
                    $(Self::$type(_) => stringify!($type)),+
                }
            }

            /// The payload as JSON: the type's fields.
            pub fn payload_json(&self) -> serde_json::Value {
                let v = match self {
                    $(Self::$type(p) => serde_json::to_value(p)),+
                };
                v.unwrap_or(serde_json::Value::Null)
            }

            /// Reads a payload of the named type from JSON.
            pub fn from_json(type_name: &str, payload: serde_json::Value) -> Result<Self, String> {
                match type_name {
                    $(stringify!($type) => serde_json::from_value(payload).map(Self::$type).map_err(|e| e.to_string()),)+
                    other => Err(format!("unknown event type `{other}`")),
                }
            }
        }
    };
}

catalogue! {
    ProcedureRegistered(Procedure),
    ProcedureSimplified(Simplification),
    ProcedureAmended(Amendment),
    EstimateRevised(EstimateRevision),
    ProceduresMerged(Merger),
    ProcedureAbolished(Abolition),
    EntryRetracted(Retraction),
    TariffSet(Tariff),
    ProgrammeDefined(Programme),
}

impl Change {
    /// The procedure code the NATS subject names: the procedure, a merge's `into`, or none for settings.
    pub fn subject_code(&self) -> Option<&ProcedureCode> {
        match self {
            Self::ProcedureRegistered(p) => Some(&p.code),
            Self::ProcedureSimplified(p) => Some(&p.code),
            Self::ProcedureAmended(p) => Some(&p.code),
            Self::EstimateRevised(p) => Some(&p.code),
            Self::ProceduresMerged(p) => Some(&p.into.code),
            Self::ProcedureAbolished(p) => Some(&p.code),
            Self::EntryRetracted(_) | Self::TariffSet(_) | Self::ProgrammeDefined(_) => None,
        }
    }
}

/// An event as the decider produces it, before the log gives it a place.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct NewEvent {
    pub stream: StreamId,
    pub effective_on: Date,
    pub legal_basis: LongText,
    pub note: LongText,
    pub change: Change,
}

/// A recorded event: the envelope and the change.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct Event {
    pub event_id: Uuid,
    pub seq: u64,
    pub stream: StreamId,
    pub version: u64,
    pub schema_version: u16,
    pub recorded_at: Timestamp,
    pub effective_on: Date,
    pub actor: String,
    pub command_id: Option<String>,
    pub legal_basis: LongText,
    pub note: LongText,
    pub change: Change,
}

impl Event {
    pub fn type_name(&self) -> &'static str {
        self.change.type_name()
    }

    /// The event as JSON: the envelope's fields at the top level, `type`, and `payload`.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "event_id": self.event_id,
            "seq": self.seq,
            "stream": self.stream.name(),
            "version": self.version,
            "type": self.type_name(),
            "schema_version": self.schema_version,
            "recorded_at": self.recorded_at.to_string(),
            "effective_on": self.effective_on.to_string(),
            "actor": self.actor,
            "command_id": self.command_id,
            "legal_basis": self.legal_basis.as_str(),
            "note": self.note.as_str(),
            "payload": self.change.payload_json(),
        })
    }
}
