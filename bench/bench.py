#!/usr/bin/python3
"""Créance benchmarks: one table of ingest, bus and memory figures.

    bench/run.sh quick|full     (make bench-quick / make bench)

Starts its own stack (tests/e2e/stack.py: PostgreSQL, Redis, broker and the
services of $BUILD, a MODE=release build, on free ports in a temp dir), then:

1. ingest: creance-feedsim sends a deterministic history (quick: 1,000
   debtors, about 20k invoices and 40k items; full: 50,000 debtors, about
   1M invoices) while the consumers (risk, reminders, reporting) are
   stopped, so that the ingest path (feed -> intake -> PostgreSQL -> broker)
   is measured alone, as its baselines are. Rate = items / seconds from the
   first batch sent to the last reply received (a reply is sent after
   COMMIT, events are published right after). Then the consumers start and
   catch up from event_log: "applied" is the events / seconds from their
   start until every one has applied up to streams.last_seq.
   Then, on another tenant, the same kind of feed (fewer debtors) with
   intake recording item by item (CREANCE_INTAKE_BULK=0), consumers
   running, for the gain of the set-based runs.
   Baselines, same rows, same tables, same server, in a second database
   with the same schema:
   - COPY: every row intake wrote (all tables except those of the
     consumers and of set-up) COPYed in foreign-key order;
   - INSERT: one autocommit INSERT per row, in the same order, for a time
     budget; the rate is extrapolated to all rows (said in the table).
   Both are expressed as feed items per second (items / time to load the
   rows those items produced), so they compare with the ingest rate.
2. bus: bench/bus_bench through the stack's broker, 100 and 1,000 byte
   envelopes.
3. peak RSS (VmHWM) of each service at the end.

Targets (issue 10): ingest >= 50 % of COPY and >= 20x the INSERT loop;
services <= 64 MB peak RSS. The PostgreSQL of the test stack runs with
fsync=off and synchronous_commit=off (stack.py): the INSERT baseline is
therefore the cost of a round trip and a commit without a disk flush.
"""
import csv
import io
import json
import os
import re
import subprocess
import sys
import time

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(REPO, "tests", "e2e"))

import psycopg2  # noqa: E402

import stack as stackmod  # noqa: E402

MODES = {
    # debtors x 12 months: about 20 invoices and 40 items per debtor
    "quick": {"debtors": 1000, "byitem_debtors": 300, "insert_budget_s": 10, "bus_count": 200000},
    "full": {"debtors": 50000, "byitem_debtors": 2000, "insert_budget_s": 60, "bus_count": 2000000},
}
END = "2025-06-30"          # fixed: the same facts every run
# Tables whose rows are not intake's: set-up and the consumers' own state.
NOT_INGEST = {"tenants", "api_tokens", "schema_migrations", "consumer_positions"}
NOT_INGEST_PREFIX = ("risk_", "rpt_", "rem_")
CONSUMERS = ("risk", "reminders", "reporting")


def log(msg):
    sys.stderr.write("bench: %s\n" % msg)
    sys.stderr.flush()


def machine():
    model = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as f:
        mem_kb = int(f.readline().split()[1])
    return "%d CPUs (%s), %.1f GiB RAM, %s" % (os.cpu_count(), model, mem_kb / 2**20,
                                              os.uname().release)


def peak_rss_mb(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        return None
    return None


def cpu_seconds(pid):
    """utime + stime of one process, in seconds."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def children_cpu(parent):
    """CPU seconds of `parent` and its direct children (postmaster and its
    backends), including children that already exited (cutime/cstime)."""
    total = 0.0
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid, ppid = int(d), int(fields[1])
        if pid == parent or ppid == parent:
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
            if pid == parent:
                total += (int(fields[13]) + int(fields[14])) / os.sysconf("SC_CLK_TCK")
    return total


def ingest_tables(db):
    """Tables with rows that intake wrote, in foreign-key order."""
    with db.cursor() as cur:
        cur.execute("SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                    "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')")
        tables = [r[0] for r in cur.fetchall()]
        cur.execute("SELECT c.conrelid::regclass::text, c.confrelid::regclass::text "
                    "FROM pg_constraint c WHERE c.contype = 'f'")
        deps = {}
        for child, parent in cur.fetchall():
            deps.setdefault(child, set()).add(parent)
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


def dump_rows(db, tables):
    """{table: CSV text} of every row (COPY TO)."""
    out = {}
    with db.cursor() as cur:
        for t in tables:
            buf = io.StringIO()
            cur.copy_expert('COPY "%s" TO STDOUT WITH (FORMAT csv, NULL \'\\N\')' % t, buf)
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


def run_feedsim(s, tenant, debtors):
    argv = [os.path.join(s.bindir, "creance-feedsim"), "--endpoint", s.env["CREANCE_INTAKE_ENDPOINT"],
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


def bus_bench(s, size, count):
    p = subprocess.run([os.path.join(s.bindir, "bus_bench"), s.env["CREANCE_BROKER_PUB"],
                        s.env["CREANCE_BROKER_SUB"], str(size), str(count)],
                       capture_output=True, text=True, timeout=600)
    m = re.search(r"sent=(\d+) received=(\d+) seconds=([\d.]+) rate=(\d+)", p.stdout)
    if p.returncode != 0 or not m:
        raise RuntimeError("bus_bench failed: %s %s" % (p.stdout, p.stderr))
    return {"sent": int(m.group(1)), "received": int(m.group(2)), "rate": int(m.group(4))}


def main():
    mode = sys.argv[1] if len(sys.argv) > 1 else "quick"
    cfg = dict(MODES[mode])
    if os.environ.get("BENCH_DEBTORS"):
        cfg["debtors"] = int(os.environ["BENCH_DEBTORS"])
    build = os.environ.get("BUILD", "build-bench")
    s = stackmod.Stack(build=build)
    # Benchmarks run at the production log level, not the tests' debug.
    s.env["CREANCE_LOG_LEVEL"] = "info"
    results = {"mode": mode, "machine": machine(), "debtors": cfg["debtors"]}
    try:
        log("starting the stack from %s" % s.bindir)
        s.open()
    except Exception:
        s.close()
        raise
    try:
        tenant = s.make_tenant("bench").id
        if os.environ.get("BENCH_PERF"):
            perf_out = os.path.join(s.tmp, "intake.perf.data")
            perf = subprocess.Popen(["perf", "record", "-F", "999", "-o", perf_out, "-p",
                                     str(s.procs["intake"].pid)],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        log("ingest: feedsim --debtors %d, consumers stopped" % cfg["debtors"])
        for svc in CONSUMERS:
            s.stop(svc)
        pg_pid, intake_pid = s.procs["postgres"].pid, s.procs["intake"].pid
        cpu0 = {"intake": cpu_seconds(intake_pid), "postgres": children_cpu(pg_pid)}
        feed = run_feedsim(s, tenant, cfg["debtors"])
        cpu1 = {"intake": cpu_seconds(intake_pid), "postgres": children_cpu(pg_pid)}
        t_consumers = time.monotonic()
        for svc in CONSUMERS:
            s.start(svc, wait=False)        # not ready until caught up: that is what is timed
        stackmod.wait_until(lambda: s.consumers_caught_up(tenant), timeout=3600,
                            what="consumers caught up")
        caught = time.monotonic() - t_consumers
        if os.environ.get("BENCH_PERF"):
            perf.send_signal(2)
            perf.wait()
            results["perf_data"] = perf_out
            rep = subprocess.run(["perf", "report", "-i", perf_out, "--no-children", "--stdio",
                                  "--sort", "dso,symbol", "--percent-limit", "1.5"],
                                 capture_output=True, text=True)
            results["perf_top"] = [l for l in rep.stdout.splitlines()
                                   if l.strip() and not l.startswith("#")][:25]
        events = s.event_count(tenant)
        results["ingest"] = {"items": feed["items"], "accepted": feed["accepted"],
                             "invoices": feed["invoices"], "seconds": feed["seconds"],
                             "items_per_s": feed["items"] / feed["seconds"],
                             "events": events, "caught_up_s": caught,
                             "events_per_s": events / caught,
                             "cpu_intake_s": cpu1["intake"] - cpu0["intake"],
                             "cpu_postgres_s": cpu1["postgres"] - cpu0["postgres"]}
        log("ingest: %d items in %.1fs; %d events applied by all consumers after %.1fs"
            % (feed["items"], feed["seconds"], events, caught))

        order = [t for t in ingest_tables(s.db) if is_ingest(t)]
        setup = [t for t in ingest_tables(s.db) if t in ("tenants", "api_tokens")]
        rows = dump_rows(s.db, order + setup)
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

        log("ingest item by item: feedsim --debtors %d, CREANCE_INTAKE_BULK=0, consumers running"
            % cfg["byitem_debtors"])
        s.service_env["intake"] = {"CREANCE_INTAKE_BULK": "0"}
        s.stop("intake")
        s.start("intake")
        slow = run_feedsim(s, s.make_tenant("byitem").id, cfg["byitem_debtors"])
        s.service_env.pop("intake")
        s.stop("intake")
        s.start("intake")
        log("ingest bulk, consumers running: feedsim --debtors %d" % cfg["byitem_debtors"])
        live = run_feedsim(s, s.make_tenant("live").id, cfg["byitem_debtors"])
        results["ingest_byitem"] = {"items": slow["items"], "seconds": slow["seconds"],
                                    "items_per_s": slow["items"] / slow["seconds"]}
        results["ingest_live"] = {"items": live["items"], "seconds": live["seconds"],
                                  "items_per_s": live["items"] / live["seconds"]}

        results["bus"] = {}
        for size in (100, 1000):
            log("bus: %d bytes x %d" % (size, cfg["bus_count"]))
            results["bus"][size] = bus_bench(s, size, cfg["bus_count"])

        results["rss_mb"] = {svc: peak_rss_mb(s.procs[svc].pid) for svc in stackmod.SERVICES
                             if svc in s.procs}
    finally:
        s.close()
    report(results)
    out = os.environ.get("BENCH_JSON")
    if out:
        with open(out, "w") as f:
            json.dump(results, f, indent=2)


def report(r):
    i, b = r["ingest"], r["baseline"]
    lines = []
    add = lines.append
    add("Créance benchmark (%s): %s" % (r["mode"], r["machine"]))
    add("feed: %d debtors, %s invoices, %d items (12 months to %s)"
        % (r["debtors"], i["invoices"], i["items"], END))
    add("")
    add("| measure | figure | baseline | ratio | target | met |")
    add("|---|---:|---:|---:|---:|:-:|")
    copy_ratio = i["items_per_s"] / b["copy_items_per_s"]
    ins_ratio = i["items_per_s"] / b["insert_items_per_s"]
    add("| ingest, items/s committed (feedsim replies) | %.0f | COPY %.0f | %.1f %% | >= 50 %% | %s |"
        % (i["items_per_s"], b["copy_items_per_s"], 100 * copy_ratio, "yes" if copy_ratio >= 0.5 else "NO"))
    add("| ingest vs one autocommit INSERT per row | %.0f | INSERT %.0f (extrapolated from %d rows in %.0f s) | %.1fx | >= 20x | %s |"
        % (i["items_per_s"], b["insert_items_per_s"], b["insert_rows"], b["insert_s"], ins_ratio,
           "yes" if ins_ratio >= 20 else "NO"))
    add("| events applied by all consumers (catch-up from event_log), events/s | %.0f (%d events, %.1f s) | | | | |"
        % (i["events_per_s"], i["events"], i["caught_up_s"]))
    sl, lv = r["ingest_byitem"], r["ingest_live"]
    add("| ingest with consumers running, items/s (smaller feed) | %.0f (%d items) | item by item %.0f (%d items) | %.1fx | | |"
        % (lv["items_per_s"], lv["items"], sl["items_per_s"], sl["items"],
           lv["items_per_s"] / sl["items_per_s"]))
    add("| during the feed: intake CPU / PostgreSQL CPU (all backends) | %.1f s / %.1f s of %.1f s | | | | |"
        % (i["cpu_intake_s"], i["cpu_postgres_s"], i["seconds"]))
    add("| baseline rows (all tables intake writes) | %d | COPY %.2f s, INSERT loop %.0f s (extrapolated) | | | |"
        % (b["rows"], b["copy_s"], b["insert_extrapolated_s"]))
    for size, x in sorted(r["bus"].items()):
        add("| bus, %d-byte envelopes/s through the broker | %d | | | | %s |"
            % (size, x["rate"], "received %d of %d" % (x["received"], x["sent"])))
    for svc, mb in sorted(r["rss_mb"].items()):
        add("| peak RSS %s, MB | %s | | | <= 64 | %s |"
            % (svc, "%.1f" % mb if mb is not None else "?", "yes" if mb is not None and mb <= 64 else "NO"))
    if r.get("perf_top"):
        add("")
        add("perf profile of creance-intake during the feed (on-CPU samples, self):")
        lines.extend("    " + l.strip() for l in r["perf_top"])
    print("\n".join(lines))


if __name__ == "__main__":
    main()
