//! The NAT given on the command line and how conntrack applies it to a new
//! flow: the reply tuple of a new entry, and nf_nat_follow_master() for
//! flows that match an expectation with NAT.

use anyhow::{bail, Context, Result};
use helpers::{ConnView, ExpectNat, Tuple};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::str::FromStr;

/// `--snat PREFIX=ADDR`: source NAT of a client prefix to one address,
/// masquerade-like (ports kept).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Snat {
    pub net: IpAddr,
    pub prefix: u8,
    pub to: IpAddr,
}

/// `--dnat ADDR:PORT=ADDR:PORT`: destination NAT of one service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dnat {
    pub from: SocketAddr,
    pub to: SocketAddr,
}

impl FromStr for Snat {
    type Err = anyhow::Error;
    fn from_str(s: &str) -> Result<Self> {
        let (net, to) = s
            .split_once('=')
            .context("expected PREFIX/LEN=ADDRESS, e.g. 10.0.0.0/24=203.0.113.1")?;
        let (addr, len) = net.split_once('/').unwrap_or((net, ""));
        let net: IpAddr = addr
            .parse()
            .with_context(|| format!("bad address `{addr}`"))?;
        let max = if net.is_ipv4() { 32 } else { 128 };
        let prefix = if len.is_empty() {
            max
        } else {
            len.parse::<u8>()
                .ok()
                .filter(|l| *l <= max)
                .with_context(|| format!("bad prefix length `{len}`"))?
        };
        let to: IpAddr = to.parse().with_context(|| format!("bad address `{to}`"))?;
        if to.is_ipv4() != net.is_ipv4() {
            bail!("`{s}` mixes IPv4 and IPv6");
        }
        Ok(Snat { net, prefix, to })
    }
}

impl FromStr for Dnat {
    type Err = anyhow::Error;
    fn from_str(s: &str) -> Result<Self> {
        let (from, to) = s
            .split_once('=')
            .context("expected ADDR:PORT=ADDR:PORT, e.g. 203.0.113.1:21=10.0.1.2:21")?;
        let from: SocketAddr = from
            .parse()
            .with_context(|| format!("bad address:port `{from}`"))?;
        let to: SocketAddr = to
            .parse()
            .with_context(|| format!("bad address:port `{to}`"))?;
        if to.is_ipv4() != from.is_ipv4() {
            bail!("`{s}` mixes IPv4 and IPv6");
        }
        Ok(Dnat { from, to })
    }
}

/// `--broadcast NET/LEN`: a subnet of the host the capture was taken on;
/// a request it sends to the subnet's broadcast address is taken as a
/// local broadcast (the SNMP helper expects the answers from the subnet).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Subnet {
    pub net: Ipv4Addr,
    pub prefix: u8,
}

impl FromStr for Subnet {
    type Err = anyhow::Error;
    fn from_str(s: &str) -> Result<Self> {
        let (addr, len) = s
            .split_once('/')
            .context("expected NET/LEN, e.g. 192.168.1.0/24")?;
        let net: Ipv4Addr = addr
            .parse()
            .with_context(|| format!("bad IPv4 address `{addr}`"))?;
        let prefix = len
            .parse::<u8>()
            .ok()
            .filter(|l| (1..=30).contains(l))
            .with_context(|| {
                format!("bad prefix length `{len}` (1 to 30: a subnet with a broadcast address)")
            })?;
        Ok(Subnet { net, prefix })
    }
}

impl Subnet {
    /// The subnet's broadcast address (all host bits set).
    pub fn broadcast(&self) -> Ipv4Addr {
        let host = u32::MAX.checked_shr(u32::from(self.prefix)).unwrap_or(0);
        Ipv4Addr::from(u32::from(self.net) | host)
    }
}

impl Snat {
    pub fn contains(&self, a: IpAddr) -> bool {
        match (self.net, a) {
            (IpAddr::V4(n), IpAddr::V4(a)) => {
                let m = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(n) & m == u32::from(a) & m
            }
            (IpAddr::V6(n), IpAddr::V6(a)) => {
                let m = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(n) & m == u128::from(a) & m
            }
            _ => false,
        }
    }
}

/// The NAT rules of one replay.
#[derive(Debug, Clone, Default)]
pub struct Nat {
    pub snat: Vec<Snat>,
    pub dnat: Vec<Dnat>,
}

/// Which rules of a [`Nat`] gave a new flow its entry (indexes).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Rules {
    pub snat: Option<usize>,
    pub dnat: Option<usize>,
}

impl Nat {
    /// The conntrack entry of a new flow whose first packet is `pkt`.
    ///
    /// `pkt` is normally what arrives at the router (before NAT). A capture
    /// taken behind a DNAT shows the internal server as destination: such
    /// a first packet is taken as the arrival at the public address.
    pub fn new_conn(&self, pkt: Tuple) -> ConnView {
        self.new_conn_by(pkt).0
    }

    /// [`Nat::new_conn`], and the rules that made it.
    pub fn new_conn_by(&self, pkt: Tuple) -> (ConnView, Rules) {
        let mut orig = pkt;
        let mut reply = pkt.inverse();
        let mut rules = Rules::default();
        for (i, d) in self.dnat.iter().enumerate() {
            let from = (d.from.ip(), d.from.port());
            let to = (d.to.ip(), d.to.port());
            if (pkt.dst, pkt.dport) == from {
                reply.src = to.0;
                reply.sport = to.1;
                rules.dnat = Some(i);
                break;
            }
            if (pkt.dst, pkt.dport) == to && !self.snat.iter().any(|s| s.contains(pkt.src)) {
                orig.dst = from.0;
                orig.dport = from.1;
                rules.dnat = Some(i);
                break;
            }
        }
        if let Some(i) = self.snat.iter().position(|s| s.contains(pkt.src)) {
            reply.dst = self.snat[i].to;
            rules.snat = Some(i);
        }
        (ConnView { orig, reply }, rules)
    }
}

impl std::fmt::Display for Snat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}={}", self.net, self.prefix, self.to)
    }
}

impl std::fmt::Display for Dnat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}={}", self.from, self.to)
    }
}

/// nf_nat_follow_master(): the tuple the expected flow `arrival` is
/// translated to. Source becomes the address the master sends to in the
/// direction of the expectation (port kept), destination the master's peer
/// with the saved port.
pub fn follow_master(master: &ConnView, nat: &ExpectNat, arrival: Tuple) -> Tuple {
    let m = master.tuple(nat.dir.reverse());
    Tuple {
        src: m.dst,
        sport: arrival.sport,
        dst: m.src,
        dport: nat.saved_port,
        proto: arrival.proto,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use helpers::{Dir, L4Proto};

    #[test]
    fn subnets() {
        let s: Subnet = "10.0.3.0/24".parse().unwrap();
        assert_eq!(s.broadcast(), Ipv4Addr::new(10, 0, 3, 255));
        let s: Subnet = "192.168.8.77/22".parse().unwrap();
        assert_eq!(s.broadcast(), Ipv4Addr::new(192, 168, 11, 255));
        for bad in ["10.0.3.0", "10.0.3.0/31", "10.0.3.0/0", "fd00::/64", "x/24"] {
            assert!(bad.parse::<Subnet>().is_err(), "{bad}");
        }
    }

    fn t(s: &str, sp: u16, d: &str, dp: u16) -> Tuple {
        Tuple {
            src: s.parse().unwrap(),
            dst: d.parse().unwrap(),
            proto: L4Proto::Tcp,
            sport: sp,
            dport: dp,
        }
    }

    #[test]
    fn parses_rules() {
        let s: Snat = "10.0.0.0/24=203.0.113.1".parse().unwrap();
        assert!(s.contains("10.0.0.200".parse().unwrap()));
        assert!(!s.contains("10.0.1.1".parse().unwrap()));
        assert!(!s.contains("2001:db8::1".parse().unwrap()));
        let s6: Snat = "2001:db8:1::/48=2001:db8:ffff::1".parse().unwrap();
        assert!(s6.contains("2001:db8:1:2::5".parse().unwrap()));
        assert!(!s6.contains("2001:db8:2::5".parse().unwrap()));
        let all: Snat = "0.0.0.0/0=192.0.2.1".parse().unwrap();
        assert!(all.contains("8.8.8.8".parse().unwrap()));
        assert!("10.0.0.0/33=1.2.3.4".parse::<Snat>().is_err());
        assert!("10.0.0.0/8=2001:db8::1".parse::<Snat>().is_err());
        assert!("10.0.0.0/8".parse::<Snat>().is_err());
        let d: Dnat = "[2001:db8::1]:21=[fd00::2]:2121".parse().unwrap();
        assert_eq!(d.to.port(), 2121);
        assert!("203.0.113.1=10.0.1.2:21".parse::<Dnat>().is_err());
    }

    #[test]
    fn snat_and_dnat_reply_tuples() {
        let nat = Nat {
            snat: vec!["10.0.0.0/24=203.0.113.1".parse().unwrap()],
            dnat: vec!["203.0.113.1:21=10.0.1.2:21".parse().unwrap()],
        };
        let c = nat.new_conn(t("10.0.0.5", 40000, "198.51.100.1", 21));
        assert_eq!(c.reply, t("198.51.100.1", 21, "203.0.113.1", 40000));
        assert!(c.src_nat() && !c.dst_nat());
        let c = nat.new_conn(t("198.51.100.7", 5000, "203.0.113.1", 21));
        assert_eq!(c.reply, t("10.0.1.2", 21, "198.51.100.7", 5000));
        assert!(c.dst_nat() && !c.src_nat());
        // Seen behind the DNAT: the arrival was at the public address.
        let c = nat.new_conn(t("198.51.100.7", 5000, "10.0.1.2", 21));
        assert_eq!(c.orig, t("198.51.100.7", 5000, "203.0.113.1", 21));
        assert_eq!(c.reply, t("10.0.1.2", 21, "198.51.100.7", 5000));
        let plain = Nat::default().new_conn(t("1.1.1.1", 1, "2.2.2.2", 2));
        assert!(!plain.nat());
        // Which rule made which entry.
        let (_, r) = nat.new_conn_by(t("10.0.0.5", 40000, "198.51.100.1", 21));
        assert_eq!(
            r,
            Rules {
                snat: Some(0),
                dnat: None
            }
        );
        let (_, r) = nat.new_conn_by(t("198.51.100.7", 5000, "10.0.1.2", 21));
        assert_eq!(
            r,
            Rules {
                snat: None,
                dnat: Some(0)
            }
        );
        assert_eq!(nat.snat[0].to_string(), "10.0.0.0/24=203.0.113.1");
        assert_eq!(nat.dnat[0].to_string(), "203.0.113.1:21=10.0.1.2:21");
    }

    #[test]
    fn follow_master_active_ftp_under_snat() {
        // Master: client 10.0.0.5 → server, SNAT to 203.0.113.1.
        let m = ConnView {
            orig: t("10.0.0.5", 40000, "198.51.100.1", 21),
            reply: t("198.51.100.1", 21, "203.0.113.1", 40000),
        };
        // PORT from the client (original dir): exp->dir = reply, saved port
        // = the client's port.
        let nat = ExpectNat::follow_master(Dir::Reply, "10.0.0.5".parse().unwrap(), 5001);
        let arrival = t("198.51.100.1", 20, "203.0.113.1", 5001);
        assert_eq!(
            follow_master(&m, &nat, arrival),
            t("198.51.100.1", 20, "10.0.0.5", 5001)
        );
        // Passive under DNAT: 227 from the server (reply dir): exp->dir =
        // original; the client's data flow goes to the internal server.
        let m = ConnView {
            orig: t("198.51.100.7", 5000, "203.0.113.1", 21),
            reply: t("10.0.1.2", 21, "198.51.100.7", 5000),
        };
        let nat = ExpectNat::follow_master(Dir::Original, "10.0.1.2".parse().unwrap(), 30000);
        let arrival = t("198.51.100.7", 5002, "203.0.113.1", 30000);
        assert_eq!(
            follow_master(&m, &nat, arrival),
            t("198.51.100.7", 5002, "10.0.1.2", 30000)
        );
    }
}
