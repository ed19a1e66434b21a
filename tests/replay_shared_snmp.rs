//! Issue 13's acceptance test: `cthelperd replay --dnat …` of a real SNMP
//! walk not in the repository rewrites every IpAddress that equals the
//! agent's address and no other, with valid UDP checksums in the `--write`
//! output.
//!
//! The walk: ../shared/pcaps/sip/SIP_CALL_RTP_G711 (Wireshark's sample
//! capture) carries ~250 SNMP v2c GetRequests of 200.57.7.194:1161 to the
//! agent 200.57.7.197:161 and its responses, some of which hold the agent's
//! own address (and 200.57.7.199, another host) in IpAddress values; a
//! second manager, 200.57.7.205, polls 10.52.10.15. Replayed as if the
//! agent were behind `--dnat 203.0.113.197:161=200.57.7.197:161`: every
//! response leaves from 203.0.113.197, each IpAddress 200.57.7.197 in it
//! is 203.0.113.197, every other byte of every SNMP payload is as it was,
//! and tshark verifies every UDP checksum of the written SNMP datagrams.
//! tshark decodes both files independently of our decoder.

mod support;

use std::path::{Path, PathBuf};
use support::{replay, tshark, tshark_fields, BAD_CHECKSUM};

const AGENT: &str = "200.57.7.197";
const PUBLIC: &str = "203.0.113.197";

fn shared() -> Option<PathBuf> {
    let d = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/pcaps");
    if d.is_dir() {
        Some(d)
    } else {
        eprintln!("skipped: ../shared/pcaps absent");
        None
    }
}

struct Snmp {
    frame: String,
    src: String,
    dst: String,
    values: Vec<String>,
    payload: Vec<u8>,
    checksum: String,
}

fn snmp(file: &Path) -> Vec<Snmp> {
    tshark_fields(
        file,
        "udp.port == 161",
        &[
            "frame.number",
            "ip.src",
            "ip.dst",
            "snmp.value.ipv4",
            "udp.payload",
            "udp.checksum.status",
        ],
    )
    .into_iter()
    .map(|r| Snmp {
        frame: r[0].clone(),
        src: r[1].clone(),
        dst: r[2].clone(),
        values: r[3]
            .split('|')
            .filter(|v| !v.is_empty())
            .map(str::to_string)
            .collect(),
        payload: (0..r[4].len() / 2)
            .map(|i| u8::from_str_radix(&r[4][2 * i..2 * i + 2], 16).unwrap())
            .collect(),
        checksum: r[5].clone(),
    })
    .collect()
}

fn octets(a: &str) -> [u8; 4] {
    a.parse::<std::net::Ipv4Addr>().unwrap().octets()
}

#[test]
fn dnat_walk_of_a_real_agent() {
    let Some(dir) = shared() else { return };
    if !tshark() {
        return;
    }
    let cap = dir.join("sip/SIP_CALL_RTP_G711");
    if !cap.is_file() {
        eprintln!("skipped: {} absent", cap.display());
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out.pcapng");
    let dnat = format!("{PUBLIC}:161={AGENT}:161");
    let (ok, _, err) = replay(&[
        cap.to_str().unwrap(),
        "--dnat",
        &dnat,
        "--write",
        out.to_str().unwrap(),
    ]);
    assert!(ok, "replay: {err}");
    assert!(err.contains("0 dropped"), "{err}");

    let (before, after) = (snmp(&cap), snmp(&out));
    assert_eq!(before.len(), after.len(), "every SNMP datagram written");
    assert!(before.len() > 400, "{} SNMP datagrams", before.len());
    assert!(tshark_fields(&out, BAD_CHECKSUM, &["frame.number"]).is_empty());

    let (agent, public) = (octets(AGENT), octets(PUBLIC));
    let mut rewritten = 0;
    let mut others = 0;
    for (b, a) in before.iter().zip(&after) {
        let at = format!("frame {}", b.frame);
        assert_eq!(a.checksum, "1", "{at}: UDP checksum verified good");
        assert_eq!(a.payload.len(), b.payload.len(), "{at}");
        // The headers as the router sends them: the agent's answers from
        // the public address, the requests to the agent itself.
        if b.src == AGENT {
            assert_eq!(a.src, PUBLIC, "{at}");
        } else {
            assert_eq!((&a.src, &a.dst), (&b.src, &b.dst), "{at}");
        }
        // Every IpAddress equal to the agent's is the public one; every
        // other stays.
        let want: Vec<&str> = b
            .values
            .iter()
            .map(|v| if v == AGENT { PUBLIC } else { v.as_str() })
            .collect();
        assert_eq!(a.values, want, "{at}");
        rewritten += b.values.iter().filter(|v| *v == AGENT).count();
        others += b.values.iter().filter(|v| *v != AGENT).count();
        // And nothing else: every changed byte lies in an IpAddress
        // (tag 0x40, length 4) that held the agent's address and now holds
        // the public one.
        let mut windows = 0;
        let mut i = 0;
        while i < b.payload.len() {
            if b.payload[i] != a.payload[i] {
                let start = (i.saturating_sub(5)..=i)
                    .find(|&s| {
                        b.payload.get(s..s + 6) == Some(&[&[0x40, 4][..], &agent].concat()[..])
                            && s + 2 <= i
                    })
                    .unwrap_or_else(|| panic!("{at}: byte {i} changed outside an IpAddress"));
                assert_eq!(a.payload[start + 2..start + 6], public, "{at}");
                windows += 1;
                i = start + 6;
            } else {
                i += 1;
            }
        }
        assert_eq!(
            windows,
            b.values.iter().filter(|v| *v == AGENT).count(),
            "{at}"
        );
    }
    assert!(rewritten >= 2, "the agent's own address occurs in the walk");
    assert!(others >= 2, "other IpAddress values occur and stay");
    eprintln!(
        "{} SNMP datagrams: {rewritten} IpAddress value(s) {AGENT} → {PUBLIC}, {others} other(s) kept",
        before.len()
    );
}
