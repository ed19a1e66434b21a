//! H.323: the ALIGNED PER decoder for the H.225.0 RAS, Q.931 user-user
//! information and H.245 messages the conntrack helper reads (phase 1 of
//! the H.323 helper; the helper itself is not here yet).
//!
//! Entry points, each returning typed results with the byte offset of every
//! address and port in the buffer given to it (so a NAT rewrite is a
//! same-length byte edit):
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
//! the tagged components; `msg.rs` turns those into the types below.
//! Kernel reference: net/netfilter/nf_conntrack_h323_asn1.c (decoder),
//! nf_conntrack_h323_types.c (its tables), nf_conntrack_h323_main.c
//! (get_tpkt_data, DecodeQ931 and what each message handler reads).

mod msg;
pub mod per;
mod table;
#[allow(clippy::all)]
mod tables;
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
