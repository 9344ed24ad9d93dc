/*  delivery: sends what the dunning pass committed to the outbox.

    A zloop timer (CREANCE_REMINDERS_DELIVERY_MS) takes a small batch
    (CREANCE_REMINDERS_DELIVERY_BATCH) of deliveries whose next_attempt_at
    has come and, for each:
      1. claims it: status 'sending', attempts + 1, next_attempt_at moved by
         a lease (committed before anything leaves);
      2. composes the message (compose.h) and sends it on its channel
         (channels.h) with its idempotency key: the SMTP Message-ID
         "<r<id>.email@<tenant>.creance>", the SMS Idempotency-Key header,
         the letter's file name "<key>.pdf";
      3. records the outcome in one transaction with a ReminderSent or
         ReminderFailed event: 'sent' (content, provider id, time); or, on
         a transient error, 'pending' again after an exponential backoff
         (base * 2^(attempts-1), capped); after max attempts or a permanent
         refusal, 'failed' and a delivery on the next fallback channel that
         is neither opted out nor without an address (the reminder fails
         when none is left).
    Phone reminders become an open task of the collectors' worklist, hand-
    offs a dossier PDF in the outbox plus a worklist task.

    Crash safety: the decision was committed before step 1. A crash after
    step 1 leaves 'sending': at start-up those are due at once and sent
    again with the same key. The SMS gateway and the letter outbox are
    idempotent on that key; SMTP is not: the only window for a second
    e-mail is between the server's "250 OK" to DATA and the commit of step 3
    (milliseconds); a crash before the server's acknowledgement (the usual
    case: the service dies while waiting for it) does not produce a second
    message, because the server has not accepted the first.

    The trade-off of blocking calls in the service's only loop: each send
    waits at most its timeout (CREANCE_SMTP_TIMEOUT_MS, CREANCE_SMS_TIMEOUT_MS)
    and a batch holds at most BATCH of them, so HTTP requests and events
    wait at most BATCH x timeout in the worst case; a multi handle would
    remove that wait, at the cost of more states per delivery.

    Bounces: rem_delivery_bounce() marks an e-mail delivery 'bounced',
    records the debtor's e-mail as opted out (reason 'bounce') and falls
    back like a failure. */
#ifndef CREANCE_REMINDERS_DELIVERY_H
#define CREANCE_REMINDERS_DELIVERY_H

#include <stdint.h>
#include "bus.h"
#include "channels.h"
#include "db.h"

typedef struct {
    rem_smtp_t smtp;
    rem_sms_t sms;
    const char *letter_outbox;
    int batch;
    int max_attempts;
    int backoff_base_s;
    int backoff_max_s;
    int lease_s;
} rem_delivery_config_t;

typedef struct rem_delivery_t rem_delivery_t;

rem_delivery_t *rem_delivery_new(db_t *db, bus_t *bus, const rem_delivery_config_t *cfg);
void rem_delivery_destroy(rem_delivery_t **self_p);
/*  At start-up: deliveries left 'sending' by a crash are due at once. */
int  rem_delivery_recover(rem_delivery_t *self);
/*  One batch. Returns the number of deliveries handled, -1 on a database error. */
int  rem_delivery_run(rem_delivery_t *self);
/*  Pure: the backoff after `attempts` failures. */
int  rem_delivery_backoff(int attempts, int base_s, int max_s);

/*  Marks the e-mail delivery whose Message-ID (or idempotency key) is `id`
    as bounced, opts the debtor's e-mail out and falls back. 1 when found,
    0 when no sent e-mail of `tenant` has that id, -1 on a database error. */
int  rem_delivery_bounce(rem_delivery_t *self, const char *tenant, const char *id, const char *reason);

#endif
