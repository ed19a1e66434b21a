# Shared by the PPTP research scripts (sourced; runs in the VM, see gre.sh).
#
#   c1  10.0.1.2 --vc1-- router (VM root ns, masquerade out of vs) --vs-- srv 10.0.2.2
#   c2  10.0.3.2 --vc2--/          10.0.1.1 10.0.3.1 10.0.2.1
LAB=$REPO/tests/vm/research/pptp/gre_lab.py
PY=/usr/bin/python3
say() { echo; echo "=== $*"; }
run() { echo "+ $*"; "$@"; }
ns() { local n=$1; shift; ip netns exec "$n" "$@"; }

lab_up() {
  for n in c1 c2 srv; do ip netns add $n; done
  ip link add vc1 type veth peer name eth0 netns c1
  ip link add vc2 type veth peer name eth0 netns c2
  ip link add vs type veth peer name eth0 netns srv
  ip addr add 10.0.1.1/24 dev vc1; ip addr add 10.0.3.1/24 dev vc2; ip addr add 10.0.2.1/24 dev vs
  for l in vc1 vc2 vs; do ip link set $l up; done
  ns c1 ip addr add 10.0.1.2/24 dev eth0; ns c2 ip addr add 10.0.3.2/24 dev eth0
  ns srv ip addr add 10.0.2.2/24 dev eth0
  for n in c1 c2 srv; do ns $n ip link set lo up; ns $n ip link set eth0 up; done
  ns c1 ip route add default via 10.0.1.1; ns c2 ip route add default via 10.0.3.1
  ns srv ip route add default via 10.0.2.1
  sysctl -qw net.ipv4.ip_forward=1
  # neighbours resolved before the first GRE packet (there is no ping on the host)
  ns c1 ip neigh replace 10.0.1.1 lladdr $(cat /sys/class/net/vc1/address) dev eth0
  ns c2 ip neigh replace 10.0.3.1 lladdr $(cat /sys/class/net/vc2/address) dev eth0
  ns srv ip neigh replace 10.0.2.1 lladdr $(cat /sys/class/net/vs/address) dev eth0
  ip neigh replace 10.0.2.2 lladdr $(ns srv cat /sys/class/net/eth0/address) dev vs
  ip neigh replace 10.0.1.2 lladdr $(ns c1 cat /sys/class/net/eth0/address) dev vc1
  ip neigh replace 10.0.3.2 lladdr $(ns c2 cat /sys/class/net/eth0/address) dev vc2
}

lab_down() {
  local n p
  for n in c1 c2 srv; do
    for p in $(ip netns pids $n 2>/dev/null); do kill $p 2>/dev/null; done
  done
  sleep 1
  for n in c1 c2 srv; do
    for p in $(ip netns pids $n 2>/dev/null); do kill -9 $p 2>/dev/null; done
    ip netns del $n 2>/dev/null
  done
  ip link del vc1 2>/dev/null; ip link del vc2 2>/dev/null; ip link del vs 2>/dev/null
  nft flush ruleset; conntrack -F >/dev/null 2>&1; conntrack -F expect >/dev/null 2>&1
}

# Router ruleset: forward policy drop (established/related, new from the clients), GRE counters,
# masquerade out of vs.  $1 = the "ct helper" object lines (or empty) + prerouting attach rule.
ruleset() {
  local helper_obj=${1:-} attach=${2:-}
  nft -f - <<NFT
table ip lab {
    $helper_obj
    chain prerouting {
        type filter hook prerouting priority filter; policy accept;
        $attach
    }
    chain forward {
        type filter hook forward priority filter; policy drop;
        ct state established,related accept
        iifname { "vc1", "vc2" } ct state new accept
        ip protocol gre counter comment "gre dropped in forward"
    }
    chain input {
        type filter hook input priority filter; policy accept;
        ip protocol gre counter comment "gre delivered to the router itself"
    }
    chain postrouting { type nat hook postrouting priority srcnat; oifname "vs" masquerade; }
}
NFT
}
counters() { echo "--- nft counters:"; nft list chain ip lab forward | grep counter; nft list chain ip lab input | grep counter; }
ctgre() { echo "--- conntrack -L -p gre:"; conntrack -L -p gre 2>/dev/null | sed 's/^/    /'; }
ctexp() { echo "--- conntrack -L expect:"; conntrack -L expect 2>/dev/null | sed 's/^/    /'; }

# waits until the control connection from $1 is in conntrack
wait_master() {
  local i
  for i in $(seq 50); do
    conntrack -L -p tcp --dport 1723 --orig-src "$1" 2>/dev/null | grep -q ESTABLISHED && return 0
    sleep 0.2
  done
  echo "control connection from $1 not seen"; return 1
}
