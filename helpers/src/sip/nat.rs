//! NAT rewriting as `nf_nat_sip.c`: address formats, `map_addr()`, and an
//! edit collector that keeps edits of one payload non-overlapping.

use std::net::{IpAddr, Ipv6Addr};

use super::msg::Span;
use crate::conn::{ConnView, Dir};
use crate::edit::Edit;
use crate::text::Small;

/// `sip_sprintf_addr()`: IPv4 dotted, IPv6 as `%pI6c`, in brackets when
/// `brackets`.
pub fn addr_text(addr: IpAddr, brackets: bool) -> Small {
    let mut out = Small::new();
    push_addr(&mut out, addr, brackets);
    out
}

fn push_addr(out: &mut Small, addr: IpAddr, brackets: bool) {
    match addr {
        IpAddr::V4(a) => out.push_ipv4(a),
        IpAddr::V6(a) if brackets => {
            out.push_byte(b'[');
            push_ipv6_compressed(out, a);
            out.push_byte(b']');
        }
        IpAddr::V6(a) => push_ipv6_compressed(out, a),
    }
}

/// IPv6 text exactly as the kernel's `%pI6c` (`ip6_compressed_string()`):
/// lowercase groups without leading zeros, the first longest run of two or
/// more zero groups as `::`, and a dotted IPv4 tail for IPv4-mapped and
/// ISATAP addresses (std's `Display` differs on ISATAP).
pub fn ipv6_compressed(a: Ipv6Addr) -> String {
    let mut out = Small::new();
    push_ipv6_compressed(&mut out, a);
    out.as_str().to_string()
}

fn push_ipv6_compressed(out: &mut Small, a: Ipv6Addr) {
    let w = a.segments();
    let [.., w4, w5, w6, w7] = w;
    let mapped = w.get(..5).is_some_and(|z| z.iter().all(|&x| x == 0)) && w5 == 0xffff;
    let isatap = (w4 | 0x0200) == 0x0200 && w5 == 0x5efe;
    let v4 = mapped || isatap;
    let range = if v4 { 6 } else { 8 };
    let groups = w.get(..range).unwrap_or(&w);
    let (mut colonpos, mut longest) = (usize::MAX, 0usize);
    for i in 0..range {
        let run = groups
            .get(i..)
            .unwrap_or_default()
            .iter()
            .take_while(|&&x| x == 0)
            .count();
        if run > longest {
            longest = run;
            colonpos = i;
        }
    }
    if longest <= 1 {
        colonpos = usize::MAX;
    }
    let mut needcolon = false;
    let mut i = 0;
    while i < range {
        if i == colonpos {
            if needcolon || i == 0 {
                out.push_byte(b':');
            }
            out.push_byte(b':');
            needcolon = false;
            i += longest;
            continue;
        }
        if needcolon {
            out.push_byte(b':');
        }
        out.push_hex(groups.get(i).copied().unwrap_or(0));
        needcolon = true;
        i += 1;
    }
    if v4 {
        if needcolon {
            out.push_byte(b':');
        }
        let [a, b] = w6.to_be_bytes();
        let [c, d] = w7.to_be_bytes();
        out.push_ipv4(std::net::Ipv4Addr::new(a, b, c, d));
    }
}

/// `sip_sprintf_addr_port()`: `addr:port`, IPv6 in brackets. The port is
/// always written, even the default 5060, as the kernel does.
pub fn addr_port_text(addr: IpAddr, port: u16) -> Small {
    let mut out = addr_text(addr, true);
    out.push_byte(b':');
    out.push_dec(u32::from(port));
    out
}

/// `map_addr()`: the address/port a SIP header naming `addr:port` must
/// carry after NAT, or None if it names neither end of this connection (or
/// would not change).
pub fn map_addr(
    conn: &ConnView,
    dir: Dir,
    forced_dport: Option<u16>,
    addr: IpAddr,
    port: u16,
) -> Option<(IpAddr, u16)> {
    let me = conn.tuple(dir);
    let peer = conn.tuple(dir.reverse());
    let new = if addr == me.src && port == me.sport {
        (peer.dst, peer.dport)
    } else if addr == me.dst && port == me.dport {
        (peer.src, forced_dport.unwrap_or(peer.sport))
    } else {
        return None;
    };
    (new != (addr, port)).then_some(new)
}

/// Edits of one payload. An edit overlapping one already taken is refused
/// (the first rewrite of a range wins, as when the kernel's later passes
/// see text an earlier pass already rewrote); an edit that changes nothing
/// is not recorded.
#[derive(Debug, Default)]
pub struct Rewriter {
    pub edits: Vec<Edit>,
}

impl Rewriter {
    /// Replaces `span` of `buf` by `text`. Returns false if refused.
    pub fn replace(&mut self, buf: &[u8], span: Span, text: &str) -> bool {
        if span.get(buf) == text.as_bytes() && span.end() <= buf.len() {
            return true;
        }
        if span.end() > buf.len() {
            return false;
        }
        let clash = self.edits.iter().any(|e| {
            let e_end = e.offset + e.len;
            span.off < e_end.max(e.offset + 1) && e.offset < span.end().max(span.off + 1)
        });
        if clash {
            return false;
        }
        self.edits.push(Edit::new(span.off, span.len, text));
        true
    }
    /// Size change of the edits inside `[s, e)`.
    pub fn delta_in(&self, s: usize, e: usize) -> isize {
        self.edits
            .iter()
            .filter(|x| x.offset >= s && x.offset < e)
            .map(Edit::delta)
            .sum()
    }
    pub fn truncate(&mut self, n: usize) {
        self.edits.truncate(n);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conn::{L4Proto, Tuple};

    #[test]
    fn formats() {
        let v6: IpAddr = "2001:db8::1".parse().unwrap();
        assert_eq!(addr_port_text(v6, 5060), "[2001:db8::1]:5060");
        assert_eq!(addr_text(v6, false), "2001:db8::1");
        assert_eq!(
            addr_port_text("1.2.3.4".parse().unwrap(), 5060),
            "1.2.3.4:5060"
        );
    }

    #[test]
    fn map_both_ends() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        let conn = ConnView {
            orig: Tuple {
                src: ip("192.168.1.10"),
                dst: ip("203.0.113.5"),
                proto: L4Proto::Udp,
                sport: 5060,
                dport: 5060,
            },
            reply: Tuple {
                src: ip("203.0.113.5"),
                dst: ip("198.51.100.1"),
                proto: L4Proto::Udp,
                sport: 5060,
                dport: 1024,
            },
        };
        assert_eq!(
            map_addr(&conn, Dir::Original, None, ip("192.168.1.10"), 5060),
            Some((ip("198.51.100.1"), 1024))
        );
        assert_eq!(
            map_addr(&conn, Dir::Reply, Some(5070), ip("198.51.100.1"), 1024),
            Some((ip("192.168.1.10"), 5070))
        );
        assert_eq!(
            map_addr(&conn, Dir::Original, None, ip("203.0.113.5"), 5060),
            None
        );
        let mut r = Rewriter::default();
        let b = b"0123456789";
        assert!(r.replace(b, Span::new(2, 4), "xy"));
        assert!(!r.replace(b, Span::new(3, 5), "zz"));
        assert!(r.replace(b, Span::new(4, 4), "ins"));
        assert!(!r.replace(b, Span::new(9, 12), "a"));
    }
}
