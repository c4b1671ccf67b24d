//! Path parameters, parsed once at the edge: a procedure's code, a tariff's applicant, a programme's id.
//!
//! A path that names nothing the API could hold is a 404 naming the parameter, as the SPEC asks, with
//! the wording each route has always answered.

use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use events::value::{ProcedureCode, TariffApplicant};
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::Schema;
use utoipa::{PartialSchema, ToSchema};

use super::problem::Problem;

/// The raw text of the path's one parameter; axum's own answer where the path cannot be decoded.
async fn segment<S: Send + Sync>(parts: &mut Parts, state: &S) -> Result<String, Response> {
    Path::<String>::from_request_parts(parts, state).await.map(|Path(s)| s).map_err(IntoResponse::into_response)
}

/// The procedure a write names in its path (`/v1/procedures/{code}/…`).
#[derive(Debug)]
pub struct CodeToWrite(pub ProcedureCode);

impl<S: Send + Sync> FromRequestParts<S> for CodeToWrite {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Response> {
        let code = segment(parts, state).await?;
        ProcedureCode::parse(&code)
            .map(Self)
            .map_err(|e| Problem::not_found("code", format!("no procedure {code:?}: a code {e}")).into_response())
    }
}

/// The procedure a read names in its path (`/v1/procedures/{code}`, its history).
#[derive(Debug)]
pub struct CodeToRead(pub ProcedureCode);

impl<S: Send + Sync> FromRequestParts<S> for CodeToRead {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Response> {
        let code = segment(parts, state).await?;
        ProcedureCode::parse(&code)
            .map(Self)
            .map_err(|_| Problem::not_found("code", format!("there is no procedure {code:?}")).into_response())
    }
}

/// Whose time a tariff values (`/v1/tariffs/{applicant}`).
#[derive(Debug)]
pub struct ApplicantInPath(pub TariffApplicant);

impl<S: Send + Sync> FromRequestParts<S> for ApplicantInPath {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Response> {
        let applicant = segment(parts, state).await?;
        let parsed = match applicant.as_str() {
            "citizen" => Some(TariffApplicant::Citizen),
            "business" => Some(TariffApplicant::Business),
            _ => None,
        };
        parsed.map(Self).ok_or_else(|| {
            Problem::not_found("applicant", format!("no tariff {applicant:?}: use citizen or business")).into_response()
        })
    }
}

/// A programme's id: the alphabet and length of a procedure code. A value that exists is one.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct ProgrammeId(ProcedureCode);

impl ProgrammeId {
    pub fn parse(s: &str) -> Result<Self, String> {
        ProcedureCode::parse(s).map(Self)
    }

    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    /// The id as the domain's events hold it.
    pub fn into_code(self) -> ProcedureCode {
        self.0
    }
}

impl PartialSchema for ProgrammeId {
    fn schema() -> RefOr<Schema> {
        ProcedureCode::schema()
    }
}

impl ToSchema for ProgrammeId {
    fn name() -> std::borrow::Cow<'static, str> {
        ProcedureCode::name()
    }
}

/// The programme a definition names (`PUT /v1/programmes/{id}`): an id that cannot be one is a 404.
#[derive(Debug)]
pub struct ProgrammeToDefine(pub ProgrammeId);

impl<S: Send + Sync> FromRequestParts<S> for ProgrammeToDefine {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Response> {
        let id = segment(parts, state).await?;
        ProgrammeId::parse(&id)
            .map(Self)
            .map_err(|e| Problem::not_found("id", format!("a programme id {e}")).into_response())
    }
}

/// The programme a read names (`GET /v1/programmes/{id}`): an id that cannot be one names no programme.
#[derive(Debug)]
pub struct ProgrammeToRead(pub ProgrammeId);

impl<S: Send + Sync> FromRequestParts<S> for ProgrammeToRead {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Response> {
        let id = segment(parts, state).await?;
        // The same answer as for a well-formed id that no definition has.
        ProgrammeId::parse(&id)
            .map(Self)
            .map_err(|_| Problem::not_found("id", format!("there is no programme {id}")).into_response())
    }
}
