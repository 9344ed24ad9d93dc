/*  exposure: risk's consumer of the "ledger" stream.

    For each envelope, inside the consumer's transaction, the changes from
    delta.c are summed per (debtor, currency) in memory and the event goes
    on to scoring.c. Just before the commit (precommit) the sums are added
    to risk_debtor_state in one statement, then scoring rescores every
    touched debtor; after the commit scoring writes their complete Redis
    hashes in one pipeline; after a rollback everything is forgotten
    (PostgreSQL has nothing of it, and the events come again from
    event_log). Without scoring (NULL), each change is upserted at once and
    the exposure fields alone are written to Redis.

    A malformed event (which our own producers should never write) is
    logged with its field and reason, counted in
    creance_risk_invalid_events_total{reason}, and skipped: it changes
    nothing, and the stream does not stall behind it. */
#ifndef CREANCE_RISK_EXPOSURE_H
#define CREANCE_RISK_EXPOSURE_H

#include "consumer.h"
#include "riskcache.h"
#include "scoring.h"

typedef struct risk_exposure_t risk_exposure_t;

/*  scoring may be NULL: exposure only. With it, every event also goes to
    risk_scoring_apply, and the transaction's precommit / committed /
    aborted are passed on (scoring.h). */
risk_exposure_t *risk_exposure_new(risk_cache_t *cache, risk_scoring_t *scoring);
/*  Partitioned risk (route.h): events of debtors outside `part` are
    skipped without effect (the consumer still advances its position past
    them). Default 0/1: every event. */
void risk_exposure_set_partition(risk_exposure_t *self, const partition_t *part);
void        risk_exposure_destroy(risk_exposure_t **self_p);

/*  consumer_config_t callbacks; `arg` is the risk_exposure_t. */
int         risk_exposure_apply(db_t *db, const Creance__Envelope *env, void *arg);
int         risk_exposure_precommit(db_t *db, void *arg);
void        risk_exposure_committed(void *arg);
void        risk_exposure_aborted(void *arg);

/*  Debtors touched by the open transaction (tests, diagnostics). */
size_t      risk_exposure_touched(const risk_exposure_t *self);

#endif
