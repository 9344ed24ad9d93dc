/*  dates: calendar dates as days since 1970-01-01, proleptic Gregorian.

    The conversions are Howard Hinnant's days_from_civil / civil_from_days
    (http://howardhinnant.github.io/date_algorithms.html): branch-light,
    exact over the whole range, no tables and no time zone. They shift the
    year to start in March so the leap day is the last day of the year,
    which makes the day-of-year a simple linear formula.

    We accept years 1..9999 only: that is what "YYYY-MM-DD", SQL `date`
    in practice and google.type.Date(year 0 = "no year") can all carry. */

#include "dates.h"
#include "log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static bool
s_is_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int
s_days_in_month(int y, int m)
{
    static const int days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    return m == 2 && s_is_leap(y) ? 29 : days[m - 1];
}

bool
date_valid(int y, int m, int d)
{
    if (y < 1 || y > 9999 || m < 1 || m > 12 || d < 1)
        return false;
    return d <= s_days_in_month(y, m);
}

/*  Callers validate first: for an invalid date the result is the day
    the fields would roll over to(2025-02-30 gives 2025-03-02). */
int32_t
date_to_days(int y, int m, int d)
{
    int64_t yy = (int64_t) y - (m <= 2);
    int64_t era = (yy >= 0 ? yy : yy - 399) / 400;
    int64_t yoe = yy - era * 400;                                   /* [0, 399] */
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;     /* [0, 365] */
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;            /* [0, 146096] */
    return (int32_t) (era * 146097 + doe - 719468);
}

void
date_from_days(int32_t days, int *y, int *m, int *d)
{
    /*  64 bits because days + 719468 overflows int32 near INT32_MAX. */
    int64_t z = (int64_t) days + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;                                 /* [0, 146096] */
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);         /* [0, 365] */
    int64_t mp = (5 * doy + 2) / 153;                               /* [0, 11], March = 0 */
    int64_t dd = doy - (153 * mp + 2) / 5 + 1;
    int64_t mm = mp < 10 ? mp + 3 : mp - 9;
    *y = (int) (yoe + era * 400 + (mm <= 2));
    *m = (int) mm;
    *d = (int) dd;
}

static bool
s_two_digits(const char *s, int *out)
{
    if (s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9')
        return false;
    *out = (s[0] - '0') * 10 + (s[1] - '0');
    return true;
}

/*  Exactly ten characters, zero padded; no sign, no spaces, no time part.
    sscanf would accept "2025-2-1" and " 2025-02-01x", so we check by hand. */
bool
date_parse(const char *s, int32_t *days)
{
    if (!s || strlen(s) != 10 || s[4] != '-' || s[7] != '-')
        return false;
    int hi, lo, m, d;
    if (!s_two_digits(s, &hi) || !s_two_digits(s + 2, &lo)
    ||  !s_two_digits(s + 5, &m) || !s_two_digits(s + 8, &d))
        return false;
    int y = hi * 100 + lo;
    if (!date_valid(y, m, d))
        return false;
    if (days)
        *days = date_to_days(y, m, d);
    return true;
}

void
date_format(int32_t days, char out[11])
{
    int y, m, d;
    date_from_days(days, &y, &m, &d);
    if (y < 1 || y > 9999) {
        /*  Cannot be written in ten characters. Year 0 is outside our
            range, so date_parse rejects this rather than misreading a
            truncated year. */
        memcpy(out, "0000-00-00", 11);
        return;
    }
    snprintf(out, 11, "%04d-%02d-%02d", y, m, d);
}

bool
date_from_pb(const Creance__Date *pb, int32_t *days)
{
    if (!pb || !date_valid(pb->year, pb->month, pb->day))
        return false;
    if (days)
        *days = date_to_days(pb->year, pb->month, pb->day);
    return true;
}

void
date_to_pb(int32_t days, Creance__Date *out)
{
    int y, m, d;
    date_from_days(days, &y, &m, &d);
    creance__date__init(out);
    out->year = y;
    out->month = m;
    out->day = d;
}

int32_t
date_today(void)
{
    const char *fake = getenv("CREANCE_TODAY");
    if (fake && *fake) {
        int32_t days;
        if (date_parse(fake, &days))
            return days;
        /*  Warn once: this is called per event and would flood the log. */
        static bool warned = false;
        if (!warned) {
            log_warn("CREANCE_TODAY ignored value=%s reason=not_yyyy_mm_dd", fake);
            warned = true;
        }
    }
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    /*  Floor division: time before 1970 is negative. */
    int64_t secs = ts.tv_sec;
    int64_t day = secs / 86400 - (secs % 86400 < 0);
    return (int32_t) day;
}

int64_t
now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}
