#!/usr/bin/python3
"""SNMP evidence for tests/vm/scenarios/snmp.sh (standard library only).

  snmpcap.py dump SIDE PCAP...
      One line per SNMP datagram (udp/161, udp/162) of the pcaps (tcpdump -w, Ethernet), in
      capture order: SIDE, source > destination (ports only where they are 161/162: the others
      are random), the UDP checksum verdict, then the message field by field: version,
      community, PDU type, request-id as R (random per run), error status/index, the v1 trap's
      enterprise/agent-addr/generic/specific/time-stamp, every varbind as OID=Type:value.  SNMPv3
      as its length only (encrypted, random per run).  Two messages with the same line are the
      same bytes but for the request-id (net-snmp writes minimal lengths).
      Checksum: "csum=ok" for a valid UDP checksum and for 0 (none: the kernel's incremental
      update, fast_csum(), can leave 0x0000 where a recomputation writes 0xFFFF; net-snmp always
      sends one), "csum=BAD" otherwise.
  snmpcap.py same SENT_PCAP RECV_PCAP FROM TO
      The SNMP payloads of RECV (in order) are those of SENT but for IpAddress values FROM that
      became TO: every differing byte lies in a 40 04 FROM -> 40 04 TO.  Prints one line per
      message ("same" or "N address(es) FROM -> TO") and exits 1 at the first other difference
      or a count mismatch.
  snmpcap.py ask BCAST PORT SECS
      Sends a v2c GetRequest for sysName.0 (request-id 7) to BCAST:161 from PORT (SO_BROADCAST)
      and prints "answer SRC sysName" for every answer within SECS seconds.
"""
import socket
import struct
import sys
import time


def packets(path):
    with open(path, "rb") as f:
        hdr = f.read(24)
        if len(hdr) < 24:
            return
        magic = struct.unpack("<I", hdr[:4])[0]
        end = "<" if magic in (0xA1B2C3D4, 0xA1B23C4D) else ">"
        while True:
            ph = f.read(16)
            if len(ph) < 16:
                return
            _, _, incl, _ = struct.unpack(end + "IIII", ph)
            yield f.read(incl)


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return s


def udp_datagrams(path):
    """(src, sport, dst, dport, checksum verdict, payload) of every IPv4 UDP datagram."""
    for fr in packets(path):
        off = 14
        eth = struct.unpack("!H", fr[12:14])[0]
        if eth == 0x8100:
            eth, off = struct.unpack("!H", fr[16:18])[0], 18
        if eth != 0x0800 or fr[off + 9] != 17:
            continue
        ihl = (fr[off] & 0x0F) * 4
        total = struct.unpack("!H", fr[off + 2:off + 4])[0]
        ip = fr[off:off + total]
        udp = ip[ihl:]
        sport, dport, ulen, check = struct.unpack("!HHHH", udp[:8])
        src, dst = socket.inet_ntoa(ip[12:16]), socket.inet_ntoa(ip[16:20])
        if check == 0:
            verdict = "ok"
        else:
            pseudo = ip[12:20] + struct.pack("!BBH", 0, 17, len(udp))
            verdict = "ok" if csum(pseudo + udp) == 0xFFFF else "BAD"
        yield src, sport, dst, dport, verdict, udp[8:]


def snmp_datagrams(path):
    for d in udp_datagrams(path):
        if {d[1], d[3]} & {161, 162}:
            yield d


# ----------------------------------------------------------------------------------------- BER
def tlv(b, i):
    """(tag, content start, end) of the element at b[i]."""
    tag = b[i]
    n = b[i + 1]
    j = i + 2
    if n & 0x80:
        k = n & 0x7F
        n = int.from_bytes(b[j:j + k], "big")
        j += k
    if j + n > len(b):
        raise ValueError("element at %d runs past the end" % i)
    return tag, j, j + n


def children(b, start, end):
    i = start
    while i < end:
        t, s, e = tlv(b, i)
        yield t, s, e
        i = e


def oid(c):
    arcs, v = [], 0
    for x in c:
        v = (v << 7) | (x & 0x7F)
        if not x & 0x80:
            if not arcs:
                arcs += [min(v // 40, 2), v - 40 * min(v // 40, 2)]
            else:
                arcs.append(v)
            v = 0
    return ".".join(map(str, arcs))


def value(tag, c):
    if tag == 0x02:
        return "INTEGER:%d" % int.from_bytes(c, "big", signed=True)
    if tag == 0x04:
        ok = all(32 <= x < 127 for x in c)
        return "STRING:%s" % (c.decode() if ok else c.hex())
    if tag == 0x05:
        return "NULL"
    if tag == 0x06:
        return "OID:" + oid(c)
    if tag == 0x40:
        return "IpAddress:" + (socket.inet_ntoa(c) if len(c) == 4 else c.hex())
    names = {0x41: "Counter32", 0x42: "Gauge32", 0x43: "Timeticks", 0x46: "Counter64"}
    if tag in names:
        return "%s:%d" % (names[tag], int.from_bytes(c, "big"))
    return "[%02x]:%s" % (tag, c.hex())


PDUS = {0xA0: "get", 0xA1: "getnext", 0xA2: "response", 0xA3: "set", 0xA4: "trap-v1",
        0xA5: "getbulk", 0xA6: "inform", 0xA7: "trap-v2", 0xA8: "report"}


def describe(b):
    try:
        t, s, e = tlv(b, 0)
        parts = list(children(b, s, e))
        vt, vs, ve = parts[0]
        version = int.from_bytes(b[vs:ve], "big")
        if version == 3:
            return "v3 %d octets" % len(b)
        out = ["v1" if version == 0 else "v2c", "community=" + b[parts[1][1]:parts[1][2]].decode("latin1")]
        pt, ps, pe = parts[2]
        out.append(PDUS.get(pt, "pdu[%02x]" % pt))
        f = list(children(b, ps, pe))
        if pt == 0xA4:
            ent, agent, gen, spec, ts, vbl = f
            out += ["enterprise=" + oid(b[ent[1]:ent[2]]),
                    "agent-addr=" + value(agent[0], b[agent[1]:agent[2]]),
                    "generic=%d" % int.from_bytes(b[gen[1]:gen[2]], "big"),
                    "specific=%d" % int.from_bytes(b[spec[1]:spec[2]], "big"),
                    "time=" + value(ts[0], b[ts[1]:ts[2]])]
        else:
            rid, es, ei, vbl = f
            out += ["id=R", "error=%d/%d" % (int.from_bytes(b[es[1]:es[2]], "big"),
                                              int.from_bytes(b[ei[1]:ei[2]], "big"))]
        for _, vs, ve in children(b, vbl[1], vbl[2]):
            (nt, ns, ne), (xt, xs, xe) = children(b, vs, ve)
            out.append("%s=%s" % (oid(b[ns:ne]), value(xt, b[xs:xe])))
        return " ".join(out)
    except (ValueError, IndexError) as e:
        return "undecodable (%s) %s" % (e, b.hex())


def hostport(a, p):
    return "%s.%d" % (a, p) if p in (161, 162) else a


def dump(side, paths):
    for path in paths:
        for src, sp, dst, dp, verdict, pl in snmp_datagrams(path):
            print("%s %s > %s csum=%s %s" % (side, hostport(src, sp), hostport(dst, dp), verdict,
                                              describe(pl)))


def same(sent, recv, frm, to):
    a = [d[5] for d in snmp_datagrams(sent)]
    b = [d[5] for d in snmp_datagrams(recv)]
    old = bytes([0x40, 4]) + socket.inet_aton(frm)
    new = bytes([0x40, 4]) + socket.inet_aton(to)
    if len(a) != len(b):
        print("%d SNMP datagram(s) sent, %d received" % (len(a), len(b)))
        return 1
    for n, (x, y) in enumerate(zip(a, b)):
        if len(x) != len(y):
            print("message %d: %d octets sent, %d received" % (n, len(x), len(y)))
            return 1
        i, k = 0, 0
        while i < len(x):
            if x[i] == y[i]:
                i += 1
                continue
            s = next((s for s in range(max(0, i - 5), i - 1) if x[s:s + 6] == old and y[s:s + 6] == new), None)
            if s is None:
                print("message %d: octet %d changed outside an IpAddress %s -> %s" % (n, i, frm, to))
                return 1
            k, i = k + 1, s + 6
        print("message %d: %s" % (n, "same" if k == 0 else "%d address(es) %s -> %s" % (k, frm, to)))
    return 0


def ask(bcast, port, secs):
    def t(tag, c):
        return bytes([tag, len(c)]) + c
    name = t(0x06, bytes([0x2B, 6, 1, 2, 1, 1, 5, 0]))
    pdu = t(0xA0, t(2, b"\x07") + t(2, b"\0") + t(2, b"\0") + t(0x30, t(0x30, name + b"\x05\x00")))
    msg = t(0x30, t(2, b"\x01") + t(4, b"public") + pdu)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
    s.bind(("0.0.0.0", port))
    s.sendto(msg, (bcast, 161))
    print("sent to %s:161 from port %d" % (bcast, port), flush=True)
    end = time.time() + secs
    while True:
        left = end - time.time()
        if left <= 0:
            return 0
        s.settimeout(left)
        try:
            d, (src, sp) = s.recvfrom(4096)
        except socket.timeout:
            return 0
        print("answer %s:%d %s" % (src, sp, describe(d)), flush=True)


def main():
    cmd = sys.argv[1]
    if cmd == "dump":
        dump(sys.argv[2], sys.argv[3:])
        return 0
    if cmd == "same":
        return same(*sys.argv[2:6])
    if cmd == "ask":
        return ask(sys.argv[2], int(sys.argv[3]), float(sys.argv[4]))
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main())
