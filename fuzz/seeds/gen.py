#!/usr/bin/env python3
"""Writes the seed inputs of the ftp fuzz target (see fuzz_targets/ftp.rs for
the layout) into seeds/ftp/. Run from fuzz/: python3 seeds/gen.py"""
import ipaddress, os, struct

def addr(a):
    b = ipaddress.ip_address(a).packed
    return b + bytes(16 - len(b))

def seed(flags, addrs, payload, ports=(40000, 21, 21, 61000), seq=1000):
    h = bytes([flags]) + struct.pack("<H", 0x0) + struct.pack("<I", seq) + struct.pack("<I", 12345)
    h += bytes(20) + b"".join(addr(a) for a in addrs) + b"".join(struct.pack(">H", p) for p in ports)
    assert len(h) == 103
    return h + payload

V4 = ["192.168.1.10", "10.0.0.2", "10.0.0.2", "192.168.1.10"]
V4NAT = ["192.168.1.10", "203.0.113.5", "203.0.113.5", "198.51.100.1"]
V6 = ["2001:db8:1::10", "2001:db8:2::2", "2001:db8:2::2", "2001:db8:1::10"]
V6NAT = ["fd00::10", "2001:db8:2::2", "2001:db8:2::2", "2001:db8:ffff::1"]
ZERO, REPLY, IPV6, NAT, CLASH = 0x20, 0x01, 0x02, 0x04, 0x40

seeds = {
    "port": seed(ZERO, V4, b"PORT 192,168,1,10,4,1\r\n"),
    "port_nat": seed(ZERO | NAT, V4NAT, b"PORT 192,168,1,10,4,1\r\n"),
    "port_nat_clash": seed(ZERO | NAT | CLASH, V4NAT, b"port 192,168,1,10,4,1\r\n"),
    "eprt4": seed(ZERO, V4, b"EPRT |1|192.168.1.10|1025|\r\n"),
    "eprt4_nat": seed(ZERO | NAT, V4NAT, b"EPRT !1!192.168.1.10!1025!\r\n"),
    "eprt6": seed(ZERO | IPV6, V6, b"EPRT |2|2001:db8:1::10|5282|\r\n"),
    "eprt6_nat": seed(ZERO | IPV6 | NAT, V6NAT, b"EPRT |2|fd00::10|5282|\r\n"),
    "pasv": seed(ZERO | REPLY, V4, b"227 Entering Passive Mode (10,0,0,2,192,16).\r\n"),
    "pasv_nat": seed(ZERO | REPLY | NAT, V4NAT, b"227 Entering Passive Mode 203,0,113,5,192,16\r\n"),
    "epsv": seed(ZERO | REPLY, V4, b"229 Entering Extended Passive Mode (|||6446|)\r\n"),
    "epsv6_nat": seed(ZERO | REPLY | IPV6 | NAT, V6NAT, b"229 Entering Extended Passive Mode (|||6446|)\r\n"),
    "partial": seed(ZERO, V4, b"PORT 192,168,1,"),
    "tracked": seed(0x00, V4, b"USER anonymous\r\nPORT 1,2,3,4,5,6\r\n"),
}
os.makedirs("seeds/ftp", exist_ok=True)
for name, data in seeds.items():
    with open(os.path.join("seeds/ftp", name), "wb") as f:
        f.write(data)
