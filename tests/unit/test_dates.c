/*  Unit tests for common/dates: conversions, strict parsing, CREANCE_TODAY. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dates.h"

static void
test_epoch_and_known_days(void **state)
{
    assert_int_equal(date_to_days(1970, 1, 1), 0);
    assert_int_equal(date_to_days(1970, 1, 2), 1);
    assert_int_equal(date_to_days(1969, 12, 31), -1);
    assert_int_equal(date_to_days(2000, 3, 1), 11017);
    assert_int_equal(date_to_days(2025, 1, 1), 20089);
    assert_int_equal(date_to_days(1, 1, 1), -719162);
    assert_int_equal(date_to_days(9999, 12, 31), 2932896);
    /*  Leap days: 2000 is leap (divisible by 400), 1900 and 2100 are not. */
    assert_int_equal(date_to_days(2000, 3, 1) - date_to_days(2000, 2, 28), 2);
    assert_int_equal(date_to_days(2100, 3, 1) - date_to_days(2100, 2, 28), 1);
    assert_int_equal(date_to_days(1900, 3, 1) - date_to_days(1900, 2, 28), 1);
    assert_int_equal(date_to_days(2024, 3, 1) - date_to_days(2024, 2, 28), 2);
}

/*  Walk every day from year 1 to 9999 and check that the conversions are
    inverse and the calendar advances one day at a time. */
static void
test_round_trip_every_day(void **state)
{
    int32_t first = date_to_days(1, 1, 1);
    int32_t last = date_to_days(9999, 12, 31);
    int py = 0, pm = 12, pd = 31;
    for (int32_t days = first; days <= last; days++) {
        int y, m, d;
        date_from_days(days, &y, &m, &d);
        assert_true(date_valid(y, m, d));
        assert_int_equal(date_to_days(y, m, d), days);
        if (d == 1) {
            /*  First of a month: previous day was the last of the previous month. */
            assert_true(m == pm % 12 + 1);
            assert_false(date_valid(py, pm, pd + 1));
        }
        else {
            assert_int_equal(y, py);
            assert_int_equal(m, pm);
            assert_int_equal(d, pd + 1);
        }
        py = y, pm = m, pd = d;
    }
    assert_int_equal(py, 9999);
}

static void
test_from_days_extremes(void **state)
{
    /*  No overflow at the ends of int32 (days + 719468 would overflow). */
    int y, m, d;
    date_from_days(INT32_MAX, &y, &m, &d);
    assert_true(y > 5000000);
    assert_true(m >= 1 && m <= 12 && d >= 1 && d <= 31);
    date_from_days(INT32_MIN, &y, &m, &d);
    assert_true(y < -5000000);
    assert_true(m >= 1 && m <= 12 && d >= 1 && d <= 31);
}

static void
test_valid(void **state)
{
    assert_true(date_valid(2024, 2, 29));
    assert_false(date_valid(2025, 2, 29));
    assert_false(date_valid(1900, 2, 29));
    assert_true(date_valid(2000, 2, 29));
    assert_false(date_valid(2025, 4, 31));
    assert_true(date_valid(2025, 12, 31));
    assert_false(date_valid(2025, 13, 1));
    assert_false(date_valid(2025, 0, 1));
    assert_false(date_valid(2025, 1, 0));
    assert_false(date_valid(0, 1, 1));
    assert_false(date_valid(10000, 1, 1));
}

static void
test_parse_good(void **state)
{
    int32_t days = -42;
    assert_true(date_parse("1970-01-01", &days));
    assert_int_equal(days, 0);
    assert_true(date_parse("2024-02-29", &days));
    assert_int_equal(days, date_to_days(2024, 2, 29));
    assert_true(date_parse("0001-01-01", &days));
    assert_int_equal(days, -719162);
    assert_true(date_parse("9999-12-31", &days));
    assert_int_equal(days, 2932896);
}

static void
test_parse_bad(void **state)
{
    static const char *bad[] = {
        "2025-02-30", "2025-02-29", "2025-2-1", "2025-02-1", "25-02-01",
        "2025-02-01x", "2025-02-01 ", " 2025-02-01", "2025/02/01", "20250201",
        "2025-13-01", "2025-00-10", "2025-01-00", "0000-01-01", "+025-01-01",
        "-025-01-01", "2025-0a-01", "2025-01-01T00:00:00Z", "", "abcd-ef-gh",
        "2025--01-1",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int32_t days = 12345;
        if (date_parse(bad[i], &days))
            fail_msg("accepted \"%s\"", bad[i]);
        assert_int_equal(days, 12345);      /* untouched on failure */
    }
    assert_false(date_parse(NULL, NULL));
}

static void
test_format(void **state)
{
    char out[11];
    date_format(0, out);
    assert_string_equal(out, "1970-01-01");
    date_format(date_to_days(2024, 2, 29), out);
    assert_string_equal(out, "2024-02-29");
    date_format(-719162, out);
    assert_string_equal(out, "0001-01-01");
    date_format(-1, out);
    assert_string_equal(out, "1969-12-31");
    /*  Out of range: written as something date_parse refuses. */
    date_format(2932897, out);
    assert_int_equal(strlen(out), 10);
    assert_false(date_parse(out, NULL));
    date_format(INT32_MIN, out);
    assert_int_equal(strlen(out), 10);
    assert_false(date_parse(out, NULL));
}

static void
test_pb(void **state)
{
    Creance__Date pb;
    date_to_pb(date_to_days(2025, 6, 30), &pb);
    assert_int_equal(pb.year, 2025);
    assert_int_equal(pb.month, 6);
    assert_int_equal(pb.day, 30);
    /*  Initialised: it packs as a real message. */
    assert_true(creance__date__get_packed_size(&pb) > 0);

    int32_t days = -1;
    assert_true(date_from_pb(&pb, &days));
    assert_int_equal(days, date_to_days(2025, 6, 30));

    pb.day = 31;                                    /* June has 30 days */
    days = 777;
    assert_false(date_from_pb(&pb, &days));
    assert_int_equal(days, 777);

    Creance__Date empty = CREANCE__DATE__INIT;      /* 0000-00-00: unset */
    assert_false(date_from_pb(&empty, &days));
    assert_false(date_from_pb(NULL, &days));
}

static void
test_today(void **state)
{
    setenv("CREANCE_TODAY", "2031-07-14", 1);
    assert_int_equal(date_today(), date_to_days(2031, 7, 14));

    /*  Malformed: ignored, the real UTC date is used. */
    setenv("CREANCE_TODAY", "2031-7-14", 1);
    int32_t real = (int32_t) (time(NULL) / 86400);
    int32_t today = date_today();
    assert_true(today == real || today == real + 1);    /* midnight race */
    assert_true(today != date_to_days(2031, 7, 14));

    unsetenv("CREANCE_TODAY");
    today = date_today();
    assert_true(today == real || today == real + 1);
}

static void
test_now_us(void **state)
{
    int64_t a = now_us();
    int64_t wall = (int64_t) time(NULL) * 1000000;
    assert_true(a > wall - 2000000 && a < wall + 2000000);
    struct timespec pause = { 0, 2000000 };         /* 2 ms */
    nanosleep(&pause, NULL);
    int64_t b = now_us();
    assert_true(b - a >= 1500);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_epoch_and_known_days),
        cmocka_unit_test(test_round_trip_every_day),
        cmocka_unit_test(test_from_days_extremes),
        cmocka_unit_test(test_valid),
        cmocka_unit_test(test_parse_good),
        cmocka_unit_test(test_parse_bad),
        cmocka_unit_test(test_format),
        cmocka_unit_test(test_pb),
        cmocka_unit_test(test_today),
        cmocka_unit_test(test_now_us),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
