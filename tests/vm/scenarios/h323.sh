#!/bin/bash
# H.323 scenarios, run inside the VM (chroot into the host's /).  $1 = scenario name, $2 = result dir.
#   h323-<case>-<fam>-masq-<helper>    helper: none kernel cthelperd
# Peers: scenarios/h323/peer.py (pycrate 0.8.1, installed by the tier through CTHVM_PIP), the
# calling side in the client namespace (behind the masquerading router), the other in the server
# namespace.  Cases (see tests/vm/README.md, "H.323 scenarios"):
#   direct     Setup, CallProceeding, Alerting, Connect with h245Address; a separate H.245
#              connection (the callee's OLC, the caller's OLC Ack with its RTP address)
#   faststart  the caller's receive channel in the Setup's fastStart
#   tunnel     h245Tunnelling: the callee's OLC in the Connect's h245Control, the caller's OLC Ack
#              in a Facility's
#   newer      direct, the Alerting/Connect/ReleaseComplete as an H.225.0 v7 encoder writes them when
#              their newest extension additions are absent: the kernel's decoder (v4 tables) reads a
#              length for every addition it does not know, present or not, and loses the Connect's
#              h245Address; its scenario passes when the call's media fails, cthelperd's when it works
#   forward    the caller forwards the call (Facility, callForwarded) to its own address, port 1721:
#              the callee's second call comes in through the forwarding expectation (the kernel's
#              own expectfn for it, ip_nat_callforwarding_expect, is what nf_nat_follow_master does
#              when the alternative address is the forwarding side's own) and carries the media
#   anysource  gk with gkrouted_only=0 (both helpers), the call from a third host of the server side
#              (10.0.2.3), not the gatekeeper: the kernel's expectfn for it (ip_nat_q931_expect)
#              only translates the destination; nf_nat_follow_master, all userspace can name, also
#              translates the source to the gatekeeper's address: the call and its media work in
#              both, the endpoint sees the caller as 10.0.2.3 (kernel) or 10.0.2.2 (cthelperd)
#   gk         GRQ/GCF, RRQ/RCF, the gatekeeper's call to the registered endpoint (gatekeeper-
#              routed: the Setup comes from the gatekeeper, through a Q.931 expectation), ARQ/ACF,
#              the endpoint's receive channel in the Connect's fastStart, URQ/UCF
# fam v4; direct also v6 (the kernel does not NAT IPv6: its scenario passes when it fails).
# In every case the side in the server namespace sends RTP to the address and port the signalling
# gave it as it arrived; the side in the client namespace must receive it (the router lets nothing
# new in from the server side unless it is expected).
set -uo pipefail
CTHVM_PACKAGES=(python3 conntrack)
CTHVM_PIP=(pycrate==0.8.1)
CTHVM_TIMEOUT=120
cthvm_list() {
  local c h
  for h in none kernel cthelperd; do
    for c in direct faststart tunnel forward gk; do echo "h323-$c-v4-masq-$h"; done
  done
  # gkrouted_only = 0: the registered endpoint accepts calls from anyone; a third host calls it
  echo "h323-anysource-v4-masq-kernel lab=fresh"
  echo "h323-anysource-v4-masq-cthelperd lab=fresh cthelperd=own"
  echo "h323-newer-v4-masq-kernel"
  echo "h323-newer-v4-masq-cthelperd"
  echo "h323-direct-v6-masq-kernel"
  echo "h323-direct-v6-masq-cthelperd"
}
source "$(dirname "${BASH_SOURCE[0]}")/../guest/scenario.sh" "$@"
HERE=$VMDIR/scenarios/h323

IFS=- read -r _ CASE FAM NET HELPER <<<"$NAME"
[[ $NET == masq ]] || fail "bad scenario name $NAME (net must be masq)"
case $CASE in direct|newer|faststart|tunnel|forward|gk|anysource) ;; *) fail "bad scenario name $NAME" ;; esac
if [[ $FAM == v4 ]]; then SRV=10.0.2.2 CLI=10.0.1.2 NAT=10.0.2.1
else SRV=fd00:2::2 CLI=fd00:1::2 NAT=fd00:2::1; fi
# Does a helper act here?  none: no; the kernel's H.323 NAT on IPv6: no (IPv4 only).
ACTS=1
[[ $HELPER == none ]] && ACTS=0
[[ $HELPER == kernel && $FAM == v6 ]] && ACTS=0
[[ $HELPER == kernel && $CASE == newer ]] && ACTS=0
log "scenario $NAME: case=$CASE fam=$FAM helper=$HELPER kernel=$KVER python=$(command -v python3)"
python3 -c 'import importlib.util as u, sys; sys.exit(u.find_spec("pycrate_asn1dir") is None)' \
  || fail "python3 ($(command -v python3)) cannot import pycrate_asn1dir: the tier's venv (CTHVM_PIP) is missing here"

# ------------------------------------------------------------------------------------- lab + helper
net_setup "$NET" || fail "network setup failed"
no_kernel_alg h323
if [[ $CASE == anysource ]]; then
  # a third host on the server side; gkrouted_only=0 in both helpers
  THIRD=10.0.2.3
  ip -n server addr add "$THIRD/24" dev eth0 nodad 2>/dev/null || ip -n server addr add "$THIRD/24" dev eth0 \
    || fail "cannot add $THIRD to the server"
  if [[ $HELPER != kernel ]]; then
    printf '[helper.RAS]\ngkrouted_only = 0\n' >"$W/cthelperd.toml"
    cp "$W/cthelperd.toml" "$RES/cthelperd.toml"
    CTH_ARGS=(-c "$W/cthelperd.toml")
  fi
fi
if [[ $HELPER == kernel ]]; then
  # module parameters are read-only once loaded: reload nf_conntrack_h323 when it runs with another
  # gkrouted_only than this case's (the ruleset's ct helper objects hold it: flushed first)
  WANT_GK=1
  [[ $CASE == anysource ]] && WANT_GK=0
  CUR_GK=$(cat /sys/module/nf_conntrack_h323/parameters/gkrouted_only 2>/dev/null)
  if [[ $CUR_GK != "$WANT_GK" ]]; then
    ruleset_flush
    if kmod_loaded nf_conntrack_h323; then
      rmmod nf_nat_h323 2>/dev/null; rmmod nf_conntrack_h323 || fail "cannot unload nf_conntrack_h323"
    fi
    kmod nf_conntrack_h323 gkrouted_only=$WANT_GK && kmod nf_nat_h323 \
      || fail "modprobe nf_conntrack_h323 gkrouted_only=$WANT_GK failed"
  fi
  [[ $(</sys/module/nf_conntrack_h323/parameters/gkrouted_only) == "$WANT_GK" ]] \
    || fail "nf_conntrack_h323 does not run with gkrouted_only=$WANT_GK"
fi
setup_helper h323
[[ $HELPER == kernel && ! -e /sys/kernel/debug/dynamic_debug ]] && mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
if [[ $HELPER == kernel && -w /sys/kernel/debug/dynamic_debug/control ]]; then
  # the kernel helper's pr_debug lines (what it decoded, or why not) go to dmesg.txt
  echo 'module nf_conntrack_h323 +p' >/sys/kernel/debug/dynamic_debug/control 2>/dev/null
  echo 'module nf_nat_h323 +p' >/sys/kernel/debug/dynamic_debug/control 2>/dev/null
  dmesg -C 2>/dev/null
fi

# ------------------------------------------------------------------------------------- the call
conntrack -E expect >"$RES/expect.events" 2>"$RES/expect.events.err" &
PIDS+=($!)
sleep 0.3   # let `conntrack -E` subscribe
if [[ $CASE == anysource ]]; then SROLE=(gk --call-from "$THIRD") CROLE=(endpoint --gk "$SRV")
elif [[ $CASE == gk ]]; then SROLE=(gk) CROLE=(endpoint --gk "$SRV")
else SROLE=(callee "$CASE") CROLE=(caller "$CASE" --server "$SRV"); fi
: >"$W/server.log"; : >"$W/client.log"
t0=$(now_ms)
ip netns exec server python3 "$HERE/peer.py" "${SROLE[@]}" --ip "$SRV" --log "$W/server.log" \
  --ready "$W/server.ready" >"$RES/server.out" 2>&1 &
SPID=$!
# the server side listens before the client side starts (python3 + pycrate take 10-30 s to start
# under TCG)
for ((i = 0; i < 600; i++)); do
  [[ -f $W/server.ready ]] && break
  kill -0 "$SPID" 2>/dev/null || break
  sleep 0.1
done
[[ -f $W/server.ready ]] || { cat "$RES/server.out"; fail "the server side did not start"; }
log "server side ready after $(( $(now_ms) - t0 )) ms"
ip netns exec client python3 "$HERE/peer.py" "${CROLE[@]}" --ip "$CLI" --log "$W/client.log" \
  >"$RES/client.out" 2>&1 &
CPID=$!
wait "$CPID"; CRC=$?
wait "$SPID"; SRC=$?
log "client side exit $CRC, server side exit $SRC after $(( $(now_ms) - t0 )) ms"
sleep 0.5
kill -INT "${PIDS[0]}" 2>/dev/null   # conntrack -E
sleep 0.3
conntrack -L >"$RES/conntrack.txt" 2>&1
[[ $HELPER == kernel ]] && dmesg >"$RES/dmesg.txt" 2>&1

# ------------------------------------------------------------------------------------- evidence
# wire.norm: every message each side received (hex, as it arrived) and the RTP it got.
cp "$W/server.log" "$RES/server.log"; cp "$W/client.log" "$RES/client.log"
grep -E ' < | rtp-received ' "$W/server.log" "$W/client.log" | sed 's|^[^:]*/||; s|^[a-z]*\.log:||' >"$RES/wire.norm"
# expect.norm: conntrack -E expect without the timeout; runs of DESTROY sorted (the kernel removes
# a master's expectations in its list order, cthelperd in ctnetlink's dump order).
python3 "$HERE/norm.py" expect "$RES/expect.events" >"$RES/expect.norm"
log "---- server side"; cat "$RES/server.log" "$RES/server.out"
log "---- client side"; cat "$RES/client.log" "$RES/client.out"
log "---- expect.norm"; cat "$RES/expect.norm"

# ------------------------------------------------------------------------------------- verdict
RTP=$(sed -n 's/^[a-z]* rtp-received //p' "$RES/client.log")
MEDIA=$(sed -n 's/^[a-z]* media-address //p' "$RES/server.log")
NEXP=$(grep -c '^NEW ' "$RES/expect.norm")
SEEN="$RTP/10 RTP packets arrived, the server side sent to ${MEDIA:-nothing}, $NEXP expectations"
if [[ $CASE == gk || $CASE == anysource ]]; then
  # the registration itself needs no helper: it must always complete
  grep -q '^gk < ras registrationRequest' "$RES/server.log" || fail "the RRQ never reached the gatekeeper"
  grep -q '^endpoint < ras registrationConfirm' "$RES/client.log" || fail "the RCF never reached the endpoint"
  REG=$(sed -n 's/^gk registered //p' "$RES/server.log")
  if ((ACTS == 0)); then
    grep -q '^gk call-failed' "$RES/server.log" || fail "without a helper the gatekeeper's call reached the endpoint ($SEEN)"
    [[ ${RTP:-0} == 0 ]] || fail "RTP arrived without a helper"
    pass "fails as expected: the endpoint registered $REG, the gatekeeper's call did not reach it"
  fi
  [[ $REG == "$NAT:"* ]] || fail "the gatekeeper saw the call signal address $REG, not the router's"
  ((CRC == 0 && SRC == 0)) || fail "a peer failed (client $CRC, server $SRC): $SEEN"
else
  # the signalling is opened from the client side: it must always complete
  grep -q '^callee < q931 setup' "$RES/server.log" || fail "the Setup never reached the callee"
  if [[ $CASE == forward ]]; then
    grep -q '^callee < q931 facility' "$RES/server.log" || fail "the forwarding Facility never reached the callee"
    FWD=$(sed -n 's/^callee forwarded-to //p' "$RES/server.log")
    if ((ACTS == 0)); then
      grep -q '^callee call-failed' "$RES/server.log" || fail "without a helper the forwarded call reached the caller ($SEEN)"
      pass "fails as expected: forwarded to $FWD, the callee's second call did not reach the caller"
    fi
    [[ $FWD == "$NAT:1721" ]] || fail "the callee was forwarded to $FWD, not to the router's address"
  else
    grep -q '^caller < q931 connect' "$RES/client.log" || fail "the Connect never reached the caller"
  fi
  if ((ACTS == 0)); then
    [[ ${RTP:-0} == 0 ]] || fail "RTP arrived without a helper ($SEEN)"
    [[ $MEDIA == "$CLI:"* ]] || fail "the media address was rewritten without a helper ($SEEN)"
    [[ $HELPER == kernel && $FAM == v6 ]] && pass "kernel ALG fails as expected (no IPv6 NAT): $SEEN"
    if [[ $HELPER == kernel ]]; then
      grep -q 'nf_ct_q931: decoding error' "$RES/dmesg.txt" 2>/dev/null || log "(no decoding error in dmesg.txt)"
      pass "kernel ALG fails as expected (cannot decode the v7 Connect): $SEEN"
    fi
    pass "fails as expected: $SEEN"
  fi
  ((CRC == 0 && SRC == 0)) || fail "a peer failed (client $CRC, server $SRC): $SEEN"
fi
[[ $MEDIA == "$NAT:"* ]] || fail "the media address is not the router's: $SEEN"
[[ $RTP == 10 ]] || fail "$SEEN"
if [[ $CASE == anysource ]]; then
  FROM=$(sed -n 's/^endpoint call-from //p' "$RES/client.log")
  if [[ $HELPER == kernel ]]; then
    [[ $FROM == "$THIRD" ]] || fail "the endpoint saw the call from $FROM, not from the caller $THIRD"
    pass "call from $THIRD ok (seen from $FROM: the destination alone translated), $SEEN"
  fi
  [[ $FROM == "$SRV" ]] || fail "the endpoint saw the call from $FROM, expected the gatekeeper's address $SRV (nat-follow-master)"
  pass "call from $THIRD ok, seen from the gatekeeper's address $FROM (nat-follow-master; the kernel's Q.931 expectfn keeps $THIRD), $SEEN"
fi
[[ $HELPER == kernel ]] && pass "call ok, $SEEN; reference recorded"
if [[ $FAM == v6 ]]; then pass "call ok over IPv6 (the kernel ALG cannot), $SEEN"; fi
if [[ $CASE == newer ]]; then pass "call ok with v7 encodings (the kernel ALG cannot decode them), $SEEN"; fi
same_as_kernel expect.norm wire.norm
pass "call ok, $SEEN; expectations and received bytes identical to the kernel ALG's"
