/*  route: partitioned intake (CREANCE_INTAKE_PARTITION=k/N).

    Each debtor's facts must be recorded in the order the sender sent them,
    and two intakes recording new facts of one debtor at once could each
    miss the other's uncommitted rows (a new invoice and a new payment: the
    payment finds no open invoice, the invoice no unapplied credit). So the
    sender routes every fact that names a debtor (debtor, invoice, payment,
    credit note, payment plan, promise) to instance
        creance_partition(tenant, debtor external id, N)   (common/partition.h)
    and an instance refuses, per item, a fact of another partition, naming
    the field and the right partition: nothing is recorded, the sender can
    resend it to the right instance. Which field is an item's debtor key is
    common/intakeroute.h's answer, the one the senders route by.

    Facts that name only an invoice or a payment (dispute, adjustment,
    cancellation, write-off, reversal) are accepted by any instance: they
    change rows that already exist and lock them (SELECT ... FOR UPDATE on
    the invoice or payment) before reading their amounts, so two intakes
    serialize on that row and never allocate, credit or write off one
    amount twice (tests/e2e/test_partitioning.py races them). Pure. */
#ifndef INTAKE_ROUTE_H
#define INTAKE_ROUTE_H

#include "creance.pb-c.h"
#include "partition.h"
#include "validate.h"

/*  True when this instance records the item; false fills `err`
    (key "wrong_partition"). */
bool intake_route_check(const partition_t *part, const char *tenant, const Creance__IntakeItem *item,
                        intake_error_t *err);

#endif
