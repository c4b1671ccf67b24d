//! A follower copy: the log as a node of a cluster keeps it, written only from the cluster's log.
//!
//! The cluster's log (JetStream's `P30_LOG`) holds one message per group commit, a [`Commit`]: the
//! commands it records, each with its events exactly as a log stores them (chain hash and encoded
//! bytes). A follower applies the messages in order ([`crate::Log::apply`]), checking that each event
//! continues the chain, its seq and its stream's version; the position of the last message applied is
//! written in the same batch as its events, so a copy is always a prefix of the cluster's log and
//! knows where to follow on from. The copy is not fsynced per message: after a crash it may have lost
//! its last messages, never half of one, and reads them again from the cluster.

use serde::{Deserialize, Serialize};

use crate::keys::Hash;
use crate::sequencer::{SequencedAppend, Stored};

/// The key of the follow position in the `follow` keyspace.
pub(crate) const POSITION_KEY: &[u8] = b"P30_LOG";

/// The encoding of [`Commit`] messages (the `P30-Format` header of `P30_LOG`).
pub const COMMIT_FORMAT: u32 = 1;

/// One message of the cluster's log: a group commit.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Commit {
    pub commands: Vec<CommittedCommand>,
}

/// One command of a group commit, with its events as stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommittedCommand {
    pub command_id: Option<String>,
    pub fingerprint: Hash,
    pub events: Vec<StoredEvent>,
}

/// An event as the log stores it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredEvent {
    pub hash: Hash,
    pub encoded: Vec<u8>,
}

/// Why a message of the cluster's log cannot be applied.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    #[error("message {position} of the cluster's log does not decode: {problem}")]
    Malformed { position: u64, problem: String },
    #[error("message {position} of the cluster's log does not continue this copy: {problem}")]
    Diverged { position: u64, problem: String },
    #[error("this data dir holds a single machine's log, not a copy of a cluster's (use p30 migrate)")]
    NotAFollower,
    #[error(transparent)]
    Read(#[from] crate::ReadError),
    #[error("the copy cannot be written")]
    Write(#[source] fjall::Error),
}

impl Commit {
    /// Adds a sequenced append (nothing, for a replay).
    pub fn push(&mut self, sequenced: &SequencedAppend) {
        if sequenced.appended.replayed || sequenced.stored.is_empty() {
            return;
        }
        let (command_id, fingerprint) = match &sequenced.command {
            Some((id, fingerprint)) => (Some(id.clone()), *fingerprint),
            None => (None, [0; 32]),
        };
        let events =
            sequenced.stored.iter().map(|s| StoredEvent { hash: s.hash, encoded: s.encoded.clone() }).collect();
        self.commands.push(CommittedCommand { command_id, fingerprint, events });
    }

    /// How many events it holds.
    pub fn events(&self) -> usize {
        self.commands.iter().map(|c| c.events.len()).sum()
    }

    pub fn encode(&self) -> Vec<u8> {
        postcard::to_stdvec(self).expect("a commit always encodes")
    }

    pub fn decode(position: u64, bytes: &[u8]) -> Result<Self, ApplyError> {
        postcard::from_bytes(bytes).map_err(|e| ApplyError::Malformed { position, problem: e.to_string() })
    }
}

impl StoredEvent {
    pub(crate) fn as_stored(&self) -> Stored {
        Stored { hash: self.hash, encoded: self.encoded.clone() }
    }
}
