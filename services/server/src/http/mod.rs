//! The HTTP API (v1): routes, shared state, authentication and the server's lifecycle.
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

use std::sync::Arc;

use axum::Router;
use axum::http::{HeaderMap, StatusCode, header};
use axum::routing::{MethodRouter, get};
use eventstore::Log;
use tokio::sync::watch;
use utoipa::openapi::Required;
use utoipa::openapi::path::{HttpMethod, OperationBuilder, Parameter, ParameterBuilder, ParameterIn};
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::{IntoParams, IntoResponses};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::access::{Grant, Tokens};
use problem::Problem;

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    pub log: Log,
    pub tokens: Arc<Tokens>,
    /// The projection and the live feed.
    pub live: crate::live::Live,
    /// Where publishing to NATS stands, when p30 publishes there.
    pub nats: Option<Arc<crate::nats::Progress>>,
    /// `serve --private`: reads need a token too (except `/healthz` and the catalogue).
    pub private: bool,
    /// Flips to true on shutdown, so long-lived streams (SSE) end and the server can stop.
    pub shutdown: watch::Receiver<bool>,
}

impl AppState {
    /// The grant of the request's bearer token (or `?token=` where a browser cannot send headers).
    pub fn authenticate(&self, headers: &HeaderMap, query_token: Option<&str>) -> Result<Grant, Problem> {
        let bearer = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
            .map(str::trim);
        let token = bearer.or(query_token).ok_or_else(Problem::unauthorized)?;
        self.tokens.grant(token).ok_or_else(Problem::unauthorized)
    }

    /// Reads are open unless the server is private.
    pub fn authorize_read(&self, headers: &HeaderMap, query_token: Option<&str>) -> Result<(), Problem> {
        if self.private {
            self.authenticate(headers, query_token)?;
        }
        Ok(())
    }
}

async fn method_not_allowed() -> Problem {
    Problem::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method-not-allowed",
        "Method not allowed",
        "this path does not take that method",
    )
    .field("method", "not allowed on this path")
}

async fn not_found() -> Problem {
    Problem::new(StatusCode::NOT_FOUND, "not-found", "Not found", "no such resource in this API")
        .field("path", "unknown path")
}

/// A query parameter of a page, described by hand (the pages' handlers are not annotated).
fn page_param(name: &str, description: &str) -> Parameter {
    ParameterBuilder::new()
        .name(name)
        .parameter_in(ParameterIn::Query)
        .required(Required::False)
        .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
        .description(Some(description))
        .build()
}

/// Routes a page and describes it in the same step, so a page cannot go undescribed.
fn page(
    router: OpenApiRouter<AppState>,
    path: &str,
    handler: MethodRouter<AppState>,
    (id, summary, description): (&str, &str, &str),
    mut parameters: Vec<Parameter>,
    private: bool,
) -> OpenApiRouter<AppState> {
    let mut responses = answers::Page::responses();
    if path.contains('{') {
        parameters.insert(0, openapi::CodeParam::into_params(|| None).remove(0));
        responses.extend(answers::NotFound::responses());
    }
    let mut operation = OperationBuilder::new()
        .tag("pages")
        .operation_id(Some(id))
        .summary(Some(summary))
        .description(Some(description))
        .parameters(Some(parameters));
    if private {
        responses.extend(answers::ReadProblems::responses());
        let bearer = utoipa::openapi::security::SecurityRequirement::new("bearerAuth", Vec::<String>::new());
        operation = operation.securities(Some([utoipa::openapi::security::SecurityRequirement::default(), bearer]));
    } else {
        responses.extend(answers::BadRequest::responses());
    }
    let operation = operation.responses(utoipa::openapi::ResponsesBuilder::new().responses_from_iter(responses));
    let mut router = router.route(path, handler);
    router.get_openapi_mut().paths.add_path_operation(path, vec![HttpMethod::Get], operation);
    router
}

/// Every route of the server, each with its description: the API's handlers and the pages.
fn routes() -> OpenApiRouter<AppState> {
    let lang = || page_param("lang", "`en` for English; Vietnamese otherwise.");
    let router = OpenApiRouter::new()
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
        .routes(routes!(openapi::serve));
    let dashboard = (
        "getDashboard",
        "Dashboard",
        "The dashboard: reductions moving live as staff record changes; its charts run by quarter up to `as_of`.",
    );
    let router = page(
        router,
        "/",
        get(crate::web::dashboard),
        dashboard,
        vec![
            page_param("as_of", "The date the figures are as of (`YYYY-MM-DD`). Default: today in Vietnam."),
            page_param("group_by", "`agency`, `sector` or `level` (`all` reads as `agency`)."),
            lang(),
            reader::TokenParam::into_params(|| None).remove(0),
        ],
        true,
    );
    let catalogue =
        ("getCatalogue", "Public catalogue", "The public catalogue: what each active procedure needs today.");
    let router = page(
        router,
        "/catalogue",
        get(crate::web::catalogue),
        catalogue,
        vec![
            page_param("q", "Matches code, name, sector or agency, ignoring case and Vietnamese diacritics."),
            page_param("agency", "Only procedures of this agency (exact)."),
            page_param("sector", "Only procedures of this sector (exact)."),
            page_param("level", "Only procedures of this level."),
            lang(),
        ],
        false,
    );
    let entry = ("getCatalogueEntry", "A catalogue entry", "The public catalogue's page of one active procedure.");
    page(router, "/catalogue/{code}", get(crate::web::catalogue_entry), entry, vec![lang()], false)
}

/// The API's routes.
pub fn router(state: AppState) -> Router {
    let (router, _) = routes().split_for_parts();
    router
        .route_layer(axum::middleware::from_fn(crate::telemetry::track))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(state)
}

/// Serves until `shutdown` resolves; open streams are told to end first.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    stop: watch::Sender<bool>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = router(state);
    axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            shutdown.await;
            let _ = stop.send(true);
        })
        .await
}
