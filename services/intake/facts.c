/*  facts: the ledger rows and events of each kind of intake item. */
#include "facts.h"
#include "pgarray.h"
#include "dates.h"
#include "envelope.h"
#include "log.h"

#include <czmq.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*  Text forms of SQL parameters. */
typedef struct { char s[24]; } num_t;
typedef struct { char s[11]; } day_t;

static num_t
s_num(int64_t v)
{
    num_t n;
    snprintf(n.s, sizeof n.s, "%" PRId64, v);
    return n;
}

static day_t
s_day(int32_t days)
{
    day_t d;
    date_format(days, d.s);
    return d;
}

int32_t
intake_pb_days(const Creance__Date *d)
{
    int32_t days = 0;
    date_from_pb(d, &days);         /* validated before */
    return days;
}

size_t
intake_item_encode(const Creance__IntakeItem *item, uint8_t **buf, size_t *cap)
{
    size_t size = creance__intake_item__get_packed_size(item);
    if (size > *cap) {
        *cap = size * 2;
        *buf = realloc(*buf, *cap);
    }
    return creance__intake_item__pack(item, *buf);
}

static int64_t
s_get_i64(const PGresult *r, int row, int col)
{
    return strtoll(PQgetvalue(r, row, col), NULL, 10);
}

static int32_t
s_get_day(const PGresult *r, int row, int col)
{
    int32_t days = 0;
    date_parse(PQgetvalue(r, row, col), &days);
    return days;
}

/*  The envelope of one ledger event: header from envelope_init, the source
    copied (envelope_clear frees it), the event set by the caller. */
static void
s_env_begin(fact_ctx_t *ctx, Creance__Envelope *env)
{
    envelope_init(env, ctx->tenant, "ledger", "intake");
    env->source = strdup(ctx->source);
}

static int
s_env_add(fact_ctx_t *ctx, Creance__Envelope *env)
{
    int rc = eventlog_add(ctx->events, env);
    envelope_clear(env);
    return rc;
}

int
intake_fact_register(fact_ctx_t *ctx, int64_t id)
{
    num_t rid = s_num(id);
    const char *params[] = { ctx->tenant, ctx->source, ctx->kind, ctx->external_id,
                             (const char *) ctx->encoded, rid.s };
    int lengths[] = { 0, 0, 0, 0, (int) ctx->encoded_len, 0 };
    int formats[] = { 0, 0, 0, 0, 1, 0 };   /* the encoding is bytea, binary */
    const char *sql = ctx->update
        ? "UPDATE intake_items SET content_hash = sha256($5::bytea), result_id = $6::bigint "
          "WHERE tenant = $1 AND source = $2 AND kind = $3 AND external_id = $4"
        : "INSERT INTO intake_items (tenant, source, kind, external_id, content_hash, result_id) "
          "VALUES ($1, $2, $3, $4, sha256($5::bytea), $6::bigint)";
    PGresult *r = db_exec_ex(ctx->db, sql, 6, params, lengths, formats, 0);
    if (!r)
        return -1;
    PQclear(r);
    return 0;
}

/* ------------------------------------------------------------------ debtor */

static const char *
s_or(const char *value, const char *dflt)
{
    return value && *value ? value : dflt;
}

void
intake_debtor_row(const Creance__DebtorFact *f, debtor_row_t *row)
{
    row->kind = f->kind == CREANCE__DEBTOR_KIND__CONSUMER ? 2 : 1;
    row->country = s_or(f->country, "FR");
    row->language = s_or(f->language, "fr");
    row->time_zone = s_or(f->time_zone, "Europe/Paris");
    /* One currency for the debtor's figures (validate.c checked they agree). */
    const Creance__Money *figure = f->credit_limit ? f->credit_limit
                                 : f->current_assets ? f->current_assets : f->current_liabilities;
    row->currency = figure ? figure->currency : "EUR";
    row->credit_limit = f->credit_limit ? f->credit_limit->minor : 0;
    /* proto3 cannot tell 0 from absent: 0 means "not given", the default
       terms of 30 days. */
    row->terms = f->payment_terms_days > 0 ? f->payment_terms_days : 30;

    json_t *addr = json_object();
    if (f->address) {
        const struct { const char *key, *value; } parts[] = {
            { "line1", f->address->line1 }, { "line2", f->address->line2 },
            { "postal_code", f->address->postal_code }, { "city", f->address->city },
            { "country", f->address->country },
        };
        for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++)
            if (parts[i].value && *parts[i].value)
                json_object_set_new(addr, parts[i].key, json_string(parts[i].value));
    }
    row->address_json = json_dumps(addr, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(addr);
}

int
intake_debtor_event(fact_ctx_t *ctx, const Creance__DebtorFact *f, const debtor_row_t *row,
                    int64_t id)
{
    Creance__Money limit = CREANCE__MONEY__INIT;
    limit.minor = row->credit_limit;
    limit.currency = (char *) row->currency;
    Creance__DebtorCreated d = CREANCE__DEBTOR_CREATED__INIT;
    d.debtor_id = id;
    d.external_id = f->external_id;
    d.legal_name = f->legal_name;
    d.company_id = f->company_id;
    d.kind = (Creance__DebtorKind) row->kind;
    d.country = (char *) row->country;
    d.language = (char *) row->language;
    d.time_zone = (char *) row->time_zone;
    d.email = f->email;
    d.phone = f->phone;
    d.address = f->address;
    d.credit_limit = &limit;
    d.payment_terms_days = row->terms;
    d.current_assets = f->current_assets;
    d.current_liabilities = f->current_liabilities;

    Creance__Envelope env;
    s_env_begin(ctx, &env);
    Creance__DebtorUpdated u = CREANCE__DEBTOR_UPDATED__INIT;
    if (ctx->update) {
        u.debtor = &d;
        env.event_case = CREANCE__ENVELOPE__EVENT_DEBTOR_UPDATED;
        env.debtor_updated = &u;
    }
    else {
        env.event_case = CREANCE__ENVELOPE__EVENT_DEBTOR_CREATED;
        env.debtor_created = &d;
    }
    return s_env_add(ctx, &env);
}

static fact_rc_t
s_record_debtor(fact_ctx_t *ctx, const Creance__IntakeItem *item, int64_t *id, intake_error_t *err)
{
    const Creance__DebtorFact *f = item->debtor;
    debtor_row_t row;
    intake_debtor_row(f, &row);
    num_t kind = s_num(row.kind), limit = s_num(row.credit_limit), terms = s_num(row.terms),
          assets = s_num(f->current_assets ? f->current_assets->minor : 0),
          liabilities = s_num(f->current_liabilities ? f->current_liabilities->minor : 0);
    const char *params[] = {
        ctx->tenant, ctx->source, f->external_id, f->legal_name, f->company_id,
        kind.s, row.country, row.language, row.time_zone, f->email, f->phone,
        row.address_json, row.currency, limit.s, terms.s,
        f->current_assets ? assets.s : NULL,
        f->current_liabilities ? liabilities.s : NULL,
    };
    const char *sql = ctx->update
        ? "UPDATE debtors SET legal_name = $4, company_id = $5, kind = $6::smallint, "
          "country = $7, language = $8, time_zone = $9, email = $10, phone = $11, "
          "address = $12::jsonb, currency = $13, credit_limit_minor = $14::bigint, "
          "payment_terms_days = $15::int, current_assets_minor = $16::bigint, "
          "current_liabilities_minor = $17::bigint, updated_at = now() "
          "WHERE tenant = $1 AND source = $2 AND external_id = $3 AND erased_at IS NULL "
          "RETURNING id"
        : "INSERT INTO debtors (tenant, source, external_id, legal_name, company_id, kind, "
          "country, language, time_zone, email, phone, address, currency, credit_limit_minor, "
          "payment_terms_days, current_assets_minor, current_liabilities_minor) "
          "VALUES ($1, $2, $3, $4, $5, $6::smallint, $7, $8, $9, $10, $11, $12::jsonb, $13, "
          "$14::bigint, $15::int, $16::bigint, $17::bigint) RETURNING id";
    PGresult *r = db_exec(ctx->db, sql, 17, params);
    free(row.address_json);
    if (!r)
        return FACT_DB_ERROR;
    if (PQntuples(r) != 1) {
        PQclear(r);
        /* Erased (GDPR, reporting's erase.h): its personal data is not
           recorded again; the source must erase it too. */
        if (ctx->update) {
            const char *q[] = { ctx->tenant, ctx->source, f->external_id };
            r = db_exec(ctx->db, "SELECT 1 FROM debtors WHERE tenant = $1 AND source = $2 "
                                 "AND external_id = $3 AND erased_at IS NOT NULL", 3, q);
            if (!r)
                return FACT_DB_ERROR;
            bool erased = PQntuples(r) == 1;
            PQclear(r);
            if (erased) {
                intake_fail(err, "erased_debtor", "external_id",
                            "debtor '%s' was erased (personal data); its data is not recorded "
                            "again", f->external_id);
                return FACT_REJECTED;
            }
        }
        /* Registered in intake_items but gone from debtors: nothing here
           deletes debtors, so someone did it by hand. */
        intake_fail(err, "unknown_debtor", "external_id",
                    "debtor '%s' is registered but no longer in the ledger", f->external_id);
        return FACT_REJECTED;
    }
    *id = s_get_i64(r, 0, 0);
    PQclear(r);
    if (intake_fact_register(ctx, *id) != 0)
        return FACT_DB_ERROR;
    return intake_debtor_event(ctx, f, &row, *id) == 0 ? FACT_RECORDED : FACT_DB_ERROR;
}

/* ------------------------------------------------------- unapplied credit */

int
intake_credit_order(const credit_use_t *a, const credit_use_t *b)
{
    if (a->received != b->received)
        return a->received < b->received ? -1 : 1;
    if (a->credit_note != b->credit_note)
        return a->credit_note ? -1 : 1;
    return a->id < b->id ? -1 : a->id > b->id;
}

static int
s_credit_cmp(const void *x, const void *y)
{
    return intake_credit_order(x, y);
}

int
intake_take_credit(fact_ctx_t *ctx, int64_t invoice_id, int64_t debtor_id, const Creance__InvoiceFact *f,
              credit_use_t **uses, size_t *nuses)
{
    num_t debtor = s_num(debtor_id);
    const char *params[] = { ctx->tenant, debtor.s, f->amount->currency };
    /* Both kinds of credit, locked (a concurrent invoice of the same
       debtor waits here rather than taking the same credit twice). */
    PGresult *r = db_exec(ctx->db,
        "WITH p AS (SELECT id, unapplied_minor, received_date FROM payments "
        "    WHERE tenant = $1 AND debtor_id = $2::bigint AND currency = $3 "
        "    AND unapplied_minor > 0 AND reversed_at IS NULL FOR UPDATE), "
        "c AS (SELECT id, unapplied_minor, issue_date FROM credit_notes "
        "    WHERE tenant = $1 AND debtor_id = $2::bigint AND currency = $3 "
        "    AND unapplied_minor > 0 FOR UPDATE) "
        "SELECT id, unapplied_minor, received_date, false FROM p "
        "UNION ALL SELECT id, unapplied_minor, issue_date, true FROM c", 3, params);
    if (!r)
        return -1;
    int rows = PQntuples(r);
    credit_use_t *all = calloc(rows ? (size_t) rows : 1, sizeof *all);
    for (int i = 0; i < rows; i++) {
        all[i].id = s_get_i64(r, i, 0);
        all[i].left = s_get_i64(r, i, 1);      /* the credit, until taken */
        all[i].received = s_get_day(r, i, 2);
        all[i].credit_note = strcmp(PQgetvalue(r, i, 3), "t") == 0;
    }
    PQclear(r);
    qsort(all, (size_t) rows, sizeof *all, s_credit_cmp);
    int64_t open = f->amount->minor;
    *nuses = 0;
    for (int i = 0; i < rows && open > 0; i++) {
        credit_use_t *u = &all[(*nuses)++];
        u->amount = u->left < open ? u->left : open;
        u->left -= u->amount;
        open -= u->amount;
    }
    *uses = all;
    if (*nuses == 0)
        return 0;
    pgarray_t pids = PGARRAY_INIT, pamounts = PGARRAY_INIT, cids = PGARRAY_INIT,
              camounts = PGARRAY_INIT;
    pgarray_begin(&pids);
    pgarray_begin(&pamounts);
    pgarray_begin(&cids);
    pgarray_begin(&camounts);
    for (size_t i = 0; i < *nuses; i++) {
        const credit_use_t *u = &all[i];
        pgarray_int(u->credit_note ? &cids : &pids, u->id);
        pgarray_int(u->credit_note ? &camounts : &pamounts, u->amount);
    }
    num_t iid = s_num(invoice_id), taken = s_num(f->amount->minor - open);
    day_t issue = s_day(intake_pb_days(f->issue_date));
    const char *wparams[] = { ctx->tenant, iid.s, f->amount->currency,
                              pgarray_end(&pids), pgarray_end(&pamounts), taken.s, issue.s,
                              pgarray_end(&cids), pgarray_end(&camounts), debtor.s };
    /* A payment's credit becomes an allocation, a credit note's an
       application; both lower the invoice's open amount alike. */
    int rc = db_run(ctx->db,
        "WITH a AS (SELECT * FROM unnest($4::bigint[], $5::bigint[]) AS a(payment_id, amount)), "
        "ins AS (INSERT INTO allocations (tenant, debtor_id, payment_id, invoice_id, currency, "
        "    amount_minor) SELECT $1, $10::bigint, a.payment_id, $2::bigint, $3, a.amount FROM a), "
        "p AS (UPDATE payments p SET unapplied_minor = p.unapplied_minor - a.amount FROM a "
        "    WHERE p.tenant = $1 AND p.id = a.payment_id), "
        "c AS (SELECT * FROM unnest($8::bigint[], $9::bigint[]) AS c(credit_note_id, amount)), "
        "cins AS (INSERT INTO credit_note_applications (tenant, debtor_id, credit_note_id, invoice_id, "
        "    currency, amount_minor) SELECT $1, $10::bigint, c.credit_note_id, $2::bigint, $3, c.amount "
        "    FROM c), "
        "cn AS (UPDATE credit_notes n SET unapplied_minor = n.unapplied_minor - c.amount, "
        "    applied_minor = n.applied_minor + c.amount FROM c "
        "    WHERE n.tenant = $1 AND n.id = c.credit_note_id) "
        "UPDATE invoices SET open_minor = open_minor - $6::bigint, "
        "status = CASE WHEN open_minor = $6::bigint THEN 'paid' ELSE status END, "
        "paid_date = CASE WHEN open_minor = $6::bigint THEN $7::date ELSE paid_date END "
        "WHERE tenant = $1 AND id = $2::bigint", 10, wparams);
    pgarray_free(&pids);
    pgarray_free(&pamounts);
    pgarray_free(&cids);
    pgarray_free(&camounts);
    return rc;
}

static int
s_credit_events(fact_ctx_t *ctx, int64_t invoice_id, int64_t debtor_id,
                const Creance__InvoiceFact *f, const credit_use_t *uses, size_t n)
{
    int64_t open = f->amount->minor;
    for (size_t i = 0; i < n; i++) {
        open -= uses[i].amount;
        Creance__Money m_amount = CREANCE__MONEY__INIT, m_after = CREANCE__MONEY__INIT,
                       m_left = CREANCE__MONEY__INIT;
        m_amount.minor = uses[i].amount;
        m_after.minor = open;
        m_left.minor = uses[i].left;
        m_amount.currency = m_after.currency = m_left.currency = f->amount->currency;
        Creance__Date received;
        date_to_pb(uses[i].received, &received);
        Creance__Envelope env;
        s_env_begin(ctx, &env);
        Creance__CreditNoteApplied c = CREANCE__CREDIT_NOTE_APPLIED__INIT;
        Creance__Allocation a = CREANCE__ALLOCATION__INIT;
        Creance__Allocation *ptr = &a;
        Creance__PaymentAllocated e = CREANCE__PAYMENT_ALLOCATED__INIT;
        if (uses[i].credit_note) {
            c.credit_note_id = uses[i].id;
            c.debtor_id = debtor_id;
            c.invoice_id = invoice_id;
            c.amount = &m_amount;
            c.invoice_open_after = &m_after;
            c.due_date = f->due_date;
            c.issue_date = &received;
            c.unapplied = &m_left;
            env.event_case = CREANCE__ENVELOPE__EVENT_CREDIT_NOTE_APPLIED;
            env.credit_note_applied = &c;
        }
        else {
            a.invoice_id = invoice_id;
            a.amount = &m_amount;
            a.invoice_open_after = &m_after;
            a.due_date = f->due_date;
            e.payment_id = uses[i].id;
            e.debtor_id = debtor_id;
            e.received_date = &received;
            e.n_allocations = 1;
            e.allocations = &ptr;
            e.unapplied = &m_left;
            env.event_case = CREANCE__ENVELOPE__EVENT_PAYMENT_ALLOCATED;
            env.payment_allocated = &e;
        }
        if (s_env_add(ctx, &env) != 0)
            return -1;
    }
    return 0;
}

int
intake_invoice_events(fact_ctx_t *ctx, int64_t invoice_id, int64_t debtor_id,
                      const Creance__InvoiceFact *f, const credit_use_t *uses, size_t nuses)
{
    Creance__InvoiceIssued e = CREANCE__INVOICE_ISSUED__INIT;
    e.invoice_id = invoice_id;
    e.debtor_id = debtor_id;
    e.external_id = f->external_id;
    e.number = f->number;
    e.issue_date = f->issue_date;
    e.due_date = f->due_date;
    e.amount = f->amount;
    e.terms_days = f->terms_days;
    Creance__Envelope env;
    s_env_begin(ctx, &env);
    env.event_case = CREANCE__ENVELOPE__EVENT_INVOICE_ISSUED;
    env.invoice_issued = &e;
    if (s_env_add(ctx, &env) != 0)
        return -1;
    return s_credit_events(ctx, invoice_id, debtor_id, f, uses, nuses);
}

/* ----------------------------------------------------------------- invoice */

static fact_rc_t
s_record_invoice(fact_ctx_t *ctx, const Creance__IntakeItem *item, int64_t *id, intake_error_t *err)
{
    const Creance__InvoiceFact *f = item->invoice;
    day_t issue = s_day(intake_pb_days(f->issue_date)), due = s_day(intake_pb_days(f->due_date));
    num_t amount = s_num(f->amount->minor), terms = s_num(f->terms_days);
    const char *params[] = { ctx->tenant, ctx->source, f->debtor_external_id, f->external_id,
                             f->number, issue.s, due.s, f->amount->currency, amount.s, terms.s };
    /* The debtor is resolved in the same statement: no row, no debtor. */
    PGresult *r = db_exec(ctx->db,
        "INSERT INTO invoices (tenant, debtor_id, source, external_id, number, issue_date, "
        "due_date, currency, amount_minor, open_minor, terms_days) "
        "SELECT $1, d.id, $2, $4, $5, $6::date, $7::date, $8, $9::bigint, $9::bigint, $10::int "
        "FROM debtors d WHERE d.tenant = $1 AND d.source = $2 AND d.external_id = $3 "
        "RETURNING id, debtor_id", 10, params);
    if (!r)
        return FACT_DB_ERROR;
    if (PQntuples(r) != 1) {
        PQclear(r);
        intake_fail(err, "unknown_debtor", "debtor_external_id", "unknown debtor '%s' for source '%s'",
                    f->debtor_external_id, ctx->source);
        return FACT_REJECTED;
    }
    *id = s_get_i64(r, 0, 0);
    int64_t debtor_id = s_get_i64(r, 0, 1);
    PQclear(r);
    credit_use_t *uses = NULL;
    size_t nuses = 0;
    if (intake_take_credit(ctx, *id, debtor_id, f, &uses, &nuses) != 0
        || intake_fact_register(ctx, *id) != 0) {
        free(uses);
        return FACT_DB_ERROR;
    }

    int rc = intake_invoice_events(ctx, *id, debtor_id, f, uses, nuses);
    free(uses);
    return rc == 0 ? FACT_RECORDED : FACT_DB_ERROR;
}

/* ----------------------------------------------------------------- payment */

alloc_t *
intake_alloc_find(allocs_t *a, int64_t invoice_id)
{
    for (size_t i = 0; i < a->n; i++)
        if (a->v[i].invoice_id == invoice_id)
            return &a->v[i];
    return NULL;
}

void
intake_alloc_take(allocs_t *a, int64_t invoice_id, int64_t open, int32_t due, int64_t *remaining)
{
    alloc_t *x = intake_alloc_find(a, invoice_id);
    if (!x) {
        if (a->n == a->cap) {
            a->cap = a->cap ? a->cap * 2 : 8;
            a->v = realloc(a->v, a->cap * sizeof *a->v);
        }
        x = &a->v[a->n++];
        x->invoice_id = invoice_id;
        x->open = open;
        x->amount = 0;
        x->due = due;
    }
    int64_t left = x->open - x->amount;
    int64_t take = left < *remaining ? left : *remaining;
    if (take > 0) {
        x->amount += take;
        *remaining -= take;
    }
}

/*  The named invoices, in the payer's order. */
static fact_rc_t
s_alloc_named(fact_ctx_t *ctx, const Creance__PaymentFact *f, int64_t debtor_id,
              allocs_t *a, int64_t *remaining, intake_error_t *err)
{
    for (size_t i = 0; i < f->n_invoice_external_ids; i++) {
        const char *ext = f->invoice_external_ids[i];
        char field[48];
        snprintf(field, sizeof field, "invoice_external_ids[%zu]", i);
        const char *params[] = { ctx->tenant, ctx->source, ext };
        PGresult *r = db_exec(ctx->db,
            "SELECT id, debtor_id, currency, open_minor, due_date, status FROM invoices "
            "WHERE tenant = $1 AND source = $2 AND external_id = $3 FOR UPDATE", 3, params);
        if (!r)
            return FACT_DB_ERROR;
        if (PQntuples(r) != 1) {
            PQclear(r);
            intake_fail(err, "unknown_invoice", field, "unknown invoice '%s' for source '%s'",
                        ext, ctx->source);
            return FACT_REJECTED;
        }
        int64_t invoice_id = s_get_i64(r, 0, 0);
        bool other_debtor = s_get_i64(r, 0, 1) != debtor_id;
        char currency[8];
        snprintf(currency, sizeof currency, "%s", PQgetvalue(r, 0, 2));
        int64_t open = s_get_i64(r, 0, 3);
        int32_t due = s_get_day(r, 0, 4);
        bool is_open = strcmp(PQgetvalue(r, 0, 5), "open") == 0;
        PQclear(r);
        if (other_debtor) {
            intake_fail(err, "invoice_mismatch", field,
                        "invoice '%s' belongs to another debtor than '%s'", ext,
                        f->debtor_external_id);
            return FACT_REJECTED;
        }
        if (strcmp(currency, f->amount->currency) != 0) {
            intake_fail(err, "currency_mismatch", field, "invoice '%s' is in %s, the payment in %s",
                        ext, currency, f->amount->currency);
            return FACT_REJECTED;
        }
        /* A named invoice already paid or closed takes nothing; the money
           goes on to the oldest due. */
        if (is_open && open > 0 && *remaining > 0)
            intake_alloc_take(a, invoice_id, open, due, remaining);
    }
    return FACT_RECORDED;
}

/*  Open invoices locked per page by the oldest-first allocation. A debtor
    may have hundreds open while a payment usually settles one or two:
    locking them all (FOR UPDATE writes every row) made a payment cost
    milliseconds. */
#define ALLOC_PAGE "16"

/*  The invoices and amounts of `a` as two array parameters. */
static void
s_alloc_arrays(const allocs_t *a, pgarray_t *ids, pgarray_t *amounts)
{
    pgarray_begin(ids);
    pgarray_begin(amounts);
    for (size_t i = 0; i < a->n; i++) {
        pgarray_int(ids, a->v[i].invoice_id);
        pgarray_int(amounts, a->v[i].amount);
    }
}

/*  Then the debtor's open invoices in the payment's currency, oldest due
    first, page by page (keyset on the index invoices_open_by_debtor). */
static fact_rc_t
s_alloc_oldest(fact_ctx_t *ctx, int64_t debtor_id, const char *currency, allocs_t *a,
               int64_t *remaining)
{
    num_t debtor = s_num(debtor_id), after_id = s_num(0);
    char after_due[16] = "-infinity";
    while (*remaining > 0) {
        const char *params[] = { ctx->tenant, debtor.s, currency, after_due, after_id.s };
        PGresult *r = db_exec(ctx->db,
            "SELECT id, open_minor, due_date FROM invoices "
            "WHERE tenant = $1 AND debtor_id = $2::bigint AND open_minor > 0 "
            "AND (due_date, id) > ($4::date, $5::bigint) "
            "AND currency = $3 AND status = 'open' "
            "ORDER BY due_date, id LIMIT " ALLOC_PAGE " FOR UPDATE", 5, params);
        if (!r)
            return FACT_DB_ERROR;
        int rows = PQntuples(r);
        for (int i = 0; i < rows && *remaining > 0; i++) {
            int64_t invoice_id = s_get_i64(r, i, 0);
            if (intake_alloc_find(a, invoice_id))
                continue;           /* named, and already given what it could take */
            intake_alloc_take(a, invoice_id, s_get_i64(r, i, 1), s_get_day(r, i, 2), remaining);
        }
        if (rows > 0) {
            snprintf(after_due, sizeof after_due, "%s", PQgetvalue(r, rows - 1, 2));
            after_id = s_num(s_get_i64(r, rows - 1, 0));
        }
        PQclear(r);
        if (rows < atoi(ALLOC_PAGE))
            break;                  /* no more open invoices */
    }
    return FACT_RECORDED;
}

fact_rc_t
intake_payment_events(fact_ctx_t *ctx, const Creance__PaymentFact *f, int64_t payment_id,
                 int64_t debtor_id, const allocs_t *a, int64_t remaining)
{
    Creance__PaymentReceived rec = CREANCE__PAYMENT_RECEIVED__INIT;
    rec.payment_id = payment_id;
    rec.debtor_id = debtor_id;
    rec.external_id = f->external_id;
    rec.received_date = f->received_date;
    rec.amount = f->amount;
    rec.method = f->method;
    Creance__Envelope env;
    s_env_begin(ctx, &env);
    env.event_case = CREANCE__ENVELOPE__EVENT_PAYMENT_RECEIVED;
    env.payment_received = &rec;
    if (s_env_add(ctx, &env) != 0)
        return FACT_DB_ERROR;

    size_t n = a->n;
    Creance__Allocation *allocs = calloc(n ? n : 1, sizeof *allocs);
    Creance__Allocation **ptrs = calloc(n ? n : 1, sizeof *ptrs);
    Creance__Money *money = calloc(2 * (n ? n : 1), sizeof *money);
    Creance__Date *dues = calloc(n ? n : 1, sizeof *dues);
    for (size_t i = 0; i < n; i++) {
        creance__allocation__init(&allocs[i]);
        creance__money__init(&money[2 * i]);
        creance__money__init(&money[2 * i + 1]);
        money[2 * i].minor = a->v[i].amount;
        money[2 * i].currency = f->amount->currency;
        money[2 * i + 1].minor = a->v[i].open - a->v[i].amount;
        money[2 * i + 1].currency = f->amount->currency;
        date_to_pb(a->v[i].due, &dues[i]);
        allocs[i].invoice_id = a->v[i].invoice_id;
        allocs[i].amount = &money[2 * i];
        allocs[i].invoice_open_after = &money[2 * i + 1];
        allocs[i].due_date = &dues[i];
        ptrs[i] = &allocs[i];
    }
    Creance__Money unapplied = CREANCE__MONEY__INIT;
    unapplied.minor = remaining;
    unapplied.currency = f->amount->currency;
    Creance__PaymentAllocated al = CREANCE__PAYMENT_ALLOCATED__INIT;
    al.payment_id = payment_id;
    al.debtor_id = debtor_id;
    al.received_date = f->received_date;
    al.n_allocations = n;
    al.allocations = ptrs;
    al.unapplied = &unapplied;
    s_env_begin(ctx, &env);
    env.event_case = CREANCE__ENVELOPE__EVENT_PAYMENT_ALLOCATED;
    env.payment_allocated = &al;
    int rc = s_env_add(ctx, &env);
    free(allocs);
    free(ptrs);
    free(money);
    free(dues);
    return rc == 0 ? FACT_RECORDED : FACT_DB_ERROR;
}

static fact_rc_t
s_record_payment(fact_ctx_t *ctx, const Creance__IntakeItem *item, int64_t *id, intake_error_t *err)
{
    const Creance__PaymentFact *f = item->payment;
    const char *params[] = { ctx->tenant, ctx->source, f->debtor_external_id };
    PGresult *r = db_exec(ctx->db,
        "SELECT id FROM debtors WHERE tenant = $1 AND source = $2 AND external_id = $3",
        3, params);
    if (!r)
        return FACT_DB_ERROR;
    if (PQntuples(r) != 1) {
        PQclear(r);
        intake_fail(err, "unknown_debtor", "debtor_external_id",
                    "unknown debtor '%s' for source '%s'", f->debtor_external_id, ctx->source);
        return FACT_REJECTED;
    }
    int64_t debtor_id = s_get_i64(r, 0, 0);
    PQclear(r);

    allocs_t a = { NULL, 0, 0 };
    int64_t remaining = f->amount->minor;
    fact_rc_t rc = s_alloc_named(ctx, f, debtor_id, &a, &remaining, err);
    if (rc == FACT_RECORDED)
        rc = s_alloc_oldest(ctx, debtor_id, f->amount->currency, &a, &remaining);
    if (rc != FACT_RECORDED) {
        free(a.v);
        return rc;
    }
    /* Named invoices that took nothing leave no allocation row. */
    size_t kept = 0;
    for (size_t i = 0; i < a.n; i++)
        if (a.v[i].amount > 0)
            a.v[kept++] = a.v[i];
    a.n = kept;

    /* The payment, its allocations and the invoices' new open amounts in
       one statement: one round trip however many invoices it pays. */
    day_t received = s_day(intake_pb_days(f->received_date));
    num_t debtor = s_num(debtor_id), amount = s_num(f->amount->minor), unapplied = s_num(remaining);
    pgarray_t ids = PGARRAY_INIT, amounts = PGARRAY_INIT;
    s_alloc_arrays(&a, &ids, &amounts);
    const char *wparams[] = { ctx->tenant, debtor.s, ctx->source, f->external_id, received.s,
                              f->amount->currency, amount.s, unapplied.s, f->method,
                              pgarray_end(&ids), pgarray_end(&amounts) };
    r = db_exec(ctx->db,
        "WITH p AS (INSERT INTO payments (tenant, debtor_id, source, external_id, received_date, "
        "    currency, amount_minor, unapplied_minor, method) "
        "    VALUES ($1, $2::bigint, $3, $4, $5::date, $6, $7::bigint, $8::bigint, $9) RETURNING id), "
        "a AS (SELECT * FROM unnest($10::bigint[], $11::bigint[]) AS a(invoice_id, amount)), "
        "ins AS (INSERT INTO allocations (tenant, debtor_id, payment_id, invoice_id, currency, "
        "    amount_minor) SELECT $1, $2::bigint, p.id, a.invoice_id, $6, a.amount FROM p, a), "
        "upd AS (UPDATE invoices i SET open_minor = i.open_minor - a.amount, "
        "    status = CASE WHEN i.open_minor = a.amount THEN 'paid' ELSE i.status END, "
        "    paid_date = CASE WHEN i.open_minor = a.amount THEN $5::date ELSE i.paid_date END "
        "    FROM a WHERE i.tenant = $1 AND i.id = a.invoice_id) "
        "SELECT id FROM p", 11, wparams);
    pgarray_free(&ids);
    pgarray_free(&amounts);
    if (!r) {
        free(a.v);
        return FACT_DB_ERROR;
    }
    *id = s_get_i64(r, 0, 0);
    PQclear(r);
    if (intake_fact_register(ctx, *id) != 0) {
        free(a.v);
        return FACT_DB_ERROR;
    }
    rc = intake_payment_events(ctx, f, *id, debtor_id, &a, remaining);
    free(a.v);
    return rc;
}

/* ----------------------------------------------------------------- dispute */

static fact_rc_t
s_open_dispute(fact_ctx_t *ctx, const Creance__DisputeFact *f, int64_t *id, intake_error_t *err)
{
    const char *params[] = { ctx->tenant, ctx->source, f->invoice_external_id };
    PGresult *r = db_exec(ctx->db,
        "SELECT id, debtor_id, currency, amount_minor, open_minor FROM invoices "
        "WHERE tenant = $1 AND source = $2 AND external_id = $3", 3, params);
    if (!r)
        return FACT_DB_ERROR;
    if (PQntuples(r) != 1) {
        PQclear(r);
        intake_fail(err, "unknown_invoice", "invoice_external_id",
                    "unknown invoice '%s' for source '%s'", f->invoice_external_id, ctx->source);
        return FACT_REJECTED;
    }
    int64_t invoice_id = s_get_i64(r, 0, 0), debtor_id = s_get_i64(r, 0, 1);
    char currency[8];
    snprintf(currency, sizeof currency, "%s", PQgetvalue(r, 0, 2));
    int64_t invoice_amount = s_get_i64(r, 0, 3), open = s_get_i64(r, 0, 4);
    PQclear(r);

    int64_t amount;
    if (f->amount && f->amount->minor != 0) {
        if (strcmp(f->amount->currency, currency) != 0) {
            intake_fail(err, "currency_mismatch", "amount.currency",
                        "'%s' differs from the invoice's currency %s", f->amount->currency, currency);
            return FACT_REJECTED;
        }
        if (f->amount->minor > invoice_amount) {
            intake_fail(err, "exceeds_invoice", "amount.minor",
                        "%lld exceeds the invoice amount %lld", (long long) f->amount->minor,
                        (long long) invoice_amount);
            return FACT_REJECTED;
        }
        amount = f->amount->minor;
    }
    else if (open > 0)
        amount = open;
    else {
        intake_fail(err, "nothing_open", "amount",
                    "invoice '%s' has nothing open: give the disputed amount",
                    f->invoice_external_id);
        return FACT_REJECTED;
    }

    num_t debtor = s_num(debtor_id), invoice = s_num(invoice_id), amount_s = s_num(amount);
    day_t opened = s_day(intake_pb_days(f->opened_date));
    const char *iparams[] = { ctx->tenant, debtor.s, invoice.s, ctx->source, f->external_id,
                              currency, amount_s.s, f->reason, opened.s };
    r = db_exec(ctx->db,
        "INSERT INTO disputes (tenant, debtor_id, invoice_id, source, external_id, currency, "
        "amount_minor, reason, opened_date) "
        "VALUES ($1, $2::bigint, $3::bigint, $4, $5, $6, $7::bigint, $8, $9::date) RETURNING id",
        9, iparams);
    if (!r)
        return FACT_DB_ERROR;
    *id = s_get_i64(r, 0, 0);
    PQclear(r);
    if (intake_fact_register(ctx, *id) != 0)
        return FACT_DB_ERROR;

    Creance__Money money = CREANCE__MONEY__INIT;
    money.minor = amount;
    money.currency = currency;
    Creance__DisputeOpened e = CREANCE__DISPUTE_OPENED__INIT;
    e.dispute_id = *id;
    e.debtor_id = debtor_id;
    e.invoice_id = invoice_id;
    e.amount = &money;
    e.reason = f->reason;
    e.opened_date = f->opened_date;
    e.external_id = f->external_id;
    Creance__Envelope env;
    s_env_begin(ctx, &env);
    env.event_case = CREANCE__ENVELOPE__EVENT_DISPUTE_OPENED;
    env.dispute_opened = &e;
    return s_env_add(ctx, &env) == 0 ? FACT_RECORDED : FACT_DB_ERROR;
}

static fact_rc_t
s_resolve_dispute(fact_ctx_t *ctx, const Creance__DisputeFact *f, int64_t *id, intake_error_t *err)
{
    const char *params[] = { ctx->tenant, ctx->source, f->external_id };
    PGresult *r = db_exec(ctx->db,
        "SELECT d.id, d.debtor_id, d.invoice_id, d.opened_date, d.resolved_date, "
        "coalesce(d.outcome, ''), i.external_id, d.amount_minor, d.currency "
        "FROM disputes d JOIN invoices i ON i.tenant = d.tenant AND i.id = d.invoice_id "
        "WHERE d.tenant = $1 AND d.source = $2 AND d.external_id = $3 FOR UPDATE OF d",
        3, params);
    if (!r)
        return FACT_DB_ERROR;
    if (PQntuples(r) != 1) {
        PQclear(r);
        intake_fail(err, "unknown_dispute", "external_id", "unknown dispute '%s' for source '%s'",
                    f->external_id, ctx->source);
        return FACT_REJECTED;
    }
    int64_t dispute_id = s_get_i64(r, 0, 0), debtor_id = s_get_i64(r, 0, 1);
    int64_t invoice_id = s_get_i64(r, 0, 2);
    int32_t opened = s_get_day(r, 0, 3);
    bool resolved = !PQgetisnull(r, 0, 4);
    char resolved_on[11], outcome[64], invoice_ext[INTAKE_MAX_ID_BYTES + 1];
    snprintf(resolved_on, sizeof resolved_on, "%s", resolved ? PQgetvalue(r, 0, 4) : "");
    snprintf(outcome, sizeof outcome, "%s", PQgetvalue(r, 0, 5));
    snprintf(invoice_ext, sizeof invoice_ext, "%s", PQgetvalue(r, 0, 6));
    int64_t amount = s_get_i64(r, 0, 7);
    char currency[8];
    snprintf(currency, sizeof currency, "%s", PQgetvalue(r, 0, 8));
    PQclear(r);

    if (resolved) {
        intake_fail(err, "already_resolved", "external_id",
                    "dispute '%s' was already resolved on %s (outcome %s)", f->external_id,
                    resolved_on, outcome);
        return FACT_REJECTED;
    }
    if (f->invoice_external_id && *f->invoice_external_id
        && strcmp(f->invoice_external_id, invoice_ext) != 0) {
        intake_fail(err, "invoice_mismatch", "invoice_external_id",
                    "dispute '%s' is on invoice '%s', not '%s'", f->external_id, invoice_ext,
                    f->invoice_external_id);
        return FACT_REJECTED;
    }
    int32_t resolved_days = intake_pb_days(f->resolved_date);
    if (resolved_days < opened) {
        day_t a = s_day(resolved_days), b = s_day(opened);
        intake_fail(err, "bad_date", "resolved_date", "%s is before the dispute's opened_date %s",
                    a.s, b.s);
        return FACT_REJECTED;
    }
    num_t did = s_num(dispute_id);
    day_t on = s_day(resolved_days);
    const char *uparams[] = { ctx->tenant, did.s, on.s, f->outcome };
    if (db_run(ctx->db, "UPDATE disputes SET resolved_date = $3::date, outcome = $4 "
                        "WHERE tenant = $1 AND id = $2::bigint", 4, uparams) != 0)
        return FACT_DB_ERROR;
    *id = dispute_id;
    if (intake_fact_register(ctx, *id) != 0)
        return FACT_DB_ERROR;

    /* The whole disputed amount stops being disputed, whatever the outcome. */
    Creance__Money money = CREANCE__MONEY__INIT;
    money.minor = amount;
    money.currency = currency;
    Creance__DisputeResolved e = CREANCE__DISPUTE_RESOLVED__INIT;
    e.amount = &money;
    e.dispute_id = dispute_id;
    e.debtor_id = debtor_id;
    e.invoice_id = invoice_id;
    e.outcome = f->outcome;
    e.resolved_date = f->resolved_date;
    Creance__Envelope env;
    s_env_begin(ctx, &env);
    env.event_case = CREANCE__ENVELOPE__EVENT_DISPUTE_RESOLVED;
    env.dispute_resolved = &e;
    return s_env_add(ctx, &env) == 0 ? FACT_RECORDED : FACT_DB_ERROR;
}

static fact_rc_t
s_record_dispute(fact_ctx_t *ctx, const Creance__IntakeItem *item, int64_t *id, intake_error_t *err)
{
    return item->dispute->resolve ? s_resolve_dispute(ctx, item->dispute, id, err)
                                  : s_open_dispute(ctx, item->dispute, id, err);
}

/* ------------------------------------------------- shared by the new facts */

static Creance__Money
s_money(int64_t minor, const char *currency)
{
    Creance__Money m = CREANCE__MONEY__INIT;
    m.minor = minor;
    m.currency = (char *) currency;
    return m;
}

/*  An invoice as these handlers need it, locked for the item. */
typedef struct {
    int64_t id, debtor_id, amount, open;
    int32_t issue, due;
    char currency[8];
    char status[16];
    char external_id[INTAKE_MAX_ID_BYTES + 1];
} invoice_row_t;

static fact_rc_t
s_find_invoice(fact_ctx_t *ctx, const char *ext, const char *field, invoice_row_t *inv,
               intake_error_t *err)
{
    const char *params[] = { ctx->tenant, ctx->source, ext };
    PGresult *r = db_exec(ctx->db,
        "SELECT id, debtor_id, currency, amount_minor, open_minor, issue_date, due_date, status "
        "FROM invoices WHERE tenant = $1 AND source = $2 AND external_id = $3 FOR UPDATE",
        3, params);
    if (!r)
        return FACT_DB_ERROR;
    if (PQntuples(r) != 1) {
        PQclear(r);
        intake_fail(err, "unknown_invoice", field, "unknown invoice '%s' for source '%s'", ext,
                    ctx->source);
        return FACT_REJECTED;
    }
    inv->id = s_get_i64(r, 0, 0);
    inv->debtor_id = s_get_i64(r, 0, 1);
    snprintf(inv->currency, sizeof inv->currency, "%s", PQgetvalue(r, 0, 2));
    inv->amount = s_get_i64(r, 0, 3);
    inv->open = s_get_i64(r, 0, 4);
    inv->issue = s_get_day(r, 0, 5);
    inv->due = s_get_day(r, 0, 6);
    snprintf(inv->status, sizeof inv->status, "%s", PQgetvalue(r, 0, 7));
    snprintf(inv->external_id, sizeof inv->external_id, "%s", ext);
    PQclear(r);
    return FACT_RECORDED;
}

/*  Cancelled and written-off invoices take no further change. */
static bool
s_invoice_closed(const invoice_row_t *inv, const char *field, const char *what, intake_error_t *err)
{
    if (strcmp(inv->status, "cancelled") != 0 && strcmp(inv->status, "written_off") != 0)
        return false;
    intake_fail(err, "invoice_closed", field, "invoice '%s' is %s: it cannot be %s",
                inv->external_id, inv->status, what);
    return true;
}

static fact_rc_t
s_find_debtor(fact_ctx_t *ctx, const char *ext, int64_t *debtor_id, intake_error_t *err)
{
    const char *params[] = { ctx->tenant, ctx->source, ext };
    PGresult *r = db_exec(ctx->db,
        "SELECT id FROM debtors WHERE tenant = $1 AND source = $2 AND external_id = $3", 3, params);
    if (!r)
        return FACT_DB_ERROR;
    if (PQntuples(r) != 1) {
        PQclear(r);
        intake_fail(err, "unknown_debtor", "debtor_external_id", "unknown debtor '%s' for source '%s'",
                    ext, ctx->source);
        return FACT_REJECTED;
    }
    *debtor_id = s_get_i64(r, 0, 0);
    PQclear(r);
    return FACT_RECORDED;
}

/*  Named invoices of a plan or a promise: each known, the debtor's, in
    `currency`. *ids is malloc'd (n entries). */
static fact_rc_t
s_resolve_invoices(fact_ctx_t *ctx, char **exts, size_t n, int64_t debtor_id, const char *currency,
                   int64_t **ids, intake_error_t *err)
{
    *ids = calloc(n ? n : 1, sizeof **ids);
    for (size_t i = 0; i < n; i++) {
        char field[48];
        snprintf(field, sizeof field, "invoice_external_ids[%zu]", i);
        invoice_row_t inv;
        fact_rc_t rc = s_find_invoice(ctx, exts[i], field, &inv, err);
        if (rc == FACT_RECORDED && inv.debtor_id != debtor_id) {
            intake_fail(err, "invoice_mismatch", field, "invoice '%s' belongs to another debtor",
                        exts[i]);
            rc = FACT_REJECTED;
        }
        if (rc == FACT_RECORDED && strcmp(inv.currency, currency) != 0) {
            intake_fail(err, "currency_mismatch", field, "invoice '%s' is in %s, not %s", exts[i],
                        inv.currency, currency);
            rc = FACT_REJECTED;
        }
        if (rc != FACT_RECORDED) {
            free(*ids);
            *ids = NULL;
            return rc;
        }
        (*ids)[i] = inv.id;
    }
    return FACT_RECORDED;
}

/*  "{1,2,3}" into `a`: the invoices a plan or a promise covers. */
static const char *
s_id_array(pgarray_t *a, const int64_t *ids, size_t n)
{
    pgarray_begin(a);
    for (size_t i = 0; i < n; i++)
        pgarray_int(a, ids[i]);
    return pgarray_end(a);
}

/* ------------------------------------------------------ invoice adjustment */

static fact_rc_t
s_record_adjustment(fact_ctx_t *ctx, const Creance__IntakeItem *item, int64_t *id,
                    intake_error_t *err)
{
    const Creance__InvoiceAdjustmentFact *f = item->invoice_adjustment;
    invoice_row_t inv;
    fact_rc_t rc = s_find_invoice(ctx, f->invoice_external_id, "invoice_external_id", &inv, err);
    if (rc != FACT_RECORDED)
        return rc;
    if (s_invoice_closed(&inv, "invoice_external_id", "adjusted", err))
        return FACT_REJECTED;
    int64_t new_amount = inv.amount, new_open = inv.open;
    int32_t new_due = inv.due;
    if (f->new_amount) {
        if (strcmp(f->new_amount->currency, inv.currency) != 0) {
            intake_fail(err, "currency_mismatch", "new_amount.currency",
                        "'%s' differs from the invoice's currency %s", f->new_amount->currency,
                        inv.currency);
            return FACT_REJECTED;
        }
        new_amount = f->new_amount->minor;
        /* What was paid, credited or written off stays so: the open amount
           moves by the change of the amount, and may not go below zero. */
        new_open = inv.open + (new_amount - inv.amount);
        if (new_open < 0) {
            intake_fail(err, "open_negative", "new_amount.minor",
                        "%" PRId64 " is less than the %" PRId64 " already settled on invoice '%s' "
                        "(the open amount would be %" PRId64 ")", new_amount, inv.amount - inv.open,
                        f->invoice_external_id, new_open);
            return FACT_REJECTED;
        }
    }
    if (f->new_due_date) {
        new_due = intake_pb_days(f->new_due_date);
        if (new_due < inv.issue) {
            day_t a = s_day(new_due), b = s_day(inv.issue);
            intake_fail(err, "due_before_issue", "new_due_date", "%s is before the invoice's issue_date %s",
                        a.s, b.s);
            return FACT_REJECTED;
        }
    }
    num_t iid = s_num(inv.id), amount = s_num(new_amount), open = s_num(new_open),
          old_amount = s_num(inv.amount), old_open = s_num(inv.open), inv_debtor = s_num(inv.debtor_id);
    day_t due = s_day(new_due), old_due = s_day(inv.due);
    const char *params[] = { ctx->tenant, iid.s, amount.s, open.s, due.s, ctx->source,
                             f->external_id, inv.currency, old_amount.s, old_open.s, old_due.s,
                             f->reason, inv_debtor.s };
    PGresult *r = db_exec(ctx->db,
        "WITH u AS (UPDATE invoices SET amount_minor = $3::bigint, open_minor = $4::bigint, "
        "    due_date = $5::date, "
        "    status = CASE WHEN $4::bigint = 0 THEN 'paid' ELSE 'open' END, "
        "    paid_date = CASE WHEN $4::bigint = 0 THEN coalesce(paid_date, current_date) END "
        "    WHERE tenant = $1 AND id = $2::bigint) "
        "INSERT INTO invoice_adjustments (tenant, debtor_id, invoice_id, source, external_id, "
        "currency, old_amount_minor, new_amount_minor, old_open_minor, new_open_minor, old_due_date, "
        "new_due_date, reason) VALUES ($1, $13::bigint, $2::bigint, $6, $7, $8, $9::bigint, $3::bigint, "
        "$10::bigint, $4::bigint, $11::date, $5::date, $12) RETURNING id", 13, params);
    if (!r)
        return FACT_DB_ERROR;
    *id = s_get_i64(r, 0, 0);
    PQclear(r);
    if (intake_fact_register(ctx, *id) != 0)
        return FACT_DB_ERROR;

    Creance__Money m_new = s_money(new_amount, inv.currency), m_open = s_money(new_open, inv.currency),
                   m_old = s_money(inv.amount, inv.currency), m_old_open = s_money(inv.open, inv.currency);
    Creance__Date d_due;
    date_to_pb(new_due, &d_due);
    Creance__InvoiceAdjusted e = CREANCE__INVOICE_ADJUSTED__INIT;
    e.invoice_id = inv.id;
    e.debtor_id = inv.debtor_id;
    e.new_amount = &m_new;
    e.open_amount = &m_open;
    e.reason = f->reason;
    e.due_date = &d_due;
    e.old_amount = &m_old;
    e.old_open_amount = &m_old_open;
    Creance__Envelope env;
    s_env_begin(ctx, &env);
    env.event_case = CREANCE__ENVELOPE__EVENT_INVOICE_ADJUSTED;
    env.invoice_adjusted = &e;
    return s_env_add(ctx, &env) == 0 ? FACT_RECORDED : FACT_DB_ERROR;
}

/* ---------------------------------------------------- invoice cancellation */

static fact_rc_t
s_record_cancellation(fact_ctx_t *ctx, const Creance__IntakeItem *item, int64_t *id,
                      intake_error_t *err)
{
    const Creance__InvoiceCancellationFact *f = item->invoice_cancellation;
    invoice_row_t inv;
    fact_rc_t rc = s_find_invoice(ctx, f->invoice_external_id, "invoice_external_id", &inv, err);
    if (rc != FACT_RECORDED)
        return rc;
    if (s_invoice_closed(&inv, "invoice_external_id", "cancelled", err))
        return FACT_REJECTED;
    num_t iid = s_num(inv.id);
    day_t on = s_day(intake_pb_days(f->cancelled_date));
    const char *params[] = { ctx->tenant, iid.s, on.s, f->reason };
    if (db_run(ctx->db, "UPDATE invoices SET status = 'cancelled', open_minor = 0, "
                        "cancelled_date = $3::date, cancel_reason = $4 "
                        "WHERE tenant = $1 AND id = $2::bigint", 4, params) != 0)
        return FACT_DB_ERROR;
    *id = inv.id;
    if (intake_fact_register(ctx, *id) != 0)
        return FACT_DB_ERROR;

    Creance__Money cancelled = s_money(inv.open, inv.currency);
    Creance__InvoiceCancelled e = CREANCE__INVOICE_CANCELLED__INIT;
    e.invoice_id = inv.id;
    e.debtor_id = inv.debtor_id;
    e.cancelled_open = &cancelled;
    e.reason = f->reason;
    Creance__Envelope env;
    s_env_begin(ctx, &env);
    env.event_case = CREANCE__ENVELOPE__EVENT_INVOICE_CANCELLED;
    env.invoice_cancelled = &e;
    return s_env_add(ctx, &env) == 0 ? FACT_RECORDED : FACT_DB_ERROR;
}

/* -------------------------------------------------------------- credit note */

/*  A credit note's credit left after its own invoice goes to the debtor's
    other open invoices in its currency, oldest due first, as a payment
    without named invoices does: a debtor with credit on account is not
    dunned for an invoice that credit covers. Rows, then one
    CreditNoteApplied per invoice; what no open invoice takes stays as
    credit for the next invoices (intake_take_credit). */
static fact_rc_t
s_credit_note_excess(fact_ctx_t *ctx, const Creance__CreditNoteFact *f, int64_t credit_note_id,
                     int64_t debtor_id, int64_t unapplied)
{
    allocs_t a = { 0 };
    int64_t left = unapplied;
    fact_rc_t rc = s_alloc_oldest(ctx, debtor_id, f->amount->currency, &a, &left);
    if (rc != FACT_RECORDED || a.n == 0) {
        free(a.v);
        return rc;
    }
    pgarray_t ids = PGARRAY_INIT, amounts = PGARRAY_INIT;
    s_alloc_arrays(&a, &ids, &amounts);
    num_t debtor = s_num(debtor_id), cn = s_num(credit_note_id), taken = s_num(unapplied - left);
    day_t issued = s_day(intake_pb_days(f->issue_date));
    const char *params[] = { ctx->tenant, debtor.s, cn.s, pgarray_end(&ids), pgarray_end(&amounts),
                             f->amount->currency, taken.s, issued.s };
    int w = db_run(ctx->db,
        "WITH c AS (SELECT * FROM unnest($4::bigint[], $5::bigint[]) AS c(invoice_id, amount)), "
        "ins AS (INSERT INTO credit_note_applications (tenant, debtor_id, credit_note_id, invoice_id, "
        "    currency, amount_minor) SELECT $1, $2::bigint, $3::bigint, c.invoice_id, $6, c.amount "
        "    FROM c), "
        "cn AS (UPDATE credit_notes SET applied_minor = applied_minor + $7::bigint, "
        "    unapplied_minor = unapplied_minor - $7::bigint WHERE tenant = $1 AND id = $3::bigint) "
        "UPDATE invoices i SET open_minor = i.open_minor - c.amount, "
        "status = CASE WHEN i.open_minor = c.amount THEN 'paid' ELSE i.status END, "
        "paid_date = CASE WHEN i.open_minor = c.amount THEN $8::date ELSE i.paid_date END "
        "FROM c WHERE i.tenant = $1 AND i.id = c.invoice_id", 8, params);
    pgarray_free(&ids);
    pgarray_free(&amounts);
    int64_t credit = unapplied;
    for (size_t i = 0; w == 0 && i < a.n; i++) {
        const alloc_t *x = &a.v[i];
        credit -= x->amount;
        Creance__Money m_amount = s_money(x->amount, f->amount->currency),
                       m_after = s_money(x->open - x->amount, f->amount->currency),
                       m_left = s_money(credit, f->amount->currency);
        Creance__Date due;
        date_to_pb(x->due, &due);
        Creance__CreditNoteApplied c = CREANCE__CREDIT_NOTE_APPLIED__INIT;
        c.credit_note_id = credit_note_id;
        c.debtor_id = debtor_id;
        c.invoice_id = x->invoice_id;
        c.amount = &m_amount;
        c.invoice_open_after = &m_after;
        c.due_date = &due;
        c.issue_date = f->issue_date;
        c.unapplied = &m_left;
        Creance__Envelope env;
        s_env_begin(ctx, &env);
        env.event_case = CREANCE__ENVELOPE__EVENT_CREDIT_NOTE_APPLIED;
        env.credit_note_applied = &c;
        w = s_env_add(ctx, &env);
    }
    free(a.v);
    return w == 0 ? FACT_RECORDED : FACT_DB_ERROR;
}

static fact_rc_t
s_record_credit_note(fact_ctx_t *ctx, const Creance__IntakeItem *item, int64_t *id,
                     intake_error_t *err)
{
    const Creance__CreditNoteFact *f = item->credit_note;
    int64_t debtor_id;
    fact_rc_t rc = s_find_debtor(ctx, f->debtor_external_id, &debtor_id, err);
    if (rc != FACT_RECORDED)
        return rc;
    const char *currency = f->amount->currency;
    bool tied = f->invoice_external_id && *f->invoice_external_id;
    invoice_row_t inv = { 0 };
    int64_t applied = 0;
    if (tied) {
        rc = s_find_invoice(ctx, f->invoice_external_id, "invoice_external_id", &inv, err);
        if (rc != FACT_RECORDED)
            return rc;
        if (inv.debtor_id != debtor_id) {
            intake_fail(err, "invoice_mismatch", "invoice_external_id",
                        "invoice '%s' belongs to another debtor than '%s'", f->invoice_external_id,
                        f->debtor_external_id);
            return FACT_REJECTED;
        }
        if (strcmp(inv.currency, currency) != 0) {
            intake_fail(err, "currency_mismatch", "amount.currency",
                        "'%s' differs from the invoice's currency %s", currency, inv.currency);
            return FACT_REJECTED;
        }
        if (s_invoice_closed(&inv, "invoice_external_id", "credited", err))
            return FACT_REJECTED;
        applied = inv.open < f->amount->minor ? inv.open : f->amount->minor;
    }
    int64_t unapplied = f->amount->minor - applied;
    num_t debtor = s_num(debtor_id), iid = s_num(inv.id), amount = s_num(f->amount->minor),
          applied_s = s_num(applied), unapplied_s = s_num(unapplied);
    day_t issued = s_day(intake_pb_days(f->issue_date));
    const char *params[] = { ctx->tenant, debtor.s, tied ? iid.s : NULL, ctx->source,
                             f->external_id, f->number, issued.s, currency, amount.s,
                             applied_s.s, unapplied_s.s, f->reason };
    PGresult *r = db_exec(ctx->db,
        "WITH u AS (UPDATE invoices SET open_minor = open_minor - $10::bigint, "
        "    status = CASE WHEN open_minor = $10::bigint THEN 'paid' ELSE status END, "
        "    paid_date = CASE WHEN open_minor = $10::bigint THEN $7::date ELSE paid_date END "
        "    WHERE tenant = $1 AND id = $3::bigint AND $10::bigint > 0) "
        "INSERT INTO credit_notes (tenant, debtor_id, invoice_id, source, external_id, number, "
        "issue_date, currency, amount_minor, applied_minor, unapplied_minor, reason) "
        "VALUES ($1, $2::bigint, $3::bigint, $4, $5, $6, $7::date, $8, $9::bigint, $10::bigint, "
        "$11::bigint, $12) RETURNING id", 12, params);
    if (!r)
        return FACT_DB_ERROR;
    *id = s_get_i64(r, 0, 0);
    PQclear(r);
    if (intake_fact_register(ctx, *id) != 0)
        return FACT_DB_ERROR;

    Creance__Money open_after = s_money(inv.open - applied, currency);
    Creance__CreditNoteIssued e = CREANCE__CREDIT_NOTE_ISSUED__INIT;
    e.credit_note_id = *id;
    e.debtor_id = debtor_id;
    e.external_id = f->external_id;
    e.invoice_id = tied ? inv.id : 0;
    e.issue_date = f->issue_date;
    e.amount = f->amount;
    e.invoice_open_after = tied ? &open_after : NULL;
    /* Only the applied part lowers what is owed now; the rest goes to
       the debtor's other open invoices, then waits as credit for the next
       ones (CreditNoteApplied both). */
    Creance__Money m_applied = s_money(applied, currency);
    e.applied = &m_applied;
    Creance__Envelope env;
    s_env_begin(ctx, &env);
    env.event_case = CREANCE__ENVELOPE__EVENT_CREDIT_NOTE_ISSUED;
    env.credit_note_issued = &e;
    if (s_env_add(ctx, &env) != 0)
        return FACT_DB_ERROR;
    return unapplied > 0 ? s_credit_note_excess(ctx, f, *id, debtor_id, unapplied) : FACT_RECORDED;
}

/* ---------------------------------------------------------- payment reversal */

int
intake_refund_split(int64_t amount, int64_t unapplied, allocs_t *a, int64_t *from_credit)
{
    if (amount < 0)
        return -1;
    /* The credit first: taking it back reopens nothing the debtor owes. */
    int64_t c = amount < unapplied ? amount : unapplied;
    *from_credit = c;
    int64_t rest = amount - c;
    /* Then the most recent allocations: the invoices paid last are the
       ones the refunded money is taken to have paid. */
    for (size_t i = a->n; i-- > 0;) {
        int64_t take = a->v[i].amount < rest ? a->v[i].amount : rest;
        a->v[i].amount = take;
        rest -= take;
    }
    return rest == 0 ? 0 : -1;
}

/*  A payment reversed in whole (no amount: all that is left of it) or in
    part (an amount: a partial refund). Both take the payment's unapplied
    credit first, then its allocations, most recent first; a whole
    reversal takes all of both. Each reversal's external id is recorded
    once (intake_items), so a refund told twice is applied once. */
static fact_rc_t
s_record_reversal(fact_ctx_t *ctx, const Creance__IntakeItem *item, int64_t *id,
                  intake_error_t *err)
{
    const Creance__PaymentReversalFact *f = item->payment_reversal;
    const char *params[] = { ctx->tenant, ctx->source, f->payment_external_id };
    PGresult *r = db_exec(ctx->db,
        "SELECT id, debtor_id, currency, amount_minor, unapplied_minor, refunded_minor, "
        "coalesce(reversed_date::text, reversed_at::date::text) "
        "FROM payments WHERE tenant = $1 AND source = $2 AND external_id = $3 FOR UPDATE",
        3, params);
    if (!r)
        return FACT_DB_ERROR;
    if (PQntuples(r) != 1) {
        PQclear(r);
        intake_fail(err, "unknown_payment", "payment_external_id",
                    "unknown payment '%s' for source '%s'", f->payment_external_id, ctx->source);
        return FACT_REJECTED;
    }
    int64_t payment_id = s_get_i64(r, 0, 0), debtor_id = s_get_i64(r, 0, 1);
    char currency[8], reversed_on[16];
    snprintf(currency, sizeof currency, "%s", PQgetvalue(r, 0, 2));
    int64_t amount = s_get_i64(r, 0, 3), unapplied = s_get_i64(r, 0, 4),
            refunded = s_get_i64(r, 0, 5);
    bool reversed = !PQgetisnull(r, 0, 6);
    snprintf(reversed_on, sizeof reversed_on, "%s", reversed ? PQgetvalue(r, 0, 6) : "");
    PQclear(r);
    if (reversed) {
        intake_fail(err, "already_reversed", "payment_external_id",
                    "payment '%s' was already reversed on %s", f->payment_external_id, reversed_on);
        return FACT_REJECTED;
    }
    int64_t left = amount - refunded, take = left;
    bool part = f->amount && f->amount->minor != 0;
    if (part) {
        if (strcmp(f->amount->currency, currency) != 0) {
            intake_fail(err, "currency_mismatch", "amount.currency",
                        "'%s' differs from the payment's currency %s", f->amount->currency,
                        currency);
            return FACT_REJECTED;
        }
        if (f->amount->minor > left) {
            intake_fail(err, "exceeds_payment", "amount.minor",
                        "%" PRId64 " exceeds the %" PRId64 " left of payment '%s' (received %"
                        PRId64 ", already reversed %" PRId64 ")", f->amount->minor, left,
                        f->payment_external_id, amount, refunded);
            return FACT_REJECTED;
        }
        take = f->amount->minor;
    }

    /* Its allocations in the order they were made, their invoices locked. */
    num_t pid = s_num(payment_id);
    const char *aparams[] = { ctx->tenant, pid.s };
    r = db_exec(ctx->db,
        "SELECT a.id, a.invoice_id, a.amount_minor, i.open_minor, i.due_date, i.status "
        "FROM allocations a JOIN invoices i ON i.tenant = a.tenant AND i.id = a.invoice_id "
        "WHERE a.tenant = $1 AND a.payment_id = $2::bigint ORDER BY a.id FOR UPDATE OF a, i",
        2, aparams);
    if (!r)
        return FACT_DB_ERROR;
    int rows = PQntuples(r);
    allocs_t rowv = { calloc(rows ? (size_t) rows : 1, sizeof (alloc_t)), (size_t) rows,
                      (size_t) rows };
    int64_t *row_ids = calloc(rows ? (size_t) rows : 1, sizeof *row_ids);
    bool *reopens = calloc(rows ? (size_t) rows : 1, sizeof *reopens);
    for (int i = 0; i < rows; i++) {
        row_ids[i] = s_get_i64(r, i, 0);
        rowv.v[i].invoice_id = s_get_i64(r, i, 1);
        rowv.v[i].amount = s_get_i64(r, i, 2);
        rowv.v[i].open = s_get_i64(r, i, 3);
        rowv.v[i].due = s_get_day(r, i, 4);
        const char *status = PQgetvalue(r, i, 5);
        /* A cancelled or written-off invoice is not reopened: the payment
           is gone, the invoice stays closed. */
        reopens[i] = strcmp(status, "open") == 0 || strcmp(status, "paid") == 0;
    }
    PQclear(r);
    int64_t from_credit = 0;
    fact_rc_t rc = FACT_RECORDED;
    if (intake_refund_split(take, unapplied, &rowv, &from_credit) != 0) {
        /* received = allocated + unapplied + refunded: only a hand-edited
           ledger gets here. */
        intake_fail(err, "ledger_mismatch", "payment_external_id",
                    "payment '%s' holds less than the %" PRId64 " left of it",
                    f->payment_external_id, left);
        rc = FACT_REJECTED;
    }

    /* What each invoice gets back, summed per invoice (the same invoice
       may have been paid in two goes, e.g. by credit later). */
    allocs_t a = { NULL, 0, 0 };
    pgarray_t ids = PGARRAY_INIT, takes = PGARRAY_INIT, inv_ids = PGARRAY_INIT,
              inv_takes = PGARRAY_INIT;
    pgarray_begin(&ids);
    pgarray_begin(&takes);
    pgarray_begin(&inv_ids);
    pgarray_begin(&inv_takes);
    for (int i = 0; rc == FACT_RECORDED && i < rows; i++) {
        if (rowv.v[i].amount == 0)
            continue;
        pgarray_int(&ids, row_ids[i]);
        pgarray_int(&takes, rowv.v[i].amount);
        if (!reopens[i])
            continue;
        alloc_t *x = intake_alloc_find(&a, rowv.v[i].invoice_id);
        if (!x) {
            int64_t none = 0;
            intake_alloc_take(&a, rowv.v[i].invoice_id, rowv.v[i].open, rowv.v[i].due, &none);
            x = intake_alloc_find(&a, rowv.v[i].invoice_id);
        }
        x->amount += rowv.v[i].amount;
    }
    for (size_t i = 0; i < a.n; i++) {
        pgarray_int(&inv_ids, a.v[i].invoice_id);
        pgarray_int(&inv_takes, a.v[i].amount);
    }
    free(rowv.v);
    free(row_ids);
    free(reopens);

    bool whole = take == left;
    day_t on = s_day(intake_pb_days(f->reversed_date));
    num_t take_s = s_num(take), credit_s = s_num(from_credit), debtor_s = s_num(debtor_id);
    const char *uparams[] = { ctx->tenant, pid.s, on.s, f->reason, pgarray_end(&ids),
                              pgarray_end(&takes), pgarray_end(&inv_ids), pgarray_end(&inv_takes),
                              take_s.s, credit_s.s, whole ? "true" : "false", ctx->source,
                              f->external_id, currency, part ? "true" : "false", debtor_s.s };
    /* Allocations taken whole go, the others shrink; the invoices reopen by
       what they gave back; a payment with nothing left is reversed. A
       partial reversal keeps its own row (the result's id). */
    r = rc != FACT_RECORDED ? NULL : db_exec(ctx->db,
        "WITH t AS (SELECT * FROM unnest($5::bigint[], $6::bigint[]) AS t(id, take)), "
        "d AS (DELETE FROM allocations x USING t WHERE x.tenant = $1 AND x.id = t.id "
        "    AND x.amount_minor = t.take), "
        "s AS (UPDATE allocations x SET amount_minor = x.amount_minor - t.take FROM t "
        "    WHERE x.tenant = $1 AND x.id = t.id AND x.amount_minor > t.take), "
        "v AS (SELECT * FROM unnest($7::bigint[], $8::bigint[]) AS v(invoice_id, take)), "
        "u AS (UPDATE invoices i SET open_minor = i.open_minor + v.take, status = 'open', "
        "    paid_date = NULL FROM v WHERE i.tenant = $1 AND i.id = v.invoice_id), "
        "p AS (UPDATE payments SET unapplied_minor = unapplied_minor - $10::bigint, "
        "    refunded_minor = refunded_minor + CASE WHEN $15::boolean THEN $9::bigint ELSE 0 END, "
        "    reversed_at = CASE WHEN $11::boolean THEN now() END, "
        "    reversed_date = CASE WHEN $11::boolean THEN $3::date END, "
        "    reversal_reason = CASE WHEN $11::boolean THEN $4 END "
        "    WHERE tenant = $1 AND id = $2::bigint), "
        "r AS (INSERT INTO payment_refunds (tenant, debtor_id, payment_id, source, external_id, "
        "    currency, amount_minor, unapplied_minor, reversed_date, reason) "
        "    SELECT $1, $16::bigint, $2::bigint, $12, $13, $14, $9::bigint, $10::bigint, $3::date, $4 "
        "    WHERE $15::boolean RETURNING id) "
        "SELECT coalesce((SELECT id FROM r), $2::bigint)", 16, uparams);
    pgarray_free(&ids);
    pgarray_free(&takes);
    pgarray_free(&inv_ids);
    pgarray_free(&inv_takes);
    if (rc != FACT_RECORDED || !r) {
        free(a.v);
        return rc != FACT_RECORDED ? rc : FACT_DB_ERROR;
    }
    *id = s_get_i64(r, 0, 0);
    PQclear(r);
    if (intake_fact_register(ctx, *id) != 0) {
        free(a.v);
        return FACT_DB_ERROR;
    }

    size_t n = a.n;
    Creance__Allocation *allocs = calloc(n ? n : 1, sizeof *allocs);
    Creance__Allocation **ptrs = calloc(n ? n : 1, sizeof *ptrs);
    Creance__Money *money = calloc(2 * (n ? n : 1), sizeof *money);
    Creance__Date *dues = calloc(n ? n : 1, sizeof *dues);
    for (size_t i = 0; i < n; i++) {
        creance__allocation__init(&allocs[i]);
        money[2 * i] = s_money(a.v[i].amount, currency);
        money[2 * i + 1] = s_money(a.v[i].open + a.v[i].amount, currency);
        date_to_pb(a.v[i].due, &dues[i]);
        allocs[i].invoice_id = a.v[i].invoice_id;
        allocs[i].amount = &money[2 * i];
        allocs[i].invoice_open_after = &money[2 * i + 1];
        allocs[i].due_date = &dues[i];
        ptrs[i] = &allocs[i];
    }
    Creance__Money m_amount = s_money(take, currency), m_unapplied = s_money(from_credit, currency);
    Creance__PaymentReversed e = CREANCE__PAYMENT_REVERSED__INIT;
    e.payment_id = payment_id;
    e.debtor_id = debtor_id;
    e.n_reopened = n;
    e.reopened = ptrs;
    e.reason = f->reason;
    e.amount = &m_amount;
    e.unapplied_removed = &m_unapplied;
    e.partial = !whole;
    e.external_id = f->external_id;
    Creance__Envelope env;
    s_env_begin(ctx, &env);
    env.event_case = CREANCE__ENVELOPE__EVENT_PAYMENT_REVERSED;
    env.payment_reversed = &e;
    int erc = s_env_add(ctx, &env);
    free(allocs);
    free(ptrs);
    free(money);
    free(dues);
    free(a.v);
    return erc == 0 ? FACT_RECORDED : FACT_DB_ERROR;
}

/* ----------------------------------------------------------------- write-off */

static fact_rc_t
s_record_write_off(fact_ctx_t *ctx, const Creance__IntakeItem *item, int64_t *id,
                   intake_error_t *err)
{
    const Creance__WriteOffFact *f = item->write_off;
    invoice_row_t inv;
    fact_rc_t rc = s_find_invoice(ctx, f->invoice_external_id, "invoice_external_id", &inv, err);
    if (rc != FACT_RECORDED)
        return rc;
    if (s_invoice_closed(&inv, "invoice_external_id", "written off", err))
        return FACT_REJECTED;
    if (inv.open == 0) {
        intake_fail(err, "nothing_open", "invoice_external_id",
                    "invoice '%s' has nothing open to write off", f->invoice_external_id);
        return FACT_REJECTED;
    }
    int64_t amount = inv.open;
    if (f->amount && f->amount->minor != 0) {
        if (strcmp(f->amount->currency, inv.currency) != 0) {
            intake_fail(err, "currency_mismatch", "amount.currency",
                        "'%s' differs from the invoice's currency %s", f->amount->currency,
                        inv.currency);
            return FACT_REJECTED;
        }
        if (f->amount->minor > inv.open) {
            intake_fail(err, "exceeds_open", "amount.minor",
                        "%" PRId64 " exceeds the open amount %" PRId64 " of invoice '%s'",
                        f->amount->minor, inv.open, f->invoice_external_id);
            return FACT_REJECTED;
        }
        amount = f->amount->minor;
    }
    num_t iid = s_num(inv.id), debtor = s_num(inv.debtor_id), amount_s = s_num(amount);
    day_t on = s_day(intake_pb_days(f->date));
    const char *params[] = { ctx->tenant, iid.s, debtor.s, ctx->source, f->external_id,
                             inv.currency, amount_s.s, on.s, f->reason };
    PGresult *r = db_exec(ctx->db,
        "WITH u AS (UPDATE invoices SET open_minor = open_minor - $7::bigint, "
        "    status = CASE WHEN open_minor = $7::bigint THEN 'written_off' ELSE status END "
        "    WHERE tenant = $1 AND id = $2::bigint) "
        "INSERT INTO write_offs (tenant, invoice_id, debtor_id, source, external_id, currency, "
        "amount_minor, date, reason) VALUES ($1, $2::bigint, $3::bigint, $4, $5, $6, $7::bigint, "
        "$8::date, $9) RETURNING id", 9, params);
    if (!r)
        return FACT_DB_ERROR;
    *id = s_get_i64(r, 0, 0);
    PQclear(r);
    if (intake_fact_register(ctx, *id) != 0)
        return FACT_DB_ERROR;

    Creance__Money m_amount = s_money(amount, inv.currency),
                   m_after = s_money(inv.open - amount, inv.currency);
    Creance__WrittenOff e = CREANCE__WRITTEN_OFF__INIT;
    e.invoice_id = inv.id;
    e.debtor_id = inv.debtor_id;
    e.amount = &m_amount;
    e.date = f->date;
    e.reason = f->reason;
    e.invoice_open_after = &m_after;
    Creance__Envelope env;
    s_env_begin(ctx, &env);
    env.event_case = CREANCE__ENVELOPE__EVENT_WRITTEN_OFF;
    env.written_off = &e;
    return s_env_add(ctx, &env) == 0 ? FACT_RECORDED : FACT_DB_ERROR;
}

/* -------------------------------------------------------------- payment plan */

static fact_rc_t
s_record_plan(fact_ctx_t *ctx, const Creance__IntakeItem *item, int64_t *id, intake_error_t *err)
{
    const Creance__PaymentPlanFact *f = item->payment_plan;
    int64_t debtor_id;
    fact_rc_t rc = s_find_debtor(ctx, f->debtor_external_id, &debtor_id, err);
    if (rc != FACT_RECORDED)
        return rc;
    const char *currency = f->instalments[0]->amount->currency;
    int64_t *ids;
    rc = s_resolve_invoices(ctx, f->invoice_external_ids, f->n_invoice_external_ids, debtor_id,
                            currency, &ids, err);
    if (rc != FACT_RECORDED)
        return rc;
    size_t n = f->n_instalments;
    int64_t total = 0;
    pgarray_t dues = PGARRAY_INIT, amounts = PGARRAY_INIT, id_array = PGARRAY_INIT;
    pgarray_begin(&dues);
    pgarray_begin(&amounts);
    for (size_t i = 0; i < n; i++) {
        pgarray_day(&dues, intake_pb_days(f->instalments[i]->due_date));
        pgarray_int(&amounts, f->instalments[i]->amount->minor);
        total += f->instalments[i]->amount->minor;
    }
    num_t debtor = s_num(debtor_id), total_s = s_num(total);
    day_t agreed = s_day(intake_pb_days(f->agreed_date));
    const char *params[] = { ctx->tenant, debtor.s, ctx->source, f->external_id, agreed.s,
                             currency, total_s.s,
                             s_id_array(&id_array, ids, f->n_invoice_external_ids),
                             pgarray_end(&dues), pgarray_end(&amounts) };
    PGresult *r = db_exec(ctx->db,
        "WITH p AS (INSERT INTO payment_plans (tenant, debtor_id, source, external_id, agreed_date, "
        "    currency, total_minor, invoice_ids) VALUES ($1, $2::bigint, $3, $4, $5::date, $6, "
        "    $7::bigint, $8::bigint[]) RETURNING id), "
        "i AS (INSERT INTO plan_instalments (tenant, debtor_id, plan_id, number, due_date, currency, "
        "    amount_minor) SELECT $1, $2::bigint, p.id, x.n, x.due, $6, x.amount FROM p, "
        "    unnest($9::date[], $10::bigint[]) WITH ORDINALITY AS x(due, amount, n)) "
        "SELECT id FROM p", 10, params);
    pgarray_free(&id_array);
    pgarray_free(&dues);
    pgarray_free(&amounts);
    if (!r) {
        free(ids);
        return FACT_DB_ERROR;
    }
    *id = s_get_i64(r, 0, 0);
    PQclear(r);
    if (intake_fact_register(ctx, *id) != 0) {
        free(ids);
        return FACT_DB_ERROR;
    }

    Creance__Instalment *ins = calloc(n, sizeof *ins);
    Creance__Instalment **ptrs = calloc(n, sizeof *ptrs);
    for (size_t i = 0; i < n; i++) {
        creance__instalment__init(&ins[i]);
        ins[i].number = (int32_t) i + 1;
        ins[i].due_date = f->instalments[i]->due_date;
        ins[i].amount = f->instalments[i]->amount;
        ptrs[i] = &ins[i];
    }
    Creance__PaymentPlanAgreed e = CREANCE__PAYMENT_PLAN_AGREED__INIT;
    e.plan_id = *id;
    e.debtor_id = debtor_id;
    e.n_invoice_ids = f->n_invoice_external_ids;
    e.invoice_ids = ids;
    e.n_instalments = n;
    e.instalments = ptrs;
    e.agreed_date = f->agreed_date;
    e.external_id = f->external_id;
    Creance__Envelope env;
    s_env_begin(ctx, &env);
    env.event_case = CREANCE__ENVELOPE__EVENT_PLAN_AGREED;
    env.plan_agreed = &e;
    int erc = s_env_add(ctx, &env);
    free(ins);
    free(ptrs);
    free(ids);
    return erc == 0 ? FACT_RECORDED : FACT_DB_ERROR;
}

/* ------------------------------------------------------------------ promise */

static fact_rc_t
s_record_promise(fact_ctx_t *ctx, const Creance__IntakeItem *item, int64_t *id,
                 intake_error_t *err)
{
    const Creance__PromiseFact *f = item->promise;
    int64_t debtor_id;
    fact_rc_t rc = s_find_debtor(ctx, f->debtor_external_id, &debtor_id, err);
    if (rc != FACT_RECORDED)
        return rc;
    int64_t *ids;
    rc = s_resolve_invoices(ctx, f->invoice_external_ids, f->n_invoice_external_ids, debtor_id,
                            f->amount->currency, &ids, err);
    if (rc != FACT_RECORDED)
        return rc;
    pgarray_t id_array = PGARRAY_INIT;
    num_t debtor = s_num(debtor_id), amount = s_num(f->amount->minor);
    day_t on = s_day(intake_pb_days(f->promised_date));
    const char *params[] = { ctx->tenant, debtor.s, ctx->source, f->external_id,
                             f->amount->currency, amount.s, on.s,
                             s_id_array(&id_array, ids, f->n_invoice_external_ids) };
    PGresult *r = db_exec(ctx->db,
        "INSERT INTO promises (tenant, debtor_id, source, external_id, currency, amount_minor, "
        "promised_date, invoice_ids) VALUES ($1, $2::bigint, $3, $4, $5, $6::bigint, $7::date, "
        "$8::bigint[]) RETURNING id", 8, params);
    pgarray_free(&id_array);
    if (!r) {
        free(ids);
        return FACT_DB_ERROR;
    }
    *id = s_get_i64(r, 0, 0);
    PQclear(r);
    if (intake_fact_register(ctx, *id) != 0) {
        free(ids);
        return FACT_DB_ERROR;
    }
    Creance__PromiseMade e = CREANCE__PROMISE_MADE__INIT;
    e.promise_id = *id;
    e.debtor_id = debtor_id;
    e.amount = f->amount;
    e.promised_date = f->promised_date;
    e.n_invoice_ids = f->n_invoice_external_ids;
    e.invoice_ids = ids;
    e.external_id = f->external_id;
    Creance__Envelope env;
    s_env_begin(ctx, &env);
    env.event_case = CREANCE__ENVELOPE__EVENT_PROMISE_MADE;
    env.promise_made = &e;
    int erc = s_env_add(ctx, &env);
    free(ids);
    return erc == 0 ? FACT_RECORDED : FACT_DB_ERROR;
}

/* ------------------------------------------------------------------- table */

static const fact_handler_t s_handlers[] = {
    { CREANCE__INTAKE_ITEM__FACT_DEBTOR,  "debtor",  s_record_debtor },
    { CREANCE__INTAKE_ITEM__FACT_INVOICE, "invoice", s_record_invoice },
    { CREANCE__INTAKE_ITEM__FACT_PAYMENT, "payment", s_record_payment },
    { CREANCE__INTAKE_ITEM__FACT_DISPUTE, "dispute", s_record_dispute },
    { CREANCE__INTAKE_ITEM__FACT_INVOICE_ADJUSTMENT,   "invoice_adjustment",   s_record_adjustment },
    { CREANCE__INTAKE_ITEM__FACT_INVOICE_CANCELLATION, "invoice_cancellation", s_record_cancellation },
    { CREANCE__INTAKE_ITEM__FACT_CREDIT_NOTE,          "credit_note",          s_record_credit_note },
    { CREANCE__INTAKE_ITEM__FACT_PAYMENT_REVERSAL,     "payment_reversal",     s_record_reversal },
    { CREANCE__INTAKE_ITEM__FACT_WRITE_OFF,            "write_off",            s_record_write_off },
    { CREANCE__INTAKE_ITEM__FACT_PAYMENT_PLAN,         "payment_plan",         s_record_plan },
    { CREANCE__INTAKE_ITEM__FACT_PROMISE,              "promise",              s_record_promise },
};

const fact_handler_t *
intake_fact_handler(Creance__IntakeItem__FactCase fact_case)
{
    for (size_t i = 0; i < sizeof s_handlers / sizeof s_handlers[0]; i++)
        if (s_handlers[i].fact_case == fact_case)
            return &s_handlers[i];
    return NULL;
}
