/*  consumer: the consuming side of the durable stream, effectively once.

    For each envelope of a subscribed stream, in sequence order per
    (tenant, stream): `apply` runs inside a transaction that also records
    consumer_positions.last_applied; an envelope at or below the position is
    a duplicate and skipped; a jump in sequence makes the consumer read what
    it missed from event_log first. At start and on a timer it compares its
    positions with streams.last_seq and catches up (the Clone pattern:
    subscribe first, catch up, then drop live duplicates), so a dropped
    message or a producer that died after commit and before publishing only
    delays an event, never loses it.

    Live messages are applied in batches (all that are waiting, up to 512)
    in one transaction. If `apply` fails or the commit fails, the whole
    transaction is rolled back, `aborted` is called, and the events are read
    again from event_log on the next tick. */
#ifndef CREANCE_CONSUMER_H
#define CREANCE_CONSUMER_H

#include <czmq.h>
#include "db.h"
#include "creance.pb-c.h"

/*  Inside the transaction. Return 0 when applied, -1 to roll back. */
typedef int  (consumer_apply_fn)(db_t *db, const Creance__Envelope *env, void *arg);
/*  After a commit (push derived state to Redis) or a rollback (forget it). */
typedef void (consumer_done_fn)(void *arg);
/*  Inside the transaction, after the batch's last apply and just before the
    positions are written (e.g. flush an eventlog batch of derived events).
    Return 0, or -1 to roll the whole transaction back. */
typedef int  (consumer_precommit_fn)(db_t *db, void *arg);

typedef struct {
    const char *name;                 /* consumer_positions.consumer */
    const char *const *streams;       /* NULL-terminated, e.g. {"ledger", NULL} */
    consumer_apply_fn *apply;
    consumer_precommit_fn *precommit; /* may be NULL */
    consumer_done_fn *committed;      /* may be NULL */
    consumer_done_fn *aborted;        /* may be NULL */
    void *arg;
    int poll_ms;                      /* catch-up tick; 0 means 500 */
} consumer_config_t;

typedef struct consumer_t consumer_t;

consumer_t *consumer_new(const consumer_config_t *cfg, db_t *db, const char *broker_sub);
void        consumer_destroy(consumer_t **self_p);
/*  Registers the socket reader and the catch-up timer on `loop`. */
int         consumer_attach(consumer_t *self, zloop_t *loop);
/*  Catch up every stream now; returns events applied or -1 on error. */
int         consumer_catch_up(consumer_t *self);
/*  True once a catch-up has found nothing behind (readiness). */
bool        consumer_caught_up(const consumer_t *self);
int64_t     consumer_applied(const consumer_t *self);

#endif
