# The HA lab of tests/vm/scenarios/ha.sh (bash, sourced): two routers with a shared address pair,
# conntrackd between them.  Needs HA_W (scratch dir, tmpfs in the VM), HA_RES (results dir) and log().
#
#   ha-c (client)            ha-sw (switch: two bridges)            ha-s (server)
#   eth0 192.168.10.10 ----- br lan -- lan [ha-r1] wan -- br wan ---- eth0 203.0.113.10
#   default via .1                  \-- lan [ha-r2] wan --/
#                                   ha-r1 sync 10.99.0.1/30 -- 10.99.0.2/30 sync ha-r2
#
# The shared addresses (what VRRP would move): 192.168.10.1/24 on lan (the client's gateway) and
# 203.0.113.1/24 on wan (the address both routers SNAT the client network to), on ha-r1 at first.
# Every router namespace has the same nft ruleset (nft/ha-router.nft + cthelperd's `nft` output),
# its own cthelperd, its own conntrackd (FTFW over UDP on the sync link).
HA_NS="ha-c ha-sw ha-r1 ha-r2 ha-s"
HA_VIP_LAN=192.168.10.1 HA_VIP_WAN=203.0.113.1 HA_CLI=192.168.10.10 HA_SRV=203.0.113.10

# ha_pids NS: the processes in namespace NS (found through /proc/PID/ns/net, no process started)
ha_pids() {
  local p out=()
  [[ -e /run/netns/$1 ]] || return 0
  for p in /proc/[0-9]*; do [[ $p/ns/net -ef /run/netns/$1 ]] && out+=("${p#/proc/}"); done
  echo "${out[@]}"
}
ha_teardown() {
  local ns pids
  for ns in $HA_NS; do
    pids=$(ha_pids "$ns")
    [[ -n $pids ]] && kill -9 $pids 2>/dev/null
  done
  # The routers' rulesets hold the helper registrations (their `ct helper` objects): flushed
  # before the namespaces go (a namespace is freed asynchronously), so that the runner's
  # `nfct helper delete` after the scenario does not meet a reference that is still going away.
  for ns in ha-r1 ha-r2; do
    [[ -e /run/netns/$ns ]] && ip netns exec "$ns" nft flush ruleset 2>/dev/null
  done
  for ns in $HA_NS; do [[ -e /run/netns/$ns ]] && ip netns del "$ns" 2>/dev/null; done
  return 0
}

ha_build() {
  ha_teardown
  ip -b - <<'EOF' || return 1
netns add ha-c
netns add ha-sw
netns add ha-r1
netns add ha-r2
netns add ha-s
link add eth0 netns ha-c type veth peer name lc netns ha-sw
link add lan netns ha-r1 type veth peer name l1 netns ha-sw
link add lan netns ha-r2 type veth peer name l2 netns ha-sw
link add eth0 netns ha-s type veth peer name ws netns ha-sw
link add wan netns ha-r1 type veth peer name w1 netns ha-sw
link add wan netns ha-r2 type veth peer name w2 netns ha-sw
link add sync netns ha-r1 type veth peer name sync netns ha-r2
EOF
  ip -n ha-sw -b - <<'EOF' || return 1
link set lo up
link add lan type bridge stp_state 0 forward_delay 0
link add wan type bridge stp_state 0 forward_delay 0
link set lc master lan
link set l1 master lan
link set l2 master lan
link set ws master wan
link set w1 master wan
link set w2 master wan
link set lan up
link set wan up
link set lc up
link set l1 up
link set l2 up
link set ws up
link set w1 up
link set w2 up
EOF
  ip -n ha-c -b - <<EOF || return 1
link set lo up
addr add $HA_CLI/24 dev eth0
link set eth0 up
route add default via $HA_VIP_LAN
EOF
  ip -n ha-s -b - <<EOF || return 1
link set lo up
addr add $HA_SRV/24 dev eth0
link set eth0 up
EOF
  local i
  for i in 1 2; do
    ip -n ha-r$i -b - <<EOF || return 1
link set lo up
addr add 10.99.0.$i/30 dev sync
link set sync up
link set lan up
link set wan up
EOF
    echo 1 | ip netns exec ha-r$i tee /proc/sys/net/ipv4/ip_forward >/dev/null || return 1
  done
  # the master's shared addresses
  ha_vip_add 1 || return 1
  # no TIME_WAIT in the end hosts (fixed ports: the client's 30000, vsftpd's 20, sipp's 5060)
  for i in ha-c ha-s; do
    echo 0 | ip netns exec $i tee /proc/sys/net/ipv4/tcp_max_tw_buckets >/dev/null || return 1
  done
}
ha_vip_add() { ip -n ha-r$1 -b - <<EOF
addr add $HA_VIP_LAN/24 dev lan
addr add $HA_VIP_WAN/24 dev wan
EOF
}

# ha_conntrackd_conf N SYNC_EXPECTATIONS(1|0): conntrackd.conf of router N in $HA_W (the file
# docs/ha.md shows, with this scenario's paths).
ha_conntrackd_conf() {
  local n=$1 peer=$((3 - $1)) opts=
  if [[ $2 == 1 ]]; then
    opts=$'\tOptions {\n\t\tExpectationSync {\n\t\t\tftp\n\t\t\tsip\n\t\t}\n\t}'
  fi
  cat >"$HA_W/conntrackd-r$n.conf" <<EOF
Sync {
	Mode FTFW {
		DisableExternalCache off
	}
	UDP {
		IPv4_address 10.99.0.$n
		IPv4_Destination_Address 10.99.0.$peer
		Port 3780
		Interface sync
		Checksum on
	}
$opts
}
General {
	Systemd off
	HashSize 8192
	HashLimit 65536
	LogFile $HA_W/conntrackd-r$n.log
	Syslog off
	LockFile $HA_W/conntrackd-r$n.lock
	UNIX {
		Path $HA_W/conntrackd-r$n.ctl
	}
	NetlinkBufferSize 2097152
	NetlinkBufferSizeMaxGrowth 8388608
	Filter From Userspace {
		Protocol Accept {
			TCP
			UDP
		}
		Address Ignore {
			IPv4_address 127.0.0.1
			IPv4_address 10.99.0.0/30
		}
	}
}
EOF
  cp "$HA_W/conntrackd-r$n.conf" "$HA_RES/conntrackd-r$n.conf"
}
# ha_ctd N ARGS...: conntrackd's client mode against router N's daemon
ha_ctd() { local n=$1; shift; ip netns exec ha-r$n conntrackd -C "$HA_W/conntrackd-r$n.conf" "$@"; }
# ha_start_conntrackd N...: each router N's conntrackd in the foreground (console mode), pid in
# CTD_PID[N]; returns when every one serves its UNIX socket (1: one did not start)
declare -A CTD_PID=()
ha_start_conntrackd() {
  local n i
  for n; do
    rm -f "$HA_W/conntrackd-r$n.lock" "$HA_W/conntrackd-r$n.ctl"
    ip netns exec ha-r$n conntrackd -C "$HA_W/conntrackd-r$n.conf" >"$HA_W/conntrackd-r$n.out" 2>&1 &
    CTD_PID[$n]=$!
  done
  for n; do
    for ((i = 0; i < 150; i++)); do
      [[ -S $HA_W/conntrackd-r$n.ctl ]] && break
      kill -0 "${CTD_PID[$n]}" 2>/dev/null || break
      sleep 0.1
    done
    [[ -S $HA_W/conntrackd-r$n.ctl ]] && continue
    cat "$HA_W/conntrackd-r$n.out" "$HA_W/conntrackd-r$n.log" 2>/dev/null
    return 1
  done
}
# ha_wait_external N PATTERN KIND(ct|expect) [TIMEOUT]: router N's external cache (what its peer
# sent) shows a line matching PATTERN (grep -E); the last dump is $HA_RES/rN-external-KIND.txt
ha_wait_external() {
  local n=$1 pat=$2 kind=$3 t=${4:-15} i f=$HA_RES/r$1-external-$3.txt
  for ((i = 0; i < t * 4; i++)); do
    ha_ctd "$n" -e "$kind" >"$f" 2>&1
    grep -Eq -- "$pat" "$f" && return 0
    sleep 0.25
  done
  return 1
}

# ha_router_down: router 1 fails.  In one kernel a dead router has to be made: first its sync
# link (nothing it does from now on reaches router 2, as from a machine that lost power), its LAN
# and WAN links, then its conntrackd (kill -9); its cthelperd gets SIGTERM (the graceful
# stop of a router taken out of service; in one kernel that stop is the other namespaces' business
# too: the registrations are global, see docs/ha.md).
ha_router_down() {
  ip -n ha-r1 -b - <<'EOF'
link set sync down
link set lan down
link set wan down
EOF
  kill -9 "${CTD_PID[1]}" 2>/dev/null; wait "${CTD_PID[1]}" 2>/dev/null
}
# ha_take_over: what keepalived does on router 2 when it becomes master: the shared addresses
# (with gratuitous ARP; here the end hosts' neighbour caches are flushed instead, which is
# deterministic), then the notify script's conntrackd steps of conntrack-tools'
# primary-backup.sh "primary": commit the external cache (-c), flush the caches (-f), resync the
# internal cache with the kernel (-R), bulk-send to the (absent) backup (-B).  The commit is made
# one kind at a time, conntracks first (an expectation needs its master): Debian's conntrackd
# 1.4.7 commits only the conntracks on a plain -c ("Committed 1 new entries", then its commit stays
# "in progress": the -f after it is ignored and the expectations are never committed).
ha_take_over() {
  local rc=0 c
  ha_vip_add 2 || return 1
  ip -n ha-c neigh flush dev eth0
  ip -n ha-s neigh flush dev eth0
  for c in "-c ct" "-c expect" -f -R -B; do
    echo "conntrackd $c" >>"$HA_RES/takeover.txt"
    # shellcheck disable=SC2086
    ha_ctd 2 $c >>"$HA_RES/takeover.txt" 2>&1 || { log "conntrackd $c on router 2 failed"; rc=1; }
  done
  return $rc
}
