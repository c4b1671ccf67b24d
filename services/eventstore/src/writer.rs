//! Group commit in two stages, each on a thread of its own, so that checking and encoding the next
//! group overlaps the fsync of the last one.
//!
//! - The **stager** blocks for one append, takes every other append already waiting (up to
//!   `max_group`), checks each against the log and the appends staged before it, and encodes the
//!   survivors into one fjall batch.
//! - The **committer** takes every batch staged so far, writes them in order and fsyncs once, and only
//!   then appends the new events to the streams the cache holds, moves the durable head and answers
//!   their appends.
//!
//! The stager assumes that every batch it hands on will commit. If one fails, the log stops accepting
//! writes (fjall itself refuses further writes after a failed fsync): every append from then on is
//! answered `Unavailable`, and a restart recovers what is durable.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, mpsc};

use events::value::Timestamp;
use fjall::PersistMode;
use tokio::sync::watch;

use crate::cache::StreamCache;
use crate::keys::Hash;
use crate::sequencer::{self, Sequencer};
use crate::{AppendError, Appended, Options, Request, Store, Unavailable};

/// A group checked and encoded, waiting for its fsync.
struct Staged {
    /// The seq of the group's last event (equal to the previous head if it wrote nothing).
    head: u64,
    batch: Option<fjall::OwnedWriteBatch>,
    answers: Vec<(Request, Result<Appended, AppendError>)>,
}

pub(crate) struct Stager {
    store: Store,
    max_group: usize,
    failed: Arc<AtomicBool>,
    durable: watch::Receiver<u64>,
    sequencer: Sequencer,
}

/// What the two stages start from.
pub(crate) struct Start {
    pub store: Store,
    pub cache: Arc<Mutex<StreamCache>>,
    pub durable: watch::Sender<u64>,
    pub options: Options,
    /// The last durable seq and its chain hash.
    pub head: u64,
    pub hash: Hash,
    pub last_recorded: Timestamp,
    pub requests: mpsc::Receiver<Request>,
}

/// Starts both stages; they stop when every sender of `requests` is gone and the last batch is durable.
pub(crate) fn start(start: Start) -> std::io::Result<std::thread::JoinHandle<()>> {
    let Start { store, cache, durable, options, head, hash, last_recorded, requests } = start;
    let failed = Arc::new(AtomicBool::new(false));
    let (staged_tx, staged_rx) = mpsc::sync_channel::<Staged>(64);
    let committer = Committer { store: store.clone(), cache, durable: durable.clone(), failed: failed.clone() };
    let max_group = options.max_group;
    let stager = Stager {
        sequencer: Sequencer::new(store.clone(), options.clock.clone(), head, hash, last_recorded),
        store,
        max_group,
        failed: failed.clone(),
        durable: durable.subscribe(),
    };
    let committer =
        std::thread::Builder::new().name("p30-log-commit".into()).spawn(move || committer.run(staged_rx, max_group))?;
    std::thread::Builder::new().name("p30-log-stage".into()).spawn(move || {
        stager.run(requests, staged_tx);
        let _ = committer.join();
    })
}

/// The second stage: writes staged batches, fsyncs, brings the stream cache up to date, moves the head.
struct Committer {
    store: Store,
    cache: Arc<Mutex<StreamCache>>,
    durable: watch::Sender<u64>,
    failed: Arc<AtomicBool>,
}

impl Committer {
    fn run(self, staged: mpsc::Receiver<Staged>, max_group: usize) {
        while let Ok(first) = staged.recv() {
            // Every group staged meanwhile shares this fsync (unless group commit is off).
            let mut groups = vec![first];
            if max_group > 1 {
                groups.extend(staged.try_iter());
            }
            let outcome = if self.failed.load(Ordering::SeqCst) {
                Err(Unavailable::Stopped)
            } else {
                write_and_sync(&self.store, &mut groups).inspect_err(|e| {
                    tracing::error!(error = %e, cause = ?std::error::Error::source(e), "the event log could not write; refusing writes until restart");
                    self.failed.store(true, Ordering::SeqCst);
                })
            };
            if outcome.is_ok()
                && let Some(head) = groups.iter().map(|g| g.head).max()
            {
                // The cache first: once the head moves, readers must find the new events there too.
                let written = groups.iter().flat_map(|g| &g.answers).flat_map(|(_, result)| match result {
                    Ok(appended) if !appended.replayed => appended.events.as_slice(),
                    _ => &[],
                });
                self.cache.lock().unwrap_or_else(|p| p.into_inner()).committed(written, head);
                self.durable.send_replace(head);
            }
            for (request, result) in groups.into_iter().flat_map(|g| g.answers) {
                let answer = match (&outcome, result) {
                    (Err(reason), Ok(_)) => Err(AppendError::Unavailable(reason.clone())),
                    (_, result) => result,
                };
                let _ = request.reply.send(answer);
            }
        }
    }
}

/// Writes the groups' batches in order, then fsyncs once.
fn write_and_sync(store: &Store, groups: &mut [Staged]) -> Result<(), Unavailable> {
    let mut wrote = false;
    for group in groups.iter_mut() {
        if let Some(batch) = group.batch.take() {
            batch.commit().map_err(|e| Unavailable::Write(Arc::new(e)))?;
            wrote = true;
        }
    }
    if wrote {
        store.db.persist(PersistMode::SyncAll).map_err(|e| Unavailable::Sync(Arc::new(e)))?;
    }
    Ok(())
}

impl Stager {
    fn run(mut self, requests: mpsc::Receiver<Request>, staged: mpsc::SyncSender<Staged>) {
        while let Ok(first) = requests.recv() {
            let mut group = vec![first];
            while group.len() < self.max_group.max(1) {
                match requests.try_recv() {
                    Ok(r) => group.push(r),
                    Err(_) => break,
                }
            }
            let batch = self.stage_group(group);
            if staged.send(batch).is_err() {
                break;
            }
        }
    }

    fn stage_group(&mut self, requests: Vec<Request>) -> Staged {
        self.sequencer.written_through(*self.durable.borrow());
        let recorded_at = self.sequencer.stamp();
        let before = self.sequencer.head();
        // Written without a sync of its own: the committer fsyncs once for every batch it writes.
        let mut batch = self.store.db.batch().durability(None);
        let mut answers = Vec::with_capacity(requests.len());
        for mut request in requests {
            let result = if self.failed.load(Ordering::SeqCst) {
                Err(AppendError::Unavailable(Unavailable::Stopped))
            } else {
                self.sequencer.sequence(&mut request.append, recorded_at).map(|sequenced| {
                    sequencer::stage_into(&self.store, &mut batch, &sequenced);
                    sequenced.appended
                })
            };
            answers.push((request, result));
        }
        let head = self.sequencer.head();
        Staged { head, batch: (head > before).then_some(batch), answers }
    }
}
