//! TFTP helper properties: no panic, never an edit or state, one
//! expectation exactly for RRQ/WRQ.

mod common;
use common::{conn, Done};

use helpers::testing::TestEnv;
use helpers::tftp::Tftp;
use helpers::{edit, Dir, Helper, L4Proto, Packet, PrivData};
use proptest::prelude::*;

proptest! {
    #[test]
    fn any_bytes(conn in conn(L4Proto::Udp), reply in any::<bool>(), clash in any::<bool>(),
                 payload in proptest::collection::vec(any::<u8>(), 0..64)) {
        let pkt = Packet {
            conn,
            dir: if reply { Dir::Reply } else { Dir::Original },
            payload: &payload,
            tcp_seq: None,
            state: PrivData::ZERO,
            ..Packet::EMPTY
        };
        let mut env = TestEnv { clash_all: clash, ..TestEnv::default() };
        let out = Done::new(Tftp.handle(&pkt, &mut env), &mut env);
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
