//! The block directory: for each block of a dataset, its timestamp, first
//! `seq`, capture count, import and whether a delete rewrote it.
//!
//! It is stored in `schema::BLOCKS` and kept in memory per dataset (about
//! 32 bytes a block, a few MB for tens of millions of captures), so the
//! planner can sort and narrow candidate blocks by time and find the block
//! of a `seq` without reading the store.

use crate::error::{Result, StoreError};
use crate::filter::TimeRange;

/// One block in the directory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct BlockInfo {
    /// The timestamp of its first capture.
    pub(crate) first_us: u64,
    /// The timestamp of its last capture when written.
    pub(crate) last_us: u64,
    /// The `seq` of its first entry when written; entries keep their `seq`.
    pub(crate) first_seq: u64,
    /// How many captures it holds now.
    pub(crate) count: u32,
    /// How many it held when written: its `seq`s are `first_seq ..
    /// first_seq + written`.
    pub(crate) written: u32,
    /// The import it came from, or 0.
    pub(crate) import: u32,
    /// Whether a delete rewrote it: its postings may count captures it no
    /// longer holds.
    pub(crate) rewritten: bool,
}

/// The bytes of a stored [`BlockInfo`].
const ENCODED_LEN: usize = 37;

impl BlockInfo {
    /// The stored form.
    pub(crate) fn encode(&self) -> [u8; ENCODED_LEN] {
        let mut out = [0u8; ENCODED_LEN];
        out[..8].copy_from_slice(&self.first_us.to_le_bytes());
        out[8..16].copy_from_slice(&self.last_us.to_le_bytes());
        out[16..24].copy_from_slice(&self.first_seq.to_le_bytes());
        out[24..28].copy_from_slice(&self.count.to_le_bytes());
        out[28..32].copy_from_slice(&self.written.to_le_bytes());
        out[32..36].copy_from_slice(&self.import.to_le_bytes());
        out[36] = u8::from(self.rewritten);
        out
    }

    /// Reads the stored form.
    ///
    /// Returns an error if `bytes` is not one.
    pub(crate) fn decode(bytes: &[u8]) -> Result<Self> {
        let bytes: &[u8; ENCODED_LEN] = bytes.try_into().map_err(|_| StoreError::Corrupt {
            what: "block directory",
            detail: format!("an entry is {} bytes, not {ENCODED_LEN}", bytes.len()),
        })?;
        let u64_at = |i: usize| {
            let mut b = [0u8; 8];
            b.copy_from_slice(&bytes[i..i + 8]);
            u64::from_le_bytes(b)
        };
        let u32_at = |i: usize| {
            let mut b = [0u8; 4];
            b.copy_from_slice(&bytes[i..i + 4]);
            u32::from_le_bytes(b)
        };
        Ok(Self {
            first_us: u64_at(0),
            last_us: u64_at(8),
            first_seq: u64_at(16),
            count: u32_at(24),
            written: u32_at(28),
            import: u32_at(32),
            rewritten: bytes[36] != 0,
        })
    }

    /// Whether some of its captures may lie in `window`.
    pub(crate) fn overlaps(&self, window: Option<TimeRange>) -> bool {
        window.is_none_or(|w| self.first_us < w.end_us && self.last_us >= w.start_us)
    }

    /// Whether all of its captures lie in `window`.
    pub(crate) fn inside(&self, window: Option<TimeRange>) -> bool {
        window.is_none_or(|w| w.contains(self.first_us) && w.contains(self.last_us))
    }

    /// Whether the block was committed at or before `seq`.
    pub(crate) fn visible_at(&self, max_seq: u64) -> bool {
        self.first_seq <= max_seq
    }
}

/// The blocks of one dataset, by block number.
#[derive(Clone, Debug, Default)]
pub(crate) struct Directory {
    /// Indexed by block number; `None` for a deleted block.
    blocks: Vec<Option<BlockInfo>>,
}

impl Directory {
    /// A directory of `blocks`, numbered from 0.
    pub(crate) fn new(blocks: Vec<Option<BlockInfo>>) -> Self {
        Self { blocks }
    }

    /// Block `number`, unless deleted or never written.
    pub(crate) fn get(&self, number: u32) -> Option<&BlockInfo> {
        self.blocks.get(number as usize)?.as_ref()
    }

    /// Appends a block; it gets the number after the last one.
    pub(crate) fn push(&mut self, info: BlockInfo) {
        self.blocks.push(Some(info));
    }

    /// Replaces or deletes block `number`.
    pub(crate) fn set(&mut self, number: u32, info: Option<BlockInfo>) {
        if let Some(slot) = self.blocks.get_mut(number as usize) {
            *slot = info;
        }
    }

    /// Every live block with its number, in number (and so `seq`) order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (u32, &BlockInfo)> {
        self.blocks
            .iter()
            .enumerate()
            .filter_map(|(i, b)| Some((i as u32, b.as_ref()?)))
    }

    /// The first live block holding a `seq` greater than `seq`, or the
    /// number after the last block.
    pub(crate) fn first_after_seq(&self, seq: u64) -> u32 {
        // Blocks are numbered in `seq` order, deleted ones included as
        // `None`; a binary search over the live ones finds the first whose
        // last `seq` is past `seq`.
        let ends_after = |b: &Option<BlockInfo>| {
            b.as_ref()
                .is_some_and(|b| b.first_seq + u64::from(b.written) > seq.saturating_add(1))
        };
        let mut lo = 0usize;
        let mut hi = self.blocks.len();
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            // Step over deleted blocks to the next live one to decide.
            let probe = self.blocks[mid..].iter().position(Option::is_some);
            match probe {
                Some(offset) if ends_after(&self.blocks[mid + offset]) => hi = mid,
                Some(offset) => lo = mid + offset + 1,
                None => hi = mid,
            }
        }
        let live = self.blocks[lo..].iter().position(Option::is_some);
        (lo + live.unwrap_or(self.blocks.len() - lo)) as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(first_seq: u64, written: u32) -> Option<BlockInfo> {
        Some(BlockInfo {
            first_us: 5,
            last_us: 5,
            first_seq,
            count: written,
            written,
            import: 0,
            rewritten: false,
        })
    }

    #[test]
    fn finds_the_first_block_after_a_seq_across_deleted_blocks() {
        let dir = Directory::new(vec![
            info(1, 10),
            None,
            info(21, 5),
            None,
            None,
            info(30, 1),
        ]);
        assert_eq!(dir.first_after_seq(0), 0);
        assert_eq!(dir.first_after_seq(9), 0);
        assert_eq!(dir.first_after_seq(10), 2);
        assert_eq!(dir.first_after_seq(25), 5);
        assert_eq!(dir.first_after_seq(30), 6);
    }

    #[test]
    fn entries_round_trip() {
        let b = BlockInfo {
            first_us: u64::MAX - 1,
            last_us: u64::MAX,
            first_seq: 77,
            count: 3,
            written: 9,
            import: 4,
            rewritten: true,
        };
        assert_eq!(BlockInfo::decode(&b.encode()).unwrap(), b);
        assert!(BlockInfo::decode(&[0; 3]).is_err());
    }
}
