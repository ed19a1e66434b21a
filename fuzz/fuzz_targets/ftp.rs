//! Fuzzes the FTP helper: any payload, tuple, direction, NAT, state and
//! expectation-table behaviour. The helper must not panic, its edits must
//! apply, and its outcome must be self-consistent.
//!
//! Input layout (missing bytes read as 0):
//! - 0: flags — bit 0 reply direction, 1 IPv6, 2 NAT (reply tuple from the
//!   input instead of the inverse), 3 `loose`, 4 no TCP sequence number,
//!   5 all-zero state, 6 table refuses every port (Clash), 7 table full
//! - 1..3: port clash mask (a port clashes if `port & mask != 0`)
//! - 3..7: TCP sequence number, 7..11: random seed
//! - 11..31: private data (20 bytes)
//! - 31..95: four addresses, 16 bytes each (IPv4 uses the first 4)
//! - 95..103: four ports
//! - 103..: payload
#![no_main]

use helpers::ftp::Ftp;
use helpers::testing::TestEnv;
use helpers::{ConnView, Dir, ExpectError, Helper, L4Proto, Packet, PrivData, Tuple};
use libfuzzer_sys::fuzz_target;

#[path = "common/mod.rs"]
mod common;
use common::{addr, apply_checked, bytes, port};

const HEADER: usize = 103;
const ADDRS: usize = 31;
const PORTS: usize = 95;

fuzz_target!(|data: &[u8]| {
    let [flags] = bytes::<1>(data, 0);
    let bit = |n: u8| flags & (1 << n) != 0;
    let v6 = bit(1);
    let orig = Tuple {
        src: addr(data, ADDRS, 0, v6),
        dst: addr(data, ADDRS, 1, v6),
        proto: L4Proto::Tcp,
        sport: port(data, PORTS, 0),
        dport: port(data, PORTS, 1),
    };
    let conn = if bit(2) {
        ConnView {
            orig,
            reply: Tuple {
                src: addr(data, ADDRS, 2, v6),
                dst: addr(data, ADDRS, 3, v6),
                proto: L4Proto::Tcp,
                sport: port(data, PORTS, 2),
                dport: port(data, PORTS, 3),
            },
        }
    } else {
        ConnView::plain(orig)
    };
    let state = if bit(5) {
        PrivData::ZERO
    } else {
        PrivData::from_bytes(&bytes::<20>(data, 11))
    };
    let payload = data.get(HEADER..).unwrap_or_default();
    let pkt = Packet {
        conn,
        dir: if bit(0) { Dir::Reply } else { Dir::Original },
        payload,
        tcp_seq: (!bit(4)).then(|| u32::from_le_bytes(bytes(data, 3))),
        state,
    };
    let mut env = TestEnv {
        clash_all: bit(6),
        fail: bit(7).then_some(ExpectError::Full),
        clash_mask: u16::from_le_bytes(bytes(data, 1)),
        seed: u32::from_le_bytes(bytes(data, 7)),
        ..TestEnv::default()
    };
    let ftp = Ftp { loose: bit(3) };
    let out = ftp.handle(&pkt, &mut env);
    // FTP_FUZZ_DEBUG=1 prints every outcome (for triage: run the binary on
    // one input).
    static DEBUG: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    if *DEBUG.get_or_init(|| std::env::var_os("FTP_FUZZ_DEBUG").is_some()) {
        eprintln!("{conn:?} {:?}\n{out:?}", pkt.dir);
    }

    apply_checked(payload, &out);
    assert!(env.calls.len() <= 129, "port search bounded");
    assert!(out.expectations.len() <= 1);
    if !conn.nat() {
        assert!(out.edits.is_empty(), "no rewrite without NAT");
    }
    if out.need_more {
        assert!(out.edits.is_empty() && out.expectations.is_empty() && out.state.is_none());
    }
    if out.drop {
        assert!(out.expectations.is_empty() && out.edits.is_empty());
    }
    for e in &out.expectations {
        assert!(e.dport != 0 && e.sport.is_none() && e.proto == L4Proto::Tcp);
        assert_eq!(e.dst.is_ipv6(), v6);
    }
    if let Some(s) = out.state {
        assert!(s.0[helpers::ftp::STATE_LEN..].iter().all(|&b| b == 0));
    }
});
