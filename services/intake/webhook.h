/*  webhook: the pure parts of intake's HTTP inputs (no I/O), unit-tested.

    Signatures. Both schemes sign "<timestamp>.<raw body>" with
    HMAC-SHA256 and send the hex digest:
      Créance:  X-Creance-Timestamp: <unix seconds>
                X-Creance-Signature: v1=<hex>[,v1=<hex>...]
      Stripe:   Stripe-Signature: t=<unix seconds>,v1=<hex>[,v1=<hex>][,v0=...]
    Several v1 values may be present (the sender signs with each of its
    secrets during a rotation); one match is enough. The timestamp must be
    within INTAKE_WEBHOOK_TOLERANCE seconds of now, either way: a captured
    request cannot be replayed later. Digests are compared in constant time
    (CRYPTO_memcmp).

    JSON. A request body
        {"source": "...", "batch_id": "...", "all_or_nothing": false,
         "items": [{"type": "invoice", "external_id": "...", ...}]}
    becomes an IntakeBatch: "type" names the IntakeItem fact ("debtor",
    "invoice", "payment", "dispute", "invoice_adjustment", ...), the other
    keys are the fact's proto field names. Money is {"minor": 12345,
    "currency": "EUR"}, dates "YYYY-MM-DD", enums their name ("BUSINESS").
    The conversion walks protobuf-c's descriptors, so a field added to the
    proto is accepted in JSON with no code here. */
#ifndef INTAKE_WEBHOOK_H
#define INTAKE_WEBHOOK_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "validate.h"
#include "creance.pb-c.h"

#define INTAKE_WEBHOOK_TOLERANCE 300            /* seconds, either way */
#define INTAKE_WEBHOOK_MAX_BODY (4 * 1024 * 1024) /* larger: 413 */
#define INTAKE_SIG_MAX 8                        /* v1 values looked at */

/*  Lower-case hex HMAC-SHA256(secret, ts "." body) into out (65 bytes). */
void intake_webhook_sign(const char *secret, const char *ts, const char *body, size_t len,
                         char out[65]);

/*  A parsed signature header: its timestamp (Stripe's t=, empty for the
    Créance header) and the v1 digests, 32 bytes each. Other schemes (v0)
    and malformed digests are skipped. */
typedef struct {
    char t[24];
    uint8_t v1[INTAKE_SIG_MAX][32];
    size_t n;
} intake_sig_t;

/*  false when the header has no usable v1 (err names `field`). */
bool intake_webhook_parse_sig(const char *header, const char *field, intake_sig_t *sig,
                              intake_error_t *err);

/*  The timestamp: decimal unix seconds, within the tolerance of `now`. */
bool intake_webhook_check_ts(const char *ts, int64_t now, const char *field, intake_error_t *err);

/*  true when one of the secrets signed (ts, body) as one of sig's digests. */
bool intake_webhook_verify(const char *const *secrets, size_t nsecrets, const char *ts,
                           const char *body, size_t len, const intake_sig_t *sig);

/*  One JSON item into *item (allocated, free with
    creance__intake_item__free_unpacked). false with err (field relative
    to the item, e.g. "amount.minor") when it cannot be built. */
bool intake_json_item(const json_t *obj, Creance__IntakeItem **item, intake_error_t *err);

/*  A whole request body. Returns NULL with *err for a body that is not a
    batch at all (not an object, no source, no items array). Items that
    cannot be built are left empty and their error is in (*item_errs)[i]
    (key NULL for good ones); free *item_errs. */
Creance__IntakeBatch *intake_json_batch(const json_t *root, const char *tenant,
                                        intake_error_t **item_errs, intake_error_t *err);

/*  The results as JSON: [{"index":0,"status":"accepted","id":1}, ...]. */
json_t *intake_json_results(const Creance__ItemResult *results, size_t n);

/*  Unix seconds -> "YYYY-MM-DD" (UTC). */
void intake_unix_date(int64_t seconds, char out[11]);

#endif
