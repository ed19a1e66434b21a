//! IRC helper properties: no panic on any input, edits apply, rewrites
//! round-trip through the parser.

mod common;
use common::{conn, Done};

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
        // Complete lines, then a DCC line cut anywhere (a held tail).
        (
            proptest::collection::vec(
                "(PING :x|PRIVMSG a :\x01DCC (SEND|CHAT) f [0-9]{1,10} [0-9]{1,5}\x01)\r\n",
                0..3
            ),
            "PRIVMSG b :\x01DCC SEND f [0-9]{1,10} [0-9]{1,5}\x01\r\n",
            any::<usize>(),
        )
            .prop_map(|(lines, last, cut)| {
                let mut s = lines.concat().into_bytes();
                s.extend_from_slice(&last.as_bytes()[..cut % last.len()]);
                s
            }),
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
        let out = Done::new(Irc.handle(&pkt, &mut env), &mut env);
        let edited = edit::apply(&payload, &out.edits);
        prop_assert!(edited.is_ok());
        prop_assert!(out.state.is_none());
        if reply || !conn.nat() { prop_assert!(out.edits.is_empty()); }
        if out.drop || out.incomplete == Some(0) {
            prop_assert!(out.edits.is_empty() && out.expectations.is_empty());
            prop_assert!(env.created.is_empty());
        }
        // A held line: what comes before it is handled, the line itself is
        // untouched, and alone it is held again.
        if let Some(at) = out.incomplete {
            prop_assert!(!out.drop && at < payload.len());
            prop_assert!(!payload[at..].contains(&b'\n'));
            prop_assert!(out.edits.iter().all(|e| e.offset + e.len <= at));
            let tail = Packet { payload: &payload[at..], ..pkt };
            let mut env2 = TestEnv { clash_mask: mask, seed, ..TestEnv::default() };
            prop_assert_eq!(Irc.handle(&tail, &mut env2).incomplete, Some(0));
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
