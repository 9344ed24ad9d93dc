/*  envelope: header, sequence patching, checked decoding. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "envelope.h"

static size_t
s_pack_invoice(uint8_t *buf, int64_t seq, const char *tenant)
{
    Creance__Envelope env;
    envelope_init(&env, tenant, "ledger", "test");
    Creance__InvoiceIssued inv = CREANCE__INVOICE_ISSUED__INIT;
    Creance__Money amount = CREANCE__MONEY__INIT;
    amount.minor = 12345;
    amount.currency = "EUR";
    inv.invoice_id = 7;
    inv.debtor_id = 3;
    inv.amount = &amount;
    env.event_case = CREANCE__ENVELOPE__EVENT_INVOICE_ISSUED;
    env.invoice_issued = &inv;
    env.seq = seq;
    size_t len = creance__envelope__pack(&env, buf);
    envelope_clear(&env);
    return len;
}

static void
test_init_fills_header(void **state)
{
    Creance__Envelope env;
    envelope_init(&env, "acme", "ledger", "intake");
    assert_string_equal(env.tenant, "acme");
    assert_string_equal(env.stream, "ledger");
    assert_string_equal(env.producer, "intake");
    assert_int_equal(strlen(env.event_id), 36);
    assert_true(env.occurred_at_us > 1600000000LL * 1000000);
    Creance__Envelope other;
    envelope_init(&other, "acme", "ledger", "intake");
    assert_string_not_equal(env.event_id, other.event_id);
    envelope_clear(&env);
    envelope_clear(&other);
}

static void
test_append_seq_sets_sequence(void **state)
{
    uint8_t buf[512];
    size_t len = s_pack_invoice(buf, 0, "acme");
    int64_t seqs[] = { 1, 127, 128, 300, 1LL << 40, INT64_MAX };
    for (size_t i = 0; i < sizeof seqs / sizeof seqs[0]; i++) {
        uint8_t copy[512];
        memcpy(copy, buf, len);
        size_t n = envelope_append_seq(copy, len, seqs[i]);
        char err[128];
        Creance__Envelope *env = envelope_decode(copy, n, err, sizeof err);
        assert_non_null(env);
        assert_int_equal(env->seq, seqs[i]);
        assert_int_equal(env->invoice_issued->amount->minor, 12345);
        envelope_free(env);
    }
}

static void
test_append_seq_overrides_earlier_value(void **state)
{
    uint8_t buf[512];
    size_t len = s_pack_invoice(buf, 5, "acme");
    len = envelope_append_seq(buf, len, 9);
    char err[128];
    Creance__Envelope *env = envelope_decode(buf, len, err, sizeof err);
    assert_non_null(env);
    assert_int_equal(env->seq, 9);
    envelope_free(env);
}

static void
test_decode_rejects_garbage_and_names_field(void **state)
{
    char err[128];
    const uint8_t garbage[] = { 0xff, 0x00, 'g', 'a', 'r', 'b' };
    assert_null(envelope_decode(garbage, sizeof garbage, err, sizeof err));
    assert_non_null(strstr(err, "not a valid"));

    uint8_t buf[512];
    size_t len = s_pack_invoice(buf, 0, "acme");        /* seq 0 */
    assert_null(envelope_decode(buf, len, err, sizeof err));
    assert_string_equal(err, "seq: must be positive");

    len = s_pack_invoice(buf, 3, "");                   /* no tenant */
    assert_null(envelope_decode(buf, len, err, sizeof err));
    assert_string_equal(err, "tenant: missing");

    Creance__Envelope env;                              /* no event */
    envelope_init(&env, "acme", "ledger", "test");
    env.seq = 1;
    len = creance__envelope__pack(&env, buf);
    envelope_clear(&env);
    assert_null(envelope_decode(buf, len, err, sizeof err));
    assert_string_equal(err, "event: no event set");

    assert_null(envelope_decode(buf, ENVELOPE_MAX_BYTES + 1, err, sizeof err));
    assert_non_null(strstr(err, "limit"));
}

static void
test_type_name(void **state)
{
    uint8_t buf[512];
    size_t len = s_pack_invoice(buf, 1, "acme");
    char err[128];
    Creance__Envelope *env = envelope_decode(buf, len, err, sizeof err);
    assert_non_null(env);
    assert_string_equal(envelope_type_name(env), "InvoiceIssued");
    envelope_free(env);
    Creance__Envelope empty = CREANCE__ENVELOPE__INIT;
    assert_string_equal(envelope_type_name(&empty), "Unknown");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_init_fills_header),
        cmocka_unit_test(test_append_seq_sets_sequence),
        cmocka_unit_test(test_append_seq_overrides_earlier_value),
        cmocka_unit_test(test_decode_rejects_garbage_and_names_field),
        cmocka_unit_test(test_type_name),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
