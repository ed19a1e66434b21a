//! IRC DCC: `PRIVMSG … :\1DCC SEND|CHAT|MOVE|TSEND|SCHAT …\1` from the
//! client — the kernel's `nf_conntrack_irc.c` (expectations) and
//! `nf_nat_irc.c` (rewrites).
//!
//! # Parse (`help()` and `parse_dcc()` in nf_conntrack_irc.c)
//! Only packets of the **original** direction (client → server) are read;
//! the server's packets never are. At most the first [`MAX_SEARCH_SIZE`]
//! (4095) payload bytes are searched, as the kernel's `irc_buffer`. In each
//! complete line (ending in `\n`):
//! * leading `' '`/`'\r'` are skipped, then the line must start with
//!   `PRIVMSG ` (case-insensitive, `strncasecmp`);
//! * the first `" :"` after it starts the message, which must start with
//!   `"\1DCC "` (else the line is no DCC);
//! * then one of `SEND `, `CHAT `, `MOVE `, `TSEND `, `SCHAT ` (exact case,
//!   `memcmp` over `dccprotos[]`); other DCC commands (RESUME, ACCEPT…) are
//!   ignored;
//! * one argument (file name, `chat`) is skipped up to the first space
//!   (`while (*data++ != ' ')`);
//! * the address: the decimal `u32` form of an IPv4 address
//!   (`simple_strtoul`), or — on an IPv6 connection — an IPv6 literal (see
//!   below); then blanks; then the decimal port. The byte range from the
//!   first address byte to the end of the port digits is the kernel's
//!   `addr_beg_p`..`addr_end_p`, which a NAT rewrite replaces.
//!
//! # Decide
//! The advertised address must be the client's: `tuple[dir].src`, or
//! `tuple[!dir].dst` (the client's NATed address, which a client that
//! learned it may advertise), and the port must not be 0 — otherwise the
//! DCC is forged (event `forged`, no expectation; the kernel's "Forged DCC
//! command" check). Ports 1..1023 are accepted, as in the kernel. The
//! expectation is `nf_ct_expect_init(exp, CLASS_DEFAULT, …, NULL,
//! &tuple[!dir].dst, IPPROTO_TCP, NULL, &port)`: class 0, TCP, **any**
//! source address and port (the DCC peer is a third party), destination
//! `tuple[!dir].dst` (the client as the peer will see it) and the advertised
//! port; flags 0, no helper.
//!
//! # NAT (`nf_nat_irc()`, when the connection is NATed)
//! `newaddr = tuple[REPLY].dst`; `exp->dir = IP_CT_DIR_REPLY`,
//! `saved_proto.tcp.port` = the advertised port, expectfn
//! `nat-follow-master` (which maps the new flow to
//! `master->tuplehash[ORIGINAL].src` — we put that into
//! [`ExpectNat::saved_addr`] — and the saved port). The port is searched as
//! `nf_nat_exp_find_port()`: the advertised port, then on a clash up to 128
//! random ports `port + random % (65535 - port)`; any other refusal stops.
//! No port → drop (`nat_failed`, the kernel's NF_DROP). The range
//! `addr port` is replaced by `"%u %u"` of `ntohl(newaddr)` and the port —
//! byte-identical to the kernel on IPv4 (the length changes; the caller's
//! NAT records the TCP sequence adjustment) — and by `"<addr> <port>"` with
//! the RFC 5952 text of `newaddr` on IPv6. A rewrite giving the same bytes
//! is not emitted.
//!
//! # Deliberate differences from the kernel
//! * **IPv6** (the kernel helper is IPv4-only): on an IPv6 connection the
//!   address field may be an IPv6 literal (`DCC SEND f 2001:db8::10 5000 9`,
//!   as irssi/WeeChat/KVIrc send it); parsed with std's RFC 4291 parser, at
//!   most 45 characters. The decimal form on an IPv6 connection, or a
//!   literal on an IPv4 one, is refused (event `family`).
//! * Numbers: the kernel's `simple_strtoul` wraps an address over 32 bits
//!   and reads no digits as 0; we refuse both (`malformed`); a port over
//!   65535 is refused as in current kernels. At least one blank must
//!   separate address and port.
//! * A quoted file name (`SEND "my file.txt" …`, mIRC) is skipped as one
//!   argument; the kernel stops at the first space inside it and then sees
//!   a garbage address (forged).
//! * Every complete line of the search window is examined and every DCC in
//!   it handled (the kernel stops at the first message of the packet and
//!   handles at most one DCC). The kernel's search may run past the end of a
//!   line; ours stops at `\n`.
//! * A DCC line cut by the end of the segment: the kernel ignores it; we
//!   answer [`Outcome::incomplete`]` = Some(offset of that line)` (event
//!   `partial`): the complete lines before it are handled (their
//!   expectations and edits count), and a caller that can hold segments
//!   calls again with the line joined to the next segment. A line cut by
//!   the end of the search window of a longer packet is not held (event
//!   `too_long`).
//! * A complete but unparsable DCC argument list (after a known command) is
//!   counted (`malformed`); the kernel ignores it silently.
//! * An expectation refused without NAT ([`Env::expect`]): the kernel
//!   returns NF_DROP; we fail open (event `expect_failed`, see
//!   [`Outcome::expect`](crate::Outcome::expect)).
//! * The kernel only looks at packets whose ctinfo is ESTABLISHED
//!   (`IP_CT_ESTABLISHED[_REPLY]`); we do not check
//!   [`Packet::ctinfo`] — in practice the earlier packets (handshake) carry
//!   no payload.
//!
//! # Private data
//! None ([`INFO`]`.priv_len` = 0), as in the kernel: a packet's first byte
//! is taken as a line start (a held line is handed back from its start).
//!
//! # Parameters
//! `max_dcc_channels` (8, 1..=255) and `dcc_timeout` (300 s) are the
//! policy's `max_expected` and `timeout` (`irc_exp_policy`); see
//! [`policies`]. The kernel leaves the policy unnamed; we name it `irc`.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::conn::{Dir, L4Proto};
use crate::edit::Edit;
use crate::event::Reason;
use crate::expect::nat_find_port;
use crate::expect::{ExpectError, ExpectNat, Expectation};
use crate::helper::HelperInfo;
use crate::helper::{Env, Helper, Outcome, Packet};
use crate::params::{ExpectPolicy, Param, Params};
use crate::text::{parse_decimal, starts_with_ignore_case};

/// Bytes of the payload searched (`MAX_SEARCH_SIZE` in nf_conntrack_irc.c).
pub const MAX_SEARCH_SIZE: usize = 4095;

/// Longest payload a NAT rewrite may produce (minimal IP+TCP headers).
const MAX_PAYLOAD: usize = 65535 - 40;

/// Longest IPv6 address text (INET6_ADDRSTRLEN - 1).
const MAX_V6_TEXT: usize = 45;

/// `max_dcc_channels` of nf_conntrack_irc (= the irc policy's max_expected).
pub const MAX_DCC_CHANNELS: Param<u32> = Param::u32(
    "max_dcc_channels",
    8,
    1,
    255,
    "most expected DCC connections per IRC session",
);
/// `dcc_timeout` of nf_conntrack_irc (= the irc policy's timeout).
pub const DCC_TIMEOUT: Param<u32> = Param::u32(
    "dcc_timeout",
    300,
    1,
    u32::MAX,
    "seconds an expected DCC connection waits to be opened",
);

pub static INFO: HelperInfo = HelperInfo {
    name: "irc",
    l4: &[L4Proto::Tcp],
    ipv4: true,
    ipv6: true,
    default_ports: &[6667],
    policies: &[("irc", 8, 300)],
    policies_from_params: Some(policies),
    expected_from: &[],
    params: &[MAX_DCC_CHANNELS.spec, DCC_TIMEOUT.spec],
    priv_len: 0,
    summary: "IRC: DCC SEND/CHAT/MOVE/TSEND/SCHAT connections (IPv4 and IPv6)",
    build: |p, pol| Box::new(Irc::new(p, pol)),
};

/// The expectation policy the parameters give (`irc_exp_policy`).
pub fn policies(p: &Params) -> Vec<ExpectPolicy> {
    vec![ExpectPolicy {
        name: "irc".to_string(),
        max_expected: p.get(MAX_DCC_CHANNELS),
        timeout: p.get(DCC_TIMEOUT),
    }]
}

// ---------------------------------------------------------------------------
// Parse
// ---------------------------------------------------------------------------

/// The DCC commands the kernel knows (`dccprotos[]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    Send,
    Chat,
    Move,
    Tsend,
    Schat,
}

const KINDS: [(Kind, &[u8]); 5] = [
    (Kind::Send, b"SEND "),
    (Kind::Chat, b"CHAT "),
    (Kind::Move, b"MOVE "),
    (Kind::Tsend, b"TSEND "),
    (Kind::Schat, b"SCHAT "),
];

impl Kind {
    pub const fn name(self) -> &'static str {
        match self {
            Kind::Send => "SEND",
            Kind::Chat => "CHAT",
            Kind::Move => "MOVE",
            Kind::Tsend => "TSEND",
            Kind::Schat => "SCHAT",
        }
    }
}

/// One DCC offer found in a payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dcc {
    pub kind: Kind,
    pub addr: IpAddr,
    pub port: u16,
    /// `addr_beg_p`..`addr_end_p`: the `addr port` bytes a NAT rewrite
    /// replaces, as offset and length into the payload.
    pub off: usize,
    pub len: usize,
}

/// What one complete line holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Found {
    Dcc(Dcc),
    Malformed { kind: Kind, why: &'static str },
}

/// Everything of interest in a payload.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Parsed {
    /// DCC lines, in payload order.
    pub found: Vec<Found>,
    /// The payload ends inside a line that is (or may become) a DCC: the
    /// offset where that line starts.
    pub incomplete: Option<usize>,
    /// The search window ended inside a line (payload over
    /// [`MAX_SEARCH_SIZE`]).
    pub cut: bool,
}

/// Parses the DCC lines of a client → server `payload`.
pub fn parse(payload: &[u8]) -> Parsed {
    let window = payload.get(..MAX_SEARCH_SIZE).unwrap_or(payload);
    let mut out = Parsed::default();
    let mut start = 0usize;
    while let Some(rest) = window.get(start..) {
        if rest.is_empty() {
            break;
        }
        match crate::text::find_newline(rest) {
            Some(nl) => {
                let line = rest.get(..nl).unwrap_or_default();
                if let Some(f) = parse_line(line, start) {
                    out.found.push(f);
                }
                start += nl + 1;
            }
            None => {
                if may_become_dcc(rest) {
                    if window.len() < payload.len() {
                        out.cut = true;
                    } else {
                        out.incomplete = Some(start);
                    }
                }
                break;
            }
        }
    }
    out
}

/// Skips the blanks the kernel skips before `PRIVMSG`.
fn skip_blanks(line: &[u8]) -> (usize, &[u8]) {
    let n = line
        .iter()
        .take_while(|&&b| b == b' ' || b == b'\r')
        .count();
    (n, line.get(n..).unwrap_or_default())
}

const PRIVMSG: &[u8] = b"PRIVMSG ";
const CTCP_DCC: &[u8] = b"\x01DCC ";

/// Position of the first `" :"` in `s`.
fn find_msg_start(s: &[u8]) -> Option<usize> {
    s.windows(2).position(|w| w == b" :")
}

/// Whether an incomplete line may still turn out to be a DCC line.
fn may_become_dcc(line: &[u8]) -> bool {
    let (_, l) = skip_blanks(line);
    if l.is_empty() {
        return false;
    }
    if l.len() < PRIVMSG.len() {
        return starts_with_ignore_case(PRIVMSG, l);
    }
    if !starts_with_ignore_case(l, PRIVMSG) {
        return false;
    }
    let after = l.get(PRIVMSG.len()..).unwrap_or_default();
    match find_msg_start(after) {
        None => true,
        Some(i) => {
            let msg = after.get(i + 2..).unwrap_or_default();
            msg.starts_with(CTCP_DCC) || CTCP_DCC.starts_with(msg)
        }
    }
}

/// One complete line (without its `\n`) that starts at `base` in the
/// payload.
fn parse_line(line: &[u8], base: usize) -> Option<Found> {
    let (skipped, l) = skip_blanks(line);
    if !starts_with_ignore_case(l, PRIVMSG) {
        return None;
    }
    let after = l.get(PRIVMSG.len()..)?;
    let msg_at = find_msg_start(after)? + 2;
    let msg = after.get(msg_at..)?;
    let cmd = msg.strip_prefix(CTCP_DCC)?;
    let (kind, word) = KINDS.iter().find(|(_, w)| cmd.starts_with(w))?;
    let args = cmd.get(word.len()..)?;
    let args_at = base + skipped + PRIVMSG.len() + msg_at + CTCP_DCC.len() + word.len();
    Some(match parse_args(args) {
        Ok((addr, port, off, len)) => Found::Dcc(Dcc {
            kind: *kind,
            addr,
            port,
            off: args_at + off,
            len,
        }),
        Err(why) => Found::Malformed { kind: *kind, why },
    })
}

/// `parse_dcc()`: skips one argument, then `addr blanks port`. Returns the
/// address, the port and the offset/length of `addr…port` in `args`.
fn parse_args(args: &[u8]) -> Result<(IpAddr, u16, usize, usize), &'static str> {
    let addr_at = if args.first() == Some(&b'"') {
        let close = args
            .iter()
            .skip(1)
            .position(|&b| b == b'"')
            .ok_or("unterminated file name")?
            + 1;
        if args.get(close + 1) != Some(&b' ') {
            return Err("no address");
        }
        close + 2
    } else {
        args.iter().position(|&b| b == b' ').ok_or("no address")? + 1
    };
    let rest = args.get(addr_at..).unwrap_or_default();
    let tok_len = rest.iter().position(|&b| b == b' ').unwrap_or(rest.len());
    let tok = rest.get(..tok_len).unwrap_or_default();
    let addr = parse_addr(tok)?;
    let blanks = rest
        .get(tok_len..)
        .unwrap_or_default()
        .iter()
        .take_while(|&&b| b == b' ')
        .count();
    if blanks == 0 {
        return Err("no port");
    }
    let port_at = tok_len + blanks;
    let (port, digits) = match parse_decimal(rest.get(port_at..).unwrap_or_default(), 65535) {
        Some(v) => v,
        None => {
            return Err(if rest.get(port_at).is_some_and(|b| b.is_ascii_digit()) {
                "port over 65535"
            } else {
                "no port"
            })
        }
    };
    let port = u16::try_from(port).map_err(|_| "port over 65535")?;
    Ok((addr, port, addr_at, port_at + digits))
}

/// The address field: decimal u32 (IPv4) or an IPv6 literal.
fn parse_addr(tok: &[u8]) -> Result<IpAddr, &'static str> {
    if tok.is_empty() {
        return Err("no address");
    }
    if tok.iter().all(u8::is_ascii_digit) {
        let (n, used) = parse_decimal(tok, u32::MAX).ok_or("address over 32 bits")?;
        if used != tok.len() {
            return Err("bad address");
        }
        return Ok(IpAddr::V4(Ipv4Addr::from(n)));
    }
    if tok.contains(&b':') && tok.len() <= MAX_V6_TEXT {
        let s = std::str::from_utf8(tok).map_err(|_| "bad address")?;
        return s
            .parse::<Ipv6Addr>()
            .map(IpAddr::V6)
            .map_err(|_| "bad IPv6 address");
    }
    Err("bad address")
}

/// The text `nf_nat_irc()` writes for `addr` and `port`.
pub fn format_addr_port(addr: IpAddr, port: u16) -> crate::text::Small {
    let mut t = crate::text::Small::new();
    match addr {
        IpAddr::V4(a) => t.push_dec(u32::from(a)),
        IpAddr::V6(a) => {
            use std::fmt::Write;
            // At most 39 bytes: always fits.
            let _ = write!(t, "{a}");
        }
    }
    t.push_byte(b' ');
    t.push_dec(u32::from(port));
    t
}

// ---------------------------------------------------------------------------
// The helper
// ---------------------------------------------------------------------------

#[derive(Debug, Default)]
pub struct Irc;

impl Irc {
    /// The parameters only shape the policy (see [`policies`]), which the
    /// expectation table enforces.
    pub fn new(_p: &Params, _policies: &[ExpectPolicy]) -> Self {
        Irc
    }

    /// One DCC offer: checks, expectation, NAT rewrite. `Err(())` when the
    /// packet must be dropped (NAT failed).
    fn decide(
        &self,
        pkt: &Packet<'_>,
        dcc: &Dcc,
        env: &mut dyn Env,
        out: &mut Outcome,
        grown: &mut usize,
        made: &mut Vec<Expectation>,
    ) -> Result<(), ()> {
        let dir = pkt.dir;
        let me = pkt.conn.tuple(dir);
        let peer = pkt.conn.tuple(dir.reverse());
        if dcc.addr.is_ipv6() != me.src.is_ipv6() {
            out.event(
                Reason::Family,
                format!(
                    "DCC {} {} on a connection of the other family",
                    dcc.kind.name(),
                    dcc.addr
                ),
            );
            return Ok(());
        }
        if (dcc.addr != me.src && dcc.addr != peer.dst) || dcc.port == 0 {
            out.event(
                Reason::Forged,
                format!(
                    "DCC {} from {} advertises {}",
                    dcc.kind.name(),
                    me.src,
                    crate::text::SockAddrText(dcc.addr, dcc.port)
                ),
            );
            return Ok(());
        }
        let mut exp = Expectation::new(0, L4Proto::Tcp, peer.dst, dcc.port);
        if !pkt.conn.nat() {
            if out.expect(env, &exp, &format_args!("DCC {}", dcc.kind.name())) {
                // One per tuple, as the table keeps them (two offers of one port).
                made.retain(|e| !e.same_as(&exp));
                made.push(exp);
            }
            return Ok(());
        }

        // nf_nat_irc(): the peer connects to the client's NATed address.
        let newaddr = pkt.conn.reply.dst;
        exp.dst = newaddr;
        exp.nat = Some(ExpectNat::follow_master(
            Dir::Reply,
            pkt.conn.orig.src,
            dcc.port,
        ));
        let widest = format_addr_port(newaddr, u16::MAX).len();
        *grown = grown.saturating_add(widest.saturating_sub(dcc.len));
        if pkt.payload.len().saturating_add(*grown) > MAX_PAYLOAD {
            out.event(Reason::NatFailed, "rewritten packet too large");
            return Err(());
        }
        let port = match nat_find_port(env, &mut exp, dcc.port) {
            Ok(p) => p,
            Err(e) => {
                let why = match e {
                    ExpectError::Clash => "all ports in use".to_string(),
                    other => format!("expectation refused: {other:?}"),
                };
                out.event(Reason::NatFailed, why);
                return Err(());
            }
        };
        // One per tuple, as the table keeps them (two offers of one port).
        made.retain(|e| !e.same_as(&exp));
        made.push(exp);
        let text = format_addr_port(newaddr, port);
        let old = pkt.payload.get(dcc.off..dcc.off.saturating_add(dcc.len));
        if old != Some(text.as_bytes()) {
            out.edits.push(Edit::new(dcc.off, dcc.len, text.as_bytes()));
        }
        Ok(())
    }
}

impl Helper for Irc {
    fn info(&self) -> &'static HelperInfo {
        &INFO
    }

    fn handle(&self, pkt: &Packet<'_>, env: &mut dyn Env) -> Outcome {
        let mut out = Outcome::default();
        // "If packet is coming from IRC server": nothing to do.
        if pkt.dir == Dir::Reply || pkt.payload.is_empty() {
            return out;
        }
        let parsed = parse(pkt.payload);
        if parsed.cut {
            out.event(
                Reason::TooLong,
                format!("DCC line beyond the first {MAX_SEARCH_SIZE} bytes"),
            );
        }
        let mut grown = 0usize;
        let mut made = Vec::new();
        for f in &parsed.found {
            match f {
                Found::Malformed { kind, why } => {
                    out.event(Reason::Malformed, format!("DCC {}: {why}", kind.name()));
                }
                Found::Dcc(dcc) => {
                    if self
                        .decide(pkt, dcc, env, &mut out, &mut grown, &mut made)
                        .is_err()
                    {
                        // NF_DROP: nothing of this packet stays.
                        for e in made.drain(..) {
                            env.unexpect(&e);
                        }
                        out.edits.clear();
                        out.drop = true;
                        return out;
                    }
                }
            }
        }
        // The lines before it are handled; the unfinished one is held.
        if let Some(at) = parsed.incomplete {
            out.incomplete = Some(at);
            out.event(
                Reason::Partial,
                format!(
                    "DCC line split over segments ({} so far)",
                    crate::text::count(pkt.payload.len().saturating_sub(at) as u64, "byte")
                ),
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dcc(p: &[u8]) -> Dcc {
        match parse(p).found.as_slice() {
            [Found::Dcc(d)] => *d,
            other => panic!("{other:?}"),
        }
    }

    /// The policy's fields are the parameters (one setting): which
    /// parameter sets which field.
    #[test]
    fn policy_fields_are_the_parameters() {
        use crate::helper::PolicyField;
        let name = |f| INFO.policy_param(0, f).map(|s| s.name);
        assert_eq!(name(PolicyField::MaxExpected), Some("max_dcc_channels"));
        assert_eq!(name(PolicyField::Timeout), Some("dcc_timeout"));
        assert!(INFO.policy_param(1, PolicyField::Timeout).is_none());
        // A helper whose policies are its own has no such parameter.
        assert!(crate::ftp::INFO
            .policy_param(0, PolicyField::MaxExpected)
            .is_none());
    }

    #[test]
    fn forms_and_ranges() {
        let p = b"PRIVMSG bob :\x01DCC SEND f.txt 3232235786 5000 1234\x01\r\n";
        let d = dcc(p);
        assert_eq!(d.kind, Kind::Send);
        assert_eq!(d.addr, "192.168.1.10".parse::<IpAddr>().unwrap());
        assert_eq!(d.port, 5000);
        assert_eq!(&p[d.off..d.off + d.len], b"3232235786 5000");
        for (w, k) in [
            ("CHAT chat", Kind::Chat),
            ("MOVE f", Kind::Move),
            ("TSEND f", Kind::Tsend),
            ("SCHAT chat", Kind::Schat),
        ] {
            let l = format!("privmsg bob :\x01DCC {w} 3232235786 5000\x01\r\n");
            assert_eq!(dcc(l.as_bytes()).kind, k);
        }
        let q = b"PRIVMSG bob :\x01DCC SEND \"a b.txt\" 3232235786  5000 1\x01\r\n";
        let d = dcc(q);
        assert_eq!(&q[d.off..d.off + d.len], b"3232235786  5000");
        let v6 = b"PRIVMSG bob :\x01DCC SEND f 2001:db8::10 5000 9\x01\r\n";
        let d = dcc(v6);
        assert_eq!(&v6[d.off..d.off + d.len], b"2001:db8::10 5000");
    }

    #[test]
    fn not_dcc() {
        for p in [
            &b"PRIVMSG bob :hello\r\n"[..],
            b"NOTICE bob :\x01DCC SEND f 3232235786 5000 1\x01\r\n",
            b"PRIVMSG bob :\x01DCC RESUME f 5000 1\x01\r\n",
            b"PRIVMSG bob :\x01dcc SEND f 3232235786 5000 1\x01\r\n",
            b"PRIVMSG bob :\x01DCC send f 3232235786 5000 1\x01\r\n",
        ] {
            assert_eq!(parse(p), Parsed::default(), "{p:?}");
        }
    }

    #[test]
    fn malformed() {
        for p in [
            &b"PRIVMSG b :\x01DCC SEND f 4294967296 5000 1\x01\r\n"[..],
            b"PRIVMSG b :\x01DCC SEND f 3232235786 65536 1\x01\r\n",
            b"PRIVMSG b :\x01DCC SEND f 3232235786 x\x01\r\n",
            b"PRIVMSG b :\x01DCC SEND f 3232235786\x01\r\n",
            b"PRIVMSG b :\x01DCC SEND f\x01\r\n",
            b"PRIVMSG b :\x01DCC SEND \"f 3232235786 5000\x01\r\n",
            b"PRIVMSG b :\x01DCC SEND f 1.2.3.4 5000\x01\r\n",
            b"PRIVMSG b :\x01DCC SEND f 2001:db8::zz 5000\x01\r\n",
        ] {
            assert!(
                matches!(parse(p).found.as_slice(), [Found::Malformed { .. }]),
                "{:?}",
                String::from_utf8_lossy(p)
            );
        }
    }

    #[test]
    fn incomplete() {
        for p in [
            &b"PRIV"[..],
            b"PRIVMSG bob",
            b"PRIVMSG bob :\x01DC",
            b"PRIVMSG bob :\x01DCC SEND f 3232235786 50",
        ] {
            assert_eq!(parse(p).incomplete, Some(0), "{p:?}");
        }
        assert_eq!(parse(b"PRIVMSG bob :hi").incomplete, None);
        assert_eq!(parse(b"JOIN #x").incomplete, None);
        // After complete lines: the offset of the unfinished one.
        let p = b"PING :x\r\nPRIVMSG bob :\x01DCC SE";
        assert_eq!(parse(p).incomplete, Some(9));
        assert_eq!(parse(b"PING :x\r\nPRIVMSG bob :hi").incomplete, None);
    }

    #[test]
    fn format() {
        assert_eq!(
            format_addr_port("198.51.100.1".parse().unwrap(), 5000),
            "3325256705 5000"
        );
        assert_eq!(
            format_addr_port("2001:db8::1".parse().unwrap(), 1),
            "2001:db8::1 1"
        );
    }
}
