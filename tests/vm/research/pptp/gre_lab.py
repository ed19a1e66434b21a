#!/usr/bin/env python3
"""GRE/PPTP research tool for the VM (standard library only).

Speaks nfnetlink directly, so the experiments of tests/vm/research/pptp/gre.sh can
do by hand what a userspace PPTP helper would do:

  register NAME [--queue Q] [--max M] [--timeout T] [--priv LEN] [--status S]
      NFNL_MSG_CTHELPER_NEW: a userspace helper NAME on IPv4/TCP. Status 0
      (disabled, the default here) keeps the helper attached to its
      conntracks but makes the kernel accept their packets instead of
      queueing them: with nobody on the queue, an enabled helper's new
      connections are never confirmed (the queue bypass skips
      nf_conntrack_confirm), so nothing could be expected from them.
  expect --master SRC:SPORT-DST:DPORT --src A --dst B --dkey K [--skey K]
         [--flags F] [--class C] [--nat DIR,ADDR,KEY] [--no-excl]
      IPCTNL_MSG_EXP_NEW of a GRE expectation. Without --skey the source
      key is wildcarded (mask 0). --nat adds CTA_EXPECT_FN
      "nat-follow-master" and CTA_EXPECT_NAT {DIR (0 original, 1 reply),
      TUPLE src ADDR, src port KEY} = exp->dir, exp->saved_addr,
      exp->saved_proto. Prints "created" or the errno name.
  expect-timeout --master ... --src A --dst B --dkey K --timeout S
      IPCTNL_MSG_EXP_NEW without NLM_F_EXCL + CTA_EXPECT_TIMEOUT: refresh.
  setpriv --master SRC:SPORT-DST:DPORT --helper NAME --hex HEX
      IPCTNL_MSG_CT_NEW update with CTA_HELP {NAME, INFO}: the helper's
      private data of the master.
  gre-send --src A --dst B --key K [--count N] [--gap S] [--tag T]
      Enhanced GRE v1 (K and S bits, protocol 0x880B) over a raw socket.
  gre-recv --secs S [--out FILE]
      Prints every GRE packet this namespace receives: src dst key tag.
      With --ready FILE, creates FILE once the socket is open.
  tcp-server PORT SECS / tcp-client DST PORT SPORT SECS
      A TCP connection held open (the PPTP control connection stand-in).
  udp-echo PORT SECS / udp-ping DST PORT COUNT [--tag T] [--dev IF]
      Traffic through a tunnel (the host has no ping): the echo server sends
      every datagram back; udp-ping prints how many of COUNT came back.
"""
import argparse, errno, os, socket, struct, sys, time

NETLINK_NETFILTER = 12
NLM_F_REQUEST, NLM_F_ACK, NLM_F_EXCL, NLM_F_CREATE = 1, 4, 0x200, 0x400
NLMSG_ERROR = 2
NLA_F_NESTED = 0x8000
SUBSYS_CTNETLINK, SUBSYS_CTNETLINK_EXP, SUBSYS_CTHELPER = 1, 2, 9

# ctnetlink attribute numbers (nfnetlink_conntrack.h)
CTA_TUPLE_ORIG, CTA_HELP = 1, 5
CTA_TUPLE_IP, CTA_TUPLE_PROTO = 1, 2
CTA_IP_V4_SRC, CTA_IP_V4_DST = 1, 2
CTA_PROTO_NUM, CTA_PROTO_SRC_PORT, CTA_PROTO_DST_PORT = 1, 2, 3
CTA_HELP_NAME, CTA_HELP_INFO = 1, 2
(CTA_EXPECT_MASTER, CTA_EXPECT_TUPLE, CTA_EXPECT_MASK, CTA_EXPECT_TIMEOUT) = 1, 2, 3, 4
CTA_EXPECT_FLAGS, CTA_EXPECT_CLASS, CTA_EXPECT_NAT, CTA_EXPECT_FN = 8, 9, 10, 11
CTA_EXPECT_NAT_DIR, CTA_EXPECT_NAT_TUPLE = 1, 2


def nla(t, data):
    h = struct.pack("=HH", 4 + len(data), t)
    return h + data + b"\0" * ((4 - len(data) % 4) % 4)


def nest(t, *parts):
    return nla(t | NLA_F_NESTED, b"".join(parts))


def be16(t, v):
    return nla(t, struct.pack(">H", v))


def be32(t, v):
    return nla(t, struct.pack(">I", v))


def strz(t, s):
    return nla(t, s.encode() + b"\0")


def request(subsys, msg, payload, flags, family=socket.AF_INET):
    s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_NETFILTER)
    s.bind((0, 0))
    body = struct.pack("=BBH", family, 0, 0) + payload
    hdr = struct.pack("=IHHII", 16 + len(body), (subsys << 8) | msg,
                      NLM_F_REQUEST | NLM_F_ACK | flags, 1, 0)
    s.send(hdr + body)
    while True:
        data = s.recv(65536)
        off = 0
        while off + 16 <= len(data):
            ln, typ, _fl, _seq, _pid = struct.unpack_from("=IHHII", data, off)
            if typ == NLMSG_ERROR:
                (err,) = struct.unpack_from("=i", data, off + 16)
                return -err
            off += (ln + 3) & ~3
            if ln == 0:
                break


def errname(e):
    return "ok" if e == 0 else errno.errorcode.get(e, str(e))


def ip4(a):
    return socket.inet_aton(a)


def tuple_body(src, dst, proto, sport, dport):
    return nest(CTA_TUPLE_IP, nla(CTA_IP_V4_SRC, ip4(src)), nla(CTA_IP_V4_DST, ip4(dst))) + \
        nest(CTA_TUPLE_PROTO, nla(CTA_PROTO_NUM, bytes([proto])),
             be16(CTA_PROTO_SRC_PORT, sport), be16(CTA_PROTO_DST_PORT, dport))


def master_tuple(spec):
    """SRC:SPORT-DST:DPORT (TCP)"""
    a, b = spec.split("-")
    s, sp = a.rsplit(":", 1)
    d, dp = b.rsplit(":", 1)
    return tuple_body(s, d, 6, int(sp), int(dp))


def key(v):
    return int(v, 0)


def cmd_register(a):
    pol = nest(4, be32(1, 1), nest(2, strz(1, a.policy), be32(2, a.max), be32(3, a.timeout)))
    p = strz(1, a.name) + nest(2, be16(1, socket.AF_INET), nla(2, bytes([6]))) + \
        be32(3, a.queue) + pol + be32(5, a.priv) + be32(6, a.status)
    e = request(SUBSYS_CTHELPER, 0, p, NLM_F_CREATE, family=socket.AF_UNSPEC)
    print(f"register {a.name} (max_expected {a.max}, timeout {a.timeout}, priv {a.priv}, status {a.status}): {errname(e)}")
    return 0 if e == 0 else 1


def exp_tuple_and_mask(a):
    skey = 0 if a.skey is None else key(a.skey)
    t = nest(CTA_EXPECT_TUPLE, tuple_body(a.src, a.dst, 47, skey, key(a.dkey)))
    m = nest(CTA_EXPECT_MASK, tuple_body("255.255.255.255", "255.255.255.255", 47,
                                         0 if a.skey is None else 0xFFFF, 0xFFFF))
    return t, m


def cmd_expect(a):
    t, m = exp_tuple_and_mask(a)
    p = nest(CTA_EXPECT_MASTER, master_tuple(a.master)) + t + m + \
        be32(CTA_EXPECT_CLASS, a.cls) + be32(CTA_EXPECT_FLAGS, a.flags)
    if a.nat:
        d, addr, k = a.nat.split(",")
        p += strz(CTA_EXPECT_FN, "nat-follow-master")
        p += nest(CTA_EXPECT_NAT, be32(CTA_EXPECT_NAT_DIR, int(d)),
                  nest(CTA_EXPECT_NAT_TUPLE, tuple_body(addr, a.dst, 47, key(k), key(a.dkey))))
    flags = NLM_F_CREATE | (0 if a.no_excl else NLM_F_EXCL)
    e = request(SUBSYS_CTNETLINK_EXP, 0, p, flags)
    what = f"gre {a.src} -> {a.dst} srckey={a.skey or 'any'} dstkey={a.dkey}"
    print(f"expect {what} flags={a.flags} nat={a.nat or '-'}: {'created' if e == 0 else errname(e)}")
    return 0 if e == 0 else 1


def cmd_expect_timeout(a):
    t, m = exp_tuple_and_mask(a)
    p = nest(CTA_EXPECT_MASTER, master_tuple(a.master)) + t + m + be32(CTA_EXPECT_TIMEOUT, a.timeout)
    e = request(SUBSYS_CTNETLINK_EXP, 0, p, 0)
    print(f"expect-timeout dstkey={a.dkey} {a.timeout}s: {errname(e)}")
    return 0 if e == 0 else 1


def cmd_setpriv(a):
    info = bytes.fromhex(a.hex)
    p = nest(CTA_TUPLE_ORIG, master_tuple(a.master)) + \
        nest(CTA_HELP, strz(CTA_HELP_NAME, a.helper), nla(CTA_HELP_INFO, info))
    e = request(SUBSYS_CTNETLINK, 0, p, 0)
    print(f"setpriv {len(info)} bytes: {errname(e)}")
    return 0 if e == 0 else 1


def gre_packet(k, seq, payload):
    return struct.pack(">HHHHI", 0x3001, 0x880B, len(payload), k, seq) + payload


def cmd_gre_send(a):
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, 47)
    s.bind((a.src, 0))
    for i in range(a.count):
        tag = f"{a.tag}#{i}".encode()
        s.sendto(gre_packet(key(a.key), i, tag), (a.dst, 0))
        time.sleep(a.gap)
    print(f"gre-send {a.src} -> {a.dst} key={key(a.key):#06x} x{a.count} tag={a.tag}")
    return 0


def cmd_gre_recv(a):
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, 47)
    s.settimeout(0.2)
    if a.ready:
        open(a.ready, "w").close()
    end = time.time() + a.secs
    out = open(a.out, "a") if a.out else sys.stdout
    while time.time() < end:
        try:
            data = s.recv(65535)
        except socket.timeout:
            continue
        ihl = (data[0] & 0xF) * 4
        src, dst = socket.inet_ntoa(data[12:16]), socket.inet_ntoa(data[16:20])
        g = data[ihl:]
        if len(g) < 8:
            continue
        flags, proto, plen, k = struct.unpack(">HHHH", g[:8])
        hl = 8 + (4 if flags & 0x1000 else 0) + (4 if flags & 0x0080 else 0)
        tag = g[hl:hl + plen].decode(errors="replace")
        print(f"{src} > {dst} ver={flags & 7} proto={proto:#06x} key={k:#06x} tag={tag}",
              file=out, flush=True)
    return 0


def cmd_tcp_server(a):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", a.port))
    s.listen(8)
    print("tcp-server: listening", flush=True)
    s.settimeout(a.secs)
    conns = []
    end = time.time() + a.secs
    try:
        while time.time() < end:
            c, peer = s.accept()
            conns.append(c)
            print(f"tcp-server: connection from {peer[0]}:{peer[1]}", flush=True)
    except socket.timeout:
        pass
    return 0


def cmd_tcp_client(a):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", a.sport))
    s.connect((a.dst, a.port))
    s.send(b"x")  # one byte so that the conntrack is ESTABLISHED both ways
    print(f"tcp-client: connected {s.getsockname()} -> {a.dst}:{a.port}", flush=True)
    time.sleep(a.secs)
    return 0


def cmd_udp_echo(a):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("0.0.0.0", a.port))
    s.settimeout(0.5)
    print("udp-echo: listening", flush=True)
    end = time.time() + a.secs
    while time.time() < end:
        try:
            data, peer = s.recvfrom(2048)
        except socket.timeout:
            continue
        s.sendto(data, peer)
        print(f"udp-echo: {len(data)} bytes from {peer[0]}:{peer[1]}", flush=True)
    return 0


def cmd_udp_ping(a):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    if a.dev:
        s.setsockopt(socket.SOL_SOCKET, 25, a.dev.encode())  # SO_BINDTODEVICE
    s.settimeout(1.0)
    got = 0
    for i in range(a.count):
        msg = f"{a.tag}#{i}".encode()
        s.sendto(msg, (a.dst, a.port))
        try:
            data, _ = s.recvfrom(2048)
            got += data == msg
        except socket.timeout:
            pass
    via = f" via {a.dev}" if a.dev else ""
    print(f"udp-ping {a.tag} -> {a.dst}:{a.port}{via}: {got}/{a.count} answered", flush=True)
    return 0 if got == a.count else 1


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("register")
    r.add_argument("name")
    r.add_argument("--policy", default="pptp")
    r.add_argument("--queue", type=int, default=7)
    r.add_argument("--max", type=int, default=8)
    r.add_argument("--timeout", type=int, default=300)
    r.add_argument("--priv", type=int, default=32)
    r.add_argument("--status", type=int, default=0)
    r.set_defaults(f=cmd_register)
    for name, f in (("expect", cmd_expect), ("expect-timeout", cmd_expect_timeout)):
        e = sub.add_parser(name)
        e.add_argument("--master", required=True)
        e.add_argument("--src", required=True)
        e.add_argument("--dst", required=True)
        e.add_argument("--skey")
        e.add_argument("--dkey", required=True)
        e.add_argument("--flags", type=int, default=0)
        e.add_argument("--class", dest="cls", type=int, default=0)
        e.add_argument("--nat")
        e.add_argument("--no-excl", action="store_true")
        e.add_argument("--timeout", type=int, default=0)
        e.set_defaults(f=f)
    p = sub.add_parser("setpriv")
    p.add_argument("--master", required=True)
    p.add_argument("--helper", required=True)
    p.add_argument("--hex", required=True)
    p.set_defaults(f=cmd_setpriv)
    g = sub.add_parser("gre-send")
    g.add_argument("--src", required=True)
    g.add_argument("--dst", required=True)
    g.add_argument("--key", required=True)
    g.add_argument("--count", type=int, default=3)
    g.add_argument("--gap", type=float, default=0.05)
    g.add_argument("--tag", default="gre")
    g.set_defaults(f=cmd_gre_send)
    g = sub.add_parser("gre-recv")
    g.add_argument("--secs", type=float, default=5)
    g.add_argument("--out")
    g.add_argument("--ready")
    g.set_defaults(f=cmd_gre_recv)
    t = sub.add_parser("tcp-server")
    t.add_argument("port", type=int)
    t.add_argument("secs", type=float)
    t.set_defaults(f=cmd_tcp_server)
    t = sub.add_parser("tcp-client")
    t.add_argument("dst")
    t.add_argument("port", type=int)
    t.add_argument("sport", type=int)
    t.add_argument("secs", type=float)
    t.set_defaults(f=cmd_tcp_client)
    u = sub.add_parser("udp-echo")
    u.add_argument("port", type=int)
    u.add_argument("secs", type=float)
    u.set_defaults(f=cmd_udp_echo)
    u = sub.add_parser("udp-ping")
    u.add_argument("dst")
    u.add_argument("port", type=int)
    u.add_argument("count", type=int)
    u.add_argument("--tag", default="ping")
    u.add_argument("--dev")
    u.set_defaults(f=cmd_udp_ping)
    a = ap.parse_args()
    sys.exit(a.f(a))


if __name__ == "__main__":
    main()
