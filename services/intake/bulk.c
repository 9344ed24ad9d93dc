/*  bulk: set-based recording of a run of new items (see bulk.h). */
#include "bulk.h"
#include "pgarray.h"
#include "dates.h"
#include "log.h"

#include <czmq.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ runs */

typedef struct {
    size_t index;                   /* in the request */
    const Creance__IntakeItem *item;
    fact_rc_t rc;
    int64_t id;
    int64_t debtor_id;
    bool credit;                    /* invoice: the debtor has unapplied credit (payments'
                                       or credit notes') */
    allocs_t allocs;                /* payment: its allocation */
    int64_t remaining;              /* payment: unapplied after it */
    intake_error_t err;
} entry_t;

enum { A_ALL = 16 };                /* array parameters of the widest statement */

struct bulk_t {
    const void *owner;
    Creance__IntakeItem__FactCase fact_case;
    entry_t *v;
    size_t n;
    pgarray_t arr[A_ALL];
    uint8_t *buf;                   /* one item's encoding */
    size_t cap;
    zhashx_t *by_ext;               /* external id -> entry (or invoice) */
};

bulk_t *
bulk_new(void)
{
    bulk_t *self = calloc(1, sizeof *self);
    self->v = calloc(BULK_MAX_RUN, sizeof *self->v);
    self->by_ext = zhashx_new();
    return self;
}

void
bulk_reset(bulk_t *self)
{
    for (size_t k = 0; k < self->n; k++)
        free(self->v[k].allocs.v);
    self->n = 0;
    self->owner = NULL;
}

void
bulk_destroy(bulk_t **self_p)
{
    bulk_t *self = *self_p;
    if (!self)
        return;
    bulk_reset(self);
    for (size_t i = 0; i < A_ALL; i++)
        pgarray_free(&self->arr[i]);
    free(self->v);
    free(self->buf);
    zhashx_destroy(&self->by_ext);
    free(self);
    *self_p = NULL;
}

bool
bulk_handles(const Creance__IntakeItem *item)
{
    return item->fact_case == CREANCE__INTAKE_ITEM__FACT_DEBTOR
        || item->fact_case == CREANCE__INTAKE_ITEM__FACT_INVOICE
        || item->fact_case == CREANCE__INTAKE_ITEM__FACT_PAYMENT;
}

bool
bulk_fits(const bulk_t *self, const void *owner, const Creance__IntakeItem *item)
{
    if (!bulk_handles(item))
        return false;
    if (self->n == 0)
        return true;
    return self->owner == owner && self->fact_case == item->fact_case && self->n < BULK_MAX_RUN;
}

void
bulk_add(bulk_t *self, const void *owner, size_t index, const Creance__IntakeItem *item)
{
    assert(bulk_fits(self, owner, item));
    self->owner = owner;
    self->fact_case = item->fact_case;
    entry_t *e = &self->v[self->n++];
    memset(e, 0, sizeof *e);
    e->index = index;
    e->item = item;
    e->rc = FACT_REJECTED;
}

size_t
bulk_count(const bulk_t *self)
{
    return self->n;
}

fact_rc_t
bulk_outcome(const bulk_t *self, size_t k, size_t *index, int64_t *id, const intake_error_t **err)
{
    const entry_t *e = &self->v[k];
    *index = e->index;
    *id = e->id;
    *err = &e->err;
    return e->rc;
}

/*  The item's encoding as hex into `a` (the idempotency hash is over it). */
static void
s_add_encoding(bulk_t *self, pgarray_t *a, const Creance__IntakeItem *item)
{
    size_t len = intake_item_encode(item, &self->buf, &self->cap);
    pgarray_hex(a, self->buf, len);
}

static void
s_begin_arrays(bulk_t *self, size_t n)
{
    for (size_t i = 0; i < n; i++)
        pgarray_begin(&self->arr[i]);
}

/*  Parameters: $1 tenant, $2 source, then the `narr` arrays, then the
    `nextra` scalars. */
static PGresult *
s_exec(bulk_t *self, fact_ctx_t *ctx, const char *sql, size_t narr, const char **extra,
       size_t nextra)
{
    const char *params[2 + A_ALL + 2];
    assert(narr <= A_ALL && nextra <= 2);
    params[0] = ctx->tenant;
    params[1] = ctx->source;
    for (size_t i = 0; i < narr; i++)
        params[2 + i] = pgarray_end(&self->arr[i]);
    for (size_t i = 0; i < nextra; i++)
        params[2 + narr + i] = extra[i];
    return db_exec(ctx->db, sql, (int) (2 + narr + nextra), params);
}

/*  After the statement: the entry whose external id is `ext`. */
static entry_t *
s_by_ext(bulk_t *self, const char *ext)
{
    return zhashx_lookup(self->by_ext, ext);
}

static void
s_index_ext(bulk_t *self, const char *(*ext_of)(const entry_t *))
{
    zhashx_purge(self->by_ext);
    for (size_t k = 0; k < self->n; k++)
        zhashx_insert(self->by_ext, ext_of(&self->v[k]), &self->v[k]);
}

/*  The run's context for one of its items (the events and the credit
    taken need no encoding: the run registered the items). */
static fact_ctx_t
s_item_ctx(const fact_ctx_t *ctx, const char *external_id)
{
    fact_ctx_t c = *ctx;
    c.external_id = external_id;
    c.update = false;
    c.encoded = NULL;
    c.encoded_len = 0;
    return c;
}

/* ---------------------------------------------------------------- debtors */

static const char *
s_debtor_ext(const entry_t *e)
{
    return e->item->debtor->external_id;
}

static int
s_flush_debtors(bulk_t *self, fact_ctx_t *ctx)
{
    s_begin_arrays(self, 16);
    pgarray_t *a = self->arr;
    for (size_t k = 0; k < self->n; k++) {
        const Creance__DebtorFact *f = self->v[k].item->debtor;
        debtor_row_t row;
        intake_debtor_row(f, &row);
        pgarray_text(&a[0], f->external_id);
        pgarray_text(&a[1], f->legal_name);
        pgarray_text(&a[2], f->company_id);
        pgarray_int(&a[3], row.kind);
        pgarray_text(&a[4], row.country);
        pgarray_text(&a[5], row.language);
        pgarray_text(&a[6], row.time_zone);
        pgarray_text(&a[7], f->email);
        pgarray_text(&a[8], f->phone);
        pgarray_text(&a[9], row.address_json);
        pgarray_text(&a[10], row.currency);
        pgarray_int(&a[11], row.credit_limit);
        pgarray_int(&a[12], row.terms);
        if (f->current_assets)
            pgarray_int(&a[13], f->current_assets->minor);
        else
            pgarray_text(&a[13], NULL);
        if (f->current_liabilities)
            pgarray_int(&a[14], f->current_liabilities->minor);
        else
            pgarray_text(&a[14], NULL);
        s_add_encoding(self, &a[15], self->v[k].item);
        free(row.address_json);
    }
    PGresult *r = s_exec(self, ctx,
        "WITH u AS (SELECT * FROM unnest($3::text[], $4::text[], $5::text[], $6::smallint[], "
        "    $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::text[], "
        "    $13::text[], $14::bigint[], $15::int[], $16::bigint[], $17::bigint[], $18::text[]) "
        "    AS u(ext, name, cid, kind, country, lang, tz, email, phone, addr, cur, lim, terms, "
        "         assets, liab, enc)), "
        "d AS (INSERT INTO debtors (tenant, source, external_id, legal_name, company_id, kind, "
        "    country, language, time_zone, email, phone, address, currency, credit_limit_minor, "
        "    payment_terms_days, current_assets_minor, current_liabilities_minor) "
        "    SELECT $1, $2, ext, name, cid, kind, country, lang, tz, email, phone, addr::jsonb, "
        "    cur, lim, terms, assets, liab FROM u RETURNING id, external_id), "
        "r AS (INSERT INTO intake_items (tenant, source, kind, external_id, content_hash, result_id) "
        "    SELECT $1, $2, $19, d.external_id, sha256(decode(u.enc, 'hex')), d.id "
        "    FROM d JOIN u ON u.ext = d.external_id) "
        "SELECT id, external_id FROM d", 16, &ctx->kind, 1);
    if (!r)
        return -1;
    s_index_ext(self, s_debtor_ext);
    for (int row = 0; row < PQntuples(r); row++) {
        entry_t *e = s_by_ext(self, PQgetvalue(r, row, 1));
        if (e) {
            e->id = strtoll(PQgetvalue(r, row, 0), NULL, 10);
            e->rc = FACT_RECORDED;
        }
    }
    PQclear(r);
    for (size_t k = 0; k < self->n; k++) {
        entry_t *e = &self->v[k];
        if (e->rc != FACT_RECORDED)
            return -1;              /* every new debtor inserts: anything else is a surprise */
        debtor_row_t row;
        intake_debtor_row(e->item->debtor, &row);
        fact_ctx_t c = s_item_ctx(ctx, s_debtor_ext(e));
        int rc = intake_debtor_event(&c, e->item->debtor, &row, e->id);
        free(row.address_json);
        if (rc != 0)
            return -1;
    }
    return 0;
}

/* --------------------------------------------------------------- invoices */

static const char *
s_invoice_ext(const entry_t *e)
{
    return e->item->invoice->external_id;
}

static int
s_flush_invoices(bulk_t *self, fact_ctx_t *ctx)
{
    s_begin_arrays(self, 9);
    pgarray_t *a = self->arr;
    for (size_t k = 0; k < self->n; k++) {
        const Creance__InvoiceFact *f = self->v[k].item->invoice;
        pgarray_text(&a[0], f->debtor_external_id);
        pgarray_text(&a[1], f->external_id);
        pgarray_text(&a[2], f->number);
        pgarray_day(&a[3], intake_pb_days(f->issue_date));
        pgarray_day(&a[4], intake_pb_days(f->due_date));
        pgarray_text(&a[5], f->amount->currency);
        pgarray_int(&a[6], f->amount->minor);
        pgarray_int(&a[7], f->terms_days);
        s_add_encoding(self, &a[8], self->v[k].item);
    }
    /* The debtor is resolved in the statement: no debtor, no row. The
       EXISTS sees the payments and credit notes of earlier statements of
       this transaction. */
    PGresult *r = s_exec(self, ctx,
        "WITH u AS (SELECT * FROM unnest($3::text[], $4::text[], $5::text[], $6::date[], "
        "    $7::date[], $8::text[], $9::bigint[], $10::int[], $11::text[]) "
        "    AS u(dext, ext, num, issue, due, cur, amt, terms, enc)), "
        "i AS (INSERT INTO invoices (tenant, debtor_id, source, external_id, number, issue_date, "
        "    due_date, currency, amount_minor, open_minor, terms_days) "
        "    SELECT $1, d.id, $2, u.ext, u.num, u.issue, u.due, u.cur, u.amt, u.amt, u.terms "
        "    FROM u CROSS JOIN LATERAL (SELECT id FROM debtors d WHERE d.tenant = $1 "
        "      AND d.source = $2 AND d.external_id = u.dext LIMIT 1) d "
        "    RETURNING id, debtor_id, external_id, currency), "
        "r AS (INSERT INTO intake_items (tenant, source, kind, external_id, content_hash, result_id) "
        "    SELECT $1, $2, $12, i.external_id, sha256(decode(u.enc, 'hex')), i.id "
        "    FROM i JOIN u ON u.ext = i.external_id) "
        "SELECT i.id, i.debtor_id, i.external_id, EXISTS (SELECT 1 FROM payments p "
        "    WHERE p.tenant = $1 AND p.debtor_id = i.debtor_id AND p.currency = i.currency "
        "    AND p.unapplied_minor > 0 AND p.reversed_at IS NULL) OR EXISTS (SELECT 1 "
        "    FROM credit_notes c WHERE c.tenant = $1 AND c.debtor_id = i.debtor_id "
        "    AND c.currency = i.currency AND c.unapplied_minor > 0) FROM i", 9, &ctx->kind, 1);
    if (!r)
        return -1;
    s_index_ext(self, s_invoice_ext);
    for (int row = 0; row < PQntuples(r); row++) {
        entry_t *e = s_by_ext(self, PQgetvalue(r, row, 2));
        if (!e)
            continue;
        e->id = strtoll(PQgetvalue(r, row, 0), NULL, 10);
        e->debtor_id = strtoll(PQgetvalue(r, row, 1), NULL, 10);
        e->credit = strcmp(PQgetvalue(r, row, 3), "t") == 0;
        e->rc = FACT_RECORDED;
    }
    PQclear(r);
    for (size_t k = 0; k < self->n; k++) {
        entry_t *e = &self->v[k];
        const Creance__InvoiceFact *f = e->item->invoice;
        if (e->rc != FACT_RECORDED) {
            intake_fail(&e->err, "unknown_debtor", "debtor_external_id",
                        "unknown debtor '%s' for source '%s'", f->debtor_external_id, ctx->source);
            continue;
        }
        fact_ctx_t c = s_item_ctx(ctx, f->external_id);
        credit_use_t *uses = NULL;
        size_t nuses = 0;
        /* In item order: the first invoice takes the oldest credit. */
        if (e->credit && intake_take_credit(&c, e->id, e->debtor_id, f, &uses, &nuses) != 0)
            return -1;
        int rc = intake_invoice_events(&c, e->id, e->debtor_id, f, uses, nuses);
        free(uses);
        if (rc != 0)
            return -1;
    }
    return 0;
}

/* --------------------------------------------------------------- payments */

/*  An invoice a payment of the run may touch, as read before the run. */
typedef struct {
    int64_t id, debtor_id;
    const char *ext;                /* in the read's PGresult */
    char currency[4];
    int64_t open;                   /* now, as the run's payments take it */
    int64_t open_before;            /* as read: the update's guard */
    int32_t due;
    bool is_open;                   /* status 'open' */
    bool touched;
    int32_t paid_date;              /* when open reached 0 */
} inv_t;

typedef struct {
    int64_t id;
    const char *ext;
    size_t first, count;            /* its open invoices in the sorted array */
} debtor_t;

static int
s_inv_cmp(const void *x, const void *y)
{
    const inv_t *a = x, *b = y;
    if (a->debtor_id != b->debtor_id)
        return a->debtor_id < b->debtor_id ? -1 : 1;
    if (a->due != b->due)
        return a->due < b->due ? -1 : 1;
    return a->id < b->id ? -1 : a->id > b->id;
}

static const char *
s_payment_ext(const entry_t *e)
{
    return e->item->payment->external_id;
}

/*  The allocation of one payment, as facts.c decides it: the named
    invoices in the payer's order, then the debtor's open invoices in the
    payment's currency, oldest due first. Rejections are the same too. */
static void
s_allocate(entry_t *e, const char *source, const debtor_t *debtor, inv_t *open, zhashx_t *named)
{
    const Creance__PaymentFact *f = e->item->payment;
    allocs_t *a = &e->allocs;
    int64_t remaining = f->amount->minor;
    for (size_t i = 0; i < f->n_invoice_external_ids; i++) {
        const char *ext = f->invoice_external_ids[i];
        char field[48];
        snprintf(field, sizeof field, "invoice_external_ids[%zu]", i);
        inv_t *inv = zhashx_lookup(named, ext);
        if (!inv) {
            intake_fail(&e->err, "unknown_invoice", field, "unknown invoice '%s' for source '%s'",
                        ext, source);
            return;
        }
        if (inv->debtor_id != debtor->id) {
            intake_fail(&e->err, "invoice_mismatch", field,
                        "invoice '%s' belongs to another debtor than '%s'", ext,
                        f->debtor_external_id);
            return;
        }
        if (strcmp(inv->currency, f->amount->currency) != 0) {
            intake_fail(&e->err, "currency_mismatch", field,
                        "invoice '%s' is in %s, the payment in %s", ext, inv->currency,
                        f->amount->currency);
            return;
        }
        if (inv->is_open && inv->open > 0 && remaining > 0)
            intake_alloc_take(a, inv->id, inv->open, inv->due, &remaining);
    }
    for (size_t i = debtor->first; i < debtor->first + debtor->count && remaining > 0; i++) {
        inv_t *inv = &open[i];
        if (inv->open <= 0 || strcmp(inv->currency, f->amount->currency) != 0
            || intake_alloc_find(a, inv->id))
            continue;
        intake_alloc_take(a, inv->id, inv->open, inv->due, &remaining);
    }
    size_t kept = 0;
    for (size_t i = 0; i < a->n; i++)
        if (a->v[i].amount > 0)
            a->v[kept++] = a->v[i];
    a->n = kept;
    e->remaining = remaining;
    e->rc = FACT_RECORDED;
}

/*  The invoice `id` among those read (open ones first, then named). */
static inv_t *
s_inv_find(zhashx_t *by_id, int64_t id)
{
    char key[24];
    snprintf(key, sizeof key, "%" PRId64, id);
    return zhashx_lookup(by_id, key);
}

static int
s_flush_payments(bulk_t *self, fact_ctx_t *ctx)
{
    /* 1. Read: the debtors, their open invoices, the named invoices,
       each by an index probe per key (LATERAL; LIMIT 1 or OFFSET 0 keep
       the planner from turning it back into a join, which a generic plan
       made into a scan of all the tenant's open invoices). */
    s_begin_arrays(self, 2);
    pgarray_t *a = self->arr;
    zhashx_t *seen = zhashx_new(), *seen_inv = zhashx_new();
    for (size_t k = 0; k < self->n; k++) {
        const Creance__PaymentFact *f = self->v[k].item->payment;
        if (zhashx_insert(seen, f->debtor_external_id, (void *) 1) == 0)
            pgarray_text(&a[0], f->debtor_external_id);
        for (size_t i = 0; i < f->n_invoice_external_ids; i++)
            if (zhashx_insert(seen_inv, f->invoice_external_ids[i], (void *) 1) == 0)
                pgarray_text(&a[1], f->invoice_external_ids[i]);
    }
    zhashx_destroy(&seen);
    zhashx_destroy(&seen_inv);
    PGresult *r = s_exec(self, ctx,
        "WITH d AS MATERIALIZED (SELECT d.id, d.external_id FROM unnest($3::text[]) AS x(ext) "
        "    CROSS JOIN LATERAL (SELECT id, external_id FROM debtors WHERE tenant = $1 "
        "      AND source = $2 AND external_id = x.ext LIMIT 1) d) "
        "SELECT 0, d.id, d.external_id, 0::bigint, '', 0::bigint, NULL::date, true FROM d "
        "UNION ALL "
        "SELECT 1, i.id, i.external_id, i.debtor_id, i.currency::text, i.open_minor, i.due_date, true "
        "FROM d CROSS JOIN LATERAL (SELECT * FROM invoices i WHERE i.tenant = $1 "
        "    AND i.debtor_id = d.id AND i.open_minor > 0 AND i.status = 'open' OFFSET 0) i "
        "UNION ALL "
        "SELECT 2, i.id, i.external_id, i.debtor_id, i.currency::text, i.open_minor, i.due_date, "
        "    i.status = 'open' FROM unnest($4::text[]) AS x(ext) "
        "CROSS JOIN LATERAL (SELECT * FROM invoices i WHERE i.tenant = $1 AND i.source = $2 "
        "    AND i.external_id = x.ext LIMIT 1) i", 2, NULL, 0);
    if (!r)
        return -1;
    int rows = PQntuples(r);
    inv_t *invs = calloc(rows ? (size_t) rows : 1, sizeof *invs);
    debtor_t *debtors = calloc(rows ? (size_t) rows : 1, sizeof *debtors);
    size_t ninv = 0, nopen = 0, ndebtors = 0;
    for (int row = 0; row < rows; row++) {
        int what = atoi(PQgetvalue(r, row, 0));
        int64_t id = strtoll(PQgetvalue(r, row, 1), NULL, 10);
        if (what == 0) {
            debtors[ndebtors].id = id;
            debtors[ndebtors].ext = PQgetvalue(r, row, 2);
            ndebtors++;
            continue;
        }
        inv_t *inv = &invs[ninv++];
        inv->id = id;
        inv->ext = PQgetvalue(r, row, 2);
        inv->debtor_id = strtoll(PQgetvalue(r, row, 3), NULL, 10);
        snprintf(inv->currency, sizeof inv->currency, "%s", PQgetvalue(r, row, 4));
        inv->open = inv->open_before = strtoll(PQgetvalue(r, row, 5), NULL, 10);
        date_parse(PQgetvalue(r, row, 6), &inv->due);
        inv->is_open = strcmp(PQgetvalue(r, row, 7), "t") == 0;
        if (what == 1)
            nopen++;
    }
    /* Rows come in UNION ALL order: the open invoices (what = 1) first. */
    qsort(invs, nopen, sizeof *invs, s_inv_cmp);
    zhashx_t *by_id = zhashx_new(), *named = zhashx_new(), *by_debtor = zhashx_new();
    for (size_t i = 0; i < ninv; i++) {
        char key[24];
        snprintf(key, sizeof key, "%" PRId64, invs[i].id);
        /* An invoice both open for a debtor of the run and named is one
           invoice: the named entry points at the open one. */
        inv_t *same = zhashx_lookup(by_id, key);
        if (!same)
            zhashx_insert(by_id, key, &invs[i]);
        if (i >= nopen)
            zhashx_update(named, invs[i].ext, same ? same : &invs[i]);
    }
    for (size_t j = 0; j < ndebtors; j++) {
        debtor_t *d = &debtors[j];
        size_t lo = 0;
        while (lo < nopen && invs[lo].debtor_id < d->id)
            lo++;
        size_t hi = lo;
        while (hi < nopen && invs[hi].debtor_id == d->id)
            hi++;
        d->first = lo;
        d->count = hi - lo;
        zhashx_insert(by_debtor, d->ext, d);
    }

    /* 2. Decide, payment after payment, on the amounts as they move. */
    size_t accepted = 0;
    for (size_t k = 0; k < self->n; k++) {
        entry_t *e = &self->v[k];
        const Creance__PaymentFact *f = e->item->payment;
        const debtor_t *d = zhashx_lookup(by_debtor, f->debtor_external_id);
        if (!d) {
            intake_fail(&e->err, "unknown_debtor", "debtor_external_id",
                        "unknown debtor '%s' for source '%s'", f->debtor_external_id, ctx->source);
            continue;
        }
        e->debtor_id = d->id;
        s_allocate(e, ctx->source, d, invs, named);
        if (e->rc != FACT_RECORDED)
            continue;
        accepted++;
        int32_t received = intake_pb_days(f->received_date);
        for (size_t i = 0; i < e->allocs.n; i++) {
            inv_t *inv = s_inv_find(by_id, e->allocs.v[i].invoice_id);
            inv->open -= e->allocs.v[i].amount;
            inv->touched = true;
            if (inv->open == 0)
                inv->paid_date = received;
        }
    }

    /* 3. Write: payments, intake_items, allocations, invoices. */
    int rc = 0;
    if (accepted > 0) {
        s_begin_arrays(self, 16);
        size_t touched = 0;
        for (size_t k = 0; k < self->n; k++) {
            entry_t *e = &self->v[k];
            if (e->rc != FACT_RECORDED)
                continue;
            const Creance__PaymentFact *f = e->item->payment;
            pgarray_int(&a[0], e->debtor_id);
            pgarray_text(&a[1], f->external_id);
            pgarray_day(&a[2], intake_pb_days(f->received_date));
            pgarray_text(&a[3], f->amount->currency);
            pgarray_int(&a[4], f->amount->minor);
            pgarray_int(&a[5], e->remaining);
            pgarray_text(&a[6], f->method);
            s_add_encoding(self, &a[7], e->item);
            for (size_t i = 0; i < e->allocs.n; i++) {
                pgarray_text(&a[8], f->external_id);
                pgarray_int(&a[9], e->allocs.v[i].invoice_id);
                pgarray_text(&a[10], f->amount->currency);
                pgarray_int(&a[11], e->allocs.v[i].amount);
            }
        }
        for (size_t i = 0; i < ninv; i++) {
            inv_t *inv = s_inv_find(by_id, invs[i].id);
            if (inv != &invs[i] || !inv->touched)
                continue;           /* a copy, or untouched */
            pgarray_int(&a[12], inv->id);
            pgarray_int(&a[13], inv->open_before);
            pgarray_int(&a[14], inv->open);
            if (inv->open == 0)
                pgarray_day(&a[15], inv->paid_date);
            else
                pgarray_text(&a[15], NULL);
            touched++;
        }
        char expect[24];
        snprintf(expect, sizeof expect, "%zu", touched);
        const char *extra[] = { ctx->kind, expect };
        /* Allocations get their ids in the order they were decided (ORDER
           BY the arrays' ordinality, whatever join the planner picks): a
           partial refund takes back the most recent ones first.
           An invoice is updated only if its open amount is still what was
           read: a concurrent writer makes the count differ, and the burst
           is redone item by item (which locks). Each invoice is found by
           its key (tenant, id), then updated by its row address (ctid, a
           TID scan): with a join, the statistics of a young tenant (a few
           rows, as far as the planner knows) made a scan of all its
           invoices look cheaper. A row changed since its ctid was read is
           not updated (its new version has another ctid), so the count
           differs and the run is redone. */
        PGresult *w = s_exec(self, ctx,
            "WITH u AS (SELECT * FROM unnest($3::bigint[], $4::text[], $5::date[], $6::text[], "
            "    $7::bigint[], $8::bigint[], $9::text[], $10::text[]) "
            "    AS u(debtor, ext, rcv, cur, amt, unap, method, enc)), "
            "p AS (INSERT INTO payments (tenant, debtor_id, source, external_id, received_date, "
            "    currency, amount_minor, unapplied_minor, method) "
            "    SELECT $1, debtor, $2, ext, rcv, cur, amt, unap, method FROM u "
            "    RETURNING id, external_id, debtor_id), "
            "r AS (INSERT INTO intake_items (tenant, source, kind, external_id, content_hash, result_id) "
            "    SELECT $1, $2, $19, p.external_id, sha256(decode(u.enc, 'hex')), p.id "
            "    FROM p JOIN u ON u.ext = p.external_id), "
            "al AS (INSERT INTO allocations (tenant, debtor_id, payment_id, invoice_id, currency, "
            "    amount_minor) SELECT $1, p.debtor_id, p.id, x.invoice_id, x.cur, x.amount "
            "    FROM unnest($11::text[], $12::bigint[], $13::text[], $14::bigint[]) "
            "    WITH ORDINALITY AS x(ext, invoice_id, cur, amount, n) JOIN p ON p.external_id = x.ext "
            "    ORDER BY x.n), "
            "t AS MATERIALIZED (SELECT v.*, k.tid "
            "    FROM unnest($15::bigint[], $16::bigint[], $17::bigint[], $18::date[]) "
            "    AS v(id, old_open, new_open, paid) CROSS JOIN LATERAL (SELECT ctid AS tid "
            "      FROM invoices WHERE tenant = $1 AND id = v.id LIMIT 1) k), "
            "v AS (UPDATE invoices i SET open_minor = t.new_open, "
            "    status = CASE WHEN t.new_open = 0 THEN 'paid' ELSE i.status END, "
            "    paid_date = CASE WHEN t.new_open = 0 THEN t.paid ELSE i.paid_date END "
            "    FROM t WHERE i.ctid = t.tid AND i.open_minor = t.old_open RETURNING i.id) "
            "SELECT p.id, p.external_id, (SELECT count(*) FROM v) = $20::bigint FROM p",
            16, extra, 2);
        if (!w)
            rc = -1;
        else {
            s_index_ext(self, s_payment_ext);
            size_t got = 0;
            for (int row = 0; row < PQntuples(w); row++) {
                if (strcmp(PQgetvalue(w, row, 2), "t") != 0) {
                    rc = -1;
                    log_warn("bulk: an invoice changed under the run tenant=%s source=%s; "
                             "redone item by item", ctx->tenant, ctx->source);
                    break;
                }
                entry_t *e = s_by_ext(self, PQgetvalue(w, row, 1));
                if (e && e->rc == FACT_RECORDED) {
                    e->id = strtoll(PQgetvalue(w, row, 0), NULL, 10);
                    got++;
                }
            }
            if (rc == 0 && got != accepted)
                rc = -1;
            PQclear(w);
        }
    }
    /* 4. Events, in item order. */
    for (size_t k = 0; rc == 0 && k < self->n; k++) {
        entry_t *e = &self->v[k];
        if (e->rc != FACT_RECORDED)
            continue;
        fact_ctx_t c = s_item_ctx(ctx, e->item->payment->external_id);
        if (intake_payment_events(&c, e->item->payment, e->id, e->debtor_id, &e->allocs,
                                  e->remaining) != FACT_RECORDED)
            rc = -1;
    }
    zhashx_destroy(&by_id);
    zhashx_destroy(&named);
    zhashx_destroy(&by_debtor);
    free(invs);
    free(debtors);
    PQclear(r);
    return rc;
}

int
bulk_flush(bulk_t *self, fact_ctx_t *ctx)
{
    if (self->n == 0)
        return 0;
    ctx->kind = intake_item_kind(self->v[0].item);
    switch (self->fact_case) {
    case CREANCE__INTAKE_ITEM__FACT_DEBTOR:  return s_flush_debtors(self, ctx);
    case CREANCE__INTAKE_ITEM__FACT_INVOICE: return s_flush_invoices(self, ctx);
    case CREANCE__INTAKE_ITEM__FACT_PAYMENT: return s_flush_payments(self, ctx);
    default:                                 return -1;
    }
}
