#!/bin/bash
# Amanda scenario, runs inside the VM (chroot into the host's /).  $1 = scenario name, $2 = result dir.
#   amanda-<fam>-dnat-<helper>          one sendbackup exchange: CONNECT DATA MESG INDEX
#   amanda-rewrite-<fam>-dnat-<helper>  two exchanges whose CONNECT lines name the same ports
#                                       (DATA MESG INDEX STATE) while the first's expectations are
#                                       pending: the second's ports clash, NAT picks other ports and
#                                       rewrites the digits
#   fam: v4 (v6 for the plain exchange as well); helper: none kernel cthelperd
# Topology (router-dnat.nft): amandad's host sits behind the router, which forwards udp/10080 to it;
# the backup server is outside and talks to the router's address.  The server's TCP connections to
# the stream ports of the CONNECT reply must be expected (and DNATed, following the master) by a
# helper.  The exchange is scripted (scenarios/amanda/peer.py), not Debian's amanda: see README.
# Exit 0 = PASS, 77 = SKIP, other = FAIL; the one-line reason is the last line of $RES/verdict.
set -uo pipefail
CTHVM_PACKAGES=(python3 tcpdump conntrack)
CTHVM_TIMEOUT=120
cthvm_list() {
  for h in none kernel cthelperd; do
    echo "amanda-v4-dnat-$h"
    echo "amanda-v6-dnat-$h"
    echo "amanda-rewrite-v4-dnat-$h"
  done
}
source "$(dirname "${BASH_SOURCE[0]}")/../guest/scenario.sh" "$@"
IFS=- read -r -a F <<<"$NAME"
if [[ ${F[1]} == rewrite ]]; then
  REWRITE=1 FAM=${F[2]} NET=${F[3]} HELPER=${F[4]}
  STREAMS=DATA:50001,MESG:50002,INDEX:50003,STATE:50004 NSESS=2
else
  REWRITE=0 FAM=${F[1]} NET=${F[2]} HELPER=${F[3]}
  STREAMS=DATA:50001,MESG:50002,INDEX:50003 NSESS=1
fi
SPORT=800                 # the backup server's udp port (session i: SPORT+i; bsd auth uses reserved ports)
mkdir -p "$W/sync"       # $W: tmpfs scratch (sync files)

[[ $NET == dnat ]] || fail "bad scenario name $NAME"
if [[ $FAM == v4 ]]; then
  AMD=10.0.1.2 SRV=10.0.2.2 RTR_S=10.0.2.1
else
  AMD=fd00:1::2 SRV=fd00:2::2 RTR_S=fd00:2::1
fi
log "scenario $NAME: fam=$FAM net=$NET helper=$HELPER streams=$STREAMS sessions=$NSESS kernel=$KVER"

# ------------------------------------------------------------------------------------- lab + helper
net_setup "$NET" || fail "network setup failed"
no_kernel_alg amanda
setup_helper amanda

# ------------------------------------------------------------------------------------- amandad side
PEER=$VMDIR/scenarios/amanda/peer.py
SEED=$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')   # stream contents differ every run
ip netns exec client /usr/bin/python3 "$PEER" responder "$AMD" "$SEED" "$STREAMS" >"$RES/responder.log" 2>&1 &
PIDS+=($!)
ip netns exec server tcpdump -U --immediate-mode -n -i eth0 -w "$RES/server.pcap" 'udp port 10080' 2>"$RES/tcpdump-server.err" &
PIDS+=($!)
ip netns exec client tcpdump -U --immediate-mode -n -i eth0 -w "$RES/client.pcap" 'udp port 10080' 2>"$RES/tcpdump-client.err" &
PIDS+=($!)
conntrack -E expect >"$RES/expect.events" 2>"$RES/expect.events.err" &
PIDS+=($!)
listening() { ip netns exec client ss -Hlun "sport = :10080" | grep -q . && ip netns exec client ss -Hltn "sport = :50001" | grep -q .; }
for ((i = 0; i < 150; i++)); do
  grep -q listening "$RES/tcpdump-server.err" && grep -q listening "$RES/tcpdump-client.err" && listening && break
  sleep 0.1
done
listening || { cat "$RES/responder.log"; fail "the amandad side is not listening"; }
log "amandad side and captures ready"
sleep 0.3   # let `conntrack -E` subscribe

# ------------------------------------------------------------------------------------- backup server
log "requester: $NSESS session(s) to $RTR_S:10080 from udp $SPORT.., streams $STREAMS"
t0=$(now_ms)
ip netns exec server /usr/bin/python3 "$PEER" requester "$RTR_S" "$SEED" "$STREAMS" "$NSESS" "$SPORT" "$W/sync" \
  >"$RES/requester.log" 2>&1 &
REQ_PID=$!
# master_timeout: right after the REPs (before the requester's ACK refreshes the flow as any UDP
# packet does), the masters' timeouts in the router.
for ((i = 0; i < 600; i++)); do [[ -e $W/sync/rep-received ]] && break; kill -0 $REQ_PID 2>/dev/null || break; sleep 0.05; done
conntrack -L -p udp --orig-port-dst 10080 >"$RES/master.txt" 2>/dev/null
touch "$W/sync/go"
wait $REQ_PID; RRC=$?
log "requester exit $RRC after $(( $(now_ms) - t0 )) ms"
sleep 0.5
for p in "${PIDS[@]:1}"; do kill -INT "$p" 2>/dev/null; done   # tcpdumps, conntrack -E
sleep 0.5

# ------------------------------------------------------------------------------------- evidence
log "---- requester.log"; cat "$RES/requester.log"
log "---- responder.log"; cat "$RES/responder.log"
log "---- master conntrack(s) after the REP"; cat "$RES/master.txt"
# Advertised port per stream (as sent by the responder)
declare -A ADV
IFS=, read -r -a SL <<<"$STREAMS"
for s in "${SL[@]}"; do ADV[${s%%:*}]=${s#*:}; done
ADVSET=" ${ADV[*]} "
# A port that NAT chose instead of the advertised one is random (kernel and cthelperd alike): it is
# checked below and written as R here, so the two runs compare.
norm_connect() {  # CONNECT line -> same with non-advertised ports as R
  local w out= name=
  for w in $1; do
    if [[ -n $name ]]; then [[ $w == "${ADV[$name]:-}" ]] || w=R; name=; elif [[ -n ${ADV[$w]:-} ]]; then name=$w; fi
    out+="${out:+ }$w"
  done
  echo "$out"
}
{
  grep '^responder > ' "$RES/responder.log"
  grep '^requester < ' "$RES/requester.log" | while IFS= read -r l; do norm_connect "$l"; done
} >"$RES/wire.norm"
# Expectations: drop the timeout; the expected tuple's port (the first dport=) as R when NAT chose it.
sed -E 's/^ *\[([A-Z]+)\] +[0-9]+ /\1 /; s/^ *\[([A-Z]+)\] +/\1 /' "$RES/expect.events" | grep -v '^$' |
  awk -v adv="$ADVSET" '{
    if (match($0, /dport=[0-9]+ /) && !index(adv, " " substr($0, RSTART + 6, RLENGTH - 7) " "))
      $0 = substr($0, 1, RSTART - 1) "dport=R " substr($0, RSTART + RLENGTH)
    print
  }' >"$RES/expect.norm"
log "---- wire.norm"; cat "$RES/wire.norm"
log "---- expect.norm (conntrack -E expect)"; cat "$RES/expect.norm"

# ------------------------------------------------------------------------------------- verdict
NEXP=$(grep -c '^NEW ' "$RES/expect.norm")
NSTREAMS=$(( ${#SL[@]} * NSESS ))
NOK=$(grep -c '^requester: session [0-9]* [A-Z]* [0-9]* ok ' "$RES/requester.log")
NREQ=$(grep -c "^responder: REQ from $SRV port " "$RES/responder.log")
NREP=$(grep -c '^requester < CONNECT ' "$RES/requester.log")
# The UDP exchange must work in every mode (port forward + established): otherwise a broken lab
# would pass as "failed without a helper".
((NREQ >= NSESS)) || fail "the REQ did not reach amandad's side from $SRV (lab broken?)"
((NREP == NSESS)) || fail "the backup server got $NREP CONNECT replies of $NSESS (lab broken?)"
TMO=$(awk '{ print $3; exit }' "$RES/master.txt")
[[ $TMO =~ ^[0-9]+$ ]] || fail "no master conntrack for udp/10080 in the router"

if [[ $HELPER == none ]]; then
  ((NEXP == 0)) || fail "expectations appeared without a helper"
  ((NOK == 0)) && ((RRC != 0)) || fail "$NOK stream connection(s) succeeded without a helper"
  ((TMO <= 180)) || fail "master timeout $TMO s without a helper (expected the UDP default)"
  pass "all $NSTREAMS stream connections failed without a helper, as they must; master timeout $TMO s"
fi

((RRC == 0)) && ((NOK == NSTREAMS)) || fail "$NOK of $NSTREAMS stream connections ok with the $HELPER helper (requester exit $RRC)"
((NEXP == NSTREAMS)) || fail "$NEXP expectations, $NSTREAMS streams"
# master_timeout (300 s) replaced the UDP timeout of the masters on the REP
while read -r _ _ t _; do
  ((t > 200)) || fail "master timeout $t s after the REP: master_timeout (300 s) not applied"
done <"$RES/master.txt"
if ((REWRITE)); then
  # session 0 keeps the advertised ports; session 1's clash: each port rewritten, >= the advertised
  # one (nf_nat_exp_find_port: port + random % (65535 - port)), and the connection to the new port
  # reached the advertised one (the responder listens there only)
  grep '^requester < CONNECT ' "$RES/requester.log" >"$W/connect.txt"   # (no /dev/fd in the guest)
  mapfile -t LINES <"$W/connect.txt"
  [[ $(norm_connect "${LINES[0]}") == "${LINES[0]}" ]] || fail "session 0's ports were rewritten: ${LINES[0]}"
  read -r -a w <<<"${LINES[1]#requester < CONNECT }"
  for ((k = 0; k < ${#w[@]}; k += 2)); do
    n=${w[k]} p=${w[k + 1]} a=${ADV[${w[k]}]}
    ((p != a && p > a && p <= 65535)) || fail "session 1's $n port $p: not a NAT-chosen port above $a"
  done
  REW="session 1 rewritten to ${LINES[1]#requester < CONNECT }; "
fi
if [[ $HELPER == kernel ]]; then
  pass "$NOK/$NSTREAMS streams ok, $NEXP expectations; ${REW:-}master timeout $TMO s; reference recorded"
fi
same_as_kernel expect.norm wire.norm
pass "$NOK/$NSTREAMS streams ok; ${REW:-}master timeout $TMO s; expectations and CONNECT lines identical to the kernel ALG's"
