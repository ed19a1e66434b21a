#!/bin/bash
# Operations: cthelperd as an operator runs it — by the systemd unit, or by the README's quick start —
# not as the other scenarios start it.  Both use a configuration with tftp disabled and ftp on 21 and
# 2121, and both must give a router where nf_conntrack_tftp is not loaded (a `ct helper` object of
# type "tftp" that no userspace helper serves makes the kernel autoload it) and where an active FTP
# transfer on port 2121 works through the masquerading router (it needs the PORT rewrite).
#   ops-unit-v4-masq   a configuration with tftp disabled and ftp on 21 and 2121; cthelperd started
#                      with the unit's own commands, read out of contrib/cthelperd.service (the
#                      install paths mapped to this checkout and this scenario: the test follows the
#                      unit).  Then: nf_conntrack_tftp must stay unloaded (a `ct helper` object of
#                      type "tftp" that no userspace helper serves makes the kernel autoload it) and
#                      an active FTP transfer on port 2121 must work through the masquerading router
#                      (it needs the PORT rewrite).  Then an nftables reload that starts with
#                      `flush ruleset`, followed by the unit's ExecReload (what ReloadPropagatedFrom=
#                      runs): the table is back and 2121 works again; and the documented alternative,
#                      `include "/run/cthelperd/*.nft"` in the operator's own ruleset, puts it back in
#                      the same transaction.
#   ops-quickstart-v4-masq   the commands of README.md's "Quick start" block, read out of README.md
#                      (`sudo` dropped, target/release/cthelperd = the binary under test,
#                      cthelperd.toml = the configuration above): `run &`, then, once it serves,
#                      `cthelperd --config … nft | nft -f -`.
#   ops-package-v4-masq   the Debian package (target/debian/cthelperd_*.deb, made by contrib/deb.sh):
#                      unpacked with dpkg -x into a root of its own (the guest's / is the host's,
#                      read-only), its files checked (man pages render, example configuration checks),
#                      then the unit case above with the package's own unit and binary.
#   ops-reload-v4-masq   the unit case, then with one FTP control connection up (a download done):
#                      `cthelperd status` (text and JSON) shows the traffic; a configuration with
#                      another port (2122) and another ftp policy timeout is reloaded with the unit's
#                      ExecReload (cthelperd reload): the registrations updated in place, the
#                      ruleset has 2122; an invalid file: reload exits 1 with the line, nothing
#                      changes; SIGHUP reloads; the control connection still works and its second
#                      download (active mode: needs the PORT rewrite) passes.
# A packaging scenario: no kernel counterpart (it tests the unit, not a protocol's ALG).
# Exit 0 = PASS, 77 = SKIP, other = FAIL; the one-line reason is the last line of $RES/verdict.
set -uo pipefail
CTHVM_PACKAGES=(vsftpd curl tcpdump conntrack nftables man-db python3)
CTHVM_TIMEOUT=180
cthvm_list() {
  echo "ops-unit-v4-masq group=cthelperd cthelperd=own"
  echo "ops-quickstart-v4-masq group=cthelperd cthelperd=own"
  echo "ops-package-v4-masq group=cthelperd cthelperd=own"
  echo "ops-reload-v4-masq group=cthelperd cthelperd=own"
}
source "$(dirname "${BASH_SOURCE[0]}")/../guest/scenario.sh" "$@"
HELPER=cthelperd
IFS=- read -r _ CASE _ <<<"$NAME"
UNIT=$REPO/contrib/cthelperd.service
SRV=10.0.2.2 CLI=10.0.1.2 RTR_S=10.0.2.1 PORT2=2121
SHARE=$REPO/nft
if [[ $CASE == package ]]; then
  # The package, unpacked into a root of its own: its unit and binary are the ones under test.
  debs=("$REPO"/target/debian/cthelperd_*.deb)
  [[ -f ${debs[0]} ]] || fail "no package in $REPO/target/debian: build it with contrib/deb.sh"
  ((${#debs[@]} == 1)) || fail "more than one package in $REPO/target/debian: ${debs[*]}"
  PKG=$W/pkgroot; mkdir -p "$PKG"
  dpkg -x "${debs[0]}" "$PKG" || fail "dpkg -x ${debs[0]} failed"
  dpkg-deb -c "${debs[0]}" >"$RES/package-contents.txt"
  for f in usr/sbin/cthelperd usr/lib/systemd/system/cthelperd.service usr/share/cthelperd/cthelperd.nft \
           usr/share/doc/cthelperd/examples/cthelperd.toml usr/share/man/man8/cthelperd.8.gz \
           usr/share/man/man5/cthelperd.toml.5.gz usr/share/bash-completion/completions/cthelperd \
           usr/share/zsh/vendor-completions/_cthelperd usr/share/fish/vendor_completions.d/cthelperd.fish \
           usr/share/doc/cthelperd/README.md usr/share/doc/cthelperd/kernel-path.md; do
    [[ -s $PKG/$f ]] || fail "the package lacks /$f"
  done
  CTHELPERD=$PKG/usr/sbin/cthelperd UNIT=$PKG/usr/lib/systemd/system/cthelperd.service SHARE=$PKG/usr/share/cthelperd
  for m in man8/cthelperd.8.gz man5/cthelperd.toml.5.gz; do
    MANWIDTH=100 man --warnings -l "$PKG/usr/share/man/$m" >"$RES/$(basename "$m" .gz).txt" 2>"$RES/man.err" \
      || fail "man -l /usr/share/man/$m failed: $(head -n 1 "$RES/man.err")"
    [[ -s $RES/man.err ]] && fail "man -l /usr/share/man/$m warns: $(head -n 1 "$RES/man.err")"
  done
  "$CTHELPERD" check-config "$PKG/usr/share/doc/cthelperd/examples/cthelperd.toml" >/dev/null \
    || fail "the package's example configuration does not check"
  log "package ${debs[0]##*/}: files in place, man pages render, example configuration checks"
fi
log "scenario $NAME: unit $UNIT kernel=$KVER"
[[ -f $UNIT ]] || fail "no unit file $UNIT"
cp "$UNIT" "$RES/cthelperd.service"

# ------------------------------------------------------------------------------------- the unit
# unit_lines KEY: the unit's KEY= lines in order (what systemd would run for that key).
unit_lines() { local l; while IFS= read -r l; do [[ $l == "$1="* ]] && printf '%s\n' "${l#"$1="}"; done <"$UNIT"; }
RUNDIR=$W/run
# unit_cmd LINE: a command line of the unit as this VM runs it, in CMD: the prefixes (- ignore
# failure, in IGNORE; + @ ! : run privileged or otherwise, all the same here) split off, systemd's
# `$$` is `$`, and the install paths (README.md, contrib/install.sh) are this checkout's and this
# scenario's.
IGNORE=0 CMD=
unit_cmd() {
  local c=$1
  IGNORE=0
  while [[ $c == [-+@!:]* ]]; do [[ $c == -* ]] && IGNORE=1; c=${c:1}; done
  c=${c//'$$'/'$'}
  c=${c//\/usr\/sbin\/cthelperd/$CTHELPERD}
  c=${c//\/etc\/cthelperd.toml/$W\/cthelperd.toml}
  c=${c//\/run\//$RUNDIR\/}
  c=${c//\/usr\/share\/cthelperd\//$SHARE\/}
  c=${c//\/sbin\/modprobe/modprobe -d \/run\/initrd}
  CMD=$c
}
# run_unit KEY: runs every KEY= line of the unit in order, as systemd does (stop at the first
# failure unless the line says `-`).
run_unit() {
  local l c rc
  while IFS= read -r l; do
    [[ -n $l ]] || continue
    unit_cmd "$l"; c=$CMD
    log "$1: $c"
    : >"$RULESET_STATE.dirty"   # the unit's nft: the runner flushes the ruleset after this scenario
    eval "$c" >>"$RES/unit.log" 2>&1; rc=$?
    ((rc == 0 || IGNORE)) || { tail -n 20 "$RES/unit.log"; fail "$1 '$l' failed (exit $rc)"; }
  done <<<"$(unit_lines "$1")"
}
# On exit, besides scenario.sh's clean-up: the ruleset goes (it holds the registrations), and a
# kernel helper this scenario made the kernel load is unloaded again (later cthelperd scenarios
# must not find one).
ops_cleanup() {
  cleanup
  command nft flush ruleset 2>/dev/null; rm -f "$RULESET_STATE" "$RULESET_STATE.dirty"
  kmod_loaded nf_conntrack_tftp && kmod -r nf_nat_tftp nf_conntrack_tftp 2>/dev/null
  return 0
}
trap ops_cleanup EXIT

# ------------------------------------------------------------------------------------- lab
net_setup masq || fail "network setup failed"
# A clean start: no ruleset of an earlier scenario (its `ct helper` objects hold the shared daemon's
# registrations), no registration.
command nft flush ruleset; rm -f "$RULESET_STATE"
delete_helper_registrations
for m in nf_conntrack_tftp nf_nat_tftp nf_conntrack_ftp nf_nat_ftp; do
  kmod_loaded $m && fail "kernel module $m is loaded before the scenario (an earlier scenario left it)"
done
ruleset_sync || fail "loading the router ruleset failed"   # the operator's firewall (router-masq.nft)

cat >"$W/cthelperd.toml" <<'EOF'
[helper.ftp]
ports = [21, 2121]

[helper.tftp]
enabled = false
EOF
cp "$W/cthelperd.toml" "$RES/cthelperd.toml"
# RuntimeDirectory=NAME: systemd creates /run/NAME before ExecStartPre.
rtd=$(unit_lines RuntimeDirectory)
mkdir -p "$RUNDIR" ${rtd:+"$RUNDIR/$rtd"}

# ------------------------------------------------------------------------------------- start
# wait_serving: the daemon (CTH_PID) has bound a queue (it registers its helpers before that).
wait_serving() {
  local i
  for ((i = 0; i < 600; i++)); do
    kill -0 "$CTH_PID" 2>/dev/null || { cat "$CTH_LOG"; fail "cthelperd ($1) exited before binding a queue"; }
    cth_ready && return 0
    sleep 0.05
  done
  fail "cthelperd did not bind an NFQUEUE within 30 s"
}
# start_bg CMD: CMD (a shell command line that execs cthelperd) in the background, as CTH_PID.
start_bg() {
  echo "---- $(ts) start: $1" >>"$CTH_LOG"
  ( RUST_LOG=${CTH_RUST_LOG:-debug}; export RUST_LOG; eval "exec $1" ) >>"$CTH_LOG" 2>&1 </dev/null &
  CTH_PID=$!
  echo "$CTH_PID" >>"$W/cthelperd.pids"
}
if [[ $CASE == quickstart ]]; then
  # The first ```sh block after "## Quick start" in README.md, its cthelperd lines in order.
  mapfile -t QS <<<"$(awk '/^## Quick start/ {q = 1} q && /^```sh$/ {b = 1; next} b && /^```$/ {exit} b' \
                      "$REPO/README.md" | grep 'cthelperd ' | grep -v '^cargo ')"
  printf '%s\n' "${QS[@]}" >"$RES/quickstart.sh"
  ((${#QS[@]} >= 2)) || fail "README.md's quick start has no cthelperd commands"
  for l in "${QS[@]}"; do
    c=$(sed -E 's/[[:space:]]+#.*$//; s/(^|[|&;][[:space:]]*)sudo /\1/g' <<<"$l")
    c=${c//target\/release\/cthelperd/$CTHELPERD}
    c=${c// cthelperd.toml/ $W\/cthelperd.toml}
    log "quick start: $c"
    if [[ $c == *'&' ]]; then
      start_bg "${c%&}"
      wait_serving "the quick start's run"
    else
      : >"$RULESET_STATE.dirty"
      eval "$c" >>"$RES/unit.log" 2>&1 || { tail -n 20 "$RES/unit.log"; fail "quick start '$l' failed"; }
    fi
  done
  [[ -n ${CTH_PID:-} ]] || fail "README.md's quick start does not start cthelperd in the background"
else
  run_unit ExecStartPre
  start=$(unit_lines ExecStart)
  [[ $(wc -l <<<"$start") == 1 && -n $start ]] || fail "the unit has not exactly one ExecStart"
  unit_cmd "$start"; c=$CMD
  log "ExecStart: $c"
  start_bg "$c"
  wait_serving "the unit's ExecStart"
  # Type=notify: systemd runs ExecStartPost after READY=1, which follows the registration and the
  # queues; here: once a queue is bound.
  run_unit ExecStartPost
fi
command nft list table inet cthelperd >"$RES/table.txt" 2>&1 || fail "no table inet cthelperd after the start"
nfct helper list >"$RES/nfct-helpers.txt" 2>&1
log "lab and helper ready"
echo "${EPOCHREALTIME/./}" >"$RES/ready_us"

# ------------------------------------------------------------------------------------- reload
# One FTP control connection across reloads (ftp_twice.py: a download, then the test's reloads, the
# control channel, a second download), with status, an invalid file and SIGHUP in between.
reload_case() {
  local sync=$W/sync rc out i
  mkdir -p "$sync"
  ip netns exec client /usr/bin/python3 "$VMDIR/scenarios/ftp_twice.py" "$SRV" port "$CLI" "$sync" \
    "$W/out1.bin" "$W/out2.bin" "$PORT2" 30020 >"$RES/client-twice.log" 2>&1 &
  local client=$!
  for ((i = 0; i < 600; i++)); do [[ -e $sync/first-done ]] && break; kill -0 $client 2>/dev/null || break; sleep 0.1; done
  [[ -e $sync/first-done ]] || { cat "$RES/client-twice.log"; fail "the first download of the session failed"; }
  "$CTHELPERD" status >"$RES/status.txt" 2>&1 || fail "cthelperd status failed: $(tail -n 1 "$RES/status.txt")"
  "$CTHELPERD" status --format json >"$RES/status.json" 2>&1 || fail "cthelperd status --format json failed"
  python3 -c '
import json, sys
s = json.load(open(sys.argv[1]))
ftp = next(h for h in s["helpers"] if h["name"] == "ftp")
assert ftp["packets"] > 0 and ftp["edits"] > 0, ftp
assert ftp["expectations_created"] + ftp["expectations_in_verdict"] > 0, ftp
assert any(q["queue"] == 0 and q["portid"] > 0 for q in s["queues"]), s["queues"]
assert s["config"], s
' "$RES/status.json" 2>"$RES/status-check.txt" || fail "status JSON: $(tail -n 1 "$RES/status-check.txt")"
  log "status: $(grep '^ftp ' "$RES/status.txt")"
  # The new configuration: another port, another policy timeout; reloaded by the unit's ExecReload.
  cp "$W/cthelperd.toml" "$W/cthelperd.toml.orig"
  printf '[helper.ftp]\nports = [21, 2121, 2122]\n[helper.ftp.policy.ftp]\ntimeout = 120\n\n[helper.tftp]\nenabled = false\n' \
    >"$W/cthelperd.toml"
  : >"$RES/unit.log"
  run_unit ExecReload
  cp "$RES/unit.log" "$RES/reload1.txt"
  grep -q 'ftp ports 21,2121 → 21,2121,2122' "$RES/reload1.txt" || fail "reload did not say what changed: $(<"$RES/reload1.txt")"
  grep -q 'ruleset .* loaded' "$RES/reload1.txt" || fail "reload did not load the ruleset: $(<"$RES/reload1.txt")"
  command nft list table inet cthelperd >"$RES/table-reloaded.txt" 2>&1
  grep -Eq 'elements = \{ 21, 2121, 2122 \}' "$RES/table-reloaded.txt" || fail "after the reload the ruleset lacks 2122"
  nfct helper list >"$RES/nfct-reloaded.txt" 2>&1
  # (nfct helper list does not print policies: the update itself is CTHELPER_NEW on the existing
  # registration, which the kernel refuses with EBUSY if it is not in place; still registered, enabled.)
  grep -q 'ftp policies' "$RES/reload1.txt" || fail "reload did not update the ftp policy: $(<"$RES/reload1.txt")"
  [[ $(grep -A6 -E '\.name = ftp,' "$RES/nfct-reloaded.txt" | grep -c 'status = enabled') == 2 ]] \
    || fail "ftp is not registered and enabled (ipv4 and ipv6) after the reload (see nfct-reloaded.txt)"
  # An invalid file changes nothing, and says why in one line.
  printf '[helper.ftp]\nports = [21]\nbogus = 1\n' >"$W/cthelperd.toml"
  "$CTHELPERD" reload >"$RES/reload-invalid.txt" 2>&1; rc=$?
  ((rc == 1)) || fail "reload of an invalid file exited $rc"
  [[ $(wc -l <"$RES/reload-invalid.txt") == 1 ]] && grep -q 'line 3' "$RES/reload-invalid.txt" \
    || fail "reload of an invalid file: $(<"$RES/reload-invalid.txt")"
  command nft list table inet cthelperd >"$RES/table-invalid.txt" 2>&1
  [[ $(<"$RES/table-invalid.txt") == "$(<"$RES/table-reloaded.txt")" ]] || fail "an invalid file changed the ruleset"
  grep -q 'reload: .*line 3.*nothing changed' "$CTH_LOG" || fail "the daemon logged no line for the invalid file"
  # SIGHUP: back to the first configuration.
  cp "$W/cthelperd.toml.orig" "$W/cthelperd.toml"
  kill -HUP "$CTH_PID"
  for ((i = 0; i < 100; i++)); do grep -q 'reload: .*21,2121,2122 → 21,2121' "$CTH_LOG" && break; sleep 0.1; done
  grep -q 'reload: .*21,2121,2122 → 21,2121' "$CTH_LOG" || fail "SIGHUP did not reload"
  kill -0 "$CTH_PID" || fail "cthelperd exited on SIGHUP"
  # The session: its control channel, then a second active download (PORT rewrite needed).
  touch "$sync/dead"
  for ((i = 0; i < 300; i++)); do [[ -e $sync/control-ok || -e $sync/control-failed ]] && break; sleep 0.1; done
  [[ -e $sync/control-ok ]] || { cat "$RES/client-twice.log"; fail "the control connection failed across the reloads"; }
  touch "$sync/go"
  wait $client; rc=$?
  ((rc == 0)) || { tail -n 5 "$RES/client-twice.log"; fail "the second download after the reloads failed (exit $rc)"; }
  cmp -s "$W/out2.bin" "$W/ftproot/pub/data.bin" || fail "the second download differs"
  out=$("$CTHELPERD" status --format json | python3 -c 'import json,sys; print(json.load(sys.stdin)["reloads"])')
  [[ $out == 2 ]] || fail "status counts $out reloads, not 2"
  pass "FTP session across reloads (cthelperd reload, SIGHUP): status, port 2122 and the policy updated in place, invalid file refused in one line, second download helped"
}

# ------------------------------------------------------------------------------------- checks
tftp_unloaded() { ! kmod_loaded nf_conntrack_tftp; }
tftp_unloaded || fail "nf_conntrack_tftp was loaded: the ruleset has a tftp helper object although tftp is disabled"
grep -q 'type "tftp"' "$RES/table.txt" && fail "the loaded ruleset attaches tftp, which the configuration disables"
grep -Eq 'elements = \{ 21, 2121 \}' "$RES/table.txt" || fail "the loaded ruleset does not attach ftp to 21 and 2121"

# vsftpd on 2121, active mode (PORT): through the masquerading router only with the PORT rewrite
mkdir -p "$W/ftproot/pub" "$W/empty"; chmod 755 "$W/ftproot" "$W/ftproot/pub" "$W/empty"
head -c 262144 /dev/urandom >"$W/ftproot/pub/data.bin"; chmod 644 "$W/ftproot/pub/data.bin"
SUM=$(sha256sum <"$W/ftproot/pub/data.bin" | cut -d' ' -f1)
vsftpd_conf "$W/vsftpd.conf" "$W" listen=YES listen_ipv6=NO "listen_address=$SRV" \
  "listen_port=$PORT2" port_enable=YES connect_from_port_20=YES xferlog_enable=YES \
  xferlog_std_format=NO log_ftp_protocol=YES "vsftpd_log_file=$RES/vsftpd.log" accept_timeout=15 \
  connect_timeout=15
ip netns exec server vsftpd "$W/vsftpd.conf" >"$RES/vsftpd.stderr" 2>&1 &
PIDS+=($!)
conntrack -E expect >"$RES/expect.events" 2>&1 &
PIDS+=($!)
for ((i = 0; i < 100; i++)); do ip netns exec server ss -Hltn "sport = :$PORT2" | grep -q . && break; sleep 0.1; done
ip netns exec server ss -Hltn "sport = :$PORT2" | grep -q . || { cat "$RES/vsftpd.stderr"; fail "vsftpd is not listening on $PORT2"; }
sleep 0.3
transfer() { # $1: label
  rm -f "$W/out.bin"
  ip netns exec client curl -g -sS -v --max-time 20 --local-port 30000-30009 -P "$CLI:40000" --disable-eprt \
    -o "$W/out.bin" "ftp://$SRV:$PORT2/pub/data.bin" >"$RES/client-$1.log" 2>&1
  local rc=$?
  [[ $rc == 0 && -f $W/out.bin && $(sha256sum <"$W/out.bin" | cut -d' ' -f1) == "$SUM" ]] && return 0
  grep '^curl:' "$RES/client-$1.log" | tail -n 1
  return 1
}
[[ $CASE == reload ]] && reload_case
transfer start || fail "active FTP on port $PORT2 failed through the NAT router: the loaded ruleset does not help $PORT2"
grep -q "PORT ${RTR_S//./,}," "$RES/vsftpd.log" || fail "the PORT reaching the server on $PORT2 is not the router's address"
log "active FTP on $PORT2 ok (PORT rewritten to the router's address)"
if [[ $CASE == quickstart ]]; then
  tftp_unloaded || fail "nf_conntrack_tftp was loaded during the scenario"
  kmod_loaded nf_conntrack_ftp && fail "the kernel's nf_conntrack_ftp was loaded"
  pass "README's quick start: tftp disabled → nf_conntrack_tftp not loaded; ftp on $PORT2 helped"
fi

# An nftables reload that starts with `flush ruleset` (Debian's /etc/nftables.conf): the table goes.
{ echo "flush ruleset"; printf 'include "%s"\n' "${RULESET_FILES[@]}"; } >"$W/nftables.conf"
command nft -f "$W/nftables.conf" || fail "the simulated nftables reload failed"
command nft list table inet cthelperd >/dev/null 2>&1 && fail "table inet cthelperd survived flush ruleset (the reload did not happen?)"
# ReloadPropagatedFrom=nftables.service: systemd reloads cthelperd after nftables.
grep -q '^ReloadPropagatedFrom=.*nftables.service' "$UNIT" || fail "the unit does not follow nftables reloads (ReloadPropagatedFrom=nftables.service)"
[[ -n $(unit_lines ExecReload) ]] || fail "the unit has no ExecReload"
run_unit ExecReload
command nft list table inet cthelperd >"$RES/table-reload.txt" 2>&1 || fail "ExecReload did not put table inet cthelperd back"
[[ $(<"$RES/table.txt") == "$(<"$RES/table-reload.txt")" ]] || fail "the table after ExecReload differs from the one after start"
transfer reload || fail "active FTP on $PORT2 failed after the nftables reload and ExecReload"
log "after flush ruleset + ExecReload: table back, active FTP on $PORT2 ok"

# The documented alternative: the operator's ruleset includes the runtime file; one transaction.
inc=$(grep -o 'include "/run/[^"]*"' "$UNIT" | head -n 1)
[[ -n $inc ]] || fail "the unit documents no include of its runtime ruleset"
inc=${inc//\/run\//$RUNDIR\/}
{ echo "flush ruleset"; printf 'include "%s"\n' "${RULESET_FILES[@]}"; echo "$inc"; } >"$W/nftables-include.conf"
cp "$W/nftables-include.conf" "$RES/"
command nft -f "$W/nftables-include.conf" || fail "nftables.conf with the documented include failed to load"
command nft list table inet cthelperd >"$RES/table-include.txt" 2>&1 || fail "the documented include did not load table inet cthelperd"
[[ $(<"$RES/table.txt") == "$(<"$RES/table-include.txt")" ]] || fail "the table loaded by the include differs from the one after start"

tftp_unloaded || fail "nf_conntrack_tftp was loaded during the scenario"
kmod_loaded nf_conntrack_ftp && fail "the kernel's nf_conntrack_ftp was loaded"
pass "unit's own commands: tftp disabled → nf_conntrack_tftp not loaded; ftp on $PORT2 helped; table back after flush ruleset (ExecReload, and the documented include)"
