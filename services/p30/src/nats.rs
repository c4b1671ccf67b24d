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

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_nats::jetstream::{self, kv, stream};
use events::Event;
use eventstore::Log;
use tokio::sync::watch;

use crate::live::Live;

/// The stream of events.
pub const EVENTS_STREAM: &str = "P30_EVENTS";
/// The bucket of projection rows.
pub const PROJECTIONS_BUCKET: &str = "P30_PROJECTIONS";
/// Events published per window of acknowledgements.
const WINDOW: usize = 512;

/// Writes a value as one subject token: every byte outside `A–Z a–z 0–9 -` becomes `_` and two
/// upper-case hex digits (`1.004227` → `1_2E004227`). Reversible with [`decode_token`].
pub fn encode_token(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 8);
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || b == b'-' {
            out.push(b as char);
        } else {
            out.push_str(&format!("_{b:02X}"));
        }
    }
    out
}

/// Reads a token written by [`encode_token`].
pub fn decode_token(token: &str) -> Option<String> {
    let bytes = token.as_bytes();
    let (mut out, mut i) = (Vec::with_capacity(bytes.len()), 0);
    while i < bytes.len() {
        if bytes[i] == b'_' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// The subject of an event: `p30.events.{type}.{token}`, the token naming its procedure (a merge's
/// `into`) or `settings`.
pub fn subject(event: &Event) -> String {
    let key = event.change.subject_code().map_or("settings", |c| c.as_str());
    format!("p30.events.{}.{}", event.type_name(), encode_token(key))
}

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

/// The seq in the `P30-Seq` header of the stream's last message, and the stream's last sequence.
async fn resume_point(events: &mut stream::Stream) -> anyhow::Result<(u64, u64)> {
    let last = events.info().await?.state.last_sequence;
    if last == 0 {
        return Ok((0, 0));
    }
    let message = events.get_raw_message(last).await?;
    let seq = message
        .headers
        .get("P30-Seq")
        .and_then(|v| v.as_str().parse::<u64>().ok())
        .ok_or_else(|| anyhow::anyhow!("the last message of {EVENTS_STREAM} has no P30-Seq header"))?;
    Ok((seq, last))
}

/// Publishes the log to JetStream until `shutdown`, reconnecting and resuming as often as needed.
pub async fn publish_events(log: Log, config: Config, progress: Arc<Progress>, mut shutdown: watch::Receiver<bool>) {
    let mut backoff = Duration::from_millis(100);
    while !*shutdown.borrow() {
        let outcome = tokio::select! {
            r = publish_session(&log, &config, &progress) => r,
            _ = shutdown.wait_for(|&s| s) => return,
        };
        progress.connected.store(0, Ordering::SeqCst);
        if let Err(e) = outcome {
            tracing::warn!(error = %e, "publishing to NATS paused; will resume from the stream's last event");
        }
        // A pause between attempts while NATS is away (not a synchronisation: nothing waits on it).
        tokio::select! {
            _ = tokio::time::sleep(backoff) => {}
            _ = shutdown.wait_for(|&s| s) => return,
        }
        backoff = (backoff * 2).min(Duration::from_secs(5));
    }
}

/// One connection's worth of publishing: resume from the stream, then follow the log.
///
/// Publishes are pipelined: each new event goes out as soon as it is durable, while the acknowledgements
/// of earlier ones are still on their way (up to `WINDOW` in flight). Every publish names the stream
/// sequence it must follow, so if one fails, every later one in flight fails too, and the session
/// resumes from the stream's last message: no hole, no duplicate.
async fn publish_session(log: &Log, config: &Config, progress: &Progress) -> anyhow::Result<()> {
    let (js, mut events, _bucket) = connect(config).await?;
    let (mut published, stream_last) = resume_point(&mut events).await?;
    progress.set_published(published);
    progress.connected.store(1, Ordering::SeqCst);
    let mut heads = log.subscribe();
    // The seq and stream sequence of the last event sent (acknowledged or not).
    let (mut sent, mut next_sequence) = (published, stream_last);
    type Ack = <jetstream::context::PublishAckFuture as std::future::IntoFuture>::IntoFuture;
    let mut in_flight: std::collections::VecDeque<(u64, Ack)> = Default::default();
    loop {
        let room = WINDOW - in_flight.len();
        if room > 0 && log.head() > sent {
            for event in crate::live::read_recent(log, sent, room).await? {
                let message = jetstream::message::PublishMessage::build()
                    .payload(event.to_json().to_string().into())
                    .message_id(event.event_id.to_string())
                    .header("P30-Seq", event.seq.to_string().as_str())
                    .header("P30-Schema-Version", event.schema_version.to_string().as_str())
                    .expected_last_sequence(next_sequence);
                let ack = js.send_publish(subject(&event), message).await?;
                in_flight.push_back((event.seq, std::future::IntoFuture::into_future(ack)));
                (sent, next_sequence) = (event.seq, next_sequence + 1);
            }
            continue;
        }
        // Wait for the oldest acknowledgement, or (with room) for the next commit, whichever comes first.
        let oldest = async {
            match in_flight.front_mut() {
                Some((_, ack)) => Some(ack.as_mut().await),
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            ack = oldest => {
                let ack = ack.expect("only a pending future yields none")?;
                let (seq, _) = in_flight.pop_front().expect("the oldest was there");
                let expected = next_sequence - in_flight.len() as u64;
                anyhow::ensure!(ack.sequence == expected, "JetStream stored seq {seq} at {}, not {expected}", ack.sequence);
                published = seq;
                progress.set_published(published);
                metrics::gauge!("p30_nats_published_seq").set(published as f64);
            }
            changed = heads.wait_for(|&h| h > sent), if room > 0 => { changed?; }
        }
    }
}

/// Puts every projection row the live feed carries into the bucket and on its subject (values as of
/// today; a bucket key is `{name}.{token}`).
pub async fn publish_projections(live: Live, config: Config, mut shutdown: watch::Receiver<bool>) {
    let mut feed = live.feed.subscribe();
    let mut session: Option<(async_nats::Client, kv::Store)> = None;
    loop {
        let message = tokio::select! {
            m = feed.recv() => m,
            _ = shutdown.wait_for(|&s| s) => return,
        };
        let message = match message {
            Ok(m) => m,
            Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                tracing::warn!(skipped = n, "projection publishing fell behind; later rows carry the latest values");
                continue;
            }
            Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
        };
        if session.is_none() {
            session = match connect_core(&config).await {
                Ok(s) => Some(s),
                Err(e) => {
                    tracing::warn!(error = %e, "cannot reach NATS for projection rows");
                    continue;
                }
            };
        }
        let Some((client, bucket)) = &session else { continue };
        // The rows of one event go out together: one round trip for all the bucket's acknowledgements.
        let mut puts = Vec::with_capacity(message.changes.len());
        let mut failed = false;
        for change in &message.changes {
            let (Some(name), Some(key)) = (change["name"].as_str(), change["key"].as_str()) else { continue };
            let token = encode_token(key);
            let value: bytes::Bytes = change["value"].to_string().into();
            failed |= client.publish(format!("p30.projections.{name}.{token}"), value.clone()).await.is_err();
            puts.push(bucket.put(format!("{name}.{token}"), value));
        }
        failed |= futures::future::join_all(puts).await.iter().any(Result::is_err);
        if failed {
            session = None;
        }
    }
}

async fn connect_core(config: &Config) -> anyhow::Result<(async_nats::Client, kv::Store)> {
    let (js, _, bucket) = connect(config).await?;
    Ok((js.client(), bucket))
}

/// `p30 tail`: prints each event of `P30_EVENTS` as it arrives (`seq type token: payload`), from the
/// start of the stream or from now, until the process is stopped.
pub async fn tail(url: &str, from_start: bool, mut out: impl std::io::Write) -> anyhow::Result<()> {
    use futures::StreamExt;
    let client = async_nats::connect(servers(url)).await?;
    let js = jetstream::new(client.clone());
    let events = js.get_stream(EVENTS_STREAM).await.map_err(|e| anyhow::anyhow!("no stream {EVENTS_STREAM}: {e}"))?;
    let deliver_policy =
        if from_start { jetstream::consumer::DeliverPolicy::All } else { jetstream::consumer::DeliverPolicy::New };
    let consumer = events
        .create_consumer(jetstream::consumer::push::OrderedConfig {
            deliver_subject: client.new_inbox(),
            deliver_policy,
            ..Default::default()
        })
        .await?;
    let mut messages = consumer.messages().await?;
    while let Some(message) = messages.next().await {
        let message = message?;
        let seq = message.headers.as_ref().and_then(|h| h.get("P30-Seq")).map(|v| v.as_str().to_owned());
        let mut parts = message.subject.splitn(4, '.').skip(2);
        let (kind, token) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
        let key = decode_token(token).unwrap_or_else(|| token.to_owned());
        writeln!(out, "{} {kind} {key}: {}", seq.unwrap_or_default(), String::from_utf8_lossy(&message.payload))?;
        out.flush()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_become_one_reversible_token() {
        assert_eq!(encode_token("1.004227"), "1_2E004227");
        assert_eq!(encode_token("1.012753.H19"), "1_2E012753_2EH19");
        assert_eq!(encode_token("a_b"), "a_5Fb");
        for code in ["1.004227", "1.012753.H19", "a_b-c.d", "Hộ tịch", "settings", "_2E"] {
            assert_eq!(decode_token(&encode_token(code)).as_deref(), Some(code));
            assert!(encode_token(code).bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
        }
    }
}
