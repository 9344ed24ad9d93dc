/*  intake: a burst of IntakeBatch requests in one transaction. */
#include "intake.h"
#include "bulk.h"
#include "facts.h"
#include "intakeroute.h"
#include "order.h"
#include "pgarray.h"
#include "route.h"
#include "validate.h"
#include "dates.h"
#include "eventlog.h"
#include "log.h"
#include "metrics.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct intake_t {
    db_t *db;
    long max_batch;
    /* Events of the burst in hand, in segments flushed in order: an
       all_or_nothing request gets a segment of its own, so that its events
       can be dropped if the request is refused (eventlog_add cannot be
       undone) while sequence numbers still follow the order of the work. */
    eventlog_batch_t **segs;
    size_t nseg, capseg;
    bool committed;                 /* events committed, not yet published */
    zhashx_t *recorded;             /* idempotency keys recorded in this burst */
    bulk_t *bulk;                   /* the run of new items in hand (bulk.h) */
    bool use_bulk;                  /* configuration: runs recorded set-based */
    partition_t part;               /* debtors this instance records (route.h) */
    bool bulk_now;                  /* this attempt at the burst uses runs */
    uint8_t *buf;                   /* an item's encoding, for its hash */
    size_t cap;
    metric_t *accepted, *duplicate, *rejected, *seconds, *published, *redone, *bulk_items;
};

/* ---------------------------------------------------------------- requests */

intake_request_t *
intake_request_new(zmsg_t *route, Creance__IntakeBatch *batch)
{
    intake_request_t *self = calloc(1, sizeof *self);
    self->route = route;
    self->batch = batch;
    self->received_us = now_us();
    size_t n = batch->n_items ? batch->n_items : 1;
    self->results = calloc(n, sizeof *self->results);
    self->result_ptrs = calloc(n, sizeof *self->result_ptrs);
    self->reject_keys = calloc(n, sizeof *self->reject_keys);
    for (size_t i = 0; i < batch->n_items; i++) {
        creance__item_result__init(&self->results[i]);
        self->results[i].index = (int32_t) i;
        self->result_ptrs[i] = &self->results[i];
    }
    return self;
}

static void
s_free_text(char **s)
{
    if (*s && *s != (char *) protobuf_c_empty_string)
        free(*s);
    *s = (char *) protobuf_c_empty_string;
}

/*  Forgets the items' outcomes (the transaction did not commit). */
static void
s_clear_results(intake_request_t *self)
{
    for (size_t i = 0; i < self->batch->n_items; i++) {
        Creance__ItemResult *r = &self->results[i];
        s_free_text(&r->field);
        s_free_text(&r->reason);
        r->status = CREANCE__ITEM_STATUS__ITEM_STATUS_UNSPECIFIED;
        r->id = 0;
        self->reject_keys[i] = NULL;
    }
    self->accepted = self->duplicates = self->rejected = 0;
}

void
intake_request_destroy(intake_request_t **self_p)
{
    intake_request_t *self = *self_p;
    if (!self)
        return;
    s_clear_results(self);
    free(self->results);
    free(self->result_ptrs);
    free(self->reject_keys);
    free(self->error);
    zmsg_destroy(&self->route);
    creance__intake_batch__free_unpacked(self->batch, NULL);
    free(self);
    *self_p = NULL;
}

static void
s_set_error(intake_request_t *self, const char *key, const char *field, const char *reason)
{
    free(self->error);
    if (asprintf(&self->error, "%s: %s", field, reason) < 0)
        self->error = NULL;
    self->error_key = key;
}

zframe_t *
intake_request_reply(const intake_request_t *self)
{
    Creance__IntakeReply reply = CREANCE__INTAKE_REPLY__INIT;
    intake_error_t err;
    /* Echo the batch id only when it is text we may send back. */
    if (intake_check_text("batch_id", self->batch->batch_id, INTAKE_MAX_ID_BYTES, false, &err))
        reply.batch_id = self->batch->batch_id;
    if (self->error)
        reply.error = self->error;
    else {
        reply.n_results = self->batch->n_items;
        reply.results = self->result_ptrs;
    }
    zframe_t *frame = zframe_new(NULL, creance__intake_reply__get_packed_size(&reply));
    creance__intake_reply__pack(&reply, zframe_data(frame));
    return frame;
}

/* ------------------------------------------------------------------ intake */

/*  Opens a new, empty event segment; later events go there. */
static void
s_seg_push(intake_t *self)
{
    if (self->nseg == self->capseg) {
        self->capseg = self->capseg ? self->capseg * 2 : 4;
        self->segs = realloc(self->segs, self->capseg * sizeof *self->segs);
        for (size_t i = self->nseg; i < self->capseg; i++)
            self->segs[i] = eventlog_batch_new();
    }
    eventlog_reset(self->segs[self->nseg]);
    self->nseg++;
}

static eventlog_batch_t *
s_seg_current(intake_t *self)
{
    return self->segs[self->nseg - 1];
}

/*  Forgets every segment but one, empty. */
static void
s_seg_begin(intake_t *self)
{
    for (size_t i = 0; i < self->nseg; i++)
        eventlog_reset(self->segs[i]);
    self->nseg = 0;
    s_seg_push(self);
}

static size_t
s_seg_count(const intake_t *self)
{
    size_t n = 0;
    for (size_t i = 0; i < self->nseg; i++)
        n += eventlog_count(self->segs[i]);
    return n;
}

intake_t *
intake_new(db_t *db, long max_batch)
{
    intake_t *self = calloc(1, sizeof *self);
    self->db = db;
    self->max_batch = max_batch;
    s_seg_begin(self);
    self->recorded = zhashx_new();
    self->bulk = bulk_new();
    self->use_bulk = true;
    const char *items_help = "intake items by outcome";
    self->accepted = metrics_counter("creance_intake_items_total", items_help, "status=\"accepted\"");
    self->duplicate = metrics_counter("creance_intake_items_total", items_help, "status=\"duplicate\"");
    self->rejected = metrics_counter("creance_intake_items_total", items_help, "status=\"rejected\"");
    self->seconds = metrics_histogram("creance_intake_batch_seconds",
                                      "time from receiving a batch to replying", NULL);
    self->published = metrics_counter("creance_intake_events_published_total",
                                      "ledger events published after commit", NULL);
    self->redone = metrics_counter("creance_intake_bursts_redone_total",
                                   "bursts whose set-based recording failed and were redone "
                                   "item by item", NULL);
    self->bulk_items = metrics_counter("creance_intake_bulk_items_total",
                                       "items recorded in set-based runs (committed or not)", NULL);
    return self;
}

void
intake_destroy(intake_t **self_p)
{
    intake_t *self = *self_p;
    if (!self)
        return;
    for (size_t i = 0; i < self->capseg; i++)
        eventlog_batch_destroy(&self->segs[i]);
    free(self->segs);
    zhashx_destroy(&self->recorded);
    bulk_destroy(&self->bulk);
    free(self->buf);
    free(self);
    *self_p = NULL;
}

void
intake_set_max_batch(intake_t *self, long max_batch)
{
    self->max_batch = max_batch;
}

void
intake_set_partition(intake_t *self, const partition_t *part)
{
    self->part = *part;
}

void
intake_set_bulk(intake_t *self, bool on)
{
    self->use_bulk = on;
}

db_t *
intake_db(intake_t *self)
{
    return self->db;
}

static void
s_reject(intake_request_t *req, size_t i, const intake_error_t *err)
{
    Creance__ItemResult *r = &req->results[i];
    r->status = CREANCE__ITEM_STATUS__REJECTED;
    r->field = strdup(err->field);
    r->reason = strdup(err->reason);
    req->reject_keys[i] = err->key;
    req->rejected++;
}

/*  A statement of the item failed and was rolled back to its savepoint:
    only this item is rejected. `sqlstate` and `msg` were saved before the
    rollback overwrote them. */
static void
s_reject_db(intake_request_t *req, size_t i, const char *sqlstate, const char *msg,
            const char *external_id)
{
    intake_error_t err;
    if (strcmp(sqlstate, "23505") == 0)
        intake_fail(&err, "conflict", "external_id",
                    "conflict: recorded at the same time by another writer; resend the item");
    else if (strncmp(sqlstate, "23", 2) == 0)
        intake_fail(&err, "db_constraint", "item", "refused by the database: %s", msg);
    else {
        intake_fail(&err, "db_error", "item",
                    "database error (SQLSTATE %s), resend the item: %s", sqlstate, msg);
        log_warn("item failed in the database tenant=%s source=%s external_id=%s sqlstate=%s "
                 "error=\"%s\"", req->batch->tenant, req->batch->source, external_id, sqlstate, msg);
    }
    s_reject(req, i, &err);
}

/*  Idempotency keys already registered, for one request: a single query
    instead of one per item. New items (the usual case) then skip their
    own lookup; the ones found (replays, conflicts, debtor updates) and the
    ones recorded earlier in this burst are looked up one by one.
    Each key is probed on its own (LATERAL ... LIMIT 1, which the planner
    cannot turn into a join): for a tenant younger than the table's
    statistics, a join or "= ANY" was planned as a scan of all the
    tenant's rows, a cost that grows with every item it has sent. */
static int
s_prefetch_known(intake_t *self, intake_request_t *req, const bool *valid, bool *known)
{
    const Creance__IntakeBatch *batch = req->batch;
    size_t n = 0;
    size_t *index = calloc(batch->n_items ? batch->n_items : 1, sizeof *index);
    pgarray_t kinds = PGARRAY_INIT, ids = PGARRAY_INIT;
    pgarray_begin(&kinds);
    pgarray_begin(&ids);
    for (size_t i = 0; i < batch->n_items; i++) {
        known[i] = false;
        if (!valid[i])
            continue;
        pgarray_text(&kinds, intake_item_kind(batch->items[i]));
        pgarray_text(&ids, intake_item_external_id(batch->items[i]));
        index[n++] = i;
    }
    int rc = 0;
    if (n > 0) {
        const char *params[] = { batch->tenant, batch->source, pgarray_end(&kinds),
                                 pgarray_end(&ids) };
        PGresult *r = db_exec(self->db,
            "SELECT k.i FROM unnest($3::text[], $4::text[]) WITH ORDINALITY AS k(kind, ext, i) "
            "CROSS JOIN LATERAL (SELECT 1 FROM intake_items it WHERE it.tenant = $1 "
            "  AND it.source = $2 AND it.kind = k.kind AND it.external_id = k.ext LIMIT 1) it",
            4, params);
        if (!r)
            rc = -1;
        else {
            for (int row = 0; row < PQntuples(r); row++) {
                long k = strtol(PQgetvalue(r, row, 0), NULL, 10);
                if (k >= 1 && (size_t) k <= n)
                    known[index[k - 1]] = true;
            }
            PQclear(r);
        }
    }
    pgarray_free(&kinds);
    pgarray_free(&ids);
    free(index);
    return rc;
}

/*  Key of an item recorded in this burst (not yet visible to a prefetch
    made before it was recorded). */
static void
s_burst_key(char *out, size_t len, const Creance__IntakeBatch *b, const Creance__IntakeItem *item)
{
    snprintf(out, len, "%s\x1f%s\x1f%s\x1f%s", b->tenant, b->source, intake_item_kind(item),
             intake_item_external_id(item));
}

/*  0 when the item has its result, -1 when the transaction is broken.
    `lookup`: the key may be registered, check intake_items first. */
static int
s_process_item(intake_t *self, intake_request_t *req, size_t i, bool lookup)
{
    const Creance__IntakeBatch *batch = req->batch;
    const Creance__IntakeItem *item = batch->items[i];
    Creance__ItemResult *res = &req->results[i];
    intake_error_t err;
    fact_ctx_t ctx = {
        .db = self->db, .events = s_seg_current(self), .tenant = batch->tenant, .source = batch->source,
        .kind = intake_item_kind(item), .external_id = intake_item_external_id(item),
    };
    ctx.encoded_len = intake_item_encode(item, &self->buf, &self->cap);
    ctx.encoded = self->buf;

    PGresult *r = NULL;
    if (lookup) {
        const char *params[] = { ctx.tenant, ctx.source, ctx.kind, ctx.external_id,
                                 (const char *) ctx.encoded };
        int lengths[] = { 0, 0, 0, 0, (int) ctx.encoded_len };
        int formats[] = { 0, 0, 0, 0, 1 };
        r = db_exec_ex(self->db,
            "SELECT result_id, content_hash = sha256($5::bytea) FROM intake_items "
            "WHERE tenant = $1 AND source = $2 AND kind = $3 AND external_id = $4",
            5, params, lengths, formats, 0);
        if (!r)
            return -1;
    }
    if (r && PQntuples(r) == 1) {
        int64_t first = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
        bool same = strcmp(PQgetvalue(r, 0, 1), "t") == 0;
        PQclear(r);
        if (same) {
            res->status = CREANCE__ITEM_STATUS__DUPLICATE;
            res->id = first;
            req->duplicates++;
            return 0;
        }
        /* For a debtor, new content under a known key is master data
           changing (a new address, a new credit limit): an update. */
        if (item->fact_case != CREANCE__INTAKE_ITEM__FACT_DEBTOR) {
            intake_fail(&err, "conflict", "external_id",
                        "conflict: already recorded with different content (id %" PRId64 ")", first);
            s_reject(req, i, &err);
            return 0;
        }
        ctx.update = true;
    }
    else if (r)
        PQclear(r);

    if (db_run(self->db, "SAVEPOINT item", 0, NULL) != 0)
        return -1;
    int64_t id = 0;
    fact_rc_t rc = intake_fact_handler(item->fact_case)->record(&ctx, item, &id, &err);
    if (rc == FACT_RECORDED) {
        if (db_run(self->db, "RELEASE SAVEPOINT item", 0, NULL) != 0)
            return -1;
        res->status = CREANCE__ITEM_STATUS__ACCEPTED;
        res->id = id;
        req->accepted++;
        if (!ctx.update) {
            char key[4 * (INTAKE_MAX_ID_BYTES + 1)];
            s_burst_key(key, sizeof key, batch, item);
            zhashx_insert(self->recorded, key, (void *) 1);
        }
        return 0;
    }
    char sqlstate[6], msg[400];
    snprintf(sqlstate, sizeof sqlstate, "%s", db_last_sqlstate(self->db));
    snprintf(msg, sizeof msg, "%s", db_last_error(self->db));
    /* A broken connection fails here too: ROLLBACK TO outside the
       transaction (or without a connection) is an error, never a no-op. */
    if (db_run(self->db, "ROLLBACK TO SAVEPOINT item", 0, NULL) != 0
        || db_run(self->db, "RELEASE SAVEPOINT item", 0, NULL) != 0)
        return -1;
    if (rc == FACT_REJECTED)
        s_reject(req, i, &err);
    else
        s_reject_db(req, i, sqlstate, msg, ctx.external_id);
    return 0;
}

/*  Records the run in hand (bulk.h) and gives its items their results.
    0, or -1 when a statement failed: the burst is then redone item by
    item. */
static int
s_flush_run(intake_t *self, intake_request_t *req)
{
    if (bulk_count(self->bulk) == 0)
        return 0;
    fact_ctx_t ctx = {
        .db = self->db, .events = s_seg_current(self), .tenant = req->batch->tenant,
        .source = req->batch->source,
    };
    int rc = bulk_flush(self->bulk, &ctx);
    metric_add(self->bulk_items, (double) bulk_count(self->bulk));
    for (size_t k = 0; rc == 0 && k < bulk_count(self->bulk); k++) {
        size_t i;
        int64_t id;
        const intake_error_t *err;
        if (bulk_outcome(self->bulk, k, &i, &id, &err) == FACT_RECORDED) {
            req->results[i].status = CREANCE__ITEM_STATUS__ACCEPTED;
            req->results[i].id = id;
            req->accepted++;
        }
        else
            s_reject(req, i, err);
    }
    bulk_reset(self->bulk);
    return rc;
}

/*  An all_or_nothing request with a rejected item: nothing of it stays.
    Items that were (or would have been) accepted are answered REJECTED
    naming the first rejected item; duplicates stay DUPLICATE (they were
    recorded before, by an earlier batch, and still are). */
static void
s_refuse_request(intake_request_t *req)
{
    size_t first = 0;
    for (size_t i = 0; i < req->batch->n_items; i++)
        if (req->results[i].status == CREANCE__ITEM_STATUS__REJECTED) {
            first = i;
            break;
        }
    for (size_t i = 0; i < req->batch->n_items; i++) {
        Creance__ItemResult *r = &req->results[i];
        if (r->status == CREANCE__ITEM_STATUS__REJECTED || r->status == CREANCE__ITEM_STATUS__DUPLICATE)
            continue;
        if (r->status == CREANCE__ITEM_STATUS__ACCEPTED)
            req->accepted--;
        intake_error_t err;
        intake_fail(&err, "batch_refused", "all_or_nothing", "batch refused: item %zu rejected", first);
        r->id = 0;
        s_reject(req, i, &err);
    }
}

/*  The invoice (or, *payment, payment) external id an item without a
    debtor key names, or NULL. */
static const char *
s_ref(const Creance__IntakeItem *item, bool *payment)
{
    *payment = false;
    const char *ref = NULL;
    switch (item->fact_case) {
    case CREANCE__INTAKE_ITEM__FACT_DISPUTE:
        ref = item->dispute->invoice_external_id;
        break;
    case CREANCE__INTAKE_ITEM__FACT_INVOICE_ADJUSTMENT:
        ref = item->invoice_adjustment->invoice_external_id;
        break;
    case CREANCE__INTAKE_ITEM__FACT_INVOICE_CANCELLATION:
        ref = item->invoice_cancellation->invoice_external_id;
        break;
    case CREANCE__INTAKE_ITEM__FACT_WRITE_OFF:
        ref = item->write_off->invoice_external_id;
        break;
    case CREANCE__INTAKE_ITEM__FACT_PAYMENT_REVERSAL:
        ref = item->payment_reversal->payment_external_id;
        *payment = true;
        break;
    default:
        break;
    }
    return ref && *ref ? ref : NULL;
}

/*  The debtor keys of the items that name only an invoice or a payment:
    from the request's own invoices and payments, else from the ledger (one
    query). An item left without a key stays a barrier (order.h). The
    keys found live in `names` (copies, freed with it). */
static int
s_ref_keys(intake_t *self, const Creance__IntakeBatch *batch, const bool *valid,
           const char **keys, zhashx_t *names)
{
    size_t n = batch->n_items;
    char k[INTAKE_MAX_ID_BYTES + 4];
    for (size_t i = 0; i < n; i++) {
        const Creance__IntakeItem *it = batch->items[i];
        const char *ext = it->fact_case == CREANCE__INTAKE_ITEM__FACT_INVOICE ? it->invoice->external_id
                        : it->fact_case == CREANCE__INTAKE_ITEM__FACT_PAYMENT ? it->payment->external_id
                        : NULL;
        if (!valid[i] || !ext || !keys[i])
            continue;
        snprintf(k, sizeof k, "%c\x1f%s", it->fact_case == CREANCE__INTAKE_ITEM__FACT_INVOICE ? 'i' : 'p', ext);
        if (!zhashx_lookup(names, k))
            zhashx_insert(names, k, strdup(keys[i]));
    }
    pgarray_t inv = PGARRAY_INIT, pay = PGARRAY_INIT;
    pgarray_begin(&inv);
    pgarray_begin(&pay);
    size_t asked = 0;
    for (size_t i = 0; i < n; i++) {
        bool payment;
        const char *ref = valid[i] && !keys[i] ? s_ref(batch->items[i], &payment) : NULL;
        if (!ref)
            continue;
        snprintf(k, sizeof k, "%c\x1f%s", payment ? 'p' : 'i', ref);
        if (zhashx_lookup(names, k))
            continue;
        pgarray_text(payment ? &pay : &inv, ref);
        asked++;
    }
    int rc = 0;
    if (asked > 0) {
        const char *params[] = { batch->tenant, batch->source, pgarray_end(&inv), pgarray_end(&pay) };
        PGresult *r = db_exec(self->db,
            "SELECT 'i', x.ext, (SELECT d.external_id FROM debtors d"
            "   WHERE d.tenant = $1 AND d.id = i.debtor_id)"
            " FROM unnest($3::text[]) AS x(ext) CROSS JOIN LATERAL (SELECT i.debtor_id"
            "   FROM invoices i WHERE i.tenant = $1 AND i.source = $2 AND i.external_id = x.ext"
            "   LIMIT 1) i"
            " UNION ALL SELECT 'p', x.ext, (SELECT d.external_id FROM debtors d"
            "   WHERE d.tenant = $1 AND d.id = p.debtor_id)"
            " FROM unnest($4::text[]) AS x(ext) CROSS JOIN LATERAL (SELECT p.debtor_id"
            "   FROM payments p WHERE p.tenant = $1 AND p.source = $2 AND p.external_id = x.ext"
            "   LIMIT 1) p", 4, params);
        if (!r)
            rc = -1;
        for (int row = 0; r && row < PQntuples(r); row++) {
            snprintf(k, sizeof k, "%s\x1f%s", PQgetvalue(r, row, 0), PQgetvalue(r, row, 1));
            if (!zhashx_lookup(names, k))
                zhashx_insert(names, k, strdup(PQgetvalue(r, row, 2)));
        }
        if (r)
            PQclear(r);
    }
    pgarray_free(&inv);
    pgarray_free(&pay);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        bool payment;
        const char *ref = valid[i] && !keys[i] ? s_ref(batch->items[i], &payment) : NULL;
        if (!ref)
            continue;
        snprintf(k, sizeof k, "%c\x1f%s", payment ? 'p' : 'i', ref);
        keys[i] = zhashx_lookup(names, k);
    }
    return rc;
}

/*  The order the request's items are recorded in (order.h): runs of the
    set-based path as long as each debtor's own order allows. Item by item
    (no runs), the request's order. 0, or -1 when the transaction is
    broken. */
static int
s_order(intake_t *self, const intake_request_t *req, const bool *valid, const bool *known,
        size_t *ord)
{
    const Creance__IntakeBatch *batch = req->batch;
    size_t n = batch->n_items;
    const char **keys = calloc(n ? n : 1, sizeof *keys);
    order_group_t *groups = calloc(n ? n : 1, sizeof *groups);
    bool *again = calloc(n ? n : 1, sizeof *again);
    zhashx_t *seen = zhashx_new(), *names = zhashx_new();
    bool ok = self->bulk_now && keys && groups && again && seen && names;
    if (names)
        zhashx_set_destructor(names, (zhashx_destructor_fn *) zstr_free);
    int rc = 0;
    for (size_t i = 0; ok && i < n; i++) {
        const Creance__IntakeItem *item = batch->items[i];
        const char *field;
        groups[i] = ORDER_ALONE;
        if (!valid[i]) {
            keys[i] = "\x01invalid";        /* skipped: placed anywhere, splits nothing */
            continue;
        }
        /* A second item with the same external id is a barrier: the
           first must be recorded before it (it is then a duplicate or a
           conflict of it, as in request order). */
        char key[4 * (INTAKE_MAX_ID_BYTES + 1)];
        s_burst_key(key, sizeof key, batch, item);
        again[i] = zhashx_lookup(seen, key) != NULL;
        zhashx_insert(seen, key, (void *) 1);
        keys[i] = intakeroute_key(item, &field);
        if (known[i] || !bulk_handles(item))
            continue;
        groups[i] = item->fact_case == CREANCE__INTAKE_ITEM__FACT_DEBTOR ? ORDER_DEBTOR
                  : item->fact_case == CREANCE__INTAKE_ITEM__FACT_INVOICE ? ORDER_INVOICE
                  : ORDER_PAYMENT;
    }
    if (ok)
        rc = s_ref_keys(self, batch, valid, keys, names);
    for (size_t i = 0; ok && i < n; i++)
        if (again[i])
            keys[i] = NULL;
    if (!ok || rc != 0 || intake_order(n, keys, groups, ord) != 0)
        for (size_t i = 0; i < n; i++)
            ord[i] = i;
    free(keys);
    free(groups);
    free(again);
    zhashx_destroy(&seen);
    zhashx_destroy(&names);
    return rc;
}

/*  The items of one request: validation, one prefetch of the known keys,
    then each valid item. 0, or -1 when the transaction is broken. */
static int
s_process_request(intake_t *self, intake_request_t *req)
{
    const Creance__IntakeBatch *batch = req->batch;
    size_t n = batch->n_items ? batch->n_items : 1;
    bool *valid = calloc(n, sizeof *valid), *known = calloc(n, sizeof *known);
    for (size_t i = 0; i < batch->n_items; i++) {
        intake_error_t err;
        if (req->item_errors && req->item_errors[i].key) {
            valid[i] = false;
            s_reject(req, i, &req->item_errors[i]);
            continue;
        }
        valid[i] = intake_validate_item(batch->items[i], &err)
                   && intake_route_check(&self->part, batch->tenant, batch->items[i], &err);
        if (!valid[i])
            s_reject(req, i, &err);
    }
    /* All or nothing: the request's rows under one savepoint and its
       events in a segment of their own, both dropped if an item fails. */
    bool whole = batch->all_or_nothing;
    if (whole) {
        s_seg_push(self);
        if (db_run(self->db, "SAVEPOINT batch", 0, NULL) != 0) {
            free(valid);
            free(known);
            return -1;
        }
    }
    int rc = s_prefetch_known(self, req, valid, known);
    size_t *ord = calloc(n, sizeof *ord);
    if (!ord)
        rc = -1;
    else if (rc == 0)
        rc = s_order(self, req, valid, known, ord);
    for (size_t j = 0; j < batch->n_items && rc == 0; j++) {
        size_t i = ord[j];
        if (!valid[i])
            continue;
        if (whole && req->rejected > 0)
            break;                  /* refused already: the rest cannot matter */
        const Creance__IntakeItem *item = batch->items[i];
        char key[4 * (INTAKE_MAX_ID_BYTES + 1)];
        s_burst_key(key, sizeof key, batch, item);
        bool lookup = known[i] || zhashx_lookup(self->recorded, key);
        /* A new item of a kind with a set-based path joins the run; any
           other item first records the run, so that order is kept. */
        if (self->bulk_now && !lookup && bulk_handles(item)) {
            if (!bulk_fits(self->bulk, req, item))
                rc = s_flush_run(self, req);
            if (rc == 0) {
                bulk_add(self->bulk, req, i, item);
                zhashx_insert(self->recorded, key, (void *) 1);
            }
            continue;
        }
        rc = s_flush_run(self, req);
        if (rc == 0)
            rc = s_process_item(self, req, i, lookup);
    }
    if (rc == 0)
        rc = s_flush_run(self, req);
    bulk_reset(self->bulk);
    free(ord);
    if (whole && rc == 0) {
        if (req->rejected > 0) {
            if (db_run(self->db, "ROLLBACK TO SAVEPOINT batch", 0, NULL) != 0)
                rc = -1;
            eventlog_reset(s_seg_current(self));
            s_refuse_request(req);
        }
        if (rc == 0 && db_run(self->db, "RELEASE SAVEPOINT batch", 0, NULL) != 0)
            rc = -1;
        s_seg_push(self);           /* later requests' events after this one's */
    }
    free(valid);
    free(known);
    return rc;
}

/*  Tenants seen in this burst: one query per tenant, not per request. */
typedef struct {
    const char *tenant;
    bool exists;
} tenant_seen_t;

/*  1 known, 0 unknown, -1 database error. */
static int
s_tenant_known(intake_t *self, tenant_seen_t *seen, size_t *nseen, const char *tenant)
{
    for (size_t i = 0; i < *nseen; i++)
        if (strcmp(seen[i].tenant, tenant) == 0)
            return seen[i].exists;
    const char *params[] = { tenant };
    PGresult *r = db_exec(self->db, "SELECT 1 FROM tenants WHERE id = $1", 1, params);
    if (!r)
        return -1;
    bool exists = PQntuples(r) == 1;
    PQclear(r);
    if (*nseen < INTAKE_BURST_REQUESTS) {
        seen[*nseen].tenant = tenant;
        seen[*nseen].exists = exists;
        (*nseen)++;
    }
    return exists;
}

/*  One attempt at the burst in one transaction: 0 committed; 1 failed
    before COMMIT while recording runs (rolled back; worth redoing item by
    item); -1 failed (rolled back, or the COMMIT's outcome is unknown). */
static int
s_attempt(intake_t *self, intake_request_t **reqs, size_t n, bool use_bulk)
{
    size_t todo = 0;
    for (size_t k = 0; k < n; k++)
        if (reqs[k]->in_transaction) {
            s_clear_results(reqs[k]);
            todo++;
        }
    zhashx_purge(self->recorded);
    s_seg_begin(self);
    self->bulk_now = use_bulk;
    if (db_begin(self->db) != 0)
        return -1;

    tenant_seen_t seen[INTAKE_BURST_REQUESTS];
    size_t nseen = 0;
    for (size_t k = 0; k < n; k++) {
        intake_request_t *req = reqs[k];
        if (!req->in_transaction)
            continue;
        int known = s_tenant_known(self, seen, &nseen, req->batch->tenant);
        if (known < 0)
            goto failed;
        if (!known) {
            char reason[INTAKE_MAX_ID_BYTES + 32];
            snprintf(reason, sizeof reason, "unknown tenant '%s'", req->batch->tenant);
            s_set_error(req, "unknown_tenant", "tenant", reason);
            continue;
        }
        if (s_process_request(self, req) != 0)
            goto failed;
    }
    for (size_t i = 0; i < self->nseg; i++)
        if (eventlog_flush(self->segs[i], self->db) != 0)
            goto failed;
    if (db_commit(self->db) != 0) {
        log_error("commit failed: %s", db_last_error(self->db));
        s_seg_begin(self);
        return -1;
    }
    self->committed = s_seg_count(self) > 0;
    return 0;

failed:
    log_error("burst rolled back requests=%zu bulk=%d error=\"%s\"", todo, use_bulk,
              db_last_error(self->db));
    db_rollback(self->db);
    s_seg_begin(self);
    return use_bulk ? 1 : -1;
}

int
intake_process(intake_t *self, intake_request_t **reqs, size_t n)
{
    size_t todo = 0;
    for (size_t k = 0; k < n; k++) {
        intake_error_t err;
        reqs[k]->in_transaction = false;
        if (!intake_validate_batch(reqs[k]->batch, self->max_batch, &err))
            s_set_error(reqs[k], err.key, err.field, err.reason);
        else {
            reqs[k]->in_transaction = true;
            todo++;
        }
    }
    if (todo == 0)
        return 0;

    int rc = s_attempt(self, reqs, n, self->use_bulk);
    if (rc == 1) {
        /* The set-based recording failed (a constraint, a concurrent
           writer): the same burst item by item isolates the failure in the
           one item that causes it. */
        metric_inc(self->redone);
        log_warn("burst redone item by item requests=%zu", todo);
        rc = s_attempt(self, reqs, n, false);
    }
    if (rc == 0)
        return 0;
    for (size_t k = 0; k < n; k++) {
        if (!reqs[k]->in_transaction)
            continue;
        s_clear_results(reqs[k]);
        s_set_error(reqs[k], "db_unavailable", "database", "unavailable, resend the batch");
    }
    return -1;
}

/*  Log lines carry the sender's strings; unreadable ones are replaced. */
static const char *
s_printable(const char *s)
{
    if (!s)
        return "";
    size_t len = strlen(s);
    return len <= INTAKE_MAX_ID_BYTES && intake_utf8_valid(s, len, NULL) ? s : "(unprintable)";
}

static void
s_count_reason(const char *key)
{
    char labels[96];
    snprintf(labels, sizeof labels, "reason=\"%s\"", key ? key : "other");
    metric_inc(metrics_counter("creance_intake_rejected_total",
                               "rejections (whole batches and items) by reason", labels));
}

void
intake_request_done(intake_t *self, const intake_request_t *req)
{
    const Creance__IntakeBatch *b = req->batch;
    double seconds = (double) (now_us() - req->received_us) / 1e6;
    metric_observe(self->seconds, seconds);
    const char *tenant = s_printable(b->tenant), *source = s_printable(b->source),
               *batch_id = s_printable(b->batch_id);
    if (req->error) {
        s_count_reason(req->error_key);
        log_info("batch rejected tenant=%s source=%s batch_id=%s items=%zu error=\"%s\" ms=%.1f",
                 tenant, source, batch_id, b->n_items, req->error, seconds * 1e3);
        return;
    }
    metric_add(self->accepted, req->accepted);
    metric_add(self->duplicate, req->duplicates);
    metric_add(self->rejected, req->rejected);
    for (size_t i = 0; i < b->n_items && req->rejected; i++) {
        const Creance__ItemResult *r = &req->results[i];
        if (r->status != CREANCE__ITEM_STATUS__REJECTED)
            continue;
        s_count_reason(req->reject_keys[i]);
        const char *ext = intake_item_external_id(b->items[i]);
        log_info("item rejected tenant=%s source=%s batch_id=%s index=%zu kind=%s external_id=%s "
                 "field=%s reason=\"%s\"", tenant, source, batch_id, i,
                 intake_item_kind(b->items[i]) ? intake_item_kind(b->items[i]) : "none",
                 s_printable(ext), r->field, r->reason);
    }
    log_info("batch recorded tenant=%s source=%s batch_id=%s items=%zu accepted=%d duplicate=%d "
             "rejected=%d ms=%.1f", tenant, source, batch_id, b->n_items, req->accepted,
             req->duplicates, req->rejected, seconds * 1e3);
}

int
intake_publish(intake_t *self, bus_t *bus)
{
    if (!self->committed)
        return 0;
    self->committed = false;
    int sent = 0;
    for (size_t i = 0; i < self->nseg; i++)
        sent += eventlog_publish(self->segs[i], bus);
    metric_add(self->published, sent);
    return sent;
}
