//! TFTP fixtures: read and write requests whose transfer comes from a new
//! server port (the related flow), IPv4 and IPv6.

use super::{Capture, Fixture, Golden, Link};

/// RRQ or WRQ (`op` 1 or 2) for `file` in octet mode.
pub fn request(op: u8, file: &str) -> Vec<u8> {
    let mut v = vec![0, op];
    v.extend_from_slice(file.as_bytes());
    v.push(0);
    v.extend_from_slice(b"octet\0");
    v
}

pub fn data(block: u16, len: usize) -> Vec<u8> {
    let mut v = vec![0, 3];
    v.extend_from_slice(&block.to_be_bytes());
    v.extend((0..len).map(|i| (i % 251) as u8));
    v
}

pub fn ack(block: u16) -> Vec<u8> {
    let mut v = vec![0, 4];
    v.extend_from_slice(&block.to_be_bytes());
    v
}

/// A read over IPv4, Ethernet pcap: the RRQ is sent twice (a
/// retransmission: the same expectation of the same master is replaced),
/// then the server answers from port 50000 with two blocks.
fn rrq_v4() -> Fixture {
    let mut cap = Capture::new(Link::Ethernet);
    let (c, s, t) = (
        ("10.0.0.5", 40000),
        ("198.51.100.20", 69),
        ("198.51.100.20", 50000),
    );
    cap.udp(c, s, &request(1, "boot.img"));
    cap.tick();
    cap.udp(c, s, &request(1, "boot.img"));
    cap.udp(t, c, &data(1, 512));
    cap.udp(c, t, &ack(1));
    cap.udp(t, c, &data(2, 100));
    cap.udp(c, t, &ack(2));
    Fixture {
        name: "tftp-rrq-v4.pcap",
        bytes: cap.pcap(),
    }
}

/// Over IPv6, Linux cooked v2 pcapng: a read (server answers from port
/// 50100), then a write from another client port (the server acknowledges
/// block 0 from port 50101, the client sends one short block).
fn v6() -> Fixture {
    let mut cap = Capture::new(Link::Sll2);
    let s = ("2001:db8:2::69", 69);
    let (c1, t1) = (("2001:db8:1::5", 40100), ("2001:db8:2::69", 50100));
    cap.udp(c1, s, &request(1, "pxelinux.0"));
    cap.udp(t1, c1, &data(1, 300));
    cap.udp(c1, t1, &ack(1));
    let (c2, t2) = (("2001:db8:1::5", 40101), ("2001:db8:2::69", 50101));
    cap.udp(c2, s, &request(2, "backup.cfg"));
    cap.udp(t2, c2, &ack(0));
    cap.udp(c2, t2, &data(1, 42));
    cap.udp(t2, c2, &ack(1));
    Fixture {
        name: "tftp-v6.pcapng",
        bytes: cap.pcapng(),
    }
}

pub fn fixtures() -> Vec<Fixture> {
    vec![rrq_v4(), v6()]
}

pub const GOLDENS: &[Golden] = &[
    Golden {
        fixture: "tftp-rrq-v4.pcap",
        args: &[],
        golden: "tftp-rrq-v4.golden.jsonl",
    },
    Golden {
        fixture: "tftp-rrq-v4.pcap",
        args: &["--snat", "10.0.0.0/24=203.0.113.1"],
        golden: "tftp-rrq-v4.snat.golden.jsonl",
    },
    Golden {
        fixture: "tftp-v6.pcapng",
        args: &[],
        golden: "tftp-v6.golden.jsonl",
    },
    Golden {
        fixture: "tftp-v6.pcapng",
        args: &["--snat", "2001:db8:1::/64=2001:db8:ffff::1"],
        golden: "tftp-v6.snat.golden.jsonl",
    },
    Golden {
        fixture: "tftp-v6.pcapng",
        args: &["--snat", "2001:db8:1::/64=2001:db8:ffff::1"],
        golden: "tftp-v6.snat.golden.txt",
    },
];
