//! The systemd unit and contrib/install.sh: the unit loads the ruleset of
//! the configuration it runs (never a shipped file), follows nftables
//! reloads, names things that are installed, and says the truth about the
//! defaults. The VM scenario `ops-unit-v4-masq` runs the unit's commands on
//! a real kernel; these are the checks that need none.

use cthelperd::config::Config;
use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn unit() -> String {
    std::fs::read_to_string(root().join("contrib/cthelperd.service")).unwrap()
}

/// The values of `key=` lines, in order.
fn values(unit: &str, key: &str) -> Vec<String> {
    let p = format!("{key}=");
    unit.lines()
        .filter_map(|l| l.strip_prefix(&p))
        .map(str::to_string)
        .collect()
}

/// The `--config …` part of a command line (how it picks the configuration).
fn config_part(cmd: &str) -> &str {
    let a = cmd.find("/usr/sbin/cthelperd").expect("runs cthelperd") + "/usr/sbin/cthelperd".len();
    let rest = &cmd[a..];
    let b = rest.rfind(") ").map(|i| i + 1).unwrap_or(0);
    &rest[..b]
}

#[test]
fn the_unit_loads_the_ruleset_of_its_configuration() {
    let u = unit();
    let pre = values(&u, "ExecStartPre");
    let start = values(&u, "ExecStart");
    assert_eq!(start.len(), 1, "{start:?}");
    let start = &start[0];
    assert!(
        start.ends_with(" run --ruleset /run/cthelperd/cthelperd.nft'"),
        "{start}"
    );
    // One ExecStartPre writes `cthelperd … nft` to a file of the unit's
    // runtime directory, for the same configuration as ExecStart.
    let gen: Vec<&String> = pre.iter().filter(|l| l.contains(" nft >")).collect();
    assert_eq!(gen.len(), 1, "{pre:?}");
    let gen = gen[0];
    assert_eq!(config_part(gen), config_part(start), "{gen}\n{start}");
    assert!(
        config_part(start).contains("/etc/cthelperd.toml"),
        "{start}"
    );
    let file = gen
        .split(" nft >")
        .nth(1)
        .unwrap()
        .trim_end_matches('\'')
        .trim();
    let rtd = values(&u, "RuntimeDirectory");
    assert_eq!(rtd.len(), 1);
    assert!(file.starts_with(&format!("/run/{}/", rtd[0])), "{file}");
    // ExecStartPost loads that file, ExecReload reloads the daemon's
    // configuration (a failure does not stop the ruleset load) and then
    // loads it, and the daemon keeps that same file.
    let load = format!("/usr/sbin/nft -f {file}");
    assert_eq!(values(&u, "ExecStartPost"), [load.as_str()]);
    assert_eq!(
        values(&u, "ExecReload"),
        ["-/usr/sbin/cthelperd reload".to_string(), load]
    );
    assert!(start.contains(&format!("--ruleset {file}")), "{start}");
    assert!(!u.contains("/usr/share/cthelperd"), "a shipped ruleset");
    // nftables reloads and restarts reach it, after nftables.
    assert_eq!(values(&u, "ReloadPropagatedFrom"), ["nftables.service"]);
    assert_eq!(values(&u, "PartOf"), ["nftables.service"]);
    assert!(values(&u, "After")[0].contains("nftables.service"));
    // The include the header documents names the runtime directory.
    let inc = format!("include \"/run/{}/*.nft\"", rtd[0]);
    assert!(u.contains(&inc), "no {inc} in the header");
}

/// The header says which helper gets which queue as the defaults do.
#[test]
fn the_unit_header_agrees_with_the_defaults() {
    let u = unit();
    let header: String = u
        .lines()
        .take_while(|l| l.starts_with('#'))
        .collect::<Vec<_>>()
        .join(" ");
    let cfg = Config::default();
    let mut named = 0;
    for h in &cfg.helpers {
        let pair = format!("{} {}", h.info.name, h.queue);
        if header.contains(&pair) {
            named += 1;
        }
        // Never a wrong queue for a helper it names with one.
        for q in 0..16u16 {
            if q != h.queue {
                assert!(
                    !header.contains(&format!(" {} {q},", h.info.name))
                        && !header.contains(&format!(" {} {q})", h.info.name)),
                    "{} {q} in the header, its default queue is {}",
                    h.info.name,
                    h.queue
                );
            }
        }
    }
    assert!(
        named >= 2,
        "the header names no helper with its queue: {header}"
    );
    assert!(header.contains("cthelperd helpers"), "{header}");
}

#[test]
fn install_puts_what_the_unit_names_in_place() {
    let dest = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        let o = Command::new("sh")
            .arg(root().join("contrib/install.sh"))
            .args(args)
            .env("DESTDIR", dest.path())
            .env("CTHELPERD_BIN", env!("CARGO_BIN_EXE_cthelperd"))
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    };
    run(&[]);
    let at = |p: &str| dest.path().join(p.trim_start_matches('/'));
    let u = unit();
    let docs: Vec<String> = values(&u, "Documentation")
        .iter()
        .flat_map(|v| v.split(' ').map(str::to_string).collect::<Vec<_>>())
        .collect();
    assert!(!docs.is_empty());
    for d in &docs {
        let path = d
            .strip_prefix("file://")
            .unwrap_or_else(|| panic!("{d}: not a file (nothing else is installed)"));
        assert!(at(path).is_file(), "Documentation={d} is not installed");
    }
    // Every program of ours the unit runs is installed and runs.
    let bin = at("/usr/sbin/cthelperd");
    let o = Command::new(&bin).arg("--version").output().unwrap();
    assert!(o.status.success());
    let installed_unit = std::fs::read_dir(at("/etc/systemd/system"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect::<Vec<_>>();
    assert_eq!(installed_unit.len(), 1);
    assert_eq!(std::fs::read_to_string(&installed_unit[0]).unwrap(), u);
    // Uninstall leaves nothing of it.
    run(&["--uninstall"]);
    assert!(!bin.exists());
    assert!(!installed_unit[0].exists());
    for d in &docs {
        assert!(!at(d.strip_prefix("file://").unwrap()).exists());
    }
    assert!(!Path::new(&at("/usr/share/doc/cthelperd")).exists());
}
