//! Decoding of the fuzz input's header, shared by the targets
//! (`#[path = "common/mod.rs"] mod common;`). Reads past the end give zeros.
#![allow(dead_code)]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// `N` bytes of `d` at `at`, zero-padded.
pub fn bytes<const N: usize>(d: &[u8], at: usize) -> [u8; N] {
    let mut out = [0u8; N];
    for (i, o) in out.iter_mut().enumerate() {
        *o = d.get(at + i).copied().unwrap_or(0);
    }
    out
}

/// Address number `i` of a table of 16-byte slots at `table` (IPv4 uses the
/// first 4 bytes of a slot).
pub fn addr(d: &[u8], table: usize, i: usize, v6: bool) -> IpAddr {
    let raw: [u8; 16] = bytes(d, table + 16 * i);
    if v6 {
        IpAddr::V6(Ipv6Addr::from(raw))
    } else {
        IpAddr::V4(Ipv4Addr::new(raw[0], raw[1], raw[2], raw[3]))
    }
}

/// Port number `i` of a table of big-endian u16 at `table`.
pub fn port(d: &[u8], table: usize, i: usize) -> u16 {
    u16::from_be_bytes(bytes(d, table + 2 * i))
}
