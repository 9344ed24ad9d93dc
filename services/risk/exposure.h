/*  exposure: risk's consumer of the "ledger" stream.

    For each envelope, inside the consumer's transaction: the changes from
    delta.c are added to risk_debtor_state (one upsert per debtor and
    currency), and the new values are remembered in a "touched" set for the
    transaction. After the commit the touched debtors are written to Redis
    in one pipeline; after a rollback they are forgotten (PostgreSQL has
    nothing of them, and the events come again from event_log).

    A malformed event (which our own producers should never write) is
    logged with its field and reason, counted in
    creance_risk_invalid_events_total{reason}, and skipped: it changes
    nothing, and the stream does not stall behind it. */
#ifndef CREANCE_RISK_EXPOSURE_H
#define CREANCE_RISK_EXPOSURE_H

#include "consumer.h"
#include "riskcache.h"

typedef struct risk_exposure_t risk_exposure_t;

risk_exposure_t *risk_exposure_new(risk_cache_t *cache);
void        risk_exposure_destroy(risk_exposure_t **self_p);

/*  consumer_config_t callbacks; `arg` is the risk_exposure_t. */
int         risk_exposure_apply(db_t *db, const Creance__Envelope *env, void *arg);
void        risk_exposure_committed(void *arg);
void        risk_exposure_aborted(void *arg);

/*  Debtors touched by the open transaction (tests, diagnostics). */
size_t      risk_exposure_touched(const risk_exposure_t *self);

#endif
