//! nfnetlink_queue (include/uapi/linux/netfilter/nfnetlink_queue.h): bind
//! a queue, read queued packets with their conntrack, send verdicts.

use super::attr::{AttrWriter, Attrs};
use super::ct::CtView;
use super::{NfMsg, AF_UNSPEC, NFNL_SUBSYS_QUEUE};

// enum nfqnl_msg_types
pub const NFQNL_MSG_PACKET: u8 = 0;
pub const NFQNL_MSG_VERDICT: u8 = 1;
pub const NFQNL_MSG_CONFIG: u8 = 2;
// enum nfqnl_attr_type
pub const NFQA_PACKET_HDR: u16 = 1;
pub const NFQA_VERDICT_HDR: u16 = 2;
// (3 NFQA_MARK, 4 NFQA_TIMESTAMP)
pub const NFQA_IFINDEX_INDEV: u16 = 5;
pub const NFQA_IFINDEX_OUTDEV: u16 = 6;
pub const NFQA_PAYLOAD: u16 = 10;
pub const NFQA_CT: u16 = 11;
pub const NFQA_CT_INFO: u16 = 12;
pub const NFQA_CAP_LEN: u16 = 13;
pub const NFQA_SKB_INFO: u16 = 14;
pub const NFQA_EXP: u16 = 15;
// enum nfqnl_attr_config
pub const NFQA_CFG_CMD: u16 = 1;
pub const NFQA_CFG_PARAMS: u16 = 2;
pub const NFQA_CFG_QUEUE_MAXLEN: u16 = 3;
pub const NFQA_CFG_MASK: u16 = 4;
pub const NFQA_CFG_FLAGS: u16 = 5;
// enum nfqnl_msg_config_cmds
pub const NFQNL_CFG_CMD_BIND: u8 = 1;
pub const NFQNL_CFG_CMD_UNBIND: u8 = 2;
// enum nfqnl_config_mode
pub const NFQNL_COPY_PACKET: u8 = 2;
// NFQA_CFG_F_*
pub const NFQA_CFG_F_FAIL_OPEN: u32 = 1 << 0;
pub const NFQA_CFG_F_CONNTRACK: u32 = 1 << 1;
pub const NFQA_CFG_F_GSO: u32 = 1 << 2;
// NFQA_SKB_*
pub const NFQA_SKB_CSUMNOTREADY: u32 = 1 << 0;
pub const NFQA_SKB_GSO: u32 = 1 << 1;

pub const NF_DROP: u32 = 0;
pub const NF_ACCEPT: u32 = 1;

/// How a queue is configured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueConfig {
    pub num: u16,
    pub copy_range: u32,
    pub maxlen: u32,
    pub flags: u32,
}

impl QueueConfig {
    /// The flags cthelperd uses: conntrack attached, fail open when the
    /// queue is full. No F_GSO: the kernel segments GSO packets and
    /// finishes their checksums before queueing, so every queued packet is
    /// a wire packet we can edit.
    pub fn helper_queue(num: u16, maxlen: u32) -> Self {
        QueueConfig {
            num,
            copy_range: 0xffff,
            maxlen,
            flags: NFQA_CFG_F_CONNTRACK | NFQA_CFG_F_FAIL_OPEN,
        }
    }

    /// One NFQNL_MSG_CONFIG with BIND, PARAMS, QUEUE_MAXLEN, MASK and
    /// FLAGS. The kernel checks the flags (F_CONNTRACK needs the conntrack
    /// glue) before it binds, so a refused flag leaves nothing bound.
    pub fn bind_msg(&self) -> NfMsg {
        let mut w = AttrWriter::new();
        // struct nfqnl_msg_config_cmd { u8 command; u8 _pad; __be16 pf; }
        w.put(NFQA_CFG_CMD, &[NFQNL_CFG_CMD_BIND, 0, 0, 0]);
        // struct nfqnl_msg_config_params { __be32 copy_range; u8 copy_mode; } packed
        let mut p = self.copy_range.to_be_bytes().to_vec();
        p.push(NFQNL_COPY_PACKET);
        w.put(NFQA_CFG_PARAMS, &p);
        w.be32(NFQA_CFG_QUEUE_MAXLEN, self.maxlen);
        w.be32(NFQA_CFG_MASK, self.flags);
        w.be32(NFQA_CFG_FLAGS, self.flags);
        NfMsg::new(
            NFNL_SUBSYS_QUEUE,
            NFQNL_MSG_CONFIG,
            AF_UNSPEC,
            self.num,
            w.into_bytes(),
        )
    }

    pub fn unbind_msg(&self) -> NfMsg {
        let mut w = AttrWriter::new();
        w.put(NFQA_CFG_CMD, &[NFQNL_CFG_CMD_UNBIND, 0, 0, 0]);
        NfMsg::new(
            NFNL_SUBSYS_QUEUE,
            NFQNL_MSG_CONFIG,
            AF_UNSPEC,
            self.num,
            w.into_bytes(),
        )
    }
}

/// One queued packet.
#[derive(Debug, Clone)]
pub struct Queued<'a> {
    pub id: u32,
    pub hw_protocol: u16,
    pub hook: u8,
    /// The L3 packet (as much as was copied).
    pub payload: &'a [u8],
    /// Set when the packet was longer than what was copied.
    pub cap_len: Option<u32>,
    pub ct: Option<CtView>,
    pub ctinfo: Option<u32>,
    pub skb_info: u32,
    /// The interface the packet leaves through (absent on input hooks).
    pub outdev: Option<u32>,
    /// The interface the packet came in by: absent for a packet this host
    /// sent (at the postrouting hook, where helpers run, `ip_output()`
    /// passes `skb->dev` as the input device: the input interface of a
    /// forwarded packet, none for a local one).
    pub indev: Option<u32>,
}

/// Why a packet message could not be used at all (not even for a verdict).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NoPacketId;

impl<'a> Queued<'a> {
    /// Parses NFQNL_MSG_PACKET attributes. Only the packet id is required:
    /// with it any other defect still gets a verdict (accept).
    pub fn parse(attrs: &'a [u8]) -> Result<Queued<'a>, NoPacketId> {
        let a = Attrs::new(attrs);
        // struct nfqnl_msg_packet_hdr { __be32 packet_id; __be16 hw_protocol; u8 hook; } packed
        let hdr = a.get(NFQA_PACKET_HDR).ok_or(NoPacketId)?;
        let id = hdr.be32().ok_or(NoPacketId)?;
        let hw_protocol = hdr
            .data
            .get(4..6)
            .map(|b| u16::from_be_bytes([b[0], b[1]]))
            .unwrap_or(0);
        let hook = hdr.data.get(6).copied().unwrap_or(0);
        Ok(Queued {
            id,
            hw_protocol,
            hook,
            payload: a.get(NFQA_PAYLOAD).map(|p| p.data).unwrap_or(&[]),
            cap_len: a.get(NFQA_CAP_LEN).and_then(|c| c.be32()),
            ct: a.get(NFQA_CT).and_then(|c| CtView::parse(c.nested())),
            ctinfo: a.get(NFQA_CT_INFO).and_then(|c| c.be32()),
            skb_info: a.get(NFQA_SKB_INFO).and_then(|c| c.be32()).unwrap_or(0),
            outdev: a.get(NFQA_IFINDEX_OUTDEV).and_then(|c| c.be32()),
            indev: a.get(NFQA_IFINDEX_INDEV).and_then(|c| c.be32()),
        })
    }
}

/// A verdict with its optional parts.
#[derive(Debug, Clone, Default)]
pub struct Verdict {
    pub id: u32,
    pub verdict: u32,
    /// The whole new L3 packet.
    pub payload: Option<Vec<u8>>,
    /// NFQA_CT contents (see [`super::ct::verdict_ct`]).
    pub ct: Option<Vec<u8>>,
    /// NFQA_EXP contents (see [`super::ct::put_expectation`]). The kernel
    /// only looks at it when NFQA_CT is present and parses.
    pub exp: Option<Vec<u8>>,
}

impl Verdict {
    pub fn accept(id: u32) -> Self {
        Verdict {
            id,
            verdict: NF_ACCEPT,
            ..Default::default()
        }
    }
    pub fn msg(&self, queue: u16) -> NfMsg {
        let mut w = AttrWriter::new();
        // struct nfqnl_msg_verdict_hdr { __be32 verdict; __be32 id; }
        let mut h = self.verdict.to_be_bytes().to_vec();
        h.extend_from_slice(&self.id.to_be_bytes());
        w.put(NFQA_VERDICT_HDR, &h);
        if let Some(p) = &self.payload {
            w.put(NFQA_PAYLOAD, p);
        }
        if let Some(c) = &self.ct {
            w.nest_raw(NFQA_CT, c);
        }
        if let Some(e) = &self.exp {
            w.nest_raw(NFQA_EXP, e);
        }
        NfMsg::new(
            NFNL_SUBSYS_QUEUE,
            NFQNL_MSG_VERDICT,
            AF_UNSPEC,
            queue,
            w.into_bytes(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::netlink::ct;

    #[test]
    fn bind_layout() {
        let m = QueueConfig::helper_queue(5, 1024).bind_msg();
        assert_eq!((m.subsys, m.cmd, m.family, m.res_id), (3, 2, 0, 5));
        assert_eq!(
            m.attrs,
            vec![
                8, 0, 1, 0, 1, 0, 0, 0, // CFG_CMD: BIND, pf 0
                9, 0, 2, 0, 0, 0, 0xff, 0xff, 2, 0, 0, 0, // PARAMS: 0xffff, COPY_PACKET
                8, 0, 3, 0, 0, 0, 4, 0, // QUEUE_MAXLEN 1024
                8, 0, 4, 0, 0, 0, 0, 3, // MASK CONNTRACK|FAIL_OPEN
                8, 0, 5, 0, 0, 0, 0, 3, // FLAGS
            ]
        );
    }

    #[test]
    fn verdict_layout() {
        let v = Verdict {
            id: 0x0a0b0c0d,
            verdict: NF_ACCEPT,
            payload: Some(vec![0x45, 0, 0]),
            ct: Some(ct::verdict_ct("ftp", &[1, 2], None).into_bytes()),
            exp: Some(vec![8, 0, 9, 0, 0, 0, 0, 0]),
        };
        let m = v.msg(1);
        assert_eq!((m.subsys, m.cmd, m.res_id), (3, 1, 1));
        let mut want = vec![12, 0, 2, 0, 0, 0, 0, 1, 0x0a, 0x0b, 0x0c, 0x0d];
        want.extend_from_slice(&[7, 0, 10, 0, 0x45, 0, 0, 0]);
        // NFQA_CT { CTA_HELP { NAME "ftp", INFO [1,2] } }
        want.extend_from_slice(&[24, 0, 11, 0x80, 20, 0, 5, 0x80]);
        want.extend_from_slice(&[8, 0, 1, 0, b'f', b't', b'p', 0]);
        want.extend_from_slice(&[6, 0, 2, 0, 1, 2, 0, 0]);
        want.extend_from_slice(&[12, 0, 15, 0x80, 8, 0, 9, 0, 0, 0, 0, 0]);
        assert_eq!(m.attrs, want);
    }

    #[test]
    fn packet_parse() {
        let mut w = AttrWriter::new();
        w.put(NFQA_PACKET_HDR, &[0, 0, 0, 42, 0x08, 0x00, 3]);
        w.put(NFQA_PAYLOAD, &[0x45, 1, 2, 3]);
        w.be32(NFQA_CT_INFO, 3);
        w.be32(NFQA_SKB_INFO, NFQA_SKB_CSUMNOTREADY);
        w.be32(NFQA_IFINDEX_OUTDEV, 7);
        let b = w.into_bytes();
        let q = Queued::parse(&b).unwrap();
        assert_eq!((q.outdev, q.indev), (Some(7), None));
        // The attribute numbers of enum nfqnl_attr_type, literally: 4 is
        // NFQA_TIMESTAMP (16 bytes), 5 NFQA_IFINDEX_INDEV, 6 OUTDEV.
        let mut w = AttrWriter::new();
        w.put(NFQA_PACKET_HDR, &[0, 0, 0, 43, 0x08, 0x00, 4]);
        w.put(4, &[0; 16]);
        w.be32(5, 2);
        w.be32(6, 3);
        let fwd = w.into_bytes();
        let f = Queued::parse(&fwd).unwrap();
        assert_eq!((f.indev, f.outdev), (Some(2), Some(3)));
        assert_eq!((q.id, q.hw_protocol, q.hook), (42, 0x0800, 3));
        assert_eq!(q.payload, &[0x45, 1, 2, 3]);
        assert_eq!(q.ctinfo, Some(3));
        assert!(q.ct.is_none());
        assert_eq!(q.skb_info, 1);
        assert!(Queued::parse(&b[..4]).is_err());
    }
}
