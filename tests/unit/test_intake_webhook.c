/*  Unit tests of services/intake/webhook and stripe: signatures (against
    digests computed independently with Python's hmac), the timestamp
    window, JSON -> IntakeItem, and the Stripe event mapping. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../services/intake/stripe.h"
#include "../../services/intake/webhook.h"

/* --------------------------------------------------------------- signatures */

static const char *EVT_BODY = "{\"id\":\"evt_1\"}";
/* python3: hmac.new(b'whsec_test_secret_0123456789', b'1492774577.{"id":"evt_1"}', sha256) */
static const char *EVT_SIG = "6a30160056906061f3e38b5a21959b0dce495112d58ad24429d21c0bf4b6b0ee";
/* python3: hmac.new(b'another-secret-abcdefgh', b'1700000000.', sha256) */
static const char *EMPTY_SIG = "d729041f78f2a67691c4fd332dbe8a70f6722bf3e5f481a13a99edda5f02c9be";

static void test_sign_matches_reference(void **state)
{
    char hex[65];
    intake_webhook_sign("whsec_test_secret_0123456789", "1492774577", EVT_BODY, strlen(EVT_BODY), hex);
    assert_string_equal(hex, EVT_SIG);
    intake_webhook_sign("another-secret-abcdefgh", "1700000000", "", 0, hex);
    assert_string_equal(hex, EMPTY_SIG);
}

static void test_parse_stripe_header(void **state)
{
    char header[400];
    snprintf(header, sizeof header, "t=1492774577, v1=%s,v0=%s,v1=%s", EVT_SIG, EMPTY_SIG,
             "zz" /* malformed: skipped */);
    intake_sig_t sig;
    intake_error_t err;
    assert_true(intake_webhook_parse_sig(header, "Stripe-Signature", &sig, &err));
    assert_string_equal(sig.t, "1492774577");
    assert_int_equal(sig.n, 1);             /* v0 and the malformed v1 are not counted */
    assert_int_equal(sig.v1[0][0], 0x6a);
    assert_int_equal(sig.v1[0][31], 0xee);

    /* Upper-case hex is the same digest. */
    char upper[80];
    snprintf(upper, sizeof upper, "v1=%s", EVT_SIG);
    for (char *p = upper + 3; *p; p++)
        if (*p >= 'a' && *p <= 'f')
            *p = (char) (*p - 'a' + 'A');
    assert_true(intake_webhook_parse_sig(upper, "X-Creance-Signature", &sig, &err));
    assert_string_equal(sig.t, "");
    assert_int_equal(sig.v1[0][0], 0x6a);

    const char *bad[] = { NULL, "", "t=1", "v1=abc", "sha256=" "6a30", "v2=00" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        memset(&err, 0, sizeof err);
        assert_false(intake_webhook_parse_sig(bad[i], "Stripe-Signature", &sig, &err));
        assert_string_equal(err.field, "Stripe-Signature");
        assert_string_equal(err.key, "bad_signature");
    }
}

static void test_verify(void **state)
{
    char header[200];
    snprintf(header, sizeof header, "t=1492774577,v1=%s", EVT_SIG);
    intake_sig_t sig;
    intake_error_t err;
    assert_true(intake_webhook_parse_sig(header, "Stripe-Signature", &sig, &err));
    const char *right[] = { "old-secret-that-was-rotated", "whsec_test_secret_0123456789" };
    const char *wrong[] = { "whsec_test_secret_012345678" };  /* one character short */
    assert_true(intake_webhook_verify(right, 2, "1492774577", EVT_BODY, strlen(EVT_BODY), &sig));
    assert_false(intake_webhook_verify(wrong, 1, "1492774577", EVT_BODY, strlen(EVT_BODY), &sig));
    assert_false(intake_webhook_verify(right, 2, "1492774578", EVT_BODY, strlen(EVT_BODY), &sig));
    assert_false(intake_webhook_verify(right, 2, "1492774577", EVT_BODY, strlen(EVT_BODY) - 1, &sig));
    assert_false(intake_webhook_verify(right, 0, "1492774577", EVT_BODY, strlen(EVT_BODY), &sig));
}

static void test_timestamp_window(void **state)
{
    intake_error_t err;
    assert_true(intake_webhook_check_ts("1000000", 1000000, "X-Creance-Timestamp", &err));
    assert_true(intake_webhook_check_ts("1000000", 1000300, "X-Creance-Timestamp", &err));
    assert_true(intake_webhook_check_ts("1000300", 1000000, "X-Creance-Timestamp", &err));
    assert_false(intake_webhook_check_ts("1000000", 1000301, "X-Creance-Timestamp", &err));
    assert_string_equal(err.key, "stale_timestamp");
    assert_string_equal(err.field, "X-Creance-Timestamp");
    assert_non_null(strstr(err.reason, "301 seconds old"));
    assert_false(intake_webhook_check_ts("1000301", 1000000, "X-Creance-Timestamp", &err));
    assert_non_null(strstr(err.reason, "in the future"));
    const char *bad[] = { NULL, "", "12a", "-5", " 1000000", "1e6", "9999999999999" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_false(intake_webhook_check_ts(bad[i], 1000000, "t", &err));
        assert_string_equal(err.key, "bad_timestamp");
    }
}

static void test_unix_date(void **state)
{
    char d[11];
    intake_unix_date(0, d);
    assert_string_equal(d, "1970-01-01");
    intake_unix_date(1704067199, d);
    assert_string_equal(d, "2023-12-31");
    intake_unix_date(1704067200, d);
    assert_string_equal(d, "2024-01-01");
    intake_unix_date(-1, d);
    assert_string_equal(d, "1969-12-31");
}

/* ----------------------------------------------------------- JSON -> items */

static Creance__IntakeItem *s_item(const char *text, intake_error_t *err, bool want_ok)
{
    json_error_t jerr;
    json_t *obj = json_loads(text, 0, &jerr);
    assert_non_null(obj);
    Creance__IntakeItem *item = NULL;
    bool ok = intake_json_item(obj, &item, err);
    json_decref(obj);
    assert_int_equal(ok, want_ok);
    return item;
}

static void test_json_invoice(void **state)
{
    intake_error_t err;
    Creance__IntakeItem *it = s_item(
        "{\"type\":\"invoice\",\"external_id\":\"F1\",\"debtor_external_id\":\"D1\",\"number\":\"N1\","
        "\"issue_date\":\"2024-01-10\",\"due_date\":\"2024-02-09\","
        "\"amount\":{\"minor\":123456789012,\"currency\":\"EUR\"},\"terms_days\":30}", &err, true);
    assert_int_equal(it->fact_case, CREANCE__INTAKE_ITEM__FACT_INVOICE);
    const Creance__InvoiceFact *f = it->invoice;
    assert_string_equal(f->external_id, "F1");
    assert_string_equal(f->debtor_external_id, "D1");
    assert_int_equal(f->issue_date->year, 2024);
    assert_int_equal(f->issue_date->month, 1);
    assert_int_equal(f->issue_date->day, 10);
    assert_int_equal(f->due_date->month, 2);
    assert_true(f->amount->minor == 123456789012LL);
    assert_string_equal(f->amount->currency, "EUR");
    assert_int_equal(f->terms_days, 30);
    assert_true(intake_validate_item(it, &err));
    creance__intake_item__free_unpacked(it, NULL);
}

static void test_json_debtor_enum_nested_repeated(void **state)
{
    intake_error_t err;
    Creance__IntakeItem *it = s_item(
        "{\"type\":\"debtor\",\"external_id\":\"D\",\"legal_name\":\"Caf\\u00e9 Zo\",\"kind\":\"consumer\","
        "\"address\":{\"city\":\"Lille\",\"country\":\"FR\"},\"email\":null}", &err, true);
    assert_int_equal(it->debtor->kind, CREANCE__DEBTOR_KIND__CONSUMER);
    assert_string_equal(it->debtor->legal_name, "Caf\xc3\xa9 Zo");
    assert_string_equal(it->debtor->address->city, "Lille");
    assert_string_equal(it->debtor->email, "");
    creance__intake_item__free_unpacked(it, NULL);

    it = s_item("{\"type\":\"payment\",\"external_id\":\"P\",\"debtor_external_id\":\"D\","
                "\"received_date\":\"2024-03-01\",\"amount\":{\"minor\":5,\"currency\":\"EUR\"},"
                "\"invoice_external_ids\":[\"A\",\"B\"]}", &err, true);
    assert_int_equal(it->payment->n_invoice_external_ids, 2);
    assert_string_equal(it->payment->invoice_external_ids[1], "B");
    creance__intake_item__free_unpacked(it, NULL);

    it = s_item("{\"type\":\"payment_plan\",\"external_id\":\"PL\",\"debtor_external_id\":\"D\","
                "\"agreed_date\":\"2024-03-01\",\"instalments\":["
                "{\"due_date\":\"2024-04-01\",\"amount\":{\"minor\":100,\"currency\":\"EUR\"}},"
                "{\"due_date\":\"2024-05-01\",\"amount\":{\"minor\":100,\"currency\":\"EUR\"}}]}", &err, true);
    assert_int_equal(it->fact_case, CREANCE__INTAKE_ITEM__FACT_PAYMENT_PLAN);
    assert_int_equal(it->payment_plan->n_instalments, 2);
    assert_int_equal(it->payment_plan->instalments[1]->due_date->month, 5);
    assert_true(intake_validate_item(it, &err));
    creance__intake_item__free_unpacked(it, NULL);
}

static void test_json_item_errors(void **state)
{
    const struct { const char *json, *key, *field; } cases[] = {
        { "{\"external_id\":\"F\"}", "missing_field", "type" },
        { "{\"type\":\"banana\"}", "bad_value", "type" },
        { "{\"type\":\"invoice\",\"colour\":\"red\"}", "unknown_field", "colour" },
        { "{\"type\":\"invoice\",\"amount\":{\"minor\":1.5,\"currency\":\"EUR\"}}", "bad_json", "amount.minor" },
        { "{\"type\":\"invoice\",\"amount\":{\"minor\":\"100\",\"currency\":\"EUR\"}}", "bad_json", "amount.minor" },
        { "{\"type\":\"invoice\",\"issue_date\":\"10/01/2024\"}", "bad_date", "issue_date" },
        { "{\"type\":\"invoice\",\"issue_date\":\"2024-02-30\"}", "bad_date", "issue_date" },
        { "{\"type\":\"invoice\",\"number\":12}", "bad_json", "number" },
        { "{\"type\":\"invoice\",\"terms_days\":9999999999}", "bad_json", "terms_days" },
        { "{\"type\":\"debtor\",\"kind\":\"martian\"}", "bad_value", "kind" },
        { "{\"type\":\"payment\",\"invoice_external_ids\":\"A\"}", "bad_json", "invoice_external_ids" },
        { "{\"type\":\"payment\",\"invoice_external_ids\":[\"A\",3]}", "bad_json", "invoice_external_ids[1]" },
        { "{\"type\":\"debtor\",\"address\":{\"town\":\"X\"}}", "unknown_field", "address.town" },
        { "[1]", "bad_json", "item" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        intake_error_t err;
        memset(&err, 0, sizeof err);
        Creance__IntakeItem *it = s_item(cases[i].json, &err, false);
        assert_null(it);
        if (strcmp(err.key, cases[i].key) != 0 || strcmp(err.field, cases[i].field) != 0)
            fail_msg("case %zu: %s -> key %s field %s (%s)", i, cases[i].json, err.key, err.field,
                     err.reason);
        assert_true(strlen(err.reason) > 0);
    }
}

static void test_json_batch(void **state)
{
    json_error_t jerr;
    json_t *root = json_loads(
        "{\"source\":\"billing\",\"batch_id\":\"b1\",\"all_or_nothing\":true,\"items\":["
        "{\"type\":\"debtor\",\"external_id\":\"D\",\"legal_name\":\"X\"},"
        "{\"type\":\"invoice\",\"amount\":7},"
        "{\"type\":\"promise\",\"external_id\":\"PR\",\"debtor_external_id\":\"D\","
        "\"amount\":{\"minor\":5,\"currency\":\"EUR\"},\"promised_date\":\"2024-05-01\"}]}", 0, &jerr);
    assert_non_null(root);
    intake_error_t *item_errs, err;
    Creance__IntakeBatch *b = intake_json_batch(root, "acme", &item_errs, &err);
    json_decref(root);
    assert_non_null(b);
    assert_string_equal(b->tenant, "acme");
    assert_string_equal(b->source, "billing");
    assert_string_equal(b->batch_id, "b1");
    assert_true(b->all_or_nothing);
    assert_int_equal(b->n_items, 3);
    assert_int_equal(b->items[0]->fact_case, CREANCE__INTAKE_ITEM__FACT_DEBTOR);
    assert_int_equal(b->items[1]->fact_case, CREANCE__INTAKE_ITEM__FACT__NOT_SET);
    assert_int_equal(b->items[2]->fact_case, CREANCE__INTAKE_ITEM__FACT_PROMISE);
    assert_null(item_errs[0].key);
    assert_string_equal(item_errs[1].key, "bad_json");
    assert_string_equal(item_errs[1].field, "amount");
    assert_null(item_errs[2].key);
    free(item_errs);
    creance__intake_batch__free_unpacked(b, NULL);

    const char *bad[] = { "[]", "{\"source\":\"s\"}", "{\"source\":1,\"items\":[]}",
                          "{\"items\":[]}", "{\"source\":\"\",\"items\":[]}",
                          "{\"source\":\"s\",\"items\":[],\"all_or_nothing\":\"yes\"}" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        root = json_loads(bad[i], 0, &jerr);
        assert_non_null(root);
        assert_null(intake_json_batch(root, "acme", &item_errs, &err));
        assert_null(item_errs);
        assert_true(strlen(err.field) > 0);
        json_decref(root);
    }
}

static void test_json_results(void **state)
{
    Creance__ItemResult r[3];
    for (int i = 0; i < 3; i++) {
        creance__item_result__init(&r[i]);
        r[i].index = i;
    }
    r[0].status = CREANCE__ITEM_STATUS__ACCEPTED;
    r[0].id = 42;
    r[1].status = CREANCE__ITEM_STATUS__DUPLICATE;
    r[1].id = 7;
    r[2].status = CREANCE__ITEM_STATUS__REJECTED;
    r[2].field = "amount.currency";
    r[2].reason = "unknown currency";
    json_t *j = intake_json_results(r, 3);
    char *text = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
    assert_string_equal(text,
        "[{\"id\":42,\"index\":0,\"status\":\"accepted\"},{\"id\":7,\"index\":1,\"status\":\"duplicate\"},"
        "{\"field\":\"amount.currency\",\"index\":2,\"reason\":\"unknown currency\",\"status\":\"rejected\"}]");
    free(text);
    json_decref(j);
}

/* ------------------------------------------------------------------- Stripe */

static stripe_verdict_t s_map(const char *text, stripe_mapped_t *m, intake_error_t *err)
{
    json_error_t jerr;
    json_t *ev = json_loads(text, 0, &jerr);
    if (!ev)
        fail_msg("bad test JSON: %s", jerr.text);
    stripe_verdict_t v = intake_stripe_map(ev, m, err);
    json_decref(ev);
    return v;
}

/*  The mapped item, through the same JSON conversion as the webhook. */
static Creance__IntakeItem *s_mapped_item(const stripe_mapped_t *m)
{
    Creance__IntakeItem *it = NULL;
    intake_error_t err;
    if (!intake_json_item(m->item, &it, &err))
        fail_msg("mapped item does not convert: %s %s", err.field, err.reason);
    return it;
}

static void test_stripe_customer(void **state)
{
    stripe_mapped_t m;
    intake_error_t err;
    assert_int_equal(s_map("{\"id\":\"evt_1\",\"type\":\"customer.created\",\"created\":1,\"data\":{\"object\":"
                           "{\"id\":\"cus_1\",\"name\":null,\"email\":\"a@b.example\",\"phone\":null,"
                           "\"preferred_locales\":[\"de-CH\"],\"address\":{\"line1\":\"Weg 1\",\"line2\":null,"
                           "\"postal_code\":\"8000\",\"city\":\"Z\\u00fcrich\",\"country\":\"CH\"},"
                           "\"tax_ids\":{\"data\":[{\"type\":\"ch_vat\",\"value\":\"CHE-123.456.789 MWST\"}]}}}}",
                           &m, &err), STRIPE_ITEM);
    Creance__IntakeItem *it = s_mapped_item(&m);
    const Creance__DebtorFact *d = it->debtor;
    assert_string_equal(d->external_id, "cus_1");
    assert_string_equal(d->legal_name, "a@b.example");      /* no name: the e-mail */
    assert_string_equal(d->language, "de");
    assert_string_equal(d->country, "CH");
    assert_string_equal(d->address->city, "Z\xc3\xbcrich");
    assert_string_equal(d->company_id, "CHE-123.456.789 MWST");
    assert_int_equal(d->kind, CREANCE__DEBTOR_KIND__BUSINESS);
    assert_true(intake_validate_item(it, &err));
    creance__intake_item__free_unpacked(it, NULL);
    intake_stripe_mapped_clear(&m);
}

static void test_stripe_invoice_events(void **state)
{
    stripe_mapped_t m;
    intake_error_t err;
    /* created 2024-01-31T23:59:59Z, due 2024-03-01T12:00:00Z */
    assert_int_equal(s_map("{\"id\":\"evt_2\",\"type\":\"invoice.finalized\",\"created\":1706745600,"
                           "\"data\":{\"object\":{\"id\":\"in_1\",\"customer\":\"cus_1\",\"number\":null,"
                           "\"created\":1706745599,\"due_date\":1709294400,\"amount_due\":1999,"
                           "\"currency\":\"jpy\"}}}", &m, &err), STRIPE_ITEM);
    Creance__IntakeItem *it = s_mapped_item(&m);
    const Creance__InvoiceFact *f = it->invoice;
    assert_string_equal(f->external_id, "in_1");
    assert_string_equal(f->number, "in_1");                 /* no number: the id */
    assert_int_equal(f->issue_date->month, 1);
    assert_int_equal(f->issue_date->day, 31);
    assert_int_equal(f->due_date->month, 3);
    assert_int_equal(f->due_date->day, 1);
    assert_int_equal(f->terms_days, 30);
    assert_int_equal(f->amount->minor, 1999);
    assert_string_equal(f->amount->currency, "JPY");
    assert_true(intake_validate_item(it, &err));
    creance__intake_item__free_unpacked(it, NULL);
    intake_stripe_mapped_clear(&m);

    assert_int_equal(s_map("{\"id\":\"e\",\"type\":\"invoice.voided\",\"created\":1706745600,"
                           "\"data\":{\"object\":{\"id\":\"in_1\"}}}", &m, &err), STRIPE_ITEM);
    it = s_mapped_item(&m);
    assert_int_equal(it->fact_case, CREANCE__INTAKE_ITEM__FACT_INVOICE_CANCELLATION);
    assert_string_equal(it->invoice_cancellation->external_id, "in_1:voided");
    assert_string_equal(it->invoice_cancellation->invoice_external_id, "in_1");
    assert_int_equal(it->invoice_cancellation->cancelled_date->day, 1);
    creance__intake_item__free_unpacked(it, NULL);
    intake_stripe_mapped_clear(&m);

    assert_int_equal(s_map("{\"id\":\"e\",\"type\":\"invoice.marked_uncollectible\",\"created\":1,"
                           "\"data\":{\"object\":{\"id\":\"in_1\",\"status_transitions\":"
                           "{\"marked_uncollectible_at\":1709294400}}}}", &m, &err), STRIPE_ITEM);
    it = s_mapped_item(&m);
    assert_int_equal(it->fact_case, CREANCE__INTAKE_ITEM__FACT_WRITE_OFF);
    assert_null(it->write_off->amount);                     /* the whole open amount */
    assert_int_equal(it->write_off->date->month, 3);
    creance__intake_item__free_unpacked(it, NULL);
    intake_stripe_mapped_clear(&m);
}

static void test_stripe_payments(void **state)
{
    stripe_mapped_t m;
    intake_error_t err;
    /* invoice.paid names the payment intent: the key the charge shares. */
    assert_int_equal(s_map("{\"id\":\"e\",\"type\":\"invoice.paid\",\"created\":1,\"data\":{\"object\":"
                           "{\"id\":\"in_1\",\"customer\":\"cus_1\",\"amount_paid\":500,\"currency\":\"eur\","
                           "\"payment_intent\":\"pi_1\",\"charge\":\"ch_1\","
                           "\"status_transitions\":{\"paid_at\":1704067200}}}}", &m, &err), STRIPE_ITEM);
    assert_true(m.is_payment);
    Creance__IntakeItem *it = s_mapped_item(&m);
    assert_string_equal(it->payment->external_id, "pi_1");
    assert_string_equal(it->payment->invoice_external_ids[0], "in_1");
    assert_int_equal(it->payment->received_date->year, 2024);
    creance__intake_item__free_unpacked(it, NULL);
    intake_stripe_mapped_clear(&m);

    assert_int_equal(s_map("{\"id\":\"e\",\"type\":\"charge.succeeded\",\"created\":1,\"data\":{\"object\":"
                           "{\"id\":\"ch_1\",\"customer\":{\"id\":\"cus_1\"},\"amount\":500,\"amount_captured\":400,"
                           "\"currency\":\"eur\",\"invoice\":\"in_1\",\"payment_intent\":null,"
                           "\"payment_method_details\":{\"type\":\"sepa_debit\"}}}}", &m, &err), STRIPE_ITEM);
    it = s_mapped_item(&m);
    assert_string_equal(it->payment->external_id, "ch_1");  /* no payment intent: the charge */
    assert_string_equal(it->payment->debtor_external_id, "cus_1");  /* expanded customer */
    assert_int_equal(it->payment->amount->minor, 400);
    assert_string_equal(it->payment->method, "sepa_debit");
    creance__intake_item__free_unpacked(it, NULL);
    intake_stripe_mapped_clear(&m);

    /* Not for an invoice, or a partial refund: ignored, with a reason. */
    assert_int_equal(s_map("{\"id\":\"e\",\"type\":\"payment_intent.succeeded\",\"data\":{\"object\":"
                           "{\"id\":\"pi_2\",\"amount_received\":5,\"currency\":\"eur\",\"invoice\":null}}}",
                           &m, &err), STRIPE_IGNORED);
    assert_string_equal(m.ignored_key, "no_invoice");
    assert_int_equal(s_map("{\"id\":\"e\",\"type\":\"charge.refunded\",\"data\":{\"object\":"
                           "{\"id\":\"ch_1\",\"refunded\":false,\"amount_refunded\":100}}}", &m, &err),
                     STRIPE_IGNORED);
    assert_string_equal(m.ignored_key, "partial_refund");

    assert_int_equal(s_map("{\"id\":\"e\",\"type\":\"charge.refunded\",\"created\":1704067200,\"data\":"
                           "{\"object\":{\"id\":\"ch_1\",\"refunded\":true,\"payment_intent\":\"pi_1\"}}}",
                           &m, &err), STRIPE_ITEM);
    it = s_mapped_item(&m);
    assert_string_equal(it->payment_reversal->external_id, "ch_1:refund");
    assert_string_equal(it->payment_reversal->payment_external_id, "pi_1");
    assert_null(it->payment_reversal->amount);              /* the whole rest */
    creance__intake_item__free_unpacked(it, NULL);
    intake_stripe_mapped_clear(&m);
}

/*  Partial refunds: each refund is one item keyed by its id, the same item
    whichever event tells it. */
static void test_stripe_partial_refunds(void **state)
{
    stripe_mapped_t m;
    intake_error_t err;
    const char *refund = "{\"id\":\"re_1\",\"object\":\"refund\",\"amount\":300,"
                         "\"currency\":\"eur\",\"charge\":\"ch_1\",\"payment_intent\":\"pi_1\","
                         "\"created\":1706000000,\"status\":\"succeeded\"}";
    char text[2048];
    snprintf(text, sizeof text, "{\"id\":\"e1\",\"type\":\"refund.created\",\"created\":1,"
             "\"data\":{\"object\":%s}}", refund);
    assert_int_equal(s_map(text, &m, &err), STRIPE_ITEM);
    Creance__IntakeItem *alone = s_mapped_item(&m);
    assert_int_equal(alone->fact_case, CREANCE__INTAKE_ITEM__FACT_PAYMENT_REVERSAL);
    assert_string_equal(alone->payment_reversal->external_id, "re_1");
    assert_string_equal(alone->payment_reversal->payment_external_id, "pi_1");
    assert_int_equal(alone->payment_reversal->amount->minor, 300);
    assert_string_equal(alone->payment_reversal->amount->currency, "EUR");
    assert_int_equal(alone->payment_reversal->reversed_date->day, 23);      /* 2024-01-23 */
    assert_true(intake_validate_item(alone, &err));
    intake_stripe_mapped_clear(&m);

    /* The charge listing two refunds (cumulative 500): two items, the
       first identical to the one above (so a duplicate of it). */
    snprintf(text, sizeof text, "{\"id\":\"e2\",\"type\":\"charge.refunded\",\"created\":2,"
             "\"data\":{\"object\":{\"id\":\"ch_1\",\"payment_intent\":\"pi_1\","
             "\"currency\":\"eur\",\"refunded\":false,\"amount_refunded\":500,\"refunds\":"
             "{\"object\":\"list\",\"data\":[{\"id\":\"re_2\",\"amount\":200,"
             "\"created\":1706100000,\"status\":\"succeeded\",\"charge\":\"ch_1\","
             "\"payment_intent\":\"pi_1\"},%s,{\"id\":\"re_3\",\"amount\":50,"
             "\"status\":\"failed\"}]}}}}", refund);
    assert_int_equal(s_map(text, &m, &err), STRIPE_ITEM);
    assert_true(json_is_array(m.item));
    assert_int_equal(json_array_size(m.item), 2);           /* the failed one is not there */
    Creance__IntakeItem *it = NULL;
    assert_true(intake_json_item(json_array_get(m.item, 1), &it, &err));
    size_t n1 = creance__intake_item__get_packed_size(alone),
           n2 = creance__intake_item__get_packed_size(it);
    uint8_t b1[512], b2[512];
    assert_int_equal(n1, n2);
    creance__intake_item__pack(alone, b1);
    creance__intake_item__pack(it, b2);
    assert_memory_equal(b1, b2, n1);
    creance__intake_item__free_unpacked(it, NULL);
    assert_true(intake_json_item(json_array_get(m.item, 0), &it, &err));
    assert_string_equal(it->payment_reversal->external_id, "re_2");
    assert_int_equal(it->payment_reversal->amount->minor, 200);
    creance__intake_item__free_unpacked(it, NULL);
    creance__intake_item__free_unpacked(alone, NULL);
    intake_stripe_mapped_clear(&m);

    /* Pending or failed refunds gave nothing back. */
    assert_int_equal(s_map("{\"id\":\"e\",\"type\":\"charge.refund.updated\",\"data\":{\"object\":"
                           "{\"id\":\"re_4\",\"amount\":10,\"status\":\"pending\"}}}", &m, &err),
                     STRIPE_IGNORED);
    assert_string_equal(m.ignored_key, "refund_pending");
    assert_int_equal(s_map("{\"id\":\"e\",\"type\":\"refund.updated\",\"data\":{\"object\":"
                           "{\"id\":\"re_4\",\"amount\":10,\"status\":\"canceled\"}}}", &m, &err),
                     STRIPE_IGNORED);
    assert_string_equal(m.ignored_key, "refund_not_succeeded");
}

static void test_stripe_disputes_and_unknown(void **state)
{
    stripe_mapped_t m;
    intake_error_t err;
    assert_int_equal(s_map("{\"id\":\"e\",\"type\":\"charge.dispute.created\",\"data\":{\"object\":"
                           "{\"id\":\"dp_1\",\"charge\":\"ch_1\",\"payment_intent\":\"pi_1\",\"amount\":300,"
                           "\"currency\":\"eur\",\"reason\":\"fraudulent\",\"created\":1704067200}}}",
                           &m, &err), STRIPE_ITEM);
    assert_string_equal(m.lookup_payment, "pi_1");
    assert_null(json_object_get(m.item, "invoice_external_id"));  /* the caller finds it */
    intake_stripe_mapped_clear(&m);

    const struct { const char *status, *outcome; } outcomes[] = {
        { "won", "rejected" }, { "lost", "upheld" }, { "warning_closed", "settled" } };
    for (size_t i = 0; i < 3; i++) {
        char text[300];
        snprintf(text, sizeof text, "{\"id\":\"e\",\"type\":\"charge.dispute.closed\",\"created\":1704067200,"
                 "\"data\":{\"object\":{\"id\":\"dp_1\",\"status\":\"%s\"}}}", outcomes[i].status);
        assert_int_equal(s_map(text, &m, &err), STRIPE_ITEM);
        Creance__IntakeItem *it = s_mapped_item(&m);
        assert_true(it->dispute->resolve);
        assert_string_equal(it->dispute->outcome, outcomes[i].outcome);
        assert_true(intake_validate_item(it, &err));
        creance__intake_item__free_unpacked(it, NULL);
        intake_stripe_mapped_clear(&m);
    }

    assert_int_equal(s_map("{\"id\":\"e\",\"type\":\"customer.subscription.created\",\"data\":{}}", &m, &err),
                     STRIPE_IGNORED);
    assert_string_equal(m.ignored_key, "unknown_type");
    assert_int_equal(s_map("{\"type\":\"invoice.paid\"}", &m, &err), STRIPE_BAD);
    assert_string_equal(err.field, "id");
    assert_int_equal(s_map("{\"id\":\"e\",\"type\":\"invoice.paid\",\"data\":{}}", &m, &err), STRIPE_BAD);
    assert_string_equal(err.field, "data.object");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sign_matches_reference),
        cmocka_unit_test(test_parse_stripe_header),
        cmocka_unit_test(test_verify),
        cmocka_unit_test(test_timestamp_window),
        cmocka_unit_test(test_unix_date),
        cmocka_unit_test(test_json_invoice),
        cmocka_unit_test(test_json_debtor_enum_nested_repeated),
        cmocka_unit_test(test_json_item_errors),
        cmocka_unit_test(test_json_batch),
        cmocka_unit_test(test_json_results),
        cmocka_unit_test(test_stripe_customer),
        cmocka_unit_test(test_stripe_invoice_events),
        cmocka_unit_test(test_stripe_payments),
        cmocka_unit_test(test_stripe_partial_refunds),
        cmocka_unit_test(test_stripe_disputes_and_unknown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
