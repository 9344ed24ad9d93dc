/*  store: risk's SQL. risk_debtor_state is risk's own table (the truth that
    Redis copies); debtors is read to resolve external ids and to tell a
    debtor without exposure from an unknown one. Every statement is scoped
    to one tenant, except the rebuild scan, which copies all tenants' rows
    to their own per-tenant keys. */
#ifndef CREANCE_RISK_STORE_H
#define CREANCE_RISK_STORE_H

#include "db.h"
#include "debtor.h"
#include "delta.h"

/*  Inside the consumer's transaction: adds one delta to its row (one
    upsert), then records the row's new values in `into`: the currency's
    outstanding, the debtor's open invoices over all its currencies, and
    updated_at_us. 0, or -1 on a database error. */
int risk_store_add(db_t *db, const char *tenant, const risk_delta_t *delta, risk_debtor_t *into);

/*  Inside the consumer's transaction: adds many summed deltas in one
    statement. `deltas_json` is a JSON array of {"tenant", "debtor_id",
    "currency", "outstanding", "open", "events"} with one entry per
    (tenant, debtor, currency). 0, or -1 on a database error. */
int risk_store_add_many(db_t *db, const char *deltas_json);

/*  A debtor's state over all its currencies. 1 found, 0 no rows, -1 error. */
int risk_store_load(db_t *db, const char *tenant, int64_t debtor_id, risk_debtor_t *out);

/*  Keyset scan of all debtors, in (tenant, debtor_id) order, for the cache
    rebuild. Start with a zeroed cursor; each call reads at most `limit`
    debtors after it, calls `fn` for each and moves the cursor. Returns the
    number of debtors read (less than `limit` at the end), or -1. */
typedef struct {
    char tenant[RISK_TENANT_MAX];
    int64_t debtor_id;
    bool started;
} risk_store_cursor_t;

typedef int (risk_store_scan_fn)(const risk_debtor_t *state, void *arg);
int risk_store_scan(db_t *db, risk_store_cursor_t *cursor, int limit, risk_store_scan_fn *fn, void *arg);

/*  The debtor's billing currency when it exists in debtors: 1, 0 unknown, -1 error. */
int risk_store_debtor_currency(db_t *db, const char *tenant, int64_t debtor_id, char currency[4]);

/*  Debtors of the tenant with this external id (one per source). Returns
    how many there are, capped at 2 (then the id is ambiguous), and sets
    *debtor_id when there is exactly one; -1 on error. */
int risk_store_resolve_external(db_t *db, const char *tenant, const char *external_id,
                           int64_t *debtor_id);

#endif
