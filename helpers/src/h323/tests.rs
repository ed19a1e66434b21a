//! Decoder tests: messages encoded by pycrate (testdata/vectors.txt, made
//! by gen/vectors.py), the inputs of the kernel's CVE fixes, truncation and
//! mutation of every vector, TPKT framing, a real capture when present, and
//! a property test against a small encoder of our own.

use super::*;

const VECTORS: &str = include_str!("testdata/vectors.txt");

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len() / 2)
        .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap())
        .collect()
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn kind_str(k: &AddrKind) -> String {
    let ch = |pre: &str, c: &Channel| {
        let d = match c.dir {
            Dir::Forward => "fwd",
            Dir::Reverse => "rev",
        };
        format!("{pre}-{d}")
    };
    match k {
        AddrKind::RasAddress => "ras".into(),
        AddrKind::CallSignalAddress => "callsignal".into(),
        AddrKind::DestCallSignalAddress => "destcallsignal".into(),
        AddrKind::SrcCallSignalAddress => "srccallsignal".into(),
        AddrKind::SourceCallSignalAddress => "sourcecallsignal".into(),
        AddrKind::ReplyAddress => "reply".into(),
        AddrKind::H245Address => "h245".into(),
        AddrKind::AlternativeAddress => "alternative".into(),
        AddrKind::Media(c) => ch("media", c),
        AddrKind::MediaControl(c) => ch("control", c),
        AddrKind::SeparateStack { .. } => "t120".into(),
    }
}

fn found_str(f: &Found) -> String {
    format!(
        "{}@{}:{}@{}:{}",
        kind_str(&f.kind),
        f.addr.ip,
        f.addr.port,
        f.addr.ip_offset,
        f.addr.port_offset
    )
}

fn media_str(m: Media) -> &'static str {
    match m {
        Media::Audio => "audio",
        Media::Video => "video",
        Media::Data {
            t120_separate_lan_stack: true,
        } => "t120",
        Media::Data { .. } => "data",
        Media::Other => "other",
        Media::Unknown => "unknown",
    }
}

fn h245_facts(h: &H245, facts: &mut Vec<String>) {
    match h {
        H245::OpenLogicalChannel(o) => {
            facts.push("h245=olc".into());
            facts.push(format!("lcn={}", o.forward_lcn));
            facts.push(format!("media={}", media_str(o.forward.media)));
        }
        H245::OpenLogicalChannelAck(a) => {
            facts.push("h245=olcack".into());
            facts.push(format!("lcn={}", a.forward_lcn));
        }
        H245::Other { name, .. } => facts.push(format!("h245={name}")),
    }
}

/// The decoder's view of one vector: addresses and facts, as strings.
fn decode_vector(decoder: &str, buf: &[u8]) -> Result<(Vec<String>, Vec<String>)> {
    let mut facts = Vec::new();
    let found = match decoder {
        "ras" => {
            let r = decode_ras(buf)?;
            facts.push(format!("msg={}", r.name));
            if let RasMsg::Rrq {
                time_to_live,
                keep_alive,
                ..
            } = &r.msg
            {
                facts.push(format!(
                    "ttl={}",
                    time_to_live.map_or("none".into(), |t| t.to_string())
                ));
                facts.push(format!(
                    "keepalive={}",
                    keep_alive.map_or("none".into(), |k| k.to_string())
                ));
            }
            if let RasMsg::Rcf { time_to_live, .. } = &r.msg {
                facts.push(format!(
                    "ttl={}",
                    time_to_live.map_or("none".into(), |t| t.to_string())
                ));
            }
            r.addresses()
        }
        "h245" => {
            let h = decode_h245(buf)?;
            h245_facts(&h, &mut facts);
            h.addresses()
        }
        "q931" => {
            let q = decode_q931(buf)?;
            facts.push(format!("body={}", q.body_name));
            facts.push(format!("type={}", q.message_type));
            if let Some(t) = q.h245_tunnelling {
                facts.push(format!("tunnelling={t}"));
            }
            facts.push(format!("control={}", q.h245_control.len()));
            match &q.body {
                Body::Setup { fast_start, .. } => {
                    facts.push(format!("faststart={}", fast_start.len()))
                }
                Body::Facility { reason, .. } => facts.push(format!("reason={reason}")),
                _ => {}
            }
            q.addresses()
        }
        _ => panic!("decoder {decoder}"),
    };
    Ok((found.iter().map(found_str).collect(), facts))
}

struct Vector {
    decoder: String,
    name: String,
    buf: Vec<u8>,
    addrs: Vec<String>,
    facts: Vec<String>,
}

fn vectors() -> Vec<Vector> {
    VECTORS
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let mut it = l.split(' ');
            let decoder = it.next().unwrap().to_string();
            let name = it.next().unwrap().to_string();
            let buf = unhex(it.next().unwrap());
            let (addrs, facts): (Vec<_>, Vec<_>) =
                it.map(String::from).partition(|s| s.contains('@'));
            Vector {
                decoder,
                name,
                buf,
                addrs,
                facts,
            }
        })
        .collect()
}

#[test]
fn pycrate_vectors_decode_to_what_was_encoded() {
    let vs = vectors();
    assert!(vs.len() >= 25, "{} vectors", vs.len());
    for v in &vs {
        let (addrs, facts) = decode_vector(&v.decoder, &v.buf)
            .unwrap_or_else(|e| panic!("{} {}: {e}", v.decoder, v.name));
        assert_eq!(addrs, v.addrs, "{} addresses", v.name);
        for f in &v.facts {
            assert!(facts.contains(f), "{}: fact {f} not in {facts:?}", v.name);
        }
        // The offsets point at the address and port bytes.
        for a in &addrs {
            let parts: Vec<&str> = a.split('@').collect();
            let ip_port = parts[1];
            let (ip, port) = ip_port.rsplit_once(':').unwrap();
            let (ao, po) = parts[2].split_once(':').unwrap();
            let (ao, po): (usize, usize) = (ao.parse().unwrap(), po.parse().unwrap());
            let ip: std::net::IpAddr = ip.parse().unwrap();
            let raw = match ip {
                std::net::IpAddr::V4(a) => a.octets().to_vec(),
                std::net::IpAddr::V6(a) => a.octets().to_vec(),
            };
            assert_eq!(&v.buf[ao..ao + raw.len()], &raw[..], "{}", v.name);
            assert_eq!(
                &v.buf[po..po + 2],
                &port.parse::<u16>().unwrap().to_be_bytes(),
                "{}",
                v.name
            );
        }
    }
}

#[test]
fn setup_with_fast_start_in_detail() {
    let v = vectors()
        .into_iter()
        .find(|v| v.name == "setup-faststart")
        .unwrap();
    let q = decode_q931(&v.buf).unwrap();
    assert_eq!(q.message_type, 0x05);
    let Body::Setup { fast_start, .. } = &q.body else {
        panic!("{:?}", q.body)
    };
    assert_eq!(fast_start.len(), 2);
    assert_eq!(fast_start[0].forward_lcn, 1);
    assert_eq!(fast_start[0].forward.media, Media::Audio);
    assert_eq!(fast_start[1].forward.media, Media::Video);
    assert!(fast_start.iter().all(|o| o.fast_start));
    let rev = fast_start[0].reverse.as_ref().unwrap();
    assert_eq!(rev.h2250.unwrap().session_id, Some(1));
    // The tunnelled H.245 after the Setup's late extensions is found (the
    // kernel's table stops at endpointIdentifier and loses it).
    assert_eq!(q.h245_tunnelling, Some(true));
    assert_eq!(q.h245_control.len(), 1);
    let H245::OpenLogicalChannel(t) = &q.h245_control[0] else {
        panic!()
    };
    assert_eq!(t.forward_lcn, 5);
    assert!(!t.fast_start);
}

#[test]
fn every_prefix_is_refused_or_decodes() {
    // Truncations never panic, and a strict prefix never yields an address
    // whose bytes are past its end.
    for v in vectors() {
        for n in 0..v.buf.len() {
            let cut = &v.buf[..n];
            if let Ok((addrs, _)) = decode_vector(&v.decoder, cut) {
                for a in addrs {
                    let parts: Vec<&str> = a.split('@').collect();
                    let (_, po) = parts[2].split_once(':').unwrap();
                    assert!(
                        po.parse::<usize>().unwrap() + 2 <= n,
                        "{} cut {n}: {a}",
                        v.name
                    );
                }
            }
        }
    }
}

#[test]
fn every_single_bit_flip_is_safe() {
    for v in vectors() {
        for i in 0..v.buf.len() * 8 {
            let mut b = v.buf.clone();
            b[i / 8] ^= 0x80 >> (i % 8);
            if let Ok((addrs, _)) = decode_vector(&v.decoder, &b) {
                for a in addrs {
                    let parts: Vec<&str> = a.split('@').collect();
                    let (_, po) = parts[2].split_once(':').unwrap();
                    assert!(po.parse::<usize>().unwrap() + 2 <= b.len());
                }
            }
        }
    }
}

// --- the kernel's CVE fixes as regression inputs ---------------------------

#[test]
fn cve_2024_26851_extension_bitmap_longer_than_32() {
    // An RRQ with its extension bit set and an extension bitmap of 64 bits
    // (the kernel read up to 128 bits into a 32-bit bitmap: an
    // out-of-bounds shift). Here a long bitmap is just a long bitmap: the
    // 64 additions it announces are not there, so: truncated.
    let mut w = rrq_root(&[(v4(10, 1, 0, 2), 1720)], &[], true);
    w.push(0, 1);
    w.push(63, 6); // normally small length: 64
    for _ in 0..64 {
        w.push(1, 1);
    }
    assert_eq!(decode_ras(&w.finish()).map(|_| ()), Err(Error::Truncated));
}

#[test]
fn cve_2024_26851_long_bitmap_with_its_additions_decodes() {
    // A 40-bit extension bitmap (more than the kernel's 32) whose only set
    // bit is timeToLive (index 1), with that addition present: decoded,
    // the TTL found.
    let mut w = rrq_root(&[(v4(10, 1, 0, 2), 1720)], &[], true);
    w.push(0, 1);
    w.push(39, 6);
    for i in 0..40 {
        w.push(u64::from(i == 1), 1);
    }
    // open type of 3 octets: INTEGER (1..4294967295) = 600: a 2-bit octet
    // count (1: two octets), aligned 0x02 0x57
    w.bytes(&[0x03, 0x40, 0x02, 0x57]);
    let r = decode_ras(&w.finish()).unwrap();
    let RasMsg::Rrq {
        time_to_live,
        keep_alive,
        call_signal_address,
        ..
    } = r.msg
    else {
        panic!()
    };
    assert_eq!(time_to_live, Some(600));
    assert_eq!(keep_alive, None);
    assert_eq!(call_signal_address.len(), 1);
}

#[test]
fn cve_2024_26851_bitmap_of_any_length_up_to_the_buffer() {
    // Every bitmap length from 1 to 64 with no bit set decodes; with all
    // set and no additions it is truncated.
    for n in 1..=64u64 {
        let mut w = rrq_root(&[], &[], true);
        w.push(0, 1);
        w.push(n - 1, 6);
        for _ in 0..n {
            w.push(0, 1);
        }
        assert!(decode_ras(&w.finish()).is_ok(), "{n}");
    }
}

#[test]
fn cve_2026_23455_zero_length_user_user_element() {
    // DecodeQ931: a user-user IE of length 0 (the kernel computed 0 - 1).
    let m = [0x08, 0x02, 0x00, 0x01, 0x05, 0x7e, 0x00, 0x00];
    assert_eq!(decode_q931(&m).map(|_| ()), Err(Error::Framing));
    // and one claiming more than is there
    let m = [0x08, 0x02, 0x00, 0x01, 0x05, 0x7e, 0x00, 0x10, 0x05, 0x20];
    assert_eq!(decode_q931(&m).map(|_| ()), Err(Error::Truncated));
    // length 1: only the protocol discriminator, an empty PER encoding
    let m = [0x08, 0x02, 0x00, 0x01, 0x05, 0x7e, 0x00, 0x01, 0x05];
    assert_eq!(decode_q931(&m).map(|_| ()), Err(Error::Truncated));
}

#[test]
fn decode_int_cons_case_reads_no_octet_past_the_end() {
    // The 2026 decode_int() CONS fix: timeToLive (1..4294967295) says 4
    // octets follow and its open type holds one: the open type bounds the
    // read even though the buffer goes on.
    let mut w = rrq_root(&[], &[], true);
    w.push(0, 1);
    w.push(1, 6); // 2 bits
    w.push(0b01, 2); // timeToLive present
    w.bytes(&[0x02, 0xc0, 0x01]); // open type of 2: count 4 octets, 1 given
    w.bytes(&[0xaa, 0xbb, 0xcc]);
    assert_eq!(decode_ras(&w.finish()).map(|_| ()), Err(Error::Truncated));
}

#[test]
fn decode_choice_reads_no_length_past_the_end() {
    // The 2026 decode_choice() fix: an extension alternative whose length
    // octet is past the end (the kernel checked 0 bytes before get_len).
    // RasMessage, extension bit set, index 7 (admissionConfirmSequence,
    // which is walked), and no length octet.
    assert_eq!(decode_ras(&[0x87]).map(|_| ()), Err(Error::Truncated));
    // a length past the end
    assert_eq!(
        decode_ras(&[0x87, 0x05, 0x00]).map(|_| ()),
        Err(Error::Truncated)
    );
    // an extension alternative nothing is read from (index 0,
    // requestInProgress) ends the decode before its length: no read at all
    assert_eq!(decode_ras(&[0x80]).unwrap().name, "requestInProgress");
    // one newer than this ASN.1 (index 40) is skipped by its length
    assert_eq!(decode_ras(&[0xa8, 0x01, 0x00]).unwrap().name, "unknown");
    assert_eq!(
        decode_ras(&[0xa8, 0x02, 0x00]).map(|_| ()),
        Err(Error::Truncated)
    );
    // a root index past the root alternatives (CVE-2007-3642): RasMessage
    // has 25 root alternatives in 5 bits; 31 is out of range
    assert_eq!(decode_ras(&[0b0111_1100]).map(|_| ()), Err(Error::Range));
}

fn v4(a: u8, b: u8, c: u8, d: u8) -> std::net::IpAddr {
    std::net::IpAddr::from([a, b, c, d])
}

#[derive(Default)]
struct BitWriter {
    bits: Vec<u8>,
}

impl BitWriter {
    fn push(&mut self, v: u64, n: u32) {
        for i in (0..n).rev() {
            self.bits.push(((v >> i) & 1) as u8);
        }
    }
    fn align(&mut self) {
        while self.bits.len() % 8 != 0 {
            self.bits.push(0);
        }
    }
    fn bytes(&mut self, b: &[u8]) {
        self.align();
        for x in b {
            self.push(u64::from(*x), 8);
        }
    }
    fn finish(mut self) -> Vec<u8> {
        self.align();
        self.bits
            .chunks(8)
            .map(|c| c.iter().fold(0u8, |a, b| (a << 1) | b))
            .collect()
    }
}

#[test]
fn bounds_of_strings_and_lists() {
    // The 2018 "Out Of Bound Read" fixes: lengths of octet, bit and
    // numeric strings and SEQUENCE OF counts running past the end. A GRQ
    // whose nonStandardData claims a long octet string.
    let mut w = BitWriter::default();
    w.push(0, 1); // RasMessage root
    w.push(0, 5); // gatekeeperRequest
    w.push(0, 1); // no extensions
    w.push(0b1000, 4); // nonStandardData present
    w.bytes(&[0x00, 0x00]); // requestSeqNum
    w.bytes(&[0x01, 0x00]); // protocolIdentifier: OID of 1 octet
                            // NonStandardParameter: choice object(0) + OID, then data octets
    w.push(0, 1);
    w.push(0, 1);
    w.bytes(&[0x01, 0x00]);
    w.bytes(&[0x80 | 0x3f, 0xff]); // data: 16383 octets claimed
    let m = w.finish();
    assert_eq!(decode_ras(&m).map(|_| ()), Err(Error::Truncated));
    // a fragmented length is refused
    let mut w = BitWriter::default();
    w.push(0, 1);
    w.push(0, 5);
    w.push(0, 1);
    w.push(0b0000, 4);
    w.bytes(&[0x00, 0x00]);
    w.bytes(&[0xc1]);
    assert_eq!(decode_ras(&w.finish()).map(|_| ()), Err(Error::Fragmented));
}

// --- a small ALIGNED PER encoder for RRQs (tests only) ---------------------

use std::net::IpAddr;

/// H.225.0 TransportAddress, ALIGNED PER: choice (ext bit, 3-bit index),
/// then ipAddress / ip6Address (ip6Address is extensible: one more bit).
fn transport(w: &mut BitWriter, ip: IpAddr, port: u16) {
    w.push(0, 1);
    match ip {
        IpAddr::V4(a) => {
            w.push(0, 3);
            w.bytes(&a.octets());
        }
        IpAddr::V6(a) => {
            w.push(3, 3);
            w.push(0, 1);
            w.bytes(&a.octets());
        }
    }
    w.bytes(&port.to_be_bytes());
}

/// A minimal RRQ: the root fields (no optional ones), the given
/// callSignalAddress and rasAddress lists, an EndpointType with only
/// its two BOOLEANs, a VendorIdentifier, and timeToLive if given.
fn rrq(csa: &[(IpAddr, u16)], ras: &[(IpAddr, u16)], ttl: Option<u32>) -> Vec<u8> {
    let mut w = rrq_root(csa, ras, ttl.is_some());
    if let Some(t) = ttl {
        w.push(0, 1);
        w.push(1, 6); // 2 extension bits
        w.push(0b01, 2); // alternateEndpoints absent, timeToLive present
        let v = t - 1;
        let n = (4 - v.leading_zeros() / 8).max(1) as usize;
        let mut inner = BitWriter::default();
        inner.push(n as u64 - 1, 2);
        inner.bytes(&v.to_be_bytes()[4 - n..]);
        let inner = inner.finish();
        w.bytes(&[inner.len() as u8]);
        w.bytes(&inner);
    }
    w.finish()
}

/// The root of an RRQ (its extension bit as given), unfinished.
fn rrq_root(csa: &[(IpAddr, u16)], ras: &[(IpAddr, u16)], ext: bool) -> BitWriter {
    let mut w = BitWriter::default();
    w.push(0, 1); // RasMessage root
    w.push(3, 5); // registrationRequest
    w.push(u64::from(ext), 1); // extensions
    w.push(0, 3); // nonStandardData, terminalAlias, gatekeeperIdentifier
    w.bytes(&[0x00, 0x01]); // requestSeqNum 2
    w.bytes(&[0x05, 0x00, 0x08, 0x91, 0x4a, 0x00]); // protocolIdentifier
    w.push(0, 1); // discoveryComplete
    w.bytes(&[csa.len() as u8]);
    for (ip, port) in csa {
        transport(&mut w, *ip, *port);
    }
    w.bytes(&[ras.len() as u8]);
    for (ip, port) in ras {
        transport(&mut w, *ip, *port);
    }
    // EndpointType: ext, 6 optional bits, mc, undefinedNode
    w.push(0, 1);
    w.push(0, 6);
    w.push(0, 2);
    // VendorIdentifier: ext, 2 optional, H221NonStandard (ext + 3 ints)
    w.push(0, 1);
    w.push(0, 2);
    w.push(0, 1);
    w.bytes(&[0xb5, 0x00, 0x53, 0x4c]);
    w
}

// --- TPKT --------------------------------------------------------------------

fn tpkt(payload: &[u8]) -> Vec<u8> {
    let mut v = vec![3, 0];
    v.extend_from_slice(&((payload.len() + 4) as u16).to_be_bytes());
    v.extend_from_slice(payload);
    v
}

#[test]
fn several_tpkts_in_one_segment() {
    let vs = vectors();
    let setup = &vs.iter().find(|v| v.name == "setup-faststart").unwrap().buf;
    let connect = &vs.iter().find(|v| v.name == "connect").unwrap().buf;
    let mut seg = tpkt(setup);
    seg.extend(tpkt(connect));
    let s = decode_q931_segment(&seg);
    assert_eq!(s.end, TpktEnd::Done);
    assert_eq!(s.frames.len(), 2);
    let second = s.frames[1].1.as_ref().unwrap();
    let base = s.frames[1].0.offset;
    assert_eq!(base, setup.len() + 8);
    let a = second.addresses();
    assert_eq!(a.len(), 1);
    // offsets are into the segment
    assert_eq!(
        &seg[a[0].addr.port_offset..a[0].addr.port_offset + 2],
        &1803u16.to_be_bytes()
    );
    let alone = decode_q931(connect).unwrap().addresses();
    assert_eq!(a[0].addr.ip_offset, alone[0].addr.ip_offset + base);
}

#[test]
fn tpkt_framing_ends() {
    assert_eq!(
        split_tpkts(&[3, 0, 0, 40]).1,
        TpktEnd::HeaderOnly { len: 36 }
    );
    assert_eq!(split_tpkts(&[3, 0, 0, 40, 1]).1, TpktEnd::Incomplete);
    assert_eq!(split_tpkts(&[3, 0, 0, 2, 1]).1, TpktEnd::Incomplete);
    assert_eq!(
        split_tpkts(&[4, 0, 0, 5, 1]).1,
        TpktEnd::NotTpkt { offset: 0 }
    );
    let (f, e) = split_tpkts(&[3, 0, 0, 5, 9, 3, 0, 0]);
    assert_eq!((f.len(), e), (1, TpktEnd::Done));
    let (f, e) = split_tpkts(&[3, 0, 0, 5, 9, 7, 7, 7, 7, 7]);
    assert_eq!((f.len(), e), (1, TpktEnd::NotTpkt { offset: 5 }));
    assert_eq!(split_tpkts(&[]), (vec![], TpktEnd::Done));
}

#[test]
fn q931_framing() {
    let vs = vectors();
    let setup = &vs.iter().find(|v| v.name == "setup-plain").unwrap().buf;
    let mut bad = setup.clone();
    bad[0] = 0x09;
    assert_eq!(decode_q931(&bad).map(|_| ()), Err(Error::Framing));
    // no user-user element
    assert_eq!(
        decode_q931(&[0x08, 0x01, 0x01, 0x05, 0x04, 0x01, 0x00]).map(|_| ()),
        Err(Error::Framing)
    );
    // single-octet elements before the user-user element are skipped
    let mut m = setup[..5].to_vec();
    m.push(0xa1);
    m.extend_from_slice(&setup[5..]);
    assert!(decode_q931(&m).is_ok());
}

// --- real captures -------------------------------------------------------------

/// TCP/UDP payloads of a classic pcap (Ethernet or Linux cooked, IPv4).
fn pcap_payloads(data: &[u8]) -> Vec<(u16, u16, bool, Vec<u8>)> {
    let le = data[0] == 0xd4;
    let u32_at = |b: &[u8], i: usize| {
        let x: [u8; 4] = b[i..i + 4].try_into().unwrap();
        if le {
            u32::from_le_bytes(x)
        } else {
            u32::from_be_bytes(x)
        }
    };
    let linktype = u32_at(data, 20);
    let mut out = Vec::new();
    let mut off = 24;
    while off + 16 <= data.len() {
        let caplen = u32_at(data, off + 8) as usize;
        let pkt = &data[off + 16..(off + 16 + caplen).min(data.len())];
        off += 16 + caplen;
        let l3 = match linktype {
            1 => 14,
            113 => 16,
            _ => continue,
        };
        if pkt.len() < l3 + 20 || pkt[l3] >> 4 != 4 {
            continue;
        }
        let ihl = usize::from(pkt[l3] & 15) * 4;
        let proto = pkt[l3 + 9];
        let tot = usize::from(u16::from_be_bytes([pkt[l3 + 2], pkt[l3 + 3]]));
        let ip = &pkt[l3..(l3 + tot).min(pkt.len())];
        let l4 = &ip[ihl.min(ip.len())..];
        match proto {
            6 if l4.len() >= 20 => {
                let doff = usize::from(l4[12] >> 4) * 4;
                let sp = u16::from_be_bytes([l4[0], l4[1]]);
                let dp = u16::from_be_bytes([l4[2], l4[3]]);
                out.push((sp, dp, true, l4[doff.min(l4.len())..].to_vec()));
            }
            17 if l4.len() >= 8 => {
                let sp = u16::from_be_bytes([l4[0], l4[1]]);
                let dp = u16::from_be_bytes([l4[2], l4[3]]);
                out.push((sp, dp, false, l4[8..].to_vec()));
            }
            _ => {}
        }
    }
    out
}

/// Decodes the H.323 signalling of a capture in ../shared/pcaps/h323/;
/// returns (Setups, Q.931 addresses, media addresses, UDP ports other than
/// RAS seen, RAS messages).
#[allow(clippy::type_complexity)]
fn decode_capture(name: &str) -> Option<(usize, Vec<Found>, Vec<Found>, Vec<u16>, Vec<Ras>)> {
    let path = format!(
        "{}/../../shared/pcaps/h323/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    let data = std::fs::read(path).ok()?;
    let mut setups = 0;
    let mut q931 = Vec::new();
    let mut media = Vec::new();
    let mut udp = Vec::new();
    let mut ras = Vec::new();
    for (sp, dp, tcp, payload) in pcap_payloads(&data) {
        if !tcp && (sp == 1719 || dp == 1719) {
            ras.push(
                decode_ras(&payload)
                    .unwrap_or_else(|e| panic!("{name}: ras {e}: {}", hex(&payload))),
            );
            continue;
        }
        if !tcp {
            udp.extend([sp, dp]);
            continue;
        }
        if payload.is_empty() {
            continue;
        }
        if sp == 1720 || dp == 1720 {
            let s = decode_q931_segment(&payload);
            for (_, r) in &s.frames {
                let q = r
                    .as_ref()
                    .unwrap_or_else(|e| panic!("{name}: q931 {e}: {}", hex(&payload)));
                if q.body_name == "setup" {
                    setups += 1;
                }
                q931.extend(q.addresses());
            }
        } else {
            for (_, r) in decode_h245_segment(&payload).frames {
                let h = r.unwrap_or_else(|e| panic!("{name}: h245 {e}: {}", hex(&payload)));
                media.extend(h.addresses());
            }
        }
    }
    for f in &q931 {
        if matches!(f.kind, AddrKind::Media(_) | AddrKind::MediaControl(_)) {
            media.push(*f);
        }
    }
    Some((setups, q931, media, udp, ras))
}

#[test]
fn shared_h323_captures() {
    let mut any = false;
    for name in ["h323.pcap", "rtp_example.raw"] {
        let Some((setups, q931, media, udp, ras)) = decode_capture(name) else {
            continue;
        };
        any = true;
        eprintln!(
            "{name}: {setups} Setup; Q.931 {:?}; media {:?}; RAS {:?}",
            q931.iter().map(found_str).collect::<Vec<_>>(),
            media.iter().map(found_str).collect::<Vec<_>>(),
            ras.iter()
                .map(|r| format!(
                    "{} {:?}",
                    r.name,
                    r.addresses().iter().map(found_str).collect::<Vec<_>>()
                ))
                .collect::<Vec<_>>()
        );
        assert!(setups >= 1, "{name}");
        assert!(
            q931.iter().any(|f| f.kind == AddrKind::H245Address),
            "{name}"
        );
        assert!(!media.is_empty(), "{name}");
        // The RTP of the capture flows to a port some decoded media
        // address announced.
        if !udp.is_empty() {
            assert!(
                media.iter().any(|f| udp.contains(&f.addr.port)),
                "{name}: {udp:?}"
            );
        }
    }
    if !any {
        eprintln!("skipped: ../shared/pcaps absent");
    }
}

// --- property test: an encoder of our own ----------------------------------------

mod prop {
    use super::*;
    use proptest::prelude::*;
    fn addr() -> impl Strategy<Value = (IpAddr, u16)> {
        (
            prop_oneof![
                any::<[u8; 4]>().prop_map(IpAddr::from),
                any::<[u8; 16]>().prop_map(IpAddr::from),
            ],
            any::<u16>(),
        )
    }

    proptest! {
        #[test]
        fn rrq_addresses_come_back(
            csa in proptest::collection::vec(addr(), 0..6),
            ras in proptest::collection::vec(addr(), 0..4),
            ttl in proptest::option::of(1u32..=u32::MAX),
        ) {
            let m = rrq(&csa, &ras, ttl);
            let r = decode_ras(&m).unwrap();
            let RasMsg::Rrq { call_signal_address, ras_address, time_to_live, .. } = r.msg else {
                panic!()
            };
            prop_assert_eq!(time_to_live, ttl);
            let got = |l: &[Option<Addr>]| l.iter().map(|a| a.map(|a| (a.ip, a.port))).collect::<Vec<_>>();
            let want = |l: &[(IpAddr, u16)]| l.iter().map(|a| Some(*a)).collect::<Vec<_>>();
            prop_assert_eq!(got(&call_signal_address), want(&csa));
            prop_assert_eq!(got(&ras_address), want(&ras));
            for a in call_signal_address.iter().chain(&ras_address).flatten() {
                let raw = match a.ip { IpAddr::V4(x) => x.octets().to_vec(), IpAddr::V6(x) => x.octets().to_vec() };
                prop_assert_eq!(&m[a.ip_offset..a.ip_offset + a.ip_len()], &raw[..]);
                prop_assert_eq!(&m[a.port_offset..a.port_offset + 2], &a.port.to_be_bytes());
            }
        }

        #[test]
        fn any_bytes_never_panic(b in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = decode_ras(&b);
            let _ = decode_h245(&b);
            let _ = decode_q931(&b);
            let _ = decode_q931_segment(&b);
        }
    }
}

// --- timing ----------------------------------------------------------------------

#[test]
#[ignore]
fn time_setup_with_fast_start() {
    let v = vectors()
        .into_iter()
        .find(|v| v.name == "setup-faststart")
        .unwrap();
    let n = 200_000;
    let t = std::time::Instant::now();
    let mut found = 0;
    for _ in 0..n {
        found += std::hint::black_box(decode_q931(std::hint::black_box(&v.buf)).unwrap())
            .addresses()
            .len();
    }
    let ns = t.elapsed().as_nanos() as f64 / n as f64;
    eprintln!(
        "Setup with 2 fastStart OLCs + 1 tunnelled OLC ({} bytes, {} addresses): {ns:.0} ns/decode (incl. addresses())",
        v.buf.len(),
        found / n
    );
}
