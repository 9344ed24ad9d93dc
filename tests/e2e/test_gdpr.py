"""Personal data (GDPR): a debtor's export, its erasure by pseudonymisation
and the retention pass, against the running stack.

- the export (GET /api/v1/debtors/{id}/export, `creance debtor export`)
  holds the debtor's facts and nothing of another debtor or tenant;
- after an erasure, no text column of any table, no event_log envelope, no
  Redis value and no outbox file holds the debtor's name, e-mail, phone,
  address or company id, while another debtor's are still found (so the
  search can fail); the ledger totals and the KPIs are the same; consumers
  rebuilt from event_log do not bring the data back; intake refuses the
  debtor's data again; reminders stop;
- erasure is refused while something is open, unless forced;
- the retention pass erases only debtors past the period and purges only
  old payloads and reminder contents.
"""

import json
import os
import urllib.error
import urllib.request
import uuid

from stack import date_pb, debtor_item, invoice_item, payment_item, pb, wait_until
from test_cli import run


# ---------------------------------------------------------------- helpers

def call(stack, method, path, token, body=None):
    """(status, parsed JSON body) of one reporting request."""
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = "Bearer " + token
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request("http://%s%s" % (stack.http_addr("reporting"), path),
                                 data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def person(tag):
    """A debtor's personal data, unique to this test run (greppable)."""
    u = uuid.uuid4().hex[:10]
    return {
        "name": "Gdpr %s Zoé %s" % (tag, u),
        "email": "gdpr.%s.%s@example.org" % (tag.lower(), u),
        "phone": "+3361%s" % str(int(u, 16))[:7].rjust(7, "0"),
        "street": "%s rue du Secret %s" % (len(tag), u),
        "company": "SIREN%s" % str(int(u, 16))[:9],
    }


def debtor_fact(ext, p):
    return debtor_item(ext, name=p["name"], email=p["email"], phone=p["phone"],
                       company_id=p["company"],
                       address=pb.PostalAddress(line1=p["street"], postal_code="75001",
                                                city="Paris", country="FR"))


def strings(p):
    return [p["name"], p["email"], p["phone"], p["street"], p["company"]]


def accepted(reply):
    assert not reply.error, reply.error
    bad = [(r.index, r.field, r.reason) for r in reply.results
           if r.status not in (pb.ACCEPTED, pb.DUPLICATE)]
    assert not bad, bad
    return [r.id for r in reply.results]


def caught_up(stack, tenant):
    wait_until(lambda: stack.consumers_caught_up(tenant.id), timeout=60,
               what="consumers caught up")


def occurrences(stack, needles):
    """{needle: hits} over every text-like column of every table (as text),
    every bytea column (raw bytes: event_log's envelopes), Redis and the
    letters' outbox folder."""
    hits = {n: 0 for n in needles}
    cols = stack.query(
        "SELECT c.table_name, c.column_name, c.data_type FROM information_schema.columns c"
        " JOIN information_schema.tables t ON t.table_schema = c.table_schema"
        "  AND t.table_name = c.table_name AND t.table_type = 'BASE TABLE'"
        " WHERE c.table_schema = 'public'"
        "  AND c.data_type IN ('text', 'character varying', 'jsonb', 'json', 'bytea',"
        "                      'ARRAY', 'USER-DEFINED')")
    for table, col, dtype in cols:
        if dtype == "bytea":
            rows = stack.query('SELECT "%s" FROM "%s" WHERE "%s" IS NOT NULL' % (col, table, col))
            for (v,) in rows:
                b = bytes(v)
                for n in needles:
                    if n.encode() in b:
                        hits[n] += 1
        else:
            rows = stack.query('SELECT "%s"::text FROM "%s" WHERE "%s" IS NOT NULL'
                               % (col, table, col))
            for (v,) in rows:
                for n in needles:
                    # jsonb escapes nothing printable here; compare as is
                    if n in v:
                        hits[n] += 1
    def text(v):
        return v.decode("utf-8", "replace") if isinstance(v, bytes) else (v or "")

    for key in stack.redis.scan_iter(count=1000):
        kind = text(stack.redis.type(key))
        vals = [key]
        if kind == "hash":
            for k, v in stack.redis.hgetall(key).items():
                vals += [k, v]
        elif kind == "string":
            vals.append(stack.redis.get(key))
        for v in vals:
            for n in needles:
                if n in text(v):
                    hits[n] += 1
    outbox = stack.env["CREANCE_LETTER_OUTBOX"]
    if os.path.isdir(outbox):
        for name in os.listdir(outbox):
            with open(os.path.join(outbox, name), "rb") as f:
                data = f.read()
            for n in needles:
                if n.encode() in data:
                    hits[n] += 1
    return hits


def ledger_totals(stack, tenant):
    return stack.query(
        "SELECT (SELECT coalesce(sum(amount_minor), 0) FROM invoices WHERE tenant = %s),"
        " (SELECT coalesce(sum(open_minor), 0) FROM invoices WHERE tenant = %s),"
        " (SELECT coalesce(sum(amount_minor), 0) FROM payments WHERE tenant = %s),"
        " (SELECT count(*) FROM invoices WHERE tenant = %s),"
        " (SELECT string_agg(number, ',' ORDER BY id) FROM invoices WHERE tenant = %s)",
        (tenant.id,) * 5)[0]


def kpis(stack, tenant):
    status, body = call(stack, "GET", "/api/v1/kpis?from=2024-01-01&to=2024-06-30&as_of=2024-06-30",
                        tenant.token)
    assert status == 200, body
    status, out = call(stack, "GET", "/api/v1/outstanding", tenant.token)
    assert status == 200, out
    body.pop("generated_at", None)
    out.pop("as_of", None)
    return body, out


def sent_letter(stack, tenant, debtor_id, p, key):
    """A letter reminders sent to the debtor: the reminder, its delivery as
    sent (recipient, content) and its PDF in the outbox folder, as the
    sender leaves them (services/reminders/delivery.c)."""
    rid = stack.scalar(
        "INSERT INTO reminders (tenant, debtor_id, level, channel, template_key, tone,"
        " invoice_ids, currency, total_minor, planned_date, status)"
        " VALUES (%s, %s, 4, 'letter', 'formal_notice', 'legal', '{}', 'EUR', 100,"
        " '2024-03-01', 'sent') RETURNING id", (tenant.id, debtor_id))
    name = "%s-r%d-letter-%s.pdf" % (tenant.id, rid, key)
    stack.query_exec(
        "INSERT INTO reminder_deliveries (tenant, debtor_id, reminder_id, channel, status,"
        " idempotency_key, recipient, subject, content, provider_message_id, sent_at)"
        " VALUES (%s, %s, %s, 'letter', 'sent', %s, %s, %s, %s, %s, now())",
        (tenant.id, debtor_id, rid, name, p["name"], "Mise en demeure " + p["name"],
         "%s\n%s\n75001 Paris\nMadame, Monsieur, %s" % (p["name"], p["street"], p["email"]),
         name))
    outbox = stack.env["CREANCE_LETTER_OUTBOX"]
    os.makedirs(outbox, exist_ok=True)
    path = os.path.join(outbox, name)
    with open(path, "wb") as f:
        f.write(("%%PDF-1.4\n%s\n%s\n%%%%EOF\n" % (p["name"], p["street"])).encode())
    return rid, path


def metric(stack, name, labels=None):
    return stack.metric("reporting", name, labels) or 0


# ---------------------------------------------------------------- export

def test_export_holds_the_debtor_and_nothing_else(stack, tenant, other_tenant):
    a, b = person("A"), person("B")
    ids = accepted(tenant.send(debtor_fact("DA", a), debtor_fact("DB", b),
                               invoice_item("IA1", "DA", 12000, number="FA-%s" % a["name"][-10:]),
                               invoice_item("IB1", "DB", 7000, number="FB-1"),
                               payment_item("PA1", "DA", 12000, invoices=["IA1"])))
    da, db_ = ids[0], ids[1]
    caught_up(stack, tenant)

    status, doc = call(stack, "GET", "/api/v1/debtors/%d/export" % da, tenant.token)
    assert status == 200, doc
    text = json.dumps(doc, ensure_ascii=False)
    assert doc["tenant"] == tenant.id and doc["debtor_id"] == da
    assert doc["debtor"]["legal_name"] == a["name"] and doc["debtor"]["email"] == a["email"]
    assert doc["debtor"]["address"]["line1"] == a["street"]
    assert [i["external_id"] for i in doc["invoices"]] == ["IA1"]
    assert doc["invoices"][0]["amount_minor"] == 12000
    assert [p["external_id"] for p in doc["payments"]] == ["PA1"]
    assert len(doc["allocations"]) == 1 and doc["allocations"][0]["amount_minor"] == 12000
    types = [e["type"] for e in doc["events"]]
    assert "DebtorCreated" in types and "InvoiceIssued" in types and "PaymentReceived" in types
    created = [e for e in doc["events"] if e["type"] == "DebtorCreated"][0]
    assert created["envelope"]["debtor_created"]["email"] == a["email"]
    assert doc["erasure"] is None
    # Nothing of the other debtor.
    for s in strings(b) + ["IB1", "FB-1"]:
        assert s not in text, s

    # Tenant isolation: another tenant's token does not find it.
    status, err = call(stack, "GET", "/api/v1/debtors/%d/export" % da, other_tenant.token)
    assert status == 404 and err["error"]["field"] == "debtor_id", err
    status, err = call(stack, "POST", "/api/v1/debtors/%d/erase" % da, other_tenant.token,
                       {"force": True})
    assert status == 404, err
    assert stack.scalar("SELECT legal_name FROM debtors WHERE tenant = %s AND id = %s",
                        (tenant.id, da)) == a["name"]
    status, err = call(stack, "GET", "/api/v1/debtors/%d/export" % da, None)
    assert status == 401, err

    # The CLI writes the same document.
    r = run(stack, ["debtor", "export", str(db_)], env={"CREANCE_TOKEN": tenant.token})
    assert r.returncode == 0, r.stderr
    cli_doc = json.loads(r.stdout)
    assert cli_doc["debtor"]["legal_name"] == b["name"]
    assert a["name"] not in r.stdout
    r = run(stack, ["debtor", "export", str(db_)], env={"CREANCE_TOKEN": other_tenant.token})
    assert r.returncode == 1 and "not found" in r.stderr, r.stderr


# ---------------------------------------------------------------- erasure

def test_erase_leaves_no_trace_and_keeps_the_figures(stack, tenant):
    a, b = person("A"), person("B")
    ids = accepted(tenant.send(
        debtor_fact("DA", a), debtor_fact("DB", b),
        invoice_item("IA1", "DA", 12000, issue="2024-01-10", due="2024-02-09"),
        invoice_item("IA2", "DA", 3000, issue="2024-02-01", due="2024-03-02"),
        invoice_item("IB1", "DB", 7000, issue="2024-01-15", due="2024-02-14")))
    da, dbb = ids[0], ids[1]
    # A dispute with a reason naming the person, resolved (nothing open).
    accepted(tenant.send(pb.IntakeItem(dispute=pb.DisputeFact(
        external_id="XA1", invoice_external_id="IA2", reason="called by " + a["name"],
        opened_date=date_pb("2024-02-20")))))
    accepted(tenant.send(pb.IntakeItem(dispute=pb.DisputeFact(
        external_id="XA1", resolve=True, outcome="rejected",
        resolved_date=date_pb("2024-02-25")))))
    accepted(tenant.send(
        payment_item("PA1", "DA", 12000, received="2024-03-01", invoices=["IA1"]),
        payment_item("PA2", "DA", 3000, received="2024-03-05", invoices=["IA2"]),
        payment_item("PB1", "DB", 2000, received="2024-03-05", invoices=["IB1"])))
    _, path_a = sent_letter(stack, tenant, da, a, "a")
    _, path_b = sent_letter(stack, tenant, dbb, b, "b")
    caught_up(stack, tenant)

    before_hits = occurrences(stack, strings(a) + strings(b))
    assert all(before_hits[s] > 0 for s in strings(a)), before_hits
    totals, figures = ledger_totals(stack, tenant), kpis(stack, tenant)
    erased_before = metric(stack, "creance_gdpr_erasures_total",
                           {"trigger": "request", "result": "erased"})

    r = run(stack, ["debtor", "erase", str(da)], env={"CREANCE_TOKEN": tenant.token})
    assert r.returncode == 2 and "--yes" in r.stderr, r.stderr
    r = run(stack, ["debtor", "erase", str(da), "--yes"], env={"CREANCE_TOKEN": tenant.token})
    assert r.returncode == 0, r.stderr
    assert "erased-%d" % da in r.stdout
    caught_up(stack, tenant)
    # Reminders deletes the queued letter of A, not B's.
    wait_until(lambda: not os.path.exists(path_a), timeout=30, what="A's letter deleted")
    assert os.path.exists(path_b)

    hits = occurrences(stack, strings(a) + strings(b))
    assert {s: hits[s] for s in strings(a)} == {s: 0 for s in strings(a)}, hits
    assert all(hits[s] > 0 for s in strings(b)), hits
    assert ledger_totals(stack, tenant) == totals
    assert kpis(stack, tenant) == figures
    assert stack.scalar("SELECT legal_name FROM debtors WHERE tenant = %s AND id = %s",
                        (tenant.id, da)) == "erased-%d" % da
    assert stack.scalar("SELECT count(*) FROM event_log WHERE tenant = %s"
                        " AND event_type = 'DebtorErased'", (tenant.id,)) == 1
    assert metric(stack, "creance_gdpr_erasures_total",
                  {"trigger": "request", "result": "erased"}) == erased_before + 1

    # A second erasure changes nothing.
    status, body = call(stack, "POST", "/api/v1/debtors/%d/erase" % da, tenant.token)
    assert status == 200 and body["already_erased"] is True, body

    # The export now shows the pseudonym, and still the amounts.
    status, doc = call(stack, "GET", "/api/v1/debtors/%d/export" % da, tenant.token)
    assert status == 200
    text = json.dumps(doc, ensure_ascii=False)
    assert doc["debtor"]["legal_name"] == "erased-%d" % da
    assert sorted(i["amount_minor"] for i in doc["invoices"]) == [3000, 12000]
    assert doc["erasure"]["trigger"] == "request"
    assert all(s not in text for s in strings(a))

    # Intake does not take A's personal data again, old or new.
    for fact in (debtor_fact("DA", a), debtor_fact("DA", person("A2"))):
        reply = tenant.send(fact)
        assert reply.results[0].status == pb.REJECTED, reply
        assert "erased" in reply.results[0].reason, reply.results[0].reason

    # Consumers rebuilt from event_log (positions and copies deleted) do not
    # bring the data back.
    for svc in ("reminders", "reporting"):
        stack.stop(svc)
    stack.query_exec("DELETE FROM consumer_positions WHERE tenant = %s AND consumer IN"
                     " ('reminders', 'reporting')", (tenant.id,))
    stack.query_exec("DELETE FROM rpt_debtors WHERE tenant = %s", (tenant.id,))
    stack.query_exec("DELETE FROM rem_debtors WHERE tenant = %s", (tenant.id,))
    for svc in ("reminders", "reporting"):
        stack.start(svc)
    caught_up(stack, tenant)
    assert stack.query("SELECT legal_name, erased FROM rpt_debtors WHERE tenant = %s"
                       " AND debtor_id = %s", (tenant.id, da)) == [("erased-%d" % da, True)]
    assert stack.query("SELECT legal_name, email, erased FROM rem_debtors WHERE tenant = %s"
                       " AND debtor_id = %s", (tenant.id, da)) == [("erased-%d" % da, "", True)]
    assert stack.scalar("SELECT legal_name FROM rpt_debtors WHERE tenant = %s"
                        " AND debtor_id = %s", (tenant.id, dbb)) == b["name"]
    hits = occurrences(stack, strings(a))
    assert hits == {s: 0 for s in strings(a)}, hits


def test_erase_refused_while_collecting_then_forced_and_reminders_stop(stack, tenant):
    a = person("A")
    ids = accepted(tenant.send(debtor_fact("DA", a),
                               invoice_item("IA1", "DA", 50000, issue="2024-01-10",
                                            due="2024-02-09")))
    da = ids[0]
    caught_up(stack, tenant)
    # Reminders decides the overdue invoice's reminder on a working day, in
    # working hours (e-mail; the SMTP relay of the tests is not listening,
    # so the delivery stays pending).
    restart_reminders(stack, {"CREANCE_TODAY": "2024-03-20",
                              "CREANCE_NOW_UTC": "2024-03-20T10:00:00Z"})
    try:
        refused_then_forced(stack, tenant, a, da)
    finally:
        restart_reminders(stack, None)


def restart_reminders(stack, env):
    stack.stop("reminders")
    if env:
        stack.service_env["reminders"] = env
    else:
        stack.service_env.pop("reminders", None)
    stack.start("reminders")


def refused_then_forced(stack, tenant, a, da):
    wait_until(lambda: stack.scalar("SELECT count(*) FROM reminders WHERE tenant = %s"
                                    " AND debtor_id = %s", (tenant.id, da)) > 0,
               timeout=30, what="a reminder decided")

    status, body = call(stack, "POST", "/api/v1/debtors/%d/erase" % da, tenant.token)
    assert status == 409, body
    assert body["error"]["field"] == "debtor_id"
    assert "1 open invoice (500.00 EUR)" in body["error"]["reason"], body
    assert body["open"]["open_invoices"] == 1
    assert stack.scalar("SELECT legal_name FROM debtors WHERE tenant = %s AND id = %s",
                        (tenant.id, da)) == a["name"]
    r = run(stack, ["debtor", "erase", str(da), "--yes"], env={"CREANCE_TOKEN": tenant.token})
    assert r.returncode == 1 and "still being collected" in r.stderr, r.stderr

    status, body = call(stack, "POST", "/api/v1/debtors/%d/erase" % da, tenant.token,
                        {"force": True})
    assert status == 200 and body["forced"] is True, body
    caught_up(stack, tenant)
    # Nothing left to send to A, and nothing new decided for it.
    assert stack.scalar(
        "SELECT count(*) FROM reminder_deliveries d JOIN reminders r ON r.tenant = d.tenant"
        " AND r.id = d.reminder_id WHERE r.tenant = %s AND r.debtor_id = %s"
        " AND d.status IN ('pending', 'sending')", (tenant.id, da)) == 0
    attempts = stack.scalar(
        "SELECT coalesce(sum(d.attempts), 0) FROM reminder_deliveries d JOIN reminders r"
        " ON r.tenant = d.tenant AND r.id = d.reminder_id WHERE r.tenant = %s"
        " AND r.debtor_id = %s", (tenant.id, da))
    reminders = stack.scalar("SELECT count(*) FROM reminders WHERE tenant = %s"
                             " AND debtor_id = %s", (tenant.id, da))
    # A later level would be due by now: move the invoice's last level back
    # and let a few dunning passes run; an erased debtor gets nothing.
    stack.query_exec("UPDATE rem_open_items SET last_level = 0, min_level = 0 WHERE tenant = %s"
                     " AND debtor_id = %s", (tenant.id, da))
    offset = stack.log_size("reminders")
    wait_until(lambda: stack.log_since("reminders", offset).count("dunning pass done") >= 3,
               timeout=30, what="three dunning passes")
    assert stack.scalar("SELECT count(*) FROM reminders WHERE tenant = %s"
                        " AND debtor_id = %s", (tenant.id, da)) == reminders
    assert stack.scalar(
        "SELECT coalesce(sum(d.attempts), 0) FROM reminder_deliveries d JOIN reminders r"
        " ON r.tenant = d.tenant AND r.id = d.reminder_id WHERE r.tenant = %s"
        " AND r.debtor_id = %s", (tenant.id, da)) == attempts
    # The amounts are still owed and counted.
    assert stack.scalar("SELECT open_minor FROM invoices WHERE tenant = %s AND debtor_id = %s",
                        (tenant.id, da)) == 50000


# ---------------------------------------------------------------- retention

def test_retention_pass_erases_and_purges_only_what_is_past(stack, tenant):
    old, recent, old_open = person("Old"), person("Recent"), person("OldOpen")
    ids = accepted(tenant.send(
        debtor_fact("DO", old), debtor_fact("DR", recent), debtor_fact("DX", old_open),
        invoice_item("IO", "DO", 1000, issue="2019-01-10", due="2019-02-09"),
        payment_item("PO", "DO", 1000, received="2019-02-01", invoices=["IO"]),
        invoice_item("IR", "DR", 1000, issue="2019-01-10", due="2019-02-09"),
        payment_item("PR", "DR", 1000, received="2019-02-01", invoices=["IR"]),
        invoice_item("IX", "DX", 1000, issue="2019-01-10", due="2019-02-09")))
    d_old, d_recent, d_open = ids[0], ids[1], ids[2]
    caught_up(stack, tenant)
    # Old debtors joined long ago; the recent one was created today (an
    # import of old history is not erased the day it arrives).
    stack.query_exec("UPDATE debtors SET created_at = '2019-01-01', updated_at = '2019-01-01'"
                     " WHERE tenant = %s AND id IN (%s, %s)", (tenant.id, d_old, d_open))
    # Kept webhook answers and delivered reminders, old and recent.
    for ev, days in (("evt_old", 200), ("evt_new", 10)):
        stack.query_exec("INSERT INTO stripe_events (tenant, event_id, event_type, response,"
                         " created_at) VALUES (%s, %s, 'invoice.paid', '{}',"
                         " now() - make_interval(days => %s))", (tenant.id, ev, days))
    rid_old, path_old = sent_letter(stack, tenant, d_recent, recent, "old")
    rid_new, path_new = sent_letter(stack, tenant, d_recent, recent, "new")
    stack.query_exec("UPDATE reminder_deliveries SET created_at = now() - interval '400 days',"
                     " sent_at = now() - interval '400 days' WHERE tenant = %s"
                     " AND reminder_id = %s", (tenant.id, rid_old))

    def run_pass():
        r = run(stack, ["admin", "retention", "run", "--tenant", tenant.id, "--json"],
                env={"CREANCE_ADMIN_TOKEN": stack.admin_token})
        assert r.returncode == 0, r.stderr
        return json.loads(r.stdout)

    # The default periods (the row without a tenant); setting one of them to
    # its own value goes through the upsert and changes nothing.
    status, body = call(stack, "GET", "/admin/v1/retention", stack.admin_token)
    assert status == 200 and body["tenant"] is None and body["own"] is False, body
    default = {k: body[k] for k in ("personal_data_years", "raw_payload_days",
                                    "reminder_content_days")}
    status, body = call(stack, "PUT", "/admin/v1/retention", stack.admin_token,
                        {"raw_payload_days": default["raw_payload_days"]})
    assert status == 200 and body["raw_payload_days"] == default["raw_payload_days"], body
    assert stack.scalar("SELECT count(*) FROM gdpr_retention WHERE tenant IS NULL") == 1
    status, body = call(stack, "GET", "/admin/v1/tenants/%s/retention" % tenant.id,
                        stack.admin_token)
    assert status == 200 and body["own"] is False and body["personal_data_years"] == 3, body
    status, body = call(stack, "GET", "/admin/v1/retention", None)
    assert status == 401, body

    # Ten years for this tenant: nobody is erased yet.
    r = run(stack, ["admin", "retention", "set", "--tenant", tenant.id,
                    "--personal-data-years", "10", "--json"],
            env={"CREANCE_ADMIN_TOKEN": stack.admin_token})
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["personal_data_years"] == 10
    purged_before = metric(stack, "creance_gdpr_purged_rows_total", {"what": "stripe_events"})
    st = run_pass()
    assert st["debtors_erased"] == 0, st
    assert st["stripe_events_deleted"] == 1 and st["reminder_contents_purged"] == 1, st
    assert metric(stack, "creance_gdpr_purged_rows_total",
                  {"what": "stripe_events"}) == purged_before + 1
    assert [e for (e,) in stack.query("SELECT event_id FROM stripe_events WHERE tenant = %s",
                                      (tenant.id,))] == ["evt_new"]
    contents = dict(stack.query(
        "SELECT reminder_id, content FROM reminder_deliveries WHERE tenant = %s", (tenant.id,)))
    assert contents[rid_old] == "" and recent["name"] in contents[rid_new]
    wait_until(lambda: not os.path.exists(path_old), timeout=30, what="old letter deleted")
    assert os.path.exists(path_new)

    # Back to three years (the default's): the old, settled debtor goes.
    status, body = call(stack, "PUT", "/admin/v1/tenants/%s/retention" % tenant.id,
                        stack.admin_token, {"personal_data_years": 3})
    assert status == 200 and body["own"] is True, body
    status, body = call(stack, "PUT", "/admin/v1/tenants/%s/retention" % tenant.id,
                        stack.admin_token, {"personal_data_years": 0})
    assert status == 400 and body["error"]["field"] == "personal_data_years", body
    erased_before = metric(stack, "creance_gdpr_erasures_total",
                           {"trigger": "retention", "result": "erased"})
    st = run_pass()
    assert st["debtors_erased"] == 1, st
    names = dict(stack.query("SELECT id, legal_name FROM debtors WHERE tenant = %s",
                             (tenant.id,)))
    assert names == {d_old: "erased-%d" % d_old, d_recent: recent["name"],
                     d_open: old_open["name"]}
    assert stack.scalar("SELECT trigger FROM gdpr_erasures WHERE tenant = %s AND debtor_id = %s",
                        (tenant.id, d_old)) == "retention"
    assert metric(stack, "creance_gdpr_erasures_total",
                  {"trigger": "retention", "result": "erased"}) == erased_before + 1
    caught_up(stack, tenant)
    hits = occurrences(stack, strings(old) + strings(recent) + strings(old_open))
    assert all(hits[s] == 0 for s in strings(old)), hits
    assert all(hits[s] > 0 for s in strings(old_open)), hits
    # A second run finds nothing more.
    st = run_pass()
    assert st["debtors_erased"] == 0 and st["stripe_events_deleted"] == 0, st
