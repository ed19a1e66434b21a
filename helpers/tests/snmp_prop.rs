//! SNMP helper properties: no panic on any input; the edits are exactly the
//! IpAddress values the pairs name (first pair wins, no chaining), each
//! 4 octets for 4; without NAT nothing; with the kernel's pair alone the
//! kernel's edits.

mod common;
use common::snmp::{self as ber, Ber};
use common::{conn, Done};

use helpers::snmp::helper::{kernel_mangles, Rewrites, Role};
use helpers::snmp::{self, Kernel, Snmp};
use helpers::testing::TestEnv;
use helpers::{edit, ConnView, Dir, Helper, L4Proto, Packet, Tuple};
use proptest::prelude::*;
use std::net::{IpAddr, Ipv4Addr};

fn v4(a: IpAddr) -> Ipv4Addr {
    match a {
        IpAddr::V4(a) => a,
        IpAddr::V6(_) => Ipv4Addr::UNSPECIFIED,
    }
}

/// An IPv4 UDP connection whose addresses come from a small set (so the
/// pairs often share addresses), ports 161/162 or others, NAT or not.
fn conn_v4() -> impl Strategy<Value = ConnView> {
    let addr = prop_oneof![
        Just([10, 0, 1, 2]),
        Just([10, 0, 1, 5]),
        Just([203, 0, 113, 1]),
        Just([198, 51, 100, 7]),
        any::<[u8; 4]>(),
    ]
    .prop_map(|o| IpAddr::V4(Ipv4Addr::from(o)));
    let port = prop_oneof![Just(161u16), Just(162u16), Just(40000u16), any::<u16>()];
    (
        proptest::collection::vec(addr, 4),
        proptest::collection::vec(port, 4),
        any::<bool>(),
    )
        .prop_map(|(a, p, nat)| {
            let orig = Tuple {
                src: a[0],
                dst: a[1],
                proto: L4Proto::Udp,
                sport: p[0],
                dport: p[1],
            };
            if nat {
                ConnView {
                    orig,
                    reply: Tuple {
                        src: a[2],
                        dst: a[3],
                        proto: L4Proto::Udp,
                        sport: p[2],
                        dport: p[3],
                    },
                }
            } else {
                ConnView::plain(orig)
            }
        })
}

/// A message whose IpAddress values are the connection's addresses or
/// others.
fn message(conn: ConnView) -> impl Strategy<Value = Ber> {
    let addrs = [conn.orig.src, conn.orig.dst, conn.reply.src, conn.reply.dst];
    let value = prop_oneof![
        (0..4usize).prop_map(move |i| Ber::ip(v4(addrs[i]))),
        any::<[u8; 4]>().prop_map(|o| Ber::ip(Ipv4Addr::from(o))),
        any::<i32>().prop_map(|v| Ber::int(v.into())),
        proptest::collection::vec(any::<u8>(), 0..6).prop_map(|s| Ber::prim(ber::OCTET_STRING, &s)),
    ];
    let pdu = prop_oneof![
        Just(ber::GET),
        Just(ber::RESPONSE),
        Just(ber::SET),
        Just(ber::INFORM),
        Just(ber::TRAP_V2),
        Just(ber::TRAP_V1),
    ];
    (
        pdu,
        0..2i64,
        proptest::collection::vec(value, 0..6),
        0..4usize,
    )
        .prop_map(move |(pdu, version, values, agent)| {
            let vbs = values
                .into_iter()
                .enumerate()
                .map(|(i, v)| (vec![1, 3, 6, 1, 4, 1, 99, i as u64, 0], v))
                .collect();
            if pdu == ber::TRAP_V1 {
                ber::trap_v1(v4(addrs[agent]), vbs)
            } else {
                ber::message(version, pdu, 42, vbs)
            }
        })
}

fn case() -> impl Strategy<Value = (ConnView, Ber, bool, bool)> {
    conn_v4().prop_flat_map(|c| (Just(c), message(c), any::<bool>(), any::<bool>()))
}

fn handle(role: Role, conn: ConnView, dir: Dir, payload: &[u8]) -> Done {
    let info = match role {
        Role::Agent => &snmp::INFO,
        Role::Trap => &snmp::TRAP_INFO,
    };
    let p = info.default_params();
    let h = Snmp::new(role, &p, &info.policies_for(&p));
    let pkt = Packet {
        conn,
        dir,
        payload,
        ..Packet::EMPTY
    };
    let mut env = TestEnv::default();
    Done::new(h.handle(&pkt, &mut env), &mut env)
}

proptest! {
    #[test]
    fn edits_are_the_pairs((conn, msg, reply, trap) in case()) {
        let dir = if reply { Dir::Reply } else { Dir::Original };
        let role = if trap { Role::Trap } else { Role::Agent };
        let out = handle(role, conn, dir, &msg.bytes);
        prop_assert!(out.events.is_empty(), "{:?}", out.events);
        prop_assert!(!out.drop && out.expectations.is_empty());
        let after = edit::apply(&msg.bytes, &out.edits).unwrap();
        prop_assert_eq!(after.len(), msg.bytes.len());
        let pkt = Packet { conn, dir, payload: &msg.bytes, ..Packet::EMPTY };
        let rw = Rewrites::of(&conn, dir).unwrap();
        // What each IpAddress must become: the first active pair's `to`.
        let translated = conn.nat() && match role {
            Role::Agent => kernel_mangles(&pkt),
            Role::Trap => !(reply && conn.orig.sport == 162),
        };
        let pairs = if translated { rw.active() } else { Vec::new() };
        let mut want = msg.bytes.clone();
        for &(o, a) in &msg.ips {
            if let Some(p) = pairs.iter().find(|p| p.from == a) {
                want[o..o + 4].copy_from_slice(&p.to.octets());
            }
        }
        prop_assert_eq!(&after, &want);
        for e in &out.edits {
            prop_assert_eq!((e.len, e.new.len()), (4, 4));
        }
        // The kernel's pair alone: the kernel's edits, where it makes them.
        if translated && rw.dnat.identity() && kernel_mangles(&pkt) {
            let t = snmp::translate(&msg.bytes, rw.kernel.from, rw.kernel.to).unwrap();
            if t.kernel == Kernel::Same {
                let k: Vec<_> = t.edits.iter().map(|e| e.edit()).collect();
                prop_assert_eq!(&out.edits, &k);
            }
        }
    }

    #[test]
    fn any_input(conn in conn(L4Proto::Udp), reply in any::<bool>(), trap in any::<bool>(),
                 payload in proptest::collection::vec(any::<u8>(), 0..120),
                 cut in any::<prop::sample::Index>(), (c4, msg, _, _) in case()) {
        let dir = if reply { Dir::Reply } else { Dir::Original };
        let role = if trap { Role::Trap } else { Role::Agent };
        // Random bytes, and a real message cut short.
        let n = cut.index(msg.bytes.len() + 1);
        for (conn, p) in [(conn, &payload[..]), (c4, &msg.bytes[..n])] {
            let out = handle(role, conn, dir, p);
            prop_assert!(edit::apply(p, &out.edits).is_ok());
            prop_assert!(!out.drop, "drop_malformed is off by default");
            if !conn.nat() || conn.is_ipv6() {
                prop_assert!(out.edits.is_empty() && out.events.is_empty());
            }
        }
    }
}
