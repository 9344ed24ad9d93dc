/*  scorecard: a debtor's behaviour -> score 0..1000, grade A..E, and the
    factors that explain it (pure, no I/O).

    The score is `base` minus integer penalties, one factor per line of the
    card; every factor is reported with its points, so the contributions
    always sum exactly to the score (a "floor" factor gives back what went
    below 0). Weights and thresholds come from a policy (risk_policies, one
    row per tenant, '*' for the defaults); risk_policy_defaults() gives the
    same values as the migration's defaults row. */
#ifndef CREANCE_RISK_SCORECARD_H
#define CREANCE_RISK_SCORECARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    int base;
    int overdue_ratio_max;
    int age_1_30, age_31_60, age_61_90, age_over_90;
    int days_late_per_day, days_late_max;
    int broken_promise, broken_promise_max;
    int missed_instalment, missed_instalment_max;
    int open_dispute, open_dispute_max;
    int active_plan, active_plan_max;
    int limit_over, limit_near, limit_near_pct;
    int liquidity_below_1;
    int grade_a, grade_b, grade_c, grade_d;
    int credit_overdue_days;
    int shrink_k;
    int ew_alpha_pct;
} risk_policy_t;

/*  The policy's columns, in order, with their offsets (table-driven load). */
typedef struct {
    const char *column;
    size_t offset;
} risk_policy_column_t;
extern const risk_policy_column_t risk_policy_columns[];
extern const size_t risk_policy_ncolumns;

void risk_policy_defaults(risk_policy_t *p);

/*  What the scorecard looks at, in the debtor's main currency. */
typedef struct {
    char currency[4];
    int64_t outstanding_minor;
    int64_t overdue_minor;
    int32_t oldest_overdue_days;        /* 0 when nothing is overdue */
    int32_t open_invoices;
    int64_t credit_limit_minor;         /* 0: no limit set */
    bool has_figures;                   /* assets and liabilities supplied */
    int64_t current_assets_minor, current_liabilities_minor;
    int32_t open_disputes, active_plans, active_promises;
    int32_t broken_promises, missed_instalments;
    int32_t paid_count, late_count;
    int64_t sum_delay_days;
    double ew_days_late;                /* exponentially weighted, recent first */
} risk_inputs_t;

#define RISK_FACTOR_MAX 12

typedef struct {
    char name[32];
    int points;                         /* + for base, - for penalties */
    char detail[96];
} risk_factor_t;

typedef struct {
    int score;
    char grade;                         /* 'A'..'E' */
    int nfactors;
    risk_factor_t factors[RISK_FACTOR_MAX];
} risk_score_t;

void risk_score_compute(const risk_inputs_t *in, const risk_policy_t *p, risk_score_t *out);
char risk_grade_for(int score, const risk_policy_t *p);

/*  True when the liquidity ratio (assets / liabilities) is known and below 1. */
bool risk_liquidity_below_1(const risk_inputs_t *in);

/*  The exponentially weighted average of days late after one more invoice
    closed `days_late` (>= 0) days late; `paid_before` closed before it. */
double risk_ew_update(double ew, int32_t paid_before, int32_t days_late, int alpha_pct);

#endif
