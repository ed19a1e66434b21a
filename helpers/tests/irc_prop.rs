//! IRC helper properties: no panic on any input, edits apply, rewrites
//! round-trip through the parser.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use helpers::irc::{self, Found, Irc};
use helpers::testing::TestEnv;
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
                proto: L4Proto::Tcp,
                sport: p[0],
                dport: p[1],
            };
            if nat {
                ConnView {
                    orig,
                    reply: Tuple {
                        src: ad(2),
                        dst: ad(3),
                        proto: L4Proto::Tcp,
                        sport: p[2],
                        dport: p[3],
                    },
                }
            } else {
                ConnView::plain(orig)
            }
        })
}

fn payload() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..200),
        (
            "(SEND|CHAT|MOVE|TSEND|SCHAT|RESUME)",
            "[a-z\" ]{0,6}",
            "[0-9a-f:. ]{0,20}",
            "[0-9 ]{0,8}",
            "[\\x01\r\n]{0,3}",
        )
            .prop_map(
                |(c, f, a, p, t)| format!("PRIVMSG x :\x01DCC {c} {f} {a} {p}{t}").into_bytes()
            ),
    ]
}

proptest! {
    #[test]
    fn any_input(conn in conn(), reply in any::<bool>(), mask in any::<u16>(),
                 seed in any::<u32>(), payload in payload()) {
        let pkt = Packet {
            conn,
            dir: if reply { Dir::Reply } else { Dir::Original },
            payload: &payload,
            tcp_seq: Some(1),
            state: PrivData::ZERO,
        };
        let mut env = TestEnv { clash_mask: mask, seed, ..TestEnv::default() };
        let out = Irc.handle(&pkt, &mut env);
        let edited = edit::apply(&payload, &out.edits);
        prop_assert!(edited.is_ok());
        prop_assert!(out.state.is_none());
        if reply || !conn.nat() { prop_assert!(out.edits.is_empty()); }
        if out.drop || out.need_more {
            prop_assert!(out.edits.is_empty() && out.expectations.is_empty());
            prop_assert!(env.created.is_empty());
        }
        prop_assert_eq!(&out.expectations, &env.created);
        // A rewritten offer parses back to the expected address and port.
        if !out.edits.is_empty() {
            let again = irc::parse(&edited.unwrap());
            let dccs: Vec<_> = again.found.iter().filter_map(|f| match f {
                Found::Dcc(d) => Some((d.addr, d.port)),
                Found::Malformed { .. } => None,
            }).collect();
            for e in &out.expectations {
                prop_assert!(dccs.contains(&(e.dst, e.dport)));
            }
        }
    }
}
