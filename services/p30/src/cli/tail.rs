//! `p30 tail`: prints events from NATS (`P30_EVENTS`) as they arrive.

#[derive(clap::Args, Debug)]
pub struct Args {
    #[arg(long, default_value = "nats://127.0.0.1:4222")]
    nats_url: String,
    /// From the first event in the stream, not only new ones.
    #[arg(long)]
    from_start: bool,
}

impl Args {
    pub fn run(self) -> anyhow::Result<()> {
        let runtime = tokio::runtime::Runtime::new()?;
        runtime.block_on(server::nats::tail(&self.nats_url, self.from_start, std::io::stdout().lock()))
    }
}
