/*  risk: debtor state, Redis key and parsing (services/risk/debtor.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "../../services/risk/debtor.h"

static void
test_key(void **state)
{
    char key[RISK_DEBTOR_KEY_MAX];
    assert_int_equal(risk_debtor_key(key, sizeof key, "acme", 42), (int) strlen("creance:{acme:42}:debtor"));
    assert_string_equal(key, "creance:{acme:42}:debtor");
    assert_true(risk_debtor_key(key, sizeof key, "a-b_c9", INT64_MAX) > 0);
    assert_string_equal(key, "creance:{a-b_c9:9223372036854775807}:debtor");
    /* A tenant that would break the hash tag never makes a key. */
    assert_int_equal(risk_debtor_key(key, sizeof key, "ac}me", 1), -1);
    assert_int_equal(risk_debtor_key(key, sizeof key, "", 1), -1);
    /* Too small a buffer is an error, not a truncated key. */
    char small[12];
    assert_int_equal(risk_debtor_key(small, sizeof small, "acme", 42), -1);
}

static void
test_tenant_and_currency_rules(void **state)
{
    char t63[64], t64[65];
    memset(t63, 'a', 63);
    t63[63] = 0;
    memset(t64, 'a', 64);
    t64[64] = 0;
    assert_true(risk_tenant_valid("acme"));
    assert_true(risk_tenant_valid("0"));
    assert_true(risk_tenant_valid("a_b-c"));
    assert_true(risk_tenant_valid(t63));
    assert_false(risk_tenant_valid(t64));
    assert_false(risk_tenant_valid(""));
    assert_false(risk_tenant_valid(NULL));
    assert_false(risk_tenant_valid("Acme"));
    assert_false(risk_tenant_valid("-acme"));
    assert_false(risk_tenant_valid("ac:me"));

    assert_true(risk_currency_valid("EUR"));
    assert_false(risk_currency_valid("eur"));
    assert_false(risk_currency_valid("EURO"));
    assert_false(risk_currency_valid("EU"));
    assert_false(risk_currency_valid(""));
    assert_false(risk_currency_valid(NULL));
}

static void
test_set_find_main(void **state)
{
    risk_debtor_t *s = risk_debtor_new("acme", 7);
    assert_null(risk_debtor_main(s));
    assert_int_equal(risk_debtor_set(s, "USD", 500), 0);
    assert_int_equal(risk_debtor_set(s, "EUR", 900), 0);
    assert_int_equal(risk_debtor_set(s, "GBP", 900), 0);
    assert_int_equal(risk_debtor_set(s, "bad", 1), -1);
    assert_int_equal(s->count, 3);
    /* Kept in code order. */
    assert_string_equal(s->amounts[0].currency, "EUR");
    assert_string_equal(s->amounts[1].currency, "GBP");
    assert_string_equal(s->amounts[2].currency, "USD");
    /* Largest outstanding; the first in code order on a tie. */
    assert_string_equal(risk_debtor_main(s)->currency, "EUR");
    assert_int_equal(risk_debtor_set(s, "USD", 1000), 0);
    assert_int_equal(s->count, 3);
    assert_string_equal(risk_debtor_main(s)->currency, "USD");
    assert_int_equal(risk_debtor_find(s, "USD")->outstanding_minor, 1000);
    assert_null(risk_debtor_find(s, "JPY"));
    risk_debtor_destroy(&s);
    assert_null(s);
    risk_debtor_destroy(&s);
}

static void
test_parse_int64(void **state)
{
    int64_t v;
    assert_true(risk_parse_int64("123", &v));
    assert_int_equal(v, 123);
    assert_true(risk_parse_int64("-5", &v));
    assert_int_equal(v, -5);
    assert_true(risk_parse_int64("-9223372036854775808", &v));
    assert_true(v == INT64_MIN);
    assert_false(risk_parse_int64("9223372036854775808", &v));
    assert_false(risk_parse_int64("", &v));
    assert_false(risk_parse_int64("-", &v));
    assert_false(risk_parse_int64("+1", &v));
    assert_false(risk_parse_int64(" 1", &v));
    assert_false(risk_parse_int64("1x", &v));
    assert_false(risk_parse_int64(NULL, &v));
}

static void
test_parse_amounts(void **state)
{
    risk_debtor_t s;
    risk_debtor_init(&s, "acme", 1);
    s.open_invoices = 3;
    assert_int_equal(risk_debtor_parse_amounts(&s, "EUR=1200,USD=-5"), 0);
    assert_int_equal(s.count, 2);
    assert_int_equal(risk_debtor_find(&s, "EUR")->outstanding_minor, 1200);
    assert_int_equal(risk_debtor_find(&s, "USD")->outstanding_minor, -5);
    assert_int_equal(s.open_invoices, 3);

    const char *bad[] = { "EUR1200", "EUR=", "eur=1", "EUR=1,", "EURO=1", "EUR=1,,USD=2", "EUR=1 " };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(risk_debtor_parse_amounts(&s, bad[i]), -1);
        assert_int_equal(s.count, 0);
    }
    assert_int_equal(risk_debtor_parse_amounts(&s, ""), 0);
    assert_int_equal(s.count, 0);
    risk_debtor_clear(&s);
}

static void
test_from_hash(void **state)
{
    risk_debtor_t s;
    risk_debtor_init(&s, "acme", 1);
    const char *f[] = { "outstanding:EUR", "open_invoices", "updated_at_us", "score", "outstanding:USD" };
    const char *v[] = { "1200", "2", "1700000000000000", "anything", "-3" };
    assert_int_equal(risk_debtor_from_hash(&s, 5, f, v), 1);
    assert_int_equal(s.count, 2);
    assert_int_equal(s.open_invoices, 2);
    assert_int_equal(s.updated_at_us, 1700000000000000);
    assert_int_equal(risk_debtor_find(&s, "USD")->outstanding_minor, -3);

    /* Incomplete (no open_invoices) or empty: a miss. */
    assert_int_equal(risk_debtor_from_hash(&s, 1, f, v), 0);
    assert_int_equal(s.count, 0);
    assert_int_equal(risk_debtor_from_hash(&s, 0, f, v), 0);
    /* No currency at all: a miss too. */
    assert_int_equal(risk_debtor_from_hash(&s, 2, f + 1, v + 1), 0);

    /* Malformed values. */
    const char *v2[] = { "12.00", "2", "1" };
    assert_int_equal(risk_debtor_from_hash(&s, 3, f, v2), -1);
    const char *f3[] = { "outstanding:eur", "open_invoices", "updated_at_us" };
    const char *v3[] = { "1", "2", "3" };
    assert_int_equal(risk_debtor_from_hash(&s, 3, f3, v3), -1);
    assert_int_equal(s.count, 0);
    risk_debtor_clear(&s);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_key),
        cmocka_unit_test(test_tenant_and_currency_rules),
        cmocka_unit_test(test_set_find_main),
        cmocka_unit_test(test_parse_int64),
        cmocka_unit_test(test_parse_amounts),
        cmocka_unit_test(test_from_hash),
    };
    return cmocka_run_group_tests_name("risk_debtor", tests, NULL, NULL);
}
