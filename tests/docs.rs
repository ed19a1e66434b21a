//! The documents agree with the code and with each other: one metrics port
//! everywhere, no path outside the repository, and the README's example
//! firewall is a ruleset nft accepts (with the unit's documented include).

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every tracked text file an operator or developer reads.
fn documents() -> Vec<PathBuf> {
    let out = Command::new("git")
        .args([
            "ls-files",
            "*.md",
            "docs/*",
            "contrib/*",
            "nft/*",
            "tests/vm/*.md",
        ])
        .current_dir(root())
        .output()
        .unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| root().join(l))
        .filter(|p| p.is_file())
        .collect()
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_default()
}

/// The metrics examples (`metrics = "HOST:PORT"`, `…:PORT/metrics`) use one
/// port, the one the configuration's documentation uses.
#[test]
fn one_metrics_port() {
    let port = cthelperd::config::METRICS_PORT.to_string();
    let mut seen = 0;
    let mut files: Vec<PathBuf> = documents();
    files.push(root().join("src/config.rs"));
    for f in files {
        let text = read(&f);
        for (i, line) in text.lines().enumerate() {
            for marker in ["metrics = \"", "metrics = \\\"", "/metrics"] {
                let Some(at) = line.find(marker) else {
                    continue;
                };
                // The HOST:PORT next to the marker.
                let near = if marker == "/metrics" {
                    &line[..at]
                } else {
                    &line[at + marker.len()..]
                };
                let addr = if marker == "/metrics" {
                    near.rsplit(['/', ' ', '`']).next().unwrap_or("")
                } else {
                    near.split(['"', '\\']).next().unwrap_or("")
                };
                let Some((_, p)) = addr.rsplit_once(':') else {
                    continue;
                };
                if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
                    continue;
                }
                seen += 1;
                assert_eq!(
                    p,
                    port,
                    "{}:{}: metrics on port {p}, the documented port is {port}: {line}",
                    f.display(),
                    i + 1
                );
            }
        }
    }
    assert!(seen >= 3, "only {seen} metrics examples found");
}

/// Nothing points at a path of the machine the project was written on.
#[test]
fn no_path_outside_the_repository() {
    for f in documents() {
        for (i, line) in read(&f).lines().enumerate() {
            assert!(
                !line.contains("/work/"),
                "{}:{}: a path outside the repository: {line}",
                f.display(),
                i + 1
            );
        }
    }
}

/// nft's check of a ruleset file; None when it cannot run here (no nft,
/// or not root) — an error under tests/run, which installs nftables and
/// runs as root.
fn nft_check(file: &Path) -> Option<(bool, String)> {
    let required = std::env::var_os("CTHELPERD_REQUIRE_TOOLS").is_some();
    let o = match Command::new("nft").arg("-c").arg("-f").arg(file).output() {
        Ok(o) => o,
        Err(e) => {
            assert!(!required, "nft (nftables) is not installed: {e}");
            return None;
        }
    };
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    if !o.status.success()
        && (err.contains("Operation not permitted") || err.contains("Permission denied"))
    {
        assert!(
            !required,
            "nft -c is not permitted here (tests/run runs as root): {err}"
        );
        return None;
    }
    Some((o.status.success(), err))
}

/// The README's example firewall (its ```nft block), which ends with the
/// include the unit documents: nft accepts it while cthelperd is not
/// running (the pattern matches nothing) and with cthelperd's ruleset in
/// place; it accepts related connections in the forward chain.
#[test]
fn readme_firewall_is_a_ruleset() {
    let readme = read(&root().join("README.md"));
    let start = readme
        .find("```nft\n")
        .expect("an ```nft block in README.md")
        + 7;
    let len = readme[start..].find("```").unwrap();
    let ruleset = &readme[start..start + len];
    assert!(
        ruleset.starts_with("#!/usr/sbin/nft -f\nflush ruleset\n"),
        "{ruleset}"
    );
    let forward = &ruleset[ruleset.find("chain forward").unwrap()..];
    assert!(
        forward.contains("policy drop;\n\t\tct state established,related accept"),
        "{forward}"
    );
    let unit = read(&root().join("contrib/cthelperd.service"));
    let inc = "include \"/run/cthelperd/*.nft\"";
    assert!(
        ruleset.contains(inc) && unit.contains(inc),
        "the include differs from the unit's"
    );
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    std::fs::create_dir(&run).unwrap();
    let mine = ruleset.replace("/run/cthelperd/", &format!("{}/", run.display()));
    let f = dir.path().join("nftables.conf");
    std::fs::write(&f, &mine).unwrap();
    let Some((ok, err)) = nft_check(&f) else {
        eprintln!("skipped: nft absent or not permitted to check a ruleset here");
        return;
    };
    assert!(
        ok,
        "nft -c of README's ruleset (cthelperd not running): {err}"
    );
    // With cthelperd's ruleset of some configuration in place.
    let o = Command::new(env!("CARGO_BIN_EXE_cthelperd"))
        .arg("nft")
        .output()
        .unwrap();
    std::fs::write(run.join("cthelperd.nft"), &o.stdout).unwrap();
    let (ok, err) = nft_check(&f).unwrap();
    assert!(ok, "nft -c of README's ruleset with cthelperd's: {err}");
    // A plain path instead of the pattern would fail while cthelperd is
    // not running: why the pattern.
    std::fs::remove_file(run.join("cthelperd.nft")).unwrap();
    let plain = mine.replace("*.nft", "cthelperd.nft");
    std::fs::write(&f, plain).unwrap();
    let (ok, _) = nft_check(&f).unwrap();
    assert!(!ok, "nft accepts an include of a missing file");
}
