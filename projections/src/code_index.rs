//! The code index: procedure indices by code, for the one lookup every event costs, in a table a bulk
//! fold can load a window ahead.

use std::collections::HashMap;

use events::Event;
use events::value::ProcedureCode;
use foldhash::fast::FixedState;

/// Procedure indices by code, for the one lookup every event costs. Codes of up to `SHORT_CODE` bytes —
/// every real one (`1.012753.H19` has 12) — are keys held inline in a table of their own (`ShortTable`),
/// where a lookup reads one cache line that a bulk fold can load ahead; longer codes go to a map. Both
/// hash with foldhash rather than SipHash.
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub(crate) struct CodeIndex {
    pub(crate) short: ShortTable,
    long: HashMap<Box<str>, u32, FixedState>,
}

/// Open addressing with linear probing over a power-of-two number of 32-byte slots, at most half full:
/// a lookup nearly always reads the one cache line its hash names, so a bulk fold can touch the lines of a
/// window of events back to back (their misses overlap) and then look each up in cache. (A `HashMap`
/// reads a control group and then a slot, two dependent misses that no lookahead overlaps.)
#[derive(Clone, Debug, Default)]
pub(crate) struct ShortTable {
    slots: Vec<ShortSlot>,
    len: usize,
}

/// A code and its procedure; an all-zero code marks an empty slot (a valid code is never empty).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[repr(align(32))]
pub(crate) struct ShortSlot {
    code: ShortCode,
    p: u32,
}

const EMPTY_SLOT: ShortSlot = ShortSlot { code: ShortCode([0; SHORT_CODE / 8]), p: 0 };

impl ShortTable {
    /// The slot where the lookup of `code` starts (`usize::MAX` while the table is empty).
    pub(crate) fn home(&self, code: &ShortCode) -> usize {
        use std::hash::BuildHasher;
        match self.slots.len() {
            0 => usize::MAX,
            n => (FixedState::default().hash_one(code) as usize) & (n - 1),
        }
    }

    pub(crate) fn find(&self, code: &ShortCode) -> Option<u32> {
        self.find_from(self.home(code), code)
    }

    /// `find`, starting from `home(code)` computed earlier (the table has not grown since).
    pub(crate) fn find_from(&self, home: usize, code: &ShortCode) -> Option<u32> {
        if self.slots.is_empty() {
            return None;
        }
        let mask = self.slots.len() - 1;
        let mut i = home & mask;
        loop {
            let slot = &self.slots[i];
            if slot.code == *code {
                return Some(slot.p);
            }
            if slot.code == EMPTY_SLOT.code {
                return None;
            }
            i = (i + 1) & mask;
        }
    }

    /// Reads the slot `home` and returns it unread: a prefetch, in safe code (nothing for `usize::MAX`).
    pub(crate) fn touch(&self, home: usize) {
        if let Some(slot) = self.slots.get(home) {
            std::hint::black_box(slot.p);
        }
    }

    /// Maps `code` to `p` (replacing an earlier index of it).
    pub(crate) fn insert(&mut self, code: ShortCode, p: u32) {
        self.reserve(1);
        let mask = self.slots.len() - 1;
        let mut i = self.home(&code) & mask;
        loop {
            let slot = &mut self.slots[i];
            if slot.code == code {
                slot.p = p;
                return;
            }
            if slot.code == EMPTY_SLOT.code {
                *slot = ShortSlot { code, p };
                self.len += 1;
                return;
            }
            i = (i + 1) & mask;
        }
    }

    /// Room for `more` codes with the table still at most half full.
    pub(crate) fn reserve(&mut self, more: usize) {
        let wanted = ((self.len + more) * 2).next_power_of_two().max(16);
        if wanted <= self.slots.len() {
            return;
        }
        let old = std::mem::replace(&mut self.slots, vec![EMPTY_SLOT; wanted]);
        self.len = 0;
        for slot in old.into_iter().filter(|s| s.code != EMPTY_SLOT.code) {
            self.insert(slot.code, slot.p);
        }
    }
}

/// Two tables are equal when they map the same codes to the same indices, whatever their layout.
impl PartialEq for ShortTable {
    fn eq(&self, other: &Self) -> bool {
        self.len == other.len
            && self.slots.iter().filter(|s| s.code != EMPTY_SLOT.code).all(|s| other.find(&s.code) == Some(s.p))
    }
}

impl Eq for ShortTable {}

/// The longest code held inline in a `CodeIndex`.
pub(crate) const SHORT_CODE: usize = 24;

/// A code of at most `SHORT_CODE` bytes, padded with zeros (codes never contain one), as three words: a
/// key compared and hashed word by word, with no call to `memcmp`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub(crate) struct ShortCode([u64; SHORT_CODE / 8]);

/// What a bulk fold looks an event's procedure up by, computed ahead of the fold — on a decoder's thread,
/// say — so the fold reads a key held inline instead of the event's stream name, a string on the heap
/// that another thread wrote (reading it was most of what a lookup cost).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct StreamKey(pub(crate) Option<ShortCode>);

impl StreamKey {
    /// The key of `e`'s stream (for a settings stream, or a code too long to hold inline, a key that sends
    /// the fold to the stream's name).
    pub fn of(e: &Event) -> Self {
        Self(e.stream.code().and_then(|c| ShortCode::new(c.as_str())))
    }
}

impl ShortCode {
    /// The code this holds (`new` took a valid code's bytes, so they are ASCII).
    pub(crate) fn to_code(self) -> Option<ProcedureCode> {
        let bytes: Vec<u8> = self.0.iter().flat_map(|w| w.to_le_bytes()).take_while(|&b| b != 0).collect();
        ProcedureCode::parse(std::str::from_utf8(&bytes).ok()?).ok()
    }

    /// `None` for a code too long to hold inline, or empty (all zeros mark an empty `ShortSlot`).
    pub(crate) fn new(code: &str) -> Option<Self> {
        if code.is_empty() {
            return None;
        }
        let mut bytes = [0u8; SHORT_CODE];
        bytes.get_mut(..code.len())?.copy_from_slice(code.as_bytes());
        let word = |i: usize| u64::from_le_bytes(bytes[i * 8..i * 8 + 8].try_into().expect("8 bytes"));
        Some(Self([word(0), word(1), word(2)]))
    }
}

impl CodeIndex {
    pub(crate) fn find_short(&self, code: &ShortCode) -> Option<u32> {
        self.short.find(code)
    }

    pub(crate) fn get(&self, code: &str) -> Option<u32> {
        match ShortCode::new(code) {
            Some(short) => self.short.find(&short),
            None => self.long.get(code).copied(),
        }
    }

    pub(crate) fn insert(&mut self, code: &str, p: u32) {
        match ShortCode::new(code) {
            Some(short) => self.short.insert(short, p),
            None => {
                self.long.insert(code.into(), p);
            }
        }
    }

    /// Room for `more` codes without growing.
    pub(crate) fn reserve(&mut self, more: usize) {
        self.short.reserve(more);
    }

    pub(crate) fn len(&self) -> usize {
        self.short.len + self.long.len()
    }

    /// Heap bytes, roughly.
    pub(crate) fn heap(&self) -> usize {
        self.short.slots.capacity() * size_of::<ShortSlot>() + self.long.len() * 40
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_code_index_finds_every_code_it_was_given_and_no_other() {
        let codes: Vec<String> = (0..5_000).map(|i| format!("{}.{:06}.H{}", i % 7, i, i % 19)).collect();
        let mut index = CodeIndex::default();
        for (p, c) in codes.iter().enumerate() {
            index.insert(c, p as u32);
        }
        let long = "x".repeat(SHORT_CODE + 1);
        index.insert(&long, 7);
        for (p, c) in codes.iter().enumerate() {
            assert_eq!(index.get(c), Some(p as u32), "{c}");
        }
        assert_eq!((index.get(&long), index.get("9.999999"), index.get("")), (Some(7), None, None));
        assert_eq!(index.len(), 5_001);
        assert!(index.short.len * 2 <= index.short.slots.len(), "at most half full");
        // Given the same codes in another order, and room ahead, it is the same index.
        let mut reversed = CodeIndex::default();
        reversed.reserve(10_000);
        reversed.insert(&long, 7);
        for (p, c) in codes.iter().enumerate().rev() {
            reversed.insert(c, p as u32);
        }
        assert_eq!(index, reversed);
        reversed.insert(&codes[0], 99);
        assert_eq!(reversed.get(&codes[0]), Some(99), "a code given again takes its new index");
        assert_ne!(index, reversed);
    }
}
