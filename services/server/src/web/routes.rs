//! The pages' routes, each described in the OpenAPI document by hand (their handlers carry no
//! annotation), added to the API's router in the same step so a page cannot go undescribed.

use axum::routing::{MethodRouter, get};
use utoipa::openapi::Required;
use utoipa::openapi::path::{HttpMethod, OperationBuilder, Parameter, ParameterBuilder, ParameterIn};
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::{IntoParams, IntoResponses};
use utoipa_axum::router::OpenApiRouter;

use crate::http::{answers, openapi, reader};
use crate::state::AppState;

/// A query parameter of a page, described by hand (the pages' handlers are not annotated).
fn page_param(name: &str, description: &str) -> Parameter {
    ParameterBuilder::new()
        .name(name)
        .parameter_in(ParameterIn::Query)
        .required(Required::False)
        .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
        .description(Some(description))
        .build()
}

/// Routes a page and describes it in the same step, so a page cannot go undescribed.
fn page(
    router: OpenApiRouter<AppState>,
    path: &str,
    handler: MethodRouter<AppState>,
    (id, summary, description): (&str, &str, &str),
    mut parameters: Vec<Parameter>,
    private: bool,
) -> OpenApiRouter<AppState> {
    let mut responses = answers::Page::responses();
    if path.contains('{') {
        parameters.insert(0, openapi::CodeParam::into_params(|| None).remove(0));
        responses.extend(answers::NotFound::responses());
    }
    let mut operation = OperationBuilder::new()
        .tag("pages")
        .operation_id(Some(id))
        .summary(Some(summary))
        .description(Some(description))
        .parameters(Some(parameters));
    if private {
        responses.extend(answers::ReadProblems::responses());
        let bearer = utoipa::openapi::security::SecurityRequirement::new("bearerAuth", Vec::<String>::new());
        operation = operation.securities(Some([utoipa::openapi::security::SecurityRequirement::default(), bearer]));
    } else {
        responses.extend(answers::BadRequest::responses());
    }
    let operation = operation.responses(utoipa::openapi::ResponsesBuilder::new().responses_from_iter(responses));
    let mut router = router.route(path, handler);
    router.get_openapi_mut().paths.add_path_operation(path, vec![HttpMethod::Get], operation);
    router
}

/// `router` with the pages added: the dashboard, the catalogue and its entries.
pub fn pages(router: OpenApiRouter<AppState>) -> OpenApiRouter<AppState> {
    let lang = || page_param("lang", "`en` for English; Vietnamese otherwise.");
    let dashboard = (
        "getDashboard",
        "Dashboard",
        "The dashboard: reductions moving live as staff record changes; its charts run by quarter up to `as_of`.",
    );
    let router = page(
        router,
        "/",
        get(super::dashboard),
        dashboard,
        vec![
            page_param("as_of", "The date the figures are as of (`YYYY-MM-DD`). Default: today in Vietnam."),
            page_param("group_by", "`agency`, `sector` or `level` (`all` reads as `agency`)."),
            lang(),
            reader::TokenParam::into_params(|| None).remove(0),
        ],
        true,
    );
    let catalogue =
        ("getCatalogue", "Public catalogue", "The public catalogue: what each active procedure needs today.");
    let router = page(
        router,
        "/catalogue",
        get(super::catalogue),
        catalogue,
        vec![
            page_param("q", "Matches code, name, sector or agency, ignoring case and Vietnamese diacritics."),
            page_param("agency", "Only procedures of this agency (exact)."),
            page_param("sector", "Only procedures of this sector (exact)."),
            page_param("level", "Only procedures of this level."),
            lang(),
        ],
        false,
    );
    let entry = ("getCatalogueEntry", "A catalogue entry", "The public catalogue's page of one active procedure.");
    page(router, "/catalogue/{code}", get(super::catalogue_entry), entry, vec![lang()], false)
}
