//! SDP (RFC 4566) inside a SIP body: where it is (plain or one part of a
//! multipart body) and the lines the helper acts on — `o=`, `c=` (session
//! and media level), every `m=` and `a=rtcp:`.
//!
//! As the kernel (`ct_sip_get_sdp_header()`), a line is found at a line
//! start whatever its case (`strncasecmp`), an address after `IN IP4 ` or
//! `IN IP6 ` (the connection's family only; `strncmp`), a media type by the
//! exact words `audio`, `video`, `image`. Unlike the kernel, every `m=` line
//! is returned (it stops after three), and the SDP is bounded by its body
//! part, so nothing after it (another MIME part) is read as SDP.

use std::net::IpAddr;

use super::msg::{self, Msg, Span};
use crate::text::{parse_decimal, starts_with_ignore_case};

/// Most `m=` lines looked at in one SDP (each may create two
/// expectations); further lines are reported and left alone.
pub const MAX_MEDIA: usize = 64;

/// An address inside an SDP line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AddrField {
    pub span: Span,
    pub addr: IpAddr,
}

/// Media types the kernel has expectation classes for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaKind {
    Audio,
    Video,
    /// `image` (T.38 fax).
    Image,
    Other,
}

impl MediaKind {
    /// The expectation class (`SIP_EXPECT_AUDIO`…).
    pub const fn class(self) -> Option<u8> {
        match self {
            MediaKind::Audio => Some(1),
            MediaKind::Video => Some(2),
            MediaKind::Image => Some(3),
            MediaKind::Other => None,
        }
    }
}

/// `a=rtcp:port [IN IP4 addr]` (RFC 3605).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rtcp {
    pub port_span: Span,
    pub port: u16,
    pub addr: Option<AddrField>,
}

/// One `m=` line and its media-level lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Media {
    pub kind: MediaKind,
    /// The port digits (the kernel's `mediaoff`/`medialen` after the type).
    pub port_span: Span,
    /// None when the digits are missing or over 65535.
    pub port: Option<u16>,
    /// The first media-level `c=` of the connection's family.
    pub conn: Option<AddrField>,
    pub rtcp: Option<Rtcp>,
    /// A media-level `c=` of the other family (or unparsable) was seen.
    pub conn_other: bool,
}

/// A parsed session description.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Sdp {
    pub span: Span,
    pub owner: Option<AddrField>,
    pub conn: Option<AddrField>,
    pub media: Vec<Media>,
    /// `m=` lines past [`MAX_MEDIA`].
    pub ignored_media: usize,
}

/// Where the SDP of a message is: the body when its Content-Type is
/// `application/sdp` (or absent and the body starts with `v=`), or the
/// first `application/sdp` part of a `multipart/*` body.
pub fn locate(buf: &[u8], m: &Msg) -> Option<Span> {
    if m.body >= m.end {
        return None;
    }
    let ct = m.find(buf, b"Content-Type", Some(b'c'));
    let Some(ct) = ct else {
        return buf
            .get(m.body..m.end)
            .filter(|b| b.starts_with(b"v="))
            .map(|_| Span::new(m.body, m.end));
    };
    let v = ct.value.get(buf);
    if starts_with_ignore_case(v, b"application/sdp") {
        return Some(Span::new(m.body, m.end));
    }
    if !starts_with_ignore_case(v, b"multipart/") {
        return None;
    }
    let b = msg::param(buf, ct.value.off, ct.value.end(), b"boundary")?;
    let mut bnd = b.get(buf);
    if bnd.first() == Some(&b'"') {
        // A quoted boundary may hold characters `param` stops at.
        let q = buf.get(b.off + 1..ct.value.end())?;
        let close = q.iter().position(|&c| c == b'"')?;
        bnd = q.get(..close)?;
    }
    if bnd.is_empty() || bnd.len() > 70 {
        return None;
    }
    multipart_sdp(buf, m.body, m.end, bnd)
}

/// The first `application/sdp` part between `s` and `e`.
fn multipart_sdp(buf: &[u8], s: usize, e: usize, bnd: &[u8]) -> Option<Span> {
    // Delimiter lines: "--" boundary at a line start.
    let is_delim = |pos: usize| {
        buf.get(pos..e)
            .is_some_and(|l| l.starts_with(b"--") && l.get(2..).is_some_and(|r| r.starts_with(bnd)))
    };
    let mut pos = s;
    let mut part_start: Option<usize> = None;
    loop {
        let line_start = pos;
        let delim = is_delim(line_start);
        let next = msg::line_at(buf, pos, e).map(|(_, n)| n);
        if delim || next.is_none() {
            if let Some(ps) = part_start {
                // The CRLF before the delimiter belongs to it.
                let mut pe = if delim { line_start } else { e };
                if delim && pe > ps && buf.get(pe - 1) == Some(&b'\n') {
                    pe -= 1;
                    if pe > ps && buf.get(pe - 1) == Some(&b'\r') {
                        pe -= 1;
                    }
                }
                if let Some(sdp) = part_sdp(buf, ps, pe) {
                    return Some(sdp);
                }
            }
            let closing = buf
                .get(line_start + 2 + bnd.len()..e)
                .is_some_and(|r| r.starts_with(b"--"));
            if !delim || closing {
                return None;
            }
            part_start = next;
        }
        pos = next?;
    }
}

/// The body of one MIME part if its Content-Type is application/sdp.
fn part_sdp(buf: &[u8], s: usize, e: usize) -> Option<Span> {
    let mut pos = s;
    let mut is_sdp = false;
    loop {
        let (cend, next) = msg::line_at(buf, pos, e)?;
        if cend == pos {
            return is_sdp.then_some(Span::new(next, e));
        }
        let line = buf.get(pos..cend)?;
        if starts_with_ignore_case(line, b"Content-Type:") {
            let v = line.get(13..).unwrap_or_default();
            let skip = v.iter().take_while(|&&b| b == b' ' || b == b'\t').count();
            is_sdp = starts_with_ignore_case(v.get(skip..).unwrap_or_default(), b"application/sdp");
        }
        pos = next;
    }
}

/// Lines of `[s, e)`: (start, content end).
fn lines(buf: &[u8], s: usize, e: usize) -> impl Iterator<Item = (usize, usize)> + '_ {
    let mut pos = s;
    std::iter::from_fn(move || {
        if pos >= e {
            return None;
        }
        let start = pos;
        match msg::line_at(buf, pos, e) {
            Some((cend, next)) => {
                pos = next;
                Some((start, cend))
            }
            None => {
                pos = e;
                Some((start, e))
            }
        }
    })
}

/// The address after `IN IP4 ` / `IN IP6 ` in the line `[s, e)`. Returns
/// `Err(())` when the line names the other family or an unparsable address
/// (a hostname), `Ok(None)` when there is no such part.
fn line_addr(buf: &[u8], s: usize, e: usize, v6: bool) -> Result<Option<AddrField>, ()> {
    let (mine, other): (&[u8], &[u8]) = if v6 {
        (b"IN IP6 ", b"IN IP4 ")
    } else {
        (b"IN IP4 ", b"IN IP6 ")
    };
    let line = buf.get(s..e).unwrap_or_default();
    let find = |n: &[u8]| line.windows(n.len()).position(|w| w == n);
    let Some(p) = find(mine) else {
        return if find(other).is_some() {
            Err(())
        } else {
            Ok(None)
        };
    };
    let at = s + p + mine.len();
    match msg::addr_at(buf, at, e, v6, false) {
        Some((addr, n)) if at + n >= e || matches!(buf.get(at + n), Some(b'/' | b' ' | b'\t')) => {
            Ok(Some(AddrField {
                span: Span::new(at, at + n),
                addr,
            }))
        }
        _ => Err(()),
    }
}

/// Parses the SDP in `span` for a connection of the given family.
pub fn parse(buf: &[u8], span: Span, v6: bool) -> Sdp {
    let mut sdp = Sdp {
        span,
        ..Sdp::default()
    };
    let mut started = false;
    for (s, e) in lines(buf, span.off, span.end()) {
        let line = buf.get(s..e).unwrap_or_default();
        let Some(&[t, eq]) = line.get(..2) else {
            continue;
        };
        let k = [t.to_ascii_lowercase(), eq];
        if !started {
            // The description starts at its v= line.
            started = &k == b"v=";
            continue;
        }
        match &k {
            b"m=" => {
                if sdp.media.len() >= MAX_MEDIA {
                    sdp.ignored_media += 1;
                    continue;
                }
                sdp.media.push(media_line(buf, s + 2, e));
            }
            b"o=" if sdp.media.is_empty() && sdp.owner.is_none() => {
                sdp.owner = line_addr(buf, s + 2, e, v6).ok().flatten();
            }
            b"c=" => {
                let a = line_addr(buf, s + 2, e, v6);
                match sdp.media.last_mut() {
                    None if sdp.conn.is_none() => sdp.conn = a.ok().flatten(),
                    None => {}
                    Some(m) if m.conn.is_none() && !m.conn_other => match a {
                        Ok(c) => m.conn = c,
                        Err(()) => m.conn_other = true,
                    },
                    Some(_) => {}
                }
            }
            b"a=" if starts_with_ignore_case(line, b"a=rtcp:") => {
                if let Some(m) = sdp.media.last_mut() {
                    if m.rtcp.is_none() {
                        m.rtcp = rtcp_line(buf, s + 7, e, v6);
                    }
                }
            }
            _ => {}
        }
    }
    if !started {
        sdp.span = Span::default();
    }
    sdp
}

/// `<type> <port>[/<n>] …` after `m=` (`media_len()`).
fn media_line(buf: &[u8], s: usize, e: usize) -> Media {
    let line = buf.get(s..e).unwrap_or_default();
    let tlen = line.iter().take_while(|b| b.is_ascii_alphabetic()).count();
    let kind = match line.get(..tlen) {
        Some(b"audio") => MediaKind::Audio,
        Some(b"video") => MediaKind::Video,
        Some(b"image") => MediaKind::Image,
        _ => MediaKind::Other,
    };
    let mut m = Media {
        kind,
        port_span: Span::new(s + tlen, s + tlen),
        port: None,
        conn: None,
        rtcp: None,
        conn_other: false,
    };
    if line.get(tlen) != Some(&b' ') {
        return m;
    }
    let ps = tlen + 1;
    let digits = line.get(ps..).unwrap_or_default();
    let n = digits.iter().take_while(|b| b.is_ascii_digit()).count();
    m.port_span = Span::new(s + ps, s + ps + n);
    m.port = parse_decimal(digits.get(..n).unwrap_or_default(), 65535)
        .and_then(|(p, _)| u16::try_from(p).ok());
    m
}

/// `<port>[ IN IP4 <addr>]` after `a=rtcp:`.
fn rtcp_line(buf: &[u8], s: usize, e: usize, v6: bool) -> Option<Rtcp> {
    let digits = buf.get(s..e)?;
    let (p, n) = parse_decimal(digits, 65535)?;
    if digits.get(n).is_some_and(|b| !matches!(b, b' ' | b'\t')) {
        return None;
    }
    Some(Rtcp {
        port_span: Span::new(s, s + n),
        port: u16::try_from(p).ok()?,
        addr: line_addr(buf, s + n, e, v6).ok().flatten(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SDP: &[u8] = b"v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\nm=audio 49170 RTP/AVP 0\r\na=rtcp:49171\r\nm=video 0 RTP/AVP 31\r\nm=image 5000 udptl t38\r\nc=IN IP4 10.0.0.9/127\r\nm=text 7000 RTP/AVP 98\r\n";

    #[test]
    fn parses_all_lines() {
        let s = parse(SDP, Span::new(0, SDP.len()), false);
        assert_eq!(s.owner.unwrap().span.get(SDP), b"10.0.0.1");
        assert_eq!(s.conn.unwrap().addr.to_string(), "10.0.0.1");
        assert_eq!(s.media.len(), 4);
        assert_eq!(s.media[0].port, Some(49170));
        assert_eq!(s.media[0].rtcp.unwrap().port, 49171);
        assert_eq!(s.media[1].port, Some(0));
        assert_eq!(s.media[2].kind, MediaKind::Image);
        assert_eq!(s.media[2].conn.unwrap().span.get(SDP), b"10.0.0.9");
        assert_eq!(s.media[3].kind, MediaKind::Other);
    }

    #[test]
    fn v6_and_family() {
        let b = b"v=0\r\nc=IN IP6 2001:db8::1\r\nm=audio 4000 RTP/AVP 0\r\nc=IN IP4 1.2.3.4\r\n";
        let s = parse(b, Span::new(0, b.len()), true);
        assert_eq!(s.conn.unwrap().addr.to_string(), "2001:db8::1");
        assert!(s.media[0].conn.is_none() && s.media[0].conn_other);
    }
}
