/*  eventlog: append events to event_log in the producer's transaction and
    publish them after commit. */
#include "eventlog.h"
#include "envelope.h"
#include "log.h"
#include "metrics.h"

#include <czmq.h>
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

/*  The rows go in with COPY in binary format: the rows are data, not a
    statement, so PostgreSQL neither parses nor plans per batch (a
    multi-row INSERT was a new statement text for every batch size, each
    parsed and planned with its 8 parameters per row). The streams row
    lock is held while they are written: this is the part of a producer's
    transaction other writers of the stream wait for. */
static const char *SQL_COPY =
    "COPY event_log (tenant, stream, seq, event_id, event_type, occurred_at, producer, envelope) "
    "FROM STDIN (FORMAT binary)";

/*  Binary COPY's timestamps count microseconds from 2000-01-01 UTC. */
#define PG_EPOCH_US INT64_C(946684800000000)

static void
s_put16(zchunk_t *out, uint16_t v)
{
    uint8_t b[2] = { (uint8_t) (v >> 8), (uint8_t) v };
    zchunk_extend(out, b, 2);
}

static void
s_put32(zchunk_t *out, uint32_t v)
{
    uint8_t b[4] = { (uint8_t) (v >> 24), (uint8_t) (v >> 16), (uint8_t) (v >> 8), (uint8_t) v };
    zchunk_extend(out, b, 4);
}

/*  One field: its length, then its bytes. */
static void
s_field(zchunk_t *out, const void *data, size_t len)
{
    s_put32(out, (uint32_t) len);
    zchunk_extend(out, data, len);
}

static void
s_field_int64(zchunk_t *out, int64_t v)
{
    uint8_t b[8];
    for (int i = 0; i < 8; i++)
        b[i] = (uint8_t) ((uint64_t) v >> (56 - 8 * i));
    s_field(out, b, 8);
}

static void
s_field_text(zchunk_t *out, const char *text)
{
    s_field(out, text, strlen(text));
}

static int
s_copy_rows(db_t *db, entry_t **order, size_t n)
{
    size_t size = 21;               /* header and trailer */
    for (size_t i = 0; i < n; i++)
        size += 256 + order[i]->len;    /* headers fit in 64-byte fields (eventlog_add) */
    zchunk_t *out = zchunk_new(NULL, size);
    zuuid_t *uuid = zuuid_new();
    zchunk_extend(out, "PGCOPY\n\377\r\n\0", 11);
    s_put32(out, 0);                /* flags */
    s_put32(out, 0);                /* header extension length */
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        entry_t *e = order[i];
        if (zuuid_set_str(uuid, e->event_id) != 0) {
            log_error("eventlog: event id is not a UUID: %s", e->event_id);
            rc = -1;
            break;
        }
        s_put16(out, 8);
        s_field_text(out, e->tenant);
        s_field_text(out, e->stream);
        s_field_int64(out, e->seq);
        s_field(out, zuuid_data(uuid), ZUUID_LEN);
        s_field_text(out, e->event_type);
        s_field_int64(out, e->occurred_at_us - PG_EPOCH_US);
        s_field_text(out, e->producer);
        s_field(out, e->buf, e->len);
    }
    s_put16(out, 0xffff);           /* end of data */
    if (rc == 0 && db_copy_in(db, SQL_COPY, (const char *) zchunk_data(out), zchunk_size(out)) != 0) {
        log_error("eventlog: insert failed: %s", db_last_error(db));
        rc = -1;
    }
    zuuid_destroy(&uuid);
    zchunk_destroy(&out);
    return rc;
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
    if (rc == 0)
        rc = s_copy_rows(db, order, self->count);
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
