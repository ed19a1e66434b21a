//! Amanda replay: the fixture is what tests/support/amanda.rs generates,
//! replaying it gives the reviewed goldens, and behind the two DNATs the
//! second client's CONNECT line leaves with the ports its (clashing)
//! expectations got, and the server's connections to them reach the
//! client at the ports it advertised.

mod support;

use support::{amanda, replay_json, replay_write, tshark, tshark_fields, BAD_CHECKSUM};

#[test]
fn fixtures_are_current() {
    support::check_fixtures(&amanda::fixtures());
}

#[test]
fn every_fixture_has_goldens() {
    support::check_every_fixture_has_goldens(&amanda::fixtures(), amanda::GOLDENS);
}

#[test]
fn goldens() {
    support::check_goldens(amanda::GOLDENS);
}

#[test]
fn dnat_write() {
    if !tshark() {
        return;
    }
    let fixture = "amanda-two-clients.pcap";
    let recs = replay_json(fixture, amanda::DNAT);
    // The ports each client's expectations got, in DATA MESG INDEX order.
    let ports = |client: &str| -> Vec<u64> {
        recs.iter()
            .filter(|r| r["type"] == "helper" && r["reply"].as_str().unwrap().contains(client))
            .flat_map(|r| r["expectations"].as_array().unwrap().clone())
            .map(|e| e["dport"].as_u64().unwrap())
            .collect()
    };
    let (p1, p2) = (ports("10.0.1.5:10080"), ports("10.0.1.6:10080"));
    assert_eq!(p1, [50010, 50011, 50012], "no clash for the first client");
    assert_eq!(p2.len(), 3);
    assert!(p2.iter().all(|p| !p1.contains(p)), "{p2:?}");
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.pcapng");
    replay_write(fixture, amanda::DNAT, &out);
    assert!(tshark_fields(&out, BAD_CHECKSUM, &["frame.number"]).is_empty());
    let connect = format!("CONNECT DATA {} MESG {} INDEX {}\n", p2[0], p2[1], p2[2]);
    // Both answers leave for the server from the public address, each
    // from its forwarded port.
    let reps = tshark_fields(
        &out,
        "frame contains \"CONNECT\"",
        &["ip.src", "udp.srcport", "udp.payload"],
    );
    assert_eq!(reps.len(), 2);
    assert_eq!(reps[0][..2], ["203.0.113.1", "10080"]);
    assert_eq!(reps[1][..2], ["203.0.113.1", "10081"]);
    let text = |h: &str| String::from_utf8(hex(h)).unwrap();
    assert!(text(&reps[0][2]).contains("CONNECT DATA 50010 MESG 50011 INDEX 50012\n"));
    assert!(
        text(&reps[1][2]).contains(&connect),
        "{}",
        text(&reps[1][2])
    );
    // The server's connections leave the router for each client's own
    // address at the ports it advertised.
    let syns = tshark_fields(
        &out,
        "tcp.flags.syn == 1 && tcp.flags.ack == 0",
        &["ip.dst", "tcp.dstport"],
    );
    let want: Vec<Vec<String>> = ["10.0.1.5", "10.0.1.6"]
        .iter()
        .flat_map(|c| [50010, 50011, 50012].map(|p| vec![c.to_string(), p.to_string()]))
        .collect();
    assert_eq!(syns, want);
}

fn hex(s: &str) -> Vec<u8> {
    let s: String = s.chars().filter(|c| c.is_ascii_hexdigit()).collect();
    (0..s.len() / 2)
        .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap())
        .collect()
}

/// The default policy is the kernel's `amanda_exp_policy` of kernels that
/// know STATE streams (max_expected 4, timeout 180 — Debian's 6.1 module;
/// older kernels, without STATE, had 3): a reply with all four streams gets
/// four expectations and evicts none.
#[test]
fn four_streams_fit_the_default_policy() {
    use support::{Capture, Link};
    let info = &helpers::amanda::INFO;
    assert_eq!(info.policies, &[("amanda", 4, 180)]);
    let mut cap = Capture::new(Link::Raw);
    let (s, c) = (("198.51.100.50", 850), ("10.0.1.5", 10080));
    cap.udp(
        s,
        c,
        b"Amanda 2.6 REQ HANDLE 000-00000000 SEQ 1\nSERVICE sendbackup\n",
    );
    cap.udp(
        c,
        s,
        b"Amanda 2.6 REP HANDLE 000-00000000 SEQ 1\nCONNECT DATA 50010 MESG 50011 INDEX 50012 STATE 50013\n",
    );
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("four.pcap");
    std::fs::write(&p, cap.pcap()).unwrap();
    let (ok, out, err) = support::replay(&[p.to_str().unwrap(), "--format", "json"]);
    assert!(ok, "{err}");
    let recs: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(recs.len(), 1, "{out}");
    let ports: Vec<u64> = recs[0]["expectations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["dport"].as_u64().unwrap())
        .collect();
    assert_eq!(ports, [50010, 50011, 50012, 50013]);
    assert!(!out.contains("expect_evicted"), "{out}");
}
