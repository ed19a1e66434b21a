//! IRC fixtures: DCC offers in the decimal IPv4 form and as IPv6 text, a
//! forged one, a DCC line split over two segments, and the DCC
//! connections of a third party (the related flows).

use super::{data_conn, Capture, Fixture, Golden, Link, Tcp};

/// Over IPv4, Ethernet with an 802.1Q tag, pcap: registration, a DCC SEND
/// from the client (10.0.0.5 = 167772165) answered by the peer's
/// connection, a forged DCC SEND (192.168.1.1 = 3232235777, port 22), a
/// DCC CHAT nobody takes, a DCC offer from the server side (never looked
/// at), QUIT.
fn dcc_v4() -> Fixture {
    let mut cap = Capture::new(Link::Vlan(100));
    let mut c = Tcp::new(("10.0.0.5", 40000), ("198.51.100.30", 6667), 10_000, 20_000);
    c.handshake(&mut cap);
    c.c2s(&mut cap, b"NICK alice\r\nUSER alice 0 * :Alice\r\n");
    c.s2c(&mut cap, b":irc.example.net 001 alice :Welcome alice\r\n");
    c.c2s(
        &mut cap,
        b"PRIVMSG bob :\x01DCC SEND report.pdf 167772165 5000 4096\x01\r\n",
    );
    data_conn(
        &mut cap,
        ("198.51.100.40", 51000),
        ("10.0.0.5", 5000),
        b"\x00\x00\x10\x00",
    );
    c.c2s(
        &mut cap,
        b"PRIVMSG bob :\x01DCC SEND evil.sh 3232235777 22 1\x01\r\n",
    );
    c.c2s(
        &mut cap,
        b"PRIVMSG carol :\x01DCC CHAT chat 167772165 5001\x01\r\n",
    );
    c.s2c(
        &mut cap,
        b":bob!bob@198.51.100.40 PRIVMSG alice :\x01DCC SEND pic.png 3325256744 6000 10\x01\r\n",
    );
    c.c2s(&mut cap, b"QUIT :bye\r\n");
    c.close(&mut cap);
    Fixture {
        name: "irc-dcc-v4.pcap",
        bytes: cap.pcap(),
    }
}

/// Over IPv6, Linux cooked pcapng: a DCC SEND with the client's IPv6
/// address, split over two segments inside the address, the peer's
/// connection from a third address; then a DCC in the decimal IPv4 form,
/// refused on an IPv6 connection.
fn dcc_v6() -> Fixture {
    let mut cap = Capture::new(Link::Sll);
    let mut c = Tcp::new(
        ("2001:db8:1::5", 40200),
        ("2001:db8:2::30", 6667),
        30_000,
        40_000,
    );
    c.handshake(&mut cap);
    c.c2s(&mut cap, b"NICK alice\r\nUSER alice 0 * :Alice\r\n");
    c.s2c(&mut cap, b":irc.example.net 001 alice :Welcome alice\r\n");
    c.c2s_noack(&mut cap, b"PRIVMSG bob :\x01DCC SEND notes.txt 2001:db8");
    c.c2s(&mut cap, b":1::5 5002 1234\x01\r\n");
    data_conn(
        &mut cap,
        ("2001:db8:3::40", 52000),
        ("2001:db8:1::5", 5002),
        b"\x00\x00\x04\xd2",
    );
    c.c2s(
        &mut cap,
        b"PRIVMSG bob :\x01DCC SEND old.txt 167772165 5003 10\x01\r\n",
    );
    c.c2s(&mut cap, b"QUIT :bye\r\n");
    c.close(&mut cap);
    Fixture {
        name: "irc-dcc-v6.pcapng",
        bytes: cap.pcapng(),
    }
}

pub fn fixtures() -> Vec<Fixture> {
    vec![dcc_v4(), dcc_v6()]
}

pub const GOLDENS: &[Golden] = &[
    Golden {
        fixture: "irc-dcc-v4.pcap",
        args: &[],
        golden: "irc-dcc-v4.golden.jsonl",
    },
    Golden {
        fixture: "irc-dcc-v4.pcap",
        args: &["--snat", "10.0.0.0/24=203.0.113.1"],
        golden: "irc-dcc-v4.snat.golden.jsonl",
    },
    Golden {
        fixture: "irc-dcc-v4.pcap",
        args: &["--snat", "10.0.0.0/24=203.0.113.1"],
        golden: "irc-dcc-v4.snat.golden.txt",
    },
    Golden {
        fixture: "irc-dcc-v6.pcapng",
        args: &[],
        golden: "irc-dcc-v6.golden.jsonl",
    },
    Golden {
        fixture: "irc-dcc-v6.pcapng",
        args: &["--snat", "2001:db8:1::/64=2001:db8:ffff::1"],
        golden: "irc-dcc-v6.snat.golden.jsonl",
    },
];
