//! Every route of the server in one router, which also describes them: the API's (`http`), the pages'
//! (`web`) and the document itself (`/openapi.json`). Here, above both, so neither needs the other.

use std::sync::OnceLock;

use axum::Router;
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use tokio::sync::watch;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::state::AppState;
use crate::{http, web};

/// Every route, each with its description.
pub fn all() -> OpenApiRouter<AppState> {
    web::routes::pages(http::api()).routes(routes!(openapi))
}

/// The OpenAPI document of every route, built once.
pub fn document() -> &'static Value {
    static DOCUMENT: OnceLock<Value> = OnceLock::new();
    DOCUMENT.get_or_init(|| http::openapi::complete(all().split_for_parts().1))
}

/// This document
///
/// The OpenAPI 3.0.3 description of this API, derived from the types the handlers take and answer.
#[utoipa::path(
    get,
    path = "/openapi.json",
    tag = "operations",
    operation_id = "getOpenApi",
    responses((status = 200, description = "The OpenAPI 3.0.3 document.", body = Object)),
)]
async fn openapi() -> Response {
    axum::Json(document()).into_response()
}

/// The server's routes, the API's and the pages'.
pub fn router(state: AppState) -> Router {
    let (router, _) = all().split_for_parts();
    router
        .route_layer(axum::middleware::from_fn(crate::telemetry::track))
        .fallback(http::not_found)
        .method_not_allowed_fallback(http::method_not_allowed)
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
