//! The link layer of captured frames: where the IP packet starts. The IP
//! and L4 headers are the flow core's ([`crate::flow::wire`]).

use crate::flow::wire::{self, Layout, WireError};

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

/// Why a frame is not a packet we can follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Skip {
    LinkType,
    NotIp,
    Truncated,
    Malformed,
    Wire(WireError),
}

impl Skip {
    pub fn name(self) -> &'static str {
        match self {
            Skip::LinkType => "unsupported link type",
            Skip::NotIp => "not IP",
            Skip::Truncated => "truncated",
            Skip::Malformed => "malformed",
            Skip::Wire(e) => e.name(),
        }
    }
}

/// A decoded frame: the L3 packet starts at `l3`, laid out as `lay`
/// (offsets relative to the L3 start).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded {
    pub l3: usize,
    pub lay: Layout,
}

fn be16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes(b.get(at..at + 2)?.try_into().ok()?))
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
    if ver.is_some_and(|v| v != nibble) {
        return Err(Skip::Malformed);
    }
    if nibble != 4 && nibble != 6 {
        return Err(Skip::NotIp);
    }
    let lay = wire::parse(ip).map_err(|e| match e {
        WireError::Truncated => Skip::Truncated,
        WireError::BadHeader => Skip::Malformed,
        e => Skip::Wire(e),
    })?;
    let snapped = (wire_len as usize) > d.len();
    if lay.truncated && !snapped {
        // The IP header claims more than the frame had on the wire.
        return Err(Skip::Malformed);
    }
    Ok(Decoded { l3, lay })
}

/// The layout of the L3 packet at `l3` of `frame` (a frame decoded before).
pub fn decode_l3(frame: &[u8], l3: usize) -> Option<Decoded> {
    let lay = wire::parse(frame.get(l3..)?).ok()?;
    Some(Decoded { l3, lay })
}

impl Decoded {
    /// The L3 packet (up to its end, or what the capture holds of it).
    pub fn l3<'a>(&self, d: &'a [u8]) -> &'a [u8] {
        let end = (self.l3 + self.lay.end).min(d.len());
        d.get(self.l3..end).unwrap_or(&[])
    }
    /// The payload bytes the capture holds.
    pub fn payload<'a>(&self, d: &'a [u8]) -> &'a [u8] {
        self.lay.payload(self.l3(d))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use etherparse::PacketBuilder;

    fn tcp4(payload: &[u8]) -> Vec<u8> {
        let mut v = Vec::new();
        PacketBuilder::ipv4([10, 0, 0, 5], [198, 51, 100, 1], 64)
            .tcp(40000, 21, 1000, 512)
            .write(&mut v, payload)
            .unwrap();
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
            assert_eq!((d.lay.sport, d.lay.dport), (40000, 21));
        }
        assert_eq!(decode(LINKTYPE_SLL, &[0u8; 16], 16), Err(Skip::NotIp));
        assert_eq!(decode(147, &ip, 0), Err(Skip::LinkType));
        // IPv4 said by the link, IPv6 in the packet.
        let mut v6 = ip.clone();
        v6[0] = 0x60;
        assert_eq!(
            decode(LINKTYPE_IPV4, &v6, v6.len() as u32),
            Err(Skip::Malformed)
        );
    }

    #[test]
    fn snapped_and_damaged() {
        let ip = tcp4(b"hello");
        for cut in 0..ip.len() {
            // A snapped frame is decoded (flagged truncated) or refused; a
            // frame that was that short on the wire is refused.
            if let Ok(d) = decode(LINKTYPE_RAW, &ip[..cut], ip.len() as u32) {
                assert!(d.lay.truncated);
            }
            assert!(decode(LINKTYPE_RAW, &ip[..cut], cut as u32).is_err());
        }
    }
}
