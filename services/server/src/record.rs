//! Recording a command: read the streams it touches, check who may write, check `If-Match`, decide,
//! and append with the versions that were read, deciding again if another writer got there first.
//!
//! The streams come from the log's cache of decoded streams, shared, not copied; the history is dropped
//! before the append waits, so the committer can extend the cached streams in place. A lost race (the
//! append's expected version is stale) decides again, unless the client sent `If-Match`, which is then
//! its own conflict (409).

use events::decide::{Command, History, Refusal, agencies_touched, streams_of};
use events::{Change, Event, StreamId};
use eventstore::{Append, AppendError, Appended, ExpectedVersion, Hash, Log, ReadError};

use crate::access::Grant;

/// How many times a command is decided again after losing a race to another writer.
const RETRIES: usize = 16;

/// A command with what the HTTP layer knows about its request.
#[derive(Clone, Debug)]
pub struct Recording {
    pub command: Command,
    pub grant: Grant,
    /// `Idempotency-Key` and the digest of method, path and body.
    pub idempotency: Option<(String, Hash)>,
    /// The version the writer saw of the stream named in the path (`If-Match`), or, for a merge, of each
    /// stream (`expected_versions`).
    pub expected: Vec<(StreamId, u64)>,
}

/// Why a command was not recorded.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error(transparent)]
    Refused(#[from] Refusal),
    #[error("this token may not write for {0}")]
    Forbidden(String),
    #[error("{stream} is at version {current}")]
    Conflict { stream: StreamId, current: u64 },
    #[error("this Idempotency-Key was already used for a different request")]
    KeyReused,
    /// The log cannot be read (HTTP 503).
    #[error("the log cannot be read")]
    Read(#[from] ReadError),
    /// The log cannot write (disk full, an I/O error; HTTP 503): nothing was written.
    #[error("the log cannot write")]
    Append(#[source] AppendError),
    /// Other writers kept changing these streams while this command was decided again and again.
    #[error("too many concurrent writers on these procedures; try again")]
    Contended,
}

/// The streams a command reads: those it writes, or for a retraction those of the event it names.
fn streams_to_read(log: &Log, change: &Change) -> Result<Vec<StreamId>, RecordError> {
    let Change::EntryRetracted(r) = change else { return Ok(streams_of(change)) };
    let Some(target) = log.find(r.event_id)? else {
        return Err(Refusal::UnknownEvent { event_id: r.event_id }.into());
    };
    let mut streams = streams_of(&target.change);
    if streams.is_empty() || !streams.contains(&target.stream) {
        streams.push(target.stream);
    }
    Ok(streams)
}

fn is_settings(change: &Change, streams: &[StreamId]) -> bool {
    matches!(change, Change::TariffSet(_) | Change::ProgrammeDefined(_))
        || streams.iter().all(|s| *s == StreamId::Settings)
}

/// Records a command; returns the events written, or those of the first attempt for a repeated key.
pub async fn record(log: &Log, recording: Recording) -> Result<Appended, RecordError> {
    if let Some((key, fingerprint)) = &recording.idempotency
        && let Some((first, events)) = log.command(key)?
    {
        if first != *fingerprint {
            return Err(RecordError::KeyReused);
        }
        // Only whoever wrote it first (or an admin) sees the first answer again.
        let same_writer = events.first().is_some_and(|e| e.actor == recording.grant.name);
        if !same_writer && recording.grant.role != crate::access::Role::Admin {
            return Err(RecordError::Forbidden("a command another writer recorded".into()));
        }
        return Ok(Appended { events, replayed: true });
    }
    let change = &recording.command.change;
    for _ in 0..RETRIES {
        let streams = streams_to_read(log, change)?;
        // Shared with the log's cache of decoded streams: no copy, and dropped before the append waits
        // (the committer then extends the cached streams in place instead of copying them).
        let mut history = History::new();
        for s in &streams {
            history.insert_stream(s.clone(), log.read_stream(s)?);
        }
        let version = |s: &StreamId| history.stream(s).last().map_or(0, |e: &Event| e.version);
        if is_settings(change, &streams) {
            if recording.grant.role != crate::access::Role::Admin {
                return Err(RecordError::Forbidden("settings (admin only)".to_owned()));
            }
        } else {
            let agencies = agencies_touched(change, &history, &streams);
            if !recording.grant.may_write_for(agencies.iter().map(|a| a.as_str())) {
                let named: Vec<&str> = agencies.iter().map(|a| a.as_str()).collect();
                return Err(RecordError::Forbidden(named.join(", ")));
            }
        }
        for (stream, seen) in &recording.expected {
            let current = version(stream);
            if current != *seen {
                return Err(RecordError::Conflict { stream: stream.clone(), current });
            }
        }
        let events = events::decide(&recording.command, &history)?;
        let mut expected: Vec<(StreamId, ExpectedVersion)> = streams
            .iter()
            .map(|s| match version(s) {
                0 => (s.clone(), ExpectedVersion::NoStream),
                v => (s.clone(), ExpectedVersion::Exactly(v)),
            })
            .collect();
        drop(history);
        // Settings carry no rules that another writer could break, except that of retracting twice.
        if !matches!(change, Change::EntryRetracted(_)) {
            expected.retain(|(s, _)| *s != StreamId::Settings);
        }
        let append = Append {
            events,
            expected,
            actor: recording.grant.name.clone(),
            command_id: recording.idempotency.as_ref().map(|(k, _)| k.clone()),
            fingerprint: recording.idempotency.as_ref().map_or([0; 32], |(_, f)| *f),
        };
        let started = std::time::Instant::now();
        let appended = log.append_async(append).await;
        metrics::histogram!("p30_append_seconds").record(started.elapsed().as_secs_f64());
        match appended {
            Ok(appended) => return Ok(appended),
            // Another writer changed a stream since we read it: with If-Match that is the caller's
            // conflict; without, read and decide again.
            Err(AppendError::Conflict { stream, current, .. }) => {
                if !recording.expected.is_empty() {
                    return Err(RecordError::Conflict { stream, current });
                }
            }
            Err(AppendError::CommandIdReused { .. }) => return Err(RecordError::KeyReused),
            Err(e) => return Err(RecordError::Append(e)),
        }
    }
    Err(RecordError::Contended)
}
