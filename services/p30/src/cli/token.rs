//! `p30 token`: access tokens, created beside the log (a running server takes them without a restart).

use super::DataDir;

#[derive(clap::Subcommand, Debug)]
pub enum Token {
    /// Creates a token and prints it as the last line (works while a server runs on the data dir).
    Create {
        #[command(flatten)]
        data_dir: DataDir,
        /// admin, analyst or recorder.
        #[arg(long)]
        role: server::access::Role,
        /// An agency a recorder may write for (repeat for several).
        #[arg(long = "agency")]
        agencies: Vec<String>,
        /// Who holds the token; recorded as the `actor` of their events.
        #[arg(long)]
        name: Option<String>,
    },
}

impl Token {
    pub fn run(self) -> anyhow::Result<()> {
        match self {
            Self::Create { data_dir, role, agencies, name } => {
                let token = server::access::create_token(&data_dir.path, role, agencies, name)?;
                let role = format!("{role:?}").to_lowercase();
                println!("a new {role} token (keep it secret; only its hash is stored):");
                println!("{token}");
                Ok(())
            }
        }
    }
}
