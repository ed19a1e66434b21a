//! The connection as conntrack sees it.

use std::fmt;
use std::net::IpAddr;

/// Layer-4 protocol numbers the helpers deal in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum L4Proto {
    Tcp,
    Udp,
    Gre,
}

impl L4Proto {
    pub const fn number(self) -> u8 {
        match self {
            L4Proto::Tcp => 6,
            L4Proto::Udp => 17,
            L4Proto::Gre => 47,
        }
    }
    pub const fn from_number(n: u8) -> Option<Self> {
        match n {
            6 => Some(L4Proto::Tcp),
            17 => Some(L4Proto::Udp),
            47 => Some(L4Proto::Gre),
            _ => None,
        }
    }
    pub const fn name(self) -> &'static str {
        match self {
            L4Proto::Tcp => "tcp",
            L4Proto::Udp => "udp",
            L4Proto::Gre => "gre",
        }
    }
}

impl fmt::Display for L4Proto {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Direction of a packet relative to the conntrack entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dir {
    /// Same direction as the packet that created the entry.
    Original,
    /// The answer direction.
    Reply,
}

impl Dir {
    pub const fn reverse(self) -> Dir {
        match self {
            Dir::Original => Dir::Reply,
            Dir::Reply => Dir::Original,
        }
    }
    /// Index as the kernel numbers directions (IP_CT_DIR_ORIGINAL = 0).
    pub const fn index(self) -> usize {
        match self {
            Dir::Original => 0,
            Dir::Reply => 1,
        }
    }
    pub const fn name(self) -> &'static str {
        match self {
            Dir::Original => "original",
            Dir::Reply => "reply",
        }
    }
}

/// What conntrack says of a packet (`enum ip_conntrack_info` without the
/// direction, which [`Dir`] carries).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CtState {
    /// Part of an established connection (`IP_CT_ESTABLISHED[_REPLY]`).
    Established,
    /// The first packet of a connection an expectation let in, or an ICMP
    /// error about a connection (`IP_CT_RELATED[_REPLY]`).
    Related,
    /// A packet of a connection not yet seen in both directions (IP_CT_NEW).
    New,
}

impl CtState {
    /// From the kernel's `ip_conntrack_info` value (NFQA_CT_INFO): the
    /// state and the direction. Unknown values are taken as established.
    pub const fn from_ctinfo(v: u32) -> (CtState, Dir) {
        match v {
            0 => (CtState::Established, Dir::Original),
            1 => (CtState::Related, Dir::Original),
            2 => (CtState::New, Dir::Original),
            3 => (CtState::Established, Dir::Reply),
            4 => (CtState::Related, Dir::Reply),
            _ => (CtState::Established, Dir::Original),
        }
    }
    /// The kernel's `ip_conntrack_info` value for this state and `dir`.
    pub const fn ctinfo(self, dir: Dir) -> u32 {
        let reply = matches!(dir, Dir::Reply);
        match (self, reply) {
            (CtState::Established, false) => 0,
            (CtState::Related, false) => 1,
            (CtState::New, _) => 2,
            (CtState::Established, true) => 3,
            (CtState::Related, true) => 4,
        }
    }
    pub const fn name(self) -> &'static str {
        match self {
            CtState::Established => "established",
            CtState::Related => "related",
            CtState::New => "new",
        }
    }
}

/// Conntrack status bits (`enum ip_conntrack_status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct CtStatus(pub u32);

impl CtStatus {
    /// An expected connection (it matched an expectation).
    pub const EXPECTED: u32 = 1 << 0;
    /// Packets have been seen both ways.
    pub const SEEN_REPLY: u32 = 1 << 1;
    pub const ASSURED: u32 = 1 << 2;
    /// In the conntrack table (not the first packet's unconfirmed entry).
    pub const CONFIRMED: u32 = 1 << 3;
    pub const SRC_NAT: u32 = 1 << 4;
    pub const DST_NAT: u32 = 1 << 5;
    pub const NAT_MASK: u32 = Self::SRC_NAT | Self::DST_NAT;
    pub const SEQ_ADJUST: u32 = 1 << 6;

    pub const fn has(self, bit: u32) -> bool {
        self.0 & bit != 0
    }
    pub const fn confirmed(self) -> bool {
        self.has(Self::CONFIRMED)
    }
    pub const fn expected(self) -> bool {
        self.has(Self::EXPECTED)
    }
    /// Any NAT (IPS_NAT_MASK).
    pub const fn nat(self) -> bool {
        self.has(Self::NAT_MASK)
    }
}

/// One conntrack tuple. For GRE the "ports" are the call/key ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Tuple {
    pub src: IpAddr,
    pub dst: IpAddr,
    pub proto: L4Proto,
    pub sport: u16,
    pub dport: u16,
}

impl Tuple {
    /// The tuple a packet of the other direction would have without NAT.
    pub const fn inverse(&self) -> Tuple {
        Tuple {
            src: self.dst,
            dst: self.src,
            proto: self.proto,
            sport: self.dport,
            dport: self.sport,
        }
    }
}

impl fmt::Display for Tuple {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} -> {}",
            self.proto,
            crate::text::SockAddrText(self.src, self.sport),
            crate::text::SockAddrText(self.dst, self.dport)
        )
    }
}

/// Conntrack's two tuples of one connection.
///
/// `orig` is what the first packet looked like when it arrived (before any
/// NAT); `reply` is what an answer looks like when it arrives (after NAT).
/// Without NAT `reply == orig.inverse()`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ConnView {
    pub orig: Tuple,
    pub reply: Tuple,
}

impl ConnView {
    /// A connection without NAT.
    pub const fn plain(orig: Tuple) -> Self {
        ConnView {
            orig,
            reply: orig.inverse(),
        }
    }
    /// `ct->tuplehash[dir].tuple`.
    pub const fn tuple(&self, dir: Dir) -> &Tuple {
        match dir {
            Dir::Original => &self.orig,
            Dir::Reply => &self.reply,
        }
    }
    /// Source NAT applied: the reply goes to another address/port than the
    /// original came from (IPS_SRC_NAT).
    pub fn src_nat(&self) -> bool {
        self.orig.src != self.reply.dst || self.orig.sport != self.reply.dport
    }
    /// Destination NAT applied (IPS_DST_NAT).
    pub fn dst_nat(&self) -> bool {
        self.orig.dst != self.reply.src || self.orig.dport != self.reply.sport
    }
    /// Any NAT (IPS_NAT_MASK).
    pub fn nat(&self) -> bool {
        self.src_nat() || self.dst_nat()
    }
    pub const fn is_ipv6(&self) -> bool {
        self.orig.src.is_ipv6()
    }
}
