//! The HTTP API against a real server on port 0 with a real data dir: writes, access, bad input (each
//! a 4xx problem document that names the field, with nothing written), `If-Match` and idempotency.

use p30_tests::TestServer;
use reqwest::StatusCode;
use serde_json::{Value, json};
use server::access::Role;

/// A test server with the API's calls.
struct Server(TestServer);

impl std::ops::Deref for Server {
    type Target = TestServer;

    fn deref(&self) -> &TestServer {
        &self.0
    }
}

impl Server {
    async fn start() -> Self {
        Self(TestServer::start().await)
    }

    fn head(&self) -> u64 {
        self.log().head()
    }

    async fn send(&self, method: &str, path: &str, token: Option<&str>, body: Option<Value>) -> (StatusCode, Value) {
        let client = reqwest::Client::new();
        let mut req = client.request(method.parse().unwrap(), format!("{}{path}", self.base));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status();
        let text = resp.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
    }

    async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.send("POST", path, Some(&self.admin.clone()), Some(body)).await
    }

    async fn stop(self) {
        self.0.stop().await;
    }
}

fn procedure(code: &str, agency: &str) -> Value {
    json!({
        "code": code, "name": "Cấp giấy phép xây dựng", "sector": "Xây dựng", "agency": agency, "level": "district",
        "applicant": "citizen", "processing_days": 20, "steps": 3, "documents": [{"name": "Đơn đề nghị", "copies": 1}],
        "fee_vnd": 75000, "out_of_pocket_vnd": 100000, "applicant_hours": 16, "annual_volume": 1200,
        "online": "none", "legal_basis": "", "effective_on": "2011-01-01"
    })
}

/// Asserts a problem document with this status naming this field, and that nothing was written.
async fn assert_problem(s: &Server, head: u64, (status, body): (StatusCode, Value), want: StatusCode, field: &str) {
    assert_eq!(status, want, "{body}");
    assert_eq!(body["status"], want.as_u16(), "{body}");
    assert!(body["title"].is_string() && body["detail"].is_string() && body["type"].is_string(), "{body}");
    let fields: Vec<&str> = body["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert!(fields.contains(&field), "expected field {field} in {body}");
    assert_eq!(s.head(), head, "nothing may be written: {body}");
}

#[tokio::test]
async fn registering_answers_201_with_the_events_and_a_location() {
    let s = Server::start().await;
    let resp = reqwest::Client::new()
        .post(format!("{}/v1/procedures", s.base))
        .bearer_auth(&s.admin)
        .json(&procedure("1.000001", "SXD"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::CREATED);
    assert_eq!(resp.headers()["location"], "/v1/procedures/1.000001");
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["events"][0]["seq"], 1);
    assert_eq!(body["events"][0]["type"], "ProcedureRegistered");
    assert_eq!(body["events"][0]["stream"], "procedure-1.000001");
    let (status, history) = s.send("GET", "/v1/procedures/1.000001/events", None, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(history["items"][0]["actor"], "admin");
    assert_eq!(history["items"][0]["payload"]["name"], "Cấp giấy phép xây dựng");
    s.stop().await;
}

#[tokio::test]
async fn writes_need_a_valid_token_and_the_right_agency() {
    let s = Server::start().await;
    s.post("/v1/procedures", procedure("1.000001", "SXD")).await;
    let head = s.head();
    let simplify = json!({"set": {"processing_days": 12}, "effective_on": "2011-07-01"});
    let path = "/v1/procedures/1.000001/simplifications";
    assert_problem(
        &s,
        head,
        s.send("POST", path, None, Some(simplify.clone())).await,
        StatusCode::UNAUTHORIZED,
        "Authorization",
    )
    .await;
    assert_problem(
        &s,
        head,
        s.send("POST", path, Some("p30_wrong"), Some(simplify.clone())).await,
        StatusCode::UNAUTHORIZED,
        "Authorization",
    )
    .await;
    // Tokens created while the server runs work at once.
    let analyst = s.token(Role::Analyst, &[], "analyst");
    assert_problem(
        &s,
        head,
        s.send("POST", path, Some(&analyst), Some(simplify.clone())).await,
        StatusCode::FORBIDDEN,
        "Authorization",
    )
    .await;
    let stp = s.token(Role::Recorder, &["STP"], "Chị Lan (STP)");
    assert_problem(
        &s,
        head,
        s.send("POST", path, Some(&stp), Some(simplify.clone())).await,
        StatusCode::FORBIDDEN,
        "Authorization",
    )
    .await;
    let tariff = json!({"vnd_per_hour": 25000, "effective_on": "2011-01-01"});
    assert_problem(
        &s,
        head,
        s.send("PUT", "/v1/tariffs/citizen", Some(&stp), Some(tariff.clone())).await,
        StatusCode::FORBIDDEN,
        "Authorization",
    )
    .await;
    let sxd = s.token(Role::Recorder, &["SXD"], "Anh Minh (SXD)");
    let (status, _) = s.send("POST", path, Some(&sxd), Some(simplify)).await;
    assert_eq!(status, StatusCode::CREATED);
    let (_, history) = s.send("GET", "/v1/procedures/1.000001/events", None, None).await;
    assert_eq!(history["items"][1]["actor"], "Anh Minh (SXD)");
    let (status, _) = s.send("PUT", "/v1/tariffs/citizen", Some(&s.admin.clone()), Some(tariff)).await;
    assert_eq!(status, StatusCode::CREATED);
    s.stop().await;
}

#[tokio::test]
async fn bad_input_gets_a_problem_document_naming_the_field_and_nothing_is_written() {
    let s = Server::start().await;
    s.post("/v1/procedures", procedure("1.000001", "SXD")).await;
    let head = s.head();
    let client = reqwest::Client::new();
    let url = format!("{}/v1/procedures", s.base);

    let malformed = client
        .post(&url)
        .bearer_auth(&s.admin)
        .header("content-type", "application/json")
        .body("{\"code\": ")
        .send()
        .await
        .unwrap();
    let status = malformed.status();
    assert_eq!(malformed.headers()["content-type"], "application/problem+json");
    assert_problem(&s, head, (status, malformed.json().await.unwrap()), StatusCode::BAD_REQUEST, "/").await;

    let text =
        client.post(&url).bearer_auth(&s.admin).header("content-type", "text/plain").body("{}").send().await.unwrap();
    assert_problem(&s, head, (text.status(), text.json().await.unwrap()), StatusCode::BAD_REQUEST, "Content-Type")
        .await;

    let huge = json!({"note": "x".repeat(1_100_000)});
    let big = client.post(&url).bearer_auth(&s.admin).json(&huge).send().await.unwrap();
    assert_problem(&s, head, (big.status(), big.json().await.unwrap()), StatusCode::PAYLOAD_TOO_LARGE, "/").await;

    let mut unknown = procedure("1.000002", "SXD");
    unknown["colour"] = json!("blue");
    assert_problem(&s, head, s.post("/v1/procedures", unknown).await, StatusCode::UNPROCESSABLE_ENTITY, "/colour")
        .await;

    let mut missing = procedure("1.000002", "SXD");
    missing.as_object_mut().unwrap().remove("steps");
    assert_problem(&s, head, s.post("/v1/procedures", missing).await, StatusCode::UNPROCESSABLE_ENTITY, "/steps").await;

    let mut range = procedure("1.000002", "SXD");
    range["fee_vnd"] = json!(1_000_000_001u64);
    assert_problem(&s, head, s.post("/v1/procedures", range).await, StatusCode::UNPROCESSABLE_ENTITY, "/fee_vnd").await;

    let mut wrong_type = procedure("1.000002", "SXD");
    wrong_type["documents"] = json!([{"name": "Tờ khai", "copies": "one"}]);
    assert_problem(
        &s,
        head,
        s.post("/v1/procedures", wrong_type).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "/documents/0/copies",
    )
    .await;

    let mut bad_date = procedure("1.000002", "SXD");
    bad_date["effective_on"] = json!("31/12/2013");
    assert_problem(
        &s,
        head,
        s.post("/v1/procedures", bad_date).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "/effective_on",
    )
    .await;

    let mut no_date = procedure("1.000002", "SXD");
    no_date.as_object_mut().unwrap().remove("effective_on");
    assert_problem(
        &s,
        head,
        s.post("/v1/procedures", no_date).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "/effective_on",
    )
    .await;

    let mut bad_code = procedure("1 000002", "SXD");
    bad_code["code"] = json!("1 000002");
    assert_problem(&s, head, s.post("/v1/procedures", bad_code).await, StatusCode::UNPROCESSABLE_ENTITY, "/code").await;

    assert_problem(
        &s,
        head,
        s.post("/v1/procedures", procedure("1.000001", "SXD")).await,
        StatusCode::CONFLICT,
        "/code",
    )
    .await;

    let rise = json!({"set": {"fee_vnd": 90000}, "effective_on": "2011-07-01"});
    let (status, body) = s.post("/v1/procedures/1.000001/simplifications", rise).await;
    assert!(body["detail"].as_str().unwrap().contains("amendment"), "{body}");
    assert_problem(&s, head, (status, body), StatusCode::UNPROCESSABLE_ENTITY, "/set/fee_vnd").await;

    let not_simplifiable = json!({"set": {"agency": "STP"}, "effective_on": "2011-07-01"});
    assert_problem(
        &s,
        head,
        s.post("/v1/procedures/1.000001/simplifications", not_simplifiable).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "/set/agency",
    )
    .await;

    let too_early = json!({"set": {"processing_days": 10}, "effective_on": "2010-01-01"});
    assert_problem(
        &s,
        head,
        s.post("/v1/procedures/1.000001/simplifications", too_early).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "/effective_on",
    )
    .await;

    let unknown_code = json!({"set": {"processing_days": 10}, "effective_on": "2011-07-01"});
    assert_problem(
        &s,
        head,
        s.post("/v1/procedures/9.999999/simplifications", unknown_code).await,
        StatusCode::NOT_FOUND,
        "code",
    )
    .await;

    let one_source =
        json!({"sources": ["1.000001"], "into": procedure("1.000003", "SXD"), "effective_on": "2012-01-01"});
    let mut one_source = one_source;
    one_source["into"].as_object_mut().unwrap().remove("effective_on");
    assert_problem(&s, head, s.post("/v1/merges", one_source).await, StatusCode::UNPROCESSABLE_ENTITY, "/sources")
        .await;

    let retract_nothing = json!({"event_id": "0190f5c4-0000-7000-8000-000000000099", "reason": "nhầm"});
    assert_problem(
        &s,
        head,
        s.post("/v1/retractions", retract_nothing).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "/event_id",
    )
    .await;

    let (status, body) = s.send("GET", "/v1/events?after=x", None, None).await;
    assert_eq!((status, body["errors"][0]["field"].as_str()), (StatusCode::BAD_REQUEST, Some("after")));
    let (status, body) = s.send("GET", "/v1/events?colour=blue", None, None).await;
    assert_eq!((status, body["errors"][0]["field"].as_str()), (StatusCode::BAD_REQUEST, Some("colour")));
    let (status, body) = s.send("GET", "/v1/events?limit=10001", None, None).await;
    assert_eq!((status, body["errors"][0]["field"].as_str()), (StatusCode::BAD_REQUEST, Some("limit")));
    s.stop().await;
}

#[tokio::test]
async fn twenty_concurrent_writers_with_the_same_if_match_one_wins_the_rest_get_409() {
    let s = Server::start().await;
    s.post("/v1/procedures", procedure("1.000001", "SXD")).await;
    let mut tasks = Vec::new();
    for i in 0..20u64 {
        let (base, admin) = (s.base.clone(), s.admin.clone());
        tasks.push(tokio::spawn(async move {
            let body = json!({"set": {"processing_days": 19 - i % 5}, "effective_on": "2011-07-01"});
            let resp = reqwest::Client::new()
                .post(format!("{base}/v1/procedures/1.000001/simplifications"))
                .bearer_auth(admin)
                .header("if-match", "\"1\"")
                .json(&body)
                .send()
                .await
                .unwrap();
            (resp.status(), resp.json::<Value>().await.unwrap())
        }));
    }
    let mut created = 0;
    for t in tasks {
        let (status, body) = t.await.unwrap();
        match status {
            StatusCode::CREATED => created += 1,
            StatusCode::CONFLICT => assert_eq!(body["current_version"], 2, "{body}"),
            other => panic!("unexpected {other}: {body}"),
        }
    }
    assert_eq!(created, 1);
    assert_eq!(s.head(), 2);
    s.stop().await;
}

#[tokio::test]
async fn a_retry_with_the_same_idempotency_key_answers_as_the_first_and_writes_nothing() {
    let s = Server::start().await;
    let client = reqwest::Client::new();
    let send = |body: Value, key: &'static str| {
        client
            .post(format!("{}/v1/procedures", s.base))
            .bearer_auth(&s.admin)
            .header("idempotency-key", key)
            .json(&body)
            .send()
    };
    let first = send(procedure("1.000001", "SXD"), "k-1").await.unwrap();
    assert_eq!(first.status(), StatusCode::CREATED);
    let first: Value = first.json().await.unwrap();
    // The same body with its keys in another order is the same JSON.
    let mut reordered = serde_json::Map::new();
    for (k, v) in procedure("1.000001", "SXD").as_object().unwrap().iter().rev() {
        reordered.insert(k.clone(), v.clone());
    }
    let again = send(Value::Object(reordered), "k-1").await.unwrap();
    assert_eq!(again.status(), StatusCode::CREATED);
    assert_eq!(again.json::<Value>().await.unwrap(), first);
    assert_eq!(s.head(), 1);
    let other = send(procedure("1.000002", "SXD"), "k-1").await.unwrap();
    let status = other.status();
    assert_problem(&s, 1, (status, other.json().await.unwrap()), StatusCode::UNPROCESSABLE_ENTITY, "Idempotency-Key")
        .await;
    s.stop().await;
}

#[tokio::test]
async fn a_retraction_is_refused_while_later_events_depend_on_it_then_allowed() {
    let s = Server::start().await;
    let (_, registered) = s.post("/v1/procedures", procedure("1.000001", "SXD")).await;
    let (_, simplified) = s
        .post(
            "/v1/procedures/1.000001/simplifications",
            json!({"set": {"processing_days": 12}, "effective_on": "2011-07-01"}),
        )
        .await;
    let head = s.head();
    let (status, body) = s
        .post("/v1/retractions", json!({"event_id": registered["events"][0]["event_id"], "reason": "nhập nhầm"}))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["events"][0]["event_id"], simplified["events"][0]["event_id"]);
    assert_eq!(s.head(), head);
    let (status, body) = s
        .post("/v1/retractions", json!({"event_id": simplified["events"][0]["event_id"], "reason": "nhập nhầm"}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["events"][0]["type"], "EntryRetracted");
    let (status, _) = s
        .post("/v1/retractions", json!({"event_id": registered["events"][0]["event_id"], "reason": "nhập nhầm"}))
        .await;
    assert_eq!(status, StatusCode::CREATED);
    s.stop().await;
}

#[tokio::test]
async fn the_global_log_streams_as_ndjson_from_a_seq() {
    let s = Server::start().await;
    for code in ["1.000001", "1.000002", "1.000003"] {
        s.post("/v1/procedures", procedure(code, "SXD")).await;
    }
    let resp = reqwest::get(format!("{}/v1/events?after=1&limit=1", s.base)).await.unwrap();
    assert_eq!(resp.headers()["content-type"], "application/x-ndjson");
    let text = resp.text().await.unwrap();
    let lines: Vec<Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["seq"], 2);
    assert_eq!(lines[0]["payload"]["code"], "1.000002");
    let all = reqwest::get(format!("{}/v1/events", s.base)).await.unwrap().text().await.unwrap();
    assert_eq!(all.lines().count(), 3);
    s.stop().await;
}

#[tokio::test]
async fn metrics_count_requests_and_show_the_log_head_in_prometheus_text() {
    let s = Server::start().await;
    s.post("/v1/procedures", procedure("1.000001", "SXD")).await;
    let resp = reqwest::get(format!("{}/metrics", s.base)).await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(resp.headers()["content-type"].to_str().unwrap().starts_with("text/plain"));
    let text = resp.text().await.unwrap();
    assert!(text.contains("p30_http_requests_total{"), "{text}");
    assert!(text.contains("route=\"/v1/procedures\""), "{text}");
    assert!(text.contains("p30_append_seconds"), "{text}");
    assert!(text.lines().any(|l| l.starts_with("p30_log_head ")), "{text}");
    s.stop().await;
}

#[tokio::test]
async fn unknown_paths_are_a_404_problem_document() {
    let s = Server::start().await;
    let (status, body) = s.send("GET", "/v1/nothing-here", None, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["status"], 404);
    s.stop().await;
}

#[tokio::test]
async fn a_private_server_needs_a_token_for_reads_but_not_for_health() {
    let server = TestServer::start_with(|c| server::Config { private: true, demo: true, ..c }).await;
    let analyst = server.token(Role::Analyst, &[], "analyst");
    let base = server.base.clone();
    let client = reqwest::Client::new();
    assert_eq!(client.get(format!("{base}/healthz")).send().await.unwrap().status(), 200);
    let anonymous = client.get(format!("{base}/v1/reductions")).send().await.unwrap();
    assert_eq!(anonymous.status(), 401);
    assert_eq!(anonymous.headers()["content-type"], "application/problem+json");
    let with_header = client.get(format!("{base}/v1/reductions")).bearer_auth(&analyst).send().await.unwrap();
    assert_eq!(with_header.status(), 200);
    // Browsers' EventSource cannot send a header: SSE takes ?token=.
    let sse = client.get(format!("{base}/v1/subscribe?token={analyst}")).send().await.unwrap();
    assert_eq!(sse.status(), 200);
    drop(sse);
    // An analyst reads but never writes.
    let write = client
        .post(format!("{base}/v1/procedures/1.000001/abolition"))
        .bearer_auth(&analyst)
        .json(&json!({"reason": "x", "effective_on": "2014-01-01"}))
        .send()
        .await
        .unwrap();
    assert_eq!(write.status(), 403);
    server.stop().await;
}

#[tokio::test]
async fn api_edges_answer_with_problem_documents() {
    let s = Server::start().await;
    s.post("/v1/procedures", procedure("1.000001", "SXD")).await;
    let head = s.head();
    let mut into = procedure("1.000009", "SXD");
    into.as_object_mut().unwrap().remove("effective_on");
    let merge = json!({"sources": ["1.000001", "7.777777"], "into": into, "effective_on": "2012-01-01"});
    assert_problem(&s, head, s.post("/v1/merges", merge).await, StatusCode::UNPROCESSABLE_ENTITY, "/sources/1").await;
    let (status, body) = s.send("DELETE", "/v1/procedures", None, None).await;
    assert_eq!((status, body["status"].as_u64()), (StatusCode::METHOD_NOT_ALLOWED, Some(405)));
    let (status, _) = s.send("GET", "/healthz?x=1", None, None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let simplify = json!({"set": {"processing_days": 12}, "effective_on": "2011-07-01"});
    assert_problem(
        &s,
        head,
        s.post("/v1/procedures/1.000001/simplifications?x=1", simplify).await,
        StatusCode::BAD_REQUEST,
        "x",
    )
    .await;
    let (status, doc) = s.send("GET", "/openapi.json", None, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(doc["openapi"], "3.0.3");
    assert!(doc["paths"]["/v1/reductions"]["get"].is_object());
    s.stop().await;
}

#[tokio::test]
async fn another_writer_cannot_replay_someone_elses_idempotent_answer() {
    let s = Server::start().await;
    let sxd = s.token(Role::Recorder, &["SXD"], "Anh Minh");
    let stp = s.token(Role::Recorder, &["STP"], "Chị Lan");
    let client = reqwest::Client::new();
    let send = |token: &str| {
        client
            .post(format!("{}/v1/procedures", s.base))
            .bearer_auth(token)
            .header("idempotency-key", "shared")
            .json(&procedure("1.000001", "SXD"))
            .send()
    };
    assert_eq!(send(&sxd).await.unwrap().status(), StatusCode::CREATED);
    assert_eq!(send(&sxd).await.unwrap().status(), StatusCode::CREATED);
    assert_eq!(send(&stp).await.unwrap().status(), StatusCode::FORBIDDEN);
    assert_eq!(s.head(), 1);
    s.stop().await;
}
