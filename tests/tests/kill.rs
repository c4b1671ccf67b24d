//! `kill -9` of a real `p30 serve` process while clients write, then a restart: every write that was
//! acknowledged (201) is there, and the log verifies.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use serde_json::json;

fn serve(dir: &std::path::Path) -> (Child, String) {
    let mut child = Command::new(p30_tests::p30_binary())
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let line = lines.next().expect("the server says where it listens").unwrap();
    let url = line.rsplit(' ').next().unwrap().to_owned();
    assert!(url.starts_with("http://"), "{line}");
    std::thread::spawn(move || lines.for_each(drop));
    (child, url)
}

#[tokio::test]
async fn sigkill_during_writes_loses_no_acknowledged_write() {
    let dir = tempfile::tempdir().unwrap();
    let token = server::access::create_token(dir.path(), server::access::Role::Admin, vec![], None).unwrap();
    let (mut child, url) = serve(dir.path());
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<String>();
    let mut writers = Vec::new();
    for w in 0..8 {
        let (url, token, tx) = (url.clone(), token.clone(), tx.clone());
        writers.push(tokio::spawn(async move {
            let client = reqwest::Client::new();
            for n in 0.. {
                let code = format!("{w}.{n:06}");
                let body = json!({
                    "code": code, "name": "Thủ tục", "sector": "Hộ tịch", "agency": "STP", "level": "commune",
                    "applicant": "citizen", "processing_days": 3, "steps": 1, "documents": [], "fee_vnd": 0,
                    "out_of_pocket_vnd": 0, "applicant_hours": 1, "annual_volume": 10, "online": "none",
                    "legal_basis": "", "effective_on": "2011-01-01"
                });
                match client.post(format!("{url}/v1/procedures")).bearer_auth(&token).json(&body).send().await {
                    Ok(r) if r.status() == 201 => {
                        if tx.send(code).is_err() {
                            return;
                        }
                    }
                    Ok(r) => panic!("unexpected {}", r.status()),
                    Err(_) => return, // the server is gone
                }
            }
        }));
    }
    drop(tx);
    // Kill once 300 writes are acknowledged: others are in flight at that moment.
    let mut acknowledged = Vec::new();
    while acknowledged.len() < 300 {
        acknowledged.push(rx.recv().await.unwrap());
    }
    child.kill().unwrap();
    child.wait().unwrap();
    for w in writers {
        let _ = w.await;
    }
    while let Ok(code) = rx.try_recv() {
        acknowledged.push(code);
    }

    let report = eventstore::verify(dir.path()).unwrap();
    assert!(report.events >= acknowledged.len() as u64);
    let (mut child, url) = serve(dir.path());
    let client = reqwest::Client::new();
    for code in &acknowledged {
        let r = client.get(format!("{url}/v1/procedures/{code}")).send().await.unwrap();
        assert_eq!(r.status(), 200, "acknowledged {code} is lost");
    }
    child.kill().unwrap();
    child.wait().unwrap();
}
