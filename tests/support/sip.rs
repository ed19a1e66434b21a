//! SIP fixtures: calls over UDP (IPv4, IPv6) with SDP of several media
//! lines and the RTP/RTCP that follows, a REGISTER whose signalling
//! expectation lets an incoming call in, and a TCP dialogue with messages
//! split over two segments.

use super::{Capture, Fixture, Golden, Link, Tcp};
use std::net::IpAddr;

/// A SIP message: start line, headers, an optional SDP body (Content-Type
/// and Content-Length added).
pub fn msg(start: &str, headers: &[&str], sdp: &[&str]) -> Vec<u8> {
    let body: String = sdp.iter().map(|l| format!("{l}\r\n")).collect();
    let mut s = format!("{start}\r\n");
    for h in headers {
        s.push_str(h);
        s.push_str("\r\n");
    }
    if !body.is_empty() {
        s.push_str("Content-Type: application/sdp\r\n");
    }
    s.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
    s.into_bytes()
}

/// An RTP packet (12-byte header, 20 bytes of PCMU silence).
pub fn rtp(seq: u16, ssrc: u32) -> Vec<u8> {
    let mut v = vec![0x80, 0x00];
    v.extend_from_slice(&seq.to_be_bytes());
    v.extend_from_slice(&(u32::from(seq) * 160).to_be_bytes());
    v.extend_from_slice(&ssrc.to_be_bytes());
    v.extend(std::iter::repeat_n(0xFF, 20));
    v
}

/// An RTCP receiver report without report blocks.
pub fn rtcp(ssrc: u32) -> Vec<u8> {
    let mut v = vec![0x80, 201, 0x00, 0x01];
    v.extend_from_slice(&ssrc.to_be_bytes());
    v
}

/// A call over UDP/IPv4, Ethernet pcap: INVITE with an audio and a video
/// line, 100/180/200 with the callee's SDP, ACK, RTP and RTCP from the
/// callee (related flows) and from the caller (their replies), BYE/200.
/// Replayed with `--snat 10.0.0.0/24=203.0.113.1` the caller is behind
/// the NAT.
fn call_v4() -> Fixture {
    let mut cap = Capture::new(Link::Ethernet);
    let (a, b) = (("10.0.0.5", 5060), ("198.51.100.10", 5060));
    let dialog = [
        "From: \"Alice\" <sip:alice@10.0.0.5>;tag=9fxced76sl",
        "To: <sip:bob@198.51.100.10>",
        "Call-ID: 3848276298220188511@10.0.0.5",
    ];
    let via = "Via: SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bK74bf9";
    let invite = [
        via,
        "Max-Forwards: 70",
        dialog[0],
        dialog[1],
        dialog[2],
        "CSeq: 1 INVITE",
        "Contact: <sip:alice@10.0.0.5:5060>",
    ];
    cap.udp(
        a,
        b,
        &msg(
            "INVITE sip:bob@198.51.100.10 SIP/2.0",
            &invite,
            &[
                "v=0",
                "o=alice 2890844526 2890844526 IN IP4 10.0.0.5",
                "s=-",
                "c=IN IP4 10.0.0.5",
                "t=0 0",
                "m=audio 49170 RTP/AVP 0 8",
                "a=rtpmap:0 PCMU/8000",
                "a=rtpmap:8 PCMA/8000",
                "m=video 49172 RTP/AVP 96",
                "a=rtpmap:96 H264/90000",
            ],
        ),
    );
    let to = "To: <sip:bob@198.51.100.10>;tag=8321234356";
    let resp = |cseq: &'static str| [via, dialog[0], to, dialog[2], cseq];
    cap.udp(
        b,
        a,
        &msg(
            "SIP/2.0 100 Trying",
            &[via, dialog[0], dialog[1], dialog[2], "CSeq: 1 INVITE"],
            &[],
        ),
    );
    cap.udp(
        b,
        a,
        &msg("SIP/2.0 180 Ringing", &resp("CSeq: 1 INVITE"), &[]),
    );
    let mut ok = resp("CSeq: 1 INVITE").to_vec();
    ok.push("Contact: <sip:bob@198.51.100.10:5060>");
    cap.udp(
        b,
        a,
        &msg(
            "SIP/2.0 200 OK",
            &ok,
            &[
                "v=0",
                "o=bob 2808844564 2808844564 IN IP4 198.51.100.10",
                "s=-",
                "c=IN IP4 198.51.100.10",
                "t=0 0",
                "m=audio 30000 RTP/AVP 0",
                "a=rtpmap:0 PCMU/8000",
                "m=video 30002 RTP/AVP 96",
                "a=rtpmap:96 H264/90000",
            ],
        ),
    );
    let ack_via = "Via: SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bK74bfa";
    cap.udp(
        a,
        b,
        &msg(
            "ACK sip:bob@198.51.100.10:5060 SIP/2.0",
            &[
                ack_via,
                "Max-Forwards: 70",
                dialog[0],
                to,
                dialog[2],
                "CSeq: 1 ACK",
            ],
            &[],
        ),
    );
    // Media: the callee's streams open the pinholes the INVITE asked for;
    // the caller's RTP is the reply of the callee's flow.
    let (ra, rb) = (("10.0.0.5", 49170), ("198.51.100.10", 30000));
    cap.udp(rb, ra, &rtp(1, 0xB0B));
    cap.udp(ra, rb, &rtp(1, 0xA11CE));
    cap.udp(rb, ra, &rtp(2, 0xB0B));
    cap.udp(ra, rb, &rtp(2, 0xA11CE));
    cap.udp(("198.51.100.10", 30001), ("10.0.0.5", 49171), &rtcp(0xB0B));
    cap.udp(
        ("198.51.100.10", 30002),
        ("10.0.0.5", 49172),
        &rtp(1, 0xB0B1),
    );
    // Alice hangs up.
    let bye_via = "Via: SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bK74bfb";
    cap.udp(
        a,
        b,
        &msg(
            "BYE sip:bob@198.51.100.10:5060 SIP/2.0",
            &[
                bye_via,
                "Max-Forwards: 70",
                dialog[0],
                to,
                dialog[2],
                "CSeq: 2 BYE",
            ],
            &[],
        ),
    );
    cap.udp(
        b,
        a,
        &msg(
            "SIP/2.0 200 OK",
            &[bye_via, dialog[0], to, dialog[2], "CSeq: 2 BYE"],
            &[],
        ),
    );
    Fixture {
        name: "sip-call-v4.pcap",
        bytes: cap.pcap(),
    }
}

/// An INVITE whose SDP has five media lines (the kernel looks at three):
/// audio, video with its own `c=`, image (T.38), audio with `a=rtcp:`,
/// video; the answer accepts the first audio line only (port 0 for the
/// rest), so the callee's audio expectations evict the caller's oldest
/// ones (audio max_expected 4 per master). The caller's RTP opens the
/// callee's pinhole; the callee hangs up. Raw IP pcapng.
fn five_media() -> Fixture {
    let mut cap = Capture::new(Link::Raw);
    let (a, b) = (("10.0.0.6", 5060), ("198.51.100.11", 5060));
    let from = "From: <sip:alice@10.0.0.6>;tag=5m";
    let to = "To: <sip:bob@198.51.100.11>";
    let call = "Call-ID: five-media-1@10.0.0.6";
    let via = "Via: SIP/2.0/UDP 10.0.0.6:5060;branch=z9hG4bK5m1";
    cap.udp(
        a,
        b,
        &msg(
            "INVITE sip:bob@198.51.100.11 SIP/2.0",
            &[
                via,
                "Max-Forwards: 70",
                from,
                to,
                call,
                "CSeq: 10 INVITE",
                "Contact: <sip:alice@10.0.0.6:5060>",
            ],
            &[
                "v=0",
                "o=alice 1 1 IN IP4 10.0.0.6",
                "s=-",
                "c=IN IP4 10.0.0.6",
                "t=0 0",
                "m=audio 40000 RTP/AVP 0",
                "m=video 40002 RTP/AVP 96",
                "c=IN IP4 10.0.0.6",
                "a=rtpmap:96 H264/90000",
                "m=image 40004 udptl t38",
                "a=T38FaxVersion:0",
                "m=audio 40006 RTP/AVP 8",
                "a=rtcp:40011",
                "m=video 40008 RTP/AVP 97",
                "a=rtpmap:97 VP8/90000",
            ],
        ),
    );
    let to_tag = "To: <sip:bob@198.51.100.11>;tag=5mb";
    cap.udp(
        b,
        a,
        &msg(
            "SIP/2.0 200 OK",
            &[
                via,
                from,
                to_tag,
                call,
                "CSeq: 10 INVITE",
                "Contact: <sip:bob@198.51.100.11:5060>",
            ],
            &[
                "v=0",
                "o=bob 7 7 IN IP4 198.51.100.11",
                "s=-",
                "c=IN IP4 198.51.100.11",
                "t=0 0",
                "m=audio 50000 RTP/AVP 0",
                "m=video 0 RTP/AVP 96",
                "m=image 0 udptl t38",
                "m=audio 0 RTP/AVP 8",
                "m=video 0 RTP/AVP 97",
            ],
        ),
    );
    cap.udp(
        a,
        b,
        &msg(
            "ACK sip:bob@198.51.100.11:5060 SIP/2.0",
            &[
                "Via: SIP/2.0/UDP 10.0.0.6:5060;branch=z9hG4bK5m2",
                from,
                to_tag,
                call,
                "CSeq: 10 ACK",
            ],
            &[],
        ),
    );
    let (ra, rb) = (("10.0.0.6", 40000), ("198.51.100.11", 50000));
    cap.udp(ra, rb, &rtp(1, 0xA));
    cap.udp(rb, ra, &rtp(1, 0xB));
    // Bob hangs up (a request in the reply direction).
    let bye_via = "Via: SIP/2.0/UDP 198.51.100.11:5060;branch=z9hG4bK5m3";
    let (bye_from, bye_to) = (
        "From: <sip:bob@198.51.100.11>;tag=5mb",
        "To: <sip:alice@10.0.0.6>;tag=5m",
    );
    cap.udp(
        b,
        a,
        &msg(
            "BYE sip:alice@10.0.0.6:5060 SIP/2.0",
            &[bye_via, bye_from, bye_to, call, "CSeq: 1 BYE"],
            &[],
        ),
    );
    cap.udp(
        a,
        b,
        &msg(
            "SIP/2.0 200 OK",
            &[bye_via, bye_from, bye_to, call, "CSeq: 1 BYE"],
            &[],
        ),
    );
    Fixture {
        name: "sip-five-media.pcapng",
        bytes: cap.pcapng(),
    }
}

/// A REGISTER over UDP (Contact port 5062, where the phone takes calls,
/// the REGISTER comes from 5060), its 200, then an incoming call from the
/// registrar to 5062 — a new flow that matches the signalling expectation
/// — with the phone's answer, ACK, RTP and BYE from the phone. Linux
/// cooked (SLL) pcap.
///
/// Meant for `--snat 10.0.0.0/24=203.0.113.1`: the registrar's messages
/// carry what it received through that NAT (Contact 203.0.113.1:5062,
/// `received=203.0.113.1`), the phone's the phone's own addresses, and the
/// headers are as seen at the phone. Without NAT the 200's Contact is not
/// the phone's address: the expectation is flushed, as the kernel does.
fn register() -> Fixture {
    let mut cap = Capture::new(Link::Sll);
    let (p, r) = (("10.0.0.7", 5060), ("198.51.100.1", 5060));
    let reg = [
        "Via: SIP/2.0/UDP 10.0.0.7:5060;branch=z9hG4bKnashds7;rport",
        "Max-Forwards: 70",
        "From: <sip:carol@198.51.100.1>;tag=a73kszlfl",
        "To: <sip:carol@198.51.100.1>",
        "Call-ID: 1j9FpLxk3uxtm8tn@10.0.0.7",
        "CSeq: 1 REGISTER",
        "Contact: <sip:carol@10.0.0.7:5062>",
        "Expires: 3600",
    ];
    cap.udp(p, r, &msg("REGISTER sip:198.51.100.1 SIP/2.0", &reg, &[]));
    cap.udp(
        r,
        p,
        &msg(
            "SIP/2.0 200 OK",
            &[
                "Via: SIP/2.0/UDP 203.0.113.1:5060;branch=z9hG4bKnashds7;rport=5060;received=203.0.113.1",
                reg[2],
                "To: <sip:carol@198.51.100.1>;tag=37GkEhwl6",
                reg[4],
                reg[5],
                "Contact: <sip:carol@203.0.113.1:5062>;expires=3600",
            ],
            &[],
        ),
    );
    // The incoming call, to the registered Contact.
    let ph = ("10.0.0.7", 5062);
    let via = "Via: SIP/2.0/UDP 198.51.100.1:5060;branch=z9hG4bK2d4790";
    let from = "From: \"Bob\" <sip:bob@198.51.100.1>;tag=1928301774";
    let call = "Call-ID: 8a75b1c4d9e2@198.51.100.1";
    cap.udp(
        r,
        ph,
        &msg(
            "INVITE sip:carol@203.0.113.1:5062 SIP/2.0",
            &[
                via,
                "Max-Forwards: 69",
                from,
                "To: <sip:carol@198.51.100.1>",
                call,
                "CSeq: 101 INVITE",
                "Contact: <sip:bob@198.51.100.1:5060>",
            ],
            &[
                "v=0",
                "o=bob 53655765 2353687637 IN IP4 198.51.100.1",
                "s=-",
                "c=IN IP4 198.51.100.1",
                "t=0 0",
                "m=audio 40000 RTP/AVP 0",
            ],
        ),
    );
    let to = "To: <sip:carol@198.51.100.1>;tag=314159";
    cap.udp(
        ph,
        r,
        &msg(
            "SIP/2.0 200 OK",
            &[
                via,
                from,
                to,
                call,
                "CSeq: 101 INVITE",
                "Contact: <sip:carol@10.0.0.7:5062>",
            ],
            &[
                "v=0",
                "o=carol 2890844527 2890844527 IN IP4 10.0.0.7",
                "s=-",
                "c=IN IP4 10.0.0.7",
                "t=0 0",
                "m=audio 49170 RTP/AVP 0",
            ],
        ),
    );
    cap.udp(
        r,
        ph,
        &msg(
            "ACK sip:carol@203.0.113.1:5062 SIP/2.0",
            &[
                "Via: SIP/2.0/UDP 198.51.100.1:5060;branch=z9hG4bK2d4791",
                from,
                to,
                call,
                "CSeq: 101 ACK",
            ],
            &[],
        ),
    );
    let (rr, rp) = (("198.51.100.1", 40000), ("10.0.0.7", 49170));
    cap.udp(rr, rp, &rtp(1, 0xB));
    cap.udp(rp, rr, &rtp(1, 0xC));
    // Carol hangs up: a request in the reply direction of the call.
    let bye_via = "Via: SIP/2.0/UDP 10.0.0.7:5062;branch=z9hG4bKbye1";
    let (bf, bt) = (
        "From: <sip:carol@198.51.100.1>;tag=314159",
        "To: \"Bob\" <sip:bob@198.51.100.1>;tag=1928301774",
    );
    cap.udp(
        ph,
        r,
        &msg(
            "BYE sip:bob@198.51.100.1:5060 SIP/2.0",
            &[bye_via, "Max-Forwards: 70", bf, bt, call, "CSeq: 1 BYE"],
            &[],
        ),
    );
    cap.udp(
        r,
        ph,
        &msg(
            "SIP/2.0 200 OK",
            &[bye_via, bf, bt, call, "CSeq: 1 BYE"],
            &[],
        ),
    );
    Fixture {
        name: "sip-register.pcap",
        bytes: cap.pcap(),
    }
}

/// SIP over TCP, pcapng with an 802.1Q tag: a REGISTER (Contact
/// `;transport=tcp` at the phone's listening port 5060), its 200, an
/// INVITE split inside its SDP over two segments, the answer, ACK; then
/// the registrar opens a new TCP connection to the phone (the signalling
/// expectation, helper `sip`) with an INVITE split inside its headers,
/// the phone's answer, ACK, BYE, and both connections close.
fn tcp() -> Fixture {
    let mut cap = Capture::new(Link::Vlan(5));
    let mut c = Tcp::new(("10.0.0.8", 40001), ("198.51.100.2", 5060), 1_000, 2_000);
    c.handshake(&mut cap);
    let reg = [
        "Via: SIP/2.0/TCP 10.0.0.8:40001;branch=z9hG4bKreg1",
        "Max-Forwards: 70",
        "From: <sip:dave@198.51.100.2>;tag=r1",
        "To: <sip:dave@198.51.100.2>",
        "Call-ID: reg-77@10.0.0.8",
        "CSeq: 1 REGISTER",
        "Contact: <sip:dave@10.0.0.8:5060;transport=tcp>",
        "Expires: 600",
    ];
    c.c2s(
        &mut cap,
        &msg("REGISTER sip:198.51.100.2 SIP/2.0", &reg, &[]),
    );
    c.s2c(
        &mut cap,
        &msg(
            "SIP/2.0 200 OK",
            &[
                reg[0],
                reg[2],
                "To: <sip:dave@198.51.100.2>;tag=g1",
                reg[4],
                reg[5],
                "Contact: <sip:dave@10.0.0.8:5060;transport=tcp>;expires=600",
            ],
            &[],
        ),
    );
    // An outgoing call; the INVITE is cut inside its SDP.
    let via = "Via: SIP/2.0/TCP 10.0.0.8:40001;branch=z9hG4bKinv1";
    let from = "From: <sip:dave@198.51.100.2>;tag=i1";
    let call = "Call-ID: call-1@10.0.0.8";
    let invite = msg(
        "INVITE sip:erin@198.51.100.2 SIP/2.0",
        &[
            via,
            "Max-Forwards: 70",
            from,
            "To: <sip:erin@198.51.100.2>",
            call,
            "CSeq: 2 INVITE",
            "Contact: <sip:dave@10.0.0.8:5060;transport=tcp>",
        ],
        &[
            "v=0",
            "o=dave 1 1 IN IP4 10.0.0.8",
            "s=-",
            "c=IN IP4 10.0.0.8",
            "t=0 0",
            "m=audio 41000 RTP/AVP 0",
        ],
    );
    let cut = find(&invite, b"c=IN IP4") + 3;
    c.c2s_noack(&mut cap, &invite[..cut]);
    c.c2s(&mut cap, &invite[cut..]);
    let to = "To: <sip:erin@198.51.100.2>;tag=e1";
    c.s2c(
        &mut cap,
        &msg(
            "SIP/2.0 100 Trying",
            &[
                via,
                from,
                "To: <sip:erin@198.51.100.2>",
                call,
                "CSeq: 2 INVITE",
            ],
            &[],
        ),
    );
    c.s2c(
        &mut cap,
        &msg(
            "SIP/2.0 200 OK",
            &[
                via,
                from,
                to,
                call,
                "CSeq: 2 INVITE",
                "Contact: <sip:erin@198.51.100.2:5060;transport=tcp>",
            ],
            &[
                "v=0",
                "o=erin 5 5 IN IP4 198.51.100.2",
                "s=-",
                "c=IN IP4 198.51.100.2",
                "t=0 0",
                "m=audio 42000 RTP/AVP 0",
            ],
        ),
    );
    c.c2s(
        &mut cap,
        &msg(
            "ACK sip:erin@198.51.100.2:5060;transport=tcp SIP/2.0",
            &[
                "Via: SIP/2.0/TCP 10.0.0.8:40001;branch=z9hG4bKack1",
                from,
                to,
                call,
                "CSeq: 2 ACK",
            ],
            &[],
        ),
    );
    // An incoming call on a new connection from the registrar; its INVITE
    // is cut inside the headers.
    let mut d = Tcp::new(("198.51.100.2", 50123), ("10.0.0.8", 5060), 3_000, 4_000);
    d.handshake(&mut cap);
    let via2 = "Via: SIP/2.0/TCP 198.51.100.2:50123;branch=z9hG4bKin2";
    let from2 = "From: <sip:frank@198.51.100.2>;tag=f2";
    let call2 = "Call-ID: call-2@198.51.100.2";
    let invite2 = msg(
        "INVITE sip:dave@10.0.0.8:5060;transport=tcp SIP/2.0",
        &[
            via2,
            "Max-Forwards: 69",
            from2,
            "To: <sip:dave@198.51.100.2>",
            call2,
            "CSeq: 7 INVITE",
            "Contact: <sip:frank@198.51.100.2:50123;transport=tcp>",
        ],
        &[
            "v=0",
            "o=frank 9 9 IN IP4 198.51.100.2",
            "s=-",
            "c=IN IP4 198.51.100.2",
            "t=0 0",
            "m=audio 42002 RTP/AVP 0",
        ],
    );
    let cut = find(&invite2, b"Content-Length") + 9;
    d.c2s_noack(&mut cap, &invite2[..cut]);
    d.c2s(&mut cap, &invite2[cut..]);
    let to2 = "To: <sip:dave@198.51.100.2>;tag=d2";
    d.s2c(
        &mut cap,
        &msg(
            "SIP/2.0 200 OK",
            &[
                via2,
                from2,
                to2,
                call2,
                "CSeq: 7 INVITE",
                "Contact: <sip:dave@10.0.0.8:5060;transport=tcp>",
            ],
            &[
                "v=0",
                "o=dave 2 2 IN IP4 10.0.0.8",
                "s=-",
                "c=IN IP4 10.0.0.8",
                "t=0 0",
                "m=audio 41002 RTP/AVP 0",
            ],
        ),
    );
    d.c2s(
        &mut cap,
        &msg(
            "ACK sip:dave@10.0.0.8:5060;transport=tcp SIP/2.0",
            &[
                "Via: SIP/2.0/TCP 198.51.100.2:50123;branch=z9hG4bKin3",
                from2,
                to2,
                call2,
                "CSeq: 7 ACK",
            ],
            &[],
        ),
    );
    let bye_via = "Via: SIP/2.0/TCP 198.51.100.2:50123;branch=z9hG4bKin4";
    d.c2s(
        &mut cap,
        &msg(
            "BYE sip:dave@10.0.0.8:5060;transport=tcp SIP/2.0",
            &[bye_via, from2, to2, call2, "CSeq: 8 BYE"],
            &[],
        ),
    );
    d.s2c(
        &mut cap,
        &msg(
            "SIP/2.0 200 OK",
            &[bye_via, from2, to2, call2, "CSeq: 8 BYE"],
            &[],
        ),
    );
    d.close(&mut cap);
    c.close(&mut cap);
    Fixture {
        name: "sip-tcp.pcapng",
        bytes: cap.pcapng(),
    }
}

fn find(hay: &[u8], needle: &[u8]) -> usize {
    hay.windows(needle.len())
        .position(|w| w == needle)
        .expect("needle")
}

/// A call over UDP/IPv6 (BSD loopback link type, pcapng): INVITE with
/// audio and video at an IPv6 `c=`, the answer, ACK, RTP both ways, BYE
/// from the callee.
fn call_v6() -> Fixture {
    let mut cap = Capture::new(Link::Null);
    let (a, b) = (("2001:db8:1::5", 5060), ("2001:db8:2::10", 5060));
    let via = "Via: SIP/2.0/UDP [2001:db8:1::5]:5060;branch=z9hG4bK6a1";
    let from = "From: <sip:alice@[2001:db8:1::5]>;tag=v6a";
    let call = "Call-ID: v6call@2001:db8:1::5";
    cap.udp(
        a,
        b,
        &msg(
            "INVITE sip:bob@[2001:db8:2::10] SIP/2.0",
            &[
                via,
                "Max-Forwards: 70",
                from,
                "To: <sip:bob@[2001:db8:2::10]>",
                call,
                "CSeq: 1 INVITE",
                "Contact: <sip:alice@[2001:db8:1::5]:5060>",
            ],
            &[
                "v=0",
                "o=alice 1 1 IN IP6 2001:db8:1::5",
                "s=-",
                "c=IN IP6 2001:db8:1::5",
                "t=0 0",
                "m=audio 49170 RTP/AVP 0",
                "m=video 49172 RTP/AVP 96",
            ],
        ),
    );
    let to = "To: <sip:bob@[2001:db8:2::10]>;tag=v6b";
    cap.udp(
        b,
        a,
        &msg(
            "SIP/2.0 200 OK",
            &[
                via,
                from,
                to,
                call,
                "CSeq: 1 INVITE",
                "Contact: <sip:bob@[2001:db8:2::10]:5060>",
            ],
            &[
                "v=0",
                "o=bob 2 2 IN IP6 2001:db8:2::10",
                "s=-",
                "c=IN IP6 2001:db8:2::10",
                "t=0 0",
                "m=audio 30000 RTP/AVP 0",
                "m=video 0 RTP/AVP 96",
            ],
        ),
    );
    cap.udp(
        a,
        b,
        &msg(
            "ACK sip:bob@[2001:db8:2::10]:5060 SIP/2.0",
            &[
                "Via: SIP/2.0/UDP [2001:db8:1::5]:5060;branch=z9hG4bK6a2",
                from,
                to,
                call,
                "CSeq: 1 ACK",
            ],
            &[],
        ),
    );
    let (ra, rb) = (("2001:db8:1::5", 49170), ("2001:db8:2::10", 30000));
    cap.udp(rb, ra, &rtp(1, 0xB));
    cap.udp(ra, rb, &rtp(1, 0xA));
    let bye_via = "Via: SIP/2.0/UDP [2001:db8:2::10]:5060;branch=z9hG4bK6b1";
    let (bf, bt) = (
        "From: <sip:bob@[2001:db8:2::10]>;tag=v6b",
        "To: <sip:alice@[2001:db8:1::5]>;tag=v6a",
    );
    cap.udp(
        b,
        a,
        &msg(
            "BYE sip:alice@[2001:db8:1::5]:5060 SIP/2.0",
            &[bye_via, bf, bt, call, "CSeq: 1 BYE"],
            &[],
        ),
    );
    cap.udp(
        a,
        b,
        &msg(
            "SIP/2.0 200 OK",
            &[bye_via, bf, bt, call, "CSeq: 1 BYE"],
            &[],
        ),
    );
    Fixture {
        name: "sip-call-v6.pcapng",
        bytes: cap.pcapng(),
    }
}

pub fn fixtures() -> Vec<Fixture> {
    vec![call_v4(), five_media(), register(), tcp(), call_v6()]
}

/// NAT of the callers' side in the SIP fixtures.
pub const SNAT4: &[&str] = &["--snat", "10.0.0.0/24=203.0.113.1"];
pub const SNAT6: &[&str] = &["--snat", "2001:db8:1::/64=2001:db8:ffff::1"];

pub const GOLDENS: &[Golden] = &[
    Golden {
        fixture: "sip-call-v4.pcap",
        args: &[],
        golden: "sip-call-v4.golden.jsonl",
    },
    Golden {
        fixture: "sip-call-v4.pcap",
        args: SNAT4,
        golden: "sip-call-v4.snat.golden.jsonl",
    },
    Golden {
        fixture: "sip-call-v4.pcap",
        args: SNAT4,
        golden: "sip-call-v4.snat.golden.txt",
    },
    Golden {
        fixture: "sip-five-media.pcapng",
        args: &[],
        golden: "sip-five-media.golden.jsonl",
    },
    Golden {
        fixture: "sip-five-media.pcapng",
        args: SNAT4,
        golden: "sip-five-media.snat.golden.jsonl",
    },
    Golden {
        fixture: "sip-register.pcap",
        args: &[],
        golden: "sip-register.golden.jsonl",
    },
    Golden {
        fixture: "sip-register.pcap",
        args: SNAT4,
        golden: "sip-register.snat.golden.jsonl",
    },
    Golden {
        fixture: "sip-tcp.pcapng",
        args: &[],
        golden: "sip-tcp.golden.jsonl",
    },
    Golden {
        fixture: "sip-tcp.pcapng",
        args: SNAT4,
        golden: "sip-tcp.snat.golden.jsonl",
    },
    Golden {
        fixture: "sip-call-v6.pcapng",
        args: &[],
        golden: "sip-call-v6.golden.jsonl",
    },
    Golden {
        fixture: "sip-call-v6.pcapng",
        args: SNAT6,
        golden: "sip-call-v6.snat.golden.jsonl",
    },
];

// ---------------------------------------------------------------------------
// SIP/SDP as tshark decodes it (PDML keeps the order of the lines)
// ---------------------------------------------------------------------------

/// One `m=` line and the address that applies to it.
#[derive(Debug, Clone)]
pub struct MediaLine {
    pub kind: String,
    pub port: u16,
    /// Its media-level `c=` address, if any.
    pub conn: Option<IpAddr>,
}

/// One SIP message with its SDP, as tshark decodes it.
#[derive(Debug, Clone, Default)]
pub struct SdpMsg {
    pub frame: u64,
    /// Outermost IP source and destination.
    pub src: Option<IpAddr>,
    pub dst: Option<IpAddr>,
    /// More than one IP header (IP-in-IP, GRE/ERSPAN).
    pub tunneled: bool,
    /// tshark reassembled the datagram from IP fragments.
    pub reassembled: bool,
    /// The transport ports (first transport header).
    pub sport: u16,
    pub dport: u16,
    pub method: Option<String>,
    pub status: Option<u16>,
    pub cseq_method: Option<String>,
    pub owner: Option<IpAddr>,
    pub session_conn: Option<IpAddr>,
    pub media: Vec<MediaLine>,
}

impl SdpMsg {
    /// The address a media line's stream goes to (`c=` of the media, else
    /// of the session).
    pub fn media_addr(&self, m: &MediaLine) -> Option<IpAddr> {
        m.conn.or(self.session_conn)
    }
    /// A message whose SDP the helper acts on (process_sip_request /
    /// process_sip_response): INVITE, UPDATE, ACK, PRACK, or a 1xx/2xx
    /// answer to INVITE, UPDATE, PRACK.
    pub fn sdp_is_processed(&self) -> bool {
        let m = |s: &Option<String>, set: &[&str]| {
            s.as_deref()
                .is_some_and(|x| set.iter().any(|k| k.eq_ignore_ascii_case(x)))
        };
        if self.method.is_some() {
            return m(&self.method, &["INVITE", "UPDATE", "ACK", "PRACK"]);
        }
        self.status.is_some_and(|c| (100..300).contains(&c))
            && m(&self.cseq_method, &["INVITE", "UPDATE", "PRACK"])
    }
}

/// The address in `IN IP4 a.b.c.d` / `IN IP6 …` (a TTL or count after
/// `/` dropped).
fn sdp_addr(v: &str) -> Option<IpAddr> {
    let mut it = v.split_whitespace();
    let (_, _, a) = (it.next()?, it.next()?, it.next()?);
    a.split('/').next()?.parse().ok()
}

/// `name` and `show` of a PDML `<field …>` line.
fn pdml_field(line: &str) -> Option<(&str, &str)> {
    let attr = |key: &str| {
        let at = line.find(key)? + key.len();
        let rest = line.get(at..)?;
        Some(&rest[..rest.find('"')?])
    };
    let l = line.trim_start();
    if !l.starts_with("<field ") {
        return None;
    }
    Some((attr(" name=\"")?, attr(" show=\"").unwrap_or("")))
}

/// Every SIP message of `file` (tshark `-Y sip`), with `decode_as` such as
/// `udp.port==5062,sip` for SIP on other ports.
pub fn sdp_messages(file: &std::path::Path, decode_as: &[String]) -> Vec<SdpMsg> {
    let mut cmd = std::process::Command::new("tshark");
    cmd.arg("-n").arg("-r").arg(file);
    for d in decode_as {
        cmd.args(["-d", d]);
    }
    cmd.args(["-Y", "sip", "-T", "pdml"]);
    let out = cmd.output().expect("run tshark");
    assert!(
        out.status.success(),
        "tshark {}: {}",
        file.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let mut msgs = Vec::new();
    // Per packet: the frame-level facts, then one message per SIP PDU.
    let mut frame = SdpMsg::default();
    let mut ips = 0;
    let mut cur: Option<SdpMsg> = None;
    for line in text.lines() {
        let l = line.trim_start();
        if l.starts_with("<packet>") {
            frame = SdpMsg::default();
            ips = 0;
            cur = None;
            continue;
        }
        if l.starts_with("</packet>") {
            msgs.extend(cur.take());
            continue;
        }
        if l.starts_with("<proto name=\"sip\"") {
            msgs.extend(cur.take());
            let mut m = frame.clone();
            m.tunneled = ips > 1;
            cur = Some(m);
            continue;
        }
        let Some((name, show)) = pdml_field(line) else {
            continue;
        };
        match name {
            "frame.number" => frame.frame = show.parse().unwrap_or(0),
            "ip.src" | "ipv6.src" => {
                ips += 1;
                if frame.src.is_none() {
                    frame.src = show.parse().ok();
                }
            }
            "ip.dst" | "ipv6.dst" if frame.dst.is_none() => frame.dst = show.parse().ok(),
            "ip.fragments" | "ipv6.fragments" => frame.reassembled = true,
            "udp.srcport" | "tcp.srcport" if frame.sport == 0 => {
                frame.sport = show.parse().unwrap_or(0)
            }
            "udp.dstport" | "tcp.dstport" if frame.dport == 0 => {
                frame.dport = show.parse().unwrap_or(0)
            }
            _ => {}
        }
        let Some(m) = cur.as_mut() else { continue };
        match name {
            "sip.Method" if m.method.is_none() => m.method = Some(show.to_string()),
            "sip.Status-Code" if m.status.is_none() => m.status = show.parse().ok(),
            "sip.CSeq.method" if m.cseq_method.is_none() => m.cseq_method = Some(show.to_string()),
            "sdp.owner" => m.owner = sdp_addr(show),
            "sdp.connection_info" => {
                let a = sdp_addr(show);
                match m.media.last_mut() {
                    Some(last) => last.conn = last.conn.or(a),
                    None => m.session_conn = a,
                }
            }
            "sdp.media" => {
                let mut it = show.split_whitespace();
                let kind = it.next().unwrap_or("").to_string();
                let port = it
                    .next()
                    .and_then(|p| p.split('/').next()?.parse().ok())
                    .unwrap_or(0);
                m.media.push(MediaLine {
                    kind,
                    port,
                    conn: None,
                });
            }
            _ => {}
        }
    }
    msgs
}

/// What [`check_nat_sdp`] found.
#[derive(Debug, Default, Clone, Copy)]
pub struct NatSdp {
    /// Media lines of the NATed side at the NAT address with an expected
    /// port.
    pub checked: usize,
    /// Media lines of the NATed side at a third party's address (left
    /// alone, as the kernel with `sip_direct_media`).
    pub third_party: usize,
    /// SDP messages of the NATed side tshark reassembled from IP fragments
    /// (not helped: replay does not reassemble).
    pub fragmented: usize,
}

/// The SIP messages of the NATed side in a written capture (`out`, sent
/// from `nat`): every `o=`, `c=` and media address that was the NATed
/// side's own (inside `inside`) now carries the NAT address, and every
/// `m=` port at the NAT address is one the replay expected (`expected`:
/// the `(dst, dport)` of its media expectations). Panics with the frame
/// on the first violation.
pub fn check_nat_sdp(
    out: &std::path::Path,
    decode_as: &[String],
    nat: IpAddr,
    inside: &dyn Fn(IpAddr) -> bool,
    expected: &std::collections::HashSet<(IpAddr, u16)>,
) -> NatSdp {
    let mut r = NatSdp::default();
    for m in sdp_messages(out, decode_as) {
        if m.src != Some(nat) {
            continue;
        }
        if m.reassembled {
            r.fragmented += 1;
            continue;
        }
        for a in [m.owner, m.session_conn].into_iter().flatten() {
            assert!(
                !inside(a),
                "{}: frame {}: o=/c= {a} leaks: {m:?}",
                out.display(),
                m.frame
            );
        }
        for line in &m.media {
            let Some(a) = m.media_addr(line) else {
                continue;
            };
            assert!(
                !inside(a),
                "{}: frame {}: media at {a} leaks: {m:?}",
                out.display(),
                m.frame
            );
            let media = matches!(line.kind.as_str(), "audio" | "video" | "image");
            if !media || line.port == 0 || a.is_unspecified() {
                continue;
            }
            if a == nat {
                assert!(
                    expected.contains(&(a, line.port)),
                    "{}: frame {}: m={} {} at the NAT address was not expected: {m:?}",
                    out.display(),
                    m.frame,
                    line.kind,
                    line.port
                );
                r.checked += 1;
            } else {
                r.third_party += 1;
            }
        }
    }
    r
}

/// The `(dst, dport)` of the media expectations (classes 1–3) in replay
/// JSON records.
pub fn media_expectations(recs: &[serde_json::Value]) -> std::collections::HashSet<(IpAddr, u16)> {
    recs.iter()
        .filter(|r| r["type"] == "helper")
        .flat_map(|r| r["expectations"].as_array().cloned().unwrap_or_default())
        .filter(|e| e["class"].as_u64().is_some_and(|c| (1..=3).contains(&c)))
        .map(|e| {
            (
                e["dst"].as_str().unwrap().parse().unwrap(),
                e["dport"].as_u64().unwrap() as u16,
            )
        })
        .collect()
}
