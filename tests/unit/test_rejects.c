/*  rejects: a rejection counts only once its transaction commits. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "rejects.h"
#include "metrics.h"

static double
s_count(const char *reason)
{
    char labels[96];
    snprintf(labels, sizeof labels, "reason=\"%s\"", reason);
    return metric_value(metrics_counter("creance_test_rejected_total", "test", labels));
}

static void
test_counted_after_commit_only(void **state)
{
    rejects_t *r = rejects_new("creance_test_rejected_total", "test");
    Creance__Envelope env = CREANCE__ENVELOPE__INIT;
    env.tenant = "t1";
    env.stream = "ledger";
    env.event_id = "e1";
    double before = s_count("bad_amount");
    /* 40 rejections: more than any fixed buffer of the old code. */
    for (int i = 0; i < 40; i++)
        rejects_add(r, &env, "amount", "bad_amount");
    assert_true(s_count("bad_amount") == before);
    rejects_aborted(r);             /* rolled back: read again later */
    rejects_committed(r);
    assert_true(s_count("bad_amount") == before);
    for (int i = 0; i < 40; i++)
        rejects_add(r, &env, "amount", "bad_amount");
    rejects_add(r, &env, "currency", "unknown_currency");
    rejects_committed(r);
    assert_true(s_count("bad_amount") == before + 40);
    assert_true(s_count("unknown_currency") == 1);
    rejects_destroy(&r);
    assert_null(r);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counted_after_commit_only),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
