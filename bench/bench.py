#!/usr/bin/python3
"""Créance benchmarks: one table, each figure beside its baseline measured
in the same run, with its target.

    bench/run.sh quick|full     (make bench-quick / make bench)
    BENCH_STEPS=ingest,bus,risk,dunning,kpi,rss   sections to run (default: all)

Sections (each a module of bench/ that also runs alone):

1. ingest (this file), on stack A: first, consumers running, two small
   feeds on tenants of their own: intake recording item by item
   (CREANCE_INTAKE_BULK=0), then batched, for the gain of the set-based
   runs. Then creance-feedsim sends a deterministic history (quick: 500
   debtors, about 10k invoices and 20k items; full: 50,000 debtors, about
   1M invoices) while the consumers (risk, reminders, reporting) are
   stopped, so that the ingest path (feed -> intake -> PostgreSQL ->
   broker) is measured alone, as its baselines are. It is recorded by
   BENCH_INTAKES (default 2) intakes, partitions 0/N .. N-1/N, feedsim
   routing each debtor's facts to its own (docs/scaling.md). Rate = items /
   seconds from the first batch sent to the last reply received (a reply
   is sent after COMMIT, events are published right after). Then the
   consumers start and catch up from event_log: "applied" is the events
   the slowest consumer applied / seconds from their start, until every
   one has applied up to streams.last_seq (quick) or for 300 s (full: the
   whole backlog takes about an hour; the next sections then run on a
   fresh stack).
   Baselines, same rows, same tables, same server, in a second database
   with the same schema:
   - COPY: every row intake wrote for the measured feed's tenant (all
     tables except those of the consumers and of set-up) COPYed in
     foreign-key order;
   - INSERT: one autocommit INSERT per row, in the same order, for a time
     budget; the rate is extrapolated to all rows (said in the table).
   Both are expressed as feed items per second (items / time to load the
   rows those items produced), so they compare with the ingest rate.
2. bus (this file), on stack A: bench/bus_bench through the stack's
   broker, 100 and 1,000 byte envelopes.
3. risk (bench/risk.py), on stack A, its own tenant, reminders and
   reporting stopped: event to score in Redis, p50 / p99 at 2,000
   events/s beside the floor of that path without risk (bus + Redis
   write, same rate, same run), then a step search for the highest rate
   held with p99 <= 100 ms. Sharing stack A is what production looks like
   (other tenants' rows in the same tables); risk's work is per debtor.
   Not in the default sections (minutes each), for BENCHMARKS.md's risk
   figures: BENCH_STEPS=...,backtest (prediction backtest, AUC / MAE
   beside the naive baseline) and riskmem (risk's RSS after catching up
   many debtors).
4. dunning (bench/dunning.py), on a fresh stack (empty database): the
   dunning pass over N open invoices beside the bare SQL selecting the
   same due items (full: 1M invoices / 100k debtors; quick: 50k / 5k).
5. kpi (bench/kpi.py), on a fresh stack (empty database, so the full
   scans read the section's rows only): the dashboard's API queries beside
   the full-scan SQL computing the same KPI (same sizes as dunning).
6. rss: peak RSS (VmHWM) of each service over the whole run, every
   section, every stack, every restart (benchlib.RssTracker).

Targets: ingest >= 50 % of COPY and >= 20x the INSERT loop (issue 10);
event to score p99 <= 20 ms at 2,000 events/s (issue 4); dunning pass
<= 5 s and <= 2x the bare SQL (issue 5); KPI API p99 <= 50 ms and >= 20x
the full scan (issue 6); services <= 64 MB peak RSS. The PostgreSQL of
the test stack runs with fsync=off and synchronous_commit=off (stack.py):
the INSERT baseline is therefore the cost of a round trip and a commit
without a disk flush.
"""
import csv
import io
import json
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib  # noqa: E402  (puts gen/py and tests/e2e on sys.path)
from benchlib import log, machine, stackmod  # noqa: E402

import psycopg2  # noqa: E402

import dunning  # noqa: E402
import kpi  # noqa: E402
import risk  # noqa: E402

MODES = {
    # debtors x 12 months: about 20 invoices and 40 items per debtor
    "quick": {"debtors": 500, "byitem_debtors": 150, "insert_budget_s": 5, "bus_count": 100000},
    "full": {"debtors": 50000, "byitem_debtors": 2000, "insert_budget_s": 60, "bus_count": 2000000,
             "catchup_window_s": 300},
}
STEPS = ("ingest", "bus", "risk", "dunning", "kpi", "rss")
OPTIONAL = ("backtest", "riskmem")       # BENCHMARKS.md's risk figures; slow, not by default
ON_STACK_A = ("ingest", "bus", "backtest", "risk", "riskmem")
END = "2025-06-30"          # fixed: the same facts every run
# Tables whose rows are not intake's: set-up and the consumers' own state.
NOT_INGEST = {"tenants", "api_tokens", "schema_migrations", "consumer_positions"}
NOT_INGEST_PREFIX = ("risk_", "rpt_", "rem_")
CONSUMERS = ("risk", "reminders", "reporting")


def cpu_seconds(pid):
    """utime + stime of one process, in seconds."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def _stat(pid):
    """The fields of /proc/pid/stat after the command name, or None."""
    try:
        with open("/proc/%s/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None


def children(parent):
    """The pids of `parent`'s direct children (the postmaster's backends)."""
    return [int(d) for d in os.listdir("/proc")
            if d.isdigit() and (_stat(d) or [None, None])[1] == str(parent)]


def children_cpu(parent):
    """CPU seconds of `parent` and its direct children (postmaster and its
    backends), including children that already exited (cutime/cstime)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in [parent] + children(parent):
        fields = _stat(pid)
        if not fields:
            continue
        total += (int(fields[11]) + int(fields[12])) / tick
        if pid == parent:
            total += (int(fields[13]) + int(fields[14])) / tick
    return total


# BENCH_PERF: the server also keeps per-statement figures (pg_stat_statements).
PG_STATEMENTS = "shared_preload_libraries=pg_stat_statements pg_stat_statements.track=all " \
                "pg_stat_statements.track_planning=on"


def statements_reset(s):
    with s.db.cursor() as cur:
        cur.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        cur.execute("SELECT pg_stat_statements_reset()")
    s.db.commit()


def statements_top(s, n=12):
    """The statements that took the server's time since the reset: calls,
    execution and planning ms, rows, the text's start."""
    with s.db.cursor() as cur:
        cur.execute("SELECT calls, total_exec_time, total_plan_time, rows, "
                    "  left(regexp_replace(query, '\\s+', ' ', 'g'), 90) FROM pg_stat_statements "
                    "ORDER BY total_exec_time + total_plan_time DESC LIMIT %s", (n,))
        rows = cur.fetchall()
    s.db.commit()
    return [{"calls": c, "exec_ms": round(e), "plan_ms": round(p), "rows": r, "query": q}
            for c, e, p, r, q in rows]


# The parents each reference-checking trigger function of 0115 looks up.
CHECKED_PARENTS = {"creance_missing_debtor": ("debtors",),
                   "creance_missing_payment_or_invoice": ("payments", "invoices")}


def ingest_tables(db):
    """Tables with rows that intake wrote, in reference order: foreign keys
    and the references migration 0115 checks per statement (its trigger
    functions, CHECKED_PARENTS)."""
    with db.cursor() as cur:
        cur.execute("SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                    "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')")
        tables = [r[0] for r in cur.fetchall()]
        cur.execute("SELECT c.conrelid::regclass::text, c.confrelid::regclass::text "
                    "FROM pg_constraint c WHERE c.contype = 'f'")
        deps = {}
        for child, parent in cur.fetchall():
            deps.setdefault(child, set()).add(parent)
        cur.execute("SELECT t.tgrelid::regclass::text, p.proname FROM pg_trigger t "
                    "JOIN pg_proc p ON p.oid = t.tgfoid WHERE p.proname = ANY(%s)",
                    (list(CHECKED_PARENTS),))
        for child, function in cur.fetchall():
            deps.setdefault(child, set()).update(CHECKED_PARENTS[function])
    order, seen = [], set()

    def visit(t):
        if t in seen:
            return
        seen.add(t)
        for p in sorted(deps.get(t, ())):
            if p != t and p in tables:
                visit(p)
        order.append(t)
    for t in sorted(tables):
        visit(t)
    return order


def is_ingest(t):
    return t not in NOT_INGEST and not t.startswith(NOT_INGEST_PREFIX)


def dump_rows(db, tables, tenant=None):
    """{table: CSV text} of every row (COPY TO); with `tenant`, only that
    tenant's rows of the tables that have a tenant column, and of the
    tables that have a stream column only stream 'ledger' (intake's: the
    consumers' catch-up, before the dump, writes streams of their own)."""
    out = {}
    with db.cursor() as cur:
        cur.execute("SELECT table_name, column_name FROM information_schema.columns "
                    "WHERE table_schema = 'public' AND column_name IN ('tenant', 'stream')")
        cols = cur.fetchall()
        has_tenant = {t for t, c in cols if c == "tenant"}
        has_stream = {t for t, c in cols if c == "stream"}
        for t in tables:
            buf = io.StringIO()
            src = '"%s"' % t
            if tenant and t in has_tenant:
                where = "tenant = %s" + (" AND stream = 'ledger'" if t in has_stream else "")
                src = cur.mogrify('(SELECT * FROM "%s" WHERE %s)' % (t, where), (tenant,)).decode()
            cur.copy_expert('COPY %s TO STDOUT WITH (FORMAT csv, NULL \'\\N\')' % src, buf)
            out[t] = buf.getvalue()
    return out


def make_copy_db(s, name):
    """A second database with the same schema (pg_dump --schema-only)."""
    admin = psycopg2.connect(host="127.0.0.1", port=s.pg_port, user="creance", dbname="postgres")
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute('DROP DATABASE IF EXISTS "%s"' % name)
        cur.execute('CREATE DATABASE "%s"' % name)
    admin.close()
    schema = subprocess.run([s._pg_bin("pg_dump"), "--schema-only", "--no-owner", "-h", "127.0.0.1",
                             "-p", str(s.pg_port), "-U", "creance", "creance"],
                            check=True, capture_output=True, text=True).stdout
    subprocess.run([s._pg_bin("psql"), "-q", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p",
                    str(s.pg_port), "-U", "creance", name], input=schema, check=True,
                   capture_output=True, text=True)
    c = psycopg2.connect(host="127.0.0.1", port=s.pg_port, user="creance", dbname=name)
    return c


def truncate(c, tables):
    with c.cursor() as cur:
        cur.execute("TRUNCATE %s CASCADE" % ", ".join('"%s"' % t for t in tables))
    c.commit()


def copy_load(c, rows, order):
    t0 = time.monotonic()
    with c.cursor() as cur:
        for t in order:
            cur.copy_expert('COPY "%s" FROM STDIN WITH (FORMAT csv, NULL \'\\N\')' % t,
                            io.StringIO(rows[t]))
    c.commit()
    return time.monotonic() - t0


def insert_loop(c, rows, order, budget_s):
    """One autocommit INSERT per row, in FK order, until the budget runs out.
    Returns (rows inserted, seconds)."""
    c.autocommit = True
    n = 0
    t0 = time.monotonic()
    with c.cursor() as cur:
        for t in order:
            cur.execute('SELECT * FROM "%s" LIMIT 0' % t)
            ncols = len(cur.description)
            sql = 'INSERT INTO "%s" OVERRIDING SYSTEM VALUE VALUES (%s)' % (t, ", ".join(["%s"] * ncols))
            for rec in csv.reader(io.StringIO(rows[t])):
                # The dump writes NULL as \N (dump_rows).
                cur.execute(sql, [None if v == "\\N" else v for v in rec])
                n += 1
                if n % 256 == 0 and time.monotonic() - t0 > budget_s:
                    return n, time.monotonic() - t0
    return n, time.monotonic() - t0


def run_feedsim(s, tenant, debtors, endpoint=None):
    argv = [os.path.join(s.bindir, "creance-feedsim"), "--endpoint",
            endpoint or s.env["CREANCE_INTAKE_ENDPOINT"],
            "--tenant", tenant, "--debtors", str(debtors), "--months", "12", "--end", END,
            "--batch", "500", "--window", "8", "--timeout", "120"]
    t0 = time.monotonic()
    p = subprocess.run(argv, capture_output=True, text=True, env=s.env)
    wall = time.monotonic() - t0
    if p.returncode != 0:
        raise RuntimeError("feedsim exited %d:\n%s\n%s" % (p.returncode, p.stdout[-2000:], p.stderr[-2000:]))
    m = re.search(r"items=(\d+) accepted=(\d+) duplicate=(\d+) rejected=(\d+).*elapsed=([\d.]+)s",
                  p.stdout)
    items, accepted, elapsed = int(m.group(1)), int(m.group(2)), float(m.group(5))
    inv = re.search(r"invoices=(\d+)", p.stdout)
    return {"items": items, "accepted": accepted, "seconds": elapsed, "wall": wall,
            "invoices": int(inv.group(1)) if inv else None, "t0": t0}


def partition_intakes(s, n):
    """n > 1: intake records partition 0/n and n - 1 more instances the
    others (docs/scaling.md: the way intake scales out; feedsim routes each
    debtor's facts to its instance). Returns feedsim's endpoint list and
    the instances' names."""
    if n <= 1:
        return s.env["CREANCE_INTAKE_ENDPOINT"], ["intake"]
    s.service_env["intake"] = {"CREANCE_INTAKE_PARTITION": "0/%d" % n}
    s.stop("intake")
    s.start("intake")
    endpoints, names = [s.env["CREANCE_INTAKE_ENDPOINT"]], ["intake"]
    for k in range(1, n):
        name = "intake.%d" % k
        e = s.start_instance(name, "intake", {"CREANCE_INTAKE_PARTITION": "%d/%d" % (k, n)})
        endpoints.append(e["CREANCE_INTAKE_ENDPOINT"])
        names.append(name)
    return ",".join(endpoints), names


def single_intake(s, names):
    """Back to one intake recording every debtor."""
    if len(names) <= 1:
        return
    for name in names[1:]:
        s.stop(name)
    s.service_env.pop("intake", None)
    s.stop("intake")
    s.start("intake")


def bus_bench(s, pub, sub, size, count):
    p = subprocess.run([os.path.join(s.bindir, "bus_bench"), pub, sub, str(size), str(count)],
                       capture_output=True, text=True, timeout=600, env=dict(os.environ, **s.env))
    m = re.search(r"sent=(\d+) received=(\d+) seconds=([\d.]+) rate=(\d+)", p.stdout)
    if p.returncode != 0 or not m:
        raise RuntimeError("bus_bench failed: %s %s" % (p.stdout, p.stderr))
    return {"sent": int(m.group(1)), "received": int(m.group(2)), "rate": int(m.group(4))}


def section_ingest(s, cfg, results, rss):
    # First, consumers running, two small feeds: item by item, then batched.
    rss.section = "ingest, small feeds"
    log("ingest item by item: feedsim --debtors %d, CREANCE_INTAKE_BULK=0, consumers running"
        % cfg["byitem_debtors"])
    s.service_env["intake"] = {"CREANCE_INTAKE_BULK": "0"}
    s.stop("intake")
    s.start("intake")
    slow_tenant = s.make_tenant("byitem").id
    slow = run_feedsim(s, slow_tenant, cfg["byitem_debtors"])
    s.service_env.pop("intake")
    s.stop("intake")
    s.start("intake")
    log("ingest bulk, consumers running: feedsim --debtors %d" % cfg["byitem_debtors"])
    live_tenant = s.make_tenant("live").id
    live = run_feedsim(s, live_tenant, cfg["byitem_debtors"])
    # Caught up before the measured feed starts, so that nothing else runs.
    stackmod.wait_until(lambda: all(s.consumers_caught_up(t) for t in (slow_tenant, live_tenant)),
                        timeout=3600, what="consumers caught up with the small feeds")
    results["ingest_byitem"] = {"items": slow["items"], "seconds": slow["seconds"],
                                "items_per_s": slow["items"] / slow["seconds"]}
    results["ingest_live"] = {"items": live["items"], "seconds": live["seconds"],
                              "items_per_s": live["items"] / live["seconds"]}

    # Then the measured feed, consumers stopped, and their catch-up.
    rss.section = "ingest, measured feed"
    tenant = s.make_tenant("bench").id
    log("ingest: feedsim --debtors %d, %d intake(s), consumers stopped" % (cfg["debtors"], cfg["intakes"]))
    for svc in CONSUMERS:
        s.stop(svc)
    endpoint, intakes = partition_intakes(s, cfg["intakes"])
    pg_pid, intake_pids = s.procs["postgres"].pid, [s.procs[n].pid for n in intakes]
    # BENCH_PERF: flat profiles of the intakes and of the PostgreSQL server
    # (postmaster and its backends: the intakes' sessions, autovacuum)
    # during the feed, each in its own file.
    perf = {}
    if os.environ.get("BENCH_PERF"):
        for what, pids in (("intake", intake_pids), ("postgres", [pg_pid] + children(pg_pid))):
            out = os.path.join(s.tmp, "%s.perf.data" % what)
            perf[what] = (out, subprocess.Popen(["perf", "record", "-F", "999", "-o", out, "-p",
                                                 ",".join(map(str, pids))],
                                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        statements_reset(s)
    cpu0 = {"intake": sum(map(cpu_seconds, intake_pids)), "postgres": children_cpu(pg_pid)}
    feed = run_feedsim(s, tenant, cfg["debtors"], endpoint)
    cpu1 = {"intake": sum(map(cpu_seconds, intake_pids)), "postgres": children_cpu(pg_pid)}
    if perf:
        results["pg_statements"] = statements_top(s)
    for what, (out, p) in perf.items():
        p.send_signal(2)
        p.wait()
        results["perf_data_" + what] = out
        rep = subprocess.run(["perf", "report", "-i", out, "--no-children", "--stdio",
                              "--sort", "dso,symbol", "--percent-limit", "1"],
                             capture_output=True, text=True)
        results["perf_top_" + what] = [l for l in rep.stdout.splitlines()
                                       if l.strip() and not l.startswith("#")][:40]
    single_intake(s, intakes)
    events = s.event_count(tenant)
    rss.section = "ingest, catch-up"
    t_consumers = time.monotonic()
    for svc in CONSUMERS:
        s.start(svc, wait=False)        # not ready until caught up: that is what is timed
    # The catch-up is timed to the end, or (full size: about an hour of
    # backlog) for a window, counting what the slowest consumer applied in it.
    window = cfg.get("catchup_window_s")
    stackmod.wait_until(lambda: s.consumers_caught_up(tenant)
                        or (window and time.monotonic() - t_consumers > window),
                        timeout=3600, what="consumers caught up")
    caught = time.monotonic() - t_consumers
    pos = s.positions(tenant)
    applied = min(pos.get(c, 0) for c in stackmod.LEDGER_CONSUMERS)
    for svc in CONSUMERS:
        s.stop(svc)
    results["ingest"] = {"items": feed["items"], "accepted": feed["accepted"], "intakes": cfg["intakes"],
                         "invoices": feed["invoices"], "seconds": feed["seconds"],
                         "items_per_s": feed["items"] / feed["seconds"],
                         "events": events, "applied": applied, "caught_up_s": caught,
                         "complete": applied == events,
                         "events_per_s": applied / caught,
                         "cpu_intake_s": cpu1["intake"] - cpu0["intake"],
                         "cpu_postgres_s": cpu1["postgres"] - cpu0["postgres"]}
    log("ingest: %d items in %.1fs; %d of %d events applied by all consumers after %.1fs"
        % (feed["items"], feed["seconds"], applied, events, caught))

    # Baselines: the measured feed's rows, COPY and an INSERT loop.
    rss.section = "ingest, baselines"
    order = [t for t in ingest_tables(s.db) if is_ingest(t)]
    setup = [t for t in ingest_tables(s.db) if t in ("tenants", "api_tokens")]
    rows = dump_rows(s.db, order, tenant)
    rows.update(dump_rows(s.db, setup))
    nrows = {t: sum(1 for _ in csv.reader(io.StringIO(rows[t]))) for t in order}
    order = [t for t in order if nrows[t] > 0]
    total_rows = sum(nrows[t] for t in order)
    log("baseline rows: %s" % ", ".join("%s=%d" % (t, nrows[t]) for t in order))
    c = make_copy_db(s, "copybench")
    copy_load(c, rows, setup)
    copy_s = copy_load(c, rows, order)
    truncate(c, order)
    ins_n, ins_s = insert_loop(c, rows, order, cfg["insert_budget_s"])
    c.close()
    ins_total_s = total_rows * ins_s / ins_n
    results["baseline"] = {"rows": total_rows, "tables": nrows,
                           "copy_s": copy_s, "copy_items_per_s": feed["items"] / copy_s,
                           "insert_rows": ins_n, "insert_s": ins_s,
                           "insert_extrapolated_s": ins_total_s,
                           "insert_items_per_s": feed["items"] / ins_total_s}


def section_bus(s, cfg, results):
    """bus_bench through the stack's broker, with the stack's CURVE keys
    when it runs CURVE (the services' own setting; the table says which)."""
    results["bus"] = {}
    results["bus_curve"] = bool(s.curve)
    for size in (100, 1000):
        log("bus: %d bytes x %d" % (size, cfg["bus_count"]))
        results["bus"][size] = bus_bench(s, s.env["CREANCE_BROKER_PUB"], s.env["CREANCE_BROKER_SUB"],
                                         size, cfg["bus_count"])


def steps_wanted():
    """BENCH_STEPS (comma list) or every default section."""
    env = os.environ.get("BENCH_STEPS", "").strip()
    steps = [x.strip() for x in env.split(",") if x.strip()] if env else list(STEPS)
    bad = [x for x in steps if x not in STEPS + OPTIONAL]
    if bad:
        sys.exit("bench: unknown BENCH_STEPS %s (known: %s)" % (",".join(bad), ",".join(STEPS + OPTIONAL)))
    return steps


def main():
    mode = sys.argv[1] if len(sys.argv) > 1 else "quick"
    cfg = dict(MODES[mode])
    if os.environ.get("BENCH_DEBTORS"):
        cfg["debtors"] = int(os.environ["BENCH_DEBTORS"])
    if os.environ.get("BENCH_CATCHUP_S"):       # the consumers' catch-up window (0: to the end)
        cfg["catchup_window_s"] = int(os.environ["BENCH_CATCHUP_S"])
    # Two partitioned intakes by default: one PostgreSQL backend is what
    # limits a single intake (BENCHMARKS.md), and partitions by debtor are
    # how intake scales (docs/scaling.md). BENCH_INTAKES=1 measures one.
    cfg["intakes"] = int(os.environ.get("BENCH_INTAKES", "2"))
    rcfg = risk.config(mode)
    steps = steps_wanted()
    build = os.environ.get("BUILD", "build-bench")
    if os.environ.get("BENCH_PERF"):
        os.environ["CREANCE_E2E_PG_OPTS"] = PG_STATEMENTS
    results = {"mode": mode, "machine": machine(), "steps": steps, "debtors": cfg["debtors"]}
    t_run = time.monotonic()
    rss = benchlib.tracker()
    if any(x in steps for x in ON_STACK_A):
        # Stack A: ingest, bus and risk share it (risk on tenants of its own).
        s = benchlib.BenchStack(build)
        try:
            log("starting stack A from %s" % s.bindir)
            s.open()
            if "ingest" in steps:
                section_ingest(s, cfg, results, rss)
                if results["ingest"]["complete"]:
                    for svc in CONSUMERS:
                        s.start(svc)
                else:
                    # The backlog left would compete with what follows.
                    log("ingest: backlog left behind; a fresh stack A for the next sections")
                    s.close()
                    s = benchlib.BenchStack(build)
                    s.open()
            if "bus" in steps:
                rss.section = "bus"
                section_bus(s, cfg, results)
            if "backtest" in steps:
                for svc in CONSUMERS:
                    if not s.running(svc):
                        s.start(svc)
                rss.section = "backtest"
                risk.step_backtest(s, rcfg, results)
            if "risk" in steps:
                rss.section = "risk"
                log("risk: event to score, rates %s" % rcfg["rates"])
                risk.step_latency(s, rcfg, results)
            if "riskmem" in steps:
                rss.section = "riskmem"
                risk.step_memory(s, rcfg, results)
        finally:
            s.close()
    sizes = dunning.MODES[mode]
    if "dunning" in steps:
        rss.section = "dunning"
        log("dunning: %d open invoices, %d debtors, fresh stack" % (sizes["invoices"], sizes["debtors"]))
        results["dunning"] = dunning.run(sizes["invoices"], sizes["debtors"], build)
    if "kpi" in steps:
        k = kpi.MODES[mode]
        rss.section = "kpi"
        log("kpi: %d invoices, %d debtors, fresh stack" % (k["invoices"], k["debtors"]))
        results["kpi"] = kpi.run(k["invoices"], k["debtors"], k["runs"], k["scan_runs"], build)
    rss.close()
    if "rss" in steps:
        results["rss_mb"] = dict(rss.peak)
        results["rss_section"] = dict(rss.peak_in)
    results["seconds"] = round(time.monotonic() - t_run, 1)
    report(results)
    out = os.environ.get("BENCH_JSON")
    if out:
        with open(out, "w") as f:
            json.dump(results, f, indent=2)


def ingest_rows(r):
    i, b = r["ingest"], r["baseline"]
    rows = []
    copy_ratio = i["items_per_s"] / b["copy_items_per_s"]
    ins_ratio = i["items_per_s"] / b["insert_items_per_s"]
    rows.append(("ingest, items/s committed (feedsim replies), consumers stopped%s"
                 % (", %d intakes (partitions)" % i["intakes"] if i.get("intakes", 1) > 1 else ""),
                 "%.0f" % i["items_per_s"],
                 "COPY %.0f" % b["copy_items_per_s"], "%.1f %%" % (100 * copy_ratio), ">= 50 %",
                 "yes" if copy_ratio >= 0.5 else "NO"))
    rows.append(("ingest vs one autocommit INSERT per row", "%.0f" % i["items_per_s"],
                 "INSERT %.0f (extrapolated from %d rows in %.0f s)"
                 % (b["insert_items_per_s"], b["insert_rows"], b["insert_s"]),
                 "%.1fx" % ins_ratio, ">= 20x", "yes" if ins_ratio >= 20 else "NO"))
    rows.append(("events applied by all consumers (catch-up from event_log), events/s",
                 "%.0f (%d%s events, %.1f s)" % (i["events_per_s"], i["applied"],
                                                 "" if i["complete"] else " of %d" % i["events"],
                                                 i["caught_up_s"]),
                 "", "", "", ""))
    sl, lv = r["ingest_byitem"], r["ingest_live"]
    rows.append(("ingest with consumers running, items/s (smaller feed)",
                 "%.0f (%d items)" % (lv["items_per_s"], lv["items"]),
                 "item by item %.0f (%d items)" % (sl["items_per_s"], sl["items"]),
                 "%.1fx" % (lv["items_per_s"] / sl["items_per_s"]), "", ""))
    rows.append(("during the feed: intake CPU / PostgreSQL CPU (all backends)",
                 "%.1f s / %.1f s of %.1f s" % (i["cpu_intake_s"], i["cpu_postgres_s"], i["seconds"]),
                 "", "", "", ""))
    rows.append(("baseline rows (all tables intake writes)", "%d" % b["rows"],
                 "COPY %.2f s, INSERT loop %.0f s (extrapolated)" % (b["copy_s"], b["insert_extrapolated_s"]),
                 "", "", ""))
    return rows


def report(r):
    lines = []
    add = lines.append
    add("Créance benchmark (%s): %s" % (r["mode"], r["machine"]))
    add("sections: %s; %.0f s in all" % (",".join(r["steps"]), r["seconds"]))
    if "ingest" in r:
        i = r["ingest"]
        add("feed: %d debtors, %s invoices, %d items (12 months to %s)"
            % (r["debtors"], i["invoices"], i["items"], END))
    add("")
    add("| measure | figure | baseline | ratio | target | met |")
    add("|---|---:|---:|---:|---:|:-:|")
    rows = []
    if "ingest" in r:
        rows += ingest_rows(r)
    for size, x in sorted(r.get("bus", {}).items()):
        rows.append(("bus, %d-byte envelopes/s through the broker%s"
                     % (size, " (CURVE)" if r.get("bus_curve") else " (no CURVE)"),
                     "%d" % x["rate"], "", "", "", "received %d of %d" % (x["received"], x["sent"])))
    rows += risk.table_rows(r)
    rows += dunning.table_rows(r)
    rows += kpi.table_rows(r)
    for svc, mb in sorted(r.get("rss_mb", {}).items()):
        rows.append(("peak RSS %s over the whole run, MB (reached in: %s)"
                     % (svc, r.get("rss_section", {}).get(svc, "?")),
                     "%.1f" % mb, "", "", "<= 64", "yes" if mb <= 64 else "NO"))
    lines.extend("| " + " | ".join(row) + " |" for row in rows)
    if r.get("pg_statements"):
        add("")
        add("PostgreSQL statements during the measured feed (pg_stat_statements, by time):")
        add("")
        add("| calls | execution ms | planning ms | rows | statement |")
        add("|---:|---:|---:|---:|---|")
        lines.extend("| %d | %d | %d | %d | `%s` |" % (x["calls"], x["exec_ms"], x["plan_ms"], x["rows"],
                                                   x["query"].replace("|", "\\|"))
                     for x in r["pg_statements"])
    for what in ("intake", "postgres"):
        if r.get("perf_top_" + what):
            add("")
            add("perf profile of %s during the measured feed (on-CPU samples, self):" % what)
            lines.extend("    " + l.strip() for l in r["perf_top_" + what])
    print("\n".join(lines))


if __name__ == "__main__":
    main()
