/*  kpi: the arithmetic of the collection KPIs, pure (no database), on
    integer minor units. The API (api.c) sums reporting's fact tables into
    the inputs; the definitions are written once in docs/openapi.yaml and
    here.

    Fixed point and rounding: a day figure is returned in tenths of a day
    (x10), a rate in basis points (10000 = 100 %), a turnover in hundredths
    (x100). Every division rounds half away from zero, computed exactly with
    128-bit intermediates (no floating point). A KPI whose denominator is
    zero has no value: the functions return false and the API answers null. */
#ifndef CREANCE_REPORTING_KPI_H
#define CREANCE_REPORTING_KPI_H

#include <stdbool.h>
#include <stdint.h>

/*  Aging buckets by days past due (as_of - due_date). */
enum {
    RPT_AGE_NOT_DUE = 0,    /* <= 0: not yet due (due today counts as not due) */
    RPT_AGE_1_30,
    RPT_AGE_31_60,
    RPT_AGE_61_90,
    RPT_AGE_91_180,
    RPT_AGE_OVER_180,
    RPT_AGE_BUCKETS
};
extern const char *const rpt_age_bucket_names[RPT_AGE_BUCKETS];
int  rpt_age_bucket(int32_t days_past_due);

/*  round(num * scale / den), half away from zero. False when den == 0 or
    the result does not fit in int64. */
bool rpt_ratio(int64_t num, int64_t den, int64_t scale, int64_t *out);

/*  DSO simple = receivables / credit sales of the period * days of the
    period, x10. */
bool rpt_dso_simple_x10(int64_t receivables, int64_t sales, int32_t days, int64_t *out);

/*  Count-back DSO, x10: walk back over periods (most recent first) taking
    each period's sales out of the receivables; every period fully used
    counts all its days, the last one counts days * remaining / its sales.
    A period without sales counts all its days. When the periods run out
    before the receivables, the result covers them all and *exhausted is
    set (the true figure is higher). False when n == 0. */
bool rpt_dso_countback_x10(int64_t receivables, const int64_t *sales, const int32_t *days,
                           int n, int64_t *out, bool *exhausted);

/*  CEI in basis points = (opening + sales - closing)
                          / (opening + sales - closing_current) * 10000. */
bool rpt_cei_bp(int64_t opening, int64_t sales, int64_t closing, int64_t closing_current,
                int64_t *out);

/*  Receivables turnover for the period, x100 = sales / ((opening + closing) / 2). */
bool rpt_turnover_x100(int64_t sales, int64_t opening, int64_t closing, int64_t *out);

/*  Roll rates between two days start < end, accumulated one due date at a
    time: what was open at `start` on invoices due on `due` (open_start)
    sits in bucket b = rpt_age_bucket(start - due); of it, the part still
    open at `end` (min(open_end, open_start), never below 0) is added to
    still[b], and to rolled[b] too when it is then in a later bucket
    (rpt_age_bucket(end - due) > b). from[b] += open_start. Roll rate of b
    = rolled[b] / from[b]. */
void rpt_roll_add(int32_t start, int32_t end, int32_t due, int64_t open_start, int64_t open_end,
                  int64_t from[RPT_AGE_BUCKETS], int64_t still[RPT_AGE_BUCKETS],
                  int64_t rolled[RPT_AGE_BUCKETS]);

#endif
