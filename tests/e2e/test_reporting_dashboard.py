"""The dashboard in a real browser: Debian's headless Chromium opens the
page served by reporting with a tenant's token, runs its script against the
API, and the rendered DOM must show the hand-built ledger's figures (see
test_reporting_kpis.build_ledger for how each is worked out). Screenshots
are kept under tests/artifacts/ (gitignored)."""

import html
import os
import re
import shutil
import subprocess
import tempfile

import creance_pb2 as pb

from stack import REPO, debtor_item, invoice_item, payment_item, wait_until
from test_reporting_collection import (ReminderStream, StreamWriter, ledger_events, plan_item,
                                       promise_item, reminders_caught_up, reminders_stopped)  # noqa: F401
from test_reporting_kpis import build_ledger, caught_up, send_ok
from test_reporting_segments import risk_stopped, scored  # noqa: F401

ARTIFACTS = os.path.join(REPO, "tests", "artifacts")


def chromium():
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    raise AssertionError("chromium not installed (apt-get install -y chromium; "
                         "it is in scripts/packages.txt)")


def browse_all(jobs):
    """Runs Chromium once per (url, screenshot path or None), one after the
    other (two at once were seen to hang); returns the DOM after the page's
    script ran for each job without a screenshot, "" for the others."""
    out = []
    for url, screenshot in jobs:
        profile = tempfile.mkdtemp(prefix="creance-chromium-")
        try:
            argv = [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                    "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
                    "--user-data-dir=" + profile, "--window-size=1280,1800",
                    "--virtual-time-budget=4000"]
            argv += ["--screenshot=" + screenshot] if screenshot else ["--dump-dom"]
            with tempfile.TemporaryFile() as err:
                p = subprocess.run(argv + [url], stdout=subprocess.PIPE, stderr=err,
                                   stdin=subprocess.DEVNULL, timeout=120)
                err.seek(0)
                assert p.returncode == 0, err.read().decode("utf-8", "replace")[-2000:]
            out.append(p.stdout.decode("utf-8", "replace"))
        finally:
            shutil.rmtree(profile, ignore_errors=True)
    return out


def element(dom, attr_re):
    """The opening tag and text of the first element whose tag matches."""
    m = re.search(r"<(\w+)[^>]*" + attr_re + r"[^>]*>", dom)
    assert m, "no element with %s in the DOM:\n%s" % (attr_re, dom[:3000])
    return m.group(0)


def tile(dom, kpi, currency="EUR"):
    """(data-raw, shown text) of a KPI tile."""
    m = re.search(r"<div class=\"kpi\" id=\"kpi-%s-%s\"[^>]*>.*?<div class=\"value\"([^>]*)>(.*?)</div>"
                  % (currency, kpi), dom, re.S)
    assert m, "tile %s missing:\n%s" % (kpi, dom[:3000])
    raw = re.search(r'data-raw="([^"]*)"', m.group(1)).group(1)
    text = html.unescape(m.group(2)).replace("\u202f", " ").replace("\xa0", " ")
    return raw, text


def test_dashboard_renders_kpis_and_charts(stack, tenant):
    d1, _ = build_ledger(stack, tenant)
    base = "http://%s/" % stack.http_addr("reporting")
    url = base + "#token=%s&as_of=2024-03-31" % tenant.token
    durl = base + "#token=%s&as_of=2024-03-31&debtor=%d" % (tenant.token, d1)
    os.makedirs(ARTIFACTS, exist_ok=True)
    shots = [os.path.join(ARTIFACTS, "reporting-dashboard.png")]
    for shot in shots:
        if os.path.exists(shot):
            os.unlink(shot)
    dom, ddom, _ = browse_all([(url, None), (durl, None), (url, shots[0])])
    assert 'data-loaded="true"' in dom, dom[:3000]
    assert tenant.id in dom
    # Period = the 90 days ending 2024-03-31 (01-02..03-31): I0's 50000 opening
    # balance is still outstanding on 01-01, so the figures differ from the
    # 01-01..03-31 period of the KPI test only where the period matters.
    assert tile(dom, "outstanding") == ("120000", "1 200,00 €")
    assert tile(dom, "overdue") == ("50000", "500,00 €")
    assert tile(dom, "disputes_open") == ("1", "1")
    assert tile(dom, "disputes_open_amount") == ("30000", "300,00 €")
    # Count-back does not depend on the period: 55.2 days (see the KPI test).
    assert tile(dom, "dso_countback") == ("552", "55,2 j")
    # Sales 01-02..03-31 are the same 230000 (nothing issued on 01-01), over
    # 90 days: 120000 / 230000 * 90 = 46.957 -> 47,0 j; best 70000/230000*90 = 27.4.
    assert tile(dom, "dso") == ("470", "47,0 j")
    assert tile(dom, "best_dso") == ("274", "27,4 j")
    # CEI: opening on 01-01 is the same 70000 -> 78,26 %.
    assert tile(dom, "cei") == ("7826", "78,26 %")
    # Aging bars.
    for bucket, raw in (("not_due", 70000), ("1_30", 30000), ("31_60", 0), ("91_180", 20000)):
        assert "data-raw=\"%d\"" % raw in element(dom, "data-bucket=\"%s\"" % bucket), bucket
    # DSO trend: 12 points ending 2024-03 (531 tenths, see the KPI test).
    assert 'data-raw="531"' in element(dom, 'data-month="2024-03"')
    assert 'data-raw="372"' in element(dom, 'data-month="2024-01"')
    # Only months with sales have a DSO: 2023-10 (I5), 2023-12 (I0), 2024-01..03.
    assert re.findall(r'<circle class="dot" data-month="([0-9-]+)"', dom) == \
        ["2023-10", "2023-12", "2024-01", "2024-02", "2024-03"]
    # Worklist: D1 first (30000 overdue).
    assert re.search(r'<tr data-debtor="%d">.*?Dupont SARL' % d1, dom, re.S), dom[:3000]

    # The debtor page: D1's invoices, I2 with 30000 left.
    assert 'data-loaded="true"' in ddom
    assert "Dupont SARL" in ddom
    assert re.search(r'<tr data-invoice="\d+"><td>F-I2</td>', ddom), ddom[:3000]
    assert re.search(r'<td class="num" data-raw="30000">300,00', ddom), ddom[:3000]
    assert re.search(r'data-risk-currency="EUR" data-raw="30000"', ddom), ddom[:3000]

    # Screenshots, kept as artifacts.
    for shot in shots:
        assert os.path.getsize(shot) > 10000, shot


def test_dashboard_refuses_a_bad_token(stack, tenant):
    dom, = browse_all([("http://%s/#token=ct_not-valid" % stack.http_addr("reporting"), None)])
    assert 'data-state="error"' in dom
    assert "Jeton refusé" in dom
    assert 'class="kpi"' not in dom


def test_dashboard_collection_tiles_and_charts(stack, tenant, reminders_stopped, risk_stopped):  # noqa: F811
    """Plans, promises, reminders, grades and a forecast snapshot, shown on
    2024-03-31 (the 90 days 01-02..03-31):

      P (FR) IP 90000, plan L1 3 x 30000 due 02-10, 03-10, 04-10, paid 30000
        on 02-08 and 03-20: #1 on time, #2 missed; grade B from 02-01
      P2 (FR) IP2 20000, plan L2 2 x 10000 due 02-15, 03-15, paid on 02-10
        and 03-15: both on time; grade A
      Q (DE) IQ 50000, promises 20000 by 02-15 (kept: 20000 on 02-14) and
        30000 by 03-15 (broken); grade E
      reminders: level 1 e-mail to P2 about IP2 on 03-10 (IP2 paid 03-15, 5
        days later); level 2 letter to Q about IQ on 03-01 (IQ not paid)
      forecast snapshot of Monday 03-11: 12345 for its week, 5000 for 03-18
    """
    p, p2, q = send_ok(tenant, debtor_item("P", "Plan SARL"), debtor_item("P2", "Plan Deux SARL"),
                       debtor_item("Q", "Promesse GmbH", country="DE"))
    ip, ip2, iq = send_ok(tenant,
                          invoice_item("IP", "P", 90000, issue="2024-01-01", due="2024-01-31"),
                          invoice_item("IP2", "P2", 20000, issue="2024-01-01", due="2024-01-31"),
                          invoice_item("IQ", "Q", 50000, issue="2024-01-01", due="2024-01-31"))
    risk = StreamWriter(stack, tenant.id, "risk")
    for debtor, grade in ((p, "B"), (p2, "A"), (q, "E")):
        scored(risk, debtor, grade, "2024-02-01")
    send_ok(tenant,
            plan_item("L1", "P", [("2024-02-10", 30000), ("2024-03-10", 30000),
                                  ("2024-04-10", 30000)], "2024-02-01", ["IP"]),
            plan_item("L2", "P2", [("2024-02-15", 10000), ("2024-03-15", 10000)],
                      "2024-02-01", ["IP2"]),
            promise_item("Q1", "Q", 20000, "2024-02-15", ["IQ"]),
            promise_item("Q2", "Q", 30000, "2024-03-15", ["IQ"]))
    send_ok(tenant,
            payment_item("YP1", "P", 30000, received="2024-02-08", invoices=["IP"]),
            payment_item("YP2", "P", 30000, received="2024-03-20", invoices=["IP"]),
            payment_item("YL1", "P2", 10000, received="2024-02-10", invoices=["IP2"]),
            payment_item("YL2", "P2", 10000, received="2024-03-15", invoices=["IP2"]),
            payment_item("YQ", "Q", 20000, received="2024-02-14", invoices=["IQ"]))
    wait_until(lambda: ledger_events(stack, tenant.id, "PromiseBroken") == 1
               and ledger_events(stack, tenant.id, "PlanDefaulted") == 1, what="the watcher's decisions")
    rs = ReminderStream(stack, tenant.id)
    rs.scheduled(1, p2, [ip2], 1, "email")
    rs.sent(1, p2, 1, "email", "2024-03-10")
    rs.scheduled(2, q, [iq], 2, "letter")
    rs.sent(2, q, 2, "letter", "2024-03-01")
    with stack.db.cursor() as cur:
        for week, amount in (("2024-03-11", 12345), ("2024-03-18", 5000)):
            cur.execute("INSERT INTO rpt_forecast_snapshots (tenant, taken_on, currency, week_start, "
                        "expected_minor, invoices) VALUES (%s, '2024-03-11', 'EUR', %s, %s, 1)",
                        (tenant.id, week, amount))
    caught_up(stack, tenant)
    reminders_caught_up(stack, tenant.id)
    wait_until(lambda: stack.consumers_caught_up(tenant.id, stream="risk", consumers=("reporting",)),
               what="reporting caught up on stream risk")

    url = "http://%s/#token=%s&as_of=2024-03-31" % (stack.http_addr("reporting"), tenant.token)
    shot = os.path.join(ARTIFACTS, "reporting-dashboard-collection.png")
    os.makedirs(ARTIFACTS, exist_ok=True)
    if os.path.exists(shot):
        os.unlink(shot)
    dom, _ = browse_all([(url, None), (url, shot)])
    assert 'data-loaded="true"' in dom, dom[:3000]
    # Instalments due 01-02..03-31: 02-10 paid, 03-10 missed, 02-15 and 03-15 paid.
    assert tile(dom, "plan_adherence") == ("7500", "75,00 %")
    # Promises due 02-15 (kept) and 03-15 (broken).
    assert tile(dom, "promise_kept") == ("5000", "50,00 %")
    # Two invoices reminded, IP2 paid 5 days after its reminder.
    assert tile(dom, "reminder_7d") == ("5000", "50,00 %")
    assert tile(dom, "reminder_14d") == ("5000", "50,00 %")
    # Two reminders, two debtors.
    assert tile(dom, "contacts_per_debtor") == ("100", "1,00")
    # e-mail 5 + letter 150 = 155 cents for 100000 collected: 0.155 % -> 0,16 %.
    assert tile(dom, "cost_of_collection") == ("16", "0,16 %")
    # Outstanding by grade on 03-31: P (B) 30000 left of IP, Q (E) 30000 of IQ, P2 (A) nothing.
    for grade, raw in (("A", 0), ("B", 30000), ("C", 0), ("E", 30000), ("-", 0)):
        assert 'data-raw="%d"' % raw in element(dom, 'data-grade="%s"' % grade), grade
    # Forecast against actual: 13 weeks ending with the week of 03-25.
    assert len(re.findall(r'data-series="actual"', dom)) == 13
    for week, series, raw in (("2024-03-11", "forecast", "12345"), ("2024-03-11", "actual", "10000"),
                              ("2024-03-18", "forecast", "5000"), ("2024-03-18", "actual", "30000"),
                              ("2024-03-25", "forecast", ""), ("2024-03-25", "actual", "0")):
        tag = element(dom, 'data-week="%s" data-series="%s"' % (week, series))
        assert 'data-raw="%s"' % raw in tag, (week, series, tag)
    # Reminder effectiveness per level and channel.
    for by, key, r7, cost in (("level", "1", "10000", "5"), ("level", "2", "0", "150"),
                              ("channel", "email", "10000", "5"), ("channel", "letter", "0", "150")):
        m = re.search(r'<tr data-by="%s" data-key="%s">(.*?)</tr>' % (by, key), dom, re.S)
        assert m, (by, key, dom[:3000])
        assert re.findall(r'data-raw="([^"]*)"', m.group(1)) == [r7, r7, cost], (by, key, m.group(1))
    assert os.path.getsize(shot) > 10000
