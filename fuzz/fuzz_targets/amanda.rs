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

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use helpers::amanda::{self, Amanda};
use helpers::{
    edit, ConnView, Dir, Env, ExpectError, Expectation, Helper, L4Proto, Packet, PrivData, Tuple,
};
use libfuzzer_sys::fuzz_target;

const HEADER: usize = 79;

struct FuzzEnv {
    clash_all: bool,
    full: bool,
    clash_mask: u16,
    seed: u32,
    calls: usize,
    live: Vec<Expectation>,
}

impl Env for FuzzEnv {
    fn expect_related(&mut self, exp: &Expectation) -> Result<(), ExpectError> {
        self.calls += 1;
        if self.full {
            Err(ExpectError::Full)
        } else if self.clash_all || exp.dport & self.clash_mask != 0 {
            Err(ExpectError::Clash)
        } else {
            self.live.push(exp.clone());
            Ok(())
        }
    }
    fn random_u32(&mut self) -> u32 {
        self.seed = self
            .seed
            .wrapping_mul(1_664_525)
            .wrapping_add(1_013_904_223);
        self.seed
    }
    fn unexpect_related(&mut self, exp: &Expectation) {
        let i = self.live.iter().position(|e| e == exp).expect("live");
        self.live.remove(i);
    }
}

fn bytes<const N: usize>(d: &[u8], at: usize) -> [u8; N] {
    let mut out = [0u8; N];
    for (i, o) in out.iter_mut().enumerate() {
        *o = d.get(at + i).copied().unwrap_or(0);
    }
    out
}

fn addr(d: &[u8], i: usize, v6: bool) -> IpAddr {
    let raw: [u8; 16] = bytes(d, 7 + 16 * i);
    if v6 {
        IpAddr::V6(Ipv6Addr::from(raw))
    } else {
        IpAddr::V4(Ipv4Addr::new(raw[0], raw[1], raw[2], raw[3]))
    }
}

fn port(d: &[u8], i: usize) -> u16 {
    u16::from_be_bytes(bytes(d, 71 + 2 * i))
}

fuzz_target!(|data: &[u8]| {
    let [flags] = bytes::<1>(data, 0);
    let bit = |n: u8| flags & (1 << n) != 0;
    let v6 = bit(1);
    let tuple = |a: usize, b: usize| Tuple {
        src: addr(data, a, v6),
        dst: addr(data, b, v6),
        proto: L4Proto::Udp,
        sport: port(data, a),
        dport: port(data, b),
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
    let mut env = FuzzEnv {
        clash_all: bit(6),
        full: bit(7),
        clash_mask: u16::from_le_bytes(bytes(data, 1)),
        seed: u32::from_le_bytes(bytes(data, 3)),
        calls: 0,
        live: Vec::new(),
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
    assert_eq!(out.expectations, env.live, "reported = live");
    if pkt.dir == Dir::Original {
        assert!(env.calls == 0 && out.events.is_empty());
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
    assert!(env.calls <= streams * 129, "port search bounded");
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
