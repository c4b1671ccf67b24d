//! The benchmark data set and the parallel rebuild at a tiny size: the generated log verifies, every
//! command in it passes the decider against the history recorded before it, the projection takes every
//! event, the parallel rebuild equals the one-thread fold, and `p30 bench rebuild` / `bench as-of` /
//! `bench live-update` print their figures.

use std::collections::HashMap;
use std::process::Command;

use bench::dataset::{self, Spec};
use events::decide::{self, History};
use events::{Change, Event, StreamId};
use eventstore::{Log, Options};
use projections::{GroupBy, Moment, Projection};

const SPEC: Spec = Spec { seed: 30, procedures: 200, events: 2_000 };

fn generated(spec: Spec) -> (tempfile::TempDir, dataset::Written) {
    let dir = tempfile::tempdir().unwrap();
    let written = dataset::write(dir.path(), spec, |_| {}).unwrap();
    (dir, written)
}

fn all_events(log: &Log) -> Vec<Event> {
    log.read_after(0, usize::MAX).unwrap()
}

/// The copies of one command: a merge is one event per stream it touches, at consecutive seqs.
fn commands(events: &[Event]) -> Vec<&[Event]> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < events.len() {
        let mut j = i + 1;
        if matches!(events[i].change, Change::ProceduresMerged(_)) {
            while j < events.len()
                && events[j].change == events[i].change
                && events[j].recorded_at == events[i].recorded_at
                && events[j].effective_on == events[i].effective_on
            {
                j += 1;
            }
        }
        out.push(&events[i..j]);
        i = j;
    }
    out
}

#[test]
fn the_generated_log_verifies_and_has_every_kind_of_event() {
    let (dir, written) = generated(SPEC);
    assert_eq!(written.events, SPEC.events);
    let report = eventstore::verify(dir.path()).unwrap();
    assert_eq!(report.events, SPEC.events);
    let c = written.counts;
    assert_eq!(c.registrations, SPEC.procedures);
    let total =
        c.registrations + c.simplifications + c.amendments + c.revisions + c.abolitions + c.merge_events + c.settings;
    assert_eq!(total, SPEC.events, "{c:?}");
    for (kind, n) in [
        ("simplifications", c.simplifications),
        ("amendments", c.amendments),
        ("revisions", c.revisions),
        ("abolitions", c.abolitions),
        ("merges", c.merges),
        ("late entries", c.late),
        ("late entries inside a stream's timeline", c.late_in_stream),
    ] {
        assert!(n > 0, "no {kind}: {c:?}");
    }
    assert_eq!(c.settings, 6, "two tariffs and a programme, twice");
    let log = Log::open(dir.path(), Options::default()).unwrap();
    let events = all_events(&log);
    let first = dataset::day(0);
    let last = dataset::day(dataset::LAST_DAY);
    assert!(events.iter().all(|e| e.effective_on >= first && e.effective_on <= last));
    // Registrations first: the inventory is recorded before any change.
    let first_change = events.iter().position(|e| matches!(e.change, Change::ProcedureSimplified(_))).unwrap();
    let inventory = events[..first_change].iter().filter(|e| matches!(e.change, Change::ProcedureRegistered(_)));
    assert!(inventory.count() as u64 >= SPEC.procedures * 9 / 10);
    // Some events are recorded late: dated before an event recorded earlier.
    let mut latest = first;
    let mut late = 0;
    for e in &events {
        late += usize::from(e.effective_on < latest);
        latest = latest.max(e.effective_on);
    }
    assert!(late > 0);
    // recorded_at follows the history's clock, 2011–2020, and never goes back.
    assert!(events.windows(2).all(|w| w[0].recorded_at <= w[1].recorded_at));
    assert_eq!(events.last().unwrap().recorded_at.date_in_vietnam().inner().year(), 2020);
    log.close();
}

#[test]
fn the_same_seed_gives_the_same_log_and_another_seed_another() {
    let small = Spec { events: 600, ..SPEC };
    let (a, _) = generated(small);
    let (b, _) = generated(small);
    let (c, _) = generated(Spec { seed: 31, ..small });
    let hash = |d: &tempfile::TempDir| eventstore::verify(d.path()).unwrap().head_hash;
    assert_eq!(hash(&a), hash(&b));
    assert_ne!(hash(&a), hash(&c));
}

/// Valid by construction is checked the slow way here: each command, rebuilt from its recorded events,
/// is decided against the history of its streams recorded before it, and must produce exactly them.
#[test]
fn every_generated_command_passes_the_decider_against_the_history_before_it() {
    let (dir, _) = generated(SPEC);
    let log = Log::open(dir.path(), Options::default()).unwrap();
    let events = all_events(&log);
    log.close();
    let mut streams: HashMap<StreamId, Vec<Event>> = HashMap::new();
    for copies in commands(&events) {
        let e = &copies[0];
        let command = decide::Command {
            change: e.change.clone(),
            effective_on: e.effective_on,
            legal_basis: e.legal_basis.clone(),
            note: e.note.clone(),
        };
        let touched: Vec<StreamId> = copies.iter().map(|c| c.stream.clone()).collect();
        let history = History::from_events(
            touched.iter().flat_map(|s| streams.get(s).into_iter().flatten().cloned()).collect::<Vec<_>>(),
        );
        let new = decide::decide(&command, &history)
            .unwrap_or_else(|r| panic!("seq {} ({}) refused: {r}", e.seq, e.type_name()));
        let decided: Vec<(&StreamId, &Change)> = new.iter().map(|n| (&n.stream, &n.change)).collect();
        let recorded: Vec<(&StreamId, &Change)> = copies.iter().map(|c| (&c.stream, &c.change)).collect();
        assert_eq!(decided, recorded, "seq {}", e.seq);
        for c in copies {
            streams.entry(c.stream.clone()).or_default().push(c.clone());
        }
    }
}

#[test]
fn the_parallel_rebuild_equals_the_sequential_fold_and_live_apply_refuses_nothing() {
    let (dir, _) = generated(SPEC);
    let log = Log::open(dir.path(), Options::default()).unwrap();
    let sequential = server::live::rebuild_sequential(&log).unwrap();
    assert_eq!(sequential.last_seq(), SPEC.events);
    let now = server::live::now();
    let dates: Vec<_> = [0, 200, 1000, 1825, 2600, dataset::LAST_DAY].into_iter().map(dataset::day).collect();
    let moments: Vec<Moment> = dates
        .iter()
        .map(|&d| Moment::new(d, now.known_at))
        .chain([now, Moment::new(dates[3], dataset::recorded_on(1500, 0))])
        .collect();
    let answers = |p: &Projection| -> Vec<_> {
        moments
            .iter()
            .flat_map(|&m| [GroupBy::All, GroupBy::Agency].map(|by| p.reductions(by, m, None).unwrap()))
            .collect()
    };
    let expected = answers(&sequential);
    // One decoder, as many as cores, and more decoders than chunks: the chunk order must hold every time.
    for decoders in [1, 2, 3, 7] {
        let parallel = server::live::rebuild_parallel(&log, decoders).unwrap();
        assert_eq!(parallel.last_seq(), sequential.last_seq(), "{decoders} decoders");
        assert_eq!(answers(&parallel), expected, "{decoders} decoders");
        assert!(parallel == sequential, "{decoders} decoders: the projections differ");
    }
    let mut live = Projection::new();
    for e in all_events(&log) {
        if let Err(err) = live.apply(&e) {
            panic!("the projection refused seq {}: {err}", e.seq);
        }
    }
    assert_eq!(live.last_seq(), SPEC.events);
    assert_eq!(answers(&live), expected);
    log.close();
}

#[test]
fn a_kept_data_dir_is_reused_and_a_different_one_refused() {
    let dir = tempfile::tempdir().unwrap();
    let kept = dir.path().join("data");
    let small = Spec { events: 400, ..SPEC };
    let first = dataset::prepare(small, Some(&kept)).unwrap();
    assert!(first.generated_in.is_some());
    let hash = eventstore::verify(&kept).unwrap().head_hash;
    drop(first);
    let again = dataset::prepare(small, Some(&kept)).unwrap();
    assert!(again.generated_in.is_none(), "the same data set is reused, not generated again");
    assert_eq!(eventstore::verify(&kept).unwrap().head_hash, hash);
    let other = dataset::prepare(Spec { seed: 7, ..small }, Some(&kept)).unwrap_err();
    assert!(other.to_string().contains("another data set"), "{other}");
    let busy = dir.path().join("busy");
    std::fs::create_dir_all(&busy).unwrap();
    std::fs::write(busy.join("notes.txt"), "mine").unwrap();
    assert!(dataset::prepare(small, Some(&busy)).is_err(), "a dir with other files is left alone");
}

fn json_lines(args: &[&str]) -> Vec<serde_json::Value> {
    let out = Command::new(p30_tests::p30_binary()).args(args).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

#[test]
fn bench_rebuild_prints_the_rate_against_both_baselines_and_the_memory() {
    let lines = json_lines(&["bench", "rebuild", "--procedures", "200", "--events", "2000", "--rounds", "1"]);
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[0]["baseline"], "raw scan");
    assert_eq!(lines[1]["baseline"], "jetstream ordered replay");
    assert!(lines[2]["baseline"].is_null());
    for l in &lines[..2] {
        assert_eq!(l["unit"], "events/s");
        assert!(l["value"].as_f64().unwrap() > 0.0 && l["baseline_value"].as_f64().unwrap() > 0.0, "{l}");
    }
    assert_eq!(lines[2]["unit"], "MiB");
    assert!(lines[2]["value"].as_f64().unwrap() > 0.0);
    assert!(lines[2]["ratio"].is_null());
}

/// Two figures in ms, p50 then p99, against `baseline` at the same quantiles.
fn assert_p50_p99(lines: &[serde_json::Value], baseline: &str) {
    assert_eq!(lines.len(), 2);
    for (l, q) in lines.iter().zip(["p50", "p99"]) {
        assert_eq!(l["baseline"], format!("{baseline}, {q}"));
        assert_eq!(l["unit"], "ms");
        assert!(l["value"].as_f64().unwrap() >= 0.0 && l["baseline_value"].as_f64().unwrap() >= 0.0, "{l}");
    }
}

#[test]
fn bench_as_of_prints_p50_and_p99_against_today() {
    let lines = json_lines(&["bench", "as-of", "--procedures", "200", "--events", "2000", "--samples", "5"]);
    assert_p50_p99(&lines, "the same query as of today");
}

/// `p30 bench live-update` at a tiny size: it checks after every event that the figures kept event by
/// event equal reductions passes (and fails otherwise), then prints p50 and p99 against them.
#[test]
fn bench_live_update_prints_p50_and_p99_against_recomputing() {
    let lines = json_lines(&["bench", "live-update", "--procedures", "200", "--events", "2000", "--samples", "30"]);
    assert_p50_p99(&lines, "the same figures recomputed by reductions passes");
}
