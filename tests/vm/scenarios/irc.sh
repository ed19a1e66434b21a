#!/bin/bash
# IRC DCC scenarios, run inside the VM (chroot into the host's /).  $1 = scenario name, $2 = result dir.
#   irc-<case>-<fam>-masq-<helper>    fam: v4 v6; helper: none kernel cthelperd
# Server: ngircd (Debian's package) in the server namespace.  Sender: scenarios/irc/dcc_send.py in
# the client namespace (behind the masquerading router) offers DCC connections to the receiver,
# scenarios/irc/dcc_recv.py in the server namespace, which connects to what the offer advertises.
# Cases (see tests/vm/README.md):
#   dccsend  one DCC SEND of a 1 MiB file
#   kinds    SEND CHAT MOVE TSEND SCHAT offers in one session, every one connected
#   resize   the rewrite changes the line's length (IPv4: the client at 192.168.100.2, 10 digits ->
#            9; IPv6: the client writes its address uncompressed), then the stream must go on
#   forged   an offer advertising an address other than the client's (no expectation, no rewrite),
#            then a genuine one (must work)
#   maxdcc   max_dcc_channels=2, three offers: the oldest expectation is evicted
#   timeout  dcc_timeout=3, the receiver connects after 6 s: the expectation is gone
# Exit 0 = PASS, other = FAIL (stage2 also knows 77 = SKIP; not used here); the one-line reason is the last line of $RES/verdict.
set -uo pipefail
CTHVM_PACKAGES=(ngircd python3 tcpdump conntrack)
CTHVM_TIMEOUT=180
cthvm_list() {
  for h in none kernel cthelperd; do
    echo "irc-dccsend-v4-masq-$h"
    # the kernel's IRC helper is IPv4-only: its v6 scenario passes when the kernel does NOT help
    echo "irc-dccsend-v6-masq-$h"
  done
  # resize v4 adds a client address and a route to the lab: a fresh lab before and after it
  echo "irc-kinds-v4-masq-kernel"; echo "irc-kinds-v4-masq-cthelperd"; echo "irc-kinds-v6-masq-cthelperd"
  echo "irc-resize-v4-masq-kernel lab=fresh"; echo "irc-resize-v4-masq-cthelperd lab=fresh"
  echo "irc-resize-v6-masq-cthelperd"
  echo "irc-forged-v4-masq-kernel"; echo "irc-forged-v4-masq-cthelperd"; echo "irc-forged-v6-masq-cthelperd"
  # maxdcc and timeout give cthelperd a config file of their own (-c): a daemon of their own
  for c in maxdcc timeout; do
    echo "irc-$c-v4-masq-kernel"; echo "irc-$c-v4-masq-cthelperd cthelperd=own"
  done
}
source "$(dirname "${BASH_SOURCE[0]}")/../guest/scenario.sh" "$@"
HERE=$VMDIR/scenarios/irc

IFS=- read -r _ CASE FAM NET HELPER <<<"$NAME"
mkdir -p "$W/sync" "$W/out" "$W/run"; chmod 777 "$W/run"   # $W: tmpfs scratch (configs, files, sync)

# ------------------------------------------------------------------------------------- the case
# Addresses: SRV = the IRC server (and receiver), CLI = the sender's source address, ADV = what the
# sender writes into its offers, NAT = the router's address towards the server (what a helper must
# write), NATTXT = that address as the DCC line carries it.
if [[ $FAM == v4 ]]; then
  SRV=10.0.2.2 CLI=10.0.1.2 NAT=10.0.2.1 FAKE=10.0.1.99
else
  SRV=fd00:2::2 CLI=fd00:1::2 NAT=fd00:2::1 FAKE=fd00:1::99
fi
ADV=$CLI BIND= PARAMS=() TRY=all DELAY=0
OFFERS=SEND:40000
OK=(1) BAD=()             # offers whose connection must work / must fail (with a helper)
case $CASE in
  dccsend) ;;
  kinds) OFFERS=SEND:40000,CHAT:40001,MOVE:40002,TSEND:40003,SCHAT:40004; OK=(1 2 3 4 5) ;;
  resize)
    if [[ $FAM == v4 ]]; then CLI=192.168.100.2 ADV=192.168.100.2 BIND=192.168.100.2
    else ADV=fd00:1:0:0:0:0:0:2; fi ;;
  forged) OFFERS=SEND:40000@$FAKE,SEND:40001; OK=(2) BAD=(1) ;;
  maxdcc) OFFERS=SEND:40000,SEND:40001,SEND:40002; PARAMS=(max_dcc_channels=2); TRY=1,3; OK=(3) BAD=(1) ;;
  timeout) PARAMS=(dcc_timeout=3); DELAY=6; OK=() BAD=(1) ;;
  *) fail "bad scenario name $NAME" ;;
esac
[[ $NET == masq ]] || fail "bad scenario name $NAME (net must be masq)"
NOFFERS=$(tr ',' '\n' <<<"$OFFERS" | grep -c .)
dec() { local IFS=.; set -- $1; echo $(( ($1 << 24) + ($2 << 16) + ($3 << 8) + $4 )); }
if [[ $FAM == v4 ]]; then NATTXT=$(dec "$NAT") ADVTXT=$(dec "$ADV") FAKETXT=$(dec "$FAKE")
else NATTXT=$NAT ADVTXT=$ADV FAKETXT=$FAKE; fi
# Does a helper act here?  none: no; the kernel's helper on IPv6: no (it is IPv4-only).
ACTS=1
[[ $HELPER == none ]] && ACTS=0
[[ $HELPER == kernel && $FAM == v6 ]] && ACTS=0
if ((ACTS == 0)); then OK=() BAD=($(seq 1 "$NOFFERS")); fi

log "scenario $NAME: case=$CASE fam=$FAM helper=$HELPER offers=$OFFERS adv=$ADV params=${PARAMS[*]:-} kernel=$KVER"

# ------------------------------------------------------------------------------------- lab + helper
net_setup "$NET" || fail "network setup failed"
if [[ -n $BIND ]]; then   # a second client network (a home LAN address: 10 decimal digits)
  ip -n client addr add "$BIND/24" dev eth0 || fail "cannot add $BIND to the client"
  ip route add 192.168.100.0/24 dev vc || fail "cannot route 192.168.100.0/24 to the client"
fi
no_kernel_alg irc

if ((${#PARAMS[@]})); then   # cthelperd gets the same parameters as the kernel module
  { echo "[helper.irc]"; for p in "${PARAMS[@]}"; do echo "${p%%=*} = ${p#*=}"; done; } >"$W/cthelperd.toml"
  cp "$W/cthelperd.toml" "$RES/cthelperd.toml"
  CTH_ARGS=(-c "$W/cthelperd.toml")
fi

case $HELPER in
  none) ;;
  kernel)
    # module parameters are read-only (0400) once loaded: reload with this case's parameters (the
    # ruleset's ct helper objects hold the module: flushed first) unless it runs with them already
    # (loaded without a record: by stage2 or setup_helper, so with the defaults)
    want="params:${PARAMS[*]}" cur="params:"
    [[ -f /tmp/cthvm/.irc-params ]] && cur=$(<"/tmp/cthvm/.irc-params")
    if ! kmod_loaded nf_conntrack_irc || [[ $cur != "$want" ]]; then
      ruleset_flush
      if kmod_loaded nf_conntrack_irc; then
        rmmod nf_nat_irc 2>/dev/null; rmmod nf_conntrack_irc || fail "cannot unload nf_conntrack_irc to change its parameters"
      fi
      kmod nf_conntrack_irc "${PARAMS[@]}" && { kmod_loaded nf_nat_irc || kmod nf_nat_irc; } || fail "modprobe nf_conntrack_irc ${PARAMS[*]} nf_nat_irc failed"
      echo "$want" >/tmp/cthvm/.irc-params
    fi
    for p in "${PARAMS[@]}"; do
      [[ $(<"/sys/module/nf_conntrack_irc/parameters/${p%%=*}") == "${p#*=}" ]] || fail "nf_conntrack_irc did not take $p"
    done
    ruleset_add "$VMDIR/nft/attach-irc.nft"
    ;;
  cthelperd)
    cthelperd_up
    log "attach ruleset: $REPO/nft/cthelperd.nft"
    ruleset_add "$REPO/nft/cthelperd.nft"
    ;;
  *) fail "bad helper $HELPER" ;;
esac
helper_ready

# ------------------------------------------------------------------------------------- IRC server
head -c 1048576 /dev/urandom >"$W/data.bin"
SUM=$(sha256sum <"$W/data.bin" | cut -d' ' -f1)
sed "s|@W@|$W|g" "$HERE/ngircd.conf.in" >"$W/ngircd.conf"
ip netns exec server ngircd -n -f "$W/ngircd.conf" >"$RES/ngircd.log" 2>&1 &
PIDS+=($!)
# captures: the sender's IRC connection at both ends, expectation events in the router
ip netns exec server tcpdump --immediate-mode -U -n -i eth0 -w "$RES/server.pcap" 'tcp port 6667' 2>"$RES/tcpdump-server.err" &
PIDS+=($!)
ip netns exec client tcpdump --immediate-mode -U -n -i eth0 -w "$RES/client.pcap" 'tcp port 6667' 2>"$RES/tcpdump-client.err" &
PIDS+=($!)
conntrack -E expect >"$RES/expect.events" 2>"$RES/expect.events.err" &
PIDS+=($!)
for ((i = 0; i < 150; i++)); do
  grep -q listening "$RES/tcpdump-server.err" && grep -q listening "$RES/tcpdump-client.err" &&
    ip netns exec server ss -Hltn "sport = :6667" | grep -q . && break
  sleep 0.1
done
ip netns exec server ss -Hltn "sport = :6667" | grep -q . || { cat "$RES/ngircd.log"; fail "ngircd is not listening"; }
log "server and captures ready"
sleep 0.3   # let `conntrack -E` subscribe

# ------------------------------------------------------------------------------------- clients
CT=8
ip netns exec server /usr/bin/python3 "$HERE/dcc_recv.py" --server "$SRV" --nick bob --sync "$W/sync" \
  --offers "$NOFFERS" --outdir "$W/out" --try "$TRY" --delay "$DELAY" --connect-timeout "$CT" \
  >"$RES/receiver.log" 2>&1 &
RECV_PID=$!
SEND=(/usr/bin/python3 "$HERE/dcc_send.py" --server "$SRV" --nick alice --to bob --adv "$ADV"
      --offers "$OFFERS" --file "$W/data.bin" --sync "$W/sync" --local-port 30000 --serve-timeout 150)
[[ -n $BIND ]] && SEND+=(--bind "$BIND")
log "sender: ${SEND[*]}"
t0=$(now_ms)
ip netns exec client "${SEND[@]}" >"$RES/sender.log" 2>&1 &
SEND_PID=$!
wait "$RECV_PID"; RRC=$?
log "receiver exit $RRC after $(( $(now_ms) - t0 )) ms"
wait "$SEND_PID"; SRC=$?
log "sender exit $SRC"

sleep 0.5
for p in "${PIDS[@]:1}"; do kill -INT "$p" 2>/dev/null; done   # tcpdumps, conntrack -E
sleep 0.5
conntrack -L >"$RES/conntrack.txt" 2>&1
dmesg | grep -i 'dcc\|irc' >"$RES/dmesg.txt"

# ------------------------------------------------------------------------------------- evidence
# The IRC text: as the sender wrote it, as it reached the server, as the server relayed it.
{
  sed -n 's/^[0-9:]* sent > /client > /p' "$RES/sender.log"
  python3 "$HERE/pcap_lines.py" "$RES/server.pcap" 6667 | sed 's/^/server > /'
  sed -n 's/^GOT /peer < /p' "$RES/receiver.log"
} >"$RES/wire.norm"
# Expectations: drop the timeout, keep everything else (tuples, masks, master, class, helper).
sed -E 's/^ *\[([A-Z]+)\] +[0-9]+ /\1 /; s/^ *\[([A-Z]+)\] +/\1 /' "$RES/expect.events" | grep -v '^$' >"$RES/expect.norm"
log "---- wire.norm"; cat "$RES/wire.norm"
log "---- expect.norm (conntrack -E expect)"; cat "$RES/expect.norm"
log "---- receiver.log"; cat "$RES/receiver.log"
log "---- sender.log"; cat "$RES/sender.log"

# ------------------------------------------------------------------------------------- verdict
result() { sed -n "s/^RESULT n=$1 .*connect=\([^ ]*\).*/\1/p" "$RES/receiver.log"; }
kind_of() { tr ',' '\n' <<<"$OFFERS" | sed -n "${1}p" | cut -d: -f1; }
offer_ok() { # $1 = offer number: connected and the data arrived
  local n=$1 k
  [[ $(result "$n") == ok ]] || return 1
  k=$(kind_of "$n")
  case $k in
    CHAT|SCHAT) grep -q "^hello from alice ($k)" "$W/out/offer-$n.txt" 2>/dev/null ;;
    *) [[ -f $W/out/offer-$n.bin && $(sha256sum <"$W/out/offer-$n.bin" | cut -d' ' -f1) == "$SUM" ]] ;;
  esac
}
# every offer and the closing message reached the receiver: a broken lab or IRC connection cannot
# pass as "failed as expected", and a rewrite that broke the TCP stream shows here
NGOT=$(grep -c "^peer < .*DCC " "$RES/wire.norm")
((NGOT == NOFFERS)) || fail "the receiver got $NGOT of $NOFFERS DCC offers (IRC path broken?)"
grep -q '^peer < .* :end of offers$' "$RES/wire.norm" || fail "the sender's message after the offers never reached the receiver (TCP stream broken after the rewrite?)"
NEXP=$(grep -c '^NEW ' "$RES/expect.norm")

for n in "${OK[@]}"; do
  offer_ok "$n" || fail "offer $n ($(kind_of "$n")) failed with the $HELPER helper (connect=$(result "$n"))"
done
for n in "${BAD[@]}"; do
  [[ $(result "$n") == ok ]] && fail "offer $n ($(kind_of "$n")) connected although it must not (helper $HELPER)"
done
peer_line() { grep "^peer < .*DCC " "$RES/wire.norm" | sed -n "${1}p"; }
if ((ACTS == 0)); then
  ((NEXP == 0)) || fail "expectations appeared although no helper acts here ($HELPER/$FAM)"
  peer_line 1 | grep -q " $ADVTXT 40000" || fail "the offer reached the receiver changed: $(peer_line 1)"
  why="no helper"; [[ $HELPER == kernel ]] && why="the kernel's IRC helper (IPv4-only)"
  pass "the DCC offer reached the receiver unchanged ($ADVTXT) and its connection failed, as it must with $why"
fi

# A helper acts: genuine offers carry the router's address, a forged one stays as it was.
for n in $(seq 1 "$NOFFERS"); do
  if [[ $CASE == forged && $n == 1 ]]; then
    peer_line 1 | grep -q " $FAKETXT 40000" || fail "the forged offer was changed: $(peer_line 1)"
  else
    peer_line "$n" | grep -q " $NATTXT 4000[0-9]" || fail "offer $n reaching the receiver does not carry the router's address $NATTXT: $(peer_line "$n")"
  fi
done
case $CASE in
  forged)
    ((NEXP == 1)) || fail "expected one expectation (the genuine offer only), saw $NEXP"
    grep -q '^NEW .* dport=40001 ' "$RES/expect.norm" || fail "the expectation is not the genuine offer's (port 40001)"
    if [[ $HELPER == cthelperd ]]; then cth_log | grep -q forged || fail "cthelperd did not report the forged DCC"
    else grep -q 'Forged DCC' "$RES/dmesg.txt" || log "note: no 'Forged DCC' kernel message (rate-limited?)"; fi ;;
  maxdcc)
    ((NEXP == 3)) || fail "expected three expectations (one per offer), saw $NEXP"
    # the third offer evicts the oldest: DESTROY of port 40000 comes before NEW of port 40002
    awk '/^DESTROY .* dport=40000 /{d=NR} /^NEW .* dport=40002 /{n=NR} END{exit !(d && n && d < n)}' "$RES/expect.norm" \
      || fail "the oldest expectation was not evicted by the third offer (max_dcc_channels=2)"
    [[ $(result 1) == refused ]] || fail "the evicted offer's connection was not refused (connect=$(result 1))" ;;
  timeout)
    ((NEXP == 1)) || fail "expected one expectation, saw $NEXP"
    t=$(sed -nE 's/^ *\[NEW\] +([0-9]+) .*/\1/p' "$RES/expect.events" | head -n 1)
    [[ -n $t ]] && ((t <= 3)) || fail "the expectation's timeout is ${t:-?} s, not dcc_timeout=3"
    grep -q '^DESTROY .* dport=40000 ' "$RES/expect.norm" || fail "the expectation did not expire"
    [[ $(result 1) == refused ]] || fail "the connection after the timeout was not refused (connect=$(result 1))" ;;
  *)
    ((NEXP == ${#OK[@]})) || fail "expected ${#OK[@]} expectation(s), saw $NEXP" ;;
esac

if [[ $HELPER == kernel ]]; then
  pass "$CASE ok: ${#OK[@]} connection(s) through the kernel's expectations, $NEXP expectation(s); reference recorded"
fi

# cthelperd
if [[ $FAM == v4 ]]; then
  same_as_kernel expect.norm wire.norm
  pass "$CASE ok; expectations and IRC text identical to the kernel ALG's"
fi
# IPv6: beyond the kernel.  The expectations must be the kernel's IPv4 ones (same case) with the
# addresses mapped to the lab's IPv6 ones.
REF=$RESULTS/irc-$CASE-v4-masq-kernel
MAPPED=
if [[ -f $REF/expect.norm ]]; then
  sed -E 's/=10\.0\.1\.2 /=fd00:1::2 /g; s/=192\.168\.100\.2 /=fd00:1::2 /g; s/=10\.0\.2\.1 /=fd00:2::1 /g;
          s/=10\.0\.2\.2 /=fd00:2::2 /g; s/=0\.0\.0\.0 /=:: /g;
          s/=255\.255\.255\.255 /=ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff /g' "$REF/expect.norm" >"$RES/expect.v4ref"
  if ! diff -u "$RES/expect.v4ref" "$RES/expect.norm" >"$RES/expect.norm.diff"; then
    cat "$RES/expect.norm.diff"; fail "expectations differ from the kernel's IPv4 ones mapped to IPv6 (see expect.norm.diff)"
  fi
  MAPPED="; expectations equal the kernel's IPv4 ones mapped to IPv6"
else
  log "no $REF/expect.norm in this results dir: IPv6 expectations not compared with the kernel's IPv4 ones"
fi
pass "$CASE over IPv6 ok (beyond the kernel): offers rewritten to $NAT, $NEXP expectation(s)$MAPPED"
