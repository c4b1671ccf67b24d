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
        let (projected_tx, projected) = watch::channel(head);
        let (feed, _) = broadcast::channel(1024);
        let live = Self {
            projection: Arc::new(RwLock::new(rebuilt)),
            projected,
            feed,
            rows: Arc::new(RwLock::new(GroupRows::default())),
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
                follower.refresh_rows();
                for e in &events {
                    let _ = follower.feed.send(Arc::new(follower.message(e)));
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

    /// Recomputes the rows that need a pass over every procedure.
    fn refresh_rows(&self) {
        let at = now();
        let projection = self.projection.read().unwrap_or_else(|p| p.into_inner());
        let mut rows = GroupRows::default();
        for by in [GroupBy::All, GroupBy::Agency, GroupBy::Sector, GroupBy::Level] {
            if let Ok(r) = projection.reductions(by, at, None) {
                for g in r.groups {
                    let value = serde_json::to_value(&g).unwrap_or(Value::Null);
                    rows.groups.push((by, g.key.clone(), value));
                }
            }
        }
        for p in projection.programmes(at) {
            rows.programmes.push((p.id.as_str().to_owned(), serde_json::to_value(&p).unwrap_or(Value::Null)));
        }
        *self.rows.write().unwrap_or_else(|p| p.into_inner()) = rows;
    }

    /// The message of one event: the event and the rows it changed, as of today.
    pub fn message(&self, event: &Event) -> Message {
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
