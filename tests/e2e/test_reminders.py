"""Reminders end to end: the ladder over simulated days, grouping per
debtor, pauses and their resumption, quiet hours across time zones, opt-out
and bounce fallback, and exactly one e-mail per decision across a crash.

The calendar moves by restarting creance-reminders with CREANCE_TODAY (and
CREANCE_NOW_UTC for the time of day); e-mails go to a real SMTP server
(aiosmtpd) and SMS to a real HTTP receiver, both in this process
(reminders_peers.py), on the ports the stack gave the service.
"""

import json
import os
import urllib.error
import urllib.request
import uuid

import pytest

import stack as stackmod
from reminders_peers import SmsSink, SmtpSink
from stack import date_pb, debtor_item, invoice_item, money, pb, wait_until


# ---------------------------------------------------------------- fixtures

@pytest.fixture(scope="module")
def peers(stack):
    smtp = SmtpSink(stack.smtp_port).start()
    sms = SmsSink(stack.sms_port).start()
    yield smtp, sms
    smtp.stop()
    sms.stop()


def restart_reminders(stack, env):
    if stack.running("reminders"):
        stack.stop("reminders")
    if env:
        stack.service_env["reminders"] = env
    else:
        stack.service_env.pop("reminders", None)
    offset = stack.log_size("reminders")
    stack.start("reminders")
    # The first pass runs once the consumer has caught up after start.
    wait_until(lambda: "dunning pass done trigger=start" in stack.log_since("reminders", offset),
               what="the first dunning pass after start")
    return offset


# Before every test's dates: on the real clock (past the tests' due dates)
# a pass between a test's facts decided on the first of them alone, or on a
# later level than the test moves to.
QUIET_DAY = "2020-01-01"


@pytest.fixture
def calendar(stack):
    """calendar(day, now=None): reminders runs on `day` (and at instant `now`).
    Until the test's first move, on QUIET_DAY: no level is due."""
    def move(day, now=None):
        env = {"CREANCE_TODAY": day}
        if now:
            env["CREANCE_NOW_UTC"] = now
        return restart_reminders(stack, env)
    move(QUIET_DAY)
    yield move
    restart_reminders(stack, None)


def wait_pass(stack, offset, n=1):
    """Waits for n more timer passes after `offset` (log position)."""
    wait_until(lambda: stack.log_since("reminders", offset).count("dunning pass done trigger=timer") >= n,
               what="%d dunning pass(es)" % n)


def api(stack, tenant, path, body=None, token=None):
    url = "http://%s%s" % (stack.http_addr("reminders"), path)
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method="POST" if data is not None else "GET",
                                 headers={"Authorization": "Bearer " + (token or tenant.token),
                                          "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")


def reminders(stack, tenant):
    return stack.query("SELECT id, debtor_id, level, channel, status, invoice_ids, total_minor, currency"
                       " FROM reminders WHERE tenant = %s ORDER BY id", (tenant.id,))


def deliveries(stack, tenant):
    return stack.query("SELECT reminder_id, channel, status, attempts, idempotency_key,"
                       " provider_message_id FROM reminder_deliveries WHERE tenant = %s ORDER BY id",
                       (tenant.id,))


def all_delivered(stack, tenant):
    rows = deliveries(stack, tenant)
    return rows if rows and all(r[2] in ("sent", "failed", "bounced") for r in rows) else None


def debtor_id(stack, tenant, ext):
    return stack.scalar("SELECT id FROM debtors WHERE tenant = %s AND external_id = %s", (tenant.id, ext))


def invoice_id(stack, tenant, ext):
    return stack.scalar("SELECT id FROM invoices WHERE tenant = %s AND external_id = %s", (tenant.id, ext))


PARIS = pb.PostalAddress(line1="12 rue de la Paix", postal_code="75002", city="Paris", country="FR")


def debtor(ext, name, tenant, tz="Europe/Paris", email=True, phone=None, address=None, **kw):
    return debtor_item(ext, name, time_zone=tz,
                       email=("%s-%s@example.test" % (ext.lower(), tenant.id)) if email else "",
                       phone=phone or "", address=address, **kw)


def pin_default_ladder(stack, tenant):
    """The tenant's own copy of the default ladder: it wins over the faster
    ladders of grades D and E, which risk's grading could otherwise pick
    for a debtor that is late (policy.h: tenant ladder before default+grade)."""
    stack.query_exec("INSERT INTO rem_policy_levels (tenant, grade, level, offset_days, channel, fallback,"
                     " template_key, tone, fee_minor) SELECT %s, NULL, level, offset_days, channel,"
                     " fallback, template_key, tone, fee_minor FROM rem_policy_levels"
                     " WHERE tenant IS NULL AND grade IS NULL", (tenant.id,))


def send_ok(tenant, *items):
    r = tenant.send(*items)
    assert [x.status for x in r.results] == [pb.ACCEPTED] * len(items), r
    return r


def caught_up(stack, tenant):
    wait_until(lambda: stack.consumers_caught_up(tenant.id), what="consumers caught up")


def append_ledger_event(stack, tenant, **event):
    """Appends one event to the tenant's ledger stream the way a producer
    does (event_log row and streams.last_seq in one transaction); the
    consumers read it on their catch-up tick. For facts intake does not
    produce yet (PromiseBroken, InstalmentMissed)."""
    env = pb.Envelope(tenant=tenant.id, stream="ledger", event_id=str(uuid.uuid4()),
                      occurred_at_us=1, producer="e2e", **event)
    with stack.db.cursor() as cur:
        cur.execute("BEGIN")
        cur.execute("INSERT INTO streams (tenant, stream, last_seq) VALUES (%s, 'ledger', 1)"
                    " ON CONFLICT (tenant, stream) DO UPDATE SET last_seq = streams.last_seq + 1"
                    " RETURNING last_seq", (tenant.id,))
        seq = cur.fetchone()[0]
        env.seq = seq
        cur.execute("INSERT INTO event_log (tenant, stream, seq, event_id, event_type, occurred_at,"
                    " producer, envelope) VALUES (%s, 'ledger', %s, %s, %s, now(), 'e2e', %s)",
                    (tenant.id, seq, env.event_id, type(getattr(env, env.WhichOneof("event"))).__name__,
                     env.SerializeToString()))
        cur.execute("COMMIT")
    return seq


# ---------------------------------------------------------------- the ladder

def test_ladder_over_simulated_days(stack, tenant, peers, calendar):
    """Due Monday 2026-03-16: -5 courtesy, +1 friendly, +10 firm by e-mail;
    +20 falls on a Sunday and +21 on Easter Monday (held), the call goes on
    +22; +30 the mise en demeure PDF; +45 the hand-off; every level once."""
    smtp, _ = peers
    pin_default_ladder(stack, tenant)
    send_ok(tenant, debtor("D1", "Échelle SARL", tenant, phone="+33600000001", address=PARIS),
            invoice_item("I1", "D1", 120000, issue="2026-02-14", due="2026-03-16"))
    caught_up(stack, tenant)
    addr = "d1-%s@example.test" % tenant.id
    steps = [("2026-03-11", 1, "email"), ("2026-03-17", 2, "email"), ("2026-03-26", 3, "email")]
    for n, (day, level, channel) in enumerate(steps, 1):
        calendar(day)
        rows = wait_until(lambda: len(reminders(stack, tenant)) == n and reminders(stack, tenant),
                          what="level %d decided on %s" % (level, day))
        assert (rows[-1][2], rows[-1][3]) == (level, channel)
        wait_until(lambda: len(smtp.to(addr)) == n, what="e-mail of level %d" % level)
    mails = smtp.to(addr)
    assert len({m["message_id"] for m in mails}) == 3
    assert all("F-I1" in m["body"] for m in mails)
    ids = [r[0] for r in reminders(stack, tenant)]
    assert [m["message_id"] for m in mails] == ["<r%d.email@%s.creance>" % (i, tenant.id) for i in ids]

    # +20 is a Sunday, +21 Easter Monday 2026 (a French public holiday).
    for day, why in (("2026-04-05", "weekend"), ("2026-04-06", "public_holiday")):
        off = calendar(day)
        st, body = api(stack, tenant, "/api/v1/reminders/preview")
        assert st == 200
        holds = [i for i in body["items"] if i["action"] == "hold"]
        assert [h["reason"] for h in holds] == [why], body
        wait_pass(stack, off)
        assert len(reminders(stack, tenant)) == 3

    calendar("2026-04-07")
    wait_until(lambda: len(reminders(stack, tenant)) == 4, what="level 4 decided")
    assert reminders(stack, tenant)[-1][2:4] == (4, "phone")
    st, body = wait_until(lambda: (lambda r: r if r[1].get("tasks") else None)(
        api(stack, tenant, "/api/v1/worklist")), what="the call in the worklist")
    assert st == 200 and len(body["tasks"]) == 1
    task = body["tasks"][0]
    assert task["kind"] == "call" and task["phone"] == "+33600000001" and task["level"] == 4

    outbox = stack.env["CREANCE_LETTER_OUTBOX"]
    calendar("2026-04-15")
    wait_until(lambda: len(reminders(stack, tenant)) == 5, what="level 5 decided")
    assert reminders(stack, tenant)[-1][2:4] == (5, "letter")
    key = wait_until(lambda: [d[4] for d in deliveries(stack, tenant) if d[1] == "letter" and d[2] == "sent"],
                     what="the letter written")[0]
    with open(os.path.join(outbox, key + ".pdf"), "rb") as f:
        assert f.read(5) == b"%PDF-"
    assert not [n for n in os.listdir(outbox) if n.endswith(".tmp")]

    off = calendar("2026-04-30")
    wait_until(lambda: len(reminders(stack, tenant)) == 6, what="level 6 decided")
    assert reminders(stack, tenant)[-1][2:4] == (6, "handoff")
    wait_until(lambda: all_delivered(stack, tenant), what="every delivery done")
    assert all(d[2] == "sent" for d in deliveries(stack, tenant))
    # The same day again, after a restart: nothing is decided twice.
    off = calendar("2026-04-30")
    wait_pass(stack, off, 2)
    assert len(reminders(stack, tenant)) == 6
    assert len(smtp.to(addr)) == 3
    assert stack.scalar("SELECT count(*) FROM reminder_items WHERE tenant = %s", (tenant.id,)) == 6
    # One ReminderScheduled per decision on stream "reminders".
    assert stack.scalar("SELECT count(*) FROM event_log WHERE tenant = %s AND stream = 'reminders'"
                        " AND event_type = 'ReminderScheduled'", (tenant.id,)) == 6
    st, body = api(stack, tenant, "/api/v1/reminders")
    assert st == 200
    assert [r["level"] for r in body["reminders"]] == [6, 5, 4, 3, 2, 1]
    assert all(r["deliveries"][0]["status"] == "sent" for r in body["reminders"])
    assert "F-I1" in body["reminders"][-1]["deliveries"][0]["content"]


def test_one_message_per_debtor_lists_its_invoices(stack, tenant, peers, calendar):
    smtp, _ = peers
    send_ok(tenant, debtor("G1", "Groupe SA", tenant), debtor("G2", "Autre SA", tenant),
            invoice_item("A1", "G1", 10000, issue="2026-02-01", due="2026-03-16"),
            invoice_item("A2", "G1", 25050, issue="2026-02-03", due="2026-03-16"),
            invoice_item("B1", "G2", 7000, issue="2026-02-03", due="2026-03-16"))
    caught_up(stack, tenant)
    calendar("2026-03-17")
    rows = wait_until(lambda: len(reminders(stack, tenant)) == 2 and reminders(stack, tenant),
                      what="two decisions")
    by_debtor = {r[1]: r for r in rows}
    g1 = by_debtor[debtor_id(stack, tenant, "G1")]
    assert sorted(g1[5]) == sorted([invoice_id(stack, tenant, "A1"), invoice_id(stack, tenant, "A2")])
    assert g1[6] == 35050
    a = "g1-%s@example.test" % tenant.id
    mails = wait_until(lambda: smtp.to(a), what="the grouped e-mail")
    assert len(mails) == 1
    assert "F-A1" in mails[0]["body"] and "F-A2" in mails[0]["body"]
    assert len(wait_until(lambda: smtp.to("g2-%s@example.test" % tenant.id))) == 1


# ---------------------------------------------------------------- pauses

def test_dispute_leaves_out_the_disputed_part_until_resolved(stack, tenant, peers, calendar):
    pin_default_ladder(stack, tenant)
    send_ok(tenant, debtor("P1", "Litige SARL", tenant),
            invoice_item("L1", "P1", 120000, issue="2026-02-01", due="2026-03-16"),
            invoice_item("L2", "P1", 80000, issue="2026-02-01", due="2026-03-16"),
            pb.IntakeItem(dispute=pb.DisputeFact(external_id="DS1", invoice_external_id="L1",
                                                 amount=money(120000), reason="not delivered",
                                                 opened_date=date_pb("2026-03-12"))),
            pb.IntakeItem(dispute=pb.DisputeFact(external_id="DS2", invoice_external_id="L2",
                                                 amount=money(50000), reason="price",
                                                 opened_date=date_pb("2026-03-12"))))
    caught_up(stack, tenant)
    calendar("2026-03-17")
    l1, l2 = invoice_id(stack, tenant, "L1"), invoice_id(stack, tenant, "L2")
    rows = wait_until(lambda: reminders(stack, tenant), what="the decision for L2")
    assert len(rows) == 1 and rows[0][5] == [l2] and rows[0][6] == 30000   # the undisputed part
    st, body = api(stack, tenant, "/api/v1/reminders/preview")
    assert st == 200
    assert [i["action"] for i in body["items"]] == ["hold"]              # L2 is decided already
    assert body["items"][0]["reason"] == "dispute"
    assert [i["invoice_id"] for i in body["items"][0]["invoices"]] == [l1]

    # Resolved: L1 comes back into the ladder by itself.
    send_ok(tenant, pb.IntakeItem(dispute=pb.DisputeFact(
        external_id="DS1", invoice_external_id="L1", resolve=True, outcome="rejected",
        resolved_date=date_pb("2026-03-18"))))
    caught_up(stack, tenant)
    calendar("2026-03-20")
    rows = wait_until(lambda: len(reminders(stack, tenant)) == 2 and reminders(stack, tenant),
                      what="L1 reminded after the resolution")
    assert rows[-1][5] == [l1] and rows[-1][2] == 2 and rows[-1][6] == 120000


def test_promise_holds_until_its_date_plus_grace(stack, tenant, peers, calendar):
    pin_default_ladder(stack, tenant)
    send_ok(tenant, debtor("PR", "Promesse SAS", tenant),
            invoice_item("P1", "PR", 50000, issue="2026-02-01", due="2026-03-16"))
    send_ok(tenant, pb.IntakeItem(promise=pb.PromiseFact(
        external_id="PM1", debtor_external_id="PR", amount=money(50000),
        promised_date=date_pb("2026-03-20"), invoice_external_ids=["P1"])))
    caught_up(stack, tenant)
    for day in ("2026-03-17", "2026-03-23"):         # promised 03-20, grace 3 days
        off = calendar(day)
        st, body = api(stack, tenant, "/api/v1/reminders/preview")
        assert [i["reason"] for i in body["items"]] == ["promise"], body
        wait_pass(stack, off)
        assert reminders(stack, tenant) == []
    calendar("2026-03-24")                            # resumes by itself
    rows = wait_until(lambda: reminders(stack, tenant), what="dunning resumed after the promise")
    assert [r[2] for r in rows] == [2]


def test_broken_promise_escalates_one_level(stack, tenant, peers, calendar):
    """Level 1 (-5) goes out on 03-11; a promise made, then broken before
    the due date: on the due date itself (days give level 1 again, already
    sent) the broken promise asks for level 2 at once."""
    pin_default_ladder(stack, tenant)
    send_ok(tenant, debtor("PX", "Parole SARL", tenant),
            invoice_item("X1", "PX", 70000, issue="2026-02-01", due="2026-03-16"))
    caught_up(stack, tenant)
    calendar("2026-03-11")
    wait_until(lambda: reminders(stack, tenant), what="level 1")
    send_ok(tenant, pb.IntakeItem(promise=pb.PromiseFact(
        external_id="PM9", debtor_external_id="PX", amount=money(70000),
        promised_date=date_pb("2026-03-30"), invoice_external_ids=["X1"])))
    caught_up(stack, tenant)
    promise_id = wait_until(lambda: stack.scalar(
        "SELECT promise_id FROM rem_promises WHERE tenant = %s ORDER BY promise_id DESC LIMIT 1",
        (tenant.id,)), what="the promise applied")
    off = calendar("2026-03-16")
    wait_pass(stack, off)
    assert [r[2] for r in reminders(stack, tenant)] == [1]       # held by the promise
    append_ledger_event(stack, tenant, promise_broken=pb.PromiseBroken(
        promise_id=promise_id, debtor_id=debtor_id(stack, tenant, "PX"), date=date_pb("2026-03-16")))
    rows = wait_until(lambda: len(reminders(stack, tenant)) == 2 and reminders(stack, tenant),
                      what="the escalation")
    assert rows[-1][2] == 2
    assert stack.scalar("SELECT status FROM rem_promises WHERE tenant = %s AND promise_id = %s",
                        (tenant.id, promise_id)) == "broken"


def test_payment_plan_replaces_dunning_by_instalment_reminders(stack, tenant, peers, calendar):
    """An active plan holds its invoice; its instalment is reminded once,
    3 days before it is due; a missed instalment puts the invoice back on
    the ladder at once."""
    smtp, _ = peers
    pin_default_ladder(stack, tenant)
    send_ok(tenant, debtor("PL", "Echeancier SARL", tenant),
            invoice_item("PI1", "PL", 50000, issue="2026-02-01", due="2026-03-16"))
    send_ok(tenant, pb.IntakeItem(payment_plan=pb.PaymentPlanFact(
        external_id="PLAN1", debtor_external_id="PL", invoice_external_ids=["PI1"],
        agreed_date=date_pb("2026-03-10"),
        instalments=[pb.Instalment(number=1, due_date=date_pb("2026-03-20"), amount=money(25000)),
                     pb.Instalment(number=2, due_date=date_pb("2026-04-20"), amount=money(25000))])))
    caught_up(stack, tenant)
    plan_id = wait_until(lambda: stack.scalar("SELECT plan_id FROM rem_plans WHERE tenant = %s",
                                              (tenant.id,)), what="the plan applied")
    off = calendar("2026-03-17")
    rows = wait_until(lambda: reminders(stack, tenant), what="the instalment reminder")
    wait_pass(stack, off, 2)
    rows = stack.query("SELECT kind, level, total_minor FROM reminders WHERE tenant = %s", (tenant.id,))
    assert rows == [("instalment", 0, 25000)]                      # no dunning while the plan runs
    st, body = api(stack, tenant, "/api/v1/reminders/preview")
    assert [i["reason"] for i in body["items"]] == ["payment_plan"]
    mail = wait_until(lambda: smtp.to("pl-%s@example.test" % tenant.id), what="the instalment e-mail")
    assert len(mail) == 1 and "250,00" in mail[0]["body"] and "1 sur 2" in mail[0]["body"]
    # Missed: the plan stops holding, the ladder restarts at the next level.
    append_ledger_event(stack, tenant, instalment_missed=pb.InstalmentMissed(
        plan_id=plan_id, debtor_id=debtor_id(stack, tenant, "PL"),
        instalment=pb.Instalment(number=1, due_date=date_pb("2026-03-20"), amount=money(25000))))
    wait_until(lambda: stack.scalar("SELECT status FROM rem_plans WHERE tenant = %s", (tenant.id,)) == "missed",
               what="the missed instalment applied")
    calendar("2026-03-23")
    rows = wait_until(lambda: len(reminders(stack, tenant)) == 2 and reminders(stack, tenant),
                      what="dunning back after the missed instalment")
    assert rows[-1][2] == 2


# ---------------------------------------------------------------- contact rules

def test_quiet_hours_in_each_debtors_time_zone(stack, tenant, peers, calendar):
    """2026-03-17 11:30 UTC is 12:30 in Paris and 07:30 in New York (EDT since
    March 8): New York waits until 08:00 local, 12:00 UTC, not 13:00 (EST)."""
    send_ok(tenant, debtor("FR1", "Paris SARL", tenant, tz="Europe/Paris"),
            debtor("US1", "New York Inc", tenant, tz="America/New_York", country="US", language="en"),
            invoice_item("Q1", "FR1", 10000, issue="2026-02-01", due="2026-03-16"),
            invoice_item("Q2", "US1", 20000, issue="2026-02-01", due="2026-03-16"))
    caught_up(stack, tenant)
    us = debtor_id(stack, tenant, "US1")
    fr = debtor_id(stack, tenant, "FR1")
    off = calendar("2026-03-17", now="2026-03-17T11:30:00Z")
    wait_until(lambda: reminders(stack, tenant), what="Paris reminded")
    st, body = api(stack, tenant, "/api/v1/reminders/preview")
    assert [(i["debtor_id"], i["action"], i["reason"]) for i in body["items"]] == [
        (us, "hold", "quiet_hours")]
    assert body["items"][0]["local_time"] == "07:30"
    wait_pass(stack, off)
    assert [r[1] for r in reminders(stack, tenant)] == [fr]
    calendar("2026-03-17", now="2026-03-17T12:05:00Z")
    rows = wait_until(lambda: len(reminders(stack, tenant)) == 2 and reminders(stack, tenant),
                      what="New York reminded at 08:05 local")
    assert rows[-1][1] == us


# ---------------------------------------------------------------- channels

def test_opt_out_and_bounce_fall_back_to_sms(stack, tenant, peers, calendar):
    smtp, sms = peers
    send_ok(tenant, debtor("O1", "Optout SARL", tenant, phone="+33611111111"),
            debtor("B1", "Bounce SARL", tenant, phone="+33622222222"),
            invoice_item("O-1", "O1", 10000, issue="2026-02-01", due="2026-03-16"),
            invoice_item("B-1", "B1", 20000, issue="2026-02-01", due="2026-03-16"))
    caught_up(stack, tenant)
    o1 = debtor_id(stack, tenant, "O1")
    st, body = api(stack, tenant, "/api/v1/optouts", {"debtor_id": o1, "channel": "email"})
    assert st == 200 and body["opted_out"] is True
    st, body = api(stack, tenant, "/api/v1/optouts", {"debtor_id": o1, "channel": "fax"})
    assert st == 400 and body["error"]["field"] == "channel"

    calendar("2026-03-17")
    # Opted out of e-mail: the level goes by SMS, with the idempotency key.
    req = wait_until(lambda: sms.to("+33611111111"), what="the SMS of the opted-out debtor")
    assert len(req) == 1
    h = {k.lower(): v for k, v in req[0]["headers"].items()}
    assert h["authorization"] == "Bearer e2e-sms-token"
    assert h["idempotency-key"] == req[0]["json"]["reference"]
    assert h["idempotency-key"].startswith(tenant.id + "-r")
    assert smtp.to("o1-%s@example.test" % tenant.id) == []

    # The other one got an e-mail, which bounces: fallback to SMS.
    b_addr = "b1-%s@example.test" % tenant.id
    mail = wait_until(lambda: smtp.to(b_addr), what="the e-mail that will bounce")[0]
    wait_until(lambda: stack.scalar("SELECT count(*) FROM reminder_deliveries WHERE tenant = %s"
                                    " AND channel = 'email' AND status = 'sent'", (tenant.id,)) == 1)
    st, body = api(stack, tenant, "/api/v1/bounces", {"message_id": mail["message_id"], "reason": "5.1.1"})
    assert st == 200 and body["bounced"] is True
    st, body = api(stack, tenant, "/api/v1/bounces", {"message_id": "<nope@x>"})
    assert st == 404
    req = wait_until(lambda: sms.to("+33622222222"), what="the fallback SMS after the bounce")
    assert len(req) == 1
    b1 = debtor_id(stack, tenant, "B1")
    assert stack.scalar("SELECT reason FROM rem_optouts WHERE tenant = %s AND debtor_id = %s"
                        " AND channel = 'email'", (tenant.id, b1)) == "bounce"
    # The token never shows in the logs.
    assert "e2e-sms-token" not in stack.log_text("reminders")
    # Another tenant's token sees none of it.
    other = stack.make_tenant("o")
    st, body = api(stack, other, "/api/v1/reminders")
    assert st == 200 and body["reminders"] == []
    st, _ = api(stack, tenant, "/api/v1/reminders", token="nope")
    assert st == 401


# ---------------------------------------------------------------- exactly once

def test_exactly_one_email_per_decision_across_a_crash(stack, tenant, peers, calendar):
    """kill -9 while the SMTP server holds a delivery; after the restart the
    server has received exactly one message per decision."""
    smtp, _ = peers
    items = []
    for k in range(3):
        items.append(debtor("C%d" % k, "Crash %d SARL" % k, tenant))
        items.append(invoice_item("CI%d" % k, "C%d" % k, 1000 + k, issue="2026-02-01", due="2026-03-16"))
    send_ok(tenant, *items)
    caught_up(stack, tenant)
    addrs = ["c%d-%s@example.test" % (k, tenant.id) for k in range(3)]
    smtp.rcpt_seen.clear()
    smtp.rcpt_delay = 4.0
    try:
        if stack.running("reminders"):
            stack.stop("reminders")
        stack.service_env["reminders"] = {"CREANCE_TODAY": "2026-03-17"}
        stack.start("reminders")
        wait_until(lambda: stack.scalar("SELECT count(*) FROM reminder_deliveries WHERE tenant = %s"
                                        " AND status = 'sending'", (tenant.id,)) == 1,
                   what="a delivery in flight")
        assert smtp.rcpt_seen.wait(10)
        stack.kill("reminders")
    finally:
        smtp.rcpt_delay = 0.0
    assert len(reminders(stack, tenant)) == 3
    stack.start("reminders")
    wait_until(lambda: sum(len(smtp.to(a)) for a in addrs) >= 3, what="the three e-mails")
    wait_until(lambda: all_delivered(stack, tenant), what="every delivery recorded")
    off = stack.log_size("reminders")
    wait_pass(stack, off, 2)
    got = [m for a in addrs for m in smtp.to(a)]
    assert len(got) == 3
    ids = sorted(r[0] for r in reminders(stack, tenant))
    assert sorted(m["message_id"] for m in got) == sorted("<r%d.email@%s.creance>" % (i, tenant.id)
                                                          for i in ids)
    rows = deliveries(stack, tenant)
    assert [r[2] for r in rows] == ["sent"] * 3
    assert max(r[3] for r in rows) == 2              # the interrupted one was tried again


# ---------------------------------------------------------------- limitation

def test_limitation_warnings(stack, tenant, calendar):
    send_ok(tenant, debtor("BZ", "Ancienne SA", tenant),
            debtor("CO", "Jean Dupont", tenant, kind=pb.CONSUMER),
            invoice_item("OLD", "BZ", 5000, issue="2021-03-01", due="2021-04-01"),
            invoice_item("NEW", "BZ", 5000, issue="2025-03-01", due="2025-04-01"),
            invoice_item("CON", "CO", 3000, issue="2024-03-01", due="2024-04-10"))
    caught_up(stack, tenant)
    calendar("2026-03-01")
    st, body = api(stack, tenant, "/api/v1/reminders/limitation?days=60")
    assert st == 200
    got = {i["number"]: i for i in body["invoices"]}
    # business: due 2021-04-01 + 5 years; consumer: due 2024-04-10 + 2 years
    assert set(got) == {"F-OLD", "F-CON"}
    assert got["F-OLD"]["expires_on"] == "2026-04-01" and got["F-OLD"]["days_left"] == 31
    assert got["F-CON"]["expires_on"] == "2026-04-10" and got["F-CON"]["kind"] == "consumer"
    st, body = api(stack, tenant, "/api/v1/reminders/limitation?days=x")
    assert st == 400 and body["error"]["field"] == "days"
