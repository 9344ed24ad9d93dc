"""Secrets never reach the logs.

A stack of its own, started with secret values known to the test: the
services' database password (inside CREANCE_DB_URL), the SMTP password and
the SMS gateway token (reminders), the operator token (reporting knows its
SHA-256), tenants' API tokens, webhook secrets, every CURVE secret key.
Each path that handles one runs, the failing ones too (bad token, bad
signature, unknown CURVE key); then every log of the run is searched for
each value, as written and in the other encodings a careless log line
would use (hex of a CURVE key, the Basic credentials of SMTP AUTH).
"""

import base64
import glob
import hashlib
import json
import os
import secrets
import subprocess

import pytest
import zmq
import zmq.auth
from zmq.utils import z85

import stack as stackmod
from stack import debtor_item, http_get, http_post, invoice_item, pb
from test_intake_webhooks import (CUSTOMER, DEBTOR, add_secret, event, invoice, post_intake,
                                  post_stripe)
from test_security import dealer_call, make_key


@pytest.fixture(scope="module")
def secret_stack(request):
    s = stackmod.Stack()
    request.addfinalizer(s.close)
    s.secrets = {
        "smtp password": "e2e-smtp-" + secrets.token_hex(12),
        "sms token": "e2e-sms-" + secrets.token_hex(12),
        "operator token": "op_" + secrets.token_hex(24),
    }
    s.env.update({
        "CREANCE_SMTP_USER": "relay-user",
        "CREANCE_SMTP_PASSWORD": s.secrets["smtp password"],
        "CREANCE_SMS_TOKEN": s.secrets["sms token"],
        "CREANCE_ADMIN_TOKEN_SHA256": hashlib.sha256(s.secrets["operator token"].encode()).hexdigest(),
    })
    s.open()
    s.secrets["database password"] = s.app_db_password
    return s


def _curve_secrets(s):
    """{file: Z85 secret key} of every CURVE secret file of the stack."""
    out = {}
    for path in glob.glob(os.path.join(s.curve_dir, "**", "*.key_secret"), recursive=True):
        _, secret = zmq.auth.load_certificate(path)
        out[os.path.relpath(path, s.curve_dir)] = secret.decode()
    return out


def _forms(value):
    """The value and the encodings a log line could carry it in."""
    forms = {value}
    if len(value) == 40:                      # a Z85 CURVE key: its 32 bytes in hex too
        try:
            forms.add(z85.decode(value.encode()).hex())
        except ValueError:
            pass
    return forms


def test_no_secret_in_any_log(secret_stack, tmp_path):
    s = secret_stack
    tenant = s.make_tenant("sec")
    known = dict(s.secrets)
    known["tenant API token"] = tenant.token

    # The ZeroMQ paths, over CURVE, and a refused client.
    r = tenant.send(debtor_item("S-D1", email="compta@secret.example"),
                    invoice_item("S-I1", "S-D1", 120000, issue="2024-01-10", due="2024-02-09"))
    assert [x.status for x in r.results] == [pb.ACCEPTED] * 2, r
    stranger = make_key(s, tmp_path, "stranger")
    assert dealer_call(s, s.env["CREANCE_INTAKE_ENDPOINT"],
                       tenant.batch(debtor_item("S-D2")).SerializeToString(), cert=stranger) is None
    reply = s.risk_query(pb.Query(get_debtor_risk=pb.GetDebtorRisk(
        tenant=tenant.id, debtor_external_id="S-D1")))
    assert reply.debtor_risk.found, reply
    cli = os.path.join(s.bindir, "creance")
    r = subprocess.run([cli, "--tenant", tenant.id, "credit", "check", "S-D1", "10.00", "--external"],
                       env=dict(s.env, NO_COLOR="1"), capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr

    # Webhooks: signed, and signed with a wrong secret.
    hook = add_secret(s, tenant, "creance")
    stripe = add_secret(s, tenant, "stripe")
    known["webhook secret"] = hook
    known["stripe webhook secret"] = stripe
    status, body = post_intake(s, tenant, hook, {"source": "billing-http", "batch_id": "s-1",
                                                 "items": [DEBTOR, invoice("S-W1", 500)]})
    assert status == 200, body
    status, body = post_intake(s, tenant, "cws_" + secrets.token_hex(16), {"items": [DEBTOR]})
    assert status == 401, body
    status, body = post_stripe(s, tenant, stripe, event("evt_s1", "customer.created", CUSTOMER))
    assert status == 200, body

    # Reporting: a good API token, a wrong one, the operator API.
    wrong = "ct_" + secrets.token_urlsafe(24)
    known["wrong API token"] = wrong
    status, body = tenant.outstanding()
    assert status == 200, body
    status, _ = tenant.outstanding(token=wrong)
    assert status == 401
    # The operator API, in a reporting that has one (it says so in its
    # configuration at start).
    if "config CREANCE_ADMIN_TOKEN_SHA256=****" in s.log_text("reporting"):
        admin = "http://%s/admin/v1" % s.http_addr("reporting")
        op = {"Authorization": "Bearer " + s.secrets["operator token"]}
        status, body = http_get(admin + "/tenants", headers=op)
        assert status == 200, body
        wrong_op = "op_" + secrets.token_hex(24)
        known["wrong operator token"] = wrong_op
        status, _ = http_get(admin + "/tenants", headers={"Authorization": "Bearer " + wrong_op})
        assert status == 401
        status, body = http_post(admin + "/tenants/%s/tokens" % tenant.id,
                                 json.dumps({"name": "sec"}).encode(),
                                 headers=dict(op, **{"Content-Type": "application/json"}))
        assert status == 201, body
        known["token made by the operator API"] = json.loads(body)["token"]

    # Reminders' API with the tenant's token and a wrong one.
    preview = "http://%s/api/v1/reminders/preview" % s.http_addr("reminders")
    status, body = http_get(preview, headers={"Authorization": "Bearer " + tenant.token})
    assert status == 200, body
    status, _ = http_get(preview, headers={"Authorization": "Bearer " + wrong})
    assert status == 401

    # Every CURVE secret key of the stack, as Z85 and as hex.
    curve = _curve_secrets(s)
    assert len(curve) == 1 + len(s.CURVE_CLIENTS), curve.keys()
    for name, value in curve.items():
        known["CURVE secret " + name] = value
    known["SMTP AUTH PLAIN"] = base64.b64encode(
        b"\0relay-user\0" + s.secrets["smtp password"].encode()).decode()

    # Stop the services so that their logs are complete, then search all.
    for svc in reversed(stackmod.SERVICES):
        s.stop(svc)
    logs = {os.path.basename(p): open(p, "rb").read().decode("utf-8", "replace")
            for p in glob.glob(os.path.join(s.tmp, "*.log"))}
    for svc in stackmod.SERVICES:
        assert svc + ".log" in logs, sorted(logs)
    # The search can find things: what the logs must say is there.
    everything = "\n".join(logs.values())
    assert tenant.id in everything
    assert "CREANCE_DB_URL=postgresql://creance_app:****@" in logs["intake.log"]
    assert "CREANCE_SMTP_PASSWORD=****" in logs["reminders.log"]
    assert "curve refused socket=intake_feeds" in logs["intake.log"]
    # ... and keys: the servers' public key is logged at start, found here
    # the way a secret key would be.
    server_public, _ = zmq.auth.load_certificate(os.path.join(s.curve_dir, "server.key"))
    assert server_public.decode() in logs["intake.log"]

    leaks = []
    for what, value in known.items():
        assert len(value) >= 16, what          # a short value could match by chance
        for form in _forms(value):
            for name, text in logs.items():
                if form in text:
                    leaks.append("%s found in %s" % (what, name))
    assert not leaks, leaks
