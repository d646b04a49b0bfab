//! Captures in their stored encoding, as a write stream buffers them.
//!
//! A writer encodes each capture as it is written instead of keeping the
//! decoded value until the flush: the buffer is a third of the size, its
//! memory is one growing arena instead of a handful of allocations per
//! capture, and the commit only sorts and copies bytes.
//!
//! Index terms are numbered as they are first seen, and each capture keeps
//! the numbers of its terms, each once. A number is 4 bytes where a term is
//! 16, and it lets a commit count a block's terms and gather their postings
//! in arrays indexed by number instead of sorting every occurrence.

use std::collections::hash_map::Entry;

use rustc_hash::FxHashMap;

use crate::error::{Result, StoreError};
use crate::index::{Term, for_each_term};
use crate::model::Capture;

/// A term's number in one buffer's dictionary.
pub(crate) type TermId = u32;

/// Where one capture lies in the arena.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct EncodedRow {
    /// The capture's timestamp.
    pub(crate) timestamp_us: u64,
    /// Where its bytes start.
    pub(crate) start: usize,
    /// Where they end.
    pub(crate) end: usize,
    /// Where its term numbers start in the term arena.
    pub(crate) terms_start: usize,
    /// Where they end.
    pub(crate) terms_end: usize,
}

/// Captures encoded as the store keeps them, in write order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EncodedCaptures {
    arena: Vec<u8>,
    rows: Vec<EncodedRow>,
    /// The term numbers of every capture, row after row.
    terms: Vec<TermId>,
    /// Every distinct term seen, by number.
    dictionary: Vec<Term>,
    /// Each term's number in `dictionary`, and the push that last listed
    /// it, so that a capture lists each of its terms once.
    numbers: FxHashMap<Term, (TermId, u64)>,
    /// How many pushes there were, truncated ones included.
    pushes: u64,
}

/// A postcard output that appends to an arena.
///
/// postcard's own `to_extend` writes each byte through `Extend`, a
/// `memcpy` call per byte; a push is a store and a length check.
struct ArenaFlavor<'a>(&'a mut Vec<u8>);

impl postcard::ser_flavors::Flavor for ArenaFlavor<'_> {
    type Output = ();

    fn try_extend(&mut self, data: &[u8]) -> postcard::Result<()> {
        self.0.extend_from_slice(data);
        Ok(())
    }

    fn try_push(&mut self, data: u8) -> postcard::Result<()> {
        self.0.push(data);
        Ok(())
    }

    fn finalize(self) -> postcard::Result<()> {
        Ok(())
    }
}

/// The parts of an [`EncodedCaptures`] that number one capture's terms.
struct TermNumbering<'a> {
    terms: &'a mut Vec<TermId>,
    dictionary: &'a mut Vec<Term>,
    numbers: &'a mut FxHashMap<Term, (TermId, u64)>,
    push: u64,
}

impl TermNumbering<'_> {
    /// Lists `term` for the capture being pushed, unless it already is.
    fn list(&mut self, term: Term) -> Result<()> {
        match self.numbers.entry(term) {
            Entry::Occupied(mut e) => {
                let (number, listed_by) = e.get_mut();
                if *listed_by != self.push {
                    *listed_by = self.push;
                    self.terms.push(*number);
                }
            }
            Entry::Vacant(e) => {
                let number =
                    TermId::try_from(self.dictionary.len()).map_err(|_| StoreError::Corrupt {
                        what: "capture encoding",
                        detail: "a write buffer holds over 4 G distinct index terms".into(),
                    })?;
                self.dictionary.push(term);
                e.insert((number, self.push));
                self.terms.push(number);
            }
        }
        Ok(())
    }
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
        if let Err(e) = postcard::serialize_with_flavor(capture, ArenaFlavor(&mut self.arena)) {
            self.arena.truncate(start);
            return Err(StoreError::Corrupt {
                what: "capture encoding",
                detail: e.to_string(),
            });
        }
        if u32::try_from(self.arena.len() - start).is_err() {
            self.arena.truncate(start);
            return Err(StoreError::Corrupt {
                what: "capture encoding",
                detail: "a capture is over 4 GiB encoded".into(),
            });
        }
        self.pushes += 1;
        let terms_start = self.terms.len();
        let mut numbering = TermNumbering {
            terms: &mut self.terms,
            dictionary: &mut self.dictionary,
            numbers: &mut self.numbers,
            push: self.pushes,
        };
        let mut listed = Ok(());
        for_each_term(capture, |term| {
            if listed.is_ok() {
                listed = numbering.list(term);
            }
        });
        if let Err(e) = listed {
            self.arena.truncate(start);
            self.terms.truncate(terms_start);
            return Err(e);
        }
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

    /// Drops every capture after the first `len`. Their terms stay in the
    /// dictionary; a term no capture lists is never counted.
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

    /// The numbers of `row`'s index terms, each once.
    pub(crate) fn terms(&self, row: &EncodedRow) -> &[TermId] {
        &self.terms[row.terms_start..row.terms_end]
    }

    /// The term numbered `number`.
    pub(crate) fn term(&self, number: TermId) -> Term {
        self.dictionary[number as usize]
    }

    /// How many terms are numbered: every number is below this.
    pub(crate) fn term_count(&self) -> usize {
        self.dictionary.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::TermKind;
    use crate::model::PathSegment;

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

    #[test]
    fn encodes_each_capture_as_postcard_itself_does() {
        let net = |s: &str| s.parse::<ipnet::IpNet>().unwrap();
        let captures = [
            Capture {
                collector: "rrc00".into(),
                as_path: vec![
                    PathSegment::Sequence(vec![3356, 1299, 65_536]),
                    PathSegment::Set(vec![7, 8]),
                ],
                advertised: vec![net("10.0.0.0/8"), net("2001:db8::/32")],
                withdrawn: vec![net("192.0.2.0/24")],
                ..Capture::bare(1_546_300_800_000_000)
            },
            Capture::bare(u64::MAX),
        ];
        let encoded = EncodedCaptures::from_captures(&captures).unwrap();
        assert_eq!(encoded.len(), captures.len());
        for (row, capture) in encoded.rows().iter().zip(&captures) {
            assert_eq!(encoded.bytes(row), postcard::to_allocvec(capture).unwrap());
        }
    }

    fn terms_of(encoded: &EncodedCaptures, row: usize) -> Vec<Term> {
        let row = encoded.rows()[row];
        encoded
            .terms(&row)
            .iter()
            .map(|n| encoded.term(*n))
            .collect()
    }

    #[test]
    fn lists_each_term_of_a_capture_once_and_numbers_terms_across_captures() {
        let net = |s: &str| s.parse::<ipnet::IpNet>().unwrap();
        let prepended = Capture {
            as_path: vec![PathSegment::Sequence(vec![1, 2, 2, 3])],
            origin_as: Some(3),
            advertised: vec![net("10.0.1.0/24"), net("10.0.2.0/24")],
            ..Capture::bare(0)
        };
        let mut encoded = EncodedCaptures::from_captures(std::slice::from_ref(&prepended)).unwrap();
        let terms = terms_of(&encoded, 0);
        let path: Vec<u64> = terms
            .iter()
            .filter(|t| t.0 == TermKind::PathAs)
            .map(|t| t.1)
            .collect();
        assert_eq!(path, [1, 2, 3]);
        let advertised = terms.iter().filter(|t| t.0 == TermKind::Advertised);
        assert_eq!(advertised.count(), 1, "both /24s share a bucket");
        let distinct = encoded.term_count();

        // The same capture again lists the same terms under the same numbers.
        encoded.push(&prepended).unwrap();
        assert_eq!(terms_of(&encoded, 1), terms);
        assert_eq!(encoded.term_count(), distinct);
        assert_eq!(
            encoded.terms(&encoded.rows()[0]),
            encoded.terms(&encoded.rows()[1])
        );

        // A truncated capture's terms stay numbered; a later capture lists
        // them again.
        encoded.truncate(1);
        encoded.push(&prepended).unwrap();
        assert_eq!(terms_of(&encoded, 1), terms);
    }
}
