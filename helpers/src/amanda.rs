//! Amanda: the `CONNECT` line of the client's reply — the kernel's
//! `nf_conntrack_amanda.c` (expectations) and `nf_nat_amanda.c` (port
//! rewrites).
//!
//! # Parse (`amanda_help()`)
//! Only **reply** packets (from the amandad being backed up, answering the
//! server on udp 10080) are read. The first `"CONNECT "` anywhere in the
//! payload (exact case, `skb_find_text` over the whole payload) starts the
//! line, the first `"\n"` after it ends it (`stop`); no newline, nothing is
//! done. Inside `[start, stop)` each of `"DATA "`, `"MESG "`, `"INDEX "`,
//! `"STATE "` is searched, in that order (`SEARCH_DATA..=SEARCH_STATE`),
//! first occurrence each, the whole keyword before `stop`. The decimal
//! port right after it (1..=65535, at most 5 digits, before `stop`) is one
//! stream. The first bad number stops the loop, as the kernel's `break`;
//! the streams before it stay.
//!
//! # Decide
//! One expectation per stream: `nf_ct_expect_init(exp, CLASS_DEFAULT, …,
//! &tuple[ORIGINAL].src, &tuple[ORIGINAL].dst, IPPROTO_TCP, NULL, &port)` —
//! class 0, TCP, from the server's address (any source port) to the
//! client's address as the server addressed it, the advertised port.
//! IPv4 and IPv6.
//!
//! # NAT (`nf_nat_amanda()`, when the connection is NATed)
//! `exp->dir = IP_CT_DIR_ORIGINAL`, `saved_proto.tcp.port` = the advertised
//! port, expectfn `nat-follow-master` (which maps the new flow to
//! `master->tuplehash[REPLY].src` — we put that into
//! [`ExpectNat::saved_addr`] — and the saved port). The port is searched as
//! `nf_nat_exp_find_port()` (the port, then on a clash up to 128 random
//! ports `port + random % (65535 - port)`); none → drop (`nat_failed`).
//! The digits are replaced by `"%u"` of the port found (the length may
//! change; UDP needs no sequence adjustment). A rewrite giving the same
//! bytes is not emitted.
//!
//! # Policy
//! One class, `amanda`: `max_expected` 4, `timeout` 180 s — the kernel's
//! `amanda_exp_policy` since it reads STATE streams (checked in Debian's
//! 6.1.0-57 `nf_conntrack_amanda.ko`: "STATE " among its search strings,
//! `{4, 180}` at the start of its `.rodata`; upstream v6.12 alike). Older
//! kernels, which search DATA, MESG and INDEX only, have 3 — one per stream
//! they know, as 4 is one per stream here; with 3, a reply naming all four
//! streams would evict its own DATA expectation.
//!
//! # master_timeout
//! The kernel calls `nf_ct_refresh(ct, master_timeout * HZ)` on every
//! reply packet, before anything else: replies from amandad may come late.
//! The helper answers [`Outcome::ct_timeout`]` = Some(master_timeout)` for
//! every reply, whatever it holds ([`Amanda::master_timeout_for`]); the
//! caller sends it as CTA_TIMEOUT with the verdict.
//!
//! # Datagrams: nothing is held
//! Amanda is UDP only (the kernel registers it for UDP): a datagram is
//! whole, so [`Outcome::incomplete`] is never set. A CONNECT line without
//! its newline is not waited for (`malformed`); what follows the CONNECT
//! line's newline — an unterminated `OPTIONS` line, say — does not matter.
//!
//! # Deliberate differences from the kernel
//! * Numbers: the kernel reads at most 5 bytes with `simple_strtoul` and
//!   truncates to 16 bits, so `DATA 123456` gives port 12345 (the sixth
//!   digit stays) and `DATA 70000` gives 4464; we refuse both
//!   (`malformed`, and stop as the kernel stops on a bad number).
//! * Several streams, one NAT failure: the kernel's return value is that of
//!   the last stream (a later success turns NF_DROP back into NF_ACCEPT);
//!   we drop the packet and withdraw the expectations this packet created.
//! * After a length-changing rewrite the kernel keeps searching the
//!   rewritten packet with the old `stop`; we search the packet as
//!   received, so every keyword is found where it is.
//! * An expectation refused without NAT ([`Env::expect`]): the kernel
//!   returns NF_DROP; we fail open (`expect_failed`, see
//!   [`Outcome::expect`](crate::Outcome::expect)).
//! * An empty payload or a CONNECT line without newline is counted
//!   (`truncated`, `malformed`); the kernel only logs the former.
//!
//! # Private data
//! None ([`INFO`]`.priv_len` = 0), as in the kernel.

use crate::conn::{Dir, L4Proto};
use crate::edit::Edit;
use crate::event::Reason;
use crate::expect::nat_find_port;
use crate::expect::{ExpectError, ExpectNat, Expectation, SrcAddr};
use crate::helper::HelperInfo;
use crate::helper::{Env, Helper, Outcome, Packet};
use crate::params::{ExpectPolicy, Param, Params};

/// Longest payload a NAT rewrite may produce (minimal IP+UDP headers).
const MAX_PAYLOAD: usize = 65535 - 28;

/// Most digits of a port (`sizeof("65535") - 1`).
const MAX_DIGITS: usize = 5;

/// `master_timeout` of nf_conntrack_amanda.
pub const MASTER_TIMEOUT: Param<u32> = Param::u32(
    "master_timeout",
    300,
    1,
    u32::MAX,
    "seconds the amanda UDP connection lives after each reply",
);

pub static INFO: HelperInfo = HelperInfo {
    name: "amanda",
    l4: &[L4Proto::Udp],
    ipv4: true,
    ipv6: true,
    default_ports: &[10080],
    policies: &[("amanda", 4, 180)],
    policies_from_params: None,
    expected_from: &[],
    params: &[MASTER_TIMEOUT.spec],
    priv_len: 0,
    summary: "Amanda: DATA/MESG/INDEX/STATE streams of the CONNECT reply",
    build: |p, pol| Box::new(Amanda::new(p, pol)),
};

// ---------------------------------------------------------------------------
// Parse
// ---------------------------------------------------------------------------

/// The streams of a CONNECT line (`SEARCH_DATA..=SEARCH_STATE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Stream {
    Data,
    Mesg,
    Index,
    State,
}

const STREAMS: [(Stream, &[u8]); 4] = [
    (Stream::Data, b"DATA "),
    (Stream::Mesg, b"MESG "),
    (Stream::Index, b"INDEX "),
    (Stream::State, b"STATE "),
];

impl Stream {
    pub const fn name(self) -> &'static str {
        match self {
            Stream::Data => "DATA",
            Stream::Mesg => "MESG",
            Stream::Index => "INDEX",
            Stream::State => "STATE",
        }
    }
}

/// One advertised stream port.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Port {
    pub stream: Stream,
    pub port: u16,
    /// The digits, as offset and length into the payload.
    pub off: usize,
    pub len: usize,
}

/// What a reply holds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Parsed {
    /// A `CONNECT ` was found.
    pub connect: bool,
    /// … and its line ends with `\n`.
    pub complete: bool,
    /// The ports, in keyword order.
    pub ports: Vec<Port>,
    /// The keyword whose number stopped the search, and why.
    pub bad: Option<(Stream, &'static str)>,
}

const CONNECT: &[u8] = b"CONNECT ";

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Parses a reply payload.
pub fn parse(payload: &[u8]) -> Parsed {
    let mut out = Parsed::default();
    let Some(at) = find(payload, CONNECT) else {
        return out;
    };
    out.connect = true;
    let start = at + CONNECT.len();
    let rest = payload.get(start..).unwrap_or_default();
    let Some(stop) = crate::text::find_newline(rest) else {
        return out;
    };
    out.complete = true;
    let line = rest.get(..stop).unwrap_or_default();
    for (stream, kw) in STREAMS {
        let Some(k) = find(line, kw) else { continue };
        let off = k + kw.len();
        let digits = line
            .get(off..)
            .unwrap_or_default()
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
        let why = if digits == 0 {
            Some("no port")
        } else if digits > MAX_DIGITS {
            Some("port over 5 digits")
        } else {
            None
        };
        if let Some(why) = why {
            out.bad = Some((stream, why));
            break;
        }
        let text = line.get(off..off + digits).unwrap_or_default();
        let value = crate::text::parse_decimal(text, 65535).map(|(v, _)| v);
        match value.and_then(|v| u16::try_from(v).ok()) {
            Some(0) => {
                out.bad = Some((stream, "port 0"));
                break;
            }
            Some(port) => out.ports.push(Port {
                stream,
                port,
                off: start + off,
                len: digits,
            }),
            None => {
                out.bad = Some((stream, "port over 65535"));
                break;
            }
        }
    }
    out
}

// ---------------------------------------------------------------------------
// The helper
// ---------------------------------------------------------------------------

#[derive(Debug)]
pub struct Amanda {
    /// Seconds the master connection should live after each reply.
    pub master_timeout: u32,
}

impl Amanda {
    pub fn new(p: &Params, _policies: &[ExpectPolicy]) -> Self {
        Amanda {
            master_timeout: p.get(MASTER_TIMEOUT),
        }
    }

    /// The timeout the kernel would give the master connection on this
    /// packet (`nf_ct_refresh(ct, master_timeout * HZ)` for every reply),
    /// for the caller to send as CTA_TIMEOUT.
    pub fn master_timeout_for(&self, pkt: &Packet<'_>) -> Option<u32> {
        (pkt.dir == Dir::Reply).then_some(self.master_timeout)
    }

    /// One stream. `Err(())` when the packet must be dropped.
    fn decide(
        &self,
        pkt: &Packet<'_>,
        p: &Port,
        env: &mut dyn Env,
        out: &mut Outcome,
        made: &mut Vec<Expectation>,
    ) -> Result<(), ()> {
        let t = pkt.conn.tuple(Dir::Original);
        let mut exp = Expectation {
            src: SrcAddr::Exact(t.src),
            ..Expectation::new(0, L4Proto::Tcp, t.dst, p.port)
        };
        if !pkt.conn.nat() {
            if out.expect(env, &exp, &p.stream.name()) {
                // One per tuple, as the table keeps them (two streams on one port).
                made.retain(|e| !e.same_as(&exp));
                made.push(exp);
            }
            return Ok(());
        }
        exp.nat = Some(ExpectNat::follow_master(
            Dir::Original,
            pkt.conn.reply.src,
            p.port,
        ));
        let port = match nat_find_port(env, &mut exp, p.port) {
            Ok(port) => port,
            Err(e) => {
                let why = match e {
                    ExpectError::Clash => "all ports in use".to_string(),
                    other => format!("expectation refused: {other:?}"),
                };
                out.event(Reason::NatFailed, format!("{}: {why}", p.stream.name()));
                return Err(());
            }
        };
        // One per tuple, as the table keeps them (two streams on one port).
        made.retain(|e| !e.same_as(&exp));
        made.push(exp);
        let text = crate::text::decimal(u32::from(port));
        let old = pkt.payload.get(p.off..p.off.saturating_add(p.len));
        if old != Some(text.as_bytes()) {
            out.edits.push(Edit::new(p.off, p.len, text.as_bytes()));
        }
        Ok(())
    }
}

impl Helper for Amanda {
    fn info(&self) -> &'static HelperInfo {
        &INFO
    }

    fn handle(&self, pkt: &Packet<'_>, env: &mut dyn Env) -> Outcome {
        let mut out = Outcome::default();
        // "Only look at packets from the Amanda server" (the reply).
        if pkt.dir == Dir::Original {
            return out;
        }
        // nf_ct_refresh(ct, master_timeout * HZ), before anything is parsed.
        out.ct_timeout = self.master_timeout_for(pkt);
        if pkt.payload.is_empty() {
            out.event(Reason::Truncated, "empty reply");
            return out;
        }
        let parsed = parse(pkt.payload);
        if parsed.connect && !parsed.complete {
            out.event(Reason::Malformed, "CONNECT line without newline");
            return out;
        }
        // Each digit run grows by at most 5 - 1 bytes.
        let grown = pkt.payload.len().saturating_add(parsed.ports.len() * 4);
        if pkt.conn.nat() && grown > MAX_PAYLOAD {
            out.event(Reason::NatFailed, "rewritten packet too large");
            out.drop = true;
            return out;
        }
        let mut made = Vec::new();
        for p in &parsed.ports {
            if self.decide(pkt, p, env, &mut out, &mut made).is_err() {
                for e in made.drain(..) {
                    env.unexpect(&e);
                }
                out.edits.clear();
                out.drop = true;
                return out;
            }
        }
        if let Some((stream, why)) = parsed.bad {
            out.event(Reason::Malformed, format!("{}: {why}", stream.name()));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connect_line() {
        let p = b"Amanda 2.6 REP HANDLE 000-00000000 SEQ 1\nCONNECT DATA 50001 MESG 50002 INDEX 50003 STATE 50004\n";
        let r = parse(p);
        assert!(r.connect && r.complete && r.bad.is_none());
        let got: Vec<(Stream, u16, &[u8])> = r
            .ports
            .iter()
            .map(|x| (x.stream, x.port, &p[x.off..x.off + x.len]))
            .collect();
        assert_eq!(
            got,
            vec![
                (Stream::Data, 50001, &b"50001"[..]),
                (Stream::Mesg, 50002, b"50002"),
                (Stream::Index, 50003, b"50003"),
                (Stream::State, 50004, b"50004"),
            ]
        );
    }

    #[test]
    fn stops_at_a_bad_number() {
        for (p, n) in [
            (&b"CONNECT DATA 5 MESG 0 INDEX 7\n"[..], 1),
            (b"CONNECT DATA 65536 MESG 6\n", 0),
            (b"CONNECT DATA 123456\n", 0),
            (b"CONNECT DATA x MESG 5\n", 0),
            (b"CONNECT MESG 5 DATA \n", 0),
        ] {
            let r = parse(p);
            assert_eq!(r.ports.len(), n, "{p:?}");
            assert!(r.bad.is_some());
        }
    }

    #[test]
    fn bounds() {
        assert!(!parse(b"CONNEC").connect);
        let r = parse(b"CONNECT DATA 5");
        assert!(r.connect && !r.complete && r.ports.is_empty());
        // Keywords after the newline do not count.
        let r = parse(b"CONNECT DATA 5\nMESG 6\n");
        assert_eq!(r.ports.len(), 1);
        // Nor a keyword cut by the newline.
        let r = parse(b"CONNECT DATA\n 5\n");
        assert!(r.ports.is_empty() && r.bad.is_none());
        // Leading zeros.
        assert_eq!(parse(b"CONNECT DATA 00080\n").ports[0].port, 80);
    }
}
