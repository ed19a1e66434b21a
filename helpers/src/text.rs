//! Small text helpers shared by the line-oriented protocols.

use std::fmt;
use std::net::IpAddr;

/// `addr:port`, with brackets around IPv6 addresses.
pub struct SockAddrText(pub IpAddr, pub u16);

impl fmt::Display for SockAddrText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            IpAddr::V4(a) => write!(f, "{a}:{}", self.1),
            IpAddr::V6(a) => write!(f, "[{a}]:{}", self.1),
        }
    }
}

/// `n` and a noun that agrees with it: `count(1, "segment")` is
/// `1 segment`, `count(3, "segment")` is `3 segments` (regular plurals).
pub fn count(n: u64, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// Parses a run of ASCII decimal digits at the start of `s`.
///
/// Returns the value and the number of bytes consumed, or `None` if there is
/// no digit or the value exceeds `max`. Never reads past `s`, whatever its
/// length: an overlong run of digits is refused, not wrapped.
pub fn parse_decimal(s: &[u8], max: u32) -> Option<(u32, usize)> {
    let mut value: u32 = 0;
    let mut used = 0;
    for &b in s {
        if !b.is_ascii_digit() {
            break;
        }
        value = value.checked_mul(10)?.checked_add(u32::from(b - b'0'))?;
        if value > max {
            return None;
        }
        used += 1;
    }
    (used > 0).then_some((value, used))
}

/// Case-insensitive ASCII prefix test.
pub fn starts_with_ignore_case(s: &[u8], prefix: &[u8]) -> bool {
    s.len() >= prefix.len() && s.iter().zip(prefix).all(|(a, b)| a.eq_ignore_ascii_case(b))
}

/// Position of the first `\n` in `s`.
pub fn find_newline(s: &[u8]) -> Option<usize> {
    find_byte(s, b'\n')
}

/// Position of the first `needle` in `s`, eight bytes at a time (a
/// zero-byte test on the XOR of each word; safe code, no dependency).
pub fn find_byte(s: &[u8], needle: u8) -> Option<usize> {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    let pattern = LO.wrapping_mul(u64::from(needle));
    let mut words = s.chunks_exact(8);
    let mut base = 0usize;
    for w in words.by_ref() {
        let mut b = [0u8; 8];
        b.copy_from_slice(w);
        let x = u64::from_le_bytes(b) ^ pattern;
        // A byte of x is zero exactly where the needle is; this sets its
        // high bit there (and may set it above a zero byte too, never
        // below one, so the lowest set bit is exact).
        let found = x.wrapping_sub(LO) & !x & HI;
        if found != 0 {
            return Some(base + (found.trailing_zeros() / 8) as usize);
        }
        base += 8;
    }
    words
        .remainder()
        .iter()
        .position(|&b| b == needle)
        .map(|p| base + p)
}

/// Room in a [`Small`]: more than the longest text a rewrite writes (a
/// bracketed IPv6 address with an IPv4 tail and a port, 53 bytes; FTP's
/// EPRT with a full IPv6 address, 49).
pub const SMALL_CAP: usize = 64;

/// A short ASCII text built on the stack: the address and port texts of
/// NAT rewrites, without a heap allocation or the formatting machinery.
/// Writing past [`SMALL_CAP`] is dropped and remembered ([`Small::fits`]).
#[derive(Clone, Copy)]
pub struct Small {
    buf: [u8; SMALL_CAP],
    len: usize,
    overflow: bool,
}

impl Default for Small {
    fn default() -> Self {
        Small::new()
    }
}

impl std::fmt::Debug for Small {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self.as_str(), f)
    }
}

impl Small {
    pub const fn new() -> Self {
        Small {
            buf: [0; SMALL_CAP],
            len: 0,
            overflow: false,
        }
    }
    pub fn as_bytes(&self) -> &[u8] {
        self.buf.get(..self.len).unwrap_or_default()
    }
    pub fn as_str(&self) -> &str {
        // Only ASCII and whole `&str`s are ever written.
        std::str::from_utf8(self.as_bytes()).unwrap_or_default()
    }
    pub fn len(&self) -> usize {
        self.len
    }
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
    /// Whether everything written is there.
    pub fn fits(&self) -> bool {
        !self.overflow
    }
    pub fn push_bytes(&mut self, b: &[u8]) {
        let end = self.len.saturating_add(b.len());
        match self.buf.get_mut(self.len..end) {
            Some(dst) => {
                dst.copy_from_slice(b);
                self.len = end;
            }
            None => self.overflow = true,
        }
    }
    pub fn push_str(&mut self, s: &str) {
        self.push_bytes(s.as_bytes());
    }
    pub fn push_byte(&mut self, b: u8) {
        self.push_bytes(&[b]);
    }
    /// `n` in decimal.
    pub fn push_dec(&mut self, mut n: u32) {
        let mut digits = [0u8; 10];
        let mut i = digits.len();
        loop {
            i -= 1;
            if let Some(d) = digits.get_mut(i) {
                *d = b'0' + (n % 10) as u8;
            }
            n /= 10;
            if n == 0 || i == 0 {
                break;
            }
        }
        self.push_bytes(digits.get(i..).unwrap_or_default());
    }
    /// `n` in lowercase hexadecimal without leading zeros.
    pub fn push_hex(&mut self, n: u16) {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut started = false;
        for shift in [12u32, 8, 4, 0] {
            let nib = usize::from((n >> shift) & 0xf);
            if nib != 0 || started || shift == 0 {
                started = true;
                self.push_byte(HEX.get(nib).copied().unwrap_or(b'0'));
            }
        }
    }
    /// Dotted decimal.
    pub fn push_ipv4(&mut self, a: std::net::Ipv4Addr) {
        let [b0, b1, b2, b3] = a.octets();
        self.push_dec(u32::from(b0));
        for b in [b1, b2, b3] {
            self.push_byte(b'.');
            self.push_dec(u32::from(b));
        }
    }
}

/// `n` in decimal, on the stack.
pub fn decimal(n: u32) -> Small {
    let mut t = Small::new();
    t.push_dec(n);
    t
}

impl PartialEq<&str> for Small {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<str> for Small {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl std::fmt::Display for Small {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::ops::Deref for Small {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl std::fmt::Write for Small {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.push_str(s);
        if self.overflow {
            Err(std::fmt::Error)
        } else {
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_agree() {
        assert_eq!(count(0, "flow"), "0 flows");
        assert_eq!(count(1, "flow"), "1 flow");
        assert_eq!(count(2, "byte"), "2 bytes");
    }

    #[test]
    fn decimal_bounds() {
        assert_eq!(parse_decimal(b"255,", 255), Some((255, 3)));
        assert_eq!(parse_decimal(b"256", 255), None);
        assert_eq!(parse_decimal(b"x", 255), None);
        assert_eq!(parse_decimal(b"", 255), None);
        assert_eq!(parse_decimal(b"99999999999999999999", u32::MAX), None);
        assert_eq!(parse_decimal(b"0065535", 65535), Some((65535, 7)));
    }

    #[test]
    fn find_byte_agrees_with_a_plain_search() {
        let mut buf = Vec::new();
        for len in 0..40usize {
            buf.clear();
            buf.extend((0..len).map(|i| (i as u8).wrapping_mul(37) | 1));
            for at in 0..=len {
                let mut b = buf.clone();
                if at < len {
                    b[at] = b'\n';
                }
                // Bytes that trip naive zero-byte tests around the needle.
                for fill in [0x0b_u8, 0x8a, 0xff, 0x00] {
                    let mut c = b.clone();
                    for x in c.iter_mut().skip(at + 1) {
                        *x = fill;
                    }
                    let want = c.iter().position(|&x| x == b'\n');
                    assert_eq!(find_byte(&c, b'\n'), want, "{c:?}");
                    assert_eq!(find_byte(&c, 0x80), c.iter().position(|&x| x == 0x80));
                }
            }
        }
    }

    #[test]
    fn small_text_formats_as_std() {
        use std::net::Ipv4Addr;
        for n in [0u32, 7, 10, 99, 100, 65535, u32::MAX] {
            let mut t = Small::new();
            t.push_dec(n);
            assert_eq!(t.as_str(), n.to_string());
        }
        for n in [0u16, 0xa, 0x10, 0xbeef, 0xffff, 0x0f00] {
            let mut t = Small::new();
            t.push_hex(n);
            assert_eq!(t.as_str(), format!("{n:x}"));
        }
        for a in ["0.0.0.0", "10.0.1.2", "255.255.255.255", "192.0.2.17"] {
            let a: Ipv4Addr = a.parse().unwrap();
            let mut t = Small::new();
            t.push_ipv4(a);
            assert_eq!(t.as_str(), a.to_string());
        }
        let mut t = Small::new();
        t.push_bytes(&[b'x'; SMALL_CAP]);
        assert!(t.fits() && t.len() == SMALL_CAP);
        t.push_byte(b'y');
        assert!(!t.fits() && t.len() == SMALL_CAP);
    }

    #[test]
    fn prefix() {
        assert!(starts_with_ignore_case(b"port 1", b"PORT "));
        assert!(!starts_with_ignore_case(b"POR", b"PORT "));
    }
}
