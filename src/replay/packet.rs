//! Link layer, IP and TCP/UDP decoding of captured frames, and rebuilding a
//! packet with new addresses, ports, sequence numbers and payload (lengths
//! and checksums recomputed).

use helpers::L4Proto;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

pub const LINKTYPE_NULL: u16 = 0;
pub const LINKTYPE_ETHERNET: u16 = 1;
pub const LINKTYPE_RAW_12: u16 = 12;
pub const LINKTYPE_RAW_14: u16 = 14;
pub const LINKTYPE_RAW: u16 = 101;
pub const LINKTYPE_LOOP: u16 = 108;
pub const LINKTYPE_SLL: u16 = 113;
pub const LINKTYPE_IPV4: u16 = 228;
pub const LINKTYPE_IPV6: u16 = 229;
pub const LINKTYPE_SLL2: u16 = 276;

/// Why a frame is not a TCP/UDP packet we can follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Skip {
    LinkType,
    NotIp,
    Truncated,
    Malformed,
    Fragment,
    OtherProto,
}

impl Skip {
    pub fn name(self) -> &'static str {
        match self {
            Skip::LinkType => "unsupported link type",
            Skip::NotIp => "not IP",
            Skip::Truncated => "truncated",
            Skip::Malformed => "malformed",
            Skip::Fragment => "IP fragment",
            Skip::OtherProto => "not TCP/UDP",
        }
    }
}

/// A decoded TCP or UDP packet; offsets index the frame's bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded {
    pub l3: usize,
    /// Offset of the TCP/UDP header.
    pub l4: usize,
    /// Offset of the payload and its end (the IP packet's end, not any
    /// link-layer padding).
    pub payload: usize,
    pub end: usize,
    pub src: IpAddr,
    pub dst: IpAddr,
    pub proto: L4Proto,
    pub sport: u16,
    pub dport: u16,
    pub tcp: Option<TcpInfo>,
    /// The capture holds less than the packet (snap length).
    pub truncated: bool,
    /// The first fragment of a fragmented datagram (offset 0, more to
    /// come): its TCP/UDP header is here, the rest of the datagram is not.
    pub fragment: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TcpInfo {
    pub seq: u32,
    pub ack: u32,
    pub flags: u8,
}

pub const TCP_FIN: u8 = 0x01;
pub const TCP_SYN: u8 = 0x02;
pub const TCP_RST: u8 = 0x04;
pub const TCP_ACK: u8 = 0x10;

fn be16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes(b.get(at..at + 2)?.try_into().ok()?))
}
fn be32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

/// Where the IP header starts, and which version the link layer says it is
/// (None: look at the version nibble).
fn link(linktype: u16, d: &[u8]) -> Result<(usize, Option<u8>), Skip> {
    let ethertype = |t: u16| match t {
        0x0800 => Ok(Some(4)),
        0x86DD => Ok(Some(6)),
        _ => Err(Skip::NotIp),
    };
    match linktype {
        LINKTYPE_ETHERNET => {
            let mut at = 12;
            loop {
                let t = be16(d, at).ok_or(Skip::Truncated)?;
                if matches!(t, 0x8100 | 0x88A8 | 0x9100) {
                    at += 4;
                    continue;
                }
                return Ok((at + 2, ethertype(t)?));
            }
        }
        LINKTYPE_RAW | LINKTYPE_RAW_12 | LINKTYPE_RAW_14 => Ok((0, None)),
        LINKTYPE_IPV4 => Ok((0, Some(4))),
        LINKTYPE_IPV6 => Ok((0, Some(6))),
        LINKTYPE_SLL => Ok((16, ethertype(be16(d, 14).ok_or(Skip::Truncated)?)?)),
        LINKTYPE_SLL2 => Ok((20, ethertype(be16(d, 0).ok_or(Skip::Truncated)?)?)),
        LINKTYPE_NULL | LINKTYPE_LOOP => {
            let raw: [u8; 4] = d
                .get(..4)
                .ok_or(Skip::Truncated)?
                .try_into()
                .map_err(|_| Skip::Truncated)?;
            // Host byte order of the capturing machine: the family is small,
            // so whichever reading fits in 16 bits is the right one.
            let le = u32::from_le_bytes(raw);
            let fam = if linktype == LINKTYPE_LOOP || le > 0xFFFF {
                u32::from_be_bytes(raw)
            } else {
                le
            };
            match fam {
                2 => Ok((4, Some(4))),
                10 | 24 | 28 | 30 => Ok((4, Some(6))),
                _ => Err(Skip::NotIp),
            }
        }
        _ => Err(Skip::LinkType),
    }
}

/// Decodes a captured frame. `wire_len` is its length on the wire.
pub fn decode(linktype: u16, d: &[u8], wire_len: u32) -> Result<Decoded, Skip> {
    let (l3, ver) = link(linktype, d)?;
    let ip = d.get(l3..).ok_or(Skip::Truncated)?;
    let nibble = ip.first().ok_or(Skip::Truncated)? >> 4;
    if let Some(v) = ver {
        if v != nibble {
            return Err(Skip::Malformed);
        }
    }
    let snapped = (wire_len as usize) > d.len();
    let mut first_fragment = false;
    let (src, dst, proto, l4, end) = match nibble {
        4 => {
            let ihl = usize::from(ip[0] & 0x0F) * 4;
            if ihl < 20 {
                return Err(Skip::Malformed);
            }
            if ip.len() < ihl {
                return Err(Skip::Truncated);
            }
            let total = usize::from(be16(ip, 2).ok_or(Skip::Truncated)?);
            if total < ihl {
                return Err(Skip::Malformed);
            }
            let frag = be16(ip, 6).ok_or(Skip::Truncated)?;
            if frag & 0x1FFF != 0 {
                return Err(Skip::Fragment);
            }
            first_fragment = frag & 0x2000 != 0;
            let src = Ipv4Addr::from(be32(ip, 12).ok_or(Skip::Truncated)?);
            let dst = Ipv4Addr::from(be32(ip, 16).ok_or(Skip::Truncated)?);
            (
                IpAddr::V4(src),
                IpAddr::V4(dst),
                ip[9],
                l3 + ihl,
                l3 + total,
            )
        }
        6 => {
            if ip.len() < 40 {
                return Err(Skip::Truncated);
            }
            let plen = usize::from(be16(ip, 4).ok_or(Skip::Truncated)?);
            let mut s = [0u8; 16];
            s.copy_from_slice(&ip[8..24]);
            let mut t = [0u8; 16];
            t.copy_from_slice(&ip[24..40]);
            let mut next = ip[6];
            let mut at = 40usize;
            loop {
                match next {
                    0 | 43 | 60 | 135 | 139 | 140 => {
                        let nh = *ip.get(at).ok_or(Skip::Truncated)?;
                        let len = (usize::from(*ip.get(at + 1).ok_or(Skip::Truncated)?) + 1) * 8;
                        next = nh;
                        at += len;
                    }
                    44 => {
                        let nh = *ip.get(at).ok_or(Skip::Truncated)?;
                        let off = be16(ip, at + 2).ok_or(Skip::Truncated)?;
                        if off & 0xFFF8 != 0 {
                            return Err(Skip::Fragment);
                        }
                        first_fragment |= off & 1 != 0;
                        next = nh;
                        at += 8;
                    }
                    51 => {
                        let nh = *ip.get(at).ok_or(Skip::Truncated)?;
                        let len = (usize::from(*ip.get(at + 1).ok_or(Skip::Truncated)?) + 2) * 4;
                        next = nh;
                        at += len;
                    }
                    _ => break,
                }
                if at > 40 + plen {
                    return Err(Skip::Malformed);
                }
            }
            (
                IpAddr::V6(Ipv6Addr::from(s)),
                IpAddr::V6(Ipv6Addr::from(t)),
                next,
                l3 + at,
                l3 + 40 + plen,
            )
        }
        _ => return Err(Skip::NotIp),
    };
    let proto = L4Proto::from_number(proto)
        .filter(|p| *p != L4Proto::Gre)
        .ok_or(Skip::OtherProto)?;
    if l4 > end {
        return Err(Skip::Malformed);
    }
    let truncated = end > d.len();
    if truncated && !snapped {
        // The IP header claims more than the frame had on the wire.
        return Err(Skip::Malformed);
    }
    let sport = be16(d, l4).ok_or(Skip::Truncated)?;
    let dport = be16(d, l4 + 2).ok_or(Skip::Truncated)?;
    let (payload, tcp) = match proto {
        L4Proto::Tcp => {
            let off = usize::from(*d.get(l4 + 12).ok_or(Skip::Truncated)? >> 4) * 4;
            if off < 20 || l4 + off > end {
                return Err(Skip::Malformed);
            }
            let info = TcpInfo {
                seq: be32(d, l4 + 4).ok_or(Skip::Truncated)?,
                ack: be32(d, l4 + 8).ok_or(Skip::Truncated)?,
                flags: *d.get(l4 + 13).ok_or(Skip::Truncated)?,
            };
            if l4 + off > d.len() {
                return Err(Skip::Truncated);
            }
            (l4 + off, Some(info))
        }
        _ => {
            if l4 + 8 > end {
                return Err(Skip::Malformed);
            }
            if l4 + 8 > d.len() {
                return Err(Skip::Truncated);
            }
            (l4 + 8, None)
        }
    };
    Ok(Decoded {
        l3,
        l4,
        payload,
        end,
        src,
        dst,
        proto,
        sport,
        dport,
        tcp,
        truncated,
        fragment: first_fragment,
    })
}

impl Decoded {
    /// The payload bytes the capture holds.
    pub fn payload<'a>(&self, d: &'a [u8]) -> &'a [u8] {
        d.get(self.payload..self.end.min(d.len())).unwrap_or(&[])
    }
}

/// What to change when a packet leaves.
#[derive(Debug, Clone, Default)]
pub struct Rewrite {
    pub src: Option<(IpAddr, u16)>,
    pub dst: Option<(IpAddr, u16)>,
    pub seq: Option<u32>,
    pub ack: Option<u32>,
    pub payload: Option<Vec<u8>>,
    /// SACK blocks to rewrite: (offset of the 4-byte value in the TCP
    /// header, new value).
    pub sack: Vec<(usize, u32)>,
}

impl Rewrite {
    pub fn is_empty(&self) -> bool {
        self.src.is_none()
            && self.dst.is_none()
            && self.seq.is_none()
            && self.ack.is_none()
            && self.payload.is_none()
            && self.sack.is_empty()
    }
}

/// One's-complement sum over `b` (16-bit big-endian words).
fn sum16(mut acc: u32, b: &[u8]) -> u32 {
    let mut it = b.chunks_exact(2);
    for w in &mut it {
        acc += u32::from(u16::from_be_bytes([w[0], w[1]]));
        acc = (acc & 0xFFFF) + (acc >> 16);
    }
    if let [last] = it.remainder() {
        acc += u32::from(*last) << 8;
    }
    acc
}

fn fold(mut acc: u32) -> u16 {
    while acc > 0xFFFF {
        acc = (acc & 0xFFFF) + (acc >> 16);
    }
    !(acc as u16)
}

fn addr_bytes(a: IpAddr) -> Vec<u8> {
    match a {
        IpAddr::V4(a) => a.octets().to_vec(),
        IpAddr::V6(a) => a.octets().to_vec(),
    }
}

/// The TCP/UDP checksum of `l4` (header with zeroed checksum + payload).
pub fn l4_checksum(src: IpAddr, dst: IpAddr, proto: u8, l4: &[u8]) -> u16 {
    let mut acc = sum16(0, &addr_bytes(src));
    acc = sum16(acc, &addr_bytes(dst));
    acc += u32::from(proto);
    let len = l4.len() as u32;
    acc += len >> 16;
    acc += len & 0xFFFF;
    acc = sum16(acc, l4);
    let c = fold(acc);
    if proto == 17 && c == 0 {
        0xFFFF
    } else {
        c
    }
}

pub fn ipv4_header_checksum(h: &[u8]) -> u16 {
    fold(sum16(0, h))
}

/// Builds the packet as it leaves: the frame's link header, the IP header
/// with new addresses and lengths, the L4 header with new ports/seq/ack,
/// the new payload; checksums recomputed. Returns `None` when the packet
/// cannot be rebuilt (truncated capture): the caller then writes it as is.
pub fn rebuild(frame: &[u8], p: &Decoded, rw: &Rewrite) -> Option<Vec<u8>> {
    if p.truncated || p.end > frame.len() {
        return None;
    }
    let payload: &[u8] = match &rw.payload {
        Some(v) => v,
        None => frame.get(p.payload..p.end)?,
    };
    let mut out = Vec::with_capacity(p.payload + payload.len());
    out.extend_from_slice(frame.get(..p.payload)?);
    out.extend_from_slice(payload);
    let (src, dst) = (rw.src.map_or(p.src, |s| s.0), rw.dst.map_or(p.dst, |d| d.0));
    if src.is_ipv4() != p.src.is_ipv4() || dst.is_ipv4() != p.dst.is_ipv4() {
        return None;
    }
    let l3 = p.l3;
    let total = out.len() - l3;
    match src {
        IpAddr::V4(_) => {
            let ihl = p.l4 - l3;
            out.get_mut(l3 + 2..l3 + 4)?
                .copy_from_slice(&u16::try_from(total).ok()?.to_be_bytes());
            out.get_mut(l3 + 12..l3 + 16)?
                .copy_from_slice(&addr_bytes(src));
            out.get_mut(l3 + 16..l3 + 20)?
                .copy_from_slice(&addr_bytes(dst));
            out.get_mut(l3 + 10..l3 + 12)?.copy_from_slice(&[0, 0]);
            let c = ipv4_header_checksum(out.get(l3..l3 + ihl)?);
            out.get_mut(l3 + 10..l3 + 12)?
                .copy_from_slice(&c.to_be_bytes());
        }
        IpAddr::V6(_) => {
            out.get_mut(l3 + 4..l3 + 6)?
                .copy_from_slice(&u16::try_from(total - 40).ok()?.to_be_bytes());
            out.get_mut(l3 + 8..l3 + 24)?
                .copy_from_slice(&addr_bytes(src));
            out.get_mut(l3 + 24..l3 + 40)?
                .copy_from_slice(&addr_bytes(dst));
        }
    }
    let l4 = p.l4;
    if let Some((_, port)) = rw.src {
        out.get_mut(l4..l4 + 2)?
            .copy_from_slice(&port.to_be_bytes());
    }
    if let Some((_, port)) = rw.dst {
        out.get_mut(l4 + 2..l4 + 4)?
            .copy_from_slice(&port.to_be_bytes());
    }
    let csum_at = match p.proto {
        L4Proto::Tcp => {
            if let Some(s) = rw.seq {
                out.get_mut(l4 + 4..l4 + 8)?
                    .copy_from_slice(&s.to_be_bytes());
            }
            if let Some(a) = rw.ack {
                out.get_mut(l4 + 8..l4 + 12)?
                    .copy_from_slice(&a.to_be_bytes());
            }
            for &(at, v) in &rw.sack {
                out.get_mut(l4 + at..l4 + at + 4)?
                    .copy_from_slice(&v.to_be_bytes());
            }
            l4 + 16
        }
        _ => {
            let ulen = u16::try_from(out.len() - l4).ok()?;
            out.get_mut(l4 + 4..l4 + 6)?
                .copy_from_slice(&ulen.to_be_bytes());
            l4 + 6
        }
    };
    out.get_mut(csum_at..csum_at + 2)?.copy_from_slice(&[0, 0]);
    let c = l4_checksum(src, dst, p.proto.number(), out.get(l4..)?);
    out.get_mut(csum_at..csum_at + 2)?
        .copy_from_slice(&c.to_be_bytes());
    Some(out)
}

/// SACK blocks of a TCP header: (offset in the header of each 4-byte edge,
/// its value).
pub fn sack_edges(frame: &[u8], p: &Decoded) -> Vec<(usize, u32)> {
    let mut out = Vec::new();
    let Some(opts) = frame.get(p.l4 + 20..p.payload) else {
        return out;
    };
    let mut i = 0;
    while i < opts.len() {
        match opts[i] {
            0 => break,
            1 => i += 1,
            kind => {
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
        PacketBuilder::ipv4([10, 0, 0, 5], [198, 51, 100, 1], 64)
            .tcp(40000, 21, 1000, 512)
            .ack(77)
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

    #[test]
    fn every_link_type() {
        let ip = tcp4(b"USER x\r\n");
        let eth = [&[0u8; 12][..], &[0x08, 0x00], &ip].concat();
        let vlan = [
            &[0u8; 12][..],
            &[0x81, 0x00, 0, 7, 0x88, 0xA8, 0, 8, 0x08, 0x00],
            &ip,
        ]
        .concat();
        let sll = [&[0u8; 14][..], &[0x08, 0x00], &ip].concat();
        let sll2 = [&[0x08u8, 0x00][..], &[0u8; 18], &ip].concat();
        let null_le = [&2u32.to_le_bytes()[..], &ip].concat();
        let null_be = [&2u32.to_be_bytes()[..], &ip].concat();
        let cases: Vec<(u16, Vec<u8>, usize)> = vec![
            (LINKTYPE_ETHERNET, eth, 14),
            (LINKTYPE_ETHERNET, vlan, 22),
            (LINKTYPE_RAW, ip.clone(), 0),
            (LINKTYPE_RAW_12, ip.clone(), 0),
            (LINKTYPE_RAW_14, ip.clone(), 0),
            (LINKTYPE_IPV4, ip.clone(), 0),
            (LINKTYPE_SLL, sll, 16),
            (LINKTYPE_SLL2, sll2, 20),
            (LINKTYPE_NULL, null_le, 4),
            (LINKTYPE_NULL, null_be, 4),
        ];
        for (lt, f, l3) in cases {
            let d = decode(lt, &f, f.len() as u32).unwrap_or_else(|e| panic!("{lt}: {e:?}"));
            assert_eq!(d.l3, l3, "linktype {lt}");
            assert_eq!(d.payload(&f), b"USER x\r\n");
            assert_eq!((d.sport, d.dport), (40000, 21));
            assert_eq!(d.tcp.unwrap().seq, 1000);
        }
        let v6 = tcp6_ext(b"EPSV\r\n");
        let null6 = [&30u32.to_le_bytes()[..], &v6].concat();
        let d = decode(LINKTYPE_NULL, &null6, null6.len() as u32).unwrap();
        assert_eq!(d.payload(&null6), b"EPSV\r\n");
        assert_eq!(d.l4, 4 + 40 + 24);
        let d = decode(LINKTYPE_IPV6, &v6, v6.len() as u32).unwrap();
        assert_eq!(d.dport, 21);
        assert_eq!(decode(LINKTYPE_SLL, &[0u8; 16], 16), Err(Skip::NotIp));
        assert_eq!(decode(147, &v6, 0), Err(Skip::LinkType));
    }

    #[test]
    fn fragments_and_damage() {
        // A first fragment is decoded (its ports are there) and flagged;
        // a later one is refused.
        let mut ip = tcp4(b"x");
        ip[6] = 0x20; // MF
        let d = decode(LINKTYPE_RAW, &ip, ip.len() as u32).unwrap();
        assert!(d.fragment && d.dport == 21);
        ip[7] = 0x01; // offset 8
        assert_eq!(decode(LINKTYPE_RAW, &ip, 100), Err(Skip::Fragment));
        ip[6] = 0x00; // last fragment
        assert_eq!(decode(LINKTYPE_RAW, &ip, 100), Err(Skip::Fragment));
        let whole = tcp4(b"x");
        assert!(
            !decode(LINKTYPE_RAW, &whole, whole.len() as u32)
                .unwrap()
                .fragment
        );
        let ip = tcp4(b"hello");
        for cut in 0..ip.len() {
            let r = decode(LINKTYPE_RAW, &ip[..cut], ip.len() as u32);
            // Either refused or flagged truncated, never a panic.
            if let Ok(d) = r {
                assert!(d.truncated);
            }
            assert!(decode(LINKTYPE_RAW, &ip[..cut], cut as u32).is_err());
        }
        let mut v6 = tcp6_ext(b"x");
        v6[41] = 200; // hop-by-hop length runs past the packet
        assert!(decode(LINKTYPE_RAW, &v6, v6.len() as u32).is_err());
    }

    #[test]
    fn rebuild_matches_etherparse_checksums() {
        let ip = tcp4(b"PORT 10,0,0,5,156,64\r\n");
        let d = decode(LINKTYPE_RAW, &ip, ip.len() as u32).unwrap();
        let rw = Rewrite {
            src: Some(("203.0.113.1".parse().unwrap(), 40000)),
            seq: Some(1003),
            payload: Some(b"PORT 203,0,113,1,156,64\r\n".to_vec()),
            ..Rewrite::default()
        };
        let out = rebuild(&ip, &d, &rw).unwrap();
        let mut want = Vec::new();
        PacketBuilder::ipv4([203, 0, 113, 1], [198, 51, 100, 1], 64)
            .tcp(40000, 21, 1003, 512)
            .ack(77)
            .write(&mut want, b"PORT 203,0,113,1,156,64\r\n")
            .unwrap();
        assert_eq!(out, want);
        // Nothing changed: the same bytes.
        assert_eq!(rebuild(&ip, &d, &Rewrite::default()).unwrap(), ip);
        // IPv6 with extension headers: checksum over the right pseudo header.
        let v6 = tcp6_ext(b"EPRT |2|2001:db8::1|5000|\r\n");
        let d = decode(LINKTYPE_RAW, &v6, v6.len() as u32).unwrap();
        let same = rebuild(&v6, &d, &Rewrite::default()).unwrap();
        assert_eq!(same, v6);
        let rw = Rewrite {
            payload: Some(b"EPRT |2|2001:db8::99|5000|\r\n".to_vec()),
            ..Rewrite::default()
        };
        let out = rebuild(&v6, &d, &rw).unwrap();
        let d2 = decode(LINKTYPE_RAW, &out, out.len() as u32).unwrap();
        assert_eq!(d2.payload(&out), b"EPRT |2|2001:db8::99|5000|\r\n");
        let c = l4_checksum(d2.src, d2.dst, 6, &out[d2.l4..]);
        assert_eq!(c, 0, "a correct checksum sums to zero");
    }

    #[test]
    fn finds_sack_blocks() {
        let mut h = TcpHeaderBytes::new();
        h.opts(&[1, 1, 5, 10, 0, 0, 0, 100, 0, 0, 0, 200]);
        let ip = h.packet();
        let d = decode(LINKTYPE_RAW, &ip, ip.len() as u32).unwrap();
        assert_eq!(sack_edges(&ip, &d), vec![(24, 100), (28, 200)]);
    }

    struct TcpHeaderBytes(Vec<u8>);
    impl TcpHeaderBytes {
        fn new() -> Self {
            TcpHeaderBytes(tcp4(b""))
        }
        fn opts(&mut self, o: &[u8]) {
            let v = &mut self.0;
            v.extend_from_slice(o);
            v[32] = (((20 + o.len()) / 4) << 4) as u8;
            let tl = v.len() as u16;
            v[2..4].copy_from_slice(&tl.to_be_bytes());
        }
        fn packet(self) -> Vec<u8> {
            self.0
        }
    }
}
