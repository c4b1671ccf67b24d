//! `p30 tail` prints the events of `P30_EVENTS` as they arrive, one line each: seq, type, code, JSON.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

#[tokio::test]
async fn tail_prints_each_event_with_its_seq_type_and_code() {
    let nats = p30_tests::NatsServer::start().unwrap();
    let publish_to = server::nats::Config { url: nats.url(), replicas: 1 };
    let running =
        p30_tests::TestServer::start_with(|c| server::Config { demo: true, nats: Some(publish_to), ..c }).await;
    running.running().nats.as_ref().unwrap().wait_published(3).await;
    let mut child = Command::new(p30_tests::p30_binary())
        .args(["tail", "--from-start", "--nats-url", &nats.url()])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first: Vec<String> = (0..3).map(|_| lines.next().unwrap().unwrap()).collect();
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(first[0].starts_with("1 TariffSet settings: {"), "{}", first[0]);
    assert!(first[2].starts_with("3 ProcedureRegistered 1.000001: {"), "{}", first[2]);
    let json: serde_json::Value = serde_json::from_str(first[2].split_once(": ").unwrap().1).unwrap();
    assert_eq!(json["seq"], 3);
    running.stop().await;
}
