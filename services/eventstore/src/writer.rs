//! The writer thread: group commit.
//!
//! It blocks for one append, then takes every other append already waiting (up to `max_group`), checks
//! each against the log and the appends before it in the group, writes the survivors in one fjall batch,
//! fsyncs once, and only then answers them and moves the durable head. A failed write answers the whole
//! group with `Unavailable` and forgets its tentative state, so nothing unacknowledged is assumed.

use std::collections::HashMap;
use std::sync::mpsc;

use events::value::Timestamp;
use events::{Event, SCHEMA_VERSION, StreamId, codec};
use fjall::PersistMode;
use tokio::sync::watch;
use uuid::Uuid;

use crate::keys::{self, Hash};
use crate::{AppendError, Appended, ExpectedVersion, Options, Request, Store};

pub(crate) struct Writer {
    store: Store,
    durable: watch::Sender<u64>,
    options: Options,
    /// Last durable seq and its chain hash.
    head: u64,
    hash: Hash,
    last_recorded: Timestamp,
    /// Stream versions already looked up (durable values only).
    versions: HashMap<StreamId, u64>,
}

/// What one group has written so far, not yet durable.
struct Group {
    head: u64,
    hash: Hash,
    versions: HashMap<StreamId, u64>,
    commands: HashMap<String, (Hash, Vec<Event>)>,
    batch: fjall::OwnedWriteBatch,
    answers: Vec<(Request, Result<Appended, AppendError>)>,
}

impl Writer {
    pub fn new(
        store: Store,
        durable: watch::Sender<u64>,
        options: Options,
        head: u64,
        hash: Hash,
        last_recorded: Timestamp,
    ) -> Self {
        Self { store, durable, options, head, hash, last_recorded, versions: HashMap::new() }
    }

    pub fn run(mut self, requests: mpsc::Receiver<Request>) {
        let (mut groups, mut appends, mut busy) = (0u64, 0u64, std::time::Duration::ZERO);
        while let Ok(first) = requests.recv() {
            let mut group = vec![first];
            while group.len() < self.options.max_group.max(1) {
                match requests.try_recv() {
                    Ok(r) => group.push(r),
                    Err(_) => break,
                }
            }
            groups += 1;
            appends += group.len() as u64;
            let t = std::time::Instant::now();
            self.commit(group);
            busy += t.elapsed();
        }
        if std::env::var_os("P30_DEBUG_GROUPS").is_some() {
            eprintln!("groups {groups} appends {appends} busy {busy:?} per group {:?}", busy / groups.max(1) as u32);
        }
        // Dropping the database persists what it holds; every answered append is already durable.
    }

    fn commit(&mut self, requests: Vec<Request>) {
        let recorded_at = (self.options.clock)().max(self.last_recorded);
        let mut group = Group {
            head: self.head,
            hash: self.hash,
            versions: HashMap::new(),
            commands: HashMap::new(),
            batch: self.store.db.batch().durability(Some(PersistMode::SyncAll)),
            answers: Vec::with_capacity(requests.len()),
        };
        for request in requests {
            let result = self.stage(&mut group, &request, recorded_at);
            group.answers.push((request, result));
        }
        let written = group.head > self.head;
        if written {
            if let Err(e) = group.batch.commit() {
                tracing::error!(error = %e, "the event log could not write");
                let reason = format!("the event log cannot write: {e}");
                for (request, result) in group.answers {
                    let answer = match result {
                        Ok(_) => Err(AppendError::Unavailable(reason.clone())),
                        refused => refused,
                    };
                    let _ = request.reply.send(answer);
                }
                self.versions.clear();
                return;
            }
            self.head = group.head;
            self.hash = group.hash;
            self.last_recorded = recorded_at;
            self.versions.extend(group.versions);
            self.durable.send_replace(self.head);
        }
        for (request, result) in group.answers {
            let _ = request.reply.send(result);
        }
    }

    fn version(&mut self, group: &Group, stream: &StreamId) -> Result<u64, AppendError> {
        if let Some(v) = group.versions.get(stream).or_else(|| self.versions.get(stream)) {
            return Ok(*v);
        }
        let v = self.store.stream_version(stream.as_str()).map_err(|e| AppendError::Unavailable(e.to_string()))?;
        self.versions.insert(stream.clone(), v);
        Ok(v)
    }

    /// Checks one append and adds its events to the group's batch.
    fn stage(&mut self, group: &mut Group, request: &Request, recorded_at: Timestamp) -> Result<Appended, AppendError> {
        let append = &request.append;
        if let Some(id) = &append.command_id {
            if let Some(first) = self.first_attempt(group, id)? {
                let (fingerprint, events) = first;
                return if fingerprint == append.fingerprint {
                    Ok(Appended { events, replayed: true })
                } else {
                    Err(AppendError::CommandIdReused { command_id: id.clone() })
                };
            }
        }
        for (stream, expected) in &append.expected {
            let current = self.version(group, stream)?;
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
                versions.insert(new.stream.clone(), self.version(group, &new.stream)?);
            }
        }
        let mut written = Vec::with_capacity(append.events.len());
        for new in &append.events {
            let version = versions.get(&new.stream).copied().unwrap_or_default() + 1;
            versions.insert(new.stream.clone(), version);
            let event = Event {
                event_id: Uuid::now_v7(),
                seq: group.head + 1,
                stream: new.stream.clone(),
                version,
                schema_version: SCHEMA_VERSION,
                recorded_at,
                effective_on: new.effective_on,
                actor: append.actor.clone(),
                command_id: append.command_id.clone(),
                legal_basis: new.legal_basis.clone(),
                note: new.note.clone(),
                change: new.change.clone(),
            };
            let encoded = codec::encode(&event);
            let hash = keys::chain(&group.hash, &encoded);
            group.batch.insert(&self.store.events, keys::seq_key(event.seq), keys::event_value(&hash, &encoded));
            group.batch.insert(&self.store.streams, keys::stream_key(event.stream.as_str(), version), keys::seq_key(event.seq));
            group.batch.insert(&self.store.heads, event.stream.as_str().as_bytes().to_vec(), version.to_be_bytes());
            group.batch.insert(&self.store.ids, event.event_id.as_bytes().to_vec(), keys::seq_key(event.seq));
            group.head = event.seq;
            group.hash = hash;
            group.versions.insert(event.stream.clone(), version);
            written.push(event);
        }
        if let Some(id) = &append.command_id {
            let count = u32::try_from(written.len()).unwrap_or(u32::MAX);
            group.batch.insert(
                &self.store.commands,
                id.as_bytes().to_vec(),
                keys::command_value(&append.fingerprint, written[0].seq, count),
            );
            group.commands.insert(id.clone(), (append.fingerprint, written.clone()));
        }
        Ok(Appended { events: written, replayed: false })
    }

    /// The fingerprint and events of an earlier attempt with this command id, in this group or durable.
    fn first_attempt(&self, group: &Group, id: &str) -> Result<Option<(Hash, Vec<Event>)>, AppendError> {
        if let Some((fingerprint, events)) = group.commands.get(id) {
            return Ok(Some((*fingerprint, events.clone())));
        }
        let unavailable = |e: String| AppendError::Unavailable(e);
        let Some(v) = self.store.commands.get(id.as_bytes()).map_err(|e| unavailable(e.to_string()))? else {
            return Ok(None);
        };
        let (fingerprint, first, count) =
            keys::parse_command_value(&v).ok_or_else(|| unavailable("corrupt command index".into()))?;
        let mut events = Vec::with_capacity(count as usize);
        for seq in first..first + u64::from(count) {
            let event = self
                .store
                .read_event(seq)
                .map_err(|e| unavailable(e.to_string()))?
                .ok_or_else(|| unavailable(format!("command index names missing event {seq}")))?;
            events.push(event);
        }
        Ok(Some((fingerprint, events)))
    }
}
