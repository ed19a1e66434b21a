//! Amanda fixtures: the server's REQ to amandad on udp 10080, the client's
//! REP with `CONNECT DATA … MESG … INDEX …`, and the TCP connections the
//! server opens to those ports (the related flows).

use super::{data_conn, Capture, Fixture, Golden, Link};

const HANDLE: &str = "HANDLE 000-00000000 SEQ 1700000000";

/// One backup request to the amandad at `client` (from the server's
/// `sport`), answered with the three stream ports.
fn request(cap: &mut Capture, sport: u16, client: &str, ports: [u16; 3]) {
    let (s, c) = ((SERVER, sport), (client, 10080));
    let req = format!(
        "Amanda 2.6 REQ {HANDLE}\nSECURITY USER amandabackup\nSERVICE sendbackup\n\
         OPTIONS features=9ffe00;hostname={client};config=daily;\n\
         GNUTAR /home 0 1970:1:1:0:0:0 OPTIONS |;auth=bsd;index;\n"
    );
    cap.udp(s, c, req.as_bytes());
    cap.udp(c, s, format!("Amanda 2.6 ACK {HANDLE}\n").as_bytes());
    let rep = format!(
        "Amanda 2.6 REP {HANDLE}\nCONNECT DATA {} MESG {} INDEX {}\nOPTIONS features=9ffe00;\n",
        ports[0], ports[1], ports[2]
    );
    cap.udp(c, s, rep.as_bytes());
    cap.udp(s, c, format!("Amanda 2.6 ACK {HANDLE}\n").as_bytes());
}

/// The server's connections to the three streams of `client`.
fn streams(cap: &mut Capture, client: &str, ports: [u16; 3], sport: u16) {
    for (i, p) in ports.into_iter().enumerate() {
        data_conn(
            cap,
            (SERVER, sport + i as u16),
            (client, p),
            b"amanda stream\n",
        );
    }
}

const SERVER: &str = "198.51.100.50";

/// Two amandad clients, 10.0.1.5 and 10.0.1.6, that answer with the same
/// three ports before the server connects to either; BSD loopback (NULL)
/// pcap. The capture is taken on the
/// clients' side: replayed with `--dnat 203.0.113.1:10080=10.0.1.5:10080
/// --dnat 203.0.113.1:10081=10.0.1.6:10080` both are reached through one
/// public address, the second client's expectations clash with the
/// first's and get other ports, written into its CONNECT line.
fn two_clients() -> Fixture {
    let mut cap = Capture::new(Link::Null);
    let ports = [50010, 50011, 50012];
    request(&mut cap, 850, "10.0.1.5", ports);
    request(&mut cap, 851, "10.0.1.6", ports);
    streams(&mut cap, "10.0.1.5", ports, 40010);
    streams(&mut cap, "10.0.1.6", ports, 40020);
    Fixture {
        name: "amanda-two-clients.pcap",
        bytes: cap.pcap(),
    }
}

pub fn fixtures() -> Vec<Fixture> {
    vec![two_clients()]
}

pub const DNAT: &[&str] = &[
    "--dnat",
    "203.0.113.1:10080=10.0.1.5:10080",
    "--dnat",
    "203.0.113.1:10081=10.0.1.6:10080",
];

pub const GOLDENS: &[Golden] = &[
    Golden {
        fixture: "amanda-two-clients.pcap",
        args: &[],
        golden: "amanda-two-clients.golden.jsonl",
    },
    Golden {
        fixture: "amanda-two-clients.pcap",
        args: DNAT,
        golden: "amanda-two-clients.dnat.golden.jsonl",
    },
    Golden {
        fixture: "amanda-two-clients.pcap",
        args: DNAT,
        golden: "amanda-two-clients.dnat.golden.txt",
    },
];
