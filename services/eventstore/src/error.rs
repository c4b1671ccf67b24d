//! The log's errors: expected refusals (conflicts, reused command ids) apart from failures of the disk.

use std::path::PathBuf;
use std::sync::Arc;

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
    #[error(transparent)]
    Unavailable(#[from] Unavailable),
    #[error("the event log is closed")]
    Closed,
    /// Another node wrote at the log position this append was decided at: decide again, caught up.
    #[error("another node wrote first at this position of the cluster's log")]
    Superseded,
}

/// Why the log cannot write now: what failed, with the storage engine's error as the cause. Shared by
/// every append a failed commit answers, so its causes are behind `Arc`s.
#[derive(Clone, Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Unavailable {
    /// Writing a commit's batch failed; the log refuses writes from then on.
    #[error("the event log cannot write")]
    Write(#[source] Arc<fjall::Error>),
    /// The fsync of a commit failed; the log refuses writes from then on.
    #[error("the event log cannot fsync")]
    Sync(#[source] Arc<fjall::Error>),
    /// An earlier write or fsync failed (fjall poisons itself after a failed fsync): until a restart.
    #[error("the event log stopped writing after a failure; restart p30")]
    Stopped,
    /// What the append must check could not be read.
    #[error("the event log cannot read what the append checks")]
    Read(#[source] Arc<ReadError>),
    /// This data dir is a node's copy of a cluster's log: it takes events only from the cluster.
    #[error("this data dir is a copy of a cluster's log (P30_LOG); it takes writes only from the cluster")]
    FollowerCopy,
    /// The cluster's log cannot be reached or did not answer (a node of a cluster).
    #[error("the cluster's log cannot be reached: {0}")]
    Cluster(String),
    /// The command index names events the log does not hold.
    #[error("the command index of {command_id:?} is corrupt")]
    CorruptCommandIndex { command_id: String },
}

impl From<fjall::Error> for Unavailable {
    fn from(e: fjall::Error) -> Self {
        Self::Read(Arc::new(ReadError::Storage(e)))
    }
}

impl From<ReadError> for Unavailable {
    fn from(e: ReadError) -> Self {
        Self::Read(Arc::new(e))
    }
}

/// Why the log could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReadError {
    #[error("the storage engine cannot read")]
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
    #[error("cannot open the data dir {}", path.display())]
    Storage { path: PathBuf, source: fjall::Error },
    #[error("cannot read the log")]
    Read(#[source] ReadError),
    #[error("the data dir {} holds a single machine's log, not a copy of a cluster's: serve it without --cluster, or copy it into the cluster with p30 migrate", path.display())]
    NotAFollower { path: PathBuf },
}

impl OpenError {
    pub(crate) fn from_fjall(path: &std::path::Path, e: fjall::Error) -> Self {
        match e {
            fjall::Error::Locked => Self::Locked { path: path.to_owned() },
            fjall::Error::Io(source) if source.kind() == std::io::ErrorKind::WouldBlock => {
                Self::Locked { path: path.to_owned() }
            }
            other => Self::Storage { path: path.to_owned(), source: other },
        }
    }
}
