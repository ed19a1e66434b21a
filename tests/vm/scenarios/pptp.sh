#!/bin/bash
# PPTP scenarios, run inside the VM (chroot into the host's /).  $1 = scenario name, $2 = result dir.
#   pptp-call-v4-masq-<helper>   one client: tunnel up, ping through it, hang up, dial again, ping
#   pptp-two-v4-masq-<helper>    two clients behind the same masquerading router (client, and
#                                client2 = 10.0.3.2 behind vc2, made and removed here), both
#                                connected to the same server at once, each pinging through its tunnel
# helper: none (call only) | kernel (nf_conntrack_pptp + nf_nat_pptp, nft/attach-pptp.nft) |
# cthelperd (the boot's shared daemon, the product's nft/cthelperd.nft).
# Real programs: Debian's pptpd (server namespace; its pptpctrl and pppd), pptp-linux + pppd in the
# client namespace(s), ping through the tunnel (the server's ppp address 10.10.0.1).  No
# authentication, no compression, no MPPE (pppd noauth, noccp): only ppp_generic/ppp_async/slhc are
# needed, which the initramfs carries.  PPP's own negotiation (LCP, IPCP) runs inside GRE, so
# without GRE in both directions no tunnel comes up.
# Why it needs a helper: the server's GRE goes to the router's address with the client's call ID as
# key; without a helper it is a new flow to the router itself (no keymap: its conntrack does not
# match the client's GRE conntrack) and ends there.  The helper's expectations make it RELATED and
# NAT it to the client; under NAT it also rewrites the client's call ID in the control messages
# (the kernel: to the masqueraded TCP source port) so that two clients can use one server.
# Exit 0 = PASS, 77 = SKIP, other = FAIL; the one-line reason is the last line of $RES/verdict.
set -uo pipefail
CTHVM_PACKAGES=(pptpd pptp-linux ppp iputils-ping tcpdump conntrack python3)
CTHVM_TIMEOUT=150
cthvm_list() {
  for h in none kernel cthelperd; do echo "pptp-call-v4-masq-$h"; done
  for h in kernel cthelperd; do echo "pptp-two-v4-masq-$h"; done
}
source "$(dirname "${BASH_SOURCE[0]}")/../guest/scenario.sh" "$@"
IFS=- read -r _ CASE FAM NET HELPER <<<"$NAME"
[[ $FAM == v4 && $NET == masq ]] || fail "bad scenario name $NAME"
case $CASE in call|two) ;; *) fail "bad scenario name $NAME" ;; esac
log "scenario $NAME: case=$CASE helper=$HELPER kernel=$KVER"
for c in pptpd pptp pppd ping tcpdump conntrack python3; do
  command -v $c >/dev/null || fail "$c not installed (pptpd, pptp-linux, ppp, iputils-ping, tcpdump, conntrack, python3)"
done
PY=$VMDIR/scenarios/pptp/pptpcap.py
SRV=10.0.2.2 RTR_S=10.0.2.1 PEER=10.10.0.1

# ------------------------------------------------------------------------------------- lab + helper
net_setup "$NET" || fail "network setup failed"
CLIENTS=(client)
if [[ $CASE == two ]]; then
  # The second client network: namespace client2 (10.0.3.2) behind vc2 (10.0.3.1) on the router,
  # masqueraded like the first (router-masq-client2.nft lets it open connections).  Removed at the
  # end (and first, should a timed-out run have left it).
  ip netns del client2 2>/dev/null; ip link del vc2 2>/dev/null
  ip -b - <<'EOF' || fail "creating client2 failed"
netns add client2
link add vc2 type veth peer name eth0 netns client2
addr add 10.0.3.1/24 dev vc2
link set vc2 up
EOF
  ip -n client2 -b - <<'EOF' || fail "configuring client2 failed"
link set lo up
addr add 10.0.3.2/24 dev eth0
link set eth0 up
route add default via 10.0.3.1
EOF
  echo 0 | ip netns exec client2 tee /proc/sys/net/ipv4/tcp_max_tw_buckets >/dev/null
  CLIENTS+=(client2)
  ruleset_add "$VMDIR/nft/router-masq-client2.nft"
  client2_cleanup() { cleanup; ip netns del client2 2>/dev/null; ip link del vc2 2>/dev/null; }
  trap client2_cleanup EXIT
fi
no_kernel_alg pptp
setup_helper pptp

# PPP in the guest: ppp_generic (/dev/ppp), ppp_async (pppd's pty line discipline), from the initramfs.
kmod_loaded ppp_generic ppp_async || kmod -a ppp_generic ppp_async || fail "modprobe ppp_generic ppp_async failed"
[[ -c /dev/ppp ]] || mknod /dev/ppp c 108 0 || fail "no /dev/ppp"

# ------------------------------------------------------------------------------------- server
# pptpd with a config of its own: local 10.10.0.1, clients 10.10.0.100-109; its pppd without
# authentication, compression or MPPE.  /etc/ppp/options is read too (auth, lock, lcp-echo-* — the
# later noauth wins).
cat >"$W/pptpd.conf" <<EOF
option $W/options.pptpd
localip $PEER
remoteip 10.10.0.100-109
EOF
cat >"$W/options.pptpd" <<EOF
name pptpd
noauth
nodeflate
nobsdcomp
noccp
novj
novjccomp
nodefaultroute
lcp-echo-interval 10
lcp-echo-failure 6
debug
logfile $RES/pppd-server.log
EOF
ip netns exec server pptpd --fg --conf "$W/pptpd.conf" --option "$W/options.pptpd" --pidfile "$W/pptpd.pid" \
  >"$RES/pptpd.log" 2>&1 &
PIDS+=($!)

# captures: control connection and GRE at every end; expectation events in the router
CAPS=(server "${CLIENTS[@]}")
# (and ICMP: what the router answers GRE it cannot place)
for ns in "${CAPS[@]}"; do
  ip netns exec "$ns" tcpdump -U --immediate-mode -n -i eth0 -w "$RES/$ns.pcap" 'tcp port 1723 or ip proto 47 or icmp' \
    2>"$RES/tcpdump-$ns.err" &
  PIDS+=($!)
done
conntrack -E expect >"$RES/expect.events" 2>"$RES/expect.events.err" &
PIDS+=($!)
listening() { [[ $(<"$RES/tcpdump-$1.err") == *listening* ]] 2>/dev/null; }
for ((i = 0; i < 100; i++)); do
  ok=1
  for ns in "${CAPS[@]}"; do listening "$ns" || ok=0; done
  ((ok)) && ip netns exec server ss -Hltn "sport = :1723" | grep -q . && break
  sleep 0.1
done
ip netns exec server ss -Hltn "sport = :1723" | grep -q . || { cat "$RES/pptpd.log"; fail "pptpd is not listening on 1723"; }
log "server and captures ready"
sleep 0.3   # let `conntrack -E` subscribe

# ------------------------------------------------------------------------------------- clients
# pppd with pptp-linux as its pty; the call manager's socket (/run/pptp = /var/run/pptp) gets a
# tmpfs of its own in the mount namespace `ip netns exec` makes, so clients and redials do not share
# one control connection.  Unit = the ppp interface (ppp1 in client, ppp2 in client2).
PPPD_OPTS=(noauth nodeflate nobsdcomp noccp novj novjccomp nodetach noipdefault nodefaultroute
  lcp-echo-interval 10 lcp-echo-failure 6 debug)
mkdir -p /run/pptp
declare -A PPPD UNIT=([client]=1 [client2]=2)
dial() {  # $1 namespace, $2 attempt (log name)
  local u=${UNIT[$1]}
  : >"$RES/pppd-$1-$2.log"
  ip netns exec "$1" sh -c "mount -t tmpfs tmpfs /run/pptp && exec pppd pty 'pptp $SRV --nolaunchpppd --nohostroute' \
    ${PPPD_OPTS[*]} unit $u logfile $RES/pppd-$1-$2.log" >"$RES/pppd-$1-$2.out" 2>&1 &
  PPPD[$1]=$!
  PIDS+=($!)
  log "$1: dial ($2), pppd ${PPPD[$1]}"
}
up() {  # $1 namespace, $2 attempt, $3 seconds: until IPCP is up (pppd logs the remote address)
  local i l
  for ((i = 0; i < $3 * 5; i++)); do
    l=$(<"$RES/pppd-$1-$2.log")
    [[ $l == *"remote IP address $PEER"* ]] && { log "$1: tunnel up ($2) after ~$((i / 5)) s"; return 0; }
    kill -0 "${PPPD[$1]}" 2>/dev/null || { log "$1: pppd exited"; return 1; }
    sleep 0.2
  done
  log "$1: tunnel not up after $3 s"; return 1
}
ping_through() {  # $1 namespace, $2 attempt
  ip netns exec "$1" ping -n -c 3 -i 0.3 -W 3 -I "ppp${UNIT[$1]}" "$PEER" >"$RES/ping-$1-$2.txt" 2>&1
}
hangup() {  # $1 namespace: pppd ends the link (LCP TermReq), pptp clears the call (CCRQ)
  kill "${PPPD[$1]}" 2>/dev/null
  for ((i = 0; i < 100; i++)); do kill -0 "${PPPD[$1]}" 2>/dev/null || break; sleep 0.1; done
  kill -0 "${PPPD[$1]}" 2>/dev/null && { kill -9 "${PPPD[$1]}"; log "$1: pppd did not end within 10 s"; }
  log "$1: hung up"
}
gre_snapshot() { conntrack -L -p gre >"$RES/$1" 2>/dev/null; }

PING_OK=()   # "namespace-attempt" of every ping that got answers
check_ping() { ping_through "$1" "$2" && PING_OK+=("$1-$2"); log "$1: ping ($2): $(tail -n 2 "$RES/ping-$1-$2.txt" | head -n 1)"; }
GRE_ARGS=()
if [[ $HELPER == none ]]; then
  # LCP cannot complete: pppd would retry for 30 s; 10 s show it, then the client is stopped.
  dial client a
  up client a 10 && fail "the tunnel came up without a helper"
  gre_snapshot gre1.txt; GRE_ARGS+=(--gre "$RES/gre1.txt" 1:1)
  ip netns exec client ping -n -c 1 -W 2 "$PEER" >"$RES/ping-client-a.txt" 2>&1 && PING_OK+=(client-a)
  hangup client
elif [[ $CASE == call ]]; then
  dial client a
  up client a 40 && check_ping client a
  gre_snapshot gre1.txt; GRE_ARGS+=(--gre "$RES/gre1.txt" 1:1)
  hangup client
  sleep 1
  dial client b
  up client b 40 && check_ping client b
  gre_snapshot gre2.txt; GRE_ARGS+=(--gre "$RES/gre2.txt" 2:2)
  hangup client
else
  # one after the other up (a stable order of the evidence), then both ping while both are up
  dial client a
  up client a 40
  dial client2 a
  up client2 a 40
  check_ping client a
  check_ping client2 a
  gre_snapshot gre1.txt; GRE_ARGS+=(--gre "$RES/gre1.txt" 1:2)
  hangup client; hangup client2
fi
conntrack -L -p tcp --dport 1723 >"$RES/control-conntrack.txt" 2>/dev/null
sleep 0.5
for p in "${PIDS[@]:1:${#CAPS[@]}+1}"; do kill -INT "$p" 2>/dev/null; done   # tcpdumps, conntrack -E
sleep 0.5

# ------------------------------------------------------------------------------------- evidence
CAPARGS=()
for ns in "${CAPS[@]}"; do CAPARGS+=("$ns=$RES/$ns.pcap"); done
python3 "$PY" "$RES" "${CAPARGS[@]}" --expect "$RES/expect.events" "${GRE_ARGS[@]}" || fail "pptpcap.py failed"
declare -A F
while IFS== read -r k v; do F[$k]=$v; done <"$RES/facts"
fact() { echo "${F[$1]:-0}"; }
log "---- wire.norm"; cat "$RES/wire.norm"
log "---- expect.norm (NEW expectations, normalized)"; cat "$RES/expect.norm"
log "---- gre.norm (the router's GRE conntracks as flows)"; cat "$RES/gre.norm"
log "---- facts"; cat "$RES/facts"
log "---- conntrack -L -p gre"; cat "$RES"/gre*.txt

# ------------------------------------------------------------------------------------- verdict
NCALLS=2
# The control channel must work in every mode (a broken lab cannot pass as "failed as expected"):
# every call's OCRQ reached pptpd and was answered Connected.
[[ $HELPER == none ]] && NCALLS=1
(($(fact calls_at_server) == NCALLS)) || fail "$(fact calls_at_server) calls reached the server, expected $NCALLS (lab broken?)"
(($(fact server_ocrp_ok) == NCALLS)) || fail "pptpd answered $(fact server_ocrp_ok) of $NCALLS calls Connected"
(($(fact server_gre_from_$SRV) >= 1)) || fail "the server sent no GRE (pptpd/pppd not working?)"

if [[ $HELPER == none ]]; then
  (($(fact expectations) == 0)) || fail "expectations appeared without a helper"
  (($(fact client_gre_from_$SRV) == 0)) || fail "the server's GRE reached the client without a helper"
  # the server's GRE is a flow of its own to the router (no keymap, no expectation): it ends there
  grep -q "src=$SRV dst=$RTR_S .*UNREPLIED" "$RES/gre1.txt" || fail "the server's GRE never reached the router"
  ((${#PING_OK[@]} == 0)) || fail "ping through the tunnel worked without a helper"
  # (seen: the router answers it with ICMP protocol unreachable, and pptpd hangs up at once)
  pass "control channel ok (OCRP Connected), the server's GRE ended at the router ($(fact server_icmp_gre_unreachable_from_$RTR_S) ICMP protocol unreachable), no tunnel, ping failed: as it must without a helper"
fi

WANT=(client-a client-b); [[ $CASE == two ]] && WANT=(client-a client2-a)
for w in "${WANT[@]}"; do
  [[ " ${PING_OK[*]} " == *" $w "* ]] || fail "ping through the tunnel $w failed with the $HELPER helper"
done
(($(fact client_gre_from_$SRV) >= 1)) || fail "no GRE from the server reached the client"
# Under NAT the outside PNS call ID is a new one per connection: two clients never share one.
(($(fact expectations) >= 2 * NCALLS)) || fail "$(fact expectations) expectations, expected >= $((2 * NCALLS))"
(($(fact gre1_flows) >= 2)) || fail "the router carries no GRE flow both ways for call 1"

if [[ $HELPER == kernel ]]; then
  pass "$CASE: tunnels up, pings ok (${PING_OK[*]}), outside call IDs = the masqueraded TCP port ($(fact server_ocrq_sport)/$NCALLS); reference recorded"
fi
# Our outside call ID is the kernel's (the masqueraded TCP source port) unless it clashes.
(($(fact server_ocrq_sport) == NCALLS)) || fail "an outside PNS call ID is not the masqueraded TCP port (the kernel's choice)"
same_as_kernel wire.norm expect.norm gre.norm
pass "$CASE: tunnels up, pings ok (${PING_OK[*]}); control messages, expectations and GRE flows as the kernel ALG's"
