"""Intake's HTTP inputs for real: the signed JSON webhook and the Stripe
adapter, with signatures computed here the way the senders compute them
(HMAC-SHA256 over "<timestamp>.<body>")."""

import hashlib
import hmac
import json
import secrets
import time

from stack import http_post

SECRET_LEN = 32


def add_secret(stack, tenant, kind):
    secret = ("whsec_" if kind == "stripe" else "cws_") + secrets.token_hex(SECRET_LEN // 2)
    stack.query_exec("INSERT INTO webhook_secrets (tenant, kind, secret) VALUES (%s, %s, %s)",
                     (tenant.id, kind, secret))
    return secret


def sign(secret, ts, body):
    return hmac.new(secret.encode(), str(ts).encode() + b"." + body, hashlib.sha256).hexdigest()


def post_intake(stack, tenant, secret, doc, ts=None, signature=None, raw=None):
    body = raw if raw is not None else json.dumps(doc).encode()
    ts = int(time.time()) if ts is None else ts
    headers = {
        "Content-Type": "application/json",
        "X-Creance-Tenant": tenant.id,
        "X-Creance-Timestamp": str(ts),
        "X-Creance-Signature": signature if signature is not None else "v1=" + sign(secret, ts, body),
    }
    status, text = http_post("http://%s/api/v1/intake" % stack.http_addr("intake"), body, headers)
    return status, json.loads(text)


def post_stripe(stack, tenant, secret, event, ts=None, extra_sigs=()):
    body = json.dumps(event).encode()
    ts = int(time.time()) if ts is None else ts
    parts = ["t=%d" % ts] + ["v1=%s" % s for s in extra_sigs] + ["v1=" + sign(secret, ts, body),
                                                                   "v0=" + "0" * 64]
    status, text = http_post("http://%s/api/v1/stripe/%s" % (stack.http_addr("intake"), tenant.id),
                             body, {"Content-Type": "application/json", "Stripe-Signature": ",".join(parts)})
    return status, json.loads(text)


DEBTOR = {"type": "debtor", "external_id": "W-D1", "legal_name": "Atelier Roux", "country": "FR",
          "kind": "business", "address": {"line1": "3 rue Haute", "city": "Lyon", "country": "FR"}}


def invoice(ext, amount, currency="EUR", debtor="W-D1"):
    return {"type": "invoice", "external_id": ext, "debtor_external_id": debtor, "number": "N-" + ext,
            "issue_date": "2024-01-10", "due_date": "2024-02-09",
            "amount": {"minor": amount, "currency": currency}, "terms_days": 30}


def test_webhook_records_items_with_per_item_results(stack, tenant):
    secret = add_secret(stack, tenant, "creance")
    doc = {"source": "billing-http", "batch_id": "b-1", "items": [
        DEBTOR, invoice("W-I1", 12345), invoice("W-I2", 100, currency="XXY"),
        {"type": "invoice", "external_id": "W-I3", "amount": {"minor": 1.5, "currency": "EUR"}},
        {"type": "banana"},
    ]}
    status, body = post_intake(stack, tenant, secret, doc)
    assert status == 200, body
    res = body["results"]
    assert body["batch_id"] == "b-1"
    assert [r["status"] for r in res] == ["accepted", "accepted", "rejected", "rejected", "rejected"], res
    assert [r["index"] for r in res] == [0, 1, 2, 3, 4]
    assert res[2]["field"] == "amount.currency" and "unknown currency" in res[2]["reason"]
    assert res[3]["field"] == "amount.minor" and "integer" in res[3]["reason"]
    assert res[4]["field"] == "type" and "banana" in res[4]["reason"]
    inv_id = res[1]["id"]
    assert stack.query("SELECT amount_minor, source, external_id FROM invoices WHERE tenant = %s AND id = %s",
                       (tenant.id, inv_id)) == [(12345, "billing-http", "W-I1")]
    assert stack.scalar("SELECT address->>'city' FROM debtors WHERE tenant = %s AND id = %s",
                        (tenant.id, res[0]["id"])) == "Lyon"

    # Replayed: the first results, nothing recorded twice.
    status, again = post_intake(stack, tenant, secret, doc)
    assert status == 200
    assert [(r["status"], r.get("id")) for r in again["results"][:2]] == \
        [("duplicate", res[0]["id"]), ("duplicate", inv_id)]
    assert stack.scalar("SELECT count(*) FROM invoices WHERE tenant = %s", (tenant.id,)) == 1


def test_webhook_refuses_bad_and_stale_signatures(stack, tenant):
    secret = add_secret(stack, tenant, "creance")
    doc = {"source": "billing-http", "items": [DEBTOR]}
    before = stack.metric("intake", "creance_intake_rejected_total", {"reason": "bad_signature"})

    # Signed with another secret.
    body = json.dumps(doc).encode()
    ts = int(time.time())
    status, err = post_intake(stack, tenant, secret, doc, ts=ts,
                              signature="v1=" + sign("not-the-secret-at-all", ts, body))
    assert status == 401, err
    assert err["error"]["field"] == "X-Creance-Signature", err
    # The body changed after signing.
    status, err = post_intake(stack, tenant, secret, doc, ts=ts, raw=body + b" ",
                              signature="v1=" + sign(secret, ts, body))
    assert status == 401 and err["error"]["field"] == "X-Creance-Signature", err
    # No usable signature.
    status, err = post_intake(stack, tenant, secret, doc, signature="sha256=abc")
    assert status == 401 and err["error"]["field"] == "X-Creance-Signature", err
    assert stack.metric("intake", "creance_intake_rejected_total",
                        {"reason": "bad_signature"}) == before + 3

    # Correctly signed, but 10 minutes old, or 10 minutes ahead.
    for skew in (-600, 600):
        status, err = post_intake(stack, tenant, secret, doc, ts=int(time.time()) + skew)
        assert status == 401, err
        assert err["error"]["field"] == "X-Creance-Timestamp", err
        assert "limit is 300" in err["error"]["reason"], err
    assert stack.scalar("SELECT count(*) FROM debtors WHERE tenant = %s", (tenant.id,)) == 0

    # A revoked secret no longer opens the door.
    stack.query_exec("UPDATE webhook_secrets SET revoked_at = now() WHERE tenant = %s", (tenant.id,))
    status, err = post_intake(stack, tenant, secret, doc)
    assert status == 401 and err["error"]["field"] == "X-Creance-Tenant", err

    # Bad JSON, correctly signed: 400 naming the body.
    secret = add_secret(stack, tenant, "creance")
    status, err = post_intake(stack, tenant, secret, None, raw=b'{"items": [')
    assert status == 400 and err["error"]["field"] == "body", err


def test_webhook_body_limit(stack, tenant):
    secret = add_secret(stack, tenant, "creance")
    big = b'{"source":"x","items":[],"pad":"' + b"a" * (4 * 1024 * 1024) + b'"}'
    status, err = post_intake(stack, tenant, secret, None, raw=big)
    assert status == 413, err
    assert err["error"]["field"] == "body"


# ------------------------------------------------------------------ Stripe

def event(evt_id, etype, obj, created=1704067200):
    return {"id": evt_id, "object": "event", "api_version": "2023-10-16", "created": created,
            "livemode": False, "type": etype, "data": {"object": obj}}


CUSTOMER = {"id": "cus_Q1", "object": "customer", "name": "Brasserie du Port", "email": "compta@port.example",
            "phone": "+33491000000", "preferred_locales": ["fr-FR"],
            "address": {"line1": "1 quai", "line2": None, "postal_code": "13002", "city": "Marseille",
                        "country": "FR", "state": None}}

INVOICE = {"id": "in_Q1", "object": "invoice", "customer": "cus_Q1", "number": "ABCD-0001",
           "created": 1704067200,              # 2024-01-01T00:00:00Z
           "due_date": 1706745600,             # 2024-02-01
           "amount_due": 24000, "amount_paid": 0, "currency": "eur", "status": "open",
           "payment_intent": "pi_Q1", "charge": None, "status_transitions": {"finalized_at": 1704067200}}


def test_stripe_invoice_payment_refund_and_redelivery(stack, tenant):
    secret = add_secret(stack, tenant, "stripe")
    status, body = post_stripe(stack, tenant, secret, event("evt_c1", "customer.created", CUSTOMER),
                               extra_sigs=["ab" * 32])          # a rotated-out secret's signature
    assert status == 200, body
    assert body["results"][0]["status"] == "accepted", body
    assert stack.query("SELECT legal_name, language, source, email FROM debtors WHERE tenant = %s",
                       (tenant.id,)) == [("Brasserie du Port", "fr", "stripe", "compta@port.example")]

    status, body = post_stripe(stack, tenant, secret, event("evt_i1", "invoice.finalized", INVOICE))
    assert status == 200 and body["results"][0]["status"] == "accepted", body
    inv_id = body["results"][0]["id"]
    assert stack.query("SELECT number, issue_date::text, due_date::text, amount_minor, currency "
                       "FROM invoices WHERE tenant = %s AND id = %s", (tenant.id, inv_id)) == \
        [("ABCD-0001", "2024-01-01", "2024-02-01", 24000, "EUR")]

    # Stripe redelivers the same event: the same answer, nothing new.
    events = stack.event_count(tenant.id)
    status, again = post_stripe(stack, tenant, secret, event("evt_i1", "invoice.finalized", INVOICE))
    assert status == 200 and again == body, (again, body)
    assert stack.event_count(tenant.id) == events

    # The payment, told three times by Stripe: recorded once.
    paid = dict(INVOICE, amount_paid=24000, status="paid",
                status_transitions={"paid_at": 1705000000})
    status, body = post_stripe(stack, tenant, secret, event("evt_p1", "invoice.paid", paid))
    assert status == 200 and body["results"][0]["status"] == "accepted", body
    pay_id = body["results"][0]["id"]
    charge = {"id": "ch_Q1", "object": "charge", "amount": 24000, "amount_captured": 24000,
              "currency": "eur", "customer": "cus_Q1", "invoice": "in_Q1", "payment_intent": "pi_Q1",
              "created": 1705000100, "refunded": False, "payment_method_details": {"type": "card"}}
    status, body = post_stripe(stack, tenant, secret, event("evt_p2", "charge.succeeded", charge))
    assert status == 200 and body["results"][0] == {"index": 0, "status": "duplicate", "id": pay_id}, body
    assert stack.query("SELECT external_id, amount_minor FROM payments WHERE tenant = %s", (tenant.id,)) == \
        [("pi_Q1", 24000)]
    assert stack.query("SELECT open_minor, status FROM invoices WHERE tenant = %s AND id = %s",
                       (tenant.id, inv_id)) == [(0, "paid")]

    # Refunded in full: the payment is reversed and the invoice reopens.
    refunded = dict(charge, refunded=True, amount_refunded=24000)
    status, body = post_stripe(stack, tenant, secret, event("evt_r1", "charge.refunded", refunded,
                                                            created=1706000000))
    assert status == 200 and body["results"][0]["status"] == "accepted", body
    assert stack.query("SELECT open_minor, status FROM invoices WHERE tenant = %s AND id = %s",
                       (tenant.id, inv_id)) == [(24000, "open")]

    # A type Créance does not use: 200, ignored, counted.
    before = stack.metric("intake", "creance_intake_stripe_ignored_total", {"reason": "unknown_type"})
    status, body = post_stripe(stack, tenant, secret, event("evt_x1", "customer.subscription.created",
                                                            {"id": "sub_1"}))
    assert status == 200 and body["ignored"] == "customer.subscription.created", body
    assert stack.metric("intake", "creance_intake_stripe_ignored_total",
                        {"reason": "unknown_type"}) == before + 1

    # Voided: the invoice is cancelled.
    status, body = post_stripe(stack, tenant, secret, event("evt_v1", "invoice.voided", INVOICE))
    assert status == 200 and body["results"][0]["status"] == "accepted", body
    assert stack.query("SELECT status, open_minor FROM invoices WHERE tenant = %s AND id = %s",
                       (tenant.id, inv_id)) == [("cancelled", 0)]


def test_stripe_invoice_before_its_customer_is_redelivered(stack, tenant):
    """Stripe does not order deliveries: an invoice for a customer not yet
    known is answered 409 (not kept), so that Stripe delivers it again."""
    secret = add_secret(stack, tenant, "stripe")
    evt = event("evt_early", "invoice.finalized", INVOICE)
    status, body = post_stripe(stack, tenant, secret, evt)
    assert status == 409, body
    assert body["results"][0]["field"] == "debtor_external_id", body
    assert stack.scalar("SELECT count(*) FROM stripe_events WHERE tenant = %s", (tenant.id,)) == 0
    status, body = post_stripe(stack, tenant, secret, event("evt_cus", "customer.created", CUSTOMER))
    assert status == 200, body
    status, body = post_stripe(stack, tenant, secret, evt)        # Stripe's retry
    assert status == 200 and body["results"][0]["status"] == "accepted", body
    assert stack.scalar("SELECT count(*) FROM invoices WHERE tenant = %s", (tenant.id,)) == 1


def test_stripe_dispute_and_bad_signatures(stack, tenant):
    secret = add_secret(stack, tenant, "stripe")
    for evt in (event("evt_c", "customer.created", CUSTOMER),
                event("evt_i", "invoice.finalized", INVOICE),
                event("evt_p", "payment_intent.succeeded",
                      {"id": "pi_Q1", "object": "payment_intent", "amount_received": 10000,
                       "currency": "eur", "customer": "cus_Q1", "invoice": "in_Q1",
                       "created": 1705000000})):
        status, body = post_stripe(stack, tenant, secret, evt)
        assert status == 200 and body["results"][0]["status"] == "accepted", body
    dispute = {"id": "dp_Q1", "object": "dispute", "amount": 10000, "currency": "eur", "charge": "ch_Q1",
               "payment_intent": "pi_Q1", "reason": "product_not_received", "status": "needs_response",
               "created": 1705500000}
    status, body = post_stripe(stack, tenant, secret, event("evt_d1", "charge.dispute.created", dispute))
    assert status == 200 and body["results"][0]["status"] == "accepted", body
    assert stack.query("SELECT d.amount_minor, d.reason, i.external_id FROM disputes d JOIN invoices i "
                       "ON i.tenant = d.tenant AND i.id = d.invoice_id WHERE d.tenant = %s",
                       (tenant.id,)) == [(10000, "product_not_received", "in_Q1")]
    status, body = post_stripe(stack, tenant, secret,
                               event("evt_d2", "charge.dispute.closed", dict(dispute, status="won"),
                                     created=1706500000))
    assert status == 200 and body["results"][0]["status"] == "accepted", body
    assert stack.query("SELECT outcome, resolved_date::text FROM disputes WHERE tenant = %s",
                       (tenant.id,)) == [("rejected", "2024-01-29")]

    # Wrong secret, stale timestamp: 401, nothing recorded, not kept as answered.
    # (Stale by a minute, not by one second: the service reads the coarse
    # clock, which may lag ours by a tick; the exact 300 s boundary is a
    # unit test of intake_webhook_check_ts.)
    status, err = post_stripe(stack, tenant, "whsec_wrong_wrong_wrong", event("evt_z", "invoice.finalized",
                                                                           dict(INVOICE, id="in_Z")))
    assert status == 401 and err["error"]["field"] == "Stripe-Signature", err
    status, err = post_stripe(stack, tenant, secret, event("evt_z", "invoice.finalized", dict(INVOICE, id="in_Z")),
                              ts=int(time.time()) - 360)
    assert status == 401 and "seconds old" in err["error"]["reason"], err
    assert stack.scalar("SELECT count(*) FROM invoices WHERE tenant = %s AND external_id = 'in_Z'",
                        (tenant.id,)) == 0
    assert stack.scalar("SELECT count(*) FROM stripe_events WHERE tenant = %s AND event_id = 'evt_z'",
                        (tenant.id,)) == 0


def test_stripe_partial_refunds_each_applied_once(stack, tenant):
    """Partial refunds of one charge: each refund, keyed by its id, reopens
    the invoice by its amount once, whichever events tell it (charge.refunded
    with the charge's cumulative refunds list, refund.created,
    charge.refund.updated) and however often; the full refund then reverses
    what is left."""
    from test_intake_facts import assert_consumers_match_ledger
    secret = add_secret(stack, tenant, "stripe")
    paid = dict(INVOICE, amount_paid=24000, status="paid", status_transitions={"paid_at": 1705000000})
    for evt in (event("evt_c", "customer.created", CUSTOMER),
                event("evt_i", "invoice.finalized", INVOICE),
                event("evt_p", "invoice.paid", paid)):
        status, body = post_stripe(stack, tenant, secret, evt)
        assert status == 200 and body["results"][0]["status"] == "accepted", body
    inv_open = lambda: stack.scalar("SELECT open_minor FROM invoices WHERE tenant = %s", (tenant.id,))
    assert inv_open() == 0

    def refund(rid, amount, created, status="succeeded"):
        return {"id": rid, "object": "refund", "amount": amount, "currency": "eur", "charge": "ch_Q1",
                "payment_intent": "pi_Q1", "created": created, "status": status}

    def charge(refunds, refunded=False):
        return {"id": "ch_Q1", "object": "charge", "amount": 24000, "amount_captured": 24000,
                "currency": "eur", "customer": "cus_Q1", "invoice": "in_Q1", "payment_intent": "pi_Q1",
                "refunded": refunded, "amount_refunded": sum(r["amount"] for r in refunds),
                "refunds": {"object": "list", "data": refunds}}

    re1, re2 = refund("re_1", 5000, 1706000000), refund("re_2", 3000, 1706100000)
    # The first partial refund, told by charge.refunded (refunds listed).
    status, body = post_stripe(stack, tenant, secret, event("evt_r1", "charge.refunded", charge([re1])))
    assert status == 200 and [r["status"] for r in body["results"]] == ["accepted"], body
    first = body["results"][0]["id"]
    assert inv_open() == 5000
    # ... then by refund.created: the same refund, a duplicate.
    status, body = post_stripe(stack, tenant, secret, event("evt_r1b", "refund.created", re1))
    assert status == 200 and body["results"] == [{"index": 0, "status": "duplicate", "id": first}], body
    assert inv_open() == 5000
    # A second refund: charge.refunded lists both (newest first, cumulative 8000).
    evt = event("evt_r2", "charge.refunded", charge([re2, re1]))
    status, body = post_stripe(stack, tenant, secret, evt)
    assert status == 200 and [r["status"] for r in body["results"]] == ["accepted", "duplicate"], body
    assert inv_open() == 8000
    # Stripe redelivers that event: the kept answer, nothing applied again.
    events_before = stack.event_count(tenant.id)
    status, again = post_stripe(stack, tenant, secret, evt)
    assert status == 200 and again == body
    assert inv_open() == 8000 and stack.event_count(tenant.id) == events_before
    # A pending refund gave nothing back yet; when it succeeds it counts.
    status, body = post_stripe(stack, tenant, secret, event(
        "evt_r3p", "charge.refund.updated", refund("re_3", 2000, 1706200000, status="pending")))
    assert status == 200 and "ignored" in body, body
    assert inv_open() == 8000
    status, body = post_stripe(stack, tenant, secret, event(
        "evt_r3", "charge.refund.updated", refund("re_3", 2000, 1706200000)))
    assert status == 200 and body["results"][0]["status"] == "accepted", body
    assert inv_open() == 10000
    # A partial charge.refunded without the list cannot name its refund: ignored.
    bare = charge([re2, re1])
    del bare["refunds"]
    status, body = post_stripe(stack, tenant, secret, event("evt_r4", "charge.refunded", bare))
    assert status == 200 and body.get("ignored") == "charge.refunded", body
    assert inv_open() == 10000

    assert stack.query("SELECT amount_minor, refunded_minor, unapplied_minor, reversed_at IS NULL "
                       "FROM payments WHERE tenant = %s", (tenant.id,)) == [(24000, 10000, 0, True)]
    assert sorted(stack.query("SELECT external_id, amount_minor, reversed_date::text FROM payment_refunds "
                              "WHERE tenant = %s", (tenant.id,))) == \
        [("re_1", 5000, "2024-01-23"), ("re_2", 3000, "2024-01-24"), ("re_3", 2000, "2024-01-25")]
    assert stack.scalar("SELECT count(*) FROM event_log WHERE tenant = %s "
                        "AND event_type = 'PaymentReversed'", (tenant.id,)) == 3
    assert_consumers_match_ledger(stack, tenant)

    # Refunded in full, without the list: the rest (14000) is reversed.
    status, body = post_stripe(stack, tenant, secret, event(
        "evt_r5", "charge.refunded", dict(bare, refunded=True, amount_refunded=24000)))
    assert status == 200 and body["results"][0]["status"] == "accepted", body
    assert inv_open() == 24000
    assert stack.query("SELECT refunded_minor, reversed_at IS NOT NULL FROM payments WHERE tenant = %s",
                       (tenant.id,)) == [(10000, True)]
    ledger = assert_consumers_match_ledger(stack, tenant)
    assert list(ledger.values()) == [(24000, 1)]
