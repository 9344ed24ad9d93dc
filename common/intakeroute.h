/*  intakeroute: which of N partitioned intakes an item goes to
    (docs/scaling.md, "Senders").

    A partitioned intake (CREANCE_INTAKE_PARTITION=k/N) records a fact that
    names a debtor only when that debtor's external id is of its partition,
    and a debtor's facts must reach one intake, in order. So the senders
    (creance-feedsim, `creance import` and the CLI's one-fact commands) and
    intake's own check (services/intake/route.c) ask this one module which
    field of an item is its debtor key: one implementation, one answer.

    Items that name only an existing invoice or payment (dispute,
    adjustment, cancellation, write-off, reversal) have no key: any intake
    records them. A sender that knows their debtor sends them to the
    debtor's instance (creance-feedsim does, so that a dispute stays behind
    its invoice); one that does not (the CLI) sends them to instance 0.

    An endpoint list is CREANCE_INTAKE_ENDPOINT (or a tool's --endpoint)
    as "tcp://a,tcp://b": N = its length, in partition order (the first
    endpoint is the intake running 0/N). One endpoint: N = 1, everything
    goes there, as before partitioning. Pure. */
#ifndef CREANCE_INTAKEROUTE_H
#define CREANCE_INTAKEROUTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "creance.pb-c.h"

/*  The debtor external id an item names and the field that holds it
    ("external_id" for a debtor, "debtor_external_id" otherwise), or NULL
    (and *field NULL) when the item names no debtor. */
const char *intakeroute_key(const Creance__IntakeItem *item, const char **field);

/*  The instance, 0..count-1, that records `item` of `tenant`:
    creance_partition(tenant, key, count), or 0 for an item without a key.
    count 0 or 1: always 0, without hashing. */
uint32_t intakeroute_instance(const char *tenant, const Creance__IntakeItem *item,
                              uint32_t count);

/*  Splits a comma-separated endpoint list (spaces around the commas are
    ignored) into *out, a NULL-terminated array of *n copies (free with
    intakeroute_endpoints_free). Each must look like "scheme://address";
    at most PARTITION_MAX of them. Returns false with the reason in `err`
    (naming the position of the bad one) and *out NULL. */
bool intakeroute_endpoints(const char *text, char ***out, size_t *n, char *err, size_t errlen);
void intakeroute_endpoints_free(char ***list);

#endif
