//! Builders shared by the helpers' integration tests and proptests
//! (`mod common;`); each test crate uses a part of them.
#![allow(dead_code)]

pub mod snmp;

use helpers::{ConnView, Expectation, L4Proto, Outcome, Tuple};
use proptest::prelude::*;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

pub fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

pub fn tuple(proto: L4Proto, src: &str, sport: u16, dst: &str, dport: u16) -> Tuple {
    Tuple {
        src: ip(src),
        dst: ip(dst),
        proto,
        sport,
        dport,
    }
}

pub fn tcp(src: &str, sport: u16, dst: &str, dport: u16) -> Tuple {
    tuple(L4Proto::Tcp, src, sport, dst, dport)
}

pub fn udp(src: &str, sport: u16, dst: &str, dport: u16) -> Tuple {
    tuple(L4Proto::Udp, src, sport, dst, dport)
}

/// Any address of the family.
pub fn addr(v6: bool) -> BoxedStrategy<IpAddr> {
    if v6 {
        any::<[u16; 8]>()
            .prop_map(|s| IpAddr::V6(Ipv6Addr::from(s)))
            .boxed()
    } else {
        any::<[u8; 4]>()
            .prop_map(|o| IpAddr::V4(Ipv4Addr::from(o)))
            .boxed()
    }
}

/// Any connection of `proto`, IPv4 or IPv6, plain or with any NAT (the
/// reply tuple then drawn on its own).
pub fn conn(proto: L4Proto) -> impl Strategy<Value = ConnView> {
    any::<bool>().prop_flat_map(move |v6| {
        (
            addr(v6),
            addr(v6),
            addr(v6),
            addr(v6),
            any::<[u16; 4]>(),
            any::<bool>(),
        )
            .prop_map(move |(a, b, c, d, p, nat)| {
                let orig = Tuple {
                    src: a,
                    dst: b,
                    proto,
                    sport: p[0],
                    dport: p[1],
                };
                if nat {
                    ConnView {
                        orig,
                        reply: Tuple {
                            src: c,
                            dst: d,
                            proto,
                            sport: p[2],
                            dport: p[3],
                        },
                    }
                } else {
                    ConnView::plain(orig)
                }
            })
    })
}

/// A helper's outcome with the expectations the packet made (taken from the
/// [`helpers::testing::TestEnv`]); derefs to the [`Outcome`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Done {
    pub out: Outcome,
    pub expectations: Vec<Expectation>,
}

impl std::ops::Deref for Done {
    type Target = Outcome;
    fn deref(&self) -> &Outcome {
        &self.out
    }
}

impl Done {
    pub fn new(out: Outcome, env: &mut helpers::testing::TestEnv) -> Self {
        Done {
            out,
            expectations: env.take_made(),
        }
    }
    /// Like [`Done::new`], and checks that what the packet made is what the
    /// table gained: each expectation made is live now, and each live one
    /// that was not live before (`before`: `env.live()` before the call) was
    /// made by this packet.
    pub fn checked(
        out: Outcome,
        env: &mut helpers::testing::TestEnv,
        before: &[Expectation],
    ) -> Self {
        let done = Done::new(out, env);
        for e in &done.expectations {
            assert!(env.live().any(|l| l == e), "made but not live: {e:?}");
        }
        // (By tuple and mask: an update may have changed a live one's flags.)
        for l in env.live() {
            assert!(
                before
                    .iter()
                    .chain(&done.expectations)
                    .any(|e| e.same_as(l)),
                "live but not reported as made: {l:?}"
            );
        }
        done
    }
}

/// The stable names of an outcome's event reasons, in order.
pub fn reason_names(o: &Outcome) -> Vec<&'static str> {
    o.events.iter().map(|e| e.reason.name()).collect()
}
