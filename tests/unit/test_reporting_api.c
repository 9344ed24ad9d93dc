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

static void accepted(const char *header, const char *expect)
{
    char token[RPT_TOKEN_MAX + 1];
    const char *code = "unset";
    const char *why = rpt_bearer_token(header, token, &code);
    if (why)
        fail_msg("'%s' refused: %s", header, why);
    assert_null(code);
    assert_string_equal(token, expect);
}

static void refused(const char *header, const char *expect_code)
{
    char token[RPT_TOKEN_MAX + 1];
    const char *code = NULL;
    const char *why = rpt_bearer_token(header, token, &code);
    if (!why)
        fail_msg("'%s' accepted", header ? header : "(null)");
    assert_true(strlen(why) > 0);
    assert_string_equal(code, expect_code);
}

static void test_bearer_accepted(void **state)
{
    accepted("Bearer abc123", "abc123");
    accepted("bearer abc123", "abc123");
    accepted("BEARER  tok-en._~+/==", "tok-en._~+/==");
    accepted("Bearer abc123  ", "abc123");
    accepted("Bearer\tabc", "abc");
}

static void test_bearer_refused(void **state)
{
    refused(NULL, "missing");
    refused("", "missing");
    refused("Basic dXNlcjpwYXNz", "malformed");
    refused("Bearer", "malformed");
    refused("Bearerabc", "malformed");
    refused("Bearer    ", "malformed");
    refused("Bearer abc def", "malformed");
    refused("Bearer caf\xc3\xa9", "malformed");
    refused("Token abc", "malformed");
}

static void test_bearer_length(void **state)
{
    char header[RPT_TOKEN_MAX + 16];
    strcpy(header, "Bearer ");
    size_t n = strlen(header);
    memset(header + n, 'a', RPT_TOKEN_MAX);
    header[n + RPT_TOKEN_MAX] = '\0';
    char token[RPT_TOKEN_MAX + 1];
    const char *code;
    assert_null(rpt_bearer_token(header, token, &code));
    assert_int_equal(strlen(token), RPT_TOKEN_MAX);
    header[n + RPT_TOKEN_MAX] = 'a';
    header[n + RPT_TOKEN_MAX + 1] = '\0';
    refused(header, "malformed");
}

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
        cmocka_unit_test(test_bearer_accepted),
        cmocka_unit_test(test_bearer_refused),
        cmocka_unit_test(test_bearer_length),
        cmocka_unit_test(test_dashboard_self_contained),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
