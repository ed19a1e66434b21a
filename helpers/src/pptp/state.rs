//! The per-connection PPTP state, in 16 bytes of the helper's private
//! data (see the module docs of [`super`] for why not 32).
//!
//! | byte | contents |
//! |---|---|
//! | 0 | high nibble: layout version (1); low nibble: [`SessionState`] |
//! | 1 | bit 0: the slot touched last (for eviction); other bits 0 |
//! | 2 ..= 8 | call slot 0 |
//! | 9 ..= 15 | call slot 1 |
//!
//! A call slot (7 bytes): byte 0 = [`CallState`] (low nibble), bit 4 = the
//! PAC→PNS expectation exists, bit 5 = the PNS→PAC expectation exists;
//! then, big-endian, `pns_in` (the PNS's call ID as the PNS knows it),
//! `pns_out` (as the PAC sees it: the NAT-rewritten one, or `pns_in`
//! without NAT) and `pac` (the PAC's call ID).
//!
//! All zero is a fresh connection. Bytes of another layout version, or
//! state numbers out of range, decode as fresh too: nothing here trusts
//! the bytes it is given (they come back from the kernel, but they are
//! ours to validate).

/// Bytes of private data the PPTP helper registers (`NFCTH_PRIV_DATA_LEN`).
pub const STATE_LEN: usize = 16;
/// Calls tracked per control connection.
pub const MAX_CALLS: usize = 2;
const VERSION: u8 = 1;
const SLOT_LEN: usize = 7;
const EXP_TO_PNS: u8 = 0x10;
const EXP_TO_PAC: u8 = 0x20;

/// The control connection's state, numbered as the kernel's
/// `enum pptp_ctrlsess_state`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub enum SessionState {
    #[default]
    None,
    Error,
    StopReq,
    Requested,
    Confirmed,
}

impl SessionState {
    pub const fn code(self) -> u8 {
        match self {
            SessionState::None => 0,
            SessionState::Error => 1,
            SessionState::StopReq => 2,
            SessionState::Requested => 3,
            SessionState::Confirmed => 4,
        }
    }
    pub const fn from_code(c: u8) -> Option<SessionState> {
        Some(match c {
            0 => SessionState::None,
            1 => SessionState::Error,
            2 => SessionState::StopReq,
            3 => SessionState::Requested,
            4 => SessionState::Confirmed,
            _ => return None,
        })
    }
}

/// One call's state, numbered as the kernel's `enum pptp_ctrlcall_state`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub enum CallState {
    #[default]
    None,
    Error,
    OutReq,
    OutConf,
    InReq,
    InRep,
    InConf,
    ClearReq,
}

impl CallState {
    pub const fn code(self) -> u8 {
        match self {
            CallState::None => 0,
            CallState::Error => 1,
            CallState::OutReq => 2,
            CallState::OutConf => 3,
            CallState::InReq => 4,
            CallState::InRep => 5,
            CallState::InConf => 6,
            CallState::ClearReq => 7,
        }
    }
    pub const fn from_code(c: u8) -> Option<CallState> {
        Some(match c {
            0 => CallState::None,
            1 => CallState::Error,
            2 => CallState::OutReq,
            3 => CallState::OutConf,
            4 => CallState::InReq,
            5 => CallState::InRep,
            6 => CallState::InConf,
            7 => CallState::ClearReq,
            _ => return None,
        })
    }
}

/// One call of the control connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct Call {
    pub state: CallState,
    /// The PAC→PNS GRE expectation (keyed by `pns_out`) exists.
    pub exp_to_pns: bool,
    /// The PNS→PAC GRE expectation (keyed by `pac`) exists.
    pub exp_to_pac: bool,
    pub pns_in: u16,
    pub pns_out: u16,
    pub pac: u16,
}

impl Call {
    /// Nothing to remember: the slot can be reused without removing
    /// anything.
    pub fn is_free(&self) -> bool {
        self.state == CallState::None && !self.exp_to_pns && !self.exp_to_pac
    }
    fn decode(b: &[u8]) -> Call {
        let at = |i: usize| b.get(i).copied().unwrap_or(0);
        let id = |i: usize| u16::from_be_bytes([at(i), at(i + 1)]);
        let Some(state) = CallState::from_code(at(0) & 0x0f) else {
            return Call::default();
        };
        Call {
            state,
            exp_to_pns: at(0) & EXP_TO_PNS != 0,
            exp_to_pac: at(0) & EXP_TO_PAC != 0,
            pns_in: id(1),
            pns_out: id(3),
            pac: id(5),
        }
    }
    fn encode(&self) -> [u8; SLOT_LEN] {
        let mut f = self.state.code();
        if self.exp_to_pns {
            f |= EXP_TO_PNS;
        }
        if self.exp_to_pac {
            f |= EXP_TO_PAC;
        }
        let [a, b] = self.pns_in.to_be_bytes();
        let [c, d] = self.pns_out.to_be_bytes();
        let [e, g] = self.pac.to_be_bytes();
        [f, a, b, c, d, e, g]
    }
}

/// The whole per-connection state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct State {
    pub session: SessionState,
    pub calls: [Call; MAX_CALLS],
    /// The slot touched last (0 or 1).
    pub recent: usize,
}

impl State {
    /// From the private data: the first [`STATE_LEN`] bytes count, missing
    /// ones are zero.
    pub fn decode(b: &[u8]) -> State {
        let mut buf = [0u8; STATE_LEN];
        for (dst, src) in buf.iter_mut().zip(b) {
            *dst = *src;
        }
        let [b0, b1, slots @ ..] = buf;
        if b0 >> 4 != VERSION {
            return State::default();
        }
        let Some(session) = SessionState::from_code(b0 & 0x0f) else {
            return State::default();
        };
        let (s0, s1) = slots.split_at(SLOT_LEN);
        State {
            session,
            calls: [Call::decode(s0), Call::decode(s1)],
            recent: usize::from(b1 & 1),
        }
    }

    /// The private data; bytes past [`STATE_LEN`] stay zero.
    pub fn encode(&self) -> [u8; STATE_LEN] {
        let mut out = [0u8; STATE_LEN];
        let head = [VERSION << 4 | self.session.code(), (self.recent & 1) as u8];
        let slots = self.calls.iter().flat_map(|c| c.encode());
        for (dst, src) in out.iter_mut().zip(head.into_iter().chain(slots)) {
            *dst = src;
        }
        out
    }

    /// The first slot whose call satisfies `f`.
    pub fn find(&self, f: impl Fn(&Call) -> bool) -> Option<usize> {
        self.calls.iter().position(|c| !c.is_free() && f(c))
    }

    pub fn touch(&mut self, slot: usize) {
        self.recent = slot & 1;
    }

    /// A slot for a new call: a free one, else one whose call is over
    /// (None, Error) or being cleared, else the one touched least recently.
    /// Returns the slot and the call that was there (whose expectations the
    /// caller removes), reset to default.
    pub fn alloc(&mut self) -> (usize, Option<Call>) {
        let pick = self
            .calls
            .iter()
            .position(Call::is_free)
            .or_else(|| {
                self.calls
                    .iter()
                    .position(|c| matches!(c.state, CallState::None | CallState::Error))
            })
            .or_else(|| {
                self.calls
                    .iter()
                    .position(|c| c.state == CallState::ClearReq)
            })
            .unwrap_or(1 - (self.recent & 1));
        let slot = pick.min(MAX_CALLS - 1);
        let old = self.calls.get_mut(slot).map(std::mem::take);
        self.touch(slot);
        (slot, old.filter(|c| !c.is_free()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(state: CallState, ids: (u16, u16, u16)) -> Call {
        Call {
            state,
            exp_to_pns: true,
            exp_to_pac: state == CallState::OutConf,
            pns_in: ids.0,
            pns_out: ids.1,
            pac: ids.2,
        }
    }

    #[test]
    fn round_trip_and_layout() {
        let s = State {
            session: SessionState::Confirmed,
            calls: [
                call(CallState::OutConf, (0x0100, 0x7531, 0x4001)),
                call(CallState::OutReq, (0x0102, 0x7532, 0)),
            ],
            recent: 1,
        };
        let b = s.encode();
        assert_eq!(
            b,
            [
                0x14, 1, //
                0x33, 0x01, 0x00, 0x75, 0x31, 0x40, 0x01, //
                0x12, 0x01, 0x02, 0x75, 0x32, 0x00, 0x00,
            ]
        );
        assert_eq!(State::decode(&b), s);
        // 32 bytes as the kernel hands them back: the tail is ignored.
        let mut long = [0u8; 32];
        long[..16].copy_from_slice(&b);
        assert_eq!(State::decode(&long), s);
    }

    #[test]
    fn zero_other_versions_and_bad_states_are_fresh() {
        assert_eq!(State::decode(&[0; 16]), State::default());
        assert_eq!(State::decode(&[]), State::default());
        assert_eq!(State::decode(&[0x24, 0, 0x33]), State::default());
        assert_eq!(State::decode(&[0x15, 0]), State::default(), "session 5");
        let s = State::decode(&[0x14, 0, 0x08, 1, 2, 3, 4, 5, 6]);
        assert_eq!(s.session, SessionState::Confirmed);
        assert!(s.calls[0].is_free(), "call state 8 is no call");
        // Short input: the missing bytes are zero.
        let s = State::decode(&[0x14, 1, 0x12, 0xab]);
        assert_eq!(s.calls[0].pns_in, 0xab00);
        assert_eq!(s.recent, 1);
    }

    #[test]
    fn any_bytes_decode_and_encode_stays_in_16() {
        let mut seed = 0x1234_5678u32;
        for _ in 0..5000 {
            let mut b = [0u8; 20];
            for x in &mut b {
                seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                *x = (seed >> 24) as u8;
            }
            b[0] = (b[0] & 0x0f) | 0x10;
            let s = State::decode(&b);
            let again = State::decode(&s.encode());
            assert_eq!(again, s);
        }
    }

    #[test]
    fn alloc_prefers_free_then_finished_then_clearing_then_oldest() {
        let mut s = State::default();
        assert_eq!(s.alloc(), (0, None));
        s.calls[0] = call(CallState::OutConf, (1, 1, 1));
        assert_eq!(s.alloc(), (1, None));
        s.calls[1] = call(CallState::OutConf, (2, 2, 2));
        s.touch(1);
        // Both busy: the least recently touched (0) goes.
        let (slot, old) = s.alloc();
        assert_eq!((slot, old.map(|c| c.pns_in)), (0, Some(1)));
        assert_eq!(s.recent, 0);
        s.calls[0] = call(CallState::OutConf, (3, 3, 3));
        s.calls[1].state = CallState::ClearReq;
        assert_eq!(s.alloc().0, 1, "the call being cleared goes first");
        s.calls[1] = call(CallState::Error, (4, 4, 4));
        s.calls[0].state = CallState::ClearReq;
        assert_eq!(s.alloc().0, 1, "a finished call before one being cleared");
    }

    #[test]
    fn find_skips_free_slots() {
        let mut s = State::default();
        assert_eq!(s.find(|c| c.pns_in == 0), None);
        s.calls[1] = call(CallState::InReq, (0, 0, 9));
        assert_eq!(s.find(|c| c.pns_in == 0), Some(1));
        assert_eq!(s.find(|c| c.pac == 9), Some(1));
    }
}
