#!/usr/bin/python3
"""Two downloads over ONE FTP control connection, with a pause in between for the test to kill and
restart cthelperd.  Runs in the client namespace.
argv: server cmd(port|eprt|pasv|epsv) client_addr syncdir out1 out2
sync files: we create first-done, wait for dead, then prove the control channel works (NOOP, PWD,
SIZE) and create control-ok (or control-failed), then wait for go and do the second transfer."""
import ftplib, os, socket, sys

from ftpsync import Logged, save, say, wait_for

srv, cmd, cli, sync, out1, out2 = sys.argv[1:7]
# Optional: the server's control port and the client's source port.
ctl_port = int(sys.argv[7]) if len(sys.argv) > 7 else 21
src_port = int(sys.argv[8]) if len(sys.argv) > 8 else 30000
v6 = ":" in srv


def data_port_cmd(ftp, port):
    """Send PORT/EPRT for a listener on `port` ourselves (ftplib picks a random port)."""
    sock = socket.create_server((cli, port), family=socket.AF_INET6 if v6 else socket.AF_INET)
    if cmd == "port":
        h = cli.split(".")
        ftp.voidcmd("PORT " + ",".join(h + [str(port >> 8), str(port & 255)]))
    else:
        ftp.voidcmd(f"EPRT |{2 if v6 else 1}|{cli}|{port}|")
    return sock


def download(ftp, out, port):
    ftp.voidcmd("TYPE I")
    if cmd in ("port", "eprt"):
        ls = data_port_cmd(ftp, port)
        ftp.sendcmd("RETR pub/data.bin")
        ls.settimeout(60)
        conn, _ = ls.accept()
        ls.close()
    else:
        if cmd == "pasv":
            host, p = ftplib.parse227(ftp.sendcmd("PASV"))
        else:
            host, p = ftplib.parse229(ftp.sendcmd("EPSV"), ftp.sock.getpeername())
        conn = socket.create_connection((host, p), timeout=60)
        ftp.sendcmd("RETR pub/data.bin")
    save(conn, out)
    ftp.voidresp()


ftp = Logged()
ftp.connect(srv, ctl_port, timeout=60, source_address=(cli, src_port))
ftp.login()
download(ftp, out1, 40000)
say("first transfer done")
open(os.path.join(sync, "first-done"), "w").close()
wait_for(sync, "dead", 120)
try:
    ftp.voidcmd("NOOP")
    ftp.pwd()
    ftp.sendcmd("SIZE pub/data.bin")
    open(os.path.join(sync, "control-ok"), "w").close()
except Exception as e:  # noqa: BLE001
    say("control channel failed while cthelperd was dead:", e)
    open(os.path.join(sync, "control-failed"), "w").close()
    sys.exit(3)
wait_for(sync, "go", 120)
download(ftp, out2, 40001)
say("second transfer done")
ftp.quit()
