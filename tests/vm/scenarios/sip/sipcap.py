#!/usr/bin/env python3
"""SIP evidence and media for the VM SIP scenarios (tests/vm/scenarios/sip.sh).

Reads pcap files written by `tcpdump -U -w` (Ethernet or Linux cooked), while
they are still being written, with no third-party module.

  sipcap.py wire PCAP LABEL ADDR
      The SIP messages ADDR received (UDP datagrams; TCP streams reassembled
      by sequence number and cut at Content-Length), one block each:
      "LABEL < UDP|TCP :DPORT" then the message with CRLF shown as "\\r";
      a UDP retransmission (the same bytes again) is left out.
  sipcap.py wait PCAP ADDR WHAT [TIMEOUT]
      Waits until ADDR has received a message whose start line begins with
      WHAT ("ACK", "SIP/2.0 200"); exit 1 on timeout (default 20 s).
  sipcap.py sdp PCAP ADDR
      The media of the first INVITE ADDR received: one line per m= line,
      "TYPE ADDRESS PORT" (media c= or else session c=).
  sipcap.py contact PCAP ADDR [PCAP2 ADDR2 WHAT TIMEOUT]
      "HOST PORT" of the first Contact of the first REGISTER ADDR received;
      with PCAP2...: first waits as `wait PCAP2 ADDR2 WHAT TIMEOUT` (exit 1
      on timeout).
  sipcap.py media PCAP ADDR WHAT SRC [COUNT] [TIMEOUT]
      Waits as `wait` for WHAT, then sends COUNT (default 10) RTP packets
      from SRC (this namespace's address) to every audio/video/image m= line
      of the first INVITE ADDR received, at its SDP address and port.  One
      line per stream: "sent N TYPE ADDRESS PORT".
  sipcap.py count PCAP
      UDP packets that are not SIP (port 5060 at either end): one line per
      destination, "DST DPORT COUNT", sorted by port.
  sipcap.py evidence SERVER_PCAP SERVER_ADDR CLIENT_PCAP CLIENT_ADDR EVENTS OUT_PREFIX SUFFIX
      All of the evidence of one call in one run (python starts slowly under
      TCG): OUT_PREFIX/wire SUFFIX.norm (`wire` of both ends), media SUFFIX.txt
      (`count` of the client capture), expect SUFFIX.norm (`expect`).
  sipcap.py expect EVENTS
      `conntrack -E expect` output normalised for comparison: "NEW ..." /
      "DESTROY ..." without the timeout; every run of consecutive DESTROY
      lines sorted (the kernel ALG flushes in its list order, cthelperd in
      ctnetlink's dump order); and a DESTROY of an INACTIVE expectation
      directly followed by the NEW of the same expectation without INACTIVE —
      cthelperd activating a REGISTER's expectation, which ctnetlink can only
      do by re-creating it (the kernel clears the flag in place, no event) —
      left out.
"""
import re
import socket
import struct
import sys
import time

SIP_PORT = 5060


def read_pcap(path):
    """Packets as dicts; a record cut short at the end of the file is left out."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        return []
    if len(data) < 24:
        return []
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        e = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        e = ">"
    else:
        raise SystemExit(f"{path}: not a pcap file")
    linktype = struct.unpack(e + "I", data[20:24])[0]
    out, off = [], 24
    while off + 16 <= len(data):
        _, _, caplen, _ = struct.unpack(e + "IIII", data[off:off + 16])
        off += 16
        if off + caplen > len(data):
            break
        frame = data[off:off + caplen]
        off += caplen
        p = parse_frame(frame, linktype)
        if p:
            out.append(p)
    return out


def parse_frame(frame, linktype):
    if linktype == 1:  # Ethernet
        if len(frame) < 14:
            return None
        etype, l3 = struct.unpack("!H", frame[12:14])[0], frame[14:]
        if etype == 0x8100 and len(frame) >= 18:
            etype, l3 = struct.unpack("!H", frame[16:18])[0], frame[18:]
    elif linktype == 113:  # Linux cooked
        if len(frame) < 16:
            return None
        etype, l3 = struct.unpack("!H", frame[14:16])[0], frame[16:]
    else:
        return None
    if etype == 0x0800 and len(l3) >= 20:
        ihl = (l3[0] & 0xF) * 4
        total = struct.unpack("!H", l3[2:4])[0]
        proto = l3[9]
        src, dst = socket.inet_ntop(socket.AF_INET, l3[12:16]), socket.inet_ntop(socket.AF_INET, l3[16:20])
        l4 = l3[ihl:total]
    elif etype == 0x86DD and len(l3) >= 40:
        plen = struct.unpack("!H", l3[4:6])[0]
        proto = l3[6]
        src, dst = socket.inet_ntop(socket.AF_INET6, l3[8:24]), socket.inet_ntop(socket.AF_INET6, l3[24:40])
        l4 = l3[40:40 + plen]
    else:
        return None
    if proto == 17 and len(l4) >= 8:
        sport, dport = struct.unpack("!HH", l4[:4])
        return dict(proto="UDP", src=src, dst=dst, sport=sport, dport=dport, payload=l4[8:])
    if proto == 6 and len(l4) >= 20:
        sport, dport, seq = struct.unpack("!HHI", l4[:8])
        doff = (l4[12] >> 4) * 4
        flags = l4[13]
        return dict(proto="TCP", src=src, dst=dst, sport=sport, dport=dport, seq=seq,
                    syn=bool(flags & 2), payload=l4[doff:])
    return None


def same_addr(a, b):
    fam = socket.AF_INET6 if ":" in a else socket.AF_INET
    if (":" in b) != (fam == socket.AF_INET6):
        return False
    return socket.inet_pton(fam, a) == socket.inet_pton(fam, b)


def split_stream(buf):
    """SIP messages of a TCP byte stream, cut at Content-Length; the rest if incomplete."""
    msgs = []
    while buf:
        stripped = buf.lstrip(b"\r\n")
        if not stripped:
            break
        buf = stripped
        end = buf.find(b"\r\n\r\n")
        if end < 0:
            msgs.append(buf)
            break
        head = buf[:end + 4]
        m = re.search(rb"(?im)^(?:content-length|l)[ \t]*:[ \t]*([0-9]+)", head)
        clen = int(m.group(1)) if m else 0
        msgs.append(buf[:end + 4 + clen])
        buf = buf[end + 4 + clen:]
    return msgs


def received(pkts, addr):
    """(proto, sport, dport, message bytes) of every SIP message addr received, in order."""
    out = []
    streams = {}  # (src, sport, dst, dport) -> {seq: payload}, order of first appearance
    order = []
    for p in pkts:
        if not same_addr(p["dst"], addr):
            continue
        if SIP_PORT not in (p["sport"], p["dport"]):
            continue
        if p["proto"] == "UDP":
            if p["payload"]:
                out.append(("UDP", p["sport"], p["dport"], p["payload"]))
            continue
        key = (p["src"], p["sport"], p["dst"], p["dport"])
        s = streams.setdefault(key, {"segs": {}, "isn": None})
        if key not in order:
            order.append(key)
            out.append(("TCP", p["sport"], p["dport"], key))  # placeholder: stream position
        if p["syn"]:
            s["isn"] = p["seq"]
        elif p["payload"]:
            s["segs"].setdefault(p["seq"], p["payload"])
    result = []
    for proto, sport, dport, x in out:
        if proto == "UDP":
            result.append((proto, sport, dport, x))
            continue
        s = streams[x]
        if not s["segs"]:
            continue
        base = s["isn"] + 1 if s["isn"] is not None else min(s["segs"])
        buf, pos = b"", base
        for seq in sorted(s["segs"], key=lambda q: (q - base) & 0xFFFFFFFF):
            data = s["segs"][seq]
            rel = (seq - pos) & 0xFFFFFFFF
            if rel > 0x7FFFFFFF:  # overlaps what we have
                skip = (pos - seq) & 0xFFFFFFFF
                data = data[skip:]
            elif rel > 0:
                break  # a hole: stop at what is contiguous
            buf += data
            pos = (pos + len(data)) & 0xFFFFFFFF
        for m in split_stream(buf):
            result.append((proto, sport, dport, m))
    return result


def start_line(m):
    return m.split(b"\r\n", 1)[0].decode("latin-1")


def first(pkts, addr, method):
    for proto, sport, dport, m in received(pkts, addr):
        if start_line(m).startswith(method + " "):
            return m
    return None


def parse_sdp(m):
    body = m.split(b"\r\n\r\n", 1)[1] if b"\r\n\r\n" in m else b""
    session_c, media = None, []
    for line in body.decode("latin-1").split("\r\n"):
        if line.startswith("c="):
            f = line[2:].split()
            addr = f[2].split("/")[0] if len(f) >= 3 else None
            if media:
                media[-1][1] = addr
            else:
                session_c = addr
        elif line.startswith("m="):
            f = line[2:].split()
            media.append([f[0], None, int(f[1])])
    return [(t, a or session_c, p) for t, a, p in media]


def wait_for(path, addr, what, timeout):
    deadline = time.monotonic() + timeout
    while True:
        pkts = read_pcap(path)
        for _, _, _, m in received(pkts, addr):
            if start_line(m).startswith(what):
                return pkts
        if time.monotonic() > deadline:
            return None
        time.sleep(0.02)


def wire_lines(path, label, addr):
    """Retransmissions (byte-identical UDP messages) are shown once."""
    out, seen = [], set()
    for proto, sport, dport, m in received(read_pcap(path), addr):
        if proto == "UDP":
            if (dport, m) in seen:
                continue
            seen.add((dport, m))
        out.append(f"{label} < {proto} :{dport}")
        text = m.decode("latin-1")
        for line in text.split("\n"):
            out.append("  " + line.replace("\r", "\\r"))
    return out


def count_lines(path):
    counts = {}
    for p in read_pcap(path):
        if p["proto"] == "UDP" and SIP_PORT not in (p["sport"], p["dport"]):
            k = (p["dst"], p["dport"])
            counts[k] = counts.get(k, 0) + 1
    return [f"{dst} {dport} {n}" for (dst, dport), n in sorted(counts.items(), key=lambda kv: kv[0][1])]


def write_lines(path, lines):
    with open(path, "w") as f:
        f.writelines(line + "\n" for line in lines)


def cmd_media(path, addr, what, src, count, timeout):
    pkts = wait_for(path, addr, what, timeout)
    if pkts is None:
        print(f"no {what} received by {addr} within {timeout} s", file=sys.stderr)
        return 1
    inv = first(pkts, addr, "INVITE")
    if inv is None:
        print(f"no INVITE received by {addr}", file=sys.stderr)
        return 1
    streams = [s for s in parse_sdp(inv) if s[0] in ("audio", "video", "image") and s[2] != 0]
    fam = socket.AF_INET6 if ":" in src else socket.AF_INET
    socks = []
    for i, (kind, maddr, port) in enumerate(streams):
        s = socket.socket(fam, socket.SOCK_DGRAM)
        s.bind((src, 7000 + 2 * i))
        socks.append(s)
    sent = [0] * len(streams)
    for n in range(count):
        for i, (kind, maddr, port) in enumerate(streams):
            hdr = struct.pack("!BBHII", 0x80, 0, n, n * 160, 0x1000 + i)
            try:
                socks[i].sendto(hdr + bytes([0xFF]) * 160, (maddr, port))
                sent[i] += 1
            except OSError as e:  # e.g. ICMP unreachable reported on the socket
                print(f"send {kind} {maddr} {port}: {e}", file=sys.stderr)
        time.sleep(0.01)
    for i, (kind, maddr, port) in enumerate(streams):
        print(f"sent {sent[i]} {kind} {maddr} {port}")
    return 0


def without_inactive(rest):
    """The event text with INACTIVE taken out of the flags (e.g. PERMANENT,INACTIVE)."""
    out = []
    for tok in rest.split(" "):
        if re.fullmatch(r"[A-Z_]+(,[A-Z_]+)*", tok) and "INACTIVE" in tok.split(","):
            tok = ",".join(f for f in tok.split(",") if f != "INACTIVE")
            if not tok:
                continue
        out.append(tok)
    return " ".join(out)


def norm_expect(lines):
    ev = []
    for line in lines:
        m = re.match(r"^\s*\[([A-Z]+)\]\s+(?:[0-9]+\s+)?(.*?)\s*$", line)
        if m:
            ev.append((m.group(1), m.group(2)))
    out, i = [], 0
    while i < len(ev):
        kind, rest = ev[i]
        if (kind == "DESTROY" and i + 1 < len(ev) and ev[i + 1][0] == "NEW"
                and without_inactive(rest) != rest and without_inactive(rest) == ev[i + 1][1]):
            i += 2
            continue
        out.append((kind, rest))
        i += 1
    res, run = [], []
    for kind, rest in out + [("END", "")]:
        if kind == "DESTROY":
            run.append(rest)
            continue
        res.extend("DESTROY " + r for r in sorted(run))
        run = []
        if kind != "END":
            res.append(f"{kind} {rest}")
    return res


def main(argv):
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    cmd, a = argv[1], argv[2:]
    if cmd == "wire":
        print("\n".join(wire_lines(a[0], a[1], a[2])))
    elif cmd == "evidence":
        spcap, saddr, cpcap, caddr, events, prefix, suffix = a[:7]
        write_lines(f"{prefix}/wire{suffix}.norm", wire_lines(spcap, "server", saddr) + wire_lines(cpcap, "client", caddr))
        write_lines(f"{prefix}/media{suffix}.txt", count_lines(cpcap))
        with open(events) as f:
            write_lines(f"{prefix}/expect{suffix}.norm", norm_expect(f))
    elif cmd == "wait":
        return 0 if wait_for(a[0], a[1], a[2], float(a[3]) if len(a) > 3 else 20) else 1
    elif cmd == "sdp":
        inv = first(read_pcap(a[0]), a[1], "INVITE")
        if inv is None:
            return 1
        for t, addr, port in parse_sdp(inv):
            print(t, addr, port)
    elif cmd == "contact":
        if len(a) >= 6 and not wait_for(a[2], a[3], a[4], float(a[5])):
            print(f"no {a[4]} received by {a[3]} within {a[5]} s", file=sys.stderr)
            return 1
        reg = first(read_pcap(a[0]), a[1], "REGISTER")
        if reg is None:
            return 1
        m = re.search(rb"(?im)^(?:contact|m)[ \t]*:[^\r\n]*?sip:(?:[^@>;\r\n]*@)?(\[[0-9a-f:.]+\]|[0-9.]+)(?::([0-9]+))?", reg)
        if not m:
            return 1
        print(m.group(1).decode().strip("[]"), int(m.group(2) or 5060))
    elif cmd == "media":
        return cmd_media(a[0], a[1], a[2], a[3], int(a[4]) if len(a) > 4 else 10,
                         float(a[5]) if len(a) > 5 else 20)
    elif cmd == "count":
        for line in count_lines(a[0]):
            print(line)
    elif cmd == "expect":
        with open(a[0]) as f:
            for line in norm_expect(f):
                print(line)
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
