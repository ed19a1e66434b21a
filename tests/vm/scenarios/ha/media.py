#!/usr/bin/python3
"""RTP across a router failover (tests/vm/scenarios/ha.sh).
  media.py send PCAP SRV COUNT INTERVAL_MS STOPFILE
      (server namespace) waits until the server has received the call's ACK (PCAP, its capture),
      reads the INVITE's SDP as the server received it (so after the router's rewrite) and sends
      RTP from SRV:7000 to its audio address and port, one packet every INTERVAL_MS, until COUNT
      packets are sent or STOPFILE exists; prints `sent N ADDR PORT`.
  media.py recv ADDR PORT STATUSFILE STOPFILE
      (client namespace) counts the RTP packets arriving at ADDR:PORT; after each one STATUSFILE
      holds `COUNT LAST_SEQ` (replaced whole); ends when STOPFILE exists (checked every 0.2 s)."""
import os, socket, struct, sys, time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "sip"))
import sipcap  # noqa: E402  (reads the captures: tests/vm/scenarios/sip/sipcap.py)


def send(pcap, src, count, interval, stop):
    pkts = sipcap.wait_for(pcap, src, "ACK", 60)
    if pkts is None:
        print(f"no ACK received by {src} within 60 s", file=sys.stderr)
        return 1
    inv = sipcap.first(pkts, src, "INVITE")
    streams = [s for s in sipcap.parse_sdp(inv) if s[0] == "audio" and s[2] != 0] if inv else []
    if not streams:
        print("no audio stream in the INVITE the server received", file=sys.stderr)
        return 1
    _, addr, port = streams[0]
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((src, 7000))
    sent = 0
    next_t = time.monotonic()
    for n in range(count):
        if os.path.exists(stop):
            break
        hdr = struct.pack("!BBHII", 0x80, 0, n, n * 160, 0x1000)
        try:
            s.sendto(hdr + bytes([0xFF]) * 160, (addr, port))
            sent += 1
        except OSError as e:  # an ICMP error reported on the socket: keep sending
            print(f"send {n}: {e}", file=sys.stderr)
        next_t += interval / 1000.0
        time.sleep(max(0.0, next_t - time.monotonic()))
    print(f"sent {sent} {addr} {port}", flush=True)
    return 0


def recv(addr, port, status, stop):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((addr, port))
    s.settimeout(0.2)
    n, last = 0, -1
    tmp = status + ".tmp"
    with open(tmp, "w") as f:
        f.write("0 -1\n")
    os.replace(tmp, status)
    while not os.path.exists(stop):
        try:
            b = s.recv(2048)
        except socket.timeout:
            continue
        if len(b) < 12:
            continue
        n += 1
        last = struct.unpack("!H", b[2:4])[0]
        with open(tmp, "w") as f:
            f.write(f"{n} {last}\n")
        os.replace(tmp, status)
    print(f"received {n} last_seq {last}", flush=True)
    return 0


def main(a):
    if len(a) >= 6 and a[0] == "send":
        return send(a[1], a[2], int(a[3]), float(a[4]), a[5])
    if len(a) >= 5 and a[0] == "recv":
        return recv(a[1], int(a[2]), a[3], a[4])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
