//! The read endpoints: the log (NDJSON, histories), the read models (procedures, reductions,
//! programmes) at any `as_of` / `known_at`, health and metrics. Each takes a [`Reader`] of its query.

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use events::StreamId;
use events::value::{Date, Level, Timestamp};
use projections::{GroupBy, Moment, ProcedureView, ProgrammeProgress, QueryError, Reductions, Status};
use serde::Serialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use super::AppState;
use super::answers::{BadRequest, EventLines, MetricsText, NotFound, ReadProblems, Unavailable};
use super::openapi::CodeParam;
use super::path::{CodeToRead, ProgrammeToRead};
use super::problem::Problem;
use super::query::Params;
use super::reader::{KnownAt, ReadQuery, Reader, TokenParam, read_query};
use crate::search::Needle;

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

fn ndjson(lines: Vec<u8>) -> Response {
    let mut response = (StatusCode::OK, lines).into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/x-ndjson"));
    response
}

read_query! {
    /// The parameters of a time-travelling read: valid time, transaction time.
    MomentQuery {
        ..moment,
    }
}

impl MomentQuery {
    fn moment(&self) -> Moment {
        crate::live::Live::moment(self.as_of, self.known_at)
    }
}

impl ReadQuery for MomentQuery {
    const KNOWN: &'static [&'static str] = Self::FIELDS;
    const READS_PROJECTION: bool = true;

    fn parse(params: &Params) -> Result<Self, Problem> {
        Ok(Self { as_of: params.date("as_of")?, known_at: params.time("known_at")? })
    }
}

read_query! {
    /// The parameters of a read of the figures: a moment and the baseline they are measured from.
    FiguresQuery {
        ..moment,
        /// Measure reductions from this date. Default: the earliest counted registration; `as_of` before it
        /// is a 400.
        baseline_on: Option<Date>,
    }
}

impl ReadQuery for FiguresQuery {
    const KNOWN: &'static [&'static str] = Self::FIELDS;
    const READS_PROJECTION: bool = true;

    fn parse(params: &Params) -> Result<Self, Problem> {
        let (as_of, known_at) = (params.date("as_of")?, params.time("known_at")?);
        Ok(Self { as_of, known_at, baseline_on: params.date("baseline_on")? })
    }
}

read_query! {
    /// No parameters but `token`.
    NoQuery {}
}

impl ReadQuery for NoQuery {
    const KNOWN: &'static [&'static str] = Self::FIELDS;
    const READS_PROJECTION: bool = false;

    fn parse(_: &Params) -> Result<Self, Problem> {
        Ok(Self {})
    }
}

/// `/healthz` takes no parameters and is open even on a private server (a `token` is allowed and ignored).
#[derive(Debug)]
pub struct HealthQuery;

impl ReadQuery for HealthQuery {
    const KNOWN: &'static [&'static str] = &[];
    const OPEN: bool = true;
    const READS_PROJECTION: bool = false;

    fn parse(_: &Params) -> Result<Self, Problem> {
        Ok(Self)
    }
}

read_query! {
    /// A slice of the global log.
    EventsQuery {
        /// Start after this seq.
        #[param(required = false, minimum = 0, default = 0)]
        after: u64,
        /// How many events at most.
        #[param(required = false, minimum = 1, maximum = 10_000, default = 1000)]
        limit: u64,
    }
}

impl ReadQuery for EventsQuery {
    const KNOWN: &'static [&'static str] = Self::FIELDS;
    const READS_PROJECTION: bool = false;

    fn parse(params: &Params) -> Result<Self, Problem> {
        Ok(Self { after: params.number("after", 0, 0, u64::MAX)?, limit: params.number("limit", 1000, 1, 10_000)? })
    }
}

/// `GET /v1/events?after=SEQ&limit=N`: the global log in seq order, one event a line.
#[utoipa::path(
    get,
    path = "/v1/events",
    tag = "reads",
    operation_id = "getEvents",
    params(EventsQuery, TokenParam),
    responses(EventLines, ReadProblems, Unavailable),
    security((), ("bearerAuth" = [])),
)]
pub async fn events(State(s): State<AppState>, Reader(q): Reader<EventsQuery>) -> Result<Response, Problem> {
    let log = s.log.clone();
    let events = tokio::task::spawn_blocking(move || log.read_after(q.after, q.limit as usize))
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

/// A procedure's history, oldest first.
#[derive(Serialize, ToSchema)]
pub struct History {
    /// Every event of its stream, retracted ones and retractions included.
    #[schema(value_type = Vec<events::Event>)]
    items: Vec<Value>,
}

/// A procedure's history
///
/// Every event of its stream, oldest first, retracted ones and retractions included.
#[utoipa::path(
    get,
    path = "/v1/procedures/{code}/events",
    tag = "reads",
    operation_id = "getProcedureHistory",
    params(CodeParam, TokenParam),
    responses((status = 200, description = "Its events.", body = History), ReadProblems, NotFound, Unavailable),
    security((), ("bearerAuth" = [])),
)]
pub async fn procedure_events(
    State(s): State<AppState>,
    _: Reader<NoQuery>,
    CodeToRead(code): CodeToRead,
) -> Result<Response, Problem> {
    let events = s.log.read_stream(&StreamId::procedure(&code)).map_err(unavailable)?;
    if events.is_empty() {
        return Err(Problem::not_found("code", format!("there is no procedure {code}")));
    }
    let items = events.iter().map(|e| e.to_json()).collect();
    Ok(axum::Json(History { items }).into_response())
}

/// One procedure
///
/// Its current and baseline attributes, before/after burden, reductions and lineage, with its `ETag`
/// (the stream version, to send back as `If-Match`).
#[utoipa::path(
    get,
    path = "/v1/procedures/{code}",
    tag = "reads",
    operation_id = "getProcedure",
    params(CodeParam, FiguresQuery, TokenParam),
    responses(
        (status = 200, description = "The procedure.", body = ProcedureView,
            headers(("ETag" = String, description = "The procedure's stream version in quotes (`\"3\"`): send it back as `If-Match`."))),
        ReadProblems, NotFound,
    ),
    security((), ("bearerAuth" = [])),
)]
pub async fn procedure(
    State(s): State<AppState>,
    Reader(q): Reader<FiguresQuery>,
    CodeToRead(code): CodeToRead,
) -> Result<Response, Problem> {
    let at = crate::live::Live::moment(q.as_of, q.known_at);
    let projection = s.live.projection.read().unwrap_or_else(|p| p.into_inner());
    let view = projection.procedure(code.as_str(), at, q.baseline_on);
    drop(projection);
    let view = view.map_err(query_problem)?;
    let mut response = axum::Json(&view).into_response();
    if let Ok(etag) = HeaderValue::from_str(&format!("\"{}\"", view.version)) {
        response.headers_mut().insert(header::ETAG, etag);
    }
    Ok(response)
}

read_query! {
    /// The list's filters, page and moment.
    ProceduresQuery {
        /// Only procedures of this agency (exact).
        agency: Option<String>,
        /// Only procedures of this sector (exact).
        sector: Option<String>,
        /// Only procedures of this level.
        level: Option<Level>,
        /// Only procedures with this status.
        status: Option<Status>,
        /// Matches code, name, sector or agency, ignoring case and Vietnamese diacritics (`đ` read as `d`).
        q: Option<String>,
        /// Start after this code (the previous page's `next_after`).
        after: Option<String>,
        /// Page size.
        #[param(required = false, minimum = 1, maximum = 1000, default = 100)]
        limit: u64,
        ..moment,
        /// Accepted as on every procedure read; the list has no figures it changes.
        #[allow(dead_code)] // Parsed, so that a bad date is a 400 as on the other procedure reads.
        baseline_on: Option<Date>,
    }
}

fn level(value: &str) -> Option<Level> {
    [Level::Central, Level::Province, Level::District, Level::Commune].into_iter().find(|l| l.as_str() == value)
}

fn status(value: &str) -> Option<Status> {
    [Status::Active, Status::Abolished, Status::Merged].into_iter().find(|s| s.as_str() == value)
}

impl ReadQuery for ProceduresQuery {
    const KNOWN: &'static [&'static str] = Self::FIELDS;
    const READS_PROJECTION: bool = true;

    /// In the order the checks have always run: the moment, the baseline, the page, the filters.
    fn parse(params: &Params) -> Result<Self, Problem> {
        let (as_of, known_at) = (params.date("as_of")?, params.time("known_at")?);
        let baseline_on = params.date("baseline_on")?;
        let limit = params.number("limit", 100, 1, 1000)?;
        let level = params
            .get("level")
            .map(|l| {
                level(l).ok_or_else(|| Problem::bad_request("level", "must be central, province, district or commune"))
            })
            .transpose()?;
        let status = params
            .get("status")
            .map(|st| status(st).ok_or_else(|| Problem::bad_request("status", "must be active, abolished or merged")))
            .transpose()?;
        let text = |name: &str| params.get(name).map(str::to_owned);
        Ok(Self {
            agency: text("agency"),
            sector: text("sector"),
            level,
            status,
            q: text("q"),
            after: text("after"),
            limit,
            as_of,
            known_at,
            baseline_on,
        })
    }
}

/// A procedure in the list, as of `as_of` (the answer's keys are in alphabetical order).
#[derive(ToSchema)]
#[allow(dead_code)] // A schema only: the handler writes the same members.
pub struct ListedProcedure {
    agency: events::value::Agency,
    code: events::value::ProcedureCode,
    /// Its attributes as of `as_of`.
    current: events::Procedure,
    level: Level,
    /// The procedure it was merged into.
    merged_into: Option<events::value::ProcedureCode>,
    name: events::value::Name,
    sector: events::value::Sector,
    status: Status,
}

/// A page of procedures ordered by code.
#[derive(Serialize, ToSchema)]
pub struct ProcedurePage {
    #[schema(value_type = Vec<ListedProcedure>)]
    items: Vec<Value>,
    /// Pass as `after` for the next page; null on the last.
    next_after: Option<events::value::ProcedureCode>,
}

/// List procedures
///
/// Procedures registered as of `as_of`, filtered, ordered by code and paged with `after` and `limit`.
#[utoipa::path(
    get,
    path = "/v1/procedures",
    tag = "reads",
    operation_id = "listProcedures",
    params(ProceduresQuery, TokenParam),
    responses((status = 200, description = "A page of procedures.", body = ProcedurePage), ReadProblems),
    security((), ("bearerAuth" = [])),
)]
pub async fn procedures(State(s): State<AppState>, Reader(q): Reader<ProceduresQuery>) -> Result<Response, Problem> {
    let at = crate::live::Live::moment(q.as_of, q.known_at);
    let limit = q.limit as usize;
    let needle = q.q.as_deref().map(Needle::new);
    let projection = s.live.projection.read().unwrap_or_else(|p| p.into_inner());
    let mut items: Vec<Value> = Vec::with_capacity(limit);
    let mut last = None;
    let mut more = false;
    for listed in projection.procedures(q.after.as_deref(), at) {
        let p = &listed.procedure;
        let keep = q.agency.as_ref().is_none_or(|a| p.agency.as_str() == a)
            && q.sector.as_ref().is_none_or(|x| p.sector.as_str() == x)
            && q.level.is_none_or(|l| p.level == l)
            && q.status.is_none_or(|st| listed.status == st)
            && needle.as_ref().is_none_or(|n| n.finds(p));
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
        last = Some(p.code.clone());
    }
    drop(projection);
    let next_after = if more { last } else { None };
    Ok(axum::Json(ProcedurePage { items, next_after }).into_response())
}

read_query! {
    /// The grouping, the moment and the baseline of the figures.
    ReductionsQuery {
        /// How to group the roots (by their baseline attributes).
        #[param(required = false)]
        group_by: GroupBy,
        ..moment,
        /// Measure reductions from this date. Default: the earliest counted registration; `as_of` before it
        /// is a 400.
        baseline_on: Option<Date>,
    }
}

impl ReadQuery for ReductionsQuery {
    const KNOWN: &'static [&'static str] = Self::FIELDS;
    const READS_PROJECTION: bool = true;

    fn parse(params: &Params) -> Result<Self, Problem> {
        let group_by = params.group_by()?;
        let (as_of, known_at) = (params.date("as_of")?, params.time("known_at")?);
        Ok(Self { group_by, as_of, known_at, baseline_on: params.date("baseline_on")? })
    }
}

/// Reductions by group
///
/// The Standard Cost Model figures per group of roots at constant prices (the tariffs in force at
/// `as_of`), groups ordered by key.
#[utoipa::path(
    get,
    path = "/v1/reductions",
    tag = "reads",
    operation_id = "getReductions",
    params(ReductionsQuery, TokenParam),
    responses((status = 200, description = "The figures.", body = Reductions), ReadProblems),
    security((), ("bearerAuth" = [])),
)]
pub async fn reductions(State(s): State<AppState>, Reader(q): Reader<ReductionsQuery>) -> Result<Response, Problem> {
    let at = crate::live::Live::moment(q.as_of, q.known_at);
    let r = s.live.reductions(q.group_by, at, q.baseline_on).map_err(|e| match e {
        crate::live::ReductionsError::Query(e) => query_problem(e),
        encode @ crate::live::ReductionsError::Encode(_) => unavailable(encode),
    })?;
    let mut response = (StatusCode::OK, r.json(at.known_at)).into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    Ok(response)
}

/// Every programme, ordered by id.
#[derive(Serialize, ToSchema)]
pub struct ProgrammeList {
    #[schema(value_type = Vec<ProgrammeProgress>)]
    items: Value,
}

/// Every programme's progress
///
/// Ordered by id. Programme definitions count by `known_at` alone.
#[utoipa::path(
    get,
    path = "/v1/programmes",
    tag = "reads",
    operation_id = "listProgrammes",
    params(MomentQuery, TokenParam),
    responses((status = 200, description = "The programmes.", body = ProgrammeList), ReadProblems),
    security((), ("bearerAuth" = [])),
)]
pub async fn programmes(State(s): State<AppState>, Reader(q): Reader<MomentQuery>) -> Result<Response, Problem> {
    let items = s.live.programmes(q.moment());
    Ok(axum::Json(ProgrammeList { items: json!(items) }).into_response())
}

/// One programme's progress
///
/// Its definition and, at min(as_of, deadline) from its own baseline over its scope, its figures and
/// verdicts. Programme definitions count by `known_at` alone.
#[utoipa::path(
    get,
    path = "/v1/programmes/{id}",
    tag = "reads",
    operation_id = "getProgramme",
    params(("id" = super::path::ProgrammeId, Path, description = "A programme's id.", example = "de-an-30"), MomentQuery, TokenParam),
    responses((status = 200, description = "The programme.", body = ProgrammeProgress), ReadProblems, NotFound),
    security((), ("bearerAuth" = [])),
)]
pub async fn programme(
    State(s): State<AppState>,
    Reader(q): Reader<MomentQuery>,
    ProgrammeToRead(id): ProgrammeToRead,
) -> Result<Response, Problem> {
    let at = q.moment();
    let p = s.live.projection.read().unwrap_or_else(|p| p.into_inner()).programme(id.as_str(), at);
    Ok(axum::Json(p.map_err(query_problem)?).into_response())
}

/// Where publishing to NATS stands.
#[derive(Serialize, ToSchema)]
pub struct NatsHealth {
    /// Whether the publisher is connected.
    connected: bool,
    /// Events the log holds that NATS does not yet.
    lag: u64,
    /// The last seq published.
    published: u64,
}

/// Up, and where the log and the projection stand (the answer's keys are in alphabetical order).
#[derive(Serialize, ToSchema)]
pub struct Health {
    /// The last seq in the log.
    log_head: u64,
    /// Present when the server publishes to NATS.
    #[serde(skip_serializing_if = "Option::is_none")]
    nats: Option<NatsHealth>,
    /// The last seq the read models have folded.
    projected: u64,
    /// Always `ok` when it answers.
    #[schema(value_type = String, example = "ok")]
    status: &'static str,
}

/// Health
///
/// Open even on a private server (a `token` is accepted and ignored).
#[utoipa::path(
    get,
    path = "/healthz",
    tag = "operations",
    operation_id = "getHealth",
    params(TokenParam),
    responses((status = 200, description = "Up.", body = Health), BadRequest),
)]
pub async fn healthz(State(s): State<AppState>, _: Reader<HealthQuery>) -> Result<Response, Problem> {
    let head = s.log.head();
    let nats = s.nats.as_ref().map(|nats| {
        let published = nats.published();
        let connected = nats.connected.load(std::sync::atomic::Ordering::SeqCst) == 1;
        NatsHealth { connected, lag: head.saturating_sub(published), published }
    });
    let projected = *s.live.projected.borrow();
    Ok(axum::Json(Health { log_head: head, nats, projected, status: "ok" }).into_response())
}

/// Prometheus metrics
///
/// Request counts and latencies, append latency, the log head.
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "operations",
    operation_id = "getMetrics",
    params(TokenParam),
    responses(MetricsText, ReadProblems),
    security((), ("bearerAuth" = [])),
)]
pub async fn metrics(State(s): State<AppState>, _: Reader<NoQuery>) -> Result<Response, Problem> {
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
