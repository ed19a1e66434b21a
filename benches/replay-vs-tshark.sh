#!/bin/sh
# On demand, not in CI's pass/fail: times `cthelperd replay` against tshark's
# bare pass over the same capture, side by side in one run (A B A B …), with
# peak RSS from /usr/bin/time -v, and prints the ratio of the medians.
#   benches/replay-vs-tshark.sh [CAPTURE] [RUNS]
# Without CAPTURE it writes the issue's workload (111,111 passive FTP sessions,
# 999,999 packets over 7,200 s) with benches/ftp-sessions.py.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
runs=${2:-3}
for t in tshark python3 /usr/bin/time; do
    command -v "$t" >/dev/null || { echo "replay-vs-tshark: $t is missing (apt-get install tshark python3 time)" >&2; exit 1; }
done
bin=$root/target/release/cthelperd
[ -x "$bin" ] || (cd "$root" && cargo build --release)
if [ $# -ge 1 ]; then cap=$1; else
    cap=${TMPDIR:-/tmp}/cthelperd-bench-ftp.pcap
    [ -s "$cap" ] || python3 "$here/ftp-sessions.py" "$cap"
fi
measure() { # prints "SECONDS KIB"
    /usr/bin/time -v "$@" 2>&1 >/dev/null | awk -F': ' '
        /Elapsed/ { n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i] }
        /Maximum resident/ { r = $2 } END { print s, r }'
}
a=""; b=""
i=0
while [ $i -lt "$runs" ]; do
    a="$a
$(measure "$bin" replay "$cap" --format json)"
    b="$b
$(measure tshark -r "$cap" -q -z io,stat,0)"
    i=$((i + 1))
done
median() { printf '%s\n' "$1" | sed '/^$/d' | sort -n -k"$2" | awk -v k="$2" '{ v[NR] = $k } END { print v[int((NR + 1) / 2)] }'; }
ra=$(median "$a" 1); rb=$(median "$b" 1); ma=$(median "$a" 2); mb=$(median "$b" 2)
echo "capture: $cap ($(wc -c <"$cap") bytes), $runs runs each, interleaved; load: $(cut -d' ' -f1-3 /proc/loadavg)"
printf 'cthelperd replay --format json: %s s, peak %s MiB\n' "$ra" "$((ma / 1024))"
printf 'tshark -r -q -z io,stat,0:      %s s, peak %s MiB\n' "$rb" "$((mb / 1024))"
awk -v a="$ra" -v b="$rb" 'BEGIN { printf "ratio cthelperd/tshark: %.3f (target <= 0.35)\n", a / b }'
