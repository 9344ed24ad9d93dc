/*  watch: outcomes of promises and payment plans (rules in watch.h). */
#include "watch.h"

#include <czmq.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dates.h"
#include "envelope.h"
#include "eventlog.h"
#include "log.h"
#include "metrics.h"

/* ------------------------------------------------------------- decisions */

intake_watch_outcome_t
intake_watch_promise(int32_t promised, int32_t kept_day, int32_t today,
                     const intake_watch_rules_t *rules, int32_t *day)
{
    int32_t last = promised + rules->promise_grace_days;
    /* Payments dated after today are not known facts yet. */
    if (kept_day != INTAKE_WATCH_NO_DAY && kept_day <= last && kept_day <= today) {
        *day = kept_day;
        return INTAKE_WATCH_KEPT;
    }
    if (today > last) {
        *day = last + 1;
        return INTAKE_WATCH_BROKEN;
    }
    *day = INTAKE_WATCH_NO_DAY;
    return INTAKE_WATCH_WAIT;
}

intake_watch_outcome_t
intake_watch_plan(intake_watch_instalment_t *ins, size_t n, int32_t today,
                  const intake_watch_rules_t *rules, int32_t *day)
{
    int32_t grace = rules->instalment_grace_days;
    int32_t default_day = INTAKE_WATCH_NO_DAY;
    int missed = 0;
    *day = INTAKE_WATCH_NO_DAY;
    for (size_t i = 0; i < n; i++) {
        intake_watch_instalment_t *in = &ins[i];
        int32_t last = in->due + grace;
        bool covered = in->covered != INTAKE_WATCH_NO_DAY && in->covered <= today;
        in->decided = INTAKE_WATCH_WAIT;
        in->decided_day = INTAKE_WATCH_NO_DAY;
        if (in->status == INTAKE_WATCH_WAIT) {
            if (covered && in->covered <= last) {
                in->decided = INTAKE_WATCH_PAID;
                in->decided_day = in->covered;
            }
            else if (today > last) {
                in->decided = INTAKE_WATCH_MISSED;
                in->decided_day = last + 1;
            }
        }
        intake_watch_outcome_t now = in->status != INTAKE_WATCH_WAIT ? in->status : in->decided;
        if (now != INTAKE_WATCH_MISSED)
            continue;
        /* The N-th missed instalment defaults the plan on the day it is missed. */
        if (++missed == rules->default_missed
            && (default_day == INTAKE_WATCH_NO_DAY || last + 1 < default_day))
            default_day = last + 1;
        /* So does one missed instalment left uncovered for default_days more. */
        int32_t long_day = last + rules->default_days + 1;
        if (long_day <= today && (!covered || in->covered >= long_day)
            && (default_day == INTAKE_WATCH_NO_DAY || long_day < default_day))
            default_day = long_day;
    }
    if (n == 0)
        return INTAKE_WATCH_WAIT;
    /* The last instalment covered: the whole total is paid. */
    const intake_watch_instalment_t *end = &ins[n - 1];
    if (end->covered != INTAKE_WATCH_NO_DAY && end->covered <= today
        && (default_day == INTAKE_WATCH_NO_DAY || end->covered <= default_day)) {
        *day = end->covered;
        return INTAKE_WATCH_COMPLETED;
    }
    if (default_day != INTAKE_WATCH_NO_DAY) {
        *day = default_day;
        return INTAKE_WATCH_DEFAULTED;
    }
    return INTAKE_WATCH_WAIT;
}

/* --------------------------------------------------------------- watcher */

/*  Event types, in the order of intake_watch_outcome_t (KEPT .. DEFAULTED). */
static const char *s_type_names[] = {
    NULL, "PromiseKept", "PromiseBroken", "InstalmentPaid", "InstalmentMissed",
    "PlanCompleted", "PlanDefaulted"
};
#define TYPE_COUNT (sizeof s_type_names / sizeof s_type_names[0])

struct intake_watch_t {
    db_t *db;
    bus_t *bus;
    intake_watch_rules_t rules;
    eventlog_batch_t *events;
    zlistx_t *lines;            /* log lines of the emitted facts, after commit */
    size_t counts[TYPE_COUNT];  /* per type, in the transaction in hand */
    zhashx_t *seen;             /* tenant -> last payment id looked at (int64_t *) */
    metric_t *emitted[TYPE_COUNT];
    metric_t *errors;
};

intake_watch_t *
intake_watch_new(db_t *db, bus_t *bus, const intake_watch_rules_t *rules)
{
    intake_watch_t *self = calloc(1, sizeof *self);
    self->db = db;
    self->bus = bus;
    self->rules = *rules;
    self->events = eventlog_batch_new();
    self->lines = zlistx_new();
    zlistx_set_destructor(self->lines, (zlistx_destructor_fn *) zstr_free);
    self->seen = zhashx_new();
    zhashx_set_destructor(self->seen, (zhashx_destructor_fn *) zstr_free);
    for (size_t t = 1; t < TYPE_COUNT; t++) {
        char labels[64];
        snprintf(labels, sizeof labels, "type=\"%s\"", s_type_names[t]);
        self->emitted[t] = metrics_counter("creance_intake_watch_events_total",
                                           "promise and plan outcomes emitted by intake", labels);
    }
    self->errors = metrics_counter("creance_intake_watch_errors_total",
                                   "watcher passes of a tenant that failed (retried later)", NULL);
    return self;
}

void
intake_watch_destroy(intake_watch_t **self_p)
{
    intake_watch_t *self = *self_p;
    if (!self)
        return;
    eventlog_batch_destroy(&self->events);
    zlistx_destroy(&self->lines);
    zhashx_destroy(&self->seen);
    free(self);
    *self_p = NULL;
}

void
intake_watch_set_rules(intake_watch_t *self, const intake_watch_rules_t *rules)
{
    self->rules = *rules;
}

static int32_t
s_day(const PGresult *r, int row, int col)
{
    int32_t d = INTAKE_WATCH_NO_DAY;
    if (!PQgetisnull(r, row, col) && !date_parse(PQgetvalue(r, row, col), &d))
        d = INTAKE_WATCH_NO_DAY;
    return d;
}

static int64_t
s_i64(const PGresult *r, int row, int col)
{
    return strtoll(PQgetvalue(r, row, col), NULL, 10);
}

/*  Runs a guarded UPDATE: 1 when it changed the row, 0 when another run
    got there first, -1 on a database error. */
static int
s_claim(intake_watch_t *self, const char *sql, int nparams, const char *const *params)
{
    PGresult *r = db_exec(self->db, sql, nparams, params);
    if (!r)
        return -1;
    int n = atoi(PQcmdTuples(r));
    PQclear(r);
    return n > 0 ? 1 : 0;
}

/*  Adds the event and remembers its log line. */
static int
s_emit(intake_watch_t *self, Creance__Envelope *env, intake_watch_outcome_t type, char *line)
{
    int rc = eventlog_add(self->events, env);
    envelope_clear(env);
    if (rc) {
        free(line);
        return -1;
    }
    zlistx_add_end(self->lines, line);
    self->counts[type]++;
    return 0;
}

static char *
s_line(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = NULL;
    if (vasprintf(&s, fmt, ap) < 0)
        s = NULL;
    va_end(ap);
    return s ? s : strdup("");
}

/*  Promises: one query for the tenant, then one guarded update per outcome. */
static int
s_promises(intake_watch_t *self, const char *tenant, const char *since, int32_t today)
{
    char grace[16], today_s[11];
    snprintf(grace, sizeof grace, "%d", self->rules.promise_grace_days);
    date_format(today, today_s);
    const char *p[] = { tenant, since, grace, today_s };
    /* The counted payments (watch.h) in date order with their running sum;
       the promise is kept on the first day that sum reaches the amount. */
    PGresult *r = db_exec(self->db,
        "WITH pr AS ("
        "  SELECT id, debtor_id, currency, amount_minor, promised_date, invoice_ids, created_at"
        "  FROM promises WHERE tenant = $1 AND status = 'open'"
        "  AND ($2::bigint IS NULL OR debtor_id IN"
        "       (SELECT debtor_id FROM payments WHERE tenant = $1 AND id > $2::bigint))),"
        " pay AS ("
        "  SELECT pr.id AS promise_id, p.id AS payment_id, p.received_date,"
        "    CASE WHEN cardinality(pr.invoice_ids) = 0 THEN p.amount_minor"
        "    ELSE (SELECT coalesce(sum(a.amount_minor), 0) FROM allocations a"
        "          WHERE a.tenant = $1 AND a.payment_id = p.id"
        "          AND a.invoice_id = ANY(pr.invoice_ids)) END AS counted"
        "  FROM pr JOIN payments p ON p.tenant = $1 AND p.debtor_id = pr.debtor_id"
        "    AND p.currency = pr.currency"
        "  WHERE p.reversed_at IS NULL AND p.reversed_date IS NULL"
        "    AND p.received_date <= LEAST(pr.promised_date + $3::int, $4::date)"
        "    AND (p.received_date >= (pr.created_at AT TIME ZONE 'UTC')::date"
        "         OR p.created_at >= pr.created_at)),"
        " run AS ("
        "  SELECT promise_id, received_date,"
        "    sum(counted) OVER (PARTITION BY promise_id ORDER BY received_date, payment_id) AS total"
        "  FROM pay)"
        " SELECT pr.id, pr.debtor_id, pr.promised_date,"
        "  (SELECT min(run.received_date) FROM run"
        "   WHERE run.promise_id = pr.id AND run.total >= pr.amount_minor)"
        " FROM pr ORDER BY pr.id", 4, p);
    if (!r)
        return -1;
    int rc = 0;
    for (int i = 0; rc == 0 && i < PQntuples(r); i++) {
        int64_t id = s_i64(r, i, 0), debtor = s_i64(r, i, 1);
        int32_t day;
        intake_watch_outcome_t o = intake_watch_promise(s_day(r, i, 2), s_day(r, i, 3), today,
                                                        &self->rules, &day);
        if (o == INTAKE_WATCH_WAIT)
            continue;
        char day_s[11];
        date_format(day, day_s);
        const char *status = o == INTAKE_WATCH_KEPT ? "kept" : "broken";
        const char *q[] = { tenant, PQgetvalue(r, i, 0), status, day_s };
        int claimed = s_claim(self,
            "UPDATE promises SET status = $3, resolved_date = $4::date"
            " WHERE tenant = $1 AND id = $2::bigint AND status = 'open'", 4, q);
        if (claimed <= 0) {
            rc = claimed;
            continue;
        }
        Creance__Envelope env;
        envelope_init(&env, tenant, "ledger", "intake");
        Creance__Date d = CREANCE__DATE__INIT;
        date_to_pb(day, &d);
        Creance__PromiseKept kept = CREANCE__PROMISE_KEPT__INIT;
        Creance__PromiseBroken broken = CREANCE__PROMISE_BROKEN__INIT;
        if (o == INTAKE_WATCH_KEPT) {
            kept.promise_id = id;
            kept.debtor_id = debtor;
            kept.date = &d;
            env.event_case = CREANCE__ENVELOPE__EVENT_PROMISE_KEPT;
            env.promise_kept = &kept;
        }
        else {
            broken.promise_id = id;
            broken.debtor_id = debtor;
            broken.date = &d;
            env.event_case = CREANCE__ENVELOPE__EVENT_PROMISE_BROKEN;
            env.promise_broken = &broken;
        }
        rc = s_emit(self, &env, o, s_line("promise %s tenant=%s promise=%" PRId64 " debtor=%" PRId64
                                          " date=%s", status, tenant, id, debtor, day_s));
    }
    PQclear(r);
    return rc;
}

static int
s_instalment_event(intake_watch_t *self, const char *tenant, int64_t plan, int64_t debtor,
                   const char *currency, const intake_watch_instalment_t *in)
{
    char plan_s[24], num[16], day_s[11];
    snprintf(plan_s, sizeof plan_s, "%" PRId64, plan);
    snprintf(num, sizeof num, "%d", in->number);
    date_format(in->decided_day, day_s);
    bool paid = in->decided == INTAKE_WATCH_PAID;
    const char *q[] = { tenant, plan_s, num, paid ? "paid" : "missed", day_s };
    int claimed = s_claim(self,
        "UPDATE plan_instalments SET status = $4, resolved_date = $5::date,"
        " paid_minor = CASE WHEN $4 = 'paid' THEN amount_minor ELSE paid_minor END"
        " WHERE tenant = $1 AND plan_id = $2::bigint AND number = $3::int AND status = 'due'",
        5, q);
    if (claimed <= 0)
        return claimed;
    Creance__Envelope env;
    envelope_init(&env, tenant, "ledger", "intake");
    Creance__Date due = CREANCE__DATE__INIT, on = CREANCE__DATE__INIT;
    date_to_pb(in->due, &due);
    date_to_pb(in->decided_day, &on);
    Creance__Money amount = CREANCE__MONEY__INIT;
    amount.minor = in->amount_minor;
    amount.currency = (char *) currency;
    Creance__Instalment inst = CREANCE__INSTALMENT__INIT;
    inst.number = in->number;
    inst.due_date = &due;
    inst.amount = &amount;
    Creance__InstalmentPaid ep = CREANCE__INSTALMENT_PAID__INIT;
    Creance__InstalmentMissed em = CREANCE__INSTALMENT_MISSED__INIT;
    if (paid) {
        ep.plan_id = plan;
        ep.debtor_id = debtor;
        ep.instalment = &inst;
        ep.paid_date = &on;
        env.event_case = CREANCE__ENVELOPE__EVENT_INSTALMENT_PAID;
        env.instalment_paid = &ep;
    }
    else {
        em.plan_id = plan;
        em.debtor_id = debtor;
        em.instalment = &inst;
        env.event_case = CREANCE__ENVELOPE__EVENT_INSTALMENT_MISSED;
        env.instalment_missed = &em;
    }
    return s_emit(self, &env, in->decided,
                  s_line("instalment %s tenant=%s plan=%" PRId64 " debtor=%" PRId64 " number=%d"
                         " date=%s", paid ? "paid" : "missed", tenant, plan, debtor, in->number,
                         day_s));
}

static int
s_plan_event(intake_watch_t *self, const char *tenant, int64_t plan, int64_t debtor,
             intake_watch_outcome_t o, int32_t day)
{
    char plan_s[24], day_s[11];
    snprintf(plan_s, sizeof plan_s, "%" PRId64, plan);
    date_format(day, day_s);
    bool done = o == INTAKE_WATCH_COMPLETED;
    const char *q[] = { tenant, plan_s, done ? "completed" : "defaulted", day_s };
    int claimed = s_claim(self,
        "UPDATE payment_plans SET status = $3, ended_date = $4::date"
        " WHERE tenant = $1 AND id = $2::bigint AND status = 'active'", 4, q);
    if (claimed <= 0)
        return claimed;
    Creance__Envelope env;
    envelope_init(&env, tenant, "ledger", "intake");
    Creance__Date d = CREANCE__DATE__INIT;
    date_to_pb(day, &d);
    Creance__PlanCompleted ec = CREANCE__PLAN_COMPLETED__INIT;
    Creance__PlanDefaulted ed = CREANCE__PLAN_DEFAULTED__INIT;
    if (done) {
        ec.plan_id = plan;
        ec.debtor_id = debtor;
        ec.date = &d;
        env.event_case = CREANCE__ENVELOPE__EVENT_PLAN_COMPLETED;
        env.plan_completed = &ec;
    }
    else {
        ed.plan_id = plan;
        ed.debtor_id = debtor;
        ed.date = &d;
        env.event_case = CREANCE__ENVELOPE__EVENT_PLAN_DEFAULTED;
        env.plan_defaulted = &ed;
    }
    return s_emit(self, &env, o, s_line("plan %s tenant=%s plan=%" PRId64 " debtor=%" PRId64
                                        " date=%s", done ? "completed" : "defaulted", tenant,
                                        plan, debtor, day_s));
}

/*  Decides one plan (rows [from, to) of the result) and emits. */
static int
s_plan(intake_watch_t *self, const char *tenant, const PGresult *r, int from, int to,
       int32_t today)
{
    size_t n = (size_t) (to - from);
    intake_watch_instalment_t *ins = calloc(n ? n : 1, sizeof *ins);
    for (size_t k = 0; k < n; k++) {
        int row = from + (int) k;
        const char *status = PQgetvalue(r, row, 6);
        ins[k].number = atoi(PQgetvalue(r, row, 3));
        ins[k].due = s_day(r, row, 4);
        ins[k].amount_minor = s_i64(r, row, 5);
        ins[k].status = !strcmp(status, "paid") ? INTAKE_WATCH_PAID
                      : !strcmp(status, "missed") ? INTAKE_WATCH_MISSED : INTAKE_WATCH_WAIT;
        ins[k].covered = s_day(r, row, 7);
    }
    int64_t plan = s_i64(r, from, 0), debtor = s_i64(r, from, 1);
    const char *currency = PQgetvalue(r, from, 2);
    int32_t day;
    intake_watch_outcome_t o = intake_watch_plan(ins, n, today, &self->rules, &day);
    int rc = 0;
    for (size_t k = 0; rc == 0 && k < n; k++)
        if (ins[k].decided != INTAKE_WATCH_WAIT)
            rc = s_instalment_event(self, tenant, plan, debtor, currency, &ins[k]);
    if (rc == 0 && o != INTAKE_WATCH_WAIT)
        rc = s_plan_event(self, tenant, plan, debtor, o, day);
    free(ins);
    return rc;
}

/*  Plans: one query for the tenant's active plans, their instalments with
    the cumulative amounts and the day each is covered. */
static int
s_plans(intake_watch_t *self, const char *tenant, const char *since, int32_t today)
{
    char today_s[11];
    date_format(today, today_s);
    const char *p[] = { tenant, since, today_s };
    PGresult *r = db_exec(self->db,
        "WITH pl AS ("
        "  SELECT id, debtor_id, currency, agreed_date FROM payment_plans"
        "  WHERE tenant = $1 AND status = 'active'"
        "  AND ($2::bigint IS NULL OR debtor_id IN"
        "       (SELECT debtor_id FROM payments WHERE tenant = $1 AND id > $2::bigint))),"
        " ins AS ("
        "  SELECT i.plan_id, i.number, i.due_date, i.amount_minor, i.status,"
        "    sum(i.amount_minor) OVER (PARTITION BY i.plan_id ORDER BY i.number) AS cum"
        "  FROM plan_instalments i JOIN pl ON pl.id = i.plan_id WHERE i.tenant = $1),"
        " run AS ("
        "  SELECT pl.id AS plan_id, p.received_date,"
        "    sum(p.amount_minor) OVER (PARTITION BY pl.id ORDER BY p.received_date, p.id) AS total"
        "  FROM pl JOIN payments p ON p.tenant = $1 AND p.debtor_id = pl.debtor_id"
        "    AND p.currency = pl.currency"
        "  WHERE p.reversed_at IS NULL AND p.reversed_date IS NULL"
        "    AND p.received_date >= pl.agreed_date AND p.received_date <= $3::date)"
        " SELECT ins.plan_id, pl.debtor_id, pl.currency, ins.number, ins.due_date,"
        "  ins.amount_minor, ins.status,"
        "  (SELECT min(run.received_date) FROM run"
        "   WHERE run.plan_id = ins.plan_id AND run.total >= ins.cum)"
        " FROM ins JOIN pl ON pl.id = ins.plan_id ORDER BY ins.plan_id, ins.number", 3, p);
    if (!r)
        return -1;
    int rc = 0, rows = PQntuples(r);
    for (int from = 0; rc == 0 && from < rows;) {
        int to = from + 1;
        while (to < rows && !strcmp(PQgetvalue(r, to, 0), PQgetvalue(r, from, 0)))
            to++;
        rc = s_plan(self, tenant, r, from, to, today);
        from = to;
    }
    PQclear(r);
    return rc;
}

/*  One tenant in one transaction; `since`: NULL for every debtor, else only
    debtors with payments whose id is above it. Events published after
    commit. Returns the number emitted or -1. */
static int
s_tenant(intake_watch_t *self, const char *tenant, const char *since)
{
    int32_t today = date_today();
    eventlog_reset(self->events);
    zlistx_purge(self->lines);
    memset(self->counts, 0, sizeof self->counts);
    if (db_begin(self->db))
        goto failed;
    if (s_promises(self, tenant, since, today) || s_plans(self, tenant, since, today)
        || (eventlog_count(self->events) && eventlog_flush(self->events, self->db))
        || db_commit(self->db)) {
        db_rollback(self->db);
        goto failed;
    }
    for (char *line = zlistx_first(self->lines); line; line = zlistx_next(self->lines))
        log_info("%s", line);
    for (size_t t = 1; t < TYPE_COUNT; t++)
        metric_add(self->emitted[t], (double) self->counts[t]);
    int n = (int) eventlog_count(self->events);
    if (n)
        eventlog_publish(self->events, self->bus);
    eventlog_reset(self->events);
    zlistx_purge(self->lines);
    return n;

failed:
    eventlog_reset(self->events);
    zlistx_purge(self->lines);
    metric_inc(self->errors);
    log_warn("watch pass failed tenant=%s error=%s (retried later)", tenant,
             db_last_error(self->db));
    return -1;
}

/*  The tenant's newest payment id ("0" without payments), or NULL. */
static char *
s_last_payment(intake_watch_t *self, const char *tenant)
{
    const char *p[] = { tenant };
    PGresult *r = db_exec(self->db,
        "SELECT coalesce(max(id), 0) FROM payments WHERE tenant = $1", 1, p);
    if (!r)
        return NULL;
    char *s = PQntuples(r) ? strdup(PQgetvalue(r, 0, 0)) : strdup("0");
    PQclear(r);
    return s;
}

int
intake_watch_tenant_payments(intake_watch_t *self, const char *tenant)
{
    char *last = s_last_payment(self, tenant);
    if (!last)
        return -1;
    const char *seen = zhashx_lookup(self->seen, tenant);
    int n = 0;
    if (!seen || strtoll(last, NULL, 10) > strtoll(seen, NULL, 10))
        n = s_tenant(self, tenant, seen ? seen : "0");
    if (n >= 0)
        zhashx_update(self->seen, tenant, last);     /* takes `last` */
    else
        free(last);
    return n;
}

int
intake_watch_run(intake_watch_t *self, const char *trigger)
{
    PGresult *r = db_exec(self->db, "SELECT id FROM tenants ORDER BY id", 0, NULL);
    if (!r)
        return -1;
    int total = 0, failed = 0;
    for (int i = 0; i < PQntuples(r); i++) {
        const char *tenant = PQgetvalue(r, i, 0);
        char *last = s_last_payment(self, tenant);
        int n = last ? s_tenant(self, tenant, NULL) : -1;
        if (n < 0) {
            failed++;
            free(last);
            continue;
        }
        zhashx_update(self->seen, tenant, last);
        total += n;
    }
    PQclear(r);
    log_debug("watch pass done trigger=%s events=%d failed_tenants=%d", trigger, total, failed);
    return failed ? -1 : total;
}
