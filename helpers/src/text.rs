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
    s.iter().position(|&b| b == b'\n')
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
    fn prefix() {
        assert!(starts_with_ignore_case(b"port 1", b"PORT "));
        assert!(!starts_with_ignore_case(b"POR", b"PORT "));
    }
}
