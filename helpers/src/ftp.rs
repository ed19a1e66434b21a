//! FTP (placeholder: the full helper replaces this file).

use crate::conn::L4Proto;
use crate::helper::{Env, Helper, Outcome, Packet};
use crate::params::{ExpectPolicy, ParamKind, ParamSpec, ParamValue, Params};
use crate::registry::HelperInfo;

pub static INFO: HelperInfo = HelperInfo {
    name: "ftp",
    l4: L4Proto::Tcp,
    ipv4: true,
    ipv6: true,
    default_ports: &[21],
    policies: &[("ftp", 1, 300)],
    params: &[ParamSpec {
        name: "loose",
        kind: ParamKind::Bool,
        default: ParamValue::Bool(false),
        help: "accept PORT/PASV addresses other than the sender's (FTP bounce)",
    }],
    priv_len: 24,
    summary: "FTP: PORT/EPRT and 227/229 data connections",
    build: |p, pol| Box::new(Ftp::new(p, pol)),
};

#[derive(Debug)]
pub struct Ftp {
    pub loose: bool,
}

impl Ftp {
    pub fn new(p: &Params, _policies: &[ExpectPolicy]) -> Self {
        Ftp {
            loose: p.bool("loose"),
        }
    }
}

impl Helper for Ftp {
    fn info(&self) -> &'static HelperInfo {
        &INFO
    }
    fn handle(&self, _pkt: &Packet<'_>, _env: &mut dyn Env) -> Outcome {
        Outcome::default()
    }
}
