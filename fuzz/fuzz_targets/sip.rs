//! Fuzzes the SIP helper: any payload, tuple, direction, transport, NAT,
//! parameters, state and expectation-table behaviour. The helper must not
//! panic, its edits must apply, and its outcome must be self-consistent.
//!
//! Input layout (missing bytes read as 0):
//! - 0: flags — bit 0 reply direction, 1 IPv6, 2 NAT (reply tuple from the
//!   input instead of the inverse), 3 TCP, 4 sip_direct_media off, 5 all-zero
//!   state, 6 table refuses every port (Clash), 7 table full
//! - 1: flags — bit 0 sip_external_media, 1 media routed like the packet,
//!   2 sip_direct_signalling off, 3 registrar refreshes find the expectation
//! - 2..4: port clash mask (a port clashes if `port & mask != 0`)
//! - 4..8: random seed
//! - 8..40: private data (32 bytes)
//! - 40..104: four addresses, 16 bytes each (IPv4 uses the first 4)
//! - 104..112: four ports
//! - 112..: payload
#![no_main]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use helpers::sip::{Sip, STATE_LEN};
use helpers::{
    edit, ConnView, Dir, Env, ExpectError, Expectation, Helper, L4Proto, Packet, PrivData, Tuple,
};
use libfuzzer_sys::fuzz_target;

const HEADER: usize = 112;

struct FuzzEnv {
    clash_all: bool,
    full: bool,
    clash_mask: u16,
    seed: u32,
    same_route: bool,
    refresh_finds: bool,
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
        let i = self.live.iter().rposition(|e| e == exp);
        self.live
            .remove(i.expect("unexpect of an expectation this packet made"));
    }
    fn remove_expectations(&mut self, classes: &[u8]) -> usize {
        assert!(classes == [0] || classes == [1, 2, 3]);
        let before = self.live.len();
        self.live.retain(|e| !classes.contains(&e.class));
        before - self.live.len()
    }
    fn refresh_expectation(
        &mut self,
        class: u8,
        proto: L4Proto,
        _dst: IpAddr,
        dport: u16,
        _timeout: u32,
    ) -> bool {
        assert!(class == 0 && proto != L4Proto::Gre && dport >= 1024);
        self.refresh_finds
    }
    fn same_route_as_packet(&mut self, _addr: IpAddr) -> Option<bool> {
        Some(self.same_route)
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
    let raw: [u8; 16] = bytes(d, 40 + 16 * i);
    if v6 {
        IpAddr::V6(Ipv6Addr::from(raw))
    } else {
        IpAddr::V4(Ipv4Addr::new(raw[0], raw[1], raw[2], raw[3]))
    }
}

fn port(d: &[u8], i: usize) -> u16 {
    u16::from_be_bytes(bytes(d, 104 + 2 * i))
}

fuzz_target!(|data: &[u8]| {
    let [flags, flags2] = bytes::<2>(data, 0);
    let bit = |n: u8| flags & (1 << n) != 0;
    let bit2 = |n: u8| flags2 & (1 << n) != 0;
    let v6 = bit(1);
    let proto = if bit(3) { L4Proto::Tcp } else { L4Proto::Udp };
    let orig = Tuple {
        src: addr(data, 0, v6),
        dst: addr(data, 1, v6),
        proto,
        sport: port(data, 0),
        dport: port(data, 1),
    };
    let conn = if bit(2) {
        ConnView {
            orig,
            reply: Tuple {
                src: addr(data, 2, v6),
                dst: addr(data, 3, v6),
                proto,
                sport: port(data, 2),
                dport: port(data, 3),
            },
        }
    } else {
        ConnView::plain(orig)
    };
    let state = if bit(5) {
        PrivData::ZERO
    } else {
        PrivData::from_bytes(&bytes::<32>(data, 8))
    };
    let payload = data.get(HEADER..).unwrap_or_default();
    let pkt = Packet {
        conn,
        dir: if bit(0) { Dir::Reply } else { Dir::Original },
        payload,
        tcp_seq: (proto == L4Proto::Tcp).then_some(1),
        state,
    };
    let mut env = FuzzEnv {
        clash_all: bit(6),
        full: bit(7),
        clash_mask: u16::from_le_bytes(bytes(data, 2)),
        seed: u32::from_le_bytes(bytes(data, 4)),
        same_route: bit2(1),
        refresh_finds: bit2(3),
        calls: 0,
        live: Vec::new(),
    };
    let sip = Sip {
        sip_timeout: 3600,
        direct_signalling: !bit2(2),
        direct_media: !bit(4),
        external_media: bit2(0),
    };
    let out = sip.handle(&pkt, &mut env);
    // SIP_FUZZ_DEBUG=1 prints every outcome (for triage: run the binary on
    // one input).
    static DEBUG: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    if *DEBUG.get_or_init(|| std::env::var_os("SIP_FUZZ_DEBUG").is_some()) {
        eprintln!("{conn:?} {:?}\n{out:?}", pkt.dir);
    }

    let edited = edit::apply(payload, &out.edits).expect("edits must apply");
    assert_eq!(
        edited.len() as isize - payload.len() as isize,
        out.delta(),
        "delta"
    );
    assert!(env.calls <= 64 * 2 * 256 + 130, "searches bounded");
    if !conn.nat() {
        assert!(out.edits.is_empty(), "no rewrite without NAT");
    }
    if out.need_more {
        assert!(proto == L4Proto::Tcp);
        assert!(out.edits.is_empty() && out.expectations.is_empty() && out.state.is_none());
    }
    if out.drop {
        assert!(out.expectations.is_empty() && out.edits.is_empty());
    }
    assert_eq!(env.live, out.expectations, "reported = left in the table");
    for e in &out.expectations {
        // Ports taken from the packet are ≥ 1024; a signalling port chosen by
        // conntrack's own NAT mapping may be lower.
        let advertised = e.nat.map_or(e.dport, |n| n.saved_port);
        assert!(advertised >= 1024, "no advertised port below 1024");
        assert!(e.class == 0 || e.dport >= 1024, "no media port below 1024");
        assert_eq!(e.dst.is_ipv6(), v6);
        assert!(e.sport.is_none());
    }
    if let Some(s) = out.state {
        assert!(s.0[STATE_LEN..].iter().all(|&b| b == 0));
    }
});
