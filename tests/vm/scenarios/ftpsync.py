"""What the FTP client scripts that pause for the test share (ftp_twice.py, ha/ftp_failover.py):
line-buffered output, waiting for a sync file the scenario creates, an ftplib client that prints
every command and reply (the scenario's evidence of what crossed the control channel), and saving
what a data connection carries."""
import ftplib, os, time


def say(*a):
    print(*a, flush=True)


def wait_for(sync, name, timeout):
    """Waits until the file sync/name exists; exits the script after timeout seconds."""
    t = time.time() + timeout
    while not os.path.exists(os.path.join(sync, name)):
        if time.time() > t:
            raise SystemExit(f"timed out waiting for {name}")
        time.sleep(0.05)


class Logged(ftplib.FTP):
    def putline(self, line):
        say("client >", line)
        super().putline(line)

    def getresp(self):
        r = super().getresp()
        say("client <", r)
        return r


def save(conn, path):
    """Writes everything conn carries to path until the peer closes; closes conn; returns the
    number of bytes."""
    n = 0
    with open(path, "wb") as f:
        while True:
            b = conn.recv(65536)
            if not b:
                break
            f.write(b)
            n += len(b)
    conn.close()
    return n
