"""Intake to PostgreSQL, Redis and the reporting API: what a billing system
sends ends up, once and correctly, everywhere it should."""

import re

import psycopg2.errors as pgerr
import pytest

import creance_pb2 as pb

from stack import debtor_item, invoice_item, payment_item, wait_until

ACCEPTED, DUPLICATE, REJECTED = pb.ACCEPTED, pb.DUPLICATE, pb.REJECTED


def statuses(reply):
    return [pb.ItemStatus.Name(r.status) for r in reply.results]


def assert_all(reply, status, n):
    assert reply.error == "", reply
    assert len(reply.results) == n, reply
    assert [r.index for r in reply.results] == list(range(n)), reply
    assert all(r.status == status for r in reply.results), reply
    if status != REJECTED:
        assert all(r.id > 0 for r in reply.results), reply


def ledger_events(stack, tenant_id, event_type):
    """Decoded envelopes of one type from event_log, in sequence order."""
    out = []
    for seq, data in stack.query(
            "SELECT seq, envelope FROM event_log WHERE tenant = %s AND stream = 'ledger' "
            "AND event_type = %s ORDER BY seq", (tenant_id, event_type)):
        env = pb.Envelope()
        env.ParseFromString(bytes(data))
        assert env.seq == seq and env.tenant == tenant_id and env.stream == "ledger", env
        out.append(env)
    return out


def eur_total(body):
    """The EUR line of an outstanding answer, or None."""
    rows = [t for t in body.get("totals", []) if t.get("currency") == "EUR"]
    assert len(rows) <= 1, body
    return rows[0] if rows else None


def reporting_outstanding(tenant, expected):
    """Waits until reporting shows `expected` EUR outstanding; returns the line."""
    def check():
        status, body = tenant.outstanding()
        assert status == 200, (status, body)
        assert body["tenant"] == tenant.id, body
        line = eur_total(body)
        return line if line and line["outstanding_minor"] == expected else None
    return wait_until(check, timeout=30, what="reporting outstanding %d for %s" % (expected, tenant.id))


def test_one_invoice_end_to_end(stack, tenant, other_tenant):
    amount = 123456
    reply = tenant.send(debtor_item("D1", "Boulangerie Martin"),
                        invoice_item("INV-1", "D1", amount))
    assert_all(reply, ACCEPTED, 2)
    debtor_id, invoice_id = reply.results[0].id, reply.results[1].id

    # The system of record.
    rows = stack.query("SELECT debtor_id, amount_minor, open_minor, currency, status, external_id "
                       "FROM invoices WHERE tenant = %s AND id = %s", (tenant.id, invoice_id))
    assert rows == [(debtor_id, amount, amount, "EUR", "open", "INV-1")]
    assert stack.scalar("SELECT legal_name FROM debtors WHERE tenant = %s AND id = %s",
                        (tenant.id, debtor_id)) == "Boulangerie Martin"

    # The durable stream holds the exact event.
    issued = ledger_events(stack, tenant.id, "InvoiceIssued")
    assert len(issued) == 1
    ev = issued[0].invoice_issued
    assert (ev.invoice_id, ev.debtor_id, ev.external_id) == (invoice_id, debtor_id, "INV-1")
    assert (ev.amount.minor, ev.amount.currency) == (amount, "EUR")
    assert len(ledger_events(stack, tenant.id, "DebtorCreated")) == 1
    assert stack.last_seq(tenant.id) == stack.event_count(tenant.id)

    # Risk's cache.
    wait_until(lambda: stack.redis_outstanding(tenant.id, debtor_id) == amount, timeout=30,
               what="redis outstanding:EUR")

    # Another tenant with its own invoice: each sees only its own figures.
    other_amount = 777
    assert_all(other_tenant.send(debtor_item("D1"), invoice_item("INV-1", "D1", other_amount)),
               ACCEPTED, 2)
    line = reporting_outstanding(tenant, amount)
    status, body = tenant.outstanding()
    assert re.match(r"^\d{4}-\d{2}-\d{2}$", body["as_of"]), body
    assert line["invoice_count"] == 1
    assert line["invoiced_minor"] == amount
    reporting_outstanding(other_tenant, other_amount)
    status, body = tenant.outstanding(token=other_tenant.token)
    assert status == 200 and body["tenant"] == other_tenant.id, body
    assert eur_total(body)["outstanding_minor"] == other_amount, body

    # No token, or one that is not ours: 401 naming the header.
    for bad in ("", "ct_not-a-real-token"):
        status, body = tenant.outstanding(token=bad)
        assert status == 401, (bad, status, body)
        assert body["error"]["field"] == "Authorization", body
        assert body["error"]["reason"], body

    # A revoked token stops working.
    stack.query_exec("UPDATE api_tokens SET revoked_at = now() "
                     "WHERE token_hash = sha256(convert_to(%s, 'UTF8'))", (tenant.token,))
    status, body = tenant.outstanding()
    assert status == 401, (status, body)


def test_payment_allocation(stack, tenant):
    # B is sent (and numbered) first but falls due later: oldest due first
    # must pick A, which an allocation by id or arrival order would not.
    reply = tenant.send(debtor_item("D"),
                        invoice_item("B", "D", 50000, issue="2024-01-05", due="2024-03-31"),
                        invoice_item("A", "D", 30000, issue="2024-01-20", due="2024-02-15"))
    assert_all(reply, ACCEPTED, 3)
    debtor_id, inv_b, inv_a = (r.id for r in reply.results)

    reply = tenant.send(payment_item("P1", "D", 40000, received="2024-02-20"))
    assert_all(reply, ACCEPTED, 1)
    payment_id = reply.results[0].id

    inv = dict((i, (o, s)) for i, o, s in stack.query(
        "SELECT id, open_minor, status FROM invoices WHERE tenant = %s", (tenant.id,)))
    assert inv[inv_a] == (0, "paid")
    assert inv[inv_b] == (40000, "open")
    allocs = sorted(stack.query("SELECT invoice_id, amount_minor FROM allocations "
                                "WHERE tenant = %s AND payment_id = %s", (tenant.id, payment_id)))
    assert allocs == sorted([(inv_a, 30000), (inv_b, 10000)])
    assert stack.scalar("SELECT unapplied_minor FROM payments WHERE tenant = %s AND id = %s",
                        (tenant.id, payment_id)) == 0

    alloc_events = ledger_events(stack, tenant.id, "PaymentAllocated")
    assert len(alloc_events) == 1
    pa = alloc_events[0].payment_allocated
    assert [(a.invoice_id, a.amount.minor, a.invoice_open_after.minor) for a in pa.allocations] == \
        [(inv_a, 30000, 0), (inv_b, 10000, 40000)]
    assert pa.unapplied.minor == 0
    assert len(ledger_events(stack, tenant.id, "PaymentReceived")) == 1

    wait_until(lambda: stack.redis_outstanding(tenant.id, debtor_id) == 40000, timeout=30,
               what="redis outstanding after payment")
    line = reporting_outstanding(tenant, 40000)
    assert line["invoiced_minor"] == 80000
    assert line["collected_minor"] == 40000
    assert line["payment_count"] == 1

    # Paying more than is open: B is settled, the rest stays unapplied
    # credit, and nothing shows a negative outstanding.
    reply = tenant.send(payment_item("P2", "D", 50000, received="2024-04-02"))
    assert_all(reply, ACCEPTED, 1)
    p2 = reply.results[0].id
    assert stack.query("SELECT open_minor, status FROM invoices WHERE tenant = %s AND id = %s",
                       (tenant.id, inv_b)) == [(0, "paid")]
    assert stack.scalar("SELECT unapplied_minor FROM payments WHERE tenant = %s AND id = %s",
                        (tenant.id, p2)) == 10000
    pa = ledger_events(stack, tenant.id, "PaymentAllocated")[-1].payment_allocated
    assert [(a.invoice_id, a.amount.minor, a.invoice_open_after.minor) for a in pa.allocations] == \
        [(inv_b, 40000, 0)]
    assert (pa.unapplied.minor, pa.unapplied.currency) == (10000, "EUR")
    wait_until(lambda: stack.redis_outstanding(tenant.id, debtor_id) == 0, timeout=30,
               what="redis outstanding 0 after overpayment")
    line = reporting_outstanding(tenant, 0)
    # Collected is cash received (reporting/aggregates.h), unapplied credit included.
    assert line["collected_minor"] == 90000, line
    assert line["payment_count"] == 2, line


def test_idempotent_replay(stack, tenant):
    batch = tenant.batch(debtor_item("D"),
                         invoice_item("I1", "D", 10000),
                         invoice_item("I2", "D", 20000, due="2024-03-01"),
                         payment_item("P1", "D", 5000))
    first = stack.intake(batch)
    assert_all(first, ACCEPTED, 4)
    events = stack.event_count(tenant.id)
    assert events >= 4

    again = stack.intake(batch)
    assert_all(again, DUPLICATE, 4)
    assert [r.id for r in again.results] == [r.id for r in first.results]
    assert again.batch_id == batch.batch_id
    assert stack.event_count(tenant.id) == events
    assert stack.scalar("SELECT count(*) FROM invoices WHERE tenant = %s", (tenant.id,)) == 2
    assert stack.scalar("SELECT count(*) FROM payments WHERE tenant = %s", (tenant.id,)) == 1
    assert stack.scalar("SELECT sum(amount_minor) FROM allocations WHERE tenant = %s",
                        (tenant.id,)) == 5000

    # Old and new facts mixed: only the new one is recorded.
    mixed = tenant.send(invoice_item("I2", "D", 20000, due="2024-03-01"),
                        invoice_item("I3", "D", 7000))
    assert [r.status for r in mixed.results] == [DUPLICATE, ACCEPTED], mixed
    assert mixed.results[0].id == first.results[2].id
    assert stack.event_count(tenant.id) == events + 1
    events += 1

    # Same external id, other content: a conflict, not an overwrite.
    conflict = tenant.send(invoice_item("I1", "D", 99999))
    assert len(conflict.results) == 1, conflict
    res = conflict.results[0]
    assert res.status == REJECTED, conflict
    assert "external_id" in res.field, conflict
    assert res.reason, conflict
    assert stack.scalar("SELECT amount_minor FROM invoices WHERE tenant = %s AND external_id = 'I1'",
                        (tenant.id,)) == 10000
    assert stack.event_count(tenant.id) == events

    # Consumers applied each fact once: 10000 + 20000 + 7000 - 5000.
    debtor_id = first.results[0].id
    wait_until(lambda: stack.redis_outstanding(tenant.id, debtor_id) == 32000, timeout=30,
               what="redis outstanding 32000")
    reporting_outstanding(tenant, 32000)


def bad_utf8_debtor_item():
    """An IntakeItem whose DebtorFact.legal_name is not UTF-8, encoded by
    hand: python protobuf refuses to build one."""
    def ld(field, payload):
        n, out = len(payload), bytearray([(field << 3) | 2])
        while True:
            b = n & 0x7F
            n >>= 7
            out.append(b | (0x80 if n else 0))
            if not n:
                return bytes(out) + payload
    debtor = ld(1, b"BADNAME") + ld(2, b"Soci\xe9t\xe9 \xff\xfe")
    return ld(1, debtor)  # IntakeItem.debtor = 1


def test_validation(stack, tenant):
    rejected_before = stack.metric("intake", "creance_intake_rejected_total")
    batch = tenant.batch(
        debtor_item("D"),
        invoice_item("X-CUR", "D", 1000, currency="EUX"),
        invoice_item("X-ZERO", "D", 0),
        invoice_item("X-DATES", "D", 1000, issue="2024-03-01", due="2024-02-01"),
        invoice_item("X-NODEBTOR", "nobody", 1000),
        invoice_item("GOOD", "D", 4200),
    )
    # IntakeBatch.items is field 4: one more item appended to the encoding.
    item = bad_utf8_debtor_item()
    data = batch.SerializeToString() + b"\x22" + bytes([len(item)]) + item
    assert len(item) < 128
    reply = stack.intake(data)

    assert reply.error == "", reply
    assert len(reply.results) == 7, reply
    assert [r.index for r in reply.results] == list(range(7)), reply
    assert statuses(reply) == ["ACCEPTED", "REJECTED", "REJECTED", "REJECTED", "REJECTED",
                               "ACCEPTED", "REJECTED"], reply
    expected_fields = {1: "currency", 2: "amount", 3: "due_date", 4: "debtor_external_id",
                       6: "legal_name"}
    for i, field in expected_fields.items():
        r = reply.results[i]
        assert field in r.field, (i, r)
        assert r.reason, (i, r)

    # Nothing written for the rejected items; the good ones recorded.
    assert stack.query("SELECT external_id FROM invoices WHERE tenant = %s", (tenant.id,)) == [("GOOD",)]
    assert stack.query("SELECT external_id FROM debtors WHERE tenant = %s", (tenant.id,)) == [("D",)]
    assert sorted(t for (t,) in stack.query(
        "SELECT event_type FROM event_log WHERE tenant = %s AND stream = 'ledger'", (tenant.id,))) == \
        ["DebtorCreated", "InvoiceIssued"]
    assert stack.scalar("SELECT count(*) FROM intake_items WHERE tenant = %s", (tenant.id,)) == 2

    rejected_after = stack.metric("intake", "creance_intake_rejected_total")
    assert rejected_after - rejected_before >= 5, (rejected_before, rejected_after)

    # The service is still there for the next batch.
    assert_all(tenant.send(invoice_item("GOOD-2", "D", 100)), ACCEPTED, 1)


def test_event_log_rows_match_their_envelopes(stack, tenant):
    """The columns written beside each envelope (binary COPY) say what the
    envelope says: id, type, producer, instant."""
    reply = tenant.send(debtor_item("DE"), invoice_item("IE", "DE", 12000),
                        payment_item("PE", "DE", 5000))
    assert_all(reply, ACCEPTED, 3)
    rows = stack.query(
        "SELECT seq, event_id::text, event_type, producer, "
        "  (extract(epoch FROM occurred_at) * 1000000)::bigint, envelope "
        "FROM event_log WHERE tenant = %s AND stream = 'ledger' ORDER BY seq", (tenant.id,))
    assert [r[0] for r in rows] == list(range(1, len(rows) + 1)) and len(rows) >= 4, rows
    for seq, event_id, event_type, producer, occurred_us, data in rows:
        env = pb.Envelope()
        env.ParseFromString(bytes(data))
        assert (env.seq, env.event_id, env.producer, env.occurred_at_us) == \
            (seq, event_id, producer, occurred_us)
        assert env.WhichOneof("event").replace("_", "") == event_type.lower()


def test_ledger_references_are_checked_per_statement(stack, tenant, other_tenant):
    """Invoices and payments name a debtor of their tenant, allocations a
    payment and an invoice of theirs (migration 0115: checked once per
    statement); the parents are never deleted and keep their keys."""
    reply = tenant.send(debtor_item("DR"), invoice_item("IR", "DR", 10000),
                        payment_item("PR", "DR", 4000))
    assert_all(reply, ACCEPTED, 3)
    debtor_id, invoice_id, payment_id = (r.id for r in reply.results)
    reply = other_tenant.send(debtor_item("DX"))
    assert_all(reply, ACCEPTED, 1)
    foreign_debtor = reply.results[0].id

    def refused(error, sql, args):
        with pytest.raises(error) as exc:
            stack.query_exec(sql, args)
        return str(exc.value)

    invoice_sql = ("INSERT INTO invoices (tenant, debtor_id, source, external_id, number, issue_date, "
                   "due_date, currency, amount_minor, open_minor) "
                   "SELECT %s, d, 'test', 'ref-' || d, 'N', '2025-01-01', '2025-02-01', 'EUR', 100, 100 "
                   "FROM unnest(%s::bigint[]) AS d")
    before = stack.scalar("SELECT count(*) FROM invoices WHERE tenant = %s", (tenant.id,))
    # One good row and one naming the other tenant's debtor: the statement is refused whole.
    msg = refused(pgerr.ForeignKeyViolation, invoice_sql, (tenant.id, [debtor_id, foreign_debtor]))
    assert "invoices.debtor_id" in msg and str(foreign_debtor) in msg, msg
    assert stack.scalar("SELECT count(*) FROM invoices WHERE tenant = %s", (tenant.id,)) == before
    assert stack.query_exec(invoice_sql, (tenant.id, [debtor_id])) == 1

    msg = refused(pgerr.ForeignKeyViolation,
                  "INSERT INTO payments (tenant, debtor_id, source, external_id, received_date, currency, "
                  "amount_minor, unapplied_minor) VALUES (%s, %s, 'test', 'ref-p', '2025-01-01', 'EUR', 1, 1)",
                  (tenant.id, foreign_debtor))
    assert "payments.debtor_id" in msg, msg
    alloc_sql = ("INSERT INTO allocations (tenant, debtor_id, payment_id, invoice_id, currency, amount_minor) "
                 "VALUES (%s, %s, %s, %s, 'EUR', 1)")
    msg = refused(pgerr.ForeignKeyViolation, alloc_sql, (tenant.id, debtor_id, payment_id + 1000000, invoice_id))
    assert "allocations.payment_id" in msg, msg
    msg = refused(pgerr.ForeignKeyViolation, alloc_sql, (tenant.id, debtor_id, payment_id, invoice_id + 1000000))
    assert "allocations.invoice_id" in msg, msg

    msg = refused(pgerr.RestrictViolation, "DELETE FROM debtors WHERE tenant = %s AND id = %s",
                  (tenant.id, debtor_id))
    assert "debtors" in msg, msg
    refused(pgerr.RestrictViolation, "DELETE FROM invoices WHERE tenant = %s AND id = %s", (tenant.id, invoice_id))
    refused(pgerr.RestrictViolation, "DELETE FROM payments WHERE tenant = %s AND id = %s", (tenant.id, payment_id))
    refused(pgerr.RestrictViolation, "UPDATE invoices SET debtor_id = %s WHERE tenant = %s AND id = %s",
            (foreign_debtor, tenant.id, invoice_id))
    # Naming the columns without changing them is an ordinary update.
    assert stack.query_exec("UPDATE invoices SET debtor_id = debtor_id, number = number "
                            "WHERE tenant = %s AND id = %s", (tenant.id, invoice_id)) == 1
    assert stack.scalar("SELECT count(*) FROM debtors WHERE tenant = %s AND id = %s",
                        (tenant.id, debtor_id)) == 1
