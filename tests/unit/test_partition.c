/*  Unit tests for common/partition: fixed FNV-1a vectors (the same as
    tests/e2e/partition.py and the SQL function of 0080_partition.sql), the
    "k/N" parser, and that N instances share every key exactly once. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "partition.h"

static void
test_fnv_vectors(void **state)
{
    (void) state;
    assert_int_equal(partition_fnv1a32("", 0), 2166136261u);
    assert_int_equal(partition_fnv1a32("a", 1), 3826002220u);   /* the published FNV-1a value */
    assert_int_equal(partition_hash("acme", "D-0001"), 513613088u);
    assert_int_equal(partition_hash("acme", "42"), 1712314554u);
    assert_int_equal(partition_hash("t-0001", "DEB-17"), 3784410120u);
    /* Bytes, not characters: UTF-8 as sent. */
    assert_int_equal(partition_hash("caf\xc3\xa9", "\xc3\xa9l\xc3\xa8ve-9"), 3331340326u);
    /* The joined form hashes the same. */
    assert_int_equal(partition_fnv1a32("acme\x1f" "D-0001", 11), 513613088u);
}

static void
test_partition_of(void **state)
{
    (void) state;
    assert_int_equal(partition_of("acme", "D-0001", 2), 0);
    assert_int_equal(partition_of("acme", "D-0001", 3), 2);
    assert_int_equal(partition_of("acme", "D-0001", 7), 2);
    assert_int_equal(partition_of("caf\xc3\xa9", "\xc3\xa9l\xc3\xa8ve-9", 7), 6);
    assert_int_equal(partition_of_id("acme", 42, 3), 0);
    assert_int_equal(partition_of_id("acme", 42, 7), 6);
    assert_int_equal(partition_of("acme", "anything", 1), 0);
    assert_int_equal(partition_of("acme", "anything", 0), 0);
    /* The tenant is part of the key: the same id of two tenants may land
       apart (here they do). */
    assert_int_not_equal(partition_hash("acme", "D-0001"), partition_hash("acmf", "D-0001"));
}

static void
test_every_key_owned_once(void **state)
{
    (void) state;
    partition_t p[3];
    char err[128];
    for (int k = 0; k < 3; k++) {
        char text[8];
        snprintf(text, sizeof text, "%d/3", k);
        assert_true(partition_parse(text, &p[k], err, sizeof err));
    }
    int per[3] = { 0 };
    for (int i = 0; i < 3000; i++) {
        char key[16];
        snprintf(key, sizeof key, "D-%d", i);
        int owners = 0;
        for (int k = 0; k < 3; k++)
            if (partition_owns(&p[k], "acme", key)) {
                owners++;
                per[k]++;
            }
        assert_int_equal(owners, 1);
        assert_int_equal(partition_owns_id(&p[0], "acme", i) + partition_owns_id(&p[1], "acme", i)
                         + partition_owns_id(&p[2], "acme", i), 1);
    }
    /* Spread, not exact: each gets between a quarter and a half. */
    for (int k = 0; k < 3; k++)
        assert_in_range(per[k], 750, 1500);
}

static void
test_parse(void **state)
{
    (void) state;
    partition_t p;
    char err[128];
    assert_true(partition_parse("0/1", &p, err, sizeof err));
    assert_int_equal(p.index, 0);
    assert_int_equal(p.count, 1);
    assert_true(partition_all(&p));
    assert_true(partition_owns(&p, "acme", "x"));
    assert_true(partition_parse("3/4", &p, err, sizeof err));
    assert_int_equal(p.index, 3);
    assert_int_equal(p.count, 4);
    assert_false(partition_all(&p));
    assert_true(partition_parse("1023/1024", &p, err, sizeof err));

    static const struct { const char *text; const char *says; } bad[] = {
        { "", "empty" },
        { "2", "no '/'" },
        { "2/2", "k must be below N" },
        { "5/2", "k must be below N" },
        { "0/0", "N must be" },
        { "0/1025", "N must be" },
        { "-1/2", "k must be a decimal" },
        { " 0/2", "k must be a decimal" },
        { "0/2 ", "N must be" },
        { "0/+2", "N must be" },
        { "/2", "k must be a decimal" },
        { "0/", "N must be" },
        { "a/b", "k must be a decimal" },
        { "99999999999/2", "k must be a decimal" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        p.index = 7;
        err[0] = 0;
        assert_false(partition_parse(bad[i].text, &p, err, sizeof err));
        assert_non_null(strstr(err, bad[i].says));
        assert_int_equal(p.index, 7);       /* untouched on error */
    }
    assert_false(partition_parse(NULL, &p, err, sizeof err));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fnv_vectors),
        cmocka_unit_test(test_partition_of),
        cmocka_unit_test(test_every_key_owned_once),
        cmocka_unit_test(test_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
