//! RPKI route origin validation (RFC 6811) against validated ROA payloads.

use crate::Map;
use crate::net::Net;

/// The validation state of one announcement (RFC 6811 §2, with the
/// invalid state split by cause).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RovState {
    /// A covering VRP matches the origin and allows the length.
    Valid,
    /// Covering VRPs exist, and none of them names the origin.
    InvalidOrigin,
    /// A covering VRP names the origin, but the prefix is longer than its
    /// max length (and no other VRP matches).
    InvalidLength,
    /// No VRP covers the prefix.
    NotFound,
}

impl RovState {
    /// The state's name in findings: `valid`, `invalid-origin`,
    /// `invalid-length` or `not-found`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Valid => "valid",
            Self::InvalidOrigin => "invalid-origin",
            Self::InvalidLength => "invalid-length",
            Self::NotFound => "not-found",
        }
    }
}

/// Validated ROA payloads, by prefix.
#[derive(Clone, Debug, Default)]
pub struct VrpTable {
    vrps: Map<Net, Vec<(u32, u8)>>,
    /// Prefix lengths present, per family (v4, v6).
    lengths: [Vec<u8>; 2],
    count: usize,
}

impl VrpTable {
    /// Adds the VRP (`net`, `max_len`, `asn`); a repeated one is kept once.
    pub fn add(&mut self, net: Net, max_len: u8, asn: u32) {
        let entry = self.vrps.entry(net).or_default();
        if entry.contains(&(asn, max_len)) {
            return;
        }
        entry.push((asn, max_len));
        self.count += 1;
        let lengths = &mut self.lengths[usize::from(net.is_ipv6())];
        if let Err(at) = lengths.binary_search(&net.prefix_len()) {
            lengths.insert(at, net.prefix_len());
        }
    }

    /// How many distinct VRPs the table holds.
    pub fn len(&self) -> usize {
        self.count
    }

    /// Whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Validates the route (`net`, `origin`). An origin of `None` (an
    /// AS_SET or an empty path) matches no VRP (RFC 6811 §2).
    pub fn validate(&self, net: &Net, origin: Option<u32>) -> RovState {
        let mut covered = false;
        let mut origin_named = false;
        for &len in &self.lengths[usize::from(net.is_ipv6())] {
            if len > net.prefix_len() {
                break;
            }
            let Some(vrps) = self.vrps.get(&net.truncated(len)) else {
                continue;
            };
            covered = true;
            for &(asn, max_len) in vrps {
                // A VRP for AS0 says the prefix must not be routed: it
                // covers, and never matches (RFC 6483 §4).
                if asn != 0 && Some(asn) == origin {
                    if net.prefix_len() <= max_len {
                        return RovState::Valid;
                    }
                    origin_named = true;
                }
            }
        }
        match (covered, origin_named) {
            (false, _) => RovState::NotFound,
            (true, true) => RovState::InvalidLength,
            (true, false) => RovState::InvalidOrigin,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(s: &str) -> Net {
        s.parse().unwrap()
    }

    #[test]
    fn rfc6811_states() {
        let mut t = VrpTable::default();
        t.add(net("192.0.2.0/24"), 24, 64500);
        t.add(net("10.0.0.0/8"), 16, 64501);
        t.add(net("10.1.0.0/16"), 24, 64502);
        t.add(net("198.51.100.0/24"), 24, 0);
        t.add(net("198.51.100.0/24"), 24, 0);
        assert_eq!(t.len(), 4, "a repeated VRP counts once");
        assert_eq!(
            t.validate(&net("192.0.2.0/24"), Some(64500)),
            RovState::Valid
        );
        assert_eq!(
            t.validate(&net("192.0.2.0/24"), Some(1)),
            RovState::InvalidOrigin
        );
        assert_eq!(
            t.validate(&net("192.0.2.0/25"), Some(64500)),
            RovState::InvalidLength
        );
        assert_eq!(
            t.validate(&net("192.0.3.0/24"), Some(64500)),
            RovState::NotFound
        );
        // Any matching VRP makes it valid, even when another covers it.
        assert_eq!(
            t.validate(&net("10.1.2.0/24"), Some(64502)),
            RovState::Valid
        );
        assert_eq!(
            t.validate(&net("10.1.0.0/16"), Some(64501)),
            RovState::Valid
        );
        assert_eq!(
            t.validate(&net("10.1.2.0/24"), Some(64501)),
            RovState::InvalidLength
        );
        assert_eq!(
            t.validate(&net("10.1.2.0/24"), None),
            RovState::InvalidOrigin
        );
        // AS0 covers and never matches.
        assert_eq!(
            t.validate(&net("198.51.100.0/24"), Some(0)),
            RovState::InvalidOrigin
        );
        assert_eq!(
            t.validate(&net("198.51.100.0/24"), Some(64500)),
            RovState::InvalidOrigin
        );
        assert_eq!(
            t.validate(&net("2001:db8::/32"), Some(64500)),
            RovState::NotFound
        );
    }
}
