//! Capture files: a pcap / pcapng reader that names the byte offset of any
//! damage, and a small pcapng writer.
//!
//! Hand-written rather than `pcap-parser` so that every error can say where
//! in the file it is, and so that nothing is buffered beyond one record.

use std::fmt;

/// Largest record we accept (the libpcap limit for most link types).
const MAX_RECORD: u32 = 0x0400_0000;

/// One packet of the capture.
#[derive(Debug, Clone)]
pub struct Frame<'a> {
    /// 1-based frame number.
    pub number: u64,
    /// Timestamp in nanoseconds since the epoch.
    pub ts_ns: u64,
    /// Output interface index (see [`Reader::interfaces`]).
    pub iface: usize,
    pub linktype: u16,
    pub data: &'a [u8],
    /// Length of the packet on the wire (≥ `data.len()` when truncated).
    pub orig_len: u32,
}

/// A damaged or unsupported file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaptureError {
    pub offset: usize,
    pub what: String,
}

impl fmt::Display for CaptureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "at byte offset {}: {}", self.offset, self.what)
    }
}

impl std::error::Error for CaptureError {}

fn err<T>(offset: usize, what: impl Into<String>) -> Result<T, CaptureError> {
    Err(CaptureError {
        offset,
        what: what.into(),
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Pcap { nanos: bool, linktype: u16 },
    Pcapng,
}

#[derive(Debug, Clone, Copy)]
struct NgIface {
    out: usize,
    linktype: u16,
    /// Timestamp units per second.
    units_per_sec: u64,
}

/// Reads a whole capture held in memory.
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    big_endian: bool,
    format: Format,
    /// Link types of the output interfaces, in order of appearance.
    pub interfaces: Vec<u16>,
    /// Interfaces of the current pcapng section.
    section: Vec<NgIface>,
    next_number: u64,
}

fn u16_at(b: &[u8], at: usize, be: bool) -> Option<u16> {
    let s: [u8; 2] = b.get(at..at + 2)?.try_into().ok()?;
    Some(if be {
        u16::from_be_bytes(s)
    } else {
        u16::from_le_bytes(s)
    })
}

fn u32_at(b: &[u8], at: usize, be: bool) -> Option<u32> {
    let s: [u8; 4] = b.get(at..at + 4)?.try_into().ok()?;
    Some(if be {
        u32::from_be_bytes(s)
    } else {
        u32::from_le_bytes(s)
    })
}

const SHB: u32 = 0x0A0D_0D0A;
const BOM: u32 = 0x1A2B_3C4D;

impl<'a> Reader<'a> {
    pub fn new(buf: &'a [u8]) -> Result<Self, CaptureError> {
        let Some(magic) = u32_at(buf, 0, false) else {
            return err(0, "file too short for a capture header");
        };
        let mut r = Reader {
            buf,
            pos: 0,
            big_endian: false,
            format: Format::Pcapng,
            interfaces: Vec::new(),
            section: Vec::new(),
            next_number: 1,
        };
        let pcap = |be: bool, nanos: bool, r: &mut Reader<'a>| -> Result<(), CaptureError> {
            if buf.len() < 24 {
                return err(buf.len(), "truncated pcap file header (24 bytes needed)");
            }
            r.big_endian = be;
            let network = u32_at(buf, 20, be).unwrap_or(0);
            let linktype = (network & 0xFFFF) as u16;
            r.format = Format::Pcap { nanos, linktype };
            r.interfaces.push(linktype);
            r.pos = 24;
            Ok(())
        };
        match magic {
            0xA1B2_C3D4 => pcap(false, false, &mut r)?,
            0xD4C3_B2A1 => pcap(true, false, &mut r)?,
            0xA1B2_3C4D => pcap(false, true, &mut r)?,
            0x4D3C_B2A1 => pcap(true, true, &mut r)?,
            SHB => {} // parsed as the first block
            _ => {
                return err(
                    0,
                    format!("not a pcap or pcapng file (magic {magic:#010x})"),
                )
            }
        }
        Ok(r)
    }

    /// How far into the file the reader is: the frames returned so far end
    /// before this offset.
    pub fn position(&self) -> usize {
        self.pos
    }

    /// The next packet, `None` at the end of the file.
    pub fn next_frame(&mut self) -> Result<Option<Frame<'a>>, CaptureError> {
        match self.format {
            Format::Pcap { nanos, linktype } => self.next_pcap(nanos, linktype),
            Format::Pcapng => self.next_ng(),
        }
    }

    fn next_pcap(&mut self, nanos: bool, linktype: u16) -> Result<Option<Frame<'a>>, CaptureError> {
        let at = self.pos;
        if at == self.buf.len() {
            return Ok(None);
        }
        let be = self.big_endian;
        let hdr = |i: usize| u32_at(self.buf, at + i, be);
        let (Some(sec), Some(frac), Some(caplen), Some(len)) = (hdr(0), hdr(4), hdr(8), hdr(12))
        else {
            return err(at, "truncated pcap record header");
        };
        if caplen > MAX_RECORD {
            return err(at, format!("pcap record length {caplen} is implausible"));
        }
        let start = at + 16;
        let Some(data) = self.buf.get(start..start + caplen as usize) else {
            return err(
                at,
                format!(
                    "truncated pcap record: {} announced, {} present",
                    helpers::text::count(u64::from(caplen), "byte"),
                    self.buf.len() - start.min(self.buf.len())
                ),
            );
        };
        self.pos = start + caplen as usize;
        let frac_ns = if nanos {
            u64::from(frac)
        } else {
            u64::from(frac) * 1000
        };
        Ok(Some(self.frame(
            u64::from(sec) * 1_000_000_000 + frac_ns,
            0,
            linktype,
            data,
            len.max(caplen),
        )))
    }

    fn frame(&mut self, ts_ns: u64, iface: usize, lt: u16, data: &'a [u8], len: u32) -> Frame<'a> {
        let number = self.next_number;
        self.next_number += 1;
        Frame {
            number,
            ts_ns,
            iface,
            linktype: lt,
            data,
            orig_len: len,
        }
    }

    fn next_ng(&mut self) -> Result<Option<Frame<'a>>, CaptureError> {
        loop {
            let at = self.pos;
            if at == self.buf.len() {
                return Ok(None);
            }
            let Some(btype) = u32_at(self.buf, at, self.big_endian) else {
                return err(at, "truncated pcapng block header");
            };
            if btype == SHB {
                let bom = u32_at(self.buf, at + 8, false);
                self.big_endian = match bom {
                    Some(BOM) => false,
                    Some(0x4D3C_2B1A) => true,
                    Some(_) => return err(at + 8, "bad pcapng byte-order magic"),
                    None => return err(at, "truncated pcapng section header"),
                };
                self.section.clear();
            }
            let be = self.big_endian;
            let Some(blen) = u32_at(self.buf, at + 4, be) else {
                return err(at, "truncated pcapng block header");
            };
            if blen < 12 || blen % 4 != 0 || blen > MAX_RECORD {
                return err(at, format!("bad pcapng block length {blen}"));
            }
            let end = at + blen as usize;
            if end > self.buf.len() {
                return err(
                    at,
                    format!(
                        "truncated pcapng block: {} announced, {} present",
                        helpers::text::count(u64::from(blen), "byte"),
                        self.buf.len() - at
                    ),
                );
            }
            if u32_at(self.buf, end - 4, be) != Some(blen) {
                return err(
                    end - 4,
                    "pcapng block trailer length differs from its header",
                );
            }
            self.pos = end;
            let body = &self.buf[at + 8..end - 4];
            match btype {
                SHB => {}
                1 => self.idb(at, body)?,
                6 | 2 => {
                    // EPB: if id u32, ts hi, ts lo, caplen, len.
                    // Obsolete packet block: if id u16, drops u16, then the same.
                    let id = if btype == 6 {
                        u32_at(body, 0, be)
                    } else {
                        u16_at(body, 0, be).map(u32::from)
                    };
                    let f = |i| u32_at(body, i, be);
                    let (Some(id), Some(hi), Some(lo), Some(caplen), Some(len)) =
                        (id, f(4), f(8), f(12), f(16))
                    else {
                        return err(at, "pcapng packet block too short");
                    };
                    let Some(data) = body.get(20..20 + caplen as usize) else {
                        return err(at, "pcapng packet block: captured length exceeds the block");
                    };
                    let Some(ifc) = self.section.get(id as usize).copied() else {
                        return err(
                            at,
                            format!("pcapng packet block for unknown interface {id}"),
                        );
                    };
                    let ts = (u64::from(hi) << 32) | u64::from(lo);
                    let ts_ns = scale_ts(ts, ifc.units_per_sec);
                    return Ok(Some(self.frame(
                        ts_ns,
                        ifc.out,
                        ifc.linktype,
                        data,
                        len.max(caplen),
                    )));
                }
                3 => {
                    let Some(len) = u32_at(body, 0, be) else {
                        return err(at, "pcapng simple packet block too short");
                    };
                    let Some(ifc) = self.section.first().copied() else {
                        return err(at, "pcapng simple packet block before any interface");
                    };
                    let avail = body.len() - 4;
                    let data = &body[4..4 + avail.min(len as usize)];
                    return Ok(Some(self.frame(0, ifc.out, ifc.linktype, data, len)));
                }
                _ => {} // name resolution, statistics, custom…: ignored
            }
        }
    }

    fn idb(&mut self, at: usize, body: &[u8]) -> Result<(), CaptureError> {
        let be = self.big_endian;
        let Some(linktype) = u16_at(body, 0, be) else {
            return err(at, "pcapng interface block too short");
        };
        if body.len() < 8 {
            return err(at, "pcapng interface block too short");
        }
        let mut units = 1_000_000u64;
        let mut o = 8;
        while o + 4 <= body.len() {
            let code = u16_at(body, o, be).unwrap_or(0);
            let olen = usize::from(u16_at(body, o + 2, be).unwrap_or(0));
            if code == 0 {
                break;
            }
            let Some(val) = body.get(o + 4..o + 4 + olen) else {
                return err(at + 8 + o, "pcapng option runs past its block");
            };
            if code == 9 && olen == 1 {
                let r = val[0];
                let exp = u32::from(r & 0x7F);
                units = if r & 0x80 != 0 {
                    2u64.checked_pow(exp)
                } else {
                    10u64.checked_pow(exp)
                }
                .filter(|u| *u > 0)
                .ok_or(CaptureError {
                    offset: at + 8 + o,
                    what: format!("unsupported pcapng timestamp resolution {r:#x}"),
                })?;
            }
            o += 4 + olen.div_ceil(4) * 4;
        }
        self.section.push(NgIface {
            out: self.interfaces.len(),
            linktype,
            units_per_sec: units,
        });
        self.interfaces.push(linktype);
        Ok(())
    }
}

fn scale_ts(ts: u64, units: u64) -> u64 {
    let ns = u128::from(ts) * 1_000_000_000 / u128::from(units);
    u64::try_from(ns).unwrap_or(u64::MAX)
}

/// A pcapng writer (one section, microsecond timestamps).
pub struct Writer {
    pub out: Vec<u8>,
    ifaces: usize,
}

impl Writer {
    /// A section header and one interface block per link type given.
    pub fn new(linktypes: &[u16]) -> Self {
        let mut w = Writer {
            out: Vec::new(),
            ifaces: 0,
        };
        let mut shb = Vec::new();
        shb.extend_from_slice(&BOM.to_le_bytes());
        shb.extend_from_slice(&1u16.to_le_bytes());
        shb.extend_from_slice(&0u16.to_le_bytes());
        shb.extend_from_slice(&u64::MAX.to_le_bytes()); // section length unknown
        w.block(SHB, &shb);
        for &lt in linktypes {
            w.add_interface(lt);
        }
        w
    }

    pub fn add_interface(&mut self, linktype: u16) {
        let mut idb = Vec::new();
        idb.extend_from_slice(&linktype.to_le_bytes());
        idb.extend_from_slice(&0u16.to_le_bytes());
        idb.extend_from_slice(&0u32.to_le_bytes()); // no snap length
        self.block(1, &idb);
        self.ifaces += 1;
    }

    pub fn packet(&mut self, iface: usize, ts_ns: u64, data: &[u8], orig_len: u32) {
        let us = ts_ns / 1000;
        let mut epb = Vec::with_capacity(data.len() + 24);
        epb.extend_from_slice(&(iface as u32).to_le_bytes());
        epb.extend_from_slice(&((us >> 32) as u32).to_le_bytes());
        epb.extend_from_slice(&(us as u32).to_le_bytes());
        epb.extend_from_slice(&(data.len() as u32).to_le_bytes());
        epb.extend_from_slice(&orig_len.max(data.len() as u32).to_le_bytes());
        epb.extend_from_slice(data);
        self.block(6, &epb);
    }

    fn block(&mut self, btype: u32, body: &[u8]) {
        let pad = (4 - body.len() % 4) % 4;
        let total = (12 + body.len() + pad) as u32;
        self.out.extend_from_slice(&btype.to_le_bytes());
        self.out.extend_from_slice(&total.to_le_bytes());
        self.out.extend_from_slice(body);
        self.out.extend(std::iter::repeat_n(0u8, pad));
        self.out.extend_from_slice(&total.to_le_bytes());
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A little-endian microsecond pcap file.
    pub(crate) fn pcap(linktype: u32, packets: &[&[u8]]) -> Vec<u8> {
        let mut v = Vec::new();
        for x in [0xA1B2_C3D4u32, 0x0004_0002, 0, 0, 65535, linktype] {
            v.extend_from_slice(&x.to_le_bytes());
        }
        for (i, p) in packets.iter().enumerate() {
            for x in [1000 + i as u32, 5, p.len() as u32, p.len() as u32] {
                v.extend_from_slice(&x.to_le_bytes());
            }
            v.extend_from_slice(p);
        }
        v
    }

    type Got = Vec<(u64, u16, Vec<u8>, u64)>;

    fn all(buf: &[u8]) -> Result<Got, CaptureError> {
        let mut r = Reader::new(buf)?;
        let mut out = Vec::new();
        while let Some(f) = r.next_frame()? {
            out.push((f.number, f.linktype, f.data.to_vec(), f.ts_ns));
        }
        Ok(out)
    }

    #[test]
    fn pcap_both_byte_orders_and_nanos() {
        let le = pcap(1, &[b"abc", b"de"]);
        let got = all(&le).unwrap();
        assert_eq!(got.len(), 2);
        assert_eq!(got[1], (2, 1, b"de".to_vec(), 1_001_000_005_000));
        // Same file big-endian with nanosecond magic.
        let mut be = Vec::new();
        for x in [0xA1B2_3C4Du32, 0x0002_0004, 0, 0, 65535, 113] {
            be.extend_from_slice(&x.to_be_bytes());
        }
        for x in [7u32, 9, 1, 1] {
            be.extend_from_slice(&x.to_be_bytes());
        }
        be.push(0x45);
        let got = all(&be).unwrap();
        assert_eq!(got, vec![(1, 113, vec![0x45], 7_000_000_009)]);
    }

    #[test]
    fn pcapng_roundtrip_and_resolution() {
        let mut w = Writer::new(&[1, 101]);
        w.packet(1, 1_500_000_123_000, b"hello", 5);
        w.packet(0, 2_000_000_000_000, b"x", 60);
        let got = all(&w.out).unwrap();
        assert_eq!(got[0], (1, 101, b"hello".to_vec(), 1_500_000_123_000));
        assert_eq!(got[1].1, 1);
        // Nanosecond interface: if_tsresol = 9.
        let mut buf = w.out[..28].to_vec(); // the SHB
        let idb: Vec<u8> = [
            &1u32.to_le_bytes()[..],
            &28u32.to_le_bytes(),
            &276u16.to_le_bytes(),
            &[0, 0],
            &[0, 0, 0, 0],
            &9u16.to_le_bytes(),
            &1u16.to_le_bytes(),
            &[9, 0, 0, 0],
            &28u32.to_le_bytes(),
        ]
        .concat();
        buf.extend_from_slice(&idb);
        let mut w2 = Writer::new(&[]);
        w2.out.clear();
        w2.block(
            6,
            &[
                &0u32.to_le_bytes()[..],
                &0u32.to_le_bytes(),
                &77u32.to_le_bytes(),
                &1u32.to_le_bytes(),
                &1u32.to_le_bytes(),
                &[0xAA],
            ]
            .concat(),
        );
        buf.extend_from_slice(&w2.out);
        let got = all(&buf).unwrap();
        assert_eq!(got, vec![(1, 276, vec![0xAA], 77)]);
    }

    #[test]
    fn big_endian_pcapng_and_simple_packet_blocks() {
        fn block(v: &mut Vec<u8>, t: u32, body: &[u8]) {
            let total = (12 + body.len()) as u32;
            v.extend_from_slice(&t.to_be_bytes());
            v.extend_from_slice(&total.to_be_bytes());
            v.extend_from_slice(body);
            v.extend_from_slice(&total.to_be_bytes());
        }
        let mut v = Vec::new();
        let shb = [
            &BOM.to_be_bytes()[..],
            &[0, 1, 0, 0],
            &u64::MAX.to_be_bytes(),
        ]
        .concat();
        block(&mut v, SHB, &shb);
        block(
            &mut v,
            1,
            &[&113u16.to_be_bytes()[..], &[0, 0], &[0, 0, 0, 0]].concat(),
        );
        // Unknown block types are skipped.
        block(&mut v, 0x0000_0BAD, &[1, 2, 3, 4]);
        block(
            &mut v,
            3,
            &[&3u32.to_be_bytes()[..], &[7, 8, 9, 0]].concat(),
        );
        let epb = [
            &0u32.to_be_bytes()[..],
            &0u32.to_be_bytes(),
            &2_000_000u32.to_be_bytes(),
            &2u32.to_be_bytes(),
            &2u32.to_be_bytes(),
            &[5, 6, 0, 0],
        ]
        .concat();
        block(&mut v, 6, &epb);
        let got = all(&v).unwrap();
        assert_eq!(
            got,
            vec![
                (1, 113, vec![7, 8, 9], 0),
                (2, 113, vec![5, 6], 2_000_000_000)
            ]
        );
        // A packet for an interface that was never described.
        let mut bad = v.clone();
        let at = bad.len() - epb.len() - 4;
        bad[at..at + 4].copy_from_slice(&5u32.to_be_bytes());
        let e = all(&bad).unwrap_err();
        assert!(e.what.contains("unknown interface 5"), "{e}");
    }

    #[test]
    fn truncation_names_the_offset() {
        let f = pcap(1, &[b"abcdef", b"ghijkl"]);
        // Cut inside the second record's data.
        for cut in [3, 23, 30, 40, 50, f.len() - 1] {
            let e = all(&f[..cut]).unwrap_err();
            assert!(e.offset <= cut, "{e}");
        }
        let e = all(&f[..f.len() - 2]).unwrap_err();
        assert_eq!(e.offset, 24 + 16 + 6, "{e}");
        let mut w = Writer::new(&[1]);
        w.packet(0, 0, b"abcdefgh", 8);
        // Cuts at block boundaries (after the SHB, after the IDB) leave a
        // valid file without packets; any other cut is an error.
        for cut in 1..w.out.len() {
            match all(&w.out[..cut]) {
                Ok(p) => assert!(p.is_empty() && (cut == 28 || cut == 48), "cut {cut}"),
                Err(e) => assert!(e.offset < cut, "cut {cut}: {e}"),
            }
        }
        assert!(all(b"garbage!garbage!garbage!garbage!").is_err());
        assert!(all(&[]).is_err());
    }

    #[test]
    fn fuzz_like_inputs_never_panic() {
        let mut w = Writer::new(&[1]);
        w.packet(0, 0, b"abcdefgh", 8);
        let base = w.out.clone();
        let mut seed = 1u32;
        for _ in 0..2000 {
            let mut b = base.clone();
            for _ in 0..3 {
                seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
                let i = (seed >> 8) as usize % b.len();
                b[i] = (seed >> 16) as u8;
            }
            let _ = all(&b);
        }
    }
}
