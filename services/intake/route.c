/*  route: the partition check of a partitioned intake. */
#include "route.h"

const char *
intake_route_key(const Creance__IntakeItem *item, const char **field)
{
    *field = "debtor_external_id";
    switch (item->fact_case) {
    case CREANCE__INTAKE_ITEM__FACT_DEBTOR:
        *field = "external_id";
        return item->debtor ? item->debtor->external_id : NULL;
    case CREANCE__INTAKE_ITEM__FACT_INVOICE:
        return item->invoice ? item->invoice->debtor_external_id : NULL;
    case CREANCE__INTAKE_ITEM__FACT_PAYMENT:
        return item->payment ? item->payment->debtor_external_id : NULL;
    case CREANCE__INTAKE_ITEM__FACT_CREDIT_NOTE:
        return item->credit_note ? item->credit_note->debtor_external_id : NULL;
    case CREANCE__INTAKE_ITEM__FACT_PAYMENT_PLAN:
        return item->payment_plan ? item->payment_plan->debtor_external_id : NULL;
    case CREANCE__INTAKE_ITEM__FACT_PROMISE:
        return item->promise ? item->promise->debtor_external_id : NULL;
    default:
        *field = NULL;
        return NULL;
    }
}

bool
intake_route_check(const partition_t *part, const char *tenant, const Creance__IntakeItem *item,
                   intake_error_t *err)
{
    if (partition_all(part))
        return true;
    const char *field;
    const char *key = intake_route_key(item, &field);
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
