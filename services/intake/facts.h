/*  facts: recording one validated intake item in the ledger.

    One handler per kind of fact, found through a table on the item's
    fact_case. A handler runs inside the burst's transaction, under the
    item's SAVEPOINT, and always in this order:
        1. its SQL (rows of the ledger);
        2. intake_fact_register: the idempotency row in intake_items;
        3. its events, through eventlog_add.
    Events come last because eventlog_add cannot be undone: a handler that
    fails at 1 or 2 has emitted nothing, and the caller rolls back to the
    savepoint. */
#ifndef INTAKE_FACTS_H
#define INTAKE_FACTS_H

#include "db.h"
#include "eventlog.h"
#include "validate.h"
#include "creance.pb-c.h"

typedef struct {
    db_t *db;
    eventlog_batch_t *events;
    const char *tenant;
    const char *source;
    const char *kind;               /* idempotency kind, e.g. "invoice" */
    const char *external_id;
    const uint8_t *encoded;         /* the item's protobuf encoding (hashed) */
    size_t encoded_len;
    bool update;                    /* debtor known under this key, other content */
} fact_ctx_t;

typedef enum {
    FACT_RECORDED = 0,              /* *id set, events added */
    FACT_REJECTED = 1,              /* err set; nothing written that matters */
    FACT_DB_ERROR = -1              /* a statement failed: see db_last_sqlstate */
} fact_rc_t;

typedef fact_rc_t (fact_record_fn)(fact_ctx_t *ctx, const Creance__IntakeItem *item,
                                   int64_t *id, intake_error_t *err);

typedef struct {
    Creance__IntakeItem__FactCase fact_case;
    const char *name;
    fact_record_fn *record;
} fact_handler_t;

/*  NULL for an item with no fact. */
const fact_handler_t *intake_fact_handler(Creance__IntakeItem__FactCase fact_case);

/*  Step 2 of every handler: inserts the intake_items row (or, for a debtor
    update, replaces its content hash). 0 or -1. */
int intake_fact_register(fact_ctx_t *ctx, int64_t id);

#endif
