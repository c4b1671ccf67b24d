//! A writer at the edge: the bearer token's grant, no query parameters, a JSON body of at most 1 MiB
//! parsed into the write's type (its envelope first), the `Idempotency-Key` with the fingerprint of
//! method, path and body, and `If-Match`; then the recording, answered 201 or with the problem the SPEC
//! gives each refusal.

use axum::extract::{FromRequest, Request};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use events::decide::{Affected, Command, Refusal, RuleBroken};
use events::value::ProcedureCode;
use events::{Change, StreamId};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use sha2::{Digest, Sha256};
use utoipa::ToSchema;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::Schema;

use super::AppState;
use super::body::{self, Envelope};
use super::problem::{AffectedEvent, Problem};
use crate::access::Grant;
use crate::record::{RecordError, Recording, record};

/// The body of one write: its payload's fields, beside which the envelope travels.
pub trait WriteBody: DeserializeOwned + ToSchema {
    /// It takes `effective_on` (required); the others take effect when recorded.
    const DATED: bool;
    /// `legal_basis` is the payload's own (a registration's is the procedure's), not the envelope's.
    const OWNS_LEGAL_BASIS: bool = false;

    /// What the derived schema cannot say (rules across fields); the envelope is added by the caller.
    fn refine(schema: RefOr<Schema>) -> RefOr<Schema> {
        schema
    }
}

/// A write request that passed the edge: its body, and what records the change made of it.
#[derive(Debug)]
pub struct Writer<B> {
    pub body: B,
    pub recorder: Recorder,
}

/// Everything of a write but its payload: who writes, the envelope, the idempotency key and `If-Match`.
#[derive(Debug)]
pub struct Recorder {
    grant: Grant,
    envelope: Envelope,
    /// `Idempotency-Key` and the digest of method, path and body.
    idempotency: Option<(String, eventstore::Hash)>,
    /// `If-Match`, parsed when the handler asks: a body that breaks a rule is answered before a bad header.
    if_match: Result<Option<u64>, Problem>,
}

impl<B: WriteBody> FromRequest<AppState> for Writer<B> {
    type Rejection = Problem;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, Problem> {
        let (parts, raw) = request.into_parts();
        let grant = state.authenticate(&parts.headers, None)?;
        if let Some(query) = parts.uri.query().filter(|q| !q.is_empty()) {
            let name = query.split('&').next().unwrap_or(query).split('=').next().unwrap_or(query);
            return Err(Problem::bad_request(name, "writes take no query parameters"));
        }
        let bytes = axum::body::to_bytes(raw, body::MAX_BODY).await.map_err(|_| body::too_large())?;
        let mut object = body::object(&parts.headers, &bytes)?;
        let idempotency = match parts.headers.get("idempotency-key") {
            None => None,
            Some(key) => {
                let key = key.to_str().ok().filter(|k| !k.is_empty() && k.len() <= 200);
                let key =
                    key.ok_or_else(|| Problem::bad_request("Idempotency-Key", "must be 1–200 visible characters"))?;
                let mut digest = Sha256::new();
                digest.update(parts.method.as_str().as_bytes());
                digest.update([0]);
                digest.update(parts.uri.path().as_bytes());
                digest.update([0]);
                // serde_json's maps are sorted, so equal JSON gives equal bytes whatever the key order.
                digest.update(serde_json::to_vec(&object).unwrap_or_default());
                Some((key.to_owned(), digest.finalize().into()))
            }
        };
        let envelope = body::envelope(&mut object, B::DATED, B::OWNS_LEGAL_BASIS)?;
        let body = body::parse(Value::Object(object), "")?;
        let recorder = Recorder { grant, envelope, idempotency, if_match: if_match(&parts.headers) };
        Ok(Self { body, recorder })
    }
}

/// `If-Match: 3` or `If-Match: "3"`.
fn if_match(headers: &HeaderMap) -> Result<Option<u64>, Problem> {
    let Some(v) = headers.get(header::IF_MATCH) else { return Ok(None) };
    let text = v.to_str().unwrap_or("").trim().trim_start_matches("W/").trim_matches('"');
    text.parse()
        .map(Some)
        .map_err(|_| Problem::bad_request("If-Match", "must be the stream version the writer saw, e.g. 3 or \"3\""))
}

/// An event a write recorded (the answer's keys are in alphabetical order).
#[derive(Serialize, ToSchema)]
pub struct WrittenEvent {
    event_id: uuid::Uuid,
    /// Its global position.
    #[schema(minimum = 1)]
    seq: u64,
    #[schema(value_type = StreamId)]
    stream: String,
    #[serde(rename = "type")]
    #[schema(value_type = events::schema::EventType)]
    event_type: &'static str,
    /// Its position in its stream.
    #[schema(minimum = 1)]
    version: u64,
}

/// What a write answers: the events written (a merge writes one to each stream it touches).
#[derive(Serialize, ToSchema)]
pub struct Written {
    #[schema(min_items = 1)]
    events: Vec<WrittenEvent>,
}

impl Recorder {
    /// The version the writer saw of `code`'s stream, from `If-Match`, if it sent one.
    pub fn expected_of(&self, code: &ProcedureCode) -> Result<Vec<(StreamId, u64)>, Problem> {
        let seen = self.if_match.clone()?;
        Ok(seen.map(|v| vec![(StreamId::procedure(code), v)]).unwrap_or_default())
    }

    /// Records `change` with the envelope and the versions the writer saw, and answers 201 with the events.
    pub async fn record(
        self,
        state: &AppState,
        change: Change,
        expected: Vec<(StreamId, u64)>,
    ) -> Result<Response, Problem> {
        // A code in the body that is not in the log is a field error (422), not a missing resource (404).
        let body_codes = match &change {
            Change::ProceduresMerged(m) => m.sources.clone(),
            _ => Vec::new(),
        };
        let Envelope { effective_on, legal_basis, note } = self.envelope;
        let effective_on = effective_on.unwrap_or_else(|| eventstore::system_clock().date_in_vietnam());
        let command = Command { change, effective_on, legal_basis, note };
        let recording = Recording { command, grant: self.grant, idempotency: self.idempotency, expected };
        let appended = record(&state.log, recording).await.map_err(|e| match e {
            RecordError::Refused(Refusal::UnknownProcedure { code }) if body_codes.contains(&code) => {
                let i = body_codes.iter().position(|c| *c == code).unwrap_or(0);
                Problem::invalid(&format!("/sources/{i}"), format!("there is no procedure {code}"))
            }
            other => problem_of(other),
        })?;
        let events = appended
            .events
            .iter()
            .map(|e| WrittenEvent {
                event_id: e.event_id,
                seq: e.seq,
                stream: e.stream.name(),
                event_type: e.type_name(),
                version: e.version,
            })
            .collect();
        Ok((StatusCode::CREATED, axum::Json(Written { events })).into_response())
    }
}

fn affected(a: &Affected) -> AffectedEvent {
    AffectedEvent {
        effective_on: a.effective_on,
        event_id: a.event_id,
        rule: a.rule.to_string(),
        seq: a.seq,
        event_type: a.event_type,
    }
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
                    p.events = list.iter().map(affected).collect();
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
