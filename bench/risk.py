#!/usr/bin/python3
"""Risk benchmarks (issue 4): event -> score latency and the highest rate
held, backtest figures, RSS with many debtors.

    make bench / make bench-quick           (the `risk` section of bench/bench.py)
    BUILD=build-bench /usr/bin/python3 bench/risk.py [quick|full]     (alone)

Alone it starts its own stack (tests/e2e/stack.py through benchlib:
PostgreSQL, Redis, broker and the services of $BUILD, a MODE=release build,
on free ports in a temp dir) and prints its figures as JSON.
BENCH_RISK_STEPS=backtest,latency,memory picks steps (default: all three);
BENCH_BT_DEBTORS, BENCH_MEM_DEBTORS, BENCH_RATES (comma list, events/s)
and BENCH_SECONDS (per step) override the mode's sizes. Within bench.py,
`latency` is the `risk` section (on the stack the ingest used, other
tenants); `backtest` and `memory` are not in bench.py's default sections
(minutes each): BENCH_STEPS=...,backtest,riskmem adds them.

1. latency: a producer writes InvoiceIssued events for 2,000 debtors into
   event_log and publishes them on the bus after commit, as intake does,
   at a steady rate. Each event's latency is the time from its
   publication to the first change of its debtor's Redis hash (keyspace
   notifications; risk writes the hash, with the new score, after
   committing). reminders and reporting are stopped: the figure is risk's.
   - at 2,000 events/s (target p99 <= 20 ms), then a step search over
     higher rates (quick 4k, 8k for 3 s; full 3k, 4k, 6k, 8k, 12k, 16k for
     5 s, the 2k step 20 s), stopping at the first rate not held (when it
     is the first, one more step at half of it says where it lies). A rate
     is held when p99 <= 100 ms, the producer reached 90 % of it (else
     the figure would be the producer's limit, and the table says so) and
     risk applied the last event within 1 s of the producer stopping.
   - baseline, same run, same rate, events of the same kind: the floor
     of that path without risk, i.e. the events published on a topic risk
     does not read and turned into a Redis write by a Python subscriber
     (bus hop, decode, HSET, notification; no PostgreSQL, no scoring).
   The service's own histogram creance_risk_event_to_cache_seconds is
   kept in the JSON beside it.
2. backtest: creance-feedsim sends a deterministic history (full 2,000
   debtors, quick 500; 12 months ending 2025-06-30) through intake;
   creance-backtest replays it and prints AUC ("paid late") and MAE
   (payment date) beside the naive baseline.
3. memory: 100,000 debtors (quick 20,000; DebtorCreated + InvoiceIssued
   each) written to event_log at once; risk catches up; its VmRSS / VmHWM
   after catching up and after a FLUSHALL and rebuild of the hashes.
"""
import json
import os
import subprocess
import sys
import threading
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib  # noqa: E402  (puts gen/py and tests/e2e on sys.path)
from benchlib import percentile, proc_status, stackmod  # noqa: E402

import psycopg2.extras  # noqa: E402
import redis  # noqa: E402
import zmq  # noqa: E402

import creance_pb2 as pb  # noqa: E402

MODES = {
    "quick": {"bt_debtors": 500, "rates": [2000, 4000, 8000], "seconds_2k": 3, "seconds": 3,
              "mem_debtors": 20000},
    "full": {"bt_debtors": 2000, "rates": [2000, 3000, 4000, 6000, 8000, 12000, 16000],
             "seconds_2k": 20, "seconds": 5, "mem_debtors": 100000},
}
END = "2025-06-30"
N_DEBTORS = 2000
HELD_P99_MS = 100.0
TARGET_2K_P99_MS = 20.0


def log(msg):
    benchlib.log(msg, "bench risk")


def config(mode):
    cfg = dict(MODES[mode])
    for key in ("bt_debtors", "mem_debtors", "seconds"):     # e.g. BENCH_MEM_DEBTORS=100000
        env = os.environ.get("BENCH_" + key.upper())
        if env:
            cfg[key] = int(env)
            if key == "seconds":
                cfg["seconds_2k"] = int(env)
    if os.environ.get("BENCH_RATES"):
        cfg["rates"] = [int(r) for r in os.environ["BENCH_RATES"].split(",") if r]
    return cfg


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

    def envelope(self, seq=None, **event):
        """The next envelope of the ledger stream; seq=0 for one that is
        never written to event_log (the floor's)."""
        if seq is None:
            self.seq += 1
            seq = self.seq
        return pb.Envelope(tenant=self.tenant, stream="ledger", seq=seq,
                           event_id=str(uuid.uuid4()), occurred_at_us=int(time.time() * 1e6),
                           producer="bench", **event)

    def commit(self, envs, publish=True):
        with self.db, self.db.cursor() as cur:
            psycopg2.extras.execute_values(
                cur, "INSERT INTO event_log (tenant, stream, seq, event_id, event_type, occurred_at, "
                "producer, envelope) VALUES %s",
                [(e.tenant, "ledger", e.seq, e.event_id, e.WhichOneof("event"),
                  psycopg2.extensions.AsIs("now()"), "bench", psycopg2.Binary(e.SerializeToString()))
                 for e in envs], page_size=1000)
            cur.execute("UPDATE streams SET last_seq = %s WHERE tenant = %s AND stream = 'ledger'",
                        (self.seq, self.tenant))
        if publish:
            self.publish(envs)

    def publish(self, envs, stream="ledger"):
        topic = ("%s/%s" % (stream, self.tenant)).encode()
        for e in envs:
            self.pub.send_multipart([topic, e.SerializeToString()])

    def close(self):
        self.pub.close()
        self.db.close()


def debtor_created(p, debtor_id):
    return p.envelope(debtor_created=pb.DebtorCreated(
        debtor_id=debtor_id, external_id="D%d" % debtor_id, legal_name="Bench %d" % debtor_id,
        credit_limit=pb.Money(minor=10000000, currency="EUR")))


def invoice_issued(p, invoice_id, debtor_id, seq=None):
    """Due on the 1st of a month of 2025: overdue, so the time-dependent
    factors are exercised too."""
    return p.envelope(seq=seq, invoice_issued=pb.InvoiceIssued(
        invoice_id=invoice_id, debtor_id=debtor_id, external_id="I%d" % invoice_id,
        number="F-%d" % invoice_id, issue_date=pb.Date(year=2025, month=1, day=1),
        due_date=pb.Date(year=2025, month=1 + invoice_id % 12, day=1),
        amount=pb.Money(minor=10000 + invoice_id % 997, currency="EUR"), terms_days=30))


# ---------------------------------------------------------------- latency

class LatencyProbe:
    """One tenant with N_DEBTORS debtors known to risk, a listener of the
    tenant's Redis keyspace, and runs at a given rate (risk or floor)."""

    def __init__(self, s):
        self.s = s
        self.tenant = s.make_tenant("lat").id
        self.p = Producer(s, self.tenant)
        self.invoice = 0
        self.debtor = 0
        # The debtors first, untimed.
        self.p.commit([debtor_created(self.p, d) for d in range(1, N_DEBTORS + 1)])
        stackmod.wait_until(lambda: s.positions(self.tenant).get("risk") == self.p.seq,
                            timeout=600, what="debtors applied")
        s.redis.config_set("notify-keyspace-events", "Kh")
        self.sub = redis.Redis(host="127.0.0.1", port=s.redis_port)
        self.ps = self.sub.pubsub(ignore_subscribe_messages=True)
        self.prefix = "__keyspace@0__:creance:{%s:" % self.tenant
        self.ps.psubscribe(self.prefix + "*")
        self.published = {}              # debtor -> first pending publication (monotonic)
        self.latencies = []
        self.lock = threading.Lock()
        self.stop_ev = threading.Event()
        self.th = threading.Thread(target=self._listen, daemon=True)
        self.th.start()
        time.sleep(0.3)

    def _listen(self):
        while not self.stop_ev.is_set():
            m = self.ps.get_message(timeout=0.1)
            if not m:
                continue
            now = time.monotonic()
            debtor = int(m["channel"].decode()[len(self.prefix):].split("}")[0])
            with self.lock:
                t = self.published.pop(debtor, None)
                if t is not None:
                    self.latencies.append(now - t)

    def _floor_relay(self, stop, ready):
        """The floor's consumer: receives the floor topic, decodes, writes
        what it has received in one Redis pipeline (a service batches too).
        `ready` is set when the first message arrives: the subscription
        has reached the publisher."""
        sock = self.s.zsocket(zmq.SUB)
        sock.setsockopt(zmq.SUBSCRIBE, ("floor/%s" % self.tenant).encode())
        sock.setsockopt(zmq.RCVTIMEO, 100)
        sock.connect(self.s.env["CREANCE_BROKER_SUB"])
        r = redis.Redis(host="127.0.0.1", port=self.s.redis_port)
        try:
            while not stop.is_set():
                try:
                    msgs = [sock.recv_multipart()]
                except zmq.Again:
                    continue
                ready.set()
                while len(msgs) < 1000:
                    try:
                        msgs.append(sock.recv_multipart(zmq.NOBLOCK))
                    except zmq.Again:
                        break
                pipe = r.pipeline(transaction=False)
                for _, body in msgs:
                    e = pb.Envelope.FromString(body)
                    pipe.hset("creance:{%s:%d}:floor" % (self.tenant, e.invoice_issued.debtor_id),
                              "invoice", e.invoice_issued.invoice_id)
                pipe.execute()
        finally:
            sock.close()
            r.close()

    def run(self, rate, seconds, floor=False):
        """Publishes `rate` events/s for `seconds`; returns the figures."""
        s, p = self.s, self.p
        with self.lock:
            self.published.clear()
            self.latencies = []
        relay_stop, relay = threading.Event(), None
        if floor:
            ready = threading.Event()
            relay = threading.Thread(target=self._floor_relay, args=(relay_stop, ready), daemon=True)
            relay.start()
            # Warm-up envelopes (debtor 0, not measured) until one arrives.
            deadline = time.monotonic() + 30
            while not ready.wait(0.05):
                if time.monotonic() > deadline:
                    raise RuntimeError("the floor's subscriber received nothing in 30 s")
                p.publish([invoice_issued(p, 0, 0, seq=0)], stream="floor")
            time.sleep(0.2)
        else:
            before = histogram(s, "creance_risk_event_to_cache_seconds")
        tick = 0.01
        per_tick = max(1, int(rate * tick))
        t_start = time.monotonic()
        next_t = t_start
        sent = 0
        while time.monotonic() - t_start < seconds:
            envs, debtors = [], []
            for _ in range(per_tick):
                self.invoice += 1
                self.debtor = self.debtor % N_DEBTORS + 1
                envs.append(invoice_issued(p, self.invoice, self.debtor, seq=0 if floor else None))
                debtors.append(self.debtor)
            if not floor:
                p.commit(envs, publish=False)
            now = time.monotonic()
            with self.lock:
                for d in debtors:
                    self.published.setdefault(d, now)
            p.publish(envs, stream="floor" if floor else "ledger")
            sent += len(envs)
            next_t += tick
            delay = next_t - time.monotonic()
            if delay > 0:
                time.sleep(delay)
        elapsed = time.monotonic() - t_start
        t_end = time.monotonic()
        res = {"rate_asked": rate, "events": sent, "seconds": round(elapsed, 2),
               "rate": round(sent / elapsed)}
        if floor:
            time.sleep(1.0)
            relay_stop.set()
            relay.join()
        else:
            stackmod.wait_until(lambda: s.positions(self.tenant).get("risk") == p.seq, timeout=600,
                                interval=0.02, what="events applied")
            res["drain_s"] = round(time.monotonic() - t_end, 2)
            time.sleep(0.5)
            after = histogram(s, "creance_risk_event_to_cache_seconds")
            res["service_hist_p50_le_s"] = hist_quantile(before, after, 0.50)
            res["service_hist_p99_le_s"] = hist_quantile(before, after, 0.99)
        with self.lock:
            lat_ms = [x * 1000 for x in self.latencies]
            res["unanswered"] = len(self.published)
        res.update({"measured": len(lat_ms),
                    "p50_ms": round(percentile(lat_ms, 50), 2),
                    "p99_ms": round(percentile(lat_ms, 99), 2),
                    "max_ms": round(max(lat_ms), 2) if lat_ms else None})
        if not floor:
            res["producer_ok"] = sent / elapsed >= 0.9 * rate
            res["held"] = bool(lat_ms) and res["p99_ms"] <= HELD_P99_MS and res["producer_ok"] \
                and res["drain_s"] <= 1.0
        log("%s at %d/s: %s" % ("floor" if floor else "risk", rate, json.dumps(res)))
        return res

    def close(self):
        self.stop_ev.set()
        self.th.join()
        self.ps.close()
        self.sub.close()
        self.p.close()


def step_latency(s, cfg, results):
    """p50/p99 at 2,000 events/s and its floor, then the step search."""
    for svc in ("reminders", "reporting"):      # only risk consumes: the figures are risk's
        if s.running(svc):
            s.stop(svc)
    probe = LatencyProbe(s)
    try:
        out = {"debtors": N_DEBTORS, "steps": []}
        rates = cfg["rates"]
        log("floor: %d events/s for %d s, no risk on the path" % (rates[0], cfg["seconds_2k"]))
        out["floor"] = probe.run(rates[0], cfg["seconds_2k"], floor=True)
        held = None
        for i, rate in enumerate(rates):
            time.sleep(1.0)
            step = probe.run(rate, cfg["seconds_2k"] if i == 0 else cfg["seconds"])
            out["steps"].append(step)
            if not step["held"]:
                if i == 0 and rate > 1000:
                    # Not even the first rate: one step lower, to say where it lies.
                    time.sleep(1.0)
                    low = probe.run(rate // 2, cfg["seconds"])
                    out["steps"].append(low)
                    if low["held"]:
                        held = low
                break
            held = step
        out["at_first_rate"] = out["steps"][0]
        out["held"] = held
        results["latency"] = out
    finally:
        probe.close()


# ---------------------------------------------------------------- backtest, memory

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
    bt["debtors"] = cfg["bt_debtors"]
    bt["feed_events"] = events
    bt["feed_to_scored_s"] = round(caught, 1)
    bt["scored_debtors"] = s.scalar("SELECT count(*) FROM risk_debtor_profile WHERE tenant = %s "
                                    "AND score IS NOT NULL", (tenant,))
    bt["grades"] = dict(s.query("SELECT grade, count(*) FROM risk_debtor_profile WHERE tenant = %s "
                                "GROUP BY grade ORDER BY grade", (tenant,)))
    results["backtest"] = bt
    log("backtest: %s" % json.dumps(bt))


def step_memory(s, cfg, results):
    for svc in ("reminders", "reporting"):
        if s.running(svc):
            s.stop(svc)
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
                        interval=1.0, what="debtors applied")
    caught = time.monotonic() - t0
    m = results["memory"]
    m["catch_up_s"] = round(caught, 1)
    m["catch_up_events_per_s"] = round(2 * n / caught)
    m["after_catch_up"] = proc_status(pid)
    s.redis.flushall()
    t1 = time.monotonic()
    stackmod.wait_until(lambda: s.redis.exists("creance:{risk}:built"), timeout=600, interval=0.5,
                        what="rebuild")
    m["rebuild_s"] = round(time.monotonic() - t1, 1)
    m["after_rebuild"] = proc_status(pid)
    m["redis_keys"] = s.redis.dbsize()
    m["redis_used_mb"] = round(s.redis.info("memory")["used_memory"] / 1048576, 1)
    log("memory: %s" % json.dumps(m))
    p.close()


# ---------------------------------------------------------------- the table

def table_rows(r):
    """(measure, figure, baseline, ratio, target, met) rows for bench.py."""
    rows = []
    lat = r.get("latency")
    if lat:
        a, f = lat["at_first_rate"], lat["floor"]
        rows.append(("event to score in Redis at %d events/s, p50 / p99 ms (%d events, %d s)"
                     % (a["rate_asked"], a["events"], round(a["seconds"])),
                     "%.1f / %.1f" % (a["p50_ms"], a["p99_ms"]),
                     "floor %.1f / %.1f (bus + Redis, no risk)" % (f["p50_ms"], f["p99_ms"]),
                     "%.1fx" % (a["p99_ms"] / f["p99_ms"]) if f["p99_ms"] > 0 else "",
                     "p99 <= %.0f ms" % TARGET_2K_P99_MS,
                     "yes" if a["p99_ms"] <= TARGET_2K_P99_MS and a["producer_ok"] else "NO"))
        steps = ", ".join("%d: %.0f ms%s" % (st["rate_asked"], st["p99_ms"],
                                             "" if st["held"] else
                                             (" (producer reached %d/s)" % st["rate"]
                                              if not st["producer_ok"] else
                                              " (drain %.2f s)" % st["drain_s"]
                                              if st["drain_s"] > 1.0 else ""))
                          for st in lat["steps"])
        held = lat["held"]
        failed = [st["rate_asked"] for st in lat["steps"] if not st["held"]]
        if held is None:
            fig = "< %d" % min(failed)
        elif not failed:
            fig = ">= %d (highest step tried)" % held["rate_asked"]
        else:
            fig = "%d (%d not held)" % (held["rate_asked"], min(f for f in failed if f > held["rate_asked"]))
        rows.append(("highest rate held with p99 <= 100 ms, events/s (p99 per step: %s)" % steps,
                     fig, "", "", "", ""))
    bt = r.get("backtest")
    if bt:
        rows.append(("risk backtest (%d debtors): AUC paid late / MAE payment date, days"
                     % bt["debtors"], "%s / %s" % (bt.get("auc"), bt.get("mae_days")),
                     "naive %s / %s" % (bt.get("baseline_auc"), bt.get("baseline_mae_days")),
                     "", "", ""))
    m = r.get("memory")
    if m:
        rows.append(("risk after catching up %d debtors: VmHWM MB, catch-up events/s"
                     % m["debtors"], "%.1f, %d" % (m["after_rebuild"].get("VmHWM", 0),
                                                   m["catch_up_events_per_s"]),
                     "", "", "<= 64", "yes" if m["after_rebuild"].get("VmHWM", 0) <= 64 else "NO"))
    return rows


def main():
    mode = sys.argv[1] if len(sys.argv) > 1 else "quick"
    cfg = config(mode)
    s = benchlib.BenchStack()
    results = {"mode": mode}
    try:
        s.open()
        steps = os.environ.get("BENCH_RISK_STEPS", "backtest,latency,memory").split(",")
        if "backtest" in steps:
            step_backtest(s, cfg, results)
        if "latency" in steps:
            step_latency(s, cfg, results)
        if "memory" in steps:
            step_memory(s, cfg, results)
    finally:
        s.close()
    print(json.dumps(results, indent=2))
    for row in table_rows(results):
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
