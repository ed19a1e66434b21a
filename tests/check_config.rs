//! `cthelperd check-config`: it refuses what `run` refuses (with the same
//! line), checks one file, and prints the whole effective configuration —
//! `[daemon]` included — as a file that gives the same configuration.

use std::process::Command;

fn cthelperd(args: &[&str]) -> (bool, String, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_cthelperd"))
        .args(args)
        .env_remove("RUST_LOG")
        .env_remove("NOTIFY_SOCKET")
        .output()
        .unwrap();
    (
        o.status.success(),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

#[test]
fn refuses_what_run_refuses() {
    let dir = tempfile::tempdir().unwrap();
    for (text, what) in [
        ("[daemon]\nmetrics = \"localhost\"\n", "line 2: [daemon] metrics = \"localhost\" is not HOST:PORT"),
        (
            "[helper.irc]\nmax_dcc_channels = 3\n[helper.irc.policy.irc]\nmax_expected = 5\n",
            "line 4: helper irc: [helper.irc.policy.irc] max_expected = 5 contradicts max_dcc_channels = 3 (line 2)",
        ),
        ("[helper.irc]\nports = [5060]\n", "line 2: port tcp/5060 of helper irc is given to sip already"),
        ("[helper.ftp]\nports = [0]\n", "line 2: helper ftp: a port must be between 1 and 65535"),
    ] {
        let f = dir.path().join("c.toml");
        std::fs::write(&f, text).unwrap();
        let f = f.to_str().unwrap();
        let (ok, out, err) = cthelperd(&["check-config", f]);
        assert!(!ok && out.is_empty(), "{text}: {out}");
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.contains(what), "{what:?} not in {err}");
        // `run` stops at the same line, before it touches the kernel.
        let (ok, _, run_err) = cthelperd(&["--config", f, "run"]);
        assert!(!ok);
        assert_eq!(run_err, err, "{text}");
    }
}

#[test]
fn one_file() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.toml");
    let b = dir.path().join("b.toml");
    std::fs::write(&a, "[helper.tftp]\nenabled = false\n").unwrap();
    std::fs::write(&b, "").unwrap();
    let (a, b) = (a.to_str().unwrap(), b.to_str().unwrap());
    let (ok, out, err) = cthelperd(&["--config", a, "check-config", b]);
    assert!(!ok && out.is_empty());
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains(a) && err.contains(b), "{err}");
    // Given once, either way: the same answer.
    let (ok, by_arg, err) = cthelperd(&["check-config", a]);
    assert!(ok, "{err}");
    let (ok, by_opt, _) = cthelperd(&["--config", a, "check-config"]);
    assert!(ok);
    assert_eq!(by_arg, by_opt);
    let (ok, _, err) = cthelperd(&["check-config"]);
    assert!(!ok && err.contains("needs a FILE"), "{err}");
}

#[test]
fn prints_the_whole_effective_configuration() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("c.toml");
    std::fs::write(
        &f,
        "[daemon]\nmetrics = \"127.0.0.1:9469\"\n[helper.ftp]\nports = [21, 2121]\n[helper.tftp]\nenabled = false\n",
    )
    .unwrap();
    let (ok, out, err) = cthelperd(&["check-config", f.to_str().unwrap()]);
    assert!(ok, "{err}");
    for line in [
        "[daemon]\n",
        "queue_maxlen = 1024",
        "hold_ms = 500",
        "metrics = \"127.0.0.1:9469\"",
        "[helper.ftp]",
        "ports = [21, 2121]",
        "loose = false",
        "[helper.ftp.policy.ftp]\nmax_expected = 1",
        "[helper.tftp]",
        "enabled = false",
        "[helper.irc.policy.irc]",
        "(= max_dcc_channels: one setting)",
        "[helper.amanda.policy.amanda]",
    ] {
        assert!(out.contains(line), "{line:?} not in\n{out}");
    }
    // The output is a configuration file that gives itself.
    let g = dir.path().join("effective.toml");
    std::fs::write(&g, &out).unwrap();
    let (ok, again, err) = cthelperd(&["check-config", g.to_str().unwrap()]);
    assert!(ok, "{err}");
    assert_eq!(again, out);
    // And the ruleset of both is the same.
    let (_, n1, _) = cthelperd(&["--config", f.to_str().unwrap(), "nft"]);
    let (_, n2, _) = cthelperd(&["--config", g.to_str().unwrap(), "nft"]);
    assert_eq!(n1, n2);
}
