"""Intake's facts beyond invoices and payments, through the ZeroMQ endpoint:
adjustments, cancellations, credit notes, reversals, write-offs, plans,
promises, unapplied credit used by a later invoice, and all-or-nothing
batches. Each test checks the ledger rows, the events in event_log and,
where they follow from the events, risk's and reporting's figures."""

import creance_pb2 as pb

from stack import date_pb, debtor_item, invoice_item, money, payment_item, wait_until

ACCEPTED, DUPLICATE, REJECTED = pb.ACCEPTED, pb.DUPLICATE, pb.REJECTED


def ok(reply, n):
    assert reply.error == "", reply
    assert [r.status for r in reply.results] == [ACCEPTED] * n, reply
    return [r.id for r in reply.results]


def rejected(reply, field, words):
    assert reply.error == "", reply
    assert len(reply.results) == 1, reply
    r = reply.results[0]
    assert r.status == REJECTED, reply
    assert r.field == field, reply
    assert words in r.reason, reply
    return r


def events(stack, tenant_id, event_type):
    out = []
    for (data,) in stack.query("SELECT envelope FROM event_log WHERE tenant = %s AND stream = 'ledger' "
                               "AND event_type = %s ORDER BY seq", (tenant_id, event_type)):
        env = pb.Envelope()
        env.ParseFromString(bytes(data))
        out.append(env)
    return out


def invoice_row(stack, tenant, invoice_id):
    return stack.query("SELECT amount_minor, open_minor, status, due_date::text FROM invoices "
                       "WHERE tenant = %s AND id = %s", (tenant.id, invoice_id))[0]


def adjustment(ext, invoice, amount=None, due=None, reason="corrected"):
    f = pb.InvoiceAdjustmentFact(external_id=ext, invoice_external_id=invoice, reason=reason)
    if amount is not None:
        f.new_amount.CopyFrom(money(amount))
    if due is not None:
        f.new_due_date.CopyFrom(date_pb(due))
    return pb.IntakeItem(invoice_adjustment=f)


def cancellation(ext, invoice, on="2024-02-01"):
    return pb.IntakeItem(invoice_cancellation=pb.InvoiceCancellationFact(
        external_id=ext, invoice_external_id=invoice, reason="issued in error",
        cancelled_date=date_pb(on)))


def credit_note(ext, debtor, amount, invoice="", on="2024-02-05"):
    return pb.IntakeItem(credit_note=pb.CreditNoteFact(
        external_id=ext, debtor_external_id=debtor, invoice_external_id=invoice,
        number="AV-" + ext, issue_date=date_pb(on), amount=money(amount)))


def reversal(ext, payment, on="2024-03-10"):
    return pb.IntakeItem(payment_reversal=pb.PaymentReversalFact(
        external_id=ext, payment_external_id=payment, reversed_date=date_pb(on), reason="bounced"))


def write_off(ext, invoice, amount=0, on="2024-06-30"):
    f = pb.WriteOffFact(external_id=ext, invoice_external_id=invoice, date=date_pb(on),
                        reason="insolvency")
    if amount:
        f.amount.CopyFrom(money(amount))
    return pb.IntakeItem(write_off=f)


def test_adjustment_moves_open_amount_and_due_date(stack, tenant):
    debtor, inv = ok(tenant.send(debtor_item("D"), invoice_item("I", "D", 10000)), 2)
    ok(tenant.send(payment_item("P", "D", 3000)), 1)
    assert invoice_row(stack, tenant, inv)[:2] == (10000, 7000)

    # Down by 2000: open follows (7000 -> 5000), the due date moves too.
    (adj,) = ok(tenant.send(adjustment("A1", "I", amount=8000, due="2024-03-15")), 1)
    assert adj > 0
    assert invoice_row(stack, tenant, inv) == (8000, 5000, "open", "2024-03-15")
    ev = events(stack, tenant.id, "InvoiceAdjusted")[-1].invoice_adjusted
    assert (ev.invoice_id, ev.debtor_id) == (inv, debtor)
    assert (ev.old_amount.minor, ev.new_amount.minor) == (10000, 8000)
    assert (ev.old_open_amount.minor, ev.open_amount.minor) == (7000, 5000)
    assert (ev.due_date.year, ev.due_date.month, ev.due_date.day) == (2024, 3, 15)

    # Below what was already paid: refused naming the field; nothing changes.
    before = stack.event_count(tenant.id)
    rejected(tenant.send(adjustment("A2", "I", amount=2000)), "new_amount.minor", "already settled")
    assert invoice_row(stack, tenant, inv) == (8000, 5000, "open", "2024-03-15")
    assert stack.event_count(tenant.id) == before
    # A due date before the issue date, and an adjustment of nothing.
    rejected(tenant.send(adjustment("A3", "I", due="2023-12-31")), "new_due_date", "before")
    rejected(tenant.send(adjustment("A4", "I")), "new_amount", "missing")
    # Replay: the first result; other content under the same id: conflict.
    again = tenant.send(adjustment("A1", "I", amount=8000, due="2024-03-15"))
    assert [(r.status, r.id) for r in again.results] == [(DUPLICATE, adj)]
    rejected(tenant.send(adjustment("A1", "I", amount=9000)), "external_id", "conflict")


def test_cancellation(stack, tenant):
    debtor, inv = ok(tenant.send(debtor_item("D"), invoice_item("I", "D", 12000)), 2)
    (res,) = ok(tenant.send(cancellation("C1", "I")), 1)
    assert res == inv
    assert invoice_row(stack, tenant, inv)[1:3] == (0, "cancelled")
    ev = events(stack, tenant.id, "InvoiceCancelled")[-1].invoice_cancelled
    assert (ev.invoice_id, ev.cancelled_open.minor) == (inv, 12000)
    # Nothing can happen to it any more.
    rejected(tenant.send(cancellation("C2", "I")), "invoice_external_id", "cancelled")
    rejected(tenant.send(write_off("W1", "I")), "invoice_external_id", "cancelled")
    wait_until(lambda: stack.redis_outstanding(tenant.id, debtor) == 0, timeout=30,
               what="risk outstanding 0 after cancellation")


def test_credit_note_tied_and_excess_credit(stack, tenant):
    debtor, inv = ok(tenant.send(debtor_item("D"), invoice_item("I", "D", 5000)), 2)
    (cn,) = ok(tenant.send(credit_note("CN1", "D", 2000, invoice="I")), 1)
    assert invoice_row(stack, tenant, inv)[1:3] == (3000, "open")
    ev = events(stack, tenant.id, "CreditNoteIssued")[-1].credit_note_issued
    assert (ev.credit_note_id, ev.invoice_id, ev.amount.minor, ev.invoice_open_after.minor) == \
        (cn, inv, 2000, 3000)
    # More than is open: the invoice is settled, the rest is credit.
    (cn2,) = ok(tenant.send(credit_note("CN2", "D", 4500, invoice="I")), 1)
    assert invoice_row(stack, tenant, inv)[1:3] == (0, "paid")
    assert stack.query("SELECT applied_minor, unapplied_minor FROM credit_notes "
                       "WHERE tenant = %s AND id = %s", (tenant.id, cn2)) == [(3000, 1500)]
    # Currency and debtor must match.
    ok(tenant.send(debtor_item("E"), invoice_item("J", "E", 100)), 2)
    rejected(tenant.send(credit_note("CN3", "D", 100, invoice="J")), "invoice_external_id",
             "another debtor")
    rejected(tenant.send(credit_note("CN4", "NOBODY", 100)), "debtor_external_id", "unknown debtor")


def test_reversal_reopens_invoices(stack, tenant):
    debtor, a, b = ok(tenant.send(debtor_item("D"),
                                  invoice_item("A", "D", 4000, due="2024-02-01"),
                                  invoice_item("B", "D", 6000, due="2024-03-01")), 3)
    (pay,) = ok(tenant.send(payment_item("P", "D", 11000)), 1)   # pays both, 1000 unapplied
    assert invoice_row(stack, tenant, a)[1:3] == (0, "paid")
    assert invoice_row(stack, tenant, b)[1:3] == (0, "paid")
    wait_until(lambda: stack.redis_outstanding(tenant.id, debtor) == 0, timeout=30,
               what="risk outstanding 0 after payment")

    (res,) = ok(tenant.send(reversal("R1", "P")), 1)
    assert res == pay
    assert invoice_row(stack, tenant, a)[1:3] == (4000, "open")
    assert invoice_row(stack, tenant, b)[1:3] == (6000, "open")
    assert stack.scalar("SELECT count(*) FROM allocations WHERE tenant = %s AND payment_id = %s",
                        (tenant.id, pay)) == 0
    assert stack.query("SELECT unapplied_minor, reversed_at IS NOT NULL, reversal_reason FROM payments "
                       "WHERE tenant = %s AND id = %s", (tenant.id, pay)) == [(0, True, "bounced")]
    ev = events(stack, tenant.id, "PaymentReversed")[-1].payment_reversed
    assert sorted((x.invoice_id, x.amount.minor, x.invoice_open_after.minor) for x in ev.reopened) == \
        sorted([(a, 4000, 4000), (b, 6000, 6000)])
    assert (ev.amount.minor, ev.unapplied_removed.minor) == (11000, 1000)
    wait_until(lambda: stack.redis_outstanding(tenant.id, debtor) == 10000, timeout=30,
               what="risk outstanding back to 10000 after the reversal")

    # Twice: refused, naming the payment; an unknown payment too.
    rejected(tenant.send(reversal("R2", "P")), "payment_external_id", "already reversed")
    rejected(tenant.send(reversal("R3", "NOPE")), "payment_external_id", "unknown payment")


def test_partial_payment_then_write_off(stack, tenant):
    debtor, inv = ok(tenant.send(debtor_item("D"), invoice_item("I", "D", 9000)), 2)
    ok(tenant.send(payment_item("P", "D", 4000, invoices=["I"])), 1)
    assert invoice_row(stack, tenant, inv)[1:3] == (5000, "open")
    rejected(tenant.send(write_off("W0", "I", amount=6000)), "amount.minor", "exceeds the open amount")
    ok(tenant.send(write_off("W1", "I", amount=1000)), 1)
    assert invoice_row(stack, tenant, inv)[1:3] == (4000, "open")
    ok(tenant.send(write_off("W2", "I")), 1)                         # the rest
    assert invoice_row(stack, tenant, inv)[1:3] == (0, "written_off")
    evs = [e.written_off for e in events(stack, tenant.id, "WrittenOff")]
    assert [(e.amount.minor, e.invoice_open_after.minor) for e in evs] == [(1000, 4000), (4000, 0)]
    rejected(tenant.send(write_off("W3", "I")), "invoice_external_id", "written_off")


def test_overpayment_credit_is_used_by_the_next_invoice(stack, tenant):
    debtor, first = ok(tenant.send(debtor_item("D"), invoice_item("I1", "D", 3000)), 2)
    (pay,) = ok(tenant.send(payment_item("P", "D", 10000)), 1)
    assert stack.scalar("SELECT unapplied_minor FROM payments WHERE tenant = %s AND id = %s",
                        (tenant.id, pay)) == 7000

    # A new invoice of 5000 takes 5000 of the 7000 credit; the next one
    # of 4000 takes the last 2000 and stays open for 2000.
    (i2,) = ok(tenant.send(invoice_item("I2", "D", 5000, issue="2024-04-01", due="2024-05-01")), 1)
    assert invoice_row(stack, tenant, i2)[1:3] == (0, "paid")
    (i3,) = ok(tenant.send(invoice_item("I3", "D", 4000, issue="2024-04-02", due="2024-05-02")), 1)
    assert invoice_row(stack, tenant, i3)[1:3] == (2000, "open")
    assert stack.scalar("SELECT unapplied_minor FROM payments WHERE tenant = %s AND id = %s",
                        (tenant.id, pay)) == 0
    allocs = events(stack, tenant.id, "PaymentAllocated")
    tail = [(e.payment_allocated.payment_id, [(a.invoice_id, a.amount.minor, a.invoice_open_after.minor)
                                              for a in e.payment_allocated.allocations],
             e.payment_allocated.unapplied.minor) for e in allocs[-2:]]
    assert tail == [(pay, [(i2, 5000, 0)], 2000), (pay, [(i3, 2000, 2000)], 0)]
    # Issued 12000, paid 10000: 2000 outstanding for risk and reporting.
    wait_until(lambda: stack.redis_outstanding(tenant.id, debtor) == 2000, timeout=30,
               what="risk outstanding 2000")

    def reporting():
        status, body = tenant.outstanding()
        rows = [t for t in body.get("totals", []) if t["currency"] == "EUR"] if status == 200 else []
        return rows and rows[0]["outstanding_minor"] == 2000
    wait_until(reporting, timeout=30, what="reporting outstanding 2000")


def test_payment_plan_and_promise(stack, tenant):
    debtor, a, b = ok(tenant.send(debtor_item("D"), invoice_item("A", "D", 6000),
                                  invoice_item("B", "D", 3000)), 3)
    plan = pb.PaymentPlanFact(external_id="PL1", debtor_external_id="D",
                              invoice_external_ids=["A", "B"], agreed_date=date_pb("2024-03-01"))
    for i, (due, amount) in enumerate((("2024-04-01", 3000), ("2024-05-01", 3000), ("2024-06-01", 3000))):
        plan.instalments.add(number=i + 1, due_date=date_pb(due), amount=money(amount))
    (plan_id,) = ok(tenant.send(pb.IntakeItem(payment_plan=plan)), 1)
    assert stack.query("SELECT total_minor, invoice_ids, status FROM payment_plans WHERE tenant = %s "
                       "AND id = %s", (tenant.id, plan_id)) == [(9000, [a, b], "active")]
    assert stack.query("SELECT number, due_date::text, amount_minor FROM plan_instalments "
                       "WHERE tenant = %s AND plan_id = %s ORDER BY number", (tenant.id, plan_id)) == \
        [(1, "2024-04-01", 3000), (2, "2024-05-01", 3000), (3, "2024-06-01", 3000)]
    ev = events(stack, tenant.id, "PaymentPlanAgreed")[-1].plan_agreed
    assert (ev.plan_id, list(ev.invoice_ids), len(ev.instalments)) == (plan_id, [a, b], 3)

    # Instalments out of order: refused naming the instalment.
    bad = pb.PaymentPlanFact(external_id="PL2", debtor_external_id="D", agreed_date=date_pb("2024-03-01"))
    bad.instalments.add(due_date=date_pb("2024-05-01"), amount=money(100))
    bad.instalments.add(due_date=date_pb("2024-04-01"), amount=money(100))
    rejected(tenant.send(pb.IntakeItem(payment_plan=bad)), "instalments[1].due_date", "not after")

    promise = pb.PromiseFact(external_id="PR1", debtor_external_id="D", amount=money(2500),
                             promised_date=date_pb("2024-03-20"), invoice_external_ids=["B"])
    (pr,) = ok(tenant.send(pb.IntakeItem(promise=promise)), 1)
    assert stack.query("SELECT amount_minor, promised_date::text, invoice_ids FROM promises "
                       "WHERE tenant = %s AND id = %s", (tenant.id, pr)) == [(2500, "2024-03-20", [b])]
    ev = events(stack, tenant.id, "PromiseMade")[-1].promise_made
    assert (ev.promise_id, ev.amount.minor, list(ev.invoice_ids)) == (pr, 2500, [b])
    zero = pb.PromiseFact(external_id="PR2", debtor_external_id="D", amount=money(0),
                          promised_date=date_pb("2024-03-20"))
    rejected(tenant.send(pb.IntakeItem(promise=zero)), "amount.minor", "greater than 0")


def test_all_or_nothing(stack, tenant):
    ok(tenant.send(debtor_item("D")), 1)
    events_before = stack.event_count(tenant.id)
    rejected_before = stack.metric("intake", "creance_intake_rejected_total",
                                   {"reason": "batch_refused"})
    batch = tenant.batch(invoice_item("G1", "D", 100), invoice_item("G2", "NOBODY", 100),
                         invoice_item("G3", "D", 100))
    batch.all_or_nothing = True
    reply = stack.intake(batch)
    assert [r.status for r in reply.results] == [REJECTED] * 3, reply
    assert reply.results[1].field == "debtor_external_id"
    for i in (0, 2):
        assert reply.results[i].field == "all_or_nothing"
        assert reply.results[i].reason == "batch refused: item 1 rejected"
    assert stack.scalar("SELECT count(*) FROM invoices WHERE tenant = %s", (tenant.id,)) == 0
    assert stack.event_count(tenant.id) == events_before
    assert stack.metric("intake", "creance_intake_rejected_total",
                        {"reason": "batch_refused"}) == rejected_before + 2

    # The same without the bad item goes through whole, and later batches
    # in order after it (sequence numbers follow the work).
    good = tenant.batch(invoice_item("G1", "D", 100), invoice_item("G3", "D", 100))
    good.all_or_nothing = True
    ok(stack.intake(good), 2)
    assert stack.event_count(tenant.id) == events_before + 2
    assert stack.last_seq(tenant.id) == stack.event_count(tenant.id)


# ------------------------------------------- consumers against the ledger

def assert_consumers_match_ledger(stack, tenant):
    """After the stream: risk's outstanding and open-invoice count per debtor
    and currency, reporting's running totals and per-invoice open amounts,
    and reminders' open items all equal a recomputation from the ledger's
    own tables (invoices.open_minor, which intake keeps)."""
    wait_until(lambda: stack.consumers_caught_up(tenant.id), timeout=60,
               what="risk, reminders and reporting caught up")
    ledger = {}
    for debtor, cur, open_, n in stack.query(
            "SELECT debtor_id, currency, sum(open_minor), count(*) FILTER (WHERE open_minor > 0) "
            "FROM invoices WHERE tenant = %s GROUP BY 1, 2", (tenant.id,)):
        ledger[(debtor, cur)] = (int(open_), n)
    risk = {(d, c): (o, n) for d, c, o, n in stack.query(
        "SELECT debtor_id, currency, outstanding_minor, open_invoices FROM risk_debtor_state "
        "WHERE tenant = %s", (tenant.id,))}
    # A currency with credit only (no invoice) must show nothing owed.
    for key, value in risk.items():
        assert value == ledger.get(key, (0, 0)), ("risk", key, value, ledger.get(key))
    for key, value in ledger.items():
        assert risk.get(key, (0, 0)) == value, ("risk", key, risk.get(key), value)
        assert stack.redis_outstanding(tenant.id, key[0], key[1]) == value[0], ("redis", key)
    per_cur = {}
    for (_, cur), (open_, _) in ledger.items():
        per_cur[cur] = per_cur.get(cur, 0) + open_
    totals = dict(stack.query("SELECT currency, outstanding_minor FROM rpt_totals WHERE tenant = %s",
                              (tenant.id,)))
    for cur in set(per_cur) | set(totals):
        assert totals.get(cur, 0) == per_cur.get(cur, 0), ("reporting totals", cur, totals, per_cur)
    assert sorted(stack.query("SELECT invoice_id, open_minor FROM rpt_invoices WHERE tenant = %s",
                              (tenant.id,))) == \
        sorted(stack.query("SELECT id, open_minor FROM invoices WHERE tenant = %s", (tenant.id,)))
    assert sorted(stack.query("SELECT invoice_id, open_minor FROM risk_invoices WHERE tenant = %s",
                              (tenant.id,))) == \
        sorted(stack.query("SELECT id, open_minor FROM invoices WHERE tenant = %s", (tenant.id,)))
    assert sorted(stack.query("SELECT invoice_id, open_minor FROM rem_open_items WHERE tenant = %s",
                              (tenant.id,))) == \
        sorted(stack.query("SELECT id, open_minor FROM invoices WHERE tenant = %s "
                           "AND open_minor > 0 AND status = 'open'", (tenant.id,)))
    return ledger


def tail_events(stack, tenant_id, after_seq):
    """(kind, message) of the ledger events after `after_seq`."""
    out = []
    for (data,) in stack.query("SELECT envelope FROM event_log WHERE tenant = %s AND stream = 'ledger' "
                               "AND seq > %s ORDER BY seq", (tenant_id, after_seq)):
        env = pb.Envelope()
        env.ParseFromString(bytes(data))
        kind = env.WhichOneof("event")
        out.append((kind, getattr(env, kind)))
    return out


def credit_events(evs):
    """The credit uses among events: (kind, source id, invoice, amount, open after, left)."""
    out = []
    for kind, e in evs:
        if kind == "credit_note_applied":
            out.append(("cn", e.credit_note_id, e.invoice_id, e.amount.minor,
                        e.invoice_open_after.minor, e.unapplied.minor))
        elif kind == "payment_allocated":
            for a in e.allocations:
                out.append(("pay", e.payment_id, a.invoice_id, a.amount.minor,
                            a.invoice_open_after.minor, e.unapplied.minor))
    return out


def test_credit_note_excess_is_used_by_later_invoices(stack, tenant):
    """A credit note's excess is unapplied credit that later invoices take,
    together with payments' credit, oldest first (a credit note before a
    payment on the same day); risk, reporting and reminders count each
    application once."""
    debtor, i1 = ok(tenant.send(debtor_item("D"), invoice_item("I1", "D", 1000, issue="2024-01-10")), 2)
    # CN1 1500 on I1 (1000 open): 1000 applied, 500 of credit, dated 02-01.
    # CN2 700 tied to nothing, dated 01-20; P 2000 on 01-25 finds nothing open;
    # P2 300 on 02-01, the same day as CN1; CN3 in GBP is not for EUR invoices.
    cn1, cn2, p, p2, cn3 = ok(tenant.send(
        credit_note("CN1", "D", 1500, invoice="I1", on="2024-02-01"),
        credit_note("CN2", "D", 700, on="2024-01-20"),
        payment_item("P", "D", 2000, received="2024-01-25"),
        payment_item("P2", "D", 300, received="2024-02-01"),
        pb.IntakeItem(credit_note=pb.CreditNoteFact(
            external_id="CN3", debtor_external_id="D", number="AV-3",
            issue_date=date_pb("2024-01-01"), amount=money(400, "GBP")))), 5)
    assert invoice_row(stack, tenant, i1)[1:3] == (0, "paid")
    issued = events(stack, tenant.id, "CreditNoteIssued")
    assert [(e.credit_note_issued.credit_note_id, e.credit_note_issued.applied.minor)
            for e in issued] == [(cn1, 1000), (cn2, 0), (cn3, 0)]
    # Nothing is owed now: the credit does not make the debtor owe less than 0.
    assert_consumers_match_ledger(stack, tenant)

    seq = stack.last_seq(tenant.id)
    i2, i3, i4 = ok(tenant.send(invoice_item("I2", "D", 1000, issue="2024-03-01", due="2024-03-31"),
                                invoice_item("I3", "D", 2500, issue="2024-03-02", due="2024-04-01"),
                                invoice_item("I4", "D", 1000, issue="2024-03-03", due="2024-04-02")), 3)
    uses = credit_events(tail_events(stack, tenant.id, seq))
    assert uses == [
        ("cn", cn2, i2, 700, 300, 0),       # 01-20: the oldest credit
        ("pay", p, i2, 300, 0, 1700),       # 01-25
        ("pay", p, i3, 1700, 800, 0),
        ("cn", cn1, i3, 500, 300, 0),       # 02-01: the credit note before the payment
        ("pay", p2, i3, 300, 0, 0),
    ], uses
    assert [invoice_row(stack, tenant, i)[1:3] for i in (i2, i3, i4)] == \
        [(0, "paid"), (0, "paid"), (1000, "open")]
    assert stack.query("SELECT external_id, applied_minor, unapplied_minor FROM credit_notes "
                       "WHERE tenant = %s ORDER BY id", (tenant.id,)) == \
        [("CN1", 1500, 0), ("CN2", 700, 0), ("CN3", 0, 400)]
    assert sorted(stack.query("SELECT credit_note_id, invoice_id, amount_minor "
                              "FROM credit_note_applications WHERE tenant = %s", (tenant.id,))) == \
        sorted([(cn2, i2, 700), (cn1, i3, 500)])
    assert stack.query("SELECT external_id, unapplied_minor FROM payments WHERE tenant = %s "
                       "ORDER BY id", (tenant.id,)) == [("P", 0), ("P2", 0)]
    ledger = assert_consumers_match_ledger(stack, tenant)
    assert ledger[(debtor, "EUR")] == (1000, 1)
    # Reporting's running totals: invoiced 5500 (I1..I4), collected the 2300
    # of payments only: a credit note's credit is not cash, applied or not.
    caught = stack.query("SELECT collected_minor, invoiced_minor FROM rpt_totals "
                         "WHERE tenant = %s AND currency = 'EUR'", (tenant.id,))
    assert caught == [(2300, 5500)], caught


def partial(ext, payment, amount, on="2024-03-10"):
    return pb.IntakeItem(payment_reversal=pb.PaymentReversalFact(
        external_id=ext, payment_external_id=payment, reversed_date=date_pb(on),
        reason="refund", amount=money(amount)))


def test_partial_reversal_takes_credit_then_latest_allocations(stack, tenant):
    debtor, a, b = ok(tenant.send(debtor_item("D"),
                                  invoice_item("A", "D", 4000, due="2024-02-01"),
                                  invoice_item("B", "D", 6000, due="2024-03-01")), 3)
    (pay,) = ok(tenant.send(payment_item("P", "D", 11000)), 1)   # A then B, 1000 unapplied

    # 1500 back: the 1000 of credit first, then 500 from B (paid last).
    seq = stack.last_seq(tenant.id)
    (r1,) = ok(tenant.send(partial("RF1", "P", 1500)), 1)
    # The reply names the refund's own row (its id may equal the payment's:
    # two sequences), not the payment.
    assert stack.scalar("SELECT id FROM payment_refunds WHERE tenant = %s AND external_id = 'RF1'",
                        (tenant.id,)) == r1
    assert invoice_row(stack, tenant, a)[1:3] == (0, "paid")
    assert invoice_row(stack, tenant, b)[1:3] == (500, "open")
    assert stack.query("SELECT amount_minor, unapplied_minor, refunded_minor, reversed_at IS NULL "
                       "FROM payments WHERE tenant = %s AND id = %s", (tenant.id, pay)) == \
        [(11000, 0, 1500, True)]
    assert sorted(stack.query("SELECT invoice_id, amount_minor FROM allocations WHERE tenant = %s "
                              "AND payment_id = %s", (tenant.id, pay))) == sorted([(a, 4000), (b, 5500)])
    assert stack.query("SELECT id, payment_id, external_id, amount_minor, unapplied_minor FROM "
                       "payment_refunds WHERE tenant = %s", (tenant.id,)) == \
        [(r1, pay, "RF1", 1500, 1000)]
    (kind, ev), = tail_events(stack, tenant.id, seq)
    assert kind == "payment_reversed"
    assert (ev.payment_id, ev.amount.minor, ev.unapplied_removed.minor, ev.partial, ev.external_id) == \
        (pay, 1500, 1000, True, "RF1")
    assert [(x.invoice_id, x.amount.minor, x.invoice_open_after.minor) for x in ev.reopened] == \
        [(b, 500, 500)]

    # The same refund again: the first result, nothing moves.
    before = stack.event_count(tenant.id)
    again = tenant.send(partial("RF1", "P", 1500))
    assert [(r.status, r.id) for r in again.results] == [(DUPLICATE, r1)]
    assert stack.event_count(tenant.id) == before
    assert invoice_row(stack, tenant, b)[1:3] == (500, "open")
    # More than is left (9500), another currency: refused naming the field.
    rejected(tenant.send(partial("RF2", "P", 9501)), "amount.minor", "exceeds the 9500 left")
    bad = partial("RF3", "P", 100)
    bad.payment_reversal.amount.currency = "GBP"
    rejected(tenant.send(bad), "amount.currency", "differs from the payment's currency")

    # 6000 more: the rest of B (5500) then 500 of A.
    ok(tenant.send(partial("RF4", "P", 6000)), 1)
    assert invoice_row(stack, tenant, b)[1:3] == (6000, "open")
    assert invoice_row(stack, tenant, a)[1:3] == (500, "open")
    assert_consumers_match_ledger(stack, tenant)
    # The last 3500: the payment is gone (reversed), A wholly open again.
    ok(tenant.send(partial("RF5", "P", 3500)), 1)
    assert invoice_row(stack, tenant, a)[1:3] == (4000, "open")
    assert stack.query("SELECT refunded_minor, reversed_at IS NOT NULL FROM payments "
                       "WHERE tenant = %s AND id = %s", (tenant.id, pay)) == [(11000, True)]
    assert stack.scalar("SELECT count(*) FROM allocations WHERE tenant = %s AND payment_id = %s",
                        (tenant.id, pay)) == 0
    rejected(tenant.send(partial("RF6", "P", 1)), "payment_external_id", "already reversed")
    ledger = assert_consumers_match_ledger(stack, tenant)
    assert ledger[(debtor, "EUR")] == (10000, 2)
    # Collected: 11000 received, 11000 given back.
    assert stack.scalar("SELECT collected_minor FROM rpt_totals WHERE tenant = %s "
                        "AND currency = 'EUR'", (tenant.id,)) == 0


def test_credit_note_credit_goes_to_open_invoices_oldest_first(stack, tenant):
    """A credit note's credit (all of it when it names no invoice, the
    excess over its invoice otherwise) goes to the debtor's other open
    invoices in its currency, oldest due first, as a payment naming no
    invoice does; only what none takes stays as credit. The consumers count
    each application once."""
    debtor, a, b, c, g = ok(tenant.send(
        debtor_item("D"),
        invoice_item("A", "D", 1000, issue="2024-01-01", due="2024-02-01"),
        invoice_item("B", "D", 800, issue="2024-01-15", due="2024-03-01"),
        invoice_item("C", "D", 600, issue="2024-02-01", due="2024-04-01"),
        invoice_item("G", "D", 900, issue="2024-01-01", due="2024-01-31", currency="GBP")), 5)

    seq = stack.last_seq(tenant.id)
    (cn1,) = ok(tenant.send(credit_note("CN1", "D", 1500, on="2024-03-05")), 1)
    assert credit_events(tail_events(stack, tenant.id, seq)) == [
        ("cn", cn1, a, 1000, 0, 500),
        ("cn", cn1, b, 500, 300, 0),
    ]
    assert [invoice_row(stack, tenant, i)[1:3] for i in (a, b, c, g)] == \
        [(0, "paid"), (300, "open"), (600, "open"), (900, "open")]

    # Tied to C (600 open) for 2000: 600 to C, 300 to B, 1100 left.
    seq = stack.last_seq(tenant.id)
    (cn2,) = ok(tenant.send(credit_note("CN2", "D", 2000, invoice="C", on="2024-03-10")), 1)
    assert credit_events(tail_events(stack, tenant.id, seq)) == [("cn", cn2, b, 300, 0, 1100)]
    assert [invoice_row(stack, tenant, i)[1:3] for i in (b, c, g)] == \
        [(0, "paid"), (0, "paid"), (900, "open")]
    assert stack.query("SELECT external_id, applied_minor, unapplied_minor FROM credit_notes "
                       "WHERE tenant = %s ORDER BY id", (tenant.id,)) == \
        [("CN1", 1500, 0), ("CN2", 900, 1100)]
    assert sorted(stack.query("SELECT credit_note_id, invoice_id, amount_minor "
                              "FROM credit_note_applications WHERE tenant = %s", (tenant.id,))) == \
        sorted([(cn1, a, 1000), (cn1, b, 500), (cn2, b, 300)])

    # What is left is taken by the next invoice.
    seq = stack.last_seq(tenant.id)
    (d,) = ok(tenant.send(invoice_item("E", "D", 1500, issue="2024-04-01", due="2024-05-01")), 1)
    assert credit_events(tail_events(stack, tenant.id, seq)) == [("cn", cn2, d, 1100, 400, 0)]
    ledger = assert_consumers_match_ledger(stack, tenant)
    assert ledger[(debtor, "EUR")] == (400, 1)
    assert ledger[(debtor, "GBP")] == (900, 1)
