#!/usr/bin/env bash
# make bench / make bench-quick: bench/run.sh quick|full (BUILD = a MODE=release build).
# BENCH_STEPS=ingest,bus,risk,dunning,kpi,rss picks sections (default: all;
# backtest and riskmem may be added); BENCH_DEBTORS overrides the ingest
# feed's size; BENCH_JSON=<file> also writes the figures as JSON;
# BENCH_PERF=1 records a perf profile of intake during the ingest (the
# path is in the JSON); BENCH_INTAKES=N records the measured feed with N
# partitioned intakes (default 2). bench/bench.py says what each section measures.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
BUILD=${BUILD:-build-bench}
case "$BUILD" in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
PYTHONDONTWRITEBYTECODE=1 PYTHONPATH="$BUILD/gen/py${PYTHONPATH:+:$PYTHONPATH}" BUILD="$BUILD" \
    exec /usr/bin/python3 bench/bench.py "${1:-quick}"
