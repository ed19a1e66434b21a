//! SIP helper: requests and responses, compact forms, TCP framing, SDP
//! (every m= line, IPv6, multipart, hold), expectations (media, REGISTER),
//! flushes, refusals and NAT rewrites with exact bytes.

mod common;
use common::{ip, reason_names, tuple as t, Done};

use std::net::IpAddr;

use helpers::sip::{Sip, SipState};
use helpers::testing::TestEnv as FakeEnv;
use helpers::{
    edit, ConnView, Dir, ExpectChange, ExpectError, ExpectFlags, ExpectNat, Expectation, Helper,
    L4Proto, Outcome, Packet, PrivData, Reason, SrcAddr,
};

/// Phone 10.0.0.10 talks to the proxy 203.0.113.5 without NAT.
fn plain(proto: L4Proto) -> ConnView {
    ConnView::plain(t(proto, "10.0.0.10", 5060, "203.0.113.5", 5060))
}

/// Phone 10.0.0.10 masqueraded to 198.51.100.1 towards 203.0.113.5.
fn snat(proto: L4Proto) -> ConnView {
    ConnView {
        orig: t(proto, "10.0.0.10", 5060, "203.0.113.5", 5060),
        reply: t(proto, "203.0.113.5", 5060, "198.51.100.1", 5060),
    }
}

/// Caller 198.51.100.7 reaches the PBX at the public 203.0.113.1, DNATed to
/// 10.0.0.5.
fn dnat() -> ConnView {
    ConnView {
        orig: t(L4Proto::Udp, "198.51.100.7", 5060, "203.0.113.1", 5060),
        reply: t(L4Proto::Udp, "10.0.0.5", 5060, "198.51.100.7", 5060),
    }
}

fn run_with(
    sip: &Sip,
    conn: ConnView,
    dir: Dir,
    payload: &[u8],
    state: PrivData,
    env: &mut FakeEnv,
) -> Done {
    run_pkt(sip, conn, dir, payload, state, None, env)
}

/// `run_with` for a packet that leaves by interface `outdev`.
fn run_pkt(
    sip: &Sip,
    conn: ConnView,
    dir: Dir,
    payload: &[u8],
    state: PrivData,
    outdev: Option<u32>,
    env: &mut FakeEnv,
) -> Done {
    let tcp = conn.orig.proto == L4Proto::Tcp;
    let pkt = Packet {
        conn,
        dir,
        payload,
        tcp_seq: tcp.then_some(1000),
        state,
        outdev,
        ..Packet::EMPTY
    };
    let before: Vec<Expectation> = env.live().cloned().collect();
    let out = sip.handle(&pkt, env);
    // Every outcome's edits apply, and without NAT there are none.
    let edited = edit::apply(payload, &out.edits).expect("edits apply");
    assert_eq!(edited.len() as isize - payload.len() as isize, out.delta());
    if !conn.nat() {
        assert!(out.edits.is_empty(), "no rewrite without NAT");
    }
    // What the packet made is what the table gained.
    Done::checked(out, env, &before)
}

fn run(conn: ConnView, dir: Dir, payload: &[u8], env: &mut FakeEnv) -> Done {
    run_with(&Sip::default(), conn, dir, payload, PrivData::ZERO, env)
}

fn applied(payload: &[u8], out: &Outcome) -> String {
    String::from_utf8(edit::apply(payload, &out.edits).unwrap()).unwrap()
}

/// A message with a correct Content-Length for `body`.
fn message(head: &str, body: &str) -> String {
    format!("{head}Content-Length: {}\r\n\r\n{body}", body.len())
}

fn sdp(addr: &str, media: &str) -> String {
    format!(
        "v=0\r\no=alice 2890844526 2890844526 IN IP4 {addr}\r\ns=-\r\nc=IN IP4 {addr}\r\nt=0 0\r\n{media}"
    )
}

fn invite(from: &str, to: &str, body: &str) -> String {
    message(
        &format!(
            "INVITE sip:bob@{to} SIP/2.0\r\nVia: SIP/2.0/UDP {from}:5060;branch=z9hG4bK776\r\n\
             Max-Forwards: 70\r\nTo: Bob <sip:bob@{to}>\r\nFrom: Alice <sip:alice@{from}>;tag=19\r\n\
             Call-ID: a84b4c76e66710@{from}\r\nCSeq: 314159 INVITE\r\n\
             Contact: <sip:alice@{from}:5060>\r\nContent-Type: application/sdp\r\n"
        ),
        body,
    )
}

fn media_pair(exps: &[Expectation]) -> Vec<(u8, IpAddr, u16)> {
    exps.iter().map(|e| (e.class, e.dst, e.dport)).collect()
}

#[test]
fn invite_expects_rtp_and_rtcp() {
    let mut env = FakeEnv::default();
    let m = invite(
        "10.0.0.10",
        "203.0.113.5",
        &sdp("10.0.0.10", "m=audio 49170 RTP/AVP 0\r\n"),
    );
    let out = run(plain(L4Proto::Udp), Dir::Original, m.as_bytes(), &mut env);
    assert_eq!(
        media_pair(&out.expectations),
        vec![(1, ip("10.0.0.10"), 49170), (1, ip("10.0.0.10"), 49171)]
    );
    for e in &out.expectations {
        assert_eq!(
            e.src,
            SrcAddr::Exact(ip("203.0.113.5")),
            "sip_direct_media: from the peer"
        );
        assert_eq!(
            (e.proto, e.sport, e.flags, e.helper, e.nat),
            (L4Proto::Udp, None, ExpectFlags::NONE, None, None)
        );
    }
    assert_eq!(
        env.removed,
        vec![vec![1, 2, 3]],
        "INVITE flushes media first"
    );
    let st = SipState::decode(&out.state.unwrap());
    assert_eq!(st.invite_cseq, Some(314159));
}

#[test]
fn odd_port_and_rtcp_attribute() {
    let mut env = FakeEnv::default();
    let m = invite(
        "10.0.0.10",
        "203.0.113.5",
        &sdp(
            "10.0.0.10",
            "m=audio 5005 RTP/AVP 0\r\nm=video 6000 RTP/AVP 31\r\na=rtcp:7001\r\n",
        ),
    );
    let out = run(plain(L4Proto::Udp), Dir::Original, m.as_bytes(), &mut env);
    let ports: Vec<u16> = out.expectations.iter().map(|e| e.dport).collect();
    // The kernel expects the even port below an odd one, and its successor.
    assert_eq!(ports, vec![5004, 5005, 6000, 7001]);
    assert_eq!(out.expectations[2].class, 2);
}

#[test]
fn five_media_lines_all_expected() {
    let media =
        "m=audio 10000 RTP/AVP 0\r\nm=video 10002 RTP/AVP 31\r\nm=image 10004 udptl t38\r\n\
                 m=audio 10006 RTP/AVP 8\r\nm=video 10008 RTP/AVP 34\r\n";
    let mut env = FakeEnv::default();
    let m = invite("10.0.0.10", "203.0.113.5", &sdp("10.0.0.10", media));
    let out = run(plain(L4Proto::Udp), Dir::Original, m.as_bytes(), &mut env);
    assert_eq!(
        out.expectations.len(),
        10,
        "the kernel stops after 3 m= lines"
    );
    let classes: Vec<u8> = out
        .expectations
        .iter()
        .step_by(2)
        .map(|e| e.class)
        .collect();
    assert_eq!(classes, vec![1, 2, 3, 1, 2]);
    assert_eq!(out.expectations[9].dport, 10009);
}

#[test]
fn disabled_other_and_low_ports() {
    let media = "m=audio 0 RTP/AVP 0\r\nm=text 11000 RTP/AVP 98\r\nm=audio 1000 RTP/AVP 0\r\nm=audio 12000 RTP/AVP 0\r\n";
    let mut env = FakeEnv::default();
    let m = invite("10.0.0.10", "203.0.113.5", &sdp("10.0.0.10", media));
    let out = run(plain(L4Proto::Udp), Dir::Original, m.as_bytes(), &mut env);
    assert_eq!(
        out.expectations.iter().map(|e| e.dport).collect::<Vec<_>>(),
        vec![12000, 12001]
    );
    assert!(out.events.iter().any(|e| e.reason.name() == "low_port"));
    assert!(
        !out.drop,
        "the kernel drops the packet; we refuse the line only"
    );
}

#[test]
fn third_party_media_needs_direct_media_off() {
    let body = sdp("10.0.0.99", "m=audio 20000 RTP/AVP 0\r\n");
    let m = invite("10.0.0.10", "203.0.113.5", &body);
    let mut env = FakeEnv::default();
    let out = run(plain(L4Proto::Udp), Dir::Original, m.as_bytes(), &mut env);
    assert!(out.expectations.is_empty());
    let loose = Sip {
        direct_media: false,
        ..Sip::default()
    };
    let out = run_with(
        &loose,
        plain(L4Proto::Udp),
        Dir::Original,
        m.as_bytes(),
        PrivData::ZERO,
        &mut env,
    );
    assert_eq!(out.expectations.len(), 2);
    assert_eq!(out.expectations[0].src, SrcAddr::Any);
    assert_eq!(out.expectations[0].dst, ip("10.0.0.99"));
    // sip_external_media: media reached like the signalling peer → none.
    let ext = Sip {
        direct_media: false,
        external_media: true,
        ..Sip::default()
    };
    let mut env = FakeEnv {
        routes: [(ip("10.0.0.99"), 3)].into_iter().collect(),
        ..FakeEnv::default()
    };
    let out = run_pkt(
        &ext,
        plain(L4Proto::Udp),
        Dir::Original,
        m.as_bytes(),
        PrivData::ZERO,
        Some(3),
        &mut env,
    );
    assert!(out.expectations.is_empty());
}

#[test]
fn response_with_sdp_and_compact_forms() {
    let body = "v=0\r\no=bob 1 1 IN IP4 203.0.113.5\r\ns=-\r\nc=IN IP4 203.0.113.5\r\nt=0 0\r\nm=audio 30000 RTP/AVP 0\r\n";
    let m = format!(
        "SIP/2.0 200 OK\r\nv: SIP/2.0/UDP 10.0.0.10:5060;branch=z9\r\nf: <sip:alice@10.0.0.10>;tag=1\r\n\
         t: <sip:bob@203.0.113.5>;tag=2\r\ni: abc@10.0.0.10\r\ncseq: 7 INVITE\r\nm: <sip:bob@203.0.113.5>\r\n\
         c: application/sdp\r\nl: {}\r\n\r\n{body}",
        body.len()
    );
    let mut env = FakeEnv::default();
    let out = run(plain(L4Proto::Udp), Dir::Reply, m.as_bytes(), &mut env);
    assert_eq!(
        media_pair(&out.expectations),
        vec![(1, ip("203.0.113.5"), 30000), (1, ip("203.0.113.5"), 30001)]
    );
    assert_eq!(out.expectations[0].src, SrcAddr::Exact(ip("10.0.0.10")));
}

#[test]
fn error_response_flushes_only_the_invite_transaction() {
    let st = SipState {
        invite_cseq: Some(7),
        ..SipState::default()
    }
    .encode();
    let busy = |cseq: u32| {
        message(
            &format!("SIP/2.0 486 Busy Here\r\nVia: SIP/2.0/UDP 10.0.0.10:5060\r\nCSeq: {cseq} INVITE\r\n"),
            "",
        )
    };
    let mut env = FakeEnv::default();
    run_with(
        &Sip::default(),
        plain(L4Proto::Udp),
        Dir::Reply,
        busy(8).as_bytes(),
        st,
        &mut env,
    );
    assert!(env.removed.is_empty());
    run_with(
        &Sip::default(),
        plain(L4Proto::Udp),
        Dir::Reply,
        busy(7).as_bytes(),
        st,
        &mut env,
    );
    assert_eq!(env.removed, vec![vec![1, 2, 3]]);
}

#[test]
fn bye_and_cancel_flush_media() {
    for method in ["BYE", "CANCEL", "bye"] {
        let m = message(
            &format!("{method} sip:bob@203.0.113.5 SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.10:5060\r\nCSeq: 2 {method}\r\n"),
            "",
        );
        let mut env = FakeEnv::default();
        let out = run(plain(L4Proto::Udp), Dir::Original, m.as_bytes(), &mut env);
        assert_eq!(env.removed, vec![vec![1, 2, 3]], "{method}");
        assert!(out.expectations.is_empty());
    }
    // Without a CSeq nothing is decided (the kernel drops; we pass).
    let m = message("BYE sip:bob@203.0.113.5 SIP/2.0\r\n", "");
    let mut env = FakeEnv::default();
    let out = run(plain(L4Proto::Udp), Dir::Original, m.as_bytes(), &mut env);
    assert!(env.removed.is_empty() && !out.drop);
    assert_eq!(out.events[0].reason.name(), "malformed");
}

#[test]
fn reinvite_and_hold() {
    let mut env = FakeEnv::default();
    let first = invite(
        "10.0.0.10",
        "203.0.113.5",
        &sdp("10.0.0.10", "m=audio 40000 RTP/AVP 0\r\n"),
    );
    run(
        plain(L4Proto::Udp),
        Dir::Original,
        first.as_bytes(),
        &mut env,
    );
    assert_eq!(env.created.len(), 2);
    // Re-INVITE moving the media: the old pair is flushed, a new one made.
    let second = invite(
        "10.0.0.10",
        "203.0.113.5",
        &sdp("10.0.0.10", "m=audio 40100 RTP/AVP 0\r\n"),
    );
    run(
        plain(L4Proto::Udp),
        Dir::Original,
        second.as_bytes(),
        &mut env,
    );
    assert_eq!(
        env.created.iter().map(|e| e.dport).collect::<Vec<_>>(),
        vec![40100, 40101]
    );
    // Hold, RFC 2543 style: no expectation at 0.0.0.0.
    let hold = invite(
        "10.0.0.10",
        "203.0.113.5",
        &sdp("0.0.0.0", "m=audio 40100 RTP/AVP 0\r\na=sendonly\r\n"),
    );
    let out = run(
        plain(L4Proto::Udp),
        Dir::Original,
        hold.as_bytes(),
        &mut env,
    );
    assert!(out.expectations.is_empty());
    // Hold, RFC 3264 style: the stream keeps its address and is expected.
    let hold = invite(
        "10.0.0.10",
        "203.0.113.5",
        &sdp("10.0.0.10", "m=audio 40100 RTP/AVP 0\r\na=sendonly\r\n"),
    );
    let out = run(
        plain(L4Proto::Udp),
        Dir::Original,
        hold.as_bytes(),
        &mut env,
    );
    assert_eq!(out.expectations.len(), 2);
}

#[test]
fn hold_under_nat_keeps_owner_and_connection_sane() {
    // The kernel writes its rtp_addr (here 0.0.0.0) into o= as well.
    let body = "v=0\r\no=alice 1 2 IN IP4 10.0.0.10\r\ns=-\r\nc=IN IP4 0.0.0.0\r\nt=0 0\r\nm=audio 40100 RTP/AVP 0\r\na=inactive\r\n";
    let m = invite("10.0.0.10", "203.0.113.5", body);
    let mut env = FakeEnv::default();
    let out = run(snat(L4Proto::Udp), Dir::Original, m.as_bytes(), &mut env);
    assert!(out.expectations.is_empty());
    let new = applied(m.as_bytes(), &out);
    assert!(new.contains("o=alice 1 2 IN IP4 198.51.100.1\r\n"), "{new}");
    assert!(new.contains("c=IN IP4 0.0.0.0\r\n"));
    let body_len = new.split("\r\n\r\n").nth(1).unwrap().len();
    assert!(new.contains(&format!("Content-Length: {body_len}\r\n")));
}

#[test]
fn snat_invite_exact_bytes() {
    let m = invite(
        "10.0.0.10",
        "203.0.113.5",
        &sdp(
            "10.0.0.10",
            "m=audio 49170 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n",
        ),
    );
    let mut env = FakeEnv::default();
    let out = run(snat(L4Proto::Udp), Dir::Original, m.as_bytes(), &mut env);
    let body = "v=0\r\no=alice 2890844526 2890844526 IN IP4 198.51.100.1\r\ns=-\r\nc=IN IP4 198.51.100.1\r\nt=0 0\r\nm=audio 49170 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n";
    let expected = format!(
        "INVITE sip:bob@203.0.113.5 SIP/2.0\r\nVia: SIP/2.0/UDP 198.51.100.1:5060;branch=z9hG4bK776\r\n\
         Max-Forwards: 70\r\nTo: Bob <sip:bob@203.0.113.5>\r\nFrom: Alice <sip:alice@198.51.100.1:5060>;tag=19\r\n\
         Call-ID: a84b4c76e66710@10.0.0.10\r\nCSeq: 314159 INVITE\r\n\
         Contact: <sip:alice@198.51.100.1:5060>\r\nContent-Type: application/sdp\r\n\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    );
    assert_eq!(applied(m.as_bytes(), &out), expected);
    let nat = Some(ExpectNat::follow_master(Dir::Reply, ip("10.0.0.10"), 49170));
    assert_eq!(out.expectations[0].dst, ip("198.51.100.1"));
    assert_eq!(out.expectations[0].nat, nat);
    assert_eq!(out.expectations[1].nat.unwrap().saved_port, 49171);
    // The 200 OK coming back: Via and Contact of the phone are restored.
    let ok = message(
        "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 198.51.100.1:5060;branch=z9hG4bK776;received=198.51.100.1;rport=5060\r\n\
         From: Alice <sip:alice@198.51.100.1:5060>;tag=19\r\nTo: Bob <sip:bob@203.0.113.5>;tag=3\r\nCSeq: 314159 INVITE\r\n",
        "",
    );
    let out = run(snat(L4Proto::Udp), Dir::Reply, ok.as_bytes(), &mut env);
    assert_eq!(
        applied(ok.as_bytes(), &out),
        message(
            "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 10.0.0.10:5060;branch=z9hG4bK776;received=10.0.0.10;rport=5060\r\n\
             From: Alice <sip:alice@10.0.0.10:5060>;tag=19\r\nTo: Bob <sip:bob@203.0.113.5>;tag=3\r\nCSeq: 314159 INVITE\r\n",
            "",
        )
    );
}

#[test]
fn snat_port_translation_and_media_clash() {
    // Masquerade changed the signalling port to 1024 and 49170 is taken.
    let conn = ConnView {
        orig: t(L4Proto::Udp, "10.0.0.10", 5060, "203.0.113.5", 5060),
        reply: t(L4Proto::Udp, "203.0.113.5", 5060, "198.51.100.1", 1024),
    };
    let body = sdp(
        "10.0.0.10",
        "m=audio 49170 RTP/AVP 0\r\na=rtcp:49171 IN IP4 10.0.0.10\r\n",
    );
    let m = invite("10.0.0.10", "203.0.113.5", &body);
    let mut env = FakeEnv::default();
    env.clash.insert(49170);
    env.clash.insert(49173);
    let out = run(conn, Dir::Original, m.as_bytes(), &mut env);
    // 49170 clashes, 49172 is free but its RTCP 49173 is not: 49174.
    assert_eq!(
        out.expectations.iter().map(|e| e.dport).collect::<Vec<_>>(),
        vec![49174, 49175]
    );
    assert_eq!(
        env.unexpected.len(),
        1,
        "the RTP half of 49172 was withdrawn"
    );
    let new = applied(m.as_bytes(), &out);
    assert!(new.contains("Via: SIP/2.0/UDP 198.51.100.1:1024;"), "{new}");
    assert!(new.contains("<sip:alice@198.51.100.1:1024>"));
    assert!(new.contains("m=audio 49174 RTP/AVP 0\r\na=rtcp:49175 IN IP4 198.51.100.1\r\n"));
    let body_len = new.split("\r\n\r\n").nth(1).unwrap().len();
    assert!(new.contains(&format!("Content-Length: {body_len}\r\n")));
    // No port at all: the packet is dropped and nothing stays expected.
    let mut env = FakeEnv {
        fail: Some(ExpectError::Full),
        ..FakeEnv::default()
    };
    let out = run(conn, Dir::Original, m.as_bytes(), &mut env);
    assert!(out.drop && out.edits.is_empty() && out.expectations.is_empty());
}

#[test]
fn dnat_pbx_exact_bytes() {
    let mut env = FakeEnv::default();
    // The outside caller's INVITE to the public address.
    let m = invite(
        "198.51.100.7",
        "203.0.113.1",
        &sdp("198.51.100.7", "m=audio 8000 RTP/AVP 0\r\n"),
    );
    let out = run(dnat(), Dir::Original, m.as_bytes(), &mut env);
    let expected = m
        .replace(
            "INVITE sip:bob@203.0.113.1 ",
            "INVITE sip:bob@10.0.0.5:5060 ",
        )
        .replace(
            "To: Bob <sip:bob@203.0.113.1>",
            "To: Bob <sip:bob@10.0.0.5:5060>",
        );
    assert_eq!(applied(m.as_bytes(), &out), expected);
    assert_eq!(out.expectations[0].dst, ip("198.51.100.7"));
    // The PBX answers from behind the port-forward.
    let body = "v=0\r\no=pbx 5 5 IN IP4 10.0.0.5\r\ns=-\r\nc=IN IP4 10.0.0.5\r\nt=0 0\r\nm=audio 20000 RTP/AVP 0\r\n";
    let ok = message(
            "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 198.51.100.7:5060;branch=z9hG4bK776\r\n\
             From: Alice <sip:alice@198.51.100.7>;tag=19\r\nTo: Bob <sip:bob@10.0.0.5:5060>;tag=8\r\n\
             CSeq: 314159 INVITE\r\nContact: <sip:bob@10.0.0.5:5060>\r\nContent-Type: application/sdp\r\n",
        body,
    );
    let out = run(dnat(), Dir::Reply, ok.as_bytes(), &mut env);
    let new_body = "v=0\r\no=pbx 5 5 IN IP4 203.0.113.1\r\ns=-\r\nc=IN IP4 203.0.113.1\r\nt=0 0\r\nm=audio 20000 RTP/AVP 0\r\n";
    let expected = message(
        "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 198.51.100.7:5060;branch=z9hG4bK776\r\n\
         From: Alice <sip:alice@198.51.100.7>;tag=19\r\nTo: Bob <sip:bob@203.0.113.1:5060>;tag=8\r\n\
         CSeq: 314159 INVITE\r\nContact: <sip:bob@203.0.113.1:5060>\r\nContent-Type: application/sdp\r\n",
        new_body,
    );
    assert_eq!(applied(ok.as_bytes(), &out), expected);
    let e = &out.expectations[0];
    assert_eq!(
        (e.src, e.dst, e.dport),
        (SrcAddr::Exact(ip("198.51.100.7")), ip("203.0.113.1"), 20000)
    );
    assert_eq!(
        e.nat,
        Some(ExpectNat::follow_master(
            Dir::Original,
            ip("10.0.0.5"),
            20000
        ))
    );
}

#[test]
fn ipv6_sdp_and_nat66_formats() {
    let conn = ConnView {
        orig: t(L4Proto::Udp, "fd00::10", 5060, "2001:db8:2::2", 5060),
        reply: t(
            L4Proto::Udp,
            "2001:db8:2::2",
            5060,
            "2001:db8:ffff::1",
            5060,
        ),
    };
    let body = "v=0\r\no=- 1 1 IN IP6 fd00::10\r\ns=-\r\nc=IN IP6 fd00::10\r\nt=0 0\r\nm=audio 6000 RTP/AVP 0\r\n";
    let m = message(
        "INVITE sip:bob@[2001:db8:2::2] SIP/2.0\r\nVia: SIP/2.0/UDP [fd00::10]:5060;branch=z9;maddr=[fd00::10]\r\n\
         From: <sip:alice@[fd00::10]>;tag=1\r\nTo: <sip:bob@[2001:db8:2::2]>\r\nCSeq: 1 INVITE\r\n\
         Contact: <sip:alice@[fd00::10]:5060>\r\nContent-Type: application/sdp\r\n",
        body,
    );
    let mut env = FakeEnv::default();
    let out = run(conn, Dir::Original, m.as_bytes(), &mut env);
    let new_body = "v=0\r\no=- 1 1 IN IP6 2001:db8:ffff::1\r\ns=-\r\nc=IN IP6 2001:db8:ffff::1\r\nt=0 0\r\nm=audio 6000 RTP/AVP 0\r\n";
    let expected = message(
        "INVITE sip:bob@[2001:db8:2::2] SIP/2.0\r\nVia: SIP/2.0/UDP [2001:db8:ffff::1]:5060;branch=z9;maddr=[2001:db8:ffff::1]\r\n\
         From: <sip:alice@[2001:db8:ffff::1]:5060>;tag=1\r\nTo: <sip:bob@[2001:db8:2::2]>\r\nCSeq: 1 INVITE\r\n\
         Contact: <sip:alice@[2001:db8:ffff::1]:5060>\r\nContent-Type: application/sdp\r\n",
        new_body,
    );
    assert_eq!(applied(m.as_bytes(), &out), expected);
    assert_eq!(out.expectations[0].dst, ip("2001:db8:ffff::1"));
    // Without NAT: expectations at the IPv6 media address; IPv4 c= ignored.
    let conn = ConnView::plain(t(
        L4Proto::Udp,
        "2001:db8:1::10",
        5060,
        "2001:db8:2::2",
        5060,
    ));
    let body = "v=0\r\nc=IN IP6 2001:db8:1::10\r\nm=audio 6000 RTP/AVP 0\r\nm=audio 6100 RTP/AVP 0\r\nc=IN IP4 10.0.0.10\r\n";
    let m = message("INVITE sip:bob@[2001:db8:2::2] SIP/2.0\r\nCSeq: 1 INVITE\r\nContent-Type: application/sdp\r\n", body);
    let out = run(conn, Dir::Original, m.as_bytes(), &mut env);
    assert_eq!(
        media_pair(&out.expectations),
        vec![
            (1, ip("2001:db8:1::10"), 6000),
            (1, ip("2001:db8:1::10"), 6001)
        ]
    );
}

#[test]
fn multipart_body_with_sdp() {
    let body = "--b1\r\nContent-Type: application/isup\r\n\r\nv=not sdp\r\n--b1\r\nContent-Type: application/sdp\r\n\r\n\
                v=0\r\no=- 1 1 IN IP4 10.0.0.10\r\ns=-\r\nc=IN IP4 10.0.0.10\r\nt=0 0\r\nm=audio 7000 RTP/AVP 0\r\n\r\n--b1--\r\n";
    let m = message(
        "INVITE sip:bob@203.0.113.5 SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.10:5060\r\nCSeq: 1 INVITE\r\n\
         Content-Type: multipart/mixed;boundary=\"b1\"\r\n",
        body,
    );
    let mut env = FakeEnv::default();
    let out = run(plain(L4Proto::Udp), Dir::Original, m.as_bytes(), &mut env);
    assert_eq!(out.expectations.len(), 2);
    let out = run(snat(L4Proto::Udp), Dir::Original, m.as_bytes(), &mut env);
    let new = applied(m.as_bytes(), &out);
    assert!(
        new.contains("c=IN IP4 198.51.100.1\r\nt=0 0\r\nm=audio 7000"),
        "{new}"
    );
    assert!(new.contains("v=not sdp"));
    let new_body = new.split_once("\r\n\r\n").unwrap().1;
    assert!(new.contains(&format!("Content-Length: {}\r\n", new_body.len())));
}

#[test]
fn register_creates_inactive_signalling_expectation() {
    let reg = message(
        "REGISTER sip:203.0.113.5 SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.10:5060;branch=z9\r\nCSeq: 5 REGISTER\r\n\
         Contact: <sip:alice@10.0.0.10:5062;transport=udp>;expires=600\r\nExpires: 3600\r\n",
        "",
    );
    let mut env = FakeEnv::default();
    let out = run(plain(L4Proto::Udp), Dir::Original, reg.as_bytes(), &mut env);
    assert_eq!(
        out.expectations,
        vec![Expectation {
            src: SrcAddr::Exact(ip("203.0.113.5")),
            flags: ExpectFlags::PERMANENT | ExpectFlags::INACTIVE,
            helper: Some("sip"),
            ..Expectation::new(0, L4Proto::Udp, ip("10.0.0.10"), 5062)
        }]
    );
    let st = out.state.unwrap();
    assert_eq!(SipState::decode(&st).register_cseq, Some(5));
    // 200 OK: refreshed (INACTIVE cleared) for the contact's expires,
    // bounded by sip_timeout.
    let ok = |code: &str, cseq: u32, expires: &str| {
        message(
            &format!(
                "SIP/2.0 {code}\r\nVia: SIP/2.0/UDP 10.0.0.10:5060;branch=z9\r\nCSeq: {cseq} REGISTER\r\n\
                 Contact: <sip:alice@10.0.0.10:5062>;expires={expires}\r\n"
            ),
            "",
        )
    };
    // The expectation the REGISTER made is live when the answer comes.
    let registered = out.expectations[0].clone();
    let mut env = FakeEnv {
        existing: vec![registered.clone()],
        ..FakeEnv::default()
    };
    let sip = Sip {
        sip_timeout: 500,
        ..Sip::default()
    };
    run_with(
        &sip,
        plain(L4Proto::Udp),
        Dir::Reply,
        ok("200 OK", 5, "600").as_bytes(),
        st,
        &mut env,
    );
    assert_eq!(
        env.updated,
        vec![(
            registered,
            ExpectChange {
                clear: ExpectFlags::INACTIVE,
                timeout: Some(500)
            }
        )]
    );
    assert_eq!(env.existing[0].flags, ExpectFlags::PERMANENT, "now active");
    assert!(env.removed.is_empty());
    // A late response to another CSeq is ignored; a failure flushes.
    run_with(
        &sip,
        plain(L4Proto::Udp),
        Dir::Reply,
        ok("403 Forbidden", 4, "600").as_bytes(),
        st,
        &mut env,
    );
    assert!(env.removed.is_empty());
    run_with(
        &sip,
        plain(L4Proto::Udp),
        Dir::Reply,
        ok("403 Forbidden", 5, "600").as_bytes(),
        st,
        &mut env,
    );
    assert_eq!(env.removed, vec![vec![0]]);
    // expires=0 in the answer: the binding is gone, flush.
    run_with(
        &sip,
        plain(L4Proto::Udp),
        Dir::Reply,
        ok("200 OK", 5, "0").as_bytes(),
        st,
        &mut env,
    );
    assert_eq!(env.removed.len(), 2);
}

#[test]
fn register_refusals() {
    let reg = |contact: &str, extra: &str| {
        message(
            &format!("REGISTER sip:203.0.113.5 SIP/2.0\r\nCSeq: 9 REGISTER\r\nContact: {contact}\r\n{extra}"),
            "",
        )
    };
    for (m, why) in [
        (
            reg("<sip:alice@10.0.0.99>", "Expires: 60\r\n"),
            "third party",
        ),
        (reg("<sip:alice@10.0.0.10>", ""), "no lifetime"),
        (
            reg("<sip:alice@10.0.0.10>;expires=0", "Expires: 60\r\n"),
            "unregister",
        ),
        (
            reg("<sip:alice@10.0.0.10;transport=tcp>", "Expires: 60\r\n"),
            "transport",
        ),
        (reg("*", "Expires: 0\r\n"), "wildcard"),
    ] {
        let mut env = FakeEnv::default();
        let out = run(plain(L4Proto::Udp), Dir::Original, m.as_bytes(), &mut env);
        assert!(out.expectations.is_empty(), "{why}");
    }
}

#[test]
fn register_under_nat_rewrites_contact() {
    let conn = ConnView {
        orig: t(L4Proto::Udp, "10.0.0.10", 5060, "203.0.113.5", 5060),
        reply: t(L4Proto::Udp, "203.0.113.5", 5060, "198.51.100.1", 1030),
    };
    let reg = message(
        "REGISTER sip:203.0.113.5 SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.10:5060;rport;branch=z9\r\nCSeq: 5 REGISTER\r\n\
         Contact: <sip:alice@10.0.0.10:5060>\r\nExpires: 3600\r\n",
        "",
    );
    let mut env = FakeEnv::default();
    let out = run(conn, Dir::Original, reg.as_bytes(), &mut env);
    let e = &out.expectations[0];
    // The contact port is the signalling source port: the peer's view of it.
    assert_eq!((e.dst, e.dport), (ip("198.51.100.1"), 1030));
    assert_eq!(
        e.nat,
        Some(ExpectNat::follow_master(Dir::Reply, ip("10.0.0.10"), 5060))
    );
    assert_eq!(
        applied(reg.as_bytes(), &out),
        reg.replace("10.0.0.10:5060", "198.51.100.1:1030")
    );
}

#[test]
fn forced_dport_from_via() {
    // A phone sending from 40000 but listening on 5060 (Cisco).
    let conn = ConnView {
        orig: t(L4Proto::Udp, "10.0.0.10", 40000, "203.0.113.5", 5060),
        reply: t(L4Proto::Udp, "203.0.113.5", 5060, "198.51.100.1", 40000),
    };
    let m = message(
        "OPTIONS sip:203.0.113.5 SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.10:5060;branch=z9\r\nCSeq: 1 OPTIONS\r\n",
        "",
    );
    let mut env = FakeEnv::default();
    let out = run(conn, Dir::Original, m.as_bytes(), &mut env);
    let st = SipState::decode(&out.state.unwrap());
    assert_eq!(st.forced_dport, Some(5060));
    // The reply's Via sent-by maps back to the phone's listening port.
    let r = message(
        "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 198.51.100.1:40000;branch=z9\r\nCSeq: 1 OPTIONS\r\n",
        "",
    );
    let out = run_with(
        &Sip::default(),
        conn,
        Dir::Reply,
        r.as_bytes(),
        out.state.unwrap(),
        &mut env,
    );
    assert!(applied(r.as_bytes(), &out).contains("UDP 10.0.0.10:5060;"));
}

#[test]
fn tcp_two_messages_in_one_segment() {
    let a = invite(
        "10.0.0.10",
        "203.0.113.5",
        &sdp("10.0.0.10", "m=audio 41000 RTP/AVP 0\r\n"),
    )
    .replace("SIP/2.0/UDP", "SIP/2.0/TCP");
    let b = message(
        "UPDATE sip:bob@203.0.113.5 SIP/2.0\r\nVia: SIP/2.0/TCP 10.0.0.10:5060\r\nCSeq: 314160 UPDATE\r\nContent-Type: application/sdp\r\n",
        &sdp("10.0.0.10", "m=video 42000 RTP/AVP 31\r\n"),
    );
    let seg = format!("{a}{b}");
    let mut env = FakeEnv::default();
    let out = run(plain(L4Proto::Tcp), Dir::Original, seg.as_bytes(), &mut env);
    assert_eq!(
        out.expectations.iter().map(|e| e.dport).collect::<Vec<_>>(),
        vec![41000, 41001, 42000, 42001]
    );
    // Under NAT both messages are rewritten, each with its own length.
    let out = run(snat(L4Proto::Tcp), Dir::Original, seg.as_bytes(), &mut env);
    let new = applied(seg.as_bytes(), &out);
    let (first, second) = new.split_at(new.find("UPDATE sip:").unwrap());
    for part in [first, second] {
        let body = part.split_once("\r\n\r\n").unwrap().1;
        assert!(
            part.contains(&format!("Content-Length: {}\r\n", body.len())),
            "{part}"
        );
        assert!(part.contains("Via: SIP/2.0/TCP 198.51.100.1:5060"));
    }
}

#[test]
fn tcp_message_over_two_segments() {
    let m = invite(
        "10.0.0.10",
        "203.0.113.5",
        &sdp("10.0.0.10", "m=audio 43000 RTP/AVP 0\r\n"),
    )
    .replace("SIP/2.0/UDP", "SIP/2.0/TCP");
    let mut env = FakeEnv::default();
    for cut in [5, 100, m.len() - 10, m.len() - 1] {
        let out = run(
            plain(L4Proto::Tcp),
            Dir::Original,
            &m.as_bytes()[..cut],
            &mut env,
        );
        assert_eq!(out.incomplete, Some(0), "cut at {cut}");
        assert!(out.edits.is_empty() && out.expectations.is_empty() && out.state.is_none());
    }
    assert!(env.created.is_empty());
    let out = run(plain(L4Proto::Tcp), Dir::Original, m.as_bytes(), &mut env);
    assert_eq!(out.incomplete, None);
    assert_eq!(out.expectations.len(), 2);
    // A segment picked up in the middle of a message is left alone.
    let out = run(
        plain(L4Proto::Tcp),
        Dir::Original,
        &m.as_bytes()[200..],
        &mut env,
    );
    assert!(out.incomplete.is_none() && out.expectations.is_empty());
}

#[test]
fn hostile_content_length() {
    for clen in [
        "4294967296",
        "99999999999999999999999",
        "-1",
        "65536",
        "1e3",
        "0x20",
    ] {
        let m = format!(
            "INVITE sip:bob@203.0.113.5 SIP/2.0\r\nVia: SIP/2.0/TCP 10.0.0.10:5060\r\nCSeq: 1 INVITE\r\n\
             Content-Type: application/sdp\r\nContent-Length: {clen}\r\n\r\nv=0\r\nc=IN IP4 10.0.0.10\r\nm=audio 5000 RTP/AVP 0\r\n"
        );
        for conn in [plain(L4Proto::Tcp), plain(L4Proto::Udp), snat(L4Proto::Tcp)] {
            let mut env = FakeEnv::default();
            let out = run(conn, Dir::Original, m.as_bytes(), &mut env);
            assert!(
                out.incomplete.is_none() && out.expectations.is_empty() && out.edits.is_empty(),
                "{clen}"
            );
            assert!(out.events.iter().any(|e| e.reason.name() == "malformed"));
        }
    }
    // A length past the segment but plausible: wait for more on TCP; on UDP
    // the datagram is all there is.
    let m =
        "INVITE sip:bob@203.0.113.5 SIP/2.0\r\nCSeq: 1 INVITE\r\nContent-Type: application/sdp\r\n\
             Content-Length: 60000\r\n\r\nv=0\r\nc=IN IP4 10.0.0.10\r\nm=audio 5000 RTP/AVP 0\r\n";
    let mut env = FakeEnv::default();
    assert_eq!(
        run(plain(L4Proto::Tcp), Dir::Original, m.as_bytes(), &mut env).incomplete,
        Some(0)
    );
    let out = run(plain(L4Proto::Udp), Dir::Original, m.as_bytes(), &mut env);
    assert_eq!(out.expectations.len(), 2);
}

#[test]
fn folded_headers_and_multiple_contacts() {
    let m = message(
        "INVITE sip:bob@203.0.113.5 SIP/2.0\r\nVia: SIP/2.0/UDP\r\n 10.0.0.10:5060;branch=z9\r\nCSeq: 1 INVITE\r\n\
         Contact: \"A, B\" <sip:alice@10.0.0.10:5060>,\r\n\t<sip:alice@10.0.0.10:5060;line=2>\r\n\
         Contact: <sip:other@192.0.2.1:5060>\r\n",
        "",
    );
    let mut env = FakeEnv::default();
    let out = run(snat(L4Proto::Udp), Dir::Original, m.as_bytes(), &mut env);
    let new = applied(m.as_bytes(), &out);
    assert_eq!(new.matches("198.51.100.1:5060").count(), 3, "{new}");
    assert!(new.contains("\r\n 198.51.100.1:5060;branch"));
    assert!(new.contains("<sip:other@192.0.2.1:5060>"));
}

#[test]
fn provisional_answer_prack_and_update_failure() {
    let body = "v=0\r\nc=IN IP4 203.0.113.5\r\nm=audio 31000 RTP/AVP 0\r\n";
    let progress = message(
        "SIP/2.0 183 Session Progress\r\nVia: SIP/2.0/UDP 10.0.0.10:5060\r\nCSeq: 7 INVITE\r\nContent-Type: application/sdp\r\n",
        body,
    );
    let mut env = FakeEnv::default();
    let out = run(
        plain(L4Proto::Udp),
        Dir::Reply,
        progress.as_bytes(),
        &mut env,
    );
    assert_eq!(out.expectations.len(), 2);
    let prack = message(
        "PRACK sip:bob@203.0.113.5 SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.10:5060\r\nCSeq: 8 PRACK\r\nContent-Type: application/sdp\r\n",
        &sdp("10.0.0.10", "m=audio 32000 RTP/AVP 0\r\n"),
    );
    let out = run(
        plain(L4Proto::Udp),
        Dir::Original,
        prack.as_bytes(),
        &mut env,
    );
    assert_eq!(out.expectations[0].dport, 32000);
    assert!(env.removed.is_empty(), "PRACK does not flush");
    let st = SipState {
        invite_cseq: Some(9),
        ..SipState::default()
    }
    .encode();
    let failed = message(
        "SIP/2.0 488 Not Acceptable Here\r\nVia: SIP/2.0/UDP 10.0.0.10:5060\r\nCSeq: 9 UPDATE\r\n",
        "",
    );
    run_with(
        &Sip::default(),
        plain(L4Proto::Udp),
        Dir::Reply,
        failed.as_bytes(),
        st,
        &mut env,
    );
    assert_eq!(env.removed, vec![vec![1, 2, 3]]);
}

#[test]
fn tcp_keepalives_short_datagrams_and_zero_length() {
    let mut env = FakeEnv::default();
    for p in [&b"\r\n\r\n"[..], b"\r\n"] {
        let out = run(plain(L4Proto::Tcp), Dir::Original, p, &mut env);
        assert_eq!(out.out, Outcome::default());
        assert!(out.expectations.is_empty());
    }
    // A short datagram is not parsed, but still refreshes the master's
    // lifetime (sip_help_udp() calls nf_ct_refresh() first).
    let out = run(plain(L4Proto::Udp), Dir::Original, b"SIP/2.0 20", &mut env);
    assert!(out.expectations.is_empty());
    assert_eq!(
        out.out,
        Outcome {
            ct_timeout: Some(3600),
            ..Outcome::default()
        }
    );
    // Keep-alive CRLFs before a message on a stream are skipped.
    let m = format!(
        "\r\n\r\n{}",
        invite(
            "10.0.0.10",
            "203.0.113.5",
            &sdp("10.0.0.10", "m=audio 44000 RTP/AVP 0\r\n")
        )
    );
    let out = run(plain(L4Proto::Tcp), Dir::Original, m.as_bytes(), &mut env);
    assert_eq!(out.expectations.len(), 2);
    // Content-Length 0 on a datagram: the bytes after the headers are not
    // the message's body.
    let m = format!(
        "INVITE sip:bob@203.0.113.5 SIP/2.0\r\nCSeq: 1 INVITE\r\nContent-Type: application/sdp\r\nContent-Length: 0\r\n\r\n{}",
        sdp("10.0.0.10", "m=audio 44000 RTP/AVP 0\r\n")
    );
    let out = run(plain(L4Proto::Udp), Dir::Original, m.as_bytes(), &mut env);
    assert!(out.expectations.is_empty());
}

#[test]
fn many_media_lines_are_bounded() {
    let media: String = (0..70)
        .map(|i| format!("m=audio {} RTP/AVP 0\r\n", 20000 + 2 * i))
        .collect();
    let m = invite("10.0.0.10", "203.0.113.5", &sdp("10.0.0.10", &media));
    let mut env = FakeEnv::default();
    let out = run(plain(L4Proto::Udp), Dir::Original, m.as_bytes(), &mut env);
    assert_eq!(out.expectations.len(), 2 * helpers::sip::sdp::MAX_MEDIA);
    assert!(out
        .events
        .iter()
        .any(|e| e.reason.name() == "too_many_media"));
}

#[test]
fn register_without_direct_signalling_and_over_tcp() {
    let reg = message(
        "REGISTER sip:203.0.113.5 SIP/2.0\r\nVia: SIP/2.0/TCP 10.0.0.10:5060\r\nCSeq: 1 REGISTER\r\n\
         Contact: <sip:alice@10.0.0.10:5060;transport=TCP>\r\nExpires: 60\r\n",
        "",
    );
    let sip = Sip {
        direct_signalling: false,
        ..Sip::default()
    };
    let mut env = FakeEnv::default();
    let out = run_with(
        &sip,
        plain(L4Proto::Tcp),
        Dir::Original,
        reg.as_bytes(),
        PrivData::ZERO,
        &mut env,
    );
    assert_eq!(out.expectations.len(), 1);
    let e = &out.expectations[0];
    assert_eq!(
        (e.src, e.proto, e.dport),
        (SrcAddr::Any, L4Proto::Tcp, 5060)
    );
    // The same REGISTER on a UDP connection names another transport.
    let out = run(plain(L4Proto::Udp), Dir::Original, reg.as_bytes(), &mut env);
    assert!(out.expectations.is_empty());
}

// --- refusals a parameter causes name it -----------------------------------

fn withheld(out: &Outcome) -> Vec<Option<&'static str>> {
    out.events
        .iter()
        .filter(|e| e.reason == Reason::Withheld)
        .map(|e| e.param)
        .collect()
}

#[test]
fn direct_media_withholds_third_party_media_and_says_so() {
    let body = sdp(
        "10.0.0.99",
        "m=audio 20000 RTP/AVP 0\r\nm=video 20002 RTP/AVP 31\r\n",
    );
    let m = invite("10.0.0.10", "203.0.113.5", &body);
    let mut env = FakeEnv::default();
    let out = run(plain(L4Proto::Udp), Dir::Original, m.as_bytes(), &mut env);
    assert!(out.expectations.is_empty() && env.calls.is_empty());
    // One event per media line, naming the parameter.
    assert_eq!(
        withheld(&out),
        vec![Some("sip_direct_media"), Some("sip_direct_media")]
    );
    assert_eq!(helpers::sip::SIP_DIRECT_MEDIA.name(), "sip_direct_media");
    assert_eq!(out.events[0].reason.name(), "withheld");
    assert!(!out.drop && out.edits.is_empty());
    // Media at the sender's own address: nothing withheld.
    let m = invite(
        "10.0.0.10",
        "203.0.113.5",
        &sdp("10.0.0.10", "m=audio 20000 RTP/AVP 0\r\n"),
    );
    let out = run(plain(L4Proto::Udp), Dir::Original, m.as_bytes(), &mut env);
    assert!(withheld(&out).is_empty());
    assert_eq!(out.expectations.len(), 2);
}

#[test]
fn external_media_withholds_media_routed_like_the_packet() {
    let body = sdp("10.0.0.99", "m=audio 20000 RTP/AVP 0\r\n");
    let m = invite("10.0.0.10", "203.0.113.5", &body);
    let ext = Sip {
        direct_media: false,
        external_media: true,
        ..Sip::default()
    };
    let send = |routes: &[(&str, u32)], outdev: Option<u32>| {
        let mut env = FakeEnv {
            routes: routes.iter().map(|&(a, i)| (ip(a), i)).collect(),
            ..FakeEnv::default()
        };
        let out = run_pkt(
            &ext,
            plain(L4Proto::Udp),
            Dir::Original,
            m.as_bytes(),
            PrivData::ZERO,
            outdev,
            &mut env,
        );
        (out, env)
    };
    // The route to the media leaves where the packet leaves: withheld.
    let (out, env) = send(&[("10.0.0.99", 3)], Some(3));
    assert!(out.expectations.is_empty() && env.calls.is_empty());
    assert_eq!(withheld(&out), vec![Some("sip_external_media")]);
    assert_eq!(
        helpers::sip::SIP_EXTERNAL_MEDIA.name(),
        "sip_external_media"
    );
    // Another interface, no route known, or the packet's own interface
    // unknown: expected.
    for (routes, outdev) in [
        (&[("10.0.0.99", 4)][..], Some(3)),
        (&[][..], Some(3)),
        (&[("10.0.0.99", 3)][..], None),
    ] {
        let (out, _) = send(routes, outdev);
        assert_eq!(out.expectations.len(), 2, "{routes:?} {outdev:?}");
        assert!(withheld(&out).is_empty());
    }
    // Without sip_external_media the route is not asked about.
    let loose = Sip {
        direct_media: false,
        ..Sip::default()
    };
    let mut env = FakeEnv {
        routes: [(ip("10.0.0.99"), 3)].into_iter().collect(),
        ..FakeEnv::default()
    };
    let out = run_pkt(
        &loose,
        plain(L4Proto::Udp),
        Dir::Original,
        m.as_bytes(),
        PrivData::ZERO,
        Some(3),
        &mut env,
    );
    assert_eq!(out.expectations.len(), 2);
}

#[test]
fn other_events_name_no_parameter() {
    let media = "m=audio 1000 RTP/AVP 0\r\n";
    let m = invite("10.0.0.10", "203.0.113.5", &sdp("10.0.0.10", media));
    let mut env = FakeEnv::default();
    let out = run(plain(L4Proto::Udp), Dir::Original, m.as_bytes(), &mut env);
    assert_eq!(out.events.len(), 1);
    assert_eq!(out.events[0].reason.name(), "low_port");
    assert_eq!(out.events[0].param, None);
}

// --- TCP: complete messages, then the start of the next (issue 16, item 4) -

fn tcp_invite(port: u16) -> String {
    invite(
        "10.0.0.10",
        "203.0.113.5",
        &sdp("10.0.0.10", &format!("m=audio {port} RTP/AVP 0\r\n")),
    )
    .replace("SIP/2.0/UDP", "SIP/2.0/TCP")
}

fn tcp_bye() -> String {
    message(
        "BYE sip:bob@203.0.113.5 SIP/2.0\r\nVia: SIP/2.0/TCP 10.0.0.10:5060;branch=z9hG4bK777\r\nCSeq: 314160 BYE\r\n",
        "",
    )
}

#[test]
fn tcp_invite_then_start_of_bye() {
    let (a, b) = (tcp_invite(45000), tcp_bye());
    let cut = 30;
    let seg1 = format!("{a}{}", &b[..cut]);
    let mut env = FakeEnv::default();
    let out = run(
        plain(L4Proto::Tcp),
        Dir::Original,
        seg1.as_bytes(),
        &mut env,
    );
    // The INVITE is handled: media flushed first, then expected ...
    assert_eq!(
        out.expectations.iter().map(|e| e.dport).collect::<Vec<_>>(),
        vec![45000, 45001]
    );
    assert_eq!(env.removed, vec![vec![1, 2, 3]]);
    let st = out.state.unwrap();
    assert_eq!(SipState::decode(&st).invite_cseq, Some(314159));
    // ... and the BYE is held from its start.
    assert_eq!(out.incomplete, Some(a.len()));
    assert_eq!(reason_names(&out), vec!["partial"]);
    // The second call: the held bytes and the rest of the BYE, with the
    // new state.
    let seg2 = format!("{}{}", &seg1[a.len()..], &b[cut..]);
    assert_eq!(seg2, b);
    let out = run_with(
        &Sip::default(),
        plain(L4Proto::Tcp),
        Dir::Original,
        seg2.as_bytes(),
        st,
        &mut env,
    );
    assert_eq!(out.incomplete, None);
    assert!(out.expectations.is_empty() && out.events.is_empty());
    assert_eq!(
        env.removed,
        vec![vec![1, 2, 3], vec![1, 2, 3]],
        "BYE flushes"
    );
    assert!(env.created.is_empty(), "the call's media are gone");
}

#[test]
fn tcp_invite_then_start_of_bye_under_nat() {
    let (a, b) = (tcp_invite(45000), tcp_bye());
    let cut = 30;
    let seg1 = format!("{a}{}", &b[..cut]);
    // The INVITE alone, for comparison.
    let mut env = FakeEnv::default();
    let alone = run(snat(L4Proto::Tcp), Dir::Original, a.as_bytes(), &mut env);
    let mut env = FakeEnv::default();
    let out = run(snat(L4Proto::Tcp), Dir::Original, seg1.as_bytes(), &mut env);
    assert_eq!(out.incomplete, Some(a.len()));
    // The edits cover the INVITE only and make what it makes alone; the
    // held bytes are unchanged.
    assert!(out.edits.iter().all(|e| e.offset + e.len <= a.len()));
    assert_eq!(out.edits, alone.edits);
    assert_eq!(
        applied(seg1.as_bytes(), &out),
        format!("{}{}", applied(a.as_bytes(), &alone), &b[..cut])
    );
    assert!(applied(seg1.as_bytes(), &out).contains("Via: SIP/2.0/TCP 198.51.100.1:5060"));
    assert_eq!(out.expectations, alone.expectations);
    // The BYE, completed: its own offsets.
    let out = run_with(
        &Sip::default(),
        snat(L4Proto::Tcp),
        Dir::Original,
        b.as_bytes(),
        out.state.unwrap(),
        &mut env,
    );
    assert_eq!(
        applied(b.as_bytes(), &out),
        b.replace("TCP 10.0.0.10:5060", "TCP 198.51.100.1:5060")
    );
    assert!(out.incomplete.is_none());
    assert!(env.created.is_empty());
}

#[test]
fn tcp_hold_starts_after_keepalives() {
    let (a, b) = (tcp_invite(46000), tcp_bye());
    let seg1 = format!("{a}\r\n\r\n{}", &b[..10]);
    let mut env = FakeEnv::default();
    let out = run(
        plain(L4Proto::Tcp),
        Dir::Original,
        seg1.as_bytes(),
        &mut env,
    );
    assert_eq!(out.incomplete, Some(a.len() + 4));
    assert_eq!(out.expectations.len(), 2);
}

#[test]
fn tcp_dropped_segment_holds_nothing() {
    let (a, b) = (tcp_invite(45000), tcp_bye());
    let seg1 = format!("{a}{}", &b[..30]);
    let mut env = FakeEnv {
        fail: Some(ExpectError::Full),
        ..FakeEnv::default()
    };
    let out = run(snat(L4Proto::Tcp), Dir::Original, seg1.as_bytes(), &mut env);
    assert!(out.drop && out.edits.is_empty() && out.expectations.is_empty());
    assert_eq!(out.incomplete, None);
    assert_eq!(reason_names(&out), vec!["partial", "nat_failed"]);
}

#[test]
fn tcp_unfinished_message_alone_changes_nothing() {
    // Not even a state the helper would write differently (bytes past
    // STATE_LEN): nothing was decided.
    let mut raw = [0u8; 32];
    raw[helpers::sip::STATE_LEN] = 0xff;
    let m = tcp_invite(47000);
    let mut env = FakeEnv::default();
    let out = run_with(
        &Sip::default(),
        plain(L4Proto::Tcp),
        Dir::Original,
        &m.as_bytes()[..1],
        PrivData(raw),
        &mut env,
    );
    assert_eq!(out.incomplete, Some(0));
    assert_eq!(out.state, None);
    assert!(out.edits.is_empty() && out.expectations.is_empty() && env.calls.is_empty());
}

#[test]
fn nat_failure_withdraws_a_repeated_media_port_once() {
    // The same media port twice, then a line whose pair cannot be found:
    // the packet drops and the shared pair is withdrawn once.
    let media = "m=audio 40000 RTP/AVP 0\r\nm=audio 40000 RTP/AVP 0\r\nm=audio 50000 RTP/AVP 0\r\n";
    let m = invite("10.0.0.10", "203.0.113.5", &sdp("10.0.0.10", media));
    let mut env = FakeEnv {
        clash: (50000..=65535).collect(),
        ..FakeEnv::default()
    };
    let out = run(snat(L4Proto::Udp), Dir::Original, m.as_bytes(), &mut env);
    assert!(out.drop && out.expectations.is_empty());
    assert!(env.created.is_empty());
    assert_eq!(env.unexpected_unknown, 0);
    assert_eq!(env.unexpected.len(), 2, "RTP and RTCP of port 40000, once");
}
