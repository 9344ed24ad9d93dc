/*  segments: the two segments that change during an invoice's life, the
    debtor's risk grade and assigned collector (0042_reporting_segments.sql).

    Grade: from RiskScored on stream "risk" (every rescoring carries the
    grade; GradeChanged is not needed, and the first score has none).
    Collector: set by a person through the API
        PUT /api/v1/debtors/{id}/collector   {"collector":"alice"}
            ("" unassigns; 1..63 characters of letters, digits, ". _ @ -")
        200 {"tenant":..,"debtor_id":..,"collector":..,"previous":..}
        400 bad body, 404 no such debtor for the token's tenant, 401, 503.
    Each assignment is kept in rpt_collector_assignments.

    A change moves the open amounts of the debtor's invoices from the old
    segment to the new one, on the day of the change (not before an
    invoice's issue date): in rpt_open_due / rpt_open_moves (aging as of any
    day is by the segment of that day) and rpt_daily.transferred_minor (so
    receivables per segment follow); later facts of those invoices are
    counted in the new segment. */
#ifndef CREANCE_REPORTING_SEGMENTS_H
#define CREANCE_REPORTING_SEGMENTS_H

#include <stdbool.h>
#include <stdint.h>
#include "creance.pb-c.h"
#include "db.h"
#include "http.h"

/*  Pure: whether `name` is an acceptable collector name ("" included). */
bool rpt_collector_name_ok(const char *name);

/*  Inside a transaction: gives debtor_id the grade and collector (NULL:
    unchanged) on day d and moves its open amounts. *found is false when
    reporting does not know the debtor. 0 or -1 on a database error. */
int  rpt_segments_set(db_t *db, const char *tenant, int64_t debtor_id, const char *grade,
                      const char *collector, int32_t d, bool *found);

/*  Inside the consumer's transaction: RiskScored -> the debtor's grade. */
int  rpt_segments_apply(db_t *db, const Creance__Envelope *env, bool *unknown);

/*  http_handler_fn for PUT /api/v1/debtors/{id}/collector; arg is the rpt_api_t. */
void rpt_segments_assign(const http_request_t *req, http_response_t *res, void *arg);

#endif
