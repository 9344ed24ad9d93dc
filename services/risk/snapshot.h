/*  snapshot: a debtor's scored state as one JSON text (pure).

    The same text is stored in risk_debtor_profile.snapshot and copied to
    the debtor's Redis hash (field "risk"), so that a rebuild after a flush
    writes identical bytes and a query needs one read. Shape:
      {"as_of":"2026-11-23","currency":"EUR","outstanding":1200,"overdue":200,
       "oldest_overdue_days":12,"open_invoices":2,"credit_limit":5000,
       "current_assets":null,"current_liabilities":null,"open_disputes":0,
       "active_plans":0,"active_promises":0,"broken_promises":0,
       "missed_instalments":0,"paid_invoices":3,"paid_late":1,
       "sum_delay_days":7,"avg_days_late":2.1,"p_late":0.31,
       "expected_delay_days":3.2,"score":912,"grade":"A",
       "factors":[{"name":"base","points":1000,"detail":"..."}, ...]} */
#ifndef CREANCE_RISK_SNAPSHOT_H
#define CREANCE_RISK_SNAPSHOT_H

#include "predict.h"
#include "scorecard.h"

/*  Returns a malloc'd JSON text, or NULL when out of memory. */
char *risk_snapshot_build(int32_t as_of, const risk_inputs_t *in, const risk_score_t *score,
                          const risk_prediction_t *pred);
/*  0, or -1 when the text is not a snapshot (missing or mistyped field). */
int   risk_snapshot_parse(const char *text, int32_t *as_of, risk_inputs_t *in, risk_score_t *score);

#endif
