//! Re-reads an UPDATE's prefixes without ADD-PATH path identifiers.
//!
//! bgpkit-parser guesses ADD-PATH when an NLRI field starts with a zero byte, even when the
//! caller says ADD-PATH is off: a plain `0.0.0.0/0, 10.0.0.0/24` then comes back as one
//! prefix with a bogus path id, and the second prefix is lost. When the peer did not
//! negotiate ADD-PATH, the station reads the prefixes again here, as RFC 4271 and RFC 4760
//! lay them out.

use std::net::{Ipv4Addr, Ipv6Addr};

use ipnet::{IpNet, Ipv4Net, Ipv6Net};

/// The BGP message header: marker, length, type.
const BGP_HEADER_BYTES: usize = 19;
/// The attribute type codes of MP_REACH_NLRI and MP_UNREACH_NLRI (RFC 4760).
const MP_REACH_NLRI: u8 = 14;
const MP_UNREACH_NLRI: u8 = 15;
/// The extended-length bit of an attribute's flags.
const EXTENDED_LENGTH: u8 = 0x10;
/// AFI values (RFC 4760) and the SAFIs whose NLRI is a plain prefix list.
const AFI_IPV4: u16 = 1;
const AFI_IPV6: u16 = 2;
const SAFI_UNICAST: u8 = 1;
const SAFI_MULTICAST: u8 = 2;

/// The prefixes of one UPDATE.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct PlainPrefixes {
    /// The NLRI field, then MP_REACH_NLRI's.
    pub(crate) advertised: Vec<IpNet>,
    /// The withdrawn routes field, then MP_UNREACH_NLRI's.
    pub(crate) withdrawn: Vec<IpNet>,
}

/// Reads the prefixes of the BGP UPDATE `message` (header included) with no path ids.
///
/// Returns `None` if the message does not parse that way: then the path ids were real.
pub(crate) fn plain_prefixes(message: &[u8]) -> Option<PlainPrefixes> {
    let body = message.get(BGP_HEADER_BYTES..)?;
    let (withdrawn_len, rest) = split_u16(body)?;
    let (withdrawn, rest) = split(rest, withdrawn_len)?;
    let (attributes_len, rest) = split_u16(rest)?;
    let (mut attributes, nlri) = split(rest, attributes_len)?;
    let mut out = PlainPrefixes::default();
    prefixes(withdrawn, AFI_IPV4, &mut out.withdrawn)?;
    while !attributes.is_empty() {
        let (&[flags, kind], rest) = attributes.split_first_chunk::<2>()?;
        let (len, rest) = if flags & EXTENDED_LENGTH != 0 {
            split_u16(rest)?
        } else {
            let (&len, rest) = rest.split_first()?;
            (usize::from(len), rest)
        };
        let (value, rest) = split(rest, len)?;
        attributes = rest;
        match kind {
            MP_REACH_NLRI => {
                let (afi, safi, rest) = family(value)?;
                let (&hop_len, rest) = rest.split_first()?;
                // The next hop, then one reserved byte.
                let (_, rest) = split(rest, usize::from(hop_len) + 1)?;
                if plain(safi) {
                    prefixes(rest, afi, &mut out.advertised)?;
                }
            }
            MP_UNREACH_NLRI => {
                let (afi, safi, rest) = family(value)?;
                if plain(safi) {
                    prefixes(rest, afi, &mut out.withdrawn)?;
                }
            }
            _ => {}
        }
    }
    // The NLRI field comes after MP_REACH's in `advertised`: bgpkit-parser lists it first,
    // but the order of prefixes within one UPDATE carries no meaning.
    let mut classic = Vec::new();
    prefixes(nlri, AFI_IPV4, &mut classic)?;
    classic.append(&mut out.advertised);
    out.advertised = classic;
    Some(out)
}

fn plain(safi: u8) -> bool {
    safi == SAFI_UNICAST || safi == SAFI_MULTICAST
}

fn family(value: &[u8]) -> Option<(u16, u8, &[u8])> {
    let (afi, rest) = split_u16(value)?;
    let (&safi, rest) = rest.split_first()?;
    Some((afi as u16, safi, rest))
}

fn split_u16(bytes: &[u8]) -> Option<(usize, &[u8])> {
    let (&[a, b], rest) = bytes.split_first_chunk::<2>()?;
    Some((usize::from(u16::from_be_bytes([a, b])), rest))
}

fn split(bytes: &[u8], len: usize) -> Option<(&[u8], &[u8])> {
    (bytes.len() >= len).then(|| bytes.split_at(len))
}

/// Appends the prefixes of one NLRI list of address family `afi` to `out`.
fn prefixes(mut list: &[u8], afi: u16, out: &mut Vec<IpNet>) -> Option<()> {
    let max_len: u8 = match afi {
        AFI_IPV4 => 32,
        AFI_IPV6 => 128,
        _ => return Some(()),
    };
    while let Some((&len, rest)) = list.split_first() {
        if len > max_len {
            return None;
        }
        let (bits, rest) = split(rest, usize::from(len).div_ceil(8))?;
        list = rest;
        let prefix = if afi == AFI_IPV4 {
            let mut octets = [0u8; 4];
            octets[..bits.len()].copy_from_slice(bits);
            IpNet::V4(Ipv4Net::new(Ipv4Addr::from(octets), len).ok()?.trunc())
        } else {
            let mut octets = [0u8; 16];
            octets[..bits.len()].copy_from_slice(bits);
            IpNet::V6(Ipv6Net::new(Ipv6Addr::from(octets), len).ok()?.trunc())
        };
        out.push(prefix);
    }
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A BGP UPDATE with `withdrawn`, `attributes` and `nlri` as given.
    pub(crate) fn update(withdrawn: &[u8], attributes: &[u8], nlri: &[u8]) -> Vec<u8> {
        let mut body = Vec::new();
        body.extend_from_slice(&(withdrawn.len() as u16).to_be_bytes());
        body.extend_from_slice(withdrawn);
        body.extend_from_slice(&(attributes.len() as u16).to_be_bytes());
        body.extend_from_slice(attributes);
        body.extend_from_slice(nlri);
        let mut m = vec![0xff; 16];
        m.extend_from_slice(&((BGP_HEADER_BYTES + body.len()) as u16).to_be_bytes());
        m.push(2);
        m.extend_from_slice(&body);
        m
    }

    fn nets(list: &[&str]) -> Vec<IpNet> {
        list.iter().map(|s| s.parse().unwrap()).collect()
    }

    #[test]
    fn a_default_route_followed_by_a_prefix_reads_as_two_prefixes() {
        let m = update(&[], &[], &[0, 24, 10, 0, 0]);
        let p = plain_prefixes(&m).unwrap();
        assert_eq!(p.advertised, nets(&["0.0.0.0/0", "10.0.0.0/24"]));
        assert!(p.withdrawn.is_empty());
    }

    #[test]
    fn mp_reach_and_unreach_prefixes_of_ipv6_are_read() {
        let reach = [
            0x80,
            MP_REACH_NLRI,
            26,
            0,
            2,
            1,
            16,
            0x20,
            0x01,
            0x0d,
            0xb8,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            1,
            0,
            32,
            0x20,
            0x01,
            0x0d,
            0xb8,
        ];
        let unreach = [0x80, MP_UNREACH_NLRI, 4, 0, 2, 1, 0];
        let m = update(&[8, 10], &[&reach[..], &unreach[..]].concat(), &[]);
        let p = plain_prefixes(&m).unwrap();
        assert_eq!(p.advertised, nets(&["2001:db8::/32"]));
        assert_eq!(p.withdrawn, nets(&["10.0.0.0/8", "::/0"]));
    }

    #[test]
    fn a_list_that_does_not_parse_without_path_ids_is_refused() {
        // A path id 0.0.0.1 then 10.0.0.0/24: without path ids, the length 1 byte runs out.
        assert_eq!(
            plain_prefixes(&update(&[], &[], &[0, 0, 0, 1, 24, 10, 0])),
            None
        );
        assert_eq!(
            plain_prefixes(&update(&[], &[], &[33, 1, 2, 3, 4, 5])),
            None
        );
    }
}
