//! TFTP helper properties: no panic, never an edit or state, one
//! expectation exactly for RRQ/WRQ.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use helpers::testing::TestEnv;
use helpers::tftp::Tftp;
use helpers::{edit, ConnView, Dir, Helper, L4Proto, Packet, PrivData, Tuple};
use proptest::prelude::*;

fn conn() -> impl Strategy<Value = ConnView> {
    (
        any::<bool>(),
        any::<[[u8; 16]; 4]>(),
        any::<[u16; 4]>(),
        any::<bool>(),
    )
        .prop_map(|(v6, a, p, nat)| {
            let ad = |i: usize| -> IpAddr {
                if v6 {
                    IpAddr::V6(Ipv6Addr::from(a[i]))
                } else {
                    IpAddr::V4(Ipv4Addr::new(a[i][0], a[i][1], a[i][2], a[i][3]))
                }
            };
            let orig = Tuple {
                src: ad(0),
                dst: ad(1),
                proto: L4Proto::Udp,
                sport: p[0],
                dport: p[1],
            };
            if nat {
                ConnView {
                    orig,
                    reply: Tuple {
                        src: ad(2),
                        dst: ad(3),
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

proptest! {
    #[test]
    fn any_bytes(conn in conn(), reply in any::<bool>(), clash in any::<bool>(),
                 payload in proptest::collection::vec(any::<u8>(), 0..64)) {
        let pkt = Packet {
            conn,
            dir: if reply { Dir::Reply } else { Dir::Original },
            payload: &payload,
            tcp_seq: None,
            state: PrivData::ZERO,
        };
        let mut env = TestEnv { clash_all: clash, ..TestEnv::default() };
        let out = Tftp.handle(&pkt, &mut env);
        prop_assert!(edit::apply(&payload, &out.edits).is_ok());
        prop_assert!(out.edits.is_empty() && out.state.is_none() && !out.drop);
        let request = payload.len() >= 2 && payload[0] == 0 && (payload[1] == 1 || payload[1] == 2);
        prop_assert_eq!(env.calls.len(), usize::from(request));
        prop_assert_eq!(out.expectations.len(), usize::from(request && !clash));
        for e in &out.expectations {
            prop_assert_eq!(e.dst, conn.reply.dst);
            prop_assert_eq!(e.dport, conn.reply.dport);
            prop_assert_eq!(e.nat.is_some(), conn.nat());
        }
    }
}
