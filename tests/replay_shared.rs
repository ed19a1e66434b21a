//! Replays the third-party FTP captures in ../shared/pcaps/ftp and checks
//! every PORT/EPRT/227/229 that tshark decodes on port 21 became an
//! expectation or a refusal (FTP bounce, malformed or wrong-family
//! advertisement: the kernel refuses those too).

mod support;

use std::path::PathBuf;
use support::{replay, tshark};

const FILTER: &str = "tcp.port == 21 && (lower(ftp.request.command) == \"port\" \
    || lower(ftp.request.command) == \"eprt\" \
    || ftp.response.code == 227 || ftp.response.code == 229)";

/// Events that stand for a refused advertisement.
const REFUSALS: &[&str] = &["bounce", "malformed", "family"];

fn shared() -> Option<PathBuf> {
    let d = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/pcaps");
    if d.is_dir() {
        Some(d)
    } else {
        eprintln!("skipped: ../shared/pcaps absent");
        None
    }
}

#[test]
fn shared_ftp_captures() {
    let Some(dir) = shared() else { return };
    if !tshark() {
        return;
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir.join("ftp"))
        .map(|r| r.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    files.retain(|p| p.extension().is_some_and(|e| e == "pcap" || e == "pcapng"));
    files.sort();
    assert!(!files.is_empty(), "no captures in ../shared/pcaps/ftp");
    let mut bad = Vec::new();
    for f in &files {
        let name = f.file_name().unwrap().to_string_lossy().into_owned();
        let out = std::process::Command::new("tshark")
            .args(["-n", "-r"])
            .arg(f)
            .args(["-Y", FILTER, "-T", "fields", "-e", "frame.number"])
            .output()
            .expect("run tshark");
        assert!(
            out.status.success(),
            "tshark on {name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let want = String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter(|l| !l.is_empty())
            .count();
        let (ok, json, err) = replay(&[f.to_str().unwrap(), "--format", "json"]);
        assert!(ok, "replay {name}: {err}");
        let (mut exps, mut refused, mut related) = (0, 0, 0);
        let mut reasons: std::collections::BTreeMap<String, usize> = Default::default();
        for line in json.lines() {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            if v["type"] == "related" {
                related += 1;
                continue;
            }
            exps += v["expectations"].as_array().map_or(0, Vec::len);
            for e in v["events"].as_array().into_iter().flatten() {
                if REFUSALS.iter().any(|r| e["reason"] == *r) {
                    refused += 1;
                    *reasons
                        .entry(e["reason"].as_str().unwrap_or("").to_string())
                        .or_default() += 1;
                }
            }
        }
        eprintln!(
            "{name}: tshark {want} advertisement(s); replay {exps} expectation(s) + {refused} refusal(s) {reasons:?}; {related} related flow(s)"
        );
        if exps + refused != want {
            bad.push(name);
        }
    }
    assert!(
        bad.is_empty(),
        "expectation counts differ from tshark's: {bad:?}"
    );
}

fn tshark_count(file: &std::path::Path, filter: &str) -> usize {
    let out = std::process::Command::new("tshark")
        .args([
            "-n",
            "-o",
            "tcp.check_checksum:TRUE",
            "-o",
            "ip.check_checksum:TRUE",
        ])
        .args(["-o", "udp.check_checksum:TRUE", "-r"])
        .arg(file)
        .args(["-Y", filter, "-T", "fields", "-e", "frame.number"])
        .output()
        .expect("run tshark");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).lines().count()
}

/// Every shared capture replayed behind a SNAT of everything: the packets
/// written have no bad checksum the input did not have (unchanged packets
/// are copied as they are, offloaded checksums included), as many frames
/// as the input, and every PORT/EPRT the helper rewrote carries the NAT
/// address.
#[test]
fn shared_ftp_captures_behind_snat() {
    let Some(dir) = shared() else { return };
    if !tshark() {
        return;
    }
    const BAD: &str =
        "tcp.checksum.status == \"Bad\" || ip.checksum.status == \"Bad\" || udp.checksum.status == \"Bad\"";
    let tmp = tempfile::tempdir().unwrap();
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir.join("ftp"))
        .map(|r| r.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    files.retain(|p| p.extension().is_some_and(|e| e == "pcap" || e == "pcapng"));
    files.sort();
    let mut rewritten = 0;
    for f in &files {
        let name = f.file_name().unwrap().to_string_lossy().into_owned();
        let out = tmp.path().join(format!("{name}.pcapng"));
        let (ok, json, err) = replay(&[
            f.to_str().unwrap(),
            "--format",
            "json",
            "--snat",
            "0.0.0.0/0=192.0.2.1",
            "--snat",
            "::/0=2001:db8:ffff::1",
            "--write",
            out.to_str().unwrap(),
        ]);
        assert!(ok, "{name}: {err}");
        assert_eq!(
            tshark_count(&out, "frame"),
            tshark_count(f, "frame"),
            "{name}: frames"
        );
        let (bad_in, bad_out) = (tshark_count(f, BAD), tshark_count(&out, BAD));
        assert!(
            bad_out <= bad_in,
            "{name}: {bad_out} bad checksums written, {bad_in} in the input"
        );
        let mut edits = 0;
        for line in json.lines() {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            for e in v["edits"].as_array().into_iter().flatten() {
                let after = e["after"].as_str().unwrap();
                assert!(
                    after.starts_with("192,0,2,1,")
                        || after.contains("|2001:0db8:ffff:0000:0000:0000:0000:0001|")
                        || after.starts_with("|||"),
                    "{name}: {after}"
                );
                edits += 1;
            }
        }
        let natted = tshark_count(
            &out,
            "ftp.request.arg contains \"192,0,2,1,\" || ftp.request.arg contains \"2001:0db8:ffff:\"",
        );
        assert!(
            natted >= edits.min(1),
            "{name}: {edits} edits, {natted} NATed commands seen by tshark"
        );
        rewritten += edits;
        eprintln!("{name}: {edits} rewrite(s); bad checksums in/out {bad_in}/{bad_out}");
    }
    assert!(rewritten > 0, "no capture had a PORT/EPRT to rewrite");
}
