/*  render: reminder texts in French and English.

    Two layers:
      - a small template engine (a subset of Mustache, tested on its own):
          {{name}}              value; HTML-escaped in RENDER_HTML mode
          {{{name}}}            value, never escaped
          {{#name}}...{{/name}} a list: the block once per item, the item's
                                values shadowing the outer ones; a value:
                                the block once when it is non-empty
          {{^name}}...{{/name}} the block when the list is empty or the
                                value is empty
          {{! comment }}
        A name that is not set is an error naming it (a typo never sends a
        letter with a hole in it); sections too. No partials, no lambdas.
      - the reminder messages: render_message() picks the template of a
        kind in the debtor's language, builds the values (debtor, creditor,
        invoices, amounts, penalties, deadline, how to pay) and returns the
        subject and the plain-text body.

    Language: render_lang_for(language, country): a French debtor (country
    FR) always gets French; otherwise the language's primary subtag ("fr",
    "fr-BE" -> fr; "en", "en-GB" -> en); anything else falls back to
    English, then French when an English template is missing.

    Amounts: "1 234,50 €" in French (U+00A0 no-break spaces as thousands
    separator and before the symbol, so a line never breaks inside an
    amount), "€1,234.50" in English; currencies without a symbol print
    their code ("1 234,50 CHF", "CHF 1,234.50"); the number of decimals
    follows the currency (money.h). */
#ifndef CREANCE_REMINDERS_RENDER_H
#define CREANCE_REMINDERS_RENDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "penalties.h"

typedef enum { RENDER_LANG_FR = 0, RENDER_LANG_EN = 1 } render_lang_t;
typedef enum { RENDER_TEXT = 0, RENDER_HTML = 1 } render_mode_t;

typedef struct {
    char field[64];                 /* the variable or section name, or the data field */
    char reason[96];                /* "missing variable", "unclosed section", ... */
} render_error_t;

/* ------------------------------------------------------------ formatting */

render_lang_t render_lang_for(const char *language, const char *country);
const char *render_lang_code(render_lang_t lang);               /* "fr", "en" */
/*  "1 234,50 €" / "€1,234.50"; out needs 48 bytes. false on an unknown currency. */
bool render_money(int64_t minor, const char *currency, render_lang_t lang, char *out, size_t outlen);
/*  "15/08/2025" / "15 Aug 2025"; out needs 24 bytes. */
void render_date(int32_t days, render_lang_t lang, char *out, size_t outlen);
/*  "15 août 2025" / "15 August 2025"; out needs 32 bytes. */
void render_date_long(int32_t days, render_lang_t lang, char *out, size_t outlen);
/*  "13,15 %" / "13.15%"; out needs 24 bytes. */
void render_rate(int32_t bps, render_lang_t lang, char *out, size_t outlen);
/*  The lines explaining an invoice's penalties, one segment a line
    (joined with "\n"), then the fixed compensation, e.g.
    "Intérêts du 01/04/2025 au 30/06/2025, 91 jours à 13,15 % (taux BCE 3,15 % + 10 points) : 327,85 €"
    "Indemnité forfaitaire pour frais de recouvrement (articles L441-10 et D441-5 du Code de commerce) : 40,00 €"
    A segment decided by the French floor says "(3 × taux d'intérêt légal 5,07 %, plancher)".
    Returns the number of bytes written (truncated to outlen - 1). */
size_t render_penalties_explain(const penalties_result_t *p, render_lang_t lang, char *out, size_t outlen);

/* ------------------------------------------------------------ the engine */

typedef struct render_ctx_t render_ctx_t;

render_ctx_t *render_ctx_new(void);
void render_ctx_destroy(render_ctx_t **self_p);
/*  Sets (copies) a value; replaces an earlier one. 0 or -1 (no memory). */
int  render_ctx_set(render_ctx_t *self, const char *name, const char *value);
int  render_ctx_setf(render_ctx_t *self, const char *name, const char *fmt, ...)
     __attribute__((format(printf, 3, 4)));
/*  Declares the list `name` (empty until items are added). */
int  render_ctx_list(render_ctx_t *self, const char *name);
/*  Appends an item to the list `name` (declaring it) and returns the item's
    context, owned by `self`; NULL when out of memory. */
render_ctx_t *render_ctx_add(render_ctx_t *self, const char *name);

/*  Renders `tmpl`. 0 and *out (malloc'd, caller frees), or -1 and `err`. */
int  render_template(const char *tmpl, const render_ctx_t *ctx, render_mode_t mode,
                     char **out, render_error_t *err);
/*  &, <, >, ", ' escaped; malloc'd. */
char *render_html_escape(const char *s);

/* ------------------------------------------------------------ the messages */

typedef enum {
    RENDER_MSG_COURTESY = 0,        /* before the due date */
    RENDER_MSG_FRIENDLY,            /* due + 1 */
    RENDER_MSG_FIRM,                /* due + 10 */
    RENDER_MSG_PHONE_SCRIPT,        /* due + 20: what the caller says */
    RENDER_MSG_FORMAL_NOTICE,       /* due + 30: mise en demeure (cover text; the PDF is letter_*) */
    RENDER_MSG_HANDOFF,             /* due + 45: notice of hand-off to collection / litigation */
    RENDER_MSG_INSTALMENT,          /* payment plan: instalment coming / missed */
    RENDER_MSG_PROMISE,             /* promise to pay: reminder of the promised date */
    RENDER_MSG_COUNT
} render_msg_t;

const char *render_msg_name(render_msg_t kind);   /* "courtesy", "friendly", "firm", "phone_script",
                                                     "formal_notice", "handoff", "instalment", "promise" */
/*  -1 when unknown. */
int  render_msg_from_name(const char *name);

typedef struct {
    const char *name;               /* legal name (required) */
    const char *company_id;         /* SIREN / VAT; may be NULL */
    const char *street;             /* may be NULL; may hold "\n" for two lines */
    const char *postal_code;
    const char *city;
    const char *country;            /* ISO alpha-2 */
    const char *email;
    const char *phone;
} render_party_t;

typedef struct {
    const char *number;             /* the invoice number (required) */
    int32_t issue_date;
    int32_t due_date;
    int64_t amount_minor;           /* invoiced */
    int64_t open_minor;             /* still owed */
    const char *currency;           /* all invoices of one message share it */
    const penalties_result_t *penalties;    /* NULL: none shown */
} render_invoice_t;

typedef struct {
    const char *iban;
    const char *bic;
    const char *reference;          /* what to write on the transfer */
    const char *url;                /* payment link; may be NULL */
} render_payment_t;

typedef struct {
    render_party_t creditor;
    render_party_t debtor;
    const char *language;           /* debtor's BCP 47 tag */
    const char *place;              /* "Paris" in "Paris, le 15 août 2025"; may be NULL */
    const char *signatory;          /* name and role under the signature; may be NULL */
    const char *contact;            /* who to call / write to; may be NULL */
    int32_t date;                   /* the date of the message */
    int deadline_days;              /* payment deadline = date + this; 0 -> RENDER_DEFAULT_DEADLINE_DAYS */
    const render_invoice_t *invoices;
    size_t n_invoices;
    render_payment_t pay;
    /*  Instalment and promise messages. */
    int32_t promise_date;           /* promised / instalment due date */
    int64_t promise_minor;          /* promised / instalment amount */
    int instalment_number;          /* 1-based; 0 when not a plan */
    int instalment_count;
} render_data_t;

#define RENDER_DEFAULT_DEADLINE_DAYS 8

typedef struct {
    char *subject;                  /* one line, no newline */
    char *body;                     /* UTF-8 plain text */
    render_lang_t lang;             /* the language actually used */
} render_message_t;

/*  Builds the values of `data` into a context (shared by render_message
    and the letters): creditor_*, debtor_*, date, date_long, deadline,
    place, signatory, contact, invoices[] {number, issue_date, due_date,
    amount, open, interest, fixed, penalties_explain}, total_open,
    total_interest, total_fixed, total_penalties, total_due,
    has_penalties (section), iban, bic, reference, pay_url, promise_date,
    promise_amount, instalment_number, instalment_count. NULL and `err`
    on bad data (no invoice number, mixed currencies, unknown currency). */
render_ctx_t *render_ctx_from_data(const render_data_t *data, render_lang_t lang, render_error_t *err);

/*  Totals over the invoices of `data` (one currency). */
typedef struct {
    int64_t open_minor;
    int64_t interest_minor;
    int64_t fixed_minor;
    int64_t due_minor;              /* open + interest + fixed */
} render_totals_t;
void render_totals(const render_data_t *data, render_totals_t *out);

/*  0 and `out` filled (release with render_message_free), or -1 and `err`.
    RENDER_HTML only HTML-escapes the values in the body (the templates are
    plain text: put the body in <pre> or turn newlines into <br>); the
    subject is never escaped. */
int  render_message(render_msg_t kind, const render_data_t *data, render_mode_t mode,
                    render_message_t *out, render_error_t *err);
void render_message_free(render_message_t *msg);

#endif
