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

from stack import REPO
from test_reporting_kpis import build_ledger

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
