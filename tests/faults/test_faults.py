"""Faults under load: one long stream of ledger events through intake while
every part of the system is broken on purpose, in turn; then everything must
add up exactly.

The stream (the module fixture `run`): a few hundred debtors, then batches of
invoices with payments allocated to them (each batch is self-contained, so a
resent batch never depends on another one). A sender thread keeps several
batches in flight, as a billing system would, and resends a batch whose
reply was lost (intake killed, connection dropped, no reply in time) or
refused (database unavailable) with the same batch id and the same items.
While it flows, in this order:

  1. SIGKILL intake, risk, reminders (while an e-mail is being handed to the
     SMTP server), reporting, the broker; each is started again;
  2. Redis FLUSHALL; then Redis killed, 5 s without it, started again empty;
  3. PostgreSQL stopped (fast shutdown) and started again on the same port
     and data directory; a batch sent during the outage is refused, and
     recorded once when sent again afterwards;
  4. reporting frozen (SIGSTOP) while a burst is published, with the
     broker's high-water mark lowered (CREANCE_BROKER_HWM): the broker drops
     what reporting cannot take; after SIGCONT it catches up from event_log.

The tests below then check the end state against the replies the sender got
and against full recomputations over the ledger tables. Nothing here asserts
on wall-clock time: waits are bounded, never measured.

Size: FAULTS_BATCHES batches of FAULTS_BATCH_ITEMS items (defaults below:
at least 100,000 ledger events); smaller values make a quick local run.
"""

import collections
import datetime
import json
import os
import random
import re
import signal
import threading
import time

import pytest
import zmq
from zmq.utils.monitor import recv_monitor_message

import creance_pb2 as pb
import stack as stackmod
from reminders_peers import SmtpSink
from stack import date_pb, debtor_item, invoice_item, money, payment_item, wait_until

# ---------------------------------------------------------------- sizes

DEBTORS = int(os.environ.get("FAULTS_DEBTORS", "300"))
BATCHES = int(os.environ.get("FAULTS_BATCHES", "420"))
BATCH_ITEMS = int(os.environ.get("FAULTS_BATCH_ITEMS", "200"))
# A quarter of the invoices come with a payment in the same batch: an
# invoice is one event (InvoiceIssued), a payment two (PaymentReceived,
# PaymentAllocated), so a batch of 200 items is 200 * 5/4 = 250 events.
PAY_EVERY = 4
# Batches published while reporting is frozen.
# Batches published while reporting is frozen (28,800 ledger events): about
# twice what the kernel's socket buffers and the broker's queue held for it
# in our runs (9,000 to 14,000 messages), so that the broker has to drop a
# good part of them.
SLOW_BATCHES = int(os.environ.get("FAULTS_SLOW_BATCHES", "120"))
# Enough events to call it a stream of 100k when run at full size.
MIN_EVENTS = int(os.environ.get("FAULTS_MIN_EVENTS", "100000"))
BROKER_HWM = 500
SEED = 20250303

# The dunning calendar: a Monday morning in Paris, so that no quiet hour,
# week-end or holiday holds the e-mails back whatever the real date is.
TODAY = datetime.date(2025, 3, 3)
NOW_UTC = "2025-03-03T09:30:00Z"
SOURCE = "faults"

CONSUMER_STREAMS = {"risk": ("ledger",), "reporting": ("ledger",), "reminders": ("ledger", "risk")}
KILLED = ("intake", "risk", "reminders", "reporting", "broker")


# ---------------------------------------------------------------- the stream

def debtor_ext(i):
    return "D%04d" % i


def make_debtors(tenant_id):
    items = [debtor_item(debtor_ext(i), "Débiteur %d SARL" % i, time_zone="Europe/Paris",
                         email="d%04d@%s.example.test" % (i, tenant_id)) for i in range(DEBTORS)]
    return [items[k:k + 200] for k in range(0, len(items), 200)]


def make_batch(j):
    """Batch j: invoices due around TODAY (first reminder levels, by
    e-mail) and every PAY_EVERY-th invoice paid (fully or in part) in the
    same batch. Deterministic in j."""
    rng = random.Random(SEED * 100003 + j)
    items = []
    n_inv = BATCH_ITEMS * PAY_EVERY // (PAY_EVERY + 1)
    invoices = []
    for k in range(n_inv):
        due = TODAY + datetime.timedelta(days=rng.randrange(-9, 4))
        issue = due - datetime.timedelta(days=30)
        amount = rng.randrange(1000, 500000)
        ext = "I%05d-%03d" % (j, k)
        # Debtors join the stream gradually, so that reminders has first
        # e-mails to send all along (one per debtor and day: contact rules).
        d = debtor_ext(rng.randrange(min(DEBTORS, 10 + j * DEBTORS * 4 // (3 * BATCHES))))
        items.append(invoice_item(ext, d, amount, issue=issue.isoformat(), due=due.isoformat()))
        invoices.append((ext, d, amount, issue))
    for k, (ext, d, amount, issue) in enumerate(invoices):
        if k % PAY_EVERY or len(items) >= BATCH_ITEMS:
            continue
        paid = amount if rng.random() < 0.6 else amount // 2
        received = min(TODAY, issue + datetime.timedelta(days=rng.randrange(0, 40)))
        items.append(payment_item("P" + ext[1:], d, paid, received=received.isoformat(),
                                  invoices=[ext]))
    return items


def item_key(item):
    kind = item.WhichOneof("fact")
    return kind, getattr(item, kind).external_id


class Sender(threading.Thread):
    """Sends batches over one DEALER socket, `window` in flight, and resends
    a batch (same id, same items) when its reply is lost or refused:
    - the connection to intake dropped and came back (socket monitor);
    - no reply within `timeout` seconds;
    - the reply refuses the whole batch (e.g. database unavailable).
    Every reply is kept: an item may be ACCEPTED at most once over all of
    them, DUPLICATE otherwise."""

    def __init__(self, stack, tenant_id, batches, window=6, timeout=15.0):
        super().__init__(daemon=True)
        self.stack = stack
        self.endpoint = stack.env["CREANCE_INTAKE_ENDPOINT"]
        self.tenant_id = tenant_id
        self.batches = batches             # [[IntakeItem]]
        self.window = window
        self.timeout = timeout
        self.lock = threading.Lock()
        self.allowed = len(batches)        # batches that may be started
        self.started = 0
        self.inflight = {}                 # index -> time sent
        self.retry = {}                    # index -> not before
        self.done = set()
        self.accepted = collections.Counter()       # (batch, item) -> ACCEPTED replies
        self.statuses = collections.defaultdict(set)
        self.ids = collections.defaultdict(set)
        self.rejected = []
        self.refusals = []                 # (batch index, error)
        self.resends = collections.Counter()  # reason -> batches resent
        self.replies = 0
        self.stop_flag = False
        self.error = None

    def batch_id(self, i):
        return "faults-%06d" % i

    # -- control from the test's thread
    def pause(self):
        with self.lock:
            self.allowed = self.started

    def allow(self, k):
        """Batches up to k may be started (never fewer than already allowed)."""
        with self.lock:
            self.allowed = max(self.allowed, min(len(self.batches), k))

    def resume(self, n=None):
        with self.lock:
            self.allowed = len(self.batches) if n is None else min(len(self.batches), self.started + n)

    def idle(self):
        with self.lock:
            return not self.inflight and not self.retry and self.started >= self.allowed

    def completed(self):
        with self.lock:
            return len(self.done)

    def finished(self):
        with self.lock:
            return len(self.done) == len(self.batches)

    # -- the thread
    def run(self):
        try:
            self._run()
        except BaseException as e:  # noqa: BLE001 - reported by the test
            self.error = e

    def _send(self, sock, i, reason=None):
        b = pb.IntakeBatch(tenant=self.tenant_id, source=SOURCE, batch_id=self.batch_id(i))
        b.items.extend(self.batches[i])
        sock.send_multipart([b"", b.SerializeToString()])
        self.inflight[i] = time.monotonic()
        self.retry.pop(i, None)
        if reason:
            self.resends[reason] += 1

    def _run(self):
        # The stack's client socket: a CURVE client when the stack runs CURVE.
        if hasattr(self.stack, "zsocket"):
            sock = self.stack.zsocket(zmq.DEALER)
        else:
            sock = zmq.Context.instance().socket(zmq.DEALER)
        sock.setsockopt(zmq.LINGER, 0)
        sock.setsockopt(zmq.SNDHWM, 0)
        sock.setsockopt(zmq.RCVHWM, 0)
        mon = sock.get_monitor_socket(zmq.EVENT_CONNECTED | zmq.EVENT_DISCONNECTED)
        sock.connect(self.endpoint)
        poller = zmq.Poller()
        poller.register(sock, zmq.POLLIN)
        poller.register(mon, zmq.POLLIN)
        index = {self.batch_id(i): i for i in range(len(self.batches))}
        disconnected = False
        try:
            while not self.stop_flag:
                now = time.monotonic()
                with self.lock:
                    if len(self.done) == len(self.batches):
                        return
                    for i, t in list(self.retry.items()):
                        if t <= now and len(self.inflight) < self.window:
                            self._send(sock, i, "refused")
                    for i, t in list(self.inflight.items()):
                        if now - t > self.timeout:
                            self._send(sock, i, "timeout")
                    while (self.started < self.allowed and len(self.inflight) + len(self.retry) < self.window):
                        self._send(sock, self.started)
                        self.started += 1
                events = dict(poller.poll(100))
                if mon in events:
                    ev = recv_monitor_message(mon)
                    if ev["event"] == zmq.EVENT_DISCONNECTED:
                        disconnected = True
                    elif ev["event"] == zmq.EVENT_CONNECTED and disconnected:
                        # What was in flight on the old connection is lost
                        # with it (or answered: then a DUPLICATE comes back).
                        disconnected = False
                        with self.lock:
                            for i in list(self.inflight):
                                self._send(sock, i, "reconnect")
                if sock in events:
                    frames = sock.recv_multipart()
                    reply = pb.IntakeReply()
                    reply.ParseFromString(frames[-1])
                    self._take(index.get(reply.batch_id), reply)
        finally:
            sock.disable_monitor()
            mon.close()
            sock.close()

    def _take(self, i, reply):
        assert i is not None, "reply for an unknown batch: %r" % reply.batch_id
        with self.lock:
            self.replies += 1
            if reply.error:
                self.refusals.append((i, reply.error))
                if i not in self.done:
                    self.inflight.pop(i, None)
                    self.retry[i] = time.monotonic() + 0.5
                return
            for r in reply.results:
                key = (i, r.index)
                self.statuses[key].add(r.status)
                if r.status == pb.ACCEPTED:
                    self.accepted[key] += 1
                elif r.status == pb.REJECTED:
                    self.rejected.append((i, r.index, r.field, r.reason))
                if r.status in (pb.ACCEPTED, pb.DUPLICATE):
                    self.ids[key].add(r.id)
            if len(reply.results) == len(self.batches[i]):
                self.done.add(i)
                self.inflight.pop(i, None)
                self.retry.pop(i, None)


# ---------------------------------------------------------------- helpers

def send_all_ok(stack, tenant_id, items, batch_id):
    b = pb.IntakeBatch(tenant=tenant_id, source=SOURCE, batch_id=batch_id)
    b.items.extend(items)
    reply = stack.intake(b, timeout=60)
    assert reply.error == "" and all(r.status in (pb.ACCEPTED, pb.DUPLICATE)
                                     for r in reply.results), reply
    return reply


def ledger_last(stack):
    return {(t, s): n for t, s, n in stack.query("SELECT tenant, stream, last_seq FROM streams")}


def all_caught_up(stack, consumers=tuple(CONSUMER_STREAMS)):
    """Every consumer at streams.last_seq on every (tenant, stream) it reads:
    the streams above, and any other it has a position on."""
    last = ledger_last(stack)
    pos = {(c, t, s): n for c, t, s, n in stack.query(
        "SELECT consumer, tenant, stream, last_applied FROM consumer_positions")}
    reads = {(c, s) for c in consumers for s in CONSUMER_STREAMS[c]}
    reads |= {(c, s) for (c, t, s) in pos if c in consumers}
    return all(pos.get((c, t, s)) == n for (t, s), n in last.items()
               for c in consumers if (c, s) in reads)


def consumer_metric(stack, svc, name):
    return stack.metric(svc, name, {"consumer": svc})


# How long a risk query may wait for its answer. A consumer applies a
# backlog one page (1,000 events) per turn of its loop and answers queries
# in between (common/consumer.c), so a query waits for at most a page, not
# for the whole backlog: this is a liveness bound with a wide margin for a
# loaded machine, not a speed target (the longest wait is printed).
RISK_QUERY_TIMEOUT = float(os.environ.get("FAULTS_RISK_QUERY_TIMEOUT", "60"))


risk_wait = []


def risk_answers(stack, tenant_id, debtor_ids):
    """Risk's answers for some debtors; each must be found, without error."""
    out = []
    for d in debtor_ids:
        t = time.monotonic()
        reply = stack.risk_query(pb.Query(get_debtor_risk=pb.GetDebtorRisk(tenant=tenant_id, debtor_id=d)),
                                 timeout=RISK_QUERY_TIMEOUT)
        dr = reply.debtor_risk
        risk_wait.append(time.monotonic() - t)     # reported, not asserted
        out.append((d, reply.WhichOneof("reply"), dr.found, dr.error, dr.outstanding.minor,
                    dr.outstanding.currency))
    return out


# ---------------------------------------------------------------- the run

@pytest.fixture(scope="module")
def stack():
    s = stackmod.Stack()
    # One debug line per event applied would cost more than the events.
    s.env["CREANCE_LOG_LEVEL"] = "info"
    s.service_env["broker"] = {"CREANCE_BROKER_HWM": str(BROKER_HWM)}
    s.service_env["reminders"] = {"CREANCE_TODAY": TODAY.isoformat(), "CREANCE_NOW_UTC": NOW_UTC,
                                  "CREANCE_REMINDERS_PASS_MS": "2000"}
    try:
        s.open()
        yield s
    finally:
        s.close()


@pytest.fixture(scope="module")
def run(stack):
    obs = {"t0": time.monotonic(), "pids": {}}
    smtp = SmtpSink(stack.smtp_port).start()
    obs["smtp"] = smtp
    tenant = stack.make_tenant("flt")
    obs["tenant"] = tenant
    # The tenant's own copy of the default ladder (e-mail at levels 1-3,
    # whatever grade risk gives), with a fee at level 2 so that fees are
    # decided too.
    stack.query_exec("INSERT INTO rem_policy_levels (tenant, grade, level, offset_days, channel, fallback,"
                     " template_key, tone, fee_minor) SELECT %s, NULL, level, offset_days, channel,"
                     " fallback, template_key, tone, CASE WHEN level = 2 THEN 4000 ELSE 0 END"
                     " FROM rem_policy_levels WHERE tenant IS NULL AND grade IS NULL", (tenant.id,))
    for k, chunk in enumerate(make_debtors(tenant.id)):
        send_all_ok(stack, tenant.id, chunk, "faults-debtors-%d" % k)
    debtor_ids = [r[0] for r in stack.query("SELECT id FROM debtors WHERE tenant = %s ORDER BY id LIMIT 5",
                                            (tenant.id,))]

    batches = [make_batch(j) for j in range(BATCHES)]
    obs["batches"] = batches
    sender = Sender(stack, tenant.id, batches)
    obs["sender"] = sender
    sender.pause()
    sender.start()

    def at(fraction, ahead=0.08):
        """Lets the sender go on to `fraction + ahead` of the stream and
        waits until `fraction` is recorded: each fault then meets a stream
        that is still flowing, however fast intake is."""
        sender.allow(int(BATCHES * (fraction + ahead)))
        target = int(BATCHES * fraction)
        wait_until(lambda: sender.error or sender.completed() >= target, timeout=900, interval=0.2,
                   what="%d batches of the stream recorded" % target)
        if sender.error:
            raise sender.error

    def restart(svc):
        # Intake and the broker are ready at once; a consumer says ready
        # (/healthz 200) only once caught up with its backlog, which the
        # stream goes on feeding: do not wait for that, the end of the run
        # waits for every position to reach last_seq.
        p = stack.start(svc, wait=svc in ("intake", "broker"))
        obs["pids"][svc] = p.pid

    # 1. Each service killed in turn, in the middle of the stream. Reminders
    # first: its e-mails go out as debtors appear; the SMTP server holds the
    # first one it sees (RCPT TO) while reminders is killed.
    smtp.rcpt_seen.clear()
    smtp.rcpt_delay = 3.0
    for n, svc in enumerate(("reminders", "intake", "risk", "reporting", "broker")):
        at(0.06 * n)
        if svc == "intake":
            # With batches in flight: their replies are lost with it.
            sender.allow(sender.completed() + 20)
            wait_until(lambda: sender.inflight, what="batches in flight")
            resends = sum(sender.resends.values())
            assert stack.kill("intake") == -signal.SIGKILL
            restart("intake")
            wait_until(lambda: sum(sender.resends.values()) > resends, what="the sender resending")
            obs["resends_after_intake_kill"] = sum(sender.resends.values()) - resends
        elif svc == "reminders":
            # In the middle of handing an e-mail to the SMTP server: the
            # server holds RCPT TO while reminders is killed.
            wait_until(lambda: smtp.rcpt_seen.is_set(), timeout=180,
                       what="reminders sending an e-mail")
            assert stack.kill("reminders") == -signal.SIGKILL
            smtp.rcpt_delay = 0.0
            obs["mails_before_reminders_kill"] = len(smtp.messages)
            restart("reminders")
        else:
            assert stack.kill(svc) == -signal.SIGKILL
            restart(svc)

    # 2. Redis flushed, then gone for at least 5 s and back empty. Risk
    # must answer from PostgreSQL meanwhile: Redis stays down until it has.
    at(0.36)
    stack.redis.flushall()
    obs["risk_after_flush"] = risk_answers(stack, tenant.id, debtor_ids)
    at(0.42)
    stack.stop_redis()
    done_before = sender.completed()
    deadline = time.monotonic() + 5.0
    answers = []
    while time.monotonic() < deadline or not answers:
        answers += risk_answers(stack, tenant.id, debtor_ids[:2])
        time.sleep(0.2)
    obs["risk_without_redis"] = answers
    # Intake does not need Redis: the stream went on.
    sender.allow(done_before + 10)
    wait_until(lambda: sender.completed() > done_before, timeout=120,
               what="batches recorded without Redis")
    obs["running_without_redis"] = {svc: stack.running(svc) for svc in stackmod.SERVICES}
    stack.start_redis_again()

    # 3. PostgreSQL restarted under the running services, with batches
    # arriving while it is down.
    at(0.50)
    probe = [debtor_item("PROBE-D", "Sonde SAS", email=""), invoice_item("PROBE-I", "PROBE-D", 12345,
                                                                        issue="2025-02-01", due="2025-03-03")]
    refusals = len(sender.refusals)
    assert stack.stop_postgres() == 0
    sender.allow(sender.completed() + 10)
    b = pb.IntakeBatch(tenant=tenant.id, source=SOURCE, batch_id="faults-probe")
    b.items.extend(probe)
    obs["probe_outage"] = stack.intake(b, timeout=60)
    wait_until(lambda: len(sender.refusals) > refusals, timeout=60, what="stream batches refused")
    time.sleep(2.0)
    obs["running_without_pg"] = {svc: stack.running(svc) for svc in stackmod.SERVICES}
    stack.start_postgres_again()
    wait_until(lambda: stack.healthz("intake")[0] == 200, timeout=120, what="intake healthy again")
    obs["probe_after"] = stack.intake(b, timeout=60)
    obs["probe_again"] = stack.intake(b, timeout=60)

    # 4. A slow consumer: reporting frozen while a burst goes through a
    # broker whose high-water mark is BROKER_HWM messages per subscriber.
    # The window is closed on both sides (sender idle, every consumer at
    # last_seq), so that reporting's counters and the streams' sequence
    # numbers over the window can be compared.
    at(0.60)
    sender.pause()
    wait_until(sender.idle, timeout=300, what="the sender idle")
    wait_until(lambda: all_caught_up(stack), timeout=900, interval=0.5,
               what="consumers caught up before the burst")

    def reporting_view():
        """(applied, duplicates, gaps) of reporting and the sum of last_seq
        over the streams reporting reads (ledger and whatever else it has a
        position on)."""
        reads = {"ledger"} | {s for (s,) in stack.query(
            "SELECT DISTINCT stream FROM consumer_positions WHERE consumer = 'reporting'")}
        return (consumer_metric(stack, "reporting", "creance_consumer_events_applied_total"),
                consumer_metric(stack, "reporting", "creance_consumer_duplicates_total"),
                consumer_metric(stack, "reporting", "creance_consumer_gaps_total"),
                sum(n for (t, s), n in ledger_last(stack).items() if s in reads))
    v0 = reporting_view()
    ledger0 = sum(n for (t, s), n in ledger_last(stack).items() if s == "ledger")
    proc = stack.procs["reporting"]
    proc.send_signal(signal.SIGSTOP)
    try:
        sender.resume(SLOW_BATCHES)
        wait_until(sender.idle, timeout=600, what="the burst recorded")
        ledger1 = sum(n for (t, s), n in ledger_last(stack).items() if s == "ledger")
        offset = stack.log_size("reporting")
    finally:
        proc.send_signal(signal.SIGCONT)

    def settled():
        # Live messages still queued in reporting's socket are counted once
        # it has read them, and risk and reminders go on publishing while
        # they apply the burst: wait until nothing moves any more.
        if not all_caught_up(stack):
            return None
        a = reporting_view()
        time.sleep(1.5)
        b = reporting_view()
        return b if a == b and all_caught_up(stack) else None
    v1 = wait_until(settled, timeout=900, interval=0.5, what="reporting caught up and settled")
    log = stack.log_since("reporting", offset)
    from_log = sum(int(n) for n in re.findall(r"consumer=reporting (?:caught up|catching up) events=(\d+)", log))
    obs["slow"] = {"ledger_events": ledger1 - ledger0, "events": v1[3] - v0[3],
                   "applied": v1[0] - v0[0], "duplicates": v1[1] - v0[1], "gaps": v1[2] - v0[2],
                   "from_event_log": from_log, "on_the_wire": v1[0] - v0[0] - from_log}
    sender.resume()

    # The rest of the stream, then everything settles.
    wait_until(lambda: sender.error or sender.finished(), timeout=1800, interval=0.5,
               what="the whole stream recorded")
    if sender.error:
        raise sender.error
    sender.stop_flag = True
    sender.join(10)
    obs["stream_s"] = time.monotonic() - obs["t0"]
    wait_until(lambda: all_caught_up(stack), timeout=900, interval=0.5, what="consumers caught up at the end")

    def deliveries_done():
        return stack.scalar("SELECT count(*) FROM reminder_deliveries WHERE status IN ('pending', 'sending')"
                            " AND tenant = %s", (tenant.id,)) == 0
    # Reminders' passes after the catch-up decide what is left; then their
    # deliveries drain; then reminders is stopped (drained) so that nothing
    # moves while the sink is compared with the outbox.
    offset = stack.log_size("reminders")
    wait_until(lambda: stack.log_since("reminders", offset).count("dunning pass done") >= 2,
               timeout=600, what="two dunning passes after the catch-up")
    wait_until(deliveries_done, timeout=600, interval=0.5, what="deliveries drained")
    obs["reminders_exit"] = stack.stop("reminders")
    obs["total_s"] = time.monotonic() - obs["t0"]
    smtp.stop()
    yield obs
    stack.ensure_running()


# ---------------------------------------------------------------- the stream and intake

def test_stream_size_and_faults_exercised(stack, run):
    s = run["sender"]
    events = stack.scalar("SELECT count(*) FROM event_log WHERE tenant = %s AND stream = 'ledger'",
                          (run["tenant"].id,))
    print("\nfaults: %d batches, %d items, %d ledger events; stream %.0f s, total %.0f s; "
          "resends %s; refusals %d; slow consumer %s; longest risk query wait %.1f s"
          % (len(run["batches"]), sum(len(b) for b in run["batches"]), events, run["stream_s"],
             run["total_s"], dict(s.resends), len(s.refusals), run["slow"], max(risk_wait or [0])))
    assert events >= MIN_EVENTS, events
    assert s.rejected == [], s.rejected[:5]
    # Intake's kill lost replies and the sender resent them.
    assert run["resends_after_intake_kill"] > 0
    assert s.resends["reconnect"] + s.resends["timeout"] > 0, s.resends
    # PostgreSQL's outage refused whole batches, which were resent.
    assert s.refusals and all("unavailable" in e for _, e in s.refusals), s.refusals[:3]
    assert s.resends["refused"] >= len({i for i, _ in s.refusals}), (s.resends, len(s.refusals))


def test_every_item_recorded_exactly_once(stack, run):
    s, tid = run["sender"], run["tenant"].id
    never, twice, ids_differ = [], [], []
    for i, batch in enumerate(run["batches"]):
        for k in range(len(batch)):
            st = s.statuses.get((i, k), set())
            if not st or not st <= {pb.ACCEPTED, pb.DUPLICATE}:
                never.append((i, k, st))
            if s.accepted[(i, k)] > 1:
                twice.append((i, k))
            if len(s.ids[(i, k)]) != 1:
                ids_differ.append((i, k, s.ids[(i, k)]))
    assert never == [], never[:5]
    assert twice == [], twice[:5]
    assert ids_differ == [], ids_differ[:5]

    # The ledger holds each item once, with the id the replies gave.
    want = {"invoice": {}, "payment": {}}
    for i, batch in enumerate(run["batches"]):
        for k, item in enumerate(batch):
            kind, ext = item_key(item)
            want[kind][ext] = next(iter(s.ids[(i, k)]))
    for kind, table in (("invoice", "invoices"), ("payment", "payments")):
        got = dict(stack.query("SELECT external_id, id FROM %s WHERE tenant = %%s AND source = %%s "
                               "AND external_id NOT LIKE 'PROBE%%%%'" % table, (tid, SOURCE)))
        assert len(got) == len(want[kind]), (kind, len(got), len(want[kind]))
        assert got == want[kind], kind
    # One event per fact in event_log: a batch recorded twice would publish twice.
    counts = dict(stack.query("SELECT event_type, count(*) FROM event_log WHERE tenant = %s AND stream = 'ledger'"
                              " GROUP BY event_type", (tid,)))
    assert counts.get("InvoiceIssued") == len(want["invoice"]) + 1, counts      # + the probe
    assert counts.get("PaymentReceived") == len(want["payment"]), counts
    assert counts.get("PaymentAllocated") == len(want["payment"]), counts
    assert stack.scalar("SELECT count(*) FROM intake_items WHERE tenant = %s", (tid,)) == \
        len(want["invoice"]) + len(want["payment"]) + DEBTORS + 2
    # Sequence numbers: 1..last_seq, no hole, no repeat.
    assert stack.query("SELECT count(*), count(DISTINCT seq), min(seq), max(seq) FROM event_log "
                       "WHERE tenant = %s AND stream = 'ledger'", (tid,)) == \
        [(sum(counts.values()),) * 2 + (1, stack.last_seq(tid))]


@pytest.mark.parametrize("which", ["first", "middle", "last"])
def test_batch_sent_again_is_duplicate(stack, run, which):
    """A sender that lost a reply sends the batch again, even long after:
    every item comes back DUPLICATE with the id of the first recording, and
    nothing new is recorded."""
    i = {"first": 0, "middle": len(run["batches"]) // 2, "last": len(run["batches"]) - 1}[which]
    s, tid = run["sender"], run["tenant"].id
    events = stack.last_seq(tid)
    b = pb.IntakeBatch(tenant=tid, source=SOURCE, batch_id=s.batch_id(i))
    b.items.extend(run["batches"][i])
    reply = stack.intake(b, timeout=60)
    assert reply.error == "" and len(reply.results) == len(run["batches"][i]), reply.error
    assert {r.status for r in reply.results} == {pb.DUPLICATE}
    assert {r.index: {r.id} for r in reply.results} == \
        {k: s.ids[(i, k)] for k in range(len(run["batches"][i]))}
    assert stack.last_seq(tid) == events


def test_batch_refused_during_postgres_outage_recorded_once(stack, run):
    outage, after, again = run["probe_outage"], run["probe_after"], run["probe_again"]
    assert "unavailable" in outage.error and len(outage.results) == 0, outage
    assert outage.batch_id == "faults-probe"
    assert after.error == "" and [r.status for r in after.results] == [pb.ACCEPTED] * 2, after
    assert again.error == "" and [r.status for r in again.results] == [pb.DUPLICATE] * 2, again
    assert [r.id for r in again.results] == [r.id for r in after.results]
    tid = run["tenant"].id
    assert stack.query("SELECT id, amount_minor FROM invoices WHERE tenant = %s AND external_id = 'PROBE-I'",
                       (tid,)) == [(after.results[1].id, 12345)]
    # No service died while PostgreSQL was away.
    assert all(run["running_without_pg"].values()), run["running_without_pg"]


@pytest.mark.parametrize("svc", KILLED)
def test_killed_service_came_back_and_stayed_up(stack, run, svc):
    """Each service was SIGKILLed once and started again; the process
    started then is the one still running: no crash during the later
    faults (reminders was stopped cleanly at the end, on purpose)."""
    assert svc in run["pids"]
    if svc == "reminders":
        assert run["reminders_exit"] == 0
        return
    assert stack.running(svc) and stack.procs[svc].pid == run["pids"][svc], svc


# ---------------------------------------------------------------- consumers

@pytest.mark.parametrize("consumer", sorted(CONSUMER_STREAMS))
def test_consumer_position_at_last_seq(stack, run, consumer):
    tid = run["tenant"].id
    streams = set(CONSUMER_STREAMS[consumer]) | {s for (s,) in stack.query(
        "SELECT stream FROM consumer_positions WHERE consumer = %s AND tenant = %s", (consumer, tid))}
    for stream in sorted(streams):
        last = stack.last_seq(tid, stream)
        assert last and stack.positions(tid, stream).get(consumer) == last, (consumer, stream, last)


def test_risk_state_equals_recomputation(stack, run):
    tid = run["tenant"].id
    got = {(d, c): (o, n) for d, c, o, n in stack.query(
        "SELECT debtor_id, currency, outstanding_minor, open_invoices FROM risk_debtor_state "
        "WHERE tenant = %s AND (outstanding_minor <> 0 OR open_invoices <> 0)", (tid,))}
    want = {(d, c): (o, n) for d, c, o, n in stack.query(
        "SELECT debtor_id, currency, sum(open_minor)::bigint, count(*) FILTER (WHERE open_minor > 0) "
        "FROM invoices WHERE tenant = %s GROUP BY 1, 2 "
        "HAVING sum(open_minor) <> 0 OR count(*) FILTER (WHERE open_minor > 0) <> 0", (tid,))}
    assert len(want) > DEBTORS // 2
    assert got == want


def test_reporting_totals_equal_recomputation(stack, run):
    tid = run["tenant"].id
    got = stack.query("SELECT currency, invoiced_minor, collected_minor, outstanding_minor, invoice_count,"
                      " payment_count FROM rpt_totals WHERE tenant = %s ORDER BY 1", (tid,))
    want = stack.query(
        "SELECT i.currency, sum(i.amount_minor)::bigint,"
        " (SELECT coalesce(sum(amount_minor), 0)::bigint FROM payments p WHERE p.tenant = i.tenant"
        "   AND p.currency = i.currency),"
        " sum(i.open_minor)::bigint, count(*),"
        " (SELECT count(*) FROM payments p WHERE p.tenant = i.tenant AND p.currency = i.currency)"
        " FROM invoices i WHERE i.tenant = %s GROUP BY i.tenant, i.currency ORDER BY 1", (tid,))
    assert got == want


def test_reporting_kpis_and_aging_equal_recomputation(stack, run):
    from test_reporting_kpis import eur, ok, recompute
    tid = run["tenant"].id
    checked = 0
    for f, t in ((datetime.date(2025, 1, 1), TODAY), (datetime.date(2025, 2, 1), datetime.date(2025, 2, 28))):
        want = recompute(stack, tid, f, t)
        got = eur(ok(stack, run["tenant"].token, "/api/v1/kpis", **{"from": f.isoformat(), "to": t.isoformat()}))
        for key, v in want.items():
            assert got[key] == v, (f, t, key, got[key], v)
            checked += 1
    assert checked > 40


def test_reminders_open_items_equal_recomputation(stack, run):
    tid = run["tenant"].id
    got = stack.query("SELECT invoice_id, debtor_id, open_minor FROM rem_open_items "
                      "WHERE tenant = %s AND open_minor > 0 ORDER BY 1", (tid,))
    want = stack.query("SELECT id, debtor_id, open_minor FROM invoices WHERE tenant = %s AND open_minor > 0 "
                       "ORDER BY 1", (tid,))
    assert got == want


def test_no_reminder_or_fee_twice_and_one_mail_per_decision(stack, run):
    tid = run["tenant"].id
    assert stack.query("SELECT invoice_id, level FROM reminder_items WHERE tenant = %s "
                       "GROUP BY 1, 2 HAVING count(*) > 1", (tid,)) == []
    assert stack.query("SELECT invoice_id, level FROM reminder_fees WHERE tenant = %s "
                       "GROUP BY 1, 2 HAVING count(*) > 1", (tid,)) == []
    # Each fee belongs to a decision at its level, for its invoice.
    fees = stack.scalar("SELECT count(*) FROM reminder_fees WHERE tenant = %s", (tid,))
    assert fees > 0
    assert stack.scalar("SELECT count(*) FROM reminder_fees f JOIN reminder_items i ON i.tenant = f.tenant "
                        "AND i.reminder_id = f.reminder_id AND i.invoice_id = f.invoice_id AND i.level = f.level "
                        "WHERE f.tenant = %s", (tid,)) == fees

    sent = {m for (m,) in stack.query("SELECT provider_message_id FROM reminder_deliveries WHERE tenant = %s"
                                      " AND channel = 'email' AND status = 'sent'", (tid,))}
    decided = stack.scalar("SELECT count(*) FROM reminder_deliveries WHERE tenant = %s AND channel = 'email'",
                           (tid,))
    assert len(sent) > 0 and len(sent) == decided, (len(sent), decided)
    with run["smtp"].lock:
        mails = collections.Counter(m["message_id"] for m in run["smtp"].messages
                                    if any(tid in to for to in m["to"]))
    assert {k: n for k, n in mails.items() if n > 1} == {}
    assert set(mails) == sent


# ---------------------------------------------------------------- Redis

def test_risk_answered_without_redis(stack, run):
    for phase in ("risk_after_flush", "risk_without_redis"):
        answers = run[phase]
        assert answers, phase
        for d, kind, found, error, minor, cur in answers:
            assert (kind, found, error, cur) == ("debtor_risk", True, "", "EUR"), (phase, d, kind, error)
            assert minor > 0, (phase, d, minor)
    assert all(run["running_without_redis"].values()), run["running_without_redis"]


def test_redis_cache_equals_postgres(stack, run):
    tid = run["tenant"].id
    rows = stack.query("SELECT debtor_id, currency, outstanding_minor FROM risk_debtor_state WHERE tenant = %s",
                       (tid,))
    assert len(rows) >= DEBTORS // 2

    def mismatches():
        out = []
        for d, cur, minor in rows:
            v = stack.redis.hget("creance:{%s:%d}:debtor" % (tid, d), "outstanding:" + cur)
            if v is None or int(v) != minor:
                out.append((d, cur, minor, v))
        return out
    wait_until(lambda: not mismatches(), timeout=120, what="Redis equal to risk_debtor_state")


# ---------------------------------------------------------------- slow consumer

def test_slow_consumer_dropped_on_the_wire_and_caught_up(stack, run):
    s = run["slow"]
    # Reporting received on the wire only part of the burst: the broker
    # dropped the rest at its high-water mark...
    assert s["ledger_events"] >= SLOW_BATCHES * BATCH_ITEMS, s
    assert 0 <= s["on_the_wire"] < s["events"], s
    # ... and it read what it missed from event_log, then was exactly
    # at last_seq with totals equal to a recomputation (tests above).
    assert s["from_event_log"] + s["gaps"] > 0, s
    # The applied counter counts each event once, however it arrived (on
    # the wire, filled in after a gap, or read back by the catch-up), and
    # never a duplicate.
    assert s["applied"] == s["events"], s
    assert s["on_the_wire"] - s["duplicates"] + s["from_event_log"] <= s["events"], s
