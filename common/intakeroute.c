/*  intakeroute: an item's debtor key and instance; endpoint lists. */
#include "intakeroute.h"

#include "partition.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *
intakeroute_key(const Creance__IntakeItem *item, const char **field)
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
        /* Dispute, adjustment, cancellation, write-off, reversal: they name
           an invoice or a payment that already exists. */
        *field = NULL;
        return NULL;
    }
}

uint32_t
intakeroute_instance(const char *tenant, const Creance__IntakeItem *item, uint32_t count)
{
    if (count <= 1)
        return 0;
    const char *field;
    const char *key = intakeroute_key(item, &field);
    return key ? partition_of(tenant, key, count) : 0;
}

void
intakeroute_endpoints_free(char ***list)
{
    if (!*list)
        return;
    for (char **p = *list; *p; p++)
        free(*p);
    free(*list);
    *list = NULL;
}

bool
intakeroute_endpoints(const char *text, char ***out, size_t *n, char *err, size_t errlen)
{
    *out = NULL;
    *n = 0;
    if (!text)
        text = "";
    size_t count = 1;
    for (const char *p = text; *p; p++)
        count += *p == ',';
    if (count > PARTITION_MAX) {
        snprintf(err, errlen, "%zu endpoints: at most %d", count, PARTITION_MAX);
        return false;
    }
    char **list = calloc(count + 1, sizeof *list);
    if (!list) {
        snprintf(err, errlen, "out of memory");
        return false;
    }
    const char *p = text;
    for (size_t i = 0; i < count; i++) {
        const char *end = strchr(p, ',');
        if (!end)
            end = p + strlen(p);
        const char *a = p, *b = end;
        while (a < b && (*a == ' ' || *a == '\t'))
            a++;
        while (b > a && (b[-1] == ' ' || b[-1] == '\t'))
            b--;
        size_t len = (size_t) (b - a);
        list[i] = strndup(a, len);
        if (!list[i]) {
            snprintf(err, errlen, "out of memory");
            intakeroute_endpoints_free(&list);
            return false;
        }
        const char *scheme = strstr(list[i], "://");
        if (len == 0 || !scheme || scheme == list[i] || !scheme[3]) {
            if (count == 1)
                snprintf(err, errlen, "'%s' is not a ZeroMQ endpoint like tcp://127.0.0.1:5560",
                         list[i]);
            else
                snprintf(err, errlen, "endpoint %zu of %zu, '%s', is not a ZeroMQ endpoint like "
                         "tcp://127.0.0.1:5560", i + 1, count, list[i]);
            intakeroute_endpoints_free(&list);
            return false;
        }
        for (size_t j = 0; j < i; j++)
            if (strcmp(list[j], list[i]) == 0) {
                /* The same intake twice would make it two partitions. */
                snprintf(err, errlen, "endpoints %zu and %zu are both '%s': each partition needs "
                         "an intake of its own", j + 1, i + 1, list[i]);
                intakeroute_endpoints_free(&list);
                return false;
            }
        p = *end ? end + 1 : end;
    }
    *out = list;
    *n = count;
    return true;
}
