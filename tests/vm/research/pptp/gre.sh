#!/bin/bash
# GRE without the kernel's keymap, on the VM kernel: what conntrack does with enhanced-GRE (v1)
# packets through a masquerading router, with and without hand-made expectations, one and two
# clients behind the NAT.  Run: tests/vm/run --script tests/vm/research/pptp/gre.sh
#
#   c1  10.0.1.2 --vc1-- router (VM root ns, masquerade out of vs) --vs-- srv 10.0.2.2
#   c2  10.0.3.2 --vc2--/          10.0.1.1 10.0.3.1 10.0.2.1
#
# The "PNS" (client) uses call ID 0x0100 on both clients; the "PAC" (server) uses 0x4001 for c1's
# call and 0x4002 for c2's.  Outside the NAT the PNS call IDs become the control connections'
# TCP source ports as the server sees them (30001, 30002), as nf_nat_pptp does.
set -u
source "$REPO/tests/vm/research/pptp/lab.sh"
W=/tmp/grelab; rm -rf $W; mkdir -p $W
HELPER_OBJ='ct helper upptp { type "upptp" protocol tcp; l3proto ip; }'
ATTACH='tcp dport 1723 ct helper set "upptp"'

# GRE receivers in the three namespaces for the whole run, output in $W/<ns>.gre
recv_start() {
  rm -f $W/*.ready
  for n in c1 c2 srv; do ns $n $PY $LAB gre-recv --secs 900 --out $W/$n.gre --ready $W/$n.ready & done
  local i; for i in $(seq 100); do [[ -f $W/c1.ready && -f $W/c2.ready && -f $W/srv.ready ]] && break; sleep 0.1; done
}
show_recv() {
  sleep 1
  for n in c1 c2 srv; do
    echo "--- GRE received in $n:"; sort $W/$n.gre 2>/dev/null | sed 's/#[0-9]*$//' | uniq -c | sed 's/^/    /'; : >$W/$n.gre
  done
}

echo "kernel $(uname -r)"
lab_up
recv_start
for n in c1 c2 srv; do ns $n tcpdump -ni eth0 -w $W/$n.pcap ip proto 47 or tcp port 1723 2>/dev/null & done
sleep 1

say "A. no helper, no expectation: c1 -> srv key 0x4001, srv -> router key 30001"
ruleset
ns c1 $PY $LAB gre-send --src 10.0.1.2 --dst 10.0.2.2 --key 0x4001 --tag A-c1
ns srv $PY $LAB gre-send --src 10.0.2.2 --dst 10.0.2.1 --key 30001 --tag A-srv
show_recv; ctgre; counters
conntrack -F >/dev/null 2>&1; nft flush ruleset

say "B. userspace helper + GRE expectations by hand, one client"
run $PY $LAB register upptp --max 8 --timeout 300 --priv 16 --status 0
ruleset "$HELPER_OBJ" "$ATTACH"
conntrack -E expect >$W/exp-events.txt 2>&1 &
EV=$!
ns srv $PY $LAB tcp-server 1723 200 >$W/tcp-server.log 2>&1 &
for i in $(seq 100); do grep -q listening $W/tcp-server.log 2>/dev/null && break; sleep 0.1; done
ns c1 $PY $LAB tcp-client 10.0.2.2 1723 30001 200 &
wait_master 10.0.1.2
echo "--- the control connection:"; conntrack -L -p tcp --dport 1723 2>/dev/null | sed 's/^/    /'
M1=10.0.1.2:30001-10.0.2.2:1723
# PAC -> PNS: what the server sends to the router's address with the outside PNS call ID 30001;
# NAT follows the master in the REPLY direction: dst -> master orig src (10.0.1.2), key -> 0x0100.
run $PY $LAB expect --master $M1 --src 10.0.2.2 --dst 10.0.2.1 --dkey 30001 --flags 1 --nat 1,10.0.1.2,0x0100
# PNS -> PAC: what c1 sends with the PAC's call ID; NAT in the ORIGINAL direction:
# src -> master reply dst (10.0.2.1), dst -> master reply src (10.0.2.2), key kept 0x4001.
run $PY $LAB expect --master $M1 --src 10.0.1.2 --dst 10.0.2.2 --dkey 0x4001 --flags 1 --nat 0,10.0.2.2,0x4001
ctexp
ns c1 $PY $LAB gre-send --src 10.0.1.2 --dst 10.0.2.2 --key 0x4001 --tag B-c1
ns srv $PY $LAB gre-send --src 10.0.2.2 --dst 10.0.2.1 --key 30001 --tag B-srv
show_recv; ctgre; ctexp; counters

say "C. a second client behind the same NAT, same inside call ID 0x0100"
ns c2 $PY $LAB tcp-client 10.0.2.2 1723 30002 200 &
wait_master 10.0.3.2
conntrack -L -p tcp --dport 1723 2>/dev/null | sed 's/^/    /'
M2=10.0.3.2:30002-10.0.2.2:1723
echo "--- without a call-ID rewrite both calls would need the same reply expectation (dstkey 0x0100):"
run $PY $LAB expect --master $M1 --src 10.0.2.2 --dst 10.0.2.1 --dkey 0x0100 --flags 0 --nat 1,10.0.1.2,0x0100
run $PY $LAB expect --master $M2 --src 10.0.2.2 --dst 10.0.2.1 --dkey 0x0100 --flags 0 --nat 1,10.0.3.2,0x0100
echo "--- and the same without NLM_F_EXCL (what happens to the second?):"
run $PY $LAB expect --master $M2 --src 10.0.2.2 --dst 10.0.2.1 --dkey 0x0100 --flags 0 --nat 1,10.0.3.2,0x0100 --no-excl
ctexp
conntrack -D expect -p gre --tuple-src 10.0.2.2 --tuple-dst 10.0.2.1 --tuple-key-src 0 --tuple-key-dst 0x0100 >/dev/null 2>&1 \
  || echo "(conntrack -D expect by tuple failed)"
echo "--- c2 with its own outside call ID 30002; another master asking for 30001 clashes:"
run $PY $LAB expect --master $M2 --src 10.0.2.2 --dst 10.0.2.1 --dkey 30001 --flags 0 --nat 1,10.0.3.2,0x0100
run $PY $LAB expect --master $M2 --src 10.0.2.2 --dst 10.0.2.1 --dkey 30002 --flags 0 --nat 1,10.0.3.2,0x0100
run $PY $LAB expect --master $M2 --src 10.0.3.2 --dst 10.0.2.2 --dkey 0x4002 --flags 0 --nat 0,10.0.2.2,0x4002
ctexp
ns c2 $PY $LAB gre-send --src 10.0.3.2 --dst 10.0.2.2 --key 0x4002 --tag C-c2
ns srv $PY $LAB gre-send --src 10.0.2.2 --dst 10.0.2.1 --key 30002 --tag C-srv-to-30002
ns srv $PY $LAB gre-send --src 10.0.2.2 --dst 10.0.2.1 --key 30001 --tag C-srv-to-30001
ns c1 $PY $LAB gre-send --src 10.0.1.2 --dst 10.0.2.2 --key 0x4001 --tag C-c1
show_recv; ctgre; ctexp; counters

say "D. lifetimes: unreplied GRE conntracks, idle expiry, PERMANENT (c1) vs one-shot (c2) expectations"
ctgre
echo "--- traffic every 5 s for 15 s in one direction only (c1 -> srv):"
for i in 1 2 3; do ns c1 $PY $LAB gre-send --src 10.0.1.2 --dst 10.0.2.2 --key 0x4001 --count 1 --tag D-uni >/dev/null; sleep 5; done
ctgre
echo "--- refresh c1's PAC->PNS expectation to 600 s (NLM_F_EXCL off + CTA_EXPECT_TIMEOUT):"
run $PY $LAB expect-timeout --master $M1 --src 10.0.2.2 --dst 10.0.2.1 --dkey 30001 --timeout 600
ctexp
echo "--- idle 35 s ..."
sleep 35
ctgre; ctexp
ns srv $PY $LAB gre-send --src 10.0.2.2 --dst 10.0.2.1 --key 30001 --tag D-after-idle-to-30001
ns srv $PY $LAB gre-send --src 10.0.2.2 --dst 10.0.2.1 --key 30002 --tag D-after-idle-to-30002
show_recv; ctgre; counters

say "expectation events (conntrack -E expect)"
kill $EV 2>/dev/null; sleep 0.5; sed 's/^/    /' $W/exp-events.txt
lab_down
for n in c1 c2 srv; do
  echo "--- tcpdump in $n (GRE, payload not shown):"
  tcpdump -tnr $W/$n.pcap 'ip proto 47' 2>/dev/null | grep GRE | sed 's/: unknown PPP.*//; s/seq [0-9]*, //' | sort | uniq -c | sed 's/^/    /'
done
[[ -d ${RESULTS:-} ]] && cp $W/*.pcap "$RESULTS/" 2>/dev/null
exit 0
