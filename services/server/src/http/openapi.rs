//! The OpenAPI 3.0.3 description of the HTTP API (v1), served at `/openapi.json`: every route with its
//! parameters, request bodies, answers and access, precise enough for a generic client or a fuzzer to drive.
//!
//! It is built in code from the constants the domain itself uses (event types, the attributes a
//! simplification may change, the schema version), and the tests below hold it to the router, to the
//! parameters each handler accepts, and to what a real server answers.

use events::event::{EVENT_TYPES, SCHEMA_VERSION};
use events::procedure::SIMPLIFIABLE;
use serde_json::{Map, Value, json};

/// A procedure code, and a programme id: 1–64 characters from `A–Z a–z 0–9 . - _`.
pub const CODE_PATTERN: &str = "^[A-Za-z0-9._-]{1,64}$";

/// One character of stored text: anything but a control character, tab, line feed and carriage return
/// excepted (the rule of `events::value::Text`).
const TEXT_CHAR: &str = r"[^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]";

const LEVELS: [&str; 4] = ["central", "province", "district", "commune"];
const APPLICANTS: [&str; 3] = ["citizen", "business", "both"];
const ONLINE: [&str; 3] = ["none", "partial", "full"];
const STATUSES: [&str; 3] = ["active", "abolished", "merged"];
const GROUP_BYS: [&str; 4] = ["all", "agency", "sector", "level"];

/// The API's OpenAPI document.
pub fn document() -> Value {
    json!({
        "openapi": "3.0.3",
        "info": {
            "title": "p30",
            "version": "1",
            "description": "An event-sourced tracker of the simplification of administrative procedures \
                (Đề án 30). Every change to a procedure is an immutable event; read models answer at any \
                valid time (`as_of`) and transaction time (`known_at`). Errors are `application/problem+json` \
                (RFC 9457) naming each offending field as a JSON Pointer into the body or a parameter's name. \
                Writes need a bearer token; reads are open unless the server runs with `--private`.",
        },
        "tags": [
            {"name": "writes", "description": "Record changes: each answers 201 with the events written."},
            {"name": "reads", "description": "Read models at any `as_of` and `known_at`, and the log."},
            {"name": "live", "description": "Server-sent events: one message per log seq."},
            {"name": "operations", "description": "The API description, health and metrics."},
            {"name": "pages", "description": "HTML pages for people: the dashboard and the public catalogue."},
        ],
        "paths": paths(),
        "components": {
            "schemas": schemas(),
            "parameters": parameters(),
            "responses": problem_responses(),
            "headers": {
                "Location": {
                    "description": "Where the registered procedure can be read: `/v1/procedures/{code}`.",
                    "schema": {"type": "string"},
                },
                "ETag": {
                    "description": "The procedure's stream version in quotes (`\"3\"`): send it back as `If-Match`.",
                    "schema": {"type": "string", "pattern": "^\"[0-9]+\"$"},
                },
            },
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A token from `p30 token create`: `admin` (everything, settings too), \
                        `recorder` (writes for the agencies named in the token), `analyst` (reads). A missing \
                        or unknown token on a write is 401; a token without the right is 403.",
                },
            },
        },
    })
}

// ---------------------------------------------------------------------------------------------------------
// Schema building blocks.

fn schema_ref(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

fn param_ref(name: &str) -> Value {
    json!({ "$ref": format!("#/components/parameters/{name}") })
}

fn code(description: &str) -> Value {
    json!({"type": "string", "minLength": 1, "maxLength": 64, "pattern": CODE_PATTERN, "description": description})
}

/// Text of `min..=max` characters (counted after NFC normalisation) without control characters.
fn text(min: u64, max: u64, description: &str) -> Value {
    json!({
        "type": "string",
        "minLength": min,
        "maxLength": max,
        "pattern": format!("^{TEXT_CHAR}*$"),
        "description": description,
    })
}

fn integer(min: u64, max: u64, description: &str) -> Value {
    json!({"type": "integer", "minimum": min, "maximum": max, "description": description})
}

/// A count or position with no upper bound but `u64`'s.
fn natural(description: &str) -> Value {
    json!({"type": "integer", "minimum": 0, "description": description})
}

/// A decimal from 0 to `max` with at most two decimals. Request bodies say so with `multipleOf: 0.01`;
/// answers leave it out (`exact: false`), because common validators divide binary floats and would find
/// `0.57` no multiple of `0.01`.
fn decimal2(max: u64, exact: bool, description: &str) -> Value {
    let mut s = json!({"type": "number", "minimum": 0, "maximum": max, "description": description});
    if exact {
        s["multipleOf"] = json!(0.01);
    }
    s
}

fn strings(values: &[&str], description: &str) -> Value {
    json!({"type": "string", "enum": values, "description": description})
}

fn date(description: &str) -> Value {
    json!({"type": "string", "format": "date", "description": description})
}

fn timestamp(description: &str) -> Value {
    json!({"type": "string", "format": "date-time", "description": description})
}

fn uuid_string(description: &str) -> Value {
    json!({"type": "string", "format": "uuid", "description": description})
}

fn array(items: Value, description: &str) -> Value {
    json!({"type": "array", "items": items, "description": description})
}

/// An inline schema that also admits `null` (OpenAPI 3.0: `nullable` only counts beside `type`).
fn nullable(mut schema: Value) -> Value {
    debug_assert!(schema.get("type").is_some(), "nullable needs a type beside it: {schema}");
    schema["nullable"] = json!(true);
    schema
}

/// An object schema; `closed` refuses properties not listed (the server's `deny_unknown_fields`).
fn object(description: &str, properties: Vec<(&str, Value)>, required: &[&str], closed: bool) -> Value {
    let mut o = Map::new();
    o.insert("type".into(), json!("object"));
    o.insert("description".into(), json!(description));
    o.insert("properties".into(), Value::Object(properties.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()));
    if !required.is_empty() {
        o.insert("required".into(), json!(required));
    }
    if closed {
        o.insert("additionalProperties".into(), json!(false));
    }
    Value::Object(o)
}

// ---------------------------------------------------------------------------------------------------------
// The procedure and its partial updates.

/// The 15 attributes of a procedure, in the SPEC's order. `exact` marks two-decimal numbers with
/// `multipleOf` (request bodies only; see [`decimal2`]).
fn attributes(exact: bool) -> Vec<(&'static str, Value)> {
    let vnd = |what: &str| integer(0, 1_000_000_000, what);
    vec![
        ("code", code("Mã TTHC: the procedure's identity, e.g. `1.004227`; never reused.")),
        ("name", text(1, 500, "Tên thủ tục.")),
        ("sector", text(1, 200, "Lĩnh vực, e.g. `Hộ tịch`.")),
        ("agency", text(1, 64, "Cơ quan thực hiện: the agency that owns it, whose recorders may write for it.")),
        ("level", strings(&LEVELS, "Cấp thực hiện.")),
        ("applicant", strings(&APPLICANTS, "Đối tượng thực hiện: who files it.")),
        ("processing_days", decimal2(3650, exact, "Thời hạn giải quyết in working days, at most 2 decimals.")),
        ("steps", integer(1, 1000, "Trình tự thực hiện: the number of steps.")),
        ("documents", array(schema_ref("Document"), "Thành phần hồ sơ (may be empty).")),
        ("fee_vnd", vnd("Phí and lệ phí per filing, in đồng.")),
        ("out_of_pocket_vnd", vnd("Other cash cost per filing (copies, notarisation, travel), in đồng.")),
        ("applicant_hours", decimal2(10_000, exact, "Hours the applicant spends per filing, at most 2 decimals.")),
        ("annual_volume", integer(0, 100_000_000, "Filings per year.")),
        ("online", strings(&ONLINE, "Online service: none, partial (một phần) or full (toàn trình).")),
        ("legal_basis", text(0, 2000, "Căn cứ pháp lý.")),
    ]
}

fn procedure_schema(exact: bool) -> Value {
    let attributes = attributes(exact);
    let required: Vec<&str> = attributes.iter().map(|(k, _)| *k).collect();
    object("A procedure: every attribute is required.", attributes, &required, true)
}

/// A `set`: any non-empty subset of the attributes but `code`, or only the `allowed` ones.
fn changes_schema(exact: bool, allowed: Option<&[&str]>, description: &str) -> Value {
    let properties: Vec<_> =
        attributes(exact).into_iter().filter(|(k, _)| *k != "code" && allowed.is_none_or(|a| a.contains(k))).collect();
    let mut s = object(description, properties, &[], true);
    s["minProperties"] = json!(1);
    s
}

fn estimates_schema(exact: bool) -> Value {
    let properties = attributes(exact)
        .into_iter()
        .filter(|(k, _)| ["annual_volume", "applicant_hours", "out_of_pocket_vnd"].contains(k))
        .collect();
    object("Re-measured figures; any of the three.", properties, &[], true)
}

fn document_schema() -> Value {
    object(
        "One item of the dossier (thành phần hồ sơ).",
        vec![("name", text(1, 500, "The document.")), ("copies", integer(1, 100, "Copies asked for."))],
        &["name", "copies"],
        true,
    )
}

// ---------------------------------------------------------------------------------------------------------
// Request bodies.

/// What every write carries beside its payload: `effective_on` (where the write takes one), `legal_basis`
/// (unless the payload has its own) and `note`.
fn envelope(effective_on: bool, legal_basis: bool) -> Vec<(&'static str, Value)> {
    let mut out = Vec::new();
    if effective_on {
        out.push(("effective_on", date("The date the change takes legal effect (valid time).")));
    }
    if legal_basis {
        out.push(("legal_basis", nullable(text(0, 2000, "The legal basis of the change (empty if absent)."))));
    }
    out.push(("note", nullable(text(0, 2000, "A free note (empty if absent)."))));
    out
}

fn body(
    description: &str,
    mut properties: Vec<(&'static str, Value)>,
    required: &[&str],
    envelope: Vec<(&'static str, Value)>,
) -> Value {
    let mut required: Vec<&str> = required.to_vec();
    if envelope.iter().any(|(k, _)| *k == "effective_on") {
        required.push("effective_on");
    }
    properties.extend(envelope);
    object(description, properties, &required, true)
}

fn registration_schema() -> Value {
    let attributes = attributes(true);
    let required: Vec<&str> = attributes.iter().map(|(k, _)| *k).collect();
    body(
        "A procedure to register, with `effective_on`; its `legal_basis` is the procedure's.",
        attributes,
        &required,
        envelope(true, false),
    )
}

fn estimate_revision_schema() -> Value {
    let mut s = body(
        "An `EstimateRevised`: `current` values replace the current ones from `effective_on`; `baseline` values \
         replace the baseline ones for every `baseline_on` before it. At least one side must name a figure.",
        vec![("baseline", schema_ref("Estimates")), ("current", schema_ref("Estimates"))],
        &[],
        envelope(true, true),
    );
    let side = |name: &str| json!({"required": [name], "properties": {name: {"type": "object", "minProperties": 1}}});
    s["anyOf"] = json!([side("baseline"), side("current")]);
    s
}

fn merger_schema() -> Value {
    let mut sources = array(code("A source procedure."), "Two or more distinct active procedures.");
    sources["minItems"] = json!(2);
    sources["uniqueItems"] = json!(true);
    let expected = json!({
        "type": "object",
        "description": "Optional optimistic concurrency: `{code: version}` for streams the writer read; a stale \
            one is 409 with `current_version`. Keys are procedure codes.",
        "additionalProperties": {"type": "integer", "minimum": 0},
    });
    body(
        "Merge `sources` into `into`: a new code, or one of the sources (which stays active with the new attributes).",
        vec![("sources", sources), ("into", schema_ref("Procedure")), ("expected_versions", expected)],
        &["sources", "into"],
        envelope(true, true),
    )
}

fn programme_definition_schema() -> Value {
    let fraction = |what: &str| {
        json!({
            "type": "number", "minimum": 0, "exclusiveMinimum": true, "maximum": 1,
            "description": format!("{what} target as a fraction in (0, 1], e.g. 0.3; at most 17 decimals."),
        })
    };
    let scope = format!(
        "^(all|agency:{TEXT_CHAR}{{1,64}}|sector:{TEXT_CHAR}{{1,200}}|level:(central|province|district|commune))$"
    );
    body(
        "A reform programme; redefining an id replaces it. It takes effect when recorded: no `effective_on`.",
        vec![
            ("name", text(1, 500, "The programme's name.")),
            ("baseline_on", date("Reductions are measured from this date.")),
            ("deadline", date("The date the targets are due; after `baseline_on`.")),
            ("cost_reduction", fraction("The compliance cost reduction")),
            ("time_reduction", fraction("The processing time reduction")),
            (
                "scope",
                json!({"type": "string", "pattern": scope,
                    "description": "The roots it covers, by their baseline attributes: `all`, `agency:X`, `sector:Y` or `level:Z`."}),
            ),
        ],
        &["name", "baseline_on", "deadline", "cost_reduction", "time_reduction", "scope"],
        envelope(false, true),
    )
}

// ---------------------------------------------------------------------------------------------------------
// Answers.

fn problem_schema() -> Value {
    object(
        "A problem document (RFC 9457).",
        vec![
            (
                "type",
                json!({"type": "string", "format": "uri", "description": "`https://p30.example/problems/{slug}`."}),
            ),
            ("title", json!({"type": "string"})),
            ("status", json!({"type": "integer", "minimum": 400, "maximum": 599})),
            ("detail", json!({"type": "string"})),
            ("errors", array(schema_ref("FieldProblem"), "Each field that broke a rule.")),
            ("current_version", natural("On a version conflict (409): the stream's current version.")),
            ("events", array(schema_ref("AffectedEvent"), "Recorded events that stand in the way of the change.")),
        ],
        &["type", "title", "status", "detail", "errors"],
        false,
    )
}

fn written_events_schema() -> Value {
    let mut events =
        array(schema_ref("WrittenEvent"), "The events written (a merge writes one to each stream it touches).");
    events["minItems"] = json!(1);
    object("What a write answers.", vec![("events", events)], &["events"], false)
}

fn stream_schema() -> Value {
    json!({"type": "string", "pattern": "^(settings|procedure-[A-Za-z0-9._-]{1,64})$",
        "description": "`procedure-{code}` or `settings`."})
}

fn event_type_schema() -> Value {
    strings(EVENT_TYPES, "The event's type.")
}

/// The envelope of a recorded event in JSON, and its `payload`.
fn event_properties() -> Vec<(&'static str, Value)> {
    let payloads: Vec<Value> = EVENT_TYPES.iter().map(|t| schema_ref(&format!("{t}Payload"))).collect();
    vec![
        ("event_id", uuid_string("UUID v7.")),
        ("seq", integer(1, u64::MAX, "Global position in the log, gap-free from 1.")),
        ("stream", stream_schema()),
        ("version", integer(1, u64::MAX, "Position within its stream, from 1.")),
        ("type", event_type_schema()),
        (
            "schema_version",
            json!({"type": "integer", "enum": [SCHEMA_VERSION], "description": "Older versions are upcast on read."}),
        ),
        ("recorded_at", timestamp("When the server recorded it (transaction time, UTC, microseconds).")),
        ("effective_on", date("When it takes legal effect (valid time).")),
        ("actor", json!({"type": "string", "description": "The name of the token that recorded it."})),
        ("command_id", nullable(json!({"type": "string", "description": "The writer's `Idempotency-Key`, if any."}))),
        ("legal_basis", json!({"type": "string"})),
        ("note", json!({"type": "string"})),
        ("payload", json!({"anyOf": payloads, "description": "The type's fields (see the `…Payload` schemas)."})),
    ]
}

fn event_required() -> Vec<&'static str> {
    event_properties().iter().map(|(k, _)| *k).collect()
}

fn payload_schemas() -> Vec<(String, Value)> {
    let code = || code("The procedure.");
    let reason = || text(0, 2000, "Why.");
    let payloads = [
        ("ProcedureRegistered", schema_ref("RecordedProcedure")),
        (
            "ProcedureSimplified",
            object(
                "A simplification.",
                vec![
                    ("code", code()),
                    ("set", schema_ref("RecordedChanges")),
                    ("measures", array(text(1, 200, "A measure."), "Free tags.")),
                ],
                &["code", "set", "measures"],
                false,
            ),
        ),
        (
            "ProcedureAmended",
            object(
                "An amendment.",
                vec![("code", code()), ("set", schema_ref("RecordedChanges"))],
                &["code", "set"],
                false,
            ),
        ),
        (
            "EstimateRevised",
            object(
                "A re-measurement; a side that was not given is left out.",
                vec![
                    ("code", code()),
                    ("baseline", schema_ref("RecordedEstimates")),
                    ("current", schema_ref("RecordedEstimates")),
                ],
                &["code"],
                false,
            ),
        ),
        (
            "ProceduresMerged",
            object(
                "A merge (written to every stream it touches).",
                vec![("sources", array(code(), "The source procedures.")), ("into", schema_ref("RecordedProcedure"))],
                &["sources", "into"],
                false,
            ),
        ),
        (
            "ProcedureAbolished",
            object("An abolition.", vec![("code", code()), ("reason", reason())], &["code", "reason"], false),
        ),
        (
            "EntryRetracted",
            object(
                "A retraction.",
                vec![("event_id", uuid_string("The retracted event.")), ("reason", reason())],
                &["event_id", "reason"],
                false,
            ),
        ),
        (
            "TariffSet",
            object(
                "A tariff.",
                vec![
                    ("applicant", strings(&["citizen", "business"], "Whose time.")),
                    ("vnd_per_hour", integer(1, 10_000_000, "Đồng per hour.")),
                ],
                &["applicant", "vnd_per_hour"],
                false,
            ),
        ),
        ("ProgrammeDefined", programme_definition_payload()),
    ];
    payloads.into_iter().map(|(t, s)| (format!("{t}Payload"), s)).collect()
}

fn programme_definition_payload() -> Value {
    let definition = programme_definition_schema();
    let mut properties = vec![("id", code("The programme's id."))];
    for k in ["name", "baseline_on", "deadline", "cost_reduction", "time_reduction", "scope"] {
        properties.push((k, definition["properties"][k].clone()));
    }
    let required: Vec<&str> = properties.iter().map(|(k, _)| *k).collect();
    object("A programme definition.", properties, &required, false)
}

fn burden_schema() -> Value {
    object(
        "Burden per filing and per year (money `null` where a tariff it needs is not in force).",
        vec![
            ("cost_per_filing_vnd", nullable(natural("Đồng, rounded half-up."))),
            ("annual_cost_vnd", nullable(natural("Đồng, rounded half-up."))),
            ("processing_days", decimal2(3650, false, "Working days.")),
        ],
        &["cost_per_filing_vnd", "annual_cost_vnd", "processing_days"],
        false,
    )
}

fn reduction(description: &str) -> Value {
    nullable(json!({"type": "number", "maximum": 1, "description": description}))
}

fn procedure_view_schema() -> Value {
    let recorded = || nullable(procedure_schema(false));
    object(
        "One procedure as of `as_of`, known at `known_at`, measured from `baseline_on`.",
        vec![
            ("code", code("The procedure.")),
            ("version", natural("Its stream version as known at `known_at` (the ETag).")),
            ("status", strings(&STATUSES, "Where it stands.")),
            ("merged_into", nullable(code("The procedure it was merged into."))),
            ("terminal", nullable(code("The procedure it flows to (itself if active); null if abolished."))),
            ("current", schema_ref("RecordedProcedure")),
            ("baseline", {
                let mut b = recorded();
                b["description"] = json!("Its attributes at `baseline_on`; null unless it is a root.");
                b
            }),
            ("before", nullable(burden_schema())),
            ("after", nullable(burden_schema())),
            ("cost_reduction", reduction("1 − after / before annual cost.")),
            ("time_reduction", reduction("1 − after / before processing days.")),
            ("lineage", schema_ref("Lineage")),
        ],
        &[
            "code",
            "version",
            "status",
            "merged_into",
            "terminal",
            "current",
            "baseline",
            "before",
            "after",
            "cost_reduction",
            "time_reduction",
            "lineage",
        ],
        false,
    )
}

fn tariff_in_force_schema() -> Value {
    object(
        "A tariff in force at `as_of`.",
        vec![("vnd_per_hour", integer(1, 10_000_000, "Đồng per hour.")), ("effective_on", date("Since when."))],
        &["vnd_per_hour", "effective_on"],
        false,
    )
}

fn tariffs_schema() -> Value {
    object(
        "The tariffs a report used; `null` where none is in force (the gap the report shows).",
        vec![("citizen", nullable(tariff_in_force_schema())), ("business", nullable(tariff_in_force_schema()))],
        &["citizen", "business"],
        false,
    )
}

fn group_properties() -> Vec<(&'static str, Value)> {
    let money =
        |what: &str| nullable(natural(&format!("{what}, in đồng rounded half-up; null where a tariff is missing.")));
    let days = |what: &str| nullable(json!({"type": "number", "minimum": 0, "description": what}));
    vec![
        ("key", json!({"type": "string", "description": "The agency, sector or level; `all`; a programme's scope."})),
        ("baseline_annual_cost_vnd", money("Σ baseline annual costs of the roots")),
        ("current_annual_cost_vnd", money("Σ current annual costs, introduced procedures included")),
        ("cost_reduction", reduction("1 − current / baseline; null when baseline is 0.")),
        ("baseline_avg_days", days("Baseline processing days weighted by baseline volume.")),
        ("current_avg_days", days("Current processing days weighted by baseline volume.")),
        ("time_reduction", reduction("1 − current / baseline average days.")),
        ("roots", natural("Roots in the group.")),
        ("introduced", natural("Active introduced procedures in the group.")),
    ]
}

fn group_schema() -> Value {
    let properties = group_properties();
    let required: Vec<&str> = properties.iter().map(|(k, _)| *k).collect();
    object("The figures of a group of roots.", properties, &required, false)
}

fn programme_progress_schema() -> Value {
    let definition = programme_definition_payload();
    let mut properties: Vec<(&str, Value)> = Vec::new();
    for k in ["id", "name", "baseline_on", "deadline", "cost_reduction", "time_reduction", "scope"] {
        properties.push((k, definition["properties"][k].clone()));
    }
    let verdict = |what: &str| nullable(json!({"type": "boolean", "description": what}));
    let mut figures = nullable(group_schema());
    figures["description"] = json!("The group figures over its scope (key: the scope); null before `baseline_on`.");
    properties.extend([
        ("as_of", date("The question's valid time.")),
        ("known_at", timestamp("The question's transaction time.")),
        ("evaluated_on", date("min(as_of, deadline).")),
        ("tariffs", schema_ref("Tariffs")),
        ("figures", figures),
        ("cost_target_met", verdict("The cost reduction reaches its target (null when unknown).")),
        ("time_target_met", verdict("The time reduction reaches its target (null when unknown).")),
        ("on_track", verdict("Each reduction reaches its target pro rata to the time elapsed.")),
        ("missing_vnd", nullable(natural("max(0, current − baseline × (1 − cost target)), in đồng."))),
        (
            "missing_days",
            nullable(json!({"type": "number", "minimum": 0, "description": "max(0, current avg days − baseline avg days × (1 − time target))."})),
        ),
    ]);
    let required: Vec<&str> = properties.iter().map(|(k, _)| *k).collect();
    object(
        "A programme's definition (`cost_reduction`, `time_reduction` are its targets) and its progress.",
        properties,
        &required,
        false,
    )
}

fn schemas() -> Map<String, Value> {
    let mut s = Map::new();
    let mut put = |name: &str, schema: Value| {
        s.insert(name.to_owned(), schema);
    };
    put("Procedure", procedure_schema(true));
    put("Document", document_schema());
    put("Changes", changes_schema(true, None, "An amendment's `set`: any attributes but `code`; at least one."));
    put(
        "SimplificationChanges",
        changes_schema(
            true,
            Some(SIMPLIFIABLE),
            "A simplification's `set`: burden attributes, `name` and `legal_basis`; at least one, and none may \
             rise in burden (a number going up, more documents or copies, `online` falling).",
        ),
    );
    put("Estimates", estimates_schema(true));
    put("Registration", registration_schema());
    put(
        "Simplification",
        body(
            "A `ProcedureSimplified`.",
            vec![
                ("set", schema_ref("SimplificationChanges")),
                ("measures", array(text(1, 200, "A measure."), "Free tags, e.g. `liên thông`.")),
            ],
            &["set"],
            envelope(true, true),
        ),
    );
    put(
        "Amendment",
        body(
            "A `ProcedureAmended`: burden may rise.",
            vec![("set", schema_ref("Changes"))],
            &["set"],
            envelope(true, true),
        ),
    );
    put("EstimateRevision", estimate_revision_schema());
    put(
        "Abolition",
        body(
            "A `ProcedureAbolished`.",
            vec![("reason", text(0, 2000, "Why it is abolished."))],
            &["reason"],
            envelope(true, true),
        ),
    );
    put("Merger", merger_schema());
    put(
        "Retraction",
        body(
            "An `EntryRetracted`: undoes a recorded event. It takes effect when recorded: no `effective_on`.",
            vec![
                ("event_id", uuid_string("The event to retract.")),
                ("reason", text(0, 2000, "Why it was a mistake.")),
            ],
            &["event_id", "reason"],
            envelope(false, true),
        ),
    );
    put(
        "TariffSetting",
        body(
            "A `TariffSet`: the value of an hour of the applicant's time from `effective_on`.",
            vec![("vnd_per_hour", integer(1, 10_000_000, "Đồng per hour."))],
            &["vnd_per_hour"],
            envelope(true, true),
        ),
    );
    put("ProgrammeDefinition", programme_definition_schema());

    put("Problem", problem_schema());
    put(
        "FieldProblem",
        object(
            "One field and the rule it broke.",
            vec![
                (
                    "field",
                    json!({"type": "string", "description": "A JSON Pointer into the body (`/set/fee_vnd`) or a parameter's or header's name."}),
                ),
                ("message", json!({"type": "string"})),
            ],
            &["field", "message"],
            false,
        ),
    );
    put(
        "AffectedEvent",
        object(
            "A recorded event named by a refusal.",
            vec![
                ("event_id", uuid_string("The event.")),
                ("seq", natural("Its seq.")),
                ("type", event_type_schema()),
                ("effective_on", date("Its valid time.")),
                ("rule", json!({"type": "string", "description": "The rule it would break."})),
            ],
            &["event_id", "seq", "type", "effective_on", "rule"],
            false,
        ),
    );
    put(
        "WrittenEvent",
        object(
            "An event a write recorded.",
            vec![
                ("event_id", uuid_string("UUID v7.")),
                ("seq", integer(1, u64::MAX, "Global position.")),
                ("stream", stream_schema()),
                ("version", integer(1, u64::MAX, "Position in its stream.")),
                ("type", event_type_schema()),
            ],
            &["event_id", "seq", "stream", "version", "type"],
            false,
        ),
    );
    put("WrittenEvents", written_events_schema());
    put("Event", object("A recorded event: its envelope and `payload`.", event_properties(), &event_required(), false));
    put(
        "EventList",
        object(
            "A procedure's history, oldest first.",
            vec![("items", array(schema_ref("Event"), "Events."))],
            &["items"],
            false,
        ),
    );
    for (name, schema) in payload_schemas() {
        put(&name, schema);
    }
    put("RecordedProcedure", {
        let mut p = procedure_schema(false);
        p["description"] = json!("A procedure as answered: the rules of `Procedure`, decimals as plain JSON numbers.");
        p
    });
    put("RecordedChanges", changes_schema(false, None, "A `set` as recorded."));
    put("RecordedEstimates", estimates_schema(false));
    put(
        "Lineage",
        object(
            "Merges into and out of a procedure.",
            vec![
                ("merged_from", array(code("A procedure merged into this one."), "In the order the merges name them.")),
                ("merged_into", nullable(code("The procedure it was merged into."))),
            ],
            &["merged_from", "merged_into"],
            false,
        ),
    );
    put("ProcedureView", procedure_view_schema());
    put(
        "ProcedureListItem",
        object(
            "A procedure in the list, as of `as_of`.",
            vec![
                ("code", code("The procedure.")),
                ("name", json!({"type": "string"})),
                ("agency", json!({"type": "string"})),
                ("sector", json!({"type": "string"})),
                ("level", strings(&LEVELS, "Its current level.")),
                ("status", strings(&STATUSES, "Where it stands.")),
                ("merged_into", nullable(code("The procedure it was merged into."))),
                ("current", schema_ref("RecordedProcedure")),
            ],
            &["code", "name", "agency", "sector", "level", "status", "merged_into", "current"],
            false,
        ),
    );
    put(
        "ProcedureList",
        object(
            "A page of procedures ordered by code.",
            vec![
                ("items", array(schema_ref("ProcedureListItem"), "The page.")),
                ("next_after", nullable(code("Pass as `after` for the next page; null on the last."))),
            ],
            &["items", "next_after"],
            false,
        ),
    );
    put("Tariffs", tariffs_schema());
    put("Group", group_schema());
    put(
        "Reductions",
        object(
            "The group figures at a moment, from a baseline; groups ordered by key.",
            vec![
                ("as_of", date("Valid time.")),
                ("known_at", timestamp("Transaction time.")),
                ("baseline_on", date("The baseline.")),
                ("group_by", strings(&GROUP_BYS, "How the roots are grouped.")),
                ("tariffs", schema_ref("Tariffs")),
                ("groups", array(schema_ref("Group"), "One group, key `all`, for `group_by=all`.")),
            ],
            &["as_of", "known_at", "baseline_on", "group_by", "tariffs", "groups"],
            false,
        ),
    );
    put("ProgrammeProgress", programme_progress_schema());
    put(
        "ProgrammeList",
        object(
            "Every programme, ordered by id.",
            vec![("items", array(schema_ref("ProgrammeProgress"), "Programmes."))],
            &["items"],
            false,
        ),
    );
    put(
        "ProjectionChange",
        object(
            "A read-model row an event changed, as of today (also published on NATS).",
            vec![
                (
                    "name",
                    strings(
                        &[
                            "procedure",
                            "reductions-all",
                            "reductions-agency",
                            "reductions-sector",
                            "reductions-level",
                            "programme",
                        ],
                        "The read model.",
                    ),
                ),
                ("key", json!({"type": "string", "description": "The code, group key or programme id."})),
                ("value", json!({"type": "object", "description": "A ProcedureView, Group or ProgrammeProgress."})),
            ],
            &["name", "key", "value"],
            false,
        ),
    );
    put("LiveMessage", {
        let mut properties = event_properties();
        properties.push(("changes", array(schema_ref("ProjectionChange"), "The rows it changed.")));
        let required: Vec<&str> = properties.iter().map(|(k, _)| *k).collect();
        object("The `data` of a server-sent message: the event and `changes`.", properties, &required, false)
    });
    put(
        "Health",
        object(
            "Up, and where the log and the projection stand.",
            vec![
                ("status", strings(&["ok"], "Always `ok` when it answers.")),
                ("log_head", natural("The last seq in the log.")),
                ("projected", natural("The last seq the read models have folded.")),
            ],
            &["status", "log_head", "projected"],
            false,
        ),
    );
    s
}

// ---------------------------------------------------------------------------------------------------------
// Parameters.

fn query(name: &str, schema: Value, description: &str) -> Value {
    json!({"name": name, "in": "query", "required": false, "schema": schema, "description": description})
}

fn path(name: &str, schema: Value, example: &str, description: &str) -> Value {
    json!({"name": name, "in": "path", "required": true, "schema": schema, "example": example, "description": description})
}

fn header(name: &str, schema: Value, description: &str) -> Value {
    json!({"name": name, "in": "header", "required": false, "schema": schema, "description": description})
}

fn parameters() -> Map<String, Value> {
    let known_at = json!({"anyOf": [{"type": "string", "format": "date-time"}, {"type": "string", "format": "date"}]});
    let u64_max = u64::MAX;
    let entries = [
        ("AsOf", query("as_of", date(""), "Valid time: what was in effect on this date. Default: today in Vietnam.")),
        (
            "KnownAt",
            query(
                "known_at",
                known_at,
                "Transaction time: what had been recorded by then, RFC 3339 with an offset, or a date meaning the \
                 end of that day in Vietnam. Default: now.",
            ),
        ),
        (
            "BaselineOn",
            query(
                "baseline_on",
                date(""),
                "Measure reductions from this date. Default: the earliest counted registration. `as_of` before it is 400.",
            ),
        ),
        (
            "Token",
            query(
                "token",
                json!({"type": "string"}),
                "A bearer token, for clients that cannot send headers (EventSource) when the server is private.",
            ),
        ),
        (
            "GroupBy",
            query(
                "group_by",
                json!({"type": "string", "enum": GROUP_BYS, "default": "all"}),
                "How to group the roots (by their baseline attributes).",
            ),
        ),
        ("Agency", query("agency", json!({"type": "string"}), "Only procedures of this agency (exact).")),
        ("Sector", query("sector", json!({"type": "string"}), "Only procedures of this sector (exact).")),
        ("Level", query("level", json!({"type": "string", "enum": LEVELS}), "Only procedures of this level.")),
        ("Status", query("status", json!({"type": "string", "enum": STATUSES}), "Only procedures with this status.")),
        (
            "Q",
            query(
                "q",
                json!({"type": "string"}),
                "Matches code, name, sector or agency, ignoring case and Vietnamese diacritics (`đ` read as `d`).",
            ),
        ),
        (
            "ListAfter",
            query("after", json!({"type": "string"}), "Start after this code (the previous page's `next_after`)."),
        ),
        (
            "ListLimit",
            query("limit", json!({"type": "integer", "minimum": 1, "maximum": 1000, "default": 100}), "Page size."),
        ),
        (
            "EventsAfter",
            query(
                "after",
                json!({"type": "integer", "minimum": 0, "maximum": u64_max, "default": 0}),
                "Start after this seq.",
            ),
        ),
        (
            "EventsLimit",
            query(
                "limit",
                json!({"type": "integer", "minimum": 1, "maximum": 10_000, "default": 1000}),
                "How many events at most.",
            ),
        ),
        (
            "SubscribeAfter",
            query(
                "after",
                json!({"type": "integer", "minimum": 0, "maximum": u64_max}),
                "Resume after this seq (when `Last-Event-ID` is absent). Default: from now on.",
            ),
        ),
        ("Code", path("code", code(""), "1.000001", "A procedure code (one that is not a valid code is 404).")),
        ("ProgrammeId", path("id", code(""), "p30-2011", "A programme id.")),
        (
            "TariffApplicant",
            path(
                "applicant",
                json!({"type": "string", "enum": ["citizen", "business"]}),
                "citizen",
                "Whose time the tariff values.",
            ),
        ),
        // Header patterns admit what the server accepts: HTTP drops the whitespace after a header value
        // before the handler sees it, and Rust's integer parsing takes a leading `+` and zeros. Leading
        // whitespace is left out because common clients refuse to send it.
        (
            "IdempotencyKey",
            header(
                "Idempotency-Key",
                json!({"type": "string", "minLength": 1, "maxLength": 200, "pattern": r"^[!-~](?:[ -~\t]*[!-~])?[ \t]*$"}),
                "A repeat with the same key, method, path and JSON-equal body answers as the first did and writes \
                 nothing; the same key on anything else is 422. Only successful writes are remembered.",
            ),
        ),
        (
            "IfMatch",
            header(
                "If-Match",
                json!({"type": "string", "pattern": r#"^(?:W/)*"*\+?0*[0-9]{1,19}"*[ \t]*$"#}),
                "The stream version the writer saw (`3` or `\"3\"`), checked before any domain rule; a stale one is \
                 409 with `current_version`.",
            ),
        ),
        (
            "LastEventId",
            header(
                "Last-Event-ID",
                json!({"type": "string", "pattern": r"^\+?0*[0-9]{1,19}[ \t]*$"}),
                "The seq of the last message received: resumes with no gap and no duplicate.",
            ),
        ),
    ];
    entries.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
}

// ---------------------------------------------------------------------------------------------------------
// Responses.

/// The problem answers, by status: (component name, status, description).
const PROBLEMS: [(&str, u16, &str); 8] = [
    ("BadRequest", 400, "Malformed JSON, a wrong content type, a bad header or query parameter (unknown ones too)."),
    ("Unauthorized", 401, "No bearer token, or an unknown one."),
    ("Forbidden", 403, "A valid token without the right (another agency's procedure, settings without admin)."),
    ("NotFound", 404, "An unknown code or id in the path."),
    ("Conflict", 409, "A stale `If-Match` or `expected_versions` (with `current_version`), or a code already taken."),
    ("TooLarge", 413, "The body is over 1 MiB."),
    ("Unprocessable", 422, "A field or domain rule broken, or an `Idempotency-Key` reused with another request."),
    ("Unavailable", 503, "The log cannot write (or read) now, e.g. the disk is full."),
];

fn problem_responses() -> Map<String, Value> {
    PROBLEMS
        .iter()
        .map(|(name, _, description)| {
            let response = json!({
                "description": description,
                "content": {"application/problem+json": {"schema": schema_ref("Problem")}},
            });
            ((*name).to_owned(), response)
        })
        .collect()
}

/// The answers of an operation: its success answers and the problems it can give.
fn responses(success: Vec<(&str, Value)>, problems: &[u16]) -> Value {
    let mut out = Map::new();
    for (status, response) in success {
        out.insert(status.to_owned(), response);
    }
    for status in problems {
        let (name, ..) = PROBLEMS.iter().find(|p| p.1 == *status).expect("a known problem status");
        out.insert(status.to_string(), json!({ "$ref": format!("#/components/responses/{name}") }));
    }
    Value::Object(out)
}

fn json_answer(description: &str, schema: Value) -> Value {
    json!({"description": description, "content": {"application/json": {"schema": schema}}})
}

fn text_answer(description: &str, media: &str) -> Value {
    json!({"description": description, "content": {media: {"schema": {"type": "string"}}}})
}

// ---------------------------------------------------------------------------------------------------------
// Operations.

const WRITE_PROBLEMS: [u16; 6] = [400, 401, 403, 413, 422, 503];

fn read_security() -> Value {
    json!([{}, {"bearerAuth": []}])
}

/// A write: bearer token, JSON body, `Idempotency-Key`; answers 201 with the events written.
fn write_op(
    id: &str,
    summary: &str,
    description: &str,
    body_schema: &str,
    mut params: Vec<Value>,
    extra_problems: &[u16],
    example: Value,
) -> Value {
    params.push(param_ref("IdempotencyKey"));
    let mut problems = WRITE_PROBLEMS.to_vec();
    problems.extend_from_slice(extra_problems);
    problems.sort_unstable();
    let mut created = json_answer("Recorded: the events written.", schema_ref("WrittenEvents"));
    if id == "registerProcedure" {
        created["headers"] = json!({"Location": {"$ref": "#/components/headers/Location"}});
    }
    json!({
        "tags": ["writes"],
        "operationId": id,
        "summary": summary,
        "description": description,
        "security": [{"bearerAuth": []}],
        "parameters": params,
        "requestBody": {
            "required": true,
            "content": {"application/json": {"schema": schema_ref(body_schema), "example": example}},
        },
        "responses": responses(vec![("201", created)], &problems),
    })
}

/// A read of JSON: open unless the server is private.
fn read_op(id: &str, summary: &str, description: &str, params: Vec<Value>, ok: Value, problems: &[u16]) -> Value {
    json!({
        "tags": ["reads"],
        "operationId": id,
        "summary": summary,
        "description": description,
        "security": read_security(),
        "parameters": params,
        "responses": responses(vec![("200", ok)], problems),
    })
}

fn page_op(id: &str, summary: &str, description: &str, params: Vec<Value>, open: bool) -> Value {
    let mut ok = vec![("200", text_answer("The page.", "text/html"))];
    if !params.is_empty() {
        ok.push(("404", json!({"description": "No such procedure in the catalogue."})));
    }
    json!({
        "tags": ["pages"],
        "operationId": id,
        "summary": summary,
        "description": description,
        "security": if open { json!([]) } else { read_security() },
        "parameters": params,
        "responses": responses(ok, if open { &[] } else { &[401] }),
    })
}

fn moment_params() -> Vec<Value> {
    ["AsOf", "KnownAt", "BaselineOn", "Token"].into_iter().map(param_ref).collect()
}

fn paths() -> Value {
    json!({
        "/v1/procedures": {
            "post": write_op(
                "registerProcedure",
                "Register a procedure",
                "Records a `ProcedureRegistered`. The code must be unused (ever: a retracted registration's code \
                 stays taken). A recorder may register only for its agencies.",
                "Registration",
                vec![param_ref("IfMatch")],
                &[409],
                examples::registration(),
            ),
            "get": read_op(
                "listProcedures",
                "List procedures",
                "Procedures registered as of `as_of`, filtered, ordered by code and paged with `after` and `limit`.",
                ["Agency", "Sector", "Level", "Status", "Q", "ListAfter", "ListLimit", "AsOf", "KnownAt", "BaselineOn", "Token"]
                    .into_iter()
                    .map(param_ref)
                    .collect(),
                json_answer("A page of procedures.", schema_ref("ProcedureList")),
                &[400, 401],
            ),
        },
        "/v1/procedures/{code}": {
            "get": {
                "tags": ["reads"],
                "operationId": "getProcedure",
                "summary": "One procedure",
                "description": "Its current and baseline attributes, before/after burden, reductions and lineage.",
                "security": read_security(),
                "parameters": ([param_ref("Code")].into_iter().chain(moment_params()).collect::<Vec<_>>()),
                "responses": responses(
                    vec![("200", {
                        let mut ok = json_answer("The procedure.", schema_ref("ProcedureView"));
                        ok["headers"] = json!({"ETag": {"$ref": "#/components/headers/ETag"}});
                        ok
                    })],
                    &[400, 401, 404],
                ),
            },
        },
        "/v1/procedures/{code}/events": {
            "get": read_op(
                "getProcedureHistory",
                "A procedure's history",
                "Every event of its stream, oldest first, retracted ones and retractions included.",
                vec![param_ref("Code"), param_ref("Token")],
                json_answer("Its events.", schema_ref("EventList")),
                &[400, 401, 404, 503],
            ),
        },
        "/v1/procedures/{code}/simplifications": {
            "post": write_op(
                "simplifyProcedure",
                "Record a simplification",
                "Records a `ProcedureSimplified`: the procedure must be active at `effective_on`, and at least one \
                 value must change, none rising in burden (a rise is refused with a hint to record an amendment).",
                "Simplification",
                vec![param_ref("Code"), param_ref("IfMatch")],
                &[404, 409],
                examples::simplification(),
            ),
        },
        "/v1/procedures/{code}/amendments": {
            "post": write_op(
                "amendProcedure",
                "Record an amendment",
                "Records a `ProcedureAmended`: the procedure must be active; any attribute but `code` may change.",
                "Amendment",
                vec![param_ref("Code"), param_ref("IfMatch")],
                &[404, 409],
                examples::amendment(),
            ),
        },
        "/v1/procedures/{code}/estimates": {
            "post": write_op(
                "reviseEstimates",
                "Revise estimates",
                "Records an `EstimateRevised`: a re-measurement, not a reform. The procedure may have any status.",
                "EstimateRevision",
                vec![param_ref("Code"), param_ref("IfMatch")],
                &[404, 409],
                examples::estimate_revision(),
            ),
        },
        "/v1/procedures/{code}/abolition": {
            "post": write_op(
                "abolishProcedure",
                "Abolish a procedure",
                "Records a `ProcedureAbolished`: the procedure must be active.",
                "Abolition",
                vec![param_ref("Code"), param_ref("IfMatch")],
                &[404, 409],
                examples::abolition(),
            ),
        },
        "/v1/merges": {
            "post": write_op(
                "mergeProcedures",
                "Merge procedures",
                "Records a `ProceduresMerged` in every stream it touches (each source's and `into`'s), atomically. \
                 All sources must be active. A recorder needs every source's agency and `into`'s. An unknown \
                 source is a 422 naming `/sources/i`.",
                "Merger",
                vec![],
                &[409],
                examples::merger(),
            ),
        },
        "/v1/retractions": {
            "post": write_op(
                "retractEntry",
                "Retract an event",
                "Records an `EntryRetracted` in every stream the event was written to. Refused (422, listing them) \
                 where other events depend on it, or if the event is unknown, a retraction or already retracted.",
                "Retraction",
                vec![],
                &[],
                examples::retraction(),
            ),
        },
        "/v1/tariffs/{applicant}": {
            "put": write_op(
                "setTariff",
                "Set a tariff",
                "Records a `TariffSet` in the `settings` stream (admin only).",
                "TariffSetting",
                vec![param_ref("TariffApplicant")],
                &[404],
                examples::tariff(),
            ),
        },
        "/v1/programmes/{id}": {
            "put": write_op(
                "defineProgramme",
                "Define a programme",
                "Records a `ProgrammeDefined` in the `settings` stream (admin only); redefining an id replaces it.",
                "ProgrammeDefinition",
                vec![param_ref("ProgrammeId")],
                &[404],
                examples::programme(),
            ),
            "get": read_op(
                "getProgramme",
                "One programme's progress",
                "Its definition and, at min(as_of, deadline) from its own baseline over its scope, its figures and \
                 verdicts. Programme definitions count by `known_at` alone.",
                vec![param_ref("ProgrammeId"), param_ref("AsOf"), param_ref("KnownAt"), param_ref("Token")],
                json_answer("The programme.", schema_ref("ProgrammeProgress")),
                &[400, 401, 404],
            ),
        },
        "/v1/programmes": {
            "get": read_op(
                "listProgrammes",
                "Every programme's progress",
                "Ordered by id.",
                vec![param_ref("AsOf"), param_ref("KnownAt"), param_ref("Token")],
                json_answer("The programmes.", schema_ref("ProgrammeList")),
                &[400, 401],
            ),
        },
        "/v1/reductions": {
            "get": read_op(
                "getReductions",
                "Reductions by group",
                "The Standard Cost Model figures per group of roots at constant prices (the tariffs in force at `as_of`).",
                [param_ref("GroupBy")].into_iter().chain(moment_params()).collect(),
                json_answer("The figures.", schema_ref("Reductions")),
                &[400, 401],
            ),
        },
        "/v1/events": {
            "get": read_op(
                "getEvents",
                "The global log",
                "The log in seq order as NDJSON: one `Event` (see components) a line. Resume with `after`.",
                vec![param_ref("EventsAfter"), param_ref("EventsLimit"), param_ref("Token")],
                {
                    let mut ok = text_answer("Events, one JSON `Event` a line.", "application/x-ndjson");
                    ok["content"]["application/x-ndjson"]["x-line-schema"] = schema_ref("Event");
                    ok
                },
                &[400, 401, 503],
            ),
        },
        "/v1/subscribe": {
            "get": {
                "tags": ["live"],
                "operationId": "subscribe",
                "summary": "Live feed (server-sent events)",
                "description": "Exactly one message per log seq: `id` the seq, `event` the type, `data` a \
                    `LiveMessage` (the event and the read-model rows it changed, as of today). The stream stays \
                    open until the client or the server ends it.",
                "security": read_security(),
                "parameters": [param_ref("LastEventId"), param_ref("SubscribeAfter"), param_ref("Token")],
                "responses": responses(
                    vec![("200", {
                        let mut ok = text_answer("A stream of server-sent events.", "text/event-stream");
                        ok["content"]["text/event-stream"]["x-data-schema"] = schema_ref("LiveMessage");
                        ok
                    })],
                    &[400, 401],
                ),
            },
        },
        "/openapi.json": {
            "get": {
                "tags": ["operations"],
                "operationId": "getOpenApi",
                "summary": "This document",
                "security": read_security(),
                "responses": responses(
                    vec![("200", json_answer("The OpenAPI 3.0.3 document.", json!({"type": "object"})))],
                    &[401],
                ),
            },
        },
        "/healthz": {
            "get": {
                "tags": ["operations"],
                "operationId": "getHealth",
                "summary": "Health",
                "description": "Open even on a private server (a `token` is accepted and ignored).",
                "security": [],
                "parameters": [param_ref("Token")],
                "responses": responses(vec![("200", json_answer("Up.", schema_ref("Health")))], &[400]),
            },
        },
        "/metrics": {
            "get": {
                "tags": ["operations"],
                "operationId": "getMetrics",
                "summary": "Prometheus metrics",
                "description": "Request counts and latencies, append latency, the log head.",
                "security": read_security(),
                "parameters": [param_ref("Token")],
                "responses": responses(
                    vec![("200", text_answer("Prometheus text exposition format.", "text/plain"))],
                    &[400, 401],
                ),
            },
        },
        "/": {
            "get": page_op("getDashboard", "Dashboard", "The dashboard: reductions moving live as staff record changes.", vec![], false),
        },
        "/catalogue": {
            "get": page_op("getCatalogue", "Public catalogue", "The public catalogue: what each active procedure needs today.", vec![], true),
        },
        "/catalogue/{code}": {
            "get": page_op(
                "getCatalogueEntry",
                "A catalogue entry",
                "The public catalogue's page of one active procedure.",
                vec![param_ref("Code")],
                true,
            ),
        },
    })
}

/// Request examples: the SPEC's worked example, coherent enough to be sent in this order to an empty log.
mod examples {
    use serde_json::{Value, json};

    pub fn registration() -> Value {
        json!({
            "code": "1.000001", "name": "Cấp giấy phép xây dựng nhà ở riêng lẻ", "sector": "Xây dựng",
            "agency": "SXD", "level": "district", "applicant": "citizen", "processing_days": 20, "steps": 3,
            "documents": [{"name": "Đơn đề nghị cấp giấy phép xây dựng", "copies": 1}],
            "fee_vnd": 75000, "out_of_pocket_vnd": 100000, "applicant_hours": 16, "annual_volume": 1200,
            "online": "none", "legal_basis": "Luật Xây dựng 2003", "effective_on": "2011-01-01",
            "note": "Kiểm kê 2011",
        })
    }

    pub fn simplification() -> Value {
        json!({
            "set": {"processing_days": 12, "applicant_hours": 10.5},
            "measures": ["rút ngắn thời hạn"],
            "effective_on": "2011-07-01",
            "legal_basis": "Quyết định 1234/QĐ-UBND",
        })
    }

    pub fn amendment() -> Value {
        json!({"set": {"fee_vnd": 80000}, "effective_on": "2012-03-01", "note": "phí điều chỉnh"})
    }

    pub fn estimate_revision() -> Value {
        json!({
            "baseline": {"annual_volume": 1100}, "current": {"annual_volume": 1100},
            "effective_on": "2013-01-01", "note": "số liệu khảo sát lại",
        })
    }

    pub fn abolition() -> Value {
        json!({"reason": "Không còn cần thiết", "effective_on": "2012-06-01", "legal_basis": "Nghị định 43/2012"})
    }

    pub fn merger() -> Value {
        json!({
            "sources": ["3.000003", "3.000004"],
            "into": {
                "code": "3.000010", "name": "Đăng ký khai sinh", "sector": "Hộ tịch", "agency": "STP",
                "level": "commune", "applicant": "citizen", "processing_days": 3, "steps": 2, "documents": [],
                "fee_vnd": 10000, "out_of_pocket_vnd": 10000, "applicant_hours": 3, "annual_volume": 8000,
                "online": "partial", "legal_basis": "",
            },
            "expected_versions": {"3.000003": 1},
            "effective_on": "2012-01-01",
        })
    }

    pub fn retraction() -> Value {
        json!({"event_id": "01890a5d-ac96-774b-bcce-b302099a8057", "reason": "Ghi nhầm"})
    }

    pub fn tariff() -> Value {
        json!({"vnd_per_hour": 25000, "effective_on": "2011-01-01"})
    }

    pub fn programme() -> Value {
        json!({
            "name": "Kế hoạch đơn giản hóa TTHC 2011–2015", "baseline_on": "2011-01-01", "deadline": "2015-12-31",
            "cost_reduction": 0.3, "time_reduction": 0.3333, "scope": "all",
        })
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    use super::*;

    /// `(path, methods, handlers)` of every `.route(…)` in the router's source.
    fn routes() -> Vec<(String, Vec<(String, String)>)> {
        let source = include_str!("mod.rs");
        let mut out = Vec::new();
        for (at, _) in source.match_indices(".route(\"") {
            let rest = &source[at + ".route(\"".len()..];
            let path = &rest[..rest.find('"').expect("a closing quote")];
            // The rest of the call, to its closing parenthesis.
            let args = &rest[path.len() + 1..];
            let mut depth = 1;
            let end = args
                .char_indices()
                .find(|&(_, c)| {
                    depth += match c {
                        '(' => 1,
                        ')' => -1,
                        _ => 0,
                    };
                    depth == 0
                })
                .map(|(i, _)| i)
                .expect("a closed .route(");
            let args = &args[..end];
            let mut methods = Vec::new();
            for method in ["get", "post", "put", "patch", "delete"] {
                for (i, _) in args.match_indices(&format!("{method}(")) {
                    let before = args[..i].chars().last().unwrap_or(' ');
                    if matches!(before, ' ' | ',' | '.' | '\n') {
                        let handler = &args[i + method.len() + 1..];
                        let handler = &handler[..handler.find(')').expect("a handler")];
                        methods.push((method.to_owned(), handler.trim().to_owned()));
                    }
                }
            }
            assert!(!methods.is_empty(), "no method found for route {path}: {args}");
            out.push((path.to_owned(), methods));
        }
        assert!(out.len() >= 15, "the router's routes were not found in mod.rs: {out:?}");
        out
    }

    /// The body of `pub async fn {name}` in a handler module's source.
    fn handler_body<'a>(source: &'a str, name: &str) -> &'a str {
        let start = source.find(&format!("pub async fn {name}(")).unwrap_or_else(|| panic!("no handler {name}"));
        let body = &source[start + 1..];
        let end = body.find("\npub async fn ").or_else(|| body.find("\n#[derive")).unwrap_or(body.len());
        &body[..end]
    }

    /// The body of the shared per-procedure write in `write.rs`.
    fn procedure_write_body(source: &str) -> &str {
        let start = source.find("async fn procedure_write<").expect("procedure_write");
        let body = &source[start..];
        &body[..body.find("\n}\n").expect("its end")]
    }

    /// The query parameters a read handler accepts besides `token`, from its `only`/`reading` list.
    fn accepted_query(name: &str) -> Option<BTreeSet<String>> {
        let body = handler_body(include_str!("read.rs"), name);
        if !body.contains("Query(") {
            return None;
        }
        let list = ["known = [", "&["].iter().find_map(|lead| body.find(lead).map(|i| &body[i + lead.len()..]));
        let Some(list) = list else { return Some(BTreeSet::new()) };
        let list = &list[..list.find(']').expect("a closed list")];
        Some(list.split(',').map(|s| s.trim().trim_matches('"').to_owned()).filter(|s| !s.is_empty()).collect())
    }

    fn resolve<'a>(doc: &'a Value, value: &'a Value) -> &'a Value {
        match value.get("$ref").and_then(Value::as_str) {
            Some(r) => {
                let pointer = r.strip_prefix('#').expect("a local $ref");
                resolve(doc, doc.pointer(pointer).unwrap_or_else(|| panic!("dangling $ref {r}")))
            }
            None => value,
        }
    }

    fn operations(doc: &Value) -> Vec<(String, String, &Value)> {
        let mut out = Vec::new();
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                out.push((path.clone(), method.clone(), op));
            }
        }
        out
    }

    fn parameters_of<'a>(doc: &'a Value, op: &'a Value) -> Vec<&'a Value> {
        op["parameters"].as_array().map(|ps| ps.iter().map(|p| resolve(doc, p)).collect()).unwrap_or_default()
    }

    fn names_in(doc: &Value, op: &Value, location: &str) -> BTreeSet<String> {
        parameters_of(doc, op)
            .into_iter()
            .filter(|p| p["in"] == location)
            .map(|p| p["name"].as_str().unwrap().to_owned())
            .collect()
    }

    fn walk<'a>(value: &'a Value, at: String, visit: &mut impl FnMut(&str, &'a Value)) {
        visit(&at, value);
        match value {
            Value::Object(o) => o.iter().for_each(|(k, v)| walk(v, format!("{at}/{k}"), visit)),
            Value::Array(a) => a.iter().enumerate().for_each(|(i, v)| walk(v, format!("{at}/{i}"), visit)),
            _ => {}
        }
    }

    /// A checker for the subset of JSON Schema this document uses (no `pattern` or `format`: no regex here).
    fn check(doc: &Value, schema: &Value, value: &Value, at: &str, errors: &mut Vec<String>) {
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
            if schema.get("multipleOf") == Some(&json!(0.01))
                && ((x * 100.0).round() / 100.0).to_string() != x.to_string()
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
            if schema["uniqueItems"] == true && a.iter().map(Value::to_string).collect::<BTreeSet<_>>().len() != a.len()
            {
                fail_here.push("has duplicate items".into());
            }
            if let Some(items) = schema.get("items") {
                a.iter().enumerate().for_each(|(i, v)| check(doc, items, v, &format!("{at}/{i}"), errors));
            }
        }
        errors.extend(fail_here.into_iter().map(|why| format!("{at}: {why} (value {value})")));
    }

    fn conforms(doc: &Value, schema: &Value, value: &Value) -> Result<(), Vec<String>> {
        let mut errors = Vec::new();
        check(doc, schema, value, "", &mut errors);
        if errors.is_empty() { Ok(()) } else { Err(errors) }
    }

    #[test]
    fn every_route_and_method_of_the_router_is_described() {
        let doc = document();
        for (path, methods) in routes() {
            let item = doc["paths"].get(&path).unwrap_or_else(|| panic!("{path} is routed but not described"));
            for (method, handler) in methods {
                assert!(item.get(&method).is_some(), "{method} {path} ({handler}) is routed but not described");
            }
        }
    }

    #[test]
    fn every_described_operation_is_routed_or_still_to_come() {
        // The pages and the document's own route arrive with other changes; everything else must be routed.
        let to_come = ["/", "/catalogue", "/catalogue/{code}", "/openapi.json"];
        let routed: BTreeMap<String, Vec<String>> =
            routes().into_iter().map(|(p, ms)| (p, ms.into_iter().map(|m| m.0).collect())).collect();
        for (path, method, _) in operations(&document()) {
            if to_come.contains(&path.as_str()) && !routed.contains_key(&path) {
                continue;
            }
            let methods = routed.get(&path).unwrap_or_else(|| panic!("{path} is described but not routed"));
            assert!(methods.contains(&method), "{method} {path} is described but not routed");
        }
    }

    #[test]
    fn reads_describe_exactly_the_query_parameters_their_handlers_accept() {
        let doc = document();
        for (path, methods) in routes() {
            for (method, handler) in methods {
                let Some(name) = handler.strip_prefix("read::") else { continue };
                let op = &doc["paths"][&path][&method];
                let mut described = names_in(&doc, op, "query");
                let token = described.remove("token");
                match accepted_query(name) {
                    Some(accepted) => {
                        assert_eq!(described, accepted, "{method} {path}: query parameters");
                        assert!(token, "{method} {path} takes ?token= like every read that checks access");
                    }
                    None => assert!(described.is_empty() && !token, "{method} {path} reads no query"),
                }
            }
        }
    }

    #[test]
    fn writes_take_effective_on_exactly_where_their_handlers_require_it() {
        let doc = document();
        let source = include_str!("write.rs");
        let mut writes = 0;
        for (path, methods) in routes() {
            for (method, handler) in methods {
                let Some(name) = handler.strip_prefix("write::") else { continue };
                writes += 1;
                let mut body = handler_body(source, name);
                // The per-procedure writes go through `procedure_write`, which reads the envelope and
                // If-Match for them: read its body instead.
                if body.contains("procedure_write(") {
                    body = procedure_write_body(source);
                }
                let lead = "body::envelope(&mut body, ";
                let args = &body[body.find(lead).expect("an envelope") + lead.len()..];
                let needs_date = args.starts_with("true");
                let op = &doc["paths"][&path][&method];
                let schema = resolve(&doc, &op["requestBody"]["content"]["application/json"]["schema"]);
                let required = schema["required"].as_array().unwrap();
                assert_eq!(
                    required.contains(&json!("effective_on")),
                    needs_date,
                    "{method} {path}: effective_on required"
                );
                assert_eq!(
                    schema["properties"].get("effective_on").is_some(),
                    needs_date,
                    "{method} {path}: effective_on"
                );
                assert_eq!(schema["additionalProperties"], false, "{method} {path}: unknown fields are refused");
                assert_eq!(op["security"], json!([{"bearerAuth": []}]), "{method} {path} needs a bearer token");
                let statuses: Vec<&String> = op["responses"].as_object().unwrap().keys().collect();
                for s in ["201", "400", "401", "403", "413", "422", "503"] {
                    assert!(statuses.contains(&&s.to_owned()), "{method} {path} lacks {s}");
                }
                let headers = names_in(&doc, op, "header");
                assert!(headers.contains("Idempotency-Key"), "{method} {path} takes Idempotency-Key");
                // If-Match is read exactly where the handler calls `if_match` (directly or through the path).
                let reads_if_match = body.contains("if_match(") || body.contains("expect_path_version(");
                assert_eq!(headers.contains("If-Match"), reads_if_match, "{method} {path}: If-Match");
            }
        }
        assert_eq!(writes, 9, "the router's writes");
    }

    #[test]
    fn every_operation_answers_something_documented() {
        let doc = document();
        let mut ids = BTreeSet::new();
        for (path, method, op) in operations(&doc) {
            assert!(
                ids.insert(op["operationId"].as_str().unwrap().to_owned()),
                "{method} {path}: duplicate operationId"
            );
            let responses = op["responses"].as_object().unwrap_or_else(|| panic!("{method} {path} has no responses"));
            assert!(responses.keys().any(|s| s.starts_with('2')), "{method} {path} has no success");
            for (status, r) in responses {
                let r = resolve(&doc, r);
                assert!(r["description"].is_string(), "{method} {path} {status} lacks a description");
                if status.starts_with('4') || status.starts_with('5') {
                    let problem = &r["content"]["application/problem+json"]["schema"];
                    if !problem.is_null() {
                        assert_eq!(problem, &schema_ref("Problem"), "{method} {path} {status}");
                    }
                }
            }
            // Every `{name}` in the path is a required path parameter, and nothing else is.
            let in_path: BTreeSet<String> =
                path.split('/').filter_map(|s| s.strip_prefix('{')?.strip_suffix('}')).map(str::to_owned).collect();
            assert_eq!(names_in(&doc, op, "path"), in_path, "{method} {path}: path parameters");
            for p in parameters_of(&doc, op) {
                assert!(p["schema"].is_object(), "{method} {path}: parameter {} has a schema", p["name"]);
                assert_eq!(p["required"], p["in"] == "path", "{method} {path}: {} required", p["name"]);
            }
        }
    }

    #[test]
    fn every_ref_points_at_a_component_and_every_component_is_used() {
        let doc = document();
        let mut used = BTreeSet::new();
        walk(&doc, String::new(), &mut |at, v| {
            if let Some(r) = v.get("$ref").and_then(Value::as_str) {
                let pointer = r.strip_prefix('#').unwrap_or_else(|| panic!("{at}: non-local $ref {r}"));
                assert!(pointer.starts_with("/components/"), "{at}: $ref {r} outside components");
                assert!(doc.pointer(pointer).is_some(), "{at}: dangling $ref {r}");
                assert_eq!(v.as_object().unwrap().len(), 1, "{at}: siblings of $ref are ignored in OpenAPI 3.0");
                used.insert(pointer.to_owned());
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
            if let (Some(required), Some(properties)) = (o.get("required"), o.get("properties")) {
                for r in required.as_array().unwrap() {
                    assert!(properties.get(r.as_str().unwrap()).is_some(), "{at}: required {r} is not a property");
                }
            }
            if o.get("type") == Some(&json!("object")) && o.contains_key("properties") {
                assert!(o.contains_key("description"), "{at}: objects say what they are");
            }
        });
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
        let keys: Vec<&String> = procedure["properties"].as_object().unwrap().keys().collect();
        assert_eq!(keys.len(), 15);
        assert_eq!(procedure["properties"]["code"]["pattern"], "^[A-Za-z0-9._-]{1,64}$");
        assert_eq!(procedure["properties"]["processing_days"]["multipleOf"], 0.01);
        assert_eq!(procedure["properties"]["applicant_hours"]["maximum"], 10_000);
        // The domain type serialises exactly these fields.
        let example = examples::merger()["into"].clone();
        let parsed: events::Procedure = serde_json::from_value(example.clone()).expect("the example is a procedure");
        let serialised = serde_json::to_value(&parsed).unwrap();
        let fields: BTreeSet<&String> = serialised.as_object().unwrap().keys().collect();
        assert_eq!(fields, spec.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>().iter().collect());
        // A simplification's `set` is the domain's list of simplifiable attributes.
        let set = &doc["components"]["schemas"]["SimplificationChanges"]["properties"];
        let simplifiable: BTreeSet<&str> = set.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(simplifiable, SIMPLIFIABLE.iter().copied().collect());
    }

    #[test]
    fn the_schema_checker_refuses_what_the_rules_refuse() {
        let doc = document();
        let procedure = schema_ref("Procedure");
        let good = examples::merger()["into"].clone();
        assert_eq!(conforms(&doc, &procedure, &good), Ok(()));
        for (field, bad) in [
            ("processing_days", json!(12.345)),
            ("steps", json!(0)),
            ("level", json!("village")),
            ("fee_vnd", json!(1_000_000_001)),
            ("name", json!("")),
        ] {
            let mut p = good.clone();
            p[field] = bad;
            assert!(conforms(&doc, &procedure, &p).is_err(), "{field} = {}", p[field]);
        }
        let mut extra = good.clone();
        extra["bogus"] = json!(1);
        assert!(conforms(&doc, &procedure, &extra).is_err());
        let mut missing = good;
        missing.as_object_mut().unwrap().remove("legal_basis");
        assert!(conforms(&doc, &procedure, &missing).is_err());
        let estimates = schema_ref("EstimateRevision");
        assert!(conforms(&doc, &estimates, &json!({"baseline": {}, "effective_on": "2013-01-01"})).is_err());
        assert!(
            conforms(&doc, &estimates, &json!({"current": {"annual_volume": 1}, "effective_on": "2013-01-01"})).is_ok()
        );
        let simplification = schema_ref("Simplification");
        assert!(
            conforms(&doc, &simplification, &json!({"set": {"agency": "X"}, "effective_on": "2013-01-01"})).is_err()
        );
    }

    #[test]
    fn request_examples_conform_to_their_schemas() {
        let doc = document();
        for (path, method, op) in operations(&doc) {
            let Some(content) = op["requestBody"]["content"]["application/json"].as_object() else { continue };
            let example = content.get("example").unwrap_or_else(|| panic!("{method} {path} has no example"));
            if let Err(e) = conforms(&doc, &content["schema"], example) {
                panic!("{method} {path}: example does not conform: {e:#?}");
            }
        }
    }

    /// One request to a described operation, and the status it should get.
    struct Call<'a> {
        method: &'a str,
        template: &'a str,
        at: &'a [(&'a str, &'a str)],
        query: &'a str,
        body: Option<Value>,
        token: Option<&'a str>,
        want: u16,
    }

    impl<'a> Call<'a> {
        fn get(template: &'a str, at: &'a [(&'a str, &'a str)], query: &'a str) -> Self {
            Self { method: "get", template, at, query, body: None, token: None, want: 200 }
        }

        fn write(method: &'a str, template: &'a str, at: &'a [(&'a str, &'a str)], body: Value) -> Self {
            Self { method, template, at, query: "", body: Some(body), token: None, want: 201 }
        }

        fn by(self, token: Option<&'a str>) -> Self {
            Self { token, ..self }
        }

        fn expect(self, want: u16) -> Self {
            Self { want, ..self }
        }
    }

    /// A real server on port 0 with a fresh data dir, driven through the document.
    struct Driver {
        doc: Value,
        base: String,
        client: reqwest::Client,
    }

    impl Driver {
        /// The example body of a described write.
        fn example(&self, template: &str, method: &str) -> Value {
            self.doc["paths"][template][method]["requestBody"]["content"]["application/json"]["example"].clone()
        }

        /// Sends a call and checks the answer's status, that its media type is described for that status,
        /// and that its body conforms to the described schema.
        async fn send(&self, call: Call<'_>) -> (Value, reqwest::header::HeaderMap) {
            let Call { method, template, at, query, body, token, want } = call;
            let doc = &self.doc;
            assert!(doc["paths"][template][method].is_object(), "{method} {template} is not described");
            let mut path = template.to_owned();
            for (name, value) in at {
                path = path.replace(&format!("{{{name}}}"), value);
            }
            let url = format!("{}{path}{query}", self.base);
            let mut request = self.client.request(method.to_uppercase().parse().unwrap(), &url);
            if let Some(t) = token {
                request = request.bearer_auth(t);
            }
            if let Some(b) = &body {
                request = request.json(b);
            }
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            let headers = response.headers().clone();
            let media = headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
            // A live feed stays open: its headers are the answer.
            let text =
                if media.starts_with("text/event-stream") { String::new() } else { response.text().await.unwrap() };
            assert_eq!(status, want, "{method} {url}: {text}");
            let described = resolve(doc, &doc["paths"][template][method]["responses"][status.to_string()]);
            let content = described["content"]
                .as_object()
                .unwrap_or_else(|| panic!("{method} {template} {status} is not described"));
            let (media_type, described_media) = content
                .iter()
                .find(|(m, _)| media.starts_with(m.as_str()))
                .unwrap_or_else(|| panic!("{method} {template} {status}: {media} is not described"));
            let value = match media_type.as_str() {
                "application/json" | "application/problem+json" => serde_json::from_str(&text).unwrap(),
                _ => Value::String(text),
            };
            let mut errors = Vec::new();
            if value.is_object() {
                check(doc, &described_media["schema"], &value, "", &mut errors);
            } else if media_type == "application/x-ndjson" {
                let lines: Vec<&str> = value.as_str().unwrap().lines().collect();
                assert!(!lines.is_empty(), "{url}: no events");
                for (i, line) in lines.into_iter().enumerate() {
                    let event = serde_json::from_str(line).unwrap();
                    check(doc, &described_media["x-line-schema"], &event, &format!("line {i}"), &mut errors);
                }
            }
            assert!(errors.is_empty(), "{method} {url} {status}: the answer does not conform: {errors:#?}\n{value}");
            (value, headers)
        }

        async fn read(&self, template: &str, at: &[(&str, &str)], query: &str) -> (Value, reqwest::header::HeaderMap) {
            self.send(Call::get(template, at, query)).await
        }
    }

    /// Drives a real server with the document's own examples and checks each answer against its schema.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_real_server_answers_as_described() {
        use crate::access::{Role, create_token};

        let dir = tempfile::tempdir().unwrap();
        let admin = create_token(dir.path(), Role::Admin, vec![], Some("admin".into())).unwrap();
        let recorder = create_token(dir.path(), Role::Recorder, vec!["STP".into()], None).unwrap();
        let (admin, recorder) = (Some(admin.as_str()), Some(recorder.as_str()));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let running = crate::run(listener, crate::Config::new(dir.path()), std::future::pending()).await.unwrap();
        let d = Driver { doc: document(), base: format!("http://{}", running.addr), client: reqwest::Client::new() };
        let (one, gone, programme) = ([("code", "1.000001")], [("code", "2.000005")], [("id", "p30-2011")]);

        // The worked example's inventory, read before any tariff is set: money and tariffs are null.
        let registration = d.example("/v1/procedures", "post");
        let (_, headers) = d.send(Call::write("post", "/v1/procedures", &[], registration.clone()).by(admin)).await;
        assert_eq!(headers["location"], "/v1/procedures/1.000001");
        for code in ["3.000003", "3.000004", "2.000005"] {
            let mut other = registration.clone();
            other["code"] = json!(code);
            d.send(Call::write("post", "/v1/procedures", &[], other).by(admin)).await;
        }
        let (view, _) = d.read("/v1/procedures/{code}", &one, "").await;
        assert_eq!(view["before"]["annual_cost_vnd"], Value::Null, "{view}");
        let (reductions, _) = d.read("/v1/reductions", &[], "").await;
        assert_eq!(reductions["tariffs"]["citizen"], Value::Null, "{reductions}");

        // Every write, with its own example.
        let tariffs = "/v1/tariffs/{applicant}";
        d.send(Call::write("put", tariffs, &[("applicant", "citizen")], d.example(tariffs, "put")).by(admin)).await;
        let mut business = d.example(tariffs, "put");
        business["vnd_per_hour"] = json!(50000);
        d.send(Call::write("put", tariffs, &[("applicant", "business")], business).by(admin)).await;
        for change in ["simplifications", "amendments", "estimates"] {
            let template = format!("/v1/procedures/{{code}}/{change}");
            d.send(Call::write("post", &template, &one, d.example(&template, "post")).by(admin)).await;
        }
        let abolition = "/v1/procedures/{code}/abolition";
        let (abolished, _) =
            d.send(Call::write("post", abolition, &gone, d.example(abolition, "post")).by(admin)).await;
        let (merged, _) =
            d.send(Call::write("post", "/v1/merges", &[], d.example("/v1/merges", "post")).by(admin)).await;
        assert_eq!(merged["events"].as_array().unwrap().len(), 3, "one event in each stream the merge touches");
        let define = d.example("/v1/programmes/{id}", "put");
        d.send(Call::write("put", "/v1/programmes/{id}", &programme, define).by(admin)).await;
        let mut retraction = d.example("/v1/retractions", "post");
        retraction["event_id"] = abolished["events"][0]["event_id"].clone();
        d.send(Call::write("post", "/v1/retractions", &[], retraction).by(admin)).await;

        // Every read, with its default parameters and with some given.
        d.read("/v1/procedures", &[], "").await;
        let (page, _) = d.read("/v1/procedures", &[], "?limit=2&level=district&as_of=2013-12-31").await;
        assert_eq!(page["next_after"], "2.000005", "{page}");
        let (_, headers) = d.read("/v1/procedures/{code}", &one, "").await;
        assert_eq!(headers["etag"], "\"4\"", "registered, simplified, amended, revised");
        for code in ["1.000001", "3.000003", "3.000010", "2.000005"] {
            d.read("/v1/procedures/{code}", &[("code", code)], "").await;
            d.read("/v1/procedures/{code}/events", &[("code", code)], "").await;
        }
        let moment = "?as_of=2011-12-31&known_at=2999-01-01T00:00:00%2B07:00&baseline_on=2011-01-01";
        d.read("/v1/procedures/{code}", &one, moment).await;
        for by in GROUP_BYS {
            d.read("/v1/reductions", &[], &format!("?group_by={by}&as_of=2013-12-31")).await;
        }
        d.read("/v1/programmes", &[], "").await;
        d.read("/v1/programmes/{id}", &programme, "?as_of=2010-01-01").await;
        d.read("/v1/events", &[], "?after=1&limit=50").await;
        d.read("/v1/subscribe", &[], "?after=0").await;
        d.read("/healthz", &[], "").await;
        d.read("/metrics", &[], "").await;

        // Problems, each a problem document as described.
        d.send(Call::write("post", "/v1/procedures", &[], registration.clone()).expect(401)).await;
        d.send(Call::write("post", "/v1/procedures", &[], registration).by(admin).expect(409)).await;
        d.send(Call::write("post", "/v1/procedures", &[], json!({"code": "x"})).by(admin).expect(422)).await;
        let amendments = "/v1/procedures/{code}/amendments";
        d.send(Call::write("post", amendments, &one, d.example(amendments, "post")).by(recorder).expect(403)).await;
        d.send(Call::get("/v1/procedures", &[], "?bogus=1").expect(400)).await;
        d.send(Call::get("/v1/procedures/{code}", &[("code", "9.999999")], "").expect(404)).await;
        d.send(Call::get("/v1/reductions", &[], "?as_of=2000-01-01&baseline_on=2011-01-01").expect(400)).await;

        running.stop().await.unwrap();
    }
}
