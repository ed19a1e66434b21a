//! Hand-built messages, the kernel-rejection reasons, the checksum update
//! and the encode/decode round trip.

use super::ber::{self, BerError, Tag};
use super::enc::{header, Enc, Form, Model, Value};
use super::msg::{Body, ErrorKind, Field, PduHeader, PduType};
use super::*;
use proptest::prelude::*;

fn ip(s: &str) -> Ipv4Addr {
    s.parse().unwrap()
}

fn hex(s: &str) -> Vec<u8> {
    let s: String = s.split_whitespace().collect();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// A v1 GetRequest for sysDescr.0, written out by hand.
const V1_GET: &str = "30 26 02 01 00 04 06 70 75 62 6c 69 63
    a0 19 02 01 01 02 01 00 02 01 00
    30 0e 30 0c 06 08 2b 06 01 02 01 01 01 00 05 00";

/// A v1 GetResponse: ipAdEntAddr.10.0.0.5 = IpAddress 10.0.0.5, by hand.
const V1_RESPONSE: &str = "30 2f 02 01 00 04 06 70 75 62 6c 69 63
    a2 22 02 01 01 02 01 00 02 01 00
    30 17 30 15 06 0d 2b 06 01 02 01 04 14 01 01 0a 00 00 05
    40 04 0a 00 00 05";

#[test]
fn v1_get_request() {
    let p = hex(V1_GET);
    let m = decode(&p).unwrap();
    assert_eq!(m.version, Version::V1);
    assert_eq!(m.community(), Some(&b"public"[..]));
    assert_eq!((m.trailing, m.kernel_reject), (0, None));
    let pdu = m.pdu().unwrap();
    assert_eq!((pdu.kind, pdu.at), (PduType::Get, 13));
    assert_eq!(
        pdu.header,
        PduHeader::Request {
            request_id: 1,
            error_status: 0,
            error_index: 0
        }
    );
    assert_eq!(pdu.varbinds.len(), 1);
    assert_eq!(pdu.varbinds[0].name.to_string(), "1.3.6.1.2.1.1.1.0");
    assert_eq!(pdu.varbinds[0].value.tag, Tag::NULL);
    assert!(m.addresses().is_empty());
    let t = translate(&p, ip("10.0.0.5"), ip("203.0.113.7")).unwrap();
    assert!(t.edits.is_empty());
    assert_eq!(t.kernel, Kernel::Same);
}

#[test]
fn v1_response_with_an_ip_address() {
    let p = hex(V1_RESPONSE);
    assert_eq!(p.len(), 49);
    let m = decode(&p).unwrap();
    assert_eq!(m.pdu().unwrap().kind, PduType::Response);
    let a = m.addresses();
    assert_eq!(a.len(), 1);
    assert_eq!((a[0].offset, a[0].addr), (45, ip("10.0.0.5")));
    let Place::VarBind { index, name } = a[0].place else {
        panic!("{:?}", a[0].place)
    };
    assert_eq!(
        (index, name.to_string().as_str()),
        (0, "1.3.6.1.2.1.4.20.1.1.10.0.0.5")
    );

    let t = translate(&p, ip("10.0.0.5"), ip("203.0.113.7")).unwrap();
    assert_eq!(t.kernel, Kernel::Same);
    assert_eq!(t.edits.len(), 1);
    let e = t.edits[0];
    assert_eq!(
        (e.offset, e.old, e.new),
        (45, ip("10.0.0.5"), ip("203.0.113.7"))
    );
    let out = crate::edit::apply(&p, &[e.edit()]).unwrap();
    // Only the value changed: the OID's instance keeps 10.0.0.5.
    let mut want = p.clone();
    want[45..49].copy_from_slice(&[203, 0, 113, 7]);
    assert_eq!(out, want);
    assert_eq!(decode(&out).unwrap().addresses()[0].addr, ip("203.0.113.7"));

    // Another address, or from == to: nothing.
    assert!(translate(&p, ip("10.0.0.6"), ip("203.0.113.7"))
        .unwrap()
        .edits
        .is_empty());
    let same = translate(&p, ip("10.0.0.5"), ip("10.0.0.5")).unwrap();
    assert!(same.edits.is_empty());
    assert_eq!(same.kernel, Kernel::Untouched);
}

#[test]
fn v1_trap_agent_addr_and_varbinds() {
    let mut m = Model::new(0, 4, vec![]);
    m.varbinds = vec![
        (vec![1, 3, 6, 1, 2, 1, 2, 2, 1, 1, 2], Value::Int(2)),
        (vec![1, 3, 6, 1, 4, 1, 9, 9, 1], Value::Ip([10, 0, 0, 5])),
        (vec![1, 3, 6, 1, 4, 1, 9, 9, 2], Value::Ip([10, 0, 0, 6])),
    ];
    let enc = m.encode(&[]);
    let msg = decode(&enc.bytes).unwrap();
    assert_eq!(msg.kernel_reject, Some(KernelReject::TrapV1));
    let pdu = msg.pdu().unwrap();
    assert_eq!(pdu.kind, PduType::TrapV1);
    assert_eq!(pdu.request_id(), None);
    let t = pdu.trap().unwrap();
    assert_eq!(t.enterprise.to_string(), "1.3.6.1.4.1.8072.3.2.10");
    assert_eq!(t.agent_addr, ip("10.0.0.5"));
    assert_eq!(t.agent_addr_tag, msg::IP_ADDRESS);
    assert_eq!(
        (t.generic_trap, t.specific_trap, t.time_stamp),
        (6, 1, 12345)
    );
    let a = msg.addresses();
    assert_eq!(a.len(), 3);
    assert_eq!(a[0].place, Place::AgentAddr);
    assert_eq!(a[0].offset, enc.ips[0].0);
    assert!(matches!(a[1].place, Place::VarBind { index: 1, .. }));
    assert!(matches!(a[2].place, Place::VarBind { index: 2, .. }));

    let tr = translate(&enc.bytes, ip("10.0.0.5"), ip("198.51.100.9")).unwrap();
    assert_eq!(tr.kernel, Kernel::Drops(KernelReject::TrapV1));
    let offs: Vec<_> = tr.edits.iter().map(|e| (e.offset, e.place)).collect();
    assert_eq!(offs.len(), 2);
    assert_eq!(offs[0], (enc.ips[0].0, Place::AgentAddr));
    assert_eq!(offs[1].0, enc.ips[1].0);

    // agent-addr as a 4-octet OCTET STRING (before 4.16 the kernel took it).
    let mut b = enc.bytes.clone();
    b[enc.ips[0].0 - 2] = 0x04;
    let t = decode(&b).unwrap();
    assert_eq!(
        t.pdu().unwrap().trap().unwrap().agent_addr_tag,
        Tag::OCTET_STRING
    );
    assert_eq!(t.addresses()[0].place, Place::AgentAddr);
    // agent-addr as anything else, or not 4 octets: errors.
    b[enc.ips[0].0 - 2] = 0x02;
    let e = decode(&b).unwrap_err();
    assert_eq!(
        (e.field, e.kind),
        (Field::AgentAddr, ErrorKind::Tag(Tag::INTEGER))
    );
}

#[test]
fn v2c_trap_and_inform() {
    for pdu in [7, 6] {
        let m = Model::new(
            1,
            pdu,
            vec![
                (vec![1, 3, 6, 1, 2, 1, 1, 3, 0], Value::Ticks(99)),
                (
                    vec![1, 3, 6, 1, 6, 3, 1, 1, 4, 1, 0],
                    Value::Oid(vec![1, 3, 6, 1, 6, 3, 1, 1, 5, 3]),
                ),
                (
                    vec![1, 3, 6, 1, 2, 1, 4, 20, 1, 1, 10, 0, 0, 5],
                    Value::Ip([10, 0, 0, 5]),
                ),
                (
                    vec![1, 3, 6, 1, 2, 1, 1, 5, 0],
                    Value::Str(b"host".to_vec()),
                ),
            ],
        );
        let enc = m.encode(&[]);
        let msg = decode(&enc.bytes).unwrap();
        assert_eq!(msg.version, Version::V2c);
        let kind = msg.pdu().unwrap().kind;
        assert_eq!(
            kind,
            if pdu == 7 {
                PduType::TrapV2
            } else {
                PduType::Inform
            }
        );
        assert_eq!(msg.kernel_reject, None);
        let tr = translate(&enc.bytes, ip("10.0.0.5"), ip("192.0.2.50")).unwrap();
        assert_eq!(tr.kernel, Kernel::Same);
        assert_eq!(tr.edits.len(), 1);
        assert_eq!(tr.edits[0].offset, enc.ips[0].0);
    }
}

/// An SNMPv3 message (noAuthNoPriv GetRequest), by hand.
fn v3() -> Vec<u8> {
    let global = Enc::cons(
        0x30,
        vec![
            Enc::prim(0x02, &[0x12, 0x34], Form::Minimal),
            Enc::prim(0x02, &[0x00, 0xFF, 0xE3], Form::Minimal),
            Enc::prim(0x04, &[0x04], Form::Minimal),
            Enc::prim(0x02, &[0x03], Form::Minimal),
        ],
        Form::Minimal,
    );
    let sec = Enc::prim(0x04, &[0x30, 0x00], Form::Minimal);
    let scoped = Enc::cons(
        0x30,
        vec![
            Enc::prim(0x04, &[], Form::Minimal),
            Enc::prim(0x04, &[], Form::Minimal),
            Enc::cons(
                0xA0,
                vec![
                    Enc::prim(0x02, &[1], Form::Minimal),
                    Enc::prim(0x02, &[0], Form::Minimal),
                    Enc::prim(0x02, &[0], Form::Minimal),
                    Enc::cons(0x30, vec![], Form::Minimal),
                ],
                Form::Minimal,
            ),
        ],
        Form::Minimal,
    );
    let version = Enc::prim(0x02, &[3], Form::Minimal);
    Enc::cons(0x30, vec![version, global, sec, scoped], Form::Minimal).bytes
}

#[test]
fn v3_recognised_not_translated() {
    let p = v3();
    let m = decode(&p).unwrap();
    assert_eq!((m.version, &m.body), (Version::V3, &Body::V3));
    assert_eq!(m.kernel_reject, Some(KernelReject::Version(3)));
    assert!(m.addresses().is_empty());
    let t = translate(&p, ip("10.0.0.5"), ip("192.0.2.1")).unwrap();
    assert!(t.edits.is_empty());
    assert_eq!(t.kernel, Kernel::Drops(KernelReject::Version(3)));
    assert_eq!(
        translate(&p, ip("10.0.0.5"), ip("10.0.0.5"))
            .unwrap()
            .kernel,
        Kernel::Untouched
    );
}

fn err_of(p: &[u8]) -> (Field, usize, ErrorKind) {
    let e = decode(p).unwrap_err();
    assert!(!e.to_string().is_empty());
    (e.field, e.at, e.kind)
}

#[test]
fn malformed() {
    assert_eq!(err_of(&[]), (Field::Message, 0, ErrorKind::Missing));
    // Text: 'G' reads as [APPLICATION 7] of 'E' = 69 octets.
    assert!(matches!(
        err_of(b"GET / HTTP/1.0"),
        (
            Field::Message,
            0,
            ErrorKind::Ber(BerError::Overrun { len: 69, .. })
        )
    ));
    assert_eq!(
        err_of(&[0x02, 0x01, 0x00]),
        (Field::Message, 0, ErrorKind::Tag(Tag::INTEGER))
    );
    // Versions: 2 (SNMPv2u), empty, nine octets.
    let mut p = hex(V1_GET);
    p[4] = 2;
    assert_eq!(err_of(&p), (Field::Version, 2, ErrorKind::Version(2)));
    let p = hex("30 04 02 00 04 00");
    assert_eq!(err_of(&p), (Field::Version, 2, ErrorKind::Integer));
    // A PDU tag that is no PDU.
    let mut p = hex(V1_GET);
    p[13] = 0xA9;
    assert_eq!(
        err_of(&p),
        (Field::Pdu, 13, ErrorKind::Tag(Tag::context_constructed(9)))
    );
    p[13] = 0x30;
    assert_eq!(err_of(&p), (Field::Pdu, 13, ErrorKind::Tag(Tag::SEQUENCE)));
    // IpAddress of 5 octets, and a constructed one.
    let mut p = hex(V1_RESPONSE);
    p[44] = 0x03;
    // The value now has 3 octets and one trails inside the varbind.
    assert_eq!(
        err_of(&p),
        (Field::VarBind(0), 48, ErrorKind::Trailing { len: 1 })
    );
    let mut m = Model::new(1, 2, vec![(vec![1, 3, 6], Value::Str(vec![1, 2, 3, 4, 5]))]);
    let mut b = m.encode(&[]).bytes;
    let at = b.len() - 7;
    assert_eq!(b[at], 0x04);
    b[at] = 0x40;
    assert_eq!(
        err_of(&b),
        (
            Field::Value(0),
            at,
            ErrorKind::IpAddress {
                len: 5,
                constructed: false
            }
        )
    );
    m.varbinds = vec![(vec![1, 3, 6], Value::Ip([1, 2, 3, 4]))];
    let mut b = m.encode(&[]).bytes;
    let at = b.len() - 6;
    b[at] = 0x60;
    assert_eq!(
        err_of(&b),
        (
            Field::Value(0),
            at,
            ErrorKind::IpAddress {
                len: 4,
                constructed: true
            }
        )
    );
    // Lengths: announcing more than there is, 9 length octets, indefinite.
    let mut p = hex(V1_GET);
    p[1] = 0x27;
    assert!(matches!(
        err_of(&p),
        (
            Field::Message,
            0,
            ErrorKind::Ber(BerError::Overrun {
                len: 0x27,
                avail: 0x26,
                ..
            })
        )
    ));
    let mut p = hex("30 89 00 00 00 00 00 00 00 00 03 02 01 00");
    assert_eq!(
        err_of(&p),
        (
            Field::Message,
            0,
            ErrorKind::Ber(BerError::LengthTooLong { at: 0 })
        )
    );
    p = hex("30 80 02 01 00 04 00 a0 80 00 00 00 00");
    assert_eq!(
        err_of(&p),
        (
            Field::Message,
            0,
            ErrorKind::Ber(BerError::Indefinite { at: 0 })
        )
    );
    // Inner lengths may not pass their container.
    let mut p = hex(V1_GET);
    p[14] = 0x1A;
    assert!(matches!(
        err_of(&p),
        (Field::Pdu, 13, ErrorKind::Ber(BerError::Overrun { .. }))
    ));
    // A varbind with three elements, a PDU with a fifth.
    let m = Model::new(1, 0, vec![(vec![1, 3, 6], Value::Null)]);
    let b = m.encode(&[]).bytes;
    let mut more = b.clone();
    let vb = more.len() - 8; // the VarBind's SEQUENCE
    assert_eq!(&more[vb..vb + 2], &[0x30, 0x06]);
    more.extend([0x05, 0x00]);
    // The lengths of the message, the PDU, the list and the varbind.
    for i in [1usize, 14, vb - 1, vb + 1] {
        more[i] += 2;
    }
    assert_eq!(
        err_of(&more),
        (Field::VarBind(0), b.len(), ErrorKind::Trailing { len: 2 })
    );
    // request-id of 9 octets.
    let mut m = Model::new(1, 0, vec![]);
    m.request_id = 5;
    let mut b = m.encode(&[]).bytes;
    let rid = 2 + 3 + 8 + 2;
    assert_eq!(&b[rid..rid + 3], &[0x02, 0x01, 0x05]);
    b.splice(rid + 1..rid + 2, [0x09, 0, 0, 0, 0, 0, 0, 0, 0]);
    b[1] += 8;
    b[rid - 1] += 8;
    assert_eq!(err_of(&b), (Field::RequestId, rid, ErrorKind::Integer));
}

#[test]
fn truncation_at_every_octet_is_an_error() {
    let m = Model::new(
        0,
        4,
        vec![(vec![1, 3, 6, 1, 4, 1, 9], Value::Ip([10, 0, 0, 5]))],
    );
    for bytes in [m.encode(&[]).bytes, hex(V1_RESPONSE), v3()] {
        assert!(decode(&bytes).is_ok());
        for n in 0..bytes.len() {
            assert!(decode(&bytes[..n]).is_err(), "prefix {n} decoded");
            assert!(translate(&bytes[..n], ip("10.0.0.5"), ip("1.2.3.4")).is_err());
        }
    }
}

#[test]
fn trailing_octets_after_the_message_are_ignored() {
    let mut p = hex(V1_RESPONSE);
    p.extend([0xDE, 0xAD]);
    let m = decode(&p).unwrap();
    assert_eq!(m.trailing, 2);
    assert_eq!(m.addresses().len(), 1);
}

#[test]
fn deep_nesting_inside_a_value_is_skipped_whole() {
    // A varbind value of 5000 nested SEQUENCEs: not an SNMP type, skipped
    // without being looked into; the IpAddress after it is found.
    let mut v = Enc::prim(0x05, &[], Form::Minimal);
    for _ in 0..5000 {
        v = Enc::cons(0x30, vec![v], Form::Minimal);
    }
    assert!(matches!(
        ber::walk(&v.bytes, |_, _| {}),
        Err(BerError::TooDeep { .. })
    ));
    let vb = |value: Enc| {
        Enc::cons(
            0x30,
            vec![Enc::prim(0x06, &[0x2b, 6], Form::Minimal), value],
            Form::Minimal,
        )
    };
    let list = Enc::cons(
        0x30,
        vec![
            vb(v),
            vb(Enc::ip(0x40, [10, 0, 0, 5], Form::Minimal, false)),
        ],
        Form::Minimal,
    );
    let ints = || Enc::prim(0x02, &[0], Form::Minimal);
    let pdu = Enc::cons(0xA2, vec![ints(), ints(), ints(), list], Form::Minimal);
    let msg = Enc::cons(
        0x30,
        vec![ints(), Enc::prim(0x04, b"c", Form::Minimal), pdu],
        Form::Minimal,
    );
    let m = decode(&msg.bytes).unwrap();
    assert_eq!(
        m.kernel_reject,
        Some(KernelReject::ValueType {
            index: 0,
            tag: Tag::SEQUENCE
        })
    );
    let a = m.addresses();
    assert_eq!((a.len(), a[0].offset), (1, msg.ips[0].0));
}

#[test]
fn kernel_rejects() {
    let reject = |bytes: &[u8]| decode(bytes).unwrap().kernel_reject;
    // Value types outside the grammar: BIT STRING, [APPLICATION 5], a
    // constructed OCTET STRING, a high tag number.
    for (tag, content) in [
        (0x03u8, vec![0x00]),
        (0x45, vec![1, 2]),
        (0x24, vec![0x04, 0x01, 0x41]),
    ] {
        let value = Enc::prim(tag, &content, Form::Minimal);
        let bytes = one_varbind(value);
        let m = decode(&bytes).unwrap();
        assert!(
            matches!(m.kernel_reject, Some(KernelReject::ValueType { index: 0, tag: t }) if t.octet() == Some(tag)),
            "{tag:#x}: {:?}",
            m.kernel_reject
        );
    }
    let high = Enc {
        bytes: vec![0x5F, 0x20, 0x01, 0x00],
        ips: vec![],
    };
    let bytes = one_varbind(high);
    assert!(matches!(reject(&bytes), Some(KernelReject::LongTag { .. })));
    // Every value type the grammar has: nothing.
    for v in [
        Value::Int(-5),
        Value::Str(vec![]),
        Value::Null,
        Value::Oid(vec![1, 3]),
        Value::Ip([1, 2, 3, 4]),
        Value::Counter(1),
        Value::Gauge(2),
        Value::Ticks(3),
        Value::Opaque(vec![0x9f, 0x78, 4, 0, 0, 0, 0]),
        Value::Counter64(u64::MAX),
        Value::NoSuchObject,
        Value::NoSuchInstance,
        Value::EndOfMibView,
    ] {
        let m = Model::new(1, 2, vec![(vec![1, 3, 6, 1], v.clone())]);
        assert_eq!(reject(&m.encode(&[]).bytes), None, "{v:?}");
    }
    // Length octets: 2 are fine, 3 are not.
    let m = Model::new(1, 2, vec![(vec![1, 3, 6, 1], Value::Int(1))]);
    assert_eq!(reject(&m.encode(&[Form::Long(2)]).bytes), None);
    assert!(matches!(
        reject(&m.encode(&[Form::Minimal, Form::Long(3)]).bytes),
        Some(KernelReject::LongLength { .. })
    ));
    // An empty long-form NULL closing its varbind.
    let value = Enc::prim(0x05, &[], Form::Long(1));
    assert!(matches!(
        reject(&one_varbind(value)),
        Some(KernelReject::LengthAtEnd { .. })
    ));
    // The version in two octets.
    let mut p = hex(V1_GET);
    p.splice(4..5, [0x00, 0x00]);
    p[3] = 2;
    p[1] += 1;
    assert_eq!(reject(&p), Some(KernelReject::VersionLength));
}

/// A v2c Response with one varbind whose value element is `value`.
fn one_varbind(value: Enc) -> Vec<u8> {
    let vb = Enc::cons(
        0x30,
        vec![Enc::prim(0x06, &[0x2b, 6, 1], Form::Minimal), value],
        Form::Minimal,
    );
    let list = Enc::cons(0x30, vec![vb], Form::Minimal);
    let int = || Enc::prim(0x02, &[0], Form::Minimal);
    let pdu = Enc::cons(0xA2, vec![int(), int(), int(), list], Form::Minimal);
    Enc::cons(
        0x30,
        vec![
            Enc::prim(0x02, &[1], Form::Minimal),
            Enc::prim(0x04, b"public", Form::Minimal),
            pdu,
        ],
        Form::Minimal,
    )
    .bytes
}

#[test]
fn encoder_headers() {
    assert_eq!(header(0x04, 3, Form::Minimal), vec![0x04, 0x03]);
    assert_eq!(header(0x04, 200, Form::Minimal), vec![0x04, 0x81, 200]);
    assert_eq!(header(0x04, 300, Form::Minimal), vec![0x04, 0x82, 1, 44]);
    assert_eq!(header(0x04, 3, Form::Long(1)), vec![0x04, 0x81, 3]);
    assert_eq!(header(0x04, 3, Form::Long(3)), vec![0x04, 0x83, 0, 0, 3]);
    assert_eq!(header(0x04, 0, Form::Long(1)), vec![0x04, 0x81, 0]);
}

// The checksum: the kernel's incremental update against a recomputation.

fn ones_sum(mut acc: u32, data: &[u8]) -> u32 {
    for c in data.chunks(2) {
        acc += u32::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]));
    }
    acc
}

/// The UDP checksum of `payload` from 192.0.2.1:161 to 198.51.100.2:40000.
fn udp_checksum(payload: &[u8]) -> u16 {
    let len = 8 + payload.len() as u32;
    let mut acc = ones_sum(0, &[192, 0, 2, 1, 198, 51, 100, 2]) + 17 + len;
    acc = ones_sum(acc, &[0, 161, 0x9c, 0x40]);
    acc += len;
    acc = ones_sum(acc, payload);
    while acc > 0xFFFF {
        acc = (acc & 0xFFFF) + (acc >> 16);
    }
    match !(acc as u16) {
        0 => 0xFFFF,
        c => c,
    }
}

proptest! {
    #[test]
    fn checksum_update_matches_recomputation(
        mut payload in proptest::collection::vec(any::<u8>(), 4..64),
        at in any::<prop::sample::Index>(),
        new in any::<[u8; 4]>(),
    ) {
        let offset = at.index(payload.len() - 3);
        let old: [u8; 4] = payload[offset..offset + 4].try_into().unwrap();
        let before = udp_checksum(&payload);
        let e = AddrEdit {
            offset,
            old: old.into(),
            new: new.into(),
            place: Place::AgentAddr,
        };
        payload[offset..offset + 4].copy_from_slice(&new);
        let full = udp_checksum(&payload);
        let kernel = kernel_udp_checksum(before, &[e]);
        prop_assert!(kernel == full || (kernel == 0 && full == 0xFFFF),
            "offset {offset}: kernel {kernel:#06x}, full {full:#06x}");
        prop_assert_eq!(kernel_udp_checksum(0, &[e]), 0);
    }
}

#[test]
fn checksum_update_odd_and_even_by_hand() {
    // Two edits, one at an odd offset: the same as recomputing.
    let mut p = hex(V1_RESPONSE);
    p.insert(0, 0); // the address moves to the even offset 46
    let before = udp_checksum(&p);
    let edits = [
        AddrEdit {
            offset: 46,
            old: ip("10.0.0.5"),
            new: ip("203.0.113.7"),
            place: Place::AgentAddr,
        },
        AddrEdit {
            offset: 1,
            old: Ipv4Addr::from([p[1], p[2], p[3], p[4]]),
            new: ip("1.2.3.4"),
            place: Place::AgentAddr,
        },
    ];
    for e in &edits {
        p[e.offset..e.offset + 4].copy_from_slice(&e.new.octets());
    }
    assert_eq!(kernel_udp_checksum(before, &edits), udp_checksum(&p));
}

// The round trip: any message the test encoder writes decodes to what was
// put in, with every IpAddress at the offset the encoder put it.

fn oid() -> impl Strategy<Value = Vec<u64>> {
    (
        0u64..3,
        0u64..40,
        proptest::collection::vec(any::<u64>(), 0..8),
    )
        .prop_map(|(a, b, rest)| {
            let mut v = vec![a, b];
            v.extend(rest);
            v
        })
}

fn addr() -> impl Strategy<Value = [u8; 4]> {
    prop_oneof![Just([10, 0, 0, 5]), Just([192, 0, 2, 1]), any::<[u8; 4]>()]
}

fn value() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<i64>().prop_map(Value::Int),
        proptest::collection::vec(any::<u8>(), 0..24).prop_map(Value::Str),
        Just(Value::Null),
        oid().prop_map(Value::Oid),
        addr().prop_map(Value::Ip),
        addr().prop_map(Value::Ip),
        any::<u32>().prop_map(Value::Counter),
        any::<u32>().prop_map(Value::Gauge),
        any::<u32>().prop_map(Value::Ticks),
        proptest::collection::vec(any::<u8>(), 0..12).prop_map(Value::Opaque),
        any::<u64>().prop_map(Value::Counter64),
        Just(Value::NoSuchObject),
        Just(Value::NoSuchInstance),
        Just(Value::EndOfMibView),
    ]
}

fn model() -> impl Strategy<Value = Model> {
    (
        0i64..2,
        proptest::collection::vec(any::<u8>(), 0..40),
        0u32..9,
        (any::<i32>(), 0i64..19, 0i64..100),
        (oid(), addr(), 0i64..7, any::<i32>(), any::<u32>()),
        proptest::collection::vec((oid(), value()), 0..12),
    )
        .prop_map(|(version, community, pdu, (rid, es, ei), trap, varbinds)| {
            let mut m = Model::new(version, pdu, varbinds);
            m.community = community;
            m.request_id = rid.into();
            m.error_status = es;
            m.error_index = ei;
            m.trap.enterprise = trap.0;
            m.trap.agent = trap.1;
            m.trap.generic = trap.2;
            m.trap.specific = trap.3.into();
            m.trap.ticks = trap.4;
            m
        })
}

fn forms() -> impl Strategy<Value = Vec<Form>> {
    proptest::collection::vec(
        prop_oneof![3 => Just(Form::Minimal), 1 => (1usize..5).prop_map(Form::Long)],
        0..8,
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn decode_finds_what_encode_put(m in model(), forms in forms(), from in addr(), to in addr()) {
        let enc = m.encode(&forms);
        let msg = decode(&enc.bytes).unwrap();
        prop_assert_eq!(msg.version, if m.version == 0 { Version::V1 } else { Version::V2c });
        prop_assert_eq!(msg.community(), Some(&m.community[..]));
        prop_assert_eq!(msg.trailing, 0);
        let pdu = msg.pdu().unwrap();
        prop_assert_eq!(pdu.kind.number(), m.pdu);
        match pdu.header {
            PduHeader::Request { request_id, error_status, error_index } => {
                prop_assert!(m.pdu != 4);
                prop_assert_eq!((request_id, error_status, error_index),
                    (m.request_id, m.error_status, m.error_index));
            }
            PduHeader::TrapV1(t) => {
                prop_assert_eq!(m.pdu, 4);
                prop_assert_eq!(t.enterprise.arcs(), Some(m.trap.enterprise.clone()));
                prop_assert_eq!(t.agent_addr.octets(), m.trap.agent);
                prop_assert_eq!((t.generic_trap, t.specific_trap, t.time_stamp),
                    (m.trap.generic, m.trap.specific, i64::from(m.trap.ticks)));
            }
        }
        prop_assert_eq!(pdu.varbinds.len(), m.varbinds.len());
        for (vb, (oid, _)) in pdu.varbinds.iter().zip(&m.varbinds) {
            prop_assert_eq!(vb.name.arcs(), Some(oid.clone()));
        }
        let found: Vec<_> = msg.addresses().iter()
            .map(|a| (a.offset, a.addr.octets(), a.place == Place::AgentAddr))
            .collect();
        prop_assert_eq!(&found, &enc.ips);
        if forms.iter().all(|f| *f == Form::Minimal) {
            let want = (m.pdu == 4).then_some(KernelReject::TrapV1);
            prop_assert_eq!(msg.kernel_reject, want);
        }

        // translate: exactly the addresses equal to `from`, and applying
        // the edits changes those 4-octet ranges and nothing else.
        let (from, to) = (Ipv4Addr::from(from), Ipv4Addr::from(to));
        let t = translate(&enc.bytes, from, to).unwrap();
        let want: Vec<usize> = if from == to { vec![] } else {
            enc.ips.iter().filter(|i| Ipv4Addr::from(i.1) == from).map(|i| i.0).collect()
        };
        prop_assert_eq!(t.edits.iter().map(|e| e.offset).collect::<Vec<_>>(), want.clone());
        let edits: Vec<_> = t.edits.iter().map(AddrEdit::edit).collect();
        let out = crate::edit::apply(&enc.bytes, &edits).unwrap();
        prop_assert_eq!(out.len(), enc.bytes.len());
        for (i, (a, b)) in enc.bytes.iter().zip(&out).enumerate() {
            if a != b {
                prop_assert!(want.iter().any(|o| (*o..o + 4).contains(&i)));
            }
        }
        let again = decode(&out).unwrap();
        let moved: Vec<_> = again.addresses().iter().map(|a| (a.offset, a.addr)).collect();
        let expect: Vec<_> = enc.ips.iter().map(|i| {
            let a = Ipv4Addr::from(i.1);
            (i.0, if a == from { to } else { a })
        }).collect();
        prop_assert_eq!(moved, expect);
    }

    #[test]
    fn damaged_messages_never_panic(m in model(), at in any::<prop::sample::Index>(), b in any::<u8>(), cut in any::<prop::sample::Index>()) {
        let mut bytes = m.encode(&[]).bytes;
        let i = at.index(bytes.len());
        bytes[i] = b;
        let n = cut.index(bytes.len() + 1);
        for p in [&bytes[..], &bytes[..n]] {
            if let Ok(msg) = decode(p) {
                for a in msg.addresses() {
                    prop_assert_eq!(&p[a.offset..a.offset + 4], &a.addr.octets()[..]);
                }
            }
        }
    }
}
