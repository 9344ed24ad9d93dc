/*  plans: the payment plans reminders holds, for people (`creance plan
    show`): each plan with its instalments and where each stands.

    GET /api/v1/plans?plan_id=N  or  ?debtor_id=N   "Authorization: Bearer <token>"
        200 {"tenant":"acme","as_of":"YYYY-MM-DD","plans":[{"plan_id":4,"debtor_id":12,
             "legal_name":"Dupont SARL","status":"active|missed|defaulted|completed",
             "agreed_date":"2024-04-01"|null,"invoice_ids":[..],
             "instalments":[{"number":1,"due_date":"2024-04-30","currency":"EUR",
               "amount_minor":5000,"status":"open|paid|missed","overdue":false}]}]}
            status of an instalment as intake's watcher decided it (InstalmentPaid,
            InstalmentMissed); "overdue": still open after its due date, not
            judged yet. Plans by plan id, at most 100 for a debtor.
        404 {"error":{"field":"plan_id",...}} when the tenant has no such plan
            (a debtor without plans: 200 with no plans)
        400 naming the parameter; 401 as every API; 503 database down.

    Only the token's tenant's plans (rem_plans, rem_plan_instalments, kept
    by pauses.c from the ledger). */
#ifndef CREANCE_REMINDERS_PLANS_H
#define CREANCE_REMINDERS_PLANS_H

#include "http.h"

/*  http_handler_fn; arg is the rem_api_t. */
void rem_plans_get(const http_request_t *req, http_response_t *res, void *arg);

#endif
