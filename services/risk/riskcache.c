/*  riskcache: debtor exposure copied into Redis, rebuilt from PostgreSQL. */
#include "riskcache.h"
#include "dates.h"
#include "log.h"
#include "metrics.h"
#include "store.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REBUILD_PAGE 1000           /* debtors per SELECT and per pipeline */

/*  Sets the marker only if no flush happened since the rebuild began. */
static const char *SCRIPT_FINISH =
    "if redis.call('GET', KEYS[1]) == ARGV[1] then "
    "  redis.call('SET', KEYS[2], ARGV[1]) "
    "  redis.call('DEL', KEYS[1]) "
    "  return 1 "
    "end "
    "return 0";

struct risk_cache_t {
    cache_t *cache;
    db_t *db;
    bool stale;                     /* a write failed: hashes may be behind */
    bool failing;                   /* the last check failed (log once per streak) */
    int pending;                    /* commands appended, replies not read yet */
    bool append_failed;
    partition_t part;               /* whose hashes this instance writes */
    char marker[96], rebuilding[96];
    metric_t *m_errors, *m_rebuilds, *m_stale;
};

risk_cache_t *
risk_cache_new(cache_t *cache, db_t *db)
{
    risk_cache_t *self = calloc(1, sizeof *self);
    self->cache = cache;
    self->db = db;
    self->part.index = 0;
    self->part.count = 1;
    snprintf(self->marker, sizeof self->marker, "%s", RISK_CACHE_MARKER);
    snprintf(self->rebuilding, sizeof self->rebuilding, "%s", RISK_CACHE_REBUILDING);
    self->m_errors = metrics_counter("creance_risk_cache_errors_total",
                                     "Redis writes or reads of debtor state that failed", NULL);
    self->m_rebuilds = metrics_counter("creance_risk_cache_rebuilds_total",
                                       "complete rebuilds of the debtor hashes from PostgreSQL", NULL);
    self->m_stale = metrics_gauge("creance_risk_cache_stale",
                                  "1 while the debtor hashes wait for a rebuild", NULL);
    return self;
}

void
risk_cache_destroy(risk_cache_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free(*self_p);
    *self_p = NULL;
}

void
risk_cache_set_partition(risk_cache_t *self, const partition_t *part, const char *name)
{
    self->part = *part;
    if (!partition_all(part)) {
        snprintf(self->marker, sizeof self->marker, "creance:{%s}:built", name);
        snprintf(self->rebuilding, sizeof self->rebuilding, "creance:{%s}:rebuilding", name);
    }
}

void
risk_cache_mark_stale(risk_cache_t *self)
{
    self->stale = true;
    metric_set(self->m_stale, 1);
}

bool
risk_cache_stale(const risk_cache_t *self)
{
    return self->stale;
}

/*  Queues the commands that write one debtor's hash. The first HSET carries
    the per-debtor fields and the first currency; a debtor billed in more
    currencies gets one more HSET per currency. */
static void
s_append_state(risk_cache_t *self, const risk_debtor_t *s)
{
    char key[RISK_DEBTOR_KEY_MAX];
    if (self->append_failed || !partition_owns_id(&self->part, s->tenant, s->debtor_id))
        return;
    if (risk_debtor_key(key, sizeof key, s->tenant, s->debtor_id) < 0) {
        log_error("risk cache: no key for tenant=%s debtor=%" PRId64, s->tenant, s->debtor_id);
        return;
    }
    int rc;
    if (s->count == 0)
        rc = cache_append(self->cache, "HSET %s open_invoices %lld updated_at_us %lld", key,
                          (long long) s->open_invoices, (long long) s->updated_at_us);
    else
        rc = cache_append(self->cache, "HSET %s open_invoices %lld updated_at_us %lld outstanding:%s %lld",
                          key, (long long) s->open_invoices, (long long) s->updated_at_us,
                          s->amounts[0].currency, (long long) s->amounts[0].outstanding_minor);
    if (rc == 0)
        self->pending++;
    for (size_t i = 1; rc == 0 && i < s->count; i++) {
        rc = cache_append(self->cache, "HSET %s outstanding:%s %lld", key,
                          s->amounts[i].currency, (long long) s->amounts[i].outstanding_minor);
        if (rc == 0)
            self->pending++;
    }
    if (rc == 0 && s->snapshot) {
        rc = cache_append(self->cache, "HSET %s risk %s", key, s->snapshot);
        if (rc == 0)
            self->pending++;
    }
    if (rc != 0)
        self->append_failed = true;
}

/*  Reads the replies of everything queued. 0 when all succeeded. */
static int
s_flush(risk_cache_t *self)
{
    int want = self->pending;
    bool append_failed = self->append_failed;
    self->pending = 0;
    self->append_failed = false;
    int ok = want > 0 ? cache_pipeline_end(self->cache, want) : 0;
    return append_failed || ok != want ? -1 : 0;
}

static void
s_failed(risk_cache_t *self, const char *what)
{
    metric_inc(self->m_errors);
    if (!self->stale)
        log_warn("risk cache %s failed: Redis unavailable, rebuild needed", what);
    risk_cache_mark_stale(self);
}

int
risk_cache_write(risk_cache_t *self, risk_debtor_t *const *states, size_t count)
{
    if (count == 0)
        return 0;
    /* While a rebuild is pending it will copy these values anyway; not
       trying spares a connection attempt per commit while Redis is down. */
    if (self->stale)
        return -1;
    for (size_t i = 0; i < count; i++)
        s_append_state(self, states[i]);
    if (s_flush(self) != 0) {
        s_failed(self, "write");
        return -1;
    }
    return 0;
}

int
risk_cache_read(risk_cache_t *self, const char *tenant, int64_t debtor_id, risk_debtor_t *out)
{
    char key[RISK_DEBTOR_KEY_MAX];
    if (risk_debtor_key(key, sizeof key, tenant, debtor_id) < 0)
        return 0;
    redisReply *r = cache_cmd(self->cache, "HGETALL %s", key);
    if (!r) {
        metric_inc(self->m_errors);
        return -1;
    }
    int rc = 0;
    if (r->type == REDIS_REPLY_ARRAY && r->elements > 0 && r->elements % 2 == 0) {
        size_t n = r->elements / 2;
        const char **fields = calloc(n, sizeof *fields), **values = calloc(n, sizeof *values);
        bool strings = fields && values;
        for (size_t i = 0; strings && i < n; i++) {
            redisReply *f = r->element[2 * i], *v = r->element[2 * i + 1];
            strings = f->type == REDIS_REPLY_STRING && v->type == REDIS_REPLY_STRING;
            fields[i] = f->str;
            values[i] = v->str;
        }
        risk_debtor_clear(out);
        risk_debtor_init(out, tenant, debtor_id);
        rc = strings ? risk_debtor_from_hash(out, n, fields, values) : -1;
        free(fields);
        free(values);
    }
    else if (r->type != REDIS_REPLY_ARRAY)
        rc = -1;
    freeReplyObject(r);
    if (rc < 0) {
        /* Not something we wrote: drop it, PostgreSQL answers and the
           caller writes a clean copy. */
        log_warn("risk cache: malformed hash %s dropped", key);
        redisReply *d = cache_cmd(self->cache, "DEL %s", key);
        if (d)
            freeReplyObject(d);
        rc = 0;
    }
    return rc;
}

static int
s_scan_one(const risk_debtor_t *state, void *arg)
{
    risk_cache_t *self = arg;
    s_append_state(self, state);
    return self->append_failed ? -1 : 0;
}

/*  Rewrites every debtor's hash from risk_debtor_state, then sets the
    marker. Runs on the service's only thread: consumer transactions wait,
    so nothing changes in PostgreSQL underneath it. */
static int
s_rebuild(risk_cache_t *self, const char *why)
{
    int64_t started = now_us();
    char gen[24];
    snprintf(gen, sizeof gen, "%" PRId64, started);
    redisReply *r = cache_cmd(self->cache, "SET %s %s", self->rebuilding, gen);
    if (!r)
        return -1;
    freeReplyObject(r);

    risk_store_cursor_t cursor;
    memset(&cursor, 0, sizeof cursor);
    int64_t debtors = 0;
    for (;;) {
        int n = risk_store_scan(self->db, &cursor, REBUILD_PAGE, s_scan_one, self);
        /* Replies are read even after a failed scan: the connection must
           not be left with unread replies. */
        if (s_flush(self) != 0 || n < 0)
            return -1;
        debtors += n;
        if (n < REBUILD_PAGE)
            break;
    }
    r = cache_cmd(self->cache, "EVAL %s 2 %s %s %s", SCRIPT_FINISH,
                  self->rebuilding, self->marker, gen);
    if (!r)
        return -1;
    bool done = r->type == REDIS_REPLY_INTEGER && r->integer == 1;
    freeReplyObject(r);
    if (!done) {
        log_warn("risk cache rebuild generation=%s interrupted by a flush; retrying", gen);
        return -1;
    }
    metric_inc(self->m_rebuilds);
    log_info("risk cache rebuilt reason=%s generation=%s debtors=%" PRId64 " ms=%" PRId64,
             why, gen, debtors, (now_us() - started) / 1000);
    return 0;
}

int
risk_cache_check(risk_cache_t *self)
{
    const char *why = NULL;
    if (self->stale)
        why = "write_failed";
    else {
        redisReply *r = cache_cmd(self->cache, "EXISTS %s", self->marker);
        if (!r) {
            /* Whatever was written meanwhile may be lost with the server. */
            s_failed(self, "check");
            self->failing = true;
            return -1;
        }
        bool present = r->type == REDIS_REPLY_INTEGER && r->integer == 1;
        freeReplyObject(r);
        if (present) {
            self->failing = false;
            return 0;
        }
        why = "marker_missing";
    }
    if (s_rebuild(self, why) != 0) {
        metric_inc(self->m_errors);
        if (!self->failing)
            log_warn("risk cache rebuild failed reason=%s; retrying every tick", why);
        self->failing = true;
        risk_cache_mark_stale(self);
        return -1;
    }
    self->failing = false;
    self->stale = false;
    metric_set(self->m_stale, 0);
    return 1;
}
