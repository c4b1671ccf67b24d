//! `p30 bench …`: each benchmark of BENCH.md, run beside its baseline; one JSON line per figure.

use std::path::PathBuf;

use bench::Figure;

#[derive(clap::Subcommand, Debug)]
pub enum Bench {
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
        data_dir: PathBuf,
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
pub struct ScaleArgs {
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
    fn data(self) -> bench::rebuild::ScaleData {
        let spec = bench::dataset::Spec { seed: self.seed, procedures: self.procedures, events: self.events };
        bench::rebuild::ScaleData { spec, data_dir: self.data_dir }
    }
}

fn print(figures: Vec<Figure>) {
    for figure in figures {
        println!("{}", figure.json_line());
    }
}

impl Bench {
    pub fn run(self) -> anyhow::Result<()> {
        match self {
            Self::Live { subscribers, events_per_second, events, rounds } => {
                let settings = bench::live::LiveSettings { subscribers, events_per_second, events, rounds };
                print(tokio::runtime::Runtime::new()?.block_on(bench::live::live(&settings))?);
            }
            Self::Http { connections, seconds, rounds, procedures, client_threads } => {
                let settings = bench::http::HttpSettings { connections, seconds, rounds, procedures, client_threads };
                print(tokio::runtime::Runtime::new()?.block_on(bench::http::http(&settings))?);
            }
            Self::Rebuild { data, rounds, decoders, sequential } => {
                let decoders = decoders.unwrap_or_else(server::live::default_decoders).max(1);
                let data = data.data();
                let settings = bench::rebuild::RebuildSettings { data, rounds: rounds.max(1), decoders, sequential };
                print(bench::rebuild::rebuild(&settings)?);
            }
            Self::Round { what, decoders, data_dir } => {
                let round = match what.as_str() {
                    "scan" => bench::rebuild::Round::Scan,
                    "rebuild" => bench::rebuild::Round::Rebuild(decoders.max(1)),
                    "sequential" => bench::rebuild::Round::Sequential,
                    other => anyhow::bail!("no round {other:?}: scan, rebuild or sequential"),
                };
                println!("{}", round.run(&data_dir)?);
            }
            Self::AsOf { data, samples } => {
                let settings = bench::as_of::AsOfSettings { data: data.data(), samples: samples.max(1) };
                print(bench::as_of::as_of(&settings)?);
            }
            Self::LiveUpdate { data, samples } => {
                let settings = bench::as_of::AsOfSettings { data: data.data(), samples: samples.max(1) };
                print(bench::live_update::live_update(&settings)?);
            }
            Self::Append { writers, per_writer, per_writer_fsync_each, rounds } => {
                let settings = bench::append::AppendSettings { writers, per_writer, per_writer_fsync_each, rounds };
                print(tokio::runtime::Runtime::new()?.block_on(bench::append::append(&settings))?);
            }
        }
        Ok(())
    }
}
