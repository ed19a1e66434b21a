//! An ALIGNED PER (ITU-T X.691) bit reader.
//!
//! A [`Reader`] reads a bit range of one buffer, so every offset it reports
//! is an offset into that buffer (the one given to the decode entry point),
//! also inside open types and CONTAINING octet strings, which are read by
//! sub-readers over a narrower range of the same buffer. Every read checks
//! the range first: a read past the end is [`Error::Truncated`], never a
//! short read, never a panic.

use std::fmt;

/// Why a decode failed. Any error means "leave the packet alone".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Error {
    /// A field runs past the end of its buffer, open type or octet string.
    Truncated,
    /// A value outside its constraint: a CHOICE index past the root
    /// alternatives, a length outside SIZE(lb..ub), an over-long integer.
    Range,
    /// A fragmented length determinant (16K items or more): never needed by
    /// H.323 signalling, so refused rather than reassembled.
    Fragmented,
    /// Nested deeper than the decoder allows.
    TooDeep,
    /// More decoding steps than the input size allows (e.g. a SEQUENCE OF
    /// NULL claiming 16383 items, each holding another such list).
    TooMuchWork,
    /// More tagged values than the decoder records.
    TooMany,
    /// Not the framing expected: no TPKT, no Q.931 protocol discriminator,
    /// no user-user information element, a zero-length one.
    Framing,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Error::Truncated => "truncated",
            Error::Range => "value out of range",
            Error::Fragmented => "fragmented length",
            Error::TooDeep => "nested too deep",
            Error::TooMuchWork => "too much work for the input size",
            Error::TooMany => "too many values",
            Error::Framing => "bad framing",
        })
    }
}

impl std::error::Error for Error {}

pub type Result<T> = std::result::Result<T, Error>;

/// Reads bits `pos..end` of `buf` (bit 0 is the high bit of byte 0).
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    end: usize,
}

impl<'a> Reader<'a> {
    /// A reader over all of `buf`.
    pub fn new(buf: &'a [u8]) -> Self {
        Reader {
            buf,
            pos: 0,
            end: buf.len().saturating_mul(8),
        }
    }

    /// A reader over bytes `range` of `buf` (clamped to the buffer).
    pub fn over(buf: &'a [u8], start: usize, len: usize) -> Self {
        let end = start.saturating_add(len).min(buf.len());
        Reader {
            buf,
            pos: start.min(end).saturating_mul(8),
            end: end.saturating_mul(8),
        }
    }

    /// Bits left.
    pub fn remaining(&self) -> usize {
        self.end.saturating_sub(self.pos)
    }

    /// The bit position.
    pub fn bit_pos(&self) -> usize {
        self.pos
    }

    /// The byte offset of the next read; `Some` only when aligned.
    pub fn byte_pos(&self) -> Option<usize> {
        (self.pos % 8 == 0).then_some(self.pos / 8)
    }

    fn need(&self, bits: usize) -> Result<()> {
        if bits <= self.remaining() {
            Ok(())
        } else {
            Err(Error::Truncated)
        }
    }

    /// One bit.
    pub fn bit(&mut self) -> Result<bool> {
        Ok(self.bits(1)? == 1)
    }

    /// `n` (≤ 64) bits as an unsigned number, most significant first.
    pub fn bits(&mut self, n: u32) -> Result<u64> {
        if n > 64 {
            return Err(Error::Range);
        }
        let n = n as usize;
        self.need(n)?;
        let mut v: u64 = 0;
        let mut left = n;
        while left > 0 {
            let byte = *self.buf.get(self.pos / 8).ok_or(Error::Truncated)?;
            let used = self.pos % 8;
            let avail = 8 - used;
            let take = avail.min(left);
            let shift = avail - take;
            let chunk = (u64::from(byte) >> shift) & ((1u64 << take) - 1);
            v = (v << take) | chunk;
            self.pos += take;
            left -= take;
        }
        Ok(v)
    }

    /// Skips to the next octet boundary (X.691 "octet-aligned").
    pub fn align(&mut self) -> Result<()> {
        let pad = (8 - self.pos % 8) % 8;
        self.need(pad)?;
        self.pos += pad;
        Ok(())
    }

    /// Skips `n` bits.
    pub fn skip_bits(&mut self, n: usize) -> Result<()> {
        self.need(n)?;
        self.pos += n;
        Ok(())
    }

    /// Skips `n` octets.
    pub fn skip_octets(&mut self, n: usize) -> Result<()> {
        self.skip_bits(n.checked_mul(8).ok_or(Error::Truncated)?)
    }

    /// Reads `n` (≤ 8) aligned octets as a big-endian number.
    fn octets_uint(&mut self, n: usize) -> Result<u64> {
        if n > 8 {
            return Err(Error::Range);
        }
        self.bits((n * 8) as u32)
    }

    /// A constrained whole number in `lb..=ub` (X.691 10.5, ALIGNED):
    /// the offset from `lb` in the fewest bits for a range up to 255, one
    /// aligned octet for 256, two aligned octets up to 64K, and above that
    /// a length in octets (itself constrained) followed by aligned octets.
    pub fn constrained(&mut self, lb: i64, ub: i64) -> Result<i64> {
        if ub < lb {
            return Err(Error::Range);
        }
        let range = (ub as i128) - (lb as i128) + 1;
        let off: u64 = if range == 1 {
            0
        } else if range <= 255 {
            self.bits(bits_for(range as u128 - 1))?
        } else if range == 256 {
            self.align()?;
            self.bits(8)?
        } else if range <= 65536 {
            self.align()?;
            self.bits(16)?
        } else {
            let max_octets = octets_for(range as u128 - 1);
            let len = self.bits(bits_for(u128::from(max_octets) - 1))? + 1;
            self.align()?;
            self.octets_uint(len as usize)?
        };
        let v = (lb as i128) + i128::from(off);
        if v > ub as i128 {
            return Err(Error::Range);
        }
        Ok(v as i64)
    }

    /// An unconstrained length determinant (X.691 10.9.3.5-8): aligned,
    /// one octet below 128, two below 16K; the fragmented forms (16K and
    /// more, in chunks) are refused.
    pub fn length(&mut self) -> Result<usize> {
        self.align()?;
        let first = self.bits(8)?;
        if first & 0x80 == 0 {
            Ok(first as usize)
        } else if first & 0x40 == 0 {
            let second = self.bits(8)?;
            Ok((((first & 0x3f) << 8) | second) as usize)
        } else {
            Err(Error::Fragmented)
        }
    }

    /// A length determinant for a size constraint: fixed sizes take no
    /// bits, a root range below 64K is a constrained whole number, anything
    /// else (no upper bound, 64K or more, or outside an extensible root)
    /// the unconstrained form. Checks the result against the root range
    /// unless the extension bit said it is outside it.
    pub(crate) fn size(&mut self, s: super::table::Size) -> Result<usize> {
        if s.ext && self.bit()? {
            return self.length();
        }
        let n = match s.ub {
            Some(ub) if ub < 65536 => {
                if ub == s.lb {
                    ub as usize
                } else {
                    self.constrained(i64::from(s.lb), i64::from(ub))? as usize
                }
            }
            _ => self.length()?,
        };
        if n < s.lb as usize || s.ub.is_some_and(|ub| n > ub as usize) {
            return Err(Error::Range);
        }
        Ok(n)
    }

    /// A normally small non-negative whole number (X.691 10.6): a zero bit
    /// and six bits, or a one bit and a length-prefixed number.
    pub fn normally_small(&mut self) -> Result<u64> {
        if !self.bit()? {
            return self.bits(6);
        }
        let len = self.length()?;
        if len == 0 || len > 8 {
            return Err(Error::Range);
        }
        self.octets_uint(len)
    }

    /// A normally small length (X.691 10.9.3.4): the bit count of an
    /// extension-addition bitmap, at least 1.
    pub fn normally_small_length(&mut self) -> Result<usize> {
        if !self.bit()? {
            return Ok(self.bits(6)? as usize + 1);
        }
        self.length()
    }

    /// An open type (X.691 10.2): a length and that many octets. Returns a
    /// reader over the octets and moves past them.
    pub fn open(&mut self) -> Result<Reader<'a>> {
        let len = self.length()?;
        self.octets(len)
    }

    /// A reader over the next `len` aligned octets; moves past them.
    pub fn octets(&mut self, len: usize) -> Result<Reader<'a>> {
        self.align()?;
        let bits = len.checked_mul(8).ok_or(Error::Truncated)?;
        self.need(bits)?;
        let sub = Reader {
            buf: self.buf,
            pos: self.pos,
            end: self.pos + bits,
        };
        self.pos += bits;
        Ok(sub)
    }

    /// An INTEGER (X.691 13): returns the value and, when the value was
    /// encoded in whole aligned octets, the byte offset of its first octet
    /// (for the two-octet port numbers the NAT rewrites in place).
    pub(crate) fn integer(&mut self, c: super::table::IntRange) -> Result<(i64, Option<usize>)> {
        if c.ext && self.bit()? {
            return self.unconstrained_integer(true).map(|v| (v, None));
        }
        match (c.lb, c.ub) {
            (Some(lb), Some(ub)) => {
                let range = (ub as i128) - (lb as i128) + 1;
                if range > 255 && range <= 65536 {
                    self.align()?;
                    let at = self.byte_pos();
                    return Ok((self.constrained(lb, ub)?, at));
                }
                Ok((self.constrained(lb, ub)?, None))
            }
            (Some(lb), None) => {
                let len = self.length()?;
                if len == 0 || len > 8 {
                    return Err(Error::Range);
                }
                let at = self.byte_pos();
                let v = self.octets_uint(len)?;
                let v = i128::from(lb) + i128::from(v);
                let v = i64::try_from(v).map_err(|_| Error::Range)?;
                Ok((v, at))
            }
            _ => self.unconstrained_integer(false).map(|v| (v, None)),
        }
    }

    /// A length-prefixed two's-complement integer.
    fn unconstrained_integer(&mut self, _ext: bool) -> Result<i64> {
        let len = self.length()?;
        if len == 0 || len > 8 {
            return Err(Error::Range);
        }
        let raw = self.octets_uint(len)?;
        let shift = 64 - 8 * len as u32;
        Ok(((raw << shift) as i64) >> shift)
    }
}

/// Bits needed to write `v` (0 for 0).
fn bits_for(v: u128) -> u32 {
    128 - v.leading_zeros()
}

/// Octets needed to write `v` (at least 1).
fn octets_for(v: u128) -> u32 {
    bits_for(v).div_ceil(8).max(1)
}

#[cfg(test)]
mod tests {
    use super::super::table::{IntRange, Size};
    use super::*;

    #[test]
    fn bits_across_bytes() {
        let mut r = Reader::new(&[0b1010_1100, 0b0101_0011]);
        assert!(r.bit().unwrap());
        assert_eq!(r.bits(3).unwrap(), 0b010);
        assert_eq!(r.bits(8).unwrap(), 0b1100_0101);
        assert_eq!(r.bits(4).unwrap(), 0b0011);
        assert_eq!(r.bit(), Err(Error::Truncated));
        assert_eq!(r.remaining(), 0);
    }

    #[test]
    fn no_over_read() {
        let mut r = Reader::new(&[0xff]);
        assert_eq!(r.bits(9), Err(Error::Truncated));
        // a failed read consumes nothing
        assert_eq!(r.bits(8).unwrap(), 0xff);
        let mut r = Reader::new(&[]);
        assert_eq!(r.bit(), Err(Error::Truncated));
        assert_eq!(r.align(), Ok(()));
        assert_eq!(r.length(), Err(Error::Truncated));
    }

    #[test]
    fn align_and_offsets() {
        let mut r = Reader::new(&[0x80, 0x12, 0x34]);
        assert!(r.bit().unwrap());
        assert_eq!(r.byte_pos(), None);
        r.align().unwrap();
        assert_eq!(r.byte_pos(), Some(1));
        // aligned already: no move
        r.align().unwrap();
        assert_eq!(r.bits(16).unwrap(), 0x1234);
        // aligning past the end fails
        let mut r = Reader::new(&[0x00]);
        r.bit().unwrap();
        r.skip_bits(7).unwrap();
        r.align().unwrap();
        let mut r = Reader::over(&[0, 0, 0], 1, 1);
        r.bit().unwrap();
        assert_eq!(r.align(), Ok(()));
        assert_eq!(r.bit(), Err(Error::Truncated));
    }

    #[test]
    fn constrained_whole_numbers() {
        // range 1: no bits
        let mut r = Reader::new(&[]);
        assert_eq!(r.constrained(5, 5).unwrap(), 5);
        // range 7: 3 bits
        let mut r = Reader::new(&[0b1100_0000]);
        assert_eq!(r.constrained(1, 7).unwrap(), 7);
        // range 8 with value 9 (offset 8) cannot happen: range 8 is 3 bits
        // range 255: 8 bits, not aligned
        let mut r = Reader::new(&[0b1000_0000, 0b1000_0000]);
        r.bit().unwrap();
        assert_eq!(r.constrained(0, 254).unwrap(), 1);
        // range 256: aligned octet
        let mut r = Reader::new(&[0x80, 0x05]);
        r.bit().unwrap();
        assert_eq!(r.constrained(0, 255).unwrap(), 5);
        // range 65536: two aligned octets
        let mut r = Reader::new(&[0x06, 0xa5]);
        assert_eq!(r.constrained(0, 65535).unwrap(), 1701);
        // 1..4294967295: 2-bit octet count, aligned octets
        let mut r = Reader::new(&[0b0100_0000, 0x01, 0x2b]);
        assert_eq!(r.constrained(1, 4294967295).unwrap(), 300);
        // offsets past ub are refused (range 3 in 2 bits, value 3)
        let mut r = Reader::new(&[0b1100_0000]);
        assert_eq!(r.constrained(0, 2), Err(Error::Range));
        // 1..65535: range 65535 still two octets; value 0 + 1
        let mut r = Reader::new(&[0x00, 0x00]);
        assert_eq!(r.constrained(1, 65535).unwrap(), 1);
    }

    #[test]
    fn length_determinants() {
        assert_eq!(Reader::new(&[0x05]).length().unwrap(), 5);
        assert_eq!(Reader::new(&[0x81, 0x02]).length().unwrap(), 0x102);
        assert_eq!(Reader::new(&[0xbf, 0xff]).length().unwrap(), 16383);
        assert_eq!(Reader::new(&[0xc1]).length(), Err(Error::Fragmented));
        assert_eq!(Reader::new(&[0x81]).length(), Err(Error::Truncated));
        // constrained sizes
        let s = Size {
            lb: 1,
            ub: Some(128),
            ext: false,
        };
        assert_eq!(Reader::new(&[0b0000_0110]).size(s).unwrap(), 4);
        let fixed = Size {
            lb: 16,
            ub: Some(16),
            ext: false,
        };
        assert_eq!(Reader::new(&[]).size(fixed).unwrap(), 16);
        let semi = Size {
            lb: 2,
            ub: None,
            ext: false,
        };
        assert_eq!(Reader::new(&[0x01]).size(semi), Err(Error::Range));
        let ext = Size {
            lb: 1,
            ub: Some(4),
            ext: true,
        };
        // extension bit set: unconstrained length follows, aligned
        assert_eq!(Reader::new(&[0x80, 0x09]).size(ext).unwrap(), 9);
        assert_eq!(Reader::new(&[0b0110_0000]).size(ext).unwrap(), 4);
    }

    #[test]
    fn normally_small() {
        assert_eq!(Reader::new(&[0b0000_0110]).normally_small().unwrap(), 3);
        assert_eq!(
            Reader::new(&[0b1000_0000, 0x01, 0x40])
                .normally_small()
                .unwrap(),
            64
        );
        assert_eq!(
            Reader::new(&[0b0111_1110]).normally_small_length().unwrap(),
            64
        );
        assert_eq!(
            Reader::new(&[0b1000_0000, 0x02])
                .normally_small_length()
                .unwrap(),
            2
        );
    }

    #[test]
    fn open_types_stay_inside() {
        let buf = [0x02, 0xaa, 0xbb, 0xcc];
        let mut r = Reader::new(&buf);
        let mut sub = r.open().unwrap();
        assert_eq!(sub.byte_pos(), Some(1));
        assert_eq!(sub.bits(16).unwrap(), 0xaabb);
        assert_eq!(sub.bit(), Err(Error::Truncated));
        assert_eq!(r.bits(8).unwrap(), 0xcc);
        // a length past the end
        assert_eq!(
            Reader::new(&[0x05, 0x00]).open().map(|_| ()),
            Err(Error::Truncated)
        );
    }

    #[test]
    fn integers() {
        let port = IntRange {
            lb: Some(0),
            ub: Some(65535),
            ext: false,
        };
        let mut r = Reader::new(&[0x80, 0x06, 0xb8]);
        r.bit().unwrap();
        assert_eq!(r.integer(port).unwrap(), (1720, Some(1)));
        let semi = IntRange {
            lb: Some(1),
            ub: None,
            ext: false,
        };
        assert_eq!(
            Reader::new(&[0x01, 0x09]).integer(semi).unwrap(),
            (10, Some(1))
        );
        let unc = IntRange {
            lb: None,
            ub: None,
            ext: false,
        };
        assert_eq!(Reader::new(&[0x01, 0xff]).integer(unc).unwrap(), (-1, None));
        assert_eq!(Reader::new(&[0x00]).integer(unc), Err(Error::Range));
        assert_eq!(Reader::new(&[0x09]).integer(unc), Err(Error::Range));
        let ext = IntRange {
            lb: Some(0),
            ub: Some(7),
            ext: true,
        };
        assert_eq!(Reader::new(&[0b0101_0000]).integer(ext).unwrap(), (5, None));
        assert_eq!(
            Reader::new(&[0x80, 0x01, 0x20]).integer(ext).unwrap(),
            (32, None)
        );
    }
}
