//! TFTP replay: the fixtures are what tests/support/tftp.rs generates,
//! replaying them gives the reviewed goldens, and under SNAT the transfer
//! from the server's new port reaches the client at its own address and
//! port (nat-follow-master) with good checksums.

mod support;

use support::{replay_write, tftp, tshark, tshark_fields, BAD_CHECKSUM};

#[test]
fn fixtures_are_current() {
    support::check_fixtures(&tftp::fixtures());
}

#[test]
fn every_fixture_has_goldens() {
    support::check_every_fixture_has_goldens(&tftp::fixtures(), tftp::GOLDENS);
}

#[test]
fn goldens() {
    support::check_goldens(tftp::GOLDENS);
}

#[test]
fn snat_write() {
    if !tshark() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    for (fixture, nat, client, snat) in [
        (
            "tftp-rrq-v4.pcap",
            "203.0.113.1",
            "10.0.0.5",
            "10.0.0.0/24=203.0.113.1",
        ),
        (
            "tftp-v6.pcapng",
            "2001:db8:ffff::1",
            "2001:db8:1::5",
            "2001:db8:1::/64=2001:db8:ffff::1",
        ),
    ] {
        let out = dir.path().join(format!("{fixture}.out.pcapng"));
        replay_write(fixture, &["--snat", snat], &out);
        assert!(tshark_fields(&out, BAD_CHECKSUM, &["frame.number"]).is_empty());
        let rows = tshark_fields(
            &out,
            "udp",
            &[
                "ip.src",
                "ipv6.src",
                "ip.dst",
                "ipv6.dst",
                "udp.srcport",
                "udp.dstport",
            ],
        );
        let input = support::fixtures_dir().join(fixture);
        let want = tshark_fields(
            &input,
            "udp",
            &[
                "ip.src",
                "ipv6.src",
                "ip.dst",
                "ipv6.dst",
                "udp.srcport",
                "udp.dstport",
            ],
        );
        assert_eq!(rows.len(), want.len());
        let addr = |r: &[String], i: usize| {
            if r[i].is_empty() {
                r[i + 1].clone()
            } else {
                r[i].clone()
            }
        };
        for (r, w) in rows.iter().zip(&want) {
            // Ports are kept; what the client sends leaves from the NAT
            // address, what goes to it (requests' answers and the whole
            // transfer from the new port) reaches its own address.
            assert_eq!(r[4..], w[4..], "{fixture}: ports {r:?}");
            if addr(w, 0) == client {
                assert_eq!(addr(r, 0), nat, "{fixture}: {r:?}");
                assert_eq!(addr(r, 2), addr(w, 2), "{fixture}: {r:?}");
            } else {
                assert_eq!(addr(r, 0), addr(w, 0), "{fixture}: {r:?}");
                assert_eq!(addr(r, 2), client, "{fixture}: {r:?}");
            }
        }
    }
}
