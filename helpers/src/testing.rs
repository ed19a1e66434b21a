//! A configurable, recording [`Env`] for tests, proptests and fuzz targets
//! (feature `testing`; the crate's own tests enable it).
//!
//! It stands in for the kernel's expectation table: it refuses what it is
//! told to refuse, remembers every call, and keeps the expectations it
//! accepted so removals and changes can be checked. The daemon and replay
//! have real tables and do not use it.

use crate::expect::{ExpectChange, ExpectError, ExpectFlags, Expectation};
use crate::helper::Env;
use std::collections::{HashMap, HashSet, VecDeque};
use std::net::IpAddr;

#[derive(Debug, Default, Clone)]
pub struct TestEnv {
    // What to refuse / answer.
    /// Refuse every expectation with this error.
    pub fail: Option<ExpectError>,
    /// Answer `Clash` to every expectation.
    pub clash_all: bool,
    /// Answer `Clash` when `dport & clash_mask != 0`.
    pub clash_mask: u16,
    /// Answer `Clash` for these destination ports.
    pub clash: HashSet<u16>,
    /// Live expectations of the connection that exist before the packet
    /// (listed by `expectations()`, found by `update`/`unexpect`).
    pub existing: Vec<Expectation>,
    /// What `route_oif` answers, per address (absent: `default_route`).
    pub routes: HashMap<IpAddr, u32>,
    /// What `route_oif` answers for an address not in `routes`.
    pub default_route: Option<u32>,
    /// What `broadcast_prefix` answers, per address (absent: None).
    pub broadcasts: HashMap<IpAddr, u8>,
    /// Random numbers to hand out first; after them a linear congruential
    /// sequence from `seed`.
    pub randoms: VecDeque<u32>,
    pub seed: u32,

    // What happened.
    /// Every `expect` call, refused or not.
    pub calls: Vec<Expectation>,
    /// The expectations accepted (and `existing` ones) not removed since.
    pub created: Vec<Expectation>,
    pub random_calls: usize,
    /// Every `unexpect` call.
    pub unexpected: Vec<Expectation>,
    /// `unexpect` calls for an expectation that was not live: a helper bug.
    pub unexpected_unknown: usize,
    /// Every `update` call.
    pub updated: Vec<(Expectation, ExpectChange)>,
    /// The classes each `unexpect_where` call selected (probed with one
    /// expectation per class 0..8 — the helpers select by class).
    pub removed: Vec<Vec<u8>>,
    /// Expectations created and not withdrawn since the last
    /// [`TestEnv::take_made`]: what the last packet made.
    pub made: Vec<Expectation>,
}

impl TestEnv {
    /// The live expectations: `existing` plus those created since.
    pub fn live(&self) -> impl Iterator<Item = &Expectation> {
        self.existing.iter().chain(self.created.iter())
    }
    /// What was created (and not withdrawn) since the last call.
    pub fn take_made(&mut self) -> Vec<Expectation> {
        std::mem::take(&mut self.made)
    }
    /// Forgets what happened (calls, expectations created or removed,
    /// updates) and keeps the answers to give; the vectors keep their
    /// capacity, so a benchmark that reuses one `TestEnv` per case times
    /// the helper and not the recorder's allocations.
    pub fn clear_record(&mut self) {
        self.calls.clear();
        self.created.clear();
        self.random_calls = 0;
        self.unexpected.clear();
        self.unexpected_unknown = 0;
        self.updated.clear();
        self.removed.clear();
        self.made.clear();
    }
}

impl Env for TestEnv {
    fn expect(&mut self, exp: &Expectation) -> Result<(), ExpectError> {
        self.calls.push(exp.clone());
        if let Some(e) = self.fail {
            return Err(e);
        }
        if self.clash_all || exp.dport & self.clash_mask != 0 || self.clash.contains(&exp.dport) {
            return Err(ExpectError::Clash);
        }
        self.created.retain(|e| !e.same_as(exp));
        self.created.push(exp.clone());
        self.made.retain(|e| !e.same_as(exp));
        self.made.push(exp.clone());
        Ok(())
    }
    fn unexpect(&mut self, exp: &Expectation) -> bool {
        self.unexpected.push(exp.clone());
        if let Some(i) = self.made.iter().rposition(|e| e.same_as(exp)) {
            self.made.remove(i);
        }
        if let Some(i) = self.created.iter().rposition(|e| e.same_as(exp)) {
            self.created.remove(i);
            return true;
        }
        if let Some(i) = self.existing.iter().position(|e| e.same_as(exp)) {
            self.existing.remove(i);
            return true;
        }
        self.unexpected_unknown += 1;
        false
    }
    fn expectations(&mut self) -> Vec<Expectation> {
        self.live().cloned().collect()
    }
    fn update(&mut self, exp: &Expectation, change: ExpectChange) -> bool {
        self.updated.push((exp.clone(), change));
        let mut found = false;
        for e in self.existing.iter_mut().chain(self.created.iter_mut()) {
            if e.same_as(exp) {
                e.flags = ExpectFlags(e.flags.0 & !change.clear.0);
                found = true;
            }
        }
        found
    }
    fn random_u32(&mut self) -> u32 {
        self.random_calls += 1;
        if let Some(r) = self.randoms.pop_front() {
            return r;
        }
        self.seed = self
            .seed
            .wrapping_mul(1_664_525)
            .wrapping_add(1_013_904_223);
        self.seed
    }
    fn route_oif(&mut self, addr: IpAddr) -> Option<u32> {
        self.routes.get(&addr).copied().or(self.default_route)
    }
    fn broadcast_prefix(&mut self, broadcast: IpAddr) -> Option<u8> {
        self.broadcasts.get(&broadcast).copied()
    }
    fn unexpect_where(&mut self, pick: &dyn Fn(&Expectation) -> bool) -> usize {
        let probe = |class: u8| Expectation {
            class,
            ..Expectation::new(class, crate::conn::L4Proto::Udp, IpAddr::from([0u8; 4]), 0)
        };
        self.removed
            .push((0..8u8).filter(|&c| pick(&probe(c))).collect());
        let mut n = 0;
        for e in self.expectations() {
            if pick(&e) && self.unexpect(&e) {
                n += 1;
            }
        }
        n
    }
}
