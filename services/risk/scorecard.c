/*  scorecard: behaviour -> score, grade and factors (pure). */
#include "scorecard.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define COL(name) { #name, offsetof(risk_policy_t, name) }
const risk_policy_column_t risk_policy_columns[] = {
    COL(base), COL(overdue_ratio_max),
    COL(age_1_30), COL(age_31_60), COL(age_61_90), COL(age_over_90),
    COL(days_late_per_day), COL(days_late_max),
    COL(broken_promise), COL(broken_promise_max),
    COL(missed_instalment), COL(missed_instalment_max),
    COL(open_dispute), COL(open_dispute_max),
    COL(active_plan), COL(active_plan_max),
    COL(limit_over), COL(limit_near), COL(limit_near_pct),
    COL(liquidity_below_1),
    COL(grade_a), COL(grade_b), COL(grade_c), COL(grade_d),
    COL(credit_overdue_days), COL(shrink_k), COL(ew_alpha_pct),
};
#undef COL
const size_t risk_policy_ncolumns = sizeof risk_policy_columns / sizeof risk_policy_columns[0];

void
risk_policy_defaults(risk_policy_t *p)
{
    /* Same values as the '*' row of 0020_risk_score.sql. */
    *p = (risk_policy_t) {
        .base = 1000, .overdue_ratio_max = 250,
        .age_1_30 = 50, .age_31_60 = 120, .age_61_90 = 200, .age_over_90 = 300,
        .days_late_per_day = 4, .days_late_max = 200,
        .broken_promise = 60, .broken_promise_max = 180,
        .missed_instalment = 50, .missed_instalment_max = 150,
        .open_dispute = 30, .open_dispute_max = 90,
        .active_plan = 40, .active_plan_max = 80,
        .limit_over = 150, .limit_near = 50, .limit_near_pct = 80,
        .liquidity_below_1 = 100,
        .grade_a = 800, .grade_b = 650, .grade_c = 500, .grade_d = 350,
        .credit_overdue_days = 30, .shrink_k = 5, .ew_alpha_pct = 30,
    };
}

char
risk_grade_for(int score, const risk_policy_t *p)
{
    if (score >= p->grade_a)
        return 'A';
    if (score >= p->grade_b)
        return 'B';
    if (score >= p->grade_c)
        return 'C';
    if (score >= p->grade_d)
        return 'D';
    return 'E';
}

bool
risk_liquidity_below_1(const risk_inputs_t *in)
{
    return in->has_figures && in->current_liabilities_minor > 0
        && in->current_assets_minor < in->current_liabilities_minor;
}

double
risk_ew_update(double ew, int32_t paid_before, int32_t days_late, int alpha_pct)
{
    if (days_late < 0)
        days_late = 0;
    if (paid_before <= 0)
        return days_late;
    double a = alpha_pct / 100.0;
    return a * days_late + (1.0 - a) * ew;
}

static int
s_capped(int64_t count, int each, int max)
{
    int64_t v = count * each;
    return (int) (v > max ? max : v);
}

static void
s_factor(risk_score_t *out, const char *name, int penalty, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void
s_factor(risk_score_t *out, const char *name, int penalty, const char *fmt, ...)
{
    if (out->nfactors == RISK_FACTOR_MAX)
        return;
    risk_factor_t *f = &out->factors[out->nfactors++];
    snprintf(f->name, sizeof f->name, "%s", name);
    f->points = penalty;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(f->detail, sizeof f->detail, fmt, ap);
    va_end(ap);
}

void
risk_score_compute(const risk_inputs_t *in, const risk_policy_t *p, risk_score_t *out)
{
    memset(out, 0, sizeof *out);
    s_factor(out, "base", p->base, "starting points");

    /* Overdue share of what is owed: integer arithmetic, rounded down, so
       the same inputs give the same points everywhere. */
    int pts = 0;
    if (in->outstanding_minor > 0 && in->overdue_minor > 0) {
        int64_t o = in->overdue_minor > in->outstanding_minor ? in->outstanding_minor : in->overdue_minor;
        pts = (int) ((__int128) o * p->overdue_ratio_max / in->outstanding_minor);
    }
    s_factor(out, "overdue_ratio", -pts, "%" PRId64 " of %" PRId64 " %s overdue",
             in->overdue_minor, in->outstanding_minor, in->currency);

    int d = in->oldest_overdue_days;
    pts = d <= 0 ? 0 : d <= 30 ? p->age_1_30 : d <= 60 ? p->age_31_60 : d <= 90 ? p->age_61_90
        : p->age_over_90;
    s_factor(out, "oldest_overdue", -pts, "oldest overdue invoice %d days past due", d > 0 ? d : 0);

    pts = 0;
    if (in->paid_count > 0) {
        double v = in->ew_days_late * p->days_late_per_day;
        pts = v >= p->days_late_max ? p->days_late_max : (int) floor(v);
    }
    s_factor(out, "days_late", -pts, "%d of %d invoices paid late, weighted average %.1f days late",
             in->late_count, in->paid_count, in->ew_days_late);

    s_factor(out, "broken_promises", -s_capped(in->broken_promises, p->broken_promise,
                                               p->broken_promise_max),
             "%d promises broken", in->broken_promises);
    s_factor(out, "missed_instalments", -s_capped(in->missed_instalments, p->missed_instalment,
                                                  p->missed_instalment_max),
             "%d instalments missed", in->missed_instalments);
    s_factor(out, "open_disputes", -s_capped(in->open_disputes, p->open_dispute, p->open_dispute_max),
             "%d disputes open", in->open_disputes);
    s_factor(out, "active_plans", -s_capped(in->active_plans, p->active_plan, p->active_plan_max),
             "%d payment plans running", in->active_plans);

    pts = 0;
    if (in->credit_limit_minor > 0) {
        if (in->outstanding_minor > in->credit_limit_minor)
            pts = p->limit_over;
        else if ((__int128) in->outstanding_minor * 100
                 >= (__int128) in->credit_limit_minor * p->limit_near_pct)
            pts = p->limit_near;
        s_factor(out, "credit_limit_use", -pts, "%" PRId64 " of limit %" PRId64 " %s used",
                 in->outstanding_minor, in->credit_limit_minor, in->currency);
    }
    else
        s_factor(out, "credit_limit_use", 0, "no credit limit set");

    if (in->has_figures)
        s_factor(out, "liquidity", risk_liquidity_below_1(in) ? -p->liquidity_below_1 : 0,
                 "current assets %" PRId64 " / liabilities %" PRId64, in->current_assets_minor,
                 in->current_liabilities_minor);
    else
        s_factor(out, "liquidity", 0, "no financial figures");

    int sum = 0;
    for (int i = 0; i < out->nfactors; i++)
        sum += out->factors[i].points;
    /* The score stays in 0..1000; what is cut off is a factor too, so the
       contributions still add up to the score. */
    if (sum < 0) {
        s_factor(out, "floor", -sum, "score cannot go below 0");
        sum = 0;
    }
    else if (sum > 1000) {
        s_factor(out, "ceiling", 1000 - sum, "score cannot go above 1000");
        sum = 1000;
    }
    out->score = sum;
    out->grade = risk_grade_for(sum, p);
}
