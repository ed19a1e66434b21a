//! Expectations: what a helper asks conntrack to let in.

use crate::conn::{Dir, L4Proto};
use crate::helper::Env;
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
        match env.expect_related(exp) {
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
