//! NATS with a real `nats-server -js` started per test on a free port: events reach `P30_EVENTS` in seq
//! order with their subjects and headers, projection rows reach `P30_PROJECTIONS`, and neither an outage
//! of NATS nor a restart of p30 leaves a gap or a duplicate.

use std::time::Duration;

use async_nats::jetstream::{self, consumer::push};
use futures::StreamExt;
use p30_tests::{NatsServer, TestServer};
use serde_json::{Value, json};
use server::access::{Role, create_token};

/// A bound on how long a test may wait for NATS to deliver (a failure bound, not a synchronisation).
const PATIENCE: Duration = Duration::from_secs(60);

/// A server on `dir` (kept across restarts) that publishes to `nats`.
async fn start(dir: &std::path::Path, nats: &NatsServer) -> TestServer {
    let publish_to = server::nats::Config { url: nats.url(), replicas: 1 };
    TestServer::start_on(dir, |c| server::Config { nats: Some(publish_to), ..c }).await
}

fn registration(code: &str) -> Value {
    json!({
        "code": code, "name": "Đăng ký khai sinh", "sector": "Hộ tịch", "agency": "STP", "level": "commune",
        "applicant": "citizen", "processing_days": 3, "steps": 3, "documents": [], "fee_vnd": 8000,
        "out_of_pocket_vnd": 20000, "applicant_hours": 4, "annual_volume": 5000, "online": "none",
        "legal_basis": "", "effective_on": "2011-01-01"
    })
}

async fn post(client: &reqwest::Client, base: &str, token: &str, path: &str, body: Value) {
    let r = client.post(format!("{base}{path}")).bearer_auth(token).json(&body).send().await.unwrap();
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
}

/// Reads the whole stream with an ordered consumer until it holds `head` events; returns (subject,
/// P30-Seq, Nats-Msg-Id, schema version, payload) of every message.
async fn stream_events(url: &str, head: u64) -> Vec<(String, u64, String, String, Value)> {
    let client = async_nats::connect(url).await.unwrap();
    let js = jetstream::new(client.clone());
    // On a cluster that just lost a node, the JetStream API answers only once a new meta leader is
    // elected: a request that times out meanwhile is asked again (each attempt waits for its own answer).
    let mut attempts = 0;
    let consumer = loop {
        attempts += 1;
        let stream = match js.get_stream(server::nats::EVENTS_STREAM).await {
            Ok(stream) => stream,
            Err(e) if attempts < 12 => {
                eprintln!("get_stream: {e}; asking again");
                continue;
            }
            Err(e) => panic!("no stream: {e}"),
        };
        let config = push::OrderedConfig { deliver_subject: client.new_inbox(), ..Default::default() };
        match stream.create_consumer(config).await {
            Ok(consumer) => break consumer,
            Err(e) if attempts < 12 => eprintln!("create_consumer: {e}; asking again"),
            Err(e) => panic!("no consumer: {e}"),
        }
    };
    let mut messages = consumer.messages().await.unwrap();
    let mut out = Vec::new();
    while out.last().is_none_or(|m: &(String, u64, String, String, Value)| m.1 < head) {
        let m = tokio::time::timeout(PATIENCE, messages.next()).await.expect("NATS delivers").unwrap().unwrap();
        let headers = m.headers.clone().unwrap();
        let header = |name: &str| headers.get(name).map(|v| v.as_str().to_owned()).unwrap_or_default();
        out.push((
            m.subject.to_string(),
            header("P30-Seq").parse().unwrap(),
            header("Nats-Msg-Id"),
            header("P30-Schema-Version"),
            serde_json::from_slice(&m.payload).unwrap(),
        ));
    }
    out
}

#[tokio::test]
async fn events_reach_jetstream_in_seq_order_with_subjects_and_headers_and_rows_reach_the_bucket() {
    let _ = tracing_subscriber::fmt().with_env_filter("p30=debug").try_init();
    let nats = NatsServer::start().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let admin = create_token(dir.path(), Role::Admin, vec![], None).unwrap();
    let running = start(dir.path(), &nats).await;
    let base = running.base.clone();
    let client = reqwest::Client::new();
    post(&client, &base, &admin, "/v1/procedures", registration("1.012753.H19")).await;
    post(&client, &base, &admin, "/v1/procedures", registration("1.004227")).await;
    post(
        &client,
        &base,
        &admin,
        "/v1/procedures/1.004227/simplifications",
        json!({"set": {"processing_days": 2}, "effective_on": "2012-01-01"}),
    )
    .await;
    post(
        &client,
        &base,
        &admin,
        "/v1/procedures/1.004227/abolition",
        json!({"reason": "x", "effective_on": "2013-01-01"}),
    )
    .await;
    post(
        &client,
        &base,
        &admin,
        "/v1/procedures/1.012753.H19/simplifications",
        json!({"set": {"processing_days": 1}, "effective_on": "2013-01-01"}),
    )
    .await;
    let head = running.log().head();
    tokio::time::timeout(PATIENCE, running.running().nats.as_ref().unwrap().wait_published(head))
        .await
        .expect("published");
    let got = stream_events(&nats.url(), head).await;
    assert_eq!(got.iter().map(|m| m.1).collect::<Vec<_>>(), (1..=head).collect::<Vec<_>>());
    assert_eq!(got[0].0, "p30.events.ProcedureRegistered.1_2E012753_2EH19");
    assert_eq!(got[2].0, "p30.events.ProcedureSimplified.1_2E004227");
    let log_events = running.log().read_after(0, 100).unwrap();
    for (m, e) in got.iter().zip(&log_events) {
        assert_eq!(m.2, e.event_id.to_string());
        assert_eq!(m.3, "1");
        assert_eq!(m.4, e.to_json());
    }
    // The bucket ends with the latest row of the procedure: simplified once, version 2.
    let js = jetstream::new(async_nats::connect(nats.url()).await.unwrap());
    let bucket = js.get_key_value(server::nats::PROJECTIONS_BUCKET).await.unwrap();
    let mut watch = bucket.watch_with_history("procedure.1_2E012753_2EH19").await.unwrap();
    loop {
        let entry = tokio::time::timeout(PATIENCE, watch.next()).await.expect("the row arrives").unwrap().unwrap();
        let row: Value = serde_json::from_slice(&entry.value).unwrap();
        if row["version"] == 2 {
            assert_eq!(row["current"]["processing_days"], 1);
            break;
        }
    }
    let health: Value = reqwest::get(format!("{base}/healthz")).await.unwrap().json().await.unwrap();
    assert!(health["nats"].is_object(), "{health}");
    running.stop().await;
}

#[tokio::test]
async fn an_outage_of_nats_during_writes_and_a_restart_of_p30_leave_no_gap_and_no_duplicate() {
    let mut nats = NatsServer::start().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let admin = create_token(dir.path(), Role::Admin, vec![], None).unwrap();
    let running = start(dir.path(), &nats).await;
    let base = running.base.clone();
    let client = reqwest::Client::new();
    // An SSE subscriber from the start sees every event, whatever NATS does.
    let sse = client.get(format!("{base}/v1/subscribe?after=0")).send().await.unwrap();
    let write_range = |range: std::ops::Range<u32>, base: String| {
        let (client, admin) = (client.clone(), admin.clone());
        async move {
            let tasks: Vec<_> = range
                .map(|i| {
                    let (client, admin, base) = (client.clone(), admin.clone(), base.clone());
                    tokio::spawn(async move {
                        post(&client, &base, &admin, "/v1/procedures", registration(&format!("9.{i:06}"))).await
                    })
                })
                .collect();
            for t in tasks {
                t.await.unwrap();
            }
        }
    };
    write_range(0..300, base.clone()).await;
    nats.kill();
    write_range(300..700, base.clone()).await; // NATS is down: writes go on.
    nats.restart().unwrap();
    write_range(700..850, base.clone()).await;
    running.stop().await;
    // p30 restarts on the same data dir mid-stream and goes on publishing.
    let running = start(dir.path(), &nats).await;
    let base = running.base.clone();
    write_range(850..1000, base.clone()).await;
    let head = running.log().head();
    assert_eq!(head, 1000);
    tokio::time::timeout(PATIENCE, running.running().nats.as_ref().unwrap().wait_published(head))
        .await
        .expect("published");
    let got = stream_events(&nats.url(), head).await;
    assert_eq!(got.iter().map(|m| m.1).collect::<Vec<_>>(), (1..=head).collect::<Vec<_>>(), "exactly once, in order");

    // The subscriber of the first server saw every event it wrote (850), once each, in order.
    let mut body = sse.bytes_stream();
    let (mut text, mut ids) = (String::new(), Vec::new());
    while ids.len() < 850 {
        let chunk = tokio::time::timeout(PATIENCE, body.next()).await.expect("SSE delivers").unwrap().unwrap();
        text.push_str(&String::from_utf8_lossy(&chunk));
        while let Some(end) = text.find("\n\n") {
            let frame: String = text.drain(..end + 2).collect();
            if let Some(id) = frame.lines().find_map(|l| l.strip_prefix("id:")) {
                ids.push(id.trim().parse::<u64>().unwrap());
            }
        }
    }
    assert_eq!(ids, (1..=850).collect::<Vec<_>>());
    running.stop().await;
}

#[tokio::test]
async fn on_the_three_node_cluster_publishing_goes_on_with_one_node_stopped() {
    let mut cluster = p30_tests::NatsCluster::start().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let admin = create_token(dir.path(), Role::Admin, vec![], None).unwrap();
    let publish_to = server::nats::Config { url: cluster.url(), replicas: 3 };
    let running = TestServer::start_on(dir.path(), |c| server::Config { nats: Some(publish_to), ..c }).await;
    let base = running.base.clone();
    let client = reqwest::Client::new();
    for i in 0..20 {
        post(&client, &base, &admin, "/v1/procedures", registration(&format!("5.{i:06}"))).await;
    }
    // Wait until the first 20 are acknowledged by the cluster, then stop node 2.
    tokio::time::timeout(PATIENCE, running.running().nats.as_ref().unwrap().wait_published(20))
        .await
        .expect("published");
    assert_eq!(stream_events(&cluster.node_url(0), 20).await.len(), 20);
    cluster.kill(2);
    for i in 20..40 {
        post(&client, &base, &admin, "/v1/procedures", registration(&format!("5.{i:06}"))).await;
    }
    tokio::time::timeout(PATIENCE, running.running().nats.as_ref().unwrap().wait_published(40))
        .await
        .expect("published");
    let got = stream_events(&cluster.node_url(1), 40).await;
    assert_eq!(got.iter().map(|m| m.1).collect::<Vec<_>>(), (1..=40).collect::<Vec<_>>());
    running.stop().await;
}
