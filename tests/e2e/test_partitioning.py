"""Two instances of intake and of risk give what one of each gives.

The same random feed (debtors, invoices, full, partial, named and unnamed
payments, overpayments taken by a later invoice, credit notes, disputes,
promises, payment plans) goes
  (a) to the session stack: one intake, one risk (CREANCE_RISK_PARTITION 0/1);
  (b) to a stack of its own, split by creance_partition(tenant, debtor
      external id, 2) to two intakes (0/2 and 1/2) sending at once, with
      two risk instances (0/2 and 1/2).
Two stacks, because the risk tables are shared by whoever applies the
ledger: a single risk and a partitioned pair cannot run on one database.
The tenant id is the same in both, so every debtor has the same partition;
rows are compared by external ids (Créance ids depend on arrival order).

What depends on when a debtor was last rescored, not on its events, is
compared after a rescoring of every debtor with open invoices at the final
population (the daily pass, forced by a restart): the predictions (p_late,
expected delay) use the tenant's population as it stood at the rescoring,
and a single instance's batches move that moment too. Score history is
compared by the score and grade of its last row per debtor for the same
reason (how many rows a debtor gets depends on how its events were batched).
"""

import json
import random
import threading
import uuid

import pytest

import partition as part
import stack as stackmod
from stack import (date_pb, debtor_item, http_get, invoice_item, money, payment_item, pb,
                   wait_until)

N = 2
DEBTORS = 60
SEED = 20240611


# ---------------------------------------------------------------- the feed

def _feed(seed=SEED, debtors=DEBTORS):
    """[(debtor external id, item)], each debtor's items in their order,
    debtors interleaved at random."""
    rnd = random.Random(seed)
    per = []
    for d in range(debtors):
        dx = "D-%04d" % d
        items = []
        kw = {}
        if rnd.random() < 0.5:
            kw["credit_limit"] = money(rnd.choice((50000, 200000, 1000000)))
        items.append(debtor_item(dx, name="Debtor %d" % d, **kw))
        invoices = []
        for j in range(rnd.randint(1, 4)):
            ix = "I-%d-%d" % (d, j)
            month = 1 + j * 2 + rnd.randint(0, 1)
            issue = "2024-%02d-%02d" % (month, rnd.randint(1, 28))
            due = "2024-%02d-%02d" % (month + 1, rnd.randint(1, 28))
            amount = rnd.randint(10, 500) * 100
            items.append(invoice_item(ix, dx, amount, issue=issue, due=due))
            invoices.append((ix, amount, month))
        for k in range(rnd.randint(0, 5)):
            ix, amount, month = rnd.choice(invoices)
            px = "P-%d-%d" % (d, k)
            received = "2024-%02d-%02d" % (min(month + rnd.randint(0, 3), 12), rnd.randint(1, 28))
            what = rnd.random()
            if what < 0.3:      # the invoice in full, named
                items.append(payment_item(px, dx, amount, received=received, invoices=[ix]))
            elif what < 0.55:   # partial, oldest due first
                items.append(payment_item(px, dx, rnd.randint(1, amount // 100) * 50, received=received))
            elif what < 0.65:   # more than everything: unapplied credit
                items.append(payment_item(px, dx, 10 ** 6, received=received))
            elif what < 0.75:
                items.append(pb.IntakeItem(credit_note=pb.CreditNoteFact(
                    external_id="C-%d-%d" % (d, k), debtor_external_id=dx, invoice_external_id=ix,
                    number="AV-%d-%d" % (d, k), issue_date=date_pb(received),
                    amount=money(rnd.randint(1, 20) * 100))))
            elif what < 0.85:
                items.append(pb.IntakeItem(dispute=pb.DisputeFact(
                    external_id="S-%d-%d" % (d, k), invoice_external_id=ix, reason="quality",
                    opened_date=date_pb(received))))
            elif what < 0.93:
                items.append(pb.IntakeItem(promise=pb.PromiseFact(
                    external_id="R-%d-%d" % (d, k), debtor_external_id=dx,
                    amount=money(rnd.randint(1, 50) * 100), promised_date=date_pb("2031-03-%02d" % (k + 1)),
                    invoice_external_ids=[ix])))
            else:
                plan = pb.PaymentPlanFact(external_id="L-%d-%d" % (d, k), debtor_external_id=dx,
                                          invoice_external_ids=[ix], agreed_date=date_pb(received))
                for n in range(3):
                    plan.instalments.add(number=n + 1, due_date=date_pb("2031-%02d-01" % (n + 1)),
                                         amount=money(rnd.randint(1, 30) * 100))
                items.append(pb.IntakeItem(payment_plan=plan))
        if rnd.random() < 0.3:  # a late invoice that may take unapplied credit
            items.append(invoice_item("I-%d-late" % d, dx, rnd.randint(10, 300) * 100,
                                      issue="2024-11-02", due="2024-12-02"))
        per.append([(dx, it) for it in items])
    order = []
    cursors = [0] * len(per)
    live = [i for i in range(len(per))]
    while live:
        i = rnd.choice(live)
        order.append(per[i][cursors[i]])
        cursors[i] += 1
        if cursors[i] == len(per[i]):
            live.remove(i)
    return order


def _item_key(item):
    which = item.WhichOneof("fact")
    return "%s:%s" % (which, getattr(item, which).external_id)


def _send(stack_, endpoint, tenant, items, results, batch=40):
    for i in range(0, len(items), batch):
        b = pb.IntakeBatch(tenant=tenant, source="billing-e2e", batch_id=uuid.uuid4().hex)
        for _, it in items[i:i + batch]:
            b.items.append(it)
        reply = pb.IntakeReply()
        reply.ParseFromString(stack_._dealer_call(endpoint, b.SerializeToString(), 60))
        assert not reply.error, reply.error
        for r in reply.results:
            results[_item_key(b.items[r.index])] = (r.status, r.field, r.reason)


def _make_tenant(stack_, tid):
    stack_.query_exec("INSERT INTO tenants (id, name) VALUES (%s, %s)", (tid, "E2E " + tid))
    return stack_.make_token(tid)


# ---------------------------------------------------------------- what is compared

LEDGER = {
    "invoices": "SELECT i.external_id, d.external_id, i.amount_minor, i.open_minor, i.status, "
                "i.paid_date::text FROM invoices i JOIN debtors d ON d.tenant = i.tenant "
                "AND d.id = i.debtor_id WHERE i.tenant = %s ORDER BY 1",
    "payments": "SELECT p.external_id, d.external_id, p.amount_minor, p.unapplied_minor "
                "FROM payments p JOIN debtors d ON d.tenant = p.tenant AND d.id = p.debtor_id "
                "WHERE p.tenant = %s ORDER BY 1",
    "allocations": "SELECT p.external_id, i.external_id, sum(a.amount_minor) FROM allocations a "
                   "JOIN payments p ON p.tenant = a.tenant AND p.id = a.payment_id "
                   "JOIN invoices i ON i.tenant = a.tenant AND i.id = a.invoice_id "
                   "WHERE a.tenant = %s GROUP BY 1, 2 ORDER BY 1, 2",
    "credit_notes": "SELECT external_id, amount_minor, applied_minor, unapplied_minor FROM credit_notes "
                    "WHERE tenant = %s ORDER BY 1",
    "disputes": "SELECT external_id, amount_minor, resolved_date::text FROM disputes "
                "WHERE tenant = %s ORDER BY 1",
    "promises": "SELECT external_id, amount_minor, status FROM promises WHERE tenant = %s ORDER BY 1",
    "plans": "SELECT external_id, total_minor, status FROM payment_plans WHERE tenant = %s ORDER BY 1",
}

RISK = {
    "risk_debtor_state": "SELECT d.external_id, s.currency, s.outstanding_minor, s.open_invoices "
                         "FROM risk_debtor_state s JOIN debtors d ON d.tenant = s.tenant "
                         "AND d.id = s.debtor_id WHERE s.tenant = %s ORDER BY 1, 2",
    "risk_invoices": "SELECT i.external_id, r.open_minor, r.status, r.paid_date::text, r.delay_days "
                     "FROM risk_invoices r JOIN invoices i ON i.tenant = r.tenant "
                     "AND i.id = r.invoice_id WHERE r.tenant = %s ORDER BY 1",
    "risk_debtor_profile": "SELECT d.external_id, p.currency, p.credit_limit_minor, p.open_disputes, "
                           "p.active_plans, p.active_promises, p.broken_promises, p.missed_instalments, "
                           "p.paid_count, p.late_count, p.sum_delay_days, p.ew_days_late, p.score, "
                           "p.grade, (p.snapshot::jsonb -> 'factors')::text "
                           "FROM risk_debtor_profile p JOIN debtors d ON d.tenant = p.tenant "
                           "AND d.id = p.debtor_id WHERE p.tenant = %s ORDER BY 1",
    "risk_population": "SELECT paid_count, late_count, sum_delay_days FROM risk_population "
                       "WHERE tenant = %s",
    # Score and grade only: a rescoring that moves a factor's detail but not
    # the score writes no row, so the last row's details depend on batching.
    "last_history": "SELECT DISTINCT ON (d.external_id) d.external_id, h.score, h.grade "
                    "FROM risk_score_history h JOIN debtors d ON d.tenant = h.tenant "
                    "AND d.id = h.debtor_id WHERE h.tenant = %s ORDER BY d.external_id, h.id DESC",
}

# Snapshot fields that move with the population at the rescoring moment.
TIMED = ("p_late", "expected_delay_days")


def _snapshots(stack_, tid, timed):
    rows = stack_.query("SELECT d.external_id, p.snapshot FROM risk_debtor_profile p "
                        "JOIN debtors d ON d.tenant = p.tenant AND d.id = p.debtor_id "
                        "WHERE p.tenant = %s ORDER BY 1", (tid,))
    out = {}
    for ext, snap in rows:
        s = json.loads(snap) if snap else None
        if s and not timed:
            for k in TIMED:
                s.pop(k, None)
        out[ext] = s
    return out


def _redis(stack_, tid, timed):
    out = {}
    for ext, did in stack_.query("SELECT external_id, id FROM debtors WHERE tenant = %s", (tid,)):
        h = dict(stack_.redis.hgetall("creance:{%s:%d}:debtor" % (tid, did)))
        h.pop("updated_at_us", None)
        if "risk" in h:
            r = json.loads(h["risk"])
            if not timed:
                for k in TIMED:
                    r.pop(k, None)
            h["risk"] = r
        out[ext] = h
    return out


def _reporting(stack_, token):
    out = {}
    for path in ("/api/v1/outstanding", "/api/v1/kpis", "/api/v1/aging"):
        status, body = http_get("http://%s%s" % (stack_.http_addr("reporting"), path),
                                headers={"Authorization": "Bearer " + token})
        assert status == 200, (path, status, body[:200])
        out[path] = _without_reminders(json.loads(body))
    return out


# Reminders is not partitioned: each stack's own dunning passes decide, at
# their own moments and by the hour of day in each debtor's time zone, what
# reporting then counts as reminders sent. Those KPIs are not part of the
# one-instance / two-instance comparison.
REMINDER_KPIS = ("reminders_", "reminder_", "reminded_", "debtors_contacted",
                 "contacts_per_debtor", "collection_cost", "cost_of_collection")


def _without_reminders(body):
    for row in body.get("kpis", []):
        for k in [k for k in row if k.startswith(REMINDER_KPIS)]:
            del row[k]
    return body


def _state(stack_, tid, token, timed=False):
    s = {name: stack_.query(sql, (tid,)) for name, sql in {**LEDGER, **RISK}.items()}
    s["snapshots"] = _snapshots(stack_, tid, timed)
    s["redis"] = _redis(stack_, tid, timed)
    s["reporting"] = _reporting(stack_, token)
    if timed:
        s["predictions"] = stack_.query(
            "SELECT i.external_id, r.open_minor, r.p_late, r.expected_delay_days, "
            "r.expected_pay_date::text FROM risk_predictions r JOIN invoices i ON i.tenant = r.tenant "
            "AND i.id = r.invoice_id WHERE r.tenant = %s ORDER BY 1", (tid,))
    return s


def _assert_same(a, b):
    assert a.keys() == b.keys()
    for k in a:
        assert a[k] == b[k], "%s differs between one instance and two" % k


# ---------------------------------------------------------------- the two runs

RISK_PAIR = ("risk.0-of-2", "risk.1-of-2")


@pytest.fixture(scope="module")
def pstack(request):
    """A stack of its own with intake and risk as partition 0 of 2, and a
    second instance of each as partition 1 of 2."""
    s = stackmod.Stack()
    request.addfinalizer(s.close)
    s.service_env["risk"] = {"CREANCE_RISK_PARTITION": "0/2"}
    s.service_env["intake"] = {"CREANCE_INTAKE_PARTITION": "0/2"}
    s.open()
    s.extra = {
        "risk.1": s.start_instance("risk.1", "risk", {"CREANCE_RISK_PARTITION": "1/2"}),
        "intake.1": s.start_instance("intake.1", "intake", {"CREANCE_INTAKE_PARTITION": "1/2"}),
    }
    return s


def _caught_up(stack_, tid, consumers):
    last = stack_.last_seq(tid)
    pos = stack_.positions(tid)
    return last is not None and all(pos.get(c) == last for c in consumers)


def _rescore_all(stack_, tid, restart):
    """The daily pass at the final population: computed_on forgotten, risk
    restarted (the pass runs at start), until every debtor with open
    invoices is scored today again."""
    stack_.query_exec("UPDATE risk_debtor_profile SET computed_on = NULL WHERE tenant = %s", (tid,))
    restart()
    wait_until(lambda: stack_.scalar(
        "SELECT count(*) FROM risk_debtor_profile p WHERE p.tenant = %s AND p.computed_on IS NULL "
        "AND EXISTS (SELECT 1 FROM risk_invoices i WHERE i.tenant = p.tenant "
        "AND i.debtor_id = p.debtor_id AND i.open_minor > 0)", (tid,)) == 0,
        timeout=60, what="daily rescoring")


def test_partition_vectors_agree(stack):
    """C (unit test), Python and SQL compute the same function."""
    for tenant, key, h in part.VECTORS:
        assert part.partition_hash(tenant, key) == h
        assert stack.scalar("SELECT creance_partition_hash(%s, %s)", (tenant, key)) == h
        for n in (1, 2, 3, 7):
            assert stack.scalar("SELECT creance_partition(%s, %s, %s)", (tenant, key, n)) == \
                part.partition_of(tenant, key, n)


def test_two_instances_equal_one(stack, pstack):
    tid = "part-" + uuid.uuid4().hex[:12]
    token_a = _make_tenant(stack, tid)
    token_b = _make_tenant(pstack, tid)
    feed = _feed()
    kinds = {it.WhichOneof("fact") for _, it in feed}
    assert {"debtor", "invoice", "payment", "credit_note", "dispute", "promise",
            "payment_plan"} <= kinds

    # (a) one intake, one risk.
    res_a = {}
    _send(stack, stack.env["CREANCE_INTAKE_ENDPOINT"], tid, feed, res_a)

    # (b) routed by partition, both intakes at once.
    endpoints = [pstack.env["CREANCE_INTAKE_ENDPOINT"], pstack.extra["intake.1"]["CREANCE_INTAKE_ENDPOINT"]]
    split = [[(dx, it) for dx, it in feed if part.partition_of(tid, dx, N) == k] for k in range(N)]
    assert all(split), "both partitions must get debtors"
    res_b, errors = {}, []

    def run(k):
        try:
            _send(pstack, endpoints[k], tid, split[k], res_b)
        except BaseException as e:  # noqa: BLE001
            errors.append(e)
    threads = [threading.Thread(target=run, args=(k,)) for k in range(N)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert res_a == res_b
    accepted = sum(1 for st, _, _ in res_a.values() if st == pb.ACCEPTED)
    assert accepted > len(feed) * 0.9

    wait_until(lambda: _caught_up(stack, tid, ("risk", "reminders", "reporting")),
               timeout=90, what="single stack caught up")
    wait_until(lambda: _caught_up(pstack, tid, RISK_PAIR + ("reminders", "reporting")),
               timeout=90, what="partitioned stack caught up")
    # Each risk instance applied only its own debtors, and between them all.
    skipped = [pstack.metric(svc, "creance_risk_events_other_partition_total") for svc in ("risk",)]
    assert skipped[0] > 0

    a, b = _state(stack, tid, token_a), _state(pstack, tid, token_b)
    assert len(a["invoices"]) > DEBTORS and len(a["allocations"]) > 0
    assert len(a["risk_debtor_profile"]) == DEBTORS and a["risk_population"]
    assert sum(1 for h in a["redis"].values() if "risk" in h) == DEBTORS
    _assert_same(a, b)

    # The population-dependent figures, once every open debtor is rescored
    # at the final population.
    def restart_single():
        stack.stop("risk")
        stack.start("risk")

    def restart_pair():
        pstack.stop("risk")
        pstack.stop("risk.1")
        pstack.start("risk")
        pstack.extra["risk.1"] = pstack.start_instance("risk.1", "risk", {"CREANCE_RISK_PARTITION": "1/2"})
    _rescore_all(stack, tid, restart_single)
    _rescore_all(pstack, tid, restart_pair)
    a, b = _state(stack, tid, token_a, timed=True), _state(pstack, tid, token_b, timed=True)
    assert a["predictions"]
    open_debtors = {r[1] for r in a["invoices"] if r[3] > 0}
    for name in ("snapshots", "redis"):
        a[name] = {k: v for k, v in a[name].items() if k in open_debtors}
        b[name] = {k: v for k, v in b[name].items() if k in open_debtors}
    _assert_same(a, b)

    # The RiskScored stream of two writers: one gap-free sequence.
    seqs = [r[0] for r in pstack.query("SELECT seq FROM event_log WHERE tenant = %s AND stream = 'risk' "
                                       "ORDER BY seq", (tid,))]
    assert seqs == list(range(1, len(seqs) + 1)) and seqs


def test_intake_refuses_other_partition(pstack):
    tid = "part-" + uuid.uuid4().hex[:12]
    _make_tenant(pstack, tid)
    dx = next("X-%d" % i for i in range(100) if part.partition_of(tid, "X-%d" % i, N) == 1)
    b = pb.IntakeBatch(tenant=tid, source="billing-e2e", batch_id="wrong")
    b.items.append(debtor_item(dx))
    b.items.append(invoice_item("XI", dx, 1000))
    reply = pstack.intake(b)                    # instance 0 of 2
    assert [r.status for r in reply.results] == [pb.REJECTED, pb.REJECTED]
    assert [r.field for r in reply.results] == ["external_id", "debtor_external_id"]
    assert "belongs to partition 1/2" in reply.results[1].reason
    assert pstack.scalar("SELECT count(*) FROM debtors WHERE tenant = %s", (tid,)) == 0
    ok = pb.IntakeReply()
    ok.ParseFromString(pstack._dealer_call(pstack.extra["intake.1"]["CREANCE_INTAKE_ENDPOINT"],
                                           b.SerializeToString(), 30))
    assert [r.status for r in ok.results] == [pb.ACCEPTED, pb.ACCEPTED]


def test_invoice_level_facts_race_safely(pstack):
    """The race the design relies on: facts naming only an invoice (write-
    offs, disputes, cancellations) accepted by the other intake while the
    owner records payments for the same debtor. Each invoice row is locked
    by whichever writes it first: nothing is allocated, credited or
    written off twice, and every invoice balances."""
    tid = "part-" + uuid.uuid4().hex[:12]
    _make_tenant(pstack, tid)
    dx = next("R-%d" % i for i in range(100) if part.partition_of(tid, "R-%d" % i, N) == 0)
    owner, other = pstack.env["CREANCE_INTAKE_ENDPOINT"], pstack.extra["intake.1"]["CREANCE_INTAKE_ENDPOINT"]
    setup = [(dx, debtor_item(dx))] + [(dx, invoice_item("RI-%d" % j, dx, 10000, issue="2024-01-%02d" % (j + 1),
                                                         due="2024-02-%02d" % (j + 1)))
                                       for j in range(20)]
    res = {}
    _send(pstack, owner, tid, setup, res)
    assert all(st == pb.ACCEPTED for st, _, _ in res.values())
    payments = [(dx, payment_item("RP-%d" % k, dx, 7000, received="2024-03-01")) for k in range(20)]
    facts = []
    for j in range(20):
        if j % 2:
            f = pb.WriteOffFact(external_id="RW-%d" % j, invoice_external_id="RI-%d" % j,
                                date=date_pb("2024-03-02"), reason="insolvency")
            facts.append((dx, pb.IntakeItem(write_off=f)))
        else:
            facts.append((dx, pb.IntakeItem(invoice_cancellation=pb.InvoiceCancellationFact(
                external_id="RC-%d" % j, invoice_external_id="RI-%d" % j, reason="error",
                cancelled_date=date_pb("2024-03-02")))))
    res_p, res_f, errors = {}, {}, []

    def run(endpoint, items, out):
        try:
            _send(pstack, endpoint, tid, items, out, batch=1)
        except BaseException as e:  # noqa: BLE001
            errors.append(e)
    threads = [threading.Thread(target=run, args=(owner, payments, res_p)),
               threading.Thread(target=run, args=(other, facts, res_f))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert all(st == pb.ACCEPTED for st, _, _ in res_p.values())
    # Every invoice balances: amount = open + allocated + written off +
    # what a cancellation removed; never below zero.
    rows = pstack.query(
        "SELECT i.external_id, i.amount_minor, i.open_minor, i.status, "
        "  coalesce((SELECT sum(amount_minor) FROM allocations a WHERE a.tenant = i.tenant "
        "            AND a.invoice_id = i.id), 0), "
        "  coalesce((SELECT sum(amount_minor) FROM write_offs w WHERE w.tenant = i.tenant "
        "            AND w.invoice_id = i.id), 0) "
        "FROM invoices i WHERE i.tenant = %s", (tid,))
    assert len(rows) == 20
    for ext, amount, open_, status, allocated, written in rows:
        assert open_ >= 0 and allocated + written <= amount, (ext, amount, open_, allocated, written)
        if status != "cancelled":
            assert open_ + allocated + written == amount, (ext, amount, open_, status, allocated, written)
    # Each payment's money is somewhere exactly once.
    for ext, amount, unapplied, allocated in pstack.query(
            "SELECT p.external_id, p.amount_minor, p.unapplied_minor, coalesce((SELECT sum(amount_minor) "
            "FROM allocations a WHERE a.tenant = p.tenant AND a.payment_id = p.id), 0) "
            "FROM payments p WHERE p.tenant = %s", (tid,)):
        assert unapplied + allocated == amount, (ext, amount, unapplied, allocated)
    # One gap-free ledger sequence from two writers.
    seqs = [r[0] for r in pstack.query("SELECT seq FROM event_log WHERE tenant = %s AND stream = 'ledger' "
                                       "ORDER BY seq", (tid,))]
    assert seqs == list(range(1, len(seqs) + 1))
