#!/bin/bash
# In the VM (tests/vm/run --script benches/flood-rss.sh [FLOWS] [SAMPLE]): cthelperd's memory under a
# flood of new helped connections (issue 14: 100,000 of them, RSS under 64 MiB).
#
# The flood: TFTP read requests (the cheapest helped new conntrack: one UDP datagram, and the tftp
# helper answers it with an expectation), sent by one python3 process with a raw UDP socket made in
# the client namespace, from 10.0.1.2 to 10.0.2.2 and 10.0.2.3 (no host: the router still tracks,
# helps and forwards it), source ports 1024-65535: FLOWS distinct tuples through the masquerading
# router, each a new conntrack with the tftp helper, queued to cthelperd.  The sender reads the
# queue's /proc line (it runs in the router's namespace) and keeps at most 256 packets waiting, so the
# kernel's fail-open never lets one by unqueued.  cthelperd's VmRSS is sampled every SAMPLE seconds
# (default 0.5) from /proc/PID/status; VmHWM at the end is the peak.
# Prints: flows sent, packets queued (id_sequence), conntracks and expectations at the end, the
# daemon's RSS before and peak, and "rss-bound ok|EXCEEDED" against 64 MiB; exit 1 when exceeded.
set -uo pipefail
N=${1:-100000} SAMPLE=${2:-0.5}
source "$VMDIR/guest/lib.sh"
RES=$RESULTS/flood; mkdir -p $RES   # visible on the host (target/vm-results/latest/flood)
reset_state; net_setup masq || { echo "net_setup failed"; exit 1; }
# Room for every flow and its expectation (the VM's defaults follow its 1 GiB).
sysctl -qw net.netfilter.nf_conntrack_max=$((N + 65536))
echo $((N + 65536)) >/sys/module/nf_conntrack/parameters/hashsize
sysctl -qw net.netfilter.nf_conntrack_expect_max=$((N + 1024))
sysctl -qw net.netfilter.nf_conntrack_udp_timeout=120
cat >$RES/cth.toml <<'EOF'
[daemon]
queue_maxlen = 4096
[helper.tftp]
queue = 30
EOF
RUST_LOG=warn "$CTHELPERD" -c $RES/cth.toml run >$RES/cthelperd.log 2>&1 & CTH_PID=$!
for i in $(seq 300); do grep -q . /proc/net/netfilter/nfnetlink_queue 2>/dev/null && break; sleep 0.1; done
grep -q . /proc/net/netfilter/nfnetlink_queue || { cat $RES/cthelperd.log; echo "cthelperd did not start"; exit 1; }
"$CTHELPERD" -c $RES/cth.toml nft >$RES/cthelperd.nft && nft -f $RES/cthelperd.nft || { echo "ruleset failed"; exit 1; }
Q=30
rss() { sed -n "s/^$1:[[:space:]]*\([0-9]*\) kB/\1/p" /proc/$CTH_PID/status; }
RSS0=$(rss VmRSS)
cpu() { local a; read -ra a </proc/$CTH_PID/stat; echo $((a[13] + a[14])); }   # utime+stime, ticks
C0=$(cpu)
( while kill -0 $CTH_PID 2>/dev/null; do echo "$(date +%s.%N) $(rss VmRSS)"; sleep "$SAMPLE"; done ) >$RES/rss.txt &
SAMPLER=$!

cat >$RES/flood.py <<'EOF'
import ctypes, os, socket, struct, sys, time
n, q = int(sys.argv[1]), sys.argv[2]
libc = ctypes.CDLL(None, use_errno=True)
CLONE_NEWNET = 0x40000000
home = os.open("/proc/self/ns/net", os.O_RDONLY)
cli = os.open("/run/netns/client", os.O_RDONLY)
if libc.setns(cli, CLONE_NEWNET) != 0:
    sys.exit("setns client: errno %d" % ctypes.get_errno())
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_UDP)
libc.setns(home, CLONE_NEWNET)   # back: /proc/net is the router's again

def waiting():
    with open("/proc/net/netfilter/nfnetlink_queue") as f:
        for l in f:
            w = l.split()
            if w[0] == q:
                return int(w[2])
    return 0

body = b"\x00\x01flood.bin\x00octet\x00"
dsts = ("10.0.2.2", "10.0.2.3")
t0 = time.monotonic()
sent = 0
for i in range(n):
    sport = 1024 + (i // 2) % 64512
    udp = struct.pack("!HHHH", sport, 69, 8 + len(body), 0) + body
    s.sendto(udp, (dsts[i % 2], 0))
    sent += 1
    if sent % 128 == 0:
        while waiting() > 256:
            time.sleep(0.001)
print("sent %d in %.1f s (%.0f/s)" % (sent, time.monotonic() - t0, sent / (time.monotonic() - t0)))
EOF
ID0=$(awk -v q=$Q '$1 == q {print $8}' /proc/net/netfilter/nfnetlink_queue)
T0=$(date +%s%N)
python3 $RES/flood.py "$N" "$Q" || { echo "flood.py failed"; exit 1; }
for i in $(seq 100); do [[ $(awk -v q=$Q '$1 == q {print $3}' /proc/net/netfilter/nfnetlink_queue) == 0 ]] && break; sleep 0.1; done
T1=$(date +%s%N)
sleep 1
ID1=$(awk -v q=$Q '$1 == q {print $8}' /proc/net/netfilter/nfnetlink_queue)
QL=$(awk -v q=$Q '$1 == q {print "waiting="$3" dropped="$6" user_dropped="$7}' /proc/net/netfilter/nfnetlink_queue)
CT=$(conntrack -C); EXP=$(conntrack -L expect 2>/dev/null | grep -c .)
RSS1=$(rss VmRSS) HWM=$(rss VmHWM) C1=$(cpu)
kill $SAMPLER 2>/dev/null
PEAK=$(awk '$2 > m {m = $2} END {print m + 0}' $RES/rss.txt); ((HWM > PEAK)) && PEAK=$HWM
"$CTHELPERD" status >$RES/status.txt 2>&1
kill $CTH_PID; wait $CTH_PID 2>/dev/null
echo "flows=$N queue=$Q packets_queued=$((ID1 - ID0)) ($QL) wall_ms=$(((T1 - T0) / 1000000)) conntracks=$CT expectations=$EXP"
echo "cthelperd rss_kib before=$RSS0 after=$RSS1 peak=$PEAK (VmHWM $HWM, $(grep -c . $RES/rss.txt) samples; at 1/4 1/2 3/4: $(awk '{r[NR] = $2} END {print r[int(NR/4)+1], r[int(NR/2)+1], r[int(3*NR/4)+1]}' $RES/rss.txt)) cpu_ticks=$((C1 - C0)) ($(getconf CLK_TCK)/s)"
grep -E '^(tftp|helper) ' $RES/status.txt
grep -E 'passed unchanged' $RES/status.txt
if ((PEAK < 65536)); then echo "rss-bound ok: peak $PEAK KiB < 65536 KiB"; else echo "rss-bound EXCEEDED: peak $PEAK KiB >= 65536 KiB"; exit 1; fi
