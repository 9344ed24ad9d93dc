/*  erase: a debtor's personal data erased by pseudonymisation (GDPR art. 17),
    the accounting kept (French law keeps accounting records 10 years).

    One transaction, started and committed here:
      1. the debtor's row is locked (a second erasure waits, then finds it
         done: erasing twice changes nothing and answers "already erased");
      2. while the debtor is still being collected (an open invoice, an
         open dispute, an active plan or an open promise) the erasure is
         refused, 409 with what is open, unless `force`;
      3. every copy of the personal data (see 0070_gdpr.sql for the list)
         is replaced: legal_name by the pseudonym "erased-<id>", company id,
         e-mail, phone, address, free-text reasons, delivered reminders'
         recipient, subject and content, worklist notes by "" (NULL has no
         place in those NOT NULL columns); intake's content hash of the
         debtor fact by the pseudonym's; pending deliveries and reminders
         fail ("debtor erased"), open worklist tasks are closed; letters'
         PDF files are queued for reminders to delete (gdpr_file_purges);
      4. the debtor's past envelopes in event_log are decoded, blanked and
         encoded again (gdprblank.h) so that no catch-up brings it back;
      5. a DebtorErased event is appended to the "ledger" stream (eventlog:
         its sequence number follows commit order like intake's) and
         gdpr_erasures records what was done, without personal data;
    then, after COMMIT, DebtorErased is published. Each consumer blanks its
    own copy again when it applies DebtorErased (a copy written from an
    older event just before the erasure committed); reminders never sends
    to an erased debtor again.

    Amounts, dates, invoice numbers, external ids (the billing system's
    reference, needed to match its later payments) and ids are kept: the
    ledger totals and every KPI are the same before and after. */
#ifndef CREANCE_REPORTING_ERASE_H
#define CREANCE_REPORTING_ERASE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "bus.h"
#include "db.h"

/*  What keeps a debtor in collection. */
typedef struct {
    int64_t open_invoices;
    char open_amounts[200];         /* "1500.00 EUR, 20.00 USD" */
    int64_t open_disputes;
    int64_t active_plans;
    int64_t open_promises;
} rpt_erase_open_t;

typedef struct {
    int status;                     /* HTTP: 200, 404, 409, 503 */
    bool already;                   /* erased before: nothing done */
    char field[32];                 /* on refusal */
    char reason[400];
    char pseudonym[32];
    char erased_at[32];             /* ISO 8601 UTC */
    rpt_erase_open_t open;
    long long rows_changed;         /* table rows rewritten */
    long long events_rewritten;     /* event_log envelopes rewritten */
    long long files_queued;         /* outbox files queued for deletion */
} rpt_erase_result_t;

/*  Pure. True when `open` keeps the debtor in collection; `out` then says
    what, in words, for the 409. */
bool rpt_erase_refusal(const rpt_erase_open_t *open, int64_t debtor_id, char *out, size_t len);

/*  Erases `debtor_id` of `tenant` (`trigger` "request" or "retention").
    `bus` may be NULL (consumers then find DebtorErased on their catch-up
    tick). Returns 0 with res->status set, or -1 on a database error
    (rolled back, res->status 503). */
int rpt_erase_debtor(db_t *db, bus_t *bus, const char *tenant, int64_t debtor_id, bool force,
                     const char *trigger, rpt_erase_result_t *res);

#endif
