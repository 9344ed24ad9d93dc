"""Nothing is lost and nothing is applied twice: consumers that were stopped,
crashed or missed live messages catch up from event_log, exactly once."""

import signal

import creance_pb2 as pb

from stack import LEDGER_CONSUMERS, debtor_item, invoice_item, wait_until

DEBTORS = 5


def make_debtors(tenant):
    reply = tenant.send(*[debtor_item("D%d" % d, "Debtor %d" % d) for d in range(DEBTORS)])
    assert reply.error == "" and all(r.status == pb.ACCEPTED for r in reply.results), reply
    return {"D%d" % d: r.id for d, r in enumerate(reply.results)}


def send_invoices(tenant, n, per_batch=250, prefix="I", start=0):
    """n invoices spread over the debtors, with amounts that differ so that
    an event applied twice or skipped shows in every sum. Returns
    {debtor external id: (count, total)}."""
    expected = {}
    items = []
    for i in range(start, start + n):
        dext = "D%d" % (i % DEBTORS)
        amount = 1000 + (i * 37) % 5003
        items.append(invoice_item("%s%05d" % (prefix, i), dext, amount))
        c, t = expected.get(dext, (0, 0))
        expected[dext] = (c + 1, t + amount)
    for k in range(0, len(items), per_batch):
        chunk = items[k:k + per_batch]
        reply = tenant.send(*chunk)
        assert reply.error == "", reply
        bad = [r for r in reply.results if r.status != pb.ACCEPTED]
        assert len(reply.results) == len(chunk) and not bad, bad[:3]
    return expected


def merge(*dicts):
    out = {}
    for d in dicts:
        for k, (c, t) in d.items():
            oc, ot = out.get(k, (0, 0))
            out[k] = (oc + c, ot + t)
    return out


def assert_applied_once(stack, tenant, debtors, expected):
    """Every consumer is at streams.last_seq, and each consumer's state is
    the sum of the invoices: applied once (twice would double it, a skip
    would lower it)."""
    total = sum(t for _, t in expected.values())
    count = sum(c for c, _ in expected.values())
    last = stack.last_seq(tenant.id)
    assert last == stack.event_count(tenant.id)

    wait_until(lambda: stack.consumers_caught_up(tenant.id), timeout=120,
               what="consumers %s at last_seq %s (positions %s)"
               % (LEDGER_CONSUMERS, last, stack.positions(tenant.id)))
    pos = stack.positions(tenant.id)
    for c in LEDGER_CONSUMERS:
        assert pos[c] == last, pos
    # No other consumer of this stream lags or runs ahead either.
    assert set(pos.values()) == {last}, pos

    # risk: per debtor.
    risk = dict((d, (o, n)) for d, o, n in stack.query(
        "SELECT debtor_id, outstanding_minor, open_invoices FROM risk_debtor_state "
        "WHERE tenant = %s AND currency = 'EUR'", (tenant.id,)))
    for dext, (c, t) in expected.items():
        assert risk.get(debtors[dext]) == (t, c), (dext, risk.get(debtors[dext]), (t, c))

    # reporting: the tenant's totals.
    rpt = stack.query("SELECT outstanding_minor, invoiced_minor, invoice_count FROM rpt_totals "
                      "WHERE tenant = %s AND currency = 'EUR'", (tenant.id,))
    assert rpt == [(total, total, count)], (rpt, total, count)

    # reminders: one open item per invoice.
    rem = stack.query("SELECT count(*), sum(open_minor) FROM rem_open_items WHERE tenant = %s",
                      (tenant.id,))
    assert rem == [(count, total)], (rem, count, total)

    # Redis agrees with risk (written after each commit).
    for dext, (c, t) in expected.items():
        wait_until(lambda: stack.redis_outstanding(tenant.id, debtors[dext]) == t, timeout=30,
                   what="redis outstanding of %s = %d" % (dext, t))


def test_catch_up_after_consumer_stopped(stack, tenant):
    debtors = make_debtors(tenant)
    wait_until(lambda: stack.consumers_caught_up(tenant.id), timeout=60, what="initial catch-up")

    assert stack.stop("risk") == 0
    assert stack.stop("reporting") == 0
    expected = send_invoices(tenant, 1000)
    # Nothing has applied them yet: the consumers were down.
    pos = stack.positions(tenant.id)
    assert pos["risk"] < stack.last_seq(tenant.id), pos
    assert pos["reporting"] < stack.last_seq(tenant.id), pos

    stack.start("risk")
    stack.start("reporting")
    assert_applied_once(stack, tenant, debtors, expected)


def test_gap_catch_up(stack, tenant):
    debtors = make_debtors(tenant)
    wait_until(lambda: stack.consumers_caught_up(tenant.id), timeout=60, what="initial catch-up")

    # A crash: no drain, whatever risk had in hand is lost with it.
    assert stack.kill("risk") == -signal.SIGKILL
    first = send_invoices(tenant, 300, per_batch=100, prefix="A")
    stack.start("risk")
    assert_applied_once(stack, tenant, debtors, first)

    # A live gap: with the broker down, intake commits and publishes into
    # the void; once the broker is back, consumers see sequence numbers jump
    # and must read the missing ones from event_log.
    assert stack.kill("broker") == -signal.SIGKILL
    second = send_invoices(tenant, 100, per_batch=50, prefix="B", start=300)
    stack.start("broker")
    third = send_invoices(tenant, 100, per_batch=50, prefix="C", start=400)
    assert_applied_once(stack, tenant, debtors, merge(first, second, third))


def test_sigterm_while_busy(stack, tenant):
    """SIGTERM while consumers work through a backlog or a live flow: the
    drain commits what is in hand, exits 0, and after the restart every
    event is applied exactly once."""
    debtors = make_debtors(tenant)
    wait_until(lambda: stack.consumers_caught_up(tenant.id), timeout=60, what="initial catch-up")

    # A backlog: risk is stopped while 600 invoices come in, then asked to
    # stop again as soon as it has started on them.
    assert stack.stop("risk") == 0
    first = send_invoices(tenant, 600, per_batch=200, prefix="W")
    stack.start("risk", wait=False)
    assert stack.stop("risk") == 0
    stack.start("risk")

    # A live flow: SIGTERM risk and reporting between two batches.
    second = send_invoices(tenant, 200, per_batch=200, prefix="X", start=600)
    assert stack.stop("risk") == 0
    assert stack.stop("reporting") == 0
    third = send_invoices(tenant, 200, per_batch=100, prefix="Y", start=800)
    stack.start("risk")
    stack.start("reporting")
    assert_applied_once(stack, tenant, debtors, merge(first, second, third))
