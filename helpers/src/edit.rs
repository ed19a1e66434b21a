//! Byte-range edits of a payload.

/// Replace `len` bytes at `offset` of the payload by `new`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edit {
    pub offset: usize,
    pub len: usize,
    pub new: Vec<u8>,
}

impl Edit {
    pub fn new(offset: usize, len: usize, new: impl Into<Vec<u8>>) -> Self {
        Edit {
            offset,
            len,
            new: new.into(),
        }
    }
    /// How much this edit changes the payload length.
    pub fn delta(&self) -> isize {
        self.new.len() as isize - self.len as isize
    }
    /// The bytes this edit replaces, if they are inside `payload`.
    pub fn before<'a>(&self, payload: &'a [u8]) -> Option<&'a [u8]> {
        payload.get(self.offset..self.offset.checked_add(self.len)?)
    }
}

/// Why a set of edits cannot be applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EditError {
    OutOfBounds,
    Overlap,
}

/// Sum of the size changes of `edits`.
pub fn total_delta(edits: &[Edit]) -> isize {
    edits.iter().map(Edit::delta).sum()
}

/// Applies `edits` (in any order) to `payload`. Edits must lie inside the
/// payload and must not overlap.
pub fn apply(payload: &[u8], edits: &[Edit]) -> Result<Vec<u8>, EditError> {
    let mut order: Vec<&Edit> = edits.iter().collect();
    order.sort_by_key(|e| e.offset);
    let grow: usize = edits.iter().map(|e| e.new.len()).sum();
    let mut out = Vec::with_capacity(payload.len() + grow);
    let mut pos = 0usize;
    for e in order {
        if e.offset < pos {
            return Err(EditError::Overlap);
        }
        let end = e.offset.checked_add(e.len).ok_or(EditError::OutOfBounds)?;
        let keep = payload.get(pos..e.offset).ok_or(EditError::OutOfBounds)?;
        if end > payload.len() {
            return Err(EditError::OutOfBounds);
        }
        out.extend_from_slice(keep);
        out.extend_from_slice(&e.new);
        pos = end;
    }
    out.extend_from_slice(payload.get(pos..).ok_or(EditError::OutOfBounds)?);
    Ok(out)
}

/// Splits a stream that was edited as one piece back into segments.
///
/// `lens` are the lengths of the original segments whose concatenation was
/// edited into `edited`. Every segment but the last keeps its length (so
/// its TCP sequence number and length stay valid); the last one takes the
/// whole size change. Returns `None` if the edited stream became too short
/// for that.
pub fn resegment(edited: &[u8], lens: &[usize]) -> Option<Vec<Vec<u8>>> {
    let (last, head) = lens.split_last()?;
    let _ = last;
    let mut out = Vec::with_capacity(lens.len());
    let mut pos = 0usize;
    for &l in head {
        let end = pos.checked_add(l)?;
        out.push(edited.get(pos..end)?.to_vec());
        pos = end;
    }
    out.push(edited.get(pos..)?.to_vec());
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apply_in_any_order() {
        let p = b"PORT 10,0,0,1,4,1\r\n";
        // "10,0,0,1" at 5..13, the last port number "1" at 16.
        let e = [Edit::new(16, 1, "9,9"), Edit::new(5, 8, "192,0,2,7")];
        assert_eq!(apply(p, &e).unwrap(), b"PORT 192,0,2,7,4,9,9\r\n");
        assert_eq!(total_delta(&e), 3);
    }

    #[test]
    fn refuses_bad_edits() {
        assert_eq!(
            apply(b"abc", &[Edit::new(2, 5, "x")]),
            Err(EditError::OutOfBounds)
        );
        assert_eq!(
            apply(b"abcdef", &[Edit::new(0, 3, "x"), Edit::new(2, 1, "y")]),
            Err(EditError::Overlap)
        );
        assert_eq!(
            apply(b"abc", &[Edit::new(usize::MAX, 2, "x")]),
            Err(EditError::OutOfBounds)
        );
    }

    #[test]
    fn resegment_keeps_leading_lengths() {
        let s = resegment(b"PORT 192,0,2,7,4,1\r\n", &[7, 10]).unwrap();
        assert_eq!(s, vec![b"PORT 19".to_vec(), b"2,0,2,7,4,1\r\n".to_vec()]);
        assert!(resegment(b"abc", &[5, 1]).is_none());
    }
}
