//! Recently read streams, kept decoded, so that a command on a procedure does not read and decode the
//! procedure's whole history again each time (its stream only grows: reading it made every write
//! slower than the one before).
//!
//! The committer keeps the cache exact: after each fsync, and before the durable head moves, it appends
//! the events it made durable to the streams the cache holds. A reader that finds a stream here gets
//! exactly what it would read from disk at the durable head. A stream read from disk is put in only if
//! no commit came between the read's head and the put, so a stale read can never land here.
//! The cache holds at most `capacity` events. Past that, streams go in no particular order (the hash
//! map's), sparing those used since the last eviction: a least-recently-used rule would keep nothing
//! useful when many streams are written in turn (it evicts exactly the stream needed next), while this
//! keeps a share of them, and a few busy streams stay.

use std::collections::HashMap;
use std::sync::Arc;

use events::{Event, StreamId};

/// The events of one stream, in version order, shared with those who read them.
pub type StreamEvents = Arc<Vec<Event>>;

#[derive(Debug)]
struct Entry {
    events: StreamEvents,
    used: u64,
}

#[derive(Debug)]
pub(crate) struct StreamCache {
    streams: HashMap<StreamId, Entry>,
    /// The seq of the last commit applied here: the durable head, or for a moment just ahead of it.
    through: u64,
    /// Events held, over all streams.
    held: usize,
    capacity: usize,
    /// Counts reads, to tell which streams were used since the last eviction.
    tick: u64,
    last_eviction: u64,
}

impl StreamCache {
    pub fn new(head: u64, capacity: usize) -> Self {
        Self { streams: HashMap::new(), through: head, held: 0, capacity, tick: 0, last_eviction: 0 }
    }

    /// The stream as of the durable `head`, if held.
    pub fn get(&mut self, stream: &StreamId, head: u64) -> Option<StreamEvents> {
        self.tick += 1;
        let entry = self.streams.get_mut(stream)?;
        // Just after a commit, before the head moves, the stream may hold an event readers may not see yet.
        if entry.events.last().is_some_and(|e| e.seq > head) {
            return None;
        }
        entry.used = self.tick;
        Some(entry.events.clone())
    }

    /// Puts in a stream read from disk at `head`, unless a commit came since (the read may miss its
    /// events) or the stream is empty (a code nobody registered must not take room).
    pub fn put(&mut self, stream: &StreamId, events: &StreamEvents, head: u64) {
        if self.capacity == 0 || events.is_empty() || self.through != head || self.streams.contains_key(stream) {
            return;
        }
        self.tick += 1;
        self.held += events.len();
        self.streams.insert(stream.clone(), Entry { events: events.clone(), used: self.tick });
        if self.held > self.capacity {
            self.evict();
        }
    }

    /// Applies a commit: `written` are the new durable events up to `head`, in seq order.
    pub fn committed<'a>(&mut self, written: impl IntoIterator<Item = &'a Event>, head: u64) {
        for event in written {
            let Some(entry) = self.streams.get_mut(&event.stream) else { continue };
            if entry.events.last().map_or(0, |e| e.version) + 1 == event.version {
                // Copies the list only if a reader still holds this version of it (readers rarely do).
                Arc::make_mut(&mut entry.events).push(event.clone());
                self.held += 1;
            } else {
                // Cannot happen while this log is the only writer; dropped, it is read again from disk.
                self.held -= entry.events.len();
                self.streams.remove(&event.stream);
            }
        }
        self.through = self.through.max(head);
        if self.held > self.capacity {
            self.evict();
        }
    }

    /// Drops streams until a quarter of the room is free: first those not used since the last eviction,
    /// then, if that is not enough, any.
    fn evict(&mut self) {
        let target = self.capacity - self.capacity / 4;
        for spare_recent in [true, false] {
            let since = self.last_eviction;
            let held = &mut self.held;
            self.streams.retain(|_, entry| {
                if *held <= target || (spare_recent && entry.used > since) {
                    return true;
                }
                *held -= entry.events.len();
                false
            });
            if self.held <= target {
                break;
            }
        }
        self.last_eviction = self.tick;
    }

    #[cfg(test)]
    fn held(&self) -> (usize, usize) {
        (self.streams.len(), self.held)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An event of `stream` (a procedure's, by its code) at `seq` and `version`; only those matter here.
    fn event(code: &str, seq: u64, version: u64) -> Event {
        let json = serde_json::json!({
            "event_id": uuid::Uuid::nil(), "seq": seq, "stream": format!("procedure-{code}"), "version": version,
            "type": "ProcedureAbolished", "schema_version": 1, "recorded_at": "2024-01-01T00:00:00Z",
            "effective_on": "2024-01-01", "actor": "t", "command_id": null, "legal_basis": "", "note": "",
            "payload": {"code": code, "reason": "x"}
        });
        events::codec::decode(json.to_string().as_bytes()).expect("an event")
    }

    fn stream(code: &str) -> StreamId {
        StreamId::procedure(&events::value::ProcedureCode::parse(code).expect("a code"))
    }

    #[test]
    fn a_read_that_a_commit_overtook_is_not_kept() {
        let mut cache = StreamCache::new(10, 100);
        let s = stream("1.000001");
        let read_at_10 = Arc::new(vec![event("1.000001", 3, 1)]);
        // A commit of seq 11 to this stream lands between the read (at head 10) and the put.
        cache.committed(&[event("1.000001", 11, 2)], 11);
        cache.put(&s, &read_at_10, 10);
        assert!(cache.get(&s, 11).is_none(), "the read at head 10 lacks seq 11");
        // Read again at the new head, it is kept, and commits after it are appended.
        let read_at_11 = Arc::new(vec![event("1.000001", 3, 1), event("1.000001", 11, 2)]);
        cache.put(&s, &read_at_11, 11);
        cache.committed(&[event("1.000001", 12, 3)], 12);
        let seqs: Vec<u64> = cache.get(&s, 12).expect("held").iter().map(|e| e.seq).collect();
        assert_eq!(seqs, [3, 11, 12]);
    }

    #[test]
    fn an_event_not_yet_below_the_durable_head_is_not_shown() {
        let mut cache = StreamCache::new(1, 100);
        let s = stream("1.000001");
        cache.put(&s, &Arc::new(vec![event("1.000001", 1, 1)]), 1);
        cache.committed(&[event("1.000001", 2, 2)], 2);
        assert!(cache.get(&s, 1).is_none(), "seq 2 is committed but the head is still 1");
        assert_eq!(cache.get(&s, 2).expect("held").len(), 2);
    }

    #[test]
    fn a_gap_in_versions_drops_the_stream_and_empty_streams_take_no_room() {
        let mut cache = StreamCache::new(1, 100);
        let s = stream("1.000001");
        cache.put(&s, &Arc::new(vec![event("1.000001", 1, 1)]), 1);
        cache.committed(&[event("1.000001", 5, 3)], 5);
        assert!(cache.get(&s, 5).is_none());
        cache.put(&stream("9.999999"), &Arc::new(Vec::new()), 5);
        assert_eq!(cache.held(), (0, 0));
    }

    #[test]
    fn past_its_capacity_streams_used_since_the_last_eviction_stay() {
        let mut cache = StreamCache::new(0, 8);
        let put = |cache: &mut StreamCache, code: &str, first: u64| {
            let events = (0..2).map(|v| event(code, first + v, v + 1)).collect();
            cache.put(&stream(code), &Arc::new(events), 0);
        };
        let first: Vec<String> = (0..4).map(|i| format!("1.00000{i}")).collect();
        for (i, code) in first.iter().enumerate() {
            put(&mut cache, code, i as u64 * 2 + 1);
        }
        assert_eq!(cache.held(), (4, 8));
        // A fifth stream needs room: with none evicted before, every stream counts as used since, so
        // any go, down to three quarters of the room.
        cache.put(&stream("2.000000"), &Arc::new(vec![event("2.000000", 9, 1)]), 0);
        let (streams, held) = cache.held();
        assert!(held <= 6 && streams < 5, "{streams} streams, {held} events");
        // One of the streams still held is used; two more come in, and the room runs out again.
        let busy = first.iter().find(|c| cache.streams.contains_key(&stream(c))).expect("some stay").clone();
        cache.get(&stream(&busy), 100).expect("held");
        put(&mut cache, "3.000001", 20);
        put(&mut cache, "3.000002", 22);
        // Those neither used nor put since the last eviction went first, and that was room enough.
        let held: Vec<&str> = ["1.000000", "1.000001", "1.000002", "1.000003", "2.000000", "3.000001", "3.000002"]
            .into_iter()
            .filter(|c| cache.streams.contains_key(&stream(c)))
            .collect();
        assert_eq!(held, {
            let mut expected = vec![busy.as_str(), "3.000001", "3.000002"];
            expected.sort_unstable();
            expected
        });
        assert_eq!(cache.held(), (3, 6));
    }
}
