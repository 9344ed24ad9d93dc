#!/usr/bin/env bash
# The unit and end-to-end suites under the sanitizers or valgrind.
#
#   sanitize.sh asan      scripts/run-tests.sh all against $BUILD (built with
#                         MODE=asan: AddressSanitizer, LeakSanitizer,
#                         UndefinedBehaviorSanitizer). Every instrumented
#                         process (unit tests, services started by the e2e
#                         stack, feedsim) writes its reports into one folder;
#                         any report there fails the run, including leaks
#                         that a service reports when it exits after SIGTERM.
#   sanitize.sh valgrind  each unit test binary of $BUILD (a MODE=debug
#                         build) under valgrind memcheck; any error or
#                         definite/indirect leak fails the run.
#
# Suppressions (tests/fuzz/lsan.supp, tests/fuzz/valgrind.supp) are only for
# third-party libraries, each with a comment saying why.
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
BUILD=${BUILD:-build}
case "$BUILD" in /*) BUILD_ABS=$BUILD ;; *) BUILD_ABS=$ROOT/$BUILD ;; esac
mode=${1:-}

case "$mode" in
asan)
    reports=$(mktemp -d /tmp/creance-asan.XXXXXX)
    chmod 1777 "$reports"   # services may run as another user
    # log_path: reports from every process land in $reports/<tool>.<pid>;
    # a process that dies of a finding has a non-zero status as well.
    export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:log_path=$reports/asan:${ASAN_EXTRA:-}"
    export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:log_path=$reports/ubsan"
    export LSAN_OPTIONS="suppressions=$ROOT/tests/fuzz/lsan.supp:print_suppressions=0"
    shift
    BUILD=$BUILD scripts/run-tests.sh all "$@"
    status=$?
    found=0
    for f in "$reports"/*; do
        [ -s "$f" ] || continue
        found=$((found + 1))
        echo "==== sanitizer report $(basename "$f")"
        cat "$f"
    done
    if [ "$found" -eq 0 ]; then
        rm -rf "$reports"
        echo "asan: test status $status, no sanitizer report"
    else
        echo "asan: test status $status, $found sanitizer report(s), kept in $reports"
    fi
    [ "$status" -eq 0 ] && [ "$found" -eq 0 ]
    ;;
valgrind)
    command -v valgrind >/dev/null || { echo "valgrind not installed (apt-get install valgrind)" >&2; exit 1; }
    failed=0 ran=0
    for bin in "$BUILD_ABS"/tests/test_*; do
        [ -x "$bin" ] || continue
        ran=$((ran + 1))
        log=$(mktemp)
        if CMOCKA_MESSAGE_OUTPUT=STDOUT valgrind --error-exitcode=1 --leak-check=full \
               --errors-for-leak-kinds=definite,indirect --show-leak-kinds=definite,indirect \
               --suppressions="$ROOT/tests/fuzz/valgrind.supp" --quiet "$bin" >"$log" 2>&1; then
            echo "ok   $(basename "$bin")"
        else
            echo "FAIL $(basename "$bin")"
            cat "$log"
            failed=$((failed + 1))
        fi
        rm -f "$log"
    done
    echo "valgrind: $ran binaries, $failed failed"
    [ "$ran" -gt 0 ] && [ "$failed" -eq 0 ]
    ;;
*)
    echo "usage: $0 asan|valgrind [pytest args...]" >&2
    exit 2 ;;
esac
