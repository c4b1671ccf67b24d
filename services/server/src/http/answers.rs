//! The answers the document describes that are not one JSON type: the problem documents by status, and
//! the streams and texts (NDJSON, server-sent events, Prometheus, HTML pages).

use std::collections::BTreeMap;

use projections::{Group, GroupBy, ProcedureView, ProgrammeProgress};
use utoipa::openapi::extensions::ExtensionsBuilder;
use utoipa::openapi::response::{Response, ResponseBuilder};
use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, OneOfBuilder, Schema, Type};
use utoipa::openapi::{ContentBuilder, Ref, RefOr};
use utoipa::{IntoResponses, PartialSchema, ToSchema};

use super::problem::ProblemDocument;

/// The problem answers, by status: (component name, status, description).
pub const PROBLEMS: [(&str, u16, &str); 8] = [
    ("BadRequest", 400, "Malformed JSON, a wrong content type, a bad header or query parameter (unknown ones too)."),
    ("Unauthorized", 401, "No bearer token, or an unknown one."),
    ("Forbidden", 403, "A valid token without the right (another agency's procedure, settings without admin)."),
    ("NotFound", 404, "An unknown code or id in the path."),
    ("Conflict", 409, "A stale `If-Match` or `expected_versions` (with `current_version`), or a code already taken."),
    ("TooLarge", 413, "The body is over 1 MiB."),
    ("Unprocessable", 422, "A field or domain rule broken, or an `Idempotency-Key` reused with another request."),
    ("Unavailable", 503, "The log cannot write (or read) now, e.g. the disk is full."),
];

/// The problem answers as components: each a problem document.
pub fn problem_components() -> impl Iterator<Item = (String, RefOr<Response>)> {
    PROBLEMS.iter().map(|(name, _, description)| {
        let content =
            ContentBuilder::new().schema(Some(RefOr::Ref(Ref::from_schema_name(ProblemDocument::name())))).build();
        let response = ResponseBuilder::new().description(*description).content("application/problem+json", content);
        ((*name).to_owned(), response.build().into())
    })
}

fn problems(statuses: &[u16]) -> BTreeMap<String, RefOr<Response>> {
    statuses
        .iter()
        .filter_map(|status| PROBLEMS.iter().find(|p| p.1 == *status))
        .map(|(name, status, _)| (status.to_string(), RefOr::Ref(Ref::from_response_name(*name))))
        .collect()
}

/// Declares a set of problem answers an operation can give.
macro_rules! problem_set {
    ($($(#[$meta:meta])* $name:ident = [$($status:literal),+];)+) => {$(
        $(#[$meta])*
        #[derive(Debug)]
        pub struct $name;

        impl IntoResponses for $name {
            fn responses() -> BTreeMap<String, RefOr<Response>> {
                problems(&[$($status),+])
            }
        }
    )+};
}

problem_set! {
    /// A bad query parameter or header (400).
    BadRequest = [400];
    /// An unknown code or id in the path (404).
    NotFound = [404];
    /// A stale version or a code already taken (409).
    Conflict = [409];
    /// The log cannot be read or written now (503).
    Unavailable = [503];
    /// What any read can be refused with: a bad parameter, or no token on a private server.
    ReadProblems = [400, 401];
    /// What any write can be refused with.
    WriteProblems = [400, 401, 403, 413, 422, 503];
}

fn text(media: &str, description: &str, extension: Option<(&str, &str)>) -> RefOr<Response> {
    let mut content = ContentBuilder::new().schema(Some(ObjectBuilder::new().schema_type(Type::String)));
    if let Some((key, schema)) = extension {
        let schema = serde_json::json!({ "$ref": format!("#/components/schemas/{schema}") });
        content = content.extensions(Some(ExtensionsBuilder::new().add(key, schema).build()));
    }
    ResponseBuilder::new().description(description).content(media, content.build()).build().into()
}

/// Declares a success answer that is a stream or a text.
macro_rules! text_answer {
    ($($(#[$meta:meta])* $name:ident = ($status:literal, $media:literal, $description:literal $(, $key:literal => $schema:literal)?);)+) => {$(
        $(#[$meta])*
        #[derive(Debug)]
        pub struct $name;

        impl IntoResponses for $name {
            fn responses() -> BTreeMap<String, RefOr<Response>> {
                let extension: Option<(&str, &str)> = None $(.or(Some(($key, $schema))))?;
                BTreeMap::from([($status.to_string(), text($media, $description, extension))])
            }
        }
    )+};
}

text_answer! {
    /// `GET /v1/events`: one `Event` a line (`x-line-schema`).
    EventLines = ("200", "application/x-ndjson", "Events in seq order, one JSON `Event` a line.", "x-line-schema" => "Event");
    /// `GET /v1/subscribe`: server-sent events whose `data` is a `LiveMessage` (`x-data-schema`).
    LiveFeed = ("200", "text/event-stream", "A stream of server-sent events: `id` the seq, `event` the type, `data` a `LiveMessage`.", "x-data-schema" => "LiveMessage");
    /// `GET /metrics`.
    MetricsText = ("200", "text/plain", "Prometheus text exposition format.");
    /// A page for people.
    Page = ("200", "text/html", "The page.");
}

/// A read-model row an event changed, as of today (also published on NATS).
#[derive(Debug)]
pub struct ProjectionChange;

impl PartialSchema for ProjectionChange {
    fn schema() -> RefOr<Schema> {
        use crate::live::RowName;
        let names = [RowName::Procedure]
            .into_iter()
            .chain([GroupBy::All, GroupBy::Agency, GroupBy::Sector, GroupBy::Level].map(RowName::Reductions))
            .chain([RowName::Programme])
            .map(RowName::as_str);
        let name = ObjectBuilder::new()
            .schema_type(Type::String)
            .enum_values(Some(names))
            .description(Some("The read model."));
        let key =
            ObjectBuilder::new().schema_type(Type::String).description(Some("The code, group key or programme id."));
        let value = OneOfBuilder::new()
            .item(Ref::from_schema_name(ProcedureView::name()))
            .item(Ref::from_schema_name(Group::name()))
            .item(Ref::from_schema_name(ProgrammeProgress::name()))
            .description(Some("The row as the API answers it for the same read model."));
        ObjectBuilder::new()
            .schema_type(Type::Object)
            .description(Some("A read-model row an event changed, as of today (also published on NATS)."))
            .property("name", name)
            .property("key", key)
            .property("value", value)
            .required("name")
            .required("key")
            .required("value")
            .into()
    }
}

impl ToSchema for ProjectionChange {}

/// The `data` of a server-sent message: the event and `changes`, the rows it changed.
#[derive(Debug)]
pub struct LiveMessage;

impl PartialSchema for LiveMessage {
    fn schema() -> RefOr<Schema> {
        let mut schema = events::Event::schema();
        if let RefOr::T(Schema::Object(object)) = &mut schema {
            let changes = ArrayBuilder::new()
                .items(Ref::from_schema_name(ProjectionChange::name()))
                .description(Some("The read-model rows it changed, as of today."));
            object.properties.insert("changes".to_owned(), changes.into());
            object.required.push("changes".to_owned());
            object.description = Some("The `data` of a server-sent message: the event and `changes`.".to_owned());
        }
        schema
    }
}

impl ToSchema for LiveMessage {
    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        schemas.push((ProjectionChange::name().into_owned(), ProjectionChange::schema()));
        for (name, schema) in [
            (ProcedureView::name(), ProcedureView::schema()),
            (Group::name(), Group::schema()),
            (ProgrammeProgress::name(), ProgrammeProgress::schema()),
        ] {
            schemas.push((name.into_owned(), schema));
        }
        ProcedureView::schemas(schemas);
        ProgrammeProgress::schemas(schemas);
        events::Event::schemas(schemas);
    }
}
