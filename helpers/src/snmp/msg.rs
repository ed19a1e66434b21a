//! The SNMP message: what [`decode`] reads from a UDP payload.
//!
//! ```text
//! v1/v2c (RFC 1157, 1901, 3416)            v3 (RFC 3412)
//! Message ::= SEQUENCE {                   SEQUENCE {
//!   version   INTEGER (0 | 1),               msgVersion INTEGER (3),
//!   community OCTET STRING,                  ...        -- not read
//!   data      PDUs }                       }
//! PDU ::= [0|1|2|3|5|6|7|8] IMPLICIT SEQUENCE {
//!   request-id INTEGER, error-status INTEGER, error-index INTEGER,
//!   variable-bindings SEQUENCE OF SEQUENCE { name OBJECT IDENTIFIER, value ANY } }
//! Trap-PDU ::= [4] IMPLICIT SEQUENCE {      -- v1 only
//!   enterprise OBJECT IDENTIFIER, agent-addr NetworkAddress,
//!   generic-trap INTEGER, specific-trap INTEGER, time-stamp TimeTicks,
//!   variable-bindings ... }
//! IpAddress ::= [APPLICATION 0] IMPLICIT OCTET STRING (SIZE (4))
//! ```
//!
//! Strict where the structure is fixed: every container has exactly its
//! fields with their tags, nothing after the last field inside a
//! container, INTEGERs of 1 to 8 octets. Lenient where SNMP is open: the
//! community and the OIDs are taken as they are, a varbind value of any
//! type is accepted and skipped whole (Opaque is not looked into). An
//! `[APPLICATION 0]` value that is not 4 primitive octets is an error: it
//! is an IpAddress that cannot be translated. Octets after the message's
//! SEQUENCE are ignored, as the kernel ignores them
//! ([`Message::trailing`]). SNMPv3 is recognised by its msgVersion and not
//! read further.
//!
//! While decoding, [`Message::kernel_reject`] records the first thing the
//! kernel's decoder (`nf_nat_snmp_basic.asn1` run by `asn1_ber_decoder()`)
//! fails on, so that the helper can tell where the kernel would have
//! dropped the packet.

use super::ber::{self, BerError, Class, Reader, Tag, Tlv};
use std::fmt;
use std::net::Ipv4Addr;

/// The SNMP version of a message (the `version` / `msgVersion` INTEGER).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Version {
    /// 0
    V1,
    /// 1
    V2c,
    /// 3
    V3,
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Version::V1 => "v1",
            Version::V2c => "v2c",
            Version::V3 => "v3",
        })
    }
}

/// The PDU type: the context-specific tag number of the PDU.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PduType {
    /// `[0]` GetRequest-PDU
    Get,
    /// `[1]` GetNextRequest-PDU
    GetNext,
    /// `[2]` Response-PDU (v1 GetResponse-PDU)
    Response,
    /// `[3]` SetRequest-PDU
    Set,
    /// `[4]` Trap-PDU of SNMPv1
    TrapV1,
    /// `[5]` GetBulkRequest-PDU
    GetBulk,
    /// `[6]` InformRequest-PDU
    Inform,
    /// `[7]` SNMPv2-Trap-PDU
    TrapV2,
    /// `[8]` Report-PDU
    Report,
}

impl PduType {
    /// The type with this context-specific tag number.
    pub fn from_number(n: u32) -> Option<Self> {
        Some(match n {
            0 => PduType::Get,
            1 => PduType::GetNext,
            2 => PduType::Response,
            3 => PduType::Set,
            4 => PduType::TrapV1,
            5 => PduType::GetBulk,
            6 => PduType::Inform,
            7 => PduType::TrapV2,
            8 => PduType::Report,
            _ => return None,
        })
    }
    /// Its context-specific tag number.
    pub fn number(self) -> u32 {
        match self {
            PduType::Get => 0,
            PduType::GetNext => 1,
            PduType::Response => 2,
            PduType::Set => 3,
            PduType::TrapV1 => 4,
            PduType::GetBulk => 5,
            PduType::Inform => 6,
            PduType::TrapV2 => 7,
            PduType::Report => 8,
        }
    }
}

impl fmt::Display for PduType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PduType::Get => "get-request",
            PduType::GetNext => "get-next-request",
            PduType::Response => "response",
            PduType::Set => "set-request",
            PduType::TrapV1 => "trap (v1)",
            PduType::GetBulk => "get-bulk-request",
            PduType::Inform => "inform-request",
            PduType::TrapV2 => "snmpV2-trap",
            PduType::Report => "report",
        })
    }
}

/// The content octets of an OBJECT IDENTIFIER, as received.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Oid<'a>(pub &'a [u8]);

impl Oid<'_> {
    /// The arcs, if the encoding is well formed (at least one sub-identifier,
    /// the last one complete, each below 2^64).
    pub fn arcs(&self) -> Option<Vec<u64>> {
        let mut out = Vec::new();
        let mut v = 0u64;
        let mut open = false;
        for &b in self.0 {
            if v >> 57 != 0 {
                return None;
            }
            v = (v << 7) | u64::from(b & 0x7F);
            open = b & 0x80 != 0;
            if !open {
                if out.is_empty() {
                    let first = (v / 40).min(2);
                    out.push(first);
                    out.push(v - first * 40);
                } else {
                    out.push(v);
                }
                v = 0;
            }
        }
        (!open && !out.is_empty()).then_some(out)
    }
}

impl fmt::Display for Oid<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.arcs() {
            Some(arcs) => {
                for (i, a) in arcs.iter().enumerate() {
                    if i > 0 {
                        f.write_str(".")?;
                    }
                    write!(f, "{a}")?;
                }
                Ok(())
            }
            None => {
                f.write_str("<malformed OID")?;
                for b in self.0.iter().take(16) {
                    write!(f, " {b:02x}")?;
                }
                f.write_str(">")
            }
        }
    }
}

impl fmt::Debug for Oid<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Oid({self})")
    }
}

/// One variable binding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VarBind<'a> {
    /// Offset of the VarBind's SEQUENCE.
    pub at: usize,
    pub name: Oid<'a>,
    /// The value element, whatever its type.
    pub value: Tlv<'a>,
}

impl VarBind<'_> {
    /// The value, if it is an IpAddress (`[APPLICATION 0]`, 4 octets).
    pub fn ip_address(&self) -> Option<Ipv4Addr> {
        if self.value.tag != IP_ADDRESS {
            return None;
        }
        <[u8; 4]>::try_from(self.value.content)
            .ok()
            .map(Ipv4Addr::from)
    }
}

/// The fields of an SNMPv1 Trap-PDU before its variable bindings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TrapV1<'a> {
    pub enterprise: Oid<'a>,
    pub agent_addr: Ipv4Addr,
    /// Offset of the 4 address octets.
    pub agent_addr_at: usize,
    /// `[APPLICATION 0]`, or OCTET STRING (which some agents send and the
    /// kernel before 4.16 took too).
    pub agent_addr_tag: Tag,
    pub generic_trap: i64,
    pub specific_trap: i64,
    /// TimeTicks (or a plain INTEGER, which the kernel before 4.16 took too).
    pub time_stamp: i64,
}

/// What comes before the variable bindings of a PDU.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PduHeader<'a> {
    /// Every PDU but the v1 trap. In a GetBulk, `error_status` is
    /// non-repeaters and `error_index` max-repetitions.
    Request {
        request_id: i64,
        error_status: i64,
        error_index: i64,
    },
    TrapV1(TrapV1<'a>),
}

/// A v1/v2c PDU.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pdu<'a> {
    pub kind: PduType,
    /// Offset of the PDU's tag.
    pub at: usize,
    pub header: PduHeader<'a>,
    pub varbinds: Vec<VarBind<'a>>,
}

impl<'a> Pdu<'a> {
    /// The request-id (none in a v1 trap).
    pub fn request_id(&self) -> Option<i64> {
        match self.header {
            PduHeader::Request { request_id, .. } => Some(request_id),
            PduHeader::TrapV1(_) => None,
        }
    }
    /// The v1 trap fields.
    pub fn trap(&self) -> Option<&TrapV1<'a>> {
        match &self.header {
            PduHeader::TrapV1(t) => Some(t),
            PduHeader::Request { .. } => None,
        }
    }
}

/// What follows the version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Body<'a> {
    /// v1 and v2c.
    Community { community: &'a [u8], pdu: Pdu<'a> },
    /// v3: recognised by msgVersion 3, not read further.
    V3,
}

/// Where an IpAddress value is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place<'a> {
    /// The agent-addr of a v1 Trap-PDU.
    AgentAddr,
    /// The value of variable binding `index` (from 0).
    VarBind { index: usize, name: Oid<'a> },
}

impl fmt::Display for Place<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Place::AgentAddr => f.write_str("agent-addr"),
            Place::VarBind { index, name } => write!(f, "varbind {index} ({name})"),
        }
    }
}

/// One IpAddress value of a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpAddressAt<'a> {
    /// Offset of the 4 address octets in the payload.
    pub offset: usize,
    pub addr: Ipv4Addr,
    pub place: Place<'a>,
}

/// A decoded SNMP message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message<'a> {
    pub version: Version,
    pub body: Body<'a>,
    /// Octets after the message's SEQUENCE (ignored).
    pub trailing: usize,
    /// The first thing the kernel's decoder fails on, if any: under NAT,
    /// `nf_nat_snmp_basic` drops this message.
    pub kernel_reject: Option<KernelReject>,
}

impl<'a> Message<'a> {
    /// The PDU of a v1/v2c message.
    pub fn pdu(&self) -> Option<&Pdu<'a>> {
        match &self.body {
            Body::Community { pdu, .. } => Some(pdu),
            Body::V3 => None,
        }
    }
    /// The community of a v1/v2c message.
    pub fn community(&self) -> Option<&'a [u8]> {
        match self.body {
            Body::Community { community, .. } => Some(community),
            Body::V3 => None,
        }
    }
    /// Every IpAddress value, in payload order: the v1 trap's agent-addr,
    /// then the varbinds'. None for v3.
    pub fn addresses(&self) -> Vec<IpAddressAt<'a>> {
        let Some(pdu) = self.pdu() else {
            return Vec::new();
        };
        let agent = pdu.trap().map(|t| IpAddressAt {
            offset: t.agent_addr_at,
            addr: t.agent_addr,
            place: Place::AgentAddr,
        });
        let vars = pdu.varbinds.iter().enumerate().filter_map(|(index, vb)| {
            vb.ip_address().map(|addr| IpAddressAt {
                offset: vb.value.content_at(),
                addr,
                place: Place::VarBind {
                    index,
                    name: vb.name,
                },
            })
        });
        agent.into_iter().chain(vars).collect()
    }
}

/// Why the kernel's `nf_nat_snmp_basic` (since 4.16: the
/// `nf_nat_snmp_basic.asn1` grammar run by `asn1_ber_decoder()`) fails on a
/// message that we decode. Its `snmp_translate()` then returns `NF_DROP`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KernelReject {
    /// `snmp_version()`: the version INTEGER is not exactly one octet
    /// (`-EINVAL`).
    VersionLength,
    /// `snmp_version()`: a version above 1 — SNMPv3 (`-ENOTSUPP`).
    Version(i64),
    /// The grammar's `PDUs` CHOICE has no `[4]`: an SNMPv1 Trap-PDU is an
    /// "Unexpected tag".
    TrapV1,
    /// A varbind value of a type outside the grammar's `ObjectSyntax`
    /// (INTEGER, OCTET STRING, OBJECT IDENTIFIER, `[APPLICATION 0 1 2 3 4
    /// 6]`) and NULL / `[0] [1] [2]`, e.g. BIT STRING or `[APPLICATION 5]`,
    /// or one of those constructed: "Unexpected tag".
    ValueType { index: usize, tag: Tag },
    /// An identifier in the high-tag-number form: "Long tag not supported".
    LongTag { at: usize },
    /// More than 2 length octets: "Unsupported length".
    LongLength { at: usize },
    /// A long-form length with no content, ending its container: the
    /// decoder wants an octet after the length octets ("Data overrun
    /// error").
    LengthAtEnd { at: usize },
}

impl fmt::Display for KernelReject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KernelReject::VersionLength => f.write_str("version is not one octet"),
            KernelReject::Version(v) => write!(f, "version {v} (only 0 and 1)"),
            KernelReject::TrapV1 => f.write_str("v1 Trap-PDU not in its grammar"),
            KernelReject::ValueType { index, tag } => {
                write!(f, "varbind {index}: value type {tag} not in its grammar")
            }
            KernelReject::LongTag { at } => write!(f, "high tag number at {at}"),
            KernelReject::LongLength { at } => write!(f, "more than 2 length octets at {at}"),
            KernelReject::LengthAtEnd { at } => {
                write!(f, "empty long-form element at {at} ends its container")
            }
        }
    }
}

/// The part of the message a [`DecodeError`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Message,
    Version,
    Community,
    Pdu,
    RequestId,
    ErrorStatus,
    ErrorIndex,
    Enterprise,
    AgentAddr,
    GenericTrap,
    SpecificTrap,
    TimeStamp,
    VarBindList,
    VarBind(usize),
    Name(usize),
    Value(usize),
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Field::Message => f.write_str("message"),
            Field::Version => f.write_str("version"),
            Field::Community => f.write_str("community"),
            Field::Pdu => f.write_str("PDU"),
            Field::RequestId => f.write_str("request-id"),
            Field::ErrorStatus => f.write_str("error-status"),
            Field::ErrorIndex => f.write_str("error-index"),
            Field::Enterprise => f.write_str("enterprise"),
            Field::AgentAddr => f.write_str("agent-addr"),
            Field::GenericTrap => f.write_str("generic-trap"),
            Field::SpecificTrap => f.write_str("specific-trap"),
            Field::TimeStamp => f.write_str("time-stamp"),
            Field::VarBindList => f.write_str("variable-bindings"),
            Field::VarBind(i) => write!(f, "varbind {i}"),
            Field::Name(i) => write!(f, "varbind {i} name"),
            Field::Value(i) => write!(f, "varbind {i} value"),
        }
    }
}

/// What was wrong with a [`Field`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Its element could not be read.
    Ber(BerError),
    /// Its container ended before it.
    Missing,
    /// It has this tag, which is not the one it must have.
    Tag(Tag),
    /// An INTEGER of no octets or more than 8.
    Integer,
    /// A version other than 0 (v1), 1 (v2c) or 3 (v3).
    Version(i64),
    /// An IpAddress (`[APPLICATION 0]` value, or agent-addr) that is not 4
    /// primitive octets.
    IpAddress { len: usize, constructed: bool },
    /// Octets after its last field, inside it.
    Trailing { len: usize },
}

/// A message that does not decode: which field, where, what.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodeError {
    pub field: Field,
    /// Offset in the payload.
    pub at: usize,
    pub kind: ErrorKind,
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (at {}): ", self.field, self.at)?;
        match self.kind {
            ErrorKind::Ber(e) => write!(f, "{e}"),
            ErrorKind::Missing => f.write_str("missing"),
            ErrorKind::Tag(t) => write!(f, "unexpected {t}"),
            ErrorKind::Integer => f.write_str("INTEGER of no or more than 8 octets"),
            ErrorKind::Version(v) => write!(f, "unknown version {v}"),
            ErrorKind::IpAddress { len, constructed } => write!(
                f,
                "IpAddress of {len} octets{}, not 4",
                if constructed { ", constructed" } else { "" }
            ),
            ErrorKind::Trailing { len } => write!(f, "{len} octets after the last field"),
        }
    }
}

impl std::error::Error for DecodeError {}

/// IpAddress: `[APPLICATION 0]` primitive.
pub const IP_ADDRESS: Tag = Tag::application(0);
/// TimeTicks: `[APPLICATION 3]` primitive.
pub const TIME_TICKS: Tag = Tag::application(3);

/// The identifier octets the kernel's grammar takes for a varbind value:
/// INTEGER, OCTET STRING, NULL, OBJECT IDENTIFIER, IpAddress, Counter32,
/// Unsigned32/Gauge32, TimeTicks, Opaque, Counter64, noSuchObject,
/// noSuchInstance, endOfMibView.
const KERNEL_VALUE_TAGS: [u8; 13] = [
    0x02, 0x04, 0x05, 0x06, 0x40, 0x41, 0x42, 0x43, 0x44, 0x46, 0x80, 0x81, 0x82,
];

/// Decodes the SNMP message at the start of a UDP payload.
pub fn decode(payload: &[u8]) -> Result<Message<'_>, DecodeError> {
    let mut d = Decoder { kernel: None };
    let mut top = Reader::new(payload);
    let seq = d.expect(&mut top, Field::Message, Tag::SEQUENCE)?;
    let trailing = top.rest().len();
    let mut m = enter(&top, &seq, Field::Message)?;

    let v = d.expect(&mut m, Field::Version, Tag::INTEGER)?;
    let n = int(&v, Field::Version)?;
    if v.content.len() != 1 {
        d.note(KernelReject::VersionLength);
    }
    if n > 1 {
        d.note(KernelReject::Version(n));
    }
    let version = match n {
        0 => Version::V1,
        1 => Version::V2c,
        3 => Version::V3,
        _ => return Err(err(Field::Version, v.at, ErrorKind::Version(n))),
    };
    if version == Version::V3 {
        return Ok(Message {
            version,
            body: Body::V3,
            trailing,
            kernel_reject: d.kernel,
        });
    }

    let community = d.expect(&mut m, Field::Community, Tag::OCTET_STRING)?;
    let pdu = d.pdu(&mut m)?;
    done(&m, Field::Message)?;
    Ok(Message {
        version,
        body: Body::Community {
            community: community.content,
            pdu,
        },
        trailing,
        kernel_reject: d.kernel,
    })
}

struct Decoder {
    kernel: Option<KernelReject>,
}

impl Decoder {
    fn note(&mut self, why: KernelReject) {
        self.kernel.get_or_insert(why);
    }

    /// The next element of `r`, for `field`.
    fn read<'a>(&mut self, r: &mut Reader<'a>, field: Field) -> Result<Tlv<'a>, DecodeError> {
        let at = r.pos();
        let t = r.read().map_err(|e| match e {
            BerError::Empty { .. } => err(field, at, ErrorKind::Missing),
            e => err(field, e.at(), ErrorKind::Ber(e)),
        })?;
        // What asn1_ber_decoder() refuses in any element it reads.
        if t.tag.number >= 0x1F {
            self.note(KernelReject::LongTag { at: t.at });
        }
        if t.len_octets > 2 {
            self.note(KernelReject::LongLength { at: t.at });
        }
        if t.len_octets > 0 && t.content.is_empty() && t.end() == r.end() {
            self.note(KernelReject::LengthAtEnd { at: t.at });
        }
        Ok(t)
    }

    /// The next element of `r`, which must have the tag `tag`.
    fn expect<'a>(
        &mut self,
        r: &mut Reader<'a>,
        field: Field,
        tag: Tag,
    ) -> Result<Tlv<'a>, DecodeError> {
        let t = self.read(r, field)?;
        if t.tag != tag {
            return Err(err(field, t.at, ErrorKind::Tag(t.tag)));
        }
        Ok(t)
    }

    fn integer(&mut self, r: &mut Reader<'_>, field: Field) -> Result<i64, DecodeError> {
        let t = self.expect(r, field, Tag::INTEGER)?;
        int(&t, field)
    }

    fn pdu<'a>(&mut self, m: &mut Reader<'a>) -> Result<Pdu<'a>, DecodeError> {
        let t = self.read(m, Field::Pdu)?;
        let kind = (t.tag.class == Class::Context && t.tag.constructed)
            .then(|| PduType::from_number(t.tag.number))
            .flatten()
            .ok_or(err(Field::Pdu, t.at, ErrorKind::Tag(t.tag)))?;
        let mut p = enter(m, &t, Field::Pdu)?;
        let header = if kind == PduType::TrapV1 {
            self.note(KernelReject::TrapV1);
            PduHeader::TrapV1(self.trap(&mut p)?)
        } else {
            PduHeader::Request {
                request_id: self.integer(&mut p, Field::RequestId)?,
                error_status: self.integer(&mut p, Field::ErrorStatus)?,
                error_index: self.integer(&mut p, Field::ErrorIndex)?,
            }
        };
        let list = self.expect(&mut p, Field::VarBindList, Tag::SEQUENCE)?;
        done(&p, Field::Pdu)?;
        let mut l = enter(&p, &list, Field::VarBindList)?;
        let mut varbinds = Vec::new();
        while !l.is_empty() {
            let i = varbinds.len();
            varbinds.push(self.varbind(&mut l, i)?);
        }
        Ok(Pdu {
            kind,
            at: t.at,
            header,
            varbinds,
        })
    }

    fn trap<'a>(&mut self, p: &mut Reader<'a>) -> Result<TrapV1<'a>, DecodeError> {
        let enterprise = Oid(self.expect(p, Field::Enterprise, Tag::OID)?.content);
        let a = self.read(p, Field::AgentAddr)?;
        let app0 = a.tag.class == Class::Application && a.tag.number == 0;
        let string = a.tag.class == Class::Universal && a.tag.number == 4;
        if !app0 && !string {
            return Err(err(Field::AgentAddr, a.at, ErrorKind::Tag(a.tag)));
        }
        let agent_addr = ip_content(&a, Field::AgentAddr)?;
        let generic_trap = self.integer(p, Field::GenericTrap)?;
        let specific_trap = self.integer(p, Field::SpecificTrap)?;
        let ts = self.read(p, Field::TimeStamp)?;
        if ts.tag != TIME_TICKS && ts.tag != Tag::INTEGER {
            return Err(err(Field::TimeStamp, ts.at, ErrorKind::Tag(ts.tag)));
        }
        Ok(TrapV1 {
            enterprise,
            agent_addr,
            agent_addr_at: a.content_at(),
            agent_addr_tag: a.tag,
            generic_trap,
            specific_trap,
            time_stamp: int(&ts, Field::TimeStamp)?,
        })
    }

    fn varbind<'a>(&mut self, l: &mut Reader<'a>, i: usize) -> Result<VarBind<'a>, DecodeError> {
        let vb = self.expect(l, Field::VarBind(i), Tag::SEQUENCE)?;
        let mut b = enter(l, &vb, Field::VarBind(i))?;
        let name = Oid(self.expect(&mut b, Field::Name(i), Tag::OID)?.content);
        let value = self.read(&mut b, Field::Value(i))?;
        done(&b, Field::VarBind(i))?;
        if value.tag.class == Class::Application && value.tag.number == 0 {
            ip_content(&value, Field::Value(i))?;
        }
        if !value
            .tag
            .octet()
            .is_some_and(|o| KERNEL_VALUE_TAGS.contains(&o))
        {
            self.note(KernelReject::ValueType {
                index: i,
                tag: value.tag,
            });
        }
        Ok(VarBind {
            at: vb.at,
            name,
            value,
        })
    }
}

fn err(field: Field, at: usize, kind: ErrorKind) -> DecodeError {
    DecodeError { field, at, kind }
}

fn enter<'a>(r: &Reader<'a>, t: &Tlv<'a>, field: Field) -> Result<Reader<'a>, DecodeError> {
    r.enter(t)
        .map_err(|e| err(field, e.at(), ErrorKind::Ber(e)))
}

/// `r` (the content of `field`) has been read to its end.
fn done(r: &Reader<'_>, field: Field) -> Result<(), DecodeError> {
    match r.rest().len() {
        0 => Ok(()),
        len => Err(err(field, r.pos(), ErrorKind::Trailing { len })),
    }
}

fn int(t: &Tlv<'_>, field: Field) -> Result<i64, DecodeError> {
    ber::integer(t.content).ok_or(err(field, t.at, ErrorKind::Integer))
}

/// The address in an IpAddress element: 4 primitive octets.
fn ip_content(t: &Tlv<'_>, field: Field) -> Result<Ipv4Addr, DecodeError> {
    <[u8; 4]>::try_from(t.content)
        .ok()
        .filter(|_| !t.tag.constructed)
        .map(Ipv4Addr::from)
        .ok_or(err(
            field,
            t.at,
            ErrorKind::IpAddress {
                len: t.content.len(),
                constructed: t.tag.constructed,
            },
        ))
}
