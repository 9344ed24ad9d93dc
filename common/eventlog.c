/*  eventlog: append events to event_log in the producer's transaction and
    publish them after commit. */
#include "eventlog.h"
#include "envelope.h"
#include "log.h"
#include "metrics.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    char tenant[64];
    char stream[64];
    char event_id[40];
    char event_type[48];
    char producer[32];
    int64_t occurred_at_us;
    int64_t seq;
    uint8_t *buf;           /* encoded envelope, with room for the seq field */
    size_t len;
} entry_t;

struct eventlog_batch_t {
    entry_t *entries;
    size_t count, cap;
};

eventlog_batch_t *
eventlog_batch_new(void)
{
    return calloc(1, sizeof(eventlog_batch_t));
}

void
eventlog_batch_destroy(eventlog_batch_t **self_p)
{
    eventlog_batch_t *self = *self_p;
    if (!self)
        return;
    eventlog_reset(self);
    free(self->entries);
    free(self);
    *self_p = NULL;
}

size_t
eventlog_count(const eventlog_batch_t *self)
{
    return self->count;
}

int
eventlog_add(eventlog_batch_t *self, const Creance__Envelope *env)
{
    if (strlen(env->tenant) >= 64 || strlen(env->stream) >= 64 || strlen(env->producer) >= 32) {
        log_error("eventlog: header too long tenant=%s stream=%s", env->tenant, env->stream);
        return -1;
    }
    if (self->count == self->cap) {
        self->cap = self->cap ? self->cap * 2 : 64;
        self->entries = realloc(self->entries, self->cap * sizeof *self->entries);
    }
    entry_t *e = &self->entries[self->count];
    memset(e, 0, sizeof *e);
    snprintf(e->tenant, sizeof e->tenant, "%s", env->tenant);
    snprintf(e->stream, sizeof e->stream, "%s", env->stream);
    snprintf(e->event_id, sizeof e->event_id, "%s", env->event_id);
    snprintf(e->event_type, sizeof e->event_type, "%s", envelope_type_name(env));
    snprintf(e->producer, sizeof e->producer, "%s", env->producer);
    e->occurred_at_us = env->occurred_at_us;
    size_t size = creance__envelope__get_packed_size(env);
    e->buf = malloc(size + 11);
    e->len = creance__envelope__pack(env, e->buf);
    self->count++;
    return 0;
}

static int
s_cmp_group(const void *a, const void *b)
{
    const entry_t *x = *(entry_t *const *) a, *y = *(entry_t *const *) b;
    int c = strcmp(x->tenant, y->tenant);
    if (!c)
        c = strcmp(x->stream, y->stream);
    if (!c)
        c = (x < y) ? -1 : (x > y);     /* keep the order of addition */
    return c;
}

/*  Rows per INSERT: 8 parameters each, under libpq's 65535 limit. */
#define ROWS_PER_INSERT 1000

static int
s_insert_rows(eventlog_batch_t *self, db_t *db, entry_t **order, size_t from, size_t n)
{
    static char sql[ROWS_PER_INSERT * 160 + 256];
    int pos = snprintf(sql, sizeof sql,
                       "INSERT INTO event_log (tenant, stream, seq, event_id, event_type, "
                       "occurred_at, producer, envelope) VALUES ");
    const char **values = malloc(n * 8 * sizeof *values);
    int *lengths = calloc(n * 8, sizeof *lengths);
    int *formats = calloc(n * 8, sizeof *formats);
    char (*numbers)[2][24] = malloc(n * sizeof *numbers);
    for (size_t i = 0; i < n; i++) {
        entry_t *e = order[from + i];
        int p = (int) i * 8;
        pos += snprintf(sql + pos, sizeof sql - (size_t) pos,
                        "%s($%d,$%d,$%d::bigint,$%d::uuid,$%d,"
                        "'epoch'::timestamptz + $%d::bigint * interval '1 microsecond',$%d,$%d)",
                        i ? "," : "", p + 1, p + 2, p + 3, p + 4, p + 5, p + 6, p + 7, p + 8);
        snprintf(numbers[i][0], 24, "%" PRId64, e->seq);
        snprintf(numbers[i][1], 24, "%" PRId64, e->occurred_at_us);
        values[p + 0] = e->tenant;
        values[p + 1] = e->stream;
        values[p + 2] = numbers[i][0];
        values[p + 3] = e->event_id;
        values[p + 4] = e->event_type;
        values[p + 5] = numbers[i][1];
        values[p + 6] = e->producer;
        values[p + 7] = (const char *) e->buf;
        lengths[p + 7] = (int) e->len;
        formats[p + 7] = 1;         /* bytea, binary */
    }
    PGresult *r = db_exec_ex(db, sql, (int) n * 8, values, lengths, formats, 0);
    free(values);
    free(lengths);
    free(formats);
    free(numbers);
    if (!r) {
        log_error("eventlog: insert failed: %s", db_last_error(db));
        return -1;
    }
    PQclear(r);
    return 0;
}

int
eventlog_flush(eventlog_batch_t *self, db_t *db)
{
    if (self->count == 0)
        return 0;
    /* Lock streams rows in one global order (tenant, stream) so that two
       producers writing to several streams cannot deadlock. */
    entry_t **order = malloc(self->count * sizeof *order);
    for (size_t i = 0; i < self->count; i++)
        order[i] = &self->entries[i];
    qsort(order, self->count, sizeof *order, s_cmp_group);

    int rc = 0;
    for (size_t start = 0; start < self->count && rc == 0;) {
        size_t end = start + 1;
        while (end < self->count && strcmp(order[end]->tenant, order[start]->tenant) == 0
               && strcmp(order[end]->stream, order[start]->stream) == 0)
            end++;
        size_t n = end - start;
        char count[24];
        snprintf(count, sizeof count, "%zu", n);
        const char *params[] = { order[start]->tenant, order[start]->stream, count };
        /* The row lock taken here is held until COMMIT: the next writer of
           this stream waits, so sequence order is commit order. */
        PGresult *r = db_exec(db,
                              "INSERT INTO streams (tenant, stream, last_seq) VALUES ($1, $2, $3) "
                              "ON CONFLICT (tenant, stream) DO UPDATE "
                              "SET last_seq = streams.last_seq + EXCLUDED.last_seq "
                              "RETURNING last_seq",
                              3, params);
        if (!r) {
            log_error("eventlog: cannot reserve sequence tenant=%s stream=%s: %s",
                      order[start]->tenant, order[start]->stream, db_last_error(db));
            rc = -1;
            break;
        }
        int64_t last = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
        PQclear(r);
        int64_t seq = last - (int64_t) n + 1;
        for (size_t i = start; i < end; i++) {
            entry_t *e = order[i];
            e->seq = seq++;
            e->len = envelope_append_seq(e->buf, e->len, e->seq);
        }
        start = end;
    }
    for (size_t from = 0; rc == 0 && from < self->count; from += ROWS_PER_INSERT) {
        size_t n = self->count - from < ROWS_PER_INSERT ? self->count - from : ROWS_PER_INSERT;
        rc = s_insert_rows(self, db, order, from, n);
    }
    free(order);
    return rc;
}

int
eventlog_publish(eventlog_batch_t *self, bus_t *bus)
{
    int sent = 0;
    for (size_t i = 0; i < self->count; i++) {
        entry_t *e = &self->entries[i];
        if (e->seq > 0 && bus && bus_publish(bus, e->tenant, e->stream, e->buf, e->len) == 0)
            sent++;
    }
    metric_add(metrics_counter("creance_events_published_total",
                               "envelopes published after commit", NULL), sent);
    eventlog_reset(self);
    return sent;
}

void
eventlog_reset(eventlog_batch_t *self)
{
    for (size_t i = 0; i < self->count; i++)
        free(self->entries[i].buf);
    self->count = 0;
}
