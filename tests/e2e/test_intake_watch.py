"""Intake's watcher (services/intake/watch.c): promises kept or broken and
plan instalments paid or missed, decided from the ledger, each emitted once
into event_log (stream "ledger"), and reminders' state following them.

The calendar moves by restarting creance-intake with CREANCE_TODAY (the
watcher runs once at start); the dates are far in the future so that the
real date never decides anything here. The fixture restores intake's
environment afterwards."""

import pytest

import creance_pb2 as pb

from stack import date_pb, debtor_item, invoice_item, money, payment_item, wait_until


def ok(reply, n):
    assert reply.error == "", reply
    assert [r.status for r in reply.results] == [pb.ACCEPTED] * n, reply
    return [r.id for r in reply.results]


def events(stack, tenant_id, event_type):
    out = []
    for (data,) in stack.query("SELECT envelope FROM event_log WHERE tenant = %s AND stream = 'ledger' "
                               "AND event_type = %s ORDER BY seq", (tenant_id, event_type)):
        env = pb.Envelope()
        env.ParseFromString(bytes(data))
        out.append(env)
    return out


def restart_intake(stack, today):
    """Restarts intake (on `today`, or the real date for None) and waits
    for its first watcher pass."""
    if today:
        stack.service_env["intake"] = {"CREANCE_TODAY": today}
    else:
        stack.service_env.pop("intake", None)
    stack.stop("intake")
    offset = stack.log_size("intake")
    stack.start("intake")
    wait_until(lambda: "watch pass done trigger=start" in stack.log_since("intake", offset),
               what="the watcher's pass at start")


@pytest.fixture
def intake_calendar(stack):
    yield lambda day: restart_intake(stack, day)
    restart_intake(stack, None)


def promise(ext, debtor, amount, on, invoices=()):
    return pb.IntakeItem(promise=pb.PromiseFact(external_id=ext, debtor_external_id=debtor,
                                                amount=money(amount), promised_date=date_pb(on),
                                                invoice_external_ids=list(invoices)))


def test_promise_kept_once_across_restart(stack, tenant, intake_calendar):
    intake_calendar("2099-03-16")
    debtor, inv = ok(tenant.send(debtor_item("D"), invoice_item("I", "D", 10000, issue="2099-02-01",
                                                                 due="2099-03-01")), 2)
    (pr,) = ok(tenant.send(promise("P1", "D", 6000, "2099-03-20", ["I"])), 1)
    # A first payment short of the promise: nothing yet.
    ok(tenant.send(payment_item("Y1", "D", 4000, received="2099-03-12", invoices=["I"])), 1)
    assert stack.scalar("SELECT status FROM promises WHERE tenant = %s AND id = %s", (tenant.id, pr)) == "open"
    # The second reaches it before the promised date: kept on that day,
    # decided right after the burst that recorded the payment (after its
    # reply: the sender does not wait for the watcher).
    ok(tenant.send(payment_item("Y2", "D", 2000, received="2099-03-15", invoices=["I"])), 1)
    kept = wait_until(lambda: events(stack, tenant.id, "PromiseKept"), what="PromiseKept")
    assert len(kept) == 1
    e = kept[0].promise_kept
    assert (e.promise_id, e.debtor_id, (e.date.year, e.date.month, e.date.day)) == (pr, debtor, (2099, 3, 15))
    assert stack.query("SELECT status, resolved_date::text FROM promises WHERE tenant = %s AND id = %s",
                       (tenant.id, pr)) == [("kept", "2099-03-15")]
    assert events(stack, tenant.id, "PromiseBroken") == []
    assert stack.metric("intake", "creance_intake_watch_events_total", {"type": "PromiseKept"}) >= 1
    # Reminders: the promise ends without escalation.
    wait_until(lambda: stack.scalar("SELECT status FROM rem_promises WHERE tenant = %s AND promise_id = %s",
                                    (tenant.id, pr)) == "kept", what="reminders saw the kept promise")
    assert stack.scalar("SELECT count(*) FROM rem_open_items WHERE tenant = %s AND promise_id IS NOT NULL",
                        (tenant.id,)) == 0
    # A restart (a full pass) and another payment (a burst pass): still once.
    intake_calendar("2099-04-30")
    ok(tenant.send(payment_item("Y3", "D", 1000, received="2099-03-16", invoices=["I"])), 1)
    wait_until(lambda: stack.consumers_caught_up(tenant.id), what="consumers caught up")
    assert len(events(stack, tenant.id, "PromiseKept")) == 1
    assert events(stack, tenant.id, "PromiseBroken") == []
    assert stack.last_seq(tenant.id) == stack.event_count(tenant.id)


def test_promise_broken_after_grace(stack, tenant, intake_calendar):
    debtor, inv = ok(tenant.send(debtor_item("D"), invoice_item("I", "D", 10000, issue="2099-05-01",
                                                                 due="2099-05-31")), 2)
    (pr,) = ok(tenant.send(promise("P1", "D", 10000, "2099-06-01", ["I"])), 1)
    # A payment to ANOTHER invoice does not count for a promise naming I,
    # however large.
    ok(tenant.send(invoice_item("J", "D", 10000, issue="2099-05-01", due="2099-05-31"),
                   payment_item("Y1", "D", 10000, received="2099-05-20", invoices=["J"])), 2)
    wait_until(lambda: stack.scalar("SELECT status FROM rem_promises WHERE tenant = %s AND promise_id = %s",
                                    (tenant.id, pr)) == "open", what="reminders saw the promise")
    intake_calendar("2099-06-04")                    # last day of grace (3 days)
    assert events(stack, tenant.id, "PromiseBroken") == []
    assert stack.scalar("SELECT status FROM promises WHERE tenant = %s AND id = %s", (tenant.id, pr)) == "open"
    intake_calendar("2099-06-05")
    broken = wait_until(lambda: events(stack, tenant.id, "PromiseBroken"), what="PromiseBroken")
    e = broken[0].promise_broken
    assert (e.promise_id, e.debtor_id, (e.date.year, e.date.month, e.date.day)) == (pr, debtor, (2099, 6, 5))
    assert stack.query("SELECT status, resolved_date::text FROM promises WHERE tenant = %s AND id = %s",
                       (tenant.id, pr)) == [("broken", "2099-06-05")]
    # Reminders: the promise is broken and its invoice asks for the next level.
    wait_until(lambda: stack.scalar("SELECT status FROM rem_promises WHERE tenant = %s AND promise_id = %s",
                                    (tenant.id, pr)) == "broken", what="reminders saw the broken promise")
    assert stack.query("SELECT promise_id, min_level >= last_level + 1 FROM rem_open_items "
                       "WHERE tenant = %s AND invoice_id = %s", (tenant.id, inv)) == [(None, True)]
    # Once only, across another restart on a later day.
    intake_calendar("2099-07-01")
    assert len(events(stack, tenant.id, "PromiseBroken")) == 1
    assert events(stack, tenant.id, "PromiseKept") == []


def test_plan_instalment_paid_missed_then_defaulted(stack, tenant, intake_calendar):
    debtor, inv = ok(tenant.send(debtor_item("D"), invoice_item("I", "D", 9000, issue="2098-12-01",
                                                                 due="2098-12-31")), 2)
    plan = pb.PaymentPlanFact(external_id="PL1", debtor_external_id="D", invoice_external_ids=["I"],
                              agreed_date=date_pb("2099-01-01"))
    for i, due in enumerate(("2099-02-01", "2099-03-01", "2099-03-20")):
        plan.instalments.add(number=i + 1, due_date=date_pb(due), amount=money(3000))
    (plan_id,) = ok(tenant.send(pb.IntakeItem(payment_plan=plan)), 1)
    ok(tenant.send(payment_item("Y1", "D", 3000, received="2099-01-20")), 1)
    wait_until(lambda: stack.scalar("SELECT status FROM rem_plans WHERE tenant = %s AND plan_id = %s",
                                    (tenant.id, plan_id)) == "active", what="reminders saw the plan")

    intake_calendar("2099-03-10")   # 1 covered on 01-20; 2 past 03-01 + 3 days, unpaid
    paid = wait_until(lambda: events(stack, tenant.id, "InstalmentPaid"), what="InstalmentPaid")
    missed = wait_until(lambda: events(stack, tenant.id, "InstalmentMissed"), what="InstalmentMissed")
    assert [(e.instalment_paid.plan_id, e.instalment_paid.instalment.number,
             e.instalment_paid.instalment.amount.minor, e.instalment_paid.paid_date.month,
             e.instalment_paid.paid_date.day) for e in paid] == [(plan_id, 1, 3000, 1, 20)]
    assert [(e.instalment_missed.plan_id, e.instalment_missed.debtor_id,
             e.instalment_missed.instalment.number) for e in missed] == [(plan_id, debtor, 2)]
    assert events(stack, tenant.id, "PlanDefaulted") == []           # one miss only
    assert stack.query("SELECT number, status, paid_minor, resolved_date::text FROM plan_instalments "
                       "WHERE tenant = %s AND plan_id = %s ORDER BY number", (tenant.id, plan_id)) == \
        [(1, "paid", 3000, "2099-01-20"), (2, "missed", 0, "2099-03-05"), (3, "due", 0, None)]
    # Reminders: instalment statuses follow; the miss releases the plan's invoice.
    wait_until(lambda: stack.query("SELECT number, status FROM rem_plan_instalments WHERE tenant = %s "
                                   "AND plan_id = %s ORDER BY number", (tenant.id, plan_id))
               == [(1, "paid"), (2, "missed"), (3, "open")], what="reminders saw the instalments")
    assert stack.scalar("SELECT status FROM rem_plans WHERE tenant = %s AND plan_id = %s",
                        (tenant.id, plan_id)) == "missed"
    assert stack.scalar("SELECT plan_id FROM rem_open_items WHERE tenant = %s AND invoice_id = %s",
                        (tenant.id, inv)) is None

    # 3 missed too, on 03-24: the second miss defaults the plan that day
    # (before 2's 30 days uncovered, which would default it on 04-04).
    intake_calendar("2099-04-05")
    defaulted = wait_until(lambda: events(stack, tenant.id, "PlanDefaulted"), what="PlanDefaulted")
    d = defaulted[0].plan_defaulted
    assert (d.plan_id, d.debtor_id, (d.date.year, d.date.month, d.date.day)) == (plan_id, debtor, (2099, 3, 24))
    assert stack.query("SELECT status, ended_date::text FROM payment_plans WHERE tenant = %s AND id = %s",
                       (tenant.id, plan_id)) == [("defaulted", "2099-03-24")]
    assert len(events(stack, tenant.id, "InstalmentMissed")) == 2
    assert len(events(stack, tenant.id, "InstalmentPaid")) == 1
    assert events(stack, tenant.id, "PlanCompleted") == []


def test_plan_completed(stack, tenant, intake_calendar):
    ok(tenant.send(debtor_item("D"), invoice_item("I", "D", 4000, issue="2098-12-01", due="2098-12-31")), 2)
    plan = pb.PaymentPlanFact(external_id="PL1", debtor_external_id="D", invoice_external_ids=["I"],
                              agreed_date=date_pb("2099-01-01"))
    plan.instalments.add(number=1, due_date=date_pb("2099-02-01"), amount=money(2000))
    plan.instalments.add(number=2, due_date=date_pb("2099-03-01"), amount=money(2000))
    (plan_id,) = ok(tenant.send(pb.IntakeItem(payment_plan=plan)), 1)
    ok(tenant.send(payment_item("Y1", "D", 2500, received="2099-01-30"),
                   payment_item("Y2", "D", 1500, received="2099-02-27")), 2)
    intake_calendar("2099-03-02")
    done = wait_until(lambda: events(stack, tenant.id, "PlanCompleted"), what="PlanCompleted")
    c = done[0].plan_completed
    assert (c.plan_id, (c.date.month, c.date.day)) == (plan_id, (2, 27))
    assert [(e.instalment_paid.instalment.number, e.instalment_paid.paid_date.month,
             e.instalment_paid.paid_date.day) for e in events(stack, tenant.id, "InstalmentPaid")] == \
        [(1, 1, 30), (2, 2, 27)]
    wait_until(lambda: stack.scalar("SELECT status FROM rem_plans WHERE tenant = %s AND plan_id = %s",
                                    (tenant.id, plan_id)) == "completed", what="reminders saw the completion")
