//! TFTP helper: requests, other opcodes, truncation, NAT, refusals.

mod common;
use common::{ip, udp, Done};

use helpers::testing::TestEnv;
use helpers::tftp::{self, Tftp};
use helpers::{
    ConnView, Dir, ExpectError, ExpectFlags, ExpectFn, ExpectNat, Expectation, Helper, L4Proto,
    Packet, PrivData, SrcAddr,
};

fn helper() -> Tftp {
    let info = &tftp::INFO;
    Tftp::new(&info.default_params(), &info.default_policies())
}

fn run(conn: ConnView, dir: Dir, payload: &[u8], env: &mut TestEnv) -> Done {
    let pkt = Packet {
        conn,
        dir,
        payload,
        tcp_seq: None,
        state: PrivData::ZERO,
        ..Packet::EMPTY
    };
    let out = helper().handle(&pkt, env);
    assert!(out.edits.is_empty(), "TFTP never rewrites");
    assert!(out.state.is_none(), "TFTP keeps no state");
    assert_eq!(out.incomplete, None);
    let out = Done::new(out, env);
    assert_eq!(out.expectations, env.created);
    out
}

const RRQ: &[u8] = b"\x00\x01boot.img\x00octet\x00";
const WRQ: &[u8] = b"\x00\x02upload.bin\x00octet\x00blksize\x001428\x00";

#[test]
fn rrq_and_wrq_expect_the_server_from_any_port() {
    let conn = ConnView::plain(udp("192.168.1.10", 40001, "10.0.0.2", 69));
    for req in [RRQ, WRQ] {
        let mut env = TestEnv::default();
        let out = run(conn, Dir::Original, req, &mut env);
        assert!(out.events.is_empty());
        assert_eq!(
            env.calls,
            vec![Expectation {
                class: 0,
                proto: L4Proto::Udp,
                src: SrcAddr::Exact(ip("10.0.0.2")),
                dst: ip("192.168.1.10"),
                sport: None,
                dport: 40001,
                flags: ExpectFlags::NONE,
                helper: None,
                nat: None,
            }]
        );
    }
}

#[test]
fn ipv6() {
    let conn = ConnView::plain(udp("2001:db8:1::10", 50000, "2001:db8:2::2", 69));
    let mut env = TestEnv::default();
    let out = run(conn, Dir::Original, RRQ, &mut env);
    let e = &out.expectations[0];
    assert_eq!(e.src, SrcAddr::Exact(ip("2001:db8:2::2")));
    assert_eq!(e.dst, ip("2001:db8:1::10"));
    assert_eq!(e.dport, 50000);
    assert_eq!(e.sport, None);
    assert_eq!(e.nat, None);
}

#[test]
fn masquerade_follows_master() {
    // 192.168.1.10:40001 masqueraded to 198.51.100.1:61000.
    let conn = ConnView {
        orig: udp("192.168.1.10", 40001, "203.0.113.5", 69),
        reply: udp("203.0.113.5", 69, "198.51.100.1", 61000),
    };
    let mut env = TestEnv::default();
    let out = run(conn, Dir::Original, RRQ, &mut env);
    assert_eq!(
        out.expectations,
        vec![Expectation {
            class: 0,
            proto: L4Proto::Udp,
            src: SrcAddr::Exact(ip("203.0.113.5")),
            dst: ip("198.51.100.1"),
            sport: None,
            dport: 61000,
            flags: ExpectFlags::NONE,
            helper: None,
            nat: Some(ExpectNat {
                dir: Dir::Reply,
                saved_addr: ip("192.168.1.10"),
                saved_port: 40001,
                expectfn: ExpectFn::NatFollowMaster,
            }),
        }]
    );
}

#[test]
fn dnat_server_uses_the_real_server_address() {
    // The public 203.0.113.1:69 is DNATed to 10.0.0.5:69.
    let conn = ConnView {
        orig: udp("198.51.100.7", 3000, "203.0.113.1", 69),
        reply: udp("10.0.0.5", 69, "198.51.100.7", 3000),
    };
    let mut env = TestEnv::default();
    let out = run(conn, Dir::Original, WRQ, &mut env);
    let e = &out.expectations[0];
    assert_eq!(e.src, SrcAddr::Exact(ip("10.0.0.5")));
    assert_eq!(e.dst, ip("198.51.100.7"));
    assert_eq!(e.dport, 3000);
    assert_eq!(e.nat.unwrap().saved_addr, ip("198.51.100.7"));
}

#[test]
fn reply_direction_request_uses_the_reply_tuple_as_the_kernel() {
    let conn = ConnView::plain(udp("192.168.1.10", 40001, "10.0.0.2", 69));
    let mut env = TestEnv::default();
    let out = run(conn, Dir::Reply, RRQ, &mut env);
    assert_eq!(out.expectations[0].src, SrcAddr::Exact(ip("10.0.0.2")));
    assert_eq!(out.expectations[0].dport, 40001);
}

#[test]
fn other_opcodes_are_ignored() {
    let conn = ConnView::plain(udp("192.168.1.10", 40001, "10.0.0.2", 69));
    for p in [
        &b"\x00\x03\x00\x01data"[..],
        b"\x00\x04\x00\x01",
        b"\x00\x05\x00\x01File not found\x00",
        b"\x00\x06blksize\x00512\x00",
        b"\x00\x00",
        b"\xff\xff",
        b"\x01\x00",
    ] {
        let mut env = TestEnv::default();
        let out = run(conn, Dir::Original, p, &mut env);
        assert!(env.calls.is_empty(), "{p:?}");
        assert!(out.events.is_empty());
    }
}

#[test]
fn truncated_is_counted() {
    let conn = ConnView::plain(udp("192.168.1.10", 40001, "10.0.0.2", 69));
    for p in [&b""[..], b"\x00"] {
        let mut env = TestEnv::default();
        let out = run(conn, Dir::Original, p, &mut env);
        assert!(env.calls.is_empty());
        assert_eq!(out.events.len(), 1);
        assert_eq!(out.events[0].reason.name(), "truncated");
        assert!(!out.drop);
    }
    // Just the opcode is a request.
    let mut env = TestEnv::default();
    let out = run(conn, Dir::Original, b"\x00\x01", &mut env);
    assert_eq!(out.expectations.len(), 1);
}

#[test]
fn refused_expectation_fails_open() {
    let conn = ConnView::plain(udp("192.168.1.10", 40001, "10.0.0.2", 69));
    for e in [ExpectError::Clash, ExpectError::Full, ExpectError::Refused] {
        let mut env = TestEnv {
            fail: Some(e),
            ..TestEnv::default()
        };
        let out = run(conn, Dir::Original, RRQ, &mut env);
        assert_eq!(env.calls.len(), 1, "no port search: nothing is rewritten");
        assert!(out.expectations.is_empty());
        assert_eq!(out.events[0].reason.name(), "expect_failed");
        assert!(!out.drop, "fail open: the request passes");
    }
}
