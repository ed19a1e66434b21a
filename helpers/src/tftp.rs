//! TFTP: read and write requests — the kernel's `nf_conntrack_tftp.c`
//! (expectation) and `nf_nat_tftp.c` (NAT of the expected flow).
//!
//! # Parse
//! The first two payload bytes are the big-endian opcode (`struct
//! tftphdr`). RRQ (1) and WRQ (2) start a transfer; DATA (3), ACK (4),
//! ERROR (5) and anything else are ignored, as in `tftp_help()`. Nothing
//! after the opcode (file name, mode, options) is read.
//!
//! # Decide (`tftp_help()`)
//! On RRQ/WRQ — in either direction, the kernel does not look at the
//! direction — one expectation, built from the **reply** tuple
//! (`ct->tuplehash[IP_CT_DIR_REPLY]`): class 0, UDP, src =
//! `reply.src` (the server), any source port (the server answers from a
//! new port), dst = `reply.dst`, dst port = `reply.dport` (the client's
//! port as the server sees it). IPv4 and IPv6 alike.
//!
//! # NAT (`nf_nat_tftp()`, when the connection is NATed)
//! No payload edit. The expectation gets `exp->dir = IP_CT_DIR_REPLY`,
//! `saved_proto.udp.port = orig.sport` and the expectfn
//! `nat-follow-master`, which maps the new flow's destination to
//! `master->tuplehash[ORIGINAL].src` (the client's real address) and the
//! saved port; we put that address into [`ExpectNat::saved_addr`].
//!
//! # First packet
//! An RRQ/WRQ is the first packet of its conntrack, which is not confirmed
//! yet: the caller must deliver the expectation with the verdict
//! (NFQA_EXP), not over ctnetlink.
//!
//! # Deliberate differences from the kernel
//! * A payload shorter than the opcode: the kernel accepts silently; we
//!   count it (event `truncated`).
//! * An expectation refused ([`Env::expect`]): the kernel returns NF_DROP (with or
//!   without NAT); we let the request pass (event `expect_failed`) — fail
//!   open: the transfer fails exactly as without a helper. See
//!   [`Outcome::expect`](crate::Outcome::expect).
//!
//! # Private data
//! None ([`INFO`]`.priv_len` = 0): TFTP needs no per-connection state.

use crate::conn::{Dir, L4Proto};
use crate::event::Reason;
use crate::expect::{ExpectNat, Expectation, SrcAddr};
use crate::helper::HelperInfo;
use crate::helper::{Env, Helper, Outcome, Packet};
use crate::params::{ExpectPolicy, Params};

/// TFTP opcodes (RFC 1350, `TFTP_OPCODE_*`).
pub const OP_RRQ: u16 = 1;
pub const OP_WRQ: u16 = 2;
pub const OP_DATA: u16 = 3;
pub const OP_ACK: u16 = 4;
pub const OP_ERROR: u16 = 5;

pub static INFO: HelperInfo = HelperInfo {
    name: "tftp",
    l4: &[L4Proto::Udp],
    ipv4: true,
    ipv6: true,
    default_ports: &[69],
    policies: &[("tftp", 1, 5 * 60)],
    policies_from_params: None,
    expected_from: &[],
    params: &[],
    priv_len: 0,
    summary: "TFTP: data flow of read/write requests",
    build: |p, pol| Box::new(Tftp::new(p, pol)),
};

// ---------------------------------------------------------------------------
// Parse
// ---------------------------------------------------------------------------

/// What a payload is, as far as the helper cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Parsed {
    /// Shorter than the 2-byte opcode.
    Truncated,
    /// RRQ or WRQ: a transfer starts.
    Request(u16),
    /// Any other opcode.
    Other(u16),
}

/// Reads the opcode of `payload`.
pub fn parse(payload: &[u8]) -> Parsed {
    match payload {
        [hi, lo, ..] => match u16::from_be_bytes([*hi, *lo]) {
            op @ (OP_RRQ | OP_WRQ) => Parsed::Request(op),
            op => Parsed::Other(op),
        },
        _ => Parsed::Truncated,
    }
}

/// Name of a request opcode for events.
fn op_name(op: u16) -> &'static str {
    match op {
        OP_RRQ => "RRQ",
        OP_WRQ => "WRQ",
        _ => "?",
    }
}

// ---------------------------------------------------------------------------
// Decide
// ---------------------------------------------------------------------------

/// The expectation `tftp_help()` (and, under NAT, `nf_nat_tftp()`) sets up
/// for a request on the connection of `pkt`.
pub fn expectation(pkt: &Packet<'_>) -> Expectation {
    let t = pkt.conn.tuple(Dir::Reply);
    let nat = pkt.conn.nat().then_some(ExpectNat::follow_master(
        Dir::Reply,
        pkt.conn.orig.src,
        pkt.conn.orig.sport,
    ));
    Expectation {
        src: SrcAddr::Exact(t.src),
        nat,
        ..Expectation::new(0, L4Proto::Udp, t.dst, t.dport)
    }
}

// ---------------------------------------------------------------------------
// The helper
// ---------------------------------------------------------------------------

#[derive(Debug, Default)]
pub struct Tftp;

impl Tftp {
    pub fn new(_p: &Params, _policies: &[ExpectPolicy]) -> Self {
        Tftp
    }
}

impl Helper for Tftp {
    fn info(&self) -> &'static HelperInfo {
        &INFO
    }

    fn handle(&self, pkt: &Packet<'_>, env: &mut dyn Env) -> Outcome {
        let mut out = Outcome::default();
        match parse(pkt.payload) {
            Parsed::Truncated => {
                out.event(
                    Reason::Truncated,
                    format!("{} payload bytes, no opcode", pkt.payload.len()),
                );
            }
            Parsed::Other(_) => {}
            Parsed::Request(op) => {
                let exp = expectation(pkt);
                out.expect(env, &exp, &op_name(op));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opcodes() {
        assert_eq!(parse(b""), Parsed::Truncated);
        assert_eq!(parse(b"\x00"), Parsed::Truncated);
        assert_eq!(parse(b"\x00\x01f\x00octet\x00"), Parsed::Request(OP_RRQ));
        assert_eq!(parse(b"\x00\x02"), Parsed::Request(OP_WRQ));
        assert_eq!(parse(b"\x00\x03\x00\x01"), Parsed::Other(OP_DATA));
        assert_eq!(parse(b"\x01\x01"), Parsed::Other(0x101));
        assert_eq!(parse(b"\x00\x00"), Parsed::Other(0));
    }

    #[test]
    fn info() {
        assert_eq!(INFO.priv_len, 0);
        assert_eq!(INFO.policies, &[("tftp", 1, 300)]);
        assert!(INFO.params.is_empty());
    }
}
