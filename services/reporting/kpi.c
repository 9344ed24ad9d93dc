/*  kpi: KPI arithmetic; see kpi.h for the definitions and the rounding. */
#include "kpi.h"

#include <stddef.h>

const char *const rpt_age_bucket_names[RPT_AGE_BUCKETS] = {
    "not_due", "1_30", "31_60", "61_90", "91_180", "over_180"
};

int rpt_age_bucket(int32_t dpd)
{
    if (dpd <= 0)
        return RPT_AGE_NOT_DUE;
    if (dpd <= 30)
        return RPT_AGE_1_30;
    if (dpd <= 60)
        return RPT_AGE_31_60;
    if (dpd <= 90)
        return RPT_AGE_61_90;
    if (dpd <= 180)
        return RPT_AGE_91_180;
    return RPT_AGE_OVER_180;
}

/*  round(n / d) half away from zero, exact in 128 bits. */
static bool div_round(__int128 n, __int128 d, int64_t *out)
{
    if (d == 0)
        return false;
    bool neg = (n < 0) != (d < 0);
    if (n < 0)
        n = -n;
    if (d < 0)
        d = -d;
    __int128 q = (2 * n + d) / (2 * d);
    if (neg)
        q = -q;
    if (q > INT64_MAX || q < INT64_MIN)
        return false;
    *out = (int64_t) q;
    return true;
}

bool rpt_ratio(int64_t num, int64_t den, int64_t scale, int64_t *out)
{
    return div_round((__int128) num * scale, den, out);
}

bool rpt_dso_simple_x10(int64_t receivables, int64_t sales, int32_t days, int64_t *out)
{
    return div_round((__int128) receivables * days * 10, sales, out);
}

bool rpt_dso_countback_x10(int64_t receivables, const int64_t *sales, const int32_t *days,
                           int n, int64_t *out, bool *exhausted)
{
    *exhausted = false;
    if (n <= 0)
        return false;
    int64_t full_days = 0;
    int64_t left = receivables;
    for (int i = 0; i < n; i++) {
        if (left <= 0)
            break;
        if (sales[i] <= 0 || left > sales[i]) {
            full_days += days[i];
            if (sales[i] > 0)
                left -= sales[i];
            continue;
        }
        /*  The receivables run out inside this period. */
        int64_t part;
        if (!div_round((__int128) left * days[i] * 10, sales[i], &part))
            return false;
        *out = full_days * 10 + part;
        return true;
    }
    *exhausted = left > 0;
    *out = full_days * 10;
    return true;
}

bool rpt_cei_bp(int64_t opening, int64_t sales, int64_t closing, int64_t closing_current,
                int64_t *out)
{
    __int128 num = (__int128) opening + sales - closing;
    __int128 den = (__int128) opening + sales - closing_current;
    return div_round(num * 10000, den, out);
}

bool rpt_turnover_x100(int64_t sales, int64_t opening, int64_t closing, int64_t *out)
{
    /*  sales / ((o + c) / 2) * 100 = sales * 200 / (o + c) */
    return div_round((__int128) sales * 200, (__int128) opening + closing, out);
}

void rpt_roll_add(int32_t start, int32_t end, int32_t due, int64_t open_start, int64_t open_end,
                  int64_t from[RPT_AGE_BUCKETS], int64_t still[RPT_AGE_BUCKETS],
                  int64_t rolled[RPT_AGE_BUCKETS])
{
    if (open_start <= 0)
        return;
    int b = rpt_age_bucket(start - due);
    /*  What was paid, credited or written off in between is cured; an
        amount added since (an adjustment, a reversal) was not in the
        bucket at the start and does not count. */
    int64_t left = open_end < open_start ? open_end : open_start;
    if (left < 0)
        left = 0;
    from[b] += open_start;
    still[b] += left;
    if (rpt_age_bucket(end - due) > b)
        rolled[b] += left;
}
