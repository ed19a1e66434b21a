//! Decoding of the fuzz input's header, shared by the targets
//! (`#[path = "common/mod.rs"] mod common;`). Reads past the end give zeros.
#![allow(dead_code)]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// `N` bytes of `d` at `at`, zero-padded.
pub fn bytes<const N: usize>(d: &[u8], at: usize) -> [u8; N] {
    let mut out = [0u8; N];
    for (i, o) in out.iter_mut().enumerate() {
        *o = d.get(at + i).copied().unwrap_or(0);
    }
    out
}

/// Address number `i` of a table of 16-byte slots at `table` (IPv4 uses the
/// first 4 bytes of a slot).
pub fn addr(d: &[u8], table: usize, i: usize, v6: bool) -> IpAddr {
    let raw: [u8; 16] = bytes(d, table + 16 * i);
    if v6 {
        IpAddr::V6(Ipv6Addr::from(raw))
    } else {
        IpAddr::V4(Ipv4Addr::new(raw[0], raw[1], raw[2], raw[3]))
    }
}

/// Port number `i` of a table of big-endian u16 at `table`.
pub fn port(d: &[u8], table: usize, i: usize) -> u16 {
    u16::from_be_bytes(bytes(d, table + 2 * i))
}

use helpers::testing::TestEnv;
use helpers::{edit, ConnView, Dir, ExpectError, L4Proto, Outcome, Packet, PrivData, Tuple};

/// A decoded input of the stateless targets (tftp, irc, amanda), whose
/// layout is (missing bytes read as 0):
/// - 0: flags — bit 0 reply direction, 1 IPv6, 2 NAT (reply tuple from the
///   input instead of the inverse), 6 table answers Clash, 7 table full
/// - 1..3: port clash mask (a port clashes if `port & mask != 0`)
/// - 3..7: random seed
/// - 7..71: four addresses, 16 bytes each (IPv4 uses the first 4)
/// - 71..79: four ports
/// - 79..: payload
pub struct Simple<'a> {
    pub flags: u8,
    pub pkt: Packet<'a>,
    pub env: TestEnv,
}

pub fn simple(data: &[u8], proto: L4Proto) -> Simple<'_> {
    const ADDRS: usize = 7;
    const PORTS: usize = 71;
    const HEADER: usize = 79;
    let [flags] = bytes::<1>(data, 0);
    let bit = |n: u8| flags & (1 << n) != 0;
    let v6 = bit(1);
    let tuple = |a: usize, b: usize| Tuple {
        src: addr(data, ADDRS, a, v6),
        dst: addr(data, ADDRS, b, v6),
        proto,
        sport: port(data, PORTS, a),
        dport: port(data, PORTS, b),
    };
    let conn = if bit(2) {
        ConnView {
            orig: tuple(0, 1),
            reply: tuple(2, 3),
        }
    } else {
        ConnView::plain(tuple(0, 1))
    };
    let pkt = Packet {
        conn,
        dir: if bit(0) { Dir::Reply } else { Dir::Original },
        payload: data.get(HEADER..).unwrap_or_default(),
        tcp_seq: (proto == L4Proto::Tcp).then_some(1),
        state: PrivData::ZERO,
        ..Packet::EMPTY
    };
    let env = TestEnv {
        clash_all: bit(6),
        fail: bit(7).then_some(ExpectError::Full),
        clash_mask: u16::from_le_bytes(bytes(data, 1)),
        seed: u32::from_le_bytes(bytes(data, 3)),
        ..TestEnv::default()
    };
    Simple { flags, pkt, env }
}

/// The edits apply and change the length by `out.delta()`; returns the
/// edited payload.
pub fn apply_checked(payload: &[u8], out: &Outcome) -> Vec<u8> {
    let edited = edit::apply(payload, &out.edits).expect("edits must apply");
    assert_eq!(
        edited.len() as isize - payload.len() as isize,
        out.delta(),
        "delta"
    );
    edited
}

/// Checks of an `Outcome::incomplete = Some(at)`: the held bytes are a
/// non-empty suffix of the payload that no edit touches, and the packet is
/// not dropped. Returns the held bytes.
pub fn held_tail<'a>(payload: &'a [u8], out: &Outcome, at: usize) -> &'a [u8] {
    assert!(!out.drop, "a dropped packet holds nothing");
    assert!(at < payload.len(), "held offset {at} inside the payload");
    assert!(
        out.edits.iter().all(|e| e.offset + e.len <= at),
        "edits before the held bytes only"
    );
    payload.get(at..).unwrap_or_default()
}
