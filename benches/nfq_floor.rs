//! nfq-floor: the live benchmark's floor — a bare NFQUEUE accept loop on
//! cthelperd's own netlink layer, fed exactly as `cthelperd run` is.
//!
//! It registers the same userspace helpers as `cthelperd run` with the same
//! configuration (names, transports, queue numbers, policies, private-data
//! length: `cthelperd::daemon::registrations`), binds every queue with the
//! same flags (`QueueConfig::helper_queue`: F_CONNTRACK | F_FAIL_OPEN, whole
//! packet copied), and answers each queued packet with NF_ACCEPT at once:
//! it reads the packet id and nothing else (no conntrack, no payload), one
//! thread per queue. So the kernel does the same work for it as for
//! cthelperd (helper hook, queueing with the conntrack attached, the copy,
//! reinjection), and the difference between the two is cthelperd's own.
//!
//! Built only with `--features bench-floor` (`cargo build --release
//! --features bench-floor --bin nfq-floor`); run by benches/live-vm.sh in the
//! VM: `nfq-floor [-c CONFIG]`. It stops at SIGTERM/SIGINT (default action)
//! and leaves its registrations behind, as a killed cthelperd does; the
//! benchmark deletes them (`nfct helper delete`) before the next mode.

use cthelperd::config::Config;
use cthelperd::daemon::registrations;
use cthelperd::netlink::queue::{QueueConfig, Verdict, NFQA_PACKET_HDR, NFQNL_MSG_PACKET};
use cthelperd::netlink::{messages, Attrs, NfSocket, NFNL_SUBSYS_QUEUE};
use netlink_packet_core::NetlinkPayload;
use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let mut config: Option<PathBuf> = None;
    while let Some(a) = args.next() {
        match a.as_str() {
            "-c" | "--config" => config = args.next().map(PathBuf::from),
            _ => {
                eprintln!("usage: nfq-floor [-c CONFIG]");
                return ExitCode::from(2);
            }
        }
    }
    let cfg = match config {
        Some(p) => Config::load(&p),
        None => Ok(Config::default()),
    };
    let cfg = match cfg {
        Ok(c) => c,
        Err(e) => {
            eprintln!("nfq-floor: {e:#}");
            return ExitCode::FAILURE;
        }
    };
    match run(&cfg) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("nfq-floor: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(cfg: &Config) -> Result<(), String> {
    let mut ctl = NfSocket::open().map_err(|e| format!("netlink socket: {e}"))?;
    ctl.set_read_timeout(Some(std::time::Duration::from_secs(5)))
        .map_err(|e| e.to_string())?;
    let regs = registrations(cfg);
    for r in &regs {
        // Create or update (a registration left by an earlier run is reused).
        ctl.request(r.new_msg(), libc::NLM_F_CREATE as u16)
            .map_err(|e| format!("registering {}: {e}", r.name))?;
    }
    let mut queues: Vec<u16> = Vec::new();
    for h in cfg.enabled() {
        for q in h.queue..h.queue.saturating_add(h.queues) {
            if !queues.contains(&q) {
                queues.push(q);
            }
        }
    }
    let mut threads = Vec::new();
    for q in queues {
        let mut sock = NfSocket::open().map_err(|e| format!("netlink socket: {e}"))?;
        sock.set_rcvbuf(8 << 20);
        let _ = sock.set_no_enobufs();
        sock.set_read_timeout(Some(std::time::Duration::from_secs(5)))
            .map_err(|e| e.to_string())?;
        let qc = QueueConfig::helper_queue(q, cfg.daemon.queue_maxlen);
        sock.request(qc.bind_msg(), 0)
            .map_err(|e| format!("binding NFQUEUE {q}: {e}"))?;
        sock.set_read_timeout(None).map_err(|e| e.to_string())?;
        threads.push(std::thread::spawn(move || serve(sock, q)));
    }
    eprintln!(
        "nfq-floor: {} registrations, serving {} queues",
        regs.len(),
        threads.len()
    );
    for t in threads {
        let _ = t.join();
    }
    Ok(())
}

/// Accept everything: the packet id is all that is read.
fn serve(mut sock: NfSocket, q: u16) {
    let mut ids = Vec::with_capacity(64);
    loop {
        ids.clear();
        match sock.recv() {
            Ok(Some(buf)) => {
                for m in messages(buf) {
                    if let NetlinkPayload::InnerMessage(nf) = m.payload {
                        if nf.subsys == NFNL_SUBSYS_QUEUE && nf.cmd == NFQNL_MSG_PACKET {
                            if let Some(id) = Attrs::new(&nf.attrs)
                                .get(NFQA_PACKET_HDR)
                                .and_then(|h| h.be32())
                            {
                                ids.push(id);
                            }
                        }
                    }
                }
            }
            Ok(None) => continue,
            Err(e) => {
                eprintln!("nfq-floor: queue {q}: {e}");
                return;
            }
        }
        for &id in &ids {
            if let Err(e) = sock.send(Verdict::accept(id).msg(q), 0) {
                eprintln!("nfq-floor: queue {q}: verdict: {e}");
            }
        }
    }
}
