#!/bin/bash
# TFTP scenario, runs inside the VM (chroot into the host's /).  $1 = scenario name, $2 = result dir.
#   tftp-<op>-<fam>-masq-<helper>   op: rrq (read: tftp get) | wrq (write: tftp put); fam: v4 v6;
#                                   helper: none kernel cthelperd
# Real programs: tftpd-hpa's in.tftpd in the server namespace, tftp-hpa's tftp in the client
# namespace behind the masquerading router (router-masq.nft).  The server answers from a new port,
# so the transfer's first packet reaches the router as a new flow towards the router's own address:
# only an expectation (NATed to the client, following the master) lets it through.
# Exit 0 = PASS, 77 = SKIP, other = FAIL; the one-line reason is the last line of $RES/verdict.
set -uo pipefail
CTHVM_PACKAGES=(tftpd-hpa tftp-hpa tcpdump conntrack)
CTHVM_TIMEOUT=90
cthvm_list() {
  for h in none kernel cthelperd; do
    for f in v4 v6; do
      for o in rrq wrq; do echo "tftp-$o-$f-masq-$h"; done
    done
  done
}
source "$(dirname "${BASH_SOURCE[0]}")/../guest/scenario.sh" "$@"
IFS=- read -r _ OP FAM NET HELPER <<<"$NAME"

[[ $NET == masq ]] || fail "bad scenario name $NAME"
case $OP in rrq|wrq) ;; *) fail "bad scenario name $NAME" ;; esac
CPORT=30000               # the client's port (tftp -R), so expectations compare run to run
if [[ $FAM == v4 ]]; then
  SRV=10.0.2.2 CLI=10.0.1.2 RTR_S=10.0.2.1 SRV_BIND=10.0.2.2:69 TFTP_FAM=(-4) TD_FAM=(-4) IPV=IP
else
  SRV=fd00:2::2 CLI=fd00:1::2 RTR_S=fd00:2::1 SRV_BIND='[fd00:2::2]:69' TFTP_FAM=(-6) TD_FAM=(-6) IPV=IP6
fi
log "scenario $NAME: op=$OP fam=$FAM net=$NET helper=$HELPER kernel=$KVER"
for c in in.tftpd tftp; do command -v $c >/dev/null || fail "$c not installed (tftpd-hpa, tftp-hpa)"; done

# ------------------------------------------------------------------------------------- lab + helper
net_setup "$NET" || fail "network setup failed"
no_kernel_alg tftp
setup_helper tftp

# ------------------------------------------------------------------------------------- server
# in.tftpd: -L foreground listener, -s chroot to the root dir, -c allow WRQ to create files,
# -p no extra permission checks, -u root (no user switch needed in a throwaway namespace).
mkdir -p "$W/root" "$W/client"; chmod 755 "$W/root"
if [[ $OP == rrq ]]; then
  head -c 102400 /dev/urandom >"$W/root/data.bin"
  SUM=$(sha256sum <"$W/root/data.bin" | cut -d' ' -f1)
  OUT=$W/client/data.bin
  TFTP_CMD=(get data.bin data.bin)
else
  head -c 102400 /dev/urandom >"$W/client/up.bin"
  SUM=$(sha256sum <"$W/client/up.bin" | cut -d' ' -f1)
  OUT=$W/root/up.bin
  TFTP_CMD=(put up.bin up.bin)
fi
ip netns exec server in.tftpd -L "${TD_FAM[@]}" -s -c -p -u root -a "$SRV_BIND" "$W/root" \
  >"$RES/in.tftpd.log" 2>&1 &
PIDS+=($!)

# captures: the request at both ends (udp/69 only: the transfer runs between other ports);
# expectation events in the router
ip netns exec server tcpdump -U --immediate-mode -n -i eth0 -w "$RES/server.pcap" 'udp port 69' 2>"$RES/tcpdump-server.err" &
PIDS+=($!)
ip netns exec client tcpdump -U --immediate-mode -n -i eth0 -w "$RES/client.pcap" 'udp port 69' 2>"$RES/tcpdump-client.err" &
PIDS+=($!)
conntrack -E expect >"$RES/expect.events" 2>"$RES/expect.events.err" &
PIDS+=($!)
for ((i = 0; i < 100; i++)); do
  grep -q listening "$RES/tcpdump-server.err" && grep -q listening "$RES/tcpdump-client.err" &&
    ip netns exec server ss -Hlun "sport = :69" | grep -q . && break
  sleep 0.1
done
ip netns exec server ss -Hlun "sport = :69" | grep -q . || { cat "$RES/in.tftpd.log"; fail "in.tftpd is not listening"; }
log "server and captures ready"
sleep 0.3   # let `conntrack -E` subscribe

# ------------------------------------------------------------------------------------- client
# tftp-hpa retransmits for ~25 s on its own; an expected failure is cut at 8 s.
MAXT=60; [[ $HELPER == none ]] && MAXT=8
CLIENT=(tftp "${TFTP_FAM[@]}" -m binary -R "$CPORT:$CPORT" "$SRV" -c "${TFTP_CMD[@]}")
log "client: ${CLIENT[*]}"
t0=$(now_ms)
(cd "$W/client" && exec ip netns exec client timeout "$MAXT" "${CLIENT[@]}") >"$RES/client.log" 2>&1
CRC=$?
log "client exit $CRC after $(( $(now_ms) - t0 )) ms"
sleep 0.5
# the transfer's flow in the router (server's new port -> router:CPORT), before teardown
conntrack -L -p udp --orig-src "$SRV" --orig-port-dst "$CPORT" >"$RES/data-flow.txt" 2>/dev/null
for p in "${PIDS[@]:1}"; do kill -INT "$p" 2>/dev/null; done   # tcpdumps, conntrack -E
sleep 0.5

# ------------------------------------------------------------------------------------- evidence
# The request as each end saw it (tcpdump's TFTP decoding; duplicates = retransmissions, dropped).
for side in server client; do
  tcpdump -r "$RES/$side.pcap" -n -t 2>/dev/null | sed -n 's/, length [0-9]*//; /TFTP/p' | sort -u | sed "s/^/$side /"
done >"$RES/wire.norm"
# Expectations: drop the timeout, keep everything else (tuples, masks, master, class, helper).
sed -E 's/^ *\[([A-Z]+)\] +[0-9]+ /\1 /; s/^ *\[([A-Z]+)\] +/\1 /' "$RES/expect.events" | grep -v '^$' >"$RES/expect.norm"
log "---- wire.norm"; cat "$RES/wire.norm"
log "---- expect.norm (conntrack -E expect)"; cat "$RES/expect.norm"
log "---- data flow (conntrack -L)"; cat "$RES/data-flow.txt"
log "---- client.log (tail)"; tail -n 10 "$RES/client.log"

# ------------------------------------------------------------------------------------- verdict
OPUP=${OP^^}
ok_transfer() { [[ -f $OUT ]] && [[ $(sha256sum <"$OUT" | cut -d' ' -f1) == "$SUM" ]]; }
NEXP=$(grep -c '^NEW ' "$RES/expect.norm")
# The request must have reached the server, from the router's address (masquerade): otherwise a
# broken lab would pass as "failed without a helper".
grep -Eq "^server $IPV $RTR_S\.$CPORT > $SRV\.69: TFTP, $OPUP " "$RES/wire.norm" \
  || fail "no $OPUP from $RTR_S.$CPORT reached the server (lab broken?)"

if [[ $HELPER == none ]]; then
  ((NEXP == 0)) || fail "expectations appeared without a helper"
  # the server did answer, from a new port towards the router: the flow the router cannot place
  grep -q "src=$SRV dst=$RTR_S sport=[0-9]* dport=$CPORT " "$RES/data-flow.txt" \
    || fail "the server's answer never reached the router (is in.tftpd working?)"
  ok_transfer && fail "transfer succeeded without a helper"
  pass "transfer failed without a helper, as it must (tftp exit $CRC)"
fi

ok_transfer || fail "transfer failed with the $HELPER helper (tftp exit $CRC: $(tail -n 1 "$RES/client.log"))"
((NEXP >= 1)) || fail "transfer ok but no expectation was created"
# NAT follows the master: the server's flow to the router's port is mapped to the client's port.
grep -Eq "src=$SRV dst=$RTR_S sport=[0-9]+ dport=$CPORT .*src=$CLI dst=$SRV sport=$CPORT " "$RES/data-flow.txt" \
  || fail "the transfer's flow is not NATed to the client ($CLI.$CPORT)"
if [[ $HELPER == kernel ]]; then
  pass "$OPUP ok (sha256 match), $NEXP expectation(s), flow NATed to the client; reference recorded"
fi
same_as_kernel expect.norm wire.norm
pass "$OPUP ok (sha256 match), flow NATed to the client; expectations and request identical to the kernel ALG's"
