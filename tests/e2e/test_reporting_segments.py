"""Reporting's grade and collector segments end to end: the grade from
risk's RiskScored (stream "risk"), the collector set through
PUT /api/v1/debtors/{id}/collector; open amounts follow the debtor from
segment to segment on the day of the change. Figures worked out by hand;
tenants are kept apart."""

import datetime
import json
import urllib.error
import urllib.request

import pytest

import creance_pb2 as pb

from stack import debtor_item, invoice_item, payment_item, wait_until
from test_reporting_collection import StreamWriter
from test_reporting_kpis import api, caught_up, eur, ok, send_ok


@pytest.fixture
def risk_stopped(stack):
    """Risk would score these debtors itself; the test writes the "risk"
    stream by hand while it is stopped."""
    stack.stop("risk")
    yield
    stack.start("risk")


def us(day):
    return int(datetime.datetime.fromisoformat(day + "T12:00:00+00:00").timestamp() * 1e6)


def scored(stream, debtor, grade, day):
    stream.write("risk_scored", pb.RiskScored(debtor_id=debtor, score=500, grade=grade), us(day))


def put_collector(stack, token, debtor, body):
    url = "http://%s/api/v1/debtors/%s/collector" % (stack.http_addr("reporting"), debtor)
    headers = {"Authorization": "Bearer " + token} if token else {}
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, headers=headers, method="PUT")
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            status, text = r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        status, text = e.code, e.read().decode()
    return status, json.loads(text) if text else None


def by_segment(stack, token, **params):
    body = ok(stack, token, "/api/v1/kpis", **params)
    return {r["segment"]: r for r in body["kpis"] if r["currency"] == "EUR"}


def test_grade_and_collector_segments(stack, tenant, other_tenant, risk_stopped):
    """Debtors G1 (FR) and G2 (DE), EUR:

      A 10000 G1 issued 2024-01-01 due 2024-01-31   paid 2024-03-10
      B 20000 G2 issued 2024-01-15 due 2024-02-29
      C 30000 G1 issued 2024-02-01 due 2024-03-31

      risk: G1 grade B and G2 grade D on 2024-02-10; G1 grade E on 2024-03-05
    """
    g1, g2 = send_ok(tenant, debtor_item("G1"), debtor_item("G2", country="DE"))
    send_ok(tenant,
            invoice_item("A", "G1", 10000, issue="2024-01-01", due="2024-01-31"),
            invoice_item("B", "G2", 20000, issue="2024-01-15", due="2024-02-29"),
            invoice_item("C", "G1", 30000, issue="2024-02-01", due="2024-03-31"))
    caught_up(stack, tenant)
    risk = StreamWriter(stack, tenant.id, "risk")
    scored(risk, g1, "B", "2024-02-10")
    scored(risk, g2, "D", "2024-02-10")
    scored(risk, g1, "B", "2024-02-20")         # the same grade again: nothing moves
    scored(risk, g1, "E", "2024-03-05")
    wait_until(lambda: stack.consumers_caught_up(tenant.id, stream="risk", consumers=("reporting",)),
               what="reporting caught up on stream risk")
    send_ok(tenant, payment_item("YA", "G1", 10000, received="2024-03-10", invoices=["A"]))
    caught_up(stack, tenant)

    # Before any score (2024-02-05) everything is ungraded ("-").
    seg = by_segment(stack, tenant.token, segment="grade", as_of="2024-02-05")
    assert seg["-"]["outstanding_minor"] == 60000
    assert all(r["outstanding_minor"] == 0 for g, r in seg.items() if g != "-")
    # On 02-29: G1's A and C in B (40000, A 29 days overdue), G2's B in D.
    seg = by_segment(stack, tenant.token, segment="grade", as_of="2024-02-29")
    assert (seg["B"]["outstanding_minor"], seg["B"]["overdue_minor"]) == (40000, 10000)
    assert (seg["B"]["aging_1_30_minor"], seg["B"]["aging_not_due_minor"]) == (10000, 30000)
    assert seg["D"]["outstanding_minor"] == 20000
    assert seg["-"]["outstanding_minor"] == 0
    # On 03-31: G1 moved to E on 03-05 and paid A there: E holds C, and
    # collected the 10000 of March; B holds nothing any more.
    seg = by_segment(stack, tenant.token, segment="grade", **{"from": "2024-03-01", "to": "2024-03-31"})
    assert (seg["E"]["outstanding_minor"], seg["E"]["collected_minor"]) == (30000, 10000)
    assert seg["B"]["outstanding_minor"] == 0 and seg["B"]["collected_minor"] == 0
    assert seg["D"]["outstanding_minor"] == 20000
    # Receivables follow too: E opened March with nothing of its own (the
    # move happened in March), B opened it with 40000.
    assert (seg["E"]["opening_receivables_minor"], seg["B"]["opening_receivables_minor"]) == (0, 40000)
    # The segments add up to the whole.
    whole = eur(ok(stack, tenant.token, "/api/v1/kpis", **{"from": "2024-03-01", "to": "2024-03-31"}))
    assert sum(r["outstanding_minor"] for r in seg.values()) == whole["outstanding_minor"] == 50000
    assert sum(r["collected_minor"] for r in seg.values()) == whole["collected_minor"]

    # Collector: nobody ("") until G2 is given to alice, today.
    status, body = put_collector(stack, tenant.token, g2, {"collector": "alice"})
    assert status == 200, body
    assert (body["debtor_id"], body["collector"], body["previous"]) == (g2, "alice", "")
    seg = by_segment(stack, tenant.token, segment="collector")
    assert (seg["alice"]["outstanding_minor"], seg[""]["outstanding_minor"]) == (20000, 30000)
    seg = by_segment(stack, tenant.token, segment="collector", as_of="2024-03-31")
    assert seg[""]["outstanding_minor"] == 50000
    assert seg.get("alice", {"outstanding_minor": 0})["outstanding_minor"] == 0
    # Reassigned to bob: alice's portfolio is empty again.
    status, body = put_collector(stack, tenant.token, g2, {"collector": "bob"})
    assert (status, body["previous"]) == (200, "alice")
    seg = by_segment(stack, tenant.token, segment="collector")
    assert (seg["bob"]["outstanding_minor"], seg["alice"]["outstanding_minor"]) == (20000, 0)
    assert stack.query("SELECT collector FROM rpt_collector_assignments WHERE tenant = %s "
                       "AND debtor_id = %s ORDER BY assigned_at", (tenant.id, g2)) == [("alice",), ("bob",)]

    # Bad requests change nothing.
    assert put_collector(stack, tenant.token, g2, {"collector": "bob smith"})[0] == 400
    assert put_collector(stack, tenant.token, g2, b"not json")[0] == 400
    assert put_collector(stack, tenant.token, 999999999, {"collector": "bob"})[0] == 404
    assert api(stack, tenant.token, "/api/v1/kpis", segment="team")[0] == 400
    # Tenant isolation: another tenant's token cannot touch this debtor, nor see the segments.
    assert put_collector(stack, other_tenant.token, g2, {"collector": "mallory"})[0] == 404
    assert put_collector(stack, "", g2, {"collector": "mallory"})[0] == 401
    assert stack.scalar("SELECT collector FROM rpt_debtors WHERE tenant = %s AND debtor_id = %s",
                        (tenant.id, g2)) == "bob"
    assert ok(stack, other_tenant.token, "/api/v1/kpis", segment="grade")["kpis"] == []
