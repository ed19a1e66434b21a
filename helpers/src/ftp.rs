//! FTP: PORT/EPRT commands and 227/229 replies — the kernel's
//! `nf_conntrack_ftp.c` (expectations) and `nf_nat_ftp.c` (rewrites).
//!
//! # Parse
//! A packet is looked at only when it starts a line (see *Line starts*);
//! then each of its lines is, from the first on (the kernel looks at the
//! first only; see *Deliberate differences*). Which forms apply depends on
//! the direction, as the kernel's `search[][]` table:
//!
//! | dir      | pattern | skip to          | numbers            | kernel `getnum` |
//! |----------|---------|------------------|--------------------|-----------------|
//! | original | `PORT`  | first `' '`      | `h1,h2,h3,h4,p1,p2` then `\r` | `try_rfc959` |
//! | original | `EPRT`  | first `' '`      | `<d>1<d>a.b.c.d<d>port<d>` / `<d>2<d>v6<d>port<d>` | `try_eprt` |
//! | reply    | `227 `  | first digit      | `h1,h2,h3,h4,p1,p2` then any non-`,` | `try_rfc1123` |
//! | reply    | `229 `  | first `'('`      | `<d><d><d>port<d>` | `try_epsv_response` |
//!
//! Patterns compare case-insensitively (`strncasecmp` in `find_pattern`), so
//! `port`, `ePrT` match. As in the kernel `PORT`/`EPRT` are not followed by a
//! required space: the parser skips to the first space (`PORTS 1,2,…` counts).
//! `<d>` is any byte 33..=126 but a digit (RFC 2428; `try_eprt`); the EPRT
//! protocol number must be the connection's family (`1` on IPv4, `2` on
//! IPv6). Numbers: each PORT/227/EPRT-v4 field is refused as soon as it
//! exceeds 255 (`try_number`), a port as soon as it exceeds 65535 and a port
//! 0 at its closing delimiter (`get_port`); leading zeros are accepted, as in
//! the kernel; nothing wraps. The byte range a NAT rewrite replaces is the
//! kernel's `matchoff`/`matchlen`: PORT — from after the space up to (not
//! including) `\r`; 227 — from the first digit to the end of the sixth
//! number; EPRT — from the first delimiter through the closing one; 229 —
//! from after `(` through the closing delimiter.
//!
//! # Decide (`help()` in nf_conntrack_ftp.c)
//! The advertised address (for 229: `tuple[dir].src`) must equal
//! `tuple[dir].src`, else the advertisement is an FTP bounce: no expectation
//! (event `bounce`), unless `loose`. The expectation is `nf_ct_expect_init()`
//! with class 0, the command's family, src = `tuple[!dir].src`, dst =
//! `tuple[!dir].dst` (the command's address under `loose`), any source port,
//! dst port = the advertised port, TCP, flags 0, no helper.
//!
//! # NAT (`nf_nat_ftp()`, when the connection is NATed)
//! dst = `tuple[!dir].dst` (the address the peer sees), `nat = {dir: !dir,
//! saved: the advertised address/port}` (expectfn `nat-follow-master`); the
//! port is searched as `nf_nat_exp_find_port()`: the advertised port, then on
//! a clash up to 128 random ports `min + random % (65535 - min)`; any other
//! refusal stops. No port → drop (`nat_failed`), as the kernel's NF_DROP.
//! The match range is replaced by `nf_nat_ftp_fmt_cmd()`'s text:
//! `a,b,c,d,p1,p2` (PORT, 227), `|1|a.b.c.d|port|` or
//! `|2|xxxx:…:xxxx|port|` (EPRT, `%pI6`: eight 4-digit lowercase groups,
//! never compressed), `|||port|` (229) — always `|` as delimiter. A rewrite
//! that would give the same bytes is not emitted.
//!
//! # Line starts (`seq_aft_nl` in nf_conntrack_ftp.c)
//! Per direction the sequence numbers just after the last two packets that
//! ended with `\n` are remembered (`update_nl_seq()`: an exact duplicate is
//! ignored; with two known, the older one — by `before()` — is replaced only
//! by a later one). A packet is parsed only if its sequence number is one of
//! them. A packet that ends in an unfinished line we hold (see below) also
//! records the sequence number where that line starts, so the call with the
//! line joined to the next segment is at a line start. A direction in which
//! no packet has been seen yet is *unknown*: its first packet is parsed
//! wherever it starts (a stream starts at a line start), like the kernel's
//! `NF_CT_FTP_SEQ_PICKUP` for conntracks injected over ctnetlink. The kernel's own first packet per direction (no pickup
//! flag) is never parsed — that is the 220 banner and the USER command in
//! practice, so both choices expect the same flows; ours also works for a
//! connection whose state was lost. Without a TCP sequence number every
//! packet is taken as a line start and the state is left alone.
//!
//! # Deliberate differences from the kernel
//! * Every line of a packet is parsed, not only the first: the kernel's
//!   `find_pattern()` compares at the start of the packet only, so a client
//!   that pipelines (`TYPE I\r\nPORT …\r\n` in one segment) or a command
//!   behind a held line would escape it. Each command found is handled as
//!   if it had come alone (bounce check, expectation, NAT rewrite; the
//!   policy's `max_expected` = 1 lets the table keep the last one, as for
//!   two packets); a NAT failure on any of them drops the packet and
//!   withdraws the expectations the packet's earlier commands made.
//! * A command split over segments: the kernel drops the packet ("partial
//!   matching", NF_DROP) hoping for a larger retransmission; we answer
//!   [`Outcome::incomplete`]` = Some(offset of the unfinished line)` (event
//!   `partial`) when the packet ends in a line that is, or may still become,
//!   one of the direction's patterns: the lines before it are handled (their
//!   expectations, edits and the new state count), and the caller calls
//!   again with that line joined to the next segment (at `tcp_seq +
//!   offset`, which the new state records as a line start). A packet that
//!   is one unfinished line (`Some(0)`) changes nothing, not even the state.
//!   An incomplete line longer than [`MAX_PENDING_LINE`] is given up
//!   (`malformed`).
//! * A complete but malformed line (bad number, octet > 255, missing `\r`
//!   after PORT, no address after 227, wrong EPRT family…) is a "partial
//!   match" for the kernel, so it drops the packet; we let it pass (fail
//!   open) with event `malformed`, and go on with the next line. Parsing a
//!   line stops at its end (the kernel's scans may run into the next lines
//!   of the same packet).
//! * Empty number fields (`PORT 10,,,1,4,1`), which the kernel reads as 0,
//!   and port 0 in PORT/227 are refused (`malformed`).
//! * IPv6 text in EPRT is parsed by std's RFC 4291 parser instead of
//!   `in6_pton()` (same results for well-formed addresses; at most 45
//!   characters).
//! * PORT/227 on an IPv6 connection: the kernel compares a v4 address
//!   against the v6 source, so it is a bounce; with `loose` it would build a
//!   mixed-family expectation — we refuse it (event `family`).
//! * An expectation refused without NAT ([`Env::expect`]): the kernel
//!   returns NF_DROP ("Best to drop packet now"); we let the packet pass
//!   (event `expect_failed`, fail open — see
//!   [`Outcome::expect`](crate::Outcome::expect)).
//! * The kernel looks at packets only when their ctinfo is ESTABLISHED
//!   (`IP_CT_ESTABLISHED[_REPLY]`); we do not check [`Packet::ctinfo`] —
//!   the handshake carries no payload.
//! * Under NAT with `loose` and a third-party address, the kernel keeps that
//!   address as the expectation's destination while it writes
//!   `tuple[!dir].dst` into the packet (they cannot both be right); we use
//!   `tuple[!dir].dst` as for every NATed advertisement.
//!
//! # Private data ([`FtpState`], [`STATE_LEN`] = 20 bytes, little-endian)
//! | bytes  | field |
//! |--------|-------|
//! | 0..4   | original: seq after newline #0 (u32 LE) |
//! | 4..8   | original: seq after newline #1 |
//! | 8..12  | reply: seq after newline #0 |
//! | 12..16 | reply: seq after newline #1 |
//! | 16     | original: how many of the two are valid (0..=2; more reads as 2) |
//! | 17     | reply: same |
//! | 18     | original: flags, bit 0 = a packet of this direction was seen |
//! | 19     | reply: flags |
//!
//! All zero = nothing known (a new connection).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::conn::{Dir, L4Proto};
use crate::edit::Edit;
use crate::event::Reason;
use crate::expect::nat_find_port;
use crate::expect::{ExpectError, ExpectNat, Expectation, SrcAddr};
use crate::helper::HelperInfo;
use crate::helper::{Env, Helper, Outcome, Packet, PrivData};
use crate::params::{ExpectPolicy, Param, Params};
use crate::text::Small;

/// Bytes of private data the FTP helper uses.
pub const STATE_LEN: usize = 20;

/// An incomplete line longer than this is not waited for.
pub const MAX_PENDING_LINE: usize = 1024;

/// Longest payload a NAT rewrite may produce: the kernel's `enlarge_skb()`
/// refuses packets over 65535 bytes; 40 bytes go to minimal IP+TCP headers.
const MAX_PAYLOAD: usize = 65535 - 40;

/// Longest IPv6 address text (INET6_ADDRSTRLEN - 1).
const MAX_V6_TEXT: usize = 45;

/// `loose` of nf_conntrack_ftp.
pub const LOOSE: Param<bool> = Param::bool(
    "loose",
    false,
    "accept PORT/PASV addresses other than the sender's (FTP bounce)",
);

pub static INFO: HelperInfo = HelperInfo {
    name: "ftp",
    l4: &[L4Proto::Tcp],
    ipv4: true,
    ipv6: true,
    default_ports: &[21],
    policies: &[("ftp", 1, 300)],
    policies_from_params: None,
    expected_from: &[],
    params: &[LOOSE.spec],
    priv_len: STATE_LEN,
    summary: "FTP: PORT/EPRT and 227/229 data connections",
    build: |p, pol| Box::new(Ftp::new(p, pol)),
};

// ---------------------------------------------------------------------------
// Parse
// ---------------------------------------------------------------------------

/// The FTP forms, as the kernel's `enum nf_ct_ftp_type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// `PORT h1,h2,h3,h4,p1,p2` (client).
    Port,
    /// `EPRT |af|addr|port|` (client).
    Eprt,
    /// `227 … h1,h2,h3,h4,p1,p2` (server, PASV reply).
    Pasv,
    /// `229 … (|||port|)` (server, EPSV reply).
    Epsv,
}

impl Kind {
    pub const fn name(self) -> &'static str {
        match self {
            Kind::Port => "PORT",
            Kind::Eprt => "EPRT",
            Kind::Pasv => "227",
            Kind::Epsv => "229",
        }
    }
}

/// An address/port advertisement found in a payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Command {
    pub kind: Kind,
    /// The advertised address; `None` for 229, which names none.
    pub addr: Option<IpAddr>,
    pub port: u16,
    /// The kernel's `matchoff`/`matchlen`: the bytes a NAT rewrite replaces.
    pub off: usize,
    pub len: usize,
}

/// What the first line of a payload is (see [`parse`]; the helper parses
/// each line of a packet with it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Parsed {
    /// None of the direction's patterns.
    NoMatch,
    Match(Command),
    /// A pattern whose numbers are wrong.
    Malformed {
        kind: Kind,
        why: &'static str,
    },
    /// The payload ends before the line is complete, and it is (or could
    /// still become) one of the patterns.
    Incomplete(Kind),
}

/// Why a number parser stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fail {
    /// The input ran out while everything so far fitted.
    More,
    Bad(&'static str),
}

type PResult<T> = Result<T, Fail>;

struct Search {
    pattern: &'static [u8],
    skip: Option<u8>,
    kind: Kind,
}

/// The kernel's `search[IP_CT_DIR_MAX][2]`.
const SEARCH_ORIGINAL: [Search; 2] = [
    Search {
        pattern: b"PORT",
        skip: Some(b' '),
        kind: Kind::Port,
    },
    Search {
        pattern: b"EPRT",
        skip: Some(b' '),
        kind: Kind::Eprt,
    },
];
const SEARCH_REPLY: [Search; 2] = [
    Search {
        pattern: b"227 ",
        skip: None,
        kind: Kind::Pasv,
    },
    Search {
        pattern: b"229 ",
        skip: Some(b'('),
        kind: Kind::Epsv,
    },
];

/// Parses the first line of `payload` (a packet of direction `dir` on an
/// IPv6 connection if `ipv6`).
pub fn parse(payload: &[u8], dir: Dir, ipv6: bool) -> Parsed {
    let (line, complete) = match crate::text::find_newline(payload) {
        Some(nl) => (payload.get(..=nl).unwrap_or(payload), true),
        None => (payload, false),
    };
    let table = match dir {
        Dir::Original => &SEARCH_ORIGINAL,
        Dir::Reply => &SEARCH_REPLY,
    };
    for s in table {
        match find_pattern(line, s, ipv6) {
            Ok(None) => continue,
            Ok(Some(cmd)) => return Parsed::Match(cmd),
            Err(Fail::Bad(why)) => return Parsed::Malformed { kind: s.kind, why },
            Err(Fail::More) if complete => {
                return Parsed::Malformed {
                    kind: s.kind,
                    why: "line ends too early",
                }
            }
            Err(Fail::More) if line.len() > MAX_PENDING_LINE => {
                return Parsed::Malformed {
                    kind: s.kind,
                    why: "incomplete line too long",
                }
            }
            Err(Fail::More) => return Parsed::Incomplete(s.kind),
        }
    }
    Parsed::NoMatch
}

/// `find_pattern()`: `Ok(None)` when the line is not this pattern.
fn find_pattern(line: &[u8], s: &Search, ipv6: bool) -> PResult<Option<Command>> {
    let plen = s.pattern.len();
    if line.len() <= plen {
        // Short packet: a prefix of the pattern may still become it.
        let head = s.pattern.get(..line.len()).unwrap_or(s.pattern);
        return if line.eq_ignore_ascii_case(head) {
            Err(Fail::More)
        } else {
            Ok(None)
        };
    }
    if !crate::text::starts_with_ignore_case(line, s.pattern) {
        return Ok(None);
    }
    let rest = line.get(plen..).unwrap_or_default();
    let start = match s.skip {
        Some(c) => {
            let at = rest.iter().position(|&b| b == c).ok_or(Fail::More)?;
            plen + at + 1
        }
        None => plen,
    };
    let data = line.get(start..).unwrap_or_default();
    let (addr, port, off, len) = match s.kind {
        Kind::Port => {
            let (a, p, len) = try_rfc959(data, Some(b'\r'))?;
            (Some(IpAddr::V4(a)), p, 0, len)
        }
        Kind::Pasv => {
            let (a, p, off, len) = try_rfc1123(data)?;
            (Some(IpAddr::V4(a)), p, off, len)
        }
        Kind::Eprt => {
            let (a, p, len) = try_eprt(data, ipv6)?;
            (Some(a), p, 0, len)
        }
        Kind::Epsv => {
            let (p, len) = try_epsv_response(data)?;
            (None, p, 0, len)
        }
    };
    Ok(Some(Command {
        kind: s.kind,
        addr,
        port,
        off: start + off,
        len,
    }))
}

/// `try_number()`: `N` decimal numbers ≤ 255 separated by `sep`. After the
/// last one comes `term` (or, with `None`, anything but `sep`). Returns the
/// numbers and the length up to (not including) that byte.
fn numbers<const N: usize>(s: &[u8], sep: u8, term: Option<u8>) -> PResult<([u8; N], usize)> {
    let mut out = [0u8; N];
    let mut pos = 0usize;
    for (k, slot) in out.iter_mut().enumerate() {
        let mut value: u32 = 0;
        let mut digits = 0usize;
        let next = loop {
            match s.get(pos) {
                None => return Err(Fail::More),
                Some(&c) if c.is_ascii_digit() => {
                    value = value * 10 + u32::from(c - b'0');
                    if value > 255 {
                        return Err(Fail::Bad("number over 255"));
                    }
                    digits += 1;
                    pos += 1;
                }
                Some(&c) => break c,
            }
        };
        if digits == 0 {
            return Err(Fail::Bad("empty number"));
        }
        *slot = u8::try_from(value).map_err(|_| Fail::Bad("number over 255"))?;
        if k + 1 < N {
            if next != sep {
                return Err(Fail::Bad("separator expected"));
            }
            pos += 1;
        } else if next == sep {
            return Err(Fail::Bad("too many numbers"));
        } else if term.is_some_and(|t| t != next) {
            return Err(Fail::Bad("bad terminator"));
        }
    }
    Ok((out, pos))
}

/// `try_rfc959()`: `h1,h2,h3,h4,p1,p2`.
fn try_rfc959(data: &[u8], term: Option<u8>) -> PResult<(Ipv4Addr, u16, usize)> {
    let ([a, b, c, d, p1, p2], len) = numbers::<6>(data, b',', term)?;
    let port = u16::from(p1) << 8 | u16::from(p2);
    if port == 0 {
        return Err(Fail::Bad("port 0"));
    }
    Ok((Ipv4Addr::new(a, b, c, d), port, len))
}

/// `try_rfc1123()`: the numbers start at the first digit (RFC 1123 4.1.2.6:
/// the parentheses of the 227 reply are optional). Returns the offset of
/// that digit as well.
fn try_rfc1123(data: &[u8]) -> PResult<(Ipv4Addr, u16, usize, usize)> {
    let first = data.iter().position(u8::is_ascii_digit).ok_or(Fail::More)?;
    let (a, p, len) = try_rfc959(data.get(first..).unwrap_or_default(), None)?;
    Ok((a, p, first, len))
}

/// RFC 2428 delimiter: printable, not a digit.
fn delimiter(c: u8) -> PResult<u8> {
    if c.is_ascii_digit() || !(33..=126).contains(&c) {
        Err(Fail::Bad("bad delimiter"))
    } else {
        Ok(c)
    }
}

/// `get_port()`: digits from `start` up to `delim`; 1..=65535. Returns the
/// port and the length through the delimiter.
fn get_port(data: &[u8], start: usize, delim: u8) -> PResult<(u16, usize)> {
    let mut value: u32 = 0;
    let mut i = start;
    loop {
        match data.get(i) {
            None => return Err(Fail::More),
            Some(&c) if c == delim => {
                if value == 0 {
                    return Err(Fail::Bad("port 0"));
                }
                let port = u16::try_from(value).map_err(|_| Fail::Bad("port over 65535"))?;
                return Ok((port, i + 1));
            }
            Some(&c) if c.is_ascii_digit() => {
                value = value * 10 + u32::from(c - b'0');
                if value > 65535 {
                    return Err(Fail::Bad("port over 65535"));
                }
                i += 1;
            }
            Some(_) => return Err(Fail::Bad("bad port")),
        }
    }
}

/// `try_eprt()`: `<d>1<d>a.b.c.d<d>port<d>` or `<d>2<d>v6<d>port<d>`.
fn try_eprt(data: &[u8], ipv6: bool) -> PResult<(IpAddr, u16, usize)> {
    let delim = delimiter(*data.first().ok_or(Fail::More)?)?;
    let af = *data.get(1).ok_or(Fail::More)?;
    if *data.get(2).ok_or(Fail::More)? != delim {
        return Err(Fail::Bad("bad delimiter"));
    }
    let rest = data.get(3..).unwrap_or_default();
    let (addr, alen) = match (af, ipv6) {
        (b'1', false) => {
            let ([a, b, c, d], len) = numbers::<4>(rest, b'.', Some(delim))?;
            (IpAddr::V4(Ipv4Addr::new(a, b, c, d)), len)
        }
        (b'2', true) => {
            let (a, len) = ipv6_text(rest, delim)?;
            (IpAddr::V6(a), len)
        }
        _ => return Err(Fail::Bad("address family")),
    };
    // Past "|1|", the address and its closing delimiter.
    let (port, end) = get_port(data, 3 + alen + 1, delim)?;
    Ok((addr, port, end))
}

/// An IPv6 address up to `delim` (which is checked first, as `in6_pton`'s
/// `xdigit2bin()` does). Returns the address and the text length.
fn ipv6_text(s: &[u8], delim: u8) -> PResult<(Ipv6Addr, usize)> {
    for (i, &c) in s.iter().enumerate() {
        if c == delim {
            let text = s.get(..i).unwrap_or_default();
            let text = std::str::from_utf8(text).map_err(|_| Fail::Bad("bad IPv6 address"))?;
            let a = text
                .parse::<Ipv6Addr>()
                .map_err(|_| Fail::Bad("bad IPv6 address"))?;
            return Ok((a, i));
        }
        if i >= MAX_V6_TEXT || !(c.is_ascii_hexdigit() || c == b':' || c == b'.') {
            return Err(Fail::Bad("bad IPv6 address"));
        }
    }
    Err(Fail::More)
}

/// `try_epsv_response()`: `<d><d><d>port<d>`.
fn try_epsv_response(data: &[u8]) -> PResult<(u16, usize)> {
    let delim = delimiter(*data.first().ok_or(Fail::More)?)?;
    for i in 1..3 {
        if *data.get(i).ok_or(Fail::More)? != delim {
            return Err(Fail::Bad("bad delimiter"));
        }
    }
    get_port(data, 3, delim)
}

// ---------------------------------------------------------------------------
// Format (nf_nat_ftp_fmt_cmd)
// ---------------------------------------------------------------------------

/// PORT/227 text: `a,b,c,d,p1,p2`.
pub fn format_port(addr: Ipv4Addr, port: u16) -> Small {
    let mut t = Small::new();
    for (i, o) in addr.octets().into_iter().enumerate() {
        if i > 0 {
            t.push_byte(b',');
        }
        t.push_dec(u32::from(o));
    }
    t.push_byte(b',');
    t.push_dec(u32::from(port >> 8));
    t.push_byte(b',');
    t.push_dec(u32::from(port & 0xff));
    t
}

/// IPv6 as the kernel's `%pI6`: eight colon-separated groups of four
/// lowercase hex digits, never compressed.
pub fn ipv6_full(addr: Ipv6Addr) -> Small {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut t = Small::new();
    for (i, g) in addr.segments().into_iter().enumerate() {
        if i > 0 {
            t.push_byte(b':');
        }
        for shift in [12u32, 8, 4, 0] {
            let nib = usize::from((g >> shift) & 0xf);
            t.push_byte(HEX.get(nib).copied().unwrap_or(b'0'));
        }
    }
    t
}

/// EPRT text: `|1|a.b.c.d|port|` or `|2|xxxx:…|port|`.
pub fn format_eprt(addr: IpAddr, port: u16) -> Small {
    let mut t = Small::new();
    match addr {
        IpAddr::V4(a) => {
            t.push_str("|1|");
            t.push_ipv4(a);
        }
        IpAddr::V6(a) => {
            t.push_str("|2|");
            t.push_str(&ipv6_full(a));
        }
    }
    t.push_byte(b'|');
    t.push_dec(u32::from(port));
    t.push_byte(b'|');
    t
}

/// 229 text: `|||port|`.
pub fn format_epsv(port: u16) -> Small {
    let mut t = Small::new();
    t.push_str("|||");
    t.push_dec(u32::from(port));
    t.push_byte(b'|');
    t
}

/// The replacement text for `kind` (None if the address family cannot be
/// written in that form). Texts are built on the stack ([`Small`]).
pub fn format_cmd(kind: Kind, addr: IpAddr, port: u16) -> Option<Small> {
    match (kind, addr) {
        (Kind::Port | Kind::Pasv, IpAddr::V4(a)) => Some(format_port(a, port)),
        (Kind::Port | Kind::Pasv, IpAddr::V6(_)) => None,
        (Kind::Eprt, a) => Some(format_eprt(a, port)),
        (Kind::Epsv, _) => Some(format_epsv(port)),
    }
}

// ---------------------------------------------------------------------------
// State
// ---------------------------------------------------------------------------

/// Line-start tracking of one direction (`seq_aft_nl[dir]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DirState {
    /// Sequence numbers just after a packet that ended with `\n`.
    pub seq_aft_nl: [u32; 2],
    /// How many of `seq_aft_nl` are valid (0..=2).
    pub num: u8,
    /// A packet of this direction was seen (the first one is picked up
    /// wherever it starts).
    pub seen: bool,
}

const FLAG_SEEN: u8 = 0x1;

/// TCP sequence comparison (`before()` in net/tcp.h).
fn seq_before(a: u32, b: u32) -> bool {
    (a.wrapping_sub(b) as i32) < 0
}

impl DirState {
    fn known(&self) -> &[u32] {
        let n = usize::from(self.num.min(2));
        self.seq_aft_nl.get(..n).unwrap_or_default()
    }
    /// Whether a packet starting at `seq` starts a line.
    pub fn at_line_start(&self, seq: u32) -> bool {
        !self.seen || self.known().contains(&seq)
    }
    /// `update_nl_seq()`.
    pub fn update_nl(&mut self, nl_seq: u32) {
        if self.known().contains(&nl_seq) {
            return;
        }
        let n = self.num.min(2);
        if let Some(slot) = self.seq_aft_nl.get_mut(usize::from(n)) {
            *slot = nl_seq;
            self.num = n + 1;
            return;
        }
        let [s0, s1] = self.seq_aft_nl;
        let oldest = usize::from(!seq_before(s0, s1));
        if let Some(slot) = self.seq_aft_nl.get_mut(oldest) {
            if seq_before(*slot, nl_seq) {
                *slot = nl_seq;
            }
        }
    }
}

/// The FTP helper's private data; see the module documentation for the
/// byte layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FtpState {
    pub original: DirState,
    pub reply: DirState,
}

fn le32(b: &[u8], at: usize) -> u32 {
    b.get(at..at + 4)
        .and_then(|s| <[u8; 4]>::try_from(s).ok())
        .map_or(0, u32::from_le_bytes)
}

impl FtpState {
    pub fn decode(p: &PrivData) -> Self {
        let b = p.as_bytes();
        let byte = |i: usize| b.get(i).copied().unwrap_or(0);
        let dir = |seq: usize, num: usize, flags: usize| DirState {
            seq_aft_nl: [le32(b, seq), le32(b, seq + 4)],
            num: byte(num).min(2),
            seen: byte(flags) & FLAG_SEEN != 0,
        };
        FtpState {
            original: dir(0, 16, 18),
            reply: dir(8, 17, 19),
        }
    }
    pub fn encode(&self) -> PrivData {
        let mut b = [0u8; crate::helper::PRIV_DATA_MAX];
        let mut w = Vec::with_capacity(STATE_LEN);
        for d in [&self.original, &self.reply] {
            for s in d.seq_aft_nl {
                w.extend_from_slice(&s.to_le_bytes());
            }
        }
        w.extend_from_slice(&[self.original.num.min(2), self.reply.num.min(2)]);
        for d in [&self.original, &self.reply] {
            w.push(if d.seen { FLAG_SEEN } else { 0 });
        }
        for (dst, src) in b.iter_mut().zip(&w) {
            *dst = *src;
        }
        PrivData(b)
    }
    pub fn dir(&self, d: Dir) -> &DirState {
        match d {
            Dir::Original => &self.original,
            Dir::Reply => &self.reply,
        }
    }
    pub fn dir_mut(&mut self, d: Dir) -> &mut DirState {
        match d {
            Dir::Original => &mut self.original,
            Dir::Reply => &mut self.reply,
        }
    }
}

// ---------------------------------------------------------------------------
// The helper
// ---------------------------------------------------------------------------

#[derive(Debug)]
pub struct Ftp {
    /// Accept advertised addresses other than the sender's (FTP bounce).
    pub loose: bool,
}

impl Ftp {
    pub fn new(p: &Params, _policies: &[ExpectPolicy]) -> Self {
        Ftp {
            loose: p.get(LOOSE),
        }
    }

    /// Every line of a packet that starts at a line start: each command is
    /// decided, each malformed line counted. Returns the offset of the
    /// unfinished last line when it is (or may become) a command: the
    /// caller holds it. Nothing is held when the packet is dropped.
    fn lines(&self, pkt: &Packet<'_>, env: &mut dyn Env, out: &mut Outcome) -> Option<usize> {
        let payload = pkt.payload;
        // Growth of the rewrites so far (bounded by MAX_PAYLOAD) and the
        // expectations made (withdrawn if a later command drops the packet).
        let mut grown = 0isize;
        let mut made = Vec::new();
        let mut pos = 0usize;
        while let Some(rest) = payload.get(pos..).filter(|r| !r.is_empty()) {
            match parse(rest, pkt.dir, pkt.conn.is_ipv6()) {
                Parsed::NoMatch => {}
                Parsed::Incomplete(kind) => {
                    out.event(
                        Reason::Partial,
                        format!(
                            "{} split over segments ({} so far)",
                            kind.name(),
                            crate::text::count(rest.len() as u64, "byte")
                        ),
                    );
                    return Some(pos);
                }
                Parsed::Malformed { kind, why } => {
                    out.event(Reason::Malformed, format!("{}: {why}", kind.name()));
                }
                Parsed::Match(cmd) => {
                    let cmd = Command {
                        off: cmd.off.saturating_add(pos),
                        ..cmd
                    };
                    self.decide(pkt, &cmd, env, out, &mut grown, &mut made);
                    if out.drop {
                        // NF_DROP: nothing of this packet stays.
                        for e in made.iter().rev() {
                            env.unexpect(e);
                        }
                        out.edits.clear();
                        return None;
                    }
                }
            }
            let Some(nl) = crate::text::find_newline(rest) else {
                break;
            };
            pos = pos.saturating_add(nl).saturating_add(1);
        }
        None
    }

    /// Builds and registers the expectation for `cmd` (help() after the
    /// match, then nf_nat_ftp()). `grown` is the most the packet's earlier
    /// rewrites may have added; `made` collects the NATed expectations.
    fn decide(
        &self,
        pkt: &Packet<'_>,
        cmd: &Command,
        env: &mut dyn Env,
        out: &mut Outcome,
        grown: &mut isize,
        made: &mut Vec<Expectation>,
    ) {
        let dir = pkt.dir;
        let me = pkt.conn.tuple(dir);
        let peer = pkt.conn.tuple(dir.reverse());
        let advertised = cmd.addr.unwrap_or(me.src);
        let mut daddr = peer.dst;
        if advertised != me.src {
            if !self.loose {
                out.event_by(
                    Reason::Bounce,
                    LOOSE.name(),
                    format!(
                        "{} {} advertises {advertised}, sender is {}",
                        dir.name(),
                        cmd.kind.name(),
                        me.src
                    ),
                );
                return;
            }
            daddr = advertised;
        }
        let v6 = advertised.is_ipv6();
        if peer.src.is_ipv6() != v6 || daddr.is_ipv6() != v6 || peer.dst.is_ipv6() != v6 {
            out.event(
                Reason::Family,
                format!(
                    "{} {advertised} on a connection of the other family",
                    cmd.kind.name()
                ),
            );
            return;
        }
        let mut exp = Expectation {
            src: SrcAddr::Exact(peer.src),
            ..Expectation::new(0, L4Proto::Tcp, daddr, cmd.port)
        };
        if !pkt.conn.nat() {
            out.expect(env, &exp, &cmd.kind.name());
            return;
        }

        // nf_nat_ftp(): the data connection goes to wherever this packet goes.
        let newaddr = peer.dst;
        exp.dst = newaddr;
        exp.nat = Some(ExpectNat::follow_master(
            dir.reverse(),
            advertised,
            cmd.port,
        ));
        let Some(widest) = format_cmd(cmd.kind, newaddr, u16::MAX) else {
            out.event(Reason::NatFailed, "address family cannot be written");
            out.drop = true;
            return;
        };
        let widen = (widest.len() as isize).saturating_sub(cmd.len as isize);
        *grown = grown.saturating_add(widen);
        if (pkt.payload.len() as isize).saturating_add(*grown) > MAX_PAYLOAD as isize {
            out.event(Reason::NatFailed, "rewritten packet too large");
            out.drop = true;
            return;
        }
        let port = match nat_find_port(env, &mut exp, cmd.port) {
            Ok(p) => p,
            Err(e) => {
                let why = match e {
                    ExpectError::Clash => "all ports in use".to_string(),
                    other => format!("expectation refused: {other:?}"),
                };
                out.event(Reason::NatFailed, why);
                out.drop = true;
                return;
            }
        };
        // One per tuple, as the table keeps them (one port twice).
        made.retain(|e| !e.same_as(&exp));
        made.push(exp);
        let Some(text) = format_cmd(cmd.kind, newaddr, port) else {
            out.event(Reason::NatFailed, "address family cannot be written");
            out.drop = true;
            return;
        };
        let old = pkt.payload.get(cmd.off..cmd.off.saturating_add(cmd.len));
        if old != Some(text.as_bytes()) {
            out.edits.push(Edit::new(cmd.off, cmd.len, text.as_bytes()));
        }
    }
}

impl Helper for Ftp {
    fn info(&self) -> &'static HelperInfo {
        &INFO
    }

    fn handle(&self, pkt: &Packet<'_>, env: &mut dyn Env) -> Outcome {
        let mut out = Outcome::default();
        let payload = pkt.payload;
        if payload.is_empty() {
            return out;
        }
        let mut st = FtpState::decode(&pkt.state);
        let parse_it = match pkt.tcp_seq {
            Some(seq) => st.dir(pkt.dir).at_line_start(seq),
            None => true,
        };
        if parse_it {
            out.incomplete = self.lines(pkt, env, &mut out);
            if out.incomplete == Some(0) {
                // One unfinished line: nothing handled, nothing to remember.
                return out;
            }
        }
        if let Some(seq) = pkt.tcp_seq {
            let d = st.dir_mut(pkt.dir);
            d.seen = true;
            if let Some(at) = out.incomplete {
                // The held line starts a line: the next call is there.
                let at = u32::try_from(at).unwrap_or(u32::MAX);
                d.update_nl(seq.wrapping_add(at));
            } else if payload.last() == Some(&b'\n') {
                // Length as received: the sender numbers its bytes so.
                let len = u32::try_from(payload.len()).unwrap_or(u32::MAX);
                d.update_nl(seq.wrapping_add(len));
            }
            let new = st.encode();
            if new != pkt.state {
                out.state = Some(new);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v4(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn port_forms() {
        let p = parse(b"PORT 10,0,0,1,4,1\r\n", Dir::Original, false);
        assert_eq!(
            p,
            Parsed::Match(Command {
                kind: Kind::Port,
                addr: Some(v4("10.0.0.1")),
                port: 1025,
                off: 5,
                len: 12
            })
        );
        assert!(matches!(
            parse(b"port 10,0,0,1,4,1\r\n", Dir::Original, false),
            Parsed::Match(_)
        ));
        // Not in the reply direction.
        assert_eq!(
            parse(b"PORT 10,0,0,1,4,1\r\n", Dir::Reply, false),
            Parsed::NoMatch
        );
        // Leading zeros are fine, as in the kernel.
        assert!(matches!(
            parse(b"PORT 010,0,0,001,4,1\r\n", Dir::Original, false),
            Parsed::Match(Command { port: 1025, .. })
        ));
    }

    #[test]
    fn port_refusals() {
        for bad in [
            &b"PORT 256,0,0,1,4,1\r\n"[..],
            b"PORT 10,0,0,1,4,1\n",
            b"PORT 10,0,0,1,4\r\n",
            b"PORT 10,0,0,1,4,1,7\r\n",
            b"PORT 10,,0,1,4,1\r\n",
            b"PORT 10,0,0,1,0,0\r\n",
            b"PORT  10,0,0,1,4,1\r\n",
            b"PORT\r\n",
            b"PORT 99999999999999999999999,0,0,1,4,1\r\n",
        ] {
            assert!(
                matches!(parse(bad, Dir::Original, false), Parsed::Malformed { .. }),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn incomplete_prefixes() {
        for inc in [
            &b"P"[..],
            b"POR",
            b"PORT",
            b"PORT 1",
            b"PORT 1,2,3,4,5,6",
            b"EPRT |1|",
        ] {
            assert_eq!(
                parse(inc, Dir::Original, false),
                Parsed::Incomplete(if inc.first() == Some(&b'E') {
                    Kind::Eprt
                } else {
                    Kind::Port
                }),
                "{:?}",
                String::from_utf8_lossy(inc)
            );
        }
        assert!(matches!(
            parse(b"22", Dir::Reply, false),
            Parsed::Incomplete(Kind::Pasv)
        ));
        assert_eq!(parse(b"X", Dir::Original, false), Parsed::NoMatch);
    }

    #[test]
    fn rfc1123_offsets() {
        let l = b"227 Entering Passive Mode (192,168,1,2,19,137).\r\n";
        let Parsed::Match(c) = parse(l, Dir::Reply, false) else {
            panic!()
        };
        assert_eq!(&l[c.off..c.off + c.len], b"192,168,1,2,19,137");
        assert_eq!(c.port, 19 * 256 + 137);
    }

    #[test]
    fn state_round_trip_and_layout() {
        let st = FtpState {
            original: DirState {
                seq_aft_nl: [0x0102_0304, 5],
                num: 2,
                seen: true,
            },
            reply: DirState {
                seq_aft_nl: [7, 0],
                num: 1,
                seen: false,
            },
        };
        let p = st.encode();
        assert_eq!(&p.0[..4], &[4, 3, 2, 1]);
        assert_eq!(&p.0[16..20], &[2, 1, 1, 0]);
        assert!(p.0[STATE_LEN..].iter().all(|&b| b == 0));
        assert_eq!(FtpState::decode(&p), st);
        assert_eq!(FtpState::decode(&PrivData::ZERO), FtpState::default());
        assert_eq!(INFO.priv_len, STATE_LEN);
    }

    #[test]
    fn update_nl_keeps_two_newest() {
        let mut d = DirState::default();
        d.update_nl(100);
        d.update_nl(100);
        assert_eq!(d.known(), &[100]);
        d.update_nl(200);
        d.update_nl(300);
        assert_eq!(d.known(), &[300, 200]);
        // Older than both: ignored.
        d.update_nl(50);
        assert_eq!(d.known(), &[300, 200]);
        // Across the wrap.
        let mut w = DirState {
            seq_aft_nl: [u32::MAX - 10, u32::MAX - 5],
            num: 2,
            seen: true,
        };
        w.update_nl(3);
        assert_eq!(w.known(), &[3, u32::MAX - 5]);
    }

    #[test]
    fn ipv6_full_format() {
        assert_eq!(
            ipv6_full("2001:db8::1".parse().unwrap()),
            "2001:0db8:0000:0000:0000:0000:0000:0001"
        );
    }
}
