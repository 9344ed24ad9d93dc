/*  predict: shrunk payment predictions and their backtest (pure). */
#include "predict.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void
risk_predict(const risk_history_t *debtor, const risk_history_t *population, int k,
             risk_prediction_t *out)
{
    if (k < 0)
        k = 0;
    double p0 = (population->late + 1.0) / (population->paid + 2.0);
    double m0 = population->paid > 0 ? (double) population->sum_delay / population->paid : 0.0;
    double w = (double) debtor->paid + k;
    if (w <= 0) {
        out->p_late = p0;
        out->delay_days = m0;
        return;
    }
    out->p_late = (debtor->late + k * p0) / w;
    out->delay_days = (debtor->sum_delay + k * m0) / w;
}

int32_t
risk_expected_date(int32_t due, double delay_days, int32_t as_of)
{
    int32_t d = due + (int32_t) lround(delay_days);
    return d < as_of ? as_of : d;
}

void
risk_history_add(risk_history_t *h, int32_t due, int32_t paid)
{
    h->paid++;
    if (paid > due)
        h->late++;
    h->sum_delay += paid - due;
}

/* ---------------------------------------------------------------- backtest */

typedef struct {
    int32_t date;
    int kind;                       /* 0 issue (predict), 1 payment: issue first on a tie */
    size_t index;
} step_t;

static int
s_step_cmp(const void *a, const void *b)
{
    const step_t *x = a, *y = b;
    if (x->date != y->date)
        return x->date < y->date ? -1 : 1;
    if (x->kind != y->kind)
        return x->kind - y->kind;
    return x->index < y->index ? -1 : x->index > y->index;
}

static int
s_id_cmp(const void *a, const void *b)
{
    int64_t x = *(const int64_t *) a, y = *(const int64_t *) b;
    return x < y ? -1 : x > y;
}

typedef struct {
    double score;
    int label;
} pair_t;

static int
s_pair_cmp(const void *a, const void *b)
{
    double x = ((const pair_t *) a)->score, y = ((const pair_t *) b)->score;
    return x < y ? -1 : x > y;
}

double
risk_auc(const double *score, const int *label, size_t n)
{
    pair_t *p = malloc((n ? n : 1) * sizeof *p);
    if (!p)
        return NAN;
    size_t pos = 0;
    for (size_t i = 0; i < n; i++) {
        p[i].score = score[i];
        p[i].label = label[i] != 0;
        pos += p[i].label;
    }
    size_t neg = n - pos;
    if (pos == 0 || neg == 0) {
        free(p);
        return 0.5;
    }
    qsort(p, n, sizeof *p, s_pair_cmp);
    /* Mann-Whitney U: sum of the positives' ranks, ties get their mean rank. */
    double rank_sum = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && p[j].score == p[i].score)
            j++;
        double mean_rank = (i + 1 + j) / 2.0;      /* ranks i+1 .. j */
        for (size_t t = i; t < j; t++)
            if (p[t].label)
                rank_sum += mean_rank;
        i = j;
    }
    free(p);
    double u = rank_sum - (double) pos * (pos + 1) / 2.0;
    return u / ((double) pos * neg);
}

int
risk_backtest(const risk_bt_invoice_t *inv, size_t n, int k, risk_bt_prediction_t *preds,
              risk_bt_result_t *out)
{
    memset(out, 0, sizeof *out);
    out->invoices = n;
    int rc = -1;
    step_t *steps = malloc((2 * n + 1) * sizeof *steps);
    int64_t *ids = malloc((n + 1) * sizeof *ids);
    risk_history_t *hist = NULL;
    size_t m = 0;
    risk_bt_prediction_t *own = preds ? NULL : malloc((n + 1) * sizeof *own);
    double *score = calloc(n + 1, sizeof *score), *base = calloc(n + 1, sizeof *base);
    int *label = calloc(n + 1, sizeof *label);
    if (!steps || !ids || (!preds && !own) || !score || !base || !label)
        goto done;
    if (!preds)
        preds = own;

    /* Debtors: sorted ids, history by position. */
    for (size_t i = 0; i < n; i++)
        ids[i] = inv[i].debtor_id;
    qsort(ids, n, sizeof *ids, s_id_cmp);
    size_t nd = 0;
    for (size_t i = 0; i < n; i++)
        if (nd == 0 || ids[nd - 1] != ids[i])
            ids[nd++] = ids[i];
    hist = calloc(nd + 1, sizeof *hist);
    if (!hist)
        goto done;

    size_t ns = 0;
    for (size_t i = 0; i < n; i++) {
        steps[ns++] = (step_t) { inv[i].issue_date, 0, i };
        if (inv[i].paid_date >= 0)
            steps[ns++] = (step_t) { inv[i].paid_date, 1, i };
    }
    qsort(steps, ns, sizeof *steps, s_step_cmp);

    risk_history_t population = { 0, 0, 0 };
    for (size_t s = 0; s < ns; s++) {
        const risk_bt_invoice_t *v = &inv[steps[s].index];
        int64_t *at = bsearch(&v->debtor_id, ids, nd, sizeof *ids, s_id_cmp);
        risk_history_t *h = &hist[at - ids];
        if (steps[s].kind == 0) {
            /* Everything applied so far was received before this day. */
            risk_prediction_t p, b;
            risk_history_t none = { 0, 0, 0 };
            risk_predict(h, &population, k, &p);
            risk_predict(&none, &population, 0, &b);
            risk_bt_prediction_t *o = &preds[steps[s].index];
            o->p_late = p.p_late;
            o->predicted_date = risk_expected_date(v->due_date, p.delay_days, v->issue_date);
            o->baseline_p_late = b.p_late;
            o->baseline_date = risk_expected_date(v->due_date, b.delay_days, v->issue_date);
        }
        else {
            risk_history_add(h, v->due_date, v->paid_date);
            risk_history_add(&population, v->due_date, v->paid_date);
        }
    }

    double err = 0, berr = 0;
    for (size_t i = 0; i < n; i++) {
        if (inv[i].paid_date < 0)
            continue;
        score[m] = preds[i].p_late;
        base[m] = preds[i].baseline_p_late;
        label[m] = inv[i].paid_date > inv[i].due_date;
        out->late += label[m];
        err += fabs((double) preds[i].predicted_date - inv[i].paid_date);
        berr += fabs((double) preds[i].baseline_date - inv[i].paid_date);
        m++;
    }
    out->evaluated = m;
    /* The baseline gives everyone the same probability on a given day;
       ranking by it would only reflect when invoices were issued, so its
       AUC is the constant predictor's. */
    (void) base;
    out->auc = risk_auc(score, label, m);
    out->baseline_auc = 0.5;
    out->mae_days = m ? err / m : 0;
    out->baseline_mae_days = m ? berr / m : 0;
    rc = 0;
done:
    free(steps);
    free(ids);
    free(hist);
    free(own);
    free(score);
    free(base);
    free(label);
    return rc;
}
