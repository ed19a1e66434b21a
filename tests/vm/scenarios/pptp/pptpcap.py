#!/usr/bin/env python3
"""PPTP evidence for tests/vm/scenarios/pptp.sh: reads the captures (pcap, Ethernet, as tcpdump -w
writes them), `conntrack -E expect` and `conntrack -L -p gre` snapshots, and writes normalized files
that compare between the kernel's ALG and cthelperd runs, plus facts for the scenario's verdicts.

  pptpcap.py OUTDIR SIDE=PCAP... [--expect FILE] [--gre FILE FIRST:LAST]...

SIDE is a name (server, client, client2); the server capture comes first.  Every call ID seen on
the wire gets a token (`id1`, `id2`, ... in order of first appearance: the sides in the order given,
frames in capture order), so runs with other random call IDs and TCP ports compare; 0 stays `0`.
Written:
  wire.norm    the control messages of each side: direction, type and call IDs as tokens, the
               OCRP/CDN result code; the PNS's call ID gets `=sport` when it equals the TCP source
               port of its control connection at that side (nf_nat_pptp's choice of the outside ID);
               Echo-Request/Reply are left out (their timing is the peers'); then the GRE flows of
               each side (src > dst key=token), each once.
  expect.norm  the NEW expectations, each once, sorted: proto, tuple and dst key (token), the
               master's addresses.  Left out: timeout, src key and masks, flags, class, helper, the
               master's ports, DESTROY events (see pptp.sh for why these differ legitimately).
  gre.norm     per snapshot, the GRE flows the router's conntracks carry: `in SRC>DST key=K ->
               out SRC>DST key=K` (the packet as it enters, as it leaves); the reply direction of a
               conntrack only when it has seen a reply.  One bidirectional conntrack (the kernel's
               keymap) and two one-direction conntracks (userspace, no keymap) carrying the same
               translations give the same lines.  A snapshot keeps the flows whose keys belong to
               the calls up at that time (FIRST:LAST: the calls at the server, from 1).
  facts        key=value lines for the verdicts.
"""
import struct
import sys

NAMES = {1: "SCCRQ", 2: "SCCRP", 3: "StopCCRQ", 4: "StopCCRP", 5: "ECHORQ", 6: "ECHORP",
         7: "OCRQ", 8: "OCRP", 9: "ICRQ", 10: "ICRP", 11: "ICCN", 12: "CCRQ", 13: "CDN",
         14: "WEN", 15: "SLI"}
COOKIE = 0x1A2B3C4D


def packets(path):
    """(src, dst, proto, l4 bytes) of every IPv4 packet of an Ethernet pcap."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 24:
        return
    magic = struct.unpack("<I", data[:4])[0]
    if magic in (0xA1B2C3D4, 0xA1B23C4D):
        end = "<"
    elif magic in (0xD4C3B2A1, 0x4D3CB2A1):
        end = ">"
    else:
        raise SystemExit(f"{path}: not a pcap file")
    linktype = struct.unpack(end + "I", data[20:24])[0]
    if linktype != 1:
        raise SystemExit(f"{path}: link type {linktype}, expected Ethernet (1)")
    off = 24
    while off + 16 <= len(data):
        _, _, incl, _ = struct.unpack(end + "IIII", data[off:off + 16])
        frame = data[off + 16:off + 16 + incl]
        off += 16 + incl
        if len(frame) < 34 or frame[12:14] != b"\x08\x00":
            continue
        ip = frame[14:]
        ihl = (ip[0] & 15) * 4
        total = struct.unpack(">H", ip[2:4])[0]
        src = ".".join(map(str, ip[12:16]))
        dst = ".".join(map(str, ip[16:20]))
        yield src, dst, ip[9], ip[ihl:total]


class Tokens:
    def __init__(self):
        self.map = {}

    def __call__(self, v):
        if v == 0:
            return "0"
        if v not in self.map:
            self.map[v] = f"id{len(self.map) + 1}"
        return self.map[v]

    def known(self, v):
        return "0" if v == 0 else self.map.get(v, f"?{v:#x}")


def control(side, path, tok, facts, calls):
    """The control messages of one capture (TCP port 1723), per direction, segment payloads put
    together in sequence order (retransmissions dropped)."""
    streams = {}   # (src, sport, dst, dport) -> [next seq, bytes]
    lines, gre = [], set()
    order = []
    for src, dst, proto, l4 in packets(path):
        if proto == 1 and len(l4) >= 28 and l4[0] == 3 and l4[1] == 2 and l4[8 + 9] == 47:
            # ICMP protocol unreachable about a GRE packet (a router without GRE answering GRE
            # addressed to itself)
            facts[f"{side}_icmp_gre_unreachable_from_{src}"] = facts.get(f"{side}_icmp_gre_unreachable_from_{src}", 0) + 1
            continue
        if proto == 47 and len(l4) >= 8:
            flags_ver, gproto = struct.unpack(">HH", l4[:4])
            if flags_ver & 7 == 1 and gproto == 0x880B:
                key = struct.unpack(">H", l4[6:8])[0]
                gre.add((src, dst, key))
                order.append(("gre", src, dst, key))
            continue
        if proto != 6 or len(l4) < 20:
            continue
        sport, dport, seq = struct.unpack(">HHI", l4[:8])
        hl = (l4[12] >> 4) * 4
        payload = l4[hl:]
        if 1723 not in (sport, dport) or not payload:
            continue
        k = (src, sport, dst, dport)
        st = streams.setdefault(k, [seq, b""])
        if seq != st[0]:
            if (seq - st[0]) & 0xFFFFFFFF > 0x7FFFFFFF:
                continue  # retransmission
        st[0] = (seq + len(payload)) & 0xFFFFFFFF
        st[1] += payload
        while len(st[1]) >= 12:
            length, mtype, cookie, ctype = struct.unpack(">HHIH", st[1][:10])
            if length < 12 or mtype != 1 or cookie != COOKIE:
                lines.append(f"{side} malformed")
                st[1] = b""
                break
            if len(st[1]) < length:
                break
            msg, st[1] = st[1][:length], st[1][length:]
            order.append(("ctl", k, ctype, msg))
    pns_sport = {}
    for item in order:
        if item[0] == "gre":
            tok(item[3])
            continue
        _, k, ctype, msg = item
        src, sport, dst, dport = k
        d = "pns>pac" if dport == 1723 else "pac>pns"
        name = NAMES.get(ctype, f"type{ctype}")
        if ctype in (5, 6):
            continue
        body = msg[12:]
        u16 = lambda o: struct.unpack(">H", body[o:o + 2])[0] if len(body) >= o + 2 else None
        f = []
        if ctype in (7, 9, 12):           # OCRQ, ICRQ, CCRQ: call ID
            cid = u16(0)
            t = tok(cid)
            if ctype == 7:
                calls.append({"side": side, "pns": cid})
                facts[f"{side}_ocrq"] = facts.get(f"{side}_ocrq", 0) + 1
                if cid == sport and cid != 0:
                    t += "=sport"
                    facts[f"{side}_ocrq_sport"] = facts.get(f"{side}_ocrq_sport", 0) + 1
            f.append(f"call={t}")
        elif ctype in (8, 10):            # OCRP, ICRP: call ID, peer's call ID, result
            cid, peer = u16(0), u16(2)
            f.append(f"call={tok(cid)} peer={tok(peer)}")
            if len(body) >= 5:
                f.append(f"result={body[4]}")
                if ctype == 8 and body[4] == 1:
                    facts[f"{side}_ocrp_ok"] = facts.get(f"{side}_ocrp_ok", 0) + 1
                    for c in reversed(calls):
                        if c["side"] == side and c["pns"] == peer and "pac" not in c:
                            c["pac"] = cid
                            break
        elif ctype in (11, 14, 15):       # ICCN, WEN, SLI: peer's call ID
            f.append(f"peer={tok(u16(0))}")
        elif ctype == 13:                 # CDN: call ID, result
            f.append(f"call={tok(u16(0))}")
            if len(body) >= 3:
                f.append(f"result={body[2]}")
        elif ctype in (2, 4):             # SCCRP, StopCCRP: result
            if len(body) >= 3:
                f.append(f"result={body[2]}")
        lines.append(" ".join([side, d, name] + f))
    # sorted by token, not by the (random) value, so that runs compare
    lines += sorted(f"{side} gre {src}>{dst} key={tok(key)}" for src, dst, key in gre)
    for src, _, _ in gre:
        facts[f"{side}_gre_from_{src}"] = facts.get(f"{side}_gre_from_{src}", 0) + 1
    return lines


def kv(line):
    out = []
    for w in line.split():
        if "=" in w:
            k, v = w.split("=", 1)
            out.append((k, v))
    return out


def expectations(path, tok):
    seen = set()
    for line in open(path, errors="replace"):
        if "[NEW]" not in line:
            continue
        f = kv(line)
        proto = next((v for k, v in f if k == "proto"), "?")
        d = {}
        for k, v in f:
            d.setdefault(k, []).append(v)
        src, dst = d.get("src", ["?"])[0], d.get("dst", ["?"])[0]
        key = d.get("dstkey", [None])[0]
        keyt = tok.known(int(key, 16)) if key else "-"
        seen.add(f"NEW proto={proto} src={src} dst={dst} dstkey={keyt} "
                 f"master-src={d.get('master-src', ['?'])[0]} master-dst={d.get('master-dst', ['?'])[0]}")
    return sorted(seen)


def gre_flows(path, tok, keep):
    flows = set()
    for line in open(path, errors="replace"):
        if not line.startswith("gre"):
            continue
        d = {}
        for k, v in kv(line):
            d.setdefault(k, []).append(v)
        try:
            s, t = d["src"], d["dst"]
            sk = [int(x, 16) for x in d["srckey"]]
            dk = [int(x, 16) for x in d["dstkey"]]
        except (KeyError, ValueError):
            continue
        if len(s) < 2 or len(sk) < 2:
            continue
        fl = [(s[0], t[0], dk[0], t[1], s[1], sk[1])]
        if "[UNREPLIED]" not in line:
            fl.append((s[1], t[1], dk[1], t[0], s[0], sk[0]))
        for a, b, k1, c, e, k2 in fl:
            if keep is not None and k1 not in keep and k2 not in keep:
                continue
            flows.add(f"in {a}>{b} key={tok.known(k1)} -> out {c}>{e} key={tok.known(k2)}")
    return sorted(flows)


def main(argv):
    out = argv[0]
    caps, exp, gres, gre_calls = [], None, [], []
    i = 1
    while i < len(argv):
        a = argv[i]
        if a == "--expect":
            exp = argv[i + 1]
            i += 2
        elif a == "--gre":
            gres.append(argv[i + 1])
            lo, hi = argv[i + 2].split(":")
            gre_calls.append((int(lo), int(hi)))
            i += 3
        else:
            side, path = a.split("=", 1)
            caps.append((side, path))
            i += 1
    tok, facts, wire = Tokens(), {}, []
    calls = []
    for side, path in caps:
        wire += control(side, path, tok, facts, calls)
    with open(f"{out}/wire.norm", "w") as f:
        f.write("".join(l + "\n" for l in wire))
    if exp:
        e = expectations(exp, tok)
        facts["expectations"] = len(e)
        with open(f"{out}/expect.norm", "w") as f:
            f.write("".join(l + "\n" for l in e))
    server_calls = [c for c in calls if c["side"] == caps[0][0]]
    client_calls = [c for c in calls if c["side"] != caps[0][0]]
    g = []
    for n, (path, (lo, hi)) in enumerate(zip(gres, gre_calls), 1):
        keep = set()
        for c in server_calls[lo - 1:hi]:
            keep |= {c["pns"], c.get("pac", -1)}
        # the inside IDs of the same calls: clients' OCRQs, matched by the PAC ID they got back
        for c in client_calls:
            if c.get("pac") in keep:
                keep.add(c["pns"])
        g.append(f"snapshot {n}")
        fl = gre_flows(path, tok, keep)
        facts[f"gre{n}_flows"] = len(fl)
        g += fl
    if gres:
        with open(f"{out}/gre.norm", "w") as f:
            f.write("".join(l + "\n" for l in g))
    facts["calls_at_server"] = len(server_calls)
    with open(f"{out}/facts", "w") as f:
        f.write("".join(f"{k}={v}\n" for k, v in sorted(facts.items())))


if __name__ == "__main__":
    main(sys.argv[1:])
