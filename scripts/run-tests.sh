#!/usr/bin/env bash
# Runs Créance's tests: scripts/run-tests.sh unit|e2e|all [pytest args...]
#
#   unit  every $BUILD/tests/test_* binary (cmocka); a total line at the end
#   e2e   the pytest suite in tests/e2e, which starts the whole stack for real
#   all   unit then e2e; both run even if unit fails
#
# BUILD (default "build") is the build directory the binaries come from.
# Extra arguments go to pytest (e.g. -k catch_up). Exit status is non-zero
# when anything failed, including "nothing to run".
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
BUILD=${BUILD:-build}
case "$BUILD" in /*) BUILD_ABS=$BUILD ;; *) BUILD_ABS=$ROOT/$BUILD ;; esac
# Debian's python3 has pytest, zmq, protobuf, psycopg2 and redis; a pyenv
# python3 earlier on PATH would not.
PYTHON=/usr/bin/python3
UNIT_TIMEOUT=${UNIT_TIMEOUT:-300}

usage() {
    echo "usage: $0 unit|e2e|all [pytest args...]" >&2
    exit 2
}

run_unit() {
    local passed=0 failed=0 broken=0 bin src name rc out n
    local -a bins=()
    out=$(mktemp)
    # A test source without its binary is a failure, not something to skip.
    for src in tests/unit/test_*.c; do
        [ -e "$src" ] || continue
        name=$(basename "$src" .c)
        if [ ! -x "$BUILD_ABS/tests/$name" ]; then
            echo "unit: $name: not built ($BUILD/tests/$name missing)" >&2
            broken=$((broken + 1))
        fi
    done
    for bin in "$BUILD_ABS"/tests/test_*; do
        [ -f "$bin" ] && [ -x "$bin" ] && bins+=("$bin")
    done
    if [ ${#bins[@]} -eq 0 ]; then
        echo "unit: no test binaries in $BUILD/tests" >&2
        rm -f "$out"
        echo "unit: 0 passed, $((broken > 0 ? broken : 1)) failed"
        return 1
    fi
    for bin in "${bins[@]}"; do
        echo "== $(basename "$bin")"
        set +e
        CMOCKA_MESSAGE_OUTPUT=STDOUT timeout "$UNIT_TIMEOUT" "$bin" 2>&1 | tee "$out"
        rc=${PIPESTATUS[0]}
        set -e
        # cmocka's summary: "[  PASSED  ] n test(s)." and
        # "[  FAILED  ] n test(s), listed below:" (the per-test FAILED lines
        # that follow name a test, not a count).
        n=$(sed -n 's/^\[  PASSED  \] \([0-9][0-9]*\) test(s)\..*/\1/p' "$out" | awk '{s+=$1} END {print s+0}')
        passed=$((passed + n))
        n=$(sed -n 's/^\[  FAILED  \] \([0-9][0-9]*\) test(s).*/\1/p' "$out" | awk '{s+=$1} END {print s+0}')
        failed=$((failed + n))
        if [ "$rc" -ne 0 ] && [ "$n" -eq 0 ]; then
            # Crashed, timed out or failed before cmocka could count.
            echo "unit: $(basename "$bin") exited with status $rc without a failure count" >&2
            broken=$((broken + 1))
        fi
    done
    rm -f "$out"
    failed=$((failed + broken))
    echo "unit: $passed passed, $failed failed"
    [ "$failed" -eq 0 ]
}

run_e2e() {
    local rc
    if [ ! -f "$BUILD_ABS/gen/py/creance_pb2.py" ]; then
        echo "e2e: $BUILD/gen/py/creance_pb2.py missing: make BUILD=$BUILD $BUILD/gen/py/creance_pb2.py" >&2
        return 1
    fi
    set +e
    # No __pycache__ left in the source tree.
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONPATH="$BUILD_ABS/gen/py${PYTHONPATH:+:$PYTHONPATH}" CREANCE_BUILD="$BUILD_ABS" \
        "$PYTHON" -m pytest -q tests/e2e "$@"
    rc=$?
    set -e
    case $rc in
        0) return 0 ;;
        5) echo "e2e: no tests were collected" >&2; return 1 ;;
        *) echo "e2e: pytest exited with status $rc" >&2; return 1 ;;
    esac
}

[ $# -ge 1 ] || usage
mode=$1
shift
case "$mode" in
    unit)
        run_unit ;;
    e2e)
        run_e2e "$@" ;;
    all)
        status=0
        run_unit || status=1
        run_e2e "$@" || status=1
        exit "$status" ;;
    *)
        usage ;;
esac
