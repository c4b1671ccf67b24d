//! What every handler shares: the log, the tokens, the live projection, NATS progress, whether reads
//! need a token, and the shutdown signal long-lived streams end on.

use std::sync::Arc;

use axum::http::{HeaderMap, header};
use eventstore::Log;
use tokio::sync::watch;

use crate::access::{Grant, Tokens, Unauthorized};

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    pub log: Log,
    pub tokens: Arc<Tokens>,
    /// The projection and the live feed.
    pub live: crate::live::Live,
    /// Where publishing to NATS stands, when p30 publishes there.
    pub nats: Option<Arc<crate::nats::Progress>>,
    /// `serve --private`: reads need a token too (except `/healthz` and the catalogue).
    pub private: bool,
    /// Flips to true on shutdown, so long-lived streams (SSE) end and the server can stop.
    pub shutdown: watch::Receiver<bool>,
}

impl AppState {
    /// The grant of the request's bearer token (or `?token=` where a browser cannot send headers).
    pub fn authenticate(&self, headers: &HeaderMap, query_token: Option<&str>) -> Result<Grant, Unauthorized> {
        let bearer = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
            .map(str::trim);
        let token = bearer.or(query_token).ok_or(Unauthorized)?;
        self.tokens.grant(token).ok_or(Unauthorized)
    }

    /// Reads are open unless the server is private.
    pub fn authorize_read(&self, headers: &HeaderMap, query_token: Option<&str>) -> Result<(), Unauthorized> {
        if self.private {
            self.authenticate(headers, query_token)?;
        }
        Ok(())
    }
}
