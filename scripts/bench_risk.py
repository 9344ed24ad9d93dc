#!/usr/bin/python3
"""Risk benchmarks (issue 4): backtest figures, event -> score latency, RSS.

    BUILD=build-risk-rel PYTHONPATH=build-risk-rel/gen/py \
        /usr/bin/python3 scripts/bench_risk.py [quick|full]
    (`make bench` can call it later.) BENCH_STEPS=backtest,latency,memory
    picks steps; BENCH_BT_DEBTORS, BENCH_RATE, BENCH_SECONDS and
    BENCH_MEM_DEBTORS override the mode's sizes.

Starts its own stack (tests/e2e/stack.py: PostgreSQL, Redis, broker and the
services of $BUILD, on free ports in a temp dir), then:

1. backtest: creance-feedsim sends a deterministic history (2,000 debtors,
   12 months ending 2025-06-30) through intake; creance-backtest replays it
   and prints AUC ("paid late") and MAE (payment date) beside the naive
   baseline.
2. latency: a producer writes InvoiceIssued events for 2,000 debtors into
   event_log and publishes them on the bus, as intake would, at a steady
   RATE events/s (2,000) for SECONDS. Each event's latency is the time from
   its publication (after its commit) to the first change of its debtor's
   Redis hash (keyspace notifications; risk writes the hash, with the new
   score, after committing). reminders and reporting are stopped: the
   figure is risk's. The service's own histogram
   creance_risk_event_to_cache_seconds is printed beside it.
3. memory: 100,000 debtors (DebtorCreated + InvoiceIssued each) written to
   event_log at once; risk catches up; its VmRSS / VmHWM after catching up
   and after a FLUSHALL and rebuild of the 100k hashes.
"""
import json
import os
import subprocess
import sys
import threading
import time
import uuid

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(REPO, "tests", "e2e"))

import psycopg2.extras  # noqa: E402
import redis  # noqa: E402

import creance_pb2 as pb  # noqa: E402
import stack as stackmod  # noqa: E402

MODES = {
    "quick": {"bt_debtors": 500, "rate": 2000, "seconds": 10, "mem_debtors": 20000},
    "full": {"bt_debtors": 2000, "rate": 2000, "seconds": 30, "mem_debtors": 100000},
}
END = "2025-06-30"


def log(msg):
    sys.stderr.write("bench_risk: %s\n" % msg)
    sys.stderr.flush()


def proc_status(pid):
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("VmRSS", "VmHWM"):
                out[k] = int(v.split()[0]) / 1024.0
    return out


def percentile(values, p):
    v = sorted(values)
    if not v:
        return float("nan")
    i = min(len(v) - 1, max(0, int(round(p / 100.0 * (len(v) - 1)))))
    return v[i]


def histogram(s, name):
    """{le: cumulative count} of a histogram on risk's /metrics."""
    out = {}
    for n, labels, v in s.metrics("risk"):
        if n == name + "_bucket":
            out[labels["le"]] = v
    return out


def hist_quantile(before, after, q):
    """Upper bound of the bucket holding quantile q of the observations
    made between two readings."""
    total = after.get("+Inf", 0) - before.get("+Inf", 0)
    if total <= 0:
        return None
    for le in sorted((k for k in after if k != "+Inf"), key=float):
        if after[le] - before.get(le, 0) >= q * total:
            return float(le)
    return float("inf")


# ---------------------------------------------------------------- a producer

class Producer:
    """Writes ledger events into event_log (sequence per tenant, in one
    transaction per batch, like eventlog.c) and publishes them after commit."""

    def __init__(self, s, tenant):
        self.s = s
        self.tenant = tenant
        self.db = psycopg2.connect(s.db_url)
        self.pub = s.publisher()
        self.seq = 0
        with self.db, self.db.cursor() as cur:
            cur.execute("INSERT INTO streams (tenant, stream, last_seq) VALUES (%s, 'ledger', 0) "
                        "ON CONFLICT DO NOTHING", (tenant,))

    def envelope(self, **event):
        self.seq += 1
        env = pb.Envelope(tenant=self.tenant, stream="ledger", seq=self.seq,
                          event_id=str(uuid.uuid4()), occurred_at_us=int(time.time() * 1e6),
                          producer="bench", **event)
        return env

    def commit(self, envs, publish=True):
        rows = [(e.tenant, "ledger", e.seq, e.event_id, e.WhichOneof("event"),
                 "now()", "bench", e.SerializeToString()) for e in envs]
        with self.db, self.db.cursor() as cur:
            psycopg2.extras.execute_values(
                cur, "INSERT INTO event_log (tenant, stream, seq, event_id, event_type, occurred_at, "
                "producer, envelope) VALUES %s",
                [(t, st, sq, eid, et, psycopg2.extensions.AsIs("now()"), pr, psycopg2.Binary(b))
                 for t, st, sq, eid, et, _, pr, b in rows], page_size=1000)
            cur.execute("UPDATE streams SET last_seq = %s WHERE tenant = %s AND stream = 'ledger'",
                        (self.seq, self.tenant))
        if publish:
            topic = ("ledger/%s" % self.tenant).encode()
            for e in envs:
                self.pub.send_multipart([topic, e.SerializeToString()])

    def close(self):
        self.pub.close()
        self.db.close()


def debtor_created(p, debtor_id):
    return p.envelope(debtor_created=pb.DebtorCreated(
        debtor_id=debtor_id, external_id="D%d" % debtor_id, legal_name="Bench %d" % debtor_id,
        credit_limit=pb.Money(minor=10000000, currency="EUR")))


def invoice_issued(p, invoice_id, debtor_id):
    """Due on the 1st of a month of 2025: overdue, so the time-dependent
    factors are exercised too."""
    return p.envelope(invoice_issued=pb.InvoiceIssued(
        invoice_id=invoice_id, debtor_id=debtor_id, external_id="I%d" % invoice_id,
        number="F-%d" % invoice_id, issue_date=pb.Date(year=2025, month=1, day=1),
        due_date=pb.Date(year=2025, month=1 + invoice_id % 12, day=1),
        amount=pb.Money(minor=10000 + invoice_id % 997, currency="EUR"), terms_days=30))


# ---------------------------------------------------------------- steps

def step_backtest(s, cfg, results):
    tenant = s.make_tenant("bt").id
    log("backtest: feedsim --debtors %d --months 12 --end %s" % (cfg["bt_debtors"], END))
    argv = [os.path.join(s.bindir, "creance-feedsim"), "--endpoint", s.env["CREANCE_INTAKE_ENDPOINT"],
            "--tenant", tenant, "--debtors", str(cfg["bt_debtors"]), "--months", "12", "--end", END,
            "--timeout", "120", "--quiet"]
    t0 = time.monotonic()
    subprocess.run(argv, check=True, env=s.env)
    stackmod.wait_until(lambda: s.consumers_caught_up(tenant), timeout=3600, what="caught up")
    caught = time.monotonic() - t0
    events = s.event_count(tenant)
    p = subprocess.run([os.path.join(s.bindir, "creance-backtest"), "--tenant", tenant, "--json"],
                       capture_output=True, text=True, env=s.env, check=True)
    bt = json.loads(p.stdout)
    bt["feed_events"] = events
    bt["feed_to_scored_s"] = round(caught, 1)
    bt["scored_debtors"] = s.scalar("SELECT count(*) FROM risk_debtor_profile WHERE tenant = %s "
                                    "AND score IS NOT NULL", (tenant,))
    bt["grades"] = dict(s.query("SELECT grade, count(*) FROM risk_debtor_profile WHERE tenant = %s "
                                "GROUP BY grade ORDER BY grade", (tenant,)))
    results["backtest"] = bt
    log("backtest: %s" % json.dumps(bt))


def step_latency(s, cfg, results):
    tenant = s.make_tenant("lat").id
    n_debtors = 2000
    p = Producer(s, tenant)
    # The debtors first, untimed.
    envs = [debtor_created(p, d) for d in range(1, n_debtors + 1)]
    p.commit(envs)
    stackmod.wait_until(lambda: s.positions(tenant).get("risk") == p.seq, timeout=300,
                        what="debtors applied")

    s.redis.config_set("notify-keyspace-events", "Kh")
    sub = redis.Redis(host="127.0.0.1", port=s.redis_port)
    ps = sub.pubsub(ignore_subscribe_messages=True)
    prefix = "__keyspace@0__:creance:{%s:" % tenant
    ps.psubscribe(prefix + "*")
    published = {}                       # debtor -> publish time (monotonic)
    latencies = []
    lock = threading.Lock()
    stop = threading.Event()

    def listen():
        while not stop.is_set():
            m = ps.get_message(timeout=0.1)
            if not m:
                continue
            now = time.monotonic()
            ch = m["channel"].decode()
            debtor = int(ch[len(prefix):].split("}")[0])
            with lock:
                t = published.pop(debtor, None)
            if t is not None:
                latencies.append(now - t)

    th = threading.Thread(target=listen, daemon=True)
    th.start()
    time.sleep(0.3)
    before = histogram(s, "creance_risk_event_to_cache_seconds")
    rate, seconds = cfg["rate"], cfg["seconds"]
    tick = 0.01
    per_tick = max(1, int(rate * tick))
    invoice = 0
    debtor = 0
    t_start = time.monotonic()
    next_t = t_start
    sent = 0
    while time.monotonic() - t_start < seconds:
        envs = []
        debtors = []
        for _ in range(per_tick):
            invoice += 1
            debtor = debtor % n_debtors + 1
            envs.append(invoice_issued(p, invoice, debtor))
            debtors.append(debtor)
        p.commit(envs, publish=False)
        now = time.monotonic()
        with lock:
            for d in debtors:
                published.setdefault(d, now)
        topic = ("ledger/%s" % tenant).encode()
        for e in envs:
            p.pub.send_multipart([topic, e.SerializeToString()])
        sent += len(envs)
        next_t += tick
        delay = next_t - time.monotonic()
        if delay > 0:
            time.sleep(delay)
    elapsed = time.monotonic() - t_start
    stackmod.wait_until(lambda: s.positions(tenant).get("risk") == p.seq, timeout=300,
                        what="events applied")
    time.sleep(0.5)
    stop.set()
    th.join()
    after = histogram(s, "creance_risk_event_to_cache_seconds")
    lat_ms = [x * 1000 for x in latencies]
    res = {
        "events": sent, "seconds": round(elapsed, 1), "rate": round(sent / elapsed),
        "measured": len(lat_ms),
        "p50_ms": round(percentile(lat_ms, 50), 2), "p99_ms": round(percentile(lat_ms, 99), 2),
        "max_ms": round(max(lat_ms), 2) if lat_ms else None,
        "service_hist_p50_le_s": hist_quantile(before, after, 0.50),
        "service_hist_p99_le_s": hist_quantile(before, after, 0.99),
    }
    results["latency"] = res
    log("latency: %s" % json.dumps(res))
    ps.close()
    sub.close()
    p.close()


def step_memory(s, cfg, results):
    tenant = s.make_tenant("mem").id
    n = cfg["mem_debtors"]
    p = Producer(s, tenant)
    pid = s.procs["risk"].pid
    results["memory"] = {"debtors": n, "start": proc_status(pid)}
    log("memory: writing %d debtors with an invoice each" % n)
    t0 = time.monotonic()
    for start in range(1, n + 1, 5000):
        envs = []
        for d in range(start, min(n, start + 4999) + 1):
            envs.append(debtor_created(p, 1000000 + d))
            envs.append(invoice_issued(p, 1000000 + d, 1000000 + d))
        # Not published: risk reads them from event_log (catch-up), the
        # path a restart or a dropped message takes.
        p.commit(envs, publish=False)
    stackmod.wait_until(lambda: s.positions(tenant).get("risk") == p.seq, timeout=3600,
                        interval=1.0, what="100k debtors applied")
    caught = time.monotonic() - t0
    results["memory"]["catch_up_s"] = round(caught, 1)
    results["memory"]["catch_up_events_per_s"] = round(2 * n / caught)
    results["memory"]["after_catch_up"] = proc_status(pid)
    s.redis.flushall()
    t1 = time.monotonic()
    stackmod.wait_until(lambda: s.redis.exists("creance:risk:built"), timeout=600, interval=0.5,
                        what="rebuild")
    results["memory"]["rebuild_s"] = round(time.monotonic() - t1, 1)
    results["memory"]["after_rebuild"] = proc_status(pid)
    results["memory"]["redis_keys"] = s.redis.dbsize()
    results["memory"]["redis_used_mb"] = round(s.redis.info("memory")["used_memory"] / 1048576, 1)
    log("memory: %s" % json.dumps(results["memory"]))
    p.close()


def main():
    mode = sys.argv[1] if len(sys.argv) > 1 else "quick"
    cfg = dict(MODES[mode])
    for key in cfg:                      # e.g. BENCH_MEM_DEBTORS=100000
        env = os.environ.get("BENCH_" + key.upper())
        if env:
            cfg[key] = int(env)
    s = stackmod.Stack(build=os.environ.get("BUILD", "build-risk-rel"))
    s.env["CREANCE_LOG_LEVEL"] = "info"
    results = {"mode": mode}
    try:
        s.open()
        # BENCH_STEPS=backtest,latency,memory (default: all three).
        steps = os.environ.get("BENCH_STEPS", "backtest,latency,memory").split(",")
        if "backtest" in steps:
            step_backtest(s, cfg, results)
        # Only risk consumes from here on: the figures are risk's.
        for svc in ("reminders", "reporting"):
            s.stop(svc)
        if "latency" in steps:
            step_latency(s, cfg, results)
        if "memory" in steps:
            step_memory(s, cfg, results)
    finally:
        s.close()
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
