//! Problem documents (RFC 9457): every error the API answers, with the field and the rule it broke.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

/// One field that broke a rule: `field` is a JSON Pointer into the body, or a query parameter's name.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct FieldProblem {
    /// A JSON Pointer into the body (`/set/fee_vnd`), or a parameter's or header's name.
    pub field: String,
    /// The rule it broke, in words.
    pub message: String,
}

/// A recorded event named by a refusal: one that stands in the way of the change.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct AffectedEvent {
    pub effective_on: events::value::Date,
    pub event_id: uuid::Uuid,
    /// The rule it would break.
    pub rule: String,
    pub seq: u64,
    #[serde(rename = "type")]
    #[schema(value_type = events::schema::EventType)]
    pub event_type: &'static str,
}

/// An `application/problem+json` answer (boxed: errors travel through many `Result`s).
#[derive(Clone, Debug)]
pub struct Problem(Box<ProblemDocument>);

impl std::ops::Deref for Problem {
    type Target = ProblemDocument;
    fn deref(&self) -> &ProblemDocument {
        &self.0
    }
}

impl std::ops::DerefMut for Problem {
    fn deref_mut(&mut self) -> &mut ProblemDocument {
        &mut self.0
    }
}

/// A problem document (RFC 9457).
#[derive(Clone, Debug, Serialize, ToSchema)]
#[schema(as = Problem)]
pub struct ProblemDocument {
    /// `https://p30.example/problems/{slug}`.
    #[serde(rename = "type")]
    #[schema(format = "uri")]
    pub kind: String,
    pub title: String,
    #[schema(minimum = 400, maximum = 599)]
    pub status: u16,
    pub detail: String,
    /// Each field that broke a rule.
    pub errors: Vec<FieldProblem>,
    /// On a version conflict (409): the stream's current version.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current_version: Option<u64>,
    /// Recorded events named by the refusal (dependents of a retraction, later events a change would break).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub events: Vec<AffectedEvent>,
}

impl Problem {
    pub fn new(status: StatusCode, slug: &str, title: &str, detail: impl Into<String>) -> Self {
        Self(Box::new(ProblemDocument {
            kind: format!("https://p30.example/problems/{slug}"),
            title: title.to_owned(),
            status: status.as_u16(),
            detail: detail.into(),
            errors: Vec::new(),
            current_version: None,
            events: Vec::new(),
        }))
    }

    pub fn field(mut self, field: impl Into<String>, message: impl Into<String>) -> Self {
        self.errors.push(FieldProblem { field: field.into(), message: message.into() });
        self
    }

    pub fn bad_request(field: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        Self::new(StatusCode::BAD_REQUEST, "bad-request", "Bad request", format!("{field}: {message}"))
            .field(field, message)
    }

    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", "A field breaks a rule", format!("{field}: {message}"))
            .field(field, message)
    }

    pub fn not_found(field: &str, what: impl Into<String>) -> Self {
        let what = what.into();
        Self::new(StatusCode::NOT_FOUND, "not-found", "Not found", what.clone()).field(field, what)
    }

    pub fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "A valid bearer token is needed",
            "send Authorization: Bearer <token>",
        )
        .field("Authorization", "missing or unknown bearer token")
    }

    pub fn unavailable(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", "The event log cannot write now", detail)
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::BAD_REQUEST);
        let body = serde_json::to_vec(&*self.0).unwrap_or_default();
        let mut response = (status, body).into_response();
        response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
        response
    }
}

impl From<crate::access::Unauthorized> for Problem {
    fn from(_: crate::access::Unauthorized) -> Self {
        Self::unauthorized()
    }
}
