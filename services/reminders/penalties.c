/*  penalties: statutory late-payment interest and fixed compensation.
    See penalties.h for the rules, the arithmetic and their sources. */
#include "penalties.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dates.h"
#include "log.h"
#include "money.h"

/* ------------------------------------------------------------ rate kinds */

static const struct {
    penalties_kind_t kind;
    const char *name;
} s_kinds[] = {
    { PENALTIES_ECB_REFI, "ECB_REFI" },
    { PENALTIES_LEGAL_RATE_PRO, "LEGAL_RATE_PRO" },
    { PENALTIES_LEGAL_RATE_CONSUMER, "LEGAL_RATE_CONSUMER" },
    { PENALTIES_BOE_BASE, "BOE_BASE" },
    { PENALTIES_EU_REFERENCE, "EU_REFERENCE" },
};

const char *penalties_kind_name(penalties_kind_t kind)
{
    for (size_t i = 0; i < sizeof s_kinds / sizeof s_kinds[0]; i++)
        if (s_kinds[i].kind == kind)
            return s_kinds[i].name;
    return "UNKNOWN";
}

penalties_kind_t penalties_kind_from_name(const char *name)
{
    for (size_t i = 0; name && i < sizeof s_kinds / sizeof s_kinds[0]; i++)
        if (strcmp(s_kinds[i].name, name) == 0)
            return s_kinds[i].kind;
    return 0;
}

const char *penalties_rules_name(penalties_rules_t rules)
{
    switch (rules) {
    case PENALTIES_RULES_FR: return "fr";
    case PENALTIES_RULES_EU: return "eu";
    case PENALTIES_RULES_UK: return "uk";
    case PENALTIES_RULES_CONTRACT: return "contract";
    default: return "none";
    }
}

/* ------------------------------------------------------------ rate table */

static bool s_country_ok(const char *c)
{
    return c && c[0] >= 'A' && c[0] <= 'Z' && c[1] >= 'A' && c[1] <= 'Z' && c[2] == '\0';
}

static int s_rate_cmp(const penalties_rate_t *a, penalties_kind_t kind, const char *jur, int32_t from)
{
    if (a->kind != kind)
        return a->kind < kind ? -1 : 1;
    int c = strcmp(a->jurisdiction, jur);
    if (c)
        return c;
    return a->valid_from < from ? -1 : a->valid_from > from;
}

int penalties_rates_add(penalties_rates_t *rates, const char *jurisdiction,
                        penalties_kind_t kind, int32_t valid_from, int32_t bps)
{
    if (!s_country_ok(jurisdiction) || !penalties_kind_from_name(penalties_kind_name(kind)))
        return -1;
    /*  Sorted insertion: tables hold a few dozen rows, loaded once per pass. */
    size_t i = 0;
    while (i < rates->n && s_rate_cmp(&rates->v[i], kind, jurisdiction, valid_from) < 0)
        i++;
    if (i < rates->n && s_rate_cmp(&rates->v[i], kind, jurisdiction, valid_from) == 0) {
        rates->v[i].bps = bps;
        return 0;
    }
    if (rates->n == rates->cap) {
        size_t cap = rates->cap ? rates->cap * 2 : 32;
        penalties_rate_t *v = realloc(rates->v, cap * sizeof *v);
        if (!v)
            return -1;
        rates->v = v;
        rates->cap = cap;
    }
    memmove(&rates->v[i + 1], &rates->v[i], (rates->n - i) * sizeof *rates->v);
    penalties_rate_t *r = &rates->v[i];
    memcpy(r->jurisdiction, jurisdiction, 3);
    r->kind = kind;
    r->valid_from = valid_from;
    r->bps = bps;
    rates->n++;
    return 0;
}

void penalties_rates_free(penalties_rates_t *rates)
{
    free(rates->v);
    memset(rates, 0, sizeof *rates);
}

/*  The row in force on `date`, or NULL. */
static const penalties_rate_t *s_rate_row(const penalties_rates_t *rates, const char *jur,
                                          penalties_kind_t kind, int32_t date)
{
    const penalties_rate_t *found = NULL;
    for (size_t i = 0; rates && i < rates->n; i++) {
        const penalties_rate_t *r = &rates->v[i];
        if (r->kind == kind && strcmp(r->jurisdiction, jur) == 0 && r->valid_from <= date)
            found = r;      /* sorted by valid_from: the last match wins */
    }
    return found;
}

bool penalties_rate_at(const penalties_rates_t *rates, const char *jurisdiction,
                       penalties_kind_t kind, int32_t date, int32_t *bps)
{
    const penalties_rate_t *r = s_rate_row(rates, jurisdiction, kind, date);
    if (r)
        *bps = r->bps;
    return r != NULL;
}

int penalties_rates_load(db_t *db, const char *tenant, penalties_rates_t *rates)
{
    rates->n = 0;
    /*  The tenant's row wins over the default of the same key: DISTINCT ON
        keeps the first row of each key, and (tenant IS NULL) sorts false
        (the tenant's) before true (the default). */
    const char *params[1] = { tenant };
    PGresult *res = db_exec(db,
        "SELECT DISTINCT ON (kind, jurisdiction, valid_from) "
        "       kind, jurisdiction, valid_from::text, bps "
        "  FROM reminder_rates WHERE tenant = $1 OR tenant IS NULL "
        " ORDER BY kind, jurisdiction, valid_from, (tenant IS NULL)", 1, params);
    if (!res)
        return -1;
    for (int i = 0; i < PQntuples(res); i++) {
        penalties_kind_t kind = penalties_kind_from_name(PQgetvalue(res, i, 0));
        int32_t from;
        if (!kind || !date_parse(PQgetvalue(res, i, 2), &from)
            || penalties_rates_add(rates, PQgetvalue(res, i, 1), kind, from,
                                   (int32_t) atol(PQgetvalue(res, i, 3))) != 0)
            /*  The CHECKs of 0030 make this unreachable short of memory. */
            log_warn("reminder rate skipped tenant=%s kind=%s jurisdiction=%s valid_from=%s",
                        tenant, PQgetvalue(res, i, 0), PQgetvalue(res, i, 1), PQgetvalue(res, i, 2));
    }
    PQclear(res);
    return 0;
}

/* ------------------------------------------------------------ rules */

bool penalties_is_eu(const char *c)
{
    static const char *const eu[] = {
        "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU",
        "IE", "IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK",
    };
    for (size_t i = 0; c && i < sizeof eu / sizeof eu[0]; i++)
        if (strcmp(eu[i], c) == 0)
            return true;
    return false;
}

penalties_rules_t penalties_rules_for(const penalties_terms_t *t)
{
    if (!t->debtor_business)
        return t->contract_rate_bps > 0 ? PENALTIES_RULES_CONTRACT : PENALTIES_RULES_NONE;
    const char *c = t->creditor_country ? t->creditor_country : "";
    if (strcmp(c, "FR") == 0)
        return PENALTIES_RULES_FR;
    if (strcmp(c, "GB") == 0)
        return PENALTIES_RULES_UK;
    if (penalties_is_eu(c))
        return PENALTIES_RULES_EU;
    return PENALTIES_RULES_NONE;
}

/* ------------------------------------------------------------ arithmetic */

/*  round_half_up(n / d) for d > 0, away from zero for negatives, so that a
    credit and a debit of the same size give the same magnitude. */
static __int128 s_div_round(__int128 n, __int128 d)
{
    return n >= 0 ? (n + d / 2) / d : -((-n + d / 2) / d);
}

/*  365 days x 10,000 bp per unit. */
#define DENOM ((__int128) 365 * 10000)

static bool s_interest(int64_t principal, int32_t bps, int32_t days, int64_t *out)
{
    __int128 q = s_div_round((__int128) principal * bps * days, DENOM);
    if (q > INT64_MAX || q < INT64_MIN)
        return false;
    *out = (int64_t) q;
    return true;
}

int64_t penalties_interest(int64_t principal_minor, int32_t rate_bps, int32_t days)
{
    int64_t v = 0;
    if (!s_interest(principal_minor, rate_bps, days, &v))
        return principal_minor >= 0 ? INT64_MAX : INT64_MIN;
    return v;
}

int64_t penalties_uk_fixed(int64_t debt_minor)
{
    if (debt_minor < 100000)
        return 4000;
    if (debt_minor < 1000000)
        return 7000;
    return 10000;
}

int32_t penalties_half_start(int32_t date)
{
    int y, m, d;
    date_from_days(date, &y, &m, &d);
    return date_to_days(y, m <= 6 ? 1 : 7, 1);
}

int32_t penalties_next_half(int32_t date)
{
    int y, m, d;
    date_from_days(date, &y, &m, &d);
    return m <= 6 ? date_to_days(y, 7, 1) : date_to_days(y + 1, 1, 1);
}

/* ------------------------------------------------------------ compute */

static int s_fail(penalties_error_t *err, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int s_fail(penalties_error_t *err, const char *field, const char *fmt, ...)
{
    snprintf(err->field, sizeof err->field, "%s", field);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->reason, sizeof err->reason, fmt, ap);
    va_end(ap);
    return -1;
}

static int s_need_rate(const penalties_rates_t *rates, const char *jur, penalties_kind_t kind,
                       int32_t date, int32_t *bps, penalties_error_t *err)
{
    if (penalties_rate_at(rates, jur, kind, date, bps))
        return 0;
    char d[11], field[48];
    date_format(date, d);
    snprintf(field, sizeof field, "rates.%s.%s", penalties_kind_name(kind), jur);
    return s_fail(err, field, "no rate in force on %s", d);
}

/*  Fills one segment's rate for the rules; 0 or -1 with err. */
static int s_segment_rate(const penalties_rates_t *rates, const penalties_terms_t *t,
                          penalties_rules_t rules, penalties_segment_t *s,
                          const char **note, penalties_error_t *err)
{
    int32_t half = penalties_half_start(s->from);
    int32_t ref = 0;
    switch (rules) {
    case PENALTIES_RULES_FR: {
        /*  L441-10: the ECB rate in force on 1 January / 1 July of the
            half-year; D441-5 and the 3x legal-rate floor. */
        int32_t legal;
        if (s_need_rate(rates, "EU", PENALTIES_ECB_REFI, half, &ref, err)
            || s_need_rate(rates, "FR", PENALTIES_LEGAL_RATE_PRO, half, &legal, err))
            return -1;
        /*  The legal rate is published per half-year: an older row means
            the tenant's table was not updated; we still compute (the last
            known rate) and say so rather than block every reminder. */
        const penalties_rate_t *row = s_rate_row(rates, "FR", PENALTIES_LEGAL_RATE_PRO, half);
        if (row && row->valid_from < half)
            *note = "legal interest rate of this half-year missing from reminder_rates: the last known one was used";
        s->floor_bps = 3 * legal;
        if (t->contract_rate_bps > 0) {
            s->reference_bps = t->contract_rate_bps;
            s->margin_bps = 0;
        } else {
            s->reference_bps = ref;
            s->margin_bps = 1000;
        }
        int32_t base = s->reference_bps + s->margin_bps;
        s->floor_applied = s->floor_bps > base;
        s->rate_bps = s->floor_applied ? s->floor_bps : base;
        break;
    }
    case PENALTIES_RULES_EU: {
        /*  Directive 2011/7 art. 2(12): the member state's reference rate
            of 1 January / 1 July; for the euro area, the ECB's MRO rate. */
        const char *c = t->creditor_country;
        if (!penalties_rate_at(rates, c, PENALTIES_EU_REFERENCE, half, &ref)
            && s_need_rate(rates, "EU", PENALTIES_ECB_REFI, half, &ref, err))
            return -1;
        s->reference_bps = t->contract_rate_bps > 0 ? t->contract_rate_bps : ref;
        s->margin_bps = t->contract_rate_bps > 0 ? 0 : 800;
        s->rate_bps = s->reference_bps + s->margin_bps;
        break;
    }
    case PENALTIES_RULES_UK: {
        /*  Late Payment (Rate of Interest) (No. 3) Order 2002: the base rate
            of 31 December (interest starting January-June) or 30 June
            (starting July-December), fixed for the life of the debt. */
        int y, m, d;
        date_from_days(s->from, &y, &m, &d);
        int32_t refdate = m <= 6 ? date_to_days(y - 1, 12, 31) : date_to_days(y, 6, 30);
        if (t->contract_rate_bps > 0) {
            s->reference_bps = t->contract_rate_bps;
        } else {
            if (s_need_rate(rates, "GB", PENALTIES_BOE_BASE, refdate, &ref, err))
                return -1;
            s->reference_bps = ref;
            s->margin_bps = 800;
        }
        s->rate_bps = s->reference_bps + s->margin_bps;
        break;
    }
    case PENALTIES_RULES_CONTRACT:
        s->reference_bps = t->contract_rate_bps;
        s->rate_bps = t->contract_rate_bps;
        break;
    default:
        break;
    }
    /*  A negative reference rate (never seen for these kinds) must not turn
        late interest into a credit to the debtor. */
    if (s->rate_bps < 0)
        s->rate_bps = 0;
    return 0;
}

int penalties_compute(const penalties_rates_t *rates, const penalties_terms_t *terms,
                      const penalties_invoice_t *inv, int32_t as_of,
                      penalties_result_t *out, penalties_error_t *err)
{
    memset(out, 0, sizeof *out);
    memset(err, 0, sizeof *err);
    if (!currency_known(inv->currency))
        return s_fail(err, "invoice.currency", "unknown currency '%s'", inv->currency);
    if (inv->principal_minor < 0)
        return s_fail(err, "invoice.principal_minor", "negative");
    memcpy(out->currency, inv->currency, 4);
    out->due_date = inv->due_date;
    out->as_of = as_of;
    out->rules = penalties_rules_for(terms);
    out->days_late = as_of > inv->due_date ? as_of - inv->due_date : 0;

    switch (out->rules) {
    case PENALTIES_RULES_NONE:
        out->note = !terms->debtor_business
            ? "consumer debtor without a contract rate: no late-payment penalties"
            : "no statutory late-payment rules known for the creditor's country";
        return 0;
    default:
        break;
    }
    if (out->days_late == 0) {
        out->note = "not late";
        return 0;
    }
    if (inv->principal_minor == 0) {
        out->note = "nothing open";
        return 0;
    }

    /*  Segments: half-years for FR and EU (the rate changes on 1 January and
        1 July); one segment for the UK (rate fixed) and contract rates. */
    bool by_half = out->rules == PENALTIES_RULES_FR || out->rules == PENALTIES_RULES_EU;
    int32_t from = inv->due_date + 1;
    while (from <= as_of) {
        if (out->n_segments == PENALTIES_MAX_SEGMENTS)
            return s_fail(err, "invoice.due_date", "more than %d half-years late",
                          PENALTIES_MAX_SEGMENTS);
        penalties_segment_t *s = &out->seg[out->n_segments];
        s->from = from;
        s->to = by_half ? penalties_next_half(from) - 1 : as_of;
        if (s->to > as_of)
            s->to = as_of;
        s->days = s->to - s->from + 1;
        if (s_segment_rate(rates, terms, out->rules, s, &out->note, err) != 0)
            return -1;
        if (!s_interest(inv->principal_minor, s->rate_bps, s->days, &s->interest_minor)
            || __builtin_add_overflow(out->interest_minor, s->interest_minor, &out->interest_minor))
            return s_fail(err, "invoice.principal_minor", "interest overflows");
        out->n_segments++;
        from = s->to + 1;
    }

    /*  Fixed compensation: a sum in a currency, never converted. */
    switch (out->rules) {
    case PENALTIES_RULES_FR:
    case PENALTIES_RULES_EU:
        if (strcmp(inv->currency, "EUR") == 0)
            out->fixed_minor = 4000;
        else if (!out->note)
            out->note = "fixed 40 EUR compensation not claimed: invoice not in EUR";
        break;
    case PENALTIES_RULES_UK:
        if (strcmp(inv->currency, "GBP") == 0)
            out->fixed_minor = penalties_uk_fixed(inv->principal_minor);
        else if (!out->note)
            out->note = "fixed GBP compensation not claimed: invoice not in GBP";
        break;
    default:
        break;
    }
    if (__builtin_add_overflow(out->interest_minor, out->fixed_minor, &out->total_minor))
        return s_fail(err, "invoice.principal_minor", "total overflows");
    return 0;
}
