/*  Unit tests of services/intake/validate: every rule, the boundaries of
    the size limits and the strict UTF-8 validator. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../services/intake/validate.h"

/* ------------------------------------------------------------ fixtures */

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

/*  A string of `n` copies of `c` (freed by the caller). */
static char *s_fill(size_t n, char c)
{
    char *s = malloc(n + 1);
    memset(s, c, n);
    s[n] = 0;
    return s;
}

#define ASSERT_REJECTS(call, want_key, want_field) do {             \
        intake_error_t e_;                                          \
        memset(&e_, 0, sizeof e_);                                  \
        assert_false(call(&e_));                                    \
        assert_string_equal(e_.key, want_key);                      \
        assert_string_equal(e_.field, want_field);                  \
        assert_true(intake_utf8_valid(e_.reason, strlen(e_.reason), NULL)); \
        assert_true(strlen(e_.reason) > 0);                         \
    } while (0)

/* ---------------------------------------------------------------- UTF-8 */

static void test_utf8_valid(void **state)
{
    const char *ok[] = {
        "", "plain ascii", "caf\xc3\xa9",                  /* é, 2 bytes */
        "\xe2\x82\xac 12",                                 /* €, 3 bytes */
        "\xf0\x9f\x92\xb6",                                /* U+1F4B6, 4 bytes */
        "\xf4\x8f\xbf\xbf",                                /* U+10FFFF, the last */
        "\xed\x9f\xbf",                                    /* U+D7FF, before surrogates */
        "\xee\x80\x80",                                    /* U+E000, after surrogates */
        "\xc2\x80", "\xdf\xbf", "\xe0\xa0\x80", "\xf0\x90\x80\x80",  /* smallest of each length */
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        assert_true(intake_utf8_valid(ok[i], strlen(ok[i]), NULL));
}

static void test_utf8_invalid(void **state)
{
    struct { const char *s; size_t bad_at; } bad[] = {
        { "\x80", 0 },                      /* stray continuation */
        { "ab\xbf", 2 },
        { "\xc0\x80", 0 },                  /* overlong NUL */
        { "\xc1\xbf", 0 },                  /* overlong 2-byte */
        { "\xe0\x80\x80", 0 },              /* overlong 3-byte */
        { "\xe0\x9f\xbf", 0 },              /* overlong U+07FF */
        { "\xf0\x80\x80\x80", 0 },          /* overlong 4-byte */
        { "\xf0\x8f\xbf\xbf", 0 },          /* overlong U+FFFF */
        { "x\xed\xa0\x80", 1 },             /* surrogate U+D800 */
        { "\xed\xbf\xbf", 0 },              /* surrogate U+DFFF */
        { "\xf4\x90\x80\x80", 0 },          /* U+110000 */
        { "\xf5\x80\x80\x80", 0 },          /* lead byte past U+10FFFF */
        { "\xff", 0 },
        { "\xfe", 0 },
        { "abc\xc3", 3 },                   /* truncated 2-byte */
        { "\xe2\x82", 0 },                  /* truncated 3-byte */
        { "\xf0\x9f\x92", 0 },              /* truncated 4-byte */
        { "\xc3\x28", 0 },                  /* bad continuation */
        { "\xe2\x28\xa1", 0 },
        { "ok \xc3\xa9 then \xe9t\xc3", 11 },   /* Latin-1 é inside UTF-8 text */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        size_t at = 999;
        assert_false(intake_utf8_valid(bad[i].s, strlen(bad[i].s), &at));
        assert_int_equal(at, bad[i].bad_at);
    }
}

/* ----------------------------------------------------------------- text */

static void test_text_rules(void **state)
{
    intake_error_t e;
    assert_true(intake_check_text("f", "", 10, false, &e));
    assert_true(intake_check_text("f", NULL, 10, false, &e));
    assert_false(intake_check_text("f", "", 10, true, &e));
    assert_string_equal(e.key, "missing_field");
    assert_string_equal(e.reason, "missing");
    assert_false(intake_check_text("name", "a\xff", 10, true, &e));
    assert_string_equal(e.key, "bad_utf8");
    assert_string_equal(e.field, "name");
    assert_string_equal(e.reason, "not valid UTF-8 (at byte 1)");

    char *at = s_fill(INTAKE_MAX_ID_BYTES, 'x');
    char *over = s_fill(INTAKE_MAX_ID_BYTES + 1, 'x');
    assert_true(intake_check_text("id", at, INTAKE_MAX_ID_BYTES, true, &e));
    assert_false(intake_check_text("id", over, INTAKE_MAX_ID_BYTES, true, &e));
    assert_string_equal(e.key, "too_long");
    assert_string_equal(e.reason, "too long: 257 bytes, the limit is 256");
    free(at);
    free(over);

    /* The limit is in bytes: 128 two-byte characters fit 256, one more does not. */
    char buf[600] = "";
    for (int i = 0; i < 128; i++)
        strcat(buf, "\xc3\xa9");
    assert_true(intake_check_text("id", buf, INTAKE_MAX_ID_BYTES, true, &e));
    strcat(buf, "\xc3\xa9");
    assert_false(intake_check_text("id", buf, INTAKE_MAX_ID_BYTES, true, &e));
    assert_string_equal(e.key, "too_long");
}

static void test_fail_keeps_utf8_whole(void **state)
{
    /* A reason cut by its buffer must not end in half a character. */
    char *big = malloc(2000);
    big[0] = 0;
    for (int i = 0; i < 600; i++)
        strcat(big, "\xe2\x82\xac");        /* 3 bytes each: the cut falls inside one */
    intake_error_t e;
    assert_false(intake_fail(&e, "k", "field", "x%s", big));
    assert_true(strlen(e.reason) < sizeof e.reason);
    assert_true(intake_utf8_valid(e.reason, strlen(e.reason), NULL));
    assert_int_equal((strlen(e.reason) - 1) % 3, 0);
    free(big);
}

/* ---------------------------------------------------------- dates, money */

static void test_dates(void **state)
{
    intake_error_t e;
    int32_t days = -1;
    Creance__Date d = s_date(2024, 2, 29);
    assert_true(intake_check_date("issue_date", &d, true, &days, &e));
    assert_int_equal(days, 19782);
    assert_true(intake_check_date("x", NULL, false, NULL, &e));
    assert_false(intake_check_date("issue_date", NULL, true, NULL, &e));
    assert_string_equal(e.key, "missing_field");
    assert_string_equal(e.field, "issue_date");

    Creance__Date bad[] = { s_date(2023, 2, 29), s_date(2024, 13, 1), s_date(2024, 4, 31),
                            s_date(2024, 0, 10), s_date(2024, 1, 0) };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_false(intake_check_date("due_date", &bad[i], true, NULL, &e));
        assert_string_equal(e.key, "bad_date");
        assert_string_equal(e.field, "due_date");
    }
    Creance__Date early = s_date(1899, 12, 31), late = s_date(3000, 1, 1);
    Creance__Date first = s_date(1900, 1, 1), last = s_date(2999, 12, 31);
    assert_false(intake_check_date("d", &early, true, NULL, &e));
    assert_string_equal(e.key, "bad_date");
    assert_false(intake_check_date("d", &late, true, NULL, &e));
    assert_true(intake_check_date("d", &first, true, NULL, &e));
    assert_true(intake_check_date("d", &last, true, NULL, &e));
}

static void test_money(void **state)
{
    intake_error_t e;
    Creance__Money ok = s_money(1, "EUR"), jpy = s_money(100, "JPY");
    assert_true(intake_check_money("amount", &ok, false, &e));
    assert_true(intake_check_money("amount", &jpy, false, &e));
    assert_false(intake_check_money("amount", NULL, false, &e));
    assert_string_equal(e.key, "missing_field");
    assert_string_equal(e.field, "amount");

    Creance__Money zero = s_money(0, "EUR"), neg = s_money(-5, "EUR");
    assert_false(intake_check_money("amount", &zero, false, &e));
    assert_string_equal(e.key, "bad_amount");
    assert_string_equal(e.field, "amount.minor");
    assert_true(intake_check_money("credit_limit", &zero, true, &e));
    assert_false(intake_check_money("amount", &neg, true, &e));
    assert_string_equal(e.reason, "must be at least 0 (got -5)");

    Creance__Money xyz = s_money(10, "XYZ"), lower = s_money(10, "eur"), none = s_money(10, "");
    assert_false(intake_check_money("amount", &xyz, false, &e));
    assert_string_equal(e.key, "unknown_currency");
    assert_string_equal(e.field, "amount.currency");
    assert_non_null(strstr(e.reason, "'XYZ'"));
    assert_false(intake_check_money("amount", &lower, false, &e));
    assert_string_equal(e.key, "unknown_currency");
    assert_false(intake_check_money("amount", &none, false, &e));
    assert_string_equal(e.key, "missing_field");
    assert_string_equal(e.field, "amount.currency");
    /* An unprintable code is not echoed into the reply. */
    Creance__Money junk = s_money(10, "E\xffR");
    assert_false(intake_check_money("amount", &junk, false, &e));
    assert_null(strchr(e.reason, '\xff'));
}

static void test_country(void **state)
{
    intake_error_t e;
    assert_true(intake_check_country("country", "FR", &e));
    assert_true(intake_check_country("country", "", &e));
    const char *bad[] = { "fr", "FRA", "F", "F1", "France" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_false(intake_check_country("country", bad[i], &e));
        assert_string_equal(e.key, "bad_value");
    }
}

/* --------------------------------------------------------------- debtor */

typedef struct {
    Creance__DebtorFact f;
    Creance__PostalAddress addr;
    Creance__Money limit;
} debtor_fx_t;

static void s_debtor(debtor_fx_t *x)
{
    creance__debtor_fact__init(&x->f);
    creance__postal_address__init(&x->addr);
    x->f.external_id = "D-1";
    x->f.legal_name = "Boulangerie Dupont SARL";
    x->f.country = "FR";
    x->f.kind = CREANCE__DEBTOR_KIND__BUSINESS;
    x->addr.line1 = "12 rue de la Paix";
    x->addr.city = "Paris";
    x->addr.country = "FR";
    x->f.address = &x->addr;
    x->limit = s_money(500000, "EUR");
    x->f.credit_limit = &x->limit;
    x->f.payment_terms_days = 30;
}

static debtor_fx_t D;
static bool v_debtor(intake_error_t *e) { return intake_validate_debtor(&D.f, e); }

static void test_debtor(void **state)
{
    intake_error_t e;
    s_debtor(&D);
    assert_true(intake_validate_debtor(&D.f, &e));

    D.f.legal_name = "";
    ASSERT_REJECTS(v_debtor, "missing_field", "legal_name");
    s_debtor(&D);
    D.f.external_id = "";
    ASSERT_REJECTS(v_debtor, "missing_field", "external_id");
    s_debtor(&D);
    D.f.legal_name = "Soci\xe9t\xe9";               /* Latin-1 */
    ASSERT_REJECTS(v_debtor, "bad_utf8", "legal_name");
    s_debtor(&D);
    D.f.kind = 7;
    ASSERT_REJECTS(v_debtor, "bad_value", "kind");
    s_debtor(&D);
    D.f.country = "fr";
    ASSERT_REJECTS(v_debtor, "bad_value", "country");
    s_debtor(&D);
    D.f.payment_terms_days = -1;
    ASSERT_REJECTS(v_debtor, "bad_value", "payment_terms_days");
    s_debtor(&D);
    D.limit = s_money(100, "ZZZ");
    ASSERT_REJECTS(v_debtor, "unknown_currency", "credit_limit.currency");
    s_debtor(&D);
    D.limit = s_money(-1, "EUR");
    ASSERT_REJECTS(v_debtor, "bad_amount", "credit_limit.minor");

    /* All figures in one currency. */
    s_debtor(&D);
    Creance__Money assets = s_money(100, "USD");
    D.f.current_assets = &assets;
    ASSERT_REJECTS(v_debtor, "currency_mismatch", "current_assets.currency");
    assets = s_money(100, "EUR");
    assert_true(intake_validate_debtor(&D.f, &e));

    /* Address lines: 1024 bytes; other address fields: 256. */
    s_debtor(&D);
    char *line = s_fill(INTAKE_MAX_LINE_BYTES, 'a');
    D.addr.line1 = line;
    assert_true(intake_validate_debtor(&D.f, &e));
    free(line);
    line = s_fill(INTAKE_MAX_LINE_BYTES + 1, 'a');
    D.addr.line2 = line;
    D.addr.line1 = "";
    ASSERT_REJECTS(v_debtor, "too_long", "address.line2");
    intake_validate_debtor(&D.f, &e);
    assert_non_null(strstr(e.reason, "1024"));
    free(line);
    s_debtor(&D);
    char *city = s_fill(INTAKE_MAX_ID_BYTES + 1, 'c');
    D.addr.city = city;
    ASSERT_REJECTS(v_debtor, "too_long", "address.city");
    free(city);
    s_debtor(&D);
    D.addr.country = "XXX";
    ASSERT_REJECTS(v_debtor, "bad_value", "address.country");
    s_debtor(&D);
    char *name = s_fill(INTAKE_MAX_ID_BYTES, 'n');
    D.f.legal_name = name;
    assert_true(intake_validate_debtor(&D.f, &e));
    free(name);
    name = s_fill(INTAKE_MAX_ID_BYTES + 1, 'n');
    D.f.legal_name = name;
    ASSERT_REJECTS(v_debtor, "too_long", "legal_name");
    free(name);
    /* Optional parts absent. */
    s_debtor(&D);
    D.f.address = NULL;
    D.f.credit_limit = NULL;
    D.f.country = "";
    D.f.kind = 0;
    D.f.payment_terms_days = 0;
    assert_true(intake_validate_debtor(&D.f, &e));
}

/* -------------------------------------------------------------- invoice */

typedef struct {
    Creance__InvoiceFact f;
    Creance__Date issue, due;
    Creance__Money amount;
} invoice_fx_t;

static invoice_fx_t I;

static void s_invoice(invoice_fx_t *x)
{
    creance__invoice_fact__init(&x->f);
    x->f.external_id = "F-2024-001";
    x->f.debtor_external_id = "D-1";
    x->f.number = "2024-001";
    x->issue = s_date(2024, 3, 1);
    x->due = s_date(2024, 3, 31);
    x->amount = s_money(120000, "EUR");
    x->f.issue_date = &x->issue;
    x->f.due_date = &x->due;
    x->f.amount = &x->amount;
    x->f.terms_days = 30;
}

static bool v_invoice(intake_error_t *e) { return intake_validate_invoice(&I.f, e); }

static void test_invoice(void **state)
{
    intake_error_t e;
    s_invoice(&I);
    assert_true(intake_validate_invoice(&I.f, &e));

    I.f.external_id = "";
    ASSERT_REJECTS(v_invoice, "missing_field", "external_id");
    s_invoice(&I);
    I.f.debtor_external_id = "";
    ASSERT_REJECTS(v_invoice, "missing_field", "debtor_external_id");
    s_invoice(&I);
    I.f.number = "";
    ASSERT_REJECTS(v_invoice, "missing_field", "number");
    s_invoice(&I);
    I.f.issue_date = NULL;
    ASSERT_REJECTS(v_invoice, "missing_field", "issue_date");
    s_invoice(&I);
    I.f.due_date = NULL;
    ASSERT_REJECTS(v_invoice, "missing_field", "due_date");
    s_invoice(&I);
    I.due = s_date(2024, 2, 30);
    ASSERT_REJECTS(v_invoice, "bad_date", "due_date");
    s_invoice(&I);
    I.f.amount = NULL;
    ASSERT_REJECTS(v_invoice, "missing_field", "amount");
    s_invoice(&I);
    I.amount = s_money(0, "EUR");
    ASSERT_REJECTS(v_invoice, "bad_amount", "amount.minor");
    I.amount = s_money(-100, "EUR");
    ASSERT_REJECTS(v_invoice, "bad_amount", "amount.minor");
    I.amount = s_money(100, "EUX");
    ASSERT_REJECTS(v_invoice, "unknown_currency", "amount.currency");
    s_invoice(&I);
    I.f.terms_days = -3;
    ASSERT_REJECTS(v_invoice, "bad_value", "terms_days");
    s_invoice(&I);
    I.f.number = "N\xc3";
    ASSERT_REJECTS(v_invoice, "bad_utf8", "number");

    /* due_date before issue_date; the same day is fine. */
    s_invoice(&I);
    I.due = s_date(2024, 2, 29);
    ASSERT_REJECTS(v_invoice, "due_before_issue", "due_date");
    v_invoice(&e);
    assert_string_equal(e.reason, "2024-02-29 is before issue_date 2024-03-01");
    I.due = s_date(2024, 3, 1);
    assert_true(intake_validate_invoice(&I.f, &e));
}

/* -------------------------------------------------------------- payment */

typedef struct {
    Creance__PaymentFact f;
    Creance__Date received;
    Creance__Money amount;
    char *names[3];
} payment_fx_t;

static payment_fx_t P;

static void s_payment(payment_fx_t *x)
{
    creance__payment_fact__init(&x->f);
    x->f.external_id = "PAY-1";
    x->f.debtor_external_id = "D-1";
    x->received = s_date(2024, 4, 2);
    x->amount = s_money(50000, "EUR");
    x->f.received_date = &x->received;
    x->f.amount = &x->amount;
    x->f.method = "transfer";
    x->names[0] = "F-1";
    x->names[1] = "F-2";
    x->f.invoice_external_ids = x->names;
    x->f.n_invoice_external_ids = 2;
}

static bool v_payment(intake_error_t *e) { return intake_validate_payment(&P.f, e); }

static void test_payment(void **state)
{
    intake_error_t e;
    s_payment(&P);
    assert_true(intake_validate_payment(&P.f, &e));
    P.f.n_invoice_external_ids = 0;
    assert_true(intake_validate_payment(&P.f, &e));

    s_payment(&P);
    P.f.external_id = "";
    ASSERT_REJECTS(v_payment, "missing_field", "external_id");
    s_payment(&P);
    P.f.debtor_external_id = "";
    ASSERT_REJECTS(v_payment, "missing_field", "debtor_external_id");
    s_payment(&P);
    P.f.received_date = NULL;
    ASSERT_REJECTS(v_payment, "missing_field", "received_date");
    s_payment(&P);
    P.amount = s_money(0, "EUR");
    ASSERT_REJECTS(v_payment, "bad_amount", "amount.minor");
    s_payment(&P);
    P.amount = s_money(10, "EURO");
    ASSERT_REJECTS(v_payment, "unknown_currency", "amount.currency");
    s_payment(&P);
    P.names[1] = "";
    ASSERT_REJECTS(v_payment, "missing_field", "invoice_external_ids[1]");
    s_payment(&P);
    char *id = s_fill(INTAKE_MAX_ID_BYTES + 1, 'i');
    P.names[0] = id;
    ASSERT_REJECTS(v_payment, "too_long", "invoice_external_ids[0]");
    free(id);
    s_payment(&P);
    char *method = s_fill(INTAKE_MAX_ID_BYTES + 1, 'm');
    P.f.method = method;
    ASSERT_REJECTS(v_payment, "too_long", "method");
    free(method);
}

/* -------------------------------------------------------------- dispute */

typedef struct {
    Creance__DisputeFact f;
    Creance__Date opened, resolved;
    Creance__Money amount;
} dispute_fx_t;

static dispute_fx_t X;

static void s_dispute(dispute_fx_t *x, bool resolve)
{
    creance__dispute_fact__init(&x->f);
    x->f.external_id = "DSP-1";
    x->opened = s_date(2024, 4, 10);
    x->resolved = s_date(2024, 5, 10);
    if (resolve) {
        x->f.resolve = 1;
        x->f.outcome = "settled";
        x->f.resolved_date = &x->resolved;
    }
    else {
        x->f.invoice_external_id = "F-1";
        x->f.reason = "goods damaged";
        x->f.opened_date = &x->opened;
    }
}

static bool v_dispute(intake_error_t *e) { return intake_validate_dispute(&X.f, e); }

static void test_dispute_open(void **state)
{
    intake_error_t e;
    s_dispute(&X, false);
    assert_true(intake_validate_dispute(&X.f, &e));            /* no amount: whole open */
    X.amount = s_money(0, "");
    X.f.amount = &X.amount;
    assert_true(intake_validate_dispute(&X.f, &e));            /* zero: whole open */
    X.amount = s_money(1000, "EUR");
    assert_true(intake_validate_dispute(&X.f, &e));
    X.amount = s_money(-1, "EUR");
    ASSERT_REJECTS(v_dispute, "bad_amount", "amount.minor");
    X.amount = s_money(1000, "QQQ");
    ASSERT_REJECTS(v_dispute, "unknown_currency", "amount.currency");

    s_dispute(&X, false);
    X.f.invoice_external_id = "";
    ASSERT_REJECTS(v_dispute, "missing_field", "invoice_external_id");
    s_dispute(&X, false);
    X.f.opened_date = NULL;
    ASSERT_REJECTS(v_dispute, "missing_field", "opened_date");
    s_dispute(&X, false);
    X.f.external_id = "";
    ASSERT_REJECTS(v_dispute, "missing_field", "external_id");
    s_dispute(&X, false);
    char *reason = s_fill(INTAKE_MAX_LINE_BYTES, 'r');
    X.f.reason = reason;
    assert_true(intake_validate_dispute(&X.f, &e));
    free(reason);
    reason = s_fill(INTAKE_MAX_LINE_BYTES + 1, 'r');
    X.f.reason = reason;
    ASSERT_REJECTS(v_dispute, "too_long", "reason");
    free(reason);
}

static void test_dispute_resolve(void **state)
{
    intake_error_t e;
    s_dispute(&X, true);
    assert_true(intake_validate_dispute(&X.f, &e));
    X.f.outcome = "upheld";
    assert_true(intake_validate_dispute(&X.f, &e));
    X.f.outcome = "won";
    ASSERT_REJECTS(v_dispute, "bad_value", "outcome");
    X.f.outcome = "";
    ASSERT_REJECTS(v_dispute, "missing_field", "outcome");
    s_dispute(&X, true);
    X.f.resolved_date = NULL;
    ASSERT_REJECTS(v_dispute, "missing_field", "resolved_date");
    s_dispute(&X, true);
    X.f.external_id = "";
    ASSERT_REJECTS(v_dispute, "missing_field", "external_id");
}

/* ---------------------------------------------------------- item, batch */

static void test_item(void **state)
{
    intake_error_t e;
    Creance__IntakeItem item = CREANCE__INTAKE_ITEM__INIT;
    assert_false(intake_validate_item(&item, &e));
    assert_string_equal(e.key, "empty_item");
    assert_string_equal(e.field, "fact");
    assert_null(intake_item_kind(&item));
    assert_null(intake_item_external_id(&item));

    s_invoice(&I);
    item.fact_case = CREANCE__INTAKE_ITEM__FACT_INVOICE;
    item.invoice = &I.f;
    assert_true(intake_validate_item(&item, &e));
    assert_string_equal(intake_item_kind(&item), "invoice");
    assert_string_equal(intake_item_external_id(&item), "F-2024-001");
    I.f.amount = NULL;
    assert_false(intake_validate_item(&item, &e));
    assert_string_equal(e.field, "amount");

    s_debtor(&D);
    item.fact_case = CREANCE__INTAKE_ITEM__FACT_DEBTOR;
    item.debtor = &D.f;
    assert_string_equal(intake_item_kind(&item), "debtor");
    s_payment(&P);
    item.fact_case = CREANCE__INTAKE_ITEM__FACT_PAYMENT;
    item.payment = &P.f;
    assert_string_equal(intake_item_kind(&item), "payment");
    assert_string_equal(intake_item_external_id(&item), "PAY-1");
    s_dispute(&X, false);
    item.fact_case = CREANCE__INTAKE_ITEM__FACT_DISPUTE;
    item.dispute = &X.f;
    assert_string_equal(intake_item_kind(&item), "dispute");
    X.f.resolve = 1;
    assert_string_equal(intake_item_kind(&item), "dispute_resolution");
}

static void test_batch(void **state)
{
    intake_error_t e;
    Creance__IntakeItem items[3], *ptrs[3];
    for (int i = 0; i < 3; i++) {
        creance__intake_item__init(&items[i]);
        ptrs[i] = &items[i];
    }
    Creance__IntakeBatch b = CREANCE__INTAKE_BATCH__INIT;
    b.tenant = "acme";
    b.source = "erp";
    b.batch_id = "b-1";
    b.items = ptrs;
    b.n_items = 3;
    assert_true(intake_validate_batch(&b, 3, &e));
    assert_false(intake_validate_batch(&b, 2, &e));
    assert_string_equal(e.key, "too_many_items");
    assert_string_equal(e.field, "items");
    assert_non_null(strstr(e.reason, "limit is 2"));

    b.tenant = "";
    assert_false(intake_validate_batch(&b, 10, &e));
    assert_string_equal(e.field, "tenant");
    assert_string_equal(e.key, "missing_field");
    b.tenant = "ac\xffme";
    assert_false(intake_validate_batch(&b, 10, &e));
    assert_string_equal(e.key, "bad_utf8");
    b.tenant = "acme";
    b.source = "";
    assert_false(intake_validate_batch(&b, 10, &e));
    assert_string_equal(e.field, "source");
    b.source = "erp";
    char *id = s_fill(INTAKE_MAX_ID_BYTES + 1, 'b');
    b.batch_id = id;
    assert_false(intake_validate_batch(&b, 10, &e));
    assert_string_equal(e.field, "batch_id");
    assert_string_equal(e.key, "too_long");
    free(id);
    b.batch_id = "";                                /* optional */
    assert_true(intake_validate_batch(&b, 10, &e));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_utf8_valid),
        cmocka_unit_test(test_utf8_invalid),
        cmocka_unit_test(test_text_rules),
        cmocka_unit_test(test_fail_keeps_utf8_whole),
        cmocka_unit_test(test_dates),
        cmocka_unit_test(test_money),
        cmocka_unit_test(test_country),
        cmocka_unit_test(test_debtor),
        cmocka_unit_test(test_invoice),
        cmocka_unit_test(test_payment),
        cmocka_unit_test(test_dispute_open),
        cmocka_unit_test(test_dispute_resolve),
        cmocka_unit_test(test_item),
        cmocka_unit_test(test_batch),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
