//! Issue 12's acceptance test: `cthelperd replay` of real PPTP captures not
//! in the repository shows the GRE expectations of their call in both
//! directions, `"proto":"gre"`, keyed (`dport`; `sport` wildcarded) by the
//! call IDs the capture's Outgoing-Call-Request/-Reply carry.
//!
//! tshark reads the call IDs independently of our decoder: the PNS's call
//! ID from the OCRQ, the PAC's from the OCRP (whose peer call ID must be
//! the PNS's). GRE from the PNS to the PAC carries the PAC's call ID as its
//! key and the other way round, so the expectation towards the PAC has
//! `dport` = the PAC's call ID and the one towards the PNS the PNS's.
//! Where the capture holds GRE packets, tshark's `gre.key.call_id` of each
//! direction must equal that direction's expected key and the replay must
//! show each such GRE flow as related (expected by the OCRP).
//!
//! ../shared/pcaps/pptp/pptp.pcap: both call IDs are 0 in the capture
//! (tshark agrees, and its one GRE packet, PNS → PAC, carries key 0), so
//! `"dport":0` in both directions is right. pptp__nDPI.pcap: PNS call ID 0,
//! PAC call ID 11755, no GRE packets. gre-pptp.pcap has no control channel
//! (two GRE-in-IPv6-in-IPv4 frames), nothing to expect.

mod support;

use serde_json::Value;
use std::path::{Path, PathBuf};
use support::{replay, tshark, tshark_fields};

fn shared() -> Option<PathBuf> {
    let d = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/pcaps");
    if d.is_dir() {
        Some(d)
    } else {
        eprintln!("skipped: ../shared/pcaps absent");
        None
    }
}

/// (frame, src, dst, call ID, peer call ID) of each control message of
/// `kind` (7 = OCRQ, 8 = OCRP).
fn control(cap: &Path, kind: u8) -> Vec<(u64, String, String, u16, Option<u16>)> {
    tshark_fields(
        cap,
        &format!("pptp.control_message_type == {kind}"),
        &[
            "frame.number",
            "ip.src",
            "ip.dst",
            "pptp.call_id",
            "pptp.peer_call_id",
        ],
    )
    .into_iter()
    .map(|r| {
        (
            r[0].parse().unwrap(),
            r[1].clone(),
            r[2].clone(),
            r[3].parse().unwrap(),
            r.get(4)
                .filter(|s| !s.is_empty())
                .map(|s| s.parse().unwrap()),
        )
    })
    .collect()
}

fn check(cap: &Path) -> (u16, u16) {
    let name = cap.display().to_string();
    let ocrq = control(cap, 7);
    let ocrp = control(cap, 8);
    assert_eq!(ocrq.len(), 1, "{name}: one OCRQ");
    assert_eq!(ocrp.len(), 1, "{name}: one OCRP");
    let (_, pns, pac, pns_id, _) = ocrq[0].clone();
    let (ocrp_frame, ocrp_src, ocrp_dst, pac_id, peer) = ocrp[0].clone();
    assert_eq!(
        (&ocrp_src, &ocrp_dst),
        (&pac, &pns),
        "{name}: OCRP PAC → PNS"
    );
    assert_eq!(
        peer,
        Some(pns_id),
        "{name}: OCRP's peer call ID is the PNS's"
    );

    let (ok, out, err) = replay(&[cap.to_str().unwrap(), "--format", "json"]);
    assert!(ok, "{name}: replay: {err}");
    assert!(err.contains("0 dropped"), "{name}: {err}");
    let records: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();

    let mut gre: Vec<(u64, Value)> = Vec::new();
    for r in records.iter().filter(|r| r["type"] == "helper") {
        assert_eq!(r["helper"], "pptp", "{name}: {r}");
        for e in r["expectations"].as_array().unwrap() {
            gre.push((r["packet"].as_u64().unwrap(), e.clone()));
        }
    }
    assert_eq!(gre.len(), 2, "{name}: two expectations: {gre:?}");
    let want = [
        (pns.as_str(), pac.as_str(), pac_id),
        (pac.as_str(), pns.as_str(), pns_id),
    ];
    for (src, dst, key) in want {
        let hit = gre.iter().find(|(_, e)| e["src"] == src && e["dst"] == dst);
        let (packet, e) = hit.unwrap_or_else(|| panic!("{name}: no expectation {src} → {dst}"));
        assert_eq!(*packet, ocrp_frame, "{name}: expected by the OCRP");
        assert_eq!(e["proto"], "gre", "{name}: {e}");
        assert_eq!(
            e["sport"],
            Value::Null,
            "{name}: source key wildcarded: {e}"
        );
        assert_eq!(
            e["dport"],
            u64::from(key),
            "{name}: key of {src} → {dst}: {e}"
        );
        assert_eq!(e["class_name"], "pptp", "{name}: {e}");
    }

    // The capture's own GRE packets carry those keys, and the replay
    // admits each of their flows as related to the control connection.
    for (src, dst, key) in want {
        let keys = tshark_fields(
            cap,
            &format!("gre && ip.src == {src} && ip.dst == {dst}"),
            &["gre.key.call_id"],
        );
        for k in &keys {
            assert_eq!(k[0], key.to_string(), "{name}: GRE {src} → {dst} key");
        }
        if !keys.is_empty() {
            let related = records.iter().any(|r| {
                r["type"] == "related"
                    && r["expected_by"] == ocrp_frame
                    && r["expectation"]["src"] == src
                    && r["expectation"]["dst"] == dst
            });
            assert!(related, "{name}: GRE {src} → {dst} related: {out}");
        }
    }
    eprintln!("{name}: PNS {pns} call ID {pns_id}, PAC {pac} call ID {pac_id}");
    (pns_id, pac_id)
}

#[test]
fn gre_expectations_of_real_calls() {
    let Some(dir) = shared() else { return };
    if !tshark() {
        return;
    }
    let mut seen = 0;
    for f in ["pptp/pptp.pcap", "pptp/pptp__nDPI.pcap"] {
        let cap = dir.join(f);
        if !cap.is_file() {
            eprintln!("skipped: {} absent", cap.display());
            continue;
        }
        check(&cap);
        seen += 1;
    }
    assert!(seen > 0, "no PPTP capture in {}", dir.display());
}
