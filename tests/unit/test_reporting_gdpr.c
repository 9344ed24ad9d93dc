/*  Unit tests: the pure parts of personal data handling (GDPR): blanking a
    debtor's fields in envelopes (what event_log keeps), the refusal of an
    erasure while the debtor is being collected, the retention periods'
    bounds, the API's paths, the export's protobuf-to-JSON, and the names
    reminders agrees to delete from its outbox. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "envelope.h"
#include "../../services/reminders/purge.h"
#include "../../services/reporting/erase.h"
#include "../../services/reporting/gdprapi.h"
#include "../../services/reporting/gdprblank.h"
#include "../../services/reporting/pbjson.h"
#include "../../services/reporting/retention.h"

/*  A DebtorCreated (or DebtorUpdated) envelope of debtor `id`, packed as
    event_log holds it: header, then seq appended. */
static size_t pack_debtor(uint8_t *buf, int64_t id, bool update)
{
    Creance__Envelope env;
    envelope_init(&env, "acme", "ledger", "intake");
    Creance__PostalAddress addr = CREANCE__POSTAL_ADDRESS__INIT;
    addr.line1 = "12 rue des Lilas";
    addr.postal_code = "75011";
    addr.city = "Paris";
    addr.country = "FR";
    Creance__Money limit = CREANCE__MONEY__INIT;
    limit.minor = 500000;
    limit.currency = "EUR";
    Creance__DebtorCreated d = CREANCE__DEBTOR_CREATED__INIT;
    d.debtor_id = id;
    d.external_id = "C-42";
    d.legal_name = "Jeanne Dupont";
    d.company_id = "552100554";
    d.email = "jeanne@dupont.example";
    d.phone = "+33612345678";
    d.address = &addr;
    d.credit_limit = &limit;
    d.payment_terms_days = 45;
    d.country = "FR";
    Creance__DebtorUpdated u = CREANCE__DEBTOR_UPDATED__INIT;
    if (update) {
        u.debtor = &d;
        env.event_case = CREANCE__ENVELOPE__EVENT_DEBTOR_UPDATED;
        env.debtor_updated = &u;
    } else {
        env.event_case = CREANCE__ENVELOPE__EVENT_DEBTOR_CREATED;
        env.debtor_created = &d;
    }
    size_t len = creance__envelope__pack(&env, buf);
    env.event_case = CREANCE__ENVELOPE__EVENT__NOT_SET;
    env.debtor_created = NULL;
    envelope_clear(&env);
    return envelope_append_seq(buf, len, 17);
}

static bool has(const uint8_t *buf, size_t len, const char *needle)
{
    return memmem(buf, len, needle, strlen(needle)) != NULL;
}

static void test_blank_debtor_created(void **state)
{
    uint8_t in[1024], *out = NULL;
    size_t len = pack_debtor(in, 12, false), out_len = 0;
    assert_true(has(in, len, "Jeanne Dupont"));

    int n = rpt_gdpr_blank_bytes(in, len, 12, "erased-12", &out, &out_len);
    assert_int_equal(n, 5);         /* name, company id, e-mail, phone, address */
    assert_non_null(out);
    const char *gone[] = { "Jeanne", "552100554", "jeanne@", "+3361", "rue des Lilas", "75011" };
    for (size_t i = 0; i < sizeof gone / sizeof gone[0]; i++)
        assert_false(has(out, out_len, gone[i]));

    /*  What the ledger needs is still there, header and all. */
    char err[128];
    Creance__Envelope *env = envelope_decode(out, out_len, err, sizeof err);
    assert_non_null(env);
    assert_int_equal(env->seq, 17);
    assert_string_equal(env->tenant, "acme");
    assert_string_equal(env->stream, "ledger");
    assert_int_equal(env->event_case, CREANCE__ENVELOPE__EVENT_DEBTOR_CREATED);
    const Creance__DebtorCreated *d = env->debtor_created;
    assert_int_equal(d->debtor_id, 12);
    assert_string_equal(d->legal_name, "erased-12");
    assert_string_equal(d->email, "");
    assert_string_equal(d->external_id, "C-42");
    assert_null(d->address);
    assert_int_equal(d->credit_limit->minor, 500000);
    assert_int_equal(d->payment_terms_days, 45);
    envelope_free(env);

    /*  Blanking again changes nothing: nothing to rewrite. */
    uint8_t *again = NULL;
    size_t again_len = 0;
    assert_int_equal(rpt_gdpr_blank_bytes(out, out_len, 12, "erased-12", &again, &again_len), 0);
    assert_null(again);
    free(out);
}

static void test_blank_only_that_debtor(void **state)
{
    uint8_t in[1024], *out = (uint8_t *) 1;
    size_t len = pack_debtor(in, 12, true), out_len = 9;
    assert_int_equal(rpt_gdpr_blank_bytes(in, len, 13, "erased-13", &out, &out_len), 0);
    assert_null(out);
    assert_int_equal(out_len, 0);
    /*  DebtorUpdated carries the state in a submessage: blanked too. */
    assert_int_equal(rpt_gdpr_blank_bytes(in, len, 12, "erased-12", &out, &out_len), 5);
    assert_false(has(out, out_len, "Jeanne"));
    free(out);
    /*  Not an envelope. */
    assert_int_equal(rpt_gdpr_blank_bytes((const uint8_t *) "\xff\xff\xff", 3, 12, "x", &out,
                                          &out_len), -1);
}

static void test_blank_reasons_keep_amounts(void **state)
{
    Creance__Envelope env;
    envelope_init(&env, "acme", "ledger", "intake");
    Creance__Money amount = CREANCE__MONEY__INIT;
    amount.minor = 7000;
    amount.currency = "EUR";
    Creance__DisputeOpened e = CREANCE__DISPUTE_OPENED__INIT;
    e.dispute_id = 3;
    e.debtor_id = 12;
    e.invoice_id = 9;
    e.amount = &amount;
    e.reason = "Mme Dupont says the goods never came";
    env.event_case = CREANCE__ENVELOPE__EVENT_DISPUTE_OPENED;
    env.dispute_opened = &e;
    env.seq = 4;
    uint8_t buf[512], *out = NULL;
    size_t len = creance__envelope__pack(&env, buf), out_len = 0;
    env.event_case = CREANCE__ENVELOPE__EVENT__NOT_SET;
    env.dispute_opened = NULL;
    envelope_clear(&env);

    assert_int_equal(rpt_gdpr_blank_bytes(buf, len, 12, "erased-12", &out, &out_len), 1);
    Creance__Envelope *d = creance__envelope__unpack(NULL, out_len, out);
    assert_non_null(d);
    assert_string_equal(d->dispute_opened->reason, "");
    assert_int_equal(d->dispute_opened->amount->minor, 7000);
    assert_int_equal(d->dispute_opened->invoice_id, 9);
    assert_int_equal(rpt_gdpr_event_debtor(d), 12);
    creance__envelope__free_unpacked(d, NULL);
    free(out);
}

static void test_event_debtor_and_pseudonym(void **state)
{
    Creance__Envelope env = CREANCE__ENVELOPE__INIT;
    assert_int_equal(rpt_gdpr_event_debtor(&env), 0);     /* no event */
    Creance__PaymentAllocated p = CREANCE__PAYMENT_ALLOCATED__INIT;
    p.debtor_id = 77;
    env.event_case = CREANCE__ENVELOPE__EVENT_PAYMENT_ALLOCATED;
    env.payment_allocated = &p;
    assert_int_equal(rpt_gdpr_event_debtor(&env), 77);
    /*  An event about a debtor but without personal data: nothing to do. */
    assert_int_equal(rpt_gdpr_blank_envelope(&env, 77, "erased-77"), 0);
    char name[32];
    rpt_gdpr_pseudonym(9007199254740993LL, name, sizeof name);
    assert_string_equal(name, "erased-9007199254740993");
    /*  Every type the erasure decodes is one the blanker knows. */
    size_t k = 0;
    while (rpt_gdpr_personal_event_types[k])
        k++;
    assert_int_equal(k, 8);
}

static void test_erase_refusal(void **state)
{
    rpt_erase_open_t open = { 0 };
    char why[400];
    assert_false(rpt_erase_refusal(&open, 12, why, sizeof why));
    assert_string_equal(why, "");
    open.open_invoices = 2;
    snprintf(open.open_amounts, sizeof open.open_amounts, "1500.00 EUR, 20.00 USD");
    open.open_disputes = 1;
    assert_true(rpt_erase_refusal(&open, 12, why, sizeof why));
    assert_non_null(strstr(why, "debtor 12 is still being collected: 2 open invoices "
                                "(1500.00 EUR, 20.00 USD), 1 open dispute;"));
    assert_non_null(strstr(why, "force"));
    open = (rpt_erase_open_t) { .open_promises = 1 };
    assert_true(rpt_erase_refusal(&open, 5, why, sizeof why));
    assert_non_null(strstr(why, ": 1 open promise;"));
    /*  A short buffer is cut, never overrun. */
    char tiny[16];
    assert_true(rpt_erase_refusal(&open, 5, tiny, sizeof tiny));
    assert_int_equal(strlen(tiny), sizeof tiny - 1);
}

static void test_retention_bounds(void **state)
{
    const char *field;
    rpt_retention_t r = { 3, 90, 365 };
    assert_null(rpt_retention_invalid(&r, &field));
    r.personal_data_years = 0;
    assert_non_null(rpt_retention_invalid(&r, &field));
    assert_string_equal(field, "personal_data_years");
    r = (rpt_retention_t) { 100, 36500, 1 };
    assert_null(rpt_retention_invalid(&r, &field));
    r.raw_payload_days = 36501;
    assert_non_null(rpt_retention_invalid(&r, &field));
    assert_string_equal(field, "raw_payload_days");
    r = (rpt_retention_t) { 3, 90, -1 };
    assert_non_null(rpt_retention_invalid(&r, &field));
    assert_string_equal(field, "reminder_content_days");
}

static void test_api_path(void **state)
{
    assert_int_equal(rpt_gdprapi_path_id("12/export", "export"), 12);
    assert_int_equal(rpt_gdprapi_path_id("12/erase", "erase"), 12);
    assert_int_equal(rpt_gdprapi_path_id("12/erase", "export"), -1);
    assert_int_equal(rpt_gdprapi_path_id("012/erase", "erase"), -1);
    assert_int_equal(rpt_gdprapi_path_id("-3/erase", "erase"), -1);
    assert_int_equal(rpt_gdprapi_path_id("12/erase/x", "erase"), -1);
    assert_int_equal(rpt_gdprapi_path_id("99999999999999999999/erase", "erase"), -1);
    assert_int_equal(rpt_gdprapi_path_id("", "erase"), -1);
}

static void test_pbjson(void **state)
{
    Creance__Envelope env;
    envelope_init(&env, "acme", "reminders", "reminders");
    Creance__ReminderScheduled e = CREANCE__REMINDER_SCHEDULED__INIT;
    int64_t ids[] = { 4, 5 };
    e.reminder_id = 8;
    e.debtor_id = 12;
    e.invoice_ids = ids;
    e.n_invoice_ids = 2;
    e.channel = CREANCE__CHANNEL__LETTER;
    env.event_case = CREANCE__ENVELOPE__EVENT_REMINDER_SCHEDULED;
    env.reminder_scheduled = &e;
    env.seq = 3;
    json_t *j = rpt_pbjson(&env.base);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "tenant")), "acme");
    assert_int_equal(json_integer_value(json_object_get(j, "seq")), 3);
    json_t *ev = json_object_get(j, "reminder_scheduled");
    assert_non_null(ev);
    assert_string_equal(json_string_value(json_object_get(ev, "channel")), "LETTER");
    assert_int_equal(json_array_size(json_object_get(ev, "invoice_ids")), 2);
    assert_int_equal(json_integer_value(json_array_get(json_object_get(ev, "invoice_ids"), 1)), 5);
    /*  Oneof members not set are left out; unset submessages too. */
    assert_null(json_object_get(j, "invoice_issued"));
    assert_null(json_object_get(ev, "planned_date"));
    json_decref(j);
    env.event_case = CREANCE__ENVELOPE__EVENT__NOT_SET;
    env.reminder_scheduled = NULL;
    envelope_clear(&env);
}

static void test_outbox_names(void **state)
{
    assert_true(rem_purge_name_ok("acme-r12-letter.pdf"));
    assert_false(rem_purge_name_ok("../etc/passwd.pdf"));
    assert_false(rem_purge_name_ok("a/b.pdf"));
    assert_false(rem_purge_name_ok(".pdf"));
    assert_false(rem_purge_name_ok("acme-r12-letter.txt"));
    assert_false(rem_purge_name_ok(""));
    assert_false(rem_purge_name_ok(NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_blank_debtor_created),
        cmocka_unit_test(test_blank_only_that_debtor),
        cmocka_unit_test(test_blank_reasons_keep_amounts),
        cmocka_unit_test(test_event_debtor_and_pseudonym),
        cmocka_unit_test(test_erase_refusal),
        cmocka_unit_test(test_retention_bounds),
        cmocka_unit_test(test_api_path),
        cmocka_unit_test(test_pbjson),
        cmocka_unit_test(test_outbox_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
