/*  risk: the credit check's rules and reasons (services/risk/credit.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "../../services/risk/credit.h"

static risk_inputs_t
s_clean(void)
{
    risk_inputs_t in;
    memset(&in, 0, sizeof in);
    memcpy(in.currency, "EUR", 4);
    in.outstanding_minor = 800;
    in.credit_limit_minor = 1000;
    return in;
}

static bool
s_has(const risk_credit_t *c, const char *code)
{
    size_t n = strlen(code);
    for (int i = 0; i < c->nreasons; i++)
        if (strncmp(c->reasons[i], code, n) == 0 && c->reasons[i][n] == ':')
            return true;
    return false;
}

static void
test_approve(void **state)
{
    risk_policy_t p;
    risk_policy_defaults(&p);
    risk_inputs_t in = s_clean();
    risk_credit_t c;
    /* Exactly up to the limit is within it. */
    risk_credit_check(&in, 'A', 200, &p, &c);
    assert_int_equal(c.decision, RISK_CREDIT_APPROVE);
    assert_int_equal(c.nreasons, 0);
    /* No limit set: no limit to exceed. */
    in.credit_limit_minor = 0;
    risk_credit_check(&in, 'B', 1000000, &p, &c);
    assert_int_equal(c.decision, RISK_CREDIT_APPROVE);
}

static void
test_over_credit_limit(void **state)
{
    risk_policy_t p;
    risk_policy_defaults(&p);
    risk_inputs_t in = s_clean();
    risk_credit_t c;
    risk_credit_check(&in, 'A', 201, &p, &c);
    assert_int_equal(c.decision, RISK_CREDIT_REFUSE);
    assert_int_equal(c.nreasons, 1);
    assert_true(s_has(&c, "over_credit_limit"));
    assert_string_equal(c.reasons[0], "over_credit_limit: outstanding 800 + 201 = 1001 EUR "
                        "exceeds the credit limit 1000");
}

static void
test_overdue(void **state)
{
    risk_policy_t p;
    risk_policy_defaults(&p);
    risk_inputs_t in = s_clean();
    in.overdue_minor = 300;
    in.oldest_overdue_days = 30;            /* at the threshold: review only */
    risk_credit_t c;
    risk_credit_check(&in, 'B', 100, &p, &c);
    assert_int_equal(c.decision, RISK_CREDIT_REVIEW);
    assert_int_equal(c.nreasons, 1);
    assert_true(s_has(&c, "unpaid_invoices"));

    in.oldest_overdue_days = 31;            /* beyond: refuse, and still unpaid */
    risk_credit_check(&in, 'B', 100, &p, &c);
    assert_int_equal(c.decision, RISK_CREDIT_REFUSE);
    assert_int_equal(c.nreasons, 2);
    assert_true(s_has(&c, "overdue_beyond_limit"));
    assert_true(s_has(&c, "unpaid_invoices"));

    p.credit_overdue_days = 60;             /* a tenant's own threshold */
    risk_credit_check(&in, 'B', 100, &p, &c);
    assert_int_equal(c.decision, RISK_CREDIT_REVIEW);
    assert_false(s_has(&c, "overdue_beyond_limit"));
}

static void
test_grade_e(void **state)
{
    risk_policy_t p;
    risk_policy_defaults(&p);
    risk_inputs_t in = s_clean();
    risk_credit_t c;
    risk_credit_check(&in, 'E', 1, &p, &c);
    assert_int_equal(c.decision, RISK_CREDIT_REFUSE);
    assert_int_equal(c.nreasons, 1);
    assert_true(s_has(&c, "grade_e"));
    risk_credit_check(&in, 'D', 1, &p, &c);
    assert_int_equal(c.decision, RISK_CREDIT_APPROVE);
}

static void
test_liquidity(void **state)
{
    risk_policy_t p;
    risk_policy_defaults(&p);
    risk_inputs_t in = s_clean();
    in.has_figures = true;
    in.current_assets_minor = 90;
    in.current_liabilities_minor = 100;
    risk_credit_t c;
    risk_credit_check(&in, 'A', 1, &p, &c);
    assert_int_equal(c.decision, RISK_CREDIT_REVIEW);
    assert_true(s_has(&c, "liquidity_below_1"));
    in.current_assets_minor = 100;
    risk_credit_check(&in, 'A', 1, &p, &c);
    assert_int_equal(c.decision, RISK_CREDIT_APPROVE);
}

static void
test_all_reasons_at_once(void **state)
{
    risk_policy_t p;
    risk_policy_defaults(&p);
    risk_inputs_t in = s_clean();
    in.overdue_minor = 800;
    in.oldest_overdue_days = 95;
    in.has_figures = true;
    in.current_assets_minor = 1;
    in.current_liabilities_minor = 2;
    risk_credit_t c;
    risk_credit_check(&in, 'E', 5000, &p, &c);
    assert_int_equal(c.decision, RISK_CREDIT_REFUSE);
    assert_int_equal(c.nreasons, 5);
    assert_true(s_has(&c, "over_credit_limit"));
    assert_true(s_has(&c, "overdue_beyond_limit"));
    assert_true(s_has(&c, "grade_e"));
    assert_true(s_has(&c, "unpaid_invoices"));
    assert_true(s_has(&c, "liquidity_below_1"));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_approve),
        cmocka_unit_test(test_over_credit_limit),
        cmocka_unit_test(test_overdue),
        cmocka_unit_test(test_grade_e),
        cmocka_unit_test(test_liquidity),
        cmocka_unit_test(test_all_reasons_at_once),
    };
    return cmocka_run_group_tests_name("risk_credit", tests, NULL, NULL);
}
