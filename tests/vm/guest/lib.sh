# Guest-side library (bash, runs chrooted into the host's / inside the VM).
# Sourced by stage2.sh, the scenarios (through scenario.sh), and the --shell rc file.
# Every process start costs ~60-150 ms under TCG: the helpers here use bash builtins where they can.
VMDIR=${VMDIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
if [[ -n ${CTHVM_VENV:-} ]]; then   # pip packages
  [[ -x $CTHVM_VENV/bin/python3 ]] \
    || echo "CTHVM: error: the venv $CTHVM_VENV has no runnable bin/python3 in the guest (made by a python the guest cannot see?)" >&2
  PATH=$CTHVM_VENV/bin:$PATH
fi
[[ -n ${KVER:-} ]] || KVER=$(uname -r)
export KVER

# modprobe from the initramfs (the host's / has no modules for this kernel)
kmod() { modprobe -d /run/initrd "$@"; }
# kmod_loaded MODULE...: true when every one is loaded (built-in or module), no process started
kmod_loaded() { local m; for m; do [[ -d /sys/module/${m//-/_} ]] || return 1; done; }

now_ms() { local t=${EPOCHREALTIME/./}; echo $((t / 1000)); }
ts() { local t=${EPOCHREALTIME#*.}; printf '%(%H:%M:%S)T.%s' -1 "${t:0:3}"; }
log() { echo "[$(ts)] $*"; }
# sleep without starting /bin/sleep: a read that times out on a fifo nobody writes to (stage2 makes
# it once per boot; without it, /bin/sleep)
NAP_FIFO=/tmp/cthvm/.nap
nap() {
  [[ -z ${_NAP_FD:-} && -p $NAP_FIFO ]] && exec {_NAP_FD}<>"$NAP_FIFO"
  if [[ -n ${_NAP_FD:-} ]]; then read -r -t "$1" -u "$_NAP_FD" _; else command sleep "$1"; fi
  return 0
}
sleep() { if [[ $# == 1 && $1 =~ ^[0-9]*\.?[0-9]+$ ]]; then nap "$1"; else command sleep "$@"; fi; }

BASE_MODULES="nf_conntrack nf_nat nf_tables nft_ct nft_chain_nat nft_masq nfnetlink_queue
  nfnetlink_cthelper nf_conntrack_netlink nft_queue veth"
load_base_modules() { # one modprobe for all (busybox modprobe -a), then a check of each
  local m missing=()
  # shellcheck disable=SC2086
  kmod -a $BASE_MODULES || echo "CTHVM: modprobe -a failed"
  for m in $BASE_MODULES; do kmod_loaded "$m" || missing+=("$m"); done
  ((${#missing[@]} == 0)) || echo "CTHVM: modules not loaded: ${missing[*]}"
}

# ---------------------------------------------------------------------------------------------------
# The lab: client (10.0.1.2, fd00:1::2) -- vc [router = the VM's root ns] vs -- server (10.0.2.2,
# fd00:2::2).  Built once per boot (lab_build) and reset between scenarios (lab_reset); a scenario
# that changes it (addresses, routes) declares lab=fresh and gets it rebuilt before and after it.
LAB_NS="client server"
lab_build() { # (re)creates namespaces, veths, addresses, routes; forwarding on; no ruleset
  lab_teardown
  # One `ip -batch` per namespace: ~25 process starts become 3.
  ip -b - <<'EOF' || return 1
netns add client
netns add server
link add vc type veth peer name eth0 netns client
link add vs type veth peer name eth0 netns server
addr add 10.0.1.1/24 dev vc
addr add fd00:1::1/64 dev vc nodad
link set vc up
addr add 10.0.2.1/24 dev vs
addr add fd00:2::1/64 dev vs nodad
link set vs up
EOF
  local ns i
  for ns in $LAB_NS; do
    i=1; [[ $ns == server ]] && i=2
    ip -n "$ns" -b - <<EOF || return 1
link set lo up
addr add 10.0.$i.2/24 dev eth0
addr add fd00:$i::2/64 dev eth0 nodad
link set eth0 up
route add default via 10.0.$i.1
route add default via fd00:$i::1
EOF
  done
  # No TIME_WAIT in the end hosts: a namespace kept between scenarios must not refuse the next
  # scenario's fixed ports (curl from 30000, vsftpd from 20, sipp 5060) while an old connection
  # waits out 60 s.  The router terminates nothing, so this changes nothing on the wire.
  for ns in $LAB_NS; do
    echo 0 | ip netns exec "$ns" tee /proc/sys/net/ipv4/tcp_max_tw_buckets >/dev/null || return 1
  done
  echo 1 >/proc/sys/net/ipv4/ip_forward; echo 1 >/proc/sys/net/ipv6/conf/all/forwarding
  LAB_UP=1
}
lab_kill() { # every process in the lab namespaces (found without starting a process: /proc/PID/ns/net
  # and /run/netns/NAME are the same nsfs inode for a process in NAME)
  local ns p pids=()
  for ns in $LAB_NS; do
    [[ -e /run/netns/$ns ]] || continue
    for p in /proc/[0-9]*; do [[ $p/ns/net -ef /run/netns/$ns ]] && pids+=("${p#/proc/}"); done
  done
  ((${#pids[@]})) && kill -9 "${pids[@]}" 2>/dev/null
  return 0
}
lab_teardown() {
  lab_kill
  local ns cmds=
  for ns in $LAB_NS; do [[ -e /run/netns/$ns ]] && cmds+="netns del $ns"$'\n'; done
  [[ -e /sys/class/net/vc ]] && cmds+=$'link del vc\n'
  [[ -e /sys/class/net/vs ]] && cmds+=$'link del vs\n'
  [[ -z $cmds ]] || ip -force -b - <<<"$cmds" 2>/dev/null
  LAB_UP=0
}
# The kernel state a scenario leaves behind, flushed: processes in the lab, the conntrack and
# expectation tables; the ruleset when the scenario changed it other than through ruleset_load (it is
# otherwise kept, and replaced in one transaction by the next scenario that wants another).  Helper
# registrations are cthelperd's business (stage2).
lab_reset() {
  lab_kill
  [[ -e $RULESET_STATE.dirty ]] && ruleset_flush
  conntrack -F >/dev/null 2>&1
  conntrack -F expect >/dev/null 2>&1
  return 0
}
# Everything, as before a scenario that needs a fresh kernel: the lab torn down, ruleset, tables, and
# every userspace helper registration (nfnetlink_cthelper registrations outlive their process).
reset_state() {
  lab_teardown
  ruleset_flush
  lab_reset
  delete_helper_registrations
  echo 0 >/proc/sys/net/ipv4/ip_forward; echo 0 >/proc/sys/net/ipv6/conf/all/forwarding
  return 0
}
delete_helper_registrations() {
  local h l names=()
  while IFS= read -r l; do
    [[ $l =~ ^[[:space:]]*\.name\ =\ (.*),$ ]] && names+=("${BASH_REMATCH[1]}")
  done <<<"$(nfct helper list 2>/dev/null)"
  for h in $(printf '%s\n' "${names[@]}" | sort -u); do
    nfct helper delete "$h" 2>/dev/null || echo "CTHVM: nfct helper delete $h failed"
  done
}

# ---------------------------------------------------------------------------------------------------
# Rulesets.  ruleset_load FILE... makes the root namespace's ruleset exactly those files, in one nft
# transaction (flush ruleset + the files), and writes what the kernel echoed to $RES/ruleset.txt; when
# the same files are loaded already (the previous scenario's) nothing is loaded again.  Anything else
# that runs nft in the root namespace (scenario.sh's nft wrapper) marks the ruleset dirty: stage2
# flushes it after that scenario.
RULESET_STATE=/tmp/cthvm/.ruleset
ruleset_load() {
  local id f cur= tmp=/tmp/cthvm/.ruleset.nft out=${RES:-/tmp/cthvm}/ruleset.txt
  id="files: $*"
  [[ -f $RULESET_STATE && ! -e $RULESET_STATE.dirty ]] && cur=$(<"$RULESET_STATE")
  if [[ -n $cur && $cur == "$id" && -f $RULESET_STATE.echo ]]; then
    printf '%s\n' "$(<"$RULESET_STATE.echo")" >"$out"
    return 0
  fi
  mkdir -p /tmp/cthvm
  { echo "flush ruleset"; for f; do printf 'include "%s"\n' "$f"; done; } >"$tmp"
  rm -f "$RULESET_STATE" "$RULESET_STATE.dirty"
  command nft -e -f "$tmp" >"$RULESET_STATE.echo" || { cat "$RULESET_STATE.echo"; return 1; }
  echo "$id" >"$RULESET_STATE"
  printf '%s\n' "$(<"$RULESET_STATE.echo")" >"$out"
}
ruleset_flush() { command nft flush ruleset; rm -f "$RULESET_STATE" "$RULESET_STATE.dirty"; }

# net_setup NET: the lab, with the router ruleset tests/vm/nft/router-NET.nft (NET = masq | nonat |
# dnat) or none.  Builds the lab when it is not up (a --script, the shell); in a suite stage2 has
# built it.  The ruleset is loaded by setup_helper / helper_ready (scenario.sh) together with the
# helper's attach rules: one transaction; a script without them calls ruleset_sync.
RULESET_FILES=()
net_setup() {
  local net=${1:-masq}
  if [[ ${LAB_UP:-0} != 1 ]] || [[ ! -e /run/netns/client ]]; then lab_build || return 1; fi
  RULESET_FILES=()
  [[ $net == none ]] || RULESET_FILES=("$VMDIR/nft/router-$net.nft")
  [[ $net == none || -f ${RULESET_FILES[0]} ]] || { echo "no ruleset ${RULESET_FILES[0]}"; return 1; }
  [[ -n ${NAME:-} ]] || ruleset_sync   # not in a scenario (--script, --shell): load it now
}
ruleset_add() { RULESET_FILES+=("$@"); }   # e.g. a helper's attach rules
ruleset_sync() { ruleset_load "${RULESET_FILES[@]}"; }

# vsftpd_conf FILE DIR [LINE…]: an anonymous, read-only, foreground vsftpd configuration serving
# DIR/ftproot with DIR/empty as its secure_chroot_dir (the caller creates both), no seccomp sandbox,
# running as ftp, no syslog; then the caller's lines (listen_*, pasv_*/port_*, logs, timeouts) —
# the part every FTP scenario and the live benchmark share.
vsftpd_conf() {
  local file=$1 dir=$2; shift 2
  printf '%s\n' background=NO anonymous_enable=YES no_anon_password=YES "anon_root=$dir/ftproot" \
    local_enable=NO write_enable=NO "secure_chroot_dir=$dir/empty" seccomp_sandbox=NO \
    ftp_username=ftp nopriv_user=ftp syslog_enable=NO "$@" >"$file"
}
