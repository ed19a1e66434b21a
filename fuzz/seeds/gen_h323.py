#!/usr/bin/env python3
"""Writes the seeds of the h323_decode fuzz target into seeds/h323_decode/
from the decoder's pycrate test vectors (helpers/src/h323/testdata/
vectors.txt): each message with its entry-point selector byte, and the Q.931
and H.245 ones also as TPKT segments. Run from fuzz/: python3 seeds/gen_h323.py"""
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
