//! ASPA upstream path verification (draft-ietf-sidrops-aspa-verification,
//! §6 "upstream paths"), for routes as a route collector receives them.

use crate::Map;

/// The verification outcome of one AS path.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AspaState {
    /// Every hop from the origin up is an attested customer-to-provider hop.
    Valid,
    /// Some AS attests a provider set that does not hold the next AS, or the
    /// path holds an AS_SET or is empty.
    Invalid,
    /// No hop is refuted, but some AS on the path has no ASPA.
    Unknown,
}

impl AspaState {
    /// The outcome's name in findings: `valid`, `invalid` or `unknown`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Valid => "valid",
            Self::Invalid => "invalid",
            Self::Unknown => "unknown",
        }
    }
}

/// Customer AS to its attested provider ASes.
#[derive(Clone, Debug, Default)]
pub struct AspaTable {
    providers: Map<u32, Vec<u32>>,
}

/// What the ASPA of one AS says of the next AS on the path.
#[derive(PartialEq, Eq)]
enum Hop {
    ProviderPlus,
    NotProviderPlus,
    NoAttestation,
}

impl AspaTable {
    /// Records that `customer` attests `providers`; a second ASPA for the
    /// same customer adds to its set.
    pub fn add(&mut self, customer: u32, providers: impl IntoIterator<Item = u32>) {
        let set = self.providers.entry(customer).or_default();
        set.extend(providers);
        set.sort_unstable();
        set.dedup();
    }

    /// How many customer ASes have an ASPA.
    pub fn len(&self) -> usize {
        self.providers.len()
    }

    /// Whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.providers.is_empty()
    }

    fn hop(&self, customer: u32, next: u32) -> Hop {
        match self.providers.get(&customer) {
            None => Hop::NoAttestation,
            Some(set) if set.binary_search(&next).is_ok() => Hop::ProviderPlus,
            Some(_) => Hop::NotProviderPlus,
        }
    }

    /// Verifies an upstream path: `path` runs from the neighbour (first) to
    /// the origin (last), with prepends collapsed; `has_set` says whether
    /// the AS_PATH held an AS_SET.
    ///
    /// Every hop of an upstream path must go from customer to provider, so
    /// one refuted hop makes the path invalid (the up-ramp ends before the
    /// neighbour), and one hop without an attestation makes it unknown.
    pub fn verify_upstream(&self, path: &[u32], has_set: bool) -> AspaState {
        if has_set || path.is_empty() {
            return AspaState::Invalid;
        }
        let mut state = AspaState::Valid;
        // Pairs from the origin upwards: (customer, its next AS).
        for pair in path.windows(2).rev() {
            match self.hop(pair[1], pair[0]) {
                Hop::NotProviderPlus => return AspaState::Invalid,
                Hop::NoAttestation => state = AspaState::Unknown,
                Hop::ProviderPlus => {}
            }
        }
        state
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upstream_outcomes() {
        let mut t = AspaTable::default();
        t.add(64500, [64510, 64511]);
        t.add(64510, [64520]);
        t.add(64520, []);
        // Neighbour first, origin last.
        assert_eq!(
            t.verify_upstream(&[64520, 64510, 64500], false),
            AspaState::Valid
        );
        assert_eq!(
            t.verify_upstream(&[64500], false),
            AspaState::Valid,
            "a single AS has no hop"
        );
        assert_eq!(
            t.verify_upstream(&[64530, 64510, 64500], false),
            AspaState::Invalid
        );
        assert_eq!(
            t.verify_upstream(&[64510, 64520], false),
            AspaState::Invalid,
            "64520 attests no provider"
        );
        assert_eq!(
            t.verify_upstream(&[64999, 64511, 64500], false),
            AspaState::Unknown
        );
        // Unknown low on the path, refuted above it: invalid.
        assert_eq!(
            t.verify_upstream(&[64530, 64510, 64501], false),
            AspaState::Invalid
        );
        assert_eq!(t.verify_upstream(&[64510, 64500], true), AspaState::Invalid);
        assert_eq!(t.verify_upstream(&[], false), AspaState::Invalid);
    }
}
