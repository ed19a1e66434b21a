//! Amanda helper properties: no panic on any input, edits apply, rewrites
//! parse back to the expected ports.

mod common;
use common::{conn, Done};

use helpers::amanda::{self, Amanda};
use helpers::testing::TestEnv;
use helpers::{edit, Dir, Helper, L4Proto, Packet, PrivData};
use proptest::prelude::*;

fn payload() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..200),
        proptest::collection::vec(
            ("(DATA|MESG|INDEX|STATE|X) ", "[0-9]{0,7}", "[ \n]{0,2}"),
            0..6
        )
        .prop_map(|v| {
            let mut s = b"Amanda 3.5 REP HANDLE 0 SEQ 1\nCONNECT ".to_vec();
            for (k, n, t) in v {
                s.extend_from_slice(format!("{k}{n}{t}").as_bytes());
            }
            s.push(b'\n');
            s
        }),
    ]
}

proptest! {
    #[test]
    fn any_input(conn in conn(L4Proto::Udp), reply in any::<bool>(), mask in any::<u16>(),
                 seed in any::<u32>(), payload in payload()) {
        let pkt = Packet {
            conn,
            dir: if reply { Dir::Reply } else { Dir::Original },
            payload: &payload,
            tcp_seq: None,
            state: PrivData::ZERO,
            ..Packet::EMPTY
        };
        let mut env = TestEnv { clash_mask: mask, seed, ..TestEnv::default() };
        let h = Amanda::new(&amanda::INFO.default_params(), &[]);
        let out = Done::new(h.handle(&pkt, &mut env), &mut env);
        let edited = edit::apply(&payload, &out.edits);
        prop_assert!(edited.is_ok());
        prop_assert!(out.state.is_none() && out.incomplete.is_none());
        if !reply || !conn.nat() { prop_assert!(out.edits.is_empty()); }
        if out.drop {
            prop_assert!(out.edits.is_empty() && out.expectations.is_empty());
            prop_assert!(env.created.is_empty());
        }
        prop_assert_eq!(&out.expectations, &env.created);
        prop_assert!(out.expectations.len() <= 4);
        // Under NAT every advertised port got an expectation (else the
        // packet drops), and the rewritten reply advertises exactly those.
        if reply && conn.nat() && !out.drop {
            let again = amanda::parse(&edited.unwrap());
            let ports: Vec<u16> = again.ports.iter().map(|p| p.port).collect();
            let want: Vec<u16> = out.expectations.iter().map(|e| e.dport).collect();
            if again.bad.is_none() {
                prop_assert_eq!(again.ports.len(), amanda::parse(&payload).ports.len());
                // Two streams on one port are one expectation (the table
                // keeps one per tuple): then only the sets of ports compare.
                let mut set = ports.clone();
                set.sort_unstable();
                set.dedup();
                if set.len() == ports.len() {
                    prop_assert_eq!(ports, want);
                } else {
                    let mut want = want;
                    want.sort_unstable();
                    prop_assert_eq!(set, want);
                }
            }
        }
    }
}
