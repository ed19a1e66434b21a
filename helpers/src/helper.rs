//! The interface between a protocol helper and whoever feeds it packets.

use crate::conn::{ConnView, Dir};
use crate::edit::Edit;
use crate::expect::{ExpectError, Expectation};
use crate::registry::HelperInfo;

/// The kernel's limit on a helper's private data (NF_CT_HELPER_PRIV_DATA_MAX… as
/// enforced by nfnetlink_cthelper: NFCTH_PRIV_DATA_LEN ≤ 32).
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
    /// The L4 payload (after the TCP/UDP header), as it is on the wire at
    /// the helper's hook: after NAT of the headers, before any edit.
    pub payload: &'a [u8],
    /// The TCP sequence number of the first payload byte (None for UDP).
    pub tcp_seq: Option<u32>,
    /// The private data stored with the connection.
    pub state: PrivData,
}

/// Something worth a counter and a debug log line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// Stable reason code, used as a metrics label (`bounce`, `malformed`…).
    pub reason: &'static str,
    /// Human readable detail for the log.
    pub detail: String,
}

impl Event {
    pub fn new(reason: &'static str, detail: impl Into<String>) -> Self {
        Event {
            reason,
            detail: detail.into(),
        }
    }
}

/// What a helper decided about one packet.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outcome {
    /// Edits of the payload, by offset into it; non-overlapping.
    pub edits: Vec<Edit>,
    /// The expectations that were created (the [`Env`] accepted them).
    pub expectations: Vec<Expectation>,
    /// New private data, when it changed.
    pub state: Option<PrivData>,
    /// The packet should be dropped (the kernel helper would return
    /// NF_DROP, e.g. when a NAT rewrite failed after its expectation was
    /// set up).
    pub drop: bool,
    /// The payload ends inside a message the helper must see whole. A caller
    /// that can hold this segment should call again with this payload and
    /// the next in-order segment of the same direction concatenated (and the
    /// same `tcp_seq`); a caller that cannot hold it lets the packet pass.
    pub need_more: bool,
    /// Counters and log lines.
    pub events: Vec<Event>,
    /// New remaining lifetime of the master connection, in seconds, where
    /// the kernel helper calls `nf_ct_refresh()` (SIP over UDP:
    /// `sip_timeout`; Amanda: `master_timeout` on every reply). The daemon
    /// sends it as CTA_TIMEOUT with the verdict.
    pub ct_timeout: Option<u32>,
}

impl Outcome {
    pub fn event(&mut self, reason: &'static str, detail: impl Into<String>) {
        self.events.push(Event::new(reason, detail));
    }
    /// Asks `env` for `exp` where a kernel helper calls
    /// `nf_ct_expect_related()` on a connection without NAT: the expectation
    /// is reported when created; a refusal is counted (`expect_failed`, with
    /// `what` in the detail) and the packet passes — the kernel drops it, we
    /// fail open. Returns whether it was created.
    pub fn expect(
        &mut self,
        env: &mut dyn Env,
        exp: Expectation,
        what: &dyn std::fmt::Display,
    ) -> bool {
        match env.expect_related(&exp) {
            Ok(()) => {
                self.expectations.push(exp);
                true
            }
            Err(e) => {
                self.event(
                    "expect_failed",
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

/// The conntrack expectation table, as the helper sees it.
pub trait Env {
    /// Like `nf_ct_expect_related()`: create `exp` or say why not.
    fn expect_related(&mut self, exp: &Expectation) -> Result<(), ExpectError>;
    /// A random number (NAT port search).
    fn random_u32(&mut self) -> u32;

    /// Like `nf_ct_unexpect_related()`: withdraws `exp`, which this packet
    /// created through [`Env::expect_related`] (e.g. the RTP half of an
    /// RTP/RTCP pair whose RTCP half was refused). The default does nothing.
    fn unexpect_related(&mut self, exp: &Expectation) {
        let _ = exp;
    }

    /// Like the SIP helper's `flush_expectations()`: removes the
    /// expectations of this packet's master connection whose class is in
    /// `classes`; returns how many went. The default removes nothing.
    fn remove_expectations(&mut self, classes: &[u8]) -> usize {
        let _ = classes;
        0
    }

    /// Like the SIP helper's `refresh_signalling_expectation()`: finds an
    /// expectation of this packet's master with `class`, `proto`, destination
    /// `dst`/`dport` (the destination as created, i.e. after any NAT of the
    /// expectation), clears its INACTIVE flag and sets its remaining
    /// lifetime to `timeout` seconds. Returns whether one was found. The
    /// default finds none.
    fn refresh_expectation(
        &mut self,
        class: u8,
        proto: crate::conn::L4Proto,
        dst: std::net::IpAddr,
        dport: u16,
        timeout: u32,
    ) -> bool {
        let _ = (class, proto, dst, dport, timeout);
        false
    }

    /// For the SIP helper's `sip_external_media`: whether the route to
    /// `addr` leaves through the interface this packet leaves through
    /// (`Some(true)`: no expectation is needed for media to `addr`). `None`
    /// when unknown, which is also the default.
    fn same_route_as_packet(&mut self, addr: std::net::IpAddr) -> Option<bool> {
        let _ = addr;
        None
    }
}

/// A protocol helper. Implementations are immutable after construction
/// (their configuration); all per-connection state travels in [`PrivData`].
pub trait Helper: Send + Sync + std::fmt::Debug {
    fn info(&self) -> &'static HelperInfo;
    fn handle(&self, pkt: &Packet<'_>, env: &mut dyn Env) -> Outcome;
}
