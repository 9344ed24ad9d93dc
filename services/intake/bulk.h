/*  bulk: set-based recording of a run of new debtors, invoices or payments.

    The item-by-item path (facts.h) costs 4 to 8 round trips to PostgreSQL
    per item: a savepoint, lookups, the rows, the idempotency row. A billing
    feed mostly sends long runs of new items of one kind (an invoice export,
    a bank statement), so intake collects consecutive new items of one kind
    of one request into a run and records the run in one or two statements
    whatever its length:
        debtors   one INSERT ... SELECT FROM unnest(...) with its
                  intake_items rows (a data-modifying WITH);
        invoices  the same, joined to debtors (no row: unknown debtor), and
                  a per-invoice flag "the debtor has unapplied credit" (of
                  payments or of credit notes); the
                  few invoices that take credit then go through
                  intake_take_credit one by one, in item order;
        payments  one read of the debtors, their open invoices and the
                  named invoices; the allocation decided in C, payment after
                  payment in item order, exactly as facts.c does it; one
                  write of payments, allocations, invoices and intake_items.
    Results and events are those of the item-by-item path, in item order.

    There is no savepoint per item: a statement that fails (a constraint, a
    concurrent writer: an invoice's open amount is updated only if it is
    still what was read) fails the run, and the caller rolls the whole burst
    back and records it again item by item, where such failures are
    isolated per item. Expected refusals (unknown debtor or invoice, an
    invoice of another debtor or currency) are found in the results, not by
    errors. */
#ifndef INTAKE_BULK_H
#define INTAKE_BULK_H

#include "facts.h"

typedef struct bulk_t bulk_t;

/*  Items in one run at most (the arrays sent as parameters stay small). */
#define BULK_MAX_RUN 1000

bulk_t *bulk_new(void);
void    bulk_destroy(bulk_t **self_p);

/*  True when the item's kind has a set-based path (debtor, invoice,
    payment). The caller sends only new, valid items: not registered in
    intake_items and not recorded earlier in the burst. */
bool    bulk_handles(const Creance__IntakeItem *item);

/*  True when `item` may join the run in hand: same kind, same request
    (`owner`), room left. An empty run takes anything bulk_handles. */
bool    bulk_fits(const bulk_t *self, const void *owner, const Creance__IntakeItem *item);
void    bulk_add(bulk_t *self, const void *owner, size_t index, const Creance__IntakeItem *item);
size_t  bulk_count(const bulk_t *self);

/*  Records the run inside the open transaction; ctx gives the database,
    tenant, source and the event batch (kind, external_id, encoding and
    update are set here). 0, or -1 when a statement failed (see
    above). The run is then read with bulk_outcome and emptied with
    bulk_reset. */
int     bulk_flush(bulk_t *self, fact_ctx_t *ctx);

/*  The k-th item of the run: its index in the request, and FACT_RECORDED
    with *id, or FACT_REJECTED with *err. */
fact_rc_t bulk_outcome(const bulk_t *self, size_t k, size_t *index, int64_t *id,
                       const intake_error_t **err);
void    bulk_reset(bulk_t *self);

#endif
