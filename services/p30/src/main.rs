//! The `p30` binary: parses the command line and hands each subcommand to the library.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// p30 — tracks the simplification of administrative procedures (Đề án 30) as an event log.
#[derive(Parser, Debug)]
#[command(name = "p30", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Serves the HTTP API on the data dir.
    Serve {
        /// The data directory (the fjall log and the token file).
        #[arg(long, default_value = "./p30-data")]
        data_dir: PathBuf,
        /// The address to listen on.
        #[arg(long, default_value = "127.0.0.1:8030")]
        listen: String,
        /// Every read but /healthz and the catalogue needs a token too.
        #[arg(long)]
        private: bool,
        /// On first start, load SPEC's worked example and a generated sample province; print an admin token.
        #[arg(long)]
        demo: bool,
        /// Publish events and projection rows to NATS JetStream (a list separated by commas for a cluster).
        #[arg(long)]
        nats_url: Option<String>,
        /// Replicas of the stream and bucket p30 creates (3 on the three-node cluster).
        #[arg(long, default_value_t = 1)]
        nats_replicas: usize,
    },
    /// Prints events from NATS (`P30_EVENTS`) as they arrive.
    Tail {
        #[arg(long, default_value = "nats://127.0.0.1:4222")]
        nats_url: String,
        /// From the first event in the stream, not only new ones.
        #[arg(long)]
        from_start: bool,
    },
    /// Manages access tokens.
    Token {
        #[command(subcommand)]
        what: Token,
    },
    /// Imports an inventory (CSV or NDJSON of procedure registrations): the whole file or nothing.
    Import {
        #[arg(long, default_value = "./p30-data")]
        data_dir: PathBuf,
        /// The inventory file (.csv, or .ndjson with one POST /v1/procedures body a line).
        file: PathBuf,
    },
    /// Writes the log to standard output for analysts.
    Export {
        #[arg(long, default_value = "./p30-data")]
        data_dir: PathBuf,
        #[arg(long, value_enum, default_value = "ndjson")]
        format: p30::export::Format,
        /// Only events after this seq.
        #[arg(long, default_value_t = 0)]
        after: u64,
    },
    /// Prints the reductions table, folded straight from the data dir (no server may hold it).
    Report {
        #[arg(long, default_value = "./p30-data")]
        data_dir: PathBuf,
        /// Valid time, YYYY-MM-DD (default: today in Vietnam).
        #[arg(long)]
        as_of: Option<String>,
        /// Transaction time, RFC 3339 or YYYY-MM-DD for the end of that day in Vietnam (default: now).
        #[arg(long)]
        known_at: Option<String>,
        /// Baseline date (default: the earliest registration).
        #[arg(long)]
        baseline_on: Option<String>,
        #[arg(long, value_parser = ["all", "agency", "sector", "level"], default_value = "all")]
        group_by: String,
        #[arg(long, value_enum, default_value = "table")]
        format: p30::report::Format,
    },
    /// Walks the log and its indexes; names the first bad seq and exits non-zero if any.
    Verify {
        /// The data directory (the fjall log).
        #[arg(long, default_value = "./p30-data")]
        data_dir: PathBuf,
    },
    /// Measures speed against a baseline run side by side; prints one JSON line per figure.
    Bench {
        #[command(subcommand)]
        what: Bench,
    },
}

#[derive(Subcommand, Debug)]
enum Token {
    /// Creates a token and prints it as the last line (works while a server runs on the data dir).
    Create {
        #[arg(long, default_value = "./p30-data")]
        data_dir: PathBuf,
        #[arg(long, value_enum)]
        role: p30::access::Role,
        /// An agency a recorder may write for (repeat for several).
        #[arg(long = "agency")]
        agencies: Vec<String>,
        /// Who holds the token; recorded as the `actor` of their events.
        #[arg(long)]
        name: Option<String>,
    },
}

#[derive(Subcommand, Debug)]
enum Bench {
    /// Commit → SSE and commit → NATS latency p99, against commit → in-process notification.
    Live {
        #[arg(long, default_value_t = 100)]
        subscribers: usize,
        #[arg(long, default_value_t = 1000)]
        events_per_second: u64,
        #[arg(long, default_value_t = 2000)]
        events: u64,
        #[arg(long, default_value_t = 3)]
        rounds: usize,
    },
    /// HTTP writes and reads against GET /healthz on the same server (rps and p99).
    Http {
        #[arg(long, default_value_t = 64)]
        connections: usize,
        /// Seconds per measured run.
        #[arg(long, default_value_t = 2.0)]
        seconds: f64,
        #[arg(long, default_value_t = 3)]
        rounds: usize,
        /// Procedures in the generated province that reads are about.
        #[arg(long, default_value_t = 2000)]
        procedures: u64,
        /// Threads of the load generator (`wrk`, out of process).
        #[arg(long, default_value_t = 2)]
        client_threads: usize,
    },
    /// Rebuild rate from a cold log of a generated data set, against a raw scan and JetStream replay; and RSS.
    Rebuild {
        #[command(flatten)]
        data: ScaleArgs,
        #[arg(long, default_value_t = 3)]
        rounds: usize,
        /// Decoder threads of the parallel rebuild (default: one per core).
        #[arg(long)]
        decoders: Option<usize>,
        /// Also time the one-thread rebuild each round.
        #[arg(long)]
        sequential: bool,
    },
    /// One measured round of `bench rebuild`, in a process of its own: prints events/s.
    #[command(hide = true)]
    Round {
        /// `scan`, `rebuild` or `sequential`.
        what: String,
        #[arg(long, default_value_t = 1)]
        decoders: usize,
        #[arg(long)]
        data_dir: std::path::PathBuf,
    },
    /// Reductions as of a random date in 2011–2020 against the same query as of today (p50, p99).
    AsOf {
        #[command(flatten)]
        data: ScaleArgs,
        /// Queries of each kind.
        #[arg(long, default_value_t = 100)]
        samples: usize,
    },
    /// What a new event costs the live figures (reductions and programmes as of today), kept event by
    /// event, against recomputing them (p50, p99).
    LiveUpdate {
        #[command(flatten)]
        data: ScaleArgs,
        /// Events applied (each timed both ways).
        #[arg(long, default_value_t = 200)]
        samples: usize,
    },
    /// Durable append rate of concurrent writers (group commit) against one fsync per event and JetStream.
    Append {
        #[arg(long, default_value_t = 64)]
        writers: usize,
        /// Commands per writer per round (group commit and JetStream).
        #[arg(long, default_value_t = 400)]
        per_writer: usize,
        /// Commands per writer per round with one fsync per event.
        #[arg(long, default_value_t = 60)]
        per_writer_fsync_each: usize,
        #[arg(long, default_value_t = 5)]
        rounds: usize,
    },
}

/// The generated data set of the scale benchmarks (BENCH.md: 200 000 procedures, 10 000 000 events).
#[derive(clap::Args, Debug)]
struct ScaleArgs {
    #[arg(long, default_value_t = 200_000)]
    procedures: u64,
    /// Events in all (registrations included).
    #[arg(long, default_value_t = 10_000_000)]
    events: u64,
    #[arg(long, default_value_t = 30)]
    seed: u64,
    /// Keep the data set here and reuse it on the next run (default: a temp dir, removed afterwards).
    #[arg(long)]
    data_dir: Option<PathBuf>,
}

impl ScaleArgs {
    fn data(self) -> p30::bench::ScaleData {
        let spec = p30::dataset::Spec { seed: self.seed, procedures: self.procedures, events: self.events };
        p30::bench::ScaleData { spec, data_dir: self.data_dir }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("p30: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Opens an existing data dir for a command that works on it directly (no server may hold it).
fn open_log(data_dir: &std::path::Path) -> anyhow::Result<eventstore::Log> {
    if !data_dir.is_dir() {
        anyhow::bail!("no data dir at {}", data_dir.display());
    }
    Ok(eventstore::Log::open(data_dir, eventstore::Options::default())?)
}

fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Tail { nats_url, from_start } => {
            let runtime = tokio::runtime::Runtime::new()?;
            runtime.block_on(p30::nats::tail(&nats_url, from_start, std::io::stdout().lock()))
        }
        Command::Bench { what: Bench::Live { subscribers, events_per_second, events, rounds } } => {
            let settings = p30::bench_live::LiveSettings { subscribers, events_per_second, events, rounds };
            let runtime = tokio::runtime::Runtime::new()?;
            for figure in runtime.block_on(p30::bench_live::live(&settings))? {
                println!("{}", figure.json_line());
            }
            Ok(())
        }
        Command::Serve { data_dir, listen, private, demo, nats_url, nats_replicas } => {
            tracing_subscriber::fmt()
                .with_env_filter(
                    tracing_subscriber::EnvFilter::try_from_default_env()
                        .unwrap_or_else(|_| "info,fjall=warn,lsm_tree=warn".into()),
                )
                .init();
            let runtime = tokio::runtime::Runtime::new()?;
            runtime.block_on(async {
                let admin = if demo {
                    Some(p30::access::create_token(
                        &data_dir,
                        p30::access::Role::Admin,
                        vec![],
                        Some("demo-admin".into()),
                    )?)
                } else {
                    None
                };
                let config = p30::server::Config { data_dir, listen, private, demo };
                let nats = nats_url.map(|url| p30::nats::Config { url, replicas: nats_replicas });
                let running = p30::server::start_with_nats(config, nats, p30::server::shutdown_signal()).await?;
                println!("p30 is serving on http://{}", running.addr);
                if let Some(token) = admin {
                    println!("demo data loaded; an admin token for the tour (export P30_TOKEN=…):");
                    println!("{token}");
                }
                running.wait().await
            })
        }
        Command::Token { what: Token::Create { data_dir, role, agencies, name } } => {
            let token = p30::access::create_token(&data_dir, role, agencies, name)?;
            println!("a new {} token (keep it secret; only its hash is stored):", format!("{role:?}").to_lowercase());
            println!("{token}");
            Ok(())
        }
        Command::Import { data_dir, file } => {
            let log = open_log(&data_dir)?;
            let actor = format!("import:{}", file.file_name().map(|f| f.to_string_lossy()).unwrap_or_default());
            let n = p30::inventory::import(&log, &file, &actor)?;
            log.close();
            println!("imported {n} procedures from {}", file.display());
            Ok(())
        }
        Command::Export { data_dir, format, after } => {
            let log = open_log(&data_dir)?;
            p30::export::export(&log, format, after, std::io::stdout().lock())?;
            log.close();
            Ok(())
        }
        Command::Report { data_dir, as_of, known_at, baseline_on, group_by, format } => {
            let date = |name: &str, v: Option<String>| {
                v.map(|v| events::value::Date::parse(&v).map_err(|e| anyhow::anyhow!("--{name} {e}"))).transpose()
            };
            let (as_of, baseline_on) = (date("as-of", as_of)?, date("baseline-on", baseline_on)?);
            let known_at = known_at
                .map(|v| {
                    let params = p30::http::query::Params([("known_at".to_owned(), v)].into());
                    params.time("known_at").map_err(|p| anyhow::anyhow!("--known-at {}", p.errors[0].message))
                })
                .transpose()?
                .flatten();
            let group_by = match group_by.as_str() {
                "agency" => projections::GroupBy::Agency,
                "sector" => projections::GroupBy::Sector,
                "level" => projections::GroupBy::Level,
                _ => projections::GroupBy::All,
            };
            let log = open_log(&data_dir)?;
            let reductions = p30::report::report(&log, as_of, known_at, baseline_on, group_by)?;
            log.close();
            match format {
                p30::report::Format::Json => println!("{}", serde_json::to_string_pretty(&reductions)?),
                p30::report::Format::Table => print!("{}", p30::report::table(&reductions)),
            }
            Ok(())
        }
        Command::Verify { data_dir } => {
            if !data_dir.is_dir() {
                anyhow::bail!("no data dir at {}", data_dir.display());
            }
            let report = eventstore::verify(&data_dir)?;
            println!("ok: {} events in {} streams, all intact", report.events, report.streams);
            Ok(())
        }
        Command::Bench { what: Bench::Http { connections, seconds, rounds, procedures, client_threads } } => {
            let settings = p30::bench::HttpSettings { connections, seconds, rounds, procedures, client_threads };
            let runtime = tokio::runtime::Runtime::new()?;
            for figure in runtime.block_on(p30::bench::http(&settings))? {
                println!("{}", figure.json_line());
            }
            Ok(())
        }
        Command::Bench { what: Bench::Rebuild { data, rounds, decoders, sequential } } => {
            let decoders = decoders.unwrap_or_else(p30::live::default_decoders).max(1);
            let settings =
                p30::bench::RebuildSettings { data: data.data(), rounds: rounds.max(1), decoders, sequential };
            for figure in p30::bench::rebuild(&settings)? {
                println!("{}", figure.json_line());
            }
            Ok(())
        }
        Command::Bench { what: Bench::Round { what, decoders, data_dir } } => {
            let round = match what.as_str() {
                "scan" => p30::bench::Round::Scan,
                "rebuild" => p30::bench::Round::Rebuild(decoders.max(1)),
                "sequential" => p30::bench::Round::Sequential,
                other => anyhow::bail!("no round {other:?}: scan, rebuild or sequential"),
            };
            println!("{}", round.run(&data_dir)?);
            Ok(())
        }
        Command::Bench { what: Bench::AsOf { data, samples } } => {
            let settings = p30::bench::AsOfSettings { data: data.data(), samples: samples.max(1) };
            for figure in p30::bench::as_of(&settings)? {
                println!("{}", figure.json_line());
            }
            Ok(())
        }
        Command::Bench { what: Bench::LiveUpdate { data, samples } } => {
            let settings = p30::bench::AsOfSettings { data: data.data(), samples: samples.max(1) };
            for figure in p30::bench::live_update(&settings)? {
                println!("{}", figure.json_line());
            }
            Ok(())
        }
        Command::Bench { what: Bench::Append { writers, per_writer, per_writer_fsync_each, rounds } } => {
            let settings = p30::bench::AppendSettings { writers, per_writer, per_writer_fsync_each, rounds };
            let runtime = tokio::runtime::Runtime::new()?;
            for figure in runtime.block_on(p30::bench::append(&settings))? {
                println!("{}", figure.json_line());
            }
            Ok(())
        }
    }
}
