#!/usr/bin/env python3
"""Writes the seed inputs of the sip fuzz target (see fuzz_targets/sip.rs
for the layout) into seeds/sip/. Run from fuzz/: python3 seeds/sip/_gen.py"""
import ipaddress, os, struct

def addr(a):
    b = ipaddress.ip_address(a).packed
    return b + bytes(16 - len(b))

def seed(flags, addrs, payload, ports=(5060, 5060, 5060, 5060), flags2=0, clash=0):
    h = bytes([flags, flags2]) + struct.pack("<H", clash) + struct.pack("<I", 12345)
    h += bytes(32) + b"".join(addr(a) for a in addrs) + b"".join(struct.pack(">H", p) for p in ports)
    assert len(h) == 112
    return h + payload

def msg(head, body=""):
    return f"{head}Content-Length: {len(body)}\r\n\r\n{body}".encode()

V4 = ["10.0.0.10", "203.0.113.5", "203.0.113.5", "10.0.0.10"]
V4NAT = ["10.0.0.10", "203.0.113.5", "203.0.113.5", "198.51.100.1"]
V6NAT = ["fd00::10", "2001:db8:2::2", "2001:db8:2::2", "2001:db8:ffff::1"]
REPLY, IPV6, NAT, TCP, ZERO, CLASH = 0x01, 0x02, 0x04, 0x08, 0x20, 0x40

def sdp(a, fam="IP4", media="m=audio 49170 RTP/AVP 0\r\na=rtcp:49171\r\n"):
    return f"v=0\r\no=a 1 1 IN {fam} {a}\r\ns=-\r\nc=IN {fam} {a}\r\nt=0 0\r\n{media}"

def invite(me, peer, body, t="UDP"):
    return msg(f"INVITE sip:b@{peer} SIP/2.0\r\nVia: SIP/2.0/{t} {me}:5060;branch=z9;rport\r\n"
               f"From: <sip:a@{me}>;tag=1\r\nTo: <sip:b@{peer}>\r\nCSeq: 1 INVITE\r\n"
               f"Contact: <sip:a@{me}:5060>\r\nContent-Type: application/sdp\r\n", body)

five = "".join(f"m={k} {10000 + 2 * i} RTP/AVP 0\r\n" for i, k in enumerate(["audio", "video", "image", "audio", "text"]))
reg = msg("REGISTER sip:203.0.113.5 SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.10:5060;branch=z9\r\nCSeq: 2 REGISTER\r\n"
          "Contact: <sip:a@10.0.0.10:5060;transport=udp>;expires=600\r\nExpires: 3600\r\n")
ok_reg = msg("SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 198.51.100.1:5060;received=198.51.100.1;rport=5060\r\n"
             "CSeq: 2 REGISTER\r\nm: <sip:a@198.51.100.1:5060>;expires=600\r\n")
mp = ("--b\r\nContent-Type: text/plain\r\n\r\nx\r\n--b\r\nContent-Type: application/sdp\r\n\r\n"
      + sdp("10.0.0.10") + "\r\n--b--\r\n")
seeds = {
    "invite": seed(ZERO, V4, invite("10.0.0.10", "203.0.113.5", sdp("10.0.0.10"))),
    "invite_nat": seed(ZERO | NAT, V4NAT, invite("10.0.0.10", "203.0.113.5", sdp("10.0.0.10"))),
    "invite_nat_clash": seed(ZERO | NAT, V4NAT, invite("10.0.0.10", "203.0.113.5", sdp("10.0.0.10")), clash=0x0002),
    "invite5": seed(ZERO | NAT, V4NAT, invite("10.0.0.10", "203.0.113.5", sdp("10.0.0.10", media=five))),
    "invite6_nat": seed(ZERO | NAT | IPV6, V6NAT, invite("[fd00::10]", "[2001:db8:2::2]", sdp("fd00::10", "IP6"))),
    "invite_tcp2": seed(ZERO | NAT | TCP, V4NAT, invite("10.0.0.10", "203.0.113.5", sdp("10.0.0.10"), "TCP") * 2),
    "invite_tcp_part": seed(ZERO | TCP, V4, invite("10.0.0.10", "203.0.113.5", sdp("10.0.0.10"), "TCP")[:150]),
    "ok_reply": seed(ZERO | REPLY | NAT, V4NAT, msg("SIP/2.0 200 OK\r\nv: SIP/2.0/UDP 198.51.100.1:5060\r\nCSeq: 1 INVITE\r\nc: application/sdp\r\n", sdp("203.0.113.5"))),
    "register_nat": seed(ZERO | NAT, V4NAT, reg),
    "register_ok": seed(REPLY | NAT, V4NAT, ok_reg),
    "bye": seed(ZERO, V4, msg("BYE sip:b@203.0.113.5 SIP/2.0\r\nCSeq: 3 BYE\r\n")),
    "multipart": seed(ZERO | NAT, V4NAT, msg("UPDATE sip:b@203.0.113.5 SIP/2.0\r\nCSeq: 4 UPDATE\r\nContent-Type: multipart/mixed;boundary=b\r\n", mp)),
    "hold": seed(ZERO | NAT, V4NAT, invite("10.0.0.10", "203.0.113.5", sdp("0.0.0.0", media="m=audio 4000 RTP/AVP 0\r\na=sendonly\r\n"))),
}
os.makedirs("seeds/sip", exist_ok=True)
for name, data in seeds.items():
    with open(os.path.join("seeds/sip", name), "wb") as f:
        f.write(data)
