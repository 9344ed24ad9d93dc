"""Reporting's collection KPIs end to end: payment-plan adherence and the
promise-kept rate (from intake's watcher events on stream "ledger"),
reminder effectiveness, contacts per debtor and the cost of collection
(from stream "reminders"). Every figure is worked out by hand below; the
incremental figures are checked against a recomputation from event_log and
the ledger tables after a random stream; tenants are kept apart.

Fixed point in the API: *_bp basis points (10000 = 100 %), *_x100
hundredths; rounded half away from zero."""

import datetime
import urllib.request
import urllib.error
import json
import random
import time
import uuid

import pytest

import creance_pb2 as pb

from stack import date_pb, debtor_item, invoice_item, money, payment_item, wait_until
from test_reporting_kpis import _round, api, caught_up, eur, ok, send_ok


def plan_item(ext, debtor, instalments, agreed, invoices=()):
    return pb.IntakeItem(payment_plan=pb.PaymentPlanFact(
        external_id=ext, debtor_external_id=debtor, invoice_external_ids=list(invoices),
        agreed_date=date_pb(agreed),
        instalments=[pb.Instalment(number=i + 1, due_date=date_pb(d), amount=money(a))
                     for i, (d, a) in enumerate(instalments)]))


def promise_item(ext, debtor, amount, on, invoices=()):
    return pb.IntakeItem(promise=pb.PromiseFact(external_id=ext, debtor_external_id=debtor,
                                                amount=money(amount), promised_date=date_pb(on),
                                                invoice_external_ids=list(invoices)))


def reversal_item(ext, payment_ext, on):
    return pb.IntakeItem(payment_reversal=pb.PaymentReversalFact(
        external_id=ext, payment_external_id=payment_ext, reversed_date=date_pb(on),
        reason="bounced"))


def ledger_events(stack, tid, event_type):
    return stack.scalar("SELECT count(*) FROM event_log WHERE tenant = %s AND stream = 'ledger' "
                        "AND event_type = %s", (tid, event_type))


# ---------------------------------------------------------------- plans and promises

def test_plan_adherence_and_promise_kept_rate(stack, tenant, other_tenant):
    """Two plans and two promises (EUR); intake's watcher judges them on
    the real date, long after every date below, as soon as payments arrive.

      plan L1 (debtor P, FR): 3 x 30000 due 02-10, 03-10, 04-10 (agreed 02-01)
        payments 30000 on 02-08 (covers #1 on time), 30000 on 03-20 (covers #2
        after its 3 days of grace: missed); #3 never covered: missed;
        two missed -> the plan defaults (in April)
      plan L2 (debtor P2, FR): 2 x 10000 due 02-15, 03-15
        payments 10000 on 02-10 and 10000 on 03-15: both on time; completed 03-15
      promises of debtor Q (DE): 20000 by 02-15 and 30000 by 03-15;
        one payment of 20000 on 02-14 keeps the first, not the second
    """
    send_ok(tenant, debtor_item("P", "Plan SARL"), debtor_item("P2", "Plan Deux SARL"),
            debtor_item("Q", "Promesse GmbH", country="DE"))
    send_ok(tenant,
            invoice_item("IP", "P", 90000, issue="2024-01-01", due="2024-01-31"),
            invoice_item("IP2", "P2", 20000, issue="2024-01-01", due="2024-01-31"),
            invoice_item("IQ", "Q", 50000, issue="2024-01-01", due="2024-01-31"))
    send_ok(tenant,
            plan_item("L1", "P", [("2024-02-10", 30000), ("2024-03-10", 30000),
                                  ("2024-04-10", 30000)], "2024-02-01", ["IP"]),
            plan_item("L2", "P2", [("2024-02-15", 10000), ("2024-03-15", 10000)],
                      "2024-02-01", ["IP2"]),
            promise_item("Q1", "Q", 20000, "2024-02-15", ["IQ"]),
            promise_item("Q2", "Q", 30000, "2024-03-15", ["IQ"]))
    send_ok(tenant,
            payment_item("YP1", "P", 30000, received="2024-02-08", invoices=["IP"]),
            payment_item("YP2", "P", 30000, received="2024-03-20", invoices=["IP"]),
            payment_item("YL1", "P2", 10000, received="2024-02-10", invoices=["IP2"]),
            payment_item("YL2", "P2", 10000, received="2024-03-15", invoices=["IP2"]),
            payment_item("YQ", "Q", 20000, received="2024-02-14", invoices=["IQ"]))
    wait_until(lambda: (ledger_events(stack, tenant.id, "InstalmentPaid"),
                        ledger_events(stack, tenant.id, "InstalmentMissed"),
                        ledger_events(stack, tenant.id, "PlanCompleted"),
                        ledger_events(stack, tenant.id, "PlanDefaulted"),
                        ledger_events(stack, tenant.id, "PromiseKept"),
                        ledger_events(stack, tenant.id, "PromiseBroken")) == (3, 2, 1, 1, 1, 1),
               timeout=30, what="the watcher's decisions")
    caught_up(stack, tenant)

    # January to March: instalments due 02-10 (paid), 03-10 (missed), 02-15
    # and 03-15 (paid): 3 of 4 on time; promises due 02-15 (kept), 03-15
    # (broken); L2 completed on 03-15, L1 defaulted in April (not yet).
    k = eur(ok(stack, tenant.token, "/api/v1/kpis", **{"from": "2024-01-01", "to": "2024-03-31"}))
    assert (k["instalments_paid_on_time"], k["instalments_missed"]) == (3, 1)
    assert (k["instalments_paid_on_time_minor"], k["instalments_missed_minor"]) == (50000, 30000)
    assert k["plan_adherence_bp"] == 7500
    assert (k["plans_completed"], k["plans_defaulted"]) == (1, 0)
    assert k["plan_completion_rate_bp"] == 10000
    assert (k["promises_kept"], k["promises_broken"]) == (1, 1)
    assert (k["promises_kept_minor"], k["promises_broken_minor"]) == (20000, 30000)
    assert k["promise_kept_rate_bp"] == 5000
    # 20000 / 50000 promised
    assert k["promise_kept_amount_rate_bp"] == 4000

    # January to April: also #3 of L1 (due 04-10, missed) and L1's default.
    k = eur(ok(stack, tenant.token, "/api/v1/kpis", **{"from": "2024-01-01", "to": "2024-04-30"}))
    assert (k["instalments_paid_on_time"], k["instalments_missed"]) == (3, 2)
    assert k["plan_adherence_bp"] == 6000
    assert (k["plans_completed"], k["plans_defaulted"]) == (1, 1)
    assert k["plan_completion_rate_bp"] == 5000

    # Only March: #2 of L1 missed, #2 of L2 paid; Q2 broken.
    k = eur(ok(stack, tenant.token, "/api/v1/kpis", **{"from": "2024-03-01", "to": "2024-03-31"}))
    assert (k["instalments_paid_on_time"], k["instalments_missed"], k["plan_adherence_bp"]) == (1, 1, 5000)
    assert (k["promises_kept"], k["promises_broken"], k["promise_kept_rate_bp"]) == (0, 1, 0)

    # Nothing fell due in May: no rate, not a zero.
    k = eur(ok(stack, tenant.token, "/api/v1/kpis", **{"from": "2024-05-01", "to": "2024-05-31"}))
    assert k["plan_adherence_bp"] is None and k["promise_kept_rate_bp"] is None

    # By country: plans are FR, promises DE.
    body = ok(stack, tenant.token, "/api/v1/kpis", segment="country",
              **{"from": "2024-01-01", "to": "2024-03-31"})
    fr, de = eur(body, segment="FR"), eur(body, segment="DE")
    assert (fr["plan_adherence_bp"], fr["promise_kept_rate_bp"]) == (7500, None)
    assert (de["plan_adherence_bp"], de["promise_kept_rate_bp"]) == (None, 5000)

    # The other tenant sees none of it.
    body = ok(stack, other_tenant.token, "/api/v1/kpis", **{"from": "2024-01-01", "to": "2024-04-30"})
    assert body["tenant"] == other_tenant.id and body["kpis"] == []


# ---------------------------------------------------------------- reminders

class StreamWriter:
    """Writes events on one of the tenant's streams as its producer would
    (event_log row and streams.last_seq in one transaction); reporting's
    consumer finds them on its catch-up tick."""

    def __init__(self, stack, tid, stream):
        self.stack, self.tid, self.stream = stack, tid, stream

    def write(self, kind, msg, occurred_us=None):
        now = occurred_us or int(time.time() * 1e6)
        with self.stack.db.cursor() as cur:
            cur.execute("INSERT INTO streams (tenant, stream, last_seq) VALUES (%s, %s, 1) "
                        "ON CONFLICT (tenant, stream) DO UPDATE SET last_seq = streams.last_seq + 1 "
                        "RETURNING last_seq", (self.tid, self.stream))
            seq = cur.fetchone()[0]
            env = pb.Envelope(tenant=self.tid, stream=self.stream, seq=seq,
                              event_id=str(uuid.uuid4()), occurred_at_us=now, producer=self.stream)
            getattr(env, kind).CopyFrom(msg)
            cur.execute("INSERT INTO event_log (tenant, stream, seq, event_id, event_type, occurred_at, "
                        "producer, envelope) VALUES (%s, %s, %s, %s, %s, now(), %s, %s)",
                        (self.tid, self.stream, seq, env.event_id, type(msg).__name__, self.stream,
                         env.SerializeToString()))


class ReminderStream(StreamWriter):
    """The "reminders" stream, as the reminders service writes it."""

    CH = {"email": pb.EMAIL, "sms": pb.SMS, "letter": pb.LETTER, "phone": pb.PHONE,
          "handoff": pb.HANDOFF}

    def __init__(self, stack, tid):
        super().__init__(stack, tid, "reminders")

    def _write(self, kind, msg):
        self.write(kind, msg)

    def scheduled(self, rid, debtor, invoices, level, channel):
        self._write("reminder_scheduled", pb.ReminderScheduled(
            reminder_id=rid, debtor_id=debtor, invoice_ids=list(invoices), level=level,
            channel=self.CH[channel], planned_date=date_pb("2024-01-01")))

    def sent(self, rid, debtor, level, channel, day):
        d = datetime.datetime.fromisoformat(day + "T09:30:00+00:00")
        self._write("reminder_sent", pb.ReminderSent(
            reminder_id=rid, debtor_id=debtor, level=level, channel=self.CH[channel],
            sent_at_us=int(d.timestamp() * 1e6)))


@pytest.fixture
def reminders_stopped(stack):
    """The reminders service would remind these 2024 invoices itself; the
    tests write the "reminders" stream by hand while it is stopped."""
    stack.stop("reminders")
    yield
    stack.start("reminders")


def reminders_caught_up(stack, tid):
    wait_until(lambda: stack.consumers_caught_up(tid, stream="reminders", consumers=("reporting",)),
               timeout=30, what="reporting caught up on stream reminders")


def costs(stack, token, method, path, body=None):
    """(status, JSON) of a call under /api/v1/channel-costs."""
    url = "http://%s/api/v1/channel-costs%s" % (stack.http_addr("reporting"), path)
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method,
                                 headers={"Authorization": "Bearer " + token})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def test_channel_costs_api(stack, tenant, other_tenant):
    """Every channel's effective price, a tenant's own price, its removal,
    and refusals that name the field and change nothing."""
    status, body = costs(stack, tenant.token, "GET", "")
    assert status == 200 and body["tenant"] == tenant.id
    assert [(c["channel"], c["cost_minor"], c["source"]) for c in body["costs"]] == [
        ("email", 5, "default"), ("sms", 10, "default"), ("letter", 150, "default"),
        ("phone", 400, "default"), ("handoff", 2500, "default"), ("unspecified", 0, "default")]
    assert costs(stack, tenant.token, "PUT", "/letter", {"cost_minor": 210})[1]["source"] == "tenant"
    assert costs(stack, tenant.token, "GET", "/letter")[1]["cost_minor"] == 210
    # Refusals: unknown channel, bad amounts, no channel, no token.
    for path, payload, status, field in [
            ("/fax", {"cost_minor": 1}, 404, "channel"),
            ("/letter", {"cost_minor": -1}, 400, "cost_minor"),
            ("/letter", {"cost_minor": 1.5}, 400, "cost_minor"),
            ("/letter", {"cost_minor": "12"}, 400, "cost_minor"),
            ("/letter", {"cost": 12}, 400, "cost_minor"),
            ("/letter", {"cost_minor": 100000001}, 400, "cost_minor"),
            ("", {"cost_minor": 1}, 405, "method")]:
        got = costs(stack, tenant.token, "PUT", path, payload)
        assert got[0] == status and got[1]["error"]["field"] == field, (path, payload, got)
    assert costs(stack, tenant.token, "GET", "/letter")[1]["cost_minor"] == 210
    # Tenant isolation: the other tenant still sees the default letter.
    assert costs(stack, other_tenant.token, "GET", "/letter")[1] == \
        {"tenant": other_tenant.id, "channel": "letter", "cost_minor": 150, "source": "default"}
    assert costs(stack, "not-a-token", "GET", "")[0] == 401
    assert costs(stack, tenant.token, "DELETE", "/letter")[1]["source"] == "default"


def lines(body):
    return {(r["by"], r["level"] if r["by"] == "level" else r["channel"]): r
            for r in body["lines"] if r["currency"] == "EUR"}


FEB = {"from": "2024-02-01", "to": "2024-02-29"}


def test_reminder_effectiveness_contacts_and_cost(stack, tenant, other_tenant, reminders_stopped):
    """Debtor R (FR): A 10000, B 20000, C 30000; debtor S (DE): E 40000; all
    due 2024-01-31.

      r1 level 1 email  about A, B, C  sent 02-01
      r2 level 2 letter about C        sent 02-20
      r3 level 0 sms    about nothing  sent 02-21 (an instalment reminder: a contact)
      r4 level 1, scheduled email, sent by sms (fallback) about E, sent 02-01
      r5 level 2 letter about E, scheduled, never sent: not counted

      A paid 02-05 (before the reminders are known to reporting: the other
      stream may lag), B paid 02-12, E paid 02-10, C paid 03-10.
      A: 4 days after r1; B: 11 days after r1; E: 9 days after r4;
      C: 38 days after r1, 18 after r2: neither.
    """
    r_id, s_id = send_ok(tenant, debtor_item("R", "Relance SARL"),
                         debtor_item("S", "Rappel GmbH", country="DE", kind=pb.CONSUMER))
    a, b, c, e = send_ok(tenant,
                         invoice_item("A", "R", 10000, issue="2024-01-01", due="2024-01-31"),
                         invoice_item("B", "R", 20000, issue="2024-01-01", due="2024-01-31"),
                         invoice_item("C", "R", 30000, issue="2024-01-01", due="2024-01-31"),
                         invoice_item("E", "S", 40000, issue="2024-01-01", due="2024-01-31"))
    send_ok(tenant, payment_item("YA", "R", 10000, received="2024-02-05", invoices=["A"]))
    caught_up(stack, tenant)

    rs = ReminderStream(stack, tenant.id)
    rs.scheduled(1, r_id, [a, b, c], 1, "email")
    rs.sent(1, r_id, 1, "email", "2024-02-01")
    rs.scheduled(2, r_id, [c], 2, "letter")
    rs.sent(2, r_id, 2, "letter", "2024-02-20")
    rs.scheduled(3, r_id, [], 0, "sms")
    rs.sent(3, r_id, 0, "sms", "2024-02-21")
    rs.scheduled(4, s_id, [e], 1, "email")
    rs.sent(4, s_id, 1, "sms", "2024-02-01")
    rs.scheduled(5, s_id, [e], 2, "letter")
    reminders_caught_up(stack, tenant.id)

    send_ok(tenant,
            payment_item("YB", "R", 20000, received="2024-02-12", invoices=["B"]),
            payment_item("YE", "S", 40000, received="2024-02-10", invoices=["E"]),
            payment_item("YC", "R", 30000, received="2024-03-10", invoices=["C"]))
    caught_up(stack, tenant)

    k = eur(ok(stack, tenant.token, "/api/v1/kpis", **FEB))
    # r1, r2, r3, r4 to two debtors: 4 / 2 = 2.00 contacts per debtor.
    assert (k["reminders_sent"], k["debtors_contacted"], k["contacts_per_debtor_x100"]) == (4, 2, 200)
    # Invoices reminded: A, B, C (r1), C (r2), E (r4) = 5; within 7 days: A;
    # within 14: A, B, E.
    assert (k["reminded_invoices"], k["reminded_paid_7d"], k["reminded_paid_14d"]) == (5, 1, 3)
    assert (k["reminder_paid_7d_rate_bp"], k["reminder_paid_14d_rate_bp"]) == (2000, 6000)
    # Default costs: email 5, letter 150, sms 10 + 10 = 175 cents; collected
    # in February A + B + E = 70000: 175 / 70000 = 0.25 %.
    assert k["collected_minor"] == 70000
    assert (k["collection_cost_minor"], k["cost_of_collection_bp"]) == (175, 25)

    body = ok(stack, tenant.token, "/api/v1/reminders", **FEB)
    got = lines(body)
    assert set(got) == {("level", 0), ("level", 1), ("level", 2),
                        ("channel", "email"), ("channel", "letter"), ("channel", "sms")}
    want = {
        # (sent, reminded, paid 7 d, paid 14 d, 7 d rate, 14 d rate, cost)
        ("level", 0): (1, 0, 0, 0, None, None, 10),
        ("level", 1): (2, 4, 1, 3, 2500, 7500, 15),         # r1 (A, B, C), r4 (E)
        ("level", 2): (1, 1, 0, 0, 0, 0, 150),              # r2 (C)
        ("channel", "email"): (1, 3, 1, 2, 3333, 6667, 5),  # r1: A, B of A, B, C
        ("channel", "letter"): (1, 1, 0, 0, 0, 0, 150),
        ("channel", "sms"): (2, 1, 0, 1, 0, 10000, 20),     # r3 (none), r4 (E, 9 days)
    }
    for key, (sent, n, p7, p14, r7, r14, cost) in want.items():
        g = got[key]
        assert (g["reminders_sent"], g["reminded_invoices"], g["paid_7d"], g["paid_14d"],
                g["paid_7d_rate_bp"], g["paid_14d_rate_bp"], g["cost_minor"]) == \
            (sent, n, p7, p14, r7, r14, cost), (key, g)

    # The tenant's own price of an e-mail (20 cents), set through the API,
    # replaces the default; the other tenant keeps the default.
    assert costs(stack, tenant.token, "PUT", "/email", {"cost_minor": 20}) == \
        (200, {"tenant": tenant.id, "channel": "email", "cost_minor": 20, "source": "tenant"})
    k = eur(ok(stack, tenant.token, "/api/v1/kpis", **FEB))
    # 190 / 70000 = 0.2714 % -> 27 bp
    assert (k["collection_cost_minor"], k["cost_of_collection_bp"]) == (190, 27)
    status, other = costs(stack, other_tenant.token, "GET", "")
    assert status == 200 and {"channel": "email", "cost_minor": 5, "source": "default"} in other["costs"]
    # Back to the default, and the KPI with it; then the tenant's price again.
    assert costs(stack, tenant.token, "DELETE", "/email")[1]["cost_minor"] == 5
    k = eur(ok(stack, tenant.token, "/api/v1/kpis", **FEB))
    assert (k["collection_cost_minor"], k["cost_of_collection_bp"]) == (175, 25)
    costs(stack, tenant.token, "PUT", "/email", {"cost_minor": 20})

    # By country: R is FR (r1, r2, r3), S is DE (r4).
    body = ok(stack, tenant.token, "/api/v1/kpis", segment="country", **FEB)
    fr, de = eur(body, segment="FR"), eur(body, segment="DE")
    assert (fr["reminders_sent"], fr["debtors_contacted"], fr["reminded_invoices"]) == (3, 1, 4)
    assert (de["reminders_sent"], de["debtors_contacted"], de["reminded_invoices"]) == (1, 1, 1)
    assert (de["reminded_paid_7d"], de["reminded_paid_14d"]) == (0, 1)

    # B's payment bounces: B is not paid any more, r1 loses it.
    send_ok(tenant, reversal_item("XB", "YB", "2024-02-25"))
    caught_up(stack, tenant)
    k = eur(ok(stack, tenant.token, "/api/v1/kpis", **FEB))
    assert (k["reminded_invoices"], k["reminded_paid_7d"], k["reminded_paid_14d"]) == (5, 1, 2)
    assert k["reminder_paid_14d_rate_bp"] == 4000

    # CSV: one line per level and channel.
    status, text = api(stack, tenant.token, "/api/v1/reminders.csv", **FEB)
    assert status == 200
    rows = text.strip().split("\r\n")
    assert rows[0].startswith("currency,by,level,channel,reminders_sent")
    assert len(rows) == 1 + 6

    # Tenant isolation: the other tenant's token sees no line, no token is refused.
    body = ok(stack, other_tenant.token, "/api/v1/reminders", **FEB)
    assert body["tenant"] == other_tenant.id and body["lines"] == []
    for token in ("", "ct_wrong"):
        status, _ = api(stack, token, "/api/v1/reminders")
        assert status == 401


# ---------------------------------------------------------------- recomputation

def recompute_collection(stack, tid, f, t):
    """Plan, promise and reminder KPIs (EUR) from the ledger tables and the
    "reminders" stream in event_log, by full scans."""
    q = stack.query
    ip, im, ipm, imm = q(
        "SELECT count(*) FILTER (WHERE i.status = 'paid'), count(*) FILTER (WHERE i.status = 'missed'),"
        " coalesce(sum(i.amount_minor) FILTER (WHERE i.status = 'paid'), 0),"
        " coalesce(sum(i.amount_minor) FILTER (WHERE i.status = 'missed'), 0)"
        " FROM plan_instalments i WHERE i.tenant = %s AND i.due_date BETWEEN %s AND %s",
        (tid, f, t))[0]
    pc, pd = q("SELECT count(*) FILTER (WHERE status = 'completed'),"
               " count(*) FILTER (WHERE status = 'defaulted') FROM payment_plans"
               " WHERE tenant = %s AND ended_date BETWEEN %s AND %s", (tid, f, t))[0]
    kept, broken, kept_m, broken_m = q(
        "SELECT count(*) FILTER (WHERE status = 'kept'), count(*) FILTER (WHERE status = 'broken'),"
        " coalesce(sum(amount_minor) FILTER (WHERE status = 'kept'), 0),"
        " coalesce(sum(amount_minor) FILTER (WHERE status = 'broken'), 0)"
        " FROM promises WHERE tenant = %s AND promised_date BETWEEN %s AND %s", (tid, f, t))[0]
    # Reminders: scheduled invoices, then the sent ones in the period.
    invoices, sent = {}, []
    for (data,) in q("SELECT envelope FROM event_log WHERE tenant = %s AND stream = 'reminders' "
                     "ORDER BY seq", (tid,)):
        env = pb.Envelope()
        env.ParseFromString(bytes(data))
        if env.HasField("reminder_scheduled"):
            invoices[env.reminder_scheduled.reminder_id] = list(env.reminder_scheduled.invoice_ids)
        elif env.HasField("reminder_sent"):
            s = env.reminder_sent
            day = datetime.datetime.fromtimestamp(s.sent_at_us / 1e6, datetime.timezone.utc).date()
            sent.append((s.reminder_id, s.debtor_id, s.channel, day))
    # Paid date of a fully paid invoice: the day of its last allocation
    # (none of the random stream's payments is reversed).
    paid = dict(q("SELECT i.id, max(greatest(p.received_date, i.issue_date)) FROM invoices i"
                  " JOIN allocations a ON a.tenant = i.tenant AND a.invoice_id = i.id"
                  " JOIN payments p ON p.tenant = a.tenant AND p.id = a.payment_id"
                  " WHERE i.tenant = %s AND i.open_minor = 0 GROUP BY i.id", (tid,)))
    cost = {pb.EMAIL: 5, pb.SMS: 10, pb.LETTER: 150, pb.PHONE: 400, pb.HANDOFF: 2500}
    n = p7 = p14 = total_cost = 0
    n_sent, debtors = 0, set()
    for rid, debtor, channel, day in sent:
        if not f <= day <= t:
            continue
        n_sent += 1
        debtors.add(debtor)
        total_cost += cost[channel]
        for inv in invoices.get(rid, []):
            pdate = paid.get(inv)
            if pdate is not None and pdate < day:
                continue
            n += 1
            if pdate is not None and (pdate - day).days <= 7:
                p7 += 1
            if pdate is not None and (pdate - day).days <= 14:
                p14 += 1
    collected = stack.scalar(
        "SELECT coalesce(sum(a.amount_minor), 0) FROM allocations a JOIN payments p "
        "ON p.tenant = a.tenant AND p.id = a.payment_id JOIN invoices i "
        "ON i.tenant = a.tenant AND i.id = a.invoice_id WHERE a.tenant = %s "
        "AND greatest(p.received_date, i.issue_date) BETWEEN %s AND %s", (tid, f, t))
    return {
        "instalments_paid_on_time": ip, "instalments_missed": im,
        "instalments_paid_on_time_minor": ipm, "instalments_missed_minor": imm,
        "plan_adherence_bp": _round(ip, ip + im, 10000),
        "plans_completed": pc, "plans_defaulted": pd,
        "plan_completion_rate_bp": _round(pc, pc + pd, 10000),
        "promises_kept": kept, "promises_broken": broken,
        "promises_kept_minor": kept_m, "promises_broken_minor": broken_m,
        "promise_kept_rate_bp": _round(kept, kept + broken, 10000),
        "promise_kept_amount_rate_bp": _round(kept_m, kept_m + broken_m, 10000),
        "reminders_sent": n_sent, "debtors_contacted": len(debtors),
        "contacts_per_debtor_x100": _round(n_sent, len(debtors), 100),
        "reminded_invoices": n, "reminded_paid_7d": p7, "reminded_paid_14d": p14,
        "reminder_paid_7d_rate_bp": _round(p7, n, 10000),
        "reminder_paid_14d_rate_bp": _round(p14, n, 10000),
        "collection_cost_minor": total_cost,
        "cost_of_collection_bp": _round(total_cost, collected, 10000),
    }


def test_collection_incremental_equals_recomputation(stack, tenant, reminders_stopped):
    """A random stream of invoices, plans, promises, reminders (some sent
    before, some after the payments they are credited with) and payments."""
    rng = random.Random(20240214)
    debtors = ["K%d" % i for i in range(6)]
    ids = send_ok(tenant, *[debtor_item(d, country=rng.choice(["FR", "DE"])) for d in debtors])
    debtor_id = dict(zip(debtors, ids))
    start = datetime.date(2024, 1, 1)
    inv, inv_of = [], {d: [] for d in debtors}
    for n in range(30):
        d = rng.choice(debtors)
        issue = start + datetime.timedelta(days=rng.randrange(0, 60))
        due = issue + datetime.timedelta(days=30)
        inv.append(invoice_item("KI%d" % n, d, rng.randrange(1, 50) * 1000,
                                issue=issue.isoformat(), due=due.isoformat()))
    inv_ids = send_ok(tenant, *inv)
    for n, it in enumerate(inv):
        inv_of[it.invoice.debtor_external_id].append((inv_ids[n], "KI%d" % n, it.invoice.amount.minor))
    facts = []
    for n, d in enumerate(debtors[:4]):
        first = start + datetime.timedelta(days=rng.randrange(35, 70))
        k = rng.randrange(2, 4)
        facts.append(plan_item("KL%d" % n, d, [((first + datetime.timedelta(days=30 * j)).isoformat(),
                                                rng.randrange(1, 10) * 1000) for j in range(k)],
                               (first - datetime.timedelta(days=10)).isoformat()))
    for n in range(6):
        d = rng.choice(debtors)
        facts.append(promise_item("KQ%d" % n, d, rng.randrange(1, 20) * 1000,
                                  (start + datetime.timedelta(days=rng.randrange(40, 90))).isoformat()))
    send_ok(tenant, *facts)

    rs = ReminderStream(stack, tenant.id)
    channels = ["email", "sms", "letter", "phone"]

    def remind(rid):
        d = rng.choice(debtors)
        named = [i for i, _, _ in rng.sample(inv_of[d], min(len(inv_of[d]), rng.randrange(0, 3)))]
        ch = rng.choice(channels)
        rs.scheduled(rid, debtor_id[d], named, rng.randrange(1, 4), ch)
        if rng.random() < 0.9:
            day = start + datetime.timedelta(days=rng.randrange(30, 100))
            rs.sent(rid, debtor_id[d], rng.randrange(1, 4), rng.choice(channels), day.isoformat())

    for rid in range(1, 21):
        remind(rid)
    # Payments that pay whole invoices (so that they become paid), one per
    # invoice for some of them, between the two halves of the reminders.
    pays = []
    for d in debtors:
        for iid, ext, amount in inv_of[d]:
            if rng.random() < 0.6:
                day = start + datetime.timedelta(days=rng.randrange(30, 110))
                pays.append(payment_item("KY" + ext, d, amount, received=day.isoformat(),
                                         invoices=[ext]))
    for i in range(0, len(pays), 8):
        send_ok(tenant, *pays[i:i + 8])
    for rid in range(21, 41):
        remind(rid)
    # The watcher decides plans and promises after the payments; wait
    # until no plan instalment or promise is left undecided.
    wait_until(lambda: stack.scalar("SELECT count(*) FROM plan_instalments WHERE tenant = %s "
                                    "AND status = 'due'", (tenant.id,)) == 0
               and stack.scalar("SELECT count(*) FROM promises WHERE tenant = %s AND status = 'open'",
                                (tenant.id,)) == 0, timeout=30, what="every outcome decided")
    caught_up(stack, tenant)
    reminders_caught_up(stack, tenant.id)

    checked = 0
    for f, t in ((datetime.date(2024, 1, 1), datetime.date(2024, 3, 31)),
                 (datetime.date(2024, 2, 10), datetime.date(2024, 4, 20)),
                 (datetime.date(2024, 1, 1), datetime.date(2024, 12, 31))):
        want = recompute_collection(stack, tenant.id, f, t)
        got = eur(ok(stack, tenant.token, "/api/v1/kpis", **{"from": f.isoformat(), "to": t.isoformat()}))
        for key, v in want.items():
            assert got[key] == v, (f, t, key, got[key], v)
            checked += 1
    assert checked > 60
    # The stream exercised what it should.
    whole = recompute_collection(stack, tenant.id, datetime.date(2024, 1, 1), datetime.date(2024, 12, 31))
    assert whole["instalments_paid_on_time"] > 0 and whole["instalments_missed"] > 0
    assert whole["promises_kept"] + whole["promises_broken"] == 6
    assert whole["reminded_paid_14d"] > 0 and whole["reminded_invoices"] > whole["reminded_paid_14d"]
