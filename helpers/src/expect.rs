//! Expectations: what a helper asks conntrack to let in.

use crate::conn::{Dir, L4Proto};
use std::net::IpAddr;

/// Expectation flags as in `NF_CT_EXPECT_*`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct ExpectFlags(pub u32);

impl ExpectFlags {
    pub const NONE: ExpectFlags = ExpectFlags(0);
    /// Survives a match (NF_CT_EXPECT_PERMANENT).
    pub const PERMANENT: ExpectFlags = ExpectFlags(0x1);
    /// Ignored until the flag is cleared (NF_CT_EXPECT_INACTIVE).
    pub const INACTIVE: ExpectFlags = ExpectFlags(0x2);

    pub const fn contains(self, other: ExpectFlags) -> bool {
        self.0 & other.0 == other.0
    }
}

impl std::ops::BitOr for ExpectFlags {
    type Output = ExpectFlags;
    fn bitor(self, rhs: Self) -> Self {
        ExpectFlags(self.0 | rhs.0)
    }
}

/// NAT of the expected flow (CTA_EXPECT_NAT): the flow arrives at the
/// address/port the helper advertised (`Expectation::dst`/`dport`) and is
/// translated to `saved_addr`/`saved_port` — the kernel's `exp->saved_*`,
/// applied by the `nat-follow-master` expectfn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ExpectNat {
    /// `exp->dir`: the direction, relative to the master, of the packets
    /// that will be translated.
    pub dir: Dir,
    pub saved_addr: IpAddr,
    pub saved_port: u16,
}

/// An expected related flow, with the kernel's mask semantics: `None` for a
/// source address or port means "any" (mask 0); everything else must match
/// exactly.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Expectation {
    /// Index into the helper's expectation policies.
    pub class: u8,
    pub proto: L4Proto,
    pub src: Option<IpAddr>,
    pub dst: IpAddr,
    pub sport: Option<u16>,
    pub dport: u16,
    pub flags: ExpectFlags,
    /// Helper to attach to the expected connection (CTA_EXPECT_HELP_NAME).
    pub helper: Option<&'static str>,
    pub nat: Option<ExpectNat>,
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
