//! Micro benchmarks (issue 14): ns per message for each helper's hot path,
//! the helper alone (parse → decide → edits, expectations into a recording
//! table), built from the registry with the kernel's defaults as the daemon
//! builds them. `cargo bench --bench helpers`; figures in docs/performance.md.
//!
//! Every case is checked once before it is timed: it must make the edits or
//! expectation it exists for, so a benchmark never times a packet the helper
//! ignores. H.323 and SNMP messages come from our own fixtures (the first
//! Q.931 Setup with fastStart; the first SNMP response holding the agent's
//! address), so they are real encodings, not hand-made ones; the PPTP
//! messages are built with the helper's own `pptp::msg::build`.

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use helpers::testing::TestEnv;
use helpers::{ConnView, Dir, Helper, L4Proto, Outcome, Packet, Params, PrivData, Tuple, REGISTRY};
use std::net::IpAddr;

fn helper(name: &str) -> Box<dyn Helper> {
    let info = REGISTRY
        .iter()
        .find(|i| i.name == name)
        .unwrap_or_else(|| panic!("no helper {name}"));
    (info.build)(&Params::defaults(info.params), &info.default_policies())
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

/// A connection from `cli:cport` to `srv:sport`; with `snat`, the router
/// masquerades the client as 203.0.113.1:cport+1000.
fn conn(proto: L4Proto, cli: &str, cport: u16, srv: &str, sport: u16, snat: bool) -> ConnView {
    let orig = Tuple {
        src: ip(cli),
        dst: ip(srv),
        proto,
        sport: cport,
        dport: sport,
    };
    if !snat {
        return ConnView::plain(orig);
    }
    ConnView {
        orig,
        reply: Tuple {
            src: ip(srv),
            dst: ip("203.0.113.1"),
            proto,
            sport,
            dport: cport + 1000,
        },
    }
}

/// One message into a recording table that is reused (its record cleared,
/// its vectors' capacity kept), as the daemon reuses its buffers: the time
/// is the helper's, not the recorder's allocations.
fn run(h: &dyn Helper, pkt: &Packet<'_>, env: &mut TestEnv) -> Outcome {
    env.clear_record();
    let out = h.handle(pkt, env);
    black_box(env.made.len());
    out
}

/// Checks the case does what it is there for, then times it.
fn case(c: &mut Criterion, id: &str, h: &dyn Helper, pkt: Packet<'_>, edits: bool, expects: bool) {
    let mut env = TestEnv::default();
    let out = h.handle(&pkt, &mut env);
    assert!(!edits || !out.edits.is_empty(), "{id}: no edit: {out:?}");
    assert!(
        !expects || !env.made.is_empty(),
        "{id}: no expectation: {out:?}"
    );
    c.bench_function(id, |b| {
        let mut env = TestEnv::default();
        b.iter(|| run(h, black_box(&pkt), &mut env))
    });
}

const SDP_INVITE: &str = "INVITE sip:bob@198.51.100.7 SIP/2.0\r\n\
Via: SIP/2.0/UDP 10.0.1.2:5060;branch=z9hG4bK776asdhds\r\n\
Max-Forwards: 70\r\n\
To: Bob <sip:bob@198.51.100.7>\r\n\
From: Alice <sip:alice@10.0.1.2>;tag=1928301774\r\n\
Call-ID: a84b4c76e66710@10.0.1.2\r\n\
CSeq: 314159 INVITE\r\n\
Contact: <sip:alice@10.0.1.2:5060>\r\n\
Content-Type: application/sdp\r\n\
Content-Length: 198\r\n\
\r\n\
v=0\r\n\
o=alice 2890844526 2890844526 IN IP4 10.0.1.2\r\n\
s=-\r\n\
c=IN IP4 10.0.1.2\r\n\
t=0 0\r\n\
m=audio 49170 RTP/AVP 0\r\n\
a=rtpmap:0 PCMU/8000\r\n\
m=video 51372 RTP/AVP 31\r\n\
a=rtpmap:31 H261/90000\r\n";

fn text_helpers(c: &mut Criterion) {
    let est = |conn, dir, payload: &'static [u8]| Packet {
        conn,
        dir,
        payload,
        tcp_seq: (conn.orig.proto == L4Proto::Tcp).then_some(1),
        ..Packet::EMPTY
    };
    let ftp = helper("ftp");
    let tcp = L4Proto::Tcp;
    let udp = L4Proto::Udp;
    let c_ftp = conn(tcp, "10.0.1.2", 40000, "198.51.100.7", 21, true);
    case(
        c,
        "ftp PORT line, SNAT",
        &*ftp,
        est(c_ftp, Dir::Original, b"PORT 10,0,1,2,19,137\r\n"),
        true,
        true,
    );
    // Passive FTP to a server behind DNAT: the 227 reply names the inside address.
    let c_dnat = ConnView {
        orig: Tuple {
            src: ip("198.51.100.9"),
            dst: ip("203.0.113.1"),
            proto: tcp,
            sport: 40000,
            dport: 21,
        },
        reply: Tuple {
            src: ip("10.0.2.2"),
            dst: ip("198.51.100.9"),
            proto: tcp,
            sport: 21,
            dport: 40000,
        },
    };
    case(
        c,
        "ftp 227 reply, DNAT",
        &*ftp,
        est(
            c_dnat,
            Dir::Reply,
            b"227 Entering Passive Mode (10,0,2,2,19,137).\r\n",
        ),
        true,
        true,
    );
    case(
        c,
        "ftp PORT line, no NAT",
        &*ftp,
        est(
            conn(tcp, "10.0.1.2", 40000, "198.51.100.7", 21, false),
            Dir::Original,
            b"PORT 10,0,1,2,19,137\r\n",
        ),
        false,
        true,
    );
    let sip = helper("sip");
    case(
        c,
        "sip INVITE + SDP (2 m= lines), SNAT full rewrite",
        &*sip,
        Packet {
            outdev: Some(1),
            ..est(
                conn(udp, "10.0.1.2", 5060, "198.51.100.7", 5060, true),
                Dir::Original,
                SDP_INVITE.as_bytes(),
            )
        },
        true,
        true,
    );
    let irc = helper("irc");
    case(
        c,
        "irc DCC SEND, SNAT",
        &*irc,
        est(
            conn(tcp, "10.0.1.2", 40000, "198.51.100.7", 6667, true),
            Dir::Original,
            b"PRIVMSG bob :\x01DCC SEND file.txt 167772418 5000 1024\x01\r\n",
        ),
        true,
        true,
    );
    let tftp = helper("tftp");
    case(
        c,
        "tftp RRQ",
        &*tftp,
        est(
            conn(udp, "10.0.1.2", 40000, "198.51.100.7", 69, true),
            Dir::Original,
            b"\x00\x01boot/pxelinux.0\x00octet\x00",
        ),
        false,
        true,
    );
    let amanda = helper("amanda");
    case(
        c,
        "amanda CONNECT reply",
        &*amanda,
        est(
            conn(udp, "10.0.1.2", 850, "198.51.100.7", 10080, false),
            Dir::Reply,
            b"Amanda 2.6 REP HANDLE 000-00000000 SEQ 1\n\
CONNECT DATA 50000 MESG 50001 INDEX 50002\n\
OPTIONS features=ffffffff;\n",
        ),
        false,
        true,
    );
}

/// The L4 payloads of a classic pcap file (Ethernet or raw IP), with their
/// ports: enough to pick messages out of our fixtures.
fn pcap_payloads(file: &str) -> Vec<(L4Proto, u16, u16, Vec<u8>)> {
    use etherparse::{SlicedPacket, TransportSlice};
    let path = format!("{}/fixtures/{file}", env!("CARGO_MANIFEST_DIR"));
    let d = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let le = d[..4] == [0xd4, 0xc3, 0xb2, 0xa1];
    let u32at = |o: usize| {
        let b = [d[o], d[o + 1], d[o + 2], d[o + 3]];
        if le {
            u32::from_le_bytes(b)
        } else {
            u32::from_be_bytes(b)
        }
    };
    let link = u32at(20);
    let mut out = Vec::new();
    let mut at = 24;
    while at + 16 <= d.len() {
        let len = u32at(at + 8) as usize;
        let frame = &d[at + 16..at + 16 + len];
        at += 16 + len;
        let sliced = if link == 1 {
            SlicedPacket::from_ethernet(frame)
        } else {
            SlicedPacket::from_ip(frame)
        };
        let Ok(p) = sliced else { continue };
        match p.transport {
            Some(TransportSlice::Tcp(t)) if !t.payload().is_empty() => out.push((
                L4Proto::Tcp,
                t.source_port(),
                t.destination_port(),
                t.payload().to_vec(),
            )),
            Some(TransportSlice::Udp(u)) => out.push((
                L4Proto::Udp,
                u.source_port(),
                u.destination_port(),
                u.payload().to_vec(),
            )),
            _ => {}
        }
    }
    out
}

fn binary_helpers(c: &mut Criterion) {
    // Q.931 Setup with fastStart (TPKT), from the client, masqueraded.
    let q931 = helper("Q.931");
    let msgs = pcap_payloads("h323-faststart-v4.pcap");
    let setup = msgs
        .iter()
        .find(|(p, _, d, m)| {
            // TPKT (3, 0, length), Q.931 (8, call reference length L, L bytes, type 5)
            let l = usize::from(m.get(5).copied().unwrap_or(0));
            *p == L4Proto::Tcp && *d == 1720 && m.first() == Some(&3) && m.get(6 + l) == Some(&0x05)
        })
        .expect("a Q.931 Setup to port 1720 in h323-faststart-v4.pcap");
    let c_q931 = conn(
        L4Proto::Tcp,
        "10.1.0.2",
        setup.1,
        "198.51.100.9",
        1720,
        true,
    );
    case(
        c,
        "h323 Q.931 Setup with fastStart, SNAT",
        &*q931,
        Packet {
            conn: c_q931,
            dir: Dir::Original,
            payload: &setup.3,
            tcp_seq: Some(1),
            state: PrivData::ZERO,
            ..Packet::EMPTY
        },
        true,
        true,
    );
    // A PPTP Outgoing-Call-Request under SNAT: the session established by
    // SCCRQ/SCCRP first (their state is the packet's), then the OCRQ: the
    // PNS call ID rewritten to the outside one and the PAC→PNS GRE
    // expectation made.
    use helpers::pptp::msg::{build, MsgType};
    let pptp = helper("pptp");
    let c_pptp = conn(L4Proto::Tcp, "10.0.1.2", 40000, "198.51.100.7", 1723, true);
    let mut state = PrivData::ZERO;
    let mut seq = [1u32, 1u32];
    for (dir, msg) in [
        (Dir::Original, build(MsgType::Sccrq, &[1, 0])),
        (Dir::Reply, build(MsgType::Sccrp, &[1, 0, 1, 0])),
    ] {
        let i = usize::from(dir == Dir::Reply);
        let out = pptp.handle(
            &Packet {
                conn: c_pptp,
                dir,
                payload: &msg,
                tcp_seq: Some(seq[i]),
                state,
                ..Packet::EMPTY
            },
            &mut TestEnv::default(),
        );
        state = out.state.unwrap_or(state);
        seq[i] += msg.len() as u32;
    }
    let ocrq = build(MsgType::Ocrq, &[0x12, 0x34, 0, 1]);
    case(
        c,
        "pptp OCRQ, SNAT (call-ID rewrite + GRE expectation)",
        &*pptp,
        Packet {
            conn: c_pptp,
            dir: Dir::Original,
            payload: &ocrq,
            tcp_seq: Some(seq[0]),
            state,
            ..Packet::EMPTY
        },
        true,
        true,
    );
    // An SNMP response from an agent behind DNAT that names its own address.
    let snmp = helper("snmp");
    let agent = ip("10.0.1.2");
    let msgs = pcap_payloads("snmp-walk-dnat.pcap");
    let resp = msgs
        .iter()
        .filter(|(p, s, _, _)| *p == L4Proto::Udp && *s == 161)
        .find_map(|(_, _, d, m)| {
            let c_dnat = ConnView {
                orig: Tuple {
                    src: ip("198.51.100.7"),
                    dst: ip("203.0.113.1"),
                    proto: L4Proto::Udp,
                    sport: *d,
                    dport: 161,
                },
                reply: Tuple {
                    src: agent,
                    dst: ip("198.51.100.7"),
                    proto: L4Proto::Udp,
                    sport: 161,
                    dport: *d,
                },
            };
            let pkt = Packet {
                conn: c_dnat,
                dir: Dir::Reply,
                payload: m,
                ..Packet::EMPTY
            };
            let out = snmp.handle(&pkt, &mut TestEnv::default());
            (!out.edits.is_empty()).then_some(pkt)
        });
    if let Some(pkt) = resp {
        case(
            c,
            "snmp GetResponse with IpAddress, DNAT",
            &*snmp,
            pkt,
            true,
            false,
        );
    } else {
        panic!("no SNMP response in snmp-walk-dnat.pcap is rewritten for agent {agent}");
    }
}

criterion_group!(benches, text_helpers, binary_helpers);
criterion_main!(benches);
