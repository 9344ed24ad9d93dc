/*  letter: the mise en demeure and the hand-off dossier as PDF, drawn with
    cairo's PDF surface and its "toy" text API: one font family (DejaVu
    Sans, found through fontconfig), no shaping, which is all Latin text
    with accents needs. Layout is a cursor going down an A4 page with word
    wrapping and page breaks; the texts are render.h templates over the
    same values as the e-mails, so a letter and its cover e-mail agree. */
#include "letter.h"

#include <cairo-pdf.h>
#include <cairo.h>
#include <fontconfig/fontconfig.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dates.h"

#define PAGE_W      595.276         /* A4 in points */
#define PAGE_H      841.890
#define MARGIN      50.0            /* about 1.8 cm */
#define RIGHT       (PAGE_W - MARGIN)
#define BOTTOM      (PAGE_H - MARGIN - 14)
#define FONT        "DejaVu Sans"

/* ------------------------------------------------------------ the page */

typedef struct {
    unsigned char *p;
    size_t n;
    size_t cap;
    bool oom;
} s_bytes_t;

typedef struct {
    cairo_surface_t *surface;
    cairo_t *cr;
    double y;                       /* baseline of the next line */
    int page;
    render_lang_t lang;
    const render_ctx_t *ctx;
    render_error_t *err;
    int failed;                     /* a template failed: err is set */
} s_doc_t;

static cairo_status_t s_write(void *closure, const unsigned char *data, unsigned int len)
{
    s_bytes_t *b = closure;
    if (b->n + len > b->cap) {
        size_t cap = b->cap ? b->cap : 16384;
        while (cap < b->n + len)
            cap *= 2;
        unsigned char *p = realloc(b->p, cap);
        if (!p) {
            b->oom = true;
            return CAIRO_STATUS_WRITE_ERROR;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->n, data, len);
    b->n += len;
    return CAIRO_STATUS_SUCCESS;
}

static void s_font(s_doc_t *d, double size, bool bold)
{
    cairo_select_font_face(d->cr, FONT, CAIRO_FONT_SLANT_NORMAL,
                           bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_font_size(d->cr, size);
}

static double s_width(s_doc_t *d, const char *s)
{
    cairo_text_extents_t e;
    cairo_text_extents(d->cr, s, &e);
    return e.x_advance;
}

static void s_footer(s_doc_t *d)
{
    char s[32];
    snprintf(s, sizeof s, "%d", d->page);
    s_font(d, 8, false);
    cairo_move_to(d->cr, PAGE_W / 2 - s_width(d, s) / 2, PAGE_H - MARGIN / 2);
    cairo_show_text(d->cr, s);
}

static void s_new_page(s_doc_t *d)
{
    s_footer(d);
    cairo_show_page(d->cr);
    d->page++;
    d->y = MARGIN + 10;
}

/*  Room for `h` more points on this page, or a new page. */
static void s_need(s_doc_t *d, double h)
{
    if (d->y + h > BOTTOM)
        s_new_page(d);
}

static void s_at(s_doc_t *d, double x, double y, const char *s)
{
    cairo_move_to(d->cr, x, y);
    cairo_show_text(d->cr, s);
}

static void s_right(s_doc_t *d, double x_right, double y, const char *s)
{
    s_at(d, x_right - s_width(d, s), y, s);
}

/*  Word-wraps `text` (UTF-8, "\n" forces a break) between x and x_max,
    advancing the cursor. Breaks only at ASCII spaces: no-break spaces keep
    an amount and its currency together. */
static void s_wrap(s_doc_t *d, double x, double x_max, const char *text, double size, bool bold)
{
    double lh = size * 1.3;
    s_font(d, size, bold);
    const char *p = text;
    char line[2048];
    while (*p) {
        const char *eol = strchr(p, '\n');
        size_t plen = eol ? (size_t) (eol - p) : strlen(p);
        if (plen == 0) {
            d->y += lh;
            p = eol ? eol + 1 : p + plen;
            continue;
        }
        const char *q = p, *pend = p + plen;
        while (q < pend) {
            /*  Longest run of words from q that fits. */
            size_t best = 0, n = 0;
            while (q + n < pend) {
                size_t w = n;
                while (q + w < pend && q[w] == ' ')
                    w++;
                while (q + w < pend && q[w] != ' ')
                    w++;
                if (w >= sizeof line)
                    break;
                memcpy(line, q, w);
                line[w] = '\0';
                if (best > 0 && x + s_width(d, line) > x_max)
                    break;
                best = w;
                n = w;
            }
            if (best == 0)                      /* a single word longer than the line */
                best = (size_t) (pend - q) < sizeof line - 1 ? (size_t) (pend - q) : sizeof line - 1;
            memcpy(line, q, best);
            line[best] = '\0';
            s_need(d, lh);
            s_font(d, size, bold);
            s_at(d, x, d->y, line);
            d->y += lh;
            q += best;
            while (q < pend && *q == ' ')
                q++;
        }
        p = eol ? eol + 1 : pend;
    }
}

/*  A paragraph from a template over the document's values. */
static void s_para(s_doc_t *d, const char *tmpl, double size, bool bold)
{
    if (d->failed)
        return;
    char *text = NULL;
    if (render_template(tmpl, d->ctx, RENDER_TEXT, &text, d->err) != 0) {
        d->failed = 1;
        return;
    }
    s_wrap(d, MARGIN, RIGHT, text, size, bold);
    free(text);
}

static void s_gap(s_doc_t *d, double h) { d->y += h; }

static void s_rule(s_doc_t *d)
{
    cairo_set_line_width(d->cr, 0.5);
    cairo_move_to(d->cr, MARGIN, d->y - 9);
    cairo_line_to(d->cr, RIGHT, d->y - 9);
    cairo_stroke(d->cr);
}

static void s_heading(s_doc_t *d, const char *text)
{
    s_need(d, 40);
    s_gap(d, 8);
    s_wrap(d, MARGIN, RIGHT, text, 11.5, true);
    s_gap(d, 2);
}

/*  A party block at x: name in bold, then the other lines. */
static void s_party(s_doc_t *d, double x, double y, const render_party_t *p, const char *id_label)
{
    s_font(d, 10.5, true);
    s_at(d, x, y, p->name ? p->name : "");
    s_font(d, 9.5, false);
    double yy = y + 13;
    const char *lines[8];
    size_t n = 0;
    char buf[3][160];
    if (p->street && *p->street)
        lines[n++] = p->street;
    if ((p->postal_code && *p->postal_code) || (p->city && *p->city)) {
        snprintf(buf[0], sizeof buf[0], "%s %s", p->postal_code ? p->postal_code : "", p->city ? p->city : "");
        lines[n++] = buf[0];
    }
    if (p->country && *p->country)
        lines[n++] = p->country;
    if (p->company_id && *p->company_id) {
        snprintf(buf[1], sizeof buf[1], "%s %s", id_label, p->company_id);
        lines[n++] = buf[1];
    }
    if (p->email && *p->email)
        lines[n++] = p->email;
    if (p->phone && *p->phone)
        lines[n++] = p->phone;
    (void) buf[2];
    for (size_t i = 0; i < n; i++) {
        /*  A street may hold two lines. */
        const char *s = lines[i];
        while (s) {
            const char *nl = strchr(s, '\n');
            char one[160];
            snprintf(one, sizeof one, "%.*s", nl ? (int) (nl - s) : (int) strlen(s), s);
            s_at(d, x, yy, one);
            yy += 12;
            s = nl ? nl + 1 : NULL;
        }
    }
    if (yy > d->y)
        d->y = yy;
}

/* ------------------------------------------------------------ the invoice table */

static const struct { const char *fr, *en; } s_words[] = {
#define W_INVOICE 0
    { "Facture", "Invoice" },
#define W_ISSUED 1
    { "Émise le", "Issued" },
#define W_DUE 2
    { "Échéance", "Due" },
#define W_AMOUNT 3
    { "Montant", "Amount" },
#define W_OPEN 4
    { "Reste dû", "Outstanding" },
#define W_PRINCIPAL 5
    { "Principal restant dû", "Principal outstanding" },
#define W_INTEREST 6
    { "Intérêts de retard", "Late-payment interest" },
#define W_FIXED 7
    { "Indemnités forfaitaires de recouvrement", "Fixed recovery compensation" },
#define W_TOTAL 8
    { "Total à régler", "Total to pay" },
#define W_ID 9
    { "SIREN / TVA :", "Company no.:" },
#define W_NONE 10
    { "Aucun(e).", "None." },
};

static const char *s_w(const s_doc_t *d, int i)
{
    return d->lang == RENDER_LANG_FR ? s_words[i].fr : s_words[i].en;
}

static void s_invoice_table(s_doc_t *d, const render_data_t *data)
{
    const double x_num = MARGIN, x_issue = 200, x_due = 280, r_amount = 450, r_open = RIGHT;
    char a[48];
    s_need(d, 40);
    s_font(d, 9.5, true);
    s_at(d, x_num, d->y, s_w(d, W_INVOICE));
    s_at(d, x_issue, d->y, s_w(d, W_ISSUED));
    s_at(d, x_due, d->y, s_w(d, W_DUE));
    s_right(d, r_amount, d->y, s_w(d, W_AMOUNT));
    s_right(d, r_open, d->y, s_w(d, W_OPEN));
    d->y += 14;
    s_rule(d);
    for (size_t i = 0; i < data->n_invoices; i++) {
        const render_invoice_t *inv = &data->invoices[i];
        s_need(d, 14);
        s_font(d, 9.5, false);
        s_at(d, x_num, d->y, inv->number);
        render_date(inv->issue_date, d->lang, a, sizeof a);
        s_at(d, x_issue, d->y, a);
        render_date(inv->due_date, d->lang, a, sizeof a);
        s_at(d, x_due, d->y, a);
        render_money(inv->amount_minor, inv->currency, d->lang, a, sizeof a);
        s_right(d, r_amount, d->y, a);
        render_money(inv->open_minor, inv->currency, d->lang, a, sizeof a);
        s_right(d, r_open, d->y, a);
        d->y += 13;
    }
    s_rule(d);
}

/*  Penalties per invoice with their explanation, then the totals. */
static void s_penalties_and_totals(s_doc_t *d, const render_data_t *data)
{
    render_totals_t t;
    render_totals(data, &t);
    const char *cur = data->n_invoices ? data->invoices[0].currency : "EUR";
    bool any = t.interest_minor + t.fixed_minor > 0;
    if (any) {
        s_heading(d, d->lang == RENDER_LANG_FR ? "Pénalités de retard et indemnités"
                                               : "Late-payment interest and compensation");
        s_para(d, d->lang == RENDER_LANG_FR
                      ? "Calculées au {{date}} en application des {{penalties_basis}} :"
                      : "Computed on {{date}} under the {{penalties_basis}}:", 9.5, false);
        for (size_t i = 0; i < data->n_invoices; i++) {
            const render_invoice_t *inv = &data->invoices[i];
            if (!inv->penalties || inv->penalties->total_minor <= 0)
                continue;
            char head[160], explain[4096];
            snprintf(head, sizeof head, "%s %s", s_w(d, W_INVOICE), inv->number);
            s_gap(d, 2);
            s_wrap(d, MARGIN + 8, RIGHT, head, 9.5, true);
            render_penalties_explain(inv->penalties, d->lang, explain, sizeof explain);
            s_wrap(d, MARGIN + 16, RIGHT, explain, 9, false);
        }
    }
    s_gap(d, 8);
    s_need(d, 70);
    struct { int word; int64_t v; bool bold; } rows[] = {
        { W_PRINCIPAL, t.open_minor, false },
        { W_INTEREST, t.interest_minor, false },
        { W_FIXED, t.fixed_minor, false },
        { W_TOTAL, t.due_minor, true },
    };
    char a[48];
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        if (!any && (rows[i].word == W_INTEREST || rows[i].word == W_FIXED))
            continue;
        s_font(d, rows[i].bold ? 10.5 : 9.5, rows[i].bold);
        s_right(d, 420, d->y, s_w(d, rows[i].word));
        render_money(rows[i].v, cur, d->lang, a, sizeof a);
        s_right(d, RIGHT, d->y, a);
        d->y += rows[i].bold ? 16 : 13;
    }
}

/* ------------------------------------------------------------ documents */

typedef int (*s_draw_fn)(s_doc_t *d, const render_data_t *data, const void *arg);

static int s_make(const render_data_t *data, render_lang_t lang, const char *title, s_draw_fn draw,
                  const void *arg, unsigned char **pdf, size_t *len, render_error_t *err)
{
    *pdf = NULL;
    *len = 0;
    render_ctx_t *ctx = render_ctx_from_data(data, lang, err);
    if (!ctx)
        return -1;
    s_bytes_t bytes = { 0 };
    s_doc_t d = { .y = MARGIN + 10, .page = 1, .lang = lang, .ctx = ctx, .err = err };
    d.surface = cairo_pdf_surface_create_for_stream(s_write, &bytes, PAGE_W, PAGE_H);
    cairo_pdf_surface_set_metadata(d.surface, CAIRO_PDF_METADATA_TITLE, title);
    cairo_pdf_surface_set_metadata(d.surface, CAIRO_PDF_METADATA_AUTHOR, data->creditor.name);
    cairo_pdf_surface_set_metadata(d.surface, CAIRO_PDF_METADATA_CREATOR, "Créance");
    d.cr = cairo_create(d.surface);
    cairo_set_source_rgb(d.cr, 0, 0, 0);
    int rc = draw(&d, data, arg);
    if (rc == 0 && d.failed)
        rc = -1;
    s_footer(&d);
    cairo_show_page(d.cr);
    cairo_status_t st = cairo_status(d.cr);
    cairo_destroy(d.cr);
    cairo_surface_finish(d.surface);
    if (st == CAIRO_STATUS_SUCCESS)
        st = cairo_surface_status(d.surface);
    cairo_surface_destroy(d.surface);
    render_ctx_destroy(&ctx);
    if (rc == 0 && (st != CAIRO_STATUS_SUCCESS || bytes.oom)) {
        if (err) {
            snprintf(err->field, sizeof err->field, "cairo");
            snprintf(err->reason, sizeof err->reason, "%s",
                     bytes.oom ? "out of memory" : cairo_status_to_string(st));
        }
        rc = -1;
    }
    if (rc != 0) {
        free(bytes.p);
        return -1;
    }
    *pdf = bytes.p;
    *len = bytes.n;
    return 0;
}

static int s_to_file(const char *path, unsigned char *pdf, size_t len, render_error_t *err)
{
    FILE *f = fopen(path, "wb");
    int rc = f && fwrite(pdf, 1, len, f) == len ? 0 : -1;
    if (f && fclose(f) != 0)
        rc = -1;
    free(pdf);
    if (rc != 0 && err) {
        snprintf(err->field, sizeof err->field, "path");
        snprintf(err->reason, sizeof err->reason, "cannot write %.80s", path);
    }
    return rc;
}

/* ------------------------------------------------------------ mise en demeure */

static const char *const s_notice_fr[] = {
    "Madame, Monsieur,",
    "Malgré nos relances restées sans effet, les factures ci-dessous émises par {{creditor_name}} "
    "demeurent impayées à ce jour :",
    NULL,       /* the invoice table, penalties and totals go here */
    "En conséquence, par la présente lettre valant mise en demeure de payer (article 1344 du Code civil), "
    "nous vous demandons de nous régler la somme de {{total_due}} au plus tard le {{deadline_long}}, "
    "soit dans un délai de {{deadline_days}} jours à compter de la date de la présente.",
    "À défaut de règlement dans ce délai, nous engagerons sans autre avis une procédure judiciaire de "
    "recouvrement, dont les frais resteront à votre charge, sans préjudice des intérêts de retard qui "
    "continuent de courir jusqu'au complet paiement.",
};
static const char *const s_notice_en[] = {
    "Dear Sir or Madam,",
    "Despite our reminders, the invoices below issued by {{creditor_name}} remain unpaid to this day:",
    NULL,
    "Accordingly, this letter is a formal notice to pay (mise en demeure de payer): we demand payment "
    "of {{total_due}} by {{deadline_long}} at the latest, that is within {{deadline_days}} days of the "
    "date of this letter.",
    "Failing payment within this period, we will start court proceedings for recovery without further "
    "notice, at your expense, and interest will continue to accrue until payment in full.",
};

static const char *const s_pay_fr =
    "{{#iban}}\n"
    "Virement : IBAN {{iban}}{{#bic}} – BIC {{bic}}{{/bic}}\n"
    "{{/iban}}\n"
    "{{#reference}}\n"
    "Référence à rappeler : {{reference}}\n"
    "{{/reference}}\n"
    "{{#pay_url}}\n"
    "Paiement en ligne : {{pay_url}}\n"
    "{{/pay_url}}\n"
    "{{#contact}}\n"
    "Pour toute question : {{contact}}\n"
    "{{/contact}}\n";
static const char *const s_pay_en =
    "{{#iban}}\n"
    "Bank transfer: IBAN {{iban}}{{#bic}} – BIC {{bic}}{{/bic}}\n"
    "{{/iban}}\n"
    "{{#reference}}\n"
    "Reference: {{reference}}\n"
    "{{/reference}}\n"
    "{{#pay_url}}\n"
    "Online payment: {{pay_url}}\n"
    "{{/pay_url}}\n"
    "{{#contact}}\n"
    "Questions: {{contact}}\n"
    "{{/contact}}\n";

static int s_draw_notice(s_doc_t *d, const render_data_t *data, const void *arg)
{
    bool fr = d->lang == RENDER_LANG_FR;
    double top = d->y;
    s_party(d, MARGIN, top, &data->creditor, s_w(d, W_ID));
    double after_creditor = d->y;
    d->y = top;
    s_party(d, 320, top + 60, &data->debtor, s_w(d, W_ID));
    if (after_creditor > d->y)
        d->y = after_creditor;
    s_gap(d, 16);

    char *line = NULL;
    if (render_template("{{place_date}}", d->ctx, RENDER_TEXT, &line, d->err) != 0)
        return -1;
    s_font(d, 10, false);
    s_right(d, RIGHT, d->y, line);
    free(line);
    d->y += 16;
    s_font(d, 9, false);
    s_at(d, MARGIN, d->y, fr ? "Lettre recommandée avec demande d'avis de réception"
                             : "Registered letter with acknowledgement of receipt");
    d->y += 24;
    s_font(d, 16, true);
    const char *title = fr ? "Mise en demeure de payer" : "Formal notice to pay";
    s_at(d, PAGE_W / 2 - s_width(d, title) / 2, d->y, title);
    d->y += 16;
    if (!fr) {
        s_font(d, 9.5, false);
        const char *sub = "(mise en demeure de payer)";
        s_at(d, PAGE_W / 2 - s_width(d, sub) / 2, d->y, sub);
        d->y += 12;
    }
    s_gap(d, 12);

    const char *const *paras = fr ? s_notice_fr : s_notice_en;
    for (size_t i = 0; i < 5; i++) {
        if (!paras[i]) {
            s_invoice_table(d, data);
            s_penalties_and_totals(d, data);
        } else {
            s_para(d, paras[i], 9.5, false);
        }
        s_gap(d, 6);
    }
    s_heading(d, fr ? "Modalités de paiement" : "How to pay");
    s_para(d, fr ? s_pay_fr : s_pay_en, 9.5, false);
    s_gap(d, 6);
    /*  The closing words and the signature stay together on one page. */
    s_need(d, 80);
    s_para(d, fr ? "Nous vous prions d'agréer, Madame, Monsieur, l'expression de nos salutations distinguées."
                 : "Yours faithfully,", 9.5, false);
    s_gap(d, 14);
    s_para(d, "{{#signatory}}\n{{signatory}}\n{{/signatory}}\n{{creditor_name}}\n", 9.5, true);
    return d->failed ? -1 : 0;
}

int letter_formal_notice(const render_data_t *data, unsigned char **pdf, size_t *len, render_error_t *err)
{
    render_lang_t lang = render_lang_for(data->language, data->debtor.country);
    return s_make(data, lang, lang == RENDER_LANG_FR ? "Mise en demeure de payer" : "Formal notice to pay",
                  s_draw_notice, NULL, pdf, len, err);
}

int letter_formal_notice_file(const render_data_t *data, const char *path, render_error_t *err)
{
    unsigned char *pdf;
    size_t len;
    if (letter_formal_notice(data, &pdf, &len, err) != 0)
        return -1;
    return s_to_file(path, pdf, len, err);
}

/* ------------------------------------------------------------ the dossier */

static int s_draw_dossier(s_doc_t *d, const render_data_t *data, const void *arg)
{
    const letter_history_t *h = arg;
    static const letter_history_t none = { 0 };
    if (!h)
        h = &none;
    bool fr = d->lang == RENDER_LANG_FR;
    char a[64], b[64];

    /*  Cover page. */
    d->y = 160;
    s_font(d, 22, true);
    const char *title = fr ? "Dossier de recouvrement" : "Debt collection file";
    s_at(d, PAGE_W / 2 - s_width(d, title) / 2, d->y, title);
    d->y += 24;
    s_font(d, 12, false);
    s_at(d, PAGE_W / 2 - s_width(d, data->debtor.name) / 2, d->y, data->debtor.name);
    d->y += 50;
    s_font(d, 9.5, true);
    s_at(d, MARGIN, d->y, fr ? "Créancier" : "Creditor");
    s_at(d, 320, d->y, fr ? "Débiteur" : "Debtor");
    d->y += 16;
    double top = d->y;
    s_party(d, MARGIN, top, &data->creditor, s_w(d, W_ID));
    double after = d->y;
    d->y = top;
    s_party(d, 320, top, &data->debtor, s_w(d, W_ID));
    if (after > d->y)
        d->y = after;
    s_gap(d, 30);

    render_totals_t t;
    render_totals(data, &t);
    const char *cur = data->n_invoices ? data->invoices[0].currency : "EUR";
    int32_t oldest = 0;
    for (size_t i = 0; i < data->n_invoices; i++)
        if (!oldest || data->invoices[i].due_date < oldest)
            oldest = data->invoices[i].due_date;
    struct { const char *label; char value[64]; } rows[10];
    size_t n = 0;
    render_date_long(data->date, d->lang, a, sizeof a);
    rows[n].label = fr ? "Date du dossier" : "Date";
    snprintf(rows[n++].value, 64, "%s", a);
    if (h->agency && *h->agency) {
        rows[n].label = fr ? "Transmis à" : "Passed to";
        snprintf(rows[n++].value, 64, "%.63s", h->agency);
    }
    rows[n].label = fr ? "Factures impayées" : "Unpaid invoices";
    snprintf(rows[n++].value, 64, "%zu", data->n_invoices);
    if (oldest) {
        render_date(oldest, d->lang, a, sizeof a);
        rows[n].label = fr ? "Plus ancienne échéance" : "Oldest due date";
        snprintf(rows[n++].value, 64, "%s", a);
    }
    render_money(t.open_minor, cur, d->lang, a, sizeof a);
    rows[n].label = s_w(d, W_PRINCIPAL);
    snprintf(rows[n++].value, 64, "%s", a);
    render_money(t.interest_minor + t.fixed_minor, cur, d->lang, b, sizeof b);
    rows[n].label = fr ? "Pénalités et indemnités" : "Interest and compensation";
    snprintf(rows[n++].value, 64, "%s", b);
    render_money(t.due_minor, cur, d->lang, a, sizeof a);
    rows[n].label = fr ? "Total dû" : "Total due";
    snprintf(rows[n++].value, 64, "%s", a);
    rows[n].label = fr ? "Relances envoyées" : "Reminders sent";
    snprintf(rows[n++].value, 64, "%zu", h->n_reminders);
    rows[n].label = fr ? "Réponses du débiteur" : "Answers from the debtor";
    snprintf(rows[n++].value, 64, "%zu", h->n_answers);
    for (size_t i = 0; i < n; i++) {
        s_font(d, 10, false);
        s_at(d, MARGIN + 40, d->y, rows[i].label);
        s_font(d, 10, true);
        s_at(d, 300, d->y, rows[i].value);
        d->y += 16;
    }
    s_new_page(d);

    /*  Invoices and penalties. */
    s_heading(d, fr ? "1. Factures" : "1. Invoices");
    s_invoice_table(d, data);
    s_penalties_and_totals(d, data);

    /*  Reminders sent. */
    s_heading(d, fr ? "2. Relances envoyées" : "2. Reminders sent");
    if (h->n_reminders == 0) {
        s_wrap(d, MARGIN, RIGHT, s_w(d, W_NONE), 9.5, false);
    } else {
        const double x_date = MARGIN, x_level = 130, x_kind = 175, x_chan = 275, x_status = 335, x_inv = 405;
        s_font(d, 9, true);
        s_at(d, x_date, d->y, "Date");
        s_at(d, x_level, d->y, fr ? "Niveau" : "Level");
        s_at(d, x_kind, d->y, fr ? "Type" : "Kind");
        s_at(d, x_chan, d->y, fr ? "Canal" : "Channel");
        s_at(d, x_status, d->y, fr ? "Statut" : "Status");
        s_at(d, x_inv, d->y, fr ? "Factures" : "Invoices");
        d->y += 14;
        s_rule(d);
        for (size_t i = 0; i < h->n_reminders; i++) {
            const letter_reminder_t *r = &h->reminders[i];
            s_need(d, 13);
            s_font(d, 9, false);
            render_date(r->date, d->lang, a, sizeof a);
            s_at(d, x_date, d->y, a);
            snprintf(a, sizeof a, "%+d", r->level);
            s_at(d, x_level, d->y, a);
            s_at(d, x_kind, d->y, r->kind ? r->kind : "");
            s_at(d, x_chan, d->y, r->channel ? r->channel : "");
            s_at(d, x_status, d->y, r->status ? r->status : "");
            double y = d->y;
            s_wrap(d, x_inv, RIGHT, r->invoices ? r->invoices : "", 9, false);
            if (d->y == y)
                d->y += 13;
        }
    }

    /*  The debtor's answers. */
    s_heading(d, fr ? "3. Réponses du débiteur" : "3. The debtor's answers");
    if (h->n_answers == 0) {
        s_wrap(d, MARGIN, RIGHT, s_w(d, W_NONE), 9.5, false);
    } else {
        for (size_t i = 0; i < h->n_answers; i++) {
            const letter_answer_t *an = &h->answers[i];
            char head[256];
            render_date(an->date, d->lang, a, sizeof a);
            snprintf(head, sizeof head, "%s – %s%s%s%s", a, an->kind ? an->kind : "",
                     an->status && *an->status ? " (" : "", an->status ? an->status : "",
                     an->status && *an->status ? ")" : "");
            s_need(d, 30);
            s_wrap(d, MARGIN, RIGHT, head, 9.5, true);
            s_wrap(d, MARGIN + 12, RIGHT, an->text ? an->text : "", 9.5, false);
            s_gap(d, 4);
        }
    }
    return d->failed ? -1 : 0;
}

int letter_dossier(const render_data_t *data, const letter_history_t *history,
                   unsigned char **pdf, size_t *len, render_error_t *err)
{
    render_lang_t lang = render_lang_for(NULL, data->creditor.country);
    return s_make(data, lang, lang == RENDER_LANG_FR ? "Dossier de recouvrement" : "Debt collection file",
                  s_draw_dossier, history, pdf, len, err);
}

int letter_dossier_file(const render_data_t *data, const letter_history_t *history,
                        const char *path, render_error_t *err)
{
    unsigned char *pdf;
    size_t len;
    if (letter_dossier(data, history, &pdf, &len, err) != 0)
        return -1;
    return s_to_file(path, pdf, len, err);
}

void letter_global_cleanup(void)
{
    /*  cairo first: it holds fontconfig patterns that FcFini then frees. */
    cairo_debug_reset_static_data();
    FcFini();
}
