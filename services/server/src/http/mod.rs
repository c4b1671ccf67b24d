//! The HTTP API (v1): routes, shared state, authentication and the server's lifecycle.

pub mod body;
pub mod openapi;
pub mod problem;
pub mod query;
mod read;
mod write;

use std::sync::Arc;

use axum::Router;
use axum::http::{HeaderMap, StatusCode, header};
use axum::routing::{get, post, put};
use eventstore::Log;
use tokio::sync::watch;

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

async fn openapi() -> axum::Json<serde_json::Value> {
    axum::Json(openapi::document())
}

async fn not_found() -> Problem {
    Problem::new(StatusCode::NOT_FOUND, "not-found", "Not found", "no such resource in this API")
        .field("path", "unknown path")
}

/// The API's routes.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/v1/procedures", post(write::register).get(read::procedures))
        .route("/v1/procedures/{code}", get(read::procedure))
        .route("/v1/reductions", get(read::reductions))
        .route("/v1/programmes", get(read::programmes))
        .route("/v1/programmes/{id}", put(write::define_programme).get(read::programme))
        .route("/v1/subscribe", get(read::subscribe))
        .route("/v1/procedures/{code}/simplifications", post(write::simplify))
        .route("/v1/procedures/{code}/amendments", post(write::amend))
        .route("/v1/procedures/{code}/estimates", post(write::revise_estimates))
        .route("/v1/procedures/{code}/abolition", post(write::abolish))
        .route("/v1/procedures/{code}/events", get(read::procedure_events))
        .route("/v1/merges", post(write::merge))
        .route("/v1/retractions", post(write::retract))
        .route("/v1/tariffs/{applicant}", put(write::set_tariff))
        .route("/v1/events", get(read::events))
        .route("/", get(crate::web::dashboard))
        .route("/catalogue", get(crate::web::catalogue))
        .route("/catalogue/{code}", get(crate::web::catalogue_entry))
        .route("/healthz", get(read::healthz))
        .route("/metrics", get(read::metrics))
        .route("/openapi.json", get(openapi))
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
