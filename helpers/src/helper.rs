//! The interface between a protocol helper and whoever feeds it packets.
//!
//! A [`Helper`] gets a [`Packet`] — the connection as conntrack sees it, the
//! payload, its private data — and an [`Env`], the conntrack expectation
//! table and the few facts about the network it may ask for. It answers with
//! an [`Outcome`]. Each protocol module exports a [`HelperInfo`] listed in
//! [`crate::registry`].

use crate::conn::{ConnView, CtState, CtStatus, Dir, L4Proto};
use crate::edit::Edit;
use crate::event::{Event, Reason};
use crate::expect::{ExpectChange, ExpectError, Expectation};
use crate::params::{ExpectPolicy, ParamKind, ParamSpec, ParamValue, Params};
use std::net::IpAddr;

/// The kernel's limit on a helper's private data (NFCTH_PRIV_DATA_LEN ≤ 32,
/// enforced by nfnetlink_cthelper).
pub const PRIV_DATA_MAX: usize = 32;

/// A helper's private per-connection state, as the kernel stores it in the
/// conntrack's help extension. Whatever a helper must remember about a
/// connection lives here, so a restarted daemon loses nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct PrivData(pub [u8; PRIV_DATA_MAX]);

impl PrivData {
    pub const ZERO: PrivData = PrivData([0; PRIV_DATA_MAX]);

    /// From the bytes the kernel handed over (shorter input is zero-padded,
    /// longer input cut: the kernel never sends more than the registered
    /// length).
    pub fn from_bytes(b: &[u8]) -> Self {
        let mut d = [0u8; PRIV_DATA_MAX];
        for (dst, src) in d.iter_mut().zip(b) {
            *dst = *src;
        }
        PrivData(d)
    }
    pub fn as_bytes(&self) -> &[u8; PRIV_DATA_MAX] {
        &self.0
    }
}

/// One packet handed to a helper.
#[derive(Debug, Clone, Copy)]
pub struct Packet<'a> {
    pub conn: ConnView,
    pub dir: Dir,
    /// New, established or related (`ip_conntrack_info` without the
    /// direction).
    pub ctinfo: CtState,
    /// The conntrack's status bits.
    pub status: CtStatus,
    /// The conntrack zone (0: the default zone).
    pub zone: u16,
    /// The L4 payload (after the TCP/UDP header), as it is on the wire at
    /// the helper's hook: after NAT of the headers, before any edit. When
    /// the flow core joined held segments, their payloads concatenated.
    pub payload: &'a [u8],
    /// The TCP sequence number of the first payload byte (None for UDP).
    pub tcp_seq: Option<u32>,
    /// The private data stored with the connection.
    pub state: PrivData,
    /// The interface the packet leaves by (NFQA_IFINDEX_OUTDEV), when known.
    pub outdev: Option<u32>,
}

impl Packet<'static> {
    /// A packet with nothing in it: an established, confirmed IPv4 TCP
    /// connection 0.0.0.0:0 → 0.0.0.0:0 without NAT, empty payload, zero
    /// state. Tests and fuzz targets fill in what they need with struct
    /// update syntax (`Packet { conn, payload, ..Packet::EMPTY }`).
    pub const EMPTY: Packet<'static> = {
        let t = crate::conn::Tuple {
            src: IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED),
            dst: IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED),
            proto: L4Proto::Tcp,
            sport: 0,
            dport: 0,
        };
        Packet {
            conn: ConnView::plain(t),
            dir: Dir::Original,
            ctinfo: CtState::Established,
            status: CtStatus(CtStatus::CONFIRMED | CtStatus::SEEN_REPLY),
            zone: 0,
            payload: &[],
            tcp_seq: None,
            state: PrivData::ZERO,
            outdev: None,
        }
    };
}

/// What a helper decided about one packet.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outcome {
    /// Edits of the payload, by offset into it; non-overlapping.
    pub edits: Vec<Edit>,
    /// New private data, when it changed.
    pub state: Option<PrivData>,
    /// The packet should be dropped (the kernel helper would return
    /// NF_DROP, e.g. when a NAT rewrite failed after its expectation was
    /// set up).
    pub drop: bool,
    /// The payload from this offset on is an incomplete message the helper
    /// must see whole (TCP only). What comes before it was handled: its
    /// edits, expectations and the new state count. The flow core holds the
    /// segment and calls again with the bytes from this offset followed by
    /// the next in-order segment of the same direction (with `tcp_seq`
    /// advanced by the offset and the new state); when it cannot hold, the
    /// packet goes on with the edits made so far. With `drop` it has no
    /// meaning (every held segment is dropped): helpers leave it `None`.
    pub incomplete: Option<usize>,
    /// Counters and log lines.
    pub events: Vec<Event>,
    /// New remaining lifetime of the master connection, in seconds, where
    /// the kernel helper calls `nf_ct_refresh()` (SIP over UDP:
    /// `sip_timeout`; Amanda: `master_timeout` on every reply). The daemon
    /// sends it as CTA_TIMEOUT with the verdict.
    pub ct_timeout: Option<u32>,
}

impl Outcome {
    pub fn event(&mut self, reason: Reason, detail: impl Into<String>) {
        self.events.push(Event::new(reason, detail));
    }
    /// An event caused by the helper parameter `param`.
    pub fn event_by(&mut self, reason: Reason, param: &'static str, detail: impl Into<String>) {
        self.events.push(Event::by_param(reason, param, detail));
    }
    /// Asks `env` for `exp` where a kernel helper calls
    /// `nf_ct_expect_related()` on a connection without NAT: a refusal is
    /// counted (`expect_failed`, with `what` in the detail) and the packet
    /// passes — the kernel drops it, we fail open. Returns whether it was
    /// created.
    pub fn expect(
        &mut self,
        env: &mut dyn Env,
        exp: &Expectation,
        what: &dyn std::fmt::Display,
    ) -> bool {
        match env.expect(exp) {
            Ok(()) => true,
            Err(e) => {
                self.event(
                    Reason::ExpectFailed,
                    format!("{what} expectation refused: {e:?}"),
                );
                false
            }
        }
    }
    /// Size change of the payload.
    pub fn delta(&self) -> isize {
        crate::edit::total_delta(&self.edits)
    }
}

/// The conntrack expectation table of the packet's master connection, and
/// the facts about the network a helper may need. Every expectation a
/// helper makes, removes or changes goes through here; the caller records
/// what happened.
pub trait Env {
    /// Like `nf_ct_expect_related()`: create `exp` for this packet's
    /// connection or say why not.
    fn expect(&mut self, exp: &Expectation) -> Result<(), ExpectError>;

    /// Like `nf_ct_unexpect_related()` / `nf_ct_remove_expect()`: removes
    /// the expectation of this connection with `exp`'s tuple and mask.
    /// Returns whether there was one.
    fn unexpect(&mut self, exp: &Expectation) -> bool;

    /// The live expectations of this connection (those this packet made
    /// included).
    fn expectations(&mut self) -> Vec<Expectation>;

    /// Changes the live expectation of this connection with `exp`'s tuple
    /// and mask: clears flags, sets its remaining lifetime. Returns whether
    /// there was one.
    fn update(&mut self, exp: &Expectation, change: ExpectChange) -> bool;

    /// A random number (NAT port search).
    fn random_u32(&mut self) -> u32;

    /// The interface index the route to `addr` leaves by (the kernel's FIB
    /// lookup), when known.
    fn route_oif(&mut self, addr: IpAddr) -> Option<u32>;

    /// When `broadcast` is the broadcast address of a local interface's
    /// subnet, that subnet's prefix length (`nf_conntrack_broadcast_help`:
    /// the answers to a broadcast come from any host of the subnet).
    fn broadcast_prefix(&mut self, broadcast: IpAddr) -> Option<u8>;

    /// Removes every expectation of this connection `pick` selects; returns
    /// how many went.
    fn unexpect_where(&mut self, pick: &dyn Fn(&Expectation) -> bool) -> usize {
        let mut n = 0;
        for e in self.expectations() {
            if pick(&e) && self.unexpect(&e) {
                n += 1;
            }
        }
        n
    }
}

/// A protocol helper. Implementations are immutable after construction
/// (their configuration); all per-connection state travels in [`PrivData`].
pub trait Helper: Send + Sync + std::fmt::Debug {
    fn info(&self) -> &'static HelperInfo;
    fn handle(&self, pkt: &Packet<'_>, env: &mut dyn Env) -> Outcome;
}

/// Static description of a helper, equal to the kernel module's defaults.
#[derive(Debug)]
pub struct HelperInfo {
    /// Helper name (NFCTH_NAME, ≤ 15 bytes), as the kernel module names it.
    pub name: &'static str,
    /// The transport protocols it serves (one kernel registration each, per
    /// address family).
    pub l4: &'static [L4Proto],
    /// Whether the protocol is handled over IPv4 / IPv6.
    pub ipv4: bool,
    pub ipv6: bool,
    /// The ports new connections get the helper on. Empty for a helper that
    /// only serves connections other helpers expect (H.245).
    pub default_ports: &'static [u16],
    /// (name, max_expected, timeout) per expectation class, the kernel's.
    pub policies: &'static [(&'static str, u32, u32)],
    pub params: &'static [ParamSpec],
    /// For helpers whose kernel module derives its expectation policy from
    /// module parameters (IRC: `max_dcc_channels`, `dcc_timeout`): the
    /// policies the parameters give. Configuring the policy directly as
    /// well is an error (they are one setting).
    pub policies_from_params: Option<fn(&Params) -> Vec<ExpectPolicy>>,
    /// Transports, besides `l4`, of the master connections whose
    /// expectations name this helper (H.323: RAS over UDP expects Q.931
    /// calls over TCP). The kernel looks the name of an expectation's helper
    /// up with the *master's* transport, so the helper is registered for
    /// these too — without ports and without nft rules.
    pub expected_from: &'static [L4Proto],
    /// Bytes of private data per connection (≤ 32).
    pub priv_len: usize,
    pub summary: &'static str,
    /// Builds the helper from its parameters and (possibly user-tuned)
    /// policies.
    pub build: fn(&Params, &[ExpectPolicy]) -> Box<dyn Helper>,
}

impl HelperInfo {
    pub fn default_policies(&self) -> Vec<ExpectPolicy> {
        self.policies
            .iter()
            .map(|&(name, max_expected, timeout)| ExpectPolicy {
                name: name.to_string(),
                max_expected,
                timeout,
            })
            .collect()
    }
    pub fn default_params(&self) -> Params {
        Params::defaults(self.params)
    }
    /// The policies for `params` before any explicit override.
    pub fn policies_for(&self, params: &Params) -> Vec<ExpectPolicy> {
        match self.policies_from_params {
            Some(f) => f(params),
            None => self.default_policies(),
        }
    }
    /// `tcp`, `udp` or `udp+tcp`.
    pub fn l4_names(&self) -> String {
        self.l4
            .iter()
            .map(|p| p.name())
            .collect::<Vec<_>>()
            .join("+")
    }
    /// The name of expectation class `class`, if the helper has it.
    pub fn class_name(&self, class: u8) -> Option<&'static str> {
        self.policies.get(usize::from(class)).map(|p| p.0)
    }
    /// The parameter that sets `field` of the policy of class `class`, for
    /// a helper whose policies come from its parameters (IRC's
    /// `max_dcc_channels` is the `irc` class's `max_expected`): the one
    /// whose change changes that field. `None`: the policy is set on its
    /// own (or the helper has no such class).
    pub fn policy_param(&self, class: usize, field: PolicyField) -> Option<&'static ParamSpec> {
        let f = self.policies_from_params?;
        let base = self.default_params();
        let value = |p: &Params| f(p).get(class).map(|pol| field.of(pol));
        let before = value(&base)?;
        self.params.iter().find(|spec| {
            let ParamKind::U32 { min, max } = spec.kind else {
                return false;
            };
            let ParamValue::U32(d) = spec.default else {
                return false;
            };
            let other = if d < max {
                d + 1
            } else {
                d.saturating_sub(1).max(min)
            };
            let mut p = base.clone();
            other != d
                && p.set(self.params, spec.name, ParamValue::U32(other))
                    .is_ok()
                && value(&p) != Some(before)
        })
    }
}

/// A field of an [`ExpectPolicy`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyField {
    MaxExpected,
    Timeout,
}

impl PolicyField {
    pub const ALL: [PolicyField; 2] = [PolicyField::MaxExpected, PolicyField::Timeout];
    /// The key in a `[helper.NAME.policy.CLASS]` table.
    pub const fn key(self) -> &'static str {
        match self {
            PolicyField::MaxExpected => "max_expected",
            PolicyField::Timeout => "timeout",
        }
    }
    pub fn of(self, p: &ExpectPolicy) -> u32 {
        match self {
            PolicyField::MaxExpected => p.max_expected,
            PolicyField::Timeout => p.timeout,
        }
    }
}
