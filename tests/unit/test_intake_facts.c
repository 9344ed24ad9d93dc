/*  Unit tests of the validation of intake's phase-2 facts (validate.c):
    adjustments, cancellations, credit notes, reversals, write-offs,
    payment plans and promises, and their idempotency kinds. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../services/intake/validate.h"
#include "../../services/intake/facts.h"

static Creance__Money s_money(int64_t minor, const char *currency)
{
    Creance__Money m = CREANCE__MONEY__INIT;
    m.minor = minor;
    m.currency = (char *) currency;
    return m;
}

static Creance__Date s_date(int y, int m, int d)
{
    Creance__Date x = CREANCE__DATE__INIT;
    x.year = y;
    x.month = m;
    x.day = d;
    return x;
}

#define EXPECT(ok_, err_, key_, field_) do {                                    \
        assert_false(ok_);                                                      \
        if (strcmp((err_).key, key_) != 0 || strcmp((err_).field, field_) != 0) \
            fail_msg("got key %s field %s (%s), want %s %s", (err_).key,        \
                     (err_).field, (err_).reason, key_, field_);                \
    } while (0)

static void test_adjustment(void **state)
{
    intake_error_t e;
    Creance__Money amount = s_money(5000, "EUR");
    Creance__Date due = s_date(2024, 3, 1);
    Creance__InvoiceAdjustmentFact f = CREANCE__INVOICE_ADJUSTMENT_FACT__INIT;
    f.external_id = "A1";
    f.invoice_external_id = "I1";
    EXPECT(intake_validate_adjustment(&f, &e), e, "missing_field", "new_amount");
    f.new_due_date = &due;
    assert_true(intake_validate_adjustment(&f, &e));        /* due date alone */
    f.new_amount = &amount;
    assert_true(intake_validate_adjustment(&f, &e));
    amount.minor = 0;
    EXPECT(intake_validate_adjustment(&f, &e), e, "bad_amount", "new_amount.minor");
    amount.minor = 10;
    amount.currency = "EUX";
    EXPECT(intake_validate_adjustment(&f, &e), e, "unknown_currency", "new_amount.currency");
    amount.currency = "EUR";
    Creance__Date bad = s_date(2024, 2, 30);
    f.new_due_date = &bad;
    EXPECT(intake_validate_adjustment(&f, &e), e, "bad_date", "new_due_date");
    f.new_due_date = NULL;
    f.invoice_external_id = "";
    EXPECT(intake_validate_adjustment(&f, &e), e, "missing_field", "invoice_external_id");
}

static void test_cancellation_reversal(void **state)
{
    intake_error_t e;
    Creance__Date on = s_date(2024, 1, 5);
    Creance__InvoiceCancellationFact c = CREANCE__INVOICE_CANCELLATION_FACT__INIT;
    c.external_id = "C";
    c.invoice_external_id = "I";
    EXPECT(intake_validate_cancellation(&c, &e), e, "missing_field", "cancelled_date");
    c.cancelled_date = &on;
    assert_true(intake_validate_cancellation(&c, &e));
    c.reason = "bad \xc3";
    EXPECT(intake_validate_cancellation(&c, &e), e, "bad_utf8", "reason");

    Creance__PaymentReversalFact r = CREANCE__PAYMENT_REVERSAL_FACT__INIT;
    r.external_id = "R";
    r.reversed_date = &on;
    EXPECT(intake_validate_reversal(&r, &e), e, "missing_field", "payment_external_id");
    r.payment_external_id = "P";
    assert_true(intake_validate_reversal(&r, &e));
    /* A partial reversal: a known currency and a positive amount; zero
       means the whole rest. */
    Creance__Money part = s_money(-5, "EUR");
    r.amount = &part;
    EXPECT(intake_validate_reversal(&r, &e), e, "bad_amount", "amount.minor");
    part.minor = 0;
    assert_true(intake_validate_reversal(&r, &e));
    part.minor = 250;
    part.currency = "EUX";
    EXPECT(intake_validate_reversal(&r, &e), e, "unknown_currency", "amount.currency");
    part.currency = "EUR";
    assert_true(intake_validate_reversal(&r, &e));
}

/*  Oldest credit first whatever its kind; a credit note before a payment on
    the same day; then by id. */
static void test_credit_order(void **state)
{
    credit_use_t pay_old = { .id = 9, .credit_note = false, .received = 100 };
    credit_use_t cn_new = { .id = 1, .credit_note = true, .received = 101 };
    credit_use_t cn_same = { .id = 7, .credit_note = true, .received = 100 };
    credit_use_t pay_same = { .id = 2, .credit_note = false, .received = 100 };
    assert_true(intake_credit_order(&pay_old, &cn_new) < 0);
    assert_true(intake_credit_order(&cn_new, &pay_old) > 0);
    assert_true(intake_credit_order(&cn_same, &pay_same) < 0);
    assert_true(intake_credit_order(&pay_same, &pay_old) < 0);
    assert_int_equal(intake_credit_order(&pay_old, &pay_old), 0);
}

/*  A partial reversal takes the payment's credit first, then its most
    recent allocations. */
static void test_refund_split(void **state)
{
    alloc_t v[3] = { { .invoice_id = 1, .amount = 400 }, { .invoice_id = 2, .amount = 300 },
                     { .invoice_id = 3, .amount = 200 } };
    allocs_t a = { v, 3, 3 };
    int64_t credit = -1;
    assert_int_equal(intake_refund_split(150, 100, &a, &credit), 0);
    assert_int_equal(credit, 100);
    assert_int_equal(v[0].amount, 0);
    assert_int_equal(v[1].amount, 0);
    assert_int_equal(v[2].amount, 50);          /* the last allocation gives back */

    alloc_t w[3] = { { .invoice_id = 1, .amount = 400 }, { .invoice_id = 2, .amount = 300 },
                     { .invoice_id = 3, .amount = 200 } };
    allocs_t b = { w, 3, 3 };
    assert_int_equal(intake_refund_split(600, 0, &b, &credit), 0);
    assert_int_equal(credit, 0);
    assert_int_equal(w[0].amount, 100);
    assert_int_equal(w[1].amount, 300);
    assert_int_equal(w[2].amount, 200);

    /* Less refunded than the credit: no invoice reopens. */
    alloc_t x[1] = { { .invoice_id = 1, .amount = 400 } };
    allocs_t c = { x, 1, 1 };
    assert_int_equal(intake_refund_split(30, 100, &c, &credit), 0);
    assert_int_equal(credit, 30);
    assert_int_equal(x[0].amount, 0);

    /* More than the payment holds. */
    alloc_t y[1] = { { .invoice_id = 1, .amount = 400 } };
    allocs_t d = { y, 1, 1 };
    assert_int_equal(intake_refund_split(501, 100, &d, &credit), -1);
}

static void test_credit_note_write_off(void **state)
{
    intake_error_t e;
    Creance__Money amount = s_money(100, "EUR");
    Creance__Date on = s_date(2024, 1, 5);
    Creance__CreditNoteFact cn = CREANCE__CREDIT_NOTE_FACT__INIT;
    cn.external_id = "CN";
    cn.debtor_external_id = "D";
    cn.issue_date = &on;
    EXPECT(intake_validate_credit_note(&cn, &e), e, "missing_field", "amount");
    cn.amount = &amount;
    assert_true(intake_validate_credit_note(&cn, &e));      /* not tied to an invoice */
    amount.minor = -1;
    EXPECT(intake_validate_credit_note(&cn, &e), e, "bad_amount", "amount.minor");

    Creance__WriteOffFact w = CREANCE__WRITE_OFF_FACT__INIT;
    w.external_id = "W";
    w.invoice_external_id = "I";
    w.date = &on;
    assert_true(intake_validate_write_off(&w, &e));         /* no amount: all that is open */
    Creance__Money zero = s_money(0, "");
    w.amount = &zero;
    assert_true(intake_validate_write_off(&w, &e));
    Creance__Money neg = s_money(-5, "EUR");
    w.amount = &neg;
    EXPECT(intake_validate_write_off(&w, &e), e, "bad_amount", "amount.minor");
}

static void test_plan(void **state)
{
    intake_error_t e;
    Creance__Date agreed = s_date(2024, 3, 1);
    Creance__Date d[3] = { s_date(2024, 4, 1), s_date(2024, 5, 1), s_date(2024, 6, 1) };
    Creance__Money m[3] = { s_money(100, "EUR"), s_money(100, "EUR"), s_money(100, "EUR") };
    Creance__Instalment in[3], *ptrs[3];
    for (int i = 0; i < 3; i++) {
        creance__instalment__init(&in[i]);
        in[i].due_date = &d[i];
        in[i].amount = &m[i];
        ptrs[i] = &in[i];
    }
    char *invoices[] = { "A", "B" };
    Creance__PaymentPlanFact p = CREANCE__PAYMENT_PLAN_FACT__INIT;
    p.external_id = "PL";
    p.debtor_external_id = "D";
    p.agreed_date = &agreed;
    p.n_invoice_external_ids = 2;
    p.invoice_external_ids = invoices;
    EXPECT(intake_validate_plan(&p, &e), e, "missing_field", "instalments");
    p.n_instalments = 3;
    p.instalments = ptrs;
    assert_true(intake_validate_plan(&p, &e));
    in[0].number = 1;
    in[1].number = 2;
    in[2].number = 3;
    assert_true(intake_validate_plan(&p, &e));

    in[2].number = 4;
    EXPECT(intake_validate_plan(&p, &e), e, "bad_value", "instalments[2].number");
    in[2].number = 3;
    d[2] = s_date(2024, 5, 1);                              /* same day as the previous */
    EXPECT(intake_validate_plan(&p, &e), e, "bad_date", "instalments[2].due_date");
    d[2] = s_date(2024, 6, 1);
    m[1].currency = "USD";
    EXPECT(intake_validate_plan(&p, &e), e, "currency_mismatch", "instalments[1].amount.currency");
    m[1].currency = "EUR";
    m[0].minor = 0;
    EXPECT(intake_validate_plan(&p, &e), e, "bad_amount", "instalments[0].amount.minor");
    m[0].minor = 100;
    invoices[1] = "";
    EXPECT(intake_validate_plan(&p, &e), e, "missing_field", "invoice_external_ids[1]");
}

static void test_promise(void **state)
{
    intake_error_t e;
    Creance__Money amount = s_money(2500, "EUR");
    Creance__Date on = s_date(2024, 3, 20);
    Creance__PromiseFact p = CREANCE__PROMISE_FACT__INIT;
    p.external_id = "PR";
    p.debtor_external_id = "D";
    p.amount = &amount;
    EXPECT(intake_validate_promise(&p, &e), e, "missing_field", "promised_date");
    p.promised_date = &on;
    assert_true(intake_validate_promise(&p, &e));
    amount.minor = 0;
    EXPECT(intake_validate_promise(&p, &e), e, "bad_amount", "amount.minor");
}

static void test_kinds_and_ids(void **state)
{
    Creance__WriteOffFact w = CREANCE__WRITE_OFF_FACT__INIT;
    w.external_id = "W9";
    Creance__IntakeItem it = CREANCE__INTAKE_ITEM__INIT;
    it.fact_case = CREANCE__INTAKE_ITEM__FACT_WRITE_OFF;
    it.write_off = &w;
    assert_string_equal(intake_item_kind(&it), "write_off");
    assert_string_equal(intake_item_external_id(&it), "W9");
    Creance__PaymentReversalFact r = CREANCE__PAYMENT_REVERSAL_FACT__INIT;
    r.external_id = "R9";
    it.fact_case = CREANCE__INTAKE_ITEM__FACT_PAYMENT_REVERSAL;
    it.payment_reversal = &r;
    assert_string_equal(intake_item_kind(&it), "payment_reversal");
    assert_string_equal(intake_item_external_id(&it), "R9");
    /* Dispatch: the item's validator runs (a reversal without its fields). */
    intake_error_t e;
    EXPECT(intake_validate_item(&it, &e), e, "missing_field", "payment_external_id");
    Creance__IntakeItem empty = CREANCE__INTAKE_ITEM__INIT;
    EXPECT(intake_validate_item(&empty, &e), e, "empty_item", "fact");
    assert_null(intake_item_kind(&empty));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_adjustment),
        cmocka_unit_test(test_cancellation_reversal),
        cmocka_unit_test(test_credit_order),
        cmocka_unit_test(test_refund_split),
        cmocka_unit_test(test_credit_note_write_off),
        cmocka_unit_test(test_plan),
        cmocka_unit_test(test_promise),
        cmocka_unit_test(test_kinds_and_ids),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
