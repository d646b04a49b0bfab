//! A builder for capture filters.

use std::net::IpAddr;

use crate::wit::bgpmon::module0_1_0::types::{
    CaptureFilter, CaptureKind, Community, Prefix, PrefixMatch, PrefixScope, PrefixTerm, TimeRange,
};

/// A capture filter. Values within one term are OR'ed and terms are
/// AND'ed; a term left out keeps everything.
///
/// ```
/// use bgpmon_guest::{Filter, PrefixMatch};
///
/// let filter = Filter::new()
///     .origin(64500)
///     .origin(64501)
///     .prefix("192.0.2.0/24".parse()?, PrefixMatch::More)
///     .time(1_427_846_847_000_000, 1_427_846_875_000_000);
/// # Ok::<(), String>(())
/// ```
#[derive(Clone, Debug)]
pub struct Filter {
    inner: CaptureFilter,
}

impl Default for Filter {
    fn default() -> Self {
        Self::new()
    }
}

impl Filter {
    /// A filter that keeps every capture.
    pub fn new() -> Self {
        Self {
            inner: CaptureFilter {
                collectors: Vec::new(),
                time: None,
                peer_ips: Vec::new(),
                peer_ases: Vec::new(),
                origin_ases: Vec::new(),
                prefixes: Vec::new(),
                prefix_scope: PrefixScope::Advertised,
                path_contains: Vec::new(),
                communities: Vec::new(),
                kind: CaptureKind::Any,
            },
        }
    }

    /// Keeps captures from collector `name`.
    pub fn collector(mut self, name: impl Into<String>) -> Self {
        self.inner.collectors.push(name.into());
        self
    }

    /// Keeps captures in `[start_us, end_us)`, microseconds since the epoch.
    pub fn time(mut self, start_us: u64, end_us: u64) -> Self {
        self.inner.time = Some(TimeRange { start_us, end_us });
        self
    }

    /// Keeps captures from peer `ip`.
    pub fn peer_ip(mut self, ip: IpAddr) -> Self {
        self.inner.peer_ips.push(ip.into());
        self
    }

    /// Keeps captures from peer AS `asn`.
    pub fn peer_as(mut self, asn: u32) -> Self {
        self.inner.peer_ases.push(asn);
        self
    }

    /// Keeps captures originated by `asn`.
    pub fn origin(mut self, asn: u32) -> Self {
        self.inner.origin_ases.push(asn);
        self
    }

    /// Keeps captures with a prefix that matches `prefix` by `specificity`.
    pub fn prefix(mut self, prefix: Prefix, specificity: PrefixMatch) -> Self {
        self.inner.prefixes.push(PrefixTerm {
            prefix,
            specificity,
        });
        self
    }

    /// Sets which prefixes the prefix terms look at; advertised by default.
    pub fn prefix_scope(mut self, scope: PrefixScope) -> Self {
        self.inner.prefix_scope = scope;
        self
    }

    /// Keeps captures whose AS path contains `asn`.
    pub fn path_contains(mut self, asn: u32) -> Self {
        self.inner.path_contains.push(asn);
        self
    }

    /// Keeps captures that carry `community`.
    pub fn community(mut self, community: Community) -> Self {
        self.inner.communities.push(community);
        self
    }

    /// Keeps only RIB entries, only updates, or both (the default).
    pub fn kind(mut self, kind: CaptureKind) -> Self {
        self.inner.kind = kind;
        self
    }

    pub(crate) fn to_wit(&self) -> CaptureFilter {
        self.inner.clone()
    }
}
