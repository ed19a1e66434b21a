//! The FTP fixtures in fixtures/ are what tests/support generates, and
//! replaying them gives the reviewed golden outputs (`REGENERATE=1`
//! rewrites both). The other protocols: replay_sip, replay_tftp,
//! replay_irc, replay_amanda.

mod support;

use support::{fixtures, fixtures_dir, replay, GOLDENS};

#[test]
fn fixtures_are_current() {
    support::check_fixtures(&fixtures());
}

#[test]
fn every_fixture_has_goldens() {
    support::check_every_fixture_has_goldens(&fixtures(), GOLDENS);
}

#[test]
fn goldens() {
    support::check_goldens(GOLDENS);
}

/// The text format says the same as the JSON one.
#[test]
fn text_output() {
    let cap = fixtures_dir().join("ftp-active-v4.pcap");
    let (ok, out, _) = replay(&[cap.to_str().unwrap(), "--snat", "10.0.0.0/24=203.0.113.1"]);
    assert!(ok);
    let (_, json, _) = replay(&[
        cap.to_str().unwrap(),
        "--snat",
        "10.0.0.0/24=203.0.113.1",
        "--format",
        "json",
    ]);
    let recs: Vec<serde_json::Value> = json
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(!recs.is_empty());
    for r in &recs {
        let head = format!("#{} ", r["packet"]);
        assert!(out.contains(&head), "text lacks {head}: {out}");
        for e in r["edits"].as_array().into_iter().flatten() {
            let line = format!(
                "{:?} → {:?}",
                e["before"].as_str().unwrap(),
                e["after"].as_str().unwrap()
            );
            assert!(out.contains(&line), "text lacks {line}: {out}");
        }
    }
}

/// `--helper ftp:2121` runs the helper on another port; without it the
/// same session on 2121 is not helped.
#[test]
fn helper_on_extra_port() {
    use support::{Capture, Link, Tcp};
    let mut cap = Capture::new(Link::Raw);
    let mut c = Tcp::new(("10.0.0.5", 40000), ("198.51.100.1", 2121), 1, 1);
    c.handshake(&mut cap);
    c.c2s(&mut cap, b"PORT 10,0,0,5,19,137\r\n");
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("a.pcap");
    std::fs::write(&p, cap.pcap()).unwrap();
    let p = p.to_str().unwrap();
    let (ok, out, _) = replay(&[p, "--format", "json"]);
    assert!(ok);
    assert_eq!(out, "");
    let (ok, out, _) = replay(&[p, "--format", "json", "--helper", "ftp:2121"]);
    assert!(ok);
    let v: serde_json::Value = serde_json::from_str(out.lines().next().unwrap()).unwrap();
    assert_eq!(v["helper"], "ftp");
    assert_eq!(v["expectations"][0]["dport"], 5001);
    // A config file moving ftp to 2121 does the same.
    let cfg = dir.path().join("c.toml");
    std::fs::write(&cfg, "[helper.ftp]\nports = [2121]\n").unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_cthelperd"))
        .args([
            "--config",
            cfg.to_str().unwrap(),
            "replay",
            p,
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("\"dport\":5001"));
}

/// A line-based helper keeps the unfinished tail after a complete line
/// (issue 16 item 4): a complete PORT and the start of the next in one
/// segment, the rest in the next. Both are expected (the second evicts the
/// first: max_expected 1), nothing is `partial`, and the two segments are
/// one message.
#[test]
fn unfinished_tail_after_a_complete_line() {
    use support::{Capture, Link, Tcp};
    let mut cap = Capture::new(Link::Raw);
    let mut c = Tcp::new(("10.0.0.5", 40000), ("198.51.100.1", 21), 1, 1);
    c.handshake(&mut cap);
    c.c2s_noack(&mut cap, b"PORT 10,0,0,5,19,137\r\nPORT 10,0,0,");
    c.c2s(&mut cap, b"5,19,138\r\n");
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("tail.pcap");
    std::fs::write(&p, cap.pcap()).unwrap();
    let p = p.to_str().unwrap();
    for nat in [&[][..], &["--snat", "10.0.0.0/24=203.0.113.1"][..]] {
        let mut a = vec![p, "--format", "json"];
        a.extend_from_slice(nat);
        let (ok, out, err) = replay(&a);
        assert!(ok, "{err}");
        let recs: Vec<serde_json::Value> = out
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(recs.len(), 1, "{out}");
        let r = &recs[0];
        assert_eq!(r["segments"], serde_json::json!([4, 5]), "{r}");
        let ports: Vec<u64> = r["expectations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["dport"].as_u64().unwrap())
            .collect();
        assert_eq!(ports, [5001, 5002], "{r}");
        let reasons: Vec<&str> = r["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["reason"].as_str().unwrap())
            .collect();
        assert_eq!(reasons, ["expect_evicted"], "{r}");
        if !nat.is_empty() {
            let after: Vec<&str> = r["edits"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["after"].as_str().unwrap())
                .collect();
            assert_eq!(after, ["203,0,113,1,19,137", "203,0,113,1,19,138"], "{r}");
        }
    }
}
