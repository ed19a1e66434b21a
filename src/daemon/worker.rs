//! One NFQUEUE worker: a dedicated thread with its own blocking netlink
//! socket. It reads queued packets, runs the helper named by the packet's
//! conntrack (CTA_HELP), and answers with a verdict that carries the edited
//! packet, the helper's new private data and the first expectation.
//!
//! Fail open everywhere: whatever goes wrong with one packet, it is
//! accepted unchanged, a counter goes up and a debug line says why.

use super::metrics::Metrics;
use super::packet::{self, Layout};
use crate::netlink::ct::{self, CtView};
use crate::netlink::queue::{
    QueueConfig, Queued, Verdict, NFQA_SKB_GSO, NFQNL_MSG_PACKET, NF_ACCEPT, NF_DROP,
};
use crate::netlink::route::RouteSocket;
use crate::netlink::{messages, NfSocket, NlError, NFNL_SUBSYS_QUEUE};
use helpers::{
    ConnView, Dir, Env, ExpectError, Expectation, Helper, L4Proto, Packet, PrivData, Tuple,
};
use netlink_packet_core::{NetlinkPayload, NLM_F_CREATE, NLM_F_EXCL};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tracing::{debug, warn};

/// A helper as the workers use it.
pub struct Slot {
    pub helper: Box<dyn Helper>,
    /// Registered private-data length (HELP_INFO is exactly this long).
    pub priv_len: usize,
}

/// What all workers share.
pub struct Shared {
    pub stop: AtomicBool,
    pub metrics: Arc<Metrics>,
    pub helpers: HashMap<&'static str, Slot>,
    pub hold_bytes: usize,
    pub hold: Duration,
}

const TICK: Duration = Duration::from_millis(50);
/// Most segments held for one flow direction.
const HOLD_SEGMENTS: usize = 16;

struct Seg {
    id: u32,
    pkt: Vec<u8>,
    lay: Layout,
}

struct Hold {
    segs: Vec<Seg>,
    since: Instant,
    next_seq: u32,
    bytes: usize,
}

pub struct Worker {
    cfg: QueueConfig,
    sock: NfSocket,
    ctsock: Option<NfSocket>,
    shared: Arc<Shared>,
    holds: HashMap<(Tuple, Dir), Hold>,
    rng: u32,
    /// Route lookups for `sip_external_media`, opened on first use.
    route: Option<RouteSocket>,
}

/// Expectations the packet's verdict or a later ctnetlink request carries.
struct Plan {
    verdicts: Vec<Verdict>,
    /// (master orig tuple, family, zone, helper, expectation): created over
    /// ctnetlink after the verdict confirmed the master.
    deferred: Vec<(Tuple, u8, Option<u16>, &'static str, Expectation)>,
    /// ctnetlink requests for what the verdict created (an expectation's
    /// lifetime).
    after: Vec<(crate::netlink::NfMsg, u16)>,
}

impl Plan {
    fn one(v: Verdict) -> Self {
        Plan {
            verdicts: vec![v],
            deferred: Vec::new(),
            after: Vec::new(),
        }
    }
}

impl Worker {
    /// Opens the queue's socket and binds it (the glue check happens here:
    /// a kernel without NFQUEUE conntrack glue refuses F_CONNTRACK).
    pub fn bind(cfg: QueueConfig, shared: Arc<Shared>) -> Result<Worker, NlError> {
        let mut sock = NfSocket::open()?;
        sock.set_rcvbuf(8 << 20);
        let _ = sock.set_no_enobufs();
        sock.set_read_timeout(Some(Duration::from_secs(5)))?;
        sock.request(cfg.bind_msg(), 0)?;
        sock.set_read_timeout(Some(TICK))?;
        let seed = std::process::id()
            ^ (cfg.num as u32).rotate_left(16)
            ^ std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.subsec_nanos())
                .unwrap_or(1);
        Ok(Worker {
            cfg,
            sock,
            ctsock: None,
            shared,
            holds: HashMap::new(),
            rng: seed | 1,
            route: None,
        })
    }

    pub fn queue(&self) -> u16 {
        self.cfg.num
    }

    /// Serves until `stop`; then answers what is queued already, lets held
    /// packets go unchanged and closes the socket (which unbinds).
    pub fn run(mut self) -> std::io::Result<()> {
        while !self.shared.stop.load(Ordering::Relaxed) {
            match self.sock.recv() {
                Ok(Some(b)) => {
                    let b = b.to_vec();
                    self.datagram(&b);
                }
                Ok(None) => {}
                Err(e) if e.raw_os_error() == Some(libc::ENOBUFS) => {
                    // Only without NETLINK_NO_ENOBUFS: packets the socket
                    // could not take went on (F_FAIL_OPEN). Nothing to resync:
                    // every packet carries its whole state.
                    Metrics::inc(&self.shared.metrics.errors, &[("reason", "enobufs")]);
                }
                Err(e) => return Err(e),
            }
            self.expire(Instant::now());
        }
        while let Ok(Some(b)) = self.sock.try_recv() {
            let b = b.to_vec();
            self.datagram(&b);
        }
        let keys: Vec<_> = self.holds.keys().copied().collect();
        for k in keys {
            if let Some(h) = self.holds.remove(&k) {
                self.release(h, "shutdown");
            }
        }
        Ok(())
    }

    fn datagram(&mut self, buf: &[u8]) {
        for m in messages(buf) {
            match m.payload {
                NetlinkPayload::InnerMessage(nf)
                    if nf.subsys == NFNL_SUBSYS_QUEUE && nf.cmd == NFQNL_MSG_PACKET =>
                {
                    self.packet(&nf.attrs)
                }
                NetlinkPayload::Error(e) => {
                    if let Some(c) = e.code {
                        debug!(queue = self.cfg.num, "kernel error on queue socket: {}", c);
                        Metrics::inc(
                            &self.shared.metrics.errors,
                            &[("reason", "verdict_refused")],
                        );
                    }
                }
                _ => {}
            }
        }
    }

    fn packet(&mut self, attrs: &[u8]) {
        let q = match Queued::parse(attrs) {
            Ok(q) => q,
            Err(_) => {
                Metrics::inc(&self.shared.metrics.errors, &[("reason", "no_packet_id")]);
                debug!(queue = self.cfg.num, "queued message without packet id");
                return;
            }
        };
        let plan = self.decide(&q);
        for v in &plan.verdicts {
            self.send(v);
        }
        for (master, family, zone, helper, exp) in plan.deferred {
            let r = self.ctnetlink_expect(&master, family, zone, &exp);
            let result = match r {
                Ok(()) => "created",
                Err(_) => "refused",
            };
            Metrics::inc(
                &self.shared.metrics.expectations,
                &[
                    ("helper", helper),
                    ("path", "ctnetlink_deferred"),
                    ("result", result),
                ],
            );
        }
        for (m, flags) in plan.after {
            if let Err(e) = self.ct_request(m, flags) {
                debug!(queue = self.cfg.num, "after the verdict: {e}");
            }
        }
    }

    fn send(&mut self, v: &Verdict) {
        let m = &self.shared.metrics;
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
        Metrics::inc(&m.verdicts, &[("verdict", verdict), ("kind", kind)]);
        if let Err(e) = self.sock.send(v.msg(self.cfg.num), 0) {
            warn!(
                queue = self.cfg.num,
                id = v.id,
                "sending a verdict failed: {e}"
            );
            Metrics::inc(&m.errors, &[("reason", "verdict_send")]);
        }
    }

    fn fail(&self, id: u32, reason: &'static str, detail: &str) -> Plan {
        Metrics::inc(&self.shared.metrics.errors, &[("reason", reason)]);
        debug!(
            queue = self.cfg.num,
            id, reason, "accepted unchanged: {detail}"
        );
        Plan::one(Verdict::accept(id))
    }

    fn decide(&mut self, q: &Queued<'_>) -> Plan {
        let id = q.id;
        if let Some(cap) = q.cap_len {
            if cap as usize != q.payload.len() {
                return self.fail(id, "truncated_copy", "packet longer than the copy");
            }
        }
        if q.skb_info & NFQA_SKB_GSO != 0 {
            // Not with our flags (no F_GSO): the kernel segments first.
            return self.fail(id, "gso", "unsegmented GSO packet");
        }
        let Some(ct) = &q.ct else {
            return self.fail(
                id,
                "no_conntrack",
                "no NFQA_CT (queue without F_CONNTRACK?)",
            );
        };
        let Some(name) = ct.helper.as_deref() else {
            return self.fail(id, "no_helper", "conntrack without CTA_HELP");
        };
        let shared = self.shared.clone();
        let Some((&hname, slot)) = shared.helpers.get_key_value(name) else {
            return self.fail(id, "unknown_helper", name);
        };
        let Some(ctinfo) = q.ctinfo else {
            return self.fail(id, "no_ctinfo", "no NFQA_CT_INFO");
        };
        let lay = match packet::parse(q.payload) {
            Ok(l) => l,
            Err(e) => return self.fail(id, e.reason(), "unusable L3/L4 headers"),
        };
        Metrics::inc(&shared.metrics.packets, &[("helper", hname)]);
        let dir = ct::dir_of(ctinfo);
        let key = (ct.orig, dir);
        let cur_payload = lay.payload(q.payload);
        if cur_payload.is_empty() {
            return Plan::one(Verdict::accept(id));
        }

        // A held earlier part of the same message?
        let mut segs = Vec::new();
        let mut since = Instant::now();
        let mut held_verdicts = Vec::new();
        if let Some(h) = self.holds.remove(&key) {
            if lay.tcp_seq == Some(h.next_seq) {
                since = h.since;
                segs = h.segs;
            } else if is_retransmission(&h, lay.tcp_seq, cur_payload.len()) {
                // The sender's retransmission timer fired while we hold the
                // original (it was never ACKed): the held copy goes out when
                // the message is whole, this one would only duplicate it —
                // unedited — at the receiver.
                self.holds.insert(key, h);
                Metrics::inc(
                    &shared.metrics.events,
                    &[("helper", hname), ("reason", "hold_retransmission")],
                );
                debug!(helper = hname, "retransmission of held data dropped");
                return Plan::one(Verdict {
                    id,
                    verdict: NF_DROP,
                    ..Default::default()
                });
            } else {
                held_verdicts = self.release_verdicts(h, "hold_out_of_order");
            }
        }
        segs.push(Seg {
            id,
            pkt: q.payload.to_vec(),
            lay,
        });
        let lens: Vec<usize> = segs.iter().map(|s| s.lay.payload(&s.pkt).len()).collect();
        let combined: Vec<u8> = segs
            .iter()
            .flat_map(|s| s.lay.payload(&s.pkt).iter().copied())
            .collect();
        let tcp_seq = segs.first().and_then(|s| s.lay.tcp_seq);
        let state = PrivData::from_bytes(&ct.help_info);
        let pkt = Packet {
            conn: ConnView {
                orig: ct.orig,
                reply: ct.reply,
            },
            dir,
            payload: &combined,
            tcp_seq,
            state,
        };
        let ctsock = match self.ctsock.take() {
            Some(s) => Some(s),
            None => NfSocket::open().ok().inspect(|s| {
                let _ = s.set_read_timeout(Some(Duration::from_secs(1)));
            }),
        };
        let mut env = KernelEnv {
            ct,
            helper: hname,
            sock: ctsock,
            first: None,
            first_raw: None,
            deferred: Vec::new(),
            after: Vec::new(),
            rng: &mut self.rng,
            metrics: &shared.metrics,
            outdev: q.outdev,
            route: &mut self.route,
        };
        let out = slot.helper.handle(&pkt, &mut env);
        let KernelEnv {
            sock,
            first,
            first_raw,
            deferred,
            after,
            ..
        } = env;
        self.ctsock = sock;
        for e in &out.events {
            Metrics::inc(
                &shared.metrics.events,
                &[("helper", hname), ("reason", e.reason)],
            );
            debug!(helper = hname, reason = e.reason, "{}", e.detail);
        }
        let mut plan = Plan {
            verdicts: held_verdicts,
            deferred: Vec::new(),
            after,
        };

        if out.drop {
            let last = segs.len() - 1;
            for (i, s) in segs.iter().enumerate() {
                plan.verdicts.push(Verdict {
                    id: s.id,
                    verdict: if i == last { NF_DROP } else { NF_ACCEPT },
                    ..Default::default()
                });
            }
            return plan;
        }

        let bytes: usize = combined.len();
        if out.need_more
            && lay.proto == L4Proto::Tcp
            && out.edits.is_empty()
            && out.state.is_none()
            && first.is_none()
            && first_raw.is_none()
            && deferred.is_empty()
        {
            if bytes <= shared.hold_bytes && segs.len() < HOLD_SEGMENTS {
                let next_seq = lay
                    .tcp_seq
                    .unwrap_or(0)
                    .wrapping_add(cur_payload.len() as u32);
                self.holds.insert(
                    key,
                    Hold {
                        segs,
                        since,
                        next_seq,
                        bytes,
                    },
                );
                return plan;
            }
            Metrics::inc(
                &shared.metrics.events,
                &[("helper", hname), ("reason", "hold_budget")],
            );
            debug!(
                helper = hname,
                "message larger than hold_bytes: let through"
            );
        }

        // Edits.
        let mut new_payloads: Option<Vec<Vec<u8>>> = None;
        let mut delta: i64 = 0;
        if !out.edits.is_empty() {
            match helpers::edit::apply(&combined, &out.edits) {
                Err(e) => {
                    Metrics::inc(&shared.metrics.errors, &[("reason", "bad_edit")]);
                    debug!(helper = hname, "helper edit refused: {e:?}");
                }
                Ok(edited) => {
                    delta = edited.len() as i64 - combined.len() as i64;
                    let tcp_resize = delta != 0 && lay.proto == L4Proto::Tcp;
                    if tcp_resize && !ct.natted() {
                        Metrics::inc(
                            &shared.metrics.events,
                            &[("helper", hname), ("reason", "resize_without_nat")],
                        );
                        debug!(
                            helper = hname,
                            "size-changing edit on a conntrack without NAT: nothing would adjust sequence numbers; packet unchanged"
                        );
                    } else if tcp_resize && !ct.confirmed() && lay.v6 {
                        // The glue's seqadj is wrong for IPv6 and ctnetlink
                        // cannot reach an unconfirmed conntrack.
                        Metrics::inc(
                            &shared.metrics.events,
                            &[("helper", hname), ("reason", "resize_ipv6_unconfirmed")],
                        );
                    } else {
                        match helpers::edit::resegment(&edited, &lens) {
                            Some(p) => new_payloads = Some(p),
                            None => {
                                Metrics::inc(&shared.metrics.errors, &[("reason", "resegment")]);
                            }
                        }
                    }
                }
            }
        }

        let priv_len = slot.priv_len.min(helpers::PRIV_DATA_MAX);
        let new_state = out.state.unwrap_or(state);
        let info = &new_state.as_bytes()[..priv_len];
        // A TCP size change on a confirmed conntrack: write the sequence
        // adjustment (and the private data) over ctnetlink before the
        // verdict, and leave NFQA_CT out of the verdict so the glue does
        // not record a second, misplaced one (see ct::ct_update).
        let mut state_written = false;
        if new_payloads.is_some() && delta != 0 && lay.proto == L4Proto::Tcp && ct.confirmed() {
            let seq = segs.last().and_then(|s| s.lay.tcp_seq).unwrap_or(0);
            let adj = ct.seqadj[dir.index()]
                .unwrap_or_default()
                .after_resize(seq, delta as i32)
                .map(|a| (dir, a));
            let msg = ct::ct_update(
                &ct.orig,
                ct.family(),
                ct.zone,
                adj,
                hname,
                info,
                out.ct_timeout,
            );
            match self.ct_request(msg, 0) {
                Ok(()) => state_written = true,
                Err(e) => {
                    Metrics::inc(&shared.metrics.errors, &[("reason", "seqadj_update")]);
                    debug!(
                        helper = hname,
                        "sequence adjustment refused ({e}): packet unchanged"
                    );
                    new_payloads = None;
                }
            }
        }
        let need_ct = !state_written
            && (new_payloads.is_some()
                || first.is_some()
                || first_raw.is_some()
                || out.state.is_some()
                || out.ct_timeout.is_some());
        let ct_attr = need_ct.then(|| ct::verdict_ct(hname, info, out.ct_timeout).into_bytes());
        // The kernel reads NFQA_EXP only with NFQA_CT. Without it (the state
        // went over ctnetlink with a sequence adjustment) the expectation is
        // created over ctnetlink after the verdict instead.
        let mut deferred = deferred;
        let (first, first_raw) = if state_written {
            if let Some(e) = first {
                deferred.insert(0, e);
            }
            if let Some((_, fallback)) = first_raw {
                plan.after.insert(0, (fallback, NLM_F_CREATE | NLM_F_EXCL));
            }
            (None, None)
        } else {
            (first, first_raw.map(|(raw, _)| raw))
        };
        let exp_attr = first
            .as_ref()
            .map(|e| {
                let mut w = crate::netlink::AttrWriter::new();
                ct::put_expectation(&mut w, e);
                w.into_bytes()
            })
            .or(first_raw);
        if exp_attr.is_some() {
            Metrics::inc(
                &shared.metrics.expectations,
                &[("helper", hname), ("path", "nfqa_exp"), ("result", "sent")],
            );
        }
        let last = segs.len() - 1;
        let mut edited_any = false;
        for (i, s) in segs.iter().enumerate() {
            let mut v = Verdict::accept(s.id);
            if let Some(p) = new_payloads.as_ref().and_then(|n| n.get(i)) {
                if p.as_slice() != s.lay.payload(&s.pkt) {
                    match packet::rebuild(&s.pkt, &s.lay, p) {
                        Some(np) => {
                            v.payload = Some(np);
                            edited_any = true;
                        }
                        None => {
                            Metrics::inc(&shared.metrics.errors, &[("reason", "rebuild")]);
                        }
                    }
                }
            }
            if i == last {
                v.ct = ct_attr.clone();
                v.exp = exp_attr.clone();
            }
            plan.verdicts.push(v);
        }
        if edited_any {
            Metrics::inc(&shared.metrics.edits, &[("helper", hname)]);
        }
        let zone = ct.zone;
        plan.deferred = deferred
            .into_iter()
            .map(|e| (ct.orig, ct.family(), zone, hname, e))
            .collect();
        plan
    }

    fn release_verdicts(&self, h: Hold, reason: &'static str) -> Vec<Verdict> {
        Metrics::inc(&self.shared.metrics.errors, &[("reason", reason)]);
        debug!(
            queue = self.cfg.num,
            segments = h.segs.len(),
            bytes = h.bytes,
            "held segments let through unchanged ({reason})"
        );
        h.segs.iter().map(|s| Verdict::accept(s.id)).collect()
    }

    fn release(&mut self, h: Hold, reason: &'static str) {
        for v in self.release_verdicts(h, reason) {
            self.send(&v);
        }
    }

    fn expire(&mut self, now: Instant) {
        let hold = self.shared.hold;
        let old: Vec<_> = self
            .holds
            .iter()
            .filter(|(_, h)| now.duration_since(h.since) >= hold)
            .map(|(k, _)| *k)
            .collect();
        for k in old {
            if let Some(h) = self.holds.remove(&k) {
                self.release(h, "hold_timeout");
            }
        }
    }

    fn ct_request(&mut self, msg: crate::netlink::NfMsg, flags: u16) -> Result<(), NlError> {
        if self.ctsock.is_none() {
            let s = NfSocket::open()?;
            s.set_read_timeout(Some(Duration::from_secs(1)))?;
            self.ctsock = Some(s);
        }
        match self.ctsock.as_mut() {
            Some(s) => s.request(msg, flags),
            None => Err(NlError::Protocol("no ctnetlink socket".into())),
        }
    }

    fn ctnetlink_expect(
        &mut self,
        master: &Tuple,
        family: u8,
        zone: Option<u16>,
        exp: &Expectation,
    ) -> Result<(), ExpectError> {
        if self.ctsock.is_none() {
            self.ctsock = NfSocket::open().ok();
        }
        let Some(s) = self.ctsock.as_mut() else {
            return Err(ExpectError::Refused);
        };
        exp_new(s, master, family, zone, exp)
    }
}

/// Whether a segment at `seq` with `len` payload bytes lies inside what
/// `h` holds (a retransmission of held data).
fn is_retransmission(h: &Hold, seq: Option<u32>, len: usize) -> bool {
    let (Some(seq), Some(first)) = (seq, h.segs.first().and_then(|s| s.lay.tcp_seq)) else {
        return false;
    };
    let held = h.next_seq.wrapping_sub(first);
    let off = seq.wrapping_sub(first);
    len > 0 && off < held && (len as u32) <= held - off
}

fn exp_new(
    s: &mut NfSocket,
    master: &Tuple,
    family: u8,
    zone: Option<u16>,
    exp: &Expectation,
) -> Result<(), ExpectError> {
    let m = ct::exp_new(master, exp, family, zone);
    match s.request(m, NLM_F_CREATE | NLM_F_EXCL) {
        Ok(()) => Ok(()),
        Err(e) => {
            debug!("IPCTNL_MSG_EXP_NEW refused: {e}");
            match e.errno() {
                Some(libc::EEXIST) if same_master(s, master, family, zone, exp) => {
                    // Our own expectation of this tuple: a retransmitted
                    // command. nf_ct_expect_related() refreshes it and says
                    // yes, so the retransmission carries the same port.
                    Ok(())
                }
                Some(libc::EBUSY) | Some(libc::EEXIST) | Some(libc::EALREADY) => {
                    Err(ExpectError::Clash)
                }
                Some(libc::EMFILE) | Some(libc::ENOSPC) => Err(ExpectError::Full),
                _ => Err(ExpectError::Refused),
            }
        }
    }
}

/// Whether the expectation with `exp`'s tuple belongs to `master`.
fn same_master(
    s: &mut NfSocket,
    master: &Tuple,
    family: u8,
    zone: Option<u16>,
    exp: &Expectation,
) -> bool {
    match s.query(ct::exp_get(exp, family, zone), 0) {
        Ok(answers) => answers
            .iter()
            .any(|m| ct::exp_master(m.attrs()).as_ref() == Some(master)),
        Err(e) => {
            debug!("IPCTNL_MSG_EXP_GET: {e}");
            false
        }
    }
}

/// [`Env`] over the kernel's expectation table.
///
/// Confirmed master: the expectation is created at once over ctnetlink
/// (IPCTNL_MSG_EXP_NEW, NLM_F_CREATE|NLM_F_EXCL), so a clash comes back as
/// EBUSY/EEXIST → [`ExpectError::Clash`] and the helper can try another
/// port. Unconfirmed master (first packet): ctnetlink cannot find it yet, so
/// the first expectation rides in the verdict (NFQA_EXP) and any further ones
/// are created over ctnetlink right after the verdict confirmed the master.
struct KernelEnv<'a> {
    ct: &'a CtView,
    helper: &'static str,
    sock: Option<NfSocket>,
    first: Option<Expectation>,
    /// An NFQA_EXP made of listed attributes (a re-created expectation), when
    /// `first` is free.
    /// (NFQA_EXP body, the IPCTNL_MSG_EXP_NEW that creates it instead when
    /// the verdict cannot carry it).
    first_raw: Option<(Vec<u8>, crate::netlink::NfMsg)>,
    deferred: Vec<Expectation>,
    /// ctnetlink requests to send after the verdict.
    after: Vec<(crate::netlink::NfMsg, u16)>,
    rng: &'a mut u32,
    metrics: &'a Metrics,
    /// NFQA_IFINDEX_OUTDEV of the packet.
    outdev: Option<u32>,
    route: &'a mut Option<RouteSocket>,
}

impl KernelEnv<'_> {
    /// The expectations ctnetlink lists for this packet's master.
    fn listed(&mut self) -> Vec<ct::ListedExp> {
        let Some(s) = self.sock.as_mut() else {
            return Vec::new();
        };
        match s.dump(ct::exp_dump_of(
            &self.ct.orig,
            self.ct.family(),
            self.ct.zone,
        )) {
            Ok(l) => l.iter().filter_map(|m| ct::exp_listed(m.attrs())).collect(),
            Err(e) => {
                debug!(
                    helper = self.helper,
                    "listing the master's expectations: {e}"
                );
                Vec::new()
            }
        }
    }
}

impl Env for KernelEnv<'_> {
    fn expect_related(&mut self, exp: &Expectation) -> Result<(), ExpectError> {
        if !self.ct.confirmed() {
            if self.first.is_none() {
                self.first = Some(exp.clone());
            } else {
                self.deferred.push(exp.clone());
            }
            return Ok(());
        }
        let Some(s) = self.sock.as_mut() else {
            Metrics::inc(&self.metrics.errors, &[("reason", "ctnetlink_socket")]);
            return Err(ExpectError::Refused);
        };
        let (family, zone) = (self.ct.family(), self.ct.zone);
        let r = exp_new(s, &self.ct.orig, family, zone, exp);
        if r.is_ok() && exp.helper.is_some() && self.first.is_none() && self.first_raw.is_none() {
            // Kernels with the 2026 expectation fixes (Debian 6.1.187+) give
            // the expected connection the named helper only for NFQA_EXP, not
            // for IPCTNL_MSG_EXP_NEW. Created over ctnetlink first so a clash
            // is seen (the NAT port search), then moved into the verdict.
            let del = ct::exp_delete(&ct::exp_tuple_bytes(exp), family, zone);
            match s.request(del, 0) {
                Ok(()) => self.first = Some(exp.clone()),
                Err(e) => debug!(
                    helper = self.helper,
                    "moving a helper expectation into the verdict: {e}"
                ),
            }
        }
        let result = match r {
            Ok(()) => "created",
            Err(ExpectError::Clash) => "clash",
            Err(ExpectError::Full) => "full",
            Err(ExpectError::Refused) => "refused",
        };
        Metrics::inc(
            &self.metrics.expectations,
            &[
                ("helper", self.helper),
                ("path", "ctnetlink"),
                ("result", result),
            ],
        );
        r
    }

    fn unexpect_related(&mut self, exp: &Expectation) {
        if self.first.as_ref() == Some(exp) {
            self.first = (!self.deferred.is_empty()).then(|| self.deferred.remove(0));
            return;
        }
        if let Some(i) = self.deferred.iter().position(|e| e == exp) {
            self.deferred.remove(i);
            return;
        }
        if !self.ct.confirmed() {
            return;
        }
        if let Some(s) = self.sock.as_mut() {
            let m = ct::exp_delete(&ct::exp_tuple_bytes(exp), self.ct.family(), self.ct.zone);
            if let Err(e) = s.request(m, 0) {
                debug!(helper = self.helper, "IPCTNL_MSG_EXP_DELETE: {e}");
            }
        }
    }

    fn remove_expectations(&mut self, classes: &[u8]) -> usize {
        let mut n = 0;
        if self
            .first
            .as_ref()
            .is_some_and(|e| classes.contains(&e.class))
        {
            self.first = None;
            n += 1;
        }
        let before = self.deferred.len();
        self.deferred.retain(|e| !classes.contains(&e.class));
        n += before - self.deferred.len();
        if self.first.is_none() && !self.deferred.is_empty() {
            self.first = Some(self.deferred.remove(0));
        }
        if !self.ct.confirmed() {
            return n;
        }
        let (family, zone) = (self.ct.family(), self.ct.zone);
        for e in self.listed() {
            let Some(s) = self.sock.as_mut() else {
                break;
            };
            if u8::try_from(e.class).is_ok_and(|c| classes.contains(&c))
                && s.request(ct::exp_delete(&e.tuple_bytes(), family, zone), 0)
                    .is_ok()
            {
                n += 1;
            }
        }
        n
    }

    /// ctnetlink cannot clear the INACTIVE flag of a live expectation: an
    /// inactive one is deleted and re-created from its listed attributes
    /// without the flag; then its lifetime is set (EXP_NEW without
    /// NLM_F_CREATE changes CTA_EXPECT_TIMEOUT).
    fn refresh_expectation(
        &mut self,
        class: u8,
        proto: L4Proto,
        dst: std::net::IpAddr,
        dport: u16,
        timeout: u32,
    ) -> bool {
        if !self.ct.confirmed() {
            // Created by this very packet (NFQA_EXP or deferred): it is in
            // the plan, still to be sent; make it active there.
            let clear = |e: &mut Expectation| {
                if e.class == class && e.proto == proto && e.dst == dst && e.dport == dport {
                    e.flags = helpers::ExpectFlags(e.flags.0 & !helpers::ExpectFlags::INACTIVE.0);
                    true
                } else {
                    false
                }
            };
            let mut found = self.first.as_mut().is_some_and(clear);
            for e in &mut self.deferred {
                found |= clear(e);
            }
            return found;
        }
        let (family, zone) = (self.ct.family(), self.ct.zone);
        let Some(e) = self.listed().into_iter().find(|e| {
            e.class == u32::from(class)
                && e.tuple.proto == proto
                && e.tuple.dst == dst
                && e.tuple.dport == dport
        }) else {
            return false;
        };
        let Some(s) = self.sock.as_mut() else {
            return false;
        };
        let tuple = e.tuple_bytes();
        const USERSPACE: u32 = 0x4;
        let set_timeout = ct::exp_set_timeout(&self.ct.orig, &e, family, zone, timeout);
        if e.flags & helpers::ExpectFlags::INACTIVE.0 != 0 {
            let flags = e.flags & !(helpers::ExpectFlags::INACTIVE.0 | USERSPACE);
            let del = s.request(ct::exp_delete(&tuple, family, zone), 0);
            // Re-created in this packet's verdict (NFQA_EXP) when it has room:
            // only that path keeps the helper the expected connection gets
            // (see ct::exp_recreate_nfqa); its lifetime is set after the verdict.
            if del.is_ok() && self.first.is_none() && self.first_raw.is_none() {
                self.first_raw = Some((
                    ct::exp_recreate_nfqa(&e, flags),
                    ct::exp_recreate(&self.ct.orig, &e, flags, family),
                ));
                self.after.push((set_timeout, 0));
                return true;
            }
            let new = del.and_then(|()| {
                s.request(
                    ct::exp_recreate(&self.ct.orig, &e, flags, family),
                    NLM_F_CREATE | NLM_F_EXCL,
                )
            });
            if let Err(err) = new {
                debug!(
                    helper = self.helper,
                    "re-creating an active expectation: {err}"
                );
                Metrics::inc(&self.metrics.errors, &[("reason", "expect_refresh")]);
                return false;
            }
        }
        if let Err(err) = s.request(set_timeout, 0) {
            debug!(
                helper = self.helper,
                "setting an expectation's timeout: {err}"
            );
        }
        true
    }

    /// `sip_external_media`: the kernel compares the device of the route to
    /// the media address with the device the SIP packet leaves through.
    fn same_route_as_packet(&mut self, addr: std::net::IpAddr) -> Option<bool> {
        let out = self.outdev?;
        if self.route.is_none() {
            *self.route = RouteSocket::open().ok();
        }
        let oif = self.route.as_mut()?.oif(addr)?;
        Some(oif == out)
    }

    fn random_u32(&mut self) -> u32 {
        // xorshift32: NAT port search only needs spread, not secrecy.
        let mut x = *self.rng;
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        *self.rng = x;
        x
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hold(first: u32, lens: &[u32]) -> Hold {
        let mut seq = first;
        let segs = lens
            .iter()
            .enumerate()
            .map(|(i, &l)| {
                let s = Seg {
                    id: i as u32,
                    pkt: Vec::new(),
                    lay: Layout {
                        v6: false,
                        l3_len: 20,
                        proto: L4Proto::Tcp,
                        payload_off: 40,
                        end: 40 + l as usize,
                        tcp_seq: Some(seq),
                    },
                };
                seq = seq.wrapping_add(l);
                s
            })
            .collect();
        Hold {
            segs,
            since: Instant::now(),
            next_seq: seq,
            bytes: lens.iter().sum::<u32>() as usize,
        }
    }

    #[test]
    fn retransmission_of_held_data() {
        let h = hold(1000, &[100, 50]);
        assert!(is_retransmission(&h, Some(1000), 100));
        assert!(is_retransmission(&h, Some(1000), 150));
        assert!(is_retransmission(&h, Some(1100), 50));
        // Reaches past what is held, starts before it, empty, next segment.
        assert!(!is_retransmission(&h, Some(1100), 51));
        assert!(!is_retransmission(&h, Some(999), 10));
        assert!(!is_retransmission(&h, Some(1000), 0));
        assert!(!is_retransmission(&h, Some(1150), 10));
        assert!(!is_retransmission(&h, None, 10));
        // Across the sequence-number wrap.
        let h = hold(u32::MAX - 9, &[20]);
        assert!(is_retransmission(&h, Some(u32::MAX - 9), 20));
        assert!(is_retransmission(&h, Some(5), 5));
        assert!(!is_retransmission(&h, Some(5), 6));
    }
}
