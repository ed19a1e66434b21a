# Guest-side library (bash, runs chrooted into the host's / inside the VM).
# Sourced by stage2.sh, the scenarios, and the --shell rc file.
VMDIR=${VMDIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
KVER=$(uname -r)

# modprobe from the initramfs (the host's / has no modules for this kernel)
kmod() { modprobe -d /run/initrd "$@"; }

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
ts() { date +%H:%M:%S.%3N; }
log() { echo "[$(ts)] $*"; }

BASE_MODULES="nf_conntrack nf_nat nf_tables nft_ct nft_chain_nat nft_masq nfnetlink_queue
  nfnetlink_cthelper nf_conntrack_netlink nft_queue veth"
load_base_modules() {
  local m
  for m in $BASE_MODULES; do kmod "$m" || echo "CTHVM: modprobe $m failed"; done
}

# Kill everything running in the lab namespaces, drop them and the router's state.
reset_state() {
  local ns p
  for ns in client server; do
    if ip netns list 2>/dev/null | grep -qw "$ns"; then
      for p in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
      ip netns del "$ns"
    fi
  done
  ip link del vc 2>/dev/null; ip link del vs 2>/dev/null
  nft flush ruleset
  conntrack -F >/dev/null 2>&1
  conntrack -F expect >/dev/null 2>&1
  # userspace helpers (nfnetlink_cthelper) outlive their process: drop them so that every scenario
  # starts from a kernel without registrations (unreferenced once the conntracks are flushed)
  local h
  for h in $(nfct helper list 2>/dev/null | sed -n 's/^[[:space:]]*\.name = \(.*\),$/\1/p' | sort -u); do
    nfct helper delete "$h" 2>/dev/null || echo "CTHVM: nfct helper delete $h failed"
  done
  sysctl -qw net.ipv4.ip_forward=0 net.ipv6.conf.all.forwarding=0
  return 0
}

# Lab: client (10.0.1.2, fd00:1::2) -- vc [router = the VM's root ns] vs -- server (10.0.2.2, fd00:2::2)
# $1 = masq | nonat | none (no ruleset).  Rulesets: tests/vm/nft/router-<net>.nft
net_setup() {
  local net=${1:-masq}
  ip netns add client; ip netns add server
  ip link add vc type veth peer name eth0 netns client
  ip link add vs type veth peer name eth0 netns server
  sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
  ip addr add 10.0.1.1/24 dev vc; ip -6 addr add fd00:1::1/64 dev vc nodad; ip link set vc up
  ip addr add 10.0.2.1/24 dev vs; ip -6 addr add fd00:2::1/64 dev vs nodad; ip link set vs up
  local ns i
  for ns in client server; do
    i=1; [[ $ns == server ]] && i=2
    ip -n $ns link set lo up
    ip -n $ns addr add 10.0.$i.2/24 dev eth0
    ip -n $ns -6 addr add fd00:$i::2/64 dev eth0 nodad
    ip -n $ns link set eth0 up
    ip -n $ns route add default via 10.0.$i.1
    ip -n $ns -6 route add default via fd00:$i::1
  done
  if [[ $net != none ]]; then nft -f "$VMDIR/nft/router-$net.nft" || return 1; fi
}
