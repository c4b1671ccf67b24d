//! The command line: one subcommand a module, each with its arguments and what it does.

mod bench;
mod export;
mod import;
mod report;
mod serve;
mod tail;
mod token;
mod verify;

use std::path::{Path, PathBuf};

use clap::{Parser, Subcommand};

/// p30 — tracks the simplification of administrative procedures (Đề án 30) as an event log.
#[derive(Parser, Debug)]
#[command(name = "p30", version, about)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Serves the HTTP API on the data dir.
    Serve(serve::Args),
    /// Prints events from NATS (`P30_EVENTS`) as they arrive.
    Tail(tail::Args),
    /// Manages access tokens.
    Token {
        #[command(subcommand)]
        what: token::Token,
    },
    /// Imports an inventory (CSV or NDJSON of procedure registrations): the whole file or nothing.
    Import(import::Args),
    /// Writes the log to standard output for analysts.
    Export(export::Args),
    /// Prints the reductions table, folded straight from the data dir (no server may hold it).
    Report(report::Args),
    /// Walks the log and its indexes; names the first bad seq and exits non-zero if any.
    Verify(verify::Args),
    /// Measures speed against a baseline run side by side; prints one JSON line per figure.
    Bench {
        #[command(subcommand)]
        what: bench::Bench,
    },
}

impl Cli {
    pub fn run(self) -> anyhow::Result<()> {
        match self.command {
            Command::Serve(args) => args.run(),
            Command::Tail(args) => args.run(),
            Command::Token { what } => what.run(),
            Command::Import(args) => args.run(),
            Command::Export(args) => args.run(),
            Command::Report(args) => args.run(),
            Command::Verify(args) => args.run(),
            Command::Bench { what } => what.run(),
        }
    }
}

/// The data dir every command defaults to.
const DATA_DIR: &str = "./p30-data";

/// The `--data-dir` of a command that works on the data dir.
#[derive(clap::Args, Debug)]
struct DataDir {
    /// The data directory (the fjall log and the token file).
    #[arg(long = "data-dir", default_value = DATA_DIR)]
    path: PathBuf,
}

/// Opens an existing data dir for a command that works on it directly (no server may hold it).
fn open_log(data_dir: &Path) -> anyhow::Result<eventstore::Log> {
    if !data_dir.is_dir() {
        anyhow::bail!("no data dir at {}", data_dir.display());
    }
    Ok(eventstore::Log::open(data_dir, eventstore::Options::default())?)
}
