//! What `replay` prints: one record per packet a helper acted on and one
//! per flow that matched an expectation, as text or JSON Lines
//! (docs/replay.md).

use helpers::text::SockAddrText;
use helpers::{Event, ExpectFlags, Expectation, HelperInfo, Tuple};
use serde::Serialize;
use std::fmt::Write as _;

#[derive(Debug, Serialize)]
pub struct EditRec {
    /// Offset into the L4 payload (into the concatenation of the held
    /// segments when `segments` is present).
    pub offset: usize,
    pub before: String,
    pub after: String,
    /// The bytes in hex, when either side is not text (a binary protocol:
    /// SNMP's IpAddress octets), which `before`/`after` cannot show.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub before_hex: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub after_hex: Option<String>,
}

impl EditRec {
    pub fn new(offset: usize, before: &[u8], after: &[u8]) -> Self {
        let binary = !is_text(before) || !is_text(after);
        EditRec {
            offset,
            before: lossy(before),
            after: lossy(after),
            before_hex: binary.then(|| hex(before)),
            after_hex: binary.then(|| hex(after)),
        }
    }
}

/// Valid UTF-8 without control characters other than tab, CR and LF.
fn is_text(b: &[u8]) -> bool {
    std::str::from_utf8(b).is_ok_and(|s| {
        s.chars()
            .all(|c| !c.is_control() || matches!(c, '\t' | '\r' | '\n'))
    })
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[derive(Debug, Serialize)]
pub struct NatRec {
    pub dir: &'static str,
    pub addr: String,
    pub port: u16,
    /// The kernel expectfn (CTA_EXPECT_FN) that applies it.
    #[serde(skip_serializing_if = "is_follow_master")]
    pub expectfn: &'static str,
}

fn is_follow_master(f: &&'static str) -> bool {
    *f == helpers::ExpectFn::NatFollowMaster.name()
}

#[derive(Debug, Serialize)]
pub struct ExpRec {
    pub proto: &'static str,
    pub src: Option<String>,
    pub dst: String,
    pub sport: Option<u16>,
    pub dport: u16,
    pub class: u8,
    /// The class's name (`audio`), as `cthelperd helpers` prints it.
    pub class_name: Option<&'static str>,
    pub flags: u32,
    pub helper: Option<&'static str>,
    pub nat: Option<NatRec>,
}

impl ExpRec {
    /// `e`, made by a connection of `info`'s helper (whose classes name it).
    pub fn new(e: &Expectation, info: Option<&HelperInfo>) -> Self {
        ExpRec {
            proto: e.proto.name(),
            src: match e.src {
                helpers::SrcAddr::Any => None,
                helpers::SrcAddr::Exact(a) => Some(a.to_string()),
                helpers::SrcAddr::Net(a, p) => Some(format!(
                    "{}/{p}",
                    helpers::SrcAddr::Net(a, p).addr(a.is_ipv6())
                )),
            },
            dst: e.dst.to_string(),
            sport: e.sport,
            dport: e.dport,
            class: e.class,
            class_name: info.and_then(|i| i.class_name(e.class)),
            flags: e.flags.0,
            helper: e.helper,
            nat: e.nat.map(|n| NatRec {
                dir: n.dir.name(),
                addr: n.saved_addr.to_string(),
                port: n.saved_port,
                expectfn: n.expectfn.name(),
            }),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct EventRec {
    pub reason: &'static str,
    /// The helper parameter that caused it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub param: Option<&'static str>,
    pub detail: String,
}

impl From<&Event> for EventRec {
    fn from(e: &Event) -> Self {
        EventRec {
            reason: e.reason.name(),
            param: e.param,
            detail: e.detail.clone(),
        }
    }
}

/// A packet a helper acted on.
#[derive(Debug, Serialize)]
pub struct HelperRec {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub packet: u64,
    /// Frames whose payloads were concatenated (held until the message was
    /// complete); absent when the packet was handled alone.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub segments: Option<Vec<u64>>,
    pub helper: &'static str,
    pub flow: String,
    pub reply: String,
    pub dir: &'static str,
    /// What the helper saw: the first line of the payload it was handed
    /// (of the whole message when segments were joined), as text; absent
    /// when no helper ran.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub what: Option<String>,
    pub edits: Vec<EditRec>,
    pub expectations: Vec<ExpRec>,
    pub events: Vec<EventRec>,
    pub drop: bool,
    /// The way the packet travels (text only): as it arrives, and as it
    /// leaves when NAT changes it.
    #[serde(skip)]
    pub way: Way,
}

/// How a packet travels through the router: its tuple as it arrives, and as
/// it leaves when NAT changes it.
#[derive(Debug, Clone, Default)]
pub struct Way {
    pub arrives: String,
    pub leaves: Option<String>,
}

impl Way {
    /// A packet of a connection whose tuple in the packet's direction is
    /// `arrives` and whose other direction's tuple is `other`.
    pub fn of(arrives: &Tuple, other: &Tuple) -> Self {
        let leaves = other.inverse();
        Way {
            arrives: arrives.to_string(),
            leaves: (leaves != *arrives).then(|| endpoints(&leaves)),
        }
    }
    fn text(&self) -> String {
        match &self.leaves {
            Some(l) => format!("{}, leaves as {l}", self.arrives),
            None => self.arrives.clone(),
        }
    }
}

/// `10.0.0.5:40000 -> 198.51.100.1:21` (no protocol).
fn endpoints(t: &Tuple) -> String {
    format!(
        "{} -> {}",
        SockAddrText(t.src, t.sport),
        SockAddrText(t.dst, t.dport)
    )
}

/// The first line of `payload` (without its line end), at most 80 bytes,
/// as text: what a protocol-neutral record can say of the message a helper
/// acted on.
pub fn first_line(payload: &[u8]) -> Option<String> {
    const MAX: usize = 80;
    let line = payload.split(|&b| b == b'\n').next().unwrap_or_default();
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let line = line.get(..MAX).unwrap_or(line);
    // A binary protocol (H.323, SNMP, TFTP's opcodes): no line to show.
    if line.is_empty()
        || !line
            .iter()
            .all(|&b| b == b'\t' || (0x20..0x7f).contains(&b))
    {
        return None;
    }
    let text = lossy(line);
    Some(
        if payload.len() > line.len()
            && !payload
                .get(line.len()..)
                .is_some_and(|r| r.starts_with(b"\r\n") || r.starts_with(b"\n"))
        {
            format!("{text}…")
        } else {
            text
        },
    )
}

/// A new flow that matched an expectation.
#[derive(Debug, Serialize)]
pub struct RelatedRec {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub packet: u64,
    /// The flow as it arrives (its original tuple).
    pub flow: String,
    /// Its reply tuple (shows the NAT of nat-follow-master).
    pub reply: String,
    pub master: String,
    /// Frame that created the expectation.
    pub expected_by: u64,
    pub expectation: ExpRec,
    pub helper: Option<&'static str>,
    /// The way its first packet travels (text only).
    #[serde(skip)]
    pub way: Way,
}

fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn flags_text(f: u32) -> String {
    let mut v = Vec::new();
    if ExpectFlags(f).contains(ExpectFlags::PERMANENT) {
        v.push("permanent");
    }
    if ExpectFlags(f).contains(ExpectFlags::INACTIVE) {
        v.push("inactive");
    }
    if v.is_empty() {
        String::new()
    } else {
        format!(" [{}]", v.join(","))
    }
}

/// An address before `:port`: IPv6 in brackets.
fn host(a: &str) -> String {
    if a.contains(':') {
        format!("[{a}]")
    } else {
        a.to_string()
    }
}

fn exp_text(e: &ExpRec) -> String {
    let src = e.src.as_deref().map_or("*".to_string(), host);
    let sport = e.sport.map_or("*".to_string(), |p| p.to_string());
    let class = e
        .class_name
        .map_or_else(|| e.class.to_string(), str::to_string);
    let mut s = format!(
        "{} {src}:{sport} -> {}:{} class {class}{}",
        e.proto,
        host(&e.dst),
        e.dport,
        flags_text(e.flags)
    );
    if let Some(h) = e.helper {
        let _ = write!(s, " helper {h}");
    }
    if let Some(n) = &e.nat {
        let _ = write!(s, " nat({}) to {} port {}", n.dir, n.addr, n.port);
    }
    s
}

impl HelperRec {
    pub fn text(&self) -> String {
        let mut s = format!("#{} {} {}", self.packet, self.helper, self.way.arrives);
        if self.dir == helpers::Dir::Reply.name() {
            s.push_str(" (reply)");
        }
        if let Some(l) = &self.way.leaves {
            let _ = write!(s, ", leaves as {l}");
        }
        if let Some(seg) = &self.segments {
            let l: Vec<String> = seg.iter().map(|n| format!("#{n}")).collect();
            let _ = write!(s, " (segments {})", l.join("+"));
        }
        s.push('\n');
        if let Some(w) = &self.what {
            let _ = writeln!(s, "  saw {w:?}");
        }
        for e in &self.edits {
            match (&e.before_hex, &e.after_hex) {
                (Some(b), Some(a)) => {
                    let _ = writeln!(s, "  edit @{}: {b} → {a} (hex)", e.offset);
                }
                _ => {
                    let _ = writeln!(s, "  edit @{}: {:?} → {:?}", e.offset, e.before, e.after);
                }
            }
        }
        for e in &self.expectations {
            let _ = writeln!(s, "  expect {}", exp_text(e));
        }
        for e in &self.events {
            match e.param {
                Some(p) => {
                    let _ = writeln!(s, "  event {} ({p}): {}", e.reason, e.detail);
                }
                None => {
                    let _ = writeln!(s, "  event {}: {}", e.reason, e.detail);
                }
            }
        }
        if self.drop {
            s.push_str("  dropped\n");
        }
        s
    }
}

impl RelatedRec {
    pub fn text(&self) -> String {
        format!(
            "#{} related {}, expected by #{} of {}\n  matched {}\n",
            self.packet,
            self.way.text(),
            self.expected_by,
            self.master,
            exp_text(&self.expectation)
        )
    }
}
