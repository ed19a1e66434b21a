//! SNMP helpers (`snmp`, `snmp_trap`): the agent behind DNAT, traps and
//! informs from an agent behind SNAT, which packets the kernel's rule
//! translates, v3 and malformed messages, the answers to a broadcast.

mod common;
use common::snmp::{self as ber, Ber};
use common::{ip, reason_names, udp, Done};

use helpers::snmp::helper::{kernel_mangles, Rewrites, Role, DROP_MALFORMED, TIMEOUT};
use helpers::snmp::{self, Kernel, Pair, Snmp};
use helpers::testing::TestEnv;
use helpers::{
    ConnView, Dir, Edit, ExpectError, ExpectFlags, Expectation, Helper, L4Proto, Packet,
    ParamValue, SrcAddr,
};
use std::net::Ipv4Addr;

fn v4(s: &str) -> Ipv4Addr {
    s.parse().unwrap()
}

fn helper(role: Role, set: &[(&str, ParamValue)]) -> Snmp {
    let info = match role {
        Role::Agent => &snmp::INFO,
        Role::Trap => &snmp::TRAP_INFO,
    };
    let mut p = info.default_params();
    for (k, v) in set {
        p.set(info.params, k, *v).unwrap();
    }
    Snmp::new(role, &p, &info.policies_for(&p))
}

fn run_with(h: &Snmp, conn: ConnView, dir: Dir, payload: &[u8], env: &mut TestEnv) -> Done {
    let pkt = Packet {
        conn,
        dir,
        payload,
        ..Packet::EMPTY
    };
    let out = h.handle(&pkt, env);
    assert!(out.state.is_none(), "SNMP keeps no state");
    assert_eq!(out.incomplete, None);
    for e in &out.edits {
        assert_eq!((e.len, e.new.len()), (4, 4), "same-length address edits");
    }
    Done::new(out, env)
}

fn run(role: Role, conn: ConnView, dir: Dir, payload: &[u8]) -> Done {
    run_with(
        &helper(role, &[]),
        conn,
        dir,
        payload,
        &mut TestEnv::default(),
    )
}

fn apply(payload: &[u8], edits: &[Edit]) -> Vec<u8> {
    helpers::edit::apply(payload, edits).unwrap()
}

/// The addresses of `after` at the IpAddress offsets of `msg`.
fn addrs_after(msg: &Ber, after: &[u8]) -> Vec<Ipv4Addr> {
    msg.ips
        .iter()
        .map(|&(o, _)| Ipv4Addr::from(<[u8; 4]>::try_from(&after[o..o + 4]).unwrap()))
        .collect()
}

/// Manager 198.51.100.7 outside; agent 10.0.1.2 behind DNAT of
/// 203.0.113.1:161.
fn dnat_agent() -> ConnView {
    ConnView {
        orig: udp("198.51.100.7", 40000, "203.0.113.1", 161),
        reply: udp("10.0.1.2", 161, "198.51.100.7", 40000),
    }
}

/// Agent 10.0.1.2 behind SNAT to 203.0.113.1 (port kept), sending to the
/// manager's 162.
fn snat_trap() -> ConnView {
    ConnView {
        orig: udp("10.0.1.2", 50000, "198.51.100.7", 162),
        reply: udp("198.51.100.7", 162, "203.0.113.1", 50000),
    }
}

/// An ipAddrTable response carrying the agent's address, another host's
/// and the public one.
fn ip_addr_table() -> Ber {
    let agent = v4("10.0.1.2");
    ber::message(
        1,
        ber::RESPONSE,
        77,
        vec![
            (ber::ip_addr_entry(1, agent), Ber::ip(agent)),
            (ber::ip_addr_entry(2, agent), Ber::int(2)),
            (ber::ip_addr_entry(3, agent), Ber::ip(v4("255.255.255.0"))),
            (
                ber::ip_addr_entry(1, v4("10.0.1.99")),
                Ber::ip(v4("10.0.1.99")),
            ),
            (
                ber::ip_addr_entry(1, v4("203.0.113.1")),
                Ber::ip(v4("203.0.113.1")),
            ),
        ],
    )
}

#[test]
fn info_and_registry() {
    let s = &snmp::INFO;
    assert_eq!(
        (s.name, s.default_ports, s.priv_len),
        ("snmp", &[161][..], 0)
    );
    assert_eq!((s.ipv4, s.ipv6), (true, false));
    assert_eq!(s.l4, &[L4Proto::Udp]);
    assert_eq!(s.policies, &[("snmp", 1, 30)]);
    let names: Vec<&str> = s.params.iter().map(|p| p.name).collect();
    assert_eq!(names, ["timeout", "drop_malformed"]);
    // The policy's timeout is the `timeout` parameter (module init).
    let mut p = s.default_params();
    p.set(s.params, "timeout", ParamValue::U32(5)).unwrap();
    let pol = s.policies_for(&p);
    assert_eq!((pol.len(), pol[0].max_expected, pol[0].timeout), (1, 1, 5));
    assert_eq!(s.policies_for(&s.default_params())[0].timeout, 30);

    let t = &snmp::TRAP_INFO;
    assert_eq!(
        (t.name, t.default_ports, t.priv_len),
        ("snmp_trap", &[162][..], 0)
    );
    assert_eq!((t.ipv4, t.ipv6), (true, false));
    assert_eq!(t.policies, &[("snmp_trap", 0, 180)]);
    let names: Vec<&str> = t.params.iter().map(|p| p.name).collect();
    assert_eq!(names, ["drop_malformed"]);
    assert!(t.policies_from_params.is_none());

    let order: Vec<&str> = helpers::REGISTRY.iter().map(|h| h.name).collect();
    let at = |n: &str| order.iter().position(|x| *x == n).unwrap();
    assert_eq!(at("snmp_trap"), at("snmp") + 1);
    assert_eq!(at("snmp"), order.len() - 2, "snmp, snmp_trap come last");
    assert_eq!(helper(Role::Agent, &[]).info().name, "snmp");
    assert_eq!(helper(Role::Trap, &[]).info().name, "snmp_trap");
    // What the helpers read is what they list.
    assert_eq!(TIMEOUT.name(), "timeout");
    assert_eq!(DROP_MALFORMED.name(), "drop_malformed");
}

#[test]
fn agent_behind_dnat_answers_with_its_public_address() {
    let msg = ip_addr_table();
    let out = run(Role::Agent, dnat_agent(), Dir::Reply, &msg.bytes);
    assert!(out.events.is_empty(), "{:?}", out.events);
    assert!(out.expectations.is_empty() && !out.drop);
    let after = apply(&msg.bytes, &out.edits);
    assert_eq!(
        addrs_after(&msg, &after),
        [
            v4("203.0.113.1"), // the agent's own address
            v4("255.255.255.0"),
            v4("10.0.1.99"),   // another host: left alone
            v4("203.0.113.1"), // already public
        ]
    );
    // Only the IpAddress octets changed: the OIDs keep 10.0.1.2.
    let diff: Vec<usize> = (0..after.len())
        .filter(|&i| after[i] != msg.bytes[i])
        .collect();
    let o = msg.ips[0].0;
    assert!(diff.iter().all(|&i| (o..o + 4).contains(&i)), "{diff:?}");

    // The kernel: its pair is the manager's own address (from == to): it
    // returns before decoding, the answer passes with 10.0.1.2.
    let rw = Rewrites::of(&dnat_agent(), Dir::Reply).unwrap();
    assert!(rw.kernel.identity());
    assert_eq!(rw.dnat, Pair::new(v4("10.0.1.2"), v4("203.0.113.1")));
    let t = snmp::translate(&msg.bytes, rw.kernel.from, rw.kernel.to).unwrap();
    assert_eq!(t.kernel, Kernel::Untouched);
    assert!(t.edits.is_empty());
}

#[test]
fn request_to_a_dnat_agent_names_its_inside_address() {
    // A SetRequest from the manager carrying the public address: the agent
    // gets its own, as the IP header's destination is translated.
    let msg = ber::message(
        1,
        ber::SET,
        5,
        vec![(vec![1, 3, 6, 1, 4, 1, 99, 1, 0], Ber::ip(v4("203.0.113.1")))],
    );
    let out = run(Role::Agent, dnat_agent(), Dir::Original, &msg.bytes);
    let after = apply(&msg.bytes, &out.edits);
    assert_eq!(addrs_after(&msg, &after), [v4("10.0.1.2")]);
    // A GetNext (no IpAddress value) is left as it is.
    let get = ber::message(
        1,
        ber::GET_NEXT,
        6,
        vec![(vec![1, 3, 6, 1, 2, 1, 4, 20], Ber::prim(ber::NULL, &[]))],
    );
    let out = run(Role::Agent, dnat_agent(), Dir::Original, &get.bytes);
    assert!(out.edits.is_empty() && out.events.is_empty());
}

#[test]
fn v2c_trap_and_inform_from_an_agent_behind_snat() {
    for pdu in [ber::TRAP_V2, ber::INFORM] {
        let msg = ber::message(
            1,
            pdu,
            9,
            vec![
                (vec![1, 3, 6, 1, 2, 1, 1, 3, 0], Ber::prim(0x43, &[1, 0])),
                (
                    vec![1, 3, 6, 1, 6, 3, 1, 1, 4, 1, 0],
                    Ber::oid(&[1, 3, 6, 1, 6, 3, 1, 1, 5, 1]),
                ),
                (vec![1, 3, 6, 1, 4, 1, 99, 2, 0], Ber::ip(v4("10.0.1.2"))),
                (vec![1, 3, 6, 1, 4, 1, 99, 3, 0], Ber::ip(v4("10.0.1.3"))),
            ],
        );
        let out = run(Role::Trap, snat_trap(), Dir::Original, &msg.bytes);
        assert!(out.events.is_empty());
        let after = apply(&msg.bytes, &out.edits);
        assert_eq!(
            addrs_after(&msg, &after),
            [v4("203.0.113.1"), v4("10.0.1.3")]
        );
        // Exactly the kernel's edits: its pair is this one.
        let t = snmp::translate(&msg.bytes, v4("10.0.1.2"), v4("203.0.113.1")).unwrap();
        assert_eq!(t.kernel, Kernel::Same);
        let kernel: Vec<Edit> = t.edits.iter().map(|e| e.edit()).collect();
        assert_eq!(out.edits, kernel);
    }
}

#[test]
fn inform_response_is_translated_as_the_kernel_does() {
    // The manager's Response to an inform, back to the agent (reply
    // direction, destination port 50000): the kernel's pair applies there
    // too (orig.src → reply.dst), the echoed public address stays.
    let msg = ber::message(
        1,
        ber::RESPONSE,
        9,
        vec![
            (vec![1, 3, 6, 1, 4, 1, 99, 2, 0], Ber::ip(v4("203.0.113.1"))),
            (vec![1, 3, 6, 1, 4, 1, 99, 4, 0], Ber::ip(v4("10.0.1.2"))),
        ],
    );
    let out = run(Role::Trap, snat_trap(), Dir::Reply, &msg.bytes);
    let after = apply(&msg.bytes, &out.edits);
    assert_eq!(
        addrs_after(&msg, &after),
        [v4("203.0.113.1"), v4("203.0.113.1")]
    );
    let t = snmp::translate(&msg.bytes, v4("10.0.1.2"), v4("203.0.113.1")).unwrap();
    assert_eq!(
        out.edits,
        t.edits.iter().map(|e| e.edit()).collect::<Vec<_>>()
    );
}

#[test]
fn v1_trap_agent_addr_is_translated() {
    let msg = ber::trap_v1(
        v4("10.0.1.2"),
        vec![(vec![1, 3, 6, 1, 4, 1, 99, 2, 0], Ber::ip(v4("10.0.1.2")))],
    );
    let out = run(Role::Trap, snat_trap(), Dir::Original, &msg.bytes);
    assert!(out.events.is_empty() && !out.drop);
    let after = apply(&msg.bytes, &out.edits);
    assert_eq!(
        addrs_after(&msg, &after),
        [v4("203.0.113.1"), v4("203.0.113.1")]
    );
    // The kernel drops it (its grammar has no [4]).
    let t = snmp::translate(&msg.bytes, v4("10.0.1.2"), v4("203.0.113.1")).unwrap();
    assert_eq!(t.kernel, Kernel::Drops(snmp::KernelReject::TrapV1));
}

/// The kernel's rule on ports (of the packet after NAT), and the one
/// place `snmp_trap` differs.
#[test]
fn which_packets_are_translated() {
    let msg = ber::message(
        1,
        ber::TRAP_V2,
        9,
        vec![(vec![1, 3, 6, 1, 4, 1, 99, 2, 0], Ber::ip(v4("10.0.1.2")))],
    );
    let pkt = |conn, dir| Packet {
        conn,
        dir,
        payload: &msg.bytes,
        ..Packet::EMPTY
    };
    // A trap sent from port 161: the kernel skips it (source 161 in the
    // original direction); snmp_trap translates it.
    let from161 = ConnView {
        orig: udp("10.0.1.2", 161, "198.51.100.7", 162),
        reply: udp("198.51.100.7", 162, "203.0.113.1", 161),
    };
    assert!(!kernel_mangles(&pkt(from161, Dir::Original)));
    assert_eq!(
        run(Role::Trap, from161, Dir::Original, &msg.bytes)
            .edits
            .len(),
        1
    );
    // On a `snmp` connection a request from port 161 is skipped, as the
    // kernel skips it.
    let mgr161 = ConnView {
        orig: udp("10.0.1.2", 161, "198.51.100.7", 161),
        reply: udp("198.51.100.7", 161, "203.0.113.1", 161),
    };
    assert!(run(Role::Agent, mgr161, Dir::Original, &msg.bytes)
        .edits
        .is_empty());
    // Reply direction to port 162 (an agent that sent from 162): skipped
    // by both.
    let from162 = ConnView {
        orig: udp("10.0.1.2", 162, "198.51.100.7", 162),
        reply: udp("198.51.100.7", 162, "203.0.113.1", 162),
    };
    assert!(!kernel_mangles(&pkt(from162, Dir::Reply)));
    let back = run(Role::Trap, from162, Dir::Reply, &msg.bytes);
    assert!(back.edits.is_empty());
    // The ports are those after NAT: an agent masqueraded from 161 to
    // 1024 sends from 1024, which the kernel translates.
    let remapped = ConnView {
        orig: udp("10.0.1.2", 161, "198.51.100.7", 162),
        reply: udp("198.51.100.7", 162, "203.0.113.1", 1024),
    };
    assert!(kernel_mangles(&pkt(remapped, Dir::Original)));
    assert_eq!(
        run(Role::Agent, remapped, Dir::Original, &msg.bytes)
            .edits
            .len(),
        1
    );
}

#[test]
fn nothing_without_nat() {
    let conn = ConnView::plain(udp("10.0.1.2", 50000, "198.51.100.7", 162));
    for payload in [
        &ip_addr_table().bytes[..],
        b"\x30\x03garbage",
        &ber::v3_probe(),
    ] {
        for role in [Role::Agent, Role::Trap] {
            for dir in [Dir::Original, Dir::Reply] {
                let out = run(role, conn, dir, payload);
                assert!(out.edits.is_empty() && out.events.is_empty() && !out.drop);
            }
        }
    }
}

#[test]
fn v3_passes_and_is_counted() {
    let p = ber::v3_probe();
    for drop in [false, true] {
        let h = helper(Role::Trap, &[("drop_malformed", ParamValue::Bool(drop))]);
        let out = run_with(&h, snat_trap(), Dir::Original, &p, &mut TestEnv::default());
        assert_eq!(reason_names(&out), ["snmpv3"]);
        assert!(out.edits.is_empty() && !out.drop);
        assert!(
            out.events[0].detail.contains("kernel drops"),
            "{:?}",
            out.events
        );
    }
    // Behind DNAT only the kernel passes it untouched: counted, no claim
    // about the kernel.
    let out = run(Role::Agent, dnat_agent(), Dir::Reply, &p);
    assert_eq!(reason_names(&out), ["snmpv3"]);
    assert!(!out.events[0].detail.contains("kernel"));
}

#[test]
fn malformed_passes_or_drops_with_the_switch() {
    let mut cut = ip_addr_table().bytes;
    cut.truncate(cut.len() - 3);
    for bad in [
        &cut[..],
        b"\x30\x03\x02\x01",
        b"hello",
        &[0x30, 0x80, 0, 0][..],
    ] {
        // Default: passed unchanged, counted.
        let out = run(Role::Trap, snat_trap(), Dir::Original, bad);
        assert_eq!(reason_names(&out), ["malformed"]);
        assert!(!out.drop && out.edits.is_empty());
        assert_eq!(out.events[0].param, None);
        // drop_malformed: dropped where the kernel decodes (its pair is
        // not from == to), the event names the parameter.
        let h = helper(Role::Trap, &[("drop_malformed", ParamValue::Bool(true))]);
        let out = run_with(&h, snat_trap(), Dir::Original, bad, &mut TestEnv::default());
        assert!(out.drop);
        assert_eq!(out.events[0].param, Some("drop_malformed"));
        // Behind DNAT only the kernel does not decode: passed even with
        // the switch.
        let h = helper(Role::Agent, &[("drop_malformed", ParamValue::Bool(true))]);
        let out = run_with(&h, dnat_agent(), Dir::Reply, bad, &mut TestEnv::default());
        assert!(!out.drop);
        assert_eq!(reason_names(&out), ["malformed"]);
        // A trap sent from port 161, which the kernel does not look at:
        // passed too.
        let h = helper(Role::Trap, &[("drop_malformed", ParamValue::Bool(true))]);
        let from161 = ConnView {
            orig: udp("10.0.1.2", 161, "198.51.100.7", 162),
            reply: udp("198.51.100.7", 162, "203.0.113.1", 161),
        };
        let out = run_with(&h, from161, Dir::Original, bad, &mut TestEnv::default());
        assert!(!out.drop);
    }
}

#[test]
fn pairs_do_not_chain() {
    // Hairpin: the agent 10.0.1.2 reached at 203.0.113.1 by 10.0.1.5,
    // masqueraded to 10.0.1.2 itself (an odd but possible setup): kernel
    // pair 10.0.1.5 → 10.0.1.2, DNAT pair 10.0.1.2 → 203.0.113.1. One pass:
    // 10.0.1.5 becomes 10.0.1.2 and stays so.
    let conn = ConnView {
        orig: udp("10.0.1.5", 40000, "203.0.113.1", 161),
        reply: udp("10.0.1.2", 161, "10.0.1.2", 40000),
    };
    let msg = ber::message(
        1,
        ber::RESPONSE,
        1,
        vec![
            (vec![1, 3, 6, 1, 4, 1, 99, 1, 0], Ber::ip(v4("10.0.1.5"))),
            (vec![1, 3, 6, 1, 4, 1, 99, 2, 0], Ber::ip(v4("10.0.1.2"))),
        ],
    );
    let out = run(Role::Agent, conn, Dir::Reply, &msg.bytes);
    let after = apply(&msg.bytes, &out.edits);
    assert_eq!(
        addrs_after(&msg, &after),
        [v4("10.0.1.2"), v4("203.0.113.1")]
    );
}

#[test]
fn ipv6_is_not_touched() {
    let conn = ConnView {
        orig: udp("2001:db8::7", 40000, "2001:db8:1::1", 161),
        reply: udp("fd00::2", 161, "2001:db8::7", 40000),
    };
    let mut env = TestEnv::default();
    env.broadcasts.insert(ip("2001:db8:1::1"), 64);
    let h = helper(Role::Agent, &[]);
    let out = run_with(&h, conn, Dir::Reply, &ip_addr_table().bytes, &mut env);
    assert!(out.edits.is_empty() && out.events.is_empty());
    let out = run_with(&h, conn, Dir::Original, &ip_addr_table().bytes, &mut env);
    assert!(out.expectations.is_empty() && out.ct_timeout.is_none());
    assert!(env.calls.is_empty());
}

/// A GetRequest from the router (10.0.3.1) to its subnet's broadcast.
fn broadcast_conn() -> ConnView {
    ConnView::plain(udp("10.0.3.1", 40000, "10.0.3.255", 161))
}

fn get_request() -> Vec<u8> {
    ber::message(
        1,
        ber::GET,
        3,
        vec![(vec![1, 3, 6, 1, 2, 1, 1, 5, 0], Ber::prim(ber::NULL, &[]))],
    )
    .bytes
}

#[test]
fn broadcast_expects_the_subnet() {
    let mut env = TestEnv::default();
    env.broadcasts.insert(ip("10.0.3.255"), 24);
    let h = helper(Role::Agent, &[]);
    let out = run_with(
        &h,
        broadcast_conn(),
        Dir::Original,
        &get_request(),
        &mut env,
    );
    assert_eq!(
        out.expectations,
        [Expectation {
            class: 0,
            proto: L4Proto::Udp,
            src: SrcAddr::Net(ip("10.0.3.255"), 24),
            sport: Some(161),
            dst: ip("10.0.3.1"),
            dport: 40000,
            flags: ExpectFlags::PERMANENT,
            helper: None,
            nat: None,
        }]
    );
    assert_eq!(out.ct_timeout, Some(30));
    assert!(out.edits.is_empty() && out.events.is_empty());
    // Both agents of the subnet match, nobody else; not from another port.
    let e = &out.expectations[0];
    for (src, sport, ok) in [
        ("10.0.3.2", 161, true),
        ("10.0.3.3", 161, true),
        ("10.0.4.2", 161, false),
        ("10.0.3.2", 1161, false),
    ] {
        assert_eq!(
            e.matches(&udp(src, sport, "10.0.3.1", 40000)),
            ok,
            "{src}:{sport}"
        );
    }

    // The `timeout` parameter: the connection's new lifetime.
    let h = helper(Role::Agent, &[("timeout", ParamValue::U32(7))]);
    let out = run_with(
        &h,
        broadcast_conn(),
        Dir::Original,
        &get_request(),
        &mut env,
    );
    assert_eq!(out.ct_timeout, Some(7));
    assert_eq!(out.expectations.len(), 1);

    // Not a broadcast the table knows of (not local, not the output
    // interface's): nothing, the connection keeps its timeout.
    let mut none = TestEnv::default();
    let out = run_with(
        &h,
        broadcast_conn(),
        Dir::Original,
        &get_request(),
        &mut none,
    );
    assert!(out.expectations.is_empty() && out.ct_timeout.is_none());
    assert!(none.calls.is_empty());
}

#[test]
fn broadcast_only_in_the_original_direction_of_snmp() {
    let mut env = TestEnv::default();
    env.broadcasts.insert(ip("10.0.3.255"), 24);
    env.broadcasts.insert(ip("10.0.3.1"), 24);
    let out = run_with(
        &helper(Role::Agent, &[]),
        broadcast_conn(),
        Dir::Reply,
        &get_request(),
        &mut env,
    );
    assert!(out.expectations.is_empty() && out.ct_timeout.is_none());
    // snmp_trap has no broadcast helper.
    let out = run_with(
        &helper(Role::Trap, &[]),
        ConnView::plain(udp("10.0.3.1", 40000, "10.0.3.255", 162)),
        Dir::Original,
        &get_request(),
        &mut env,
    );
    assert!(out.expectations.is_empty() && out.ct_timeout.is_none());
    assert!(env.calls.is_empty());
}

#[test]
fn broadcast_refused_still_refreshes() {
    // nf_ct_refresh() follows nf_ct_expect_related() whatever it answered.
    let mut env = TestEnv {
        fail: Some(ExpectError::Full),
        ..TestEnv::default()
    };
    env.broadcasts.insert(ip("10.0.3.255"), 24);
    let out = run_with(
        &helper(Role::Agent, &[]),
        broadcast_conn(),
        Dir::Original,
        &get_request(),
        &mut env,
    );
    assert!(out.expectations.is_empty());
    assert_eq!(env.calls.len(), 1);
    assert_eq!(reason_names(&out), ["expect_failed"]);
    assert_eq!(out.ct_timeout, Some(30));
    // A prefix of 0 (mask 0): the kernel stops before it.
    let mut zero = TestEnv::default();
    zero.broadcasts.insert(ip("10.0.3.255"), 0);
    let out = run_with(
        &helper(Role::Agent, &[]),
        broadcast_conn(),
        Dir::Original,
        &get_request(),
        &mut zero,
    );
    assert!(out.ct_timeout.is_none() && zero.calls.is_empty());
}
