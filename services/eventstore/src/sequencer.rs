//! Where an append goes: checked against the log and the appends sequenced before it (expected
//! versions, command ids), then its events numbered, stamped and chained — the same rule whether the
//! events are then written to this machine's fjall log (`writer`) or published to a cluster's log.
//!
//! A sequencer assumes that everything it sequenced will be written, in order. Whoever writes its
//! output and fails must throw the sequencer away and start a new one from the log ([`crate::Log::sequencer`]).

use std::collections::HashMap;

use events::value::Timestamp;
use events::{Event, SCHEMA_VERSION, StreamId, codec};

use crate::keys::{self, Hash};
use crate::{Append, AppendError, Appended, Clock, ExpectedVersion, Store, Unavailable};

/// One event as the log stores it: its chain hash and its encoded bytes.
#[derive(Clone, Debug)]
pub struct Stored {
    pub hash: Hash,
    pub encoded: Vec<u8>,
}

/// What one append became: its events, as answered and as stored, and the command id they record.
#[derive(Clone, Debug)]
pub struct SequencedAppend {
    pub appended: Appended,
    /// What the log stores of each of `appended.events`, in the same order (none for a replay).
    pub stored: Vec<Stored>,
    /// The command id and fingerprint to index, for a new command with an id.
    pub command: Option<(String, Hash)>,
}

/// Checks and numbers appends, one after another, from a position of the log.
pub struct Sequencer {
    store: Store,
    clock: Clock,
    /// Last sequenced seq and its chain hash.
    head: u64,
    hash: Hash,
    last_recorded: Timestamp,
    /// Stream versions as of the last sequenced event.
    versions: HashMap<StreamId, u64>,
    /// Commands sequenced but perhaps not yet written, so not yet in the `commands` keyspace.
    in_flight: HashMap<String, (Hash, Vec<Event>)>,
}

impl std::fmt::Debug for Sequencer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sequencer").field("head", &self.head).finish_non_exhaustive()
    }
}

impl Sequencer {
    /// A sequencer that continues the log after `head` (whose chain hash is `hash`).
    pub(crate) fn new(store: Store, clock: Clock, head: u64, hash: Hash, last_recorded: Timestamp) -> Self {
        Self { store, clock, head, hash, last_recorded, versions: HashMap::new(), in_flight: HashMap::new() }
    }

    /// The seq of the last event sequenced.
    pub fn head(&self) -> u64 {
        self.head
    }

    /// The `recorded_at` of the next group: the clock, never earlier than the last event's.
    pub fn stamp(&mut self) -> Timestamp {
        let recorded_at = (self.clock)().max(self.last_recorded);
        self.last_recorded = recorded_at;
        recorded_at
    }

    /// Forgets the commands written up to `durable` (the `commands` keyspace answers for them now).
    pub fn written_through(&mut self, durable: u64) {
        self.in_flight.retain(|_, (_, events)| events.last().is_some_and(|e| e.seq > durable));
    }

    fn version(&mut self, stream: &StreamId) -> Result<u64, AppendError> {
        if let Some(v) = self.versions.get(stream) {
            return Ok(*v);
        }
        let v = self.store.stream_version(&stream.name()).map_err(Unavailable::from)?;
        self.versions.insert(stream.clone(), v);
        Ok(v)
    }

    /// Checks one append and numbers its events; the events move out of `append`.
    pub fn sequence(&mut self, append: &mut Append, recorded_at: Timestamp) -> Result<SequencedAppend, AppendError> {
        if let Some(id) = &append.command_id
            && let Some((fingerprint, events)) = self.first_attempt(id)?
        {
            return if fingerprint == append.fingerprint {
                Ok(SequencedAppend { appended: Appended { events, replayed: true }, stored: Vec::new(), command: None })
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
        // Look every version up before numbering anything, so a failed lookup leaves the state untouched.
        let mut versions = HashMap::new();
        for new in &append.events {
            if !versions.contains_key(&new.stream) {
                versions.insert(new.stream.clone(), self.version(&new.stream)?);
            }
        }
        let mut stored = Vec::with_capacity(append.events.len());
        let mut events = Vec::with_capacity(append.events.len());
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
            self.head = seq;
            self.hash = hash;
            stored.push(Stored { hash, encoded });
            events.push(event);
        }
        self.versions.extend(versions);
        let command = append.command_id.clone().map(|id| {
            self.in_flight.insert(id.clone(), (append.fingerprint, events.clone()));
            (id, append.fingerprint)
        });
        Ok(SequencedAppend { appended: Appended { events, replayed: false }, stored, command })
    }

    /// The fingerprint and events of an earlier attempt with this command id, sequenced or written.
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

/// Adds one sequenced append to a fjall batch: its events, their stream index and heads, its command.
pub(crate) fn stage_into(store: &Store, batch: &mut fjall::OwnedWriteBatch, sequenced: &SequencedAppend) {
    let events = &sequenced.appended.events;
    for (event, s) in events.iter().zip(&sequenced.stored) {
        stage_event(store, batch, event, s);
    }
    if let (Some((id, fingerprint)), Some(first)) = (&sequenced.command, events.first()) {
        let count = u32::try_from(events.len()).unwrap_or(u32::MAX);
        batch.insert(&store.commands, id.as_bytes().to_vec(), keys::command_value(fingerprint, first.seq, count));
    }
}

/// Adds one event to a fjall batch: the event, its stream index entry and its stream's head.
pub(crate) fn stage_event(store: &Store, batch: &mut fjall::OwnedWriteBatch, event: &Event, stored: &Stored) {
    let stream = event.stream.name();
    batch.insert(&store.events, keys::seq_key(event.seq), keys::event_value(&stored.hash, &stored.encoded));
    batch.insert(&store.streams, keys::stream_key(&stream, event.version), keys::seq_key(event.seq));
    batch.insert(&store.heads, stream.as_bytes().to_vec(), event.version.to_be_bytes());
}
