/*  compose: reminder -> subject and body (see compose.h). */
#include "compose.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dates.h"
#include "log.h"
#include "metrics.h"

render_msg_t rem_compose_kind(const char *template_key)
{
    int k = render_msg_from_name(template_key);
    return k < 0 ? RENDER_MSG_FRIENDLY : (render_msg_t) k;
}

static void cp(char *dst, size_t len, PGresult *r, int row, int col)
{
    snprintf(dst, len, "%s", PQgetisnull(r, row, col) ? "" : PQgetvalue(r, row, col));
}

static const char *nz(const char *s)
{
    return s && *s ? s : NULL;
}

static void internal_text(rem_composed_t *c)
{
    /*  The minimal text: who, what, how much; French or English. */
    bool fr = render_lang_for(c->language, c->country) == RENDER_LANG_FR;
    size_t cap = 512 + c->n * 128;
    char *b = malloc(cap);
    if (!b)
        return;
    size_t p = (size_t) snprintf(b, cap, fr ? "Bonjour %s,\n\nSauf erreur de notre part, les factures suivantes restent dues :\n"
                                            : "Dear %s,\n\nOur records show the following invoices as unpaid:\n",
                                 c->legal_name);
    int64_t total = 0;
    for (size_t i = 0; i < c->n && p < cap; i++) {
        char due[11];
        date_format(c->inv[i].due_date, due);
        p += (size_t) snprintf(b + p, cap - p, "  %s  %s  %" PRId64 ".%02" PRId64 " %s\n",
                               c->inv[i].number, due, c->inv[i].open_minor / 100,
                               c->inv[i].open_minor % 100, c->currency);
        total += c->inv[i].open_minor;
    }
    if (p < cap)
        snprintf(b + p, cap - p, fr ? "\nTotal : %" PRId64 ".%02" PRId64 " %s\n\n%s\n"
                                    : "\nTotal: %" PRId64 ".%02" PRId64 " %s\n\n%s\n",
                 total / 100, total % 100, c->currency, c->cred_name);
    free(c->body);
    c->body = b;
    free(c->subject);
    char subj[160];
    snprintf(subj, sizeof subj, fr ? "Relance : factures impayées (%s)" : "Reminder: unpaid invoices (%s)",
             c->cred_name);
    c->subject = strdup(subj);
}

int rem_compose(db_t *db, const char *tenant, int64_t reminder_id, rem_composed_t *c)
{
    memset(c, 0, sizeof *c);
    c->reminder_id = reminder_id;
    char rid[24];
    snprintf(rid, sizeof rid, "%" PRId64, reminder_id);
    const char *p[] = { tenant, rid };
    PGresult *r = db_exec(db,
        "SELECT r.debtor_id, r.level, r.template_key, r.currency, r.planned_date - DATE '1970-01-01',"
        " COALESCE(d.legal_name, ''), COALESCE(d.email, ''), COALESCE(d.phone, ''),"
        " COALESCE(d.language, 'fr'), COALESCE(d.country, 'FR'), COALESCE(d.kind, 1) = 1,"
        " concat_ws(E'\\n', NULLIF(d.address->>'line1', ''), NULLIF(d.address->>'line2', '')),"
        " COALESCE(d.address->>'postal_code', ''), COALESCE(d.address->>'city', ''),"
        " COALESCE(d.address->>'country', ''),"
        " COALESCE(c.legal_name, t.name), COALESCE(c.company_id, ''), COALESCE(c.country, 'FR'),"
        " COALESCE(c.street, ''), COALESCE(c.postal_code, ''), COALESCE(c.city, ''),"
        " COALESCE(c.email, ''), COALESCE(c.phone, ''), COALESCE(c.iban, ''), COALESCE(c.bic, ''),"
        " COALESCE(c.signatory, ''), COALESCE(c.pay_url, '')"
        " FROM reminders r JOIN tenants t ON t.id = r.tenant"
        " LEFT JOIN rem_debtors d ON d.tenant = r.tenant AND d.debtor_id = r.debtor_id"
        " LEFT JOIN rem_creditors c ON c.tenant = r.tenant"
        " WHERE r.tenant = $1 AND r.id = $2", 2, p);
    if (!r)
        return -1;
    if (PQntuples(r) != 1) {
        PQclear(r);
        return -1;
    }
    c->debtor_id = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    c->level = atoi(PQgetvalue(r, 0, 1));
    cp(c->template_key, sizeof c->template_key, r, 0, 2);
    cp(c->currency, sizeof c->currency, r, 0, 3);
    c->planned_date = (int32_t) strtol(PQgetvalue(r, 0, 4), NULL, 10);
    cp(c->legal_name, sizeof c->legal_name, r, 0, 5);
    cp(c->email, sizeof c->email, r, 0, 6);
    cp(c->phone, sizeof c->phone, r, 0, 7);
    cp(c->language, sizeof c->language, r, 0, 8);
    cp(c->country, sizeof c->country, r, 0, 9);
    c->business = PQgetvalue(r, 0, 10)[0] == 't';
    cp(c->street, sizeof c->street, r, 0, 11);
    cp(c->postal_code, sizeof c->postal_code, r, 0, 12);
    cp(c->city, sizeof c->city, r, 0, 13);
    cp(c->addr_country, sizeof c->addr_country, r, 0, 14);
    cp(c->cred_name, sizeof c->cred_name, r, 0, 15);
    cp(c->cred_company, sizeof c->cred_company, r, 0, 16);
    cp(c->cred_country, sizeof c->cred_country, r, 0, 17);
    cp(c->cred_street, sizeof c->cred_street, r, 0, 18);
    cp(c->cred_postal, sizeof c->cred_postal, r, 0, 19);
    cp(c->cred_city, sizeof c->cred_city, r, 0, 20);
    cp(c->cred_email, sizeof c->cred_email, r, 0, 21);
    cp(c->cred_phone, sizeof c->cred_phone, r, 0, 22);
    cp(c->iban, sizeof c->iban, r, 0, 23);
    cp(c->bic, sizeof c->bic, r, 0, 24);
    cp(c->signatory, sizeof c->signatory, r, 0, 25);
    cp(c->pay_url, sizeof c->pay_url, r, 0, 26);
    PQclear(r);
    snprintf(c->reference, sizeof c->reference, "R%" PRId64, reminder_id);

    r = db_exec(db,
        "SELECT COALESCE(v.number, i.invoice_id::text), COALESCE(v.issue_date, i.due_date) - DATE '1970-01-01',"
        " i.due_date - DATE '1970-01-01', COALESCE(v.amount_minor, i.open_minor),"
        " i.open_minor - i.disputed_minor"
        " FROM reminder_items i LEFT JOIN rem_invoices v"
        "   ON v.tenant = i.tenant AND v.invoice_id = i.invoice_id"
        " WHERE i.tenant = $1 AND i.reminder_id = $2"
        /*  An instalment reminder has no items: the plan's invoices. */
        " UNION ALL"
        " SELECT COALESCE(v.number, x::text),"
        "  COALESCE(v.issue_date, o.due_date, r.planned_date) - DATE '1970-01-01',"
        "  COALESCE(o.due_date, v.issue_date, r.planned_date) - DATE '1970-01-01',"
        "  COALESCE(v.amount_minor, o.open_minor, 0), COALESCE(o.open_minor - o.disputed_minor, 0)"
        " FROM reminders r CROSS JOIN unnest(r.invoice_ids) AS x"
        " LEFT JOIN rem_invoices v ON v.tenant = r.tenant AND v.invoice_id = x"
        " LEFT JOIN rem_open_items o ON o.tenant = r.tenant AND o.invoice_id = x"
        " WHERE r.tenant = $1 AND r.id = $2 AND r.kind = 'instalment'"
        " ORDER BY 3, 1", 2, p);
    if (!r)
        return -1;
    c->n = (size_t) PQntuples(r);
    if (c->n > REM_COMPOSE_MAX_INVOICES)
        c->n = REM_COMPOSE_MAX_INVOICES;
    for (size_t i = 0; i < c->n; i++) {
        cp(c->numbers[i], sizeof c->numbers[i], r, (int) i, 0);
        render_invoice_t *v = &c->inv[i];
        v->number = c->numbers[i];
        v->issue_date = (int32_t) strtol(PQgetvalue(r, (int) i, 1), NULL, 10);
        v->due_date = (int32_t) strtol(PQgetvalue(r, (int) i, 2), NULL, 10);
        v->amount_minor = strtoll(PQgetvalue(r, (int) i, 3), NULL, 10);
        v->open_minor = strtoll(PQgetvalue(r, (int) i, 4), NULL, 10);
        v->currency = c->currency;
    }
    PQclear(r);

    /*  Statutory penalties, shown from the first level after the due date. */
    penalties_rates_t rates = { 0 };
    bool with_pen = c->level >= 2 && penalties_rates_load(db, tenant, &rates) == 0;
    penalties_terms_t terms = { .creditor_country = c->cred_country, .debtor_country = c->country,
                                .debtor_business = c->business };
    for (size_t i = 0; with_pen && i < c->n; i++) {
        penalties_invoice_t pi = { .principal_minor = c->inv[i].open_minor, .due_date = c->inv[i].due_date };
        snprintf(pi.currency, sizeof pi.currency, "%s", c->currency);
        penalties_error_t perr;
        if (c->planned_date > c->inv[i].due_date
            && penalties_compute(&rates, &terms, &pi, c->planned_date, &c->pen[i], &perr) == 0)
            c->inv[i].penalties = &c->pen[i];
        else if (c->planned_date > c->inv[i].due_date)
            log_warn("penalties not computed tenant=%s reminder=%" PRId64 " invoice=%s field=%s reason=%s",
                     tenant, reminder_id, c->numbers[i], perr.field, perr.reason);
    }
    penalties_rates_free(&rates);

    render_data_t *d = &c->data;
    d->creditor = (render_party_t) { .name = c->cred_name, .company_id = nz(c->cred_company),
        .street = nz(c->cred_street), .postal_code = nz(c->cred_postal), .city = nz(c->cred_city),
        .country = c->cred_country, .email = nz(c->cred_email), .phone = nz(c->cred_phone) };
    d->debtor = (render_party_t) { .name = c->legal_name[0] ? c->legal_name : "?",
        .street = nz(c->street), .postal_code = nz(c->postal_code), .city = nz(c->city),
        .country = c->addr_country[0] ? c->addr_country : c->country, .email = nz(c->email),
        .phone = nz(c->phone) };
    d->language = c->language;
    d->place = nz(c->cred_city);
    d->signatory = nz(c->signatory);
    d->contact = nz(c->cred_email);
    d->date = c->planned_date;
    d->invoices = c->inv;
    d->n_invoices = c->n;
    d->pay = (render_payment_t) { .iban = nz(c->iban), .bic = nz(c->bic), .reference = c->reference,
                                  .url = nz(c->pay_url) };

    if (rem_compose_kind(c->template_key) == RENDER_MSG_INSTALMENT) {
        r = db_exec(db,
            "SELECT i.due_date - DATE '1970-01-01', i.amount_minor, i.number,"
            " (SELECT count(*) FROM rem_plan_instalments a WHERE a.tenant = i.tenant AND a.plan_id = i.plan_id)"
            " FROM reminder_instalments x JOIN rem_plan_instalments i"
            "   ON i.tenant = x.tenant AND i.plan_id = x.plan_id AND i.number = x.number"
            " WHERE x.tenant = $1 AND x.reminder_id = $2", 2, p);
        if (!r)
            return -1;
        if (PQntuples(r) == 1) {
            d->promise_date = (int32_t) strtol(PQgetvalue(r, 0, 0), NULL, 10);
            d->promise_minor = strtoll(PQgetvalue(r, 0, 1), NULL, 10);
            d->instalment_number = atoi(PQgetvalue(r, 0, 2));
            d->instalment_count = atoi(PQgetvalue(r, 0, 3));
        }
        PQclear(r);
    }

    render_message_t msg = { 0 };
    render_error_t err = { 0 };
    if (c->n > 0 && render_message(rem_compose_kind(c->template_key), d, RENDER_TEXT, &msg, &err) == 0) {
        c->subject = msg.subject;
        c->body = msg.body;
    } else {
        c->fallback_text = true;
        snprintf(c->render_error, sizeof c->render_error, "%s: %s", err.field, err.reason);
        log_warn("message not rendered, internal text used tenant=%s reminder=%" PRId64
                 " template=%s field=%s reason=%s", tenant, reminder_id, c->template_key,
                 err.field, err.reason);
        metric_inc(metrics_counter("creance_reminders_render_fallback_total",
                                   "Reminders sent with the internal text because rendering failed",
                                   NULL));
        internal_text(c);
    }
    return 0;
}

void rem_compose_free(rem_composed_t *c)
{
    free(c->subject);
    free(c->body);
    c->subject = c->body = NULL;
}
