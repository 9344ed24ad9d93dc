/*  gdprblank: the pure parts of a debtor's erasure (GDPR), for erase.c.

    event_log keeps the exact bytes of every envelope, and a consumer that
    catches up from event_log (a new one, one reset to position 0, a
    rebuild) would bring an erased debtor's name and e-mail back from the
    old DebtorCreated/DebtorUpdated. So erasure decodes the debtor's past
    envelopes, blanks their personal fields and encodes them again; the
    amounts, dates, ids and the header (tenant, stream, seq, event id) are
    kept, so a replay gives the same ledger and KPIs.

    Personal fields, by event:
      DebtorCreated, DebtorUpdated   legal_name -> the pseudonym; company_id,
                                     email, phone -> ""; address removed
      DisputeOpened, InvoiceAdjusted, InvoiceCancelled, PaymentReversed,
      WrittenOff                     reason -> "" (free text may name people)
      ReminderFailed                 error -> "" (an SMTP error may quote
                                     the address) */
#ifndef CREANCE_REPORTING_GDPRBLANK_H
#define CREANCE_REPORTING_GDPRBLANK_H

#include <stddef.h>
#include <stdint.h>
#include "creance.pb-c.h"

/*  "erased-<id>" into out (at least 32 bytes). */
void rpt_gdpr_pseudonym(int64_t debtor_id, char *out, size_t len);

/*  The debtor an event is about, or 0 when it names none. */
int64_t rpt_gdpr_event_debtor(const Creance__Envelope *env);

/*  Blanks the personal fields of `env` when it is about `debtor_id`.
    Returns the number of fields changed (0: nothing to rewrite), or -1 when
    out of memory. `env` must come from creance__envelope__unpack with the
    default allocator (strings are freed and replaced). */
int rpt_gdpr_blank_envelope(Creance__Envelope *env, int64_t debtor_id, const char *pseudonym);

/*  Decodes `data`, blanks it and encodes it again into *out (malloc'd,
    caller frees) when anything changed. Returns the number of fields
    changed (0: *out is NULL, the bytes stay as they are), or -1 when the
    bytes are not an envelope or memory ran out. */
int rpt_gdpr_blank_bytes(const uint8_t *data, size_t len, int64_t debtor_id,
                         const char *pseudonym, uint8_t **out, size_t *out_len);

/*  event_log.event_type values whose envelopes may hold personal data: the
    erasure decodes only these (NULL-terminated). */
extern const char *const rpt_gdpr_personal_event_types[];

#endif
