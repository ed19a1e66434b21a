//! SNMP replay: the fixtures are what tests/support/snmp.rs generates,
//! replaying them gives the reviewed goldens; behind the DNAT every
//! IpAddress of the agent leaves as its public address (and nothing
//! else changes), behind the SNAT the traps and the inform carry the public
//! address (the v1 agent-addr too), v3 and the cut message pass unchanged,
//! and with `--broadcast` the two agents' answers are related flows.

mod support;

use std::path::Path;
use support::{replay_json, replay_write, snmp, tshark, tshark_fields, BAD_CHECKSUM};

#[test]
fn fixtures_are_current() {
    support::check_fixtures(&snmp::fixtures());
}

#[test]
fn every_fixture_has_goldens() {
    support::check_every_fixture_has_goldens(&snmp::fixtures(), snmp::GOLDENS);
}

#[test]
fn goldens() {
    support::check_goldens(snmp::GOLDENS);
}

fn fixture(name: &str) -> std::path::PathBuf {
    support::fixtures_dir().join(name)
}

/// Per SNMP frame: source, the varbind names, the IpAddress values, the
/// agent-addr, the UDP payload.
fn snmp_rows(file: &Path) -> Vec<Vec<String>> {
    tshark_fields(
        file,
        "snmp || udp.port == 162",
        &[
            "ip.src",
            "snmp.name",
            "snmp.value.ipv4",
            "snmp.agent_addr",
            "udp.payload",
        ],
    )
}

#[test]
fn dnat_walk_rewrites_the_agent_address_only() {
    if !tshark() {
        return;
    }
    let name = "snmp-walk-dnat.pcap";
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.pcapng");
    replay_write(name, snmp::DNAT, &out);
    assert!(tshark_fields(&out, BAD_CHECKSUM, &["frame.number"]).is_empty());
    let (before, after) = (snmp_rows(&fixture(name)), snmp_rows(&out));
    assert_eq!(before.len(), after.len());
    let mut rewritten = 0;
    for (b, a) in before.iter().zip(&after) {
        // The names (OID instances carry 10.0.1.2) stay as they were.
        assert_eq!(b[1], a[1]);
        let want: Vec<&str> = b[2]
            .split('|')
            .map(|v| if v == "10.0.1.2" { "203.0.113.1" } else { v })
            .collect();
        assert_eq!(a[2].split('|').collect::<Vec<_>>(), want, "{b:?} → {a:?}");
        rewritten += b[2].split('|').filter(|v| *v == "10.0.1.2").count();
        // The answers leave from the public address.
        if b[0] == "10.0.1.2" {
            assert_eq!(a[0], "203.0.113.1");
        }
        assert_eq!(a[4].len(), b[4].len());
    }
    assert_eq!(rewritten, 1, "ipAdEntAddr.10.0.1.2 = 10.0.1.2");
    // Without DNAT nothing changes.
    let plain = dir.path().join("plain.pcapng");
    replay_write(name, &[], &plain);
    assert_eq!(snmp_rows(&plain), before);
}

#[test]
fn snat_traps() {
    if !tshark() {
        return;
    }
    let name = "snmp-traps-snat.pcap";
    let recs = replay_json(name, snmp::SNAT);
    let reasons: Vec<&str> = recs
        .iter()
        .flat_map(|r| r["events"].as_array().unwrap().iter())
        .map(|e| e["reason"].as_str().unwrap())
        .collect();
    assert_eq!(reasons, ["snmpv3", "malformed"]);
    assert!(recs.iter().all(|r| r["drop"] == false));
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.pcapng");
    replay_write(name, snmp::SNAT, &out);
    assert!(tshark_fields(&out, BAD_CHECKSUM, &["frame.number"]).is_empty());
    let (before, after) = (snmp_rows(&fixture(name)), snmp_rows(&out));
    assert_eq!(before.len(), 6);
    // v1 trap: agent-addr and the varbind.
    assert_eq!(after[0][3], "203.0.113.1");
    assert_eq!(after[0][2], "203.0.113.1");
    // v2c trap: the agent's address, not the other host's.
    assert_eq!(after[1][2], "203.0.113.1|10.0.1.99");
    // Inform, and the manager's response (already public) unchanged.
    assert_eq!(after[2][2], "203.0.113.1|203.0.113.1");
    assert_eq!(after[3][4], before[3][4]);
    // v3 and the cut message: the same bytes.
    assert_eq!(after[4][4], before[4][4]);
    assert_eq!(after[5][4], before[5][4]);
    for r in &after {
        assert_ne!(
            r[0], "10.0.1.2",
            "every datagram of the agent leaves SNATed"
        );
    }
}

#[test]
fn broadcast_answers_are_related() {
    let name = "snmp-broadcast.pcapng";
    let recs = replay_json(name, snmp::BROADCAST);
    let exps: Vec<&serde_json::Value> = recs
        .iter()
        .filter(|r| r["type"] == "helper")
        .flat_map(|r| r["expectations"].as_array().unwrap())
        .collect();
    assert_eq!(exps.len(), 1);
    let e = exps[0];
    assert_eq!(e["src"], "10.0.3.255/24");
    assert_eq!(
        (e["sport"].as_u64(), e["dport"].as_u64()),
        (Some(161), Some(40300))
    );
    assert_eq!(e["dst"], "10.0.3.1");
    assert_eq!(e["flags"], 1, "PERMANENT");
    let related: Vec<&str> = recs
        .iter()
        .filter(|r| r["type"] == "related")
        .map(|r| r["flow"].as_str().unwrap())
        .collect();
    assert_eq!(
        related,
        [
            "udp 10.0.3.2:161 -> 10.0.3.1:40300",
            "udp 10.0.3.3:161 -> 10.0.3.1:40300"
        ]
    );
    // Without --broadcast the capture knows no subnet: no expectation.
    let plain = replay_json(name, &[]);
    assert!(plain.iter().all(|r| r["type"] != "related"));
    assert!(plain
        .iter()
        .all(|r| r["expectations"].as_array().is_none_or(|e| e.is_empty())));
}
