"""Risk (issue 4): score and grade from the ledger, RiskScored / GradeChanged
on stream "risk", GetDebtorRisk with its factors, CheckCredit with each
reason, predictions per open invoice, and a Redis flush rebuilt to the same
bytes.

Dates are relative to the services' today (UTC; no CREANCE_TODAY in the
stack), so that "overdue by 83 days" means the same on any day."""

import datetime
import json

import creance_pb2 as pb

from stack import debtor_item, invoice_item, money, payment_item, wait_until


def today():
    return datetime.datetime.now(datetime.timezone.utc).date()


def day(offset):
    return (today() + datetime.timedelta(days=offset)).isoformat()


def accepted(reply):
    assert reply.error == "" and all(r.status == pb.ACCEPTED for r in reply.results), reply
    return [r.id for r in reply.results]


def debtor_fact(ext, limit=None, assets=None, liabilities=None):
    kw = {}
    if limit is not None:
        kw["credit_limit"] = money(limit)
    if assets is not None:
        kw["current_assets"] = money(assets)
    if liabilities is not None:
        kw["current_liabilities"] = money(liabilities)
    return debtor_item(ext, **kw)


def invoice_due(ext, debtor, amount, due_offset):
    """An invoice on 30-day terms due `due_offset` days from today."""
    return invoice_item(ext, debtor, amount, issue=day(due_offset - 30), due=day(due_offset))


def snapshot(stack, tenant, debtor_id):
    raw = stack.redis.hget(tenant.debtor_key(debtor_id), "risk")
    return None if raw is None else json.loads(raw)


def settled(stack, tenant):
    """Every ledger event applied by every consumer."""
    return stack.consumers_caught_up(tenant.id)


def wait_snapshot(stack, tenant, debtor_id, pred, what):
    def ok():
        if not settled(stack, tenant):
            return None
        s = snapshot(stack, tenant, debtor_id)
        return s if s is not None and pred(s) else None
    return wait_until(ok, timeout=30, what=what)


def get_risk(stack, tenant, debtor_id=0, external_id=""):
    r = stack.risk_query(pb.Query(get_debtor_risk=pb.GetDebtorRisk(
        tenant=tenant.id, debtor_id=debtor_id, debtor_external_id=external_id)))
    assert r.WhichOneof("reply") == "debtor_risk"
    return r.debtor_risk


def check_credit(stack, tenant, debtor_id, amount, currency="EUR"):
    r = stack.risk_query(pb.Query(check_credit=pb.CheckCredit(
        tenant=tenant.id, debtor_id=debtor_id, amount=money(amount, currency))))
    assert r.WhichOneof("reply") == "credit_answer"
    return r.credit_answer


def codes(answer):
    return sorted(reason.split(":", 1)[0] for reason in answer.reasons)


def risk_events(stack, tenant):
    rows = stack.query("SELECT seq, envelope FROM event_log WHERE tenant = %s AND stream = 'risk' "
                       "ORDER BY seq", (tenant.id,))
    out = []
    for seq, data in rows:
        env = pb.Envelope()
        env.ParseFromString(bytes(data))
        assert env.seq == seq and env.tenant == tenant.id and env.producer == "risk"
        out.append(env)
    return out


def test_grade_moves_with_overdue_and_late_payment(stack, tenant):
    ids = accepted(tenant.send(debtor_fact("D", limit=500000),
                               invoice_due("I1", "D", 100000, 8)))
    d = ids[0]
    s = wait_snapshot(stack, tenant, d, lambda s: s["outstanding"] == 100000, "first score")
    assert (s["score"], s["grade"], s["overdue"]) == (1000, "A", 0)

    # An invoice 83 days past due: 1000 - 250 * 1000/2000 - 200 (61-90 days) = 675, B.
    accepted(tenant.send(invoice_due("I2", "D", 100000, -83)))
    s = wait_snapshot(stack, tenant, d, lambda s: s["outstanding"] == 200000, "overdue score")
    assert s["overdue"] == 100000 and s["oldest_overdue_days"] == 83
    assert (s["score"], s["grade"]) == (675, "B")
    assert sum(f["points"] for f in s["factors"]) == s["score"]

    # Paid today, 83 days late: nothing overdue, but days late weigh 4 x 83,
    # capped at 200: 800, A again.
    accepted(tenant.send(payment_item("P1", "D", 100000, received=day(0), invoices=["I2"])))
    s = wait_snapshot(stack, tenant, d, lambda s: s["outstanding"] == 100000, "after payment")
    assert s["overdue"] == 0 and s["paid_invoices"] == 1 and s["paid_late"] == 1
    points = {f["name"]: f["points"] for f in s["factors"]}
    assert points["days_late"] == -200 and points["overdue_ratio"] == 0
    assert (s["score"], s["grade"]) == (800, "A")

    # The history and the events follow every change.
    hist = stack.query("SELECT score, grade FROM risk_score_history WHERE tenant = %s "
                       "AND debtor_id = %s ORDER BY id", (tenant.id, d))
    assert [(h[0], h[1]) for h in hist] == [(1000, "A"), (675, "B"), (800, "A")]
    events = wait_until(lambda: (lambda e: e if len(e) == 5 else None)(risk_events(stack, tenant)),
                        timeout=10, what="5 risk events")
    kinds = [e.WhichOneof("event") for e in events]
    assert kinds == ["risk_scored", "risk_scored", "grade_changed", "risk_scored", "grade_changed"]
    assert [e.risk_scored.score for e in events if e.HasField("risk_scored")] == [1000, 675, 800]
    moves = [(e.grade_changed.from_grade, e.grade_changed.to_grade)
             for e in events if e.HasField("grade_changed")]
    assert moves == [("A", "B"), ("B", "A")]
    scored = events[1].risk_scored
    assert scored.debtor_id == d and scored.overdue.minor == 100000
    assert sum(f.contribution for f in scored.factors) == scored.score


def test_get_debtor_risk_explains_the_grade(stack, tenant):
    ids = accepted(tenant.send(debtor_fact("X", limit=150000),
                               invoice_due("X1", "X", 100000, -40),
                               invoice_due("X2", "X", 100000, 10)))
    d = ids[0]
    wait_snapshot(stack, tenant, d, lambda s: s["outstanding"] == 200000, "scored")
    r = get_risk(stack, tenant, external_id="X")
    assert r.error == "" and r.found and r.debtor_id == d
    # 1000 - 125 (half overdue) - 120 (31-60 days) - 150 (over the limit) = 605, C.
    assert (r.score, r.grade) == (605, "C")
    assert r.outstanding.minor == 200000 and r.overdue.minor == 100000
    assert r.overdue.currency == "EUR"
    factors = {f.name: f.contribution for f in r.factors}
    assert factors["base"] == 1000 and factors["overdue_ratio"] == -125
    assert factors["oldest_overdue"] == -120 and factors["credit_limit_use"] == -150
    assert sum(f.contribution for f in r.factors) == r.score
    assert all(f.detail for f in r.factors)

    # The same answer from PostgreSQL when the hash is gone.
    stack.redis.delete(tenant.debtor_key(d))
    r2 = get_risk(stack, tenant, debtor_id=d)
    assert (r2.score, r2.grade, list(r2.factors)) == (r.score, r.grade, list(r.factors))

    # Predictions for each open invoice, for reporting's forecast.
    rows = stack.query("SELECT invoice_id, p_late, expected_pay_date, due_date FROM risk_predictions "
                       "WHERE tenant = %s AND debtor_id = %s ORDER BY invoice_id", (tenant.id, d))
    assert [row[0] for row in rows] == ids[1:]
    for _, p_late, expected, due in rows:
        assert 0 < p_late < 1
        assert expected >= today() and expected >= due - datetime.timedelta(days=60)


def test_check_credit_reasons(stack, tenant):
    ids = accepted(tenant.send(
        debtor_fact("OK", limit=500000),
        debtor_fact("SOON", limit=500000), invoice_due("S1", "SOON", 10000, -10),
        debtor_fact("LATE", limit=500000), invoice_due("L1", "LATE", 10000, -45),
        debtor_fact("POOR", limit=500000, assets=1000, liabilities=2000),
        debtor_fact("BAD", limit=10000), invoice_due("B1", "BAD", 100000, -200)))
    ok, soon, late, poor, bad = ids[0], ids[1], ids[3], ids[5], ids[6]
    wait_until(lambda: settled(stack, tenant) and all(
        snapshot(stack, tenant, i) is not None for i in (ok, soon, late, poor, bad)),
        timeout=30, what="all scored")

    a = check_credit(stack, tenant, ok, 100000)
    assert a.error == "" and a.decision == pb.APPROVE and list(a.reasons) == []
    a = check_credit(stack, tenant, ok, 500001)
    assert a.decision == pb.REFUSE and codes(a) == ["over_credit_limit"]

    a = check_credit(stack, tenant, soon, 1000)
    assert a.decision == pb.REVIEW and codes(a) == ["unpaid_invoices"]
    a = check_credit(stack, tenant, late, 1000)
    assert a.decision == pb.REFUSE and codes(a) == ["overdue_beyond_limit", "unpaid_invoices"]
    a = check_credit(stack, tenant, poor, 1000)
    assert a.decision == pb.REVIEW and codes(a) == ["liquidity_below_1"]
    # 1000 - 250 - 300 (over 90 days) - 150 (over the limit) = 300: E.
    assert snapshot(stack, tenant, bad)["grade"] == "E"
    a = check_credit(stack, tenant, bad, 1)
    assert a.decision == pb.REFUSE
    assert codes(a) == ["grade_e", "over_credit_limit", "overdue_beyond_limit", "unpaid_invoices"]

    a = check_credit(stack, tenant, ok, 100, currency="USD")
    assert a.error == "check_credit.amount.currency: the debtor is billed in EUR"
    a = check_credit(stack, tenant, 987654321, 100)
    assert a.error == "check_credit.debtor_id: unknown debtor"
    a = check_credit(stack, tenant, ok, -5)
    assert a.error == "check_credit.amount.minor: must not be negative"


def test_flushall_then_identical_state(stack, tenant):
    items = []
    for n in range(6):
        items.append(debtor_fact("F%d" % n, limit=300000))
        items.append(invoice_due("F%d-1" % n, "F%d" % n, 50000 + n, -5 * n))
        items.append(invoice_due("F%d-2" % n, "F%d" % n, 70000, 20))
    ids = accepted(tenant.send(*items))
    debtors = ids[0::3]
    accepted(tenant.send(payment_item("FP", "F3", 50003, received=day(0), invoices=["F3-1"])))
    wait_until(lambda: settled(stack, tenant) and all(
        snapshot(stack, tenant, d) is not None for d in debtors)
        and snapshot(stack, tenant, debtors[3])["paid_invoices"] == 1,
        timeout=30, what="scored")
    before = {d: stack.redis.hgetall(tenant.debtor_key(d)) for d in debtors}
    assert all("risk" in h and "outstanding:EUR" in h for h in before.values())

    stack.redis.flushall()
    wait_until(lambda: stack.redis.exists("creance:{risk}:built"), timeout=30, what="rebuild")
    after = {d: stack.redis.hgetall(tenant.debtor_key(d)) for d in debtors}
    assert after == before
    # Queries still answer, from the rebuilt hashes.
    r = get_risk(stack, tenant, debtor_id=debtors[5])
    assert r.found and r.score == json.loads(before[debtors[5]]["risk"])["score"]


def _predictions_consistent(stack, tenant):
    """Every open invoice of the tenant has exactly one prediction row, and
    it carries its debtor's latest prediction (risk_debtor_profile.pred_*)
    and the invoice's open amount and due date; closed invoices have none.
    Fails if a rescoring left a row with an older p_late or delay (risk
    writes only the rows of the invoices a transaction touched when the
    debtor-level prediction did not move)."""
    wrong = stack.query(
        "SELECT i.invoice_id, i.open_minor, r.open_minor, r.p_late, p.pred_p_late,"
        " r.expected_delay_days, p.pred_delay_days, r.expected_pay_date,"
        " greatest(i.due_date + round(p.pred_delay_days)::int, p.pred_as_of)"
        " FROM risk_invoices i JOIN risk_debtor_profile p ON p.tenant = i.tenant"
        "  AND p.debtor_id = i.debtor_id"
        " LEFT JOIN risk_predictions r ON r.tenant = i.tenant AND r.invoice_id = i.invoice_id"
        " WHERE i.tenant = %s AND i.open_minor > 0 AND (r.invoice_id IS NULL"
        "  OR r.open_minor <> i.open_minor OR r.p_late <> p.pred_p_late"
        "  OR r.expected_delay_days <> p.pred_delay_days OR r.due_date <> i.due_date"
        "  OR r.expected_pay_date <> greatest(i.due_date + round(p.pred_delay_days)::int,"
        "                                     p.pred_as_of))", (tenant.id,))
    assert wrong == []
    closed = stack.scalar(
        "SELECT count(*) FROM risk_predictions r JOIN risk_invoices i ON i.tenant = r.tenant"
        " AND i.invoice_id = r.invoice_id WHERE r.tenant = %s AND i.open_minor = 0", (tenant.id,))
    assert closed == 0


def test_predictions_follow_every_rescoring(stack, tenant):
    """New invoices of a debtor whose prediction does not move write only
    their own row; a payment closing an invoice late moves the debtor's
    p_late and delay (and the population's), and then every open invoice's
    row follows, the closed one's row goes. Each step is checked against
    the invariant above."""
    accepted(tenant.send(debtor_fact("P"), debtor_fact("Q"),
                         invoice_due("P1", "P", 10000, -50), invoice_due("P2", "P", 20000, -20),
                         invoice_due("Q1", "Q", 5000, 5)))
    wait_until(lambda: settled(stack, tenant) and stack.scalar(
        "SELECT count(*) FROM risk_predictions WHERE tenant = %s", (tenant.id,)) == 3,
        timeout=30, what="three predictions")
    _predictions_consistent(stack, tenant)
    before = stack.query("SELECT debtor_id, pred_p_late FROM risk_debtor_profile"
                         " WHERE tenant = %s ORDER BY 1", (tenant.id,))

    # Invoices only: the debtors' predictions stay, new rows appear.
    accepted(tenant.send(invoice_due("P3", "P", 7000, 15), invoice_due("Q2", "Q", 3000, 25)))
    wait_until(lambda: settled(stack, tenant) and stack.scalar(
        "SELECT count(*) FROM risk_predictions WHERE tenant = %s", (tenant.id,)) == 5,
        timeout=30, what="five predictions")
    _predictions_consistent(stack, tenant)
    assert stack.query("SELECT debtor_id, pred_p_late FROM risk_debtor_profile"
                       " WHERE tenant = %s ORDER BY 1", (tenant.id,)) == before

    # P1 paid 50 days late: P's history and the population move, so P's and
    # (at its next rescoring) Q's predictions change; P1's row goes.
    accepted(tenant.send(payment_item("PP1", "P", 10000, received=day(0), invoices=["P1"])))
    wait_until(lambda: settled(stack, tenant) and stack.scalar(
        "SELECT count(*) FROM risk_predictions WHERE tenant = %s", (tenant.id,)) == 4,
        timeout=30, what="P1's prediction gone")
    _predictions_consistent(stack, tenant)
    after = dict(stack.query("SELECT debtor_id, pred_p_late FROM risk_debtor_profile"
                             " WHERE tenant = %s", (tenant.id,)))
    assert after[before[0][0]] != before[0][1]      # P: one invoice paid late of one paid

    # A new invoice for Q now rescored against the moved population: all of
    # Q's rows follow, not only the new one.
    accepted(tenant.send(invoice_due("Q3", "Q", 1000, 40)))
    wait_until(lambda: settled(stack, tenant) and stack.scalar(
        "SELECT count(*) FROM risk_predictions WHERE tenant = %s", (tenant.id,)) == 5,
        timeout=30, what="Q3 predicted")
    _predictions_consistent(stack, tenant)
    assert dict(stack.query("SELECT debtor_id, pred_p_late FROM risk_debtor_profile"
                            " WHERE tenant = %s", (tenant.id,)))[before[1][0]] != before[1][1]
