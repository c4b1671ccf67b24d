//! NATS: the outbox that publishes every durable event to JetStream (`P30_EVENTS`), and the projection
//! rows to `p30.projections.{name}.{key}` and the key-value bucket `P30_PROJECTIONS`.
//!
//! The log is the source of truth; NATS never blocks a write. The publisher follows the log's durable
//! head on its own task. Where it resumes (after a restart of p30 or an outage of NATS) is read from the
//! stream itself — the `P30-Seq` header of its last message — because JetStream acknowledges before it
//! fsyncs: after a crash of `nats-server`, the stream may end before the last seq it acknowledged, and
//! resuming from our own record would leave a gap. Each publish also names the stream sequence it expects
//! to follow (`Nats-Expected-Last-Sequence`), so a failed publish fails every later one in the window
//! instead of leaving a hole; then the publisher reconnects and resumes from the stream again.

mod publisher;
mod rows;
mod subjects;
mod tail;

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_nats::jetstream::{self, kv, stream};
use tokio::sync::watch;

pub use publisher::publish_events;
pub use rows::publish_projections;
pub use subjects::{decode_token, encode_token, subject};
pub use tail::tail;

/// The stream of events.
pub const EVENTS_STREAM: &str = "P30_EVENTS";
/// The bucket of projection rows.
pub const PROJECTIONS_BUCKET: &str = "P30_PROJECTIONS";

/// The servers of a URL list such as `nats://127.0.0.1:4231,nats://127.0.0.1:4232` (a cluster).
pub fn servers(url: &str) -> Vec<String> {
    url.split(',').map(|u| u.trim().to_owned()).filter(|u| !u.is_empty()).collect()
}

/// How to reach NATS.
#[derive(Clone, Debug)]
pub struct Config {
    pub url: String,
    /// Replicas of the stream and the bucket (3 on the three-node cluster).
    pub replicas: usize,
}

/// Where publishing stands, for `/healthz`, `/metrics` and whoever waits for an event to be out.
#[derive(Debug)]
pub struct Progress {
    /// The last seq JetStream acknowledged.
    pub published: AtomicU64,
    /// 1 while connected and publishing.
    pub connected: AtomicU64,
    acknowledged: watch::Sender<u64>,
}

impl Default for Progress {
    fn default() -> Self {
        Self { published: AtomicU64::new(0), connected: AtomicU64::new(0), acknowledged: watch::Sender::new(0) }
    }
}

impl Progress {
    pub fn published(&self) -> u64 {
        self.published.load(Ordering::SeqCst)
    }

    fn set_published(&self, seq: u64) {
        self.published.store(seq, Ordering::SeqCst);
        self.acknowledged.send_replace(seq);
    }

    /// Waits until JetStream has acknowledged every event up to `seq`.
    pub async fn wait_published(&self, seq: u64) {
        let mut acknowledged = self.acknowledged.subscribe();
        let _ = acknowledged.wait_for(|&p| p >= seq).await;
    }
}

async fn connect(config: &Config) -> anyhow::Result<(jetstream::Context, stream::Stream, kv::Store)> {
    let client = async_nats::ConnectOptions::new().name("p30").connect(servers(&config.url)).await?;
    let js = jetstream::new(client);
    // Get, else create (`get_or_create_stream` misreads nats-server 2.9's "not found" answer).
    let events = match js.get_stream(EVENTS_STREAM).await {
        Ok(events) => events,
        Err(_) => {
            js.create_stream(stream::Config {
                name: EVENTS_STREAM.into(),
                subjects: vec!["p30.events.>".into()],
                storage: stream::StorageType::File,
                num_replicas: config.replicas,
                duplicate_window: Duration::from_secs(120),
                ..Default::default()
            })
            .await?
        }
    };
    // The bucket is a stream named by the key-value convention, created directly: the client's
    // `create_key_value` first asks for account info in a form nats-server 2.9 does not answer.
    if js.get_stream(format!("KV_{PROJECTIONS_BUCKET}")).await.is_err() {
        js.create_stream(stream::Config {
            name: format!("KV_{PROJECTIONS_BUCKET}"),
            subjects: vec![format!("$KV.{PROJECTIONS_BUCKET}.>")],
            max_messages_per_subject: 1,
            storage: stream::StorageType::File,
            num_replicas: config.replicas,
            allow_rollup: true,
            deny_delete: true,
            allow_direct: true,
            discard: stream::DiscardPolicy::New,
            duplicate_window: Duration::from_secs(120),
            ..Default::default()
        })
        .await?;
    }
    let bucket = js.get_key_value(PROJECTIONS_BUCKET).await?;
    Ok((js, events, bucket))
}
