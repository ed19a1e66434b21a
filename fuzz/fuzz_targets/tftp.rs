//! Fuzzes the TFTP helper: any payload, tuple, direction, NAT and
//! expectation-table behaviour. The helper must not panic, never edit, and
//! ask for exactly one expectation per RRQ/WRQ.
//!
//! Input layout: `common::simple`.
#![no_main]

#[path = "common/mod.rs"]
mod common;

use common::{apply_checked, simple, Simple};
use helpers::tftp::Tftp;
use helpers::{Helper, L4Proto};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Simple {
        flags,
        pkt,
        mut env,
    } = simple(data, L4Proto::Udp);
    let bit = |n: u8| flags & (1 << n) != 0;
    let (conn, payload) = (pkt.conn, pkt.payload);
    let out = Tftp.handle(&pkt, &mut env);
    let made = env.take_made();

    let edited = apply_checked(payload, &out);
    assert_eq!(edited, payload, "TFTP never rewrites");
    assert!(out.state.is_none() && out.incomplete.is_none() && !out.drop);
    assert_eq!(made, env.created);
    let request = matches!(payload, [0, 1 | 2, ..]);
    assert_eq!(env.calls.len(), usize::from(request));
    // Refused: a full table, a clash on every port, or a clash on the
    // client's port (TFTP makes no port search).
    let refused = bit(6) || bit(7) || conn.reply.dport & env.clash_mask != 0;
    assert_eq!(made.len(), usize::from(request && !refused));
    for e in &made {
        assert!(e.sport.is_none() && e.proto == L4Proto::Udp && e.class == 0);
        assert_eq!(e.dst, conn.reply.dst);
        assert_eq!(e.dport, conn.reply.dport);
        assert_eq!(e.nat.is_some(), conn.nat());
    }
});
