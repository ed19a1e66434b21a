//! ctnetlink attributes (include/uapi/linux/netfilter/nfnetlink_conntrack.h):
//! tuples, the conntrack as NFQUEUE attaches it (NFQA_CT), helper data and
//! expectations (NFQA_EXP and IPCTNL_MSG_EXP_NEW).

use super::attr::{AttrWriter, Attrs};
use super::{NfMsg, AF_INET, AF_INET6, NFNL_SUBSYS_CTNETLINK, NFNL_SUBSYS_CTNETLINK_EXP};
use crate::flow::seqadj::Way as SeqAdj;
use helpers::{Dir, ExpectFlags, ExpectFn, ExpectNat, Expectation, L4Proto, SrcAddr, Tuple};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

// enum ctattr_type
pub const CTA_TUPLE_ORIG: u16 = 1;
pub const CTA_TUPLE_REPLY: u16 = 2;
pub const CTA_STATUS: u16 = 3;
pub const CTA_TIMEOUT: u16 = 7;
pub const CTA_HELP: u16 = 5;
pub const CTA_ID: u16 = 12;
pub const CTA_SEQ_ADJ_ORIG: u16 = 15;
pub const CTA_SEQ_ADJ_REPLY: u16 = 16;
pub const CTA_ZONE: u16 = 18;
// enum ctattr_tuple
pub const CTA_TUPLE_IP: u16 = 1;
pub const CTA_TUPLE_PROTO: u16 = 2;
// enum ctattr_ip
pub const CTA_IP_V4_SRC: u16 = 1;
pub const CTA_IP_V4_DST: u16 = 2;
pub const CTA_IP_V6_SRC: u16 = 3;
pub const CTA_IP_V6_DST: u16 = 4;
// enum ctattr_l4proto
pub const CTA_PROTO_NUM: u16 = 1;
pub const CTA_PROTO_SRC_PORT: u16 = 2;
pub const CTA_PROTO_DST_PORT: u16 = 3;
// enum ctattr_seqadj
pub const CTA_SEQADJ_CORRECTION_POS: u16 = 1;
pub const CTA_SEQADJ_OFFSET_BEFORE: u16 = 2;
pub const CTA_SEQADJ_OFFSET_AFTER: u16 = 3;
// enum cntl_msg_types
pub const IPCTNL_MSG_CT_NEW: u8 = 0;
// enum ctattr_help
pub const CTA_HELP_NAME: u16 = 1;
pub const CTA_HELP_INFO: u16 = 2;
// enum ctattr_expect
pub const CTA_EXPECT_MASTER: u16 = 1;
pub const CTA_EXPECT_TUPLE: u16 = 2;
pub const CTA_EXPECT_MASK: u16 = 3;
pub const CTA_EXPECT_TIMEOUT: u16 = 4;
pub const CTA_EXPECT_HELP_NAME: u16 = 6;
pub const CTA_EXPECT_ZONE: u16 = 7;
pub const CTA_EXPECT_FLAGS: u16 = 8;
pub const CTA_EXPECT_CLASS: u16 = 9;
pub const CTA_EXPECT_NAT: u16 = 10;
pub const CTA_EXPECT_FN: u16 = 11;
// enum ctattr_expect_nat
pub const CTA_EXPECT_NAT_DIR: u16 = 1;
pub const CTA_EXPECT_NAT_TUPLE: u16 = 2;
// enum ctnl_exp_msg_types
pub const IPCTNL_MSG_EXP_NEW: u8 = 0;
pub const IPCTNL_MSG_EXP_GET: u8 = 1;
pub const IPCTNL_MSG_EXP_DELETE: u8 = 2;

// enum ip_conntrack_status
pub const IPS_SRC_NAT: u32 = 1 << 4;
pub const IPS_DST_NAT: u32 = 1 << 5;
pub const IPS_NAT_MASK: u32 = IPS_SRC_NAT | IPS_DST_NAT;
pub const IPS_CONFIRMED: u32 = 1 << 3;
pub const IPS_SEQ_ADJUST: u32 = 1 << 6;

/// enum ip_conntrack_info: values ≥ IP_CT_IS_REPLY are the reply direction.
pub const IP_CT_IS_REPLY: u32 = 3;

/// Writes a tuple (CTA_TUPLE_IP + CTA_TUPLE_PROTO) inside an open nest.
pub fn put_tuple_body(w: &mut AttrWriter, src: IpAddr, dst: IpAddr, proto: u8, sp: u16, dp: u16) {
    w.begin(CTA_TUPLE_IP);
    match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            w.put(CTA_IP_V4_SRC, &s.octets())
                .put(CTA_IP_V4_DST, &d.octets());
        }
        (s, d) => {
            w.put(CTA_IP_V6_SRC, &v6(s).octets())
                .put(CTA_IP_V6_DST, &v6(d).octets());
        }
    }
    w.end();
    w.begin(CTA_TUPLE_PROTO)
        .u8(CTA_PROTO_NUM, proto)
        .be16(CTA_PROTO_SRC_PORT, sp)
        .be16(CTA_PROTO_DST_PORT, dp)
        .end();
}

fn v6(a: IpAddr) -> Ipv6Addr {
    match a {
        IpAddr::V6(a) => a,
        IpAddr::V4(a) => a.to_ipv6_mapped(),
    }
}

pub fn put_tuple(w: &mut AttrWriter, kind: u16, t: &Tuple) {
    w.begin(kind);
    put_tuple_body(w, t.src, t.dst, t.proto.number(), t.sport, t.dport);
    w.end();
}

/// Parses a nested tuple. Protocols other than TCP/UDP/GRE give `None`.
pub fn parse_tuple(a: Attrs<'_>) -> Option<Tuple> {
    let ip = a.get(CTA_TUPLE_IP)?.nested();
    let (src, dst) = if let (Some(s), Some(d)) = (ip.get(CTA_IP_V4_SRC), ip.get(CTA_IP_V4_DST)) {
        let s: [u8; 4] = s.data.get(..4)?.try_into().ok()?;
        let d: [u8; 4] = d.data.get(..4)?.try_into().ok()?;
        (IpAddr::V4(Ipv4Addr::from(s)), IpAddr::V4(Ipv4Addr::from(d)))
    } else {
        let s: [u8; 16] = ip.get(CTA_IP_V6_SRC)?.data.get(..16)?.try_into().ok()?;
        let d: [u8; 16] = ip.get(CTA_IP_V6_DST)?.data.get(..16)?.try_into().ok()?;
        (IpAddr::V6(Ipv6Addr::from(s)), IpAddr::V6(Ipv6Addr::from(d)))
    };
    let p = a.get(CTA_TUPLE_PROTO)?.nested();
    let proto = L4Proto::from_number(p.get(CTA_PROTO_NUM)?.u8()?)?;
    let sport = p
        .get(CTA_PROTO_SRC_PORT)
        .and_then(|x| x.be16())
        .unwrap_or(0);
    let dport = p
        .get(CTA_PROTO_DST_PORT)
        .and_then(|x| x.be16())
        .unwrap_or(0);
    Some(Tuple {
        src,
        dst,
        proto,
        sport,
        dport,
    })
}

/// The conntrack NFQUEUE attached to a packet (NFQA_CT).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CtView {
    pub orig: Tuple,
    pub reply: Tuple,
    pub status: u32,
    pub id: u32,
    pub helper: Option<String>,
    pub help_info: Vec<u8>,
    /// The raw CTA_ZONE, if any (echoed into ctnetlink requests).
    pub zone: Option<u16>,
    /// TCP sequence adjustment per direction (CTA_SEQ_ADJ_ORIG/REPLY), when
    /// the conntrack has one (IPS_SEQ_ADJUST).
    pub seqadj: [Option<SeqAdj>; 2],
}

fn parse_seqadj(a: Attrs<'_>) -> Option<SeqAdj> {
    Some(SeqAdj {
        correction_pos: a.get(CTA_SEQADJ_CORRECTION_POS)?.be32()?,
        offset_before: a.get(CTA_SEQADJ_OFFSET_BEFORE)?.be32()? as i32,
        offset_after: a.get(CTA_SEQADJ_OFFSET_AFTER)?.be32()? as i32,
    })
}

impl CtView {
    pub fn parse(a: Attrs<'_>) -> Option<CtView> {
        let orig = parse_tuple(a.get(CTA_TUPLE_ORIG)?.nested())?;
        let reply = parse_tuple(a.get(CTA_TUPLE_REPLY)?.nested())?;
        let status = a.get(CTA_STATUS).and_then(|x| x.be32()).unwrap_or(0);
        let id = a.get(CTA_ID).and_then(|x| x.be32()).unwrap_or(0);
        let (helper, help_info) = match a.get(CTA_HELP) {
            Some(h) => {
                let h = h.nested();
                (
                    h.get(CTA_HELP_NAME)
                        .and_then(|n| n.str())
                        .map(str::to_string),
                    h.get(CTA_HELP_INFO)
                        .map(|i| i.data.to_vec())
                        .unwrap_or_default(),
                )
            }
            None => (None, Vec::new()),
        };
        let zone = a.get(CTA_ZONE).and_then(|z| z.be16());
        let seqadj = [
            a.get(CTA_SEQ_ADJ_ORIG)
                .and_then(|x| parse_seqadj(x.nested())),
            a.get(CTA_SEQ_ADJ_REPLY)
                .and_then(|x| parse_seqadj(x.nested())),
        ];
        Some(CtView {
            orig,
            reply,
            status,
            id,
            helper,
            help_info,
            zone,
            seqadj,
        })
    }
    /// The flow core's view of the connection, for a packet of
    /// `ip_conntrack_info` value `ctinfo` leaving by `outdev`.
    pub fn view(&self, ctinfo: u32, outdev: Option<u32>) -> crate::flow::Conntrack {
        let (state, dir) = helpers::CtState::from_ctinfo(ctinfo);
        crate::flow::Conntrack {
            conn: helpers::ConnView {
                orig: self.orig,
                reply: self.reply,
            },
            dir,
            ctinfo: state,
            status: helpers::CtStatus(self.status),
            zone: self.zone.unwrap_or(0),
            state: helpers::PrivData::from_bytes(&self.help_info),
            seqadj: crate::flow::seqadj::SeqAdj {
                way: [
                    self.seqadj[0].unwrap_or_default(),
                    self.seqadj[1].unwrap_or_default(),
                ],
            },
            outdev,
        }
    }
    pub fn confirmed(&self) -> bool {
        self.status & IPS_CONFIRMED != 0
    }
    pub fn natted(&self) -> bool {
        self.status & IPS_NAT_MASK != 0
    }
    pub fn family(&self) -> u8 {
        if self.orig.src.is_ipv4() {
            AF_INET
        } else {
            AF_INET6
        }
    }
}

/// The NFQA_CT of a verdict: CTA_HELP{NAME, INFO}. The kernel copies exactly
/// the registered private-data length out of INFO, so `info` must be that
/// long.
///
/// `timeout`: the conntrack's new lifetime in seconds (CTA_TIMEOUT, which
/// the glue applies like ctnetlink: the helper's `nf_ct_refresh()`).
pub fn verdict_ct(helper: &str, info: &[u8], timeout: Option<u32>) -> AttrWriter {
    let mut w = AttrWriter::new();
    if let Some(t) = timeout {
        w.be32(CTA_TIMEOUT, t);
    }
    w.begin(CTA_HELP)
        .strz(CTA_HELP_NAME, helper)
        .put(CTA_HELP_INFO, info)
        .end();
    w
}

/// IPCTNL_MSG_CT_NEW (update, no NLM_F_CREATE) of the conntrack with
/// original tuple `orig`: its helper private data and, if given, the
/// sequence adjustment of direction `dir`.
///
/// Used instead of the verdict's NFQA_CT when a TCP payload changes size:
/// the kernel's glue (`nf_ct_tcp_seqadj_set`) takes the TCP header at
/// `ip_hdrlen()`, which is wrong for IPv6, so the correction is written
/// here, before the verdict, at the right sequence number.
pub fn ct_update(
    orig: &Tuple,
    family: u8,
    zone: Option<u16>,
    seqadj: Option<(Dir, SeqAdj)>,
    helper: &str,
    info: &[u8],
    timeout: Option<u32>,
) -> NfMsg {
    let mut w = AttrWriter::new();
    put_tuple(&mut w, CTA_TUPLE_ORIG, orig);
    if let Some(z) = zone.filter(|&z| z != 0) {
        w.be16(CTA_ZONE, z);
    }
    if let Some(t) = timeout {
        w.be32(CTA_TIMEOUT, t);
    }
    w.begin(CTA_HELP)
        .strz(CTA_HELP_NAME, helper)
        .put(CTA_HELP_INFO, info)
        .end();
    if let Some((dir, a)) = seqadj {
        let kind = match dir {
            Dir::Original => CTA_SEQ_ADJ_ORIG,
            Dir::Reply => CTA_SEQ_ADJ_REPLY,
        };
        w.begin(kind)
            .be32(CTA_SEQADJ_CORRECTION_POS, a.correction_pos)
            .be32(CTA_SEQADJ_OFFSET_BEFORE, a.offset_before as u32)
            .be32(CTA_SEQADJ_OFFSET_AFTER, a.offset_after as u32)
            .end();
    }
    NfMsg::new(
        NFNL_SUBSYS_CTNETLINK,
        IPCTNL_MSG_CT_NEW,
        family,
        0,
        w.into_bytes(),
    )
}

/// The body of an expectation (inside NFQA_EXP, or the top level of
/// IPCTNL_MSG_EXP_NEW): TUPLE, MASK, CLASS, FLAGS, HELP_NAME, FN + NAT.
pub fn put_expectation(w: &mut AttrWriter, exp: &Expectation) {
    let v6 = exp.dst.is_ipv6();
    let ones: IpAddr = if v6 {
        IpAddr::V6(Ipv6Addr::from([0xff; 16]))
    } else {
        IpAddr::V4(Ipv4Addr::BROADCAST)
    };
    let proto = exp.proto.number();
    w.begin(CTA_EXPECT_TUPLE);
    put_tuple_body(
        w,
        exp.src.addr(v6),
        exp.dst,
        proto,
        exp.sport.unwrap_or(0),
        exp.dport,
    );
    w.end();
    w.begin(CTA_EXPECT_MASK);
    put_tuple_body(
        w,
        exp.src.mask(v6),
        ones,
        proto,
        if exp.sport.is_some() { 0xffff } else { 0 },
        0xffff,
    );
    w.end();
    w.be32(CTA_EXPECT_CLASS, u32::from(exp.class));
    w.be32(
        CTA_EXPECT_FLAGS,
        exp.flags.without(ExpectFlags::USERSPACE).0,
    );
    if let Some(h) = exp.helper {
        w.strz(CTA_EXPECT_HELP_NAME, h);
    }
    if let Some(nat) = exp.nat {
        w.strz(CTA_EXPECT_FN, nat.expectfn.name());
        w.begin(CTA_EXPECT_NAT);
        w.be32(CTA_EXPECT_NAT_DIR, nat.dir.index() as u32);
        w.begin(CTA_EXPECT_NAT_TUPLE);
        // The kernel keeps src (addr, port) of this tuple as exp->saved_*.
        put_tuple_body(w, nat.saved_addr, exp.dst, proto, nat.saved_port, exp.dport);
        w.end();
        w.end();
    }
}

/// An expectation as ctnetlink lists it (IPCTNL_MSG_EXP_NEW of a dump or a
/// GET): tuple and mask, class, flags, helper (a name this build knows),
/// NAT and expectfn. `None` for what cannot be one of ours (a protocol we
/// do not know).
pub fn exp_parse(attrs: Attrs<'_>) -> Option<Expectation> {
    let t = parse_tuple(attrs.get(CTA_EXPECT_TUPLE)?.nested())?;
    let (src, sport) = match attrs
        .get(CTA_EXPECT_MASK)
        .and_then(|m| parse_tuple(m.nested()))
    {
        Some(m) => (
            SrcAddr::from_mask(t.src, m.src),
            (m.sport != 0).then_some(t.sport),
        ),
        None => (SrcAddr::Exact(t.src), Some(t.sport)),
    };
    let nat = attrs.get(CTA_EXPECT_NAT).and_then(|n| {
        let n = n.nested();
        let dir = match n.get(CTA_EXPECT_NAT_DIR)?.be32()? {
            0 => Dir::Original,
            _ => Dir::Reply,
        };
        let nt = parse_tuple(n.get(CTA_EXPECT_NAT_TUPLE)?.nested())?;
        let expectfn = attrs
            .get(CTA_EXPECT_FN)
            .and_then(|f| f.str())
            .and_then(ExpectFn::from_name)
            .unwrap_or(ExpectFn::NatFollowMaster);
        Some(ExpectNat {
            dir,
            saved_addr: nt.src,
            saved_port: nt.sport,
            expectfn,
        })
    });
    Some(Expectation {
        class: attrs
            .get(CTA_EXPECT_CLASS)
            .and_then(|c| c.be32())
            .and_then(|c| u8::try_from(c).ok())
            .unwrap_or(0),
        proto: t.proto,
        src,
        sport,
        dst: t.dst,
        dport: t.dport,
        flags: ExpectFlags(
            attrs
                .get(CTA_EXPECT_FLAGS)
                .and_then(|c| c.be32())
                .unwrap_or(0),
        ),
        helper: attrs
            .get(CTA_EXPECT_HELP_NAME)
            .and_then(|h| h.str())
            .and_then(helpers::registry::static_name),
        nat,
    })
}

/// An expectation message of `cmd`: `w`'s attributes plus CTA_EXPECT_ZONE
/// when the zone is not the default one.
fn exp_msg(cmd: u8, mut w: AttrWriter, family: u8, zone: Option<u16>) -> NfMsg {
    if let Some(z) = zone.filter(|&z| z != 0) {
        w.be16(CTA_EXPECT_ZONE, z);
    }
    NfMsg::new(NFNL_SUBSYS_CTNETLINK_EXP, cmd, family, 0, w.into_bytes())
}

/// IPCTNL_MSG_EXP_NEW for `exp` with the confirmed conntrack `master`
/// (its original tuple), in conntrack zone `zone` when not the default.
pub fn exp_new(master: &Tuple, exp: &Expectation, family: u8, zone: Option<u16>) -> NfMsg {
    let mut w = AttrWriter::new();
    put_tuple(&mut w, CTA_EXPECT_MASTER, master);
    put_expectation(&mut w, exp);
    exp_msg(IPCTNL_MSG_EXP_NEW, w, family, zone)
}

/// The contents of `exp`'s CTA_EXPECT_TUPLE.
pub fn exp_tuple_bytes(exp: &Expectation) -> Vec<u8> {
    let mut body = AttrWriter::new();
    put_expectation(&mut body, exp);
    Attrs::new(body.as_bytes())
        .get(CTA_EXPECT_TUPLE)
        .map(|t| t.data.to_vec())
        .unwrap_or_default()
}

fn exp_by_tuple(cmd: u8, tuple: &[u8], family: u8, zone: Option<u16>) -> NfMsg {
    let mut w = AttrWriter::new();
    w.nest_raw(CTA_EXPECT_TUPLE, tuple);
    exp_msg(cmd, w, family, zone)
}

/// IPCTNL_MSG_EXP_GET of the expectation with exactly `exp`'s tuple.
pub fn exp_get(exp: &Expectation, family: u8, zone: Option<u16>) -> NfMsg {
    exp_by_tuple(IPCTNL_MSG_EXP_GET, &exp_tuple_bytes(exp), family, zone)
}

/// IPCTNL_MSG_EXP_DELETE of the expectation whose CTA_EXPECT_TUPLE has the
/// contents `tuple`.
pub fn exp_delete(tuple: &[u8], family: u8, zone: Option<u16>) -> NfMsg {
    exp_by_tuple(IPCTNL_MSG_EXP_DELETE, tuple, family, zone)
}

/// IPCTNL_MSG_EXP_GET (to be sent as a dump) of the expectations of the
/// conntrack with original tuple `master`.
pub fn exp_dump_of(master: &Tuple, family: u8, zone: Option<u16>) -> NfMsg {
    let mut w = AttrWriter::new();
    put_tuple(&mut w, CTA_EXPECT_MASTER, master);
    exp_msg(IPCTNL_MSG_EXP_GET, w, family, zone)
}

/// A listed expectation of one master: what [`exp_recreate`] needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedExp {
    pub class: u32,
    pub flags: u32,
    /// The expected tuple (the mask is not applied).
    pub tuple: Tuple,
    /// Raw attributes as listed (without MASTER, ID, TIMEOUT).
    pub raw: Vec<(u16, Vec<u8>)>,
}

impl ListedExp {
    /// The raw CTA_EXPECT_TUPLE contents (what a delete names).
    pub fn tuple_bytes(&self) -> Vec<u8> {
        self.raw
            .iter()
            .find(|(k, _)| *k == CTA_EXPECT_TUPLE)
            .map(|(_, d)| d.clone())
            .unwrap_or_default()
    }
}

/// Reads one IPCTNL_MSG_EXP_NEW message of a dump.
pub fn exp_listed(attrs: Attrs<'_>) -> Option<ListedExp> {
    let tuple = parse_tuple(attrs.get(CTA_EXPECT_TUPLE)?.nested())?;
    let keep = [
        CTA_EXPECT_TUPLE,
        CTA_EXPECT_MASK,
        CTA_EXPECT_HELP_NAME,
        CTA_EXPECT_ZONE,
        CTA_EXPECT_CLASS,
        CTA_EXPECT_NAT,
        CTA_EXPECT_FN,
    ];
    let raw = keep
        .iter()
        .filter_map(|&k| attrs.get(k).map(|a| (k, a.data.to_vec())))
        .collect();
    Some(ListedExp {
        class: attrs
            .get(CTA_EXPECT_CLASS)
            .and_then(|c| c.be32())
            .unwrap_or(0),
        flags: attrs
            .get(CTA_EXPECT_FLAGS)
            .and_then(|c| c.be32())
            .unwrap_or(0),
        tuple,
        raw,
    })
}

/// The body of a listed expectation with other `flags`: its raw attributes
/// (TUPLE, MASK, HELP_NAME, ZONE, CLASS, NAT, FN) and FLAGS.
fn put_listed(w: &mut AttrWriter, e: &ListedExp, flags: u32) {
    const NESTED: [u16; 3] = [CTA_EXPECT_TUPLE, CTA_EXPECT_MASK, CTA_EXPECT_NAT];
    for (k, data) in &e.raw {
        if NESTED.contains(k) {
            w.nest_raw(*k, data);
        } else {
            w.put(*k, data);
        }
    }
    w.be32(CTA_EXPECT_FLAGS, flags);
}

/// IPCTNL_MSG_EXP_NEW that re-creates a listed expectation of `master` with
/// other `flags` (ctnetlink cannot change the flags of a live one).
pub fn exp_recreate(master: &Tuple, e: &ListedExp, flags: u32, family: u8) -> NfMsg {
    let mut w = AttrWriter::new();
    put_tuple(&mut w, CTA_EXPECT_MASTER, master);
    put_listed(&mut w, e, flags);
    // The zone is among the listed attributes already.
    exp_msg(IPCTNL_MSG_EXP_NEW, w, family, None)
}

/// The contents of an NFQA_EXP that re-creates a listed expectation with
/// other `flags`.  Unlike [`exp_recreate`] this keeps the helper that the
/// expected connection gets (HELP_NAME): kernels since the 2026 expectation
/// fixes (6.1.187, upstream "restore helper propagation via expectation")
/// honour HELP_NAME only on the NFQUEUE path, IPCTNL_MSG_EXP_NEW ignores it.
pub fn exp_recreate_nfqa(e: &ListedExp, flags: u32) -> Vec<u8> {
    let mut w = AttrWriter::new();
    put_listed(&mut w, e, flags);
    w.into_bytes()
}

/// IPCTNL_MSG_EXP_NEW without NLM_F_CREATE: sets the remaining lifetime of
/// the listed expectation `e` of `master` (ctnetlink_new_expect() wants
/// TUPLE, MASK and MASTER even for an update: without them EINVAL).
pub fn exp_set_timeout(
    master: &Tuple,
    e: &ListedExp,
    family: u8,
    zone: Option<u16>,
    timeout: u32,
) -> NfMsg {
    let mut w = AttrWriter::new();
    put_tuple(&mut w, CTA_EXPECT_MASTER, master);
    for (k, data) in &e.raw {
        if *k == CTA_EXPECT_TUPLE || *k == CTA_EXPECT_MASK {
            w.nest_raw(*k, data);
        }
    }
    w.be32(CTA_EXPECT_TIMEOUT, timeout);
    exp_msg(IPCTNL_MSG_EXP_NEW, w, family, zone)
}

/// The master's original tuple of an expectation as ctnetlink lists it.
pub fn exp_master(attrs: Attrs<'_>) -> Option<Tuple> {
    parse_tuple(attrs.get(CTA_EXPECT_MASTER)?.nested())
}

/// Direction from NFQA_CT_INFO.
pub fn dir_of(ctinfo: u32) -> Dir {
    if ctinfo >= IP_CT_IS_REPLY {
        Dir::Reply
    } else {
        Dir::Original
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use helpers::{ExpectFlags, ExpectNat};

    use crate::netlink::test_attrs::{nest, nla};

    fn tup(s: [u8; 4], d: [u8; 4], p: u8, sp: u16, dp: u16) -> Vec<Vec<u8>> {
        vec![
            nest(1, &[nla(1, &s), nla(2, &d)]),
            nest(
                2,
                &[
                    nla(1, &[p]),
                    nla(2, &sp.to_be_bytes()),
                    nla(3, &dp.to_be_bytes()),
                ],
            ),
        ]
    }

    #[test]
    fn expectation_with_nat_layout() {
        // An FTP PORT through masquerade: data connection expected from the
        // server 192.0.2.9 (any port) to the router 198.51.100.1:50001,
        // DNATed to the client 10.0.1.2:51201.
        let exp = Expectation {
            class: 0,
            proto: L4Proto::Tcp,
            src: SrcAddr::Exact("192.0.2.9".parse().unwrap()),
            dst: "198.51.100.1".parse().unwrap(),
            sport: None,
            dport: 50001,
            flags: ExpectFlags::NONE,
            helper: None,
            nat: Some(ExpectNat {
                dir: Dir::Original,
                saved_addr: "10.0.1.2".parse().unwrap(),
                saved_port: 51201,
                expectfn: helpers::ExpectFn::NatFollowMaster,
            }),
        };
        let mut w = AttrWriter::new();
        put_expectation(&mut w, &exp);
        let want = [
            nest(
                CTA_EXPECT_TUPLE,
                &tup([192, 0, 2, 9], [198, 51, 100, 1], 6, 0, 50001),
            ),
            nest(CTA_EXPECT_MASK, &tup([255; 4], [255; 4], 6, 0, 0xffff)),
            nla(CTA_EXPECT_CLASS, &0u32.to_be_bytes()),
            nla(CTA_EXPECT_FLAGS, &0u32.to_be_bytes()),
            nla(CTA_EXPECT_FN, b"nat-follow-master\0"),
            nest(
                CTA_EXPECT_NAT,
                &[
                    nla(CTA_EXPECT_NAT_DIR, &0u32.to_be_bytes()),
                    nest(
                        CTA_EXPECT_NAT_TUPLE,
                        &tup([10, 0, 1, 2], [198, 51, 100, 1], 6, 51201, 50001),
                    ),
                ],
            ),
        ]
        .concat();
        assert_eq!(w.into_bytes(), want);
    }

    #[test]
    fn exp_new_message() {
        let master = Tuple {
            src: "10.0.1.2".parse().unwrap(),
            dst: "192.0.2.9".parse().unwrap(),
            proto: L4Proto::Tcp,
            sport: 40000,
            dport: 21,
        };
        let exp = Expectation {
            class: 1,
            proto: L4Proto::Udp,
            src: SrcAddr::Any,
            dst: "10.0.1.2".parse().unwrap(),
            sport: None,
            dport: 5004,
            flags: ExpectFlags::PERMANENT,
            helper: Some("sip"),
            nat: None,
        };
        let m = exp_new(&master, &exp, AF_INET, None);
        assert_eq!((m.subsys, m.cmd, m.family), (2, 0, 2));
        let want = [
            nest(
                CTA_EXPECT_MASTER,
                &tup([10, 0, 1, 2], [192, 0, 2, 9], 6, 40000, 21),
            ),
            nest(CTA_EXPECT_TUPLE, &tup([0; 4], [10, 0, 1, 2], 17, 0, 5004)),
            nest(CTA_EXPECT_MASK, &tup([0; 4], [255; 4], 17, 0, 0xffff)),
            nla(CTA_EXPECT_CLASS, &1u32.to_be_bytes()),
            nla(CTA_EXPECT_FLAGS, &1u32.to_be_bytes()),
            nla(CTA_EXPECT_HELP_NAME, b"sip\0"),
        ]
        .concat();
        assert_eq!(m.attrs, want);
    }

    #[test]
    fn parses_queued_conntrack() {
        let bytes = [
            nest(
                CTA_TUPLE_ORIG,
                &tup([10, 0, 1, 2], [192, 0, 2, 9], 6, 40000, 21),
            ),
            nest(
                CTA_TUPLE_REPLY,
                &tup([192, 0, 2, 9], [198, 51, 100, 1], 6, 21, 40000),
            ),
            nla(CTA_STATUS, &(IPS_CONFIRMED | IPS_SRC_NAT).to_be_bytes()),
            nla(CTA_ID, &77u32.to_be_bytes()),
            nest(
                CTA_HELP,
                &[nla(CTA_HELP_NAME, b"ftp\0"), nla(CTA_HELP_INFO, &[1, 2, 3])],
            ),
            nest(
                CTA_SEQ_ADJ_REPLY,
                &[
                    nla(CTA_SEQADJ_CORRECTION_POS, &9u32.to_be_bytes()),
                    nla(CTA_SEQADJ_OFFSET_BEFORE, &0u32.to_be_bytes()),
                    nla(CTA_SEQADJ_OFFSET_AFTER, &(-3i32).to_be_bytes()),
                ],
            ),
        ]
        .concat();
        let ct = CtView::parse(Attrs::new(&bytes)).unwrap();
        assert_eq!(ct.seqadj[0], None);
        assert_eq!(
            ct.seqadj[1],
            Some(SeqAdj {
                correction_pos: 9,
                offset_before: 0,
                offset_after: -3
            })
        );
        assert_eq!(ct.orig.dport, 21);
        assert_eq!(ct.reply.dst.to_string(), "198.51.100.1");
        assert!(ct.confirmed() && ct.natted());
        assert_eq!(ct.id, 77);
        assert_eq!(ct.helper.as_deref(), Some("ftp"));
        assert_eq!(ct.help_info, vec![1, 2, 3]);
        // a truncated copy never panics and never half-parses
        for n in 0..bytes.len() {
            let _ = CtView::parse(Attrs::new(&bytes[..n]));
        }
        assert_eq!(dir_of(0), Dir::Original);
        assert_eq!(dir_of(2), Dir::Original);
        assert_eq!(dir_of(3), Dir::Reply);
        assert_eq!(dir_of(4), Dir::Reply);
    }

    #[test]
    fn seqadj_follows_the_kernel_rule() {
        let none = SeqAdj::default();
        let a = none.after_resize(1000, 30).unwrap();
        assert_eq!(
            (a.correction_pos, a.offset_before, a.offset_after),
            (1000, 0, 30)
        );
        // a later resize accumulates
        let b = a.after_resize(2000, -4).unwrap();
        assert_eq!(
            (b.correction_pos, b.offset_before, b.offset_after),
            (2000, 30, 26)
        );
        // a retransmission of the first packet changes nothing
        assert_eq!(b.after_resize(1000, 30), None);
        // across the sequence-number wrap
        let w = SeqAdj {
            correction_pos: u32::MAX - 10,
            offset_before: 0,
            offset_after: 5,
        };
        assert_eq!(w.after_resize(20, 5).unwrap().offset_after, 10);
    }

    #[test]
    fn ct_update_layout() {
        let orig = Tuple {
            src: "fd00:1::2".parse().unwrap(),
            dst: "fd00:2::2".parse().unwrap(),
            proto: L4Proto::Tcp,
            sport: 30000,
            dport: 21,
        };
        let adj = SeqAdj {
            correction_pos: 7,
            offset_before: 0,
            offset_after: -2,
        };
        let m = ct_update(
            &orig,
            AF_INET6,
            None,
            Some((Dir::Original, adj)),
            "ftp",
            &[5; 4],
            Some(60),
        );
        assert_eq!((m.subsys, m.cmd, m.family), (1, 0, 10));
        let a = Attrs::new(&m.attrs);
        assert_eq!(a.get(CTA_TIMEOUT).and_then(|t| t.be32()), Some(60));
        assert_eq!(
            parse_tuple(a.get(CTA_TUPLE_ORIG).unwrap().nested()),
            Some(orig)
        );
        let s = a.get(CTA_SEQ_ADJ_ORIG).unwrap().nested();
        assert_eq!(parse_seqadj(s), Some(adj));
        assert_eq!(
            s.get(CTA_SEQADJ_OFFSET_AFTER).unwrap().data,
            &[0xff, 0xff, 0xff, 0xfe]
        );
        let h = a.get(CTA_HELP).unwrap().nested();
        assert_eq!(h.get(CTA_HELP_INFO).unwrap().data, &[5; 4]);
        assert!(a.get(CTA_SEQ_ADJ_REPLY).is_none());
    }

    #[test]
    fn exp_delete_and_dump_layout() {
        let exp = Expectation {
            class: 2,
            proto: L4Proto::Udp,
            src: SrcAddr::Any,
            dst: "10.0.1.2".parse().unwrap(),
            sport: None,
            dport: 5004,
            flags: ExpectFlags::NONE,
            helper: None,
            nat: None,
        };
        let t = exp_tuple_bytes(&exp);
        assert_eq!(t, tup([0; 4], [10, 0, 1, 2], 17, 0, 5004).concat());
        let d = exp_delete(&t, AF_INET, Some(0));
        assert_eq!((d.subsys, d.cmd, d.family), (2, 2, 2));
        assert_eq!(
            d.attrs,
            nest(CTA_EXPECT_TUPLE, &tup([0; 4], [10, 0, 1, 2], 17, 0, 5004))
        );
        let g = exp_get(&exp, AF_INET, Some(3));
        assert_eq!(g.cmd, 1);
        assert_eq!(
            g.attrs,
            [
                nest(CTA_EXPECT_TUPLE, &tup([0; 4], [10, 0, 1, 2], 17, 0, 5004)),
                nla(CTA_EXPECT_ZONE, &3u16.to_be_bytes()),
            ]
            .concat()
        );
        // a listed expectation, as ctnetlink dumps it
        let listed = [
            nest(CTA_EXPECT_TUPLE, &tup([0; 4], [10, 0, 1, 2], 17, 0, 5004)),
            nla(CTA_EXPECT_CLASS, &2u32.to_be_bytes()),
        ]
        .concat();
        let e = exp_listed(Attrs::new(&listed)).unwrap();
        assert_eq!((e.class, e.tuple_bytes()), (2, t));
        assert_eq!(e.tuple.dport, 5004);
    }

    #[test]
    fn verdict_ct_layout() {
        let w = verdict_ct("ftp", &[9; 24], None);
        let want = nest(
            CTA_HELP,
            &[nla(CTA_HELP_NAME, b"ftp\0"), nla(CTA_HELP_INFO, &[9; 24])],
        );
        assert_eq!(w.into_bytes(), want);
    }

    #[test]
    fn listed_expectation_is_recreated_with_other_flags() {
        let master = Tuple {
            src: "10.0.1.2".parse().unwrap(),
            dst: "10.0.2.2".parse().unwrap(),
            proto: L4Proto::Udp,
            sport: 5060,
            dport: 5060,
        };
        let mut exp = Expectation {
            class: 0,
            proto: L4Proto::Udp,
            src: SrcAddr::Exact("10.0.2.2".parse().unwrap()),
            dst: "10.0.2.1".parse().unwrap(),
            sport: None,
            dport: 5060,
            flags: helpers::ExpectFlags::PERMANENT | helpers::ExpectFlags::INACTIVE,
            helper: Some("sip"),
            nat: Some(helpers::ExpectNat {
                dir: Dir::Reply,
                saved_addr: "10.0.1.2".parse().unwrap(),
                saved_port: 5060,
                expectfn: helpers::ExpectFn::NatFollowMaster,
            }),
        };
        // What a dump carries: the body plus MASTER, TIMEOUT, ID.
        let mut w = AttrWriter::new();
        put_tuple(&mut w, CTA_EXPECT_MASTER, &master);
        w.be32(CTA_EXPECT_TIMEOUT, 170);
        put_expectation(&mut w, &exp);
        w.be32(12, 0xdead);
        let listed = exp_listed(Attrs::new(w.as_bytes())).unwrap();
        assert_eq!(listed.class, 0);
        assert_eq!(listed.flags, 3);
        assert_eq!(listed.tuple.dst, exp.dst);
        assert_eq!(listed.tuple.dport, 5060);
        let m = exp_recreate(&master, &listed, 1, AF_INET);
        exp.flags = helpers::ExpectFlags::PERMANENT;
        let want = exp_new(&master, &exp, AF_INET, None);
        let (got, want) = (Attrs::new(&m.attrs), Attrs::new(&want.attrs));
        for k in [
            CTA_EXPECT_MASTER,
            CTA_EXPECT_TUPLE,
            CTA_EXPECT_MASK,
            CTA_EXPECT_CLASS,
            CTA_EXPECT_FLAGS,
            CTA_EXPECT_HELP_NAME,
            CTA_EXPECT_FN,
            CTA_EXPECT_NAT,
        ] {
            assert_eq!(
                got.get(k).map(|a| a.data.to_vec()),
                want.get(k).map(|a| a.data.to_vec()),
                "attribute {k}"
            );
        }
        assert!(got.get(CTA_EXPECT_TIMEOUT).is_none());
        // The same body in a verdict's NFQA_EXP (no MASTER: the glue attaches
        // it to the queued packet's conntrack).
        let body = exp_recreate_nfqa(&listed, 1);
        let nfqa = Attrs::new(&body);
        assert!(nfqa.get(CTA_EXPECT_MASTER).is_none());
        for k in [
            CTA_EXPECT_TUPLE,
            CTA_EXPECT_MASK,
            CTA_EXPECT_FLAGS,
            CTA_EXPECT_HELP_NAME,
            CTA_EXPECT_NAT,
        ] {
            assert_eq!(
                nfqa.get(k).map(|a| a.data.to_vec()),
                want.get(k).map(|a| a.data.to_vec()),
                "attribute {k}"
            );
        }
        // An update needs TUPLE, MASK and MASTER (else EINVAL) besides TIMEOUT.
        let t = exp_set_timeout(&master, &listed, AF_INET, None, 3600);
        let a = Attrs::new(&t.attrs);
        assert_eq!(a.get(CTA_EXPECT_TIMEOUT).and_then(|t| t.be32()), Some(3600));
        for k in [CTA_EXPECT_MASTER, CTA_EXPECT_TUPLE, CTA_EXPECT_MASK] {
            assert_eq!(
                a.get(k).map(|a| a.data.to_vec()),
                want.get(k).map(|a| a.data.to_vec()),
                "attribute {k}"
            );
        }
        assert!(a.get(CTA_EXPECT_FLAGS).is_none());
    }
}
