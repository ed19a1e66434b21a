//! Every helper cthelperd knows, with what the kernel needs to register it.

use crate::conn::L4Proto;
use crate::helper::Helper;
use crate::params::{ExpectPolicy, ParamSpec, Params};

/// Static description of a helper, equal to the kernel module's defaults.
#[derive(Debug)]
pub struct HelperInfo {
    /// Helper name (NFCTH_NAME, ≤ 15 bytes), as the kernel module names it.
    pub name: &'static str,
    /// The transport protocols it serves (one kernel registration each, per
    /// address family).
    pub l4: &'static [L4Proto],
    /// Whether the protocol is handled over IPv4 / IPv6.
    pub ipv4: bool,
    pub ipv6: bool,
    pub default_ports: &'static [u16],
    /// (name, max_expected, timeout) per expectation class, the kernel's.
    pub policies: &'static [(&'static str, u32, u32)],
    pub params: &'static [ParamSpec],
    /// For helpers whose kernel module derives its expectation policy from
    /// module parameters (IRC: `max_dcc_channels`, `dcc_timeout`): the
    /// policies the parameters give. An explicit `[helper.X.policy.CLASS]`
    /// still overrides them.
    pub policies_from_params: Option<fn(&Params) -> Vec<ExpectPolicy>>,
    /// Bytes of private data per connection (≤ 32).
    pub priv_len: usize,
    pub summary: &'static str,
    /// Builds the helper from its parameters and (possibly user-tuned)
    /// policies.
    pub build: fn(&Params, &[ExpectPolicy]) -> Box<dyn Helper>,
}

impl HelperInfo {
    pub fn default_policies(&self) -> Vec<ExpectPolicy> {
        self.policies
            .iter()
            .map(|&(name, max_expected, timeout)| ExpectPolicy {
                name: name.to_string(),
                max_expected,
                timeout,
            })
            .collect()
    }
    pub fn default_params(&self) -> Params {
        Params::defaults(self.params)
    }
    /// The policies for `params` before any explicit override.
    pub fn policies_for(&self, params: &Params) -> Vec<ExpectPolicy> {
        match self.policies_from_params {
            Some(f) => f(params),
            None => self.default_policies(),
        }
    }
    /// `tcp`, `udp` or `tcp+udp`.
    pub fn l4_names(&self) -> String {
        self.l4
            .iter()
            .map(|p| p.name())
            .collect::<Vec<_>>()
            .join("+")
    }
}

/// All helpers, in the order `cthelperd helpers` lists them.
pub static REGISTRY: &[&HelperInfo] = &[
    &crate::ftp::INFO,
    &crate::sip::INFO,
    &crate::tftp::INFO,
    &crate::irc::INFO,
    &crate::amanda::INFO,
];

/// Looks a helper up by name.
pub fn find(name: &str) -> Option<&'static HelperInfo> {
    REGISTRY.iter().copied().find(|h| h.name == name)
}
