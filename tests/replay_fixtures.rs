//! The fixtures in fixtures/ are what tests/support generates, and
//! replaying them gives the reviewed golden outputs (`REGENERATE=1`
//! rewrites both).

mod support;

use support::{fixtures, fixtures_dir, regenerate, replay, GOLDENS};

#[test]
fn fixtures_are_current() {
    let dir = fixtures_dir();
    for f in fixtures() {
        let path = dir.join(f.name);
        if regenerate() {
            std::fs::write(&path, &f.bytes).unwrap();
            continue;
        }
        let have = std::fs::read(&path)
            .unwrap_or_else(|e| panic!("{}: {e} (REGENERATE=1 writes it)", path.display()));
        assert!(
            have == f.bytes,
            "{} differs from what tests/support generates (REGENERATE=1 rewrites it)",
            f.name
        );
    }
}

#[test]
fn every_fixture_has_goldens() {
    for f in fixtures() {
        assert!(
            GOLDENS.iter().any(|g| g.fixture == f.name),
            "{} has no golden replay",
            f.name
        );
    }
}

#[test]
fn goldens() {
    let dir = fixtures_dir();
    let mut failed = Vec::new();
    for g in GOLDENS {
        let cap = dir.join(g.fixture);
        let cap = cap.to_str().unwrap();
        let mut args = vec![cap, "--format", "json"];
        args.extend_from_slice(g.args);
        let (ok, out, err) = replay(&args);
        assert!(ok, "replay {args:?} failed: {err}");
        assert!(err.contains("replay: "), "no summary line: {err}");
        for line in out.lines() {
            let v: serde_json::Value = serde_json::from_str(line).expect("JSON Lines");
            assert!(v["packet"].as_u64().is_some_and(|n| n >= 1), "{line}");
        }
        let path = dir.join(g.golden);
        if regenerate() {
            std::fs::write(&path, &out).unwrap();
            continue;
        }
        let want = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("{}: {e} (REGENERATE=1 writes it)", path.display()));
        if want != out {
            eprintln!("--- {} (want)\n{want}--- got\n{out}", g.golden);
            failed.push(g.golden);
        }
    }
    assert!(failed.is_empty(), "golden outputs differ: {failed:?}");
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
