//! A model of the kernel's expectation table (nf_conntrack_expect.c):
//! per-master limits by class with eviction of the oldest, global clash
//! detection, timeouts, and lookup of a new flow.

use helpers::{Env, Event, ExpectError, ExpectFlags, ExpectPolicy, Expectation, Tuple};

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
}

#[derive(Debug, Clone, Default)]
pub struct Table {
    pub live: Vec<Live>,
    serial: u64,
}

/// Same tuple and mask (expect_matches()).
fn same(a: &Expectation, b: &Expectation) -> bool {
    a.proto == b.proto
        && a.src == b.src
        && a.sport == b.sport
        && a.dst == b.dst
        && a.dport == b.dport
}

/// The parts covered by both masks are equal (expect_clash()).
fn clash(a: &Expectation, b: &Expectation) -> bool {
    let src = match (a.src, b.src) {
        (Some(x), Some(y)) => x == y,
        _ => true,
    };
    let sport = match (a.sport, b.sport) {
        (Some(x), Some(y)) => x == y,
        _ => true,
    };
    a.proto == b.proto && a.dst == b.dst && a.dport == b.dport && src && sport
}

/// The flow `t` matches `e` under its mask.
pub fn matches(e: &Expectation, t: &Tuple) -> bool {
    e.proto == t.proto
        && e.dst == t.dst
        && e.dport == t.dport
        && e.src.is_none_or(|s| s == t.src)
        && e.sport.is_none_or(|p| p == t.sport)
}

impl Table {
    /// Drops expectations whose timeout passed.
    pub fn expire(&mut self, now_ns: u64) -> Vec<Live> {
        let (gone, keep): (Vec<Live>, Vec<Live>) =
            self.live.drain(..).partition(|l| l.deadline_ns < now_ns);
        self.live = keep;
        gone
    }

    /// Removes every expectation of `master` (the master went away).
    pub fn remove_master(&mut self, master: usize) {
        self.live.retain(|l| l.master != master);
    }

    /// nf_ct_find_expectation(): the first active expectation `t` matches.
    /// Non-permanent expectations are removed.
    pub fn find(&mut self, t: &Tuple, mut also: impl FnMut(&Live) -> bool) -> Option<Live> {
        let i = self.live.iter().position(|l| {
            !l.exp.flags.contains(ExpectFlags::INACTIVE) && (matches(&l.exp, t) || also(l))
        })?;
        let l = self.live.get(i)?.clone();
        if !l.exp.flags.contains(ExpectFlags::PERMANENT) {
            self.live.remove(i);
        }
        Some(l)
    }
}

/// splitmix64: a small deterministic generator for `Env::random_u32`.
#[derive(Debug, Clone)]
pub struct Rng(pub u64);

impl Rng {
    pub fn next_u32(&mut self) -> u32 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 32) as u32
    }
}

/// The [`Env`] one helper call sees.
pub struct TableEnv<'a> {
    pub table: &'a mut Table,
    pub rng: &'a mut Rng,
    pub master: usize,
    pub policies: &'a [ExpectPolicy],
    pub now_ns: u64,
    pub frame: u64,
    /// What the table did besides inserting (evictions, refusals).
    pub events: Vec<Event>,
}

impl Env for TableEnv<'_> {
    fn expect_related(&mut self, exp: &Expectation) -> Result<(), ExpectError> {
        let Some(policy) = self.policies.get(usize::from(exp.class)) else {
            self.events.push(Event::new(
                "expect-refused",
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
        let table = &mut *self.table;
        let master = self.master;
        if let Some(i) = table
            .live
            .iter()
            .position(|l| l.master == master && same(&l.exp, exp))
        {
            if table.live[i].exp.class != exp.class {
                self.events.push(Event::new(
                    "expect-refused",
                    format!(
                        "an identical expectation of class {} of this connection exists (EALREADY)",
                        table.live[i].exp.class
                    ),
                ));
                return Err(ExpectError::Refused);
            }
            table.live.remove(i);
        } else if table.live.iter().any(|l| clash(&l.exp, exp)) {
            return Err(ExpectError::Clash);
        }
        if policy.max_expected > 0 {
            let mine = |l: &&Live| l.master == self.master && l.exp.class == exp.class;
            let count = table.live.iter().filter(mine).count();
            if count >= policy.max_expected as usize {
                // evict_oldest_expect()
                if let Some((i, old)) = table
                    .live
                    .iter()
                    .enumerate()
                    .filter(|(_, l)| mine(l))
                    .min_by_key(|(_, l)| l.serial)
                {
                    self.events.push(Event::new(
                        "expect-evicted",
                        format!(
                            "over max_expected {} of class {}: oldest (frame {}) evicted",
                            policy.max_expected, exp.class, old.frame
                        ),
                    ));
                    table.live.remove(i);
                }
            }
        }
        table.serial += 1;
        let timeout = u64::from(policy.timeout) * 1_000_000_000;
        table.live.push(Live {
            exp: exp.clone(),
            master: self.master,
            frame: self.frame,
            deadline_ns: self.now_ns.saturating_add(timeout),
            serial: table.serial,
        });
        Ok(())
    }

    fn random_u32(&mut self) -> u32 {
        self.rng.next_u32()
    }

    fn unexpect_related(&mut self, exp: &Expectation) {
        let master = self.master;
        let before = self.table.live.len();
        self.table
            .live
            .retain(|l| !(l.master == master && l.exp.class == exp.class && same(&l.exp, exp)));
        if self.table.live.len() < before {
            self.events.push(Event::new(
                "expect-withdrawn",
                format!(
                    "{} to {} class {} withdrawn by the helper",
                    exp.proto,
                    helpers::text::SockAddrText(exp.dst, exp.dport),
                    exp.class
                ),
            ));
        }
    }

    fn remove_expectations(&mut self, classes: &[u8]) -> usize {
        let master = self.master;
        let before = self.table.live.len();
        self.table
            .live
            .retain(|l| !(l.master == master && classes.contains(&l.exp.class)));
        let n = before - self.table.live.len();
        if n > 0 {
            self.events.push(Event::new(
                "expect-removed",
                format!("{n} expectation(s) of this connection in classes {classes:?} removed"),
            ));
        }
        n
    }

    fn refresh_expectation(
        &mut self,
        class: u8,
        proto: helpers::L4Proto,
        dst: std::net::IpAddr,
        dport: u16,
        timeout: u32,
    ) -> bool {
        let (master, now) = (self.master, self.now_ns);
        let Some(l) = self.table.live.iter_mut().find(|l| {
            l.master == master
                && l.exp.class == class
                && l.exp.proto == proto
                && l.exp.dst == dst
                && l.exp.dport == dport
        }) else {
            return false;
        };
        l.exp.flags = ExpectFlags(l.exp.flags.0 & !ExpectFlags::INACTIVE.0);
        l.deadline_ns = now.saturating_add(u64::from(timeout) * 1_000_000_000);
        self.events.push(Event::new(
            "expect-refreshed",
            format!("expectation of frame {} active for {timeout} s", l.frame),
        ));
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use helpers::L4Proto;

    fn exp(dport: u16, src: Option<&str>) -> Expectation {
        Expectation {
            class: 0,
            proto: L4Proto::Tcp,
            src: src.map(|s| s.parse().unwrap()),
            dst: "192.0.2.1".parse().unwrap(),
            sport: None,
            dport,
            flags: ExpectFlags::NONE,
            helper: None,
            nat: None,
        }
    }

    fn env<'a>(
        t: &'a mut Table,
        r: &'a mut Rng,
        p: &'a [ExpectPolicy],
        master: usize,
    ) -> TableEnv<'a> {
        TableEnv {
            table: t,
            rng: r,
            master,
            policies: p,
            now_ns: 0,
            frame: 1,
            events: vec![],
        }
    }

    #[test]
    fn evicts_oldest_over_max_and_detects_clash() {
        let pol = [ExpectPolicy {
            name: "ftp".into(),
            max_expected: 1,
            timeout: 300,
        }];
        let (mut t, mut r) = (Table::default(), Rng(0));
        let mut e = env(&mut t, &mut r, &pol, 0);
        e.expect_related(&exp(5000, None)).unwrap();
        e.expect_related(&exp(5001, None)).unwrap();
        assert_eq!(e.events[0].reason, "expect-evicted");
        assert_eq!(t.live.len(), 1);
        assert_eq!(t.live[0].exp.dport, 5001);
        // Another master wanting the same dst port with a narrower mask clashes.
        let mut e = env(&mut t, &mut r, &pol, 1);
        assert_eq!(
            e.expect_related(&exp(5001, Some("10.0.0.1"))),
            Err(ExpectError::Clash)
        );
        // The identical expectation from another master clashes too (flags
        // 0: the master is part of the match).
        assert_eq!(e.expect_related(&exp(5001, None)), Err(ExpectError::Clash));
        // The same master re-adding it replaces it.
        let mut e = env(&mut t, &mut r, &pol, 0);
        e.expect_related(&exp(5001, None)).unwrap();
        assert!(e.events.is_empty());
        assert_eq!(t.live.len(), 1);
        // … and of another class: EALREADY.
        let pol2 = [pol[0].clone(), pol[0].clone()];
        let mut e = env(&mut t, &mut r, &pol2, 0);
        let mut other = exp(5001, None);
        other.class = 1;
        assert_eq!(e.expect_related(&other), Err(ExpectError::Refused));
        assert_eq!(e.events[0].reason, "expect-refused");
        // Withdrawing and flushing are reported.
        e.unexpect_related(&exp(5001, None));
        assert_eq!(e.events[1].reason, "expect-withdrawn");
        assert_eq!(e.remove_expectations(&[0]), 0);
        assert_eq!(e.events.len(), 2);
        assert_eq!(t.live.len(), 0);
    }

    #[test]
    fn unlimited_policy_and_timeouts() {
        let pol = [ExpectPolicy {
            name: "x".into(),
            max_expected: 0,
            timeout: 1,
        }];
        let (mut t, mut r) = (Table::default(), Rng(7));
        let mut e = env(&mut t, &mut r, &pol, 0);
        for p in 1..=5 {
            e.expect_related(&exp(p, None)).unwrap();
        }
        let a = e.random_u32();
        assert_ne!(a, e.random_u32());
        assert_eq!(t.live.len(), 5);
        assert!(t.expire(1_000_000_000).is_empty());
        assert_eq!(t.expire(1_000_000_001).len(), 5);
    }

    #[test]
    fn find_removes_unless_permanent() {
        let mut t = Table::default();
        let mut p = exp(21, Some("10.0.0.1"));
        p.flags = ExpectFlags::PERMANENT;
        for e in [exp(20, None), p] {
            t.live.push(Live {
                exp: e,
                master: 0,
                frame: 1,
                deadline_ns: 9,
                serial: 0,
            });
        }
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
    }
}
