//! OpenAPI 3.1 as utoipa writes it, rewritten as OpenAPI 3.0.3 (what the API has always served): the
//! few constructs of JSON Schema 2020-12 the document uses, spelled the 3.0 way.
//!
//! - `type: [T, "null"]` becomes `type: T, nullable: true`;
//! - `oneOf: [S, {type: null}]` becomes S inlined with `nullable: true` (in 3.0 `nullable` only counts
//!   beside a `type`, so a nullable reference is a copy of its component), a plain S in a parameter;
//! - a `$ref` with siblings becomes `allOf: [{$ref}]` beside them (3.0 ignores a reference's siblings);
//! - `exclusiveMinimum: n` becomes `minimum: n, exclusiveMinimum: true`; `examples: [x, …]` in a
//!   schema becomes `example: x`; `const: x` becomes `enum: [x]`; `propertyNames` goes (3.0 has none);
//! - a component only ever named as nullable, and so copied where it was named, goes.

use serde_json::{Map, Value, json};

/// Rewrites the whole document in place.
pub fn downgrade(doc: &mut Value) {
    if let Some(root) = doc.as_object_mut() {
        root.insert("openapi".into(), json!("3.0.3"));
    }
    let components = doc.pointer("/components/schemas").and_then(Value::as_object).cloned().unwrap_or_default();
    if let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) {
        for operation in paths.values_mut().filter_map(Value::as_object_mut).flat_map(|item| item.values_mut()) {
            for parameter in operation.get_mut("parameters").and_then(Value::as_array_mut).into_iter().flatten() {
                if let Some(schema) = parameter.get_mut("schema") {
                    without_null(schema);
                }
            }
        }
    }
    rewrite(doc, &components);
    prune(doc);
}

/// Removes the schema components nothing refers to any more (those only ever named as nullable, now
/// copied where they were named).
fn prune(doc: &mut Value) {
    loop {
        let mut named = std::collections::BTreeSet::new();
        references(doc, &mut named);
        let Some(schemas) = doc.pointer_mut("/components/schemas").and_then(Value::as_object_mut) else { return };
        let before = schemas.len();
        schemas.retain(|name, _| named.contains(&format!("#/components/schemas/{name}")));
        if schemas.len() == before {
            return;
        }
    }
}

fn references(value: &Value, out: &mut std::collections::BTreeSet<String>) {
    match value {
        Value::Array(items) => items.iter().for_each(|v| references(v, out)),
        Value::Object(object) => {
            if let Some(Value::String(r)) = object.get("$ref") {
                out.insert(r.clone());
            }
            object.values().for_each(|v| references(v, out));
        }
        _ => {}
    }
}

fn is_null_type(v: &Value) -> bool {
    v.get("type") == Some(&json!("null")) && v.as_object().is_some_and(|o| o.len() == 1)
}

/// A parameter's value is never JSON `null`: an optional parameter is one that may be left out.
fn without_null(schema: &mut Value) {
    let Some(object) = schema.as_object_mut() else { return };
    if let Some(Value::Array(types)) = object.get_mut("type") {
        types.retain(|t| t != "null");
        if types.len() == 1 {
            let only = types[0].clone();
            object.insert("type".into(), only);
        }
    }
    let Some(Value::Array(options)) = object.get("oneOf") else { return };
    let kept: Vec<Value> = options.iter().filter(|o| !is_null_type(o)).cloned().collect();
    if kept.len() == 1 && kept.len() < options.len() {
        let mut merged = object.clone();
        merged.remove("oneOf");
        *schema = with_siblings(kept[0].clone(), merged);
    }
}

/// `inner` with the members of `outer` (a description, a default) beside it.
fn with_siblings(inner: Value, outer: Map<String, Value>) -> Value {
    if outer.is_empty() {
        return inner;
    }
    match inner {
        Value::Object(mut o) if !o.contains_key("$ref") => {
            o.extend(outer);
            Value::Object(o)
        }
        other => {
            let mut o = outer;
            o.insert("allOf".into(), json!([other]));
            Value::Object(o)
        }
    }
}

fn rewrite(value: &mut Value, components: &Map<String, Value>) {
    match value {
        Value::Array(items) => items.iter_mut().for_each(|v| rewrite(v, components)),
        Value::Object(object) => {
            rewrite_schema(object, components);
            // Examples and defaults are values, not schemas: they stay as they are.
            for (key, v) in object.iter_mut() {
                if !matches!(key.as_str(), "example" | "default" | "enum") {
                    rewrite(v, components);
                }
            }
        }
        _ => {}
    }
}

/// One object, if it is a schema in 3.1 spelling (other objects have none of these members as such).
fn rewrite_schema(object: &mut Map<String, Value>, components: &Map<String, Value>) {
    if let Some(Value::Array(types)) = object.get("type") {
        let nullable = types.iter().any(|t| t == "null");
        let others: Vec<Value> = types.iter().filter(|t| *t != "null").cloned().collect();
        if others.len() == 1 {
            object.insert("type".into(), others[0].clone());
            if nullable {
                object.insert("nullable".into(), json!(true));
            }
        }
    }
    if let Some(Value::Array(options)) = object.get("oneOf")
        && options.iter().any(is_null_type)
    {
        let kept: Vec<Value> = options.iter().filter(|o| !is_null_type(o)).cloned().collect();
        if let [only] = kept.as_slice() {
            let mut inner = match only.get("$ref").and_then(Value::as_str) {
                Some(r) => {
                    let name = r.rsplit('/').next().unwrap_or(r);
                    match components.get(name) {
                        // A copy of the component, so that `nullable` stands beside its `type`.
                        Some(target) if target.get("type").is_some() => target.clone(),
                        _ => json!({ "allOf": [only] }),
                    }
                }
                None => only.clone(),
            };
            object.remove("oneOf");
            if let Some(o) = inner.as_object_mut() {
                o.remove("$ref");
                o.extend(std::mem::take(object));
                o.insert("nullable".into(), json!(true));
                *object = std::mem::take(o);
            }
        }
    }
    if object.contains_key("$ref") && object.len() > 1 {
        let reference = object.remove("$ref").unwrap_or_default();
        object.insert("allOf".into(), json!([{ "$ref": reference }]));
    }
    if let Some(n @ Value::Number(_)) = object.get("exclusiveMinimum").cloned() {
        object.insert("minimum".into(), n);
        object.insert("exclusiveMinimum".into(), json!(true));
    }
    if let Some(Value::Array(examples)) = object.get("examples").cloned() {
        object.remove("examples");
        if let Some(first) = examples.into_iter().next() {
            object.insert("example".into(), first);
        }
    }
    if let Some(c) = object.remove("const") {
        object.insert("enum".into(), json!([c]));
    }
    object.remove("propertyNames");
}
