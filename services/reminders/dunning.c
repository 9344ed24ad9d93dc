/*  dunning: the decision pass (see dunning.h). */
#include "dunning.h"

#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dates.h"
#include "envelope.h"
#include "eventlog.h"
#include "log.h"
#include "metrics.h"
#include "policy.h"
#include "service.h"
#include "tzlocal.h"

#define MAX_LADDERS 16
#define MAX_HOLIDAYS 64

typedef struct {
    int64_t debtor_id;
    int32_t last_contact;
    int days_7;
} contact_t;

typedef struct {
    int64_t debtor_id;
    unsigned mask;
} optout_t;

/*  What the pass needs of a debtor, loaded once per tenant and found by
    binary search: the candidate query then reads one table only (an index
    range scan per page, no join). */
typedef struct {
    int64_t debtor_id;
    char zone[48];
    char country[3];
    char grade[2];
    unsigned available;
    bool erased;                    /* GDPR (0070): never contacted again */
} debtor_t;

struct rem_dunning_t {
    db_t *db;
    bus_t *bus;
    int page;
    eventlog_batch_t *events;
    rem_plan_t plan;
    rem_item_t *items;
    size_t items_cap;
    /* per tenant */
    rem_rules_t rules;
    rem_ladder_t ladders[MAX_LADDERS];
    size_t n_ladders;
    struct { char country[3]; int32_t day; } holidays[MAX_HOLIDAYS];
    size_t n_holidays;
    contact_t *contacts;
    size_t n_contacts;
    optout_t *optouts;
    size_t n_optouts;
    debtor_t *debtors;
    size_t n_debtors;
    metric_t *m_decided, *m_items, *m_conflicts, *m_seconds, *m_held;
};

rem_dunning_t *rem_dunning_new(db_t *db, bus_t *bus)
{
    rem_dunning_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->db = db;
    self->bus = bus;
    self->page = 20000;
    self->events = eventlog_batch_new();
    self->m_decided = metrics_counter("creance_reminders_decided_total",
                                      "Reminders decided (outbox rows committed)", NULL);
    self->m_items = metrics_counter("creance_reminders_decided_items_total",
                                    "Invoice levels decided (reminder_items rows)", NULL);
    self->m_conflicts = metrics_counter("creance_reminders_decision_conflicts_total",
                                        "Debtors rolled back because a level was already decided", NULL);
    self->m_held = metrics_counter("creance_reminders_debtors_held_total",
                                   "Debtors with a due level held by a contact rule or opt-out", NULL);
    self->m_seconds = metrics_histogram("creance_reminders_pass_seconds",
                                        "Duration of a dunning pass over every tenant", NULL);
    return self;
}

void rem_dunning_destroy(rem_dunning_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    rem_dunning_t *self = *self_p;
    eventlog_batch_destroy(&self->events);
    rem_plan_free(&self->plan);
    free(self->items);
    free(self->contacts);
    free(self->optouts);
    free(self->debtors);
    free(self);
    *self_p = NULL;
}

void rem_dunning_set_page(rem_dunning_t *self, int rows)
{
    self->page = rows > 1 ? rows : 2;
}

static long long ll(PGresult *r, int row, int col)
{
    return strtoll(PQgetvalue(r, row, col), NULL, 10);
}

static bool is_true(PGresult *r, int row, int col)
{
    return PQgetvalue(r, row, col)[0] == 't';
}

/* ------------------------------------------------------------ tenant context */

static int load_rules(rem_dunning_t *self, const char *tenant)
{
    rem_rules_default(&self->rules);
    const char *p[] = { tenant };
    PGresult *r = db_exec(self->db,
        "SELECT min_days_between, max_per_7_days,"
        " extract(hour FROM quiet_start)::int * 60 + extract(minute FROM quiet_start)::int,"
        " extract(hour FROM quiet_end)::int * 60 + extract(minute FROM quiet_end)::int,"
        " skip_weekends, skip_holidays, promise_grace_days, instalment_notice_days,"
        " limitation_warning_days FROM rem_contact_rules WHERE tenant = $1 OR tenant IS NULL"
        " ORDER BY tenant NULLS LAST LIMIT 1", 1, p);
    if (!r)
        return -1;
    if (PQntuples(r) == 1) {
        rem_rules_t *x = &self->rules;
        x->min_days_between = (int) ll(r, 0, 0);
        x->max_per_7_days = (int) ll(r, 0, 1);
        x->quiet_start_min = (int) ll(r, 0, 2);
        x->quiet_end_min = (int) ll(r, 0, 3);
        x->skip_weekends = is_true(r, 0, 4);
        x->skip_holidays = is_true(r, 0, 5);
        x->promise_grace_days = (int) ll(r, 0, 6);
        x->instalment_notice_days = (int) ll(r, 0, 7);
        x->limitation_warning_days = (int) ll(r, 0, 8);
    }
    PQclear(r);
    return 0;
}

int rem_dunning_load_ladders(db_t *db, const char *tenant, rem_ladder_t *ladders, size_t max,
                             size_t *n)
{
    *n = 0;
    const char *p[] = { tenant };
    PGresult *r = db_exec(db,
        "SELECT tenant IS NOT NULL, COALESCE(grade, ''), level, offset_days, channel,"
        " array_to_string(fallback, ','), template_key, tone, fee_minor"
        " FROM rem_policy_levels WHERE tenant = $1 OR tenant IS NULL ORDER BY 1, 2, 3", 1, p);
    if (!r)
        return -1;
    for (int i = 0; i < PQntuples(r); i++) {
        bool ts = is_true(r, i, 0);
        const char *grade = PQgetvalue(r, i, 1);
        rem_ladder_t *l = NULL;
        for (size_t k = 0; k < *n; k++)
            if (ladders[k].tenant_specific == ts && strcmp(ladders[k].grade, grade) == 0)
                l = &ladders[k];
        if (!l) {
            if (*n >= max)
                continue;
            l = &ladders[(*n)++];
            memset(l, 0, sizeof *l);
            l->tenant_specific = ts;
            snprintf(l->grade, sizeof l->grade, "%s", grade);
        }
        rem_level_t lv = { 0 };
        lv.level = (int) ll(r, i, 2);
        lv.offset_days = (int) ll(r, i, 3);
        lv.channel = rem_channel_parse(PQgetvalue(r, i, 4));
        char fb[128];
        snprintf(fb, sizeof fb, "%s", PQgetvalue(r, i, 5));
        for (char *save = NULL, *t = strtok_r(fb, ",", &save); t && lv.n_fallback < REM_MAX_FALLBACK;
             t = strtok_r(NULL, ",", &save)) {
            rem_channel_t c = rem_channel_parse(t);
            if (c != REM_CH_NONE)
                lv.fallback[lv.n_fallback++] = c;
        }
        snprintf(lv.template_key, sizeof lv.template_key, "%s", PQgetvalue(r, i, 6));
        snprintf(lv.tone, sizeof lv.tone, "%s", PQgetvalue(r, i, 7));
        lv.fee_minor = ll(r, i, 8);
        rem_ladder_add(l, &lv);
    }
    PQclear(r);
    return 0;
}

static int load_holidays(rem_dunning_t *self, int32_t today)
{
    self->n_holidays = 0;
    char d[11];
    date_format(today, d);
    const char *p[] = { d };
    PGresult *r = db_exec(self->db,
        "SELECT country, day - DATE '1970-01-01' FROM rem_holidays"
        " WHERE day BETWEEN $1::date - 1 AND $1::date + 1", 1, p);
    if (!r)
        return -1;
    for (int i = 0; i < PQntuples(r) && self->n_holidays < MAX_HOLIDAYS; i++) {
        snprintf(self->holidays[self->n_holidays].country, 3, "%s", PQgetvalue(r, i, 0));
        self->holidays[self->n_holidays].day = (int32_t) ll(r, i, 1);
        self->n_holidays++;
    }
    PQclear(r);
    return 0;
}

static bool holiday(const rem_dunning_t *self, const char *country, int32_t day)
{
    for (size_t i = 0; i < self->n_holidays; i++)
        if (self->holidays[i].day == day && strncmp(self->holidays[i].country, country, 2) == 0)
            return true;
    return false;
}

static int load_contacts(rem_dunning_t *self, const char *tenant, int32_t today)
{
    self->n_contacts = 0;
    char d[11], span[16];
    date_format(today, d);
    int back = self->rules.min_days_between > 7 ? self->rules.min_days_between : 7;
    snprintf(span, sizeof span, "%d", back);
    const char *p[] = { tenant, d, span };
    PGresult *r = db_exec(self->db,
        "SELECT debtor_id, max(planned_date) - DATE '1970-01-01',"
        " count(DISTINCT planned_date) FILTER (WHERE planned_date > $2::date - 7)"
        " FROM reminders WHERE tenant = $1 AND kind = 'dunning'"
        " AND planned_date > $2::date - $3::int AND planned_date <= $2::date"
        " GROUP BY debtor_id ORDER BY debtor_id", 3, p);
    if (!r)
        return -1;
    int n = PQntuples(r);
    contact_t *v = realloc(self->contacts, (size_t) (n ? n : 1) * sizeof *v);
    if (!v) {
        PQclear(r);
        return -1;
    }
    self->contacts = v;
    for (int i = 0; i < n; i++) {
        v[i].debtor_id = ll(r, i, 0);
        v[i].last_contact = (int32_t) ll(r, i, 1);
        v[i].days_7 = (int) ll(r, i, 2);
    }
    self->n_contacts = (size_t) n;
    PQclear(r);
    return 0;
}

static int load_optouts(rem_dunning_t *self, const char *tenant)
{
    self->n_optouts = 0;
    const char *p[] = { tenant };
    PGresult *r = db_exec(self->db,
        "SELECT debtor_id, array_to_string(array_agg(channel), ',') FROM rem_optouts"
        " WHERE tenant = $1 GROUP BY debtor_id ORDER BY debtor_id", 1, p);
    if (!r)
        return -1;
    int n = PQntuples(r);
    optout_t *v = realloc(self->optouts, (size_t) (n ? n : 1) * sizeof *v);
    if (!v) {
        PQclear(r);
        return -1;
    }
    self->optouts = v;
    for (int i = 0; i < n; i++) {
        v[i].debtor_id = ll(r, i, 0);
        v[i].mask = 0;
        char buf[128];
        snprintf(buf, sizeof buf, "%s", PQgetvalue(r, i, 1));
        for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save))
            v[i].mask |= REM_CH_BIT(rem_channel_parse(t));
    }
    self->n_optouts = (size_t) n;
    PQclear(r);
    return 0;
}

static int load_debtors(rem_dunning_t *self, const char *tenant)
{
    self->n_debtors = 0;
    const char *p[] = { tenant };
    PGresult *r = db_exec(self->db,
        "SELECT debtor_id, time_zone, country, COALESCE(grade, ''), email <> '', phone <> '',"
        " address <> '{}'::jsonb, erased FROM rem_debtors WHERE tenant = $1 ORDER BY debtor_id",
        1, p);
    if (!r)
        return -1;
    int n = PQntuples(r);
    debtor_t *v = realloc(self->debtors, (size_t) (n ? n : 1) * sizeof *v);
    if (!v) {
        PQclear(r);
        return -1;
    }
    self->debtors = v;
    for (int i = 0; i < n; i++) {
        v[i].debtor_id = ll(r, i, 0);
        snprintf(v[i].zone, sizeof v[i].zone, "%s", PQgetvalue(r, i, 1));
        snprintf(v[i].country, sizeof v[i].country, "%s", PQgetvalue(r, i, 2));
        snprintf(v[i].grade, sizeof v[i].grade, "%s", PQgetvalue(r, i, 3));
        v[i].available = REM_CH_BIT(REM_CH_HANDOFF)
            | (is_true(r, i, 4) ? REM_CH_BIT(REM_CH_EMAIL) : 0)
            | (is_true(r, i, 5) ? REM_CH_BIT(REM_CH_SMS) | REM_CH_BIT(REM_CH_PHONE) : 0)
            | (is_true(r, i, 6) ? REM_CH_BIT(REM_CH_LETTER) : 0);
        v[i].erased = is_true(r, i, 7);
    }
    self->n_debtors = (size_t) n;
    PQclear(r);
    return 0;
}

static const debtor_t *find_debtor(const rem_dunning_t *self, int64_t debtor)
{
    size_t lo = 0, hi = self->n_debtors;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (self->debtors[mid].debtor_id < debtor)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < self->n_debtors && self->debtors[lo].debtor_id == debtor ? &self->debtors[lo] : NULL;
}

static const contact_t *find_contact(const rem_dunning_t *self, int64_t debtor)
{
    size_t lo = 0, hi = self->n_contacts;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (self->contacts[mid].debtor_id < debtor)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < self->n_contacts && self->contacts[lo].debtor_id == debtor ? &self->contacts[lo] : NULL;
}

static unsigned find_optouts(const rem_dunning_t *self, int64_t debtor)
{
    size_t lo = 0, hi = self->n_optouts;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (self->optouts[mid].debtor_id < debtor)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < self->n_optouts && self->optouts[lo].debtor_id == debtor ? self->optouts[lo].mask : 0;
}

/* ------------------------------------------------------------ candidates */

/*  Columns of the candidate query. */
enum {
    C_DEBTOR, C_INVOICE, C_DUE, C_CURRENCY, C_OPEN, C_DISPUTED, C_IN_PLAN, C_PROMISE,
    C_MIN_LEVEL, C_LAST_LEVEL
};

/*  One table, one index range (rem_open_items_debtor) per page. */
static const char *s_candidates_sql =
    "SELECT o.debtor_id, o.invoice_id, o.due_date - DATE '1970-01-01', o.currency,"
    " o.open_minor, o.disputed_minor, o.plan_id IS NOT NULL,"
    " COALESCE(o.promise_until - DATE '1970-01-01', -2147483648), o.min_level, o.last_level"
    " FROM rem_open_items o"
    " WHERE o.tenant = $1 AND o.debtor_id > $4 AND o.due_date <= $2::date + $3::int"
    "   AND o.open_minor > 0"
    " ORDER BY o.debtor_id, o.invoice_id LIMIT $5";

typedef struct {
    const char *tenant;
    int32_t today;
    int64_t now_s;
    bool dry;                       /* decide nothing (preview) */
    json_t *preview;                /* the preview's items; NULL: counts only */
    rem_pass_stats_t *st;
} pass_t;

static json_t *items_json(const rem_item_t *items, const size_t *idx, size_t n, size_t all, bool by_index,
                          rem_hold_t only)
{
    json_t *a = json_array();
    for (size_t k = 0; k < (by_index ? n : all); k++) {
        const rem_item_t *it = by_index ? &items[idx[k]] : &items[k];
        if (!by_index && it->hold != only)
            continue;
        char due[11];
        date_format(it->due_date, due);
        json_t *o = json_object();
        json_object_set_new(o, "invoice_id", json_integer(it->invoice_id));
        json_object_set_new(o, "due_date", json_string(due));
        json_object_set_new(o, "days_past_due", json_integer(it->days_past_due));
        json_object_set_new(o, "open_minor", json_integer(it->open_minor));
        json_object_set_new(o, "disputed_minor", json_integer(it->disputed_minor));
        json_object_set_new(o, "dunned_minor", json_integer(it->open_minor - it->disputed_minor));
        json_array_append_new(a, o);
    }
    return a;
}

static void describe(char *out, size_t len, const rem_group_t *g)
{
    snprintf(out, len, "level %d (%s, %+d days) reached by %zu invoice(s); channel %s%s",
             g->level, g->lv->template_key, g->lv->offset_days, g->n,
             rem_channel_name(g->channel), g->channel != g->lv->channel ? " (fallback)" : "");
}

static void preview_debtor(pass_t *ps, rem_dunning_t *self, int64_t debtor, const rem_item_t *items,
                           size_t n, const rem_local_t *local)
{
    rem_plan_t *plan = &self->plan;
    for (size_t k = 0; k < plan->n; k++) {
        const rem_group_t *g = &plan->v[k];
        char why[256];
        describe(why, sizeof why, g);
        json_t *o = json_object();
        json_object_set_new(o, "debtor_id", json_integer(debtor));
        json_object_set_new(o, "action", json_string("send"));
        json_object_set_new(o, "level", json_integer(g->level));
        json_object_set_new(o, "template", json_string(g->lv->template_key));
        json_object_set_new(o, "tone", json_string(g->lv->tone));
        json_object_set_new(o, "channel", json_string(rem_channel_name(g->channel)));
        json_t *fb = json_array();
        for (int i = 0; i < g->n_rest; i++)
            json_array_append_new(fb, json_string(rem_channel_name(g->rest[i])));
        json_object_set_new(o, "fallback", fb);
        json_object_set_new(o, "currency", json_string(g->currency));
        json_object_set_new(o, "total_minor", json_integer(g->total_minor));
        json_object_set_new(o, "invoices", items_json(items, g->idx, g->n, n, true, REM_HOLD_NONE));
        json_object_set_new(o, "reason", json_string(why));
        json_array_append_new(ps->preview, o);
    }
    /*  Holds worth telling: pauses and contact rules, not "nothing due". */
    for (rem_hold_t h = REM_HOLD_DISPUTE; h <= REM_HOLD_NO_LADDER; h++) {
        bool any = false;
        for (size_t i = 0; i < n && !any; i++)
            any = items[i].hold == h;
        if (!any)
            continue;
        json_t *o = json_object();
        json_object_set_new(o, "debtor_id", json_integer(debtor));
        json_object_set_new(o, "action", json_string("hold"));
        json_object_set_new(o, "reason", json_string(rem_hold_name(h)));
        if (h == REM_HOLD_QUIET_HOURS || h == REM_HOLD_WEEKEND || h == REM_HOLD_HOLIDAY) {
            char d[11];
            date_format(local->date, d);
            char t[16];
            snprintf(t, sizeof t, "%02d:%02d", local->minute / 60, local->minute % 60);
            json_object_set_new(o, "local_date", json_string(d));
            json_object_set_new(o, "local_time", json_string(t));
        }
        if (!local->zone_known)
            json_object_set_new(o, "time_zone", json_string("unknown: UTC used"));
        json_object_set_new(o, "invoices", items_json(items, NULL, 0, n, false, h));
        json_array_append_new(ps->preview, o);
    }
}

/*  "{a,b,c}" of the group's values; `what` picks the column. */
static void group_array(char *out, size_t len, const rem_item_t *items, const rem_group_t *g, int what)
{
    size_t p = 0;
    out[p++] = '{';
    for (size_t k = 0; k < g->n && p + 24 < len; k++) {
        const rem_item_t *it = &items[g->idx[k]];
        int64_t v = what == 0 ? it->invoice_id : what == 1 ? it->due_date
                  : what == 2 ? it->open_minor : it->disputed_minor;
        p += (size_t) snprintf(out + p, len - p, "%s%" PRId64, k ? "," : "", v);
    }
    out[p++] = '}';
    out[p] = '\0';
}

static Creance__Channel pb_channel(rem_channel_t c)
{
    switch (c) {
    case REM_CH_EMAIL:   return CREANCE__CHANNEL__EMAIL;
    case REM_CH_SMS:     return CREANCE__CHANNEL__SMS;
    case REM_CH_LETTER:  return CREANCE__CHANNEL__LETTER;
    case REM_CH_PHONE:   return CREANCE__CHANNEL__PHONE;
    case REM_CH_HANDOFF: return CREANCE__CHANNEL__HANDOFF;
    default:             return CREANCE__CHANNEL__CHANNEL_UNSPECIFIED;
    }
}

/*  One group -> outbox rows. 0, 1 on the unique guard (already decided),
    -1 on a database error. */
static int record_group(rem_dunning_t *self, pass_t *ps, int64_t debtor, const rem_item_t *items,
                        const rem_group_t *g)
{
    size_t cap = g->n * 24 + 8;
    char *ids = malloc(cap), *dues = malloc(cap), *opens = malloc(cap), *disp = malloc(cap);
    int rc = -1;
    PGresult *r = NULL;
    if (!ids || !dues || !opens || !disp)
        goto done;
    group_array(ids, cap, items, g, 0);
    group_array(dues, cap, items, g, 1);
    group_array(opens, cap, items, g, 2);
    group_array(disp, cap, items, g, 3);
    char debtor_s[24], level_s[8], total_s[24], today_s[11], fallback[96], why[256];
    snprintf(debtor_s, sizeof debtor_s, "%" PRId64, debtor);
    snprintf(level_s, sizeof level_s, "%d", g->level);
    snprintf(total_s, sizeof total_s, "%" PRId64, g->total_minor);
    date_format(ps->today, today_s);
    size_t fp = 0;
    fallback[fp++] = '{';
    for (int i = 0; i < g->n_rest; i++)
        fp += (size_t) snprintf(fallback + fp, sizeof fallback - fp, "%s%s", i ? "," : "",
                                rem_channel_name(g->rest[i]));
    fallback[fp++] = '}';
    fallback[fp] = '\0';
    describe(why, sizeof why, g);
    const char *p[] = { ps->tenant, debtor_s, level_s, rem_channel_name(g->channel), fallback,
                        g->lv->template_key, g->lv->tone, ids, g->currency, total_s, today_s, why };
    r = db_exec(self->db,
        "INSERT INTO reminders (tenant, debtor_id, level, channel, fallback, template_key, tone,"
        " invoice_ids, currency, total_minor, planned_date, reason)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id", 12, p);
    if (!r)
        goto done;
    char rid[24];
    snprintf(rid, sizeof rid, "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    const char *q[] = { ps->tenant, rid, level_s, ids, dues, opens, disp, debtor_s };
    r = db_exec(self->db,
        "INSERT INTO reminder_items (tenant, debtor_id, reminder_id, invoice_id, level, due_date,"
        " open_minor, disputed_minor)"
        " SELECT $1, $8::bigint, $2, i, $3, DATE '1970-01-01' + d, o, x"
        " FROM unnest($4::bigint[], $5::int[], $6::bigint[], $7::bigint[]) AS u(i, d, o, x)"
        " ON CONFLICT (tenant, invoice_id, level) DO NOTHING", 8, q);
    if (!r)
        goto done;
    long inserted = strtol(PQcmdTuples(r), NULL, 10);
    PQclear(r);
    r = NULL;
    if (inserted != (long) g->n) {
        rc = 1;
        goto done;
    }
    const char *u[] = { ps->tenant, ids, level_s };
    if (db_run(self->db, "UPDATE rem_open_items SET last_level = GREATEST(last_level, $3::smallint)"
                         " WHERE tenant = $1 AND invoice_id = ANY($2::bigint[])", 3, u))
        goto done;
    /*  The first delivery: the outbox row the sender picks up. */
    const char *dl[] = { ps->tenant, rid, rem_channel_name(g->channel), debtor_s };
    if (db_run(self->db,
        "INSERT INTO reminder_deliveries (tenant, debtor_id, reminder_id, channel, idempotency_key,"
        " recipient)"
        " SELECT $1, $4::bigint, $2::bigint, $3, $1 || '-r' || $2::text || '-' || $3,"
        "  CASE $3 WHEN 'email' THEN d.email WHEN 'sms' THEN d.phone WHEN 'phone' THEN d.phone"
        "   ELSE d.legal_name END"
        " FROM (SELECT 1) one LEFT JOIN rem_debtors d ON d.tenant = $1 AND d.debtor_id = $4", 4, dl))
        goto done;
    if (g->lv->fee_minor > 0) {
        char fee[24];
        snprintf(fee, sizeof fee, "%" PRId64, g->lv->fee_minor);
        const char *f[] = { ps->tenant, rid, level_s, ids, g->currency, fee, debtor_s };
        if (db_run(self->db,
            "INSERT INTO reminder_fees (tenant, debtor_id, invoice_id, level, reminder_id, currency,"
            " amount_minor)"
            " SELECT $1, $7::bigint, i, $3, $2, $5, $6 FROM unnest($4::bigint[]) AS i"
            " ON CONFLICT (tenant, invoice_id, level) DO NOTHING", 7, f))
            goto done;
    }
    /*  ReminderScheduled, in this transaction's event_log rows. */
    Creance__Envelope env;
    envelope_init(&env, ps->tenant, "reminders", "reminders");
    Creance__ReminderScheduled ev = CREANCE__REMINDER_SCHEDULED__INIT;
    Creance__Date planned = CREANCE__DATE__INIT;
    date_to_pb(ps->today, &planned);
    int64_t *inv = malloc(g->n * sizeof *inv);
    if (!inv) {
        envelope_clear(&env);
        goto done;
    }
    for (size_t k = 0; k < g->n; k++)
        inv[k] = items[g->idx[k]].invoice_id;
    ev.reminder_id = strtoll(rid, NULL, 10);
    ev.debtor_id = debtor;
    ev.n_invoice_ids = g->n;
    ev.invoice_ids = inv;
    ev.level = g->level;
    ev.channel = pb_channel(g->channel);
    ev.planned_date = &planned;
    env.event_case = CREANCE__ENVELOPE__EVENT_REMINDER_SCHEDULED;
    env.reminder_scheduled = &ev;
    int add = eventlog_add(self->events, &env);
    env.reminder_scheduled = NULL;
    env.event_case = CREANCE__ENVELOPE__EVENT__NOT_SET;
    envelope_clear(&env);
    free(inv);
    if (add)
        goto done;
    log_info("reminder decided tenant=%s reminder=%s debtor=%" PRId64 " level=%d channel=%s"
             " invoices=%zu total_minor=%" PRId64 " currency=%s planned=%s", ps->tenant, rid, debtor,
             g->level, rem_channel_name(g->channel), g->n, g->total_minor, g->currency, today_s);
    rc = 0;
done:
    if (r)
        PQclear(r);
    free(ids);
    free(dues);
    free(opens);
    free(disp);
    return rc;
}

static int record_debtor(rem_dunning_t *self, pass_t *ps, int64_t debtor, const rem_item_t *items)
{
    rem_plan_t *plan = &self->plan;
    if (db_begin(self->db))
        return -1;
    int rc = 0;
    for (size_t k = 0; k < plan->n && rc == 0; k++)
        rc = record_group(self, ps, debtor, items, &plan->v[k]);
    if (rc == 0 && eventlog_flush(self->events, self->db))
        rc = -1;
    if (rc != 0) {
        db_rollback(self->db);
        eventlog_reset(self->events);
        if (rc == 1) {
            /*  Only a second writer (or a stale last_level) gets here: the
                guard did its job; the next pass sees the new state. */
            log_warn("decision rolled back tenant=%s debtor=%" PRId64 " reason=already_decided",
                     ps->tenant, debtor);
            ps->st->conflicts++;
            metric_inc(self->m_conflicts);
            return 0;
        }
        return -1;
    }
    if (db_commit(self->db)) {
        eventlog_reset(self->events);
        return -1;
    }
    if (self->bus)
        eventlog_publish(self->events, self->bus);
    eventlog_reset(self->events);
    for (size_t k = 0; k < plan->n; k++) {
        ps->st->reminders++;
        ps->st->decided_items += (int64_t) plan->v[k].n;
        metric_inc(self->m_decided);
        metric_add(self->m_items, (double) plan->v[k].n);
    }
    return 0;
}

static int process_debtor(rem_dunning_t *self, pass_t *ps, PGresult *r, int from, int to)
{
    int64_t debtor = ll(r, from, C_DEBTOR);
    /*  An erased debtor (GDPR) is never contacted again: skipped here, from
        the table loaded once per tenant, so that the candidate query stays
        a range scan of one table. */
    const debtor_t *known = find_debtor(self, debtor);
    if (known && known->erased)
        return 0;
    size_t n = (size_t) (to - from);
    if (n > self->items_cap) {
        rem_item_t *v = realloc(self->items, n * sizeof *v);
        if (!v)
            return -1;
        self->items = v;
        self->items_cap = n;
    }
    rem_item_t *items = self->items;
    for (size_t i = 0; i < n; i++) {
        int row = from + (int) i;
        rem_item_t *it = &items[i];
        memset(it, 0, sizeof *it);
        it->invoice_id = ll(r, row, C_INVOICE);
        it->due_date = (int32_t) ll(r, row, C_DUE);
        it->days_past_due = ps->today - it->due_date;
        snprintf(it->currency, sizeof it->currency, "%s", PQgetvalue(r, row, C_CURRENCY));
        it->open_minor = ll(r, row, C_OPEN);
        it->disputed_minor = ll(r, row, C_DISPUTED);
        it->in_plan = is_true(r, row, C_IN_PLAN);
        long long promise = ll(r, row, C_PROMISE);
        it->has_promise = promise != INT_MIN;
        it->promise_date = it->has_promise ? (int32_t) promise : 0;
        it->min_level = (int) ll(r, row, C_MIN_LEVEL);
        it->last_level = (int) ll(r, row, C_LAST_LEVEL);
    }
    static const debtor_t unknown = { .zone = "Europe/Paris", .country = "FR", .grade = "",
                                      .available = REM_CH_BIT(REM_CH_HANDOFF) };
    const debtor_t *dd = find_debtor(self, debtor);
    if (!dd)
        dd = &unknown;
    rem_debtor_ctx_t ctx = { 0 };
    ctx.ladder = rem_ladder_pick(self->ladders, self->n_ladders, dd->grade);
    ctx.rules = &self->rules;
    ctx.today = ps->today;
    rem_tz_local(dd->zone, ps->now_s, &ctx.local);
    ctx.holiday = holiday(self, dd->country, ctx.local.date);
    const contact_t *c = find_contact(self, debtor);
    ctx.last_contact = c ? c->last_contact : INT32_MIN;
    ctx.contact_days_7 = c ? c->days_7 : 0;
    ctx.optout_mask = find_optouts(self, debtor);
    ctx.available_mask = dd->available;
    if (rem_plan_debtor(&ctx, items, n, &self->plan))
        return -1;
    ps->st->debtors++;
    if (self->plan.debtor_hold != REM_HOLD_NONE) {
        ps->st->held_debtors++;
        if (!ps->dry)
            metric_inc(self->m_held);
    }
    if (ps->dry) {
        if (ps->preview)
            preview_debtor(ps, self, debtor, items, n, &ctx.local);
        for (size_t k = 0; k < self->plan.n; k++) {
            ps->st->reminders++;
            ps->st->decided_items += (int64_t) self->plan.v[k].n;
        }
        return 0;
    }
    if (self->plan.n == 0)
        return 0;
    return record_debtor(self, ps, debtor, items);
}

static int instalments(rem_dunning_t *self, pass_t *ps);

static int run_tenant(rem_dunning_t *self, const char *tenant, int32_t today, int64_t now_s,
                      bool dry, json_t *preview, rem_pass_stats_t *st)
{
    pass_t ps = { .tenant = tenant, .today = today, .now_s = now_s, .dry = dry, .preview = preview,
                  .st = st };
    if (load_rules(self, tenant)
        || rem_dunning_load_ladders(self->db, tenant, self->ladders, MAX_LADDERS, &self->n_ladders)
        || load_holidays(self, today) || load_contacts(self, tenant, today)
        || load_optouts(self, tenant) || load_debtors(self, tenant))
        return -1;
    st->tenants++;
    /*  How far before the due date the earliest ladder starts. */
    int ahead = 0;
    for (size_t i = 0; i < self->n_ladders; i++) {
        int m = -rem_ladder_min_offset(&self->ladders[i]);
        if (m > ahead)
            ahead = m;
    }
    char today_s[11], ahead_s[16], after[24] = "0", limit[16];
    date_format(today, today_s);
    snprintf(ahead_s, sizeof ahead_s, "%d", ahead);
    snprintf(limit, sizeof limit, "%d", self->page);
    for (;;) {
        const char *p[] = { tenant, today_s, ahead_s, after, limit };
        PGresult *r = db_exec(self->db, s_candidates_sql, 5, p);
        if (!r)
            return -1;
        int n = PQntuples(r);
        st->items += n;
        bool full = n == self->page;
        /*  A full page may end in the middle of a debtor: that debtor is
            read again, whole, from the next page. One debtor filling a page
            on its own is processed as it is (its items beyond the page wait
            for the next pass). */
        int end = n;
        if (full) {
            int64_t last = ll(r, n - 1, C_DEBTOR);
            while (end > 0 && ll(r, end - 1, C_DEBTOR) == last)
                end--;
            if (end == 0)
                end = n;
        }
        int from = 0;
        int rc = 0;
        while (from < end && rc == 0 && !service_stopping()) {
            int to = from + 1;
            int64_t d = ll(r, from, C_DEBTOR);
            while (to < end && ll(r, to, C_DEBTOR) == d)
                to++;
            rc = process_debtor(self, &ps, r, from, to);
            if (rc)
                st->errors++;
            from = to;
        }
        if (end > 0)
            snprintf(after, sizeof after, "%s", PQgetvalue(r, end - 1, C_DEBTOR));
        PQclear(r);
        if (rc)
            return -1;
        if (!full || service_stopping())
            break;
    }
    return instalments(self, &ps);
}

/* ------------------------------------------------------------ instalments */

/*  An active plan replaces dunning by instalment reminders: each open
    instalment due within the notice days is reminded once (UNIQUE on
    reminder_instalments), in the debtor's working hours. */
static int instalments(rem_dunning_t *self, pass_t *ps)
{
    char today_s[11], notice[16];
    date_format(ps->today, today_s);
    snprintf(notice, sizeof notice, "%d", self->rules.instalment_notice_days);
    const char *p[] = { ps->tenant, today_s, notice };
    PGresult *r = db_exec(self->db,
        "SELECT p.debtor_id, i.plan_id, i.number, i.due_date - DATE '1970-01-01', i.currency,"
        " i.amount_minor, p.invoice_ids::text"
        " FROM rem_plan_instalments i JOIN rem_plans p ON p.tenant = i.tenant AND p.plan_id = i.plan_id"
        " WHERE i.tenant = $1 AND p.status = 'active' AND i.status = 'open'"
        "   AND i.due_date BETWEEN $2::date AND $2::date + $3::int"
        "   AND NOT EXISTS (SELECT 1 FROM reminder_instalments x WHERE x.tenant = i.tenant"
        "                   AND x.plan_id = i.plan_id AND x.number = i.number)"
        "   AND NOT EXISTS (SELECT 1 FROM rem_debtors e WHERE e.tenant = p.tenant"
        "                   AND e.debtor_id = p.debtor_id AND e.erased)"
        " ORDER BY p.debtor_id, i.plan_id, i.number", 3, p);
    if (!r)
        return -1;
    int rc = 0;
    for (int i = 0; i < PQntuples(r) && rc == 0; i++) {
        int64_t debtor = ll(r, i, 0);
        const debtor_t *dd = find_debtor(self, debtor);
        rem_local_t local;
        rem_tz_local(dd ? dd->zone : "Europe/Paris", ps->now_s, &local);
        rem_hold_t h = rem_contact_check(&self->rules, &local,
                                         holiday(self, dd ? dd->country : "FR", local.date),
                                         ps->today, INT32_MIN, 0);
        rem_level_t lv = { .level = 0, .channel = REM_CH_EMAIL, .n_fallback = 2,
                           .fallback = { REM_CH_SMS, REM_CH_LETTER } };
        rem_channel_t rest[REM_MAX_FALLBACK];
        int n_rest = 0;
        rem_channel_t ch = rem_pick_channel(&lv, find_optouts(self, debtor),
                                            dd ? dd->available : 0, rest, &n_rest);
        if (h == REM_HOLD_NONE && ch == REM_CH_NONE)
            h = REM_HOLD_NO_CHANNEL;
        if (ps->dry) {
            if (ps->preview) {
                json_t *o = json_pack("{s:I, s:s, s:s, s:I, s:i, s:s, s:I}", "debtor_id", (json_int_t) debtor,
                                      "action", h == REM_HOLD_NONE ? "send" : "hold", "kind", "instalment",
                                      "plan_id", (json_int_t) ll(r, i, 1), "instalment", (int) ll(r, i, 2),
                                      "currency", PQgetvalue(r, i, 4), "amount_minor", (json_int_t) ll(r, i, 5));
                json_object_set_new(o, "channel", json_string(rem_channel_name(ch)));
                json_object_set_new(o, "reason", json_string(h == REM_HOLD_NONE
                                    ? "instalment due within the notice days" : rem_hold_name(h)));
                json_array_append_new(ps->preview, o);
            }
            continue;
        }
        if (h != REM_HOLD_NONE)
            continue;
        char debtor_s[24], fallback[64] = "{", why[128];
        snprintf(debtor_s, sizeof debtor_s, "%" PRId64, debtor);
        for (int k = 0; k < n_rest; k++)
            snprintf(fallback + strlen(fallback), sizeof fallback - strlen(fallback), "%s%s",
                     k ? "," : "", rem_channel_name(rest[k]));
        strcat(fallback, "}");
        snprintf(why, sizeof why, "instalment %s of plan %s due %s", PQgetvalue(r, i, 2),
                 PQgetvalue(r, i, 1), today_s);
        if (db_begin(self->db)) {
            rc = -1;
            break;
        }
        const char *q[] = { ps->tenant, debtor_s, rem_channel_name(ch), fallback, PQgetvalue(r, i, 6),
                            PQgetvalue(r, i, 4), PQgetvalue(r, i, 5), today_s, why };
        PGresult *x = db_exec(self->db,
            "INSERT INTO reminders (tenant, debtor_id, kind, level, channel, fallback, template_key, tone,"
            " invoice_ids, currency, total_minor, planned_date, reason) VALUES ($1, $2, 'instalment', 0,"
            " $3, $4, 'instalment', 'friendly', $5, $6, $7, $8, $9) RETURNING id", 9, q);
        char rid[24] = "";
        if (x) {
            snprintf(rid, sizeof rid, "%s", PQgetvalue(x, 0, 0));
            PQclear(x);
        }
        const char *u[] = { ps->tenant, rid, PQgetvalue(r, i, 1), PQgetvalue(r, i, 2), debtor_s };
        x = rid[0] ? db_exec(self->db,
            "INSERT INTO reminder_instalments (tenant, debtor_id, reminder_id, plan_id, number)"
            " VALUES ($1, $5::bigint, $2, $3, $4) ON CONFLICT DO NOTHING", 5, u) : NULL;
        bool inserted = x && strtol(PQcmdTuples(x), NULL, 10) == 1;
        if (x)
            PQclear(x);
        const char *dl[] = { ps->tenant, rid, rem_channel_name(ch), debtor_s };
        Creance__Envelope env;
        envelope_init(&env, ps->tenant, "reminders", "reminders");
        Creance__ReminderScheduled ev = CREANCE__REMINDER_SCHEDULED__INIT;
        Creance__Date planned = CREANCE__DATE__INIT;
        date_to_pb(ps->today, &planned);
        ev.reminder_id = strtoll(rid, NULL, 10);
        ev.debtor_id = debtor;
        ev.level = 0;
        ev.channel = pb_channel(ch);
        ev.planned_date = &planned;
        env.event_case = CREANCE__ENVELOPE__EVENT_REMINDER_SCHEDULED;
        env.reminder_scheduled = &ev;
        int add = inserted ? eventlog_add(self->events, &env) : -1;
        env.reminder_scheduled = NULL;
        env.event_case = CREANCE__ENVELOPE__EVENT__NOT_SET;
        envelope_clear(&env);
        if (!inserted || add
            || db_run(self->db,
                "INSERT INTO reminder_deliveries (tenant, debtor_id, reminder_id, channel,"
                " idempotency_key, recipient)"
                " SELECT $1, $4::bigint, $2::bigint, $3, $1 || '-r' || $2::text || '-' || $3,"
                "  CASE $3 WHEN 'email' THEN d.email WHEN 'sms' THEN d.phone ELSE d.legal_name END"
                " FROM (SELECT 1) one LEFT JOIN rem_debtors d ON d.tenant = $1 AND d.debtor_id = $4::bigint",
                4, dl)
            || eventlog_flush(self->events, self->db) || db_commit(self->db)) {
            db_rollback(self->db);
            eventlog_reset(self->events);
            if (inserted)
                rc = -1;
            continue;
        }
        if (self->bus)
            eventlog_publish(self->events, self->bus);
        eventlog_reset(self->events);
        ps->st->reminders++;
        metric_inc(self->m_decided);
        log_info("instalment reminder decided tenant=%s reminder=%s debtor=%" PRId64 " plan=%s"
                 " instalment=%s channel=%s", ps->tenant, rid, debtor, PQgetvalue(r, i, 1),
                 PQgetvalue(r, i, 2), rem_channel_name(ch));
    }
    PQclear(r);
    return rc;
}

int rem_dunning_tenant(rem_dunning_t *self, const char *tenant, int32_t today, int64_t now_s,
                       json_t *preview, rem_pass_stats_t *st)
{
    return run_tenant(self, tenant, today, now_s, preview != NULL, preview, st);
}

int rem_dunning_dry_run(rem_dunning_t *self, const char *tenant, int32_t today, int64_t now_s,
                        rem_pass_stats_t *st)
{
    return run_tenant(self, tenant, today, now_s, true, NULL, st);
}

int rem_dunning_run(rem_dunning_t *self, int32_t today, int64_t now_s, rem_pass_stats_t *st)
{
    int64_t start = now_us();
    PGresult *r = db_exec(self->db, "SELECT id FROM tenants ORDER BY id", 0, NULL);
    if (!r)
        return -1;
    int rc = 0;
    for (int i = 0; i < PQntuples(r); i++)
        if (rem_dunning_tenant(self, PQgetvalue(r, i, 0), today, now_s, NULL, st))
            rc = -1;
    PQclear(r);
    metric_observe(self->m_seconds, (double) (now_us() - start) / 1e6);
    return rc;
}
