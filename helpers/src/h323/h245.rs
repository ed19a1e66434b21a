//! The H.245 helper (media control in TPKT on the connections the Q.931
//! helper expects): `h245_help()` of nf_conntrack_h323_main.c. See the
//! [module documentation](super).

use super::decode_h245_at;
use super::q931::each_tpkt;
use super::track::{process_h245, H245_NAME, STATE_LEN};
use crate::conn::L4Proto;
use crate::helper::{Env, Helper, HelperInfo, Outcome, Packet};
use crate::params::{ExpectPolicy, Params};

pub static INFO: HelperInfo = HelperInfo {
    name: H245_NAME,
    // The kernel registers it for UDP (it is only ever attached by an
    // expectation, never looked up); the connections it serves are TCP.
    l4: &[L4Proto::Tcp],
    ipv4: true,
    ipv6: true,
    default_ports: &[],
    policies: &[("h245", 18, 240)],
    policies_from_params: None,
    params: &[],
    expected_from: &[],
    priv_len: STATE_LEN,
    summary: "H.323 media control (H.245): OpenLogicalChannel(Ack) → RTP/RTCP and T.120",
    build: |p, pol| Box::new(H245Helper::new(p, pol)),
};

#[derive(Debug, Clone, Default)]
pub struct H245Helper;

impl H245Helper {
    pub fn new(_p: &Params, _policies: &[ExpectPolicy]) -> Self {
        H245Helper
    }
}

impl Helper for H245Helper {
    fn info(&self) -> &'static HelperInfo {
        &INFO
    }

    fn handle(&self, pkt: &Packet<'_>, env: &mut dyn Env) -> Outcome {
        each_tpkt(pkt, env, "H.245", decode_h245_at, process_h245)
    }
}
