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
use projections::{GroupBy, Moment, Projection};
use serde_json::{Value, json};
use tokio::sync::{broadcast, watch};

/// One SSE message, prepared once for every subscriber.
#[derive(Debug)]
pub struct Message {
    pub seq: u64,
    pub event_type: &'static str,
    /// The event's JSON with `changes`.
    pub data: String,
    /// The read-model rows it changed: `{"name", "key", "value"}` (also what goes to NATS).
    pub changes: Vec<Value>,
}

/// Rows that need a pass over every procedure: computed once per batch of events, then reused.
#[derive(Debug, Default)]
struct GroupRows {
    /// The projection's last seq when these rows were computed.
    seq: u64,
    /// `(group_by, key) → group` as of the last batch.
    groups: Vec<(GroupBy, String, Value)>,
    programmes: Vec<(String, Value)>,
}

/// The projection and its feed, shared by the handlers.
#[derive(Clone)]
pub struct Live {
    pub projection: Arc<RwLock<Projection>>,
    /// The seq the projection has reached.
    pub projected: watch::Receiver<u64>,
    pub feed: broadcast::Sender<Arc<Message>>,
    rows: Arc<RwLock<GroupRows>>,
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

/// Everything in the log, folded from scratch (the rebuild at start).
pub fn rebuild(log: &Log) -> anyhow::Result<Projection> {
    let mut projection = Projection::new();
    let mut after = 0;
    loop {
        let events = log.read_after(after, 50_000)?;
        let Some(last) = events.last() else { break };
        after = last.seq;
        projection.extend(events.iter()).map_err(|e| anyhow::anyhow!("cannot fold event: {e}"))?;
    }
    Ok(projection)
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
        let live = Self {
            projection: Arc::new(RwLock::new(rebuilt)),
            projected,
            feed,
            rows: Arc::new(RwLock::new(GroupRows::default())),
            reductions: Arc::default(),
            last_recorded: Arc::new(std::sync::atomic::AtomicI64::new(last_recorded)),
        };
        live.refresh_rows();
        let follower = live.clone();
        tokio::spawn(async move {
            let mut heads = log.subscribe();
            let mut done = head;
            loop {
                tokio::select! {
                    changed = heads.wait_for(|&h| h > done) => if changed.is_err() { break },
                    _ = shutdown.wait_for(|&s| s) => break,
                }
                let (log2, after) = (log.clone(), done);
                let Ok(Ok(events)) = tokio::task::spawn_blocking(move || log2.read_after(after, 1000)).await else {
                    tracing::error!("the projector cannot read the log");
                    break;
                };
                let Some(last) = events.last().map(|e| e.seq) else { continue };
                {
                    let mut projection = follower.projection.write().unwrap_or_else(|p| p.into_inner());
                    for e in &events {
                        if let Err(err) = projection.apply(e) {
                            tracing::error!(seq = e.seq, error = %err, "the projection refused an event");
                        }
                    }
                }
                if let Some(e) = events.last() {
                    follower.last_recorded.store(e.recorded_at.micros(), std::sync::atomic::Ordering::SeqCst);
                }
                follower.reductions.lock().unwrap_or_else(|p| p.into_inner()).clear();
                // Messages are prepared only while someone listens (SSE clients, the NATS publisher).
                if follower.feed.receiver_count() > 0 {
                    for e in &events {
                        let _ = follower.feed.send(Arc::new(follower.message(e)));
                    }
                }
                done = last;
                let _ = projected_tx.send(done);
            }
        });
        Ok(live)
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
        let last = self.last_recorded.load(std::sync::atomic::Ordering::SeqCst);
        let settled = at.known_at.micros() >= last;
        let key = (by.as_str(), at.as_of, baseline_on);
        if settled && let Some(hit) = self.reductions.lock().unwrap_or_else(|p| p.into_inner()).get(&key) {
            return Ok(hit.clone());
        }
        let answer = Arc::new(CachedReductions::new(projection.reductions(by, at, baseline_on)?));
        if settled {
            self.reductions.lock().unwrap_or_else(|p| p.into_inner()).insert(key, answer.clone());
        }
        Ok(answer)
    }

    /// Recomputes the rows that need a pass over every procedure.
    fn refresh_rows(&self) {
        let at = now();
        let projection = self.projection.read().unwrap_or_else(|p| p.into_inner());
        let mut rows = GroupRows { seq: projection.last_seq(), ..GroupRows::default() };
        drop(projection);
        for by in [GroupBy::All, GroupBy::Agency, GroupBy::Sector, GroupBy::Level] {
            if let Ok(r) = self.reductions(by, at, None) {
                for g in &r.reductions.groups {
                    let value = serde_json::to_value(g).unwrap_or(Value::Null);
                    rows.groups.push((by, g.key.clone(), value));
                }
            }
        }
        let projection = self.projection.read().unwrap_or_else(|p| p.into_inner());
        for p in projection.programmes(at) {
            rows.programmes.push((p.id.as_str().to_owned(), serde_json::to_value(&p).unwrap_or(Value::Null)));
        }
        *self.rows.write().unwrap_or_else(|p| p.into_inner()) = rows;
    }

    /// The message of one event: the event and the rows it changed, as of today.
    pub fn message(&self, event: &Event) -> Message {
        let stale = {
            let last = self.projection.read().unwrap_or_else(|p| p.into_inner()).last_seq();
            self.rows.read().unwrap_or_else(|p| p.into_inner()).seq < last
        };
        if stale {
            self.refresh_rows();
        }
        let at = now();
        let projection = self.projection.read().unwrap_or_else(|p| p.into_inner());
        let rows = self.rows.read().unwrap_or_else(|p| p.into_inner());
        let mut changes = Vec::new();
        let mut keys: BTreeSet<(&'static str, String)> = BTreeSet::new();
        let everything = matches!(event.change, Change::TariffSet(_) | Change::EntryRetracted(_));
        for code in codes_of(event) {
            let Ok(view) = projection.procedure(code.as_str(), at, None) else { continue };
            keys.insert(("all", "all".into()));
            for p in view.baseline.iter().chain(std::iter::once(&view.current)) {
                keys.insert(("agency", p.agency.as_str().to_owned()));
                keys.insert(("sector", p.sector.as_str().to_owned()));
                keys.insert(("level", p.level.as_str().to_owned()));
            }
            changes.push(row("procedure", code.as_str(), serde_json::to_value(&view).unwrap_or(Value::Null)));
        }
        for (by, key, value) in &rows.groups {
            if everything || keys.contains(&(by.as_str(), key.clone())) {
                changes.push(row(&group_name(*by), key, value.clone()));
            }
        }
        if everything || !keys.is_empty() || matches!(event.change, Change::ProgrammeDefined(_)) {
            for (id, value) in &rows.programmes {
                changes.push(row("programme", id, value.clone()));
            }
        }
        let mut data = event.to_json();
        data["changes"] = Value::Array(changes.clone());
        Message { seq: event.seq, event_type: event.type_name(), data: data.to_string(), changes }
    }

    /// The moment a query names: `as_of` (default today in Vietnam) and `known_at` (default now).
    pub fn moment(as_of: Option<Date>, known_at: Option<Timestamp>) -> Moment {
        let n = now();
        Moment::new(as_of.unwrap_or(n.as_of), known_at.unwrap_or(n.known_at))
    }
}
