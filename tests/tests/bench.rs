//! `p30 bench append` at a tiny size against a real `nats-server`: it prints one JSON line per figure
//! with BENCH.md's fields and named baselines.

use std::process::Command;

#[test]
fn bench_append_prints_figures_against_both_baselines() {
    let out = Command::new(p30_tests::p30_binary())
        .args([
            "bench",
            "append",
            "--writers",
            "4",
            "--per-writer",
            "20",
            "--per-writer-fsync-each",
            "5",
            "--rounds",
            "1",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let lines: Vec<serde_json::Value> =
        String::from_utf8_lossy(&out.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let baselines: Vec<&str> = lines.iter().map(|l| l["baseline"].as_str().unwrap()).collect();
    assert_eq!(baselines, ["fsync per event", "jetstream async publish"]);
    for l in &lines {
        assert_eq!(l["unit"], "events/s");
        let (value, base, ratio) =
            (l["value"].as_f64().unwrap(), l["baseline_value"].as_f64().unwrap(), l["ratio"].as_f64().unwrap());
        assert!(value > 0.0 && base > 0.0);
        assert!((ratio - value / base).abs() < 0.01 * ratio.max(1.0), "{l}");
    }
}

/// `p30 bench http` at a tiny size: `wrk` (out of process) drives the writes, reads and health checks;
/// any answer outside 2xx fails the run, so printing the four figures means every write was recorded.
#[test]
fn bench_http_prints_writes_and_reads_against_healthz() {
    let out = Command::new(p30_tests::p30_binary())
        .args(["bench", "http", "--connections", "4", "--seconds", "1", "--rounds", "1", "--procedures", "20"])
        .args(["--client-threads", "1"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let lines: Vec<serde_json::Value> =
        String::from_utf8_lossy(&out.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let names: Vec<&str> = lines.iter().map(|l| l["name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        [
            "POST simplifications, 4 connections",
            "POST simplifications p99, 4 connections",
            "GET /v1/reductions?group_by=agency, 4 connections",
            "GET /v1/reductions?group_by=agency p99, 4 connections"
        ]
    );
    for l in &lines {
        assert!(l["value"].as_f64().unwrap() > 0.0 && l["baseline_value"].as_f64().unwrap() > 0.0, "{l}");
        assert!(l["baseline"].as_str().unwrap().starts_with("GET /healthz"), "{l}");
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("round 1: healthz"), "each round's figures go to stderr: {stderr}");
}
