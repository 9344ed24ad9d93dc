/*  intake: records batches of facts from billing systems.

    The reader hands over every request that is waiting (a burst); they are
    processed in ONE transaction. Consecutive new debtors, invoices or
    payments of a request form a run recorded by a few set-based statements
    (bulk.h); other items are recorded one by one, each under its own
    SAVEPOINT so that a database failure of one item (a race, a constraint)
    rejects only that item. If a run's statement fails, the burst is rolled
    back and redone with every item on its own. Replies are sent after COMMIT, then the events are published. If
    the transaction cannot commit, every request of the burst is answered
    "database: unavailable, resend the batch": the sender resends, and the
    idempotency registry (intake_items) makes the resend safe.

    Idempotency key: (tenant, source, kind, external_id), with the SHA-256
    of the item's protobuf encoding. Same key and hash: DUPLICATE with the
    first result's id. Same key, other hash: REJECTED as a conflict, except
    for debtors, where it is a master-data update. */
#ifndef INTAKE_INTAKE_H
#define INTAKE_INTAKE_H

#include <czmq.h>
#include "bus.h"
#include "db.h"
#include "partition.h"
#include "validate.h"
#include "creance.pb-c.h"

/*  A burst is bounded so that one transaction stays short. */
#define INTAKE_BURST_REQUESTS 64
#define INTAKE_BURST_ITEMS    20000

/*  One IntakeBatch request and, once processed, its reply. */
typedef struct {
    zmsg_t *route;                  /* routing frames and the empty delimiter */
    Creance__IntakeBatch *batch;    /* decoded request, owned */
    int64_t received_us;
    char *error;                    /* whole-batch error, or NULL */
    const char *error_key;          /* its metric reason */
    bool in_transaction;            /* its outcome depends on the commit */
    Creance__ItemResult *results;   /* one per item */
    Creance__ItemResult **result_ptrs;
    const char **reject_keys;       /* per item: metric reason when rejected */
    /* Optional, per item: an error found before the item could be built
       (e.g. a JSON item of the wrong shape); key NULL when none. Not owned. */
    const intake_error_t *item_errors;
    int accepted, duplicates, rejected;
} intake_request_t;

/*  Takes ownership of `route` and `batch`. */
intake_request_t *intake_request_new(zmsg_t *route, Creance__IntakeBatch *batch);
void intake_request_destroy(intake_request_t **self_p);
/*  Encodes the reply (batch_id, results or the whole-batch error). */
zframe_t *intake_request_reply(const intake_request_t *self);

typedef struct intake_t intake_t;

intake_t *intake_new(db_t *db, long max_batch);
void      intake_destroy(intake_t **self_p);
void      intake_set_max_batch(intake_t *self, long max_batch);

/*  Runs of new debtors, invoices and payments recorded set-based (bulk.h;
    on by default) or every item on its own. */
void      intake_set_bulk(intake_t *self, bool on);
/*  CREANCE_INTAKE_PARTITION (route.h); default 0/1 records every debtor. */
void      intake_set_partition(intake_t *self, const partition_t *part);

/*  Processes the burst in one transaction and fills every request's reply.
    Returns 0 when committed (or nothing to commit), -1 when the database
    was unavailable (the replies say so). */
int       intake_process(intake_t *self, intake_request_t **reqs, size_t n);
/*  After the replies went out: metrics and the batch's log line. */
void      intake_request_done(intake_t *self, const intake_request_t *req);
/*  Publishes the events of the last committed burst; returns how many. */
int       intake_publish(intake_t *self, bus_t *bus);

/*  For the health check. */
db_t     *intake_db(intake_t *self);

#endif
