//! Captures in their stored encoding, as a write stream buffers them.
//!
//! A writer encodes each capture as it is written instead of keeping the
//! decoded value until the flush: the buffer is a third of the size, its
//! memory is one growing arena instead of a handful of allocations per
//! capture, and the commit only sorts and copies bytes.

use crate::error::{Result, StoreError};
use crate::index::{Term, capture_terms};
use crate::model::Capture;

/// Where one capture lies in the arena.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct EncodedRow {
    /// The capture's timestamp.
    pub(crate) timestamp_us: u64,
    /// Where its bytes start.
    pub(crate) start: usize,
    /// Where they end.
    pub(crate) end: usize,
    /// Where its index terms start in the term arena.
    pub(crate) terms_start: usize,
    /// Where they end.
    pub(crate) terms_end: usize,
}

/// Captures encoded as the store keeps them, in write order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EncodedCaptures {
    arena: Vec<u8>,
    terms: Vec<Term>,
    rows: Vec<EncodedRow>,
}

impl EncodedCaptures {
    /// No captures.
    pub fn new() -> Self {
        Self::default()
    }

    /// Encodes `captures`.
    ///
    /// Returns an error if one cannot be encoded (see [`push`](Self::push)).
    pub fn from_captures<'a>(captures: impl IntoIterator<Item = &'a Capture>) -> Result<Self> {
        let mut encoded = Self::new();
        for capture in captures {
            encoded.push(capture)?;
        }
        Ok(encoded)
    }

    /// Encodes and appends `capture`.
    ///
    /// Returns an error if it is over 4 GiB encoded, the most a stored block
    /// entry holds; nothing is appended then.
    pub fn push(&mut self, capture: &Capture) -> Result<()> {
        let start = self.arena.len();
        let arena = std::mem::take(&mut self.arena);
        self.arena = postcard::to_extend(capture, arena).map_err(|e| StoreError::Corrupt {
            what: "capture encoding",
            detail: e.to_string(),
        })?;
        if u32::try_from(self.arena.len() - start).is_err() {
            self.arena.truncate(start);
            return Err(StoreError::Corrupt {
                what: "capture encoding",
                detail: "a capture is over 4 GiB encoded".into(),
            });
        }
        let terms_start = self.terms.len();
        capture_terms(capture, &mut self.terms);
        self.rows.push(EncodedRow {
            timestamp_us: capture.timestamp_us,
            start,
            end: self.arena.len(),
            terms_start,
            terms_end: self.terms.len(),
        });
        Ok(())
    }

    /// How many captures it holds.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The encoded bytes of all its captures.
    pub fn encoded_bytes(&self) -> usize {
        self.arena.len()
    }

    /// Decodes its captures, in write order, for a backend that does not
    /// keep this encoding (another database, or a model in tests).
    ///
    /// An item is an error only if its bytes do not decode, which bytes
    /// written by [`push`](Self::push) always do.
    pub fn captures(&self) -> impl Iterator<Item = Result<Capture>> + '_ {
        self.rows.iter().map(|row| {
            postcard::from_bytes(self.bytes(row)).map_err(|e| StoreError::Corrupt {
                what: "capture encoding",
                detail: e.to_string(),
            })
        })
    }

    /// Drops every capture after the first `len`.
    pub(crate) fn truncate(&mut self, len: usize) {
        if let Some(row) = self.rows.get(len) {
            self.arena.truncate(row.start);
            self.terms.truncate(row.terms_start);
            self.rows.truncate(len);
        }
    }

    /// The captures' rows, in write order.
    pub(crate) fn rows(&self) -> &[EncodedRow] {
        &self.rows
    }

    /// The encoded bytes of `row`.
    pub(crate) fn bytes(&self, row: &EncodedRow) -> &[u8] {
        &self.arena[row.start..row.end]
    }

    /// The index terms of `row`.
    pub(crate) fn terms(&self, row: &EncodedRow) -> &[Term] {
        &self.terms[row.terms_start..row.terms_end]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_each_capture_as_postcard_and_truncates_whole_captures() {
        let captures = [Capture::bare(3), Capture::bare(1), Capture::bare(2)];
        let mut encoded = EncodedCaptures::from_captures(&captures).unwrap();
        assert_eq!(encoded.len(), 3);
        let decoded: Vec<Capture> = encoded
            .rows()
            .iter()
            .map(|row| postcard::from_bytes(encoded.bytes(row)).unwrap())
            .collect();
        assert_eq!(decoded, captures);
        let stamps: Vec<u64> = encoded.rows().iter().map(|r| r.timestamp_us).collect();
        assert_eq!(stamps, [3, 1, 2]);
        let public: Vec<Capture> = encoded.captures().map(Result::unwrap).collect();
        assert_eq!(public, captures);

        let one = encoded.rows()[0].end;
        encoded.truncate(1);
        assert_eq!((encoded.len(), encoded.encoded_bytes()), (1, one));
        encoded.truncate(5);
        assert_eq!(encoded.len(), 1);
    }
}
