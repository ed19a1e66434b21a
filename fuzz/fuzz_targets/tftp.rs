//! Fuzzes the TFTP helper: any payload, tuple, direction, NAT and
//! expectation-table behaviour. The helper must not panic, never edit, and
//! ask for exactly one expectation per RRQ/WRQ.
//!
//! Input layout (missing bytes read as 0):
//! - 0: flags — bit 0 reply direction, 1 IPv6, 2 NAT (reply tuple from the
//!   input instead of the inverse), 6 table answers Clash, 7 table full
//! - 1..7: unused (same header as the irc and amanda targets)
//! - 7..71: four addresses, 16 bytes each (IPv4 uses the first 4)
//! - 71..79: four ports
//! - 79..: payload
#![no_main]

#[path = "common/mod.rs"]
mod common;

use common::{addr, bytes, port};
use helpers::testing::TestEnv;
use helpers::tftp::Tftp;
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
        ..TestEnv::default()
    };
    let out = Tftp.handle(&pkt, &mut env);

    let edited = edit::apply(payload, &out.edits).expect("edits must apply");
    assert_eq!(edited, payload, "TFTP never rewrites");
    assert!(out.state.is_none() && !out.need_more && !out.drop);
    assert_eq!(out.expectations, env.created);
    let request = matches!(payload, [0, 1 | 2, ..]);
    assert_eq!(env.calls.len(), usize::from(request));
    assert_eq!(
        out.expectations.len(),
        usize::from(request && !bit(6) && !bit(7))
    );
    for e in &out.expectations {
        assert!(e.sport.is_none() && e.proto == L4Proto::Udp && e.class == 0);
        assert_eq!(e.dst, conn.reply.dst);
        assert_eq!(e.dport, conn.reply.dport);
        assert_eq!(e.nat.is_some(), conn.nat());
    }
});
