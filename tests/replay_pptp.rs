//! PPTP replay: the fixture is what tests/support/pptp.rs generates,
//! replaying it gives the reviewed goldens; the call's two GRE expectations
//! are keyed by the call IDs (`dport`, `sport` wildcarded, as conntrack's
//! dstkey/srckey), and under SNAT the PNS call ID leaves as the outside one
//! in the OCRQ and CCRQ and comes back as the inside one in the OCRP.

mod support;

use support::{pptp, replay_json};

#[test]
fn fixtures_are_current() {
    support::check_fixtures(&pptp::fixtures());
}

#[test]
fn every_fixture_has_goldens() {
    support::check_every_fixture_has_goldens(&pptp::fixtures(), pptp::GOLDENS);
}

#[test]
fn goldens() {
    support::check_goldens(pptp::GOLDENS);
}

/// Every GRE expectation of a replay: (src, dst, dport) with `sport` absent.
fn gre_expectations(recs: &[serde_json::Value]) -> Vec<(String, String, u64)> {
    let mut v = Vec::new();
    for r in recs {
        for e in r["expectations"].as_array().into_iter().flatten() {
            if e["proto"] != "gre" {
                continue;
            }
            assert!(e["sport"].is_null(), "GRE src key must be wildcarded: {e}");
            v.push((
                e["src"].as_str().unwrap_or("").to_string(),
                e["dst"].as_str().unwrap_or("").to_string(),
                e["dport"].as_u64().unwrap(),
            ));
        }
    }
    v
}

#[test]
fn expectations_keyed_by_call_ids() {
    let recs = replay_json("pptp-call-v4.pcap", &[]);
    let e = gre_expectations(&recs);
    // PNS -> PAC keyed by the PAC's call ID, PAC -> PNS by the PNS's.
    assert!(
        e.iter()
            .any(|(s, d, k)| s == "10.0.0.5" && d == "198.51.100.30" && *k == 0x4002),
        "{e:?}"
    );
    assert!(
        e.iter()
            .any(|(s, d, k)| s == "198.51.100.30" && d == "10.0.0.5" && *k == 0x1234),
        "{e:?}"
    );
}

/// Behind the SNAT: the OCRQ and the CCRQ leave with the outside PNS call
/// ID 40000 (0x9c40, the masqueraded TCP port, as nf_nat_pptp), the OCRP
/// reaches the PNS with its own 0x1234, the PAC's GRE to the outside ID is
/// related and NATed back to the PNS's key; the CDN (the PAC's own call ID)
/// is not touched.
#[test]
fn snat_rewrites_the_pns_call_id() {
    let recs = replay_json("pptp-snat-v4.pcap", &["--snat", "10.0.0.0/24=203.0.113.1"]);
    let edits: Vec<(u64, String, String)> = recs
        .iter()
        .flat_map(|r| {
            r["edits"].as_array().into_iter().flatten().map(move |e| {
                (
                    r["packet"].as_u64().unwrap(),
                    e["before_hex"].as_str().unwrap().to_string(),
                    e["after_hex"].as_str().unwrap().to_string(),
                )
            })
        })
        .collect();
    let want = |p: u64, b: &str, a: &str| (p, b.to_string(), a.to_string());
    assert_eq!(
        edits,
        vec![
            want(8, "1234", "9c40"),
            want(10, "9c40", "1234"),
            want(20, "1234", "9c40")
        ]
    );
    let e = gre_expectations(&recs);
    assert!(
        e.iter()
            .any(|(s, d, k)| s == "198.51.100.30" && d == "203.0.113.1" && *k == 40000),
        "{e:?}"
    );
    let back = recs
        .iter()
        .find(|r| r["type"] == "related" && r["packet"] == 13)
        .expect("the PAC's GRE is related");
    assert_eq!(back["flow"], "gre 198.51.100.30:0 -> 203.0.113.1:40000");
}
