//! `cthelperd run`: the kernel path.
//!
//! Start-up: check the kernel (nfnetlink_cthelper present, NFQUEUE with
//! conntrack glue), bind one queue per helper queue, register every enabled
//! helper over nfnetlink_cthelper (reusing a registration that is already
//! there), tell systemd READY=1, serve the queues with one thread each until
//! SIGTERM/SIGINT, then finish in-flight packets, unregister and exit 0.
//! See docs/kernel-path.md.

pub mod kernel;
pub mod metrics;
pub mod nft;
pub mod reload;
pub mod watchdog;
pub mod worker;

use crate::config::Config;
use crate::netlink::cthelper::{self, Listed, Registration};
use crate::netlink::queue::QueueConfig;
use crate::netlink::{NfMsg, NfSocket, NlError, AF_INET, AF_INET6};
use anyhow::Result;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tracing::{debug, info, warn};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Leave the helper registrations in the kernel on exit (they are kept
    /// anyway while the nft ruleset still references them).
    #[arg(long)]
    pub keep_registration: bool,
    /// The helper registrations are shared with cthelperd daemons in other
    /// network namespaces of this kernel (nfnetlink_cthelper's helper list
    /// is global; queues and conntrack tables are per namespace): leave them
    /// registered and enabled on exit (another namespace's daemon serves
    /// them), and refuse to re-create one registered with other policies.
    /// Not for separate machines (docs/ha.md).
    #[arg(long)]
    pub shared_registration: bool,
    /// Keep this nft ruleset file: a reload that changes ports or enabled
    /// helpers writes `cthelperd nft` to it and loads it with `nft -f`
    /// (the unit passes /run/cthelperd/cthelperd.nft).
    #[arg(long, value_name = "FILE")]
    pub ruleset: Option<std::path::PathBuf>,
    /// The configuration file (from the global --config).
    #[arg(skip)]
    pub config_path: Option<std::path::PathBuf>,
    /// The control socket (from the global --control).
    #[arg(skip)]
    pub control: std::path::PathBuf,
}

/// A start-up failure: one line, naming what is missing and what to do.
#[derive(Debug)]
pub struct Fatal(pub String);

impl std::fmt::Display for Fatal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}
impl std::error::Error for Fatal {}

fn fatal(s: impl Into<String>) -> anyhow::Error {
    Fatal(s.into()).into()
}

/// What `cthelperd run` needs of the kernel. (Not nft's `queue`
/// expression: a userspace helper's packets are queued by the kernel's
/// helper hook, `nfnl_userspace_cthelper`, not by a rule. The ruleset needs
/// nft's `ct helper` objects, `nft_ct`, which `nft -f` reports itself.)
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// nfnetlink_cthelper: registering the helpers.
    Cthelper,
    /// nfnetlink_queue: the queues the kernel hands helped packets to.
    Queue,
    /// The NFQUEUE conntrack glue: the conntrack attached to each queued
    /// packet, and read back from the verdict.
    Glue,
    /// ctnetlink: expectations and sequence adjustments of confirmed
    /// connections.
    Ctnetlink,
}

impl Need {
    pub const ALL: [Need; 4] = [Need::Cthelper, Need::Queue, Need::Glue, Need::Ctnetlink];
    /// What it is called in the one line.
    pub const fn what(self) -> &'static str {
        match self {
            Need::Cthelper => "nfnetlink_cthelper",
            Need::Queue => "nfnetlink_queue",
            Need::Glue => "the NFQUEUE conntrack glue",
            Need::Ctnetlink => "ctnetlink",
        }
    }
    /// The kernel option that builds it.
    pub const fn config(self) -> &'static str {
        match self {
            Need::Cthelper => "CONFIG_NF_CT_NETLINK_HELPER",
            Need::Queue => "CONFIG_NETFILTER_NETLINK_QUEUE",
            Need::Glue => "CONFIG_NETFILTER_NETLINK_GLUE_CT",
            Need::Ctnetlink => "CONFIG_NF_CT_NETLINK",
        }
    }
    /// The module that brings it (the glue is part of ctnetlink's).
    pub const fn module(self) -> &'static str {
        match self {
            Need::Cthelper => "nfnetlink_cthelper",
            Need::Queue => "nfnetlink_queue",
            Need::Glue | Need::Ctnetlink => "nf_conntrack_netlink",
        }
    }
}

/// The one line for a kernel that lacks `missing` (in [`Need::ALL`]
/// order): everything at once, and what to do.
pub fn missing_line(missing: &[Need]) -> String {
    let items: Vec<String> = missing
        .iter()
        .map(|n| format!("{} ({})", n.what(), n.config()))
        .collect();
    let list = match items.split_last() {
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
        None => String::new(),
    };
    let mut modules: Vec<&str> = Vec::new();
    for n in missing {
        if !modules.contains(&n.module()) {
            modules.push(n.module());
        }
    }
    let them = if missing.len() == 1 { "it" } else { "them" };
    format!(
        "kernel lacks {list}: modprobe {} or use a kernel built with {them} (Debian, Ubuntu and OpenWrt kernels are)",
        modules.join(" ")
    )
}

/// nfnetlink's answers for a subsystem it does not have (after trying to
/// autoload it): EINVAL on current kernels, EOPNOTSUPP/EPROTONOSUPPORT/
/// ENOENT on older ones. A probe has nothing else to be invalid about.
fn absent(e: &NlError) -> bool {
    matches!(
        e.errno(),
        Some(libc::EINVAL)
            | Some(libc::EOPNOTSUPP)
            | Some(libc::EPROTONOSUPPORT)
            | Some(libc::ENOENT)
    )
}

/// Probes what `run` needs, without side effects: a dump of the userspace
/// helpers (nfnetlink_cthelper), an empty NFQNL_MSG_CONFIG and one asking
/// for F_CONNTRACK on queue `queue` without a command (nfqnl_recv_config
/// checks the flags before it looks the queue up, and without a command it
/// binds nothing: ENODEV for an unbound queue, EPERM for another socket's),
/// and a dump of ctnetlink's expectation statistics. Returns the userspace
/// helpers listed and what is missing; a permission error ends the probe.
fn probe(ctl: &mut NfSocket, queue: u16) -> Result<(Vec<Listed>, Vec<Need>)> {
    use crate::netlink::queue::{
        NFQA_CFG_FLAGS, NFQA_CFG_F_CONNTRACK, NFQA_CFG_MASK, NFQNL_MSG_CONFIG,
    };
    use crate::netlink::{AF_UNSPEC, NFNL_SUBSYS_CTNETLINK_EXP, NFNL_SUBSYS_QUEUE};
    let perm = |e: &NlError| matches!(e.errno(), Some(libc::EPERM) | Some(libc::EACCES));
    let mut missing = Vec::new();
    let listed = match ctl.dump(cthelper::get_dump()) {
        Ok(l) => l
            .iter()
            .filter_map(|m| Listed::parse(m.attrs()))
            .collect::<Vec<_>>(),
        Err(e) if perm(&e) => return Err(permission("talking to nfnetlink_cthelper")),
        Err(e) if absent(&e) => {
            missing.push(Need::Cthelper);
            Vec::new()
        }
        Err(e) => return Err(fatal(format!("listing conntrack helpers failed: {e}"))),
    };
    let config = |flags: bool| {
        let mut w = crate::netlink::attr::AttrWriter::new();
        if flags {
            w.be32(NFQA_CFG_MASK, NFQA_CFG_F_CONNTRACK);
            w.be32(NFQA_CFG_FLAGS, NFQA_CFG_F_CONNTRACK);
        }
        NfMsg::new(
            NFNL_SUBSYS_QUEUE,
            NFQNL_MSG_CONFIG,
            AF_UNSPEC,
            queue,
            w.into_bytes(),
        )
    };
    // Ok, ENODEV (nobody bound it), EPERM (another socket did): there.
    let there = |r: &Result<(), NlError>| match r {
        Ok(()) => true,
        Err(e) => matches!(
            e.errno(),
            Some(libc::ENODEV) | Some(libc::EPERM) | Some(libc::EBUSY)
        ),
    };
    let r = ctl.request(config(false), 0);
    if !there(&r) {
        match r {
            Err(e) if absent(&e) => missing.push(Need::Queue),
            Err(e) => return Err(fatal(format!("probing nfnetlink_queue failed: {e}"))),
            Ok(()) => {}
        }
    } else {
        // EAGAIN: the kernel loaded ctnetlink for the glue just now.
        let mut r = ctl.request(config(true), 0);
        if matches!(&r, Err(e) if e.errno() == Some(libc::EAGAIN)) {
            r = ctl.request(config(true), 0);
        }
        if !there(&r) {
            match r {
                Err(e) if e.errno() == Some(libc::EOPNOTSUPP) => missing.push(Need::Glue),
                Err(e) => {
                    return Err(fatal(format!(
                        "probing the NFQUEUE conntrack glue failed: {e}"
                    )))
                }
                Ok(()) => {}
            }
        }
    }
    // IPCTNL_MSG_EXP_GET_STATS_CPU: one small message per CPU.
    let stats = NfMsg::new(NFNL_SUBSYS_CTNETLINK_EXP, 3, AF_UNSPEC, 0, Vec::new());
    match ctl.dump(stats) {
        Ok(_) => {}
        Err(e) if absent(&e) => missing.push(Need::Ctnetlink),
        Err(e) => return Err(fatal(format!("probing ctnetlink failed: {e}"))),
    }
    missing.sort_by_key(|n| Need::ALL.iter().position(|m| m == n));
    Ok((listed, missing))
}

fn permission(what: &str) -> anyhow::Error {
    fatal(format!(
        "permission denied {what}: run as root or with CAP_NET_ADMIN in the initial network namespace"
    ))
}

pub fn run(cfg: Config, args: Args) -> Result<ExitCode> {
    // Block the stop signals before any thread starts: every thread inherits
    // the mask and the main thread takes them with sigwait().
    let sigs = stop_signals();
    block(&sigs);

    let regs = registrations(&cfg);
    let mut ctl = NfSocket::open()
        .map_err(|e| fatal(format!("cannot open a netfilter netlink socket: {e}")))?;
    ctl.set_read_timeout(Some(Duration::from_secs(5)))?;

    // 1. The kernel: everything run needs, probed before anything else,
    // and all of what is missing named in one line.
    let first_queue = cfg.enabled().map(|h| h.queue).min().unwrap_or(0);
    let (listed, missing) = probe(&mut ctl, first_queue)?;
    if !missing.is_empty() {
        return Err(fatal(missing_line(&missing)));
    }

    let metrics = metrics::Metrics::new();
    if !cfg.daemon.metrics.is_empty() {
        metrics::serve(&cfg.daemon.metrics, metrics.clone()).map_err(|e| {
            fatal(format!(
                "cannot serve metrics on {}: {e}",
                cfg.daemon.metrics
            ))
        })?;
        info!("metrics on http://{}/metrics", cfg.daemon.metrics);
    }
    debug!("userspace helpers in the kernel: {listed:?}");

    // 2. Register the helpers before anything is bound: a ruleset loaded as
    // soon as a queue shows up must find them (else `ct helper` objects of
    // type "ftp" autoload the kernel's nf_conntrack_ftp).
    let mut registered = Vec::new();
    // Only what this start created is undone if the start fails: a reused
    // registration may be serving another cthelperd.
    let mut created = Vec::new();
    for r in &regs {
        match register(&mut ctl, r, &listed, args.shared_registration) {
            Ok(new) => {
                if new {
                    created.push(r.clone());
                }
            }
            Err(e) => {
                unregister(&mut ctl, &created, true);
                return Err(e);
            }
        }
        registered.push(r.clone());
    }
    // 3. Bind the queues (this is where a kernel without the conntrack
    // glue says EOPNOTSUPP; then the registrations made above are undone).
    let shared = Arc::new(worker::Shared {
        stop: AtomicBool::new(false),
        metrics: metrics.clone(),
        slots: Arc::from(crate::flow::instance_slots(&cfg)),
        limits: crate::flow::Limits::from_config(&cfg.daemon),
        swap: Default::default(),
        beats: Default::default(),
    });
    // One queue per instance: `queues = N` registers N instances of the
    // helper (ftp, ftp-1 …), instance i on queue `queue + i`, and the
    // ruleset spreads new flows over them (see nft.rs).
    let queues = helper_queues(&cfg);
    let mut workers = Vec::new();
    for &q in &queues {
        let qc = QueueConfig::helper_queue(q, cfg.daemon.queue_maxlen);
        match worker::Worker::bind(qc, shared.clone()) {
            Ok(w) => workers.push(w),
            Err(e) => {
                unregister(&mut ctl, &created, true);
                return Err(match e.errno() {
                    Some(libc::EOPNOTSUPP) => fatal(missing_line(&[Need::Glue])),
                    // The registration above already needed CAP_NET_ADMIN: EPERM
                    // here is nfqnl_recv_config's answer for a queue another
                    // socket has bound.
                    Some(libc::EPERM) | Some(libc::EBUSY) => fatal(format!(
                        "NFQUEUE {q} is bound by another process (another cthelperd or conntrackd?): stop it or give this helper another queue in the configuration"
                    )),
                    _ => fatal(format!("binding NFQUEUE {q} failed: {e}")),
                });
            }
        }
    }

    for r in registered.iter().filter(|r| !created.contains(r)) {
        info!(
            "{}/{}: reused the registration in the kernel",
            r.name,
            fam(r)
        );
    }
    info!(
        "registered {} and serving NFQUEUE {}",
        regs.iter()
            .map(|r| format!("{}/{}", r.name, fam(r)))
            .collect::<Vec<_>>()
            .join(", "),
        queues
            .iter()
            .map(u16::to_string)
            .collect::<Vec<_>>()
            .join(",")
    );

    // 4. Serve.
    let mut handles = Vec::new();
    for w in workers {
        handles.push(reload::spawn(w)?);
    }
    // The control socket (status, reload): see reload.rs.
    let control = Arc::new(reload::Control {
        live: std::sync::Mutex::new(reload::Live {
            cfg: cfg.clone(),
            registered: registered.clone(),
            queues: queues.clone(),
            handles: Vec::new(),
            loaded: std::time::Instant::now(),
            reloads: 0,
        }),
        config_path: args.config_path.clone(),
        ruleset: args.ruleset.clone(),
        shared: shared.clone(),
        metrics: metrics.clone(),
        start: std::time::Instant::now(),
    });
    if let Err(e) = crate::control::serve(&args.control, control.clone()) {
        warn!(
            "no control socket at {}: {e} (cthelperd status and reload will not reach this daemon)",
            args.control.display()
        );
    }
    let _ = sd_notify::notify(&[sd_notify::NotifyState::Ready]);
    watchdog::start(shared.beats.clone());

    let sig = loop {
        match wait(&sigs) {
            libc::SIGHUP => {
                let _ = crate::control::Handler::reload(control.as_ref());
            }
            s => break s,
        }
    };
    if let Ok(mut live) = control.live.lock() {
        registered = live.registered.clone();
        handles.append(&mut live.handles);
    }
    let _ = std::fs::remove_file(&args.control);
    info!("signal {sig}: finishing in-flight packets");
    let _ = sd_notify::notify(&[sd_notify::NotifyState::Stopping]);
    // Disable the helpers first: from now on the kernel accepts their
    // packets in nf_confirm instead of queueing them (and so still confirms
    // new connections and applies sequence adjustments — a bypassed queue
    // verdict would skip both). Then drain what is queued already.
    // --shared-registration: the registrations are every namespace's (one
    // kernel, one helper list): disabling them would stop the helpers of the
    // daemons in the other namespaces too.
    if args.shared_registration {
        info!("--shared-registration: the helpers stay registered and enabled for the other network namespaces");
    } else {
        for r in &registered {
            if let Err(e) = ctl.request(r.disable_msg(), libc::NLM_F_CREATE as u16) {
                warn!("disabling {}/{}: {e}", r.name, fam(r));
            }
        }
    }
    shared.stop.store(true, Ordering::Relaxed);
    let mut failed = false;
    for (q, h) in handles {
        match h.join() {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                warn!("queue {q} failed: {e}");
                failed = true;
            }
            Err(_) => {
                warn!("queue {q} worker panicked");
                failed = true;
            }
        }
    }

    // 5. Unregister (a helper the ruleset still references stays, disabled:
    // flows keep it, their packets pass unchanged, and a restarted cthelperd
    // re-enables the registration and carries on).
    if !args.keep_registration && !args.shared_registration {
        unregister(&mut ctl, &registered, false);
    }
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// Deletes the registrations (`quiet`: on a failed start, where the one
/// error line must stay the only line).
fn unregister(ctl: &mut NfSocket, registered: &[Registration], quiet: bool) {
    for r in registered.iter().rev() {
        let r2 = ctl.request(r.del_msg(), 0);
        if quiet {
            debug!("unregistering {}/{}: {r2:?}", r.name, fam(r));
            continue;
        }
        {
            match r2 {
                Ok(()) => info!("unregistered {}/{}", r.name, fam(r)),
                Err(e) if e.errno() == Some(libc::EBUSY) => info!(
                    "{}/{} stays registered (disabled: its connections pass unchanged until cthelperd starts again): the nft ruleset references it (delete table inet cthelperd to remove it)",
                    r.name,
                    fam(r)
                ),
                Err(e) => warn!("unregistering {}/{}: {e}", r.name, fam(r)),
            }
        }
    }
}

/// `ipv4/tcp`, `ipv6/udp`…: which of a helper's registrations.
fn fam(r: &Registration) -> String {
    let l3 = if r.l3 == AF_INET { "ipv4" } else { "ipv6" };
    let l4 = match r.l4 {
        6 => "tcp",
        17 => "udp",
        47 => "gre",
        _ => "?",
    };
    format!("{l3}/{l4}")
}

/// The queues the enabled helpers' instances are on, each once, in order.
pub fn helper_queues(cfg: &Config) -> Vec<u16> {
    let mut queues: Vec<u16> = Vec::new();
    for h in cfg.enabled() {
        for q in h.queue..=h.queue.saturating_add(h.queues.max(1) - 1) {
            if !queues.contains(&q) {
                queues.push(q);
            }
        }
    }
    queues
}

/// One registration per instance of each enabled helper (`queues = N`:
/// `ftp` on `queue`, `ftp-1` on `queue + 1` …, see
/// [`crate::flow::instance_name`]) and address family it supports.
pub fn registrations(cfg: &Config) -> Vec<Registration> {
    let mut out = Vec::new();
    for h in cfg.enabled() {
        for i in 0..h.queues.max(1) {
            instance_registrations(h, i, &mut out);
        }
    }
    out
}

fn instance_registrations(h: &crate::config::HelperConfig, i: u16, out: &mut Vec<Registration>) {
    let fams = [(h.info.ipv4, AF_INET), (h.info.ipv6, AF_INET6)];
    for (_, l3) in fams.iter().filter(|(on, _)| *on) {
        // Its own transports, then those of the masters whose
        // expectations name it (HelperInfo::expected_from).
        let extra = h
            .info
            .expected_from
            .iter()
            .filter(|p| !h.info.l4.contains(p));
        for l4 in h.info.l4.iter().chain(extra) {
            out.push(Registration {
                name: crate::flow::instance_name(h.info.name, i).to_string(),
                l3: *l3,
                l4: l4.number(),
                queue: h.queue.saturating_add(i),
                policies: h.policies.clone(),
                priv_len: h.info.priv_len as u32,
            });
        }
    }
}

/// Registers `r`, reusing or updating a registration of the same name and
/// tuple. EBUSY means either a kernel helper of that name is loaded (no
/// userspace helper of that name is listed) or the listed one has another
/// private-data length or policy set (then delete and re-create it if
/// nothing references it).
/// Returns whether the registration was created (not reused). `shared`
/// (--shared-registration): a registration with other policies may be
/// another namespace's daemon's, in use: an error, not re-created.
fn register(ctl: &mut NfSocket, r: &Registration, listed: &[Listed], shared: bool) -> Result<bool> {
    let existing = listed
        .iter()
        .find(|l| l.name == r.name && l.l3 == u16::from(r.l3) && l.l4 == r.l4);
    match ctl.request(r.new_msg(), libc::NLM_F_CREATE as u16) {
        // Logged by the caller once the start succeeded (a failed start
        // prints one line only).
        Ok(()) => Ok(existing.is_none()),
        Err(e) if e.errno() == Some(libc::EBUSY) && existing.is_none() => Err(fatal(format!(
            "the kernel's own {n} helper is loaded (nf_conntrack_{n}): unload it (modprobe -r nf_nat_{n} nf_conntrack_{n}) and blacklist it, or set enabled = false in [helper.{n}]",
            n = r.name
        ))),
        Err(e) if e.errno() == Some(libc::EBUSY) && shared => Err(fatal(format!(
            "helper {n}/{f} is registered with other policies or another private-data length (by a cthelperd in another network namespace?): with --shared-registration every daemon of this kernel needs the same [helper.{n}] policies",
            n = r.name,
            f = fam(r)
        ))),
        Err(e) if e.errno() == Some(libc::EBUSY) => {
            debug!(
                "{}/{}: registered with another policy or private-data length; re-creating it",
                r.name,
                fam(r)
            );
            match ctl.request(r.del_msg(), 0) {
                Ok(()) => {}
                Err(e) if e.errno() == Some(libc::EBUSY) => {
                    return Err(fatal(format!(
                        "helper {n}/{f} is registered with another policy and in use by the nft ruleset: delete table inet cthelperd (nft delete table inet cthelperd), start cthelperd, then load the ruleset again",
                        n = r.name,
                        f = fam(r)
                    )))
                }
                Err(e) => return Err(fatal(format!("deleting helper {}: {e}", r.name))),
            }
            ctl.request(r.new_msg(), libc::NLM_F_CREATE as u16)
                .map(|()| true)
                .map_err(|e| fatal(format!("registering helper {}: {e}", r.name)))
        }
        Err(e) => Err(match e.errno() {
            Some(libc::EPERM) | Some(libc::EACCES) => permission("registering helpers"),
            _ => fatal(format!(
                "registering helper {}/{}: {}",
                r.name,
                fam(r),
                describe(&e)
            )),
        }),
    }
}

fn describe(e: &NlError) -> String {
    e.to_string()
}

fn stop_signals() -> libc::sigset_t {
    // SAFETY: sigemptyset/sigaddset initialise and fill a zeroed set.
    unsafe {
        let mut s: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut s);
        libc::sigaddset(&mut s, libc::SIGTERM);
        libc::sigaddset(&mut s, libc::SIGINT);
        // Not a stop: a reload (see reload.rs).
        libc::sigaddset(&mut s, libc::SIGHUP);
        s
    }
}

fn block(s: &libc::sigset_t) {
    // SAFETY: a valid, initialised set; the old mask is not wanted.
    unsafe {
        libc::pthread_sigmask(libc::SIG_BLOCK, s, std::ptr::null_mut());
    }
}

fn wait(s: &libc::sigset_t) -> i32 {
    let mut sig = 0;
    loop {
        // SAFETY: a valid set and a valid out pointer.
        let r = unsafe { libc::sigwait(s, &mut sig) };
        if r == 0 {
            return sig;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fan_out_registers_one_instance_per_queue() {
        let c = Config::parse("[helper.ftp]\nqueue = 4\nqueues = 3\n").unwrap();
        let regs = registrations(&c);
        let ftp: Vec<(String, u8, u16)> = regs
            .iter()
            .filter(|r| r.name.starts_with("ftp"))
            .map(|r| (r.name.clone(), r.l3, r.queue))
            .collect();
        let want: Vec<(String, u8, u16)> = [("ftp", 4), ("ftp-1", 5), ("ftp-2", 6)]
            .iter()
            .flat_map(|(n, q)| [(n.to_string(), AF_INET, *q), (n.to_string(), AF_INET6, *q)])
            .collect();
        assert_eq!(ftp, want);
        let ftp0 = regs.iter().find(|r| r.name == "ftp").unwrap();
        assert!(regs
            .iter()
            .filter(|r| r.name.starts_with("ftp"))
            .all(|r| r.policies == ftp0.policies && r.priv_len == ftp0.priv_len));
        let q = helper_queues(&c);
        for n in [4, 5, 6] {
            assert!(q.contains(&n), "{q:?}");
        }
        let names: Vec<&str> = crate::flow::instance_slots(&c)
            .iter()
            .map(|s| s.name())
            .filter(|n| n.starts_with("ftp"))
            .collect();
        assert_eq!(names, ["ftp", "ftp-1", "ftp-2"]);
        // One queue, one registration of the helper's own name.
        let c = Config::default();
        assert!(registrations(&c).iter().all(|r| !r.name.contains('-')));
    }

    #[test]
    fn one_line_for_everything_missing() {
        assert_eq!(
            missing_line(&[Need::Cthelper]),
            "kernel lacks nfnetlink_cthelper (CONFIG_NF_CT_NETLINK_HELPER): modprobe nfnetlink_cthelper or use a kernel built with it (Debian, Ubuntu and OpenWrt kernels are)"
        );
        assert_eq!(
            missing_line(&Need::ALL),
            "kernel lacks nfnetlink_cthelper (CONFIG_NF_CT_NETLINK_HELPER), nfnetlink_queue (CONFIG_NETFILTER_NETLINK_QUEUE), the NFQUEUE conntrack glue (CONFIG_NETFILTER_NETLINK_GLUE_CT) and ctnetlink (CONFIG_NF_CT_NETLINK): modprobe nfnetlink_cthelper nfnetlink_queue nf_conntrack_netlink or use a kernel built with them (Debian, Ubuntu and OpenWrt kernels are)"
        );
    }
}
