/*  route: the partition check of a partitioned intake. The item's debtor
    key comes from common/intakeroute.h, which the senders use too. */
#include "route.h"

#include "intakeroute.h"

bool
intake_route_check(const partition_t *part, const char *tenant, const Creance__IntakeItem *item,
                   intake_error_t *err)
{
    if (partition_all(part))
        return true;
    const char *field;
    const char *key = intakeroute_key(item, &field);
    if (!key)
        return true;
    uint32_t owner = partition_of(tenant, key, part->count);
    if (owner == part->index)
        return true;
    /* The key was validated before (valid UTF-8, short): safe to echo. */
    return intake_fail(err, "wrong_partition", field,
                       "debtor '%s' belongs to partition %u/%u; this intake records %u/%u "
                       "(route by creance_partition(tenant, debtor external id, %u))",
                       key, owner, part->count, part->index, part->count, part->count);
}
