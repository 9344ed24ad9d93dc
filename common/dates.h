/*  dates: calendar dates as days since 1970-01-01 (proleptic Gregorian),
    conversions to and from "YYYY-MM-DD" and creance.Date. No time zones. */
#ifndef CREANCE_DATES_H
#define CREANCE_DATES_H

#include "creance.pb-c.h"
#include <stdbool.h>
#include <stdint.h>

bool    date_valid(int y, int m, int d);
int32_t date_to_days(int y, int m, int d);
void    date_from_days(int32_t days, int *y, int *m, int *d);
/*  Strict "YYYY-MM-DD"; returns false on anything else. */
bool    date_parse(const char *s, int32_t *days);
/*  Writes "YYYY-MM-DD" (11 bytes with the NUL). */
void    date_format(int32_t days, char out[11]);
bool    date_from_pb(const Creance__Date *d, int32_t *days);
/*  Fills `out` (no allocation). */
void    date_to_pb(int32_t days, Creance__Date *out);
/*  Today in UTC, or CREANCE_TODAY (YYYY-MM-DD) when set: tests and demos
    run the calendar forward without touching the clock. */
int32_t date_today(void);
int64_t now_us(void);

#endif
