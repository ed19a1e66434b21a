//! IPv4/IPv6 packets with TCP, UDP or GRE on top: a parse that never panics
//! and tells where everything is, and the one rebuild that puts a packet
//! back together after edits — new payload, addresses, ports, GRE key,
//! sequence and acknowledgement numbers, SACK edges — with every length and
//! checksum right.
//!
//! Both drivers use it: the daemon on the L3 packets NFQUEUE hands over, the
//! replay on the L3 part of captured frames.

use helpers::L4Proto;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

const IPPROTO_TCP: u8 = 6;
const IPPROTO_UDP: u8 = 17;
const IPPROTO_GRE: u8 = 47;

/// GRE header bits (RFC 2637 enhanced GRE, `struct gre_base_hdr`).
const GRE_CSUM: u16 = 0x8000;
const GRE_KEY: u16 = 0x2000;
const GRE_SEQ: u16 = 0x1000;
const GRE_ACK: u16 = 0x0080;
const GRE_VERSION: u16 = 0x0007;
const GRE_PROTO_PPP: u16 = 0x880b;

/// Why a packet's headers cannot be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WireError {
    /// The headers end before they are complete.
    Truncated,
    /// A length or field that cannot be right.
    BadHeader,
    /// A fragment other than the first (its L4 header is elsewhere).
    Fragment,
    /// Not TCP, UDP or GRE (or GRE that conntrack does not track by key).
    OtherProtocol,
}

impl WireError {
    pub fn reason(self) -> helpers::Reason {
        use helpers::Reason;
        match self {
            WireError::Truncated => Reason::Truncated,
            WireError::BadHeader => Reason::BadHeader,
            WireError::Fragment => Reason::Fragment,
            WireError::OtherProtocol => Reason::OtherProtocol,
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            WireError::Truncated => "truncated",
            WireError::BadHeader => "malformed",
            WireError::Fragment => "IP fragment",
            WireError::OtherProtocol => "not TCP/UDP/GRE",
        }
    }
}

/// The TCP header fields the flow core needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tcp {
    pub seq: u32,
    pub ack: u32,
    pub flags: u8,
}

pub const TCP_FIN: u8 = 0x01;
pub const TCP_SYN: u8 = 0x02;
pub const TCP_RST: u8 = 0x04;
pub const TCP_ACK: u8 = 0x10;

/// Where everything is in one L3 packet (offsets into it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layout {
    pub v6: bool,
    pub src: IpAddr,
    pub dst: IpAddr,
    pub proto: L4Proto,
    /// TCP/UDP ports; GRE: 0 and the key (call ID) as conntrack makes the
    /// tuple without its keymap (see [`parse`]).
    pub sport: u16,
    pub dport: u16,
    /// Offset of the TCP/UDP/GRE header (after IPv4 options and IPv6
    /// extension headers).
    pub l4: usize,
    /// Offset of the payload.
    pub payload: usize,
    /// End of the IP packet (its total length; bytes after it are not ours).
    pub end: usize,
    pub tcp: Option<Tcp>,
    /// The first fragment of a fragmented datagram: its L4 header is here,
    /// the rest of the datagram is not.
    pub first_fragment: bool,
    /// The buffer holds less than the IP packet (a capture's snap length);
    /// the headers are complete.
    pub truncated: bool,
}

impl Layout {
    /// The payload bytes the buffer holds.
    pub fn payload<'a>(&self, pkt: &'a [u8]) -> &'a [u8] {
        pkt.get(self.payload..self.end.min(pkt.len()))
            .unwrap_or(&[])
    }
    pub fn tuple(&self) -> helpers::Tuple {
        helpers::Tuple {
            src: self.src,
            dst: self.dst,
            proto: self.proto,
            sport: self.sport,
            dport: self.dport,
        }
    }
    /// The sequence number after this segment's payload.
    pub fn next_seq(&self, pkt: &[u8]) -> Option<u32> {
        let t = self.tcp?;
        Some(t.seq.wrapping_add(self.payload(pkt).len() as u32))
    }
}

fn be16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes(
        b.get(at..at.checked_add(2)?)?.try_into().ok()?,
    ))
}
fn be32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(
        b.get(at..at.checked_add(4)?)?.try_into().ok()?,
    ))
}

/// Parses the IP and L4 headers of `pkt`, an L3 packet.
///
/// IPv6 extension headers (hop-by-hop, routing, destination options,
/// mobility, HIP, shim6, AH) are skipped; a fragment header with offset 0 is
/// a first fragment, any other fragment is refused. GRE is parsed as
/// `nf_conntrack_proto_gre` builds its tuple without the PPTP keymap: for
/// version 1 (enhanced GRE carrying PPP) the destination key is the call ID
/// in the header and the source key 0; for version 0 both keys are 0; other
/// GRE is not tracked.
pub fn parse(pkt: &[u8]) -> Result<Layout, WireError> {
    let t = WireError::Truncated;
    let first = *pkt.first().ok_or(t)?;
    let mut first_fragment = false;
    let (v6, src, dst, proto, l4, end) = match first >> 4 {
        4 => {
            let ihl = usize::from(first & 0x0f) * 4;
            if ihl < 20 {
                return Err(WireError::BadHeader);
            }
            if pkt.len() < ihl {
                return Err(t);
            }
            let total = usize::from(be16(pkt, 2).ok_or(t)?);
            if total < ihl {
                return Err(WireError::BadHeader);
            }
            let frag = be16(pkt, 6).ok_or(t)?;
            if frag & 0x1fff != 0 {
                return Err(WireError::Fragment);
            }
            first_fragment = frag & 0x2000 != 0;
            let s = Ipv4Addr::from(be32(pkt, 12).ok_or(t)?);
            let d = Ipv4Addr::from(be32(pkt, 16).ok_or(t)?);
            let proto = *pkt.get(9).ok_or(t)?;
            (false, IpAddr::V4(s), IpAddr::V4(d), proto, ihl, total)
        }
        6 => {
            let plen = usize::from(be16(pkt, 4).ok_or(t)?);
            let s: [u8; 16] = pkt.get(8..24).ok_or(t)?.try_into().map_err(|_| t)?;
            let d: [u8; 16] = pkt.get(24..40).ok_or(t)?.try_into().map_err(|_| t)?;
            let end = 40 + plen;
            let mut next = *pkt.get(6).ok_or(t)?;
            let mut off = 40usize;
            loop {
                let len = match next {
                    0 | 43 | 60 | 135 | 139 | 140 => {
                        (usize::from(*pkt.get(off + 1).ok_or(t)?) + 1) * 8
                    }
                    51 => (usize::from(*pkt.get(off + 1).ok_or(t)?) + 2) * 4,
                    44 => {
                        let fo = be16(pkt, off + 2).ok_or(t)?;
                        if fo & 0xfff8 != 0 {
                            return Err(WireError::Fragment);
                        }
                        first_fragment |= fo & 1 != 0;
                        8
                    }
                    _ => break,
                };
                next = *pkt.get(off).ok_or(t)?;
                off += len;
                if off > end {
                    return Err(WireError::BadHeader);
                }
            }
            (
                true,
                IpAddr::V6(Ipv6Addr::from(s)),
                IpAddr::V6(Ipv6Addr::from(d)),
                next,
                off,
                end,
            )
        }
        _ => return Err(WireError::BadHeader),
    };
    if l4 > end {
        return Err(WireError::BadHeader);
    }
    let truncated = end > pkt.len();
    // The L4 header must be inside the IP packet and the buffer.
    let need = |n: usize| -> Result<(), WireError> {
        if l4 + n > end {
            Err(WireError::BadHeader)
        } else if l4 + n > pkt.len() {
            Err(t)
        } else {
            Ok(())
        }
    };
    let (proto, sport, dport, payload, tcp) = match proto {
        IPPROTO_TCP => {
            need(20)?;
            let doff = usize::from(pkt.get(l4 + 12).ok_or(t)? >> 4) * 4;
            if doff < 20 {
                return Err(WireError::BadHeader);
            }
            need(doff)?;
            let tcp = Tcp {
                seq: be32(pkt, l4 + 4).ok_or(t)?,
                ack: be32(pkt, l4 + 8).ok_or(t)?,
                flags: *pkt.get(l4 + 13).ok_or(t)?,
            };
            let (sp, dp) = (be16(pkt, l4).ok_or(t)?, be16(pkt, l4 + 2).ok_or(t)?);
            (L4Proto::Tcp, sp, dp, l4 + doff, Some(tcp))
        }
        IPPROTO_UDP => {
            need(8)?;
            let (sp, dp) = (be16(pkt, l4).ok_or(t)?, be16(pkt, l4 + 2).ok_or(t)?);
            (L4Proto::Udp, sp, dp, l4 + 8, None)
        }
        IPPROTO_GRE => {
            need(4)?;
            let flags = be16(pkt, l4).ok_or(t)?;
            if flags & GRE_VERSION == 0 {
                // Keys 0/0: tracked like a generic protocol.
                (L4Proto::Gre, 0, 0, end.min(pkt.len()), None)
            } else if flags & GRE_VERSION == 1
                && flags & GRE_KEY != 0
                && be16(pkt, l4 + 2) == Some(GRE_PROTO_PPP)
            {
                need(8)?;
                let call_id = be16(pkt, l4 + 6).ok_or(t)?;
                let mut hl = 8;
                if flags & GRE_SEQ != 0 {
                    hl += 4;
                }
                if flags & GRE_ACK != 0 {
                    hl += 4;
                }
                need(hl)?;
                (L4Proto::Gre, 0, call_id, l4 + hl, None)
            } else {
                return Err(WireError::OtherProtocol);
            }
        }
        _ => return Err(WireError::OtherProtocol),
    };
    Ok(Layout {
        v6,
        src,
        dst,
        proto,
        sport,
        dport,
        l4,
        payload,
        end,
        tcp,
        first_fragment,
        truncated,
    })
}

/// What to change when a packet is rebuilt.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rewrite {
    /// New source address and port (GRE: the port is ignored — conntrack
    /// rewrites no key on source NAT).
    pub src: Option<(IpAddr, u16)>,
    /// New destination address and port (GRE: the key).
    pub dst: Option<(IpAddr, u16)>,
    pub seq: Option<u32>,
    pub ack: Option<u32>,
    /// SACK edges to rewrite: (offset of the 4-byte value in the TCP header,
    /// new value).
    pub sack: Vec<(usize, u32)>,
    /// The new L4 payload.
    pub payload: Option<Vec<u8>>,
}

impl Rewrite {
    pub fn payload(p: Vec<u8>) -> Self {
        Rewrite {
            payload: Some(p),
            ..Rewrite::default()
        }
    }
    pub fn is_empty(&self) -> bool {
        *self == Rewrite::default()
    }
}

/// Ones' complement sum of `data` added to `acc`.
fn sum(mut acc: u64, data: &[u8]) -> u64 {
    let mut chunks = data.chunks_exact(2);
    for c in &mut chunks {
        if let [a, b] = c {
            acc += u64::from(u16::from_be_bytes([*a, *b]));
        }
    }
    if let [b] = chunks.remainder() {
        acc += u64::from(*b) << 8;
    }
    acc
}

fn fold(mut acc: u64) -> u16 {
    while acc > 0xffff {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    !(acc as u16)
}

/// Internet checksum of `data`.
pub fn checksum(data: &[u8]) -> u16 {
    fold(sum(0, data))
}

fn addr_bytes(a: &IpAddr) -> Vec<u8> {
    match a {
        IpAddr::V4(a) => a.octets().to_vec(),
        IpAddr::V6(a) => a.octets().to_vec(),
    }
}

/// The TCP/UDP checksum over the pseudo header of `src`/`dst` and `l4`
/// (header with its checksum field zeroed, and payload).
pub fn l4_checksum(src: &IpAddr, dst: &IpAddr, proto: u8, l4: &[u8]) -> u16 {
    let mut acc = sum(0, &addr_bytes(src));
    acc = sum(acc, &addr_bytes(dst));
    acc += u64::from(proto);
    acc += l4.len() as u64;
    acc = sum(acc, l4);
    let c = fold(acc);
    if proto == IPPROTO_UDP && c == 0 {
        0xffff
    } else {
        c
    }
}

fn put(out: &mut [u8], at: usize, v: &[u8]) -> Option<()> {
    out.get_mut(at..at.checked_add(v.len())?)?
        .copy_from_slice(v);
    Some(())
}

/// The packet `pkt` (laid out as `lay`) with the changes of `rw`: IPv4
/// total length and header checksum, IPv6 payload length, UDP length and the
/// TCP/UDP checksum recomputed. IPv4 options and IPv6 extension headers are
/// kept as they were. An IPv4 UDP datagram without checksum (0) stays
/// without, as the kernel's NAT and mangling leave it. `None` when the
/// packet cannot be rebuilt (the buffer is short of the packet, the result
/// is too large, an address of the other family).
pub fn rebuild(pkt: &[u8], lay: &Layout, rw: &Rewrite) -> Option<Vec<u8>> {
    if lay.truncated || lay.end > pkt.len() {
        return None;
    }
    let payload: &[u8] = match &rw.payload {
        Some(p) => p,
        None => pkt.get(lay.payload..lay.end)?,
    };
    let mut out = Vec::with_capacity(lay.payload + payload.len());
    out.extend_from_slice(pkt.get(..lay.payload)?);
    out.extend_from_slice(payload);
    let src = rw.src.map_or(lay.src, |s| s.0);
    let dst = rw.dst.map_or(lay.dst, |d| d.0);
    if src.is_ipv6() != lay.v6 || dst.is_ipv6() != lay.v6 {
        return None;
    }
    let total = out.len();
    if lay.v6 {
        put(&mut out, 4, &u16::try_from(total - 40).ok()?.to_be_bytes())?;
        put(&mut out, 8, &addr_bytes(&src))?;
        put(&mut out, 24, &addr_bytes(&dst))?;
    } else {
        put(&mut out, 2, &u16::try_from(total).ok()?.to_be_bytes())?;
        put(&mut out, 12, &addr_bytes(&src))?;
        put(&mut out, 16, &addr_bytes(&dst))?;
        put(&mut out, 10, &[0, 0])?;
        let c = checksum(out.get(..lay.l4)?);
        put(&mut out, 10, &c.to_be_bytes())?;
    }
    let l4 = lay.l4;
    let csum_at = match lay.proto {
        L4Proto::Tcp | L4Proto::Udp => {
            if let Some((_, p)) = rw.src {
                put(&mut out, l4, &p.to_be_bytes())?;
            }
            if let Some((_, p)) = rw.dst {
                put(&mut out, l4 + 2, &p.to_be_bytes())?;
            }
            if lay.proto == L4Proto::Tcp {
                if let Some(s) = rw.seq {
                    put(&mut out, l4 + 4, &s.to_be_bytes())?;
                }
                if let Some(a) = rw.ack {
                    put(&mut out, l4 + 8, &a.to_be_bytes())?;
                }
                for &(at, v) in &rw.sack {
                    put(&mut out, l4 + at, &v.to_be_bytes())?;
                }
                l4 + 16
            } else {
                let ulen = u16::try_from(total - l4).ok()?;
                put(&mut out, l4 + 4, &ulen.to_be_bytes())?;
                if !lay.v6 && be16(pkt, l4 + 6)? == 0 {
                    return Some(out);
                }
                l4 + 6
            }
        }
        L4Proto::Gre => {
            // Destination NAT of an enhanced-GRE flow rewrites the call ID
            // (nf_nat_proto's gre_manip_pkt); no L4 checksum to fix unless
            // the optional GRE checksum is present, which PPTP does not use.
            if let Some((_, key)) = rw.dst {
                if lay.dport != 0 {
                    put(&mut out, l4 + 6, &key.to_be_bytes())?;
                }
            }
            if be16(&out, l4)? & GRE_CSUM != 0 {
                put(&mut out, l4 + 4, &[0, 0])?;
                let c = checksum(out.get(l4..)?);
                put(&mut out, l4 + 4, &c.to_be_bytes())?;
            }
            return Some(out);
        }
    };
    put(&mut out, csum_at, &[0, 0])?;
    let proto = if lay.proto == L4Proto::Tcp {
        IPPROTO_TCP
    } else {
        IPPROTO_UDP
    };
    let c = l4_checksum(&src, &dst, proto, out.get(l4..)?);
    put(&mut out, csum_at, &c.to_be_bytes())?;
    Some(out)
}

/// SACK blocks of a TCP header: (offset in the TCP header of each 4-byte
/// edge, its value).
pub fn sack_edges(pkt: &[u8], lay: &Layout) -> Vec<(usize, u32)> {
    let mut out = Vec::new();
    let Some(opts) = pkt.get(lay.l4 + 20..lay.payload) else {
        return out;
    };
    let mut i = 0;
    while let Some(&kind) = opts.get(i) {
        match kind {
            0 => break,
            1 => i += 1,
            _ => {
                let Some(&len) = opts.get(i + 1) else { break };
                let len = usize::from(len);
                if len < 2 || i + len > opts.len() {
                    break;
                }
                if kind == 5 {
                    let mut j = i + 2;
                    while j + 4 <= i + len {
                        if let Some(v) = be32(opts, j) {
                            out.push((20 + j, v));
                        }
                        j += 4;
                    }
                }
                i += len;
            }
        }
    }
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use etherparse::PacketBuilder;

    pub(crate) fn tcp4(payload: &[u8]) -> Vec<u8> {
        let mut v = Vec::new();
        PacketBuilder::ipv4([10, 0, 1, 2], [192, 0, 2, 9], 64)
            .tcp(40000, 21, 1000, 65535)
            .ack(7)
            .write(&mut v, payload)
            .unwrap();
        v
    }

    fn tcp6_ext(payload: &[u8]) -> Vec<u8> {
        // IPv6 + hop-by-hop (8 bytes) + destination options (16) + TCP.
        let mut tcp = Vec::new();
        PacketBuilder::ipv6(
            [0x20, 1, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1],
            [0x20, 1, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2],
            64,
        )
        .tcp(40001, 21, 5, 512)
        .write(&mut tcp, payload)
        .unwrap();
        let l4 = tcp[40..].to_vec();
        let mut v = tcp[..40].to_vec();
        v[6] = 0; // hop-by-hop
        let plen = (l4.len() + 24) as u16;
        v[4..6].copy_from_slice(&plen.to_be_bytes());
        v.extend_from_slice(&[60, 0, 1, 4, 0, 0, 0, 0]);
        v.extend_from_slice(&[6, 1, 1, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        v.extend_from_slice(&l4);
        v
    }

    /// Rebuilding a packet etherparse wrote around its own payload gives the
    /// same bytes: lengths and checksums agree with an independent writer.
    fn same_again(pkt: &[u8]) {
        let lay = parse(pkt).unwrap();
        assert_eq!(rebuild(pkt, &lay, &Rewrite::default()).unwrap(), pkt);
    }

    #[test]
    fn ipv4_tcp_payload_rebuild_equals_etherparse() {
        let p = tcp4(b"PORT 10,0,1,2,200,1\r\n");
        let lay = parse(&p).unwrap();
        assert_eq!(lay.payload(&p), b"PORT 10,0,1,2,200,1\r\n");
        assert_eq!(lay.tcp.unwrap().seq, 1000);
        assert_eq!((lay.sport, lay.dport), (40000, 21));
        same_again(&p);
        let n = rebuild(
            &p,
            &lay,
            &Rewrite::payload(b"PORT 198,51,100,1,200,1\r\n".to_vec()),
        )
        .unwrap();
        assert_eq!(n, tcp4(b"PORT 198,51,100,1,200,1\r\n"));
    }

    #[test]
    fn nat_seq_rewrite_equals_etherparse() {
        let ip = tcp4(b"PORT 10,0,1,2,156,64\r\n");
        let d = parse(&ip).unwrap();
        let rw = Rewrite {
            src: Some(("203.0.113.1".parse().unwrap(), 40000)),
            seq: Some(1003),
            payload: Some(b"PORT 203,0,113,1,156,64\r\n".to_vec()),
            ..Rewrite::default()
        };
        let out = rebuild(&ip, &d, &rw).unwrap();
        let mut want = Vec::new();
        PacketBuilder::ipv4([203, 0, 113, 1], [192, 0, 2, 9], 64)
            .tcp(40000, 21, 1003, 65535)
            .ack(7)
            .write(&mut want, b"PORT 203,0,113,1,156,64\r\n")
            .unwrap();
        assert_eq!(out, want);
    }

    #[test]
    fn ipv4_options_are_kept() {
        let mut p = tcp4(b"hello");
        p.splice(20..20, [1, 1, 1, 0]);
        p[0] = 0x46;
        let tl = p.len() as u16;
        p[2..4].copy_from_slice(&tl.to_be_bytes());
        let lay = parse(&p).unwrap();
        assert_eq!(lay.l4, 24);
        assert_eq!(lay.payload(&p), b"hello");
        let n = rebuild(&p, &lay, &Rewrite::payload(b"hello, world".to_vec())).unwrap();
        assert_eq!(&n[20..24], &[1, 1, 1, 0]);
        assert_eq!(checksum(&n[..24]), 0);
        assert_eq!(parse(&n).unwrap().payload(&n), b"hello, world");
    }

    #[test]
    fn ipv6_ext_headers() {
        let v6 = tcp6_ext(b"EPRT |2|2001:db8::1|5000|\r\n");
        let d = parse(&v6).unwrap();
        assert_eq!(d.l4, 40 + 24);
        same_again(&v6);
        let out = rebuild(
            &v6,
            &d,
            &Rewrite::payload(b"EPRT |2|2001:db8::99|5000|\r\n".to_vec()),
        )
        .unwrap();
        let d2 = parse(&out).unwrap();
        assert_eq!(d2.payload(&out), b"EPRT |2|2001:db8::99|5000|\r\n");
        assert_eq!(
            l4_checksum(&d2.src, &d2.dst, 6, &out[d2.l4..]),
            0,
            "sums to zero"
        );
    }

    #[test]
    fn udp_zero_checksum_stays_zero_on_ipv4() {
        let mut p = Vec::new();
        PacketBuilder::ipv4([10, 0, 0, 1], [10, 0, 0, 2], 64)
            .udp(5060, 5060)
            .write(&mut p, b"INVITE")
            .unwrap();
        same_again(&p);
        p[26] = 0;
        p[27] = 0;
        let lay = parse(&p).unwrap();
        let n = rebuild(&p, &lay, &Rewrite::payload(b"INVITE sip:x".to_vec())).unwrap();
        assert_eq!(&n[26..28], &[0, 0]);
        assert_eq!(u16::from_be_bytes([n[24], n[25]]), 8 + 12);
    }

    #[test]
    fn fragments_gre_and_damage() {
        let mut ip = tcp4(b"x");
        ip[6] = 0x20; // MF, offset 0
        let d = parse(&ip).unwrap();
        assert!(d.first_fragment && d.dport == 21);
        ip[7] = 0x01; // offset 8
        assert_eq!(parse(&ip), Err(WireError::Fragment));
        let ip = tcp4(b"hello");
        for cut in 0..ip.len() {
            // Either refused or flagged truncated, never a panic.
            if let Ok(d) = parse(&ip[..cut]) {
                assert!(d.truncated);
                assert!(rebuild(&ip[..cut], &d, &Rewrite::default()).is_none());
            }
        }
        let mut u = tcp4(b"x");
        u[9] = 1;
        assert_eq!(parse(&u), Err(WireError::OtherProtocol));
        assert_eq!(parse(&[0x75]), Err(WireError::BadHeader));
        let mut v6 = tcp6_ext(b"x");
        v6[41] = 200; // hop-by-hop length runs past the packet
        assert!(parse(&v6).is_err());
        // Enhanced GRE (PPTP): dport = call ID, sport 0.
        let mut g = tcp4(b"");
        g.truncate(20);
        g[9] = 47;
        g.extend_from_slice(&[
            0x30, 0x01, 0x88, 0x0b, 0, 4, 0x12, 0x34, 0, 0, 0, 9, 1, 2, 3, 4,
        ]);
        let tl = g.len() as u16;
        g[2..4].copy_from_slice(&tl.to_be_bytes());
        let d = parse(&g).unwrap();
        assert_eq!(
            (d.proto, d.sport, d.dport, d.payload),
            (L4Proto::Gre, 0, 0x1234, 32)
        );
        let n = rebuild(
            &g,
            &d,
            &Rewrite {
                dst: Some(("10.9.9.9".parse().unwrap(), 0x4321)),
                ..Rewrite::default()
            },
        )
        .unwrap();
        assert_eq!(&n[26..28], &[0x43, 0x21]);
        assert_eq!(checksum(&n[..20]), 0);
        assert_eq!(
            parse(&n).unwrap().dst,
            "10.9.9.9".parse::<IpAddr>().unwrap()
        );
    }

    #[test]
    fn finds_sack_blocks() {
        let mut v = tcp4(b"");
        v.extend_from_slice(&[1, 1, 5, 10, 0, 0, 0, 100, 0, 0, 0, 200]);
        v[32] = ((32 / 4) << 4) as u8;
        let tl = v.len() as u16;
        v[2..4].copy_from_slice(&tl.to_be_bytes());
        let d = parse(&v).unwrap();
        assert_eq!(sack_edges(&v, &d), vec![(24, 100), (28, 200)]);
    }
}
