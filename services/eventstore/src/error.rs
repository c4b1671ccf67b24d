//! The log's errors: expected refusals (conflicts, reused command ids) apart from failures of the disk.

use std::path::PathBuf;

use events::StreamId;

use crate::ExpectedVersion;

/// Why an append wrote nothing.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AppendError {
    #[error("stream {stream} is at version {current}, not the expected {expected:?}")]
    Conflict { stream: StreamId, expected: ExpectedVersion, current: u64 },
    #[error("command id {command_id:?} was already used for a different command")]
    CommandIdReused { command_id: String },
    #[error("an append needs at least one event")]
    Empty,
    /// The log cannot write (disk full, I/O error); nothing of this append is durable.
    #[error("{0}")]
    Unavailable(String),
    #[error("the event log is closed")]
    Closed,
}

/// Why the log could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReadError {
    #[error("storage: {0}")]
    Storage(#[from] fjall::Error),
    #[error("event {seq} is corrupt: {problem}")]
    Corrupt { seq: u64, problem: String },
}

/// Why the log could not be opened.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OpenError {
    #[error("another process has the data dir {} open (is a p30 server running on it?)", path.display())]
    Locked { path: PathBuf },
    #[error("cannot open the data dir {}: {source}", path.display())]
    Io { path: PathBuf, source: std::io::Error },
    #[error("cannot open the data dir {}: {message}", path.display())]
    Storage { path: PathBuf, message: String },
    #[error("cannot read the log: {0}")]
    Read(ReadError),
}

impl OpenError {
    pub(crate) fn from_fjall(path: &std::path::Path, e: fjall::Error) -> Self {
        match e {
            fjall::Error::Locked => Self::Locked { path: path.to_owned() },
            fjall::Error::Io(source) if source.kind() == std::io::ErrorKind::WouldBlock => {
                Self::Locked { path: path.to_owned() }
            }
            other => Self::Storage { path: path.to_owned(), message: other.to_string() },
        }
    }
}
