//! The write endpoints: each takes a [`Writer`] of its body, makes the domain command of it and records
//! it. The bodies are the request types: the document describes them from their derived schemas.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::http::header;
use axum::response::Response;
use events::event::{
    Abolition, Amendment, EstimateRevision, Merger, Programme, Retraction, Scope, Simplification, Tariff,
};
use events::procedure::SIMPLIFIABLE;
use events::value::{Date, Fraction, LongText, Name, ProcedureCode, Tag, VndPerHour};
use events::{Change, Changes, Estimates, Procedure, StreamId};
use serde::Deserialize;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{AllOfBuilder, AnyOfBuilder, ArrayBuilder, ObjectBuilder, Schema, Type};
use utoipa::{PartialSchema, ToSchema};

use super::AppState;
use super::answers::{Conflict, NotFound, WriteProblems};
use super::examples;
use super::path::{ApplicantInPath, CodeToWrite, ProgrammeToDefine};
use super::problem::Problem;
use super::writer::{WriteBody, Writer, Written};

impl WriteBody for Procedure {
    const DATED: bool = true;
    const OWNS_LEGAL_BASIS: bool = true;
}

/// The request body of a write: its payload's schema and the envelope beside it.
macro_rules! request_body {
    ($($(#[$meta:meta])* $name:ident = $body:ty;)+) => {$(
        $(#[$meta])*
        #[derive(Debug)]
        pub struct $name;

        impl PartialSchema for $name {
            fn schema() -> RefOr<Schema> {
                super::openapi::with_envelope::<$body>()
            }
        }

        impl ToSchema for $name {
            fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
                <$body as ToSchema>::schemas(schemas);
                super::openapi::envelope_schemas(schemas);
            }
        }
    )+};
}

request_body! {
    /// `POST /v1/procedures`.
    RegistrationRequest = Procedure;
    /// `POST /v1/procedures/{code}/simplifications`.
    SimplificationRequest = SimplificationBody;
    /// `POST /v1/procedures/{code}/amendments`.
    AmendmentRequest = AmendmentBody;
    /// `POST /v1/procedures/{code}/estimates`.
    EstimateRevisionRequest = EstimatesBody;
    /// `POST /v1/procedures/{code}/abolition`.
    AbolitionRequest = AbolitionBody;
    /// `POST /v1/merges`.
    MergerRequest = MergeBody;
    /// `POST /v1/retractions`.
    RetractionRequest = RetractionBody;
    /// `PUT /v1/tariffs/{applicant}`.
    TariffRequest = TariffBody;
    /// `PUT /v1/programmes/{id}`.
    ProgrammeRequest = ProgrammeBody;
}

fn with_location(mut response: Response, code: &ProcedureCode) -> Response {
    if let Ok(l) = format!("/v1/procedures/{code}").parse() {
        response.headers_mut().insert(header::LOCATION, l);
    }
    response
}

/// Register a procedure
///
/// Records a `ProcedureRegistered`. The code must be unused (ever: a retracted registration's code stays
/// taken). A recorder may register only for its agencies.
#[utoipa::path(
    post,
    path = "/v1/procedures",
    tag = "writes",
    operation_id = "registerProcedure",
    params(super::openapi::IfMatch, super::openapi::IdempotencyKey),
    request_body(content = RegistrationRequest, content_type = "application/json", example = examples::registration),
    responses(
        (status = 201, description = "Recorded: the events written.", body = Written,
            headers(("Location" = String, description = "Where the registered procedure can be read: `/v1/procedures/{code}`."))),
        WriteProblems, Conflict,
    ),
    security(("bearerAuth" = [])),
)]
pub async fn register(State(s): State<AppState>, w: Writer<Procedure>) -> Result<Response, Problem> {
    let Writer { body: procedure, recorder } = w;
    let expected = recorder.expected_of(&procedure.code)?;
    let code = procedure.code.clone();
    let response = recorder.record(&s, Change::ProcedureRegistered(procedure), expected).await?;
    // The Location needs the code, which is only known once the body is parsed.
    Ok(with_location(response, &code))
}

/// A simplification's `set`: only the attributes a simplification may change (the domain's list).
fn simplifiable_changes() -> RefOr<Schema> {
    let mut schema = Changes::schema();
    if let RefOr::T(Schema::Object(object)) = &mut schema {
        object.properties.retain(|name, _| SIMPLIFIABLE.contains(&name.as_str()));
        object.description = Some(
            "A simplification's `set`: burden attributes, `name` and `legal_basis`; at least one, and none may \
             rise in burden (a number going up, more documents or copies, `online` falling)."
                .to_owned(),
        );
    }
    schema
}

/// A `ProcedureSimplified`: burden attributes fall (and/or the name, the legal basis change).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SimplificationBody {
    #[schema(schema_with = simplifiable_changes)]
    set: Changes,
    /// Free tags, e.g. `liên thông`.
    #[serde(default)]
    measures: Vec<Tag>,
}

impl WriteBody for SimplificationBody {
    const DATED: bool = true;
}

/// Record a simplification
///
/// Records a `ProcedureSimplified`: the procedure must be active at `effective_on`, and at least one value
/// must change, none rising in burden (a rise is refused with a hint to record an amendment).
#[utoipa::path(
    post,
    path = "/v1/procedures/{code}/simplifications",
    tag = "writes",
    operation_id = "simplifyProcedure",
    params(super::openapi::CodeParam, super::openapi::IfMatch, super::openapi::IdempotencyKey),
    request_body(content = SimplificationRequest, content_type = "application/json", example = examples::simplification),
    responses((status = 201, description = "Recorded: the events written.", body = Written), WriteProblems, NotFound, Conflict),
    security(("bearerAuth" = [])),
)]
pub async fn simplify(
    State(s): State<AppState>,
    CodeToWrite(code): CodeToWrite,
    Writer { body, recorder }: Writer<SimplificationBody>,
) -> Result<Response, Problem> {
    let expected = recorder.expected_of(&code)?;
    let SimplificationBody { set, measures } = body;
    recorder.record(&s, Change::ProcedureSimplified(Simplification { code, set, measures }), expected).await
}

/// A `ProcedureAmended`: any attribute but the code may change; burden may rise.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AmendmentBody {
    set: Changes,
}

impl WriteBody for AmendmentBody {
    const DATED: bool = true;
}

/// Record an amendment
///
/// Records a `ProcedureAmended`: the procedure must be active; any attribute but `code` may change.
#[utoipa::path(
    post,
    path = "/v1/procedures/{code}/amendments",
    tag = "writes",
    operation_id = "amendProcedure",
    params(super::openapi::CodeParam, super::openapi::IfMatch, super::openapi::IdempotencyKey),
    request_body(content = AmendmentRequest, content_type = "application/json", example = examples::amendment),
    responses((status = 201, description = "Recorded: the events written.", body = Written), WriteProblems, NotFound, Conflict),
    security(("bearerAuth" = [])),
)]
pub async fn amend(
    State(s): State<AppState>,
    CodeToWrite(code): CodeToWrite,
    Writer { body, recorder }: Writer<AmendmentBody>,
) -> Result<Response, Problem> {
    let expected = recorder.expected_of(&code)?;
    let AmendmentBody { set } = body;
    recorder.record(&s, Change::ProcedureAmended(Amendment { code, set }), expected).await
}

/// An `EstimateRevised`: `current` values replace the current ones from `effective_on`; `baseline` values
/// replace the baseline ones for every `baseline_on` before it. At least one side must name a figure.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EstimatesBody {
    #[serde(default)]
    baseline: Option<Estimates>,
    #[serde(default)]
    current: Option<Estimates>,
}

impl WriteBody for EstimatesBody {
    const DATED: bool = true;

    /// At least one side names a figure: the decider refuses a revision that revises nothing.
    fn refine(schema: RefOr<Schema>) -> RefOr<Schema> {
        let side = |name: &str| {
            ObjectBuilder::new()
                .required(name)
                .property(name, ObjectBuilder::new().schema_type(Type::Object).min_properties(Some(1)))
        };
        let one_side = AnyOfBuilder::new().item(side("baseline")).item(side("current"));
        AllOfBuilder::new().item(schema).item(one_side).into()
    }
}

/// Revise estimates
///
/// Records an `EstimateRevised`: a re-measurement, not a reform. The procedure may have any status.
#[utoipa::path(
    post,
    path = "/v1/procedures/{code}/estimates",
    tag = "writes",
    operation_id = "reviseEstimates",
    params(super::openapi::CodeParam, super::openapi::IfMatch, super::openapi::IdempotencyKey),
    request_body(content = EstimateRevisionRequest, content_type = "application/json", example = examples::estimate_revision),
    responses((status = 201, description = "Recorded: the events written.", body = Written), WriteProblems, NotFound, Conflict),
    security(("bearerAuth" = [])),
)]
pub async fn revise_estimates(
    State(s): State<AppState>,
    CodeToWrite(code): CodeToWrite,
    Writer { body, recorder }: Writer<EstimatesBody>,
) -> Result<Response, Problem> {
    let expected = recorder.expected_of(&code)?;
    let EstimatesBody { baseline, current } = body;
    recorder.record(&s, Change::EstimateRevised(EstimateRevision { code, baseline, current }), expected).await
}

/// A `ProcedureAbolished`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AbolitionBody {
    /// Why it is abolished.
    reason: LongText,
}

impl WriteBody for AbolitionBody {
    const DATED: bool = true;
}

/// Abolish a procedure
///
/// Records a `ProcedureAbolished`: the procedure must be active.
#[utoipa::path(
    post,
    path = "/v1/procedures/{code}/abolition",
    tag = "writes",
    operation_id = "abolishProcedure",
    params(super::openapi::CodeParam, super::openapi::IfMatch, super::openapi::IdempotencyKey),
    request_body(content = AbolitionRequest, content_type = "application/json", example = examples::abolition),
    responses((status = 201, description = "Recorded: the events written.", body = Written), WriteProblems, NotFound, Conflict),
    security(("bearerAuth" = [])),
)]
pub async fn abolish(
    State(s): State<AppState>,
    CodeToWrite(code): CodeToWrite,
    Writer { body, recorder }: Writer<AbolitionBody>,
) -> Result<Response, Problem> {
    let expected = recorder.expected_of(&code)?;
    let AbolitionBody { reason } = body;
    recorder.record(&s, Change::ProcedureAbolished(Abolition { code, reason }), expected).await
}

/// Two or more distinct active procedures.
fn merge_sources() -> RefOr<Schema> {
    ArrayBuilder::new()
        .items(RefOr::Ref(utoipa::openapi::Ref::from_schema_name(ProcedureCode::name())))
        .min_items(Some(2))
        .unique_items(true)
        .description(Some("Two or more distinct active procedures."))
        .into()
}

/// Merge `sources` into `into`: a new code, or one of the sources (which stays active with the new
/// attributes).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MergeBody {
    #[schema(schema_with = merge_sources)]
    sources: Vec<ProcedureCode>,
    into: Procedure,
    /// Optional optimistic concurrency: `{code: version}` for the streams the writer read; a stale one is
    /// 409 with `current_version`.
    #[serde(default)]
    expected_versions: BTreeMap<ProcedureCode, u64>,
}

impl WriteBody for MergeBody {
    const DATED: bool = true;
}

/// Merge procedures
///
/// Records a `ProceduresMerged` in every stream it touches (each source's and `into`'s), atomically. All
/// sources must be active. A recorder needs every source's agency and `into`'s. An unknown source is a
/// 422 naming `/sources/i`.
#[utoipa::path(
    post,
    path = "/v1/merges",
    tag = "writes",
    operation_id = "mergeProcedures",
    params(super::openapi::IdempotencyKey),
    request_body(content = MergerRequest, content_type = "application/json", example = examples::merger),
    responses((status = 201, description = "Recorded: the events written.", body = Written), WriteProblems, Conflict),
    security(("bearerAuth" = [])),
)]
pub async fn merge(State(s): State<AppState>, w: Writer<MergeBody>) -> Result<Response, Problem> {
    let Writer { body: MergeBody { sources, into, expected_versions }, recorder } = w;
    let expected = expected_versions.iter().map(|(c, v)| (StreamId::procedure(c), *v)).collect();
    recorder.record(&s, Change::ProceduresMerged(Merger { sources, into }), expected).await
}

/// An `EntryRetracted`: undoes a recorded event. It takes effect when recorded: no `effective_on`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RetractionBody {
    /// The event to retract.
    event_id: uuid::Uuid,
    /// Why it was a mistake.
    reason: LongText,
}

impl WriteBody for RetractionBody {
    const DATED: bool = false;
}

/// Retract an event
///
/// Records an `EntryRetracted` in every stream the event was written to. Refused (422, listing them) where
/// other events depend on it, or if the event is unknown, a retraction or already retracted.
#[utoipa::path(
    post,
    path = "/v1/retractions",
    tag = "writes",
    operation_id = "retractEntry",
    params(super::openapi::IdempotencyKey),
    request_body(content = RetractionRequest, content_type = "application/json", example = examples::retraction),
    responses((status = 201, description = "Recorded: the events written.", body = Written), WriteProblems),
    security(("bearerAuth" = [])),
)]
pub async fn retract(State(s): State<AppState>, w: Writer<RetractionBody>) -> Result<Response, Problem> {
    let Writer { body: RetractionBody { event_id, reason }, recorder } = w;
    recorder.record(&s, Change::EntryRetracted(Retraction { event_id, reason }), Vec::new()).await
}

/// A `TariffSet`: the value of an hour of the applicant's time from `effective_on`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TariffBody {
    vnd_per_hour: VndPerHour,
}

impl WriteBody for TariffBody {
    const DATED: bool = true;
}

/// Set a tariff
///
/// Records a `TariffSet` in the `settings` stream (admin only).
#[utoipa::path(
    put,
    path = "/v1/tariffs/{applicant}",
    tag = "writes",
    operation_id = "setTariff",
    params(
        ("applicant" = events::value::TariffApplicant, Path, description = "Whose time the tariff values.", example = "citizen"),
        super::openapi::IdempotencyKey,
    ),
    request_body(content = TariffRequest, content_type = "application/json", example = examples::tariff),
    responses((status = 201, description = "Recorded: the events written.", body = Written), WriteProblems, NotFound),
    security(("bearerAuth" = [])),
)]
pub async fn set_tariff(
    State(s): State<AppState>,
    ApplicantInPath(applicant): ApplicantInPath,
    Writer { body: TariffBody { vnd_per_hour }, recorder }: Writer<TariffBody>,
) -> Result<Response, Problem> {
    recorder.record(&s, Change::TariffSet(Tariff { applicant, vnd_per_hour }), Vec::new()).await
}

/// A reform programme; redefining an id replaces it. It takes effect when recorded: no `effective_on`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProgrammeBody {
    name: Name,
    /// Reductions are measured from this date.
    baseline_on: Date,
    /// The date the targets are due; after `baseline_on`.
    deadline: Date,
    /// The compliance cost reduction target.
    cost_reduction: Fraction,
    /// The processing time reduction target.
    time_reduction: Fraction,
    scope: Scope,
}

impl WriteBody for ProgrammeBody {
    const DATED: bool = false;
}

/// Define a programme
///
/// Records a `ProgrammeDefined` in the `settings` stream (admin only); redefining an id replaces it.
#[utoipa::path(
    put,
    path = "/v1/programmes/{id}",
    tag = "writes",
    operation_id = "defineProgramme",
    params(
        ("id" = super::path::ProgrammeId, Path, description = "A programme's id.", example = "p30-2011"),
        super::openapi::IdempotencyKey,
    ),
    request_body(content = ProgrammeRequest, content_type = "application/json", example = examples::programme),
    responses((status = 201, description = "Recorded: the events written.", body = Written), WriteProblems, NotFound),
    security(("bearerAuth" = [])),
)]
pub async fn define_programme(
    State(s): State<AppState>,
    ProgrammeToDefine(id): ProgrammeToDefine,
    Writer { body, recorder }: Writer<ProgrammeBody>,
) -> Result<Response, Problem> {
    let ProgrammeBody { name, baseline_on, deadline, cost_reduction, time_reduction, scope } = body;
    let id = id.into_code();
    let programme = Programme { id, name, baseline_on, deadline, cost_reduction, time_reduction, scope };
    recorder.record(&s, Change::ProgrammeDefined(programme), Vec::new()).await
}
