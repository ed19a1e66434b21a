//! Fuzzes the IRC DCC helper: any payload, tuple, direction, NAT and
//! expectation-table behaviour. The helper must not panic, its edits must
//! apply, and its outcome must be self-consistent.
//!
//! Input layout (missing bytes read as 0):
//! - 0: flags — bit 0 reply direction, 1 IPv6, 2 NAT (reply tuple from the
//!   input instead of the inverse), 6 table answers Clash, 7 table full
//! - 1..3: port clash mask (a port clashes if `port & mask != 0`)
//! - 3..7: random seed
//! - 7..71: four addresses, 16 bytes each (IPv4 uses the first 4)
//! - 71..79: four ports
//! - 79..: payload
#![no_main]

#[path = "common/mod.rs"]
mod common;

use common::{addr, bytes, port};
use helpers::irc::{self, Irc};
use helpers::testing::TestEnv;
use helpers::{edit, ConnView, Dir, ExpectError, Helper, L4Proto, Packet, PrivData, Tuple};
use libfuzzer_sys::fuzz_target;

const ADDRS: usize = 7;
const PORTS: usize = 71;
const HEADER: usize = 79;

fuzz_target!(|data: &[u8]| {
    let [flags] = bytes::<1>(data, 0);
    let bit = |n: u8| flags & (1 << n) != 0;
    let v6 = bit(1);
    let tuple = |a: usize, b: usize| Tuple {
        src: addr(data, ADDRS, a, v6),
        dst: addr(data, ADDRS, b, v6),
        proto: L4Proto::Tcp,
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
    let payload = data.get(HEADER..).unwrap_or_default();
    let pkt = Packet {
        conn,
        dir: if bit(0) { Dir::Reply } else { Dir::Original },
        payload,
        tcp_seq: Some(1),
        state: PrivData::ZERO,
    };
    let mut env = TestEnv {
        clash_all: bit(6),
        fail: bit(7).then_some(ExpectError::Full),
        clash_mask: u16::from_le_bytes(bytes(data, 1)),
        seed: u32::from_le_bytes(bytes(data, 3)),
        ..TestEnv::default()
    };
    let out = Irc.handle(&pkt, &mut env);

    let edited = edit::apply(payload, &out.edits).expect("edits must apply");
    assert_eq!(
        edited.len() as isize - payload.len() as isize,
        out.delta(),
        "delta"
    );
    assert!(out.state.is_none());
    assert_eq!(out.expectations, env.created, "reported = live");
    assert_eq!(
        env.unexpected_unknown, 0,
        "only live expectations withdrawn"
    );
    if pkt.dir == Dir::Reply {
        assert!(env.calls.is_empty() && out.events.is_empty());
    }
    if !conn.nat() {
        assert!(out.edits.is_empty(), "no rewrite without NAT");
    }
    if out.need_more || out.drop {
        assert!(out.edits.is_empty() && out.expectations.is_empty());
    }
    let offers = irc::parse(payload).found.len();
    assert!(out.expectations.len() <= offers);
    assert!(env.calls.len() <= offers * 129, "port search bounded");
    for e in &out.expectations {
        assert!(e.dport != 0 && e.sport.is_none() && e.src.is_none());
        assert_eq!(e.proto, L4Proto::Tcp);
        assert_eq!(e.dst, conn.reply.dst);
        assert_eq!(e.dst.is_ipv6(), v6);
    }
});
