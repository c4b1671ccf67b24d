//! The `p30` binary as an operator runs it: `verify` on a clean and a tampered data dir, and the one-line
//! error with a non-zero exit.

use std::process::Command;

use events::value::{Date, LongText};
use events::{Change, NewEvent, StreamId};
use eventstore::{Append, Log, Options};

fn p30() -> Command {
    Command::new(env!("CARGO_BIN_EXE_p30"))
}

fn fill(dir: &std::path::Path, n: u64) {
    let log = Log::open(dir, Options::default()).unwrap();
    for i in 0..n {
        let p = p30::bench::sample_procedure(i);
        let event = NewEvent {
            stream: StreamId::procedure(&p.code),
            effective_on: Date::parse("2011-01-01").unwrap(),
            legal_basis: LongText::default(),
            note: LongText::default(),
            change: Change::ProcedureRegistered(p),
        };
        log.append(Append {
            events: vec![event],
            expected: vec![],
            actor: "t".into(),
            command_id: None,
            fingerprint: [0; 32],
        })
        .unwrap();
    }
}

#[test]
fn verify_passes_on_a_clean_log_and_names_the_first_bad_seq_of_a_tampered_one() {
    let dir = tempfile::tempdir().unwrap();
    fill(dir.path(), 6);
    let ok = p30().args(["verify", "--data-dir"]).arg(dir.path()).output().unwrap();
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));
    assert!(String::from_utf8_lossy(&ok.stdout).contains("6 events"));

    {
        let db = fjall::Database::builder(dir.path()).open().unwrap();
        let events = db.keyspace("events", fjall::KeyspaceCreateOptions::default).unwrap();
        let mut value = events.get(4u64.to_be_bytes()).unwrap().unwrap().to_vec();
        let last = value.len() - 1;
        value[last] ^= 0x01;
        events.insert(4u64.to_be_bytes(), value).unwrap();
        db.persist(fjall::PersistMode::SyncAll).unwrap();
    }
    let bad = p30().args(["verify", "--data-dir"]).arg(dir.path()).output().unwrap();
    assert!(!bad.status.success());
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(err.contains("seq 4"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "one clear line: {err}");
}

#[test]
fn verify_refuses_a_data_dir_a_server_holds_open_in_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let log = Log::open(dir.path(), Options::default()).unwrap();
    let out = p30().args(["verify", "--data-dir"]).arg(dir.path()).output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("server running"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    drop(log);
}

#[test]
fn verify_of_a_missing_dir_is_an_error_not_an_empty_log() {
    let dir = tempfile::tempdir().unwrap();
    let out = p30().args(["verify", "--data-dir"]).arg(dir.path().join("nope")).output().unwrap();
    assert!(!out.status.success());
    assert!(!dir.path().join("nope").exists(), "verify must not create a data dir");
}
