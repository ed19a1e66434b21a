//! Fuzzes the IRC DCC helper: any payload, tuple, direction, NAT and
//! expectation-table behaviour. The helper must not panic, its edits must
//! apply, and its outcome must be self-consistent.
//!
//! Input layout: `common::simple`.
#![no_main]

#[path = "common/mod.rs"]
mod common;

use common::{apply_checked, simple, Simple};
use helpers::irc::{self, Irc};
use helpers::{Dir, Helper, L4Proto};
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

    apply_checked(payload, &out);
    assert!(out.state.is_none());
    assert_eq!(out.expectations, env.created, "reported = live");
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
    if out.need_more || out.drop {
        assert!(out.edits.is_empty() && out.expectations.is_empty());
    }
    let offers = irc::parse(payload).found.len();
    assert!(out.expectations.len() <= offers);
    assert!(env.calls.len() <= offers * 129, "port search bounded");
    for e in &out.expectations {
        assert!(e.dport != 0 && e.sport.is_none() && e.src.is_none());
        assert_eq!(e.proto, L4Proto::Tcp);
        assert_eq!(e.dst, conn.reply.dst);
        assert_eq!(e.dst.is_ipv6(), bit(1));
    }
});
