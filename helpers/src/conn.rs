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
