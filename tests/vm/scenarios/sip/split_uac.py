#!/usr/bin/env python3
"""The caller of uac.xml over TCP, with the INVITE split over two TCP segments.

  split_uac.py XML SERVER_ADDR CLIENT_ADDR LPORT MARK GAP CUE KEY=VALUE...

Renders the <send> messages of XML (uac.xml) as sipp does — lines stripped of
their indentation, CRLF line ends, [len] as the body length right-aligned in
5 columns, -key values, [call_id] = cth-call-1, [peer_tag_param] = the To tag
of the 200 — so that its bytes equal those of `sipp -sf uac.xml -t t1` and the
kernel ALG's run of that call is the reference for this one.  Connects from
CLIENT_ADDR port LPORT to SERVER_ADDR port 5060 with TCP_NODELAY, sends the
INVITE up to and including the line that starts with MARK, waits GAP seconds,
sends the rest (MARK "-": the whole INVITE at once); then the call goes on as
uac.xml: 180/200, ACK, wait until the file CUE exists (sip.sh creates it when
the server's media is over), BYE, 200.  Exit 0 when the call completed.
"""
import os
import re
import socket
import sys
import time


def render(xml, keys):
    """The <send> messages of a sipp scenario, as templates with sipp's layout."""
    out = []
    for cdata in re.findall(r"<send[^>]*>\s*<!\[CDATA\[(.*?)\]\]>", xml, re.S):
        lines = [line.strip() for line in cdata.strip("\n").split("\n")]
        while lines and not lines[0]:
            lines.pop(0)
        while lines and not lines[-1]:
            lines.pop()
        text = "\r\n".join(lines)
        if "\r\n\r\n" in text:
            head, body = text.split("\r\n\r\n", 1)
            body += "\r\n"
        else:
            head, body = text, ""
        for k, v in keys.items():
            head, body = head.replace(f"[{k}]", v), body.replace(f"[{k}]", v)
        out.append((head, body))
    return out


def build(tmpl, extra):
    head, body = tmpl
    for k, v in extra.items():
        head = head.replace(f"[{k}]", v)
    head = head.replace("[len]", "%5d" % len(body.encode()))
    left = re.search(r"\[[a-z_]+\]", head + body)
    if left:
        raise SystemExit(f"unreplaced keyword {left.group(0)} in: {head}")
    return (head + "\r\n\r\n" + body).encode()


class Reader:
    def __init__(self, sock):
        self.sock, self.buf = sock, b""

    def message(self, timeout):
        deadline = time.monotonic() + timeout
        while True:
            self.buf = self.buf.lstrip(b"\r\n")
            end = self.buf.find(b"\r\n\r\n")
            if end >= 0:
                m = re.search(rb"(?im)^(?:content-length|l)[ \t]*:[ \t]*([0-9]+)", self.buf[:end])
                total = end + 4 + (int(m.group(1)) if m else 0)
                if len(self.buf) >= total:
                    msg, self.buf = self.buf[:total], self.buf[total:]
                    return msg
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            self.sock.settimeout(left)
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                return None
            if not data:
                return None
            self.buf += data


def main():
    xml_path, srv, cli, lport, mark, gap, cue = sys.argv[1:8]
    keys = dict(kv.split("=", 1) for kv in sys.argv[8:])
    keys["call_id"] = "cth-call-1"
    msgs = render(open(xml_path).read(), keys)
    if len(msgs) != 3:
        raise SystemExit(f"{xml_path}: expected INVITE, ACK and BYE, found {len(msgs)} messages")
    fam = socket.AF_INET6 if ":" in srv else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    s.bind((cli, int(lport)))
    s.settimeout(10)
    s.connect((srv, 5060))
    rd = Reader(s)

    invite = build(msgs[0], {})
    if mark == "-":
        s.sendall(invite)
        print(f"INVITE: {len(invite)} bytes in one segment", flush=True)
    else:
        at = invite.find(b"\r\n" + mark.encode())
        if at < 0:
            raise SystemExit(f"no line starting with {mark!r} in the INVITE")
        cut = invite.find(b"\r\n", at + 2) + 2
        s.sendall(invite[:cut])
        print(f"INVITE part 1: {cut} bytes (up to the {mark!r} line)", flush=True)
        time.sleep(float(gap))
        s.sendall(invite[cut:])
        print(f"INVITE part 2: {len(invite) - cut} bytes after {gap} s", flush=True)

    tag = None
    while True:
        m = rd.message(10)
        if m is None:
            print("no final response to the INVITE", flush=True)
            return 1
        line = m.split(b"\r\n", 1)[0].decode("latin-1")
        print(f"received: {line}", flush=True)
        if line.startswith("SIP/2.0 1"):
            continue
        if not line.startswith("SIP/2.0 200"):
            return 1
        t = re.search(rb"(?im)^(?:to|t)[ \t]*:[^\r\n]*;tag=([^;\s>]+)", m)
        tag = t.group(1).decode() if t else None
        break
    peer = {"peer_tag_param": f";tag={tag}" if tag else ""}
    s.sendall(build(msgs[1], peer))
    print("sent: ACK", flush=True)
    deadline = time.monotonic() + 60
    while not os.path.exists(cue) and time.monotonic() < deadline:
        time.sleep(0.05)
    s.sendall(build(msgs[2], peer))
    print("sent: BYE", flush=True)
    m = rd.message(10)
    line = m.split(b"\r\n", 1)[0].decode("latin-1") if m else "nothing"
    print(f"received: {line}", flush=True)
    s.close()
    return 0 if line.startswith("SIP/2.0 200") else 1


if __name__ == "__main__":
    sys.exit(main())
