//! A small BER writer for the SNMP helper's tests: SNMP v1/v2c messages
//! from parts, with the offset of every IpAddress it wrote. Independent of
//! the decoder under test (minimal lengths only).

use std::net::Ipv4Addr;

/// Identifier octets used here.
pub const INTEGER: u8 = 0x02;
pub const OCTET_STRING: u8 = 0x04;
pub const NULL: u8 = 0x05;
pub const OID: u8 = 0x06;
pub const SEQUENCE: u8 = 0x30;
pub const IP_ADDRESS: u8 = 0x40;
pub const TIME_TICKS: u8 = 0x43;

/// PDU tags.
pub const GET: u8 = 0xA0;
pub const GET_NEXT: u8 = 0xA1;
pub const RESPONSE: u8 = 0xA2;
pub const SET: u8 = 0xA3;
pub const TRAP_V1: u8 = 0xA4;
pub const INFORM: u8 = 0xA6;
pub const TRAP_V2: u8 = 0xA7;

/// Encoded bytes and where the IpAddress contents are in them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ber {
    pub bytes: Vec<u8>,
    pub ips: Vec<(usize, Ipv4Addr)>,
}

fn header(tag: u8, len: usize) -> Vec<u8> {
    let mut v = vec![tag];
    if len < 0x80 {
        v.push(len as u8);
    } else if len < 0x100 {
        v.extend_from_slice(&[0x81, len as u8]);
    } else {
        v.extend_from_slice(&[0x82, (len >> 8) as u8, len as u8]);
    }
    v
}

impl Ber {
    pub fn prim(tag: u8, content: &[u8]) -> Ber {
        let mut bytes = header(tag, content.len());
        bytes.extend_from_slice(content);
        Ber {
            bytes,
            ips: Vec::new(),
        }
    }
    pub fn ip(a: Ipv4Addr) -> Ber {
        let mut b = Ber::prim(IP_ADDRESS, &a.octets());
        b.ips.push((b.bytes.len() - 4, a));
        b
    }
    pub fn int(v: i64) -> Ber {
        let b = v.to_be_bytes();
        let mut s = 0;
        while s < 7
            && ((b[s] == 0 && b[s + 1] & 0x80 == 0) || (b[s] == 0xFF && b[s + 1] & 0x80 != 0))
        {
            s += 1;
        }
        Ber::prim(INTEGER, &b[s..])
    }
    pub fn oid(arcs: &[u64]) -> Ber {
        let mut out = Vec::new();
        let mut subs = vec![arcs[0] * 40 + arcs[1]];
        subs.extend_from_slice(&arcs[2..]);
        for mut v in subs {
            let mut tmp = vec![(v & 0x7F) as u8];
            v >>= 7;
            while v > 0 {
                tmp.push(0x80 | (v & 0x7F) as u8);
                v >>= 7;
            }
            tmp.reverse();
            out.extend(tmp);
        }
        Ber::prim(OID, &out)
    }
    pub fn cons(tag: u8, parts: Vec<Ber>) -> Ber {
        let len: usize = parts.iter().map(|p| p.bytes.len()).sum();
        let mut bytes = header(tag, len);
        let mut ips = Vec::new();
        for p in parts {
            let base = bytes.len();
            ips.extend(p.ips.iter().map(|&(o, a)| (o + base, a)));
            bytes.extend_from_slice(&p.bytes);
        }
        Ber { bytes, ips }
    }
}

/// `1.3.6.1.2.1.4.20.1.N.a.b.c.d` (an ipAddrTable column of row `a`).
pub fn ip_addr_entry(column: u64, row: Ipv4Addr) -> Vec<u64> {
    let mut v = vec![1, 3, 6, 1, 2, 1, 4, 20, 1, column];
    v.extend(row.octets().iter().map(|&o| u64::from(o)));
    v
}

pub fn varbinds(vbs: Vec<(Vec<u64>, Ber)>) -> Ber {
    Ber::cons(
        SEQUENCE,
        vbs.into_iter()
            .map(|(n, v)| Ber::cons(SEQUENCE, vec![Ber::oid(&n), v]))
            .collect(),
    )
}

/// A v1 (`version` 0) or v2c (1) message with a request-style PDU.
pub fn message(version: i64, pdu: u8, request_id: i64, vbs: Vec<(Vec<u64>, Ber)>) -> Ber {
    let body = Ber::cons(
        pdu,
        vec![
            Ber::int(request_id),
            Ber::int(0),
            Ber::int(0),
            varbinds(vbs),
        ],
    );
    Ber::cons(
        SEQUENCE,
        vec![Ber::int(version), Ber::prim(OCTET_STRING, b"public"), body],
    )
}

/// An SNMPv1 Trap-PDU from `agent` (enterprise netSnmpAgentOIDs.10,
/// enterpriseSpecific 1, time-stamp 123).
pub fn trap_v1(agent: Ipv4Addr, vbs: Vec<(Vec<u64>, Ber)>) -> Ber {
    let body = Ber::cons(
        TRAP_V1,
        vec![
            Ber::oid(&[1, 3, 6, 1, 4, 1, 8072, 3, 2, 10]),
            Ber::ip(agent),
            Ber::int(6),
            Ber::int(1),
            Ber::prim(TIME_TICKS, &[123]),
            varbinds(vbs),
        ],
    );
    Ber::cons(
        SEQUENCE,
        vec![Ber::int(0), Ber::prim(OCTET_STRING, b"public"), body],
    )
}

/// An SNMPv3 message (noAuthNoPriv GetRequest, engine id unknown: the
/// discovery probe every v3 manager sends first).
pub fn v3_probe() -> Vec<u8> {
    let global = Ber::cons(
        SEQUENCE,
        vec![
            Ber::int(0x1234),
            Ber::int(65507),
            Ber::prim(OCTET_STRING, &[0x04]),
            Ber::int(3),
        ],
    );
    let usm = Ber::cons(
        SEQUENCE,
        vec![
            Ber::prim(OCTET_STRING, b""),
            Ber::int(0),
            Ber::int(0),
            Ber::prim(OCTET_STRING, b""),
            Ber::prim(OCTET_STRING, b""),
            Ber::prim(OCTET_STRING, b""),
        ],
    );
    let scoped = Ber::cons(
        SEQUENCE,
        vec![
            Ber::prim(OCTET_STRING, b""),
            Ber::prim(OCTET_STRING, b""),
            Ber::cons(
                GET,
                vec![Ber::int(1), Ber::int(0), Ber::int(0), varbinds(vec![])],
            ),
        ],
    );
    Ber::cons(
        SEQUENCE,
        vec![
            Ber::int(3),
            global,
            Ber::prim(OCTET_STRING, &usm.bytes),
            scoped,
        ],
    )
    .bytes
}
