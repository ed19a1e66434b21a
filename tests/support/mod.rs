//! Fixture generator: captures of scripted sessions (TCP handshakes,
//! dialogues, UDP datagrams, the related flows) with correct checksums,
//! built with etherparse and written as pcap or pcapng by hand —
//! independent of the code under test. FTP is here; SIP, TFTP, IRC,
//! Amanda, H.323, SNMP and PPTP are in the submodules. Each protocol has its fixtures and its
//! golden replays; [`check_fixtures`] and [`check_goldens`] compare them
//! with what is in `fixtures/` (`REGENERATE=1` rewrites them).
#![allow(dead_code)]

pub mod amanda;
pub mod h323;
pub mod irc;
pub mod pptp;
pub mod sip;
pub mod snmp;
pub mod tftp;

use etherparse::PacketBuilder;
use std::net::IpAddr;
use std::path::PathBuf;

/// Link layer of a fixture.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Link {
    Ethernet,
    /// Ethernet with an 802.1Q tag.
    Vlan(u16),
    Raw,
    Sll,
    Sll2,
    /// BSD loopback, host (little-endian) byte order.
    Null,
}

impl Link {
    pub fn linktype(self) -> u16 {
        match self {
            Link::Ethernet | Link::Vlan(_) => 1,
            Link::Raw => 101,
            Link::Sll => 113,
            Link::Sll2 => 276,
            Link::Null => 0,
        }
    }
    fn wrap(self, ip: &[u8]) -> Vec<u8> {
        let v6 = ip.first().is_some_and(|b| b >> 4 == 6);
        let et: [u8; 2] = if v6 { [0x86, 0xDD] } else { [0x08, 0x00] };
        let macs = [0x02, 0, 0, 0, 0, 0x01, 0x02, 0, 0, 0, 0, 0x02];
        let mut v = Vec::new();
        match self {
            Link::Ethernet => {
                v.extend_from_slice(&macs);
                v.extend_from_slice(&et);
            }
            Link::Vlan(id) => {
                v.extend_from_slice(&macs);
                v.extend_from_slice(&[0x81, 0x00]);
                v.extend_from_slice(&id.to_be_bytes());
                v.extend_from_slice(&et);
            }
            Link::Raw => {}
            Link::Sll => {
                v.extend_from_slice(&[0, 0, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0]);
                v.extend_from_slice(&et);
            }
            Link::Sll2 => {
                v.extend_from_slice(&et);
                v.extend_from_slice(&[0, 0, 0, 0, 0, 2, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0]);
            }
            Link::Null => {
                let fam: u32 = if v6 { 30 } else { 2 };
                v.extend_from_slice(&fam.to_le_bytes());
            }
        }
        v.extend_from_slice(ip);
        v
    }
}

/// A capture being scripted.
pub struct Capture {
    pub link: Link,
    pub frames: Vec<(u64, Vec<u8>)>,
    ts_us: u64,
}

impl Capture {
    pub fn new(link: Link) -> Self {
        Capture {
            link,
            frames: Vec::new(),
            ts_us: 1_700_000_000_000_000,
        }
    }
    /// Lets 10 ms pass without a packet.
    pub fn tick(&mut self) {
        self.ts_us += 10_000;
    }
    fn push(&mut self, ip: Vec<u8>) {
        self.ts_us += 10_000;
        let f = self.link.wrap(&ip);
        self.frames.push((self.ts_us, f));
    }
    /// One UDP datagram.
    pub fn udp(&mut self, src: (&str, u16), dst: (&str, u16), payload: &[u8]) {
        let (s, d): (IpAddr, IpAddr) = (src.0.parse().expect("addr"), dst.0.parse().expect("addr"));
        let b = match (s, d) {
            (IpAddr::V4(a), IpAddr::V4(b)) => PacketBuilder::ipv4(a.octets(), b.octets(), 64),
            (IpAddr::V6(a), IpAddr::V6(b)) => PacketBuilder::ipv6(a.octets(), b.octets(), 64),
            _ => panic!("mixed families"),
        };
        let mut v = Vec::new();
        b.udp(src.1, dst.1)
            .write(&mut v, payload)
            .expect("build packet");
        self.push(v);
    }
    /// Classic pcap, little-endian, microseconds.
    pub fn pcap(&self) -> Vec<u8> {
        let mut v = Vec::new();
        for x in [
            0xA1B2_C3D4u32,
            0x0004_0002,
            0,
            0,
            65535,
            u32::from(self.link.linktype()),
        ] {
            v.extend_from_slice(&x.to_le_bytes());
        }
        for (ts, f) in &self.frames {
            let l = f.len() as u32;
            for x in [(ts / 1_000_000) as u32, (ts % 1_000_000) as u32, l, l] {
                v.extend_from_slice(&x.to_le_bytes());
            }
            v.extend_from_slice(f);
        }
        v
    }
    /// pcapng with one interface (nanosecond resolution, to exercise
    /// if_tsresol).
    pub fn pcapng(&self) -> Vec<u8> {
        fn block(v: &mut Vec<u8>, t: u32, body: &[u8]) {
            let pad = (4 - body.len() % 4) % 4;
            let total = (12 + body.len() + pad) as u32;
            v.extend_from_slice(&t.to_le_bytes());
            v.extend_from_slice(&total.to_le_bytes());
            v.extend_from_slice(body);
            v.extend(std::iter::repeat_n(0u8, pad));
            v.extend_from_slice(&total.to_le_bytes());
        }
        let mut v = Vec::new();
        let shb = [
            &0x1A2B_3C4Du32.to_le_bytes()[..],
            &1u16.to_le_bytes(),
            &0u16.to_le_bytes(),
            &u64::MAX.to_le_bytes(),
        ]
        .concat();
        block(&mut v, 0x0A0D_0D0A, &shb);
        let idb = [
            &self.link.linktype().to_le_bytes()[..],
            &[0, 0],
            &0u32.to_le_bytes(),
            &9u16.to_le_bytes(), // if_tsresol
            &1u16.to_le_bytes(),
            &[9, 0, 0, 0],
            &[0, 0, 0, 0], // opt_endofopt
        ]
        .concat();
        block(&mut v, 1, &idb);
        for (ts, f) in &self.frames {
            let ns = ts * 1000;
            let epb = [
                &0u32.to_le_bytes()[..],
                &((ns >> 32) as u32).to_le_bytes(),
                &(ns as u32).to_le_bytes(),
                &(f.len() as u32).to_le_bytes(),
                &(f.len() as u32).to_le_bytes(),
                f,
            ]
            .concat();
            block(&mut v, 6, &epb);
        }
        v
    }
}

/// One scripted TCP connection.
pub struct Tcp {
    pub c: (IpAddr, u16),
    pub s: (IpAddr, u16),
    pub cseq: u32,
    pub sseq: u32,
}

fn ip_tcp(
    src: (IpAddr, u16),
    dst: (IpAddr, u16),
    seq: u32,
    ack: Option<u32>,
    flags: &str,
    payload: &[u8],
) -> Vec<u8> {
    let b = match (src.0, dst.0) {
        (IpAddr::V4(a), IpAddr::V4(b)) => PacketBuilder::ipv4(a.octets(), b.octets(), 64),
        (IpAddr::V6(a), IpAddr::V6(b)) => PacketBuilder::ipv6(a.octets(), b.octets(), 64),
        _ => panic!("mixed families"),
    };
    let mut t = b.tcp(src.1, dst.1, seq, 64240);
    if let Some(a) = ack {
        t = t.ack(a);
    }
    if flags.contains('S') {
        t = t.syn();
    }
    if flags.contains('F') {
        t = t.fin();
    }
    if flags.contains('P') {
        t = t.psh();
    }
    let mut v = Vec::new();
    t.write(&mut v, payload).expect("build packet");
    v
}

impl Tcp {
    pub fn new(c: (&str, u16), s: (&str, u16), cseq: u32, sseq: u32) -> Self {
        Tcp {
            c: (c.0.parse().expect("addr"), c.1),
            s: (s.0.parse().expect("addr"), s.1),
            cseq,
            sseq,
        }
    }
    pub fn handshake(&mut self, cap: &mut Capture) {
        cap.push(ip_tcp(self.c, self.s, self.cseq, None, "S", b""));
        self.cseq = self.cseq.wrapping_add(1);
        cap.push(ip_tcp(self.s, self.c, self.sseq, Some(self.cseq), "S", b""));
        self.sseq = self.sseq.wrapping_add(1);
        cap.push(ip_tcp(self.c, self.s, self.cseq, Some(self.sseq), "", b""));
    }
    /// Client → server data, then the server's ack.
    pub fn c2s(&mut self, cap: &mut Capture, data: &[u8]) {
        self.c2s_noack(cap, data);
        cap.push(ip_tcp(self.s, self.c, self.sseq, Some(self.cseq), "", b""));
    }
    pub fn c2s_noack(&mut self, cap: &mut Capture, data: &[u8]) {
        cap.push(ip_tcp(
            self.c,
            self.s,
            self.cseq,
            Some(self.sseq),
            "P",
            data,
        ));
        self.cseq = self.cseq.wrapping_add(data.len() as u32);
    }
    /// Sends client data again at an earlier sequence number (a
    /// retransmission).
    pub fn c2s_retransmit(&mut self, cap: &mut Capture, seq: u32, data: &[u8]) {
        cap.push(ip_tcp(self.c, self.s, seq, Some(self.sseq), "P", data));
    }
    pub fn s2c(&mut self, cap: &mut Capture, data: &[u8]) {
        cap.push(ip_tcp(
            self.s,
            self.c,
            self.sseq,
            Some(self.cseq),
            "P",
            data,
        ));
        self.sseq = self.sseq.wrapping_add(data.len() as u32);
        cap.push(ip_tcp(self.c, self.s, self.cseq, Some(self.sseq), "", b""));
    }
    pub fn close(&mut self, cap: &mut Capture) {
        cap.push(ip_tcp(self.c, self.s, self.cseq, Some(self.sseq), "F", b""));
        self.cseq = self.cseq.wrapping_add(1);
        cap.push(ip_tcp(self.s, self.c, self.sseq, Some(self.cseq), "F", b""));
        self.sseq = self.sseq.wrapping_add(1);
        cap.push(ip_tcp(self.c, self.s, self.cseq, Some(self.sseq), "", b""));
    }
}

/// A complete data connection: handshake, `data` from the connecting side,
/// close.
pub fn data_conn(cap: &mut Capture, from: (&str, u16), to: (&str, u16), data: &[u8]) {
    let mut t = Tcp::new(from, to, 7_000_000, 9_000_000);
    t.handshake(cap);
    t.c2s(cap, data);
    t.close(cap);
}

/// A fixture: file name and bytes.
pub struct Fixture {
    pub name: &'static str,
    pub bytes: Vec<u8>,
}

const LISTING: &[u8] = b"-rw-r--r-- 1 ftp ftp 4 Jan 01 00:00 a.txt\r\n";

/// Active FTP over IPv4 (PORT), Ethernet pcap.
fn active_v4() -> Fixture {
    let mut cap = Capture::new(Link::Ethernet);
    let mut c = Tcp::new(("10.0.0.5", 40000), ("198.51.100.1", 21), 1000, 5000);
    c.handshake(&mut cap);
    c.s2c(&mut cap, b"220 Welcome\r\n");
    c.c2s(&mut cap, b"USER anonymous\r\n");
    c.s2c(&mut cap, b"331 Password please\r\n");
    c.c2s(&mut cap, b"PASS guest@\r\n");
    c.s2c(&mut cap, b"230 Logged in\r\n");
    c.c2s(&mut cap, b"PORT 10,0,0,5,19,137\r\n");
    c.s2c(&mut cap, b"200 PORT command successful\r\n");
    c.c2s(&mut cap, b"LIST\r\n");
    c.s2c(&mut cap, b"150 Here comes the listing\r\n");
    data_conn(&mut cap, ("198.51.100.1", 20), ("10.0.0.5", 5001), LISTING);
    c.s2c(&mut cap, b"226 Transfer complete\r\n");
    c.c2s(&mut cap, b"QUIT\r\n");
    c.s2c(&mut cap, b"221 Bye\r\n");
    c.close(&mut cap);
    Fixture {
        name: "ftp-active-v4.pcap",
        bytes: cap.pcap(),
    }
}

/// Passive FTP over IPv4 (PASV/227), pcapng, Ethernet with an 802.1Q tag.
/// The server is 10.0.1.2 (replayed with `--dnat 203.0.113.1:21=10.0.1.2:21`
/// the capture is taken behind the DNAT).
fn passive_v4() -> Fixture {
    let mut cap = Capture::new(Link::Vlan(42));
    let mut c = Tcp::new(("198.51.100.7", 50000), ("10.0.1.2", 21), 2000, 6000);
    c.handshake(&mut cap);
    c.s2c(&mut cap, b"220 Welcome\r\n");
    c.c2s(&mut cap, b"USER anonymous\r\n");
    c.s2c(&mut cap, b"230 Logged in\r\n");
    c.c2s(&mut cap, b"PASV\r\n");
    c.s2c(
        &mut cap,
        b"227 Entering Passive Mode (10,0,1,2,117,48).\r\n",
    );
    c.c2s(&mut cap, b"RETR a.txt\r\n");
    data_conn(
        &mut cap,
        ("198.51.100.7", 50001),
        ("10.0.1.2", 30000),
        b"data",
    );
    c.s2c(&mut cap, b"226 Transfer complete\r\n");
    c.close(&mut cap);
    Fixture {
        name: "ftp-passive-v4.pcapng",
        bytes: cap.pcapng(),
    }
}

/// EPRT and EPSV/229 over IPv6, pcapng, Linux cooked v2.
fn v6_eprt_epsv() -> Fixture {
    let mut cap = Capture::new(Link::Sll2);
    let (cl, sv) = ("2001:db8:1::5", "2001:db8:2::21");
    let mut c = Tcp::new((cl, 40100), (sv, 21), 3000, 7000);
    c.handshake(&mut cap);
    c.s2c(&mut cap, b"220 Welcome\r\n");
    c.c2s(&mut cap, b"USER anonymous\r\n");
    c.s2c(&mut cap, b"230 Logged in\r\n");
    c.c2s(&mut cap, b"EPRT |2|2001:db8:1::5|5002|\r\n");
    c.s2c(&mut cap, b"200 EPRT command successful\r\n");
    c.c2s(&mut cap, b"LIST\r\n");
    data_conn(&mut cap, (sv, 20), (cl, 5002), LISTING);
    c.s2c(&mut cap, b"226 Transfer complete\r\n");
    c.c2s(&mut cap, b"EPSV\r\n");
    c.s2c(
        &mut cap,
        b"229 Entering Extended Passive Mode (|||6000|)\r\n",
    );
    c.c2s(&mut cap, b"RETR a.txt\r\n");
    data_conn(&mut cap, (cl, 40101), (sv, 6000), b"data");
    c.s2c(&mut cap, b"226 Transfer complete\r\n");
    c.close(&mut cap);
    Fixture {
        name: "ftp-v6-eprt-epsv.pcapng",
        bytes: cap.pcapng(),
    }
}

/// A PORT command split across two segments, Linux cooked (SLL) pcap.
fn port_split() -> Fixture {
    let mut cap = Capture::new(Link::Sll);
    let mut c = Tcp::new(("10.0.0.6", 40200), ("198.51.100.1", 21), 4000, 8000);
    c.handshake(&mut cap);
    c.s2c(&mut cap, b"220 Welcome\r\n");
    c.c2s(&mut cap, b"USER anonymous\r\n");
    c.s2c(&mut cap, b"230 Logged in\r\n");
    c.c2s_noack(&mut cap, b"PORT 10,0,0,");
    c.c2s(&mut cap, b"6,19,140\r\n");
    c.s2c(&mut cap, b"200 PORT command successful\r\n");
    c.c2s(&mut cap, b"LIST\r\n");
    data_conn(&mut cap, ("198.51.100.1", 20), ("10.0.0.6", 5004), LISTING);
    c.s2c(&mut cap, b"226 Transfer complete\r\n");
    c.close(&mut cap);
    Fixture {
        name: "ftp-port-split.pcap",
        bytes: cap.pcap(),
    }
}

/// An FTP bounce attempt: PORT to a third host, BSD loopback (NULL) pcap.
fn bounce() -> Fixture {
    let mut cap = Capture::new(Link::Null);
    let mut c = Tcp::new(("10.0.0.7", 40300), ("198.51.100.1", 21), 5000, 9000);
    c.handshake(&mut cap);
    c.s2c(&mut cap, b"220 Welcome\r\n");
    c.c2s(&mut cap, b"USER anonymous\r\n");
    c.s2c(&mut cap, b"230 Logged in\r\n");
    c.c2s(&mut cap, b"PORT 192,0,2,99,0,25\r\n");
    c.s2c(&mut cap, b"200 PORT command successful\r\n");
    c.c2s(&mut cap, b"STOR mail.txt\r\n");
    // The server connects to the victim: not an expected flow.
    data_conn(
        &mut cap,
        ("198.51.100.1", 20),
        ("192.0.2.99", 25),
        b"HELO x\r\n",
    );
    c.s2c(&mut cap, b"226 Transfer complete\r\n");
    c.close(&mut cap);
    Fixture {
        name: "ftp-bounce.pcap",
        bytes: cap.pcap(),
    }
}

/// Active FTP meant for `--snat 10.0.0.0/24=203.0.113.1`: two transfers,
/// a PORT that replaces an unused one (max_expected 1: the oldest is
/// evicted), a retransmitted PORT segment, data after the size change (so
/// seq/ack adjustment shows), raw IP pcap.
fn snat_session() -> Fixture {
    let mut cap = Capture::new(Link::Raw);
    let mut c = Tcp::new(
        ("10.0.0.8", 40400),
        ("198.51.100.1", 21),
        0xFFFF_FFC0,
        10_000,
    );
    c.handshake(&mut cap);
    c.s2c(&mut cap, b"220 Welcome\r\n");
    c.c2s(&mut cap, b"USER anonymous\r\n");
    c.s2c(&mut cap, b"230 Logged in\r\n");
    // First PORT, never used: the second one evicts it.
    c.c2s(&mut cap, b"PORT 10,0,0,8,19,150\r\n");
    c.s2c(&mut cap, b"200 PORT command successful\r\n");
    let seq = c.cseq;
    let port = b"PORT 10,0,0,8,19,151\r\n";
    c.c2s_noack(&mut cap, port);
    // The same segment again (retransmission): edited the same way, not
    // counted twice in the sequence adjustment.
    c.c2s_retransmit(&mut cap, seq, port);
    c.s2c(&mut cap, b"200 PORT command successful\r\n");
    c.c2s(&mut cap, b"RETR a.txt\r\n");
    data_conn(
        &mut cap,
        ("198.51.100.1", 20),
        ("10.0.0.8", 5015),
        b"file contents\r\n",
    );
    c.s2c(&mut cap, b"226 Transfer complete\r\n");
    c.c2s(&mut cap, b"PORT 10,0,0,8,19,152\r\n");
    c.s2c(&mut cap, b"200 PORT command successful\r\n");
    c.c2s(&mut cap, b"LIST\r\n");
    data_conn(&mut cap, ("198.51.100.1", 20), ("10.0.0.8", 5016), LISTING);
    c.s2c(&mut cap, b"226 Transfer complete\r\n");
    c.c2s(&mut cap, b"QUIT\r\n");
    c.s2c(&mut cap, b"221 Bye\r\n");
    c.close(&mut cap);
    Fixture {
        name: "ftp-snat-active.pcap",
        bytes: cap.pcap(),
    }
}

pub fn fixtures() -> Vec<Fixture> {
    vec![
        active_v4(),
        passive_v4(),
        v6_eprt_epsv(),
        port_split(),
        bounce(),
        snat_session(),
    ]
}

/// One golden replay: fixture, extra arguments, golden file.
pub struct Golden {
    pub fixture: &'static str,
    pub args: &'static [&'static str],
    pub golden: &'static str,
}

pub const GOLDENS: &[Golden] = &[
    Golden {
        fixture: "ftp-active-v4.pcap",
        args: &[],
        golden: "ftp-active-v4.golden.jsonl",
    },
    Golden {
        fixture: "ftp-active-v4.pcap",
        args: &["--snat", "10.0.0.0/24=203.0.113.1"],
        golden: "ftp-active-v4.snat.golden.jsonl",
    },
    Golden {
        fixture: "ftp-active-v4.pcap",
        args: &["--dnat", "198.51.100.1:21=10.9.9.9:21"],
        golden: "ftp-active-v4.dnat.golden.jsonl",
    },
    Golden {
        fixture: "ftp-passive-v4.pcapng",
        args: &[],
        golden: "ftp-passive-v4.golden.jsonl",
    },
    Golden {
        fixture: "ftp-passive-v4.pcapng",
        args: &["--dnat", "203.0.113.1:21=10.0.1.2:21"],
        golden: "ftp-passive-v4.dnat.golden.jsonl",
    },
    Golden {
        fixture: "ftp-v6-eprt-epsv.pcapng",
        args: &[],
        golden: "ftp-v6-eprt-epsv.golden.jsonl",
    },
    Golden {
        fixture: "ftp-v6-eprt-epsv.pcapng",
        args: &["--snat", "2001:db8:1::/64=2001:db8:ffff::1"],
        golden: "ftp-v6-eprt-epsv.snat.golden.jsonl",
    },
    Golden {
        fixture: "ftp-port-split.pcap",
        args: &[],
        golden: "ftp-port-split.golden.jsonl",
    },
    Golden {
        fixture: "ftp-port-split.pcap",
        args: &["--snat", "10.0.0.0/24=203.0.113.1"],
        golden: "ftp-port-split.snat.golden.jsonl",
    },
    Golden {
        fixture: "ftp-bounce.pcap",
        args: &[],
        golden: "ftp-bounce.golden.jsonl",
    },
    Golden {
        fixture: "ftp-bounce.pcap",
        args: &["--snat", "10.0.0.0/24=203.0.113.1"],
        golden: "ftp-bounce.snat.golden.jsonl",
    },
    Golden {
        fixture: "ftp-snat-active.pcap",
        args: &[],
        golden: "ftp-snat-active.golden.jsonl",
    },
    Golden {
        fixture: "ftp-snat-active.pcap",
        args: &["--snat", "10.0.0.0/24=203.0.113.1"],
        golden: "ftp-snat-active.snat.golden.jsonl",
    },
];

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn fixtures_dir() -> PathBuf {
    root().join("fixtures")
}

pub fn regenerate() -> bool {
    std::env::var_os("REGENERATE").is_some_and(|v| v == "1")
}

/// Runs `cthelperd replay` with `args`; (exit success, stdout, stderr).
pub fn replay(args: &[&str]) -> (bool, String, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_cthelperd"))
        .arg("replay")
        .args(args)
        .env_remove("RUST_LOG")
        .output()
        .expect("run cthelperd");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The fixtures equal what the generator makes (`REGENERATE=1` writes
/// them).
pub fn check_fixtures(fixtures: &[Fixture]) {
    let dir = fixtures_dir();
    for f in fixtures {
        let path = dir.join(f.name);
        if regenerate() {
            std::fs::write(&path, &f.bytes).unwrap();
            continue;
        }
        let have = std::fs::read(&path)
            .unwrap_or_else(|e| panic!("{}: {e} (REGENERATE=1 writes it)", path.display()));
        assert!(
            have == f.bytes,
            "{} differs from what tests/support generates (REGENERATE=1 rewrites it)",
            f.name
        );
    }
}

/// Every fixture has at least one golden replay.
pub fn check_every_fixture_has_goldens(fixtures: &[Fixture], goldens: &[Golden]) {
    for f in fixtures {
        assert!(
            goldens.iter().any(|g| g.fixture == f.name),
            "{} has no golden replay",
            f.name
        );
    }
}

/// Replaying each fixture gives its golden output: JSON Lines for
/// `*.jsonl` goldens, the text format for `*.txt` ones (`REGENERATE=1`
/// writes them; review the diff before committing).
pub fn check_goldens(goldens: &[Golden]) {
    let dir = fixtures_dir();
    let mut failed = Vec::new();
    for g in goldens {
        let cap = dir.join(g.fixture);
        let cap = cap.to_str().unwrap();
        let json = !g.golden.ends_with(".txt");
        let mut args = vec![cap, "--format", if json { "json" } else { "text" }];
        args.extend_from_slice(g.args);
        let (ok, out, err) = replay(&args);
        assert!(ok, "replay {args:?} failed: {err}");
        assert!(err.contains("replay: "), "no summary line: {err}");
        if json {
            for line in out.lines() {
                let v: serde_json::Value = serde_json::from_str(line).expect("JSON Lines");
                assert!(v["packet"].as_u64().is_some_and(|n| n >= 1), "{line}");
            }
        }
        let path = dir.join(g.golden);
        if regenerate() {
            std::fs::write(&path, &out).unwrap();
            continue;
        }
        let want = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("{}: {e} (REGENERATE=1 writes it)", path.display()));
        if want != out {
            eprintln!("--- {} (want)\n{want}--- got\n{out}", g.golden);
            failed.push(g.golden);
        }
    }
    assert!(failed.is_empty(), "golden outputs differ: {failed:?}");
}

/// Replays `fixture` (in `fixtures/`) with `args` as JSON Lines.
pub fn replay_json(fixture: &str, args: &[&str]) -> Vec<serde_json::Value> {
    let cap = fixtures_dir().join(fixture);
    let mut a = vec![cap.to_str().unwrap(), "--format", "json"];
    a.extend_from_slice(args);
    let (ok, out, err) = replay(&a);
    assert!(ok, "replay {a:?}: {err}");
    out.lines()
        .map(|l| serde_json::from_str(l).expect("JSON Lines"))
        .collect()
}

/// Replays `fixture` with `args` and writes the packets as they leave the
/// router to `out`.
pub fn replay_write(fixture: &str, args: &[&str], out: &std::path::Path) {
    let cap = fixtures_dir().join(fixture);
    let mut a = vec![cap.to_str().unwrap(), "--write", out.to_str().unwrap()];
    a.extend_from_slice(args);
    let (ok, _, err) = replay(&a);
    assert!(ok, "replay {a:?}: {err}");
}

/// tshark over `file` with the IP/TCP/UDP checksums verified: the
/// `fields` of every frame `filter` selects, one row per frame.
pub fn tshark_fields(file: &std::path::Path, filter: &str, fields: &[&str]) -> Vec<Vec<String>> {
    let mut cmd = std::process::Command::new("tshark");
    cmd.args([
        "-n",
        "-o",
        "tcp.check_checksum:TRUE",
        "-o",
        "ip.check_checksum:TRUE",
    ])
    .args([
        "-o",
        "udp.check_checksum:TRUE",
        "-o",
        "tcp.relative_sequence_numbers:FALSE",
    ])
    .arg("-r")
    .arg(file)
    .args([
        "-Y",
        filter,
        "-T",
        "fields",
        "-E",
        "occurrence=a",
        "-E",
        "aggregator=|",
    ]);
    for f in fields {
        cmd.args(["-e", f]);
    }
    let out = cmd.output().expect("run tshark");
    assert!(
        out.status.success(),
        "tshark {}: {}",
        file.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| l.split('\t').map(str::to_string).collect())
        .collect()
}

/// Follows the byte streams of one TCP connection (`filter` selects it):
/// every segment starts where the previous one of its direction ended, or
/// repeats an earlier segment exactly (a retransmission). Returns, per
/// direction (0 = from `client`), the next sequence number and the last
/// ack sent.
pub fn tcp_stream(file: &str, filter: &str, client: &str) -> ([u32; 2], [u32; 2]) {
    let rows = tshark_fields(
        std::path::Path::new(file),
        filter,
        &[
            "ip.src",
            "ipv6.src",
            "tcp.seq",
            "tcp.ack",
            "tcp.len",
            "tcp.flags.syn",
            "tcp.flags.fin",
            "tcp.flags.ack",
        ],
    );
    assert!(!rows.is_empty(), "{file}: nothing matches {filter}");
    let mut next: [Option<u32>; 2] = [None, None];
    let mut ack_of = [0u32; 2];
    let mut seen = std::collections::HashSet::new();
    for r in &rows {
        let src = if r[0].is_empty() { &r[1] } else { &r[0] };
        let d = usize::from(src != client);
        let seq: u32 = r[2].parse().unwrap();
        let len: u32 = r[4].parse().unwrap();
        let flag = |i: usize| r[i] == "1" || r[i] == "True";
        let end = seq.wrapping_add(len + u32::from(flag(5)) + u32::from(flag(6)));
        if let Some(n) = next[d] {
            assert!(
                seq == n || seen.contains(&(d, seq, len)),
                "{file}: direction {d} segment at {seq} (len {len}), stream is at {n}: {r:?}"
            );
        }
        seen.insert((d, seq, len));
        if next[d].is_none() || seq == next[d].unwrap() {
            next[d] = Some(end);
        }
        if flag(7) {
            ack_of[d] = r[3].parse().unwrap();
        }
    }
    ([next[0].unwrap(), next[1].unwrap()], ack_of)
}

/// A written TCP connection as each end receives it: the server gets a
/// contiguous (edited, sequence-adjusted) client stream and its acks go
/// back to the client in the client's own numbering — at the end exactly
/// what the client sent in the input capture.
pub fn check_stream(out: &str, nat_client: &str, input: &str, client: &str, filter: &str) {
    let (in_next, _) = tcp_stream(input, filter, client);
    let (next, acks) = tcp_stream(out, filter, nat_client);
    assert_eq!(
        acks[1], in_next[0],
        "{out}: the client gets acks in its own numbering"
    );
    assert_eq!(
        acks[0], next[1],
        "{out}: the client acks the server's stream"
    );
}

/// A filter for packets with a checksum tshark finds bad.
pub const BAD_CHECKSUM: &str =
    "tcp.checksum.status == \"Bad\" || ip.checksum.status == \"Bad\" || udp.checksum.status == \"Bad\"";

/// Whether tshark can be run; when not: fail under CI, else skip.
pub fn tshark() -> bool {
    let ok = std::process::Command::new("tshark")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        // CI, and tests/run (which installs tshark): an error, not a skip.
        assert!(
            std::env::var_os("CI").is_none()
                && std::env::var_os("CTHELPERD_REQUIRE_TOOLS").is_none(),
            "tshark is missing (tests/run unit installs it: apt-get install -y tshark)"
        );
        eprintln!("skipped: tshark absent");
    }
    ok
}
