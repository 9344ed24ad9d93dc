/*  predict: when will an open invoice be paid? (pure, no I/O)

    From the debtor's own history of closed invoices, shrunk toward the
    tenant's population when the history is short: with k pseudo-
    observations of the population (policy shrink_k, default 5),
        p_late = (late + k * p0) / (paid + k)
        delay  = (sum_delay + k * m0) / (paid + k)
    where p0 = (pop_late + 1) / (pop_paid + 2) (never exactly 0 or 1, even
    for an empty population) and m0 = pop_sum_delay / pop_paid (0 when
    nothing was paid yet). delay is days after the due date (negative:
    early). The expected payment date is due + round(delay), never before
    the day of the prediction.

    The backtest replays invoices in time order: on each invoice's issue
    day it predicts from payments received strictly before that day (no
    peeking), then scores the predictions against what happened, beside a
    naive baseline (everyone pays at the population's average delay, the
    same probability of lateness for all: AUC 0.5 by construction). */
#ifndef CREANCE_RISK_PREDICT_H
#define CREANCE_RISK_PREDICT_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    int64_t paid;                   /* invoices closed by payment */
    int64_t late;                   /* of which after their due date */
    int64_t sum_delay;              /* sum of (paid date - due date), signed */
} risk_history_t;

typedef struct {
    double p_late;
    double delay_days;
} risk_prediction_t;

void    risk_predict(const risk_history_t *debtor, const risk_history_t *population, int k,
                     risk_prediction_t *out);
/*  due + round(delay), but not before as_of. */
int32_t risk_expected_date(int32_t due, double delay_days, int32_t as_of);
/*  Adds one closed invoice to a history. */
void    risk_history_add(risk_history_t *h, int32_t due, int32_t paid);

/* ---------------------------------------------------------------- backtest */

typedef struct {
    int64_t invoice_id;
    int64_t debtor_id;
    int32_t issue_date, due_date;
    int32_t paid_date;              /* < 0: not paid (yet) */
} risk_bt_invoice_t;

typedef struct {                    /* per invoice, in input order */
    double p_late, baseline_p_late;
    int32_t predicted_date, baseline_date;
} risk_bt_prediction_t;

typedef struct {
    size_t invoices;                /* all invoices replayed */
    size_t evaluated;               /* with a known outcome (paid) */
    size_t late;                    /* of those, paid late */
    double auc, baseline_auc;       /* "paid late" */
    double mae_days, baseline_mae_days;
} risk_bt_result_t;

/*  `preds` (may be NULL) receives one prediction per invoice. Returns 0, or
    -1 when out of memory. */
int     risk_backtest(const risk_bt_invoice_t *inv, size_t n, int k,
                      risk_bt_prediction_t *preds, risk_bt_result_t *out);

/*  Area under the ROC curve of `score` for `label` (ties count half);
    0.5 when one class is empty. */
double  risk_auc(const double *score, const int *label, size_t n);

#endif
