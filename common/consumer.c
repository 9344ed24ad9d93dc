/*  consumer: effectively-once application of a durable stream. */
#include "consumer.h"
#include "bus.h"
#include "envelope.h"
#include "log.h"
#include "metrics.h"

#include <endian.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LIVE_BATCH   512        /* envelopes applied per transaction from the wire */
#define CATCHUP_PAGE 1000       /* rows read per query from event_log, and the
                                   most events applied per catch-up call: the
                                   loop must answer queries between pages */

struct consumer_t {
    consumer_config_t cfg;
    char *name;
    char **streams;
    char *streams_array;        /* "{ledger,risk}" for "= ANY($1::text[])" */
    db_t *db;
    bus_t *bus;
    zhashx_t *positions;        /* "tenant\x1fstream" -> int64_t*, as committed */
    zhashx_t *pending;          /* same, advanced inside the open transaction */
    zloop_t *loop;
    bool loaded;
    bool caught_up;             /* sticky: readiness once the start backlog is applied */
    zhashx_t *target;           /* until then: streams.last_seq as first read */
    bool behind;                /* a page is left: catch up again at once */
    bool again_scheduled;
    int64_t applied;
    int64_t txn_applied;        /* events applied in the open transaction */
    metric_t *m_applied, *m_duplicates, *m_gaps, *m_poison, *m_failures, *m_lag;
};

static void
s_free_int(void **item)
{
    free(*item);
    *item = NULL;
}

static zhashx_t *
s_map_new(void)
{
    zhashx_t *map = zhashx_new();
    zhashx_set_destructor(map, s_free_int);
    return map;
}

static void
s_key(char *out, size_t outlen, const char *tenant, const char *stream)
{
    snprintf(out, outlen, "%s\x1f%s", tenant, stream);
}

static int64_t
s_get(zhashx_t *map, const char *key, bool *found)
{
    int64_t *v = zhashx_lookup(map, key);
    if (found)
        *found = v != NULL;
    return v ? *v : 0;
}

static void
s_put(zhashx_t *map, const char *key, int64_t value)
{
    int64_t *v = malloc(sizeof *v);
    *v = value;
    zhashx_update(map, key, v);
}

consumer_t *
consumer_new(const consumer_config_t *cfg, db_t *db, const char *broker_sub)
{
    consumer_t *self = calloc(1, sizeof *self);
    self->cfg = *cfg;
    if (self->cfg.poll_ms <= 0)
        self->cfg.poll_ms = 500;
    self->name = strdup(cfg->name);
    size_t n = 0;
    while (cfg->streams[n])
        n++;
    self->streams = calloc(n + 1, sizeof *self->streams);
    size_t arrlen = 3;
    for (size_t i = 0; i < n; i++) {
        self->streams[i] = strdup(cfg->streams[i]);
        arrlen += strlen(cfg->streams[i]) + 1;
    }
    self->cfg.streams = (const char *const *) self->streams;
    self->streams_array = calloc(1, arrlen);
    strcat(self->streams_array, "{");
    for (size_t i = 0; i < n; i++) {
        if (i)
            strcat(self->streams_array, ",");
        strcat(self->streams_array, self->streams[i]);
    }
    strcat(self->streams_array, "}");
    self->db = db;
    /* Subscribe before the first catch-up: whatever is published while we
       read event_log is then either read there or waiting on the socket,
       where it is dropped as a duplicate (the Clone pattern). */
    self->bus = bus_sub_new(broker_sub, self->cfg.streams);
    self->positions = s_map_new();
    self->pending = s_map_new();

    char labels[96];
    snprintf(labels, sizeof labels, "consumer=\"%s\"", self->name);
    self->m_applied = metrics_counter("creance_consumer_events_applied_total",
                                      "events applied (effects committed)", labels);
    self->m_duplicates = metrics_counter("creance_consumer_duplicates_total",
                                         "events skipped as already applied", labels);
    self->m_gaps = metrics_counter("creance_consumer_gaps_total",
                                   "sequence gaps filled from event_log", labels);
    self->m_poison = metrics_counter("creance_consumer_poison_total",
                                     "event_log rows that could not be decoded", labels);
    self->m_failures = metrics_counter("creance_consumer_rollbacks_total",
                                       "transactions rolled back (retried from event_log)", labels);
    self->m_lag = metrics_gauge("creance_consumer_lag_events",
                                "events behind streams.last_seq at the last catch-up", labels);
    return self;
}

void
consumer_destroy(consumer_t **self_p)
{
    consumer_t *self = *self_p;
    if (!self)
        return;
    bus_destroy(&self->bus);
    zhashx_destroy(&self->positions);
    zhashx_destroy(&self->pending);
    zhashx_destroy(&self->target);
    for (char **s = self->streams; *s; s++)
        free(*s);
    free(self->streams);
    free(self->streams_array);
    free(self->name);
    free(self);
    *self_p = NULL;
}

/*  Positions in memory mirror what is committed. After any doubt (a failed
    commit may have committed) they are read again before the next use. */
static int
s_load(consumer_t *self)
{
    if (self->loaded)
        return 0;
    const char *params[] = { self->name };
    PGresult *r = db_exec(self->db,
                          "SELECT tenant, stream, last_applied FROM consumer_positions "
                          "WHERE consumer = $1", 1, params);
    if (!r)
        return -1;
    zhashx_purge(self->positions);
    for (int i = 0; i < PQntuples(r); i++) {
        char key[256];
        s_key(key, sizeof key, PQgetvalue(r, i, 0), PQgetvalue(r, i, 1));
        s_put(self->positions, key, strtoll(PQgetvalue(r, i, 2), NULL, 10));
    }
    PQclear(r);
    self->loaded = true;
    return 0;
}

static int s_apply_one(consumer_t *self, const Creance__Envelope *env);

/*  Reads event_log rows (pos, upto) of one stream and applies them, inside
    the open transaction. upto <= 0 means no upper bound. */
static int
s_apply_from_log(consumer_t *self, const char *tenant, const char *stream, int64_t upto)
{
    char key[256];
    s_key(key, sizeof key, tenant, stream);
    for (;;) {
        bool found;
        int64_t pos = s_get(self->pending, key, &found);
        if (!found)
            pos = s_get(self->positions, key, NULL);
        char from[24], to[24];
        snprintf(from, sizeof from, "%" PRId64, pos);
        snprintf(to, sizeof to, "%" PRId64, upto > 0 ? upto : INT64_MAX);
        const char *params[] = { tenant, stream, from, to };
        PGresult *r = db_exec_ex(self->db,
                                 "SELECT seq, envelope FROM event_log WHERE tenant = $1 AND stream = $2 "
                                 "AND seq > $3::bigint AND seq < $4::bigint ORDER BY seq LIMIT 1000",
                                 4, params, NULL, NULL, 1);
        if (!r)
            return -1;
        int rows = PQntuples(r);
        for (int i = 0; i < rows; i++) {
            int64_t seq = (int64_t) be64toh(*(uint64_t *) PQgetvalue(r, i, 0));
            char err[160];
            Creance__Envelope *env = envelope_decode((const uint8_t *) PQgetvalue(r, i, 1),
                                                     (size_t) PQgetlength(r, i, 1), err, sizeof err);
            if (!env) {
                /* Written by our own producers, so this is a bug, not input:
                   skip it rather than block the stream forever, and say so. */
                log_error("consumer=%s poison event tenant=%s stream=%s seq=%" PRId64 ": %s",
                          self->name, tenant, stream, seq, err);
                metric_inc(self->m_poison);
                s_put(self->pending, key, seq);
                continue;
            }
            int rc = s_apply_one(self, env);
            envelope_free(env);
            if (rc < 0) {
                PQclear(r);
                return -1;
            }
        }
        PQclear(r);
        if (rows < CATCHUP_PAGE)
            return 0;
    }
}

static int
s_apply_one(consumer_t *self, const Creance__Envelope *env)
{
    char key[256];
    s_key(key, sizeof key, env->tenant, env->stream);
    bool found;
    int64_t pos = s_get(self->pending, key, &found);
    if (!found)
        pos = s_get(self->positions, key, NULL);
    if (env->seq <= pos) {
        metric_inc(self->m_duplicates);
        return 0;
    }
    if (env->seq > pos + 1 + CATCHUP_PAGE) {
        /* Too far ahead to fill in this transaction without holding the
           loop: leave it to the paced catch-up, which reads it again from
           event_log. */
        self->behind = true;
        return 0;
    }
    if (env->seq > pos + 1) {
        /* Missed on the wire (high-water mark, late join, restart): every
           lower sequence is committed, since we only publish after commit. */
        metric_inc(self->m_gaps);
        log_debug("consumer=%s gap tenant=%s stream=%s have=%" PRId64 " got=%" PRId64,
                  self->name, env->tenant, env->stream, pos, env->seq);
        if (s_apply_from_log(self, env->tenant, env->stream, env->seq) < 0)
            return -1;
    }
    if (self->cfg.apply(self->db, env, self->cfg.arg) != 0) {
        log_warn("consumer=%s apply failed tenant=%s stream=%s seq=%" PRId64 " type=%s",
                 self->name, env->tenant, env->stream, env->seq, envelope_type_name(env));
        return -1;
    }
    s_put(self->pending, key, env->seq);
    self->txn_applied++;
    return 0;
}

/*  Writes the new positions, guarded by the old ones: if another instance
    of this consumer moved a position meanwhile, the statement raises
    (creance_position_moved, migration 0116) and nothing is committed. No
    answer is needed, so they go with the COMMIT in one round trip. */
static int
s_write_positions(consumer_t *self)
{
    for (int64_t *v = zhashx_first(self->pending); v; v = zhashx_next(self->pending)) {
        const char *key = zhashx_cursor(self->pending);
        const char *sep = strchr(key, '\x1f');
        char tenant[128];
        snprintf(tenant, sizeof tenant, "%.*s", (int) (sep - key), key);
        char newpos[24], oldpos[24];
        snprintf(newpos, sizeof newpos, "%" PRId64, *v);
        snprintf(oldpos, sizeof oldpos, "%" PRId64, s_get(self->positions, key, NULL));
        const char *params[] = { self->name, tenant, sep + 1, newpos, oldpos };
        if (db_defer(self->db,
                     "WITH w AS (INSERT INTO consumer_positions (consumer, tenant, stream, last_applied) "
                     "  VALUES ($1, $2, $3, $4::bigint) ON CONFLICT (consumer, tenant, stream) "
                     "  DO UPDATE SET last_applied = EXCLUDED.last_applied, updated_at = now() "
                     "  WHERE consumer_positions.last_applied = $5::bigint RETURNING 1) "
                     "SELECT creance_position_moved($1, $2, $3, $5::bigint) "
                     "WHERE NOT EXISTS (SELECT 1 FROM w)", 5, params) != 0)
            return -1;
    }
    return 0;
}

static void
s_fail(consumer_t *self)
{
    db_rollback(self->db);
    zhashx_purge(self->pending);
    self->txn_applied = 0;
    self->loaded = false;
    metric_inc(self->m_failures);
    if (self->cfg.aborted)
        self->cfg.aborted(self->cfg.arg);
}

/*  Commits what is pending. Returns the number of events applied, or -1
    (rolled back). */
static int64_t
s_commit(consumer_t *self)
{
    if ((self->cfg.precommit && self->cfg.precommit(self->db, self->cfg.arg) != 0)
        || s_write_positions(self) != 0 || db_commit(self->db) != 0) {
        log_warn("consumer=%s transaction rolled back sqlstate=%s: %s", self->name,
                 db_last_sqlstate(self->db), db_last_error(self->db));
        s_fail(self);
        return -1;
    }
    for (int64_t *v = zhashx_first(self->pending); v; v = zhashx_next(self->pending))
        s_put(self->positions, zhashx_cursor(self->pending), *v);
    zhashx_purge(self->pending);
    int64_t n = self->txn_applied;
    self->txn_applied = 0;
    self->applied += n;
    metric_add(self->m_applied, (double) n);
    if (self->cfg.committed)
        self->cfg.committed(self->cfg.arg);
    return n;
}

static int s_on_again(zloop_t *loop, int timer_id, void *arg);

/*  While a page is left behind, the next one is applied on the loop's
    next turn rather than at the next poll tick. */
static void
s_schedule_again(consumer_t *self)
{
    if (self->behind && self->loop && !self->again_scheduled) {
        zloop_timer(self->loop, 1, 1, s_on_again, self);
        self->again_scheduled = true;
    }
}

static int
s_on_bus(zloop_t *loop, zsock_t *reader, void *arg)
{
    consumer_t *self = arg;
    Creance__Envelope *batch[LIVE_BATCH];
    int n = 0;
    while (n < LIVE_BATCH) {
        Creance__Envelope *env;
        int rc = bus_recv(self->bus, &env);
        if (rc == 0)
            break;
        if (rc == 1)
            batch[n++] = env;
    }
    if (n == 0)
        return 0;
    if (s_load(self) == 0 && db_begin(self->db) == 0) {
        int i = 0;
        for (; i < n; i++)
            if (s_apply_one(self, batch[i]) != 0)
                break;
        if (i < n)
            s_fail(self);
        else
            s_commit(self);
    }
    /* On failure the events are simply dropped here: the catch-up timer
       reads them from event_log once the database answers again. */
    for (int i = 0; i < n; i++)
        envelope_free(batch[i]);
    s_schedule_again(self);
    return 0;
}

/*  Applies at most one page (CATCHUP_PAGE events, one transaction) of what
    is behind, so that a long backlog after a restart or a dropped burst
    does not hold the service's loop: between pages the loop answers
    queries and reads the wire, and a 1 ms timer calls again while anything
    is left. */
int
consumer_catch_up(consumer_t *self)
{
    self->behind = false;
    if (s_load(self) != 0)
        return -1;
    const char *params[] = { self->streams_array };
    PGresult *r = db_exec(self->db,
                          "SELECT tenant, stream, last_seq FROM streams "
                          "WHERE stream = ANY($1::text[])", 1, params);
    if (!r)
        return -1;
    int64_t lag = 0, applied = 0;
    int rc = 0;
    bool paged = false;
    /*  Readiness means "has applied what was committed when it started":
        under a steady stream some stream is always a little behind, so
        "nothing behind" alone might never be seen. */
    bool first_read = !self->caught_up && !self->target;
    if (first_read)
        self->target = s_map_new();
    for (int i = 0; i < PQntuples(r); i++) {
        const char *tenant = PQgetvalue(r, i, 0), *stream = PQgetvalue(r, i, 1);
        int64_t last = strtoll(PQgetvalue(r, i, 2), NULL, 10);
        char key[256];
        s_key(key, sizeof key, tenant, stream);
        int64_t pos = s_get(self->positions, key, NULL);
        if (first_read)
            s_put(self->target, key, last);
        if (last <= pos)
            continue;
        lag += last - pos;
        if (paged)
            continue;                   /* only measured: the next call applies it */
        paged = true;
        int64_t upto = pos + CATCHUP_PAGE + 1 < last + 1 ? pos + CATCHUP_PAGE + 1 : last + 1;
        int64_t n = -1;
        if (db_begin(self->db) != 0
            || s_apply_from_log(self, tenant, stream, upto) != 0
            || (n = s_commit(self)) < 0) {
            if (self->loaded)           /* s_commit already rolled back otherwise */
                s_fail(self);
            rc = -1;
            continue;
        }
        applied = n;
        /* No progress means the rows are not readable (yet): wait for the
           tick rather than spin. */
        if (s_get(self->positions, key, NULL) > pos)
            lag -= s_get(self->positions, key, NULL) - pos;
    }
    PQclear(r);
    metric_set(self->m_lag, (double) lag);
    if (rc != 0)
        return -1;
    if (applied > 0)
        log_info("consumer=%s %s events=%" PRId64 " behind=%" PRId64, self->name,
                 lag > 0 ? "catching up" : "caught up", applied, lag);
    if (!self->caught_up) {
        bool reached = true;
        for (int64_t *v = zhashx_first(self->target); v && reached; v = zhashx_next(self->target))
            reached = s_get(self->positions, zhashx_cursor(self->target), NULL) >= *v;
        if (reached || lag == 0) {
            self->caught_up = true;
            zhashx_destroy(&self->target);
        }
    }
    if (lag > 0 && applied > 0)
        self->behind = true;
    s_schedule_again(self);
    return (int) applied;
}

static int
s_on_tick(zloop_t *loop, int timer_id, void *arg)
{
    consumer_catch_up((consumer_t *) arg);
    return 0;
}

static int
s_on_again(zloop_t *loop, int timer_id, void *arg)
{
    consumer_t *self = arg;
    self->again_scheduled = false;
    consumer_catch_up(self);
    return 0;
}

int
consumer_attach(consumer_t *self, zloop_t *loop)
{
    if (!self->bus)
        return -1;
    if (zloop_reader(loop, bus_sock(self->bus), s_on_bus, self) != 0)
        return -1;
    self->loop = loop;
    zloop_timer(loop, (size_t) self->cfg.poll_ms, 0, s_on_tick, self);
    consumer_catch_up(self);
    return 0;
}

bool
consumer_caught_up(const consumer_t *self)
{
    return self->caught_up;
}

int64_t
consumer_applied(const consumer_t *self)
{
    return self->applied;
}
