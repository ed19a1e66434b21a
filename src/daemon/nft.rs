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
{generated}
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

/// The name of a helper's nft objects (its `ct helper` object, its port
/// set): an nft identifier cannot hold the `.` of "Q.931", so only ASCII
/// letters, digits, `_` and `-` are kept, lowercased ("Q.931" → "q931",
/// "RAS" → "ras"); the object's `type` keeps the helper's own name.
pub fn object_name(helper: &str) -> String {
    helper
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

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
        if h.ports.is_empty() {
            // Attached by the expectations of another helper (H.245): no
            // set, no object, no rule.
            continue;
        }
        let ports: Vec<String> = h.ports.iter().map(u16::to_string).collect();
        let base = object_name(i.name);
        let _ = write!(
            objs,
            "\tset {base}_ports {{\n\t\ttype inet_service\n\t\telements = {{ {p} }}\n\t}}\n\n",
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
                format!("{base}-{proto}")
            } else {
                base.clone()
            };
            let n = h.queues.max(1);
            let mut names = Vec::new();
            for k in 0..n {
                let (o, t) = match k {
                    0 => (obj.clone(), i.name.to_string()),
                    _ => (
                        format!("{obj}-{k}"),
                        crate::flow::instance_name(i.name, k).to_string(),
                    ),
                };
                let _ = write!(
                    objs,
                    "\tct helper {o} {{\n\t\ttype \"{t}\" protocol {proto}\n\t\tl3proto {l3}\n\t}}\n\n",
                );
                names.push(o);
            }
            let head = format!("\t\t{only}ct state new {proto} dport @{base}_ports ct helper set");
            if n == 1 {
                let _ = writeln!(rules, "{head} \"{obj}\"");
                continue;
            }
            // Fan-out: a hash of the new connection's source picks the
            // instance (the helper is set once, on the first packet, so any
            // per-connection key keeps a flow on one instance). The
            // address needs its family: one rule per family.
            let map: Vec<String> = names
                .iter()
                .enumerate()
                .map(|(k, o)| format!("{k} : \"{o}\""))
                .collect();
            let fams: &[&str] = match (i.ipv4, i.ipv6) {
                (true, true) => &["ip", "ip6"],
                (true, false) => &["ip"],
                _ => &["ip6"],
            };
            for f in fams {
                let key = match l4 {
                    L4Proto::Tcp | L4Proto::Udp => format!("{f} saddr . {proto} sport"),
                    L4Proto::Gre => format!("{f} saddr"),
                };
                let _ = writeln!(
                    rules,
                    "{head} jhash {key} mod {n} map {{ {} }}",
                    map.join(", ")
                );
            }
        }
    }
    let list: Vec<String> = cfg
        .enabled()
        .filter(|h| !h.ports.is_empty())
        .map(|h| {
            let p: Vec<String> = h.ports.iter().map(u16::to_string).collect();
            format!("{} {}/{}", h.info.name, h.info.l4_names(), p.join(","))
        })
        .collect();
    let which = if *cfg == Config::default() {
        "the default configuration"
    } else {
        "a custom configuration"
    };
    let mut generated = format!("# Generated by `cthelperd nft` for {which}:");
    let mut width = generated.len();
    for (n, item) in list.iter().enumerate() {
        let sep = if n + 1 == list.len() { "." } else { "," };
        if width + item.len() + 2 > 100 {
            generated.push_str("\n#");
            width = 1;
        }
        let _ = write!(generated, " {item}{sep}");
        width += item.len() + 2;
    }
    generated.push_str(
        "\n# Helpers that only serve connections other helpers expect (no ports) need no rule here.\n# For other ports or helpers print the ruleset of your configuration with `cthelperd nft`\n# (see docs/kernel-path.md).\n#",
    );
    let mut s = HEAD.replace("{generated}", &generated);
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
    fn header_names_the_configuration() {
        let r = ruleset(&Config::default());
        assert!(
            r.contains("for the default configuration: ftp tcp/21,"),
            "{r}"
        );
        let c = Config::parse("[helper.ftp]\nports = [21, 2121]\n[helper.tftp]\nenabled = false\n")
            .unwrap();
        let r = ruleset(&c);
        assert!(
            r.contains("for a custom configuration: ftp tcp/21,2121,"),
            "{r}"
        );
        assert!(!r.contains("tftp udp/69"), "{r}");
    }

    #[test]
    fn a_helper_without_ports_gets_no_rule() {
        let mut c = Config::default();
        for h in &mut c.helpers {
            if h.info.name == "tftp" {
                h.ports.clear();
            }
        }
        let r = ruleset(&c);
        assert!(!r.contains("tftp"), "{r}");
        assert!(!r.contains("elements = {  }"), "{r}");
    }

    #[test]
    fn object_names_are_nft_identifiers() {
        assert_eq!(object_name("Q.931"), "q931");
        assert_eq!(object_name("RAS"), "ras");
        assert_eq!(object_name("ftp"), "ftp");
        let r = ruleset(&Config::default());
        for line in [
            "ct helper q931 {\n\t\ttype \"Q.931\" protocol tcp",
            "ct helper ras {\n\t\ttype \"RAS\" protocol udp",
            "set q931_ports {\n\t\ttype inet_service\n\t\telements = { 1720 }",
            "ct state new tcp dport @q931_ports ct helper set \"q931\"",
            "ct state new udp dport @ras_ports ct helper set \"ras\"",
        ] {
            assert!(r.contains(line), "{line} missing in\n{r}");
        }
        // H.245 is attached by Q.931's expectations only.
        assert!(!r.contains("H.245") && !r.contains("h245"), "{r}");
        // Only the helper's own transports get rules, not those it is
        // expected from.
        assert!(!r.contains("udp dport @q931_ports"), "{r}");
    }

    #[test]
    fn fan_out_declares_the_instances_and_hashes_over_them() {
        let c = Config::parse("[helper.ftp]\nqueues = 2\n[helper.sip]\nqueues = 3\n").unwrap();
        let r = ruleset(&c);
        for line in [
            "ct helper ftp {\n\t\ttype \"ftp\" protocol tcp\n\t\tl3proto inet",
            "ct helper ftp-1 {\n\t\ttype \"ftp-1\" protocol tcp\n\t\tl3proto inet",
            "ct state new tcp dport @ftp_ports ct helper set jhash ip saddr . tcp sport mod 2 map { 0 : \"ftp\", 1 : \"ftp-1\" }\n",
            "ct state new tcp dport @ftp_ports ct helper set jhash ip6 saddr . tcp sport mod 2 map { 0 : \"ftp\", 1 : \"ftp-1\" }\n",
            "ct helper sip-udp-2 {\n\t\ttype \"sip-2\" protocol udp",
            "ct state new udp dport @sip_ports ct helper set jhash ip saddr . udp sport mod 3 map { 0 : \"sip-udp\", 1 : \"sip-udp-1\", 2 : \"sip-udp-2\" }\n",
        ] {
            assert!(r.contains(line), "{line} missing in\n{r}");
        }
        assert!(!r.contains("ct helper set \"ftp\""), "{r}");
        // The others keep their one object.
        assert!(r.contains("ct helper set \"tftp\"\n"), "{r}");
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
