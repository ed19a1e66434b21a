#!/bin/bash
# Stage 2 of the VM: runs chrooted into the host's / (read-only) with tmpfs on /tmp /run ...
# $1 repo  $2 results dir (read-write 9p share)  $3 job file (written by tests/vm/run)
REPO=$1 RESULTS=$2 JOB=$3
export REPO RESULTS
VMDIR=$REPO/tests/vm
export VMDIR
source "$VMDIR/guest/lib.sh"
source "$JOB"
export CTHELPERD HELPER_MODE
export HOME=/root TERM=${TERM:-linux}
hostname cthvm 2>/dev/null
load_base_modules
echo "CTHVM: stage2 $JOB_KIND kernel=$KVER uptime=$(cut -d' ' -f1 /proc/uptime)"

case $JOB_KIND in
  shell)
    cat >/tmp/cthvm.rc <<RC
source /etc/bash.bashrc 2>/dev/null
export VMDIR=$VMDIR REPO=$REPO RESULTS=$RESULTS CTHELPERD=$CTHELPERD
source $VMDIR/guest/lib.sh
cthvm-net() { reset_state; net_setup "\${1:-masq}" && echo "lab up: ip netns exec client|server ...; router ruleset \${1:-masq}"; }
PS1='cthvm:\w# '
echo "cthvm: kernel \$(uname -r). kmod = modprobe from the initramfs (e.g. kmod nf_conntrack_ftp)."
echo "cthvm: cthvm-net masq|nonat builds the lab; reset_state tears it down; exit powers off."
RC
    setsid -c /bin/bash --rcfile /tmp/cthvm.rc -i </dev/ttyS0 >/dev/ttyS0 2>&1
    ;;
  script)
    ( cd /tmp && timeout 1800 bash "$SCRIPT" "${SCRIPT_ARGS[@]}" ) >"$RESULTS/script.log" 2>&1
    echo $? >"$RESULTS/script.rc"
    ;;
  suite)
    for s in "${SCENARIOS[@]}"; do
      reset_state
      res=$RESULTS/$s; mkdir -p "$res"
      echo "CTHVM: scenario $s start uptime=$(cut -d' ' -f1 /proc/uptime)"
      t0=$(now_ms)
      ( cd /tmp && exec timeout -k 5 300 bash "$VMDIR/scenarios/${s%%-*}.sh" "$s" "$res" ) >"$res/log" 2>&1
      rc=$?
      t1=$(now_ms)
      d=$((t1 - t0)); printf '%d.%01d\n' $((d / 1000)) $(((d % 1000) / 100)) >"$res/time"
      verdict=$(tail -n 1 "$res/verdict" 2>/dev/null)
      case $rc in
        0) st="PASS${verdict:+: $verdict}" ;;
        77) st="SKIP${verdict:+: $verdict}" ;;
        124|137) st="FAIL: scenario timed out (300 s)" ;;
        *) st="FAIL${verdict:+: $verdict} (exit $rc)" ;;
      esac
      echo "$st" >"$res/status"
      echo "CTHVM: scenario $s $st ($(cat "$res/time") s)"
    done
    reset_state
    ;;
esac
sync
