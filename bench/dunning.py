#!/usr/bin/python3
"""Benchmark of the dunning pass (issue 5): 1M open invoices, 100k debtors.

    make bench / make bench-quick          (the `dunning` section of bench/bench.py)
    BUILD=build-bench /usr/bin/python3 bench/dunning.py [invoices] [debtors]   (alone)

On a fresh stack of its own (tests/e2e/stack.py through benchlib, on free
ports in a temp dir: an empty database, so that both sides read the
section's rows only), fills reminders' view (rem_debtors, rem_open_items)
with SQL, then measures in the same run, best of 3:
  bare  the SQL query selecting the same due items (every open item due
        within the ladder's first offset, in debtor order), streamed to the
        client with COPY and discarded;
  pass  the dunning pass over the same items, decide-only (GET
        /api/v1/reminders/preview?summary=1: ladders, pauses, contact rules
        in each debtor's time zone, channels and grouping; no writes), as
        timed by the service ("pass_ms").
Targets: pass <= 5 s and pass <= 2 x bare. Sizes: full 1M invoices / 100k
debtors, quick 50k / 5k (alone: the arguments, default 1M / 100k).
"""

import json
import os
import sys
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib  # noqa: E402

DAY = "2026-03-17"
MODES = {"quick": {"invoices": 50000, "debtors": 5000},
         "full": {"invoices": 1000000, "debtors": 100000}}
TARGET_S, TARGET_RATIO = 5.0, 2.0


def log(msg):
    benchlib.log(msg, "bench dunning")


class Null:
    def write(self, b):
        return len(b)


def run(n_inv, n_debt, build=None):
    """Fresh stack, load, measure; returns the figures."""
    s = benchlib.BenchStack(build)
    # Nothing may decide on the data while it loads: with PASS_MS=0
    # reminders runs no pass of its own (neither at start nor on a timer),
    # only the preview decides, when asked. Set from the start rather than
    # by a restart after the load: a restart could find its HTTP port taken
    # on a busy machine (the stack's ports are free when chosen, not held).
    s.service_env["reminders"] = {"CREANCE_TODAY": DAY, "CREANCE_NOW_UTC": DAY + "T09:00:00Z",
                                  "CREANCE_REMINDERS_PASS_MS": "0"}
    try:
        s.open()
        t = s.make_tenant("bench")
        t0 = time.monotonic()
        s.query_exec("INSERT INTO rem_debtors (tenant, debtor_id, legal_name, email, phone, time_zone,"
                     " country) SELECT %s, d, 'Debtor ' || d, 'd' || d || '@bench.test', '+3360000' || d,"
                     " CASE WHEN d %% 10 = 0 THEN 'America/New_York' WHEN d %% 10 = 1 THEN 'Asia/Tokyo'"
                     " ELSE 'Europe/Paris' END, 'FR' FROM generate_series(1, %s) d", (t.id, n_debt))
        # Due dates from 30 days ahead to 90 days late; some disputes,
        # plans, promises and levels already decided.
        s.query_exec("INSERT INTO rem_open_items (tenant, invoice_id, debtor_id, due_date, currency,"
                     " open_minor, disputed_minor, plan_id, promise_until, last_level)"
                     " SELECT %s, i, 1 + (i %% %s), DATE %s + 30 - (i %% 120), 'EUR', 1000 + i %% 50000,"
                     " CASE WHEN i %% 50 = 0 THEN 500 ELSE 0 END,"
                     " CASE WHEN i %% 97 = 0 THEN 1 END,"
                     " CASE WHEN i %% 89 = 0 THEN DATE %s + 5 END,"
                     " CASE WHEN i %% 3 = 0 THEN 2 ELSE 0 END"
                     " FROM generate_series(1, %s) i", (t.id, n_debt, DAY, DAY, n_inv))
        s.query_exec("ANALYZE rem_open_items")
        s.query_exec("ANALYZE rem_debtors")
        load_s = time.monotonic() - t0
        log("data: %d invoices, %d debtors loaded in %.1f s" % (n_inv, n_debt, load_s))

        bare_sql = ("COPY (SELECT o.debtor_id, o.invoice_id, o.due_date, o.currency, o.open_minor,"
                    " o.disputed_minor, o.plan_id, o.promise_until, o.min_level, o.last_level"
                    " FROM rem_open_items o WHERE o.tenant = '%s' AND o.due_date <= DATE '%s' + 7"
                    " AND o.open_minor > 0 ORDER BY o.debtor_id, o.invoice_id) TO STDOUT" % (t.id, DAY))
        bare_rows = s.scalar("SELECT count(*) FROM rem_open_items WHERE tenant = %s"
                       " AND due_date <= DATE %s + 7 AND open_minor > 0", (t.id, DAY))
        url = "http://%s/api/v1/reminders/preview?summary=1" % s.http_addr("reminders")
        bare, passes, body = [], [], None
        for _ in range(3):
            t0 = time.monotonic()
            with s.db.cursor() as cur:
                cur.copy_expert(bare_sql, Null())
            bare.append(time.monotonic() - t0)
            req = urllib.request.Request(url, headers={"Authorization": "Bearer " + t.token})
            with urllib.request.urlopen(req, timeout=600) as r:
                body = json.loads(r.read())
            passes.append(body["pass_ms"] / 1000.0)
    finally:
        s.close()
    b, p = min(bare), min(passes)
    return {"invoices": n_inv, "debtors": n_debt, "bare_rows": bare_rows, "load_s": round(load_s, 1),
            "bare_s": b, "pass_s": p, "ratio": p / b, "bare_runs": bare, "pass_runs": passes,
            "counts": body["counts"]}


def table_rows(r):
    d = r.get("dunning")
    if not d:
        return []
    met = d["pass_s"] <= TARGET_S and d["ratio"] <= TARGET_RATIO
    return [("dunning pass, decide-only, %s open invoices / %s debtors, s, best of 3 (bare SQL: %s rows)"
             % ("{:,}".format(d["invoices"]), "{:,}".format(d["debtors"]),
                "{:,}".format(d["bare_rows"])),
             "%.2f" % d["pass_s"], "bare SQL %.2f" % d["bare_s"], "%.2fx" % d["ratio"],
             "<= 5 s, <= 2x", "yes" if met else "NO")]


def main():
    n_inv = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    n_debt = int(sys.argv[2]) if len(sys.argv) > 2 else 100_000
    d = run(n_inv, n_debt)
    print("counts: %s" % json.dumps(d["counts"]))
    print("bare SQL (COPY, best of 3): %.2f s   runs %s" % (d["bare_s"], ["%.2f" % x for x in d["bare_runs"]]))
    print("dunning pass, decide-only (best of 3): %.2f s   runs %s"
          % (d["pass_s"], ["%.2f" % x for x in d["pass_runs"]]))
    print("ratio pass / bare: %.2f   targets: pass <= 5 s: %s, ratio <= 2: %s"
          % (d["ratio"], "met" if d["pass_s"] <= TARGET_S else "MISSED",
             "met" if d["ratio"] <= TARGET_RATIO else "MISSED"))


if __name__ == "__main__":
    main()
