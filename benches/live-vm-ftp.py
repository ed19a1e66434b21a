#!/usr/bin/env python3
"""FTP load for benches/live-vm.sh (run in the VM's client namespace).

  live-vm-ftp.py sessions HOST SECONDS THREADS  passive sessions: login, PASV, RETR f, QUIT
  live-vm-ftp.py noop HOST SECONDS THREADS      one control connection per thread, NOOP loop

Prints one line of key=value: ok, failed, seconds, and for noop the request->reply
times of every NOOP (p50_us, p99_us). Every failure is counted, none ignored.
"""
import ftplib
import sys
import threading
import time


def sessions(host, until, res, lock):
    ok = bad = 0
    while time.monotonic() < until:
        try:
            f = ftplib.FTP(host, timeout=10)
            f.login()
            f.set_pasv(True)
            got = []
            f.retrbinary("RETR f", got.append)
            f.quit()
            if sum(map(len, got)) == 1024:
                ok += 1
            else:
                bad += 1
        except Exception as e:  # noqa: BLE001 - every failure counts
            bad += 1
            res.setdefault("err", repr(e))
    with lock:
        res["ok"] += ok
        res["failed"] += bad


def noop(host, until, res, lock):
    times = []
    bad = 0
    try:
        f = ftplib.FTP(host, timeout=10)
        f.login()
        while time.monotonic() < until:
            t0 = time.perf_counter_ns()
            r = f.voidcmd("NOOP")
            times.append(time.perf_counter_ns() - t0)
            if not r.startswith("200"):
                bad += 1
        f.quit()
    except Exception as e:  # noqa: BLE001
        bad += 1
        res.setdefault("err", repr(e))
    with lock:
        res["ok"] += len(times)
        res["failed"] += bad
        res["times"].extend(times)


def main():
    kind, host, secs, n = sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4])
    res = {"ok": 0, "failed": 0, "times": []}
    lock = threading.Lock()
    fn = {"sessions": sessions, "noop": noop}[kind]
    t0 = time.monotonic()
    until = t0 + secs
    ts = [threading.Thread(target=fn, args=(host, until, res, lock)) for _ in range(n)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    el = time.monotonic() - t0
    out = f"ok={res['ok']} failed={res['failed']} seconds={el:.2f}"
    if res["times"]:
        t = sorted(res["times"])
        out += f" p50_us={t[len(t) // 2] // 1000} p99_us={t[min(len(t) - 1, len(t) * 99 // 100)] // 1000}"
    if "err" in res:
        out += " err=" + res["err"].replace(" ", "_")[:80]
    print(out)


main()
