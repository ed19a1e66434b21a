//! Replays the third-party H.323 captures in ../shared/pcaps/h323
//! (`h323.pcap`: Setup → Connect with h245Address, H.245 OLCs, RAS
//! registrations and admissions; `rtp_example.raw`: a call with its RTP)
//! and checks what the helpers expected against what tshark decodes:
//!
//! * every H.245 media address (OpenLogicalChannel, its Ack, fastStart
//!   elements in H.225.0) at the sender's own address with a port ≠ 0 gave
//!   an RTP (even port) and an RTCP (odd port) expectation from the peer, in
//!   that frame;
//! * every h245Address at the sender gave a TCP expectation with the H.245
//!   helper; every RRQ's first call signal address at the sender a
//!   PERMANENT TCP expectation with the Q.931 helper;
//! * every UDP flow of the capture to a port one of those expectations
//!   named (the RTP and RTCP the call really sent) was let in by it (a
//!   `related` record).

mod support;

use std::collections::BTreeSet;
use std::path::PathBuf;
use support::{replay, tshark, tshark_fields};

fn shared() -> Option<PathBuf> {
    let d = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/pcaps/h323");
    if d.is_dir() {
        Some(d)
    } else {
        eprintln!("skipped: ../shared/pcaps absent");
        None
    }
}

/// (frame, proto, dst, dport, helper) of every expectation replay made.
type Made = BTreeSet<(u64, String, String, u64, String)>;

fn made(recs: &[serde_json::Value]) -> Made {
    let mut out = Made::new();
    for r in recs.iter().filter(|r| r["type"] == "helper") {
        for e in r["expectations"].as_array().into_iter().flatten() {
            out.insert((
                r["packet"].as_u64().unwrap(),
                e["proto"].as_str().unwrap().to_string(),
                e["dst"].as_str().unwrap().to_string(),
                e["dport"].as_u64().unwrap(),
                e["helper"].as_str().unwrap_or("").to_string(),
            ));
        }
    }
    out
}

/// Pairs the n-th address with the n-th port of a tshark row.
fn pairs(ips: &str, ports: &str) -> Vec<(String, u64)> {
    let ips: Vec<&str> = ips.split('|').filter(|s| !s.is_empty()).collect();
    let ports: Vec<u64> = ports.split('|').filter_map(|s| s.parse().ok()).collect();
    assert_eq!(ips.len(), ports.len(), "{ips:?} {ports:?}");
    ips.iter().map(|a| a.to_string()).zip(ports).collect()
}

#[test]
fn shared_h323_captures() {
    let Some(dir) = shared() else { return };
    if !tshark() {
        return;
    }
    for name in ["h323.pcap", "rtp_example.raw"] {
        let path = dir.join(name);
        let (ok, json, err) = replay(&[path.to_str().unwrap(), "--format", "json"]);
        assert!(ok, "replay {name}: {err}");
        let recs: Vec<serde_json::Value> = json
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        let made = made(&recs);
        let has = |frame: u64, proto: &str, dst: &str, port: u64, helper: &str| {
            made.contains(&(frame, proto.into(), dst.into(), port, helper.into()))
        };
        let mut media_ports = BTreeSet::new();
        let mut checked = 0;
        // H.245 media addresses, in H.245 messages and in fastStart.
        for r in tshark_fields(
            &path,
            "h245.ip4_network",
            &[
                "frame.number",
                "ip.src",
                "h245.ip4_network",
                "h245.tsapIdentifier",
            ],
        ) {
            let frame: u64 = r[0].parse().unwrap();
            for (ip, port) in pairs(&r[2], &r[3]) {
                if ip != r[1] || port == 0 {
                    continue;
                }
                for p in [port & !1, port | 1] {
                    assert!(
                        has(frame, "udp", &ip, p, ""),
                        "{name} frame {frame}: no RTP/RTCP expectation {ip}:{p}: {made:?}"
                    );
                    media_ports.insert((ip.clone(), p));
                }
                checked += 1;
            }
        }
        // h245Address (Q.931: tshark's h225.h245Ip).
        for r in tshark_fields(
            &path,
            "h225.h245Ip",
            &["frame.number", "ip.src", "h225.h245Ip", "h225.h245IpPort"],
        ) {
            let frame: u64 = r[0].parse().unwrap();
            for (ip, port) in pairs(&r[2], &r[3])
                .iter()
                .filter(|(ip, p)| *ip == r[1] && *p != 0)
            {
                assert!(
                    has(frame, "tcp", ip, *port, "H.245"),
                    "{name} frame {frame}: no H.245 expectation {ip}:{port}: {made:?}"
                );
                checked += 1;
            }
        }
        // RRQ (RasMessage 3): its first call signal address at the sender
        // (the list comes first in the message; tshark's h225.ipV4).
        for r in tshark_fields(
            &path,
            "h225.RasMessage == 3",
            &["frame.number", "ip.src", "h225.ipV4", "h225.ipV4_port"],
        ) {
            let frame: u64 = r[0].parse().unwrap();
            if let Some((ip, port)) = pairs(&r[2], &r[3])
                .iter()
                .find(|(ip, p)| *ip == r[1] && *p != 0)
            {
                assert!(
                    has(frame, "tcp", ip, *port, "Q.931"),
                    "{name} frame {frame}: no Q.931 expectation {ip}:{port}: {made:?}"
                );
                checked += 1;
            }
        }
        assert!(checked > 0, "{name}: nothing tshark decoded was checked");
        // The media the capture carries to an expected port was let in.
        let related: BTreeSet<String> = recs
            .iter()
            .filter(|r| r["type"] == "related")
            .map(|r| r["flow"].as_str().unwrap().to_string())
            .collect();
        let mut flows = BTreeSet::new();
        for r in tshark_fields(
            &path,
            "udp && !h225",
            &["ip.src", "udp.srcport", "ip.dst", "udp.dstport"],
        ) {
            let dport: u64 = r[3].parse().unwrap();
            if media_ports.contains(&(r[2].clone(), dport)) {
                flows.insert(format!("udp {}:{} -> {}:{}", r[0], r[1], r[2], r[3]));
            }
        }
        for f in &flows {
            let rev = {
                let (a, b) = f["udp ".len()..].split_once(" -> ").unwrap();
                format!("udp {b} -> {a}")
            };
            assert!(
                related.contains(f) || related.contains(&rev),
                "{name}: the media flow {f} was not let in by an expectation: {related:?}"
            );
        }
        eprintln!(
            "{name}: {checked} addresses checked, {} media flows let in",
            flows.len()
        );
    }
}
