/*  money: ISO 4217 currencies and amounts in integer minor units.

    Amounts never go through a double: a float cannot hold 0.10 exactly and
    sums of them drift, which a ledger cannot afford. Text is parsed and
    written digit by digit instead. */
#include "money.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    char code[4];
    int exponent;           /* minor-unit digits */
} currency_t;

/*  ISO 4217 list A, active codes (funds codes included: they are in the
    list and billing systems do send CLF, COU, UYI ...). Precious metals,
    XDR and the testing codes have no minor unit ("N.A.") and are left out:
    they are not what invoices are written in. Withdrawn codes (HRK, SLL,
    ZWL ...) are left out too. ANG stays alongside its successor XCG for
    the transition period.

    Kept sorted by code: currency_exponent binary-searches it. The unit
    test checks every code, which would catch an entry out of order. */
static const currency_t s_currencies[] = {
    { "AED", 2 }, { "AFN", 2 }, { "ALL", 2 }, { "AMD", 2 }, { "ANG", 2 },
    { "AOA", 2 }, { "ARS", 2 }, { "AUD", 2 }, { "AWG", 2 }, { "AZN", 2 },
    { "BAM", 2 }, { "BBD", 2 }, { "BDT", 2 }, { "BGN", 2 }, { "BHD", 3 },
    { "BIF", 0 }, { "BMD", 2 }, { "BND", 2 }, { "BOB", 2 }, { "BOV", 2 },
    { "BRL", 2 }, { "BSD", 2 }, { "BTN", 2 }, { "BWP", 2 }, { "BYN", 2 },
    { "BZD", 2 }, { "CAD", 2 }, { "CDF", 2 }, { "CHE", 2 }, { "CHF", 2 },
    { "CHW", 2 }, { "CLF", 4 }, { "CLP", 0 }, { "CNY", 2 }, { "COP", 2 },
    { "COU", 2 }, { "CRC", 2 }, { "CUC", 2 }, { "CUP", 2 }, { "CVE", 2 },
    { "CZK", 2 }, { "DJF", 0 }, { "DKK", 2 }, { "DOP", 2 }, { "DZD", 2 },
    { "EGP", 2 }, { "ERN", 2 }, { "ETB", 2 }, { "EUR", 2 }, { "FJD", 2 },
    { "FKP", 2 }, { "GBP", 2 }, { "GEL", 2 }, { "GHS", 2 }, { "GIP", 2 },
    { "GMD", 2 }, { "GNF", 0 }, { "GTQ", 2 }, { "GYD", 2 }, { "HKD", 2 },
    { "HNL", 2 }, { "HTG", 2 }, { "HUF", 2 }, { "IDR", 2 }, { "ILS", 2 },
    { "INR", 2 }, { "IQD", 3 }, { "IRR", 2 }, { "ISK", 0 }, { "JMD", 2 },
    { "JOD", 3 }, { "JPY", 0 }, { "KES", 2 }, { "KGS", 2 }, { "KHR", 2 },
    { "KMF", 0 }, { "KPW", 2 }, { "KRW", 0 }, { "KWD", 3 }, { "KYD", 2 },
    { "KZT", 2 }, { "LAK", 2 }, { "LBP", 2 }, { "LKR", 2 }, { "LRD", 2 },
    { "LSL", 2 }, { "LYD", 3 }, { "MAD", 2 }, { "MDL", 2 }, { "MGA", 2 },
    { "MKD", 2 }, { "MMK", 2 }, { "MNT", 2 }, { "MOP", 2 }, { "MRU", 2 },
    { "MUR", 2 }, { "MVR", 2 }, { "MWK", 2 }, { "MXN", 2 }, { "MXV", 2 },
    { "MYR", 2 }, { "MZN", 2 }, { "NAD", 2 }, { "NGN", 2 }, { "NIO", 2 },
    { "NOK", 2 }, { "NPR", 2 }, { "NZD", 2 }, { "OMR", 3 }, { "PAB", 2 },
    { "PEN", 2 }, { "PGK", 2 }, { "PHP", 2 }, { "PKR", 2 }, { "PLN", 2 },
    { "PYG", 0 }, { "QAR", 2 }, { "RON", 2 }, { "RSD", 2 }, { "RUB", 2 },
    { "RWF", 0 }, { "SAR", 2 }, { "SBD", 2 }, { "SCR", 2 }, { "SDG", 2 },
    { "SEK", 2 }, { "SGD", 2 }, { "SHP", 2 }, { "SLE", 2 }, { "SOS", 2 },
    { "SRD", 2 }, { "SSP", 2 }, { "STN", 2 }, { "SVC", 2 }, { "SYP", 2 },
    { "SZL", 2 }, { "THB", 2 }, { "TJS", 2 }, { "TMT", 2 }, { "TND", 3 },
    { "TOP", 2 }, { "TRY", 2 }, { "TTD", 2 }, { "TWD", 2 }, { "TZS", 2 },
    { "UAH", 2 }, { "UGX", 0 }, { "USD", 2 }, { "USN", 2 }, { "UYI", 0 },
    { "UYU", 2 }, { "UYW", 4 }, { "UZS", 2 }, { "VED", 2 }, { "VES", 2 },
    { "VND", 0 }, { "VUV", 0 }, { "WST", 2 }, { "XAF", 0 }, { "XCD", 2 },
    { "XCG", 2 }, { "XOF", 0 }, { "XPF", 0 }, { "YER", 2 }, { "ZAR", 2 },
    { "ZMW", 2 }, { "ZWG", 2 },
};

#define CURRENCY_COUNT (sizeof s_currencies / sizeof s_currencies[0])

static int
s_compare(const void *key, const void *elem)
{
    return strcmp((const char *) key, ((const currency_t *) elem)->code);
}

/*  Exactly three upper-case ASCII letters: "eur", "EURO" and "EU" are not
    codes, and we do not guess what the sender meant. */
static const currency_t *
s_lookup(const char *code)
{
    if (!code)
        return NULL;
    for (int i = 0; i < 3; i++)
        if (code[i] < 'A' || code[i] > 'Z')
            return NULL;
    if (code[3] != '\0')
        return NULL;
    return bsearch(code, s_currencies, CURRENCY_COUNT, sizeof s_currencies[0], s_compare);
}

bool
currency_known(const char *code)
{
    return s_lookup(code) != NULL;
}

int
currency_exponent(const char *code)
{
    const currency_t *c = s_lookup(code);
    return c ? c->exponent : -1;
}

/*  An unknown currency is written as the bare count of minor units: there
    is no right place for a decimal point, so we invent none. */
void
money_format(int64_t minor, const char *currency, char *out, size_t outlen)
{
    if (!out || outlen == 0)
        return;
    int exponent = currency_exponent(currency);
    if (exponent < 0)
        exponent = 0;

    /*  Work on the magnitude as unsigned: -INT64_MIN does not fit int64. */
    uint64_t magnitude = minor < 0 ? (uint64_t) 0 - (uint64_t) minor : (uint64_t) minor;
    char digits[24];
    int n = snprintf(digits, sizeof digits, "%0*llu", exponent + 1,
                     (unsigned long long) magnitude);
    if (exponent == 0)
        snprintf(out, outlen, "%s%s", minor < 0 ? "-" : "", digits);
    else
        snprintf(out, outlen, "%s%.*s.%s", minor < 0 ? "-" : "",
                 n - exponent, digits, digits + n - exponent);
}

bool
money_parse(const char *text, const char *currency, int64_t *minor)
{
    int exponent = currency_exponent(currency);
    if (!text || exponent < 0)
        return false;

    const char *p = text;
    bool negative = false;
    if (*p == '-') {
        negative = true;
        p++;
    }
    /*  The largest magnitude we may reach: INT64_MAX, or one more for a
        negative amount. */
    uint64_t limit = negative ? (uint64_t) INT64_MAX + 1 : (uint64_t) INT64_MAX;
    uint64_t value = 0;
    int int_digits = 0, decimals = 0;
    bool seen_point = false;

    for (; *p; p++) {
        if (*p == '.') {
            if (seen_point || int_digits == 0)
                return false;       /* "1.2.3", ".5" */
            seen_point = true;
            continue;
        }
        if (*p < '0' || *p > '9')
            return false;           /* sign in the middle, spaces, "1e3", "1,5" */
        if (seen_point && ++decimals > exponent)
            return false;           /* more precision than the currency has */
        if (!seen_point)
            int_digits++;
        unsigned digit = (unsigned) (*p - '0');
        if (value > (limit - digit) / 10)
            return false;
        value = value * 10 + digit;
    }
    if (int_digits == 0 || (seen_point && decimals == 0))
        return false;               /* "", "-", "12." */

    /*  "12.5" in EUR is 1250: scale up the missing decimals. */
    for (int i = decimals; i < exponent; i++) {
        if (value > limit / 10)
            return false;
        value *= 10;
    }
    if (minor) {
        if (negative)
            *minor = value == (uint64_t) INT64_MAX + 1 ? INT64_MIN : -(int64_t) value;
        else
            *minor = (int64_t) value;
    }
    return true;
}
