//! `cthelperd replay`: the helpers over a capture, with a model of
//! conntrack, NAT, the expectation table and TCP sequence adjustment
//! (docs/replay.md).

#[cfg(test)]
mod bounded_tests;
pub mod capture;
pub mod fasthash;
mod mapped;
pub mod model;
pub mod nat;
mod output;
pub mod packet;
pub mod table;

use crate::config::Config;
use crate::flow::wire::{self, Rewrite, TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN};
use crate::flow::Rng;
use crate::flow::{Core, Limits, Plan};
use anyhow::{bail, Context, Result};
use helpers::{Dir, Reason, Tuple};
use model::{Lookup, Model};
use nat::{Dnat, Nat, Snat, Subnet};
use output::{first_line, EditRec, EventRec, ExpRec, HelperRec, RelatedRec, Way};
use packet::Decoded;
use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use table::TableEnv;

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
    /// A subnet of the host the capture was taken on: a request to its
    /// broadcast address is a local broadcast (the SNMP helper expects the
    /// answers from the subnet): `192.168.1.0/24`. Repeatable; IPv4.
    #[arg(long = "broadcast", value_name = "NET/LEN")]
    pub broadcasts: Vec<Subnet>,
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

/// Refuses `--write OUT` when OUT is the input (the same file by device and
/// inode: the same path, a hard link, or a symbolic link to it).
fn check_not_input(input: &std::path::Path, out: &std::path::Path) -> Result<()> {
    use std::os::unix::fs::MetadataExt;
    let (Ok(i), Ok(o)) = (std::fs::metadata(input), std::fs::metadata(out)) else {
        return Ok(());
    };
    if (i.dev(), i.ino()) == (o.dev(), o.ino()) {
        bail!(
            "--write {} is the input capture {} (the same file): refusing to overwrite it; write to another file",
            out.display(),
            input.display()
        );
    }
    Ok(())
}

pub fn run(cfg: Config, args: Args) -> Result<ExitCode> {
    if let Some(out) = &args.write {
        check_not_input(&args.file, out)?;
    }
    let map = mapped::Mapped::open(&args.file)
        .with_context(|| format!("cannot read {}", args.file.display()))?;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut r = Replay::new(&cfg, &args, &mut out)?;
    let res = r.run(map.bytes(), |at| map.done_before(at));
    let summary = r.summary();
    let warnings = r.warnings(&args);
    let written = r.writer.take();
    drop(r);
    out.flush()?;
    res.with_context(|| args.file.display().to_string())?;
    if let (Some(path), Some(w)) = (&args.write, written) {
        std::fs::write(path, &w.out).with_context(|| format!("cannot write {}", path.display()))?;
    }
    for w in warnings {
        eprintln!("replay: warning: {w}");
    }
    eprintln!("{summary}");
    Ok(ExitCode::SUCCESS)
}

/// Which helper slot serves which (transport, port).
pub type PortMap = HashMap<(helpers::L4Proto, u16), usize>;

/// The helpers of `cfg` and which one runs on which (transport, port),
/// with `--helper NAME:PORT` additions.
pub fn helpers_and_ports(
    cfg: &Config,
    extra: &[String],
) -> Result<(Vec<crate::flow::Slot>, PortMap)> {
    let mut slots = crate::flow::slots(cfg);
    let mut ports = HashMap::new();
    for (i, s) in slots.iter().enumerate() {
        if let Some(hc) = cfg.helper(s.name()) {
            for &p in &hc.ports {
                for &l4 in hc.info.l4 {
                    ports.insert((l4, p), i);
                }
            }
        }
    }
    for h in extra {
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
        let i = match slots.iter().position(|s| s.name() == name) {
            Some(i) => i,
            None => {
                slots.push(crate::flow::Slot {
                    name: hc.info.name,
                    info: hc.info,
                    helper: hc.build(),
                    policies: hc.policies.clone(),
                });
                slots.len() - 1
            }
        };
        for &l4 in hc.info.l4 {
            ports.insert((l4, port), i);
        }
    }
    Ok((slots, ports))
}

/// A captured frame on its way through the core: what the writer needs to
/// put it back into the capture.
#[derive(Debug, Clone)]
struct Tag {
    frame: u64,
    ts_ns: u64,
    iface: usize,
    /// The whole frame as captured.
    raw: Vec<u8>,
    /// Offset of the L3 packet in `raw`.
    l3: usize,
    orig_len: u32,
}

#[derive(Debug, Default)]
struct Stats {
    packets: u64,
    skipped: u64,
    /// Frames of a link type replay cannot read, by link type.
    unreadable: std::collections::BTreeMap<u16, u64>,
    /// Payload-address refusals (bounce, forged, withheld) on packets whose
    /// sender a command-line NAT rule moved away from where the capture
    /// shows it: per rule, the count and the first such packet's captured
    /// sender and the sender the rule made.
    contradicted_snat: std::collections::BTreeMap<usize, Contradiction>,
    contradicted_dnat: std::collections::BTreeMap<usize, Contradiction>,
    flows: u64,
    helped: u64,
    related: u64,
    edits: u64,
    expectations: u64,
    held: u64,
    dropped: u64,
}

#[derive(Debug, Clone, Copy)]
struct Contradiction {
    count: u64,
    reason: Reason,
    captured: std::net::IpAddr,
    modelled: std::net::IpAddr,
}

/// What replay knows link types as, for a warning.
fn linktype_name(t: u16) -> Option<&'static str> {
    Some(match t {
        9 => "PPP",
        50 => "PPP_HDLC",
        51 => "PPPoE",
        104 => "Cisco HDLC",
        105 => "IEEE 802.11",
        127 => "IEEE 802.11 radiotap",
        147..=162 => "a user-defined DLT",
        192 => "PPI",
        _ => return None,
    })
}

struct Replay<'o> {
    model: Model,
    core: Core<Tag>,
    rng: Rng,
    format: Format,
    out: &'o mut dyn Write,
    writer: Option<capture::Writer>,
    writer_ifaces: usize,
    stats: Stats,
    subnets: Vec<Subnet>,
}

impl<'o> Replay<'o> {
    fn new(cfg: &Config, args: &Args, out: &'o mut dyn Write) -> Result<Self> {
        let (slots, ports) = helpers_and_ports(cfg, &args.helpers)?;
        let nat = Nat {
            snat: args.snat.clone(),
            dnat: args.dnat.clone(),
        };
        let infos = slots.iter().map(|s| s.info).collect();
        Ok(Replay {
            model: Model::new(nat, ports, infos),
            core: Core::new(Arc::from(slots), Limits::from_config(&cfg.daemon)),
            rng: Rng(args.seed),
            format: args.format,
            out,
            writer: args.write.as_ref().map(|_| capture::Writer::new(&[])),
            writer_ifaces: 0,
            stats: Stats::default(),
            subnets: args.broadcasts.clone(),
        })
    }

    fn summary(&self) -> String {
        use helpers::text::count;
        let s = &self.stats;
        let unreadable: u64 = s.unreadable.values().sum();
        let unreadable = if unreadable > 0 {
            format!(", {unreadable} of an unsupported link type")
        } else {
            String::new()
        };
        format!(
            "replay: {} ({} not TCP/UDP/GRE{unreadable}), {}, {}, {}, {}, {}, {}, {} dropped",
            count(s.packets, "packet"),
            s.skipped,
            count(s.flows, "flow"),
            count(s.helped, "helped flow"),
            count(s.related, "related flow"),
            count(s.edits, "edit"),
            count(s.expectations, "expectation"),
            count(s.held, "held segment"),
            s.dropped
        )
    }

    /// What the end of a replay warns about: frames it could not read, NAT
    /// rules that matched nothing, payloads that contradict the NAT given.
    fn warnings(&self, args: &Args) -> Vec<String> {
        use helpers::text::count;
        let s = &self.stats;
        let mut w = Vec::new();
        for (&t, &n) in &s.unreadable {
            let name = linktype_name(t).map_or(String::new(), |n| format!(" ({n})"));
            w.push(format!(
                "{} of link type {t}{name} skipped: replay reads Ethernet (1), raw IP (101, 12, 14, 228, 229), Linux cooked capture (113, 276) and BSD loopback (0, 108)",
                count(n, "frame")
            ));
        }
        for (i, r) in args.snat.iter().enumerate() {
            if self.model.snat_hits.get(i).copied().unwrap_or(0) == 0 {
                w.push(format!(
                    "--snat {r} matched no flow: no new flow came from {}/{} (the capture's clients as it shows them)",
                    r.net, r.prefix
                ));
            }
        }
        for (i, r) in args.dnat.iter().enumerate() {
            if self.model.dnat_hits.get(i).copied().unwrap_or(0) == 0 {
                w.push(format!(
                    "--dnat {r} matched no flow: no new flow went to {} or {}",
                    r.from, r.to
                ));
            }
        }
        let verb = |n: u64| if n == 1 { "contradicts" } else { "contradict" };
        for (&i, c) in &s.contradicted_dnat {
            let Some(r) = args.dnat.get(i) else { continue };
            w.push(format!(
                "{} ({}) {} --dnat {r}: the capture shows the sender as {}, under the rule it is {}; either the rule is reversed (--dnat takes PUBLIC:PORT=INTERNAL:PORT) or the capture was taken outside the NAT (replay one taken behind it)",
                count(c.count, "payload address"),
                c.reason,
                verb(c.count),
                c.captured,
                c.modelled
            ));
        }
        for (&i, c) in &s.contradicted_snat {
            let Some(r) = args.snat.get(i) else { continue };
            w.push(format!(
                "{} ({}) {} --snat {r}: the capture shows the sender as {}, after a NAT, under the rule it is {}; the capture was taken outside the NAT: replay one taken on the clients' side, or leave --snat out",
                count(c.count, "payload address"),
                c.reason,
                verb(c.count),
                c.captured,
                c.modelled
            ));
        }
        w
    }

    /// Notes a payload-address refusal (bounce, forged, withheld) on a
    /// packet whose sender, as the capture shows it, is not the sender the
    /// flow's NAT rule made: the payload and the NAT given contradict each
    /// other.
    fn note_contradiction(&mut self, fi: usize, plan: &Plan<Tag>) {
        let Some(reason) = plan
            .events
            .iter()
            .map(|e| e.reason)
            .find(|r| matches!(r, Reason::Bounce | Reason::Forged | Reason::Withheld))
        else {
            return;
        };
        let Some(dec) = plan
            .verdicts
            .first()
            .and_then(|v| packet::decode_l3(&v.tag.raw, v.tag.l3))
        else {
            return;
        };
        let flow = &self.model.flows[fi];
        let (modelled, rule, map) = match plan.ct.dir {
            Dir::Original => (
                flow.conn.orig.src,
                flow.rules.snat,
                &mut self.stats.contradicted_snat,
            ),
            Dir::Reply => (
                flow.conn.reply.src,
                flow.rules.dnat,
                &mut self.stats.contradicted_dnat,
            ),
        };
        let (Some(rule), true) = (rule, dec.lay.src != modelled) else {
            return;
        };
        map.entry(rule)
            .or_insert(Contradiction {
                count: 0,
                reason,
                captured: dec.lay.src,
                modelled,
            })
            .count += 1;
    }

    /// Replays the capture `buf`; `done(offset)` is told every few MiB
    /// that nothing before `offset` is needed any more.
    fn run(&mut self, buf: &[u8], mut done: impl FnMut(usize)) -> Result<()> {
        let mut reader = capture::Reader::new(buf)?;
        let mut released = 0;
        loop {
            // The frames before this one are done with (all the driver
            // keeps of a frame is copied).
            let at = reader.position();
            if at >= released + (8 << 20) {
                released = at;
                done(at);
            }
            let Some(f) = reader.next_frame()? else { break };
            if let Some(w) = &mut self.writer {
                while self.writer_ifaces < reader.interfaces.len() {
                    w.add_interface(reader.interfaces[self.writer_ifaces]);
                    self.writer_ifaces += 1;
                }
            }
            self.frame(&f)?;
        }
        // The end of the capture: whatever is held goes on with what was
        // decided.
        let plans = self.core.release_all(Reason::HoldEnd);
        self.carry_out(plans)
    }

    fn write_raw(&mut self, iface: usize, ts: u64, data: &[u8], orig_len: u32) {
        if let Some(w) = &mut self.writer {
            w.packet(iface, ts, data, orig_len);
        }
    }

    fn frame(&mut self, f: &capture::Frame<'_>) -> Result<()> {
        self.stats.packets += 1;
        for gone in self.model.table.expire(f.ts_ns) {
            tracing::debug!("expectation of frame {} timed out", gone.frame);
        }
        let expired = self.core.expire(f.ts_ns);
        self.carry_out(expired)?;
        // Conntrack entries whose timeout passed: what is held of them goes
        // on as decided, then the entry and its expectations go.
        for fi in self.model.due(f.ts_ns) {
            let orig = self.model.flows[fi].conn.orig;
            let plans = self.core.release_flow(&orig, 0, Reason::HoldEnd);
            self.carry_out(plans)?;
            self.model.forget(fi);
        }
        let dec = match packet::decode(f.linktype, f.data, f.orig_len) {
            Ok(d) => d,
            Err(packet::Skip::LinkType) => {
                *self.stats.unreadable.entry(f.linktype).or_default() += 1;
                self.write_raw(f.iface, f.ts_ns, f.data, f.orig_len);
                return Ok(());
            }
            Err(why) => {
                tracing::debug!("frame {}: {}", f.number, why.name());
                self.stats.skipped += 1;
                self.write_raw(f.iface, f.ts_ns, f.data, f.orig_len);
                return Ok(());
            }
        };
        let t = dec.lay.tuple();
        let (fi, dir) = self.conntrack(t, &dec, f.number)?;
        if let Some(tcp) = dec.lay.tcp {
            let fl = &mut self.model.flows[fi];
            if tcp.flags & TCP_RST != 0 {
                fl.rst = true;
            }
            if tcp.flags & TCP_FIN != 0 {
                fl.fin[dir.index()] = true;
            }
        }
        let tag = Tag {
            frame: f.number,
            ts_ns: f.ts_ns,
            iface: f.iface,
            raw: f.data.to_vec(),
            l3: dec.l3,
            orig_len: f.orig_len,
        };
        // A first fragment only tells conntrack its flow (the kernel
        // reassembles before conntrack, we do not): no helper, written
        // unchanged. So is a frame the capture cut short.
        let flow = &self.model.flows[fi];
        let helped = flow.helper.is_some()
            && !dec.lay.truncated
            && !dec.lay.first_fragment
            && !dec.payload(f.data).is_empty();
        if !helped {
            self.emit(fi, dir, &tag, None, &dec)?;
        } else if let Some(h) = flow.helper {
            let ct = flow.conntrack(dir);
            let pkt = dec.l3(f.data).to_vec();
            let conn = flow.conn;
            let slots = self.core.slots_arc();
            let mut env = TableEnv {
                table: &mut self.model.table,
                rng: &mut self.rng,
                master: fi,
                follow: [conn.orig.src, conn.reply.src],
                policies: &slots[h].policies,
                info: Some(slots[h].info),
                now_ns: f.ts_ns,
                frame: f.number,
                events: Vec::new(),
                subnets: &self.subnets,
            };
            let plans = self.core.packet(f.ts_ns, tag, pkt, h, &ct, &mut env);
            self.carry_out(plans)?;
        }
        let fl = &mut self.model.flows[fi];
        fl.confirmed = true;
        if dir == Dir::Reply {
            fl.seen_reply = true;
        }
        self.model.refresh(fi, f.ts_ns);
        Ok(())
    }

    /// Finds the conntrack entry of a packet, or creates it; prints the
    /// match of an expectation.
    fn conntrack(&mut self, t: Tuple, dec: &Decoded, frame: u64) -> Result<(usize, Dir)> {
        let syn_only = dec
            .lay
            .tcp
            .is_some_and(|x| x.flags & (TCP_SYN | TCP_ACK) == TCP_SYN);
        if let Some(found) = self.model.lookup(&t, syn_only) {
            match found {
                Lookup::Flow(fi, dir) => return Ok((fi, dir)),
                Lookup::Reused(fi) => {
                    // A new connection reusing the tuple of a closed one.
                    let orig = self.model.flows[fi].conn.orig;
                    let plans = self.core.release_flow(&orig, 0, Reason::HoldEnd);
                    self.carry_out(plans)?;
                    self.model.forget(fi);
                }
            }
        }
        let (fi, dir, related) = self.model.create(t, dec.lay.tcp);
        if let Some(rel) = related {
            self.stats.related += 1;
            let info = self.model.flows[rel.live.master]
                .helper
                .map(|i| self.core.slots()[i].info);
            let rec = RelatedRec {
                kind: "related",
                packet: frame,
                flow: rel.conn.orig.to_string(),
                reply: rel.conn.reply.to_string(),
                master: rel.master.orig.to_string(),
                expected_by: rel.live.frame,
                expectation: ExpRec::new(&rel.live.exp, info),
                helper: self.model.flows[fi]
                    .helper
                    .map(|i| self.core.slots()[i].name()),
                way: Way::of(&rel.conn.orig, &rel.conn.reply),
            };
            self.print(&rec, rec.text())?;
        }
        self.stats.flows += 1;
        if self.model.flows[fi].helper.is_some() {
            self.stats.helped += 1;
        }
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

    /// Carries out the core's plans: the flow's private data and sequence
    /// adjustment (what the kernel keeps), a record of what the helper did,
    /// and the packets as they leave.
    fn carry_out(&mut self, plans: Vec<Plan<Tag>>) -> Result<()> {
        for plan in plans {
            let Some(fi) = self.model.flow_of(&plan.ct.conn.orig) else {
                continue;
            };
            let dir = plan.ct.dir;
            if plan.held {
                self.stats.held += 1;
                continue;
            }
            if let Some(s) = plan.state {
                self.model.flows[fi].state = s;
            }
            if let Some(w) = plan.seqadj {
                self.model.flows[fi].seqadj.way[dir.index()] = w;
            }
            let call = plan.call.as_ref();
            let record = call
                .is_some_and(|c| !c.edits.is_empty() || !c.created.is_empty() || c.drop)
                || !plan.events.is_empty();
            if record {
                self.note_contradiction(fi, &plan);
                if let Some(c) = call {
                    self.stats.edits += c.edits.len() as u64;
                    self.stats.expectations += c.created.len() as u64;
                }
                let rec = self.record(fi, &plan, call);
                self.print(&rec, rec.text())?;
            }
            for v in plan.verdicts {
                if !v.accept {
                    self.stats.dropped += 1;
                    continue;
                }
                let (bytes, dec) = match v.packet {
                    Some(p) => match wire::parse(&p) {
                        Ok(lay) => (Some(p), Decoded { l3: v.tag.l3, lay }),
                        Err(_) => continue,
                    },
                    None => match packet::decode_l3(&v.tag.raw, v.tag.l3) {
                        Some(d) => (None, d),
                        None => continue,
                    },
                };
                self.emit(fi, dir, &v.tag, bytes, &dec)?;
            }
        }
        Ok(())
    }

    fn record(&self, fi: usize, plan: &Plan<Tag>, call: Option<&crate::flow::Call>) -> HelperRec {
        let conn = self.model.flows[fi].conn;
        let none = crate::flow::Call::default();
        let c = call.unwrap_or(&none);
        let info = self.core.slots()[plan.helper].info;
        let mut edits: Vec<&helpers::Edit> = c.edits.iter().collect();
        edits.sort_by_key(|e| e.offset);
        let frames: Vec<u64> = plan.verdicts.iter().map(|v| v.tag.frame).collect();
        HelperRec {
            kind: "helper",
            packet: frames.last().copied().unwrap_or(0),
            segments: (frames.len() > 1).then(|| frames.clone()),
            helper: self.core.slots()[plan.helper].name(),
            flow: conn.orig.to_string(),
            reply: conn.reply.to_string(),
            dir: plan.ct.dir.name(),
            what: call.and_then(|c| first_line(&c.payload)),
            edits: edits
                .iter()
                .map(|e| EditRec::new(e.offset, e.before(&c.payload).unwrap_or_default(), &e.new))
                .collect(),
            expectations: c
                .created
                .iter()
                .map(|e| ExpRec::new(e, Some(info)))
                .collect(),
            events: plan.events.iter().map(EventRec::from).collect(),
            drop: c.drop || plan.verdicts.iter().any(|v| !v.accept),
            way: match plan.ct.dir {
                Dir::Original => Way::of(&conn.orig, &conn.reply),
                Dir::Reply => Way::of(&conn.reply, &conn.orig),
            },
        }
    }

    /// A packet leaves: NAT of the headers and sequence adjustment (the
    /// kernel's part), on the packet as the core left it (`l3`: its new L3
    /// bytes, `None`: as captured); written when `--write` asked for it.
    fn emit(
        &mut self,
        fi: usize,
        dir: Dir,
        tag: &Tag,
        l3: Option<Vec<u8>>,
        dec: &Decoded,
    ) -> Result<()> {
        if self.writer.is_none() {
            return Ok(());
        }
        if dec.lay.first_fragment || dec.lay.truncated {
            // Its L4 checksum covers the whole datagram: as it was.
            self.write_raw(tag.iface, tag.ts_ns, &tag.raw, tag.orig_len);
            return Ok(());
        }
        let flow = &self.model.flows[fi];
        let c = flow.conn;
        let (src, dst) = match dir {
            Dir::Original => ((c.reply.dst, c.reply.dport), (c.reply.src, c.reply.sport)),
            Dir::Reply => ((c.orig.dst, c.orig.dport), (c.orig.src, c.orig.sport)),
        };
        let lay = &dec.lay;
        let mut rw = Rewrite {
            src: ((lay.src, lay.sport) != src).then_some(src),
            dst: ((lay.dst, lay.dport) != dst).then_some(dst),
            ..Rewrite::default()
        };
        let pkt: &[u8] = match &l3 {
            Some(b) => b,
            None => dec.l3(&tag.raw),
        };
        if let Some(t) = lay.tcp {
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
                    rw.sack = wire::sack_edges(pkt, lay)
                        .into_iter()
                        .map(|(at, v)| (at, v, back(v)))
                        .filter(|&(_, old, new)| old != new)
                        .map(|(at, _, new)| (at, new))
                        .collect();
                }
            }
        }
        let rebuilt = if rw.is_empty() {
            l3
        } else {
            wire::rebuild(pkt, lay, &rw).or(l3)
        };
        match rebuilt {
            Some(new) => {
                let mut frame = tag.raw.get(..tag.l3).unwrap_or_default().to_vec();
                frame.extend_from_slice(&new);
                let len = frame.len() as u32;
                self.write_raw(tag.iface, tag.ts_ns, &frame, len);
            }
            None => self.write_raw(tag.iface, tag.ts_ns, &tag.raw, tag.orig_len),
        }
        Ok(())
    }
}
