//! GRE packets as conntrack sees them — `gre_pkt_to_tuple()` of
//! `nf_conntrack_proto_gre.c` without the keymap.
//!
//! PPTP carries PPP in enhanced GRE (RFC 2637 §4.1, GRE version 1):
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 2 | flags (C R K S s Recur A, then Flags, then Ver = low 3 bits) |
//! | 2 | 2 | Protocol Type, `0x880B` (PPP) |
//! | 4 | 2 | Key (HW) Payload Length |
//! | 6 | 2 | Key (LW) **Call ID** — the *receiver's* call ID |
//! | 8 | 4 | Sequence Number (if S) |
//! | 8/12 | 4 | Acknowledgment Number (if A) |
//!
//! The kernel builds a GRE tuple's "ports" like this (the tuple is zeroed
//! before): a header shorter than 4 bytes or of a version other than 1 →
//! keys 0/0 (as `nf_conntrack_proto_generic`); version 1 but shorter than
//! 8 bytes → keys 0/0; version 1 with a protocol other than PPP → no
//! tuple at all (the packet is invalid for conntrack); version 1, PPP →
//! **dst key = the Call ID at offset 6**, src key = whatever the keymap
//! (`gre_keymap_lookup()`: addresses + dst key) holds, else 0. Only the
//! kernel's own `nf_conntrack_pptp` fills the keymap
//! (`nf_ct_gre_keymap_add()` in `exp_gre()`); nothing in netlink can. So
//! for a userspace helper **every GRE v1 packet's tuple has src key 0**,
//! and the two directions of a call are two conntracks: a packet A→B has
//! the tuple `A→B, 0, kB` (kB: B's call ID), whose reply tuple is `B→A,
//! kB, 0`; a packet B→A has the tuple `B→A, 0, kA`, which is that reply
//! tuple only when kA = kB = 0. Each direction is an UNREPLIED conntrack
//! of its own.
//!
//! NAT (`gre_manip_pkt()` of `nf_nat_proto.c`) rewrites only on a DST
//! manip and only version 1: Call ID := the target tuple's dst key. A SRC
//! manip changes nothing in the packet (the src key is not on the wire).

/// GRE Protocol Type of PPTP's payload (`GRE_PROTO_PPP`).
pub const PROTO_PPP: u16 = 0x880B;
/// The enhanced GRE version (`GRE_VERSION_1`).
pub const VERSION_PPTP: u16 = 1;

/// The GRE part of a conntrack tuple, as the kernel computes it with an
/// empty keymap. `None`: the kernel makes no tuple (invalid packet).
pub fn tuple_keys(l4: &[u8]) -> Option<(u16, u16)> {
    let (Some(&f0), Some(&f1)) = (l4.first(), l4.get(1)) else {
        return Some((0, 0));
    };
    let (Some(&p0), Some(&p1)) = (l4.get(2), l4.get(3)) else {
        return Some((0, 0));
    };
    if u16::from_be_bytes([f0, f1]) & 0x7 != VERSION_PPTP {
        return Some((0, 0));
    }
    let (Some(&k0), Some(&k1)) = (l4.get(6), l4.get(7)) else {
        return Some((0, 0));
    };
    if u16::from_be_bytes([p0, p1]) != PROTO_PPP {
        return None;
    }
    Some((0, u16::from_be_bytes([k0, k1])))
}

/// The Call ID of an enhanced-GRE (version 1, PPP) packet, if it is one.
pub fn call_id(l4: &[u8]) -> Option<u16> {
    match (is_v1_ppp(l4), l4.get(6), l4.get(7)) {
        (true, Some(&k0), Some(&k1)) => Some(u16::from_be_bytes([k0, k1])),
        _ => None,
    }
}

fn is_v1_ppp(l4: &[u8]) -> bool {
    matches!(
        (l4.first(), l4.get(1), l4.get(2), l4.get(3)),
        (Some(&f0), Some(&f1), Some(&p0), Some(&p1))
            if u16::from_be_bytes([f0, f1]) & 0x7 == VERSION_PPTP
                && u16::from_be_bytes([p0, p1]) == PROTO_PPP
    )
}

/// Builds an enhanced GRE header (key present, sequence number present)
/// for `call_id` with `payload`, for tests and tools.
pub fn build_v1(call_id: u16, seq: u32, payload: &[u8]) -> Vec<u8> {
    let mut p = Vec::with_capacity(12 + payload.len());
    // K and S set, version 1: 0x3001.
    p.extend_from_slice(&0x3001u16.to_be_bytes());
    p.extend_from_slice(&PROTO_PPP.to_be_bytes());
    p.extend_from_slice(
        &u16::try_from(payload.len())
            .unwrap_or(u16::MAX)
            .to_be_bytes(),
    );
    p.extend_from_slice(&call_id.to_be_bytes());
    p.extend_from_slice(&seq.to_be_bytes());
    p.extend_from_slice(payload);
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v1_ppp_key_is_the_call_id() {
        let p = build_v1(0xbeef, 7, b"\xff\x03\xc0\x21");
        assert_eq!(tuple_keys(&p), Some((0, 0xbeef)));
        assert_eq!(call_id(&p), Some(0xbeef));
    }

    #[test]
    fn other_versions_and_short_headers_are_generic() {
        // GRE v0 (RFC 2784) carrying IPv4, with a key: still keys 0/0.
        let v0 = [0x20, 0x00, 0x08, 0x00, 0, 0, 0x12, 0x34];
        assert_eq!(tuple_keys(&v0), Some((0, 0)));
        assert_eq!(call_id(&v0), None);
        for n in 0..8 {
            let p = build_v1(0x1234, 0, b"");
            assert_eq!(tuple_keys(&p[..n]), Some((0, 0)), "{n} bytes");
            assert_eq!(call_id(&p[..n]), None);
        }
    }

    #[test]
    fn v1_with_another_protocol_has_no_tuple() {
        let mut p = build_v1(0x1234, 0, b"x");
        p[2] = 0x08;
        p[3] = 0x00;
        assert_eq!(tuple_keys(&p), None);
        assert_eq!(call_id(&p), None);
        // ... unless it is too short for the kernel to look at the protocol.
        assert_eq!(tuple_keys(&p[..7]), Some((0, 0)));
    }
}
