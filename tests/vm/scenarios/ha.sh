#!/bin/bash
# High availability: two routers with a shared address pair, Debian's conntrackd (FTFW over a sync
# link) syncing conntrack entries and expectations between them, a cthelperd on each.  The
# topology and the failover steps are in ha/ha-lib.sh, the configuration in docs/ha.md.
#   ha-ftp-v4-failover-cthelperd   one FTP control connection: PASV through router 1 (its
#                     cthelperd makes the expectation, conntrackd sends it to router 2), router 1
#                     fails, router 2 takes over (the addresses, conntrackd's commit); the data
#                     connection then opens through router 2 — the forward filter lets it in only
#                     as RELATED, i.e. by the synced expectation — and the download arrives whole;
#                     NOOP on the same control connection, and a second PASV download entirely
#                     through router 2 (router 2's cthelperd makes that expectation).
#   ha-ftp-v4-nosync-cthelperd     the negative control: the same with conntrackd syncing the
#                     conntrack entries but not the expectations (no ExpectationSync): the control
#                     connection survives the failover (NOOP answers), the data connection does
#                     not open (connect times out), so the failover scenario's data connection is
#                     the synced expectation's work.
#   ha-sip-v4-failover-cthelperd   a SIP call (sipp) through router 1, the callee's RTP flowing to
#                     the caller (the RTP flow came in by router 1's cthelperd's expectation); router
#                     1 fails mid-media, router 2 takes over; the media keeps arriving (counted at
#                     the caller after the take-over) and the BYE through router 2 ends the call
#                     (router 2's cthelperd queued it).
# Both routers' namespaces share this VM's one kernel: nfnetlink_cthelper's registrations are
# global (queues and conntrack tables are per namespace), so both daemons run with
# --shared-registration, and router 1's is stopped with SIGTERM in its failure: without the flag
# that stop would disable the helpers router 2 serves (the second FTP download and the BYE check
# it).  Own namespaces (ha-c ha-sw ha-r1 ha-r2 ha-s), deleted at the end; the lab is not touched.
# Exit 0 = PASS, 77 = SKIP, other = FAIL; the one-line reason is the last line of $RES/verdict.
set -uo pipefail
CTHVM_PACKAGES=(conntrackd conntrack vsftpd sip-tester python3 tcpdump curl)
CTHVM_TIMEOUT=150
cthvm_list() {
  echo "ha-ftp-v4-failover-cthelperd cthelperd=own"
  echo "ha-ftp-v4-nosync-cthelperd cthelperd=own"
  echo "ha-sip-v4-failover-cthelperd cthelperd=own"
}
source "$(dirname "${BASH_SOURCE[0]}")/../guest/scenario.sh" "$@"
IFS=- read -r _ PROTO FAM CASE HELPER <<<"$NAME"
[[ $FAM == v4 && $HELPER == cthelperd ]] || fail "bad scenario name $NAME"
case $PROTO-$CASE in ftp-failover|ftp-nosync|sip-failover) ;; *) fail "bad scenario name $NAME" ;; esac
HA_W=$W HA_RES=$RES
source "$VMDIR/scenarios/ha/ha-lib.sh"
command -v conntrackd >/dev/null || fail "conntrackd is not installed (Debian package conntrackd)"
log "scenario $NAME: proto=$PROTO case=$CASE kernel=$KVER conntrackd=$(conntrackd -v 2>&1 | head -n 1)"

# Every process of the scenario runs in the HA namespaces: they go first (scenario.sh's cleanup
# then waits for its children, the daemons among them).
ha_cleanup() {
  ha_teardown
  cleanup
  return 0
}
trap ha_cleanup EXIT

# ------------------------------------------------------------------------------------- lab
no_kernel_alg ftp
no_kernel_alg sip
# A clean start: no root-namespace ruleset of an earlier scenario (its `ct helper` objects would
# hold that scenario's registrations, with their policies), no registration.
command nft flush ruleset; rm -f "$RULESET_STATE" "$RULESET_STATE.dirty"
ha_teardown   # an HA lab a timed-out run left (its rulesets hold registrations)
delete_helper_registrations
ha_build || fail "building the HA namespaces failed"

# cthelperd's configuration on both routers: ftp and sip, the rest off; metrics on localhost
# (each namespace has its own).
{
  printf '[daemon]\nmetrics = "127.0.0.1:9469"\n\n'
  while read -r h _; do
    [[ $h == ftp || $h == sip ]] && continue
    printf '[helper."%s"]\nenabled = false\n\n' "$h"
  done <<<"$("$CTHELPERD" helpers | grep -E '^[^ ]+ \(')"
} >"$W/cthelperd.toml"
cp "$W/cthelperd.toml" "$RES/cthelperd.toml"
"$CTHELPERD" -c "$W/cthelperd.toml" nft >"$W/cthelperd.nft" || fail "cthelperd nft failed"
printf 'flush ruleset\ninclude "%s"\ninclude "%s"\n' "$VMDIR/nft/ha-router.nft" "$W/cthelperd.nft" >"$W/router.nft"
cp "$W/cthelperd.nft" "$RES/cthelperd.nft"

# conntrackd on both (the failover and sip cases sync expectations, nosync does not)
EXPSYNC=1; [[ $CASE == nosync ]] && EXPSYNC=0
ha_conntrackd_conf 1 $EXPSYNC
ha_conntrackd_conf 2 $EXPSYNC
ha_start_conntrackd 1 2 || fail "conntrackd did not start on both routers"

# cthelperd on both: router 1's registers the helpers, router 2's finds them registered (one
# kernel) and reuses them.
declare -A CPID=() NFTPID=()
cth_qfile() { echo "/proc/${CPID[$1]}/net/netfilter/nfnetlink_queue"; }   # the daemon's namespace's
cth_queued() { local a n=0; while read -r -a a; do n=$((n + ${a[7]:-0})); done <"$(cth_qfile "$1")" 2>/dev/null; echo $n; }
ha_start_cthelperd() {
  local n=$1 i l
  echo "---- $(ts) start router $n: $CTHELPERD -c $W/cthelperd.toml --control $W/cth-r$n.ctl run --shared-registration" >>"$RES/cthelperd-r$n.log"
  ip netns exec ha-r$n env RUST_LOG="${CTH_RUST_LOG:-debug}" "$CTHELPERD" -c "$W/cthelperd.toml" \
    --control "$W/cth-r$n.ctl" run --shared-registration >>"$RES/cthelperd-r$n.log" 2>&1 &
  CPID[$n]=$!
  echo "${CPID[$n]}" >>"$W/cthelperd.pids"   # stage2 kills what a timed-out scenario left
  for ((i = 0; i < 600; i++)); do
    kill -0 "${CPID[$n]}" 2>/dev/null || { cat "$RES/cthelperd-r$n.log"; fail "cthelperd on router $n exited before binding a queue"; }
    read -r l <"$(cth_qfile "$n")" 2>/dev/null && [[ -n $l ]] && return 0
    sleep 0.05
  done
  fail "cthelperd on router $n did not bind an NFQUEUE within 30 s"
}
ha_start_cthelperd 1
ha_start_cthelperd 2
grep -q "reused the registration" "$RES/cthelperd-r2.log" \
  || fail "router 2's cthelperd did not report reusing router 1's registrations (one kernel: they are global)"
nfct helper list >"$RES/nfct-helpers.txt" 2>&1
for n in 1 2; do   # both at once (nft is slow to start under TCG)
  ip netns exec ha-r$n nft -f "$W/router.nft" >"$RES/nft-r$n.err" 2>&1 &
  NFTPID[$n]=$!
done
for n in 1 2; do
  wait "${NFTPID[$n]}" || { cat "$RES/nft-r$n.err"; fail "loading router $n's ruleset failed"; }
done
ip netns exec ha-r1 nft list ruleset >"$RES/ruleset.txt" 2>&1
log "lab and helper ready"
echo "${EPOCHREALTIME/./}" >"$RES/ready_us"
for n in 1 2; do
  ip netns exec ha-r$n conntrack -E expect >"$W/expect-r$n.events" 2>&1 &
  PIDS+=($!)
done

# fail_over: router 1 fails (its cthelperd stopped with SIGTERM), router 2 takes over.
fail_over() {
  log "router 1 fails"
  ha_router_down
  # SIP: what arrives from now on cannot have come through router 1
  [[ $PROTO == sip ]] && N1=$(rtp) && log "router 1 is down: $N1 RTP packets so far"
  kill -TERM "${CPID[1]}"
  wait "${CPID[1]}"; local rc=$?
  ((rc == 0)) || log "router 1's cthelperd exited with $rc"
  log "router 2 takes over"
  ha_take_over || fail "router 2's take-over failed (see takeover.txt)"
  ip netns exec ha-r2 conntrack -L expect >"$RES/r2-expect-after-commit.txt" 2>&1
  log "---- router 2's expectations after the commit"; cat "$RES/r2-expect-after-commit.txt"
}
evidence() {
  local n p
  for p in "${PIDS[@]}"; do kill -INT "$p" 2>/dev/null; done
  sleep 0.3
  for n in 1 2; do
    cp "$W/expect-r$n.events" "$RES/" 2>/dev/null
    cp "$W/conntrackd-r$n.log" "$RES/" 2>/dev/null
  done
  cat "$RES/cthelperd-r1.log" "$RES/cthelperd-r2.log" >"$RES/cthelperd.log" 2>/dev/null
}

# ------------------------------------------------------------------------------------- FTP
if [[ $PROTO == ftp ]]; then
  mkdir -p "$W/ftproot/pub" "$W/empty" "$W/sync"; chmod 755 "$W/ftproot" "$W/ftproot/pub" "$W/empty"
  head -c 1048576 /dev/urandom >"$W/ftproot/pub/data.bin"; chmod 644 "$W/ftproot/pub/data.bin"
  SUM=$(sha256sum <"$W/ftproot/pub/data.bin" | cut -d' ' -f1)
  vsftpd_conf "$W/vsftpd.conf" "$W" listen=YES listen_ipv6=NO "listen_address=$HA_SRV" \
    pasv_enable=YES port_enable=YES pasv_min_port=50000 pasv_max_port=50000 log_ftp_protocol=YES \
    "vsftpd_log_file=$RES/vsftpd.log" accept_timeout=30 idle_session_timeout=300
  ip netns exec ha-s vsftpd "$W/vsftpd.conf" >"$RES/vsftpd.stderr" 2>&1 &
  PIDS+=($!)
  for ((i = 0; i < 100; i++)); do ip netns exec ha-s ss -Hltn "sport = :21" | grep -q . && break; sleep 0.1; done
  ip netns exec ha-s ss -Hltn "sport = :21" | grep -q . || { cat "$RES/vsftpd.stderr"; fail "vsftpd is not listening"; }
  sleep 0.3   # let `conntrack -E` subscribe
  ip netns exec ha-c /usr/bin/python3 "$VMDIR/scenarios/ha/ftp_failover.py" "$HA_SRV" "$HA_CLI" "$W/sync" \
    "$W/out1.bin" "$W/out2.bin" >"$RES/client.log" 2>&1 &
  CLIENT=$!
  for ((i = 0; i < 300; i++)); do [[ -e $W/sync/pasv-done ]] && break; kill -0 $CLIENT 2>/dev/null || break; sleep 0.1; done
  [[ -e $W/sync/pasv-done ]] || { cat "$RES/client.log"; fail "the client's PASV through router 1 did not complete"; }
  log "PASV answered through router 1"
  grep -q 'dport=50000' "$W/expect-r1.events" || { sleep 1; grep -q 'dport=50000' "$W/expect-r1.events"; } \
    || fail "router 1's cthelperd made no expectation for the PASV data connection"
  ha_wait_external 2 'dport=21 ' ct 15 || fail "router 2's conntrackd never received the control connection's conntrack"
  if ((EXPSYNC)); then
    ha_wait_external 2 'dport=50000 ' expect 15 || fail "router 2's conntrackd never received the PASV expectation"
  else
    sleep 0.5   # what would have come has come: the control connection's conntrack did
  fi
  ((EXPSYNC)) || ha_ctd 2 -e expect >"$RES/r2-external-expect.txt" 2>&1
  fail_over
  Q2=$(cth_queued 2)
  touch "$W/sync/failed-over"
  wait $CLIENT; CRC=$?
  Q2=$(($(cth_queued 2) - Q2))
  ip netns exec ha-r2 curl -s --max-time 5 http://127.0.0.1:9469/metrics >"$RES/metrics-r2.txt" 2>&1
  evidence
  log "---- client.log"; cat "$RES/client.log"
  log "router 2's cthelperd queued $Q2 packets after the take-over; client exit $CRC"
  grep -q 'RESULT step=noop ok' "$RES/client.log" || fail "the control connection did not survive the failover (no NOOP answer)"
  if [[ $CASE == nosync ]]; then
    grep -q 'dport=50000' "$RES/r2-expect-after-commit.txt" && fail "router 2 has the expectation although conntrackd does not sync expectations"
    grep -Eq 'RESULT step=data1 (timeout|refused|error)' "$RES/client.log" \
      || fail "the data connection opened through router 2 without the synced expectation: the failover scenario proves nothing"
    pass "without expectation sync the failover keeps the control connection (NOOP ok) but loses the data connection ($(grep -o 'step=data1 [a-z]*' "$RES/client.log"))"
  fi
  grep -q 'dport=50000' "$RES/r2-expect-after-commit.txt" || fail "conntrackd's commit did not put the expectation into router 2's table"
  ((CRC == 0)) || fail "the FTP session failed across the failover: $(grep RESULT "$RES/client.log" | tail -n 1)"
  for f in out1 out2; do
    [[ $(sha256sum <"$W/$f.bin" | cut -d' ' -f1) == "$SUM" ]] || fail "download $f differs from the served file"
  done
  ((Q2 >= 1)) || fail "router 2's cthelperd queued nothing after the take-over (the second PASV went unhelped)"
  grep -q 'dport=50000' "$W/expect-r2.events" || fail "router 2's cthelperd made no expectation for the second PASV"
  grep -q '^cthelperd_' "$RES/metrics-r2.txt" || fail "router 2's metrics endpoint (127.0.0.1:9469 in its namespace) did not answer"
  pass "FTP across the failover: the data connection of router 1's PASV opened through router 2 (synced expectation), both downloads whole, the second one helped by router 2's cthelperd"
fi

# ------------------------------------------------------------------------------------- SIP
SD=$VMDIR/scenarios/sip
MEDIA=(/usr/bin/python3 "$VMDIR/scenarios/ha/media.py")
KEYS=(-key cli_host "$HA_CLI" -key srv_host "$HA_SRV" -key cli_ip "$HA_CLI" -key srv_ip "$HA_SRV"
      -key ipv 4 -key tr UDP -key answer_ip "$HA_SRV")
ip netns exec ha-s tcpdump --immediate-mode -U -n -i eth0 -w "$W/server.pcap" 'udp port 5060' 2>"$W/tcpdump-server.err" &
PIDS+=($!)
for ((i = 0; i < 100; i++)); do grep -q listening "$W/tcpdump-server.err" && break; sleep 0.1; done
ip netns exec ha-c "${MEDIA[@]}" recv "$HA_CLI" 6000 "$W/rtp.status" "$W/rtp.stop" >"$RES/media-recv.txt" 2>&1 &
RECV=$!; PIDS+=($RECV)
for ((i = 0; i < 200; i++)); do [[ -f $W/rtp.status ]] && break; kill -0 $RECV 2>/dev/null || break; sleep 0.1; done
[[ -f $W/rtp.status ]] || { cat "$RES/media-recv.txt"; fail "the RTP receiver did not start"; }
ip netns exec ha-s "${MEDIA[@]}" send "$W/server.pcap" "$HA_SRV" 3000 20 "$W/rtp.stop" >"$RES/media-sent.txt" 2>&1 &
SENDER=$!; PIDS+=($SENDER)
ip netns exec ha-s sipp -sf "$SD/uas.xml" -t u1 -i "$HA_SRV" -p 5060 -m 1 -nostdin "${KEYS[@]}" \
  -timeout 90s -trace_msg -message_file "$RES/uas.msg" -trace_err -error_file "$RES/uas.err" >"$W/uas.screen" 2>&1 &
UAS=$!; PIDS+=($UAS)
for ((i = 0; i < 100; i++)); do ip netns exec ha-s ss -Hlun "sport = :5060" | grep -q . && break; sleep 0.1; done
# -mp: sipp binds an RTP echo port (6000 by default), the receiver's port here
ip netns exec ha-c sipp -sf "$SD/uac.xml" -t u1 -i "$HA_CLI" -p 5060 -mp 16000 -m 1 -nostdin -cid_str 'cth-call-%u' \
  "${KEYS[@]}" -timeout 90s -timeout_error -trace_msg -message_file "$RES/uac.msg" \
  -trace_err -error_file "$RES/uac.err" "$HA_SRV:5060" >"$W/uac.screen" 2>&1 &
UAC=$!; PIDS+=($UAC)
rtp() { local c= s; [[ -f $W/rtp.status ]] && read -r c s <"$W/rtp.status"; echo "${c:-0}"; }
for ((i = 0; i < 400; i++)); do
  (($(rtp) >= 25)) && break
  kill -0 $SENDER 2>/dev/null && kill -0 $RECV 2>/dev/null || break
  sleep 0.1
done
N0=$(rtp)
((N0 >= 25)) || { cat "$RES/media-sent.txt"; fail "the call's media did not reach the caller through router 1 ($N0 packets)"; }
log "media flowing through router 1: $N0 packets"
ha_wait_external 2 'dport=6000 ' ct 15 || fail "router 2's conntrackd never received the RTP flow's conntrack"
grep -q 'dport=5060 ' "$RES/r2-external-ct.txt" || fail "router 2's conntrackd has the RTP flow but not the SIP signalling conntrack"
ha_wait_external 2 'helper=sip' expect 5 || fail "router 2's conntrackd never received the call's expectations"
fail_over
for ((i = 0; i < 300; i++)); do (($(rtp) >= N1 + 50)) && break; kill -0 $SENDER 2>/dev/null || break; sleep 0.1; done
N2=$(rtp)
log "media through router 2: $((N2 - N1)) packets"
touch "$W/rtp.stop"
wait $SENDER
# the caller's cue to hang up (see sip.sh): an INFO inside the client namespace
printf 'INFO sip:uac@%s:5060 SIP/2.0\r\nVia: SIP/2.0/UDP %s:5099;branch=z9hG4bK-cth-media-over\r\nFrom: <sip:ha.sh@%s>;tag=ha.sh\r\nTo: <sip:uac@%s>\r\nCall-ID: cth-call-1\r\nCSeq: 1 INFO\r\nContent-Length: 0\r\n\r\n' \
  "$HA_CLI" "$HA_CLI" "$HA_CLI" "$HA_CLI" >"$W/info.txt"
Q2=$(cth_queued 2)
ip netns exec ha-c bash -c 'cat "$1" >"/dev/udp/$2/5060"' _ "$W/info.txt" "$HA_CLI" || log "sending the INFO cue failed"
for ((i = 0; i < 300; i++)); do kill -0 $UAC 2>/dev/null || break; sleep 0.1; done
wait $UAC; CRC=$?
Q2=$(($(cth_queued 2) - Q2))
evidence
read -r _ SENT _ <"$RES/media-sent.txt"
log "---- media: $(<"$RES/media-sent.txt"); the caller had received $N0 when the media was seen flowing, $N1 when router 1's links were down, $((N2 - N1)) after that ($N2 by then), lost in the failover: $((SENT - $(rtp))) of $SENT"
log "router 2's cthelperd queued $Q2 packets for the hang-up; caller exit $CRC"
((N2 - N1 >= 50)) || fail "the media stopped at the failover: $((N2 - N1)) RTP packets through router 2"
((CRC == 0)) || fail "the call did not end cleanly through router 2 (caller exit $CRC, see uac.err)"
((Q2 >= 2)) || fail "router 2's cthelperd did not see the BYE and its 200 ($Q2 packets queued)"
pass "SIP call across the failover: $N1 RTP packets through router 1, $((N2 - N1)) more through router 2 after router 1 went down, BYE helped by router 2's cthelperd"
