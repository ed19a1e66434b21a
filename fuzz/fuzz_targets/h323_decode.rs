//! Fuzzes the H.323 ALIGNED PER decoder: RAS, Q.931 (one message and TPKT
//! segments) and H.245. Nothing may panic, and every address a decode
//! reports must lie inside the input with the bytes it claims.
//!
//! Input layout: byte 0 picks the entry point (mod 5: RAS, Q.931 message,
//! H.245 message, Q.931 segment, H.245 segment), the rest is the payload.
#![no_main]

use helpers::h323::{self, Found};
use libfuzzer_sys::fuzz_target;
use std::net::IpAddr;

fn check(buf: &[u8], found: &[Found]) {
    for f in found {
        let a = f.addr;
        let raw = match a.ip {
            IpAddr::V4(x) => x.octets().to_vec(),
            IpAddr::V6(x) => x.octets().to_vec(),
        };
        assert_eq!(
            &buf[a.ip_offset..a.ip_offset + raw.len()],
            &raw[..],
            "{f:?}"
        );
        assert_eq!(
            &buf[a.port_offset..a.port_offset + 2],
            &a.port.to_be_bytes(),
            "{f:?}"
        );
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&sel, buf)) = data.split_first() else {
        return;
    };
    match sel % 5 {
        0 => {
            if let Ok(r) = h323::decode_ras(buf) {
                check(buf, &r.addresses());
            }
        }
        1 => {
            if let Ok(q) = h323::decode_q931(buf) {
                assert!(q.uuie_offset + q.uuie_len <= buf.len());
                check(buf, &q.addresses());
            }
        }
        2 => {
            if let Ok(h) = h323::decode_h245(buf) {
                check(buf, &h.addresses());
            }
        }
        3 => {
            let s = h323::decode_q931_segment(buf);
            for (f, r) in &s.frames {
                assert!(f.offset + f.len <= buf.len());
                if let Ok(q) = r {
                    assert!(
                        q.uuie_offset >= f.offset && q.uuie_offset + q.uuie_len <= f.offset + f.len
                    );
                    check(buf, &q.addresses());
                }
            }
        }
        _ => {
            let s = h323::decode_h245_segment(buf);
            for (f, r) in &s.frames {
                assert!(f.offset + f.len <= buf.len());
                if let Ok(h) = r {
                    for a in h.addresses() {
                        assert!(a.addr.port_offset + 2 <= f.offset + f.len);
                    }
                    check(buf, &h.addresses());
                }
            }
        }
    }
});
