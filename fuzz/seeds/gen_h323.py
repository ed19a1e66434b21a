#!/usr/bin/env python3
"""Writes the seeds of the h323_decode and h323 fuzz targets into
seeds/h323_decode/ and seeds/h323/ from the decoder's pycrate test vectors
(helpers/src/h323/testdata/vectors.txt). h323_decode: each message with its
entry-point selector byte, and the Q.931 and H.245 ones also as TPKT
segments. h323: each message (Q.931 and H.245 in a TPKT) behind the
target's 112-byte header (fuzz_targets/h323.rs), without and with NAT, with
its addresses planted at the sender. Run from fuzz/: python3 seeds/gen_h323.py"""
import ipaddress
import os

SEL = {"ras": 0, "q931": 1, "h245": 2}
os.makedirs("seeds/h323_decode", exist_ok=True)
for line in open("../helpers/src/h323/testdata/vectors.txt"):
    f = line.split()
    if len(f) < 3:
        continue
    dec, name, msg = f[0], f[1], bytes.fromhex(f[2])
    with open("seeds/h323_decode/%s-%s" % (dec, name), "wb") as o:
        o.write(bytes([SEL[dec]]) + msg)
    if dec != "ras":
        tpkt = b"\x03\x00" + (len(msg) + 4).to_bytes(2, "big") + msg
        with open("seeds/h323_decode/%s-%s-tpkt" % (dec, name), "wb") as o:
            o.write(bytes([SEL[dec] + 2]) + tpkt + tpkt)


# --- the helper target (fuzz_targets/h323.rs) ---------------------------------
HELPER = {"ras": 0, "q931": 1, "h245": 2}
ADDRS4 = ["10.1.0.2", "192.0.2.7", "192.0.2.7", "203.0.113.1"]
ADDRS6 = ["2001:db8::2", "2001:db8::7", "2001:db8::7", "2001:db8:ffff::1"]
PORTS = [40000, 1720, 1720, 41000]


def header(flags, flags2, v6):
    h = bytes([flags, flags2]) + b"\0\0" + (12345).to_bytes(4, "little") + bytes(32)
    for a in ADDRS6 if v6 else ADDRS4:
        h += ipaddress.ip_address(a).packed.ljust(16, b"\0")
    for p in PORTS:
        h += p.to_bytes(2, "big")
    assert len(h) == 112
    return h


os.makedirs("seeds/h323", exist_ok=True)
for line in open("../helpers/src/h323/testdata/vectors.txt"):
    f = line.split()
    if len(f) < 3:
        continue
    dec, name, msg = f[0], f[1], bytes.fromhex(f[2])
    v6 = "6" in name
    if dec != "ras":
        msg = b"\x03\x00" + (len(msg) + 4).to_bytes(2, "big") + msg
    for tag, flags in (("plain", 0), ("nat", 0x04 | 0x20), ("nat-reply", 0x05 | 0x20)):
        flags |= HELPER[dec] << 3
        if v6:
            flags |= 0x02
        with open("seeds/h323/%s-%s-%s" % (dec, name, tag), "wb") as o:
            o.write(header(flags, 0x40, v6) + msg)
