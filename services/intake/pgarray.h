/*  pgarray: the text form of a PostgreSQL array parameter, e.g.
    {"a","b\"c",NULL} or {1,2,3}, so that one statement takes a whole run
    of values through unnest($n::type[]) or = ANY($n) instead of one round
    trip per value.

        pgarray_t a = PGARRAY_INIT;
        pgarray_begin(&a);
        pgarray_text(&a, "x"); pgarray_int(&a, 42);
        params[i] = pgarray_end(&a);        valid until the next begin
        ...
        pgarray_free(&a);

    Text elements are always quoted (then only " and \ need an escape);
    NULL is the bare word. */
#ifndef INTAKE_PGARRAY_H
#define INTAKE_PGARRAY_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    char *s;
    size_t len, cap;
    size_t n;                       /* elements so far */
} pgarray_t;

#define PGARRAY_INIT { NULL, 0, 0, 0 }

void        pgarray_begin(pgarray_t *a);
/*  A text element; NULL gives an SQL NULL. */
void        pgarray_text(pgarray_t *a, const char *v);
void        pgarray_int(pgarray_t *a, int64_t v);
/*  A date (days since 1970-01-01) as YYYY-MM-DD. */
void        pgarray_day(pgarray_t *a, int32_t days);
/*  Bytes as hex digits, for decode(x, 'hex') in SQL. */
void        pgarray_hex(pgarray_t *a, const uint8_t *bytes, size_t len);
/*  Closes the literal and returns it (owned by `a`). */
const char *pgarray_end(pgarray_t *a);
void        pgarray_free(pgarray_t *a);

#endif
