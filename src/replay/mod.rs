//! `cthelperd replay`: the helpers over a capture, with a model of
//! conntrack, NAT, the expectation table and TCP sequence adjustment
//! (docs/replay.md).

pub mod capture;
pub mod nat;
mod output;
pub mod packet;
pub mod seqadj;
pub mod table;

use crate::config::Config;
use anyhow::{bail, Context, Result};
use helpers::edit::{apply, resegment};
use helpers::{ConnView, Dir, Event, ExpectPolicy, Helper, L4Proto, Packet, PrivData, Tuple};
use nat::{follow_master, Dnat, Nat, Snat};
use output::{lossy, EditRec, EventRec, ExpRec, HelperRec, RelatedRec};
use packet::{Decoded, Rewrite, TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN};
use seqadj::SeqAdj;
use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use table::{Rng, Table, TableEnv};

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
}

#[derive(clap::Args, Debug)]
pub struct Args {
    /// pcap or pcapng file.
    pub file: PathBuf,
    /// Output format: text blocks or JSON Lines.
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    /// Source NAT of a client prefix to an address, ports kept
    /// (masquerade-like): `10.0.0.0/24=203.0.113.1`. Repeatable; v4 or v6.
    #[arg(long, value_name = "PREFIX=ADDR")]
    pub snat: Vec<Snat>,
    /// Destination NAT of a service: `203.0.113.1:21=10.0.1.2:21`,
    /// `[2001:db8::1]:21=[fd00::2]:21`. Repeatable.
    #[arg(long, value_name = "ADDR:PORT=ADDR:PORT")]
    pub dnat: Vec<Dnat>,
    /// Run helper NAME on PORT too (overrides the configured owner of that
    /// port): `ftp:2121`. Repeatable.
    #[arg(long = "helper", value_name = "NAME:PORT")]
    pub helpers: Vec<String>,
    /// Write every packet as it would leave the router to this pcapng file.
    #[arg(long, value_name = "OUT.pcapng")]
    pub write: Option<PathBuf>,
    /// Seed of the random numbers the helpers get (NAT port search).
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
}

pub fn run(cfg: Config, args: Args) -> Result<ExitCode> {
    let buf = std::fs::read(&args.file)
        .with_context(|| format!("cannot read {}", args.file.display()))?;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut r = Replay::new(&cfg, &args, &mut out)?;
    let res = r.run(&buf);
    let summary = r.summary();
    let written = r.writer.take();
    drop(r);
    out.flush()?;
    res.with_context(|| args.file.display().to_string())?;
    if let (Some(path), Some(w)) = (&args.write, written) {
        std::fs::write(path, &w.out).with_context(|| format!("cannot write {}", path.display()))?;
    }
    eprintln!("{summary}");
    Ok(ExitCode::SUCCESS)
}

/// A built helper and its policies.
struct Slot {
    name: &'static str,
    helper: Box<dyn Helper>,
    policies: Vec<ExpectPolicy>,
    ipv4: bool,
    ipv6: bool,
}

/// A segment waiting for the rest of a message, or on its way out.
#[derive(Debug, Clone)]
struct Seg {
    frame: u64,
    ts_ns: u64,
    iface: usize,
    data: Vec<u8>,
    dec: Decoded,
    orig_len: u32,
}

impl Seg {
    fn payload(&self) -> &[u8] {
        self.dec.payload(&self.data)
    }
    fn next_seq(&self) -> Option<u32> {
        let t = self.dec.tcp?;
        Some(t.seq.wrapping_add(self.payload().len() as u32))
    }
}

/// Whether `seg` lies inside the held segments `held` (the sender
/// retransmitted data that was never ACKed because it is held).
fn held_retransmission(held: &[Seg], seg: &Seg) -> bool {
    let (Some(first), Some(end)) = (
        held.first().and_then(|s| s.dec.tcp).map(|t| t.seq),
        held.last().and_then(Seg::next_seq),
    ) else {
        return false;
    };
    let (Some(t), len) = (seg.dec.tcp, seg.payload().len()) else {
        return false;
    };
    let size = end.wrapping_sub(first);
    let off = t.seq.wrapping_sub(first);
    len > 0 && off < size && (len as u32) <= size - off
}

#[derive(Debug)]
struct Flow {
    conn: ConnView,
    helper: Option<usize>,
    state: PrivData,
    seqadj: SeqAdj,
    hold: [Vec<Seg>; 2],
    fin: [bool; 2],
    rst: bool,
}

impl Flow {
    fn closed(&self) -> bool {
        self.rst || (self.fin[0] && self.fin[1])
    }
}

#[derive(Debug, Default)]
struct Stats {
    packets: u64,
    skipped: u64,
    flows: u64,
    helped: u64,
    related: u64,
    edits: u64,
    expectations: u64,
    held: u64,
    dropped: u64,
}

struct Replay<'o> {
    nat: Nat,
    slots: Vec<Slot>,
    ports: HashMap<(L4Proto, u16), usize>,
    flows: Vec<Flow>,
    keys: HashMap<Tuple, (usize, Dir)>,
    table: Table,
    rng: Rng,
    hold_bytes: usize,
    format: Format,
    out: &'o mut dyn Write,
    writer: Option<capture::Writer>,
    writer_ifaces: usize,
    stats: Stats,
}

/// Most segments held per flow direction.
const HOLD_SEGMENTS: usize = 8;

impl<'o> Replay<'o> {
    fn new(cfg: &Config, args: &Args, out: &'o mut dyn Write) -> Result<Self> {
        let mut slots: Vec<Slot> = Vec::new();
        let mut ports = HashMap::new();
        let slot_of = |hc: &crate::config::HelperConfig, slots: &mut Vec<Slot>| -> usize {
            if let Some(i) = slots.iter().position(|s| s.name == hc.info.name) {
                return i;
            }
            slots.push(Slot {
                name: hc.info.name,
                helper: hc.build(),
                policies: hc.policies.clone(),
                ipv4: hc.info.ipv4,
                ipv6: hc.info.ipv6,
            });
            slots.len() - 1
        };
        for hc in cfg.enabled() {
            let i = slot_of(hc, &mut slots);
            for &p in &hc.ports {
                for &l4 in hc.info.l4 {
                    ports.insert((l4, p), i);
                }
            }
        }
        for h in &args.helpers {
            let (name, port) = h
                .split_once(':')
                .with_context(|| format!("--helper takes NAME:PORT, not `{h}`"))?;
            let Some(hc) = cfg.helper(name) else {
                let known: Vec<&str> = cfg.helpers.iter().map(|h| h.info.name).collect();
                bail!("unknown helper `{name}` (known: {})", known.join(", "));
            };
            let port: u16 = port
                .parse()
                .ok()
                .filter(|p| *p != 0)
                .with_context(|| format!("bad port in --helper `{h}`"))?;
            let i = slot_of(hc, &mut slots);
            for &l4 in hc.info.l4 {
                ports.insert((l4, port), i);
            }
        }
        Ok(Replay {
            nat: Nat {
                snat: args.snat.clone(),
                dnat: args.dnat.clone(),
            },
            slots,
            ports,
            flows: Vec::new(),
            keys: HashMap::new(),
            table: Table::default(),
            rng: Rng(args.seed),
            hold_bytes: cfg.daemon.hold_bytes as usize,
            format: args.format,
            out,
            writer: args.write.as_ref().map(|_| capture::Writer::new(&[])),
            writer_ifaces: 0,
            stats: Stats::default(),
        })
    }

    fn summary(&self) -> String {
        let s = &self.stats;
        format!(
            "replay: {} packets ({} not TCP/UDP), {} flows, {} helped flows, {} related flows, {} edits, {} expectations, {} held segments, {} dropped",
            s.packets, s.skipped, s.flows, s.helped, s.related, s.edits, s.expectations, s.held, s.dropped
        )
    }

    fn run(&mut self, buf: &[u8]) -> Result<()> {
        let mut reader = capture::Reader::new(buf)?;
        while let Some(f) = reader.next_frame()? {
            if let Some(w) = &mut self.writer {
                while self.writer_ifaces < reader.interfaces.len() {
                    w.add_interface(reader.interfaces[self.writer_ifaces]);
                    self.writer_ifaces += 1;
                }
            }
            self.frame(&f)?;
        }
        // The end of the capture: whatever is held goes out as it is.
        for fi in 0..self.flows.len() {
            self.flush(fi)?;
        }
        Ok(())
    }

    fn write_raw(&mut self, iface: usize, ts: u64, data: &[u8], orig_len: u32) {
        if let Some(w) = &mut self.writer {
            w.packet(iface, ts, data, orig_len);
        }
    }

    fn frame(&mut self, f: &capture::Frame<'_>) -> Result<()> {
        self.stats.packets += 1;
        for gone in self.table.expire(f.ts_ns) {
            tracing::debug!("expectation of frame {} timed out", gone.frame);
        }
        let dec = match packet::decode(f.linktype, f.data, f.orig_len) {
            Ok(d) => d,
            Err(why) => {
                tracing::debug!("frame {}: {}", f.number, why.name());
                self.stats.skipped += 1;
                self.write_raw(f.iface, f.ts_ns, f.data, f.orig_len);
                return Ok(());
            }
        };
        let t = Tuple {
            src: dec.src,
            dst: dec.dst,
            proto: dec.proto,
            sport: dec.sport,
            dport: dec.dport,
        };
        let (fi, dir) = self.conntrack(t, &dec, f.number)?;
        if let Some(tcp) = dec.tcp {
            let fl = &mut self.flows[fi];
            if tcp.flags & TCP_RST != 0 {
                fl.rst = true;
            }
            if tcp.flags & TCP_FIN != 0 {
                fl.fin[dir.index()] = true;
            }
        }
        let seg = Seg {
            frame: f.number,
            ts_ns: f.ts_ns,
            iface: f.iface,
            data: f.data.to_vec(),
            dec,
            orig_len: f.orig_len,
        };
        // A first fragment only tells conntrack its flow (the kernel
        // reassembles before conntrack, we do not): no helper, written
        // unchanged.
        let helped = self.flows[fi].helper.is_some()
            && !seg.dec.truncated
            && !seg.dec.fragment
            && !seg.payload().is_empty();
        if helped {
            self.helped(fi, dir, seg, f.ts_ns)
        } else {
            self.emit(fi, dir, &seg, None)
        }
    }

    fn helper_for(&self, t: &Tuple) -> Option<usize> {
        let i = *self.ports.get(&(t.proto, t.dport))?;
        let s = &self.slots[i];
        (if t.src.is_ipv4() { s.ipv4 } else { s.ipv6 }).then_some(i)
    }

    /// Finds the conntrack entry of a packet, or creates it (with the
    /// expectation it matches, if any).
    fn conntrack(&mut self, t: Tuple, dec: &Decoded, frame: u64) -> Result<(usize, Dir)> {
        let syn_only = dec
            .tcp
            .is_some_and(|x| x.flags & (TCP_SYN | TCP_ACK) == TCP_SYN);
        if let Some(&(fi, dir)) = self.keys.get(&t) {
            if !(syn_only && self.flows[fi].closed()) {
                return Ok((fi, dir));
            }
            // A new connection reusing the tuple of a closed one.
            self.flush(fi)?;
            self.keys.retain(|_, v| v.0 != fi);
            self.table.remove_master(fi);
        }
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
                && (t.src == m.dst || l.exp.src.is_none_or(|s| s == t.src))
                && t.dst == m.src
                && t.dport == n.saved_port
                && l.exp.sport.is_none_or(|p| p == t.sport)
                && l.exp.dst.is_ipv4() == t.src.is_ipv4()
        });
        let (conn, helper) = if let Some(l) = found {
            let arrival = if table::matches(&l.exp, &t) {
                t
            } else {
                Tuple {
                    src: l.exp.src.unwrap_or(t.src),
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
                None => self.nat.new_conn(arrival),
            };
            // Only the expectation's helper: the first packet of a related
            // flow is `ct state related`, which the product's `ct state new
            // … ct helper set` rules do not match.
            let helper = l
                .exp
                .helper
                .and_then(|name| self.slots.iter().position(|s| s.name == name));
            self.stats.related += 1;
            let rec = RelatedRec {
                kind: "related",
                packet: frame,
                flow: conn.orig.to_string(),
                reply: conn.reply.to_string(),
                master: master.orig.to_string(),
                expected_by: l.frame,
                expectation: ExpRec::from(&l.exp),
                helper: helper.map(|i| self.slots[i].name),
            };
            self.print(&rec, rec.text())?;
            (conn, helper)
        } else {
            // The first packet we see decides the original direction,
            // except that a connection picked up in the middle (SYN/ACK
            // first, or data from a helper's service port) is turned
            // towards the service, as its SYN would have been.
            let synack = dec
                .tcp
                .is_some_and(|x| x.flags & (TCP_SYN | TCP_ACK) == TCP_SYN | TCP_ACK);
            let from_service = t.proto == L4Proto::Tcp
                && !syn_only
                && self.helper_for(&t).is_none()
                && self.helper_for(&t.inverse()).is_some();
            let first = if synack || from_service {
                t.inverse()
            } else {
                t
            };
            let conn = self.nat.new_conn(first);
            // The helper of the service port after DNAT (the product's rules
            // run in prerouting at priority filter, after dstnat).
            (conn, self.helper_for(&conn.reply.inverse()))
        };
        let fi = self.flows.len();
        self.flows.push(Flow {
            conn,
            helper,
            state: PrivData::ZERO,
            seqadj: SeqAdj::default(),
            hold: [Vec::new(), Vec::new()],
            fin: [false; 2],
            rst: false,
        });
        self.stats.flows += 1;
        if helper.is_some() {
            self.stats.helped += 1;
        }
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
        Ok((fi, dir))
    }

    fn print(&mut self, rec: &impl serde::Serialize, text: String) -> Result<()> {
        match self.format {
            Format::Json => {
                serde_json::to_writer(&mut *self.out, rec)?;
                self.out.write_all(b"\n")?;
            }
            Format::Text => self.out.write_all(text.as_bytes())?,
        }
        Ok(())
    }

    /// Lets every held segment of a flow go out unchanged.
    fn flush(&mut self, fi: usize) -> Result<()> {
        for d in [Dir::Original, Dir::Reply] {
            let segs = std::mem::take(&mut self.flows[fi].hold[d.index()]);
            for s in &segs {
                self.emit(fi, d, s, None)?;
            }
        }
        Ok(())
    }

    /// A payload-carrying packet of a flow with a helper.
    fn helped(&mut self, fi: usize, dir: Dir, seg: Seg, now: u64) -> Result<()> {
        let d = dir.index();
        let mut segs = std::mem::take(&mut self.flows[fi].hold[d]);
        let mut events: Vec<Event> = Vec::new();
        if held_retransmission(&segs, &seg) {
            // As the daemon: a retransmission of held data is dropped, the
            // held original goes out when the message is whole.
            tracing::debug!("frame {}: retransmission of held data dropped", seg.frame);
            self.stats.dropped += 1;
            self.flows[fi].hold[d] = segs;
            return Ok(());
        }
        if let Some(last) = segs.last() {
            if last.next_seq() != seg.dec.tcp.map(|t| t.seq) {
                events.push(Event::new(
                    "hold-released",
                    format!(
                        "frame {} is not the next segment: {} held segment(s) pass unchanged",
                        seg.frame,
                        segs.len()
                    ),
                ));
                for s in &segs {
                    self.emit(fi, dir, s, None)?;
                }
                segs.clear();
            }
        }
        segs.push(seg);
        let payload: Vec<u8> = segs
            .iter()
            .flat_map(|s| s.payload().iter().copied())
            .collect();
        let first = &segs[0];
        let last = &segs[segs.len() - 1];
        let frame = last.frame;
        let flow = &self.flows[fi];
        let conn = flow.conn;
        let Some(si) = flow.helper else {
            return Ok(());
        };
        let pkt = Packet {
            conn,
            dir,
            payload: &payload,
            tcp_seq: first.dec.tcp.map(|t| t.seq),
            state: flow.state,
        };
        let snapshot = self.table.clone();
        let rng = self.rng.clone();
        let slot = &self.slots[si];
        let mut env = TableEnv {
            table: &mut self.table,
            rng: &mut self.rng,
            master: fi,
            policies: &slot.policies,
            now_ns: now,
            frame,
            events: Vec::new(),
        };
        let outcome = slot.helper.handle(&pkt, &mut env);
        let env_events = env.events;
        let helper_name = slot.name;
        let tcp = first.dec.tcp.is_some();
        if outcome.need_more && tcp {
            // Undo what the call did: it will be made again with more.
            self.table = snapshot;
            self.rng = rng;
            if segs.len() < HOLD_SEGMENTS && payload.len() <= self.hold_bytes {
                self.stats.held += 1;
                self.flows[fi].hold[d] = segs;
                return Ok(());
            }
            let ev = Event::new(
                "hold-overflow",
                format!(
                    "{} segment(s), {} bytes held: passed unchanged",
                    segs.len(),
                    payload.len()
                ),
            );
            events.push(ev);
            let rec = self.record(
                fi,
                dir,
                helper_name,
                &segs,
                &payload,
                &[],
                &[],
                &events,
                false,
            );
            self.print(&rec, rec.text())?;
            for s in &segs {
                self.emit(fi, dir, s, None)?;
            }
            return Ok(());
        }
        events.extend(env_events);
        events.extend(outcome.events.iter().cloned());
        if let Some(st) = outcome.state {
            self.flows[fi].state = st;
        }
        let lens: Vec<usize> = segs.iter().map(|s| s.payload().len()).collect();
        let mut new: Option<Vec<Vec<u8>>> = None;
        if !outcome.edits.is_empty() {
            match apply(&payload, &outcome.edits)
                .ok()
                .and_then(|e| resegment(&e, &lens))
            {
                Some(v) => new = Some(v),
                None => events.push(Event::new(
                    "bad-edits",
                    "the helper's edits do not fit the payload: passed unchanged",
                )),
            }
        }
        let delta = outcome.delta();
        if new.is_some() && delta != 0 {
            if let Some(t) = last.dec.tcp {
                if conn.nat() {
                    self.flows[fi].seqadj.set(d, t.seq, delta as i32);
                } else {
                    events.push(Event::new(
                        "length-change-without-nat",
                        "payload size changed on a connection without NAT: the kernel would not adjust sequence numbers",
                    ));
                }
            }
        }
        let edits = if new.is_some() {
            &outcome.edits[..]
        } else {
            &[]
        };
        self.stats.edits += edits.len() as u64;
        self.stats.expectations += outcome.expectations.len() as u64;
        if !edits.is_empty()
            || !outcome.expectations.is_empty()
            || !events.is_empty()
            || outcome.drop
        {
            let rec = self.record(
                fi,
                dir,
                helper_name,
                &segs,
                &payload,
                edits,
                &outcome.expectations,
                &events,
                outcome.drop,
            );
            self.print(&rec, rec.text())?;
        }
        if outcome.drop {
            self.stats.dropped += segs.len() as u64;
            return Ok(());
        }
        match new {
            Some(parts) => {
                for (s, p) in segs.iter().zip(parts) {
                    self.emit(fi, dir, s, Some(p))?;
                }
            }
            None => {
                for s in &segs {
                    self.emit(fi, dir, s, None)?;
                }
            }
        }
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn record(
        &self,
        fi: usize,
        dir: Dir,
        helper: &'static str,
        segs: &[Seg],
        payload: &[u8],
        edits: &[helpers::Edit],
        exps: &[helpers::Expectation],
        events: &[Event],
        drop: bool,
    ) -> HelperRec {
        let conn = self.flows[fi].conn;
        let mut edits: Vec<&helpers::Edit> = edits.iter().collect();
        edits.sort_by_key(|e| e.offset);
        HelperRec {
            kind: "helper",
            packet: segs.last().map_or(0, |s| s.frame),
            segments: (segs.len() > 1).then(|| segs.iter().map(|s| s.frame).collect()),
            helper,
            flow: conn.orig.to_string(),
            reply: conn.reply.to_string(),
            dir: dir.name(),
            edits: edits
                .iter()
                .map(|e| EditRec {
                    offset: e.offset,
                    before: lossy(e.before(payload).unwrap_or_default()),
                    after: lossy(&e.new),
                })
                .collect(),
            expectations: exps.iter().map(ExpRec::from).collect(),
            events: events.iter().map(EventRec::from).collect(),
            drop,
        }
    }

    /// A packet leaves: NAT of the headers, sequence adjustment, new
    /// payload; written when `--write` asked for it.
    fn emit(&mut self, fi: usize, dir: Dir, s: &Seg, payload: Option<Vec<u8>>) -> Result<()> {
        if self.writer.is_none() {
            return Ok(());
        }
        if s.dec.fragment {
            // Its L4 checksum covers the whole datagram: as it was.
            self.write_raw(s.iface, s.ts_ns, &s.data, s.orig_len);
            return Ok(());
        }
        let flow = &self.flows[fi];
        let c = flow.conn;
        let (src, dst) = match dir {
            Dir::Original => ((c.reply.dst, c.reply.dport), (c.reply.src, c.reply.sport)),
            Dir::Reply => ((c.orig.dst, c.orig.dport), (c.orig.src, c.orig.sport)),
        };
        let dec = &s.dec;
        let mut rw = Rewrite {
            src: ((dec.src, dec.sport) != src).then_some(src),
            dst: ((dec.dst, dec.dport) != dst).then_some(dst),
            payload,
            ..Rewrite::default()
        };
        if let Some(t) = dec.tcp {
            let sa = &flow.seqadj;
            if sa.active() {
                let d = dir.index();
                let seq = sa.seq(d, t.seq);
                rw.seq = (seq != t.seq).then_some(seq);
                if t.flags & TCP_ACK != 0 {
                    // The capture is the endpoints' view without NAT: its
                    // ack (and SACK edges) count the other direction's
                    // bytes as they were sent. Behind the NAT the sender
                    // received the edited stream, so the ack that arrives
                    // at the router counts edited bytes; the kernel shifts
                    // it back (nf_ct_seq_adjust / nf_ct_sack_adjust).
                    let back = |v: u32| sa.ack(d, sa.seq(d ^ 1, v));
                    let ack = back(t.ack);
                    rw.ack = (ack != t.ack).then_some(ack);
                    rw.sack = packet::sack_edges(&s.data, dec)
                        .into_iter()
                        .map(|(at, v)| (at, v, back(v)))
                        .filter(|&(_, old, new)| old != new)
                        .map(|(at, _, new)| (at, new))
                        .collect();
                }
            }
        }
        let bytes = if rw.is_empty() {
            None
        } else {
            packet::rebuild(&s.data, dec, &rw)
        };
        let data = bytes.as_deref().unwrap_or(&s.data);
        let len = if bytes.is_some() {
            data.len() as u32
        } else {
            s.orig_len
        };
        if let Some(w) = &mut self.writer {
            w.packet(s.iface, s.ts_ns, data, len);
        }
        Ok(())
    }
}
