//! What the RAS, Q.931 and H.245 helpers share: their private data (the
//! kernel's `struct nf_ct_h323_master`), the context one packet is decided
//! in, the same-length address rewrites of nf_nat_h323.c (`set_addr()`), the
//! H.245 logical-channel handling both Q.931 (fastStart, tunnelled H.245)
//! and H.245 use (`expect_rtp_rtcp()`, `expect_t120()`, `process_olc()`,
//! `process_olca()`, `process_h245()` with `nat_rtp_rtcp()`, `nat_t120()`),
//! and the TPKT framing of the two TCP helpers (`get_tpkt_data()`).
//!
//! Addresses: `get_h225_addr()` / `get_h245_addr()` take an address only in
//! the connection's family (`Ctx::addr`); the decoder yields only IP
//! forms (`ipAddress`/`ip6Address`, `unicastAddress.iPAddress/iP6Address`).
//! A rewrite replaces the 4 or 16 address octets and the 2 port octets at
//! the offsets the decoder found: the PER encoding keeps its length.

use std::net::IpAddr;

use super::{Addr, H245Olc, H245OlcAck, Media, H2250, H245};
use crate::conn::{ConnView, CtStatus, Dir, L4Proto, Tuple};
use crate::edit::Edit;
use crate::event::Reason;
use crate::expect::{nat_find_port, ExpectError, ExpectFlags, ExpectNat, Expectation, SrcAddr};
use crate::helper::{Env, Outcome, Packet, PrivData};

/// Bytes of private data the three helpers use (the same layout).
pub const STATE_LEN: usize = 28;

/// `H323_RTP_CHANNEL_MAX`: RTP port pairs remembered per connection.
pub const RTP_CHANNEL_MAX: usize = 4;

/// What the kernel's decoder stores of a list: `callSignalAddress` and
/// `rasAddress` items (the items after these are decoded, not kept).
pub const MAX_ADDRESSES: usize = 10;
/// fastStart elements the kernel keeps.
pub const MAX_FAST_START: usize = 30;
/// h245Control elements the kernel keeps.
pub const MAX_H245_CONTROL: usize = 4;

/// Most RTP/RTCP port pairs tried per media address under NAT (the kernel
/// tries every even port up to 65534).
pub const MAX_PAIR_ATTEMPTS: u32 = 256;

/// The helper names expectations give the connections they let in.
pub const RAS_NAME: &str = "RAS";
pub const Q931_NAME: &str = "Q.931";
pub const H245_NAME: &str = "H.245";

/// `struct nf_ct_h323_master`; layout in the module documentation of
/// [`super`] (little-endian, 28 bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct H323State {
    /// Original and NATed Q.931 or H.245 signal ports, per direction.
    pub sig_port: [u16; 2],
    /// Original and NATed RTP ports, per channel and direction.
    pub rtp_port: [[u16; 2]; RTP_CHANNEL_MAX],
    /// RAS: the registration's lifetime (RRQ/RCF timeToLive).
    pub timeout: u32,
    /// Q.931/H.245: the payload length a lone TPKT header announced, per
    /// direction (NetMeeting sends the header and the data separately).
    pub tpkt_len: [u16; 2],
}

/// The entry of direction `d` of a per-direction pair.
pub fn of(pair: [u16; 2], d: Dir) -> u16 {
    let [o, r] = pair;
    match d {
        Dir::Original => o,
        Dir::Reply => r,
    }
}

/// The entry of direction `d` of a per-direction pair, to change.
pub fn of_mut(pair: &mut [u16; 2], d: Dir) -> &mut u16 {
    let [o, r] = pair;
    match d {
        Dir::Original => o,
        Dir::Reply => r,
    }
}

impl H323State {
    /// `sig_port[d]`.
    pub fn sig(&self, d: Dir) -> u16 {
        of(self.sig_port, d)
    }
    pub fn set_sig(&mut self, d: Dir, port: u16) {
        *of_mut(&mut self.sig_port, d) = port;
    }
    pub fn decode(p: &PrivData) -> Self {
        let b = p.as_bytes();
        let u16_at = |i: usize| {
            b.get(i..i + 2)
                .and_then(|s| <[u8; 2]>::try_from(s).ok())
                .map_or(0, u16::from_le_bytes)
        };
        let u32_at = |i: usize| {
            b.get(i..i + 4)
                .and_then(|s| <[u8; 4]>::try_from(s).ok())
                .map_or(0, u32::from_le_bytes)
        };
        let mut rtp_port = [[0u16; 2]; RTP_CHANNEL_MAX];
        for (i, ch) in rtp_port.iter_mut().enumerate() {
            *ch = [u16_at(4 + 4 * i), u16_at(6 + 4 * i)];
        }
        H323State {
            sig_port: [u16_at(0), u16_at(2)],
            rtp_port,
            timeout: u32_at(20),
            tpkt_len: [u16_at(24), u16_at(26)],
        }
    }
    pub fn encode(&self) -> PrivData {
        let mut w = Vec::with_capacity(STATE_LEN);
        for p in self.sig_port {
            w.extend_from_slice(&p.to_le_bytes());
        }
        for ch in self.rtp_port {
            for p in ch {
                w.extend_from_slice(&p.to_le_bytes());
            }
        }
        w.extend_from_slice(&self.timeout.to_le_bytes());
        for l in self.tpkt_len {
            w.extend_from_slice(&l.to_le_bytes());
        }
        PrivData::from_bytes(&w)
    }
}

/// One packet being decided: the connection, the table, the private data,
/// and the outcome being built (edits, events).
pub(crate) struct Ctx<'e> {
    pub conn: ConnView,
    pub dir: Dir,
    pub status: CtStatus,
    pub env: &'e mut dyn Env,
    pub st: H323State,
    pub out: Outcome,
}

impl<'e> Ctx<'e> {
    pub fn new(pkt: &Packet<'_>, env: &'e mut dyn Env) -> Self {
        Ctx {
            conn: pkt.conn,
            dir: pkt.dir,
            status: pkt.status,
            env,
            st: H323State::decode(&pkt.state),
            out: Outcome::default(),
        }
    }

    /// `ct->tuplehash[dir].tuple`: this packet's direction.
    pub fn me(&self) -> Tuple {
        *self.conn.tuple(self.dir)
    }
    /// `ct->tuplehash[!dir].tuple`.
    pub fn peer(&self) -> Tuple {
        *self.conn.tuple(self.dir.reverse())
    }
    /// `sig_port[dir]`, `sig_port[!dir]`.
    pub fn sig_here(&self) -> u16 {
        self.st.sig(self.dir)
    }
    pub fn sig_there(&self) -> u16 {
        self.st.sig(self.dir.reverse())
    }
    /// Records `sig_port[dir]` and `sig_port[!dir]`.
    pub fn set_sig(&mut self, here: u16, there: u16) {
        let d = self.dir;
        self.st.set_sig(d, here);
        self.st.set_sig(d.reverse(), there);
    }
    /// `ct->status & IPS_NAT_MASK` (the kernel adds `nf_ct_l3num(ct) ==
    /// NFPROTO_IPV4`: it rewrites IPv4 only; we rewrite IPv6 the same way).
    pub fn nat(&self) -> bool {
        self.conn.nat() || self.status.nat()
    }
    /// NAT and this side translated: `tuplehash[dir].src !=
    /// tuplehash[!dir].dst` (expect_h245, expect_rtp_rtcp, expect_t120,
    /// expect_callforwarding).
    pub fn nat_this_side(&self) -> bool {
        self.nat() && self.me().src != self.peer().dst
    }
    /// `get_h225_addr()` / `get_h245_addr()`: the address if it is of the
    /// connection's family.
    pub fn addr(&self, a: Option<&Addr>) -> Option<Addr> {
        a.filter(|a| a.ip.is_ipv6() == self.conn.is_ipv6()).copied()
    }

    /// `set_addr()`: writes `ip`/`port` over the address `a` (same length).
    /// Bytes that would not change are not edited.
    pub fn set_addr(&mut self, a: &Addr, ip: IpAddr, port: u16) {
        let raw = match ip {
            IpAddr::V4(x) => x.octets().to_vec(),
            IpAddr::V6(x) => x.octets().to_vec(),
        };
        if raw.len() != a.ip_len() {
            // A family mismatch cannot reach here (Ctx::addr), but never
            // change a length.
            self.out.event(Reason::Family, "rewrite of another family");
            return;
        }
        let old_ip = match a.ip {
            IpAddr::V4(x) => x.octets().to_vec(),
            IpAddr::V6(x) => x.octets().to_vec(),
        };
        if old_ip != raw {
            self.put(Edit::new(a.ip_offset, a.ip_len(), raw));
        }
        if a.port != port {
            self.put(Edit::new(a.port_offset, 2, port.to_be_bytes().to_vec()));
        }
    }

    /// Adds an edit; a second rewrite of the same bytes replaces the first
    /// (the kernel writes the packet in place).
    fn put(&mut self, e: Edit) {
        self.out
            .edits
            .retain(|x| !(x.offset == e.offset && x.len == e.len));
        self.out.edits.push(e);
    }

    /// `nf_ct_expect_related()` without NAT. The kernel drops the packet
    /// when it fails; we let it pass (event `expect_failed`).
    pub fn expect(&mut self, exp: &Expectation, what: &str) -> bool {
        let env = &mut *self.env;
        self.out.expect(env, exp, &what)
    }

    /// `nf_nat_exp_find_port()`.
    pub fn find_port(&mut self, exp: &mut Expectation, port: u16) -> Option<u16> {
        nat_find_port(self.env, exp, port).ok()
    }

    /// The NAT half of `nat_h245()` / `nat_q931()`: the expectation for
    /// the signal address `a` follows the master, takes a port on the
    /// router (this side's recorded signalling port if `a` is the one
    /// recorded for the other side, else `a`'s own), and `a` in the message
    /// becomes the peer's view of the router with that port; the signalling
    /// ports are recorded. The router's port, or None with an event naming
    /// `what` when no port is free (the address is left as it was).
    pub fn nat_signal_addr(&mut self, exp: &mut Expectation, a: &Addr, what: &str) -> Option<u16> {
        exp.nat = Some(ExpectNat::follow_master(self.dir.reverse(), a.ip, a.port));
        let want = if self.sig_here() == a.port {
            self.sig_there()
        } else {
            a.port
        };
        let Some(nated) = self.find_port(exp, want) else {
            self.out.event(
                Reason::ExpectFailed,
                format!("no port for {what}: address left untranslated"),
            );
            return None;
        };
        let to = self.peer().dst;
        self.set_addr(a, to, nated);
        self.set_sig(a.port, nated);
        Some(nated)
    }

    /// An expectation of this connection for `proto` to `dst`:`dport` from
    /// `src` (class 0: each H.323 helper has one policy).
    pub fn expectation(
        &self,
        proto: L4Proto,
        src: SrcAddr,
        dst: IpAddr,
        dport: u16,
    ) -> Expectation {
        Expectation {
            src,
            ..Expectation::new(0, proto, dst, dport)
        }
    }

    /// The private data to report, if it changed.
    pub fn finish(mut self, old: &PrivData) -> Outcome {
        let new = self.st.encode();
        if new != *old {
            self.out.state = Some(new);
        }
        self.out
    }
}

// ---------------------------------------------------------------------------
// H.245 logical channels (nf_conntrack_h323_main.c, nf_nat_h323.c)
// ---------------------------------------------------------------------------

/// `expect_rtp_rtcp()`: an RTP (even port) and an RTCP (odd port)
/// expectation for a media or media control address at the sender's own
/// address, from the peer, UDP; under NAT `nat_rtp_rtcp()`.
pub(crate) fn expect_rtp_rtcp(cx: &mut Ctx<'_>, a: Option<&Addr>) {
    let Some(a) = cx.addr(a) else { return };
    if a.ip != cx.me().src || a.port == 0 {
        return;
    }
    let rtp_port = a.port & !1;
    let rtcp_port = a.port | 1;
    let peer = cx.peer();
    let mut rtp = cx.expectation(L4Proto::Udp, SrcAddr::Exact(peer.src), peer.dst, rtp_port);
    let mut rtcp = Expectation {
        dport: rtcp_port,
        ..rtp.clone()
    };
    if cx.nat_this_side() {
        nat_rtp_rtcp(cx, &a, &mut rtp, &mut rtcp);
        return;
    }
    if cx.expect(&rtp, "RTP") && !cx.expect(&rtcp, "RTCP") {
        cx.env.unexpect(&rtp);
    }
}

/// `nat_rtp_rtcp()`: the pair is searched from the port this connection
/// already allocated for the same RTP port (`rtp_port[i][dir]`), else from
/// the RTP port itself, upwards in steps of two; the address is rewritten
/// to `tuplehash[!dir].dst` with the allocated port (+1 for an odd one).
/// When the four remembered channels are taken, the kernel leaves the
/// address untranslated and makes no expectation; we search a pair all the
/// same and do not remember it.
fn nat_rtp_rtcp(cx: &mut Ctx<'_>, a: &Addr, rtp: &mut Expectation, rtcp: &mut Expectation) {
    let (d, nd) = (cx.dir, cx.dir.reverse());
    let rtp_port = rtp.dport;
    let nat_dir = cx.dir.reverse();
    rtp.nat = Some(ExpectNat::follow_master(nat_dir, a.ip, rtp.dport));
    rtcp.nat = Some(ExpectNat::follow_master(nat_dir, a.ip, rtcp.dport));
    // Lookup existing expects.
    let mut slot = None;
    for (i, ch) in cx.st.rtp_port.iter().enumerate() {
        let (here, there) = (of(*ch, d), of(*ch, nd));
        if here == rtp_port {
            rtp.dport = there;
            slot = Some(i);
            break;
        }
        if here == 0 {
            slot = Some(i);
            break;
        }
    }
    if slot.is_none() {
        cx.out.event(
            Reason::TooManyMedia,
            format!(
                "more than {RTP_CHANNEL_MAX} RTP channels on one connection: port {rtp_port} is translated but not remembered"
            ),
        );
    }
    let Some(nated) = find_pair(cx, rtp, rtcp) else {
        cx.out.event(
            Reason::ExpectFailed,
            format!(
                "no RTP/RTCP port pair from {}: address left untranslated",
                rtp.dport
            ),
        );
        return;
    };
    let port = if a.port & 1 != 0 { nated | 1 } else { nated };
    let to = cx.peer().dst;
    cx.set_addr(a, to, port);
    if let Some(ch) = slot.and_then(|i| cx.st.rtp_port.get_mut(i)) {
        *of_mut(ch, d) = rtp_port;
        *of_mut(ch, nd) = nated;
    }
}

/// The pair search of `nat_rtp_rtcp()`: the RTP expectation at `port`, then
/// the RTCP one at `port + 1`; a clash of either moves on by two (the RTP
/// one withdrawn), any other refusal ends the search.
fn find_pair(cx: &mut Ctx<'_>, rtp: &mut Expectation, rtcp: &mut Expectation) -> Option<u16> {
    let mut port = rtp.dport;
    for _ in 0..MAX_PAIR_ATTEMPTS {
        if port == 0 {
            return None;
        }
        rtp.dport = port;
        match cx.env.expect(rtp) {
            Ok(()) => {
                rtcp.dport = port.checked_add(1)?;
                match cx.env.expect(rtcp) {
                    Ok(()) => return Some(port),
                    Err(ExpectError::Clash) => {
                        cx.env.unexpect(rtp);
                    }
                    Err(_) => {
                        cx.env.unexpect(rtp);
                        return None;
                    }
                }
            }
            Err(ExpectError::Clash) => {}
            Err(_) => return None,
        }
        port = port.wrapping_add(2);
    }
    None
}

/// `expect_t120()`: a TCP expectation (PERMANENT: several channels) for a
/// T.120 address at the sender's own address, from the peer; under NAT
/// `nat_t120()`.
pub(crate) fn expect_t120(cx: &mut Ctx<'_>, a: Option<&Addr>) {
    let Some(a) = cx.addr(a) else { return };
    if a.ip != cx.me().src || a.port == 0 {
        return;
    }
    let peer = cx.peer();
    let mut exp = Expectation {
        flags: ExpectFlags::PERMANENT,
        ..cx.expectation(L4Proto::Tcp, SrcAddr::Exact(peer.src), peer.dst, a.port)
    };
    if !cx.nat_this_side() {
        cx.expect(&exp, "T.120");
        return;
    }
    // nat_t120()
    exp.nat = Some(ExpectNat::follow_master(cx.dir.reverse(), a.ip, a.port));
    let Some(nated) = cx.find_port(&mut exp, a.port) else {
        cx.out.event(
            Reason::ExpectFailed,
            "no port for T.120: address left untranslated",
        );
        return;
    };
    cx.set_addr(&a, peer.dst, nated);
}

/// `process_h245_channel()`.
fn process_h245_channel(cx: &mut Ctx<'_>, h: &H2250) {
    expect_rtp_rtcp(cx, h.media_channel.as_ref());
    expect_rtp_rtcp(cx, h.media_control_channel.as_ref());
}

/// `process_olc()`: the forward and reverse H.225.0 channels, and the T.120
/// separate stack of a `data`/`t120`/`separateLANStack` channel.
///
/// The kernel's decoder never reaches the reverse parameters or the
/// separate stack of a channel whose forward parameters are H.225.0 ones
/// (its tables stop after them); ours decodes the whole channel, so those
/// are handled too.
pub(crate) fn process_olc(cx: &mut Ctx<'_>, o: &H245Olc) {
    if let Some(h) = &o.forward.h2250 {
        process_h245_channel(cx, h);
    }
    if let Some(h) = o.reverse.as_ref().and_then(|r| r.h2250.as_ref()) {
        process_h245_channel(cx, h);
    }
    if matches!(
        o.forward.media,
        Media::Data {
            t120_separate_lan_stack: true
        }
    ) {
        expect_t120(cx, o.separate_stack.as_ref());
    }
}

/// `process_olca()`.
pub(crate) fn process_olca(cx: &mut Ctx<'_>, a: &H245OlcAck) {
    if let Some((_, Some(h))) = &a.reverse {
        process_h245_channel(cx, h);
    }
    if let Some(h) = &a.forward_ack {
        process_h245_channel(cx, h);
    }
    expect_t120(cx, a.separate_stack.as_ref());
}

/// `process_h245()`: OpenLogicalChannel and OpenLogicalChannelAck.
pub(crate) fn process_h245(cx: &mut Ctx<'_>, m: &H245) {
    match m {
        H245::OpenLogicalChannel(o) => process_olc(cx, o),
        H245::OpenLogicalChannelAck(a) => process_olca(cx, a),
        H245::Other { .. } => {}
    }
}

// ---------------------------------------------------------------------------
// TPKT framing (get_tpkt_data)
// ---------------------------------------------------------------------------

/// The TPKT frames of one TCP segment as the kernel's `get_tpkt_data()`
/// walks them, with `tpkt_len[dir]` (the NetMeeting case: a segment that
/// is only a TPKT header announces the data of the next segment).
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Tpkts {
    /// (offset, length) of each frame's payload in the segment.
    pub frames: Vec<(usize, usize)>,
    /// A frame continues past the segment: its header's offset (held by
    /// the flow core until the rest arrives; the kernel skips it).
    pub incomplete: Option<usize>,
}

/// Walks `seg`'s TPKT frames; updates `pending` (`tpkt_len[dir]`).
pub(crate) fn tpkts(seg: &[u8], pending: &mut u16) -> Tpkts {
    let mut t = Tpkts::default();
    if seg.is_empty() {
        *pending = 0;
        return t;
    }
    let is_hdr = |at: usize| seg.get(at) == Some(&3) && seg.get(at + 1) == Some(&0);
    let mut off = 0usize;
    if seg.len() < 4 || !is_hdr(0) {
        // Data after a lone header of the previous segment?
        let want = usize::from(*pending);
        if want == 0 {
            return t; // not even a TPKT
        }
        *pending = 0;
        if want > seg.len() {
            return t; // fragmented TPKT
        }
        t.frames.push((0, want));
        off = want;
    } else {
        // The first frame: a lone header announcing the next segment's data.
        let tl = usize::from(seg.get(2).copied().unwrap_or(0)) << 8
            | usize::from(seg.get(3).copied().unwrap_or(0));
        if tl > seg.len() && seg.len() == 4 && tl >= 4 {
            *pending = u16::try_from(tl - 4).unwrap_or(0);
            return t;
        }
    }
    loop {
        let rest = seg.len().saturating_sub(off);
        if off > 0 && rest <= 4 {
            break;
        }
        if !is_hdr(off) {
            break;
        }
        let tl = usize::from(seg.get(off + 2).copied().unwrap_or(0)) << 8
            | usize::from(seg.get(off + 3).copied().unwrap_or(0));
        if tl < 4 {
            break;
        }
        if tl > rest {
            t.incomplete = Some(off);
            break;
        }
        t.frames.push((off + 4, tl - 4));
        off += tl;
    }
    *pending = 0;
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_round_trip_and_layout() {
        let st = H323State {
            sig_port: [1720, 0x0102],
            rtp_port: [[5000, 5002], [0, 0], [0, 0], [7, 9]],
            timeout: 300,
            tpkt_len: [0, 0x0304],
        };
        let p = st.encode();
        assert_eq!(&p.0[..4], &[0xb8, 0x06, 0x02, 0x01]);
        assert_eq!(&p.0[4..8], &[0x88, 0x13, 0x8a, 0x13]);
        assert_eq!(&p.0[16..20], &[7, 0, 9, 0]);
        assert_eq!(&p.0[20..24], &[0x2c, 1, 0, 0]);
        assert_eq!(&p.0[24..28], &[0, 0, 4, 3]);
        assert!(p.0[STATE_LEN..].iter().all(|&b| b == 0));
        assert_eq!(H323State::decode(&p), st);
        assert_eq!(H323State::decode(&PrivData::ZERO), H323State::default());
    }

    fn tpkt(payload: &[u8]) -> Vec<u8> {
        let n = payload.len() + 4;
        let mut v = vec![3, 0, (n >> 8) as u8, n as u8];
        v.extend_from_slice(payload);
        v
    }

    #[test]
    fn tpkt_walk_as_the_kernel() {
        let mut p = 0;
        let mut seg = tpkt(b"abc");
        seg.extend(tpkt(b"defgh"));
        let t = tpkts(&seg, &mut p);
        assert_eq!(t.frames, vec![(4, 3), (11, 5)]);
        assert_eq!(t.incomplete, None);
        // A lone header: remembered, the next segment is its data, and
        // what follows that data is walked as TPKTs again.
        let t = tpkts(&[3, 0, 0, 9], &mut p);
        assert!(t.frames.is_empty());
        assert_eq!(p, 5);
        let mut next = b"hello".to_vec();
        next.extend(tpkt(b"xy"));
        let t = tpkts(&next, &mut p);
        assert_eq!(t.frames, vec![(0, 5), (9, 2)]);
        assert_eq!(p, 0);
        // Announced more than arrives: nothing, and forgotten.
        tpkts(&[3, 0, 0, 20], &mut p);
        assert_eq!(tpkts(b"short", &mut p), Tpkts::default());
        assert_eq!(p, 0);
        // Not a TPKT at all.
        assert_eq!(tpkts(b"GET / HTTP/1.0", &mut p), Tpkts::default());
        // A frame continuing past the segment is held from its header.
        let mut seg = tpkt(b"abc");
        seg.extend_from_slice(&[3, 0, 0, 40, 1, 2]);
        let t = tpkts(&seg, &mut p);
        assert_eq!(t.frames, vec![(4, 3)]);
        assert_eq!(t.incomplete, Some(7));
        // At most 4 bytes after a frame are ignored (the kernel's `<= 4`).
        let mut seg = tpkt(b"abc");
        seg.extend_from_slice(&[3, 0, 0, 9]);
        let t = tpkts(&seg, &mut p);
        assert_eq!(t.incomplete, None);
        assert_eq!(p, 0);
        // A length below 4 ends the walk.
        assert_eq!(tpkts(&[3, 0, 0, 2, 9, 9], &mut p).frames, vec![]);
    }
}
