//! Fuzzes the Amanda helper: any payload, tuple, direction, NAT and
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
use helpers::amanda::{self, Amanda};
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
        proto: L4Proto::Udp,
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
        tcp_seq: None,
        state: PrivData::ZERO,
    };
    let mut env = TestEnv {
        clash_all: bit(6),
        fail: bit(7).then_some(ExpectError::Full),
        clash_mask: u16::from_le_bytes(bytes(data, 1)),
        seed: u32::from_le_bytes(bytes(data, 3)),
        ..TestEnv::default()
    };
    let h = Amanda {
        master_timeout: 300,
    };
    let out = h.handle(&pkt, &mut env);

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
    if pkt.dir == Dir::Original {
        assert!(env.calls.is_empty() && out.events.is_empty());
    }
    if !conn.nat() {
        assert!(out.edits.is_empty(), "no rewrite without NAT");
    }
    assert!(!out.need_more);
    if out.drop {
        assert!(out.edits.is_empty() && out.expectations.is_empty());
    }
    let streams = amanda::parse(payload).ports.len();
    assert!(streams <= 4 && out.expectations.len() <= streams);
    assert!(env.calls.len() <= streams * 129, "port search bounded");
    for e in &out.expectations {
        assert!(e.dport != 0 && e.sport.is_none());
        assert_eq!(e.proto, L4Proto::Tcp);
        assert_eq!(e.src, Some(conn.orig.src));
        assert_eq!(e.dst, conn.orig.dst);
    }
    if pkt.dir == Dir::Reply && conn.nat() && !out.drop {
        let again = amanda::parse(&edited).ports;
        let got: Vec<u16> = again.iter().map(|p| p.port).collect();
        let want: Vec<u16> = out.expectations.iter().map(|e| e.dport).collect();
        assert_eq!(got, want, "rewrite advertises the expected ports");
    }
});
