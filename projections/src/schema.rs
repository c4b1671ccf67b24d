//! JSON Schemas of the read models' hand-serialised values for the server's OpenAPI document (feature
//! `openapi`): exact money and ratios become JSON numbers only on the wire, and a grouping is its name.

use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::{PartialSchema, ToSchema};

use crate::exact::{Money, Ratio};
use crate::reductions::GroupBy;

impl PartialSchema for Money {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::Integer)
            .minimum(Some(0))
            .description(Some(
                "An amount of đồng, exact until the wire, rounded half-up to the đồng there and written exactly \
                 (past 2⁵³ too).",
            ))
            .into()
    }
}

impl ToSchema for Money {}

impl PartialSchema for Ratio {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::Number)
            .description(Some(
                "An exact ratio (a reduction, average days), written as a JSON number with at least 9 significant \
                 digits.",
            ))
            .into()
    }
}

impl ToSchema for Ratio {}

impl PartialSchema for GroupBy {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .enum_values(Some(GroupBy::EVERY.map(GroupBy::as_str)))
            .default(Some(GroupBy::All.as_str().into()))
            .description(Some("How the roots are grouped, by their baseline attributes (`all`: one group)."))
            .into()
    }
}

impl ToSchema for GroupBy {}
