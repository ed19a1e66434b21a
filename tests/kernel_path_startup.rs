//! `cthelperd run` on a kernel without nfnetlink_cthelper (the dev/CI
//! kernel): exit non-zero with exactly one line that names what is missing
//! and what to do. Runs only where that is the case (known from
//! /proc/config.gz) and as root (otherwise the kernel would answer EPERM).

use std::process::Command;

const LINE: &str = "cthelperd: kernel lacks nfnetlink_cthelper (CONFIG_NF_CT_NETLINK_HELPER): modprobe nfnetlink_cthelper or use a kernel built with it";

/// Some(reason) when this kernel is not the case under test.
fn skip_reason() -> Option<String> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return Some("not root".into());
    }
    if std::path::Path::new("/sys/module/nfnetlink_cthelper").exists() {
        return Some("nfnetlink_cthelper is loaded".into());
    }
    let out = Command::new("sh")
        .args(["-c", "zcat /proc/config.gz"])
        .output()
        .ok()?;
    if !out.status.success() || out.stdout.is_empty() {
        return Some("no /proc/config.gz to tell what the kernel has".into());
    }
    let cfg = String::from_utf8_lossy(&out.stdout);
    if cfg
        .lines()
        .any(|l| l == "CONFIG_NF_CT_NETLINK_HELPER=y" || l == "CONFIG_NF_CT_NETLINK_HELPER=m")
    {
        return Some("the kernel has CONFIG_NF_CT_NETLINK_HELPER".into());
    }
    None
}

#[test]
fn run_without_cthelper_says_one_line() {
    if let Some(why) = skip_reason() {
        eprintln!("skipped: {why}");
        return;
    }
    let out = Command::new(env!("CARGO_BIN_EXE_cthelperd"))
        .arg("run")
        .env_remove("RUST_LOG")
        .env_remove("NOTIFY_SOCKET")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "stderr: {stderr}");
    assert_eq!(stderr.lines().collect::<Vec<_>>(), vec![LINE]);
    assert!(out.stdout.is_empty());
}
