# The scenario interface (see tests/vm/README.md, "Adding a protocol").  A scenario file
# tests/vm/scenarios/<proto>.sh declares, then sources this file with its arguments:
#
#   CTHVM_PACKAGES=(vsftpd curl)   # Debian packages its programs come from (tests/vm/run installs
#                                  # them on the host; the guest runs the host's /)
#   CTHVM_PIP=(pycrate)            # PyPI packages (installed into a venv in the cache; on PATH)
#   CTHVM_TIMEOUT=120              # seconds per scenario (a line of cthvm_list may say timeout=N)
#   cthvm_list() { echo "ftp-port-v4-masq-kernel"; echo "ftp-restart-port-v4-masq cthelperd=own"; }
#   source "$(dirname "${BASH_SOURCE[0]}")/../guest/scenario.sh" "$@"
#   ... the scenario: NAME, RES (its result dir), W (its tmpfs scratch dir), HELPER are set ...
#
# A cthvm_list line is NAME [group=none|kernel|cthelperd] [timeout=N] [lab=fresh] [cthelperd=own]:
#   group      the boot it runs in; default from the name's last word (-none, -kernel, else cthelperd)
#   lab=fresh  the lab namespaces are rebuilt before it and after it (it changes addresses/routes)
#   cthelperd=own   it starts (and kills) its own cthelperd: start-up, restart, a config of its own;
#              otherwise a cthelperd scenario uses the boot's shared daemon, started once
# Called as FILE --describe (host, tests/vm/run) it prints its declarations; as FILE --list its
# names; as FILE NAME RESULTDIR it runs one scenario (exit 0 pass, 77 skip, else fail; the one-line
# reason is the last line of RESULTDIR/verdict).
case ${1:-} in
  --describe)
    echo "packages ${CTHVM_PACKAGES[*]}"
    echo "pip ${CTHVM_PIP[*]}"
    cthvm_list | while read -r n f; do echo "scenario $n timeout=${CTHVM_TIMEOUT:-120} $f"; done
    exit 0 ;;
  --list) cthvm_list | while read -r n _; do echo "$n"; done; exit 0 ;;
  ''|-*) echo "usage: $0 --describe | --list | NAME RESULTDIR" >&2; exit 2 ;;
esac
NAME=$1 RES=$2
echo "${EPOCHREALTIME/./}" >"$RES/begin_us" 2>/dev/null
set -uo pipefail
source "$VMDIR/guest/lib.sh"
W=/tmp/cthvm/$NAME        # tmpfs scratch (configs, served files, sync files)
rm -rf "$W"; mkdir -p "$W" "$RES"

# Verdicts, clean-up of what the scenario started, and starting cthelperd.
PIDS=()          # background processes of the scenario, killed on exit
CTH_ARGS=()      # extra arguments before `run` (e.g. -c CONFIG)
cleanup() {
  local p
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  sleep 0.3
  for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done
  [[ -n ${CTH_PID:-} ]] && kill -9 "$CTH_PID" 2>/dev/null
  wait 2>/dev/null
}
trap cleanup EXIT
# nft run by the scenario itself (not ruleset_load) changes the ruleset behind the runner's back:
# flushed after the scenario
nft() { case ${1:-} in list|-c|--check) ;; *) : >"$RULESET_STATE.dirty" ;; esac; command nft "$@"; }
verdict() { echo "$*" >>"$RES/verdict"; log "VERDICT: $*"; }
# Packets the kernel queued to cthelperd in this scenario: id_sequence, the 8th field of the queue's
# line, counts since the daemon bound the queue; a shared daemon's count at the start is subtracted.
queue_seq() { local a n=0; while read -r -a a; do n=$((n + ${a[7]:-0})); done </proc/net/netfilter/nfnetlink_queue 2>/dev/null; echo $n; }
QUEUED0=0
[[ ${CTHVM_CTH:-} == shared ]] && QUEUED0=$(queue_seq)
queued() {
  cth_ready || return 0
  printf ' [%d packets queued]' $(($(queue_seq) - QUEUED0))
}
pass() { verdict "$*$(queued)"; exit 0; }
fail() { verdict "$*"; exit 1; }
skip() { verdict "$*"; exit 77; }

# cthelperd's log: a daemon of the scenario's own writes $RES/cthelperd.log; the boot's shared one
# writes $CTHVM_CTH_LOG, of which this scenario's part starts at byte $CTHVM_CTH_LOG_OFF (stage2
# copies that part to $RES/cthelperd.log when the scenario ends).  cth_log prints this scenario's
# part either way.
CTH_LOG=$RES/cthelperd.log
cth_log() {
  if [[ ${CTHVM_CTH:-} == shared ]]; then tail -c +$((${CTHVM_CTH_LOG_OFF:-0} + 1)) "$CTHVM_CTH_LOG"
  else cat "$CTH_LOG" 2>/dev/null; fi
}
cth_ready() { local l; read -r l </proc/net/netfilter/nfnetlink_queue 2>/dev/null && [[ -n $l ]]; }
start_cthelperd() { # sets CTH_PID, CTH_MSG; returns 0 ready, 1 failure
  CTH_PID= CTH_MSG=
  [[ -n ${CTHELPERD:-} && -x $CTHELPERD ]] || { CTH_MSG="no cthelperd binary (CTHELPERD='${CTHELPERD:-}')"; return 1; }
  echo "---- $(ts) start: $CTHELPERD ${CTH_ARGS[*]} run" >>"$CTH_LOG"
  RUST_LOG=${CTH_RUST_LOG:-debug} "$CTHELPERD" "${CTH_ARGS[@]}" run >>"$CTH_LOG" 2>&1 &
  CTH_PID=$!
  echo "$CTH_PID" >>"$W/cthelperd.pids"   # stage2 kills what a timed-out scenario left
  local i rc
  for ((i = 0; i < 600; i++)); do
    if ! kill -0 "$CTH_PID" 2>/dev/null; then
      wait "$CTH_PID"; rc=$?
      CTH_MSG="cthelperd exited with status $rc before binding a queue"; return 1
    fi
    cth_ready && return 0
    sleep 0.05
  done
  CTH_MSG="cthelperd did not bind an NFQUEUE within 30 s"; return 1
}
# cthelperd_up: the daemon this scenario runs with: the boot's shared one (already serving), or
# (cthelperd=own) one of its own with CTH_ARGS.  Fails the scenario when it does not come up.
cthelperd_up() {
  if [[ ${CTHVM_CTH:-} == shared ]]; then
    [[ -n ${CTHVM_CTH_PID:-} ]] && kill -0 "$CTHVM_CTH_PID" 2>/dev/null || fail "the boot's shared cthelperd is not running"
    ((${#CTH_ARGS[@]} == 0)) || fail "CTH_ARGS (${CTH_ARGS[*]}) need cthelperd=own in cthvm_list"
    return 0
  fi
  start_cthelperd || { cat "$CTH_LOG"; fail "$CTH_MSG"; }
}

# The kernel ALG of protocol $1 (nf_conntrack_$1, nf_nat_$1) must not be loaded in a none or
# cthelperd boot.
no_kernel_alg() {
  local m
  for m in nf_conntrack_$1 nf_nat_$1; do
    [[ -d /sys/module/$m ]] && [[ $HELPER != kernel ]] && fail "kernel module $m is loaded in a '$HELPER' boot"
  done
  return 0
}
# The helper of this scenario's mode ($HELPER) for protocol $1: none; kernel = nf_conntrack_$1 +
# nf_nat_$1 and tests/vm/nft/attach-$1.nft; cthelperd = the daemon (cthelperd_up), then the product
# ruleset nft/cthelperd.nft.  Records the ruleset (and the registrations).
setup_helper() {
  local p=$1
  case $HELPER in
    none) ;;
    kernel)
      kmod_loaded nf_conntrack_$p nf_nat_$p || kmod -a nf_conntrack_$p nf_nat_$p \
        || fail "modprobe nf_conntrack_$p nf_nat_$p failed"
      ruleset_add "$VMDIR/nft/attach-$p.nft"
      ;;
    cthelperd)
      cthelperd_up
      log "attach ruleset: $REPO/nft/cthelperd.nft"
      ruleset_add "$REPO/nft/cthelperd.nft"
      ;;
    *) fail "bad helper $HELPER" ;;
  esac
  helper_ready
}
# helper_ready: loads the ruleset (the router's from net_setup and the attach rules: ruleset_add) in
# one transaction, records it (ruleset.txt: what nft echoed) and the helper registrations, and
# marks the end of the scenario's setup.
helper_ready() {
  ruleset_sync || fail "loading the ruleset (${RULESET_FILES[*]}) failed"
  if [[ $HELPER == cthelperd ]]; then
    if [[ ${CTHVM_CTH:-} == shared && -f ${CTHVM_CTH_NFCT:-} ]]; then printf '%s\n' "$(<"$CTHVM_CTH_NFCT")" >"$RES/nfct-helpers.txt"
    else nfct helper list >"$RES/nfct-helpers.txt" 2>&1; fi
  fi
  log "lab and helper ready"
  echo "${EPOCHREALTIME/./}" >"$RES/ready_us"
}

# A cthelperd scenario's evidence files ($@, e.g. expect.norm wire.norm) must equal those of its
# -kernel counterpart (run earlier in the same results dir); a difference fails with the diff.
same_as_kernel() {
  local ref=$RESULTS/${NAME%-cthelperd}-kernel f
  for f in "$@"; do
    [[ -f $ref/$f ]] || fail "no kernel reference $ref/$f (run the -kernel scenario in the same results dir)"
    if ! diff -u "$ref/$f" "$RES/$f" >"$RES/$f.diff"; then
      cat "$RES/$f.diff"; fail "$f differs from the kernel ALG's (see $f.diff)"
    fi
  done
}
