# Kernel-path checks for `cthelperd run` inside the VM tier:
#   tests/vm/run --results target/kpath-res --script docs/kernel-path-vm-check.sh
# (script and results must live under the repo: the guest sees the host's / but has its own /tmp).
# Active FTP through masquerade, the rewritten PORT, conntrack -L expect, metrics, SIGTERM (exit 0,
# helper disabled and kept while referenced), new connections while stopped, restart reusing the
# registration, unregister, and the one-line error when nf_conntrack_ftp owns the name.
# tests/vm/run exports REPO and CTHELPERD into the guest (it runs a copy of this file).
REPO=${REPO:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
source "$REPO/tests/vm/guest/lib.sh"
CTH=${CTHELPERD:-$REPO/target/debug/cthelperd}
W=$(mktemp -d)
step() { echo; echo "=== $*"; }
fails=0
check() { if eval "$2"; then echo "ok: $1"; else echo "FAIL: $1"; fails=$((fails+1)); fi; }

for m in nf_conntrack_ftp nf_nat_ftp; do [[ -d /sys/module/$m ]] && echo "note: $m loaded"; done
ip link set lo up
net_setup masq || { echo "net setup failed"; exit 1; }

cat >"$W/cth.toml" <<EOF
[daemon]
metrics = "127.0.0.1:9469"
EOF
start() {
  RUST_LOG=debug "$CTH" --config "$W/cth.toml" run >>"$W/cth.log" 2>&1 &
  PID=$!
  for i in $(seq 1 100); do grep -q . /proc/net/netfilter/nfnetlink_queue 2>/dev/null && return 0; sleep 0.1; done
  echo "cthelperd did not bind"; cat "$W/cth.log"; return 1
}

mkdir -p "$W/root/pub" "$W/empty"; chmod 755 "$W/root" "$W/root/pub" "$W/empty"
head -c 300000 /dev/urandom >"$W/root/pub/data.bin"; chmod 644 "$W/root/pub/data.bin"
cat >"$W/vsftpd.conf" <<EOF
listen=YES
listen_ipv6=NO
listen_address=10.0.2.2
background=NO
anonymous_enable=YES
no_anon_password=YES
anon_root=$W/root
local_enable=NO
write_enable=NO
port_enable=YES
connect_from_port_20=NO
secure_chroot_dir=$W/empty
seccomp_sandbox=NO
log_ftp_protocol=YES
xferlog_enable=YES
xferlog_std_format=NO
vsftpd_log_file=$W/vsftpd.log
EOF
ip netns exec server vsftpd "$W/vsftpd.conf" >"$W/vsftpd.out" 2>&1 &
ip netns exec server tcpdump -i eth0 -nn -U -w "$W/srv.pcap" 'tcp port 21' 2>"$W/tcpdump.err" &
TDPID=$!
sleep 1
sleep 0.5

transfer() { # $1 = tag
  conntrack -E expect >"$W/expect.$1" 2>&1 &
  local EP=$!
  sleep 0.2
  ip netns exec client curl -s -S --max-time 20 --ftp-port - --disable-eprt "ftp://10.0.2.2/pub/data.bin" -o "$W/got.$1"
  local rc=$?
  sleep 0.3; kill $EP 2>/dev/null
  cmp -s "$W/got.$1" "$W/root/pub/data.bin"
  local same=$?
  echo "transfer $1: curl rc=$rc identical=$((same == 0))"
  return $(( rc != 0 || same != 0 ))
}

step "start cthelperd (default helpers, metrics on 127.0.0.1:9469)"
start || exit 1
nft -f "$REPO/nft/cthelperd.nft" || echo "FAIL: loading nft/cthelperd.nft"
nft list table inet cthelperd

step "active FTP (PORT) through masquerade"
check "transfer 1" "transfer 1"
echo "--- expectation events (conntrack -E expect):"; cat "$W/expect.1"
sleep 0.5; tcpdump -nn -A -r "$W/srv.pcap" 2>/dev/null >"$W/srv.txt"; cat "$W/tcpdump.err"
echo "--- PORT as the server received it (tcpdump in the server namespace):"; grep -ao 'PORT [0-9,]*' "$W/srv.txt"
check "server saw the router's address" "grep -aq 'PORT 10,0,2,1,' $W/srv.txt"
check "server never saw the client's address" "! grep -aq 'PORT 10,0,1,2,' $W/srv.txt"
echo "--- conntrack -L (control connection with helper):"; conntrack -L -p tcp --dport 21 2>/dev/null
echo "--- conntrack -L expect during a fresh PORT (hold the data connection back):"
ip netns exec client python3 - <<'PY' &
import ftplib, socket, time
f = ftplib.FTP("10.0.2.2", timeout=10); f.login()
s = socket.socket(); s.bind(("10.0.1.2", 0)); s.listen(1)
h, p = s.getsockname()
print(f.sendcmd("PORT %s,%d,%d" % (h.replace(".", ","), p >> 8, p & 255)), flush=True)
time.sleep(2)
f.close()
PY
PYPID=$!
sleep 2; conntrack -L expect 2>&1; wait $PYPID


step "metrics"
curl -s http://127.0.0.1:9469/metrics | grep -E '^cthelperd_' | sort
check "metrics count edited verdicts" "curl -s http://127.0.0.1:9469/metrics | grep -q 'cthelperd_verdicts_total{verdict=\"accept\",kind=\"edited\"}'"
check "metrics count expectations" "curl -s http://127.0.0.1:9469/metrics | grep -q 'cthelperd_expectations_total{helper=\"ftp\",path=\"ctnetlink\",result=\"created\"}'"

step "SIGTERM: clean exit, registration stays while the ruleset references it"
kill -TERM $PID; wait $PID; rc=$?
echo "exit status $rc"
check "exit 0 on SIGTERM" "[[ $rc == 0 ]]"
check "log says it stays registered" "grep -q 'stays registered' $W/cth.log"

step "while stopped: control traffic passes (fail-open), PORT not rewritten"
check "a new FTP connection works while cthelperd is stopped (helper disabled on SIGTERM)" "ip netns exec client curl -sS --max-time 10 ftp://10.0.2.2/pub/data.bin -o $W/got.p && cmp -s $W/got.p $W/root/pub/data.bin"

step "restart: reuse the registration, second transfer"
start || exit 1
check "log says reused" "grep -q 'reused the registration' $W/cth.log"
check "transfer 2 after restart" "transfer 2"

step "a second cthelperd while one runs: one-line error, the first keeps serving"
out=$("$CTH" run 2>&1); rc=$?
echo "exit $rc: $out"
check "exit 1 with one line naming the taken queue" "[[ $rc == 1 && \$(echo \"\$out\" | wc -l) == 1 && \"\$out\" == *'NFQUEUE 0 is bound by another process'* ]]"
check "transfer 3 through the first cthelperd" "transfer 3"

step "stop, delete the ruleset: unregister succeeds"
nft delete table inet cthelperd
kill -TERM $PID; wait $PID; rc=$?
check "exit 0" "[[ $rc == 0 ]]"
check "unregistered" "grep -q 'unregistered ftp/ipv4/tcp' $W/cth.log"

step "a kernel helper of the same name: one-line error"
kmod nf_conntrack_ftp
out=$("$CTH" run 2>&1); rc=$?
echo "exit $rc: $out"
check "exit 1 with one line naming nf_conntrack_ftp" "[[ $rc == 1 && \$(echo \"\$out\" | wc -l) == 1 && \"\$out\" == *nf_conntrack_ftp* ]]"

echo; echo "=== cthelperd log (tail)"; tail -n 40 "$W/cth.log" | sed 's/\x1b\[[0-9;]*m//g'
echo; echo "fails=$fails"
exit $((fails > 0))
