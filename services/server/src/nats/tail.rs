//! `p30 tail`: the events of `P30_EVENTS` printed as they arrive.

use async_nats::jetstream;

use super::{EVENTS_STREAM, decode_token, servers};

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
