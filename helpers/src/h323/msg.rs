//! The decoded messages: what the H.323 helper reads from RAS, Q.931
//! user-user information and H.245, with the byte offset of every address
//! and port (same-length NAT rewrites), built from the walker's captures.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::per::{Error, Result};
use super::table::Tag;
use super::walk::{Caps, Val};

/// An IP transport address found in a message: H.225.0 `TransportAddress`
/// (`ipAddress`, `ip6Address`) or H.245 `UnicastAddress` (`iPAddress`,
/// `iP6Address`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Addr {
    pub ip: IpAddr,
    pub port: u16,
    /// Byte offset of the 4 or 16 address octets in the decoded buffer.
    pub ip_offset: usize,
    /// Byte offset of the two port octets (big-endian) in the buffer;
    /// `ip_offset + 4` (or `+ 16`) in every encoding, but read, not assumed.
    pub port_offset: usize,
}

impl Addr {
    /// Length of the address octets: 4 or 16.
    pub fn ip_len(&self) -> usize {
        if self.ip.is_ipv4() {
            4
        } else {
            16
        }
    }
}

/// What an address is, where the helper meets it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddrKind {
    /// RAS `rasAddress` (GRQ, GCF, RRQ, LCF, IRR).
    RasAddress,
    /// RAS `callSignalAddress` (RRQ, RCF, URQ, LCF, IRR).
    CallSignalAddress,
    /// `destCallSignalAddress` (ARQ, ACF, Setup).
    DestCallSignalAddress,
    /// ARQ `srcCallSignalAddress`.
    SrcCallSignalAddress,
    /// Setup `sourceCallSignalAddress`.
    SourceCallSignalAddress,
    /// LRQ `replyAddress`.
    ReplyAddress,
    /// `h245Address` (Setup, CallProceeding, Connect, Alerting, Facility,
    /// Progress).
    H245Address,
    /// Facility `alternativeAddress` (call forwarding).
    AlternativeAddress,
    /// H.245 `mediaChannel` (RTP) of a logical channel.
    Media(Channel),
    /// H.245 `mediaControlChannel` (RTCP) of a logical channel.
    MediaControl(Channel),
    /// H.245 `separateStack.networkAddress.localAreaAddress` (T.120).
    SeparateStack { forward_lcn: u16 },
}

/// Which logical channel a media address belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Channel {
    pub forward_lcn: u16,
    pub dir: Dir,
    /// The channel's data type (for an OpenLogicalChannelAck: unknown).
    pub media: Media,
    /// From an OpenLogicalChannelAck rather than an OpenLogicalChannel.
    pub ack: bool,
    /// Inside a Q.931 fastStart element (not an H.245 message).
    pub fast_start: bool,
}

/// Forward or reverse logical channel parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dir {
    Forward,
    Reverse,
}

/// The `DataType` of a logical channel, as far as the helper cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Media {
    Audio,
    Video,
    /// `data`; `t120_separate_lan_stack` when the application is
    /// `t120` with `separateLANStack` (the kernel's T.120 condition).
    Data {
        t120_separate_lan_stack: bool,
    },
    /// Any other data type (nonStandard, nullData, encryptionData, ...).
    Other,
    /// Not given (OpenLogicalChannelAck).
    Unknown,
}

/// One address with what it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Found {
    pub kind: AddrKind,
    pub addr: Addr,
}

/// A decoded RAS message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ras {
    /// The RasMessage alternative: "registrationRequest", ...;
    /// "unknown" for an extension newer than the ASN.1 used here.
    pub name: &'static str,
    pub msg: RasMsg,
}

/// The RAS messages the helper acts on; lists keep their order and hold
/// `None` for addresses that are not IP (IPX, netBios, source route, ...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RasMsg {
    Grq {
        ras_address: Option<Addr>,
    },
    Gcf {
        ras_address: Option<Addr>,
    },
    Rrq {
        call_signal_address: Vec<Option<Addr>>,
        ras_address: Vec<Option<Addr>>,
        /// `timeToLive` (seconds), if present.
        time_to_live: Option<u32>,
        /// `keepAlive`, if the extension is present.
        keep_alive: Option<bool>,
    },
    Rcf {
        call_signal_address: Vec<Option<Addr>>,
        time_to_live: Option<u32>,
    },
    Urq {
        call_signal_address: Vec<Option<Addr>>,
    },
    Arq {
        dest_call_signal_address: Option<Addr>,
        src_call_signal_address: Option<Addr>,
    },
    Acf {
        dest_call_signal_address: Option<Addr>,
    },
    Lrq {
        reply_address: Option<Addr>,
    },
    Lcf {
        call_signal_address: Option<Addr>,
        ras_address: Option<Addr>,
    },
    Irr {
        ras_address: Option<Addr>,
        call_signal_address: Vec<Option<Addr>>,
    },
    /// Any other RAS message (nothing read from it).
    Other,
}

/// A decoded Q.931 message (one TPKT payload) with its H.225.0 user-user
/// information.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Q931 {
    /// The Q.931 message type octet (0x05 Setup, 0x07 Connect, ...).
    pub message_type: u8,
    /// Byte offset of the H323-UserInformation encoding in the buffer.
    pub uuie_offset: usize,
    /// Its length.
    pub uuie_len: usize,
    /// The `h323-message-body` alternative: "setup", "connect", ...
    pub body_name: &'static str,
    pub body: Body,
    /// `h245Tunnelling`, if the extension is present.
    pub h245_tunnelling: Option<bool>,
    /// Every `h245Control` element, decoded as H.245 (offsets into the same
    /// buffer).
    pub h245_control: Vec<H245>,
}

/// The `h323-message-body` alternatives the helper acts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Body {
    Setup {
        h245_address: Option<Addr>,
        dest_call_signal_address: Option<Addr>,
        source_call_signal_address: Option<Addr>,
        fast_start: Vec<H245Olc>,
    },
    CallProceeding(Signal),
    Connect(Signal),
    Alerting(Signal),
    Progress(Signal),
    Facility {
        /// The `reason` alternative: "callForwarded", "startH245", ...
        reason: &'static str,
        alternative_address: Option<Addr>,
        h245_address: Option<Addr>,
        fast_start: Vec<H245Olc>,
    },
    /// information, releaseComplete, empty, status, notify, ...
    Other,
}

/// The fields CallProceeding, Connect, Alerting and Progress share.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Signal {
    pub h245_address: Option<Addr>,
    pub fast_start: Vec<H245Olc>,
}

/// A decoded H.245 MultimediaSystemControlMessage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum H245 {
    OpenLogicalChannel(H245Olc),
    OpenLogicalChannelAck(H245OlcAck),
    /// Any other message: "request"/"response"/"command"/"indication" and
    /// the alternative's name ("unknown" past this ASN.1).
    Other {
        kind: &'static str,
        name: &'static str,
    },
}

/// An OpenLogicalChannel (H.245 request, or a fastStart element).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct H245Olc {
    pub forward_lcn: u16,
    pub forward: LcParams,
    pub reverse: Option<LcParams>,
    /// `separateStack` with a `localAreaAddress` (T.120).
    pub separate_stack: Option<Addr>,
    /// Inside a fastStart element.
    pub fast_start: bool,
}

/// Forward or reverse logical channel parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LcParams {
    pub media: Media,
    /// The `h2250LogicalChannelParameters`, if that is the multiplex.
    pub h2250: Option<H2250>,
}

/// The H.225.0 multiplex parameters of a channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct H2250 {
    pub session_id: Option<u8>,
    pub media_channel: Option<Addr>,
    pub media_control_channel: Option<Addr>,
}

/// An OpenLogicalChannelAck.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct H245OlcAck {
    pub forward_lcn: u16,
    /// `reverseLogicalChannelParameters`: its number and H.225.0 params.
    pub reverse: Option<(u16, Option<H2250>)>,
    pub separate_stack: Option<Addr>,
    /// `forwardMultiplexAckParameters.h2250LogicalChannelAckParameters`.
    pub forward_ack: Option<H2250>,
}

// ---------------------------------------------------------------------------
// Flat address lists

impl Ras {
    /// Every IP address the message carries, with what it is.
    pub fn addresses(&self) -> Vec<Found> {
        use AddrKind::*;
        let mut out = Vec::new();
        let mut one = |kind, a: &Option<Addr>| {
            if let Some(addr) = a {
                out.push(Found { kind, addr: *addr });
            }
        };
        match &self.msg {
            RasMsg::Grq { ras_address } | RasMsg::Gcf { ras_address } => {
                one(RasAddress, ras_address)
            }
            RasMsg::Rrq {
                call_signal_address,
                ras_address,
                ..
            } => {
                call_signal_address
                    .iter()
                    .for_each(|a| one(CallSignalAddress, a));
                ras_address.iter().for_each(|a| one(RasAddress, a));
            }
            RasMsg::Rcf {
                call_signal_address,
                ..
            }
            | RasMsg::Urq {
                call_signal_address,
            } => call_signal_address
                .iter()
                .for_each(|a| one(CallSignalAddress, a)),
            RasMsg::Arq {
                dest_call_signal_address,
                src_call_signal_address,
            } => {
                one(DestCallSignalAddress, dest_call_signal_address);
                one(SrcCallSignalAddress, src_call_signal_address);
            }
            RasMsg::Acf {
                dest_call_signal_address,
            } => one(DestCallSignalAddress, dest_call_signal_address),
            RasMsg::Lrq { reply_address } => one(ReplyAddress, reply_address),
            RasMsg::Lcf {
                call_signal_address,
                ras_address,
            } => {
                one(CallSignalAddress, call_signal_address);
                one(RasAddress, ras_address);
            }
            RasMsg::Irr {
                ras_address,
                call_signal_address,
            } => {
                one(RasAddress, ras_address);
                call_signal_address
                    .iter()
                    .for_each(|a| one(CallSignalAddress, a));
            }
            RasMsg::Other => {}
        }
        out
    }
}

impl Q931 {
    /// Every IP address in the user-user information, fastStart and
    /// tunnelled H.245 included.
    pub fn addresses(&self) -> Vec<Found> {
        let mut out = Vec::new();
        let one = |kind, a: &Option<Addr>, out: &mut Vec<Found>| {
            if let Some(addr) = a {
                out.push(Found { kind, addr: *addr });
            }
        };
        let fast =
            |fs: &[H245Olc], out: &mut Vec<Found>| fs.iter().for_each(|o| o.push_addresses(out));
        match &self.body {
            Body::Setup {
                h245_address,
                dest_call_signal_address,
                source_call_signal_address,
                fast_start,
            } => {
                one(AddrKind::H245Address, h245_address, &mut out);
                one(
                    AddrKind::DestCallSignalAddress,
                    dest_call_signal_address,
                    &mut out,
                );
                one(
                    AddrKind::SourceCallSignalAddress,
                    source_call_signal_address,
                    &mut out,
                );
                fast(fast_start, &mut out);
            }
            Body::CallProceeding(s) | Body::Connect(s) | Body::Alerting(s) | Body::Progress(s) => {
                one(AddrKind::H245Address, &s.h245_address, &mut out);
                fast(&s.fast_start, &mut out);
            }
            Body::Facility {
                alternative_address,
                h245_address,
                fast_start,
                ..
            } => {
                one(AddrKind::AlternativeAddress, alternative_address, &mut out);
                one(AddrKind::H245Address, h245_address, &mut out);
                fast(fast_start, &mut out);
            }
            Body::Other => {}
        }
        for h in &self.h245_control {
            out.extend(h.addresses());
        }
        out
    }
}

impl H245 {
    /// Every media, media control and T.120 address.
    pub fn addresses(&self) -> Vec<Found> {
        let mut out = Vec::new();
        match self {
            H245::OpenLogicalChannel(o) => o.push_addresses(&mut out),
            H245::OpenLogicalChannelAck(a) => a.push_addresses(&mut out),
            H245::Other { .. } => {}
        }
        out
    }
}

fn push_h2250(h: &H2250, ch: Channel, out: &mut Vec<Found>) {
    if let Some(addr) = h.media_channel {
        out.push(Found {
            kind: AddrKind::Media(ch),
            addr,
        });
    }
    if let Some(addr) = h.media_control_channel {
        out.push(Found {
            kind: AddrKind::MediaControl(ch),
            addr,
        });
    }
}

impl H245Olc {
    fn push_addresses(&self, out: &mut Vec<Found>) {
        let ch = |dir, media| Channel {
            forward_lcn: self.forward_lcn,
            dir,
            media,
            ack: false,
            fast_start: self.fast_start,
        };
        if let Some(h) = &self.forward.h2250 {
            push_h2250(h, ch(Dir::Forward, self.forward.media), out);
        }
        if let Some(LcParams {
            media,
            h2250: Some(h),
        }) = &self.reverse
        {
            push_h2250(h, ch(Dir::Reverse, *media), out);
        }
        if let Some(addr) = self.separate_stack {
            out.push(Found {
                kind: AddrKind::SeparateStack {
                    forward_lcn: self.forward_lcn,
                },
                addr,
            });
        }
    }
}

impl H245OlcAck {
    fn push_addresses(&self, out: &mut Vec<Found>) {
        let ch = |dir| Channel {
            forward_lcn: self.forward_lcn,
            dir,
            media: Media::Unknown,
            ack: true,
            fast_start: false,
        };
        if let Some((_, Some(h))) = &self.reverse {
            push_h2250(h, ch(Dir::Reverse), out);
        }
        if let Some(h) = &self.forward_ack {
            push_h2250(h, ch(Dir::Forward), out);
        }
        if let Some(addr) = self.separate_stack {
            out.push(Found {
                kind: AddrKind::SeparateStack {
                    forward_lcn: self.forward_lcn,
                },
                addr,
            });
        }
    }
}

// ---------------------------------------------------------------------------
// Building from captures

fn choice_name(caps: &Caps, i: usize) -> &'static str {
    match caps.get(i).map(|c| c.val) {
        Some(Val::Choice(_, Some(n))) => n,
        _ => "unknown",
    }
}

fn int_of(caps: &Caps, i: usize, tag: Tag) -> Option<i64> {
    match caps.child(i, tag)?.1.val {
        Val::Int(v, _) => Some(v),
        _ => None,
    }
}

fn bool_of(caps: &Caps, i: usize, tag: Tag) -> Option<bool> {
    match caps.child(i, tag)?.1.val {
        Val::Bool(b) => Some(b),
        _ => None,
    }
}

/// The IP address under an address capture `i`, if it is one.
fn addr_at(buf: &[u8], caps: &Caps, i: usize) -> Option<Addr> {
    let (ip, off) = caps.children(i).find_map(|(_, c)| match (c.tag, c.val) {
        (Tag::Ip4, Val::Octets(Some(off), 4)) => {
            let b: [u8; 4] = buf.get(off..off + 4)?.try_into().ok()?;
            Some((IpAddr::V4(Ipv4Addr::from(b)), off))
        }
        (Tag::Ip6, Val::Octets(Some(off), 16)) => {
            let b: [u8; 16] = buf.get(off..off + 16)?.try_into().ok()?;
            Some((IpAddr::V6(Ipv6Addr::from(b)), off))
        }
        _ => None,
    })?;
    let (port, port_offset) = caps.children(i).find_map(|(_, c)| match (c.tag, c.val) {
        (Tag::Port, Val::Int(v, Some(at))) => Some((u16::try_from(v).ok()?, at)),
        _ => None,
    })?;
    Some(Addr {
        ip,
        port,
        ip_offset: off,
        port_offset,
    })
}

fn addr_of(buf: &[u8], caps: &Caps, i: usize, tag: Tag) -> Option<Addr> {
    let (j, _) = caps.child(i, tag)?;
    addr_at(buf, caps, j)
}

fn addrs_of(buf: &[u8], caps: &Caps, i: usize, tag: Tag) -> Vec<Option<Addr>> {
    caps.children(i)
        .filter(|(_, c)| c.tag == tag)
        .map(|(j, _)| addr_at(buf, caps, j))
        .collect()
}

fn u32_of(v: Option<i64>) -> Option<u32> {
    v.and_then(|v| u32::try_from(v).ok())
}

pub(crate) fn build_ras(buf: &[u8], caps: &Caps) -> Result<Ras> {
    let root = 1;
    let name = choice_name(caps, root);
    let a = |t| addr_of(buf, caps, root, t);
    let list = |t| addrs_of(buf, caps, root, t);
    let msg = match name {
        "gatekeeperRequest" => RasMsg::Grq {
            ras_address: a(Tag::RasAddress),
        },
        "gatekeeperConfirm" => RasMsg::Gcf {
            ras_address: a(Tag::RasAddress),
        },
        "registrationRequest" => RasMsg::Rrq {
            call_signal_address: list(Tag::CallSignalAddress),
            ras_address: list(Tag::RasAddress),
            time_to_live: u32_of(int_of(caps, root, Tag::TimeToLive)),
            keep_alive: bool_of(caps, root, Tag::KeepAlive),
        },
        "registrationConfirm" => RasMsg::Rcf {
            call_signal_address: list(Tag::CallSignalAddress),
            time_to_live: u32_of(int_of(caps, root, Tag::TimeToLive)),
        },
        "unregistrationRequest" => RasMsg::Urq {
            call_signal_address: list(Tag::CallSignalAddress),
        },
        "admissionRequest" => RasMsg::Arq {
            dest_call_signal_address: a(Tag::DestCallSignalAddress),
            src_call_signal_address: a(Tag::SrcCallSignalAddress),
        },
        "admissionConfirm" => RasMsg::Acf {
            dest_call_signal_address: a(Tag::DestCallSignalAddress),
        },
        "locationRequest" => RasMsg::Lrq {
            reply_address: a(Tag::ReplyAddress),
        },
        "locationConfirm" => RasMsg::Lcf {
            call_signal_address: a(Tag::CallSignalAddress),
            ras_address: a(Tag::RasAddress),
        },
        "infoRequestResponse" => RasMsg::Irr {
            ras_address: a(Tag::RasAddress),
            call_signal_address: list(Tag::CallSignalAddress),
        },
        _ => RasMsg::Other,
    };
    Ok(Ras { name, msg })
}

pub(crate) fn build_uuie(
    buf: &[u8],
    caps: &Caps,
    message_type: u8,
    off: usize,
    len: usize,
) -> Result<Q931> {
    let root = 1;
    let (b, _) = caps.child(root, Tag::Body).ok_or(Error::Range)?;
    let body_name = choice_name(caps, b);
    let a = |t| addr_of(buf, caps, b, t);
    let fast = || -> Result<Vec<H245Olc>> {
        caps.children(b)
            .filter(|(_, c)| c.tag == Tag::FastStart)
            .map(|(j, _)| {
                let (o, _) = caps.child(j, Tag::Root).ok_or(Error::Range)?;
                olc(buf, caps, o, true)
            })
            .collect()
    };
    let signal = || -> Result<Signal> {
        Ok(Signal {
            h245_address: a(Tag::H245Address),
            fast_start: fast()?,
        })
    };
    let body = match body_name {
        "setup" => Body::Setup {
            h245_address: a(Tag::H245Address),
            dest_call_signal_address: a(Tag::DestCallSignalAddress),
            source_call_signal_address: a(Tag::SourceCallSignalAddress),
            fast_start: fast()?,
        },
        "callProceeding" => Body::CallProceeding(signal()?),
        "connect" => Body::Connect(signal()?),
        "alerting" => Body::Alerting(signal()?),
        "progress" => Body::Progress(signal()?),
        "facility" => Body::Facility {
            reason: caps
                .child(b, Tag::FacilityReason)
                .map_or("unknown", |(j, _)| choice_name(caps, j)),
            alternative_address: a(Tag::AlternativeAddress),
            h245_address: a(Tag::H245Address),
            fast_start: fast()?,
        },
        _ => Body::Other,
    };
    let h245_control = caps
        .children(root)
        .filter(|(_, c)| c.tag == Tag::H245Control)
        .map(|(j, _)| {
            let (m, _) = caps.child(j, Tag::Root).ok_or(Error::Range)?;
            h245_at(buf, caps, m)
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Q931 {
        message_type,
        uuie_offset: off,
        uuie_len: len,
        body_name,
        body,
        h245_tunnelling: bool_of(caps, root, Tag::H245Tunnelling),
        h245_control,
    })
}

pub(crate) fn build_h245(buf: &[u8], caps: &Caps) -> Result<H245> {
    h245_at(buf, caps, 1)
}

/// The H.245 message recorded at `i` (the decoded message, or the content
/// of an h245Control element): a MultimediaSystemControlMessage choice.
fn h245_at(buf: &[u8], caps: &Caps, i: usize) -> Result<H245> {
    let kind = choice_name(caps, i);
    if let Some((j, _)) = caps.child(i, Tag::Request) {
        let name = choice_name(caps, j);
        if name == "openLogicalChannel" {
            return Ok(H245::OpenLogicalChannel(olc(buf, caps, j, false)?));
        }
        return Ok(H245::Other {
            kind: "request",
            name,
        });
    }
    if let Some((j, _)) = caps.child(i, Tag::Response) {
        let name = choice_name(caps, j);
        if name == "openLogicalChannelAck" {
            return Ok(H245::OpenLogicalChannelAck(olc_ack(buf, caps, j)?));
        }
        return Ok(H245::Other {
            kind: "response",
            name,
        });
    }
    Ok(H245::Other {
        kind,
        name: "other",
    })
}

fn lcn(caps: &Caps, i: usize, tag: Tag) -> Result<u16> {
    int_of(caps, i, tag)
        .and_then(|v| u16::try_from(v).ok())
        .ok_or(Error::Range)
}

fn media_of(caps: &Caps, params: usize) -> Media {
    let Some((d, _)) = caps.child(params, Tag::DataType) else {
        return Media::Unknown;
    };
    match choice_name(caps, d) {
        "audioData" => Media::Audio,
        "videoData" => Media::Video,
        "data" => {
            let t120 = caps
                .child(d, Tag::DataApplication)
                .filter(|(j, _)| choice_name(caps, *j) == "t120")
                .and_then(|(j, _)| caps.child(j, Tag::T120))
                .is_some_and(|(k, _)| choice_name(caps, k) == "separateLANStack");
            Media::Data {
                t120_separate_lan_stack: t120,
            }
        }
        _ => Media::Other,
    }
}

fn h2250_of(buf: &[u8], caps: &Caps, params: usize) -> Option<H2250> {
    let (h, _) = caps.child(params, Tag::H2250)?;
    Some(H2250 {
        session_id: int_of(caps, h, Tag::SessionId).and_then(|v| u8::try_from(v).ok()),
        media_channel: addr_of(buf, caps, h, Tag::MediaChannel),
        media_control_channel: addr_of(buf, caps, h, Tag::MediaControlChannel),
    })
}

fn separate_stack(buf: &[u8], caps: &Caps, i: usize) -> Option<Addr> {
    let (s, _) = caps.child(i, Tag::SeparateStack)?;
    let (n, _) = caps.child(s, Tag::NetworkAddress)?;
    addr_of(buf, caps, n, Tag::LocalAreaAddress)
}

fn olc(buf: &[u8], caps: &Caps, i: usize, fast_start: bool) -> Result<H245Olc> {
    let (f, _) = caps.child(i, Tag::Forward).ok_or(Error::Range)?;
    let reverse = caps.child(i, Tag::Reverse).map(|(r, _)| LcParams {
        media: media_of(caps, r),
        h2250: h2250_of(buf, caps, r),
    });
    Ok(H245Olc {
        forward_lcn: lcn(caps, i, Tag::ForwardLcn)?,
        forward: LcParams {
            media: media_of(caps, f),
            h2250: h2250_of(buf, caps, f),
        },
        reverse,
        separate_stack: separate_stack(buf, caps, i),
        fast_start,
    })
}

fn olc_ack(buf: &[u8], caps: &Caps, i: usize) -> Result<H245OlcAck> {
    let reverse = match caps.child(i, Tag::Reverse) {
        Some((r, _)) => Some((lcn(caps, r, Tag::ReverseLcn)?, h2250_of(buf, caps, r))),
        None => None,
    };
    Ok(H245OlcAck {
        forward_lcn: lcn(caps, i, Tag::ForwardLcn)?,
        reverse,
        separate_stack: separate_stack(buf, caps, i),
        forward_ack: h2250_of(buf, caps, i),
    })
}
