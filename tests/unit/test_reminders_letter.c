/*  Unit tests: the mise en demeure and the hand-off dossier PDFs
    (services/reminders/letter). Each PDF is written to a temporary file
    and read back with pdftotext -layout (poppler-utils; -layout keeps
    table rows in reading order): the required words, the
    parties, every invoice and the totals must be in the text. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "dates.h"
#include "../../services/reminders/letter.h"

static int32_t D(const char *s)
{
    int32_t d = 0;
    assert_true(date_parse(s, &d));
    return d;
}

/*  The text of a PDF, one line: no-break spaces become spaces and every
    run of white space (line and page breaks included) one space, so a
    phrase wrapped over two lines still matches. *pages gets the count. */
static char *pdf_text(const char *path, int *pages)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "pdftotext -layout -enc UTF-8 '%s' - 2>&1", path);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t cap = 1 << 16, n = 0;
    char *raw = malloc(cap);
    size_t got;
    while ((got = fread(raw + n, 1, cap - n - 1, p)) > 0) {
        n += got;
        if (n + 1 == cap)
            raw = realloc(raw, cap *= 2);
    }
    raw[n] = '\0';
    int rc = pclose(p);
    if (rc != 0)
        fail_msg("pdftotext failed (%d): %s", rc, raw);
    char *out = malloc(n + 1);
    size_t o = 0;
    int ff = 0;
    for (size_t i = 0; i < n; i++) {
        char c = raw[i];
        if (c == '\f')
            ff++;
        bool space = c == ' ' || c == '\n' || c == '\t' || c == '\f' || c == '\r';
        if ((unsigned char) c == 0xc2 && i + 1 < n && (unsigned char) raw[i + 1] == 0xa0) {
            space = true;
            i++;
        }
        if (space) {
            if (o && out[o - 1] != ' ')
                out[o++] = ' ';
        } else {
            out[o++] = c;
        }
    }
    out[o] = '\0';
    free(raw);
    if (pages)
        *pages = ff;    /* pdftotext ends every page with a form feed */
    return out;
}

static void has(const char *text, const char *want)
{
    if (!strstr(text, want))
        fail_msg("PDF text lacks \"%s\"; text: %.3000s", want, text);
}

static char *tmp_path(void)
{
    char *path = strdup("/tmp/creance-letter-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    return path;
}

/* ------------------------------------------------------------ data */

static penalties_result_t s_pen;
static render_invoice_t s_inv[2];

static render_data_t s_data(const char *language, const char *country)
{
    memset(&s_pen, 0, sizeof s_pen);
    s_pen.rules = PENALTIES_RULES_FR;
    memcpy(s_pen.currency, "EUR", 4);
    s_pen.n_segments = 2;
    s_pen.seg[0] = (penalties_segment_t) { D("2025-04-01"), D("2025-06-30"), 91, 315, 1000, 1113, 1315, false, 32785 };
    s_pen.seg[1] = (penalties_segment_t) { D("2025-07-01"), D("2025-08-15"), 46, 215, 1000, 828, 1215, false, 15312 };
    s_pen.interest_minor = 48097;
    s_pen.fixed_minor = 4000;
    s_pen.total_minor = 52097;
    s_inv[0] = (render_invoice_t) { "F-2025-0042", D("2025-03-01"), D("2025-03-31"), 1000000, 1000000, "EUR", &s_pen };
    s_inv[1] = (render_invoice_t) { "F-2025-0077", D("2025-04-10"), D("2025-05-10"), 250000, 125000, "EUR", NULL };
    render_data_t d = {
        .creditor = { .name = "Créance Démo SAS", .company_id = "123 456 789", .street = "1 rue de la Paix",
                      .postal_code = "75002", .city = "Paris", .country = "FR" },
        .debtor = { .name = "Société Générale de Bâtiment", .street = "12 avenue Foch",
                    .postal_code = "69006", .city = "Lyon", .country = country },
        .language = language,
        .place = "Paris",
        .signatory = "Jeanne Martin, responsable crédit",
        .date = D("2025-08-15"),
        .invoices = s_inv,
        .n_invoices = 2,
        .pay = { .iban = "FR76 3000 6000 0112 3456 7890 189", .bic = "AGRIFRPP", .reference = "CLI-0042" },
    };
    return d;
}

/* ------------------------------------------------------------ mise en demeure */

static void test_formal_notice_fr(void **state)
{
    render_data_t d = s_data("fr", "FR");
    char *path = tmp_path();
    render_error_t err;
    if (letter_formal_notice_file(&d, path, &err) != 0)
        fail_msg("letter: %s: %s", err.field, err.reason);
    int pages = 0;
    char *t = pdf_text(path, &pages);
    assert_int_equal(pages, 1);
    has(t, "Mise en demeure de payer");
    has(t, "valant mise en demeure de payer");
    has(t, "Paris, le 15 août 2025");
    has(t, "Créance Démo SAS");
    has(t, "Société Générale de Bâtiment");
    has(t, "69006 Lyon");
    has(t, "F-2025-0042 01/03/2025 31/03/2025 10 000,00 € 10 000,00 €");
    has(t, "F-2025-0077 10/04/2025 10/05/2025 2 500,00 € 1 250,00 €");
    has(t, "91 jours à 13,15 % (taux BCE 3,15 % + 10 points) : 327,85 €");
    has(t, "46 jours à 12,15 %");
    has(t, "Indemnité forfaitaire pour frais de recouvrement");
    has(t, "Principal restant dû 11 250,00 €");
    has(t, "Intérêts de retard 480,97 €");
    has(t, "Total à régler 11 770,97 €");
    /*  Deadline: 8 days by default. */
    has(t, "au plus tard le 23 août 2025, soit dans un délai de 8 jours");
    has(t, "IBAN FR76 3000 6000 0112 3456 7890 189");
    has(t, "CLI-0042");
    has(t, "Jeanne Martin");
    free(t);
    unlink(path);
    free(path);
}

/*  A French debtor gets French even when its language says English; an
    English-speaking foreign debtor gets the English letter, which still
    says "mise en demeure". A 15-day deadline is honoured. */
static void test_formal_notice_languages(void **state)
{
    render_data_t d = s_data("en", "FR");
    char *path = tmp_path();
    render_error_t err;
    assert_int_equal(letter_formal_notice_file(&d, path, &err), 0);
    char *t = pdf_text(path, NULL);
    has(t, "Mise en demeure de payer");
    assert_null(strstr(t, "Formal notice"));
    free(t);

    d = s_data("en", "GB");
    d.deadline_days = 15;
    assert_int_equal(letter_formal_notice_file(&d, path, &err), 0);
    t = pdf_text(path, NULL);
    has(t, "Formal notice to pay");
    has(t, "mise en demeure");
    has(t, "Paris, 15 August 2025");
    has(t, "F-2025-0042");
    has(t, "F-2025-0077");
    has(t, "Total to pay €11,770.97");
    has(t, "by 30 August 2025 at the latest, that is within 15 days");
    free(t);
    unlink(path);
    free(path);
}

/*  Sixty invoices: the table runs over pages and none is lost. */
static void test_formal_notice_many_invoices(void **state)
{
    render_data_t d = s_data("fr", "FR");
    render_invoice_t inv[60];
    char numbers[60][16];
    int64_t total = 0;
    for (int i = 0; i < 60; i++) {
        snprintf(numbers[i], sizeof numbers[i], "INV-%04d", i + 1);
        inv[i] = (render_invoice_t) { numbers[i], D("2025-01-01") + i, D("2025-02-01") + i,
                                      10000 + i, 10000 + i, "EUR", NULL };
        total += 10000 + i;
    }
    d.invoices = inv;
    d.n_invoices = 60;
    char *path = tmp_path();
    render_error_t err;
    assert_int_equal(letter_formal_notice_file(&d, path, &err), 0);
    int pages = 0;
    char *t = pdf_text(path, &pages);
    assert_true(pages >= 2);
    for (int i = 0; i < 60; i++)
        has(t, numbers[i]);
    /*  60 x 100,00 + (0 + ... + 59) cents = 6 000,00 + 17,70. */
    assert_int_equal(total, 601770);
    has(t, "Total à régler 6 017,70 €");
    /*  No penalties given: no penalties section. */
    assert_null(strstr(t, "Pénalités de retard et indemnités"));
    free(t);
    unlink(path);
    free(path);
}

static void test_formal_notice_memory_and_errors(void **state)
{
    render_data_t d = s_data("fr", "FR");
    unsigned char *pdf = NULL;
    size_t len = 0;
    render_error_t err;
    assert_int_equal(letter_formal_notice(&d, &pdf, &len, &err), 0);
    assert_true(len > 1000);
    assert_memory_equal(pdf, "%PDF-", 5);
    free(pdf);

    /*  Bad data is refused with the field named, and nothing written. */
    render_invoice_t inv[1] = { s_inv[0] };
    inv[0].number = NULL;
    d.invoices = inv;
    d.n_invoices = 1;
    pdf = (unsigned char *) 1;
    assert_int_equal(letter_formal_notice(&d, &pdf, &len, &err), -1);
    assert_null(pdf);
    assert_string_equal(err.field, "invoices[0].number");

    d = s_data("fr", "FR");
    assert_int_equal(letter_formal_notice_file(&d, "/nonexistent-dir/x.pdf", &err), -1);
    assert_string_equal(err.field, "path");
}

/* ------------------------------------------------------------ dossier */

static void test_dossier(void **state)
{
    render_data_t d = s_data("fr", "FR");
    letter_reminder_t rem[4] = {
        { D("2025-03-26"), -5, "courtesy", "email", "sent", "F-2025-0042" },
        { D("2025-04-01"), 1, "friendly", "email", "delivered", "F-2025-0042" },
        { D("2025-04-10"), 10, "firm", "sms", "failed", "F-2025-0042, F-2025-0077" },
        { D("2025-04-30"), 30, "formal_notice", "letter", "sent", "F-2025-0042, F-2025-0077" },
    };
    letter_answer_t ans[2] = {
        { D("2025-04-12"), "promise", "Paiement promis pour le 25 avril (trésorerie tendue).", "broken" },
        { D("2025-05-02"), "dispute", "Conteste la facture F-2025-0077 : livraison incomplète.", "open" },
    };
    letter_history_t h = { rem, 4, ans, 2, "Cabinet Recouvrement & Associés" };
    char *path = tmp_path();
    render_error_t err;
    if (letter_dossier_file(&d, &h, path, &err) != 0)
        fail_msg("dossier: %s: %s", err.field, err.reason);
    int pages = 0;
    char *t = pdf_text(path, &pages);
    assert_true(pages >= 2);            /* a cover page, then the file */
    has(t, "Dossier de recouvrement");
    has(t, "Transmis à Cabinet Recouvrement & Associés");
    has(t, "Société Générale de Bâtiment");
    has(t, "Total dû 11 770,97 €");
    has(t, "Relances envoyées 4");
    has(t, "Réponses du débiteur 2");
    has(t, "F-2025-0042 01/03/2025 31/03/2025");
    has(t, "91 jours à 13,15 %");
    has(t, "26/03/2025 -5 courtesy email sent");
    has(t, "10/04/2025 +10 firm sms failed");
    has(t, "30/04/2025 +30 formal_notice letter sent");
    has(t, "12/04/2025 – promise (broken)");
    has(t, "Paiement promis pour le 25 avril (trésorerie tendue).");
    has(t, "Conteste la facture F-2025-0077 : livraison incomplète.");
    free(t);

    /*  No history: says so. English for a British creditor. */
    d.creditor.country = "GB";
    letter_history_t empty = { 0 };
    assert_int_equal(letter_dossier_file(&d, &empty, path, &err), 0);
    t = pdf_text(path, NULL);
    has(t, "Debt collection file");
    has(t, "2. Reminders sent None.");
    has(t, "3. The debtor's answers None.");
    free(t);
    unlink(path);
    free(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_formal_notice_fr),
        cmocka_unit_test(test_formal_notice_languages),
        cmocka_unit_test(test_formal_notice_many_invoices),
        cmocka_unit_test(test_formal_notice_memory_and_errors),
        cmocka_unit_test(test_dossier),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    letter_global_cleanup();
    return failed;
}
