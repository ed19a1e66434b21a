#!/usr/bin/env bash
# Runs every cargo-fuzz target of this project for RUNS executions
# (default 1,000,000) on stable Rust (no sanitizer) and fails on a crash.
#   fuzz/run.sh [target...]      RUNS=5000000 fuzz/run.sh ftp
set -euo pipefail
cd "$(dirname "$0")"
RUNS="${RUNS:-1000000}"

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "cargo-fuzz missing: installing it from crates.io"
    cargo install --locked cargo-fuzz
fi

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    mapfile -t targets < <(cargo fuzz list)
fi

status=0
for t in "${targets[@]}"; do
    mkdir -p "corpus/$t"
    # New units go to corpus/$t (ignored by git); seeds/$t are the committed
    # seed inputs (seeds/gen.py), $t.dict the dictionary.
    extra=()
    [ -d "seeds/$t" ] && extra+=("seeds/$t")
    opts=()
    [ -f "$t.dict" ] && opts+=("-dict=$t.dict")
    log="$(mktemp)"
    echo "== fuzz target $t: $RUNS runs"
    start=$(date +%s.%N)
    if cargo fuzz run "$t" -s none "corpus/$t" "${extra[@]}" -- \
        -runs="$RUNS" -print_final_stats=1 "${opts[@]}" >"$log" 2>&1; then
        rc=0
    else
        rc=$?
    fi
    end=$(date +%s.%N)
    secs=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }')
    done_line=$(grep -E '^Done [0-9]+ runs' "$log" | tail -n1 || true)
    execs=$(grep -E 'stat::number_of_executed_units' "$log" | awk '{print $2}' | tail -n1 || true)
    if [ "$rc" -ne 0 ]; then
        tail -n 60 "$log"
        echo "!! $t: FAILED (exit $rc) after ${execs:-?} executions, ${secs}s wall (build included); artifacts in fuzz/artifacts/$t"
        status=1
    else
        echo "ok $t: ${execs:-?} executions; ${done_line:-no summary}; ${secs}s wall (build included)"
    fi
    rm -f "$log"
done
exit "$status"
