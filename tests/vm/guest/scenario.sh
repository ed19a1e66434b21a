# Shared by the scenario scripts (scenarios/<proto>.sh): sourced after lib.sh, with NAME, RES and W
# (the scenario's tmpfs scratch dir) set.  Verdicts, clean-up of what the scenario started, and
# starting cthelperd.
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
verdict() { echo "$*" >>"$RES/verdict"; log "VERDICT: $*"; }
# Packets the kernel queued to cthelperd in this scenario: id_sequence, the
# 8th field of the queue's line (counts since the daemon bound the queue).
queued() {
  awk '{ n += $8 } END { if (NR) printf " [%d packets queued]", n }' /proc/net/netfilter/nfnetlink_queue 2>/dev/null
}
pass() { verdict "$*$(queued)"; exit 0; }
fail() { verdict "$*"; exit 1; }
skip() { verdict "$*"; exit 77; }

CTH_LOG=$RES/cthelperd.log
cth_ready() { grep -q . /proc/net/netfilter/nfnetlink_queue 2>/dev/null; }
start_cthelperd() { # sets CTH_PID, CTH_MSG; returns 0 ready, 1 failure
  CTH_PID= CTH_MSG=
  [[ -n ${CTHELPERD:-} && -x $CTHELPERD ]] || { CTH_MSG="no cthelperd binary (CTHELPERD='${CTHELPERD:-}')"; return 1; }
  echo "---- $(ts) start: $CTHELPERD ${CTH_ARGS[*]} run" >>"$CTH_LOG"
  RUST_LOG=${CTH_RUST_LOG:-debug} "$CTHELPERD" "${CTH_ARGS[@]}" run >>"$CTH_LOG" 2>&1 &
  CTH_PID=$!
  local i rc
  for ((i = 0; i < 150; i++)); do
    if ! kill -0 "$CTH_PID" 2>/dev/null; then
      wait "$CTH_PID"; rc=$?
      CTH_MSG="cthelperd exited with status $rc before binding a queue"; return 1
    fi
    cth_ready && return 0
    sleep 0.2
  done
  CTH_MSG="cthelperd did not bind an NFQUEUE within 30 s"; return 1
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
# nf_nat_$1 and tests/vm/nft/attach-$1.nft; cthelperd = `cthelperd run`, then the product ruleset
# nft/cthelperd.nft.  Records the ruleset (and the registrations).
setup_helper() {
  local p=$1
  case $HELPER in
    none) ;;
    kernel)
      kmod nf_conntrack_$p && kmod nf_nat_$p || fail "modprobe nf_conntrack_$p nf_nat_$p failed"
      nft -f "$VMDIR/nft/attach-$p.nft" || fail "loading attach-$p.nft failed"
      ;;
    cthelperd)
      start_cthelperd || { cat "$CTH_LOG"; fail "$CTH_MSG"; }
      log "attach ruleset: $REPO/nft/cthelperd.nft"
      nft -f "$REPO/nft/cthelperd.nft" || fail "loading nft/cthelperd.nft failed"
      ;;
    *) fail "bad helper $HELPER" ;;
  esac
  nft list ruleset >"$RES/ruleset.txt"
  [[ $HELPER == cthelperd ]] && nfct helper list >"$RES/nfct-helpers.txt" 2>&1
  log "lab and helper ready"
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
