//! The Q.931 helper (H.225.0 call signalling in TPKT on tcp/1720):
//! `q931_help()` and `process_q931()` of nf_conntrack_h323_main.c with the
//! call-signalling parts of nf_nat_h323.c (`set_h225_addr()`, `nat_h245()`,
//! `nat_callforwarding()`). See the [module documentation](super).

use std::net::IpAddr;

use super::track::{
    of_mut, process_h245, process_olc, tpkts, Ctx, H245_NAME, MAX_FAST_START, MAX_H245_CONTROL,
    Q931_NAME, STATE_LEN,
};
use super::{decode_q931_at, Addr, Body, H245Olc, Q931};
use crate::conn::{CtState, L4Proto};
use crate::event::Reason;
use crate::expect::{ExpectNat, SrcAddr};
use crate::helper::{Env, Helper, HelperInfo, Outcome, Packet};
use crate::params::{ExpectPolicy, Param, Params};

/// `callforward_filter` of nf_conntrack_h323.
pub const CALLFORWARD_FILTER: Param<bool> = Param::bool(
    "callforward_filter",
    true,
    "only create call forwarding expectations if both endpoints are on different sides (determined by routing information)",
);

pub static INFO: HelperInfo = HelperInfo {
    name: Q931_NAME,
    l4: &[L4Proto::Tcp],
    ipv4: true,
    ipv6: true,
    default_ports: &[1720],
    policies: &[("q931", 20, 240)],
    policies_from_params: None,
    params: &[CALLFORWARD_FILTER.spec],
    // The RAS helper's expectations name it: ctnetlink looks a helper name
    // up with the master's transport.
    expected_from: &[L4Proto::Udp],
    priv_len: STATE_LEN,
    summary: "H.323 call signalling (Q.931): H.245, fastStart and tunnelled media, call forwarding",
    build: |p, pol| Box::new(Q931Helper::new(p, pol)),
};

#[derive(Debug, Clone)]
pub struct Q931Helper {
    pub callforward_filter: bool,
}

impl Default for Q931Helper {
    fn default() -> Self {
        Q931Helper::new(&INFO.default_params(), &[])
    }
}

impl Q931Helper {
    pub fn new(p: &Params, _policies: &[ExpectPolicy]) -> Self {
        Q931Helper {
            callforward_filter: p.get(CALLFORWARD_FILTER),
        }
    }

    /// `process_q931()`: the message body, then every h245Control element.
    fn process(&self, cx: &mut Ctx<'_>, q: &Q931) {
        let fast = |cx: &mut Ctx<'_>, fs: &[H245Olc]| {
            for o in fs.iter().take(MAX_FAST_START) {
                process_olc(cx, o);
            }
        };
        match &q.body {
            Body::Setup {
                h245_address,
                dest_call_signal_address,
                source_call_signal_address,
                fast_start,
            } => {
                expect_h245(cx, h245_address.as_ref());
                if cx.nat() {
                    let peer = cx.peer();
                    // destCallSignalAddress: the callee as it really is.
                    if let Some(a) = cx.addr(dest_call_signal_address.as_ref()) {
                        if a.ip != peer.src {
                            cx.set_addr(&a, peer.src, peer.sport);
                        }
                    }
                    // sourceCallSignalAddress: the caller as the callee sees it.
                    if let Some(a) = cx.addr(source_call_signal_address.as_ref()) {
                        if a.ip != peer.dst {
                            cx.set_addr(&a, peer.dst, peer.dport);
                        }
                    }
                }
                fast(cx, fast_start);
            }
            Body::CallProceeding(s) | Body::Connect(s) | Body::Alerting(s) | Body::Progress(s) => {
                expect_h245(cx, s.h245_address.as_ref());
                fast(cx, &s.fast_start);
            }
            Body::Facility {
                reason,
                alternative_address,
                h245_address,
                fast_start,
            } => {
                if *reason == "callForwarded" {
                    // Only the forwarding: h245Address and fastStart of a
                    // forwarding Facility are not looked at.
                    if let Some(a) = alternative_address {
                        self.expect_callforwarding(cx, a);
                    }
                } else {
                    expect_h245(cx, h245_address.as_ref());
                    fast(cx, fast_start);
                }
            }
            Body::Other => {}
        }
        for m in q.h245_control.iter().take(MAX_H245_CONTROL) {
            process_h245(cx, m);
        }
    }

    /// `expect_callforwarding()`: the receiver of a call-forwarding
    /// Facility will call the alternative address: a TCP expectation from it
    /// with the Q.931 helper — unless `callforward_filter` and the routes to
    /// both lead the same way (they meet without passing here).
    fn expect_callforwarding(&self, cx: &mut Ctx<'_>, a: &Addr) {
        let Some(a) = cx.addr(Some(a)) else { return };
        if a.port == 0 {
            return;
        }
        let peer = cx.peer();
        if self.callforward_filter && same_side(cx, a.ip, peer.src) {
            cx.out.event_by(
                Reason::Withheld,
                CALLFORWARD_FILTER.name(),
                format!(
                    "call forwarding to {}: the caller {} is on the same side",
                    a.ip, peer.src
                ),
            );
            return;
        }
        let mut exp = cx.expectation(L4Proto::Tcp, SrcAddr::Exact(peer.src), a.ip, a.port);
        exp.helper = Some(Q931_NAME);
        if !cx.nat_this_side() {
            cx.expect(&exp, "call forwarding");
            return;
        }
        // nat_callforwarding(): the forwarded call comes to the address the
        // peer sees and is sent on to the alternative address. The kernel's
        // expectfn for that (`ip_nat_callforwarding_expect`, nf_nat_h323)
        // cannot be loaded beside cthelperd; nf_nat_follow_master does the
        // same when the alternative address is this side's own (it sends the
        // flow to `tuplehash[dir].src`). Another address cannot be reached:
        // the Facility passes unchanged.
        if a.ip != cx.me().src {
            cx.out.event(
                Reason::ExpectFailed,
                format!(
                    "call forwarding under NAT to a third address ({}) needs the kernel's callforwarding expectfn: not translated",
                    a.ip
                ),
            );
            return;
        }
        exp.dst = peer.dst;
        exp.nat = Some(ExpectNat::follow_master(cx.dir.reverse(), a.ip, a.port));
        let Some(nated) = cx.find_port(&mut exp, a.port) else {
            cx.out.event(
                Reason::ExpectFailed,
                "no port for call forwarding: address left untranslated",
            );
            return;
        };
        cx.set_addr(&a, peer.dst, nated);
    }
}

/// `callforward_do_filter()`: the routes to `a` and `b` leave by the same
/// interface. (The kernel also compares the gateways; the route facts a
/// helper gets are the interfaces.) Unknown routes: not the same side.
fn same_side(cx: &mut Ctx<'_>, a: IpAddr, b: IpAddr) -> bool {
    let ra = cx.env.route_oif(a);
    let rb = cx.env.route_oif(b);
    ra.is_some() && ra == rb
}

/// `expect_h245()`: the H.245 address at the sender's own address (port ≠
/// 0) gets a TCP expectation with the H.245 helper, from the peer; under NAT
/// `nat_h245()`: the port this connection already translated it to, else
/// the same, searched as `nf_nat_exp_find_port()`.
fn expect_h245(cx: &mut Ctx<'_>, a: Option<&Addr>) {
    let Some(a) = cx.addr(a) else { return };
    if a.ip != cx.me().src || a.port == 0 {
        return;
    }
    let peer = cx.peer();
    let mut exp = cx.expectation(L4Proto::Tcp, SrcAddr::Exact(peer.src), peer.dst, a.port);
    exp.helper = Some(H245_NAME);
    if !cx.nat_this_side() {
        cx.expect(&exp, "H.245");
        return;
    }
    cx.nat_signal_addr(&mut exp, &a, "H.245");
}

impl Helper for Q931Helper {
    fn info(&self) -> &'static HelperInfo {
        &INFO
    }

    fn handle(&self, pkt: &Packet<'_>, env: &mut dyn Env) -> Outcome {
        each_tpkt(pkt, env, "Q.931", decode_q931_at, |cx, q| {
            self.process(cx, q)
        })
    }
}

/// The TCP side of Q.931 and H.245: nothing until there's been traffic both
/// ways; then every whole TPKT of the segment decoded and processed in
/// order. A message that does not decode ends the look (event `malformed`;
/// the kernel neither drops nor looks further); a TPKT that continues past
/// the segment is held.
pub(crate) fn each_tpkt<M>(
    pkt: &Packet<'_>,
    env: &mut dyn Env,
    what: &str,
    decode: fn(&[u8], usize, usize) -> super::per::Result<M>,
    mut process: impl FnMut(&mut Ctx<'_>, &M),
) -> Outcome {
    if pkt.ctinfo != CtState::Established {
        return Outcome::default();
    }
    let mut cx = Ctx::new(pkt, env);
    let t = tpkts(pkt.payload, of_mut(&mut cx.st.tpkt_len, pkt.dir));
    let mut broke = false;
    for &(off, len) in &t.frames {
        match decode(pkt.payload, off, len) {
            Ok(m) => process(&mut cx, &m),
            Err(e) => {
                cx.out
                    .event(Reason::Malformed, format!("{what} message: {e}"));
                broke = true;
                break;
            }
        }
    }
    hold(&mut cx, &t, broke, pkt.payload.len());
    cx.finish(&pkt.state)
}

/// A TPKT that continues past the segment is held (the kernel skips it):
/// everything before it was handled.
pub(crate) fn hold(cx: &mut Ctx<'_>, t: &super::track::Tpkts, broke: bool, len: usize) {
    if let (Some(at), false) = (t.incomplete, broke) {
        cx.out.incomplete = Some(at);
        cx.out.event(
            Reason::Partial,
            format!("TPKT continues past {} bytes", len.saturating_sub(at)),
        );
    }
}
