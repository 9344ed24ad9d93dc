/*  costs: which channels are priced, and what a PUT body must be. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "../../services/reporting/costs.h"

static void
test_channels(void **state)
{
    const char *ok[] = { "email", "sms", "letter", "phone", "handoff", "unspecified" };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        assert_true(rpt_costs_channel_ok(ok[i]));
    const char *bad[] = { "", "fax", "Email", "email ", "*", "emails" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_false(rpt_costs_channel_ok(bad[i]));
}

static bool
s_parse(const char *body, int64_t *cost, const char **why)
{
    *why = NULL;
    return rpt_costs_parse(body, body ? strlen(body) : 0, cost, why);
}

static void
test_parse(void **state)
{
    int64_t cost = -1;
    const char *why;
    assert_true(s_parse("{\"cost_minor\": 210}", &cost, &why));
    assert_int_equal(cost, 210);
    assert_true(s_parse("{\"cost_minor\": 0, \"note\": \"free\"}", &cost, &why));
    assert_int_equal(cost, 0);
    assert_true(s_parse("{\"cost_minor\": 100000000}", &cost, &why));
    assert_int_equal(cost, RPT_COST_MAX);

    cost = 7;
    const char *bad[] = { NULL, "", "[1]", "{", "{\"cost\": 3}", "{\"cost_minor\": -1}",
                          "{\"cost_minor\": 1.5}", "{\"cost_minor\": \"3\"}",
                          "{\"cost_minor\": null}", "{\"cost_minor\": 100000001}" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_false(s_parse(bad[i], &cost, &why));
        assert_non_null(why);
        assert_int_equal(cost, 7);      /* untouched */
    }
    assert_false(s_parse("{\"cost_minor\": -1}", &cost, &why));
    assert_string_equal(why, "expected from 0 to 100000000 minor units");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_channels),
        cmocka_unit_test(test_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
