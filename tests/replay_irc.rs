//! IRC replay: the fixtures are what tests/support/irc.rs generates,
//! replaying them gives the reviewed goldens, and under SNAT the DCC text
//! that leaves the router names the NAT address (`nf_nat_irc`), the
//! control connection stays contiguous after the size change, and the
//! peer's DCC connection reaches the client.

mod support;

use support::{check_stream, irc, replay_write, tshark, tshark_fields, BAD_CHECKSUM};

#[test]
fn fixtures_are_current() {
    support::check_fixtures(&irc::fixtures());
}

#[test]
fn every_fixture_has_goldens() {
    support::check_every_fixture_has_goldens(&irc::fixtures(), irc::GOLDENS);
}

#[test]
fn goldens() {
    support::check_goldens(irc::GOLDENS);
}

fn count(file: &std::path::Path, filter: &str) -> usize {
    tshark_fields(file, filter, &["frame.number"]).len()
}

#[test]
fn snat_write_v4() {
    if !tshark() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("v4.pcapng");
    replay_write(
        "irc-dcc-v4.pcap",
        &["--snat", "10.0.0.0/24=203.0.113.1"],
        &out,
    );
    assert_eq!(count(&out, BAD_CHECKSUM), 0);
    // 203.0.113.1 = 3405803777; 10.0.0.5 = 167772165. The forged offer
    // and the server's are left alone.
    assert_eq!(
        count(
            &out,
            "frame contains \"DCC SEND report.pdf 3405803777 5000 4096\""
        ),
        1
    );
    assert_eq!(
        count(&out, "frame contains \"DCC CHAT chat 3405803777 5001\""),
        1
    );
    assert_eq!(count(&out, "frame contains \"167772165\""), 0);
    assert_eq!(count(&out, "frame contains \"3232235777 22\""), 1);
    assert_eq!(count(&out, "frame contains \"3325256744 6000\""), 1);
    let input = support::fixtures_dir().join("irc-dcc-v4.pcap");
    check_stream(
        out.to_str().unwrap(),
        "203.0.113.1",
        input.to_str().unwrap(),
        "10.0.0.5",
        "tcp.port == 6667",
    );
    // The peer's connection arrives at the NAT address and leaves for the
    // client's own address and port, from the address the client talks
    // to (nf_nat_follow_master: source = the master's original
    // destination, the IRC server).
    let rows = tshark_fields(
        &out,
        "tcp.port == 5000",
        &["ip.src", "tcp.srcport", "ip.dst", "tcp.dstport"],
    );
    assert!(!rows.is_empty());
    for r in &rows {
        assert!(
            r[..] == ["198.51.100.30", "51000", "10.0.0.5", "5000"]
                || r[..] == ["203.0.113.1", "5000", "198.51.100.40", "51000"],
            "{r:?}"
        );
    }
}

#[test]
fn snat_write_v6() {
    if !tshark() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("v6.pcapng");
    replay_write(
        "irc-dcc-v6.pcapng",
        &["--snat", "2001:db8:1::/64=2001:db8:ffff::1"],
        &out,
    );
    assert_eq!(count(&out, BAD_CHECKSUM), 0);
    // The offer was split over two segments: the first keeps its length,
    // the second carries the rest of the NAT address.
    let segs = tshark_fields(&out, "tcp.dstport == 6667 && tcp.len > 0", &["tcp.payload"]);
    let text: String = segs
        .iter()
        .map(|s| String::from_utf8(hex(&s[0])).unwrap())
        .collect();
    assert!(
        text.contains("\u{1}DCC SEND notes.txt 2001:db8:ffff::1 5002 1234\u{1}\r\n"),
        "{text:?}"
    );
    assert!(!text.contains("2001:db8:1::5"), "{text:?}");
    assert!(
        text.contains("DCC SEND old.txt 167772165 5003 10"),
        "{text:?}"
    );
    let input = support::fixtures_dir().join("irc-dcc-v6.pcapng");
    check_stream(
        out.to_str().unwrap(),
        "2001:db8:ffff::1",
        input.to_str().unwrap(),
        "2001:db8:1::5",
        "tcp.port == 6667",
    );
}

fn hex(s: &str) -> Vec<u8> {
    let s: String = s.chars().filter(|c| c.is_ascii_hexdigit()).collect();
    (0..s.len() / 2)
        .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap())
        .collect()
}

/// Issue 16 item 4, its example exactly: a complete DCC line and the start
/// of the next in one segment, the rest of that line in the next. Both
/// offers are expected (5555 and 5556), nothing is reported `partial`, and
/// the two segments go out as one message; alone in its segment the same
/// split line is held and joined too. Under SNAT both offers name the NAT
/// address.
#[test]
fn unfinished_tail_after_a_complete_line() {
    use support::{Capture, Link, Tcp};
    let seg1: &[u8] =
        b"PRIVMSG bob :\x01DCC SEND a 167772161 5555 12\x01\r\nPRIVMSG bob :\x01DCC SE";
    let seg2: &[u8] = b"ND b 167772161 5556 12\x01\r\n";
    let dir = tempfile::tempdir().unwrap();
    for (name, first) in [("tail", seg1), ("alone", &seg1[45..])] {
        assert!(first.starts_with(b"PRIVMSG bob :\x01DCC SE"));
        let mut cap = Capture::new(Link::Raw);
        let mut c = Tcp::new(("10.0.0.1", 40000), ("198.51.100.30", 6667), 1, 1);
        c.handshake(&mut cap);
        c.c2s_noack(&mut cap, first);
        c.c2s(&mut cap, seg2);
        let p = dir.path().join(format!("{name}.pcap"));
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
            assert_eq!(recs.len(), 1, "{name} {nat:?}: {out}");
            let r = &recs[0];
            assert_eq!(r["segments"], serde_json::json!([4, 5]), "{name}: {r}");
            let ports: Vec<u64> = r["expectations"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["dport"].as_u64().unwrap())
                .collect();
            let want: &[u64] = if name == "tail" {
                &[5555, 5556]
            } else {
                &[5556]
            };
            assert_eq!(ports, want, "{name} {nat:?}: {r}");
            assert!(!out.contains("\"partial\""), "{name}: {out}");
            if !nat.is_empty() {
                // Both offers rewritten: 203.0.113.1 = 3405803777.
                let after: Vec<&str> = r["edits"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|e| e["after"].as_str().unwrap())
                    .collect();
                let want: &[&str] = if name == "tail" {
                    &["3405803777 5555", "3405803777 5556"]
                } else {
                    &["3405803777 5556"]
                };
                assert_eq!(after, want, "{name}: {r}");
            }
        }
    }
}

/// `max_dcc_channels` is the limit behind an eviction: the event names it.
#[test]
fn eviction_names_max_dcc_channels() {
    use support::{Capture, Link, Tcp};
    let mut cap = Capture::new(Link::Raw);
    let mut c = Tcp::new(("10.0.0.1", 40000), ("198.51.100.30", 6667), 1, 1);
    c.handshake(&mut cap);
    for port in [5000, 5001, 5002] {
        let l = format!("PRIVMSG bob :\x01DCC SEND f 167772161 {port} 1\x01\r\n");
        c.c2s(&mut cap, l.as_bytes());
    }
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("three.pcap");
    std::fs::write(&p, cap.pcap()).unwrap();
    let cfg = dir.path().join("c.toml");
    std::fs::write(&cfg, "[helper.irc]\nmax_dcc_channels = 2\n").unwrap();
    let (ok, out, err) = support::replay(&[
        p.to_str().unwrap(),
        "--config",
        cfg.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert!(ok, "{err}");
    let evicted: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .flat_map(|r| r["events"].as_array().cloned().unwrap_or_default())
        .filter(|e| e["reason"] == "expect_evicted")
        .collect();
    assert_eq!(evicted.len(), 1, "{out}");
    assert_eq!(evicted[0]["param"], "max_dcc_channels", "{out}");
    assert!(evicted[0]["detail"]
        .as_str()
        .unwrap()
        .contains("over max_expected 2 of class irc"));
}
