//! `--write`: the packets as they leave the router have correct checksums
//! (tshark verifies), carry the NAT address in the PORT text and in the
//! headers, and keep the TCP byte streams consistent after the size change
//! (sequence/ack adjustment).

mod support;

use support::{check_stream, fixtures_dir, replay, tshark};

fn tshark_fields(file: &str, filter: &str, fields: &[&str]) -> Vec<Vec<String>> {
    let mut args = vec![
        "-n",
        "-r",
        file,
        "-o",
        "tcp.relative_sequence_numbers:FALSE",
        "-Y",
        filter,
        "-T",
        "fields",
    ];
    for f in fields {
        args.push("-e");
        args.push(f);
    }
    let out = std::process::Command::new("tshark")
        .args(&args)
        .output()
        .expect("run tshark");
    assert!(
        out.status.success(),
        "tshark: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| l.split('\t').map(str::to_string).collect())
        .collect()
}

fn write(fixture: &str, nat: &[&str], out: &std::path::Path) {
    let cap = fixtures_dir().join(fixture);
    let mut args = vec![cap.to_str().unwrap(), "--write", out.to_str().unwrap()];
    args.extend_from_slice(nat);
    let (ok, _, err) = replay(&args);
    assert!(ok, "{err}");
}

#[test]
fn snat_write_has_good_checksums_and_nat_text() {
    if !tshark() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.pcapng");
    write(
        "ftp-snat-active.pcap",
        &["--snat", "10.0.0.0/24=203.0.113.1"],
        &out,
    );
    let o = out.to_str().unwrap();
    let bad = tshark_fields(
        o,
        "tcp.checksum.status == \"Bad\" || ip.checksum.status == \"Bad\" || udp.checksum.status == \"Bad\"",
        &["frame.number"],
    );
    // The checks must be on for the filter to mean anything.
    let out2 = std::process::Command::new("tshark")
        .args(["-n", "-o", "tcp.check_checksum:TRUE", "-o", "ip.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE", "-r", o])
        .args(["-Y", "tcp.checksum.status == \"Bad\" || ip.checksum.status == \"Bad\" || udp.checksum.status == \"Bad\""])
        .output()
        .unwrap();
    assert!(out2.status.success());
    assert_eq!(String::from_utf8_lossy(&out2.stdout), "", "bad checksums");
    assert!(bad.is_empty());
    let good = std::process::Command::new("tshark")
        .args([
            "-n",
            "-o",
            "tcp.check_checksum:TRUE",
            "-o",
            "ip.check_checksum:TRUE",
            "-r",
            o,
        ])
        .args([
            "-Y",
            "tcp.checksum.status == \"Good\" && ip.checksum.status == \"Good\"",
            "-T",
            "fields",
            "-e",
            "frame.number",
        ])
        .output()
        .unwrap();
    let all = tshark_fields(o, "frame", &["frame.number"]).len();
    assert_eq!(
        String::from_utf8_lossy(&good.stdout).lines().count(),
        all,
        "every packet verified good"
    );
    // Same number of packets as the input.
    let input = fixtures_dir().join("ftp-snat-active.pcap");
    assert_eq!(
        tshark_fields(input.to_str().unwrap(), "frame", &["frame.number"]).len(),
        all
    );
    // PORT text and headers carry the NAT address.
    let ports = tshark_fields(
        o,
        "ftp.request.command == \"PORT\"",
        &["ip.src", "ftp.request.arg"],
    );
    // Four PORT segments; tshark does not dissect the retransmitted one.
    assert_eq!(ports.len(), 3);
    assert!(tshark_fields(o, "frame contains \"PORT 10,\"", &["frame.number"]).is_empty());
    assert_eq!(
        tshark_fields(
            o,
            "frame contains \"PORT 203,0,113,1,19,\"",
            &["frame.number"]
        )
        .len(),
        4
    );
    for p in &ports {
        assert_eq!(p[0], "203.0.113.1");
        assert!(p[1].starts_with("203,0,113,1,19,"), "{p:?}");
    }
    assert!(tshark_fields(o, "ip.src == 10.0.0.8 && tcp.port == 21", &["frame.number"]).is_empty());
    // The data connections reach the real client.
    let data = tshark_fields(
        o,
        "tcp.srcport == 20 && tcp.flags.syn == 1 && tcp.flags.ack == 0",
        &["ip.dst", "tcp.dstport"],
    );
    assert_eq!(
        data,
        vec![
            vec!["10.0.0.8".to_string(), "5015".into()],
            vec!["10.0.0.8".into(), "5016".into()]
        ]
    );
    check_stream(
        o,
        "203.0.113.1",
        input.to_str().unwrap(),
        "10.0.0.8",
        "tcp.port == 21",
    );
}

#[test]
fn split_port_and_v6_write() {
    if !tshark() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("split.pcapng");
    write(
        "ftp-port-split.pcap",
        &["--snat", "10.0.0.0/24=203.0.113.1"],
        &out,
    );
    let o = out.to_str().unwrap();
    // The two segments, joined again, carry the NATed PORT; the first keeps
    // its length.
    let segs = tshark_fields(
        o,
        "tcp.dstport == 21 && tcp.len > 0 && frame.number >= 10 && frame.number <= 12",
        &["tcp.payload", "tcp.len"],
    );
    let text: String = segs
        .iter()
        .map(|s| String::from_utf8(hex(&s[0])).unwrap())
        .collect::<Vec<_>>()
        .join("");
    assert!(text.contains("PORT 203,0,113,1,19,140\r\n"), "{text:?}");
    assert_eq!(segs[0][1], "12");
    let input = fixtures_dir().join("ftp-port-split.pcap");
    check_stream(
        o,
        "203.0.113.1",
        input.to_str().unwrap(),
        "10.0.0.6",
        "tcp.port == 21",
    );
    let out = dir.path().join("v6.pcapng");
    write(
        "ftp-v6-eprt-epsv.pcapng",
        &["--snat", "2001:db8:1::/64=2001:db8:ffff::1"],
        &out,
    );
    let o = out.to_str().unwrap();
    let eprt = tshark_fields(
        o,
        "ftp.request.command == \"EPRT\"",
        &["ipv6.src", "ftp.request.arg"],
    );
    assert_eq!(
        eprt,
        vec![vec![
            "2001:db8:ffff::1".to_string(),
            "|2|2001:0db8:ffff:0000:0000:0000:0000:0001|5002|".into()
        ]]
    );
    let bad = std::process::Command::new("tshark")
        .args([
            "-n",
            "-o",
            "tcp.check_checksum:TRUE",
            "-r",
            o,
            "-Y",
            "tcp.checksum.status != \"Good\" && tcp",
        ])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&bad.stdout), "");
    let input = fixtures_dir().join("ftp-v6-eprt-epsv.pcapng");
    check_stream(
        o,
        "2001:db8:ffff::1",
        input.to_str().unwrap(),
        "2001:db8:1::5",
        "tcp.port == 21",
    );
}

fn hex(s: &str) -> Vec<u8> {
    let s: String = s.chars().filter(|c| c.is_ascii_hexdigit()).collect();
    (0..s.len() / 2)
        .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap())
        .collect()
}
