#!/usr/bin/python3
"""DCC sender (runs in the client namespace, behind the NAT router).

Registers with the IRC server, waits until the receiver is registered (sync file), listens on one
TCP port per offer, sends one `PRIVMSG <to> :\\x01DCC <KIND> <arg> <addr> <port>[ <size>]\\x01` per
offer (each line in its own segment), then serves whoever connects: SEND/MOVE/TSEND get the file
(DCC's 4-byte acknowledgements are read), CHAT/SCHAT exchange one line.  <addr> is the decimal
form of an IPv4 address or the IPv6 text exactly as given with --adv.

After the offers it sends `PRIVMSG <to> :end of offers` (the receiver waits for it: the IRC
stream must survive a rewrite that changed its length).

  dcc_send.py --server ADDR --nick N --to PEER --adv ADDR --offers SEND:40000[@ADDR][,CHAT:40001...]
              --file F --sync DIR [--local-port P] [--bind ADDR] [--serve-timeout S]
(`@ADDR` advertises another address in that one offer: a forged DCC.)
"""
import argparse
import ipaddress
import os
import select
import socket
import threading
import time

from ircpeer import Irc, fail, log, show, touch, wait_file

ap = argparse.ArgumentParser()
ap.add_argument("--server", required=True)
ap.add_argument("--nick", required=True)
ap.add_argument("--to", required=True)
ap.add_argument("--adv", required=True, help="address to advertise (IPv4: sent in decimal)")
ap.add_argument("--offers", required=True,
                help="KIND:PORT[@ADDR],... (KIND: SEND CHAT MOVE TSEND SCHAT)")
ap.add_argument("--file", required=True)
ap.add_argument("--sync", required=True)
ap.add_argument("--local-port", type=int, default=0)
ap.add_argument("--bind", default="", help="source address of the IRC connection")
ap.add_argument("--serve-timeout", type=float, default=60)
a = ap.parse_args()



def adv_text(text):
    """The address field: decimal for IPv4, the IPv6 text unchanged."""
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        fail(f"bad address {text}")
    return ip, (str(int(ip)) if ip.version == 4 else text)


ip, _ = adv_text(a.adv)
size = os.path.getsize(a.file)
with open(a.file, "rb") as f:
    data = f.read()

offers = []
for item in a.offers.split(","):
    kind, rest = item.split(":", 1)
    port, _, addr = rest.partition("@")
    offers.append((kind, int(port), adv_text(addr or a.adv)[1]))

# IRC connection (optionally from a given source address and port)
irc = Irc(a.server, a.nick, a.local_port, a.bind)
log(f"{a.nick}: IRC connection {irc.sock.getsockname()[:2]} -> {irc.sock.getpeername()[:2]}")

if not wait_file(os.path.join(a.sync, "recv-ready"), 60):
    fail("the receiver did not register")

listeners = {}
for kind, port, _ in offers:
    lf = socket.AF_INET6 if ip.version == 6 else socket.AF_INET
    ls = socket.socket(lf, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("::" if lf == socket.AF_INET6 else "0.0.0.0", port))
    ls.listen(4)
    listeners[ls] = (kind, port)

for i, (kind, port, text) in enumerate(offers):
    if kind in ("CHAT", "SCHAT"):
        line = f"PRIVMSG {a.to} :\x01DCC {kind} chat {text} {port}\x01"
    else:
        line = f"PRIVMSG {a.to} :\x01DCC {kind} file{i + 1}.bin {text} {port} {size}\x01"
    irc.send(line)
    log(f"sent > {show(line)}")
    time.sleep(0.3)   # one line per segment
line = f"PRIVMSG {a.to} :end of offers"
irc.send(line)
log(f"sent > {line}")
touch(os.path.join(a.sync, "offered"))


def serve(conn, peer, kind, port):
    try:
        conn.settimeout(30)
        if kind in ("CHAT", "SCHAT"):
            conn.sendall(f"hello from {a.nick} ({kind})\n".encode())
            got = b""
            while b"\n" not in got:
                d = conn.recv(1024)
                if not d:
                    break
                got += d
            log(f"{kind} :{port} from {peer[0]}: peer said {got.decode(errors='replace').strip()!r}")
        else:
            conn.sendall(data)
            acked = 0
            buf = b""
            while acked < size:
                d = conn.recv(4096)
                if not d:
                    break
                buf += d
                while len(buf) >= 4:
                    acked = int.from_bytes(buf[:4], "big")
                    buf = buf[4:]
            log(f"{kind} :{port} to {peer[0]}: sent {len(data)} bytes, peer acknowledged {acked}")
    except OSError as e:
        log(f"{kind} :{port}: {e}")
    finally:
        conn.close()


threads = []
end = time.monotonic() + a.serve_timeout
done = os.path.join(a.sync, "recv-done")
while time.monotonic() < end and not os.path.exists(done):
    r, _, _ = select.select(list(listeners), [], [], 0.2)
    for ls in r:
        conn, peer = ls.accept()
        kind, port = listeners[ls]
        log(f"accepted {kind} connection on :{port} from {peer[0]}:{peer[1]}")
        t = threading.Thread(target=serve, args=(conn, peer, kind, port), daemon=True)
        t.start()
        threads.append(t)
for t in threads:
    t.join(30)
irc.quit()
log("sender done")
