//! The on-disk layout: five fjall keyspaces written together in one atomic batch per commit.
//!
//! | keyspace   | key                              | value                                         |
//! | ---------- | -------------------------------- | --------------------------------------------- |
//! | `events`   | seq (u64 big-endian)             | chain hash (32 bytes) ++ encoded event        |
//! | `streams`  | stream ++ 0x00 ++ version (u64 BE) | seq (u64 BE)                                |
//! | `heads`    | stream                           | version of its last event (u64 BE)            |
//! | `commands` | command id (UTF-8)               | fingerprint (32) ++ first seq (u64 BE) ++ count (u32 BE) |
//! | `follow`   | `P30_LOG` (a follower copy only)  | the cluster log's message last applied (u64 BE) |
//!
//! The chain hash of event n is SHA-256(chain hash of n−1 ++ encoded event n); before seq 1 it is 32
//! zero bytes. Stream names never contain 0x00, so a stream's keys are exactly those with its prefix.
//!
//! Event ids need no index: an id is a UUID v7 whose 48-bit timestamp is `recorded_at` in milliseconds,
//! whose 12 `rand_a` bits are the sub-millisecond fraction (RFC 9562 §6.2, method 3) and whose 62
//! `rand_b` bits hold the event's seq, so the id alone says where the event is.

use sha2::{Digest, Sha256};

pub const EVENTS: &str = "events";
pub const STREAMS: &str = "streams";
pub const HEADS: &str = "heads";
pub const COMMANDS: &str = "commands";
pub const FOLLOW: &str = "follow";

pub type Hash = [u8; 32];

/// The id of the event at `seq`, recorded at `at` (the rule lives in `events`, where projections read it).
pub fn event_id(seq: u64, at: events::value::Timestamp) -> uuid::Uuid {
    events::event::derived_id(seq, at)
}

/// The seq an event id of this log names (any UUID names one; the event there must carry the id).
pub fn seq_of(id: &uuid::Uuid) -> u64 {
    u64::from_be_bytes(id.as_bytes()[8..].try_into().expect("8 bytes")) & ((1 << 62) - 1)
}

pub fn seq_key(seq: u64) -> [u8; 8] {
    seq.to_be_bytes()
}

pub fn read_u64(bytes: &[u8]) -> Option<u64> {
    Some(u64::from_be_bytes(bytes.get(..8)?.try_into().ok()?))
}

pub fn stream_prefix(stream: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(stream.len() + 9);
    k.extend_from_slice(stream.as_bytes());
    k.push(0);
    k
}

pub fn stream_key(stream: &str, version: u64) -> Vec<u8> {
    let mut k = stream_prefix(stream);
    k.extend_from_slice(&version.to_be_bytes());
    k
}

/// Splits a `streams` key into the stream name and version.
pub fn parse_stream_key(key: &[u8]) -> Option<(&str, u64)> {
    let (name, version) = key.split_at_checked(key.len().checked_sub(9)?)?;
    if version[0] != 0 {
        return None;
    }
    Some((std::str::from_utf8(name).ok()?, read_u64(&version[1..])?))
}

pub fn chain(previous: &Hash, encoded: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update(previous);
    h.update(encoded);
    h.finalize().into()
}

pub fn event_value(hash: &Hash, encoded: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(32 + encoded.len());
    v.extend_from_slice(hash);
    v.extend_from_slice(encoded);
    v
}

/// Splits an `events` value into its chain hash and encoded event.
pub fn split_event_value(value: &[u8]) -> Option<(Hash, &[u8])> {
    let (hash, encoded) = value.split_at_checked(32)?;
    Some((hash.try_into().ok()?, encoded))
}

pub fn command_value(fingerprint: &Hash, first_seq: u64, count: u32) -> Vec<u8> {
    let mut v = Vec::with_capacity(44);
    v.extend_from_slice(fingerprint);
    v.extend_from_slice(&first_seq.to_be_bytes());
    v.extend_from_slice(&count.to_be_bytes());
    v
}

pub fn parse_command_value(v: &[u8]) -> Option<(Hash, u64, u32)> {
    if v.len() != 44 {
        return None;
    }
    Some((v[..32].try_into().ok()?, read_u64(&v[32..40])?, u32::from_be_bytes(v[40..44].try_into().ok()?)))
}
