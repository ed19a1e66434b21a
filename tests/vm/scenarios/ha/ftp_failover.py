#!/usr/bin/python3
"""One FTP control connection across a router failover (tests/vm/scenarios/ha.sh).  Runs in the
client namespace.
argv: server client_addr syncdir out1 out2
  1. login, TYPE I, PASV (through router1: its cthelperd sees the 227 and makes the expectation,
     conntrackd sends it to router2); creates pasv-done, waits for failed-over (ha.sh fails router1
     over to router2 meanwhile)
  2. opens the data connection to the PASV address (through router2: only the synced expectation
     lets it through the forward filter), RETR, download 1 -> out1
  3. NOOP on the same control connection (did it survive?), then PASV + RETR again, entirely
     through router2 (router2's cthelperd makes that expectation) -> out2
Prints `RESULT step=... ok|timeout|refused|error ...` lines; exit 0 when every step worked,
1 when one failed (the rest is then skipped, except NOOP after a failed data connection)."""
import ftplib, os, socket, sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from ftpsync import Logged, save, say, wait_for  # noqa: E402

srv, cli, sync, out1, out2 = sys.argv[1:6]


def connect_data(host, port, timeout):
    try:
        return socket.create_connection((host, port), timeout=timeout), "ok"
    except socket.timeout:
        return None, "timeout"
    except ConnectionRefusedError:
        return None, "refused"
    except OSError as e:
        return None, f"error:{e.errno}"


def receive(ftp, conn, out):
    ftp.sendcmd("RETR pub/data.bin")
    conn.settimeout(30)
    n = save(conn, out)
    ftp.voidresp()
    return n


ftp = Logged()
ftp.connect(srv, 21, timeout=30, source_address=(cli, 30000))
ftp.login()
ftp.voidcmd("TYPE I")
host, port = ftplib.parse227(ftp.sendcmd("PASV"))
say(f"RESULT step=pasv1 ok {host}:{port}")
open(os.path.join(sync, "pasv-done"), "w").close()
wait_for(sync, "failed-over", 90)

conn, how = connect_data(host, port, 8)
say(f"RESULT step=data1 {how}")
ok = how == "ok"
if ok:
    n = receive(ftp, conn, out1)
    say(f"RESULT step=retr1 ok bytes={n}")
try:
    r = ftp.sendcmd("NOOP")
    say(f"RESULT step=noop ok {r}")
except (OSError, EOFError, ftplib.Error) as e:
    say(f"RESULT step=noop error {e!r}")
    sys.exit(1)
if not ok:
    sys.exit(1)
host, port = ftplib.parse227(ftp.sendcmd("PASV"))
conn, how = connect_data(host, port, 8)
say(f"RESULT step=data2 {how}")
if how != "ok":
    sys.exit(1)
n = receive(ftp, conn, out2)
say(f"RESULT step=retr2 ok bytes={n}")
ftp.quit()
