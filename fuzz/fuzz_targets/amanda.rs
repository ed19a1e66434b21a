//! Fuzzes the Amanda helper: any payload, tuple, direction, NAT and
//! expectation-table behaviour. The helper must not panic, its edits must
//! apply, and its outcome must be self-consistent.
//!
//! Input layout: `common::simple`.
#![no_main]

#[path = "common/mod.rs"]
mod common;

use common::{apply_checked, simple, Simple};
use helpers::amanda::{self, Amanda};
use helpers::{Dir, Helper, L4Proto, SrcAddr};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Simple {
        flags,
        pkt,
        mut env,
    } = simple(data, L4Proto::Udp);
    let _bit = |n: u8| flags & (1 << n) != 0;
    let (conn, payload) = (pkt.conn, pkt.payload);
    let h = Amanda {
        master_timeout: 300,
    };
    let out = h.handle(&pkt, &mut env);
    let made = env.take_made();

    let edited = apply_checked(payload, &out);
    assert!(out.state.is_none());
    assert_eq!(made, env.created, "reported = live");
    assert_eq!(
        env.unexpected_unknown, 0,
        "only live expectations withdrawn"
    );
    if pkt.dir == Dir::Original {
        assert!(env.calls.is_empty() && out.events.is_empty());
    }
    if !conn.nat() {
        assert!(out.edits.is_empty(), "no rewrite without NAT");
    }
    assert!(out.incomplete.is_none(), "UDP: nothing is held");
    assert_eq!(
        out.ct_timeout,
        (pkt.dir == Dir::Reply).then_some(300),
        "master_timeout on every reply"
    );
    if out.drop {
        assert!(out.edits.is_empty() && made.is_empty());
    }
    let streams = amanda::parse(payload).ports.len();
    assert!(streams <= 4 && made.len() <= streams);
    assert!(env.calls.len() <= streams * 129, "port search bounded");
    for e in &made {
        assert!(e.dport != 0 && e.sport.is_none());
        assert_eq!(e.proto, L4Proto::Tcp);
        assert_eq!(e.src, SrcAddr::Exact(conn.orig.src));
        assert_eq!(e.dst, conn.orig.dst);
    }
    if pkt.dir == Dir::Reply && conn.nat() && !out.drop {
        let again = amanda::parse(&edited).ports;
        assert_eq!(again.len(), streams, "every stream still advertised");
        let got: Vec<u16> = again.iter().map(|p| p.port).collect();
        let mut want: Vec<u16> = made.iter().map(|e| e.dport).collect();
        // Two streams on one port are one expectation (the table keeps one
        // per tuple): then only the sets of ports compare.
        let mut set = got.clone();
        set.sort_unstable();
        set.dedup();
        if set.len() == got.len() {
            assert_eq!(got, want, "rewrite advertises the expected ports");
        } else {
            want.sort_unstable();
            assert_eq!(set, want, "rewrite advertises the expected ports");
        }
    }
});
