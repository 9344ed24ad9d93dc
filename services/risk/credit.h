/*  credit: "may this debtor take N more?" -> approve / review / refuse,
    with every reason that applies (pure, no I/O).

    Rules, each giving a reason "code: words" (the code first, so clients
    can match on it):
      over_credit_limit      outstanding + amount > credit limit    refuse
      overdue_beyond_limit   oldest overdue > policy days           refuse
      grade_e                the debtor is graded E                 refuse
      unpaid_invoices        overdue invoices still unpaid while
                             new work is asked for                  review
      liquidity_below_1      current assets < current liabilities   review
    No reason: approve. The decision is the most severe reason's. */
#ifndef CREANCE_RISK_CREDIT_H
#define CREANCE_RISK_CREDIT_H

#include "scorecard.h"

#define RISK_CREDIT_REASONS_MAX 6

typedef enum {
    RISK_CREDIT_APPROVE = 1,        /* = creance.CreditDecision values */
    RISK_CREDIT_REVIEW = 2,
    RISK_CREDIT_REFUSE = 3,
} risk_credit_decision_t;

typedef struct {
    risk_credit_decision_t decision;
    int nreasons;
    char reasons[RISK_CREDIT_REASONS_MAX][160];
} risk_credit_t;

/*  `in` is the debtor's state, `grade` its current grade, `amount_minor`
    the new exposure asked for (in in->currency, >= 0). */
void risk_credit_check(const risk_inputs_t *in, char grade, int64_t amount_minor,
                       const risk_policy_t *p, risk_credit_t *out);

#endif
