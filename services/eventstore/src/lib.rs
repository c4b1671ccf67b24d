//! The p30 event log: the source of truth, an append-only sequence of events in fjall.
//!
//! - Global `seq` gap-free from 1, per-stream `version` from 1, event ids UUID v7 that embed the seq.
//! - Appends touch one or several streams atomically, each with an expected version.
//! - A command id makes a retry answer as the first attempt did and write nothing.
//! - Group commit: every append that is waiting goes into one batch and one fsync; each append is
//!   acknowledged only after that fsync (see `writer`).
//! - Tamper evidence: every event carries a hash chained over all before it (`verify`).
//! - Readers see only what is durable: reads stop at the durable head, and a watch wakes live tails.
//! - Streams read recently stay decoded in memory, kept exact by the committer (see `cache`).

mod cache;
mod error;
mod follow;
mod keys;
mod sequencer;
mod verify;
mod writer;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, mpsc};
use std::thread::JoinHandle;

use events::{Event, NewEvent, StreamId, codec, value::Timestamp};
use fjall::{Database, Keyspace, KeyspaceCreateOptions};
use tokio::sync::{oneshot, watch};
use uuid::Uuid;

pub use cache::StreamEvents;
pub use error::{AppendError, OpenError, ReadError, Unavailable};
pub use follow::{ApplyError, COMMIT_FORMAT, Commit, CommittedCommand, StoredEvent};
pub use keys::Hash;
pub use sequencer::{SequencedAppend, Sequencer, Stored};
pub use verify::{VerifyError, VerifyReport, verify};

/// What an append expects of a stream's version before it writes.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ExpectedVersion {
    /// Whatever the stream holds.
    Any,
    /// The stream has no events yet.
    NoStream,
    /// The stream's last event has exactly this version.
    Exactly(u64),
}

/// A request to append the events of one command.
#[derive(Clone, Debug)]
pub struct Append {
    pub events: Vec<NewEvent>,
    /// Expected versions; streams not named here are written whatever their version.
    pub expected: Vec<(StreamId, ExpectedVersion)>,
    pub actor: String,
    /// The client's idempotency key.
    pub command_id: Option<String>,
    /// A digest of what the command asks for: a retry with the same command id must match it.
    pub fingerprint: Hash,
}

/// The events an append wrote, or, for a repeated command id, the events its first attempt wrote.
#[derive(Clone, Debug)]
pub struct Appended {
    pub events: Vec<Event>,
    /// True when the command id had been seen and nothing was written.
    pub replayed: bool,
}

/// Where time comes from: the log stamps `recorded_at` itself, never earlier than the event before.
pub type Clock = Arc<dyn Fn() -> Timestamp + Send + Sync>;

/// How the log is opened.
#[derive(Clone)]
pub struct Options {
    /// The most appends one fsync may acknowledge; 1 turns group commit off (one fsync per append).
    pub max_group: usize,
    pub clock: Clock,
    /// The most events the cache of decoded streams holds (0: none; every stream read goes to disk).
    /// A decoded event takes roughly half a kilobyte, so the default holds up to ~100 MB.
    pub stream_cache_events: usize,
}

impl Default for Options {
    fn default() -> Self {
        Self { max_group: 4096, clock: Arc::new(system_clock), stream_cache_events: 200_000 }
    }
}

impl std::fmt::Debug for Options {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Options")
            .field("max_group", &self.max_group)
            .field("stream_cache_events", &self.stream_cache_events)
            .finish_non_exhaustive()
    }
}

/// The wall clock, in microseconds.
pub fn system_clock() -> Timestamp {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    Timestamp::from_micros(i64::try_from(now.as_micros()).unwrap_or(i64::MAX))
}

/// The keyspaces of one open log.
#[derive(Clone)]
pub(crate) struct Store {
    pub db: Database,
    pub events: Keyspace,
    pub streams: Keyspace,
    pub heads: Keyspace,
    pub commands: Keyspace,
    /// A follower copy's position in the cluster's log (see `follow`); empty on a single machine.
    pub follow: Keyspace,
}

impl Store {
    pub fn open(dir: &Path) -> Result<Self, OpenError> {
        let db = Database::builder(dir).open().map_err(|e| OpenError::from_fjall(dir, e))?;
        let ks = |name| db.keyspace(name, KeyspaceCreateOptions::default).map_err(|e| OpenError::from_fjall(dir, e));
        Ok(Self {
            events: ks(keys::EVENTS)?,
            streams: ks(keys::STREAMS)?,
            heads: ks(keys::HEADS)?,
            commands: ks(keys::COMMANDS)?,
            follow: ks(keys::FOLLOW)?,
            db,
        })
    }

    /// The last event's seq and chain hash, from disk.
    pub fn tail(&self) -> Result<(u64, Hash), ReadError> {
        let Some(guard) = self.events.last_key_value() else { return Ok((0, [0; 32])) };
        let (k, v) = guard.into_inner()?;
        let seq = keys::read_u64(&k).ok_or(ReadError::Corrupt { seq: 0, problem: "bad key".into() })?;
        let (hash, _) =
            keys::split_event_value(&v).ok_or(ReadError::Corrupt { seq, problem: "value too short".into() })?;
        Ok((seq, hash))
    }

    /// The position in the cluster's log a follower copy has applied, if this is one.
    pub fn follow_position(&self) -> Result<Option<u64>, ReadError> {
        Ok(self.follow.get(follow::POSITION_KEY)?.as_deref().and_then(keys::read_u64))
    }

    pub fn read_event(&self, seq: u64) -> Result<Option<Event>, ReadError> {
        let Some(v) = self.events.get(keys::seq_key(seq))? else { return Ok(None) };
        decode_value(seq, &v).map(Some)
    }

    /// A stream's last version, from `heads` (a point lookup: a new stream is a bloom-filter miss).
    pub fn stream_version(&self, stream: &str) -> Result<u64, ReadError> {
        Ok(self.heads.get(stream.as_bytes())?.as_deref().and_then(keys::read_u64).unwrap_or(0))
    }
}

fn decode_value(seq: u64, v: &[u8]) -> Result<Event, ReadError> {
    let (_, encoded) =
        keys::split_event_value(v).ok_or(ReadError::Corrupt { seq, problem: "value too short".into() })?;
    codec::decode(encoded).map_err(|e| ReadError::Corrupt { seq, problem: e.to_string() })
}

/// A request travelling to the writer thread.
pub(crate) struct Request {
    pub append: Append,
    pub reply: oneshot::Sender<Result<Appended, AppendError>>,
}

/// Where a follower copy stands: the last message applied and the log's tail after it.
#[derive(Clone, Copy, Debug)]
struct Followed {
    position: u64,
    head: u64,
    hash: Hash,
    last_recorded: Timestamp,
}

struct Shared {
    store: Store,
    clock: Clock,
    /// Some for a follower copy, which takes events only from `apply` (and applies one message at a time).
    followed: Option<Mutex<Followed>>,
    cache: Arc<Mutex<cache::StreamCache>>,
    path: PathBuf,
    durable: watch::Sender<u64>,
    requests: Mutex<Option<mpsc::Sender<Request>>>,
    writer: Mutex<Option<JoinHandle<()>>>,
}

/// An open event log. Cheap to clone; the writer thread stops when the last clone is closed or dropped.
#[derive(Clone)]
pub struct Log {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for Log {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Log").field("path", &self.shared.path).field("head", &self.head()).finish()
    }
}

impl Log {
    /// Opens (or creates) the log in `dir`, recovering whatever the last process left durable. A
    /// follower copy opens too, for reading; it refuses appends (they go to the cluster).
    pub fn open(dir: impl AsRef<Path>, options: Options) -> Result<Self, OpenError> {
        Self::open_as(dir.as_ref(), options, false)
    }

    /// Opens (or creates, in an empty dir) a follower copy of a cluster's log; a data dir holding a
    /// single machine's log is refused.
    pub fn open_follower(dir: impl AsRef<Path>, options: Options) -> Result<Self, OpenError> {
        Self::open_as(dir.as_ref(), options, true)
    }

    fn open_as(dir: &Path, options: Options, follower: bool) -> Result<Self, OpenError> {
        std::fs::create_dir_all(dir).map_err(|e| OpenError::Io { path: dir.to_owned(), source: e })?;
        let store = Store::open(dir)?;
        let (head, hash) = store.tail().map_err(OpenError::Read)?;
        let last_recorded = match store.read_event(head).map_err(OpenError::Read)? {
            Some(e) => e.recorded_at,
            None => Timestamp::default(),
        };
        let mut position = store.follow_position().map_err(OpenError::Read)?;
        if follower && position.is_none() {
            if head > 0 {
                return Err(OpenError::NotAFollower { path: dir.to_owned() });
            }
            store.follow.insert(follow::POSITION_KEY, 0u64.to_be_bytes()).map_err(|e| OpenError::from_fjall(dir, e))?;
            store.db.persist(fjall::PersistMode::SyncAll).map_err(|e| OpenError::from_fjall(dir, e))?;
            position = Some(0);
        }
        let (durable, _) = watch::channel(head);
        let cache = Arc::new(Mutex::new(cache::StreamCache::new(head, options.stream_cache_events)));
        let clock = options.clock.clone();
        let (requests, writer) = match position {
            Some(_) => (None, None),
            None => {
                let (tx, rx) = mpsc::channel();
                let handle = writer::start(writer::Start {
                    store: store.clone(),
                    cache: cache.clone(),
                    durable: durable.clone(),
                    options,
                    head,
                    hash,
                    last_recorded,
                    requests: rx,
                })
                .map_err(|e| OpenError::Io { path: dir.to_owned(), source: e })?;
                (Some(tx), Some(handle))
            }
        };
        let followed = position.map(|position| Mutex::new(Followed { position, head, hash, last_recorded }));
        Ok(Self {
            shared: Arc::new(Shared {
                store,
                clock,
                followed,
                cache,
                path: dir.to_owned(),
                durable,
                requests: Mutex::new(requests),
                writer: Mutex::new(writer),
            }),
        })
    }

    /// True for a follower copy of a cluster's log.
    pub fn is_follower(&self) -> bool {
        self.shared.followed.is_some()
    }

    /// A follower copy's position in the cluster's log: the last message applied (0 for none).
    pub fn follow_position(&self) -> Option<u64> {
        self.followed().map(|f| f.position)
    }

    fn followed(&self) -> Option<Followed> {
        self.shared.followed.as_ref().map(|f| *f.lock().unwrap_or_else(|p| p.into_inner()))
    }

    /// The last event's seq and chain hash.
    pub fn tail(&self) -> Result<(u64, Hash), ReadError> {
        if let Some(f) = self.followed() {
            return Ok((f.head, f.hash));
        }
        self.shared.store.tail()
    }

    /// For a follower copy: its position in the cluster's log and a sequencer that continues the log
    /// from there (what a node's writer decides new appends with).
    pub fn sequencer(&self) -> Option<(u64, Sequencer)> {
        let f = self.followed()?;
        let sequencer =
            Sequencer::new(self.shared.store.clone(), self.shared.clock.clone(), f.head, f.hash, f.last_recorded);
        Some((f.position, sequencer))
    }

    /// Applies message `position` of the cluster's log to a follower copy: checks that every event
    /// continues the chain, the seqs and its stream's versions, writes them with their stream index
    /// and commands and the new position in one batch, then moves the head. Returns the new head.
    pub fn apply(&self, position: u64, commit: &Commit) -> Result<u64, ApplyError> {
        let followed = self.shared.followed.as_ref().ok_or(ApplyError::NotAFollower)?;
        let mut followed = followed.lock().unwrap_or_else(|p| p.into_inner());
        let diverged = |problem: String| ApplyError::Diverged { position, problem };
        if position != followed.position + 1 {
            return Err(diverged(format!("this copy has applied message {}", followed.position)));
        }
        let store = &self.shared.store;
        let mut batch = store.db.batch().durability(Some(fjall::PersistMode::Buffer));
        let (mut head, mut hash, mut last_recorded) = (followed.head, followed.hash, followed.last_recorded);
        let mut versions: std::collections::HashMap<String, u64> = Default::default();
        let mut written = Vec::with_capacity(commit.events());
        for command in &commit.commands {
            let first = head + 1;
            for stored in &command.events {
                let event = codec::decode(&stored.encoded)
                    .map_err(|e| ApplyError::Malformed { position, problem: e.to_string() })?;
                if event.seq != head + 1 {
                    return Err(diverged(format!("event {} follows event {head}", event.seq)));
                }
                if keys::chain(&hash, &stored.encoded) != stored.hash {
                    return Err(diverged(format!("event {} does not continue the hash chain", event.seq)));
                }
                let name = event.stream.name();
                let version = match versions.get(&name) {
                    Some(v) => *v,
                    None => store.stream_version(&name)?,
                };
                if event.version != version + 1 {
                    return Err(diverged(format!(
                        "event {} is version {} of {name}, at {version}",
                        event.seq, event.version
                    )));
                }
                versions.insert(name, event.version);
                sequencer::stage_event(store, &mut batch, &event, &stored.as_stored());
                (head, hash, last_recorded) = (event.seq, stored.hash, event.recorded_at);
                written.push(event);
            }
            if let Some(id) = &command.command_id
                && head >= first
            {
                let count = u32::try_from(head - first + 1).unwrap_or(u32::MAX);
                batch.insert(
                    &store.commands,
                    id.as_bytes().to_vec(),
                    keys::command_value(&command.fingerprint, first, count),
                );
            }
        }
        batch.insert(&store.follow, follow::POSITION_KEY, position.to_be_bytes());
        batch.commit().map_err(ApplyError::Write)?;
        *followed = Followed { position, head, hash, last_recorded };
        self.cache().committed(&written, head);
        self.shared.durable.send_replace(head);
        Ok(head)
    }

    pub fn path(&self) -> &Path {
        &self.shared.path
    }

    fn send(&self, append: Append) -> Result<oneshot::Receiver<Result<Appended, AppendError>>, AppendError> {
        if append.events.is_empty() {
            return Err(AppendError::Empty);
        }
        if self.is_follower() {
            return Err(AppendError::Unavailable(Unavailable::FollowerCopy));
        }
        let (reply, rx) = oneshot::channel();
        let guard = self.shared.requests.lock().unwrap_or_else(|p| p.into_inner());
        let sender = guard.as_ref().ok_or(AppendError::Closed)?;
        sender.send(Request { append, reply }).map_err(|_| AppendError::Closed)?;
        Ok(rx)
    }

    /// Appends from a thread that may block. Returns once the events are durable.
    pub fn append(&self, append: Append) -> Result<Appended, AppendError> {
        self.send(append)?.blocking_recv().map_err(|_| AppendError::Closed)?
    }

    /// Appends from async code. Returns once the events are durable.
    pub async fn append_async(&self, append: Append) -> Result<Appended, AppendError> {
        self.send(append)?.await.map_err(|_| AppendError::Closed)?
    }

    /// The seq of the last durable event (0 for an empty log).
    pub fn head(&self) -> u64 {
        *self.shared.durable.borrow()
    }

    /// A watch of the durable head: it changes after every commit, so live tails wait without polling.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.shared.durable.subscribe()
    }

    /// Up to `limit` durable events after `after`, in seq order.
    pub fn read_after(&self, after: u64, limit: usize) -> Result<Vec<Event>, ReadError> {
        let head = self.head();
        if after >= head || limit == 0 {
            return Ok(Vec::new());
        }
        let end = head.min(after.saturating_add(limit as u64));
        let mut out = Vec::with_capacity((end - after) as usize);
        for guard in self.shared.store.events.range(keys::seq_key(after + 1)..=keys::seq_key(end)) {
            let (k, v) = guard.into_inner()?;
            let seq = keys::read_u64(&k).unwrap_or(0);
            out.push(decode_value(seq, &v)?);
        }
        Ok(out)
    }

    /// Calls `visit` with the stored bytes of every durable event after `after` (no decoding): the raw
    /// scan that rebuild speed is measured against, and the input of parallel decoders.
    pub fn scan_raw(&self, after: u64, mut visit: impl FnMut(u64, &[u8])) -> Result<u64, ReadError> {
        let head = self.head();
        let mut n = 0;
        if after >= head {
            return Ok(0);
        }
        for guard in self.shared.store.events.range(keys::seq_key(after + 1)..=keys::seq_key(head)) {
            let (k, v) = guard.into_inner()?;
            let seq = keys::read_u64(&k).unwrap_or(0);
            let (_, encoded) =
                keys::split_event_value(&v).ok_or(ReadError::Corrupt { seq, problem: "value too short".into() })?;
            visit(seq, encoded);
            n += 1;
        }
        Ok(n)
    }

    /// Every stream with the version of its last event, in name order: how many events each holds, which
    /// a rebuild uses to give each procedure its room at once. Versions committed while this runs may or
    /// may not be seen; none is above the durable head (no stream holds more events than the log), so a
    /// damaged head cannot make a rebuild reserve room for more.
    pub fn stream_versions(&self) -> Result<Vec<(String, u64)>, ReadError> {
        let head = self.head();
        let mut out = Vec::new();
        for guard in self.shared.store.heads.iter() {
            let (k, v) = guard.into_inner()?;
            let (Ok(stream), Some(version)) = (std::str::from_utf8(&k), keys::read_u64(&v)) else {
                return Err(ReadError::Corrupt { seq: 0, problem: "bad stream head".into() });
            };
            out.push((stream.to_owned(), version.min(head)));
        }
        Ok(out)
    }

    /// Every durable event of a stream, in version order: from the cache of decoded streams, or read
    /// from disk (and then kept there).
    pub fn read_stream(&self, stream: &StreamId) -> Result<StreamEvents, ReadError> {
        let head = self.head();
        if let Some(events) = self.cache().get(stream, head) {
            return Ok(events);
        }
        let events = Arc::new(self.read_stream_from_disk(stream, head)?);
        self.cache().put(stream, &events, head);
        Ok(events)
    }

    fn cache(&self) -> std::sync::MutexGuard<'_, cache::StreamCache> {
        self.shared.cache.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn read_stream_from_disk(&self, stream: &StreamId, head: u64) -> Result<Vec<Event>, ReadError> {
        let mut out = Vec::new();
        for guard in self.shared.store.streams.prefix(keys::stream_prefix(&stream.name())) {
            let v = guard.value()?;
            let seq = keys::read_u64(&v).ok_or(ReadError::Corrupt { seq: 0, problem: "bad stream index".into() })?;
            if seq > head {
                break;
            }
            let event = self
                .shared
                .store
                .read_event(seq)?
                .ok_or(ReadError::Corrupt { seq, problem: "indexed but missing".into() })?;
            out.push(event);
        }
        Ok(out)
    }

    /// The version of a stream's last durable event (0 for none).
    pub fn stream_version(&self, stream: &StreamId) -> Result<u64, ReadError> {
        let head = self.head();
        let mut version = 0;
        for guard in self.shared.store.streams.prefix(keys::stream_prefix(&stream.name())).rev() {
            let (k, v) = guard.into_inner()?;
            if keys::read_u64(&v).is_some_and(|seq| seq <= head) {
                version = keys::parse_stream_key(&k).map(|(_, v)| v).unwrap_or(0);
                break;
            }
        }
        Ok(version)
    }

    /// The durable event with this id, if any.
    pub fn find(&self, event_id: Uuid) -> Result<Option<Event>, ReadError> {
        let seq = keys::seq_of(&event_id);
        if seq == 0 || seq > self.head() {
            return Ok(None);
        }
        Ok(self.shared.store.read_event(seq)?.filter(|e| e.event_id == event_id))
    }

    /// The fingerprint and events of a durable command with this id, if one was appended: callers check
    /// it before deciding, so a retry answers as the first attempt did even when deciding again would
    /// refuse (the code is taken by then). The writer checks again, for retries racing the first attempt.
    pub fn command(&self, command_id: &str) -> Result<Option<(Hash, Vec<Event>)>, ReadError> {
        let Some(v) = self.shared.store.commands.get(command_id.as_bytes())? else { return Ok(None) };
        let corrupt = |problem: &str| ReadError::Corrupt { seq: 0, problem: problem.into() };
        let (fingerprint, first, count) = keys::parse_command_value(&v).ok_or_else(|| corrupt("bad command index"))?;
        if first + u64::from(count) - 1 > self.head() {
            return Ok(None);
        }
        let mut events = Vec::with_capacity(count as usize);
        for seq in first..first + u64::from(count) {
            events.push(self.shared.store.read_event(seq)?.ok_or_else(|| corrupt("command names a missing event"))?);
        }
        Ok(Some((fingerprint, events)))
    }

    /// Stops the writer after the appends already sent, and waits for it.
    pub fn close(&self) {
        self.shared.requests.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(handle) = self.shared.writer.lock().unwrap_or_else(|p| p.into_inner()).take() {
            let _ = handle.join();
        }
    }
}

impl Drop for Shared {
    fn drop(&mut self) {
        self.requests.get_mut().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(handle) = self.writer.get_mut().unwrap_or_else(|p| p.into_inner()).take() {
            let _ = handle.join();
        }
    }
}
