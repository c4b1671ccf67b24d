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

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, mpsc};

use events::value::Timestamp;
use events::{Event, SCHEMA_VERSION, StreamId, codec};
use fjall::PersistMode;
use tokio::sync::watch;

use crate::cache::StreamCache;
use crate::keys::{self, Hash};
use crate::{AppendError, Appended, ExpectedVersion, Options, Request, Store, Unavailable};

/// A group checked and encoded, waiting for its fsync.
struct Staged {
    /// The seq of the group's last event (equal to the previous head if it wrote nothing).
    head: u64,
    batch: Option<fjall::OwnedWriteBatch>,
    answers: Vec<(Request, Result<Appended, AppendError>)>,
}

pub(crate) struct Stager {
    store: Store,
    options: Options,
    failed: Arc<AtomicBool>,
    durable: watch::Receiver<u64>,
    /// Last staged seq and its chain hash.
    head: u64,
    hash: Hash,
    last_recorded: Timestamp,
    /// Stream versions as of the last staged event.
    versions: HashMap<StreamId, u64>,
    /// Commands staged but perhaps not yet durable, so not yet in the `commands` keyspace.
    in_flight: HashMap<String, (Hash, Vec<Event>)>,
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
        store,
        options,
        failed: failed.clone(),
        durable: durable.subscribe(),
        head,
        hash,
        last_recorded,
        versions: HashMap::new(),
        in_flight: HashMap::new(),
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
            while group.len() < self.options.max_group.max(1) {
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
        let durable = *self.durable.borrow();
        self.in_flight.retain(|_, (_, events)| events.last().is_some_and(|e| e.seq > durable));
        let recorded_at = (self.options.clock)().max(self.last_recorded);
        self.last_recorded = recorded_at;
        let before = self.head;
        // Written without a sync of its own: the committer fsyncs once for every batch it writes.
        let mut batch = self.store.db.batch().durability(None);
        let mut answers = Vec::with_capacity(requests.len());
        for mut request in requests {
            let result = if self.failed.load(Ordering::SeqCst) {
                Err(AppendError::Unavailable(Unavailable::Stopped))
            } else {
                self.stage(&mut batch, &mut request, recorded_at)
            };
            answers.push((request, result));
        }
        Staged { head: self.head, batch: (self.head > before).then_some(batch), answers }
    }

    fn version(&mut self, stream: &StreamId) -> Result<u64, AppendError> {
        if let Some(v) = self.versions.get(stream) {
            return Ok(*v);
        }
        let v = self.store.stream_version(&stream.name()).map_err(Unavailable::from)?;
        self.versions.insert(stream.clone(), v);
        Ok(v)
    }

    /// Checks one append and adds its events to the batch.
    fn stage(
        &mut self,
        batch: &mut fjall::OwnedWriteBatch,
        request: &mut Request,
        recorded_at: Timestamp,
    ) -> Result<Appended, AppendError> {
        let append = &mut request.append;
        if let Some(id) = &append.command_id
            && let Some((fingerprint, events)) = self.first_attempt(id)?
        {
            return if fingerprint == append.fingerprint {
                Ok(Appended { events, replayed: true })
            } else {
                Err(AppendError::CommandIdReused { command_id: id.clone() })
            };
        }
        for (stream, expected) in &append.expected {
            let current = self.version(stream)?;
            let ok = match expected {
                ExpectedVersion::Any => true,
                ExpectedVersion::NoStream => current == 0,
                ExpectedVersion::Exactly(v) => current == *v,
            };
            if !ok {
                return Err(AppendError::Conflict { stream: stream.clone(), expected: *expected, current });
            }
        }
        // Look every version up before staging anything, so a failed lookup leaves the batch untouched.
        let mut versions = HashMap::new();
        for new in &append.events {
            if !versions.contains_key(&new.stream) {
                versions.insert(new.stream.clone(), self.version(&new.stream)?);
            }
        }
        let mut written = Vec::with_capacity(append.events.len());
        // The events move into the log; the request keeps only what identifies it.
        for new in std::mem::take(&mut append.events) {
            let version = versions.get(&new.stream).copied().unwrap_or_default() + 1;
            versions.insert(new.stream.clone(), version);
            let seq = self.head + 1;
            let event = Event {
                event_id: keys::event_id(seq, recorded_at),
                seq,
                stream: new.stream,
                version,
                schema_version: SCHEMA_VERSION,
                recorded_at,
                effective_on: new.effective_on,
                actor: append.actor.clone(),
                command_id: append.command_id.clone(),
                legal_basis: new.legal_basis,
                note: new.note,
                change: new.change,
            };
            let encoded = codec::encode(&event);
            let hash = keys::chain(&self.hash, &encoded);
            let stream = event.stream.name();
            batch.insert(&self.store.events, keys::seq_key(seq), keys::event_value(&hash, &encoded));
            batch.insert(&self.store.streams, keys::stream_key(&stream, version), keys::seq_key(seq));
            batch.insert(&self.store.heads, stream.as_bytes().to_vec(), version.to_be_bytes());
            self.head = seq;
            self.hash = hash;
            written.push(event);
        }
        self.versions.extend(versions);
        if let Some(id) = &append.command_id {
            let count = u32::try_from(written.len()).unwrap_or(u32::MAX);
            let value = keys::command_value(&append.fingerprint, written[0].seq, count);
            batch.insert(&self.store.commands, id.as_bytes().to_vec(), value);
            self.in_flight.insert(id.clone(), (append.fingerprint, written.clone()));
        }
        Ok(Appended { events: written, replayed: false })
    }

    /// The fingerprint and events of an earlier attempt with this command id, staged or durable.
    fn first_attempt(&self, id: &str) -> Result<Option<(Hash, Vec<Event>)>, AppendError> {
        if let Some((fingerprint, events)) = self.in_flight.get(id) {
            return Ok(Some((*fingerprint, events.clone())));
        }
        let corrupt = || Unavailable::CorruptCommandIndex { command_id: id.to_owned() };
        let Some(v) = self.store.commands.get(id.as_bytes()).map_err(Unavailable::from)? else {
            return Ok(None);
        };
        let (fingerprint, first, count) = keys::parse_command_value(&v).ok_or_else(corrupt)?;
        let mut events = Vec::with_capacity(count as usize);
        for seq in first..first + u64::from(count) {
            let event = self.store.read_event(seq).map_err(Unavailable::from)?.ok_or_else(corrupt)?;
            events.push(event);
        }
        Ok(Some((fingerprint, events)))
    }
}
