//! The event log against a real fjall directory: ordering, atomicity, conflicts, idempotency, reopening,
//! live tails and tamper evidence.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Barrier};

use events::value::{Date, LongText, Timestamp};
use events::{Change, NewEvent, StreamId};
use eventstore::{Append, AppendError, ExpectedVersion, Log, Options, VerifyError, verify};
use proptest::prelude::*;

fn procedure(code: &str) -> events::Procedure {
    serde_json::from_value(serde_json::json!({
        "code": code, "name": "Đăng ký khai sinh", "sector": "Hộ tịch", "agency": "STP", "level": "commune",
        "applicant": "citizen", "processing_days": 3, "steps": 3, "documents": [], "fee_vnd": 8000,
        "out_of_pocket_vnd": 20000, "applicant_hours": 4, "annual_volume": 5000, "online": "none",
        "legal_basis": ""
    }))
    .unwrap()
}

fn new_event(code: &str) -> NewEvent {
    let p = procedure(code);
    NewEvent {
        stream: StreamId::procedure(&p.code),
        effective_on: Date::parse("2011-01-01").unwrap(),
        legal_basis: LongText::default(),
        note: LongText::default(),
        change: Change::ProcedureRegistered(p),
    }
}

fn append(events: Vec<NewEvent>) -> Append {
    Append { events, expected: Vec::new(), actor: "test".into(), command_id: None, fingerprint: [0; 32] }
}

fn stream(code: &str) -> StreamId {
    StreamId::procedure(&events::value::ProcedureCode::parse(code).unwrap())
}

#[test]
fn appends_get_gap_free_seqs_and_per_stream_versions_that_survive_reopening() {
    let dir = tempfile::tempdir().unwrap();
    {
        let log = Log::open(dir.path(), Options::default()).unwrap();
        let a = log.append(append(vec![new_event("1.000001")])).unwrap();
        assert_eq!((a.events[0].seq, a.events[0].version), (1, 1));
        let b = log.append(append(vec![new_event("1.000001"), new_event("2.000002")])).unwrap();
        let placed: Vec<_> = b.events.iter().map(|e| (e.seq, e.stream.name(), e.version)).collect();
        assert_eq!(placed, vec![(2, "procedure-1.000001".to_owned(), 2), (3, "procedure-2.000002".to_owned(), 1)]);
        assert_eq!(log.head(), 3);
    }
    for _ in 0..5 {
        let log = Log::open(dir.path(), Options::default()).unwrap();
        assert_eq!(log.head(), 3);
        let all = log.read_after(0, 100).unwrap();
        assert_eq!(all.iter().map(|e| e.seq).collect::<Vec<_>>(), vec![1, 2, 3]);
        assert_eq!(log.read_stream(&stream("1.000001")).unwrap().len(), 2);
        assert_eq!(log.stream_version(&stream("2.000002")).unwrap(), 1);
        let versions = vec![("procedure-1.000001".to_owned(), 2), ("procedure-2.000002".to_owned(), 1)];
        assert_eq!(log.stream_versions().unwrap(), versions, "every stream, in name order");
        let found = log.find(all[1].event_id).unwrap().unwrap();
        assert_eq!(found, all[1]);
    }
    let log = Log::open(dir.path(), Options::default()).unwrap();
    assert_eq!(log.append(append(vec![new_event("3.000003")])).unwrap().events[0].seq, 4);
    drop(log);
    let report = verify(dir.path()).unwrap();
    assert_eq!((report.events, report.streams), (4, 3));
}

#[test]
fn a_stale_expected_version_is_a_conflict_carrying_the_current_version_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let log = Log::open(dir.path(), Options::default()).unwrap();
    log.append(append(vec![new_event("1.000001"), new_event("1.000001")])).unwrap();
    let mut stale = append(vec![new_event("1.000001"), new_event("2.000002")]);
    stale.expected =
        vec![(stream("2.000002"), ExpectedVersion::NoStream), (stream("1.000001"), ExpectedVersion::Exactly(1))];
    match log.append(stale) {
        Err(AppendError::Conflict { stream: s, current, .. }) => {
            assert_eq!(s, stream("1.000001"));
            assert_eq!(current, 2);
        }
        other => panic!("expected a conflict, got {other:?}"),
    }
    assert_eq!(log.head(), 2);
    assert_eq!(log.stream_version(&stream("2.000002")).unwrap(), 0);
    let mut fresh = append(vec![new_event("2.000002")]);
    fresh.expected = vec![(stream("2.000002"), ExpectedVersion::NoStream)];
    assert_eq!(log.append(fresh).unwrap().events[0].seq, 3);
}

#[test]
fn a_repeated_command_id_answers_as_the_first_time_and_another_content_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let first_events = {
        let log = Log::open(dir.path(), Options::default()).unwrap();
        let mut cmd = append(vec![new_event("1.000001"), new_event("2.000002")]);
        cmd.command_id = Some("key-1".into());
        cmd.fingerprint = [7; 32];
        let first = log.append(cmd.clone()).unwrap();
        assert!(!first.replayed);
        let again = log.append(cmd.clone()).unwrap();
        assert!(again.replayed);
        assert_eq!(again.events, first.events);
        assert_eq!(log.head(), 2);
        first.events
    };
    let log = Log::open(dir.path(), Options::default()).unwrap();
    let mut cmd = append(vec![new_event("1.000001"), new_event("2.000002")]);
    cmd.command_id = Some("key-1".into());
    cmd.fingerprint = [7; 32];
    let after_reopen = log.append(cmd.clone()).unwrap();
    assert!(after_reopen.replayed);
    assert_eq!(after_reopen.events, first_events);
    cmd.fingerprint = [8; 32];
    assert!(matches!(log.append(cmd), Err(AppendError::CommandIdReused { .. })));
    assert_eq!(log.head(), 2);
}

#[test]
fn recorded_at_never_goes_back_even_when_the_clock_does() {
    let dir = tempfile::tempdir().unwrap();
    let now = Arc::new(AtomicI64::new(2_000_000));
    let clock_now = now.clone();
    let options = Options {
        clock: Arc::new(move || Timestamp::from_micros(clock_now.load(Ordering::SeqCst))),
        ..Options::default()
    };
    let log = Log::open(dir.path(), options).unwrap();
    let a = log.append(append(vec![new_event("1.000001")])).unwrap();
    now.store(1_000_000, Ordering::SeqCst);
    let b = log.append(append(vec![new_event("1.000001")])).unwrap();
    assert_eq!(a.events[0].recorded_at, Timestamp::from_micros(2_000_000));
    assert_eq!(b.events[0].recorded_at, Timestamp::from_micros(2_000_000));
    assert_eq!(a.events[0].event_id.get_version_num(), 7);
}

#[test]
fn a_live_tail_wakes_on_commit() {
    let dir = tempfile::tempdir().unwrap();
    let log = Log::open(dir.path(), Options::default()).unwrap();
    let mut tail = log.subscribe();
    let writer = log.clone();
    let handle = std::thread::spawn(move || writer.append(append(vec![new_event("1.000001")])).unwrap());
    let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
    let head = runtime.block_on(async {
        tail.wait_for(|&h| h >= 1).await.unwrap();
        *tail.borrow()
    });
    assert_eq!(head, 1);
    handle.join().unwrap();
    assert_eq!(log.read_after(0, 10).unwrap()[0].seq, 1);
}

#[test]
fn the_data_dir_is_locked_while_a_log_is_open() {
    let dir = tempfile::tempdir().unwrap();
    let log = Log::open(dir.path(), Options::default()).unwrap();
    assert!(matches!(verify(dir.path()), Err(VerifyError::Open(eventstore::OpenError::Locked { .. }))));
    drop(log);
    assert!(verify(dir.path()).is_ok());
}

#[test]
fn verify_names_the_first_tampered_event() {
    let dir = tempfile::tempdir().unwrap();
    {
        let log = Log::open(dir.path(), Options::default()).unwrap();
        for code in ["1.000001", "2.000002", "3.000003", "4.000004", "5.000005"] {
            log.append(append(vec![new_event(code)])).unwrap();
        }
    }
    assert_eq!(verify(dir.path()).unwrap().events, 5);
    {
        // Change one byte of event 3's stored body (its agency "STP" becomes "STQ").
        let db = fjall::Database::builder(dir.path()).open().unwrap();
        let events = db.keyspace("events", fjall::KeyspaceCreateOptions::default).unwrap();
        let mut value = events.get(3u64.to_be_bytes()).unwrap().unwrap().to_vec();
        let at = value.windows(3).position(|w| w == b"STP").unwrap();
        value[at + 2] = b'Q';
        events.insert(3u64.to_be_bytes(), value).unwrap();
        db.persist(fjall::PersistMode::SyncAll).unwrap();
    }
    match verify(dir.path()) {
        Err(VerifyError::Bad { seq, problem }) => {
            assert_eq!(seq, 3, "{problem}");
            assert!(problem.contains("hash"), "{problem}");
        }
        other => panic!("expected tampering at seq 3, got {other:?}"),
    }
}

#[test]
fn group_commit_off_still_orders_and_acknowledges_every_append() {
    let dir = tempfile::tempdir().unwrap();
    let log = Log::open(dir.path(), Options { max_group: 1, ..Options::default() }).unwrap();
    let handles: Vec<_> = (0..8)
        .map(|i| {
            let log = log.clone();
            std::thread::spawn(move || log.append(append(vec![new_event(&format!("9.{i}"))])).unwrap().events[0].seq)
        })
        .collect();
    let mut seqs: Vec<u64> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    seqs.sort_unstable();
    assert_eq!(seqs, (1..=8).collect::<Vec<_>>());
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, .. ProptestConfig::default() })]

    /// Concurrent appenders that all expect the same version: exactly one wins, the rest conflict, and
    /// seqs stay gap-free.
    #[test]
    fn with_the_same_expected_version_exactly_one_concurrent_appender_wins(writers in 2usize..12, before in 0u64..3) {
        let dir = tempfile::tempdir().unwrap();
        let log = Log::open(dir.path(), Options::default()).unwrap();
        for _ in 0..before {
            log.append(append(vec![new_event("1.000001")])).unwrap();
        }
        let barrier = Arc::new(Barrier::new(writers));
        let handles: Vec<_> = (0..writers).map(|_| {
            let (log, barrier) = (log.clone(), barrier.clone());
            std::thread::spawn(move || {
                let mut cmd = append(vec![new_event("1.000001"), new_event("2.000002")]);
                cmd.expected = vec![(stream("1.000001"), ExpectedVersion::Exactly(before))];
                barrier.wait();
                log.append(cmd)
            })
        }).collect();
        let results: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        let wins = results.iter().filter(|r| r.is_ok()).count();
        prop_assert_eq!(wins, 1);
        for r in &results {
            if let Err(e) = r {
                prop_assert!(matches!(e, AppendError::Conflict { current, .. } if *current == before + 1), "{e:?}");
            }
        }
        let seqs: Vec<u64> = log.read_after(0, 1000).unwrap().iter().map(|e| e.seq).collect();
        prop_assert_eq!(seqs, (1..=before + 2).collect::<Vec<_>>());
    }
}

#[test]
fn a_durable_command_can_be_looked_up_by_its_id_before_deciding() {
    let dir = tempfile::tempdir().unwrap();
    let log = Log::open(dir.path(), Options::default()).unwrap();
    assert!(log.command("k").unwrap().is_none());
    let mut cmd = append(vec![new_event("1.000001")]);
    cmd.command_id = Some("k".into());
    cmd.fingerprint = [3; 32];
    let first = log.append(cmd).unwrap();
    let (fingerprint, events) = log.command("k").unwrap().unwrap();
    assert_eq!(fingerprint, [3; 32]);
    assert_eq!(events, first.events);
}

#[test]
fn a_stream_read_again_after_more_appends_has_every_event_in_version_order() {
    let dir = tempfile::tempdir().unwrap();
    let log = Log::open(dir.path(), Options::default()).unwrap();
    log.append(append(vec![new_event("1.000001")])).unwrap();
    assert_eq!(log.read_stream(&stream("1.000001")).unwrap().len(), 1);
    // Appended through the log (the cache follows) and interleaved with another stream.
    log.append(append(vec![new_event("1.000001"), new_event("2.000002"), new_event("1.000001")])).unwrap();
    let versions: Vec<u64> = log.read_stream(&stream("1.000001")).unwrap().iter().map(|e| e.version).collect();
    assert_eq!(versions, vec![1, 2, 3]);
    let seqs: Vec<u64> = log.read_stream(&stream("1.000001")).unwrap().iter().map(|e| e.seq).collect();
    assert_eq!(seqs, vec![1, 2, 4]);
    drop(log);
    // A fresh handle has no cache: the same answer from the index.
    let log = Log::open(dir.path(), Options::default()).unwrap();
    let seqs: Vec<u64> = log.read_stream(&stream("1.000001")).unwrap().iter().map(|e| e.seq).collect();
    assert_eq!(seqs, vec![1, 2, 4]);
}

/// While appenders write to a few streams, every stream read is exactly that stream's events up to some
/// durable head no earlier than the one before the read: the cache of decoded streams never shows a
/// stale or torn stream, also when it is small enough to evict all the time.
#[test]
fn stream_reads_during_concurrent_appends_are_whole_and_current() {
    for capacity in [0, 5, 100_000] {
        let dir = tempfile::tempdir().unwrap();
        let log = Log::open(dir.path(), Options { stream_cache_events: capacity, ..Options::default() }).unwrap();
        let codes = ["1.000001", "2.000002", "3.000003"];
        let start = Barrier::new(6);
        std::thread::scope(|s| {
            for w in 0..4 {
                let (log, start) = (&log, &start);
                s.spawn(move || {
                    start.wait();
                    for n in 0..60 {
                        let code = codes[(w + n) % codes.len()];
                        let events = (0..1 + n % 2).map(|_| new_event(code)).collect();
                        log.append(append(events)).unwrap();
                    }
                });
            }
            for r in 0..2 {
                let (log, start) = (&log, &start);
                s.spawn(move || {
                    start.wait();
                    for n in 0..300 {
                        let code = codes[(r + n) % codes.len()];
                        let before = log.head();
                        let read = log.read_stream(&stream(code)).unwrap();
                        let all: Vec<events::Event> = log
                            .read_after(0, usize::MAX)
                            .unwrap()
                            .into_iter()
                            .filter(|e| e.stream == stream(code))
                            .collect();
                        assert!(all.starts_with(&read), "capacity {capacity}: a read is not a prefix of the stream");
                        let due = all.iter().filter(|e| e.seq <= before).count();
                        assert!(read.len() >= due, "capacity {capacity}: a read misses events durable before it");
                        let versions: Vec<u64> = read.iter().map(|e| e.version).collect();
                        assert_eq!(versions, (1..=read.len() as u64).collect::<Vec<_>>());
                    }
                });
            }
        });
        assert_eq!(log.head(), 4 * 90);
        for code in codes {
            let from_log: Vec<u64> = log.read_stream(&stream(code)).unwrap().iter().map(|e| e.seq).collect();
            let all: Vec<u64> = log
                .read_after(0, usize::MAX)
                .unwrap()
                .iter()
                .filter(|e| e.stream == stream(code))
                .map(|e| e.seq)
                .collect();
            assert_eq!(from_log, all);
        }
    }
}
