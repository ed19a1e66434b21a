//! cthelperd.toml: which helpers run on which ports, with which parameters
//! and expectation policies. Built-in defaults equal the kernel modules'
//! defaults, so no file is needed.
//!
//! ```toml
//! [daemon]
//! queue_maxlen = 1024
//!
//! [helper.ftp]
//! enabled = true
//! ports = [21, 2121]
//! queue = 0
//! loose = false            # a parameter of the helper
//! [helper.ftp.policy.ftp]  # an expectation class of the helper
//! max_expected = 1
//! timeout = 300
//! ```

use anyhow::{bail, Context, Result};
use helpers::registry::{self, HelperInfo};
use helpers::{ExpectPolicy, ParamKind, ParamValue, Params, PolicyField};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;
use toml::Spanned;

/// Highest expectation count per class nfnetlink_cthelper accepts.
pub const MAX_EXPECTED_LIMIT: u32 = 255;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub daemon: DaemonConfig,
    /// One entry per known helper, in registry order.
    pub helpers: Vec<HelperConfig>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DaemonConfig {
    /// NFQUEUE length (NFQA_CFG_QUEUE_MAXLEN).
    pub queue_maxlen: u32,
    /// Bytes the daemon may hold per flow while waiting for the rest of a
    /// message split over segments.
    pub hold_bytes: u32,
    /// Milliseconds a held segment may wait before it is let through.
    pub hold_ms: u32,
    /// `addr:port` for the Prometheus endpoint; empty: none.
    pub metrics: String,
}

impl Default for DaemonConfig {
    fn default() -> Self {
        DaemonConfig {
            queue_maxlen: 1024,
            hold_bytes: 65536,
            hold_ms: 500,
            metrics: String::new(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct HelperConfig {
    pub info: &'static HelperInfo,
    pub enabled: bool,
    pub ports: Vec<u16>,
    /// First NFQUEUE number, and how many queues fan out from it.
    pub queue: u16,
    pub queues: u16,
    pub params: Params,
    pub policies: Vec<ExpectPolicy>,
}

impl HelperConfig {
    fn defaults(info: &'static HelperInfo, index: usize) -> Self {
        HelperConfig {
            info,
            enabled: true,
            ports: info.default_ports.to_vec(),
            queue: index as u16,
            queues: 1,
            params: info.default_params(),
            policies: info.policies_for(&info.default_params()),
        }
    }
    pub fn build(&self) -> Box<dyn helpers::Helper> {
        (self.info.build)(&self.params, &self.policies)
    }
}

impl PartialEq for HelperConfig {
    fn eq(&self, o: &Self) -> bool {
        std::ptr::eq(self.info, o.info)
            && self.enabled == o.enabled
            && self.ports == o.ports
            && self.queue == o.queue
            && self.queues == o.queues
            && self.params == o.params
            && self.policies == o.policies
    }
}
impl Eq for HelperConfig {}

impl Default for Config {
    fn default() -> Self {
        Config {
            daemon: DaemonConfig::default(),
            helpers: registry::REGISTRY
                .iter()
                .enumerate()
                .map(|(i, h)| HelperConfig::defaults(h, i))
                .collect(),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    daemon: DaemonConfig,
    #[serde(default)]
    #[allow(dead_code)] // walked with spans below
    helper: toml::Table,
}

type DeTable<'i> = toml::de::DeTable<'i>;
type DeValue<'i> = toml::de::DeValue<'i>;

impl Config {
    pub fn load(path: &Path) -> Result<Config> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        Config::parse(&text).with_context(|| format!("{}", path.display()))
    }

    pub fn parse(text: &str) -> Result<Config> {
        let syntax = |e: toml::de::Error| {
            let line = e.span().map(|s| line_of(text, s.start)).unwrap_or(0);
            anyhow::anyhow!("line {line}: {}", e.message().trim_end())
        };
        let raw: RawConfig = toml::from_str(text).map_err(syntax)?;
        let doc = DeTable::parse(text).map_err(syntax)?;
        let top = doc.get_ref();
        let mut cfg = Config {
            daemon: raw.daemon,
            ..Config::default()
        };
        if let Err(e) = check_metrics(&cfg.daemon.metrics) {
            let line = table_key(top, "daemon", "metrics")
                .map(|sp| line_of(text, sp.start))
                .unwrap_or(0);
            bail!("line {line}: [daemon] {e}");
        }
        let helpers = top
            .iter()
            .find(|(k, _)| k.get_ref() == "helper")
            .and_then(|(_, v)| v.get_ref().as_table());
        // The line each enabled helper's ports were given on (its table's
        // line when they are the defaults), for port conflicts.
        let mut ports_line: BTreeMap<&str, usize> = BTreeMap::new();
        for (name, table) in helpers.into_iter().flatten() {
            let Some(hc) = cfg
                .helpers
                .iter_mut()
                .find(|h| h.info.name == name.get_ref())
            else {
                bail!(
                    "line {}: unknown helper `{}`",
                    line_of(text, name.span().start),
                    name.get_ref()
                );
            };
            let Some(table) = table.get_ref().as_table() else {
                bail!(
                    "line {}: `helper.{}` must be a table",
                    line_of(text, table.span().start),
                    hc.info.name
                );
            };
            ports_line.insert(hc.info.name, line_of(text, name.span().start));
            let mut seen = Seen::default();
            // Parameters first: a helper may derive its policies from them
            // (IRC); the policy table is the same setting (checked below).
            for pass in [false, true] {
                if pass {
                    hc.policies = hc.info.policies_for(&hc.params);
                }
                for (key, value) in table
                    .iter()
                    .filter(|(k, _)| (k.get_ref() == "policy") == pass)
                {
                    let line = line_of(text, key.span().start);
                    apply_key(hc, key.get_ref(), value, line, &mut seen, text).map_err(
                        |(span, e)| {
                            let line = line_of(text, span.unwrap_or(value.span()).start);
                            anyhow::anyhow!("line {line}: helper {}: {e}", hc.info.name)
                        },
                    )?;
                }
            }
            one_setting(hc, &seen)?;
            if u32::from(hc.queue) + u32::from(hc.queues) > 65536 {
                bail!(
                    "helper {}: queues {}…{} go past NFQUEUE 65535",
                    hc.info.name,
                    hc.queue,
                    u32::from(hc.queue) + u32::from(hc.queues) - 1
                );
            }
            if let Some(l) = seen.ports {
                ports_line.insert(hc.info.name, l);
            }
        }
        let mut taken: BTreeMap<(u16, &str), &str> = BTreeMap::new();
        let where_ = |name: &str| match ports_line.get(name) {
            Some(l) => format!("line {l}"),
            None => "its default".to_string(),
        };
        for h in cfg.helpers.iter().filter(|h| h.enabled) {
            for &p in &h.ports {
                for l4 in h.info.l4 {
                    if let Some(other) = taken.insert((p, l4.name()), h.info.name) {
                        let line = ports_line.get(h.info.name).copied().unwrap_or(0);
                        bail!(
                            "line {line}: port {l4}/{p} of helper {} is given to {other} already ({})",
                            h.info.name,
                            where_(other)
                        );
                    }
                }
            }
        }
        Ok(cfg)
    }

    /// The whole configuration as a file that gives it: every key, defaults
    /// included, with what each means; [`Config::parse`] of it is `self`.
    pub fn to_toml(&self) -> String {
        use std::fmt::Write;
        let mut s = String::new();
        let d = &self.daemon;
        let _ = writeln!(s, "[daemon]");
        let kv = |s: &mut String, k: &str, v: String, help: &str| {
            let line = format!("{k} = {v}");
            let _ = writeln!(s, "{line:<28} # {help}");
        };
        kv(
            &mut s,
            "queue_maxlen",
            d.queue_maxlen.to_string(),
            "NFQUEUE length",
        );
        kv(
            &mut s,
            "hold_bytes",
            d.hold_bytes.to_string(),
            "most bytes held per flow direction for a message split over segments (64 times that per queue over all flows)",
        );
        kv(
            &mut s,
            "hold_ms",
            d.hold_ms.to_string(),
            "longest a held segment waits, milliseconds",
        );
        kv(
            &mut s,
            "metrics",
            toml::Value::from(d.metrics.as_str()).to_string(),
            "HOST:PORT of the Prometheus /metrics endpoint; \"\": none",
        );
        for h in &self.helpers {
            let i = h.info;
            let head = format!("[helper.{}]", toml_key(i.name));
            let _ = writeln!(s, "\n{head:<28} # {}", i.summary);
            kv(
                &mut s,
                "enabled",
                h.enabled.to_string(),
                "false: the helper is off",
            );
            if h.ports.is_empty() {
                let _ = writeln!(
                    s,
                    "# no ports: it serves only connections other helpers expect"
                );
            } else {
                let p: Vec<String> = h.ports.iter().map(u16::to_string).collect();
                kv(
                    &mut s,
                    "ports",
                    format!("[{}]", p.join(", ")),
                    &format!("{} ports", i.l4_names()),
                );
            }
            kv(&mut s, "queue", h.queue.to_string(), "its NFQUEUE number");
            kv(
                &mut s,
                "queues",
                h.queues.to_string(),
                "queues from `queue` on, one registered instance each (ftp, ftp-1 …); `cthelperd nft` spreads new flows over them",
            );
            for (k, v) in h.params.iter() {
                let help = i.params.iter().find(|p| p.name == k).map_or("", |p| p.help);
                kv(&mut s, k, v.to_string(), help);
            }
            for (n, p) in h.policies.iter().enumerate() {
                let _ = writeln!(
                    s,
                    "[helper.{}.policy.{}]",
                    toml_key(i.name),
                    toml_key(&p.name)
                );
                let same = |f| {
                    i.policy_param(n, f)
                        .map_or(String::new(), |p| format!(" (= {}: one setting)", p.name))
                };
                kv(
                    &mut s,
                    "max_expected",
                    p.max_expected.to_string(),
                    &format!(
                        "most pending expectations of this class per connection, 0: no limit{}",
                        same(PolicyField::MaxExpected)
                    ),
                );
                kv(
                    &mut s,
                    "timeout",
                    p.timeout.to_string(),
                    &format!("seconds an expectation lives{}", same(PolicyField::Timeout)),
                );
            }
        }
        s
    }

    pub fn helper(&self, name: &str) -> Option<&HelperConfig> {
        self.helpers.iter().find(|h| h.info.name == name)
    }
    pub fn enabled(&self) -> impl Iterator<Item = &HelperConfig> {
        self.helpers.iter().filter(|h| h.enabled)
    }
}

/// `[daemon] metrics`: empty (none) or `HOST:PORT` as `run` binds it —
/// `127.0.0.1:9469`, `[::1]:9469`, `localhost:9469`.
fn check_metrics(m: &str) -> Result<(), String> {
    if m.is_empty() {
        return Ok(());
    }
    let bad = || {
        format!(
            "metrics = {m:?} is not HOST:PORT (e.g. \"127.0.0.1:{}\" or \"[::1]:{}\"; \"\" for none)",
            METRICS_PORT, METRICS_PORT
        )
    };
    let (host, port) = m.rsplit_once(':').ok_or_else(bad)?;
    port.parse::<u16>().map_err(|_| bad())?;
    let ok = match host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        Some(v6) => v6.parse::<std::net::Ipv6Addr>().is_ok(),
        None => {
            !host.is_empty()
                && host
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-' || b == b'_')
        }
    };
    if ok {
        Ok(())
    } else {
        Err(bad())
    }
}

/// The default port of the metrics endpoint in examples (README, docs).
pub const METRICS_PORT: u16 = 9469;

/// The span of `[table] key`'s value, if the file has it.
fn table_key(top: &DeTable<'_>, table: &str, key: &str) -> Option<std::ops::Range<usize>> {
    let (_, t) = top.iter().find(|(k, _)| k.get_ref() == table)?;
    let (_, v) = t
        .get_ref()
        .as_table()?
        .iter()
        .find(|(k, _)| k.get_ref() == key)?;
    Some(v.span())
}

/// What a helper's table set explicitly, with lines.
#[derive(Default)]
struct Seen {
    ports: Option<usize>,
    /// Parameters: name → line.
    params: BTreeMap<&'static str, usize>,
    /// Policy fields: (class, field, value, line).
    policy: Vec<(usize, PolicyField, u32, usize)>,
}

/// A policy that comes from the helper's parameters (IRC: `max_dcc_channels`
/// is the `irc` class's `max_expected`, `dcc_timeout` its timeout) is one
/// setting with them: given in the policy table alone it sets the
/// parameter too; given in both, the two must agree.
fn one_setting(hc: &mut HelperConfig, seen: &Seen) -> Result<()> {
    for &(class, field, value, line) in &seen.policy {
        let Some(spec) = hc.info.policy_param(class, field) else {
            continue;
        };
        let pol = hc
            .policies
            .get(class)
            .map(|p| p.name.clone())
            .unwrap_or_default();
        let what = format!(
            "[helper.{}.policy.{pol}] {} = {value}",
            hc.info.name,
            field.key()
        );
        match seen.params.get(spec.name) {
            Some(&pline) => {
                let set = hc
                    .params
                    .iter()
                    .find(|(k, _)| *k == spec.name)
                    .map(|(_, v)| v);
                if set != Some(ParamValue::U32(value)) {
                    bail!(
                        "line {line}: helper {}: {what} contradicts {} = {} (line {pline}): they are one setting; give one of them",
                        hc.info.name,
                        spec.name,
                        set.map_or(String::new(), |v| v.to_string())
                    );
                }
            }
            None => hc
                .params
                .set(hc.info.params, spec.name, ParamValue::U32(value))
                .map_err(|e| {
                    anyhow::anyhow!(
                        "line {line}: helper {}: {what} sets {}: {e}",
                        hc.info.name,
                        spec.name
                    )
                })?,
        }
    }
    Ok(())
}

fn line_of(text: &str, offset: usize) -> usize {
    text.get(..offset)
        .map(|t| t.bytes().filter(|&b| b == b'\n').count() + 1)
        .unwrap_or(0)
}

/// An error with the span of the value it is about, when narrower than the key's.
type KeyError = (Option<std::ops::Range<usize>>, String);

fn as_u32(v: &Spanned<DeValue<'_>>, what: &str, max: u32) -> Result<u32, KeyError> {
    let err = |m: String| (Some(v.span()), m);
    let n = v
        .get_ref()
        .as_integer()
        .ok_or_else(|| err(format!("{what} takes a number")))?;
    i64::from_str_radix(n.as_str(), n.radix())
        .ok()
        .filter(|n| *n >= 0 && *n <= i64::from(max))
        .map(|n| n as u32)
        .ok_or_else(|| err(format!("{what} must be between 0 and {max}")))
}

fn apply_key(
    hc: &mut HelperConfig,
    key: &str,
    value: &Spanned<DeValue<'_>>,
    line: usize,
    seen: &mut Seen,
    text: &str,
) -> Result<(), KeyError> {
    let v = value.get_ref();
    let here = |m: &str| (Some(value.span()), m.to_string());
    match key {
        "enabled" => {
            hc.enabled = v
                .as_bool()
                .ok_or_else(|| here("`enabled` takes true or false"))?;
        }
        "ports" => {
            let list = v
                .as_array()
                .ok_or_else(|| here("`ports` takes a list of port numbers"))?;
            let mut ports = Vec::new();
            for p in list.iter() {
                let n = as_u32(p, "a port", 65535)
                    .ok()
                    .filter(|n| *n >= 1)
                    .ok_or_else(|| {
                        (
                            Some(p.span()),
                            "a port must be between 1 and 65535".to_string(),
                        )
                    })?;
                ports.push(n as u16);
            }
            if ports.is_empty() {
                return Err(here(
                    "`ports` is empty (use enabled = false to turn a helper off)",
                ));
            }
            hc.ports = ports;
            seen.ports = Some(line);
        }
        "queue" => hc.queue = as_u32(value, "`queue`", 65535)? as u16,
        "queues" => {
            let n = as_u32(value, "`queues`", 64)?;
            if n == 0 {
                return Err(here("`queues` must be at least 1"));
            }
            // Instance i is registered as `name-i` (crate::flow::instance_name):
            // the kernel takes 15 bytes of name.
            let longest = crate::flow::longest_instance_name(hc.info.name, n as u16);
            if longest > 15 {
                return Err(here(&format!(
                    "`queues` = {n}: the instance names of {} would be {longest} bytes, the kernel takes 15",
                    hc.info.name
                )));
            }
            hc.queues = n as u16;
        }
        "policy" => {
            let classes = v
                .as_table()
                .ok_or_else(|| here("`policy` takes one table per expectation class"))?;
            for (class, body) in classes {
                let idx = hc.policies.iter().position(|p| p.name == *class.get_ref());
                let known = hc
                    .info
                    .policies
                    .iter()
                    .map(|p| p.0)
                    .collect::<Vec<_>>()
                    .join(", ");
                let pol = hc
                    .policies
                    .iter_mut()
                    .find(|p| p.name == *class.get_ref())
                    .ok_or_else(|| {
                        (
                            Some(class.span()),
                            format!(
                                "unknown expectation class `{}` (known: {known})",
                                class.get_ref()
                            ),
                        )
                    })?;
                let body = body.get_ref().as_table().ok_or_else(|| {
                    (
                        Some(body.span()),
                        "a policy takes max_expected and timeout".to_string(),
                    )
                })?;
                for (k, val) in body {
                    let (field, n) = match k.get_ref().as_ref() {
                        "max_expected" => {
                            let n = as_u32(val, "`max_expected`", MAX_EXPECTED_LIMIT)?;
                            pol.max_expected = n;
                            (PolicyField::MaxExpected, n)
                        }
                        "timeout" => {
                            let n = as_u32(val, "`timeout`", u32::MAX)?;
                            pol.timeout = n;
                            (PolicyField::Timeout, n)
                        }
                        other => {
                            return Err((Some(k.span()), format!("unknown policy key `{other}`")))
                        }
                    };
                    if let Some(i) = idx {
                        seen.policy
                            .push((i, field, n, line_of(text, k.span().start)));
                    }
                }
            }
        }
        param => {
            let spec = hc
                .info
                .params
                .iter()
                .find(|s| s.name == param)
                .ok_or_else(|| here(&format!("unknown key `{param}`")))?;
            let pv = match spec.kind {
                ParamKind::Bool => ParamValue::Bool(
                    v.as_bool()
                        .ok_or_else(|| here(&format!("`{param}` takes true or false")))?,
                ),
                ParamKind::U32 { max, .. } => {
                    ParamValue::U32(as_u32(value, &format!("`{param}`"), max)?)
                }
            };
            hc.params
                .set(hc.info.params, param, pv)
                .map_err(|e| here(&e))?;
            seen.params.insert(spec.name, line);
        }
    }
    Ok(())
}

/// A table key as TOML wants it: bare when it can be (`ftp`), quoted otherwise (`"Q.931"`, whose
/// dot would otherwise split it into two keys).
fn toml_key(k: &str) -> String {
    if !k.is_empty()
        && k.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        k.to_string()
    } else {
        toml::Value::from(k).to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queues_stay_within_nfqueue_numbers() {
        assert!(Config::parse("[helper.ftp]\nqueue = 65534\nqueues = 2\n").is_ok());
        let e = Config::parse("[helper.ftp]\nqueue = 65535\nqueues = 2\n").unwrap_err();
        assert!(format!("{e:#}").contains("past NFQUEUE 65535"), "{e:#}");
        assert!(Config::parse("[helper.snmp_trap]\nqueues = 64\n").is_ok());
    }

    #[test]
    fn empty_file_is_the_defaults() {
        assert_eq!(Config::parse("").unwrap(), Config::default());
        let ftp = Config::default();
        let ftp = ftp.helper("ftp").unwrap();
        assert_eq!(ftp.ports, vec![21]);
        assert_eq!(ftp.policies[0].max_expected, 1);
        assert_eq!(ftp.policies[0].timeout, 300);
        assert!(!ftp.params.get(helpers::ftp::LOOSE));
    }

    #[test]
    fn sets_ports_params_policies() {
        let c = Config::parse(
            "[helper.ftp]\nports = [21, 2121]\nloose = true\n[helper.ftp.policy.ftp]\nmax_expected = 3\n",
        )
        .unwrap();
        let ftp = c.helper("ftp").unwrap();
        assert_eq!(ftp.ports, vec![21, 2121]);
        assert!(ftp.params.get(helpers::ftp::LOOSE));
        assert_eq!(ftp.policies[0].max_expected, 3);
    }

    #[test]
    fn errors_name_the_line() {
        let e = Config::parse("\n\n[helper.ftp]\nloose = 3\n").unwrap_err();
        assert!(format!("{e:#}").contains("line 4"), "{e:#}");
        let e = Config::parse("[helper.ftp]\n\nbogus = 1\n").unwrap_err();
        assert!(format!("{e:#}").contains("line 3"), "{e:#}");
        assert!(format!("{e:#}").contains("bogus"), "{e:#}");
        let e = Config::parse("[daemon]\nqueue_maxlen = 1\nnope = 2\n").unwrap_err();
        assert!(format!("{e:#}").contains("line 3"), "{e:#}");
        let e = Config::parse("[helper.gopher]\n").unwrap_err();
        assert!(format!("{e:#}").contains("line 1"), "{e:#}");
        let e = Config::parse("[helper.ftp]\nports = [70000]\n").unwrap_err();
        assert!(format!("{e:#}").contains("line 2"), "{e:#}");
        let e = Config::parse("[helper.ftp.policy.ftp]\nmax_expected = 256\n").unwrap_err();
        assert!(format!("{e:#}").contains("line 2"), "{e:#}");
    }

    #[test]
    fn irc_policy_and_parameters_are_one_setting() {
        let c = Config::parse("[helper.irc]\nmax_dcc_channels = 3\ndcc_timeout = 60\n").unwrap();
        let p = &c.helper("irc").unwrap().policies[0];
        assert_eq!((p.max_expected, p.timeout), (3, 60));
        // The policy table alone sets the parameter too, whatever the key
        // order.
        let c = Config::parse(
            "[helper.irc.policy.irc]\ntimeout = 10\n[helper.irc]\nmax_dcc_channels = 2\n",
        );
        let c = c.unwrap();
        let irc = c.helper("irc").unwrap();
        let p = &irc.policies[0];
        assert_eq!((p.max_expected, p.timeout), (2, 10));
        assert_eq!(irc.params.get(helpers::irc::DCC_TIMEOUT), 10);
        assert_eq!(irc.params.get(helpers::irc::MAX_DCC_CHANNELS), 2);
        // Both, agreeing: fine.
        Config::parse(
            "[helper.irc]\nmax_dcc_channels = 5\n[helper.irc.policy.irc]\nmax_expected = 5\n",
        )
        .unwrap();
        // Both, contradicting: an error naming both, with their lines.
        let e = Config::parse(
            "[helper.irc]\nmax_dcc_channels = 3\n\n[helper.irc.policy.irc]\nmax_expected = 5\n",
        )
        .unwrap_err();
        let e = format!("{e:#}");
        assert!(e.starts_with("line 5: helper irc: "), "{e}");
        assert!(
            e.contains("[helper.irc.policy.irc] max_expected = 5"),
            "{e}"
        );
        assert!(e.contains("max_dcc_channels = 3 (line 2)"), "{e}");
        assert!(e.contains("one setting"), "{e}");
        // A policy value the parameter cannot take.
        let e = Config::parse("[helper.irc.policy.irc]\nmax_expected = 0\n").unwrap_err();
        assert!(format!("{e:#}").contains("max_dcc_channels"), "{e:#}");
        // Other helpers' policies are their own.
        let c = Config::parse("[helper.ftp.policy.ftp]\nmax_expected = 3\n").unwrap();
        assert_eq!(c.helper("ftp").unwrap().policies[0].max_expected, 3);
    }

    #[test]
    fn metrics_is_host_port() {
        for ok in [
            "",
            "127.0.0.1:9469",
            "[::1]:9469",
            "localhost:9469",
            "0.0.0.0:0",
        ] {
            let c = Config::parse(&format!("[daemon]\nmetrics = {ok:?}\n")).unwrap();
            assert_eq!(c.daemon.metrics, ok);
        }
        for bad in [
            "localhost",
            "127.0.0.1",
            "::1:9469",
            ":9469",
            "host:70000",
            "a b:1",
        ] {
            let e = Config::parse(&format!("[daemon]\nqueue_maxlen = 9\nmetrics = {bad:?}\n"))
                .unwrap_err();
            let e = format!("{e:#}");
            assert!(e.starts_with("line 3: [daemon] metrics = "), "{bad}: {e}");
            assert!(e.contains("HOST:PORT"), "{e}");
        }
    }

    #[test]
    fn port_errors() {
        // A conflict names the line of the ports that conflict, and the
        // other helper's.
        let e =
            Config::parse("[helper.sip]\n\nports = [5060]\n[helper.irc]\nports = [6667, 5060]\n")
                .unwrap_err();
        let e = format!("{e:#}");
        assert!(e.starts_with("line 5: port tcp/5060 of helper irc"), "{e}");
        assert!(e.contains("sip already (line 3)"), "{e}");
        let e = Config::parse("[helper.irc]\nports = [21]\n").unwrap_err();
        let e = format!("{e:#}");
        assert!(e.starts_with("line 2: port tcp/21 of helper irc"), "{e}");
        assert!(e.contains("ftp already (its default)"), "{e}");
        // Out of range, 0 included: one message.
        for p in ["0", "65536", "70000", "-1"] {
            let e = Config::parse(&format!("[helper.ftp]\nports = [21, {p}]\n")).unwrap_err();
            assert_eq!(
                format!("{e:#}"),
                "line 2: helper ftp: a port must be between 1 and 65535",
                "{p}"
            );
        }
    }

    /// check-config's output is a file that gives the same configuration.
    #[test]
    fn to_toml_gives_the_same_configuration() {
        let readme = include_str!("../README.md");
        let start = readme.find("```toml\n").unwrap() + 8;
        let len = readme[start..].find("```").unwrap();
        for text in [
            "",
            &readme[start..start + len],
            "[daemon]\nmetrics = \"[::1]:9469\"\nhold_ms = 7\n[helper.sip]\nenabled = false\nports = [5060, 5080]\n",
            "[helper.irc.policy.irc]\nmax_expected = 2\n[helper.ftp]\nqueue = 9\nqueues = 2\n",
        ] {
            let c = Config::parse(text).unwrap();
            let t = c.to_toml();
            assert!(t.starts_with("[daemon]\nqueue_maxlen = "), "{t}");
            assert_eq!(Config::parse(&t).unwrap(), c, "{t}");
            assert_eq!(Config::parse(&t).unwrap().to_toml(), t);
        }
    }

    #[test]
    fn sip_parameters_and_transports() {
        let c = Config::parse(
            "[helper.sip]\nports = [5060, 5080]\nsip_timeout = 600\nsip_direct_media = false\nsip_external_media = true\n[helper.sip.policy.audio]\nmax_expected = 10\n",
        )
        .unwrap();
        let sip = c.helper("sip").unwrap();
        assert_eq!(sip.params.get(helpers::sip::SIP_TIMEOUT), 600);
        assert!(!sip.params.get(helpers::sip::SIP_DIRECT_MEDIA));
        assert!(sip.params.get(helpers::sip::SIP_EXTERNAL_MEDIA));
        assert!(sip.params.get(helpers::sip::SIP_DIRECT_SIGNALLING));
        assert_eq!(sip.policies[1].max_expected, 10);
        // SIP holds its ports on UDP and TCP: a TCP helper may not share them.
        let e = Config::parse("[helper.irc]\nports = [5060]\n").unwrap_err();
        assert!(format!("{e:#}").contains("tcp/5060"), "{e:#}");
        // A UDP port of one helper and the same TCP port of another are fine.
        Config::parse("[helper.irc]\nports = [69]\n").unwrap();
    }

    /// The example in README.md is a valid configuration.
    #[test]
    fn readme_example_parses() {
        let readme = include_str!("../README.md");
        let start = readme.find("```toml\n").expect("a toml block in README.md") + 8;
        let len = readme[start..].find("```").unwrap();
        let c = Config::parse(&readme[start..start + len]).unwrap();
        assert!(!c.helper("tftp").unwrap().enabled);
        assert_eq!(c.helper("ftp").unwrap().ports, vec![21, 2121]);
    }
}
