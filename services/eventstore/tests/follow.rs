//! Follower copies: what one node sequences, every copy applies identically, checking the chain, and a
//! copy refuses what does not continue it.

use events::value::{Date, LongText};
use events::{Change, NewEvent, StreamId};
use eventstore::{Append, AppendError, ApplyError, Commit, ExpectedVersion, Log, OpenError, Options, verify};

fn new_event(code: &str) -> NewEvent {
    let p: events::Procedure = serde_json::from_value(serde_json::json!({
        "code": code, "name": "Đăng ký khai sinh", "sector": "Hộ tịch", "agency": "STP", "level": "commune",
        "applicant": "citizen", "processing_days": 3, "steps": 3, "documents": [], "fee_vnd": 8000,
        "out_of_pocket_vnd": 20000, "applicant_hours": 4, "annual_volume": 5000, "online": "none",
        "legal_basis": ""
    }))
    .unwrap();
    NewEvent {
        stream: StreamId::procedure(&p.code),
        effective_on: Date::parse("2011-01-01").unwrap(),
        legal_basis: LongText::default(),
        note: LongText::default(),
        change: Change::ProcedureRegistered(p),
    }
}

fn append(code: &str, key: Option<&str>) -> Append {
    Append {
        events: vec![new_event(code)],
        expected: vec![(
            StreamId::procedure(&events::value::ProcedureCode::parse(code).unwrap()),
            ExpectedVersion::NoStream,
        )],
        actor: "test".into(),
        command_id: key.map(str::to_owned),
        fingerprint: [7; 32],
    }
}

/// Sequences `appends` on `log`'s sequencer into one commit.
fn commit(log: &Log, appends: Vec<Append>) -> (Commit, Vec<Result<eventstore::Appended, AppendError>>) {
    let (_, mut sequencer) = log.sequencer().expect("a follower");
    let at = sequencer.stamp();
    let mut commit = Commit::default();
    let answers = appends
        .into_iter()
        .map(|mut a| {
            sequencer.sequence(&mut a, at).map(|s| {
                commit.push(&s);
                s.appended
            })
        })
        .collect();
    (commit, answers)
}

#[test]
fn copies_apply_the_same_commits_identically_and_index_their_commands() {
    let (a_dir, b_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let a = Log::open_follower(a_dir.path(), Options::default()).unwrap();
    let b = Log::open_follower(b_dir.path(), Options::default()).unwrap();
    let (first, answers) = commit(&a, vec![append("1.000001", Some("k1")), append("1.000002", None)]);
    assert!(answers.iter().all(Result::is_ok));
    assert_eq!(first.events(), 2);
    let bytes = first.encode();
    for log in [&a, &b] {
        assert_eq!(log.apply(1, &Commit::decode(1, &bytes).unwrap()).unwrap(), 2);
    }
    // The second commit, decided on the other copy: a retry of k1 replays, a taken code conflicts.
    let (second, answers) =
        commit(&b, vec![append("1.000001", Some("k1")), append("1.000002", None), append("1.000003", None)]);
    assert!(answers[0].as_ref().unwrap().replayed);
    assert!(matches!(answers[1], Err(AppendError::Conflict { .. })));
    assert_eq!(answers[2].as_ref().unwrap().events[0].seq, 3);
    for log in [&a, &b] {
        assert_eq!(log.apply(2, &second).unwrap(), 3);
        assert_eq!(log.follow_position(), Some(2));
        assert_eq!(log.command("k1").unwrap().unwrap().1[0].seq, 1);
    }
    assert_eq!(a.read_after(0, 10).unwrap(), b.read_after(0, 10).unwrap());
    assert_eq!(a.tail().unwrap(), b.tail().unwrap());
    // A message applied twice, or one that skips, does not continue the copy.
    assert!(matches!(a.apply(2, &second), Err(ApplyError::Diverged { .. })));
    assert!(matches!(a.apply(4, &Commit::default()), Err(ApplyError::Diverged { .. })));
    drop((a, b));
    let report = verify(a_dir.path()).unwrap();
    assert_eq!(report.events, 3);
    // Reopened, the copy knows where it stands, and still takes no local appends.
    let a = Log::open(a_dir.path(), Options::default()).unwrap();
    assert!(a.is_follower());
    assert_eq!((a.follow_position(), a.head()), (Some(2), 3));
    assert!(matches!(
        a.append(append("1.000009", None)),
        Err(AppendError::Unavailable(eventstore::Unavailable::FollowerCopy))
    ));
}

#[test]
fn a_copy_refuses_events_that_break_the_chain() {
    let (a_dir, b_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let a = Log::open_follower(a_dir.path(), Options::default()).unwrap();
    let b = Log::open_follower(b_dir.path(), Options::default()).unwrap();
    let (mut tampered, _) = commit(&a, vec![append("1.000001", None)]);
    tampered.commands[0].events[0].hash[0] ^= 1;
    assert!(matches!(b.apply(1, &tampered), Err(ApplyError::Diverged { .. })));
    assert_eq!((b.head(), b.follow_position()), (0, Some(0)));
    assert!(matches!(Commit::decode(1, b"\xff\xff\xff"), Err(ApplyError::Malformed { .. })));
}

#[test]
fn a_single_machine_log_is_not_taken_for_a_copy() {
    let dir = tempfile::tempdir().unwrap();
    let log = Log::open(dir.path(), Options::default()).unwrap();
    log.append(append("1.000001", None)).unwrap();
    assert!(!log.is_follower() && log.sequencer().is_none());
    log.close();
    drop(log);
    assert!(matches!(Log::open_follower(dir.path(), Options::default()), Err(OpenError::NotAFollower { .. })));
}
