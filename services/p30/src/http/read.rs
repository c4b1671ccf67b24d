//! The read endpoints that come straight from the log: the global log as NDJSON, a procedure's history,
//! and health.

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use events::StreamId;
use events::value::ProcedureCode;

use super::AppState;
use super::problem::Problem;

/// Refuses query parameters the endpoint does not know.
pub fn only_params(query: &HashMap<String, String>, known: &[&str]) -> Result<(), Problem> {
    match query.keys().find(|k| !known.contains(&k.as_str())) {
        Some(k) => Err(Problem::bad_request(k, format!("unknown parameter; this endpoint takes {}", known.join(", ")))),
        None => Ok(()),
    }
}

/// A whole-number query parameter within bounds.
pub fn number_param(
    query: &HashMap<String, String>,
    name: &str,
    default: u64,
    min: u64,
    max: u64,
) -> Result<u64, Problem> {
    match query.get(name) {
        None => Ok(default),
        Some(v) => v
            .parse::<u64>()
            .ok()
            .filter(|n| (min..=max).contains(n))
            .ok_or_else(|| Problem::bad_request(name, format!("must be a whole number from {min} to {max}"))),
    }
}

fn ndjson(lines: Vec<u8>) -> Response {
    let mut response = (StatusCode::OK, lines).into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/x-ndjson"));
    response
}

/// `GET /v1/events?after=SEQ&limit=N`: the global log in seq order, one event a line.
pub async fn events(
    State(s): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, Problem> {
    s.authorize_read(&headers, q.get("token").map(String::as_str))?;
    only_params(&q, &["after", "limit", "token"])?;
    let after = number_param(&q, "after", 0, 0, u64::MAX)?;
    let limit = number_param(&q, "limit", 1000, 1, 10_000)?;
    let log = s.log.clone();
    let events = tokio::task::spawn_blocking(move || log.read_after(after, limit as usize))
        .await
        .map_err(|e| Problem::unavailable(e.to_string()))?
        .map_err(|e| Problem::unavailable(e.to_string()))?;
    let mut out = Vec::with_capacity(events.len() * 512);
    for e in &events {
        serde_json::to_writer(&mut out, &e.to_json()).unwrap_or_default();
        out.push(b'\n');
    }
    Ok(ndjson(out))
}

/// `GET /v1/procedures/{code}/events`: a procedure's history, oldest first.
pub async fn procedure_events(
    State(s): State<AppState>,
    Path(code): Path<String>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, Problem> {
    s.authorize_read(&headers, q.get("token").map(String::as_str))?;
    only_params(&q, &["token"])?;
    let code = ProcedureCode::parse(&code)
        .map_err(|_| Problem::not_found("code", format!("there is no procedure {code:?}")))?;
    let events = s.log.read_stream(&StreamId::procedure(&code)).map_err(|e| Problem::unavailable(e.to_string()))?;
    if events.is_empty() {
        return Err(Problem::not_found("code", format!("there is no procedure {code}")));
    }
    let items: Vec<_> = events.iter().map(|e| e.to_json()).collect();
    Ok(axum::Json(serde_json::json!({ "items": items })).into_response())
}

/// `GET /healthz`: up, and where the log stands.
pub async fn healthz(State(s): State<AppState>) -> Response {
    axum::Json(serde_json::json!({"status": "ok", "log_head": s.log.head()})).into_response()
}

/// `GET /metrics`: Prometheus text: request counts and latencies, append latency, the log head.
pub async fn metrics(
    State(s): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, Problem> {
    s.authorize_read(&headers, q.get("token").map(String::as_str))?;
    metrics::gauge!("p30_log_head").set(s.log.head() as f64);
    let text = crate::telemetry::prometheus().map(|h| h.render()).unwrap_or_default();
    let mut response = (StatusCode::OK, text).into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; version=0.0.4"));
    Ok(response)
}
