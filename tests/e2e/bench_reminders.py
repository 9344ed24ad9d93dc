"""Benchmark of the dunning pass (issue 5): 1M open invoices, 100k debtors.

    make BUILD=build-rem-b-release MODE=release build-bins build-rem-b-release/gen/py/creance_pb2.py
    PYTHONPATH=build-rem-b-release/gen/py CREANCE_BUILD=build-rem-b-release \\
        /usr/bin/python3 tests/e2e/bench_reminders.py [invoices] [debtors]

Starts the stack (stack.py), fills reminders' view (rem_debtors,
rem_open_items) with SQL, then measures in the same run, best of 3:
  bare  the SQL query selecting the same due items (every open item due
        within the ladder's first offset, in debtor order), streamed to the
        client with COPY and discarded;
  pass  the dunning pass over the same items, decide-only (GET
        /api/v1/reminders/preview?summary=1: ladders, pauses, contact rules
        in each debtor's time zone, channels and grouping; no writes), as
        timed by the service ("pass_ms").
Targets: pass <= 5 s and pass <= 2 x bare. Not part of the test suite
(not named test_*.py): it takes a minute and a few GB of disk.
"""

import json
import sys
import time
import urllib.request

import stack as stackmod

DAY = "2026-03-17"


class Null:
    def write(self, b):
        return len(b)


def main():
    n_inv = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    n_debt = int(sys.argv[2]) if len(sys.argv) > 2 else 100_000
    s = stackmod.Stack()
    try:
        s.open()
        # Nothing may decide on the data while it loads.
        s.stop("reminders")
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
        print("data: %d invoices, %d debtors loaded in %.1f s" % (n_inv, n_debt, time.monotonic() - t0))

        s.service_env["reminders"] = {"CREANCE_TODAY": DAY, "CREANCE_NOW_UTC": DAY + "T09:00:00Z",
                                      "CREANCE_REMINDERS_PASS_MS": "0"}
        s.start("reminders")

        bare_sql = ("COPY (SELECT o.debtor_id, o.invoice_id, o.due_date, o.currency, o.open_minor,"
                    " o.disputed_minor, o.plan_id, o.promise_until, o.min_level, o.last_level"
                    " FROM rem_open_items o WHERE o.tenant = '%s' AND o.due_date <= DATE '%s' + 7"
                    " AND o.open_minor > 0 ORDER BY o.debtor_id, o.invoice_id) TO STDOUT" % (t.id, DAY))
        url = "http://%s/api/v1/reminders/preview?summary=1" % s.http_addr("reminders")
        bare, passes, body = [], [], None
        for _ in range(3):
            t0 = time.monotonic()
            with s.db.cursor() as cur:
                cur.copy_expert(bare_sql, Null())
            bare.append(time.monotonic() - t0)
            req = urllib.request.Request(url, headers={"Authorization": "Bearer " + t.token})
            with urllib.request.urlopen(req, timeout=300) as r:
                body = json.loads(r.read())
            passes.append(body["pass_ms"] / 1000.0)
        b, p = min(bare), min(passes)
        print("counts: %s" % json.dumps(body["counts"]))
        print("bare SQL (COPY, best of 3): %.2f s   runs %s" % (b, ["%.2f" % x for x in bare]))
        print("dunning pass, decide-only (best of 3): %.2f s   runs %s" % (p, ["%.2f" % x for x in passes]))
        print("ratio pass / bare: %.2f   targets: pass <= 5 s: %s, ratio <= 2: %s"
              % (p / b, "met" if p <= 5 else "MISSED", "met" if p / b <= 2 else "MISSED"))
    finally:
        s.close()


if __name__ == "__main__":
    main()
