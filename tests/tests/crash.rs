//! Crash recovery: a child appends under load and is killed with SIGKILL at random moments; after each
//! reopen every acknowledged event is there, nothing is half-written, seqs are gap-free and verify passes.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use eventstore::{Log, Options, verify};
use rand::Rng;

const ROUNDS: usize = 25;

#[test]
fn sigkill_at_random_moments_loses_no_acknowledged_event_and_leaves_no_partial_one() {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = rand::rng();
    let mut acknowledged: HashMap<String, (u64, u64)> = HashMap::new();
    for round in 0..ROUNDS {
        let mut child = Command::new(env!("CARGO_BIN_EXE_p30-crash-writer"))
            .arg(dir.path())
            .arg(format!("r{round}"))
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        // Kill after a random number of acknowledgements: appends are in flight at that moment.
        let kill_after = rng.random_range(1..400);
        for _ in 0..kill_after {
            let line = lines.next().expect("the writer runs until killed").unwrap();
            let mut parts = line.split(' ').skip(1);
            let a: u64 = parts.next().unwrap().parse().unwrap();
            let b: u64 = parts.next().unwrap().parse().unwrap();
            acknowledged.insert(parts.next().unwrap().to_owned(), (a, b));
        }
        child.kill().unwrap();
        child.wait().unwrap();
        // Acknowledgements printed between our last read and the kill count too.
        for line in lines.map_while(Result::ok) {
            let mut parts = line.split(' ').skip(1);
            let (Some(a), Some(b), Some(id)) = (parts.next(), parts.next(), parts.next()) else { continue };
            acknowledged.insert(id.to_owned(), (a.parse().unwrap(), b.parse().unwrap()));
        }

        let report = verify(dir.path()).unwrap_or_else(|e| panic!("round {round}: verify failed: {e}"));
        let log = Log::open(dir.path(), Options::default()).unwrap();
        let events = log.read_after(0, usize::MAX).unwrap();
        assert_eq!(events.len() as u64, report.events);
        for (i, e) in events.iter().enumerate() {
            assert_eq!(e.seq, i as u64 + 1, "round {round}: seqs must be gap-free");
        }
        let mut by_command: HashMap<&str, Vec<u64>> = HashMap::new();
        for e in &events {
            by_command.entry(e.command_id.as_deref().unwrap()).or_default().push(e.seq);
        }
        for (id, seqs) in &by_command {
            assert_eq!(seqs.len(), 2, "round {round}: command {id} is half-written: {seqs:?}");
            assert_eq!(seqs[1], seqs[0] + 1, "round {round}: command {id} is not contiguous");
        }
        for (id, (a, b)) in &acknowledged {
            assert_eq!(by_command.get(id.as_str()), Some(&vec![*a, *b]), "round {round}: acknowledged {id} lost");
        }
    }
    assert!(acknowledged.len() >= ROUNDS, "every round acknowledged something");
}
