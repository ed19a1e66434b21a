#!/bin/bash
# Stage 2 of the VM: runs chrooted into the host's / (read-only) with tmpfs on /tmp /run ...
# $1 repo  $2 results dir (read-write 9p share)  $3 job file (written by tests/vm/run)
#
# A suite boot: modules once, the lab once, then per scenario: reset (lab_reset: processes in the
# lab killed, ruleset, conntrack and expectation tables flushed; lab=fresh: the lab rebuilt), in the
# cthelperd boot the shared cthelperd started when first needed (cthelperd=own: stopped and its
# registrations deleted first), the scenario under its own timeout.  Each scenario's result dir
# gets: started, status, time (s, reset included), setup (s, from the reset to "lab and helper
# ready"), log, verdict, and the scenario's evidence.
REPO=$1 RESULTS=$2 JOB=$3
export REPO RESULTS
VMDIR=$REPO/tests/vm
export VMDIR
source "$VMDIR/guest/lib.sh"
source "$JOB"
export CTHELPERD HELPER_MODE CTHVM_VENV
export HOME=/root TERM=${TERM:-linux}
hostname cthvm 2>/dev/null
mkdir -p /tmp/cthvm && mkfifo "$NAP_FIFO"
up() { local u; read -r u _ </proc/uptime; echo "$u"; }
secs() { local d=$(($2 - $1)); printf '%d.%01d' $((d / 1000000)) $(((d % 1000000) / 100000)); }
t=${EPOCHREALTIME/./}
load_base_modules
echo "CTHVM: stage2 $JOB_KIND kernel=$KVER modules loaded in $(secs "$t" "${EPOCHREALTIME/./}") s uptime=$(up)"

# ------------------------------------------------------------------------------------------------
# The boot's shared cthelperd (cthelperd boot only)
SH_DIR=/tmp/cthvm-boot
SH_LOG=$SH_DIR/cthelperd.log
SH_PID=
shared_up() { [[ -n $SH_PID ]] && kill -0 "$SH_PID" 2>/dev/null; }
shared_start() { # returns 0 when it serves a queue
  mkdir -p "$SH_DIR"
  echo "---- $(ts) shared start: $CTHELPERD run" >>"$SH_LOG"
  RUST_LOG=${CTH_RUST_LOG:-debug} "$CTHELPERD" run >>"$SH_LOG" 2>&1 </dev/null &
  SH_PID=$!
  local i l
  for ((i = 0; i < 600; i++)); do
    shared_up || { SH_PID=; return 1; }
    if read -r l </proc/net/netfilter/nfnetlink_queue 2>/dev/null && [[ -n $l ]]; then
      nfct helper list >"$SH_DIR/nfct-helpers.txt" 2>&1   # the scenarios' record (it does not change)
      return 0
    fi
    sleep 0.05
  done
  return 1
}
shared_stop() {
  [[ -n $SH_PID ]] || return 0
  kill "$SH_PID" 2>/dev/null
  local i; for ((i = 0; i < 100; i++)); do kill -0 "$SH_PID" 2>/dev/null || break; sleep 0.05; done
  kill -9 "$SH_PID" 2>/dev/null; wait "$SH_PID" 2>/dev/null
  SH_PID=
  delete_helper_registrations
}

case $JOB_KIND in
  shell)
    cat >/tmp/cthvm.rc <<RC
source /etc/bash.bashrc 2>/dev/null
export VMDIR=$VMDIR REPO=$REPO RESULTS=$RESULTS CTHELPERD=$CTHELPERD CTHVM_VENV=${CTHVM_VENV:-}
source $VMDIR/guest/lib.sh
cthvm-net() { reset_state; net_setup "\${1:-masq}" && echo "lab up: ip netns exec client|server ...; router ruleset \${1:-masq}"; }
PS1='cthvm:\w# '
echo "cthvm: kernel \$(uname -r). kmod = modprobe from the initramfs (e.g. kmod nf_conntrack_ftp)."
echo "cthvm: cthvm-net masq|nonat|dnat builds the lab; reset_state tears it down; exit powers off."
RC
    setsid -c /bin/bash --rcfile /tmp/cthvm.rc -i </dev/ttyS0 >/dev/ttyS0 2>&1
    ;;
  script)
    ( cd /tmp && timeout 1800 bash "$SCRIPT" "${SCRIPT_ARGS[@]}" ) >"$RESULTS/script.log" 2>&1
    echo $? >"$RESULTS/script.rc"
    ;;
  suite)
    t=${EPOCHREALTIME/./}
    lab_build || echo "CTHVM: lab_build failed"
    export LAB_UP
    echo "CTHVM: lab built in $(secs "$t" "${EPOCHREALTIME/./}") s"
    if [[ $HELPER_MODE == kernel ]]; then
      # the kernel ALGs of the protocols in this boot, loaded once (those that exist as modules)
      t=${EPOCHREALTIME/./} algs=()
      for line in "${SCENARIOS[@]}"; do
        p=${line%%-*}; [[ " ${algs[*]} " == *" nf_conntrack_$p "* ]] || algs+=("nf_conntrack_$p" "nf_nat_$p")
      done
      mapfile -t algs < <(grep -oE "/($(IFS='|'; echo "${algs[*]}"))\.ko" "/run/initrd/lib/modules/$KVER/modules.dep" | sed 's|^/||; s|\.ko$||' | sort -u)
      ((${#algs[@]})) && { kmod -a "${algs[@]}" || echo "CTHVM: modprobe -a ${algs[*]} failed"; }
      echo "CTHVM: kernel ALG modules (${algs[*]}) loaded in $(secs "$t" "${EPOCHREALTIME/./}") s"
    fi
    set -m   # each scenario in a process group of its own: its timeout ends all it started
    dirty=0
    for line in "${SCENARIOS[@]}"; do
      read -r s tmo lab cth <<<"$line"
      res=$RESULTS/$s; mkdir -p "$res"; : >"$res/started"
      echo "CTHVM: scenario $s start uptime=$(up)"
      t0=${EPOCHREALTIME/./}
      if [[ $lab == fresh || $dirty == 1 ]]; then lab_build || echo "CTHVM: lab_build failed"; ruleset_flush; dirty=0; fi
      lab_reset
      [[ $lab == fresh ]] && dirty=1
      mode=
      if [[ $HELPER_MODE == cthelperd ]]; then
        if [[ $cth == own ]]; then shared_stop; mode=own
        else
          if ! shared_up; then
            ts0=${EPOCHREALTIME/./}
            if shared_start; then echo "CTHVM: shared cthelperd (pid $SH_PID) serving after $(secs "$ts0" "${EPOCHREALTIME/./}") s"
            else echo "CTHVM: the shared cthelperd did not come up (log: $SH_LOG)"; tail -n 20 "$SH_LOG"; fi
          fi
          mode=shared
        fi
      fi
      off=0; [[ $mode == shared ]] && off=$(stat -c %s "$SH_LOG" 2>/dev/null || echo 0)
      echo "${EPOCHREALTIME/./}" >"$res/reset_us"
      # The scenario runs in a subshell of this one (a fork: no bash to start and no library to
      # read again), in its own process group, under its own timeout (a watchdog kills the group).
      tmark=/tmp/cthvm/.timedout.$s
      (
        set +m
        cd /tmp || exit 1
        export CTHVM_CTH=$mode CTHVM_CTH_PID=$SH_PID CTHVM_CTH_LOG=$SH_LOG CTHVM_CTH_LOG_OFF=$off \
               CTHVM_CTH_NFCT=$SH_DIR/nfct-helpers.txt
        unset line tmo lab cth mode off dirty t t0 ts0 algs p tmark
        exec >"$res/log" 2>&1 </dev/null
        trap - EXIT
        f=$VMDIR/scenarios/${s%%-*}.sh; unset s
        BASH_ARGV0=$f
        source "$f" "$(basename "$res")" "$res"
        exit 0
      ) &
      spid=$!
      ( trap 'kill $! 2>/dev/null; exit 0' TERM; command sleep "$tmo" & wait $!; : >"$tmark"; kill -TERM -- -"$spid" 2>/dev/null
        command sleep 5 & wait $!; kill -KILL -- -"$spid" 2>/dev/null ) >/dev/null 2>&1 &
      wpid=$!
      wait "$spid"; rc=$?
      kill -TERM "$wpid" 2>/dev/null; wait "$wpid" 2>/dev/null
      kill -KILL -- -"$spid" 2>/dev/null   # what the scenario left running in its group
      [[ -e $tmark ]] && rc=124
      t1=${EPOCHREALTIME/./}
      secs "$t0" "$t1" >"$res/time"
      if [[ -f $res/ready_us ]]; then
        secs "$t0" "$(<"$res/ready_us")" >"$res/setup"
        # where it went: reset (+ shared cthelperd start), scenario start-up, the scenario's own setup
        r=$(<"$res/reset_us") b=$(<"$res/begin_us") e=$(<"$res/ready_us")
        echo "reset $(secs "$t0" "$r") s, start $(secs "$r" "$b") s, scenario $(secs "$b" "$e") s" >"$res/setup.detail"
      fi
      verdict=$(tail -n 1 "$res/verdict" 2>/dev/null)
      case $rc in
        0) st="PASS${verdict:+: $verdict}" ;;
        77) st="SKIP${verdict:+: $verdict}" ;;
        124) st="FAIL: scenario timed out ($tmo s)" ;;
        *) st="FAIL${verdict:+: $verdict} (exit $rc)" ;;
      esac
      if [[ $mode == shared ]]; then
        tail -c +$((off + 1)) "$SH_LOG" >"$res/cthelperd.log"
        if ! shared_up; then
          # a daemon that died under a scenario fails it, whatever the scenario concluded
          st="FAIL: the shared cthelperd (pid $SH_PID) died during this scenario (see cthelperd.log); was: $st"
          wait "$SH_PID" 2>/dev/null; SH_PID=; delete_helper_registrations
        fi
      elif [[ $mode == own ]]; then
        # what the scenario started and did not stop (a timeout kills without its clean-up)
        for p in $(cat "/tmp/cthvm/$s/cthelperd.pids" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
        delete_helper_registrations
      fi
      echo "$st" >"$res/status"
      echo "CTHVM: scenario $s $st ($(<"$res/time") s, setup $(cat "$res/setup" 2>/dev/null || echo ?) s)"
    done
    set +m
    shared_stop
    lab_teardown
    [[ -s $SH_LOG ]] && cp "$SH_LOG" "$RESULTS/cthelperd-shared.log"
    ;;
esac
sync
