/*  Unit tests: reminders' UTC -> local time in IANA zones (tzlocal.h),
    across daylight saving changes, and quiet hours judged in local time. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "dates.h"
#include "../../services/reminders/policy.h"
#include "../../services/reminders/tzlocal.h"

static int64_t at(const char *s)
{
    int64_t v = 0;
    assert_true(rem_parse_instant(s, &v));
    return v;
}

static void local(const char *zone, const char *instant, const char *date, int hh, int mm, int wday)
{
    rem_local_t l;
    assert_int_equal(rem_tz_local(zone, at(instant), &l), 0);
    char d[11];
    date_format(l.date, d);
    assert_string_equal(d, date);
    assert_int_equal(l.minute, hh * 60 + mm);
    assert_int_equal(l.weekday, wday);
    assert_true(l.zone_known);
}

static void test_parse_instant(void **state)
{
    assert_int_equal(at("1970-01-01T00:00:00Z"), 0);
    assert_int_equal(at("2026-03-17T12:30:05Z"), (int64_t) date_to_days(2026, 3, 17) * 86400 + 45005);
    int64_t v;
    assert_false(rem_parse_instant("2026-03-17 12:30:05Z", &v));
    assert_false(rem_parse_instant("2026-03-17T12:30:05", &v));
    assert_false(rem_parse_instant("2026-02-30T12:30:05Z", &v));
    assert_false(rem_parse_instant("2026-03-17T24:00:00Z", &v));
    assert_false(rem_parse_instant("2026-03-17T12:30:05Z+", &v));
    assert_false(rem_parse_instant(NULL, &v));
}

static void test_zones_and_dst(void **state)
{
    /*  Paris: CET (+1) in winter, CEST (+2) from 2026-03-29 01:00 UTC. */
    local("Europe/Paris", "2026-03-17T11:30:00Z", "2026-03-17", 12, 30, 2);
    local("Europe/Paris", "2026-03-29T00:59:00Z", "2026-03-29", 1, 59, 0);
    local("Europe/Paris", "2026-03-29T01:00:00Z", "2026-03-29", 3, 0, 0);
    local("Europe/Paris", "2026-10-25T00:59:00Z", "2026-10-25", 2, 59, 0);
    local("Europe/Paris", "2026-10-25T01:00:00Z", "2026-10-25", 2, 0, 0);
    /*  New York: EDT (-4) from 2026-03-08 07:00 UTC; the US and the EU
        change on different dates. */
    local("America/New_York", "2026-03-17T11:30:00Z", "2026-03-17", 7, 30, 2);
    local("America/New_York", "2026-03-08T06:59:00Z", "2026-03-08", 1, 59, 0);
    local("America/New_York", "2026-03-08T07:00:00Z", "2026-03-08", 3, 0, 0);
    /*  The local date differs from the UTC date. */
    local("America/New_York", "2026-03-17T02:00:00Z", "2026-03-16", 22, 0, 1);
    local("Asia/Tokyo", "2026-03-17T20:00:00Z", "2026-03-18", 5, 0, 3);
    local("Australia/Sydney", "2026-04-04T15:59:00Z", "2026-04-05", 2, 59, 0);  /* AEDT ends 04-05 */
    local("Australia/Sydney", "2026-04-04T16:00:00Z", "2026-04-05", 2, 0, 0);
    local("Asia/Kolkata", "2026-03-17T00:00:00Z", "2026-03-17", 5, 30, 2);
    local("UTC", "2026-03-17T23:59:00Z", "2026-03-17", 23, 59, 2);
}

static void test_unknown_zone_uses_utc(void **state)
{
    rem_local_t l;
    assert_int_equal(rem_tz_local("Mars/Olympus", at("2026-03-17T11:30:00Z"), &l), -1);
    assert_false(l.zone_known);
    assert_int_equal(l.minute, 11 * 60 + 30);
    assert_int_equal(rem_tz_local("../../etc/passwd", at("2026-03-17T11:30:00Z"), &l), -1);
    assert_int_equal(rem_tz_local("", at("2026-03-17T11:30:00Z"), &l), -1);
    assert_false(rem_tz_known("Europe/Paris;rm"));
    assert_false(rem_tz_known("/usr/share/zoneinfo/UTC"));
    assert_true(rem_tz_known("Europe/Paris"));
    /*  A known zone after an unknown one is not polluted by it (cache). */
    assert_int_equal(rem_tz_local("Europe/Paris", at("2026-03-17T11:30:00Z"), &l), 0);
    assert_int_equal(l.minute, 12 * 60 + 30);
}

static void test_quiet_hours_across_zones(void **state)
{
    /*  One instant, three debtors: only Paris may be contacted. */
    rem_rules_t r;
    rem_rules_default(&r);
    int64_t now = at("2026-03-17T11:30:00Z");
    const struct { const char *zone; bool quiet; } v[] = {
        { "Europe/Paris", false },          /* 12:30 */
        { "America/New_York", true },       /* 07:30 */
        { "Asia/Tokyo", true },             /* 20:30 */
        { "America/Los_Angeles", true },    /* 04:30 */
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        rem_local_t l;
        assert_int_equal(rem_tz_local(v[i].zone, now, &l), 0);
        assert_int_equal(rem_quiet_hours(&r, l.minute), v[i].quiet);
    }
    /*  12:05 UTC: 08:05 in New York under EDT; it would be 07:05 (quiet)
        with the winter offset: DST matters. */
    rem_local_t l;
    assert_int_equal(rem_tz_local("America/New_York", at("2026-03-17T12:05:00Z"), &l), 0);
    assert_false(rem_quiet_hours(&r, l.minute));
}

static void test_now_override(void **state)
{
    setenv("CREANCE_NOW_UTC", "2026-03-17T11:30:00Z", 1);
    assert_int_equal(rem_now_seconds(), at("2026-03-17T11:30:00Z"));
    unsetenv("CREANCE_NOW_UTC");
    setenv("CREANCE_TODAY", "2026-04-07", 1);
    assert_int_equal(rem_now_seconds(), at("2026-04-07T10:00:00Z"));
    unsetenv("CREANCE_TODAY");
    assert_true(rem_now_seconds() > at("2025-01-01T00:00:00Z"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_instant),
        cmocka_unit_test(test_zones_and_dst),
        cmocka_unit_test(test_unknown_zone_uses_utc),
        cmocka_unit_test(test_quiet_hours_across_zones),
        cmocka_unit_test(test_now_override),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
