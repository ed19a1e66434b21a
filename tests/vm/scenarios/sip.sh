#!/bin/bash
# SIP scenarios, run inside the VM (chroot into the host's /).  $1 = scenario name, $2 = result dir.
#   sip-<case>-<fam>-masq-<helper>   helper: none | kernel (nf_conntrack_sip + nf_nat_sip) | cthelperd
#   case udp       sipp UAC (client ns) calls sipp UAS (server ns) over UDP; the server sends RTP to
#                  the address and port of the SDP it received
#        tcp       the same over TCP (sipp -t t1)
#        register  the phone REGISTERs at the registrar, then a call from the server side (port 5070)
#                  goes to the Contact the registrar received
#        5media    an offer with five m= lines (audio video image audio video); media to all five
#        tcpsplit  the INVITE of the tcp call split over two TCP segments (split_uac.py)
#        reload    (cthelperd only, a daemon of its own) the udp call with 300 RTP packets per stream;
#                  once the call's expectations exist, `cthelperd reload` of a configuration with other
#                  SIP parameters and an audio policy while the media flows: every packet arrives, the
#                  BYE is handled by the reloaded helper (issue 15)
#   fam v4 | v6
# The router masquerades the client network (tests/vm/nft/router-masq.nft): the server's RTP and the
# inbound INVITE can only reach the client through an expectation.  sipp's messages have fixed
# Call-IDs, tags and branches, so the SIP text of a kernel run and a cthelperd run can be compared
# byte for byte; sip/*.xml are the sipp scenarios, sip/sipcap.py reads the captures and sends media.
# Exit 0 = PASS, 77 = SKIP, other = FAIL; the one-line reason is the last line of $RES/verdict.
set -uo pipefail
CASES_V4="udp tcp register 5media tcpsplit"
CASES_V6="udp register"   # tcp passes for v6 too (run once by hand); left out to keep the set short
CTHVM_PACKAGES=(sip-tester python3 tcpdump conntrack)
CTHVM_TIMEOUT=120
cthvm_list() {
  for h in none kernel cthelperd; do
    for c in $CASES_V4; do echo "sip-$c-v4-masq-$h"; done
    for c in $CASES_V6; do echo "sip-$c-v6-masq-$h"; done
  done
  echo "sip-reload-v4-masq-cthelperd group=cthelperd cthelperd=own"
}
source "$(dirname "${BASH_SOURCE[0]}")/../guest/scenario.sh" "$@"
SD=$VMDIR/scenarios/sip
SIPCAP=(/usr/bin/python3 "$SD/sipcap.py")

IFS=- read -r _ CASE FAM NET HELPER <<<"$NAME"

if [[ $FAM == v4 ]]; then
  SRV=10.0.2.2 CLI=10.0.1.2 RTR_S=10.0.2.1 IPV=4 ANSWER_IP=10.0.2.3
  SRVH=$SRV CLIH=$CLI
else
  SRV=fd00:2::2 CLI=fd00:1::2 RTR_S=fd00:2::1 IPV=6 ANSWER_IP=fd00:2::3
  SRVH="[$SRV]" CLIH="[$CLI]"
fi
[[ $NET == masq ]] || fail "bad scenario name $NAME (net must be masq)"
case $CASE in
  udp|register|5media|reload) TR=UDP ;;
  tcp|tcpsplit) TR=TCP ;;
  *) fail "bad scenario name $NAME" ;;
esac
T=u1; [[ $TR == TCP ]] && T=t1
V=; [[ $CASE == 5media ]] && V=-5media
KEYS=(-key cli_host "$CLIH" -key srv_host "$SRVH" -key cli_ip "$CLI" -key srv_ip "$SRV"
      -key ipv "$IPV" -key tr "$TR" -key answer_ip "$ANSWER_IP")
# sipp's version, asked once per boot (three process starts)
[[ -s /tmp/cthvm/.sipp-version ]] || sipp -v 2>&1 | grep -o 'v[0-9.]*' | head -n 1 >/tmp/cthvm/.sipp-version
log "scenario $NAME: case=$CASE fam=$FAM transport=$TR helper=$HELPER kernel=$KVER sipp=$(<"/tmp/cthvm/.sipp-version")"

# ------------------------------------------------------------------------------------- lab + helper
net_setup "$NET" || fail "network setup failed"
no_kernel_alg sip
NPKT=10
if [[ $CASE == reload ]]; then
  [[ $HELPER == cthelperd ]] || fail "reload is a cthelperd scenario"
  printf '[helper.sip]\nsip_timeout = 3600\n' >"$W/cthelperd.toml"
  CTH_ARGS=(-c "$W/cthelperd.toml" --control "$W/control")
  NPKT=300
fi
# mid_call_reload: once the call's expectations exist (the 200 OK was helped), reload a changed
# configuration while the media flows; the media sender must still be sending when it is done.
mid_call_reload() { # $1 = media sender's pid
  local i
  for ((i = 0; i < 300; i++)); do grep -q NEW "$W/expect.events" && break; sleep 0.1; done
  grep -q NEW "$W/expect.events" || fail "no expectation for the call before the reload"
  sleep 0.5
  printf '[helper.sip]\nsip_timeout = 1800\n[helper.sip.policy.audio]\nmax_expected = 6\ntimeout = 240\n' >"$W/cthelperd.toml"
  cp "$W/cthelperd.toml" "$RES/cthelperd-reloaded.toml"
  "$CTHELPERD" --control "$W/control" reload >"$RES/reload.txt" 2>&1 || fail "cthelperd reload failed: $(<"$RES/reload.txt")"
  grep -q 'sip parameters; sip policies' "$RES/reload.txt" || fail "reload did not change the sip helper: $(<"$RES/reload.txt")"
  grep -q ruleset "$RES/reload.txt" && fail "a change of parameters and policies touched the ruleset: $(<"$RES/reload.txt")"
  kill -0 "$1" 2>/dev/null || fail "the media was over before the reload finished (not a reload mid-media)"
  log "reloaded mid-call, media still flowing: $(<"$RES/reload.txt")"
}
setup_helper sip

# ------------------------------------------------------------------------------------- captures
# One set per call: SIP and media at both ends (tcpdump --immediate-mode: without it the kernel
# hands packets over in blocks and the last ones are lost when tcpdump is stopped), expectation
# events in the router.  Written to tmpfs ($W) and read there while they grow (the results share is
# 9p with cache=loose: a reader may see a stale size), copied to $RES when the call is over.
CAP_PIDS=()
start_captures() { # $1 = suffix ("" or -ref)
  local s=$1 i
  ip netns exec server tcpdump --immediate-mode -U -n -i eth0 -w "$W/server$s.pcap" 'udp or tcp' 2>"$W/tcpdump-server$s.err" &
  CAP_PIDS+=($!)
  ip netns exec client tcpdump --immediate-mode -U -n -i eth0 -w "$W/client$s.pcap" 'udp or tcp' 2>"$W/tcpdump-client$s.err" &
  CAP_PIDS+=($!)
  conntrack -E expect >"$W/expect$s.events" 2>"$W/expect$s.err" &
  CAP_PIDS+=($!)
  PIDS+=("${CAP_PIDS[@]}")
  for ((i = 0; i < 100; i++)); do
    grep -q listening "$W/tcpdump-server$s.err" && grep -q listening "$W/tcpdump-client$s.err" && break
    sleep 0.1
  done
  sleep 0.3   # let `conntrack -E` subscribe
}
stop_captures() {
  local p
  sleep 0.3
  for p in "${CAP_PIDS[@]}"; do kill -INT "$p" 2>/dev/null; done
  for p in "${CAP_PIDS[@]}"; do wait "$p" 2>/dev/null; done
  CAP_PIDS=()
}
evidence() { # $1 = suffix: wire.norm, media.txt, expect.norm from the captures
  local s=$1 f
  for f in server$s.pcap client$s.pcap expect$s.events media-sent$s.txt; do
    [[ -f $W/$f ]] && cp "$W/$f" "$RES/$f"
  done
  "${SIPCAP[@]}" evidence "$W/server$s.pcap" "$SRV" "$W/client$s.pcap" "$CLI" "$W/expect$s.events" "$RES" "$s"
  log "---- expect$s.norm"; cat "$RES/expect$s.norm"
  log "---- media$s.txt (RTP packets received in the client namespace: address port count)"; cat "$RES/media$s.txt"
}
listening() { # $1 = ns, $2 = udp|tcp, $3 = port
  local i f=-Hlun; [[ $2 == tcp ]] && f=-Hltn
  for ((i = 0; i < 100; i++)); do
    ip netns exec "$1" ss $f "sport = :$3" | grep -q . && return 0
    sleep 0.1
  done
  return 1
}

# ------------------------------------------------------------------------------------- one call
# call SUFFIX CALLER: the UAS (uas$V.xml) in the server namespace, the media sender (waits for the
# ACK at the server, then sends 10 RTP packets to every m= line of the INVITE the server received),
# the caller in the client namespace: "sipp" (uac$V.xml) or "split PORT MARK" / "whole PORT"
# (split_uac.py).  When the sender is done the caller gets its cue to hang up (an INFO for sipp, a
# file for split_uac.py): the BYE flushes the expectations, so it must not overtake the media.
# Sets CRC (caller's exit status).
call() {
  local s=$1 kind=$2 p caller
  start_captures "$s"
  # the sender first: python starts slowly under TCG, let that overlap with the UAS's start
  ip netns exec server "${SIPCAP[@]}" media "$W/server$s.pcap" "$SRV" ACK "$SRV" $NPKT 40 >"$W/media-sent$s.txt" 2>&1 &
  local media=$!; PIDS+=($media)
  ip netns exec server sipp -sf "$SD/uas$V.xml" -t $T -i "$SRV" -p 5060 -m 1 -nostdin "${KEYS[@]}" \
     -timeout 60s -trace_msg -message_file "$RES/uas$s.msg" -trace_err -error_file "$RES/uas$s.err" \
     >"$W/uas$s.screen" 2>&1 &
  local uas=$!; PIDS+=($uas)
  listening server "${TR,,}" 5060 || fail "sipp UAS is not listening on ${TR,,}/5060"
  local t0; t0=$(now_ms)
  case $kind in
    sipp)
      log "caller: sipp -sf uac$V.xml -t $T"
      ip netns exec client sipp -sf "$SD/uac$V.xml" -t $T -i "$CLI" -p 5060 -m 1 -nostdin -cid_str 'cth-call-%u' \
         "${KEYS[@]}" -timeout 60s -timeout_error -trace_msg -message_file "$RES/uac$s.msg" \
         -trace_err -error_file "$RES/uac$s.err" "$SRVH:5060" >"$W/uac$s.screen" 2>&1 &
      caller=$! ;;
    split|whole)
      local port=$3 mark=${4:--}
      log "caller: split_uac.py from port $port, INVITE split after the line '$mark' (- = not split)"
      ip netns exec client /usr/bin/python3 "$SD/split_uac.py" "$SD/uac.xml" "$SRV" "$CLI" "$port" "$mark" 0.1 \
         "$W/hangup$s" cli_host="$CLIH" srv_host="$SRVH" cli_ip="$CLI" srv_ip="$SRV" ipv="$IPV" tr="$TR" \
         >"$RES/uac$s.log" 2>&1 &
      caller=$! ;;
  esac
  PIDS+=($caller)
  [[ $CASE == reload ]] && mid_call_reload $media
  wait $media
  log "media sender done after $(( $(now_ms) - t0 )) ms; cue the caller to hang up"
  if [[ $kind == sipp ]]; then
    # one write, so one datagram (bash's printf to /dev/udp writes line by line)
    printf 'INFO sip:uac@%s:5060 SIP/2.0\r\nVia: SIP/2.0/%s %s:5099;branch=z9hG4bK-cth-media-over\r\nFrom: <sip:sip.sh@%s>;tag=sip.sh\r\nTo: <sip:uac@%s>\r\nCall-ID: cth-call-1\r\nCSeq: 1 INFO\r\nContent-Length: 0\r\n\r\n' \
      "$CLIH" "$TR" "$CLIH" "$CLIH" "$CLIH" >"$W/info$s.txt"
    ip netns exec client bash -c 'cat "$1" >"/dev/${2,,}/$3/5060"' _ "$W/info$s.txt" "$TR" "$CLI" \
      || log "sending the INFO cue failed"
  else
    touch "$W/hangup$s"
  fi
  wait $caller; CRC=$?
  [[ $kind == sipp ]] || cat "$RES/uac$s.log"
  log "caller exit $CRC after $(( $(now_ms) - t0 )) ms"
  for ((p = 0; p < 50; p++)); do kill -0 $uas 2>/dev/null || break; sleep 0.1; done
  kill $uas 2>/dev/null
  log "---- media-sent$s.txt"; cat "$W/media-sent$s.txt"
  stop_captures
  evidence "$s"
}

# streams SUFFIX: sets ARR and TOT — streams the server sent whose every packet reached the client at
# the port of the client's own SDP (6000 + 2 i); also sets ARRIVED_LIST ("audio:10/10 video:0/10 ...")
streams() {
  local s=$1 i=0 kind addr port n sent arrived=0 total=0
  ARRIVED_LIST=
  while read -r _ sent kind addr port; do
    [[ -n $sent ]] || continue
    n=$(awk -v a="$CLI" -v p=$((6000 + 2 * i)) '$1 == a && $2 == p { print $3 }' "$RES/media$s.txt")
    n=${n:-0}
    ARRIVED_LIST+="${ARRIVED_LIST:+ }$kind:$n/$sent"
    ((n == sent && sent > 0)) && ((arrived++))
    ((total++)); ((i++))
  done <<<"$(grep '^sent ' "$RES/media-sent$s.txt")"
  ARR=$arrived TOT=$total
}
# sdp_addrs SUFFIX: the media addresses of the INVITE the server received (the sender used them)
sdp_addrs() { awk '$1 == "sent" {print $4}' "$RES/media-sent$1.txt" | sort -u | tr '\n' ' ' | sed 's/ $//'; }
# reached WHO WHAT SUFFIX: WHO (server|client) received a message starting with WHAT
reached() {
  awk -v who="$1" -v what="  $2" '$1 == who && $2 == "<" { getline l; if (index(l, what) == 1) f = 1 }
    END { exit !f }' "$RES/wire$3.norm"
}
nexp() { grep -c '^NEW ' "$RES/expect$1.norm"; }
compare() { # $1 = reference dir, $2 = reference suffix; files wire.norm expect.norm
  local f
  for f in wire expect; do
    [[ -f $1/$f$2.norm ]] || fail "no kernel reference $1/$f$2.norm (run the kernel scenario in the same results dir)"
    if ! diff -u "$1/$f$2.norm" "$RES/$f.norm" >"$RES/$f.diff"; then
      head -n 60 "$RES/$f.diff"; fail "$f.norm differs from the kernel ALG's ($(basename "$1")/$f$2.norm; see $f.diff)"
    fi
  done
}
REF=$RESULTS/${NAME%-cthelperd}-kernel

# ------------------------------------------------------------------------------------- cases
case $CASE in
udp|tcp|5media|reload)
  call "" sipp
  streams ""
  ADDRS=$(sdp_addrs "")
  log "streams arrived: $ARR of $TOT ($ARRIVED_LIST); media addresses in the INVITE at the server: $ADDRS"
  reached server INVITE "" || fail "the INVITE never reached the server (lab or signalling broken)"
  ((TOT >= 1)) || fail "the media sender sent nothing (no ACK at the server or no m= line)"
  if [[ $HELPER == none ]]; then
    (($(nexp "") == 0)) || fail "expectations appeared without a helper"
    ((ARR == 0)) && ! grep -q "^$CLI " "$RES/media.txt" \
      || fail "media reached the client without a helper ($ARRIVED_LIST)"
    pass "no RTP reached the client without a helper, as it must ($ARRIVED_LIST; call signalling exit $CRC; SDP address at the server $ADDRS)"
  fi
  ((CRC == 0)) || fail "the call failed with the $HELPER helper (caller exit $CRC)"
  [[ $ADDRS == "$RTR_S" ]] || fail "the SDP address reaching the server is '$ADDRS', not the router's ($RTR_S)"
  if [[ $CASE == 5media && $HELPER == kernel ]]; then
    # The kernel's ALG handles the first three m= lines: their streams must arrive (the lab works),
    # the last two must not.
    [[ $ARRIVED_LIST =~ ^audio:([0-9]+)/10\ video:([0-9]+)/10\ image:([0-9]+)/10\ audio:([0-9]+)/10\ video:([0-9]+)/10$ ]] \
      || fail "unexpected media record: $ARRIVED_LIST"
    ((ARR == 3)) && [[ ${BASH_REMATCH[4]} == 0 && ${BASH_REMATCH[5]} == 0 ]] \
      || fail "expected the kernel ALG to carry the first 3 streams and not the last 2: $ARRIVED_LIST"
    pass "kernel ALG fails as expected: $ARR of $TOT streams ($ARRIVED_LIST; it looks at 3 m= lines), $(nexp "") expectation(s); reference recorded"
  fi
  ((ARR == TOT)) || fail "$ARR of $TOT media streams reached the client with the $HELPER helper ($ARRIVED_LIST)"
  (($(nexp "") >= 2 * TOT)) || fail "media ok but only $(nexp "") expectation(s) for $TOT m= line(s)"
  if [[ $HELPER == kernel ]]; then
    pass "call ok, $ARR of $TOT stream(s) arrived ($ARRIVED_LIST), $(nexp "") expectation(s); reference recorded"
  fi
  if [[ $CASE == reload ]]; then
    pass "call up across a reload: all $TOT stream(s) arrived whole ($ARRIVED_LIST), $(nexp "") expectation(s), BYE ok"
  fi
  if [[ $CASE == 5media ]]; then
    # The kernel's ALG stops after 3 m= lines: its expectations must be ours for those lines.
    [[ -f $REF/expect.norm && -f $REF/wire.norm ]] || fail "no kernel reference in $REF"
    grep -vE " dport=600[6-9] " "$RES/expect.events" >"$W/expect-3lines.events"
    "${SIPCAP[@]}" expect "$W/expect-3lines.events" >"$RES/expect-3lines.norm"
    diff -u "$REF/expect.norm" "$RES/expect-3lines.norm" >"$RES/expect.diff" \
      || { cat "$RES/expect.diff"; fail "expectations of m= lines 1-3 differ from the kernel ALG's (see expect.diff)"; }
    EXTRA=$(grep -cE "^NEW .* dport=600[6-9] " "$RES/expect.norm")
    ((EXTRA == 4)) || fail "expected 4 expectations (RTP+RTCP) for m= lines 4-5, found $EXTRA"
    diff -u "$REF/wire.norm" "$RES/wire.norm" >"$RES/wire.diff" \
      || { cat "$RES/wire.diff"; fail "wire.norm differs from the kernel ALG's (see wire.diff)"; }
    pass "all $TOT streams arrived ($ARRIVED_LIST); SIP text identical to the kernel ALG's; expectations of m= lines 1-3 identical, lines 4-5 add $EXTRA the kernel lacks"
  fi
  compare "$REF" ""
  pass "call ok, $ARR of $TOT stream(s) arrived ($ARRIVED_LIST); SIP text and expectations identical to the kernel ALG's"
  ;;

tcpsplit)
  if [[ $HELPER == kernel ]]; then
    # The reference: the same INVITE in one segment (the kernel ALG handles it), from port 5060 as
    # cthelperd's split call; then the split one, from port 5062.
    call -ref whole 5060
    streams -ref
    ((CRC == 0 && TOT == 1 && ARR == 1)) \
      || fail "reference call (INVITE in one segment) failed with the kernel ALG: exit $CRC, $ARRIVED_LIST"
    REFNOTE="the same INVITE in one segment: rewritten ($(sdp_addrs -ref)), $ARRIVED_LIST"
    call "" split 5062 s=
  else
    call "" split 5060 s=
  fi
  streams ""
  ADDRS=$(sdp_addrs "")
  log "streams arrived: $ARR of $TOT ($ARRIVED_LIST); media addresses in the INVITE at the server: $ADDRS"
  reached server INVITE "" || fail "the INVITE never reached the server (lab or signalling broken)"
  grep -q '^INVITE part 2: ' "$RES/uac.log" || fail "the INVITE was not sent in two parts"
  # the first two data segments from the client are the two parts
  P1=$(sed -n 's/^INVITE part 1: \([0-9]*\) bytes.*/\1/p' "$RES/uac.log")
  P2=$(sed -n 's/^INVITE part 2: \([0-9]*\) bytes.*/\1/p' "$RES/uac.log")
  SEGS=$(tcpdump -nr "$W/client.pcap" "src host $CLI and tcp dst port 5060" 2>/dev/null \
         | sed -n 's/.* length \([1-9][0-9]*\).*/\1/p' | head -n 2 | tr '\n' ' ')
  [[ $SEGS == "$P1 $P2 " ]] || fail "the INVITE did not leave the client as two TCP segments of $P1 and $P2 bytes (saw: $SEGS)"
  ((TOT == 1)) || fail "the media sender sent nothing"
  if [[ $HELPER == none ]]; then
    (($(nexp "") == 0)) || fail "expectations appeared without a helper"
    ((ARR == 0)) || fail "media reached the client without a helper ($ARRIVED_LIST)"
    pass "no RTP reached the client without a helper, as it must ($ARRIVED_LIST; caller exit $CRC)"
  fi
  if [[ $HELPER == kernel ]]; then
    [[ $ADDRS == "$CLI" ]] || fail "the kernel ALG rewrote the split INVITE (SDP address at the server: $ADDRS)"
    ((ARR == 0)) || fail "media reached the client although the split INVITE was not rewritten ($ARRIVED_LIST)"
    pass "kernel ALG fails as expected: the INVITE split over 2 TCP segments reached the server unrewritten (c=$ADDRS), RTP $ARRIVED_LIST; $REFNOTE (reference recorded)"
  fi
  ((CRC == 0)) || fail "the call failed with cthelperd (caller exit $CRC)"
  [[ $ADDRS == "$RTR_S" ]] || fail "the SDP address reaching the server is '$ADDRS', not the router's ($RTR_S)"
  ((ARR == 1)) || fail "RTP did not reach the client ($ARRIVED_LIST)"
  HELD=$(cth_log | grep -c 'message continues past')
  compare "$REF" "-ref"
  pass "split INVITE rewritten (c=$ADDRS), RTP $ARRIVED_LIST, $HELD partial message(s) held; SIP text and expectations identical to the kernel ALG's for the unsplit INVITE"
  ;;

register)
  start_captures ""
  ip netns exec server sipp -sf "$SD/registrar.xml" -t $T -i "$SRV" -p 5060 -m 1 -nostdin "${KEYS[@]}" \
     -timeout 30s -trace_msg -message_file "$RES/registrar.msg" -trace_err -error_file "$RES/registrar.err" \
     >"$W/registrar.screen" 2>&1 &
  PIDS+=($!)
  listening server udp 5060 || fail "the registrar is not listening on udp/5060"
  ip netns exec client sipp -sf "$SD/phone.xml" -oocsf "$SD/phone-ooc.xml" -t $T -i "$CLI" -p 5060 -m 1 -nostdin \
     -cid_str 'cth-reg-%u' "${KEYS[@]}" -timeout 40s -trace_msg -message_file "$RES/phone.msg" \
     -trace_err -error_file "$RES/phone.err" "$SRVH:5060" >"$W/phone.screen" 2>&1 &
  PHONE=$!; PIDS+=($PHONE)
  C=$("${SIPCAP[@]}" contact "$W/server.pcap" "$SRV" "$W/client.pcap" "$CLI" "SIP/2.0 200" 30) \
    || fail "the phone got no 200 to its REGISTER ($C)"
  read -r TO_ADDR TO_PORT <<<"$C"
  [[ -n ${TO_ADDR:-} ]] || fail "no Contact in the REGISTER the registrar received"
  TOH=$TO_ADDR; [[ $TOH == *:* ]] && TOH="[$TOH]"
  log "registrar received Contact $TOH:$TO_PORT; calling it from $SRV port 5070"
  sleep 0.2
  CT=20; [[ $HELPER == none ]] && CT=8   # expected failure: short timeout
  t0=$(now_ms)
  ip netns exec server sipp -sf "$SD/caller.xml" -t $T -i "$SRV" -p 5070 -m 1 -nostdin -cid_str 'cth-in-%u' \
     "${KEYS[@]}" -key to_host "$TOH" -key to_port "$TO_PORT" -timeout ${CT}s -timeout_error \
     -trace_msg -message_file "$RES/caller.msg" -trace_err -error_file "$RES/caller.err" \
     "$TOH:$TO_PORT" >"$W/caller.screen" 2>&1
  CRC=$?
  log "inbound caller exit $CRC after $(( $(now_ms) - t0 )) ms"
  conntrack -L expect -f "ipv$IPV" >"$RES/expect-list.txt" 2>/dev/null
  kill "$PHONE" 2>/dev/null
  stop_captures
  evidence ""
  reached server REGISTER "" || fail "the REGISTER never reached the registrar"
  reached client "SIP/2.0 200" "" || fail "the registrar's 200 never reached the phone"
  if [[ $HELPER == none ]]; then
    (($(nexp "") == 0)) || fail "expectations appeared without a helper"
    reached client INVITE "" && fail "the inbound INVITE reached the phone without a helper"
    ((CRC != 0)) || fail "the inbound call succeeded without a helper"
    pass "the inbound INVITE (to Contact $TOH:$TO_PORT) did not reach the phone without a helper, as it must (caller exit $CRC)"
  fi
  [[ $TO_ADDR == "$RTR_S" ]] || fail "the Contact reaching the registrar is $TO_ADDR, not the router's ($RTR_S)"
  reached client INVITE "" || fail "the inbound INVITE never reached the phone with the $HELPER helper"
  ((CRC == 0)) || fail "the inbound call failed with the $HELPER helper (caller exit $CRC)"
  grep -q '^NEW .* class=0 helper=sip' "$RES/expect.norm" || fail "no signalling expectation (class 0) for the REGISTER"
  # The 200 made it active with the registration's lifetime (expires=120 < the policy's 180 s).
  SIG=$(grep ' class=0 ' "$RES/expect-list.txt" | head -n 1)
  log "signalling expectation at the end: $SIG"
  LIFE=${SIG%% *}
  [[ $LIFE =~ ^[0-9]+$ ]] && ((LIFE <= 120)) && [[ $SIG != *INACTIVE* ]] \
    || fail "the signalling expectation is not active with the registration's lifetime (<= 120 s): '$SIG'"
  if [[ $HELPER == kernel ]]; then
    pass "REGISTER (Contact $TOH:$TO_PORT at the registrar, active for ${LIFE} s) then inbound call ok, $(nexp "") expectation(s); reference recorded"
  fi
  compare "$REF" ""
  pass "REGISTER (Contact $TOH:$TO_PORT, active for ${LIFE} s) then inbound call ok; SIP text and expectations identical to the kernel ALG's (activation by re-creation collapsed)"
  ;;
esac
fail "no verdict"
