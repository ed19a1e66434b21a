//! SIP replay: the fixtures are what tests/support/sip.rs generates,
//! replaying them gives the reviewed goldens, and under SNAT the packets
//! that leave the router have good checksums, SDP that names the NAT
//! address at the ports the replay expected, media that reaches the real
//! caller and TCP streams that stay contiguous after the size changes.

mod support;

use std::net::IpAddr;
use support::sip::{self, check_nat_sdp, media_expectations, SNAT4, SNAT6};
use support::{replay_json, replay_write, tshark, tshark_fields, BAD_CHECKSUM};

#[test]
fn fixtures_are_current() {
    support::check_fixtures(&sip::fixtures());
}

#[test]
fn every_fixture_has_goldens() {
    support::check_every_fixture_has_goldens(&sip::fixtures(), sip::GOLDENS);
}

#[test]
fn goldens() {
    support::check_goldens(sip::GOLDENS);
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn count(file: &std::path::Path, filter: &str) -> usize {
    tshark_fields(file, filter, &["frame.number"]).len()
}

/// `--write` under SNAT of every SIP fixture.
#[test]
fn snat_write() {
    if !tshark() {
        return;
    }
    let in4 = |a: IpAddr| matches!(a, IpAddr::V4(v) if v.octets()[..3] == [10, 0, 0]);
    let in6 = |a: IpAddr| matches!(a, IpAddr::V6(v) if v.segments()[..4] == [0x2001, 0xdb8, 1, 0]);
    let dir = tempfile::tempdir().unwrap();
    type Inside<'a> = &'a dyn Fn(IpAddr) -> bool;
    let cases: [(&str, &[&str], &str, Inside); 5] = [
        ("sip-call-v4.pcap", SNAT4, "203.0.113.1", &in4),
        ("sip-five-media.pcapng", SNAT4, "203.0.113.1", &in4),
        ("sip-register.pcap", SNAT4, "203.0.113.1", &in4),
        ("sip-tcp.pcapng", SNAT4, "203.0.113.1", &in4),
        ("sip-call-v6.pcapng", SNAT6, "2001:db8:ffff::1", &in6),
    ];
    for (fixture, args, nat, inside) in cases {
        let out = dir.path().join(format!("{fixture}.out.pcapng"));
        replay_write(fixture, args, &out);
        let input = support::fixtures_dir().join(fixture);
        let frames = count(&out, "frame");
        assert_eq!(frames, count(&input, "frame"), "{fixture}: nothing dropped");
        assert_eq!(count(&out, BAD_CHECKSUM), 0, "{fixture}: bad checksums");
        assert_eq!(
            count(
                &out,
                "tcp.checksum.status == \"Good\" || udp.checksum.status == \"Good\""
            ),
            frames,
            "{fixture}: every checksum verified"
        );
        let recs = replay_json(fixture, args);
        let expected = media_expectations(&recs);
        let r = check_nat_sdp(&out, &[], ip(nat), inside, &expected);
        eprintln!("{fixture}: {r:?}");
        assert!(r.checked > 0, "{fixture}: no SDP of the NATed side checked");
        assert_eq!(r.third_party + r.fragmented, 0, "{fixture}: {r:?}");
    }

    // The caller's media reaches the caller: the callee's RTP goes to
    // 10.0.0.5, the caller's leaves from the NAT address.
    let out = dir.path().join("sip-call-v4.pcap.out.pcapng");
    let rows = tshark_fields(
        &out,
        "rtp || rtcp || udp.port == 49172",
        &["ip.src", "ip.dst"],
    );
    assert_eq!(rows.len(), 6);
    for r in &rows {
        assert!(
            (r[0] == "198.51.100.10" && r[1] == "10.0.0.5")
                || (r[0] == "203.0.113.1" && r[1] == "198.51.100.10"),
            "{r:?}"
        );
    }
    // The incoming call to the registered Contact reaches the phone at its
    // own address, with its Request-URI; the phone's answer leaves from
    // the NAT address.
    let out = dir.path().join("sip-register.pcap.out.pcapng");
    let rows = tshark_fields(
        &out,
        "sip.Method == \"INVITE\" || sip.Method == \"ACK\"",
        &["ip.dst", "udp.dstport", "sip.r-uri"],
    );
    assert_eq!(rows.len(), 2);
    for r in &rows {
        assert_eq!(r[..2], ["10.0.0.7", "5062"]);
        assert_eq!(r[2], "sip:carol@10.0.0.7:5062");
    }
    assert_eq!(
        count(&out, "ip.src == 10.0.0.0/24"),
        0,
        "sip-register: unNATed packets"
    );
    // The TCP signalling connection stays contiguous and its acks reach
    // the phone in its own numbering after the REGISTER and INVITE grew.
    let out = dir.path().join("sip-tcp.pcapng.out.pcapng");
    let input = support::fixtures_dir().join("sip-tcp.pcapng");
    support::check_stream(
        out.to_str().unwrap(),
        "203.0.113.1",
        input.to_str().unwrap(),
        "10.0.0.8",
        "tcp.port == 40001",
    );
    // The split INVITE: the first segment keeps its length, tshark
    // reassembles the rewritten message.
    let rows = tshark_fields(
        &out,
        "sip.Method == \"INVITE\" && tcp.port == 40001",
        &["sdp.connection_info.address", "sip.Via"],
    );
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0][0], "203.0.113.1");
    assert!(rows[0][1].contains("203.0.113.1:40001"), "{rows:?}");
}

/// The written IPv6 call: addresses in brackets in the headers, compressed
/// in the SDP, as the kernel's `%pI6c`.
#[test]
fn snat_write_v6_text() {
    if !tshark() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("v6.pcapng");
    replay_write("sip-call-v6.pcapng", SNAT6, &out);
    let rows = tshark_fields(
        &out,
        "sip.Method == \"INVITE\"",
        &[
            "ipv6.src",
            "sip.Via",
            "sip.Contact",
            "sdp.connection_info",
            "sdp.owner",
            "sip.Content-Length",
        ],
    );
    assert_eq!(rows.len(), 1);
    let r = &rows[0];
    assert_eq!(r[0], "2001:db8:ffff::1");
    assert!(
        r[1].starts_with("SIP/2.0/UDP [2001:db8:ffff::1]:5060;"),
        "{r:?}"
    );
    assert_eq!(r[2], "<sip:alice@[2001:db8:ffff::1]:5060>");
    assert_eq!(r[3], "IN IP6 2001:db8:ffff::1");
    assert!(r[4].ends_with("IN IP6 2001:db8:ffff::1"), "{r:?}");
    // Content-Length is the length of the body that went out.
    let payload = tshark_fields(&out, "sip.Method == \"INVITE\"", &["udp.payload"]);
    let bytes = hex(&payload[0][0]);
    let head = bytes.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    assert_eq!(r[5].parse::<usize>().unwrap(), bytes.len() - head);
}

fn hex(s: &str) -> Vec<u8> {
    let s: String = s.chars().filter(|c| c.is_ascii_hexdigit()).collect();
    (0..s.len() / 2)
        .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap())
        .collect()
}

/// SIP over TCP keeps the unfinished tail after a complete message (issue
/// 16 item 4): an OPTIONS and the start of an INVITE in one segment, the
/// rest of the INVITE (its SDP) in the next. The INVITE's media is
/// expected, nothing is `partial`, and the two segments are one message.
#[test]
fn unfinished_tail_after_a_complete_message() {
    use support::sip::msg;
    use support::{Capture, Link, Tcp};
    let options = msg(
        "OPTIONS sip:erin@198.51.100.2 SIP/2.0",
        &[
            "Via: SIP/2.0/TCP 10.0.0.8:40001;branch=z9hG4bKopt1",
            "From: <sip:dave@198.51.100.2>;tag=o1",
            "To: <sip:erin@198.51.100.2>",
            "Call-ID: opt-1@10.0.0.8",
            "CSeq: 1 OPTIONS",
        ],
        &[],
    );
    let invite = msg(
        "INVITE sip:erin@198.51.100.2 SIP/2.0",
        &[
            "Via: SIP/2.0/TCP 10.0.0.8:40001;branch=z9hG4bKinv1",
            "From: <sip:dave@198.51.100.2>;tag=i1",
            "To: <sip:erin@198.51.100.2>",
            "Call-ID: call-1@10.0.0.8",
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
    let cut = 40; // inside the INVITE's headers
    let mut seg1 = options.clone();
    seg1.extend_from_slice(&invite[..cut]);
    let mut cap = Capture::new(Link::Raw);
    let mut c = Tcp::new(("10.0.0.8", 40001), ("198.51.100.2", 5060), 1, 1);
    c.handshake(&mut cap);
    c.c2s_noack(&mut cap, &seg1);
    c.c2s(&mut cap, &invite[cut..]);
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("tail.pcap");
    std::fs::write(&p, cap.pcap()).unwrap();
    for nat in [&[][..], &["--snat", "10.0.0.0/24=203.0.113.1"][..]] {
        let mut a = vec![p.to_str().unwrap(), "--format", "json"];
        a.extend_from_slice(nat);
        let (ok, out, err) = support::replay(&a);
        assert!(ok, "{err}");
        let recs: Vec<serde_json::Value> = out
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(recs.len(), 1, "{out}");
        let r = &recs[0];
        assert_eq!(r["segments"], serde_json::json!([4, 5]), "{r}");
        let ports: Vec<u64> = r["expectations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["dport"].as_u64().unwrap())
            .collect();
        assert_eq!(ports, [41000, 41001], "{nat:?}: {r}");
        assert!(!out.contains("\"partial\""), "{out}");
        if !nat.is_empty() {
            // The INVITE's SDP names the NAT address, the OPTIONS' Via too.
            assert!(
                r["edits"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|e| e["offset"].as_u64().unwrap() < options.len() as u64),
                "{r}"
            );
            assert!(
                r["expectations"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .all(|e| e["dst"] == "203.0.113.1"),
                "{r}"
            );
        }
    }
}
