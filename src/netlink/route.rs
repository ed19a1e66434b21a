//! One rtnetlink question: which interface does the route to an address
//! leave through (RTM_GETROUTE → RTA_OIF)? For the SIP helper's
//! `sip_external_media`, which the kernel answers with a FIB lookup
//! (`nf_ip_route()` / `nf_ip6_route()`) and compares with the device the
//! SIP packet leaves through.
//!
//! Hand-encoded (a 16-byte nlmsghdr, a 12-byte `struct rtmsg`, RTA_DST):
//! the answer is read with the same bounds-checked attribute view as the
//! netfilter messages.

use super::attr::Attrs;
use netlink_sys::{protocols::NETLINK_ROUTE, Socket, SocketAddr};
use std::io;
use std::net::IpAddr;

const RTM_NEWROUTE: u16 = 24;
const RTM_GETROUTE: u16 = 26;
const NLMSG_ERROR: u16 = 2;
const NLM_F_REQUEST: u16 = 1;
const RTA_DST: u16 = 1;
const RTA_OIF: u16 = 4;
const NLMSG_HDRLEN: usize = 16;
const RTMSG_LEN: usize = 12;

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
            buf: vec![0; 8192],
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
