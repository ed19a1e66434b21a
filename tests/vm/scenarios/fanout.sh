#!/bin/bash
# Fan-out: one helper over two queues (issue 14).  cthelperd of its own with `[helper.ftp] queue = 20,
# queues = 2`: it registers "ftp" on NFQUEUE 20 and "ftp-1" on 21, and `cthelperd nft -c CONFIG`
# declares both `ct helper` objects and assigns each new control connection one of them with a
# jhash map (`ct helper set jhash ip saddr . tcp sport mod 2 map { 0 : "ftp", 1 : "ftp-1" }`, and
# the same with ip6 saddr).
#   fanout-ftp-masq-cthelperd   16 FTP sessions through the masquerading router, one python3 ftplib
#     process: IPv4 and IPv6 alternating, active (PORT / EPRT: need the address rewrite) and passive
#     (PASV / EPSV), each downloading a file (sha256 checked).  Then the configuration goes back to
#     queues = 1: its ruleset is loaded, `cthelperd reload` deletes "ftp-1", and one more active
#     session works on "ftp".
# Verdict: every session ok; every session's control conntrack (conntrack -L, by its source port)
# has helper=ftp or helper=ftp-1 and both names occur; both queues moved (id_sequence in
# /proc/net/netfilter/nfnetlink_queue); `cthelperd status --format json` shows packets and
# expectations for both instances; after the reload nfct lists no ftp-1, status no ftp-1, and the
# last session is on ftp.  With the flows all on one queue (a broken fan-out) it fails.
# 16 sessions: the chance that the hash puts all on one instance is 2/2^16.
# Exit 0 = PASS, 77 = SKIP, other = FAIL; the one-line reason is the last line of $RES/verdict.
set -uo pipefail
CTHVM_PACKAGES=(vsftpd python3 conntrack nfct nftables)
CTHVM_TIMEOUT=180
cthvm_list() {
  echo "fanout-ftp-masq-cthelperd cthelperd=own"
}
source "$(dirname "${BASH_SOURCE[0]}")/../guest/scenario.sh" "$@"
HELPER=cthelperd
Q0=20 Q1=21 N=16

printf '[helper.ftp]\nqueue = %d\nqueues = 2\n' "$Q0" >"$W/fanout.toml"
printf '[helper.ftp]\nqueue = %d\nqueues = 1\n' "$Q0" >"$W/single.toml"
CTH_ARGS=(-c "$W/fanout.toml")

net_setup masq || fail "network setup failed"
no_kernel_alg ftp
cthelperd_up
"$CTHELPERD" -c "$W/fanout.toml" nft >"$W/fanout.nft" || fail "cthelperd nft -c fanout.toml failed"
cp "$W/fanout.nft" "$RES/fanout.nft"
grep -q 'jhash ip saddr . tcp sport mod 2 map { 0 : "ftp", 1 : "ftp-1" }' "$W/fanout.nft" \
  || fail "the generated ruleset has no jhash map over ftp and ftp-1"
ruleset_add "$W/fanout.nft"
helper_ready
grep -q 'ftp-1' "$RES/nfct-helpers.txt" || fail "ftp-1 is not registered (nfct helper list)"

# Two vsftpd, one per family (the lab's addresses), passive data port 50000.
mkdir -p "$W/ftproot/pub" "$W/empty"; chmod 755 "$W/ftproot" "$W/ftproot/pub" "$W/empty"
head -c 65536 /dev/urandom >"$W/ftproot/pub/data.bin"; chmod 644 "$W/ftproot/pub/data.bin"
SUM=$(sha256sum <"$W/ftproot/pub/data.bin" | cut -d' ' -f1)
for fam in v4 v6; do
  if [[ $fam == v4 ]]; then L=(listen=YES listen_ipv6=NO listen_address=10.0.2.2)
  else L=(listen=NO listen_ipv6=YES listen_address6=fd00:2::2); fi
  vsftpd_conf "$W/vsftpd-$fam.conf" "$W" "${L[@]}" pasv_enable=YES port_enable=YES \
    pasv_min_port=50000 pasv_max_port=50000 connect_from_port_20=YES xferlog_enable=NO \
    accept_timeout=15 connect_timeout=15 data_connection_timeout=60
  ip netns exec server vsftpd "$W/vsftpd-$fam.conf" >"$RES/vsftpd-$fam.stderr" 2>&1 &
  PIDS+=($!)
done
for ((i = 0; i < 100; i++)); do
  (($(ip netns exec server ss -Hltn "sport = :21" | grep -c .) >= 2)) && break
  sleep 0.1
done
(($(ip netns exec server ss -Hltn "sport = :21" | grep -c .) >= 2)) || fail "the two vsftpd are not listening"

cat >"$W/sessions.py" <<'EOF'
import ftplib, hashlib, sys
want, n, first = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
for i in range(first, first + n):
    v6 = i % 2 == 1
    active = (i // 2) % 2 == 0
    host = "fd00:2::2" if v6 else "10.0.2.2"
    what = ("v6" if v6 else "v4") + (" active" if active else " passive")
    sport = 0
    try:
        f = ftplib.FTP(timeout=30)
        f.connect(host, 21)
        sport = f.sock.getsockname()[1]
        f.login()
        f.set_pasv(not active)
        h = hashlib.sha256()
        f.retrbinary("RETR pub/data.bin", h.update)
        f.quit()
        r = "ok" if h.hexdigest() == want else "bad-sha256"
    except Exception as e:
        r = "failed %r" % (e,)
    print("session %d %s sport %d %s" % (i, what, sport, r), flush=True)
EOF
t0=$(now_ms)
ip netns exec client python3 "$W/sessions.py" "$SUM" "$N" 0 >"$RES/sessions.txt" 2>&1
log "$N sessions in $(($(now_ms) - t0)) ms"; cat "$RES/sessions.txt"
conntrack -L -p tcp --dport 21 >"$RES/conntrack.txt" 2>/dev/null   # both families
cat /proc/net/netfilter/nfnetlink_queue >"$RES/proc-queues.txt"
"$CTHELPERD" status --format json >"$RES/status.json" 2>&1 || fail "cthelperd status --format json failed"

# Each session: ok, and its control conntrack (original sport) has one of the two helpers.
declare -A ON=() HOF=()   # flows per helper; helper of each original source port
while read -r l; do
  [[ $l =~ sport=([0-9]+)\ dport=21\ .*helper=([^ ]+) ]] && HOF[${BASH_REMATCH[1]}]=${BASH_REMATCH[2]}
done <"$RES/conntrack.txt"
nok=0
while read -r _ i fam mode _ sport r; do
  [[ $r == ok ]] || fail "session $i ($fam $mode) $r"
  h=${HOF[$sport]:-}
  [[ -n $h ]] || fail "session $i: no conntrack with a helper for sport $sport"
  [[ $h == ftp || $h == ftp-1 ]] || fail "session $i: helper=$h, not ftp or ftp-1"
  ON[$h]=$((${ON[$h]:-0} + 1)); nok=$((nok + 1))
done <"$RES/sessions.txt"
((nok == N)) || fail "$nok of $N sessions reported"
((${ON[ftp]:-0} > 0 && ${ON[ftp-1]:-0} > 0)) || fail "all flows on one instance: ftp ${ON[ftp]:-0}, ftp-1 ${ON[ftp-1]:-0}"

idseq() { local q p t c r d u id x; while read -r q p t c r d u id x; do [[ $q == "$1" ]] && { echo "$id"; return; }; done <"$RES/proc-queues.txt"; echo 0; }
S0=$(idseq "$Q0") S1=$(idseq "$Q1")
((S0 > 0 && S1 > 0)) || fail "a queue did not move: NFQUEUE $Q0 id_sequence $S0, $Q1 $S1"

# status: per instance packets and expectations (created over ctnetlink or carried in a verdict).
status_of() { # NAME -> "packets expectations"
  local cur= l p=0 e=0
  while read -r l; do
    [[ $l =~ \"name\":\ \"([^\"]+)\" ]] && cur=${BASH_REMATCH[1]}
    [[ $cur == "$1" ]] || continue
    [[ $l =~ \"packets\":\ ([0-9]+) ]] && p=${BASH_REMATCH[1]}
    [[ $l =~ \"expectations_(created|in_verdict)\":\ ([0-9]+) ]] && e=$((e + BASH_REMATCH[2]))
  done <"$RES/status.json"
  echo "$p $e"
}
read -r P0 E0 <<<"$(status_of ftp)"; read -r P1 E1 <<<"$(status_of ftp-1)"
log "flows: ftp ${ON[ftp]} ftp-1 ${ON[ftp-1]}; queues $Q0/$Q1 id_sequence $S0/$S1; status packets $P0/$P1 expectations $E0/$E1"
((P0 > 0 && P1 > 0)) || fail "status: packets ftp $P0, ftp-1 $P1"
((E0 >= ${ON[ftp]} && E1 >= ${ON[ftp-1]})) || fail "status: expectations ftp $E0 (flows ${ON[ftp]}), ftp-1 $E1 (flows ${ON[ftp-1]})"

# Back to one queue: the ruleset without ftp-1 first, then the reload deletes the registration.
"$CTHELPERD" -c "$W/single.toml" nft >"$W/single.nft" || fail "cthelperd nft -c single.toml failed"
nft -f "$W/single.nft" || fail "loading the single-queue ruleset failed"
cp "$W/single.toml" "$W/fanout.toml"
"$CTHELPERD" reload >"$RES/reload.txt" 2>&1 || { cat "$RES/reload.txt"; fail "cthelperd reload failed"; }
cat "$RES/reload.txt"
nfct helper list >"$RES/nfct-reloaded.txt" 2>&1
grep -q '"ftp-1"\|name = ftp-1\|ftp-1' "$RES/nfct-reloaded.txt" && fail "ftp-1 still registered after the reload to queues = 1"
grep -q 'ftp' "$RES/nfct-reloaded.txt" || fail "ftp not registered after the reload"
"$CTHELPERD" status --format json >"$RES/status-reloaded.json" 2>&1 || fail "status after the reload failed"
grep -q '"name": "ftp-1"' "$RES/status-reloaded.json" && fail "status still lists ftp-1 after the reload"
ip netns exec client python3 "$W/sessions.py" "$SUM" 1 "$N" >"$RES/session-after.txt" 2>&1
read -r _ i fam mode _ sport r <"$RES/session-after.txt"
[[ $r == ok ]] || fail "session after the reload ($fam $mode): $r"
line=$(conntrack -L -p tcp --dport 21 2>/dev/null | grep -E "sport=$sport dport=21 " | head -n 1)
[[ $line =~ helper=([^ ]+) ]] && [[ ${BASH_REMATCH[1]} == ftp ]] || fail "session after the reload: not on ftp ($line)"
pass "$N sessions ok (v4+v6, active+passive): ftp ${ON[ftp]} flows, ftp-1 ${ON[ftp-1]}; NFQUEUE $Q0/$Q1 id_sequence $S0/$S1; reload to queues = 1 removed ftp-1"
