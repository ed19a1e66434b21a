//! The table walker: decodes one ALIGNED PER value of a table type and
//! records its tagged components in a capture tree.
//!
//! Bounds: every read goes through [`Reader`] (range-checked); recursion
//! depth is limited by [`MAX_DEPTH`] (the generated tables have no cycles
//! and are at most `tables::MAX_STATIC_DEPTH` deep, so the limit is never
//! reached by a valid message); the number of types visited is limited by a
//! budget proportional to the input size, so no input can make the walk
//! quadratic (lists of empty items nested in lists); captures are limited by
//! [`MAX_CAPS`].

use super::per::{Error, Reader, Result};
use super::table::{Choice, Seq, Size, Tag, Ty};

/// Deepest nesting of constructed types the walker follows.
pub(crate) const MAX_DEPTH: u32 = 40;
// The generated tables are acyclic and this deep at most: a valid message
// never meets the limit.
const _: () = assert!(super::tables::MAX_STATIC_DEPTH + 4 < MAX_DEPTH);

/// Most tagged values one decode records.
pub(crate) const MAX_CAPS: usize = 1024;

/// The value of a recorded component.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Val {
    /// A SEQUENCE (its tagged components are its children).
    None,
    /// A CHOICE: the alternative's index (extension alternatives count on
    /// from the root ones) and name, if this ASN.1 knows it.
    Choice(u32, Option<&'static str>),
    /// An INTEGER, and the byte offset of its octets if they are aligned.
    Int(i64, Option<usize>),
    Bool(bool),
    /// An OCTET STRING: byte offset (if aligned) and length.
    Octets(Option<usize>, usize),
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct Cap {
    pub tag: Tag,
    pub parent: usize,
    pub val: Val,
}

/// Recorded components in decode order; entry 0 is a sentinel, entry 1 the
/// decoded message itself.
#[derive(Debug)]
pub(crate) struct Caps {
    pub list: Vec<Cap>,
}

impl Caps {
    pub(crate) fn get(&self, i: usize) -> Option<&Cap> {
        self.list.get(i)
    }

    /// The recorded children of `i`, in order. Captures are in pre-order,
    /// so `i`'s subtree is the run after it whose parents are `i` or later.
    pub(crate) fn children(&self, i: usize) -> impl Iterator<Item = (usize, &Cap)> + '_ {
        self.list
            .iter()
            .enumerate()
            .skip(i + 1)
            .take_while(move |(_, c)| c.parent >= i)
            .filter(move |(_, c)| c.parent == i)
    }

    /// The first child of `i` tagged `tag`.
    pub(crate) fn child(&self, i: usize, tag: Tag) -> Option<(usize, &Cap)> {
        self.children(i).find(|(_, c)| c.tag == tag)
    }
}

#[derive(Debug, PartialEq, Eq)]
enum Flow {
    Go,
    /// Nothing more of interest in the current scope.
    Stop,
}

struct Walker {
    caps: Vec<Cap>,
    budget: usize,
}

/// Decodes a `ty` from `r` (which may be a sub-range of a larger buffer:
/// offsets are into that buffer) and returns the captures.
pub(crate) fn decode(r: &mut Reader, ty: &'static Ty) -> Result<Caps> {
    let mut w = Walker {
        caps: Vec::with_capacity(32),
        budget: 1024 + 2 * r.remaining(),
    };
    w.caps.push(Cap {
        tag: Tag::None,
        parent: 0,
        val: Val::None,
    });
    w.ty(r, ty, Tag::Root, 0, 0)?;
    Ok(Caps { list: w.caps })
}

impl Walker {
    fn step(&mut self, depth: u32) -> Result<()> {
        if depth > MAX_DEPTH {
            return Err(Error::TooDeep);
        }
        self.budget = self.budget.checked_sub(1).ok_or(Error::TooMuchWork)?;
        Ok(())
    }

    /// Records a component if its tag counts under `parent`; returns the
    /// parent for its children.
    fn record(&mut self, tag: Tag, parent: usize, val: Val) -> Result<usize> {
        let ptag = self.caps.get(parent).map_or(Tag::None, |c| c.tag);
        if tag == Tag::None || !tag.accepts(ptag) {
            return Ok(parent);
        }
        if self.caps.len() >= MAX_CAPS {
            return Err(Error::TooMany);
        }
        self.caps.push(Cap { tag, parent, val });
        Ok(self.caps.len() - 1)
    }

    fn ty(
        &mut self,
        r: &mut Reader,
        ty: &'static Ty,
        tag: Tag,
        parent: usize,
        depth: u32,
    ) -> Result<Flow> {
        self.step(depth)?;
        match ty {
            Ty::Null => {}
            Ty::Bool => {
                let b = r.bit()?;
                self.record(tag, parent, Val::Bool(b))?;
            }
            Ty::Int(c) => {
                let (v, at) = r.integer(*c)?;
                self.record(tag, parent, Val::Int(v, at))?;
            }
            Ty::Enum { root, ext } => {
                if *ext && r.bit()? {
                    r.normally_small()?;
                } else if *root > 1 {
                    r.constrained(0, i64::from(*root) - 1)?;
                }
            }
            Ty::Bits(s) => {
                let n = r.size(*s)?;
                if n > 0 && !(fixed(s) && n <= 16) {
                    r.align()?;
                }
                r.skip_bits(n)?;
            }
            Ty::Octets(s) => {
                let n = r.size(*s)?;
                if n > 0 && !(fixed(s) && n <= 2) {
                    r.align()?;
                }
                let at = r.byte_pos();
                r.skip_octets(n)?;
                self.record(tag, parent, Val::Octets(at, n))?;
            }
            Ty::Chars(s, b) => {
                let n = r.size(*s)?;
                let bits = n.checked_mul(usize::from(*b)).ok_or(Error::Range)?;
                if n > 0 && !(fixed(s) && bits <= 16) {
                    r.align()?;
                }
                r.skip_bits(bits)?;
            }
            Ty::Opaque => {
                r.open()?;
            }
            Ty::Containing(inner) => {
                let n = r.length()?;
                let mut sub = r.octets(n)?;
                let p = self.record(tag, parent, Val::Octets(sub.byte_pos(), n))?;
                // Its own scope: a stop inside ends only the octet string.
                self.ty(&mut sub, inner, Tag::Root, p, depth + 1)?;
            }
            Ty::Seq(s) => {
                let p = self.record(tag, parent, Val::None)?;
                return self.seq(r, s, p, depth);
            }
            Ty::SeqOf(s, item) => {
                let n = r.size(*s)?;
                let p = self.record(tag, parent, Val::None)?;
                for _ in 0..n {
                    if self.ty(r, item.ty, item.tag, p, depth + 1)? == Flow::Stop {
                        return Ok(Flow::Stop);
                    }
                }
            }
            Ty::Choice(c) => return self.choice(r, c, tag, parent, depth),
            // Skip marks components the walk never enters; meeting one in a
            // walked position means the tables are wrong: refuse.
            Ty::Skip => return Err(Error::Range),
        }
        Ok(Flow::Go)
    }

    fn seq(&mut self, r: &mut Reader, s: &'static Seq, p: usize, depth: u32) -> Result<Flow> {
        let extended = s.ext && r.bit()?;
        let n_opt = s.root.iter().filter(|c| c.opt).count();
        // The preamble: one presence bit per OPTIONAL/DEFAULT component.
        let mut present = r.clone();
        r.skip_bits(n_opt)?;
        for c in s.root {
            if c.stop {
                return Ok(Flow::Stop);
            }
            if c.opt && !present.bit()? {
                continue;
            }
            if self.ty(r, c.ty, c.tag, p, depth + 1)? == Flow::Stop {
                return Ok(Flow::Stop);
            }
        }
        if !extended {
            return Ok(Flow::Go);
        }
        if s.ext_stop {
            return Ok(Flow::Stop);
        }
        // Extension additions: a bitmap, then each present one as an open
        // type. Additions this ASN.1 does not know, and the ones nothing is
        // wanted from, are skipped by their length.
        let n = r.normally_small_length()?;
        let mut bitmap = r.clone();
        r.skip_bits(n)?;
        for i in 0..n {
            self.step(depth)?;
            let known = s.exts.get(i);
            if known.is_some_and(|c| c.stop) {
                return Ok(Flow::Stop);
            }
            if !bitmap.bit()? {
                continue;
            }
            let mut sub = r.open()?;
            if let Some(c) = known {
                if !matches!(c.ty, Ty::Skip) {
                    // Its own scope: a stop inside ends only this addition.
                    self.ty(&mut sub, c.ty, c.tag, p, depth + 1)?;
                }
            }
        }
        Ok(Flow::Go)
    }

    fn choice(
        &mut self,
        r: &mut Reader,
        c: &'static Choice,
        tag: Tag,
        parent: usize,
        depth: u32,
    ) -> Result<Flow> {
        let extended = c.ext && r.bit()?;
        let (index, alt) = if extended {
            let i = r.normally_small()?;
            let i = usize::try_from(i).map_err(|_| Error::Range)?;
            (c.root.len().saturating_add(i), c.exts.get(i))
        } else {
            // A root index past the last root alternative is refused here
            // (the kernel's CVE-2007-3642 check in decode_choice).
            let i = match c.root.len() {
                0 => return Err(Error::Range),
                1 => 0,
                n => r.constrained(0, n as i64 - 1)? as usize,
            };
            (i, c.root.get(i))
        };
        let index = u32::try_from(index).map_err(|_| Error::Range)?;
        let p = self.record(tag, parent, Val::Choice(index, alt.map(|a| a.name)))?;
        let Some(alt) = alt else {
            // An extension alternative newer than this ASN.1: skip it.
            r.open()?;
            return Ok(Flow::Go);
        };
        if alt.stop {
            return Ok(Flow::Stop);
        }
        if extended {
            let mut sub = r.open()?;
            if !matches!(alt.ty, Ty::Skip) {
                self.ty(&mut sub, alt.ty, alt.tag, p, depth + 1)?;
            }
            return Ok(Flow::Go);
        }
        self.ty(r, alt.ty, alt.tag, p, depth + 1)
    }
}

fn fixed(s: &Size) -> bool {
    s.ub == Some(s.lb) && !s.ext
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_empty_lists_exhaust_the_budget() {
        // SEQUENCE OF (SEQUENCE OF NULL): each inner list claims 16383
        // items in two bytes.
        static INNER: Ty = Ty::SeqOf(
            Size {
                lb: 0,
                ub: None,
                ext: false,
            },
            &super::super::table::Comp {
                name: "n",
                tag: Tag::None,
                opt: false,
                stop: false,
                ty: &Ty::Null,
            },
        );
        static OUTER: Ty = Ty::SeqOf(
            Size {
                lb: 0,
                ub: None,
                ext: false,
            },
            &super::super::table::Comp {
                name: "l",
                tag: Tag::None,
                opt: false,
                stop: false,
                ty: &INNER,
            },
        );
        let mut buf = vec![0xbf, 0xff];
        for _ in 0..16383 {
            buf.extend_from_slice(&[0xbf, 0xff]);
        }
        let mut r = Reader::new(&buf);
        assert_eq!(decode(&mut r, &OUTER).map(|_| ()), Err(Error::TooMuchWork));
        // a few lists are fine
        let buf = [0x02, 0x01, 0x03];
        assert!(decode(&mut Reader::new(&buf), &OUTER).is_ok());
    }
}
