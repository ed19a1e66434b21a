"""Minimal IRC client plumbing shared by dcc_send.py and dcc_recv.py (python3 stdlib only)."""
import os
import socket
import sys
import time


def log(*a):
    print(time.strftime("%H:%M:%S"), *a, flush=True)


def show(line):
    """A line as text with CTCP's \\x01 made visible (^A)."""
    return line.replace("\x01", "^A")


def wait_file(path, timeout):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if os.path.exists(path):
            return True
        time.sleep(0.05)
    return False


def touch(path):
    with open(path, "w"):
        pass


class Irc:
    """One registered connection: send lines, read lines (PINGs answered)."""

    def __init__(self, server, nick, local_port=0, src=""):
        fam = socket.AF_INET6 if ":" in server else socket.AF_INET
        self.sock = socket.socket(fam, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # every line goes out in its own segment (the kernel's helper reads a DCC
        # only at the start of a segment)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if local_port or src:
            self.sock.bind((src or ("::" if fam == socket.AF_INET6 else "0.0.0.0"), local_port))
        self.sock.settimeout(30)
        self.sock.connect((server, 6667))
        self.buf = b""
        self.nick = nick
        self.send(f"NICK {nick}")
        self.send(f"USER {nick} 0 * :cthvm {nick}")
        while True:
            line = self.readline(30)
            if line is None:
                raise SystemExit(f"{nick}: no 001 from the server")
            if line.split(" ")[1:2] == ["001"]:
                log(f"{nick}: registered")
                return

    def send(self, line):
        self.sock.sendall(line.encode("latin-1") + b"\r\n")

    def readline(self, timeout):
        """Next line (without CRLF), or None on timeout / EOF."""
        end = time.monotonic() + timeout
        while b"\n" not in self.buf:
            left = end - time.monotonic()
            if left <= 0:
                return None
            self.sock.settimeout(left)
            try:
                d = self.sock.recv(4096)
            except socket.timeout:
                return None
            if not d:
                return None
            self.buf += d
        line, self.buf = self.buf.split(b"\n", 1)
        line = line.rstrip(b"\r").decode("latin-1")
        if line.startswith("PING "):
            self.send("PONG " + line[5:])
            return self.readline(max(0.0, end - time.monotonic()))
        return line

    def quit(self):
        try:
            self.send("QUIT :done")
            self.sock.close()
        except OSError:
            pass


def fail(msg):
    log("ERROR:", msg)
    sys.exit(1)
