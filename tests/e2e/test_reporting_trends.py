"""Reporting's trends end to end: roll rates between aging buckets month
over month, the weekly forecast snapshots and forecast against actual.
Every figure is worked out by hand below; tenants are kept apart."""

import datetime

from stack import debtor_item, invoice_item, payment_item, wait_until
from test_reporting_kpis import api, caught_up, ok, send_ok


def roll_ledger(stack, tenant):
    """One debtor, six invoices (EUR):

      X1 10000 issued 2023-12-16 due 2024-01-15  unpaid
      X2 20000 issued 2024-01-01 due 2024-01-20  paid 2024-02-10
      X3 30000 issued 2024-01-21 due 2024-02-20  unpaid
      X4 40000 issued 2024-01-25 due 2024-03-15  unpaid
      X5  5000 issued 2023-09-01 due 2023-10-01  1000 paid 2024-02-05
      X6  7000 issued 2023-07-01 due 2023-08-01  unpaid
    """
    send_ok(tenant, debtor_item("D"))
    send_ok(tenant,
            invoice_item("X1", "D", 10000, issue="2023-12-16", due="2024-01-15"),
            invoice_item("X2", "D", 20000, issue="2024-01-01", due="2024-01-20"),
            invoice_item("X3", "D", 30000, issue="2024-01-21", due="2024-02-20"),
            invoice_item("X4", "D", 40000, issue="2024-01-25", due="2024-03-15"),
            invoice_item("X5", "D", 5000, issue="2023-09-01", due="2023-10-01"),
            invoice_item("X6", "D", 7000, issue="2023-07-01", due="2023-08-01"))
    send_ok(tenant,
            payment_item("Y2", "D", 20000, received="2024-02-10", invoices=["X2"]),
            payment_item("Y5", "D", 1000, received="2024-02-05", invoices=["X5"]))
    caught_up(stack, tenant)


def test_roll_rates(stack, tenant, other_tenant):
    roll_ledger(stack, tenant)
    body = ok(stack, tenant.token, "/api/v1/rollrates", as_of="2024-02-29", months=2)
    assert body["tenant"] == tenant.id and body["months"] == 2
    got = {(r["month"], r["bucket"]): r for r in body["rolls"] if r["currency"] == "EUR"}
    assert len(got) == 12

    def check(month, bucket, start_minor, still, rolled, rate):
        r = got[(month, bucket)]
        assert (r["open_at_start_minor"], r["still_open_minor"], r["rolled_minor"],
                r["roll_rate_bp"]) == (start_minor, still, rolled, rate), (month, bucket, r)

    # January: 2023-12-31 -> 2024-01-31.
    #   X1 not yet due on 12-31, 16 days late on 01-31: rolled.
    #   X2 did not exist on 12-31.
    #   X5: 91 days late on 12-31 (Oct 31 + Nov 30 + Dec 30), 122 on 01-31: still 91_180.
    #   X6: 152 days late on 12-31 (31 + 30 + 31 + 30 + 30), 183 on 01-31: over 180, rolled.
    assert (got[("2024-01", "not_due")]["start"], got[("2024-01", "not_due")]["end"]) == \
        ("2023-12-31", "2024-01-31")
    check("2024-01", "not_due", 10000, 10000, 10000, 10000)
    check("2024-01", "1_30", 0, 0, 0, None)
    check("2024-01", "91_180", 12000, 12000, 7000, 5833)     # 7000 / 12000
    check("2024-01", "over_180", 0, 0, 0, None)
    # February: 2024-01-31 -> 2024-02-29.
    #   not due on 01-31: X3 (due 02-20, 9 days late on 02-29: rolled) and X4
    #   (due 03-15: still not due): 30000 of 70000 rolled.
    #   1-30 on 01-31: X1 (16 days, 45 on 02-29: rolled) and X2 (11 days; paid
    #   02-10: cured): 10000 of 30000.
    #   91-180: X5 (122 -> 151 days), 1000 of it paid: 4000 still open, not rolled.
    #   over 180: X6, nowhere later to roll: no rate.
    check("2024-02", "not_due", 70000, 70000, 30000, 4286)
    check("2024-02", "1_30", 30000, 10000, 10000, 3333)
    check("2024-02", "31_60", 0, 0, 0, None)
    check("2024-02", "61_90", 0, 0, 0, None)
    check("2024-02", "91_180", 5000, 4000, 0, 0)
    check("2024-02", "over_180", 7000, 7000, 0, None)

    status, text = api(stack, tenant.token, "/api/v1/rollrates.csv", as_of="2024-02-29", months=1)
    assert status == 200 and len(text.strip().split("\r\n")) == 1 + 6
    assert api(stack, tenant.token, "/api/v1/rollrates", months=0)[0] == 400
    assert api(stack, tenant.token, "/api/v1/rollrates", months=25)[0] == 400
    # Tenant isolation.
    assert ok(stack, other_tenant.token, "/api/v1/rollrates", as_of="2024-02-29")["rolls"] == []
    assert api(stack, "ct_wrong", "/api/v1/rollrates")[0] == 401


def test_forecast_against_actual(stack, tenant, other_tenant):
    """Two snapshots as reporting would have taken them (on the Mondays
    2024-02-05 and 2024-02-12) beside the payments of the roll ledger:
    02-05 (1000 on X5) and 02-10 (20000 on X2), both in the week of 02-05."""
    roll_ledger(stack, tenant)
    with stack.db.cursor() as cur:
        for taken, week, amount in (("2024-02-05", "2024-02-05", 25000),
                                    ("2024-02-05", "2024-02-12", 15000),
                                    ("2024-02-05", "2024-05-06", 99000),   # week 14, "later"
                                    ("2024-02-12", "2024-02-12", 18000),
                                    ("2024-02-12", "2024-02-19", 5000)):
            cur.execute("INSERT INTO rpt_forecast_snapshots (tenant, taken_on, currency, week_start, "
                        "expected_minor, invoices) VALUES (%s, %s, 'EUR', %s, %s, 1)",
                        (tenant.id, taken, week, amount))
    body = ok(stack, tenant.token, "/api/v1/forecast/actual", as_of="2024-02-25", weeks=4)
    weeks = [(w["week_start"], w["week_end"], w["forecast_taken_on"], w["forecast_minor"],
              w["collected_minor"], w["payments_received_minor"], w["forecast_error_minor"])
             for w in body["weeks"] if w["currency"] == "EUR"]
    assert weeks == [
        # No snapshot was taken on or before 01-29.
        ("2024-01-29", "2024-02-04", None, None, 0, 0, None),
        # The snapshot of 02-05 for its own week; 21000 came in.
        ("2024-02-05", "2024-02-11", "2024-02-05", 25000, 21000, 21000, -4000),
        # The later snapshot (02-12) replaces the earlier one's 15000.
        ("2024-02-12", "2024-02-18", "2024-02-12", 18000, 0, 0, -18000),
        ("2024-02-19", "2024-02-25", "2024-02-12", 5000, 0, 0, -5000),
    ]
    assert ok(stack, other_tenant.token, "/api/v1/forecast/actual", as_of="2024-02-25")["weeks"] == []
    assert api(stack, tenant.token, "/api/v1/forecast/actual", weeks=53)[0] == 400


def test_forecast_snapshot_taken_weekly(stack, tenant, other_tenant):
    """Reporting copies risk's predictions at start (and then hourly) when
    this week has no snapshot yet; the predictions are written here as risk
    would (this tenant has no ledger, so risk never touches them)."""
    today = datetime.datetime.now(datetime.timezone.utc).date()
    monday = today - datetime.timedelta(days=today.weekday())
    with stack.db.cursor() as cur:
        for inv, amount, expected in ((1, 1000, monday - datetime.timedelta(days=3)),  # before: week 1
                                      (2, 2000, monday + datetime.timedelta(days=6)),  # week 1
                                      (3, 4000, monday + datetime.timedelta(days=8)),  # week 2
                                      (4, 8000, monday + datetime.timedelta(days=200))):  # later
            cur.execute("INSERT INTO risk_predictions (tenant, invoice_id, debtor_id, currency, "
                        "open_minor, due_date, p_late, expected_delay_days, expected_pay_date, as_of) "
                        "VALUES (%s, %s, 1, 'EUR', %s, %s, 0.5, 0, %s, %s)",
                        (tenant.id, inv, amount, expected, expected, today))
    stack.stop("reporting")
    stack.start("reporting")
    rows = wait_until(lambda: stack.query(
        "SELECT taken_on, week_start, expected_minor, invoices FROM rpt_forecast_snapshots "
        "WHERE tenant = %s ORDER BY week_start", (tenant.id,)), what="this week's snapshot")
    assert rows == [(monday, monday, 3000, 2),
                    (monday, monday + datetime.timedelta(days=7), 4000, 1),
                    (monday, monday + datetime.timedelta(days=91), 8000, 1)]
    # Taken once a week: a restart does not take it again, new predictions
    # wait for next week.
    with stack.db.cursor() as cur:
        cur.execute("UPDATE risk_predictions SET open_minor = 1 WHERE tenant = %s", (tenant.id,))
    stack.stop("reporting")
    stack.start("reporting")
    assert stack.scalar("SELECT sum(expected_minor) FROM rpt_forecast_snapshots WHERE tenant = %s",
                        (tenant.id,)) == 15000
    # This week against what came in so far (nothing: no ledger).
    body = ok(stack, tenant.token, "/api/v1/forecast/actual", weeks=1)
    assert [(w["week_start"], w["forecast_minor"], w["collected_minor"]) for w in body["weeks"]] == \
        [(monday.isoformat(), 3000, 0)]
    assert stack.scalar("SELECT count(*) FROM rpt_forecast_snapshots WHERE tenant = %s",
                        (other_tenant.id,)) == 0


def test_worklist_ranks_by_overdue(stack, tenant, other_tenant):
    """70 debtors: W1..W60 owe 1000 x k, overdue since 2024-01-31; B1..B10
    owe 1,000,000 each, not due before 2024-06-30 (first by open amount,
    last by overdue). The worklist examines debtors by open amount in
    batches (64 first) and must still rank by overdue exactly."""
    send_ok(tenant, *[debtor_item("W%d" % k) for k in range(1, 61)],
            *[debtor_item("B%d" % k) for k in range(1, 11)])
    send_ok(tenant, *[invoice_item("WI%d" % k, "W%d" % k, 1000 * k, issue="2024-01-01",
                                   due="2024-01-31") for k in range(1, 61)],
            *[invoice_item("BI%d" % k, "B%d" % k, 1000000, issue="2024-03-01", due="2024-06-30")
              for k in range(1, 11)])
    caught_up(stack, tenant)
    ids = dict(stack.query("SELECT external_id, id FROM debtors WHERE tenant = %s", (tenant.id,)))
    # First batch: B1..B10 and W60..W7; W60..W56 lead, 56000 > W7's 7000.
    top = ok(stack, tenant.token, "/api/v1/riskiest", as_of="2024-03-31", limit=5)["debtors"]
    assert [(d["debtor_id"], d["overdue_minor"]) for d in top] == \
        [(ids["W%d" % k], 1000 * k) for k in range(60, 55, -1)]
    # 58 lines: the first batch holds only 54 debtors with anything overdue.
    top = ok(stack, tenant.token, "/api/v1/riskiest", as_of="2024-03-31", limit=58)["debtors"]
    assert [(d["debtor_id"], d["overdue_minor"]) for d in top] == \
        [(ids["W%d" % k], 1000 * k) for k in range(60, 2, -1)]
    # After 06-30 the B debtors are overdue and lead.
    top = ok(stack, tenant.token, "/api/v1/riskiest", as_of="2024-07-01", limit=12)["debtors"]
    assert [d["overdue_minor"] for d in top] == [1000000] * 10 + [60000, 59000]
    assert sorted(d["debtor_id"] for d in top[:10]) == sorted(ids["B%d" % k] for k in range(1, 11))
    # Paying W60 in full takes it out of the list (and out of the candidates).
    send_ok(tenant, payment_item("YW60", "W60", 60000, received="2024-03-10", invoices=["WI60"]))
    caught_up(stack, tenant)
    top = ok(stack, tenant.token, "/api/v1/riskiest", as_of="2024-03-31", limit=2)["debtors"]
    assert [d["overdue_minor"] for d in top] == [59000, 58000]
    assert stack.scalar("SELECT open_minor FROM rpt_debtor_open WHERE tenant = %s AND debtor_id = %s",
                        (tenant.id, ids["W60"])) == 0
    assert ok(stack, other_tenant.token, "/api/v1/riskiest", as_of="2024-03-31")["debtors"] == []
