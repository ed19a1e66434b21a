//! A model of the kernel's expectation table (nf_conntrack_expect.c):
//! per-master limits by class with eviction of the oldest, global clash
//! detection, timeouts kept in a timer structure, and lookup of a new flow
//! through an index by destination — no scan of every live expectation per
//! packet.

use super::fasthash::FastMap;
use super::nat::Subnet;
use crate::flow::Rng;
use helpers::{
    Env, Event, ExpectChange, ExpectError, ExpectFlags, ExpectPolicy, Expectation, HelperInfo,
    L4Proto, PolicyField, Reason, Tuple,
};
use std::collections::BTreeSet;
use std::net::IpAddr;

#[derive(Debug, Clone)]
pub struct Live {
    pub exp: Expectation,
    /// Index of the master flow.
    pub master: usize,
    /// Frame that created it.
    pub frame: u64,
    pub deadline_ns: u64,
    /// Insertion order, for "oldest".
    pub serial: u64,
    /// Where a flow it lets in arrives translated (a capture taken behind
    /// the NAT): `(proto, address, port)` after nat-follow-master.
    pub translated: Option<(L4Proto, IpAddr, u16)>,
}

type DstKey = (L4Proto, IpAddr, u16);

fn key(e: &Expectation) -> DstKey {
    (e.proto, e.dst, e.dport)
}

#[derive(Debug, Clone, Default)]
pub struct Table {
    slots: Vec<Option<Live>>,
    free: Vec<usize>,
    by_dst: FastMap<DstKey, Vec<usize>>,
    by_master: FastMap<usize, Vec<usize>>,
    timers: BTreeSet<(u64, u64, usize)>,
    serial: u64,
}

impl Table {
    /// How many expectations are live.
    pub fn len(&self) -> usize {
        self.slots.len() - self.free.len()
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn get(&self, id: usize) -> Option<&Live> {
        self.slots.get(id).and_then(Option::as_ref)
    }

    fn insert(&mut self, l: Live) {
        let id = match self.free.pop() {
            Some(i) => i,
            None => {
                self.slots.push(None);
                self.slots.len() - 1
            }
        };
        self.by_dst.entry(key(&l.exp)).or_default().push(id);
        if let Some(t) = l.translated {
            self.by_dst.entry(t).or_default().push(id);
        }
        self.by_master.entry(l.master).or_default().push(id);
        self.timers.insert((l.deadline_ns, l.serial, id));
        if let Some(s) = self.slots.get_mut(id) {
            *s = Some(l);
        }
    }

    fn remove(&mut self, id: usize) -> Option<Live> {
        let l = self.slots.get_mut(id)?.take()?;
        let mut unindex = |k: DstKey| {
            if let Some(v) = self.by_dst.get_mut(&k) {
                v.retain(|&i| i != id);
                if v.is_empty() {
                    self.by_dst.remove(&k);
                }
            }
        };
        unindex(key(&l.exp));
        if let Some(t) = l.translated {
            unindex(t);
        }
        if let Some(v) = self.by_master.get_mut(&l.master) {
            v.retain(|&i| i != id);
            if v.is_empty() {
                self.by_master.remove(&l.master);
            }
        }
        self.timers.remove(&(l.deadline_ns, l.serial, id));
        self.free.push(id);
        Some(l)
    }

    fn set_deadline(&mut self, id: usize, deadline_ns: u64) {
        let Some(l) = self.slots.get_mut(id).and_then(Option::as_mut) else {
            return;
        };
        self.timers.remove(&(l.deadline_ns, l.serial, id));
        l.deadline_ns = deadline_ns;
        self.timers.insert((deadline_ns, l.serial, id));
    }

    /// Drops the expectations whose timeout passed.
    pub fn expire(&mut self, now_ns: u64) -> Vec<Live> {
        let mut gone = Vec::new();
        while let Some(&(d, s, id)) = self.timers.iter().next() {
            if d >= now_ns {
                break;
            }
            self.timers.remove(&(d, s, id));
            if let Some(l) = self.remove(id) {
                gone.push(l);
            }
        }
        gone
    }

    /// The live expectations of `master`, oldest first.
    pub fn of_master(&self, master: usize) -> Vec<&Live> {
        let mut v: Vec<&Live> = self
            .by_master
            .get(&master)
            .into_iter()
            .flatten()
            .filter_map(|&i| self.get(i))
            .collect();
        v.sort_by_key(|l| l.serial);
        v
    }

    /// Removes every expectation of `master` (the master went away).
    pub fn remove_master(&mut self, master: usize) {
        let ids = self.by_master.get(&master).cloned().unwrap_or_default();
        for id in ids {
            self.remove(id);
        }
    }

    /// nf_ct_find_expectation(): the oldest active expectation the new flow
    /// `t` matches — by its mask, or, through `also`, as the capture shows it
    /// (translated, or from a third party). Non-permanent ones are removed.
    pub fn find(&mut self, t: &Tuple, mut also: impl FnMut(&Live) -> bool) -> Option<Live> {
        let cands = self.by_dst.get(&(t.proto, t.dst, t.dport))?;
        let id = cands
            .iter()
            .filter_map(|&i| self.get(i).map(|l| (i, l)))
            .filter(|(_, l)| {
                !l.exp.flags.contains(ExpectFlags::INACTIVE) && (l.exp.matches(t) || also(l))
            })
            .min_by_key(|(_, l)| l.serial)
            .map(|(i, _)| i)?;
        let l = self.get(id)?.clone();
        if !l.exp.flags.contains(ExpectFlags::PERMANENT) {
            self.remove(id);
        }
        Some(l)
    }

    /// The live expectation whose tuple (masked-out parts zero, as ctnetlink
    /// names it) is `t`, and its master.
    pub fn find_tuple(&self, t: &Tuple) -> Option<(Expectation, usize)> {
        self.by_dst
            .get(&(t.proto, t.dst, t.dport))?
            .iter()
            .filter_map(|&i| self.get(i))
            .find(|l| l.exp.tuple() == *t)
            .map(|l| (l.exp.clone(), l.master))
    }

    /// Removes the expectation with `exp`'s tuple and mask, whoever its
    /// master (IPCTNL_MSG_EXP_DELETE names a tuple, not a master).
    pub fn remove_same(&mut self, exp: &Expectation) -> Option<Live> {
        let id = self
            .by_dst
            .get(&key(exp))?
            .iter()
            .copied()
            .find(|&i| self.get(i).is_some_and(|l| l.exp.same_as(exp)))?;
        self.remove(id)
    }

    fn find_id(&self, master: usize, exp: &Expectation) -> Option<usize> {
        self.by_dst.get(&key(exp))?.iter().copied().find(|&i| {
            self.get(i)
                .is_some_and(|l| l.master == master && l.exp.same_as(exp))
        })
    }
}

/// The expectation table as one helper call on `master` sees it.
pub struct TableEnv<'a> {
    pub table: &'a mut Table,
    pub rng: &'a mut Rng,
    pub master: usize,
    /// Where a NATed expectation of this master sends the flow it lets in
    /// (`nat-follow-master`): the address of the master's tuple in the
    /// other direction of the expectation's, per direction index.
    pub follow: [IpAddr; 2],
    pub policies: &'a [ExpectPolicy],
    /// The master's helper (its class names, the parameters behind its
    /// policies), when known.
    pub info: Option<&'static HelperInfo>,
    pub now_ns: u64,
    pub frame: u64,
    /// What the table did besides inserting (evictions, refusals).
    pub events: Vec<Event>,
    /// `--broadcast`: the capturing host's subnets.
    pub subnets: &'a [Subnet],
}

impl TableEnv<'_> {
    fn live_of_master(&self) -> impl Iterator<Item = &Live> {
        self.table.of_master(self.master).into_iter()
    }
    /// `class audio` (by the policy's name), or `class 3`.
    fn class(&self, class: u8) -> String {
        match self.policies.get(usize::from(class)) {
            Some(p) => format!("class {}", p.name),
            None => format!("class {class}"),
        }
    }
}

impl Env for TableEnv<'_> {
    fn expect(&mut self, exp: &Expectation) -> Result<(), ExpectError> {
        let Some(policy) = self.policies.get(usize::from(exp.class)) else {
            self.events.push(Event::new(
                Reason::ExpectRefused,
                format!("class {} has no policy", exp.class),
            ));
            return Err(ExpectError::Refused);
        };
        // __nf_ct_expect_check() with flags 0, as for every expectation
        // that comes over ctnetlink or with a verdict (no
        // NF_CT_EXP_F_SKIP_MASTER): an identical expectation of the same
        // master is replaced when the class is the same and refused with
        // -EALREADY when it is not; any other expectation that matches under
        // both masks — an identical one of another master included — is a
        // clash (-EBUSY, a NAT helper searches another port).
        let master = self.master;
        if let Some(id) = self.table.find_id(master, exp) {
            let class = self.table.get(id).map_or(exp.class, |l| l.exp.class);
            if class != exp.class {
                let class = self.class(class);
                self.events.push(Event::new(
                    Reason::ExpectRefused,
                    format!(
                        "an identical expectation of {class} of this connection exists (EALREADY)"
                    ),
                ));
                return Err(ExpectError::Refused);
            }
            self.table.remove(id);
        } else if self
            .table
            .by_dst
            .get(&key(exp))
            .into_iter()
            .flatten()
            .filter_map(|&i| self.table.get(i))
            .any(|l| key(&l.exp) == key(exp) && l.exp.clashes_with(exp))
        {
            return Err(ExpectError::Clash);
        }
        if policy.max_expected > 0 {
            let mine: Vec<(u64, u64, usize)> = self
                .table
                .by_master
                .get(&master)
                .into_iter()
                .flatten()
                .filter_map(|&i| self.table.get(i).map(|l| (l.serial, l.frame, i, l)))
                .filter(|(_, _, _, l)| l.exp.class == exp.class)
                .map(|(s, f, i, _)| (s, f, i))
                .collect();
            if mine.len() >= policy.max_expected as usize {
                // evict_oldest_expect()
                if let Some(&(_, frame, id)) = mine.iter().min() {
                    let detail = format!(
                        "over max_expected {} of {}: oldest (frame {frame}) evicted",
                        policy.max_expected,
                        self.class(exp.class)
                    );
                    // A limit a helper parameter sets (IRC's
                    // max_dcc_channels) names it.
                    let param = self.info.and_then(|i| {
                        i.policy_param(usize::from(exp.class), PolicyField::MaxExpected)
                    });
                    self.events.push(match param {
                        Some(p) => Event::by_param(Reason::ExpectEvicted, p.name, detail),
                        None => Event::new(Reason::ExpectEvicted, detail),
                    });
                    self.table.remove(id);
                }
            }
        }
        self.table.serial += 1;
        let timeout = u64::from(policy.timeout) * 1_000_000_000;
        let translated = exp.nat.map(|n| {
            (
                exp.proto,
                self.follow[n.dir.reverse().index()],
                n.saved_port,
            )
        });
        let l = Live {
            exp: exp.clone(),
            master,
            frame: self.frame,
            deadline_ns: self.now_ns.saturating_add(timeout),
            serial: self.table.serial,
            translated,
        };
        self.table.insert(l);
        Ok(())
    }

    fn unexpect(&mut self, exp: &Expectation) -> bool {
        let Some(id) = self.table.find_id(self.master, exp) else {
            return false;
        };
        self.table.remove(id);
        let class = self.class(exp.class);
        self.events.push(Event::new(
            Reason::ExpectRemoved,
            format!(
                "{} to {} {class} removed by the helper",
                exp.proto,
                helpers::text::SockAddrText(exp.dst, exp.dport),
            ),
        ));
        true
    }

    fn expectations(&mut self) -> Vec<Expectation> {
        self.live_of_master().map(|l| l.exp.clone()).collect()
    }

    fn update(&mut self, exp: &Expectation, change: ExpectChange) -> bool {
        let Some(id) = self.table.find_id(self.master, exp) else {
            return false;
        };
        let now = self.now_ns;
        let Some(l) = self.table.slots.get_mut(id).and_then(Option::as_mut) else {
            return false;
        };
        l.exp.flags = l.exp.flags.without(change.clear);
        let frame = l.frame;
        if let Some(t) = change.timeout {
            self.table
                .set_deadline(id, now.saturating_add(u64::from(t) * 1_000_000_000));
        }
        self.events.push(Event::new(
            Reason::ExpectChanged,
            match change.timeout {
                Some(t) => format!("expectation of frame {frame} active for {t} s"),
                None => format!("expectation of frame {frame} changed"),
            },
        ));
        true
    }

    fn random_u32(&mut self) -> u32 {
        self.rng.next_u32()
    }

    /// A capture knows no routes.
    fn route_oif(&mut self, _addr: IpAddr) -> Option<u32> {
        None
    }

    /// A capture knows no interfaces: only the subnets `--broadcast` names
    /// (the first whose broadcast address this is).
    fn broadcast_prefix(&mut self, broadcast: IpAddr) -> Option<u8> {
        self.subnets
            .iter()
            .find(|s| IpAddr::V4(s.broadcast()) == broadcast)
            .map(|s| s.prefix)
    }
}

impl crate::flow::Table for TableEnv<'_> {
    fn take_events(&mut self) -> Vec<Event> {
        std::mem::take(&mut self.events)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use helpers::SrcAddr;

    fn exp(dport: u16, src: Option<&str>) -> Expectation {
        Expectation {
            src: SrcAddr::from_option(src.map(|s| s.parse().unwrap())),
            ..Expectation::new(0, L4Proto::Tcp, "192.0.2.1".parse().unwrap(), dport)
        }
    }

    fn env<'a>(
        t: &'a mut Table,
        r: &'a mut Rng,
        p: &'a [ExpectPolicy],
        master: usize,
    ) -> TableEnv<'a> {
        let a: IpAddr = "0.0.0.0".parse().unwrap();
        TableEnv {
            table: t,
            rng: r,
            master,
            follow: [a, a],
            policies: p,
            info: None,
            now_ns: 0,
            frame: 1,
            events: vec![],
            subnets: &[],
        }
    }

    fn pol(max: u32, timeout: u32) -> ExpectPolicy {
        ExpectPolicy {
            name: "x".into(),
            max_expected: max,
            timeout,
        }
    }

    #[test]
    fn evicts_oldest_over_max_and_detects_clash() {
        let pol = [pol(1, 300)];
        let (mut t, mut r) = (Table::default(), Rng(0));
        let mut e = env(&mut t, &mut r, &pol, 0);
        e.expect(&exp(5000, None)).unwrap();
        e.expect(&exp(5001, None)).unwrap();
        assert_eq!(e.events[0].reason, Reason::ExpectEvicted);
        assert_eq!(t.len(), 1);
        assert_eq!(t.of_master(0)[0].exp.dport, 5001);
        // Another master wanting the same dst port with a narrower mask clashes.
        let mut e = env(&mut t, &mut r, &pol, 1);
        assert_eq!(
            e.expect(&exp(5001, Some("10.0.0.1"))),
            Err(ExpectError::Clash)
        );
        // The identical expectation from another master clashes too (flags
        // 0: the master is part of the match).
        assert_eq!(e.expect(&exp(5001, None)), Err(ExpectError::Clash));
        // The same master re-adding it replaces it.
        let mut e = env(&mut t, &mut r, &pol, 0);
        e.expect(&exp(5001, None)).unwrap();
        assert!(e.events.is_empty());
        assert_eq!(t.len(), 1);
        // … and of another class: EALREADY.
        let pol2 = [pol[0].clone(), pol[0].clone()];
        let mut e = env(&mut t, &mut r, &pol2, 0);
        let mut other = exp(5001, None);
        other.class = 1;
        assert_eq!(e.expect(&other), Err(ExpectError::Refused));
        assert_eq!(e.events[0].reason, Reason::ExpectRefused);
        // Removing is reported; a second time there is nothing to remove.
        assert!(e.unexpect(&exp(5001, None)));
        assert_eq!(e.events[1].reason, Reason::ExpectRemoved);
        assert!(!e.unexpect(&exp(5001, None)));
        assert_eq!(t.len(), 0);
    }

    #[test]
    fn unlimited_policy_timeouts_and_update() {
        let pol = [pol(0, 1)];
        let (mut t, mut r) = (Table::default(), Rng(7));
        let mut e = env(&mut t, &mut r, &pol, 0);
        for p in 1..=5 {
            e.expect(&exp(p, None)).unwrap();
        }
        let a = e.random_u32();
        assert_ne!(a, e.random_u32());
        // One gets 10 s more.
        let ch = ExpectChange {
            clear: ExpectFlags::INACTIVE,
            timeout: Some(10),
        };
        assert!(e.update(&exp(3, None), ch));
        assert_eq!(e.expectations().len(), 5);
        assert_eq!(t.len(), 5);
        assert!(t.expire(1_000_000_000).is_empty());
        assert_eq!(t.expire(1_000_000_001).len(), 4);
        assert_eq!(t.expire(10_000_000_001).len(), 1);
        assert_eq!(t.len(), 0);
    }

    #[test]
    fn find_removes_unless_permanent() {
        let pol = [pol(0, 9)];
        let (mut t, mut r) = (Table::default(), Rng(0));
        let mut p = exp(21, Some("10.0.0.1"));
        p.flags = ExpectFlags::PERMANENT;
        let mut e = env(&mut t, &mut r, &pol, 0);
        e.expect(&exp(20, None)).unwrap();
        e.expect(&p).unwrap();
        let tup = |sp: u16, dp: u16, s: &str| Tuple {
            src: s.parse().unwrap(),
            dst: "192.0.2.1".parse().unwrap(),
            proto: L4Proto::Tcp,
            sport: sp,
            dport: dp,
        };
        assert!(t.find(&tup(1, 21, "10.0.0.2"), |_| false).is_none());
        assert!(t.find(&tup(1, 21, "10.0.0.1"), |_| false).is_some());
        assert!(t.find(&tup(1, 21, "10.0.0.1"), |_| false).is_some());
        assert!(t.find(&tup(9, 20, "8.8.8.8"), |_| false).is_some());
        assert!(t.find(&tup(9, 20, "8.8.8.8"), |_| false).is_none());
        // A subnet mask (the answers to a broadcast).
        let mut e = env(&mut t, &mut r, &pol, 0);
        let mut b = exp(161, None);
        b.src = SrcAddr::Net("10.1.0.0".parse().unwrap(), 16);
        e.expect(&b).unwrap();
        assert!(t.find(&tup(161, 161, "10.2.0.9"), |_| false).is_none());
        assert!(t.find(&tup(161, 161, "10.1.7.9"), |_| false).is_some());
    }
}
