//! The running daemon's control side: `cthelperd status` and the reload
//! (SIGHUP, `cthelperd reload`).
//!
//! A reload re-reads the configuration file. An invalid file changes
//! nothing (one line names the error). Otherwise, in this order:
//! - every registration of the new configuration is sent as CTHELPER_NEW:
//!   an existing one is updated in place (policy values, queue number),
//!   a new helper's is created;
//! - a queue no worker serves yet gets one;
//! - the workers take the new helpers (parameters, policies, hold limits)
//!   at their next loop, after letting what they hold go on;
//! - with `run --ruleset FILE`, a changed ruleset (ports, enabled helpers)
//!   is written to FILE and loaded with `nft -f FILE`;
//! - registrations the new configuration no longer has are deleted (or
//!   disabled while a ruleset still references them).
//!
//! What cannot change in place — `queue_maxlen`, `metrics` — is named and
//! takes effect at the next start. A registration the kernel refuses puts
//! the previous registrations back and changes nothing else.

use super::kernel::KernelLink;
use super::worker::{QueueSocket, Shared, Worker};
use super::{fam, metrics::Metrics, register, registrations};
use crate::config::Config;
use crate::control::{self, Handler, Status};
use crate::flow::{Limits, Slot};
use crate::netlink::cthelper::{self, Listed, Registration};
use crate::netlink::queue::QueueConfig;
use crate::netlink::NfSocket;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use tracing::{info, warn};

/// New slots for the workers, by generation.
#[derive(Default)]
pub struct Swap {
    generation: AtomicU64,
    next: Mutex<Option<(Arc<[Slot]>, Limits)>>,
}

impl Swap {
    /// Publishes new slots.
    pub fn set(&self, slots: Arc<[Slot]>, limits: Limits) {
        if let Ok(mut n) = self.next.lock() {
            *n = Some((slots, limits));
            self.generation.fetch_add(1, Ordering::Release);
        }
    }
    /// The slots of a generation newer than `seen`, if any (cheap when
    /// none: one atomic load).
    pub fn newer(&self, seen: u64) -> Option<(Arc<[Slot]>, Limits, u64)> {
        let g = self.generation.load(Ordering::Acquire);
        if g == seen {
            return None;
        }
        let n = self.next.lock().ok()?;
        n.as_ref().map(|(s, l)| (s.clone(), *l, g))
    }
}

pub type WorkerHandle = (u16, JoinHandle<std::io::Result<()>>);

/// Starts a worker's thread (a queue that cannot be read stops the
/// daemon: the kernel fails open meanwhile).
pub fn spawn(w: Worker<QueueSocket, KernelLink>) -> std::io::Result<WorkerHandle> {
    let q = w.queue();
    let h = std::thread::Builder::new()
        .name(format!("queue-{q}"))
        .spawn(move || {
            let r = w.run();
            if r.is_err() {
                // SAFETY: kill(2) on our own pid with a valid signal.
                unsafe {
                    libc::kill(libc::getpid(), libc::SIGTERM);
                }
            }
            r
        })?;
    Ok((q, h))
}

/// What a reload changes.
pub struct Live {
    pub cfg: Config,
    pub registered: Vec<Registration>,
    pub queues: Vec<u16>,
    /// Workers started by reloads (joined at the stop).
    pub handles: Vec<WorkerHandle>,
    pub loaded: Instant,
    pub reloads: u64,
}

/// The daemon's [`Handler`].
pub struct Control {
    pub live: Mutex<Live>,
    pub config_path: Option<PathBuf>,
    /// `run --ruleset FILE`: the ruleset file the daemon keeps.
    pub ruleset: Option<PathBuf>,
    pub shared: Arc<Shared>,
    pub metrics: Arc<Metrics>,
    pub start: Instant,
}

const PROC_QUEUES: &str = "/proc/net/netfilter/nfnetlink_queue";

impl Handler for Control {
    fn status(&self) -> Status {
        let (helpers, queues, loaded, reloads) = match self.live.lock() {
            Ok(l) => (
                // One row per registered instance (ftp, ftp-1 …).
                crate::flow::instance_slots(&l.cfg)
                    .iter()
                    .map(|s| s.name())
                    .collect::<Vec<_>>(),
                l.queues.clone(),
                l.loaded,
                l.reloads,
            ),
            Err(_) => (Vec::new(), Vec::new(), self.start, 0),
        };
        let (hs, errors) = control::helper_status(&self.metrics.render(), &helpers);
        let proc = std::fs::read_to_string(PROC_QUEUES).unwrap_or_default();
        Status {
            pid: std::process::id(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            uptime_s: self.start.elapsed().as_secs(),
            config: self.config_path.as_ref().map(|p| p.display().to_string()),
            config_age_s: self.config_path.as_deref().and_then(control::file_age),
            config_loaded_s: loaded.elapsed().as_secs(),
            reloads,
            helpers: hs,
            queues: control::queue_status(&proc, &queues),
            errors,
        }
    }

    fn reload(&self) -> Result<String, String> {
        let r = self.try_reload();
        match &r {
            Ok(m) => info!("reload: {m}"),
            Err(e) => warn!("reload: {e}; nothing changed"),
        }
        r
    }
}

impl Control {
    fn try_reload(&self) -> Result<String, String> {
        let Some(path) = &self.config_path else {
            return Err("started without --config: there is no file to re-read".into());
        };
        let new = Config::load(path).map_err(|e| format!("{e:#}"))?;
        let mut live = self.live.lock().map_err(|_| "state poisoned".to_string())?;
        if new == live.cfg {
            live.loaded = Instant::now();
            return Ok(format!("{} unchanged", path.display()));
        }
        let changes = describe_changes(&live.cfg, &new);
        let regs = registrations(&new);
        let mut ctl = NfSocket::open().map_err(|e| format!("netlink socket: {e}"))?;
        let _ = ctl.set_read_timeout(Some(Duration::from_secs(5)));
        let listed: Vec<Listed> = ctl
            .dump(cthelper::get_dump())
            .map_err(|e| format!("listing helpers: {e}"))?
            .iter()
            .filter_map(|m| Listed::parse(m.attrs()))
            .collect();
        // 1. Registrations: update in place or create.
        let mut created: Vec<Registration> = Vec::new();
        for r in &regs {
            // A reload re-creates a registration whose policy count changed
            // even under --shared-registration (an operator's deliberate
            // change, for every namespace at once: docs/ha.md).
            match register(&mut ctl, r, &listed, false) {
                Ok(new) => {
                    if new {
                        created.push(r.clone());
                    }
                }
                Err(e) => {
                    self.roll_back(&mut ctl, &live.registered, &created);
                    return Err(format!("{e:#}"));
                }
            }
        }
        // 2. Queues nobody serves yet.
        let mut added = Vec::new();
        {
            for q in super::helper_queues(&new) {
                if live.queues.contains(&q) || added.iter().any(|(n, _)| *n == q) {
                    continue;
                }
                let qc = QueueConfig::helper_queue(q, live.cfg.daemon.queue_maxlen);
                match Worker::bind(qc, self.shared.clone()) {
                    Ok(w) => added.push((q, w)),
                    Err(e) => {
                        self.roll_back(&mut ctl, &live.registered, &created);
                        return Err(format!("binding NFQUEUE {q}: {e}"));
                    }
                }
            }
        }
        // 3. The workers' helpers.
        self.shared.swap.set(
            Arc::from(crate::flow::instance_slots(&new)),
            Limits::from_config(&new.daemon),
        );
        for (q, w) in added {
            match spawn(w) {
                Ok(h) => {
                    live.handles.push(h);
                    live.queues.push(q);
                }
                Err(e) => warn!("starting the worker of queue {q}: {e}"),
            }
        }
        let mut notes = Vec::new();
        // 4. The ruleset.
        let (old_rs, new_rs) = (super::nft::ruleset(&live.cfg), super::nft::ruleset(&new));
        if !same_rules(&old_rs, &new_rs) {
            match &self.ruleset {
                Some(f) => match load_ruleset(f, &new_rs) {
                    Ok(()) => notes.push(format!("ruleset {} loaded", f.display())),
                    Err(e) => notes.push(format!("ruleset not loaded: {e}")),
                },
                None => notes.push(
                    "the ruleset changed: load `cthelperd nft` (run --ruleset FILE does it)".into(),
                ),
            }
        }
        // 5. Registrations no longer configured.
        let same =
            |a: &Registration, b: &Registration| a.name == b.name && a.l3 == b.l3 && a.l4 == b.l4;
        for old in &live.registered {
            if regs.iter().any(|r| same(r, old)) {
                continue;
            }
            match ctl.request(old.del_msg(), 0) {
                Ok(()) => {}
                Err(e) if e.errno() == Some(libc::EBUSY) => {
                    let _ = ctl.request(old.disable_msg(), libc::NLM_F_CREATE as u16);
                    notes.push(format!(
                        "{}/{} disabled (the ruleset still references it)",
                        old.name,
                        fam(old)
                    ));
                }
                Err(e) => notes.push(format!("unregistering {}/{}: {e}", old.name, fam(old))),
            }
        }
        let d = (&live.cfg.daemon, &new.daemon);
        if d.0.queue_maxlen != d.1.queue_maxlen || d.0.metrics != d.1.metrics {
            notes.push("queue_maxlen and metrics take effect at the next start".into());
        }
        live.cfg = new;
        live.registered = regs;
        live.loaded = Instant::now();
        live.reloads += 1;
        let mut m = format!("{}: {}", path.display(), changes.join("; "));
        if !notes.is_empty() {
            m.push_str(&format!(" ({})", notes.join("; ")));
        }
        Ok(m)
    }

    /// Puts the previous registrations back and deletes those created.
    fn roll_back(&self, ctl: &mut NfSocket, old: &[Registration], created: &[Registration]) {
        for r in created {
            let _ = ctl.request(r.del_msg(), 0);
        }
        for r in old {
            let _ = ctl.request(r.new_msg(), libc::NLM_F_CREATE as u16);
        }
    }
}

/// Whether two rulesets differ only in their comments (the header names
/// the configuration it was made for).
fn same_rules(a: &str, b: &str) -> bool {
    let rules = |s: &str| {
        s.lines()
            .filter(|l| !l.trim_start().starts_with('#'))
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    rules(a) == rules(b)
}

/// Writes `text` to `file` (atomically) and loads it with `nft -f`.
fn load_ruleset(file: &std::path::Path, text: &str) -> Result<(), String> {
    let tmp = file.with_extension("nft.tmp");
    std::fs::write(&tmp, text).map_err(|e| format!("writing {}: {e}", tmp.display()))?;
    std::fs::rename(&tmp, file).map_err(|e| format!("writing {}: {e}", file.display()))?;
    let out = std::process::Command::new("nft")
        .arg("-f")
        .arg(file)
        .output()
        .map_err(|e| format!("running nft: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "nft -f {}: {}",
            file.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// What differs between two configurations, per helper, in words.
pub fn describe_changes(old: &Config, new: &Config) -> Vec<String> {
    let mut out = Vec::new();
    for n in &new.helpers {
        let Some(o) = old.helpers.iter().find(|o| std::ptr::eq(o.info, n.info)) else {
            continue;
        };
        let name = n.info.name;
        if o.enabled != n.enabled {
            out.push(format!(
                "{name} {}",
                if n.enabled { "enabled" } else { "disabled" }
            ));
            continue;
        }
        if !n.enabled {
            continue;
        }
        let ports = |p: &[u16]| p.iter().map(u16::to_string).collect::<Vec<_>>().join(",");
        if o.ports != n.ports {
            out.push(format!(
                "{name} ports {} → {}",
                ports(&o.ports),
                ports(&n.ports)
            ));
        }
        if (o.queue, o.queues) != (n.queue, n.queues) {
            let qs = |h: &crate::config::HelperConfig| match h.queues {
                0 | 1 => h.queue.to_string(),
                n => format!("{}-{}", h.queue, u32::from(h.queue) + u32::from(n) - 1),
            };
            out.push(format!("{name} queue {} → {}", qs(o), qs(n)));
        }
        if o.params != n.params {
            out.push(format!("{name} parameters"));
        }
        if o.policies != n.policies {
            out.push(format!("{name} policies"));
        }
    }
    if old.daemon != new.daemon {
        out.push("[daemon]".into());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_in_words() {
        let old = Config::default();
        let new = Config::parse(
            "[helper.ftp]\nports = [21, 2121]\n[helper.ftp.policy.ftp]\ntimeout = 60\n[helper.tftp]\nenabled = false\n[helper.sip]\nsip_timeout = 60\n",
        )
        .unwrap();
        assert_eq!(
            describe_changes(&old, &new),
            vec![
                "ftp ports 21 → 21,2121",
                "ftp policies",
                "sip parameters",
                "tftp disabled"
            ]
        );
        assert!(describe_changes(&new, &new).is_empty());
    }

    fn control(path: &std::path::Path, cfg: Config) -> Control {
        let metrics = Metrics::new();
        let shared = Arc::new(Shared {
            stop: std::sync::atomic::AtomicBool::new(false),
            metrics: metrics.clone(),
            slots: Arc::from(crate::flow::slots(&cfg)),
            limits: Limits::from_config(&cfg.daemon),
            swap: Swap::default(),
            beats: Default::default(),
        });
        Control {
            live: Mutex::new(Live {
                cfg,
                registered: Vec::new(),
                queues: vec![0],
                handles: Vec::new(),
                loaded: Instant::now(),
                reloads: 0,
            }),
            config_path: Some(path.to_path_buf()),
            ruleset: None,
            shared,
            metrics,
            start: Instant::now(),
        }
    }

    #[test]
    fn invalid_file_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("c.toml");
        std::fs::write(&f, "[helper.ftp]\nports = [21, 2121]\n").unwrap();
        let cfg = Config::load(&f).unwrap();
        let c = control(&f, cfg.clone());
        // Unchanged file: nothing to do, no kernel needed.
        let m = c.reload().unwrap();
        assert!(m.ends_with("unchanged"), "{m}");
        std::fs::write(&f, "[helper.ftp]\nports = [21, 2121]\nbogus = 1\n").unwrap();
        let e = c.reload().unwrap_err();
        assert!(e.contains("line 3") && e.contains("bogus"), "{e}");
        assert!(!e.contains('\n'), "one line: {e}");
        std::fs::remove_file(&f).unwrap();
        let e = c.reload().unwrap_err();
        assert!(e.contains("cannot read"), "{e}");
        let live = c.live.lock().unwrap();
        assert_eq!(live.cfg, cfg);
        assert_eq!(live.reloads, 0);
        assert!(c.shared.swap.newer(0).is_none(), "workers got no new slots");
    }

    #[test]
    fn status_from_the_counters() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("c.toml");
        std::fs::write(&f, "[helper.tftp]\nenabled = false\n").unwrap();
        let c = control(&f, Config::load(&f).unwrap());
        Metrics::inc(&c.metrics.packets, &[("helper", "ftp")]);
        Metrics::inc(&c.metrics.edits, &[("helper", "ftp")]);
        let s = c.status();
        assert_eq!(s.config.as_deref(), Some(f.to_str().unwrap()));
        assert!(s.config_age_s.is_some());
        let names: Vec<&str> = s.helpers.iter().map(|h| h.name.as_str()).collect();
        assert!(
            names.contains(&"sip") && !names.contains(&"tftp"),
            "{names:?}"
        );
        let ftp = s.helpers.iter().find(|h| h.name == "ftp").unwrap();
        assert_eq!((ftp.packets, ftp.edits), (1, 1));
        assert_eq!(s.queues.len(), 1);
    }

    #[test]
    fn parameters_leave_the_ruleset() {
        let a = Config::default();
        let b = Config::parse(
            "[helper.sip]\nsip_timeout = 60\n[helper.sip.policy.audio]\ntimeout = 60\n",
        )
        .unwrap();
        let c = Config::parse("[helper.sip]\nports = [5060, 5070]\n").unwrap();
        let r = super::super::nft::ruleset;
        assert_ne!(r(&a), r(&b), "the header names the configuration");
        assert!(same_rules(&r(&a), &r(&b)));
        assert!(!same_rules(&r(&a), &r(&c)));
    }

    #[test]
    fn swap_generations() {
        let s = Swap::default();
        assert!(s.newer(0).is_none());
        let cfg = Config::default();
        s.set(
            Arc::from(crate::flow::slots(&cfg)),
            Limits::from_config(&cfg.daemon),
        );
        let (slots, _, g) = s.newer(0).unwrap();
        assert_eq!(g, 1);
        assert_eq!(slots.len(), cfg.enabled().count());
        assert!(s.newer(g).is_none());
    }
}
