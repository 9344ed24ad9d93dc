/*  render: formatting helpers, a small Mustache-like engine, and the
    reminder messages built on it. See render.h for the syntax and rules. */
#include "render.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dates.h"
#include "money.h"
#include "templates.h"

#define NBSP "\xc2\xa0"     /* U+00A0: amounts never break across lines */

/* ------------------------------------------------------------ buffers */

typedef struct {
    char *p;
    size_t n;
    size_t cap;
    bool oom;
} s_buf_t;

static void s_put(s_buf_t *b, const char *s, size_t len)
{
    if (b->oom)
        return;
    if (b->n + len + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->n + len + 1)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) {
            b->oom = true;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->n, s, len);
    b->n += len;
    b->p[b->n] = '\0';
}

static void s_puts(s_buf_t *b, const char *s) { s_put(b, s, strlen(s)); }

static void s_printf(s_buf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void s_printf(s_buf_t *b, const char *fmt, ...)
{
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n > 0)
        s_put(b, tmp, (size_t) n < sizeof tmp ? (size_t) n : sizeof tmp - 1);
}

static int s_fail(render_error_t *err, const char *field, size_t field_len, const char *reason)
{
    if (!err)
        return -1;
    if (field_len >= sizeof err->field)
        field_len = sizeof err->field - 1;
    memcpy(err->field, field, field_len);
    err->field[field_len] = '\0';
    snprintf(err->reason, sizeof err->reason, "%s", reason);
    return -1;
}

/* ------------------------------------------------------------ formatting */

render_lang_t render_lang_for(const char *language, const char *country)
{
    if (country && strcasecmp(country, "FR") == 0)
        return RENDER_LANG_FR;
    if (language && strncasecmp(language, "fr", 2) == 0 && (language[2] == '\0' || language[2] == '-'
                                                            || language[2] == '_'))
        return RENDER_LANG_FR;
    return RENDER_LANG_EN;
}

const char *render_lang_code(render_lang_t lang)
{
    return lang == RENDER_LANG_FR ? "fr" : "en";
}

static const char *s_symbol(const char *currency)
{
    if (strcmp(currency, "EUR") == 0) return "€";
    if (strcmp(currency, "GBP") == 0) return "£";
    if (strcmp(currency, "USD") == 0) return "$";
    return NULL;
}

bool render_money(int64_t minor, const char *currency, render_lang_t lang, char *out, size_t outlen)
{
    int e = currency ? currency_exponent(currency) : -1;
    if (e < 0 || outlen == 0) {
        if (outlen)
            out[0] = '\0';
        return false;
    }
    bool neg = minor < 0;
    uint64_t abs = neg ? (uint64_t) 0 - (uint64_t) minor : (uint64_t) minor;
    uint64_t pow = 1;
    for (int i = 0; i < e; i++)
        pow *= 10;
    uint64_t ip = abs / pow, fp = abs % pow;

    /*  Integer part, grouped by three from the right. */
    char digits[24], grouped[64];
    int nd = snprintf(digits, sizeof digits, "%llu", (unsigned long long) ip);
    const char *sep = lang == RENDER_LANG_FR ? NBSP : ",";
    size_t g = 0;
    for (int i = 0; i < nd; i++) {
        if (i > 0 && (nd - i) % 3 == 0)
            for (const char *s = sep; *s; s++)
                grouped[g++] = *s;
        grouped[g++] = digits[i];
    }
    grouped[g] = '\0';
    char frac[24] = "";
    if (e > 0 && e <= 4)        /* ISO 4217 exponents are 0 to 4 */
        snprintf(frac, sizeof frac, "%s%0*llu", lang == RENDER_LANG_FR ? "," : ".", e,
                 (unsigned long long) fp);

    const char *sym = s_symbol(currency);
    if (lang == RENDER_LANG_FR)
        snprintf(out, outlen, "%s%s%s" NBSP "%s", neg ? "-" : "", grouped, frac, sym ? sym : currency);
    else if (sym)
        snprintf(out, outlen, "%s%s%s%s", neg ? "-" : "", sym, grouped, frac);
    else
        snprintf(out, outlen, "%s%s" NBSP "%s%s", neg ? "-" : "", currency, grouped, frac);
    return true;
}

static const char *const s_months_fr[12] = {
    "janvier", "février", "mars", "avril", "mai", "juin",
    "juillet", "août", "septembre", "octobre", "novembre", "décembre" };
static const char *const s_months_en[12] = {
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December" };

void render_date(int32_t days, render_lang_t lang, char *out, size_t outlen)
{
    int y, m, d;
    date_from_days(days, &y, &m, &d);
    if (lang == RENDER_LANG_FR)
        snprintf(out, outlen, "%02d/%02d/%04d", d, m, y);
    else
        snprintf(out, outlen, "%d %.3s %04d", d, s_months_en[m - 1], y);
}

void render_date_long(int32_t days, render_lang_t lang, char *out, size_t outlen)
{
    int y, m, d;
    date_from_days(days, &y, &m, &d);
    if (lang == RENDER_LANG_FR)     /* "1er août", then "2 août" */
        snprintf(out, outlen, "%d%s %s %04d", d, d == 1 ? "er" : "", s_months_fr[m - 1], y);
    else
        snprintf(out, outlen, "%d %s %04d", d, s_months_en[m - 1], y);
}

void render_rate(int32_t bps, render_lang_t lang, char *out, size_t outlen)
{
    const char *sign = bps < 0 ? "-" : "";
    unsigned a = bps < 0 ? (unsigned) -(int64_t) bps : (unsigned) bps;
    if (lang == RENDER_LANG_FR)
        snprintf(out, outlen, "%s%u,%02u" NBSP "%%", sign, a / 100, a % 100);
    else
        snprintf(out, outlen, "%s%u.%02u%%", sign, a / 100, a % 100);
}

/*  The words of each rule set, per language. */
static const char *s_reference_name(penalties_rules_t r, render_lang_t fr)
{
    switch (r) {
    case PENALTIES_RULES_FR: return fr ? "taux BCE" : "ECB rate";
    case PENALTIES_RULES_EU: return fr ? "taux de référence" : "reference rate";
    case PENALTIES_RULES_UK: return fr ? "taux de base de la Banque d'Angleterre" : "Bank of England base rate";
    default: return fr ? "taux contractuel" : "contract rate";
    }
}

static const char *s_basis(penalties_rules_t r, render_lang_t lang)
{
    bool fr = lang == RENDER_LANG_FR;
    switch (r) {
    case PENALTIES_RULES_FR:
        return fr ? "articles L441-10 et D441-5 du Code de commerce"
                  : "articles L441-10 and D441-5 of the French Commercial Code";
    case PENALTIES_RULES_EU:
        return fr ? "directive 2011/7/UE concernant la lutte contre le retard de paiement"
                  : "Directive 2011/7/EU on combating late payment";
    case PENALTIES_RULES_UK:
        return "Late Payment of Commercial Debts (Interest) Act 1998";
    case PENALTIES_RULES_CONTRACT:
        return fr ? "conditions contractuelles" : "the terms of the contract";
    default:
        return "";
    }
}

size_t render_penalties_explain(const penalties_result_t *p, render_lang_t lang, char *out, size_t outlen)
{
    s_buf_t b = { 0 };
    bool fr = lang == RENDER_LANG_FR;
    char from[24], to[24], rate[24], ref[24], flo[24], amt[48];
    for (size_t i = 0; i < p->n_segments; i++) {
        const penalties_segment_t *s = &p->seg[i];
        render_date(s->from, lang, from, sizeof from);
        render_date(s->to, lang, to, sizeof to);
        render_rate(s->rate_bps, lang, rate, sizeof rate);
        render_rate(s->reference_bps, lang, ref, sizeof ref);
        render_money(s->interest_minor, p->currency, lang, amt, sizeof amt);
        if (i)
            s_puts(&b, "\n");
        if (fr)
            s_printf(&b, "%s du %s au %s, %d jour%s à %s", "Intérêts", from, to, s->days,
                     s->days > 1 ? "s" : "", rate);
        else
            s_printf(&b, "Interest from %s to %s, %d day%s at %s", from, to, s->days,
                     s->days > 1 ? "s" : "", rate);
        if (s->floor_applied) {
            render_rate(s->floor_bps / 3, lang, flo, sizeof flo);
            s_printf(&b, fr ? " (3 × taux d'intérêt légal %s, plancher)"
                            : " (3 × French legal interest rate %s, the floor)", flo);
        } else if (s->margin_bps > 0) {
            s_printf(&b, fr ? " (%s %s + %d points)" : " (%s %s + %d points)",
                     s_reference_name(p->rules, fr), ref, s->margin_bps / 100);
        } else {
            s_printf(&b, " (%s)", s_reference_name(PENALTIES_RULES_CONTRACT, fr));
        }
        s_printf(&b, "%s%s", fr ? NBSP ": " : ": ", amt);
    }
    if (p->fixed_minor > 0) {
        render_money(p->fixed_minor, p->currency, lang, amt, sizeof amt);
        if (b.n)
            s_puts(&b, "\n");
        s_printf(&b, fr ? "Indemnité forfaitaire pour frais de recouvrement (%s)" NBSP ": %s"
                        : "Fixed compensation for recovery costs (%s): %s",
                 s_basis(p->rules, lang), amt);
    }
    size_t n = 0;
    if (outlen) {
        n = b.n < outlen - 1 ? b.n : outlen - 1;
        if (n)
            memcpy(out, b.p, n);
        out[n] = '\0';
    }
    free(b.p);
    return n;
}

/* ------------------------------------------------------------ contexts */

typedef struct {
    char *name;
    char *value;                    /* NULL for a list */
    render_ctx_t **items;
    size_t n_items;
    size_t cap_items;
} s_entry_t;

struct render_ctx_t {
    render_ctx_t *parent;           /* where a name not found here is looked up */
    s_entry_t *v;
    size_t n;
    size_t cap;
};

render_ctx_t *render_ctx_new(void)
{
    return calloc(1, sizeof(render_ctx_t));
}

void render_ctx_destroy(render_ctx_t **self_p)
{
    render_ctx_t *self = self_p ? *self_p : NULL;
    if (!self)
        return;
    for (size_t i = 0; i < self->n; i++) {
        free(self->v[i].name);
        free(self->v[i].value);
        for (size_t j = 0; j < self->v[i].n_items; j++)
            render_ctx_destroy(&self->v[i].items[j]);
        free(self->v[i].items);
    }
    free(self->v);
    free(self);
    *self_p = NULL;
}

static s_entry_t *s_find_local(const render_ctx_t *self, const char *name, size_t len)
{
    for (size_t i = 0; i < self->n; i++)
        if (strlen(self->v[i].name) == len && memcmp(self->v[i].name, name, len) == 0)
            return &self->v[i];
    return NULL;
}

static const s_entry_t *s_lookup(const render_ctx_t *ctx, const char *name, size_t len)
{
    for (; ctx; ctx = ctx->parent) {
        const s_entry_t *e = s_find_local(ctx, name, len);
        if (e)
            return e;
    }
    return NULL;
}

static s_entry_t *s_entry(render_ctx_t *self, const char *name)
{
    s_entry_t *e = s_find_local(self, name, strlen(name));
    if (e)
        return e;
    if (self->n == self->cap) {
        size_t cap = self->cap ? self->cap * 2 : 16;
        s_entry_t *v = realloc(self->v, cap * sizeof *v);
        if (!v)
            return NULL;
        self->v = v;
        self->cap = cap;
    }
    e = &self->v[self->n];
    memset(e, 0, sizeof *e);
    if (!(e->name = strdup(name)))
        return NULL;
    self->n++;
    return e;
}

int render_ctx_set(render_ctx_t *self, const char *name, const char *value)
{
    s_entry_t *e = s_entry(self, name);
    if (!e)
        return -1;
    char *v = strdup(value ? value : "");
    if (!v)
        return -1;
    for (size_t j = 0; j < e->n_items; j++)
        render_ctx_destroy(&e->items[j]);
    free(e->items);
    e->items = NULL;
    e->n_items = e->cap_items = 0;
    free(e->value);
    e->value = v;
    return 0;
}

int render_ctx_setf(render_ctx_t *self, const char *name, const char *fmt, ...)
{
    char *s = NULL;
    va_list ap;
    va_start(ap, fmt);
    int n = vasprintf(&s, fmt, ap);
    va_end(ap);
    if (n < 0)
        return -1;
    int rc = render_ctx_set(self, name, s);
    free(s);
    return rc;
}

int render_ctx_list(render_ctx_t *self, const char *name)
{
    s_entry_t *e = s_entry(self, name);
    if (!e)
        return -1;
    free(e->value);
    e->value = NULL;
    return 0;
}

render_ctx_t *render_ctx_add(render_ctx_t *self, const char *name)
{
    if (render_ctx_list(self, name) != 0)
        return NULL;
    s_entry_t *e = s_find_local(self, name, strlen(name));
    if (e->n_items == e->cap_items) {
        size_t cap = e->cap_items ? e->cap_items * 2 : 8;
        render_ctx_t **items = realloc(e->items, cap * sizeof *items);
        if (!items)
            return NULL;
        e->items = items;
        e->cap_items = cap;
    }
    render_ctx_t *item = render_ctx_new();
    if (!item)
        return NULL;
    item->parent = self;
    e->items[e->n_items++] = item;
    return item;
}

/* ------------------------------------------------------------ the engine */

char *render_html_escape(const char *s)
{
    s_buf_t b = { 0 };
    s_put(&b, "", 0);
    for (; s && *s; s++) {
        switch (*s) {
        case '&': s_puts(&b, "&amp;"); break;
        case '<': s_puts(&b, "&lt;"); break;
        case '>': s_puts(&b, "&gt;"); break;
        case '"': s_puts(&b, "&quot;"); break;
        case '\'': s_puts(&b, "&#39;"); break;
        default: s_put(&b, s, 1);
        }
    }
    if (b.oom) {
        free(b.p);
        return NULL;
    }
    return b.p;
}

static bool s_blank(char c) { return c == ' ' || c == '\t'; }

/*  Mustache "standalone" lines: a line holding only a section, inverted,
    close or comment tag (and blanks) disappears entirely, so a loop in a
    plain-text template does not leave empty lines behind. */
static char *s_strip_standalone(const char *t)
{
    s_buf_t b = { 0 };
    s_put(&b, "", 0);
    const char *line = t;
    while (*line) {
        const char *eol = strchr(line, '\n');
        const char *end = eol ? eol : line + strlen(line);
        const char *p = line;
        while (p < end && s_blank(*p))
            p++;
        bool standalone = false;
        const char *tag = p;
        if (end - p >= 5 && p[0] == '{' && p[1] == '{' && strchr("#^/!", p[2])) {
            const char *close = strstr(p + 2, "}}");
            if (close && close < end) {
                const char *q = close + 2;
                while (q < end && s_blank(*q))
                    q++;
                if (q == end || (q + 1 == end && *q == '\r')) {
                    standalone = true;
                    s_put(&b, tag, (size_t) (close + 2 - tag));
                }
            }
        }
        if (!standalone)
            s_put(&b, line, (size_t) (end - line) + (eol ? 1 : 0));
        line = eol ? eol + 1 : end;
    }
    if (b.oom) {
        free(b.p);
        return NULL;
    }
    return b.p;
}

static void s_trim(const char **s, size_t *len)
{
    while (*len && s_blank(**s)) {
        (*s)++;
        (*len)--;
    }
    while (*len && s_blank((*s)[*len - 1]))
        (*len)--;
}

/*  Finds the {{/name}} closing the section whose body starts at `p`;
    sets *body_end (start of the closing tag) and *after (past it). */
static int s_find_close(const char *p, const char *end, const char *name, size_t nlen,
                        const char **body_end, const char **after, render_error_t *err)
{
    int depth = 1;
    while (p < end) {
        const char *open = strstr(p, "{{");
        if (!open || open >= end)
            break;
        const char *close = strstr(open + 2, "}}");
        if (!close || close >= end)
            return s_fail(err, open, (size_t) (end - open) > 20 ? 20 : (size_t) (end - open), "unclosed tag");
        char kind = open[2];
        if (kind == '#' || kind == '^') {
            depth++;
        } else if (kind == '/') {
            if (--depth == 0) {
                const char *n = open + 3;
                size_t len = (size_t) (close - n);
                s_trim(&n, &len);
                if (len != nlen || memcmp(n, name, nlen) != 0)
                    return s_fail(err, n, len, "closes a different section");
                *body_end = open;
                *after = close + 2;
                return 0;
            }
        }
        p = close + 2;
        if (kind == '{' && p < end && *p == '}')
            p++;
    }
    return s_fail(err, name, nlen, "unclosed section");
}

static int s_render(const char *t, const char *end, const render_ctx_t *ctx, render_mode_t mode,
                    s_buf_t *out, render_error_t *err)
{
    const char *p = t;
    while (p < end) {
        const char *open = strstr(p, "{{");
        if (!open || open >= end) {
            s_put(out, p, (size_t) (end - p));
            break;
        }
        s_put(out, p, (size_t) (open - p));
        bool triple = open[2] == '{';
        const char *close = strstr(open + 2, triple ? "}}}" : "}}");
        if (!close || close >= end)
            return s_fail(err, open, (size_t) (end - open) > 20 ? 20 : (size_t) (end - open),
                          "unclosed tag");
        const char *after = close + (triple ? 3 : 2);
        char kind = open[2];
        const char *name = open + 2 + (strchr("{#^/!&", kind) && kind ? 1 : 0);
        size_t nlen = (size_t) (close - name);
        s_trim(&name, &nlen);
        if (kind == '!') {
            p = after;
            continue;
        }
        if (nlen == 0)
            return s_fail(err, open, (size_t) (after - open), "empty tag");
        if (kind == '/')
            return s_fail(err, name, nlen, "close without an open section");

        const s_entry_t *e = s_lookup(ctx, name, nlen);
        if (kind == '#' || kind == '^') {
            const char *body_end = NULL, *next = NULL;
            if (s_find_close(after, end, name, nlen, &body_end, &next, err) != 0)
                return -1;
            if (!e)
                return s_fail(err, name, nlen, "missing section");
            bool empty = e->value ? e->value[0] == '\0' : e->n_items == 0;
            if (kind == '^') {
                if (empty && s_render(after, body_end, ctx, mode, out, err) != 0)
                    return -1;
            } else if (e->value) {
                if (!empty && s_render(after, body_end, ctx, mode, out, err) != 0)
                    return -1;
            } else {
                for (size_t i = 0; i < e->n_items; i++)
                    if (s_render(after, body_end, e->items[i], mode, out, err) != 0)
                        return -1;
            }
            p = next;
            continue;
        }
        if (!e)
            return s_fail(err, name, nlen, "missing variable");
        if (!e->value)
            return s_fail(err, name, nlen, "is a list, not a value");
        if (mode == RENDER_HTML && !triple && kind != '&') {
            char *esc = render_html_escape(e->value);
            if (!esc)
                return s_fail(err, name, nlen, "out of memory");
            s_puts(out, esc);
            free(esc);
        } else {
            s_puts(out, e->value);
        }
        p = after;
    }
    return 0;
}

int render_template(const char *tmpl, const render_ctx_t *ctx, render_mode_t mode,
                    char **out, render_error_t *err)
{
    *out = NULL;
    if (err)
        memset(err, 0, sizeof *err);
    char *t = s_strip_standalone(tmpl ? tmpl : "");
    if (!t)
        return s_fail(err, "template", 8, "out of memory");
    s_buf_t b = { 0 };
    s_put(&b, "", 0);
    int rc = s_render(t, t + strlen(t), ctx, mode, &b, err);
    free(t);
    if (rc == 0 && b.oom)
        rc = s_fail(err, "template", 8, "out of memory");
    if (rc != 0) {
        free(b.p);
        return -1;
    }
    *out = b.p;
    return 0;
}

/* ------------------------------------------------------------ messages */

static const char *const s_msg_names[RENDER_MSG_COUNT] = {
    "courtesy", "friendly", "firm", "phone_script", "formal_notice", "handoff",
    "instalment", "promise",
};

const char *render_msg_name(render_msg_t kind)
{
    return kind < RENDER_MSG_COUNT ? s_msg_names[kind] : "unknown";
}

int render_msg_from_name(const char *name)
{
    /*  The template keys of rem_policy_levels (0035) are accepted too. */
    static const struct { const char *alias; render_msg_t kind; } aliases[] = {
        { "phone_call", RENDER_MSG_PHONE_SCRIPT },
        { "phone", RENDER_MSG_PHONE_SCRIPT },
        { "mise_en_demeure", RENDER_MSG_FORMAL_NOTICE },
        { "legal", RENDER_MSG_HANDOFF },
        { "plan", RENDER_MSG_INSTALMENT },
        { "installment", RENDER_MSG_INSTALMENT },
    };
    if (!name)
        return -1;
    for (int i = 0; i < RENDER_MSG_COUNT; i++)
        if (strcmp(s_msg_names[i], name) == 0)
            return i;
    for (size_t i = 0; i < sizeof aliases / sizeof aliases[0]; i++)
        if (strcmp(aliases[i].alias, name) == 0)
            return (int) aliases[i].kind;
    return -1;
}

void render_totals(const render_data_t *data, render_totals_t *out)
{
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < data->n_invoices; i++) {
        const render_invoice_t *inv = &data->invoices[i];
        out->open_minor += inv->open_minor;
        if (inv->penalties) {
            out->interest_minor += inv->penalties->interest_minor;
            out->fixed_minor += inv->penalties->fixed_minor;
        }
    }
    out->due_minor = out->open_minor + out->interest_minor + out->fixed_minor;
}

static const char *s_or(const char *s) { return s ? s : ""; }

static int s_set_party(render_ctx_t *c, const char *prefix, const render_party_t *p)
{
    char key[48];
    int rc = 0;
#define SET(field, value) \
    (snprintf(key, sizeof key, "%s_%s", prefix, field), rc |= render_ctx_set(c, key, value))
    SET("name", s_or(p->name));
    SET("company_id", s_or(p->company_id));
    SET("street", s_or(p->street));
    SET("postal_code", s_or(p->postal_code));
    SET("city", s_or(p->city));
    SET("country", s_or(p->country));
    SET("email", s_or(p->email));
    SET("phone", s_or(p->phone));
    /*  "street\npostal_code city\ncountry", skipping the empty parts. */
    s_buf_t b = { 0 };
    s_put(&b, "", 0);
    if (p->street && *p->street)
        s_printf(&b, "%s", p->street);
    if ((p->postal_code && *p->postal_code) || (p->city && *p->city))
        s_printf(&b, "%s%s%s%s", b.n ? "\n" : "", s_or(p->postal_code),
                 p->postal_code && *p->postal_code && p->city && *p->city ? " " : "", s_or(p->city));
    if (p->country && *p->country)
        s_printf(&b, "%s%s", b.n ? "\n" : "", p->country);
    SET("address", b.oom ? "" : b.p);
    free(b.p);
#undef SET
    return rc;
}

render_ctx_t *render_ctx_from_data(const render_data_t *d, render_lang_t lang, render_error_t *err)
{
    if (err)
        memset(err, 0, sizeof *err);
    if (!d->debtor.name || !*d->debtor.name) {
        s_fail(err, "debtor.name", 11, "missing");
        return NULL;
    }
    if (!d->creditor.name || !*d->creditor.name) {
        s_fail(err, "creditor.name", 13, "missing");
        return NULL;
    }
    const char *currency = d->n_invoices ? d->invoices[0].currency : NULL;
    char field[48];
    for (size_t i = 0; i < d->n_invoices; i++) {
        const render_invoice_t *inv = &d->invoices[i];
        if (!inv->number || !*inv->number) {
            snprintf(field, sizeof field, "invoices[%zu].number", i);
            s_fail(err, field, strlen(field), "missing");
            return NULL;
        }
        if (!inv->currency || currency_exponent(inv->currency) < 0) {
            snprintf(field, sizeof field, "invoices[%zu].currency", i);
            s_fail(err, field, strlen(field), "unknown currency");
            return NULL;
        }
        if (strcmp(inv->currency, currency) != 0
            || (inv->penalties && strcmp(inv->penalties->currency, currency) != 0)) {
            snprintf(field, sizeof field, "invoices[%zu].currency", i);
            s_fail(err, field, strlen(field), "differs from invoices[0]: one currency per message");
            return NULL;
        }
    }

    render_ctx_t *c = render_ctx_new();
    if (!c) {
        s_fail(err, "context", 7, "out of memory");
        return NULL;
    }
    int rc = 0;
    char a[48], b2[48];
    bool fr = lang == RENDER_LANG_FR;
    rc |= render_ctx_set(c, "lang", render_lang_code(lang));
    rc |= s_set_party(c, "creditor", &d->creditor);
    rc |= s_set_party(c, "debtor", &d->debtor);
    render_date(d->date, lang, a, sizeof a);
    rc |= render_ctx_set(c, "date", a);
    render_date_long(d->date, lang, a, sizeof a);
    rc |= render_ctx_set(c, "date_long", a);
    rc |= render_ctx_set(c, "place", s_or(d->place));
    if (d->place && *d->place)
        rc |= render_ctx_setf(c, "place_date", fr ? "%s, le %s" : "%s, %s", d->place, a);
    else
        rc |= render_ctx_setf(c, "place_date", fr ? "Le %s" : "%s", a);
    int dd = d->deadline_days > 0 ? d->deadline_days : RENDER_DEFAULT_DEADLINE_DAYS;
    rc |= render_ctx_setf(c, "deadline_days", "%d", dd);
    render_date(d->date + dd, lang, a, sizeof a);
    rc |= render_ctx_set(c, "deadline", a);
    render_date_long(d->date + dd, lang, a, sizeof a);
    rc |= render_ctx_set(c, "deadline_long", a);
    rc |= render_ctx_set(c, "signatory", s_or(d->signatory));
    rc |= render_ctx_set(c, "contact", s_or(d->contact));
    rc |= render_ctx_set(c, "iban", s_or(d->pay.iban));
    rc |= render_ctx_set(c, "bic", s_or(d->pay.bic));
    rc |= render_ctx_set(c, "reference", s_or(d->pay.reference));
    rc |= render_ctx_set(c, "pay_url", s_or(d->pay.url));
    rc |= render_ctx_setf(c, "invoice_count", "%zu", d->n_invoices);
    rc |= render_ctx_set(c, "currency", s_or(currency));

    /*  The invoices, and which rules the penalties follow (one creditor and
        one debtor per message: the first invoice with penalties says). */
    penalties_rules_t rules = PENALTIES_RULES_NONE;
    rc |= render_ctx_list(c, "invoices");
    for (size_t i = 0; i < d->n_invoices; i++) {
        const render_invoice_t *inv = &d->invoices[i];
        const penalties_result_t *p = inv->penalties;
        render_ctx_t *it = render_ctx_add(c, "invoices");
        if (!it) {
            rc = -1;
            break;
        }
        rc |= render_ctx_set(it, "number", inv->number);
        render_date(inv->issue_date, lang, a, sizeof a);
        rc |= render_ctx_set(it, "issue_date", a);
        render_date(inv->due_date, lang, a, sizeof a);
        rc |= render_ctx_set(it, "due_date", a);
        render_money(inv->amount_minor, inv->currency, lang, a, sizeof a);
        rc |= render_ctx_set(it, "amount", a);
        render_money(inv->open_minor, inv->currency, lang, a, sizeof a);
        rc |= render_ctx_set(it, "open", a);
        rc |= render_ctx_setf(it, "days_late", "%d", d->date > inv->due_date ? d->date - inv->due_date : 0);
        bool has = p && p->total_minor > 0;
        rc |= render_ctx_set(it, "has_penalties", has ? "1" : "");
        render_money(p ? p->interest_minor : 0, inv->currency, lang, a, sizeof a);
        rc |= render_ctx_set(it, "interest", a);
        render_money(p ? p->fixed_minor : 0, inv->currency, lang, a, sizeof a);
        rc |= render_ctx_set(it, "fixed", a);
        render_money(p ? p->total_minor : 0, inv->currency, lang, a, sizeof a);
        rc |= render_ctx_set(it, "penalties_total", a);
        char explain[2048] = "";
        if (has)
            render_penalties_explain(p, lang, explain, sizeof explain);
        rc |= render_ctx_set(it, "penalties_explain", explain);
        if (has && rules == PENALTIES_RULES_NONE)
            rules = p->rules;
    }

    render_totals_t t;
    render_totals(d, &t);
    const char *cur = currency ? currency : "EUR";
    render_money(t.open_minor, cur, lang, a, sizeof a);
    rc |= render_ctx_set(c, "total_open", a);
    render_money(t.interest_minor, cur, lang, a, sizeof a);
    rc |= render_ctx_set(c, "total_interest", a);
    render_money(t.fixed_minor, cur, lang, a, sizeof a);
    rc |= render_ctx_set(c, "total_fixed", a);
    render_money(t.interest_minor + t.fixed_minor, cur, lang, a, sizeof a);
    rc |= render_ctx_set(c, "total_penalties", a);
    render_money(t.due_minor, cur, lang, a, sizeof a);
    rc |= render_ctx_set(c, "total_due", a);
    rc |= render_ctx_set(c, "has_penalties", rules != PENALTIES_RULES_NONE ? "1" : "");
    rc |= render_ctx_set(c, "penalties_basis", s_basis(rules, lang));

    render_date(d->promise_date, lang, a, sizeof a);
    rc |= render_ctx_set(c, "promise_date", d->promise_date ? a : "");
    render_money(d->promise_minor, cur, lang, b2, sizeof b2);
    rc |= render_ctx_set(c, "promise_amount", b2);
    rc |= render_ctx_setf(c, "instalment_number", "%d", d->instalment_number);
    rc |= render_ctx_setf(c, "instalment_count", "%d", d->instalment_count);
    if (rc != 0) {
        render_ctx_destroy(&c);
        s_fail(err, "context", 7, "out of memory");
        return NULL;
    }
    return c;
}

int render_message(render_msg_t kind, const render_data_t *data, render_mode_t mode,
                   render_message_t *out, render_error_t *err)
{
    memset(out, 0, sizeof *out);
    if (err)
        memset(err, 0, sizeof *err);
    if ((unsigned) kind >= RENDER_MSG_COUNT)
        return s_fail(err, "kind", 4, "unknown message kind");
    /*  The debtor's language, then English, then French. */
    render_lang_t lang = render_lang_for(data->language, data->debtor.country);
    const templates_entry_t *t = templates_find(kind, lang);
    if (!t && lang != RENDER_LANG_EN)
        t = templates_find(kind, lang = RENDER_LANG_EN);
    if (!t)
        t = templates_find(kind, lang = RENDER_LANG_FR);
    if (!t)
        return s_fail(err, "kind", 4, "no template for this kind");
    render_ctx_t *c = render_ctx_from_data(data, lang, err);
    if (!c)
        return -1;
    int rc = render_template(t->subject, c, RENDER_TEXT, &out->subject, err);
    if (rc == 0)
        rc = render_template(t->body, c, mode, &out->body, err);
    render_ctx_destroy(&c);
    if (rc != 0) {
        render_message_free(out);
        return -1;
    }
    /*  A subject is one line whatever the values held. */
    for (char *s = out->subject; *s; s++)
        if (*s == '\n' || *s == '\r')
            *s = ' ';
    out->lang = lang;
    return 0;
}

void render_message_free(render_message_t *msg)
{
    free(msg->subject);
    free(msg->body);
    msg->subject = msg->body = NULL;
}
