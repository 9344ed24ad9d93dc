"""The `creance` command-line client against the running test stack.

Every test runs the built binary ($CREANCE_BUILD/bin/creance) with the
stack's CREANCE_* environment, on CSV files it writes itself, and checks
both what the client says (exit status, line:column reports) and what the
services recorded (PostgreSQL, reporting's API, risk).
"""

import json
import os
import subprocess

import pytest

from stack import free_ports, wait_until

DEBTORS = (
    "external_id,legal_name,company_id,kind,country,language,email,address_line1,postal_code,city,"
    "credit_limit,currency,payment_terms_days\n"
    "D1,\"Dupont, SARL\",552100554,business,FR,fr,compta@dupont.example,1 rue Pasteur,69003,Lyon,"
    "5000.00,EUR,30\n"
    "D2,Martin Conseil,,business,fr,fr,,,,,,,45\n"
)

# A French Excel export: BOM, ';', decimal comma, DD/MM/YYYY, CRLF.
INVOICES = (
    "\ufeffexternal_id;debtor_external_id;number;issue_date;due_date;amount;currency;terms_days\r\n"
    "F1;D1;FA-2024-001;10/01/2024;09/02/2024;1200,00;EUR;30\r\n"
    "F2;D1;FA-2024-002;2024-01-20;2024-02-19;300,50;EUR;30\r\n"
    "F3;D2;FA-2024-003;2024-01-25;2024-03-10;99,99;EUR;45\r\n"
)

PAYMENTS = (
    "external_id,debtor_external_id,received_date,amount,currency,method,invoice_external_ids\n"
    "P1,D1,2024-02-05,1500.50,EUR,transfer,F1|F2\n"
    "P2,D2,2024-03-01,50,EUR,card,\n"
)


def cli_path(stack):
    return os.path.join(stack.bindir, "creance")


def run(stack, args, tenant=None, env=None, stdin=None, timeout=60):
    e = dict(stack.env)
    e.pop("CREANCE_TENANT", None)
    e["NO_COLOR"] = "1"
    if tenant is not None:
        e["CREANCE_TENANT"] = tenant.id
    if env:
        e.update(env)
    return subprocess.run([cli_path(stack)] + list(args), env=e, input=stdin,
                          capture_output=True, text=True, timeout=timeout)


def write(tmp_path, name, text):
    p = tmp_path / name
    p.write_bytes(text.encode("utf-8"))
    return str(p)


def count(stack, table, tenant):
    return stack.scalar("SELECT count(*) FROM %s WHERE tenant = %%s" % table, (tenant.id,))


def import_all(stack, tenant, tmp_path):
    for kind, text in (("debtors", DEBTORS), ("invoices", INVOICES), ("payments", PAYMENTS)):
        r = run(stack, ["import", kind, write(tmp_path, kind + ".csv", text)], tenant=tenant)
        assert r.returncode == 0, (kind, r.stdout, r.stderr)


# ---------------------------------------------------------------- import, the good path

def test_import_debtors_invoices_payments(stack, tenant, tmp_path):
    d = write(tmp_path, "debtors.csv", DEBTORS)
    r = run(stack, ["import", d], tenant=tenant)
    assert r.returncode == 0, r.stderr
    assert "debtors, 2 lines read: 2 valid, 0 invalid; intake: 2 accepted, 0 duplicate, 0 rejected" \
        in r.stdout
    rows = stack.query("SELECT external_id, legal_name, kind, country, address->>'city' "
                       "FROM debtors WHERE tenant = %s ORDER BY external_id", (tenant.id,))
    assert rows == [("D1", "Dupont, SARL", 1, "FR", "Lyon"), ("D2", "Martin Conseil", 1, "FR", None)]

    i = write(tmp_path, "factures.csv", INVOICES)
    r = run(stack, ["import", "--kind", "invoices", i, "--tenant", tenant.id])
    assert r.returncode == 0, r.stderr
    assert "3 accepted" in r.stdout
    inv = stack.query("SELECT external_id, number, issue_date::text, due_date::text, amount_minor, "
                      "currency FROM invoices WHERE tenant = %s ORDER BY external_id", (tenant.id,))
    assert inv == [("F1", "FA-2024-001", "2024-01-10", "2024-02-09", 120000, "EUR"),
                   ("F2", "FA-2024-002", "2024-01-20", "2024-02-19", 30050, "EUR"),
                   ("F3", "FA-2024-003", "2024-01-25", "2024-03-10", 9999, "EUR")]

    p = write(tmp_path, "payments.csv", PAYMENTS)
    r = run(stack, ["import", "payments", p, "--json"], tenant=tenant)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["kind"] == "payments" and out["accepted"] == 2 and out["rejected"] == 0
    assert out["errors"] == []
    pay = stack.query("SELECT external_id, amount_minor, method FROM payments WHERE tenant = %s "
                      "ORDER BY external_id", (tenant.id,))
    assert pay == [("P1", 150050, "transfer"), ("P2", 5000, "card")]
    # P1 named F1 then F2: both paid in full, in that order.
    alloc = stack.query("SELECT i.external_id, a.amount_minor FROM allocations a "
                        "JOIN invoices i ON i.tenant = a.tenant AND i.id = a.invoice_id "
                        "JOIN payments p ON p.tenant = a.tenant AND p.id = a.payment_id "
                        "WHERE a.tenant = %s AND p.external_id = 'P1' ORDER BY i.external_id",
                        (tenant.id,))
    assert alloc == [("F1", 120000), ("F2", 30050)]


def test_reimport_gives_duplicates_and_changes_nothing(stack, tenant, tmp_path):
    import_all(stack, tenant, tmp_path)
    events = stack.event_count(tenant.id)
    counts = [count(stack, t, tenant) for t in ("debtors", "invoices", "payments", "allocations")]
    r = run(stack, ["import", "invoices", str(tmp_path / "invoices.csv")], tenant=tenant)
    assert r.returncode == 0, r.stderr
    assert "0 accepted, 3 duplicate, 0 rejected" in r.stdout
    r = run(stack, ["import", "payments", str(tmp_path / "payments.csv")], tenant=tenant)
    assert r.returncode == 0 and "2 duplicate" in r.stdout
    assert stack.event_count(tenant.id) == events
    assert [count(stack, t, tenant) for t in ("debtors", "invoices", "payments", "allocations")] \
        == counts


def test_dry_run_records_nothing(stack, tenant, tmp_path):
    d = write(tmp_path, "debtors.csv", DEBTORS)
    r = run(stack, ["import", "--dry-run", d], tenant=tenant)
    assert r.returncode == 0, r.stderr
    assert "2 valid, 0 invalid" in r.stdout and "nothing sent" in r.stdout
    assert count(stack, "debtors", tenant) == 0
    # With a bad line: reported, exit 1, still nothing recorded.
    bad = write(tmp_path, "bad.csv", DEBTORS + "D3,,business,FR\n")
    r = run(stack, ["import", "--dry-run", "--kind", "debtors", bad], tenant=tenant)
    assert r.returncode == 1
    assert "bad.csv:4:2 (legal_name): required value is empty" in r.stderr
    assert count(stack, "debtors", tenant) == 0


# ---------------------------------------------------------------- files with errors

BAD_INVOICES = (
    "external_id,debtor_external_id,number,issue_date,due_date,amount,currency\n"
    "G1,D1,N-1,2024-01-10,2024-02-09,100.00,EUR\n"        # line 2: good
    "G2,D1,N-2,2024-13-01,2024-02-09,100.00,EUR\n"        # line 3: bad month
    "G3,D1,N-3,2024-01-10,2024-02-09,12.345,EUR\n"        # line 4: too many decimals
    "G4,NOBODY,N-4,2024-01-10,2024-02-09,40.00,EUR\n"     # line 5: intake: unknown debtor
    "G5,D2,N-5,2024-01-10,2024-02-09,50.00,EUR\n"         # line 6: good
)


def test_keep_good_lines(stack, tenant, tmp_path):
    run(stack, ["import", write(tmp_path, "d.csv", DEBTORS)], tenant=tenant)
    f = write(tmp_path, "bad-invoices.csv", BAD_INVOICES)
    r = run(stack, ["import", "invoices", f], tenant=tenant)
    assert r.returncode == 1, r.stdout
    err = r.stderr
    assert f + ":3:4 (issue_date): '2024-13-01' is not a day of the calendar" in err
    assert f + ":4:6 (amount): '12.345' has more than 2 decimals for EUR" in err
    assert f + ":5:2 (debtor_external_id): unknown debtor 'NOBODY'" in err
    assert "refused by intake" in err
    # In line order: 3, 4, 5.
    assert err.index(":3:4") < err.index(":4:6") < err.index(":5:2")
    assert "5 lines read: 3 valid, 2 invalid; intake: 2 accepted, 0 duplicate, 1 rejected" in r.stdout
    got = stack.query("SELECT external_id FROM invoices WHERE tenant = %s ORDER BY 1", (tenant.id,))
    assert got == [("G1",), ("G5",)]


def test_keep_good_lines_json(stack, tenant, tmp_path):
    run(stack, ["import", write(tmp_path, "d.csv", DEBTORS)], tenant=tenant)
    f = write(tmp_path, "bad.csv", BAD_INVOICES)
    r = run(stack, ["--json", "import", "invoices", f], tenant=tenant)
    assert r.returncode == 1
    out = json.loads(r.stdout)
    assert (out["lines"], out["valid"], out["invalid"]) == (5, 3, 2)
    assert (out["accepted"], out["rejected"]) == (2, 1)
    where = [(e["line"], e["column"], e["column_name"], e["origin"]) for e in out["errors"]]
    assert where == [(3, 4, "issue_date", "local"), (4, 6, "amount", "local"),
                     (5, 2, "debtor_external_id", "intake")]


def test_all_or_nothing_local_errors_refuse_the_file(stack, tenant, tmp_path):
    run(stack, ["import", write(tmp_path, "d.csv", DEBTORS)], tenant=tenant)
    f = write(tmp_path, "bad.csv", BAD_INVOICES)
    r = run(stack, ["import", "invoices", "--all-or-nothing", f], tenant=tenant)
    assert r.returncode == 1
    assert f + ":3:4 (issue_date)" in r.stderr
    assert "file refused (--all-or-nothing): 2 bad lines; nothing sent" in r.stderr
    assert count(stack, "invoices", tenant) == 0


def test_all_or_nothing_intake_rejection_records_nothing(stack, tenant, tmp_path):
    """Locally valid, but intake rejects line 3: with --all-or-nothing the
    good lines around it are not recorded either (IntakeBatch.all_or_nothing)."""
    run(stack, ["import", write(tmp_path, "d.csv", DEBTORS)], tenant=tenant)
    events = stack.event_count(tenant.id)
    f = write(tmp_path, "inv.csv",
              "external_id,debtor_external_id,number,issue_date,due_date,amount,currency\n"
              "H1,D1,N-1,2024-01-10,2024-02-09,100.00,EUR\n"
              "H2,NOBODY,N-2,2024-01-10,2024-02-09,100.00,EUR\n"
              "H3,D2,N-3,2024-01-10,2024-02-09,100.00,EUR\n")
    r = run(stack, ["import", "invoices", "--all-or-nothing", f], tenant=tenant)
    assert r.returncode == 1, r.stdout
    assert f + ":3:2 (debtor_external_id): unknown debtor 'NOBODY'" in r.stderr
    # The lines refused only because of line 3 are summed up, not listed.
    assert ":2:" not in r.stderr and ":4:" not in r.stderr
    assert "1 line rejected, 2 others refused with it; nothing new recorded" in r.stdout
    assert count(stack, "invoices", tenant) == 0
    assert stack.event_count(tenant.id) == events
    # The same file without the bad line goes through whole.
    ok = write(tmp_path, "ok.csv", "\n".join(l for l in open(f).read().splitlines()
                                             if "NOBODY" not in l) + "\n")
    r = run(stack, ["import", "invoices", "--all-or-nothing", ok], tenant=tenant)
    assert r.returncode == 0, r.stderr
    assert count(stack, "invoices", tenant) == 2


def test_all_or_nothing_refuses_more_than_one_batch(stack, tenant, tmp_path):
    lines = ["external_id,legal_name"] + ["X%d,Name %d" % (i, i) for i in range(6)]
    f = write(tmp_path, "many.csv", "\n".join(lines) + "\n")
    r = run(stack, ["import", "--all-or-nothing", f], tenant=tenant,
            env={"CREANCE_INTAKE_MAX_BATCH": "5"})
    assert r.returncode == 1
    assert "6 lines, but intake takes at most 5 in one all-or-nothing batch" in r.stderr
    assert count(stack, "debtors", tenant) == 0


def test_header_errors_refuse_the_file(stack, tenant, tmp_path):
    f = write(tmp_path, "h.csv", "external_id,debtor_external_id,number,issue_date,amount,currency,vat\n"
                                 "F1,D1,N,2024-01-01,10,EUR,20\n")
    r = run(stack, ["import", "invoices", f], tenant=tenant)
    assert r.returncode == 1
    assert f + ":1:7 (vat): unknown column for invoices" in r.stderr
    assert f + ":1 (due_date): required column missing from the header" in r.stderr
    assert "the file cannot be imported; nothing sent" in r.stderr


def test_csv_syntax_error_keeps_other_lines(stack, tenant, tmp_path):
    f = write(tmp_path, "q.csv", 'external_id,legal_name\nQ1,"Multi\nline"\nQ2,Bad"Quote\nQ3,Fine\n')
    r = run(stack, ["import", f], tenant=tenant)
    assert r.returncode == 1
    assert f + ":4:2: quote inside an unquoted field" in r.stderr
    got = stack.query("SELECT external_id, legal_name FROM debtors WHERE tenant = %s ORDER BY 1",
                      (tenant.id,))
    assert got == [("Q1", "Multi\nline"), ("Q3", "Fine")]


def test_unknown_tenant_is_refused_by_intake(stack, tmp_path):
    f = write(tmp_path, "d.csv", DEBTORS)
    r = run(stack, ["import", "--tenant", "no-such-tenant", f])
    assert r.returncode == 1
    assert "intake refused the batch of lines 2 to 3" in r.stderr


def test_stdin_import(stack, tenant):
    r = run(stack, ["import", "debtors", "-"], tenant=tenant, stdin=DEBTORS)
    assert r.returncode == 0, r.stderr
    assert count(stack, "debtors", tenant) == 2


# ---------------------------------------------------------------- failures of the surroundings

def test_unreachable_intake(stack, tenant, tmp_path):
    port = free_ports(1)[0]
    f = write(tmp_path, "d.csv", DEBTORS)
    r = run(stack, ["import", f, "--timeout", "1"], tenant=tenant,
            env={"CREANCE_INTAKE_ENDPOINT": "tcp://127.0.0.1:%d" % port})
    assert r.returncode == 1
    assert "intake unreachable at tcp://127.0.0.1:%d: no reply within 1 s" % port in r.stderr
    assert count(stack, "debtors", tenant) == 0


@pytest.mark.parametrize("args", [
    [],
    ["bogus"],
    ["import"],
    ["import", "--nope", "f.csv"],
    ["import", "widgets", "f.csv"],
    ["import", "--kind", "widgets", "f.csv"],
    ["import", "debtors", "--kind", "invoices", "f.csv"],
    ["import", "a.csv", "b.csv", "c.csv"],
    ["import", "--tenant", "Bad Tenant!", "f.csv"],
    ["import", "--timeout", "0", "f.csv"],
    ["import", "--timeout"],
    ["import", "--dry-run=yes", "f.csv"],
    ["--json", "--csv", "report", "outstanding", "--token", "x"],
    ["report"],
    ["report", "nothing"],
    ["report", "outstanding", "extra"],
    ["debtor", "risk"],
    ["debtor", "risk", "abc"],
    ["-x"],
])
def test_bad_arguments_exit_2(stack, tenant, args):
    r = run(stack, args, tenant=tenant)
    assert r.returncode == 2, (args, r.stdout, r.stderr)
    assert r.stderr.strip(), "a usage error says why"
    assert r.stdout == ""


def test_no_tenant_is_a_usage_error(stack, tmp_path):
    r = run(stack, ["import", write(tmp_path, "d.csv", DEBTORS)])
    assert r.returncode == 2
    assert "no tenant" in r.stderr


def test_missing_file_fails(stack, tenant, tmp_path):
    r = run(stack, ["import", str(tmp_path / "nope.csv")], tenant=tenant)
    assert r.returncode == 1
    assert "nope.csv: cannot open: No such file or directory" in r.stderr


def test_help(stack):
    r = run(stack, ["--help"])
    assert r.returncode == 0
    assert "creance import" in r.stdout and "report outstanding" in r.stdout
    r = run(stack, ["import", "--help"])
    assert r.returncode == 0
    assert "--all-or-nothing" in r.stdout and "--dry-run" in r.stdout
    r = run(stack, ["report", "outstanding", "--help"])
    assert r.returncode == 0 and "/api/v1/outstanding" in r.stdout
    # Colours only on a terminal: piped output has no escape sequences.
    assert "\033[" not in r.stdout


# ---------------------------------------------------------------- report outstanding, debtor risk

def test_report_outstanding(stack, tenant, tmp_path):
    import_all(stack, tenant, tmp_path)
    # Outstanding: 1200.00 + 300.50 + 99.99 - 1500.50 - 50 (P2 on F3) = 49.99
    def settled():
        st, body = tenant.outstanding()
        return st == 200 and body["totals"] and body["totals"][0]["outstanding_minor"] == 4999
    wait_until(settled, timeout=30, what="reporting caught up")
    r = run(stack, ["report", "outstanding", "--token", tenant.token])
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].startswith("outstanding for %s as of " % tenant.id)
    assert lines[1].split() == ["currency", "outstanding", "invoiced", "collected", "invoices",
                                "payments"]
    assert lines[2].split() == ["EUR", "49.99", "1600.49", "1550.50", "3", "2"]
    # Aligned: every amount column ends at the same place in header and row.
    assert lines[1].index("outstanding") + len("outstanding") == lines[2].index("49.99") + 5

    r = run(stack, ["report", "outstanding", "--json"], env={"CREANCE_TOKEN": tenant.token})
    assert r.returncode == 0
    body = json.loads(r.stdout)
    assert body["tenant"] == tenant.id and body["totals"][0]["outstanding_minor"] == 4999

    r = run(stack, ["report", "outstanding", "--csv", "--token", tenant.token])
    assert r.returncode == 0
    assert r.stdout.splitlines()[1] == "EUR,49.99,1600.49,1550.50,3,2"


def test_report_outstanding_failures(stack, tenant):
    r = run(stack, ["report", "outstanding"])
    assert r.returncode == 2 and "no API token" in r.stderr
    r = run(stack, ["report", "outstanding", "--token", "ct_wrong"])
    assert r.returncode == 1 and "reporting answered 401" in r.stderr
    port = free_ports(1)[0]
    r = run(stack, ["report", "outstanding", "--token", tenant.token, "--timeout", "2"],
            env={"CREANCE_REPORTING_HTTP": "127.0.0.1:%d" % port})
    assert r.returncode == 1
    assert "reporting unreachable at http://127.0.0.1:%d/api/v1/outstanding" % port in r.stderr


def test_debtor_risk(stack, tenant, tmp_path):
    import_all(stack, tenant, tmp_path)
    wait_until(lambda: stack.consumers_caught_up(tenant.id), timeout=30, what="consumers")
    d1 = stack.scalar("SELECT id FROM debtors WHERE tenant = %s AND external_id = 'D1'",
                      (tenant.id,))
    r = run(stack, ["debtor", "risk", str(d1), "--json"], tenant=tenant)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["debtor_id"] == d1 and out["tenant"] == tenant.id
    assert out["outstanding"]["minor"] == 0      # F1 and F2 paid in full by P1
    r = run(stack, ["debtor", "risk", "--external", "D2"], tenant=tenant)
    assert r.returncode == 0, r.stderr
    assert "outstanding 49.99 EUR" in r.stdout
    r = run(stack, ["debtor", "risk", "999999999"], tenant=tenant)
    assert r.returncode == 1 and "not found" in r.stderr
    port = free_ports(1)[0]
    r = run(stack, ["debtor", "risk", str(d1), "--timeout", "1"], tenant=tenant,
            env={"CREANCE_RISK_ENDPOINT": "tcp://127.0.0.1:%d" % port})
    assert r.returncode == 1
    assert "risk unreachable at tcp://127.0.0.1:%d: no reply within 1 s" % port in r.stderr
