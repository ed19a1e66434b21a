//! FTP helper properties: no panic on any input, format/parse round trips.

mod common;
use common::{conn, Done};

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use helpers::ftp::{self, Ftp, FtpState, Kind, Parsed};
use helpers::testing::TestEnv as PropEnv;
use helpers::{
    edit, ConnView, Dir, ExpectError, Helper, L4Proto, Packet, Params, PrivData, SrcAddr, Tuple,
};
use proptest::prelude::*;

/// Payloads that often look like FTP: a pattern prefix then noise.
fn payload() -> impl Strategy<Value = Vec<u8>> {
    let prefix = prop::sample::select(vec![
        &b""[..],
        b"PORT ",
        b"port ",
        b"EPRT |1|",
        b"EPRT |2|",
        b"227 Entering Passive Mode (",
        b"227 ",
        b"229 (|||",
        b"22",
        b"PWD\r\nPORT ",
        b"PORT 1,2,3,4,5,6\r\nEPRT |1|",
        b"150 ok\r\n227 (",
    ]);
    let tail = prop::collection::vec(
        prop_oneof![
            any::<u8>(),
            prop::sample::select(b"0123456789,.|:()\r\n ".to_vec()),
        ],
        0..80,
    );
    (prefix, tail).prop_map(|(p, t)| [p, &t[..]].concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4000))]

    #[test]
    fn never_panics(
        conn in conn(L4Proto::Tcp),
        reply in any::<bool>(),
        loose in any::<bool>(),
        payload in payload(),
        seq in any::<Option<u32>>(),
        state in any::<[u8; 32]>(),
        zero_state in any::<bool>(),
        clash_mask in any::<u16>(),
        fail in prop::option::of(prop::sample::select(vec![ExpectError::Clash, ExpectError::Full, ExpectError::Refused])),
        seed in any::<u32>(),
    ) {
        let info = helpers::registry::find("ftp").unwrap();
        let mut params: Params = info.default_params();
        params.set(info.params, "loose", helpers::ParamValue::Bool(loose)).unwrap();
        let h = Ftp::new(&params, &info.default_policies());
        let dir = if reply { Dir::Reply } else { Dir::Original };
        let state = if zero_state { PrivData::ZERO } else { PrivData(state) };
        let pkt = Packet { conn, dir, payload: &payload, tcp_seq: seq, state, ..Packet::EMPTY };
        let mut env = PropEnv { clash_mask, fail, seed, ..Default::default() };
        let out = Done::new(h.handle(&pkt, &mut env), &mut env);
        let edited = edit::apply(&payload, &out.edits).unwrap();
        // Every line is parsed: at most one command per line that starts in
        // the payload (one, for a payload without an inner newline).
        let lines = 1 + payload.iter().rev().skip(1).filter(|&&b| b == b'\n').count();
        // Bounded work: per command at most the first try plus 128 random
        // ports.
        prop_assert!(env.calls.len() <= 129 * lines);
        prop_assert!(out.expectations.len() <= lines);
        if out.incomplete == Some(0) {
            prop_assert!(out.expectations.is_empty() && out.edits.is_empty() && out.state.is_none());
        }
        // A held line: what comes before it is handled, the line itself is
        // untouched, its start is a line start, and alone it is held again.
        if let Some(at) = out.incomplete {
            prop_assert!(!out.drop && at < payload.len());
            prop_assert!(at == 0 || payload[at - 1] == b'\n');
            prop_assert!(!payload[at..].contains(&b'\n'));
            prop_assert!(out.edits.iter().all(|e| e.offset + e.len <= at));
            let tail_seq = seq.map(|s| s.wrapping_add(at as u32));
            let st = out.state.unwrap_or(state);
            // (A state the helper cannot have written — line starts known
            // in a direction never seen — may refuse the new line start, as
            // update_nl_seq() refuses one older than both it knows.)
            let was = *FtpState::decode(&state).dir(dir);
            if was.seen || was.num == 0 {
                if let Some(s) = tail_seq {
                    prop_assert!(FtpState::decode(&st).dir(dir).at_line_start(s));
                }
                let tail = Packet { payload: &payload[at..], tcp_seq: tail_seq, state: st, ..pkt };
                let mut env2 = PropEnv { clash_mask, fail, seed, ..Default::default() };
                prop_assert_eq!(h.handle(&tail, &mut env2).incomplete, Some(0));
            }
        }
        if !conn.nat() {
            prop_assert!(out.edits.is_empty());
            prop_assert_eq!(&edited, &payload);
        }
        for e in &out.expectations {
            prop_assert_eq!(e.proto, L4Proto::Tcp);
            prop_assert_eq!(e.sport, None);
            prop_assert!(e.dport != 0);
        }
        if let Some(s) = out.state {
            prop_assert!(s.0[ftp::STATE_LEN..].iter().all(|&b| b == 0));
        }
    }

    #[test]
    fn port_round_trip(a in any::<[u8; 4]>(), port in 1u16..) {
        let text = ftp::format_port(Ipv4Addr::from(a), port);
        let line = format!("PORT {text}\r\n");
        let Parsed::Match(c) = ftp::parse(line.as_bytes(), Dir::Original, false) else {
            return Err(TestCaseError::fail(format!("no match: {line}")));
        };
        prop_assert_eq!(c.kind, Kind::Port);
        prop_assert_eq!(c.addr, Some(IpAddr::V4(Ipv4Addr::from(a))));
        prop_assert_eq!(c.port, port);
        prop_assert_eq!(&line.as_bytes()[c.off..c.off + c.len], text.as_bytes());
        // And as a 227 reply.
        let line = format!("227 Entering Passive Mode ({text})\r\n");
        let Parsed::Match(c) = ftp::parse(line.as_bytes(), Dir::Reply, false) else {
            return Err(TestCaseError::fail(format!("no match: {line}")));
        };
        prop_assert_eq!((c.kind, c.addr, c.port), (Kind::Pasv, Some(IpAddr::V4(Ipv4Addr::from(a))), port));
        prop_assert_eq!(&line.as_bytes()[c.off..c.off + c.len], text.as_bytes());
    }

    #[test]
    fn eprt_round_trip(v6 in any::<bool>(), a4 in any::<[u8; 4]>(), a6 in any::<[u16; 8]>(), port in 1u16..) {
        let a = if v6 { IpAddr::V6(Ipv6Addr::from(a6)) } else { IpAddr::V4(Ipv4Addr::from(a4)) };
        let text = ftp::format_eprt(a, port);
        let line = format!("EPRT {text}\r\n");
        let Parsed::Match(c) = ftp::parse(line.as_bytes(), Dir::Original, v6) else {
            return Err(TestCaseError::fail(format!("no match: {line}")));
        };
        prop_assert_eq!((c.kind, c.addr, c.port), (Kind::Eprt, Some(a), port));
        prop_assert_eq!(&line.as_bytes()[c.off..c.off + c.len], text.as_bytes());
        // Compressed IPv6 text parses to the same address.
        if let IpAddr::V6(x) = a {
            let line = format!("EPRT |2|{x}|{port}|\r\n");
            let parsed = ftp::parse(line.as_bytes(), Dir::Original, true);
            prop_assert!(matches!(parsed, Parsed::Match(c) if c.addr == Some(a) && c.port == port));
        }
    }

    #[test]
    fn epsv_round_trip(port in 1u16..) {
        let text = ftp::format_epsv(port);
        let line = format!("229 Entering Extended Passive Mode ({text})\r\n");
        let Parsed::Match(c) = ftp::parse(line.as_bytes(), Dir::Reply, false) else {
            return Err(TestCaseError::fail(format!("no match: {line}")));
        };
        prop_assert_eq!((c.kind, c.addr, c.port), (Kind::Epsv, None, port));
        prop_assert_eq!(&line.as_bytes()[c.off..c.off + c.len], text.as_bytes());
    }

    /// A NATed PORT always becomes a PORT naming the NAT address and the
    /// port of the expectation, whatever the lengths.
    #[test]
    fn nat_rewrite_parses_back(client in any::<[u8; 4]>(), nat in any::<[u8; 4]>(), server in any::<[u8; 4]>(), port in 1u16.., clash_mask in any::<u16>(), seed in any::<u32>()) {
        let (client, nat, server) = (IpAddr::from(client), IpAddr::from(nat), IpAddr::from(server));
        prop_assume!(client != nat);
        let conn = ConnView {
            orig: Tuple { src: client, dst: server, proto: L4Proto::Tcp, sport: 40000, dport: 21 },
            reply: Tuple { src: server, dst: nat, proto: L4Proto::Tcp, sport: 21, dport: 40000 },
        };
        let IpAddr::V4(c4) = client else { unreachable!() };
        let payload = format!("PORT {}\r\n", ftp::format_port(c4, port));
        let h = Ftp { loose: false };
        let mut env = PropEnv { clash_mask, fail: None, seed, ..Default::default() };
        let pkt = Packet { conn, dir: Dir::Original, payload: payload.as_bytes(), tcp_seq: Some(1), state: PrivData::ZERO, ..Packet::EMPTY };
        let out = Done::new(h.handle(&pkt, &mut env), &mut env);
        if out.drop {
            prop_assert!(out.expectations.is_empty());
            return Ok(());
        }
        let e = &out.expectations[0];
        prop_assert_eq!(e.dst, nat);
        prop_assert_eq!(e.src, SrcAddr::Exact(server));
        let edited = edit::apply(payload.as_bytes(), &out.edits).unwrap();
        let Parsed::Match(c) = ftp::parse(&edited, Dir::Original, false) else {
            return Err(TestCaseError::fail("rewrite does not parse"));
        };
        prop_assert_eq!((c.addr, c.port), (Some(nat), e.dport));
        prop_assert_eq!(out.delta(), edited.len() as isize - payload.len() as isize);
    }
}
