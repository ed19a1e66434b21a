//! A configurable, recording [`Env`] for tests, proptests and fuzz targets.
//!
//! It stands in for the kernel's expectation table: it refuses what it is
//! told to refuse, remembers every call, and keeps the expectations it
//! accepted so flushes and withdrawals can be checked. The daemon and replay
//! have real tables and do not use it.

use crate::conn::L4Proto;
use crate::expect::{ExpectError, Expectation};
use crate::helper::Env;
use std::collections::{HashSet, VecDeque};
use std::net::IpAddr;

#[derive(Debug, Default, Clone)]
pub struct TestEnv {
    // What to refuse.
    /// Refuse every expectation with this error.
    pub fail: Option<ExpectError>,
    /// Answer `Clash` to every expectation.
    pub clash_all: bool,
    /// Answer `Clash` when `dport & clash_mask != 0`.
    pub clash_mask: u16,
    /// Answer `Clash` for these destination ports.
    pub clash: HashSet<u16>,
    /// What `refresh_expectation` answers.
    pub refresh_finds: bool,
    /// What `same_route_as_packet` answers.
    pub same_route: Option<bool>,
    /// Random numbers to hand out first; after them a linear congruential
    /// sequence from `seed`.
    pub randoms: VecDeque<u32>,
    pub seed: u32,

    // What happened.
    /// Every `expect_related` call, refused or not.
    pub calls: Vec<Expectation>,
    /// The expectations accepted and not withdrawn or removed since.
    pub created: Vec<Expectation>,
    pub random_calls: usize,
    pub unexpected: Vec<Expectation>,
    /// `unexpect_related` calls for an expectation that was not live: a
    /// helper bug.
    pub unexpected_unknown: usize,
    /// The class lists of `remove_expectations` calls.
    pub removed: Vec<Vec<u8>>,
    pub refreshed: Vec<(u8, L4Proto, IpAddr, u16, u32)>,
}

impl Env for TestEnv {
    fn expect_related(&mut self, exp: &Expectation) -> Result<(), ExpectError> {
        self.calls.push(exp.clone());
        if let Some(e) = self.fail {
            return Err(e);
        }
        if self.clash_all || exp.dport & self.clash_mask != 0 || self.clash.contains(&exp.dport) {
            return Err(ExpectError::Clash);
        }
        self.created.push(exp.clone());
        Ok(())
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
    fn unexpect_related(&mut self, exp: &Expectation) {
        self.unexpected.push(exp.clone());
        match self.created.iter().rposition(|e| e == exp) {
            Some(i) => {
                self.created.remove(i);
            }
            None => self.unexpected_unknown += 1,
        }
    }
    fn remove_expectations(&mut self, classes: &[u8]) -> usize {
        self.removed.push(classes.to_vec());
        let before = self.created.len();
        self.created.retain(|e| !classes.contains(&e.class));
        before - self.created.len()
    }
    fn refresh_expectation(
        &mut self,
        class: u8,
        proto: L4Proto,
        dst: IpAddr,
        dport: u16,
        timeout: u32,
    ) -> bool {
        self.refreshed.push((class, proto, dst, dport, timeout));
        self.refresh_finds
    }
    fn same_route_as_packet(&mut self, _addr: IpAddr) -> Option<bool> {
        self.same_route
    }
}
