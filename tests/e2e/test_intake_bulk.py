"""Set-based recording of runs (services/intake/bulk.h) against item-by-item
recording: the same feed sent to two tenants, one with CREANCE_INTAKE_BULK=0
and one with the default, must give the same replies, the same ledger and the
same events, item for item. The feed is random (fixed seed) and full of the
cases where the two paths could differ: payments naming invoices of another
debtor or currency, unknown debtors and invoices, overpayments and credit
notes larger than their invoice (or tied to none) whose credit later
invoices take, oldest first, partial reversals of payments, several
payments of one debtor in one run, replays and conflicts inside a batch, an
all-or-nothing batch with a bad item."""

import random
import re

import pytest

import creance_pb2 as pb
from stack import date_pb, debtor_item, invoice_item, money, payment_item
from test_intake_facts import assert_consumers_match_ledger

ACCEPTED, DUPLICATE, REJECTED = pb.ACCEPTED, pb.DUPLICATE, pb.REJECTED


def make_feed(seed):
    """A list of (items, all_or_nothing) batches, deterministic."""
    rng = random.Random(seed)
    debtors = ["d%02d" % i for i in range(24)]
    batches = [([debtor_item(d, name="Débiteur %s" % d, email="%s@example.fr" % d,
                             country=rng.choice(["FR", "BE", "GB"]))
                 for d in debtors], False)]
    # Replays and an update of a debtor inside one batch.
    batches.append(([debtor_item("d00", name="Débiteur d00", email="d00@example.fr"),
                     debtor_item("d01", name="Autre nom"),
                     debtor_item("d99", name="Nouveau")], False))
    invoices = []               # (ext, debtor, currency)
    n_inv = n_pay = n_cn = n_rev = 0
    day = 0
    for round_ in range(8):
        items = []
        for _ in range(rng.randint(20, 40)):              # a run of invoices
            n_inv += 1
            d = rng.choice(debtors + ["unknown-debtor"])
            cur = "GBP" if rng.random() < 0.15 else "EUR"
            ext = "i%04d" % n_inv
            issue = "2025-%02d-%02d" % (1 + (day // 28) % 12, 1 + day % 28)
            items.append(invoice_item(ext, d, rng.randint(100, 50000), issue=issue,
                                      due=issue, currency=cur))
            if d != "unknown-debtor":
                invoices.append((ext, d, cur))
            day += 1
        if round_ == 2:
            items.append(items[0])                       # a replay inside the batch
        for _ in range(rng.randint(20, 40)):              # a run of payments
            n_pay += 1
            d = rng.choice(debtors + ["unknown-debtor"])
            cur = "GBP" if rng.random() < 0.15 else "EUR"
            named = []
            r = rng.random()
            own = [inv[0] for inv in invoices if inv[1] == d]
            if r < 0.3 and own:
                # Its own invoices (some in the other currency: refused).
                named = rng.sample(own, min(len(own), rng.randint(1, 3)))
            elif r < 0.36 and invoices:
                named = [rng.choice(invoices)[0]]       # mostly another debtor's
            elif r < 0.4:
                named = ["no-such-invoice"]
            # Mostly small; sometimes far more than owed (unapplied credit).
            amount = rng.randint(50, 30000) if rng.random() < 0.85 else rng.randint(100000, 300000)
            received = "2025-%02d-%02d" % (1 + (day // 28) % 12, 1 + day % 28)
            items.append(payment_item("p%04d" % n_pay, d, amount, received=received,
                                      currency=cur, invoices=named))
        if round_ == 3:
            # The same payment id twice in one run: a duplicate, and the same
            # id with other content: a conflict.
            p = items[-1].payment
            items.append(payment_item(p.external_id, p.debtor_external_id, p.amount.minor,
                                      received="2025-06-01", currency=p.amount.currency,
                                      invoices=list(p.invoice_external_ids)))
            items.append(items[-2])
        # Credit notes: on one of the debtor's invoices and often larger than
        # what is open on it, or tied to none (all of it credit), sometimes
        # on another debtor's invoice (refused). Their credit goes to the
        # next rounds' invoices, mixed with overpayments' by date.
        for _ in range(rng.randint(3, 7)):
            n_cn += 1
            d = rng.choice(debtors + ["unknown-debtor"])
            own = [inv for inv in invoices if inv[1] == d]
            r = rng.random()
            tied, cur = "", "GBP" if rng.random() < 0.15 else "EUR"
            if r < 0.5 and own:
                tied, _, cur = rng.choice(own)
            elif r < 0.6 and invoices:
                tied = rng.choice(invoices)[0]
            issued = "2025-%02d-%02d" % (1 + (day // 28) % 12, 1 + day % 28)
            items.append(pb.IntakeItem(credit_note=pb.CreditNoteFact(
                external_id="c%04d" % n_cn, debtor_external_id=d, invoice_external_id=tied,
                number="AV-%d" % n_cn, issue_date=date_pb(issued),
                amount=money(rng.randint(100, 40000), cur))))
            day += 1
        # Partial reversals (refunds) of earlier payments, some too large
        # or of unknown payments (refused).
        for _ in range(rng.randint(1, 3) if n_pay else 0):
            n_rev += 1
            items.append(pb.IntakeItem(payment_reversal=pb.PaymentReversalFact(
                external_id="r%04d" % n_rev, payment_external_id="p%04d" % rng.randint(1, n_pay),
                reversed_date=date_pb("2025-12-01"), reason="refund",
                amount=money(rng.randint(50, 8000), rng.choice(["EUR"] * 6 + ["GBP"])))))
        if round_ == 5:
            rng.shuffle(items)                           # one batch of short runs
        batches.append((items, False))
    # All or nothing, refused because of one unknown debtor in a run.
    batches.append(([invoice_item("aon-1", "d03", 1000), invoice_item("aon-2", "unknown-debtor", 1000),
                     payment_item("aon-p", "d03", 500)], True))
    # All or nothing, accepted.
    batches.append(([invoice_item("aon-3", "d04", 1200), payment_item("aon-p2", "d04", 700)], True))
    return batches


def send_feed(stack, tenant, feed):
    replies = []
    for items, whole in feed:
        b = tenant.batch(*items)
        b.all_or_nothing = whole
        reply = stack.intake(b)
        assert not reply.error, reply.error
        replies.append(reply)
    return replies


def id_names(stack, tenant_id):
    """row id -> (table, external_id) for the tenant's ledger rows."""
    names = {}
    for table in ("debtors", "invoices", "payments", "credit_notes", "payment_refunds"):
        for rid, ext in stack.query("SELECT id, external_id FROM %s WHERE tenant = %%s" % table,
                                    (tenant_id,)):
            names[(table, rid)] = ext
    return names


TABLE_OF_KIND = {"debtor": "debtors", "invoice": "invoices", "payment": "payments",
                 "credit_note": "credit_notes", "payment_reversal": "payment_refunds"}


def reply_view(stack, tenant_id, feed, replies):
    names = id_names(stack, tenant_id)
    out = []
    for (items, _), reply in zip(feed, replies):
        for item, r in zip(items, reply.results):
            kind = item.WhichOneof("fact")
            table = TABLE_OF_KIND[kind]
            ref = names.get((table, r.id)) if r.id else None
            # A conflict names the first record's row id: its external id here.
            reason = re.sub(r"\(id (\d+)\)", lambda m: "(%s)" % names.get((table, int(m.group(1)))),
                            r.reason)
            out.append((kind, r.status, ref, r.field, reason))
    return out


def ledger_view(stack, tenant_id):
    q = lambda sql: sorted(stack.query(sql, (tenant_id,)))
    return {
        "debtors": q("SELECT external_id, legal_name, company_id, kind, country, language, time_zone, "
                     "email, phone, address::text, currency, credit_limit_minor, payment_terms_days "
                     "FROM debtors WHERE tenant = %s"),
        "invoices": q("SELECT i.external_id, d.external_id, number, issue_date, due_date, i.currency, "
                      "amount_minor, open_minor, terms_days, status, paid_date "
                      "FROM invoices i JOIN debtors d ON d.tenant = i.tenant AND d.id = i.debtor_id "
                      "WHERE i.tenant = %s"),
        "payments": q("SELECT p.external_id, d.external_id, received_date, p.currency, amount_minor, "
                      "unapplied_minor, refunded_minor, reversed_at IS NULL, method FROM payments p "
                      "JOIN debtors d ON d.tenant = p.tenant AND d.id = p.debtor_id WHERE p.tenant = %s"),
        "allocations": q("SELECT p.external_id, i.external_id, a.currency, a.amount_minor "
                         "FROM allocations a JOIN payments p ON p.tenant = a.tenant AND p.id = a.payment_id "
                         "JOIN invoices i ON i.tenant = a.tenant AND i.id = a.invoice_id "
                         "WHERE a.tenant = %s"),
        "credit_notes": q("SELECT c.external_id, d.external_id, i.external_id, c.issue_date, c.currency, "
                          "c.amount_minor, c.applied_minor, c.unapplied_minor FROM credit_notes c "
                          "JOIN debtors d ON d.tenant = c.tenant AND d.id = c.debtor_id "
                          "LEFT JOIN invoices i ON i.tenant = c.tenant AND i.id = c.invoice_id "
                          "WHERE c.tenant = %s"),
        "credit_note_applications": q(
            "SELECT c.external_id, i.external_id, a.currency, a.amount_minor "
            "FROM credit_note_applications a "
            "JOIN credit_notes c ON c.tenant = a.tenant AND c.id = a.credit_note_id "
            "JOIN invoices i ON i.tenant = a.tenant AND i.id = a.invoice_id WHERE a.tenant = %s"),
        "payment_refunds": q("SELECT r.external_id, p.external_id, r.amount_minor, r.unapplied_minor "
                             "FROM payment_refunds r JOIN payments p ON p.tenant = r.tenant "
                             "AND p.id = r.payment_id WHERE r.tenant = %s"),
        "intake_items": q("SELECT kind, external_id, content_hash FROM intake_items WHERE tenant = %s"),
    }


ID_FIELDS = {"debtor_id": "debtors", "invoice_id": "invoices", "payment_id": "payments",
             "credit_note_id": "credit_notes"}


def _rename_ids(msg, names):
    """The message as nested tuples, with row ids replaced by external ids."""
    out = []
    for field, value in msg.ListFields():
        if field.message_type is not None:
            if field.label == field.LABEL_REPEATED:
                value = tuple(_rename_ids(v, names) for v in value)
            else:
                value = _rename_ids(value, names)
        elif field.name in ID_FIELDS:
            value = names.get((ID_FIELDS[field.name], value), "?%d" % value)
        out.append((field.name, value))
    return tuple(out)


def event_view(stack, tenant_id):
    names = id_names(stack, tenant_id)
    out = []
    for seq, data in stack.query("SELECT seq, envelope FROM event_log WHERE tenant = %s "
                                 "AND stream = 'ledger' ORDER BY seq", (tenant_id,)):
        env = pb.Envelope()
        env.ParseFromString(bytes(data))
        kind = env.WhichOneof("event")
        out.append((seq, kind, _rename_ids(getattr(env, kind), names)))
    return out


def by_debtor(events):
    """Each debtor's events (kind and renamed fields, not seq), in order."""
    out = {}
    for _, kind, fields in events:
        out.setdefault(dict(fields).get("debtor_id"), []).append((kind, fields))
    return out


def restart_intake(stack, bulk):
    stack.service_env["intake"] = {"CREANCE_INTAKE_BULK": "1" if bulk else "0"}
    try:
        stack.stop("intake")
        stack.start("intake")
    finally:
        stack.service_env.pop("intake", None)


def test_bulk_equals_item_by_item(stack):
    feed = make_feed(20261123)
    one = stack.make_tenant("byitem")
    restart_intake(stack, bulk=False)
    before = stack.metric("intake", "creance_intake_bulk_items_total")
    replies_one = send_feed(stack, one, feed)
    assert stack.metric("intake", "creance_intake_bulk_items_total") == before == 0

    many = stack.make_tenant("bulk")
    restart_intake(stack, bulk=True)
    replies_many = send_feed(stack, many, feed)
    in_runs = stack.metric("intake", "creance_intake_bulk_items_total")
    assert in_runs > 300, in_runs                  # the runs really were recorded set-based
    assert stack.metric("intake", "creance_intake_bursts_redone_total") == 0

    view_one = reply_view(stack, one.id, feed, replies_one)
    view_many = reply_view(stack, many.id, feed, replies_many)
    # The feed exercises what it means to: every outcome occurs.
    statuses = {v[1] for v in view_one}
    reasons = {v[3] for v in view_one if v[1] == REJECTED}
    assert statuses == {ACCEPTED, DUPLICATE, REJECTED}, statuses
    assert {"debtor_external_id", "invoice_external_ids[0]", "external_id", "all_or_nothing"} <= reasons, reasons
    assert any("another debtor" in v[4] for v in view_one)
    assert any(v[4].startswith("invoice '") and " is in " in v[4] for v in view_one)
    for a, b in zip(view_one, view_many):
        assert a == b
    assert len(view_one) == len(view_many)

    ledger_one, ledger_many = ledger_view(stack, one.id), ledger_view(stack, many.id)
    assert any(row[5] > 0 for row in ledger_one["payments"])        # unapplied credit arose
    assert any(row[1].startswith("i") for row in ledger_one["allocations"])
    for table in ledger_one:
        assert ledger_one[table] == ledger_many[table], table

    events_one, events_many = event_view(stack, one.id), event_view(stack, many.id)
    # Credit of an overpayment taken by a later invoice shows as a
    # PaymentAllocated right after its InvoiceIssued.
    kinds = [e[1] for e in events_one]
    assert any(kinds[i] == "invoice_issued" and kinds[i + 1] == "payment_allocated"
               for i in range(len(kinds) - 1))
    # ... and a credit note's excess as a CreditNoteApplied; both kinds of
    # credit were taken by one invoice at least once; partial reversals
    # happened and some were refused.
    assert "credit_note_applied" in kinds
    assert any(kinds[i] == "credit_note_applied" and kinds[i + 1] == "payment_allocated"
               or kinds[i] == "payment_allocated" and kinds[i + 1] == "credit_note_applied"
               for i in range(len(kinds) - 1))
    assert any(e[1] == "payment_reversed" and dict(e[2]).get("partial") for e in events_one)
    assert any(v[0] == "payment_reversal" and v[1] == REJECTED and v[3] == "amount.minor"
               for v in view_one)
    assert any(row[7] > 0 for row in ledger_one["credit_notes"])      # excess credit left over
    assert len(events_one) == len(events_many)
    # The set-based path records a request level by level (intake's
    # order.h): each debtor's events in the same order as item by item,
    # the interleaving of debtors free.
    assert by_debtor(events_one) == by_debtor(events_many)
    assert [e[0] for e in events_many] == list(range(1, len(events_many) + 1))
    # After the stream, risk, reporting and reminders agree with the
    # ledger's tables, credit notes' credit and partial reversals included.
    for t in (one, many):
        assert_consumers_match_ledger(stack, t)


@pytest.fixture
def poison_trigger(stack):
    """A trigger refusing one invoice external id, as a constraint would."""
    stack.query_exec(
        "CREATE OR REPLACE FUNCTION e2e_poison() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN IF NEW.external_id = 'poison' THEN "
        "RAISE EXCEPTION 'poisoned invoice' USING ERRCODE = '23514'; END IF; RETURN NEW; END $$")
    stack.query_exec("CREATE TRIGGER e2e_poison BEFORE INSERT ON invoices "
                     "FOR EACH ROW EXECUTE FUNCTION e2e_poison()")
    yield
    stack.query_exec("DROP TRIGGER e2e_poison ON invoices")
    stack.query_exec("DROP FUNCTION e2e_poison()")


def test_failed_run_is_redone_item_by_item(stack, tenant, poison_trigger):
    """A statement of a run fails: the burst is redone item by item, and only
    the item that fails is rejected."""
    redone = stack.metric("intake", "creance_intake_bursts_redone_total")
    reply = tenant.send(debtor_item("pd"),
                        invoice_item("ok-1", "pd", 1000),
                        invoice_item("poison", "pd", 2000),
                        invoice_item("ok-2", "pd", 3000))
    assert not reply.error
    assert [r.status for r in reply.results] == [ACCEPTED, ACCEPTED, REJECTED, ACCEPTED], reply
    assert reply.results[2].field == "item" and "poisoned invoice" in reply.results[2].reason
    assert stack.metric("intake", "creance_intake_bursts_redone_total") == redone + 1
    assert sorted(r[0] for r in stack.query(
        "SELECT external_id FROM invoices WHERE tenant = %s", (tenant.id,))) == ["ok-1", "ok-2"]
    assert stack.scalar("SELECT count(*) FROM event_log WHERE tenant = %s "
                        "AND event_type = 'InvoiceIssued'", (tenant.id,)) == 2
