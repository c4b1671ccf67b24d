//! The live side of the server: the projector follows the log into the in-memory projection, and
//! every event becomes one prepared message (the event plus the read-model rows it changed as of
//! today) on a broadcast feed for SSE subscribers and NATS.
//!
//! Subscribers never hold more than a bounded channel of messages: one that falls behind the feed
//! reads the missed events from the log instead, so a slow client costs no memory.

use std::collections::BTreeSet;
use std::sync::{Arc, RwLock};

use events::value::{Date, ProcedureCode, Timestamp};
use events::{Change, Event};
use eventstore::Log;
use projections::{Changed, GroupBy, LiveFigures, Moment, Projection, ToFold};
use serde_json::{Value, json};
use tokio::sync::{broadcast, watch};

/// One SSE message, prepared once for every subscriber.
#[derive(Debug)]
pub struct Message {
    pub seq: u64,
    pub event_type: &'static str,
    /// The whole SSE frame, `id: {seq}\nevent: {type}\ndata: {the event's JSON with changes}\n\n`, written
    /// once and shared by every subscriber's connection (the JSON is compact, so it is one `data` line).
    pub frame: bytes::Bytes,
    /// The read-model rows it changed: `{"name", "key", "value"}` (also what goes to NATS).
    pub changes: Vec<Value>,
}

/// The projection and its feed, shared by the handlers.
#[derive(Clone)]
pub struct Live {
    pub projection: Arc<RwLock<Projection>>,
    /// The seq the projection has reached.
    pub projected: watch::Receiver<u64>,
    pub feed: broadcast::Sender<Arc<Message>>,
    /// The reductions and programmes as of today, kept up to date event by event by the projector
    /// (under the projection's write lock, so a reader of the projection sees them agree).
    figures: Arc<std::sync::Mutex<LiveFigures>>,
    /// Reductions asked about since the last event, for questions known at or after it (their answers
    /// cannot change until the next event).
    reductions: Arc<std::sync::Mutex<ReductionsCache>>,
    /// `recorded_at` (µs) of the last event in the projection.
    last_recorded: Arc<std::sync::atomic::AtomicI64>,
}

type ReductionsCache = std::collections::HashMap<(&'static str, Date, Option<Date>), Arc<CachedReductions>>;

/// A reductions answer, with its unchanging parts already serialised.
#[derive(Debug)]
pub struct CachedReductions {
    pub reductions: projections::Reductions,
    tariffs_json: String,
    groups_json: String,
}

impl CachedReductions {
    fn new(reductions: projections::Reductions) -> Self {
        let tariffs_json = serde_json::to_string(&reductions.tariffs).unwrap_or_else(|_| "null".into());
        let groups_json = serde_json::to_string(&reductions.groups).unwrap_or_else(|_| "[]".into());
        Self { reductions, tariffs_json, groups_json }
    }

    /// The JSON answer as known at `known_at`, in SPEC's field order.
    pub fn json(&self, known_at: Timestamp) -> String {
        let r = &self.reductions;
        format!(
            r#"{{"as_of":"{}","known_at":"{}","baseline_on":"{}","group_by":"{}","tariffs":{},"groups":{}}}"#,
            r.as_of,
            known_at,
            r.baseline_on,
            r.group_by.as_str(),
            self.tariffs_json,
            self.groups_json
        )
    }
}

impl std::fmt::Debug for Live {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Live").field("projected", &*self.projected.borrow()).finish_non_exhaustive()
    }
}

/// Now, as the projection's questions take it: today in Vietnam, known now.
pub fn now() -> Moment {
    let t = eventstore::system_clock();
    Moment::new(t.date_in_vietnam(), t)
}

/// Everything in the log, folded from scratch (the rebuild at start): decoded in parallel, folded in order.
pub fn rebuild(log: &Log) -> anyhow::Result<Projection> {
    let mut projection = rebuild_parallel(log, default_decoders())?;
    projection.set_query_threads(default_decoders());
    Ok(projection)
}

/// Decoder threads for a rebuild: one per core. The scan and the fold take a thread each as well; on two
/// cores 1, 2 and 3 decoders rebuilt 10 M events equally fast, since the fold is the slowest stage.
pub fn default_decoders() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
}

/// The plain rebuild, all on the calling thread: read a batch, decode it, fold it. Kept as the reference
/// the parallel one must equal, and for comparison in `p30 bench rebuild`.
pub fn rebuild_sequential(log: &Log) -> anyhow::Result<Projection> {
    let mut projection = Projection::new();
    projection.expect_streams(log.stream_versions()?);
    let mut after = 0;
    let batches = std::iter::from_fn(|| match log.read_after(after, 50_000) {
        Ok(events) if events.is_empty() => None,
        Ok(events) => {
            after = events.last().map_or(after, |e| e.seq);
            Some(Ok(events))
        }
        Err(e) => Some(Err(e)),
    });
    let mut failure = None;
    // One bulk fold over the whole log: `extend` finishes a bulk fold at its end (sorting what it touched),
    // so it is called once, not once per batch.
    let events = batches.map_while(|b| b.map_err(|e| failure = Some(e)).ok()).flatten();
    projection.extend(events).map_err(|e| anyhow::anyhow!("cannot fold event: {e}"))?;
    if let Some(e) = failure {
        return Err(e.into());
    }
    Ok(projection)
}

/// Events per chunk a decoder takes: enough that hand-offs cost nothing per event, few enough that the
/// chunks in flight stay a few megabytes.
const CHUNK_EVENTS: usize = 2048;

/// Stored events copied out of the scan: their bytes back to back, where each ends, and their seqs.
#[derive(Default)]
struct RawChunk {
    bytes: Vec<u8>,
    ends: Vec<u32>,
    seqs: Vec<u64>,
}

impl RawChunk {
    /// An empty chunk with the room `full` took, so that filling it never grows it in steps.
    fn with_room_like(full: &Self) -> Self {
        Self {
            bytes: Vec::with_capacity(full.bytes.capacity()),
            ends: Vec::with_capacity(full.ends.capacity()),
            seqs: Vec::with_capacity(full.seqs.capacity()),
        }
    }

    fn push(&mut self, seq: u64, bytes: &[u8]) {
        self.bytes.extend_from_slice(bytes);
        self.ends.push(self.bytes.len() as u32);
        self.seqs.push(seq);
    }

    fn clear(mut self) -> Self {
        self.bytes.clear();
        self.ends.clear();
        self.seqs.clear();
        self
    }

    /// Each event prepared from a glance at its bytes where it can be (nearly always), else decoded whole
    /// (without its prose: the fold never reads it), into `out`.
    fn decode(&self, out: &mut Vec<Fold>) -> Result<(), eventstore::ReadError> {
        let mut start = 0;
        for (&end, &seq) in self.ends.iter().zip(&self.seqs) {
            let bytes = &self.bytes[start..end as usize];
            start = end as usize;
            let corrupt = |problem: String| eventstore::ReadError::Corrupt { seq, problem };
            let misplaced = |found: u64| corrupt(format!("stored under seq {seq} but says seq {found}"));
            let mut glance = events::codec::glance(bytes).map_err(|e| corrupt(e.to_string()))?;
            if let Some(g) = glance.as_ref().filter(|g| g.seq != seq) {
                return Err(misplaced(g.seq));
            }
            if let Some(prepared) = glance.as_mut().and_then(projections::Prepared::of) {
                out.push(ToFold::Prepared(prepared));
                continue;
            }
            let event = events::codec::decode_for_projection(bytes).map_err(|e| corrupt(e.to_string()))?;
            if event.seq != seq {
                return Err(misplaced(event.seq));
            }
            let key = projections::StreamKey::of(&event);
            out.push(ToFold::Event(Box::new(event), key));
        }
        Ok(())
    }
}

/// One event on its way into the rebuild's fold: prepared, or decoded whole (rarely: registrations,
/// merges, settings, changes of agency or sector).
type Fold = ToFold<Box<Event>>;

/// A decoded chunk, on its way through the fold. When the fold is done with it, it goes back to the
/// decoder that filled it, to be emptied there and filled again: freeing the whole events on the fold's
/// thread would cost it time, and memory freed across threads makes the allocator's arenas contend.
struct Decoded {
    items: Vec<Fold>,
    home: std::sync::mpsc::Sender<Vec<Fold>>,
}

impl AsMut<[Fold]> for Decoded {
    fn as_mut(&mut self) -> &mut [Fold] {
        &mut self.items
    }
}

impl Drop for Decoded {
    fn drop(&mut self) {
        // A decoder that has already finished cannot take them; then they are freed here.
        let _ = self.home.send(std::mem::take(&mut self.items));
    }
}

/// The rebuild as a pipeline, because decoding is a big share of its cost and the fold is sequential:
/// - one thread scans the log's stored bytes (no decoding) into chunks of `CHUNK_EVENTS` events and deals
///   them round robin to `decoders` threads;
/// - each decoder, in the order it got its chunks, glances at each stored event and makes it into the
///   entry it adds (`projections::Prepared`: nearly every event, never built as an `Event`), or decodes
///   it whole (registrations, merges, settings, changes of agency or sector), and frees the events the
///   fold has finished with;
/// - the calling thread takes the decoded chunks round robin in the same order, so they arrive in seq
///   order with no reordering buffer, and folds them all in one bulk `extend_on`.
///
/// Channels are bounded, so at most a few chunks per decoder are in flight whatever the log's size.
/// Equal to `rebuild_sequential`, event for event, and about 3–4 times as fast on 10 M events even with
/// two cores: the fold's thread only folds, and its heap holds only the projection (on one thread, the
/// decoded events' short-lived allocations interleave with the projection's and the allocator dominates).
pub fn rebuild_parallel(log: &Log, decoders: usize) -> anyhow::Result<Projection> {
    use std::sync::mpsc::{Receiver, channel, sync_channel};
    type Output = Result<Decoded, eventstore::ReadError>;
    let decoders = decoders.max(1);
    std::thread::scope(|s| {
        // Emptied chunks travel back to the scanner, so their buffers are reused instead of reallocated.
        let (free_tx, free_rx) = channel::<RawChunk>();
        let mut inputs = Vec::with_capacity(decoders);
        let mut outputs: Vec<Receiver<Output>> = Vec::with_capacity(decoders);
        for i in 0..decoders {
            let (in_tx, in_rx) = sync_channel::<RawChunk>(2);
            let (out_tx, out_rx) = sync_channel::<Output>(2);
            let (home, folded) = channel::<Vec<Fold>>();
            let free_tx = free_tx.clone();
            std::thread::Builder::new().name(format!("p30-rebuild-decode-{i}")).spawn_scoped(s, move || {
                // The chunks the fold has finished with, to be refilled: no more than are in flight at once.
                let mut spare: Vec<Vec<Fold>> = Vec::new();
                for chunk in in_rx {
                    spare.extend(folded.try_iter());
                    let mut items = spare.pop().unwrap_or_else(|| Vec::with_capacity(CHUNK_EVENTS));
                    items.clear();
                    let decoded = chunk.decode(&mut items).map(|()| Decoded { items, home: home.clone() });
                    let _ = free_tx.send(chunk.clear());
                    if out_tx.send(decoded).is_err() {
                        break;
                    }
                }
                folded.try_iter().for_each(drop);
            })?;
            inputs.push(in_tx);
            outputs.push(out_rx);
        }
        drop(free_tx);
        let scanner = std::thread::Builder::new().name("p30-rebuild-scan".into()).spawn_scoped(s, move || {
            let mut chunk = RawChunk::default();
            let mut dealt = 0;
            // A send fails only when the fold gave up; the scan then runs out without copying anything.
            let mut open = true;
            let scanned = log.scan_raw(0, |seq, bytes| {
                if !open {
                    return;
                }
                chunk.push(seq, bytes);
                if chunk.seqs.len() == CHUNK_EVENTS {
                    let next = free_rx.try_recv().unwrap_or_else(|_| RawChunk::with_room_like(&chunk));
                    open = inputs[dealt % decoders].send(std::mem::replace(&mut chunk, next)).is_ok();
                    dealt += 1;
                }
            });
            if open && !chunk.seqs.is_empty() {
                let _ = inputs[dealt % decoders].send(chunk);
            }
            scanned
        })?;
        let mut failure = None;
        let mut folded = 0u64;
        let mut projection = Projection::new();
        projection.expect_streams(log.stream_versions()?);
        {
            let chunks = (0..)
                .map_while(|i| match outputs[i % decoders].recv() {
                    Ok(Ok(chunk)) => Some(chunk),
                    Ok(Err(e)) => {
                        failure = Some(e);
                        None
                    }
                    // That decoder has finished: every chunk has been dealt and decoded.
                    Err(_) => None,
                })
                .inspect(|chunk| folded += chunk.items.len() as u64);
            // The decoders are done by the time the fold settles: its sorts get their cores.
            projection.extend_on(chunks, decoders).map_err(|e| anyhow::anyhow!("cannot fold event: {e}"))?;
        }
        // Stops decoders still waiting to hand over a chunk (after a failure).
        drop(outputs);
        let scanned = scanner.join().map_err(|_| anyhow::anyhow!("the rebuild's scanner panicked"))??;
        if let Some(e) = failure {
            return Err(e.into());
        }
        anyhow::ensure!(folded == scanned, "the rebuild folded {folded} of {scanned} events");
        Ok(projection)
    })
}

/// Events read inline, on the async task, when no more than this many are new: they were committed
/// just now and sit in fjall's memtable, so reading them costs microseconds, less than a hand-off to a
/// blocking thread; longer catch-ups (after an outage) read on a blocking thread.
pub const INLINE_READ: u64 = 64;

/// Reads up to `limit` events after `after`, inline when they are few and recent (see [`INLINE_READ`]).
pub async fn read_recent(log: &Log, after: u64, limit: usize) -> anyhow::Result<Vec<Event>> {
    if log.head().saturating_sub(after) <= INLINE_READ {
        return Ok(log.read_after(after, limit)?);
    }
    let reader = log.clone();
    Ok(tokio::task::spawn_blocking(move || reader.read_after(after, limit)).await??)
}

fn row(name: &str, key: &str, value: Value) -> Value {
    json!({"name": name, "key": key, "value": value})
}

fn group_name(by: GroupBy) -> String {
    format!("reductions-{}", by.as_str())
}

/// The codes an event is about.
fn codes_of(event: &Event) -> Vec<ProcedureCode> {
    match &event.change {
        Change::ProceduresMerged(m) => {
            let mut codes = m.sources.clone();
            if !codes.contains(&m.into.code) {
                codes.push(m.into.code.clone());
            }
            codes
        }
        other => other.subject_code().into_iter().cloned().collect(),
    }
}

impl Live {
    /// Rebuilds the projection from the log, then follows the log until `shutdown`.
    pub async fn start(log: Log, mut shutdown: watch::Receiver<bool>) -> anyhow::Result<Self> {
        let rebuilt = {
            let log = log.clone();
            tokio::task::spawn_blocking(move || rebuild(&log)).await??
        };
        let head = rebuilt.last_seq();
        let last_recorded = match head {
            0 => i64::MIN,
            seq => log.read_after(seq - 1, 1)?.first().map_or(i64::MIN, |e| e.recorded_at.micros()),
        };
        let (projected_tx, projected) = watch::channel(head);
        let (feed, _) = broadcast::channel(1024);
        let figures = LiveFigures::new(&rebuilt, now().as_of);
        let live = Self {
            projection: Arc::new(RwLock::new(rebuilt)),
            projected,
            feed,
            figures: Arc::new(std::sync::Mutex::new(figures)),
            reductions: Arc::default(),
            last_recorded: Arc::new(std::sync::atomic::AtomicI64::new(last_recorded)),
        };
        let follower = live.clone();
        tokio::spawn(async move {
            let mut heads = log.subscribe();
            let mut done = head;
            loop {
                tokio::select! {
                    changed = heads.wait_for(|&h| h > done) => if changed.is_err() { break },
                    _ = shutdown.wait_for(|&s| s) => break,
                }
                let Ok(events) = read_recent(&log, done, 1000).await else {
                    tracing::error!("the projector cannot read the log");
                    break;
                };
                let Some(last) = events.last().map(|e| e.seq) else { continue };
                // Messages are prepared only while someone listens (SSE clients, the NATS publisher).
                let listening = follower.feed.receiver_count() > 0;
                for e in &events {
                    let changed = follower.apply(e);
                    if listening {
                        let _ = follower.feed.send(Arc::new(follower.message_with(e, Some(&changed))));
                    }
                }
                follower.reductions.lock().unwrap_or_else(|p| p.into_inner()).clear();
                done = last;
                let _ = projected_tx.send(done);
            }
        });
        Ok(live)
    }

    /// Applies one event to the projection and the figures as of today; says which figures changed.
    fn apply(&self, e: &Event) -> Changed {
        let mut projection = self.projection.write().unwrap_or_else(|p| p.into_inner());
        // Before the event is in: no reader of the projection may think it knows everything without it.
        self.last_recorded.store(e.recorded_at.micros(), std::sync::atomic::Ordering::SeqCst);
        let applied = match projection.apply(e) {
            Ok(applied) => applied,
            Err(err) => {
                tracing::error!(seq = e.seq, error = %err, "the projection refused an event");
                return Changed::default();
            }
        };
        let mut figures = self.figures_today(&projection);
        figures.update(&projection, &applied)
    }

    /// The figures as of today, counted afresh first when the day has changed in Vietnam since.
    fn figures_today(&self, projection: &Projection) -> std::sync::MutexGuard<'_, LiveFigures> {
        let mut figures = self.figures.lock().unwrap_or_else(|p| p.into_inner());
        let today = now().as_of;
        if figures.as_of() != today {
            *figures = LiveFigures::new(projection, today);
        }
        figures
    }

    /// The figures kept event by event, if they answer questions at `at`: as of today, known at or after
    /// the last recorded event (they count everything recorded).
    fn figures_at(&self, projection: &Projection, at: Moment) -> Option<std::sync::MutexGuard<'_, LiveFigures>> {
        let last = self.last_recorded.load(std::sync::atomic::Ordering::SeqCst);
        if at.known_at.micros() < last {
            return None;
        }
        Some(self.figures_today(projection)).filter(|f| f.as_of() == at.as_of)
    }

    /// Waits until the projection has reached `seq` (read-your-writes for queries after a write).
    pub async fn caught_up(&self, seq: u64) {
        let mut projected = self.projected.clone();
        let _ = projected.wait_for(|&p| p >= seq).await;
    }

    /// The reductions at `at`, from the cache when `at.known_at` is at or after the last recorded event.
    pub fn reductions(
        &self,
        by: GroupBy,
        at: Moment,
        baseline_on: Option<Date>,
    ) -> Result<Arc<CachedReductions>, projections::QueryError> {
        let projection = self.projection.read().unwrap_or_else(|p| p.into_inner());
        let key = (by.as_str(), at.as_of, baseline_on);
        let cache = self.cache_for(at);
        if let Some(hit) = cache.as_ref().and_then(|c| c.get(&key)) {
            return Ok(hit.clone());
        }
        drop(cache);
        // From the default baseline, the figures kept event by event answer, if `at` is theirs.
        let kept = baseline_on.is_none().then(|| self.figures_at(&projection, at)).flatten();
        let reductions = match kept {
            Some(figures) => figures.reductions(&projection, by, at.known_at),
            None => projection.reductions(by, at, baseline_on)?,
        };
        let answer = Arc::new(CachedReductions::new(reductions));
        self.remember(at, baseline_on, [answer.clone()]);
        Ok(answer)
    }

    /// The reductions cache, if answers at `at` may be kept in it: only those known at or after the last
    /// recorded event, which cannot change until the next one (which empties the cache).
    fn cache_for(&self, at: Moment) -> Option<std::sync::MutexGuard<'_, ReductionsCache>> {
        let last = self.last_recorded.load(std::sync::atomic::Ordering::SeqCst);
        (at.known_at.micros() >= last).then(|| self.reductions.lock().unwrap_or_else(|p| p.into_inner()))
    }

    /// Keeps answers at `at` to a question with `baseline_on` (each under its own grouping), if
    /// `cache_for` allows.
    fn remember(
        &self,
        at: Moment,
        baseline_on: Option<Date>,
        answers: impl IntoIterator<Item = Arc<CachedReductions>>,
    ) {
        if let Some(mut cache) = self.cache_for(at) {
            for a in answers {
                cache.insert((a.reductions.group_by.as_str(), at.as_of, baseline_on), a);
            }
        }
    }

    /// Every programme's progress at `at`: from the figures kept event by event when `at` is today, known
    /// now, else asked of the projection (one reductions pass per programme).
    pub fn programmes(&self, at: Moment) -> Vec<projections::ProgrammeProgress> {
        let projection = self.projection.read().unwrap_or_else(|p| p.into_inner());
        match self.figures_at(&projection, at) {
            Some(figures) => figures.programmes(&projection, at.known_at),
            None => projection.programmes(at),
        }
    }

    /// The message of one event: the event and the rows it changed, as of today. For an event read back
    /// from the log (a subscriber catching up) the rows are today's, of the groups its procedures are in.
    pub fn message(&self, event: &Event) -> Message {
        self.message_with(event, None)
    }

    /// The message of one event, with the figures it `changed` if it has just been applied.
    fn message_with(&self, event: &Event, changed: Option<&Changed>) -> Message {
        let at = now();
        let projection = self.projection.read().unwrap_or_else(|p| p.into_inner());
        let figures = self.figures_today(&projection);
        let mut changes = Vec::new();
        let mut keys: BTreeSet<(GroupBy, String)> = BTreeSet::new();
        let everything = matches!(event.change, Change::TariffSet(_) | Change::EntryRetracted(_));
        for code in codes_of(event) {
            let Ok(view) = projection.procedure(code.as_str(), at, None) else { continue };
            keys.insert((GroupBy::All, "all".into()));
            for p in view.baseline.iter().chain(std::iter::once(&view.current)) {
                keys.insert((GroupBy::Agency, p.agency.as_str().to_owned()));
                keys.insert((GroupBy::Sector, p.sector.as_str().to_owned()));
                keys.insert((GroupBy::Level, p.level.as_str().to_owned()));
            }
            changes.push(row("procedure", code.as_str(), serde_json::to_value(&view).unwrap_or(Value::Null)));
        }
        let touched_groups = !keys.is_empty();
        keys.extend(changed.iter().flat_map(|c| c.groups.iter().cloned()));
        let known = at.known_at;
        if everything {
            for by in [GroupBy::All, GroupBy::Agency, GroupBy::Sector, GroupBy::Level] {
                for g in figures.reductions(&projection, by, known).groups {
                    changes.push(row(&group_name(by), &g.key, serde_json::to_value(&g).unwrap_or(Value::Null)));
                }
            }
        } else {
            for (by, key) in &keys {
                if let Some(g) = figures.group(&projection, *by, key) {
                    changes.push(row(&group_name(*by), key, serde_json::to_value(&g).unwrap_or(Value::Null)));
                }
            }
        }
        let every_programme =
            everything || matches!(event.change, Change::ProgrammeDefined(_)) || (changed.is_none() && touched_groups);
        let moved = |id: &str| every_programme || changed.is_some_and(|c| c.programmes.iter().any(|p| p == id));
        for p in figures.programmes(&projection, known).into_iter().filter(|p| moved(p.id.as_str())) {
            changes.push(row("programme", p.id.as_str(), serde_json::to_value(&p).unwrap_or(Value::Null)));
        }
        drop(figures);
        drop(projection);
        let mut data = event.to_json();
        data["changes"] = Value::Array(changes);
        let frame = format!("id: {}\nevent: {}\ndata: {data}\n\n", event.seq, event.type_name());
        // Serialised once; the rows go on to NATS without being copied.
        let changes = match data["changes"].take() {
            Value::Array(changes) => changes,
            _ => Vec::new(),
        };
        Message { seq: event.seq, event_type: event.type_name(), frame: frame.into(), changes }
    }

    /// The moment a query names: `as_of` (default today in Vietnam) and `known_at` (default now).
    pub fn moment(as_of: Option<Date>, known_at: Option<Timestamp>) -> Moment {
        let n = now();
        Moment::new(as_of.unwrap_or(n.as_of), known_at.unwrap_or(n.known_at))
    }
}
