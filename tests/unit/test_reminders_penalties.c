/*  Unit tests: statutory late-payment penalties (services/reminders/penalties).

    The rate table is read from the migration that ships the defaults
    (deploy/sql/0030_reminder_rates.sql), so every hand-worked example
    below is checked against the values production starts with. The tests
    run from the repository root (scripts/run-tests.sh does).

    Every interest figure is principal x rate_bps x days / 3,650,000,
    rounded half-up to the cent, segment by segment; the working is written
    next to each assertion. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "dates.h"
#include "../../services/reminders/penalties.h"

static int32_t D(const char *s)
{
    int32_t d = 0;
    if (!date_parse(s, &d))
        fail_msg("bad date in test: %s", s);
    return d;
}

/*  Reads the default rows "(NULL, 'KIND', 'JU', 'YYYY-MM-DD', bps)" of 0030. */
static void load_defaults(penalties_rates_t *rates)
{
    FILE *f = fopen("deploy/sql/0030_reminder_rates.sql", "r");
    if (!f)
        fail_msg("cannot open deploy/sql/0030_reminder_rates.sql (run from the repository root)");
    char line[256];
    int rows = 0;
    while (fgets(line, sizeof line, f)) {
        char kind[32], jur[3], date[11];
        int bps;
        if (sscanf(line, " (NULL, '%31[A-Z_]', '%2[A-Z]', '%10[0-9-]', %d)", kind, jur, date, &bps) == 4) {
            penalties_kind_t k = penalties_kind_from_name(kind);
            assert_int_not_equal(k, 0);
            assert_int_equal(penalties_rates_add(rates, jur, k, D(date), bps), 0);
            rows++;
        }
    }
    fclose(f);
    assert_true(rows >= 40);
}

static int setup(void **state)
{
    penalties_rates_t *rates = calloc(1, sizeof *rates);
    load_defaults(rates);
    *state = rates;
    return 0;
}

static int teardown(void **state)
{
    penalties_rates_free(*state);
    free(*state);
    return 0;
}

static const penalties_terms_t FR_B2B = { "FR", "FR", true, 0 };

static penalties_result_t compute(void **state, const penalties_terms_t *t, int64_t principal,
                                  const char *cur, const char *due, const char *as_of)
{
    penalties_invoice_t inv = { .principal_minor = principal, .due_date = D(due) };
    snprintf(inv.currency, sizeof inv.currency, "%s", cur);
    penalties_result_t r;
    penalties_error_t err;
    int rc = penalties_compute(*state, t, &inv, D(as_of), &r, &err);
    if (rc != 0)
        fail_msg("penalties_compute: %s: %s", err.field, err.reason);
    return r;
}

/* ------------------------------------------------------------ arithmetic */

static void test_interest_rounding(void **state)
{
    /*  1825 x 1000 x 1 = 1,825,000 = exactly half of 3,650,000: rounds up. */
    assert_int_equal(penalties_interest(1825, 1000, 1), 1);
    /*  1824 x 1000 = 1,824,000 < half: rounds down. */
    assert_int_equal(penalties_interest(1824, 1000, 1), 0);
    /*  Symmetric for a negative amount (a credit note). */
    assert_int_equal(penalties_interest(-1825, 1000, 1), -1);
    assert_int_equal(penalties_interest(-1824, 1000, 1), 0);
    /*  A full year at 10 % is exactly 10 %. */
    assert_int_equal(penalties_interest(1000000, 1000, 365), 100000);
    /*  Zero days, zero rate. */
    assert_int_equal(penalties_interest(1000000, 1000, 0), 0);
    assert_int_equal(penalties_interest(1000000, 0, 100), 0);
    /*  Ten trillion euros (1e15 cents) a year at 13.15 %: the product
        1e15 x 1315 x 365 = 4.8e20 overflows int64 but not the 128-bit
        intermediate; the result 1.315e14 is exact. */
    assert_int_equal(penalties_interest(1000000000000000LL, 1315, 365), 131500000000000LL);
    /*  One cent for one day at 14 %: 1 x 1400 / 3,650,000 -> 0. */
    assert_int_equal(penalties_interest(1, 1400, 1), 0);
}

static void test_half_years(void **state)
{
    assert_int_equal(penalties_half_start(D("2025-03-31")), D("2025-01-01"));
    assert_int_equal(penalties_half_start(D("2025-06-30")), D("2025-01-01"));
    assert_int_equal(penalties_half_start(D("2025-07-01")), D("2025-07-01"));
    assert_int_equal(penalties_half_start(D("2025-12-31")), D("2025-07-01"));
    assert_int_equal(penalties_next_half(D("2025-06-30")), D("2025-07-01"));
    assert_int_equal(penalties_next_half(D("2025-07-01")), D("2026-01-01"));
    assert_int_equal(penalties_next_half(D("2024-02-29")), D("2024-07-01"));
}

static void test_rate_table(void **state)
{
    const penalties_rates_t *rates = *state;
    int32_t bps = -1;
    /*  The ECB rate in force on 1 January 2025 is the 3.15 % of 18 December 2024. */
    assert_true(penalties_rate_at(rates, "EU", PENALTIES_ECB_REFI, D("2025-01-01"), &bps));
    assert_int_equal(bps, 315);
    /*  On the day of a change the new rate holds. */
    assert_true(penalties_rate_at(rates, "EU", PENALTIES_ECB_REFI, D("2025-06-11"), &bps));
    assert_int_equal(bps, 215);
    assert_true(penalties_rate_at(rates, "EU", PENALTIES_ECB_REFI, D("2025-06-10"), &bps));
    assert_int_equal(bps, 240);
    /*  Nothing before the first row. */
    assert_false(penalties_rate_at(rates, "EU", PENALTIES_ECB_REFI, D("2010-01-01"), &bps));
    /*  Jurisdictions do not mix. */
    assert_false(penalties_rate_at(rates, "FR", PENALTIES_ECB_REFI, D("2025-01-01"), &bps));

    /*  A tenant's row replaces the default of the same key. */
    penalties_rates_t own = { 0 };
    load_defaults(&own);
    size_t n = own.n;
    assert_int_equal(penalties_rates_add(&own, "FR", PENALTIES_LEGAL_RATE_PRO, D("2025-07-01"), 300), 0);
    assert_int_equal(own.n, n);
    assert_true(penalties_rate_at(&own, "FR", PENALTIES_LEGAL_RATE_PRO, D("2025-08-01"), &bps));
    assert_int_equal(bps, 300);
    assert_int_equal(penalties_rates_add(&own, "fr", PENALTIES_LEGAL_RATE_PRO, D("2025-07-01"), 1), -1);
    assert_int_equal(penalties_rates_add(&own, "FR", 99, D("2025-07-01"), 1), -1);
    penalties_rates_free(&own);

    assert_string_equal(penalties_kind_name(PENALTIES_BOE_BASE), "BOE_BASE");
    assert_int_equal(penalties_kind_from_name("EU_REFERENCE"), PENALTIES_EU_REFERENCE);
    assert_int_equal(penalties_kind_from_name("ECB"), 0);
}

static void test_rules_for(void **state)
{
    penalties_terms_t t = { "FR", "DE", true, 0 };
    assert_int_equal(penalties_rules_for(&t), PENALTIES_RULES_FR);     /* French creditor: French law */
    t.creditor_country = "DE";
    assert_int_equal(penalties_rules_for(&t), PENALTIES_RULES_EU);
    t.creditor_country = "GB";
    assert_int_equal(penalties_rules_for(&t), PENALTIES_RULES_UK);
    t.creditor_country = "US";
    assert_int_equal(penalties_rules_for(&t), PENALTIES_RULES_NONE);
    t.creditor_country = "FR";
    t.debtor_business = false;
    assert_int_equal(penalties_rules_for(&t), PENALTIES_RULES_NONE);
    t.contract_rate_bps = 500;
    assert_int_equal(penalties_rules_for(&t), PENALTIES_RULES_CONTRACT);
    assert_true(penalties_is_eu("GR"));
    assert_false(penalties_is_eu("GB"));
    assert_false(penalties_is_eu("CH"));
}

/* ------------------------------------------------------------ France */

/*  10 000,00 EUR due 2025-03-31, computed on 2025-08-15 (business debtor).
    Interest runs from 2025-04-01 to 2025-08-15 inclusive: 137 days.
    H1 2025 (2025-04-01 .. 2025-06-30, 30+31+30 = 91 days):
      ECB rate in force on 2025-01-01: 3.15 % -> 3.15 + 10 = 13.15 %;
      floor 3 x legal rate 3.71 % = 11.13 % < 13.15 %: ECB + 10 applies.
      1,000,000 x 1315 x 91 / 3,650,000 = 119,665,000,000 / 3,650,000
      = 32,784.93 -> 32,785 cents.
    H2 2025 (2025-07-01 .. 2025-08-15, 31+15 = 46 days):
      ECB rate in force on 2025-07-01: 2.15 % (since 2025-06-11) -> 12.15 %;
      floor 3 x 2.76 % = 8.28 %: ECB + 10 applies.
      1,000,000 x 1215 x 46 / 3,650,000 = 55,890,000,000 / 3,650,000
      = 15,312.33 -> 15,312 cents.
    Interest 32,785 + 15,312 = 48,097 (480,97 EUR); + 40,00 EUR = 520,97 EUR. */
static void test_fr_half_year_boundary(void **state)
{
    penalties_result_t r = compute(state, &FR_B2B, 1000000, "EUR", "2025-03-31", "2025-08-15");
    assert_int_equal(r.rules, PENALTIES_RULES_FR);
    assert_int_equal(r.days_late, 137);
    assert_int_equal(r.n_segments, 2);
    assert_int_equal(r.seg[0].from, D("2025-04-01"));
    assert_int_equal(r.seg[0].to, D("2025-06-30"));
    assert_int_equal(r.seg[0].days, 91);
    assert_int_equal(r.seg[0].reference_bps, 315);
    assert_int_equal(r.seg[0].floor_bps, 1113);
    assert_false(r.seg[0].floor_applied);
    assert_int_equal(r.seg[0].rate_bps, 1315);
    assert_int_equal(r.seg[0].interest_minor, 32785);
    assert_int_equal(r.seg[1].from, D("2025-07-01"));
    assert_int_equal(r.seg[1].to, D("2025-08-15"));
    assert_int_equal(r.seg[1].days, 46);
    assert_int_equal(r.seg[1].reference_bps, 215);
    assert_int_equal(r.seg[1].floor_bps, 828);
    assert_int_equal(r.seg[1].rate_bps, 1215);
    assert_int_equal(r.seg[1].interest_minor, 15312);
    assert_int_equal(r.interest_minor, 48097);
    assert_int_equal(r.fixed_minor, 4000);
    assert_int_equal(r.total_minor, 52097);
    assert_null(r.note);
}

/*  The same invoice where the tenant has raised the H2 2025 legal rate to
    4.50 % (a corrected table): floor 3 x 4.50 = 13.50 % > ECB 2.15 + 10 =
    12.15 %, so the floor decides H2 while H1 keeps ECB + 10.
    H2: 1,000,000 x 1350 x 46 / 3,650,000 = 62,100,000,000 / 3,650,000
      = 17,013.70 -> 17,014.
    Interest 32,785 + 17,014 = 49,799. */
static void test_fr_floor_decides_one_segment(void **state)
{
    penalties_rates_t own = { 0 };
    load_defaults(&own);
    assert_int_equal(penalties_rates_add(&own, "FR", PENALTIES_LEGAL_RATE_PRO, D("2025-07-01"), 450), 0);
    void *s = &own;
    penalties_result_t r = compute(&s, &FR_B2B, 1000000, "EUR", "2025-03-31", "2025-08-15");
    assert_int_equal(r.n_segments, 2);
    assert_false(r.seg[0].floor_applied);
    assert_int_equal(r.seg[0].interest_minor, 32785);
    assert_true(r.seg[1].floor_applied);
    assert_int_equal(r.seg[1].floor_bps, 1350);
    assert_int_equal(r.seg[1].rate_bps, 1350);
    assert_int_equal(r.seg[1].interest_minor, 17014);
    assert_int_equal(r.interest_minor, 49799);
    penalties_rates_free(&own);
}

/*  With the published rates: 10 000,00 EUR due 2023-11-30, computed on
    2024-02-29 (a leap day), 91 days late.
    H2 2023 (2023-12-01 .. 2023-12-31, 31 days): ECB on 2023-07-01 = 4.00 %
      (since 2023-06-21) -> 14.00 %; floor 3 x 4.22 % = 12.66 %: ECB + 10.
      1,000,000 x 1400 x 31 / 3,650,000 = 43,400,000,000 / 3,650,000
      = 11,890.41 -> 11,890.
    H1 2024 (2024-01-01 .. 2024-02-29, 31 + 29 = 60 days, the leap day
      counted, the year still 365 days): ECB on 2024-01-01 = 4.50 % ->
      14.50 %; floor 3 x 5.07 % = 15.21 % > 14.50 %: the FLOOR applies.
      1,000,000 x 1521 x 60 / 3,650,000 = 91,260,000,000 / 3,650,000
      = 25,002.74 -> 25,003.
    Interest 11,890 + 25,003 = 36,893; + 4,000 = 40,893. */
static void test_fr_published_floor_and_leap_day(void **state)
{
    penalties_result_t r = compute(state, &FR_B2B, 1000000, "EUR", "2023-11-30", "2024-02-29");
    assert_int_equal(r.days_late, 91);
    assert_int_equal(r.n_segments, 2);
    assert_int_equal(r.seg[0].days, 31);
    assert_int_equal(r.seg[0].rate_bps, 1400);
    assert_false(r.seg[0].floor_applied);
    assert_int_equal(r.seg[0].interest_minor, 11890);
    assert_int_equal(r.seg[1].days, 60);
    assert_int_equal(r.seg[1].reference_bps, 450);
    assert_int_equal(r.seg[1].floor_bps, 1521);
    assert_true(r.seg[1].floor_applied);
    assert_int_equal(r.seg[1].rate_bps, 1521);
    assert_int_equal(r.seg[1].interest_minor, 25003);
    assert_int_equal(r.interest_minor, 36893);
    assert_int_equal(r.total_minor, 40893);
}

/*  Three segments, a whole half-year in the middle: 1 234,56 EUR due
    2024-06-20, computed on 2025-01-10.
    2024-06-21 .. 06-30: 10 days; H1 2024: ECB 4.50 -> 14.50, floor 15.21:
      123,456 x 1521 x 10 / 3,650,000 = 1,877,765,760 / 3,650,000 = 514.45 -> 514.
    2024-07-01 .. 12-31: 184 days; ECB on 2024-07-01 = 4.25 % (since
      2024-06-12) -> 14.25; floor 3 x 4.92 = 14.76: floor.
      123,456 x 1476 x 184 / 3,650,000 = 33,528,674,304 / 3,650,000 = 9,185.94 -> 9,186.
    2025-01-01 .. 01-10: 10 days; ECB 3.15 -> 13.15; floor 11.13:
      123,456 x 1315 x 10 / 3,650,000 = 1,623,446,400 / 3,650,000 = 444.78 -> 445.
    Interest 514 + 9,186 + 445 = 10,145. */
static void test_fr_three_segments(void **state)
{
    penalties_result_t r = compute(state, &FR_B2B, 123456, "EUR", "2024-06-20", "2025-01-10");
    assert_int_equal(r.n_segments, 3);
    assert_int_equal(r.seg[0].days + r.seg[1].days + r.seg[2].days, r.days_late);
    assert_int_equal(r.seg[0].days, 10);
    assert_int_equal(r.seg[0].interest_minor, 514);
    assert_int_equal(r.seg[1].days, 184);
    assert_int_equal(r.seg[1].rate_bps, 1476);
    assert_int_equal(r.seg[1].interest_minor, 9186);
    assert_int_equal(r.seg[2].days, 10);
    assert_int_equal(r.seg[2].rate_bps, 1315);
    assert_int_equal(r.seg[2].interest_minor, 445);
    assert_int_equal(r.interest_minor, 10145);
}

/*  A contract rate replaces ECB + 10 but not the floor: 5 % agreed, H1 2025
    floor 11.13 % applies. 100,000 cents, due 2025-01-31, on 2025-03-02:
    30 days. 100,000 x 1113 x 30 / 3,650,000 = 3,339,000,000 / 3,650,000
    = 914.79 -> 915. A 20 % contract rate stands: 100,000 x 2000 x 30 /
    3,650,000 = 1,643.84 -> 1,644. */
static void test_fr_contract_rate_floor(void **state)
{
    penalties_terms_t t = { "FR", "FR", true, 500 };
    penalties_result_t r = compute(state, &t, 100000, "EUR", "2025-01-31", "2025-03-02");
    assert_int_equal(r.days_late, 30);
    assert_true(r.seg[0].floor_applied);
    assert_int_equal(r.seg[0].interest_minor, 915);
    t.contract_rate_bps = 2000;
    r = compute(state, &t, 100000, "EUR", "2025-01-31", "2025-03-02");
    assert_false(r.seg[0].floor_applied);
    assert_int_equal(r.seg[0].rate_bps, 2000);
    assert_int_equal(r.seg[0].interest_minor, 1644);
}

static void test_fr_not_late_and_currency(void **state)
{
    /*  On the due date itself: not late, nothing. */
    penalties_result_t r = compute(state, &FR_B2B, 1000000, "EUR", "2025-03-31", "2025-03-31");
    assert_int_equal(r.days_late, 0);
    assert_int_equal(r.total_minor, 0);
    assert_int_equal(r.n_segments, 0);
    assert_string_equal(r.note, "not late");
    /*  One day late: 1,000,000 x 1315 x 1 / 3,650,000 = 360.27 -> 360, + 40 EUR. */
    r = compute(state, &FR_B2B, 1000000, "EUR", "2025-03-31", "2025-04-01");
    assert_int_equal(r.days_late, 1);
    assert_int_equal(r.interest_minor, 360);
    assert_int_equal(r.fixed_minor, 4000);
    /*  A USD invoice: interest, but the 40 EUR is not converted. */
    r = compute(state, &FR_B2B, 1000000, "USD", "2025-03-31", "2025-04-01");
    assert_int_equal(r.interest_minor, 360);
    assert_int_equal(r.fixed_minor, 0);
    assert_non_null(r.note);
    /*  Nothing open: nothing due. */
    r = compute(state, &FR_B2B, 0, "EUR", "2025-03-31", "2025-05-01");
    assert_int_equal(r.total_minor, 0);
}

/* ------------------------------------------------------------ EU directive */

/*  German creditor, business debtor: 2 500,00 EUR due 2024-12-20, on
    2025-02-10 (52 days late).
    2024-12-21 .. 12-31: 11 days; reference (ECB) on 2024-07-01 = 4.25 %
      + 8 = 12.25 %: 250,000 x 1225 x 11 / 3,650,000 = 3,368,750,000 /
      3,650,000 = 922.95 -> 923.
    2025-01-01 .. 02-10: 41 days; ECB on 2025-01-01 = 3.15 % + 8 = 11.15 %:
      250,000 x 1115 x 41 / 3,650,000 = 11,428,750,000 / 3,650,000
      = 3,131.16 -> 3,131.
    Interest 4,054 (40,54 EUR), + 40 EUR; no floor outside France. */
static void test_eu_directive(void **state)
{
    penalties_terms_t t = { "DE", "AT", true, 0 };
    penalties_result_t r = compute(state, &t, 250000, "EUR", "2024-12-20", "2025-02-10");
    assert_int_equal(r.rules, PENALTIES_RULES_EU);
    assert_int_equal(r.days_late, 52);
    assert_int_equal(r.n_segments, 2);
    assert_int_equal(r.seg[0].days, 11);
    assert_int_equal(r.seg[0].rate_bps, 1225);
    assert_int_equal(r.seg[0].margin_bps, 800);
    assert_int_equal(r.seg[0].floor_bps, 0);
    assert_int_equal(r.seg[0].interest_minor, 923);
    assert_int_equal(r.seg[1].days, 41);
    assert_int_equal(r.seg[1].rate_bps, 1115);
    assert_int_equal(r.seg[1].interest_minor, 3131);
    assert_int_equal(r.interest_minor, 4054);
    assert_int_equal(r.fixed_minor, 4000);
    assert_int_equal(r.total_minor, 8054);

    /*  A member state's own reference rate wins over the ECB's: a Polish
        creditor with a 5.75 % reference for H1 2025 (tenant row):
        41 days at 13.75 %: 250,000 x 1375 x 41 / 3,650,000 = 3,861.30 -> 3,861. */
    penalties_rates_t own = { 0 };
    load_defaults(&own);
    assert_int_equal(penalties_rates_add(&own, "PL", PENALTIES_EU_REFERENCE, D("2025-01-01"), 575), 0);
    void *s = &own;
    penalties_terms_t pl = { "PL", "PL", true, 0 };
    r = compute(&s, &pl, 250000, "EUR", "2024-12-31", "2025-02-10");
    assert_int_equal(r.n_segments, 1);
    assert_int_equal(r.seg[0].reference_bps, 575);
    assert_int_equal(r.seg[0].interest_minor, 3861);
    penalties_rates_free(&own);
}

/* ------------------------------------------------------------ UK */

/*  Band 1: 800.00 GBP due 2025-01-15, on 2025-03-16: 60 days (16 + 28 + 16).
    Interest starts 2025-01-16 (January-June): base rate on 2024-12-31 =
    4.75 % + 8 = 12.75 %: 80,000 x 1275 x 60 / 3,650,000 = 6,120,000,000 /
    3,650,000 = 1,676.71 -> 1,677 pence; fixed 40 GBP (debt < 1,000). */
static void test_uk_band_40(void **state)
{
    penalties_terms_t t = { "GB", "GB", true, 0 };
    penalties_result_t r = compute(state, &t, 80000, "GBP", "2025-01-15", "2025-03-16");
    assert_int_equal(r.rules, PENALTIES_RULES_UK);
    assert_int_equal(r.days_late, 60);
    assert_int_equal(r.n_segments, 1);
    assert_int_equal(r.seg[0].reference_bps, 475);
    assert_int_equal(r.seg[0].rate_bps, 1275);
    assert_int_equal(r.interest_minor, 1677);
    assert_int_equal(r.fixed_minor, 4000);
    assert_int_equal(r.total_minor, 5677);
}

/*  Band 2: 5,000.00 GBP due 2025-06-30, on 2025-09-30: 92 days. Interest
    starts 2025-07-01 (July-December): base rate on 2025-06-30 = 4.25 %
    (since 2025-05-08); the cut to 4.00 % on 2025-08-07 does NOT apply: the
    rate is fixed for the debt. 12.25 %: 500,000 x 1225 x 92 / 3,650,000 =
    56,350,000,000 / 3,650,000 = 15,438.36 -> 15,438; fixed 70 GBP. */
static void test_uk_band_70_rate_fixed(void **state)
{
    penalties_terms_t t = { "GB", "FR", true, 0 };
    penalties_result_t r = compute(state, &t, 500000, "GBP", "2025-06-30", "2025-09-30");
    assert_int_equal(r.days_late, 92);
    assert_int_equal(r.n_segments, 1);
    assert_int_equal(r.seg[0].reference_bps, 425);
    assert_int_equal(r.interest_minor, 15438);
    assert_int_equal(r.fixed_minor, 7000);
}

/*  Band 3: 12,000.00 GBP due 2024-12-31, on 2025-01-30: 30 days from
    2025-01-01, base rate on 2024-12-31 = 4.75 % -> 12.75 %:
    1,200,000 x 1275 x 30 / 3,650,000 = 45,900,000,000 / 3,650,000
    = 12,575.34 -> 12,575; fixed 100 GBP. */
static void test_uk_band_100(void **state)
{
    penalties_terms_t t = { "GB", "GB", true, 0 };
    penalties_result_t r = compute(state, &t, 1200000, "GBP", "2024-12-31", "2025-01-30");
    assert_int_equal(r.days_late, 30);
    assert_int_equal(r.interest_minor, 12575);
    assert_int_equal(r.fixed_minor, 10000);
    assert_int_equal(r.total_minor, 22575);
}

static void test_uk_band_edges(void **state)
{
    assert_int_equal(penalties_uk_fixed(99999), 4000);      /* 999.99 */
    assert_int_equal(penalties_uk_fixed(100000), 7000);     /* 1,000.00 */
    assert_int_equal(penalties_uk_fixed(999999), 7000);     /* 9,999.99 */
    assert_int_equal(penalties_uk_fixed(1000000), 10000);   /* 10,000.00 */
    /*  A EUR invoice of a UK creditor: interest, no GBP fixed sum. */
    penalties_terms_t t = { "GB", "GB", true, 0 };
    penalties_result_t r = compute(state, &t, 80000, "EUR", "2025-01-15", "2025-03-16");
    assert_int_equal(r.interest_minor, 1677);
    assert_int_equal(r.fixed_minor, 0);
    assert_non_null(r.note);
}

/* ------------------------------------------------------------ consumers, errors */

static void test_consumer(void **state)
{
    penalties_terms_t t = { "FR", "FR", false, 0 };
    penalties_result_t r = compute(state, &t, 1000000, "EUR", "2025-03-31", "2025-08-15");
    assert_int_equal(r.rules, PENALTIES_RULES_NONE);
    assert_int_equal(r.total_minor, 0);
    assert_int_equal(r.n_segments, 0);
    assert_non_null(r.note);
    /*  The contract says 6 %: simple interest, one segment, no fixed sum.
        137 days: 1,000,000 x 600 x 137 / 3,650,000 = 22,520.55 -> 22,521. */
    t.contract_rate_bps = 600;
    r = compute(state, &t, 1000000, "EUR", "2025-03-31", "2025-08-15");
    assert_int_equal(r.rules, PENALTIES_RULES_CONTRACT);
    assert_int_equal(r.n_segments, 1);
    assert_int_equal(r.interest_minor, 22521);
    assert_int_equal(r.fixed_minor, 0);
    /*  UK consumer: the Act is business-to-business only. */
    penalties_terms_t uk = { "GB", "GB", false, 0 };
    r = compute(state, &uk, 1000000, "GBP", "2025-03-31", "2025-08-15");
    assert_int_equal(r.total_minor, 0);
}

static void test_errors(void **state)
{
    penalties_invoice_t inv = { .principal_minor = 1000, .currency = "XXQ", .due_date = D("2025-01-01") };
    penalties_result_t r;
    penalties_error_t err;
    assert_int_equal(penalties_compute(*state, &FR_B2B, &inv, D("2025-02-01"), &r, &err), -1);
    assert_string_equal(err.field, "invoice.currency");
    memcpy(inv.currency, "EUR", 4);
    inv.principal_minor = -5;
    assert_int_equal(penalties_compute(*state, &FR_B2B, &inv, D("2025-02-01"), &r, &err), -1);
    assert_string_equal(err.field, "invoice.principal_minor");
    /*  Before the table starts: the missing rate is named with its date. */
    inv.principal_minor = 1000;
    inv.due_date = D("2014-01-01");
    assert_int_equal(penalties_compute(*state, &FR_B2B, &inv, D("2014-03-01"), &r, &err), -1);
    assert_string_equal(err.field, "rates.ECB_REFI.EU");
    assert_string_equal(err.reason, "no rate in force on 2014-01-01");
    /*  An empty table. */
    penalties_rates_t empty = { 0 };
    inv.due_date = D("2025-01-01");
    assert_int_equal(penalties_compute(&empty, &FR_B2B, &inv, D("2025-02-01"), &r, &err), -1);
}

/*  A half-year with no legal-rate row (the table was not updated): the
    last known rate is used and the result says so. */
static void test_stale_legal_rate(void **state)
{
    penalties_result_t r = compute(state, &FR_B2B, 1000000, "EUR", "2099-01-10", "2099-01-20");
    assert_int_equal(r.n_segments, 1);
    assert_int_equal(r.seg[0].floor_bps, 3 * 276);
    assert_non_null(r.note);
    assert_non_null(strstr(r.note, "legal interest rate"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_interest_rounding),
        cmocka_unit_test(test_half_years),
        cmocka_unit_test_setup_teardown(test_rate_table, setup, teardown),
        cmocka_unit_test(test_rules_for),
        cmocka_unit_test_setup_teardown(test_fr_half_year_boundary, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fr_floor_decides_one_segment, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fr_published_floor_and_leap_day, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fr_three_segments, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fr_contract_rate_floor, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fr_not_late_and_currency, setup, teardown),
        cmocka_unit_test_setup_teardown(test_eu_directive, setup, teardown),
        cmocka_unit_test_setup_teardown(test_uk_band_40, setup, teardown),
        cmocka_unit_test_setup_teardown(test_uk_band_70_rate_fixed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_uk_band_100, setup, teardown),
        cmocka_unit_test_setup_teardown(test_uk_band_edges, setup, teardown),
        cmocka_unit_test_setup_teardown(test_consumer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stale_legal_rate, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
