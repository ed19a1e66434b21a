//! Properties of the H.323 helpers: any bytes on any connection are safe
//! (edits inside the payload, same length), and under NAT every address the
//! helpers rewrite becomes an address of the connection, while every
//! expectation they make points where the peer will send.

mod common;
use common::{addr, conn};

use helpers::edit::apply;
use helpers::h323::h245::H245Helper;
use helpers::h323::q931::{self as q931h, Q931Helper};
use helpers::h323::ras::{self as rash, RasHelper};
use helpers::h323::{self, Found};
use helpers::testing::TestEnv;
use helpers::{ConnView, CtStatus, Dir, Helper, L4Proto, Packet, PrivData, Tuple};
use proptest::prelude::*;
use std::net::IpAddr;

const VECTORS: &str = include_str!("../src/h323/testdata/vectors.txt");

fn vectors(kind: &str) -> Vec<Vec<u8>> {
    VECTORS
        .lines()
        .filter(|l| l.starts_with(kind))
        .map(|l| {
            let hex = l.split_whitespace().nth(2).unwrap();
            (0..hex.len() / 2)
                .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap())
                .collect()
        })
        .collect()
}

fn tpkt(msg: &[u8]) -> Vec<u8> {
    let n = msg.len() + 4;
    let mut v = vec![3, 0, (n >> 8) as u8, n as u8];
    v.extend_from_slice(msg);
    v
}

fn helper(i: usize) -> Box<dyn Helper> {
    match i % 3 {
        0 => Box::new(RasHelper::new(&rash::INFO.default_params(), &[])),
        1 => Box::new(Q931Helper::new(&q931h::INFO.default_params(), &[])),
        _ => Box::new(H245Helper),
    }
}

fn addresses(i: usize, buf: &[u8]) -> Vec<Found> {
    match i % 3 {
        0 => h323::decode_ras(buf)
            .map(|r| r.addresses())
            .unwrap_or_default(),
        1 => h323::decode_q931_segment(buf)
            .frames
            .into_iter()
            .filter_map(|(_, r)| r.ok())
            .flat_map(|q| q.addresses())
            .collect(),
        _ => h323::decode_h245_segment(buf)
            .frames
            .into_iter()
            .filter_map(|(_, r)| r.ok())
            .flat_map(|h| h.addresses())
            .collect(),
    }
}

fn octets(a: IpAddr) -> Vec<u8> {
    match a {
        IpAddr::V4(x) => x.octets().to_vec(),
        IpAddr::V6(x) => x.octets().to_vec(),
    }
}

/// The IPv4 messages of each kind, the sender's addresses made `sender`.
fn messages() -> Vec<(usize, Vec<u8>)> {
    let mut v = Vec::new();
    for m in vectors("ras ") {
        v.push((0, m));
    }
    for m in vectors("q931 ") {
        v.push((1, tpkt(&m)));
    }
    for m in vectors("h245 ") {
        v.push((2, tpkt(&m)));
    }
    v
}

proptest! {
    #[test]
    fn any_bytes_on_any_connection_are_safe(
        which in 0usize..3,
        udp_or_tcp in any::<bool>(),
        c in conn(L4Proto::Tcp),
        dir in any::<bool>(),
        state in any::<[u8; 32]>(),
        body in proptest::collection::vec(any::<u8>(), 0..400),
        framed in any::<bool>(),
    ) {
        let payload = if framed { tpkt(&body) } else { body };
        let proto = if udp_or_tcp { L4Proto::Udp } else { L4Proto::Tcp };
        let fix = |t: Tuple| Tuple { proto, ..t };
        let conn = ConnView { orig: fix(c.orig), reply: fix(c.reply) };
        let pkt = Packet {
            conn,
            dir: if dir { Dir::Reply } else { Dir::Original },
            payload: &payload,
            state: PrivData(state),
            tcp_seq: Some(1),
            ..Packet::EMPTY
        };
        let mut env = TestEnv::default();
        let out = helper(which).handle(&pkt, &mut env);
        let after = apply(&payload, &out.edits).unwrap();
        prop_assert_eq!(after.len(), payload.len());
        prop_assert!(!out.drop);
        if let Some(i) = out.incomplete {
            prop_assert!(i < payload.len());
        }
    }

    #[test]
    fn nat_rewrites_only_to_the_connections_addresses(
        pick in any::<prop::sample::Index>(),
        sender in addr(false),
        peer in addr(false),
        nat in addr(false),
        ports in any::<[u16; 3]>(),
        reply in any::<bool>(),
    ) {
        let msgs = messages();
        let (kind, m) = &msgs[pick.index(msgs.len())];
        let (kind, m) = (*kind, m.clone());
        // The vectors' senders are 10.1.0.2 (caller) and 192.0.2.7 (callee).
        let me: IpAddr = if reply { "192.0.2.7" } else { "10.1.0.2" }.parse().unwrap();
        let mut buf = m.clone();
        for f in addresses(kind, &m) {
            if f.addr.ip == me {
                buf[f.addr.ip_offset..f.addr.ip_offset + 4].copy_from_slice(&octets(sender));
            }
        }
        let proto = if kind == 0 { L4Proto::Udp } else { L4Proto::Tcp };
        let t = Tuple { src: sender, dst: peer, proto, sport: ports[0], dport: ports[1] };
        // The sender is behind the NAT; the packet goes in its direction.
        let (conn, dir) = if reply {
            // Callee behind a DNAT: orig peer → nat, reply sender → peer.
            (ConnView {
                orig: Tuple { src: peer, dst: nat, proto, sport: ports[1], dport: ports[2] },
                reply: Tuple { src: sender, dst: peer, proto, sport: ports[0], dport: ports[1] },
            }, Dir::Reply)
        } else {
            (ConnView {
                orig: t,
                reply: Tuple { src: peer, dst: nat, proto, sport: ports[1], dport: ports[2] },
            }, Dir::Original)
        };
        prop_assume!(conn.nat() && sender != peer && nat != peer && sender != nat);
        let pkt = Packet {
            conn,
            dir,
            payload: &buf,
            tcp_seq: Some(1),
            status: CtStatus(CtStatus::CONFIRMED | CtStatus::SEEN_REPLY),
            ..Packet::EMPTY
        };
        let mut env = TestEnv::default();
        let out = helper(kind).handle(&pkt, &mut env);
        let after = apply(&buf, &out.edits).unwrap();
        prop_assert_eq!(after.len(), buf.len());
        let before = addresses(kind, &buf);
        let now = addresses(kind, &after);
        prop_assert_eq!(before.len(), now.len());
        let peer_t = conn.tuple(dir.reverse());
        for (b, a) in before.iter().zip(&now) {
            if b.addr.ip != a.addr.ip {
                prop_assert!(a.addr.ip == peer_t.dst || a.addr.ip == peer_t.src,
                    "{:?} → {:?}", b, a);
            }
        }
        // Every expectation is for what the peer sends to, or a third
        // address a RAS/forwarding message names; NATed ones follow the
        // master back to the sender.
        for e in env.made.iter() {
            if let Some(n) = e.nat {
                prop_assert_eq!(e.dst, peer_t.dst);
                prop_assert_eq!(n.dir, dir.reverse());
                prop_assert_eq!(n.saved_addr, sender);
            }
        }
    }
}
