/*  Unit tests: reminders' texts (services/reminders/render, templates):
    amount, date and rate formatting in both languages, the template
    engine (values, loops, sections, escaping, errors), the choice of
    language and every message kind rendered from the same data. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "dates.h"
#include "../../services/reminders/render.h"
#include "../../services/reminders/templates.h"

#define NBSP "\xc2\xa0"

static int32_t D(const char *s)
{
    int32_t d = 0;
    assert_true(date_parse(s, &d));
    return d;
}

/* ------------------------------------------------------------ formatting */

static void money_is(int64_t minor, const char *cur, render_lang_t lang, const char *want)
{
    char out[48];
    assert_true(render_money(minor, cur, lang, out, sizeof out));
    assert_string_equal(out, want);
}

static void test_money_fr(void **state)
{
    money_is(123450, "EUR", RENDER_LANG_FR, "1" NBSP "234,50" NBSP "€");
    money_is(0, "EUR", RENDER_LANG_FR, "0,00" NBSP "€");
    money_is(5, "EUR", RENDER_LANG_FR, "0,05" NBSP "€");
    money_is(99999, "EUR", RENDER_LANG_FR, "999,99" NBSP "€");
    money_is(1234567890, "EUR", RENDER_LANG_FR, "12" NBSP "345" NBSP "678,90" NBSP "€");
    money_is(-4000, "EUR", RENDER_LANG_FR, "-40,00" NBSP "€");
    money_is(7000, "GBP", RENDER_LANG_FR, "70,00" NBSP "£");
    money_is(123450, "CHF", RENDER_LANG_FR, "1" NBSP "234,50" NBSP "CHF");
    money_is(1234, "JPY", RENDER_LANG_FR, "1" NBSP "234" NBSP "JPY");        /* no decimals */
    money_is(1234567, "KWD", RENDER_LANG_FR, "1" NBSP "234,567" NBSP "KWD");  /* three */
}

static void test_money_en(void **state)
{
    money_is(123450, "EUR", RENDER_LANG_EN, "€1,234.50");
    money_is(100000000, "GBP", RENDER_LANG_EN, "£1,000,000.00");
    money_is(100, "USD", RENDER_LANG_EN, "$1.00");
    money_is(-123450, "EUR", RENDER_LANG_EN, "-€1,234.50");
    money_is(123450, "CHF", RENDER_LANG_EN, "CHF" NBSP "1,234.50");
    money_is(1234, "JPY", RENDER_LANG_EN, "JPY" NBSP "1,234");
    /*  The extremes do not overflow. */
    money_is(INT64_MAX, "EUR", RENDER_LANG_EN, "€92,233,720,368,547,758.07");
    money_is(INT64_MIN, "EUR", RENDER_LANG_EN, "-€92,233,720,368,547,758.08");
    char out[48] = "x";
    assert_false(render_money(100, "XYZ", RENDER_LANG_EN, out, sizeof out));
    assert_string_equal(out, "");
}

static void test_dates_rates(void **state)
{
    char out[32];
    render_date(D("2025-08-05"), RENDER_LANG_FR, out, sizeof out);
    assert_string_equal(out, "05/08/2025");
    render_date(D("2025-08-05"), RENDER_LANG_EN, out, sizeof out);
    assert_string_equal(out, "5 Aug 2025");
    render_date_long(D("2025-08-01"), RENDER_LANG_FR, out, sizeof out);
    assert_string_equal(out, "1er août 2025");
    render_date_long(D("2025-12-15"), RENDER_LANG_FR, out, sizeof out);
    assert_string_equal(out, "15 décembre 2025");
    render_date_long(D("2024-02-29"), RENDER_LANG_EN, out, sizeof out);
    assert_string_equal(out, "29 February 2024");
    render_rate(1315, RENDER_LANG_FR, out, sizeof out);
    assert_string_equal(out, "13,15" NBSP "%");
    render_rate(1315, RENDER_LANG_EN, out, sizeof out);
    assert_string_equal(out, "13.15%");
    render_rate(5, RENDER_LANG_EN, out, sizeof out);
    assert_string_equal(out, "0.05%");
    render_rate(-50, RENDER_LANG_EN, out, sizeof out);
    assert_string_equal(out, "-0.50%");
}

static void test_lang_for(void **state)
{
    assert_int_equal(render_lang_for("fr", "BE"), RENDER_LANG_FR);
    assert_int_equal(render_lang_for("fr-CA", "CA"), RENDER_LANG_FR);
    assert_int_equal(render_lang_for("FR", NULL), RENDER_LANG_FR);
    assert_int_equal(render_lang_for("en", "GB"), RENDER_LANG_EN);
    assert_int_equal(render_lang_for("en-US", "US"), RENDER_LANG_EN);
    /*  A French debtor always gets French. */
    assert_int_equal(render_lang_for("en", "FR"), RENDER_LANG_FR);
    /*  Unknown languages fall back to English. */
    assert_int_equal(render_lang_for("de", "DE"), RENDER_LANG_EN);
    assert_int_equal(render_lang_for("fry", "NL"), RENDER_LANG_EN);
    assert_int_equal(render_lang_for(NULL, NULL), RENDER_LANG_EN);
    assert_int_equal(render_lang_for("", ""), RENDER_LANG_EN);
}

static void test_penalties_explain(void **state)
{
    /*  The FR example of the penalties tests, as the letter prints it. */
    penalties_result_t p = { .rules = PENALTIES_RULES_FR, .currency = "EUR", .n_segments = 2,
                             .interest_minor = 48097, .fixed_minor = 4000, .total_minor = 52097 };
    p.seg[0] = (penalties_segment_t) { D("2025-04-01"), D("2025-06-30"), 91, 315, 1000, 1113, 1315, false, 32785 };
    p.seg[1] = (penalties_segment_t) { D("2025-07-01"), D("2025-08-15"), 46, 215, 1000, 1521, 1521, true, 15312 };
    char out[1024];
    render_penalties_explain(&p, RENDER_LANG_FR, out, sizeof out);
    assert_string_equal(out,
        "Intérêts du 01/04/2025 au 30/06/2025, 91 jours à 13,15" NBSP "% (taux BCE 3,15" NBSP "% + 10 points)"
        NBSP ": 327,85" NBSP "€\n"
        "Intérêts du 01/07/2025 au 15/08/2025, 46 jours à 15,21" NBSP "% (3 × taux d'intérêt légal 5,07"
        NBSP "%, plancher)" NBSP ": 153,12" NBSP "€\n"
        "Indemnité forfaitaire pour frais de recouvrement (articles L441-10 et D441-5 du Code de commerce)"
        NBSP ": 40,00" NBSP "€");
    render_penalties_explain(&p, RENDER_LANG_EN, out, sizeof out);
    assert_non_null(strstr(out, "Interest from 1 Apr 2025 to 30 Jun 2025, 91 days at 13.15% (ECB rate 3.15% + 10 points): €327.85"));
    assert_non_null(strstr(out, "Fixed compensation for recovery costs"));
    /*  Truncation keeps a terminated string. */
    size_t n = render_penalties_explain(&p, RENDER_LANG_EN, out, 10);
    assert_int_equal(n, 9);
    assert_int_equal(strlen(out), 9);
}

/* ------------------------------------------------------------ the engine */

static char *R(const char *tmpl, const render_ctx_t *ctx, render_mode_t mode)
{
    char *out = NULL;
    render_error_t err;
    if (render_template(tmpl, ctx, mode, &out, &err) != 0)
        fail_msg("render_template: %s: %s", err.field, err.reason);
    return out;
}

static void expect(const char *tmpl, const render_ctx_t *ctx, render_mode_t mode, const char *want)
{
    char *out = R(tmpl, ctx, mode);
    assert_string_equal(out, want);
    free(out);
}

static void expect_error(const char *tmpl, const render_ctx_t *ctx, const char *field, const char *reason)
{
    char *out = (char *) 1;
    render_error_t err;
    assert_int_equal(render_template(tmpl, ctx, RENDER_TEXT, &out, &err), -1);
    assert_null(out);
    assert_string_equal(err.field, field);
    assert_string_equal(err.reason, reason);
}

static void test_values(void **state)
{
    render_ctx_t *c = render_ctx_new();
    assert_int_equal(render_ctx_set(c, "name", "Dupont & Fils <SARL>"), 0);
    assert_int_equal(render_ctx_setf(c, "n", "%d", 42), 0);
    expect("Hello {{name}}, {{ n }}!", c, RENDER_TEXT, "Hello Dupont & Fils <SARL>, 42!");
    expect("<p>{{name}}</p>", c, RENDER_HTML, "<p>Dupont &amp; Fils &lt;SARL&gt;</p>");
    expect("<p>{{{name}}}</p>", c, RENDER_HTML, "<p>Dupont & Fils <SARL></p>");
    expect("{{! a comment }}x", c, RENDER_TEXT, "x");
    expect("no tags at all", c, RENDER_TEXT, "no tags at all");
    expect("", c, RENDER_TEXT, "");
    /*  Replacing a value. */
    render_ctx_set(c, "n", "7");
    expect("{{n}}", c, RENDER_TEXT, "7");
    char *esc = render_html_escape("\"'&");
    assert_string_equal(esc, "&quot;&#39;&amp;");
    free(esc);
    render_ctx_destroy(&c);
    assert_null(c);
}

static void test_loops(void **state)
{
    render_ctx_t *c = render_ctx_new();
    render_ctx_set(c, "who", "ACME");
    render_ctx_set(c, "number", "outer");
    for (int i = 1; i <= 3; i++) {
        render_ctx_t *it = render_ctx_add(c, "invoices");
        assert_non_null(it);
        render_ctx_setf(it, "number", "F-%d", i);
        render_ctx_t *line = render_ctx_add(it, "lines");
        render_ctx_setf(line, "qty", "%d", i * 10);
    }
    render_ctx_list(c, "empty");
    /*  Items shadow outer values; outer values stay visible inside. */
    expect("{{#invoices}}[{{number}} {{who}}]{{/invoices}} {{number}}", c, RENDER_TEXT,
           "[F-1 ACME][F-2 ACME][F-3 ACME] outer");
    /*  Nested lists. */
    expect("{{#invoices}}{{number}}:{{#lines}}{{qty}}{{/lines}};{{/invoices}}", c, RENDER_TEXT,
           "F-1:10;F-2:20;F-3:30;");
    /*  Empty list, inverted sections. */
    expect("a{{#empty}}X{{/empty}}b{{^empty}}none{{/empty}}", c, RENDER_TEXT, "abnone");
    expect("{{^invoices}}none{{/invoices}}", c, RENDER_TEXT, "");
    /*  A value as a section: shown when non-empty. */
    render_ctx_set(c, "yes", "1");
    render_ctx_set(c, "no", "");
    expect("{{#yes}}Y{{/yes}}{{#no}}N{{/no}}{{^no}}n{{/no}}", c, RENDER_TEXT, "Yn");
    /*  Standalone section lines vanish with their newline. */
    expect("Invoices:\n{{#invoices}}\n  - {{number}}\n{{/invoices}}\nEnd\n", c, RENDER_TEXT,
           "Invoices:\n  - F-1\n  - F-2\n  - F-3\nEnd\n");
    expect("  {{! note }}  \nA\n", c, RENDER_TEXT, "A\n");
    /*  A same-named section nested inside itself closes at the right place. */
    expect("{{#yes}}<{{#yes}}i{{/yes}}>{{/yes}}", c, RENDER_TEXT, "<i>");
    render_ctx_destroy(&c);
}

static void test_errors(void **state)
{
    render_ctx_t *c = render_ctx_new();
    render_ctx_set(c, "name", "x");
    render_ctx_add(c, "items");
    expect_error("Dear {{nmae}},", c, "nmae", "missing variable");
    expect_error("{{#nothing}}x{{/nothing}}", c, "nothing", "missing section");
    expect_error("{{#items}}x", c, "items", "unclosed section");
    expect_error("{{#items}}x{{/name}}", c, "name", "closes a different section");
    expect_error("x{{/items}}", c, "items", "close without an open section");
    expect_error("{{items}}", c, "items", "is a list, not a value");
    expect_error("{{name", c, "{{name", "unclosed tag");
    expect_error("{{}}", c, "{{}}", "empty tag");
    /*  A missing variable inside a loop is reported too. */
    expect_error("{{#items}}{{qty}}{{/items}}", c, "qty", "missing variable");
    render_ctx_destroy(&c);
}

/* ------------------------------------------------------------ messages */

static penalties_result_t s_pen = {
    .rules = PENALTIES_RULES_FR, .currency = "EUR", .n_segments = 1,
    .interest_minor = 32785, .fixed_minor = 4000, .total_minor = 36785 };

static render_invoice_t s_inv[2] = {
    { "F-2025-0042", 0, 0, 1000000, 1000000, "EUR", &s_pen },
    { "F-2025-0077", 0, 0, 250000, 125000, "EUR", NULL },
};

static render_data_t s_data(const char *language, const char *country)
{
    s_inv[0].issue_date = D("2025-03-01");
    s_inv[0].due_date = D("2025-03-31");
    s_inv[1].issue_date = D("2025-04-10");
    s_inv[1].due_date = D("2025-05-10");
    s_pen.seg[0] = (penalties_segment_t) { D("2025-04-01"), D("2025-06-30"), 91, 315, 1000, 1113, 1315, false, 32785 };
    render_data_t d = {
        .creditor = { .name = "Créance Démo SAS", .company_id = "123 456 789", .street = "1 rue de la Paix",
                      .postal_code = "75002", .city = "Paris", .country = "FR" },
        .debtor = { .name = "Société Générale de Bâtiment", .street = "12 avenue Foch",
                    .postal_code = "69006", .city = "Lyon", .country = country, .phone = "+33 4 00 00 00 00" },
        .language = language,
        .place = "Paris",
        .signatory = "Jeanne Martin, credit manager",
        .contact = "relances@creance.example",
        .date = D("2025-08-15"),
        .invoices = s_inv,
        .n_invoices = 2,
        .pay = { .iban = "FR76 3000 6000 0112 3456 7890 189", .bic = "AGRIFRPP", .reference = "CLI-0042" },
        .promise_date = D("2025-09-01"),
        .promise_minor = 50000,
        .instalment_number = 2,
        .instalment_count = 4,
    };
    return d;
}

static void test_every_kind_both_languages(void **state)
{
    const char *langs[2][2] = { { "fr", "FR" }, { "en", "GB" } };
    for (int l = 0; l < 2; l++) {
        render_data_t d = s_data(langs[l][0], langs[l][1]);
        for (int k = 0; k < RENDER_MSG_COUNT; k++) {
            assert_non_null(templates_find(k, RENDER_LANG_FR));
            assert_non_null(templates_find(k, RENDER_LANG_EN));
            render_message_t m;
            render_error_t err;
            if (render_message(k, &d, RENDER_TEXT, &m, &err) != 0)
                fail_msg("%s/%s: %s: %s", render_msg_name(k), langs[l][0], err.field, err.reason);
            assert_int_equal(m.lang, l == 0 ? RENDER_LANG_FR : RENDER_LANG_EN);
            assert_true(strlen(m.subject) > 10);
            assert_null(strchr(m.subject, '\n'));
            assert_null(strstr(m.body, "{{"));
            assert_null(strstr(m.subject, "{{"));
            /*  The creditor is named in every subject or body. */
            assert_true(strstr(m.subject, "Créance Démo SAS") || strstr(m.body, "Créance Démo SAS")
                        || strstr(m.body, "Société Générale de Bâtiment"));
            /*  Dunning kinds list the invoices. */
            if (k != RENDER_MSG_INSTALMENT) {
                assert_non_null(strstr(m.body, "F-2025-0042"));
                assert_non_null(strstr(m.body, "F-2025-0077"));
            }
            render_message_free(&m);
            assert_null(m.body);
        }
    }
}

static void test_formal_notice_fr(void **state)
{
    render_data_t d = s_data("fr", "FR");
    render_message_t m;
    render_error_t err;
    assert_int_equal(render_message(RENDER_MSG_FORMAL_NOTICE, &d, RENDER_TEXT, &m, &err), 0);
    assert_string_equal(m.subject, "Mise en demeure de payer – 11" NBSP "617,85" NBSP "€ – Créance Démo SAS");
    assert_non_null(strstr(m.body, "nous vous mettons en demeure"));
    /*  Principal 10 000 + 1 250 = 11 250,00; penalties 327,85 + 40,00. */
    assert_non_null(strstr(m.body, "Principal restant dû : 11" NBSP "250,00" NBSP "€"));
    assert_non_null(strstr(m.body, "Total des pénalités et indemnités : 367,85" NBSP "€"));
    assert_non_null(strstr(m.body, "Total à régler : 11" NBSP "617,85" NBSP "€"));
    /*  Deadline: 2025-08-15 + 8 days. */
    assert_non_null(strstr(m.body, "au plus tard le 23/08/2025, soit sous 8 jours"));
    assert_non_null(strstr(m.body, "articles L441-10 et D441-5 du Code de commerce"));
    assert_non_null(strstr(m.body, "IBAN FR76 3000 6000 0112 3456 7890 189, BIC AGRIFRPP, référence à rappeler : CLI-0042"));
    /*  Only the invoice with penalties gets an explanation. */
    assert_non_null(strstr(m.body, "Facture n° F-2025-0042 :\nIntérêts du 01/04/2025 au 30/06/2025"));
    assert_null(strstr(m.body, "Facture n° F-2025-0077 :"));
    render_message_free(&m);

    /*  A configurable deadline. */
    d.deadline_days = 15;
    assert_int_equal(render_message(RENDER_MSG_FORMAL_NOTICE, &d, RENDER_TEXT, &m, &err), 0);
    assert_non_null(strstr(m.body, "au plus tard le 30/08/2025, soit sous 15 jours"));
    render_message_free(&m);
}

static void test_formal_notice_en_and_fallback(void **state)
{
    render_data_t d = s_data("de", "DE");        /* German: English */
    render_message_t m;
    render_error_t err;
    assert_int_equal(render_message(RENDER_MSG_FORMAL_NOTICE, &d, RENDER_TEXT, &m, &err), 0);
    assert_int_equal(m.lang, RENDER_LANG_EN);
    assert_non_null(strstr(m.subject, "Formal notice"));
    assert_non_null(strstr(m.body, "formal notice (mise en demeure)"));
    assert_non_null(strstr(m.body, "Total to pay: €11,617.85"));
    assert_non_null(strstr(m.body, "by 23 Aug 2025"));
    render_message_free(&m);
}

static void test_no_penalties_no_payment_details(void **state)
{
    render_data_t d = s_data("fr", "FR");
    render_invoice_t inv[1] = { s_inv[1] };
    d.invoices = inv;
    d.n_invoices = 1;
    d.pay = (render_payment_t) { 0 };
    d.signatory = NULL;
    render_message_t m;
    render_error_t err;
    assert_int_equal(render_message(RENDER_MSG_FIRM, &d, RENDER_TEXT, &m, &err), 0);
    assert_null(strstr(m.body, "pénalités de retard"));
    assert_null(strstr(m.body, "IBAN"));
    assert_non_null(strstr(m.body, "contactez-nous pour les modalités de paiement"));
    assert_null(strstr(m.body, "Jeanne"));
    render_message_free(&m);
}

static void test_html_mode_escapes(void **state)
{
    render_data_t d = s_data("en", "GB");
    d.debtor.name = "Smith & <Sons>";
    render_message_t m;
    render_error_t err;
    assert_int_equal(render_message(RENDER_MSG_PHONE_SCRIPT, &d, RENDER_HTML, &m, &err), 0);
    assert_non_null(strstr(m.body, "Smith &amp; &lt;Sons&gt;"));
    /*  The subject is always plain text. */
    assert_non_null(strstr(m.subject, "Smith & <Sons>"));
    render_message_free(&m);
}

static void test_data_errors(void **state)
{
    render_data_t d = s_data("fr", "FR");
    render_message_t m;
    render_error_t err;
    render_invoice_t inv[2] = { s_inv[0], s_inv[1] };
    d.invoices = inv;
    inv[1].number = "";
    assert_int_equal(render_message(RENDER_MSG_FRIENDLY, &d, RENDER_TEXT, &m, &err), -1);
    assert_string_equal(err.field, "invoices[1].number");
    assert_null(m.subject);
    inv[1].number = "F-1";
    inv[1].currency = "USD";
    assert_int_equal(render_message(RENDER_MSG_FRIENDLY, &d, RENDER_TEXT, &m, &err), -1);
    assert_string_equal(err.field, "invoices[1].currency");
    inv[1].currency = "EUR";
    d.debtor.name = NULL;
    assert_int_equal(render_message(RENDER_MSG_FRIENDLY, &d, RENDER_TEXT, &m, &err), -1);
    assert_string_equal(err.field, "debtor.name");
    d.debtor.name = "X";
    assert_int_equal(render_message(RENDER_MSG_COUNT, &d, RENDER_TEXT, &m, &err), -1);
    assert_string_equal(err.field, "kind");
}

static void test_kind_names(void **state)
{
    for (int k = 0; k < RENDER_MSG_COUNT; k++)
        assert_int_equal(render_msg_from_name(render_msg_name(k)), k);
    /*  The template keys of rem_policy_levels. */
    assert_int_equal(render_msg_from_name("mise_en_demeure"), RENDER_MSG_FORMAL_NOTICE);
    assert_int_equal(render_msg_from_name("phone_call"), RENDER_MSG_PHONE_SCRIPT);
    assert_int_equal(render_msg_from_name("nope"), -1);
    assert_int_equal(render_msg_from_name(NULL), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_money_fr),
        cmocka_unit_test(test_money_en),
        cmocka_unit_test(test_dates_rates),
        cmocka_unit_test(test_lang_for),
        cmocka_unit_test(test_penalties_explain),
        cmocka_unit_test(test_values),
        cmocka_unit_test(test_loops),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_every_kind_both_languages),
        cmocka_unit_test(test_formal_notice_fr),
        cmocka_unit_test(test_formal_notice_en_and_fallback),
        cmocka_unit_test(test_no_penalties_no_payment_details),
        cmocka_unit_test(test_html_mode_escapes),
        cmocka_unit_test(test_data_errors),
        cmocka_unit_test(test_kind_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
