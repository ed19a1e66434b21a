//! SIP helper properties: no panic on any input; edits always apply;
//! outcomes are self-consistent; TCP segmentation does not change the
//! decision.

mod common;
use common::{tuple, Done};

use helpers::sip::{Sip, STATE_LEN};
use helpers::testing::TestEnv as PropEnv;
use helpers::{edit, ConnView, Dir, ExpectError, Expectation, Helper, L4Proto, Packet, PrivData};
use proptest::prelude::*;

/// Plain, SNAT, DNAT and NAT66 connections over UDP or TCP.
fn conn(kind: u8, tcp: bool) -> ConnView {
    let p = if tcp { L4Proto::Tcp } else { L4Proto::Udp };
    match kind % 4 {
        0 => ConnView::plain(tuple(p, "10.0.0.10", 5060, "203.0.113.5", 5060)),
        1 => ConnView {
            orig: tuple(p, "10.0.0.10", 5060, "203.0.113.5", 5060),
            reply: tuple(p, "203.0.113.5", 5060, "198.51.100.1", 1030),
        },
        2 => ConnView {
            orig: tuple(p, "198.51.100.7", 5060, "203.0.113.1", 5060),
            reply: tuple(p, "10.0.0.5", 5060, "198.51.100.7", 5060),
        },
        _ => ConnView {
            orig: tuple(p, "fd00::10", 5060, "2001:db8:2::2", 5060),
            reply: tuple(p, "2001:db8:2::2", 5060, "2001:db8:ffff::1", 5060),
        },
    }
}

fn with_len(head: &str, body: &str) -> Vec<u8> {
    format!("{head}Content-Length: {}\r\n\r\n{body}", body.len()).into_bytes()
}

/// Valid messages touching every path, with addresses of `conn(kind)`.
fn samples(kind: u8) -> Vec<Vec<u8>> {
    let (me, peer, fam) = match kind % 4 {
        0 | 1 => ("10.0.0.10", "203.0.113.5", "IP4"),
        2 => ("198.51.100.7", "203.0.113.1", "IP4"),
        _ => ("[fd00::10]", "[2001:db8:2::2]", "IP6"),
    };
    let bare = me.trim_matches(|c| c == '[' || c == ']');
    let sdp = format!(
        "v=0\r\no=a 1 1 IN {fam} {bare}\r\ns=-\r\nc=IN {fam} {bare}\r\nt=0 0\r\n\
         m=audio 49170 RTP/AVP 0\r\na=rtcp:49171 IN {fam} {bare}\r\nm=video 0 RTP/AVP 31\r\n\
         m=image 5004 udptl t38\r\nc=IN {fam} {bare}\r\nm=video 6000 RTP/AVP 31\r\n"
    );
    let hdrs = |first: &str, cseq: &str| {
        format!(
            "{first}\r\nVia: SIP/2.0/UDP {me}:5060;branch=z9;rport=5060;received={bare};maddr={me}\r\n\
             v: SIP/2.0/TCP {me}:5060;branch=z9\r\nFrom: \"A, B\" <sip:a@{me}>;tag=1\r\nt: <sip:b@{peer}>\r\n\
             CSeq: {cseq}\r\nContact: <sip:a@{me}:5060;transport=udp>;expires=60, <sip:a@{me}:5062>\r\n\
             Expires: 120\r\nContent-Type: application/sdp\r\n"
        )
    };
    let mp = format!(
        "--xx\r\nContent-Type: text/plain\r\n\r\nhi\r\n--xx\r\nContent-Type: application/sdp\r\n\r\n{sdp}\r\n--xx--\r\n"
    );
    vec![
        with_len(
            &hdrs(&format!("INVITE sip:b@{peer} SIP/2.0"), "1 INVITE"),
            &sdp,
        ),
        with_len(&hdrs("SIP/2.0 200 OK", "1 INVITE"), &sdp),
        with_len(&hdrs("SIP/2.0 183 Progress", "1 PRACK"), &sdp),
        with_len(&hdrs(&format!("ACK sip:b@{peer} SIP/2.0"), "1 ACK"), &sdp),
        with_len(
            &hdrs(&format!("REGISTER sip:{peer} SIP/2.0"), "2 REGISTER"),
            "",
        ),
        with_len(&hdrs("SIP/2.0 200 OK", "2 REGISTER"), ""),
        with_len(&hdrs("SIP/2.0 486 Busy", "1 INVITE"), ""),
        with_len(&hdrs(&format!("BYE sip:b@{peer} SIP/2.0"), "3 BYE"), ""),
        with_len(
            &hdrs(&format!("UPDATE sip:b@{peer} SIP/2.0"), "4 UPDATE")
                .replace("application/sdp", "multipart/mixed; boundary=xx"),
            &mp,
        ),
    ]
}

#[derive(Debug, Clone)]
enum Mutation {
    Set(usize, u8),
    Insert(usize, Vec<u8>),
    Delete(usize, usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let interesting = prop::sample::select(vec![
        &b"\r\n"[..],
        b"\r\n ",
        b",",
        b";",
        b":",
        b"[",
        b"]",
        b"0",
        b"99999999999",
        b"m=audio 1 RTP\r\n",
        b"c=IN IP4 0.0.0.0\r\n",
        b"\r\n\r\n",
        b"sip:",
        b"@",
        b"Content-Length: 5\r\n",
        b"l:70000\r\n",
    ]);
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Set(i, b)),
        (any::<usize>(), interesting).prop_map(|(i, s)| Mutation::Insert(i, s.to_vec())),
        (any::<usize>(), 0usize..20).prop_map(|(i, n)| Mutation::Delete(i, n)),
    ]
}

fn mutate(mut m: Vec<u8>, muts: &[Mutation]) -> Vec<u8> {
    for mu in muts {
        let len = m.len().max(1);
        match mu {
            Mutation::Set(i, b) => {
                if let Some(x) = m.get_mut(i % len) {
                    *x = *b;
                }
            }
            Mutation::Insert(i, s) => {
                let at = i % (m.len() + 1);
                m.splice(at..at, s.iter().copied());
            }
            Mutation::Delete(i, n) => {
                let at = i % len;
                let end = (at + n).min(m.len());
                if at < end {
                    m.drain(at..end);
                }
            }
        }
    }
    m
}

fn check(
    sip: &Sip,
    conn: ConnView,
    dir: Dir,
    payload: &[u8],
    state: PrivData,
    env: &mut PropEnv,
) -> Done {
    let tcp = conn.orig.proto == L4Proto::Tcp;
    let pkt = Packet {
        conn,
        dir,
        payload,
        tcp_seq: tcp.then_some(7),
        state,
        ..Packet::EMPTY
    };
    let before: Vec<Expectation> = env.live().cloned().collect();
    let out = Done::checked(sip.handle(&pkt, env), env, &before);
    let edited = edit::apply(payload, &out.edits).expect("edits apply");
    assert_eq!(edited.len() as isize - payload.len() as isize, out.delta());
    if !conn.nat() {
        assert!(out.edits.is_empty());
    }
    if let Some(at) = out.incomplete {
        assert!(tcp && !out.drop && at < payload.len());
        // What comes before it is handled; the held message is untouched.
        assert!(out.edits.iter().all(|e| e.offset + e.len <= at));
        // Nothing but keep-alive newlines before it: nothing was decided.
        if payload[..at].iter().all(|&b| b == b'\r' || b == b'\n') {
            assert!(out.edits.is_empty() && out.expectations.is_empty() && out.state.is_none());
        }
    }
    if out.drop {
        assert!(out.edits.is_empty() && out.expectations.is_empty());
    }
    if before.is_empty() {
        assert_eq!(
            env.created, out.expectations,
            "reported = left in the table"
        );
    }
    for e in &out.expectations {
        assert!(e.nat.map_or(e.dport, |n| n.saved_port) >= 1024, "{e:?}");
        assert!(e.class == 0 || e.dport >= 1024, "{e:?}");
        assert_eq!(e.dst.is_ipv6(), conn.is_ipv6());
        if e.class != 0 {
            assert_eq!(e.proto, L4Proto::Udp);
        }
    }
    if let Some(s) = out.state {
        assert!(s.0[STATE_LEN..].iter().all(|&b| b == 0));
    }
    out
}

fn env(clash_mask: u16, fail: u8, seed: u32) -> PropEnv {
    PropEnv {
        clash_mask,
        fail: match fail % 8 {
            0 => Some(ExpectError::Full),
            1 => Some(ExpectError::Refused),
            _ => None,
        },
        seed,
        ..Default::default()
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn random_bytes_never_panic(
        payload in prop::collection::vec(any::<u8>(), 0..600),
        kind in any::<u8>(), tcp in any::<bool>(), reply in any::<bool>(),
        state in any::<[u8; 32]>(), clash in any::<u16>(), fail in any::<u8>(), seed in any::<u32>(),
    ) {
        let mut e = env(clash, fail, seed);
        let dir = if reply { Dir::Reply } else { Dir::Original };
        check(&Sip::default(), conn(kind, tcp), dir, &payload, PrivData(state), &mut e);
    }

    #[test]
    fn mutated_messages_never_panic(
        kind in any::<u8>(), which in any::<usize>(), tcp in any::<bool>(), reply in any::<bool>(),
        muts in prop::collection::vec(mutation(), 0..6),
        clash in prop::sample::select(vec![0u16, 0, 2, 0x8000, 0xffff]),
        fail in any::<u8>(), seed in any::<u32>(), direct in any::<bool>(),
    ) {
        let s = samples(kind);
        let m = mutate(s[which % s.len()].clone(), &muts);
        let mut e = env(clash, fail, seed);
        let dir = if reply { Dir::Reply } else { Dir::Original };
        let sip = Sip { direct_media: direct, ..Sip::default() };
        let out = check(&sip, conn(kind, tcp), dir, &m, PrivData::ZERO, &mut e);
        // Bounded work: the pair search and port search stop.
        prop_assert!(e.calls.len() <= 64 * 2 * 256 + 130);
        let _ = out;
    }

    /// A TCP message cut anywhere asks for more, and the whole message then
    /// gives the same outcome as in one piece.
    #[test]
    fn tcp_split_anywhere(kind in any::<u8>(), which in any::<usize>(), cut in any::<usize>()) {
        let s = samples(kind);
        let m = &s[which % s.len()];
        let at = 1 + cut % (m.len() - 1);
        let mut e = env(0, 2, 1);
        let part = check(&Sip::default(), conn(kind, true), Dir::Original, &m[..at], PrivData::ZERO, &mut e);
        prop_assert_eq!(part.incomplete, Some(0));
        let mut e1 = env(0, 2, 1);
        let whole = check(&Sip::default(), conn(kind, true), Dir::Original, m, PrivData::ZERO, &mut e1);
        prop_assert_eq!(whole.incomplete, None);
        let mut joined = m[..at].to_vec();
        joined.extend_from_slice(&m[at..]);
        let mut e2 = env(0, 2, 1);
        let again = check(&Sip::default(), conn(kind, true), Dir::Original, &joined, PrivData::ZERO, &mut e2);
        prop_assert_eq!(whole, again);
    }

    /// Two messages in one stream, the second cut anywhere: the first is
    /// decided as alone, the second is held from its start, and the second
    /// call (the held bytes and the rest, with the new state) decides as the
    /// second message alone after the first.
    #[test]
    fn tcp_second_message_held(kind in any::<u8>(), w1 in any::<usize>(), w2 in any::<usize>(),
                               cut in any::<usize>(), reply in any::<bool>()) {
        let s = samples(kind);
        let (a, b) = (&s[w1 % s.len()], &s[w2 % s.len()]);
        let at = cut % b.len();
        let c = conn(kind, true);
        let dir = if reply { Dir::Reply } else { Dir::Original };
        let seg1 = [&a[..], &b[..at]].concat();
        let mut e = env(0, 2, 1);
        let first = check(&Sip::default(), c, dir, &seg1, PrivData::ZERO, &mut e);
        // The first message alone.
        let mut ea = env(0, 2, 1);
        let alone = check(&Sip::default(), c, dir, a, PrivData::ZERO, &mut ea);
        if at == 0 {
            prop_assert_eq!(&first, &alone);
            return Ok(());
        }
        prop_assert_eq!(first.incomplete, Some(a.len()));
        prop_assert_eq!(&first.edits, &alone.edits);
        prop_assert_eq!(&first.expectations, &alone.expectations);
        prop_assert_eq!(first.state, alone.state);
        prop_assert_eq!(&e.removed, &ea.removed);
        // The second call, on the same table.
        let st = first.state.unwrap_or(PrivData::ZERO);
        let second = check(&Sip::default(), c, dir, b, st, &mut e);
        let mut eb = ea.clone();
        let b_alone = check(&Sip::default(), c, dir, b, st, &mut eb);
        prop_assert_eq!(second.incomplete, None);
        prop_assert_eq!(&second, &b_alone);
        prop_assert_eq!(&e.created, &eb.created);
        prop_assert_eq!(&e.removed, &eb.removed);
    }
}

#[test]
fn samples_make_expectations() {
    // The samples are meaningful: the INVITE of each connection expects media.
    for kind in 0..4u8 {
        let s = samples(kind);
        let mut e = env(0, 2, 1);
        let out = check(
            &Sip::default(),
            conn(kind, false),
            Dir::Original,
            &s[0],
            PrivData::ZERO,
            &mut e,
        );
        assert_eq!(out.expectations.len(), 6, "kind {kind}: {:?}", out.events);
    }
}
