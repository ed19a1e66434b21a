//! The H.323 helpers (RAS, Q.931, H.245) on pycrate-encoded messages
//! (helpers/src/h323/testdata/vectors.txt) placed on connections with and
//! without NAT: the expectations of nf_conntrack_h323_main.c and the
//! rewrites of nf_nat_h323.c, IPv4 and IPv6, TPKT framing, state.

mod common;
use common::{ip, reason_names, tcp, udp, Done};

use helpers::edit::apply;
use helpers::h323::h245::{self as h245h, H245Helper};
use helpers::h323::q931::{self as q931h, Q931Helper, CALLFORWARD_FILTER};
use helpers::h323::ras::{self as rash, RasHelper, DEFAULT_RRQ_TTL, GKROUTED_ONLY};
use helpers::h323::track::{H323State, STATE_LEN};
use helpers::h323::{self, AddrKind, Found};
use helpers::testing::TestEnv;
use helpers::{
    ConnView, CtState, CtStatus, Dir, ExpectChange, ExpectFlags, ExpectNat, Expectation, Helper,
    L4Proto, Packet, ParamValue, PrivData, SrcAddr,
};
use std::net::IpAddr;

const VECTORS: &str = include_str!("../src/h323/testdata/vectors.txt");

fn vector(name: &str) -> Vec<u8> {
    let line = VECTORS
        .lines()
        .find(|l| l.split_whitespace().nth(1) == Some(name))
        .unwrap_or_else(|| panic!("no vector {name}"));
    let hex = line.split_whitespace().nth(2).unwrap();
    (0..hex.len() / 2)
        .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap())
        .collect()
}

fn tpkt(msg: &[u8]) -> Vec<u8> {
    let n = msg.len() + 4;
    let mut v = vec![3, 0, (n >> 8) as u8, n as u8];
    v.extend_from_slice(msg);
    v
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Ras,
    Q931,
    H245,
}

/// Every address of a message (a TPKT segment for Q.931/H.245).
fn addresses(kind: Kind, buf: &[u8]) -> Vec<Found> {
    match kind {
        Kind::Ras => h323::decode_ras(buf).unwrap().addresses(),
        Kind::Q931 => h323::decode_q931_segment(buf)
            .frames
            .into_iter()
            .flat_map(|(_, r)| r.unwrap().addresses())
            .collect(),
        Kind::H245 => h323::decode_h245_segment(buf)
            .frames
            .into_iter()
            .flat_map(|(_, r)| r.unwrap().addresses())
            .collect(),
    }
}

fn octets(a: IpAddr) -> Vec<u8> {
    match a {
        IpAddr::V4(x) => x.octets().to_vec(),
        IpAddr::V6(x) => x.octets().to_vec(),
    }
}

/// The message with every address `from` replaced by `to` (same family),
/// ports kept.
fn readdress(kind: Kind, buf: &[u8], from: &str, to: &str) -> Vec<u8> {
    let (from, to) = (ip(from), ip(to));
    let mut b = buf.to_vec();
    for f in addresses(kind, buf) {
        if f.addr.ip == from {
            b[f.addr.ip_offset..f.addr.ip_offset + f.addr.ip_len()].copy_from_slice(&octets(to));
        }
    }
    b
}

/// The message with the port of the address at `ip:port` set to `new`.
fn report(kind: Kind, buf: &[u8], at: &str, port: u16, new: u16) -> Vec<u8> {
    let mut b = buf.to_vec();
    for f in addresses(kind, buf) {
        if f.addr.ip == ip(at) && f.addr.port == port {
            b[f.addr.port_offset..f.addr.port_offset + 2].copy_from_slice(&new.to_be_bytes());
        }
    }
    b
}

fn ras() -> RasHelper {
    RasHelper::new(&rash::INFO.default_params(), &rash::INFO.default_policies())
}
fn q931() -> Q931Helper {
    Q931Helper::new(
        &q931h::INFO.default_params(),
        &q931h::INFO.default_policies(),
    )
}

struct Run {
    done: Done,
    /// The payload with the edits applied.
    after: Vec<u8>,
    state: H323State,
}

fn run_with(
    h: &dyn Helper,
    conn: ConnView,
    dir: Dir,
    payload: &[u8],
    state: PrivData,
    status: CtStatus,
    env: &mut TestEnv,
) -> Run {
    let pkt = Packet {
        conn,
        dir,
        payload,
        tcp_seq: (conn.orig.proto == L4Proto::Tcp).then_some(1000),
        state,
        status,
        ..Packet::EMPTY
    };
    let before: Vec<Expectation> = env.live().cloned().collect();
    let out = h.handle(&pkt, env);
    let after = apply(payload, &out.edits).expect("edits apply");
    assert_eq!(after.len(), payload.len(), "H.323 rewrites keep the length");
    let state = H323State::decode(&out.state.unwrap_or(state));
    Run {
        done: Done::checked(out, env, &before),
        after,
        state,
    }
}

fn run(h: &dyn Helper, conn: ConnView, dir: Dir, payload: &[u8], env: &mut TestEnv) -> Run {
    let status = CtStatus(CtStatus::CONFIRMED | CtStatus::SEEN_REPLY);
    run_with(h, conn, dir, payload, PrivData::ZERO, status, env)
}

// --- connections --------------------------------------------------------------

const CLIENT: &str = "10.1.0.2";
const SERVER: &str = "192.0.2.7";
const NAT: &str = "203.0.113.1";

/// RAS: endpoint 10.1.0.2:1719 → gatekeeper 192.0.2.7:1719.
fn ras_plain() -> ConnView {
    ConnView::plain(udp(CLIENT, 1719, SERVER, 1719))
}
/// The same through a masquerading router: 203.0.113.1:31719.
fn ras_masq() -> ConnView {
    ConnView {
        orig: udp(CLIENT, 1719, SERVER, 1719),
        reply: udp(SERVER, 1719, NAT, 31719),
    }
}
/// Q.931: caller 10.1.0.2:40000 → callee 192.0.2.7:1720.
fn q931_plain() -> ConnView {
    ConnView::plain(tcp(CLIENT, 40000, SERVER, 1720))
}
fn q931_masq() -> ConnView {
    ConnView {
        orig: tcp(CLIENT, 40000, SERVER, 1720),
        reply: tcp(SERVER, 1720, NAT, 41000),
    }
}

fn q931_exp(src: SrcAddr, dst: &str, port: u16) -> Expectation {
    Expectation {
        src,
        flags: ExpectFlags::PERMANENT,
        helper: Some("Q.931"),
        ..Expectation::new(0, L4Proto::Tcp, ip(dst), port)
    }
}

fn rtp_pair(src: &str, dst: &str, port: u16, nat: Option<(&str, u16)>) -> [Expectation; 2] {
    let mk = |p: u16, saved: Option<(&str, u16)>| Expectation {
        src: SrcAddr::Exact(ip(src)),
        nat: saved.map(|(a, sp)| ExpectNat::follow_master(Dir::Reply, ip(a), sp)),
        ..Expectation::new(0, L4Proto::Udp, ip(dst), p)
    };
    let even = port & !1;
    [
        mk(even, nat.map(|(a, p)| (a, p & !1))),
        mk(even + 1, nat.map(|(a, p)| (a, p | 1))),
    ]
}

// --- registry facts ---------------------------------------------------------------

#[test]
fn names_ports_policies_and_parameters_are_the_kernel_modules() {
    assert_eq!(rash::INFO.name, "RAS");
    assert_eq!(rash::INFO.l4, &[L4Proto::Udp]);
    assert_eq!(rash::INFO.default_ports, &[1719]);
    assert_eq!(rash::INFO.policies, &[("ras", 32, 240)]);
    assert_eq!(q931h::INFO.name, "Q.931");
    assert_eq!(q931h::INFO.l4, &[L4Proto::Tcp]);
    assert_eq!(q931h::INFO.expected_from, &[L4Proto::Udp]);
    assert_eq!(q931h::INFO.default_ports, &[1720]);
    assert_eq!(q931h::INFO.policies, &[("q931", 20, 240)]);
    assert_eq!(h245h::INFO.name, "H.245");
    assert_eq!(h245h::INFO.l4, &[L4Proto::Tcp]);
    assert!(h245h::INFO.default_ports.is_empty());
    assert_eq!(h245h::INFO.policies, &[("h245", 18, 240)]);
    for i in [&rash::INFO, &q931h::INFO, &h245h::INFO] {
        assert_eq!(i.priv_len, STATE_LEN);
        assert!(i.ipv4 && i.ipv6);
    }
    let r = ras();
    assert_eq!((r.default_rrq_ttl, r.gkrouted_only), (300, true));
    assert!(q931().callforward_filter);
    assert_eq!(
        rash::INFO.params,
        &[DEFAULT_RRQ_TTL.spec, GKROUTED_ONLY.spec]
    );
    assert_eq!(q931h::INFO.params, &[CALLFORWARD_FILTER.spec]);
    // The registry order of PHASE2: ..., amanda, RAS, Q.931, H.245, ...
    let names: Vec<&str> = helpers::REGISTRY.iter().map(|h| h.name).collect();
    let at = names.iter().position(|n| *n == "RAS").unwrap();
    assert_eq!(&names[at - 1..at + 3], &["amanda", "RAS", "Q.931", "H.245"]);
}

// --- RAS ------------------------------------------------------------------------------

#[test]
fn grq_lrq_are_rewritten_only_under_nat() {
    for (name, port) in [("grq", 1719), ("lrq", 1719)] {
        let m = vector(name);
        let mut env = TestEnv::default();
        let r = run(&ras(), ras_plain(), Dir::Original, &m, &mut env);
        assert!(r.done.edits.is_empty() && r.done.expectations.is_empty());
        let r = run(&ras(), ras_masq(), Dir::Original, &m, &mut env);
        assert!(r.done.expectations.is_empty());
        let a = addresses(Kind::Ras, &r.after);
        assert_eq!(a.len(), 1);
        assert_eq!((a[0].addr.ip, a[0].addr.port), (ip(NAT), 31719), "{name}");
        // A rasAddress that is not the sender's address and port stays.
        let other = report(Kind::Ras, &m, CLIENT, port, 2000);
        let r = run(&ras(), ras_masq(), Dir::Original, &other, &mut env);
        assert!(r.done.edits.is_empty(), "{name}");
    }
}

#[test]
fn gcf_expects_ras_at_another_registration_address() {
    // The GCF comes back from the gatekeeper with its own RAS address.
    let m = vector("gcf");
    let mut env = TestEnv::default();
    let r = run(&ras(), ras_plain(), Dir::Reply, &m, &mut env);
    assert!(r.done.expectations.is_empty(), "same address and port");
    let m2 = report(Kind::Ras, &m, SERVER, 1719, 1729);
    let r = run(&ras(), ras_plain(), Dir::Reply, &m2, &mut env);
    assert_eq!(
        r.done.expectations,
        vec![Expectation {
            src: SrcAddr::Exact(ip(CLIENT)),
            helper: Some("RAS"),
            ..Expectation::new(0, L4Proto::Udp, ip(SERVER), 1729)
        }]
    );
    // Never from an expected connection (no RAS expectation loops), and
    // never rewritten.
    let mut env = TestEnv::default();
    let status = CtStatus(CtStatus::CONFIRMED | CtStatus::SEEN_REPLY | CtStatus::EXPECTED);
    let r = run_with(
        &ras(),
        ras_masq(),
        Dir::Reply,
        &m2,
        PrivData::ZERO,
        status,
        &mut env,
    );
    assert!(r.done.expectations.is_empty() && r.done.edits.is_empty());
}

#[test]
fn rrq_without_nat_expects_calls_from_the_gatekeeper() {
    let m = vector("rrq");
    let mut env = TestEnv::default();
    let r = run(&ras(), ras_plain(), Dir::Original, &m, &mut env);
    assert!(r.done.edits.is_empty());
    assert_eq!(
        r.done.expectations,
        vec![q931_exp(SrcAddr::Exact(ip(SERVER)), CLIENT, 1720)]
    );
    assert_eq!(r.state.sig_port, [1720, 0]);
    assert_eq!(r.state.timeout, 600, "the RRQ's timeToLive");
    // gkrouted_only = 0: from any source.
    let mut p = rash::INFO.default_params();
    p.set(rash::INFO.params, "gkrouted_only", ParamValue::U32(0))
        .unwrap();
    let h = RasHelper::new(&p, &[]);
    let mut env = TestEnv::default();
    let r = run(&h, ras_plain(), Dir::Original, &m, &mut env);
    assert_eq!(
        r.done.expectations,
        vec![q931_exp(SrcAddr::Any, CLIENT, 1720)]
    );
    // Only a call signal address at the sender counts: the second one
    // (10.1.0.3) is taken when the first is someone else's.
    let m2 = readdress(Kind::Ras, &m, CLIENT, "10.9.9.9");
    let m2 = readdress(Kind::Ras, &m2, "10.1.0.3", CLIENT);
    let mut env = TestEnv::default();
    let r = run(&ras(), ras_plain(), Dir::Original, &m2, &mut env);
    assert_eq!(
        r.done.expectations,
        vec![q931_exp(SrcAddr::Exact(ip(SERVER)), CLIENT, 1721)]
    );
    // No TTL: default_rrq_ttl.
    let mut env = TestEnv::default();
    let r = run(
        &ras(),
        ras_plain(),
        Dir::Original,
        &vector("rrq6"),
        &mut env,
    );
    assert_eq!(r.state.timeout, 300);
    assert!(r.done.expectations.is_empty(), "IPv6 addresses on IPv4");
}

#[test]
fn rrq_under_nat_translates_and_follows_master() {
    let m = vector("rrq");
    let mut env = TestEnv::default();
    let r = run(&ras(), ras_masq(), Dir::Original, &m, &mut env);
    let mut want = q931_exp(SrcAddr::Exact(ip(SERVER)), NAT, 1720);
    want.nat = Some(ExpectNat::follow_master(Dir::Reply, ip(CLIENT), 1720));
    assert_eq!(r.done.expectations, vec![want]);
    assert_eq!(r.state.sig_port, [1720, 1720]);
    let a: Vec<(IpAddr, u16)> = addresses(Kind::Ras, &r.after)
        .iter()
        .map(|f| (f.addr.ip, f.addr.port))
        .collect();
    // callSignalAddress[0] and the rasAddress (the sender's address and
    // port) translated; the second call signal address left alone.
    assert_eq!(
        a,
        vec![(ip(NAT), 1720), (ip("10.1.0.3"), 1721), (ip(NAT), 31719)]
    );
    // 1720 taken: another port is searched and written.
    let mut env = TestEnv {
        clash: [1720].into(),
        ..TestEnv::default()
    };
    let r = run(&ras(), ras_masq(), Dir::Original, &m, &mut env);
    let e = &r.done.expectations[0];
    assert_ne!(e.dport, 1720);
    assert_eq!(r.state.sig_port, [1720, e.dport]);
    assert_eq!(addresses(Kind::Ras, &r.after)[0].addr.port, e.dport);
    // The re-registration asks for the port it was given before.
    let state = r.state.encode();
    let mut env = TestEnv::default();
    let status = CtStatus(CtStatus::CONFIRMED | CtStatus::SEEN_REPLY);
    let again = run_with(
        &ras(),
        ras_masq(),
        Dir::Original,
        &m,
        state,
        status,
        &mut env,
    );
    assert_eq!(env.calls[0].dport, e.dport);
    assert_eq!(again.state.sig_port, [1720, e.dport]);
}

#[test]
fn rrq_gnomemeeting_loopback_first_address() {
    // callSignalAddress = [127.0.0.1:1720, 10.1.0.2:1721]: both rewritten.
    let m = readdress(Kind::Ras, &vector("rrq"), CLIENT, "127.0.0.1");
    let m = readdress(Kind::Ras, &m, "10.1.0.3", CLIENT);
    let mut env = TestEnv::default();
    let r = run(&ras(), ras_masq(), Dir::Original, &m, &mut env);
    assert_eq!(r.done.expectations[0].dport, 1721);
    let a = addresses(Kind::Ras, &r.after);
    assert_eq!((a[0].addr.ip, a[0].addr.port), (ip(NAT), 1721));
    assert_eq!((a[1].addr.ip, a[1].addr.port), (ip(NAT), 1721));
}

#[test]
fn rcf_sets_the_registration_lifetime() {
    // The RCF answers with the endpoint's address as the gatekeeper saw it.
    let m = readdress(Kind::Ras, &vector("rcf"), SERVER, NAT);
    let live = {
        let mut e = q931_exp(SrcAddr::Exact(ip(SERVER)), NAT, 1720);
        e.nat = Some(ExpectNat::follow_master(Dir::Reply, ip(CLIENT), 1720));
        e
    };
    let st = H323State {
        sig_port: [1720, 1720],
        timeout: 600,
        ..H323State::default()
    };
    let mut env = TestEnv {
        existing: vec![live.clone()],
        ..TestEnv::default()
    };
    let status = CtStatus(CtStatus::CONFIRMED | CtStatus::SEEN_REPLY);
    let r = run_with(
        &ras(),
        ras_masq(),
        Dir::Reply,
        &m,
        st.encode(),
        status,
        &mut env,
    );
    // The RCF's timeToLive (300) wins over the RRQ's.
    assert_eq!(r.done.ct_timeout, Some(300));
    assert_eq!(r.state.timeout, 300);
    assert_eq!(
        env.updated,
        vec![(
            live,
            ExpectChange {
                clear: ExpectFlags::NONE,
                timeout: Some(300)
            }
        )]
    );
    // GK → GW: the endpoint's own address and port come back.
    let a = addresses(Kind::Ras, &r.after);
    assert_eq!((a[0].addr.ip, a[0].addr.port), (ip(CLIENT), 1720));
    // default_rrq_ttl = 0 and no TTL in the RRQ: the registration has no
    // lifetime of its own, nothing is refreshed until an RCF brings one.
    let mut p = rash::INFO.default_params();
    p.set(rash::INFO.params, "default_rrq_ttl", ParamValue::U32(0))
        .unwrap();
    let h = RasHelper::new(&p, &[]);
    let v6 = ConnView::plain(udp("2001:db8::2", 1719, "2001:db8:2::7", 1719));
    let r = run(
        &h,
        v6,
        Dir::Original,
        &vector("rrq6"),
        &mut TestEnv::default(),
    );
    assert_eq!(r.state.timeout, 0);
    assert_eq!(r.done.ct_timeout, None);
}

#[test]
fn urq_removes_the_connections_expectations() {
    let m = vector("urq");
    let st = H323State {
        sig_port: [1720, 1725],
        ..H323State::default()
    };
    let mut env = TestEnv {
        existing: vec![q931_exp(SrcAddr::Exact(ip(SERVER)), NAT, 1725)],
        ..TestEnv::default()
    };
    let status = CtStatus(CtStatus::CONFIRMED | CtStatus::SEEN_REPLY);
    let r = run_with(
        &ras(),
        ras_masq(),
        Dir::Original,
        &m,
        st.encode(),
        status,
        &mut env,
    );
    assert_eq!(r.done.ct_timeout, Some(30));
    assert!(env.live().next().is_none());
    assert_eq!(r.state.sig_port, [0, 0]);
    // GW → GK: the endpoint's address with the NATed signal port.
    let a = addresses(Kind::Ras, &r.after);
    assert_eq!((a[0].addr.ip, a[0].addr.port), (ip(NAT), 1725));
}

#[test]
fn arq_acf_lcf_irr() {
    // ARQ: the caller's srcCallSignalAddress becomes what the GK sees.
    let m = vector("arq");
    let mut env = TestEnv::default();
    let r = run(&ras(), ras_plain(), Dir::Original, &m, &mut env);
    assert!(r.done.edits.is_empty());
    let r = run(&ras(), ras_masq(), Dir::Original, &m, &mut env);
    let a = addresses(Kind::Ras, &r.after);
    assert_eq!(a[0].addr.ip, ip("198.51.100.9"), "destination kept");
    assert_eq!((a[1].addr.ip, a[1].addr.port), (ip(NAT), 1720));
    assert!(r.done.expectations.is_empty());
    // ARQ of the answering endpoint: its own destCallSignalAddress with
    // the signal port it registered.
    let ans = readdress(Kind::Ras, &m, "198.51.100.9", CLIENT);
    let st = H323State {
        sig_port: [1720, 1730],
        ..H323State::default()
    };
    let status = CtStatus(CtStatus::CONFIRMED | CtStatus::SEEN_REPLY);
    let r = run_with(
        &ras(),
        ras_masq(),
        Dir::Original,
        &ans,
        st.encode(),
        status,
        &mut env,
    );
    let a = addresses(Kind::Ras, &r.after);
    assert_eq!((a[0].addr.ip, a[0].addr.port), (ip(NAT), 1730));
    assert_eq!(
        (a[1].addr.ip, a[1].addr.port),
        (ip(CLIENT), 1720),
        "one only"
    );

    // ACF: the call the endpoint makes to the destination is expected.
    let m = vector("acf");
    let mut env = TestEnv::default();
    let r = run(&ras(), ras_masq(), Dir::Reply, &m, &mut env);
    assert_eq!(
        r.done.expectations,
        vec![q931_exp(SrcAddr::Exact(ip(CLIENT)), "198.51.100.9", 1720)]
    );
    assert!(r.done.edits.is_empty());
    // An ACF naming the endpoint itself (an incoming call) is rewritten.
    let own = readdress(Kind::Ras, &m, "198.51.100.9", NAT);
    let own = report(Kind::Ras, &own, NAT, 1720, 1730);
    let r = run_with(
        &ras(),
        ras_masq(),
        Dir::Reply,
        &own,
        st.encode(),
        status,
        &mut env,
    );
    assert!(r.done.expectations.is_empty());
    let a = addresses(Kind::Ras, &r.after);
    assert_eq!((a[0].addr.ip, a[0].addr.port), (ip(CLIENT), 1720));

    // LCF: the located endpoint's call signal address; its rasAddress ignored.
    let mut env = TestEnv::default();
    let r = run(&ras(), ras_masq(), Dir::Reply, &vector("lcf"), &mut env);
    assert_eq!(
        r.done.expectations,
        vec![q931_exp(SrcAddr::Exact(ip(CLIENT)), "203.0.113.4", 1720)]
    );

    // IRR under NAT: rasAddress and callSignalAddress.
    let mut env = TestEnv::default();
    let st = H323State {
        sig_port: [1720, 1731],
        ..H323State::default()
    };
    let r = run_with(
        &ras(),
        ras_masq(),
        Dir::Original,
        &vector("irr"),
        st.encode(),
        status,
        &mut env,
    );
    let a: Vec<(IpAddr, u16)> = addresses(Kind::Ras, &r.after)
        .iter()
        .map(|f| (f.addr.ip, f.addr.port))
        .collect();
    assert_eq!(a, vec![(ip(NAT), 31719), (ip(NAT), 1731)]);
}

#[test]
fn ras_ipv6_nat_beyond_the_kernel() {
    let conn = ConnView {
        orig: udp("2001:db8::2", 1719, "2001:db8:2::7", 1719),
        reply: udp("2001:db8:2::7", 1719, "2001:db8:ffff::1", 1719),
    };
    let mut env = TestEnv::default();
    let r = run(&ras(), conn, Dir::Original, &vector("rrq6"), &mut env);
    let e = &r.done.expectations[0];
    assert_eq!((e.dst, e.dport), (ip("2001:db8:ffff::1"), 1720));
    assert_eq!(
        e.nat,
        Some(ExpectNat::follow_master(
            Dir::Reply,
            ip("2001:db8::2"),
            1720
        ))
    );
    for f in addresses(Kind::Ras, &r.after) {
        assert_eq!(f.addr.ip, ip("2001:db8:ffff::1"), "{f:?}");
    }
}

#[test]
fn ras_garbage_is_counted_and_passes() {
    let mut env = TestEnv::default();
    let r = run(&ras(), ras_masq(), Dir::Original, b"\xff\xff\xff", &mut env);
    assert_eq!(reason_names(&r.done), vec!["malformed"]);
    assert!(r.done.edits.is_empty() && r.done.state.is_none());
    // An unknown RAS message (RRJ) does nothing.
    let r = run(&ras(), ras_masq(), Dir::Reply, &vector("rrj"), &mut env);
    assert!(r.done.events.is_empty() && r.done.edits.is_empty());
}

// --- Q.931 --------------------------------------------------------------------------

/// The Setup of vectors.txt, offered by the caller 10.1.0.2: h245Address
/// :1800, fastStart (audio 5001 control, 5002/5003 reverse; video 5011,
/// 5012/5013) and one tunnelled OLC (5100/5101).
fn setup() -> Vec<u8> {
    tpkt(&vector("setup-faststart"))
}

fn h245_exp(src: &str, dst: &str, port: u16, nat: Option<(&str, u16)>) -> Expectation {
    Expectation {
        src: SrcAddr::Exact(ip(src)),
        helper: Some("H.245"),
        nat: nat.map(|(a, p)| ExpectNat::follow_master(Dir::Reply, ip(a), p)),
        ..Expectation::new(0, L4Proto::Tcp, ip(dst), port)
    }
}

#[test]
fn setup_with_fast_start_without_nat() {
    let mut env = TestEnv::default();
    let r = run(&q931(), q931_plain(), Dir::Original, &setup(), &mut env);
    assert!(r.done.edits.is_empty());
    assert!(r.done.events.is_empty(), "{:?}", r.done.events);
    let mut want = vec![h245_exp(SERVER, CLIENT, 1800, None)];
    for p in [5000, 5002, 5010, 5012, 5100] {
        want.extend(rtp_pair(SERVER, CLIENT, p, None));
    }
    let mut got = r.done.expectations.clone();
    got.sort_by_key(|e| (e.proto, e.dport));
    want.sort_by_key(|e| (e.proto, e.dport));
    assert_eq!(got, want);
    assert_eq!(r.state, H323State::default());
}

#[test]
fn setup_with_fast_start_under_nat() {
    let mut env = TestEnv::default();
    let seg = setup();
    let r = run(&q931(), q931_masq(), Dir::Original, &seg, &mut env);
    // Every address is rewritten: the caller's to the NAT address, the
    // callee's destCallSignalAddress to its real address.
    for f in addresses(Kind::Q931, &r.after) {
        match f.kind {
            AddrKind::DestCallSignalAddress => {
                assert_eq!((f.addr.ip, f.addr.port), (ip(SERVER), 1720))
            }
            AddrKind::SourceCallSignalAddress => {
                assert_eq!((f.addr.ip, f.addr.port), (ip(NAT), 41000))
            }
            _ => assert_eq!(f.addr.ip, ip(NAT), "{f:?}"),
        }
    }
    // Ports kept where free; the pairs remembered.
    let h = r
        .done
        .expectations
        .iter()
        .find(|e| e.helper == Some("H.245"))
        .unwrap();
    assert_eq!(h, &h245_exp(SERVER, NAT, 1800, Some((CLIENT, 1800))));
    assert_eq!(r.state.sig_port, [1800, 1800]);
    assert_eq!(
        r.state.rtp_port,
        [[5000, 5000], [5002, 5002], [5010, 5010], [5012, 5012]]
    );
    let udp: Vec<&Expectation> = r
        .done
        .expectations
        .iter()
        .filter(|e| e.proto == L4Proto::Udp)
        .collect();
    // 5100 is the fifth channel: translated, not remembered.
    assert_eq!(udp.len(), 10);
    assert!(reason_names(&r.done).contains(&"too_many_media"));
    for e in &udp {
        let n = e.nat.unwrap();
        assert_eq!((e.dst, n.saved_port), (ip(NAT), e.dport));
        assert_eq!(n.saved_addr, ip(CLIENT));
    }
    // The retransmission gets the same ports although they are taken by its
    // own first copy (the table refreshes its own).
    let mut env2 = TestEnv {
        clash: [1800, 5000, 5002].into(),
        ..TestEnv::default()
    };
    let status = CtStatus(CtStatus::CONFIRMED | CtStatus::SEEN_REPLY);
    let again = run_with(
        &q931(),
        q931_masq(),
        Dir::Original,
        &seg,
        PrivData::ZERO,
        status,
        &mut env2,
    );
    let h2 = again
        .done
        .expectations
        .iter()
        .find(|e| e.helper == Some("H.245"))
        .unwrap();
    assert_ne!(h2.dport, 1800, "a clash moves the port");
    let r2 = run_with(
        &q931(),
        q931_masq(),
        Dir::Original,
        &seg,
        again.state.encode(),
        status,
        &mut TestEnv::default(),
    );
    assert_eq!(r2.after, again.after, "the remembered ports are asked for");
}

#[test]
fn answer_from_the_untranslated_side_is_not_rewritten() {
    // CallProceeding from the callee (not translated): conntrack-only
    // expectations at its own address, from the caller's real address.
    let m = tpkt(&vector("callproceeding"));
    let mut env = TestEnv::default();
    let r = run(&q931(), q931_masq(), Dir::Reply, &m, &mut env);
    assert!(r.done.edits.is_empty());
    let mut want = vec![h245_exp(CLIENT, SERVER, 1801, None)];
    for p in [6000, 6002] {
        want.extend(rtp_pair(CLIENT, SERVER, p, None));
    }
    let mut got = r.done.expectations.clone();
    got.sort_by_key(|e| (e.proto, e.dport));
    want.sort_by_key(|e| (e.proto, e.dport));
    assert_eq!(got, want);
    for name in ["alerting", "connect", "progress"] {
        let mut env = TestEnv::default();
        let r = run(
            &q931(),
            q931_plain(),
            Dir::Reply,
            &tpkt(&vector(name)),
            &mut env,
        );
        assert_eq!(r.done.expectations.len(), 1, "{name}");
        assert_eq!(r.done.expectations[0].helper, Some("H.245"), "{name}");
    }
}

#[test]
fn an_address_that_is_not_the_senders_is_ignored() {
    // h245Address of a third host: the kernel expects nothing.
    let m = readdress(Kind::Q931, &tpkt(&vector("connect")), SERVER, "192.0.2.99");
    let mut env = TestEnv::default();
    let r = run(&q931(), q931_masq(), Dir::Reply, &m, &mut env);
    assert!(r.done.expectations.is_empty() && r.done.edits.is_empty());
    // Nor is a port 0.
    let m = report(Kind::Q931, &tpkt(&vector("connect")), SERVER, 1803, 0);
    let r = run(&q931(), q931_masq(), Dir::Reply, &m, &mut env);
    assert!(r.done.expectations.is_empty());
}

#[test]
fn only_established_packets_are_looked_at() {
    let pkt = Packet {
        conn: q931_masq(),
        payload: &setup(),
        ctinfo: CtState::Related,
        ..Packet::EMPTY
    };
    let mut env = TestEnv::default();
    let out = q931().handle(&pkt, &mut env);
    assert_eq!(out, helpers::Outcome::default());
    assert!(env.calls.is_empty());
}

#[test]
fn facility_call_forwarding() {
    // The callee forwards the caller to 203.0.113.4:1720.
    let m = tpkt(&vector("facility-forward"));
    let mut env = TestEnv::default();
    let r = run(&q931(), q931_masq(), Dir::Reply, &m, &mut env);
    assert_eq!(
        r.done.expectations,
        vec![Expectation {
            src: SrcAddr::Exact(ip(CLIENT)),
            helper: Some("Q.931"),
            ..Expectation::new(0, L4Proto::Tcp, ip("203.0.113.4"), 1720)
        }]
    );
    // callforward_filter: the caller and the forward-to party on the same
    // side (routes by one interface): not tracked.
    let mut env = TestEnv {
        routes: [(ip(CLIENT), 2), (ip("203.0.113.4"), 2)].into(),
        ..TestEnv::default()
    };
    let r = run(&q931(), q931_masq(), Dir::Reply, &m, &mut env);
    assert!(r.done.expectations.is_empty());
    assert_eq!(r.done.events[0].param, Some("callforward_filter"));
    let mut p = q931h::INFO.default_params();
    p.set(
        q931h::INFO.params,
        "callforward_filter",
        ParamValue::Bool(false),
    )
    .unwrap();
    let r = run(
        &Q931Helper::new(&p, &[]),
        q931_masq(),
        Dir::Reply,
        &m,
        &mut env,
    );
    assert_eq!(r.done.expectations.len(), 1);
    // Forwarded by the translated side to its own address, another port:
    // nat-follow-master gives the kernel's NAT.
    let own = readdress(Kind::Q931, &m, "203.0.113.4", CLIENT);
    let own = report(Kind::Q931, &own, CLIENT, 1720, 1721);
    let mut env = TestEnv::default();
    let r = run(&q931(), q931_masq(), Dir::Original, &own, &mut env);
    assert_eq!(
        r.done.expectations,
        vec![Expectation {
            src: SrcAddr::Exact(ip(SERVER)),
            helper: Some("Q.931"),
            nat: Some(ExpectNat::follow_master(Dir::Reply, ip(CLIENT), 1721)),
            ..Expectation::new(0, L4Proto::Tcp, ip(NAT), 1721)
        }]
    );
    let a = addresses(Kind::Q931, &r.after);
    assert_eq!((a[0].addr.ip, a[0].addr.port), (ip(NAT), 1721));
    // To a third address: not translated (the kernel's expectfn would).
    let third = readdress(Kind::Q931, &m, "203.0.113.4", "10.1.0.9");
    let mut env = TestEnv::default();
    let r = run(&q931(), q931_masq(), Dir::Original, &third, &mut env);
    assert!(r.done.expectations.is_empty() && r.done.edits.is_empty());
    assert_eq!(reason_names(&r.done), vec!["expect_failed"]);
}

#[test]
fn facility_with_h245_and_release_with_tunnelled_olc() {
    let mut env = TestEnv::default();
    let r = run(
        &q931(),
        q931_plain(),
        Dir::Original,
        &tpkt(&vector("facility-h245")),
        &mut env,
    );
    assert_eq!(
        r.done.expectations,
        vec![h245_exp(SERVER, CLIENT, 1805, None)]
    );
    let r = run(
        &q931(),
        q931_masq(),
        Dir::Original,
        &tpkt(&vector("release")),
        &mut env,
    );
    let mut got = r.done.expectations.clone();
    got.sort_by_key(|e| e.dport);
    assert_eq!(
        got,
        rtp_pair(SERVER, NAT, 5200, Some((CLIENT, 5200))).to_vec()
    );
    assert_eq!(addresses(Kind::Q931, &r.after)[0].addr.ip, ip(NAT));
}

#[test]
fn several_tpkts_lone_headers_and_held_frames() {
    // Two messages in one segment: both handled.
    let mut seg = tpkt(&vector("alerting"));
    seg.extend(tpkt(&vector("connect")));
    let mut env = TestEnv::default();
    let r = run(&q931(), q931_plain(), Dir::Reply, &seg, &mut env);
    let ports: Vec<u16> = r.done.expectations.iter().map(|e| e.dport).collect();
    assert_eq!(ports, vec![1802, 1803]);
    // NetMeeting: the TPKT header alone, then the data.
    let full = tpkt(&vector("connect"));
    let status = CtStatus(CtStatus::CONFIRMED | CtStatus::SEEN_REPLY);
    let mut env = TestEnv::default();
    let r = run_with(
        &q931(),
        q931_plain(),
        Dir::Reply,
        &full[..4],
        PrivData::ZERO,
        status,
        &mut env,
    );
    assert!(r.done.expectations.is_empty());
    assert_eq!(r.state.tpkt_len, [0, (full.len() - 4) as u16]);
    let r = run_with(
        &q931(),
        q931_plain(),
        Dir::Reply,
        &full[4..],
        r.state.encode(),
        status,
        &mut env,
    );
    assert_eq!(r.done.expectations.len(), 1);
    assert_eq!(r.state.tpkt_len, [0, 0]);
    // A frame cut by the segment end: the complete one before it is
    // handled and the rest held from its header.
    let mut seg = tpkt(&vector("alerting"));
    let first = seg.len();
    seg.extend_from_slice(&full[..20]);
    let mut env = TestEnv::default();
    let r = run(&q931(), q931_plain(), Dir::Reply, &seg, &mut env);
    assert_eq!(r.done.expectations.len(), 1);
    assert_eq!(r.done.incomplete, Some(first));
    assert_eq!(reason_names(&r.done), vec!["partial"]);
    // A broken message stops the segment (no drop).
    let mut seg = tpkt(b"\x08\x02\x00\x2a\x05\x7e\x00\x01\x05");
    seg.extend(tpkt(&vector("connect")));
    let mut env = TestEnv::default();
    let r = run(&q931(), q931_plain(), Dir::Reply, &seg, &mut env);
    assert!(r.done.expectations.is_empty());
    assert!(!r.done.drop);
    assert_eq!(reason_names(&r.done), vec!["malformed"]);
}

#[test]
fn ipv6_setup_under_nat_beyond_the_kernel() {
    let conn = ConnView {
        orig: tcp("2001:db8::2", 40000, "2001:db8:2::7", 1720),
        reply: tcp("2001:db8:2::7", 1720, "2001:db8:ffff::1", 41000),
    };
    let mut env = TestEnv::default();
    let r = run(
        &q931(),
        conn,
        Dir::Original,
        &tpkt(&vector("setup6")),
        &mut env,
    );
    for f in addresses(Kind::Q931, &r.after) {
        assert_eq!(f.addr.ip, ip("2001:db8:ffff::1"), "{f:?}");
    }
    assert_eq!(r.done.expectations.len(), 1 + 2 * 2);
    // Without NAT: expectations at the caller's own address.
    let mut env = TestEnv::default();
    let plain = ConnView::plain(conn.orig);
    let r = run(
        &q931(),
        plain,
        Dir::Original,
        &tpkt(&vector("setup6")),
        &mut env,
    );
    assert!(r.done.edits.is_empty());
    assert!(r
        .done
        .expectations
        .iter()
        .all(|e| e.dst == ip("2001:db8::2")));
}

#[test]
fn refusal_without_nat_passes() {
    let mut env = TestEnv {
        fail: Some(helpers::ExpectError::Full),
        ..TestEnv::default()
    };
    let r = run(&q931(), q931_plain(), Dir::Original, &setup(), &mut env);
    assert!(!r.done.drop);
    assert!(reason_names(&r.done).iter().all(|n| *n == "expect_failed"));
    // Under NAT no port at all: untranslated, no expectation, no drop.
    let mut env = TestEnv {
        clash_all: true,
        ..TestEnv::default()
    };
    let r = run(&q931(), q931_masq(), Dir::Original, &setup(), &mut env);
    assert!(!r.done.drop && r.done.expectations.is_empty());
    let a = addresses(Kind::Q931, &r.after);
    assert!(a
        .iter()
        .filter(|f| f.kind == AddrKind::H245Address)
        .all(|f| f.addr.ip == ip(CLIENT)));
}

// --- H.245 ----------------------------------------------------------------------------

fn h245_plain() -> ConnView {
    ConnView::plain(tcp(CLIENT, 40002, SERVER, 1800))
}
fn h245_masq() -> ConnView {
    ConnView {
        orig: tcp(CLIENT, 40002, SERVER, 1800),
        reply: tcp(SERVER, 1800, NAT, 41002),
    }
}

#[test]
fn olc_olcack_and_t120() {
    let h = H245Helper;
    let mut env = TestEnv::default();
    let r = run(
        &h,
        h245_plain(),
        Dir::Original,
        &tpkt(&vector("olc")),
        &mut env,
    );
    let mut got = r.done.expectations.clone();
    got.sort_by_key(|e| e.dport);
    // 5000 (media), 5001 (its control: the same pair), reverse 5003.
    let mut want = rtp_pair(SERVER, CLIENT, 5000, None).to_vec();
    want.extend(rtp_pair(SERVER, CLIENT, 5002, None));
    assert_eq!(got, want);
    // Under NAT.
    let mut env = TestEnv::default();
    let r = run(
        &h,
        h245_masq(),
        Dir::Original,
        &tpkt(&vector("olc")),
        &mut env,
    );
    for f in addresses(Kind::H245, &r.after) {
        assert_eq!(f.addr.ip, ip(NAT));
    }
    assert_eq!(r.state.rtp_port[0], [5000, 5000]);
    assert_eq!(r.state.rtp_port[1], [5002, 5002]);
    // OLC Ack from the callee.
    let mut env = TestEnv::default();
    let r = run(
        &h,
        h245_masq(),
        Dir::Reply,
        &tpkt(&vector("olcack")),
        &mut env,
    );
    assert_eq!(r.done.expectations.len(), 4);
    assert!(r.done.edits.is_empty());
    // T.120: a PERMANENT TCP expectation.
    let mut env = TestEnv::default();
    let r = run(
        &h,
        h245_plain(),
        Dir::Original,
        &tpkt(&vector("olc-t120")),
        &mut env,
    );
    assert_eq!(
        r.done.expectations,
        vec![Expectation {
            src: SrcAddr::Exact(ip(SERVER)),
            flags: ExpectFlags::PERMANENT,
            ..Expectation::new(0, L4Proto::Tcp, ip(CLIENT), 1503)
        }]
    );
    let mut env = TestEnv::default();
    let r = run(
        &h,
        h245_masq(),
        Dir::Original,
        &tpkt(&vector("olc-t120")),
        &mut env,
    );
    assert_eq!(
        r.done.expectations[0].nat,
        Some(ExpectNat::follow_master(Dir::Reply, ip(CLIENT), 1503))
    );
    assert_eq!(addresses(Kind::H245, &r.after)[0].addr.ip, ip(NAT));
    // Other messages: nothing.
    for name in ["tcs", "msd"] {
        let mut env = TestEnv::default();
        let r = run(
            &h,
            h245_masq(),
            Dir::Original,
            &tpkt(&vector(name)),
            &mut env,
        );
        assert!(r.done.expectations.is_empty() && r.done.events.is_empty());
    }
}

#[test]
fn rtp_pair_search_moves_by_two_and_odd_ports_keep_their_parity() {
    let h = H245Helper;
    // 5000 and 5002 busy: the pair 5004/5005 for media 5000 / control 5001.
    let mut env = TestEnv {
        clash: [5000, 5002].into(),
        ..TestEnv::default()
    };
    let r = run(
        &h,
        h245_masq(),
        Dir::Original,
        &tpkt(&vector("olc")),
        &mut env,
    );
    let a = addresses(Kind::H245, &r.after);
    assert_eq!(a[0].addr.port, 5004, "media, even");
    assert_eq!(a[1].addr.port, 5005, "control, odd");
    assert_eq!(r.state.rtp_port[0], [5000, 5004]);
    // A clash of the RTCP port withdraws the RTP one and moves on.
    let mut env = TestEnv {
        clash: [5001].into(),
        ..TestEnv::default()
    };
    let r = run(
        &h,
        h245_masq(),
        Dir::Original,
        &tpkt(&vector("olc")),
        &mut env,
    );
    assert_eq!(addresses(Kind::H245, &r.after)[0].addr.port, 5002);
    assert_eq!(env.unexpected.len(), 1);
    assert!(env.unexpected_unknown == 0);
}

#[test]
fn state_of_other_helpers_fields_survives() {
    // The RAS timeout and a Q.931 tpkt_len of the other direction are kept.
    let st = H323State {
        tpkt_len: [7, 0],
        ..H323State::default()
    };
    let status = CtStatus(CtStatus::CONFIRMED | CtStatus::SEEN_REPLY);
    let mut env = TestEnv::default();
    let r = run_with(
        &q931(),
        q931_masq(),
        Dir::Reply,
        &tpkt(&vector("alerting")),
        st.encode(),
        status,
        &mut env,
    );
    assert_eq!(r.state.tpkt_len, [7, 0]);
}

// --- timing (a quick measurement; criterion benches are the performance
// engineer's): cargo test --release -p cthelper-helpers --test h323 time_ -- --ignored --nocapture

#[test]
#[ignore]
fn time_q931_setup_with_fast_start() {
    let seg = setup();
    let n = 100_000u32;
    for (name, conn) in [("no NAT", q931_plain()), ("under NAT", q931_masq())] {
        let pkt = Packet {
            conn,
            payload: &seg,
            tcp_seq: Some(1000),
            ..Packet::EMPTY
        };
        let h = q931();
        let t = std::time::Instant::now();
        let mut edits = 0;
        for _ in 0..n {
            let mut env = TestEnv::default();
            edits += std::hint::black_box(h.handle(std::hint::black_box(&pkt), &mut env))
                .edits
                .len();
        }
        let ns = t.elapsed().as_nanos() as f64 / f64::from(n);
        eprintln!(
            "Q.931 helper, Setup with 2 fastStart OLCs + 1 tunnelled OLC ({} bytes), {name}: {ns:.0} ns/packet ({} edits)",
            seg.len(),
            edits / n as usize
        );
    }
}
