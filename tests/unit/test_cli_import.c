/*  Unit tests for services/cli/import: column tables, value parsers, each
    local error with its line and column, the facts built from good lines,
    and the IntakeBatch framing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "creance.pb-c.h"
#include "dates.h"
#include "../../services/cli/import.h"

static import_t *
parse(const char *text, import_kind_t kind)
{
    import_t *imp = import_parse(text, strlen(text), kind);
    assert_non_null(imp);
    return imp;
}

/*  The error at index i is at line:column (name) and its reason has `part`. */
static void
assert_error(const import_t *imp, size_t i, size_t line, size_t column, const char *name,
             const char *part)
{
    assert_true(i < imp->nerrors);
    const import_error_t *e = &imp->errors[i];
    if (e->line != line || e->column != column || strcmp(e->column_name, name) != 0
        || !strstr(e->reason, part))
        fail_msg("error %zu is %zu:%zu (%s): %s; expected %zu:%zu (%s): ...%s...", i, e->line,
                 e->column, e->column_name, e->reason, line, column, name, part);
}

static Creance__IntakeItem *
row_item(const import_t *imp, size_t i)
{
    assert_true(i < imp->nrows);
    Creance__IntakeItem *it = creance__intake_item__unpack(NULL, imp->rows[i].size,
                                                           imp->rows[i].packed);
    assert_non_null(it);
    return it;
}

static int32_t
days(const Creance__Date *d)
{
    int32_t v;
    assert_true(date_from_pb(d, &v));
    return v;
}

/* ------------------------------------------------------------ tables */

static void test_tables_are_consistent(void **state)
{
    const import_kind_t kinds[] = { IMPORT_DEBTORS, IMPORT_INVOICES, IMPORT_PAYMENTS };
    const size_t want[] = { 18, 8, 7 };
    for (size_t k = 0; k < 3; k++) {
        size_t n;
        const import_column_t *cols = import_columns(kinds[k], &n);
        assert_int_equal(n, want[k]);
        assert_string_equal(cols[0].name, "external_id");
        assert_true(cols[0].required);
        for (size_t i = 0; i < n; i++) {
            assert_non_null(cols[i].pb_field);
            assert_true(cols[i].target < IF_COUNT);
            /* Every column maps back to itself from its field name. */
            assert_ptr_equal(import_column_for_field(kinds[k], cols[i].pb_field), &cols[i]);
            for (size_t j = i + 1; j < n; j++)
                assert_true(strcmp(cols[i].name, cols[j].name) != 0);
        }
    }
}

static void test_field_mapping(void **state)
{
    const import_column_t *c = import_column_for_field(IMPORT_INVOICES, "amount.currency");
    assert_non_null(c);
    assert_string_equal(c->name, "currency");
    c = import_column_for_field(IMPORT_INVOICES, "amount.minor");
    assert_string_equal(c->name, "amount");
    c = import_column_for_field(IMPORT_PAYMENTS, "invoice_external_ids[3]");
    assert_string_equal(c->name, "invoice_external_ids");
    c = import_column_for_field(IMPORT_DEBTORS, "address.line1");
    assert_string_equal(c->name, "address_line1");
    c = import_column_for_field(IMPORT_DEBTORS, "current_assets.currency");
    assert_string_equal(c->name, "currency");
    assert_null(import_column_for_field(IMPORT_INVOICES, "fact"));
    assert_null(import_column_for_field(IMPORT_INVOICES, ""));
    assert_null(import_column_for_field(IMPORT_INVOICES, NULL));
}

static void test_kind_names(void **state)
{
    import_kind_t k;
    assert_true(import_kind_parse("invoices", &k));
    assert_int_equal(k, IMPORT_INVOICES);
    assert_true(import_kind_parse("payment", &k));
    assert_int_equal(k, IMPORT_PAYMENTS);
    assert_false(import_kind_parse("Invoices", &k));
    assert_false(import_kind_parse("", &k));
    assert_string_equal(import_kind_name(IMPORT_DEBTORS), "debtors");
}

/* ------------------------------------------------------------ parsers */

static void test_amounts(void **state)
{
    char reason[256];
    int64_t m;
    assert_true(import_parse_amount("1234.50", "EUR", ',', false, &m, reason, sizeof reason));
    assert_int_equal(m, 123450);
    assert_true(import_parse_amount("1234,5", "EUR", ';', false, &m, reason, sizeof reason));
    assert_int_equal(m, 123450);
    assert_true(import_parse_amount("7", "JPY", ',', false, &m, reason, sizeof reason));
    assert_int_equal(m, 7);
    assert_true(import_parse_amount("0", "EUR", ',', true, &m, reason, sizeof reason));
    assert_int_equal(m, 0);
    assert_false(import_parse_amount("0", "EUR", ',', false, &m, reason, sizeof reason));
    assert_non_null(strstr(reason, "more than zero"));
    assert_false(import_parse_amount("-5", "EUR", ',', true, &m, reason, sizeof reason));
    assert_false(import_parse_amount("1,5", "EUR", ',', false, &m, reason, sizeof reason));
    assert_non_null(strstr(reason, "'.'"));
    assert_false(import_parse_amount("1.234,50", "EUR", ';', false, &m, reason, sizeof reason));
    assert_non_null(strstr(reason, "thousands"));
    assert_false(import_parse_amount("1.234", "EUR", ',', false, &m, reason, sizeof reason));
    assert_non_null(strstr(reason, "decimals"));
    assert_false(import_parse_amount("12 €", "EUR", ',', false, &m, reason, sizeof reason));
    assert_false(import_parse_amount("12", "", ',', false, &m, reason, sizeof reason));
    assert_non_null(strstr(reason, "currency"));
    assert_false(import_parse_amount("99999999999999999999", "EUR", ',', false, &m, reason,
                                     sizeof reason));
}

static void test_dates(void **state)
{
    char reason[256];
    int32_t d;
    assert_true(import_parse_date("2024-02-29", &d, reason, sizeof reason));
    assert_int_equal(d, date_to_days(2024, 2, 29));
    assert_true(import_parse_date("31/01/2024", &d, reason, sizeof reason));
    assert_int_equal(d, date_to_days(2024, 1, 31));
    assert_false(import_parse_date("2023-02-29", &d, reason, sizeof reason));
    assert_non_null(strstr(reason, "calendar"));
    assert_false(import_parse_date("01/31/2024", &d, reason, sizeof reason));   /* US order */
    assert_false(import_parse_date("2024-1-5", &d, reason, sizeof reason));
    assert_non_null(strstr(reason, "YYYY-MM-DD"));
    assert_false(import_parse_date("1899-12-31", &d, reason, sizeof reason));
    assert_false(import_parse_date("", &d, reason, sizeof reason));
}

/* ------------------------------------------------------------ good files */

static void test_debtors_file(void **state)
{
    import_t *imp = parse(
        "external_id,legal_name,kind,country,city,credit_limit,current_assets,currency,payment_terms_days\n"
        "D1,\"Dupont, SARL\",business,fr,Lyon,1000.50,0,eur,45\n"
        "D2,Martin,CONSUMER,,,,,,\n", IMPORT_AUTO);
    assert_int_equal(imp->kind, IMPORT_DEBTORS);
    assert_int_equal(imp->nerrors, 0);
    assert_int_equal(imp->records, 2);
    assert_int_equal(imp->nrows, 2);
    assert_int_equal(imp->rows[0].line, 2);
    Creance__IntakeItem *it = row_item(imp, 0);
    assert_int_equal(it->fact_case, CREANCE__INTAKE_ITEM__FACT_DEBTOR);
    Creance__DebtorFact *d = it->debtor;
    assert_string_equal(d->external_id, "D1");
    assert_string_equal(d->legal_name, "Dupont, SARL");
    assert_int_equal(d->kind, CREANCE__DEBTOR_KIND__BUSINESS);
    assert_string_equal(d->country, "FR");
    assert_non_null(d->address);
    assert_string_equal(d->address->city, "Lyon");
    assert_int_equal(d->credit_limit->minor, 100050);
    assert_string_equal(d->credit_limit->currency, "EUR");
    assert_int_equal(d->current_assets->minor, 0);
    assert_null(d->current_liabilities);
    assert_int_equal(d->payment_terms_days, 45);
    creance__intake_item__free_unpacked(it, NULL);
    it = row_item(imp, 1);
    assert_int_equal(it->debtor->kind, CREANCE__DEBTOR_KIND__CONSUMER);
    assert_null(it->debtor->address);
    assert_null(it->debtor->credit_limit);
    creance__intake_item__free_unpacked(it, NULL);
    import_destroy(&imp);
    assert_null(imp);
}

static void test_invoices_semicolon_file(void **state)
{
    /* A French Excel export: BOM, ';', decimal comma, DD/MM/YYYY, CRLF. */
    import_t *imp = parse("\xEF\xBB\xBF" "external_id;debtor_external_id;number;issue_date;due_date;amount;currency\r\n"
                          "F1;D1;FA-001;15/01/2024;2024-02-14;1234,50;EUR\r\n", IMPORT_AUTO);
    assert_int_equal(imp->kind, IMPORT_INVOICES);
    assert_int_equal(imp->sep, ';');
    assert_int_equal(imp->nerrors, 0);
    Creance__IntakeItem *it = row_item(imp, 0);
    Creance__InvoiceFact *f = it->invoice;
    assert_string_equal(f->number, "FA-001");
    assert_int_equal(days(f->issue_date), date_to_days(2024, 1, 15));
    assert_int_equal(days(f->due_date), date_to_days(2024, 2, 14));
    assert_int_equal(f->amount->minor, 123450);
    assert_int_equal(f->terms_days, 0);
    creance__intake_item__free_unpacked(it, NULL);
    import_destroy(&imp);
}

static void test_payments_file(void **state)
{
    import_t *imp = parse("external_id,debtor_external_id,received_date,amount,currency,method,invoice_external_ids\n"
                          "P1,D1,2024-03-01,100,EUR,transfer, F1 | F2 \n"
                          "P2,D1,2024-03-02,5.5,EUR,,\n", IMPORT_AUTO);
    assert_int_equal(imp->kind, IMPORT_PAYMENTS);
    assert_int_equal(imp->nerrors, 0);
    Creance__IntakeItem *it = row_item(imp, 0);
    assert_int_equal(it->payment->n_invoice_external_ids, 2);
    assert_string_equal(it->payment->invoice_external_ids[0], "F1");
    assert_string_equal(it->payment->invoice_external_ids[1], "F2");
    assert_int_equal(it->payment->amount->minor, 10000);
    creance__intake_item__free_unpacked(it, NULL);
    it = row_item(imp, 1);
    assert_int_equal(it->payment->n_invoice_external_ids, 0);
    assert_int_equal(it->payment->amount->minor, 550);
    creance__intake_item__free_unpacked(it, NULL);
    import_destroy(&imp);
}

static void test_header_case_and_order(void **state)
{
    import_t *imp = parse("Currency, AMOUNT ,due_date,issue_date,number,debtor_external_id,external_id\n"
                          "EUR,10,2024-02-01,2024-01-01,N,D,F\n", IMPORT_INVOICES);
    assert_int_equal(imp->nerrors, 0);
    assert_int_equal(imp->position[IF_CURRENCY], 1);
    assert_int_equal(imp->position[IF_EXTERNAL_ID], 7);
    Creance__IntakeItem *it = row_item(imp, 0);
    assert_int_equal(it->invoice->amount->minor, 1000);
    creance__intake_item__free_unpacked(it, NULL);
    import_destroy(&imp);
}

/* ------------------------------------------------------------ errors, one kind each */

#define INVOICE_HEADER "external_id,debtor_external_id,number,issue_date,due_date,amount,currency\n"

static void test_bad_date(void **state)
{
    import_t *imp = parse(INVOICE_HEADER "F1,D1,N1,2024-13-01,2024-02-01,10,EUR\n", IMPORT_INVOICES);
    assert_int_equal(imp->nerrors, 1);
    assert_error(imp, 0, 2, 4, "issue_date", "calendar");
    assert_int_equal(imp->nrows, 0);
    assert_int_equal(imp->bad_lines, 1);
    import_destroy(&imp);
}

static void test_bad_amount(void **state)
{
    import_t *imp = parse(INVOICE_HEADER "F1,D1,N1,2024-01-01,2024-02-01,12.345,EUR\n"
                          "F2,D1,N2,2024-01-01,2024-02-01,ten,EUR\n", IMPORT_INVOICES);
    assert_int_equal(imp->nerrors, 2);
    assert_error(imp, 0, 2, 6, "amount", "decimals");
    assert_error(imp, 1, 3, 6, "amount", "not a decimal amount");
    import_destroy(&imp);
}

static void test_bad_currency_reported_once(void **state)
{
    import_t *imp = parse(INVOICE_HEADER "F1,D1,N1,2024-01-01,2024-02-01,10,EURO\n", IMPORT_INVOICES);
    assert_int_equal(imp->nerrors, 1);      /* not also at the amount */
    assert_error(imp, 0, 2, 7, "currency", "ISO 4217");
    import_destroy(&imp);
}

static void test_missing_required_value(void **state)
{
    import_t *imp = parse(INVOICE_HEADER "F1,,N1,2024-01-01,2024-02-01,10,EUR\n", IMPORT_INVOICES);
    assert_int_equal(imp->nerrors, 1);
    assert_error(imp, 0, 2, 2, "debtor_external_id", "required value is empty");
    import_destroy(&imp);
}

static void test_short_line_is_missing_values(void **state)
{
    import_t *imp = parse(INVOICE_HEADER "F1,D1,N1,2024-01-01\n", IMPORT_INVOICES);
    assert_int_equal(imp->nerrors, 3);
    assert_error(imp, 0, 2, 5, "due_date", "required");
    assert_error(imp, 1, 2, 6, "amount", "required");
    assert_error(imp, 2, 2, 7, "currency", "required");
    import_destroy(&imp);
}

static void test_extra_field(void **state)
{
    import_t *imp = parse(INVOICE_HEADER "F1,D1,N1,2024-01-01,2024-02-01,1,234.50,EUR\n", IMPORT_INVOICES);
    assert_true(imp->nerrors >= 1);
    bool found = false;
    for (size_t i = 0; i < imp->nerrors; i++)
        if (imp->errors[i].column == 8 && strstr(imp->errors[i].reason, "header has 7"))
            found = true;
    assert_true(found);
    assert_int_equal(imp->nrows, 0);
    import_destroy(&imp);
}

static void test_missing_required_column(void **state)
{
    import_t *imp = parse("external_id,debtor_external_id,number,issue_date,amount,currency\n"
                          "F1,D1,N1,2024-01-01,10,EUR\n", IMPORT_INVOICES);
    assert_true(imp->file_refused);
    assert_int_equal(imp->nerrors, 1);
    assert_error(imp, 0, 1, 0, "due_date", "required column missing");
    assert_int_equal(imp->nrows, 0);
    import_destroy(&imp);
}

static void test_unknown_column(void **state)
{
    import_t *imp = parse("external_id,debtor_external_id,number,issue_date,due_date,amount,currency,vat\n"
                          "F1,D1,N1,2024-01-01,2024-02-01,10,EUR,20\n", IMPORT_INVOICES);
    assert_true(imp->file_refused);
    assert_error(imp, 0, 1, 8, "vat", "unknown column");
    assert_non_null(strstr(imp->errors[0].reason, "terms_days"));   /* lists the known ones */
    import_destroy(&imp);
}

static void test_duplicate_column(void **state)
{
    import_t *imp = parse("external_id,legal_name,external_id\nD1,X,D1\n", IMPORT_DEBTORS);
    assert_true(imp->file_refused);
    assert_error(imp, 0, 1, 3, "external_id", "twice");
    import_destroy(&imp);
}

static void test_kind_not_inferable(void **state)
{
    import_t *imp = parse("external_id,amount\nX,1\n", IMPORT_AUTO);
    assert_true(imp->file_refused);
    assert_error(imp, 0, 1, 0, "", "--kind");
    import_destroy(&imp);
}

static void test_empty_file(void **state)
{
    import_t *imp = parse("", IMPORT_AUTO);
    assert_true(imp->file_refused);
    assert_error(imp, 0, 0, 0, "", "empty");
    import_destroy(&imp);
}

static void test_due_before_issue(void **state)
{
    import_t *imp = parse(INVOICE_HEADER "F1,D1,N1,2024-02-01,2024-01-01,10,EUR\n", IMPORT_INVOICES);
    assert_int_equal(imp->nerrors, 1);
    assert_error(imp, 0, 2, 5, "due_date", "before the issue date");
    import_destroy(&imp);
}

static void test_bad_utf8(void **state)
{
    import_t *imp = parse("external_id,legal_name\nD1,Soci\xe9t\xe9\n", IMPORT_DEBTORS);
    assert_int_equal(imp->nerrors, 1);
    assert_error(imp, 0, 2, 2, "legal_name", "UTF-8 at byte 5");
    import_destroy(&imp);
}

static void test_debtor_amount_without_currency(void **state)
{
    import_t *imp = parse("external_id,legal_name,credit_limit,currency\nD1,X,500,\n", IMPORT_DEBTORS);
    assert_int_equal(imp->nerrors, 1);
    assert_error(imp, 0, 2, 3, "credit_limit", "needs a currency");
    import_destroy(&imp);
}

static void test_bad_enum_country_days(void **state)
{
    import_t *imp = parse("external_id,legal_name,kind,country,payment_terms_days\n"
                          "D1,X,company,France,-1\n", IMPORT_DEBTORS);
    assert_int_equal(imp->nerrors, 3);
    assert_error(imp, 0, 2, 3, "kind", "business or consumer");
    assert_error(imp, 1, 2, 4, "country", "two-letter");
    assert_error(imp, 2, 2, 5, "payment_terms_days", "0 to 3650");
    import_destroy(&imp);
}

static void test_empty_id_in_list(void **state)
{
    import_t *imp = parse("external_id,debtor_external_id,received_date,amount,currency,invoice_external_ids\n"
                          "P1,D1,2024-03-01,1,EUR,F1||F2\n", IMPORT_PAYMENTS);
    assert_int_equal(imp->nerrors, 1);
    assert_error(imp, 0, 2, 6, "invoice_external_ids", "id 2");
    import_destroy(&imp);
}

static void test_csv_syntax_error_in_import(void **state)
{
    /* Line 3 has a stray quote; lines 2 and 4 are kept. Errors keep the
       physical line even after a multi-line quoted field. */
    import_t *imp = parse("external_id,legal_name\n"
                          "D1,\"two\nlines\"\n"
                          "D2,Bad\"Quote\n"
                          "D3,Fine\n"
                          "D4,\n", IMPORT_DEBTORS);
    assert_int_equal(imp->records, 4);
    assert_int_equal(imp->nrows, 2);
    assert_int_equal(imp->bad_lines, 2);
    assert_int_equal(imp->rows[0].line, 2);
    assert_int_equal(imp->rows[1].line, 5);
    assert_int_equal(imp->nerrors, 2);
    assert_error(imp, 0, 4, 2, "", "quote inside an unquoted field");
    assert_error(imp, 1, 6, 2, "legal_name", "required");
    import_destroy(&imp);
}

static void test_errors_in_line_then_column_order(void **state)
{
    import_t *imp = parse(INVOICE_HEADER "F1,D1,N1,bad,bad,-1,EUR\nF2,,N2,2024-01-01,2024-02-01,1,EUR\n",
                          IMPORT_INVOICES);
    assert_int_equal(imp->nerrors, 4);
    assert_error(imp, 0, 2, 4, "issue_date", "not a date");
    assert_error(imp, 1, 2, 5, "due_date", "not a date");
    assert_error(imp, 2, 2, 6, "amount", "");
    assert_error(imp, 3, 3, 2, "debtor_external_id", "required");
    import_destroy(&imp);
}

/* ------------------------------------------------------------ framing */

static void test_pack_batch(void **state)
{
    import_t *imp = parse(INVOICE_HEADER
                          "F1,D1,N1,2024-01-01,2024-02-01,10,EUR\n"
                          "F2,D1,N2,2024-01-01,2024-02-01,20,EUR\n"
                          "F3,D1,N3,2024-01-01,2024-02-01,30,EUR\n", IMPORT_INVOICES);
    uint8_t *buf;
    size_t len;
    assert_true(import_pack_batch(imp, 1, 2, "acme", "csv", "b-1", true, &buf, &len));
    Creance__IntakeBatch *b = creance__intake_batch__unpack(NULL, len, buf);
    assert_non_null(b);
    assert_string_equal(b->tenant, "acme");
    assert_string_equal(b->source, "csv");
    assert_string_equal(b->batch_id, "b-1");
    assert_true(b->all_or_nothing);
    assert_int_equal(b->n_items, 2);
    assert_string_equal(b->items[0]->invoice->external_id, "F2");
    assert_int_equal(b->items[1]->invoice->amount->minor, 3000);
    creance__intake_batch__free_unpacked(b, NULL);
    free(buf);
    assert_true(import_pack_batch(imp, 0, 3, "acme", "csv", "b-2", false, &buf, &len));
    b = creance__intake_batch__unpack(NULL, len, buf);
    assert_false(b->all_or_nothing);
    assert_int_equal(b->n_items, 3);
    creance__intake_batch__free_unpacked(b, NULL);
    free(buf);
    import_destroy(&imp);
}

static void test_many_lines(void **state)
{
    /* Enough lines to grow every buffer several times; one bad line. */
    size_t n = 3000, cap = n * 64 + 128, len = 0;
    char *text = malloc(cap);
    len += (size_t) snprintf(text + len, cap - len, INVOICE_HEADER);
    for (size_t i = 0; i < n; i++)
        len += (size_t) snprintf(text + len, cap - len, "F%zu,D1,N%zu,2024-01-01,2024-02-01,%s,EUR\n",
                                 i, i, i == 1234 ? "x" : "1.5");
    import_t *imp = import_parse(text, len, IMPORT_AUTO);
    assert_int_equal(imp->records, n);
    assert_int_equal(imp->nrows, n - 1);
    assert_int_equal(imp->nerrors, 1);
    assert_error(imp, 0, 1236, 6, "amount", "");
    assert_int_equal(imp->rows[n - 2].line, n + 1);
    import_destroy(&imp);
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tables_are_consistent),
        cmocka_unit_test(test_field_mapping),
        cmocka_unit_test(test_kind_names),
        cmocka_unit_test(test_amounts),
        cmocka_unit_test(test_dates),
        cmocka_unit_test(test_debtors_file),
        cmocka_unit_test(test_invoices_semicolon_file),
        cmocka_unit_test(test_payments_file),
        cmocka_unit_test(test_header_case_and_order),
        cmocka_unit_test(test_bad_date),
        cmocka_unit_test(test_bad_amount),
        cmocka_unit_test(test_bad_currency_reported_once),
        cmocka_unit_test(test_missing_required_value),
        cmocka_unit_test(test_short_line_is_missing_values),
        cmocka_unit_test(test_extra_field),
        cmocka_unit_test(test_missing_required_column),
        cmocka_unit_test(test_unknown_column),
        cmocka_unit_test(test_duplicate_column),
        cmocka_unit_test(test_kind_not_inferable),
        cmocka_unit_test(test_empty_file),
        cmocka_unit_test(test_due_before_issue),
        cmocka_unit_test(test_bad_utf8),
        cmocka_unit_test(test_debtor_amount_without_currency),
        cmocka_unit_test(test_bad_enum_country_days),
        cmocka_unit_test(test_empty_id_in_list),
        cmocka_unit_test(test_csv_syntax_error_in_import),
        cmocka_unit_test(test_errors_in_line_then_column_order),
        cmocka_unit_test(test_pack_batch),
        cmocka_unit_test(test_many_lines),
    };
    return cmocka_run_group_tests_name("cli_import", tests, NULL, NULL);
}
