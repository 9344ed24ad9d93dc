/*  route: which debtor a ledger event belongs to, for partitioned risk.

    With CREANCE_RISK_PARTITION=k/N, instance k applies only the events of
    the debtors it owns (common/partition.h, key = the debtor's Créance id
    in decimal, which every ledger event carries); the others still advance
    its consumer position, without effect. Pure. */
#ifndef CREANCE_RISK_ROUTE_H
#define CREANCE_RISK_ROUTE_H

#include "creance.pb-c.h"
#include "partition.h"

/*  The event's debtor id, or 0 when it names none (a malformed event: the
    owner of id 0 then counts it as refused, so exactly one instance does). */
int64_t risk_route_debtor(const Creance__Envelope *env);
/*  True when this instance applies the event. */
bool    risk_route_owns(const partition_t *part, const Creance__Envelope *env);

#endif
