/*  pgarray: PostgreSQL array literals for set-based statements. */
#include "pgarray.h"
#include "dates.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void
s_reserve(pgarray_t *a, size_t more)
{
    if (a->len + more + 1 > a->cap) {
        a->cap = (a->len + more + 1) * 2;
        a->s = realloc(a->s, a->cap);
    }
}

static void
s_put(pgarray_t *a, const char *bytes, size_t len)
{
    s_reserve(a, len);
    memcpy(a->s + a->len, bytes, len);
    a->len += len;
}

/*  The comma before every element but the first. */
static void
s_sep(pgarray_t *a)
{
    if (a->n++)
        s_put(a, ",", 1);
}

void
pgarray_begin(pgarray_t *a)
{
    a->len = 0;
    a->n = 0;
    s_put(a, "{", 1);
}

void
pgarray_text(pgarray_t *a, const char *v)
{
    s_sep(a);
    if (!v) {
        s_put(a, "NULL", 4);
        return;
    }
    size_t len = strlen(v);
    s_reserve(a, 2 * len + 2);
    a->s[a->len++] = '"';
    for (size_t i = 0; i < len; i++) {
        if (v[i] == '"' || v[i] == '\\')
            a->s[a->len++] = '\\';
        a->s[a->len++] = v[i];
    }
    a->s[a->len++] = '"';
}

void
pgarray_int(pgarray_t *a, int64_t v)
{
    char buf[24];
    s_sep(a);
    s_put(a, buf, (size_t) snprintf(buf, sizeof buf, "%" PRId64, v));
}

void
pgarray_day(pgarray_t *a, int32_t days)
{
    char d[16];
    date_format(days, d);
    s_sep(a);
    s_put(a, d, strlen(d));
}

void
pgarray_hex(pgarray_t *a, const uint8_t *bytes, size_t len)
{
    static const char digits[] = "0123456789abcdef";
    s_sep(a);
    s_reserve(a, 2 * len);
    for (size_t i = 0; i < len; i++) {
        a->s[a->len++] = digits[bytes[i] >> 4];
        a->s[a->len++] = digits[bytes[i] & 15];
    }
}

const char *
pgarray_end(pgarray_t *a)
{
    s_put(a, "}", 1);
    a->s[a->len] = 0;               /* s_reserve kept room for it */
    return a->s;
}

void
pgarray_free(pgarray_t *a)
{
    free(a->s);
    *a = (pgarray_t) PGARRAY_INIT;
}
