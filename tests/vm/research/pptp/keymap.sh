#!/bin/bash
# Does the VM kernel read a userspace helper's private data as nf_ct_pptp_master when a GRE
# conntrack expected by that helper's connection dies?  destroy_gre_conntrack() calls
# nf_ct_gre_keymap_destroy(ct->master) for any master (until the 2026 nf-next fix "call
# nf_ct_gre_keymap_destroy() if master helper is pptp"); that function takes bytes 16..23 and
# 24..31 of the master's help data as the two keymap pointers and list_del_rcu()s / kfree_rcu()s
# them when they are not NULL.  Three rounds, each: private data set, a GRE child created through
# an expectation, the child deleted:
#   1. 32 zero bytes; 2. bytes 0..15 = 0x11, 16..31 zero; 3. bytes 16..31 = 0x41 (may oops).
# Run: tests/vm/run --script tests/vm/research/pptp/keymap.sh   (the last round may kill the VM)
set -u
source "$REPO/tests/vm/research/pptp/lab.sh"
W=/tmp/keymap; rm -rf $W; mkdir -p $W

lab_up
run $PY $LAB register upptp --max 8 --timeout 300 --priv 32 --status 0
ruleset 'ct helper upptp { type "upptp" protocol tcp; l3proto ip; }' 'tcp dport 1723 ct helper set "upptp"'
ns srv $PY $LAB tcp-server 1723 300 >$W/tcp-server.log 2>&1 &
for i in $(seq 100); do grep -q listening $W/tcp-server.log 2>/dev/null && break; sleep 0.1; done
ns c1 $PY $LAB tcp-client 10.0.2.2 1723 30001 300 &
wait_master 10.0.1.2
M1=10.0.1.2:30001-10.0.2.2:1723
dmesg -c >/dev/null

round() {  # $1 name, $2 hex private data (64 hex digits)
  say "round $1: private data $2"
  run $PY $LAB setpriv --master $M1 --helper upptp --hex "$2"
  run $PY $LAB expect --master $M1 --src 10.0.2.2 --dst 10.0.2.1 --dkey 30001 --nat 1,10.0.1.2,0x0100
  ns srv $PY $LAB gre-send --src 10.0.2.2 --dst 10.0.2.1 --key 30001 --count 1 --tag "$1"
  ctgre
  echo "+ conntrack -D -p gre"
  timeout 20 conntrack -D -p gre 2>&1 | sed 's/^/    /'
  echo "    (exit ${PIPESTATUS[0]})"
  sleep 1
  echo "--- dmesg:"; dmesg -c | grep -v -E "^\s*$" | head -40 | sed 's/^/    /'
  ctgre
}
Z16=00000000000000000000000000000000
round zero "$Z16$Z16"
round low16 "11111111111111111111111111111111$Z16"
round high16 "${Z16}41414141414141414141414141414141"
exit 0
