//! A BER (ITU-T X.690) reader over a byte slice, for SNMP.
//!
//! * Identifier octets: class, primitive/constructed, tag number in the low
//!   form (0..=30) or the high-tag-number form, which must be minimal (no
//!   leading `0x80`, only for numbers ≥ 31) and at most [`MAX_TAG_OCTETS`]
//!   octets after the first.
//! * Length octets: definite only — short form, or long form with at most
//!   [`MAX_LEN_OCTETS`] octets (leading zeros allowed, as BER allows).
//!   The indefinite form (`0x80`) and the reserved `0xFF` are refused.
//!   Every length is checked against the enclosing element before anything
//!   is sliced, so nothing is read past the buffer or past the element that
//!   contains it.
//! * Nesting: [`Reader::enter`] opens a constructed element and refuses to
//!   go deeper than [`MAX_DEPTH`]; [`walk`] visits a whole tree without
//!   recursion, with an explicit stack bounded by the same depth.
//!
//! Offsets ([`Tlv::at`], [`Reader::pos`], errors) are counted from the start
//! of the buffer given to [`Reader::new`] — for SNMP, the UDP payload.

use std::fmt;

/// Deepest nesting [`Reader::enter`] and [`walk`] accept (the outermost
/// element is at depth 0). An SNMP v1/v2c message needs 4.
pub const MAX_DEPTH: usize = 32;
/// Most tag-number octets after the first identifier octet: tag numbers up
/// to 2^28 - 1.
pub const MAX_TAG_OCTETS: usize = 4;
/// Most length octets after the first length octet (long form).
pub const MAX_LEN_OCTETS: usize = 8;

/// The class of a tag (the two high bits of the identifier octet).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Class {
    Universal,
    Application,
    Context,
    Private,
}

/// A decoded identifier: class, primitive or constructed, tag number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Tag {
    pub class: Class,
    pub constructed: bool,
    pub number: u32,
}

impl Tag {
    pub const fn new(class: Class, constructed: bool, number: u32) -> Self {
        Tag {
            class,
            constructed,
            number,
        }
    }
    /// A primitive tag of the universal class.
    pub const fn universal(number: u32) -> Self {
        Tag::new(Class::Universal, false, number)
    }
    /// A primitive tag of the application class.
    pub const fn application(number: u32) -> Self {
        Tag::new(Class::Application, false, number)
    }
    /// A constructed tag of the context-specific class.
    pub const fn context_constructed(number: u32) -> Self {
        Tag::new(Class::Context, true, number)
    }
    pub const INTEGER: Tag = Tag::universal(2);
    pub const OCTET_STRING: Tag = Tag::universal(4);
    pub const NULL: Tag = Tag::universal(5);
    pub const OID: Tag = Tag::universal(6);
    pub const SEQUENCE: Tag = Tag::new(Class::Universal, true, 16);

    /// The single identifier octet of this tag, if it has the low form.
    pub fn octet(&self) -> Option<u8> {
        let class = match self.class {
            Class::Universal => 0x00,
            Class::Application => 0x40,
            Class::Context => 0x80,
            Class::Private => 0xC0,
        };
        let cons = if self.constructed { 0x20 } else { 0 };
        u8::try_from(self.number)
            .ok()
            .filter(|n| *n < 0x1F)
            .map(|n| class | cons | n)
    }
}

impl fmt::Display for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let cons = if self.constructed { " constructed" } else { "" };
        match self.class {
            Class::Universal => {
                let name = match self.number {
                    1 => "BOOLEAN",
                    2 => "INTEGER",
                    3 => "BIT STRING",
                    4 => "OCTET STRING",
                    5 => "NULL",
                    6 => "OBJECT IDENTIFIER",
                    16 => "SEQUENCE",
                    17 => "SET",
                    n => return write!(f, "[UNIVERSAL {n}]{cons}"),
                };
                match (self.number, self.constructed) {
                    (16 | 17, true) => f.write_str(name),
                    (16 | 17, false) => write!(f, "{name} primitive"),
                    _ => write!(f, "{name}{cons}"),
                }
            }
            Class::Application => write!(f, "[APPLICATION {}]{cons}", self.number),
            Class::Context => write!(f, "[{}]{cons}", self.number),
            Class::Private => write!(f, "[PRIVATE {}]{cons}", self.number),
        }
    }
}

/// One element: identifier, length and the content it announces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tlv<'a> {
    pub tag: Tag,
    /// Offset of the identifier octet.
    pub at: usize,
    /// Identifier and length octets.
    pub header_len: usize,
    /// Length octets after the first one: 0 for the short form.
    pub len_octets: usize,
    pub content: &'a [u8],
}

impl<'a> Tlv<'a> {
    /// Offset of the first content octet.
    pub fn content_at(&self) -> usize {
        self.at + self.header_len
    }
    /// Offset just past the element.
    pub fn end(&self) -> usize {
        self.content_at() + self.content.len()
    }
}

/// Why a BER element could not be read. `at` is the offset of the element's
/// identifier octet (or, for `Empty`, where one was expected).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BerError {
    /// Nothing left where an element was expected.
    Empty { at: usize },
    /// The identifier or length octets run past the enclosing element.
    TruncatedHeader { at: usize },
    /// The content announced runs past the enclosing element.
    Overrun { at: usize, len: u64, avail: usize },
    /// The indefinite length form (`0x80`), which SNMP does not use.
    Indefinite { at: usize },
    /// The reserved length octet `0xFF`.
    ReservedLength { at: usize },
    /// More than [`MAX_LEN_OCTETS`] length octets.
    LengthTooLong { at: usize },
    /// A high-tag-number form longer than [`MAX_TAG_OCTETS`].
    TagTooLong { at: usize },
    /// A high-tag-number form that is not minimal: a leading `0x80`, or a
    /// number below 31 that has a low form.
    TagNotMinimal { at: usize },
    /// [`Reader::enter`] on a primitive element.
    NotConstructed { at: usize },
    /// Nesting deeper than [`MAX_DEPTH`].
    TooDeep { at: usize },
}

impl BerError {
    /// The offset the error is about.
    pub fn at(&self) -> usize {
        match *self {
            BerError::Empty { at }
            | BerError::TruncatedHeader { at }
            | BerError::Overrun { at, .. }
            | BerError::Indefinite { at }
            | BerError::ReservedLength { at }
            | BerError::LengthTooLong { at }
            | BerError::TagTooLong { at }
            | BerError::TagNotMinimal { at }
            | BerError::NotConstructed { at }
            | BerError::TooDeep { at } => at,
        }
    }
}

impl fmt::Display for BerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            BerError::Empty { at } => write!(f, "element missing at {at}"),
            BerError::TruncatedHeader { at } => write!(f, "truncated header at {at}"),
            BerError::Overrun { at, len, avail } => write!(
                f,
                "element at {at} announces {len} content octets, {avail} left"
            ),
            BerError::Indefinite { at } => write!(f, "indefinite length at {at}"),
            BerError::ReservedLength { at } => write!(f, "reserved length octet 0xFF at {at}"),
            BerError::LengthTooLong { at } => write!(f, "too many length octets at {at}"),
            BerError::TagTooLong { at } => write!(f, "tag number too long at {at}"),
            BerError::TagNotMinimal { at } => write!(f, "non-minimal tag number at {at}"),
            BerError::NotConstructed { at } => write!(f, "primitive element at {at} entered"),
            BerError::TooDeep { at } => {
                write!(f, "nesting deeper than {MAX_DEPTH} at {at}")
            }
        }
    }
}

impl std::error::Error for BerError {}

/// Reads consecutive elements from `data[pos..end]`.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
    end: usize,
    depth: usize,
}

impl<'a> Reader<'a> {
    /// A reader over the whole of `data`, at depth 0.
    pub fn new(data: &'a [u8]) -> Self {
        Reader {
            data,
            pos: 0,
            end: data.len(),
            depth: 0,
        }
    }
    /// Offset of the next element.
    pub fn pos(&self) -> usize {
        self.pos
    }
    /// Offset just past the last octet this reader may read.
    pub fn end(&self) -> usize {
        self.end
    }
    /// Nesting depth of the elements this reader reads.
    pub fn depth(&self) -> usize {
        self.depth
    }
    pub fn is_empty(&self) -> bool {
        self.pos >= self.end
    }
    /// The octets not read yet.
    pub fn rest(&self) -> &'a [u8] {
        self.data.get(self.pos..self.end).unwrap_or_default()
    }

    /// The next element, without moving past it.
    pub fn peek(&self) -> Result<Tlv<'a>, BerError> {
        let at = self.pos;
        let rest = self.rest();
        let Some((&first, mut tail)) = rest.split_first() else {
            return Err(BerError::Empty { at });
        };
        let truncated = BerError::TruncatedHeader { at };
        let class = match first >> 6 {
            0 => Class::Universal,
            1 => Class::Application,
            2 => Class::Context,
            _ => Class::Private,
        };
        let constructed = first & 0x20 != 0;
        let mut number = u32::from(first & 0x1F);
        if number == 0x1F {
            number = 0;
            let mut count = 0usize;
            loop {
                let (&b, t) = tail.split_first().ok_or(truncated)?;
                tail = t;
                if count == 0 && b == 0x80 {
                    return Err(BerError::TagNotMinimal { at });
                }
                count += 1;
                if count > MAX_TAG_OCTETS {
                    return Err(BerError::TagTooLong { at });
                }
                number = (number << 7) | u32::from(b & 0x7F);
                if b & 0x80 == 0 {
                    break;
                }
            }
            if number < 0x1F {
                return Err(BerError::TagNotMinimal { at });
            }
        }
        let (&l, mut tail) = tail.split_first().ok_or(truncated)?;
        let (len, len_octets) = match l {
            0..=0x7F => (u64::from(l), 0),
            0x80 => return Err(BerError::Indefinite { at }),
            0xFF => return Err(BerError::ReservedLength { at }),
            _ => {
                let n = usize::from(l & 0x7F);
                if n > MAX_LEN_OCTETS {
                    return Err(BerError::LengthTooLong { at });
                }
                let mut len = 0u64;
                for _ in 0..n {
                    let (&b, t) = tail.split_first().ok_or(truncated)?;
                    tail = t;
                    len = (len << 8) | u64::from(b);
                }
                (len, n)
            }
        };
        let header_len = rest.len() - tail.len();
        let content = usize::try_from(len)
            .ok()
            .and_then(|n| tail.get(..n))
            .ok_or(BerError::Overrun {
                at,
                len,
                avail: tail.len(),
            })?;
        Ok(Tlv {
            tag: Tag {
                class,
                constructed,
                number,
            },
            at,
            header_len,
            len_octets,
            content,
        })
    }

    /// The next element; the reader moves past it.
    pub fn read(&mut self) -> Result<Tlv<'a>, BerError> {
        let tlv = self.peek()?;
        self.pos = tlv.end();
        Ok(tlv)
    }

    /// A reader over the content of `tlv` (an element this reader read),
    /// one level deeper.
    pub fn enter(&self, tlv: &Tlv<'a>) -> Result<Reader<'a>, BerError> {
        if !tlv.tag.constructed {
            return Err(BerError::NotConstructed { at: tlv.at });
        }
        if self.depth >= MAX_DEPTH {
            return Err(BerError::TooDeep { at: tlv.at });
        }
        Ok(Reader {
            data: self.data,
            pos: tlv.content_at(),
            end: tlv.end(),
            depth: self.depth + 1,
        })
    }
}

/// Visits every element of `data` in order, descending into constructed
/// ones; `visit` gets each element and its depth. The whole of `data` must
/// be well-formed BER within [`MAX_DEPTH`]. Returns the number of elements.
pub fn walk(data: &[u8], mut visit: impl FnMut(&Tlv<'_>, usize)) -> Result<usize, BerError> {
    let mut stack = vec![Reader::new(data)];
    let mut count = 0usize;
    while let Some(top) = stack.last_mut() {
        if top.is_empty() {
            stack.pop();
            continue;
        }
        let tlv = top.read()?;
        visit(&tlv, top.depth());
        count += 1;
        if tlv.tag.constructed {
            let inner = top.enter(&tlv)?;
            stack.push(inner);
        }
    }
    Ok(count)
}

/// The value of an INTEGER's content octets (two's complement, big
/// endian), if it has 1 to 8 octets.
pub fn integer(content: &[u8]) -> Option<i64> {
    let (&first, _) = content.split_first()?;
    if content.len() > 8 {
        return None;
    }
    let init = if first & 0x80 != 0 { -1i64 } else { 0 };
    Some(content.iter().fold(init, |v, &b| (v << 8) | i64::from(b)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(data: &[u8]) -> Result<Tlv<'_>, BerError> {
        Reader::new(data).read()
    }

    #[test]
    fn short_and_long_lengths() {
        let t = one(&[0x04, 0x03, b'a', b'b', b'c', 0xEE]).unwrap();
        assert_eq!(t.tag, Tag::OCTET_STRING);
        assert_eq!((t.at, t.header_len, t.len_octets), (0, 2, 0));
        assert_eq!(t.content, b"abc");
        assert_eq!(t.end(), 5);

        let t = one(&[0x30, 0x81, 0x02, 0x05, 0x00]).unwrap();
        assert_eq!(t.tag, Tag::SEQUENCE);
        assert_eq!((t.header_len, t.len_octets), (3, 1));
        assert_eq!(t.content, &[0x05, 0x00]);

        // Long form with leading zeros is BER.
        let t = one(&[0x04, 0x84, 0, 0, 0, 1, 0xAA]).unwrap();
        assert_eq!((t.header_len, t.len_octets, t.content), (6, 4, &[0xAA][..]));

        let mut big = vec![0x04, 0x82, 0x01, 0x00];
        big.extend(std::iter::repeat_n(7u8, 256));
        assert_eq!(one(&big).unwrap().content.len(), 256);
    }

    #[test]
    fn length_errors() {
        assert_eq!(one(&[]), Err(BerError::Empty { at: 0 }));
        assert_eq!(one(&[0x04]), Err(BerError::TruncatedHeader { at: 0 }));
        assert_eq!(
            one(&[0x04, 0x82, 0x01]),
            Err(BerError::TruncatedHeader { at: 0 })
        );
        assert_eq!(
            one(&[0x04, 0x05, 1, 2]),
            Err(BerError::Overrun {
                at: 0,
                len: 5,
                avail: 2
            })
        );
        assert_eq!(
            one(&[0x30, 0x80, 0, 0]),
            Err(BerError::Indefinite { at: 0 })
        );
        assert_eq!(one(&[0x04, 0xFF]), Err(BerError::ReservedLength { at: 0 }));
        let mut nine = vec![0x04, 0x89];
        nine.extend([0u8; 9]);
        assert_eq!(one(&nine), Err(BerError::LengthTooLong { at: 0 }));
        // Eight octets of 0xFF: a length no buffer has.
        let mut huge = vec![0x04, 0x88];
        huge.extend([0xFFu8; 8]);
        assert_eq!(
            one(&huge),
            Err(BerError::Overrun {
                at: 0,
                len: u64::MAX,
                avail: 0
            })
        );
    }

    #[test]
    fn tags() {
        let t = one(&[0x40, 0x04, 10, 0, 0, 1]).unwrap();
        assert_eq!(t.tag, Tag::application(0));
        assert_eq!(t.tag.to_string(), "[APPLICATION 0]");
        let t = one(&[0xA4, 0x00]).unwrap();
        assert_eq!(t.tag, Tag::context_constructed(4));
        assert_eq!(t.tag.to_string(), "[4] constructed");
        assert_eq!(one(&[0xC1, 0]).unwrap().tag.class, Class::Private);
        // High-tag-number form: 31, 200 = 0x81 0x48, 2^28-1.
        let t = one(&[0x5F, 0x1F, 0x00]).unwrap();
        assert_eq!(
            (t.tag.class, t.tag.number, t.header_len),
            (Class::Application, 31, 3)
        );
        assert_eq!(one(&[0x9F, 0x81, 0x48, 0x00]).unwrap().tag.number, 200);
        assert_eq!(
            one(&[0x1F, 0xFF, 0xFF, 0xFF, 0x7F, 0x00])
                .unwrap()
                .tag
                .number,
            (1 << 28) - 1
        );
        assert_eq!(
            one(&[0x1F, 0xFF, 0xFF, 0xFF, 0xFF, 0x01, 0x00]),
            Err(BerError::TagTooLong { at: 0 })
        );
        assert_eq!(
            one(&[0x1F, 0x80, 0x20, 0]),
            Err(BerError::TagNotMinimal { at: 0 })
        );
        assert_eq!(
            one(&[0x1F, 0x02, 0x00]),
            Err(BerError::TagNotMinimal { at: 0 })
        );
        assert_eq!(one(&[0x1F, 0x81]), Err(BerError::TruncatedHeader { at: 0 }));
        assert_eq!(one(&[0x1F, 0x21]), Err(BerError::TruncatedHeader { at: 0 }));
        assert_eq!(Tag::SEQUENCE.octet(), Some(0x30));
        assert_eq!(Tag::application(0).octet(), Some(0x40));
        assert_eq!(Tag::universal(31).octet(), None);
    }

    #[test]
    fn enter_is_bounded_by_the_element() {
        // SEQUENCE { INTEGER 1 } followed by an INTEGER outside it.
        let data = [0x30, 0x03, 0x02, 0x01, 0x01, 0x02, 0x01, 0x02];
        let mut top = Reader::new(&data);
        let seq = top.read().unwrap();
        let mut inner = top.enter(&seq).unwrap();
        assert_eq!((inner.pos(), inner.end(), inner.depth()), (2, 5, 1));
        assert_eq!(integer(inner.read().unwrap().content), Some(1));
        assert!(inner.is_empty());
        assert_eq!(inner.read(), Err(BerError::Empty { at: 5 }));
        assert_eq!(integer(top.read().unwrap().content), Some(2));
        assert!(top.is_empty());
        // An inner length may not reach past its container.
        let data = [0x30, 0x03, 0x04, 0x05, 0x00, 0x00, 0x00, 0x00];
        let mut top = Reader::new(&data);
        let seq = top.read().unwrap();
        let mut inner = top.enter(&seq).unwrap();
        assert_eq!(
            inner.read(),
            Err(BerError::Overrun {
                at: 2,
                len: 5,
                avail: 1
            })
        );
        let prim = Reader::new(&[0x04, 0x00]).read().unwrap();
        assert_eq!(
            Reader::new(&[]).enter(&prim).err(),
            Some(BerError::NotConstructed { at: 0 })
        );
    }

    fn nested(depth: usize) -> Vec<u8> {
        // `depth` SEQUENCEs, each the only content of the one around it,
        // around a NULL; built inside out with long-form lengths.
        let mut v = vec![0x05, 0x00];
        for _ in 0..depth {
            let len = v.len();
            let mut outer = vec![0x30, 0x82, (len >> 8) as u8, len as u8];
            outer.extend_from_slice(&v);
            v = outer;
        }
        v
    }

    #[test]
    fn walk_counts_and_bounds_depth() {
        let mut seen = Vec::new();
        let n = walk(&nested(3), |t, d| seen.push((t.tag, d))).unwrap();
        assert_eq!(n, 4);
        assert_eq!(
            seen,
            vec![
                (Tag::SEQUENCE, 0),
                (Tag::SEQUENCE, 1),
                (Tag::SEQUENCE, 2),
                (Tag::NULL, 3)
            ]
        );
        // MAX_DEPTH + 1 levels (depths 0..=MAX_DEPTH) are fine, one more is not.
        assert_eq!(walk(&nested(MAX_DEPTH), |_, _| {}), Ok(MAX_DEPTH + 1));
        assert_eq!(
            walk(&nested(MAX_DEPTH + 1), |_, _| {}),
            Err(BerError::TooDeep { at: 4 * MAX_DEPTH })
        );
        // Ten thousand levels: an error, no stack overflow.
        assert!(matches!(
            walk(&nested(10_000), |_, _| {}),
            Err(BerError::TooDeep { .. })
        ));
        // Damage anywhere in the tree is found.
        assert_eq!(
            walk(&[0x30, 0x02, 0x04, 0x01], |_, _| {}),
            Err(BerError::Overrun {
                at: 2,
                len: 1,
                avail: 0
            })
        );
    }

    #[test]
    fn integers() {
        assert_eq!(integer(&[]), None);
        assert_eq!(integer(&[0x00]), Some(0));
        assert_eq!(integer(&[0x7F]), Some(127));
        assert_eq!(integer(&[0x80]), Some(-128));
        assert_eq!(integer(&[0x00, 0x80]), Some(128));
        assert_eq!(integer(&[0xFF, 0x7F]), Some(-129));
        assert_eq!(integer(&[0x00, 0xFF, 0xFF, 0xFF, 0xFF]), Some(0xFFFF_FFFF));
        assert_eq!(
            integer(&[0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]),
            Some(i64::MAX)
        );
        assert_eq!(integer(&[0x80, 0, 0, 0, 0, 0, 0, 0]), Some(i64::MIN));
        assert_eq!(integer(&[0; 9]), None);
    }

    proptest::proptest! {
        #[test]
        fn never_panics(data in proptest::collection::vec(proptest::num::u8::ANY, 0..64)) {
            let mut r = Reader::new(&data);
            while let Ok(t) = r.read() {
                proptest::prop_assert!(t.end() <= data.len());
                proptest::prop_assert_eq!(&data[t.content_at()..t.end()], t.content);
            }
            let _ = walk(&data, |t, _| assert!(t.end() <= data.len()));
        }
    }
}
