//! Tests of the OpenAPI document: its shape (`document`), and a real server driven through it (`live`).
//! The helpers here read the document as a client would: references resolved, and a checker for the
//! subset of JSON Schema it uses.

mod document;
mod live;

use std::collections::BTreeSet;

use serde_json::{Value, json};

pub fn schema_ref(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

/// The schema a property names: through its reference, and through the `allOf` that holds a reference
/// beside a description.
pub fn target<'a>(doc: &'a Value, value: &'a Value) -> &'a Value {
    let value = resolve(doc, value);
    match value.get("allOf").and_then(Value::as_array).map(Vec::as_slice) {
        Some([only]) => target(doc, only),
        _ => value,
    }
}

/// The names of the query parameters, headers or path parameters an operation describes, in order.
pub fn names_in_order(doc: &Value, op: &Value, location: &str) -> Vec<String> {
    parameters_of(doc, op)
        .into_iter()
        .filter(|p| p["in"] == location)
        .map(|p| p["name"].as_str().unwrap_or_default().to_owned())
        .collect()
}

pub fn resolve<'a>(doc: &'a Value, value: &'a Value) -> &'a Value {
    match value.get("$ref").and_then(Value::as_str) {
        Some(r) => {
            let pointer = r.strip_prefix('#').expect("a local $ref");
            resolve(doc, doc.pointer(pointer).unwrap_or_else(|| panic!("dangling $ref {r}")))
        }
        None => value,
    }
}

pub fn operations(doc: &Value) -> Vec<(String, String, &Value)> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            out.push((path.clone(), method.clone(), op));
        }
    }
    out
}

pub fn parameters_of<'a>(doc: &'a Value, op: &'a Value) -> Vec<&'a Value> {
    op["parameters"].as_array().map(|ps| ps.iter().map(|p| resolve(doc, p)).collect()).unwrap_or_default()
}

pub fn names_in(doc: &Value, op: &Value, location: &str) -> BTreeSet<String> {
    parameters_of(doc, op)
        .into_iter()
        .filter(|p| p["in"] == location)
        .map(|p| p["name"].as_str().unwrap().to_owned())
        .collect()
}

pub fn walk<'a>(value: &'a Value, at: String, visit: &mut impl FnMut(&str, &'a Value)) {
    visit(&at, value);
    match value {
        Value::Object(o) => o.iter().for_each(|(k, v)| walk(v, format!("{at}/{k}"), visit)),
        Value::Array(a) => a.iter().enumerate().for_each(|(i, v)| walk(v, format!("{at}/{i}"), visit)),
        _ => {}
    }
}

/// A checker for the subset of JSON Schema this document uses (no `pattern` or `format`: no regex here).
pub fn check(doc: &Value, schema: &Value, value: &Value, at: &str, errors: &mut Vec<String>) {
    let schema = resolve(doc, schema);
    if value.is_null() && schema["nullable"] == true {
        return;
    }
    if let Some(all) = schema.get("allOf").and_then(Value::as_array) {
        all.iter().for_each(|s| check(doc, s, value, at, errors));
    }
    for (key, exactly_one) in [("anyOf", false), ("oneOf", true)] {
        if let Some(options) = schema.get(key).and_then(Value::as_array) {
            let passing = options
                .iter()
                .filter(|s| {
                    let mut e = Vec::new();
                    check(doc, s, value, at, &mut e);
                    e.is_empty()
                })
                .count();
            if passing == 0 || (exactly_one && passing > 1) {
                errors.push(format!("{at}: {passing} of the {key} options match {value}"));
            }
        }
    }
    let mut fail_here = Vec::new();
    let ok_type = match schema.get("type").and_then(Value::as_str) {
        None => true,
        Some("object") => value.is_object(),
        Some("array") => value.is_array(),
        Some("string") => value.is_string(),
        Some("integer") => value.is_u64() || value.is_i64(),
        Some("number") => value.is_number(),
        Some("boolean") => value.is_boolean(),
        Some(other) => panic!("unknown type {other}"),
    };
    if !ok_type {
        fail_here.push(format!("is not of type {}", schema["type"]));
    }
    if let Some(options) = schema.get("enum").and_then(Value::as_array)
        && !options.contains(value)
    {
        fail_here.push(format!("is not one of {options:?}"));
    }
    if let Some(s) = value.as_str() {
        let n = s.chars().count() as u64;
        if schema.get("minLength").and_then(Value::as_u64).is_some_and(|m| n < m) {
            fail_here.push("is too short".into());
        }
        if schema.get("maxLength").and_then(Value::as_u64).is_some_and(|m| n > m) {
            fail_here.push("is too long".into());
        }
    }
    if let Some(x) = value.as_f64() {
        let exclusive = schema["exclusiveMinimum"] == true;
        if let Some(min) = schema.get("minimum").and_then(Value::as_f64)
            && (x < min || (exclusive && x == min))
        {
            fail_here.push(format!("is below {min}"));
        }
        if let Some(max) = schema.get("maximum").and_then(Value::as_f64)
            && x > max
        {
            fail_here.push(format!("is above {max}"));
        }
        if schema.get("multipleOf") == Some(&json!(0.01)) && ((x * 100.0).round() / 100.0).to_string() != x.to_string()
        {
            fail_here.push("has more than two decimals".into());
        }
    }
    if let Some(o) = value.as_object() {
        for r in schema.get("required").and_then(Value::as_array).into_iter().flatten() {
            if !o.contains_key(r.as_str().unwrap()) {
                fail_here.push(format!("lacks {r}"));
            }
        }
        if schema.get("minProperties").and_then(Value::as_u64).is_some_and(|m| (o.len() as u64) < m) {
            fail_here.push("has too few properties".into());
        }
        let properties = schema.get("properties").and_then(Value::as_object);
        for (k, v) in o {
            match properties.and_then(|p| p.get(k)) {
                Some(s) => check(doc, s, v, &format!("{at}/{k}"), errors),
                None => match schema.get("additionalProperties") {
                    Some(Value::Bool(false)) => fail_here.push(format!("has unknown property {k}")),
                    Some(s @ Value::Object(_)) => check(doc, s, v, &format!("{at}/{k}"), errors),
                    _ => {}
                },
            }
        }
    }
    if let Some(a) = value.as_array() {
        if schema.get("minItems").and_then(Value::as_u64).is_some_and(|m| (a.len() as u64) < m) {
            fail_here.push("has too few items".into());
        }
        if schema["uniqueItems"] == true && a.iter().map(Value::to_string).collect::<BTreeSet<_>>().len() != a.len() {
            fail_here.push("has duplicate items".into());
        }
        if let Some(items) = schema.get("items") {
            a.iter().enumerate().for_each(|(i, v)| check(doc, items, v, &format!("{at}/{i}"), errors));
        }
    }
    errors.extend(fail_here.into_iter().map(|why| format!("{at}: {why} (value {value})")));
}

pub fn conforms(doc: &Value, schema: &Value, value: &Value) -> Result<(), Vec<String>> {
    let mut errors = Vec::new();
    check(doc, schema, value, "", &mut errors);
    if errors.is_empty() { Ok(()) } else { Err(errors) }
}
