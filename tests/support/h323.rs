//! H.323 fixtures: calls made of the messages pycrate encoded for the
//! decoder's tests (helpers/src/h323/testdata/vectors.txt, written by
//! helpers/src/h323/gen/vectors.py — not by the code under test), carried
//! in TPKTs over scripted TCP connections and in RAS datagrams, with the
//! related flows the signalling announces (H.245, RTP, the gatekeeper's
//! call).
//!
//! The vectors' parties: the caller / endpoint 10.1.0.2 (IPv6 2001:db8::2),
//! the callee / gatekeeper 192.0.2.7 (IPv6 2001:db8::7), a third host
//! 198.51.100.9 named by the Setup and the ACF.

use super::{Capture, Fixture, Golden, Link, Tcp};

const VECTORS: &str = include_str!("../../helpers/src/h323/testdata/vectors.txt");

/// The message `name` of vectors.txt.
pub fn vector(name: &str) -> Vec<u8> {
    let line = VECTORS
        .lines()
        .find(|l| l.split(' ').nth(1) == Some(name))
        .unwrap_or_else(|| panic!("no vector {name}"));
    let hex = line.split(' ').nth(2).expect("hex");
    (0..hex.len() / 2)
        .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).expect("hex"))
        .collect()
}

/// A TPKT (RFC 1006) around one message.
pub fn tpkt(msg: &[u8]) -> Vec<u8> {
    let n = msg.len() + 4;
    let mut v = vec![3, 0, (n >> 8) as u8, n as u8];
    v.extend_from_slice(msg);
    v
}

/// `n` RTP packets from `from` to `to`.
pub fn rtp(cap: &mut Capture, from: (&str, u16), to: (&str, u16), n: u16) {
    for i in 0..n {
        let mut p = vec![0x80, 0];
        p.extend_from_slice(&i.to_be_bytes());
        p.extend_from_slice(&(u32::from(i) * 160).to_be_bytes());
        p.extend_from_slice(&[0x12, 0x34, 0x56, 0x78]);
        p.extend(std::iter::repeat_n(0xff, 160));
        cap.udp(from, to, &p);
    }
}

const CALLER: &str = "10.1.0.2";
const CALLEE: &str = "192.0.2.7";

/// A call with fastStart: the Setup offers the caller's channels (RTP
/// 5002/5003, RTCP 5001 and 5011, video 5012/5013) and one tunnelled OLC
/// (5100/5101), the CallProceeding the callee's (6002/6003, RTCP 6001);
/// RTP flows both ways on the fastStart ports; then ReleaseComplete with a
/// tunnelled OLC (5200).
fn faststart_v4() -> Fixture {
    let mut cap = Capture::new(Link::Ethernet);
    let mut q = Tcp::new((CALLER, 40000), (CALLEE, 1720), 1_000_000, 2_000_000);
    q.handshake(&mut cap);
    q.c2s(&mut cap, &tpkt(&vector("setup-faststart")));
    q.s2c(&mut cap, &tpkt(&vector("callproceeding")));
    rtp(&mut cap, (CALLEE, 6002), (CALLER, 5002), 3);
    rtp(&mut cap, (CALLER, 5002), (CALLEE, 6002), 3);
    q.c2s(&mut cap, &tpkt(&vector("release")));
    q.close(&mut cap);
    Fixture {
        name: "h323-faststart-v4.pcap",
        bytes: cap.pcap(),
    }
}

/// A call with a separate H.245 connection: Setup without media, Alerting
/// and Connect with h245Addresses (1802, 1803); the caller opens H.245 to
/// the Connect's: its OLC (5000/5001, reverse RTCP 5003), the callee's OLC
/// Ack (6000-6003), a T.120 channel on 1503 (the callee connects to it);
/// RTP both ways.
fn direct_v4() -> Fixture {
    let mut cap = Capture::new(Link::Vlan(7));
    let mut q = Tcp::new((CALLER, 40002), (CALLEE, 1720), 1_500_000, 2_500_000);
    q.handshake(&mut cap);
    q.c2s(&mut cap, &tpkt(&vector("setup-plain")));
    q.s2c(&mut cap, &tpkt(&vector("alerting")));
    q.s2c(&mut cap, &tpkt(&vector("connect")));
    let mut h = Tcp::new((CALLER, 40001), (CALLEE, 1803), 3_000_000, 4_000_000);
    h.handshake(&mut cap);
    h.c2s(&mut cap, &tpkt(&vector("olc")));
    h.s2c(&mut cap, &tpkt(&vector("olcack")));
    h.c2s(&mut cap, &tpkt(&vector("olc-t120")));
    rtp(&mut cap, (CALLEE, 6002), (CALLER, 5000), 3);
    rtp(&mut cap, (CALLER, 5000), (CALLEE, 6002), 3);
    super::data_conn(&mut cap, (CALLEE, 41503), (CALLER, 1503), b"T.120");
    h.close(&mut cap);
    q.close(&mut cap);
    Fixture {
        name: "h323-direct-v4.pcap",
        bytes: cap.pcap(),
    }
}

/// A tunnelled call (h245Tunnelling, no H.245 connection): the callee's
/// OLC (RTCP 6011) rides in the Connect, the caller's OLC Ack (5020/5021)
/// in a Facility; RTP from the callee to 5020. The ReleaseComplete (with a
/// tunnelled OLC, 5200) comes in two segments: its TPKT is held until it is
/// whole.
fn tunnel_v4() -> Fixture {
    let mut cap = Capture::new(Link::Sll);
    let mut q = Tcp::new((CALLER, 40010), (CALLEE, 1720), 5_000_000, 6_000_000);
    q.handshake(&mut cap);
    q.c2s(&mut cap, &tpkt(&vector("setup-tunnel")));
    q.s2c(&mut cap, &tpkt(&vector("connect-tunnel")));
    q.c2s(&mut cap, &tpkt(&vector("facility-tunnel")));
    rtp(&mut cap, (CALLEE, 6010), (CALLER, 5020), 3);
    let rel = tpkt(&vector("release"));
    q.c2s(&mut cap, &rel[..20]);
    q.c2s(&mut cap, &rel[20..]);
    q.close(&mut cap);
    Fixture {
        name: "h323-tunnel-v4.pcap",
        bytes: cap.pcap(),
    }
}

/// An endpoint registers with its gatekeeper (GRQ/GCF, RRQ with call
/// signal address 10.1.0.2:1720, RCF), gets admission for a call to
/// 198.51.100.9 (ARQ/ACF: the Q.931 connection it then opens is expected)
/// and places it; then the gatekeeper routes a call to the endpoint's
/// registered address (the RRQ's Q.931 expectation lets it in): Setup with
/// the gatekeeper's fastStart (6020/6021), Connect with the endpoint's
/// (5030/5031), RTP both ways; finally URQ.
fn gk_v4() -> Fixture {
    let mut cap = Capture::new(Link::Ethernet);
    let (ep, gk) = ((CALLER, 1719), (CALLEE, 1719));
    cap.udp(ep, gk, &vector("grq"));
    cap.udp(gk, ep, &vector("gcf"));
    cap.udp(ep, gk, &vector("rrq"));
    cap.udp(gk, ep, &vector("rcf"));
    cap.udp(ep, gk, &vector("arq"));
    cap.udp(gk, ep, &vector("acf"));
    let mut out = Tcp::new(
        (CALLER, 40020),
        ("198.51.100.9", 1720),
        7_000_000,
        8_000_000,
    );
    out.handshake(&mut cap);
    out.c2s(&mut cap, &tpkt(&vector("setup-faststart")));
    out.close(&mut cap);
    let mut q = Tcp::new((CALLEE, 30010), (CALLER, 1720), 9_000_000, 10_000_000);
    q.handshake(&mut cap);
    q.c2s(&mut cap, &tpkt(&vector("setup-gk")));
    q.s2c(&mut cap, &tpkt(&vector("connect-faststart")));
    rtp(&mut cap, (CALLEE, 6022), (CALLER, 5030), 3);
    rtp(&mut cap, (CALLER, 5032), (CALLEE, 6020), 3);
    q.s2c(&mut cap, &tpkt(&vector("release")));
    q.close(&mut cap);
    cap.udp(ep, gk, &vector("urq"));
    Fixture {
        name: "h323-gk-v4.pcap",
        bytes: cap.pcap(),
    }
}

/// IPv6: an RRQ, then a call with fastStart both ways (Setup: RTP
/// 5002/5003, Connect: h245Address 1803 and 6002/6003) and RTP both ways;
/// Linux cooked v2, pcapng.
fn v6() -> Fixture {
    let mut cap = Capture::new(Link::Sll2);
    let (caller, callee) = ("2001:db8::2", "2001:db8::7");
    cap.udp((caller, 1719), (callee, 1719), &vector("rrq6"));
    let mut q = Tcp::new((caller, 40030), (callee, 1720), 11_000_000, 12_000_000);
    q.handshake(&mut cap);
    q.c2s(&mut cap, &tpkt(&vector("setup6")));
    q.s2c(&mut cap, &tpkt(&vector("connect6")));
    rtp(&mut cap, (callee, 6002), (caller, 5002), 3);
    rtp(&mut cap, (caller, 5002), (callee, 6002), 3);
    q.close(&mut cap);
    Fixture {
        name: "h323-v6.pcapng",
        bytes: cap.pcapng(),
    }
}

pub fn fixtures() -> Vec<Fixture> {
    vec![faststart_v4(), direct_v4(), tunnel_v4(), gk_v4(), v6()]
}

pub const SNAT: &str = "10.1.0.0/24=203.0.113.1";
pub const SNAT6: &str = "2001:db8::2/128=2001:db8:ffff::1";
/// The callee behind a DNAT: reached at 198.51.100.1.
pub const DNAT: &str = "198.51.100.1:1720=192.0.2.7:1720";

pub const GOLDENS: &[Golden] = &[
    Golden {
        fixture: "h323-faststart-v4.pcap",
        args: &[],
        golden: "h323-faststart-v4.golden.jsonl",
    },
    Golden {
        fixture: "h323-faststart-v4.pcap",
        args: &["--snat", SNAT],
        golden: "h323-faststart-v4.snat.golden.jsonl",
    },
    Golden {
        fixture: "h323-faststart-v4.pcap",
        args: &["--snat", SNAT],
        golden: "h323-faststart-v4.snat.golden.txt",
    },
    Golden {
        fixture: "h323-faststart-v4.pcap",
        args: &["--dnat", DNAT],
        golden: "h323-faststart-v4.dnat.golden.jsonl",
    },
    Golden {
        fixture: "h323-direct-v4.pcap",
        args: &[],
        golden: "h323-direct-v4.golden.jsonl",
    },
    Golden {
        fixture: "h323-direct-v4.pcap",
        args: &["--snat", SNAT],
        golden: "h323-direct-v4.snat.golden.jsonl",
    },
    Golden {
        fixture: "h323-tunnel-v4.pcap",
        args: &[],
        golden: "h323-tunnel-v4.golden.jsonl",
    },
    Golden {
        fixture: "h323-tunnel-v4.pcap",
        args: &["--snat", SNAT],
        golden: "h323-tunnel-v4.snat.golden.jsonl",
    },
    Golden {
        fixture: "h323-gk-v4.pcap",
        args: &[],
        golden: "h323-gk-v4.golden.jsonl",
    },
    Golden {
        fixture: "h323-gk-v4.pcap",
        args: &["--snat", SNAT],
        golden: "h323-gk-v4.snat.golden.jsonl",
    },
    Golden {
        fixture: "h323-v6.pcapng",
        args: &[],
        golden: "h323-v6.golden.jsonl",
    },
    Golden {
        fixture: "h323-v6.pcapng",
        args: &["--snat", SNAT6],
        golden: "h323-v6.snat.golden.jsonl",
    },
];
