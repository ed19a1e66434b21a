//! Expectations: what a helper asks conntrack to let in.
//!
//! An [`Expectation`] is the kernel's `struct nf_conntrack_expect` as a
//! helper fills it in: a class (index into the helper's policies), the
//! expected tuple with its mask — the kernel masks only the source: an
//! address prefix ([`SrcAddr`]) and the source port or GRE key (`sport`,
//! `None` = any); protocol, destination address and destination port (GRE:
//! destination key) always match exactly — flags, the helper the expected
//! connection gets, and the NAT it gets when it arrives ([`ExpectNat`],
//! applied by a kernel expectfn, [`ExpectFn`]).
//!
//! GRE (PPTP): the "ports" of a GRE tuple are the keys, as conntrack prints
//! them (`srckey`/`dstkey`) and as ctnetlink carries them
//! (CTA_PROTO_SRC_PORT/DST_PORT).

use crate::conn::{Dir, L4Proto, Tuple};
use crate::helper::Env;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Expectation flags as in `NF_CT_EXPECT_*`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct ExpectFlags(pub u32);

impl ExpectFlags {
    pub const NONE: ExpectFlags = ExpectFlags(0);
    /// Survives a match (NF_CT_EXPECT_PERMANENT).
    pub const PERMANENT: ExpectFlags = ExpectFlags(0x1);
    /// Ignored until the flag is cleared (NF_CT_EXPECT_INACTIVE).
    pub const INACTIVE: ExpectFlags = ExpectFlags(0x2);
    /// Created from userspace (NF_CT_EXPECT_USERSPACE; the kernel sets it
    /// on expectations made over ctnetlink and strips it from requests).
    pub const USERSPACE: ExpectFlags = ExpectFlags(0x4);

    pub const fn contains(self, other: ExpectFlags) -> bool {
        self.0 & other.0 == other.0
    }
    pub const fn without(self, other: ExpectFlags) -> ExpectFlags {
        ExpectFlags(self.0 & !other.0)
    }
}

impl std::ops::BitOr for ExpectFlags {
    type Output = ExpectFlags;
    fn bitor(self, rhs: Self) -> Self {
        ExpectFlags(self.0 | rhs.0)
    }
}

/// The kernel functions an expectation can name (CTA_EXPECT_FN) to NAT the
/// expected connection when it arrives (`nf_ct_helper_expectfn_find_by_name`).
///
/// Only [`ExpectFn::NatFollowMaster`] is always there (nf_nat_core). The
/// others are registered by the kernel's own NAT helpers (`nf_nat_sip`,
/// `nf_nat_h323`) and exist only while those modules are loaded — which
/// also loads the kernel helper of the same name, the one cthelperd
/// replaces; a helper should not rely on them (see docs/kernel-path.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ExpectFn {
    /// `nf_nat_follow_master()`: source NAT to where the master sends to in
    /// the expectation's direction, destination NAT to the master's peer in
    /// that direction with the saved port.
    NatFollowMaster,
    /// `nf_nat_sip_expected()` (nf_nat_sip).
    Sip,
    /// `ip_nat_q931_expect()` (nf_nat_h323).
    Q931,
    /// `ip_nat_callforwarding_expect()` (nf_nat_h323).
    CallForwarding,
}

impl ExpectFn {
    pub const ALL: [ExpectFn; 4] = [
        ExpectFn::NatFollowMaster,
        ExpectFn::Sip,
        ExpectFn::Q931,
        ExpectFn::CallForwarding,
    ];
    /// The name the kernel registers it under.
    pub const fn name(self) -> &'static str {
        match self {
            ExpectFn::NatFollowMaster => "nat-follow-master",
            ExpectFn::Sip => "sip",
            ExpectFn::Q931 => "Q.931",
            ExpectFn::CallForwarding => "callforwarding",
        }
    }
    pub fn from_name(s: &str) -> Option<ExpectFn> {
        ExpectFn::ALL.into_iter().find(|f| f.name() == s)
    }
}

/// NAT of the expected flow (CTA_EXPECT_NAT + CTA_EXPECT_FN): the flow
/// arrives at the address/port the helper advertised (`Expectation::dst`,
/// `dport`) and is translated by `expectfn`, which for
/// [`ExpectFn::NatFollowMaster`] sends it on to `saved_addr`/`saved_port` —
/// the kernel's `exp->saved_addr`/`saved_proto` (for GRE the key).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ExpectNat {
    /// `exp->dir`: the direction, relative to the master, of the packets
    /// that will be translated.
    pub dir: Dir,
    pub saved_addr: IpAddr,
    pub saved_port: u16,
    pub expectfn: ExpectFn,
}

impl ExpectNat {
    /// The usual NAT of an expectation: `nat-follow-master`.
    pub const fn follow_master(dir: Dir, saved_addr: IpAddr, saved_port: u16) -> Self {
        ExpectNat {
            dir,
            saved_addr,
            saved_port,
            expectfn: ExpectFn::NatFollowMaster,
        }
    }
}

/// The source address an expectation accepts (its mask on `src.u3`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SrcAddr {
    /// Any source (mask 0).
    Any,
    /// Exactly this address (mask all ones).
    Exact(IpAddr),
    /// Any address whose first `prefix` bits equal `net`'s (e.g. the
    /// answers to a broadcast, `nf_conntrack_broadcast_help`). `prefix` is
    /// at most the address length; bits of `net` past it do not take part
    /// in matching, but the tuple carries them as given, as the kernel
    /// stores an expectation's tuple (the broadcast helper's has the
    /// broadcast address itself).
    Net(IpAddr, u8),
}

impl SrcAddr {
    /// `Some(a)` → exactly `a`, `None` → any.
    pub const fn from_option(a: Option<IpAddr>) -> Self {
        match a {
            Some(a) => SrcAddr::Exact(a),
            None => SrcAddr::Any,
        }
    }
    /// Number of leading bits that must match, for an address family of
    /// `bits` bits (32 or 128).
    pub fn prefix(&self, bits: u8) -> u8 {
        match *self {
            SrcAddr::Any => 0,
            SrcAddr::Exact(_) => bits,
            SrcAddr::Net(_, p) => p.min(bits),
        }
    }
    /// The address the tuple carries (for [`SrcAddr::Net`] as given, not
    /// masked), or the unspecified address of `v6`'s family.
    pub fn addr(&self, v6: bool) -> IpAddr {
        match *self {
            SrcAddr::Any => unspecified(v6),
            SrcAddr::Exact(a) | SrcAddr::Net(a, _) => a,
        }
    }
    /// The exact address, if the mask is all ones.
    pub fn exact(&self) -> Option<IpAddr> {
        match *self {
            SrcAddr::Exact(a) => Some(a),
            _ => None,
        }
    }
    /// Whether `a` is accepted.
    pub fn matches(&self, a: IpAddr) -> bool {
        match *self {
            SrcAddr::Any => true,
            SrcAddr::Exact(x) => x == a,
            SrcAddr::Net(n, p) => n.is_ipv4() == a.is_ipv4() && mask_addr(n, p) == mask_addr(a, p),
        }
    }
    /// The mask bytes as the kernel keeps them (`mask.src.u3`), for an
    /// address of `v6`'s family.
    pub fn mask(&self, v6: bool) -> IpAddr {
        let bits = if v6 { 128 } else { 32 };
        mask_of(self.prefix(bits), v6)
    }
    /// From a tuple address and mask as ctnetlink lists them. A mask that is
    /// not a prefix is read as its leading ones.
    pub fn from_mask(addr: IpAddr, mask: IpAddr) -> SrcAddr {
        let (ones, bits) = match mask {
            IpAddr::V4(m) => (u32::from(m).leading_ones() as u8, 32),
            IpAddr::V6(m) => (u128::from(m).leading_ones() as u8, 128),
        };
        match ones {
            0 => SrcAddr::Any,
            n if n == bits => SrcAddr::Exact(addr),
            n => SrcAddr::Net(addr, n),
        }
    }
}

fn unspecified(v6: bool) -> IpAddr {
    if v6 {
        IpAddr::V6(Ipv6Addr::UNSPECIFIED)
    } else {
        IpAddr::V4(Ipv4Addr::UNSPECIFIED)
    }
}

fn mask_of(prefix: u8, v6: bool) -> IpAddr {
    if v6 {
        let m = u128::MAX
            .checked_shl(128 - u32::from(prefix.min(128)))
            .unwrap_or(0);
        IpAddr::V6(Ipv6Addr::from(m))
    } else {
        let m = u32::MAX
            .checked_shl(32 - u32::from(prefix.min(32)))
            .unwrap_or(0);
        IpAddr::V4(Ipv4Addr::from(m))
    }
}

fn mask_addr(a: IpAddr, prefix: u8) -> IpAddr {
    match (a, mask_of(prefix, a.is_ipv6())) {
        (IpAddr::V4(a), IpAddr::V4(m)) => IpAddr::V4(Ipv4Addr::from(u32::from(a) & u32::from(m))),
        (IpAddr::V6(a), IpAddr::V6(m)) => IpAddr::V6(Ipv6Addr::from(u128::from(a) & u128::from(m))),
        (a, _) => a,
    }
}

/// An expected related flow.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Expectation {
    /// Index into the helper's expectation policies.
    pub class: u8,
    pub proto: L4Proto,
    pub src: SrcAddr,
    /// Source port (GRE: source key); `None` = any.
    pub sport: Option<u16>,
    pub dst: IpAddr,
    /// Destination port (GRE: destination key).
    pub dport: u16,
    pub flags: ExpectFlags,
    /// Helper to attach to the expected connection (CTA_EXPECT_HELP_NAME).
    pub helper: Option<&'static str>,
    pub nat: Option<ExpectNat>,
}

impl Expectation {
    /// Class `class`, `proto` to `dst`:`dport` from any source, no flags,
    /// no helper, no NAT.
    pub const fn new(class: u8, proto: L4Proto, dst: IpAddr, dport: u16) -> Self {
        Expectation {
            class,
            proto,
            src: SrcAddr::Any,
            sport: None,
            dst,
            dport,
            flags: ExpectFlags::NONE,
            helper: None,
            nat: None,
        }
    }
    /// The expected tuple (the source address as [`SrcAddr::addr`] gives
    /// it, a masked-out source port zero).
    pub fn tuple(&self) -> Tuple {
        Tuple {
            src: self.src.addr(self.dst.is_ipv6()),
            dst: self.dst,
            proto: self.proto,
            sport: self.sport.unwrap_or(0),
            dport: self.dport,
        }
    }
    /// Whether the flow `t` matches this expectation under its mask
    /// (`nf_ct_tuple_mask_cmp`).
    pub fn matches(&self, t: &Tuple) -> bool {
        self.proto == t.proto
            && self.dst == t.dst
            && self.dport == t.dport
            && self.src.matches(t.src)
            && self.sport.is_none_or(|p| p == t.sport)
    }
    /// Same tuple and mask (`expect_matches()`): the same expectation as far
    /// as the table is concerned.
    pub fn same_as(&self, o: &Expectation) -> bool {
        let v6 = self.dst.is_ipv6();
        let bits = if v6 { 128 } else { 32 };
        self.proto == o.proto
            && self.dst == o.dst
            && self.dport == o.dport
            && self.sport == o.sport
            && self.src.prefix(bits) == o.src.prefix(bits)
            && self.src.addr(v6) == o.src.addr(v6)
    }
    /// The parts covered by both masks are equal (`expect_clash()`).
    pub fn clashes_with(&self, o: &Expectation) -> bool {
        let bits = if self.dst.is_ipv6() { 128 } else { 32 };
        let common = self.src.prefix(bits).min(o.src.prefix(bits));
        let src = mask_addr(self.src.addr(self.dst.is_ipv6()), common)
            == mask_addr(o.src.addr(o.dst.is_ipv6()), common);
        let sport = match (self.sport, o.sport) {
            (Some(a), Some(b)) => a == b,
            _ => true,
        };
        self.proto == o.proto
            && self.dst == o.dst
            && self.dport == o.dport
            && self.dst.is_ipv6() == o.dst.is_ipv6()
            && src
            && sport
    }
}

/// A change to a live expectation ([`Env::update`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ExpectChange {
    /// Flags to clear (e.g. INACTIVE: the SIP registration is confirmed).
    pub clear: ExpectFlags,
    /// New remaining lifetime in seconds.
    pub timeout: Option<u32>,
}

/// Why an expectation was not created.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExpectError {
    /// An expectation with the same tuple exists already (EBUSY): under NAT
    /// the helper may try another port.
    Clash,
    /// The policy or the global table is full.
    Full,
    /// Anything else the expectation table refused.
    Refused,
}

/// How many random ports `nf_nat_exp_find_port()` tries after the wanted one.
pub const NAT_PORT_ATTEMPTS: u32 = 128;

/// The kernel's `nf_nat_exp_find_port()`, shared by the NAT helpers: asks for
/// `exp` with the wanted `port`, then on a clash for up to 128 random ports in
/// `[port, 65535)`. Any refusal other than a clash ends the search. Leaves
/// the port it tried last in `exp.dport` and returns the one that was taken.
pub fn nat_find_port(
    env: &mut dyn Env,
    exp: &mut Expectation,
    port: u16,
) -> Result<u16, ExpectError> {
    let min = u32::from(port);
    let range = u32::from(u16::MAX).saturating_sub(min);
    let mut attempts_left = range.min(NAT_PORT_ATTEMPTS);
    let mut p = port;
    loop {
        exp.dport = p;
        match env.expect(exp) {
            Ok(()) => return Ok(p),
            Err(ExpectError::Clash) => {}
            Err(e) => return Err(e),
        }
        if attempts_left == 0 {
            return Err(ExpectError::Clash);
        }
        attempts_left -= 1;
        let r = env
            .random_u32()
            .checked_rem(range)
            .ok_or(ExpectError::Clash)?;
        p = u16::try_from(min + r).map_err(|_| ExpectError::Clash)?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn masks() {
        let n = SrcAddr::Net(ip("192.0.2.77"), 24);
        assert!(n.matches(ip("192.0.2.1")));
        assert!(!n.matches(ip("192.0.3.1")));
        assert!(!n.matches(ip("::1")));
        assert_eq!(n.addr(false), ip("192.0.2.77"));
        assert_eq!(n.mask(false), ip("255.255.255.0"));
        assert_eq!(SrcAddr::Any.mask(true), ip("::"));
        assert_eq!(
            SrcAddr::Exact(ip("::1")).mask(true),
            ip("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")
        );
        assert_eq!(
            SrcAddr::from_mask(ip("10.0.0.0"), ip("255.0.0.0")),
            SrcAddr::Net(ip("10.0.0.0"), 8)
        );
        assert_eq!(
            SrcAddr::from_mask(ip("10.0.0.1"), ip("255.255.255.255")),
            SrcAddr::Exact(ip("10.0.0.1"))
        );
        assert_eq!(
            SrcAddr::from_mask(ip("0.0.0.0"), ip("0.0.0.0")),
            SrcAddr::Any
        );
    }

    #[test]
    fn clash_and_same() {
        let mut a = Expectation::new(0, L4Proto::Udp, ip("192.0.2.1"), 161);
        let mut b = a.clone();
        b.src = SrcAddr::Exact(ip("10.0.0.1"));
        assert!(a.clashes_with(&b) && b.clashes_with(&a));
        assert!(!a.same_as(&b));
        a.src = SrcAddr::Net(ip("10.0.0.0"), 8);
        assert!(a.clashes_with(&b));
        b.src = SrcAddr::Exact(ip("11.0.0.1"));
        assert!(!a.clashes_with(&b));
        b.sport = Some(5);
        a.sport = Some(6);
        a.src = SrcAddr::Any;
        assert!(!a.clashes_with(&b));
        let t = Tuple {
            src: ip("10.9.9.9"),
            dst: ip("192.0.2.1"),
            proto: L4Proto::Udp,
            sport: 6,
            dport: 161,
        };
        assert!(a.matches(&t));
        assert_eq!(a.tuple().src, ip("0.0.0.0"));
    }
}
