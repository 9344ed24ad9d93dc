/*  pgarray: array literals PostgreSQL reads back as the values given. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "dates.h"
#include "../../services/intake/pgarray.h"

static void
test_empty(void **state)
{
    pgarray_t a = PGARRAY_INIT;
    pgarray_begin(&a);
    assert_string_equal(pgarray_end(&a), "{}");
    pgarray_free(&a);
}

static void
test_text_quoted_and_null(void **state)
{
    pgarray_t a = PGARRAY_INIT;
    pgarray_begin(&a);
    pgarray_text(&a, "a,b");
    pgarray_text(&a, "say \"hi\" \\ bye");
    pgarray_text(&a, NULL);
    pgarray_text(&a, "");
    pgarray_text(&a, "NULL");
    assert_string_equal(pgarray_end(&a),
                        "{\"a,b\",\"say \\\"hi\\\" \\\\ bye\",NULL,\"\",\"NULL\"}");
    pgarray_free(&a);
}

static void
test_numbers_dates_hex_and_reuse(void **state)
{
    pgarray_t a = PGARRAY_INIT;
    pgarray_begin(&a);
    pgarray_text(&a, "dropped by the next begin");
    pgarray_end(&a);
    pgarray_begin(&a);
    pgarray_int(&a, -9223372036854775807LL - 1);
    pgarray_int(&a, 42);
    assert_string_equal(pgarray_end(&a), "{-9223372036854775808,42}");
    pgarray_begin(&a);
    pgarray_day(&a, date_to_days(2024, 2, 29));
    pgarray_hex(&a, (const uint8_t *) "\x00\xff\x1a", 3);
    assert_string_equal(pgarray_end(&a), "{2024-02-29,00ff1a}");
    pgarray_free(&a);
    assert_null(a.s);
}

static void
test_grows(void **state)
{
    pgarray_t a = PGARRAY_INIT;
    pgarray_begin(&a);
    for (int i = 0; i < 10000; i++)
        pgarray_int(&a, i);
    const char *s = pgarray_end(&a);
    assert_int_equal(a.n, 10000);
    assert_true(strncmp(s, "{0,1,2,", 7) == 0);
    assert_string_equal(s + strlen(s) - 6, ",9999}");
    pgarray_free(&a);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_text_quoted_and_null),
        cmocka_unit_test(test_numbers_dates_hex_and_reuse),
        cmocka_unit_test(test_grows),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
