//! An offset-based scanner over raw SIP messages.
//!
//! Nothing is copied or allocated per header: every item is a byte range of
//! the payload, so a rewrite is an [`Edit`](crate::Edit) of exactly those
//! bytes and everything else stays byte-identical.
//!
//! Lines end with CRLF or a bare LF (RFC 2543 allowed both; the kernel
//! accepts both too). A header line followed by lines starting with SP or HT
//! continues on them (LWS folding, `sip_follow_continuation()`). Header names
//! compare case-insensitively; the compact forms `v f t m i l c` are
//! accepted wherever the long name is. Values of Via and Contact may hold
//! several comma-separated elements; commas inside `"…"` and `<…>` do not
//! separate (the kernel's plain `,` search does not know that).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::text::{parse_decimal, starts_with_ignore_case};

/// The default SIP port (`SIP_PORT`), assumed when a URI names none.
pub const SIP_PORT: u16 = 5060;

/// A byte range `[off, off + len)` of the payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Span {
    pub off: usize,
    pub len: usize,
}

impl Span {
    pub const fn new(off: usize, end: usize) -> Span {
        Span {
            off,
            len: end.saturating_sub(off),
        }
    }
    pub const fn end(&self) -> usize {
        self.off + self.len
    }
    pub fn get<'a>(&self, buf: &'a [u8]) -> &'a [u8] {
        buf.get(self.off..self.end()).unwrap_or_default()
    }
}

/// The first line of a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartLine {
    Request { method: Span, uri: Span },
    Response { code: u16 },
}

/// The Content-Length header of a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ContentLength {
    /// The digits.
    pub span: Span,
    pub value: usize,
}

/// One message inside a payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Msg {
    pub start: usize,
    pub line: StartLine,
    /// First byte after the start line's newline.
    pub headers: usize,
    /// First byte of the empty line ending the headers (== `body` when the
    /// datagram has no empty line).
    pub headers_end: usize,
    pub body: usize,
    pub end: usize,
    pub clen: Option<ContentLength>,
    /// The first header of each name the helper asks for, found in the one
    /// pass [`frame`] makes over the headers.
    pub known: Known,
}

/// The header names the helper looks up, with their compact forms.
const KNOWN: [(&[u8], Option<u8>); 9] = [
    (b"Via", Some(b'v')),
    (b"From", Some(b'f')),
    (b"To", Some(b't')),
    (b"Contact", Some(b'm')),
    (b"CSeq", None),
    (b"Content-Length", Some(b'l')),
    (b"Content-Type", Some(b'c')),
    (b"Expires", None),
    (b"Call-ID", Some(b'i')),
];

/// Which [`KNOWN`] name `name` is (case-insensitive, compact forms too).
fn known_slot(name: &[u8]) -> Option<usize> {
    if let [c] = name {
        let c = c.to_ascii_lowercase();
        return KNOWN.iter().position(|&(_, compact)| compact == Some(c));
    }
    KNOWN
        .iter()
        .position(|&(full, _)| full.len() == name.len() && full.eq_ignore_ascii_case(name))
}

/// The first header of each [`KNOWN`] name, so a lookup does not walk the
/// headers again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Known([Option<Header>; KNOWN.len()]);

impl Known {
    fn index(buf: &[u8], headers: Headers<'_>) -> Known {
        let mut k = Known::default();
        for h in headers {
            if let Some(slot) = known_slot(h.name.get(buf)).and_then(|i| k.0.get_mut(i)) {
                if slot.is_none() {
                    *slot = Some(h);
                }
            }
        }
        k
    }
    /// `Some(first)` when `(full, compact)` is a known name (`first`: its
    /// first header, if any); `None` when it is not indexed.
    fn get(&self, full: &[u8], compact: Option<u8>) -> Option<Option<Header>> {
        let i = KNOWN.iter().position(|&(f, c)| f == full && c == compact)?;
        self.0.get(i).copied()
    }
}

/// Result of framing one message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
// A framed message carries its header index (~470 bytes); boxing it would
// put a heap allocation on every message for no gain.
#[allow(clippy::large_enum_variant)]
pub enum Framing {
    Complete(Msg),
    /// The payload ends inside the message (stream transports only).
    Incomplete,
    Bad(&'static str),
}

/// Largest Content-Length accepted: no SIP message over a conntrack helper
/// can be larger than an IP packet, and a hostile value must not make the
/// caller hold data for ever.
pub const MAX_CONTENT_LENGTH: usize = 65535;

/// The line starting at `pos`: (content end without CR/LF, next line start),
/// or None if no newline follows.
pub fn line_at(buf: &[u8], pos: usize, end: usize) -> Option<(usize, usize)> {
    let rest = buf.get(pos..end)?;
    let nl = crate::text::find_newline(rest)?;
    let mut cend = pos + nl;
    if cend > pos && buf.get(cend - 1) == Some(&b'\r') {
        cend -= 1;
    }
    Some((cend, pos + nl + 1))
}

/// Skips CR/LF keep-alives (RFC 5626 "\r\n\r\n" pings) between messages.
pub fn skip_newlines(buf: &[u8], mut pos: usize) -> usize {
    while matches!(buf.get(pos), Some(b'\r' | b'\n')) {
        pos += 1;
    }
    pos
}

fn is_token(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-.!%*_+`'~".contains(&b)
}

/// Parses a start line `[s, e)`.
fn start_line(buf: &[u8], s: usize, e: usize) -> Option<StartLine> {
    let line = buf.get(s..e)?;
    if starts_with_ignore_case(line, b"SIP/2.0 ") {
        let digits = line.get(8..11)?;
        if !digits.iter().all(u8::is_ascii_digit) || line.get(11).is_some_and(u8::is_ascii_digit) {
            return None;
        }
        let (code, _) = parse_decimal(digits, 999)?;
        let code = u16::try_from(code).ok()?;
        return (code >= 100).then_some(StartLine::Response { code });
    }
    let mlen = line.iter().position(|&b| !is_token(b))?;
    if mlen == 0 || line.get(mlen) != Some(&b' ') {
        return None;
    }
    let ustart = mlen + 1;
    let ulen = line.get(ustart..)?.iter().position(|&b| b == b' ')?;
    if ulen == 0 {
        return None;
    }
    let version = line.get(ustart + ulen + 1..)?;
    if !version.eq_ignore_ascii_case(b"SIP/2.0") {
        return None;
    }
    Some(StartLine::Request {
        method: Span::new(s, s + mlen),
        uri: Span::new(s + ustart, s + ustart + ulen),
    })
}

/// Longest start line waited for.
const MAX_START_LINE: usize = 8192;

/// Whether `b` (no newline yet) could still become a start line once more
/// bytes arrive: a prefix of `SIP/2.0 `, or a method token, optionally
/// followed by a space and printable text.
fn plausible_start(b: &[u8]) -> bool {
    if b.is_empty() || b.len() > MAX_START_LINE {
        return false;
    }
    let head = b.get(..b.len().min(8)).unwrap_or(b);
    let sip = b"SIP/2.0 ".get(..head.len()).unwrap_or_default();
    if head.eq_ignore_ascii_case(sip) {
        return true;
    }
    let m = b.iter().take_while(|&&c| is_token(c)).count();
    match b.get(m..) {
        _ if m == 0 => false,
        Some([]) => true,
        Some([b' ', rest @ ..]) => rest
            .iter()
            .all(|&c| (0x20..0x7f).contains(&c) || c == b'\r'),
        _ => false,
    }
}

/// Frames the message starting at `start`. On a datagram (`stream` false)
/// the message is the rest of the payload, cut at Content-Length when that
/// is shorter. On a stream the Content-Length header decides where the
/// message ends; a message not yet complete is `Incomplete`.
pub fn frame(buf: &[u8], start: usize, stream: bool) -> Framing {
    let total = buf.len();
    let Some((sl_end, headers)) = line_at(buf, start, total) else {
        let rest = buf.get(start..).unwrap_or_default();
        return if stream && plausible_start(rest) {
            Framing::Incomplete
        } else {
            Framing::Bad("no complete start line")
        };
    };
    let Some(line) = start_line(buf, start, sl_end) else {
        return Framing::Bad("not a SIP start line");
    };
    // Find the empty line.
    let mut pos = headers;
    let mut found = None;
    while let Some((cend, next)) = line_at(buf, pos, total) {
        if cend == pos {
            found = Some((pos, next));
            break;
        }
        pos = next;
    }
    let (headers_end, body) = match found {
        Some(f) => f,
        None if stream => return Framing::Incomplete,
        None => (total, total),
    };
    let mut msg = Msg {
        start,
        line,
        headers,
        headers_end,
        body,
        end: total,
        clen: None,
        known: Known::default(),
    };
    msg.known = Known::index(buf, msg.headers(buf));
    let clen = msg
        .find(buf, b"Content-Length", Some(b'l'))
        .map(|h| h.value)
        .map(|v| {
            let digits = v.get(buf);
            let n = digits.iter().take_while(|b| b.is_ascii_digit()).count();
            (v, n, parse_decimal(digits, MAX_CONTENT_LENGTH as u32))
        });
    match clen {
        Some((v, n, Some((value, _)))) if n == v.len => {
            let value = value as usize;
            msg.clen = Some(ContentLength {
                span: Span::new(v.off, v.off + n),
                value,
            });
            let end = body.saturating_add(value);
            if end <= total {
                msg.end = end;
            } else if stream {
                return Framing::Incomplete;
            }
        }
        Some(_) => return Framing::Bad("bad Content-Length"),
        None if stream => return Framing::Bad("no Content-Length on a stream"),
        None => {}
    }
    Framing::Complete(msg)
}

/// One header: its name and its value (leading whitespace skipped, the
/// value may span continuation lines; no trailing CR/LF).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Header {
    pub name: Span,
    pub value: Span,
}

impl Header {
    /// Whether this header is `full` (case-insensitive) or its compact form.
    pub fn is(&self, buf: &[u8], full: &[u8], compact: Option<u8>) -> bool {
        let n = self.name.get(buf);
        n.eq_ignore_ascii_case(full)
            || compact.is_some_and(|c| n.len() == 1 && n.eq_ignore_ascii_case(&[c]))
    }
}

/// Iterates over the headers of a message.
#[derive(Debug, Clone)]
pub struct Headers<'a> {
    buf: &'a [u8],
    pos: usize,
    end: usize,
}

impl Iterator for Headers<'_> {
    type Item = Header;
    fn next(&mut self) -> Option<Header> {
        loop {
            if self.pos >= self.end {
                return None;
            }
            let start = self.pos;
            let (mut cend, mut next) =
                line_at(self.buf, start, self.end).unwrap_or((self.end, self.end));
            // Continuation lines.
            while next < self.end && matches!(self.buf.get(next), Some(b' ' | b'\t')) {
                let (c, n) = line_at(self.buf, next, self.end).unwrap_or((self.end, self.end));
                cend = c;
                next = n;
            }
            self.pos = next;
            let line = self.buf.get(start..cend).unwrap_or_default();
            if matches!(line.first(), Some(b' ' | b'\t')) {
                continue;
            }
            let Some(colon) = line.iter().position(|&b| b == b':') else {
                continue;
            };
            let mut nend = colon;
            while nend > 0 && matches!(line.get(nend - 1), Some(b' ' | b'\t')) {
                nend -= 1;
            }
            if nend == 0
                || !line
                    .get(..nend)
                    .unwrap_or_default()
                    .iter()
                    .all(|&b| is_token(b))
            {
                continue;
            }
            let mut v = colon + 1;
            while matches!(line.get(v), Some(b' ' | b'\t' | b'\r' | b'\n')) {
                v += 1;
            }
            while cend > start + v && matches!(self.buf.get(cend - 1), Some(b' ' | b'\t')) {
                cend -= 1;
            }
            return Some(Header {
                name: Span::new(start, start + nend),
                value: Span::new(start + v, cend),
            });
        }
    }
}

impl Msg {
    pub fn headers<'a>(&self, buf: &'a [u8]) -> Headers<'a> {
        Headers {
            buf,
            pos: self.headers,
            end: self.headers_end,
        }
    }
    /// The first header named `full` (or `compact`).
    pub fn find(&self, buf: &[u8], full: &[u8], compact: Option<u8>) -> Option<Header> {
        match self.known.get(full, compact) {
            Some(first) => first,
            None => self.headers(buf).find(|h| h.is(buf, full, compact)),
        }
    }
    /// Every header named `full` (or `compact`), in order.
    pub fn find_all<'a>(
        &self,
        buf: &'a [u8],
        full: &'a [u8],
        compact: Option<u8>,
    ) -> impl Iterator<Item = Header> + 'a {
        // From the first one on (none: an empty walk).
        let from = match self.known.get(full, compact) {
            Some(Some(first)) => first.name.off,
            Some(None) => self.headers_end,
            None => self.headers,
        };
        Headers {
            buf,
            pos: from,
            end: self.headers_end,
        }
        .filter(move |h| h.is(buf, full, compact))
    }
    pub fn is_request(&self) -> bool {
        matches!(self.line, StartLine::Request { .. })
    }
}

/// Splits a header value into its comma-separated elements (commas inside
/// quotes or angle brackets do not split).
pub fn elements(buf: &[u8], value: Span) -> impl Iterator<Item = Span> + '_ {
    let mut pos = value.off;
    let end = value.end();
    std::iter::from_fn(move || {
        while pos < end && matches!(buf.get(pos), Some(b' ' | b'\t' | b'\r' | b'\n' | b',')) {
            pos += 1;
        }
        if pos >= end {
            return None;
        }
        let start = pos;
        let (mut quoted, mut angle) = (false, false);
        while pos < end {
            match buf.get(pos) {
                Some(b'"') if !angle => quoted = !quoted,
                Some(b'\\') if quoted => pos += 1,
                Some(b'<') if !quoted => angle = true,
                Some(b'>') if !quoted => angle = false,
                Some(b',') if !quoted && !angle => break,
                _ => {}
            }
            pos += 1;
        }
        let e = pos.min(end);
        pos = e + 1;
        Some(Span::new(start, e))
    })
}

/// Position of `needle` (case-insensitive) in `[s, e)`.
pub fn search(buf: &[u8], s: usize, e: usize, needle: &[u8]) -> Option<usize> {
    let hay = buf.get(s..e)?;
    hay.windows(needle.len())
        .position(|w| w.eq_ignore_ascii_case(needle))
        .map(|p| s + p)
}

/// An IPv4 address at `pos`: four decimal octets; the byte after it must
/// not continue it. Returns the address and its length.
pub fn ipv4_at(buf: &[u8], pos: usize, end: usize) -> Option<(Ipv4Addr, usize)> {
    let s = buf.get(pos..end)?;
    let mut o = [0u8; 4];
    let mut i = 0usize;
    for (k, slot) in o.iter_mut().enumerate() {
        let digits = s
            .get(i..)?
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
        if digits == 0 || digits > 3 {
            return None;
        }
        let (v, _) = parse_decimal(s.get(i..i + digits)?, 255)?;
        *slot = u8::try_from(v).ok()?;
        i += digits;
        if k < 3 {
            if s.get(i) != Some(&b'.') {
                return None;
            }
            i += 1;
        }
    }
    if s.get(i).is_some_and(|&b| b.is_ascii_digit() || b == b'.') {
        return None;
    }
    Some((Ipv4Addr::from(o), i))
}

/// Longest IPv6 text (INET6_ADDRSTRLEN - 1).
const MAX_V6_TEXT: usize = 45;

/// An IPv6 address at `pos` (no brackets).
pub fn ipv6_at(buf: &[u8], pos: usize, end: usize) -> Option<(Ipv6Addr, usize)> {
    let s = buf.get(pos..end)?;
    let n = s
        .iter()
        .take(MAX_V6_TEXT + 1)
        .take_while(|b| b.is_ascii_hexdigit() || **b == b':' || **b == b'.')
        .count();
    if n == 0 || n > MAX_V6_TEXT {
        return None;
    }
    let text = std::str::from_utf8(s.get(..n)?).ok()?;
    Some((text.parse().ok()?, n))
}

/// An address of the connection's family at `pos`. With `brackets`, an IPv6
/// address must be in `[…]` (URIs, Via); without, brackets are optional.
/// The span returned covers the brackets.
pub fn addr_at(
    buf: &[u8],
    pos: usize,
    end: usize,
    v6: bool,
    brackets: bool,
) -> Option<(IpAddr, usize)> {
    if !v6 {
        return ipv4_at(buf, pos, end).map(|(a, n)| (IpAddr::V4(a), n));
    }
    if buf.get(pos) == Some(&b'[') {
        let (a, n) = ipv6_at(buf, pos + 1, end)?;
        if buf.get(pos + 1 + n) != Some(&b']') || pos + n + 2 > end {
            return None;
        }
        return Some((IpAddr::V6(a), n + 2));
    }
    if brackets {
        return None;
    }
    ipv6_at(buf, pos, end).map(|(a, n)| (IpAddr::V6(a), n))
}

/// An address with an optional port, as in a URI or a Via sent-by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HostPort {
    /// `addr[:port]` (the kernel's `matchoff`/`matchlen`).
    pub span: Span,
    pub addr: IpAddr,
    /// The port written, or [`SIP_PORT`].
    pub port: u16,
}

/// `addr[:port]` at `pos` (`epaddr_len()` + the port check of
/// `ct_sip_parse_header_uri()`: a port must be 1024..=65535).
pub fn hostport_at(buf: &[u8], pos: usize, end: usize, v6: bool) -> Option<HostPort> {
    let (addr, n) = addr_at(buf, pos, end, v6, true)?;
    let mut e = pos + n;
    let mut port = SIP_PORT;
    if buf.get(e) == Some(&b':') && e + 1 < end {
        let digits = buf.get(e + 1..end)?;
        let (p, used) = parse_decimal(digits, 65535)?;
        if digits.get(used).is_some_and(u8::is_ascii_digit) || p < 1024 {
            return None;
        }
        port = u16::try_from(p).ok()?;
        e += 1 + used;
    }
    Some(HostPort {
        span: Span::new(pos, e),
        addr,
        port,
    })
}

/// The address of the first `sip:` URI in `[s, e)`, user info skipped
/// (`skp_epaddr_len()`).
pub fn sip_uri_in(buf: &[u8], s: usize, e: usize, v6: bool) -> Option<HostPort> {
    // In a name-addr the URI is inside <…>: a display name cannot fool us.
    let from = match buf.get(s..e)?.iter().rposition(|&b| b == b'<') {
        Some(p) if buf.get(s..s + p)?.iter().filter(|&&b| b == b'"').count() % 2 == 0 => s + p,
        _ => s,
    };
    let at = search(buf, from, e, b"sip:")? + 4;
    // The URI ends at '>' (name-addr) or at the element's end.
    let uend = buf
        .get(at..e)?
        .iter()
        .position(|&b| b == b'>' || b == b'\r' || b == b'\n')
        .map_or(e, |p| at + p);
    let host = match buf.get(at..uend)?.iter().position(|&b| b == b'@') {
        Some(p) => at + p + 1,
        None => at,
    };
    hostport_at(buf, host, uend, v6)
}

/// A `;name=value` parameter of a header element, searched in `[s, e)`
/// (after the URI or sent-by). Returns the value span (up to `;`, `,`, `>`,
/// whitespace or `e`).
pub fn param(buf: &[u8], s: usize, e: usize, name: &[u8]) -> Option<Span> {
    let mut pos = s;
    while pos < e {
        let semi = buf.get(pos..e)?.iter().position(|&b| b == b';')? + pos + 1;
        let mut p = semi;
        while matches!(buf.get(p), Some(b' ' | b'\t')) && p < e {
            p += 1;
        }
        let nlen = buf.get(p..e)?.iter().take_while(|&&b| is_token(b)).count();
        let pname = buf.get(p..p + nlen)?;
        let mut q = p + nlen;
        while matches!(buf.get(q), Some(b' ' | b'\t')) && q < e {
            q += 1;
        }
        if pname.eq_ignore_ascii_case(name) && buf.get(q) == Some(&b'=') {
            q += 1;
            while matches!(buf.get(q), Some(b' ' | b'\t')) && q < e {
                q += 1;
            }
            let vlen = buf
                .get(q..e)?
                .iter()
                .take_while(|&&b| !matches!(b, b';' | b',' | b'>' | b' ' | b'\t' | b'\r' | b'\n'))
                .count();
            return Some(Span::new(q, q + vlen));
        }
        pos = semi;
    }
    None
}

/// A decimal number (≤ `u32::MAX`) filling `span` exactly.
pub fn number(buf: &[u8], span: Span) -> Option<u32> {
    let d = span.get(buf);
    match parse_decimal(d, u32::MAX) {
        Some((v, n)) if n == d.len() => Some(v),
        _ => None,
    }
}

/// The leading decimal number of a header value (CSeq, Expires).
pub fn leading_number(buf: &[u8], span: Span) -> Option<(u32, usize)> {
    let d = span.get(buf);
    let n = d.iter().take_while(|b| b.is_ascii_digit()).count();
    let (v, used) = parse_decimal(d.get(..n)?, u32::MAX)?;
    Some((v, used))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_stream_messages() {
        let two = b"OPTIONS sip:a@10.0.0.1 SIP/2.0\r\nl: 0\r\n\r\nSIP/2.0 200 OK\r\nContent-Length: 2\r\n\r\nab";
        let Framing::Complete(m) = frame(two, 0, true) else {
            panic!()
        };
        assert_eq!(m.end, 40);
        let Framing::Complete(m2) = frame(two, m.end, true) else {
            panic!()
        };
        assert_eq!(m2.end, two.len());
        assert_eq!(m2.line, StartLine::Response { code: 200 });
        assert_eq!(frame(&two[..50], 40, true), Framing::Incomplete);
        assert_eq!(frame(&two[..two.len() - 1], 40, true), Framing::Incomplete);
        assert_eq!(frame(b"INV", 0, true), Framing::Incomplete);
        assert!(matches!(frame(b"garbage\r\n", 0, true), Framing::Bad(_)));
        assert!(matches!(frame(b"\x00\x01binary", 0, true), Framing::Bad(_)));
        assert!(matches!(
            frame(b"INVITE sip:a\x00", 0, true),
            Framing::Bad(_)
        ));
        assert_eq!(frame(b"INVITE sip:a@b SIP/2", 0, true), Framing::Incomplete);
    }

    #[test]
    fn hostile_content_length() {
        for v in ["99999999999999999999", "-1", "65536", "12x", "", "0x10"] {
            let m = format!("SIP/2.0 200 OK\r\nContent-Length: {v}\r\n\r\nabc");
            assert!(
                matches!(frame(m.as_bytes(), 0, true), Framing::Bad(_)),
                "{v}"
            );
        }
    }

    #[test]
    fn headers_fold_and_compact() {
        let m = b"INVITE sip:b@10.0.0.2 SIP/2.0\r\nv: SIP/2.0/UDP 10.0.0.1\r\nCONTACT\t :\r\n  <sip:a@10.0.0.1:5070>, \"x,y\" <sip:c@10.0.0.3>\r\n\r\n";
        let Framing::Complete(msg) = frame(m, 0, false) else {
            panic!()
        };
        let via = msg.find(m, b"Via", Some(b'v')).unwrap();
        assert_eq!(via.value.get(m), b"SIP/2.0/UDP 10.0.0.1");
        let c = msg.find(m, b"Contact", Some(b'm')).unwrap();
        let els: Vec<Span> = elements(m, c.value).collect();
        assert_eq!(els.len(), 2);
        let u = sip_uri_in(m, els[0].off, els[0].end(), false).unwrap();
        assert_eq!((u.addr.to_string(), u.port), ("10.0.0.1".into(), 5070));
        let u = sip_uri_in(m, els[1].off, els[1].end(), false).unwrap();
        assert_eq!(u.span.get(m), b"10.0.0.3");
    }

    #[test]
    fn addresses() {
        assert!(ipv4_at(b"1.2.3.4", 0, 7).is_some());
        assert!(ipv4_at(b"1.2.3.256", 0, 9).is_none());
        assert!(ipv4_at(b"1.2.3", 0, 5).is_none());
        assert!(ipv4_at(b"1.2.3.4.5", 0, 9).is_none());
        let b = b"[2001:db8::1]:5062;x";
        let hp = hostport_at(b, 0, b.len(), true).unwrap();
        assert_eq!((hp.span.len, hp.port), (18, 5062));
        assert!(hostport_at(b"2001:db8::1", 0, 11, true).is_none());
        assert!(hostport_at(b"1.2.3.4:80", 0, 10, false).is_none());
    }

    #[test]
    fn params() {
        let b = b"SIP/2.0/UDP 1.2.3.4:5060;branch=z9;Received=5.6.7.8;rport=1234";
        let r = param(b, 20, b.len(), b"received").unwrap();
        assert_eq!(r.get(b), b"5.6.7.8");
        assert_eq!(
            number(b, param(b, 20, b.len(), b"rport").unwrap()),
            Some(1234)
        );
        assert!(param(b, 20, b.len(), b"maddr").is_none());
    }
}
