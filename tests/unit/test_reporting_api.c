/*  Unit tests: reporting API pieces that need no database (bearer parsing,
    the embedded dashboard). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "../../services/reporting/api.h"
#include "../../services/reporting/dashboard.h"

/*  The page must stand alone (no network on the target machines) and carry
    the hooks the browser tests use. */
static void test_dashboard_self_contained(void **state)
{
    const char *html = rpt_dashboard_html;
    assert_non_null(strstr(html, "<!doctype html>"));
    assert_null(strstr(html, "http://"));
    assert_null(strstr(html, "https://"));
    assert_null(strstr(html, "<link"));
    assert_null(strstr(html, "src="));
    assert_non_null(strstr(html, "/api/v1/kpis"));
    assert_non_null(strstr(html, "/api/v1/dso?months=12"));
    assert_non_null(strstr(html, "/api/v1/riskiest"));
    assert_non_null(strstr(html, "/api/v1/debtors/"));
    /*  Charts are inline SVG drawn by the page itself. */
    assert_non_null(strstr(html, "<svg viewBox="));
    assert_non_null(strstr(html, "data-bucket"));
    assert_non_null(strstr(html, "data-month"));
    assert_null(strstr(html, "<script src"));
    assert_non_null(strstr(html, "Intl.NumberFormat('fr-FR'"));
    assert_non_null(strstr(html, "localStorage"));
    assert_non_null(strstr(html, "#token") || strstr(html, "location.hash"));
    assert_non_null(strstr(html, "dataset.kpi"));
    assert_non_null(strstr(html, "dataset.currency"));
    assert_non_null(strstr(html, "5000"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dashboard_self_contained),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
