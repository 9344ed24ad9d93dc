/*  gdprblank: blanking a debtor's personal fields in envelopes (gdprblank.h). */
#include "gdprblank.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const rpt_gdpr_personal_event_types[] = {
    "DebtorCreated", "DebtorUpdated", "DisputeOpened", "InvoiceAdjusted", "InvoiceCancelled",
    "PaymentReversed", "WrittenOff", "ReminderFailed", NULL
};

void rpt_gdpr_pseudonym(int64_t debtor_id, char *out, size_t len)
{
    snprintf(out, len, "erased-%" PRId64, debtor_id);
}

int64_t rpt_gdpr_event_debtor(const Creance__Envelope *env)
{
    /*  Every member of the oneof is a pointer at the same place: check the
        one set before reading its debtor. */
    if (!env || !env->debtor_created)
        return 0;
    switch (env->event_case) {
    case CREANCE__ENVELOPE__EVENT_DEBTOR_CREATED:    return env->debtor_created->debtor_id;
    case CREANCE__ENVELOPE__EVENT_DEBTOR_UPDATED:
        return env->debtor_updated->debtor ? env->debtor_updated->debtor->debtor_id : 0;
    case CREANCE__ENVELOPE__EVENT_DEBTOR_ERASED:     return env->debtor_erased->debtor_id;
    case CREANCE__ENVELOPE__EVENT_INVOICE_ISSUED:    return env->invoice_issued->debtor_id;
    case CREANCE__ENVELOPE__EVENT_INVOICE_ADJUSTED:  return env->invoice_adjusted->debtor_id;
    case CREANCE__ENVELOPE__EVENT_INVOICE_CANCELLED: return env->invoice_cancelled->debtor_id;
    case CREANCE__ENVELOPE__EVENT_CREDIT_NOTE_ISSUED: return env->credit_note_issued->debtor_id;
    case CREANCE__ENVELOPE__EVENT_CREDIT_NOTE_APPLIED: return env->credit_note_applied->debtor_id;
    case CREANCE__ENVELOPE__EVENT_PAYMENT_RECEIVED:  return env->payment_received->debtor_id;
    case CREANCE__ENVELOPE__EVENT_PAYMENT_ALLOCATED: return env->payment_allocated->debtor_id;
    case CREANCE__ENVELOPE__EVENT_PAYMENT_REVERSED:  return env->payment_reversed->debtor_id;
    case CREANCE__ENVELOPE__EVENT_WRITTEN_OFF:       return env->written_off->debtor_id;
    case CREANCE__ENVELOPE__EVENT_DISPUTE_OPENED:    return env->dispute_opened->debtor_id;
    case CREANCE__ENVELOPE__EVENT_DISPUTE_RESOLVED:  return env->dispute_resolved->debtor_id;
    case CREANCE__ENVELOPE__EVENT_PLAN_AGREED:       return env->plan_agreed->debtor_id;
    case CREANCE__ENVELOPE__EVENT_INSTALMENT_DUE:    return env->instalment_due->debtor_id;
    case CREANCE__ENVELOPE__EVENT_INSTALMENT_PAID:   return env->instalment_paid->debtor_id;
    case CREANCE__ENVELOPE__EVENT_INSTALMENT_MISSED: return env->instalment_missed->debtor_id;
    case CREANCE__ENVELOPE__EVENT_PLAN_DEFAULTED:    return env->plan_defaulted->debtor_id;
    case CREANCE__ENVELOPE__EVENT_PLAN_COMPLETED:    return env->plan_completed->debtor_id;
    case CREANCE__ENVELOPE__EVENT_PROMISE_MADE:      return env->promise_made->debtor_id;
    case CREANCE__ENVELOPE__EVENT_PROMISE_KEPT:      return env->promise_kept->debtor_id;
    case CREANCE__ENVELOPE__EVENT_PROMISE_BROKEN:    return env->promise_broken->debtor_id;
    case CREANCE__ENVELOPE__EVENT_RISK_SCORED:       return env->risk_scored->debtor_id;
    case CREANCE__ENVELOPE__EVENT_GRADE_CHANGED:     return env->grade_changed->debtor_id;
    case CREANCE__ENVELOPE__EVENT_REMINDER_SCHEDULED: return env->reminder_scheduled->debtor_id;
    case CREANCE__ENVELOPE__EVENT_REMINDER_SENT:     return env->reminder_sent->debtor_id;
    case CREANCE__ENVELOPE__EVENT_REMINDER_FAILED:   return env->reminder_failed->debtor_id;
    default:                                         return 0;
    }
}

/*  Replaces *field by `value` when they differ; 1 when changed, 0 when
    not, -1 out of memory. Unpacked strings belong to the default
    allocator (malloc); protobuf-c's empty default is never freed. */
static int set_text(char **field, const char *value)
{
    if (*field && strcmp(*field, value) == 0)
        return 0;
    if (!*field && !*value)
        return 0;
    char *copy = strdup(value);
    if (!copy)
        return -1;
    if (*field && *field != protobuf_c_empty_string)
        free(*field);
    *field = copy;
    return 1;
}

static int blank_debtor(Creance__DebtorCreated *d, const char *pseudonym)
{
    int n = 0, rc;
    char **blank[] = { &d->company_id, &d->email, &d->phone };
    if ((rc = set_text(&d->legal_name, pseudonym)) < 0)
        return -1;
    n += rc;
    for (size_t i = 0; i < sizeof blank / sizeof blank[0]; i++) {
        if ((rc = set_text(blank[i], "")) < 0)
            return -1;
        n += rc;
    }
    if (d->address) {
        protobuf_c_message_free_unpacked(&d->address->base, NULL);
        d->address = NULL;
        n++;
    }
    return n;
}

int rpt_gdpr_blank_envelope(Creance__Envelope *env, int64_t debtor_id, const char *pseudonym)
{
    if (debtor_id <= 0 || rpt_gdpr_event_debtor(env) != debtor_id)
        return 0;
    switch (env->event_case) {
    case CREANCE__ENVELOPE__EVENT_DEBTOR_CREATED:
        return blank_debtor(env->debtor_created, pseudonym);
    case CREANCE__ENVELOPE__EVENT_DEBTOR_UPDATED:
        return blank_debtor(env->debtor_updated->debtor, pseudonym);
    case CREANCE__ENVELOPE__EVENT_DISPUTE_OPENED:
        return set_text(&env->dispute_opened->reason, "");
    case CREANCE__ENVELOPE__EVENT_INVOICE_ADJUSTED:
        return set_text(&env->invoice_adjusted->reason, "");
    case CREANCE__ENVELOPE__EVENT_INVOICE_CANCELLED:
        return set_text(&env->invoice_cancelled->reason, "");
    case CREANCE__ENVELOPE__EVENT_PAYMENT_REVERSED:
        return set_text(&env->payment_reversed->reason, "");
    case CREANCE__ENVELOPE__EVENT_WRITTEN_OFF:
        return set_text(&env->written_off->reason, "");
    case CREANCE__ENVELOPE__EVENT_REMINDER_FAILED:
        return set_text(&env->reminder_failed->error, "");
    default:
        return 0;
    }
}

int rpt_gdpr_blank_bytes(const uint8_t *data, size_t len, int64_t debtor_id,
                         const char *pseudonym, uint8_t **out, size_t *out_len)
{
    *out = NULL;
    *out_len = 0;
    Creance__Envelope *env = creance__envelope__unpack(NULL, len, data);
    if (!env)
        return -1;
    int n = rpt_gdpr_blank_envelope(env, debtor_id, pseudonym);
    if (n > 0) {
        size_t size = creance__envelope__get_packed_size(env);
        *out = malloc(size ? size : 1);
        if (!*out)
            n = -1;
        else
            *out_len = creance__envelope__pack(env, *out);
    }
    creance__envelope__free_unpacked(env, NULL);
    return n;
}
