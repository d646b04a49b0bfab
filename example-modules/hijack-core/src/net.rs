//! IP prefixes as bit strings: parsing, text form and containment.

use std::fmt;
use std::hash::{Hash, Hasher};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

/// An IPv4 or IPv6 prefix with its host bits cleared.
///
/// IPv4 addresses sit in the top 32 bits of `bits`, so both families
/// compare and mask the same way.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Net {
    v6: bool,
    bits: u128,
    len: u8,
}

/// `MASKS[n]` keeps the top `n` of 128 bits. Looked up rather than
/// shifted, since a 128-bit shift by a variable amount is a library call
/// in WebAssembly, and route validation truncates a prefix once per VRP
/// length.
const MASKS: [u128; 129] = {
    let mut masks = [0; 129];
    let mut n = 1;
    while n <= 128 {
        masks[n] = u128::MAX << (128 - n);
        n += 1;
    }
    masks
};

/// One word per prefix: the two halves of the address folded together,
/// with the length and family. Route validation hashes a prefix once per
/// VRP length; derived, the three fields cost a 64×64→128-bit product
/// each, which WebAssembly builds from four 64-bit multiplications. Equal
/// prefixes fold alike.
impl Hash for Net {
    fn hash<H: Hasher>(&self, state: &mut H) {
        let high = (self.bits >> 64) as u64;
        let low = self.bits as u64;
        let shape = u64::from(self.len) | u64::from(self.v6) << 8;
        state.write_u64(high ^ low.rotate_left(29) ^ shape);
    }
}

impl Net {
    /// The prefix of `address` and `len` bits; host bits are cleared.
    ///
    /// Returns `None` if `len` is longer than the address family.
    pub fn new(address: IpAddr, len: u8) -> Option<Self> {
        let (v6, bits) = match address {
            IpAddr::V4(v4) => (false, u128::from(u32::from(v4)) << 96),
            IpAddr::V6(v6) => (true, u128::from(v6)),
        };
        let net = Self { v6, bits, len };
        (len <= net.max_len()).then(|| net.truncated(len))
    }

    /// Whether this is an IPv6 prefix.
    pub fn is_ipv6(&self) -> bool {
        self.v6
    }

    /// The prefix length.
    pub fn prefix_len(&self) -> u8 {
        self.len
    }

    /// The longest prefix of this family: 32 or 128.
    pub fn max_len(&self) -> u8 {
        if self.v6 { 128 } else { 32 }
    }

    /// This prefix cut to `len` bits (`len` must not exceed [`Net::prefix_len`]).
    pub fn truncated(&self, len: u8) -> Self {
        Self {
            v6: self.v6,
            bits: self.bits & MASKS[usize::from(len)],
            len,
        }
    }

    /// Whether `other` is this prefix or a more specific one inside it.
    pub fn contains(&self, other: &Net) -> bool {
        self.v6 == other.v6 && self.len <= other.len && other.truncated(self.len) == *self
    }

    /// The network address.
    pub fn address(&self) -> IpAddr {
        if self.v6 {
            IpAddr::V6(Ipv6Addr::from(self.bits))
        } else {
            IpAddr::V4(Ipv4Addr::from((self.bits >> 96) as u32))
        }
    }
}

impl fmt::Display for Net {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.address(), self.len)
    }
}

impl FromStr for Net {
    type Err = String;

    /// Parses `192.0.2.0/24` or `2001:db8::/32`; host bits are refused.
    fn from_str(text: &str) -> Result<Self, String> {
        let bad = || format!("{text:?} is not a prefix; write it as 192.0.2.0/24 or 2001:db8::/32");
        let (address, len) = text.trim().split_once('/').ok_or_else(bad)?;
        let address: IpAddr = address.parse().map_err(|_| bad())?;
        let len: u8 = len.parse().map_err(|_| bad())?;
        let net = Self::new(address, len).ok_or_else(|| {
            format!("{text:?} has a prefix length longer than its address family allows")
        })?;
        if net.address() != address {
            return Err(format!("{text:?} has host bits set; its network is {net}"));
        }
        Ok(net)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_both_families_and_refuses_host_bits() {
        let v4: Net = "192.0.2.0/24".parse().unwrap();
        assert_eq!(v4.to_string(), "192.0.2.0/24");
        let v6: Net = "2001:db8::/32".parse().unwrap();
        assert_eq!((v6.is_ipv6(), v6.prefix_len()), (true, 32));
        let err = "192.0.2.1/24".parse::<Net>().unwrap_err();
        assert!(err.contains("its network is 192.0.2.0/24"), "{err}");
        assert!("10.0.0.0/33".parse::<Net>().is_err());
        assert!("nope".parse::<Net>().is_err());
    }

    #[test]
    fn containment_respects_family_and_length() {
        let p: Net = "10.0.0.0/8".parse().unwrap();
        let sub: Net = "10.1.0.0/16".parse().unwrap();
        let other: Net = "11.0.0.0/16".parse().unwrap();
        assert!(p.contains(&sub) && p.contains(&p));
        assert!(!sub.contains(&p) && !p.contains(&other));
        // ::/0 and 0.0.0.0/0 share bits but not a family.
        let any4: Net = "0.0.0.0/0".parse().unwrap();
        let v6: Net = "::/8".parse().unwrap();
        assert!(!any4.contains(&v6));
    }
}
