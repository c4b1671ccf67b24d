//! The rebuild at start: every event in the log, scanned, decoded on the cores' threads and folded in
//! order into a fresh projection.
//!
//! A scanner thread copies the stored bytes into chunks of 2 048 events, dealt round robin to one decoder
//! thread per core. A decoder glances at each stored event (`codec::glance`: the envelope's numbers, the
//! stream borrowed, no allocation; changes that set only numbers and categories, and estimate revisions,
//! are read by hand from postcard's bytes in `codec::glance_plain`, the rest through serde) and, for the
//! simplifications, amendments and estimate revisions that are nearly all of a log, makes it into the entry
//! it adds (`projections::Prepared`, its texts moved out of the glance, not copied; with the procedure's code
//! held inline as its key); the rest it decodes whole, without the envelope's prose, which projections
//! never read (`codec::decode_for_projection`). The calling thread folds the chunks in seq order, in
//! place. Before the scan the fold is told each stream's length (the log's `heads`), so a procedure gets
//! room for all its entries when it is registered: no timeline grows in steps, and procedures registered
//! together are neighbours in memory, which is also what keeps a reductions pass fast. The code index is
//! an open-addressing table of 32-byte slots holding the codes inline (`CodeIndex`), so a lookup reads one
//! cache line. For a window of 32 events the fold computes each one's slot, loads the slots, looks the
//! procedures up, loads their records, then the end of each one's timeline, then appends the entries:
//! each pass is of loads that do not wait on one another, so the cache misses of a window overlap. Texts (names, documents, legal bases) go into one list
//! beside the timelines, and each timeline gets exactly the room for its own when the fold settles, instead of
//! growing a vector in steps. Each timeline touched is sorted and
//! rebuilt once at the end, on as many threads as there are decoders. Event ids are not kept: the log
//! derives them from seq and `recorded_at` (`events::event::derived_id`), which every entry holds.

use events::Event;
use eventstore::Log;
use projections::{Projection, ToFold};

/// Everything in the log, folded from scratch (the rebuild at start): decoded in parallel, folded in order.
pub fn rebuild(log: &Log) -> anyhow::Result<Projection> {
    let mut projection = rebuild_parallel(log, default_decoders())?;
    projection.set_query_threads(default_decoders());
    Ok(projection)
}

/// Decoder threads for a rebuild: one per core. The scan and the fold take a thread each as well; on two
/// cores 1, 2 and 3 decoders rebuilt 10 M events equally fast, since the fold is the slowest stage.
pub fn default_decoders() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
}

/// The plain rebuild, all on the calling thread: read a batch, decode it, fold it. Kept as the reference
/// the parallel one must equal, and for comparison in `p30 bench rebuild`.
pub fn rebuild_sequential(log: &Log) -> anyhow::Result<Projection> {
    let mut projection = Projection::new();
    projection.expect_streams(log.stream_versions()?);
    let mut after = 0;
    let batches = std::iter::from_fn(|| match log.read_after(after, 50_000) {
        Ok(events) if events.is_empty() => None,
        Ok(events) => {
            after = events.last().map_or(after, |e| e.seq);
            Some(Ok(events))
        }
        Err(e) => Some(Err(e)),
    });
    let mut failure = None;
    // One bulk fold over the whole log: `extend` finishes a bulk fold at its end (sorting what it touched),
    // so it is called once, not once per batch.
    let events = batches.map_while(|b| b.map_err(|e| failure = Some(e)).ok()).flatten();
    projection.extend(events).map_err(|e| anyhow::anyhow!("cannot fold event: {e}"))?;
    if let Some(e) = failure {
        return Err(e.into());
    }
    Ok(projection)
}

/// Events per chunk a decoder takes: enough that hand-offs cost nothing per event, few enough that the
/// chunks in flight stay a few megabytes.
const CHUNK_EVENTS: usize = 2048;

/// Stored events copied out of the scan: their bytes back to back, where each ends, and their seqs.
#[derive(Default)]
struct RawChunk {
    bytes: Vec<u8>,
    ends: Vec<u32>,
    seqs: Vec<u64>,
}

impl RawChunk {
    /// An empty chunk with the room `full` took, so that filling it never grows it in steps.
    fn with_room_like(full: &Self) -> Self {
        Self {
            bytes: Vec::with_capacity(full.bytes.capacity()),
            ends: Vec::with_capacity(full.ends.capacity()),
            seqs: Vec::with_capacity(full.seqs.capacity()),
        }
    }

    fn push(&mut self, seq: u64, bytes: &[u8]) {
        self.bytes.extend_from_slice(bytes);
        self.ends.push(self.bytes.len() as u32);
        self.seqs.push(seq);
    }

    fn clear(mut self) -> Self {
        self.bytes.clear();
        self.ends.clear();
        self.seqs.clear();
        self
    }

    /// Each event prepared from a glance at its bytes where it can be (nearly always), else decoded whole
    /// (without its prose: the fold never reads it), into `out`.
    fn decode(&self, out: &mut Vec<Fold>) -> Result<(), eventstore::ReadError> {
        let mut start = 0;
        for (&end, &seq) in self.ends.iter().zip(&self.seqs) {
            let bytes = &self.bytes[start..end as usize];
            start = end as usize;
            let corrupt = |problem: String| eventstore::ReadError::Corrupt { seq, problem };
            let misplaced = |found: u64| corrupt(format!("stored under seq {seq} but says seq {found}"));
            let mut glance = events::codec::glance(bytes).map_err(|e| corrupt(e.to_string()))?;
            if let Some(g) = glance.as_ref().filter(|g| g.seq != seq) {
                return Err(misplaced(g.seq));
            }
            if let Some(prepared) = glance.as_mut().and_then(projections::Prepared::of) {
                out.push(ToFold::Prepared(prepared));
                continue;
            }
            let event = events::codec::decode_for_projection(bytes).map_err(|e| corrupt(e.to_string()))?;
            if event.seq != seq {
                return Err(misplaced(event.seq));
            }
            let key = projections::StreamKey::of(&event);
            out.push(ToFold::Event(Box::new(event), key));
        }
        Ok(())
    }
}

/// One event on its way into the rebuild's fold: prepared, or decoded whole (rarely: registrations,
/// merges, settings, changes of agency or sector).
type Fold = ToFold<Box<Event>>;

/// A decoded chunk, on its way through the fold. When the fold is done with it, it goes back to the
/// decoder that filled it, to be emptied there and filled again: freeing the whole events on the fold's
/// thread would cost it time, and memory freed across threads makes the allocator's arenas contend.
struct Decoded {
    items: Vec<Fold>,
    home: std::sync::mpsc::Sender<Vec<Fold>>,
}

impl AsMut<[Fold]> for Decoded {
    fn as_mut(&mut self) -> &mut [Fold] {
        &mut self.items
    }
}

impl Drop for Decoded {
    fn drop(&mut self) {
        // A decoder that has already finished cannot take them; then they are freed here.
        let _ = self.home.send(std::mem::take(&mut self.items));
    }
}

/// The rebuild as a pipeline, because decoding is a big share of its cost and the fold is sequential:
/// - one thread scans the log's stored bytes (no decoding) into chunks of `CHUNK_EVENTS` events and deals
///   them round robin to `decoders` threads;
/// - each decoder, in the order it got its chunks, glances at each stored event and makes it into the
///   entry it adds (`projections::Prepared`: nearly every event, never built as an `Event`), or decodes
///   it whole (registrations, merges, settings, changes of agency or sector), and frees the events the
///   fold has finished with;
/// - the calling thread takes the decoded chunks round robin in the same order, so they arrive in seq
///   order with no reordering buffer, and folds them all in one bulk `extend_on`.
///
/// Channels are bounded, so at most a few chunks per decoder are in flight whatever the log's size.
/// Equal to `rebuild_sequential`, event for event, and about 3–4 times as fast on 10 M events even with
/// two cores: the fold's thread only folds, and its heap holds only the projection (on one thread, the
/// decoded events' short-lived allocations interleave with the projection's and the allocator dominates).
pub fn rebuild_parallel(log: &Log, decoders: usize) -> anyhow::Result<Projection> {
    use std::sync::mpsc::{Receiver, channel, sync_channel};
    type Output = Result<Decoded, eventstore::ReadError>;
    let decoders = decoders.max(1);
    std::thread::scope(|s| {
        // Emptied chunks travel back to the scanner, so their buffers are reused instead of reallocated.
        let (free_tx, free_rx) = channel::<RawChunk>();
        let mut inputs = Vec::with_capacity(decoders);
        let mut outputs: Vec<Receiver<Output>> = Vec::with_capacity(decoders);
        for i in 0..decoders {
            let (in_tx, in_rx) = sync_channel::<RawChunk>(2);
            let (out_tx, out_rx) = sync_channel::<Output>(2);
            let (home, folded) = channel::<Vec<Fold>>();
            let free_tx = free_tx.clone();
            std::thread::Builder::new().name(format!("p30-rebuild-decode-{i}")).spawn_scoped(s, move || {
                // The chunks the fold has finished with, to be refilled: no more than are in flight at once.
                let mut spare: Vec<Vec<Fold>> = Vec::new();
                for chunk in in_rx {
                    spare.extend(folded.try_iter());
                    let mut items = spare.pop().unwrap_or_else(|| Vec::with_capacity(CHUNK_EVENTS));
                    items.clear();
                    let decoded = chunk.decode(&mut items).map(|()| Decoded { items, home: home.clone() });
                    let _ = free_tx.send(chunk.clear());
                    if out_tx.send(decoded).is_err() {
                        break;
                    }
                }
                folded.try_iter().for_each(drop);
            })?;
            inputs.push(in_tx);
            outputs.push(out_rx);
        }
        drop(free_tx);
        let scanner = std::thread::Builder::new().name("p30-rebuild-scan".into()).spawn_scoped(s, move || {
            let mut chunk = RawChunk::default();
            let mut dealt = 0;
            // A send fails only when the fold gave up; the scan then runs out without copying anything.
            let mut open = true;
            let scanned = log.scan_raw(0, |seq, bytes| {
                if !open {
                    return;
                }
                chunk.push(seq, bytes);
                if chunk.seqs.len() == CHUNK_EVENTS {
                    let next = free_rx.try_recv().unwrap_or_else(|_| RawChunk::with_room_like(&chunk));
                    open = inputs[dealt % decoders].send(std::mem::replace(&mut chunk, next)).is_ok();
                    dealt += 1;
                }
            });
            if open && !chunk.seqs.is_empty() {
                let _ = inputs[dealt % decoders].send(chunk);
            }
            scanned
        })?;
        let mut failure = None;
        let mut folded = 0u64;
        let mut projection = Projection::new();
        projection.expect_streams(log.stream_versions()?);
        {
            let chunks = (0..)
                .map_while(|i| match outputs[i % decoders].recv() {
                    Ok(Ok(chunk)) => Some(chunk),
                    Ok(Err(e)) => {
                        failure = Some(e);
                        None
                    }
                    // That decoder has finished: every chunk has been dealt and decoded.
                    Err(_) => None,
                })
                .inspect(|chunk| folded += chunk.items.len() as u64);
            // The decoders are done by the time the fold settles: its sorts get their cores.
            projection.extend_on(chunks, decoders).map_err(|e| anyhow::anyhow!("cannot fold event: {e}"))?;
        }
        // Stops decoders still waiting to hand over a chunk (after a failure).
        drop(outputs);
        let scanned = scanner.join().map_err(|_| anyhow::anyhow!("the rebuild's scanner panicked"))??;
        if let Some(e) = failure {
            return Err(e.into());
        }
        anyhow::ensure!(folded == scanned, "the rebuild folded {folded} of {scanned} events");
        Ok(projection)
    })
}
