//! Fuzzes the PPTP control-message parser (`helpers::pptp::msg`) and the
//! GRE tuple rules (`helpers::pptp::gre`). Nothing may panic, and:
//! - the whole messages and the skipped ones tile the framed prefix; every
//!   call ID lies inside its message and equals the bytes there;
//! - framing a prefix of the stream finds the same messages (those that
//!   end inside the prefix), and a `Partial` end says exactly how many
//!   bytes the whole stream has for that message;
//! - rewriting every call ID (same-length 2-byte edits) keeps the framing
//!   and shows the new values.
//!
//! Input: byte 0 bit 0 = 0: the rest is the payload as is; = 1: the rest is
//! a recipe, so the fuzzer reaches deep into valid streams without a seed
//! corpus — chunks of `[type index, n, n body bytes]` become well-formed
//! messages (`msg::build`), then the last 4 bytes of the recipe (if any)
//! flip one byte of the stream (position, value) and cut it. Bits 1–7 of
//! byte 0 seed the values written by the rewrite.
#![no_main]

use helpers::edit;
use helpers::pptp::{gre, msg};
use libfuzzer_sys::fuzz_target;

fn payload_from(data: &[u8]) -> Vec<u8> {
    let Some((&mode, rest)) = data.split_first() else {
        return Vec::new();
    };
    if mode & 1 == 0 {
        return rest.to_vec();
    }
    let (recipe, tweak) = if rest.len() >= 4 {
        rest.split_at(rest.len() - 4)
    } else {
        (rest, &[][..])
    };
    let mut out = Vec::new();
    let mut i = 0;
    while let (Some(&t), Some(&n)) = (recipe.get(i), recipe.get(i + 1)) {
        let n = usize::from(n % 32);
        let body = recipe
            .get(i + 2..(i + 2 + n).min(recipe.len()))
            .unwrap_or(&[]);
        out.extend(msg::build(msg::MsgType::ALL[usize::from(t) % 15], body));
        i += 2 + n;
    }
    if let [p0, p1, v, c] = *tweak {
        if !out.is_empty() {
            let p = usize::from(u16::from_be_bytes([p0, p1])) % out.len();
            if v != 0 {
                out[p] = v;
            }
            let cut = out.len() - usize::from(c) % (out.len().min(64) + 1);
            out.truncate(cut);
        }
    }
    out
}

/// (offset, len) of every framed piece, whole or skipped, in order.
fn pieces(s: &msg::Split) -> Vec<(usize, usize)> {
    let mut p: Vec<(usize, usize)> = s.msgs.iter().map(|m| (m.offset, m.len)).collect();
    for (o, e) in &s.skipped {
        assert!(e.skippable(), "{e:?} skipped");
        match e {
            msg::MsgError::UnknownType { len, .. } | msg::MsgError::Short { len, .. } => {
                p.push((*o, usize::from(*len)))
            }
            _ => unreachable!(),
        }
    }
    p.sort_unstable();
    p
}

fn check(payload: &[u8]) -> msg::Split {
    let s = msg::split(payload);
    let mut at = 0;
    for (o, l) in pieces(&s) {
        assert_eq!(o, at, "pieces tile the framed prefix");
        assert!((msg::HEADER_LEN..=msg::MAX_MSG_LEN).contains(&l));
        at += l;
    }
    assert_eq!(at, s.framed);
    assert!(s.framed <= payload.len());
    for m in &s.msgs {
        assert!(m.len >= m.msg_type().min_len());
        for c in [m.call_id(), m.peer_call_id()].into_iter().flatten() {
            assert!(c.offset >= m.offset + msg::HEADER_LEN && c.offset + 2 <= m.end());
            assert_eq!(payload[c.offset..c.offset + 2], c.value.to_be_bytes());
        }
    }
    match s.end {
        msg::End::Complete => assert_eq!(s.framed, payload.len()),
        msg::End::Partial { offset, need } => {
            assert_eq!(offset, s.framed);
            assert!((1..=msg::MAX_MSG_LEN).contains(&need));
        }
        msg::End::Error { offset, error } => {
            assert_eq!(offset, s.framed);
            assert!(!error.skippable());
        }
    }
    s
}

fuzz_target!(|data: &[u8]| {
    let payload = payload_from(data);
    let whole = check(&payload);
    let whole_pieces = pieces(&whole);

    // Prefixes: the same framing, as far as it goes.
    for cut in [
        payload.len() / 3,
        payload.len() / 2,
        payload.len().saturating_sub(1),
    ] {
        let part = check(&payload[..cut]);
        let want: Vec<(usize, usize)> = whole_pieces
            .iter()
            .copied()
            .filter(|&(o, l)| o + l <= cut)
            .collect();
        assert_eq!(pieces(&part), want, "prefix {cut}");
        if let msg::End::Partial { offset, need } = part.end {
            // Something of the whole stream starts there.
            let there = whole_pieces.iter().find(|&&(o, _)| o == offset);
            match (there, whole.end) {
                (Some(&(_, l)), _) => {
                    if cut - offset >= 2 {
                        assert_eq!(l, cut - offset + need, "exact need");
                    } else {
                        assert!(l >= cut - offset + need);
                    }
                }
                (None, msg::End::Partial { offset: o, .. } | msg::End::Error { offset: o, .. }) => {
                    assert_eq!(o, offset)
                }
                (None, msg::End::Complete) => panic!("partial at {offset} of nothing"),
            }
        }
    }

    // Rewrite every call ID; the framing stays, the values change.
    let seed = u16::from(data.first().copied().unwrap_or(0) >> 1);
    let mut edits = Vec::new();
    let mut want = Vec::new();
    for (i, m) in whole.msgs.iter().enumerate() {
        for (j, c) in [m.call_id(), m.peer_call_id()]
            .into_iter()
            .flatten()
            .enumerate()
        {
            let v = seed.wrapping_mul(31).wrapping_add((i * 2 + j) as u16);
            let e = c.rewrite(v);
            assert_eq!((e.len, e.new.len(), e.delta()), (2, 2, 0));
            edits.push(e);
            want.push((c.offset, v));
        }
    }
    let out = edit::apply(&payload, &edits).expect("call-ID edits apply");
    assert_eq!(out.len(), payload.len());
    let again = msg::split(&out);
    assert_eq!(
        pieces(&again),
        whole_pieces,
        "same framing after the rewrite"
    );
    let got: Vec<(usize, u16)> = again
        .msgs
        .iter()
        .flat_map(|m| [m.call_id(), m.peer_call_id()].into_iter().flatten())
        .map(|c| (c.offset, c.value))
        .collect();
    assert_eq!(got, want);

    // GRE: the same bytes as a GRE header.
    let keys = gre::tuple_keys(&payload);
    if let Some(id) = gre::call_id(&payload) {
        assert_eq!(keys, Some((0, id)));
    }
    if let Some((src, _)) = keys {
        assert_eq!(src, 0, "no keymap: the source key is always 0");
    }
});
