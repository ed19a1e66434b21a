//! PPTP fixtures: one control connection (tcp/1723) from a PNS behind the
//! NAT to a PAC — Start-Control-Connection, one outgoing call, GRE (enhanced
//! GRE v1 carrying PPP) both ways, an Echo, the call cleared (CCRQ, CDN) and
//! the control connection stopped. The messages are written here from RFC
//! 2637's layouts (full sizes, magic cookie), independent of the decoder
//! under test; GRE packets are raw IPv4 protocol 47.

use super::{Capture, Fixture, Golden, Link, Tcp};
use std::net::Ipv4Addr;

const COOKIE: u32 = 0x1A2B_3C4D;

/// A control message: Length, PPTP message type 1, cookie, control type,
/// reserved, then `body` (the length counts the 12 header bytes).
fn msg(ctrl: u16, body: &[u8]) -> Vec<u8> {
    let len = 12 + body.len() as u16;
    let mut v = Vec::new();
    v.extend_from_slice(&len.to_be_bytes());
    v.extend_from_slice(&1u16.to_be_bytes());
    v.extend_from_slice(&COOKIE.to_be_bytes());
    v.extend_from_slice(&ctrl.to_be_bytes());
    v.extend_from_slice(&[0, 0]);
    v.extend_from_slice(body);
    v
}

fn name64(s: &str) -> Vec<u8> {
    let mut v = s.as_bytes().to_vec();
    v.resize(64, 0);
    v
}

/// Start-Control-Connection-Request (156 bytes) or -Reply (`result` Some).
fn sccr(result: Option<u8>, host: &str) -> Vec<u8> {
    let mut b = Vec::new();
    b.extend_from_slice(&0x0100u16.to_be_bytes()); // protocol version 1.0
    match result {
        None => b.extend_from_slice(&[0, 0]),
        Some(r) => b.extend_from_slice(&[r, 0]), // result, error
    }
    b.extend_from_slice(&3u32.to_be_bytes()); // framing: async + sync
    b.extend_from_slice(&3u32.to_be_bytes()); // bearer: analog + digital
    b.extend_from_slice(&0u16.to_be_bytes()); // max channels
    b.extend_from_slice(&0x0100u16.to_be_bytes()); // firmware revision
    b.extend(name64(host));
    b.extend(name64("cthelperd fixtures"));
    msg(if result.is_some() { 2 } else { 1 }, &b)
}

/// Outgoing-Call-Request (168 bytes).
fn ocrq(call_id: u16, serial: u16) -> Vec<u8> {
    let mut b = Vec::new();
    b.extend_from_slice(&call_id.to_be_bytes());
    b.extend_from_slice(&serial.to_be_bytes());
    b.extend_from_slice(&300u32.to_be_bytes()); // minimum bps
    b.extend_from_slice(&100_000_000u32.to_be_bytes()); // maximum bps
    b.extend_from_slice(&3u32.to_be_bytes()); // bearer type
    b.extend_from_slice(&3u32.to_be_bytes()); // framing type
    b.extend_from_slice(&64u16.to_be_bytes()); // receive window
    b.extend_from_slice(&0u16.to_be_bytes()); // processing delay
    b.extend_from_slice(&0u16.to_be_bytes()); // phone number length
    b.extend_from_slice(&0u16.to_be_bytes()); // reserved
    b.extend(name64("")); // phone number
    b.extend(name64("")); // subaddress
    msg(7, &b)
}

/// Outgoing-Call-Reply (32 bytes), result 1 = Connected.
fn ocrp(call_id: u16, peer: u16, result: u8) -> Vec<u8> {
    let mut b = Vec::new();
    b.extend_from_slice(&call_id.to_be_bytes());
    b.extend_from_slice(&peer.to_be_bytes());
    b.extend_from_slice(&[result, 0]);
    b.extend_from_slice(&0u16.to_be_bytes()); // cause code
    b.extend_from_slice(&100_000_000u32.to_be_bytes()); // connect speed
    b.extend_from_slice(&64u16.to_be_bytes()); // receive window
    b.extend_from_slice(&0u16.to_be_bytes()); // processing delay
    b.extend_from_slice(&0u32.to_be_bytes()); // physical channel ID
    msg(8, &b)
}

/// Echo-Request (16 bytes) or Echo-Reply (20 bytes, `reply`).
fn echo(id: u32, reply: bool) -> Vec<u8> {
    let mut b = id.to_be_bytes().to_vec();
    if reply {
        b.extend_from_slice(&[1, 0, 0, 0]);
    }
    msg(if reply { 6 } else { 5 }, &b)
}

/// Call-Clear-Request (16 bytes).
fn ccrq(call_id: u16) -> Vec<u8> {
    let mut b = call_id.to_be_bytes().to_vec();
    b.extend_from_slice(&[0, 0]);
    msg(12, &b)
}

/// Call-Disconnect-Notify (148 bytes): the call ID the PAC puts there is
/// its own (RFC 2637 and pptpd), result 3 = Call-Clear-Request.
fn cdn(call_id: u16) -> Vec<u8> {
    let mut b = call_id.to_be_bytes().to_vec();
    b.extend_from_slice(&[3, 0]); // result, error
    b.extend_from_slice(&0u16.to_be_bytes()); // cause
    b.extend_from_slice(&0u16.to_be_bytes()); // reserved
    b.extend(std::iter::repeat_n(0u8, 128)); // call statistics
    msg(13, &b)
}

/// Stop-Control-Connection-Request (16 bytes) or -Reply (`reply`).
fn stop(reply: bool) -> Vec<u8> {
    msg(if reply { 4 } else { 3 }, &[1, 0, 0, 0])
}

/// An enhanced GRE (v1) packet with key (= the receiver's call ID) and
/// sequence number, carrying `ppp`; raw IPv4 protocol 47.
fn gre(cap: &mut Capture, src: &str, dst: &str, key: u16, seq: u32, ppp: &[u8]) {
    let (s, d): (Ipv4Addr, Ipv4Addr) = (src.parse().expect("addr"), dst.parse().expect("addr"));
    let mut g = Vec::new();
    g.extend_from_slice(&0x3001u16.to_be_bytes()); // K, S, version 1
    g.extend_from_slice(&0x880Bu16.to_be_bytes()); // PPP
    g.extend_from_slice(&(ppp.len() as u16).to_be_bytes());
    g.extend_from_slice(&key.to_be_bytes());
    g.extend_from_slice(&seq.to_be_bytes());
    g.extend_from_slice(ppp);
    // The IPv4 header by hand: 20 bytes, DF, TTL 64, protocol 47, checksum.
    let total = (20 + g.len()) as u16;
    let mut v = vec![0x45, 0];
    v.extend_from_slice(&total.to_be_bytes());
    v.extend_from_slice(&[0, 0, 0x40, 0, 64, 47, 0, 0]);
    v.extend_from_slice(&s.octets());
    v.extend_from_slice(&d.octets());
    let mut sum: u32 = v
        .chunks(2)
        .map(|w| u32::from(u16::from_be_bytes([w[0], w[1]])))
        .sum();
    while sum > 0xFFFF {
        sum = (sum & 0xFFFF) + (sum >> 16);
    }
    v[10..12].copy_from_slice(&(!(sum as u16)).to_be_bytes());
    v.extend_from_slice(&g);
    cap.push(v);
}

/// An LCP Configure-Request (magic number option), as PPP inside GRE.
fn lcp(id: u8) -> Vec<u8> {
    vec![
        0xFF, 0x03, 0xC0, 0x21, 0x01, id, 0x00, 0x0A, 0x05, 0x06, 0x12, 0x34, 0x56, id,
    ]
}

/// The PNS 10.0.0.5 (call ID 0x1234) calls the PAC 198.51.100.30 (call ID
/// 0x4002): the whole life of one call on one control connection, as
/// `cthelperd replay` reads a capture: headers as seen on the PNS's side
/// (the replay maps them to the outside under `--snat`, GRE keys through
/// the expectation's NAT), control messages with the bytes their sender
/// wrote (the helper rewrites them). `pac_sees` is the PNS call ID the PAC
/// got in the OCRQ and so writes into its OCRP: the PNS's own without NAT,
/// the outside one behind the NAT.
fn call(name: &'static str, pac_sees: u16) -> Fixture {
    let mut cap = Capture::new(Link::Raw);
    let (pns, pac) = ("10.0.0.5", "198.51.100.30");
    let (pns_id, pac_id) = (0x1234u16, 0x4002u16);
    let mut c = Tcp::new((pns, 40000), (pac, 1723), 100_000, 500_000);
    c.handshake(&mut cap);
    c.c2s(&mut cap, &sccr(None, "pns"));
    c.s2c(&mut cap, &sccr(Some(1), "pac"));
    c.c2s(&mut cap, &ocrq(pns_id, 1));
    c.s2c(&mut cap, &ocrp(pac_id, pac_sees, 1));
    gre(&mut cap, pns, pac, pac_id, 0, &lcp(1));
    gre(&mut cap, pac, pns, pns_id, 0, &lcp(2));
    gre(&mut cap, pns, pac, pac_id, 1, &lcp(3));
    gre(&mut cap, pac, pns, pns_id, 1, &lcp(4));
    c.s2c(&mut cap, &echo(7, false));
    c.c2s(&mut cap, &echo(7, true));
    c.c2s(&mut cap, &ccrq(pns_id));
    c.s2c(&mut cap, &cdn(pac_id));
    c.c2s(&mut cap, &stop(false));
    c.s2c(&mut cap, &stop(true));
    c.close(&mut cap);
    Fixture {
        name,
        bytes: cap.pcap(),
    }
}

/// The call without NAT: each direction's GRE is related to one of the
/// call's two expectations.
fn call_v4() -> Fixture {
    call("pptp-call-v4.pcap", 0x1234)
}

/// The same call behind `--snat 10.0.0.0/24=203.0.113.1` (the TCP port
/// stays 40000): the PNS call ID leaves as 40000 (0x9c40, the reply
/// tuple's destination port, nf_nat_pptp's choice) in the OCRQ and CCRQ,
/// the PAC answers to 0x9c40 (its OCRP reaches the PNS as 0x1234) and its
/// GRE, keyed 0x9c40 outside, is related and reaches the PNS keyed 0x1234. The CDN carries the PAC's own call ID: not
/// rewritten. (A capture of one side cannot serve both goldens: the PAC's
/// messages name the ID the PAC was sent.)
fn snat_v4() -> Fixture {
    call("pptp-snat-v4.pcap", 40000)
}

pub fn fixtures() -> Vec<Fixture> {
    vec![call_v4(), snat_v4()]
}

pub const GOLDENS: &[Golden] = &[
    Golden {
        fixture: "pptp-call-v4.pcap",
        args: &[],
        golden: "pptp-call-v4.golden.jsonl",
    },
    Golden {
        fixture: "pptp-snat-v4.pcap",
        args: &["--snat", "10.0.0.0/24=203.0.113.1"],
        golden: "pptp-snat-v4.snat.golden.jsonl",
    },
    Golden {
        fixture: "pptp-snat-v4.pcap",
        args: &["--snat", "10.0.0.0/24=203.0.113.1"],
        golden: "pptp-snat-v4.snat.golden.txt",
    },
];
