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
        for line in json.lines() {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            if v["type"] == "related" {
                related += 1;
                continue;
            }
            exps += v["expectations"].as_array().map_or(0, Vec::len);
            refused += v["events"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|e| REFUSALS.iter().any(|r| e["reason"] == *r))
                .count();
        }
        eprintln!(
            "{name}: tshark {want} advertisement(s); replay {exps} expectation(s) + {refused} refusal(s); {related} related flow(s)"
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
