//! [`Core`]: held segments, the helper call, and turning its outcome into a
//! [`Plan`].

use super::wire::{self, Layout, Rewrite};
use super::{Call, Conntrack, Limits, Plan, RecEnv, Slot, Table, Verdict};
use helpers::edit::{apply, resegment};
use helpers::text::count;
use helpers::{
    Dir, Edit, Event, ExpectChange, Expectation, L4Proto, Outcome, Packet, PrivData, Reason, Tuple,
};
use std::collections::HashMap;
use std::sync::Arc;

/// Whose held segments: one flow direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct HoldKey {
    orig: Tuple,
    zone: u16,
    dir: Dir,
}

impl HoldKey {
    fn of(ct: &Conntrack) -> Self {
        HoldKey {
            orig: ct.conn.orig,
            zone: ct.zone,
            dir: ct.dir,
        }
    }
}

#[derive(Debug)]
struct Seg<T> {
    tag: T,
    pkt: Vec<u8>,
    lay: Layout,
}

impl<T> Seg<T> {
    fn payload(&self) -> &[u8] {
        self.lay.payload(&self.pkt)
    }
}

/// The segments of one message being put together, and what the helper
/// decided about the part before its unfinished tail.
#[derive(Debug)]
struct Hold<T> {
    helper: usize,
    ct: Conntrack,
    segs: Vec<Seg<T>>,
    since_ns: u64,
    /// Where the unfinished message starts in the joined payload.
    resume: usize,
    /// The state the next call starts from.
    state: PrivData,
    edits: Vec<Edit>,
    created: Vec<Expectation>,
    removed: Vec<Expectation>,
    changed: Vec<(Expectation, ExpectChange)>,
    events: Vec<Event>,
    ct_timeout: Option<u32>,
    drop: bool,
}

impl<T> Hold<T> {
    fn new(helper: usize, ct: Conntrack, since_ns: u64) -> Self {
        Hold {
            helper,
            ct,
            segs: Vec::new(),
            since_ns,
            resume: 0,
            state: ct.state,
            edits: Vec::new(),
            created: Vec::new(),
            removed: Vec::new(),
            changed: Vec::new(),
            events: Vec::new(),
            ct_timeout: None,
            drop: false,
        }
    }
    fn joined(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(self.bytes());
        for s in &self.segs {
            v.extend_from_slice(s.payload());
        }
        v
    }
    fn bytes(&self) -> usize {
        self.segs.iter().map(|s| s.payload().len()).sum()
    }
    fn first_seq(&self) -> Option<u32> {
        self.segs.first().and_then(|s| s.lay.tcp).map(|t| t.seq)
    }
    fn next_seq(&self) -> Option<u32> {
        self.segs.last().and_then(|s| s.lay.next_seq(&s.pkt))
    }
    /// Whether `seq`/`len` lies inside what is held (the sender's
    /// retransmission of data that is never ACKed while it is held).
    fn covers(&self, seq: u32, len: usize) -> bool {
        let (Some(first), Some(end)) = (self.first_seq(), self.next_seq()) else {
            return false;
        };
        let size = end.wrapping_sub(first);
        let off = seq.wrapping_sub(first);
        len > 0 && off < size && (len as u32) <= size - off
    }
    /// Takes in one call's outcome on the part from `resume` on.
    fn absorb(&mut self, out: Outcome, rec: RecEnv<'_>, table_events: Vec<Event>) {
        let at = self.resume;
        self.edits.extend(out.edits.into_iter().map(|mut e| {
            e.offset = e.offset.saturating_add(at);
            e
        }));
        // This call's removals are of expectations made before it (by an
        // earlier call of the same message, or before the message); its
        // creations are net of what it withdrew itself.
        for e in rec.removed {
            match self.created.iter().position(|c| c.same_as(&e)) {
                Some(i) => {
                    self.created.remove(i);
                }
                None => self.removed.push(e),
            }
        }
        for e in rec.created {
            self.created.retain(|c| !c.same_as(&e));
            self.created.push(e);
        }
        self.changed.extend(rec.changed);
        // A `partial` event explains a hold; the core reports a hold it
        // cannot keep itself.
        self.events.extend(
            out.events
                .into_iter()
                .filter(|e| !(out.incomplete.is_some() && e.reason == Reason::Partial)),
        );
        self.events.extend(table_events);
        if let Some(s) = out.state {
            self.state = s;
        }
        if out.ct_timeout.is_some() {
            self.ct_timeout = out.ct_timeout;
        }
        self.drop |= out.drop;
    }
}

/// The flow core of one driver (one per NFQUEUE worker, one per replay).
/// `T` is the driver's handle of a packet.
#[derive(Debug)]
pub struct Core<T> {
    slots: Arc<[Slot]>,
    limits: Limits,
    holds: HashMap<HoldKey, Hold<T>>,
}

impl<T> Core<T> {
    pub fn new(slots: Arc<[Slot]>, limits: Limits) -> Self {
        Core {
            slots,
            limits,
            holds: HashMap::new(),
        }
    }

    pub fn slots(&self) -> &[Slot] {
        &self.slots
    }

    /// The slots, shared (to borrow a slot while the core works).
    pub fn slots_arc(&self) -> Arc<[Slot]> {
        self.slots.clone()
    }

    /// The slot of the helper called `name`.
    pub fn slot_of(&self, name: &str) -> Option<usize> {
        self.slots.iter().position(|s| s.name() == name)
    }

    /// One packet (`pkt`, L3) of a connection whose helper is slot `helper`,
    /// at `now_ns` (any monotonic clock, or capture time). Returns the plans
    /// in the order the driver carries them out: segments held before and
    /// released by this packet first.
    pub fn packet(
        &mut self,
        now_ns: u64,
        tag: T,
        pkt: Vec<u8>,
        helper: usize,
        ct: &Conntrack,
        table: &mut dyn Table,
    ) -> Vec<Plan<T>> {
        let mut plans = Vec::new();
        let lay = match wire::parse(&pkt) {
            Ok(l) if !l.truncated && !l.first_fragment => l,
            Ok(l) => {
                let why = if l.truncated {
                    Reason::Truncated
                } else {
                    Reason::Fragment
                };
                plans.push(pass(
                    helper,
                    ct,
                    tag,
                    pkt,
                    Event::new(why, "cannot be helped"),
                ));
                return plans;
            }
            Err(e) => {
                let ev = Event::new(e.reason(), format!("unusable L3/L4 headers ({})", e.name()));
                plans.push(pass(helper, ct, tag, pkt, ev));
                return plans;
            }
        };
        let len = lay.payload(&pkt).len();
        if len == 0 || self.slots.get(helper).is_none() {
            let mut p = Plan::new(helper, *ct);
            p.verdicts.push(accept(tag, pkt));
            plans.push(p);
            return plans;
        }
        let key = HoldKey::of(ct);
        let seq = lay.tcp.map(|t| t.seq);
        let mut ct = *ct;
        let mut hold = match self.holds.remove(&key) {
            Some(h) if seq.is_some() && seq == h.next_seq() => {
                let mut h = h;
                h.ct = Conntrack {
                    state: h.ct.state,
                    ..ct
                };
                h
            }
            Some(h) if seq.is_some_and(|s| h.covers(s, len)) => {
                // The held original goes out when the message is whole; this
                // copy would reach the receiver unedited.
                self.holds.insert(key, h);
                let mut p = Plan::new(helper, ct);
                p.events.push(Event::new(
                    Reason::HoldRetransmission,
                    "retransmission of held data dropped",
                ));
                p.verdicts.push(Verdict {
                    tag,
                    accept: false,
                    packet: None,
                    original: pkt,
                });
                plans.push(p);
                return plans;
            }
            Some(mut h) => {
                h.events.push(Event::new(
                    Reason::HoldOutOfOrder,
                    format!(
                        "not the next segment: {} with what was decided",
                        held_go_on(h.segs.len())
                    ),
                ));
                let released = self.finish(h);
                // The new segment starts from what the release left.
                if let Some(s) = released.state {
                    ct.state = s;
                }
                if let Some(w) = released.seqadj {
                    ct.seqadj.way[ct.dir.index()] = w;
                }
                plans.push(released);
                Hold::new(helper, ct, now_ns)
            }
            None => Hold::new(helper, ct, now_ns),
        };
        hold.segs.push(Seg { tag, pkt, lay });

        // The helper sees the unfinished part.
        let joined = hold.joined();
        let part = joined.get(hold.resume..).unwrap_or_default();
        let tcp_seq = hold.first_seq().map(|s| s.wrapping_add(hold.resume as u32));
        let p = Packet {
            conn: ct.conn,
            dir: ct.dir,
            ctinfo: ct.ctinfo,
            status: ct.status,
            zone: ct.zone,
            payload: part,
            tcp_seq,
            state: hold.state,
            outdev: ct.outdev,
        };
        let Some(slot) = self.slots.get(helper) else {
            return plans;
        };
        let mut rec = RecEnv::new(table);
        let out = slot.helper.handle(&p, &mut rec);
        let incomplete = out.incomplete.filter(|&k| k <= part.len());
        let table_events = rec.table.take_events();
        hold.absorb(out, rec, table_events);

        if let Some(k) = incomplete {
            if lay.proto == L4Proto::Tcp && !hold.drop {
                let resume = hold.resume + k;
                // The other flows' holds (this one is out of the map).
                let others: usize = self.holds.values().map(Hold::bytes).sum();
                let total_ok = others.saturating_add(joined.len()) <= self.limits.total;
                if joined.len() <= self.limits.bytes
                    && hold.segs.len() < self.limits.segments
                    && total_ok
                {
                    hold.resume = resume;
                    let mut p = Plan::new(helper, ct);
                    // What the calls so far told is reported with the whole
                    // message, when it is released.
                    p.held = true;
                    self.holds.insert(key, hold);
                    plans.push(p);
                    return plans;
                }
                hold.events.push(Event::new(
                    Reason::HoldOverflow,
                    format!(
                        "{}, {}{}: the unfinished message passes as it is",
                        count(hold.segs.len() as u64, "segment"),
                        count(joined.len() as u64, "byte"),
                        if total_ok {
                            String::new()
                        } else {
                            format!(
                                " (the queue holds {} of {} already)",
                                count(others as u64, "byte"),
                                self.limits.total
                            )
                        }
                    ),
                ));
            }
        }
        plans.push(self.finish(hold));
        plans
    }

    /// Releases the holds older than the hold limit at `now_ns`.
    pub fn expire(&mut self, now_ns: u64) -> Vec<Plan<T>> {
        let limit = self.limits.hold_ns;
        let old: Vec<HoldKey> = self
            .holds
            .iter()
            .filter(|(_, h)| now_ns.saturating_sub(h.since_ns) >= limit)
            .map(|(k, _)| *k)
            .collect();
        self.release(old, Reason::HoldTimeout)
    }

    /// When the oldest hold runs out (for the driver's timer).
    pub fn next_deadline(&self) -> Option<u64> {
        self.holds
            .values()
            .map(|h| h.since_ns.saturating_add(self.limits.hold_ns))
            .min()
    }

    /// Releases what is held for the connection with original tuple `orig`
    /// in `zone` (it went away or is replaced).
    pub fn release_flow(&mut self, orig: &Tuple, zone: u16, reason: Reason) -> Vec<Plan<T>> {
        let keys: Vec<HoldKey> = self
            .holds
            .keys()
            .filter(|k| k.orig == *orig && k.zone == zone)
            .copied()
            .collect();
        self.release(keys, reason)
    }

    /// Releases everything held (shutdown, end of a capture).
    /// Payload bytes held now, per slot (`cthelperd status`).
    pub fn held_bytes(&self) -> Vec<u64> {
        let mut out = vec![0u64; self.slots.len()];
        for h in self.holds.values() {
            let n: usize = h.segs.iter().map(|s| s.lay.payload(&s.pkt).len()).sum();
            if let Some(o) = out.get_mut(h.helper) {
                *o += n as u64;
            }
        }
        out
    }

    pub fn release_all(&mut self, reason: Reason) -> Vec<Plan<T>> {
        let keys: Vec<HoldKey> = self.holds.keys().copied().collect();
        self.release(keys, reason)
    }

    fn release(&mut self, mut keys: Vec<HoldKey>, reason: Reason) -> Vec<Plan<T>> {
        // In the order they were held (deterministic for replay).
        keys.sort_by_key(|k| self.holds.get(k).map(|h| h.since_ns));
        let mut out = Vec::new();
        for k in keys {
            if let Some(mut h) = self.holds.remove(&k) {
                h.events.push(Event::new(
                    reason,
                    format!("{} with what was decided", held_go_on(h.segs.len())),
                ));
                out.push(self.finish(h));
            }
        }
        out
    }

    /// The verdicts for a complete message (or what there is of it).
    fn finish(&self, h: Hold<T>) -> Plan<T> {
        let ct = h.ct;
        let mut plan = Plan::new(h.helper, ct);
        let joined = h.joined();
        plan.state = (h.state != ct.state).then_some(h.state);
        plan.ct_timeout = h.ct_timeout;
        plan.events = h.events;
        let mut call = Call {
            segments: h.segs.len(),
            payload: Vec::new(),
            edits: Vec::new(),
            created: h.created,
            removed: h.removed,
            changed: h.changed,
            drop: h.drop,
        };
        if h.drop {
            // NF_DROP: nothing of the message goes out untranslated; the
            // sender retransmits what was held (it was never acknowledged).
            plan.state = None;
            plan.verdicts = h
                .segs
                .into_iter()
                .map(|s| Verdict {
                    tag: s.tag,
                    accept: false,
                    packet: None,
                    original: s.pkt,
                })
                .collect();
            call.payload = joined;
            plan.call = Some(call);
            return plan;
        }
        let lens: Vec<usize> = h.segs.iter().map(|s| s.payload().len()).collect();
        let mut parts: Option<Vec<Vec<u8>>> = None;
        if !h.edits.is_empty() {
            match apply(&joined, &h.edits) {
                Err(e) => plan.events.push(Event::new(
                    Reason::BadEdit,
                    format!("the helper's edits do not fit its payload ({e:?}): unchanged"),
                )),
                Ok(edited) => {
                    let delta = edited.len() as i64 - joined.len() as i64;
                    let last = h.segs.last().map(|s| s.lay);
                    let tcp = last.and_then(|l| l.tcp);
                    if delta != 0 && tcp.is_some() && !ct.status.nat() {
                        plan.events.push(Event::new(
                            Reason::ResizeWithoutNat,
                            "size-changing edit on a connection without NAT: nothing would adjust the sequence numbers; unchanged",
                        ));
                    } else if delta != 0
                        && tcp.is_some()
                        && !ct.status.confirmed()
                        && last.is_some_and(|l| l.v6)
                    {
                        plan.events.push(Event::new(
                            Reason::ResizeIpv6Unconfirmed,
                            "size-changing edit on an unconfirmed IPv6 connection: unchanged",
                        ));
                    } else if let Some(p) = resegment(&edited, &lens) {
                        if let (Some(t), Ok(d)) = (tcp, i32::try_from(delta)) {
                            plan.seqadj = ct.seqadj.way[ct.dir.index()].after_resize(t.seq, d);
                        }
                        parts = Some(p);
                    } else {
                        plan.events.push(Event::new(
                            Reason::BadEdit,
                            "the edited message does not fit its segments: unchanged",
                        ));
                    }
                }
            }
        }
        let mut verdicts = Vec::with_capacity(h.segs.len());
        let mut applied = parts.is_some();
        for (i, s) in h.segs.into_iter().enumerate() {
            let new = parts.as_ref().and_then(|p| p.get(i));
            let packet = match new {
                Some(n) if n.as_slice() != s.payload() => {
                    match wire::rebuild(&s.pkt, &s.lay, &Rewrite::payload(n.clone())) {
                        Some(b) => Some(b),
                        None => {
                            applied = false;
                            plan.events.push(Event::new(
                                Reason::Rebuild,
                                "an edited packet cannot be rebuilt: unchanged",
                            ));
                            None
                        }
                    }
                }
                _ => None,
            };
            verdicts.push(Verdict {
                tag: s.tag,
                accept: true,
                packet,
                original: s.pkt,
            });
        }
        if !applied {
            // All or nothing: a message half rewritten is worse than none.
            for v in &mut verdicts {
                v.packet = None;
            }
            plan.seqadj = None;
        }
        if applied {
            call.edits = h.edits;
        }
        call.payload = joined;
        plan.verdicts = verdicts;
        plan.call = Some(call);
        plan
    }
}

/// `1 held segment goes on`, `3 held segments go on`.
fn held_go_on(n: usize) -> String {
    let verb = if n == 1 { "goes" } else { "go" };
    format!("{} {verb} on", count(n as u64, "held segment"))
}

fn accept<T>(tag: T, pkt: Vec<u8>) -> Verdict<T> {
    Verdict {
        tag,
        accept: true,
        packet: None,
        original: pkt,
    }
}

/// A packet that goes on unchanged because it cannot be helped.
fn pass<T>(helper: usize, ct: &Conntrack, tag: T, pkt: Vec<u8>, ev: Event) -> Plan<T> {
    let mut p = Plan::new(helper, *ct);
    p.events.push(ev);
    p.verdicts.push(accept(tag, pkt));
    p
}
