//! The RAS helper (H.225.0 registration, admission and status on udp/1719):
//! `ras_help()` and `process_ras()` of nf_conntrack_h323_main.c with the
//! RAS parts of nf_nat_h323.c (`set_ras_addr()`, `set_sig_addr()`,
//! `nat_q931()`). See the [module documentation](super) for what each
//! message yields.

use super::track::{Ctx, MAX_ADDRESSES, Q931_NAME, RAS_NAME, STATE_LEN};
use super::{decode_ras, Addr, Ras, RasMsg};
use crate::conn::L4Proto;
use crate::event::Reason;
use crate::expect::{ExpectChange, ExpectFlags, SrcAddr};
use crate::helper::{Env, Helper, HelperInfo, Outcome, Packet};
use crate::params::{ExpectPolicy, Param, Params};

/// `default_rrq_ttl` of nf_conntrack_h323.
pub const DEFAULT_RRQ_TTL: Param<u32> = Param::u32(
    "default_rrq_ttl",
    300,
    0,
    u32::MAX,
    "use this TTL if it's missing in RRQ",
);

/// `gkrouted_only` of nf_conntrack_h323 (an int in the kernel; 0 or 1).
pub const GKROUTED_ONLY: Param<u32> = Param::u32(
    "gkrouted_only",
    1,
    0,
    1,
    "only accept calls from gatekeeper",
);

/// Lifetime of a RAS connection after an URQ ("30 seconds for UCF or URJ").
pub const URQ_TIMEOUT: u32 = 30;

pub static INFO: HelperInfo = HelperInfo {
    name: RAS_NAME,
    l4: &[L4Proto::Udp],
    ipv4: true,
    ipv6: true,
    default_ports: &[1719],
    policies: &[("ras", 32, 240)],
    policies_from_params: None,
    params: &[DEFAULT_RRQ_TTL.spec, GKROUTED_ONLY.spec],
    expected_from: &[],
    priv_len: STATE_LEN,
    summary: "H.323 RAS: gatekeeper discovery, registration, admission → Q.931 and RAS",
    build: |p, pol| Box::new(RasHelper::new(p, pol)),
};

#[derive(Debug, Clone)]
pub struct RasHelper {
    pub default_rrq_ttl: u32,
    pub gkrouted_only: bool,
}

impl Default for RasHelper {
    fn default() -> Self {
        RasHelper::new(&INFO.default_params(), &[])
    }
}

impl RasHelper {
    pub fn new(p: &Params, _policies: &[ExpectPolicy]) -> Self {
        RasHelper {
            default_rrq_ttl: p.get(DEFAULT_RRQ_TTL),
            gkrouted_only: p.get(GKROUTED_ONLY) != 0,
        }
    }

    /// `process_ras()`.
    fn process(&self, cx: &mut Ctx<'_>, ras: &Ras) {
        let list = |l: &[Option<Addr>]| -> Vec<Option<Addr>> {
            l.iter().take(MAX_ADDRESSES).copied().collect()
        };
        match &ras.msg {
            RasMsg::Grq { ras_address } => {
                if cx.nat() {
                    set_ras_addr(cx, &[*ras_address]);
                }
            }
            RasMsg::Gcf { ras_address } => process_gcf(cx, ras_address.as_ref()),
            RasMsg::Rrq {
                call_signal_address,
                ras_address,
                time_to_live,
                ..
            } => {
                // process_rrq(); keepAlive is not read (the kernel's table
                // stops before it): a lightweight RRQ is an RRQ.
                self.expect_q931(cx, &list(call_signal_address));
                if cx.nat() {
                    set_ras_addr(cx, &list(ras_address));
                }
                cx.st.timeout = time_to_live.unwrap_or(self.default_rrq_ttl);
            }
            RasMsg::Rcf {
                call_signal_address,
                time_to_live,
            } => process_rcf(cx, &list(call_signal_address), *time_to_live),
            RasMsg::Urq {
                call_signal_address,
            } => {
                if cx.nat() {
                    set_sig_addr(cx, &list(call_signal_address));
                }
                // Clear old expect.
                cx.env.unexpect_where(&|_| true);
                cx.st.sig_port = [0, 0];
                cx.out.ct_timeout = Some(URQ_TIMEOUT);
            }
            RasMsg::Arq {
                dest_call_signal_address,
                src_call_signal_address,
            } => process_arq(
                cx,
                dest_call_signal_address.as_ref(),
                src_call_signal_address.as_ref(),
            ),
            RasMsg::Acf {
                dest_call_signal_address,
            } => process_acf(cx, dest_call_signal_address.as_ref()),
            RasMsg::Lrq { reply_address } => {
                if cx.nat() {
                    set_ras_addr(cx, &[*reply_address]);
                }
            }
            RasMsg::Lcf {
                call_signal_address,
                ..
            } => {
                // The rasAddress is ignored, as the kernel does.
                let Some(a) = cx.addr(call_signal_address.as_ref()) else {
                    return;
                };
                q931_expectation(cx, &a, "LCF");
            }
            RasMsg::Irr {
                ras_address,
                call_signal_address,
            } => {
                if cx.nat() {
                    set_ras_addr(cx, &[*ras_address]);
                    set_sig_addr(cx, &list(call_signal_address));
                }
            }
            RasMsg::Other => {}
        }
    }

    /// `expect_q931()`: the first call signal address at the sender's own
    /// address (port ≠ 0) gets a PERMANENT TCP expectation with the Q.931
    /// helper, from the gatekeeper (`gkrouted_only`) or any source; under
    /// NAT `nat_q931()`.
    fn expect_q931(&self, cx: &mut Ctx<'_>, list: &[Option<Addr>]) {
        let me = cx.me();
        let Some((idx, a)) = list.iter().enumerate().find_map(|(i, a)| {
            cx.addr(a.as_ref())
                .filter(|a| a.ip == me.src && a.port != 0)
                .map(|a| (i, a))
        }) else {
            return;
        };
        let peer = cx.peer();
        let src = if self.gkrouted_only {
            SrcAddr::Exact(peer.src)
        } else {
            SrcAddr::Any
        };
        let mut exp = cx.expectation(L4Proto::Tcp, src, peer.dst, a.port);
        exp.helper = Some(Q931_NAME);
        exp.flags = ExpectFlags::PERMANENT;
        if !cx.nat() {
            if cx.expect(&exp, "Q.931") {
                // Saved for looking the expectation up in the RCF.
                let d = cx.dir;
                cx.st.set_sig(d, a.port);
            }
            return;
        }
        // nat_q931(). The kernel's expectfn `ip_nat_q931_expect` is
        // nf_nat_follow_master for a source-specific expectation; from any
        // source it only translates the destination (see the module
        // documentation: it exists only with nf_nat_h323 loaded).
        let Some(nated) = cx.nat_signal_addr(&mut exp, &a, "Q.931") else {
            return;
        };
        // Fix for Gnomemeeting: a loopback first address gets the same.
        if idx > 0 {
            if let Some(first) = cx.addr(list.first().copied().flatten().as_ref()) {
                if first.ip.is_loopback() {
                    cx.set_addr(&first, peer.dst, nated);
                }
            }
        }
    }
}

/// A PERMANENT TCP expectation with the Q.931 helper from the peer to `a`
/// (ACF, LCF: the call this endpoint will make), without NAT.
fn q931_expectation(cx: &mut Ctx<'_>, a: &Addr, what: &str) {
    let peer = cx.peer();
    let mut exp = cx.expectation(L4Proto::Tcp, SrcAddr::Exact(peer.src), a.ip, a.port);
    exp.flags = ExpectFlags::PERMANENT;
    exp.helper = Some(Q931_NAME);
    cx.expect(&exp, what);
}

/// `process_gcf()`: a RAS expectation when the gatekeeper's registration
/// address is not the one it was discovered at (never on an expected
/// connection: no RAS expectation loops).
fn process_gcf(cx: &mut Ctx<'_>, ras_address: Option<&Addr>) {
    let Some(a) = cx.addr(ras_address) else {
        return;
    };
    let me = cx.me();
    if a.ip == me.src && a.port == me.sport {
        return;
    }
    if cx.status.expected() {
        return;
    }
    let peer = cx.peer();
    let mut exp = cx.expectation(L4Proto::Udp, SrcAddr::Exact(peer.src), a.ip, a.port);
    exp.helper = Some(RAS_NAME);
    cx.expect(&exp, "RAS");
}

/// `process_rcf()`: under NAT the call signal address; the registration's
/// lifetime (the RCF's timeToLive, else the RRQ's) becomes the connection's
/// and the Q.931 expectation's.
///
/// The kernel's `find_expect()` looks the expectation up with source
/// 0.0.0.0 and the original port, which never finds a source-specific one
/// (`gkrouted_only`, the default) nor a NATed one on another port: the
/// registered endpoint's expectation then dies with the policy timeout
/// (240 s) even when the registration lasts longer. We find it by protocol,
/// destination and either signal port.
fn process_rcf(cx: &mut Ctx<'_>, list: &[Option<Addr>], ttl: Option<u32>) {
    if cx.nat() {
        set_sig_addr(cx, list);
    }
    if let Some(t) = ttl {
        cx.st.timeout = t;
    }
    let timeout = cx.st.timeout;
    if timeout == 0 {
        return;
    }
    cx.out.ct_timeout = Some(timeout);
    let dst = cx.me().dst;
    let ports = [cx.sig_there(), cx.sig_here()];
    let found = cx.env.expectations().into_iter().find(|e| {
        e.proto == L4Proto::Tcp
            && e.helper == Some(Q931_NAME)
            && e.dst == dst
            && e.dport != 0
            && ports.contains(&e.dport)
    });
    if let Some(e) = found {
        cx.env.update(
            &e,
            ExpectChange {
                clear: ExpectFlags::NONE,
                timeout: Some(timeout),
            },
        );
    }
}

/// `process_arq()`: under NAT the answering endpoint's destCallSignalAddress
/// (its own address and signal port) or the calling endpoint's
/// srcCallSignalAddress (its own address) becomes what the gatekeeper sees.
fn process_arq(cx: &mut Ctx<'_>, dest: Option<&Addr>, src: Option<&Addr>) {
    if !cx.nat() {
        return;
    }
    let me = cx.me();
    let peer = cx.peer();
    if let Some(a) = cx.addr(dest) {
        if a.ip == me.src && a.port == cx.sig_here() {
            let port = cx.sig_there();
            cx.set_addr(&a, peer.dst, port);
            return;
        }
    }
    if let Some(a) = cx.addr(src) {
        if a.ip == me.src {
            cx.set_addr(&a, peer.dst, a.port);
        }
    }
}

/// `process_acf()`: an ACF for this endpoint's own address is rewritten
/// under NAT (`set_sig_addr`); one for another address expects the call
/// this endpoint will make there.
fn process_acf(cx: &mut Ctx<'_>, dest: Option<&Addr>) {
    let Some(a) = cx.addr(dest) else {
        return;
    };
    if a.ip == cx.me().dst {
        if cx.nat() {
            set_sig_addr(cx, &[Some(a)]);
        }
        return;
    }
    q931_expectation(cx, &a, "ACF");
}

/// `set_ras_addr()`: the first address that is the sender's own
/// address and port becomes what the peer sees (`tuplehash[!dir].dst`).
fn set_ras_addr(cx: &mut Ctx<'_>, list: &[Option<Addr>]) {
    let me = cx.me();
    let peer = cx.peer();
    for a in list {
        if let Some(a) = cx.addr(a.as_ref()) {
            if a.ip == me.src && a.port == me.sport {
                cx.set_addr(&a, peer.dst, peer.dport);
                return;
            }
        }
    }
}

/// `set_sig_addr()`: the first call signal address with this direction's
/// signal port that is the sender's own address (endpoint → gatekeeper:
/// what the peer sees, the NATed signal port) or the receiver's (gatekeeper
/// → endpoint: the endpoint's real address and port). Gnomemeeting: when
/// the match is not the first address and the first is a loopback one, the
/// first is rewritten instead.
fn set_sig_addr(cx: &mut Ctx<'_>, list: &[Option<Addr>]) {
    let me = cx.me();
    let peer = cx.peer();
    for (i, a) in list.iter().enumerate() {
        let Some(a) = cx.addr(a.as_ref()) else {
            continue;
        };
        if a.port != cx.sig_here() {
            continue;
        }
        let port = cx.sig_there();
        if a.ip == me.src {
            let first = cx
                .addr(list.first().copied().flatten().as_ref())
                .filter(|f| i > 0 && f.ip.is_loopback());
            cx.set_addr(&first.unwrap_or(a), peer.dst, port);
            return;
        }
        if a.ip == me.dst {
            cx.set_addr(&a, peer.src, port);
            return;
        }
    }
}

impl Helper for RasHelper {
    fn info(&self) -> &'static HelperInfo {
        &INFO
    }

    fn handle(&self, pkt: &Packet<'_>, env: &mut dyn Env) -> Outcome {
        if pkt.payload.is_empty() {
            return Outcome::default();
        }
        let ras = match decode_ras(pkt.payload) {
            Ok(r) => r,
            Err(e) => {
                let mut out = Outcome::default();
                out.event(Reason::Malformed, format!("RAS message: {e}"));
                return out;
            }
        };
        let mut cx = Ctx::new(pkt, env);
        self.process(&mut cx, &ras);
        cx.finish(&pkt.state)
    }
}
