"""Reporting's KPIs end to end: a hand-built ledger sent through intake,
every KPI worked out by hand below; incremental aggregates against a full
recomputation over the ledger tables; tenant isolation on every endpoint.

Fixed point in the API: *_days_x10 are tenths of a day, *_bp basis points
(10000 = 100 %), *_x100 hundredths; all rounded half away from zero."""

import csv
import datetime
import io
import json
import random

import creance_pb2 as pb

from stack import (date_pb, debtor_item, http_get, invoice_item, money, payment_item,
                   wait_until)

ACCEPTED = pb.ACCEPTED


def api(stack, token, path, **params):
    """(status, parsed JSON or text) of a reporting API call."""
    qs = "&".join("%s=%s" % (k, v) for k, v in params.items())
    url = "http://%s%s%s" % (stack.http_addr("reporting"), path, "?" + qs if qs else "")
    headers = {"Authorization": "Bearer " + token} if token else {}
    status, body = http_get(url, headers=headers)
    try:
        return status, json.loads(body)
    except ValueError:
        return status, body


def ok(stack, token, path, **params):
    status, body = api(stack, token, path, **params)
    assert status == 200, (path, params, status, body)
    return body


def dispute_item(external_id, invoice_external_id, amount=0, opened="2024-03-01"):
    return pb.IntakeItem(dispute=pb.DisputeFact(
        external_id=external_id, invoice_external_id=invoice_external_id,
        amount=money(amount) if amount else None, reason="contested", opened_date=date_pb(opened)))


def resolve_item(external_id, resolved, outcome="rejected"):
    return pb.IntakeItem(dispute=pb.DisputeFact(
        external_id=external_id, resolve=True, outcome=outcome, resolved_date=date_pb(resolved)))


def send_ok(tenant, *items):
    reply = tenant.send(*items)
    assert reply.error == "", reply
    assert all(r.status == ACCEPTED for r in reply.results), reply
    return [r.id for r in reply.results]


def caught_up(stack, tenant):
    wait_until(lambda: stack.consumers_caught_up(tenant.id, consumers=("reporting",)),
               timeout=30, what="reporting caught up for %s" % tenant.id)


def eur(body, key="kpis", segment=None):
    rows = [r for r in body[key] if r["currency"] == "EUR"
            and (segment is None or r.get("segment") == segment)]
    assert len(rows) == 1, body
    return rows[0]


# ---------------------------------------------------------------- hand-built ledger

def build_ledger(stack, tenant):
    """Two debtors, six invoices, four payments, two disputes (EUR):

      debtor D1 (FR, business)                debtor D2 (DE, consumer)
      I0 2023-12-01 due 2023-12-31  50000     I3 2024-03-01 due 2024-03-31  40000
      I1 2024-01-10 due 2024-02-09 100000     I4 2024-03-20 due 2024-04-19  30000
      I2 2024-02-15 due 2024-03-16  60000     I5 2023-10-01 due 2023-10-31  20000

      P2 2024-01-15  50000 -> I0 (paid)       P4 2024-04-05  40000 -> I3 (paid, after 03-31)
      P1 2024-02-20 100000 -> I1 (paid)
      P3 2024-03-25  30000 -> I2 (30000 left)

      dispute A on I2: 10000, opened 2024-03-01, resolved 2024-03-11 (10 days)
      dispute B on I4: whole open amount (30000), opened 2024-03-25, still open
    """
    ids = send_ok(tenant,
                  debtor_item("D1", "Dupont SARL", country="FR", kind=pb.BUSINESS),
                  debtor_item("D2", "Martin Jeanne", country="DE", kind=pb.CONSUMER))
    d1, d2 = ids
    send_ok(tenant,
            invoice_item("I0", "D1", 50000, issue="2023-12-01", due="2023-12-31"),
            invoice_item("I1", "D1", 100000, issue="2024-01-10", due="2024-02-09"),
            invoice_item("I2", "D1", 60000, issue="2024-02-15", due="2024-03-16"),
            invoice_item("I3", "D2", 40000, issue="2024-03-01", due="2024-03-31"),
            invoice_item("I4", "D2", 30000, issue="2024-03-20", due="2024-04-19"),
            invoice_item("I5", "D2", 20000, issue="2023-10-01", due="2023-10-31"))
    send_ok(tenant,
            payment_item("P2", "D1", 50000, received="2024-01-15", invoices=["I0"]),
            payment_item("P1", "D1", 100000, received="2024-02-20", invoices=["I1"]),
            payment_item("P3", "D1", 30000, received="2024-03-25", invoices=["I2"]),
            payment_item("P4", "D2", 40000, received="2024-04-05", invoices=["I3"]))
    send_ok(tenant, dispute_item("DA", "I2", 10000, opened="2024-03-01"))
    send_ok(tenant, resolve_item("DA", "2024-03-11"))
    send_ok(tenant, dispute_item("DB", "I4", 0, opened="2024-03-25"))
    caught_up(stack, tenant)
    return d1, d2


def test_hand_built_ledger_kpis(stack, tenant):
    d1, d2 = build_ledger(stack, tenant)
    body = ok(stack, tenant.token, "/api/v1/kpis", **{"from": "2024-01-01", "to": "2024-03-31"})
    assert body["tenant"] == tenant.id
    assert (body["from"], body["to"], body["period_days"]) == ("2024-01-01", "2024-03-31", 91)
    k = eur(body)

    # Open as of 2024-03-31 (P4 of 04-05 is after it):
    #   I2 30000 due 03-16: 15 days past due -> 1_30
    #   I3 40000 due 03-31: due that day -> not yet due
    #   I4 30000 due 04-19 -> not yet due
    #   I5 20000 due 2023-10-31: 30+31+31+29+31 = 152 days -> 91_180
    assert k["outstanding_minor"] == 120000
    assert k["aging_not_due_minor"] == 70000
    assert k["aging_1_30_minor"] == 30000
    assert k["aging_31_60_minor"] == 0
    assert k["aging_61_90_minor"] == 0
    assert k["aging_91_180_minor"] == 20000
    assert k["aging_over_180_minor"] == 0
    assert k["overdue_minor"] == 50000
    # Opening receivables (as of 2023-12-31): I0 50000 + I5 20000.
    assert k["opening_receivables_minor"] == 70000
    # Credit sales issued 01-01..03-31: I1 + I2 + I3 + I4 = 230000, 4 invoices.
    assert k["sales_minor"] == 230000
    assert k["invoices_issued"] == 4
    # DSO simple = 120000 / 230000 * 91 = 47.478 days -> 475 tenths.
    assert k["dso_simple_days_x10"] == 475
    # Best DSO = current 70000 / 230000 * 91 = 27.696 -> 277; ADD = 475 - 277.
    assert k["best_dso_days_x10"] == 277
    assert k["add_days_x10"] == 198
    # Count-back: March sales 70000 (31 d) all used, 50000 left; February
    # sales 60000 (29 d): 50000/60000*29 = 24.167 d -> 31 + 24.167 = 55.167 -> 552.
    assert k["dso_countback_days_x10"] == 552
    # CEI = (70000 + 230000 - 120000) / (70000 + 230000 - 70000) = 78.26 % -> 7826 bp.
    assert k["cei_bp"] == 7826
    # Turnover = 230000 / ((70000 + 120000) / 2) = 2.421 -> 242.
    assert k["receivables_turnover_x100"] == 242
    # Collected in the period (allocations received 01-01..03-31): 50000 + 100000 + 30000.
    assert k["collected_minor"] == 180000
    assert k["payments_received_minor"] == 180000
    # Fell due in the period: I1 (02-09) 100000 + I2 (03-16) 60000 + I3 (03-31) 40000.
    assert k["fell_due_minor"] == 200000
    # Of which collected by 03-31: I1 100000 + I2 30000 (I3's P4 is later) -> 65 %.
    assert k["collected_on_fell_due_minor"] == 130000
    assert k["recovery_rate_bp"] == 6500
    # Still open on 03-31: I2 30000 + I3 40000 -> 35 %.
    assert k["unpaid_of_fell_due_minor"] == 70000
    assert k["unpaid_rate_bp"] == 3500
    # Paid in the period: I0 on 01-15 (45 days after issue, 15 late) and I1 on
    # 02-20 (41 days, 11 late): averages 43.0 and 13.0.
    assert k["paid_invoices"] == 2
    assert k["avg_days_to_pay_x10"] == 430
    assert k["avg_days_late_x10"] == 130
    assert k["written_off_minor"] == 0
    # Disputes on 03-31: B open (30000); A resolved in 10 days.
    assert k["disputes_open_count"] == 1
    assert k["disputes_open_minor"] == 30000
    assert k["disputes_resolved_count"] == 1
    assert k["avg_dispute_resolution_days_x10"] == 100

    # as_of alone: the period is the 90 days ending on it. On 2024-04-30:
    #   I2 30000 due 03-16: 45 days -> 31_60; I3 paid on 04-05;
    #   I4 30000 due 04-19: 11 days -> 1_30; I5 20000: 182 days -> over_180.
    body = ok(stack, tenant.token, "/api/v1/kpis", as_of="2024-04-30")
    assert (body["from"], body["to"]) == ("2024-02-01", "2024-04-30")
    k = eur(body)
    assert k["outstanding_minor"] == 80000
    assert (k["aging_not_due_minor"], k["aging_1_30_minor"], k["aging_31_60_minor"],
            k["aging_over_180_minor"]) == (0, 30000, 30000, 20000)
    assert k["overdue_minor"] == 80000

    # Segments: country FR = D1 (I2 open 30000; sales I1 + I2 = 160000), DE = D2
    # (I3 + I4 + I5 = 90000 open; sales I3 + I4 = 70000). Same split by kind.
    for seg, a, b in (("country", "FR", "DE"), ("kind", "business", "consumer")):
        body = ok(stack, tenant.token, "/api/v1/kpis", segment=seg,
                  **{"from": "2024-01-01", "to": "2024-03-31"})
        assert body["segment"] == seg
        fa, fb = eur(body, segment=a), eur(body, segment=b)
        assert (fa["outstanding_minor"], fa["sales_minor"]) == (30000, 160000), fa
        assert (fb["outstanding_minor"], fb["sales_minor"]) == (90000, 70000), fb
        assert fa["aging_1_30_minor"] == 30000 and fb["aging_91_180_minor"] == 20000

    # Aging endpoint: the same buckets with counts.
    body = ok(stack, tenant.token, "/api/v1/aging", as_of="2024-03-31")
    got = {r["bucket"]: (r["open_minor"], r["open_count"]) for r in body["buckets"]}
    assert got == {"not_due": (70000, 2), "1_30": (30000, 1), "31_60": (0, 0),
                   "61_90": (0, 0), "91_180": (20000, 1), "over_180": (0, 0)}

    # DSO trend, months ending 2024-03-31:
    #   Jan: receivables 70000 + 100000 - 50000 = 120000; 120000/100000*31 = 37.2 -> 372
    #   Feb: 120000 + 60000 - 100000 = 80000; 80000/60000*29 = 38.667 -> 387
    #   Mar: 80000 + 70000 - 30000 = 120000; 120000/70000*31 = 53.143 -> 531
    body = ok(stack, tenant.token, "/api/v1/dso", as_of="2024-03-31", months=3)
    trend = [(r["month"], r["receivables_minor"], r["sales_minor"], r["dso_simple_days_x10"])
             for r in body["trend"]]
    assert trend == [("2024-01", 120000, 100000, 372), ("2024-02", 80000, 60000, 387),
                     ("2024-03", 120000, 70000, 531)]

    # Debtor page: D1's invoices with today's open amounts (I2: 30000 left, 10000
    # disputed then resolved).
    body = ok(stack, tenant.token, "/api/v1/debtors/%d" % d1, as_of="2024-03-31")
    assert body["debtor"]["legal_name"] == "Dupont SARL"
    assert body["debtor"]["country"] == "FR"
    assert [(i["number"], i["amount_minor"], i["open_minor"], i["paid_date"], i["days_past_due"])
            for i in body["invoices"]] == [
        ("F-I0", 50000, 0, "2024-01-15", None), ("F-I1", 100000, 0, "2024-02-20", None),
        ("F-I2", 60000, 30000, None, 15)]
    assert [(r["currency"], r["outstanding_minor"]) for r in body["risk"]] == [("EUR", 30000)]

    # Riskiest on 03-31: D1 30000 overdue (I2), D2 20000 (I5; I3 is paid since).
    body = ok(stack, tenant.token, "/api/v1/riskiest", as_of="2024-03-31")
    assert [(r["debtor_id"], r["overdue_minor"]) for r in body["debtors"]] == \
        [(d1, 30000), (d2, 20000)]

    # CSV of every table: same figures.
    for path, params, col, want in (
            ("/api/v1/kpis.csv", {"from": "2024-01-01", "to": "2024-03-31"}, "cei_bp", "7826"),
            ("/api/v1/aging", {"as_of": "2024-03-31", "format": "csv"}, "open_minor", "70000"),
            ("/api/v1/dso.csv", {"as_of": "2024-03-31", "months": 3}, "dso_simple_days_x10", "372"),
            ("/api/v1/riskiest.csv", {"as_of": "2024-03-31"}, "overdue_minor", "30000"),
            ("/api/v1/debtors/%d.csv" % d1, {"as_of": "2024-03-31"}, "open_minor", "0")):
        status, text = api(stack, tenant.token, path, **params)
        assert status == 200, (path, status, text)
        rows = list(csv.DictReader(io.StringIO(text)))
        assert rows and rows[0][col] == want, (path, text)

    # Every answer was timed in the service's metrics.
    for endpoint in ("kpis", "aging", "dso", "debtor", "riskiest"):
        assert stack.metric("reporting", "creance_reporting_api_seconds_count",
                            {"endpoint": endpoint}) > 0, endpoint


def test_bad_parameters(stack, tenant):
    for params, field in (({"as_of": "2024-13-01"}, "as_of"), ({"from": "2024-03-02", "to": "2024-03-01"}, "from"),
                          ({"segment": "planet"}, "segment"), ({"currency": "EURO"}, "currency"),
                          ({"format": "xml"}, "format")):
        status, body = api(stack, tenant.token, "/api/v1/kpis", **params)
        assert status == 400 and body["error"]["field"] == field, (params, status, body)
    status, body = api(stack, tenant.token, "/api/v1/dso", months=0)
    assert status == 400 and body["error"]["field"] == "months"
    status, body = api(stack, tenant.token, "/api/v1/debtors/abc")
    assert status == 400 and body["error"]["field"] == "id"


# ---------------------------------------------------------------- isolation

ENDPOINTS = ("/api/v1/kpis", "/api/v1/aging", "/api/v1/dso", "/api/v1/riskiest",
             "/api/v1/forecast", "/api/v1/kpis.csv")


def test_tenant_isolation(stack, tenant, other_tenant):
    d1, _ = build_ledger(stack, tenant)
    send_ok(other_tenant, debtor_item("X", "Autre SA"), invoice_item("X1", "X", 777, issue="2024-03-01",
                                                         due="2024-03-10"))
    caught_up(stack, other_tenant)
    params = {"from": "2024-01-01", "to": "2024-03-31"}
    mine = eur(ok(stack, tenant.token, "/api/v1/kpis", **params))
    theirs = eur(ok(stack, other_tenant.token, "/api/v1/kpis", **params))
    assert mine["outstanding_minor"] == 120000 and theirs["outstanding_minor"] == 777
    # The other tenant's token never shows our figures, on any endpoint.
    for path in ENDPOINTS:
        status, body = api(stack, other_tenant.token, path, **params)
        assert status == 200, (path, body)
        text = body if isinstance(body, str) else json.dumps(body)
        assert tenant.id not in text and "120000" not in text and "Dupont" not in text, (path, text)
    # Our debtor is not found through their token.
    status, body = api(stack, other_tenant.token, "/api/v1/debtors/%d" % d1)
    assert status == 404, body
    # No token or a wrong one: 401 everywhere.
    for path in ENDPOINTS + ("/api/v1/debtors/%d" % d1,):
        for token in ("", "ct_wrong"):
            status, body = api(stack, token, path)
            assert status == 401, (path, token, status, body)


# ---------------------------------------------------------------- recomputation

def _round(n, d, scale):
    """round(n * scale / d) half away from zero, as the API does; None if d == 0."""
    if d == 0:
        return None
    num = n * scale
    q = (2 * abs(num) + abs(d)) // (2 * abs(d))
    return q if (num >= 0) == (d > 0) else -q


def recompute(stack, tid, f, t):
    """Every KPI of /api/v1/kpis (EUR) by full scans of the ledger tables."""
    q = stack.scalar
    open_as_of = """
        SELECT i.id, i.due_date, i.amount_minor - coalesce((
            SELECT sum(a.amount_minor) FROM allocations a JOIN payments p
              ON p.tenant = a.tenant AND p.id = a.payment_id
            WHERE a.tenant = i.tenant AND a.invoice_id = i.id
              AND greatest(p.received_date, i.issue_date) <= %(d)s), 0)
        FROM invoices i WHERE i.tenant = %(t)s AND i.issue_date <= %(d)s"""
    rows = stack.query(open_as_of, {"t": tid, "d": t})
    buckets = dict.fromkeys(("not_due", "1_30", "31_60", "61_90", "91_180", "over_180"), 0)
    unpaid = 0
    for _, due, amt in rows:
        dpd = (t - due).days
        b = ("not_due" if dpd <= 0 else "1_30" if dpd <= 30 else "31_60" if dpd <= 60
             else "61_90" if dpd <= 90 else "91_180" if dpd <= 180 else "over_180")
        buckets[b] += amt
        if f <= due <= t:
            unpaid += amt
    closing = sum(buckets.values())
    opening = sum(a for _, _, a in stack.query(open_as_of, {"t": tid, "d": f - datetime.timedelta(days=1)}))
    sales = q("SELECT coalesce(sum(amount_minor), 0) FROM invoices WHERE tenant = %s "
              "AND issue_date BETWEEN %s AND %s", (tid, f, t))
    collected = q("SELECT coalesce(sum(a.amount_minor), 0) FROM allocations a JOIN payments p "
                  "ON p.tenant = a.tenant AND p.id = a.payment_id JOIN invoices i "
                  "ON i.tenant = a.tenant AND i.id = a.invoice_id WHERE a.tenant = %s "
                  "AND greatest(p.received_date, i.issue_date) BETWEEN %s AND %s", (tid, f, t))
    fell_due = q("SELECT coalesce(sum(amount_minor), 0) FROM invoices WHERE tenant = %s "
                 "AND due_date BETWEEN %s AND %s", (tid, f, t))
    coll_due = q("SELECT coalesce(sum(a.amount_minor), 0) FROM allocations a JOIN payments p "
                 "ON p.tenant = a.tenant AND p.id = a.payment_id JOIN invoices i "
                 "ON i.tenant = a.tenant AND i.id = a.invoice_id WHERE a.tenant = %s "
                 "AND i.due_date BETWEEN %s AND %s AND greatest(p.received_date, i.issue_date) <= %s",
                 (tid, f, t, t))
    # A settlement dated before its invoice's issue date counts on the issue date.
    # Paid: the allocation that brought the invoice to 0 is its last one.
    paid = stack.query(
        "SELECT i.issue_date, i.due_date, greatest(p.received_date, i.issue_date) FROM invoices i "
        "JOIN LATERAL (SELECT payment_id FROM allocations a WHERE a.tenant = i.tenant "
        " AND a.invoice_id = i.id ORDER BY a.id DESC LIMIT 1) la ON true "
        "JOIN payments p ON p.tenant = i.tenant AND p.id = la.payment_id "
        "WHERE i.tenant = %s AND i.open_minor = 0 "
        "AND greatest(p.received_date, i.issue_date) BETWEEN %s AND %s",
        (tid, f, t))
    months = []
    for k in range(24):
        y, m = divmod(t.year * 12 + t.month - 1 - k, 12)
        first = datetime.date(y, m + 1, 1)
        nxt = datetime.date(y + (m + 1) // 12, (m + 1) % 12 + 1, 1)
        last = t if k == 0 else nxt - datetime.timedelta(days=1)
        s = q("SELECT coalesce(sum(amount_minor), 0) FROM invoices WHERE tenant = %s "
              "AND issue_date BETWEEN %s AND %s", (tid, first, last))
        months.append((s, (last - first).days + 1))
    left, full, cb = closing, 0, None
    for s, d in months:
        if left <= 0:
            cb = full * 10
            break
        if s <= 0 or left > s:
            full += d
            if s > 0:
                left -= s
            continue
        cb = full * 10 + _round(left * d, s, 10)
        break
    if cb is None:
        cb = full * 10
    days = (t - f).days + 1
    current = buckets["not_due"]
    dso = _round(closing * days, sales, 10)
    best = _round(current * days, sales, 10)
    return {
        "outstanding_minor": closing, "overdue_minor": closing - current,
        **{"aging_%s_minor" % b: v for b, v in buckets.items()},
        "opening_receivables_minor": opening, "sales_minor": sales,
        "dso_simple_days_x10": dso, "best_dso_days_x10": best,
        "add_days_x10": None if dso is None else dso - best,
        "dso_countback_days_x10": cb,
        "cei_bp": _round(opening + sales - closing, opening + sales - current, 10000),
        "receivables_turnover_x100": _round(sales * 2, opening + closing, 100),
        "collected_minor": collected, "fell_due_minor": fell_due,
        "collected_on_fell_due_minor": coll_due, "unpaid_of_fell_due_minor": unpaid,
        "recovery_rate_bp": _round(coll_due, fell_due, 10000),
        "unpaid_rate_bp": _round(unpaid, fell_due, 10000),
        "paid_invoices": len(paid),
        "avg_days_to_pay_x10": _round(sum((p - i).days for i, _, p in paid), len(paid), 10),
        "avg_days_late_x10": _round(sum(max(0, (p - d).days) for _, d, p in paid), len(paid), 10),
    }


def test_incremental_equals_recomputation(stack, tenant):
    rng = random.Random(20240331)
    debtors = ["R%d" % i for i in range(6)]
    send_ok(tenant, *[debtor_item(d, country=rng.choice(["FR", "BE", "DE"])) for d in debtors])
    start = datetime.date(2023, 7, 1)
    invoices = []
    for n in range(40):
        issue = start + datetime.timedelta(days=rng.randrange(0, 300))
        due = issue + datetime.timedelta(days=rng.choice([0, 15, 30, 45, 60]))
        d = rng.choice(debtors)
        invoices.append(invoice_item("RI%d" % n, d, rng.randrange(1000, 500000),
                                     issue=issue.isoformat(), due=due.isoformat()))
    for i in range(0, len(invoices), 10):
        send_ok(tenant, *invoices[i:i + 10])
    payments = []
    for n in range(30):
        rec = start + datetime.timedelta(days=rng.randrange(30, 360))
        payments.append(payment_item("RP%d" % n, rng.choice(debtors), rng.randrange(1000, 400000),
                                     received=rec.isoformat()))
    for i in range(0, len(payments), 10):
        send_ok(tenant, *payments[i:i + 10])
    caught_up(stack, tenant)
    checked = 0
    for f, t in ((datetime.date(2023, 7, 1), datetime.date(2023, 9, 30)),
                 (datetime.date(2023, 10, 15), datetime.date(2024, 1, 12)),
                 (datetime.date(2024, 1, 1), datetime.date(2024, 6, 30)),
                 (datetime.date(2024, 2, 29), datetime.date(2024, 2, 29))):
        want = recompute(stack, tenant.id, f, t)
        got = eur(ok(stack, tenant.token, "/api/v1/kpis", **{"from": f.isoformat(), "to": t.isoformat()}))
        for key, v in want.items():
            assert got[key] == v, (f, t, key, got[key], v)
            checked += 1
    assert checked > 60
    # The random stream did exercise what it should.
    assert stack.scalar("SELECT count(*) FROM invoices WHERE tenant = %s AND open_minor = 0",
                        (tenant.id,)) > 0
    assert stack.scalar("SELECT count(*) FROM invoices WHERE tenant = %s AND open_minor > 0",
                        (tenant.id,)) > 0


# ---------------------------------------------------------------- documentation

def test_openapi_documents_every_field(stack, tenant):
    import yaml
    import os
    from stack import REPO
    with open(os.path.join(REPO, "docs", "openapi.yaml"), encoding="utf-8") as f:
        doc = yaml.safe_load(f)
    assert doc["openapi"].startswith("3.0")
    for path in ("/api/v1/kpis", "/api/v1/aging", "/api/v1/dso", "/api/v1/debtors/{id}",
                 "/api/v1/riskiest", "/api/v1/forecast", "/api/v1/outstanding", "/healthz",
                 "/metrics", "/api/v1/reminders", "/api/v1/rollrates", "/api/v1/forecast/actual",
                 "/api/v1/debtors/{id}/collector"):
        assert path in doc["paths"], path
    documented = doc["components"]["schemas"]["KpiLine"]["properties"]
    send_ok(tenant, debtor_item("D"), invoice_item("I", "D", 1000, issue="2024-03-01", due="2024-03-31"))
    caught_up(stack, tenant)
    row = eur(ok(stack, tenant.token, "/api/v1/kpis", as_of="2024-03-31", segment="country"))
    missing = [k for k in row if k not in documented]
    assert not missing, missing
    # Every KPI has its definition written down.
    assert all(p.get("description") for k, p in documented.items()
               if k not in ("currency",)), [k for k, p in documented.items() if not p.get("description")]


# ---------------------------------------------------------------- other ledger events

def test_write_off_credit_note_cancellation_reversal_adjustment(stack, tenant):
    """One debtor, five invoices, each changed by one kind of event:

      A 2024-01-10 due 02-09  10000  written off 4000 on 2024-03-05
      B 2024-02-01 due 03-02  20000  credit note 5000 issued 2024-03-10
      C 2024-02-15 due 03-16   8000  cancelled        (recorded today)
      E 2024-03-01 due 03-31   6000  paid 2024-03-20, payment reversed (today)
      F 2024-03-05 due 04-04   9000  adjusted to 12000 due 2024-05-04 (today)

    Cancellations, reversals and adjustments carry no date of their own in
    the ledger events: they count on the day they were recorded, so on
    2024-03-31 they have not happened yet."""
    send_ok(tenant, debtor_item("D", "Garage Leroy", country="FR"))
    send_ok(tenant,
            invoice_item("A", "D", 10000, issue="2024-01-10", due="2024-02-09"),
            invoice_item("B", "D", 20000, issue="2024-02-01", due="2024-03-02"),
            invoice_item("C", "D", 8000, issue="2024-02-15", due="2024-03-16"),
            invoice_item("E", "D", 6000, issue="2024-03-01", due="2024-03-31"),
            invoice_item("F", "D", 9000, issue="2024-03-05", due="2024-04-04"))
    send_ok(tenant, payment_item("PE", "D", 6000, received="2024-03-20", invoices=["E"]))
    send_ok(tenant,
            pb.IntakeItem(write_off=pb.WriteOffFact(external_id="W1", invoice_external_id="A",
                                                     amount=money(4000), date=date_pb("2024-03-05"))),
            pb.IntakeItem(credit_note=pb.CreditNoteFact(external_id="CN1", debtor_external_id="D",
                                                        invoice_external_id="B", number="AV-1",
                                                        issue_date=date_pb("2024-03-10"),
                                                        amount=money(5000))))
    caught_up(stack, tenant)

    # On 2024-03-31 (period 01-01..03-31):
    #   A 6000 open, due 02-09: 51 days -> 31_60; B 15000, due 03-02: 29 days -> 1_30;
    #   C 8000, due 03-16: 15 days -> 1_30; E paid; F 9000 not yet due.
    #   Sales: 10000 + 20000 + 8000 + 6000 + 9000 - credit note 5000 = 48000.
    #   E paid on 03-20: 19 days after issue, not late.
    params = {"from": "2024-01-01", "to": "2024-03-31"}
    k = eur(ok(stack, tenant.token, "/api/v1/kpis", **params))
    assert (k["outstanding_minor"], k["aging_31_60_minor"], k["aging_1_30_minor"],
            k["aging_not_due_minor"]) == (38000, 6000, 23000, 9000), k
    assert k["sales_minor"] == 48000
    assert k["written_off_minor"] == 4000
    assert k["collected_minor"] == 6000
    assert (k["paid_invoices"], k["avg_days_to_pay_x10"], k["avg_days_late_x10"]) == (1, 190, 0)

    send_ok(tenant,
            pb.IntakeItem(invoice_cancellation=pb.InvoiceCancellationFact(
                external_id="X1", invoice_external_id="C", reason="duplicate",
                cancelled_date=date_pb("2024-04-01"))))
    send_ok(tenant,
            pb.IntakeItem(payment_reversal=pb.PaymentReversalFact(
                external_id="R1", payment_external_id="PE", reversed_date=date_pb("2024-04-02"),
                reason="bounced")))
    send_ok(tenant,
            pb.IntakeItem(invoice_adjustment=pb.InvoiceAdjustmentFact(
                external_id="ADJ1", invoice_external_id="F", new_amount=money(12000),
                new_due_date=date_pb("2024-05-04"), reason="price")))
    caught_up(stack, tenant)

    # 2024-03-31 is unchanged: those three count on the day they were recorded.
    again = eur(ok(stack, tenant.token, "/api/v1/kpis", **params))
    assert again == k
    # After them (a day well after today): A 6000 + B 15000 + E 6000 (reopened)
    # + F 12000 = 39000, all more than 180 days past due; sales lose C (8000)
    # and gain F's 3000: 43000; E's payment is no longer collected nor paid.
    later = datetime.date.today() + datetime.timedelta(days=400)
    params = {"from": "2024-01-01", "to": later.isoformat()}
    k = eur(ok(stack, tenant.token, "/api/v1/kpis", **params))
    assert (k["outstanding_minor"], k["aging_over_180_minor"]) == (39000, 39000), k
    assert k["sales_minor"] == 43000
    assert (k["collected_minor"], k["paid_invoices"], k["written_off_minor"]) == (0, 0, 4000)
    body = ok(stack, tenant.token, "/api/v1/aging", as_of=later.isoformat())
    got = {r["bucket"]: (r["open_minor"], r["open_count"]) for r in body["buckets"]}
    assert got["over_180"] == (39000, 4), got
    # The running totals of /api/v1/outstanding agree.
    status, body = tenant.outstanding()
    assert status == 200
    assert [t["outstanding_minor"] for t in body["totals"] if t["currency"] == "EUR"] == [39000]


# ---------------------------------------------------------------- forecast

def test_cash_in_forecast(stack, tenant, other_tenant):
    """Risk writes risk_predictions; here rows are written directly (a tenant
    without ledger events, so risk leaves them alone). Weeks start on as_of
    (2024-03-31): week k holds expected dates as_of + 7(k-1) .. as_of + 7k - 1."""
    rows = [(1, 10000, "2024-03-31"),   # day 0 -> week 1
            (2, 20000, "2024-04-07"),   # day 7 -> week 2
            (3, 5000, "2024-06-29"),    # day 90 -> week 13
            (4, 7000, "2024-06-30"),    # day 91 -> after week 13 ("later")
            (5, 3000, "2024-03-01")]    # predicted earlier: week 1
    for inv, amount, day in rows:
        stack.query_exec(
            "INSERT INTO risk_predictions (tenant, invoice_id, debtor_id, currency, open_minor,"
            " due_date, p_late, expected_delay_days, expected_pay_date, as_of)"
            " VALUES (%s, %s, 1, 'EUR', %s, %s, 0.5, 3, %s, %s)",
            (tenant.id, inv, amount, day, day, "2024-03-01"))
    body = ok(stack, tenant.token, "/api/v1/forecast", as_of="2024-03-31")
    assert body["available"] is True
    weeks = [(w["week"], w["week_start"], w["expected_minor"], w["invoices"]) for w in body["weeks"]]
    assert len(weeks) == 14
    assert weeks[0] == (1, "2024-03-31", 13000, 2)
    assert weeks[1] == (2, "2024-04-07", 20000, 1)
    assert weeks[12] == (13, "2024-06-23", 5000, 1)
    assert weeks[13] == (None, "2024-06-30", 7000, 1)
    assert sum(w[2] for w in weeks[2:12]) == 0
    # Another tenant's token sees none of it.
    body = ok(stack, other_tenant.token, "/api/v1/forecast", as_of="2024-03-31")
    assert body["weeks"] == []
