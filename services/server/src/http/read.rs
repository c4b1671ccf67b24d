//! The read endpoints: the log (NDJSON, histories), the read models (procedures, reductions,
//! programmes) at any `as_of` / `known_at`, the live feed (SSE), health and metrics.

use std::collections::HashMap;
use std::convert::Infallible;

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use events::StreamId;
use events::value::ProcedureCode;
use projections::QueryError;
use serde_json::{Value, json};

use super::AppState;
use super::problem::Problem;
use super::query::{Params, fold};

fn unavailable(e: impl std::fmt::Display) -> Problem {
    Problem::unavailable(e.to_string())
}

fn query_problem(e: QueryError) -> Problem {
    match e {
        QueryError::AsOfBeforeBaseline { .. } => Problem::bad_request("as_of", e.to_string()),
        QueryError::UnknownProcedure { .. } | QueryError::NotRegistered { .. } => {
            Problem::not_found("code", e.to_string())
        }
        QueryError::UnknownProgramme { .. } => Problem::not_found("id", e.to_string()),
        other => Problem::bad_request("query", other.to_string()),
    }
}

impl AppState {
    /// Checks access and parameters, and waits until the projection has every write acknowledged so far.
    async fn reading(
        &self,
        headers: &HeaderMap,
        q: HashMap<String, String>,
        known: &[&str],
    ) -> Result<Params, Problem> {
        self.authorize_read(headers, q.get("token").map(String::as_str))?;
        let params = Params(q).only(known)?;
        self.live.caught_up(self.log.head()).await;
        Ok(params)
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
    let q = Params(q).only(&["after", "limit"])?;
    let after = q.number("after", 0, 0, u64::MAX)?;
    let limit = q.number("limit", 1000, 1, 10_000)?;
    let log = s.log.clone();
    let events = tokio::task::spawn_blocking(move || log.read_after(after, limit as usize))
        .await
        .map_err(unavailable)?
        .map_err(unavailable)?;
    let mut out = Vec::with_capacity(events.len() * 512);
    for e in &events {
        serde_json::to_writer(&mut out, &e.to_json()).unwrap_or_default();
        out.push(b'\n');
    }
    Ok(ndjson(out))
}

fn path_code(code: &str) -> Result<ProcedureCode, Problem> {
    ProcedureCode::parse(code).map_err(|_| Problem::not_found("code", format!("there is no procedure {code:?}")))
}

/// `GET /v1/procedures/{code}/events`: a procedure's history, oldest first (the whole log's view of it).
pub async fn procedure_events(
    State(s): State<AppState>,
    Path(code): Path<String>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, Problem> {
    s.authorize_read(&headers, q.get("token").map(String::as_str))?;
    Params(q).only(&[])?;
    let code = path_code(&code)?;
    let events = s.log.read_stream(&StreamId::procedure(&code)).map_err(unavailable)?;
    if events.is_empty() {
        return Err(Problem::not_found("code", format!("there is no procedure {code}")));
    }
    let items: Vec<_> = events.iter().map(|e| e.to_json()).collect();
    Ok(axum::Json(json!({ "items": items })).into_response())
}

/// `GET /v1/procedures/{code}`: one procedure at a moment, with its `ETag` (the stream version).
pub async fn procedure(
    State(s): State<AppState>,
    Path(code): Path<String>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, Problem> {
    let q = s.reading(&headers, q, &["as_of", "known_at", "baseline_on"]).await?;
    let code = path_code(&code)?;
    let (at, baseline_on) = (q.moment()?, q.date("baseline_on")?);
    let view = s.live.projection.read().unwrap_or_else(|p| p.into_inner()).procedure(code.as_str(), at, baseline_on);
    let view = view.map_err(query_problem)?;
    let mut response = axum::Json(&view).into_response();
    if let Ok(etag) = HeaderValue::from_str(&format!("\"{}\"", view.version)) {
        response.headers_mut().insert(header::ETAG, etag);
    }
    Ok(response)
}

/// `GET /v1/procedures`: filtered by agency, sector, level, status and `q`, ordered by code, paged.
pub async fn procedures(
    State(s): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, Problem> {
    // `baseline_on` is accepted as on every procedure read; the list itself has no figures it changes.
    let known = ["agency", "sector", "level", "status", "q", "after", "limit", "as_of", "known_at", "baseline_on"];
    let q = s.reading(&headers, q, &known).await?;
    let at = q.moment()?;
    q.date("baseline_on")?;
    let limit = q.number("limit", 100, 1, 1000)? as usize;
    if let Some(level) = q.get("level")
        && !["central", "province", "district", "commune"].contains(&level)
    {
        return Err(Problem::bad_request("level", "must be central, province, district or commune"));
    }
    if let Some(status) = q.get("status")
        && !["active", "abolished", "merged"].contains(&status)
    {
        return Err(Problem::bad_request("status", "must be active, abolished or merged"));
    }
    let needle = q.get("q").map(fold);
    let projection = s.live.projection.read().unwrap_or_else(|p| p.into_inner());
    let mut items: Vec<Value> = Vec::with_capacity(limit);
    let mut more = false;
    for listed in projection.procedures(q.get("after"), at) {
        let p = &listed.procedure;
        let keep = q.get("agency").is_none_or(|a| p.agency.as_str() == a)
            && q.get("sector").is_none_or(|x| p.sector.as_str() == x)
            && q.get("level").is_none_or(|l| p.level.as_str() == l)
            && q.get("status").is_none_or(|st| listed.status.as_str() == st)
            && needle.as_ref().is_none_or(|n| {
                [p.code.as_str(), p.name.as_str(), p.sector.as_str(), p.agency.as_str()]
                    .iter()
                    .any(|h| fold(h).contains(n))
            });
        if !keep {
            continue;
        }
        if items.len() == limit {
            more = true;
            break;
        }
        items.push(json!({
            "code": p.code, "name": p.name, "agency": p.agency, "sector": p.sector, "level": p.level,
            "status": listed.status, "merged_into": listed.merged_into, "current": p,
        }));
    }
    let next_after = if more { items.last().map(|i| i["code"].clone()) } else { None };
    Ok(axum::Json(json!({ "items": items, "next_after": next_after })).into_response())
}

/// `GET /v1/reductions?group_by=…`: the group figures at a moment, from a baseline.
pub async fn reductions(
    State(s): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, Problem> {
    let q = s.reading(&headers, q, &["group_by", "as_of", "known_at", "baseline_on"]).await?;
    let (by, at, baseline_on) = (q.group_by()?, q.moment()?, q.date("baseline_on")?);
    let r = s.live.reductions(by, at, baseline_on).map_err(|e| match e {
        crate::live::ReductionsError::Query(e) => query_problem(e),
        encode @ crate::live::ReductionsError::Encode(_) => unavailable(encode),
    })?;
    let mut response = (StatusCode::OK, r.json(at.known_at)).into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    Ok(response)
}

/// `GET /v1/programmes`: every programme's progress.
pub async fn programmes(
    State(s): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, Problem> {
    let q = s.reading(&headers, q, &["as_of", "known_at"]).await?;
    let at = q.moment()?;
    let items = s.live.programmes(at);
    Ok(axum::Json(json!({ "items": items })).into_response())
}

/// `GET /v1/programmes/{id}`: one programme's progress.
pub async fn programme(
    State(s): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, Problem> {
    let q = s.reading(&headers, q, &["as_of", "known_at"]).await?;
    let at = q.moment()?;
    let p = s.live.projection.read().unwrap_or_else(|p| p.into_inner()).programme(&id, at);
    Ok(axum::Json(p.map_err(query_problem)?).into_response())
}

/// How often an idle SSE connection gets a comment line, so proxies and browsers keep it open.
const KEEP_ALIVE: std::time::Duration = std::time::Duration::from_secs(15);

/// `GET /v1/subscribe`: one SSE message per log seq from `Last-Event-ID` (or `?after=`, default: now).
/// Every subscriber's connection carries the same prepared frames (`Message::frame`), not a copy each.
pub async fn subscribe(
    State(s): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, Problem> {
    s.authorize_read(&headers, q.get("token").map(String::as_str))?;
    let q = Params(q).only(&["after"])?;
    let resume = match headers.get("last-event-id") {
        Some(v) => Some(
            v.to_str()
                .ok()
                .and_then(|v| v.trim().parse::<u64>().ok())
                .ok_or_else(|| Problem::bad_request("Last-Event-ID", "must be the seq of the last event received"))?,
        ),
        None => q.get("after").map(|_| q.number("after", 0, 0, u64::MAX)).transpose()?,
    };
    let projected = *s.live.projected.borrow();
    let cursor = resume.unwrap_or(projected);
    let subscriber = Subscriber {
        feed: s.live.feed.subscribe(),
        shutdown: s.shutdown.clone(),
        keep_alive: tokio::time::interval_at(tokio::time::Instant::now() + KEEP_ALIVE, KEEP_ALIVE),
        // First catch up from the log, up to what the projection has reached (so `changes` include it).
        behind: projected,
        cursor,
        pending: std::collections::VecDeque::new(),
        s,
    };
    let frames = futures::stream::unfold(subscriber, |mut sub| async move {
        let frame = sub.next().await?;
        Some((Ok::<_, Infallible>(frame), sub))
    });
    let mut response = Body::from_stream(frames).into_response();
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    Ok(response)
}

/// One subscriber's place in the log. Its connection asks for the next frame only when it can send one,
/// so a slow client holds at most one batch read from the log, never a growing queue: while it keeps up
/// it gets the feed's shared frames; once it falls behind the feed, it reads what it missed from the log.
struct Subscriber {
    s: AppState,
    feed: tokio::sync::broadcast::Receiver<std::sync::Arc<crate::live::Message>>,
    shutdown: tokio::sync::watch::Receiver<bool>,
    keep_alive: tokio::time::Interval,
    /// The last seq sent.
    cursor: u64,
    /// Read from the log up to here before taking from the feed again.
    behind: u64,
    /// Frames read from the log, not yet sent.
    pending: std::collections::VecDeque<Bytes>,
}

/// Events read from the log per batch while a subscriber catches up.
const CATCH_UP_BATCH: usize = 256;

impl Subscriber {
    /// The next frame for this client, or `None` when the stream ends (shutdown, or the log fails).
    async fn next(&mut self) -> Option<Bytes> {
        loop {
            if let Some(frame) = self.pending.pop_front() {
                return Some(frame);
            }
            if self.cursor < self.behind {
                self.read_log().await?;
                continue;
            }
            let received = tokio::select! {
                r = self.feed.recv() => Some(r),
                _ = self.shutdown.wait_for(|&v| v) => return None,
                _ = self.keep_alive.tick() => None,
            };
            let Some(received) = received else { return Some(Bytes::from_static(b":\n\n")) };
            match received {
                Ok(m) if m.seq <= self.cursor => {}
                // A gap before it (the feed skips events nobody listened for): the log first, then this one.
                Ok(m) if m.seq > self.cursor + 1 => self.behind = m.seq,
                Ok(m) => {
                    self.cursor = m.seq;
                    return Some(m.frame.clone());
                }
                // Fell behind the feed: read what was missed from the log.
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                    self.behind = *self.s.live.projected.borrow();
                }
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return None,
            }
        }
    }

    /// Reads the next batch of events after the cursor, up to `behind`, into `pending`.
    async fn read_log(&mut self) -> Option<()> {
        let limit = (self.behind - self.cursor).min(CATCH_UP_BATCH as u64) as usize;
        let events = crate::live::read_recent(&self.s.log, self.cursor, limit).await.ok()?;
        metrics::counter!("p30_sse_log_reads_total").increment(1);
        if events.is_empty() {
            // Not durable yet (cannot happen below the projected seq): wait on the feed instead.
            self.behind = self.cursor;
        }
        for e in &events {
            self.pending.push_back(self.s.live.message(e).frame);
            self.cursor = e.seq;
        }
        Some(())
    }
}

/// `GET /healthz`: up, and where the log and the projection stand.
pub async fn healthz(State(s): State<AppState>, Query(q): Query<HashMap<String, String>>) -> Result<Response, Problem> {
    Params(q).only(&[])?;
    let head = s.log.head();
    let mut body = json!({"status": "ok", "log_head": head, "projected": *s.live.projected.borrow()});
    if let Some(nats) = &s.nats {
        let published = nats.published();
        let connected = nats.connected.load(std::sync::atomic::Ordering::SeqCst) == 1;
        body["nats"] = json!({"connected": connected, "published": published, "lag": head.saturating_sub(published)});
    }
    Ok(axum::Json(body).into_response())
}

/// `GET /metrics`: Prometheus text: request counts and latencies, append latency, the log head.
pub async fn metrics(
    State(s): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, Problem> {
    s.authorize_read(&headers, q.get("token").map(String::as_str))?;
    Params(q).only(&[])?;
    metrics::gauge!("p30_log_head").set(s.log.head() as f64);
    metrics::gauge!("p30_projected_seq").set(*s.live.projected.borrow() as f64);
    if let Some(nats) = &s.nats {
        metrics::gauge!("p30_nats_publish_lag").set(s.log.head().saturating_sub(nats.published()) as f64);
    }
    let text = crate::telemetry::prometheus().map(|h| h.render()).unwrap_or_default();
    let mut response = (StatusCode::OK, text).into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; version=0.0.4"));
    Ok(response)
}
