//! The live feed (`GET /v1/subscribe`): server-sent events, one message per log seq, resumable with
//! `Last-Event-ID`; a slow client reads what it missed from the log instead of queueing.

use std::convert::Infallible;

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use utoipa::openapi::Required;
use utoipa::openapi::path::{Parameter, ParameterBuilder, ParameterIn};
use utoipa::openapi::schema::{ObjectBuilder, Type};

use super::AppState;
use super::answers::{LiveFeed, ReadProblems};
use super::problem::Problem;
use super::query::Params;
use super::reader::{ReadQuery, Reader, TokenParam, read_query};

/// How often an idle SSE connection gets a comment line, so proxies and browsers keep it open.
const KEEP_ALIVE: std::time::Duration = std::time::Duration::from_secs(15);

read_query! {
    /// Where a live feed starts when `Last-Event-ID` is absent.
    SubscribeQuery {
        /// Resume after this seq (when `Last-Event-ID` is absent). Default: from now on.
        #[param(value_type = Option<u64>, minimum = 0)]
        after: Option<String>,
    }
}

impl ReadQuery for SubscribeQuery {
    const KNOWN: &'static [&'static str] = Self::FIELDS;
    const READS_PROJECTION: bool = false;

    /// `after` is read only when there is no `Last-Event-ID`, which comes first.
    fn parse(params: &Params) -> Result<Self, Problem> {
        Ok(Self { after: params.get("after").map(str::to_owned) })
    }
}

/// `Last-Event-ID`: the seq of the last message received.
#[derive(Debug)]
pub struct LastEventId;

impl utoipa::IntoParams for LastEventId {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        let schema = ObjectBuilder::new().schema_type(Type::String).pattern(Some(r"^\+?0*[0-9]{1,19}[ \t]*$"));
        vec![
            ParameterBuilder::new()
                .name("Last-Event-ID")
                .parameter_in(ParameterIn::Header)
                .required(Required::False)
                .schema(Some(schema))
                .description(Some("The seq of the last message received: resumes with no gap and no duplicate."))
                .build(),
        ]
    }
}

/// Live feed (server-sent events)
///
/// Exactly one message per log seq: `id` the seq, `event` the type, `data` a `LiveMessage` (the event
/// and the read-model rows it changed, as of today). The stream stays open until the client or the
/// server ends it. Every subscriber's connection carries the same prepared frames (`Message::frame`),
/// not a copy each.
#[utoipa::path(
    get,
    path = "/v1/subscribe",
    tag = "live",
    operation_id = "subscribe",
    params(LastEventId, SubscribeQuery, TokenParam),
    responses(LiveFeed, ReadProblems),
    security((), ("bearerAuth" = [])),
)]
pub async fn subscribe(
    State(s): State<AppState>,
    headers: HeaderMap,
    Reader(q): Reader<SubscribeQuery>,
) -> Result<Response, Problem> {
    let resume = match headers.get("last-event-id") {
        Some(v) => Some(
            v.to_str()
                .ok()
                .and_then(|v| v.trim().parse::<u64>().ok())
                .ok_or_else(|| Problem::bad_request("Last-Event-ID", "must be the seq of the last event received"))?,
        ),
        None => match q.after {
            None => None,
            Some(after) => Some(Params([("after".to_owned(), after)].into()).number("after", 0, 0, u64::MAX)?),
        },
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
