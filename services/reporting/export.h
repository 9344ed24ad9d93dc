/*  export: everything Créance holds about one debtor, as one JSON document
    (GDPR art. 15 access, art. 20 portability), for
    GET /api/v1/debtors/{id}/export and `creance debtor export ID`.

    {"tenant","debtor_id","generated_at",
     "debtor":{...the debtors row: identity, contact, address, terms...},
     "invoices":[...], "invoice_adjustments":[...], "credit_notes":[...],
     "payments":[...], "allocations":[...], "write_offs":[...],
     "disputes":[...], "payment_plans":[{... "instalments":[...]}],
     "promises":[...],
     "reminders":[{"reminder":{...},"items":[...],"deliveries":[{channel,
        recipient, subject, content as sent, status, sent_at...}],"fees":[...]}],
     "worklist":[...], "optouts":[...],
     "risk":{"profile":{...},"score_history":[{score, grade, factors...}],
             "predictions":[...]},
     "erasure":{...}|null,
     "events":[{"stream","seq","type","occurred_at","envelope":{...}}]}

    Rows are the tables' own rows (row_to_json): every column, amounts in
    minor units with their currency, dates ISO. Every statement is scoped
    to the token's tenant: another tenant's debtor is "not found". The
    events are found by decoding the tenant's event_log page by page (an
    envelope names its debtor inside the protobuf), which reads the whole
    stream: an export is occasional, not a query to poll. */
#ifndef CREANCE_REPORTING_EXPORT_H
#define CREANCE_REPORTING_EXPORT_H

#include <jansson.h>
#include <stdint.h>
#include "db.h"

/*  *out gets the document (caller json_decref's). Returns 0, 1 when the
    tenant has no such debtor, -1 on a database error. */
int rpt_export_debtor(db_t *db, const char *tenant, int64_t debtor_id, json_t **out);

#endif
