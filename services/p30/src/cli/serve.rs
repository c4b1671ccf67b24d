//! `p30 serve`: binds the listener, starts the server on the data dir, and serves until Ctrl-C or SIGTERM.

use anyhow::Context;

use super::DataDir;

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    data_dir: DataDir,
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
}

impl Args {
    pub fn run(self) -> anyhow::Result<()> {
        tracing_subscriber::fmt()
            .with_env_filter(
                tracing_subscriber::EnvFilter::try_from_default_env()
                    .unwrap_or_else(|_| "info,fjall=warn,lsm_tree=warn".into()),
            )
            .init();
        let data_dir = self.data_dir.path;
        let runtime = tokio::runtime::Runtime::new()?;
        runtime.block_on(async {
            let admin = if self.demo {
                let role = server::access::Role::Admin;
                Some(server::access::create_token(&data_dir, role, vec![], Some("demo-admin".into()))?)
            } else {
                None
            };
            let listener = tokio::net::TcpListener::bind(&self.listen)
                .await
                .with_context(|| format!("cannot listen on {}", self.listen))?;
            let nats = self.nats_url.map(|url| server::nats::Config { url, replicas: self.nats_replicas });
            let config = server::Config { data_dir, private: self.private, demo: self.demo, nats };
            let running = server::run(listener, config, server::shutdown_signal()).await?;
            println!("p30 is serving on http://{}", running.addr);
            if let Some(token) = admin {
                println!("demo data loaded; an admin token for the tour (export P30_TOKEN=…):");
                println!("{token}");
            }
            running.wait().await
        })
    }
}
