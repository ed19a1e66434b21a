//! IRC DCC helper: every command, forged offers, IPv6, NAT rewrites (exact
//! bytes), port search, segments.

mod common;
use common::{ip, tcp, Done};

use helpers::irc::{self, Irc};
use helpers::testing::TestEnv;
use helpers::{
    edit, ConnView, Dir, ExpectError, ExpectNat, Expectation, Helper, L4Proto, Outcome, Packet,
    ParamValue, PrivData, SrcAddr,
};

fn plain_v4() -> ConnView {
    ConnView::plain(tcp("192.168.1.10", 40000, "10.0.0.2", 6667))
}

/// 192.168.1.10 masqueraded to 198.51.100.1:61000 towards 203.0.113.5.
fn snat_v4() -> ConnView {
    ConnView {
        orig: tcp("192.168.1.10", 40000, "203.0.113.5", 6667),
        reply: tcp("203.0.113.5", 6667, "198.51.100.1", 61000),
    }
}

fn plain_v6() -> ConnView {
    ConnView::plain(tcp("2001:db8:1::10", 40000, "2001:db8:2::2", 6667))
}

fn snat_v6() -> ConnView {
    ConnView {
        orig: tcp("fd00::10", 40000, "2001:db8:2::2", 6667),
        reply: tcp("2001:db8:2::2", 6667, "2001:db8:ffff::1", 40000),
    }
}

fn run(conn: ConnView, dir: Dir, payload: &[u8], env: &mut TestEnv) -> (Done, Vec<u8>) {
    let pkt = Packet {
        conn,
        dir,
        payload,
        tcp_seq: Some(1000),
        state: PrivData::ZERO,
        ..Packet::EMPTY
    };
    let before: Vec<Expectation> = env.live().cloned().collect();
    let out = Irc.handle(&pkt, env);
    let edited = edit::apply(payload, &out.edits).unwrap();
    assert!(out.state.is_none());
    if !conn.nat() {
        assert!(out.edits.is_empty(), "no rewrite without NAT");
    }
    let out = Done::checked(out, env, &before);
    if before.is_empty() {
        assert_eq!(out.expectations, env.created);
    }
    (out, edited)
}

fn reasons(o: &Outcome) -> Vec<&'static str> {
    o.events.iter().map(|e| e.reason.name()).collect()
}

// 192.168.1.10 = 3232235786, 198.51.100.1 = 3325256705.
const SEND: &[u8] = b"PRIVMSG bob :\x01DCC SEND report.pdf 3232235786 5000 48213\x01\r\n";

#[test]
fn send_without_nat() {
    let mut env = TestEnv::default();
    let (out, edited) = run(plain_v4(), Dir::Original, SEND, &mut env);
    assert_eq!(edited, SEND);
    assert!(out.events.is_empty());
    assert_eq!(
        out.expectations,
        vec![Expectation::new(0, L4Proto::Tcp, ip("192.168.1.10"), 5000)]
    );
}

#[test]
fn every_command() {
    for cmd in ["SEND f", "CHAT chat", "MOVE f", "TSEND f", "SCHAT chat"] {
        let p = format!("PRIVMSG bob :\x01DCC {cmd} 3232235786 1024\x01\r\n");
        let mut env = TestEnv::default();
        let (out, _) = run(plain_v4(), Dir::Original, p.as_bytes(), &mut env);
        assert_eq!(out.expectations.len(), 1, "{cmd}");
        assert_eq!(out.expectations[0].dport, 1024);
    }
}

#[test]
fn server_direction_is_ignored() {
    let mut env = TestEnv::default();
    let (out, _) = run(plain_v4(), Dir::Reply, SEND, &mut env);
    assert!(env.calls.is_empty() && out.events.is_empty());
}

#[test]
fn leading_blanks_and_several_lines() {
    let p = b"\r\nPING :x\r\n  PRIVMSG a :\x01DCC CHAT chat 3232235786 4000\x01\r\nPRIVMSG b :\x01DCC SEND f 3232235786 4001 7\x01\r\n";
    let mut env = TestEnv::default();
    let (out, _) = run(plain_v4(), Dir::Original, p, &mut env);
    let ports: Vec<u16> = out.expectations.iter().map(|e| e.dport).collect();
    assert_eq!(ports, vec![4000, 4001]);
}

#[test]
fn forged_offers_are_refused() {
    for p in [
        // Another host.
        &b"PRIVMSG bob :\x01DCC SEND f 167772161 5000 1\x01\r\n"[..],
        // Port 0.
        b"PRIVMSG bob :\x01DCC SEND f 3232235786 0 1\x01\r\n",
        // The server's address.
        b"PRIVMSG bob :\x01DCC CHAT chat 167772162 5000\x01\r\n",
    ] {
        let mut env = TestEnv::default();
        let (out, _) = run(plain_v4(), Dir::Original, p, &mut env);
        assert!(env.calls.is_empty());
        assert_eq!(reasons(&out), vec!["forged"]);
    }
    // Low ports are not refused (kernel parity).
    let mut env = TestEnv::default();
    let (out, _) = run(
        plain_v4(),
        Dir::Original,
        b"PRIVMSG bob :\x01DCC CHAT chat 3232235786 80\x01\r\n",
        &mut env,
    );
    assert_eq!(out.expectations[0].dport, 80);
}

#[test]
fn the_natted_address_is_not_forged() {
    // The client advertises its public address (learned from the server).
    let p = b"PRIVMSG bob :\x01DCC SEND f 3325256705 5000 1\x01\r\n";
    let mut env = TestEnv::default();
    let (out, edited) = run(snat_v4(), Dir::Original, p, &mut env);
    assert_eq!(out.expectations.len(), 1);
    assert_eq!(edited, p, "same bytes: no edit");
    assert!(out.edits.is_empty());
}

#[test]
fn malformed_numbers() {
    for p in [
        &b"PRIVMSG b :\x01DCC SEND f 4294967296 5000 1\x01\r\n"[..],
        b"PRIVMSG b :\x01DCC SEND f 99999999999999999999999 5000 1\x01\r\n",
        b"PRIVMSG b :\x01DCC SEND f 3232235786 65536 1\x01\r\n",
        b"PRIVMSG b :\x01DCC SEND f 3232235786 99999999999 1\x01\r\n",
        b"PRIVMSG b :\x01DCC SEND f 3232235786\x01\r\n",
        b"PRIVMSG b :\x01DCC SEND f x 5000\x01\r\n",
    ] {
        let mut env = TestEnv::default();
        let (out, _) = run(plain_v4(), Dir::Original, p, &mut env);
        assert!(env.calls.is_empty());
        assert_eq!(reasons(&out), vec!["malformed"], "{p:?}");
        assert!(!out.drop);
    }
}

#[test]
fn nat_rewrite_exact_bytes() {
    let mut env = TestEnv::default();
    let (out, edited) = run(snat_v4(), Dir::Original, SEND, &mut env);
    assert_eq!(
        edited,
        b"PRIVMSG bob :\x01DCC SEND report.pdf 3325256705 5000 48213\x01\r\n"
    );
    assert_eq!(
        out.expectations,
        vec![Expectation {
            nat: Some(ExpectNat::follow_master(
                Dir::Reply,
                ip("192.168.1.10"),
                5000
            )),
            ..Expectation::new(0, L4Proto::Tcp, ip("198.51.100.1"), 5000)
        }]
    );
}

#[test]
fn nat_rewrite_changes_length() {
    // 10.0.0.9 = 167772169 (9 digits) NATed to 198.51.100.1 (10 digits).
    let conn = ConnView {
        orig: tcp("10.0.0.9", 40000, "203.0.113.5", 6667),
        reply: tcp("203.0.113.5", 6667, "198.51.100.1", 61000),
    };
    let p = b"PRIVMSG bob :\x01DCC CHAT chat 167772169  7000\x01\r\n";
    let mut env = TestEnv::default();
    let (out, edited) = run(conn, Dir::Original, p, &mut env);
    assert_eq!(
        edited,
        b"PRIVMSG bob :\x01DCC CHAT chat 3325256705 7000\x01\r\n"
    );
    assert_eq!(out.delta(), 0, "one digit more, one blank less");
    let p = b"PRIVMSG bob :\x01DCC CHAT chat 167772169 7000\x01\r\n";
    let mut env = TestEnv::default();
    let (out, _) = run(conn, Dir::Original, p, &mut env);
    assert_eq!(out.delta(), 1);
}

#[test]
fn nat_port_search_on_clash() {
    let mut env = TestEnv::default();
    env.clash.insert(5000);
    env.randoms.push_back(1234);
    let (out, edited) = run(snat_v4(), Dir::Original, SEND, &mut env);
    // 5000 + 1234 % (65535 - 5000)
    assert_eq!(out.expectations[0].dport, 6234);
    assert_eq!(out.expectations[0].nat.unwrap().saved_port, 5000);
    assert_eq!(
        edited,
        b"PRIVMSG bob :\x01DCC SEND report.pdf 3325256705 6234 48213\x01\r\n"
    );
    assert_eq!(env.calls.len(), 2);
}

#[test]
fn nat_all_ports_in_use_drops() {
    let mut env = TestEnv {
        clash_all: true,
        ..TestEnv::default()
    };
    let (out, _) = run(snat_v4(), Dir::Original, SEND, &mut env);
    assert!(out.drop);
    assert!(out.edits.is_empty() && out.expectations.is_empty());
    assert_eq!(env.calls.len(), 129);
    assert_eq!(reasons(&out), vec!["nat_failed"]);
}

#[test]
fn nat_failure_withdraws_earlier_offers_of_the_packet() {
    let p = b"PRIVMSG a :\x01DCC CHAT chat 3232235786 4000\x01\r\nPRIVMSG b :\x01DCC SEND f 3232235786 4001 7\x01\r\n";
    // The second offer clashes on every port: 4001 + 0 % range is 4001.
    let mut env2 = TestEnv {
        clash: [4001].into_iter().collect(),
        ..TestEnv::default()
    };
    env2.randoms.extend(std::iter::repeat_n(0, 200));
    let (out, _) = run(snat_v4(), Dir::Original, p, &mut env2);
    assert!(out.drop);
    assert!(env2.created.is_empty(), "the first offer was withdrawn");
    assert_eq!(env2.unexpected.len(), 1);
    assert_eq!(env2.unexpected_unknown, 0);
}

#[test]
fn refused_expectation_without_nat_fails_open() {
    for e in [ExpectError::Full, ExpectError::Clash, ExpectError::Refused] {
        let mut env = TestEnv {
            fail: Some(e),
            ..TestEnv::default()
        };
        let (out, _) = run(plain_v4(), Dir::Original, SEND, &mut env);
        assert!(!out.drop);
        assert_eq!(reasons(&out), vec!["expect_failed"]);
    }
}

#[test]
fn ipv6_literal() {
    let p = b"PRIVMSG bob :\x01DCC SEND f 2001:db8:1::10 5000 12\x01\r\n";
    let mut env = TestEnv::default();
    let (out, _) = run(plain_v6(), Dir::Original, p, &mut env);
    assert_eq!(out.expectations.len(), 1);
    assert_eq!(out.expectations[0].dst, ip("2001:db8:1::10"));
    assert_eq!(out.expectations[0].src, SrcAddr::Any);
    // Any spelling of the same address.
    let p = b"PRIVMSG bob :\x01DCC SEND f 2001:0db8:0001:0:0:0:0:0010 5000 12\x01\r\n";
    let mut env = TestEnv::default();
    let (out, _) = run(plain_v6(), Dir::Original, p, &mut env);
    assert_eq!(out.expectations.len(), 1);
    // Forged on v6.
    let p = b"PRIVMSG bob :\x01DCC SEND f 2001:db8:1::11 5000 12\x01\r\n";
    let mut env = TestEnv::default();
    let (out, _) = run(plain_v6(), Dir::Original, p, &mut env);
    assert_eq!(reasons(&out), vec!["forged"]);
}

#[test]
fn ipv6_nat_rewrite() {
    let p = b"PRIVMSG bob :\x01DCC SEND f fd00::10 5000 12\x01\r\n";
    let mut env = TestEnv::default();
    let (out, edited) = run(snat_v6(), Dir::Original, p, &mut env);
    assert_eq!(
        edited,
        b"PRIVMSG bob :\x01DCC SEND f 2001:db8:ffff::1 5000 12\x01\r\n"
    );
    assert_eq!(out.expectations[0].dst, ip("2001:db8:ffff::1"));
    assert_eq!(out.expectations[0].nat.unwrap().saved_addr, ip("fd00::10"));
}

#[test]
fn family_mismatch() {
    let mut env = TestEnv::default();
    let (out, _) = run(plain_v6(), Dir::Original, SEND, &mut env);
    assert_eq!(reasons(&out), vec!["family"]);
    let p = b"PRIVMSG bob :\x01DCC SEND f 2001:db8:1::10 5000 12\x01\r\n";
    let mut env = TestEnv::default();
    let (out, _) = run(plain_v4(), Dir::Original, p, &mut env);
    assert_eq!(reasons(&out), vec!["family"]);
}

#[test]
fn split_offer_asks_for_more() {
    let (a, b) = SEND.split_at(40);
    let mut env = TestEnv::default();
    let (out, _) = run(plain_v4(), Dir::Original, a, &mut env);
    assert!(out.incomplete == Some(0) && env.calls.is_empty() && out.edits.is_empty());
    assert_eq!(reasons(&out), vec!["partial"]);
    let joined = [a, b].concat();
    let (out, _) = run(plain_v4(), Dir::Original, &joined, &mut env);
    assert_eq!(out.incomplete, None);
    assert_eq!(out.expectations.len(), 1);
    // Plain chat cut in the middle needs nothing.
    let (out, _) = run(
        plain_v4(),
        Dir::Original,
        b"PRIVMSG bob :hello th",
        &mut TestEnv::default(),
    );
    assert!(out.incomplete.is_none() && out.events.is_empty());
}

#[test]
fn search_is_bounded() {
    // An offer that starts beyond the search window is not seen.
    let mut p = b"PRIVMSG a :".to_vec();
    p.resize(irc::MAX_SEARCH_SIZE - 10, b'x');
    p.extend_from_slice(b"\r\n");
    p.extend_from_slice(SEND);
    let mut env = TestEnv::default();
    let (out, _) = run(plain_v4(), Dir::Original, &p, &mut env);
    assert!(env.calls.is_empty() && out.incomplete.is_none());
    assert_eq!(reasons(&out), vec!["too_long"]);
    // Inside it, it is.
    let mut p = b"PRIVMSG a :".to_vec();
    p.resize(irc::MAX_SEARCH_SIZE - SEND.len() - 2, b'x');
    p.extend_from_slice(b"\r\n");
    p.extend_from_slice(SEND);
    assert_eq!(p.len(), irc::MAX_SEARCH_SIZE);
    let mut env = TestEnv::default();
    let (out, _) = run(plain_v4(), Dir::Original, &p, &mut env);
    assert_eq!(out.expectations.len(), 1);
}

#[test]
fn params_shape_the_policy() {
    let info = &irc::INFO;
    let mut p = info.default_params();
    assert_eq!(irc::policies(&p), info.default_policies());
    p.set(info.params, "max_dcc_channels", ParamValue::U32(3))
        .unwrap();
    p.set(info.params, "dcc_timeout", ParamValue::U32(60))
        .unwrap();
    let pol = irc::policies(&p);
    assert_eq!((pol[0].max_expected, pol[0].timeout), (3, 60));
    assert!(p
        .set(info.params, "max_dcc_channels", ParamValue::U32(0))
        .is_err());
    assert!(p
        .set(info.params, "max_dcc_channels", ParamValue::U32(256))
        .is_err());
    assert_eq!(info.priv_len, 0);
}

#[test]
fn server_dnat_only_keeps_the_offer() {
    // The client is not translated, the server is (DNAT): the offer stays,
    // the expectation still follows the master.
    let conn = ConnView {
        orig: tcp("198.51.100.7", 40000, "203.0.113.1", 6667),
        reply: tcp("10.0.0.5", 6667, "198.51.100.7", 40000),
    };
    // 198.51.100.7 = 3325256711.
    let p = b"PRIVMSG bob :\x01DCC SEND f 3325256711 5000 1\x01\r\n";
    let mut env = TestEnv::default();
    let (out, edited) = run(conn, Dir::Original, p, &mut env);
    assert_eq!(edited, p);
    assert!(out.edits.is_empty());
    assert_eq!(out.expectations[0].dst, ip("198.51.100.7"));
    assert_eq!(out.expectations[0].nat.unwrap().dir, Dir::Reply);
}

// --- the unfinished tail after complete lines (issue 16, item 4) -----------

/// 10.0.0.1 (= 167772161) talks to the server 10.0.0.2.
fn plain_ten() -> ConnView {
    ConnView::plain(tcp("10.0.0.1", 40000, "10.0.0.2", 6667))
}

/// 10.0.0.1 masqueraded to 198.51.100.1 (= 3325256705).
fn snat_ten() -> ConnView {
    ConnView {
        orig: tcp("10.0.0.1", 40000, "203.0.113.5", 6667),
        reply: tcp("203.0.113.5", 6667, "198.51.100.1", 61000),
    }
}

const LINE_A: &[u8] = b"PRIVMSG bob :\x01DCC SEND a 167772161 5555 12\x01\r\n";
const TAIL_B: &[u8] = b"PRIVMSG bob :\x01DCC SE";
const SEG2_B: &[u8] = b"ND b 167772161 5556 12\x01\r\n";

#[test]
fn tail_after_a_complete_line_is_held() {
    let seg1 = [LINE_A, TAIL_B].concat();
    let mut env = TestEnv::default();
    let (out, edited) = run(plain_ten(), Dir::Original, &seg1, &mut env);
    // The first line is handled ...
    assert_eq!(
        out.expectations,
        vec![Expectation::new(0, L4Proto::Tcp, ip("10.0.0.1"), 5555)]
    );
    // ... and the second is held from its start.
    assert_eq!(out.incomplete, Some(LINE_A.len()));
    assert_eq!(reasons(&out), vec!["partial"]);
    assert_eq!(edited, seg1);
    // The flow core calls again with the held line and the next segment.
    let again = [&seg1[LINE_A.len()..], SEG2_B].concat();
    assert_eq!(
        again,
        b"PRIVMSG bob :\x01DCC SEND b 167772161 5556 12\x01\r\n"
    );
    let (out, _) = run(plain_ten(), Dir::Original, &again, &mut env);
    assert_eq!(
        out.expectations,
        vec![Expectation::new(0, L4Proto::Tcp, ip("10.0.0.1"), 5556)]
    );
    assert!(out.incomplete.is_none() && out.events.is_empty());
    assert_eq!(
        env.created.iter().map(|e| e.dport).collect::<Vec<_>>(),
        vec![5555, 5556]
    );
}

#[test]
fn tail_after_a_complete_line_is_held_under_nat() {
    let seg1 = [LINE_A, TAIL_B].concat();
    let mut env = TestEnv::default();
    let (out, edited) = run(snat_ten(), Dir::Original, &seg1, &mut env);
    assert_eq!(out.incomplete, Some(LINE_A.len()));
    // The edits cover the first line only; the held bytes are unchanged.
    assert!(out.edits.iter().all(|e| e.offset + e.len <= LINE_A.len()));
    assert_eq!(
        edited,
        b"PRIVMSG bob :\x01DCC SEND a 3325256705 5555 12\x01\r\nPRIVMSG bob :\x01DCC SE"
    );
    assert_eq!(out.delta(), 1);
    assert_eq!(
        out.expectations,
        vec![Expectation {
            nat: Some(ExpectNat::follow_master(Dir::Reply, ip("10.0.0.1"), 5555)),
            ..Expectation::new(0, L4Proto::Tcp, ip("198.51.100.1"), 5555)
        }]
    );
    // Second call: offsets are relative to its own payload.
    let again = [TAIL_B, SEG2_B].concat();
    let (out, edited) = run(snat_ten(), Dir::Original, &again, &mut env);
    assert_eq!(
        edited,
        b"PRIVMSG bob :\x01DCC SEND b 3325256705 5556 12\x01\r\n"
    );
    let at = again.windows(9).position(|w| w == b"167772161").unwrap();
    assert_eq!(
        (out.edits[0].offset, out.edits[0].len),
        (at, "167772161 5556".len())
    );
    assert_eq!(out.expectations[0].dport, 5556);
    assert_eq!(out.expectations[0].dst, ip("198.51.100.1"));
    assert!(out.incomplete.is_none());
}

#[test]
fn tail_after_other_lines_is_held_from_its_start() {
    // Nothing of interest before it: held from the line, not the packet.
    let p = b"PING :x\r\nPRIVMSG bob :\x01DCC SE";
    let mut env = TestEnv::default();
    let (out, _) = run(plain_ten(), Dir::Original, p, &mut env);
    assert_eq!(out.incomplete, Some(9));
    assert!(env.calls.is_empty());
    // A malformed offer before it is counted and does not stop the hold.
    let bad: &[u8] = b"PRIVMSG b :\x01DCC SEND f x 5000\x01\r\n";
    let p = [bad, TAIL_B].concat();
    let (out, _) = run(plain_ten(), Dir::Original, &p, &mut env);
    assert_eq!(out.incomplete, Some(bad.len()));
    assert_eq!(reasons(&out), vec!["malformed", "partial"]);
    // A tail that cannot become a DCC is not held.
    let p = [LINE_A, b"PRIVMSG bob :hello th"].concat();
    let (out, _) = run(plain_ten(), Dir::Original, &p, &mut env);
    assert_eq!(out.incomplete, None);
    assert_eq!(out.expectations.len(), 1);
}

#[test]
fn dropped_packet_holds_nothing() {
    let seg1 = [LINE_A, TAIL_B].concat();
    let mut env = TestEnv {
        clash_all: true,
        ..TestEnv::default()
    };
    let (out, _) = run(snat_ten(), Dir::Original, &seg1, &mut env);
    assert!(out.drop && out.edits.is_empty() && out.expectations.is_empty());
    assert_eq!(out.incomplete, None);
    assert_eq!(reasons(&out), vec!["nat_failed"]);
}

#[test]
fn parameters_are_typed() {
    let info = &irc::INFO;
    let mut p = info.default_params();
    assert_eq!(
        (p.get(irc::MAX_DCC_CHANNELS), p.get(irc::DCC_TIMEOUT)),
        (8, 300)
    );
    p.set(
        info.params,
        irc::MAX_DCC_CHANNELS.name(),
        ParamValue::U32(3),
    )
    .unwrap();
    assert_eq!(p.get(irc::MAX_DCC_CHANNELS), 3);
    assert_eq!(irc::policies(&p)[0].max_expected, 3);
    assert_eq!(
        info.params,
        &[irc::MAX_DCC_CHANNELS.spec, irc::DCC_TIMEOUT.spec]
    );
}

#[test]
fn nat_failure_withdraws_a_shared_port_once() {
    let p = b"PRIVMSG a :\x01DCC CHAT chat 3232235786 4000\x01\r\nPRIVMSG a :\x01DCC CHAT chat 3232235786 4000\x01\r\nPRIVMSG b :\x01DCC SEND f 3232235786 4001 7\x01\r\n";
    let mut env = TestEnv {
        clash: [4001].into_iter().collect(),
        ..TestEnv::default()
    };
    env.randoms.extend(std::iter::repeat_n(0, 200));
    let (out, _) = run(snat_v4(), Dir::Original, p, &mut env);
    assert!(out.drop);
    assert!(env.created.is_empty());
    assert_eq!(env.unexpected.len(), 1, "one expectation for port 4000");
    assert_eq!(env.unexpected_unknown, 0);
}
