//! Fuzzes the H.323 helpers (RAS, Q.931, H.245): any payload, tuple,
//! direction, NAT, parameters, state and expectation-table behaviour. The
//! helper must not panic; its edits must apply, keep the length and write
//! only the connection's own addresses; its outcome must be self-consistent;
//! a held TPKT, handed back alone, is held again.
//!
//! Input layout (missing bytes read as 0):
//! - 0: flags — bit 0 reply direction, 1 IPv6, 2 NAT (reply tuple from the
//!   input instead of the inverse), 3-4 helper (0 RAS, 1 Q.931, 2 H.245,
//!   3 Q.931), 5 plant: every address the payload decodes to becomes the
//!   sender's (so the "at the sender" paths are reached), 6 table answers
//!   Clash to everything, 7 table full
//! - 1: flags — bit 0 gkrouted_only = 0, 1 callforward_filter off, 2 every
//!   route leaves by one interface, 3 the connection is itself expected,
//!   4 not established (RELATED), 5 the table holds a Q.931 expectation to
//!   the packet's destination (what an RCF refreshes), 6 all-zero state
//! - 2..4: port clash mask (a port clashes if `port & mask != 0`)
//! - 4..8: random seed
//! - 8..40: private data (32 bytes)
//! - 40..104: four addresses, 16 bytes each (IPv4 uses the first 4)
//! - 104..112: four ports
//! - 112..: payload
#![no_main]

use helpers::h323::h245::H245Helper;
use helpers::h323::q931::Q931Helper;
use helpers::h323::ras::RasHelper;
use helpers::h323::track::STATE_LEN;
use helpers::h323::{self, Found};
use helpers::testing::TestEnv;
use helpers::{
    ConnView, CtState, CtStatus, Dir, ExpectError, ExpectFlags, Expectation, Helper, L4Proto,
    Packet, PrivData, Tuple,
};
use libfuzzer_sys::fuzz_target;
use std::net::IpAddr;

#[path = "common/mod.rs"]
mod common;
use common::{addr, apply_checked, bytes, held_tail, port};

const HEADER: usize = 112;
const ADDRS: usize = 40;
const PORTS: usize = 104;

fn octets(a: IpAddr) -> Vec<u8> {
    match a {
        IpAddr::V4(x) => x.octets().to_vec(),
        IpAddr::V6(x) => x.octets().to_vec(),
    }
}

/// Every address the payload decodes to, for the helper `which`.
fn addresses(which: u8, payload: &[u8]) -> Vec<Found> {
    match which {
        0 => h323::decode_ras(payload)
            .map(|r| r.addresses())
            .unwrap_or_default(),
        2 => h323::decode_h245_segment(payload)
            .frames
            .into_iter()
            .filter_map(|(_, r)| r.ok())
            .flat_map(|m| m.addresses())
            .collect(),
        _ => h323::decode_q931_segment(payload)
            .frames
            .into_iter()
            .filter_map(|(_, r)| r.ok())
            .flat_map(|q| q.addresses())
            .collect(),
    }
}

fuzz_target!(|data: &[u8]| {
    let [flags, flags2] = bytes::<2>(data, 0);
    let bit = |n: u8| flags & (1 << n) != 0;
    let bit2 = |n: u8| flags2 & (1 << n) != 0;
    let v6 = bit(1);
    let which = (flags >> 3) & 3;
    let proto = if which == 0 {
        L4Proto::Udp
    } else {
        L4Proto::Tcp
    };
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
    let dir = if bit(0) { Dir::Reply } else { Dir::Original };
    let mut payload = data.get(HEADER..).unwrap_or_default().to_vec();
    if bit(5) {
        let me = octets(conn.tuple(dir).src);
        for f in addresses(which, &payload) {
            if f.addr.ip_len() == me.len() {
                if let Some(s) = payload.get_mut(f.addr.ip_offset..f.addr.ip_offset + me.len()) {
                    s.copy_from_slice(&me);
                }
            }
        }
    }
    let payload = &payload[..];
    let state = if bit2(6) {
        PrivData::ZERO
    } else {
        PrivData::from_bytes(&bytes::<32>(data, 8))
    };
    let mut status = CtStatus::CONFIRMED | CtStatus::SEEN_REPLY;
    if bit2(3) {
        status |= CtStatus::EXPECTED;
    }
    let pkt = Packet {
        conn,
        dir,
        payload,
        ctinfo: if bit2(4) {
            CtState::Related
        } else {
            CtState::Established
        },
        status: CtStatus(status),
        tcp_seq: (proto == L4Proto::Tcp).then_some(1),
        state,
        ..Packet::EMPTY
    };
    let registered = Expectation {
        flags: ExpectFlags::PERMANENT,
        helper: Some("Q.931"),
        ..Expectation::new(0, L4Proto::Tcp, conn.tuple(dir).dst, port(data, PORTS, 3))
    };
    let existing: Vec<Expectation> = bit2(5).then_some(registered).into_iter().collect();
    let mut env = TestEnv {
        clash_all: bit(6),
        fail: bit(7).then_some(ExpectError::Full),
        clash_mask: u16::from_le_bytes(bytes(data, 2)),
        seed: u32::from_le_bytes(bytes(data, 4)),
        default_route: Some(1),
        routes: if bit2(2) {
            Default::default()
        } else {
            [(conn.orig.src, 2)].into()
        },
        existing: existing.clone(),
        ..TestEnv::default()
    };
    let helper: Box<dyn Helper> = match which {
        0 => Box::new(RasHelper {
            default_rrq_ttl: 300,
            gkrouted_only: !bit2(0),
        }),
        2 => Box::new(H245Helper),
        _ => Box::new(Q931Helper {
            callforward_filter: !bit2(1),
        }),
    };
    let out = helper.handle(&pkt, &mut env);
    let made = env.take_made();

    apply_checked(payload, &out);
    assert!(!out.drop, "the H.323 helpers never drop");
    let own: Vec<Vec<u8>> = [conn.orig.src, conn.orig.dst, conn.reply.src, conn.reply.dst]
        .into_iter()
        .map(octets)
        .collect();
    for e in &out.edits {
        assert_eq!(e.new.len(), e.len, "same-length rewrites");
        assert!(
            e.len == 2 || own.contains(&e.new),
            "only the connection's addresses are written"
        );
    }
    if !conn.nat() {
        assert!(out.edits.is_empty(), "no rewrite without NAT");
    }
    if bit2(4) && which != 0 {
        assert!(
            out.edits.is_empty() && made.is_empty(),
            "not established: not looked at"
        );
    }
    if let Some(at) = out.incomplete {
        assert!(proto == L4Proto::Tcp);
        let tail = held_tail(payload, &out, at);
        let again = Packet {
            payload: tail,
            state: out.state.unwrap_or(state),
            ..pkt
        };
        let out2 = helper.handle(&again, &mut TestEnv::default());
        assert_eq!(out2.incomplete, Some(0), "the held TPKT is held again");
        assert!(out2.edits.is_empty());
    }
    assert_eq!(env.created, made, "reported = left in the table");
    assert_eq!(
        env.unexpected_unknown, 0,
        "unexpect of an unknown expectation"
    );
    assert!(env.calls.len() <= 200_000, "searches bounded");
    for e in &made {
        assert_eq!(e.dst.is_ipv6(), v6);
        assert!(e.sport.is_none());
    }
    for (e, change) in &env.updated {
        assert!(existing.iter().chain(&env.calls).any(|x| x.same_as(e)));
        assert!(change.clear == ExpectFlags::NONE && change.timeout.is_some());
    }
    if let Some(s) = out.state {
        assert!(s.0[STATE_LEN..].iter().all(|&b| b == 0));
    }
});
