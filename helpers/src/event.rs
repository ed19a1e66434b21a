//! Events: what a helper, the flow core or a driver counts and logs.
//!
//! Every event has one [`Reason`] whose [`Reason::name`] is the stable
//! string used alike as the metrics label (`reason="bounce"`), in log lines
//! (`reason=bounce`) and in `cthelperd replay`'s output. A refusal that a
//! helper parameter causes names that parameter ([`Event::param`]).

use std::fmt;

macro_rules! reasons {
    ($( $(#[$doc:meta])* $v:ident => $name:literal, )*) => {
        /// Why something was counted. Names are `snake_case` and stable.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Reason {
            $( $(#[$doc])* $v, )*
        }
        impl Reason {
            /// Every reason, in declaration order.
            pub const ALL: &'static [Reason] = &[$(Reason::$v,)*];
            /// The stable name.
            pub const fn name(self) -> &'static str {
                match self {
                    $(Reason::$v => $name,)*
                }
            }
        }
    };
}

reasons! {
    // --- protocol helpers: the payload ---
    /// A message that does not parse (the packet passes unchanged).
    Malformed => "malformed",
    /// A message cut short (the packet passes unchanged).
    Truncated => "truncated",
    /// A message that continues in the next segment (held, see the flow core).
    Partial => "partial",
    /// A message longer than the helper looks at.
    TooLong => "too_long",
    /// More SDP media lines than the helper handles.
    TooManyMedia => "too_many_media",
    /// An address of another family than the connection, or a name.
    Family => "family",
    /// An SNMPv3 message under NAT: passed unchanged (its addresses are
    /// authenticated or encrypted; the kernel drops it).
    SnmpV3 => "snmpv3",
    /// A message the protocol's state machine does not expect now (a PPTP
    /// call reply without its request): nothing changes, the packet passes.
    InvalidState => "invalid_state",
    // --- protocol helpers: security decisions ---
    /// FTP bounce: the advertised address is not the sender's.
    Bounce => "bounce",
    /// Forged IRC DCC: the offered address is not the sender's.
    Forged => "forged",
    /// A media or data port below 1024.
    LowPort => "low_port",
    /// A helper parameter withheld an expectation or a rewrite
    /// ([`Event::param`] names it).
    Withheld => "withheld",
    // --- expectations ---
    /// The expectation table refused an expectation (the packet passes).
    ExpectFailed => "expect_failed",
    /// The table refused an expectation for a reason of its own (no policy,
    /// an identical one of another class).
    ExpectRefused => "expect_refused",
    /// Over the class's `max_expected`: the oldest expectation went.
    ExpectEvicted => "expect_evicted",
    /// A helper withdrew an expectation it had made.
    ExpectWithdrawn => "expect_withdrawn",
    /// A helper removed expectations of its connection.
    ExpectRemoved => "expect_removed",
    /// A helper changed an expectation (flags, lifetime).
    ExpectChanged => "expect_changed",
    // --- NAT ---
    /// A NAT rewrite could not be completed: the packet is dropped so no
    /// untranslated address leaks (as the kernel's NF_DROP).
    NatFailed => "nat_failed",
    // --- the flow core: holding split messages ---
    /// A held message grew past `hold_bytes` / the segment limit: what was
    /// complete is handled, the rest passes.
    HoldOverflow => "hold_overflow",
    /// Held segments waited longer than `hold_ms` and passed.
    HoldTimeout => "hold_timeout",
    /// A segment that is not the next one arrived: the held ones passed.
    HoldOutOfOrder => "hold_out_of_order",
    /// A retransmission of held data was dropped (the held copy goes on).
    HoldRetransmission => "hold_retransmission",
    /// The daemon stopped while segments were held: they passed.
    HoldShutdown => "hold_shutdown",
    /// The connection (or the capture) ended while segments were held.
    HoldEnd => "hold_end",
    // --- the flow core: applying a helper's decision ---
    /// A helper's edits do not fit its payload (a helper bug).
    BadEdit => "bad_edit",
    /// A TCP size change on a connection without NAT: nothing would adjust
    /// the sequence numbers, so the packet passes unchanged.
    ResizeWithoutNat => "resize_without_nat",
    /// A TCP size change on an unconfirmed IPv6 connection (the kernel's
    /// NFQUEUE glue records the sequence adjustment at a wrong offset for
    /// IPv6 and ctnetlink cannot reach the connection yet).
    ResizeIpv6Unconfirmed => "resize_ipv6_unconfirmed",
    /// An edited packet could not be rebuilt (too large).
    Rebuild => "rebuild",
    // --- the packet itself (flow core) ---
    /// L3/L4 headers that cannot be used.
    BadHeader => "bad_header",
    /// An IP fragment (the kernel defragments before conntrack).
    Fragment => "fragment",
    /// Not TCP, UDP or GRE.
    OtherProtocol => "other_protocol",
    // --- the daemon and the kernel ---
    /// A queued message without a packet id.
    NoPacketId => "no_packet_id",
    /// The kernel copied less than the whole packet.
    TruncatedCopy => "truncated_copy",
    /// An unsegmented GSO packet.
    Gso => "gso",
    /// A queued packet without conntrack (queue without F_CONNTRACK?).
    NoConntrack => "no_conntrack",
    /// A conntrack without helper.
    NoHelper => "no_helper",
    /// A helper name this daemon does not serve.
    UnknownHelper => "unknown_helper",
    /// No NFQA_CT_INFO.
    NoCtinfo => "no_ctinfo",
    /// The kernel refused a verdict.
    VerdictRefused => "verdict_refused",
    /// Sending a verdict failed.
    VerdictSend => "verdict_send",
    /// The queue socket overflowed (packets passed by fail-open).
    Enobufs => "enobufs",
    /// A ctnetlink request timed out or failed to be sent.
    Ctnetlink => "ctnetlink",
    /// The kernel refused a sequence adjustment: the packet passes unchanged.
    SeqadjRefused => "seqadj_refused",
    /// An expectation's flags could not be changed.
    ExpectChangeFailed => "expect_change_failed",
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Something worth a counter and a debug log line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub reason: Reason,
    /// The helper parameter that caused it, when one did.
    pub param: Option<&'static str>,
    /// Human readable detail for the log.
    pub detail: String,
}

impl Event {
    pub fn new(reason: Reason, detail: impl Into<String>) -> Self {
        Event {
            reason,
            param: None,
            detail: detail.into(),
        }
    }
    /// An event caused by the helper parameter `param`.
    pub fn by_param(reason: Reason, param: &'static str, detail: impl Into<String>) -> Self {
        Event {
            reason,
            param: Some(param),
            detail: detail.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn names_are_unique_snake_case() {
        let mut seen = HashSet::new();
        for r in Reason::ALL {
            let n = r.name();
            assert!(seen.insert(n), "{n} twice");
            assert!(
                n.bytes()
                    .all(|b| b.is_ascii_lowercase() || b == b'_' || b.is_ascii_digit()),
                "{n}"
            );
        }
    }
}
