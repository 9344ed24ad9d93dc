/*  Unit tests: reminders' event -> rem_open_items changes (no database),
    and the tenant check of its summary API. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "dates.h"
#include "../../services/reminders/api.h"
#include "../../services/reminders/items.h"

typedef struct {
    Creance__Envelope env;
    Creance__Money money[16];
    Creance__Date date[16];
    Creance__Allocation alloc[16];
    Creance__Allocation *allocp[16];
    union {
        Creance__InvoiceIssued invoice_issued;
        Creance__PaymentAllocated payment_allocated;
        Creance__PaymentReversed payment_reversed;
        Creance__InvoiceCancelled invoice_cancelled;
        Creance__WrittenOff written_off;
        Creance__CreditNoteIssued credit_note_issued;
        Creance__CreditNoteApplied credit_note_applied;
        Creance__DisputeOpened dispute_opened;
        Creance__DisputeResolved dispute_resolved;
        Creance__InvoiceAdjusted invoice_adjusted;
        Creance__PaymentReceived payment_received;
        Creance__DebtorCreated debtor_created;
    } ev;
    rem_changes_t changes;
} fixture_t;

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    *state = f;
    return f ? 0 : -1;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    rem_changes_free(&f->changes);
    free(f);
    return 0;
}

static void env_init(fixture_t *f, Creance__Envelope__EventCase c)
{
    rem_changes_t keep = f->changes;          /* reused across events, as in the service */
    memset(f, 0, sizeof *f);
    f->changes = keep;
    Creance__Envelope e = CREANCE__ENVELOPE__INIT;
    f->env = e;
    f->env.tenant = "acme";
    f->env.stream = "ledger";
    f->env.seq = 1;
    f->env.event_case = c;
    f->env.invoice_issued = (void *) &f->ev;   /* every oneof member is a pointer */
}

static Creance__Money *money(fixture_t *f, int i, int64_t minor, const char *cur)
{
    Creance__Money m = CREANCE__MONEY__INIT;
    m.minor = minor;
    m.currency = (char *) cur;
    f->money[i] = m;
    return &f->money[i];
}

static Creance__Date *date(fixture_t *f, int i, int y, int m, int d)
{
    Creance__Date x = CREANCE__DATE__INIT;
    x.year = y;
    x.month = m;
    x.day = d;
    f->date[i] = x;
    return &f->date[i];
}

/*  Allocation i: invoice 100+i, `amount`, open after `open_after`, due 2025-03-(1+i). */
static Creance__Allocation *alloc(fixture_t *f, int i, int64_t amount, int64_t open_after)
{
    Creance__Allocation a = CREANCE__ALLOCATION__INIT;
    a.invoice_id = 100 + i;
    a.amount = money(f, 2 * i, amount, "EUR");
    a.invoice_open_after = money(f, 2 * i + 1, open_after, "EUR");
    a.due_date = date(f, i, 2025, 3, 1 + i);
    f->alloc[i] = a;
    f->allocp[i] = &f->alloc[i];
    return &f->alloc[i];
}

static void map_ok(fixture_t *f)
{
    rem_error_t err;
    if (rem_changes_from_event(&f->env, &f->changes, &err))
        fail_msg("refused field=%s reason=%s", err.field, err.reason);
}

static void map_refused(fixture_t *f, const char *field, const char *reason)
{
    rem_error_t err;
    assert_int_equal(rem_changes_from_event(&f->env, &f->changes, &err), -1);
    assert_int_equal(f->changes.n, 0);
    assert_string_equal(err.field, field);
    assert_string_equal(err.reason, reason);
}

static void invoice_issued(fixture_t *f)
{
    env_init(f, CREANCE__ENVELOPE__EVENT_INVOICE_ISSUED);
    Creance__InvoiceIssued e = CREANCE__INVOICE_ISSUED__INIT;
    e.invoice_id = 10;
    e.debtor_id = 3;
    e.due_date = date(f, 0, 2025, 2, 28);
    e.amount = money(f, 0, 12000, "EUR");
    f->ev.invoice_issued = e;
}

static void test_invoice_issued_inserts(void **state)
{
    fixture_t *f = *state;
    invoice_issued(f);
    map_ok(f);
    assert_int_equal(f->changes.n, 1);
    const rem_change_t *c = &f->changes.v[0];
    assert_int_equal(c->op, REM_INSERT);
    assert_int_equal(c->invoice_id, 10);
    assert_int_equal(c->debtor_id, 3);
    assert_true(c->has_due);
    assert_int_equal(c->due_date, date_to_days(2025, 2, 28));
    assert_string_equal(c->currency, "EUR");
    assert_int_equal(c->open_minor, 12000);
    assert_string_equal(rem_op_name(c->op), "insert");
}

static void test_invoice_issued_refused(void **state)
{
    fixture_t *f = *state;
    invoice_issued(f);
    f->ev.invoice_issued.due_date = NULL;
    map_refused(f, "invoice_issued.due_date", "missing");
    invoice_issued(f);
    f->ev.invoice_issued.due_date = date(f, 1, 2025, 2, 30);
    map_refused(f, "invoice_issued.due_date", "invalid_date");
    invoice_issued(f);
    f->ev.invoice_issued.invoice_id = 0;
    map_refused(f, "invoice_issued.invoice_id", "missing");
    invoice_issued(f);
    f->ev.invoice_issued.debtor_id = -2;
    map_refused(f, "invoice_issued.debtor_id", "negative");
    invoice_issued(f);
    f->ev.invoice_issued.amount = money(f, 1, 100, "ZZZ");
    map_refused(f, "invoice_issued.amount", "unknown_currency");
    invoice_issued(f);
    f->ev.invoice_issued.amount = money(f, 1, 0, "EUR");
    map_refused(f, "invoice_issued.amount", "not_positive");
    invoice_issued(f);
    f->env.invoice_issued = NULL;
    map_refused(f, "event", "missing");
}

static void test_payment_allocated(void **state)
{
    fixture_t *f = *state;
    env_init(f, CREANCE__ENVELOPE__EVENT_PAYMENT_ALLOCATED);
    Creance__PaymentAllocated e = CREANCE__PAYMENT_ALLOCATED__INIT;
    alloc(f, 0, 5000, 0);          /* paid in full */
    alloc(f, 1, 2000, 3000);       /* partly */
    e.n_allocations = 2;
    e.allocations = f->allocp;
    f->ev.payment_allocated = e;
    map_ok(f);
    assert_int_equal(f->changes.n, 2);
    assert_int_equal(f->changes.v[0].op, REM_DELETE);
    assert_int_equal(f->changes.v[0].invoice_id, 100);
    assert_int_equal(f->changes.v[1].op, REM_SET_OPEN);
    assert_int_equal(f->changes.v[1].invoice_id, 101);
    assert_int_equal(f->changes.v[1].open_minor, 3000);
    assert_false(f->changes.v[1].has_due);

    f->alloc[1].invoice_open_after = NULL;
    map_refused(f, "payment_allocated.allocations.invoice_open_after", "missing");
}

static void test_many_allocations_grow(void **state)
{
    fixture_t *f = *state;
    env_init(f, CREANCE__ENVELOPE__EVENT_PAYMENT_ALLOCATED);
    Creance__PaymentAllocated e = CREANCE__PAYMENT_ALLOCATED__INIT;
    Creance__Allocation *list[40];
    for (int i = 0; i < 40; i++)
        list[i] = alloc(f, i % 8, 1, i % 2);
    e.n_allocations = 40;
    e.allocations = list;
    f->ev.payment_allocated = e;
    map_ok(f);
    assert_int_equal(f->changes.n, 40);
    assert_true(f->changes.cap >= 40);
}

static void test_payment_reversed_upserts(void **state)
{
    fixture_t *f = *state;
    env_init(f, CREANCE__ENVELOPE__EVENT_PAYMENT_REVERSED);
    Creance__PaymentReversed e = CREANCE__PAYMENT_REVERSED__INIT;
    e.payment_id = 9;
    e.debtor_id = 3;
    alloc(f, 0, 5000, 5000);
    alloc(f, 1, 2000, 6000);
    e.n_reopened = 2;
    e.reopened = f->allocp;
    f->ev.payment_reversed = e;
    map_ok(f);
    assert_int_equal(f->changes.n, 2);
    const rem_change_t *c = &f->changes.v[1];
    assert_int_equal(c->op, REM_UPSERT);
    assert_int_equal(c->invoice_id, 101);
    assert_int_equal(c->debtor_id, 3);
    assert_true(c->has_due);
    assert_int_equal(c->due_date, date_to_days(2025, 3, 2));
    assert_string_equal(c->currency, "EUR");
    assert_int_equal(c->open_minor, 6000);

    /*  The due date is what makes the row again: required. */
    f->alloc[0].due_date = NULL;
    map_refused(f, "payment_reversed.reopened.due_date", "missing");
    f->alloc[0].due_date = date(f, 9, 2025, 3, 1);
    f->ev.payment_reversed.debtor_id = 0;
    map_refused(f, "payment_reversed.debtor_id", "missing");
}

static void test_removals(void **state)
{
    fixture_t *f = *state;
    env_init(f, CREANCE__ENVELOPE__EVENT_INVOICE_CANCELLED);
    Creance__InvoiceCancelled c = CREANCE__INVOICE_CANCELLED__INIT;
    c.invoice_id = 10;
    f->ev.invoice_cancelled = c;
    map_ok(f);
    assert_int_equal(f->changes.n, 1);
    assert_int_equal(f->changes.v[0].op, REM_DELETE);
    assert_int_equal(f->changes.v[0].invoice_id, 10);

    env_init(f, CREANCE__ENVELOPE__EVENT_WRITTEN_OFF);
    Creance__WrittenOff w = CREANCE__WRITTEN_OFF__INIT;
    w.invoice_id = 11;
    f->ev.written_off = w;
    map_ok(f);
    assert_int_equal(f->changes.n, 1);
    assert_int_equal(f->changes.v[0].op, REM_DELETE);
    assert_int_equal(f->changes.v[0].invoice_id, 11);

    f->ev.written_off.invoice_id = 0;
    map_refused(f, "written_off.invoice_id", "missing");
}

static void test_disputes(void **state)
{
    fixture_t *f = *state;
    env_init(f, CREANCE__ENVELOPE__EVENT_DISPUTE_OPENED);
    Creance__DisputeOpened o = CREANCE__DISPUTE_OPENED__INIT;
    o.invoice_id = 10;
    f->ev.dispute_opened = o;
    map_ok(f);
    assert_int_equal(f->changes.n, 1);
    assert_int_equal(f->changes.v[0].op, REM_SET_DISPUTED);
    assert_true(f->changes.v[0].disputed);

    env_init(f, CREANCE__ENVELOPE__EVENT_DISPUTE_RESOLVED);
    Creance__DisputeResolved r = CREANCE__DISPUTE_RESOLVED__INIT;
    r.invoice_id = 10;
    f->ev.dispute_resolved = r;
    map_ok(f);
    assert_int_equal(f->changes.n, 1);
    assert_int_equal(f->changes.v[0].op, REM_SET_DISPUTED);
    assert_false(f->changes.v[0].disputed);
}

static void test_invoice_adjusted(void **state)
{
    fixture_t *f = *state;
    env_init(f, CREANCE__ENVELOPE__EVENT_INVOICE_ADJUSTED);
    Creance__InvoiceAdjusted a = CREANCE__INVOICE_ADJUSTED__INIT;
    a.invoice_id = 10;
    a.debtor_id = 3;
    a.open_amount = money(f, 0, 7000, "EUR");
    a.due_date = date(f, 0, 2025, 4, 15);
    f->ev.invoice_adjusted = a;
    map_ok(f);
    assert_int_equal(f->changes.n, 1);
    assert_int_equal(f->changes.v[0].op, REM_UPSERT);
    assert_int_equal(f->changes.v[0].open_minor, 7000);
    assert_int_equal(f->changes.v[0].due_date, date_to_days(2025, 4, 15));

    /*  No due date: update what is there, keep its due date. */
    f->ev.invoice_adjusted.due_date = NULL;
    map_ok(f);
    assert_int_equal(f->changes.v[0].op, REM_SET_OPEN);
    assert_false(f->changes.v[0].has_due);

    /*  Adjusted down to nothing open: the row goes. */
    f->ev.invoice_adjusted.open_amount = money(f, 1, 0, "EUR");
    map_ok(f);
    assert_int_equal(f->changes.v[0].op, REM_DELETE);

    f->ev.invoice_adjusted.open_amount = NULL;
    map_refused(f, "invoice_adjusted.open_amount", "missing");
}

static void test_credit_notes(void **state)
{
    fixture_t *f = *state;
    /*  Tied, the invoice still open after it: its open amount drops. */
    env_init(f, CREANCE__ENVELOPE__EVENT_CREDIT_NOTE_ISSUED);
    Creance__CreditNoteIssued c = CREANCE__CREDIT_NOTE_ISSUED__INIT;
    c.invoice_id = 10;
    c.amount = money(f, 0, 500, "EUR");
    c.invoice_open_after = money(f, 1, 300, "EUR");
    f->ev.credit_note_issued = c;
    map_ok(f);
    assert_int_equal(f->changes.n, 1);
    assert_int_equal(f->changes.v[0].op, REM_SET_OPEN);
    assert_int_equal(f->changes.v[0].invoice_id, 10);
    assert_int_equal(f->changes.v[0].open_minor, 300);
    /*  Settled by it: no row. */
    f->money[1].minor = 0;
    map_ok(f);
    assert_int_equal(f->changes.n, 1);
    assert_int_equal(f->changes.v[0].op, REM_DELETE);
    /*  Tied to none: nothing to change. */
    f->ev.credit_note_issued.invoice_id = 0;
    f->ev.credit_note_issued.invoice_open_after = NULL;
    map_ok(f);
    assert_int_equal(f->changes.n, 0);

    /*  Its credit taken by a later invoice. */
    env_init(f, CREANCE__ENVELOPE__EVENT_CREDIT_NOTE_APPLIED);
    Creance__CreditNoteApplied a = CREANCE__CREDIT_NOTE_APPLIED__INIT;
    a.credit_note_id = 4;
    a.invoice_id = 12;
    a.amount = money(f, 0, 200, "EUR");
    a.invoice_open_after = money(f, 1, 800, "EUR");
    f->ev.credit_note_applied = a;
    map_ok(f);
    assert_int_equal(f->changes.n, 1);
    assert_int_equal(f->changes.v[0].op, REM_SET_OPEN);
    assert_int_equal(f->changes.v[0].invoice_id, 12);
    assert_int_equal(f->changes.v[0].open_minor, 800);
    f->money[1].minor = 0;
    map_ok(f);
    assert_int_equal(f->changes.v[0].op, REM_DELETE);
    f->ev.credit_note_applied.invoice_open_after = NULL;
    map_refused(f, "credit_note_applied.invoice_open_after", "missing");
}

static void test_other_events_change_nothing(void **state)
{
    fixture_t *f = *state;
    env_init(f, CREANCE__ENVELOPE__EVENT_PAYMENT_RECEIVED);
    Creance__PaymentReceived p = CREANCE__PAYMENT_RECEIVED__INIT;
    f->ev.payment_received = p;
    map_ok(f);
    assert_int_equal(f->changes.n, 0);

    env_init(f, CREANCE__ENVELOPE__EVENT_DEBTOR_CREATED);
    Creance__DebtorCreated d = CREANCE__DEBTOR_CREATED__INIT;
    f->ev.debtor_created = d;
    map_ok(f);
    assert_int_equal(f->changes.n, 0);
}

static void test_tenant_check(void **state)
{
    assert_null(rem_tenant_invalid("acme"));
    assert_null(rem_tenant_invalid("0tenant_a-b"));
    assert_non_null(rem_tenant_invalid(NULL));
    assert_non_null(rem_tenant_invalid(""));
    assert_non_null(rem_tenant_invalid("Acme"));
    assert_non_null(rem_tenant_invalid("-acme"));
    assert_non_null(rem_tenant_invalid("acme corp"));
    assert_non_null(rem_tenant_invalid("acme'--"));
    char longname[80];
    memset(longname, 'a', 63);
    longname[63] = '\0';
    assert_null(rem_tenant_invalid(longname));
    longname[63] = 'a';
    longname[64] = '\0';
    assert_non_null(rem_tenant_invalid(longname));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_invoice_issued_inserts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_invoice_issued_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_payment_allocated, setup, teardown),
        cmocka_unit_test_setup_teardown(test_many_allocations_grow, setup, teardown),
        cmocka_unit_test_setup_teardown(test_payment_reversed_upserts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_removals, setup, teardown),
        cmocka_unit_test_setup_teardown(test_disputes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_invoice_adjusted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_credit_notes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_other_events_change_nothing, setup, teardown),
        cmocka_unit_test(test_tenant_check),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
