//! PPTP control messages (RFC 2637 §1.3 and §2) in a TCP byte stream.
//!
//! Every message starts with the same 12-byte header, all fields
//! big-endian (offsets from the first byte of the message):
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 2 | Length — of the whole message, header included |
//! | 2 | 2 | PPTP Message Type — 1 control, 2 management (none defined) |
//! | 4 | 4 | Magic Cookie `0x1A2B3C4D` |
//! | 8 | 2 | Control Message Type — 1 ..= 15 |
//! | 10 | 2 | Reserved0 |
//!
//! The body follows at offset 12 ([`HEADER_LEN`]). The call IDs — the only
//! fields a NAT rewrite touches — are 16-bit and sit at offset 12 or 14 of
//! their message ([`CallIdAt`]): a rewrite is a same-length 2-byte
//! [`Edit`], so no TCP sequence adjustment is ever needed.
//!
//! | type | code | RFC length | kernel minimum | call IDs (offset) | RFC sender |
//! |---|---|---|---|---|---|
//! | SCCRQ Start-Control-Connection-Request | 1 | 156 | 156 | — | either |
//! | SCCRP Start-Control-Connection-Reply | 2 | 156 | 156 | — | either |
//! | StopCCRQ Stop-Control-Connection-Request | 3 | 16 | 16 | — | either |
//! | StopCCRP Stop-Control-Connection-Reply | 4 | 16 | 16 | — | either |
//! | EchoRQ Echo-Request | 5 | 16 | 12 | — | either |
//! | EchoRP Echo-Reply | 6 | 20 | 12 | — | either |
//! | OCRQ Outgoing-Call-Request | 7 | 168 | 168 | call 12 | PNS |
//! | OCRP Outgoing-Call-Reply | 8 | 32 | 32 | call 12, peer 14 | PAC |
//! | ICRQ Incoming-Call-Request | 9 | 220 | 220 | call 12 | PAC |
//! | ICRP Incoming-Call-Reply | 10 | 24 | 24 | call 12, peer 14 | PNS |
//! | ICCN Incoming-Call-Connected | 11 | 28 | 28 | peer 12 | PAC |
//! | CCRQ Call-Clear-Request | 12 | 16 | 16 | call 12 | PNS |
//! | CDN Call-Disconnect-Notify | 13 | 148 | 148 | call 12 | PAC |
//! | WEN WAN-Error-Notify | 14 | 40 | 40 | peer 12 | PAC |
//! | SLI Set-Link-Info | 15 | 24 | 24 | peer 12 | PNS (Windows servers send it too) |
//!
//! "Call ID" is the sender's own ID for the call, "Peer's Call ID" the
//! receiver's. The kernel minimum is the `pptp_msg_size[]` table of
//! `nf_conntrack_pptp.c` plus the header (the sizes of the
//! `struct Pptp*` of `nf_conntrack_pptp.h`); Echo has no entry there (it
//! reads nothing of it), so an Echo body may be empty and its fields are
//! `Option`s. A CDN's Call ID is the PAC's per the RFC (and pptpd), but
//! accel-ppp and Windows servers put the PNS's ID there (the kernel's
//! `nf_nat_pptp` rewrites it as the PNS's): the helper must match it
//! against both.
//!
//! # Framing
//! The kernel (`conntrack_pptp_help()`) looks only at the first message of
//! each segment and ignores the Length field (it checks that the rest of
//! the segment is as long as the type's struct). Here the Length field
//! frames the stream: [`split`] walks every message of a payload and tells
//! where and by how much the last one is cut short ([`End::Partial`]), so
//! a caller can hold the segment and try again with the next one. A
//! message is parsed only when all of its Length bytes are there. A header
//! that cannot be PPTP (Length < 12 or > [`MAX_MSG_LEN`], message type ≠ 1,
//! wrong cookie) ends the walk ([`End::Error`]): the stream is not PPTP or
//! out of step, and nothing after it can be framed. A well-framed message
//! of an unknown control type, or one whose Length is below its type's
//! minimum, is skipped ([`Split::skipped`]) and the walk goes on.
//!
//! Nothing here panics or reads outside the payload, whatever the input.

use crate::edit::Edit;

/// The PPTP control connection's TCP port (`PPTP_CONTROL_PORT`).
pub const CONTROL_PORT: u16 = 1723;
/// The Magic Cookie of every message (`PPTP_MAGIC_COOKIE`).
pub const MAGIC_COOKIE: u32 = 0x1A2B_3C4D;
/// PPTP Message Type of a control message (`PPTP_PACKET_CONTROL`).
pub const MESSAGE_CONTROL: u16 = 1;
/// PPTP Message Type of a management message (`PPTP_PACKET_MGMT`); RFC
/// 2637 defines none, the kernel ignores them.
pub const MESSAGE_MANAGEMENT: u16 = 2;
/// `struct pptp_pkt_hdr` (8) + `struct PptpControlHeader` (4).
pub const HEADER_LEN: usize = 12;
/// The longest message [`split`] frames. The longest RFC message is ICRQ
/// (220 bytes); the margin allows for vendor padding, the bound keeps a
/// hostile Length from making a caller hold data.
pub const MAX_MSG_LEN: usize = 1024;

/// Offsets inside a message (from its Length field).
pub mod off {
    pub const LENGTH: usize = 0;
    pub const MESSAGE_TYPE: usize = 2;
    pub const COOKIE: usize = 4;
    pub const CONTROL_TYPE: usize = 8;
    pub const RESERVED0: usize = 10;
    /// First body field: Protocol Version (SCCRQ/SCCRP), Reason (StopCCRQ),
    /// Result Code (StopCCRP), Identifier (Echo), Call ID (OCRQ, OCRP,
    /// ICRQ, ICRP, CCRQ, CDN), Peer's Call ID (ICCN, WEN, SLI).
    pub const BODY: usize = 12;
    /// Peer's Call ID of OCRP and ICRP; Call Serial Number of OCRQ/ICRQ;
    /// Result Code + Error Code of SCCRP and CDN.
    pub const BODY2: usize = 14;
    /// Result Code of OCRP and ICRP, Echo-Reply's Result Code.
    pub const BODY4: usize = 16;
}

/// Which side sends a message type, per RFC 2637.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Sender {
    Pns,
    Pac,
    Either,
}

/// The fifteen control message types (`PPTP_*` of
/// `nf_conntrack_pptp.h`, RFC 2637 §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MsgType {
    Sccrq,
    Sccrp,
    StopCcrq,
    StopCcrp,
    EchoRq,
    EchoRp,
    Ocrq,
    Ocrp,
    Icrq,
    Icrp,
    Iccn,
    Ccrq,
    Cdn,
    Wen,
    Sli,
}

impl MsgType {
    /// In code order.
    pub const ALL: [MsgType; 15] = [
        MsgType::Sccrq,
        MsgType::Sccrp,
        MsgType::StopCcrq,
        MsgType::StopCcrp,
        MsgType::EchoRq,
        MsgType::EchoRp,
        MsgType::Ocrq,
        MsgType::Ocrp,
        MsgType::Icrq,
        MsgType::Icrp,
        MsgType::Iccn,
        MsgType::Ccrq,
        MsgType::Cdn,
        MsgType::Wen,
        MsgType::Sli,
    ];

    /// The Control Message Type code, 1 ..= 15.
    pub const fn code(self) -> u16 {
        match self {
            MsgType::Sccrq => 1,
            MsgType::Sccrp => 2,
            MsgType::StopCcrq => 3,
            MsgType::StopCcrp => 4,
            MsgType::EchoRq => 5,
            MsgType::EchoRp => 6,
            MsgType::Ocrq => 7,
            MsgType::Ocrp => 8,
            MsgType::Icrq => 9,
            MsgType::Icrp => 10,
            MsgType::Iccn => 11,
            MsgType::Ccrq => 12,
            MsgType::Cdn => 13,
            MsgType::Wen => 14,
            MsgType::Sli => 15,
        }
    }

    pub const fn from_code(code: u16) -> Option<MsgType> {
        Some(match code {
            1 => MsgType::Sccrq,
            2 => MsgType::Sccrp,
            3 => MsgType::StopCcrq,
            4 => MsgType::StopCcrp,
            5 => MsgType::EchoRq,
            6 => MsgType::EchoRp,
            7 => MsgType::Ocrq,
            8 => MsgType::Ocrp,
            9 => MsgType::Icrq,
            10 => MsgType::Icrp,
            11 => MsgType::Iccn,
            12 => MsgType::Ccrq,
            13 => MsgType::Cdn,
            14 => MsgType::Wen,
            15 => MsgType::Sli,
            _ => return None,
        })
    }

    /// The RFC's abbreviation (`SCCRQ`, `OCRP`, …), as Wireshark shows it.
    pub const fn abbrev(self) -> &'static str {
        match self {
            MsgType::Sccrq => "SCCRQ",
            MsgType::Sccrp => "SCCRP",
            MsgType::StopCcrq => "StopCCRQ",
            MsgType::StopCcrp => "StopCCRP",
            MsgType::EchoRq => "EchoRQ",
            MsgType::EchoRp => "EchoRP",
            MsgType::Ocrq => "OCRQ",
            MsgType::Ocrp => "OCRP",
            MsgType::Icrq => "ICRQ",
            MsgType::Icrp => "ICRP",
            MsgType::Iccn => "ICCN",
            MsgType::Ccrq => "CCRQ",
            MsgType::Cdn => "CDN",
            MsgType::Wen => "WEN",
            MsgType::Sli => "SLI",
        }
    }

    /// The RFC's name.
    pub const fn name(self) -> &'static str {
        match self {
            MsgType::Sccrq => "Start-Control-Connection-Request",
            MsgType::Sccrp => "Start-Control-Connection-Reply",
            MsgType::StopCcrq => "Stop-Control-Connection-Request",
            MsgType::StopCcrp => "Stop-Control-Connection-Reply",
            MsgType::EchoRq => "Echo-Request",
            MsgType::EchoRp => "Echo-Reply",
            MsgType::Ocrq => "Outgoing-Call-Request",
            MsgType::Ocrp => "Outgoing-Call-Reply",
            MsgType::Icrq => "Incoming-Call-Request",
            MsgType::Icrp => "Incoming-Call-Reply",
            MsgType::Iccn => "Incoming-Call-Connected",
            MsgType::Ccrq => "Call-Clear-Request",
            MsgType::Cdn => "Call-Disconnect-Notify",
            MsgType::Wen => "WAN-Error-Notify",
            MsgType::Sli => "Set-Link-Info",
        }
    }

    /// The message's length in RFC 2637, header included.
    pub const fn rfc_len(self) -> usize {
        match self {
            MsgType::Sccrq | MsgType::Sccrp => 156,
            MsgType::StopCcrq | MsgType::StopCcrp | MsgType::EchoRq | MsgType::Ccrq => 16,
            MsgType::EchoRp => 20,
            MsgType::Ocrq => 168,
            MsgType::Ocrp => 32,
            MsgType::Icrq => 220,
            MsgType::Icrp | MsgType::Sli => 24,
            MsgType::Iccn => 28,
            MsgType::Cdn => 148,
            MsgType::Wen => 40,
        }
    }

    /// The kernel's minimum body length (`pptp_msg_size[]`: the size of
    /// the type's `struct Pptp*`; 0 for Echo, which has no entry).
    pub const fn min_body(self) -> usize {
        match self {
            MsgType::EchoRq | MsgType::EchoRp => 0,
            t => t.rfc_len() - HEADER_LEN,
        }
    }

    /// The shortest Length accepted for the type (header + [`min_body`](Self::min_body)).
    pub const fn min_len(self) -> usize {
        HEADER_LEN + self.min_body()
    }

    pub const fn sender(self) -> Sender {
        match self {
            MsgType::Ocrq | MsgType::Icrp | MsgType::Ccrq | MsgType::Sli => Sender::Pns,
            MsgType::Ocrp | MsgType::Icrq | MsgType::Iccn | MsgType::Cdn | MsgType::Wen => {
                Sender::Pac
            }
            _ => Sender::Either,
        }
    }
}

impl std::fmt::Display for MsgType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.abbrev())
    }
}

/// A 16-bit call ID and where it is in the payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CallIdAt {
    pub value: u16,
    /// Offset of its first (high) byte in the payload given to [`split`] /
    /// [`parse_at`].
    pub offset: usize,
}

impl CallIdAt {
    /// The same-length edit that writes `new` over this call ID.
    pub fn rewrite(&self, new: u16) -> Edit {
        Edit::new(self.offset, 2, new.to_be_bytes())
    }
}

/// What the helper reads of each message type. Call IDs carry their
/// position; the other fields are plain values (names as in
/// `nf_conntrack_pptp.h`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Body {
    Sccrq {
        version: u16,
    },
    Sccrp {
        version: u16,
        /// 1 = OK (`PPTP_START_OK`).
        result: u8,
        error: u8,
    },
    StopCcrq {
        reason: u8,
    },
    StopCcrp {
        /// 1 = OK (`PPTP_STOP_OK`).
        result: u8,
        error: u8,
    },
    EchoRq {
        ident: Option<u32>,
    },
    EchoRp {
        ident: Option<u32>,
        result: Option<u8>,
    },
    Ocrq {
        call_id: CallIdAt,
        serial: u16,
    },
    Ocrp {
        call_id: CallIdAt,
        peer_call_id: CallIdAt,
        /// 1 = Connected (`PPTP_OUTCALL_CONNECT`).
        result: u8,
        error: u8,
        cause: u16,
    },
    Icrq {
        call_id: CallIdAt,
        serial: u16,
    },
    Icrp {
        call_id: CallIdAt,
        peer_call_id: CallIdAt,
        /// 1 = Accept (`PPTP_INCALL_ACCEPT`).
        result: u8,
        error: u8,
    },
    Iccn {
        peer_call_id: CallIdAt,
    },
    Ccrq {
        call_id: CallIdAt,
    },
    Cdn {
        call_id: CallIdAt,
        result: u8,
        error: u8,
        cause: u16,
    },
    Wen {
        peer_call_id: CallIdAt,
    },
    Sli {
        peer_call_id: CallIdAt,
    },
}

/// Result codes the state machine looks at.
pub const RESULT_OK: u8 = 1;

impl Body {
    pub const fn msg_type(&self) -> MsgType {
        match self {
            Body::Sccrq { .. } => MsgType::Sccrq,
            Body::Sccrp { .. } => MsgType::Sccrp,
            Body::StopCcrq { .. } => MsgType::StopCcrq,
            Body::StopCcrp { .. } => MsgType::StopCcrp,
            Body::EchoRq { .. } => MsgType::EchoRq,
            Body::EchoRp { .. } => MsgType::EchoRp,
            Body::Ocrq { .. } => MsgType::Ocrq,
            Body::Ocrp { .. } => MsgType::Ocrp,
            Body::Icrq { .. } => MsgType::Icrq,
            Body::Icrp { .. } => MsgType::Icrp,
            Body::Iccn { .. } => MsgType::Iccn,
            Body::Ccrq { .. } => MsgType::Ccrq,
            Body::Cdn { .. } => MsgType::Cdn,
            Body::Wen { .. } => MsgType::Wen,
            Body::Sli { .. } => MsgType::Sli,
        }
    }

    /// The sender's own Call ID (OCRQ, OCRP, ICRQ, ICRP, CCRQ, CDN).
    pub const fn call_id(&self) -> Option<CallIdAt> {
        match *self {
            Body::Ocrq { call_id, .. }
            | Body::Ocrp { call_id, .. }
            | Body::Icrq { call_id, .. }
            | Body::Icrp { call_id, .. }
            | Body::Ccrq { call_id }
            | Body::Cdn { call_id, .. } => Some(call_id),
            _ => None,
        }
    }

    /// The receiver's Call ID (OCRP, ICRP, ICCN, WEN, SLI).
    pub const fn peer_call_id(&self) -> Option<CallIdAt> {
        match *self {
            Body::Ocrp { peer_call_id, .. }
            | Body::Icrp { peer_call_id, .. }
            | Body::Iccn { peer_call_id }
            | Body::Wen { peer_call_id }
            | Body::Sli { peer_call_id } => Some(peer_call_id),
            _ => None,
        }
    }
}

/// One whole, well-formed control message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Msg {
    /// Offset of its Length field in the payload.
    pub offset: usize,
    /// Its Length field: the message is `[offset, offset + len)`.
    pub len: usize,
    /// Reserved0 (the RFC says 0; neither we nor the kernel check).
    pub reserved0: u16,
    pub body: Body,
}

impl Msg {
    pub const fn msg_type(&self) -> MsgType {
        self.body.msg_type()
    }
    pub const fn end(&self) -> usize {
        self.offset + self.len
    }
    pub const fn call_id(&self) -> Option<CallIdAt> {
        self.body.call_id()
    }
    pub const fn peer_call_id(&self) -> Option<CallIdAt> {
        self.body.peer_call_id()
    }
}

/// Why the bytes at an offset are not a usable control message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MsgError {
    /// Length below [`HEADER_LEN`]: no message can be framed.
    BadLength { len: u16 },
    /// Length above [`MAX_MSG_LEN`].
    TooLong { len: u16 },
    /// PPTP Message Type other than control (management, or garbage).
    /// Seen on the bytes that are there: a type cut short by the end of
    /// the payload has its missing bytes shown as those of 1.
    NotControl { message_type: u16 },
    /// Likewise, missing bytes shown as the cookie's.
    BadCookie { cookie: u32 },
    /// A framed message of a Control Message Type outside 1 ..= 15.
    UnknownType { code: u16, len: u16 },
    /// A framed message shorter than its type's kernel minimum.
    Short { msg_type: MsgType, len: u16 },
}

impl MsgError {
    /// Whether the message can be stepped over (its Length frames it):
    /// [`split`] skips these and goes on.
    pub const fn skippable(&self) -> bool {
        matches!(self, MsgError::UnknownType { .. } | MsgError::Short { .. })
    }
    /// Stable reason code for counters.
    pub const fn reason(&self) -> &'static str {
        match self {
            MsgError::BadLength { .. } => "bad_length",
            MsgError::TooLong { .. } => "too_long",
            MsgError::NotControl { .. } => "not_control",
            MsgError::BadCookie { .. } => "bad_cookie",
            MsgError::UnknownType { .. } => "unknown_type",
            MsgError::Short { .. } => "short",
        }
    }
}

impl std::fmt::Display for MsgError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MsgError::BadLength { len } => write!(f, "length {len} below the 12-byte header"),
            MsgError::TooLong { len } => write!(f, "length {len} above {MAX_MSG_LEN}"),
            MsgError::NotControl { message_type } => {
                write!(f, "PPTP message type {message_type}, not control (1)")
            }
            MsgError::BadCookie { cookie } => write!(f, "magic cookie {cookie:#010x}"),
            MsgError::UnknownType { code, len } => {
                write!(f, "unknown control message type {code} ({len} bytes)")
            }
            MsgError::Short { msg_type, len } => write!(
                f,
                "{msg_type} of {len} bytes, below its minimum {}",
                msg_type.min_len()
            ),
        }
    }
}

/// What starts at an offset of the payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Frame {
    Msg(Msg),
    /// The payload ends inside this message: at least `need` more bytes are
    /// needed (exactly `need` once the Length field was readable).
    Incomplete {
        need: usize,
    },
}

fn be16(b: &[u8], at: usize) -> Option<u16> {
    let s = b.get(at..at.checked_add(2)?)?;
    Some(u16::from_be_bytes([*s.first()?, *s.get(1)?]))
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at.checked_add(4)?)?;
    Some(u32::from_be_bytes([
        *s.first()?,
        *s.get(1)?,
        *s.get(2)?,
        *s.get(3)?,
    ]))
}

/// The bytes `[at + o, at + o + n)` of `buf` as a big-endian number, the
/// missing ones (past the payload) read as `want`'s; and whether any was
/// missing.
fn field_prefix(buf: &[u8], at: usize, o: usize, n: usize, want: u32) -> (u32, bool) {
    let mut v = 0u32;
    let mut missing = false;
    for i in 0..n {
        let shift = 8 * (n - 1 - i);
        let b = match buf.get(at + o + i) {
            Some(&b) => b,
            None => {
                missing = true;
                (want >> shift) as u8
            }
        };
        v |= u32::from(b) << shift;
    }
    (v, missing)
}

/// Checks the header fields, as far as they are in the payload (a field
/// cut short is compared on its visible bytes), and returns the Length
/// once it is readable.
fn check_header(buf: &[u8], at: usize) -> Result<Option<usize>, MsgError> {
    let len = be16(buf, at + off::LENGTH);
    if let Some(l) = len {
        if usize::from(l) < HEADER_LEN {
            return Err(MsgError::BadLength { len: l });
        }
        if usize::from(l) > MAX_MSG_LEN {
            return Err(MsgError::TooLong { len: l });
        }
    }
    let want = u32::from(MESSAGE_CONTROL);
    let (t, _) = field_prefix(buf, at, off::MESSAGE_TYPE, 2, want);
    if t != want {
        return Err(MsgError::NotControl {
            message_type: t as u16,
        });
    }
    let (c, _) = field_prefix(buf, at, off::COOKIE, 4, MAGIC_COOKIE);
    if c != MAGIC_COOKIE {
        return Err(MsgError::BadCookie { cookie: c });
    }
    Ok(len.map(usize::from))
}

/// Parses the message that starts at `at` of `payload`.
///
/// `Ok(Frame::Incomplete)` when the payload ends before the message does
/// (what is there of the header is already checked); `Err` when the bytes
/// are not a usable message (see [`MsgError::skippable`]).
pub fn parse_at(payload: &[u8], at: usize) -> Result<Frame, MsgError> {
    if at > payload.len() {
        return Ok(Frame::Incomplete { need: HEADER_LEN });
    }
    // From here on `at <= payload.len()`, so `at` plus a message length
    // cannot overflow.
    let avail = payload.len() - at;
    let Some(len) = check_header(payload, at)? else {
        return Ok(Frame::Incomplete {
            need: HEADER_LEN - avail,
        });
    };
    if avail < len {
        return Ok(Frame::Incomplete { need: len - avail });
    }
    // The whole message is there: every read below is inside
    // [at, at + len), which is inside the payload.
    let m = payload.get(at..at + len).unwrap_or_default();
    let len16 = u16::try_from(len).unwrap_or(u16::MAX);
    let code = be16(m, off::CONTROL_TYPE).unwrap_or_default();
    let reserved0 = be16(m, off::RESERVED0).unwrap_or_default();
    let Some(msg_type) = MsgType::from_code(code) else {
        return Err(MsgError::UnknownType { code, len: len16 });
    };
    let short = MsgError::Short {
        msg_type,
        len: len16,
    };
    if len < msg_type.min_len() {
        return Err(short);
    }
    let u8_at = |o: usize| m.get(o).copied().ok_or(short);
    let u16_at = |o: usize| be16(m, o).ok_or(short);
    let id_at = |o: usize| {
        Ok(CallIdAt {
            value: be16(m, o).ok_or(short)?,
            offset: at + o,
        })
    };
    let body = match msg_type {
        MsgType::Sccrq => Body::Sccrq {
            version: u16_at(off::BODY)?,
        },
        MsgType::Sccrp => Body::Sccrp {
            version: u16_at(off::BODY)?,
            result: u8_at(off::BODY2)?,
            error: u8_at(off::BODY2 + 1)?,
        },
        MsgType::StopCcrq => Body::StopCcrq {
            reason: u8_at(off::BODY)?,
        },
        MsgType::StopCcrp => Body::StopCcrp {
            result: u8_at(off::BODY)?,
            error: u8_at(off::BODY + 1)?,
        },
        MsgType::EchoRq => Body::EchoRq {
            ident: be32(m, off::BODY),
        },
        MsgType::EchoRp => Body::EchoRp {
            ident: be32(m, off::BODY),
            result: m.get(off::BODY4).copied(),
        },
        MsgType::Ocrq => Body::Ocrq {
            call_id: id_at(off::BODY)?,
            serial: u16_at(off::BODY2)?,
        },
        MsgType::Ocrp => Body::Ocrp {
            call_id: id_at(off::BODY)?,
            peer_call_id: id_at(off::BODY2)?,
            result: u8_at(off::BODY4)?,
            error: u8_at(off::BODY4 + 1)?,
            cause: u16_at(off::BODY4 + 2)?,
        },
        MsgType::Icrq => Body::Icrq {
            call_id: id_at(off::BODY)?,
            serial: u16_at(off::BODY2)?,
        },
        MsgType::Icrp => Body::Icrp {
            call_id: id_at(off::BODY)?,
            peer_call_id: id_at(off::BODY2)?,
            result: u8_at(off::BODY4)?,
            error: u8_at(off::BODY4 + 1)?,
        },
        MsgType::Iccn => Body::Iccn {
            peer_call_id: id_at(off::BODY)?,
        },
        MsgType::Ccrq => Body::Ccrq {
            call_id: id_at(off::BODY)?,
        },
        MsgType::Cdn => Body::Cdn {
            call_id: id_at(off::BODY)?,
            result: u8_at(off::BODY2)?,
            error: u8_at(off::BODY2 + 1)?,
            cause: u16_at(off::BODY4)?,
        },
        MsgType::Wen => Body::Wen {
            peer_call_id: id_at(off::BODY)?,
        },
        MsgType::Sli => Body::Sli {
            peer_call_id: id_at(off::BODY)?,
        },
    };
    Ok(Frame::Msg(Msg {
        offset: at,
        len,
        reserved0,
        body,
    }))
}

/// How a payload ends after its last whole message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum End {
    /// On a message boundary (or the payload is empty).
    #[default]
    Complete,
    /// A message starts at `offset` and needs `need` more bytes (at least
    /// that many while its Length field is not in the payload).
    Partial { offset: usize, need: usize },
    /// At `offset` the bytes are not PPTP; the rest is not framed.
    Error { offset: usize, error: MsgError },
}

/// The messages of one payload.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Split {
    /// The whole, well-formed messages, in order.
    pub msgs: Vec<Msg>,
    /// Framed but unusable messages (unknown type, too short for their
    /// type), with their offsets, in order.
    pub skipped: Vec<(usize, MsgError)>,
    /// Bytes at the start of the payload that form whole messages (used or
    /// skipped); `end` says what follows.
    pub framed: usize,
    pub end: End,
}

/// Walks every message of `payload`, starting at offset 0.
pub fn split(payload: &[u8]) -> Split {
    let mut out = Split::default();
    let mut at = 0usize;
    while at < payload.len() {
        match parse_at(payload, at) {
            Ok(Frame::Msg(m)) => {
                at = m.end();
                out.msgs.push(m);
            }
            Ok(Frame::Incomplete { need }) => {
                out.end = End::Partial { offset: at, need };
                break;
            }
            Err(e @ (MsgError::UnknownType { len, .. } | MsgError::Short { len, .. })) => {
                out.skipped.push((at, e));
                at += usize::from(len);
            }
            Err(error) => {
                out.end = End::Error { offset: at, error };
                break;
            }
        }
        out.framed = at;
    }
    out
}

/// Builds a message of `msg_type` whose body is `body` (padded with zeros
/// or cut to [`MsgType::rfc_len`]), for tests, fuzz seeds and tools.
pub fn build(msg_type: MsgType, body: &[u8]) -> Vec<u8> {
    let len = msg_type.rfc_len();
    let mut m = Vec::with_capacity(len);
    m.extend_from_slice(&(len as u16).to_be_bytes());
    m.extend_from_slice(&MESSAGE_CONTROL.to_be_bytes());
    m.extend_from_slice(&MAGIC_COOKIE.to_be_bytes());
    m.extend_from_slice(&msg_type.code().to_be_bytes());
    m.extend_from_slice(&[0, 0]);
    m.extend(
        body.iter()
            .copied()
            .chain(std::iter::repeat(0))
            .take(len - HEADER_LEN),
    );
    m
}
