//! The two SNMP helpers: `snmp` (udp/161, the kernel's `nf_conntrack_snmp.c`
//! with `nf_conntrack_broadcast.c`) and `snmp_trap` (udp/162, the helper
//! `nf_nat_snmp_basic.c` registers), and the NAT of the addresses inside
//! their messages that both do (`nf_nat_snmp_basic`'s `help()`, which the
//! kernel's `snmp` helper calls through `nf_nat_snmp_hook`).
//!
//! # Parse
//! Only when there is something to rewrite (below): the message with
//! [`decode`] — v1/v2c with every IpAddress, v3 recognised.
//!
//! # Decide: the answers to a broadcast (`snmp` only)
//! `nf_conntrack_broadcast_help()`: a request in the original direction,
//! sent by this host (a locally generated packet, `skb->sk` in the
//! conntrack's namespace) to the broadcast address of its output
//! interface's subnet — [`Env::broadcast_prefix`] answers the prefix length
//! of the first primary address of that interface whose broadcast address
//! is the destination — expects the answers: the reply tuple with its
//! source masked to that prefix and the source port exact (the helper's
//! port: the reply tuple's own source port here), class 0, PERMANENT (every
//! agent of the subnet may answer), no helper, no NAT. Then the request's
//! connection lives `timeout` seconds (`nf_ct_refresh()`, also when the
//! expectation was refused). IPv4 only, as both kernel helpers.
//!
//! # Decide: which packets are translated
//! `help()` skips a packet whose UDP **source port is 161 in the original
//! direction** or whose **destination port is 162 in the reply
//! direction** (the ports of the packet at the helper's hook, after NAT;
//! the kernel's fixed numbers, not the helper's configured ports), and a
//! connection without NAT. Everything else is translated: requests to an
//! agent and their responses, traps and informs and the responses to
//! informs. The `snmp_trap` helper translates a trap sent from port 161
//! too (see the differences below).
//!
//! # Edit: the address pairs ([`Rewrites`])
//! One pass over the message's IpAddress values (the v1 trap's agent-addr
//! and every varbind value, [`edits`]) with a list of `from → to` pairs;
//! the first pair whose `from` equals an address rewrites it, so pairs do
//! not chain:
//! 1. **The kernel's pair** (`snmp_translate()`), in both directions:
//!    `tuple[ORIGINAL].src → tuple[REPLY].dst` — the originator's address
//!    becomes its source-NAT address (an agent behind SNAT sending a trap,
//!    a manager behind SNAT writing its own address in a SetRequest).
//! 2. **The responder behind DNAT**, which the kernel leaves alone (its
//!    pair is `from == to` then and it returns before decoding): in the
//!    reply direction `tuple[REPLY].src → tuple[ORIGINAL].dst` — an agent
//!    behind DNAT answering with its own address (ipAddrTable, its
//!    agent-addr) shows its public address to the manager; in the original
//!    direction `tuple[ORIGINAL].dst → tuple[REPLY].src` — the public
//!    address in a request becomes the agent's own, as the IP header's
//!    destination is translated.
//!
//! Pairs with `from == to` are left out; with none left nothing is
//! decoded (the packet passes as the kernel passes it). Each rewrite is a
//! same-length 4-octet [`Edit`](crate::Edit); the flow core fixes the UDP
//! checksum.
//!
//! What is not translated: SNMPv3 (event `snmpv3`: with authentication a
//! rewrite breaks the digest, with privacy the PDU is encrypted); a
//! message that does not decode (event `malformed`), or, with
//! `drop_malformed = true`, dropped where the kernel would have decoded it
//! (its pair is not `from == to` and it mangles the packet) — where the
//! kernel does not decode, a switch meant to be as strict as the kernel
//! has no reason to drop.
//!
//! # Deliberate differences from the kernel
//! * The DNAT pairs (item 2 above): the kernel translates nothing for a
//!   responder behind DNAT.
//! * SNMPv1 Trap-PDU: translated, agent-addr included (the kernel's grammar
//!   has no `[4]`: it drops every v1 trap under NAT). So are messages with
//!   a varbind value type outside its grammar (it drops them, see
//!   [`KernelReject`](super::KernelReject)).
//! * SNMPv3 under NAT: passed unchanged and counted (the kernel drops it).
//! * A message that does not decode: passed unchanged and counted by
//!   default (the kernel drops it), dropped with `drop_malformed`.
//! * `snmp_trap`: a trap or inform sent from source port 161 is
//!   translated; the kernel's first test (`source == 161` in the original
//!   direction, meant for the agent's answers on a `snmp` connection)
//!   skips it.
//! * The UDP checksum is recomputed by the flow core; the kernel updates it
//!   incrementally (`fast_csum()`): the same value, except that the
//!   kernel can write 0x0000 where a recomputation writes 0xFFFF (both
//!   mean "no error" to a receiver) and that an incoming wrong checksum
//!   stays wrong in the kernel — which cannot reach a helper here:
//!   conntrack marks a forwarded datagram with a bad checksum invalid
//!   (`nf_conntrack_checksum`, on by default) and it gets no helper.
//! * A datagram whose UDP length disagrees with its IP length: the kernel
//!   drops it under NAT; the flow core reads the IP payload and writes a
//!   UDP length that agrees.
//!
//! # Private data
//! None ([`INFO`]`.priv_len` = 0), as in the kernel.

use super::{decode, edits, AddrEdit, Pair, Version};
use crate::conn::{ConnView, Dir, L4Proto};
use crate::event::Reason;
use crate::expect::{ExpectFlags, Expectation, SrcAddr};
use crate::helper::{Env, Helper, HelperInfo, Outcome, Packet};
use crate::params::{ExpectPolicy, Param, Params};
use std::net::IpAddr;

/// The kernel's `SNMP_PORT` and `SNMP_TRAP_PORT`, which its `help()`
/// compares with the packet's UDP ports.
pub const SNMP_PORT: u16 = 161;
pub const SNMP_TRAP_PORT: u16 = 162;

/// `timeout` of nf_conntrack_snmp: the lifetime of the expectation of a
/// broadcast's answers (the policy timeout) and of the request's
/// connection after it.
pub const TIMEOUT: Param<u32> = Param::u32(
    "timeout",
    30,
    1,
    u32::MAX,
    "seconds the answers to a broadcast request are expected (and its connection lives)",
);

/// Drop a message that does not decode, as the kernel does.
pub const DROP_MALFORMED: Param<bool> = Param::bool(
    "drop_malformed",
    false,
    "drop a message that does not decode where the kernel would (under NAT); default: pass it unchanged and count it",
);

pub static INFO: HelperInfo = HelperInfo {
    name: "snmp",
    l4: &[L4Proto::Udp],
    ipv4: true,
    ipv6: false,
    default_ports: &[SNMP_PORT],
    policies: &[("snmp", 1, 30)],
    policies_from_params: Some(snmp_policies),
    params: &[TIMEOUT.spec, DROP_MALFORMED.spec],
    priv_len: 0,
    expected_from: &[],
    summary: "SNMP: answers to a broadcast request; NAT of IpAddress values",
    build: |p, pol| Box::new(Snmp::new(Role::Agent, p, pol)),
};

pub static TRAP_INFO: HelperInfo = HelperInfo {
    name: "snmp_trap",
    l4: &[L4Proto::Udp],
    ipv4: true,
    ipv6: false,
    default_ports: &[SNMP_TRAP_PORT],
    policies: &[("snmp_trap", 0, 180)],
    policies_from_params: None,
    params: &[DROP_MALFORMED.spec],
    priv_len: 0,
    expected_from: &[],
    summary: "SNMP traps and informs: NAT of IpAddress values (agent-addr included)",
    build: |p, pol| Box::new(Snmp::new(Role::Trap, p, pol)),
};

/// nf_conntrack_snmp's policy: one expectation, `timeout` seconds
/// (`exp_policy.timeout = timeout` at module load).
fn snmp_policies(p: &Params) -> Vec<ExpectPolicy> {
    vec![ExpectPolicy {
        name: "snmp".to_string(),
        max_expected: 1,
        timeout: p.get(TIMEOUT),
    }]
}

/// Which of the two helpers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// `snmp`: connections to an agent (udp/161).
    Agent,
    /// `snmp_trap`: connections to a notification receiver (udp/162).
    Trap,
}

// ---------------------------------------------------------------------------
// Decide
// ---------------------------------------------------------------------------

/// The UDP source and destination port of the packet at the helper's hook
/// (after NAT): the other direction's tuple, inverted.
pub fn wire_ports(pkt: &Packet<'_>) -> (u16, u16) {
    let t = pkt.conn.tuple(pkt.dir.reverse());
    (t.dport, t.sport)
}

/// Whether the kernel's `help()` would translate this packet (before it
/// looks at NAT): not from port 161 in the original direction, not to port
/// 162 in the reply direction.
pub fn kernel_mangles(pkt: &Packet<'_>) -> bool {
    let (sport, dport) = wire_ports(pkt);
    let skipped = match pkt.dir {
        Dir::Original => sport == SNMP_PORT,
        Dir::Reply => dport == SNMP_TRAP_PORT,
    };
    !skipped
}

/// The address pairs of a packet of an IPv4 connection in one direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rewrites {
    /// `snmp_translate()`'s: `tuple[ORIGINAL].src → tuple[REPLY].dst`.
    pub kernel: Pair,
    /// The responder behind DNAT: reply direction `tuple[REPLY].src →
    /// tuple[ORIGINAL].dst`, original direction the inverse.
    pub dnat: Pair,
}

impl Rewrites {
    /// The pairs for a packet of `conn` in `dir`; `None` unless all its
    /// addresses are IPv4.
    pub fn of(conn: &ConnView, dir: Dir) -> Option<Rewrites> {
        let v4 = |a: IpAddr| match a {
            IpAddr::V4(a) => Some(a),
            IpAddr::V6(_) => None,
        };
        let (o, r) = (&conn.orig, &conn.reply);
        let (osrc, odst, rsrc, rdst) = (v4(o.src)?, v4(o.dst)?, v4(r.src)?, v4(r.dst)?);
        let dnat = match dir {
            Dir::Reply => Pair::new(rsrc, odst),
            Dir::Original => Pair::new(odst, rsrc),
        };
        Some(Rewrites {
            kernel: Pair::new(osrc, rdst),
            dnat,
        })
    }
    /// The pairs to apply, in order, without those that change nothing.
    pub fn active(&self) -> Vec<Pair> {
        [self.kernel, self.dnat]
            .into_iter()
            .filter(|p| !p.identity())
            .collect()
    }
}

/// The expectation `nf_conntrack_broadcast_help()` makes for a request of
/// `pkt`'s connection sent to the broadcast address of a subnet of
/// `prefix` bits: the reply tuple, source masked to the subnet, source port
/// exact.
pub fn broadcast_expectation(pkt: &Packet<'_>, prefix: u8) -> Expectation {
    let r = &pkt.conn.reply;
    Expectation {
        src: SrcAddr::Net(r.src, prefix),
        sport: Some(r.sport),
        flags: ExpectFlags::PERMANENT,
        ..Expectation::new(0, L4Proto::Udp, r.dst, r.dport)
    }
}

// ---------------------------------------------------------------------------
// The helper
// ---------------------------------------------------------------------------

#[derive(Debug)]
pub struct Snmp {
    role: Role,
    timeout: u32,
    drop_malformed: bool,
}

impl Snmp {
    pub fn new(role: Role, p: &Params, _policies: &[ExpectPolicy]) -> Self {
        Snmp {
            role,
            timeout: p.get(TIMEOUT),
            drop_malformed: p.get(DROP_MALFORMED),
        }
    }

    /// Whether this helper translates `pkt` (the kernel's rule; `snmp_trap`
    /// also takes a trap sent from port 161).
    fn mangles(&self, pkt: &Packet<'_>) -> bool {
        match self.role {
            Role::Agent => kernel_mangles(pkt),
            Role::Trap => !(pkt.dir == Dir::Reply && wire_ports(pkt).1 == SNMP_TRAP_PORT),
        }
    }

    /// `nf_conntrack_broadcast_help()`.
    fn broadcast(&self, pkt: &Packet<'_>, env: &mut dyn Env, out: &mut Outcome) {
        if pkt.dir != Dir::Original {
            return;
        }
        // The packet's destination at the hook.
        let daddr = pkt.conn.reply.src;
        if !daddr.is_ipv4() {
            return;
        }
        let Some(prefix) = env.broadcast_prefix(daddr).filter(|p| (1..=32).contains(p)) else {
            return;
        };
        let exp = broadcast_expectation(pkt, prefix);
        out.expect(env, &exp, &format!("broadcast to {daddr}"));
        out.ct_timeout = Some(self.timeout);
    }

    /// `nf_nat_snmp_basic`'s `help()`, with the DNAT pairs.
    fn nat(&self, pkt: &Packet<'_>, out: &mut Outcome) {
        if !pkt.conn.nat() || !self.mangles(pkt) {
            return;
        }
        let Some(rw) = Rewrites::of(&pkt.conn, pkt.dir) else {
            return;
        };
        let pairs = rw.active();
        if pairs.is_empty() {
            return;
        }
        let kernel_decodes = !rw.kernel.identity() && kernel_mangles(pkt);
        match decode(pkt.payload) {
            Err(e) if self.drop_malformed && kernel_decodes => {
                out.drop = true;
                out.event_by(
                    Reason::Malformed,
                    DROP_MALFORMED.name(),
                    format!("{e}: dropped, as the kernel does"),
                );
            }
            Err(e) => out.event(Reason::Malformed, format!("{e}: passed unchanged")),
            Ok(m) if m.version == Version::V3 => out.event(
                Reason::SnmpV3,
                if kernel_decodes {
                    "SNMPv3 passed unchanged (the kernel drops it)"
                } else {
                    "SNMPv3 passed unchanged"
                },
            ),
            Ok(m) => out.edits = edits(&m, &pairs).iter().map(AddrEdit::edit).collect(),
        }
    }
}

impl Helper for Snmp {
    fn info(&self) -> &'static HelperInfo {
        match self.role {
            Role::Agent => &INFO,
            Role::Trap => &TRAP_INFO,
        }
    }

    fn handle(&self, pkt: &Packet<'_>, env: &mut dyn Env) -> Outcome {
        let mut out = Outcome::default();
        if pkt.conn.is_ipv6() {
            return out;
        }
        if self.role == Role::Agent {
            self.broadcast(pkt, env, &mut out);
        }
        self.nat(pkt, &mut out);
        out
    }
}
