//! Fuzzes the `pptp` helper: any payload, state, tuples, direction, NAT and
//! table refusal (the [`common::simple`] layout; the first 16 payload bytes
//! are the private data, the rest the TCP payload). Nothing may panic; every
//! edit is a same-length 2-byte call-ID rewrite inside a message; the state
//! never uses bytes 16..32 (an old kernel frees them as keymap pointers);
//! a held tail is a suffix no edit touches; every expectation is GRE,
//! PERMANENT, with the source key wildcarded; from the zero state nothing
//! is removed that was not there. The new state is fed back with the same payload once more.
#![no_main]

#[path = "common/mod.rs"]
mod common;

use common::{apply_checked, held_tail, simple};
use helpers::pptp::Pptp;
use helpers::{ExpectFlags, Helper, L4Proto, Packet, PrivData};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let s = simple(data, L4Proto::Tcp);
    let mut env = s.env;
    let raw = s.pkt.payload;
    let (state, payload) = raw.split_at(raw.len().min(16));
    let h = Pptp::default();
    let mut st = PrivData::from_bytes(state);
    for _ in 0..2 {
        let pkt = Packet {
            payload,
            state: st,
            ..s.pkt
        };
        let out = h.handle(&pkt, &mut env);
        apply_checked(payload, &out);
        for e in &out.edits {
            assert_eq!((e.len, e.new.len()), (2, 2), "call-ID rewrites only");
        }
        if let Some(at) = out.incomplete {
            held_tail(payload, &out, at);
        }
        assert!(!out.drop);
        if let Some(n) = out.state {
            assert!(
                n.as_bytes()[16..].iter().all(|&b| b == 0),
                "bytes 16.. stay zero"
            );
            st = n;
        }
        for e in env.take_made() {
            assert_eq!(e.proto, L4Proto::Gre);
            assert_eq!(e.sport, None);
            assert!(e.flags.contains(ExpectFlags::PERMANENT));
        }
    }
    // From the zero state the helper removes only what it made (a state
    // from the input may claim expectations that were never made).
    if state.iter().all(|&b| b == 0) {
        assert_eq!(env.unexpected_unknown, 0, "removed only what was made");
    }
});
