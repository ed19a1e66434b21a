#!/bin/bash
# Real PPTP tunnels through the masquerading router, on the VM kernel: Debian's pptpd in srv,
# pptp-linux + pppd in c1 and c2 (apt-get install pptpd pptp-linux ppp on the host first).
#   1. no helper: the control connection works, GRE from the server ends at the router;
#   2. the kernel's nf_conntrack_pptp + nf_nat_pptp (the oracle), one client;
#   3. a second client behind the same NAT at the same time;
#   4. c1's call torn down and dialled again;
#   5. two calls in ONE control connection (pptp-linux's call manager shares the connection of
#      every pptp to the same server that can reach its socket in /run/pptp).
# Each client's pppd normally gets a private /run/pptp (a tmpfs in its own mount namespace), so
# that c1 and c2 have a call manager and a control connection each.
# Evidence: the control messages and GRE call IDs as both ends see them (tshark), conntrack.
# Run: tests/vm/run --script tests/vm/research/pptp/tunnel.sh
set -u
source "$REPO/tests/vm/research/pptp/lab.sh"
W=/tmp/pptplab; rm -rf $W; mkdir -p $W
KVER=$(uname -r)
MODS=${CTHVM_CACHE:-/var/cache/cthelperd-vm}/linux-image-$KVER-unsigned/root/lib/modules/$KVER/kernel
kmod() { modprobe -d /run/initrd "$@"; }

for p in pptpd pptp pppd tshark; do
  command -v $p >/dev/null || { echo "SKIP: $p not installed on the host"; exit 77; }
done
# ppp is not in the VM's initramfs: the modules from the unpacked kernel package
kmod crc-ccitt || echo "modprobe crc-ccitt failed"
for m in slip/slhc ppp/ppp_generic ppp/ppp_async; do insmod $MODS/drivers/net/$m.ko || echo "insmod $m failed"; done
ls -l /dev/ppp || { echo "no /dev/ppp"; exit 1; }

cat >$W/pptpd.conf <<EOF
option $W/options.pptpd
localip 10.10.0.1
remoteip 10.10.0.100-109
EOF
# No authentication, no compression, no MPPE: this is about the transport.
cat >$W/options.pptpd <<EOF
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
logfile $W/pppd-server.log
EOF

mkdir -p /run/pptp
PPPD_OPTS="noauth nodeflate nobsdcomp noccp novj novjccomp nodetach noipdefault nodefaultroute"
PPPD_OPTS+=" lcp-echo-interval 10 lcp-echo-failure 6 debug"
dial() {  # $1 = c1|c2, $2 = ppp unit, $3 = private (own call manager) | shared
  local pre="mount -t tmpfs tmpfs /run/pptp &&"
  [[ ${3:-private} == shared ]] && pre=""
  ns $1 sh -c "$pre exec pppd pty 'pptp 10.0.2.2 --nolaunchpppd --nohostroute' $PPPD_OPTS \
    unit $2 logfile $W/pppd-$1-$2.log" >/dev/null 2>&1 &
  eval "PPPD_$1_$2=$!"
}
hangup() {  # $1 ns $2 unit
  local v="PPPD_$1_$2"
  kill "${!v}" 2>/dev/null; wait "${!v}" 2>/dev/null
}
up() {  # $1 ns $2 unit $3 seconds: waits for the tunnel's address
  local i
  for i in $(seq $(($3 * 5))); do
    ns $1 ip -4 addr show dev ppp$2 2>/dev/null | grep -q "inet " && {
      echo "$1: ppp$2 up after ~$((i / 5)) s: $(ns $1 ip -4 -br addr show dev ppp$2)"; return 0; }
    sleep 0.2
  done
  echo "$1: ppp$2 not up after $3 s"; return 1
}
ping_through() { ns $1 $PY $LAB udp-ping 10.10.0.1 7 5 --tag "$1-$3" --dev ppp$2; }

lab_up
for n in c1 c2 srv; do ns $n tcpdump -ni eth0 -w $W/$n.pcap 'tcp port 1723 or ip proto 47' 2>/dev/null & done
conntrack -E -o timestamp >$W/ct-events.txt 2>&1 &
conntrack -E expect -o timestamp >$W/exp-events.txt 2>&1 &
ns srv pptpd --fg --conf $W/pptpd.conf --option $W/options.pptpd --pidfile $W/pptpd.pid >$W/pptpd.log 2>&1 &
ns srv $PY $LAB udp-echo 7 900 >$W/udp-echo.log 2>&1 &
sleep 2

say "1. no helper"
ruleset
dial c1 1
up c1 1 15
echo "--- pppd in c1 (tail):"; tail -n 4 $W/pppd-c1-1.log | sed 's/^/    /'
ctgre; counters
hangup c1 1; sleep 1
conntrack -F >/dev/null 2>&1; nft flush ruleset

say "2. the kernel's nf_conntrack_pptp + nf_nat_pptp, one client"
kmod nf_conntrack_pptp && kmod nf_nat_pptp && echo "loaded: $(lsmod | grep -E '^nf_(conntrack|nat)_pptp' | awk '{print $1}' | xargs)"
ruleset 'ct helper pptp-std { type "pptp" protocol tcp; l3proto ip; }' 'tcp dport 1723 ct helper set "pptp-std"'
dial c1 1
up c1 1 40 && ping_through c1 1 one
echo "--- control connection:"; conntrack -L -p tcp --dport 1723 2>/dev/null | sed 's/^/    /'
ctgre; ctexp; counters

say "3. a second client behind the same NAT, at the same time"
dial c2 2
up c2 2 40
ping_through c1 1 both; ping_through c2 2 both
echo "--- control connections:"; conntrack -L -p tcp --dport 1723 2>/dev/null | sed 's/^/    /'
ctgre; counters

say "4. c1 hangs up and dials again"
hangup c1 1; sleep 3
ctgre
dial c1 1
up c1 1 40 && ping_through c1 1 again
ping_through c2 2 again
ctgre

say "5. two calls in one control connection (c1, shared call manager)"
hangup c1 1; hangup c2 2; sleep 3
dial c1 1 shared
up c1 1 40 && ping_through c1 1 first-alone
dial c1 3 shared
up c1 3 40
ping_through c1 1 first; ping_through c1 3 second
echo "--- control connections:"; conntrack -L -p tcp --dport 1723 2>/dev/null | sed 's/^/    /'
ctgre; ctexp; counters

say "evidence"
hangup c1 1; hangup c1 3; sleep 2
kill $(cat $W/pptpd.pid 2>/dev/null) 2>/dev/null
lab_down
for n in srv c1 c2; do
  echo "--- control messages at $n (frame, src, dst, type, call ID, peer's call ID):"
  tshark -n -r $W/$n.pcap -Y pptp -T fields -E occurrence=a -E aggregator=, \
    -e frame.number -e ip.src -e ip.dst -e pptp.control_message_type -e pptp.call_id -e pptp.peer_call_id 2>/dev/null | sed 's/^/    /'
  echo "--- GRE at $n (count, src, dst, call ID):"
  tshark -n -r $W/$n.pcap -Y gre -T fields -e ip.src -e ip.dst -e gre.key.call_id 2>/dev/null | sort | uniq -c | sed 's/^/    /'
done
echo "--- conntrack events (GRE and expectations):"
grep -E "gre|proto=47" $W/ct-events.txt $W/exp-events.txt | sed 's/^/    /' | head -60
echo "--- pppd server log (LCP/IPCP summary):"; grep -E "local  IP|remote IP|Connect:|Terminating|Modem hangup" $W/pppd-server.log | sed 's/^/    /' | head -20
[[ -d ${RESULTS:-} ]] && cp $W/*.pcap $W/*.txt $W/*.log "$RESULTS/" 2>/dev/null
exit 0
