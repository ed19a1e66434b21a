//! The replay's model of conntrack: which flow a packet belongs to, in which
//! direction, with which NAT (the `--snat`/`--dnat` rules, nat-follow-master
//! for expected flows) and helper, and the expectation table. The packets of
//! a capture may be seen on either side of the router; every view of a flow
//! finds it.

use super::fasthash::FastMap;
use super::nat::{follow_master, Nat, Rules};
use super::table::{Live, Table};
use crate::flow::seqadj::SeqAdj;
use crate::flow::wire::{Tcp, TCP_ACK, TCP_SYN};
use crate::flow::Conntrack;
use helpers::{ConnView, CtState, CtStatus, Dir, HelperInfo, L4Proto, PrivData, Tuple};
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};

#[derive(Debug)]
pub struct Flow {
    pub conn: ConnView,
    /// The helper's slot.
    pub helper: Option<usize>,
    pub state: PrivData,
    pub seqadj: SeqAdj,
    pub fin: [bool; 2],
    pub rst: bool,
    /// The first packet has passed (the kernel confirmed the entry).
    pub confirmed: bool,
    pub seen_reply: bool,
    /// It matched an expectation.
    pub expected: bool,
    /// The command-line NAT rules that made its entry.
    pub rules: Rules,
    /// The lookup keys that name this flow (its entries in `Model::keys`).
    pub keys: Vec<Tuple>,
    /// When conntrack would drop the entry (capture time): the last
    /// packet's time plus the timeout of the state it left the entry in.
    pub deadline_ns: u64,
    /// The earliest deadline queued for it in `Model::timers`.
    armed_ns: u64,
}

/// Conntrack's default timeouts (nf_conntrack_proto_{tcp,udp,gre,generic}.c
/// of Linux 6.1), in seconds.
pub mod timeouts {
    pub const TCP_SYN_SENT: u64 = 120;
    pub const TCP_ESTABLISHED: u64 = 5 * 24 * 3600;
    /// FIN_WAIT (2 min) — longer than CLOSE_WAIT (60 s): one side closed.
    pub const TCP_FIN_WAIT: u64 = 120;
    /// Both sides closed: LAST_ACK (30 s) then TIME_WAIT (2 min) from the
    /// last ACK; the longer one.
    pub const TCP_TIME_WAIT: u64 = 120;
    /// After a RST.
    pub const TCP_CLOSE: u64 = 10;
    pub const UDP_UNREPLIED: u64 = 30;
    /// UDP_CT_REPLIED (the "stream" timeout).
    pub const UDP_REPLIED: u64 = 120;
    pub const GRE_UNREPLIED: u64 = 30;
    pub const GRE_REPLIED: u64 = 180;
}

impl Flow {
    pub fn closed(&self) -> bool {
        self.rst || (self.fin[0] && self.fin[1])
    }

    /// The timeout conntrack gives the entry after a packet that left it in
    /// its current state (a model of the TCP state machine's outcomes:
    /// never shorter than the kernel's, so an entry the kernel still has is
    /// never forgotten).
    pub fn timeout_s(&self) -> u64 {
        use timeouts::*;
        let seen_reply = self.seen_reply;
        match self.conn.orig.proto {
            L4Proto::Tcp if self.rst => TCP_CLOSE,
            L4Proto::Tcp if self.fin[0] && self.fin[1] => TCP_TIME_WAIT,
            L4Proto::Tcp if self.fin[0] || self.fin[1] => TCP_FIN_WAIT,
            L4Proto::Tcp if seen_reply => TCP_ESTABLISHED,
            L4Proto::Tcp => TCP_SYN_SENT,
            L4Proto::Udp if seen_reply => UDP_REPLIED,
            L4Proto::Udp => UDP_UNREPLIED,
            L4Proto::Gre if seen_reply => GRE_REPLIED,
            L4Proto::Gre => GRE_UNREPLIED,
        }
    }
    /// What conntrack would say of a packet of this flow in `dir`.
    pub fn conntrack(&self, dir: Dir) -> Conntrack {
        let mut status = 0;
        if self.expected {
            status |= CtStatus::EXPECTED;
        }
        if self.seen_reply || dir == Dir::Reply {
            status |= CtStatus::SEEN_REPLY;
        }
        if self.confirmed {
            status |= CtStatus::CONFIRMED;
        }
        if self.conn.src_nat() {
            status |= CtStatus::SRC_NAT;
        }
        if self.conn.dst_nat() {
            status |= CtStatus::DST_NAT;
        }
        if self.seqadj.active() {
            status |= CtStatus::SEQ_ADJUST;
        }
        // A packet of the reply direction marks the entry SEEN_REPLY before
        // any helper sees it (nf_conntrack_in): established.
        let ctinfo = if self.seen_reply || dir == Dir::Reply {
            CtState::Established
        } else if self.expected {
            CtState::Related
        } else {
            CtState::New
        };
        Conntrack {
            conn: self.conn,
            dir,
            ctinfo,
            status: CtStatus(status),
            zone: 0,
            state: self.state,
            seqadj: self.seqadj,
            outdev: None,
        }
    }
}

/// What a packet's tuple finds.
pub enum Lookup {
    Flow(usize, Dir),
    /// The tuple of a closed connection, with a new SYN: the old entry must
    /// go before a new one is made.
    Reused(usize),
}

/// A new flow an expectation let in.
pub struct Related {
    pub live: Live,
    pub conn: ConnView,
    pub master: ConnView,
}

pub struct Model {
    pub nat: Nat,
    /// (transport, port) → helper slot.
    pub ports: HashMap<(L4Proto, u16), usize>,
    /// The helper of each slot.
    pub infos: Vec<&'static HelperInfo>,
    pub flows: Flows,
    pub keys: FastMap<Tuple, (usize, Dir)>,
    /// Flow of each conntrack original tuple.
    pub by_orig: FastMap<Tuple, usize>,
    pub table: Table,
    /// How many flows each `--snat` / `--dnat` rule gave an entry.
    pub snat_hits: Vec<u64>,
    pub dnat_hits: Vec<u64>,
    /// Conntrack timeouts: `(deadline, flow)`, earliest first. An entry is
    /// queued when a flow is made and again when its deadline moves earlier
    /// than the one queued; a later deadline is re-queued when the earlier
    /// one comes due (so a packet costs no heap operation).
    timers: BinaryHeap<Reverse<(u64, usize)>>,
}

/// The live flows by id; ids are never reused.
#[derive(Debug, Default)]
pub struct Flows {
    map: FastMap<usize, Flow>,
    next: usize,
}

impl Flows {
    /// How many flows are live.
    pub fn len(&self) -> usize {
        self.map.len()
    }
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
    pub fn get(&self, fi: usize) -> Option<&Flow> {
        self.map.get(&fi)
    }
    pub fn get_mut(&mut self, fi: usize) -> Option<&mut Flow> {
        self.map.get_mut(&fi)
    }
    fn push(&mut self, f: Flow) -> usize {
        let fi = self.next;
        self.next += 1;
        self.map.insert(fi, f);
        fi
    }
    fn remove(&mut self, fi: usize) -> Option<Flow> {
        self.map.remove(&fi)
    }
}

impl std::ops::Index<usize> for Flows {
    type Output = Flow;
    fn index(&self, fi: usize) -> &Flow {
        match self.map.get(&fi) {
            Some(f) => f,
            None => panic!("flow {fi} is not live"),
        }
    }
}

impl std::ops::IndexMut<usize> for Flows {
    fn index_mut(&mut self, fi: usize) -> &mut Flow {
        match self.map.get_mut(&fi) {
            Some(f) => f,
            None => panic!("flow {fi} is not live"),
        }
    }
}

impl Model {
    pub fn new(
        nat: Nat,
        ports: HashMap<(L4Proto, u16), usize>,
        infos: Vec<&'static HelperInfo>,
    ) -> Self {
        Model {
            snat_hits: vec![0; nat.snat.len()],
            dnat_hits: vec![0; nat.dnat.len()],
            nat,
            ports,
            infos,
            flows: Flows::default(),
            keys: FastMap::default(),
            by_orig: FastMap::default(),
            table: Table::default(),
            timers: BinaryHeap::new(),
        }
    }

    /// The flow whose conntrack original tuple is `orig`.
    pub fn flow_of(&self, orig: &Tuple) -> Option<usize> {
        self.by_orig.get(orig).copied()
    }

    pub fn lookup(&self, t: &Tuple, syn_only: bool) -> Option<Lookup> {
        let &(fi, dir) = self.keys.get(t)?;
        Some(if syn_only && self.flows.get(fi)?.closed() {
            Lookup::Reused(fi)
        } else {
            Lookup::Flow(fi, dir)
        })
    }

    /// Forgets flow `fi` (its tuple is reused, or it timed out) and its
    /// expectations (nf_ct_remove_expectations() when a master goes).
    pub fn forget(&mut self, fi: usize) {
        if let Some(f) = self.flows.remove(fi) {
            if self.by_orig.get(&f.conn.orig) == Some(&fi) {
                self.by_orig.remove(&f.conn.orig);
            }
            for k in &f.keys {
                if self.keys.get(k).is_some_and(|v| v.0 == fi) {
                    self.keys.remove(k);
                }
            }
        }
        self.table.remove_master(fi);
    }

    /// A packet of flow `fi` at `now_ns` passed: conntrack refreshes the
    /// entry's timeout by the state the packet left it in.
    pub fn refresh(&mut self, fi: usize, now_ns: u64) {
        let Some(f) = self.flows.get_mut(fi) else {
            return;
        };
        f.deadline_ns = now_ns.saturating_add(f.timeout_s() * 1_000_000_000);
        if f.deadline_ns < f.armed_ns {
            f.armed_ns = f.deadline_ns;
            self.timers.push(Reverse((f.deadline_ns, fi)));
        }
    }

    /// The flows whose timeout passed at `now_ns`, earliest first; the
    /// caller forgets them (after releasing what it holds of them).
    pub fn due(&mut self, now_ns: u64) -> Vec<usize> {
        let mut due = Vec::new();
        while let Some(&Reverse((d, fi))) = self.timers.peek() {
            if d >= now_ns {
                break;
            }
            self.timers.pop();
            let Some(f) = self.flows.get_mut(fi) else {
                continue;
            };
            if f.armed_ns != d {
                continue; // superseded by an earlier entry
            }
            if f.deadline_ns < now_ns {
                f.armed_ns = u64::MAX;
                due.push(fi);
            } else {
                f.armed_ns = f.deadline_ns;
                self.timers.push(Reverse((f.deadline_ns, fi)));
            }
        }
        due
    }

    fn helper_for(&self, t: &Tuple) -> Option<usize> {
        let i = *self.ports.get(&(t.proto, t.dport))?;
        let h = self.infos.get(i)?;
        (if t.src.is_ipv4() { h.ipv4 } else { h.ipv6 }).then_some(i)
    }

    /// Creates the conntrack entry of a packet `t` that has none (with the
    /// expectation it matches, if any).
    pub fn create(&mut self, t: Tuple, tcp: Option<Tcp>) -> (usize, Dir, Option<Related>) {
        let syn_only = tcp.is_some_and(|x| x.flags & (TCP_SYN | TCP_ACK) == TCP_SYN);
        let flows = &self.flows;
        let found = self.table.find(&t, |l| {
            // The flow as it leaves the router, after nat-follow-master
            // (a capture taken behind the NAT) — or, from a third party the
            // expectation lets in (an IRC DCC peer, media from another
            // host), as the capture without NAT shows it: from its real
            // source straight to the saved address and port.
            let Some(n) = l.exp.nat else { return false };
            let m = flows[l.master].conn.tuple(n.dir.reverse());
            l.exp.proto == t.proto
                && (t.src == m.dst || l.exp.src.matches(t.src))
                && t.dst == m.src
                && t.dport == n.saved_port
                && l.exp.sport.is_none_or(|p| p == t.sport)
                && l.exp.dst.is_ipv4() == t.src.is_ipv4()
        });
        let expected = found.is_some();
        let mut related = None;
        let mut rules = Rules::default();
        let (conn, helper) = if let Some(l) = found {
            let arrival = if l.exp.matches(&t) {
                t
            } else {
                Tuple {
                    src: l.exp.src.exact().unwrap_or(t.src),
                    dst: l.exp.dst,
                    dport: l.exp.dport,
                    ..t
                }
            };
            let master = self.flows[l.master].conn;
            let conn = match &l.exp.nat {
                Some(n) => ConnView {
                    orig: arrival,
                    reply: follow_master(&master, n, arrival).inverse(),
                },
                None => {
                    let (c, r) = self.nat.new_conn_by(arrival);
                    rules = r;
                    c
                }
            };
            // Only the expectation's helper: the first packet of a related
            // flow is `ct state related`, which the product's `ct state new
            // … ct helper set` rules do not match.
            let helper = l
                .exp
                .helper
                .and_then(|name| self.infos.iter().position(|h| h.name == name));
            related = Some(Related {
                live: l,
                conn,
                master,
            });
            (conn, helper)
        } else {
            // The first packet we see decides the original direction,
            // except that a connection picked up in the middle (SYN/ACK
            // first, or data from a helper's service port) is turned
            // towards the service, as its SYN would have been.
            let synack = tcp.is_some_and(|x| x.flags & (TCP_SYN | TCP_ACK) == TCP_SYN | TCP_ACK);
            let from_service = t.proto == L4Proto::Tcp
                && !syn_only
                && self.helper_for(&t).is_none()
                && self.helper_for(&t.inverse()).is_some();
            let first = if synack || from_service {
                t.inverse()
            } else {
                t
            };
            let (conn, r) = self.nat.new_conn_by(first);
            rules = r;
            // The helper of the service port after DNAT (the product's rules
            // run in prerouting at priority filter, after dstnat).
            (conn, self.helper_for(&conn.reply.inverse()))
        };
        let fi = self.flows.push(Flow {
            conn,
            helper,
            state: PrivData::ZERO,
            seqadj: SeqAdj::default(),
            fin: [false; 2],
            rst: false,
            confirmed: false,
            seen_reply: false,
            expected,
            rules,
            keys: Vec::new(),
            deadline_ns: u64::MAX,
            armed_ns: u64::MAX,
        });
        if let Some(n) = rules.snat.and_then(|i| self.snat_hits.get_mut(i)) {
            *n += 1;
        }
        if let Some(n) = rules.dnat.and_then(|i| self.dnat_hits.get_mut(i)) {
            *n += 1;
        }
        self.by_orig.insert(conn.orig, fi);
        // What arrives in each direction, then what leaves (a capture
        // taken on the other side of the NAT).
        self.keys.insert(conn.orig, (fi, Dir::Original));
        self.keys.insert(conn.reply, (fi, Dir::Reply));
        self.keys
            .entry(conn.reply.inverse())
            .or_insert((fi, Dir::Original));
        self.keys
            .entry(conn.orig.inverse())
            .or_insert((fi, Dir::Reply));
        let dir = match self.keys.get(&t) {
            Some(&(i, d)) if i == fi => d,
            _ => Dir::Original,
        };
        // The capture's own view of the flow, when it is none of the above
        // (a third party whose source nat-follow-master rewrites).
        self.keys.entry(t).or_insert((fi, dir));
        self.keys.entry(t.inverse()).or_insert((fi, dir.reverse()));
        let mut mine = Vec::with_capacity(6);
        for k in [
            conn.orig,
            conn.reply,
            conn.reply.inverse(),
            conn.orig.inverse(),
            t,
            t.inverse(),
        ] {
            if self.keys.get(&k).is_some_and(|v| v.0 == fi) && !mine.contains(&k) {
                mine.push(k);
            }
        }
        if let Some(f) = self.flows.get_mut(fi) {
            f.keys = mine;
        }
        (fi, dir, related)
    }
}
