/*  eventlog: the producer's side of the durable stream (DESIGN.md).

    Inside the producer's transaction:
        eventlog_add(batch, &env)    for each event (encoded at once)
        eventlog_flush(batch, db)    reserves sequence numbers per
                                     (tenant, stream) and inserts the rows
    then, after COMMIT:
        eventlog_publish(batch, bus) publishes with their sequence
    or, after ROLLBACK:
        eventlog_reset(batch)        forgets them.

    Sequence numbers come from an UPDATE of streams.last_seq: its row lock is
    held until commit, so another writer to the same stream waits, and
    sequence order is commit order. */
#ifndef CREANCE_EVENTLOG_H
#define CREANCE_EVENTLOG_H

#include "bus.h"
#include "db.h"
#include "creance.pb-c.h"

typedef struct eventlog_batch_t eventlog_batch_t;

eventlog_batch_t *eventlog_batch_new(void);
void   eventlog_batch_destroy(eventlog_batch_t **self_p);
/*  Encodes `env` (header filled by envelope_init; seq is set at flush). */
int    eventlog_add(eventlog_batch_t *self, const Creance__Envelope *env);
size_t eventlog_count(const eventlog_batch_t *self);
/*  Inside an open transaction. 0 on success, -1 on a database error. */
int    eventlog_flush(eventlog_batch_t *self, db_t *db);
/*  After commit. Returns the number of envelopes published. */
int    eventlog_publish(eventlog_batch_t *self, bus_t *bus);
void   eventlog_reset(eventlog_batch_t *self);

#endif
