/*  retention: the retention periods of personal data, per tenant, and the
    pass that applies them (gdpr_retention, 0070_gdpr.sql).

    The pass, for each tenant, with the tenant's periods (or the default
    row's):
      1. debtors with nothing open (no open invoice, dispute, active plan or
         open promise) whose last activity is older than
         personal_data_years are erased like an erasure request
         (erase.h, trigger "retention"), at most `batch` per tenant and run.
         Last activity: the latest of the debtor's creation and update in
         Créance and the dates of its ledger facts (invoice issued, due,
         paid or cancelled, payment received or reversed, credit note,
         write-off, dispute opened or resolved, plan agreed or ended,
         promise made for or resolved). Créance's own creation counts so
         that an import of old history is not erased the day it arrives.
      2. stripe_events rows older than raw_payload_days are deleted.
      3. delivered (or failed) reminders older than reminder_content_days
         lose their recipient, subject and content (content_purged_at is
         set), their letters' PDF files are queued for reminders to delete,
         and done worklist tasks as old lose their phone and note.
    Each batch is its own short transaction (at most `batch` debtors, 1000
    rows), so the pass never holds locks long; what is left is done by the
    next run. Reporting runs it on a timer (once a day) and on demand
    (POST /admin/v1/retention/run, `creance admin retention run`).
    Counted in creance_gdpr_erasures_total{trigger="retention"} and
    creance_gdpr_purged_rows_total{what}. */
#ifndef CREANCE_REPORTING_RETENTION_H
#define CREANCE_REPORTING_RETENTION_H

#include <jansson.h>
#include <stdbool.h>
#include "bus.h"
#include "db.h"

typedef struct {
    int personal_data_years;
    int raw_payload_days;
    int reminder_content_days;
} rpt_retention_t;

typedef struct {
    long long tenants;
    long long debtors_erased;
    long long tenants_with_more;         /* tenants with candidates left for the next run */
    long long stripe_events_deleted;
    long long reminder_contents_purged;
    long long worklist_notes_purged;
    long long files_queued;
} rpt_retention_stats_t;

/*  Pure. NULL when `r` is acceptable, else the reason, with *field set to
    the offending field's name. Bounds are the table's CHECKs. */
const char *rpt_retention_invalid(const rpt_retention_t *r, const char **field);

/*  The periods of `tenant` (NULL: the default); *own says whether the
    tenant has its own row. 0, or -1 on a database error. */
int rpt_retention_get(db_t *db, const char *tenant, rpt_retention_t *r, bool *own);
/*  Sets them (NULL tenant: the default). 0, or -1. */
int rpt_retention_set(db_t *db, const char *tenant, const rpt_retention_t *r);

/*  Runs the pass over every tenant (or only `tenant` when not NULL).
    0, or -1 on a database error (what was done stays done). */
int rpt_retention_run(db_t *db, bus_t *bus, const char *tenant, int batch,
                      rpt_retention_stats_t *st);

json_t *rpt_retention_json(const rpt_retention_t *r);
json_t *rpt_retention_stats_json(const rpt_retention_stats_t *st);

#endif
