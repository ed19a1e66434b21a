//! The real captures in ../shared/pcaps/snmp (and the SNMP exchange in
//! sip/SIP_CALL_RTP_G711), read through tshark: how many messages decode,
//! the IpAddress values found (compared with tshark's own decode), why the
//! others fail, where the kernel would drop; and every decoded message
//! translated and decoded again. Run with `--nocapture` for the report.

use super::msg::{decode, Place};
use super::translate;
use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::Command;

fn shared() -> Option<PathBuf> {
    let d = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/pcaps");
    if d.is_dir() {
        Some(d)
    } else {
        eprintln!("skipped: ../shared/pcaps absent");
        None
    }
}

fn tshark() -> bool {
    let ok = Command::new("tshark")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        // CI, and tests/run (which installs tshark): an error, not a skip.
        assert!(
            std::env::var_os("CI").is_none()
                && std::env::var_os("CTHELPERD_REQUIRE_TOOLS").is_none(),
            "tshark is missing (tests/run unit installs it: apt-get install -y tshark)"
        );
        eprintln!("skipped: tshark absent");
    }
    ok
}

struct Frame {
    number: String,
    payload: Vec<u8>,
    /// tshark's agent-addr and varbind IpAddress values.
    agent: Vec<Ipv4Addr>,
    values: Vec<Ipv4Addr>,
    malformed: bool,
}

fn frames(file: &Path) -> Vec<Frame> {
    let out = Command::new("tshark")
        .args(["-n", "-r"])
        .arg(file)
        .args(["-Y", "udp.port == 161 || udp.port == 162", "-T", "fields"])
        .args([
            "-E",
            "separator=/t",
            "-E",
            "occurrence=a",
            "-E",
            "aggregator=,",
        ])
        .args(["-e", "frame.number", "-e", "udp.payload"])
        .args([
            "-e",
            "snmp.agent_addr",
            "-e",
            "snmp.value.ipv4",
            "-e",
            "_ws.malformed",
        ])
        .output()
        .expect("run tshark");
    assert!(
        out.status.success(),
        "tshark on {}: {}",
        file.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let addrs = |s: &str| -> Vec<Ipv4Addr> {
        s.split(',')
            .filter(|a| !a.is_empty())
            .map(|a| a.parse().unwrap())
            .collect()
    };
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            let hex = f.get(1).copied().unwrap_or("");
            Frame {
                number: f[0].to_string(),
                payload: (0..hex.len())
                    .step_by(2)
                    .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
                    .collect(),
                agent: addrs(f.get(2).copied().unwrap_or("")),
                values: addrs(f.get(3).copied().unwrap_or("")),
                malformed: f.get(4).is_some_and(|s| !s.is_empty()),
            }
        })
        .collect()
}

#[test]
fn shared_snmp_captures() {
    let Some(dir) = shared() else { return };
    if !tshark() {
        return;
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir.join("snmp"))
        .map(|r| r.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    files.retain(|p| !p.extension().is_some_and(|e| e == "md" || e == "py"));
    files.sort();
    let sip = dir.join("sip/SIP_CALL_RTP_G711");
    if sip.is_file() {
        files.push(sip);
    }
    assert!(!files.is_empty(), "no captures in ../shared/pcaps/snmp");

    let mut total_ok = 0usize;
    let mut total_ips = 0usize;
    for f in &files {
        let name = f.file_name().unwrap().to_string_lossy().into_owned();
        let frames = frames(f);
        let (mut ok, mut ips, mut agents, mut compared) = (0, 0, 0, 0);
        let mut versions: BTreeMap<String, usize> = BTreeMap::new();
        let mut kernel: BTreeMap<String, usize> = BTreeMap::new();
        let mut failures: Vec<String> = Vec::new();
        for fr in &frames {
            let m = match decode(&fr.payload) {
                Ok(m) => m,
                Err(e) => {
                    failures.push(format!(
                        "frame {}: {e}{}",
                        fr.number,
                        if fr.malformed {
                            " (tshark: malformed too)"
                        } else {
                            ""
                        }
                    ));
                    continue;
                }
            };
            ok += 1;
            *versions.entry(m.version.to_string()).or_default() += 1;
            if let Some(k) = m.kernel_reject {
                *kernel.entry(k.to_string()).or_default() += 1;
            }
            let found = m.addresses();
            ips += found.len();
            let agent: Vec<Ipv4Addr> = found
                .iter()
                .filter(|a| a.place == Place::AgentAddr)
                .map(|a| a.addr)
                .collect();
            agents += agent.len();
            let values: Vec<Ipv4Addr> = found
                .iter()
                .filter(|a| a.place != Place::AgentAddr)
                .map(|a| a.addr)
                .collect();
            if !fr.malformed {
                compared += 1;
                assert_eq!(agent, fr.agent, "{name} frame {}: agent-addr", fr.number);
                assert_eq!(
                    values, fr.values,
                    "{name} frame {}: IpAddress values",
                    fr.number
                );
            }
            // Translate the first address to a documentation address and
            // decode again: the same message with that address moved.
            if let Some(first) = found.first() {
                let to = Ipv4Addr::new(192, 0, 2, 99);
                let t = translate(&fr.payload, first.addr, to).unwrap();
                let n = found.iter().filter(|a| a.addr == first.addr).count();
                assert_eq!(t.edits.len(), n);
                let edits: Vec<_> = t.edits.iter().map(|e| e.edit()).collect();
                let out = crate::edit::apply(&fr.payload, &edits).unwrap();
                let again = decode(&out).unwrap();
                let moved: Vec<_> = again.addresses().iter().map(|a| a.addr).collect();
                let want: Vec<_> = found
                    .iter()
                    .map(|a| if a.addr == first.addr { to } else { a.addr })
                    .collect();
                assert_eq!(moved, want, "{name} frame {}", fr.number);
            }
        }
        eprintln!(
            "{name}: {} SNMP datagram(s), {ok} decode {versions:?}, {ips} IpAddress value(s) \
             ({agents} agent-addr), {compared} compared with tshark; kernel would drop {kernel:?}; \
             {} fail",
            frames.len(),
            failures.len()
        );
        for fl in &failures {
            eprintln!("    {fl}");
        }
        total_ok += ok;
        total_ips += ips;
    }
    assert!(total_ok > 0, "no SNMP message decoded");
    assert!(total_ips > 0, "no IpAddress found");
}
