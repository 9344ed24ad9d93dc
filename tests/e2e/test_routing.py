"""The senders we ship route to partitioned intakes.

Two intakes run as partitions 0/2 and 1/2 (CREANCE_INTAKE_PARTITION), each
refusing a debtor of the other partition (wrong_partition). creance-feedsim
and the CLI (`creance import`, `creance payment record` ...) take the two
endpoints as one comma-separated list in partition order and send each item
to the intake of its debtor (common/intakeroute.h):

- the feed simulator's seeded history, sent to the pair, is accepted item
  by item, both intakes take a share, nothing is refused for its partition,
  and the ledger is the one the same seed gives through one intake; sent
  again it comes back as duplicates;
- the same feed with the endpoints in the wrong order is refused item by
  item (wrong_partition on both intakes), which shows the routing is what
  makes the first run pass;
- a CSV import of debtors of both partitions, then their invoices and
  payments, is accepted line by line; the one-fact commands follow; the
  wrong order is refused per line; --all-or-nothing cannot span two
  partitions and says so.
"""

import os
import re
import subprocess

import pytest

import partition as part
import stack as stackmod
from stack import http_get, parse_metrics

N = 2
SIM = ["--debtors", "20", "--months", "6", "--seed", "11", "--end", "2025-03-31",
       "--batch", "25", "--window", "4", "--source", "sim-rt", "--timeout", "60"]
SUMMARY = re.compile(r"^feedsim: tenant=\S+ source=\S+ items=(\d+) accepted=(\d+) duplicate=(\d+) "
                     r"rejected=(\d+)", re.M)
PER_PARTITION = re.compile(r"^feedsim: partition=(\d+)/(\d+) endpoint=(\S+) items=(\d+) "
                           r"accepted=(\d+) duplicate=(\d+) rejected=(\d+)$", re.M)


@pytest.fixture(scope="module")
def rstack(request):
    """A stack of its own with intake as partition 0 of 2 and a second
    intake as partition 1 of 2 (one risk: it applies the whole ledger)."""
    s = stackmod.Stack()
    request.addfinalizer(s.close)
    s.service_env["intake"] = {"CREANCE_INTAKE_PARTITION": "0/2"}
    s.open()
    s.extra = {"intake.1": s.start_instance("intake.1", "intake", {"CREANCE_INTAKE_PARTITION": "1/2"})}
    return s


def _endpoints(s):
    return [s.env["CREANCE_INTAKE_ENDPOINT"], s.extra["intake.1"]["CREANCE_INTAKE_ENDPOINT"]]


def _intake_metric(s, k, name, labels):
    """A metric of intake instance k (0: the stack's own, 1: intake.1)."""
    addr = s.env["CREANCE_INTAKE_HTTP"] if k == 0 else s.extra["intake.1"]["CREANCE_INTAKE_HTTP"]
    status, body = http_get("http://%s/metrics" % addr)
    assert status == 200, body[:200]
    return sum(v for n, ls, v in parse_metrics(body)
               if n == name and all(ls.get(a) == b for a, b in labels.items()))


def _counts(s):
    """Per instance: (accepted items, wrong_partition rejections)."""
    return [(_intake_metric(s, k, "creance_intake_items_total", {"status": "accepted"}),
             _intake_metric(s, k, "creance_intake_rejected_total", {"reason": "wrong_partition"}))
            for k in range(N)]


def _delta(before, after):
    return [(a[0] - b[0], a[1] - b[1]) for b, a in zip(before, after)]


def _make_tenant(s, tid):
    s.query_exec("INSERT INTO tenants (id, name) VALUES (%s, %s)", (tid, "E2E " + tid))


def _feedsim(s, tid, endpoint, *extra):
    env = dict(s.env)
    env["CREANCE_LOG_LEVEL"] = "warn"
    return subprocess.run([os.path.join(s.bindir, "creance-feedsim"), "--endpoint", endpoint,
                           "--tenant", tid] + SIM + list(extra),
                          env=env, capture_output=True, text=True, timeout=300)


def _summary(r):
    m = SUMMARY.search(r.stdout)
    assert m, (r.returncode, r.stdout, r.stderr)
    items, accepted, duplicate, rejected = map(int, m.groups())
    return items, accepted, duplicate, rejected


# Per debtor external id: what intake recorded, independent of Créance ids.
LEDGER = {
    "debtors": "SELECT external_id, legal_name FROM debtors WHERE tenant = %s ORDER BY 1",
    "invoices": "SELECT d.external_id, count(*), sum(i.amount_minor), sum(i.open_minor), "
                "string_agg(i.external_id || ':' || i.status || ':' || coalesce(i.paid_date::text, '-'), "
                "',' ORDER BY i.external_id) "
                "FROM invoices i JOIN debtors d ON d.tenant = i.tenant AND d.id = i.debtor_id "
                "WHERE i.tenant = %s GROUP BY 1 ORDER BY 1",
    "payments": "SELECT d.external_id, count(*), sum(p.amount_minor), sum(p.unapplied_minor) "
                "FROM payments p JOIN debtors d ON d.tenant = p.tenant AND d.id = p.debtor_id "
                "WHERE p.tenant = %s GROUP BY 1 ORDER BY 1",
    "allocations": "SELECT p.external_id, i.external_id, sum(a.amount_minor) FROM allocations a "
                   "JOIN payments p ON p.tenant = a.tenant AND p.id = a.payment_id "
                   "JOIN invoices i ON i.tenant = a.tenant AND i.id = a.invoice_id "
                   "WHERE a.tenant = %s GROUP BY 1, 2 ORDER BY 1, 2",
    "disputes": "SELECT external_id, amount_minor, resolved_date::text FROM disputes "
                "WHERE tenant = %s ORDER BY 1",
}


def _ledger(s, tid):
    return {name: s.query(sql, (tid,)) for name, sql in LEDGER.items()}


def test_feedsim_routes_to_partitioned_intakes(stack, rstack):
    tid = "route-" + os.urandom(6).hex()
    _make_tenant(stack, tid)
    _make_tenant(rstack, tid)

    # The reference: the same seed through one intake.
    one = _feedsim(stack, tid, stack.env["CREANCE_INTAKE_ENDPOINT"])
    assert one.returncode == 0, (one.stdout, one.stderr)
    items, accepted, duplicate, rejected = _summary(one)
    assert items > 300 and accepted == items and rejected == 0
    assert "partition=" not in one.stdout           # one endpoint: as before

    before = _counts(rstack)
    two = _feedsim(rstack, tid, ",".join(_endpoints(rstack)))
    assert two.returncode == 0, (two.stdout, two.stderr)
    assert _summary(two) == (items, items, 0, 0)
    shares = PER_PARTITION.findall(two.stdout)
    assert [(int(k), int(n), e) for k, n, e, *_ in shares] == \
        [(k, N, e) for k, e in enumerate(_endpoints(rstack))]
    assert sum(int(x[3]) for x in shares) == items
    delta = _delta(before, _counts(rstack))
    assert all(acc > 0 for acc, _ in delta), delta               # both intakes took a share
    assert [wrong for _, wrong in delta] == [0, 0], delta        # none refused for its partition
    assert sum(acc for acc, _ in delta) == items
    for k, (_, _, _, sent, acc, dup, rej) in enumerate(shares):
        assert int(sent) == int(acc) == delta[k][0] and int(dup) == int(rej) == 0

    # The debtors were split by creance_partition, as the C side computed.
    debtors = [r[0] for r in rstack.query("SELECT external_id FROM debtors WHERE tenant = %s", (tid,))]
    per = [sum(1 for d in debtors if part.partition_of(tid, d, N) == k) for k in range(N)]
    assert all(per) and sum(per) == 20

    a, b = _ledger(stack, tid), _ledger(rstack, tid)
    assert len(a["debtors"]) == 20 and a["allocations"] and a["disputes"]
    assert any(r[2] for r in a["disputes"]), "a resolved dispute"
    for name in LEDGER:
        assert a[name] == b[name], "%s differs between one intake and two" % name

    # Replayed: every item a duplicate, each from the intake that has it.
    before = _counts(rstack)
    again = _feedsim(rstack, tid, ",".join(_endpoints(rstack)))
    assert again.returncode == 0, (again.stdout, again.stderr)
    assert _summary(again) == (items, 0, items, 0)
    assert _delta(before, _counts(rstack)) == [(0, 0), (0, 0)]
    assert _ledger(rstack, tid) == b


def test_feedsim_endpoints_in_the_wrong_order_are_refused(rstack):
    """The same feed with the partitions swapped: what the routing avoids."""
    tid = "route-" + os.urandom(6).hex()
    _make_tenant(rstack, tid)
    before = _counts(rstack)
    r = _feedsim(rstack, tid, ",".join(reversed(_endpoints(rstack))))
    assert r.returncode == 1
    items, accepted, duplicate, rejected = _summary(r)
    assert accepted == 0 and duplicate == 0 and rejected == items
    assert "belongs to partition" in r.stderr           # the first rejections, shown
    delta = _delta(before, _counts(rstack))
    assert all(wrong > 0 for _, wrong in delta), delta
    assert [acc for acc, _ in delta] == [0, 0]
    assert rstack.scalar("SELECT count(*) FROM debtors WHERE tenant = %s", (tid,)) == 0


def _cli(s, tid, endpoint, *args):
    env = dict(s.env)
    env.update({"CREANCE_TENANT": tid, "CREANCE_INTAKE_ENDPOINT": endpoint, "NO_COLOR": "1"})
    return subprocess.run([os.path.join(s.bindir, "creance")] + list(args), env=env,
                          capture_output=True, text=True, timeout=120)


def _write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return str(p)


def _csvs(tid):
    """Debtors of both partitions (at least three each), their invoices and
    payments; the debtor ids per partition."""
    ids = ["CD-%d" % i for i in range(40)]
    by = [[d for d in ids if part.partition_of(tid, d, N) == k][:3] for k in range(N)]
    assert all(len(x) == 3 for x in by)
    debtors = by[0] + by[1]
    debtors.sort()
    d = "external_id,legal_name,kind,country,currency,payment_terms_days\n" + "".join(
        "%s,Client %s,business,FR,EUR,30\n" % (x, x) for x in debtors)
    inv = "external_id,debtor_external_id,number,issue_date,due_date,amount,currency\n" + "".join(
        "F-%s-%d,%s,N-%s-%d,2024-0%d-01,2024-0%d-01,%d.00,EUR\n" % (x, j, x, x, j, j + 1, j + 2, 100 * (j + 1), )
        for x in debtors for j in range(2))
    pay = "external_id,debtor_external_id,received_date,amount,currency,method,invoice_external_ids\n" + "".join(
        "P-%s,%s,2024-05-01,150.00,EUR,transfer,F-%s-1\n" % (x, x, x) for x in debtors)
    return by, debtors, d, inv, pay


def test_cli_import_routes_lines(rstack, tmp_path):
    tid = "route-" + os.urandom(6).hex()
    _make_tenant(rstack, tid)
    by, debtors, d, inv, pay = _csvs(tid)
    endpoints = ",".join(_endpoints(rstack))

    # The wrong order first: every line refused, per line, for its partition.
    before = _counts(rstack)
    r = _cli(rstack, tid, ",".join(reversed(_endpoints(rstack))), "import", _write(tmp_path, "d.csv", d))
    assert r.returncode == 1
    assert "intake: 0 accepted, 0 duplicate, 6 rejected" in r.stdout, (r.stdout, r.stderr)
    assert r.stderr.count("belongs to partition") == 6, r.stderr
    delta = _delta(before, _counts(rstack))
    assert [wrong for _, wrong in delta] == [3, 3], delta

    before = _counts(rstack)
    for name, text, n in (("debtors", d, 6), ("invoices", inv, 12), ("payments", pay, 6)):
        r = _cli(rstack, tid, endpoints, "import", name, _write(tmp_path, name + ".csv", text))
        assert r.returncode == 0, (name, r.stdout, r.stderr)
        assert "%d lines read: %d valid, 0 invalid; intake: %d accepted, 0 duplicate, 0 rejected" \
            % (n, n, n) in r.stdout, r.stdout
    delta = _delta(before, _counts(rstack))
    assert delta == [(12, 0), (12, 0)], delta         # three debtors each, two invoices, a payment

    # Per line, as recorded: every payment applied to its named invoice.
    rows = rstack.query("SELECT d.external_id, sum(a.amount_minor) FROM allocations a "
                        "JOIN payments p ON p.tenant = a.tenant AND p.id = a.payment_id "
                        "JOIN debtors d ON d.tenant = p.tenant AND d.id = p.debtor_id "
                        "WHERE a.tenant = %s GROUP BY 1 ORDER BY 1", (tid,))
    assert rows == [(x, 15000) for x in debtors]

    # Re-import: duplicates, from the intake of each line.
    r = _cli(rstack, tid, endpoints, "import", "payments", _write(tmp_path, "payments.csv", pay))
    assert r.returncode == 0 and "intake: 0 accepted, 6 duplicate, 0 rejected" in r.stdout, r.stdout

    # --all-or-nothing is one batch to one intake: lines of two partitions
    # are refused before anything is sent; a file of one partition goes.
    new = [next(c for c in ("AZ-%d" % i for i in range(100)) if part.partition_of(tid, c, N) == k)
           for k in range(N)]
    head = "external_id,legal_name,kind,country\n"
    mixed = head + "".join("%s,Y,business,FR\n" % x for x in new)
    one = head + "%s,X,business,FR\n" % new[1]
    r = _cli(rstack, tid, endpoints, "import", "--all-or-nothing", _write(tmp_path, "mixed.csv", mixed))
    assert r.returncode == 1 and "split the file by partition" in r.stderr, (r.stdout, r.stderr)
    assert rstack.scalar("SELECT count(*) FROM debtors WHERE tenant = %s", (tid,)) == 6
    r = _cli(rstack, tid, endpoints, "import", "--all-or-nothing", _write(tmp_path, "one.csv", one))
    assert r.returncode == 0 and "intake: 1 accepted" in r.stdout, (r.stdout, r.stderr)

    # The one-fact commands: a payment to its debtor's intake, on either
    # partition; a dispute (names only its invoice) to the first.
    before = _counts(rstack)
    for k in range(N):
        x = by[k][1]
        r = _cli(rstack, tid, endpoints, "payment", "record", x, "10.00", "--id", "PR-%s" % x,
                 "--date", "2024-06-01")
        assert r.returncode == 0, (r.stdout, r.stderr)
        assert "recorded" in r.stdout
    r = _cli(rstack, tid, endpoints, "dispute", "open", "F-%s-0" % by[1][2], "--id", "S-1",
             "--reason", "quality", "--date", "2024-06-02")
    assert r.returncode == 0, (r.stdout, r.stderr)
    assert _delta(before, _counts(rstack)) == [(2, 0), (1, 0)]
    r = _cli(rstack, tid, ",".join(reversed(_endpoints(rstack))), "payment", "record", by[0][2], "10.00",
             "--id", "PR-wrong", "--date", "2024-06-01")
    assert r.returncode == 1 and "belongs to partition 0/2" in r.stderr, (r.stdout, r.stderr)

    # A malformed list is a clear error, nothing sent.
    r = _cli(rstack, tid, endpoints + ",", "import", "payments", _write(tmp_path, "payments.csv", pay))
    assert r.returncode == 1 and "CREANCE_INTAKE_ENDPOINT: endpoint 3 of 3" in r.stderr, r.stderr
