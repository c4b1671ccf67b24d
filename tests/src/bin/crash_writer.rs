//! A child process for the crash test: appends under load and prints every acknowledged command, until
//! it is killed.
//!
//! Usage: `p30-crash-writer DIR PREFIX`. Eight threads append two-event commands (two streams at once,
//! command id `PREFIX-thread-n`); after each acknowledgement a line `ack SEQ1 SEQ2 COMMAND_ID` is written
//! and flushed, so the parent knows exactly what was acknowledged before the kill.

use std::io::Write;
use std::sync::{Arc, Mutex};

use eventstore::{Append, Log, Options};

fn main() {
    let mut args = std::env::args().skip(1);
    let (Some(dir), Some(prefix)) = (args.next(), args.next()) else {
        eprintln!("usage: p30-crash-writer DIR PREFIX");
        std::process::exit(2);
    };
    let log = Log::open(&dir, Options::default()).expect("open the log");
    let out = Arc::new(Mutex::new(std::io::stdout()));
    let threads: Vec<_> = (0..8)
        .map(|t| {
            let (log, out, prefix) = (log.clone(), out.clone(), prefix.clone());
            std::thread::spawn(move || {
                for n in 0u64.. {
                    let id = format!("{prefix}-{t}-{n}");
                    let a = format!("{}.{t}", n % 50);
                    let b = format!("{}.{t}", n % 50 + 50);
                    let events = vec![p30_tests::registration(&a), p30_tests::registration(&b)];
                    let append = Append {
                        events,
                        expected: Vec::new(),
                        actor: "crash-writer".into(),
                        command_id: Some(id.clone()),
                        fingerprint: [1; 32],
                    };
                    let done = log.append(append).expect("append");
                    let mut out = out.lock().unwrap();
                    writeln!(out, "ack {} {} {id}", done.events[0].seq, done.events[1].seq).unwrap();
                    out.flush().unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        let _ = t.join();
    }
}
