//! The live side of the server: the projection the reads ask, kept up to date by the projector, the
//! figures as of today kept event by event, and the feed of prepared messages for SSE and NATS.
//!
//! Subscribers never hold more than a bounded channel of messages: one that falls behind the feed
//! reads the missed events from the log instead, so a slow client costs no memory.
//!
//! The projector (`projector`) follows the log's durable head into the in-memory `Projection`; reads
//! first wait until the projection has reached the log head they saw, so a client reads its own writes.
//! `/v1/reductions` answers from a cache that is emptied by every event and used only for questions
//! known at or after the last recorded event (their answers cannot change until the next one). SSE
//! subscribers get prepared messages from a broadcast feed: each message is the whole SSE frame, written
//! once as `Bytes` and shared by every connection. A subscriber's response body is a stream over its
//! place in the log, polled by its connection only when it can send; one that falls behind the feed (or
//! sees a gap) reads the missed events from the log a batch at a time (`p30_sse_log_reads_total`), so a
//! slow client never grows memory. The projector, the NATS publisher and SSE catch-up read up to 64 new
//! events inline (they are in fjall's memtable) and hand longer reads to a blocking thread.
//!
//! Each message carries the rows its event changed: the procedure views (proportional to the event) and the
//! group and programme rows as of today, which the projector keeps up to date event by event
//! (`projections::LiveFigures`, see `projections/src/tally.rs`) under the projection's write lock, so each message shows the figures
//! right after its own event. `/v1/reductions` from the default baseline and `/v1/programmes`, as of today
//! and known now, answer from the same figures (the cost of the groups, not of a pass). A subscriber that
//! catches up from the log gets today's rows of the groups its event's procedures are in.

mod messages;
mod projector;
mod rebuild;

use std::sync::{Arc, RwLock};

use events::Event;
use events::value::{Date, Timestamp};
use eventstore::Log;
use projections::{GroupBy, LiveFigures, Moment, Projection};
use tokio::sync::{broadcast, watch};

pub use messages::{Message, Row, RowName, RowValue};
pub use rebuild::{default_decoders, rebuild, rebuild_parallel, rebuild_sequential};

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

type ReductionsCache = std::collections::HashMap<(GroupBy, Date, Option<Date>), Arc<CachedReductions>>;

/// Why a reductions question got no answer.
#[derive(Debug, thiserror::Error)]
pub enum ReductionsError {
    /// The question itself (a date before the baseline, say).
    #[error(transparent)]
    Query(#[from] projections::QueryError),
    /// The answer could not be written as JSON.
    #[error("cannot write the reductions as JSON")]
    Encode(#[source] serde_json::Error),
}

impl From<serde_json::Error> for ReductionsError {
    fn from(e: serde_json::Error) -> Self {
        Self::Encode(e)
    }
}

/// A reductions answer, with its unchanging parts already serialised.
#[derive(Debug)]
pub struct CachedReductions {
    pub reductions: projections::Reductions,
    tariffs_json: String,
    groups_json: String,
}

impl CachedReductions {
    fn new(reductions: projections::Reductions) -> Result<Self, serde_json::Error> {
        let tariffs_json = serde_json::to_string(&reductions.tariffs)?;
        let groups_json = serde_json::to_string(&reductions.groups)?;
        Ok(Self { reductions, tariffs_json, groups_json })
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

impl Live {
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
    ) -> Result<Arc<CachedReductions>, ReductionsError> {
        let projection = self.projection.read().unwrap_or_else(|p| p.into_inner());
        let key = (by, at.as_of, baseline_on);
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
        let answer = Arc::new(CachedReductions::new(reductions)?);
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
                cache.insert((a.reductions.group_by, at.as_of, baseline_on), a);
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
    /// The moment a query names: `as_of` (default today in Vietnam) and `known_at` (default now).
    pub fn moment(as_of: Option<Date>, known_at: Option<Timestamp>) -> Moment {
        let n = now();
        Moment::new(as_of.unwrap_or(n.as_of), known_at.unwrap_or(n.known_at))
    }
}
