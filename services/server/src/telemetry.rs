//! Metrics in the Prometheus format (`GET /metrics`) and a tracing span per request.
//!
//! One recorder serves the whole process (servers started in one test process share it).

use std::sync::OnceLock;
use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// The process's Prometheus recorder, installed on first use.
pub fn prometheus() -> Option<&'static PrometheusHandle> {
    HANDLE
        .get_or_init(|| {
            let buckets = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5];
            PrometheusBuilder::new().set_buckets(&buckets).ok()?.install_recorder().ok()
        })
        .as_ref()
}

/// Counts each request and times it, labelled by method, route and status.
pub async fn track(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().as_str().to_owned();
    let route = request.extensions().get::<MatchedPath>().map_or("unmatched", |p| p.as_str()).to_owned();
    let span = tracing::info_span!("request", %method, %route);
    let response = tracing::Instrument::instrument(next.run(request), span).await;
    let status = response.status().as_u16().to_string();
    let labels = [("method", method), ("route", route), ("status", status)];
    metrics::counter!("p30_http_requests_total", &labels).increment(1);
    metrics::histogram!("p30_http_request_seconds", &labels).record(started.elapsed().as_secs_f64());
    response
}
