/*  Unit tests for common/money: currency table, format, strict parse. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "money.h"

/*  Every code the table must hold, with its exponent. Looking each one up
    also proves the table is sorted: bsearch misses entries out of order. */
static const struct { const char *code; int exponent; } s_expected[] = {
    { "AED", 2 }, { "AFN", 2 }, { "ALL", 2 }, { "AMD", 2 }, { "AOA", 2 }, { "ARS", 2 },
    { "AUD", 2 }, { "AWG", 2 }, { "AZN", 2 }, { "BAM", 2 }, { "BBD", 2 }, { "BDT", 2 },
    { "BGN", 2 }, { "BHD", 3 }, { "BIF", 0 }, { "BMD", 2 }, { "BND", 2 }, { "BOB", 2 },
    { "BRL", 2 }, { "BSD", 2 }, { "BTN", 2 }, { "BWP", 2 }, { "BYN", 2 }, { "BZD", 2 },
    { "CAD", 2 }, { "CDF", 2 }, { "CHF", 2 }, { "CLF", 4 }, { "CLP", 0 }, { "CNY", 2 },
    { "COP", 2 }, { "CRC", 2 }, { "CUP", 2 }, { "CVE", 2 }, { "CZK", 2 }, { "DJF", 0 },
    { "DKK", 2 }, { "DOP", 2 }, { "DZD", 2 }, { "EGP", 2 }, { "ERN", 2 }, { "ETB", 2 },
    { "EUR", 2 }, { "FJD", 2 }, { "FKP", 2 }, { "GBP", 2 }, { "GEL", 2 }, { "GHS", 2 },
    { "GIP", 2 }, { "GMD", 2 }, { "GNF", 0 }, { "GTQ", 2 }, { "GYD", 2 }, { "HKD", 2 },
    { "HNL", 2 }, { "HTG", 2 }, { "HUF", 2 }, { "IDR", 2 }, { "ILS", 2 }, { "INR", 2 },
    { "IQD", 3 }, { "IRR", 2 }, { "ISK", 0 }, { "JMD", 2 }, { "JOD", 3 }, { "JPY", 0 },
    { "KES", 2 }, { "KGS", 2 }, { "KHR", 2 }, { "KMF", 0 }, { "KPW", 2 }, { "KRW", 0 },
    { "KWD", 3 }, { "KYD", 2 }, { "KZT", 2 }, { "LAK", 2 }, { "LBP", 2 }, { "LKR", 2 },
    { "LRD", 2 }, { "LSL", 2 }, { "LYD", 3 }, { "MAD", 2 }, { "MDL", 2 }, { "MGA", 2 },
    { "MKD", 2 }, { "MMK", 2 }, { "MNT", 2 }, { "MOP", 2 }, { "MRU", 2 }, { "MUR", 2 },
    { "MVR", 2 }, { "MWK", 2 }, { "MXN", 2 }, { "MYR", 2 }, { "MZN", 2 }, { "NAD", 2 },
    { "NGN", 2 }, { "NIO", 2 }, { "NOK", 2 }, { "NPR", 2 }, { "NZD", 2 }, { "OMR", 3 },
    { "PAB", 2 }, { "PEN", 2 }, { "PGK", 2 }, { "PHP", 2 }, { "PKR", 2 }, { "PLN", 2 },
    { "PYG", 0 }, { "QAR", 2 }, { "RON", 2 }, { "RSD", 2 }, { "RUB", 2 }, { "RWF", 0 },
    { "SAR", 2 }, { "SBD", 2 }, { "SCR", 2 }, { "SDG", 2 }, { "SEK", 2 }, { "SGD", 2 },
    { "SHP", 2 }, { "SLE", 2 }, { "SOS", 2 }, { "SRD", 2 }, { "SSP", 2 }, { "STN", 2 },
    { "SVC", 2 }, { "SYP", 2 }, { "SZL", 2 }, { "THB", 2 }, { "TJS", 2 }, { "TMT", 2 },
    { "TND", 3 }, { "TOP", 2 }, { "TRY", 2 }, { "TTD", 2 }, { "TWD", 2 }, { "TZS", 2 },
    { "UAH", 2 }, { "UGX", 0 }, { "USD", 2 }, { "UYU", 2 }, { "UYW", 4 }, { "UZS", 2 },
    { "VES", 2 }, { "VND", 0 }, { "VUV", 0 }, { "WST", 2 }, { "XAF", 0 }, { "XCD", 2 },
    { "XOF", 0 }, { "XPF", 0 }, { "YER", 2 }, { "ZAR", 2 }, { "ZMW", 2 },
};

static void
test_known_currencies(void **state)
{
    for (size_t i = 0; i < sizeof s_expected / sizeof s_expected[0]; i++) {
        if (!currency_known(s_expected[i].code))
            fail_msg("unknown %s", s_expected[i].code);
        assert_int_equal(currency_exponent(s_expected[i].code), s_expected[i].exponent);
    }
}

static void
test_unknown_currencies(void **state)
{
    static const char *bad[] = {
        "eur", "Eur", "EU", "EURO", "", "E1R", "XXX", "XTS", "XAU", "HRK", "FRF",
        "DEM", "ZZZ", "AAA", " EUR", "EUR ",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (currency_known(bad[i]))
            fail_msg("accepted \"%s\"", bad[i]);
        assert_int_equal(currency_exponent(bad[i]), -1);
    }
    assert_false(currency_known(NULL));
    assert_int_equal(currency_exponent(NULL), -1);
}

static void
test_format(void **state)
{
    char out[32];
    money_format(123450, "EUR", out, sizeof out);
    assert_string_equal(out, "1234.50");
    money_format(5, "EUR", out, sizeof out);
    assert_string_equal(out, "0.05");
    money_format(0, "EUR", out, sizeof out);
    assert_string_equal(out, "0.00");
    money_format(-5, "EUR", out, sizeof out);
    assert_string_equal(out, "-0.05");
    money_format(-123456, "USD", out, sizeof out);
    assert_string_equal(out, "-1234.56");
    money_format(1500, "JPY", out, sizeof out);
    assert_string_equal(out, "1500");
    money_format(-7, "JPY", out, sizeof out);
    assert_string_equal(out, "-7");
    money_format(1234567, "KWD", out, sizeof out);
    assert_string_equal(out, "1234.567");
    money_format(1, "CLF", out, sizeof out);
    assert_string_equal(out, "0.0001");
    money_format(INT64_MAX, "EUR", out, sizeof out);
    assert_string_equal(out, "92233720368547758.07");
    money_format(INT64_MIN, "EUR", out, sizeof out);
    assert_string_equal(out, "-92233720368547758.08");
    /*  Unknown currency: the bare minor units, no invented point. */
    money_format(12345, "QQQ", out, sizeof out);
    assert_string_equal(out, "12345");
    /*  Small buffer: truncated and terminated, never overrun. */
    char small[5] = "xxxx";
    money_format(123450, "EUR", small, sizeof small);
    assert_string_equal(small, "1234");
}

static void
test_parse_good(void **state)
{
    static const struct { const char *text, *cur; int64_t minor; } good[] = {
        { "1234.50", "EUR", 123450 }, { "1234.5", "EUR", 123450 }, { "1234", "EUR", 123400 },
        { "-3", "EUR", -300 }, { "0.01", "EUR", 1 }, { "-0.01", "EUR", -1 },
        { "0", "EUR", 0 }, { "-0", "EUR", 0 }, { "007.10", "EUR", 710 },
        { "1500", "JPY", 1500 }, { "1.234", "KWD", 1234 }, { "1.2", "TND", 1200 },
        { "0.0001", "CLF", 1 },
        { "92233720368547758.07", "EUR", INT64_MAX },
        { "-92233720368547758.08", "EUR", INT64_MIN },
        { "9223372036854775807", "JPY", INT64_MAX },
        { "-9223372036854775808", "JPY", INT64_MIN },
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        int64_t minor = 42;
        if (!money_parse(good[i].text, good[i].cur, &minor))
            fail_msg("rejected \"%s\" %s", good[i].text, good[i].cur);
        assert_int_equal(minor, good[i].minor);
    }
}

static void
test_parse_bad(void **state)
{
    static const struct { const char *text, *cur; } bad[] = {
        { "1.234", "EUR" },                 /* too many decimals */
        { "1.5", "JPY" },                   /* JPY has none */
        { "1.", "JPY" }, { "12.", "EUR" }, { ".5", "EUR" }, { "-.5", "EUR" },
        { "", "EUR" }, { "-", "EUR" }, { "+1", "EUR" }, { " 1", "EUR" }, { "1 ", "EUR" },
        { "1,50", "EUR" }, { "1e3", "EUR" }, { "1.2.3", "EUR" }, { "--1", "EUR" },
        { "1-", "EUR" }, { "0x10", "EUR" }, { "NaN", "EUR" }, { "inf", "EUR" },
        { "12.50", "QQQ" }, { "12.50", "eur" }, { "12.50", NULL },
        { "92233720368547758.08", "EUR" },  /* INT64_MAX + 1 */
        { "-92233720368547758.09", "EUR" },
        { "9223372036854775808", "JPY" },
        { "92233720368547758", "KWD" },     /* overflows when scaled by 1000 */
        { "99999999999999999999999", "EUR" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int64_t minor = 42;
        if (money_parse(bad[i].text, bad[i].cur, &minor))
            fail_msg("accepted \"%s\" %s", bad[i].text, bad[i].cur ? bad[i].cur : "(null)");
        assert_int_equal(minor, 42);
    }
    assert_false(money_parse(NULL, "EUR", NULL));
}

/*  Format then parse gives the amount back, across exponents and signs. */
static void
test_round_trip(void **state)
{
    static const char *currencies[] = { "EUR", "JPY", "KWD", "CLF" };
    static const int64_t amounts[] = {
        0, 1, -1, 9, 10, 99, 100, 101, 123456789, -987654321, INT64_MAX, INT64_MIN,
        INT64_MAX - 1, INT64_MIN + 1,
    };
    for (size_t c = 0; c < 4; c++)
        for (size_t a = 0; a < sizeof amounts / sizeof amounts[0]; a++) {
            char text[32];
            int64_t back = 0;
            money_format(amounts[a], currencies[c], text, sizeof text);
            assert_true(money_parse(text, currencies[c], &back));
            assert_int_equal(back, amounts[a]);
        }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_currencies),
        cmocka_unit_test(test_unknown_currencies),
        cmocka_unit_test(test_format),
        cmocka_unit_test(test_parse_good),
        cmocka_unit_test(test_parse_bad),
        cmocka_unit_test(test_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
