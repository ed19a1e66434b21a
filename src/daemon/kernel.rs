//! The kernel side of one NFQUEUE worker: the ctnetlink link it owns, the
//! expectation table a helper sees for one queued packet ([`KernelTable`]),
//! and the verdict messages a [`Plan`] becomes ([`KernelTable::finish`]).
//!
//! Confirmed master: an expectation is created at once over ctnetlink
//! (IPCTNL_MSG_EXP_NEW, NLM_F_CREATE|NLM_F_EXCL), so a clash comes back as
//! EBUSY/EEXIST → [`ExpectError::Clash`] and the helper can try another
//! port. Unconfirmed master (first packet): ctnetlink cannot find it yet, so
//! the first expectation rides in the verdict (NFQA_EXP) and any further
//! ones are created over ctnetlink right after the verdict confirmed the
//! master. See docs/kernel-path.md.

use super::metrics::Metrics;
use crate::flow::{Conntrack, Plan};
use crate::netlink::ct::{self, ListedExp};
use crate::netlink::queue::{Verdict, NF_ACCEPT, NF_DROP};
use crate::netlink::route::{self, RouteSocket};
use crate::netlink::{AttrWriter, NfMsg, NfSocket, NlError, AF_INET, AF_INET6};
use helpers::{Env, Event, ExpectChange, ExpectError, ExpectFlags, Expectation, L4Proto, Reason};
use netlink_packet_core::{NLM_F_CREATE, NLM_F_EXCL};
use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;
use tracing::debug;

/// How long one ctnetlink request may wait for the kernel's answer.
pub const CTNL_TIMEOUT: Duration = Duration::from_millis(200);
/// How often a request that got no answer is sent again.
pub const CTNL_RETRIES: u32 = 1;
/// The ctnetlink link's receive buffer: its answers are ACKs, one
/// expectation or a short dump per datagram (see
/// [`NfSocket::open_with_buffer`]).
pub const CTNL_RECV_BUFFER: usize = 8192;
/// How long the requests of one queued packet may wait in all: past it
/// they fail at once (the helper fails open), so a kernel that stops
/// answering holds the queue for at most this long per packet.
pub const CTNL_PACKET_BUDGET: Duration = Duration::from_millis(500);

/// The requests a worker makes besides verdicts: ctnetlink (expectations,
/// conntrack updates) and the route question of `sip_external_media`. A
/// trait so that a test can stand in for the kernel.
pub trait Link {
    /// A new queued packet: the per-packet budget starts again.
    fn packet_start(&mut self) {}
    fn request(&mut self, msg: NfMsg, flags: u16) -> Result<(), NlError>;
    fn query(&mut self, msg: NfMsg, flags: u16) -> Result<Vec<NfMsg>, NlError>;
    fn dump(&mut self, msg: NfMsg) -> Result<Vec<NfMsg>, NlError>;
    fn route_oif(&mut self, addr: IpAddr) -> Option<u32>;
    /// The prefix length of the first primary address of interface `oif`
    /// whose broadcast address is `broadcast` (rtnetlink RTM_GETADDR).
    fn broadcast_prefix(&mut self, oif: u32, broadcast: Ipv4Addr) -> Option<u8>;
}

/// The kernel's netlink, owned by one worker: the ctnetlink socket is opened
/// at start; every request has a timeout ([`CTNL_TIMEOUT`]) and a bounded
/// retry ([`CTNL_RETRIES`]), so a stuck kernel answer cannot stall the
/// queue for longer than that.
pub struct KernelLink {
    sock: NfSocket,
    route: Option<RouteSocket>,
    /// When the current packet's budget is spent; `None` until the
    /// packet's first request (most packets make none, and reading the
    /// clock is a system call on a VM whose clocksource is not the TSC).
    until: Option<std::time::Instant>,
}

impl KernelLink {
    pub fn open() -> std::io::Result<Self> {
        let sock = NfSocket::open_with_buffer(CTNL_RECV_BUFFER)?;
        sock.set_read_timeout(Some(CTNL_TIMEOUT))?;
        Ok(KernelLink {
            sock,
            route: RouteSocket::open().ok(),
            until: None,
        })
    }

    fn retry<R>(
        &mut self,
        mut f: impl FnMut(&mut NfSocket) -> Result<R, NlError>,
    ) -> Result<R, NlError> {
        let mut left = CTNL_RETRIES;
        let until = *self
            .until
            .get_or_insert_with(|| std::time::Instant::now() + CTNL_PACKET_BUDGET);
        loop {
            if std::time::Instant::now() >= until {
                return Err(NlError::Protocol(
                    "the kernel did not answer within this packet's budget".into(),
                ));
            }
            match f(&mut self.sock) {
                Err(NlError::Protocol(why)) if left > 0 => {
                    debug!("ctnetlink: {why}; asking again");
                    left -= 1;
                }
                r => return r,
            }
        }
    }
}

impl Link for KernelLink {
    fn packet_start(&mut self) {
        // The budget starts with the packet's first request (retry()).
        self.until = None;
    }
    fn request(&mut self, msg: NfMsg, flags: u16) -> Result<(), NlError> {
        self.retry(|s| s.request(msg.clone(), flags))
    }
    fn query(&mut self, msg: NfMsg, flags: u16) -> Result<Vec<NfMsg>, NlError> {
        self.retry(|s| s.query(msg.clone(), flags))
    }
    fn dump(&mut self, msg: NfMsg) -> Result<Vec<NfMsg>, NlError> {
        self.retry(|s| s.dump(msg.clone()))
    }
    fn route_oif(&mut self, addr: IpAddr) -> Option<u32> {
        self.route.as_mut()?.oif(addr)
    }
    fn broadcast_prefix(&mut self, oif: u32, broadcast: Ipv4Addr) -> Option<u8> {
        let addrs = self.route.as_mut()?.addrs()?;
        route::broadcast_prefix(&addrs, oif, broadcast)
    }
}

fn family(c: &Conntrack) -> u8 {
    if c.conn.is_ipv6() {
        AF_INET6
    } else {
        AF_INET
    }
}

/// The zone as ctnetlink requests carry it (none for the default zone).
fn zone(c: &Conntrack) -> Option<u16> {
    (c.zone != 0).then_some(c.zone)
}

/// What rides in a verdict or goes over ctnetlink after it.
#[derive(Default)]
struct Pending {
    /// The expectation the verdict carries (NFQA_EXP).
    first: Option<Expectation>,
    /// An NFQA_EXP made of listed attributes (a re-created expectation),
    /// when `first` is free, with the IPCTNL_MSG_EXP_NEW that creates it
    /// instead when the verdict cannot carry it.
    first_raw: Option<(Vec<u8>, NfMsg)>,
    /// Created over ctnetlink after the verdict confirmed the master.
    deferred: Vec<Expectation>,
    /// ctnetlink requests to send after the verdict.
    after: Vec<(NfMsg, u16)>,
}

/// What the worker sends for one plan, in this order.
pub struct Outgoing {
    pub verdicts: Vec<Verdict>,
    /// Sent after the verdicts: expectations of an unconfirmed master, and
    /// changes of what the verdict created.
    pub after: Vec<(NfMsg, u16)>,
}

/// What a packet's table leaves for its verdict: [`KernelTable::into_parts`],
/// or the default for a release of held segments (no new expectation).
#[derive(Default)]
pub struct Parts {
    pending: Pending,
    pub events: Vec<Event>,
}

/// The kernel's expectation table as one queued packet's helper sees it.
pub struct KernelTable<'a> {
    pub ct: &'a Conntrack,
    pub helper: &'static str,
    pub link: &'a mut dyn Link,
    pub rng: &'a mut crate::flow::Rng,
    pub metrics: &'a Metrics,
    /// The packet was sent by this host (it came in by no interface:
    /// no NFQA_IFINDEX_INDEV). `nf_conntrack_broadcast_help()` looks only
    /// at those (`skb->sk` set, in the conntrack's namespace).
    pub local: bool,
    pending: Pending,
    events: Vec<Event>,
}

impl<'a> KernelTable<'a> {
    pub fn new(
        ct: &'a Conntrack,
        helper: &'static str,
        link: &'a mut dyn Link,
        rng: &'a mut crate::flow::Rng,
        metrics: &'a Metrics,
    ) -> Self {
        KernelTable {
            ct,
            helper,
            link,
            rng,
            metrics,
            local: false,
            pending: Pending::default(),
            events: Vec::new(),
        }
    }

    fn family(&self) -> u8 {
        family(self.ct)
    }
    fn zone(&self) -> Option<u16> {
        zone(self.ct)
    }
    fn confirmed(&self) -> bool {
        self.ct.status.confirmed()
    }
    fn orig(&self) -> &helpers::Tuple {
        &self.ct.conn.orig
    }

    /// What the verdict must carry (the call is over).
    pub fn into_parts(self) -> Parts {
        Parts {
            pending: self.pending,
            events: self.events,
        }
    }

    /// The expectations ctnetlink lists for this packet's master.
    fn listed(&mut self) -> Vec<(ListedExp, Option<Expectation>)> {
        let m = ct::exp_dump_of(self.orig(), self.family(), self.zone());
        match self.link.dump(m) {
            Ok(l) => l
                .iter()
                .filter_map(|m| Some((ct::exp_listed(m.attrs())?, ct::exp_parse(m.attrs()))))
                .collect(),
            Err(e) => {
                debug!(
                    helper = self.helper,
                    "listing the master's expectations: {e}"
                );
                self.events.push(Event::new(
                    Reason::Ctnetlink,
                    format!("listing the connection's expectations: {e}"),
                ));
                Vec::new()
            }
        }
    }

    fn count(&self, path: &'static str, result: &'static str) {
        Metrics::inc(
            &self.metrics.expectations,
            &[("helper", self.helper), ("path", path), ("result", result)],
        );
    }

    fn exp_new(&mut self, exp: &Expectation) -> Result<(), ExpectError> {
        let (family, zone) = (self.family(), self.zone());
        let m = ct::exp_new(self.orig(), exp, family, zone);
        match self.link.request(m, NLM_F_CREATE | NLM_F_EXCL) {
            Ok(()) => Ok(()),
            Err(e) => {
                debug!("IPCTNL_MSG_EXP_NEW refused: {e}");
                match e.errno() {
                    Some(libc::EEXIST) if self.same_master(exp) => {
                        // Our own expectation of this tuple: a retransmitted
                        // command. nf_ct_expect_related() refreshes it and says
                        // yes, so the retransmission carries the same port.
                        Ok(())
                    }
                    Some(libc::EBUSY) | Some(libc::EEXIST) | Some(libc::EALREADY) => {
                        Err(ExpectError::Clash)
                    }
                    Some(libc::EMFILE) | Some(libc::ENOSPC) => Err(ExpectError::Full),
                    None => {
                        self.events.push(Event::new(
                            Reason::Ctnetlink,
                            format!("creating an expectation: {e}"),
                        ));
                        Err(ExpectError::Refused)
                    }
                    _ => Err(ExpectError::Refused),
                }
            }
        }
    }

    /// Whether the expectation with `exp`'s tuple belongs to this master.
    fn same_master(&mut self, exp: &Expectation) -> bool {
        let m = ct::exp_get(exp, self.family(), self.zone());
        match self.link.query(m, 0) {
            Ok(answers) => answers
                .iter()
                .any(|m| ct::exp_master(m.attrs()).as_ref() == Some(self.orig())),
            Err(e) => {
                debug!("IPCTNL_MSG_EXP_GET: {e}");
                false
            }
        }
    }

    /// The plan of this packet is held: its verdict comes later, so what
    /// would ride in it goes over ctnetlink now (the master is confirmed —
    /// only TCP holds).
    pub fn flush_now(mut self) -> Parts {
        let mut p = std::mem::take(&mut self.pending);
        if let Some(e) = p.first.take() {
            p.deferred.insert(0, e);
        }
        if let Some((_, m)) = p.first_raw.take() {
            p.after.insert(0, (m, NLM_F_CREATE | NLM_F_EXCL));
        }
        for e in p.deferred {
            let _ = self.exp_new(&e);
        }
        for (m, f) in p.after {
            if let Err(e) = self.link.request(m, f) {
                debug!(helper = self.helper, "held packet's request: {e}");
            }
        }
        Parts {
            pending: Pending::default(),
            events: self.events,
        }
    }
}

/// The verdict messages for `plan` with what its table left (`parts`; the
/// default for a release of held segments), and what goes over ctnetlink
/// after them.
pub fn finish<T: Copy + Into<u32>>(
    parts: Parts,
    plan: &Plan<T>,
    helper: &'static str,
    priv_len: usize,
    link: &mut dyn Link,
    metrics: &Metrics,
) -> (Outgoing, Vec<Event>) {
    let Parts {
        mut pending,
        mut events,
    } = parts;
    let ct = &plan.ct;
    let (family, zone, orig) = (family(ct), zone(ct), &ct.conn.orig);
    let state = plan.state.unwrap_or(plan.ct.state);
    let info = state.as_bytes().get(..priv_len).unwrap_or_default();
    let mut verdicts: Vec<Verdict> = plan
        .verdicts
        .iter()
        .map(|v| Verdict {
            id: v.tag.into(),
            verdict: if v.accept { NF_ACCEPT } else { NF_DROP },
            payload: v.packet.clone(),
            ..Default::default()
        })
        .collect();
    let all_dropped = plan.verdicts.iter().all(|v| !v.accept);
    // A TCP size change on a confirmed conntrack: write the sequence
    // adjustment (and the private data) over ctnetlink before the
    // verdict, and leave NFQA_CT out of the verdict so the glue does not
    // record a second, misplaced one (see ct::ct_update).
    let resized = plan.ct.conn.orig.proto == L4Proto::Tcp
        && plan.verdicts.iter().any(|v| {
            v.packet
                .as_ref()
                .is_some_and(|p| p.len() != v.original.len())
        });
    let mut state_written = false;
    if resized && ct.status.confirmed() {
        let msg = ct::ct_update(
            orig,
            family,
            zone,
            plan.seqadj.map(|w| (plan.ct.dir, w)),
            helper,
            info,
            plan.ct_timeout,
        );
        match link.request(msg, 0) {
            Ok(()) => state_written = true,
            Err(e) => {
                events.push(Event::new(
                    Reason::SeqadjRefused,
                    format!("sequence adjustment refused ({e}): the packets go on unchanged"),
                ));
                for v in &mut verdicts {
                    v.payload = None;
                }
            }
        }
    }
    let edited = verdicts.iter().any(|v| v.payload.is_some());
    let need_ct = !all_dropped
        && !state_written
        && (edited
            || pending.first.is_some()
            || pending.first_raw.is_some()
            || plan.state.is_some()
            || plan.ct_timeout.is_some());
    let ct_attr = need_ct.then(|| ct::verdict_ct(helper, info, plan.ct_timeout).into_bytes());
    // The kernel reads NFQA_EXP only with NFQA_CT. Without it (the state
    // went over ctnetlink with a sequence adjustment) the expectation is
    // created over ctnetlink after the verdict instead.
    let (first, first_raw) = if ct_attr.is_none() {
        if let Some(e) = pending.first.take() {
            pending.deferred.insert(0, e);
        }
        if let Some((_, fallback)) = pending.first_raw.take() {
            pending
                .after
                .insert(0, (fallback, NLM_F_CREATE | NLM_F_EXCL));
        }
        (None, None)
    } else {
        (
            pending.first.take(),
            pending.first_raw.take().map(|(raw, _)| raw),
        )
    };
    let exp_attr = first
        .as_ref()
        .map(|e| {
            let mut w = AttrWriter::new();
            ct::put_expectation(&mut w, e);
            w.into_bytes()
        })
        .or(first_raw);
    if exp_attr.is_some() {
        Metrics::inc(
            &metrics.expectations,
            &[("helper", helper), ("path", "nfqa_exp"), ("result", "sent")],
        );
    }
    if let Some(last) = verdicts.iter_mut().rev().find(|v| v.verdict == NF_ACCEPT) {
        last.ct = ct_attr;
        last.exp = exp_attr;
    }
    let mut after = Vec::new();
    for e in pending.deferred {
        after.push((
            ct::exp_new(orig, &e, family, zone),
            NLM_F_CREATE | NLM_F_EXCL,
        ));
    }
    after.extend(pending.after);
    (Outgoing { verdicts, after }, events)
}

impl Env for KernelTable<'_> {
    fn expect(&mut self, exp: &Expectation) -> Result<(), ExpectError> {
        if !self.confirmed() {
            if self.pending.first.is_none() {
                self.pending.first = Some(exp.clone());
            } else {
                self.pending.deferred.push(exp.clone());
            }
            return Ok(());
        }
        let r = self.exp_new(exp);
        if r.is_ok()
            && exp.helper.is_some()
            && self.pending.first.is_none()
            && self.pending.first_raw.is_none()
        {
            // Kernels with the 2026 expectation fixes (Debian 6.1.187+) give
            // the expected connection the named helper only for NFQA_EXP, not
            // for IPCTNL_MSG_EXP_NEW. Created over ctnetlink first so a clash
            // is seen (the NAT port search), then moved into the verdict.
            let del = ct::exp_delete(&ct::exp_tuple_bytes(exp), self.family(), self.zone());
            match self.link.request(del, 0) {
                Ok(()) => self.pending.first = Some(exp.clone()),
                Err(e) => debug!(
                    helper = self.helper,
                    "moving a helper expectation into the verdict: {e}"
                ),
            }
        }
        self.count(
            "ctnetlink",
            match r {
                Ok(()) => "created",
                Err(ExpectError::Clash) => "clash",
                Err(ExpectError::Full) => "full",
                Err(ExpectError::Refused) => "refused",
            },
        );
        r
    }

    fn unexpect(&mut self, exp: &Expectation) -> bool {
        let p = &mut self.pending;
        if p.first.as_ref().is_some_and(|e| e.same_as(exp)) {
            p.first = (!p.deferred.is_empty()).then(|| p.deferred.remove(0));
            return true;
        }
        if let Some(i) = p.deferred.iter().position(|e| e.same_as(exp)) {
            p.deferred.remove(i);
            return true;
        }
        if !self.confirmed() {
            return false;
        }
        let m = ct::exp_delete(&ct::exp_tuple_bytes(exp), self.family(), self.zone());
        match self.link.request(m, 0) {
            Ok(()) => true,
            Err(e) => {
                debug!(helper = self.helper, "IPCTNL_MSG_EXP_DELETE: {e}");
                false
            }
        }
    }

    fn expectations(&mut self) -> Vec<Expectation> {
        let mut v: Vec<Expectation> = self
            .pending
            .first
            .iter()
            .chain(&self.pending.deferred)
            .cloned()
            .collect();
        if self.confirmed() {
            v.extend(self.listed().into_iter().filter_map(|(_, e)| e));
        }
        v
    }

    /// ctnetlink cannot clear the INACTIVE flag of a live expectation: an
    /// inactive one is deleted and re-created from its listed attributes
    /// without the flag; then its lifetime is set (EXP_NEW without
    /// NLM_F_CREATE changes CTA_EXPECT_TIMEOUT).
    fn update(&mut self, exp: &Expectation, change: ExpectChange) -> bool {
        if !self.confirmed() {
            // Created by this very packet: it is still to be sent; change it
            // there.
            let mut found = false;
            for e in self
                .pending
                .first
                .iter_mut()
                .chain(self.pending.deferred.iter_mut())
            {
                if e.same_as(exp) {
                    e.flags = e.flags.without(change.clear);
                    found = true;
                }
            }
            return found;
        }
        let (family, zone) = (self.family(), self.zone());
        let Some((e, _)) = self
            .listed()
            .into_iter()
            .find(|(_, p)| p.as_ref().is_some_and(|p| p.same_as(exp)))
        else {
            return false;
        };
        let tuple = e.tuple_bytes();
        let set_timeout = change
            .timeout
            .map(|t| ct::exp_set_timeout(self.orig(), &e, family, zone, t));
        let clear = change.clear.0 & e.flags;
        if clear != 0 {
            let flags = e.flags & !(clear | ExpectFlags::USERSPACE.0);
            let del = self.link.request(ct::exp_delete(&tuple, family, zone), 0);
            // Re-created in this packet's verdict (NFQA_EXP) when it has room:
            // only that path keeps the helper the expected connection gets
            // (see ct::exp_recreate_nfqa); its lifetime is set after the verdict.
            if del.is_ok() && self.pending.first.is_none() && self.pending.first_raw.is_none() {
                self.pending.first_raw = Some((
                    ct::exp_recreate_nfqa(&e, flags),
                    ct::exp_recreate(self.orig(), &e, flags, family),
                ));
                self.pending.after.extend(set_timeout.map(|m| (m, 0)));
                return true;
            }
            let new = del.and_then(|()| {
                self.link.request(
                    ct::exp_recreate(self.orig(), &e, flags, family),
                    NLM_F_CREATE | NLM_F_EXCL,
                )
            });
            if let Err(err) = new {
                self.events.push(Event::new(
                    Reason::ExpectChangeFailed,
                    format!("re-creating an expectation without flags {clear:#x}: {err}"),
                ));
                return false;
            }
        }
        if let Some(m) = set_timeout {
            if let Err(err) = self.link.request(m, 0) {
                debug!(
                    helper = self.helper,
                    "setting an expectation's timeout: {err}"
                );
            }
        }
        true
    }

    fn random_u32(&mut self) -> u32 {
        self.rng.next_u32()
    }

    /// The kernel's FIB lookup, over rtnetlink.
    fn route_oif(&mut self, addr: IpAddr) -> Option<u32> {
        self.link.route_oif(addr)
    }

    /// `nf_conntrack_broadcast_help()`'s mask: only for a packet this host
    /// sent, the prefix of the first primary address of the interface it
    /// leaves by (NFQA_IFINDEX_OUTDEV) whose broadcast address is the
    /// destination — one RTM_GETADDR dump, asked only for such packets.
    fn broadcast_prefix(&mut self, broadcast: IpAddr) -> Option<u8> {
        let IpAddr::V4(b) = broadcast else {
            return None;
        };
        if !self.local {
            return None;
        }
        let oif = self.ct.outdev?;
        let p = self.link.broadcast_prefix(oif, b);
        debug!(
            helper = self.helper,
            "broadcast prefix of {b} on interface {oif}: {p:?}"
        );
        p
    }
}

impl crate::flow::Table for KernelTable<'_> {
    fn take_events(&mut self) -> Vec<Event> {
        std::mem::take(&mut self.events)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::seqadj::SeqAdj;
    use helpers::{ConnView, CtState, CtStatus, Dir, PrivData, Tuple};

    /// A kernel that answers nothing but the address question, and
    /// records it.
    #[derive(Default)]
    struct Addrs {
        asked: Vec<(u32, Ipv4Addr)>,
    }

    impl Link for Addrs {
        fn request(&mut self, _: NfMsg, _: u16) -> Result<(), NlError> {
            Ok(())
        }
        fn query(&mut self, _: NfMsg, _: u16) -> Result<Vec<NfMsg>, NlError> {
            Ok(Vec::new())
        }
        fn dump(&mut self, _: NfMsg) -> Result<Vec<NfMsg>, NlError> {
            Ok(Vec::new())
        }
        fn route_oif(&mut self, _: IpAddr) -> Option<u32> {
            None
        }
        fn broadcast_prefix(&mut self, oif: u32, b: Ipv4Addr) -> Option<u8> {
            self.asked.push((oif, b));
            (oif == 3 && b == Ipv4Addr::new(10, 0, 3, 255)).then_some(24)
        }
    }

    fn ct(outdev: Option<u32>) -> Conntrack {
        let t = Tuple {
            src: "10.0.3.1".parse().unwrap(),
            dst: "10.0.3.255".parse().unwrap(),
            proto: L4Proto::Udp,
            sport: 40000,
            dport: 161,
        };
        Conntrack {
            conn: ConnView::plain(t),
            dir: Dir::Original,
            ctinfo: CtState::New,
            status: CtStatus(0),
            zone: 0,
            state: PrivData::ZERO,
            seqadj: SeqAdj::default(),
            outdev,
        }
    }

    #[test]
    fn broadcast_prefix_only_for_local_packets_on_their_interface() {
        let metrics = Metrics::new();
        let mut rng = crate::flow::Rng(1);
        let bc: IpAddr = "10.0.3.255".parse().unwrap();
        let mut link = Addrs::default();
        // Forwarded (it came in by an interface): not asked.
        let c = ct(Some(3));
        let mut t = KernelTable::new(&c, "snmp", &mut link, &mut rng, &metrics);
        assert_eq!(t.broadcast_prefix(bc), None);
        // Sent by this host: the output interface's answer.
        t.local = true;
        assert_eq!(t.broadcast_prefix(bc), Some(24));
        assert_eq!(t.broadcast_prefix("10.0.3.127".parse().unwrap()), None);
        assert_eq!(t.broadcast_prefix("fd00::ff".parse().unwrap()), None);
        drop(t);
        assert_eq!(
            link.asked,
            [
                (3, Ipv4Addr::new(10, 0, 3, 255)),
                (3, Ipv4Addr::new(10, 0, 3, 127))
            ]
        );
        // No output interface: nothing to look at.
        let c = ct(None);
        let mut t = KernelTable::new(&c, "snmp", &mut link, &mut rng, &metrics);
        t.local = true;
        assert_eq!(t.broadcast_prefix(bc), None);
    }
}
