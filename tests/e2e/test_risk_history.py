"""Risk's payment history, applied a row of events at a time, equals the
history recomputed event by event from the ledger stream: per debtor the
invoices closed by payments, how many late, the sum of days late and the
exponentially weighted days late (sequential: each closing moves it), and
the tenant's population. The feed is the random one of test_intake_bulk
(runs of invoices and payments, partial payments, several payments of one
debtor in a row, overpayments, credit notes, partial reversals, credit taken
by later invoices)."""

import datetime
import math

import creance_pb2 as pb
import stack as stackmod
from test_intake_bulk import make_feed, send_feed

ALPHA = 0.30                    # risk_policies.ew_alpha_pct default


def days(d):
    return datetime.date(d.year, d.month, d.day).toordinal()


def expected_history(stack, tenant_id):
    """Replays the ledger stream: {debtor_id: [paid, late, sum_delay, ew]}."""
    due, debtor_of, open_ = {}, {}, {}
    hist = {}
    for (data,) in stack.query("SELECT envelope FROM event_log WHERE tenant = %s "
                               "AND stream = 'ledger' ORDER BY seq", (tenant_id,)):
        env = pb.Envelope()
        env.ParseFromString(bytes(data))
        kind = env.WhichOneof("event")
        if kind == "invoice_issued":
            e = env.invoice_issued
            due[e.invoice_id] = days(e.due_date)
            debtor_of[e.invoice_id] = e.debtor_id
            open_[e.invoice_id] = e.amount.minor
        elif kind == "payment_allocated":
            e = env.payment_allocated
            received = days(e.received_date)
            for a in e.allocations:
                before, open_[a.invoice_id] = open_[a.invoice_id], a.invoice_open_after.minor
                if before > 0 and a.invoice_open_after.minor == 0:
                    h = hist.setdefault(debtor_of[a.invoice_id], [0, 0, 0, 0.0])
                    delay = received - due[a.invoice_id]
                    late = max(delay, 0)
                    h[3] = late if h[0] == 0 else ALPHA * late + (1 - ALPHA) * h[3]
                    h[0] += 1
                    h[1] += delay > 0
                    h[2] += delay
        # Credit notes and reversals move an invoice's open amount without
        # making it paid; a reopened invoice may be paid again later.
        elif kind == "payment_reversed":
            for a in env.payment_reversed.reopened:
                open_[a.invoice_id] = a.invoice_open_after.minor
        elif kind == "credit_note_issued" and env.credit_note_issued.invoice_id:
            e = env.credit_note_issued
            open_[e.invoice_id] = e.invoice_open_after.minor
        elif kind == "credit_note_applied":
            e = env.credit_note_applied
            open_[e.invoice_id] = e.invoice_open_after.minor
    return hist


def test_history_equals_replay(stack):
    t = stack.make_tenant("hist")
    send_feed(stack, t, make_feed(7))
    stackmod.wait_until(lambda: stack.consumers_caught_up(t.id, consumers=("risk",)), timeout=60,
                        what="risk caught up")
    want = expected_history(stack, t.id)
    assert sum(h[0] for h in want.values()) > 50          # the feed closes many invoices
    assert any(h[1] > 0 for h in want.values()) and any(h[2] < 0 for h in want.values())
    got = {d: [p, l, s, ew] for d, p, l, s, ew in stack.query(
        "SELECT debtor_id, paid_count, late_count, sum_delay_days, ew_days_late "
        "FROM risk_debtor_profile WHERE tenant = %s AND paid_count > 0", (t.id,))}
    assert sorted(got) == sorted(want)
    for d, h in want.items():
        assert got[d][:3] == h[:3], d
        assert math.isclose(got[d][3], h[3], rel_tol=1e-12, abs_tol=1e-9), (d, got[d], h)
    pop = stack.query("SELECT paid_count, late_count, sum_delay_days FROM risk_population "
                      "WHERE tenant = %s", (t.id,))
    assert pop == [(sum(h[0] for h in want.values()), sum(h[1] for h in want.values()),
                    sum(h[2] for h in want.values()))]
