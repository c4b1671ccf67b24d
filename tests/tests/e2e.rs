//! End to end through HTTP on a real server: SPEC's worked example recorded through the API and read back
//! as of two dates, and the live feed (SSE) with resumption by `Last-Event-ID`.

use futures::StreamExt;
use p30_tests::TestServer;
use serde_json::{Value, json};

async fn send(base: &str, token: &str, method: &str, path: &str, body: Value) -> Value {
    let resp = reqwest::Client::new()
        .request(method.parse().unwrap(), format!("{base}{path}"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = resp.status();
    let body: Value = resp.json().await.unwrap();
    assert_eq!(status, 201, "{method} {path}: {body}");
    body
}

fn procedure(code: &str, agency: &str, level: &str, sector: &str, applicant: &str, nums: [u64; 5]) -> Value {
    let [days, hours, fee, oop, volume] = nums;
    json!({
        "code": code, "name": format!("Thủ tục {code}"), "sector": sector, "agency": agency, "level": level,
        "applicant": applicant, "processing_days": days, "steps": 3, "documents": [], "fee_vnd": fee,
        "out_of_pocket_vnd": oop, "applicant_hours": hours, "annual_volume": volume, "online": "none",
        "legal_basis": "", "effective_on": "2011-01-01"
    })
}

async fn record_worked_example(base: &str, admin: &str) {
    send(base, admin, "PUT", "/v1/tariffs/citizen", json!({"vnd_per_hour": 25000, "effective_on": "2011-01-01"})).await;
    send(base, admin, "PUT", "/v1/tariffs/business", json!({"vnd_per_hour": 50000, "effective_on": "2011-01-01"}))
        .await;
    let (xd, dn, ht) = ("Xây dựng", "Thành lập và hoạt động doanh nghiệp", "Hộ tịch");
    for p in [
        procedure("1.000001", "SXD", "district", xd, "citizen", [20, 16, 75_000, 100_000, 1_200]),
        procedure("2.000002", "SKHDT", "province", dn, "business", [5, 8, 100_000, 50_000, 800]),
        procedure("3.000003", "STP", "commune", ht, "citizen", [3, 4, 8_000, 20_000, 5_000]),
        procedure("3.000004", "STP", "commune", ht, "citizen", [5, 5, 15_000, 20_000, 3_000]),
        procedure("2.000005", "SKHDT", "province", dn, "business", [5, 6, 100_000, 30_000, 600]),
    ] {
        send(base, admin, "POST", "/v1/procedures", p).await;
    }
    let simplify = json!({"set": {"processing_days": 12, "applicant_hours": 10}, "effective_on": "2011-07-01"});
    send(base, admin, "POST", "/v1/procedures/1.000001/simplifications", simplify).await;
    let mut into = procedure("3.000010", "STP", "commune", ht, "citizen", [3, 3, 10_000, 10_000, 8_000]);
    into["steps"] = json!(2);
    into["online"] = json!("partial");
    into.as_object_mut().unwrap().remove("effective_on");
    let merge = json!({"sources": ["3.000003", "3.000004"], "into": into, "effective_on": "2012-01-01"});
    send(base, admin, "POST", "/v1/merges", merge).await;
    send(
        base,
        admin,
        "POST",
        "/v1/procedures/2.000005/abolition",
        json!({"reason": "Bãi bỏ", "effective_on": "2012-06-01"}),
    )
    .await;
    let simplify = json!({"set": {"processing_days": 3, "fee_vnd": 50000, "applicant_hours": 4, "online": "full"}, "effective_on": "2013-01-01"});
    send(base, admin, "POST", "/v1/procedures/2.000002/simplifications", simplify).await;
}

fn close(actual: &Value, expected: f64) {
    let a = actual.as_f64().unwrap_or_else(|| panic!("not a number: {actual}"));
    assert!((a - expected).abs() < 5e-7, "{a} != {expected}");
}

#[tokio::test]
async fn the_worked_example_through_http_matches_the_spec_table() {
    let server = TestServer::start().await;
    let (base, admin) = (server.base.clone(), server.admin.clone());
    record_worked_example(&base, &admin).await;
    let get = |path: String| async move { reqwest::get(path).await.unwrap().json::<Value>().await.unwrap() };
    // (as_of, group_by, key, baseline, current, cost_reduction, baseline days, current days, time_reduction)
    type Row = (&'static str, &'static str, &'static str, u64, u64, f64, f64, f64, f64);
    let table: [Row; 5] = [
        ("2011-12-31", "all", "all", 2_508_000_000, 2_328_000_000, 0.071770, 5.754717, 4.849057, 0.157377),
        ("2013-12-31", "all", "all", 2_508_000_000, 1_510_000_000, 0.397927, 5.754717, 3.849057, 0.331148),
        ("2013-12-31", "agency", "SXD", 690_000_000, 510_000_000, 0.260870, 20.0, 12.0, 0.4),
        ("2013-12-31", "agency", "SKHDT", 698_000_000, 240_000_000, 0.656160, 5.0, 1.714286, 0.657143),
        ("2013-12-31", "agency", "STP", 1_120_000_000, 760_000_000, 0.321429, 3.75, 3.0, 0.2),
    ];
    for (as_of, by, key, base_cost, cur_cost, cost_red, base_days, cur_days, time_red) in table {
        let r = get(format!("{base}/v1/reductions?as_of={as_of}&group_by={by}")).await;
        assert_eq!(r["baseline_on"], "2011-01-01");
        assert_eq!(r["tariffs"]["citizen"]["vnd_per_hour"], 25000);
        let g = r["groups"].as_array().unwrap().iter().find(|g| g["key"] == key).unwrap_or_else(|| panic!("{r}"));
        assert_eq!(g["baseline_annual_cost_vnd"], base_cost, "{as_of} {key}");
        assert_eq!(g["current_annual_cost_vnd"], cur_cost, "{as_of} {key}");
        // SPEC prints six decimals.
        assert!((g["cost_reduction"].as_f64().unwrap() - cost_red).abs() < 5e-7, "{as_of} {key}: {g}");
        close(&g["baseline_avg_days"], base_days);
        assert!((g["current_avg_days"].as_f64().unwrap() - cur_days).abs() < 5e-7, "{g}");
        assert!((g["time_reduction"].as_f64().unwrap() - time_red).abs() < 5e-7, "{g}");
    }
    // One procedure, before and after, and its lineage.
    let merged = reqwest::get(format!("{base}/v1/procedures/3.000003?as_of=2013-12-31")).await.unwrap();
    assert_eq!(merged.headers()["etag"], "\"2\"");
    let merged: Value = merged.json().await.unwrap();
    assert_eq!(merged["status"], "merged");
    assert_eq!(merged["terminal"], "3.000010");
    assert_eq!(merged["lineage"]["merged_into"], "3.000010");
    // "As known at" a time before the merge was recorded, the merge did not count yet.
    let search = get(format!("{base}/v1/procedures?q=thu%20tuc%203&status=merged")).await;
    assert_eq!(search["items"].as_array().unwrap().len(), 2, "{search}");
    server.stop().await;
}

/// Reads SSE frames from a response body until `n` events have arrived; returns (id, event, data).
async fn read_events(resp: reqwest::Response, n: usize) -> Vec<(u64, String, Value)> {
    let mut stream = resp.bytes_stream();
    let (mut buf, mut out) = (String::new(), Vec::new());
    while out.len() < n {
        let chunk = stream.next().await.expect("the stream stays open").unwrap();
        buf.push_str(&String::from_utf8_lossy(&chunk));
        while let Some(end) = buf.find("\n\n") {
            let frame: String = buf.drain(..end + 2).collect();
            let (mut id, mut event, mut data) = (None, String::new(), String::new());
            for line in frame.lines() {
                if let Some(v) = line.strip_prefix("id:") {
                    id = v.trim().parse().ok();
                } else if let Some(v) = line.strip_prefix("event:") {
                    event = v.trim().to_owned();
                } else if let Some(v) = line.strip_prefix("data:") {
                    data.push_str(v.trim_start());
                }
            }
            if let Some(id) = id {
                out.push((id, event, serde_json::from_str(&data).unwrap()));
            }
        }
    }
    out
}

#[tokio::test]
async fn sse_sends_one_message_per_seq_with_changes_and_resumes_without_gap_or_duplicate() {
    let server = TestServer::start().await;
    let (base, admin) = (server.base.clone(), server.admin.clone());
    let from_start = reqwest::Client::new().get(format!("{base}/v1/subscribe?after=0")).send().await.unwrap();
    assert_eq!(from_start.headers()["content-type"], "text/event-stream");
    assert_eq!(from_start.headers()["cache-control"], "no-cache");
    record_worked_example(&base, &admin).await;
    let head = server.log().head();
    let all = read_events(from_start, head as usize).await;
    assert_eq!(all.iter().map(|e| e.0).collect::<Vec<_>>(), (1..=head).collect::<Vec<_>>());
    // Each message's data is the event as the log gives it, plus `changes`; its `event` is the type.
    let log = reqwest::get(format!("{base}/v1/events?after=0")).await.unwrap().text().await.unwrap();
    let logged: Vec<Value> = log.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(logged.len(), all.len());
    for ((id, kind, data), event) in all.iter().zip(&logged) {
        let mut without_changes = data.clone();
        assert!(without_changes.as_object_mut().unwrap().remove("changes").is_some_and(|c| c.is_array()));
        assert_eq!(&without_changes, event, "message {id}");
        assert_eq!(kind, event["type"].as_str().unwrap());
    }
    let (_, kind, data) = &all[2];
    assert_eq!(kind, "ProcedureRegistered");
    assert_eq!(data["payload"]["code"], "1.000001");
    let names: Vec<&str> = data["changes"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert!(names.contains(&"procedure") && names.contains(&"reductions-all"), "{names:?}");

    // Resume after seq 5: exactly the events after it.
    let resumed =
        reqwest::Client::new().get(format!("{base}/v1/subscribe")).header("last-event-id", "5").send().await.unwrap();
    let rest = read_events(resumed, (head - 5) as usize).await;
    assert_eq!(rest.iter().map(|e| e.0).collect::<Vec<_>>(), (6..=head).collect::<Vec<_>>());
    assert_eq!(rest[0].2["event_id"], all[5].2["event_id"]);

    let bad =
        reqwest::Client::new().get(format!("{base}/v1/subscribe")).header("last-event-id", "x").send().await.unwrap();
    assert_eq!(bad.status(), 400);
    server.stop().await;
}

/// A subscriber that reads nothing while thousands of events go by falls behind the feed (its socket is
/// full, so its stream is not asked for frames); when it reads again it gets every event from the log,
/// once each, in order, then the live ones.
#[tokio::test]
async fn a_subscriber_that_fell_behind_the_feed_reads_the_missed_events_from_the_log() {
    let server = TestServer::start().await;
    let (base, admin) = (server.base.clone(), server.admin.clone());
    let stalled = reqwest::Client::new().get(format!("{base}/v1/subscribe?after=0")).send().await.unwrap();
    let total = 6000u64;
    for chunk in 0..total / 500 {
        let events = (chunk * 500..(chunk + 1) * 500)
            .map(|i| {
                let p = bench::dataset::numbered_procedure(i);
                events::NewEvent {
                    stream: events::StreamId::procedure(&p.code),
                    effective_on: events::value::Date::parse("2011-01-01").unwrap(),
                    legal_basis: events::value::LongText::default(),
                    note: events::value::LongText::default(),
                    change: events::Change::ProcedureRegistered(p),
                }
            })
            .collect();
        let append = eventstore::Append {
            events,
            expected: Vec::new(),
            actor: "test".into(),
            command_id: None,
            fingerprint: [0; 32],
        };
        server.log().append_async(append).await.unwrap();
    }
    // One more through the API: it comes after all of those.
    let head = server.log().head();
    send(
        &base,
        &admin,
        "POST",
        "/v1/procedures",
        procedure("1.000001", "SXD", "district", "Xây dựng", "citizen", [20, 16, 75000, 100000, 1200]),
    )
    .await;
    let all = read_events(stalled, (head + 1) as usize).await;
    assert_eq!(all.iter().map(|e| e.0).collect::<Vec<_>>(), (1..=head + 1).collect::<Vec<_>>());
    assert_eq!(all.last().unwrap().2["payload"]["code"], "1.000001");
    let metrics = reqwest::get(format!("{base}/metrics")).await.unwrap().text().await.unwrap();
    let reads =
        metrics.lines().find_map(|l| l.strip_prefix("p30_sse_log_reads_total ")).map(|v| v.parse::<f64>().unwrap());
    assert!(reads.is_some_and(|r| r > 0.0), "the subscriber should have read from the log:\n{metrics}");
    server.stop().await;
}
