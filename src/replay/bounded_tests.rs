//! Replay's memory depends on the flows alive at once, not on the length of
//! the capture: conntrack entries and expectations go by their timeouts in
//! capture time. Counted, not timed.

use super::{capture::Reader, Args, Format, Replay};
use crate::config::Config;
use crate::flow::wire::{checksum, l4_checksum};
use std::net::{IpAddr, Ipv4Addr};

fn ip4(src: [u8; 4], dst: [u8; 4], proto: u8, l4: &[u8]) -> Vec<u8> {
    let mut l4 = l4.to_vec();
    let (s, d) = (
        IpAddr::V4(Ipv4Addr::from(src)),
        IpAddr::V4(Ipv4Addr::from(dst)),
    );
    let at = if proto == 6 { 16 } else { 6 };
    let c = l4_checksum(&s, &d, proto, &l4);
    l4[at..at + 2].copy_from_slice(&c.to_be_bytes());
    let len = (20 + l4.len()) as u16;
    let mut ip = vec![0x45, 0, 0, 0, 0, 0, 0x40, 0, 64, proto, 0, 0];
    ip[2..4].copy_from_slice(&len.to_be_bytes());
    ip.extend_from_slice(&src);
    ip.extend_from_slice(&dst);
    let c = checksum(&ip);
    ip[10..12].copy_from_slice(&c.to_be_bytes());
    ip.extend_from_slice(&l4);
    ip
}

#[allow(clippy::too_many_arguments)]
fn tcp(s: [u8; 4], d: [u8; 4], sp: u16, dp: u16, seq: u32, ack: u32, fl: u8, p: &[u8]) -> Vec<u8> {
    let mut h = Vec::new();
    h.extend_from_slice(&sp.to_be_bytes());
    h.extend_from_slice(&dp.to_be_bytes());
    h.extend_from_slice(&seq.to_be_bytes());
    h.extend_from_slice(&ack.to_be_bytes());
    h.extend_from_slice(&[5 << 4, fl, 0xff, 0xff, 0, 0, 0, 0]);
    h.extend_from_slice(p);
    ip4(s, d, 6, &h)
}

fn udp(s: [u8; 4], d: [u8; 4], sp: u16, dp: u16, p: &[u8]) -> Vec<u8> {
    let mut h = Vec::new();
    h.extend_from_slice(&sp.to_be_bytes());
    h.extend_from_slice(&dp.to_be_bytes());
    h.extend_from_slice(&((8 + p.len()) as u16).to_be_bytes());
    h.extend_from_slice(&[0, 0]);
    h.extend_from_slice(p);
    ip4(s, d, 17, &h)
}

/// A raw-IP pcap of `n` sessions, ten a second: a passive FTP control
/// session (SYN … 227 … FIN, FIN, ACK), every tenth one ended by a RST
/// instead, and a TFTP read request nobody answers. Session 0's FTP
/// connection never closes.
fn capture(n: u32) -> Vec<u8> {
    let mut out = Vec::new();
    for v in [0xa1b2_c3d4u32.to_le_bytes(), [2, 0, 4, 0], [0; 4], [0; 4]] {
        out.extend_from_slice(&v);
    }
    out.extend_from_slice(&65535u32.to_le_bytes());
    out.extend_from_slice(&101u32.to_le_bytes());
    let mut rec = |t_ms: u64, p: Vec<u8>| {
        let l = p.len() as u32;
        for v in [(t_ms / 1000) as u32, (t_ms % 1000 * 1000) as u32, l, l] {
            out.extend_from_slice(&v.to_le_bytes());
        }
        out.extend_from_slice(&p);
    };
    for i in 0..n {
        let t = u64::from(i) * 100;
        let c = [10, (i >> 16) as u8, (i >> 8) as u8, i as u8];
        let s = [198, 51, 100, (i % 250 + 1) as u8];
        let cp = 1024 + (i % 60000) as u16;
        let dp = 20000 + (i % 40000) as u16;
        let p227 = format!(
            "227 Entering Passive Mode ({},{},{},{},{},{})\r\n",
            s[0],
            s[1],
            s[2],
            s[3],
            dp >> 8,
            dp & 255
        );
        let l = p227.len() as u32;
        let (a, b) = (1000u32, 5000u32);
        let mut pk = vec![
            tcp(c, s, cp, 21, a, 0, 0x02, b""),
            tcp(s, c, 21, cp, b, a + 1, 0x12, b""),
            tcp(c, s, cp, 21, a + 1, b + 1, 0x10, b""),
            tcp(s, c, 21, cp, b + 1, a + 1, 0x18, b"220 ready\r\n"),
            tcp(c, s, cp, 21, a + 1, b + 12, 0x18, b"PASV\r\n"),
            tcp(s, c, 21, cp, b + 12, a + 7, 0x18, p227.as_bytes()),
        ];
        if i % 10 == 9 {
            pk.push(tcp(c, s, cp, 21, a + 7, b + 12 + l, 0x14, b""));
        } else if i != 0 {
            pk.push(tcp(c, s, cp, 21, a + 7, b + 12 + l, 0x11, b""));
            pk.push(tcp(s, c, 21, cp, b + 12 + l, a + 8, 0x11, b""));
            pk.push(tcp(c, s, cp, 21, a + 8, b + 13 + l, 0x10, b""));
        }
        pk.push(udp(c, s, cp, 69, b"\x00\x01file\x00octet\x00"));
        for (k, p) in pk.into_iter().enumerate() {
            rec(t + k as u64, p);
        }
    }
    out
}

#[test]
fn table_size_is_bounded_by_the_flows_alive_at_once() {
    let n = 20_000; // 2,000 s of capture time
    let buf = capture(n);
    let cfg = Config::default();
    let args = Args {
        file: "synthetic.pcap".into(),
        format: Format::Json,
        snat: vec![],
        dnat: vec![],
        broadcasts: vec![],
        helpers: vec![],
        write: None,
        seed: 0,
    };
    let mut sink = std::io::sink();
    let mut r = Replay::new(&cfg, &args, &mut sink).unwrap();
    let mut reader = Reader::new(&buf).unwrap();
    let (mut max_flows, mut max_exp, mut max_keys) = (0, 0, 0);
    while let Some(f) = reader.next_frame().unwrap() {
        r.frame(&f).unwrap();
        max_flows = max_flows.max(r.model.flows.len());
        max_exp = max_exp.max(r.model.table.len());
        max_keys = max_keys.max(r.model.keys.len());
    }
    // Every session was helped: a 227 and an RRQ, each one expectation.
    assert_eq!(r.stats.flows, u64::from(2 * n));
    assert_eq!(r.stats.expectations, u64::from(2 * n));
    // Alive at once: the closed FTP sessions of the last 120 s (TIME_WAIT)
    // — 1,080 — the reset ones of the last 10 s, the TFTP requests of the
    // last 30 s (unreplied UDP) and session 0: about 1,700, never 40,000.
    assert!(max_flows < 2_000, "{max_flows} flows alive at once");
    assert!(max_exp < 2_000, "{max_exp} expectations alive at once");
    assert!(max_keys < 2_000 * 4, "{max_keys} lookup keys");
    // At the end: session 0 (established, 5 days) is still there, with its
    // expectation (300 s) gone by its own timeout.
    let first: Vec<_> = r
        .model
        .by_orig
        .keys()
        .filter(|t| t.src == IpAddr::V4(Ipv4Addr::new(10, 0, 0, 0)) && t.dport == 21)
        .collect();
    assert_eq!(first.len(), 1);
    assert!(r.model.flows.len() > 1_000);
}
