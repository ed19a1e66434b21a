#!/usr/bin/python3
"""DCC receiver (runs in the server namespace, next to the IRC server).

Registers, signals readiness (sync file), collects --offers DCC lines addressed to it and the
sender's closing `end of offers` message, then (after --delay seconds) connects to the advertised address and port of the chosen offers: SEND/MOVE/TSEND
receive the file (4-byte acknowledgements sent back) into OUTDIR/offer-<n>.bin, CHAT/SCHAT exchange
one line.  Prints one `GOT <line>` per PRIVMSG as received from the server and one
`RESULT n=<n> kind=<K> addr=<A> port=<P> connect=<ok|refused|timeout|error> bytes=<N>` per try.

  dcc_recv.py --server ADDR --nick N --sync DIR --offers N --outdir D
              [--try all|1,3] [--delay S] [--connect-timeout S]
"""
import argparse
import ipaddress
import os
import socket
import time

from ircpeer import Irc, fail, log, show, touch

ap = argparse.ArgumentParser()
ap.add_argument("--server", required=True)
ap.add_argument("--nick", required=True)
ap.add_argument("--sync", required=True)
ap.add_argument("--offers", type=int, default=1)
ap.add_argument("--outdir", required=True)
ap.add_argument("--try", dest="tries", default="all")
ap.add_argument("--delay", type=float, default=0)
ap.add_argument("--connect-timeout", type=float, default=8)
ap.add_argument("--wait", type=float, default=60, help="seconds to wait for the DCC lines")
a = ap.parse_args()

irc = Irc(a.server, a.nick)
touch(os.path.join(a.sync, "recv-ready"))

offers = []
ended = False
end = time.monotonic() + a.wait
while len(offers) < a.offers or not ended:
    line = irc.readline(max(0.0, end - time.monotonic()))
    if line is None:
        break
    if " PRIVMSG " not in line:
        continue
    print("GOT " + show(line), flush=True)
    if line.endswith(" :end of offers"):
        ended = True
        continue
    if "\x01DCC " not in line:
        continue
    body = line.split("\x01DCC ", 1)[1].rstrip("\x01")
    w = body.split()
    try:
        kind, addr, port = w[0], w[2], int(w[3])
        size = int(w[4]) if len(w) > 4 else 0
        ip = ipaddress.ip_address(int(addr)) if addr.isdigit() else ipaddress.ip_address(addr)
    except (IndexError, ValueError) as e:
        log(f"unparsable DCC line ({e})")
        continue
    offers.append((kind, ip, port, size))
    log(f"offer {len(offers)}: {kind} {ip} port {port} size {size}")
if len(offers) < a.offers:
    log(f"only {len(offers)} of {a.offers} DCC lines arrived")
if not ended:
    log("the sender's 'end of offers' message did not arrive")

tries = range(1, len(offers) + 1) if a.tries == "all" else [int(x) for x in a.tries.split(",")]
if a.delay:
    log(f"waiting {a.delay} s before connecting")
    time.sleep(a.delay)
for n in tries:
    if n > len(offers):
        print(f"RESULT n={n} connect=no-offer bytes=0", flush=True)
        continue
    kind, ip, port, size = offers[n - 1]
    s = socket.socket(socket.AF_INET6 if ip.version == 6 else socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(a.connect_timeout)
    t0 = time.monotonic()
    try:
        s.connect((str(ip), port))
        result = "ok"
    except socket.timeout:
        result = "timeout"
    except ConnectionRefusedError:
        result = "refused"
    except OSError as e:
        result = f"error({e.errno})"
    log(f"offer {n}: connect {ip} port {port}: {result} after {time.monotonic() - t0:.2f} s")
    got = 0
    if result == "ok":
        s.settimeout(30)
        try:
            if kind in ("CHAT", "SCHAT"):
                s.sendall(f"hello from {a.nick}\n".encode())
                buf = b""
                while b"\n" not in buf:
                    d = s.recv(1024)
                    if not d:
                        break
                    buf += d
                got = len(buf)
                log(f"offer {n}: peer said {buf.decode(errors='replace').strip()!r}")
                with open(os.path.join(a.outdir, f"offer-{n}.txt"), "wb") as f:
                    f.write(buf)
            else:
                with open(os.path.join(a.outdir, f"offer-{n}.bin"), "wb") as f:
                    while got < size:
                        d = s.recv(65536)
                        if not d:
                            break
                        f.write(d)
                        got += len(d)
                        s.sendall(got.to_bytes(4, "big"))
        except OSError as e:
            log(f"offer {n}: transfer: {e}")
    s.close()
    print(f"RESULT n={n} kind={kind} addr={ip} port={port} connect={result} bytes={got}", flush=True)
touch(os.path.join(a.sync, "recv-done"))
irc.quit()
log("receiver done")
