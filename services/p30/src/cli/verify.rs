//! `p30 verify`: walks the log and its indexes; names the first bad seq and exits non-zero if any.

use super::DataDir;

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    data_dir: DataDir,
}

impl Args {
    pub fn run(self) -> anyhow::Result<()> {
        let data_dir = self.data_dir.path;
        if !data_dir.is_dir() {
            anyhow::bail!("no data dir at {}", data_dir.display());
        }
        let report = eventstore::verify(&data_dir)?;
        println!("ok: {} events in {} streams, all intact", report.events, report.streams);
        Ok(())
    }
}
