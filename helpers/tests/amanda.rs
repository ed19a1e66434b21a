//! Amanda helper: CONNECT streams, bad numbers, NAT rewrites (exact bytes),
//! port search, master_timeout.

mod common;
use common::{ip, udp, Done};

use helpers::amanda::{self, Amanda};
use helpers::testing::TestEnv;
use helpers::{
    edit, ConnView, Dir, ExpectError, ExpectNat, Expectation, Helper, L4Proto, Outcome, Packet,
    ParamValue, PrivData, SrcAddr,
};

/// Backup server 10.0.0.2 asks amandad on 192.168.1.10.
fn plain_v4() -> ConnView {
    ConnView::plain(udp("10.0.0.2", 850, "192.168.1.10", 10080))
}

/// The server 10.0.0.2 reaches amandad through the router's public
/// 203.0.113.1:10080, DNATed to 192.168.1.10; the server is masqueraded to
/// 192.168.1.1:40000 on the inside.
fn nat_v4() -> ConnView {
    ConnView {
        orig: udp("10.0.0.2", 850, "203.0.113.1", 10080),
        reply: udp("192.168.1.10", 10080, "192.168.1.1", 40000),
    }
}

fn plain_v6() -> ConnView {
    ConnView::plain(udp("2001:db8:2::2", 850, "2001:db8:1::10", 10080))
}

fn helper() -> Amanda {
    let info = &amanda::INFO;
    Amanda::new(&info.default_params(), &info.default_policies())
}

fn run(conn: ConnView, dir: Dir, payload: &[u8], env: &mut TestEnv) -> (Done, Vec<u8>) {
    let pkt = Packet {
        conn,
        dir,
        payload,
        tcp_seq: None,
        state: PrivData::ZERO,
        ..Packet::EMPTY
    };
    let out = helper().handle(&pkt, env);
    let edited = edit::apply(payload, &out.edits).unwrap();
    assert!(out.state.is_none() && out.incomplete.is_none());
    if !conn.nat() {
        assert!(out.edits.is_empty());
    }
    let out = Done::new(out, env);
    assert_eq!(out.expectations, env.created);
    (out, edited)
}

fn reasons(o: &Outcome) -> Vec<&'static str> {
    o.events.iter().map(|e| e.reason.name()).collect()
}

const REP: &[u8] = b"Amanda 3.5 REP HANDLE 000-e8c70108 SEQ 1700000000\nCONNECT DATA 50001 MESG 50002 INDEX 50003 STATE 50004\nOPTIONS features=ffffffff;\n";

fn exp(src: &str, dst: &str, port: u16, nat: Option<ExpectNat>) -> Expectation {
    Expectation {
        src: SrcAddr::Exact(ip(src)),
        nat,
        ..Expectation::new(0, L4Proto::Tcp, ip(dst), port)
    }
}

#[test]
fn four_streams_without_nat() {
    let mut env = TestEnv::default();
    let (out, edited) = run(plain_v4(), Dir::Reply, REP, &mut env);
    assert_eq!(edited, REP);
    assert!(out.events.is_empty());
    assert_eq!(
        out.expectations,
        (50001..=50004)
            .map(|p| exp("10.0.0.2", "192.168.1.10", p, None))
            .collect::<Vec<_>>()
    );
}

#[test]
fn any_subset_and_order_of_keywords() {
    let p = b"CONNECT INDEX 7000 DATA 7001\n";
    let mut env = TestEnv::default();
    let (out, _) = run(plain_v4(), Dir::Reply, p, &mut env);
    // Kernel order: DATA first, then INDEX.
    let ports: Vec<u16> = out.expectations.iter().map(|e| e.dport).collect();
    assert_eq!(ports, vec![7001, 7000]);
}

#[test]
fn server_direction_is_ignored() {
    let mut env = TestEnv::default();
    let (out, _) = run(plain_v4(), Dir::Original, REP, &mut env);
    assert!(env.calls.is_empty() && out.events.is_empty());
}

#[test]
fn ipv6() {
    let mut env = TestEnv::default();
    let (out, _) = run(plain_v6(), Dir::Reply, b"CONNECT DATA 50001\n", &mut env);
    assert_eq!(
        out.expectations,
        vec![exp("2001:db8:2::2", "2001:db8:1::10", 50001, None)]
    );
}

#[test]
fn bad_numbers_stop_the_search() {
    for (p, n) in [
        (&b"CONNECT DATA 50001 MESG 0 INDEX 50003\n"[..], 1),
        (b"CONNECT DATA 65536 MESG 50002\n", 0),
        (b"CONNECT DATA 123456 MESG 50002\n", 0),
        (b"CONNECT DATA 99999999999999999999999\n", 0),
        (b"CONNECT DATA -1\n", 0),
        (b"CONNECT DATA 50001 MESG x\n", 1),
    ] {
        let mut env = TestEnv::default();
        let (out, _) = run(plain_v4(), Dir::Reply, p, &mut env);
        assert_eq!(out.expectations.len(), n, "{p:?}");
        assert_eq!(reasons(&out), vec!["malformed"]);
        assert!(!out.drop);
    }
}

#[test]
fn incomplete_and_empty() {
    let mut env = TestEnv::default();
    let (out, _) = run(plain_v4(), Dir::Reply, b"CONNECT DATA 50001", &mut env);
    assert!(env.calls.is_empty());
    assert_eq!(reasons(&out), vec!["malformed"]);
    let (out, _) = run(plain_v4(), Dir::Reply, b"", &mut env);
    assert_eq!(reasons(&out), vec!["truncated"]);
    let (out, _) = run(plain_v4(), Dir::Reply, b"Amanda 3.5 ACK\n", &mut env);
    assert!(out.events.is_empty() && env.calls.is_empty());
}

#[test]
fn nat_keeps_free_ports() {
    let mut env = TestEnv::default();
    let (out, edited) = run(nat_v4(), Dir::Reply, REP, &mut env);
    assert_eq!(edited, REP, "free ports are written back unchanged");
    assert!(out.edits.is_empty());
    assert_eq!(
        out.expectations[0],
        exp(
            "10.0.0.2",
            "203.0.113.1",
            50001,
            Some(ExpectNat::follow_master(
                Dir::Original,
                ip("192.168.1.10"),
                50001
            ))
        )
    );
    assert_eq!(out.expectations.len(), 4);
}

#[test]
fn nat_port_search_rewrites_digits() {
    let mut env = TestEnv::default();
    env.clash.insert(50002);
    env.randoms.push_back(3);
    let (out, edited) = run(nat_v4(), Dir::Reply, REP, &mut env);
    assert_eq!(
        edited,
        b"Amanda 3.5 REP HANDLE 000-e8c70108 SEQ 1700000000\nCONNECT DATA 50001 MESG 50005 INDEX 50003 STATE 50004\nOPTIONS features=ffffffff;\n"
    );
    let mesg = &out.expectations[1];
    assert_eq!(mesg.dport, 50005);
    assert_eq!(mesg.nat.unwrap().saved_port, 50002);
}

#[test]
fn nat_rewrite_changes_length() {
    // Leading zeros go, and a short port can become a long one.
    let p = b"CONNECT DATA 00080 MESG 9\n";
    let mut env = TestEnv::default();
    env.clash.insert(9);
    env.randoms.push_back(40000);
    let (out, edited) = run(nat_v4(), Dir::Reply, p, &mut env);
    assert_eq!(edited, b"CONNECT DATA 80 MESG 40009\n");
    assert_eq!(out.delta(), 1);
}

#[test]
fn nat_failure_drops_and_withdraws() {
    let mut env = TestEnv::default();
    env.clash.insert(50003);
    env.randoms.extend(std::iter::repeat_n(0, 200));
    let (out, _) = run(nat_v4(), Dir::Reply, REP, &mut env);
    assert!(out.drop && out.edits.is_empty() && out.expectations.is_empty());
    assert!(env.created.is_empty());
    assert_eq!(env.unexpected.len(), 2, "DATA and MESG withdrawn");
    assert_eq!(env.unexpected_unknown, 0);
    assert_eq!(reasons(&out), vec!["nat_failed"]);
    // 1 + 128 tries for INDEX, 1 each for DATA and MESG; STATE never tried.
    assert_eq!(env.calls.len(), 131);
}

#[test]
fn refused_without_nat_fails_open() {
    for e in [ExpectError::Full, ExpectError::Clash, ExpectError::Refused] {
        let mut env = TestEnv {
            fail: Some(e),
            ..TestEnv::default()
        };
        let (out, _) = run(plain_v4(), Dir::Reply, b"CONNECT DATA 5\n", &mut env);
        assert!(!out.drop);
        assert_eq!(reasons(&out), vec!["expect_failed"]);
    }
}

#[test]
fn master_timeout() {
    let info = &amanda::INFO;
    let mut p = info.default_params();
    let pkt = |dir| Packet {
        conn: plain_v4(),
        dir,
        payload: b"x",
        tcp_seq: None,
        state: PrivData::ZERO,
        ..Packet::EMPTY
    };
    assert_eq!(helper().master_timeout_for(&pkt(Dir::Reply)), Some(300));
    assert_eq!(helper().master_timeout_for(&pkt(Dir::Original)), None);
    p.set(info.params, "master_timeout", ParamValue::U32(900))
        .unwrap();
    let h = Amanda::new(&p, &info.default_policies());
    assert_eq!(h.master_timeout_for(&pkt(Dir::Reply)), Some(900));
    assert!(p
        .set(info.params, "master_timeout", ParamValue::U32(0))
        .is_err());
    assert_eq!(info.policies, &[("amanda", 4, 180)]);
}

#[test]
fn complete_connect_line_before_an_unterminated_one_is_handled() {
    // UDP: the datagram is all there is; nothing is held, and an
    // unfinished line after the CONNECT line does not matter.
    let p = b"Amanda 3.5 REP HANDLE 000-e8c70108 SEQ 1700000000\nCONNECT DATA 50001 MESG 50002\nOPTIONS features=ff";
    let mut env = TestEnv::default();
    let (out, edited) = run(plain_v4(), Dir::Reply, p, &mut env);
    assert_eq!(out.incomplete, None);
    assert!(out.events.is_empty());
    assert_eq!(
        out.expectations,
        vec![
            exp("10.0.0.2", "192.168.1.10", 50001, None),
            exp("10.0.0.2", "192.168.1.10", 50002, None)
        ]
    );
    assert_eq!(edited, p);
    assert_eq!(out.ct_timeout, Some(300));
    // Under NAT, with a rewrite: exact bytes, the tail untouched.
    let mut env = TestEnv::default();
    env.clash.insert(50001);
    env.randoms.push_back(8);
    let (out, edited) = run(nat_v4(), Dir::Reply, p, &mut env);
    assert_eq!(out.incomplete, None);
    assert_eq!(
        edited,
        b"Amanda 3.5 REP HANDLE 000-e8c70108 SEQ 1700000000\nCONNECT DATA 50009 MESG 50002\nOPTIONS features=ff"
    );
    assert_eq!(out.expectations.len(), 2);
    assert_eq!(out.expectations[0].nat.unwrap().saved_port, 50001);
    // The CONNECT line itself unterminated: not waited for either.
    let mut env = TestEnv::default();
    let (out, _) = run(
        plain_v4(),
        Dir::Reply,
        b"CONNECT DATA 50001 MESG 5",
        &mut env,
    );
    assert_eq!(out.incomplete, None);
    assert_eq!(reasons(&out), vec!["malformed"]);
}

#[test]
fn master_timeout_is_a_typed_parameter() {
    let info = &amanda::INFO;
    let mut p = info.default_params();
    assert_eq!(p.get(amanda::MASTER_TIMEOUT), 300);
    p.set(
        info.params,
        amanda::MASTER_TIMEOUT.name(),
        ParamValue::U32(42),
    )
    .unwrap();
    assert_eq!(p.get(amanda::MASTER_TIMEOUT), 42);
    assert_eq!(Amanda::new(&p, &[]).master_timeout, 42);
    assert_eq!(info.params, &[amanda::MASTER_TIMEOUT.spec]);
}

#[test]
fn nat_failure_withdraws_a_shared_port_once() {
    // DATA and MESG on one port are one expectation in the table: a NAT
    // failure later withdraws it once (the second withdrawal would name
    // an expectation that is not there).
    let p = b"CONNECT DATA 50001 MESG 50001 INDEX 50003\n";
    let mut env = TestEnv::default();
    env.clash.insert(50003);
    env.randoms.extend(std::iter::repeat_n(0, 200));
    let (out, _) = run(nat_v4(), Dir::Reply, p, &mut env);
    assert!(out.drop && out.expectations.is_empty());
    assert!(env.created.is_empty());
    assert_eq!(env.unexpected.len(), 1);
    assert_eq!(env.unexpected_unknown, 0);
    // Without a failure: one expectation for both streams, both rewritten
    // alike (here unchanged).
    let mut env = TestEnv::default();
    let (out, edited) = run(nat_v4(), Dir::Reply, p, &mut env);
    assert_eq!(
        out.expectations.iter().map(|e| e.dport).collect::<Vec<_>>(),
        vec![50001, 50003]
    );
    assert_eq!(edited, p);
}
