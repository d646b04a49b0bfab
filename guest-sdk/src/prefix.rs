//! Conversions and text forms for addresses, prefixes and errors.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use crate::wit::bgpmon::module0_1_0::types::{Capture, Error, IpAddress, PathSegment, Prefix};

impl From<IpAddr> for IpAddress {
    fn from(ip: IpAddr) -> Self {
        match ip {
            IpAddr::V4(v4) => {
                let [a, b, c, d] = v4.octets();
                IpAddress::Ipv4((a, b, c, d))
            }
            IpAddr::V6(v6) => {
                let [a, b, c, d, e, f, g, h] = v6.segments();
                IpAddress::Ipv6((a, b, c, d, e, f, g, h))
            }
        }
    }
}

impl From<IpAddress> for IpAddr {
    fn from(ip: IpAddress) -> Self {
        match ip {
            IpAddress::Ipv4((a, b, c, d)) => IpAddr::V4(Ipv4Addr::new(a, b, c, d)),
            IpAddress::Ipv6((a, b, c, d, e, f, g, h)) => {
                IpAddr::V6(Ipv6Addr::new(a, b, c, d, e, f, g, h))
            }
        }
    }
}

impl fmt::Display for IpAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        IpAddr::from(*self).fmt(f)
    }
}

impl Prefix {
    /// A prefix of `address` and `length` bits.
    ///
    /// Returns an error if `length` is longer than the address family.
    pub fn new(address: IpAddr, length: u8) -> Result<Self, String> {
        let max = if address.is_ipv4() { 32 } else { 128 };
        if length > max {
            return Err(format!(
                "prefix length {length} is too long for {address}; use at most {max}"
            ));
        }
        Ok(Self {
            address: address.into(),
            length,
        })
    }

    /// The network address.
    pub fn ip(&self) -> IpAddr {
        self.address.into()
    }

    /// Whether `other` lies inside this prefix (or equals it).
    pub fn contains(&self, other: &Prefix) -> bool {
        if other.length < self.length {
            return false;
        }
        match (self.ip(), other.ip()) {
            (IpAddr::V4(a), IpAddr::V4(b)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.length))
                    .unwrap_or(0);
                u32::from(a) & mask == u32::from(b) & mask
            }
            (IpAddr::V6(a), IpAddr::V6(b)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.length))
                    .unwrap_or(0);
                u128::from(a) & mask == u128::from(b) & mask
            }
            _ => false,
        }
    }
}

impl FromStr for Prefix {
    type Err = String;

    /// Parses `address/length`, such as `192.0.2.0/24` or `2001:db8::/32`.
    fn from_str(s: &str) -> Result<Self, String> {
        let (address, length) = s
            .split_once('/')
            .ok_or_else(|| format!("prefix {s:?} has no '/length'; write it as 192.0.2.0/24"))?;
        let address: IpAddr = address
            .parse()
            .map_err(|e| format!("prefix {s:?} has a bad address: {e}"))?;
        let length: u8 = length
            .parse()
            .map_err(|e| format!("prefix {s:?} has a bad length: {e}"))?;
        Prefix::new(address, length)
    }
}

impl fmt::Display for Prefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.address, self.length)
    }
}

impl PathSegment {
    /// The ASes of the segment.
    pub fn asns(&self) -> &[u32] {
        match self {
            PathSegment::Sequence(a)
            | PathSegment::Set(a)
            | PathSegment::ConfedSequence(a)
            | PathSegment::ConfedSet(a) => a,
        }
    }
}

impl Capture {
    /// Whether `asn` appears anywhere in the AS path.
    pub fn path_contains(&self, asn: u32) -> bool {
        self.as_path.iter().any(|s| s.asns().contains(&asn))
    }
}

impl Error {
    /// The error's kind, such as `denied` or `unknown id`.
    pub fn kind(&self) -> &'static str {
        match self {
            Error::UnknownId(_) => "unknown id",
            Error::DuplicateId(_) => "duplicate id",
            Error::UnknownType(_) => "unknown type",
            Error::InvalidArgument(_) => "invalid argument",
            Error::LimitReached(_) => "limit reached",
            Error::Denied(_) => "denied",
            Error::Closed(_) => "closed",
            Error::Storage(_) => "storage",
        }
    }

    /// The host's message: what is wrong and what to do.
    pub fn message(&self) -> &str {
        match self {
            Error::UnknownId(m)
            | Error::DuplicateId(m)
            | Error::UnknownType(m)
            | Error::InvalidArgument(m)
            | Error::LimitReached(m)
            | Error::Denied(m)
            | Error::Closed(m)
            | Error::Storage(m) => m,
        }
    }
}

impl From<Error> for String {
    /// `kind: message`, such as `denied: module "m" was not granted ...`.
    fn from(e: Error) -> Self {
        format!("{}: {}", e.kind(), e.message())
    }
}
