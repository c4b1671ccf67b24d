//! The OpenAPI description of the HTTP API (v1), served at `/openapi.json`: derived from the handlers'
//! `#[utoipa::path]` annotations and the types they take and answer, collected by the same router that
//! serves them (so a route cannot go undescribed), completed here with what no type says (the API's
//! description, its tags, the bearer scheme, the problem answers) and written as OpenAPI 3.0.3.

mod v30;

#[cfg(test)]
mod tests;

use events::value::{Date, Level, LongText, ProcedureCode, TariffApplicant};
use projections::{GroupBy, Status};
use serde_json::{Value, json};
use utoipa::openapi::info::InfoBuilder;
use utoipa::openapi::path::{Parameter, ParameterBuilder, ParameterIn};
use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, RefBuilder, Schema, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::tag::TagBuilder;
use utoipa::openapi::{Ref, RefOr, Required};
use utoipa::{IntoParams, PartialSchema, ToSchema};

use super::answers::{LiveMessage, problem_components};
use super::problem::ProblemDocument;
use super::reader::KnownAt;
use super::writer::WriteBody;

/// Answers that write every member, `null` ones too: utoipa takes an `Option` for a member that may be
/// left out, which holds for request bodies but not for these.
const ANSWERS: [&str; 12] = [
    "ProcedureView",
    "Burden",
    "Lineage",
    "Group",
    "Reductions",
    "Tariffs",
    "TariffInForce",
    "ProgrammeProgress",
    "ListedProcedure",
    "ProcedurePage",
    "NatsHealth",
    "Simplification",
];

/// What no type says: the description, the tags, the bearer scheme and the problem answers; then 3.0.3.
pub fn complete(mut api: utoipa::openapi::OpenApi) -> Value {
    let components = api.components.get_or_insert_with(Default::default);
    components.responses.extend(problem_components());
    // The live feed's `data` is named by an extension, not a reference: its schemas are added by hand.
    let mut added = vec![(LiveMessage::name().into_owned(), LiveMessage::schema())];
    LiveMessage::schemas(&mut added);
    // Parameters name their values' schemas without adding them (utoipa collects only bodies').
    added.push((KnownAt::name().into_owned(), KnownAt::schema()));
    for (name, schema) in [
        (Date::name(), Date::schema()),
        (ProcedureCode::name(), ProcedureCode::schema()),
        (Level::name(), Level::schema()),
        (Status::name(), Status::schema()),
        (GroupBy::name(), GroupBy::schema()),
        (TariffApplicant::name(), TariffApplicant::schema()),
    ] {
        added.push((name.into_owned(), schema));
    }
    // So are the problem documents', which the problem answers name.
    added.push((ProblemDocument::name().into_owned(), ProblemDocument::schema()));
    ProblemDocument::schemas(&mut added);
    for (name, schema) in added {
        components.schemas.entry(name).or_insert(schema);
    }
    for name in ANSWERS {
        if let Some(RefOr::T(Schema::Object(object))) = components.schemas.get_mut(name) {
            object.required = object.properties.keys().cloned().collect();
        }
    }
    let bearer = HttpBuilder::new().scheme(HttpAuthScheme::Bearer).description(Some(
        "A token from `p30 token create`: `admin` (everything, settings too), `recorder` (writes for the \
         agencies named in the token), `analyst` (reads). A missing or unknown token on a write is 401; a token \
         without the right is 403.",
    ));
    components.add_security_scheme("bearerAuth", SecurityScheme::Http(bearer.build()));
    api.info = InfoBuilder::new()
        .title("p30")
        .version("1")
        .description(Some(
            "An event-sourced tracker of the simplification of administrative procedures (Đề án 30). Every \
             change to a procedure is an immutable event; read models answer at any valid time (`as_of`) and \
             transaction time (`known_at`). Errors are `application/problem+json` (RFC 9457) naming each \
             offending field as a JSON Pointer into the body or a parameter's name. Writes need a bearer token; \
             reads are open unless the server runs with `--private`.",
        ))
        .build();
    let tag = |name: &str, description: &str| TagBuilder::new().name(name).description(Some(description)).build();
    api.tags = Some(vec![
        tag("writes", "Record changes: each answers 201 with the events written."),
        tag("reads", "Read models at any `as_of` and `known_at`, and the log."),
        tag("live", "Server-sent events: one message per log seq."),
        tag("operations", "The API description, health and metrics."),
        tag("pages", "HTML pages for people: the dashboard and the public catalogue."),
    ]);
    let mut doc = serde_json::to_value(&api).unwrap_or_default();
    v30::downgrade(&mut doc);
    doc
}

fn nullable_text(description: &str) -> RefOr<Schema> {
    OneOfBuilder::new()
        .item(Ref::from_schema_name(LongText::name()))
        .item(ObjectBuilder::new().schema_type(Type::Null))
        .description(Some(description))
        .into()
}

/// A write's request body: its payload's schema, the envelope's fields beside them, refined by the write.
pub fn with_envelope<B: WriteBody>() -> RefOr<Schema> {
    let mut schema = B::schema();
    if let RefOr::T(Schema::Object(object)) = &mut schema {
        if B::DATED {
            let date = RefBuilder::new()
                .ref_location_from_schema_name(Date::name())
                .description(Some("The date the change takes legal effect (valid time)."));
            object.properties.insert("effective_on".to_owned(), date.into());
            object.required.push("effective_on".to_owned());
        }
        if !B::OWNS_LEGAL_BASIS {
            let basis = nullable_text("The legal basis of the change (empty if absent).");
            object.properties.insert("legal_basis".to_owned(), basis);
        }
        object.properties.insert("note".to_owned(), nullable_text("A free note (empty if absent)."));
    }
    B::refine(schema)
}

/// The components the envelope refers to.
pub fn envelope_schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
    schemas.push((Date::name().into_owned(), Date::schema()));
    schemas.push((LongText::name().into_owned(), LongText::schema()));
}

fn header(name: &str, schema: ObjectBuilder, description: &str) -> Parameter {
    ParameterBuilder::new()
        .name(name)
        .parameter_in(ParameterIn::Header)
        .required(Required::False)
        .schema(Some(schema.schema_type(Type::String)))
        .description(Some(description))
        .build()
}

/// `Idempotency-Key`: a repeat answers as the first did and writes nothing.
#[derive(Debug)]
pub struct IdempotencyKey;

impl IntoParams for IdempotencyKey {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        // HTTP drops the whitespace after a header value before the handler sees it; leading whitespace is
        // left out because common clients refuse to send it.
        let schema = ObjectBuilder::new()
            .min_length(Some(1))
            .max_length(Some(200))
            .pattern(Some(r"^[!-~](?:[ -~\t]*[!-~])?[ \t]*$"));
        vec![header(
            "Idempotency-Key",
            schema,
            "A repeat with the same key, method, path and JSON-equal body answers as the first did and writes \
             nothing; the same key on anything else is 422. Only successful writes are remembered.",
        )]
    }
}

/// `If-Match`: the stream version the writer saw.
#[derive(Debug)]
pub struct IfMatch;

impl IntoParams for IfMatch {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        // Rust's integer parsing takes a leading `+` and zeros; the quotes and `W/` are trimmed.
        let schema = ObjectBuilder::new().pattern(Some(r#"^(?:W/)*"*\+?0*[0-9]{1,19}"*[ \t]*$"#));
        vec![header(
            "If-Match",
            schema,
            "The stream version the writer saw (`3` or `\"3\"`), checked before any domain rule; a stale one is \
             409 with `current_version`.",
        )]
    }
}

/// `{code}` in a write's path.
#[derive(Debug)]
pub struct CodeParam;

impl IntoParams for CodeParam {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        vec![
            ParameterBuilder::new()
                .name("code")
                .parameter_in(ParameterIn::Path)
                .required(Required::True)
                .schema(Some(Ref::from_schema_name(ProcedureCode::name())))
                .description(Some("A procedure code (one that cannot be a code is 404)."))
                .example(Some(json!("1.000001")))
                .build(),
        ]
    }
}
