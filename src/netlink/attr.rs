//! Netlink attributes (TLVs): a typed, non-panicking view over received
//! bytes and a writer for requests.
//!
//! Layout (include/uapi/linux/netlink.h): `struct nlattr { u16 nla_len;
//! u16 nla_type; }` in host byte order, then `nla_len - 4` bytes of data,
//! then padding to a multiple of 4. Bit 15 of the type is NLA_F_NESTED,
//! bit 14 NLA_F_NET_BYTEORDER. Netfilter attribute values are big-endian.

/// Nested attribute flag (NLA_F_NESTED).
pub const NLA_F_NESTED: u16 = 0x8000;
/// Value in network byte order (NLA_F_NET_BYTEORDER).
pub const NLA_F_NET_BYTEORDER: u16 = 0x4000;
const NLA_TYPE_MASK: u16 = !(NLA_F_NESTED | NLA_F_NET_BYTEORDER);
const NLA_HDRLEN: usize = 4;

/// Rounds up to the netlink alignment (4).
pub const fn align(n: usize) -> usize {
    (n + 3) & !3
}

/// One attribute of a received message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attr<'a> {
    /// The type without the NESTED/BYTEORDER flags.
    pub kind: u16,
    pub data: &'a [u8],
}

impl<'a> Attr<'a> {
    pub fn u8(&self) -> Option<u8> {
        self.data.first().copied()
    }
    pub fn be16(&self) -> Option<u16> {
        Some(u16::from_be_bytes(self.data.get(..2)?.try_into().ok()?))
    }
    pub fn be32(&self) -> Option<u32> {
        Some(u32::from_be_bytes(self.data.get(..4)?.try_into().ok()?))
    }
    /// A NUL-terminated (or unterminated) string.
    pub fn str(&self) -> Option<&'a str> {
        let end = self
            .data
            .iter()
            .position(|&b| b == 0)
            .unwrap_or(self.data.len());
        std::str::from_utf8(self.data.get(..end)?).ok()
    }
    /// The attributes nested inside this one.
    pub fn nested(&self) -> Attrs<'a> {
        Attrs::new(self.data)
    }
}

/// An iterator over the attributes in a byte range. Stops (and records it)
/// at the first malformed header instead of reading past the buffer.
#[derive(Debug, Clone, Copy)]
pub struct Attrs<'a> {
    rest: &'a [u8],
    malformed: bool,
}

impl<'a> Attrs<'a> {
    pub fn new(buf: &'a [u8]) -> Self {
        Attrs {
            rest: buf,
            malformed: false,
        }
    }
    /// The first attribute of type `kind`.
    pub fn get(&self, kind: u16) -> Option<Attr<'a>> {
        self.into_iter().find(|a| a.kind == kind)
    }
    /// Whether the walk ran into a malformed attribute header (as far as
    /// it got: call after iterating to the end).
    pub fn is_malformed(&self) -> bool {
        self.malformed
    }
    /// Walks the whole buffer and says whether every header was sound.
    pub fn validate(&self) -> bool {
        let mut it = *self;
        for _ in it.by_ref() {}
        !it.malformed
    }
}

impl<'a> Iterator for Attrs<'a> {
    type Item = Attr<'a>;
    fn next(&mut self) -> Option<Attr<'a>> {
        if self.rest.len() < NLA_HDRLEN {
            if !self.rest.is_empty() {
                self.malformed = true;
                self.rest = &[];
            }
            return None;
        }
        let hdr = self.rest.get(..NLA_HDRLEN)?;
        let len = usize::from(u16::from_ne_bytes([hdr[0], hdr[1]]));
        let kind = u16::from_ne_bytes([hdr[2], hdr[3]]) & NLA_TYPE_MASK;
        let Some(data) = (len >= NLA_HDRLEN)
            .then(|| self.rest.get(NLA_HDRLEN..len))
            .flatten()
        else {
            self.malformed = true;
            self.rest = &[];
            return None;
        };
        self.rest = self.rest.get(align(len)..).unwrap_or(&[]);
        Some(Attr { kind, data })
    }
}

/// Builds a sequence of attributes.
#[derive(Debug, Default, Clone)]
pub struct AttrWriter {
    buf: Vec<u8>,
    open: Vec<usize>,
}

impl AttrWriter {
    pub fn new() -> Self {
        Self::default()
    }
    /// Appends one attribute with raw data.
    pub fn put(&mut self, kind: u16, data: &[u8]) -> &mut Self {
        let len = NLA_HDRLEN + data.len();
        // Attribute lengths are u16; callers never come near that, and a
        // value that would not fit is cut rather than wrapped.
        let l16 = u16::try_from(len).unwrap_or(u16::MAX);
        self.buf.extend_from_slice(&l16.to_ne_bytes());
        self.buf.extend_from_slice(&kind.to_ne_bytes());
        self.buf.extend_from_slice(data);
        self.buf.resize(align(self.buf.len()), 0);
        self
    }
    pub fn u8(&mut self, kind: u16, v: u8) -> &mut Self {
        self.put(kind, &[v])
    }
    pub fn be16(&mut self, kind: u16, v: u16) -> &mut Self {
        self.put(kind, &v.to_be_bytes())
    }
    pub fn be32(&mut self, kind: u16, v: u32) -> &mut Self {
        self.put(kind, &v.to_be_bytes())
    }
    /// A string with its terminating NUL, as the kernel's NLA_NUL_STRING
    /// policies want.
    pub fn strz(&mut self, kind: u16, s: &str) -> &mut Self {
        let mut d = Vec::with_capacity(s.len() + 1);
        d.extend_from_slice(s.as_bytes());
        d.push(0);
        self.put(kind, &d)
    }
    /// A nested attribute whose contents are already encoded attributes.
    pub fn nest_raw(&mut self, kind: u16, contents: &[u8]) -> &mut Self {
        self.put(kind | NLA_F_NESTED, contents)
    }
    /// Opens a nested attribute (flagged NLA_F_NESTED); close with [`end`].
    ///
    /// [`end`]: AttrWriter::end
    pub fn begin(&mut self, kind: u16) -> &mut Self {
        self.open.push(self.buf.len());
        self.buf.extend_from_slice(&0u16.to_ne_bytes());
        self.buf
            .extend_from_slice(&(kind | NLA_F_NESTED).to_ne_bytes());
        self
    }
    /// Closes the innermost open nest.
    pub fn end(&mut self) -> &mut Self {
        if let Some(start) = self.open.pop() {
            let len = u16::try_from(self.buf.len() - start).unwrap_or(u16::MAX);
            if let Some(h) = self.buf.get_mut(start..start + 2) {
                h.copy_from_slice(&len.to_ne_bytes());
            }
        }
        self
    }
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf
    }
    pub fn into_bytes(mut self) -> Vec<u8> {
        while !self.open.is_empty() {
            self.end();
        }
        self.buf
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_and_reads_back() {
        let mut w = AttrWriter::new();
        w.strz(1, "ftp")
            .begin(2)
            .be16(1, 2)
            .u8(2, 6)
            .end()
            .be32(3, 7);
        let b = w.into_bytes();
        // "ftp\0": len 8, type 1; nest: len 4+8+8 = 20, type 2|NESTED
        assert_eq!(&b[..8], &[8, 0, 1, 0, b'f', b't', b'p', 0]);
        assert_eq!(&b[8..12], &[20, 0, 2, 0x80]);
        assert_eq!(&b[12..20], &[6, 0, 1, 0, 0, 2, 0, 0]);
        assert_eq!(&b[20..28], &[5, 0, 2, 0, 6, 0, 0, 0]);
        assert_eq!(&b[28..36], &[8, 0, 3, 0, 0, 0, 0, 7]);
        let a = Attrs::new(&b);
        assert_eq!(a.get(1).unwrap().str(), Some("ftp"));
        let t = a.get(2).unwrap().nested();
        assert_eq!(t.get(1).unwrap().be16(), Some(2));
        assert_eq!(t.get(2).unwrap().u8(), Some(6));
        assert_eq!(a.get(3).unwrap().be32(), Some(7));
        assert!(a.validate());
    }

    #[test]
    fn malformed_input_stops_the_walk() {
        // length larger than the buffer
        let b = [200u8, 0, 1, 0, 1, 2];
        let mut a = Attrs::new(&b);
        assert!(a.next().is_none());
        assert!(a.is_malformed());
        // length below the header size
        assert!(!Attrs::new(&[2, 0, 1, 0]).validate());
        // trailing garbage
        assert!(!Attrs::new(&[4, 0, 1, 0, 9]).validate());
        // short values
        let at = Attr {
            kind: 1,
            data: &[1],
        };
        assert_eq!(at.be16(), None);
        assert_eq!(at.be32(), None);
    }

    #[test]
    fn never_panics_on_any_short_input() {
        for n in 0..64u16 {
            let mut b = Vec::new();
            for i in 0..n {
                b.push((i.wrapping_mul(37) ^ n) as u8);
            }
            for a in Attrs::new(&b) {
                let _ = a.nested().validate();
            }
        }
    }
}
