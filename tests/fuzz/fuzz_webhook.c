/*  Fuzz target: intake's HTTP inputs, the pure parts (webhook.h, stripe.h):
    a JSON request body into an IntakeBatch (intake_json_batch) and
    through validation, a Stripe event into a JSON item (intake_stripe_map,
    then intake_json_item), and the signature and timestamp headers
    (intake_webhook_parse_sig, intake_webhook_check_ts).

    The whole input goes to each: as the body for both JSON paths (parsed
    with the flags web.c uses) and, as a C string, to the header parsers.

    Properties beyond "no crash, no leak, no UB":
    - every error names a field and a reason, both valid UTF-8;
    - a built batch has the tenant given, encodes, and decodes again;
    - a Stripe event that is not refused has a string "id" and "type"
      (web.c copies both with "%s");
    - a parsed signature has 1..INTAKE_SIG_MAX digests. */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "log.h"
#include "../../services/intake/stripe.h"
#include "../../services/intake/validate.h"
#include "../../services/intake/webhook.h"

static int s_utf8(const char *s)
{
    return s && intake_utf8_valid(s, strlen(s), NULL);
}

static void s_check_error(const intake_error_t *err)
{
    CHECK(err->key && err->key[0]);
    /* Every refusal names a field, also for a JSON key "" (the seed
       regression-empty-key.json once produced an empty field name). */
    CHECK(err->field[0]);
    CHECK(err->reason[0]);
    CHECK(s_utf8(err->field) && s_utf8(err->reason));
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    log_init("fuzz");
    log_set_level("error");
    return 0;
}

static void s_batch(const uint8_t *data, size_t size)
{
    json_error_t jerr;
    json_t *root = json_loadb((const char *) data, size, JSON_REJECT_DUPLICATES, &jerr);
    if (!root)
        return;
    intake_error_t err, *item_errs = NULL;
    memset(&err, 0, sizeof err);
    Creance__IntakeBatch *batch = intake_json_batch(root, "acme", &item_errs, &err);
    json_decref(root);
    if (!batch) {
        s_check_error(&err);
        return;
    }
    CHECK(strcmp(batch->tenant, "acme") == 0);
    for (size_t i = 0; i < batch->n_items; i++) {
        if (item_errs && item_errs[i].key) {
            s_check_error(&item_errs[i]);
            continue;
        }
        intake_error_t e;
        memset(&e, 0, sizeof e);
        if (!intake_validate_item(batch->items[i], &e))
            s_check_error(&e);
    }
    size_t n = creance__intake_batch__get_packed_size(batch);
    uint8_t *buf = malloc(n ? n : 1);
    CHECK(creance__intake_batch__pack(batch, buf) == n);
    Creance__IntakeBatch *again = creance__intake_batch__unpack(NULL, n, buf);
    CHECK(again && again->n_items == batch->n_items);
    creance__intake_batch__free_unpacked(again, NULL);
    free(buf);
    free(item_errs);
    creance__intake_batch__free_unpacked(batch, NULL);
}

static void s_stripe(const uint8_t *data, size_t size)
{
    json_error_t jerr;
    json_t *event = json_loadb((const char *) data, size, 0, &jerr);
    if (!event)
        return;
    stripe_mapped_t m;
    memset(&m, 0, sizeof m);
    intake_error_t err;
    memset(&err, 0, sizeof err);
    stripe_verdict_t v = intake_stripe_map(event, &m, &err);
    if (v == STRIPE_BAD)
        s_check_error(&err);
    else {
        CHECK(json_string_value(json_object_get(event, "id")));
        CHECK(json_string_value(json_object_get(event, "type")));
        if (v == STRIPE_IGNORED)
            CHECK(m.reason && m.ignored_key);
        else {
            CHECK(m.item);
            /* One item, or several (a charge's refunds), never none. */
            bool many = json_is_array(m.item);
            CHECK(!many || json_array_size(m.item) > 0);
            size_t n = many ? json_array_size(m.item) : 1;
            for (size_t i = 0; i < n; i++) {
                Creance__IntakeItem *item = NULL;
                intake_error_t e;
                memset(&e, 0, sizeof e);
                if (intake_json_item(many ? json_array_get(m.item, i) : m.item, &item, &e)) {
                    CHECK(item);
                    if (!intake_validate_item(item, &e))
                        s_check_error(&e);
                    creance__intake_item__free_unpacked(item, NULL);
                }
                else
                    s_check_error(&e);
            }
        }
        intake_stripe_mapped_clear(&m);
    }
    json_decref(event);
}

static void s_headers(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    memcpy(text, data, size);
    text[size] = 0;
    intake_sig_t sig;
    intake_error_t err;
    memset(&err, 0, sizeof err);
    if (intake_webhook_parse_sig(text, "Stripe-Signature", &sig, &err)) {
        CHECK(sig.n >= 1 && sig.n <= INTAKE_SIG_MAX);
        CHECK(memchr(sig.t, 0, sizeof sig.t));
        const char *secrets[] = { "whsec_test" };
        (void) intake_webhook_verify(secrets, 1, sig.t, text, size, &sig);
    }
    else
        s_check_error(&err);
    memset(&err, 0, sizeof err);
    if (!intake_webhook_check_ts(text, 1700000000, "X-Creance-Timestamp", &err))
        s_check_error(&err);
    free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    s_batch(data, size);
    s_stripe(data, size);
    s_headers(data, size);
    return 0;
}
