"""Distribution keys: every per-debtor table carries its debtor.

docs/scaling.md's table "Distribution keys, table by table" is the one list
of how each table would be distributed; this test reads it, so that
  - every table of the schema must have a row there (a new table that nobody
    classified fails here);
  - every table keyed (tenant, debtor_id) has a NOT NULL bigint debtor_id,
    and a table that points at a per-debtor row (invoice_id, payment_id,
    reminder_id ...) is itself keyed by the debtor;
  - after a feed that writes them (payments allocated set-based and item by
    item, credit of a payment and of a credit note taken by a later invoice,
    an adjustment, a partial refund, a plan and its instalment reminder, a
    dispute, a promise, a write-off, letters with fees, a delivery falling
    back after a refused e-mail, an erasure queueing a letter's file), each
    row's debtor_id is a debtor of the tenant and the debtor of every parent
    row it names. A writer that forgot the column fails on NOT NULL (the
    feed is refused or a consumer stalls); one that filled it wrong fails
    the parent check.
"""

import datetime
import json
import os
import urllib.error
import urllib.request

import psycopg2
import pytest

import stack as stackmod
from reminders_peers import SmtpSink
from stack import date_pb, debtor_item, invoice_item, money, payment_item, pb, wait_until

PER_DEBTOR = "(tenant, debtor_id)"

# Columns that name a per-debtor row: the row's debtor must be that row's.
PARENTS = {
    "invoice_id": "invoices",
    "payment_id": "payments",
    "credit_note_id": "credit_notes",
    "plan_id": "payment_plans",
    "promise_id": "promises",
    "dispute_id": "disputes",
    "reminder_id": "reminders",
    "delivery_id": "reminder_deliveries",
}

# Per-debtor tables the feed below does not write (each needs a feature of
# its own: an opt-out, a phone call task, a collector, a debtor search
# projection ...); every other per-debtor table must have rows.
NOT_FED = {
    "rem_optouts": "an opt-out or a bounce through the API",
    "rem_worklist": "a phone level",
    "rpt_collector_assignments": "a collector assigned through the API",
}

# Dates are the real day's neighbours: intake's watcher settles plans and
# promises by the clock, so the plan's instalment must still be ahead of it.
TODAY = datetime.datetime.now(datetime.timezone.utc).date()


def day(offset):
    return (TODAY + datetime.timedelta(days=offset)).isoformat()


# ---------------------------------------------------------------- the list

def classification():
    """{table: key} from docs/scaling.md, section "Distribution keys, table by table"."""
    with open(os.path.join(stackmod.REPO, "docs", "scaling.md"), encoding="utf-8") as f:
        text = f.read()
    start = text.index("## Distribution keys, table by table")
    end = text.index("\n## ", start + 1)
    keys = {}
    for line in text[start:end].splitlines():
        if not line.startswith("|"):
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 3 or cells[0] == "table" or set(cells[0]) <= set("-"):
            continue
        for t in cells[0].split(","):
            t = t.strip()
            assert t not in keys, "docs/scaling.md lists %s twice" % t
            keys[t] = cells[1]
    return keys


def schema(stack):
    """{table: {column: (data_type, is_nullable)}} of the public base tables."""
    out = {}
    for table, column, dtype, nullable in stack.query(
            "SELECT c.table_name, c.column_name, c.data_type, c.is_nullable"
            " FROM information_schema.columns c JOIN information_schema.tables t"
            "  ON t.table_schema = c.table_schema AND t.table_name = c.table_name"
            " WHERE c.table_schema = 'public' AND t.table_type = 'BASE TABLE'"
            "  AND c.table_name <> 'schema_migrations'"):
        out.setdefault(table, {})[column] = (dtype, nullable)
    return out


def per_debtor(keys):
    return sorted(t for t, k in keys.items() if k == PER_DEBTOR)


def test_every_table_is_classified_and_keyed(stack):
    keys = classification()
    tables = schema(stack)
    assert sorted(set(tables) - set(keys)) == [], \
        "tables missing from docs/scaling.md's distribution keys"
    assert sorted(set(keys) - set(tables)) == [], "docs/scaling.md lists tables that do not exist"
    assert keys["debtors"] == "(tenant, id)"
    for t in per_debtor(keys):
        assert tables[t].get("tenant") == ("text", "NO"), t
        assert tables[t].get("debtor_id") == ("bigint", "NO"), \
            "%s is keyed %s but has no NOT NULL bigint debtor_id" % (t, PER_DEBTOR)
    # A row that points at a per-debtor row belongs to that debtor too.
    for t, cols in tables.items():
        for col, parent in PARENTS.items():
            if col in cols and t != parent and t != "debtors":
                assert keys[t] == PER_DEBTOR, \
                    "%s.%s names a %s row but %s is keyed %s" % (t, col, parent, t, keys[t])
    assert set(NOT_FED) <= set(per_debtor(keys))


# ---------------------------------------------------------------- the feed

PARIS = pb.PostalAddress(line1="3 rue des Clés", postal_code="75003", city="Paris", country="FR")


def debtor(ext, tenant):
    return debtor_item(ext, name="Clé %s SARL" % ext, time_zone="Europe/Paris",
                       email=email(ext, tenant), address=PARIS)


def email(ext, tenant):
    return "%s-%s@example.test" % (ext.lower(), tenant.id)


def ok(reply, n):
    assert reply.error == "", reply
    assert [(r.status, r.field, r.reason) for r in reply.results] == \
        [(pb.ACCEPTED, "", "")] * n, reply
    return [r.id for r in reply.results]


def send_to(stack, endpoint, tenant, *items):
    reply = pb.IntakeReply()
    reply.ParseFromString(stack._dealer_call(endpoint, tenant.batch(*items).SerializeToString(), 30))
    return reply


def restart_reminders(stack, env):
    if stack.running("reminders"):
        stack.stop("reminders")
    if env:
        stack.service_env["reminders"] = env
    else:
        stack.service_env.pop("reminders", None)
    offset = stack.log_size("reminders")
    stack.start("reminders")
    wait_until(lambda: "dunning pass done trigger=start" in stack.log_since("reminders", offset),
               what="the first dunning pass after start")


def erase(stack, tenant, debtor_id):
    req = urllib.request.Request(
        "http://%s/api/v1/debtors/%d/erase" % (stack.http_addr("reporting"), debtor_id),
        data=json.dumps({"force": True}).encode(), method="POST",
        headers={"Authorization": "Bearer " + tenant.token, "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def count(stack, table, tenant_id):
    return stack.scalar("SELECT count(*) FROM %s WHERE tenant = %%s" % table, (tenant_id,))


def key_faults(stack, tenant_id, table, columns):
    """What is wrong with the debtor_id of the tenant's rows of `table`."""
    faults = []
    n = stack.scalar("SELECT count(*) FROM %s x WHERE x.tenant = %%s AND NOT EXISTS"
                     " (SELECT 1 FROM debtors d WHERE d.tenant = x.tenant AND d.id = x.debtor_id)"
                     % table, (tenant_id,))
    if n:
        faults.append("%s: %d rows whose debtor_id is no debtor of the tenant" % (table, n))
    for col, parent in PARENTS.items():
        if col not in columns or table == parent:
            continue
        orphans, wrong = stack.query(
            "SELECT count(*) FILTER (WHERE p.id IS NULL),"
            " count(*) FILTER (WHERE p.debtor_id IS DISTINCT FROM x.debtor_id AND p.id IS NOT NULL)"
            " FROM %s x LEFT JOIN %s p ON p.tenant = x.tenant AND p.id = x.%s"
            " WHERE x.tenant = %%s AND x.%s IS NOT NULL" % (table, parent, col, col), (tenant_id,))[0]
        if orphans:
            faults.append("%s.%s: %d rows name no %s row" % (table, col, orphans, parent))
        if wrong:
            faults.append("%s.%s: %d rows whose debtor_id is not their %s row's"
                          % (table, col, wrong, parent))
    return faults


@pytest.fixture
def smtp(stack):
    s = SmtpSink(stack.smtp_port).start()
    yield s
    s.stop()


@pytest.fixture
def reminders_back(stack):
    """Reminders running again on the clock after the test."""
    yield
    restart_reminders(stack, None)


@pytest.fixture
def item_intake(stack):
    """A second intake recording item by item (CREANCE_INTAKE_BULK=0): the
    same facts go through facts.c's writers rather than bulk.c's."""
    env = stack.start_instance("intake.items", "intake", {"CREANCE_INTAKE_BULK": "0"})
    yield env["CREANCE_INTAKE_ENDPOINT"]
    stack.stop("intake.items")


def test_every_row_carries_its_parents_debtor(stack, tenant, smtp, item_intake, reminders_back):
    keys = classification()
    tables = schema(stack)
    bulk = stack.env["CREANCE_INTAKE_ENDPOINT"]
    # The tenant's ladder: one level, a letter (a PDF file) with a fee, the
    # day after the due date.
    stack.query_exec("INSERT INTO rem_policy_levels (tenant, grade, level, offset_days, channel,"
                     " fallback, template_key, tone, fee_minor) VALUES"
                     " (%s, NULL, 1, 1, 'letter', '{}', 'formal_notice', 'formal', 4000)", (tenant.id,))
    # Today may be a weekend or a holiday: the tenant contacts on any day.
    stack.query_exec("INSERT INTO rem_contact_rules (tenant, skip_weekends, skip_holidays)"
                     " VALUES (%s, false, false)", (tenant.id,))
    # C's e-mail is refused: its instalment reminder falls back to a letter.
    smtp.refuse.add(email("C", tenant))
    # Reminders' passes run by the clock every few hundred milliseconds: it
    # stays stopped until the whole feed is in, so that it decides on the
    # final amounts (a plan holding its invoice, a promise its own).
    stack.stop("reminders")

    # Debtors without invoices first: in a young database the debtors' ids
    # would otherwise be the reminders' and invoices' ids too, and a writer
    # that put one for the other would go unnoticed.
    ok(send_to(stack, bulk, tenant, *[debtor("Z%d" % i, tenant) for i in range(7)]), 7)
    ok(send_to(stack, bulk, tenant,
               debtor("A", tenant), debtor("B", tenant), debtor("C", tenant), debtor("D", tenant),
               invoice_item("IA1", "A", 100000, issue=day(-40), due=day(-7)),
               invoice_item("IA2", "A", 50000, issue=day(-38), due=day(-5)),
               invoice_item("IB1", "B", 50000, issue=day(-40), due=day(-20)),
               invoice_item("IC1", "C", 60000, issue=day(-40), due=day(-10)),
               invoice_item("ID1", "D", 30000, issue=day(-35), due=day(-12))), 9)
    # Set-based payments: A's pays IA1 in part, B's pays IB1 and leaves 30000 of credit.
    ok(send_to(stack, bulk, tenant,
               payment_item("PA1", "A", 30000, received=day(-10)),
               payment_item("PB1", "B", 80000, received=day(-25))), 2)
    ok(send_to(stack, bulk, tenant,
               pb.IntakeItem(credit_note=pb.CreditNoteFact(
                   external_id="CNB", debtor_external_id="B", number="AV-CNB",
                   issue_date=date_pb(day(-30)), amount=money(5000))),
               pb.IntakeItem(invoice_adjustment=pb.InvoiceAdjustmentFact(
                   external_id="ADJ", invoice_external_id="IA2", reason="corrected",
                   new_amount=money(45000))),
               pb.IntakeItem(dispute=pb.DisputeFact(
                   external_id="SA", invoice_external_id="IA1", reason="quality",
                   opened_date=date_pb(day(-6)), amount=money(10000))),
               pb.IntakeItem(payment_plan=pb.PaymentPlanFact(
                   external_id="LC", debtor_external_id="C", invoice_external_ids=["IC1"],
                   agreed_date=date_pb(day(-8)),
                   instalments=[pb.Instalment(number=1, due_date=date_pb(day(2)),
                                              amount=money(30000)),
                                pb.Instalment(number=2, due_date=date_pb(day(32)),
                                              amount=money(30000))])),
               pb.IntakeItem(promise=pb.PromiseFact(
                   external_id="RD", debtor_external_id="D", amount=money(20000),
                   promised_date=date_pb(day(8)), invoice_external_ids=["ID1"])),
               pb.IntakeItem(write_off=pb.WriteOffFact(
                   external_id="WD", invoice_external_id="ID1", date=date_pb(day(-9)),
                   reason="insolvency", amount=money(5000)))), 6)
    # Item by item: IB2 takes the credit note's credit then the payment's;
    # D's payment is allocated by facts.c.
    ok(send_to(stack, item_intake, tenant,
               invoice_item("IB2", "B", 40000, issue=day(-3), due=day(27)),
               payment_item("PD1", "D", 10000, received=day(-6))), 2)
    # A partial refund of B's payment.
    ok(send_to(stack, bulk, tenant, pb.IntakeItem(payment_reversal=pb.PaymentReversalFact(
        external_id="RFB", payment_external_id="PB1", reversed_date=date_pb(day(-2)),
        reason="refund", amount=money(1000)))), 1)
    assert count(stack, "credit_note_applications", tenant.id) == 1
    assert count(stack, "allocations", tenant.id) == 4     # PA1, PB1 (IB1, IB2), PD1
    wait_until(lambda: stack.consumers_caught_up(tenant.id, consumers=("risk", "reporting")),
               timeout=60, what="risk and reporting caught up")

    a = stack.scalar("SELECT id FROM debtors WHERE tenant = %s AND external_id = 'A'", (tenant.id,))
    # Its first pass runs once it has caught up; one attempt per delivery,
    # so that C's refused e-mail falls back at once.
    restart_reminders(stack, {"CREANCE_TODAY": TODAY.isoformat(),
                              "CREANCE_REMINDERS_MAX_ATTEMPTS": "1"})
    assert stack.consumers_caught_up(tenant.id)
    # A's letter (level 1, two invoices, a fee each) and C's instalment
    # reminder, refused by e-mail then sent as a letter.
    wait_until(lambda: stack.scalar(
        "SELECT count(*) FROM reminder_deliveries WHERE tenant = %s AND channel = 'letter'"
        " AND status = 'sent'", (tenant.id,)) == 2, timeout=60, what="both letters sent")
    assert count(stack, "reminder_fees", tenant.id) == 2
    assert count(stack, "reminder_instalments", tenant.id) == 1
    # The instalment reminder names no invoice (ReminderScheduled of a plan).
    wait_until(lambda: count(stack, "rpt_reminded", tenant.id) == 2, timeout=60,
               what="reporting counts A's reminded invoices")
    # The erasure queues A's letter for deletion; reminders stays stopped
    # until it is checked (its purge empties the queue).
    stack.stop("reminders")
    status, body = erase(stack, tenant, a)
    assert status == 200, body
    assert count(stack, "gdpr_file_purges", tenant.id) == 1

    empty = [t for t in per_debtor(keys) if t not in NOT_FED and count(stack, t, tenant.id) == 0]
    assert empty == [], "per-debtor tables the feed did not write"
    faults = []
    for t in per_debtor(keys):
        faults += key_faults(stack, tenant.id, t, tables[t])
    assert faults == []

    # The migration's backfill (deploy/sql/0100_debtor_keys.sql) finds the
    # same debtors as the writers: its UPDATEs run again on these rows with
    # the column emptied, in a transaction that is rolled back.
    backfilled = backfill_differences(stack, tenant.id)
    assert backfilled == {t: 0 for t in backfilled} and len(backfilled) == 15, backfilled


def backfill_differences(stack, tenant_id):
    """{table: rows of the tenant whose backfilled debtor_id differs}."""
    with open(os.path.join(stackmod.REPO, "deploy", "sql", "0100_debtor_keys.sql"),
              encoding="utf-8") as f:
        sql = "\n".join(l for l in f.read().splitlines() if not l.lstrip().startswith("--"))
    statements = [s.strip() for s in sql.split(";") if s.strip()]
    added = [s.split()[2] for s in statements if s.startswith("ALTER TABLE") and "ADD COLUMN" in s]
    updates = [s for s in statements if s.startswith("UPDATE")]
    conn = psycopg2.connect(stack.db_url)
    try:
        with conn.cursor() as cur:
            for t in added:
                cur.execute("ALTER TABLE %s ALTER COLUMN debtor_id DROP NOT NULL,"
                            " ADD COLUMN kept_debtor_id bigint" % t)
                cur.execute("UPDATE %s SET kept_debtor_id = debtor_id, debtor_id = NULL" % t)
            for u in updates:
                cur.execute(u)
            out = {}
            for t in added:
                cur.execute("SELECT count(*) FROM %s WHERE tenant = %%s"
                            " AND debtor_id IS DISTINCT FROM kept_debtor_id" % t, (tenant_id,))
                out[t] = cur.fetchone()[0]
            return out
    finally:
        conn.rollback()
        conn.close()
