/*  Unit tests: reporting's event -> totals mapping (no database). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "../../services/reporting/aggregates.h"

/* ------------------------------------------------------------ builders */

typedef struct {
    Creance__Envelope env;
    Creance__Money money[16];
    Creance__Allocation alloc[16];
    Creance__Allocation *allocp[16];
    union {
        Creance__InvoiceIssued invoice_issued;
        Creance__PaymentReceived payment_received;
        Creance__PaymentAllocated payment_allocated;
        Creance__PaymentReversed payment_reversed;
        Creance__InvoiceCancelled invoice_cancelled;
        Creance__CreditNoteIssued credit_note_issued;
        Creance__CreditNoteApplied credit_note_applied;
        Creance__WrittenOff written_off;
        Creance__DisputeOpened dispute_opened;
        Creance__DisputeResolved dispute_resolved;
        Creance__DebtorCreated debtor_created;
        Creance__RiskScored risk_scored;
        Creance__InvoiceAdjusted invoice_adjusted;
    } ev;
} fixture_t;

static void env_init(fixture_t *f, Creance__Envelope__EventCase c)
{
    memset(f, 0, sizeof *f);
    Creance__Envelope e = CREANCE__ENVELOPE__INIT;
    f->env = e;
    f->env.tenant = "acme";
    f->env.stream = "ledger";
    f->env.seq = 1;
    f->env.event_id = "00000000-0000-4000-8000-000000000001";
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

static void invoice_issued(fixture_t *f, int64_t minor, const char *cur)
{
    env_init(f, CREANCE__ENVELOPE__EVENT_INVOICE_ISSUED);
    Creance__InvoiceIssued e = CREANCE__INVOICE_ISSUED__INIT;
    e.invoice_id = 10;
    e.debtor_id = 1;
    e.amount = money(f, 0, minor, cur);
    f->ev.invoice_issued = e;
}

static Creance__Allocation **allocations(fixture_t *f, int n, const int64_t *minor, const char *const *cur)
{
    for (int i = 0; i < n; i++) {
        Creance__Allocation a = CREANCE__ALLOCATION__INIT;
        a.invoice_id = 10 + i;
        a.amount = money(f, i, minor[i], cur[i]);
        f->alloc[i] = a;
        f->allocp[i] = &f->alloc[i];
    }
    return f->allocp;
}

static const rpt_delta_t *only(const rpt_deltas_t *d, const char *cur)
{
    for (int i = 0; i < d->n; i++)
        if (strcmp(d->d[i].currency, cur) == 0)
            return &d->d[i];
    fail_msg("no delta for currency %s", cur);
    return NULL;
}

static void map_ok(fixture_t *f, rpt_deltas_t *out)
{
    rpt_error_t err;
    int rc = rpt_deltas_from_event(&f->env, out, &err);
    if (rc)
        fail_msg("refused field=%s reason=%s", err.field, err.reason);
}

static void map_refused(fixture_t *f, const char *field, const char *reason)
{
    rpt_deltas_t out;
    rpt_error_t err;
    assert_int_equal(rpt_deltas_from_event(&f->env, &out, &err), -1);
    assert_int_equal(out.n, 0);
    assert_string_equal(err.field, field);
    assert_string_equal(err.reason, reason);
}

/* --------------------------------------------------------------- tests */

static void test_invoice_issued(void **state)
{
    fixture_t f;
    rpt_deltas_t d;
    invoice_issued(&f, 12345, "EUR");
    map_ok(&f, &d);
    assert_int_equal(d.n, 1);
    const rpt_delta_t *e = only(&d, "EUR");
    assert_int_equal(e->invoiced, 12345);
    assert_int_equal(e->outstanding, 12345);
    assert_int_equal(e->invoice_count, 1);
    assert_int_equal(e->collected, 0);
    assert_int_equal(e->payment_count, 0);
    assert_int_equal(e->open_disputes, 0);
}

static void test_payment_received(void **state)
{
    fixture_t f;
    rpt_deltas_t d;
    env_init(&f, CREANCE__ENVELOPE__EVENT_PAYMENT_RECEIVED);
    Creance__PaymentReceived e = CREANCE__PAYMENT_RECEIVED__INIT;
    e.amount = money(&f, 0, 5000, "USD");
    f.ev.payment_received = e;
    map_ok(&f, &d);
    assert_int_equal(d.n, 1);
    const rpt_delta_t *u = only(&d, "USD");
    assert_int_equal(u->collected, 5000);
    assert_int_equal(u->payment_count, 1);
    assert_int_equal(u->outstanding, 0);
}

static void test_payment_allocated_sums_per_currency(void **state)
{
    fixture_t f;
    rpt_deltas_t d;
    env_init(&f, CREANCE__ENVELOPE__EVENT_PAYMENT_ALLOCATED);
    Creance__PaymentAllocated e = CREANCE__PAYMENT_ALLOCATED__INIT;
    const int64_t minor[] = { 100, 250, 7 };
    const char *const cur[] = { "EUR", "EUR", "JPY" };
    e.n_allocations = 3;
    e.allocations = allocations(&f, 3, minor, cur);
    f.ev.payment_allocated = e;
    map_ok(&f, &d);
    assert_int_equal(d.n, 2);
    assert_int_equal(only(&d, "EUR")->outstanding, -350);
    assert_int_equal(only(&d, "JPY")->outstanding, -7);
    assert_int_equal(only(&d, "EUR")->collected, 0);
}

static void test_payment_allocated_empty_is_noop(void **state)
{
    fixture_t f;
    rpt_deltas_t d;
    env_init(&f, CREANCE__ENVELOPE__EVENT_PAYMENT_ALLOCATED);
    Creance__PaymentAllocated e = CREANCE__PAYMENT_ALLOCATED__INIT;
    f.ev.payment_allocated = e;
    map_ok(&f, &d);
    assert_int_equal(d.n, 0);
}

static void test_payment_reversed(void **state)
{
    fixture_t f;
    rpt_deltas_t d;
    env_init(&f, CREANCE__ENVELOPE__EVENT_PAYMENT_REVERSED);
    Creance__PaymentReversed e = CREANCE__PAYMENT_REVERSED__INIT;
    const int64_t minor[] = { 300, 200 };
    const char *const cur[] = { "EUR", "EUR" };
    e.n_reopened = 2;
    e.reopened = allocations(&f, 2, minor, cur);
    f.ev.payment_reversed = e;
    map_ok(&f, &d);
    assert_int_equal(d.n, 1);
    assert_int_equal(only(&d, "EUR")->outstanding, 500);
    assert_int_equal(only(&d, "EUR")->collected, -500);
    assert_int_equal(only(&d, "EUR")->payment_count, 0);

    /*  The unapplied credit it took back was collected too: no longer. */
    f.ev.payment_reversed.unapplied_removed = money(&f, 15, 70, "EUR");
    map_ok(&f, &d);
    assert_int_equal(only(&d, "EUR")->outstanding, 500);
    assert_int_equal(only(&d, "EUR")->collected, -570);
}

static void test_invoice_cancelled(void **state)
{
    fixture_t f;
    rpt_deltas_t d;
    env_init(&f, CREANCE__ENVELOPE__EVENT_INVOICE_CANCELLED);
    Creance__InvoiceCancelled e = CREANCE__INVOICE_CANCELLED__INIT;
    e.invoice_id = 10;
    e.cancelled_open = money(&f, 0, 800, "EUR");
    f.ev.invoice_cancelled = e;
    map_ok(&f, &d);
    assert_int_equal(d.n, 1);
    assert_int_equal(only(&d, "EUR")->invoiced, -800);
    assert_int_equal(only(&d, "EUR")->outstanding, -800);
    assert_int_equal(only(&d, "EUR")->invoice_count, 0);
}

static void test_credit_note_and_write_off(void **state)
{
    fixture_t f;
    rpt_deltas_t d;
    /*  Tied to an invoice, 120 of which 80 applied: only the 80 is owed
        less now; the 40 of credit waits for a later invoice. */
    env_init(&f, CREANCE__ENVELOPE__EVENT_CREDIT_NOTE_ISSUED);
    Creance__CreditNoteIssued c = CREANCE__CREDIT_NOTE_ISSUED__INIT;
    c.invoice_id = 10;
    c.amount = money(&f, 0, 120, "EUR");
    c.applied = money(&f, 1, 80, "EUR");
    f.ev.credit_note_issued = c;
    map_ok(&f, &d);
    assert_int_equal(only(&d, "EUR")->outstanding, -80);
    assert_int_equal(only(&d, "EUR")->invoiced, 0);
    assert_int_equal(only(&d, "EUR")->collected, 0);

    /*  Tied to none: all credit, nothing owed less yet. */
    f.ev.credit_note_issued.invoice_id = 0;
    f.money[1].minor = 0;
    map_ok(&f, &d);
    assert_int_equal(only(&d, "EUR")->outstanding, 0);
    /*  An event from before `applied`: tied, the whole amount; untied,
        nothing (it is credit). */
    f.ev.credit_note_issued.applied = NULL;
    map_ok(&f, &d);
    assert_int_equal(only(&d, "EUR")->outstanding, 0);
    f.ev.credit_note_issued.invoice_id = 10;
    map_ok(&f, &d);
    assert_int_equal(only(&d, "EUR")->outstanding, -120);
    /*  More applied than the amount is refused. */
    f.ev.credit_note_issued.applied = money(&f, 1, 121, "EUR");
    rpt_error_t err;
    assert_int_equal(rpt_deltas_from_event(&f.env, &d, &err), -1);
    assert_string_equal(err.field, "credit_note_issued.applied");

    /*  The credit taken later by another invoice: owed less then, once. */
    env_init(&f, CREANCE__ENVELOPE__EVENT_CREDIT_NOTE_APPLIED);
    Creance__CreditNoteApplied ca = CREANCE__CREDIT_NOTE_APPLIED__INIT;
    ca.credit_note_id = 5;
    ca.invoice_id = 11;
    ca.amount = money(&f, 0, 40, "EUR");
    f.ev.credit_note_applied = ca;
    map_ok(&f, &d);
    assert_int_equal(d.n, 1);
    assert_int_equal(only(&d, "EUR")->outstanding, -40);
    assert_int_equal(only(&d, "EUR")->collected, 0);
    assert_int_equal(only(&d, "EUR")->invoiced, 0);

    env_init(&f, CREANCE__ENVELOPE__EVENT_WRITTEN_OFF);
    Creance__WrittenOff w = CREANCE__WRITTEN_OFF__INIT;
    w.invoice_id = 10;
    w.amount = money(&f, 0, 990, "KWD");
    f.ev.written_off = w;
    map_ok(&f, &d);
    assert_int_equal(d.n, 1);
    assert_int_equal(only(&d, "KWD")->outstanding, -990);
}

static void test_disputes(void **state)
{
    fixture_t f;
    rpt_deltas_t d;
    /*  With an amount: its currency. */
    env_init(&f, CREANCE__ENVELOPE__EVENT_DISPUTE_OPENED);
    Creance__DisputeOpened o = CREANCE__DISPUTE_OPENED__INIT;
    o.invoice_id = 42;
    o.amount = money(&f, 0, 100, "GBP");
    f.ev.dispute_opened = o;
    map_ok(&f, &d);
    assert_int_equal(d.n, 1);
    assert_int_equal(only(&d, "GBP")->open_disputes, 1);
    assert_int_equal(d.lookup_invoice_id, 0);

    /*  Without: the invoice's currency, looked up by the database half. */
    o.amount = NULL;
    f.ev.dispute_opened = o;
    map_ok(&f, &d);
    assert_int_equal(d.n, 1);
    assert_string_equal(d.d[0].currency, "");
    assert_int_equal(d.d[0].open_disputes, 1);
    assert_int_equal(d.lookup_invoice_id, 42);

    env_init(&f, CREANCE__ENVELOPE__EVENT_DISPUTE_RESOLVED);
    Creance__DisputeResolved r = CREANCE__DISPUTE_RESOLVED__INIT;
    r.invoice_id = 42;
    r.dispute_id = 7;
    f.ev.dispute_resolved = r;
    map_ok(&f, &d);
    assert_int_equal(d.n, 1);
    assert_string_equal(d.d[0].currency, "");
    assert_int_equal(d.d[0].open_disputes, -1);
    assert_int_equal(d.lookup_invoice_id, 42);

    r.invoice_id = 0;
    f.ev.dispute_resolved = r;
    map_refused(&f, "dispute_resolved.invoice_id", "missing");
}

static void test_other_events_change_nothing(void **state)
{
    fixture_t f;
    rpt_deltas_t d;
    env_init(&f, CREANCE__ENVELOPE__EVENT_DEBTOR_CREATED);
    Creance__DebtorCreated dc = CREANCE__DEBTOR_CREATED__INIT;
    f.ev.debtor_created = dc;
    map_ok(&f, &d);
    assert_int_equal(d.n, 0);

    env_init(&f, CREANCE__ENVELOPE__EVENT_RISK_SCORED);
    Creance__RiskScored rs = CREANCE__RISK_SCORED__INIT;
    f.ev.risk_scored = rs;
    map_ok(&f, &d);
    assert_int_equal(d.n, 0);

    env_init(&f, CREANCE__ENVELOPE__EVENT__NOT_SET);
    f.env.invoice_issued = NULL;
    map_ok(&f, &d);
    assert_int_equal(d.n, 0);
}

static void test_invoice_adjusted(void **state)
{
    fixture_t f;
    rpt_deltas_t d;
    /*  9000 (6000 open) raised to 12000: invoiced +3000, outstanding
        from 6000 to 9000, +3000. */
    env_init(&f, CREANCE__ENVELOPE__EVENT_INVOICE_ADJUSTED);
    Creance__InvoiceAdjusted ia = CREANCE__INVOICE_ADJUSTED__INIT;
    ia.new_amount = money(&f, 0, 12000, "EUR");
    ia.old_amount = money(&f, 1, 9000, "EUR");
    ia.open_amount = money(&f, 2, 9000, "EUR");
    ia.old_open_amount = money(&f, 3, 6000, "EUR");
    f.ev.invoice_adjusted = ia;
    map_ok(&f, &d);
    assert_int_equal(d.n, 1);
    assert_string_equal(d.d[0].currency, "EUR");
    assert_int_equal(d.d[0].invoiced, 3000);
    assert_int_equal(d.d[0].outstanding, 3000);
    assert_int_equal(d.d[0].invoice_count, 0);
    /*  Lowered: both go down. */
    f.ev.invoice_adjusted.new_amount = money(&f, 0, 4000, "EUR");
    f.ev.invoice_adjusted.open_amount = money(&f, 2, 1000, "EUR");
    map_ok(&f, &d);
    assert_int_equal(d.d[0].invoiced, -5000);
    assert_int_equal(d.d[0].outstanding, -5000);
    /*  Without the old amounts (an older producer) it is refused. */
    f.ev.invoice_adjusted.old_amount = NULL;
    map_refused(&f, "invoice_adjusted.old_amount", "missing");
    f.ev.invoice_adjusted.old_amount = money(&f, 1, 9000, "USD");
    map_refused(&f, "invoice_adjusted.old_amount", "currency_mismatch");
}

static void test_bad_amounts_refused(void **state)
{
    fixture_t f;
    invoice_issued(&f, 100, "EUR");
    f.ev.invoice_issued.amount = NULL;
    map_refused(&f, "invoice_issued.amount", "missing");

    invoice_issued(&f, 100, "EUX");
    map_refused(&f, "invoice_issued.amount", "unknown_currency");
    invoice_issued(&f, 100, "eur");
    map_refused(&f, "invoice_issued.amount", "unknown_currency");
    invoice_issued(&f, 100, "");
    map_refused(&f, "invoice_issued.amount", "unknown_currency");

    invoice_issued(&f, 0, "EUR");
    map_refused(&f, "invoice_issued.amount", "not_positive");
    invoice_issued(&f, -5, "EUR");
    map_refused(&f, "invoice_issued.amount", "negative");
    invoice_issued(&f, RPT_MAX_MINOR + 1, "EUR");
    map_refused(&f, "invoice_issued.amount", "too_large");
    invoice_issued(&f, RPT_MAX_MINOR, "EUR");
    rpt_deltas_t d;
    map_ok(&f, &d);
    assert_int_equal(only(&d, "EUR")->invoiced, RPT_MAX_MINOR);

    /*  The oneof case set without its message. */
    invoice_issued(&f, 100, "EUR");
    f.env.invoice_issued = NULL;
    map_refused(&f, "event", "missing");

    /*  A zero allocation is allowed, a negative one is not. */
    env_init(&f, CREANCE__ENVELOPE__EVENT_PAYMENT_ALLOCATED);
    Creance__PaymentAllocated e = CREANCE__PAYMENT_ALLOCATED__INIT;
    const int64_t minor[] = { 0, -1 };
    const char *const cur[] = { "EUR", "EUR" };
    e.n_allocations = 2;
    e.allocations = allocations(&f, 2, minor, cur);
    f.ev.payment_allocated = e;
    map_refused(&f, "payment_allocated.allocations.amount", "negative");
}

static void test_too_many_currencies(void **state)
{
    fixture_t f;
    env_init(&f, CREANCE__ENVELOPE__EVENT_PAYMENT_ALLOCATED);
    Creance__PaymentAllocated e = CREANCE__PAYMENT_ALLOCATED__INIT;
    const int64_t minor[] = { 1, 1, 1, 1, 1, 1, 1, 1, 1 };
    const char *const cur[] = { "EUR", "USD", "GBP", "CHF", "JPY", "SEK", "NOK", "DKK", "PLN" };
    e.n_allocations = RPT_MAX_CURRENCIES + 1;
    e.allocations = allocations(&f, RPT_MAX_CURRENCIES + 1, minor, cur);
    f.ev.payment_allocated = e;
    map_refused(&f, "payment_allocated.allocations.amount", "too_many_currencies");
}

/*  Folds deltas the way the upsert does, to check a whole story adds up. */
static void fold(rpt_delta_t *total, fixture_t *f)
{
    rpt_deltas_t d;
    map_ok(f, &d);
    for (int i = 0; i < d.n; i++) {
        if (d.d[i].currency[0] && strcmp(d.d[i].currency, "EUR") != 0)
            fail_msg("unexpected currency %s", d.d[i].currency);
        total->invoiced += d.d[i].invoiced;
        total->collected += d.d[i].collected;
        total->outstanding += d.d[i].outstanding;
        total->invoice_count += d.d[i].invoice_count;
        total->payment_count += d.d[i].payment_count;
        total->open_disputes += d.d[i].open_disputes;
    }
}

static void test_story_adds_up(void **state)
{
    rpt_delta_t t;
    memset(&t, 0, sizeof t);
    fixture_t f;

    invoice_issued(&f, 10000, "EUR");               /* invoice A 100.00 */
    fold(&t, &f);
    invoice_issued(&f, 5000, "EUR");                /* invoice B 50.00 */
    fold(&t, &f);

    env_init(&f, CREANCE__ENVELOPE__EVENT_PAYMENT_RECEIVED);
    Creance__PaymentReceived p = CREANCE__PAYMENT_RECEIVED__INIT;
    p.amount = money(&f, 0, 12000, "EUR");          /* 120.00 received */
    f.ev.payment_received = p;
    fold(&t, &f);

    env_init(&f, CREANCE__ENVELOPE__EVENT_PAYMENT_ALLOCATED);
    Creance__PaymentAllocated a = CREANCE__PAYMENT_ALLOCATED__INIT;
    const int64_t minor[] = { 10000, 2000 };        /* A paid, B 20.00 */
    const char *const cur[] = { "EUR", "EUR" };
    a.n_allocations = 2;
    a.allocations = allocations(&f, 2, minor, cur);
    f.ev.payment_allocated = a;
    fold(&t, &f);

    env_init(&f, CREANCE__ENVELOPE__EVENT_DISPUTE_OPENED);
    Creance__DisputeOpened o = CREANCE__DISPUTE_OPENED__INIT;
    o.invoice_id = 11;
    o.amount = money(&f, 0, 3000, "EUR");
    f.ev.dispute_opened = o;
    fold(&t, &f);
    assert_int_equal(t.open_disputes, 1);

    env_init(&f, CREANCE__ENVELOPE__EVENT_WRITTEN_OFF);
    Creance__WrittenOff w = CREANCE__WRITTEN_OFF__INIT;
    w.invoice_id = 11;
    w.amount = money(&f, 0, 3000, "EUR");           /* B's rest written off */
    f.ev.written_off = w;
    fold(&t, &f);

    env_init(&f, CREANCE__ENVELOPE__EVENT_DISPUTE_RESOLVED);
    Creance__DisputeResolved r = CREANCE__DISPUTE_RESOLVED__INIT;
    r.invoice_id = 11;
    f.ev.dispute_resolved = r;
    fold(&t, &f);

    assert_int_equal(t.invoiced, 15000);
    assert_int_equal(t.collected, 12000);
    assert_int_equal(t.outstanding, 0);
    assert_int_equal(t.invoice_count, 2);
    assert_int_equal(t.payment_count, 1);
    assert_int_equal(t.open_disputes, 0);
}

static void test_delta_is_zero(void **state)
{
    rpt_delta_t d;
    memset(&d, 0, sizeof d);
    assert_true(rpt_delta_is_zero(&d));
    d.open_disputes = -1;
    assert_false(rpt_delta_is_zero(&d));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_invoice_issued),
        cmocka_unit_test(test_payment_received),
        cmocka_unit_test(test_payment_allocated_sums_per_currency),
        cmocka_unit_test(test_payment_allocated_empty_is_noop),
        cmocka_unit_test(test_payment_reversed),
        cmocka_unit_test(test_invoice_cancelled),
        cmocka_unit_test(test_credit_note_and_write_off),
        cmocka_unit_test(test_disputes),
        cmocka_unit_test(test_other_events_change_nothing),
        cmocka_unit_test(test_invoice_adjusted),
        cmocka_unit_test(test_bad_amounts_refused),
        cmocka_unit_test(test_too_many_currencies),
        cmocka_unit_test(test_story_adds_up),
        cmocka_unit_test(test_delta_is_zero),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
