#!/usr/bin/env bash
# make bench / make bench-quick: bench/run.sh quick|full (BUILD = a MODE=release build).
# BENCH_STEPS=ingest,bus,risk,dunning,kpi,rss picks sections (default: all;
# backtest and riskmem may be added); BENCH_DEBTORS overrides the ingest
# feed's size; BENCH_JSON=<file> also writes the figures as JSON;
# BENCH_CATCHUP_S=N times the consumers' catch-up after the measured feed
# for N seconds at most (full: 300; quick: to the end);
# BENCH_PERF=1 records perf profiles of the intakes and of PostgreSQL, and
# PostgreSQL's per-statement figures (pg_stat_statements),
# during the measured feed (the paths are in the JSON); BENCH_INTAKES=N
# records the measured feed with N partitioned intakes (default 2).
# bench/bench.py says what each section measures.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
BUILD=${BUILD:-build-bench}
case "$BUILD" in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
PYTHONDONTWRITEBYTECODE=1 PYTHONPATH="$BUILD/gen/py${PYTHONPATH:+:$PYTHONPATH}" BUILD="$BUILD" \
    exec /usr/bin/python3 bench/bench.py "${1:-quick}"
