//! H.323: the RAS, Q.931 and H.245 helpers — the kernel's
//! `nf_conntrack_h323_main.c` (expectations), `nf_nat_h323.c` (rewrites) and
//! `nf_conntrack_h323_asn1.c` (the decoder), IPv4 and IPv6.
//!
//! | helper | registered | files | policy | kernel |
//! |---|---|---|---|---|
//! | `RAS` | udp/1719 | [`ras`] | `ras` 32 / 240 s | `ras_help()` |
//! | `Q.931` | tcp/1720 (also named from UDP masters) | [`q931`] | `q931` 20 / 240 s | `q931_help()` |
//! | `H.245` | TCP, no port: attached by Q.931's expectations | [`h245`] | `h245` 18 / 240 s | `h245_help()` |
//!
//! Parameters as the kernel module's: `default_rrq_ttl` (300) and
//! `gkrouted_only` (1) on RAS, `callforward_filter` (true) on Q.931.
//! What they share (private data, address rewrites, H.245 logical channels,
//! TPKT framing) is in [`track`].
//!
//! # Parse
//! A hand-written ALIGNED PER decoder with typed results carrying the byte
//! offset of every address and port in the buffer given to it, so a NAT
//! rewrite is a same-length byte edit:
//! - [`decode_ras`]: one RAS datagram (UDP payload);
//! - [`decode_q931`]: one Q.931 message (a TPKT payload), its H.225.0
//!   user-user information, fastStart elements and tunnelled H.245;
//! - [`decode_h245`]: one H.245 message (a TPKT payload);
//! - [`split_tpkts`], [`decode_q931_segment`], [`decode_h245_segment`]: the
//!   TPKT frames of a TCP segment (several may share one), offsets into the
//!   segment.
//!
//! How: `tables.rs` (generated from the ASN.1 by `gen/gen_tables.py`) holds
//! every type the decoder may have to walk; `walk.rs` walks them over the
//! bit reader of `per.rs`, bounded in depth, work and captures, and records
//! the tagged components; `msg.rs` turns those into the types below. Of a
//! list the helpers take what the kernel's decoder keeps: 10
//! callSignalAddress / rasAddress items, 30 fastStart elements, 4
//! h245Control elements. The TCP helpers walk the TPKT frames of a segment
//! as `get_tpkt_data()`; a frame whose decode fails ends the segment (no
//! drop).
//!
//! # Decide (what each message yields)
//! `me` = `tuplehash[dir]` (this packet's direction), `peer` =
//! `tuplehash[!dir]`. "At the sender" = the address equals `me.src` and the
//! port is not 0; an address of the other family is never used.
//!
//! | message | expectation (class 0) | under NAT |
//! |---|---|---|
//! | GRQ | — | rasAddress = sender's addr+port → `peer.dst`:`peer.dport` (`set_ras_addr`) |
//! | GCF | rasAddress ≠ the sender's addr+port, connection not itself expected: UDP `peer.src` → rasAddress, helper RAS | — |
//! | RRQ | first callSignalAddress at the sender: TCP from `peer.src` (`gkrouted_only`) or any → `peer.dst`:port, PERMANENT, helper Q.931; `sig_port[dir]` = port | `nat_q931`: port = `sig_port[!dir]` if `sig_port[dir]` is this port, searched; address → `peer.dst`:port; loopback first address too (Gnomemeeting); rasAddress as GRQ. `timeout` = timeToLive or `default_rrq_ttl` |
//! | RCF | the Q.931 expectation's lifetime = `timeout` (connection's too) | callSignalAddress (`set_sig_addr`) |
//! | URQ | all of the connection's removed, `sig_port` cleared, connection 30 s | callSignalAddress (`set_sig_addr`) |
//! | ARQ | — | destCallSignalAddress at the sender with `sig_port[dir]` → `peer.dst`:`sig_port[!dir]`; else srcCallSignalAddress at the sender → `peer.dst`, same port |
//! | ACF | destCallSignalAddress ≠ `me.dst`: TCP `peer.src` → it, PERMANENT, helper Q.931 | = `me.dst`: `set_sig_addr` |
//! | LRQ | — | replyAddress as GRQ |
//! | LCF | TCP `peer.src` → callSignalAddress, PERMANENT, helper Q.931 (rasAddress ignored) | — |
//! | IRR | — | rasAddress as GRQ, callSignalAddress (`set_sig_addr`) |
//! | Setup, CallProceeding, Connect, Alerting, Progress, Facility (not forwarding) | h245Address at the sender: TCP `peer.src` → `peer.dst`:port, helper H.245; every fastStart OLC | `nat_h245`: as `nat_q931` with `sig_port`; Setup also: destCallSignalAddress ≠ `peer.src` → `peer.src`:`peer.sport`, sourceCallSignalAddress ≠ `peer.dst` → `peer.dst`:`peer.dport` |
//! | Facility, reason callForwarded | alternativeAddress (port ≠ 0, any address): TCP `peer.src` → it, helper Q.931 — unless `callforward_filter` and the routes to it and to `peer.src` leave by one interface | see *Kernel expectfns* |
//! | every h245Control element, H.245 OpenLogicalChannel | forward and reverse H.225.0 channels: mediaChannel and mediaControlChannel at the sender → RTP (even port) + RTCP (odd port) UDP from `peer.src` → `peer.dst`; T.120 separateStack of a `data`/t120/separateLANStack channel at the sender → TCP, PERMANENT | `nat_rtp_rtcp`: the pair this connection allocated for the RTP port (`rtp_port`), else from it, even/odd pairs upwards; `nat_t120`: searched |
//! | OpenLogicalChannelAck | reverse channel, forward multiplex ack channel, separateStack | as above |
//!
//! Under NAT (`ct->status & IPS_NAT_MASK`; for H.245, RTP/RTCP, T.120 and
//! call forwarding also "this side is translated": `me.src ≠ peer.dst`) the
//! expectation goes to `peer.dst` (the address the peer sees) with
//! `nat-follow-master` (`dir` = `!dir`, saved = the advertised address and
//! port) and the address is rewritten to `peer.dst` with the port found —
//! the 4 (IPv4) or 16 (IPv6) address octets and the 2 port octets in place.
//! Without NAT the expectation is made as is. Port searches: H.245, Q.931,
//! T.120 and call forwarding as `nf_nat_exp_find_port()` (the port, then up
//! to 128 random ones); RTP/RTCP pairs from the even port upwards in steps
//! of two ([`track::MAX_PAIR_ATTEMPTS`]). A search that finds nothing
//! leaves the address untranslated and makes no expectation (event
//! `expect_failed`), as the kernel (which returns 0, not NF_DROP).
//!
//! # Kernel expectfns
//! nf_nat_h323 gives two expectations functions of its own:
//! `ip_nat_q931_expect` (Q.931 calls announced by an RRQ) and
//! `ip_nat_callforwarding_expect`. They exist only while nf_nat_h323 is
//! loaded, which loads nf_conntrack_h323 and its helpers "RAS", "Q.931" and
//! "H.245" — the names cthelperd registers (the kernel refuses a second
//! registration): userspace cannot name them (`CTA_EXPECT_FN`). What we do
//! instead (docs/kernel-path.md, verified in the VM):
//! - Q.931 from the gatekeeper (`gkrouted_only`, the default):
//!   `ip_nat_q931_expect` *is* `nf_nat_follow_master` for a source-specific
//!   expectation, so we name that: the same NAT.
//! - Q.931 from any source (`gkrouted_only = 0`): the kernel translates only
//!   the destination; `nf_nat_follow_master` also translates the source to
//!   the gatekeeper's address as the endpoint sees it. Calls still arrive,
//!   from that address (event-free, documented).
//! - Call forwarding: `ip_nat_callforwarding_expect` translates only the
//!   destination, to the alternative address; `nf_nat_follow_master` sends
//!   the flow to the Facility's sender (`tuplehash[dir].src`) with the saved
//!   port — the same when the alternative address is the sender's own.
//!   Forwarding under NAT to a third address is not translated (event
//!   `expect_failed`; the kernel's would be).
//!
//! # Deliberate differences from the kernel
//! * IPv6 under NAT is rewritten like IPv4 (the kernel rewrites IPv4 only
//!   and makes conntrack-only expectations for IPv6).
//! * The decoder reads every field it is asked for: the kernel's tables stop
//!   too early in places — after the forward H.225.0 parameters of an OLC
//!   (so the reverse parameters and the T.120 separateStack of such a channel
//!   are never seen) and in Setup-UUIE (so with ten or more extension bits
//!   it reads the H323-UU-PDU's h245Control from the wrong position).
//! * More than 4 RTP channels under NAT: the kernel leaves the fifth
//!   untranslated, we translate it (without remembering its port pair).
//! * RCF: the Q.931 expectation gets the registration's lifetime; the
//!   kernel's lookup (source 0.0.0.0, original port) misses a
//!   source-specific or re-ported one (see [`ras`]).
//! * A TPKT that continues past its segment is held until it is whole
//!   ([`Outcome::incomplete`](crate::Outcome::incomplete)); the kernel skips
//!   it. A lone TPKT header is remembered as the kernel does (`tpkt_len`).
//! * A refused expectation without NAT lets the packet pass (event
//!   `expect_failed`); the kernel drops it.
//! * `callforward_filter` compares the interfaces the two routes leave by
//!   ([`Env::route_oif`](crate::Env::route_oif)); the kernel also compares
//!   the gateways.
//!
//! # Private data ([`track::H323State`], [`track::STATE_LEN`] = 28 bytes, little-endian)
//! `struct nf_ct_h323_master`, `timeout` and `tpkt_len` not overlaid:
//!
//! | bytes | field |
//! |---|---|
//! | 0..4 | `sig_port[original]`, `sig_port[reply]` (u16 each) |
//! | 4..20 | `rtp_port[i][original]`, `rtp_port[i][reply]` for i = 0..4 (u16 each) |
//! | 20..24 | `timeout` (u32; RAS) |
//! | 24..28 | `tpkt_len[original]`, `tpkt_len[reply]` (u16 each; Q.931, H.245) |
//!
//! Kernel reference: net/netfilter/nf_conntrack_h323_main.c,
//! net/ipv4/netfilter/nf_nat_h323.c, nf_conntrack_h323_asn1.c (decoder),
//! nf_conntrack_h323_types.c (its tables).

pub mod h245;
mod msg;
pub mod per;
pub mod q931;
pub mod ras;
mod table;
#[allow(clippy::all)]
mod tables;
pub mod track;
mod walk;

pub use msg::{
    Addr, AddrKind, Body, Channel, Dir, Found, H245Olc, H245OlcAck, LcParams, Media, Ras, RasMsg,
    Signal, H2250, H245, Q931,
};
pub use per::Error;

use per::{Reader, Result};

/// Decodes a RAS message (the whole UDP payload).
pub fn decode_ras(buf: &[u8]) -> Result<Ras> {
    let caps = walk::decode(&mut Reader::new(buf), &tables::RAS_MESSAGE)?;
    msg::build_ras(buf, &caps)
}

/// Decodes an H.245 MultimediaSystemControlMessage (one TPKT payload).
pub fn decode_h245(buf: &[u8]) -> Result<H245> {
    decode_h245_at(buf, 0, buf.len())
}

/// Decodes a Q.931 message (one TPKT payload): finds the user-user
/// information element and decodes its H323-UserInformation.
pub fn decode_q931(buf: &[u8]) -> Result<Q931> {
    decode_q931_at(buf, 0, buf.len())
}

fn decode_h245_at(buf: &[u8], start: usize, len: usize) -> Result<H245> {
    let mut r = Reader::over(buf, start, len);
    let caps = walk::decode(&mut r, &tables::MULTIMEDIA_SYSTEM_CONTROL_MESSAGE)?;
    msg::build_h245(buf, &caps)
}

/// Q.931 framing as the kernel's DecodeQ931 reads it: protocol
/// discriminator 0x08, call reference, message type, then information
/// elements up to the user-user element (0x7e, two length octets, the
/// protocol discriminator octet, then the PER encoding).
fn decode_q931_at(buf: &[u8], start: usize, len: usize) -> Result<Q931> {
    let end = start.checked_add(len).ok_or(Error::Truncated)?;
    let msg = buf.get(start..end).ok_or(Error::Truncated)?;
    let byte = |i: usize| msg.get(i).copied().ok_or(Error::Truncated);
    if byte(0)? != 0x08 {
        return Err(Error::Framing);
    }
    let crv_len = usize::from(byte(1)?);
    let mut p = 2 + crv_len;
    let message_type = byte(p)?;
    p += 1;
    while p < msg.len() {
        let id = byte(p)?;
        if id == 0x7e {
            let ie_len = usize::from(byte(p + 1)?) << 8 | usize::from(byte(p + 2)?);
            let content = p + 3;
            if content + ie_len > msg.len() {
                return Err(Error::Truncated);
            }
            // The content starts with the user-information protocol
            // discriminator; an empty element has nothing to decode (the
            // kernel's CVE-2026-23455: it took 0 - 1 as the length).
            if ie_len == 0 {
                return Err(Error::Framing);
            }
            let uu_off = start + content + 1;
            let uu_len = ie_len - 1;
            let mut r = Reader::over(buf, uu_off, uu_len);
            let caps = walk::decode(&mut r, &tables::H323_USER_INFORMATION)?;
            return msg::build_uuie(buf, &caps, message_type, uu_off, uu_len);
        }
        if id & 0x80 != 0 {
            // a single-octet information element
            p += 1;
        } else {
            p += 2 + usize::from(byte(p + 1)?);
        }
    }
    Err(Error::Framing)
}

/// One TPKT frame (RFC 1006) of a TCP segment: its payload's byte range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Frame {
    /// Offset of the payload (after the 4-byte header) in the segment.
    pub offset: usize,
    pub len: usize,
}

/// How the TPKT frames of a segment end (the kernel's get_tpkt_data).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TpktEnd {
    /// Every byte belongs to a complete frame (or at most 4 bytes are left
    /// over, which the kernel ignores).
    Done,
    /// The segment is exactly one TPKT header announcing `len` payload
    /// bytes in the next segment (NetMeeting does this).
    HeaderOnly { len: usize },
    /// A frame continues past the segment, or its length is below 4.
    Incomplete,
    /// The bytes at `offset` are not a TPKT header.
    NotTpkt { offset: usize },
}

/// Splits a TCP segment into TPKT frames: version 3, reserved 0, a 16-bit
/// length that counts the header.
pub fn split_tpkts(seg: &[u8]) -> (Vec<Frame>, TpktEnd) {
    let mut frames = Vec::new();
    let mut off = 0;
    loop {
        let rest = seg.len().saturating_sub(off);
        if rest == 0 || (off > 0 && rest <= 4) {
            return (frames, TpktEnd::Done);
        }
        let hdr = match seg.get(off..off + 4) {
            Some(h) => h,
            None => return (frames, TpktEnd::NotTpkt { offset: off }),
        };
        if hdr.first() != Some(&3) || hdr.get(1) != Some(&0) {
            return (frames, TpktEnd::NotTpkt { offset: off });
        }
        let len = usize::from(hdr.get(2).copied().unwrap_or(0)) << 8
            | usize::from(hdr.get(3).copied().unwrap_or(0));
        if len < 4 {
            return (frames, TpktEnd::Incomplete);
        }
        if len > rest {
            if off == 0 && rest == 4 {
                return (frames, TpktEnd::HeaderOnly { len: len - 4 });
            }
            return (frames, TpktEnd::Incomplete);
        }
        frames.push(Frame {
            offset: off + 4,
            len: len - 4,
        });
        off += len;
    }
}

/// The decoded frames of a segment: each frame with its result (offsets
/// into the segment), and how the framing ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment<T> {
    pub frames: Vec<(Frame, Result<T>)>,
    pub end: TpktEnd,
}

/// Decodes every TPKT frame of a Q.931 (tcp/1720) segment.
pub fn decode_q931_segment(seg: &[u8]) -> Segment<Q931> {
    let (frames, end) = split_tpkts(seg);
    Segment {
        frames: frames
            .into_iter()
            .map(|f| (f, decode_q931_at(seg, f.offset, f.len)))
            .collect(),
        end,
    }
}

/// Decodes every TPKT frame of an H.245 segment.
pub fn decode_h245_segment(seg: &[u8]) -> Segment<H245> {
    let (frames, end) = split_tpkts(seg);
    Segment {
        frames: frames
            .into_iter()
            .map(|f| (f, decode_h245_at(seg, f.offset, f.len)))
            .collect(),
        end,
    }
}

#[cfg(test)]
mod tests;
