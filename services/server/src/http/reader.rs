//! A reader at the edge: access (when the server is private), only the query parameters the endpoint
//! knows, each parsed into its type, and the wait until the read models hold every write acknowledged so
//! far (read your writes).

use std::collections::HashMap;

use axum::extract::{FromRequestParts, Query};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{AnyOfBuilder, KnownFormat, ObjectBuilder, Schema, SchemaFormat, Type};
use utoipa::{PartialSchema, ToSchema};

use super::AppState;
use super::problem::Problem;
use super::query::Params;

/// The query of one read endpoint: the parameters it takes, in the order its refusals list them.
pub trait ReadQuery: Sized + Send {
    /// The parameters it takes besides `token` (which every endpoint allows, for browsers).
    const KNOWN: &'static [&'static str];
    /// Open even on a private server (`/healthz`).
    const OPEN: bool = false;
    /// It answers from the read models, so it first waits until they hold the log's head.
    const READS_PROJECTION: bool;

    /// Parses the known parameters; a bad value is a 400 naming it.
    fn parse(params: &Params) -> Result<Self, Problem>;
}

/// Defines a query struct whose fields are its parameters, documented by `IntoParams`, and `FIELDS`, their
/// names in order: one list for the document and for the refusal of unknown parameters.
///
/// `..moment,` stands for the two parameters of every time-travelling read, `as_of` and `known_at`, with
/// their one description.
macro_rules! read_query {
    ($(#[$meta:meta])* $name:ident {
        $( $(#[$before_meta:meta])* $before:ident : $before_ty:ty , )*
        ..moment,
        $( $(#[$after_meta:meta])* $after:ident : $after_ty:ty ),* $(,)?
    }) => {
        read_query! {
            $(#[$meta])* $name {
                $( $(#[$before_meta])* $before : $before_ty , )*
                /// Valid time: what was in effect on this date. Default: today in Vietnam.
                as_of: Option<Date>,
                /// Transaction time: what had been recorded by then, RFC 3339 with an offset, or a date meaning the
                /// end of that day in Vietnam. Default: now.
                #[param(value_type = Option<KnownAt>)]
                known_at: Option<Timestamp>,
                $( $(#[$after_meta])* $after : $after_ty , )*
            }
        }
    };
    ($(#[$meta:meta])* $name:ident { $( $(#[$field_meta:meta])* $field:ident : $ty:ty ),* $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, utoipa::IntoParams)]
        #[into_params(parameter_in = Query)]
        pub struct $name { $( $(#[$field_meta])* pub $field: $ty ),* }

        impl $name {
            /// The parameters' names, in the order the struct declares them.
            pub const FIELDS: &'static [&'static str] = &[$(stringify!($field)),*];
        }
    };
}
pub(crate) use read_query;

/// A read request that passed the edge: its parsed query.
#[derive(Debug)]
pub struct Reader<Q>(pub Q);

impl<Q: ReadQuery> FromRequestParts<AppState> for Reader<Q> {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let Query(query) = Query::<HashMap<String, String>>::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        if !Q::OPEN {
            state
                .authorize_read(&parts.headers, query.get("token").map(String::as_str))
                .map_err(|e| Problem::from(e).into_response())?;
        }
        let params = Params(query).only(Q::KNOWN).map_err(Problem::into_response)?;
        let parsed = Q::parse(&params).map_err(Problem::into_response)?;
        if Q::READS_PROJECTION {
            state.live.caught_up(state.log.head()).await;
        }
        Ok(Self(parsed))
    }
}

/// `?token=`: a bearer token for clients that cannot send headers (`EventSource`) when the server is private.
#[derive(Debug, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TokenParam {
    /// A bearer token, for clients that cannot send an `Authorization` header (`EventSource`), needed when
    /// the server runs `--private`.
    pub token: Option<String>,
}

/// `known_at` as a query gives it: a time with an offset, or a date meaning the end of that day in Vietnam.
#[derive(Debug)]
pub struct KnownAt;

impl PartialSchema for KnownAt {
    fn schema() -> RefOr<Schema> {
        let time = ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime)));
        let date =
            ObjectBuilder::new().schema_type(Type::String).format(Some(SchemaFormat::KnownFormat(KnownFormat::Date)));
        AnyOfBuilder::new()
            .item(time)
            .item(date)
            .description(Some(
                "A transaction time: RFC 3339 with an offset, or a date (`YYYY-MM-DD`) meaning the end of that day \
                 in Vietnam.",
            ))
            .into()
    }
}

impl ToSchema for KnownAt {}
