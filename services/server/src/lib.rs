//! The p30 server: records commands in the log, keeps the projection live, and serves the HTTP API,
//! the pages and the NATS feeds. `start` is handed the data dir and a shutdown signal; the binary only
//! parses its command line.

pub mod access;
pub mod demo;
pub mod export;
pub mod http;
pub mod live;
pub mod nats;
pub mod record;
pub mod routes;
pub mod search;
pub mod state;
pub mod telemetry;
pub mod web;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use eventstore::{Log, Options};
use tokio::net::TcpListener;
use tokio::sync::{oneshot, watch};
use tokio::task::JoinSet;

use crate::access::Tokens;
use crate::state::AppState;

/// How to run a server (the listener is bound by the caller).
#[derive(Clone, Debug)]
pub struct Config {
    /// The fjall log and the token file.
    pub data_dir: PathBuf,
    /// `serve --private`: reads need a token too (except `/healthz` and the catalogue).
    pub private: bool,
    /// Load the demonstration data into an empty log.
    pub demo: bool,
    /// Publish events and projection rows to NATS JetStream.
    pub nats: Option<nats::Config>,
}

impl Config {
    /// A public server on `data_dir`, without demo data or NATS (tests and benchmarks).
    pub fn new(data_dir: &Path) -> Self {
        Self { data_dir: data_dir.to_owned(), private: false, demo: false, nats: None }
    }
}

/// A running server: its address, and how to stop it.
#[derive(Debug)]
pub struct Running {
    pub addr: SocketAddr,
    pub log: Log,
    /// Where publishing to NATS stands, when the server publishes there.
    pub nats: Option<Arc<nats::Progress>>,
    stop: Option<oneshot::Sender<()>>,
    /// Serves, then waits for the background tasks and closes the log (see [`run`]).
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl Running {
    /// Stops accepting, ends open streams, waits for requests in flight and the background tasks, and
    /// closes the log.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.wait().await
    }

    /// Waits until the server stops by itself (its shutdown signal).
    pub async fn wait(mut self) -> anyhow::Result<()> {
        (&mut self.task).await?
    }
}

/// Starts serving on `listener`: opens the log in the data dir (loading the demo data into an empty one
/// if asked), rebuilds the projection, and starts the projector and the NATS publishers. When `shutdown`
/// resolves (or [`Running::stop`] is called) there is one way down: the listener stops accepting and
/// open streams are told to end; once requests in flight are answered, the background tasks, which
/// watch the same signal, are awaited; then the log is closed.
pub async fn run(
    listener: TcpListener,
    config: Config,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<Running> {
    telemetry::prometheus();
    let addr = listener.local_addr()?;
    let log = Log::open(&config.data_dir, Options::default())
        .with_context(|| format!("cannot open the data dir {}", config.data_dir.display()))?;
    if config.demo {
        let written = demo::load(&log).await?;
        if written > 0 {
            tracing::info!(events = written, "loaded the demonstration data");
        }
    }
    let (stop_streams, stopping) = watch::channel(false);
    let mut background = JoinSet::new();
    let live = live::Live::start(log.clone(), stopping.clone(), &mut background).await?;
    let nats_progress = config.nats.map(|nats| {
        let progress = Arc::new(nats::Progress::default());
        let events = nats::publish_events(log.clone(), nats.clone(), progress.clone(), stopping.clone());
        background.spawn(events);
        background.spawn(nats::publish_projections(live.clone(), nats, stopping.clone()));
        progress
    });
    let state = AppState {
        nats: nats_progress.clone(),
        log: log.clone(),
        tokens: Arc::new(Tokens::new(&config.data_dir)),
        live,
        private: config.private,
        shutdown: stopping,
    };
    let (stop, stopped) = oneshot::channel::<()>();
    let signalled = async move {
        tokio::select! {
            _ = stopped => {}
            _ = shutdown => {}
        }
    };
    let closing = log.clone();
    let task = tokio::spawn(async move {
        let served = routes::serve(listener, state, stop_streams, signalled).await;
        while let Some(ended) = background.join_next().await {
            if let Err(e) = ended {
                tracing::error!(error = %e, "a background task failed");
            }
        }
        tokio::task::spawn_blocking(move || closing.close()).await?;
        Ok(served?)
    });
    Ok(Running { addr, log, nats: nats_progress, stop: Some(stop), task })
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
}
