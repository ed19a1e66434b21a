//! The daemon's NFQUEUE worker over a fake kernel, on every fixture the
//! replay goldens are made from: the fake kernel turns each captured packet
//! of a helped flow into the NFQUEUE message the kernel would queue (NFQA_CT
//! with the tuples, status, helper data and sequence adjustment;
//! NFQA_CT_INFO), answers the worker's ctnetlink requests from the replay's
//! model of the expectation table, and applies its verdicts (NFQA_CT private
//! data, NFQA_EXP). What the worker decided must be what the goldens say
//! replay decided: for every helped message the payload it sent is the
//! golden's edits applied, its expectations are the golden's, a drop is a
//! drop — and no other packet is changed.

mod support;

use cthelperd::config::Config;
use cthelperd::daemon::kernel::Link;
use cthelperd::daemon::metrics::Metrics;
use cthelperd::daemon::worker::{QueueIo, Shared, Worker};
use cthelperd::flow::wire::{TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN};
use cthelperd::flow::Limits;
use cthelperd::flow::Rng;
use cthelperd::netlink::attr::{AttrWriter, Attrs};
use cthelperd::netlink::ct::{self, *};
use cthelperd::netlink::queue::*;
use cthelperd::netlink::{self as nl, Errno, NfMsg, NlError};
use cthelperd::netlink::{NFNL_SUBSYS_CTNETLINK, NFNL_SUBSYS_CTNETLINK_EXP, NFNL_SUBSYS_QUEUE};
use cthelperd::replay::model::{Lookup, Model};
use cthelperd::replay::nat::{Dnat, Nat, Snat};
use cthelperd::replay::table::TableEnv;
use cthelperd::replay::{capture, helpers_and_ports, packet};
use helpers::{Dir, Env, ExpectChange, ExpectError, Expectation, PrivData, SrcAddr};
use netlink_packet_core::NLM_F_CREATE;
use serde_json::{json, Value};
use std::cell::RefCell;
use std::collections::{BTreeMap, VecDeque};
use std::io;
use std::net::IpAddr;
use std::rc::Rc;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use support::{fixtures_dir, Golden};

/// The kernel's state the fake shares with the worker's link.
struct Kernel {
    model: Model,
    rng: Rng,
    policies: Vec<Vec<helpers::ExpectPolicy>>,
    now_ns: u64,
    frame: u64,
    /// What the current message created (net of what it withdrew).
    made: Vec<Expectation>,
    /// What the current message deleted (a re-creation is a change).
    deleted: Vec<Expectation>,
    /// Queued packets without a verdict yet: id → (frame, flow, L3 bytes).
    pending: BTreeMap<u32, (u64, usize, Vec<u8>)>,
    /// `--broadcast`: subnets of the router's interface 1.
    subnets: Vec<cthelperd::replay::nat::Subnet>,
    /// Verdicts as the kernel applied them: (frame, L3 before, L3 sent or
    /// None, dropped).
    verdicts: VecDeque<Applied>,
}

/// A verdict as the kernel applied it: frame, L3 before, L3 sent (None:
/// unchanged), dropped, the helper of the packet's connection.
type Applied = (
    u64,
    Vec<u8>,
    Option<Vec<u8>>,
    bool,
    Option<&'static helpers::HelperInfo>,
);

impl Kernel {
    fn env(&mut self, master: usize) -> TableEnv<'_> {
        let f = &self.model.flows[master];
        let helper = f.helper.unwrap_or(0);
        let follow = [f.conn.orig.src, f.conn.reply.src];
        TableEnv {
            table: &mut self.model.table,
            rng: &mut self.rng,
            master,
            follow,
            policies: &self.policies[helper],
            subnets: &[],
            info: self.model.infos.get(helper).copied(),
            now_ns: self.now_ns,
            frame: self.frame,
            events: Vec::new(),
        }
    }

    fn master(&self, attrs: Attrs<'_>, kind: u16) -> Option<usize> {
        let t = parse_tuple(attrs.get(kind)?.nested())?;
        self.model.flow_of(&t)
    }

    /// Creates `exp` for `master` as nf_ct_expect_related() would.
    fn expect(&mut self, master: usize, exp: &Expectation) -> Result<(), ExpectError> {
        let r = self.env(master).expect(exp);
        if r.is_ok() {
            if let Some(i) = self.deleted.iter().position(|e| e.same_as(exp)) {
                // Deleted and made again by the same message: changed (how
                // ctnetlink clears INACTIVE), not made.
                self.deleted.remove(i);
            } else {
                self.made.retain(|e| !e.same_as(exp));
                self.made.push(exp.clone());
            }
        }
        r
    }

    /// The kernel applies a verdict: NFQA_CT's private data, NFQA_EXP.
    fn verdict(&mut self, v: &NfMsg) {
        let a = v.attrs();
        let h = a.get(NFQA_VERDICT_HDR).unwrap().data;
        let verdict = u32::from_be_bytes(h[..4].try_into().unwrap());
        let vid = u32::from_be_bytes(h[4..8].try_into().unwrap());
        let (frame, fi, before) = self
            .pending
            .remove(&vid)
            .expect("a verdict for a queued packet");
        if let Some(c) = a.get(NFQA_CT) {
            if let Some(info) = c
                .nested()
                .get(CTA_HELP)
                .and_then(|h| h.nested().get(CTA_HELP_INFO))
            {
                self.model.flows[fi].state = PrivData::from_bytes(info.data);
            }
            if let Some(e) = a.get(NFQA_EXP).and_then(|e| exp_parse(e.nested())) {
                self.expect(fi, &e)
                    .expect("the verdict's expectation is created");
            }
        }
        let sent = a.get(NFQA_PAYLOAD).map(|p| p.data.to_vec());
        let info = self.model.flows[fi]
            .helper
            .and_then(|h| self.model.infos.get(h).copied());
        self.verdicts
            .push_back((frame, before, sent, verdict == NF_DROP, info));
    }

    fn ctnetlink(&mut self, m: &NfMsg, flags: u16) -> Result<Vec<NfMsg>, NlError> {
        let a = m.attrs();
        let err = |e: i32| Err(NlError::Kernel(Errno(e)));
        match (m.subsys, m.cmd) {
            (NFNL_SUBSYS_CTNETLINK_EXP, IPCTNL_MSG_EXP_NEW) => {
                let Some(master) = self.master(a, CTA_EXPECT_MASTER) else {
                    return err(libc::ENOENT);
                };
                let Some(exp) = exp_parse(a) else {
                    return err(libc::EINVAL);
                };
                if flags & NLM_F_CREATE == 0 {
                    // A timeout update of a live expectation.
                    let t = a.get(CTA_EXPECT_TIMEOUT).and_then(|t| t.be32());
                    let ch = ExpectChange {
                        clear: helpers::ExpectFlags::NONE,
                        timeout: t,
                    };
                    return if self.env(master).update(&exp, ch) {
                        Ok(vec![])
                    } else {
                        err(libc::ENOENT)
                    };
                }
                match self.expect(master, &exp) {
                    Ok(()) => Ok(vec![]),
                    Err(ExpectError::Clash) => err(libc::EBUSY),
                    Err(ExpectError::Full) => err(libc::EMFILE),
                    Err(ExpectError::Refused) => err(libc::EINVAL),
                }
            }
            (NFNL_SUBSYS_CTNETLINK_EXP, IPCTNL_MSG_EXP_DELETE) => {
                // The tuple names an expectation; its mask is the live one's.
                let t = parse_tuple(
                    a.get(CTA_EXPECT_TUPLE)
                        .ok_or(NlError::Protocol("no tuple".into()))?
                        .nested(),
                )
                .ok_or(NlError::Protocol("bad tuple".into()))?;
                let live = self.model.table.find_tuple(&t);
                match live.and_then(|(e, _)| self.model.table.remove_same(&e)) {
                    Some(l) => {
                        match self.made.iter().position(|e| e.same_as(&l.exp)) {
                            Some(i) => {
                                self.made.remove(i);
                            }
                            None => self.deleted.push(l.exp),
                        }
                        Ok(vec![])
                    }
                    None => err(libc::ENOENT),
                }
            }
            (NFNL_SUBSYS_CTNETLINK_EXP, IPCTNL_MSG_EXP_GET) => {
                // A dump of one master's expectations, or the one of a tuple.
                if let Some(master) = self.master(a, CTA_EXPECT_MASTER) {
                    let orig = self.model.flows[master].conn.orig;
                    let fam = m.family;
                    return Ok(self
                        .model
                        .table
                        .of_master(master)
                        .into_iter()
                        .map(|l| ct::exp_new(&orig, &l.exp, fam, None))
                        .collect());
                }
                let t = parse_tuple(
                    a.get(CTA_EXPECT_TUPLE)
                        .ok_or(NlError::Protocol("no tuple".into()))?
                        .nested(),
                )
                .ok_or(NlError::Protocol("bad tuple".into()))?;
                match self.model.table.find_tuple(&t) {
                    Some((exp, master)) => {
                        let orig = self.model.flows[master].conn.orig;
                        Ok(vec![ct::exp_new(&orig, &exp, m.family, None)])
                    }
                    None => err(libc::ENOENT),
                }
            }
            (NFNL_SUBSYS_CTNETLINK, IPCTNL_MSG_CT_NEW) => {
                let Some(fi) = self.master(a, CTA_TUPLE_ORIG) else {
                    return err(libc::ENOENT);
                };
                let f = &mut self.model.flows[fi];
                for (kind, d) in [(CTA_SEQ_ADJ_ORIG, 0), (CTA_SEQ_ADJ_REPLY, 1)] {
                    if let Some(s) = a.get(kind) {
                        let s = s.nested();
                        let g = |k| s.get(k).and_then(|x| x.be32()).unwrap_or(0);
                        f.seqadj.way[d] = cthelperd::flow::seqadj::Way {
                            correction_pos: g(CTA_SEQADJ_CORRECTION_POS),
                            offset_before: g(CTA_SEQADJ_OFFSET_BEFORE) as i32,
                            offset_after: g(CTA_SEQADJ_OFFSET_AFTER) as i32,
                        };
                    }
                }
                if let Some(info) = a.get(CTA_HELP).and_then(|h| h.nested().get(CTA_HELP_INFO)) {
                    f.state = PrivData::from_bytes(info.data);
                }
                Ok(vec![])
            }
            _ => err(libc::EOPNOTSUPP),
        }
    }
}

#[derive(Clone)]
struct Fake(Rc<RefCell<Kernel>>);

impl QueueIo for Fake {
    fn recv(&mut self) -> io::Result<Option<Vec<u8>>> {
        Ok(None)
    }
    fn try_recv(&mut self) -> io::Result<Option<Vec<u8>>> {
        Ok(None)
    }
    fn send(&mut self, msg: NfMsg) -> io::Result<()> {
        self.0.borrow_mut().verdict(&msg);
        Ok(())
    }
}

impl Link for Fake {
    fn request(&mut self, msg: NfMsg, flags: u16) -> Result<(), NlError> {
        self.0.borrow_mut().ctnetlink(&msg, flags).map(|_| ())
    }
    fn query(&mut self, msg: NfMsg, flags: u16) -> Result<Vec<NfMsg>, NlError> {
        self.0.borrow_mut().ctnetlink(&msg, flags)
    }
    fn dump(&mut self, msg: NfMsg) -> Result<Vec<NfMsg>, NlError> {
        self.0.borrow_mut().ctnetlink(&msg, 0)
    }
    fn route_oif(&mut self, _addr: IpAddr) -> Option<u32> {
        None
    }
    fn broadcast_prefix(&mut self, oif: u32, bcast: std::net::Ipv4Addr) -> Option<u8> {
        // Every packet leaves by interface 1, whose addresses are the
        // `--broadcast` subnets.
        let k = self.0.borrow();
        k.subnets
            .iter()
            .find(|n| {
                let host = u32::MAX.checked_shr(u32::from(n.prefix)).unwrap_or(0);
                oif == 1 && u32::from(bcast) == u32::from(n.net) | host
            })
            .map(|n| n.prefix)
    }
}

/// One helped message as the worker decided it.
#[derive(Debug, Default)]
struct Decided {
    frames: Vec<u64>,
    before: Vec<u8>,
    after: Vec<u8>,
    drop: bool,
    expectations: Vec<Value>,
}

/// An expectation as replay's JSON has it (`info`: the helper of its
/// master, whose classes name it).
fn exp_json(e: &Expectation, info: Option<&helpers::HelperInfo>) -> Value {
    json!({
        "proto": e.proto.name(),
        "src": match e.src {
            SrcAddr::Any => Value::Null,
            SrcAddr::Exact(a) => json!(a.to_string()),
            SrcAddr::Net(a, p) => json!(format!("{}/{p}", SrcAddr::Net(a, p).addr(a.is_ipv6()))),
        },
        "dst": e.dst.to_string(),
        "sport": e.sport,
        "dport": e.dport,
        "class": e.class,
        "class_name": info.and_then(|i| i.class_name(e.class)),
        "flags": e.flags.0,
        "helper": e.helper,
        "nat": e.nat.map(|n| json!({"dir": n.dir.name(), "addr": n.saved_addr.to_string(), "port": n.saved_port})),
    })
}

/// The NFQUEUE message of a packet of flow `fi` in `dir`.
fn queued(
    k: &Kernel,
    fi: usize,
    dir: Dir,
    id: u32,
    l3: &[u8],
    name: &str,
    priv_len: usize,
) -> Vec<u8> {
    let f = &k.model.flows[fi];
    let view = f.conntrack(dir);
    let mut w = AttrWriter::new();
    let mut hdr = id.to_be_bytes().to_vec();
    hdr.extend_from_slice(&[0x08, 0x00, 4]);
    w.put(NFQA_PACKET_HDR, &hdr);
    w.put(NFQA_PAYLOAD, l3);
    w.begin(NFQA_CT);
    put_tuple(&mut w, CTA_TUPLE_ORIG, &f.conn.orig);
    put_tuple(&mut w, CTA_TUPLE_REPLY, &f.conn.reply);
    w.be32(CTA_STATUS, view.status.0);
    w.be32(CTA_ID, fi as u32 + 1);
    w.begin(CTA_HELP)
        .strz(CTA_HELP_NAME, name)
        .put(CTA_HELP_INFO, &f.state.as_bytes()[..priv_len])
        .end();
    for (kind, way) in [
        (CTA_SEQ_ADJ_ORIG, f.seqadj.way[0]),
        (CTA_SEQ_ADJ_REPLY, f.seqadj.way[1]),
    ] {
        if way != Default::default() {
            w.begin(kind)
                .be32(CTA_SEQADJ_CORRECTION_POS, way.correction_pos)
                .be32(CTA_SEQADJ_OFFSET_BEFORE, way.offset_before as u32)
                .be32(CTA_SEQADJ_OFFSET_AFTER, way.offset_after as u32)
                .end();
        }
    }
    w.end();
    w.be32(NFQA_CT_INFO, view.ctinfo.ctinfo(dir));
    // Sent by the router itself (no input interface), out of interface 1.
    w.be32(NFQA_IFINDEX_OUTDEV, 1);
    let fam = if f.conn.is_ipv6() {
        nl::AF_INET6
    } else {
        nl::AF_INET
    };
    nl::encode(
        NfMsg::new(NFNL_SUBSYS_QUEUE, NFQNL_MSG_PACKET, fam, 0, w.into_bytes()),
        0,
        id,
    )
}

/// Runs `fixture` through the worker; returns every helped message.
fn run(g: &Golden) -> Vec<Decided> {
    let cfg = Config::default();
    let mut args: Vec<String> = g.args.iter().map(|s| s.to_string()).collect();
    let mut nat = Nat::default();
    let mut extra = Vec::new();
    let mut subnets = Vec::new();
    while let Some(a) = args.first().cloned() {
        args.remove(0);
        let v = args.remove(0);
        match a.as_str() {
            "--snat" => nat.snat.push(v.parse::<Snat>().unwrap()),
            "--dnat" => nat.dnat.push(v.parse::<Dnat>().unwrap()),
            "--helper" => extra.push(v),
            "--broadcast" => subnets.push(v.parse().unwrap()),
            _ => panic!("option {a}"),
        }
    }
    let (slots, ports) = helpers_and_ports(&cfg, &extra).unwrap();
    let infos = slots.iter().map(|s| s.info).collect();
    let policies = slots.iter().map(|s| s.policies.clone()).collect();
    let names: Vec<(&'static str, usize)> =
        slots.iter().map(|s| (s.name(), s.priv_len())).collect();
    let kernel = Fake(Rc::new(RefCell::new(Kernel {
        model: Model::new(nat, ports, infos),
        rng: Rng(0),
        policies,
        now_ns: 0,
        frame: 0,
        made: Vec::new(),
        deleted: Vec::new(),
        pending: BTreeMap::new(),
        subnets,
        verdicts: VecDeque::new(),
    })));
    let shared = Arc::new(Shared {
        stop: AtomicBool::new(false),
        metrics: Metrics::new(),
        slots: Arc::from(slots),
        limits: Limits::from_config(&cfg.daemon),
        swap: Default::default(),
        beats: Default::default(),
    });
    // The replay goldens are made with --seed 0.
    let mut worker = Worker::new(0, kernel.clone(), kernel.clone(), shared, 0);
    let buf = std::fs::read(fixtures_dir().join(g.fixture)).unwrap();
    let mut reader = capture::Reader::new(&buf).unwrap();
    let mut out = Vec::new();
    let mut id = 0u32;
    let collect = |k: &Fake, out: &mut Vec<Decided>| {
        let mut k = k.0.borrow_mut();
        let mut d = Decided::default();
        let verdicts: Vec<_> = k.verdicts.drain(..).collect();
        let mut info = None;
        for (frame, before, sent, drop, i) in &verdicts {
            info = *i;
            let lay = cthelperd::flow::wire::parse(before).unwrap();
            d.frames.push(*frame);
            d.before.extend_from_slice(lay.payload(before));
            match sent {
                Some(p) => {
                    let l2 = cthelperd::flow::wire::parse(p).unwrap();
                    d.after.extend_from_slice(l2.payload(p));
                }
                None => d.after.extend_from_slice(lay.payload(before)),
            }
            d.drop |= *drop;
        }
        if !verdicts.is_empty() {
            d.expectations = std::mem::take(&mut k.made)
                .iter()
                .map(|e| exp_json(e, info))
                .collect();
            k.deleted.clear();
            out.push(d);
        }
        // Held: what the first part made shows with the release.
    };
    while let Some(f) = reader.next_frame().unwrap() {
        let Ok(dec) = packet::decode(f.linktype, f.data, f.orig_len) else {
            continue;
        };
        let t = dec.lay.tuple();
        let (fi, dir) = {
            let mut k = kernel.0.borrow_mut();
            k.now_ns = f.ts_ns;
            k.frame = f.number;
            for _ in k.model.table.expire(f.ts_ns) {}
            let syn_only = dec
                .lay
                .tcp
                .is_some_and(|x| x.flags & (TCP_SYN | TCP_ACK) == TCP_SYN);
            match k.model.lookup(&t, syn_only) {
                Some(Lookup::Flow(fi, dir)) => (fi, dir),
                found => {
                    if let Some(Lookup::Reused(fi)) = found {
                        k.model.forget(fi);
                    }
                    let (fi, dir, _) = k.model.create(t, dec.lay.tcp);
                    (fi, dir)
                }
            }
        };
        worker.tick(f.ts_ns);
        collect(&kernel, &mut out);
        let (helper, helpable) = {
            let k = kernel.0.borrow();
            let fl = &k.model.flows[fi];
            (
                fl.helper,
                !dec.lay.truncated && !dec.lay.first_fragment && !dec.payload(f.data).is_empty(),
            )
        };
        if let (Some(h), true) = (helper, helpable) {
            id += 1;
            let l3 = dec.l3(f.data).to_vec();
            let msg = queued(&kernel.0.borrow(), fi, dir, id, &l3, names[h].0, names[h].1);
            kernel.0.borrow_mut().pending.insert(id, (f.number, fi, l3));
            worker.datagram(&msg, f.ts_ns);
            collect(&kernel, &mut out);
        }
        let mut k = kernel.0.borrow_mut();
        let fl = &mut k.model.flows[fi];
        if let Some(tcp) = dec.lay.tcp {
            if tcp.flags & TCP_RST != 0 {
                fl.rst = true;
            }
            if tcp.flags & TCP_FIN != 0 {
                fl.fin[dir.index()] = true;
            }
        }
        fl.confirmed = true;
        if dir == Dir::Reply {
            fl.seen_reply = true;
        }
    }
    worker.shutdown();
    collect(&kernel, &mut out);
    let k = kernel.0.borrow();
    assert!(
        k.pending.is_empty(),
        "packets without a verdict: {:?}",
        k.pending.keys()
    );
    out
}

fn apply(before: &[u8], edits: &[Value]) -> Vec<u8> {
    // Binary edits carry their exact bytes in hex as well.
    let hex = |s: &str| -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    };
    let bytes = |e: &Value, k: &str| -> Vec<u8> {
        match e.get(format!("{k}_hex")).and_then(Value::as_str) {
            Some(h) => hex(h),
            None => e[k].as_str().unwrap().as_bytes().to_vec(),
        }
    };
    let mut v: Vec<(usize, usize, Vec<u8>)> = edits
        .iter()
        .map(|e| {
            (
                e["offset"].as_u64().unwrap() as usize,
                bytes(e, "before").len(),
                bytes(e, "after"),
            )
        })
        .collect();
    v.sort_by_key(|e| std::cmp::Reverse(e.0));
    let mut out = before.to_vec();
    for (off, len, new) in v {
        out.splice(off..off + len, new);
    }
    out
}

fn check(g: &Golden) -> Result<usize, String> {
    let golden: Vec<Value> = std::fs::read_to_string(fixtures_dir().join(g.golden))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .filter(|r: &Value| r["type"] == "helper")
        .collect();
    let decided = run(g);
    let mut checked = 0;
    for d in &decided {
        let last = *d.frames.last().unwrap();
        let rec = golden.iter().find(|r| r["packet"] == last);
        let (edits, exps, drop) = match rec {
            Some(r) => {
                let frames: Vec<u64> = match r["segments"].as_array() {
                    Some(s) => s.iter().map(|x| x.as_u64().unwrap()).collect(),
                    None => vec![last],
                };
                if frames != d.frames {
                    return Err(format!(
                        "#{last}: segments {:?}, golden {frames:?}",
                        d.frames
                    ));
                }
                (
                    r["edits"].as_array().unwrap().clone(),
                    r["expectations"].clone(),
                    r["drop"] == true,
                )
            }
            None => (vec![], json!([]), false),
        };
        if drop != d.drop {
            return Err(format!("#{last}: drop {}, golden {drop}", d.drop));
        }
        if !drop {
            let want = apply(&d.before, &edits);
            if want != d.after {
                return Err(format!(
                    "#{last}: sent {:?}\n golden {:?}",
                    String::from_utf8_lossy(&d.after),
                    String::from_utf8_lossy(&want)
                ));
            }
        }
        // The same expectations; the order may differ (an expectation that
        // names a helper rides in the verdict, after those made over
        // ctnetlink).
        let sorted = |v: &[Value]| {
            let mut v: Vec<String> = v.iter().map(Value::to_string).collect();
            v.sort();
            v
        };
        if sorted(&d.expectations) != sorted(exps.as_array().unwrap()) {
            return Err(format!(
                "#{last}: expectations {:?}\n golden {exps}",
                d.expectations
            ));
        }
        checked += 1;
    }
    // Every golden record with an effect was decided by the worker.
    for r in &golden {
        let effect = !r["edits"].as_array().unwrap().is_empty()
            || !r["expectations"].as_array().unwrap().is_empty()
            || r["drop"] == true;
        if effect
            && !decided
                .iter()
                .any(|d| json!(d.frames.last()) == r["packet"])
        {
            return Err(format!("golden #{} not decided by the worker", r["packet"]));
        }
    }
    Ok(checked)
}

#[test]
fn worker_decides_as_the_goldens_say() {
    let mut all: Vec<&Golden> = Vec::new();
    for list in [
        support::GOLDENS,
        support::sip::GOLDENS,
        support::tftp::GOLDENS,
        support::irc::GOLDENS,
        support::amanda::GOLDENS,
        support::h323::GOLDENS,
        support::snmp::GOLDENS,
        support::pptp::GOLDENS,
    ] {
        all.extend(list.iter().filter(|g| g.golden.ends_with(".jsonl")));
    }
    let mut bad = Vec::new();
    for g in &all {
        match check(g) {
            Ok(n) => eprintln!("{} {:?}: {n} helped messages agree", g.fixture, g.args),
            Err(e) => bad.push(format!("{} {:?}: {e}", g.golden, g.args)),
        }
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
    assert!(all.len() >= 30, "{} goldens", all.len());
}
