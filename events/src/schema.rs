//! JSON Schemas of the domain's values and events for the server's OpenAPI document (feature `openapi`).
//!
//! The value types serialise by hand (numbers as JSON numbers, dates as strings), so their schemas are
//! written here, beside the rules they state; the structs made of them derive theirs. Each value is one
//! named component, so the document states each rule once.

use std::borrow::Cow;

use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{AnyOfBuilder, KnownFormat, ObjectBuilder, Schema, SchemaFormat, SchemaType, Type};
use utoipa::{PartialSchema, ToSchema};

use crate::event::{
    Abolition, Amendment, EVENT_TYPES, EstimateRevision, Event, Merger, Programme, Retraction, SCHEMA_VERSION, Scope,
    Simplification, StreamId, Tariff,
};
use crate::procedure::Procedure;
use crate::value::{Date, Fraction, Hundredths, Int, ProcedureCode, Text, Timestamp};

/// One character of stored text: anything but a control character, tab, line feed and carriage return
/// excepted (the rule of [`Text::parse`]).
pub const TEXT_CHAR: &str = r"[^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]";

/// The pattern of a procedure code and a programme id.
pub const CODE_PATTERN: &str = "^[A-Za-z0-9._-]{1,64}$";

fn string(description: &str) -> ObjectBuilder {
    ObjectBuilder::new().schema_type(Type::String).description(Some(description))
}

fn formatted(format: KnownFormat, description: &str) -> RefOr<Schema> {
    string(description).format(Some(SchemaFormat::KnownFormat(format))).into()
}

fn reference<T: ToSchema>() -> RefOr<Schema> {
    RefOr::Ref(utoipa::openapi::Ref::from_schema_name(T::name()))
}

impl PartialSchema for ProcedureCode {
    fn schema() -> RefOr<Schema> {
        string(
            "A procedure's code (mã TTHC, e.g. `1.004227`), also a programme's id: 1–64 characters from \
             `A–Z a–z 0–9 . - _`; never reused.",
        )
        .min_length(Some(1))
        .max_length(Some(64))
        .pattern(Some(CODE_PATTERN))
        .into()
    }
}

impl ToSchema for ProcedureCode {}

impl<const MIN: usize, const MAX: usize> PartialSchema for Text<MIN, MAX> {
    fn schema() -> RefOr<Schema> {
        let what = match (MIN, MAX) {
            (1, 500) => "A name (of a procedure, a document, a programme)",
            (1, 64) => "An agency (cơ quan thực hiện)",
            (1, 200) => "A sector (lĩnh vực) or a short tag such as a simplification measure",
            (0, 2000) => "A legal basis (căn cứ pháp lý), a note or a reason",
            _ => "Text",
        };
        string(&format!(
            "{what}: {MIN}–{MAX} characters, counted after NFC normalisation (it is stored NFC); no control \
             characters but tab and line breaks."
        ))
        .min_length(Some(MIN))
        .max_length(Some(MAX))
        .pattern(Some(format!("^{TEXT_CHAR}*$")))
        .into()
    }
}

impl<const MIN: usize, const MAX: usize> ToSchema for Text<MIN, MAX> {
    fn name() -> Cow<'static, str> {
        match (MIN, MAX) {
            (1, 500) => "Name".into(),
            (1, 64) => "Agency".into(),
            (1, 200) => "ShortText".into(),
            (0, 2000) => "LongText".into(),
            _ => format!("Text{MIN}to{MAX}").into(),
        }
    }
}

impl<const MIN: u64, const MAX: u64> PartialSchema for Int<MIN, MAX> {
    fn schema() -> RefOr<Schema> {
        let what = match (MIN, MAX) {
            (0, 1_000_000_000) => "An amount in đồng per filing (fee, out-of-pocket cost)",
            (1, 1000) => "The number of steps of a procedure (trình tự thực hiện)",
            (1, 100) => "Copies of a document",
            (0, 100_000_000) => "Filings per year",
            (1, 10_000_000) => "A tariff: đồng per hour of an applicant's time",
            _ => "A whole number",
        };
        ObjectBuilder::new()
            .schema_type(Type::Integer)
            .description(Some(format!("{what}, from {MIN} to {MAX}.")))
            .minimum(Some(MIN as usize))
            .maximum(Some(MAX as usize))
            .into()
    }
}

impl<const MIN: u64, const MAX: u64> ToSchema for Int<MIN, MAX> {
    fn name() -> Cow<'static, str> {
        match (MIN, MAX) {
            (0, 1_000_000_000) => "Vnd".into(),
            (1, 1000) => "Steps".into(),
            (1, 100) => "Copies".into(),
            (0, 100_000_000) => "AnnualVolume".into(),
            (1, 10_000_000) => "VndPerHour".into(),
            _ => format!("Int{MIN}to{MAX}").into(),
        }
    }
}

impl<const MAX: u64> PartialSchema for Hundredths<MAX> {
    fn schema() -> RefOr<Schema> {
        let what = match MAX {
            3650 => "Processing time (thời hạn giải quyết) in working days",
            10_000 => "Hours an applicant spends per filing (preparing, travelling, waiting)",
            _ => "A decimal",
        };
        // Exact in decimal; a validator that divides binary floats may take 0.57 for no multiple of 0.01.
        ObjectBuilder::new()
            .schema_type(Type::Number)
            .description(Some(format!("{what}: from 0 to {MAX}, at most 2 decimals (held exactly).")))
            .minimum(Some(0))
            .maximum(Some(MAX as usize))
            .multiple_of(Some(0.01))
            .into()
    }
}

impl<const MAX: u64> ToSchema for Hundredths<MAX> {
    fn name() -> Cow<'static, str> {
        match MAX {
            3650 => "WorkingDays".into(),
            10_000 => "Hours".into(),
            _ => format!("Hundredths{MAX}").into(),
        }
    }
}

impl PartialSchema for Fraction {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::Number)
            .description(Some("A target as a fraction greater than 0 and at most 1 (e.g. 0.3), held exactly."))
            .exclusive_minimum(Some(0))
            .maximum(Some(1))
            .into()
    }
}

impl ToSchema for Fraction {}

impl PartialSchema for Date {
    fn schema() -> RefOr<Schema> {
        formatted(KnownFormat::Date, "A calendar date, `YYYY-MM-DD`.")
    }
}

impl ToSchema for Date {}

impl PartialSchema for Timestamp {
    fn schema() -> RefOr<Schema> {
        formatted(KnownFormat::DateTime, "A transaction time: RFC 3339 in UTC with microseconds.")
    }
}

impl ToSchema for Timestamp {}

impl PartialSchema for Scope {
    fn schema() -> RefOr<Schema> {
        let pattern = format!(
            "^(all|agency:{TEXT_CHAR}{{1,64}}|sector:{TEXT_CHAR}{{1,200}}|level:(central|province|district|commune))$"
        );
        string(
            "The roots a programme covers, by their baseline attributes: `all`, `agency:X`, `sector:Y` or `level:Z`.",
        )
        .pattern(Some(pattern))
        .into()
    }
}

impl ToSchema for Scope {}

impl PartialSchema for StreamId {
    fn schema() -> RefOr<Schema> {
        string("A stream: `procedure-{code}` or `settings`.")
            .pattern(Some("^(settings|procedure-[A-Za-z0-9._-]{1,64})$"))
            .into()
    }
}

impl ToSchema for StreamId {}

/// The `type` of an event: one of [`EVENT_TYPES`].
#[derive(Debug)]
pub struct EventType;

impl PartialSchema for EventType {
    fn schema() -> RefOr<Schema> {
        string("The event's type.").enum_values(Some(EVENT_TYPES.iter().copied())).into()
    }
}

impl ToSchema for EventType {}

/// The payload of an event type, by the name it has in `type`; `None` for a name not in [`EVENT_TYPES`].
pub fn payload_schema_name(event_type: &str) -> Option<Cow<'static, str>> {
    Some(match event_type {
        "ProcedureRegistered" => Procedure::name(),
        "ProcedureSimplified" => Simplification::name(),
        "ProcedureAmended" => Amendment::name(),
        "EstimateRevised" => EstimateRevision::name(),
        "ProceduresMerged" => Merger::name(),
        "ProcedureAbolished" => Abolition::name(),
        "EntryRetracted" => Retraction::name(),
        "TariffSet" => Tariff::name(),
        "ProgrammeDefined" => Programme::name(),
        _ => return None,
    })
}

/// An event as [`Event::to_json`] writes it: the envelope's fields, `type`, and `payload`.
impl PartialSchema for Event {
    fn schema() -> RefOr<Schema> {
        let natural = |description: &str| {
            ObjectBuilder::new().schema_type(Type::Integer).minimum(Some(1)).description(Some(description))
        };
        let payloads = EVENT_TYPES
            .iter()
            .filter_map(|t| payload_schema_name(t))
            .fold(AnyOfBuilder::new(), |any, name| any.item(RefOr::Ref(utoipa::openapi::Ref::from_schema_name(name))))
            .description(Some("The type's fields (the schema named after the type's payload)."));
        let envelope: [(&str, RefOr<Schema>); 13] = [
            ("event_id", formatted(KnownFormat::Uuid, "UUID v7; its timestamp is `recorded_at`.")),
            ("seq", natural("Global position in the log, gap-free from 1.").into()),
            ("stream", reference::<StreamId>()),
            ("version", natural("Position within its stream, from 1.").into()),
            ("type", reference::<EventType>()),
            (
                "schema_version",
                ObjectBuilder::new()
                    .schema_type(Type::Integer)
                    .enum_values(Some([SCHEMA_VERSION]))
                    .description(Some("The schema version; older stored versions are upcast on read."))
                    .into(),
            ),
            ("recorded_at", reference::<Timestamp>()),
            ("effective_on", reference::<Date>()),
            ("actor", string("The name of the token that recorded it.").into()),
            (
                "command_id",
                ObjectBuilder::new()
                    .schema_type(SchemaType::Array(vec![Type::String, Type::Null]))
                    .description(Some("The writer's `Idempotency-Key`, if it sent one."))
                    .into(),
            ),
            ("legal_basis", reference::<Text<0, 2000>>()),
            ("note", reference::<Text<0, 2000>>()),
            ("payload", payloads.into()),
        ];
        let object = envelope.into_iter().fold(
            ObjectBuilder::new()
                .schema_type(Type::Object)
                .description(Some("A recorded event: its envelope and `payload`.")),
            |o, (name, schema)| o.property(name, schema).required(name),
        );
        object.into()
    }
}

impl ToSchema for Event {
    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        fn add<T: ToSchema>(schemas: &mut Vec<(String, RefOr<Schema>)>) {
            schemas.push((T::name().into_owned(), T::schema()));
            T::schemas(schemas);
        }
        add::<StreamId>(schemas);
        add::<EventType>(schemas);
        add::<Timestamp>(schemas);
        add::<Date>(schemas);
        add::<Text<0, 2000>>(schemas);
        add::<Procedure>(schemas);
        add::<Simplification>(schemas);
        add::<Amendment>(schemas);
        add::<EstimateRevision>(schemas);
        add::<Merger>(schemas);
        add::<Abolition>(schemas);
        add::<Retraction>(schemas);
        add::<Tariff>(schemas);
        add::<Programme>(schemas);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_event_type_has_a_payload_schema() {
        for t in EVENT_TYPES {
            assert!(payload_schema_name(t).is_some(), "{t} has no payload schema");
        }
        assert_eq!(payload_schema_name("Nothing"), None);
    }

    #[test]
    fn the_values_are_named_after_the_domain() {
        use crate::value::{Agency, AnnualVolume, Hours, LongText, Name, Vnd, WorkingDays};
        let names = [
            Name::name(),
            Agency::name(),
            LongText::name(),
            Vnd::name(),
            AnnualVolume::name(),
            WorkingDays::name(),
            Hours::name(),
        ];
        assert_eq!(names, ["Name", "Agency", "LongText", "Vnd", "AnnualVolume", "WorkingDays", "Hours"]);
    }
}
