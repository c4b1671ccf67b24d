//! Reading request bodies: JSON only, at most 1 MiB, parsed into domain values with every error naming
//! its field as a JSON Pointer.

use axum::http::{HeaderMap, StatusCode, header};
use events::value::{Date, LongText};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::problem::Problem;

/// The largest body accepted.
pub const MAX_BODY: usize = 1 << 20;

/// Checks the content type and parses the body as a JSON object.
pub fn object(headers: &HeaderMap, body: &[u8]) -> Result<Map<String, Value>, Problem> {
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let essence = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    if essence != "application/json" && !essence.ends_with("+json") {
        return Err(Problem::bad_request("Content-Type", "must be application/json"));
    }
    if body.len() > MAX_BODY {
        return Err(too_large());
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(Problem::bad_request("/", "the body must be a JSON object")),
        Err(e) => Err(Problem::bad_request("/", format!("malformed JSON: {e}"))),
    }
}

pub fn too_large() -> Problem {
    Problem::new(StatusCode::PAYLOAD_TOO_LARGE, "too-large", "Body too large", "the body must be at most 1 MiB")
        .field("/", "the body must be at most 1 MiB")
}

fn escape(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

/// Deserialises `value` into `T`; an error becomes a 422 naming the field under `prefix` (a pointer).
pub fn parse<T: DeserializeOwned>(value: Value, prefix: &str) -> Result<T, Problem> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let mut pointer = prefix.to_owned();
        for segment in e.path().iter() {
            use serde_path_to_error::Segment;
            match segment {
                Segment::Seq { index } => pointer.push_str(&format!("/{index}")),
                Segment::Map { key } => pointer.push_str(&format!("/{}", escape(key))),
                Segment::Enum { variant } => pointer.push_str(&format!("/{}", escape(variant))),
                Segment::Unknown => {}
            }
        }
        let message = e.inner().to_string();
        // serde names a missing or unknown field in its message, not in the path.
        for lead in ["missing field `", "unknown field `"] {
            if let Some(rest) = message.strip_prefix(lead)
                && let Some(name) = rest.split('`').next()
                && !pointer.ends_with(&format!("/{}", escape(name)))
            {
                pointer.push_str(&format!("/{}", escape(name)));
            }
        }
        let message = if message.starts_with("missing field") {
            "is required".to_owned()
        } else if message.starts_with("unknown field") {
            format!("is not a field here ({})", message.split_once(", ").map_or("", |x| x.1))
        } else {
            message
        };
        Problem::invalid(if pointer.is_empty() { "/" } else { &pointer }, message)
    })
}

/// What every write carries beside its payload.
#[derive(Clone, Debug)]
pub struct Envelope {
    pub effective_on: Option<Date>,
    pub legal_basis: LongText,
    pub note: LongText,
}

/// Takes `effective_on` (required when `needs_date`), `legal_basis` (unless `keep_legal_basis`: a
/// registration's legal basis is also the procedure's) and `note` out of a body.
pub fn envelope(body: &mut Map<String, Value>, needs_date: bool, keep_legal_basis: bool) -> Result<Envelope, Problem> {
    let effective_on = match body.remove("effective_on") {
        None | Some(Value::Null) if needs_date => {
            return Err(Problem::invalid("/effective_on", "is required (YYYY-MM-DD)"));
        }
        None | Some(Value::Null) => None,
        Some(_) if !needs_date => {
            return Err(Problem::invalid(
                "/effective_on",
                "is not a field here: this write takes effect when recorded",
            ));
        }
        Some(v) => Some(parse::<Date>(v, "/effective_on")?),
    };
    let legal_basis = if keep_legal_basis { body.get("legal_basis").cloned() } else { body.remove("legal_basis") };
    let legal_basis = match legal_basis {
        None | Some(Value::Null) => LongText::default(),
        Some(v) => parse(v, "/legal_basis")?,
    };
    let note = match body.remove("note") {
        None | Some(Value::Null) => LongText::default(),
        Some(v) => parse(v, "/note")?,
    };
    Ok(Envelope { effective_on, legal_basis, note })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_name_the_field_as_a_json_pointer() {
        let v = serde_json::json!({"set": {"fee_vnd": -5}});
        #[derive(serde::Deserialize, Debug)]
        #[serde(deny_unknown_fields)]
        #[allow(dead_code)]
        struct B {
            set: events::Changes,
        }
        let p = parse::<B>(v, "").unwrap_err();
        assert_eq!(p.errors[0].field, "/set/fee_vnd");
        assert_eq!(p.status, 422);
        let p = parse::<B>(serde_json::json!({"set": {"bogus": 1}}), "").unwrap_err();
        assert_eq!(p.errors[0].field, "/set/bogus");
        let p = parse::<B>(serde_json::json!({}), "").unwrap_err();
        assert_eq!((p.errors[0].field.as_str(), p.errors[0].message.as_str()), ("/set", "is required"));
        let p = parse::<events::Procedure>(serde_json::json!({"documents": [{"name": "x", "copies": 0}]}), "/into")
            .unwrap_err();
        assert!(p.errors[0].field.starts_with("/into/"), "{:?}", p.errors);
    }
}
