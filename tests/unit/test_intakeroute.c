/*  Unit tests for common/intakeroute (senders' routing to partitioned
    intakes) and its users: intake's own check (services/intake/route.c)
    must accept exactly what a sender routes to it, and `creance import`
    routes each CSV line by it (services/cli/import.c, import_route). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "intakeroute.h"
#include "partition.h"
#include "../../services/cli/import.h"
#include "../../services/intake/route.h"

static void
test_key_per_kind(void **state)
{
    (void) state;
    const char *field;
    Creance__DebtorFact d = CREANCE__DEBTOR_FACT__INIT;
    d.external_id = "D-0001";
    Creance__IntakeItem item = CREANCE__INTAKE_ITEM__INIT;
    item.fact_case = CREANCE__INTAKE_ITEM__FACT_DEBTOR;
    item.debtor = &d;
    assert_string_equal(intakeroute_key(&item, &field), "D-0001");
    assert_string_equal(field, "external_id");

    Creance__PaymentFact p = CREANCE__PAYMENT_FACT__INIT;
    p.external_id = "P1";
    p.debtor_external_id = "D-0002";
    item.fact_case = CREANCE__INTAKE_ITEM__FACT_PAYMENT;
    item.payment = &p;
    assert_string_equal(intakeroute_key(&item, &field), "D-0002");
    assert_string_equal(field, "debtor_external_id");

    Creance__CreditNoteFact c = CREANCE__CREDIT_NOTE_FACT__INIT;
    c.debtor_external_id = "D-0003";
    item.fact_case = CREANCE__INTAKE_ITEM__FACT_CREDIT_NOTE;
    item.credit_note = &c;
    assert_string_equal(intakeroute_key(&item, &field), "D-0003");

    Creance__PromiseFact r = CREANCE__PROMISE_FACT__INIT;
    r.debtor_external_id = "D-0004";
    item.fact_case = CREANCE__INTAKE_ITEM__FACT_PROMISE;
    item.promise = &r;
    assert_string_equal(intakeroute_key(&item, &field), "D-0004");

    /* A dispute names only its invoice: no key, instance 0. */
    Creance__DisputeFact s = CREANCE__DISPUTE_FACT__INIT;
    s.external_id = "S1";
    s.invoice_external_id = "I1";
    item.fact_case = CREANCE__INTAKE_ITEM__FACT_DISPUTE;
    item.dispute = &s;
    assert_null(intakeroute_key(&item, &field));
    assert_null(field);
    for (uint32_t n = 1; n <= 5; n++)
        assert_int_equal(intakeroute_instance("acme", &item, n), 0);
}

static void
test_instance_vectors(void **state)
{
    (void) state;
    Creance__InvoiceFact inv = CREANCE__INVOICE_FACT__INIT;
    inv.external_id = "I1";
    inv.debtor_external_id = "D-0001";
    Creance__IntakeItem item = CREANCE__INTAKE_ITEM__INIT;
    item.fact_case = CREANCE__INTAKE_ITEM__FACT_INVOICE;
    item.invoice = &inv;
    /* ("acme", "D-0001"): 0 of 2, 2 of 3 (common/partition.h). */
    assert_int_equal(intakeroute_instance("acme", &item, 0), 0);
    assert_int_equal(intakeroute_instance("acme", &item, 1), 0);
    assert_int_equal(intakeroute_instance("acme", &item, 2), 0);
    assert_int_equal(intakeroute_instance("acme", &item, 3), 2);
}

/*  What a sender routes to instance k is what instance k records, and no
    other instance does: the two sides share the key function. */
static void
test_sender_and_intake_agree(void **state)
{
    (void) state;
    Creance__PaymentFact p = CREANCE__PAYMENT_FACT__INIT;
    Creance__IntakeItem item = CREANCE__INTAKE_ITEM__INIT;
    item.fact_case = CREANCE__INTAKE_ITEM__FACT_PAYMENT;
    item.payment = &p;
    char key[32];
    p.debtor_external_id = key;
    uint32_t seen[3] = { 0, 0, 0 };
    for (int i = 0; i < 300; i++) {
        snprintf(key, sizeof key, "D-%d", i);
        uint32_t k = intakeroute_instance("t1", &item, 3);
        assert_true(k < 3);
        seen[k]++;
        for (uint32_t j = 0; j < 3; j++) {
            partition_t part = { j, 3 };
            intake_error_t err;
            memset(&err, 0, sizeof err);
            assert_int_equal(intake_route_check(&part, "t1", &item, &err), j == k);
            if (j != k)
                assert_string_equal(err.key, "wrong_partition");
        }
    }
    assert_true(seen[0] > 50 && seen[1] > 50 && seen[2] > 50);
}

static void
test_endpoint_lists(void **state)
{
    (void) state;
    char **list;
    size_t n;
    char err[256];
    assert_true(intakeroute_endpoints("tcp://127.0.0.1:5560", &list, &n, err, sizeof err));
    assert_int_equal(n, 1);
    assert_string_equal(list[0], "tcp://127.0.0.1:5560");
    assert_null(list[1]);
    intakeroute_endpoints_free(&list);
    assert_null(list);

    assert_true(intakeroute_endpoints("tcp://a:1, tcp://b:2 ,ipc:///tmp/c", &list, &n, err,
                                      sizeof err));
    assert_int_equal(n, 3);
    assert_string_equal(list[0], "tcp://a:1");
    assert_string_equal(list[1], "tcp://b:2");
    assert_string_equal(list[2], "ipc:///tmp/c");
    intakeroute_endpoints_free(&list);

    static const char *const bad[] = { "", "x", "tcp://a:1,", ",tcp://a:1", "tcp://a:1,,tcp://b:2",
                                       "tcp://a:1,localhost:2", "://x", "tcp://" };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        err[0] = 0;
        if (intakeroute_endpoints(bad[i], &list, &n, err, sizeof err))
            fail_msg("'%s' accepted", bad[i]);
        assert_null(list);
        assert_true(strstr(err, "not a ZeroMQ endpoint") != NULL);
    }
    assert_false(intakeroute_endpoints("tcp://a:1,tcp://b:2,tcp://a:1", &list, &n, err,
                                       sizeof err));
    assert_non_null(strstr(err, "endpoints 1 and 3 are both 'tcp://a:1'"));
}

/*  `creance import`: each line to the instance of its debtor. */
static void
test_import_routes_lines(void **state)
{
    (void) state;
    const char *csv =
        "external_id,debtor_external_id,received_date,amount,currency\n"
        "P1,D-0001,2024-01-01,10,EUR\n"
        "P2,D-7,2024-01-01,10,EUR\n"
        "P3,D-0001,2024-01-01,10,EUR\n"
        "P4,ZZ,2024-01-01,10,EUR\n";
    import_t *imp = import_parse(csv, strlen(csv), IMPORT_PAYMENTS);
    assert_non_null(imp);
    assert_int_equal(imp->nrows, 4);
    static const char *const debtors[] = { "D-0001", "D-7", "D-0001", "ZZ" };
    uint32_t where[4];
    for (uint32_t n = 1; n <= 4; n++) {
        assert_true(import_route(imp, "acme", n, where));
        for (size_t i = 0; i < 4; i++)
            assert_int_equal(where[i], partition_of("acme", debtors[i], n));
    }
    assert_true(import_route(imp, "acme", 3, where));
    assert_int_equal(where[0], 2);          /* the vector of partition.h */

    /* Packing a partition's share keeps the rows given, in that order. */
    size_t rows[2] = { 3, 1 };
    uint8_t *buf;
    size_t len;
    assert_true(import_pack_rows(imp, rows, 2, "acme", "csv", "b-1", false, &buf, &len));
    Creance__IntakeBatch *b = creance__intake_batch__unpack(NULL, len, buf);
    assert_non_null(b);
    assert_int_equal(b->n_items, 2);
    assert_string_equal(b->items[0]->payment->external_id, "P4");
    assert_string_equal(b->items[1]->payment->external_id, "P2");
    creance__intake_batch__free_unpacked(b, NULL);
    free(buf);
    import_destroy(&imp);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_key_per_kind),
        cmocka_unit_test(test_instance_vectors),
        cmocka_unit_test(test_sender_and_intake_agree),
        cmocka_unit_test(test_endpoint_lists),
        cmocka_unit_test(test_import_routes_lines),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
