//! Capture blocks: the captures of one commit that share a timestamp, stored
//! as one row.
//!
//! MRT archives stamp records to the second (BGP4MP, TABLE_DUMP_V2) and a
//! RIB dump gives every entry the same time, so hundreds of captures often
//! share a timestamp. Storing them as one row makes a commit a few hundred
//! B-tree inserts instead of tens of thousands, and keeps time order exact:
//! a block holds one timestamp and a contiguous run of sequence numbers, so
//! reading blocks in key order and entries in block order is reading
//! captures in `(timestamp_us, seq)` order.
//!
//! A block is a little-endian `u32` count, then each entry as a `u32`
//! length and the postcard-encoded capture.

use crate::encoded::{EncodedCaptures, EncodedRow};
use crate::error::{Result, StoreError};

/// The most captures in one block.
pub(crate) const MAX_BLOCK_CAPTURES: usize = 256;

/// A block is closed once its entries reach this many bytes.
pub(crate) const MAX_BLOCK_BYTES: usize = 32 * 1024;

/// One block of an [`encode_blocks`] result.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct BlockSpan {
    /// The timestamp of every capture in the block.
    pub(crate) timestamp_us: u64,
    /// How many captures it holds.
    pub(crate) count: u32,
    /// Where its bytes start in the arena.
    pub(crate) start: usize,
    /// Where they end.
    pub(crate) end: usize,
}

/// Sorts `captures` by timestamp (stably, so equal times keep their write
/// order) and lays them out as blocks in one arena.
pub(crate) fn encode_blocks(captures: &EncodedCaptures) -> (Vec<u8>, Vec<BlockSpan>) {
    let mut sorted: Vec<&EncodedRow> = captures.rows().iter().collect();
    sorted.sort_by_key(|row| row.timestamp_us);
    let mut arena = Vec::with_capacity(captures.encoded_bytes() + captures.len() * 4 + 64);
    let mut blocks: Vec<BlockSpan> = Vec::new();
    for row in sorted {
        let open = blocks.last().is_some_and(|b| {
            b.timestamp_us == row.timestamp_us
                && (b.count as usize) < MAX_BLOCK_CAPTURES
                && b.end - b.start < MAX_BLOCK_BYTES
        });
        if !open {
            blocks.push(BlockSpan {
                timestamp_us: row.timestamp_us,
                count: 0,
                start: arena.len(),
                end: arena.len(),
            });
            arena.extend_from_slice(&0u32.to_le_bytes());
        }
        let last = blocks.len() - 1;
        let block = &mut blocks[last];
        let bytes = captures.bytes(row);
        // `EncodedCaptures::push` refuses captures over 4 GiB.
        let length = u32::try_from(bytes.len()).unwrap_or(u32::MAX);
        arena.extend_from_slice(&length.to_le_bytes());
        arena.extend_from_slice(bytes);
        block.count += 1;
        block.end = arena.len();
        arena[block.start..block.start + 4].copy_from_slice(&block.count.to_le_bytes());
    }
    (arena, blocks)
}

fn corrupt(detail: impl Into<String>) -> StoreError {
    StoreError::Corrupt {
        what: "capture block",
        detail: detail.into(),
    }
}

/// The encoded captures of a stored block, in order.
#[derive(Debug)]
pub(crate) struct BlockEntries<'a> {
    rest: &'a [u8],
    remaining: u32,
}

impl<'a> BlockEntries<'a> {
    /// Reads the header of `block`.
    ///
    /// Returns an error if the block is too short to hold one.
    pub(crate) fn new(block: &'a [u8]) -> Result<Self> {
        let (count, rest) = split_u32(block).ok_or_else(|| corrupt("a block has no header"))?;
        Ok(Self {
            rest,
            remaining: count,
        })
    }
}

impl<'a> Iterator for BlockEntries<'a> {
    type Item = Result<&'a [u8]>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.remaining == 0 {
            return None;
        }
        self.remaining -= 1;
        let entry = split_u32(self.rest).and_then(|(length, rest)| {
            let length = usize::try_from(length).ok()?;
            (length <= rest.len()).then(|| rest.split_at(length))
        });
        match entry {
            Some((entry, rest)) => {
                self.rest = rest;
                Some(Ok(entry))
            }
            None => {
                self.remaining = 0;
                Some(Err(corrupt("a block ends inside an entry")))
            }
        }
    }
}

fn split_u32(bytes: &[u8]) -> Option<(u32, &[u8])> {
    let (head, rest) = bytes.split_first_chunk::<4>()?;
    Some((u32::from_le_bytes(*head), rest))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Capture;

    fn capture(timestamp_us: u64, peer_as: u32) -> Capture {
        Capture {
            peer_as,
            ..Capture::bare(timestamp_us)
        }
    }

    fn decoded(arena: &[u8], span: &BlockSpan) -> Vec<Capture> {
        BlockEntries::new(&arena[span.start..span.end])
            .unwrap()
            .map(|entry| postcard::from_bytes(entry.unwrap()).unwrap())
            .collect()
    }

    #[test]
    fn groups_equal_timestamps_in_time_order_and_keeps_write_order() {
        let captures = [
            capture(20, 1),
            capture(10, 2),
            capture(20, 3),
            capture(10, 4),
        ];
        let (arena, blocks) = encode_blocks(&EncodedCaptures::from_captures(&captures).unwrap());
        let times: Vec<(u64, u32)> = blocks.iter().map(|b| (b.timestamp_us, b.count)).collect();
        assert_eq!(times, [(10, 2), (20, 2)]);
        let peers: Vec<u32> = blocks
            .iter()
            .flat_map(|b| decoded(&arena, b))
            .map(|c| c.peer_as)
            .collect();
        assert_eq!(peers, [2, 4, 1, 3]);
        assert_eq!(blocks[1].end, arena.len());
    }

    #[test]
    fn closes_full_blocks() {
        let captures: Vec<Capture> = (0..MAX_BLOCK_CAPTURES as u32 + 1)
            .map(|n| capture(5, n))
            .collect();
        let (arena, blocks) = encode_blocks(&EncodedCaptures::from_captures(&captures).unwrap());
        let counts: Vec<u32> = blocks.iter().map(|b| b.count).collect();
        assert_eq!(counts, [MAX_BLOCK_CAPTURES as u32, 1]);
        assert_eq!(
            decoded(&arena, &blocks[1])[0].peer_as,
            MAX_BLOCK_CAPTURES as u32
        );

        let mut big = capture(5, 0);
        big.collector = "x".repeat(MAX_BLOCK_BYTES);
        let (_, blocks) =
            encode_blocks(&EncodedCaptures::from_captures(&[big.clone(), big]).unwrap());
        assert_eq!(blocks.len(), 2);
    }

    #[test]
    fn reports_a_damaged_block() {
        let (arena, blocks) = encode_blocks(
            &EncodedCaptures::from_captures(&[capture(1, 1), capture(1, 2)]).unwrap(),
        );
        let block = &arena[blocks[0].start..blocks[0].end];
        let cut = &block[..block.len() - 1];
        let entries: Vec<Result<&[u8]>> = BlockEntries::new(cut).unwrap().collect();
        assert_eq!(entries.len(), 2);
        assert!(entries[0].is_ok());
        assert!(matches!(entries[1], Err(StoreError::Corrupt { .. })));
        assert!(BlockEntries::new(&[1, 0]).is_err());
    }
}
