/*  Unit tests for services/cli/apicall: how API values become table text
    (minor units, tenths, hundredths, basis points, null, lists), column
    headers without their unit suffix, and query strings. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "../../services/cli/apicall.h"

static const char *
s_value(const char *key, json_t *v, const char *currency)
{
    static char out[128];
    cli_api_value(key, v, currency, out, sizeof out);
    json_decref(v);
    return out;
}

static void
test_minor_units_in_the_currency(void **state)
{
    (void) state;
    assert_string_equal(s_value("outstanding_minor", json_integer(160049), "EUR"), "1600.49");
    assert_string_equal(s_value("outstanding_minor", json_integer(-5), "EUR"), "-0.05");
    assert_string_equal(s_value("outstanding_minor", json_integer(1500), "JPY"), "1500");
    /* No currency known: the integer as it is, never a guess. */
    assert_string_equal(s_value("outstanding_minor", json_integer(1500), NULL), "1500");
    assert_string_equal(s_value("outstanding_minor", json_integer(1500), "EUX"), "1500");
}

static void
test_scaled_integers(void **state)
{
    (void) state;
    assert_string_equal(s_value("dso_simple_days_x10", json_integer(905), "EUR"), "90.5");
    assert_string_equal(s_value("dso_simple_days_x10", json_integer(-3), "EUR"), "-0.3");
    assert_string_equal(s_value("receivables_turnover_x100", json_integer(200), NULL), "2.00");
    assert_string_equal(s_value("cei_bp", json_integer(1234), NULL), "12.34 %");
    assert_string_equal(s_value("recovery_rate_bp", json_integer(10000), NULL), "100.00 %");
    assert_string_equal(s_value("invoices_issued", json_integer(3), "EUR"), "3");
}

static void
test_null_strings_booleans_lists(void **state)
{
    (void) state;
    assert_string_equal(s_value("avg_days_late_x10", json_null(), "EUR"), "-");
    assert_string_equal(s_value("x", NULL, NULL), "-");
    assert_string_equal(s_value("month", json_string("2024-01"), NULL), "2024-01");
    assert_string_equal(s_value("available", json_true(), NULL), "yes");
    assert_string_equal(s_value("invoice_ids", json_pack("[i,i,i]", 12, 13, 14), NULL),
                        "12 13 14");
    assert_string_equal(s_value("ratio", json_real(0.5), NULL), "?");
}

static void
test_long_list_is_cut_not_overflowed(void **state)
{
    (void) state;
    json_t *a = json_array();
    for (int i = 0; i < 200; i++)
        json_array_append_new(a, json_integer(1000000 + i));
    char out[32];
    cli_api_value("invoice_ids", a, NULL, out, sizeof out);
    json_decref(a);
    assert_true(strlen(out) < sizeof out);
    assert_string_equal(out, "1000000 1000001 1000002 1000003");
}

static void
test_headers_drop_unit_suffixes(void **state)
{
    (void) state;
    char h[64];
    cli_api_header("outstanding_minor", h, sizeof h);
    assert_string_equal(h, "outstanding");
    cli_api_header("dso_simple_days_x10", h, sizeof h);
    assert_string_equal(h, "dso_simple_days");
    cli_api_header("receivables_turnover_x100", h, sizeof h);
    assert_string_equal(h, "receivables_turnover");
    cli_api_header("cei_bp", h, sizeof h);
    assert_string_equal(h, "cei");
    cli_api_header("open_count", h, sizeof h);
    assert_string_equal(h, "open_count");
    cli_api_header("_minor", h, sizeof h);          /* nothing left: kept whole */
    assert_string_equal(h, "_minor");
}

static void
test_query_string(void **state)
{
    (void) state;
    cli_path_t p;
    cli_path_init(&p, "/api/v1/kpis");
    cli_path_add(&p, "as_of", "2024-03-31");
    cli_path_add(&p, "currency", NULL);
    cli_path_add(&p, "segment", "a b&c");
    assert_string_equal(p.text, "/api/v1/kpis?as_of=2024-03-31&segment=a%20b%26c");
    cli_path_init(&p, "/api/v1/reminders?debtor_id=1");
    cli_path_add(&p, "limit", "20");
    assert_string_equal(p.text, "/api/v1/reminders?debtor_id=1&limit=20");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_minor_units_in_the_currency),
        cmocka_unit_test(test_scaled_integers),
        cmocka_unit_test(test_null_strings_booleans_lists),
        cmocka_unit_test(test_long_list_is_cut_not_overflowed),
        cmocka_unit_test(test_headers_drop_unit_suffixes),
        cmocka_unit_test(test_query_string),
    };
    return cmocka_run_group_tests_name("cli_apicall", tests, NULL, NULL);
}
