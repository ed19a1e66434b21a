//! Fuzzes the IRC DCC helper: any payload, tuple, direction, NAT and
//! expectation-table behaviour. The helper must not panic, its edits must
//! apply, and its outcome must be self-consistent; a held line, handed back
//! alone, is held again.
//!
//! Input layout: `common::simple`.
#![no_main]

#[path = "common/mod.rs"]
mod common;

use common::{apply_checked, held_tail, simple, Simple};
use helpers::irc::{self, Irc};
use helpers::testing::TestEnv;
use helpers::{Dir, Helper, L4Proto, Packet, SrcAddr};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Simple {
        flags,
        pkt,
        mut env,
    } = simple(data, L4Proto::Tcp);
    let bit = |n: u8| flags & (1 << n) != 0;
    let (conn, payload) = (pkt.conn, pkt.payload);
    let out = Irc.handle(&pkt, &mut env);
    let made = env.take_made();

    apply_checked(payload, &out);
    assert!(out.state.is_none());
    assert_eq!(made, env.created, "reported = live");
    assert_eq!(
        env.unexpected_unknown, 0,
        "only live expectations withdrawn"
    );
    if pkt.dir == Dir::Reply {
        assert!(env.calls.is_empty() && out.events.is_empty());
    }
    if !conn.nat() {
        assert!(out.edits.is_empty(), "no rewrite without NAT");
    }
    if out.incomplete == Some(0) || out.drop {
        assert!(out.edits.is_empty() && made.is_empty());
    }
    if let Some(at) = out.incomplete {
        let tail = held_tail(payload, &out, at);
        assert!(
            at == 0 || payload.get(at - 1) == Some(&b'\n'),
            "at a line start"
        );
        assert!(!tail.contains(&b'\n'), "one unfinished line");
        let again = Packet {
            payload: tail,
            ..pkt
        };
        let out2 = Irc.handle(&again, &mut TestEnv::default());
        assert_eq!(out2.incomplete, Some(0), "the held line is held again");
    }
    let offers = irc::parse(payload).found.len();
    assert!(made.len() <= offers);
    assert!(env.calls.len() <= offers * 129, "port search bounded");
    for e in &made {
        assert!(e.dport != 0 && e.sport.is_none() && e.src == SrcAddr::Any);
        assert_eq!(e.proto, L4Proto::Tcp);
        assert_eq!(e.dst, conn.reply.dst);
        assert_eq!(e.dst.is_ipv6(), bit(1));
    }
});
