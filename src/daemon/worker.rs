//! One NFQUEUE worker: a dedicated thread that receives queued packets,
//! hands each to the flow core with the kernel's expectation table, and
//! sends what the plan says — receive → core → send.
//!
//! Fail open everywhere: whatever goes wrong with one packet, it is
//! accepted unchanged, a counter goes up and a debug line says why.

use super::kernel::{self, KernelLink, KernelTable, Link, Parts};
use super::metrics::Metrics;
use crate::flow::{Core, Limits, Plan, Slot};
use crate::netlink::queue::{
    QueueConfig, Queued, Verdict, NFQA_SKB_GSO, NFQNL_MSG_PACKET, NF_DROP,
};
use crate::netlink::{messages, NfMsg, NfSocket, NlError, NFNL_SUBSYS_QUEUE};
use helpers::{Event, Reason};
use netlink_packet_core::NetlinkPayload;
use prometheus_client::metrics::counter::Counter;
use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tracing::{debug, warn};

/// What all workers share.
pub struct Shared {
    pub stop: AtomicBool,
    pub metrics: Arc<Metrics>,
    pub slots: Arc<[Slot]>,
    pub limits: Limits,
    /// New slots and limits from a reload (see reload.rs).
    pub swap: super::reload::Swap,
    /// The loops' beats for the systemd watchdog (see watchdog.rs).
    pub beats: Arc<super::watchdog::Beats>,
}

/// The counters every packet moves, by family and two static label
/// values, kept by the worker: `Metrics::inc` builds a label vector of
/// Strings and looks it up under a lock, several times per packet.
#[derive(Clone, Copy, PartialEq, Eq)]
enum HotFamily {
    /// packets{helper}
    Packets,
    /// verdicts{verdict, kind}
    Verdicts,
    /// helper_verdicts{helper, verdict}
    HelperVerdicts,
    /// edits{helper}
    Edits,
}

#[derive(Default)]
struct HotCounters(Vec<(HotFamily, &'static str, &'static str, Counter)>);

impl HotCounters {
    fn inc(&mut self, m: &Metrics, f: HotFamily, a: &'static str, b: &'static str) {
        if let Some((.., c)) = self
            .0
            .iter()
            .find(|(g, x, y, _)| *g == f && *x == a && *y == b)
        {
            c.inc();
            return;
        }
        let c = match f {
            HotFamily::Packets => Metrics::handle(&m.packets, &[("helper", a)]),
            HotFamily::Verdicts => Metrics::handle(&m.verdicts, &[("verdict", a), ("kind", b)]),
            HotFamily::HelperVerdicts => {
                Metrics::handle(&m.helper_verdicts, &[("helper", a), ("verdict", b)])
            }
            HotFamily::Edits => Metrics::handle(&m.edits, &[("helper", a)]),
        };
        c.inc();
        self.0.push((f, a, b, c));
    }
}

/// How long the queue loop waits for a packet before it looks at the time
/// (held segments, stop).
const TICK: Duration = Duration::from_millis(50);

/// Where queued packets come from and verdicts go: the queue's netlink
/// socket, or a test's fake kernel.
pub trait QueueIo {
    /// One datagram, or `None` when nothing came within the tick.
    fn recv(&mut self) -> io::Result<Option<Vec<u8>>>;
    /// One datagram if one is waiting.
    fn try_recv(&mut self) -> io::Result<Option<Vec<u8>>>;
    fn send(&mut self, msg: NfMsg) -> io::Result<()>;
}

/// The bound queue socket.
pub struct QueueSocket(NfSocket);

impl QueueIo for QueueSocket {
    fn recv(&mut self) -> io::Result<Option<Vec<u8>>> {
        Ok(self.0.recv()?.map(<[u8]>::to_vec))
    }
    fn try_recv(&mut self) -> io::Result<Option<Vec<u8>>> {
        Ok(self.0.try_recv()?.map(<[u8]>::to_vec))
    }
    fn send(&mut self, msg: NfMsg) -> io::Result<()> {
        self.0.send(msg, 0)
    }
}

pub struct Worker<Q, L> {
    num: u16,
    queue: Q,
    link: L,
    core: Core<u32>,
    shared: Arc<Shared>,
    rng: crate::flow::Rng,
    start: Instant,
    /// The reload generation the core was built for, and the held bytes
    /// last reported per slot.
    generation: u64,
    held: Vec<u64>,
    beat: Arc<std::sync::atomic::AtomicU64>,
    hot: HotCounters,
}

impl Worker<QueueSocket, KernelLink> {
    /// Opens the queue's socket and binds it (the glue check happens here:
    /// a kernel without NFQUEUE conntrack glue refuses F_CONNTRACK), and the
    /// worker's ctnetlink link.
    pub fn bind(cfg: QueueConfig, shared: Arc<Shared>) -> Result<Self, NlError> {
        let mut sock = NfSocket::open()?;
        sock.set_rcvbuf(8 << 20);
        let _ = sock.set_no_enobufs();
        sock.set_read_timeout(Some(Duration::from_secs(5)))?;
        sock.request(cfg.bind_msg(), 0)?;
        sock.set_read_timeout(Some(TICK))?;
        let link = KernelLink::open()?;
        let seed = u64::from(std::process::id()) << 32
            ^ u64::from(cfg.num) << 16
            ^ std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(1);
        Ok(Worker::new(cfg.num, QueueSocket(sock), link, shared, seed))
    }
}

impl<Q: QueueIo, L: Link> Worker<Q, L> {
    pub fn new(num: u16, queue: Q, link: L, shared: Arc<Shared>, seed: u64) -> Self {
        let beat = shared.beats.add(num);
        Worker {
            num,
            queue,
            link,
            core: Core::new(shared.slots.clone(), shared.limits),
            shared,
            rng: crate::flow::Rng(seed),
            start: Instant::now(),
            generation: 0,
            held: Vec::new(),
            beat,
            hot: HotCounters::default(),
        }
    }

    pub fn queue(&self) -> u16 {
        self.num
    }

    /// The worker's link to the kernel (a test's fake kernel looks at it).
    pub fn link_mut(&mut self) -> &mut L {
        &mut self.link
    }

    fn now_ns(&self) -> u64 {
        u64::try_from(self.start.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }

    /// Serves until `stop`; then answers what is queued already, lets held
    /// packets go on and returns (dropping the socket unbinds).
    pub fn run(mut self) -> io::Result<()> {
        while !self.shared.stop.load(Ordering::Relaxed) {
            // One clock read per datagram: the time it arrived serves its
            // packets and the holds' deadlines (a clock read is a system
            // call where the clocksource is not the TSC, as in a VM).
            let mut now = None;
            match self.queue.recv() {
                Ok(Some(b)) => {
                    let t = self.now_ns();
                    now = Some(t);
                    self.datagram(&b, t);
                }
                Ok(None) => {}
                Err(e) if e.raw_os_error() == Some(libc::ENOBUFS) => {
                    // Only without NETLINK_NO_ENOBUFS: packets the socket
                    // could not take went on (F_FAIL_OPEN). Nothing to resync:
                    // every packet carries its whole state.
                    self.count(None, &Event::new(Reason::Enobufs, "queue socket overrun"));
                }
                Err(e) => return Err(e),
            }
            if self.core.next_deadline().is_some() {
                let now = now.unwrap_or_else(|| self.now_ns());
                self.tick(now);
            }
            self.after_loop();
        }
        while let Ok(Some(b)) = self.queue.try_recv() {
            let now = self.now_ns();
            self.datagram(&b, now);
        }
        self.shutdown();
        Ok(())
    }

    /// Releases the holds that ran out at `now_ns`.
    pub fn tick(&mut self, now_ns: u64) {
        if self.core.next_deadline().is_some_and(|d| d <= now_ns) {
            for p in self.core.expire(now_ns) {
                self.carry_out(&p, Parts::default());
            }
        }
    }

    /// Once per loop: takes the slots of a reload (what is held goes on
    /// first, under the helpers that held it) and reports the held bytes.
    pub fn after_loop(&mut self) {
        self.beat.fetch_add(1, Ordering::Relaxed);
        if let Some((slots, limits, generation)) = self.shared.swap.newer(self.generation) {
            self.shutdown();
            for slot in self.core.slots() {
                self.set_held(slot.name(), 0);
            }
            self.held.clear();
            self.core = Core::new(slots, limits);
            self.generation = generation;
        }
        let held = self.core.held_bytes();
        if held != self.held {
            for (i, slot) in self.core.slots().iter().enumerate() {
                let n = held.get(i).copied().unwrap_or(0);
                self.set_held(slot.name(), i64::try_from(n).unwrap_or(i64::MAX));
            }
            self.held = held;
        }
    }

    /// The bytes-held gauge of one helper on this queue.
    fn set_held(&self, helper: &str, n: i64) {
        self.shared
            .metrics
            .held_bytes
            .get_or_create(&vec![
                ("helper", helper.to_string()),
                ("queue", self.num.to_string()),
            ])
            .set(n);
    }

    /// Lets whatever is held go on (the daemon stops).
    pub fn shutdown(&mut self) {
        for p in self.core.release_all(Reason::HoldShutdown) {
            self.carry_out(&p, Parts::default());
        }
    }

    /// One datagram from the queue socket, at `now_ns`.
    pub fn datagram(&mut self, buf: &[u8], now_ns: u64) {
        for m in messages(buf) {
            match m.payload {
                NetlinkPayload::InnerMessage(nf)
                    if nf.subsys == NFNL_SUBSYS_QUEUE && nf.cmd == NFQNL_MSG_PACKET =>
                {
                    self.packet(&nf.attrs, now_ns)
                }
                NetlinkPayload::Error(e) => {
                    if let Some(c) = e.code {
                        let ev = Event::new(Reason::VerdictRefused, format!("kernel error {c}"));
                        self.count(None, &ev);
                    }
                }
                _ => {}
            }
        }
    }

    fn count(&self, helper: Option<&'static str>, e: &Event) {
        let m = &self.shared.metrics;
        match helper {
            Some(h) => Metrics::inc(&m.events, &[("helper", h), ("reason", e.reason.name())]),
            None => Metrics::inc(&m.errors, &[("reason", e.reason.name())]),
        }
        match e.param {
            Some(p) => debug!(
                queue = self.num,
                helper,
                reason = e.reason.name(),
                param = p,
                "{}",
                e.detail
            ),
            None => debug!(
                queue = self.num,
                helper,
                reason = e.reason.name(),
                "{}",
                e.detail
            ),
        }
    }

    /// Accepts a packet that cannot be helped, unchanged.
    fn pass(&mut self, id: u32, reason: Reason, detail: &str) {
        self.count(
            None,
            &Event::new(reason, format!("accepted unchanged: {detail}")),
        );
        self.send(&Verdict::accept(id));
    }

    fn packet(&mut self, attrs: &[u8], now_ns: u64) {
        self.link.packet_start();
        let q = match Queued::parse(attrs) {
            Ok(q) => q,
            Err(_) => {
                self.count(
                    None,
                    &Event::new(Reason::NoPacketId, "queued message without packet id"),
                );
                return;
            }
        };
        let id = q.id;
        if q.cap_len.is_some_and(|c| c as usize != q.payload.len()) {
            return self.pass(id, Reason::TruncatedCopy, "packet longer than the copy");
        }
        if q.skb_info & NFQA_SKB_GSO != 0 {
            // Not with our flags (no F_GSO): the kernel segments first.
            return self.pass(id, Reason::Gso, "unsegmented GSO packet");
        }
        let Some(ct) = &q.ct else {
            return self.pass(
                id,
                Reason::NoConntrack,
                "no NFQA_CT (queue without F_CONNTRACK?)",
            );
        };
        let Some(name) = ct.helper.as_deref() else {
            return self.pass(id, Reason::NoHelper, "conntrack without CTA_HELP");
        };
        let Some(slot) = self.core.slot_of(name) else {
            return self.pass(id, Reason::UnknownHelper, name);
        };
        let Some(ctinfo) = q.ctinfo else {
            return self.pass(id, Reason::NoCtinfo, "no NFQA_CT_INFO");
        };
        let hname = self.core.slots()[slot].name();
        self.hot
            .inc(&self.shared.metrics, HotFamily::Packets, hname, "");
        let view = ct.view(ctinfo, q.outdev);
        let metrics = self.shared.metrics.clone();
        let mut table = KernelTable::new(&view, hname, &mut self.link, &mut self.rng, &metrics);
        table.local = q.indev.is_none();
        let plans = self
            .core
            .packet(now_ns, id, q.payload.to_vec(), slot, &view, &mut table);
        let held = plans.last().is_some_and(|p| p.held);
        let mut parts = Some(if held {
            table.flush_now()
        } else {
            table.into_parts()
        });
        let n = plans.len();
        for (i, p) in plans.iter().enumerate() {
            let mine = if i + 1 == n { parts.take() } else { None };
            self.carry_out(p, mine.unwrap_or_default());
        }
    }

    /// Sends what `plan` says, with what its packet's table left.
    fn carry_out(&mut self, plan: &Plan<u32>, mut parts: Parts) {
        let Some(slot) = self.core.slots().get(plan.helper) else {
            return;
        };
        let (hname, priv_len) = (slot.name(), slot.priv_len());
        let table_events = std::mem::take(&mut parts.events);
        for e in plan.events.iter().chain(&table_events) {
            self.count(Some(hname), e);
        }
        if plan.held {
            return;
        }
        let metrics = self.shared.metrics.clone();
        let (out, events) = kernel::finish(parts, plan, hname, priv_len, &mut self.link, &metrics);
        for e in &events {
            self.count(Some(hname), e);
        }
        let mut edited = false;
        for v in &out.verdicts {
            edited |= v.payload.is_some();
            let verdict = if v.verdict == NF_DROP {
                "drop"
            } else {
                "accept"
            };
            self.hot
                .inc(&metrics, HotFamily::HelperVerdicts, hname, verdict);
            self.send(v);
        }
        if edited {
            self.hot.inc(&metrics, HotFamily::Edits, hname, "");
        }
        for (m, flags) in out.after {
            let r = self.link.request(m, flags);
            if let Err(e) = r {
                self.count(
                    Some(hname),
                    &Event::new(Reason::Ctnetlink, format!("after the verdict: {e}")),
                );
            }
        }
    }

    fn send(&mut self, v: &Verdict) {
        let m = self.shared.metrics.clone();
        let kind = if v.payload.is_some() {
            "edited"
        } else {
            "plain"
        };
        let verdict = if v.verdict == NF_DROP {
            "drop"
        } else {
            "accept"
        };
        self.hot.inc(&m, HotFamily::Verdicts, verdict, kind);
        if let Err(e) = self.queue.send(v.msg(self.num)) {
            warn!(queue = self.num, id = v.id, "sending a verdict failed: {e}");
            Metrics::inc(&m.errors, &[("reason", Reason::VerdictSend.name())]);
        }
    }
}
