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
