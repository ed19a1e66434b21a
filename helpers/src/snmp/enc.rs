//! A small BER/SNMP encoder for the tests: builds messages from a model,
//! with a choice of length forms, and remembers where it put every
//! IpAddress. Independent of the decoder.

/// How to write a length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    /// The shortest form.
    Minimal,
    /// Long form with this many length octets (at least what the length
    /// needs; leading zeros otherwise).
    Long(usize),
}

/// Encoded bytes and the offsets of the IpAddress contents in them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Enc {
    pub bytes: Vec<u8>,
    /// (offset of the 4 octets, address, agent-addr?)
    pub ips: Vec<(usize, [u8; 4], bool)>,
}

pub fn header(tag: u8, len: usize, form: Form) -> Vec<u8> {
    let need = (usize::BITS - len.leading_zeros()).div_ceil(8) as usize;
    let mut v = vec![tag];
    match form {
        Form::Minimal if len < 0x80 => v.push(len as u8),
        Form::Minimal => {
            v.push(0x80 | need as u8);
            v.extend_from_slice(&len.to_be_bytes()[8 - need..]);
        }
        Form::Long(n) => {
            let n = n.max(need).max(1);
            v.push(0x80 | n as u8);
            let mut be = vec![0u8; n.saturating_sub(8)];
            be.extend_from_slice(&len.to_be_bytes()[8 - n.min(8)..]);
            v.extend_from_slice(&be);
        }
    }
    v
}

impl Enc {
    pub fn prim(tag: u8, content: &[u8], form: Form) -> Enc {
        let mut bytes = header(tag, content.len(), form);
        bytes.extend_from_slice(content);
        Enc {
            bytes,
            ips: Vec::new(),
        }
    }
    pub fn ip(tag: u8, addr: [u8; 4], form: Form, agent: bool) -> Enc {
        let mut e = Enc::prim(tag, &addr, form);
        e.ips.push((e.bytes.len() - 4, addr, agent));
        e
    }
    pub fn cons(tag: u8, parts: Vec<Enc>, form: Form) -> Enc {
        let len: usize = parts.iter().map(|p| p.bytes.len()).sum();
        let mut bytes = header(tag, len, form);
        let mut ips = Vec::new();
        for p in parts {
            let base = bytes.len();
            ips.extend(p.ips.iter().map(|&(o, a, g)| (o + base, a, g)));
            bytes.extend_from_slice(&p.bytes);
        }
        Enc { bytes, ips }
    }
}

/// Minimal two's complement content of an INTEGER.
pub fn int_content(v: i64) -> Vec<u8> {
    let b = v.to_be_bytes();
    let mut start = 0;
    while start < 7 {
        let (x, y) = (b[start], b[start + 1]);
        if (x == 0 && y & 0x80 == 0) || (x == 0xFF && y & 0x80 != 0) {
            start += 1;
        } else {
            break;
        }
    }
    b[start..].to_vec()
}

/// Unsigned content (Counter32, Gauge32, TimeTicks, Counter64).
pub fn uint_content(v: u64) -> Vec<u8> {
    let mut c = v.to_be_bytes().to_vec();
    while c.len() > 1 && c[0] == 0 && c[1] & 0x80 == 0 {
        c.remove(0);
    }
    if c[0] & 0x80 != 0 {
        c.insert(0, 0);
    }
    c
}

pub fn oid_content(arcs: &[u64]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut sub = vec![arcs[0] * 40 + arcs.get(1).copied().unwrap_or(0)];
    sub.extend_from_slice(arcs.get(2..).unwrap_or(&[]));
    for mut v in sub {
        let mut tmp = vec![(v & 0x7F) as u8];
        v >>= 7;
        while v > 0 {
            tmp.push(0x80 | (v & 0x7F) as u8);
            v >>= 7;
        }
        tmp.reverse();
        out.extend(tmp);
    }
    out
}

/// A varbind value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Int(i64),
    Str(Vec<u8>),
    Null,
    Oid(Vec<u64>),
    Ip([u8; 4]),
    Counter(u32),
    Gauge(u32),
    Ticks(u32),
    Opaque(Vec<u8>),
    Counter64(u64),
    NoSuchObject,
    NoSuchInstance,
    EndOfMibView,
}

impl Value {
    fn enc(&self, form: Form) -> Enc {
        match self {
            Value::Int(v) => Enc::prim(0x02, &int_content(*v), form),
            Value::Str(s) => Enc::prim(0x04, s, form),
            Value::Null => Enc::prim(0x05, &[], form),
            Value::Oid(a) => Enc::prim(0x06, &oid_content(a), form),
            Value::Ip(a) => Enc::ip(0x40, *a, form, false),
            Value::Counter(v) => Enc::prim(0x41, &uint_content((*v).into()), form),
            Value::Gauge(v) => Enc::prim(0x42, &uint_content((*v).into()), form),
            Value::Ticks(v) => Enc::prim(0x43, &uint_content((*v).into()), form),
            Value::Opaque(s) => Enc::prim(0x44, s, form),
            Value::Counter64(v) => Enc::prim(0x46, &uint_content(*v), form),
            Value::NoSuchObject => Enc::prim(0x80, &[], form),
            Value::NoSuchInstance => Enc::prim(0x81, &[], form),
            Value::EndOfMibView => Enc::prim(0x82, &[], form),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trap {
    pub enterprise: Vec<u64>,
    pub agent: [u8; 4],
    pub generic: i64,
    pub specific: i64,
    pub ticks: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Model {
    /// 0 (v1) or 1 (v2c).
    pub version: i64,
    pub community: Vec<u8>,
    /// PDU tag number 0..=8; 4 uses `trap`.
    pub pdu: u32,
    pub request_id: i64,
    pub error_status: i64,
    pub error_index: i64,
    pub trap: Trap,
    pub varbinds: Vec<(Vec<u64>, Value)>,
}

impl Model {
    /// A v2c message of PDU type `pdu` with these varbinds.
    pub fn new(version: i64, pdu: u32, varbinds: Vec<(Vec<u64>, Value)>) -> Model {
        Model {
            version,
            community: b"public".to_vec(),
            pdu,
            request_id: 0x1234,
            error_status: 0,
            error_index: 0,
            trap: Trap {
                enterprise: vec![1, 3, 6, 1, 4, 1, 8072, 3, 2, 10],
                agent: [10, 0, 0, 5],
                generic: 6,
                specific: 1,
                ticks: 12345,
            },
            varbinds,
        }
    }

    /// The encoding, each element's length written in the form `forms`
    /// gives next (cycling; empty: minimal).
    pub fn encode(&self, forms: &[Form]) -> Enc {
        let mut i = 0usize;
        let mut f = || {
            let x = forms.get(i % forms.len().max(1)).copied();
            i += 1;
            x.unwrap_or(Form::Minimal)
        };
        let mut vbs = Vec::new();
        for (oid, v) in &self.varbinds {
            let name = Enc::prim(0x06, &oid_content(oid), f());
            let value = v.enc(f());
            vbs.push(Enc::cons(0x30, vec![name, value], f()));
        }
        let list = Enc::cons(0x30, vbs, f());
        let head = if self.pdu == 4 {
            let t = &self.trap;
            vec![
                Enc::prim(0x06, &oid_content(&t.enterprise), f()),
                Enc::ip(0x40, t.agent, f(), true),
                Enc::prim(0x02, &int_content(t.generic), f()),
                Enc::prim(0x02, &int_content(t.specific), f()),
                Enc::prim(0x43, &uint_content(t.ticks.into()), f()),
            ]
        } else {
            vec![
                Enc::prim(0x02, &int_content(self.request_id), f()),
                Enc::prim(0x02, &int_content(self.error_status), f()),
                Enc::prim(0x02, &int_content(self.error_index), f()),
            ]
        };
        let mut parts = head;
        parts.push(list);
        let pdu = Enc::cons(0xA0 | self.pdu as u8, parts, f());
        let version = Enc::prim(0x02, &int_content(self.version), f());
        let community = Enc::prim(0x04, &self.community, f());
        Enc::cons(0x30, vec![version, community, pdu], f())
    }
}
