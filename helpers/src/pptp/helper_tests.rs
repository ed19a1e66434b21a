//! Tests of the `pptp` helper on hand-built control messages: one call with
//! and without NAT, two calls, two clients behind one NAT, split and
//! joined messages, bad headers, incoming calls, teardown and redial.

use super::helper::{exp_to_pac, exp_to_pns, Pptp, INFO};
use super::msg::{build, MsgType};
use super::state::{CallState, SessionState, State};
use crate::conn::{ConnView, CtState, Dir, L4Proto, Tuple};
use crate::edit;
use crate::event::Reason;
use crate::expect::{ExpectFlags, ExpectFn, SrcAddr};
use crate::helper::{Helper, Outcome, Packet, PrivData};
use crate::testing::TestEnv;
use std::net::IpAddr;

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

const PNS: &str = "10.0.1.2";
const PAC: &str = "10.0.2.2";
const ROUTER: &str = "10.0.2.1";

/// The control connection PNS:sport → PAC:1723, masqueraded to
/// ROUTER:out_port when `out_port` is given.
fn conn(sport: u16, out_port: Option<u16>) -> ConnView {
    let orig = Tuple {
        src: ip(PNS),
        dst: ip(PAC),
        proto: L4Proto::Tcp,
        sport,
        dport: 1723,
    };
    let mut c = ConnView::plain(orig);
    if let Some(p) = out_port {
        c.reply.dst = ip(ROUTER);
        c.reply.dport = p;
    }
    c
}

fn be(v: u16) -> [u8; 2] {
    v.to_be_bytes()
}

fn sccrq() -> Vec<u8> {
    build(MsgType::Sccrq, &[1, 0])
}
fn sccrp(result: u8) -> Vec<u8> {
    build(MsgType::Sccrp, &[1, 0, result, 0])
}
fn ocrq(call: u16) -> Vec<u8> {
    let [a, b] = be(call);
    build(MsgType::Ocrq, &[a, b, 0, 1])
}
fn ocrp(call: u16, peer: u16, result: u8) -> Vec<u8> {
    let ([a, b], [c, d]) = (be(call), be(peer));
    build(MsgType::Ocrp, &[a, b, c, d, result, 0, 0, 0])
}
fn icrq(call: u16) -> Vec<u8> {
    let [a, b] = be(call);
    build(MsgType::Icrq, &[a, b, 0, 1])
}
fn icrp(call: u16, peer: u16, result: u8) -> Vec<u8> {
    let ([a, b], [c, d]) = (be(call), be(peer));
    build(MsgType::Icrp, &[a, b, c, d, result, 0])
}
fn iccn(peer: u16) -> Vec<u8> {
    let [a, b] = be(peer);
    build(MsgType::Iccn, &[a, b])
}
fn ccrq(call: u16) -> Vec<u8> {
    let [a, b] = be(call);
    build(MsgType::Ccrq, &[a, b])
}
fn cdn(call: u16) -> Vec<u8> {
    let [a, b] = be(call);
    build(MsgType::Cdn, &[a, b, 1, 0])
}
fn echo() -> Vec<u8> {
    build(MsgType::EchoRq, &[0, 0, 0, 7])
}

/// One control connection through the helper.
struct Session {
    h: Pptp,
    conn: ConnView,
    state: PrivData,
    env: TestEnv,
}

impl Session {
    fn new(sport: u16, out_port: Option<u16>) -> Self {
        Session {
            h: Pptp::default(),
            conn: conn(sport, out_port),
            state: PrivData::ZERO,
            env: TestEnv::default(),
        }
    }
    /// Sends `payload` in `dir`; returns the outcome and the payload as it
    /// leaves.
    fn send(&mut self, dir: Dir, payload: &[u8]) -> (Outcome, Vec<u8>) {
        let pkt = Packet {
            conn: self.conn,
            dir,
            payload,
            state: self.state,
            tcp_seq: Some(1),
            ..Packet::EMPTY
        };
        let out = self.h.handle(&pkt, &mut self.env);
        if let Some(s) = out.state {
            self.state = s;
        }
        let after = edit::apply(payload, &out.edits).unwrap();
        (out, after)
    }
    fn pns(&mut self, p: &[u8]) -> (Outcome, Vec<u8>) {
        self.send(Dir::Original, p)
    }
    fn pac(&mut self, p: &[u8]) -> (Outcome, Vec<u8>) {
        self.send(Dir::Reply, p)
    }
    fn st(&self) -> State {
        State::decode(self.state.as_bytes())
    }
    fn start(&mut self) {
        self.pns(&sccrq());
        self.pac(&sccrp(1));
        assert_eq!(self.st().session, SessionState::Confirmed);
    }
    fn live(&self) -> Vec<(IpAddr, IpAddr, u16)> {
        let mut v: Vec<_> = self
            .env
            .live()
            .map(|e| (e.src.exact().unwrap(), e.dst, e.dport))
            .collect();
        v.sort();
        v
    }
}

fn reasons(o: &Outcome) -> Vec<Reason> {
    o.events.iter().map(|e| e.reason).collect()
}

#[test]
fn info_is_the_kernels() {
    assert_eq!(INFO.name, "pptp");
    assert_eq!(INFO.default_ports, &[1723]);
    assert_eq!(INFO.l4, &[L4Proto::Tcp]);
    assert!(INFO.ipv4 && !INFO.ipv6);
    assert_eq!(INFO.policies, &[("pptp", 4, 300)]);
    assert_eq!(INFO.priv_len, 16);
    assert!(crate::registry::find("pptp").is_some());
    let names: Vec<_> = crate::REGISTRY.iter().map(|h| h.name).collect();
    let at = |n: &str| names.iter().position(|x| *x == n).unwrap();
    assert_eq!(at("pptp"), at("H.245") + 1);
    assert_eq!(at("snmp"), at("pptp") + 1);
}

#[test]
fn one_call_without_nat_expects_gre_both_ways_and_cdn_removes_it() {
    let mut s = Session::new(40000, None);
    s.start();
    let (o, after) = s.pns(&ocrq(0x0100));
    assert!(o.edits.is_empty() && s.env.created.is_empty());
    assert_eq!(after, ocrq(0x0100));
    let (o, _) = s.pac(&ocrp(0x4001, 0x0100, 1));
    assert!(o.edits.is_empty(), "{o:?}");
    assert_eq!(
        s.live(),
        vec![(ip(PNS), ip(PAC), 0x4001), (ip(PAC), ip(PNS), 0x0100)]
    );
    for e in s.env.live() {
        assert_eq!(e.proto, L4Proto::Gre);
        assert_eq!(e.sport, None, "the src key is always 0 without the keymap");
        assert_eq!(e.flags, ExpectFlags::PERMANENT);
        assert_eq!((e.class, e.helper, e.nat), (0, None, None));
    }
    let st = s.st();
    assert_eq!(st.calls[0].state, CallState::OutConf);
    assert_eq!(
        (st.calls[0].pns_in, st.calls[0].pns_out, st.calls[0].pac),
        (0x0100, 0x0100, 0x4001)
    );
    // Echo refreshes both to the policy timeout.
    s.pns(&echo());
    assert_eq!(s.env.updated.len(), 2);
    assert!(s.env.updated.iter().all(|(_, c)| c.timeout == Some(300)));
    // CDN with the PAC's ID (RFC, pptpd).
    let (o, after) = s.pac(&cdn(0x4001));
    assert!(o.edits.is_empty());
    assert_eq!(after, cdn(0x4001));
    assert!(s.live().is_empty());
    assert_eq!(s.env.unexpected_unknown, 0);
    assert!(s.st().calls.iter().all(|c| c.is_free()));
}

#[test]
fn nat_rewrites_the_pns_call_id_to_the_masqueraded_port() {
    let mut s = Session::new(40000, Some(60514));
    s.start();
    let (o, after) = s.pns(&ocrq(0x0100));
    assert_eq!(after, ocrq(60514), "the kernel's choice: reply.dport");
    assert_eq!(o.edits.len(), 1);
    // Reserved at OCRQ: the PAC→PNS expectation.
    let e = s.env.created[0].clone();
    assert_eq!(
        (e.src, e.dst, e.dport),
        (SrcAddr::Exact(ip(PAC)), ip(ROUTER), 60514)
    );
    let n = e.nat.unwrap();
    assert_eq!(
        (n.dir, n.saved_addr, n.saved_port, n.expectfn),
        (Dir::Reply, ip(PNS), 0x0100, ExpectFn::NatFollowMaster)
    );
    let (_, after) = s.pac(&ocrp(0x4001, 60514, 1));
    assert_eq!(
        after,
        ocrp(0x4001, 0x0100, 1),
        "peer ID back to the inside one"
    );
    assert_eq!(s.env.created.len(), 2);
    let e = s.env.created[1].clone();
    assert_eq!(
        (e.src, e.dst, e.dport),
        (SrcAddr::Exact(ip(PNS)), ip(PAC), 0x4001)
    );
    let n = e.nat.unwrap();
    assert_eq!(
        (n.dir, n.saved_addr, n.saved_port),
        (Dir::Original, ip(PAC), 0x4001)
    );
    // CCRQ: the call ID rewritten, the expectations go.
    let (_, after) = s.pns(&ccrq(0x0100));
    assert_eq!(after, ccrq(60514));
    assert!(s.live().is_empty());
    assert_eq!(s.st().calls[0].state, CallState::ClearReq);
    // CDN with the PNS's outside ID (accel-ppp, Windows): rewritten back.
    let (_, after) = s.pac(&cdn(60514));
    assert_eq!(after, cdn(0x0100));
    assert!(s.st().calls.iter().all(|c| c.is_free()));
    // CDN with the PAC's own ID is never rewritten, even if it is pns_out.
    let mut s = Session::new(40000, Some(0x4001));
    s.start();
    s.pns(&ocrq(0x0100));
    s.pac(&ocrp(0x4001, 0x4001, 1));
    let (_, after) = s.pac(&cdn(0x4001));
    assert_eq!(after, cdn(0x4001));
}

#[test]
fn two_clients_behind_one_nat_with_the_same_call_id_get_distinct_outside_ids() {
    // Both clients use inside call ID 0x0100; masquerade gave them outside
    // ports 40000 and 40001.
    let mut a = Session::new(40000, Some(40000));
    let mut b = Session::new(40000, Some(40001));
    b.conn.orig.src = ip("10.0.3.2");
    b.conn.reply = Tuple {
        dst: ip(ROUTER),
        dport: 40001,
        ..b.conn.orig.inverse()
    };
    for s in [&mut a, &mut b] {
        s.start();
    }
    let (_, pa) = a.pns(&ocrq(0x0100));
    let (_, pb) = b.pns(&ocrq(0x0100));
    assert_eq!(pa, ocrq(40000));
    assert_eq!(pb, ocrq(40001));
    a.pac(&ocrp(0x4001, 40000, 1));
    b.pac(&ocrp(0x4002, 40001, 1));
    let to_pns = |s: &Session| {
        s.env
            .live()
            .filter(|e| e.dst == ip(ROUTER))
            .map(|e| {
                (
                    e.dport,
                    e.nat.unwrap().saved_addr,
                    e.nat.unwrap().saved_port,
                )
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(to_pns(&a), vec![(40000, ip(PNS), 0x0100)]);
    assert_eq!(to_pns(&b), vec![(40001, ip("10.0.3.2"), 0x0100)]);
}

#[test]
fn a_clash_on_the_outside_id_takes_another() {
    let mut s = Session::new(40000, Some(40000));
    s.env.clash.insert(40000);
    s.start();
    let (o, after) = s.pns(&ocrq(0x0100));
    let st = s.st();
    let out = st.calls[0].pns_out;
    assert_ne!(out, 40000);
    assert!(out > 40000);
    assert_eq!(after, ocrq(out));
    assert!(st.calls[0].exp_to_pns);
    assert!(o.events.is_empty(), "{o:?}");
    // Everything clashes: the kernel's ID, no reservation, counted.
    let mut s = Session::new(40000, Some(40000));
    s.env.clash_all = true;
    s.start();
    let (o, after) = s.pns(&ocrq(0x0100));
    assert_eq!(after, ocrq(40000));
    assert_eq!(reasons(&o), vec![Reason::ExpectFailed]);
    assert!(!s.st().calls[0].exp_to_pns);
}

#[test]
fn two_calls_on_one_connection_under_nat() {
    let mut s = Session::new(40000, Some(40000));
    s.start();
    s.pns(&ocrq(0x0100));
    s.pac(&ocrp(0x4001, 40000, 1));
    let (_, after) = s.pns(&ocrq(0x0101));
    let second = s.st().calls[1].pns_out;
    assert_ne!(second, 40000, "never the other call's outside ID");
    assert_eq!(after, ocrq(second));
    let (_, after) = s.pac(&ocrp(0x4002, second, 1));
    assert_eq!(after, ocrp(0x4002, 0x0101, 1));
    assert_eq!(s.env.live().count(), 4);
    // A third call evicts the least recently used (the first).
    let (o, _) = s.pns(&ocrq(0x0102));
    assert!(reasons(&o).contains(&Reason::ExpectRemoved), "{o:?}");
    let st = s.st();
    assert!(st.calls.iter().all(|c| c.pns_in != 0x0100));
    assert_eq!(s.env.live().count(), 3);
    assert_eq!(s.env.unexpected_unknown, 0);
}

#[test]
fn a_call_torn_down_and_made_again() {
    let mut s = Session::new(40000, Some(40000));
    s.start();
    for pac in [0x4001, 0x4002] {
        let (_, after) = s.pns(&ocrq(0x0100));
        assert_eq!(after, ocrq(40000));
        s.pac(&ocrp(pac, 40000, 1));
        assert_eq!(s.env.live().count(), 2);
        s.pns(&ccrq(0x0100));
        s.pac(&cdn(pac));
        assert_eq!(s.env.live().count(), 0);
    }
    assert_eq!(s.env.unexpected_unknown, 0);
}

#[test]
fn a_failed_outgoing_call_removes_the_reservation() {
    let mut s = Session::new(40000, Some(40000));
    s.start();
    s.pns(&ocrq(0x0100));
    assert_eq!(s.env.live().count(), 1);
    let (_, after) = s.pac(&ocrp(0, 40000, 2));
    assert_eq!(after, ocrp(0, 0x0100, 2));
    assert_eq!(s.env.live().count(), 0);
    assert!(s.st().calls[0].is_free());
}

#[test]
fn incoming_call() {
    let mut s = Session::new(40000, Some(50000));
    s.start();
    s.pac(&icrq(0x4001));
    assert_eq!(s.st().calls[0].state, CallState::InReq);
    let (_, after) = s.pns(&icrp(0x0200, 0x4001, 1));
    assert_eq!(after, icrp(50000, 0x4001, 1), "call ID out, PAC's kept");
    let (_, after) = s.pac(&iccn(50000));
    assert_eq!(after, iccn(0x0200));
    assert_eq!(
        s.live(),
        vec![(ip(PNS), ip(PAC), 0x4001), (ip(PAC), ip(ROUTER), 50000)]
    );
    assert_eq!(s.st().calls[0].state, CallState::InConf);
}

#[test]
fn messages_before_the_session_is_confirmed_change_nothing() {
    let mut s = Session::new(40000, None);
    let (o, _) = s.pns(&ocrq(0x0100));
    assert_eq!(reasons(&o), vec![Reason::InvalidState]);
    assert!(o.state.is_none());
    s.pns(&sccrq());
    s.pac(&sccrp(2));
    assert_eq!(s.st().session, SessionState::Error);
    let (o, _) = s.pac(&ocrp(1, 0x0100, 1));
    assert_eq!(reasons(&o), vec![Reason::InvalidState]);
    assert!(s.env.calls.is_empty());
    // An OCRP for a call never requested.
    let mut s = Session::new(40000, None);
    s.start();
    let (o, _) = s.pac(&ocrp(1, 0x0100, 1));
    assert_eq!(reasons(&o), vec![Reason::InvalidState]);
    assert!(s.env.calls.is_empty());
}

#[test]
fn several_messages_in_one_segment() {
    let mut s = Session::new(40000, Some(40000));
    let mut seg = sccrq();
    s.pns(&seg);
    seg = sccrp(1);
    seg.extend(echo());
    s.pac(&seg);
    // Two calls requested in one segment, their replies in one segment.
    let mut seg = ocrq(0x0100);
    seg.extend(ocrq(0x0101));
    let (o, after) = s.pns(&seg);
    assert_eq!(o.edits.len(), 2);
    let st = s.st();
    let (o1, o2) = (st.calls[0].pns_out, st.calls[1].pns_out);
    assert_eq!(o1, 40000);
    let mut want = ocrq(o1);
    want.extend(ocrq(o2));
    assert_eq!(after, want);
    let mut seg = ocrp(0x4001, o1, 1);
    seg.extend(echo());
    seg.extend(ocrp(0x4002, o2, 1));
    let (o, after) = s.pac(&seg);
    assert_eq!(o.edits.len(), 2);
    let mut want = ocrp(0x4001, 0x0100, 1);
    want.extend(echo());
    want.extend(ocrp(0x4002, 0x0101, 1));
    assert_eq!(after, want);
    assert_eq!(s.env.live().count(), 4);
}

#[test]
fn a_message_split_over_segments_is_held_and_handled_whole() {
    let mut s = Session::new(40000, Some(40000));
    s.start();
    let mut seg = echo();
    let ocrq = ocrq(0x0100);
    seg.extend_from_slice(&ocrq[..100]);
    let (o, _) = s.pns(&seg);
    assert_eq!(o.incomplete, Some(16));
    assert!(reasons(&o).contains(&Reason::Partial));
    assert!(s.env.created.is_empty());
    // Cut inside the header too.
    let (o, _) = s.pns(&ocrq[..5]);
    assert_eq!(o.incomplete, Some(0));
    // The flow core calls again with the held bytes and the next segment.
    let (o, after) = s.pns(&ocrq);
    assert_eq!(o.incomplete, None);
    assert_eq!(after, super::msg::build(MsgType::Ocrq, &[0x9c, 0x40, 0, 1]));
    assert_eq!(s.env.created.len(), 1);
}

#[test]
fn bad_cookie_and_bad_length_pass_unchanged() {
    let mut s = Session::new(40000, Some(40000));
    s.start();
    let before = s.state;
    let mut bad = ocrq(0x0100);
    bad[4] = 0x1b;
    let (o, after) = s.pns(&bad);
    assert_eq!(after, bad);
    assert_eq!(reasons(&o), vec![Reason::Malformed]);
    assert_eq!(o.incomplete, None);
    assert_eq!(s.state, before);
    let mut bad = ocrq(0x0100);
    bad[0..2].copy_from_slice(&[0, 8]);
    let (o, after) = s.pns(&bad);
    assert_eq!(after, bad);
    assert_eq!(reasons(&o), vec![Reason::Malformed]);
    // A good message followed by garbage: the good one is handled.
    let mut seg = ocrq(0x0100);
    seg.extend_from_slice(b"GET / HTTP/1.0\r\n\r\n");
    let (o, after) = s.pns(&seg);
    assert_eq!(reasons(&o), vec![Reason::Malformed]);
    assert_eq!(&after[..168], &ocrq(40000)[..]);
    // A message too short for its type is skipped.
    let mut short = ocrq(0x0100);
    short.truncate(100);
    short[0..2].copy_from_slice(&100u16.to_be_bytes());
    let (o, after) = s.pns(&short);
    assert_eq!(after, short);
    assert_eq!(reasons(&o), vec![Reason::Malformed]);
}

#[test]
fn only_established_ipv4_packets() {
    let h = Pptp::default();
    let mut env = TestEnv::default();
    let c = conn(40000, Some(40000));
    let p = sccrq();
    let pkt = Packet {
        conn: c,
        payload: &p,
        ctinfo: CtState::New,
        ..Packet::EMPTY
    };
    assert_eq!(h.handle(&pkt, &mut env), Outcome::default());
}

#[test]
fn expectations_follow_the_design_table() {
    let c = conn(40000, Some(60514));
    let pkt = Packet {
        conn: c,
        ..Packet::EMPTY
    };
    let call = super::state::Call {
        state: CallState::OutConf,
        exp_to_pns: true,
        exp_to_pac: true,
        pns_in: 0x100,
        pns_out: 60514,
        pac: 0x80,
    };
    let a = exp_to_pac(&pkt, &call, false);
    assert_eq!(a.tuple().to_string(), "gre 10.0.1.2:0 -> 10.0.2.2:128");
    assert!(a.nat.is_none());
    let b = exp_to_pns(&pkt, &call, true);
    assert_eq!(b.tuple().to_string(), "gre 10.0.2.2:0 -> 10.0.2.1:60514");
}

#[test]
fn any_stream_never_panics_and_state_stays_in_16_bytes() {
    use proptest::prelude::*;
    let msgs = [
        sccrq(),
        sccrp(1),
        ocrq(1),
        ocrp(2, 1, 1),
        icrq(3),
        icrp(4, 3, 1),
        iccn(4),
        ccrq(1),
        cdn(2),
        echo(),
    ];
    proptest!(|(seq in proptest::collection::vec((0usize..10, any::<bool>(), 0u16..4, 0usize..200), 0..30))| {
        let mut s = Session::new(40000, Some(40000));
        for (i, reply, id, cut) in seq {
            let mut m = msgs[i].clone();
            if m.len() > 14 { m[12..14].copy_from_slice(&id.to_be_bytes()); }
            m.truncate(cut.max(1).min(m.len()));
            let (o, _) = s.send(if reply { Dir::Reply } else { Dir::Original }, &m);
            prop_assert!(s.state.as_bytes()[16..].iter().all(|&b| b == 0));
            prop_assert!(o.edits.iter().all(|e| e.len == 2));
        }
        prop_assert_eq!(s.env.unexpected_unknown, 0);
    });
}
