#!/usr/bin/python3
"""Scripted Amanda exchange (bsd/udp auth, as nf_conntrack_amanda knows it) for the VM scenarios.

Debian's amanda packages are not used (see tests/vm/README.md, "Amanda"): this script speaks the
same messages.  Two roles:

  peer.py responder ADDR SEED STREAMS
      The backed-up host's amandad + sendbackup.  Listens on udp ADDR:10080 and on one TCP port per
      stream (STREAMS = "DATA:50001,MESG:50002,INDEX:50003").  Every REQ gets an ACK and then a REP
      whose CONNECT line names the stream ports; every TCP connection accepted on a stream port gets
      that stream's bytes (derived from SEED) and is closed.  Runs until killed.

  peer.py requester SERVER SEED STREAMS NSESSIONS SPORT SYNCDIR
      The Amanda server (amdump's dumper).  Session i (0-based) sends a sendbackup REQ from udp
      port SPORT+i to SERVER:10080 and waits for ACK + REP.  After all sessions got their REP it
      creates SYNCDIR/rep-received and waits (30 s at most) for SYNCDIR/go, so that the test can
      read the master conntrack's timeout before the requester's ACK refreshes it; then it ACKs
      every REP and connects, session by session, to every stream port named in that session's
      CONNECT line (as received, i.e. after any NAT rewrite) and checks the bytes.

Output lines (stdout) the scenario parses:
  responder > CONNECT ...          the line as sent          responder: REQ from A port P
  requester < CONNECT ...          the line as received      requester: session I STREAM PORT ok|FAIL ...
Exit status of the requester: 0 every stream of every session received intact, 1 otherwise,
2 no REP (the UDP exchange itself failed).
"""
import hashlib
import os
import select
import socket
import sys
import time

AMANDA_PORT = 10080
SIZES = {"DATA": 200_000, "MESG": 3_000, "INDEX": 12_000, "STATE": 1_000}


def say(*a):
    print(*a, flush=True)


def family(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def parse_streams(spec):
    out = []
    for item in spec.split(","):
        name, port = item.split(":")
        out.append((name, int(port)))
    return out


def content(seed, stream):
    """The bytes a stream carries: deterministic for the seed, different per stream."""
    n = SIZES.get(stream, 1000)
    return hashlib.shake_256(f"{seed}/{stream}".encode()).digest(n)


def header(kind, handle, seq):
    return f"Amanda 2.6 {kind} HANDLE {handle} SEQ {seq}\n"


def parse_header(text):
    """'Amanda 2.6 REQ HANDLE h SEQ s' -> (kind, handle, seq) or None."""
    first = text.split("\n", 1)[0].split()
    if len(first) >= 7 and first[0] == "Amanda" and first[3] == "HANDLE" and first[5] == "SEQ":
        return first[2], first[4], first[6]
    return None


# ------------------------------------------------------------------------------------ responder
def responder(addr, seed, spec):
    streams = parse_streams(spec)
    fam = family(addr)
    udp = socket.socket(fam, socket.SOCK_DGRAM)
    udp.bind((addr, AMANDA_PORT))
    listeners = {}
    for name, port in streams:
        s = socket.socket(fam, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((addr, port))
        s.listen(16)
        listeners[s] = name
    connect = "CONNECT " + " ".join(f"{n} {p}" for n, p in streams)
    say(f"responder: listening on udp {AMANDA_PORT} and tcp {spec}")
    while True:
        r, _, _ = select.select([udp, *listeners], [], [])
        for s in r:
            if s is udp:
                data, peer = udp.recvfrom(65535)
                text = data.decode("latin-1")
                h = parse_header(text)
                if h is None:
                    say(f"responder: junk from {peer[0]} port {peer[1]}: {text[:60]!r}")
                    continue
                kind, handle, seq = h
                say(f"responder: {kind} from {peer[0]} port {peer[1]} handle {handle}")
                if kind != "REQ":
                    continue
                udp.sendto(header("ACK", handle, seq).encode(), peer)
                rep = header("REP", handle, seq) + connect + "\n" + "OPTIONS features=fffffeff9ffe0f00;\n"
                time.sleep(0.05)  # amandad answers after forking sendbackup
                udp.sendto(rep.encode(), peer)
                say(f"responder > {connect}")
            else:
                name = listeners[s]
                conn, peer = s.accept()
                say(f"responder: {name} connection from {peer[0]} port {peer[1]}")
                try:
                    conn.sendall(content(seed, name))
                    conn.shutdown(socket.SHUT_WR)
                finally:
                    conn.close()


# ------------------------------------------------------------------------------------ requester
REQ_BODY = (
    "SECURITY USER backup\n"
    "SERVICE sendbackup\n"
    "OPTIONS features=fffffeff9ffe0f00;maxdumps=1;hostname=cthvm-client;config=cthvm;\n"
    "<dle>\n  <program>GNUTAR</program>\n  <disk>/srv/data</disk>\n  <level>0</level>\n"
    "  <auth>bsd</auth>\n  <record>YES</record>\n  <index>YES</index>\n</dle>\n"
)


def wait_rep(sock, handle, deadline):
    """Collect ACK then REP for handle; returns the REP text or None."""
    while time.time() < deadline:
        sock.settimeout(max(0.05, deadline - time.time()))
        try:
            data, _ = sock.recvfrom(65535)
        except socket.timeout:
            return None
        text = data.decode("latin-1")
        h = parse_header(text)
        if h and h[1] == handle and h[0] == "REP":
            return text
    return None


def requester(server, seed, spec, nsessions, sport, sync):
    fam = family(server)
    streams = dict(parse_streams(spec))
    sessions = []
    for i in range(nsessions):
        sock = socket.socket(fam, socket.SOCK_DGRAM)
        sock.bind(("::" if fam == socket.AF_INET6 else "0.0.0.0", sport + i))
        handle = f"00{i}-1234567{i}"
        req = (header("REQ", handle, 100 + i) + REQ_BODY).encode()
        rep = None
        # Amanda retransmits a REQ that got no answer; the wait is long, because a retransmission
        # makes a second REP, which the comparison with the kernel's run would see.
        for attempt in range(2):
            sock.sendto(req, (server, AMANDA_PORT))
            say(f"requester: session {i} REQ sent from port {sport + i} (attempt {attempt + 1})")
            rep = wait_rep(sock, handle, time.time() + 12)
            if rep is not None:
                break
        if rep is None:
            say(f"requester: session {i} no REP")
            return 2
        line = next((ln for ln in rep.split("\n") if ln.startswith("CONNECT ")), None)
        say(f"requester < {line}")
        sessions.append((sock, handle, 100 + i, line or ""))
    open(os.path.join(sync, "rep-received"), "w").close()
    t = time.time() + 30
    while not os.path.exists(os.path.join(sync, "go")) and time.time() < t:
        time.sleep(0.05)
    for sock, handle, seq, _ in sessions:
        sock.sendto(header("ACK", handle, seq).encode(), (server, AMANDA_PORT))
    ok = True
    for i, (_, _, _, line) in enumerate(sessions):
        words = line.split()[1:]
        ports = dict(zip(words[0::2], words[1::2]))
        for name in streams:
            port = ports.get(name)
            if port is None or not port.isdigit():
                say(f"requester: session {i} {name} - FAIL: not in the CONNECT line")
                ok = False
                continue
            want = content(seed, name)
            try:
                c = socket.create_connection((server, int(port)), timeout=4)
                got = b""
                while True:
                    b = c.recv(65536)
                    if not b:
                        break
                    got += b
                c.close()
            except OSError as e:
                say(f"requester: session {i} {name} {port} FAIL: {e}")
                ok = False
                continue
            if got == want:
                say(f"requester: session {i} {name} {port} ok {len(got)} bytes")
            else:
                say(f"requester: session {i} {name} {port} FAIL: {len(got)} bytes, content differs")
                ok = False
    return 0 if ok else 1


def main(argv):
    if len(argv) >= 4 and argv[0] == "responder":
        responder(argv[1], argv[2], argv[3])
        return 0
    if len(argv) >= 7 and argv[0] == "requester":
        return requester(argv[1], argv[2], argv[3], int(argv[4]), int(argv[5]), argv[6])
    say(__doc__)
    return 64


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
