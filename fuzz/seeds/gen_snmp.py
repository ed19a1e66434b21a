#!/usr/bin/env python3
"""Writes the seed inputs of the snmp_decode fuzz target (the input is a UDP
payload) into seeds/snmp_decode/, with a BER encoder of its own.
Run from fuzz/: python3 seeds/gen_snmp.py"""
import os

def tlv(tag, content, long=0):
    n = len(content)
    if long or n >= 0x80:
        k = max(long, (n.bit_length() + 7) // 8, 1)
        head = bytes([tag, 0x80 | k]) + n.to_bytes(k, "big")
    else:
        head = bytes([tag, n])
    return head + content

def seq(*parts, tag=0x30, long=0):
    return tlv(tag, b"".join(parts), long)

def integer(v):
    return tlv(0x02, v.to_bytes(max(1, (v.bit_length() + 8) // 8), "big", signed=True))

def oid(s):
    a = [int(x) for x in s.split(".")]
    subs, out = [a[0] * 40 + a[1]] + a[2:], b""
    for v in subs:
        b = [v & 0x7F]
        v >>= 7
        while v:
            b.append(0x80 | (v & 0x7F))
            v >>= 7
        out += bytes(reversed(b))
    return tlv(0x06, out)

def ip(a):
    return tlv(0x40, bytes(int(x) for x in a.split(".")))

def vb(name, value):
    return seq(oid(name), value)

def msg(version, pdu_tag, *fields, community=b"public", long=0):
    return seq(integer(version), tlv(0x04, community), seq(*fields, tag=pdu_tag, long=long), long=long)

NULL = tlv(0x05, b"")
req = lambda rid, *vbs: (integer(rid), integer(0), integer(0), seq(*vbs))
seeds = {
    "v1_get": msg(0, 0xA0, *req(1, vb("1.3.6.1.2.1.1.1.0", NULL))),
    "v1_response_ip": msg(0, 0xA2, *req(1, vb("1.3.6.1.2.1.4.20.1.1.10.0.0.5", ip("10.0.0.5")))),
    "v1_trap": msg(0, 0xA4, oid("1.3.6.1.4.1.8072.3.2.10"), ip("10.0.0.5"), integer(6), integer(1),
                   tlv(0x43, b"\x30\x39"), seq(vb("1.3.6.1.4.1.9.9.1", ip("10.0.0.5")))),
    "v2c_trap": msg(1, 0xA7, *req(7, vb("1.3.6.1.2.1.1.3.0", tlv(0x43, b"\x01")),
                                  vb("1.3.6.1.6.3.1.1.4.1.0", oid("1.3.6.1.6.3.1.1.5.3")),
                                  vb("1.3.6.1.2.1.4.20.1.1.10.0.0.5", ip("10.0.0.5")))),
    "v2c_inform_long": msg(1, 0xA6, *req(8, vb("1.3.6.1.2.1.1.5.0", tlv(0x04, b"host")),
                                         vb("1.3.6.1.2.1.4.21.1.7.0.0.0.0", ip("192.0.2.1"))), long=2),
    "v2c_bulk": msg(1, 0xA5, integer(9), integer(0), integer(10), seq(vb("1.3.6.1.2.1.4.20", NULL))),
    "v2c_response_types": msg(1, 0xA2, *req(10,
        vb("1.3.6.1.2.1.2.2.1.10.1", tlv(0x41, b"\x00\xff\xff\xff\xff")),
        vb("1.3.6.1.2.1.31.1.1.1.6.1", tlv(0x46, b"\x01\x02\x03\x04\x05\x06\x07\x08")),
        vb("1.3.6.1.2.1.2.2.1.5.1", tlv(0x42, b"\x3b\x9a\xca\x00")),
        vb("1.3.6.1.4.1.2021.10.1.6.1", tlv(0x44, b"\x9f\x78\x04\x3f\x80\x00\x00")),
        vb("1.3.6.1.2.1.1.9.1.2.1", tlv(0x80, b"")),
        vb("1.3.6.1.2.1.1.9.1.3.1", tlv(0x82, b"")))),
    "v3_report": seq(integer(3), seq(integer(1), integer(65507), tlv(0x04, b"\x00"), integer(3)),
                     tlv(0x04, seq(tlv(0x04, b""), integer(0), integer(0), tlv(0x04, b""), tlv(0x04, b""), tlv(0x04, b""))),
                     seq(tlv(0x04, b""), tlv(0x04, b""), seq(*req(1), tag=0xA8))),
}
os.makedirs("seeds/snmp_decode", exist_ok=True)
for name, data in seeds.items():
    with open(os.path.join("seeds/snmp_decode", name), "wb") as f:
        f.write(data)

# Seeds of the `snmp` helper target: a header (fuzz_targets/snmp.rs) and one
# of the payloads above. flags: bit 0 reply, 1 snmp_trap, 2 NAT, 3
# drop_malformed, 5 broadcast known, 6 table refuses.
def a4(s):
    return bytes(int(x) for x in s.split("."))

def header(flags, addrs, ports, prefix=24):
    return bytes([flags]) + b"".join(a4(x) for x in addrs) + b"".join(
        p.to_bytes(2, "big") for p in ports) + bytes([prefix])

DNAT = (["198.51.100.7", "203.0.113.1", "10.0.0.5", "198.51.100.7"], [40000, 161, 161, 40000])
SNAT = (["10.0.0.5", "198.51.100.7", "198.51.100.7", "203.0.113.1"], [50000, 162, 162, 50000])
BCAST = (["10.0.3.1", "10.0.3.255", "10.0.3.255", "10.0.3.1"], [40000, 161, 161, 40000])
helper_seeds = {
    "dnat_response": header(0b101, *DNAT) + seeds["v1_response_ip"],
    "dnat_request": header(0b100, *DNAT) + seeds["v1_get"],
    "snat_trap_v1": header(0b110, *SNAT) + seeds["v1_trap"],
    "snat_trap_v2c": header(0b110, *SNAT) + seeds["v2c_trap"],
    "snat_inform_response": header(0b111, *SNAT) + seeds["v2c_inform_long"],
    "snat_v3": header(0b110, *SNAT) + seeds["v3_report"],
    "snat_cut_drop": header(0b1110, *SNAT) + seeds["v2c_trap"][:-7],
    "broadcast": header(0b100000, *BCAST) + seeds["v1_get"],
    "broadcast_refused": header(0b1100000, *BCAST) + seeds["v1_get"],
}
os.makedirs("seeds/snmp", exist_ok=True)
for name, data in helper_seeds.items():
    with open(os.path.join("seeds/snmp", name), "wb") as f:
        f.write(data)
