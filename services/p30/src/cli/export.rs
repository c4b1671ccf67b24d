//! `p30 export`: the log for analysts, on standard output.

use super::{DataDir, open_log};

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    data_dir: DataDir,
    /// ndjson or csv.
    #[arg(long, default_value = "ndjson")]
    format: server::export::Format,
    /// Only events after this seq.
    #[arg(long, default_value_t = 0)]
    after: u64,
}

impl Args {
    pub fn run(self) -> anyhow::Result<()> {
        let log = open_log(&self.data_dir.path)?;
        server::export::export(&log, self.format, self.after, std::io::stdout().lock())?;
        log.close();
        Ok(())
    }
}
