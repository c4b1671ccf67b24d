//! `p30 bench append` at a tiny size against a real `nats-server`: it prints one JSON line per figure
//! with BENCH.md's fields and named baselines.

use std::process::Command;

#[test]
fn bench_append_prints_figures_against_both_baselines() {
    let out = Command::new(env!("CARGO_BIN_EXE_p30"))
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
