//! The document's shape: valid OpenAPI 3.0.3 as far as this document goes, every reference resolved and
//! every component used, the domain's lists (attributes, event types) as the domain has them, examples
//! that conform, and a schema checker that refuses what the rules refuse.

use std::collections::BTreeSet;

use events::event::{EVENT_TYPES, SCHEMA_VERSION};
use events::procedure::SIMPLIFIABLE;
use serde_json::{Value, json};

use super::{conforms, names_in, operations, parameters_of, resolve, schema_ref, target, walk};
use crate::routes::document;

#[test]
fn it_is_openapi_3_0_3_with_no_3_1_spelling_left() {
    let doc = document();
    assert_eq!(doc["openapi"], "3.0.3");
    walk(doc, String::new(), &mut |at, v| {
        if at.ends_with("/example") || at.contains("/example/") {
            return;
        }
        let Some(o) = v.as_object() else { return };
        assert!(!o.get("type").is_some_and(Value::is_array), "{at}: a list of types is 3.1");
        assert_ne!(o.get("type"), Some(&json!("null")), "{at}: the null type is 3.1");
        for key in ["const", "propertyNames", "prefixItems", "$defs"] {
            assert!(!o.contains_key(key), "{at}: {key} is not in 3.0");
        }
        if let Some(m) = o.get("exclusiveMinimum") {
            assert!(m.is_boolean(), "{at}: exclusiveMinimum is a boolean in 3.0");
        }
    });
}

#[test]
fn every_ref_points_at_a_component_and_every_component_is_used() {
    let doc = document();
    let mut used = BTreeSet::new();
    walk(doc, String::new(), &mut |at, v| {
        let reference = v.get("$ref").and_then(Value::as_str).or_else(|| {
            // The streams name their line's schema in an extension.
            ["x-line-schema", "x-data-schema"].iter().find_map(|k| v.get(k)?.get("$ref")?.as_str())
        });
        if let Some(r) = reference {
            let pointer = r.strip_prefix('#').unwrap_or_else(|| panic!("{at}: non-local $ref {r}"));
            assert!(pointer.starts_with("/components/"), "{at}: $ref {r} outside components");
            assert!(doc.pointer(pointer).is_some(), "{at}: dangling $ref {r}");
            used.insert(pointer.to_owned());
        }
        if let Some(r) = v.get("$ref") {
            assert_eq!(v.as_object().map(|o| o.len()), Some(1), "{at}: siblings of $ref {r} are ignored in 3.0");
        }
    });
    for (kind, components) in doc["components"].as_object().unwrap() {
        if kind == "securitySchemes" {
            continue;
        }
        for name in components.as_object().unwrap().keys() {
            let pointer = format!("/components/{kind}/{name}");
            assert!(used.contains(&pointer), "{pointer} is never used");
        }
    }
}

#[test]
fn schemas_are_well_formed_for_openapi_3_0() {
    let doc = document();
    walk(&doc["components"], String::new(), &mut |at, v| {
        let Some(o) = v.as_object() else { return };
        if o.get("nullable") == Some(&json!(true)) {
            assert!(o.contains_key("type"), "{at}: nullable only counts beside type in OpenAPI 3.0.3");
        }
        if let (Some(required), Some(properties)) = (o.get("required"), o.get("properties"))
            && let Some(required) = required.as_array()
        {
            for r in required {
                assert!(properties.get(r.as_str().unwrap()).is_some(), "{at}: required {r} is not a property");
            }
        }
        if o.get("type") == Some(&json!("object")) && o.contains_key("properties") && !at.contains("/anyOf/") {
            assert!(o.contains_key("description"), "{at}: objects say what they are");
        }
    });
}

#[test]
fn every_operation_answers_something_documented() {
    let doc = document();
    let mut ids = BTreeSet::new();
    for (path, method, op) in operations(doc) {
        let id = op["operationId"].as_str().unwrap_or_else(|| panic!("{method} {path} has no operationId"));
        assert!(ids.insert(id.to_owned()), "{method} {path}: duplicate operationId");
        assert!(op["summary"].is_string(), "{method} {path} has no summary");
        let responses = op["responses"].as_object().unwrap_or_else(|| panic!("{method} {path} has no responses"));
        assert!(responses.keys().any(|s| s.starts_with('2')), "{method} {path} has no success");
        for (status, r) in responses {
            let r = resolve(doc, r);
            assert!(r["description"].is_string(), "{method} {path} {status} lacks a description");
            if status.starts_with('4') || status.starts_with('5') {
                let problem = &r["content"]["application/problem+json"]["schema"];
                assert_eq!(problem, &schema_ref("Problem"), "{method} {path} {status}");
            }
        }
        // Every `{name}` in the path is a required path parameter, and nothing else is.
        let in_path: BTreeSet<String> =
            path.split('/').filter_map(|s| s.strip_prefix('{')?.strip_suffix('}')).map(str::to_owned).collect();
        assert_eq!(names_in(doc, op, "path"), in_path, "{method} {path}: path parameters");
        for p in parameters_of(doc, op) {
            assert!(p["schema"].is_object(), "{method} {path}: parameter {} has a schema", p["name"]);
            assert_eq!(p["required"], p["in"] == "path", "{method} {path}: {} required", p["name"]);
            assert!(p["description"].is_string(), "{method} {path}: parameter {} says what it is", p["name"]);
        }
        if method != "get" {
            assert_eq!(op["security"], json!([{"bearerAuth": []}]), "{method} {path} needs a bearer token");
            let statuses: Vec<&String> = responses.keys().collect();
            for s in ["201", "400", "401", "403", "413", "422", "503"] {
                assert!(statuses.contains(&&s.to_owned()), "{method} {path} lacks {s}");
            }
            assert!(names_in(doc, op, "header").contains("Idempotency-Key"), "{method} {path} takes Idempotency-Key");
            let schema = resolve(doc, &op["requestBody"]["content"]["application/json"]["schema"]);
            let object = schema.get("allOf").and_then(|a| a.get(0)).unwrap_or(schema);
            assert_eq!(object["additionalProperties"], false, "{method} {path}: unknown fields are refused");
        }
    }
}

#[test]
fn the_procedure_is_the_fifteen_attributes_of_the_spec() {
    let doc = document();
    let spec = [
        "code",
        "name",
        "sector",
        "agency",
        "level",
        "applicant",
        "processing_days",
        "steps",
        "documents",
        "fee_vnd",
        "out_of_pocket_vnd",
        "applicant_hours",
        "annual_volume",
        "online",
        "legal_basis",
    ];
    let procedure = &doc["components"]["schemas"]["Procedure"];
    assert_eq!(procedure["required"], json!(spec));
    assert_eq!(procedure["properties"].as_object().unwrap().len(), 15);
    let property = |name: &str| target(doc, &procedure["properties"][name]);
    assert_eq!(property("code")["pattern"], "^[A-Za-z0-9._-]{1,64}$");
    assert_eq!(property("processing_days")["multipleOf"], 0.01);
    assert_eq!(property("applicant_hours")["maximum"], 10_000);
    // The domain type serialises exactly these fields.
    let example = crate::http::examples::merger()["into"].clone();
    let parsed: events::Procedure = serde_json::from_value(example).expect("the example is a procedure");
    let serialised = serde_json::to_value(&parsed).unwrap();
    let fields: BTreeSet<&str> = serialised.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(fields, spec.into_iter().collect());
    // A simplification's `set` is the domain's list of simplifiable attributes.
    let body = &doc["components"]["schemas"]["SimplificationRequest"];
    let set = body["properties"]["set"]["properties"].as_object().unwrap();
    let simplifiable: BTreeSet<&str> = set.keys().map(String::as_str).collect();
    assert_eq!(simplifiable, SIMPLIFIABLE.iter().copied().collect());
}

#[test]
fn the_event_types_are_the_domains() {
    let doc = document();
    let event = &doc["components"]["schemas"]["Event"];
    assert_eq!(resolve(doc, &event["properties"]["type"])["enum"], json!(EVENT_TYPES));
    assert_eq!(event["properties"]["schema_version"]["enum"], json!([SCHEMA_VERSION]));
    let payloads = event["properties"]["payload"]["anyOf"].as_array().unwrap();
    assert_eq!(payloads.len(), EVENT_TYPES.len(), "one payload per event type");
    let written = &doc["components"]["schemas"]["WrittenEvent"];
    assert_eq!(resolve(doc, &written["properties"]["type"])["enum"], json!(EVENT_TYPES));
}

#[test]
fn the_schema_checker_refuses_what_the_rules_refuse() {
    let doc = document();
    let procedure = schema_ref("Procedure");
    let good = crate::http::examples::merger()["into"].clone();
    assert_eq!(conforms(doc, &procedure, &good), Ok(()));
    for (field, bad) in [
        ("processing_days", json!(12.345)),
        ("steps", json!(0)),
        ("level", json!("village")),
        ("fee_vnd", json!(1_000_000_001)),
        ("name", json!("")),
    ] {
        let mut p = good.clone();
        p[field] = bad;
        assert!(conforms(doc, &procedure, &p).is_err(), "{field} = {}", p[field]);
    }
    let mut extra = good.clone();
    extra["bogus"] = json!(1);
    assert!(conforms(doc, &procedure, &extra).is_err());
    let mut missing = good;
    missing.as_object_mut().unwrap().remove("legal_basis");
    assert!(conforms(doc, &procedure, &missing).is_err());
    let estimates = schema_ref("EstimateRevisionRequest");
    assert!(conforms(doc, &estimates, &json!({"baseline": {}, "effective_on": "2013-01-01"})).is_err());
    assert!(conforms(doc, &estimates, &json!({"effective_on": "2013-01-01"})).is_err());
    let one_side = json!({"baseline": {}, "current": {"annual_volume": 1}, "effective_on": "2013-01-01"});
    assert!(conforms(doc, &estimates, &one_side).is_ok());
    let simplification = schema_ref("SimplificationRequest");
    assert!(conforms(doc, &simplification, &json!({"set": {"agency": "X"}, "effective_on": "2013-01-01"})).is_err());
    assert!(conforms(doc, &simplification, &json!({"set": {}, "effective_on": "2013-01-01"})).is_err());
    let merge = schema_ref("MergerRequest");
    let mut one_source = crate::http::examples::merger();
    one_source["sources"] = json!(["3.000003"]);
    assert!(conforms(doc, &merge, &one_source).is_err());
    let programme = schema_ref("ProgrammeRequest");
    let mut zero = crate::http::examples::programme();
    zero["cost_reduction"] = json!(0);
    assert!(conforms(doc, &programme, &zero).is_err());
}

#[test]
fn request_examples_conform_to_their_schemas() {
    let doc = document();
    let mut bodies = 0;
    for (path, method, op) in operations(doc) {
        let Some(content) = op["requestBody"]["content"]["application/json"].as_object() else { continue };
        bodies += 1;
        let example = content.get("example").unwrap_or_else(|| panic!("{method} {path} has no example"));
        if let Err(e) = conforms(doc, &content["schema"], example) {
            panic!("{method} {path}: example does not conform: {e:#?}");
        }
    }
    assert_eq!(bodies, 9, "every write has a body");
}
