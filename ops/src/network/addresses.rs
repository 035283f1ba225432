//! The addresses an `ipBlock` holds: IPv4 ranges and their exceptions,
//! against one address outside the cluster or the ranges pods live in.

use std::net::Ipv4Addr;

use k8s_openapi::api::networking::v1::IPBlock;

/// The ranges pods take their addresses from, whatever the cluster: an
/// `ipBlock` overlapping one of them may let pods through.
const POD_RANGES: [&str; 4] = [
    "10.0.0.0/8",
    "172.16.0.0/12",
    "192.168.0.0/16",
    "100.64.0.0/10",
];

/// An IPv4 range, `address/prefix`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Cidr {
    base: u32,
    prefix: u32,
}

impl Cidr {
    /// An IPv4 CIDR; anything else (IPv6, a typo) is no range of ours.
    fn parse(text: &str) -> Option<Self> {
        let (address, prefix) = text.split_once('/')?;
        let prefix: u32 = prefix.parse().ok().filter(|p| *p <= 32)?;
        let address: Ipv4Addr = address.parse().ok()?;
        Some(Cidr {
            base: u32::from(address) & Self::mask(prefix),
            prefix,
        })
    }

    fn mask(prefix: u32) -> u32 {
        u32::MAX.checked_shl(32 - prefix).unwrap_or(0)
    }

    fn holds(self, address: u32) -> bool {
        address & Self::mask(self.prefix) == self.base
    }

    fn contains(self, other: Cidr) -> bool {
        other.prefix >= self.prefix && self.holds(other.base)
    }
}

fn excepted(block: &IPBlock) -> Vec<Cidr> {
    block
        .except
        .iter()
        .flatten()
        .filter_map(|e| Cidr::parse(e))
        .collect()
}

pub(super) fn block_holds(block: &IPBlock, address: Ipv4Addr) -> bool {
    let address = u32::from(address);
    Cidr::parse(&block.cidr).is_some_and(|c| c.holds(address))
        && !excepted(block).iter().any(|e| e.holds(address))
}

/// Whether some address pods may have is in the block and not excepted
/// from it. Two ranges are nested or apart, so where the block meets a pod
/// range it is the smaller of the two; that part must lie in one exception.
pub(super) fn block_may_hold_pods(block: &IPBlock) -> bool {
    let Some(cidr) = Cidr::parse(&block.cidr) else {
        return false;
    };
    let except = excepted(block);
    POD_RANGES
        .iter()
        .filter_map(|r| Cidr::parse(r))
        .any(|range| {
            let overlap = if cidr.contains(range) {
                range
            } else if range.contains(cidr) {
                cidr
            } else {
                return false;
            };
            !except.iter().any(|e| e.contains(overlap))
        })
}
