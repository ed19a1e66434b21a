//! Two rtnetlink questions:
//! * which interface does the route to an address leave through
//!   (RTM_GETROUTE → RTA_OIF)? For the SIP helper's `sip_external_media`,
//!   which the kernel answers with a FIB lookup (`nf_ip_route()` /
//!   `nf_ip6_route()`) and compares with the device the SIP packet leaves
//!   through;
//! * the IPv4 addresses of the interfaces (RTM_GETADDR dump → prefix
//!   length, flags, IFA_BROADCAST), for the SNMP helper's broadcast
//!   (`nf_conntrack_broadcast_help()` takes the mask of the first primary
//!   address of the output device whose broadcast address is the
//!   destination: [`broadcast_prefix`]).
//!
//! Hand-encoded (a 16-byte nlmsghdr, a 12-byte `struct rtmsg` with RTA_DST,
//! or an 8-byte `struct ifaddrmsg`): the answers are read with the same
//! bounds-checked attribute view as the netfilter messages.

use super::attr::Attrs;
use netlink_sys::{protocols::NETLINK_ROUTE, Socket, SocketAddr};
use std::io;
use std::net::{IpAddr, Ipv4Addr};

const RTM_NEWADDR: u16 = 20;
const RTM_GETADDR: u16 = 22;
const RTM_NEWROUTE: u16 = 24;
const RTM_GETROUTE: u16 = 26;
const NLMSG_ERROR: u16 = 2;
const NLMSG_DONE: u16 = 3;
const NLM_F_REQUEST: u16 = 1;
const NLM_F_DUMP: u16 = 0x300;
const RTA_DST: u16 = 1;
const RTA_OIF: u16 = 4;
const NLMSG_HDRLEN: usize = 16;
const RTMSG_LEN: usize = 12;
const IFADDRMSG_LEN: usize = 8;
const IFA_BROADCAST: u16 = 4;
const IFA_FLAGS: u16 = 8;
const IFA_F_SECONDARY: u32 = 0x01;
/// Most datagrams one address dump may take (a bound, not a limit met in
/// practice: a datagram holds dozens of addresses).
const DUMP_DATAGRAMS: usize = 256;

/// RTM_GETROUTE for `dst` (a /32 or /128 lookup), with sequence `seq`.
pub fn encode_get(dst: IpAddr, seq: u32) -> Vec<u8> {
    let (family, addr): (u8, Vec<u8>) = match dst {
        IpAddr::V4(a) => (libc::AF_INET as u8, a.octets().to_vec()),
        IpAddr::V6(a) => (libc::AF_INET6 as u8, a.octets().to_vec()),
    };
    let rta_len = 4 + addr.len();
    let len = NLMSG_HDRLEN + RTMSG_LEN + rta_len;
    let mut b = Vec::with_capacity(len);
    b.extend_from_slice(&(len as u32).to_ne_bytes());
    b.extend_from_slice(&RTM_GETROUTE.to_ne_bytes());
    b.extend_from_slice(&NLM_F_REQUEST.to_ne_bytes());
    b.extend_from_slice(&seq.to_ne_bytes());
    b.extend_from_slice(&0u32.to_ne_bytes());
    // struct rtmsg: family, dst_len, src_len, tos, table, protocol, scope,
    // type, flags (u32)
    let dst_len = (addr.len() * 8) as u8;
    b.extend_from_slice(&[family, dst_len, 0, 0, 0, 0, 0, 0]);
    b.extend_from_slice(&0u32.to_ne_bytes());
    b.extend_from_slice(&(rta_len as u16).to_ne_bytes());
    b.extend_from_slice(&RTA_DST.to_ne_bytes());
    b.extend_from_slice(&addr);
    b
}

/// The output interface of the RTM_NEWROUTE answer to request `seq` in
/// `buf`; `None` for an error answer, another sequence or a malformed one.
pub fn parse_oif(buf: &[u8], seq: u32) -> Option<u32> {
    let mut rest = buf;
    while rest.len() >= NLMSG_HDRLEN {
        let len = u32::from_ne_bytes(rest.get(0..4)?.try_into().ok()?) as usize;
        let kind = u16::from_ne_bytes(rest.get(4..6)?.try_into().ok()?);
        let mseq = u32::from_ne_bytes(rest.get(8..12)?.try_into().ok()?);
        if len < NLMSG_HDRLEN || len > rest.len() {
            return None;
        }
        let msg = rest.get(NLMSG_HDRLEN..len)?;
        if mseq == seq {
            match kind {
                RTM_NEWROUTE => {
                    let attrs = Attrs::new(msg.get(RTMSG_LEN..)?);
                    let oif = attrs.get(RTA_OIF)?;
                    return Some(u32::from_ne_bytes(oif.data.get(0..4)?.try_into().ok()?));
                }
                NLMSG_ERROR => return None,
                _ => {}
            }
        }
        rest = rest.get((len + 3) & !3..).unwrap_or(&[]);
    }
    None
}

/// RTM_GETADDR dump of the IPv4 addresses, with sequence `seq`.
pub fn encode_getaddr(seq: u32) -> Vec<u8> {
    let len = NLMSG_HDRLEN + IFADDRMSG_LEN;
    let mut b = Vec::with_capacity(len);
    b.extend_from_slice(&(len as u32).to_ne_bytes());
    b.extend_from_slice(&RTM_GETADDR.to_ne_bytes());
    b.extend_from_slice(&(NLM_F_REQUEST | NLM_F_DUMP).to_ne_bytes());
    b.extend_from_slice(&seq.to_ne_bytes());
    b.extend_from_slice(&0u32.to_ne_bytes());
    // struct ifaddrmsg: family, prefixlen, flags, scope, index (u32)
    b.extend_from_slice(&[libc::AF_INET as u8, 0, 0, 0]);
    b.extend_from_slice(&0u32.to_ne_bytes());
    b
}

/// One IPv4 address of an interface, as RTM_NEWADDR lists it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IfAddr {
    /// The interface index.
    pub index: u32,
    pub prefix: u8,
    /// IFA_F_SECONDARY.
    pub secondary: bool,
    /// IFA_BROADCAST, when it has one.
    pub broadcast: Option<Ipv4Addr>,
}

/// The IPv4 addresses in one datagram of the answer to dump `seq`, appended
/// to `out` in the kernel's order. `Some(true)` when the dump ended in
/// it, `Some(false)` when more follows, `None` for an error answer or a
/// malformed datagram.
pub fn parse_addrs(buf: &[u8], seq: u32, out: &mut Vec<IfAddr>) -> Option<bool> {
    let mut rest = buf;
    while rest.len() >= NLMSG_HDRLEN {
        let len = u32::from_ne_bytes(rest.get(0..4)?.try_into().ok()?) as usize;
        let kind = u16::from_ne_bytes(rest.get(4..6)?.try_into().ok()?);
        let mseq = u32::from_ne_bytes(rest.get(8..12)?.try_into().ok()?);
        if len < NLMSG_HDRLEN || len > rest.len() {
            return None;
        }
        let msg = rest.get(NLMSG_HDRLEN..len)?;
        if mseq == seq {
            match kind {
                RTM_NEWADDR => {
                    let hdr = msg.get(..IFADDRMSG_LEN)?;
                    let [family, prefix, flags, _scope, i0, i1, i2, i3] =
                        <[u8; IFADDRMSG_LEN]>::try_from(hdr).ok()?;
                    let index = u32::from_ne_bytes([i0, i1, i2, i3]);
                    if family == libc::AF_INET as u8 {
                        let attrs = Attrs::new(msg.get(IFADDRMSG_LEN..)?);
                        let flags = attrs
                            .get(IFA_FLAGS)
                            .and_then(|a| a.data.get(0..4)?.try_into().ok())
                            .map_or(u32::from(flags), u32::from_ne_bytes);
                        let broadcast = attrs
                            .get(IFA_BROADCAST)
                            .and_then(|a| <[u8; 4]>::try_from(a.data.get(0..4)?).ok())
                            .map(Ipv4Addr::from);
                        out.push(IfAddr {
                            index,
                            prefix,
                            secondary: flags & IFA_F_SECONDARY != 0,
                            broadcast,
                        });
                    }
                }
                NLMSG_DONE => return Some(true),
                NLMSG_ERROR => return None,
                _ => {}
            }
        }
        rest = rest.get((len + 3) & !3..).unwrap_or(&[]);
    }
    Some(false)
}

/// `nf_conntrack_broadcast_help()`'s mask: the prefix length of the first
/// primary (not IFA_F_SECONDARY) address of interface `oif` whose
/// broadcast address is `broadcast`.
pub fn broadcast_prefix(addrs: &[IfAddr], oif: u32, broadcast: Ipv4Addr) -> Option<u8> {
    addrs
        .iter()
        .find(|a| a.index == oif && !a.secondary && a.broadcast == Some(broadcast))
        .map(|a| a.prefix)
}

/// A blocking NETLINK_ROUTE socket for route lookups.
pub struct RouteSocket {
    sock: Socket,
    seq: u32,
    buf: Vec<u8>,
}

impl RouteSocket {
    pub fn open() -> io::Result<Self> {
        let mut sock = Socket::new(NETLINK_ROUTE)?;
        sock.bind_auto()?;
        sock.connect(&SocketAddr::new(0, 0))?;
        let tv = libc::timeval {
            tv_sec: 0,
            tv_usec: 200_000,
        };
        super::setsockopt(&sock, libc::SOL_SOCKET, libc::SO_RCVTIMEO, &tv)?;
        Ok(RouteSocket {
            sock,
            seq: 1,
            buf: vec![0; 32768],
        })
    }

    /// The interface index the route to `dst` leaves through.
    pub fn oif(&mut self, dst: IpAddr) -> Option<u32> {
        self.seq = self.seq.wrapping_add(1);
        let seq = self.seq;
        self.sock.send(&encode_get(dst, seq), 0).ok()?;
        // A few reads at most: an answer to an earlier, timed-out question
        // may come first.
        for _ in 0..4 {
            let n = self.sock.recv(&mut &mut self.buf[..], 0).ok()?;
            let got = self.buf.get(..n)?;
            if let Some(oif) = parse_oif(got, seq) {
                return Some(oif);
            }
            let answered = got
                .get(8..12)
                .and_then(|b| b.try_into().ok())
                .map(u32::from_ne_bytes);
            if answered == Some(seq) {
                return None;
            }
        }
        None
    }

    /// The IPv4 addresses of all interfaces (one RTM_GETADDR dump).
    pub fn addrs(&mut self) -> Option<Vec<IfAddr>> {
        self.seq = self.seq.wrapping_add(1);
        let seq = self.seq;
        self.sock.send(&encode_getaddr(seq), 0).ok()?;
        let mut out = Vec::new();
        for _ in 0..DUMP_DATAGRAMS {
            let n = self.sock.recv(&mut &mut self.buf[..], 0).ok()?;
            if parse_addrs(self.buf.get(..n)?, seq, &mut out)? {
                return Some(out);
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_layout() {
        let b = encode_get("192.0.2.7".parse().unwrap(), 9);
        assert_eq!(b.len(), 16 + 12 + 8);
        assert_eq!(u32::from_ne_bytes(b[0..4].try_into().unwrap()), 36);
        assert_eq!(
            u16::from_ne_bytes(b[4..6].try_into().unwrap()),
            RTM_GETROUTE
        );
        assert_eq!(u32::from_ne_bytes(b[8..12].try_into().unwrap()), 9);
        assert_eq!(b[16], libc::AF_INET as u8);
        assert_eq!(b[17], 32);
        assert_eq!(&b[32..36], &[192, 0, 2, 7]);
        let b = encode_get("2001:db8::1".parse().unwrap(), 1);
        assert_eq!(b.len(), 16 + 12 + 20);
        assert_eq!(b[17], 128);
    }

    #[test]
    fn answer_parsing_is_bounded() {
        // RTM_NEWROUTE seq 5 with RTA_TABLE then RTA_OIF = 3.
        let mut m = Vec::new();
        let body_len = 16 + 12 + 8 + 8;
        m.extend_from_slice(&(body_len as u32).to_ne_bytes());
        m.extend_from_slice(&RTM_NEWROUTE.to_ne_bytes());
        m.extend_from_slice(&0u16.to_ne_bytes());
        m.extend_from_slice(&5u32.to_ne_bytes());
        m.extend_from_slice(&0u32.to_ne_bytes());
        m.extend_from_slice(&[2, 32, 0, 0, 254, 0, 0, 1, 0, 0, 0, 0]);
        m.extend_from_slice(&8u16.to_ne_bytes());
        m.extend_from_slice(&15u16.to_ne_bytes());
        m.extend_from_slice(&254u32.to_ne_bytes());
        m.extend_from_slice(&8u16.to_ne_bytes());
        m.extend_from_slice(&RTA_OIF.to_ne_bytes());
        m.extend_from_slice(&3u32.to_ne_bytes());
        assert_eq!(parse_oif(&m, 5), Some(3));
        assert_eq!(parse_oif(&m, 6), None);
        for cut in 0..m.len() {
            assert_eq!(parse_oif(&m[..cut], 5), None, "cut at {cut}");
        }
    }

    /// One RTM_NEWADDR: ifaddrmsg + IFA_ADDRESS + IFA_BROADCAST (+ IFA_FLAGS).
    fn newaddr(
        seq: u32,
        index: u32,
        prefix: u8,
        flags: u8,
        bcast: Option<[u8; 4]>,
        ext: Option<u32>,
    ) -> Vec<u8> {
        let mut body = vec![libc::AF_INET as u8, prefix, flags, 0];
        body.extend_from_slice(&index.to_ne_bytes());
        body.extend_from_slice(&8u16.to_ne_bytes());
        body.extend_from_slice(&1u16.to_ne_bytes());
        body.extend_from_slice(&[10, 0, 3, 1]);
        if let Some(b) = bcast {
            body.extend_from_slice(&8u16.to_ne_bytes());
            body.extend_from_slice(&IFA_BROADCAST.to_ne_bytes());
            body.extend_from_slice(&b);
        }
        if let Some(f) = ext {
            body.extend_from_slice(&8u16.to_ne_bytes());
            body.extend_from_slice(&IFA_FLAGS.to_ne_bytes());
            body.extend_from_slice(&f.to_ne_bytes());
        }
        let mut m = Vec::new();
        m.extend_from_slice(&((16 + body.len()) as u32).to_ne_bytes());
        m.extend_from_slice(&RTM_NEWADDR.to_ne_bytes());
        m.extend_from_slice(&2u16.to_ne_bytes());
        m.extend_from_slice(&seq.to_ne_bytes());
        m.extend_from_slice(&0u32.to_ne_bytes());
        m.extend_from_slice(&body);
        m
    }

    #[test]
    fn address_dump() {
        let b = encode_getaddr(7);
        assert_eq!(b.len(), 24);
        assert_eq!(u16::from_ne_bytes(b[4..6].try_into().unwrap()), RTM_GETADDR);
        assert_eq!(u16::from_ne_bytes(b[6..8].try_into().unwrap()), 0x301);
        assert_eq!(b[16], libc::AF_INET as u8);

        let mut d = Vec::new();
        // A secondary address of index 3 with the broadcast, then (extended
        // flags say secondary) another, then the primary /24, then a /25 of
        // the same broadcast: the first primary one counts.
        d.extend(newaddr(
            7,
            3,
            25,
            IFA_F_SECONDARY as u8,
            Some([10, 0, 3, 255]),
            None,
        ));
        d.extend(newaddr(
            7,
            3,
            26,
            0,
            Some([10, 0, 3, 255]),
            Some(IFA_F_SECONDARY),
        ));
        d.extend(newaddr(7, 2, 16, 0, Some([10, 0, 3, 255]), None));
        d.extend(newaddr(7, 3, 24, 0, Some([10, 0, 3, 255]), None));
        d.extend(newaddr(7, 3, 25, 0, Some([10, 0, 3, 255]), None));
        d.extend(newaddr(7, 3, 30, 0, None, None));
        d.extend(newaddr(6, 3, 8, 0, Some([10, 0, 3, 255]), None));
        let mut out = Vec::new();
        assert_eq!(parse_addrs(&d, 7, &mut out), Some(false));
        assert_eq!(out.len(), 6);
        let bc = Ipv4Addr::new(10, 0, 3, 255);
        assert_eq!(broadcast_prefix(&out, 3, bc), Some(24));
        assert_eq!(broadcast_prefix(&out, 2, bc), Some(16));
        assert_eq!(broadcast_prefix(&out, 4, bc), None);
        assert_eq!(
            broadcast_prefix(&out, 3, Ipv4Addr::new(10, 0, 3, 127)),
            None
        );
        // NLMSG_DONE of our dump ends it; cut datagrams never over-read.
        let mut done = Vec::new();
        done.extend_from_slice(&20u32.to_ne_bytes());
        done.extend_from_slice(&NLMSG_DONE.to_ne_bytes());
        done.extend_from_slice(&2u16.to_ne_bytes());
        done.extend_from_slice(&7u32.to_ne_bytes());
        done.extend_from_slice(&0u32.to_ne_bytes());
        done.extend_from_slice(&0u32.to_ne_bytes());
        assert_eq!(parse_addrs(&done, 7, &mut Vec::new()), Some(true));
        for cut in 0..d.len() {
            let mut v = Vec::new();
            let _ = parse_addrs(&d[..cut], 7, &mut v);
            assert!(v.len() <= 6);
        }
    }

    /// The host's own addresses: 127.0.0.1/8 on `lo`, which has no
    /// broadcast address.
    #[test]
    fn own_addresses() {
        let Ok(mut s) = RouteSocket::open() else {
            eprintln!("skipped: no NETLINK_ROUTE socket");
            return;
        };
        let a = s.addrs().expect("address dump");
        assert!(
            a.iter()
                .any(|x| x.index == 1 && x.prefix == 8 && x.broadcast.is_none()),
            "{a:?}"
        );
    }

    /// The host's own routing table: 127.0.0.1 leaves through `lo` (index 1).
    #[test]
    fn loopback_route() {
        let Ok(mut s) = RouteSocket::open() else {
            eprintln!("skipped: no NETLINK_ROUTE socket");
            return;
        };
        assert_eq!(s.oif("127.0.0.1".parse().unwrap()), Some(1));
    }
}
