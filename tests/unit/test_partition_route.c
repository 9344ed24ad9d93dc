/*  Unit tests for the partition checks of intake (services/intake/route.c)
    and risk (services/risk/route.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "partition.h"
#include "../../services/intake/route.h"
#include "../../services/risk/route.h"

static void
test_intake_refuses_other_partition(void **state)
{
    (void) state;
    partition_t p0 = { 0, 2 }, p1 = { 1, 2 }, all = { 0, 1 };
    /* ("acme", "D-0001") is partition 0 of 2 (test_partition.c). */
    Creance__InvoiceFact inv = CREANCE__INVOICE_FACT__INIT;
    inv.external_id = "I1";
    inv.debtor_external_id = "D-0001";
    Creance__IntakeItem item = CREANCE__INTAKE_ITEM__INIT;
    item.fact_case = CREANCE__INTAKE_ITEM__FACT_INVOICE;
    item.invoice = &inv;
    intake_error_t err;
    memset(&err, 0, sizeof err);
    assert_true(intake_route_check(&p0, "acme", &item, &err));
    assert_true(intake_route_check(&all, "acme", &item, &err));
    assert_false(intake_route_check(&p1, "acme", &item, &err));
    assert_string_equal(err.field, "debtor_external_id");
    assert_string_equal(err.key, "wrong_partition");
    assert_non_null(strstr(err.reason, "belongs to partition 0/2"));
    assert_non_null(strstr(err.reason, "records 1/2"));

    Creance__DebtorFact d = CREANCE__DEBTOR_FACT__INIT;
    d.external_id = "D-0001";
    Creance__IntakeItem ditem = CREANCE__INTAKE_ITEM__INIT;
    ditem.fact_case = CREANCE__INTAKE_ITEM__FACT_DEBTOR;
    ditem.debtor = &d;
    assert_false(intake_route_check(&p1, "acme", &ditem, &err));
    assert_string_equal(err.field, "external_id");

    /* A fact naming only an invoice is accepted anywhere (route.h says why). */
    Creance__WriteOffFact w = CREANCE__WRITE_OFF_FACT__INIT;
    w.external_id = "W1";
    w.invoice_external_id = "I1";
    Creance__IntakeItem witem = CREANCE__INTAKE_ITEM__INIT;
    witem.fact_case = CREANCE__INTAKE_ITEM__FACT_WRITE_OFF;
    witem.write_off = &w;
    assert_true(intake_route_check(&p0, "acme", &witem, &err));
    assert_true(intake_route_check(&p1, "acme", &witem, &err));
}

static void
test_risk_routes_by_debtor_id(void **state)
{
    (void) state;
    partition_t p[3] = { { 0, 3 }, { 1, 3 }, { 2, 3 } };
    Creance__PaymentAllocated pa = CREANCE__PAYMENT_ALLOCATED__INIT;
    pa.debtor_id = 42;
    Creance__Envelope env = CREANCE__ENVELOPE__INIT;
    env.tenant = "acme";
    env.event_case = CREANCE__ENVELOPE__EVENT_PAYMENT_ALLOCATED;
    env.payment_allocated = &pa;
    assert_int_equal(risk_route_debtor(&env), 42);
    /* ("acme", "42") is partition 0 of 3. */
    assert_true(risk_route_owns(&p[0], &env));
    assert_false(risk_route_owns(&p[1], &env));
    assert_false(risk_route_owns(&p[2], &env));

    Creance__DebtorCreated dc = CREANCE__DEBTOR_CREATED__INIT;
    dc.debtor_id = 42;
    Creance__DebtorUpdated du = CREANCE__DEBTOR_UPDATED__INIT;
    du.debtor = &dc;
    env.event_case = CREANCE__ENVELOPE__EVENT_DEBTOR_UPDATED;
    env.debtor_updated = &du;
    assert_int_equal(risk_route_debtor(&env), 42);
    assert_true(risk_route_owns(&p[0], &env));

    /* No debtor: exactly one instance (the owner of id 0) takes it. */
    env.event_case = CREANCE__ENVELOPE__EVENT__NOT_SET;
    assert_int_equal(risk_route_debtor(&env), 0);
    int owners = 0;
    for (int k = 0; k < 3; k++)
        owners += risk_route_owns(&p[k], &env);
    assert_int_equal(owners, 1);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_intake_refuses_other_partition),
        cmocka_unit_test(test_risk_routes_by_debtor_id),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
