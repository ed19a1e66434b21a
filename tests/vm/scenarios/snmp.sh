#!/bin/bash
# SNMP scenarios, run inside the VM (chroot into the host's /).  $1 = scenario name, $2 = result dir.
#   snmp-walk-v4-dnat161-<helper>  snmpwalk of ipAddrTable of an agent (snmpd, client namespace)
#                                  behind the router's DNAT of udp/161 (router-dnat161.nft), from a
#                                  manager outside (server namespace): the agent's answers carry its
#                                  own address, 10.0.1.2; the manager should see the public one
#   snmp-trapv1-v4-masq-<helper>   snmptrap -v1 from an agent behind masquerade (client) to snmptrapd
#                                  (server): agent-addr and an IpAddress varbind are 10.0.1.2
#   snmp-trapv2c-v4-masq-<helper>  the same as a v2c trap (and a varbind of another host, 10.0.1.99)
#   snmp-inform-v4-masq-<helper>   the same as a v2c inform, acknowledged by snmptrapd
#   snmp-v3walk-v4-masq-<helper>   snmpwalk -v3 (authPriv) from a manager behind masquerade (client)
#                                  of an agent outside (server)
#   snmp-bcast-v4-input-<helper>   the router itself sends a GetRequest to the broadcast address of a
#                                  subnet (bridge bb, 10.0.3.0/24) with two agents; its input filter
#                                  (router-input.nft) takes in only established/related flows
#   helper: none kernel cthelperd
# Programs: Debian's net-snmp (snmpd, snmpwalk, snmptrap, snmpinform, snmptrapd), tcpdump, conntrack;
# scenarios/snmp/snmpcap.py reads the captures (and is the broadcast sender: net-snmp's tools cannot
# send to a broadcast address).  See tests/vm/README.md, "SNMP scenarios".
# Exit 0 = PASS, 77 = SKIP, other = FAIL; the one-line reason is the last line of $RES/verdict.
set -uo pipefail
CTHVM_PACKAGES=(snmpd snmp snmptrapd python3 tcpdump conntrack nftables ethtool)
CTHVM_TIMEOUT=200
# lab=fresh: every scenario turns the lab's checksum offload off (below)
cthvm_list() {
  for h in none kernel cthelperd; do
    echo "snmp-walk-v4-dnat161-$h lab=fresh"
    echo "snmp-trapv1-v4-masq-$h lab=fresh"
    echo "snmp-trapv2c-v4-masq-$h lab=fresh"
    echo "snmp-inform-v4-masq-$h lab=fresh"
    echo "snmp-v3walk-v4-masq-$h lab=fresh"
    echo "snmp-bcast-v4-input-$h lab=fresh"
  done
}
source "$(dirname "${BASH_SOURCE[0]}")/../guest/scenario.sh" "$@"
IFS=- read -r _ CASE FAM NET HELPER <<<"$NAME"
[[ $FAM == v4 ]] || fail "bad scenario name $NAME"
case $CASE in walk|trapv1|trapv2c|inform|v3walk|bcast) ;; *) fail "bad scenario name $NAME" ;; esac
log "scenario $NAME: case=$CASE net=$NET helper=$HELPER kernel=$KVER"
for c in snmpd snmpwalk snmptrap snmpinform snmptrapd; do
  command -v $c >/dev/null || fail "$c not installed (snmpd, snmp, snmptrapd)"
done
PY=$VMDIR/scenarios/snmp/snmpcap.py
AGENT=10.0.1.2 PUBLIC=10.0.2.1 MGR=10.0.2.2
# net-snmp: no MIBs (Debian ships none: numeric OIDs), persistent state in tmpfs (the guest's
# /var/lib is the host's, read-only)
NS=(-m '' -On)
export SNMP_PERSISTENT_DIR=$W/persist
mkdir -p "$SNMP_PERSISTENT_DIR"

# ------------------------------------------------------------------------------------- lab + helper
# kernel: nf_conntrack_snmp (the `snmp` helper with the broadcast expectation) and
# nf_nat_snmp_basic (`snmp_trap` and the NAT of both); cthelperd: the daemon and nft/cthelperd.nft.
snmp_helper() {
  no_kernel_alg snmp
  [[ $HELPER != kernel && -d /sys/module/nf_nat_snmp_basic ]] && fail "nf_nat_snmp_basic is loaded in a '$HELPER' boot"
  if [[ $HELPER == kernel ]]; then
    kmod_loaded nf_conntrack_snmp nf_nat_snmp_basic || kmod -a nf_conntrack_snmp nf_nat_snmp_basic \
      || fail "modprobe nf_conntrack_snmp nf_nat_snmp_basic failed"
    ruleset_add "$VMDIR/nft/attach-snmp.nft"
    helper_ready
  else
    setup_helper snmp
  fi
}

# The broadcast subnet: bridge bb (10.0.3.1/24 brd 10.0.3.255) in the router with two agent
# namespaces, agent1 10.0.3.2 and agent2 10.0.3.3.  Torn down when the scenario ends (lab=fresh
# rebuilds only client and server).
BCAST_NS="agent1 agent2"
bcast_teardown() {
  local ns p
  for ns in $BCAST_NS; do
    [[ -e /run/netns/$ns ]] || continue
    for p in /proc/[0-9]*; do [[ $p/ns/net -ef /run/netns/$ns ]] && kill -9 "${p#/proc/}" 2>/dev/null; done
    ip netns del "$ns" 2>/dev/null
  done
  [[ -e /sys/class/net/bb ]] && ip link del bb 2>/dev/null
  return 0
}
bcast_build() {
  bcast_teardown
  [[ -d /sys/module/bridge ]] || kmod bridge || return 1
  ip -b - <<'EOF' || return 1
link add bb type bridge
addr add 10.0.3.1/24 brd + dev bb
link set bb up
netns add agent1
netns add agent2
link add ba1 type veth peer name eth0 netns agent1
link add ba2 type veth peer name eth0 netns agent2
link set ba1 master bb
link set ba2 master bb
link set ba1 up
link set ba2 up
EOF
  local i
  for i in 1 2; do
    ip -n agent$i -b - <<EOF || return 1
link set lo up
addr add 10.0.3.$((i + 1))/24 brd + dev eth0
link set eth0 up
EOF
    # net-snmp's snmpd answers a request to a broadcast address from that address, which the
    # kernel refuses (sendmsg ENETUNREACH: "send response: Failure in sendto"): in the agent's own
    # namespace the request is made unicast, without conntrack, before it reaches snmpd, which then
    # answers from its own address as SNMP agents do.  The router sees the broadcast request and
    # the agents' own answers.
    ip netns exec agent$i nft -f - <<EOF || return 1
table ip agent {
	chain pre {
		type filter hook prerouting priority raw; policy accept;
		ip daddr 10.0.3.255 udp dport 161 notrack ip daddr set 10.0.3.$((i + 1))
	}
}
EOF
  done
}

# Checksums on the wire: a veth hands a packet on with its UDP checksum unfinished
# (CHECKSUM_PARTIAL: only the pseudo-header sum), so the captures would show no real checksum and
# the router would forward partial ones. With transmit checksum offload off everywhere every
# datagram carries its real checksum: the router's rewrites (NAT, the ALG's fast_csum(),
# cthelperd's recomputation) act on it and the captures can check it.
no_offload() { # NS DEV...
  local ns=$1 d in=(ip netns exec "$1"); shift
  [[ -z $ns ]] && in=()
  for d; do "${in[@]}" ethtool -K "$d" tx off >/dev/null 2>&1 || fail "ethtool -K $d tx off ($ns) failed"; done
}
net_setup "$NET" || fail "network setup failed"
if [[ $CASE == bcast ]]; then
  trap 'cleanup; bcast_teardown' EXIT
  bcast_build || fail "building the broadcast subnet (bridge bb, agent1, agent2) failed"
  no_offload "" bb ba1 ba2; no_offload agent1 eth0; no_offload agent2 eth0
else
  no_offload "" vc vs; no_offload client eth0; no_offload server eth0
fi
snmp_helper

# ------------------------------------------------------------------------------------- programs
# start_snmpd NS CONF NAME: snmpd in namespace NS, waits until it listens on udp/161
start_snmpd() {
  local ns=$1 conf=$2 name=$3 i
  SNMP_PERSISTENT_DIR=$W/persist-$name ip netns exec "$ns" snmpd -f -Lo -C "${NS[@]:0:2}" -c "$conf" \
    -p "$W/$name.pid" >"$RES/$name.log" 2>&1 &
  PIDS+=($!)
  for ((i = 0; i < 100; i++)); do
    ip netns exec "$ns" ss -Hlun "sport = :161" | grep -q . && return 0
    sleep 0.1
  done
  cat "$RES/$name.log"; fail "snmpd ($name) is not listening"
}
start_trapd() {
  local i
  echo "disableAuthorization yes" >"$W/snmptrapd.conf"
  ip netns exec server snmptrapd -f -Lo -C "${NS[@]}" -n -c "$W/snmptrapd.conf" udp:162 \
    >"$RES/snmptrapd.log" 2>&1 &
  PIDS+=($!)
  for ((i = 0; i < 100; i++)); do
    ip netns exec server ss -Hlun "sport = :162" | grep -q . && return 0
    sleep 0.1
  done
  cat "$RES/snmptrapd.log"; fail "snmptrapd is not listening"
}
# capture NS IFACE FILE: tcpdump of SNMP (udp 161, 162) in namespace NS ("": the router's)
CAPS=()
capture() {
  local in=(ip netns exec "$1")
  [[ -z $1 ]] && in=()
  "${in[@]}" tcpdump -U --immediate-mode -n -i "$2" -w "$RES/$3.pcap" 'udp port 161 or udp port 162' \
    2>"$RES/tcpdump-$3.err" &
  PIDS+=($!); CAPS+=("$3")
}
captures_ready() {
  local c i n
  for ((i = 0; i < 100; i++)); do
    n=0
    for c in "${CAPS[@]}"; do grep -q listening "$RES/tcpdump-$c.err" && n=$((n + 1)); done
    ((n == ${#CAPS[@]})) && return 0
    sleep 0.1
  done
  fail "tcpdump did not start"
}
stop_captures() {   # tcpdumps and conntrack -E: PIDS after the daemons
  sleep 0.5
  local p
  for p in "${CAP_PIDS[@]}"; do kill -INT "$p" 2>/dev/null; done
  sleep 0.5
}

case $CASE in
  walk)
    printf 'agentAddress udp:161\nrocommunity public default\n' >"$W/snmpd.conf"
    start_snmpd client "$W/snmpd.conf" snmpd
    ;;
  trapv1|trapv2c|inform)
    start_trapd
    ;;
  v3walk)
    cat >"$W/snmpd.conf" <<'EOF'
agentAddress udp:161
createUser alice SHA "alice-auth-pass" AES "alice-priv-pass"
rouser alice priv
EOF
    start_snmpd server "$W/snmpd.conf" snmpd
    ;;
  bcast)
    for i in 1 2; do
      printf 'agentAddress udp:161\nrocommunity public default\nsysName agent-%s\n' "$i" >"$W/snmpd$i.conf"
      start_snmpd agent$i "$W/snmpd$i.conf" snmpd$i
    done
    ;;
esac
NPIDS=${#PIDS[@]}
if [[ $CASE == bcast ]]; then
  capture "" bb router   # the router's side of the subnet (before its input filter)
else
  capture client eth0 client
  capture server eth0 server
fi
conntrack -E expect >"$RES/expect.events" 2>"$RES/expect.events.err" &
PIDS+=($!)
CAP_PIDS=("${PIDS[@]:$NPIDS}")
captures_ready
log "programs and captures ready"
sleep 0.3   # let `conntrack -E` subscribe

# ------------------------------------------------------------------------------------- the exchange
t0=$(now_ms)
case $CASE in
  walk)
    ip netns exec server snmpwalk "${NS[@]}" -v2c -c public -t 5 -r 0 $PUBLIC 1.3.6.1.2.1.4.20 \
      >"$RES/walk.txt" 2>"$RES/walk.err"
    RC=$?
    ;;
  trapv1)
    # agent-addr: the agent's inside address (snmptrap's argument), as an agent writes its own
    ip netns exec client snmptrap "${NS[@]}" -v1 -c public $MGR 1.3.6.1.4.1.8072.2.3.1 $AGENT 6 17 123 \
      1.3.6.1.4.1.8072.2.3.2.1 a $AGENT >"$RES/snmptrap.log" 2>&1
    RC=$?
    ;;
  trapv2c)
    ip netns exec client snmptrap "${NS[@]}" -v2c -c public $MGR 123 1.3.6.1.4.1.8072.2.3.0.1 \
      1.3.6.1.4.1.8072.2.3.2.1 a $AGENT 1.3.6.1.4.1.8072.2.3.2.2 a 10.0.1.99 >"$RES/snmptrap.log" 2>&1
    RC=$?
    ;;
  inform)
    ip netns exec client snmpinform "${NS[@]}" -v2c -c public -t 5 -r 0 $MGR 123 1.3.6.1.4.1.8072.2.3.0.1 \
      1.3.6.1.4.1.8072.2.3.2.1 a $AGENT 1.3.6.1.4.1.8072.2.3.2.2 a 10.0.1.99 >"$RES/snmptrap.log" 2>&1
    RC=$?
    ;;
  v3walk)
    SNMP_PERSISTENT_DIR=$W/persist-mgr ip netns exec client snmpwalk "${NS[@]}" -v3 -l authPriv -u alice \
      -a SHA -A alice-auth-pass -x AES -X alice-priv-pass -t 3 -r 0 $MGR 1.3.6.1.2.1.4.20 \
      >"$RES/walk.txt" 2>"$RES/walk.err"
    RC=$?
    ;;
  bcast)
    /usr/bin/python3 "$PY" ask 10.0.3.255 40300 3 >"$RES/answers.txt" 2>&1
    RC=$?
    ;;
esac
log "exchange exit $RC after $(($(now_ms) - t0)) ms"
# what snmptrapd logged, when it is a notification case (it writes when the message is decoded)
if [[ $CASE == trap* || $CASE == inform ]]; then
  for ((i = 0; i < 30; i++)); do grep -q "$AGENT\|$PUBLIC" "$RES/snmptrapd.log" && break; sleep 0.1; done
fi
stop_captures

# ------------------------------------------------------------------------------------- evidence
# wire.norm: every SNMP message as each end saw it (snmpcap.py dump); expect.norm: conntrack -E
# expect without the timeout column.
for c in "${CAPS[@]}"; do /usr/bin/python3 "$PY" dump "$c" "$RES/$c.pcap"; done >"$RES/wire.norm"
sed -E 's/^ *\[([A-Z]+)\] +[0-9]+ /\1 /; s/^ *\[([A-Z]+)\] +/\1 /' "$RES/expect.events" | grep -v '^$' >"$RES/expect.norm"
log "---- wire.norm"; cat "$RES/wire.norm"
log "---- expect.norm"; cat "$RES/expect.norm"
for f in walk.txt walk.err snmptrap.log snmptrapd.log answers.txt; do
  [[ -s $RES/$f ]] && { log "---- $f"; cat "$RES/$f"; }
done
sends() { grep -c "^$1 " "$RES/wire.norm"; }   # messages captured at one end
NEXP=$(grep -c '^NEW ' "$RES/expect.norm")
grep -q 'csum=BAD' "$RES/wire.norm" && fail "a UDP checksum on the wire is wrong (wire.norm)"
# same SENT RECV FROM TO: the messages RECV got are those SENT sent but for IpAddress FROM -> TO
same() { /usr/bin/python3 "$PY" same "$RES/$1.pcap" "$RES/$2.pcap" "$3" "$4" >"$RES/same.txt" 2>&1; }

# ------------------------------------------------------------------------------------- verdicts
case $CASE in
  walk)
    ((NEXP == 0)) || fail "expectations appeared (an SNMP walk expects nothing)"
    row=$(grep -E "^\.1\.3\.6\.1\.2\.1\.4\.20\.1\.1\.10\.0\.1\.2 = IpAddress: " "$RES/walk.txt")
    [[ -n $row ]] || fail "the walk did not return the agent's ipAdEntAddr row (snmpwalk exit $RC; lab broken?)"
    seen=${row##*: }
    # the other rows are the agent's: 127.0.0.1 stays itself
    grep -q "^\.1\.3\.6\.1\.2\.1\.4\.20\.1\.1\.127\.0\.0\.1 = IpAddress: 127\.0\.0\.1$" "$RES/walk.txt" \
      || fail "the loopback row of ipAddrTable is missing or changed"
    # wire.cmp: what must equal the kernel's — the wire with the manager's view of the agent's
    # address mapped back to the inside address (the one deliberate difference), without the
    # answer past the end of the table (the agent's next object: a route or an ARP entry, which
    # depends on the agent's state, not on the helper)
    sed -E "s/^server (.*)IpAddress:${PUBLIC//./\\.}( |$)/server \1IpAddress:$AGENT\2/" "$RES/wire.norm" \
      | grep -vE ' 1\.3\.6\.1\.2\.1\.4\.(2[1-9]|[3-9][0-9])\.' >"$RES/wire.cmp"
    if [[ $HELPER != cthelperd ]]; then
      [[ $seen == "$AGENT" ]] || fail "the manager saw $seen for the agent (expected the untranslated $AGENT with $HELPER)"
      [[ $HELPER == none ]] && pass "walk ok; the manager sees the agent's inside address $AGENT, as it must without a helper"
      pass "walk ok; the kernel ALG leaves the agent's address $AGENT (its from/to pair is the manager's own address: from == to); reference recorded"
    fi
    [[ $seen == "$PUBLIC" ]] || fail "the manager saw $seen for the agent's own address, not the public $PUBLIC"
    same client server "$AGENT" "$PUBLIC" || { cat "$RES/same.txt"; fail "the walk changed other than the agent's IpAddress (same.txt)"; }
    n=$(grep -c "1 address(es)" "$RES/same.txt")
    ((n == 1)) || fail "$n messages had the agent's address rewritten (expected the ipAdEntAddr answer only)"
    same_as_kernel wire.cmp expect.norm
    pass "walk ok; the manager sees the agent's public address $PUBLIC in ipAdEntAddr (the kernel ALG: $AGENT); otherwise identical to the kernel's"
    ;;
  trapv1|trapv2c|inform)
    ((NEXP == 0)) || fail "expectations appeared (a notification expects nothing)"
    (($(sends client) >= 1)) || fail "the agent sent nothing (snmptrap exit $RC)"
    if [[ $CASE == trapv1 ]]; then
      line=$(grep "TRAP, SNMP v1" "$RES/snmptrapd.log")
      if [[ $HELPER == kernel ]]; then
        [[ -z $line ]] && (($(sends server) == 0)) || fail "the v1 trap reached snmptrapd through the kernel ALG"
        pass "the kernel ALG drops the SNMPv1 trap, as expected (its decoder has no Trap-PDU: 'parser failed')"
      fi
      [[ -n $line ]] || fail "the v1 trap did not reach snmptrapd"
      [[ $line =~ \?\ \[([0-9.]+)\] ]] || fail "no agent-addr in snmptrapd's log: $line"
      agent_addr=${BASH_REMATCH[1]}
      value=$(grep -oE "2\.3\.2\.1 = IpAddress: [0-9.]+" "$RES/snmptrapd.log"); value=${value##* }
      if [[ $HELPER == none ]]; then
        [[ $agent_addr == "$AGENT" && $value == "$AGENT" ]] || fail "without a helper agent-addr $agent_addr, value $value"
        pass "the v1 trap arrives with agent-addr $AGENT (the inside address), as it must without a helper"
      fi
      [[ $agent_addr == "$PUBLIC" ]] || fail "snmptrapd logged agent-addr $agent_addr, not $PUBLIC"
      [[ $value == "$PUBLIC" ]] || fail "the IpAddress varbind is $value, not $PUBLIC"
      same client server "$AGENT" "$PUBLIC" || { cat "$RES/same.txt"; fail "the trap changed other than its IpAddress values"; }
      grep -q "2 address(es)" "$RES/same.txt" || fail "not both addresses were rewritten: $(cat "$RES/same.txt")"
      pass "the v1 trap arrives with agent-addr $PUBLIC and the varbind $PUBLIC (the kernel ALG drops it)"
    fi
    value=$(grep -oE "2\.3\.2\.1 = IpAddress: [0-9.]+" "$RES/snmptrapd.log"); value=${value##* }
    other=$(grep -oE "2\.3\.2\.2 = IpAddress: [0-9.]+" "$RES/snmptrapd.log"); other=${other##* }
    [[ -n $value ]] || fail "the $CASE did not reach snmptrapd (exit $RC)"
    [[ $other == 10.0.1.99 ]] || fail "the other host's address became $other"
    [[ $CASE == inform ]] && { ((RC == 0)) || fail "snmpinform got no acknowledgement (exit $RC)"; }
    if [[ $HELPER == none ]]; then
      [[ $value == "$AGENT" ]] || fail "without a helper the varbind is $value"
      pass "the $CASE arrives with $AGENT (the inside address), as it must without a helper"
    fi
    [[ $value == "$PUBLIC" ]] || fail "snmptrapd logged $value for the agent's address, not $PUBLIC"
    same client server "$AGENT" "$PUBLIC" || { cat "$RES/same.txt"; fail "the $CASE changed other than the agent's IpAddress"; }
    [[ $HELPER == kernel ]] && pass "the $CASE arrives with $PUBLIC$([[ $CASE == inform ]] && echo ', acknowledged'); reference recorded"
    same_as_kernel wire.norm expect.norm
    pass "the $CASE arrives with $PUBLIC$([[ $CASE == inform ]] && echo ', acknowledged'); messages identical to the kernel ALG's"
    ;;
  v3walk)
    ((NEXP == 0)) || fail "expectations appeared"
    (($(sends client) >= 1)) || fail "the manager sent nothing (snmpwalk exit $RC)"
    if [[ $HELPER == kernel ]]; then
      ((RC != 0)) && (($(sends server) == 0)) || fail "the v3 walk passed the kernel ALG"
      pass "the kernel ALG drops SNMPv3 under NAT, as expected: the walk fails (snmpwalk exit $RC)"
    fi
    grep -q "^\.1\.3\.6\.1\.2\.1\.4\.20\.1\.1\.10\.0\.2\.2 = IpAddress: 10\.0\.2\.2$" "$RES/walk.txt" \
      || fail "the v3 walk failed with $HELPER (snmpwalk exit $RC: $(tail -n 1 "$RES/walk.err"))"
    same client server 0.0.0.0 0.0.0.0 || { cat "$RES/same.txt"; fail "SNMPv3 messages changed on the way"; }
    ! grep -q address "$RES/same.txt" || fail "an SNMPv3 message was rewritten"
    [[ $HELPER == none ]] && pass "the v3 walk works without a helper (control): every message unchanged"
    n=$(cth_log | grep -cE 'reason="?snmpv3')
    ((n >= 1)) || fail "cthelperd did not count the SNMPv3 messages (reason=snmpv3)"
    pass "the v3 walk works through NAT (the kernel ALG drops it); every message unchanged, $n counted as snmpv3"
    ;;
  bcast)
    answered=$(grep -c "^router 10\.0\.3\.[23]\.161 > 10\.0\.3\.1 " "$RES/wire.norm")
    grep -q "^router 10\.0\.3\.1 > 10\.0\.3\.255\.161 .* get " "$RES/wire.norm" || fail "the broadcast request did not go out on bb"
    ((answered == 2)) || fail "$answered agent(s) answered on the wire, not 2 (lab broken?)"
    got=$(grep -c "^answer 10\.0\.3\.[23]:161 .*STRING:agent-[12]" "$RES/answers.txt")
    if [[ $HELPER == none ]]; then
      ((NEXP == 0 && got == 0)) || fail "without a helper: $NEXP expectation(s), $got answer(s) let in"
      pass "both agents answered, the router's filter dropped the answers (new flows), as it must without a helper"
    fi
    ((got == 2)) || fail "$got of the 2 answers reached the sender with $HELPER"
    ((NEXP == 1)) || fail "$NEXP expectations (expected 1)"
    grep -q "^NEW proto=17 src=10\.0\.3\.255 dst=10\.0\.3\.1 sport=161 dport=40300 mask-src=255\.255\.255\.0 " "$RES/expect.norm" \
      || fail "the expectation is not the subnet's answers to port 40300: $(cat "$RES/expect.norm")"
    [[ $HELPER == kernel ]] && pass "both agents' answers let in by the broadcast expectation (10.0.3.0/24); reference recorded"
    same_as_kernel expect.norm
    pass "both agents' answers let in; the expectation is identical to the kernel ALG's"
    ;;
esac
