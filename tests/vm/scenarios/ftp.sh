#!/bin/bash
# FTP scenario, runs inside the VM (chroot into the host's /).  $1 = scenario name, $2 = result dir.
#   ftp-<cmd>-<fam>-<net>-<helper>     cmd: port eprt pasv epsv; fam: v4 v6; net: masq nonat;
#                                      helper: none kernel cthelperd
#   ftp-restart-<cmd>-<fam>-<net>      cthelperd killed (-9) and restarted in the middle of one
#                                      control connection (python ftplib client, two transfers)
# Exit 0 = PASS, 77 = SKIP, other = FAIL; the one-line reason is the last line of $RES/verdict.
set -uo pipefail
CTHVM_PACKAGES=(vsftpd curl python3 tcpdump conntrack)
CTHVM_TIMEOUT=120
cthvm_list() {
  # cmd port eprt pasv epsv (v6: eprt epsv only — PORT/PASV cannot carry IPv6 addresses);
  # net masq (router masquerades the client; forward filter lets the client open anything) |
  # nonat (no NAT; forward filter: established,related + new tcp dport 21 from the client)
  for h in none kernel cthelperd; do
    for f in v4 v6; do
      for n in masq nonat; do
        for c in port eprt pasv epsv; do
          [[ $f == v6 && ( $c == port || $c == pasv ) ]] && continue
          echo "ftp-$c-$f-$n-$h"
        done
      done
    done
  done
  # these kill and restart cthelperd: a daemon of their own
  echo "ftp-restart-port-v4-masq group=cthelperd cthelperd=own"
  echo "ftp-restart-epsv-v6-nonat group=cthelperd cthelperd=own"
}
source "$(dirname "${BASH_SOURCE[0]}")/../guest/scenario.sh" "$@"
IFS=- read -r _ a b c d e <<<"$NAME"
if [[ $a == restart ]]; then
  RESTART=1 CMD=$b FAM=$c NET=$d HELPER=cthelperd
else
  RESTART=0 CMD=$a FAM=$b NET=$c HELPER=$d
fi

if [[ $FAM == v4 ]]; then
  SRV=10.0.2.2 CLI=10.0.1.2 RTR_S=10.0.2.1 URLHOST=10.0.2.2
else
  SRV=fd00:2::2 CLI=fd00:1::2 RTR_S=fd00:2::1 URLHOST="[fd00:2::2]"
  RTR_S_FULL=fd00:0002:0000:0000:0000:0000:0000:0001   # the kernel's nf_nat_ftp prints EPRT with %pI6
fi
case $CMD in port|eprt) ACTIVE=1 ;; pasv|epsv) ACTIVE=0 ;; *) fail "bad scenario name $NAME" ;; esac
# Does the transfer need a helper?  nonat: the filter admits only the control connection.
# masq: active mode needs the PORT/EPRT address rewritten (vsftpd refuses a foreign address, and the
# server may not open connections into the client network); passive works without a helper.
NEEDS_HELPER=0
[[ $NET == nonat || $ACTIVE == 1 ]] && NEEDS_HELPER=1

log "scenario $NAME: cmd=$CMD fam=$FAM net=$NET helper=$HELPER restart=$RESTART needs_helper=$NEEDS_HELPER kernel=$KVER"

# ------------------------------------------------------------------------------------- lab + helper
net_setup "$NET" || fail "network setup failed"
no_kernel_alg ftp
setup_helper ftp

# ------------------------------------------------------------------------------------- FTP server
mkdir -p "$W/ftproot/pub" "$W/empty"; chmod 755 "$W/ftproot" "$W/ftproot/pub" "$W/empty"
head -c 1048576 /dev/urandom >"$W/ftproot/pub/data.bin"; chmod 644 "$W/ftproot/pub/data.bin"
SUM=$(sha256sum <"$W/ftproot/pub/data.bin" | cut -d' ' -f1)
if [[ $FAM == v4 ]]; then LISTEN=(listen=YES listen_ipv6=NO "listen_address=$SRV")
else LISTEN=(listen=NO listen_ipv6=YES "listen_address6=$SRV"); fi
vsftpd_conf "$W/vsftpd.conf" "$W" "${LISTEN[@]}" pasv_enable=YES port_enable=YES pasv_min_port=50000 \
  pasv_max_port=50000 connect_from_port_20=YES xferlog_enable=YES xferlog_std_format=NO \
  log_ftp_protocol=YES "vsftpd_log_file=$RES/vsftpd.log" accept_timeout=15 connect_timeout=15 \
  data_connection_timeout=60 idle_session_timeout=300
: >"$RES/vsftpd.log"
log "server files ready"
ip netns exec server vsftpd "$W/vsftpd.conf" >"$RES/vsftpd.stderr" 2>&1 &
PIDS+=($!)

# captures: control connection at both ends, expectation events + polled list in the router
ip netns exec server tcpdump -U -n -i eth0 -w "$RES/server.pcap" 'tcp port 21' 2>"$RES/tcpdump-server.err" &
PIDS+=($!)
ip netns exec client tcpdump -U -n -i eth0 -w "$RES/client.pcap" 'tcp port 21' 2>"$RES/tcpdump-client.err" &
PIDS+=($!)
conntrack -E expect >"$RES/expect.events" 2>"$RES/expect.events.err" &
PIDS+=($!)
for ((i = 0; i < 100; i++)); do
  grep -q listening "$RES/tcpdump-server.err" && grep -q listening "$RES/tcpdump-client.err" &&
    ip netns exec server ss -Hltn "sport = :21" | grep -q . && break
  sleep 0.1
done
ip netns exec server ss -Hltn "sport = :21" | grep -q . || { cat "$RES/vsftpd.stderr"; fail "vsftpd is not listening"; }
log "server and captures ready"
sleep 0.3   # let `conntrack -E` subscribe

# ------------------------------------------------------------------------------------- client
MAXT=60; ((NEEDS_HELPER)) && [[ $HELPER == none ]] && MAXT=8   # expected failure: short timeout
OUT=$W/out.bin
if ((RESTART == 0)); then
  CURL=(curl -g -sS -v --max-time "$MAXT" --local-port 30000-30009 -o "$OUT")
  case $CMD in
    port) CURL+=(-P "$CLI:40000" --disable-eprt) ;;
    eprt) CURL+=(-P "$([[ $FAM == v6 ]] && echo "[$CLI]" || echo "$CLI"):40000") ;;
    pasv) CURL+=(--ftp-pasv --disable-epsv) ;;
    epsv) CURL+=(--ftp-pasv) ;;
  esac
  CURL+=("ftp://$URLHOST/pub/data.bin")
  log "client: ${CURL[*]}"
  t0=$(now_ms)
  ip netns exec client "${CURL[@]}" >"$RES/client.log" 2>&1
  CRC=$?
  log "client exit $CRC after $(( $(now_ms) - t0 )) ms"
else
  [[ $HELPER == cthelperd ]] || fail "restart scenarios need cthelperd"
  SYNC=$W/sync; mkdir -p "$SYNC"
  ip netns exec client /usr/bin/python3 "$VMDIR/scenarios/ftp_twice.py" "$SRV" "$CMD" "$CLI" "$SYNC" \
     "$W/out1.bin" "$W/out2.bin" >"$RES/client.log" 2>&1 &
  CLIENT_PID=$!
  for ((i = 0; i < 600; i++)); do [[ -e $SYNC/first-done ]] && break; kill -0 $CLIENT_PID 2>/dev/null || break; sleep 0.1; done
  [[ -e $SYNC/first-done ]] || { cat "$RES/client.log"; fail "first transfer did not complete"; }
  log "first transfer done; kill -9 cthelperd ($CTH_PID)"
  kill -9 "$CTH_PID"; wait "$CTH_PID" 2>/dev/null
  for ((i = 0; i < 50; i++)); do cth_ready || break; sleep 0.1; done
  cth_ready && fail "queue still bound after kill -9"
  touch "$SYNC/dead"
  for ((i = 0; i < 300; i++)); do [[ -e $SYNC/control-ok || -e $SYNC/control-failed ]] && break; sleep 0.1; done
  [[ -e $SYNC/control-ok ]] || { cat "$RES/client.log"; fail "control traffic did not pass while cthelperd was dead (fail-open)"; }
  log "control traffic passed while cthelperd was dead; restarting it"
  start_cthelperd; rc=$?
  ((rc == 0)) || { cth_log; fail "restart of cthelperd failed: $CTH_MSG"; }
  touch "$SYNC/go"
  wait $CLIENT_PID; CRC=$?
  log "client exit $CRC"
fi

sleep 0.5
for p in "${PIDS[@]:1}"; do kill -INT "$p" 2>/dev/null; done   # tcpdumps, conntrack -E, poll loop
sleep 0.5

# ------------------------------------------------------------------------------------- evidence
# Control-channel text as vsftpd saw it (server side) and as curl saw it (client side).
sed -n 's/.*FTP command: Client "[^"]*", "\(.*\)"$/> \1/p; s/.*FTP response: Client "[^"]*", "\(.*\)"$/< \1/p' \
  "$RES/vsftpd.log" | grep -E '^(> (PORT|EPRT|PASV|EPSV|RETR)|< (2[0-9][0-9]|[45][0-9][0-9]|150))' \
  | grep -vE '^< (230|220|215|250|257|211|213|221|200 Switching)' | sed 's/^/server /' >"$RES/wire.norm"
if ((RESTART == 0)); then
  sed -n 's/\r$//; s/^\([<>]\) \(PORT\|EPRT\|PASV\|EPSV\|RETR\|227\|229\|200 PORT\|200 EPRT\|150\|226\|425\|500\|501\)/\1 \2/p' \
    "$RES/client.log" | sed 's/^/client /' >>"$RES/wire.norm"
else
  grep -E '^(client [<>] )' "$RES/client.log" >>"$RES/wire.norm"
fi
# Expectations: drop the timeout, keep everything else (tuples, masks, master, class, helper).
sed -E 's/^ *\[([A-Z]+)\] +[0-9]+ /\1 /; s/^ *\[([A-Z]+)\] +/\1 /' "$RES/expect.events" | grep -v '^$' >"$RES/expect.norm"
log "---- wire.norm"; cat "$RES/wire.norm"
log "---- expect.norm (conntrack -E expect)"; cat "$RES/expect.norm"
log "---- client.log (tail)"; tail -n 25 "$RES/client.log"

# ------------------------------------------------------------------------------------- verdict
ok_transfer() {
  local f
  for f in "$@"; do
    [[ -f $f ]] || return 1
    [[ $(sha256sum <"$f" | cut -d' ' -f1) == "$SUM" ]] || return 1
  done
}
CMDUP=${CMD^^}
NEXP=$(grep -c '^NEW ' "$RES/expect.norm")

if [[ $HELPER == none ]]; then
  # the failure must be the data connection's, not a broken lab or control connection
  grep -q "^server > $CMDUP" "$RES/wire.norm" || fail "the $CMDUP command never reached the server (lab or control connection broken)"
  ((NEXP == 0)) || fail "expectations appeared without a helper"
  if ((NEEDS_HELPER)); then
    ((CRC != 0)) && ! ok_transfer "$OUT" && pass "transfer failed without a helper, as it must (curl exit $CRC)"
    fail "transfer succeeded without a helper although $NET/$CMD needs one"
  fi
  ((CRC == 0)) && ok_transfer "$OUT" || fail "transfer failed (curl exit $CRC) although $NET/$CMD needs no helper"
  pass "transfer ok without a helper (none needed for $NET/$CMD)"
fi

if ((RESTART)); then
  ((CRC == 0)) || fail "client failed (exit $CRC)"
  ok_transfer "$W/out1.bin" "$W/out2.bin" || fail "a downloaded file differs from the served one"
  ((NEXP >= 2)) || fail "expected an expectation per transfer (before and after the restart), saw $NEXP"
  pass "both transfers ok; control passed while cthelperd was dead; second transfer after restart ok"
fi

((CRC == 0)) || fail "transfer failed with the $HELPER helper (curl exit $CRC: $(grep '^curl:' "$RES/client.log" | tail -n 1))"
grep -q "^server > $CMDUP" "$RES/wire.norm" || fail "the $CMDUP command never reached the server"
ok_transfer "$OUT" || fail "downloaded file differs from the served one"
((NEXP >= 1)) || fail "transfer ok but no expectation was created (did the data connection bypass the helper?)"
if [[ $NET == masq && $ACTIVE == 1 ]]; then
  grep -Eq "^server > (PORT ${RTR_S//./,},|EPRT \|[12]\|($RTR_S|${RTR_S_FULL:-$RTR_S})\|)" "$RES/wire.norm" \
    || fail "the $CMDUP address reaching the server is not the router's ($RTR_S)"
fi
if [[ $HELPER == kernel ]]; then
  pass "transfer ok (sha256 match), $NEXP expectation(s); reference recorded"
fi
# cthelperd: same expectations and same wire text as the kernel's ALG
same_as_kernel expect.norm wire.norm
pass "transfer ok (sha256 match); expectations and wire text identical to the kernel ALG's"
