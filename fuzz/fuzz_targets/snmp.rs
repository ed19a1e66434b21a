//! Fuzzes the SNMP helpers (`snmp`, `snmp_trap`): any payload, tuples,
//! direction, NAT, `drop_malformed`, broadcast answer and table refusal.
//! Nothing may panic; the edits must be exactly the IpAddress values the
//! address pairs name (each 4 octets for 4, the first pair that matches
//! decides); nothing without NAT; a drop only where `drop_malformed` and
//! the kernel would decode; a broadcast expectation only for `snmp`'s
//! original direction when the table knows the prefix.
//!
//! Input layout (missing bytes read as 0):
//! - 0: flags — bit 0 reply direction, 1 `snmp_trap` (else `snmp`), 2 NAT
//!   (reply tuple from the input, else the inverse), 3 `drop_malformed`,
//!   4 IPv6 (the addresses mapped into ::ffff:0:0/96), 5 the table knows
//!   the destination as a broadcast address, 6 the table refuses
//!   expectations, 7 the reply source is the payload's first `40 04`
//!   address (so the DNAT pair finds something)
//! - 1..17: four IPv4 addresses (orig src, orig dst, reply src, reply dst)
//! - 17..25: four ports, same order
//! - 25: the broadcast prefix length
//! - 26..: payload
#![no_main]

#[path = "common/mod.rs"]
mod common;

use common::{apply_checked, bytes, port};
use helpers::snmp::helper::{kernel_mangles, Rewrites, Role};
use helpers::snmp::{self, decode, Snmp, Version};
use helpers::testing::TestEnv;
use helpers::{
    ConnView, Dir, ExpectError, ExpectFlags, Helper, L4Proto, Packet, ParamValue, SrcAddr, Tuple,
};
use libfuzzer_sys::fuzz_target;
use std::net::{IpAddr, Ipv4Addr};

const ADDRS: usize = 1;
const PORTS: usize = 17;
const PREFIX: usize = 25;
const HEADER: usize = 26;

fuzz_target!(|data: &[u8]| {
    let [flags] = bytes::<1>(data, 0);
    let bit = |n: u8| flags & (1 << n) != 0;
    let payload = data.get(HEADER..).unwrap_or_default();
    let v6 = bit(4);
    let mut raw: Vec<Ipv4Addr> = (0..4)
        .map(|i| Ipv4Addr::from(bytes::<4>(data, ADDRS + 4 * i)))
        .collect();
    if bit(7) {
        if let Some(i) = payload.windows(2).position(|w| w == [0x40, 4]) {
            raw[2] = Ipv4Addr::from(bytes::<4>(payload, i + 2));
        }
    }
    let addr = |i: usize| -> IpAddr {
        if v6 {
            IpAddr::V6(raw[i].to_ipv6_mapped())
        } else {
            IpAddr::V4(raw[i])
        }
    };
    let tuple = |a: usize, b: usize| Tuple {
        src: addr(a),
        dst: addr(b),
        proto: L4Proto::Udp,
        sport: port(data, PORTS, a),
        dport: port(data, PORTS, b),
    };
    let conn = if bit(2) {
        ConnView {
            orig: tuple(0, 1),
            reply: tuple(2, 3),
        }
    } else {
        ConnView::plain(tuple(0, 1))
    };
    let dir = if bit(0) { Dir::Reply } else { Dir::Original };
    let role = if bit(1) { Role::Trap } else { Role::Agent };
    let info = match role {
        Role::Agent => &snmp::INFO,
        Role::Trap => &snmp::TRAP_INFO,
    };
    let mut params = info.default_params();
    params
        .set(info.params, "drop_malformed", ParamValue::Bool(bit(3)))
        .expect("listed parameter");
    let h = Snmp::new(role, &params, &info.policies_for(&params));
    let [prefix] = bytes::<1>(data, PREFIX);
    let mut env = TestEnv {
        fail: bit(6).then_some(ExpectError::Full),
        ..TestEnv::default()
    };
    if bit(5) {
        env.broadcasts.insert(conn.reply.src, prefix);
    }
    let pkt = Packet {
        conn,
        dir,
        payload,
        ..Packet::EMPTY
    };
    let out = h.handle(&pkt, &mut env);
    let made = env.take_made();

    let edited = apply_checked(payload, &out);
    assert_eq!(edited.len(), payload.len(), "same-length edits");
    assert!(out.state.is_none() && out.incomplete.is_none());
    for e in &out.edits {
        assert_eq!((e.len, e.new.len()), (4, 4));
    }

    // The broadcast expectation.
    let bcast =
        role == Role::Agent && dir == Dir::Original && !v6 && bit(5) && (1..=32).contains(&prefix);
    assert_eq!(out.ct_timeout, bcast.then_some(30));
    assert_eq!(env.calls.len(), usize::from(bcast));
    assert_eq!(made.len(), usize::from(bcast && !bit(6)));
    for e in &env.calls {
        assert_eq!(e.src, SrcAddr::Net(conn.reply.src, prefix));
        assert_eq!(e.sport, Some(conn.reply.sport));
        assert_eq!((e.dst, e.dport), (conn.reply.dst, conn.reply.dport));
        assert_eq!(e.flags, ExpectFlags::PERMANENT);
        assert!(e.helper.is_none() && e.nat.is_none());
    }

    // The translation, computed here from the decoded addresses.
    if v6 || !conn.nat() {
        assert!(out.edits.is_empty() && !out.drop);
        assert!(out
            .events
            .iter()
            .all(|e| e.reason.name() == "expect_failed"));
        return;
    }
    let rw = Rewrites::of(&conn, dir).expect("IPv4");
    let (_, wire_dport) = helpers::snmp::helper::wire_ports(&pkt);
    let translated = match role {
        Role::Agent => kernel_mangles(&pkt),
        Role::Trap => !(dir == Dir::Reply && wire_dport == 162),
    };
    let pairs = if translated { rw.active() } else { Vec::new() };
    let kernel_decodes = !rw.kernel.identity() && kernel_mangles(&pkt);
    let nat_events: Vec<&str> = out
        .events
        .iter()
        .map(|e| e.reason.name())
        .filter(|r| *r != "expect_failed")
        .collect();
    if pairs.is_empty() {
        assert!(out.edits.is_empty() && !out.drop && nat_events.is_empty());
        return;
    }
    match decode(payload) {
        Err(_) => {
            assert_eq!(nat_events, ["malformed"]);
            assert!(out.edits.is_empty());
            assert_eq!(out.drop, bit(3) && kernel_decodes);
        }
        Ok(m) if m.version == Version::V3 => {
            assert_eq!(nat_events, ["snmpv3"]);
            assert!(out.edits.is_empty() && !out.drop);
        }
        Ok(m) => {
            assert!(nat_events.is_empty() && !out.drop);
            let mut want = payload.to_vec();
            for a in m.addresses() {
                if let Some(p) = pairs.iter().find(|p| p.from == a.addr) {
                    want[a.offset..a.offset + 4].copy_from_slice(&p.to.octets());
                }
            }
            assert_eq!(edited, want, "exactly the pairs' addresses");
        }
    }
});
