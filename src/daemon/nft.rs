//! The nft ruleset that attaches the enabled helpers to their ports, as
//! shipped in nft/cthelperd.nft for the default configuration.

use crate::config::Config;
use helpers::L4Proto;
use std::fmt::Write;

const HEAD: &str = "#!/usr/sbin/nft -f
# cthelperd: attach the userspace conntrack helpers to new connections on their ports.
#
# Load it AFTER `cthelperd run` has registered its helpers (the systemd unit does this in
# ExecStartPost): a `ct helper` object whose helper is not registered makes the kernel try to
# autoload its own module (nf_conntrack_ftp), and then cthelperd cannot register \"ftp\".
#
# Generated for the default configuration (ftp tcp/21, sip udp+tcp/5060, tftp udp/69, irc tcp/6667,
# amanda udp/10080). For other ports or helpers, print the
# ruleset that matches your configuration with `cthelperd nft` (see docs/kernel-path.md), or add
# ports to the sets below.
#
# Semantics:
# - `ct helper` objects in an inet table need `l3proto inet` to serve IPv4 and IPv6 (without it nft
#   takes the table's family, which for inet is not a valid l3proto for the helper lookup).
# - `ct helper set` only works on a connection's first packet (before conntrack confirms it) and
#   needs the conntrack to exist: a chain at priority filter (0) or later, not raw.
# - prerouting catches forwarded and incoming connections, output the ones this host opens.

table inet cthelperd
delete table inet cthelperd

table inet cthelperd {
";

/// The ruleset for `cfg`'s enabled helpers.
#[cfg_attr(not(test), allow(dead_code))] // wired as `cthelperd nft` by main.rs
pub fn ruleset(cfg: &Config) -> String {
    let mut objs = String::new();
    let mut rules = String::new();
    for h in cfg.enabled() {
        let i = h.info;
        let (l3, only) = match (i.ipv4, i.ipv6) {
            (true, true) => ("inet", ""),
            (true, false) => ("ip", "meta nfproto ipv4 "),
            _ => ("ip6", "meta nfproto ipv6 "),
        };
        let ports: Vec<String> = h.ports.iter().map(u16::to_string).collect();
        let _ = write!(
            objs,
            "\tset {n}_ports {{\n\t\ttype inet_service\n\t\telements = {{ {p} }}\n\t}}\n\n",
            n = i.name,
            p = ports.join(", ")
        );
        for l4 in i.l4 {
            let proto = match l4 {
                L4Proto::Tcp => "tcp",
                L4Proto::Udp => "udp",
                L4Proto::Gre => "gre",
            };
            // One object per transport: SIP is "sip-udp" and "sip-tcp".
            let obj = if i.l4.len() > 1 {
                format!("{}-{proto}", i.name)
            } else {
                i.name.to_string()
            };
            let _ = write!(
                objs,
                "\tct helper {obj} {{\n\t\ttype \"{n}\" protocol {proto}\n\t\tl3proto {l3}\n\t}}\n\n",
                n = i.name,
            );
            let _ = writeln!(
                rules,
                "\t\t{only}ct state new {proto} dport @{n}_ports ct helper set \"{obj}\"",
                n = i.name
            );
        }
    }
    let mut s = String::from(HEAD);
    s.push_str(&objs);
    for (chain, hook) in [("prerouting", "prerouting"), ("output", "output")] {
        let _ = write!(
            s,
            "\tchain {chain} {{\n\t\ttype filter hook {hook} priority filter; policy accept;\n{rules}\t}}\n"
        );
        if chain == "prerouting" {
            s.push('\n');
        }
    }
    s.push_str("}\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_ruleset_is_the_default_config() {
        let shipped = include_str!("../../nft/cthelperd.nft");
        assert_eq!(ruleset(&Config::default()), shipped);
    }

    #[test]
    fn other_ports() {
        let c = Config::parse("[helper.ftp]\nports = [21, 2121]\n").unwrap();
        let r = ruleset(&c);
        assert!(r.contains("elements = { 21, 2121 }"), "{r}");
        let c = Config::parse("[helper.ftp]\nenabled = false\n").unwrap();
        let r = ruleset(&c);
        assert!(!r.contains("ct helper set \"ftp\""), "{r}");
        assert!(!r.contains("set ftp_ports"), "{r}");
    }

    #[test]
    fn one_object_per_transport() {
        let r = ruleset(&Config::default());
        for line in [
            "ct helper sip-udp {\n\t\ttype \"sip\" protocol udp",
            "ct helper sip-tcp {\n\t\ttype \"sip\" protocol tcp",
            "ct state new udp dport @sip_ports ct helper set \"sip-udp\"",
            "ct state new tcp dport @sip_ports ct helper set \"sip-tcp\"",
            "ct state new udp dport @tftp_ports ct helper set \"tftp\"",
            "ct state new tcp dport @irc_ports ct helper set \"irc\"",
            "ct state new udp dport @amanda_ports ct helper set \"amanda\"",
        ] {
            assert!(r.contains(line), "{line} missing in\n{r}");
        }
    }
}
