"""`creance debtor search` (reporting, GET /api/v1/debtors?q=) and
`creance plan show` (reminders, GET /api/v1/plans) against the running test
stack: what they find and print, that a search never crosses tenants, bad
arguments (exit 2), refusals (exit 1) and an unreachable service.
"""

import datetime
import json
import re

from stack import debtor_item, free_ports, invoice_item, wait_until
from test_cli_commands import cli, intake_cli, send_ok


def searchable(stack, tenant, n):
    """Waits until reporting holds the tenant's n debtors."""
    wait_until(lambda: stack.scalar("SELECT count(*) FROM rpt_debtors WHERE tenant = %s",
                                    (tenant.id,)) == n, what="reporting has the debtors")
    wait_until(lambda: stack.consumers_caught_up(tenant.id), what="consumers caught up")


def search(stack, tenant, *args):
    r = cli(stack, tenant, "debtor", "search", *args, "--json")
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def test_debtor_search(stack, tenant, other_tenant):
    send_ok(tenant,
            debtor_item("D1", "Dupont SARL", company_id="552100554",
                        email="compta@dupont.example"),
            debtor_item("D2", "Martin Conseil", email="martin@conseil.example"),
            debtor_item("CLI-3", "Établissements Dupontel", company_id="FR12345678901"))
    send_ok(tenant, invoice_item("F1", "D1", 120000), invoice_item("F2", "CLI-3", 5000))
    send_ok(other_tenant, debtor_item("D1", "Dupont Autre Tenant"))
    searchable(stack, tenant, 3)
    searchable(stack, other_tenant, 1)
    ids = dict(stack.query("SELECT external_id, id FROM debtors WHERE tenant = %s", (tenant.id,)))

    # Part of a name, any case, only this tenant's debtors; names that
    # start with the text before the others.
    body = search(stack, tenant, "DUPONT")
    assert body["tenant"] == tenant.id and body["truncated"] is False
    assert [d["external_id"] for d in body["debtors"]] == ["D1", "CLI-3"]
    d1 = body["debtors"][0]
    assert d1 == {"debtor_id": ids["D1"], "external_id": "D1", "legal_name": "Dupont SARL",
                  "company_id": "552100554", "email": "compta@dupont.example", "country": "FR",
                  "kind": 1, "open": [{"currency": "EUR", "open_minor": 120000,
                                       "open_invoices": 1}]}
    # By company id, e-mail, external id; an exact id first.
    assert [d["external_id"] for d in search(stack, tenant, "552100554")["debtors"]] == ["D1"]
    assert [d["external_id"] for d in search(stack, tenant, "@conseil.exa")["debtors"]] == ["D2"]
    assert [d["external_id"] for d in search(stack, tenant, "cli-3")["debtors"]] == ["CLI-3"]
    assert [d["external_id"] for d in search(stack, tenant, "D")["debtors"]][:2] == ["D1", "D2"]
    # LIKE's own characters are plain text.
    assert search(stack, tenant, "%")["debtors"] == []
    assert search(stack, tenant, "_")["debtors"] == []

    r = cli(stack, tenant, "debtor", "search", "dupont")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == "2 debtors of %s matching 'dupont'" % tenant.id
    assert lines[1].split() == ["debtor", "external", "id", "name", "company", "id", "e-mail",
                                "country", "open"]
    assert re.match(r"\s*%d\s+D1\s+Dupont SARL\s+552100554\s+compta@dupont\.example\s+FR\s+"
                    r"1200\.00 EUR$" % ids["D1"], lines[2]), lines[2]
    assert "Établissements Dupontel" in lines[3] and lines[3].endswith("50.00 EUR")

    r = cli(stack, tenant, "debtor", "search", "dupont", "--limit", "1")
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[0] == "the first 1 debtor of %s matching 'dupont'" % tenant.id
    assert "(more match: narrow the text, or --limit up to 200)" in r.stdout

    r = cli(stack, tenant, "debtor", "search", "martin", "--csv")
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == [
        "debtor,external id,name,company id,e-mail,country,open",
        "%d,D2,Martin Conseil,,martin@conseil.example,FR,-" % ids["D2"]]

    r = cli(stack, tenant, "debtor", "search", "zzz-nobody")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "no debtor of %s matches 'zzz-nobody'\n" % tenant.id

    # The other tenant's token sees only its own debtor of the same id.
    body = search(stack, other_tenant, "dupont")
    assert [(d["external_id"], d["legal_name"]) for d in body["debtors"]] == \
        [("D1", "Dupont Autre Tenant")]
    assert search(stack, other_tenant, "552100554")["debtors"] == []


def test_debtor_search_bad_arguments_and_refusals(stack, tenant):
    r = cli(stack, tenant, "debtor", "search")
    assert r.returncode == 2 and "the text to search for is required" in r.stderr
    r = cli(stack, tenant, "debtor", "search", "   ")
    assert r.returncode == 2 and "1 to 100 characters" in r.stderr
    r = cli(stack, tenant, "debtor", "search", "x" * 101)
    assert r.returncode == 2 and "1 to 100 characters" in r.stderr
    r = cli(stack, tenant, "debtor", "search", "x", "--limit", "0")
    assert r.returncode == 2 and "--limit: '0' is not a number from 1 to 200" in r.stderr
    r = cli(stack, tenant, "debtor", "search", "x", token=False)
    assert r.returncode == 2 and "no API token" in r.stderr
    r = cli(stack, tenant, "debtor", "search", "x", "--token", "ct_not-a-token", token=False)
    assert r.returncode == 1 and "reporting answered 401" in r.stderr
    # What only reporting checks is its refusal, exit 1.
    r = cli(stack, tenant, "debtor", "search", "a\tb")
    assert r.returncode == 1
    assert "reporting answered 400: q: has control characters" in r.stderr


def test_debtor_search_unreachable(stack, tenant):
    addr = "127.0.0.1:%d" % free_ports(1)[0]
    r = cli(stack, tenant, "debtor", "search", "dupont", env={"CREANCE_REPORTING_HTTP": addr})
    assert r.returncode == 1
    assert "reporting unreachable at http://%s/api/v1/debtors?q=dupont" % addr in r.stderr


# ---------------------------------------------------------------- plan show

def test_plan_show(stack, tenant):
    send_ok(tenant, debtor_item("D2", "Martin Conseil"))
    send_ok(tenant, invoice_item("F3", "D2", 9999, issue="2024-01-25", due="2024-03-10"))
    # Agreed today, instalments a year and two years ahead: the watcher
    # judges by today's date, so only what the payment below covers moves.
    today = datetime.datetime.now(datetime.timezone.utc).date()
    first = today.replace(year=today.year + 1, day=1).isoformat()
    second = today.replace(year=today.year + 2, day=1).isoformat()
    r = intake_cli(stack, tenant, "plan", "create", "D2", "--id", "PL1", "--invoice", "F3",
                   "--instalment", "%s:50" % first, "--instalment", "%s:49.99" % second,
                   "--date", today.isoformat())
    assert r.returncode == 0, r.stderr
    plan_id = int(re.search(r"\(id (\d+)\)", r.stdout).group(1))
    debtor = stack.scalar("SELECT id FROM debtors WHERE tenant = %s", (tenant.id,))

    def shown():
        r = cli(stack, tenant, "plan", "show", str(plan_id), "--json")
        return json.loads(r.stdout) if r.returncode == 0 else None
    body = wait_until(shown, what="reminders has the plan")
    [plan] = body["plans"]
    assert plan["plan_id"] == plan_id and plan["debtor_id"] == debtor
    assert plan["legal_name"] == "Martin Conseil" and plan["status"] == "active"
    assert plan["agreed_date"] == today.isoformat()
    assert [(i["number"], i["due_date"], i["currency"], i["amount_minor"], i["status"],
             i["overdue"]) for i in plan["instalments"]] == [
        (1, first, "EUR", 5000, "open", False), (2, second, "EUR", 4999, "open", False)]

    r = cli(stack, tenant, "plan", "show", str(plan_id))
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == "plan %d of debtor %d (Martin Conseil): active, agreed %s" \
        % (plan_id, debtor, today.isoformat())
    assert lines[1] == "2 instalments, 99.99 EUR; paid 0.00 (0), missed 0"
    assert lines[2].split() == ["#", "due", "currency", "amount", "state"]
    assert lines[3].split() == ["1", first, "EUR", "50.00", "due"]

    # The first instalment paid: the watcher says so, reminders shows it.
    r = intake_cli(stack, tenant, "payment", "record", "D2", "50", "--id", "P1",
                   "--date", today.isoformat())
    assert r.returncode == 0, r.stderr
    wait_until(lambda: shown()["plans"][0]["instalments"][0]["status"] == "paid",
               what="instalment 1 paid")
    r = cli(stack, tenant, "plan", "show", str(debtor), "--debtor", "--csv")
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == [
        "plan,debtor,plan status,instalment,due,currency,amount,state",
        "%d,%d,active,1,%s,EUR,50.00,paid" % (plan_id, debtor, first),
        "%d,%d,active,2,%s,EUR,49.99,due" % (plan_id, debtor, second)]


def test_plan_show_bad_arguments_refused_unreachable(stack, tenant, other_tenant):
    r = cli(stack, tenant, "plan", "show")
    assert r.returncode == 2 and "a plan id is required" in r.stderr
    r = cli(stack, tenant, "plan", "show", "PL1")
    assert r.returncode == 2 and "'PL1' is not a plan id" in r.stderr
    r = cli(stack, tenant, "plan", "show", "1", token=False)
    assert r.returncode == 2 and "no API token" in r.stderr
    r = cli(stack, tenant, "plan", "show", "987654321")
    assert r.returncode == 1 and "plan 987654321 not found (no such plan for this tenant)" in r.stderr
    r = cli(stack, tenant, "plan", "show", "987654321", "--debtor")
    assert r.returncode == 0 and r.stdout == "debtor 987654321 has no payment plan\n"
    # Another tenant's plan is not found.
    send_ok(other_tenant, debtor_item("D9", "Autre"))
    send_ok(other_tenant, invoice_item("F9", "D9", 1000))
    r = intake_cli(stack, other_tenant, "plan", "create", "D9", "--id", "PLX",
                   "--invoice", "F9", "--instalment", "2030-01-31:10")
    assert r.returncode == 0, r.stderr
    plan_id = int(re.search(r"\(id (\d+)\)", r.stdout).group(1))
    wait_until(lambda: cli(stack, other_tenant, "plan", "show", str(plan_id)).returncode == 0,
               what="reminders has the other tenant's plan")
    r = cli(stack, tenant, "plan", "show", str(plan_id))
    assert r.returncode == 1 and "plan %d not found" % plan_id in r.stderr
    addr = "127.0.0.1:%d" % free_ports(1)[0]
    r = cli(stack, tenant, "plan", "show", "1", env={"CREANCE_REMINDERS_HTTP": addr})
    assert r.returncode == 1
    assert "reminders unreachable at http://%s/api/v1/plans?plan_id=1" % addr in r.stderr
