//! The p30 service: the pieces the `p30` binary wires together (benchmarks now; the HTTP server, the
//! NATS publisher and the operator's commands as their issues land).

pub mod access;
pub mod app;
pub mod bench;
pub mod bench_live;
pub mod dataset;
pub mod demo;
pub mod export;
pub mod http;
pub mod inventory;
pub mod live;
pub mod nats;
pub mod nats_server;
pub mod report;
pub mod server;
pub mod telemetry;
pub mod web;
pub mod wrk;

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
