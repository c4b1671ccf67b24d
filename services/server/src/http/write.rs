//! The write endpoints: each turns a request into a domain command and records it.

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use events::decide::{Affected, Command, Refusal, RuleBroken};
use events::event::{Abolition, Amendment, EstimateRevision, Merger, Programme, Retraction, Simplification, Tariff};
use events::value::{Date, LongText, ProcedureCode, Tag, TariffApplicant};
use events::{Change, Changes, Estimates, Procedure, StreamId};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use super::AppState;
use super::body::{self, Envelope};
use super::problem::Problem;
use crate::record::{RecordError, Recording, record};

/// What a handler makes of a body: the command and the versions the writer says it saw.
struct Built {
    change: Change,
    envelope: Envelope,
    expected: Vec<(StreamId, u64)>,
}

fn code_in_path(code: &str) -> Result<ProcedureCode, Problem> {
    ProcedureCode::parse(code).map_err(|e| Problem::not_found("code", format!("no procedure {code:?}: a code {e}")))
}

/// `If-Match: 3` or `If-Match: "3"`.
fn if_match(headers: &HeaderMap) -> Result<Option<u64>, Problem> {
    let Some(v) = headers.get(header::IF_MATCH) else { return Ok(None) };
    let text = v.to_str().unwrap_or("").trim().trim_start_matches("W/").trim_matches('"');
    text.parse()
        .map(Some)
        .map_err(|_| Problem::bad_request("If-Match", "must be the stream version the writer saw, e.g. 3 or \"3\""))
}

/// Authenticates, reads and parses the body, builds the command, records it, and answers 201.
async fn write(
    state: &AppState,
    headers: &HeaderMap,
    method: &Method,
    uri: &Uri,
    raw: Body,
    build: impl FnOnce(Map<String, Value>) -> Result<Built, Problem>,
) -> Result<Response, Problem> {
    let grant = state.authenticate(headers, None)?;
    if let Some(query) = uri.query().filter(|q| !q.is_empty()) {
        let name = query.split('&').next().unwrap_or(query).split('=').next().unwrap_or(query);
        return Err(Problem::bad_request(name, "writes take no query parameters"));
    }
    let bytes = axum::body::to_bytes(raw, body::MAX_BODY).await.map_err(|_| body::too_large())?;
    let object = body::object(headers, &bytes)?;
    let idempotency = match headers.get("idempotency-key") {
        None => None,
        Some(key) => {
            let key = key.to_str().ok().filter(|k| !k.is_empty() && k.len() <= 200);
            let key = key.ok_or_else(|| Problem::bad_request("Idempotency-Key", "must be 1–200 visible characters"))?;
            let mut digest = Sha256::new();
            digest.update(method.as_str().as_bytes());
            digest.update([0]);
            digest.update(uri.path().as_bytes());
            digest.update([0]);
            // serde_json's maps are sorted, so equal JSON gives equal bytes whatever the key order.
            digest.update(serde_json::to_vec(&object).unwrap_or_default());
            Some((key.to_owned(), digest.finalize().into()))
        }
    };
    let built = build(object)?;
    // A code in the body that is not in the log is a field error (422), not a missing resource (404).
    let body_codes = match &built.change {
        Change::ProceduresMerged(m) => m.sources.clone(),
        _ => Vec::new(),
    };
    let effective_on = built.envelope.effective_on.unwrap_or_else(|| eventstore::system_clock().date_in_vietnam());
    let command = Command {
        change: built.change,
        effective_on,
        legal_basis: built.envelope.legal_basis,
        note: built.envelope.note,
    };
    let recording = Recording { command, grant, idempotency, expected: built.expected };
    let appended = record(&state.log, recording).await.map_err(|e| match e {
        RecordError::Refused(Refusal::UnknownProcedure { code }) if body_codes.contains(&code) => {
            let i = body_codes.iter().position(|c| *c == code).unwrap_or(0);
            Problem::invalid(&format!("/sources/{i}"), format!("there is no procedure {code}"))
        }
        other => problem_of(other),
    })?;
    let events: Vec<Value> = appended
        .events
        .iter()
        .map(|e| json!({"event_id": e.event_id, "seq": e.seq, "stream": e.stream.name(), "version": e.version, "type": e.type_name()}))
        .collect();
    Ok((StatusCode::CREATED, axum::Json(json!({ "events": events }))).into_response())
}

fn affected_json(a: &Affected) -> Value {
    json!({"event_id": a.event_id, "seq": a.seq, "type": a.event_type, "effective_on": a.effective_on.to_string(), "rule": a.rule.to_string()})
}

/// The field a broken rule is about.
fn rule_field(rule: &RuleBroken) -> Vec<(String, String)> {
    match rule {
        RuleBroken::BurdenRises { rises, .. } => rises
            .iter()
            .map(|r| {
                (
                    format!("/set/{}", r.field),
                    format!("would rise from {} to {}; record an amendment instead", r.from, r.to),
                )
            })
            .collect(),
        RuleBroken::NothingChanges { .. } => vec![("/set".into(), rule.to_string())],
        _ => vec![("/effective_on".into(), rule.to_string())],
    }
}

/// Maps every way a recording can fail to its problem document.
fn problem_of(e: RecordError) -> Problem {
    match e {
        RecordError::Refused(refusal) => {
            let detail = refusal.to_string();
            match refusal {
                Refusal::Invalid(errors) => {
                    let mut p =
                        Problem::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", "A field breaks a rule", detail);
                    for e in errors {
                        p = p.field(e.field, e.message);
                    }
                    p
                }
                Refusal::CodeTaken { .. } => {
                    Problem::new(StatusCode::CONFLICT, "code-taken", "Code already taken", detail.clone())
                        .field("/code", detail)
                }
                Refusal::UnknownProcedure { code } => {
                    Problem::not_found("code", format!("there is no procedure {code}"))
                }
                Refusal::UnknownEvent { .. }
                | Refusal::RetractionOfRetraction { .. }
                | Refusal::AlreadyRetracted { .. } => Problem::invalid("/event_id", detail),
                Refusal::Rule(rule) => {
                    let mut p =
                        Problem::new(StatusCode::UNPROCESSABLE_ENTITY, "rule", "The change breaks a rule", detail);
                    for (field, message) in rule_field(&rule) {
                        p = p.field(field, message);
                    }
                    p
                }
                Refusal::BreaksLaterEvents(list) | Refusal::HasDependents(list) => {
                    let mut p = Problem::new(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        "depends",
                        "Other recorded events stand in the way",
                        detail,
                    );
                    for a in &list {
                        p = p.field("/effective_on", a.to_string());
                    }
                    p.events = list.iter().map(affected_json).collect();
                    p
                }
            }
        }
        RecordError::Forbidden(what) => Problem::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "Not allowed",
            format!("this token may not write for {what}"),
        )
        .field("Authorization", format!("may not write for {what}")),
        RecordError::Conflict { stream, current } => {
            let mut p = Problem::new(
                StatusCode::CONFLICT,
                "version-conflict",
                "Version conflict",
                format!("{stream} is at version {current}; read it again and retry"),
            )
            .field("If-Match", format!("the current version is {current}"));
            p.current_version = Some(current);
            p
        }
        RecordError::KeyReused => Problem::invalid("Idempotency-Key", "was already used for a different request"),
        RecordError::Read(e) => Problem::unavailable(e.to_string()),
        RecordError::Append(e) => Problem::unavailable(e.to_string()),
        RecordError::Contended => Problem::unavailable(RecordError::Contended.to_string()),
    }
}

fn expect_path_version(headers: &HeaderMap, code: &ProcedureCode) -> Result<Vec<(StreamId, u64)>, Problem> {
    Ok(if_match(headers)?.map(|v| vec![(StreamId::procedure(code), v)]).unwrap_or_default())
}

pub async fn register(
    State(s): State<AppState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    raw: Body,
) -> Result<Response, Problem> {
    let mut code = None;
    let build = |mut body: Map<String, Value>| {
        let envelope = body::envelope(&mut body, true, true)?;
        let procedure: Procedure = body::parse(Value::Object(body), "")?;
        code = Some(procedure.code.clone());
        let expected = if_match(&headers)?.map(|v| vec![(StreamId::procedure(&procedure.code), v)]).unwrap_or_default();
        Ok(Built { change: Change::ProcedureRegistered(procedure), envelope, expected })
    };
    // The Location needs the code, which is only known once the body is parsed.
    let response = write(&s, &headers, &method, &uri, raw, build).await?;
    Ok(with_location(response, code.map(|c| format!("/v1/procedures/{c}"))))
}

fn with_location(mut response: Response, location: Option<String>) -> Response {
    if let Some(l) = location.and_then(|l| l.parse().ok()) {
        response.headers_mut().insert(header::LOCATION, l);
    }
    response
}

/// A write to the procedure named in the path: the body (which needs `effective_on`) parsed as `B` and
/// made into a change by `change`, checked against `If-Match`.
async fn procedure_write<B: serde::de::DeserializeOwned>(
    s: &AppState,
    code: &str,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    raw: Body,
    change: impl FnOnce(ProcedureCode, B) -> Change,
) -> Result<Response, Problem> {
    let code = code_in_path(code)?;
    let build = |mut body: Map<String, Value>| {
        let envelope = body::envelope(&mut body, true, false)?;
        let b: B = body::parse(Value::Object(body), "")?;
        Ok(Built { change: change(code.clone(), b), envelope, expected: expect_path_version(headers, &code)? })
    };
    write(s, headers, method, uri, raw, build).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SetBody {
    set: Changes,
    #[serde(default)]
    measures: Vec<Tag>,
}

pub async fn simplify(
    State(s): State<AppState>,
    Path(code): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    raw: Body,
) -> Result<Response, Problem> {
    let change =
        |code, b: SetBody| Change::ProcedureSimplified(Simplification { code, set: b.set, measures: b.measures });
    procedure_write(&s, &code, &method, &uri, &headers, raw, change).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AmendBody {
    set: Changes,
}

pub async fn amend(
    State(s): State<AppState>,
    Path(code): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    raw: Body,
) -> Result<Response, Problem> {
    let change = |code, b: AmendBody| Change::ProcedureAmended(Amendment { code, set: b.set });
    procedure_write(&s, &code, &method, &uri, &headers, raw, change).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EstimatesBody {
    #[serde(default)]
    baseline: Option<Estimates>,
    #[serde(default)]
    current: Option<Estimates>,
}

pub async fn revise_estimates(
    State(s): State<AppState>,
    Path(code): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    raw: Body,
) -> Result<Response, Problem> {
    let change = |code, b: EstimatesBody| {
        Change::EstimateRevised(EstimateRevision { code, baseline: b.baseline, current: b.current })
    };
    procedure_write(&s, &code, &method, &uri, &headers, raw, change).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AbolitionBody {
    reason: LongText,
}

pub async fn abolish(
    State(s): State<AppState>,
    Path(code): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    raw: Body,
) -> Result<Response, Problem> {
    let change = |code, b: AbolitionBody| Change::ProcedureAbolished(Abolition { code, reason: b.reason });
    procedure_write(&s, &code, &method, &uri, &headers, raw, change).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MergeBody {
    sources: Vec<ProcedureCode>,
    into: Procedure,
    #[serde(default)]
    expected_versions: std::collections::BTreeMap<ProcedureCode, u64>,
}

pub async fn merge(
    State(s): State<AppState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    raw: Body,
) -> Result<Response, Problem> {
    let build = |mut body: Map<String, Value>| {
        let envelope = body::envelope(&mut body, true, false)?;
        let b: MergeBody = body::parse(Value::Object(body), "")?;
        let expected = b.expected_versions.iter().map(|(c, v)| (StreamId::procedure(c), *v)).collect();
        let change = Change::ProceduresMerged(Merger { sources: b.sources, into: b.into });
        Ok(Built { change, envelope, expected })
    };
    write(&s, &headers, &method, &uri, raw, build).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RetractionBody {
    event_id: uuid::Uuid,
    reason: LongText,
}

pub async fn retract(
    State(s): State<AppState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    raw: Body,
) -> Result<Response, Problem> {
    let build = |mut body: Map<String, Value>| {
        let envelope = body::envelope(&mut body, false, false)?;
        let b: RetractionBody = body::parse(Value::Object(body), "")?;
        let change = Change::EntryRetracted(Retraction { event_id: b.event_id, reason: b.reason });
        Ok(Built { change, envelope, expected: Vec::new() })
    };
    write(&s, &headers, &method, &uri, raw, build).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TariffBody {
    vnd_per_hour: events::value::VndPerHour,
}

pub async fn set_tariff(
    State(s): State<AppState>,
    Path(applicant): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    raw: Body,
) -> Result<Response, Problem> {
    let applicant: TariffApplicant = serde_json::from_value(Value::String(applicant.clone()))
        .map_err(|_| Problem::not_found("applicant", format!("no tariff {applicant:?}: use citizen or business")))?;
    let build = |mut body: Map<String, Value>| {
        let envelope = body::envelope(&mut body, true, false)?;
        let b: TariffBody = body::parse(Value::Object(body), "")?;
        Ok(Built {
            change: Change::TariffSet(Tariff { applicant, vnd_per_hour: b.vnd_per_hour }),
            envelope,
            expected: Vec::new(),
        })
    };
    write(&s, &headers, &method, &uri, raw, build).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ProgrammeBody {
    name: events::value::Name,
    baseline_on: Date,
    deadline: Date,
    cost_reduction: events::value::Fraction,
    time_reduction: events::value::Fraction,
    scope: events::event::Scope,
}

pub async fn define_programme(
    State(s): State<AppState>,
    Path(id): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    raw: Body,
) -> Result<Response, Problem> {
    let id = ProcedureCode::parse(&id).map_err(|e| Problem::not_found("id", format!("a programme id {e}")))?;
    let build = |mut body: Map<String, Value>| {
        let envelope = body::envelope(&mut body, false, false)?;
        let b: ProgrammeBody = body::parse(Value::Object(body), "")?;
        let programme = Programme {
            id: id.clone(),
            name: b.name,
            baseline_on: b.baseline_on,
            deadline: b.deadline,
            cost_reduction: b.cost_reduction,
            time_reduction: b.time_reduction,
            scope: b.scope,
        };
        Ok(Built { change: Change::ProgrammeDefined(programme), envelope, expected: Vec::new() })
    };
    write(&s, &headers, &method, &uri, raw, build).await
}
