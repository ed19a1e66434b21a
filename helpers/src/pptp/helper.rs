//! The `pptp` helper (tcp/1723): parse every control message of a segment
//! ([`msg::split`]), decide with the per-call state machine of the module
//! docs ([`super`]), expect the GRE flows of each established call and
//! rewrite the PNS's call ID under NAT.

use super::msg::{self, Body, CallIdAt, End, Msg, RESULT_OK};
use super::state::{Call, CallState, SessionState, State, STATE_LEN};
use crate::conn::{CtState, Dir, L4Proto};
use crate::event::Reason;
use crate::expect::NAT_PORT_ATTEMPTS;
use crate::expect::{ExpectChange, ExpectError, ExpectFlags, ExpectNat, Expectation, SrcAddr};
use crate::helper::{Env, Helper, HelperInfo, Outcome, Packet, PrivData};
use crate::params::{ExpectPolicy, Params};

/// The kernel's helper name.
pub const NAME: &str = "pptp";
/// `pptp_exp_policy.timeout` of nf_conntrack_pptp (5 min).
pub const TIMEOUT: u32 = 300;
/// Two PERMANENT expectations per call, two calls per control connection
/// (the kernel's 2 would evict call 1's when call 2 starts).
pub const MAX_EXPECTED: u32 = 4;

pub static INFO: HelperInfo = HelperInfo {
    name: NAME,
    l4: &[L4Proto::Tcp],
    ipv4: true,
    ipv6: false,
    default_ports: &[msg::CONTROL_PORT],
    policies: &[("pptp", MAX_EXPECTED, TIMEOUT)],
    policies_from_params: None,
    params: &[],
    expected_from: &[],
    priv_len: STATE_LEN,
    summary: "PPTP: GRE of every call both ways, PNS call-ID NAT (many clients behind one NAT)",
    build: |p, pol| Box::new(Pptp::new(p, pol)),
};

#[derive(Debug, Clone)]
pub struct Pptp {
    /// The policy timeout: what Echo refreshes the expectations to.
    pub timeout: u32,
}

impl Default for Pptp {
    fn default() -> Self {
        Pptp { timeout: TIMEOUT }
    }
}

impl Pptp {
    pub fn new(_p: &Params, policies: &[ExpectPolicy]) -> Self {
        Pptp {
            timeout: policies.first().map_or(TIMEOUT, |p| p.timeout),
        }
    }
}

/// The PNS→PAC expectation of `call` (keyed by the PAC's call ID).
pub fn exp_to_pac(pkt: &Packet<'_>, call: &Call, nat: bool) -> Expectation {
    let (o, r) = (&pkt.conn.orig, &pkt.conn.reply);
    Expectation {
        src: SrcAddr::Exact(o.src),
        flags: ExpectFlags::PERMANENT,
        nat: nat.then(|| ExpectNat::follow_master(Dir::Original, r.src, call.pac)),
        ..Expectation::new(0, L4Proto::Gre, o.dst, call.pac)
    }
}

/// The PAC→PNS expectation of `call` (keyed by the PNS's outside call ID).
pub fn exp_to_pns(pkt: &Packet<'_>, call: &Call, nat: bool) -> Expectation {
    let (o, r) = (&pkt.conn.orig, &pkt.conn.reply);
    Expectation {
        src: SrcAddr::Exact(r.src),
        flags: ExpectFlags::PERMANENT,
        nat: nat.then(|| ExpectNat::follow_master(Dir::Reply, o.src, call.pns_in)),
        ..Expectation::new(0, L4Proto::Gre, r.dst, call.pns_out)
    }
}

struct Cx<'p, 'e> {
    pkt: &'p Packet<'p>,
    env: &'e mut dyn Env,
    out: Outcome,
    st: State,
    nat: bool,
    timeout: u32,
}

impl Cx<'_, '_> {
    fn invalid(&mut self, m: &Msg, why: &str) {
        self.out.event(
            Reason::InvalidState,
            format!("{} at {}: {why}", m.msg_type(), m.offset),
        );
    }

    fn rewrite(&mut self, at: CallIdAt, new: u16) {
        if at.value != new {
            self.out.edits.push(at.rewrite(new));
        }
    }

    /// Removes `call`'s expectations (the bits say which exist).
    fn drop_exps(&mut self, call: &mut Call) {
        if call.exp_to_pns {
            let e = exp_to_pns(self.pkt, call, self.nat);
            self.env.unexpect(&e);
            call.exp_to_pns = false;
        }
        if call.exp_to_pac {
            let e = exp_to_pac(self.pkt, call, self.nat);
            self.env.unexpect(&e);
            call.exp_to_pac = false;
        }
    }

    fn alloc(&mut self) -> usize {
        let (slot, old) = self.st.alloc();
        if let Some(mut old) = old {
            self.out.event(
                Reason::ExpectRemoved,
                format!(
                    "call {:#06x}/{:#06x} evicted for a new call (two calls per connection)",
                    old.pns_in, old.pac
                ),
            );
            self.drop_exps(&mut old);
        }
        slot
    }

    fn call(&mut self, slot: usize) -> Call {
        self.st.calls.get(slot).copied().unwrap_or_default()
    }

    fn set(&mut self, slot: usize, c: Call) {
        if let Some(x) = self.st.calls.get_mut(slot) {
            *x = c;
        }
        self.st.touch(slot);
    }

    /// Under NAT: the outside PNS call ID, reserved by creating the
    /// PAC→PNS expectation; first the kernel's choice (the reply tuple's
    /// destination port), then `nf_nat_exp_find_port()`'s random ones,
    /// never the other call's.
    fn reserve(&mut self, slot: usize, call: &mut Call) {
        let first = self.pkt.conn.reply.dport;
        let other: Vec<u16> = self
            .st
            .calls
            .iter()
            .enumerate()
            .filter(|(i, c)| *i != slot && !c.is_free())
            .map(|(_, c)| c.pns_out)
            .collect();
        let min = u32::from(first);
        let range = u32::from(u16::MAX).saturating_sub(min).max(1);
        let mut cand = first;
        let mut err = ExpectError::Clash;
        for _ in 0..=NAT_PORT_ATTEMPTS {
            if !other.contains(&cand) {
                call.pns_out = cand;
                match self.env.expect(&exp_to_pns(self.pkt, call, true)) {
                    Ok(()) => {
                        call.exp_to_pns = true;
                        return;
                    }
                    Err(ExpectError::Clash) => {}
                    Err(e) => {
                        err = e;
                        break;
                    }
                }
            }
            let r = self.env.random_u32() % range;
            cand = u16::try_from(min + r).unwrap_or(first);
        }
        call.pns_out = first;
        call.exp_to_pns = false;
        self.out.event(
            Reason::ExpectFailed,
            format!(
                "GRE to the PNS (call {:#06x}) refused: {err:?}; outside call ID {first}",
                call.pns_in
            ),
        );
    }

    /// The expectations of an established call.
    fn establish(&mut self, call: &mut Call) {
        if !call.exp_to_pac {
            let e = exp_to_pac(self.pkt, call, self.nat);
            call.exp_to_pac = self.out.expect(self.env, &e, &"GRE to the PAC");
        }
        if !call.exp_to_pns {
            let e = exp_to_pns(self.pkt, call, self.nat);
            call.exp_to_pns = self.out.expect(self.env, &e, &"GRE to the PNS");
        }
    }

    fn refresh(&mut self) {
        let change = ExpectChange {
            clear: ExpectFlags::NONE,
            timeout: Some(self.timeout),
        };
        for c in self.st.calls {
            if c.exp_to_pac {
                self.env.update(&exp_to_pac(self.pkt, &c, self.nat), change);
            }
            if c.exp_to_pns {
                self.env.update(&exp_to_pns(self.pkt, &c, self.nat), change);
            }
        }
    }

    fn confirmed(&mut self, m: &Msg) -> bool {
        let ok = self.st.session == SessionState::Confirmed;
        if !ok {
            self.invalid(m, "no confirmed control connection");
        }
        ok
    }

    /// A message from the PNS (the original direction).
    fn outbound(&mut self, m: &Msg) {
        match m.body {
            Body::Sccrq { .. } => {
                if self.st.session == SessionState::Confirmed {
                    self.invalid(m, "control connection already confirmed");
                } else {
                    self.st.session = SessionState::Requested;
                }
            }
            Body::StopCcrq { .. } => self.st.session = SessionState::StopReq,
            Body::Sccrp { .. } | Body::StopCcrp { .. } => self.inbound(m),
            Body::EchoRq { .. } | Body::EchoRp { .. } => self.refresh(),
            Body::Ocrq { call_id, .. } => {
                if !self.confirmed(m) {
                    return;
                }
                let again = self
                    .st
                    .find(|c| c.state == CallState::OutReq && c.pns_in == call_id.value);
                let slot = match again {
                    Some(s) => s,
                    None => self.alloc(),
                };
                let mut c = self.call(slot);
                if again.is_none() {
                    c = Call {
                        state: CallState::OutReq,
                        pns_in: call_id.value,
                        pns_out: call_id.value,
                        ..Call::default()
                    };
                    if self.nat {
                        self.reserve(slot, &mut c);
                    }
                }
                self.rewrite(call_id, c.pns_out);
                self.set(slot, c);
            }
            Body::Icrp {
                call_id,
                peer_call_id,
                result,
                ..
            } => {
                let Some(slot) = self.st.find(|c| {
                    matches!(c.state, CallState::InReq | CallState::InRep)
                        && c.pac == peer_call_id.value
                }) else {
                    self.invalid(m, "no incoming call of this PAC call ID");
                    return;
                };
                let mut c = self.call(slot);
                if result != RESULT_OK {
                    self.drop_exps(&mut c);
                    self.set(slot, Call::default());
                    return;
                }
                if c.state == CallState::InReq || c.pns_in != call_id.value {
                    if c.exp_to_pns {
                        self.drop_exps(&mut c);
                    }
                    c.pns_in = call_id.value;
                    c.pns_out = call_id.value;
                    if self.nat {
                        self.reserve(slot, &mut c);
                    }
                }
                c.state = CallState::InRep;
                self.rewrite(call_id, c.pns_out);
                self.set(slot, c);
            }
            Body::Ccrq { call_id } => {
                if !self.confirmed(m) {
                    return;
                }
                let Some(slot) = self.st.find(|c| c.pns_in == call_id.value) else {
                    self.invalid(m, "no call of this PNS call ID");
                    return;
                };
                let mut c = self.call(slot);
                self.drop_exps(&mut c);
                c.state = CallState::ClearReq;
                self.rewrite(call_id, c.pns_out);
                self.set(slot, c);
            }
            Body::Sli { .. } => {}
            // PAC messages sent by the PNS: nothing to do (the kernel
            // ignores them too).
            _ => self.invalid(m, "a PAC's message from the PNS"),
        }
    }

    /// A message from the PAC (the reply direction).
    fn inbound(&mut self, m: &Msg) {
        match m.body {
            Body::Sccrp { result, .. } => {
                if !matches!(
                    self.st.session,
                    SessionState::Requested | SessionState::Confirmed
                ) {
                    self.invalid(m, "no Start-Control-Connection-Request seen");
                } else if result == RESULT_OK {
                    self.st.session = SessionState::Confirmed;
                } else {
                    self.st.session = SessionState::Error;
                }
            }
            Body::StopCcrq { .. } => self.st.session = SessionState::StopReq,
            Body::StopCcrp { result, .. } => {
                if self.st.session == SessionState::Confirmed
                    || self.st.session == SessionState::Requested
                {
                    self.invalid(m, "no Stop-Control-Connection-Request seen");
                } else if result == RESULT_OK {
                    for slot in 0..self.st.calls.len() {
                        let mut c = self.call(slot);
                        self.drop_exps(&mut c);
                        if let Some(x) = self.st.calls.get_mut(slot) {
                            *x = Call::default();
                        }
                    }
                    self.st.session = SessionState::None;
                } else {
                    self.st.session = SessionState::Error;
                }
            }
            Body::EchoRq { .. } | Body::EchoRp { .. } => self.refresh(),
            Body::Sccrq { .. } => self.outbound(m),
            Body::Ocrp {
                call_id,
                peer_call_id,
                result,
                ..
            } => {
                if !self.confirmed(m) {
                    return;
                }
                let Some(slot) = self.st.find(|c| {
                    matches!(c.state, CallState::OutReq | CallState::OutConf)
                        && c.pns_out == peer_call_id.value
                }) else {
                    self.invalid(m, "no outgoing call of this peer call ID");
                    return;
                };
                let mut c = self.call(slot);
                if self.nat {
                    self.rewrite(peer_call_id, c.pns_in);
                }
                if result != RESULT_OK {
                    self.drop_exps(&mut c);
                    self.set(slot, Call::default());
                    return;
                }
                if c.exp_to_pac && c.pac != call_id.value {
                    let e = exp_to_pac(self.pkt, &c, self.nat);
                    self.env.unexpect(&e);
                    c.exp_to_pac = false;
                }
                c.state = CallState::OutConf;
                c.pac = call_id.value;
                self.establish(&mut c);
                self.set(slot, c);
            }
            Body::Icrq { call_id, .. } => {
                if !self.confirmed(m) {
                    return;
                }
                let again = self
                    .st
                    .find(|c| c.state == CallState::InReq && c.pac == call_id.value);
                let slot = match again {
                    Some(s) => s,
                    None => self.alloc(),
                };
                let c = Call {
                    state: CallState::InReq,
                    pac: call_id.value,
                    ..Call::default()
                };
                self.set(slot, c);
            }
            Body::Iccn { peer_call_id } => {
                if !self.confirmed(m) {
                    return;
                }
                let Some(slot) = self.st.find(|c| {
                    matches!(c.state, CallState::InRep | CallState::InConf)
                        && c.pns_out == peer_call_id.value
                }) else {
                    self.invalid(m, "no incoming call of this peer call ID");
                    return;
                };
                let mut c = self.call(slot);
                if self.nat {
                    self.rewrite(peer_call_id, c.pns_in);
                }
                c.state = CallState::InConf;
                self.establish(&mut c);
                self.set(slot, c);
            }
            Body::Cdn { call_id, .. } => {
                let by_pac = self.st.find(|c| c.pac == call_id.value && c.pac != 0);
                let slot = by_pac.or_else(|| self.st.find(|c| c.pns_out == call_id.value));
                let Some(slot) = slot else {
                    self.invalid(m, "no call of this call ID");
                    return;
                };
                let mut c = self.call(slot);
                if self.nat && by_pac.is_none() {
                    // accel-ppp, Windows: the PNS's (outside) ID.
                    self.rewrite(call_id, c.pns_in);
                }
                self.drop_exps(&mut c);
                self.set(slot, Call::default());
            }
            Body::Wen { peer_call_id } | Body::Sli { peer_call_id } => {
                if let Some(slot) = self.st.find(|c| c.pns_out == peer_call_id.value) {
                    let c = self.call(slot);
                    if self.nat {
                        self.rewrite(peer_call_id, c.pns_in);
                    }
                } else {
                    self.invalid(m, "no call of this peer call ID");
                }
            }
            _ => self.invalid(m, "a PNS's message from the PAC"),
        }
    }
}

impl Helper for Pptp {
    fn info(&self) -> &'static HelperInfo {
        &INFO
    }

    fn handle(&self, pkt: &Packet<'_>, env: &mut dyn Env) -> Outcome {
        let mut out = Outcome::default();
        // conntrack_pptp_help(): established connections only, IPv4 only.
        if pkt.payload.is_empty() || pkt.ctinfo != CtState::Established || pkt.conn.is_ipv6() {
            return out;
        }
        let split = msg::split(pkt.payload);
        for (at, e) in &split.skipped {
            out.event(Reason::Malformed, format!("message at {at} skipped: {e}"));
        }
        match split.end {
            End::Complete => {}
            End::Partial { offset, need } => {
                out.event(
                    Reason::Partial,
                    format!(
                        "message at {offset} continues in the next segment ({need} more bytes)"
                    ),
                );
                out.incomplete = Some(offset);
            }
            End::Error { offset, error } => out.event(
                Reason::Malformed,
                format!("not PPTP at {offset}: {error}; the rest passes unchanged"),
            ),
        }
        if split.msgs.is_empty() {
            return out;
        }
        let st = State::decode(pkt.state.as_bytes());
        let mut cx = Cx {
            pkt,
            env,
            out,
            st,
            nat: pkt.conn.nat() || pkt.status.nat(),
            timeout: self.timeout,
        };
        for m in &split.msgs {
            match pkt.dir {
                Dir::Original => cx.outbound(m),
                Dir::Reply => cx.inbound(m),
            }
        }
        let mut out = cx.out;
        if cx.st != st {
            out.state = Some(PrivData::from_bytes(&cx.st.encode()));
        }
        out
    }
}
