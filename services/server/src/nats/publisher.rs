//! The outbox: every durable event published to JetStream (`P30_EVENTS`) in seq order, resumed from
//! the stream's last message after any outage, never blocking a write.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use async_nats::jetstream::{self, stream};
use eventstore::Log;
use tokio::sync::watch;

use super::{Config, EVENTS_STREAM, Progress, connect, subject};

/// Events published per window of acknowledgements.
const WINDOW: usize = 512;

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
