//! Fuzzes the FTP helper: any payload, tuple, direction, NAT, state and
//! expectation-table behaviour. The helper must not panic, its edits must
//! apply, and its outcome must be self-consistent; a held line, handed back
//! alone at its sequence number with the new state, is held again.
//!
//! Input layout (missing bytes read as 0):
//! - 0: flags — bit 0 reply direction, 1 IPv6, 2 NAT (reply tuple from the
//!   input instead of the inverse), 3 `loose`, 4 no TCP sequence number,
//!   5 all-zero state, 6 table refuses every port (Clash), 7 table full
//! - 1..3: port clash mask (a port clashes if `port & mask != 0`)
//! - 3..7: TCP sequence number, 7..11: random seed
//! - 11..31: private data (20 bytes)
//! - 31..95: four addresses, 16 bytes each (IPv4 uses the first 4)
//! - 95..103: four ports
//! - 103..: payload
#![no_main]

use helpers::ftp::{Ftp, FtpState};
use helpers::testing::TestEnv;
use helpers::{ConnView, Dir, ExpectError, Helper, L4Proto, Packet, PrivData, SrcAddr, Tuple};
use libfuzzer_sys::fuzz_target;

#[path = "common/mod.rs"]
mod common;
use common::{addr, apply_checked, bytes, held_tail, port};

const HEADER: usize = 103;
const ADDRS: usize = 31;
const PORTS: usize = 95;

fuzz_target!(|data: &[u8]| {
    let [flags] = bytes::<1>(data, 0);
    let bit = |n: u8| flags & (1 << n) != 0;
    let v6 = bit(1);
    let orig = Tuple {
        src: addr(data, ADDRS, 0, v6),
        dst: addr(data, ADDRS, 1, v6),
        proto: L4Proto::Tcp,
        sport: port(data, PORTS, 0),
        dport: port(data, PORTS, 1),
    };
    let conn = if bit(2) {
        ConnView {
            orig,
            reply: Tuple {
                src: addr(data, ADDRS, 2, v6),
                dst: addr(data, ADDRS, 3, v6),
                proto: L4Proto::Tcp,
                sport: port(data, PORTS, 2),
                dport: port(data, PORTS, 3),
            },
        }
    } else {
        ConnView::plain(orig)
    };
    let state = if bit(5) {
        PrivData::ZERO
    } else {
        PrivData::from_bytes(&bytes::<20>(data, 11))
    };
    let payload = data.get(HEADER..).unwrap_or_default();
    let pkt = Packet {
        conn,
        dir: if bit(0) { Dir::Reply } else { Dir::Original },
        payload,
        tcp_seq: (!bit(4)).then(|| u32::from_le_bytes(bytes(data, 3))),
        state,
        ..Packet::EMPTY
    };
    let new_env = || TestEnv {
        clash_all: bit(6),
        fail: bit(7).then_some(ExpectError::Full),
        clash_mask: u16::from_le_bytes(bytes(data, 1)),
        seed: u32::from_le_bytes(bytes(data, 7)),
        ..TestEnv::default()
    };
    let mut env = new_env();
    let ftp = Ftp { loose: bit(3) };
    let out = ftp.handle(&pkt, &mut env);
    let made = env.take_made();
    // FTP_FUZZ_DEBUG=1 prints every outcome (for triage: run the binary on
    // one input).
    static DEBUG: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    if *DEBUG.get_or_init(|| std::env::var_os("FTP_FUZZ_DEBUG").is_some()) {
        eprintln!("{conn:?} {:?}\n{out:?}", pkt.dir);
    }

    apply_checked(payload, &out);
    // Every line is parsed: at most one command per line that starts in the
    // payload (one for a payload without an inner newline).
    let lines = 1 + payload
        .iter()
        .rev()
        .skip(1)
        .filter(|&&b| b == b'\n')
        .count();
    assert!(env.calls.len() <= 129 * lines, "port search bounded");
    assert!(made.len() <= lines);
    assert_eq!(made, env.created, "reported = live");
    assert_eq!(
        env.unexpected_unknown, 0,
        "only live expectations withdrawn"
    );
    if !conn.nat() {
        assert!(out.edits.is_empty(), "no rewrite without NAT");
    }
    if out.incomplete == Some(0) {
        assert!(out.edits.is_empty() && made.is_empty() && out.state.is_none());
    }
    if let Some(at) = out.incomplete {
        let tail = held_tail(payload, &out, at);
        assert!(
            at == 0 || payload.get(at - 1) == Some(&b'\n'),
            "at a line start"
        );
        assert!(!tail.contains(&b'\n'), "one unfinished line");
        // The caller's next call: the held line alone (the next segment
        // not there yet) at its sequence number, with the new state, is
        // parsed and held again — unless the input state is one the helper
        // cannot have written (line starts in a direction never seen).
        let st = out.state.unwrap_or(state);
        let was = *FtpState::decode(&state).dir(pkt.dir);
        if was.seen || was.num == 0 {
            let seq = pkt.tcp_seq.map(|s| s.wrapping_add(at as u32));
            if let Some(s) = seq {
                assert!(FtpState::decode(&st).dir(pkt.dir).at_line_start(s));
            }
            let again = Packet {
                payload: tail,
                tcp_seq: seq,
                state: st,
                ..pkt
            };
            let out2 = ftp.handle(&again, &mut new_env());
            assert_eq!(out2.incomplete, Some(0), "the held line is held again");
        }
    }
    if out.drop {
        assert!(made.is_empty() && out.edits.is_empty() && out.incomplete.is_none());
    }
    for e in &made {
        assert!(e.dport != 0 && e.sport.is_none() && e.proto == L4Proto::Tcp);
        assert_eq!(e.dst.is_ipv6(), v6);
        assert!(matches!(e.src, SrcAddr::Exact(_)), "from the peer only");
    }
    if let Some(s) = out.state {
        assert!(s.0[helpers::ftp::STATE_LEN..].iter().all(|&b| b == 0));
    }
});
