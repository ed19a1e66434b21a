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
use helpers::{ExpectPolicy, ParamKind, ParamValue, Params};
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
        let mut cfg = Config {
            daemon: raw.daemon,
            ..Config::default()
        };
        let helpers = doc
            .get_ref()
            .iter()
            .find(|(k, _)| k.get_ref() == "helper")
            .and_then(|(_, v)| v.get_ref().as_table());
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
            // Parameters first: a helper may derive its policies from them
            // (IRC); an explicit `policy` table then overrides.
            for pass in [false, true] {
                if pass {
                    hc.policies = hc.info.policies_for(&hc.params);
                }
                for (key, value) in table
                    .iter()
                    .filter(|(k, _)| (k.get_ref() == "policy") == pass)
                {
                    apply_key(hc, key.get_ref(), value).map_err(|(span, e)| {
                        let line = line_of(text, span.unwrap_or(value.span()).start);
                        anyhow::anyhow!("line {line}: helper {}: {e}", hc.info.name)
                    })?;
                }
            }
        }
        let mut seen: BTreeMap<(u16, &str), &str> = BTreeMap::new();
        for h in cfg.helpers.iter().filter(|h| h.enabled) {
            for &p in &h.ports {
                for l4 in h.info.l4 {
                    if let Some(other) = seen.insert((p, l4.name()), h.info.name) {
                        bail!("port {l4}/{p} is given to both {other} and {}", h.info.name);
                    }
                }
            }
        }
        Ok(cfg)
    }

    pub fn helper(&self, name: &str) -> Option<&HelperConfig> {
        self.helpers.iter().find(|h| h.info.name == name)
    }
    pub fn enabled(&self) -> impl Iterator<Item = &HelperConfig> {
        self.helpers.iter().filter(|h| h.enabled)
    }
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
                let n = as_u32(p, "a port", 65535)?;
                if n == 0 {
                    return Err((Some(p.span()), "port 0 is not a port".into()));
                }
                ports.push(n as u16);
            }
            if ports.is_empty() {
                return Err(here(
                    "`ports` is empty (use enabled = false to turn a helper off)",
                ));
            }
            hc.ports = ports;
        }
        "queue" => hc.queue = as_u32(value, "`queue`", 65535)? as u16,
        "queues" => {
            let n = as_u32(value, "`queues`", 64)?;
            if n == 0 {
                return Err(here("`queues` must be at least 1"));
            }
            hc.queues = n as u16;
        }
        "policy" => {
            let classes = v
                .as_table()
                .ok_or_else(|| here("`policy` takes one table per expectation class"))?;
            for (class, body) in classes {
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
                    match k.get_ref().as_ref() {
                        "max_expected" => {
                            pol.max_expected = as_u32(val, "`max_expected`", MAX_EXPECTED_LIMIT)?
                        }
                        "timeout" => pol.timeout = as_u32(val, "`timeout`", u32::MAX)?,
                        other => {
                            return Err((Some(k.span()), format!("unknown policy key `{other}`")))
                        }
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
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn irc_policy_follows_its_parameters_unless_overridden() {
        let c = Config::parse("[helper.irc]\nmax_dcc_channels = 3\ndcc_timeout = 60\n").unwrap();
        let p = &c.helper("irc").unwrap().policies[0];
        assert_eq!((p.max_expected, p.timeout), (3, 60));
        // The policy table wins, whatever the key order.
        let c = Config::parse(
            "[helper.irc.policy.irc]\ntimeout = 10\n[helper.irc]\nmax_dcc_channels = 2\n",
        );
        let c = c.unwrap();
        let p = &c.helper("irc").unwrap().policies[0];
        assert_eq!((p.max_expected, p.timeout), (2, 10));
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
