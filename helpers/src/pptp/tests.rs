//! Tests of the PPTP control-message parser: hand-built messages, streams
//! cut at every byte, hostile headers, and the third-party captures in
//! ../shared/pcaps/pptp (when present) against tshark's dissector.

use super::msg::*;
use crate::edit;
use proptest::prelude::*;

/// A message of `t` with body bytes `body` at offset 12 (rest zero).
fn m(t: MsgType, body: &[u8]) -> Vec<u8> {
    build(t, body)
}

/// A message with an explicit Length field (and that many bytes).
fn with_len(t: MsgType, len: usize) -> Vec<u8> {
    let mut v = build(t, &[]);
    v.resize(len.max(4), 0);
    v[0..2].copy_from_slice(&(len as u16).to_be_bytes());
    v.truncate(len);
    v
}

fn only(payload: &[u8]) -> Msg {
    let s = split(payload);
    assert_eq!(s.end, End::Complete, "{s:?}");
    assert!(s.skipped.is_empty(), "{s:?}");
    assert_eq!(s.msgs.len(), 1, "{s:?}");
    assert_eq!(s.framed, payload.len());
    s.msgs[0]
}

#[test]
fn every_type_round_trips_with_kernel_and_rfc_lengths() {
    // (type, kernel struct size from nf_conntrack_pptp.h) — the header
    // table the kernel's pptp_msg_size[] is made of, counted by hand from
    // the struct layouts; Echo has no entry.
    let kernel: [(MsgType, usize); 15] = [
        (MsgType::Sccrq, 2 + 2 + 4 + 4 + 2 + 2 + 64 + 64),
        (MsgType::Sccrp, 2 + 1 + 1 + 4 + 4 + 2 + 2 + 64 + 64),
        (MsgType::StopCcrq, 1 + 1 + 2),
        (MsgType::StopCcrp, 1 + 1 + 2),
        (MsgType::EchoRq, 0),
        (MsgType::EchoRp, 0),
        (
            MsgType::Ocrq,
            2 + 2 + 4 + 4 + 4 + 4 + 2 + 2 + 2 + 2 + 64 + 64,
        ),
        (MsgType::Ocrp, 2 + 2 + 1 + 1 + 2 + 4 + 2 + 2 + 4),
        (MsgType::Icrq, 2 + 2 + 4 + 4 + 2 + 2 + 64 + 64 + 64),
        (MsgType::Icrp, 2 + 2 + 1 + 1 + 2 + 2 + 2),
        (MsgType::Iccn, 2 + 2 + 4 + 2 + 2 + 4),
        (MsgType::Ccrq, 2 + 2),
        (MsgType::Cdn, 2 + 1 + 1 + 2 + 2 + 128),
        (MsgType::Wen, 2 + 2 + 6 * 4),
        (MsgType::Sli, 2 + 2 + 4 + 4),
    ];
    for (i, (t, size)) in kernel.iter().enumerate() {
        assert_eq!(t.code() as usize, i + 1);
        assert_eq!(MsgType::from_code(t.code()), Some(*t));
        assert_eq!(MsgType::ALL[i], *t);
        assert_eq!(t.min_body(), *size, "{t}");
        if *size > 0 {
            assert_eq!(t.rfc_len(), HEADER_LEN + size, "{t}");
        }
        let msg = only(&m(*t, &[]));
        assert_eq!(msg.msg_type(), *t);
        assert_eq!(msg.len, t.rfc_len());
        assert_eq!((msg.offset, msg.end()), (0, t.rfc_len()));
    }
    assert_eq!(MsgType::EchoRq.rfc_len(), 16);
    assert_eq!(MsgType::EchoRp.rfc_len(), 20);
    assert_eq!(MsgType::from_code(0), None);
    assert_eq!(MsgType::from_code(16), None);
}

#[test]
fn fields_and_call_id_offsets() {
    let ocrq = only(&m(MsgType::Ocrq, &[0x12, 0x34, 0x00, 0x07]));
    assert_eq!(
        ocrq.body,
        Body::Ocrq {
            call_id: CallIdAt {
                value: 0x1234,
                offset: 12
            },
            serial: 7
        }
    );
    assert_eq!(ocrq.peer_call_id(), None);

    let ocrp = only(&m(
        MsgType::Ocrp,
        &[0xab, 0xcd, 0x12, 0x34, 1, 0, 0x00, 0x05],
    ));
    let Body::Ocrp {
        call_id,
        peer_call_id,
        result,
        error,
        cause,
    } = ocrp.body
    else {
        panic!("{ocrp:?}")
    };
    assert_eq!((call_id.value, call_id.offset), (0xabcd, 12));
    assert_eq!((peer_call_id.value, peer_call_id.offset), (0x1234, 14));
    assert_eq!((result, error, cause), (RESULT_OK, 0, 5));

    let icrp = only(&m(MsgType::Icrp, &[0, 9, 0, 8, 3, 2]));
    assert_eq!(icrp.call_id().map(|c| (c.value, c.offset)), Some((9, 12)));
    assert_eq!(
        icrp.peer_call_id().map(|c| (c.value, c.offset)),
        Some((8, 14))
    );
    assert!(matches!(
        icrp.body,
        Body::Icrp {
            result: 3,
            error: 2,
            ..
        }
    ));

    for (t, call, peer) in [
        (MsgType::Icrq, true, false),
        (MsgType::Ccrq, true, false),
        (MsgType::Cdn, true, false),
        (MsgType::Iccn, false, true),
        (MsgType::Wen, false, true),
        (MsgType::Sli, false, true),
    ] {
        let x = only(&m(t, &[0x55, 0xaa]));
        assert_eq!(
            x.call_id().map(|c| (c.value, c.offset)),
            call.then_some((0x55aa, 12)),
            "{t}"
        );
        assert_eq!(
            x.peer_call_id().map(|c| (c.value, c.offset)),
            peer.then_some((0x55aa, 12)),
            "{t}"
        );
    }
    for t in [
        MsgType::Sccrq,
        MsgType::Sccrp,
        MsgType::StopCcrq,
        MsgType::StopCcrp,
        MsgType::EchoRq,
        MsgType::EchoRp,
    ] {
        let x = only(&m(t, &[1, 0, 1, 0]));
        assert_eq!((x.call_id(), x.peer_call_id()), (None, None), "{t}");
    }
    assert_eq!(
        only(&m(MsgType::Sccrp, &[1, 0, 1, 0])).body,
        Body::Sccrp {
            version: 0x100,
            result: 1,
            error: 0
        }
    );
    assert_eq!(
        only(&m(MsgType::Cdn, &[0, 3, 2, 1, 0, 4])).body,
        Body::Cdn {
            call_id: CallIdAt {
                value: 3,
                offset: 12
            },
            result: 2,
            error: 1,
            cause: 4
        }
    );
    assert_eq!(
        only(&m(MsgType::EchoRp, &[0, 0, 0, 9, 1])).body,
        Body::EchoRp {
            ident: Some(9),
            result: Some(1)
        }
    );
}

#[test]
fn echo_may_be_header_only_as_in_the_kernel() {
    for t in [MsgType::EchoRq, MsgType::EchoRp] {
        let x = only(&with_len(t, HEADER_LEN));
        assert_eq!(x.len, HEADER_LEN);
        assert!(matches!(
            x.body,
            Body::EchoRq { ident: None }
                | Body::EchoRp {
                    ident: None,
                    result: None
                }
        ));
    }
    // 16 bytes: an Echo-Reply with its identifier but no result code.
    let x = only(&with_len(MsgType::EchoRp, 16));
    assert_eq!(
        x.body,
        Body::EchoRp {
            ident: Some(0),
            result: None
        }
    );
}

#[test]
fn below_the_kernel_minimum_is_skipped_not_parsed() {
    for t in MsgType::ALL {
        if t.min_body() == 0 {
            continue;
        }
        let short = with_len(t, t.min_len() - 1);
        let mut stream = short.clone();
        stream.extend(m(MsgType::EchoRq, &[]));
        let s = split(&stream);
        assert_eq!(
            s.skipped,
            vec![(
                0,
                MsgError::Short {
                    msg_type: t,
                    len: (t.min_len() - 1) as u16
                }
            )],
            "{t}"
        );
        assert_eq!(s.msgs.len(), 1, "{t}: the next message is found");
        assert_eq!(s.msgs[0].offset, short.len());
        assert_eq!(s.end, End::Complete);
        assert_eq!(s.framed, stream.len());
        // Longer than the RFC length is fine (trailing bytes ignored).
        let mut long = with_len(t, t.rfc_len() + 8);
        long[t.rfc_len()..].fill(0xee);
        assert_eq!(only(&long).len, t.rfc_len() + 8);
    }
}

#[test]
fn several_messages_in_one_segment() {
    let parts = [
        m(MsgType::Ocrp, &[0, 1, 0, 2, 1]),
        m(MsgType::Sli, &[0, 1]),
        m(MsgType::EchoRq, &[0, 0, 0, 1]),
        m(MsgType::Cdn, &[0, 1]),
    ];
    let stream: Vec<u8> = parts.concat();
    let s = split(&stream);
    assert_eq!(s.end, End::Complete);
    assert_eq!(s.framed, stream.len());
    let types: Vec<MsgType> = s.msgs.iter().map(Msg::msg_type).collect();
    assert_eq!(
        types,
        [MsgType::Ocrp, MsgType::Sli, MsgType::EchoRq, MsgType::Cdn]
    );
    let mut at = 0;
    for (msg, p) in s.msgs.iter().zip(&parts) {
        assert_eq!((msg.offset, msg.len), (at, p.len()));
        if let Some(c) = msg.call_id().or(msg.peer_call_id()) {
            assert_eq!(c.offset, at + 12, "{msg:?}");
            assert_eq!(&stream[c.offset..c.offset + 2], &c.value.to_be_bytes());
        }
        at += p.len();
    }
}

#[test]
fn a_message_cut_anywhere_reports_what_is_missing() {
    let stream: Vec<u8> = [m(MsgType::Ocrq, &[0, 5]), m(MsgType::Ccrq, &[0, 5])].concat();
    let first = MsgType::Ocrq.rfc_len();
    for cut in 0..=stream.len() {
        let s = split(&stream[..cut]);
        let whole: Vec<usize> = s.msgs.iter().map(|x| x.end()).collect();
        let (start, end) = if cut < first {
            (0, first)
        } else {
            (first, stream.len())
        };
        let expect_whole: Vec<usize> = [first, stream.len()]
            .into_iter()
            .filter(|&e| e <= cut)
            .collect();
        assert_eq!(whole, expect_whole, "cut {cut}");
        if cut == start && (cut == first || cut == 0) || cut == stream.len() {
            assert_eq!(s.end, End::Complete, "cut {cut}");
            assert_eq!(s.framed, cut);
            continue;
        }
        let avail = cut - start;
        let need = if avail < 2 {
            HEADER_LEN - avail
        } else {
            end - cut
        };
        assert_eq!(
            s.end,
            End::Partial {
                offset: start,
                need
            },
            "cut {cut}"
        );
        assert_eq!(s.framed, start);
        // The held bytes plus the next segment give the message whole.
        let again = split(&stream[start..]);
        assert_eq!(again.msgs.first().map(|x| x.len), Some(end - start));
    }
}

#[test]
fn headers_that_cannot_be_pptp_end_the_walk() {
    let good = m(MsgType::Sli, &[0, 7]);
    let cases: Vec<(Vec<u8>, MsgError)> = vec![
        (
            {
                let mut v = m(MsgType::Sli, &[]);
                v[4] = 0xde;
                v
            },
            MsgError::BadCookie {
                cookie: 0xde2b_3c4d,
            },
        ),
        (
            {
                let mut v = m(MsgType::Sli, &[]);
                v[3] = 2;
                v
            },
            MsgError::NotControl { message_type: 2 },
        ),
        (
            vec![0, 11, 0, 1, 0x1a, 0x2b, 0x3c, 0x4d, 0, 5, 0],
            MsgError::BadLength { len: 11 },
        ),
        (vec![0, 0], MsgError::BadLength { len: 0 }),
        (vec![0x04, 0x01], MsgError::TooLong { len: 1025 }),
        (vec![0xff, 0xff, 0, 1], MsgError::TooLong { len: 0xffff }),
        // A partial header already known to be wrong is an error, not a
        // reason to wait.
        (
            vec![0, 24, 0, 1, 0x1a, 0x2b, 0x00],
            MsgError::BadCookie {
                cookie: 0x1a2b_004d,
            },
        ),
        (
            vec![0, 24, 0, 1, 0x1b],
            MsgError::BadCookie {
                cookie: 0x1b2b_3c4d,
            },
        ),
        (vec![0, 24, 0, 3], MsgError::NotControl { message_type: 3 }),
        (
            vec![0, 24, 1],
            MsgError::NotControl {
                message_type: 0x0101,
            },
        ),
    ];
    for (bad, err) in cases {
        let stream = [good.clone(), bad.clone()].concat();
        let s = split(&stream);
        assert_eq!(
            s.end,
            End::Error {
                offset: good.len(),
                error: err
            },
            "{bad:?}"
        );
        assert!(!err.skippable());
        assert_eq!(s.msgs.len(), 1, "{bad:?}: the message before is kept");
        assert_eq!(s.framed, good.len());
    }
    // A valid prefix of a header is a reason to wait.
    let h = m(MsgType::Sli, &[]);
    for n in 1..HEADER_LEN {
        let s = split(&h[..n]);
        assert!(
            matches!(s.end, End::Partial { offset: 0, .. }),
            "{n}: {s:?}"
        );
    }
}

#[test]
fn unknown_control_types_are_stepped_over() {
    for code in [0u16, 16, 0xffff] {
        let mut unknown = m(MsgType::Ccrq, &[]);
        unknown[8..10].copy_from_slice(&code.to_be_bytes());
        let stream = [unknown.clone(), m(MsgType::Ccrq, &[0, 1])].concat();
        let s = split(&stream);
        assert_eq!(
            s.skipped,
            vec![(0, MsgError::UnknownType { code, len: 16 })]
        );
        assert!(s.skipped[0].1.skippable());
        assert_eq!(s.msgs.len(), 1);
        assert_eq!(s.msgs[0].offset, 16);
        assert_eq!(s.end, End::Complete);
    }
}

#[test]
fn rewrite_is_a_two_byte_same_length_edit() {
    let stream: Vec<u8> = [
        m(MsgType::EchoRp, &[]),
        m(MsgType::Ocrp, &[0x11, 0x11, 0x22, 0x22, 1]),
    ]
    .concat();
    let s = split(&stream);
    let ocrp = s.msgs[1];
    let peer = ocrp.peer_call_id().unwrap();
    assert_eq!(peer.value, 0x2222);
    let e = peer.rewrite(0xbeef);
    assert_eq!((e.offset, e.len, e.delta()), (20 + 14, 2, 0));
    let out = edit::apply(&stream, &[e]).unwrap();
    assert_eq!(out.len(), stream.len());
    let diff: Vec<usize> = (0..out.len()).filter(|&i| out[i] != stream[i]).collect();
    assert_eq!(diff, vec![34, 35]);
    let again = split(&out);
    assert_eq!(again.msgs[1].peer_call_id().unwrap().value, 0xbeef);
    assert_eq!(again.msgs[1].call_id().unwrap().value, 0x1111);
}

#[test]
fn parse_at_far_offsets_does_not_overflow() {
    let b = m(MsgType::Ccrq, &[]);
    for at in [b.len(), b.len() + 1, usize::MAX - 1, usize::MAX] {
        assert!(matches!(parse_at(&b, at), Ok(Frame::Incomplete { .. })));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// Any bytes: no panic, the messages tile the framed prefix, every
    /// call ID lies inside its message, and the end is consistent.
    #[test]
    fn any_payload_is_framed_consistently(data in proptest::collection::vec(any::<u8>(), 0..600)) {
        check_split(&data);
    }

    /// Valid streams with garbage spliced in somewhere.
    #[test]
    fn mutated_streams(types in proptest::collection::vec(0usize..15, 1..6),
                       pos in any::<prop::sample::Index>(),
                       byte in any::<u8>(),
                       cut in any::<prop::sample::Index>()) {
        let mut stream: Vec<u8> = types.iter().map(|&i| build(MsgType::ALL[i], &[0x12, 0x34, 0x56, 0x78])).collect::<Vec<_>>().concat();
        let p = pos.index(stream.len());
        stream[p] = byte;
        let c = cut.index(stream.len() + 1);
        check_split(&stream[..c]);
    }
}

fn check_split(data: &[u8]) {
    let s = split(data);
    let mut pieces: Vec<(usize, usize)> = s.msgs.iter().map(|x| (x.offset, x.len)).collect();
    for (o, e) in &s.skipped {
        assert!(e.skippable());
        let len = match e {
            MsgError::UnknownType { len, .. } | MsgError::Short { len, .. } => usize::from(*len),
            _ => unreachable!(),
        };
        pieces.push((*o, len));
    }
    pieces.sort_unstable();
    let mut at = 0;
    for (o, l) in pieces {
        assert_eq!(o, at);
        assert!((HEADER_LEN..=MAX_MSG_LEN).contains(&l));
        at += l;
    }
    assert_eq!(at, s.framed);
    assert!(s.framed <= data.len());
    for x in &s.msgs {
        for c in [x.call_id(), x.peer_call_id()].into_iter().flatten() {
            assert!(c.offset >= x.offset + HEADER_LEN && c.offset + 2 <= x.end());
            assert_eq!(&data[c.offset..c.offset + 2], &c.value.to_be_bytes());
        }
        assert!(x.len >= x.msg_type().min_len());
    }
    match s.end {
        End::Complete => assert_eq!(s.framed, data.len()),
        End::Partial { offset, need } => {
            assert_eq!(offset, s.framed);
            assert!(need > 0 && offset + need <= offset + MAX_MSG_LEN);
        }
        End::Error { offset, error } => {
            assert_eq!(offset, s.framed);
            assert!(!error.skippable());
        }
    }
}

// ---- the third-party captures ----------------------------------------

mod captures {
    use super::*;
    use std::collections::HashMap;
    use std::path::{Path, PathBuf};

    fn shared() -> Option<PathBuf> {
        let d = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/pcaps");
        if d.is_dir() {
            Some(d)
        } else {
            eprintln!("skipped: ../shared/pcaps absent");
            None
        }
    }

    /// One TCP segment of a capture: frame number (1-based), flow, seq,
    /// payload.
    type Flow = (Vec<u8>, u16, Vec<u8>, u16);

    struct Seg {
        frame: usize,
        flow: Flow,
        seq: u32,
        payload: Vec<u8>,
    }

    fn u16be(b: &[u8], o: usize) -> Option<u16> {
        Some(u16::from_be_bytes([*b.get(o)?, *b.get(o + 1)?]))
    }

    /// TCP segments of a classic pcap (Ethernet/VLAN, Linux SLL, raw IP;
    /// IPv4 and IPv6 without extension headers). Not a general reader:
    /// enough for the captures at hand, and it says what it cannot read.
    fn tcp_segments(path: &Path) -> Vec<Seg> {
        let data = std::fs::read(path).unwrap();
        let magic = u32::from_le_bytes(data[0..4].try_into().unwrap());
        let le = match magic {
            0xa1b2_c3d4 | 0xa1b2_3c4d => true,
            0xd4c3_b2a1 | 0x4d3c_b2a1 => false,
            _ => panic!("{}: not a classic pcap (magic {magic:#x})", path.display()),
        };
        let rd32 = |o: usize| {
            let b: [u8; 4] = data[o..o + 4].try_into().unwrap();
            if le {
                u32::from_le_bytes(b)
            } else {
                u32::from_be_bytes(b)
            }
        };
        let link = rd32(20);
        let mut out = Vec::new();
        let mut at = 24;
        let mut frame = 0;
        while at + 16 <= data.len() {
            frame += 1;
            let incl = rd32(at + 8) as usize;
            let pkt = &data[at + 16..(at + 16 + incl).min(data.len())];
            at += 16 + incl;
            let (mut ethertype, mut l3) = match link {
                1 => (u16be(pkt, 12), 14),
                113 => (u16be(pkt, 14), 16),
                101 | 228 | 229 => (None, 0),
                other => panic!("{}: link type {other}", path.display()),
            };
            while ethertype == Some(0x8100) || ethertype == Some(0x88a8) {
                ethertype = u16be(pkt, l3 + 2);
                l3 += 4;
            }
            let Some(ip) = pkt.get(l3..) else { continue };
            let version = ip.first().map(|b| b >> 4);
            let (src, dst, proto, l4) = match (ethertype, version) {
                (Some(0x0800) | None, Some(4)) => {
                    let ihl = usize::from(ip[0] & 0xf) * 4;
                    let total = usize::from(u16be(ip, 2).unwrap_or(0));
                    let frag = u16be(ip, 6).unwrap_or(0) & 0x3fff;
                    if frag != 0 || ip.len() < 20 {
                        continue;
                    }
                    (
                        ip[12..16].to_vec(),
                        ip[16..20].to_vec(),
                        ip[9],
                        &ip[ihl..total.min(ip.len())],
                    )
                }
                (Some(0x86dd) | None, Some(6)) if ip.len() >= 40 => {
                    let plen = usize::from(u16be(ip, 4).unwrap_or(0));
                    (
                        ip[8..24].to_vec(),
                        ip[24..40].to_vec(),
                        ip[6],
                        &ip[40..(40 + plen).min(ip.len())],
                    )
                }
                _ => continue,
            };
            if proto != 6 || l4.len() < 20 {
                continue;
            }
            let (sp, dp) = (u16be(l4, 0).unwrap(), u16be(l4, 2).unwrap());
            if sp != CONTROL_PORT && dp != CONTROL_PORT {
                continue;
            }
            let seq = u32::from_be_bytes(l4[4..8].try_into().unwrap());
            let doff = usize::from(l4[12] >> 4) * 4;
            let payload = l4.get(doff..).unwrap_or_default().to_vec();
            if payload.is_empty() {
                continue;
            }
            out.push(Seg {
                frame,
                flow: (src, sp, dst, dp),
                seq,
                payload,
            });
        }
        out
    }

    /// (frame where the message completes, type code, call ID, peer's call ID)
    type Row = (usize, u16, Option<u16>, Option<u16>);

    /// Reassembles each direction (in order, duplicates dropped, a gap
    /// restarts the stream) and splits it. Returns the messages and the
    /// framing problems met.
    fn messages(segs: &[Seg]) -> (Vec<Row>, Vec<String>) {
        struct Dir {
            next: u32,
            buf: Vec<u8>,
        }
        let mut dirs: HashMap<&Flow, Dir> = HashMap::new();
        let mut rows = Vec::new();
        let mut problems = Vec::new();
        for s in segs {
            let d = dirs.entry(&s.flow).or_insert(Dir {
                next: s.seq,
                buf: Vec::new(),
            });
            let off = s.seq.wrapping_sub(d.next);
            let new: &[u8] = if off == 0 {
                &s.payload
            } else if off > u32::MAX / 2 {
                // Starts before `next`: keep what is beyond it.
                let dup = d.next.wrapping_sub(s.seq) as usize;
                s.payload.get(dup..).unwrap_or_default()
            } else {
                problems.push(format!("frame {}: gap of {off} bytes", s.frame));
                d.buf.clear();
                &s.payload
            };
            if new.is_empty() {
                continue;
            }
            d.next = s.seq.wrapping_add(s.payload.len() as u32);
            d.buf.extend_from_slice(new);
            let sp = split(&d.buf);
            for x in &sp.msgs {
                rows.push((
                    s.frame,
                    x.msg_type().code(),
                    x.call_id().map(|c| c.value),
                    x.peer_call_id().map(|c| c.value),
                ));
            }
            for (o, e) in &sp.skipped {
                problems.push(format!("frame {}: skipped at {o}: {e}", s.frame));
            }
            match sp.end {
                End::Error { offset, error } => {
                    problems.push(format!("frame {}: at {offset}: {error}", s.frame));
                    d.buf.clear();
                }
                _ => {
                    d.buf.drain(..sp.framed);
                }
            }
        }
        (rows, problems)
    }

    /// tshark's view of the same capture, or None without tshark.
    fn tshark(path: &Path) -> Option<Vec<Row>> {
        let out = std::process::Command::new("tshark")
            .args(["-n", "-r"])
            .arg(path)
            .args([
                "-Y",
                "pptp",
                "-T",
                "fields",
                "-E",
                "occurrence=a",
                "-E",
                "aggregator=,",
                "-e",
                "frame.number",
                "-e",
                "pptp.control_message_type",
                "-e",
                "pptp.call_id",
                "-e",
                "pptp.peer_call_id",
            ])
            .output()
            .ok()?;
        if !out.status.success() {
            return None;
        }
        let mut rows = Vec::new();
        for line in String::from_utf8_lossy(&out.stdout).lines() {
            let f: Vec<&str> = line.split('\t').collect();
            let frame: usize = f[0].parse().unwrap();
            let types: Vec<u16> = f[1].split(',').map(|t| t.parse().unwrap()).collect();
            let mut calls = f.get(2).unwrap_or(&"").split(',').filter(|x| !x.is_empty());
            let mut peers = f.get(3).unwrap_or(&"").split(',').filter(|x| !x.is_empty());
            for t in types {
                let ty = MsgType::from_code(t).unwrap();
                let has_call = matches!(
                    ty,
                    MsgType::Ocrq
                        | MsgType::Ocrp
                        | MsgType::Icrq
                        | MsgType::Icrp
                        | MsgType::Ccrq
                        | MsgType::Cdn
                );
                let has_peer = matches!(
                    ty,
                    MsgType::Ocrp | MsgType::Icrp | MsgType::Iccn | MsgType::Wen | MsgType::Sli
                );
                let c = has_call.then(|| calls.next().unwrap().parse().unwrap());
                let p = has_peer.then(|| peers.next().unwrap().parse().unwrap());
                rows.push((frame, t, c, p));
            }
        }
        Some(rows)
    }

    #[test]
    fn shared_pptp_captures() {
        let Some(dir) = shared() else { return };
        let mut files: Vec<PathBuf> = std::fs::read_dir(dir.join("pptp"))
            .map(|r| r.filter_map(|e| e.ok().map(|e| e.path())).collect())
            .unwrap_or_default();
        files.retain(|p| p.extension().is_some_and(|e| e == "pcap"));
        files.sort();
        assert!(!files.is_empty(), "no captures in ../shared/pcaps/pptp");
        for f in &files {
            let name = f.file_name().unwrap().to_string_lossy();
            let segs = tcp_segments(f);
            let (rows, problems) = messages(&segs);
            let types: Vec<&str> = rows
                .iter()
                .map(|r| MsgType::from_code(r.1).unwrap().abbrev())
                .collect();
            eprintln!(
                "{name}: {} tcp/1723 segments with payload, {} control messages: {}",
                segs.len(),
                rows.len(),
                types.join(" ")
            );
            assert!(problems.is_empty(), "{name}: {problems:?}");
            match tshark(f) {
                Some(want) => assert_eq!(rows, want, "{name}: ours vs tshark's pptp dissector"),
                None => eprintln!("{name}: tshark not available, not cross-checked"),
            }
        }
    }
}
