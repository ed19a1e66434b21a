//! H.323 replay: the fixtures are what tests/support/h323.rs generates,
//! replaying them gives the reviewed goldens, and behind the SNAT every
//! address the caller's side sends (H.225.0 and H.245, fastStart and
//! tunnelled) leaves as the NAT address with good checksums, while the
//! RTP the callee sends to the rewritten addresses reaches the caller at
//! the ports it announced.

mod support;

use support::{h323, replay_json, replay_write, tshark, tshark_fields, BAD_CHECKSUM};

#[test]
fn fixtures_are_current() {
    support::check_fixtures(&h323::fixtures());
}

#[test]
fn every_fixture_has_goldens() {
    support::check_every_fixture_has_goldens(&h323::fixtures(), h323::GOLDENS);
}

#[test]
fn goldens() {
    support::check_goldens(h323::GOLDENS);
}

/// What the helpers did, per frame: (frame, helper, expectations' "proto
/// dst:dport", number of edits).
fn helped(recs: &[serde_json::Value]) -> Vec<(u64, String, Vec<String>, usize)> {
    recs.iter()
        .filter(|r| r["type"] == "helper")
        .map(|r| {
            let exps = r["expectations"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|e| {
                    format!(
                        "{} {}:{}",
                        e["proto"].as_str().unwrap(),
                        e["dst"].as_str().unwrap(),
                        e["dport"]
                    )
                })
                .collect();
            (
                r["packet"].as_u64().unwrap(),
                r["helper"].as_str().unwrap().to_string(),
                exps,
                r["edits"].as_array().map_or(0, Vec::len),
            )
        })
        .collect()
}

#[test]
fn related_flows_get_their_helpers() {
    // The H.245 connection gets the H.245 helper from the Connect's
    // expectation; the gatekeeper's call and the admitted call get Q.931
    // from the RAS expectations.
    let recs = replay_json("h323-direct-v4.pcap", &[]);
    let h = helped(&recs);
    assert!(
        h.iter()
            .any(|(_, name, e, _)| name == "H.245" && e.iter().any(|x| x == "udp 10.1.0.2:5000")),
        "{h:?}"
    );
    assert!(
        h.iter()
            .any(|(_, name, e, _)| name == "H.245" && e.iter().any(|x| x == "tcp 10.1.0.2:1503")),
        "{h:?}"
    );
    let related = recs.iter().filter(|r| r["type"] == "related").count();
    assert_eq!(related, 3, "H.245, RTP (both ways: one flow), T.120");
    let recs = replay_json("h323-gk-v4.pcap", &[]);
    let related: Vec<&serde_json::Value> = recs.iter().filter(|r| r["type"] == "related").collect();
    assert_eq!(related.len(), 2 + 2, "{related:?}");
    let h = helped(&recs);
    // The Connect of the gatekeeper-routed call was handled by Q.931 on
    // the connection the RRQ's expectation let in.
    assert!(
        h.iter()
            .any(|(_, name, e, _)| name == "Q.931" && e.iter().any(|x| x == "udp 10.1.0.2:5030")),
        "{h:?}"
    );
}

#[test]
fn held_tpkt_is_joined() {
    // The tunnel fixture's ReleaseComplete comes in two segments: handled
    // once, as one message, under NAT with its tunnelled OLC rewritten.
    let recs = replay_json("h323-tunnel-v4.pcap", &["--snat", h323::SNAT]);
    let joined: Vec<&serde_json::Value> = recs
        .iter()
        .filter(|r| r["type"] == "helper" && r["segments"].as_array().is_some_and(|s| s.len() == 2))
        .collect();
    assert_eq!(joined.len(), 1, "{recs:?}");
    assert_eq!(
        joined[0]["edits"].as_array().unwrap().len(),
        1,
        "{:?}",
        joined[0]
    );
}

#[test]
fn snat_write() {
    if !tshark() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    for fixture in [
        "h323-faststart-v4.pcap",
        "h323-direct-v4.pcap",
        "h323-tunnel-v4.pcap",
        "h323-gk-v4.pcap",
    ] {
        let out = dir.path().join(format!("{fixture}.out.pcapng"));
        replay_write(fixture, &["--snat", h323::SNAT], &out);
        assert!(
            tshark_fields(&out, BAD_CHECKSUM, &["frame.number"]).is_empty(),
            "{fixture}"
        );
        // Every address in what the caller's side sent (it leaves as
        // 203.0.113.1) is the NAT address or a third party's, never its own.
        let rows = tshark_fields(
            &out,
            "(h225 or h245) and ip.src == 203.0.113.1",
            &["frame.number", "h225.h245Ip", "h245.ip4_network"],
        );
        assert!(!rows.is_empty(), "{fixture}");
        for r in &rows {
            let all = r[1].split([',', '|']).chain(r[2].split([',', '|']));
            for a in all.filter(|a| !a.is_empty()) {
                assert!(
                    a == "203.0.113.1" || a == "198.51.100.9",
                    "{fixture} frame {}: {a}",
                    r[0]
                );
            }
        }
        // The RTP towards the caller's side reaches it at its own address.
        let rtp = tshark_fields(
            &out,
            "udp and ip.src == 192.0.2.7",
            &["ip.dst", "udp.dstport"],
        );
        assert!(!rtp.is_empty(), "{fixture}");
        for r in &rtp {
            assert_eq!(r[0], "10.1.0.2", "{fixture}: {r:?}");
        }
    }
}
