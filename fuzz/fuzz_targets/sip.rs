//! Fuzzes the SIP helper: any payload, tuple, direction, transport, NAT,
//! parameters, state and expectation-table behaviour. The helper must not
//! panic, its edits must apply, and its outcome must be self-consistent; a
//! held message, handed back alone, is held again.
//!
//! Input layout (missing bytes read as 0):
//! - 0: flags — bit 0 reply direction, 1 IPv6, 2 NAT (reply tuple from the
//!   input instead of the inverse), 3 TCP, 4 sip_direct_media off, 5 all-zero
//!   state, 6 table refuses every port (Clash), 7 table full
//! - 1: flags — bit 0 sip_external_media, 1 media routed like the packet
//!   (every route leaves by the packet's interface, else by another),
//!   2 sip_direct_signalling off, 3 the table holds a signalling
//!   expectation (inactive, permanent) to the packet's destination address
//!   and port #3 — what a registrar's 2xx refreshes
//! - 2..4: port clash mask (a port clashes if `port & mask != 0`)
//! - 4..8: random seed
//! - 8..40: private data (32 bytes)
//! - 40..104: four addresses, 16 bytes each (IPv4 uses the first 4)
//! - 104..112: four ports
//! - 112..: payload
#![no_main]

use helpers::sip::{Sip, STATE_LEN};
use helpers::testing::TestEnv;
use helpers::{
    ConnView, Dir, ExpectError, ExpectFlags, Expectation, Helper, L4Proto, Packet, PrivData, Tuple,
};
use libfuzzer_sys::fuzz_target;

#[path = "common/mod.rs"]
mod common;
use common::{addr, apply_checked, bytes, held_tail, port};

const HEADER: usize = 112;
const ADDRS: usize = 40;
const PORTS: usize = 104;

fuzz_target!(|data: &[u8]| {
    let [flags, flags2] = bytes::<2>(data, 0);
    let bit = |n: u8| flags & (1 << n) != 0;
    let bit2 = |n: u8| flags2 & (1 << n) != 0;
    let v6 = bit(1);
    let proto = if bit(3) { L4Proto::Tcp } else { L4Proto::Udp };
    let orig = Tuple {
        src: addr(data, ADDRS, 0, v6),
        dst: addr(data, ADDRS, 1, v6),
        proto,
        sport: port(data, PORTS, 0),
        dport: port(data, PORTS, 1),
    };
    let conn = if bit(2) {
        ConnView {
            orig,
            reply: Tuple {
                src: addr(data, ADDRS, 2, v6),
                dst: addr(data, ADDRS, 3, v6),
                proto,
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
        PrivData::from_bytes(&bytes::<32>(data, 8))
    };
    let payload = data.get(HEADER..).unwrap_or_default();
    let pkt = Packet {
        conn,
        dir: if bit(0) { Dir::Reply } else { Dir::Original },
        payload,
        tcp_seq: (proto == L4Proto::Tcp).then_some(1),
        state,
        outdev: Some(1),
        ..Packet::EMPTY
    };
    let registered = Expectation {
        flags: ExpectFlags::PERMANENT | ExpectFlags::INACTIVE,
        helper: Some("sip"),
        ..Expectation::new(0, proto, conn.tuple(pkt.dir).dst, port(data, PORTS, 3))
    };
    let existing: Vec<Expectation> = bit2(3).then_some(registered).into_iter().collect();
    let mut env = TestEnv {
        clash_all: bit(6),
        fail: bit(7).then_some(ExpectError::Full),
        clash_mask: u16::from_le_bytes(bytes(data, 2)),
        seed: u32::from_le_bytes(bytes(data, 4)),
        default_route: Some(if bit2(1) { 1 } else { 2 }),
        existing: existing.clone(),
        ..TestEnv::default()
    };
    let sip = Sip {
        sip_timeout: 3600,
        direct_signalling: !bit2(2),
        direct_media: !bit(4),
        external_media: bit2(0),
    };
    let out = sip.handle(&pkt, &mut env);
    let made = env.take_made();
    // SIP_FUZZ_DEBUG=1 prints every outcome (for triage: run the binary on
    // one input).
    static DEBUG: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    if *DEBUG.get_or_init(|| std::env::var_os("SIP_FUZZ_DEBUG").is_some()) {
        eprintln!("{conn:?} {:?}\n{out:?}", pkt.dir);
    }

    apply_checked(payload, &out);
    assert!(env.calls.len() <= 64 * 2 * 256 + 130, "searches bounded");
    if !conn.nat() {
        assert!(out.edits.is_empty(), "no rewrite without NAT");
    }
    if let Some(at) = out.incomplete {
        assert!(proto == L4Proto::Tcp);
        let tail = held_tail(payload, &out, at);
        // Nothing but keep-alive newlines before it: nothing was decided.
        if payload[..at].iter().all(|&b| b == b'\r' || b == b'\n') {
            assert!(out.edits.is_empty() && made.is_empty() && out.state.is_none());
        }
        let again = Packet {
            payload: tail,
            state: out.state.unwrap_or(state),
            ..pkt
        };
        let out2 = sip.handle(&again, &mut TestEnv::default());
        assert_eq!(out2.incomplete, Some(0), "the held message is held again");
    }
    if out.drop {
        assert!(made.is_empty() && out.edits.is_empty() && out.incomplete.is_none());
    }
    assert_eq!(env.created, made, "reported = left in the table");
    assert_eq!(
        env.unexpected_unknown, 0,
        "unexpect of an expectation this packet made"
    );
    for classes in &env.removed {
        assert!(
            classes == &[0] || classes == &[1, 2, 3],
            "flush classes {classes:?}"
        );
    }
    for (e, change) in &env.updated {
        assert!(
            e.class == 0 && e.proto != L4Proto::Gre && e.dport >= 1024,
            "refresh"
        );
        assert!(
            existing.iter().chain(&env.calls).any(|x| x.same_as(e)),
            "only a live expectation is changed"
        );
        assert_eq!(change.clear, ExpectFlags::INACTIVE);
        assert!(change.timeout.is_some_and(|t| (1..=3600).contains(&t)));
    }
    for e in &made {
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
