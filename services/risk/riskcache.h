/*  riskcache: risk's copy of debtor exposure in Redis (keys in debtor.h).

    Redis only ever copies risk_debtor_state and may lose everything at any
    moment (FLUSHALL, a restart without persistence). The marker key
    "creance:{risk}:built" holds the generation of the last complete rebuild:
    while it is there, every debtor's hash is complete; when it is missing,
    or a write failed since, risk_cache_check rebuilds every hash from
    PostgreSQL and sets the marker again.

    A flush during a rebuild must not leave a marker over half-written
    hashes: the rebuild first sets "creance:{risk}:rebuilding" to its
    generation, and at the end a Lua script sets the marker only if that key
    still holds it (a flush in between deleted it; the next tick retries).
    Both keys carry the hash tag {risk} so that the script's two keys are in
    one slot of a Redis Cluster.

    Partitioned (CREANCE_RISK_PARTITION=k/N, N > 1), an instance writes and
    rebuilds only the hashes of its own debtors, under its own pair of keys
    "creance:{risk.k-of-N}:built" / ":rebuilding": two instances never
    write one debtor's hash, so one cannot overwrite the other's fresher
    copy with an older read of PostgreSQL. */
#ifndef CREANCE_RISK_RISKCACHE_H
#define CREANCE_RISK_RISKCACHE_H

#include "cache.h"
#include "db.h"
#include "debtor.h"

#include "partition.h"

#define RISK_CACHE_MARKER      "creance:{risk}:built"
#define RISK_CACHE_REBUILDING  "creance:{risk}:rebuilding"

typedef struct risk_cache_t risk_cache_t;

risk_cache_t *risk_cache_new(cache_t *cache, db_t *db);
void risk_cache_destroy(risk_cache_t **self_p);
/*  Only the debtors of `part` are written and rebuilt; `name` (the
    consumer's, e.g. "risk.1-of-2") names the marker keys. */
void risk_cache_set_partition(risk_cache_t *self, const partition_t *part, const char *name);

/*  Writes the fields of each state in one pipeline. 0, or -1 when Redis
    failed (logged, counted in creance_risk_cache_errors_total, and a full
    rebuild is marked needed: PostgreSQL has the values) or when a rebuild
    is already pending (nothing written: the rebuild copies them). */
int  risk_cache_write(risk_cache_t *self, risk_debtor_t *const *states, size_t count);

/*  1 when the debtor's hash is there and complete (fills `out`), 0 on a
    miss, -1 when Redis is unavailable. */
int  risk_cache_read(risk_cache_t *self, const char *tenant, int64_t debtor_id, risk_debtor_t *out);

/*  Rebuilds all hashes if the marker is missing or a write failed.
    1 rebuilt, 0 nothing needed, -1 not possible now (retried on the next call). */
int  risk_cache_check(risk_cache_t *self);

/*  Forces a rebuild on the next check. */
void risk_cache_mark_stale(risk_cache_t *self);
bool risk_cache_stale(const risk_cache_t *self);

#endif
