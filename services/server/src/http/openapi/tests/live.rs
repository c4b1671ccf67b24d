//! A real server on port 0 with a fresh data dir, driven through the document: every write with its own
//! example, every read, and the problems; each answer checked against what the document says of it.
//! Then what the document says of the edges, asked of the server: which methods each path takes, which
//! query parameters each read knows, where `effective_on`, `If-Match` and tokens are needed.

use serde_json::{Value, json};

use super::{check, names_in, names_in_order, operations, resolve};
use crate::access::{Role, create_token};
use crate::routes::document;

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
        let text = if media.starts_with("text/event-stream") { String::new() } else { response.text().await.unwrap() };
        assert_eq!(status, want, "{method} {url}: {text}");
        let described = resolve(doc, &doc["paths"][template][method]["responses"][status.to_string()]);
        let content =
            described["content"].as_object().unwrap_or_else(|| panic!("{method} {template} {status} is not described"));
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
    let d =
        Driver { doc: document().clone(), base: format!("http://{}", running.addr), client: reqwest::Client::new() };
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
    let (abolished, _) = d.send(Call::write("post", abolition, &gone, d.example(abolition, "post")).by(admin)).await;
    let (merged, _) = d.send(Call::write("post", "/v1/merges", &[], d.example("/v1/merges", "post")).by(admin)).await;
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
    for by in ["all", "agency", "sector", "level"] {
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

/// A server on a fresh data dir with an admin and a recorder for no agency the examples name.
struct Fixture {
    _dir: tempfile::TempDir,
    running: crate::Running,
    base: String,
    admin: String,
    outsider: String,
    client: reqwest::Client,
}

impl Fixture {
    async fn start(private: bool) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let admin = create_token(dir.path(), Role::Admin, vec![], Some("admin".into())).unwrap();
        let outsider = create_token(dir.path(), Role::Recorder, vec!["NOWHERE".into()], None).unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let mut config = crate::Config::new(dir.path());
        config.private = private;
        let running = crate::run(listener, config, std::future::pending()).await.unwrap();
        let base = format!("http://{}", running.addr);
        Self { _dir: dir, running, base, admin, outsider, client: reqwest::Client::new() }
    }

    /// A described path with its parameters filled in.
    fn url(&self, template: &str, query: &str) -> String {
        let path = template.replace("{code}", "1.000001").replace("{id}", "p30-2011").replace("{applicant}", "citizen");
        format!("{}{path}{query}", self.base)
    }

    /// Sends a request and reads the answer's status and, for a problem document, its body.
    async fn ask(&self, request: reqwest::RequestBuilder) -> (u16, Value) {
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let problem = response.headers().get("content-type").is_some_and(|m| m == "application/problem+json");
        let body = if problem { response.json().await.unwrap() } else { Value::Null };
        (status, body)
    }
}

/// The first field a problem document names.
fn field(problem: &Value) -> &str {
    problem["errors"][0]["field"].as_str().unwrap_or("")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_described_path_takes_exactly_its_described_methods() {
    let f = Fixture::start(false).await;
    let doc = document();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in ["get", "post", "put", "patch", "delete"] {
            let request = f.client.request(method.to_uppercase().parse().unwrap(), f.url(path, ""));
            let (status, problem) = f.ask(request).await;
            if item.get(method).is_some() {
                assert_ne!(status, 405, "{method} {path} is described but not routed");
                assert!(!(status == 404 && field(&problem) == "path"), "{method} {path} is described but not routed");
            } else {
                assert_eq!(status, 405, "{method} {path} is routed but not described: {problem}");
            }
        }
    }
    f.running.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_know_exactly_the_query_parameters_they_describe() {
    let f = Fixture::start(false).await;
    let doc = document();
    let mut reads = 0;
    for (path, method, op) in operations(doc) {
        let described = names_in_order(doc, op, "query");
        if method != "get" || described.is_empty() {
            continue;
        }
        reads += 1;
        let known: Vec<&str> = described.iter().map(String::as_str).filter(|n| *n != "token").collect();
        let (status, problem) = f.ask(f.client.get(f.url(&path, "?zz_unknown=1"))).await;
        assert_eq!((status, field(&problem)), (400, "zz_unknown"), "GET {path} refuses an unknown parameter");
        let message = format!("unknown parameter; this endpoint takes {}", known.join(", "));
        assert_eq!(problem["errors"][0]["message"], message, "GET {path}: the parameters it knows");
    }
    assert_eq!(reads, 13, "every read but /openapi.json describes its query");
    f.running.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_read_the_envelope_and_headers_where_described() {
    let f = Fixture::start(false).await;
    let doc = document();
    let mut writes = 0;
    for (path, method, op) in operations(doc) {
        if method == "get" {
            continue;
        }
        writes += 1;
        let content = &op["requestBody"]["content"]["application/json"];
        let schema = resolve(doc, &content["schema"]);
        let schema = schema.get("allOf").and_then(|a| a.get(0)).unwrap_or(schema);
        let example = content["example"].clone();
        let send = |body: &Value, token: Option<&str>| {
            let request = f.client.request(method.to_uppercase().parse().unwrap(), f.url(&path, "")).json(body);
            match token {
                Some(t) => request.bearer_auth(t),
                None => request,
            }
        };
        let outsider = Some(f.outsider.as_str());
        // `effective_on` is required where described, and refused where not.
        let mut other = example.clone();
        let dated = schema["required"].as_array().unwrap().contains(&json!("effective_on"));
        if dated {
            other.as_object_mut().unwrap().remove("effective_on");
        } else {
            assert!(schema["properties"].get("effective_on").is_none(), "{method} {path}");
            other["effective_on"] = json!("2011-01-01");
        }
        let (status, problem) = f.ask(send(&other, outsider)).await;
        assert_eq!((status, field(&problem)), (422, "/effective_on"), "{method} {path}: {problem}");
        // `If-Match` is read where described (a bad one is a 400), and nowhere else.
        let (status, problem) = f.ask(send(&example, outsider).header("if-match", "nope")).await;
        let reads_if_match = (status, field(&problem)) == (400, "If-Match");
        assert_eq!(reads_if_match, names_in(doc, op, "header").contains("If-Match"), "{method} {path}: If-Match");
        let (status, problem) = f.ask(send(&example, outsider).header("idempotency-key", "")).await;
        assert_eq!((status, field(&problem)), (400, "Idempotency-Key"), "{method} {path}: {problem}");
        let with_query = f.client.request(method.to_uppercase().parse().unwrap(), f.url(&path, "?x=1"));
        let (status, problem) = f.ask(with_query.json(&example).bearer_auth(&f.outsider)).await;
        assert_eq!((status, field(&problem)), (400, "x"), "{method} {path} takes no query parameters");
        let (status, _) = f.ask(send(&example, None)).await;
        assert_eq!(status, 401, "{method} {path} needs a bearer token");
        let (status, _) = f.ask(send(&example, outsider)).await;
        assert!(status >= 400, "{method} {path}: the outsider wrote");
    }
    assert_eq!(writes, 9, "the writes");
    assert_eq!(f.running.log.head(), 0, "nothing was written");
    f.running.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_private_server_asks_a_token_exactly_where_described() {
    let f = Fixture::start(true).await;
    let doc = document();
    for (path, method, op) in operations(doc) {
        if method != "get" || path == "/v1/subscribe" {
            continue;
        }
        let guarded = op["security"] == json!([{}, {"bearerAuth": []}]);
        let (status, _) = f.ask(f.client.get(f.url(&path, ""))).await;
        assert_eq!(status == 401, guarded, "GET {path} without a token: {status}");
        if guarded {
            let (status, _) = f.ask(f.client.get(f.url(&path, "")).bearer_auth(&f.admin)).await;
            assert_ne!(status, 401, "GET {path} with a bearer token");
            if names_in(doc, op, "query").contains("token") {
                let (status, _) = f.ask(f.client.get(f.url(&path, &format!("?token={}", f.admin)))).await;
                assert_ne!(status, 401, "GET {path} with ?token=");
            }
        }
    }
    // The live feed stays open: only its status is asked.
    let feed = f.client.get(f.url("/v1/subscribe", "")).send().await.unwrap();
    assert_eq!(feed.status(), 401);
    let feed = f.client.get(f.url("/v1/subscribe", &format!("?token={}", f.admin))).send().await.unwrap();
    assert_eq!(feed.status(), 200);
    drop(feed);
    f.running.stop().await.unwrap();
}
