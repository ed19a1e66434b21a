//! IRC helper properties: no panic on any input, edits apply, rewrites
//! round-trip through the parser.

mod common;
use common::conn;

use helpers::irc::{self, Found, Irc};
use helpers::testing::TestEnv;
use helpers::{edit, Dir, Helper, L4Proto, Packet, PrivData};
use proptest::prelude::*;

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
    fn any_input(conn in conn(L4Proto::Tcp), reply in any::<bool>(), mask in any::<u16>(),
                 seed in any::<u32>(), payload in payload()) {
        let pkt = Packet {
            conn,
            dir: if reply { Dir::Reply } else { Dir::Original },
            payload: &payload,
            tcp_seq: Some(1),
            state: PrivData::ZERO,
            ..Packet::EMPTY
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
