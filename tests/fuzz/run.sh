#!/usr/bin/env bash
# Runs every libFuzzer target of $FUZZ_BUILD/fuzz for SECONDS each:
#   tests/fuzz/run.sh [SECONDS] [target...]        (make fuzz / make fuzz-ci)
#
# Each target starts from the committed seeds (tests/fuzz/corpus/<target>,
# read only) and its own growing corpus in $FUZZ_BUILD/corpus/<target>, so
# that repeated runs go deeper. A finding (crash, leak, sanitizer report,
# timeout, failed property) is saved as $FUZZ_BUILD/artifacts/<target>/crash-...;
# reproduce it with: $FUZZ_BUILD/fuzz/<target> <that file>.
# Exit status: non-zero when any target found something or was missing.
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
FUZZ_BUILD=${FUZZ_BUILD:-build-fuzz}
SECONDS_EACH=${1:-60}
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    for src in tests/fuzz/fuzz_*.c; do
        targets+=("$(basename "$src" .c)")
    done
fi

# UBSan findings are fatal (they would otherwise only print).
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
export ASAN_OPTIONS="detect_leaks=1"

status=0
printf '%-20s %8s %12s %10s %7s %7s  %s\n' target seconds runs "runs/s" cov corpus result
for t in "${targets[@]}"; do
    bin=$FUZZ_BUILD/fuzz/$t
    if [ ! -x "$bin" ]; then
        echo "$t: $bin not built (make BUILD=$FUZZ_BUILD MODE=fuzz fuzz-bins)" >&2
        status=1
        continue
    fi
    work=$FUZZ_BUILD/corpus/$t
    art=$FUZZ_BUILD/artifacts/$t
    log=$FUZZ_BUILD/logs/$t.log
    mkdir -p "$work" "$art" "$(dirname "$log")"
    # -close_fd_mask=2: the code under test logs to stderr; libFuzzer and
    # the sanitizers keep writing their own reports.
    # FUZZ_SEED (fuzz-ci sets 1) fixes the mutation sequence, so a CI run
    # explores the same inputs each time and a red run is reproducible.
    "$bin" -max_total_time="$SECONDS_EACH" ${FUZZ_SEED:+-seed=$FUZZ_SEED} -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
        -close_fd_mask=2 -print_final_stats=1 -artifact_prefix="$art/" \
        "$work" "tests/fuzz/corpus/$t" >"$log" 2>&1
    rc=$?
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -1 | cut -d' ' -f2)
    corpus=$(find "$work" -type f | wc -l)
    rate=$(( ${runs:-0} / (SECONDS_EACH > 0 ? SECONDS_EACH : 1) ))
    if [ $rc -eq 0 ]; then
        result=ok
    else
        result="FOUND (exit $rc): $(ls -t "$art" 2>/dev/null | head -1) log $log"
        status=1
    fi
    printf '%-20s %8s %12s %10s %7s %7s  %s\n' "$t" "$SECONDS_EACH" "${runs:-?}" "$rate" \
        "${cov:-?}" "$corpus" "$result"
    if [ $rc -ne 0 ]; then
        grep -E 'ERROR:|SUMMARY|runtime error|property failed|==[0-9]+==' "$log" | head -20 | sed 's/^/    /'
    fi
done
exit $status
