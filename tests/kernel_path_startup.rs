//! `cthelperd run` on a kernel that lacks something it needs (the dev/CI
//! kernel lacks nfnetlink_cthelper and the NFQUEUE conntrack glue): exit 1
//! with exactly one line that names everything missing at once — and
//! nothing present — and what to do. What the kernel has is read from
//! /proc/config.gz; runs only as root (otherwise the kernel answers EPERM)
//! and where something is missing.

use std::process::Command;

/// What run needs: the name in the line and the kernel option. Not nft's
/// `queue` expression (the helper hook queues, not a rule).
const NEEDS: &[(&str, &str)] = &[
    ("nfnetlink_cthelper", "CONFIG_NF_CT_NETLINK_HELPER"),
    ("nfnetlink_queue", "CONFIG_NETFILTER_NETLINK_QUEUE"),
    (
        "the NFQUEUE conntrack glue",
        "CONFIG_NETFILTER_NETLINK_GLUE_CT",
    ),
    ("ctnetlink", "CONFIG_NF_CT_NETLINK"),
];

/// The options of NEEDS this kernel lacks, or why the test cannot tell.
fn missing() -> Result<Vec<(&'static str, &'static str)>, String> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return Err("not root".into());
    }
    let out = Command::new("sh")
        .args(["-c", "zcat /proc/config.gz"])
        .output()
        .map_err(|e| e.to_string())?;
    if !out.status.success() || out.stdout.is_empty() {
        return Err("no /proc/config.gz to tell what the kernel has".into());
    }
    let cfg = String::from_utf8_lossy(&out.stdout);
    let has = |o: &str| {
        cfg.lines()
            .any(|l| l == format!("{o}=y") || l == format!("{o}=m"))
    };
    Ok(NEEDS.iter().copied().filter(|(_, o)| !has(o)).collect())
}

#[test]
fn run_names_everything_missing_in_one_line() {
    let missing = match missing() {
        Ok(m) if m.is_empty() => {
            eprintln!("skipped: this kernel has everything cthelperd needs");
            return;
        }
        Ok(m) => m,
        Err(why) => {
            eprintln!("skipped: {why}");
            return;
        }
    };
    let out = Command::new(env!("CARGO_BIN_EXE_cthelperd"))
        .arg("run")
        .env_remove("RUST_LOG")
        .env_remove("NOTIFY_SOCKET")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "stderr: {stderr}");
    assert!(out.stdout.is_empty());
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    let line = lines[0];
    assert!(line.starts_with("cthelperd: kernel lacks "), "{line}");
    for (name, opt) in NEEDS {
        let named = line.contains(&format!("{name} ({opt})"));
        let lacks = missing.iter().any(|(_, o)| o == opt);
        assert_eq!(
            named, lacks,
            "{name} ({opt}): missing {lacks}, named {named}: {line}"
        );
    }
    assert!(line.contains(": modprobe "), "{line}");
    assert!(
        !line.contains("queue expression") && !line.contains("nft_queue"),
        "{line}"
    );
}
