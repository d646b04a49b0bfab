//! Capture blocks: a run of one commit's captures in time order, stored as
//! one compressed row.
//!
//! A block holds at most [`MAX_BLOCK_CAPTURES`] captures, [`MAX_BLOCK_BYTES`]
//! raw bytes and [`MAX_BLOCK_SPAN_US`] of time. Storing captures in blocks
//! makes a commit a few hundred B-tree inserts instead of tens of
//! thousands, lets zstd see many similar captures at once (a capture
//! compressed alone costs several times its share of a block), and gives
//! the indexes a small unit to point at. Blocks of different commits may
//! overlap in time; readers merge them (see `merge.rs`).
//!
//! A stored block is a codec byte, the raw length as a LEB128 varint, then
//! the compressed raw bytes. The raw bytes are each entry in `(timestamp,
//! seq)` order: its timestamp minus the block's first, its `seq` minus the
//! block's first `seq`, and its length (varints), then the postcard-encoded
//! capture. Entries carry their own `seq` so that a delete can drop some of
//! them and keep the rest in place.

use crate::encoded::{EncodedCaptures, EncodedRow, TermId};
use crate::error::{Result, StoreError};
use crate::index::{Posting, Term, put_varint, take_varint};

/// The most captures in one block.
pub(crate) const MAX_BLOCK_CAPTURES: usize = 512;

/// A block is closed once its raw entries reach this many bytes.
pub(crate) const MAX_BLOCK_BYTES: usize = 64 * 1024;

/// A block holds captures less than this many microseconds after its
/// first, so a reader resuming at a time looks back at most this far.
pub(crate) const MAX_BLOCK_SPAN_US: u64 = 60_000_000;

/// The codec byte of a zstd-compressed block (the only codec so far).
pub(crate) const CODEC_ZSTD: u8 = 1;

/// The zstd level blocks are written with. On the shared MRT files' blocks
/// (84 MB raw) level 6 stores 9% less than 2 but compresses 4x slower, and
/// level 3 stores 1.7% less than 2 for a third more time; level 2 keeps
/// the store well within its size bound.
pub(crate) const ZSTD_LEVEL: i32 = 2;

/// The most raw bytes a stored block may claim, so a damaged length never
/// makes a reader allocate without bound: a block holds at most
/// [`MAX_BLOCK_CAPTURES`] captures, each within the store's capture limit.
const MAX_RAW_BLOCK_BYTES: u64 = 1 << 32;

/// One block laid out by [`build_blocks`], not yet compressed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct NewBlock {
    /// The timestamp of its first capture.
    pub(crate) first_us: u64,
    /// The timestamp of its last capture.
    pub(crate) last_us: u64,
    /// How many captures it holds.
    pub(crate) count: u32,
    /// Its raw bytes.
    pub(crate) raw: Vec<u8>,
    /// Its terms (numbered as in the captures it was built from), each
    /// with how many of its captures carry it, in the order it first
    /// lists them.
    pub(crate) terms: Vec<(TermId, u32)>,
}

/// Counts the terms of one block as its captures are added.
struct TermCounter {
    /// By term number, how many of the block's captures carry it.
    counts: Vec<u32>,
    /// The numbers whose count is not zero, in the order first counted.
    counted: Vec<TermId>,
}

impl TermCounter {
    fn new(terms: usize) -> Self {
        Self {
            counts: vec![0; terms],
            counted: Vec::new(),
        }
    }

    fn add(&mut self, terms: &[TermId]) {
        for &number in terms {
            let count = &mut self.counts[number as usize];
            if *count == 0 {
                self.counted.push(number);
            }
            *count += 1;
        }
    }

    /// The counts so far, which it then forgets.
    fn take(&mut self) -> Vec<(TermId, u32)> {
        self.counted
            .drain(..)
            .map(|number| (number, std::mem::take(&mut self.counts[number as usize])))
            .collect()
    }
}

/// Sorts `captures` by timestamp (stably, so equal times keep their write
/// order) and lays them out as blocks. The `i`-th entry of a block has
/// `seq` offset `i`: blocks take consecutive `seq`s in commit order, so
/// within a block both timestamps and `seq`s ascend.
pub(crate) fn build_blocks(captures: &EncodedCaptures) -> Vec<NewBlock> {
    let mut sorted: Vec<&EncodedRow> = captures.rows().iter().collect();
    sorted.sort_by_key(|row| row.timestamp_us);
    let mut blocks: Vec<NewBlock> = Vec::new();
    let mut counter = TermCounter::new(captures.term_count());
    let mut in_block: u64 = 0;
    for row in sorted {
        let open = blocks.last().is_some_and(|b| {
            row.timestamp_us - b.first_us < MAX_BLOCK_SPAN_US
                && (b.count as usize) < MAX_BLOCK_CAPTURES
                && b.raw.len() < MAX_BLOCK_BYTES
        });
        if !open {
            if let Some(last) = blocks.last_mut() {
                last.terms = counter.take();
            }
            blocks.push(NewBlock {
                first_us: row.timestamp_us,
                last_us: row.timestamp_us,
                count: 0,
                raw: Vec::with_capacity(MAX_BLOCK_BYTES + MAX_BLOCK_BYTES / 4),
                terms: Vec::new(),
            });
            in_block = 0;
        }
        let last = blocks.len() - 1;
        let block = &mut blocks[last];
        let bytes = captures.bytes(row);
        block.last_us = row.timestamp_us;
        put_varint(&mut block.raw, row.timestamp_us - block.first_us);
        put_varint(&mut block.raw, in_block);
        put_varint(&mut block.raw, bytes.len() as u64);
        block.raw.extend_from_slice(bytes);
        block.count += 1;
        in_block += 1;
        counter.add(captures.terms(row));
    }
    if let Some(last) = blocks.last_mut() {
        last.terms = counter.take();
    }
    blocks
}

/// The postings of a commit's new blocks: for each term, in term order,
/// the blocks that carry it, in block order.
#[derive(Debug)]
pub(crate) struct NewPostings {
    /// Each term and where its postings lie in `postings`.
    terms: Vec<(Term, std::ops::Range<usize>)>,
    postings: Vec<Posting>,
}

impl NewPostings {
    /// Each term with its postings, in term order.
    pub(crate) fn lists(&self) -> Vec<(Term, &[Posting])> {
        self.terms
            .iter()
            .map(|(term, range)| (*term, &self.postings[range.clone()]))
            .collect()
    }
}

/// The postings of `blocks` (built from `captures`), numbered from
/// `first_block`.
///
/// Each term's postings are placed by counting first, so nothing is
/// sorted but the distinct terms.
pub(crate) fn postings_of(
    captures: &EncodedCaptures,
    blocks: &[NewBlock],
    first_block: u32,
) -> NewPostings {
    // starts[n] .. starts[n + 1] will hold term n's postings.
    let mut starts = vec![0usize; captures.term_count() + 1];
    for block in blocks {
        for (number, _) in &block.terms {
            starts[*number as usize + 1] += 1;
        }
    }
    for n in 1..starts.len() {
        starts[n] += starts[n - 1];
    }
    let mut postings = vec![Posting { block: 0, count: 0 }; starts[starts.len() - 1]];
    let mut next = starts.clone();
    for (i, block) in blocks.iter().enumerate() {
        for (number, count) in &block.terms {
            let at = &mut next[*number as usize];
            postings[*at] = Posting {
                block: first_block + i as u32,
                count: *count,
            };
            *at += 1;
        }
    }
    let mut terms: Vec<(Term, std::ops::Range<usize>)> = starts
        .windows(2)
        .enumerate()
        .filter(|(_, w)| w[1] > w[0])
        .map(|(number, w)| (captures.term(number as TermId), w[0]..w[1]))
        .collect();
    terms.sort_unstable_by_key(|(term, _)| *term);
    NewPostings { terms, postings }
}

fn corrupt(detail: impl Into<String>) -> StoreError {
    StoreError::Corrupt {
        what: "capture block",
        detail: detail.into(),
    }
}

/// Compresses raw block bytes for storage.
///
/// Returns an error if zstd fails.
pub(crate) fn compress(raw: &[u8]) -> Result<Vec<u8>> {
    thread_local! {
        // A context per thread, so a commit does not build one per block.
        static COMPRESSOR: std::cell::RefCell<Option<zstd::bulk::Compressor<'static>>> =
            const { std::cell::RefCell::new(None) };
    }
    let failed = |e: std::io::Error| corrupt(format!("compressing a block failed: {e}"));
    let compressed = COMPRESSOR.with(|cell| -> Result<Vec<u8>> {
        let mut slot = cell.borrow_mut();
        let compressor = match &mut *slot {
            Some(c) => c,
            None => slot.insert(zstd::bulk::Compressor::new(ZSTD_LEVEL).map_err(failed)?),
        };
        compressor.compress(raw).map_err(failed)
    })?;
    let mut out = Vec::with_capacity(compressed.len() + 6);
    out.push(CODEC_ZSTD);
    put_varint(&mut out, raw.len() as u64);
    out.extend_from_slice(&compressed);
    Ok(out)
}

/// The raw bytes of a stored block.
///
/// Returns an error if the block is damaged or of an unknown codec.
pub(crate) fn decompress(stored: &[u8]) -> Result<Vec<u8>> {
    let Some((&codec, mut rest)) = stored.split_first() else {
        return Err(corrupt("a block is empty"));
    };
    if codec != CODEC_ZSTD {
        return Err(corrupt(format!("a block has unknown codec {codec}")));
    }
    let raw_len = take_varint(&mut rest).ok_or_else(|| corrupt("a block has no length"))?;
    if raw_len > MAX_RAW_BLOCK_BYTES {
        return Err(corrupt(format!("a block claims {raw_len} raw bytes")));
    }
    thread_local! {
        // A context per thread: a scan reads thousands of blocks, and
        // building a context costs about as much as decompressing one.
        static DECOMPRESSOR: std::cell::RefCell<Option<zstd::bulk::Decompressor<'static>>> =
            const { std::cell::RefCell::new(None) };
    }
    let failed = |e: std::io::Error| corrupt(format!("decompressing a block failed: {e}"));
    let raw = DECOMPRESSOR.with(|cell| -> Result<Vec<u8>> {
        let mut slot = cell.borrow_mut();
        let decompressor = match &mut *slot {
            Some(d) => d,
            None => slot.insert(zstd::bulk::Decompressor::new().map_err(failed)?),
        };
        decompressor
            .decompress(rest, raw_len as usize)
            .map_err(failed)
    })?;
    if raw.len() as u64 != raw_len {
        return Err(corrupt(format!(
            "a block holds {} raw bytes, not the {raw_len} it claims",
            raw.len()
        )));
    }
    Ok(raw)
}

/// One entry of a block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Entry<'a> {
    /// Its timestamp minus the block's first.
    pub(crate) time_offset: u64,
    /// Its `seq` minus the block's first `seq`.
    pub(crate) seq_offset: u64,
    /// The postcard-encoded capture.
    pub(crate) bytes: &'a [u8],
}

/// The entries of raw block bytes, in order.
#[derive(Debug)]
pub(crate) struct BlockEntries<'a> {
    rest: &'a [u8],
}

impl<'a> BlockEntries<'a> {
    /// The entries of `raw`.
    pub(crate) fn new(raw: &'a [u8]) -> Self {
        Self { rest: raw }
    }
}

impl<'a> Iterator for BlockEntries<'a> {
    type Item = Result<Entry<'a>>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        let mut rest = self.rest;
        let entry = take_varint(&mut rest).and_then(|time_offset| {
            let seq_offset = take_varint(&mut rest)?;
            let length = usize::try_from(take_varint(&mut rest)?).ok()?;
            (length <= rest.len()).then(|| {
                let (bytes, tail) = rest.split_at(length);
                (
                    Entry {
                        time_offset,
                        seq_offset,
                        bytes,
                    },
                    tail,
                )
            })
        });
        match entry {
            Some((entry, tail)) => {
                self.rest = tail;
                Some(Ok(entry))
            }
            None => {
                self.rest = &[];
                Some(Err(corrupt("a block ends inside an entry")))
            }
        }
    }
}

/// What [`retain_entries`] kept of a block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Retained {
    /// The raw bytes of the kept entries, their times now offsets from
    /// `first_us`.
    pub(crate) raw: Vec<u8>,
    /// How many were kept.
    pub(crate) count: u32,
    /// The first kept entry's timestamp.
    pub(crate) first_us: u64,
    /// The last kept entry's timestamp.
    pub(crate) last_us: u64,
}

/// The entries of `raw` (a block whose first timestamp is `base_us`) that
/// `keep` keeps, with their `seq` offsets unchanged and their times
/// rebased on the first kept one; `None` when none is kept.
///
/// Returns an error if the block is damaged.
pub(crate) fn retain_entries(
    raw: &[u8],
    base_us: u64,
    mut keep: impl FnMut(&Entry<'_>) -> Result<bool>,
) -> Result<Option<Retained>> {
    let mut kept = Vec::new();
    for entry in BlockEntries::new(raw) {
        let entry = entry?;
        if keep(&entry)? {
            kept.push(entry);
        }
    }
    let (Some(first), Some(last)) = (kept.first(), kept.last()) else {
        return Ok(None);
    };
    let (first_us, last_us) = (base_us + first.time_offset, base_us + last.time_offset);
    let mut out = Vec::with_capacity(raw.len());
    for entry in &kept {
        put_varint(&mut out, base_us + entry.time_offset - first_us);
        put_varint(&mut out, entry.seq_offset);
        put_varint(&mut out, entry.bytes.len() as u64);
        out.extend_from_slice(entry.bytes);
    }
    Ok(Some(Retained {
        raw: out,
        count: kept.len() as u32,
        first_us,
        last_us,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::TermKind;
    use crate::model::Capture;

    fn capture(timestamp_us: u64, peer_as: u32) -> Capture {
        Capture {
            peer_as,
            ..Capture::bare(timestamp_us)
        }
    }

    fn decoded(block: &NewBlock) -> Vec<(u64, u64, Capture)> {
        BlockEntries::new(&block.raw)
            .map(|entry| {
                let e = entry.unwrap();
                (
                    e.time_offset,
                    e.seq_offset,
                    postcard::from_bytes(e.bytes).unwrap(),
                )
            })
            .collect()
    }

    #[test]
    fn sorts_by_time_keeps_write_order_and_bounds_the_span() {
        let captures = [
            capture(20, 1),
            capture(10, 2),
            capture(20, 3),
            capture(10, 4),
            capture(10 + MAX_BLOCK_SPAN_US, 5),
        ];
        let encoded = EncodedCaptures::from_captures(&captures).unwrap();
        let blocks = build_blocks(&encoded);
        let spans: Vec<(u64, u64, u32)> = blocks
            .iter()
            .map(|b| (b.first_us, b.last_us, b.count))
            .collect();
        assert_eq!(
            spans,
            [
                (10, 20, 4),
                (10 + MAX_BLOCK_SPAN_US, 10 + MAX_BLOCK_SPAN_US, 1)
            ]
        );
        let entries: Vec<(u64, u64, u32)> = decoded(&blocks[0])
            .into_iter()
            .map(|(t, s, c)| (t, s, c.peer_as))
            .collect();
        assert_eq!(entries, [(0, 0, 2), (0, 1, 4), (10, 2, 1), (10, 3, 3)]);
        let terms = |kind| -> Vec<(u64, u32)> {
            let mut found: Vec<(u64, u32)> = blocks[0]
                .terms
                .iter()
                .map(|(number, n)| (encoded.term(*number), *n))
                .filter(|((k, _), _)| *k == kind)
                .map(|((_, key), n)| (key, n))
                .collect();
            found.sort_unstable();
            found
        };
        assert_eq!(terms(TermKind::PeerAs), [(1, 1), (2, 1), (3, 1), (4, 1)]);
        let collector: Vec<u32> = terms(TermKind::Collector).iter().map(|t| t.1).collect();
        assert_eq!(collector, [4]);
    }

    fn half_of_block() -> u32 {
        MAX_BLOCK_CAPTURES as u32 / 2
    }

    #[test]
    fn closes_full_blocks_and_numbers_postings() {
        let captures: Vec<Capture> = (0..MAX_BLOCK_CAPTURES as u32 + 1)
            .map(|n| capture(5, n % 2))
            .collect();
        let encoded = EncodedCaptures::from_captures(&captures).unwrap();
        let blocks = build_blocks(&encoded);
        let counts: Vec<u32> = blocks.iter().map(|b| b.count).collect();
        assert_eq!(counts, [MAX_BLOCK_CAPTURES as u32, 1]);
        assert_eq!(decoded(&blocks[1])[0].2.peer_as, 0);
        let postings = postings_of(&encoded, &blocks, 40);
        let lists = postings.lists();
        let order: Vec<Term> = lists.iter().map(|(term, _)| *term).collect();
        assert!(order.is_sorted(), "terms come in term order");
        let peer0 = lists
            .iter()
            .find(|(term, _)| *term == (TermKind::PeerAs, 0))
            .unwrap();
        let peer1 = lists
            .iter()
            .find(|(term, _)| *term == (TermKind::PeerAs, 1))
            .unwrap();
        assert_eq!(
            peer1.1,
            [Posting {
                block: 40,
                count: half_of_block()
            }]
        );
        let half = half_of_block();
        assert_eq!(
            peer0.1,
            [
                Posting {
                    block: 40,
                    count: half
                },
                Posting {
                    block: 41,
                    count: 1
                }
            ]
        );

        let mut big = capture(5, 0);
        big.collector = "x".repeat(MAX_BLOCK_BYTES);
        let blocks = build_blocks(&EncodedCaptures::from_captures(&[big.clone(), big]).unwrap());
        assert_eq!(blocks.len(), 2);
    }

    #[test]
    fn compression_round_trips_and_damage_is_reported() {
        let captures: Vec<Capture> = (0..100).map(|n| capture(1, n)).collect();
        let blocks = build_blocks(&EncodedCaptures::from_captures(&captures).unwrap());
        let stored = compress(&blocks[0].raw).unwrap();
        assert!(stored.len() < blocks[0].raw.len() / 2);
        assert_eq!(decompress(&stored).unwrap(), blocks[0].raw);
        assert!(decompress(&stored[..stored.len() - 1]).is_err());
        assert!(decompress(&[9, 0]).is_err());
        assert!(decompress(&[]).is_err());
        let cut = &blocks[0].raw[..blocks[0].raw.len() - 1];
        let entries: Vec<Result<Entry<'_>>> = BlockEntries::new(cut).collect();
        assert_eq!(entries.len(), 100);
        assert!(matches!(entries[99], Err(StoreError::Corrupt { .. })));
    }

    #[test]
    fn retained_entries_keep_their_seqs_and_rebase_their_times() {
        let captures: Vec<Capture> = (0..4).map(|n| capture(10 + u64::from(n), n)).collect();
        let blocks = build_blocks(&EncodedCaptures::from_captures(&captures).unwrap());
        let kept = retain_entries(&blocks[0].raw, 10, |e| Ok(e.seq_offset % 2 == 1))
            .unwrap()
            .unwrap();
        assert_eq!((kept.count, kept.first_us, kept.last_us), (2, 11, 13));
        let times: Vec<u64> = BlockEntries::new(&kept.raw)
            .map(|e| e.unwrap().time_offset)
            .collect();
        assert_eq!(times, [0, 2]);
        assert!(
            retain_entries(&blocks[0].raw, 10, |_| Ok(false))
                .unwrap()
                .is_none()
        );
        let offsets: Vec<u64> = BlockEntries::new(&kept.raw)
            .map(|e| e.unwrap().seq_offset)
            .collect();
        assert_eq!(offsets, [1, 3]);
    }
}
