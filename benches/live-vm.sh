#!/bin/bash
# benches/live-vm.sh — the live benchmark in the VM (run on demand, not part of CI's pass/fail).
#
# One boot of tests/vm/run (--script) runs the same traffic through the masquerading router in
# turn with (a) no helper, (b) the kernel's ALG (nf_conntrack_ftp/sip + nf_nat_*), (c) the floor
# (nfq-floor: a bare NFQUEUE accept loop on our netlink layer, registered as the same userspace
# helpers), (d) `cthelperd run` (release build, RUST_LOG=warn) once per --cthelperd-config, and
# (e) conntrackd's userspace FTP helper (Debian's conntrackd, cthelper mode). Between modes
# everything is reset (ruleset flushed, tables flushed, registrations deleted, ALG modules
# unloaded), so a kernel ALG and a userspace helper of the same name are never loaded together.
#
# Measures per mode (see docs/performance.md "Live benchmark in the VM"):
#   ftp_sess/s   passive FTP sessions/s (login, PASV, RETR 1 KiB, QUIT), FTP_THREADS in parallel
#   sip_cps      highest sipp rate (uac -> uas through NAT, SIP_SECS of calls per step) with < 1 %
#                failed or missing calls; the rates step up from SIP_RATES and stop at the first miss
#   noop/s       FTP NOOP commands/s on NOOP_THREADS helped control connections at once
#   q_pkt/s      packets/s through the helper's queue during the NOOP run (nfnetlink_queue ids)
#   p50/p99      NOOP request->reply time on one connection alone; +p50/+p99 = minus no helper's
#   cpu_ms/1k    helper process CPU (utime+stime) per 1,000 queued packets in the NOOP run, ms
#
# Usage: benches/live-vm.sh [--cthelperd BIN] [--floor BIN] [--cthelperd-config FILE]...
#                           [--cthelperd-base BIN] [--quick]
#                           [--modes "none kernel floor base cthelperd conntrackd"]
# Defaults: target/release/cthelperd and target/release/nfq-floor, built if missing; one
# cthelperd row with the default configuration. Each --cthelperd-config adds a cthelperd row with
# that configuration and its own ruleset (`cthelperd nft -c FILE`: with queues = 2 the jhash map
# over both instances). Output: the table on stdout, raw
# lines in target/vm-results/latest/live/ (raw.txt, table.txt, the helpers' logs).
# --cthelperd-base BIN adds a row "cthelperd-base" (that binary, default configuration) before
# the cthelperd rows: a before/after comparison in one boot.
set -u
if [[ -z ${VMDIR:-} ]]; then
  # ------------------------------------------------------------------------------------ host side
  cd "$(dirname "$0")/.." || exit 2
  CTH=target/release/cthelperd FLOOR=target/release/nfq-floor BASE= CFGS=() GUEST=()
  while (($#)); do
    case $1 in
      --cthelperd) CTH=$2; shift 2 ;;
      --floor) FLOOR=$2; shift 2 ;;
      --cthelperd-base) BASE=$2; shift 2 ;;
      --cthelperd-config) CFGS+=("$2"); shift 2 ;;
      --modes) GUEST+=(--modes "$2"); shift 2 ;;
      --quick) GUEST+=(--quick); shift ;;
      -h|--help) sed -n '2,28p' "$0"; exit 0 ;;
      *) echo "live-vm.sh: unknown argument $1" >&2; exit 2 ;;
    esac
  done
  if [[ ! -x $CTH ]]; then nice cargo build --release --bin cthelperd || exit 2; fi
  if [[ ! -x $FLOOR ]]; then nice cargo build --release --features bench-floor --bin nfq-floor || exit 2; fi
  for b in "$CTH" "$FLOOR"; do [[ -x $b ]] || { echo "live-vm.sh: no $b" >&2; exit 2; }; done
  # Configurations and the base binary go under the checkout (the guest sees it at the same path).
  mkdir -p target/live-vm; rm -f target/live-vm/cfg*.toml
  if [[ -n $BASE ]]; then
    [[ -x $BASE ]] || { echo "live-vm.sh: no $BASE" >&2; exit 2; }
    [[ $(realpath "$BASE") == "$(realpath target/live-vm/base)" ]] || cp "$BASE" target/live-vm/base
    GUEST+=(--base "$(pwd)/target/live-vm/base")
  fi
  i=0
  for c in "${CFGS[@]}"; do
    [[ -f $c ]] || { echo "live-vm.sh: no configuration $c" >&2; exit 2; }
    cp "$c" "target/live-vm/cfg$i.toml"
    GUEST+=(--config "$(pwd)/target/live-vm/cfg$i.toml" "$(basename "$c")"); i=$((i + 1))
  done
  echo "live-vm.sh: cthelperd $CTH, floor $FLOOR, host load average $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%FT%TZ)"
  exec tests/vm/run --cthelperd "$CTH" --script "$0" --floor "$(realpath "$FLOOR")" "${GUEST[@]}"
fi

# --------------------------------------------------------------------------------------- guest side
source "$VMDIR/guest/lib.sh"
FLOOR= BASE= MODES= CFG_FILES=() CFG_NAMES=() QUICK=0
while (($#)); do
  case $1 in
    --floor) FLOOR=$2; shift 2 ;;
    --base) BASE=$2; shift 2 ;;
    --modes) MODES=$2; shift 2 ;;
    --config) CFG_FILES+=("$2"); CFG_NAMES+=("$3"); shift 3 ;;
    --quick) QUICK=1; shift ;;
    *) echo "live-vm.sh (guest): unknown argument $1"; exit 2 ;;
  esac
done
[[ -n $MODES ]] || MODES="none kernel floor ${BASE:+base }cthelperd conntrackd"
FTP_SECS=12 FTP_THREADS=4 NOOP_SECS=8 NOOP_THREADS=4 LAT_SECS=5 SIP_SECS=8 SIP_RATES="50 100 200 400 600 800"
((QUICK)) && { FTP_SECS=4 NOOP_SECS=3 LAT_SECS=2 SIP_SECS=3 SIP_RATES="50 200"; }
for p in python3 sipp vsftpd conntrackd nfct conntrack nft; do
  command -v $p >/dev/null || { echo "live-vm.sh: $p is not installed"; exit 2; }
done
[[ -x $FLOOR ]] || { echo "live-vm.sh: no floor binary ($FLOOR)"; exit 2; }
OUT=$RESULTS/live; mkdir -p "$OUT"; W=/tmp/live; mkdir -p "$W"
FTPLOAD=$REPO/benches/live-vm-ftp.py
SRV=10.0.2.2
echo "guest: $(nproc) vCPUs, kernel $(uname -r), cpu '$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2)'"

# The FTP server (one configuration for all modes): anonymous, passive only, a 1 KiB file.
mkdir -p "$W/ftproot" "$W/empty"; chmod 755 "$W/ftproot" "$W/empty"
head -c 1024 /dev/urandom >"$W/ftproot/f"; chmod 644 "$W/ftproot/f"
vsftpd_conf "$W/vsftpd.conf" "$W" listen=YES listen_ipv6=NO "listen_address=$SRV" pasv_enable=YES \
  port_enable=NO pasv_min_port=40000 pasv_max_port=60000 xferlog_enable=NO max_clients=0 \
  max_per_ip=0 idle_session_timeout=300

# conntrackd's configuration: its userspace FTP helper only (no Sync, no Stats).
cat >"$W/conntrackd.conf" <<CONNTRACKD
General {
	HashSize 8192
	HashLimit 65535
	LogFile $OUT/conntrackd.log
	Syslog off
	LockFile $W/conntrackd.lock
	UNIX { Path $W/conntrackd.ctl }
	NetlinkBufferSize 2097152
	NetlinkBufferSizeMaxGrowth 8388608
}
Helper {
	Type ftp inet tcp {
		QueueNum 0
		QueueLen 10240
		Policy ftp {
			ExpectMax 1
			ExpectTimeout 300
		}
	}
}
CONNTRACKD

HPID= # the helper process of the mode (floor, cthelperd, conntrackd)
queued() { awk '{s += $8} END {print s + 0}' /proc/net/netfilter/nfnetlink_queue 2>/dev/null || echo 0; }
ticks() { if [[ -n $HPID ]]; then awk '{print $14 + $15}' "/proc/$HPID/stat"; else echo 0; fi; }
wait_queue() {
  local i
  for i in $(seq 150); do grep -q . /proc/net/netfilter/nfnetlink_queue 2>/dev/null && return 0; sleep 0.2; done
  echo "no queue was bound"; return 1
}

mode_up() { # MODE [CONFIG]: the mode's helper attached to FTP and SIP, vsftpd listening
  local m=$1 cfg=${2:-} i
  reset_state; net_setup masq || { echo "net_setup failed"; return 1; }
  HPID=
  case $m in
    none) ;;
    kernel) kmod nf_conntrack_ftp && kmod nf_nat_ftp && kmod nf_conntrack_sip && kmod nf_nat_sip || return 1
      nft -f "$VMDIR/nft/attach-ftp.nft" && nft -f "$VMDIR/nft/attach-sip.nft" || return 1 ;;
    floor) "$FLOOR" ${cfg:+-c "$cfg"} >>"$OUT/floor.log" 2>&1 & HPID=$!
      wait_queue || return 1; nft -f "$REPO/nft/cthelperd.nft" || return 1 ;;
    base) RUST_LOG=warn "$BASE" run >>"$OUT/cthelperd-base.log" 2>&1 & HPID=$!
      wait_queue || return 1; nft -f "$REPO/nft/cthelperd.nft" || return 1 ;;
    cthelperd) RUST_LOG=warn "$CTHELPERD" run ${cfg:+-c "$cfg"} >>"$OUT/cthelperd.log" 2>&1 & HPID=$!
      wait_queue || return 1
      # A row with its own configuration gets that configuration's ruleset (queues = N: the jhash
      # map over the N instances), the shipped one otherwise.
      if [[ -n $cfg ]]; then "$CTHELPERD" nft -c "$cfg" >"$OUT/ruleset-$(basename "$cfg").nft" &&
        nft -f "$OUT/ruleset-$(basename "$cfg").nft" || return 1
      else nft -f "$REPO/nft/cthelperd.nft" || return 1; fi ;;
    conntrackd) nfct add helper ftp inet tcp || return 1
      conntrackd -C "$W/conntrackd.conf" >>"$OUT/conntrackd.out" 2>&1 & HPID=$!
      wait_queue || return 1; nft -f "$VMDIR/nft/attach-ftp.nft" || return 1 ;;
  esac
  ip netns exec server vsftpd "$W/vsftpd.conf" >>"$OUT/vsftpd.log" 2>&1 &
  for i in $(seq 100); do ip netns exec server ss -Hltn "sport = :21" | grep -q . && break; sleep 0.1; done
  { nfct helper list; cat /proc/net/netfilter/nfnetlink_queue; } >"$OUT/helpers-$m.txt" 2>&1
  return 0
}
mode_down() {
  if [[ -n $HPID ]]; then kill "$HPID"; wait "$HPID" 2>/dev/null; fi
  HPID=
  lab_kill; ruleset_flush
  if kmod_loaded nf_conntrack_ftp || kmod_loaded nf_conntrack_sip; then
    kmod -r nf_nat_ftp nf_conntrack_ftp nf_nat_sip nf_conntrack_sip || echo "unloading the kernel ALGs failed"
  fi
  delete_helper_registrations
}
kv() { local k=$1 x; shift; for x in $*; do [[ $x == "$k="* ]] && { echo "${x#*=}"; return; }; done; echo "-"; }
calc() { python3 -c "print($1)"; }

sip_step() { # RATE -> "ok failed"
  local r=$1 n=$(($1 * SIP_SECS)) hdr last
  ip netns exec server sipp -sn uas -i $SRV -p 5060 -nostdin -bg >/dev/null 2>&1
  sleep 0.5
  rm -f "$W/sip.csv"
  timeout $((SIP_SECS + 40)) ip netns exec client sipp -sn uac $SRV:5060 -i 10.0.1.2 -p 5060 -r "$r" -m "$n" \
    -l $((r * 4)) -nostdin -timeout $((SIP_SECS + 25)) -trace_stat -stf "$W/sip.csv" -fd 1 >/dev/null 2>&1
  lab_kill   # the uas
  [[ -s $W/sip.csv ]] || { echo "0 $n"; return; }
  hdr=$(head -n 1 "$W/sip.csv"); last=$(tail -n 1 "$W/sip.csv")
  python3 -c "h='''$hdr'''.split(';');v='''$last'''.split(';');print(v[h.index('SuccessfulCall(C)')], v[h.index('FailedCall(C)')])"
}

declare -A R
measure() { # ROW MODE [CONFIG]
  local row=$1 m=$2 cfg=${3:-} line q0 q1 c0 c1 best=0 r ok failed n
  echo "== $row ($(date -u +%T))"
  mode_up "$m" "$cfg" || { echo "$row: setup failed"; mode_down; return; }
  # FTP sessions/s
  line=$(ip netns exec client python3 "$FTPLOAD" sessions $SRV $FTP_SECS $FTP_THREADS)
  echo "$row ftp sessions x$FTP_THREADS: $line" | tee -a "$OUT/raw.txt"
  R[$row,ftp]=$(calc "round($(kv ok $line)/$(kv seconds $line),1)")
  [[ $(kv failed $line) == 0 ]] || R[$row,ftp]="${R[$row,ftp]}(!$(kv failed $line))"
  # NOOP throughput on helped control connections; queued packets and helper CPU meanwhile
  q0=$(queued); c0=$(ticks)
  line=$(ip netns exec client python3 "$FTPLOAD" noop $SRV $NOOP_SECS $NOOP_THREADS)
  q1=$(queued); c1=$(ticks)
  echo "$row noop x$NOOP_THREADS: $line queued=$((q1 - q0)) ticks=$((c1 - c0))" | tee -a "$OUT/raw.txt"
  R[$row,noop]=$(calc "round($(kv ok $line)/$(kv seconds $line))")
  if ((q1 > q0)); then
    R[$row,qpps]=$(calc "round($((q1 - q0))/$(kv seconds $line))")
    [[ -n $HPID ]] && R[$row,cpu]=$(calc "round($((c1 - c0))*10*1000/$((q1 - q0)),2)")
  fi
  # latency: one connection alone
  line=$(ip netns exec client python3 "$FTPLOAD" noop $SRV $LAT_SECS 1)
  echo "$row noop x1: $line" | tee -a "$OUT/raw.txt"
  R[$row,p50]=$(kv p50_us $line) R[$row,p99]=$(kv p99_us $line)
  # SIP calls/s (not for conntrackd: it has no SIP helper)
  if [[ $m != conntrackd ]]; then
    for r in $SIP_RATES; do
      read -r ok failed <<<"$(sip_step "$r")"
      n=$((r * SIP_SECS))
      echo "$row sip rate=$r calls=$n ok=$ok failed=$failed" | tee -a "$OUT/raw.txt"
      ((ok * 100 >= n * 99)) || break
      best=$r
    done
    R[$row,sip]=$best
  fi
  mode_down
}

ROWS=()
for m in $MODES; do
  case $m in
    cthelperd)
      if ((${#CFG_FILES[@]})); then
        for i in "${!CFG_FILES[@]}"; do
          ROWS+=("cthelperd[${CFG_NAMES[$i]}]"); measure "cthelperd[${CFG_NAMES[$i]}]" cthelperd "${CFG_FILES[$i]}"
        done
      else ROWS+=(cthelperd); measure cthelperd cthelperd; fi ;;
    base) ROWS+=(cthelperd-base); measure cthelperd-base base ;;
    *) ROWS+=("$m"); measure "$m" "$m" ;;
  esac
done

g() { echo "${R[$1,$2]:--}"; }
ratio() { python3 -c "
a, b = '$1'.split('(')[0], '$2'.split('(')[0]
try: print(f'{float(a) / float(b):.2f}')
except Exception: print('-')"; }
{
  echo
  echo "guest load average $(cut -d' ' -f1-3 /proc/loadavg); FTP ${FTP_SECS}s x$FTP_THREADS, NOOP ${NOOP_SECS}s x$NOOP_THREADS, latency ${LAT_SECS}s x1, SIP ${SIP_SECS}s per rate ($SIP_RATES)"
  printf '| %-22s | %10s | %7s | %7s | %8s | %8s | %8s | %8s | %8s | %9s |\n' mode ftp_sess/s sip_cps noop/s q_pkt/s p50_us p99_us +p50_us +p99_us cpu_ms/1k
  echo "|------------------------|------------|---------|---------|----------|----------|----------|----------|----------|-----------|"
  for row in "${ROWS[@]}"; do
    a50=- a99=-
    if [[ $(g none p50) != - && $(g "$row" p50) != - ]]; then
      a50=$(($(g "$row" p50) - $(g none p50))) a99=$(($(g "$row" p99) - $(g none p99)))
    fi
    printf '| %-22s | %10s | %7s | %7s | %8s | %8s | %8s | %8s | %8s | %9s |\n' "$row" "$(g "$row" ftp)" "$(g "$row" sip)" \
      "$(g "$row" noop)" "$(g "$row" qpps)" "$(g "$row" p50)" "$(g "$row" p99)" "$a50" "$a99" "$(g "$row" cpu)"
  done
  echo
  for row in "${ROWS[@]}"; do
    [[ $row == cthelperd* ]] || continue
    echo "$row / floor:      q_pkt/s $(ratio "$(g "$row" qpps)" "$(g floor qpps)")  noop/s $(ratio "$(g "$row" noop)" "$(g floor noop)")  ftp_sess/s $(ratio "$(g "$row" ftp)" "$(g floor ftp)")  sip_cps $(ratio "$(g "$row" sip)" "$(g floor sip)")  cpu_ms/1k $(ratio "$(g "$row" cpu)" "$(g floor cpu)")  (goal >= 0.9; cpu: lower is better)"
    echo "$row / kernel:     sip_cps $(ratio "$(g "$row" sip)" "$(g kernel sip)")  ftp_sess/s $(ratio "$(g "$row" ftp)" "$(g kernel ftp)")  noop/s $(ratio "$(g "$row" noop)" "$(g kernel noop)")  (goal: sip_cps >= 0.8)"
    echo "$row / conntrackd: ftp_sess/s $(ratio "$(g "$row" ftp)" "$(g conntrackd ftp)")  noop/s $(ratio "$(g "$row" noop)" "$(g conntrackd noop)")  cpu_ms/1k $(ratio "$(g "$row" cpu)" "$(g conntrackd cpu)")  (goal: ftp_sess/s >= 2)"
  done
} | tee "$OUT/table.txt"
exit 0
