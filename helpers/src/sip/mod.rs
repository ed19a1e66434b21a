//! SIP: signalling and media expectations and NAT — the kernel's
//! `nf_conntrack_sip.c` and `nf_nat_sip.c`, over UDP and TCP, IPv4 and IPv6.
//!
//! # Parse ([`msg`], [`sdp`])
//! An offset-based scanner: every header, URI, parameter and SDP field is
//! a byte range of the payload. On UDP the datagram is one message (cut at
//! Content-Length when shorter). On TCP, messages are framed by
//! Content-Length (required on streams); several messages in one segment
//! are each handled; a message that continues past the segment is held:
//! the complete messages before it are handled and
//! [`Outcome::incomplete`]` = Some(where it starts)` (event `partial`) — the
//! caller calls again with it joined to the next in-order segment, with the
//! new state. A message longer than [`MAX_HELD`] bytes is not held: the
//! complete messages are handled and the rest passes (event `too_long`). A
//! packet that is dropped holds nothing. A Content-Length that is not plain
//! decimal or exceeds 65535 stops the framing (event `malformed`): nothing
//! is read past the payload whatever the value (the CVE class of the
//! kernel's SIP Content-Length handling). A segment that does not start with a SIP start line (a pickup
//! in the middle of a message) is left alone.
//!
//! # Decide (`process_sip_request()` / `process_sip_response()`)
//! | message | action |
//! |---|---|
//! | request (UDP) | top Via sent-by = sender's address with another port → `forced_dport` |
//! | INVITE | flush media expectations; SDP; `invite_cseq` = CSeq |
//! | UPDATE, ACK, PRACK | SDP |
//! | BYE, CANCEL | flush media expectations (CANCEL: ours; the kernel waits for the 487) |
//! | REGISTER | `process_register_request()`: signalling expectation |
//! | response to INVITE/UPDATE/PRACK | 1xx/2xx: SDP; else if CSeq = `invite_cseq`: flush media |
//! | response to REGISTER | `process_register_response()` |
//!
//! SDP (`process_sdp()` + `set_expected_rtp_rtcp()`): for every `m=` line of
//! type audio/video/image with a port ≠ 0, at the media-level `c=` address or
//! else the session one: an RTP expectation at the even port `port & !1`
//! and an RTCP one at the next port (or the `a=rtcp:` port), UDP, class
//! audio 1 / video 2 / image 3, no helper, flags 0. With `sip_direct_media`
//! only media at the sender's own address is expected, from the peer's
//! address (other media: event `withheld` naming `sip_direct_media`); else
//! any source, and with `sip_external_media` none when the route to the
//! media address leaves by the interface the packet leaves by
//! ([`Env::route_oif`] = [`Packet::outdev`]; event `withheld` naming
//! `sip_external_media`). REGISTER (`process_register_request()`): the first
//! Contact at the sender's address, `transport=` matching the connection,
//! lifetime = Contact `expires=` or else the Expires header (0: none) →
//! class 0, proto of the connection, src = registrar (with
//! `sip_direct_signalling`) or any, dst = Contact address/port (5060 if
//! none), flags PERMANENT|INACTIVE, helper `sip`. Its 2xx response refreshes
//! it (found among [`Env::expectations`] by class, protocol, destination
//! address and port, then [`Env::update`]: INACTIVE cleared, lifetime ≤
//! `sip_timeout`) or flushes the signalling expectation
//! ([`Env::unexpect_where`]).
//!
//! # NAT (`nf_nat_sip()`, only when the connection is NATed)
//! Request-URI, the top Via's sent-by (when it names this connection's
//! sender, or for a response its receiver) and its `maddr=`, `received=`,
//! `rport=`, every Contact, From and To: `map_addr()` — an `addr:port` equal
//! to this direction's source becomes the other direction's destination,
//! one equal to this direction's destination becomes the other direction's
//! source (port `forced_dport` if known). Written `addr:port` (IPv6 in
//! brackets, compressed), always with the port, as the kernel. SDP
//! (`nf_nat_sdp_media()`): the expectations point at the address the peer
//! sees (`tuple[!dir].dst`, unless this side is not translated) with
//! `ExpectNat{dir: !dir, saved: the SDP address/port}`; the port pair is
//! searched from the even port upwards in steps of two, as the kernel
//! (bounded to [`MAX_PAIR_ATTEMPTS`]); the `m=` port, `a=rtcp:`, media `c=`,
//! session `o=`/`c=` and Content-Length are rewritten. REGISTER
//! (`nf_nat_sip_expect()`): the expectation is NATed the same way, the port
//! searched as `nf_nat_exp_find_port()`, and the Contact rewritten.
//!
//! # Deliberate differences from the kernel
//! * Every `m=` line (up to [`sdp::MAX_MEDIA`]), not three; one message
//!   spread over TCP segments (held, see *Parse*); Content-Length bounded.
//! * Fail open: a malformed message, a refused expectation without NAT, a
//!   media port < 1024 (event `low_port`, that line only), an SDP without a
//!   usable address — the kernel drops the packet (`NF_DROP`), we let it
//!   pass unchanged (or with the other lines handled) and count an event.
//!   Only a NAT that cannot be completed (no port, message too large) drops,
//!   as the kernel, so no untranslated address leaks.
//! * Hold and unspecified addresses (`c=IN IP4 0.0.0.0`, `c=IN IP6 ::`) make
//!   no expectation, and the session `o=`/`c=` are rewritten only when they
//!   carry the sender's address or a media address we translated: the
//!   kernel writes its last `rtp_addr` into both, whatever they held (a
//!   hold SDP got `o=… 0.0.0.0`; with no media line the address was
//!   uninitialised — the CVE-2026-31427 lesson).
//! * Content-Length becomes the old value plus the size change of the body
//!   (the kernel counts from `v=` to the end of the packet, wrong for
//!   multipart bodies and for the second message of a TCP segment).
//! * Only the top Via is looked at (the kernel takes the first Via whose
//!   address parses, which may be a lower one); only the Via of the
//!   connection's transport; `transport=`, `expires=`, `rport=` are read as
//!   decimal (the kernel's `simple_strtoul(…, 0)` reads `010` as octal).
//! * `a=rtcp:` (RFC 3605) is honoured: the RTCP expectation goes to its port
//!   (≥ 1024, else the line is refused) and under NAT the attribute is
//!   rewritten with the allocated pair; the kernel ignores it and expects
//!   RTCP at the even port + 1 only. As the kernel, an odd `m=` port expects
//!   the even port below it and its successor.
//! * Commas inside quoted display names or `<…>` do not split Contact
//!   values; the SDP is bounded by its body (or MIME part).
//! * Not done here (needs the caller): the kernel's "RTP optimization"
//!   (reusing another master's expectation for hairpinned calls,
//!   `__nf_ct_expect_find()`), the "expected connections cannot register"
//!   check (`IPS_EXPECTED`, now in [`Packet::status`], is not looked at
//!   yet), and the UDP destination
//!   port rewrite to `forced_dport` on replies (a header, not payload).
//!
//! # Private data ([`SipState`], [`STATE_LEN`] = 11 bytes, little-endian)
//! `struct nf_ct_sip_master` plus validity flags:
//!
//! | bytes | field |
//! |-------|-------|
//! | 0..4  | `register_cseq` (u32 LE) |
//! | 4..8  | `invite_cseq` (u32 LE) |
//! | 8..10 | `forced_dport` (u16 LE, 0 = none) |
//! | 10    | flags: bit 0 `register_cseq` valid, bit 1 `invite_cseq` valid |

pub mod msg;
pub mod nat;
pub mod sdp;

use std::net::IpAddr;

use crate::conn::{ConnView, Dir, L4Proto};
use crate::event::Reason;
use crate::expect::{ExpectChange, ExpectError, ExpectFlags, ExpectNat, Expectation, SrcAddr};
use crate::helper::HelperInfo;
use crate::helper::{Env, Helper, Outcome, Packet, PrivData};
use crate::params::{ExpectPolicy, Param, Params};
use msg::{Framing, HostPort, Msg, Span, StartLine};
use nat::Rewriter;

/// Bytes of private data the SIP helper uses.
pub const STATE_LEN: usize = 11;

/// Most bytes of an incomplete TCP message asked to be held
/// ([`Outcome::incomplete`]).
pub const MAX_HELD: usize = 65535;

/// Most RTP/RTCP port pairs tried per media line under NAT (the kernel
/// tries every even port up to 65534).
pub const MAX_PAIR_ATTEMPTS: u32 = 256;

/// Longest payload a rewrite may produce (see the FTP helper).
const MAX_PAYLOAD: usize = 65535 - 40;

/// Shortest payload looked at (`strlen("SIP/2.0 200")`).
const MIN_LEN: usize = 11;

/// Expectation classes (`enum sip_expectation_classes`).
pub const CLASS_SIGNALLING: u8 = 0;
pub const MEDIA_CLASSES: [u8; 3] = [1, 2, 3];

/// The parameters of nf_conntrack_sip, same names and defaults.
pub const SIP_TIMEOUT: Param<u32> = Param::u32(
    "sip_timeout",
    3600,
    1,
    u32::MAX,
    "timeout for the master SIP session (seconds)",
);
pub const SIP_DIRECT_SIGNALLING: Param<bool> = Param::bool(
    "sip_direct_signalling",
    true,
    "expect incoming calls from registrar only",
);
pub const SIP_DIRECT_MEDIA: Param<bool> = Param::bool(
    "sip_direct_media",
    true,
    "expect media streams between signalling endpoints only",
);
pub const SIP_EXTERNAL_MEDIA: Param<bool> = Param::bool(
    "sip_external_media",
    false,
    "expect media streams between external endpoints",
);

pub static INFO: HelperInfo = HelperInfo {
    name: "sip",
    l4: &[L4Proto::Udp, L4Proto::Tcp],
    ipv4: true,
    ipv6: true,
    default_ports: &[5060],
    policies: &[
        ("signalling", 1, 180),
        ("audio", 4, 180),
        ("video", 4, 180),
        ("image", 2, 180),
    ],
    policies_from_params: None,
    expected_from: &[],
    params: &[
        SIP_TIMEOUT.spec,
        SIP_DIRECT_SIGNALLING.spec,
        SIP_DIRECT_MEDIA.spec,
        SIP_EXTERNAL_MEDIA.spec,
    ],
    priv_len: STATE_LEN,
    summary: "SIP: RTP/RTCP media and REGISTER signalling, UDP and TCP",
    build: |p, pol| Box::new(Sip::new(p, pol)),
};

// ---------------------------------------------------------------------------
// State
// ---------------------------------------------------------------------------

/// `struct nf_ct_sip_master`; see the module documentation for the layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SipState {
    pub register_cseq: Option<u32>,
    pub invite_cseq: Option<u32>,
    pub forced_dport: Option<u16>,
}

const FLAG_REGISTER: u8 = 0x1;
const FLAG_INVITE: u8 = 0x2;

impl SipState {
    pub fn decode(p: &PrivData) -> Self {
        let b = p.as_bytes();
        let u32_at = |i: usize| {
            b.get(i..i + 4)
                .and_then(|s| <[u8; 4]>::try_from(s).ok())
                .map_or(0, u32::from_le_bytes)
        };
        let flags = b.get(10).copied().unwrap_or(0);
        let dport = b
            .get(8..10)
            .and_then(|s| <[u8; 2]>::try_from(s).ok())
            .map_or(0, u16::from_le_bytes);
        SipState {
            register_cseq: (flags & FLAG_REGISTER != 0).then(|| u32_at(0)),
            invite_cseq: (flags & FLAG_INVITE != 0).then(|| u32_at(4)),
            forced_dport: (dport != 0).then_some(dport),
        }
    }
    pub fn encode(&self) -> PrivData {
        let mut b = [0u8; crate::helper::PRIV_DATA_MAX];
        let mut w = Vec::with_capacity(STATE_LEN);
        w.extend_from_slice(&self.register_cseq.unwrap_or(0).to_le_bytes());
        w.extend_from_slice(&self.invite_cseq.unwrap_or(0).to_le_bytes());
        w.extend_from_slice(&self.forced_dport.unwrap_or(0).to_le_bytes());
        let mut flags = 0;
        if self.register_cseq.is_some() {
            flags |= FLAG_REGISTER;
        }
        if self.invite_cseq.is_some() {
            flags |= FLAG_INVITE;
        }
        w.push(flags);
        for (dst, src) in b.iter_mut().zip(&w) {
            *dst = *src;
        }
        PrivData(b)
    }
}

// ---------------------------------------------------------------------------
// The helper
// ---------------------------------------------------------------------------

#[derive(Debug, Clone)]
pub struct Sip {
    pub sip_timeout: u32,
    pub direct_signalling: bool,
    pub direct_media: bool,
    pub external_media: bool,
}

impl Default for Sip {
    fn default() -> Self {
        Sip::new(&INFO.default_params(), &[])
    }
}

/// The packet was dropped (a NAT that cannot be completed).
struct Dropped;

/// Everything one message is decided with.
struct Ctx<'a, 'e> {
    buf: &'a [u8],
    conn: ConnView,
    dir: Dir,
    v6: bool,
    nat: bool,
    proto: L4Proto,
    /// The interface the packet leaves by (`sip_external_media`).
    outdev: Option<u32>,
    env: &'e mut dyn Env,
    rw: Rewriter,
    /// Expectations this packet made (withdrawn if it is dropped).
    created: Vec<Expectation>,
}

impl Ctx<'_, '_> {
    /// `flush_expectations()`; expectations this packet made are forgotten
    /// too (a BYE after an INVITE in one TCP segment).
    fn flush(&mut self, classes: &[u8]) {
        self.env.unexpect_where(&|e| classes.contains(&e.class));
        self.created.retain(|e| !classes.contains(&e.class));
    }
    /// `refresh_signalling_expectation()`: the live expectation of `class`
    /// to `dst`:`dport` over `proto` (its destination as created, after any
    /// NAT) becomes active for `timeout` seconds.
    fn refresh(
        &mut self,
        class: u8,
        proto: L4Proto,
        dst: IpAddr,
        dport: u16,
        timeout: u32,
    ) -> bool {
        let Some(e) = self
            .env
            .expectations()
            .into_iter()
            .find(|e| e.class == class && e.proto == proto && e.dst == dst && e.dport == dport)
        else {
            return false;
        };
        let change = ExpectChange {
            clear: ExpectFlags::INACTIVE,
            timeout: Some(timeout),
        };
        self.env.update(&e, change)
    }
    /// `sip_external_media`: the route to `addr` leaves by the interface
    /// this packet leaves by (the kernel compares the route's device with
    /// the packet's).
    fn same_route_as_packet(&mut self, addr: IpAddr) -> bool {
        let out = self.outdev;
        out.is_some() && self.env.route_oif(addr) == out
    }
}

/// The helper's own view of the table: every call passes through, and what
/// this packet creates or withdraws is recorded (so the port search records
/// what it created).
impl Env for Ctx<'_, '_> {
    fn expect(&mut self, exp: &Expectation) -> Result<(), ExpectError> {
        let r = self.env.expect(exp);
        if r.is_ok() {
            // One per tuple, as the table keeps them (a port twice).
            self.created.retain(|e| !e.same_as(exp));
            self.created.push(exp.clone());
        }
        r
    }
    fn unexpect(&mut self, exp: &Expectation) -> bool {
        if let Some(i) = self.created.iter().rposition(|e| e.same_as(exp)) {
            self.created.remove(i);
        }
        self.env.unexpect(exp)
    }
    fn expectations(&mut self) -> Vec<Expectation> {
        self.env.expectations()
    }
    fn update(&mut self, exp: &Expectation, change: ExpectChange) -> bool {
        self.env.update(exp, change)
    }
    fn random_u32(&mut self) -> u32 {
        self.env.random_u32()
    }
    fn route_oif(&mut self, addr: IpAddr) -> Option<u32> {
        self.env.route_oif(addr)
    }
    fn broadcast_prefix(&mut self, broadcast: IpAddr) -> Option<u8> {
        self.env.broadcast_prefix(broadcast)
    }
}

impl Sip {
    pub fn new(p: &Params, _policies: &[ExpectPolicy]) -> Self {
        Sip {
            sip_timeout: p.get(SIP_TIMEOUT).max(1),
            direct_signalling: p.get(SIP_DIRECT_SIGNALLING),
            direct_media: p.get(SIP_DIRECT_MEDIA),
            external_media: p.get(SIP_EXTERNAL_MEDIA),
        }
    }

    /// One message (`process_sip_msg()`).
    fn message(
        &self,
        cx: &mut Ctx<'_, '_>,
        m: &Msg,
        st: &mut SipState,
        out: &mut Outcome,
    ) -> Result<(), Dropped> {
        let buf = cx.buf;
        let cseq_hdr = m.find(buf, b"CSeq", None);
        let cseq = cseq_hdr.and_then(|h| msg::leading_number(buf, h.value));
        match m.line {
            StartLine::Request { method, .. } => {
                let method = method.get(buf);
                if cx.proto == L4Proto::Udp {
                    if let Some((hp, _)) = top_via(cx, m) {
                        let me = cx.conn.tuple(cx.dir);
                        if hp.port != me.sport && hp.addr == me.src {
                            st.forced_dport = Some(hp.port);
                        }
                    }
                }
                let known = [
                    &b"INVITE"[..],
                    b"UPDATE",
                    b"ACK",
                    b"PRACK",
                    b"BYE",
                    b"CANCEL",
                    b"REGISTER",
                ];
                if known.iter().any(|k| method.eq_ignore_ascii_case(k)) {
                    let Some((cseq, _)) = cseq else {
                        out.event(Reason::Malformed, "request without a CSeq number");
                        return Ok(());
                    };
                    let is = |k: &[u8]| method.eq_ignore_ascii_case(k);
                    if is(b"INVITE") {
                        cx.flush(&MEDIA_CLASSES);
                        self.sdp(cx, m, out)?;
                        st.invite_cseq = Some(cseq);
                    } else if is(b"BYE") || is(b"CANCEL") {
                        cx.flush(&MEDIA_CLASSES);
                    } else if is(b"REGISTER") {
                        self.register_request(cx, m, st, cseq, out)?;
                    } else {
                        self.sdp(cx, m, out)?;
                    }
                }
            }
            StartLine::Response { code } => {
                let Some((cseq, used)) = cseq else {
                    out.event(Reason::Malformed, "response without a CSeq number");
                    return Ok(());
                };
                let Some(h) = cseq_hdr else { return Ok(()) };
                let rest = buf
                    .get(h.value.off + used..h.value.end())
                    .unwrap_or_default();
                let skip = rest
                    .iter()
                    .take_while(|b| matches!(b, b' ' | b'\t'))
                    .count();
                let method = rest.get(skip..).unwrap_or_default();
                let is = |k: &[u8]| method.eq_ignore_ascii_case(k);
                if is(b"INVITE") || is(b"UPDATE") || is(b"PRACK") {
                    if (100..300).contains(&code) {
                        self.sdp(cx, m, out)?;
                    } else if st.invite_cseq == Some(cseq) {
                        cx.flush(&MEDIA_CLASSES);
                    }
                } else if is(b"REGISTER") {
                    self.register_response(cx, m, st, cseq, code, out);
                }
            }
        }
        if cx.nat {
            self.nat_headers(cx, m, st);
        }
        Ok(())
    }

    // -----------------------------------------------------------------------
    // SDP: process_sdp() + set_expected_rtp_rtcp() + nf_nat_sdp_*()
    // -----------------------------------------------------------------------

    fn sdp(&self, cx: &mut Ctx<'_, '_>, m: &Msg, out: &mut Outcome) -> Result<(), Dropped> {
        let buf = cx.buf;
        let Some(span) = sdp::locate(buf, m) else {
            return Ok(());
        };
        let s = sdp::parse(buf, span, cx.v6);
        if s.span.len == 0 {
            return Ok(());
        }
        if s.ignored_media > 0 {
            out.event(
                Reason::TooManyMedia,
                format!(
                    "{} m= lines past {} ignored",
                    s.ignored_media,
                    sdp::MAX_MEDIA
                ),
            );
        }
        let me = *cx.conn.tuple(cx.dir);
        let peer = *cx.conn.tuple(cx.dir.reverse());
        // The address the peer sees for media of this side, once known.
        let mut session_target: Option<IpAddr> = None;
        let mut translated: Vec<IpAddr> = Vec::new();
        for (i, media) in s.media.iter().enumerate() {
            let Some(class) = media.kind.class() else {
                continue;
            };
            let Some(port) = media.port else {
                out.event(Reason::Malformed, format!("m= line {i}: bad port"));
                continue;
            };
            if port == 0 {
                continue;
            }
            if port < 1024 {
                out.event(
                    Reason::LowPort,
                    format!("m= line {i}: media port {port} < 1024 refused"),
                );
                continue;
            }
            if media.conn_other && media.conn.is_none() {
                out.event(
                    Reason::Family,
                    format!("m= line {i}: media address of another family or a name"),
                );
                continue;
            }
            let Some(addr) = media.conn.or(s.conn).map(|c| c.addr) else {
                out.event(
                    Reason::Malformed,
                    format!("m= line {i}: no connection address"),
                );
                continue;
            };
            if addr.is_unspecified() {
                // Hold (RFC 2543 style): nothing to expect.
                continue;
            }
            let mut saddr = None;
            if self.direct_media {
                if addr != me.src {
                    out.event_by(
                        Reason::Withheld,
                        SIP_DIRECT_MEDIA.name(),
                        format!(
                            "m= line {i}: media address {addr} is not the sender's ({}): no expectation",
                            me.src
                        ),
                    );
                    continue;
                }
                saddr = Some(peer.src);
            } else if self.external_media && cx.same_route_as_packet(addr) {
                out.event_by(
                    Reason::Withheld,
                    SIP_EXTERNAL_MEDIA.name(),
                    format!("m= line {i}: media address {addr} is routed like the signalling: no expectation"),
                );
                continue;
            }
            let base = port & !1;
            let rtcp_port = media.rtcp.map_or(base + 1, |r| r.port);
            if rtcp_port < 1024 {
                out.event(
                    Reason::LowPort,
                    format!("m= line {i}: RTCP port {rtcp_port} < 1024 refused"),
                );
                continue;
            }
            let mut rtp = Expectation {
                src: SrcAddr::from_option(saddr),
                ..Expectation::new(class, L4Proto::Udp, addr, base)
            };
            let mut rtcp = Expectation {
                dport: rtcp_port,
                ..rtp.clone()
            };
            if !cx.nat {
                match cx.expect(&rtp) {
                    Ok(()) => match cx.expect(&rtcp) {
                        Ok(()) => {}
                        Err(e) => {
                            cx.unexpect(&rtp);
                            out.event(
                                Reason::ExpectFailed,
                                format!("RTCP expectation refused: {e:?}"),
                            );
                        }
                    },
                    Err(e) => out.event(
                        Reason::ExpectFailed,
                        format!("RTP expectation refused: {e:?}"),
                    ),
                }
                continue;
            }
            // nf_nat_sdp_media()
            let new_addr = if me.src == peer.dst { addr } else { peer.dst };
            rtp.dst = new_addr;
            rtcp.dst = new_addr;
            rtp.nat = Some(ExpectNat::follow_master(cx.dir.reverse(), addr, base));
            rtcp.nat = Some(ExpectNat::follow_master(cx.dir.reverse(), addr, rtcp_port));
            let Some(p) = find_pair(cx, &mut rtp, &mut rtcp) else {
                out.event(Reason::NatFailed, "all ports in use for SDP media");
                return Err(Dropped);
            };
            let text = nat::addr_text(new_addr, false);
            let mut ok = p == base
                || cx
                    .rw
                    .replace(buf, media.port_span, &crate::text::decimal(u32::from(p)));
            if let Some(r) = media.rtcp {
                ok = ok
                    && cx
                        .rw
                        .replace(buf, r.port_span, &crate::text::decimal(u32::from(p) + 1));
                if let Some(a) = r.addr.filter(|a| a.addr == addr) {
                    ok = ok && cx.rw.replace(buf, a.span, &text);
                }
            }
            if let Some(c) = media.conn {
                ok = ok && cx.rw.replace(buf, c.span, &text);
            }
            if !ok {
                out.event(Reason::NatFailed, "overlapping SDP rewrite");
                return Err(Dropped);
            }
            session_target = Some(new_addr);
            if !translated.contains(&addr) {
                translated.push(addr);
            }
        }
        if cx.nat {
            let target = session_target.or((me.src != peer.dst).then_some(peer.dst));
            if let Some(t) = target {
                let mine = |a: IpAddr| a == me.src || translated.contains(&a);
                for f in [s.owner, s.conn].into_iter().flatten() {
                    if !f.addr.is_unspecified() && mine(f.addr) {
                        cx.rw.replace(buf, f.span, &nat::addr_text(t, false));
                    }
                }
            }
        }
        Ok(())
    }

    // -----------------------------------------------------------------------
    // REGISTER
    // -----------------------------------------------------------------------

    /// `process_register_request()` (+ `nf_nat_sip_expect()`).
    fn register_request(
        &self,
        cx: &mut Ctx<'_, '_>,
        m: &Msg,
        st: &mut SipState,
        cseq: u32,
        out: &mut Outcome,
    ) -> Result<(), Dropped> {
        let buf = cx.buf;
        let me = *cx.conn.tuple(cx.dir);
        let peer = *cx.conn.tuple(cx.dir.reverse());
        let mut expires = m
            .find(buf, b"Expires", None)
            .and_then(|h| msg::leading_number(buf, h.value))
            .map_or(0, |(v, _)| v);
        let Some((contact, el)) = contacts(cx, m).next() else {
            return Ok(());
        };
        if contact.addr != me.src {
            return Ok(()); // third-party registration
        }
        let Some(proto) = transport(cx, contact, el) else {
            return Ok(());
        };
        if let Some(v) = msg::param(buf, contact.span.end(), el.end(), b"expires") {
            match msg::number(buf, v) {
                Some(n) => expires = n,
                None => {
                    out.event(Reason::Malformed, "Contact expires= not a number");
                    return Ok(());
                }
            }
        }
        if expires == 0 {
            st.register_cseq = Some(cseq);
            return Ok(());
        }
        let mut exp = Expectation {
            src: SrcAddr::from_option(self.direct_signalling.then_some(peer.src)),
            flags: ExpectFlags::PERMANENT | ExpectFlags::INACTIVE,
            helper: Some(INFO.name),
            ..Expectation::new(CLASS_SIGNALLING, proto, contact.addr, contact.port)
        };
        if !cx.nat {
            match cx.expect(&exp) {
                Ok(()) => st.register_cseq = Some(cseq),
                Err(e) => out.event(
                    Reason::ExpectFailed,
                    format!("signalling expectation refused: {e:?}"),
                ),
            }
            return Ok(());
        }
        let new_addr = if me.src == peer.dst {
            exp.dst
        } else {
            peer.dst
        };
        let srcport = st.forced_dport.unwrap_or(me.sport);
        let want = if exp.dport == srcport {
            peer.dport
        } else {
            exp.dport
        };
        exp.nat = Some(ExpectNat::follow_master(
            cx.dir.reverse(),
            contact.addr,
            contact.port,
        ));
        exp.dst = new_addr;
        if crate::expect::nat_find_port(cx, &mut exp, want).is_err() {
            out.event(Reason::NatFailed, "all ports in use for SIP");
            return Err(Dropped);
        }
        if (exp.dst, exp.dport) != (contact.addr, contact.port)
            && !cx
                .rw
                .replace(buf, contact.span, &nat::addr_port_text(new_addr, exp.dport))
        {
            out.event(Reason::NatFailed, "overlapping Contact rewrite");
            return Err(Dropped);
        }
        st.register_cseq = Some(cseq);
        Ok(())
    }

    /// `process_register_response()`.
    fn register_response(
        &self,
        cx: &mut Ctx<'_, '_>,
        m: &Msg,
        st: &SipState,
        cseq: u32,
        code: u16,
        out: &mut Outcome,
    ) {
        if st.register_cseq != Some(cseq) || (100..200).contains(&code) {
            return;
        }
        if (200..300).contains(&code) {
            let buf = cx.buf;
            let me = *cx.conn.tuple(cx.dir);
            let expires = m
                .find(buf, b"Expires", None)
                .and_then(|h| msg::leading_number(buf, h.value))
                .map_or(0, |(v, _)| v);
            let list: Vec<(HostPort, Span)> = contacts(cx, m).collect();
            for (c, el) in list {
                if c.addr != me.dst {
                    continue;
                }
                let Some(proto) = transport(cx, c, el) else {
                    continue;
                };
                let mut c_expires = expires;
                if let Some(v) = msg::param(buf, c.span.end(), el.end(), b"expires") {
                    match msg::number(buf, v) {
                        Some(n) => c_expires = n,
                        None => {
                            out.event(Reason::Malformed, "Contact expires= not a number");
                            return;
                        }
                    }
                }
                if c_expires == 0 {
                    break;
                }
                let life = c_expires.min(self.sip_timeout);
                if cx.refresh(CLASS_SIGNALLING, proto, c.addr, c.port, life) {
                    return;
                }
            }
        }
        cx.flush(&[CLASS_SIGNALLING]);
    }

    // -----------------------------------------------------------------------
    // NAT of the SIP headers: nf_nat_sip()
    // -----------------------------------------------------------------------

    fn nat_headers(&self, cx: &mut Ctx<'_, '_>, m: &Msg, st: &SipState) {
        let buf = cx.buf;
        let (dir, conn, fd) = (cx.dir, cx.conn, st.forced_dport);
        let me = *conn.tuple(dir);
        let peer = *conn.tuple(dir.reverse());
        let map = |rw: &mut Rewriter, hp: HostPort| {
            if let Some((a, p)) = nat::map_addr(&conn, dir, fd, hp.addr, hp.port) {
                rw.replace(buf, hp.span, &nat::addr_port_text(a, p));
            }
        };
        if let StartLine::Request { uri, .. } = m.line {
            if let Some(hp) = msg::sip_uri_in(buf, uri.off, uri.end(), cx.v6) {
                map(&mut cx.rw, hp);
            }
        }
        if let Some((hp, el)) = top_via(cx, m) {
            let related = if m.is_request() {
                hp.addr == me.src && hp.port == me.sport
            } else {
                hp.addr == me.dst && hp.port == me.dport
            };
            if related {
                map(&mut cx.rw, hp);
                let (ps, pe) = (hp.span.end(), el.end());
                if let Some(v) = msg::param(buf, ps, pe, b"maddr") {
                    if let Some((a, n)) = msg::addr_at(buf, v.off, v.end(), cx.v6, true) {
                        if n == v.len && a == me.src && a != peer.dst {
                            cx.rw.replace(buf, v, &nat::addr_text(peer.dst, true));
                        }
                    }
                }
                if let Some(v) = msg::param(buf, ps, pe, b"received") {
                    if let Some((a, n)) = msg::addr_at(buf, v.off, v.end(), cx.v6, false) {
                        if n == v.len && a == me.dst && a != peer.src {
                            cx.rw.replace(buf, v, &nat::addr_text(peer.src, false));
                        }
                    }
                }
                if let Some(v) = msg::param(buf, ps, pe, b"rport") {
                    if let Some(n) = msg::number(buf, v) {
                        if n == u32::from(me.dport) && n != u32::from(peer.sport) {
                            cx.rw
                                .replace(buf, v, &crate::text::decimal(u32::from(peer.sport)));
                        }
                    }
                }
            }
        }
        let list: Vec<HostPort> = contacts(cx, m).map(|(hp, _)| hp).collect();
        for hp in list {
            map(&mut cx.rw, hp);
        }
        for (full, compact) in [(&b"From"[..], b'f'), (&b"To"[..], b't')] {
            if let Some(h) = m.find(buf, full, Some(compact)) {
                if let Some(hp) = msg::sip_uri_in(buf, h.value.off, h.value.end(), cx.v6) {
                    map(&mut cx.rw, hp);
                }
            }
        }
    }
}

/// The top Via, if it is of the connection's transport: its sent-by and
/// the element it is in.
fn top_via(cx: &Ctx<'_, '_>, m: &Msg) -> Option<(HostPort, Span)> {
    let buf = cx.buf;
    let h = m.find(buf, b"Via", Some(b'v'))?;
    let el = msg::elements(buf, h.value).next()?;
    let text = el.get(buf);
    // "SIP/2.0/UDP" LWS sent-by
    let plen = text
        .iter()
        .position(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n'))?;
    let proto = text.get(..plen)?;
    let transport = proto.rsplit(|&b| b == b'/').next()?;
    if !transport.eq_ignore_ascii_case(cx.proto.name().as_bytes()) {
        return None;
    }
    let mut at = el.off + plen;
    while matches!(buf.get(at), Some(b' ' | b'\t' | b'\r' | b'\n')) && at < el.end() {
        at += 1;
    }
    let hp = msg::hostport_at(buf, at, el.end(), cx.v6)?;
    Some((hp, el))
}

/// Every Contact URI address (all headers, all elements) that parses.
fn contacts<'a>(cx: &Ctx<'a, '_>, m: &Msg) -> impl Iterator<Item = (HostPort, Span)> + 'a {
    let buf = cx.buf;
    let v6 = cx.v6;
    m.find_all(buf, b"Contact", Some(b'm'))
        .flat_map(move |h| msg::elements(buf, h.value))
        .filter_map(move |el| msg::sip_uri_in(buf, el.off, el.end(), v6).map(|hp| (hp, el)))
}

/// `ct_sip_parse_transport()`: the Contact's `transport=` must be the
/// connection's protocol (none: the connection's).
fn transport(cx: &Ctx<'_, '_>, c: HostPort, el: Span) -> Option<L4Proto> {
    let Some(v) = msg::param(cx.buf, c.span.end(), el.end(), b"transport") else {
        return Some(cx.proto);
    };
    let t = v.get(cx.buf);
    let p = if t.eq_ignore_ascii_case(b"tcp") {
        L4Proto::Tcp
    } else if t.eq_ignore_ascii_case(b"udp") {
        L4Proto::Udp
    } else {
        return None;
    };
    (p == cx.proto).then_some(p)
}

/// `nf_nat_sdp_media()`'s pair search: even ports from the wanted one
/// upwards; leaves the ports found in the expectations.
fn find_pair(cx: &mut Ctx<'_, '_>, rtp: &mut Expectation, rtcp: &mut Expectation) -> Option<u16> {
    let mut port = rtp.dport;
    for _ in 0..MAX_PAIR_ATTEMPTS {
        rtp.dport = port;
        match cx.expect(rtp) {
            Ok(()) => {
                rtcp.dport = port.checked_add(1)?;
                match cx.expect(rtcp) {
                    Ok(()) => return Some(port),
                    Err(ExpectError::Clash) => {
                        cx.unexpect(rtp);
                    }
                    Err(_) => {
                        cx.unexpect(rtp);
                        return None;
                    }
                }
            }
            Err(ExpectError::Clash) => {}
            Err(_) => return None,
        }
        port = port.checked_add(2).filter(|&p| p != 0)?;
    }
    None
}

impl Helper for Sip {
    fn info(&self) -> &'static HelperInfo {
        &INFO
    }

    fn handle(&self, pkt: &Packet<'_>, env: &mut dyn Env) -> Outcome {
        let mut out = Outcome::default();
        let payload = pkt.payload;
        let stream = pkt.conn.orig.proto == L4Proto::Tcp;
        if !stream && !payload.is_empty() {
            // sip_help_udp(): nf_ct_refresh(ct, sip_timeout * HZ) for every
            // datagram with data, before it is parsed.
            out.ct_timeout = Some(self.sip_timeout);
        }
        let start = if stream {
            msg::skip_newlines(payload, 0)
        } else {
            0
        };
        if payload.len().saturating_sub(start) < MIN_LEN && !stream {
            return out;
        }
        // Frame every message first: the complete ones are handled, an
        // incomplete one at the end is held until it is whole.
        let mut msgs = Vec::new();
        let mut pos = start;
        while pos < payload.len() {
            match msg::frame(payload, pos, stream) {
                Framing::Complete(m) => {
                    msgs.push(m);
                    if !stream {
                        break;
                    }
                    pos = msg::skip_newlines(payload, m.end);
                }
                Framing::Incomplete if payload.len() - pos <= MAX_HELD => {
                    out.incomplete = Some(pos);
                    out.event(
                        Reason::Partial,
                        format!(
                            "message continues past {}",
                            crate::text::count((payload.len() - pos) as u64, "byte")
                        ),
                    );
                    break;
                }
                Framing::Incomplete => {
                    out.event(
                        Reason::TooLong,
                        format!("message longer than {MAX_HELD} bytes held"),
                    );
                    break;
                }
                Framing::Bad(why) => {
                    out.event(Reason::Malformed, why);
                    break;
                }
            }
        }
        if msgs.is_empty() && out.incomplete.is_some() {
            // Only an unfinished message: nothing is decided, nothing changes.
            return out;
        }
        let mut st = SipState::decode(&pkt.state);
        let mut cx = Ctx {
            buf: payload,
            conn: pkt.conn,
            dir: pkt.dir,
            v6: pkt.conn.is_ipv6(),
            nat: pkt.conn.nat(),
            proto: if stream { L4Proto::Tcp } else { L4Proto::Udp },
            outdev: pkt.outdev,
            env,
            rw: Rewriter::default(),
            created: Vec::new(),
        };
        let mut dropped = false;
        for m in &msgs {
            let before = cx.rw.edits.len();
            if self.message(&mut cx, m, &mut st, &mut out).is_err() {
                dropped = true;
                break;
            }
            // Content-Length follows the body's size change.
            let delta = cx.rw.delta_in(m.body, m.end);
            if delta != 0 {
                if let Some(cl) = m.clen {
                    let new = cl.value as isize + delta;
                    if !cx.rw.replace(
                        payload,
                        cl.span,
                        &crate::text::decimal(u32::try_from(new.max(0)).unwrap_or(u32::MAX)),
                    ) {
                        cx.rw.truncate(before);
                        out.event(Reason::NatFailed, "Content-Length cannot be rewritten");
                        dropped = true;
                        break;
                    }
                }
            }
        }
        let grown = (payload.len() as isize).saturating_add(nat_delta(&cx.rw));
        if !dropped && grown > MAX_PAYLOAD as isize && !cx.rw.edits.is_empty() {
            out.event(Reason::NatFailed, "rewritten packet too large");
            dropped = true;
        }
        if dropped {
            let created = std::mem::take(&mut cx.created);
            for e in created.iter().rev() {
                cx.env.unexpect(e);
            }
            out.drop = true;
            // A dropped segment is retransmitted whole: nothing is held.
            out.incomplete = None;
            cx.rw.edits.clear();
        } else {
            out.edits = std::mem::take(&mut cx.rw.edits);
        }
        if !out.drop {
            let new = st.encode();
            if new != pkt.state {
                out.state = Some(new);
            }
        }
        out
    }
}

fn nat_delta(rw: &Rewriter) -> isize {
    crate::edit::total_delta(&rw.edits)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_round_trip_and_layout() {
        let st = SipState {
            register_cseq: Some(0x0102_0304),
            invite_cseq: Some(0),
            forced_dport: Some(5070),
        };
        let p = st.encode();
        assert_eq!(&p.0[..4], &[4, 3, 2, 1]);
        assert_eq!(&p.0[8..11], &[0xce, 0x13, 3]);
        assert!(p.0[STATE_LEN..].iter().all(|&b| b == 0));
        assert_eq!(SipState::decode(&p), st);
        assert_eq!(SipState::decode(&PrivData::ZERO), SipState::default());
        assert_eq!(INFO.priv_len, STATE_LEN);
    }

    #[test]
    fn defaults_match_the_kernel_module() {
        let s = Sip::default();
        assert_eq!(s.sip_timeout, 3600);
        assert!(s.direct_signalling && s.direct_media && !s.external_media);
        assert_eq!(INFO.policies[1], ("audio", 4, 180));
    }
}
