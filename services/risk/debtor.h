/*  debtor: one debtor's exposure as risk keeps it, and its Redis shape.

    Pure (no I/O): the in-memory state, the Redis key and field names, and
    parsing of what PostgreSQL or Redis hand back. The state is per currency
    (risk_debtor_state has one row per debtor and currency); open_invoices
    and updated_at_us are per debtor, summed / latest over its currencies.

    Redis hash "creance:{<tenant>:<debtor_id>}:debtor":
        outstanding:<CUR>   minor units, decimal text (one field per currency)
        open_invoices       decimal text
        updated_at_us       UTC microseconds of the last change
        risk                the scored state, JSON (snapshot.h), when scored */
#ifndef CREANCE_RISK_DEBTOR_H
#define CREANCE_RISK_DEBTOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RISK_TENANT_MAX   64        /* tenants.id is at most 63 characters */
#define RISK_DEBTOR_KEY_MAX    (RISK_TENANT_MAX + 48)

typedef struct {
    char currency[4];
    int64_t outstanding_minor;
} risk_amount_t;

typedef struct {
    char tenant[RISK_TENANT_MAX];
    int64_t debtor_id;
    int64_t open_invoices;
    int64_t updated_at_us;
    size_t count;                   /* amounts in use, sorted by currency */
    size_t cap;
    risk_amount_t *amounts;
    char *snapshot;                 /* scored state, JSON (snapshot.h); NULL when unscored */
} risk_debtor_t;

/*  tenants.id rule: ^[a-z0-9][a-z0-9_-]{0,62}$. Anything else never reaches
    a key: a '}' or ':' would break the hash tag. */
bool risk_tenant_valid(const char *tenant);
/*  Three upper-case ASCII letters (the shape of an ISO 4217 code). */
bool risk_currency_valid(const char *currency);

/*  Writes the debtor's hash key; returns its length, or -1 if the tenant is
    invalid or the key does not fit. */
int  risk_debtor_key(char *out, size_t outlen, const char *tenant, int64_t debtor_id);

void risk_debtor_init(risk_debtor_t *self, const char *tenant, int64_t debtor_id);
void risk_debtor_clear(risk_debtor_t *self);      /* frees amounts and snapshot, keeps identity */
/*  Replaces the snapshot with a copy of `text` (NULL clears it). 0 or -1. */
int  risk_debtor_set_snapshot(risk_debtor_t *self, const char *text);
risk_debtor_t *risk_debtor_new(const char *tenant, int64_t debtor_id);
void risk_debtor_destroy(risk_debtor_t **self_p);

/*  Sets (replaces) the outstanding amount in `currency`. 0 or -1 (bad currency). */
int  risk_debtor_set(risk_debtor_t *self, const char *currency, int64_t minor);
const risk_amount_t *risk_debtor_find(const risk_debtor_t *self, const char *currency);
/*  The currency with the largest outstanding (the first in code order on a
    tie), or NULL when the state has no currency. */
const risk_amount_t *risk_debtor_main(const risk_debtor_t *self);

/*  Strict decimal int64: no spaces, no trailing characters, no overflow. */
bool risk_parse_int64(const char *text, int64_t *out);

/*  Parses "EUR=1200,USD=-5" (string_agg over risk_debtor_state) into the
    state's amounts. 0 or -1 on malformed text (the state is then cleared). */
int  risk_debtor_parse_amounts(risk_debtor_t *self, const char *text);

/*  Fills the state from an HGETALL answer given as field/value pairs.
    Returns 1 when the hash is complete (open_invoices, updated_at_us and at
    least one outstanding:<CUR>), 0 when it is empty or incomplete (read
    PostgreSQL instead), -1 when a value is malformed. Unknown fields are
    ignored (later versions add fields). */
int  risk_debtor_from_hash(risk_debtor_t *self, size_t npairs,
                            const char *const *fields, const char *const *values);

#endif
