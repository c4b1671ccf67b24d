//! The projector: rebuilds the projection at start, then follows the log's durable head into it, event
//! by event, keeping the live figures and sending each event's message to the feed.

use std::sync::{Arc, RwLock};

use events::Event;
use eventstore::Log;
use projections::{Changed, LiveFigures};
use tokio::sync::{broadcast, watch};
use tokio::task::JoinSet;

use super::rebuild::rebuild;
use super::{Live, now, read_recent};

impl Live {
    /// Rebuilds the projection from the log, then follows the log on a task in `tasks` until `shutdown`.
    pub async fn start(log: Log, shutdown: watch::Receiver<bool>, tasks: &mut JoinSet<()>) -> anyhow::Result<Self> {
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
        tasks.spawn(live.clone().follow(log, head, projected_tx, shutdown));
        Ok(live)
    }

    /// The projector: applies every event that becomes durable after `done`, in seq order, and sends
    /// each one's message to the feed while anyone listens; then says how far it has got.
    async fn follow(self, log: Log, mut done: u64, projected: watch::Sender<u64>, mut shutdown: watch::Receiver<bool>) {
        let follower = self;
        let mut heads = log.subscribe();
        {
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
                let _ = projected.send(done);
            }
        }
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
}
