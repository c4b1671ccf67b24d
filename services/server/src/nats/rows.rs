//! Projection rows: each row the live feed carries, put in the bucket `P30_PROJECTIONS` and published
//! on `p30.projections.{name}.{token}`, values as of today.

use async_nats::jetstream::kv;
use tokio::sync::watch;

use super::{Config, connect, encode_token};
use crate::live::Live;

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
        let mut puts = Vec::with_capacity(message.rows.len());
        let mut failed = false;
        for row in &message.rows {
            let (name, token) = (row.name.as_str(), encode_token(&row.key));
            let value: bytes::Bytes = match serde_json::to_vec(&row.value) {
                Ok(value) => value.into(),
                Err(e) => {
                    tracing::error!(name, key = row.key, error = %e, "cannot write a projection row");
                    continue;
                }
            };
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
