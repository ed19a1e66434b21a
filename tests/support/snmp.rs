//! SNMP fixtures: a walk of an agent behind DNAT whose ipAddrTable carries
//! its own address; traps and informs of an agent behind SNAT (v1 with
//! agent-addr, v2c trap, inform and its response, SNMPv3, a malformed
//! message); a broadcast GetRequest answered by two agents. The BER is
//! written here, independent of the decoder under test.

use super::{Capture, Fixture, Golden, Link};

// ---------------------------------------------------------------------------
// BER
// ---------------------------------------------------------------------------

fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut v = vec![tag];
    let n = content.len();
    if n < 0x80 {
        v.push(n as u8);
    } else if n < 0x100 {
        v.extend_from_slice(&[0x81, n as u8]);
    } else {
        v.extend_from_slice(&[0x82, (n >> 8) as u8, n as u8]);
    }
    v.extend_from_slice(content);
    v
}

fn seq(tag: u8, parts: &[Vec<u8>]) -> Vec<u8> {
    tlv(tag, &parts.concat())
}

fn int(v: i64) -> Vec<u8> {
    let b = v.to_be_bytes();
    let mut s = 0;
    while s < 7 && ((b[s] == 0 && b[s + 1] & 0x80 == 0) || (b[s] == 0xFF && b[s + 1] & 0x80 != 0)) {
        s += 1;
    }
    tlv(0x02, &b[s..])
}

fn octets(s: &[u8]) -> Vec<u8> {
    tlv(0x04, s)
}

fn null() -> Vec<u8> {
    tlv(0x05, &[])
}

/// An OBJECT IDENTIFIER from its dotted form.
fn oid(dotted: &str) -> Vec<u8> {
    let arcs: Vec<u64> = dotted.split('.').map(|a| a.parse().expect("arc")).collect();
    let mut out = Vec::new();
    let mut subs = vec![arcs[0] * 40 + arcs[1]];
    subs.extend_from_slice(&arcs[2..]);
    for mut v in subs {
        let mut tmp = vec![(v & 0x7F) as u8];
        v >>= 7;
        while v > 0 {
            tmp.push(0x80 | (v & 0x7F) as u8);
            v >>= 7;
        }
        tmp.reverse();
        out.extend(tmp);
    }
    tlv(0x06, &out)
}

fn ipaddr(a: &str) -> Vec<u8> {
    let a: std::net::Ipv4Addr = a.parse().expect("IPv4");
    tlv(0x40, &a.octets())
}

fn ticks(t: u32) -> Vec<u8> {
    let mut c = t.to_be_bytes().to_vec();
    while c.len() > 1 && c[0] == 0 && c[1] & 0x80 == 0 {
        c.remove(0);
    }
    tlv(0x43, &c)
}

fn varbinds(vbs: &[(&str, Vec<u8>)]) -> Vec<u8> {
    let list: Vec<Vec<u8>> = vbs
        .iter()
        .map(|(n, v)| seq(0x30, &[oid(n), v.clone()]))
        .collect();
    seq(0x30, &list)
}

const GET: u8 = 0xA0;
const GET_NEXT: u8 = 0xA1;
const RESPONSE: u8 = 0xA2;
const INFORM: u8 = 0xA6;
const TRAP_V2: u8 = 0xA7;

/// A v2c message (community `public`).
fn v2c(pdu: u8, request_id: i64, vbs: &[(&str, Vec<u8>)]) -> Vec<u8> {
    seq(
        0x30,
        &[
            int(1),
            octets(b"public"),
            seq(pdu, &[int(request_id), int(0), int(0), varbinds(vbs)]),
        ],
    )
}

/// An SNMPv1 Trap-PDU (community `public`).
fn v1_trap(enterprise: &str, agent: &str, generic: i64, vbs: &[(&str, Vec<u8>)]) -> Vec<u8> {
    seq(
        0x30,
        &[
            int(0),
            octets(b"public"),
            seq(
                0xA4,
                &[
                    oid(enterprise),
                    ipaddr(agent),
                    int(generic),
                    int(0),
                    ticks(4200),
                    varbinds(vbs),
                ],
            ),
        ],
    )
}

/// An SNMPv3 message with authentication (authNoPriv, a 12-octet HMAC):
/// its PDU is in the clear but any rewrite would break the digest.
fn v3_trap(agent: &str) -> Vec<u8> {
    let global = seq(0x30, &[int(0x4e21), int(65507), octets(&[0x01]), int(3)]);
    let usm = seq(
        0x30,
        &[
            octets(b"\x80\x00\x1f\x88\x80\x01\x02\x03\x04\x05\x06\x07"),
            int(3),
            int(4200),
            octets(b"trapuser"),
            octets(&[0xA5; 12]),
            octets(b""),
        ],
    );
    let scoped = seq(
        0x30,
        &[
            octets(b"\x80\x00\x1f\x88\x80\x01\x02\x03\x04\x05\x06\x07"),
            octets(b""),
            seq(
                TRAP_V2,
                &[
                    int(31),
                    int(0),
                    int(0),
                    varbinds(&[
                        ("1.3.6.1.2.1.1.3.0", ticks(4200)),
                        ("1.3.6.1.6.3.1.1.4.1.0", oid("1.3.6.1.6.3.1.1.5.1")),
                        ("1.3.6.1.4.1.8072.9999.1.0", ipaddr(agent)),
                    ]),
                ],
            ),
        ],
    );
    seq(0x30, &[int(3), global, octets(&usm), scoped])
}

// ---------------------------------------------------------------------------
// Fixtures
// ---------------------------------------------------------------------------

const MANAGER: &str = "198.51.100.7";
const AGENT: &str = "10.0.1.2";

const IP_AD_ENT_ADDR: &str = "1.3.6.1.2.1.4.20.1.1";
const IP_AD_ENT_IF_INDEX: &str = "1.3.6.1.2.1.4.20.1.2";
const IP_AD_ENT_NET_MASK: &str = "1.3.6.1.2.1.4.20.1.3";

/// `snmpwalk -v2c -c public AGENT ipAddrTable` as the agent 10.0.1.2 sees
/// it, behind the DNAT 203.0.113.1:161 → 10.0.1.2:161 (the capture is
/// taken inside): one GetNext per row and column, the agent's two
/// addresses (127.0.0.1 and its own) in the values and in the OIDs, the
/// end of the table. Ethernet pcap. Replayed with `--dnat`, every
/// IpAddress 10.0.1.2 leaves as 203.0.113.1 — nothing else, not the OID
/// instances.
fn walk_dnat() -> Fixture {
    let mut cap = Capture::new(Link::Ethernet);
    let (m, a) = ((MANAGER, 40161), (AGENT, 161));
    let rows = [
        ("10.0.1.2", 2, "255.255.255.0"),
        ("127.0.0.1", 1, "255.0.0.0"),
    ];
    let mut steps: Vec<(String, Vec<u8>)> = Vec::new();
    for col in [IP_AD_ENT_ADDR, IP_AD_ENT_IF_INDEX, IP_AD_ENT_NET_MASK] {
        for (addr, ifindex, mask) in rows {
            let value = match col {
                IP_AD_ENT_ADDR => ipaddr(addr),
                IP_AD_ENT_IF_INDEX => int(ifindex),
                _ => ipaddr(mask),
            };
            steps.push((format!("{col}.{addr}"), value));
        }
    }
    let mut prev = "1.3.6.1.2.1.4.20".to_string();
    for (i, (name, value)) in steps.iter().enumerate() {
        let id = 1000 + i as i64;
        cap.udp(m, a, &v2c(GET_NEXT, id, &[(&prev, null())]));
        cap.udp(a, m, &v2c(RESPONSE, id, &[(name, value.clone())]));
        prev = name.clone();
    }
    // Past the table: the next object.
    let id = 1000 + steps.len() as i64;
    cap.udp(m, a, &v2c(GET_NEXT, id, &[(&prev, null())]));
    cap.udp(
        a,
        m,
        &v2c(
            RESPONSE,
            id,
            &[("1.3.6.1.2.1.4.21.1.1.0.0.0.0", ipaddr("0.0.0.0"))],
        ),
    );
    Fixture {
        name: "snmp-walk-dnat.pcap",
        bytes: cap.pcap(),
    }
}

/// Notifications of the agent 10.0.1.2 to the manager's udp/162, each
/// from its own port (its own connection): an SNMPv1 linkUp trap with
/// agent-addr 10.0.1.2; a v2c coldStart trap naming 10.0.1.2 and another
/// host; a v2c inform and the manager's response; an SNMPv3 trap (auth);
/// a message cut short. Linux cooked (SLL) pcap; replayed with `--snat
/// 10.0.1.0/24=203.0.113.1`.
fn traps_snat() -> Fixture {
    let mut cap = Capture::new(Link::Sll);
    let mgr = (MANAGER, 162);
    let link_up = [
        ("1.3.6.1.2.1.2.2.1.1.2", int(2)),
        ("1.3.6.1.4.1.8072.9999.1.0", ipaddr(AGENT)),
    ];
    cap.udp(
        (AGENT, 50001),
        mgr,
        &v1_trap("1.3.6.1.4.1.8072.3.2.10", AGENT, 3, &link_up),
    );
    let notify = |addr: &str| {
        vec![
            ("1.3.6.1.2.1.1.3.0", ticks(4200)),
            ("1.3.6.1.6.3.1.1.4.1.0", oid("1.3.6.1.6.3.1.1.5.1")),
            ("1.3.6.1.4.1.8072.9999.1.0", ipaddr(AGENT)),
            ("1.3.6.1.4.1.8072.9999.2.0", ipaddr(addr)),
        ]
    };
    cap.udp((AGENT, 50002), mgr, &v2c(TRAP_V2, 21, &notify("10.0.1.99")));
    let inform = notify("203.0.113.1");
    cap.udp((AGENT, 50003), mgr, &v2c(INFORM, 22, &inform));
    // The manager answers with the varbinds as it received them (the
    // agent's address already public behind the NAT).
    let mut answer = inform.clone();
    answer[2].1 = ipaddr("203.0.113.1");
    cap.udp(mgr, (AGENT, 50003), &v2c(RESPONSE, 22, &answer));
    cap.udp((AGENT, 50004), mgr, &v3_trap(AGENT));
    let mut cut = v2c(TRAP_V2, 23, &notify("10.0.1.99"));
    cut.truncate(cut.len() - 5);
    cap.udp((AGENT, 50005), mgr, &cut);
    Fixture {
        name: "snmp-traps-snat.pcap",
        bytes: cap.pcap(),
    }
}

/// The router 10.0.3.1 asks its subnet's broadcast 10.0.3.255 for
/// sysName.0; the agents 10.0.3.2 and 10.0.3.3 answer from their own
/// addresses. pcapng, raw IP. Replayed with `--broadcast 10.0.3.0/24` the
/// request expects the answers from 10.0.3.0/24:161 and both answers are
/// related flows; without it they are new flows.
fn broadcast() -> Fixture {
    let mut cap = Capture::new(Link::Raw);
    let me = ("10.0.3.1", 40300);
    cap.udp(
        me,
        ("10.0.3.255", 161),
        &v2c(GET, 7, &[("1.3.6.1.2.1.1.5.0", null())]),
    );
    for (agent, name) in [("10.0.3.2", &b"agent-a"[..]), ("10.0.3.3", b"agent-b")] {
        cap.udp(
            (agent, 161),
            me,
            &v2c(RESPONSE, 7, &[("1.3.6.1.2.1.1.5.0", octets(name))]),
        );
    }
    // An answer from another subnet is not one of them.
    cap.udp(
        ("10.0.4.2", 161),
        me,
        &v2c(RESPONSE, 7, &[("1.3.6.1.2.1.1.5.0", octets(b"stranger"))]),
    );
    Fixture {
        name: "snmp-broadcast.pcapng",
        bytes: cap.pcapng(),
    }
}

pub fn fixtures() -> Vec<Fixture> {
    vec![walk_dnat(), traps_snat(), broadcast()]
}

pub const DNAT: &[&str] = &["--dnat", "203.0.113.1:161=10.0.1.2:161"];
pub const SNAT: &[&str] = &["--snat", "10.0.1.0/24=203.0.113.1"];
pub const BROADCAST: &[&str] = &["--broadcast", "10.0.3.0/24"];

pub const GOLDENS: &[Golden] = &[
    Golden {
        fixture: "snmp-walk-dnat.pcap",
        args: &[],
        golden: "snmp-walk-dnat.golden.jsonl",
    },
    Golden {
        fixture: "snmp-walk-dnat.pcap",
        args: DNAT,
        golden: "snmp-walk-dnat.dnat.golden.jsonl",
    },
    Golden {
        fixture: "snmp-walk-dnat.pcap",
        args: DNAT,
        golden: "snmp-walk-dnat.dnat.golden.txt",
    },
    Golden {
        fixture: "snmp-traps-snat.pcap",
        args: &[],
        golden: "snmp-traps-snat.golden.jsonl",
    },
    Golden {
        fixture: "snmp-traps-snat.pcap",
        args: SNAT,
        golden: "snmp-traps-snat.snat.golden.jsonl",
    },
    Golden {
        fixture: "snmp-traps-snat.pcap",
        args: SNAT,
        golden: "snmp-traps-snat.snat.golden.txt",
    },
    Golden {
        fixture: "snmp-broadcast.pcapng",
        args: &[],
        golden: "snmp-broadcast.golden.jsonl",
    },
    Golden {
        fixture: "snmp-broadcast.pcapng",
        args: BROADCAST,
        golden: "snmp-broadcast.bcast.golden.jsonl",
    },
];
