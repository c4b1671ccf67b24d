//! `p30 bench …`: speed measured side by side with a baseline in the same run (see BENCH.md), one JSON
//! line per figure, and the generated data set the scale benchmarks run on.

pub mod append;
pub mod as_of;
pub mod dataset;
pub mod figures;
pub mod http;
pub mod live;
pub mod live_update;
pub mod nats_server;
pub mod rebuild;
pub mod wrk;

pub use figures::Figure;

/// A program the benchmarks and tests run: `$env_var` if set, else the first `name` on `PATH`, else
/// `fallback` (where Debian's package puts it).
pub fn program(env_var: &str, name: &str, fallback: &str) -> std::path::PathBuf {
    if let Some(p) = std::env::var_os(env_var) {
        return p.into();
    }
    let on_path = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .map(|d| d.join(name))
        .find(|p| p.is_file());
    on_path.unwrap_or_else(|| std::path::PathBuf::from(fallback))
}

/// A server on a free loopback port that runs until stopped (benchmarks measure it from this process).
pub async fn serve_on_loopback(config: server::Config) -> anyhow::Result<server::Running> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    server::run(listener, config, std::future::pending()).await
}
