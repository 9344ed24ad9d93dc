/*  exposure: ledger events -> risk_debtor_state -> Redis. */
#include "exposure.h"
#include "dates.h"
#include "delta.h"
#include "envelope.h"
#include "log.h"
#include "metrics.h"
#include "route.h"
#include "store.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct risk_exposure_t {
    risk_cache_t *cache;
    risk_scoring_t *scoring;
    /* With scoring: deltas summed per (tenant, debtor, currency) and
       written in one statement just before the commit. */
    zhashx_t *pending;              /* key -> pending_t* */
    zhashx_t *touched;              /* "tenant\x1fdebtor_id" -> risk_debtor_t*, this transaction */
    /* Counted only once the transaction commits, so a rollback and replay
       from event_log does not count an event twice. */
    int64_t *occurred;              /* occurred_at_us of events that touched a debtor */
    size_t noccurred, occurred_cap;
    const char **invalid;           /* reason codes of events refused */
    size_t ninvalid, invalid_cap;
    int64_t applied;
    partition_t part;
    metric_t *m_applied, *m_latency, *m_elsewhere;
};

typedef struct {
    char tenant[RISK_TENANT_MAX];
    int64_t debtor_id;
    char currency[4];
    int64_t outstanding;
    int64_t open;
    int64_t events;
} pending_t;

static void
s_pending_free(void **item)
{
    free(*item);
    *item = NULL;
}

static void
s_state_free(void **item)
{
    risk_debtor_destroy((risk_debtor_t **) item);
}

risk_exposure_t *
risk_exposure_new(risk_cache_t *cache, risk_scoring_t *scoring)
{
    risk_exposure_t *self = calloc(1, sizeof *self);
    self->cache = cache;
    self->scoring = scoring;
    self->touched = zhashx_new();
    zhashx_set_destructor(self->touched, s_state_free);
    self->pending = zhashx_new();
    zhashx_set_destructor(self->pending, s_pending_free);
    self->m_applied = metrics_counter("creance_risk_events_applied_total",
                                      "ledger events applied to debtor exposure (no-ops included)",
                                      NULL);
    self->part.index = 0;
    self->part.count = 1;
    self->m_elsewhere = metrics_counter("creance_risk_events_other_partition_total",
                                        "ledger events skipped: their debtor belongs to another "
                                        "risk instance (CREANCE_RISK_PARTITION)", NULL);
    self->m_latency = metrics_histogram("creance_risk_event_to_cache_seconds",
                                        "from an event's occurred_at to its debtor's Redis write",
                                        NULL);
    return self;
}

static void
s_reset(risk_exposure_t *self)
{
    zhashx_purge(self->touched);
    zhashx_purge(self->pending);
    self->noccurred = 0;
    self->ninvalid = 0;
    self->applied = 0;
}

void
risk_exposure_destroy(risk_exposure_t **self_p)
{
    risk_exposure_t *self = *self_p;
    if (!self)
        return;
    zhashx_destroy(&self->touched);
    zhashx_destroy(&self->pending);
    free(self->occurred);
    free(self->invalid);
    free(self);
    *self_p = NULL;
}

/*  Appends to a growable array; false when out of memory. */
static bool
s_grow(void **items, size_t *cap, size_t count, size_t size)
{
    if (count < *cap)
        return true;
    size_t n = *cap ? *cap * 2 : 64;
    void *p = realloc(*items, n * size);
    if (!p)
        return false;
    *items = p;
    *cap = n;
    return true;
}

static risk_debtor_t *
s_touch(risk_exposure_t *self, const char *tenant, int64_t debtor_id)
{
    char key[RISK_TENANT_MAX + 24];
    snprintf(key, sizeof key, "%s\x1f%" PRId64, tenant, debtor_id);
    risk_debtor_t *state = zhashx_lookup(self->touched, key);
    if (!state) {
        state = risk_debtor_new(tenant, debtor_id);
        if (state)
            zhashx_insert(self->touched, key, state);
    }
    return state;
}

/*  Adds a delta to the transaction's pending sums. */
static int
s_pend(risk_exposure_t *self, const char *tenant, const risk_delta_t *d)
{
    char key[RISK_TENANT_MAX + 32];
    snprintf(key, sizeof key, "%s\x1f%" PRId64 "\x1f%s", tenant, d->debtor_id, d->currency);
    pending_t *p = zhashx_lookup(self->pending, key);
    if (!p) {
        p = calloc(1, sizeof *p);
        if (!p)
            return -1;
        snprintf(p->tenant, sizeof p->tenant, "%s", tenant);
        p->debtor_id = d->debtor_id;
        memcpy(p->currency, d->currency, 4);
        zhashx_insert(self->pending, key, p);
    }
    if (__builtin_add_overflow(p->outstanding, d->outstanding_minor, &p->outstanding))
        return -1;
    p->open += d->open_invoices;
    p->events++;
    return 0;
}

void
risk_exposure_set_partition(risk_exposure_t *self, const partition_t *part)
{
    self->part = *part;
}

int
risk_exposure_apply(db_t *db, const Creance__Envelope *env, void *arg)
{
    risk_exposure_t *self = arg;
    /* Another instance applies it: one debtor's events all go to one
       instance, in stream order, so its rows have a single writer. This
       filter would sit better in the consumer (no decode-and-skip of the
       others' events in the apply loop), but the position must still move
       past them in the same transaction, which apply returning 0 gives. */
    if (!risk_route_owns(&self->part, env)) {
        metric_inc(self->m_elsewhere);
        return 0;
    }
    risk_delta_set_t set;
    risk_delta_result_t rc = risk_delta_from_envelope(env, &set);
    if (rc == RISK_DELTA_INVALID) {
        log_error("event refused, skipped tenant=%s stream=%s seq=%" PRId64 " event_id=%s type=%s "
                  "field=%s reason=\"%s\"", env->tenant, env->stream, env->seq, env->event_id,
                  envelope_type_name(env), set.field, set.reason);
        if (!s_grow((void **) &self->invalid, &self->invalid_cap, self->ninvalid, sizeof (char *)))
            return -1;
        self->invalid[self->ninvalid++] = set.code;
        self->applied++;
        return 0;
    }
    for (int i = 0; self->scoring && i < set.count; i++) {
        const risk_delta_t *d = &set.items[i];
        if (s_pend(self, env->tenant, d) != 0
            || risk_scoring_touch(self->scoring, env->tenant, d->debtor_id) != 0)
            return -1;
    }
    for (int i = 0; !self->scoring && i < set.count; i++) {
        const risk_delta_t *d = &set.items[i];
        risk_debtor_t *state = s_touch(self, env->tenant, d->debtor_id);
        if (!state || risk_store_add(db, env->tenant, d, state) != 0)
            return -1;              /* the consumer rolls back and retries */
        log_debug("exposure changed tenant=%s debtor=%" PRId64 " currency=%s outstanding_delta=%" PRId64
                  " open_delta=%" PRId32 " seq=%" PRId64 " type=%s", env->tenant, d->debtor_id,
                  d->currency, d->outstanding_minor, d->open_invoices, env->seq,
                  envelope_type_name(env));
    }
    if (self->scoring && risk_scoring_apply(self->scoring, db, env) != 0)
        return -1;
    if (rc == RISK_DELTA_SOME) {
        if (!s_grow((void **) &self->occurred, &self->occurred_cap, self->noccurred, sizeof (int64_t)))
            return -1;
        self->occurred[self->noccurred++] = env->occurred_at_us;
    }
    self->applied++;
    return 0;
}

void
risk_exposure_committed(void *arg)
{
    risk_exposure_t *self = arg;
    metric_add(self->m_applied, (double) self->applied);
    for (size_t i = 0; i < self->ninvalid; i++) {
        char labels[96];
        snprintf(labels, sizeof labels, "reason=\"%s\"", self->invalid[i]);
        metric_inc(metrics_counter("creance_risk_invalid_events_total",
                                   "ledger events refused as malformed (skipped)", labels));
    }
    /* With scoring, its hashes are the complete state of every debtor the
       transaction touched (read back from PostgreSQL), so the exposure
       fields are not written twice. */
    size_t n = zhashx_size(self->touched);
    bool written = false;
    if (self->scoring)
        written = risk_scoring_committed(self->scoring) == 0;
    else if (n > 0) {
        risk_debtor_t **states = malloc(n * sizeof *states);
        if (!states) {
            risk_cache_mark_stale(self->cache);
            s_reset(self);
            return;
        }
        size_t k = 0;
        for (risk_debtor_t *s = zhashx_first(self->touched); s && k < n; s = zhashx_next(self->touched))
            states[k++] = s;
        /* A failed write marks the cache stale: the rebuild tick copies
           PostgreSQL, which has these values committed. */
        written = risk_cache_write(self->cache, states, k) == 0;
        free(states);
    }
    if (written) {
        int64_t now = now_us();
        for (size_t i = 0; i < self->noccurred; i++) {
            int64_t lag = now - self->occurred[i];
            metric_observe(self->m_latency, lag > 0 ? (double) lag / 1e6 : 0.0);
        }
    }
    s_reset(self);
}

int
risk_exposure_precommit(db_t *db, void *arg)
{
    risk_exposure_t *self = arg;
    if (!self->scoring)
        return 0;
    if (zhashx_size(self->pending) > 0) {
        json_t *rows = json_array();
        for (pending_t *p = zhashx_first(self->pending); p; p = zhashx_next(self->pending))
            json_array_append_new(rows, json_pack("{s:s, s:I, s:s, s:I, s:I, s:I}",
                                  "tenant", p->tenant, "debtor_id", (json_int_t) p->debtor_id,
                                  "currency", p->currency, "outstanding", (json_int_t) p->outstanding,
                                  "open", (json_int_t) p->open, "events", (json_int_t) p->events));
        char *text = json_dumps(rows, JSON_COMPACT);
        json_decref(rows);
        int rc = text ? risk_store_add_many(db, text) : -1;
        free(text);
        if (rc != 0)
            return -1;
        zhashx_purge(self->pending);
    }
    return risk_scoring_precommit(self->scoring, db);
}

void
risk_exposure_aborted(void *arg)
{
    risk_exposure_t *self = arg;
    s_reset(self);
    if (self->scoring)
        risk_scoring_aborted(self->scoring);
}

size_t
risk_exposure_touched(const risk_exposure_t *self)
{
    return zhashx_size(self->touched);
}
