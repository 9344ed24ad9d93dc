/*  credit: the credit check's rules (pure). */
#include "credit.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static void
s_reason(risk_credit_t *out, risk_credit_decision_t severity, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
s_reason(risk_credit_t *out, risk_credit_decision_t severity, const char *fmt, ...)
{
    if (severity > out->decision)
        out->decision = severity;
    if (out->nreasons == RISK_CREDIT_REASONS_MAX)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out->reasons[out->nreasons++], sizeof out->reasons[0], fmt, ap);
    va_end(ap);
}

void
risk_credit_check(const risk_inputs_t *in, char grade, int64_t amount_minor,
                  const risk_policy_t *p, risk_credit_t *out)
{
    memset(out, 0, sizeof *out);
    out->decision = RISK_CREDIT_APPROVE;
    int64_t after = in->outstanding_minor + amount_minor;
    if (in->credit_limit_minor > 0 && after > in->credit_limit_minor)
        s_reason(out, RISK_CREDIT_REFUSE,
                 "over_credit_limit: outstanding %" PRId64 " + %" PRId64 " = %" PRId64
                 " %s exceeds the credit limit %" PRId64, in->outstanding_minor, amount_minor,
                 after, in->currency, in->credit_limit_minor);
    if (in->overdue_minor > 0 && in->oldest_overdue_days > p->credit_overdue_days)
        s_reason(out, RISK_CREDIT_REFUSE,
                 "overdue_beyond_limit: an invoice is %d days overdue (limit %d days)",
                 in->oldest_overdue_days, p->credit_overdue_days);
    if (grade == 'E')
        s_reason(out, RISK_CREDIT_REFUSE, "grade_e: the debtor is graded E");
    if (in->overdue_minor > 0)
        s_reason(out, RISK_CREDIT_REVIEW,
                 "unpaid_invoices: %" PRId64 " %s overdue and unpaid; no new service while "
                 "earlier invoices are unpaid", in->overdue_minor, in->currency);
    if (risk_liquidity_below_1(in))
        s_reason(out, RISK_CREDIT_REVIEW,
                 "liquidity_below_1: current assets %" PRId64 " < current liabilities %" PRId64,
                 in->current_assets_minor, in->current_liabilities_minor);
}
