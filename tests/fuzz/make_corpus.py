#!/usr/bin/python3
"""Writes the fuzzers' seed corpus: tests/fuzz/corpus/<target>/<sha1>.

Valid messages of every kind the decoders read (envelopes of each event,
IntakeBatch with each fact, queries), plus a few malformed ones (truncated,
bad UTF-8, wrong types). Deterministic: running it again gives the same
files. Needs creance_pb2 on PYTHONPATH (make BUILD=<dir> <dir>/gen/py/creance_pb2.py):

    PYTHONPATH=build-fuzz/gen/py /usr/bin/python3 tests/fuzz/make_corpus.py
"""
import hashlib
import os
import sys

import creance_pb2 as pb

HERE = os.path.dirname(os.path.abspath(__file__))
EVENT_ID = "6f1c2a8e-3b0d-4c55-9e11-2f7a9d4b8c01"


def write(target, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, hashlib.sha1(data).hexdigest()), "wb") as f:
        f.write(data)


def money(minor, cur="EUR"):
    return pb.Money(minor=minor, currency=cur)


def date(y, m, d):
    return pb.Date(year=y, month=m, day=d)


def malformed(target, good):
    """Truncations, a flipped byte and an appended unknown field."""
    write(target, good[: len(good) // 2])
    write(target, good[:-1])
    flipped = bytearray(good)
    flipped[len(good) // 3] ^= 0xFF
    write(target, bytes(flipped))
    write(target, good + b"\xf8\x07\x01")       # field 127, varint 1
    write(target, b"")
    write(target, b"\xff" * 12)


def envelopes():
    def env(**event):
        e = pb.Envelope(tenant="acme", stream="ledger", seq=42, event_id=EVENT_ID,
                        occurred_at_us=1700000000000000, producer="intake", source="erp")
        for k, v in event.items():
            getattr(e, k).CopyFrom(v)
        return e.SerializeToString()

    samples = [
        env(debtor_created=pb.DebtorCreated(debtor_id=1, external_id="D1", legal_name="Dupont SARL",
                                            country="FR", payment_terms_days=30)),
        env(invoice_issued=pb.InvoiceIssued(invoice_id=7, debtor_id=1, external_id="F-1", number="F-1",
                                            amount=money(123450), issue_date=date(2024, 1, 10),
                                            due_date=date(2024, 2, 9), terms_days=30)),
        env(payment_received=pb.PaymentReceived(payment_id=3, debtor_id=1, external_id="P-1",
                                                amount=money(5000))),
        env(payment_allocated=pb.PaymentAllocated(payment_id=3, debtor_id=1, allocations=[
            pb.Allocation(invoice_id=7, amount=money(5000))])),
        env(dispute_opened=pb.DisputeOpened(dispute_id=2, debtor_id=1, invoice_id=7, reason="qualité")),
        env(risk_scored=pb.RiskScored(debtor_id=1, score=640, grade="C", factors=[
            pb.RiskFactor(name="overdue", contribution=-120, detail="2 invoices")])),
        env(reminder_sent=pb.ReminderSent(reminder_id=9, debtor_id=1, level=2)),
    ]
    for s in samples:
        write("fuzz_envelope", s)
    malformed("fuzz_envelope", samples[1])
    # Header faults: no tenant, seq 0, short event id, no event.
    for kw in ({"tenant": ""}, {"seq": 0}, {"event_id": "x"}):
        e = pb.Envelope(tenant="acme", stream="ledger", seq=1, event_id=EVENT_ID)
        e.debtor_created.debtor_id = 1
        for k, v in kw.items():
            setattr(e, k, v)
        write("fuzz_envelope", e.SerializeToString())
    write("fuzz_envelope", pb.Envelope(tenant="acme", stream="ledger", seq=1,
                                       event_id=EVENT_ID).SerializeToString())


def batches():
    debtor = pb.IntakeItem(debtor=pb.DebtorFact(
        external_id="D1", legal_name="Dupont SARL", company_id="552100554", country="FR",
        language="fr", email="compta@dupont.fr",
        address=pb.PostalAddress(line1="1 rue de la Paix", postal_code="75002", city="Paris",
                                 country="FR"),
        credit_limit=money(1000000), payment_terms_days=30))
    invoice = pb.IntakeItem(invoice=pb.InvoiceFact(
        external_id="F-1", debtor_external_id="D1", number="F-2024-0001",
        issue_date=date(2024, 1, 10), due_date=date(2024, 2, 9), amount=money(123450), terms_days=30))
    payment = pb.IntakeItem(payment=pb.PaymentFact(
        external_id="P-1", debtor_external_id="D1", received_date=date(2024, 3, 1),
        amount=money(5000), method="transfer", invoice_external_ids=["F-1"]))
    dispute = pb.IntakeItem(dispute=pb.DisputeFact(
        external_id="L-1", invoice_external_id="F-1", amount=money(1000), reason="damaged",
        opened_date=date(2024, 2, 1)))
    resolve = pb.IntakeItem(dispute=pb.DisputeFact(
        external_id="L-1", resolve=True, outcome="rejected", resolved_date=date(2024, 2, 20)))
    extra = []
    for name, fact in (("invoice_adjustment", pb.InvoiceAdjustmentFact(
                            external_id="A-1", invoice_external_id="F-1", new_amount=money(100000),
                            reason="discount")),
                       ("credit_note", pb.CreditNoteFact(
                            external_id="C-1", debtor_external_id="D1", invoice_external_id="F-1",
                            number="AV-1", issue_date=date(2024, 2, 2), amount=money(2000))),
                       ("write_off", pb.WriteOffFact(external_id="W-1", invoice_external_id="F-1",
                                                     date=date(2024, 6, 1), reason="bankrupt"))):
        if name in pb.IntakeItem.DESCRIPTOR.fields_by_name:
            item = pb.IntakeItem()
            getattr(item, name).CopyFrom(fact)
            extra.append(item)
    items = [debtor, invoice, payment, dispute, resolve] + extra

    def batch(items, **kw):
        b = pb.IntakeBatch(tenant=kw.get("tenant", "acme"), source=kw.get("source", "erp"),
                           batch_id=kw.get("batch_id", "b-1"))
        b.items.extend(items)
        return b.SerializeToString()

    full = batch(items)
    write("fuzz_intake_batch", full)
    for it in items:
        write("fuzz_intake_batch", batch([it]))
    malformed("fuzz_intake_batch", full)
    # Field-level faults the validator must name.
    bad = pb.IntakeItem()
    bad.CopyFrom(invoice)
    bad.invoice.amount.currency = "XXQ"
    write("fuzz_intake_batch", batch([bad]))
    bad.CopyFrom(invoice)
    bad.invoice.issue_date.month = 13
    write("fuzz_intake_batch", batch([bad]))
    bad.CopyFrom(debtor)
    bad.debtor.legal_name = "x" * 300
    write("fuzz_intake_batch", batch([bad]))
    write("fuzz_intake_batch", batch([pb.IntakeItem()]))
    write("fuzz_intake_batch", batch([invoice], tenant=""))
    # Invalid UTF-8 inside strings: protobuf's Python runtime refuses to
    # serialise it, so patch the bytes of a valid encoding.
    raw = batch([debtor], batch_id="bbbb")
    write("fuzz_intake_batch", raw.replace(b"bbbb", b"b\xc3\x28b"))
    write("fuzz_intake_batch", raw.replace(b"Dupont", b"Dup\xed\xa0\x80t"))


def queries():
    q = pb.Query(get_debtor_risk=pb.GetDebtorRisk(tenant="acme", debtor_id=12))
    write("fuzz_query", q.SerializeToString())
    q2 = pb.Query(get_debtor_risk=pb.GetDebtorRisk(tenant="acme", debtor_external_id="D1"))
    write("fuzz_query", q2.SerializeToString())
    c = pb.Query(check_credit=pb.CheckCredit(tenant="acme", debtor_id=12, amount=money(500000)))
    write("fuzz_query", c.SerializeToString())
    for bad in (pb.GetDebtorRisk(tenant="", debtor_id=1), pb.GetDebtorRisk(tenant="Acme!", debtor_id=1),
                pb.GetDebtorRisk(tenant="acme", debtor_id=-3), pb.GetDebtorRisk(tenant="acme"),
                pb.GetDebtorRisk(tenant="acme", debtor_external_id="e" * 300)):
        write("fuzz_query", pb.Query(get_debtor_risk=bad).SerializeToString())
    write("fuzz_query", pb.Query().SerializeToString())
    malformed("fuzz_query", q2.SerializeToString())
    raw = pb.Query(get_debtor_risk=pb.GetDebtorRisk(tenant="abcd", debtor_id=-1)).SerializeToString()
    write("fuzz_query", raw.replace(b"abcd", b"a\xffcd"))


def config():
    for s in ("5000", "-1", "0", "9223372036854775807", "9223372036854775808", " 12", "12abc", "",
              "0x10", "2024-02-29", "2023-02-29", "0001-01-01", "9999-12-31", "2024-2-1",
              "EUR\n1234.50", "EUR\n-0.01", "JPY\n1234", "JPY\n12.5", "KWD\n1.234", "EUR\n1.234",
              "EUR\n92233720368547758.07", "EUR\n-92233720368547758.08", "XXX\n12", "eur\n12",
              "postgresql://creance:s3cret@db:5432/creance", "host=db password=s3cret user=x",
              "redis://:pw@127.0.0.1:6379", "tcp://127.0.0.1:5550"):
        write("fuzz_config", s)


def csv_files():
    for text in (
        "external_id,legal_name,country,email,payment_terms_days\n"
        "D1,Dupont SARL,FR,compta@dupont.fr,30\nD2,\"Martin, Fils & Cie\",fr,,45\n",
        "external_id;debtor_external_id;number;issue_date;due_date;amount;currency\r\n"
        "F-1;D1;FA-1;2024-01-10;2024-02-09;1234,50;EUR\r\nF-2;D1;FA-2;10/01/2024;09/02/2024;99;eur\r\n",
        "\ufeffexternal_id,debtor_external_id,received_date,amount,currency,method\n"
        "P-1,D1,2024-03-01,50.00,EUR,transfer\nP-2,D1,2024-03-02,-5,EUR,card\n",
        "external_id,legal_name\n\"unterminated,x\n",
        "external_id,legal_name\nD1,a\"b\nD2,\"ok\"x\n",
        "a,b,c\n1,2\n1,2,3,4\n",
        "external_id,debtor_external_id,number,issue_date,due_date,amount,currency\n"
        "F-9,D1,N,2024-02-30,2024-01-01,1e3,XXX\n",
        "",
        "\n\n\r\r\n",
    ):
        write("fuzz_csv", text)
    write("fuzz_csv", b"external_id,legal_name\nD1,Caf\xc3\xa9\nD2,bad\xff\x00name\n")


def webhooks():
    import json
    body = {"source": "erp", "batch_id": "w-1", "all_or_nothing": False, "items": [
        {"type": "debtor", "external_id": "D1", "legal_name": "Dupont SARL", "country": "FR",
         "kind": "BUSINESS", "credit_limit": {"minor": 1000000, "currency": "EUR"}},
        {"type": "invoice", "external_id": "F-1", "debtor_external_id": "D1", "number": "FA-1",
         "issue_date": "2024-01-10", "due_date": "2024-02-09",
         "amount": {"minor": 123450, "currency": "EUR"}},
        {"type": "payment", "external_id": "P-1", "debtor_external_id": "D1",
         "received_date": "2024-03-01", "amount": {"minor": 5000, "currency": "EUR"},
         "invoice_external_ids": ["F-1"]},
        {"type": "dispute", "external_id": "L-1", "invoice_external_id": "F-1", "reason": "x",
         "opened_date": "2024-02-01"},
        {"type": "nope"}, {"external_id": 3}, [],
    ]}
    write("fuzz_webhook", json.dumps(body))
    for it in body["items"]:
        write("fuzz_webhook", json.dumps({"source": "erp", "items": [it]}))
    write("fuzz_webhook", '{"source": "erp", "items": {}}')
    write("fuzz_webhook", '{"source": "erp", "source": "x", "items": []}')
    write("fuzz_webhook", '{"items": [{"type": "invoice", "amount": {"minor": 1e400}}]}')
    stripe = [
        {"id": "evt_1", "type": "customer.created", "created": 1700000000,
         "data": {"object": {"id": "cus_1", "name": "Dupont", "email": "a@b.fr",
                             "address": {"country": "FR"}}}},
        {"id": "evt_2", "type": "invoice.finalized", "created": 1700000000,
         "data": {"object": {"id": "in_1", "customer": "cus_1", "number": "A-1", "currency": "eur",
                             "amount_due": 12345, "due_date": 1702592000, "created": 1700000000}}},
        {"id": "evt_3", "type": "invoice.paid", "created": 1700000000,
         "data": {"object": {"id": "in_1", "customer": "cus_1", "currency": "eur", "amount_paid": 12345,
                             "payment_intent": "pi_1", "status_transitions": {"paid_at": 1700100000}}}},
        {"id": "evt_4", "type": "charge.refunded", "created": 1700000000,
         "data": {"object": {"id": "ch_1", "customer": "cus_1", "amount": 100, "amount_refunded": 100,
                             "currency": "eur", "refunded": True}}},
        {"id": "evt_5", "type": "charge.dispute.closed", "created": 1700000000,
         "data": {"object": {"id": "dp_1", "charge": "ch_1", "status": "won", "amount": 100,
                             "currency": "eur"}}},
        {"id": "evt_6", "type": "invoice.voided", "created": 1700000000,
         "data": {"object": {"id": "in_1", "customer": "cus_1"}}},
        {"id": "evt_7", "type": "product.created", "created": 1700000000, "data": {"object": {}}},
        {"type": "invoice.paid"},
    ]
    for e in stripe:
        write("fuzz_webhook", json.dumps(e))
    for h in ("t=1700000000,v1=" + "ab" * 32 + ",v0=00", "v1=" + "0" * 64 + ",v1=" + "f" * 64,
              "t=,v1=zz", "1700000000", "1700000301", "-5", ""):
        write("fuzz_webhook", h)


if __name__ == "__main__":
    csv_files()
    webhooks()
    envelopes()
    batches()
    queries()
    config()
    for t in sorted(os.listdir(os.path.join(HERE, "corpus"))):
        print(t, len(os.listdir(os.path.join(HERE, "corpus", t))), file=sys.stderr)
