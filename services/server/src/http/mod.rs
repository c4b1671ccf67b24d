//! The HTTP API (v1): its handlers and their typed edges; `crate::routes` puts them in one router with
//! the pages.
//!
//! Requests meet typed edges: a [`reader::Reader`] of a query struct or a [`writer::Writer`] of a body
//! type, and the path types of [`path`]. Each route is declared once, by its handler's
//! `#[utoipa::path]`, and one router both serves it and describes it ([`openapi`]).

pub mod answers;
pub mod body;
mod examples;
pub mod openapi;
pub mod path;
pub mod problem;
pub mod query;
mod read;
pub mod reader;
mod subscribe;
mod write;
pub mod writer;

pub use crate::state::AppState;

use axum::http::StatusCode;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use problem::Problem;

pub(crate) async fn method_not_allowed() -> Problem {
    Problem::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method-not-allowed",
        "Method not allowed",
        "this path does not take that method",
    )
    .field("method", "not allowed on this path")
}

pub(crate) async fn not_found() -> Problem {
    Problem::new(StatusCode::NOT_FOUND, "not-found", "Not found", "no such resource in this API")
        .field("path", "unknown path")
}

/// The API's routes, each described by its handler's annotation (the pages add theirs: `web::routes`).
pub fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(write::register, read::procedures))
        .routes(routes!(read::procedure))
        .routes(routes!(read::reductions))
        .routes(routes!(read::programmes))
        .routes(routes!(write::define_programme, read::programme))
        .routes(routes!(subscribe::subscribe))
        .routes(routes!(write::simplify))
        .routes(routes!(write::amend))
        .routes(routes!(write::revise_estimates))
        .routes(routes!(write::abolish))
        .routes(routes!(read::procedure_events))
        .routes(routes!(write::merge))
        .routes(routes!(write::retract))
        .routes(routes!(write::set_tariff))
        .routes(routes!(read::events))
        .routes(routes!(read::healthz))
        .routes(routes!(read::metrics))
}
