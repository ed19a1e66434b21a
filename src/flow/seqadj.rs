//! TCP sequence number adjustment after a payload size change, as the
//! kernel's nf_conntrack_seqadj.c does it: one record per direction, one
//! algorithm for every helper. The flow core computes the new record when a
//! helper's edit changes a segment's size ([`Way::after_resize`]); the
//! daemon hands it to the kernel, the replay applies it to later segments
//! and acknowledgements itself ([`SeqAdj::seq`], [`SeqAdj::ack`]).

/// `before(a, b)` of the kernel: a is earlier than b in sequence space.
fn before(a: u32, b: u32) -> bool {
    (a.wrapping_sub(b) as i32) < 0
}
fn after(a: u32, b: u32) -> bool {
    before(b, a)
}

/// One direction's correction (struct nf_ct_seqadj).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Way {
    pub correction_pos: u32,
    pub offset_before: i32,
    pub offset_after: i32,
}

impl Way {
    /// What `nf_ct_seqadj_set()` makes of `self` for a segment at `seq`
    /// whose size changed by `off`; `None` when it leaves it alone (no
    /// change, or a retransmission at or before the last correction: it
    /// gets the same edit again and must not be counted twice).
    pub fn after_resize(self, seq: u32, off: i32) -> Option<Way> {
        (off != 0 && (self.offset_before == self.offset_after || before(self.correction_pos, seq)))
            .then_some(Way {
                correction_pos: seq,
                offset_before: self.offset_after,
                offset_after: self.offset_after.wrapping_add(off),
            })
    }
}

/// Both directions, indexed by `Dir::index()`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SeqAdj {
    pub way: [Way; 2],
}

impl SeqAdj {
    pub fn active(&self) -> bool {
        self.way
            .iter()
            .any(|w| w.offset_before != 0 || w.offset_after != 0)
    }

    /// nf_ct_seqadj_set(): the segment starting at `seq` (as it arrived)
    /// in direction `dir` changed size by `off`. A second change at or
    /// before the last correction position is ignored, as in the kernel
    /// (a retransmission of an edited segment gets the same edit again and
    /// must not be counted twice).
    #[cfg(test)]
    pub fn set(&mut self, dir: usize, seq: u32, off: i32) {
        if let Some(w) = self.way.get_mut(dir) {
            if let Some(n) = w.after_resize(seq, off) {
                *w = n;
            }
        }
    }

    /// nf_ct_seq_adjust(): the new sequence number of a segment of `dir`.
    pub fn seq(&self, dir: usize, seq: u32) -> u32 {
        let w = self.way[dir & 1];
        let off = if after(seq, w.correction_pos) {
            w.offset_after
        } else {
            w.offset_before
        };
        seq.wrapping_add(off as u32)
    }

    /// The new acknowledgement number of a segment of `dir` (it
    /// acknowledges the other direction's bytes). SACK edges go the same
    /// way (nf_ct_sack_block_adjust).
    pub fn ack(&self, dir: usize, ack: u32) -> u32 {
        let o = self.way[(dir & 1) ^ 1];
        let off = if after(ack.wrapping_sub(o.offset_before as u32), o.correction_pos) {
            o.offset_after
        } else {
            o.offset_before
        };
        ack.wrapping_sub(off as u32)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_then_shifts_later_segments_and_acks() {
        let mut s = SeqAdj::default();
        // Client segment at 1000 (20 bytes) grows by 3.
        s.set(0, 1000, 3);
        assert_eq!(s.seq(0, 1000), 1000, "the edited segment keeps its seq");
        assert_eq!(s.seq(0, 1020), 1023, "later segments shift");
        assert_eq!(s.seq(0, 999), 999);
        // The server acks 1023 (what it received) → client expects 1020.
        assert_eq!(s.ack(1, 1023), 1020);
        // An ack of the edited segment's start is not shifted.
        assert_eq!(s.ack(1, 1000), 1000);
        // The reply direction is untouched.
        assert_eq!(s.seq(1, 5000), 5000);
        assert_eq!(s.ack(0, 5000), 5000);
    }

    #[test]
    fn retransmission_of_edited_segment() {
        let mut s = SeqAdj::default();
        s.set(0, 1000, 3);
        // The same segment again, edited the same way: not counted twice.
        s.set(0, 1000, 3);
        assert_eq!(s.way[0].offset_after, 3);
        assert_eq!(s.seq(0, 1000), 1000);
        // A second edit later accumulates; positions before it keep the
        // first offset.
        s.set(0, 2000, -2);
        assert_eq!(
            s.way[0],
            Way {
                correction_pos: 2000,
                offset_before: 3,
                offset_after: 1
            }
        );
        assert_eq!(s.seq(0, 1500), 1503);
        assert_eq!(s.seq(0, 2000), 2003);
        assert_eq!(s.seq(0, 2100), 2101);
        assert_eq!(s.ack(1, 2101), 2100);
        assert_eq!(s.ack(1, 2003), 2000);
    }

    #[test]
    fn wraps_around_sequence_space() {
        let mut s = SeqAdj::default();
        s.set(1, u32::MAX - 5, 10);
        assert_eq!(s.seq(1, 4), 14);
        assert_eq!(s.ack(0, 14), 4);
        assert!(s.active());
    }
}
