//! The flow core: what happens to one packet of a helped connection, for
//! both drivers — the NFQUEUE worker (`cthelperd run`) and `cthelperd
//! replay`. Sans-IO: it reads no clock (the time is an argument), opens no
//! socket and keeps no global; what it needs from the world comes in as
//! arguments, what the world must do goes out as a [`Plan`].
//!
//! ```text
//!  driver                          flow core (Core::packet)                 helper
//!  ──────                          ────────────────────────                 ──────
//!  L3 packet + Conntrack ──▶ wire::parse ─▶ join held segments? ─▶ Packet ─▶ handle()
//!  (NFQA_CT / replay model)        │  retransmission of held data: drop      │ Env:
//!                                  │  not the next segment: release held     │ expect/unexpect/
//!  Table (expectation table) ◀─────┼──────────────── RecEnv (records) ◀──────┘ list/update
//!  (ctnetlink / replay model)      ▼
//!                      Outcome.incomplete? ── hold the unfinished tail (limits) ─▶ Plan{held}
//!                                  ▼
//!                      apply edits ─ resize rules ─ resegment ─ seqadj ─ wire::rebuild
//!                                  ▼
//!                      Plan: verdicts (accept/drop, new bytes), new private data,
//!                            conntrack timeout, sequence adjustment, expectation ops, events
//! ```
//!
//! The one port the core calls during a packet is the expectation [`Table`]:
//! `nf_ct_expect_related()`'s answer (a clash) decides the NAT port search
//! within the same packet, so it cannot wait for the plan. The daemon's
//! table talks to the kernel over ctnetlink (and keeps what must ride in the
//! verdict), the replay's is a model of the kernel's.
//!
//! A new protocol plugs in as a [`helpers::Helper`] in `helpers/` and one
//! line in `helpers::registry`; nothing here changes.

mod core;
pub mod seqadj;
pub mod wire;

pub use self::core::Core;

use helpers::{
    ConnView, CtState, CtStatus, Dir, Edit, Event, ExpectChange, ExpectError, ExpectPolicy,
    Expectation, Helper, HelperInfo, PrivData,
};
use seqadj::{SeqAdj, Way};
use std::net::IpAddr;

/// splitmix64: the random numbers a helper gets (`Env::random_u32`, for
/// the NAT port search: spread, not secrecy). Both drivers use it — the
/// daemon seeded at start, replay from `--seed` — so the same seed gives
/// the same ports.
#[derive(Debug, Clone)]
pub struct Rng(pub u64);

impl Rng {
    pub fn next_u32(&mut self) -> u32 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 32) as u32
    }
}

/// A helper as the core runs it: built from the configuration once.
#[derive(Debug)]
pub struct Slot {
    /// The name the kernel knows it by: the helper's own, or for the
    /// instances of a fan-out (`queues = N`) `ftp-1`, `ftp-2`… (see
    /// [`instance_name`]).
    pub name: &'static str,
    pub info: &'static HelperInfo,
    pub helper: Box<dyn Helper>,
    pub policies: Vec<ExpectPolicy>,
}

impl Slot {
    pub fn name(&self) -> &'static str {
        self.name
    }
    /// The registered private-data length (what the kernel keeps).
    pub fn priv_len(&self) -> usize {
        self.info.priv_len.min(helpers::PRIV_DATA_MAX)
    }
}

/// Builds the slots of the enabled helpers of `cfg`, one per helper
/// (replay: a capture knows no instances).
pub fn slots(cfg: &crate::config::Config) -> Vec<Slot> {
    cfg.enabled()
        .map(|h| Slot {
            name: h.info.name,
            info: h.info,
            helper: h.build(),
            policies: h.policies.clone(),
        })
        .collect()
}

/// Builds the slots the daemon serves: one per registered instance of each
/// enabled helper (`queues = N`: `ftp`, `ftp-1` … `ftp-{N-1}`, on queues
/// `queue` … `queue + N - 1`), each a helper of its own built from the
/// same configuration (all per-flow state is in the conntrack).
pub fn instance_slots(cfg: &crate::config::Config) -> Vec<Slot> {
    let mut out = Vec::new();
    for h in cfg.enabled() {
        for i in 0..h.queues.max(1) {
            out.push(Slot {
                name: instance_name(h.info.name, i),
                info: h.info,
                helper: h.build(),
                policies: h.policies.clone(),
            });
        }
    }
    out
}

/// The kernel name of instance `i` of helper `base`: `base` itself for 0,
/// else `base-i` (`ftp-1`). The kernel's NF_CT_HELPER_NAME_LEN is 16 with
/// the NUL: the configuration checks that `base` plus the suffix fit
/// (the longest built-in name, `snmp_trap`, leaves room for `-63`).
///
/// Interned: each distinct name is allocated once for the process's life
/// (at most 64 per helper), so slots and metric labels can hold a
/// `&'static str`.
pub fn instance_name(base: &'static str, i: u16) -> &'static str {
    use std::sync::{Mutex, OnceLock};
    if i == 0 {
        return base;
    }
    static NAMES: OnceLock<Mutex<Vec<&'static str>>> = OnceLock::new();
    let want = format!("{base}-{i}");
    let mut names = match NAMES.get_or_init(Default::default).lock() {
        Ok(n) => n,
        Err(p) => p.into_inner(),
    };
    if let Some(n) = names.iter().find(|n| **n == want) {
        return n;
    }
    let n: &'static str = Box::leak(want.into_boxed_str());
    names.push(n);
    n
}

/// The longest name instance `queues - 1` of `base` has (what the kernel
/// must take: at most 15 bytes).
pub fn longest_instance_name(base: &str, queues: u16) -> usize {
    match queues {
        0 | 1 => base.len(),
        n => base.len() + 1 + (n - 1).to_string().len(),
    }
}

/// How long and how much the core holds of a message split over segments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Most payload bytes held per flow direction (`hold_bytes`).
    pub bytes: usize,
    /// Most segments held per flow direction.
    pub segments: usize,
    /// Longest a segment is held, in nanoseconds (`hold_ms`).
    pub hold_ns: u64,
    /// Most payload bytes held over all flows of one core (one queue):
    /// [`Limits::FLOWS`] × `bytes`. A hold that would go past it is not
    /// made (the message passes as it is, `hold_overflow`). The kernel's
    /// queue length bounds the held packets too, but not their size.
    pub total: usize,
}

impl Limits {
    /// Most segments held for one flow direction.
    pub const SEGMENTS: usize = 16;
    /// How many full per-flow holds one core keeps at most (`total`).
    pub const FLOWS: usize = 64;

    pub fn from_config(d: &crate::config::DaemonConfig) -> Self {
        Limits {
            bytes: d.hold_bytes as usize,
            segments: Self::SEGMENTS,
            hold_ns: u64::from(d.hold_ms) * 1_000_000,
            total: (d.hold_bytes as usize).saturating_mul(Self::FLOWS),
        }
    }
}

/// The connection a packet belongs to, as conntrack sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Conntrack {
    pub conn: ConnView,
    /// The packet's direction.
    pub dir: Dir,
    pub ctinfo: CtState,
    pub status: CtStatus,
    pub zone: u16,
    /// The helper's private data.
    pub state: PrivData,
    /// The TCP sequence adjustment the connection has.
    pub seqadj: SeqAdj,
    /// The interface the packet leaves by, when known.
    pub outdev: Option<u32>,
}

/// The expectation table of the packet's master connection, and the network
/// facts a helper may ask for: a [`helpers::Env`] the driver provides (it
/// knows which connection the packet belongs to), plus what the table did
/// on its own (evictions, refusals) as events.
pub trait Table: helpers::Env {
    fn take_events(&mut self) -> Vec<Event> {
        Vec::new()
    }
}

/// What to do with one packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict<T> {
    /// The driver's handle of the packet (NFQUEUE id, capture frame).
    pub tag: T,
    pub accept: bool,
    /// The packet's new bytes (L3), when they changed.
    pub packet: Option<Vec<u8>>,
    /// The packet as it arrived (L3).
    pub original: Vec<u8>,
}

/// What a helper did, over all the calls that made up one message.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Call {
    /// How many segments were joined (1: the packet alone).
    pub segments: usize,
    /// The joined payload as it arrived.
    pub payload: Vec<u8>,
    /// The edits applied (offsets into `payload`); empty when none were.
    pub edits: Vec<Edit>,
    /// Expectations made and not withdrawn.
    pub created: Vec<Expectation>,
    /// Expectations of the connection removed (made earlier).
    pub removed: Vec<Expectation>,
    /// Expectations changed.
    pub changed: Vec<(Expectation, ExpectChange)>,
    pub drop: bool,
}

/// What the driver must do after one packet (or one release of held
/// segments).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan<T> {
    /// The helper's slot.
    pub helper: usize,
    /// The connection, as of the packet the plan is for.
    pub ct: Conntrack,
    /// In the order the packets go out. Empty when the packet is held.
    pub verdicts: Vec<Verdict<T>>,
    /// The packet is held until the rest of its message arrives.
    pub held: bool,
    /// The helper call(s) this plan completes; `None` when no helper ran.
    pub call: Option<Call>,
    /// Counted and logged by the driver, in order.
    pub events: Vec<Event>,
    /// New private data (when it changed).
    pub state: Option<PrivData>,
    /// New lifetime of the connection, seconds (CTA_TIMEOUT).
    pub ct_timeout: Option<u32>,
    /// New sequence adjustment of `ct.dir` (a TCP size change).
    pub seqadj: Option<Way>,
}

impl<T> Plan<T> {
    fn new(helper: usize, ct: Conntrack) -> Self {
        Plan {
            helper,
            ct,
            verdicts: Vec::new(),
            held: false,
            call: None,
            events: Vec::new(),
            state: None,
            ct_timeout: None,
            seqadj: None,
        }
    }
}

/// Wraps the driver's [`Table`] for one helper call and records what the
/// helper did through it.
struct RecEnv<'a> {
    table: &'a mut dyn Table,
    created: Vec<Expectation>,
    removed: Vec<Expectation>,
    changed: Vec<(Expectation, ExpectChange)>,
}

impl<'a> RecEnv<'a> {
    fn new(table: &'a mut dyn Table) -> Self {
        RecEnv {
            table,
            created: Vec::new(),
            removed: Vec::new(),
            changed: Vec::new(),
        }
    }
}

impl helpers::Env for RecEnv<'_> {
    fn expect(&mut self, exp: &Expectation) -> Result<(), ExpectError> {
        let r = self.table.expect(exp);
        if r.is_ok() {
            self.created.retain(|e| !e.same_as(exp));
            self.created.push(exp.clone());
        }
        r
    }
    fn unexpect(&mut self, exp: &Expectation) -> bool {
        let found = self.table.unexpect(exp);
        if found {
            match self.created.iter().position(|e| e.same_as(exp)) {
                Some(i) => {
                    self.created.remove(i);
                }
                None => self.removed.push(exp.clone()),
            }
        }
        found
    }
    fn expectations(&mut self) -> Vec<Expectation> {
        self.table.expectations()
    }
    fn update(&mut self, exp: &Expectation, change: ExpectChange) -> bool {
        let found = self.table.update(exp, change);
        if found {
            self.changed.push((exp.clone(), change));
        }
        found
    }
    fn random_u32(&mut self) -> u32 {
        self.table.random_u32()
    }
    fn route_oif(&mut self, addr: IpAddr) -> Option<u32> {
        self.table.route_oif(addr)
    }
    fn broadcast_prefix(&mut self, broadcast: IpAddr) -> Option<u8> {
        self.table.broadcast_prefix(broadcast)
    }
}
