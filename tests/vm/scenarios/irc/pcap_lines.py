#!/usr/bin/python3
"""Print the PRIVMSG lines a TCP stream carried towards PORT, from a pcap (tcpdump -w, Ethernet).

The stream is put together by sequence number (retransmissions counted once) so a line appears as
the receiving end read it.  Lines are printed with CTCP's \\x01 as ^A.

  pcap_lines.py FILE PORT
"""
import struct
import sys


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


def tcp_payloads(path, port):
    for fr in packets(path):
        eth = struct.unpack("!H", fr[12:14])[0]
        off = 14
        if eth == 0x8100:
            eth = struct.unpack("!H", fr[16:18])[0]
            off = 18
        if eth == 0x0800:
            ihl = (fr[off] & 0x0F) * 4
            proto = fr[off + 9]
            total = struct.unpack("!H", fr[off + 2:off + 4])[0]
            l4, l4end = off + ihl, off + total
        elif eth == 0x86DD:
            proto = fr[off + 6]
            plen = struct.unpack("!H", fr[off + 4:off + 6])[0]
            l4, l4end = off + 40, off + 40 + plen
        else:
            continue
        if proto != 6:
            continue
        sport, dport, seq = struct.unpack("!HHI", fr[l4:l4 + 8])
        doff = (fr[l4 + 12] >> 4) * 4
        data = fr[l4 + doff:l4end]
        if dport == port and data:
            yield (sport, seq, data)


def main():
    path, port = sys.argv[1], int(sys.argv[2])
    streams = {}
    for sport, seq, data in tcp_payloads(path, port):
        streams.setdefault(sport, {}).setdefault(seq, data)
    for sport in sorted(streams):
        segs = streams[sport]
        base = min(segs)
        buf = bytearray()
        for seq in sorted(segs, key=lambda s: (s - base) & 0xFFFFFFFF):
            rel = (seq - base) & 0xFFFFFFFF
            data = segs[seq]
            if rel + len(data) <= len(buf):
                continue
            buf += data[len(buf) - rel:] if rel <= len(buf) else data
        for line in bytes(buf).split(b"\n"):
            line = line.rstrip(b"\r").decode("latin-1")
            if line.upper().startswith("PRIVMSG "):
                print(line.replace("\x01", "^A"))


main()
