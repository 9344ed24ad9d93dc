/*  risk: ledger event -> exposure changes (services/risk/delta.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "../../services/risk/delta.h"

/* ---------------------------------------------------------------- builders */

static Creance__Money
s_money(int64_t minor, const char *currency)
{
    Creance__Money m = CREANCE__MONEY__INIT;
    m.minor = minor;
    m.currency = (char *) currency;
    return m;
}

static Creance__Envelope
s_env(void)
{
    Creance__Envelope env = CREANCE__ENVELOPE__INIT;
    env.tenant = "acme";
    env.stream = "ledger";
    env.seq = 7;
    env.event_id = "00000000-0000-0000-0000-000000000007";
    env.occurred_at_us = 1700000000000000;
    return env;
}

static Creance__Allocation
s_alloc(int64_t invoice_id, Creance__Money *amount, Creance__Money *open_after)
{
    Creance__Allocation a = CREANCE__ALLOCATION__INIT;
    a.invoice_id = invoice_id;
    a.amount = amount;
    a.invoice_open_after = open_after;
    return a;
}

static void
s_expect(const risk_delta_set_t *set, int i, int64_t debtor, const char *cur, int64_t out, int32_t open)
{
    assert_true(i < set->count);
    assert_int_equal(set->items[i].debtor_id, debtor);
    assert_string_equal(set->items[i].currency, cur);
    assert_int_equal(set->items[i].outstanding_minor, out);
    assert_int_equal(set->items[i].open_invoices, open);
}

/* ---------------------------------------------------------------- tests */

static void
test_invoice_issued(void **state)
{
    Creance__Money amount = s_money(120000, "EUR");
    Creance__InvoiceIssued e = CREANCE__INVOICE_ISSUED__INIT;
    e.invoice_id = 9;
    e.debtor_id = 42;
    e.amount = &amount;
    Creance__Envelope env = s_env();
    env.event_case = CREANCE__ENVELOPE__EVENT_INVOICE_ISSUED;
    env.invoice_issued = &e;
    risk_delta_set_t set;
    assert_int_equal(risk_delta_from_envelope(&env, &set), RISK_DELTA_SOME);
    assert_int_equal(set.count, 1);
    s_expect(&set, 0, 42, "EUR", 120000, 1);
}

static void
test_payment_allocated_merges_and_closes(void **state)
{
    /* Two invoices in EUR: the first paid off (open after 0), the second
       partly. One delta, -2 500.00, one invoice closed. */
    Creance__Money a1 = s_money(100000, "EUR"), o1 = s_money(0, "EUR");
    Creance__Money a2 = s_money(150000, "EUR"), o2 = s_money(50000, "EUR");
    Creance__Allocation al1 = s_alloc(1, &a1, &o1), al2 = s_alloc(2, &a2, &o2);
    Creance__Allocation *allocs[] = { &al1, &al2 };
    Creance__PaymentAllocated e = CREANCE__PAYMENT_ALLOCATED__INIT;
    e.debtor_id = 42;
    e.n_allocations = 2;
    e.allocations = allocs;
    Creance__Envelope env = s_env();
    env.event_case = CREANCE__ENVELOPE__EVENT_PAYMENT_ALLOCATED;
    env.payment_allocated = &e;
    risk_delta_set_t set;
    assert_int_equal(risk_delta_from_envelope(&env, &set), RISK_DELTA_SOME);
    assert_int_equal(set.count, 1);
    s_expect(&set, 0, 42, "EUR", -250000, -1);
}

static void
test_payment_allocated_two_closed_two_currencies(void **state)
{
    Creance__Money a1 = s_money(100, "EUR"), o1 = s_money(0, "EUR");
    Creance__Money a2 = s_money(200, "EUR"), o2 = s_money(0, "EUR");
    Creance__Money a3 = s_money(300, "USD"), o3 = s_money(0, "");   /* zero, currency left out */
    Creance__Allocation al1 = s_alloc(1, &a1, &o1), al2 = s_alloc(2, &a2, &o2),
                        al3 = s_alloc(3, &a3, &o3);
    Creance__Allocation *allocs[] = { &al1, &al2, &al3 };
    Creance__PaymentAllocated e = CREANCE__PAYMENT_ALLOCATED__INIT;
    e.debtor_id = 5;
    e.n_allocations = 3;
    e.allocations = allocs;
    Creance__Envelope env = s_env();
    env.event_case = CREANCE__ENVELOPE__EVENT_PAYMENT_ALLOCATED;
    env.payment_allocated = &e;
    risk_delta_set_t set;
    assert_int_equal(risk_delta_from_envelope(&env, &set), RISK_DELTA_SOME);
    assert_int_equal(set.count, 2);
    s_expect(&set, 0, 5, "EUR", -300, -2);
    s_expect(&set, 1, 5, "USD", -300, -1);
}

static void
test_payment_allocated_nothing_allocated(void **state)
{
    /* All unapplied: no invoice changes, so no exposure change. */
    Creance__Money unapplied = s_money(500, "EUR");
    Creance__PaymentAllocated e = CREANCE__PAYMENT_ALLOCATED__INIT;
    e.debtor_id = 5;
    e.unapplied = &unapplied;
    Creance__Envelope env = s_env();
    env.event_case = CREANCE__ENVELOPE__EVENT_PAYMENT_ALLOCATED;
    env.payment_allocated = &e;
    risk_delta_set_t set;
    assert_int_equal(risk_delta_from_envelope(&env, &set), RISK_DELTA_NONE);
    assert_int_equal(set.count, 0);
}

static void
test_payment_reversed(void **state)
{
    /* Invoice 1 was paid off and reopens (open after == reopened amount);
       invoice 2 was still partly open, so it does not count again. */
    Creance__Money a1 = s_money(100000, "EUR"), o1 = s_money(100000, "EUR");
    Creance__Money a2 = s_money(150000, "EUR"), o2 = s_money(200000, "EUR");
    Creance__Allocation al1 = s_alloc(1, &a1, &o1), al2 = s_alloc(2, &a2, &o2);
    Creance__Allocation *allocs[] = { &al1, &al2 };
    Creance__PaymentReversed e = CREANCE__PAYMENT_REVERSED__INIT;
    e.debtor_id = 42;
    e.n_reopened = 2;
    e.reopened = allocs;
    Creance__Envelope env = s_env();
    env.event_case = CREANCE__ENVELOPE__EVENT_PAYMENT_REVERSED;
    env.payment_reversed = &e;
    risk_delta_set_t set;
    assert_int_equal(risk_delta_from_envelope(&env, &set), RISK_DELTA_SOME);
    assert_int_equal(set.count, 1);
    s_expect(&set, 0, 42, "EUR", 250000, 1);
}

static void
test_allocate_then_reverse_is_neutral(void **state)
{
    Creance__Money a = s_money(700, "EUR"), zero = s_money(0, "EUR"), back = s_money(700, "EUR");
    Creance__Allocation paid = s_alloc(1, &a, &zero), reopened = s_alloc(1, &a, &back);
    Creance__Allocation *p[] = { &paid }, *r[] = { &reopened };
    Creance__PaymentAllocated pa = CREANCE__PAYMENT_ALLOCATED__INIT;
    pa.debtor_id = 3;
    pa.n_allocations = 1;
    pa.allocations = p;
    Creance__PaymentReversed pr = CREANCE__PAYMENT_REVERSED__INIT;
    pr.debtor_id = 3;
    pr.n_reopened = 1;
    pr.reopened = r;
    Creance__Envelope e1 = s_env(), e2 = s_env();
    e1.event_case = CREANCE__ENVELOPE__EVENT_PAYMENT_ALLOCATED;
    e1.payment_allocated = &pa;
    e2.event_case = CREANCE__ENVELOPE__EVENT_PAYMENT_REVERSED;
    e2.payment_reversed = &pr;
    risk_delta_set_t s1, s2;
    assert_int_equal(risk_delta_from_envelope(&e1, &s1), RISK_DELTA_SOME);
    assert_int_equal(risk_delta_from_envelope(&e2, &s2), RISK_DELTA_SOME);
    assert_int_equal(s1.items[0].outstanding_minor + s2.items[0].outstanding_minor, 0);
    assert_int_equal(s1.items[0].open_invoices + s2.items[0].open_invoices, 0);
}

static void
test_invoice_cancelled(void **state)
{
    Creance__Money open = s_money(4200, "EUR");
    Creance__InvoiceCancelled e = CREANCE__INVOICE_CANCELLED__INIT;
    e.debtor_id = 42;
    e.cancelled_open = &open;
    Creance__Envelope env = s_env();
    env.event_case = CREANCE__ENVELOPE__EVENT_INVOICE_CANCELLED;
    env.invoice_cancelled = &e;
    risk_delta_set_t set;
    assert_int_equal(risk_delta_from_envelope(&env, &set), RISK_DELTA_SOME);
    s_expect(&set, 0, 42, "EUR", -4200, -1);

    /* Nothing open any more: the invoice was counted closed when paid. */
    open.minor = 0;
    assert_int_equal(risk_delta_from_envelope(&env, &set), RISK_DELTA_SOME);
    s_expect(&set, 0, 42, "EUR", 0, 0);
}

static void
test_written_off_and_credit_note(void **state)
{
    Creance__Money amount = s_money(999, "GBP");
    Creance__WrittenOff w = CREANCE__WRITTEN_OFF__INIT;
    w.debtor_id = 8;
    w.amount = &amount;
    Creance__Envelope env = s_env();
    env.event_case = CREANCE__ENVELOPE__EVENT_WRITTEN_OFF;
    env.written_off = &w;
    risk_delta_set_t set;
    assert_int_equal(risk_delta_from_envelope(&env, &set), RISK_DELTA_SOME);
    s_expect(&set, 0, 8, "GBP", -999, 0);    /* the event does not say it closed */

    /*  A credit note tied to no invoice is credit: nothing owed less yet
        (its credit counts when a later invoice takes it). */
    Creance__CreditNoteIssued c = CREANCE__CREDIT_NOTE_ISSUED__INIT;
    c.debtor_id = 8;
    c.amount = &amount;
    env.event_case = CREANCE__ENVELOPE__EVENT_CREDIT_NOTE_ISSUED;
    env.credit_note_issued = &c;
    assert_int_equal(risk_delta_from_envelope(&env, &set), RISK_DELTA_NONE);

    /*  Tied, 999 of which 600 applied and the invoice closed by it. */
    Creance__Money applied = s_money(600, "GBP"), after = s_money(0, "GBP");
    c.invoice_id = 70;
    c.applied = &applied;
    c.invoice_open_after = &after;
    assert_int_equal(risk_delta_from_envelope(&env, &set), RISK_DELTA_SOME);
    s_expect(&set, 0, 8, "GBP", -600, -1);
    /*  Still open after it: the count stays. */
    after.minor = 5;
    assert_int_equal(risk_delta_from_envelope(&env, &set), RISK_DELTA_SOME);
    s_expect(&set, 0, 8, "GBP", -600, 0);
    /*  Before `applied` existed: tied, the whole amount. */
    c.applied = NULL;
    assert_int_equal(risk_delta_from_envelope(&env, &set), RISK_DELTA_SOME);
    s_expect(&set, 0, 8, "GBP", -999, 0);
    /*  More applied than the amount is refused, naming the field. */
    Creance__Money too_much = s_money(1000, "GBP");
    c.applied = &too_much;
    assert_int_equal(risk_delta_from_envelope(&env, &set), RISK_DELTA_INVALID);
    assert_string_equal(set.field, "credit_note_issued.applied.minor");
}

static void
test_credit_note_applied(void **state)
{
    Creance__Money amount = s_money(250, "EUR"), after = s_money(0, "EUR");
    Creance__CreditNoteApplied c = CREANCE__CREDIT_NOTE_APPLIED__INIT;
    c.credit_note_id = 3;
    c.debtor_id = 8;
    c.invoice_id = 71;
    c.amount = &amount;
    c.invoice_open_after = &after;
    Creance__Envelope env = s_env();
    env.event_case = CREANCE__ENVELOPE__EVENT_CREDIT_NOTE_APPLIED;
    env.credit_note_applied = &c;
    risk_delta_set_t set;
    assert_int_equal(risk_delta_from_envelope(&env, &set), RISK_DELTA_SOME);
    s_expect(&set, 0, 8, "EUR", -250, -1);       /* it settled the new invoice */
    after.minor = 100;
    assert_int_equal(risk_delta_from_envelope(&env, &set), RISK_DELTA_SOME);
    s_expect(&set, 0, 8, "EUR", -250, 0);
    c.invoice_open_after = NULL;
    assert_int_equal(risk_delta_from_envelope(&env, &set), RISK_DELTA_INVALID);
    assert_string_equal(set.field, "credit_note_applied.invoice_open_after");
    c.invoice_open_after = &after;
    c.invoice_id = 0;
    assert_int_equal(risk_delta_from_envelope(&env, &set), RISK_DELTA_INVALID);
    assert_string_equal(set.field, "credit_note_applied.invoice_id");
}

static void
test_other_events_are_noops(void **state)
{
    Creance__DebtorCreated dc = CREANCE__DEBTOR_CREATED__INIT;
    dc.debtor_id = 1;
    Creance__Envelope env = s_env();
    env.event_case = CREANCE__ENVELOPE__EVENT_DEBTOR_CREATED;
    env.debtor_created = &dc;
    risk_delta_set_t set;
    assert_int_equal(risk_delta_from_envelope(&env, &set), RISK_DELTA_NONE);

    Creance__Money amount = s_money(5, "EUR");
    Creance__PaymentReceived pr = CREANCE__PAYMENT_RECEIVED__INIT;
    pr.debtor_id = 1;
    pr.amount = &amount;
    env.event_case = CREANCE__ENVELOPE__EVENT_PAYMENT_RECEIVED;
    env.payment_received = &pr;
    assert_int_equal(risk_delta_from_envelope(&env, &set), RISK_DELTA_NONE);

    assert_true(risk_delta_handles(CREANCE__ENVELOPE__EVENT_INVOICE_ISSUED));
    assert_true(risk_delta_handles(CREANCE__ENVELOPE__EVENT_CREDIT_NOTE_ISSUED));
    assert_false(risk_delta_handles(CREANCE__ENVELOPE__EVENT_DISPUTE_OPENED));
    assert_false(risk_delta_handles(CREANCE__ENVELOPE__EVENT_INVOICE_ADJUSTED));
    assert_false(risk_delta_handles(CREANCE__ENVELOPE__EVENT__NOT_SET));
}

static void
test_invalid_events(void **state)
{
    Creance__Money amount = s_money(100, "EUR");
    Creance__InvoiceIssued e = CREANCE__INVOICE_ISSUED__INIT;
    e.debtor_id = 42;
    Creance__Envelope env = s_env();
    env.event_case = CREANCE__ENVELOPE__EVENT_INVOICE_ISSUED;
    env.invoice_issued = &e;
    risk_delta_set_t set;

    /* missing amount */
    assert_int_equal(risk_delta_from_envelope(&env, &set), RISK_DELTA_INVALID);
    assert_string_equal(set.field, "invoice_issued.amount");
    assert_string_equal(set.code, "missing_amount");
    assert_int_equal(set.count, 0);

    e.amount = &amount;
    amount.currency = "eur";
    assert_int_equal(risk_delta_from_envelope(&env, &set), RISK_DELTA_INVALID);
    assert_string_equal(set.field, "invoice_issued.amount.currency");
    assert_string_equal(set.code, "bad_currency");

    amount.currency = "EUR";
    amount.minor = -1;
    assert_int_equal(risk_delta_from_envelope(&env, &set), RISK_DELTA_INVALID);
    assert_string_equal(set.field, "invoice_issued.amount.minor");
    assert_string_equal(set.code, "negative_amount");

    amount.minor = 100;
    e.debtor_id = 0;
    assert_int_equal(risk_delta_from_envelope(&env, &set), RISK_DELTA_INVALID);
    assert_string_equal(set.field, "invoice_issued.debtor_id");

    e.debtor_id = 42;
    env.tenant = "Acme}";
    assert_int_equal(risk_delta_from_envelope(&env, &set), RISK_DELTA_INVALID);
    assert_string_equal(set.field, "tenant");
    assert_string_equal(set.code, "bad_tenant");

    env.tenant = "acme";
    env.invoice_issued = NULL;
    assert_int_equal(risk_delta_from_envelope(&env, &set), RISK_DELTA_INVALID);
    assert_int_equal(risk_delta_from_envelope(NULL, &set), RISK_DELTA_INVALID);
}

static void
test_invalid_allocations(void **state)
{
    Creance__Money a1 = s_money(100, "EUR"), o1 = s_money(0, "USD");
    Creance__Allocation al1 = s_alloc(1, &a1, NULL);
    Creance__Allocation *allocs[] = { &al1 };
    Creance__PaymentAllocated e = CREANCE__PAYMENT_ALLOCATED__INIT;
    e.debtor_id = 42;
    e.n_allocations = 1;
    e.allocations = allocs;
    Creance__Envelope env = s_env();
    env.event_case = CREANCE__ENVELOPE__EVENT_PAYMENT_ALLOCATED;
    env.payment_allocated = &e;
    risk_delta_set_t set;

    assert_int_equal(risk_delta_from_envelope(&env, &set), RISK_DELTA_INVALID);
    assert_string_equal(set.field, "payment_allocated.allocations[0].invoice_open_after");
    assert_string_equal(set.code, "missing_open_after");

    al1.invoice_open_after = &o1;
    assert_int_equal(risk_delta_from_envelope(&env, &set), RISK_DELTA_INVALID);
    assert_string_equal(set.field, "payment_allocated.allocations[0].invoice_open_after.currency");
    assert_string_equal(set.code, "currency_mismatch");

    /* Overflow across two allocations refuses the whole event. */
    Creance__Money big = s_money(INT64_MAX, "EUR"), open = s_money(1, "EUR");
    Creance__Allocation b1 = s_alloc(1, &big, &open), b2 = s_alloc(2, &big, &open);
    Creance__Allocation *bigs[] = { &b1, &b2 };
    Creance__PaymentReversed r = CREANCE__PAYMENT_REVERSED__INIT;
    r.debtor_id = 42;
    r.n_reopened = 2;
    r.reopened = bigs;
    env.event_case = CREANCE__ENVELOPE__EVENT_PAYMENT_REVERSED;
    env.payment_reversed = &r;
    assert_int_equal(risk_delta_from_envelope(&env, &set), RISK_DELTA_INVALID);
    assert_string_equal(set.code, "overflow");
    assert_string_equal(set.field, "payment_reversed.reopened[1].amount");
    assert_int_equal(set.count, 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_invoice_issued),
        cmocka_unit_test(test_payment_allocated_merges_and_closes),
        cmocka_unit_test(test_payment_allocated_two_closed_two_currencies),
        cmocka_unit_test(test_payment_allocated_nothing_allocated),
        cmocka_unit_test(test_payment_reversed),
        cmocka_unit_test(test_allocate_then_reverse_is_neutral),
        cmocka_unit_test(test_invoice_cancelled),
        cmocka_unit_test(test_written_off_and_credit_note),
        cmocka_unit_test(test_credit_note_applied),
        cmocka_unit_test(test_other_events_are_noops),
        cmocka_unit_test(test_invalid_events),
        cmocka_unit_test(test_invalid_allocations),
    };
    return cmocka_run_group_tests_name("risk_delta", tests, NULL, NULL);
}
