//! `cthelperd status` and `cthelperd reload` against a control server on a
//! temporary socket with a fake daemon behind it (no kernel needed), and
//! with no daemon at all.

use cthelperd::control::{self, Handler, HelperStatus, QueueStatus, Status};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

struct Fake {
    reloads: AtomicU32,
}

impl Handler for Fake {
    fn status(&self) -> Status {
        Status {
            pid: 4242,
            version: "0.1.0".into(),
            uptime_s: 3725,
            config: Some("/etc/cthelperd.toml".into()),
            config_age_s: Some(90),
            config_loaded_s: 60,
            reloads: u64::from(self.reloads.load(Ordering::SeqCst)),
            helpers: vec![HelperStatus {
                name: "ftp".into(),
                packets: 17,
                accepted: 16,
                dropped: 1,
                edits: 5,
                expectations_created: 3,
                expectations_in_verdict: 2,
                expectations_refused: 1,
                expectations_failed: 4,
                bytes_held: 77,
                parse_failures: 6,
            }],
            queues: vec![QueueStatus {
                queue: 0,
                portid: 999,
                waiting: 0,
                dropped: 8,
                user_dropped: 9,
                id_sequence: 1234,
            }],
            errors: [("no_helper".to_string(), 2)].into_iter().collect(),
        }
    }
    fn reload(&self) -> Result<String, String> {
        // The first reload is refused (as an invalid file), the next one works.
        match self.reloads.fetch_add(1, Ordering::SeqCst) {
            0 => Err("/etc/cthelperd.toml: line 3: unknown key bogus".into()),
            _ => Ok("/etc/cthelperd.toml: ftp ports 21 → 21,2121".into()),
        }
    }
}

fn cthelperd(sock: &std::path::Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_cthelperd"))
        .arg("--control")
        .arg(sock)
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn status_and_reload_over_the_socket() {
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("run/control");
    let fake = Arc::new(Fake {
        reloads: AtomicU32::new(0),
    });
    control::serve(&sock, fake.clone()).unwrap();
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&sock).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "socket mode {mode:o}");
    // A second daemon on the same socket is refused.
    assert!(control::serve(&sock, fake.clone()).is_err());

    let (code, out, err) = cthelperd(&sock, &["status"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("(pid 4242) up 62m5s"), "{out}");
    assert!(
        out.contains("configuration /etc/cthelperd.toml (modified 90s ago"),
        "{out}"
    );
    let ftp = out.lines().find(|l| l.starts_with("ftp ")).unwrap();
    let cols: Vec<&str> = ftp.split_whitespace().collect();
    assert_eq!(
        cols,
        ["ftp", "17", "16", "1", "5", "3", "2", "1", "4", "77", "6"]
    );
    let q = out.lines().find(|l| l.starts_with("0 ")).unwrap();
    assert_eq!(
        q.split_whitespace().collect::<Vec<_>>(),
        ["0", "999", "0", "8", "9", "1234"]
    );
    assert!(out.contains("no_helper 2"), "{out}");

    let (code, out, err) = cthelperd(&sock, &["status", "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    let s: Status = serde_json::from_str(&out).unwrap();
    assert_eq!(s, fake.status());

    let (code, out, err) = cthelperd(&sock, &["reload"]);
    assert_eq!(code, 1);
    assert_eq!(out, "");
    assert_eq!(
        err,
        "cthelperd: reload: /etc/cthelperd.toml: line 3: unknown key bogus; nothing changed\n"
    );
    let (code, out, _) = cthelperd(&sock, &["reload"]);
    assert_eq!(code, 0);
    assert_eq!(out, "/etc/cthelperd.toml: ftp ports 21 → 21,2121\n");
    let (_, out, _) = cthelperd(&sock, &["status", "--format", "json"]);
    let s: Status = serde_json::from_str(&out).unwrap();
    assert_eq!(s.reloads, 2);
}

#[test]
fn no_daemon_one_line_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("control");
    for args in [
        &["status"][..],
        &["status", "--format", "json"],
        &["reload"],
    ] {
        let (code, out, err) = cthelperd(&sock, args);
        assert_eq!(code, 1, "{args:?}");
        assert_eq!(out, "");
        assert_eq!(
            err,
            format!(
                "cthelperd: cthelperd is not running (no daemon at {})\n",
                sock.display()
            )
        );
    }
    // A stale socket file (a daemon that was killed) says the same.
    let l = std::os::unix::net::UnixListener::bind(&sock).unwrap();
    drop(l);
    let (code, _, err) = cthelperd(&sock, &["status"]);
    assert_eq!(code, 1);
    assert!(err.contains("is not running"), "{err}");
}
