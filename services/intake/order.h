/*  order: the order in which intake records the items of one request.

    The set-based path (bulk.h) records a run of consecutive new items of
    one kind in a few statements whatever its length; each run costs about
    a millisecond of fixed work (planning, the CTE's setup). A billing feed
    in time order interleaves kinds debtor by debtor (an invoice, another
    debtor's payment, a third's invoice...), so runs in request order were
    short: 34 items on average for the simulator's 500-item requests.

    Only each debtor's own order matters: a payment must find the invoices
    sent before it, a dispute the invoice it names. Debtors do not see each
    other's facts. So items are recorded level by level: an item's level is
    its debtor's previous item's level, plus one when the kind changes (or
    either of them is recorded alone, item by item). Within a level the
    debtor rows come first, then the invoices, then the payments, then the
    items recorded alone, each in request order. Every debtor's items keep
    their order; the runs become as long as a level.

    An item with no debtor key (a dispute, write-off, adjustment,
    cancellation or reversal names only an invoice or payment) and an item
    whose external id appears earlier in the request are barriers: every
    item before it is recorded before it, every item after it after it.
    Results are per item index, so the reply does not change; events keep
    each debtor's order (the event log's order across debtors is not a
    promise). Pure. */
#ifndef INTAKE_ORDER_H
#define INTAKE_ORDER_H

#include <stddef.h>

typedef enum {
    ORDER_DEBTOR, ORDER_INVOICE, ORDER_PAYMENT,     /* runs of the set-based path */
    ORDER_ALONE                                     /* recorded item by item */
} order_group_t;

/*  keys[i]: item i's debtor key, or NULL for a barrier; groups[i] its
    group. Writes the processing order (a permutation of 0..n-1) to ord.
    0, or -1 when out of memory (ord is then the request order). */
int intake_order(size_t n, const char *const *keys, const order_group_t *groups, size_t *ord);

#endif
