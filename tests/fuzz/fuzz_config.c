/*  Fuzz target: the parsers of text that comes from outside as
    configuration or as fields: config_get_int and config_mask (environment
    values), date_parse, money_parse / money_format, currency_known.

    The input is split at its first newline: before it a currency code
    (or anything), after it the text. Without a newline, the whole input is
    the text and the currency is "EUR".

    Properties beyond "no crash, no leak, no UB":
    - date_parse accepts exactly "YYYY-MM-DD" of a real day, and
      date_format gives back the same ten characters;
    - money_parse then money_format then money_parse gives the same amount,
      and money_format never writes more than its buffer;
    - config_get_int returns the fallback or strtol's value;
    - config_mask always terminates its output within outlen and never
      shows a URL's password. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "dates.h"
#include "fuzz.h"
#include "log.h"
#include "money.h"

#define VAR "CREANCE_FUZZ_VALUE"
#define MAX_TEXT 4096

static const config_entry_t s_table[] = {
    { VAR, "0", false, "fuzzed value" },
    { NULL, NULL, false, NULL }
};
static config_t *s_config;
/*  putenv keeps this pointer: no copy per run (setenv would keep every
    value it ever set, and the fuzzer sets millions). */
static char s_env[sizeof VAR + MAX_TEXT + 1] = VAR "=";

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    log_init("fuzz");
    log_set_level("error");
    putenv(s_env);
    s_config = config_new("fuzz", s_table);
    return 0;
}

static void s_dates(const char *text)
{
    int32_t days = 0;
    if (date_parse(text, &days)) {
        CHECK(strlen(text) == 10);
        char out[11];
        date_format(days, out);
        CHECK(strcmp(out, text) == 0);
    }
    /* The raw conversions over the whole int32 range must not overflow. */
    int32_t any = 0;
    memcpy(&any, text, strlen(text) < 4 ? strlen(text) : 4);
    int y, m, d;
    date_from_days(any, &y, &m, &d);
    if (date_valid(y, m, d))
        CHECK(date_to_days(y, m, d) == any);
    char out[11];
    date_format(any, out);
    CHECK(strlen(out) == 10);
}

static void s_money(const char *text, const char *currency)
{
    int64_t minor = 0;
    CHECK(currency_known(currency) == (currency_exponent(currency) >= 0));
    if (!money_parse(text, currency, &minor))
        return;
    char out[32];
    memset(out, 'x', sizeof out);
    money_format(minor, currency, out, sizeof out);
    CHECK(memchr(out, 0, sizeof out));
    int64_t again = 0;
    CHECK(money_parse(out, currency, &again));
    CHECK(again == minor);
    /* A short buffer truncates, never overflows. */
    char small[5];
    money_format(minor, currency, small, sizeof small);
    CHECK(memchr(small, 0, sizeof small));
}

static void s_config_value(const char *text)
{
    size_t n = strlen(text);
    memcpy(s_env + sizeof VAR, text, n + 1);
    config_reload(s_config);
    CHECK(strcmp(config_get(s_config, VAR), text) == 0);
    long v = config_get_int(s_config, VAR, -4242);
    char *end;
    errno = 0;
    long expect = strtol(text, &end, 10);
    if (errno || end == text || *end)
        CHECK(v == -4242);
    else
        CHECK(v == expect);

    char masked[64];
    for (int secret = 0; secret <= 1; secret++) {
        memset(masked, 'x', sizeof masked);
        config_mask(text, secret, masked, sizeof masked);
        CHECK(memchr(masked, 0, sizeof masked));
    }
    /* A URL's password never shows: scheme://user:PASSWORD@host becomes
       exactly scheme://user:****@host, whatever the password looks like
       (a containment test would be fooled by a password that resembles
       the rest of the URL, as the fuzzer showed with "s://:s://:***@w"). */
    const char *scheme = strstr(text, "://");
    const char *at = scheme ? strchr(scheme + 3, '@') : NULL;
    const char *colon = scheme && at ? memchr(scheme + 3, ':', (size_t) (at - scheme - 3)) : NULL;
    if (colon) {
        char big[MAX_TEXT + 64], expect[MAX_TEXT + 64];
        config_mask(text, false, big, sizeof big);
        snprintf(expect, sizeof expect, "%.*s:****%s", (int) (colon - text), text, at);
        CHECK(strcmp(big, expect) == 0);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > MAX_TEXT)
        return 0;
    char buf[MAX_TEXT + 1];
    memcpy(buf, data, size);
    buf[size] = 0;
    if (strlen(buf) != size)
        return 0;       /* environment values and C strings have no NUL */
    char *text = buf, *currency = "EUR";
    char *nl = strchr(buf, '\n');
    if (nl) {
        *nl = 0;
        currency = buf;
        text = nl + 1;
    }
    s_dates(text);
    s_money(text, currency);
    s_config_value(text);
    return 0;
}
