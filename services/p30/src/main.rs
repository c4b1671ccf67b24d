//! The `p30` binary: parses the command line and hands each subcommand to its module in `cli`.

mod cli;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    match cli::Cli::parse().run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("p30: {e:#}");
            ExitCode::FAILURE
        }
    }
}
