//! `p30 serve`: opens the data dir, binds the listener and serves the API until told to stop.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use eventstore::{Log, Options};
use tokio::sync::watch;

use crate::access::Tokens;
use crate::http::{self, AppState};

/// How to run a server.
#[derive(Clone, Debug)]
pub struct Config {
    pub data_dir: PathBuf,
    pub listen: String,
    pub private: bool,
    /// Load the demonstration data into an empty log.
    pub demo: bool,
}

impl Config {
    /// A public server on a free loopback port, without demo data (tests and benchmarks).
    pub fn on_loopback(data_dir: &std::path::Path) -> Self {
        Self { data_dir: data_dir.to_owned(), listen: "127.0.0.1:0".into(), private: false, demo: false }
    }
}

/// A running server: its address, and how to stop it.
#[derive(Debug)]
pub struct Running {
    pub addr: SocketAddr,
    pub log: Log,
    /// Where publishing to NATS stands, when the server publishes there.
    pub nats: Option<Arc<crate::nats::Progress>>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Running {
    /// Stops accepting, ends open streams, waits for requests in flight, and closes the log.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        (&mut self.task).await??;
        let log = self.log.clone();
        tokio::task::spawn_blocking(move || log.close()).await?;
        Ok(())
    }

    /// Waits until the server stops by itself (a signal).
    pub async fn wait(mut self) -> anyhow::Result<()> {
        (&mut self.task).await??;
        let log = self.log.clone();
        tokio::task::spawn_blocking(move || log.close()).await?;
        Ok(())
    }
}

/// Starts serving; `signal` ending also stops the server (Ctrl-C or SIGTERM for the binary).
pub async fn start(
    config: Config,
    signal: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<Running> {
    start_with_nats(config, None, signal).await
}

/// Like [`start`], publishing events and projection rows to NATS when `nats` is given.
pub async fn start_with_nats(
    config: Config,
    nats: Option<crate::nats::Config>,
    signal: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<Running> {
    crate::telemetry::prometheus();
    let log = Log::open(&config.data_dir, Options::default())
        .with_context(|| format!("cannot open the data dir {}", config.data_dir.display()))?;
    if config.demo {
        let written = crate::demo::load(&log).await?;
        if written > 0 {
            tracing::info!(events = written, "loaded the demonstration data");
        }
    }
    let listener = tokio::net::TcpListener::bind(&config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    let addr = listener.local_addr()?;
    let (stop_streams, shutdown) = watch::channel(false);
    let live = crate::live::Live::start(log.clone(), shutdown.clone()).await?;
    let nats_progress = nats.map(|nats| {
        let progress = Arc::new(crate::nats::Progress::default());
        tokio::spawn(crate::nats::publish_events(log.clone(), nats.clone(), progress.clone(), shutdown.clone()));
        tokio::spawn(crate::nats::publish_projections(live.clone(), nats, shutdown.clone()));
        progress
    });
    let state = AppState {
        nats: nats_progress.clone(),
        log: log.clone(),
        tokens: Arc::new(Tokens::new(&config.data_dir)),
        live,
        private: config.private,
        shutdown,
    };
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let stopped = async move {
        tokio::select! {
            _ = stop_rx => {}
            _ = signal => {}
        }
    };
    let task = tokio::spawn(http::serve(listener, state, stop_streams, stopped));
    Ok(Running { addr, log, nats: nats_progress, stop: Some(stop_tx), task })
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
