//! `verify`: walks the log and its indexes and names the first event that is not as it was written.

use std::collections::HashMap;
use std::path::Path;

use crate::keys;
use crate::{OpenError, Store};

/// What a clean walk saw.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifyReport {
    pub events: u64,
    pub streams: u64,
    pub head_hash: keys::Hash,
}

/// The first problem found, at the smallest `seq` it touches.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error(transparent)]
    Open(#[from] OpenError),
    #[error("seq {seq}: {problem}")]
    Bad { seq: u64, problem: String },
}

fn bad(seq: u64, problem: impl Into<String>) -> VerifyError {
    VerifyError::Bad { seq, problem: problem.into() }
}

/// Checks, for the log in `dir`: seqs gap-free from 1; every event decodes and carries its own seq;
/// the hash chain; `recorded_at` never decreasing; stream versions gap-free from 1 and indexed; event
/// ids indexed; and no index entry pointing anywhere else.
pub fn verify(dir: &Path) -> Result<VerifyReport, VerifyError> {
    if !dir.join("keyspaces").exists() && !dir.exists() {
        return Err(VerifyError::Open(OpenError::Io {
            path: dir.to_owned(),
            source: std::io::Error::new(std::io::ErrorKind::NotFound, "no such directory"),
        }));
    }
    let store = Store::open(dir)?;
    let storage = |seq: u64| move |e: fjall::Error| bad(seq, format!("storage error: {e}"));
    let mut expected_seq = 1;
    let mut hash = [0u8; 32];
    let mut last_recorded = None;
    let mut versions: HashMap<String, u64> = HashMap::new();
    for guard in store.events.iter() {
        let (k, v) = guard.into_inner().map_err(storage(expected_seq))?;
        let seq = keys::read_u64(&k).filter(|_| k.len() == 8).ok_or_else(|| bad(expected_seq, "malformed key"))?;
        if seq != expected_seq {
            return Err(bad(expected_seq.min(seq), format!("gap: expected seq {expected_seq}, found {seq}")));
        }
        let (stored_hash, encoded) = keys::split_event_value(&v).ok_or_else(|| bad(seq, "value too short"))?;
        let computed = keys::chain(&hash, encoded);
        if computed != stored_hash {
            return Err(bad(seq, "hash chain broken: the event's bytes or the chain were changed"));
        }
        let event = events::codec::decode(encoded).map_err(|e| bad(seq, format!("does not decode: {e}")))?;
        if event.seq != seq {
            return Err(bad(seq, format!("event says seq {}", event.seq)));
        }
        if last_recorded.is_some_and(|t| event.recorded_at < t) {
            return Err(bad(seq, "recorded_at goes back in time"));
        }
        last_recorded = Some(event.recorded_at);
        let version = versions.entry(event.stream.name()).or_default();
        *version += 1;
        if event.version != *version {
            return Err(bad(
                seq,
                format!("stream {} version {} where {} was due", event.stream, event.version, version),
            ));
        }
        let indexed = store.streams.get(keys::stream_key(&event.stream.name(), event.version)).map_err(storage(seq))?;
        if indexed.as_deref().and_then(keys::read_u64) != Some(seq) {
            return Err(bad(seq, "stream index does not point at this event"));
        }
        if keys::seq_of(&event.event_id) != seq || event.event_id.get_version_num() != 7 {
            return Err(bad(seq, "event id does not name this seq"));
        }
        hash = stored_hash;
        expected_seq += 1;
    }
    let head = expected_seq - 1;
    // Index entries that point past the head or at the wrong version are as bad as missing ones.
    for guard in store.streams.iter() {
        let (k, v) = guard.into_inner().map_err(storage(head))?;
        let (stream, version) = keys::parse_stream_key(&k).ok_or_else(|| bad(head, "malformed stream index key"))?;
        let seq = keys::read_u64(&v).unwrap_or(0);
        if versions.get(stream).is_none_or(|&last| version > last) || seq == 0 || seq > head {
            return Err(bad(
                seq.min(head),
                format!("stream index names {stream} version {version} at seq {seq}, not in the log"),
            ));
        }
    }
    for guard in store.heads.iter() {
        let (k, v) = guard.into_inner().map_err(storage(head))?;
        let stream = String::from_utf8_lossy(&k);
        let version = keys::read_u64(&v).unwrap_or(0);
        if versions.get(stream.as_ref()) != Some(&version) {
            return Err(bad(head, format!("stream head index says {stream} is at version {version}")));
        }
    }
    if store.heads.iter().count() != versions.len() {
        return Err(bad(head, "stream head index misses a stream"));
    }
    Ok(VerifyReport { events: head, streams: versions.len() as u64, head_hash: hash })
}
