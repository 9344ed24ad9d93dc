/*  delivery: the outbox sender (see delivery.h). */
#include "delivery.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compose.h"
#include "dates.h"
#include "envelope.h"
#include "eventlog.h"
#include "letter.h"
#include "log.h"
#include "metrics.h"
#include "policy.h"

struct rem_delivery_t {
    db_t *db;
    bus_t *bus;
    rem_delivery_config_t cfg;
    eventlog_batch_t *events;
};

rem_delivery_t *rem_delivery_new(db_t *db, bus_t *bus, const rem_delivery_config_t *cfg)
{
    rem_delivery_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->db = db;
    self->bus = bus;
    self->cfg = *cfg;
    if (self->cfg.batch < 1)
        self->cfg.batch = 10;
    if (self->cfg.max_attempts < 1)
        self->cfg.max_attempts = 5;
    if (self->cfg.backoff_base_s < 1)
        self->cfg.backoff_base_s = 30;
    if (self->cfg.backoff_max_s < self->cfg.backoff_base_s)
        self->cfg.backoff_max_s = 3600;
    if (self->cfg.lease_s < 1)
        self->cfg.lease_s = 300;
    self->events = eventlog_batch_new();
    return self;
}

void rem_delivery_destroy(rem_delivery_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    eventlog_batch_destroy(&(*self_p)->events);
    free(*self_p);
    *self_p = NULL;
}

int rem_delivery_backoff(int attempts, int base_s, int max_s)
{
    if (attempts < 1)
        attempts = 1;
    long long b = base_s;
    for (int i = 1; i < attempts && b < max_s; i++)
        b *= 2;
    return (int) (b < max_s ? b : max_s);
}

int rem_delivery_recover(rem_delivery_t *self)
{
    PGresult *r = db_exec(self->db,
        "UPDATE reminder_deliveries SET next_attempt_at = now() WHERE status = 'sending'", 0, NULL);
    if (!r)
        return -1;
    long n = strtol(PQcmdTuples(r), NULL, 10);
    PQclear(r);
    if (n)
        log_warn("deliveries interrupted by a stop or crash are due again count=%ld", n);
    return 0;
}

/* ------------------------------------------------------------ events */

static Creance__Channel pb_channel(const char *c)
{
    switch (rem_channel_parse(c)) {
    case REM_CH_EMAIL:   return CREANCE__CHANNEL__EMAIL;
    case REM_CH_SMS:     return CREANCE__CHANNEL__SMS;
    case REM_CH_LETTER:  return CREANCE__CHANNEL__LETTER;
    case REM_CH_PHONE:   return CREANCE__CHANNEL__PHONE;
    case REM_CH_HANDOFF: return CREANCE__CHANNEL__HANDOFF;
    default:             return CREANCE__CHANNEL__CHANNEL_UNSPECIFIED;
    }
}

static int add_sent(rem_delivery_t *self, const char *tenant, int64_t reminder, int64_t debtor,
                    int level, const char *channel)
{
    Creance__Envelope env;
    envelope_init(&env, tenant, "reminders", "reminders");
    Creance__ReminderSent ev = CREANCE__REMINDER_SENT__INIT;
    ev.reminder_id = reminder;
    ev.debtor_id = debtor;
    ev.level = level;
    ev.channel = pb_channel(channel);
    ev.sent_at_us = now_us();
    env.event_case = CREANCE__ENVELOPE__EVENT_REMINDER_SENT;
    env.reminder_sent = &ev;
    int rc = eventlog_add(self->events, &env);
    env.event_case = CREANCE__ENVELOPE__EVENT__NOT_SET;
    env.reminder_sent = NULL;
    envelope_clear(&env);
    return rc;
}

static int add_failed(rem_delivery_t *self, const char *tenant, int64_t reminder, int64_t debtor,
                      int level, const char *channel, const char *error, int attempt)
{
    Creance__Envelope env;
    envelope_init(&env, tenant, "reminders", "reminders");
    Creance__ReminderFailed ev = CREANCE__REMINDER_FAILED__INIT;
    ev.reminder_id = reminder;
    ev.debtor_id = debtor;
    ev.level = level;
    ev.channel = pb_channel(channel);
    ev.error = (char *) error;
    ev.attempt = attempt;
    env.event_case = CREANCE__ENVELOPE__EVENT_REMINDER_FAILED;
    env.reminder_failed = &ev;
    int rc = eventlog_add(self->events, &env);
    env.event_case = CREANCE__ENVELOPE__EVENT__NOT_SET;
    env.reminder_failed = NULL;
    envelope_clear(&env);
    return rc;
}

static int commit_publish(rem_delivery_t *self)
{
    if (eventlog_flush(self->events, self->db) || db_commit(self->db)) {
        db_rollback(self->db);
        eventlog_reset(self->events);
        return -1;
    }
    if (self->bus)
        eventlog_publish(self->events, self->bus);
    eventlog_reset(self->events);
    return 0;
}

/* ------------------------------------------------------------ fallback */

/*  Inside a transaction: a delivery on the next usable fallback channel, or
    the reminder fails. Returns 1 when a fallback was queued, 0 when none
    was left, -1 on a database error. */
static int fall_back(rem_delivery_t *self, const char *tenant, const char *reminder, char *chosen,
                     size_t chosen_len)
{
    const char *p[] = { tenant, reminder };
    PGresult *r = db_exec(self->db,
        "SELECT array_to_string(r.fallback, ','), COALESCE(d.email <> '', false),"
        " COALESCE(d.phone <> '', false), COALESCE(d.address <> '{}'::jsonb, false),"
        " (SELECT COALESCE(string_agg(o.channel, ','), '') FROM rem_optouts o"
        "   WHERE o.tenant = r.tenant AND o.debtor_id = r.debtor_id),"
        " (SELECT string_agg(x.channel, ',') FROM reminder_deliveries x"
        "   WHERE x.tenant = r.tenant AND x.reminder_id = r.id)"
        " FROM reminders r LEFT JOIN rem_debtors d ON d.tenant = r.tenant AND d.debtor_id = r.debtor_id"
        " WHERE r.tenant = $1 AND r.id = $2 FOR UPDATE OF r", 2, p);
    if (!r)
        return -1;
    if (PQntuples(r) != 1) {
        PQclear(r);
        return -1;
    }
    unsigned avail = REM_CH_BIT(REM_CH_HANDOFF)
        | (PQgetvalue(r, 0, 1)[0] == 't' ? REM_CH_BIT(REM_CH_EMAIL) : 0)
        | (PQgetvalue(r, 0, 2)[0] == 't' ? REM_CH_BIT(REM_CH_SMS) | REM_CH_BIT(REM_CH_PHONE) : 0)
        | (PQgetvalue(r, 0, 3)[0] == 't' ? REM_CH_BIT(REM_CH_LETTER) : 0);
    unsigned optout = 0, tried = 0;
    char buf[256];
    snprintf(buf, sizeof buf, "%s", PQgetvalue(r, 0, 4));
    for (char *s = NULL, *t = strtok_r(buf, ",", &s); t; t = strtok_r(NULL, ",", &s))
        optout |= REM_CH_BIT(rem_channel_parse(t));
    snprintf(buf, sizeof buf, "%s", PQgetvalue(r, 0, 5));
    for (char *s = NULL, *t = strtok_r(buf, ",", &s); t; t = strtok_r(NULL, ",", &s))
        tried |= REM_CH_BIT(rem_channel_parse(t));
    char fb[128];
    snprintf(fb, sizeof fb, "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    rem_channel_t next = REM_CH_NONE;
    char rest[128] = "{";
    size_t rp = 1;
    for (char *s = NULL, *t = strtok_r(fb, ",", &s); t; t = strtok_r(NULL, ",", &s)) {
        rem_channel_t c = rem_channel_parse(t);
        if (c == REM_CH_NONE)
            continue;
        if (next == REM_CH_NONE) {
            if (!(tried & REM_CH_BIT(c)) && rem_channel_usable(c, optout, avail))
                next = c;
            continue;
        }
        rp += (size_t) snprintf(rest + rp, sizeof rest - rp, "%s%s", rp > 1 ? "," : "", t);
    }
    snprintf(rest + rp, sizeof rest - rp, "}");
    if (next == REM_CH_NONE) {
        if (db_run(self->db, "UPDATE reminders SET status = 'failed', fallback = '{}'"
                             " WHERE tenant = $1 AND id = $2", 2, p))
            return -1;
        return 0;
    }
    const char *q[] = { tenant, reminder, rem_channel_name(next), rest };
    if (db_run(self->db,
        "INSERT INTO reminder_deliveries (tenant, debtor_id, reminder_id, channel, idempotency_key,"
        " recipient)"
        " SELECT $1, r.debtor_id, $2::bigint, $3, $1 || '-r' || $2::text || '-' || $3,"
        "  CASE $3 WHEN 'email' THEN d.email WHEN 'sms' THEN d.phone WHEN 'phone' THEN d.phone"
        "   ELSE d.legal_name END"
        " FROM reminders r LEFT JOIN rem_debtors d ON d.tenant = r.tenant AND d.debtor_id = r.debtor_id"
        " WHERE r.tenant = $1 AND r.id = $2", 3, q)
        || db_run(self->db, "UPDATE reminders SET fallback = $3::text[], status = 'pending'"
                            " WHERE tenant = $1 AND id = $2", 3, (const char *const[]) { tenant, reminder, rest }))
        return -1;
    snprintf(chosen, chosen_len, "%s", rem_channel_name(next));
    return 1;
}

/* ------------------------------------------------------------ one delivery */

typedef struct {
    char tenant[64];
    char id[24];
    char reminder[24];
    char channel[16];
    char key[200];
    char recipient[256];
    int64_t debtor;
    int level;
    int attempts;
} job_t;

/*  The dossier's history: every reminder of the debtor. */
static int handoff_pdf(rem_delivery_t *self, const job_t *j, rem_composed_t *c, unsigned char **pdf,
                       size_t *len, render_error_t *err)
{
    char debtor[24];
    snprintf(debtor, sizeof debtor, "%" PRId64, j->debtor);
    const char *p[] = { j->tenant, debtor };
    PGresult *r = db_exec(self->db,
        "SELECT r.planned_date - DATE '1970-01-01', r.level, r.template_key,"
        " COALESCE((SELECT d.channel FROM reminder_deliveries d WHERE d.tenant = r.tenant"
        "   AND d.reminder_id = r.id ORDER BY d.id DESC LIMIT 1), r.channel), r.status,"
        " (SELECT string_agg(COALESCE(v.number, i.invoice_id::text), ', ') FROM reminder_items i"
        "   LEFT JOIN rem_invoices v ON v.tenant = i.tenant AND v.invoice_id = i.invoice_id"
        "   WHERE i.tenant = r.tenant AND i.reminder_id = r.id)"
        " FROM reminders r WHERE r.tenant = $1 AND r.debtor_id = $2 ORDER BY r.id LIMIT 200", 2, p);
    if (!r)
        return -1;
    int n = PQntuples(r);
    letter_reminder_t *rem = calloc((size_t) (n ? n : 1), sizeof *rem);
    if (!rem) {
        PQclear(r);
        return -1;
    }
    for (int i = 0; i < n; i++) {
        rem[i].date = (int32_t) strtol(PQgetvalue(r, i, 0), NULL, 10);
        rem[i].level = atoi(PQgetvalue(r, i, 1));
        rem[i].kind = PQgetvalue(r, i, 2);
        rem[i].channel = PQgetvalue(r, i, 3);
        rem[i].status = PQgetvalue(r, i, 4);
        rem[i].invoices = PQgetvalue(r, i, 5);
    }
    letter_history_t h = { .reminders = rem, .n_reminders = (size_t) n };
    int rc = letter_dossier(&c->data, &h, pdf, len, err);
    free(rem);
    PQclear(r);
    return rc;
}

/*  Sends on the channel; fills `res`. For phone and handoff the "send" is
    the worklist row, written with the outcome (same transaction). */
static void send_job(rem_delivery_t *self, const job_t *j, rem_composed_t *c, rem_send_result_t *res)
{
    memset(res, 0, sizeof *res);
    rem_channel_t ch = rem_channel_parse(j->channel);
    switch (ch) {
    case REM_CH_EMAIL: {
        char mid[256];
        snprintf(mid, sizeof mid, "<r%s.email@%s.creance>", j->reminder, j->tenant);
        if (!j->recipient[0]) {
            res->status = REM_SEND_PERMANENT;
            snprintf(res->error, sizeof res->error, "no e-mail address");
            return;
        }
        rem_smtp_send(&self->cfg.smtp, j->recipient, c->subject, c->body, mid, res);
        return;
    }
    case REM_CH_SMS: {
        if (!self->cfg.sms.url || !*self->cfg.sms.url) {
            res->status = REM_SEND_PERMANENT;
            snprintf(res->error, sizeof res->error, "no SMS gateway configured (CREANCE_SMS_URL)");
            return;
        }
        if (!j->recipient[0]) {
            res->status = REM_SEND_PERMANENT;
            snprintf(res->error, sizeof res->error, "no phone number");
            return;
        }
        /*  An SMS carries the subject line: the amounts and the reference. */
        char text[640];
        snprintf(text, sizeof text, "%s", c->subject);
        rem_sms_send(&self->cfg.sms, j->recipient, text, j->key, res);
        return;
    }
    case REM_CH_LETTER:
    case REM_CH_HANDOFF: {
        unsigned char *pdf = NULL;
        size_t len = 0;
        render_error_t err = { 0 };
        int rc;
        if (ch == REM_CH_HANDOFF)
            rc = handoff_pdf(self, j, c, &pdf, &len, &err);
        else if (rem_compose_kind(c->template_key) == RENDER_MSG_FORMAL_NOTICE && c->n > 0)
            rc = letter_formal_notice(&c->data, &pdf, &len, &err);
        else
            rc = -1;
        if (rc) {
            if (ch == REM_CH_HANDOFF || rem_compose_kind(c->template_key) == RENDER_MSG_FORMAL_NOTICE)
                log_warn("letter not drawn, plain text PDF used tenant=%s reminder=%s field=%s reason=%s",
                         j->tenant, j->reminder, err.field, err.reason);
            free(pdf);
            pdf = NULL;
            if (rem_pdf_text(c->subject, c->body, &pdf, &len)) {
                res->status = REM_SEND_RETRY;
                snprintf(res->error, sizeof res->error, "pdf: cairo failed");
                return;
            }
        }
        char name[256];
        snprintf(name, sizeof name, "%s.pdf", j->key);
        if (rem_outbox_write(self->cfg.letter_outbox, name, pdf, len, res->error, sizeof res->error)) {
            res->status = REM_SEND_RETRY;
        } else {
            res->status = REM_SEND_OK;
            snprintf(res->provider_id, sizeof res->provider_id, "%s", name);
        }
        free(pdf);
        return;
    }
    case REM_CH_PHONE:
        res->status = REM_SEND_OK;
        snprintf(res->provider_id, sizeof res->provider_id, "worklist");
        return;
    default:
        res->status = REM_SEND_PERMANENT;
        snprintf(res->error, sizeof res->error, "unknown channel %s", j->channel);
    }
}

static int record_outcome(rem_delivery_t *self, const job_t *j, const rem_composed_t *c,
                          const rem_send_result_t *res)
{
    if (db_begin(self->db))
        return -1;
    char attempt[16];
    snprintf(attempt, sizeof attempt, "%d", j->attempts);
    const char *subject = c ? c->subject : "";
    const char *content = c ? c->body : "";
    if (res->status == REM_SEND_OK) {
        const char *p[] = { j->tenant, j->id, res->provider_id, subject ? subject : "",
                            content ? content : "", j->reminder };
        if (db_run(self->db,
                "UPDATE reminder_deliveries SET status = 'sent', sent_at = now(),"
                " provider_message_id = $3, subject = $4, content = $5, last_error = ''"
                " WHERE tenant = $1 AND id = $2", 5, p)
            || db_run(self->db, "UPDATE reminders SET status = 'sent' WHERE tenant = $1 AND id = $2",
                      2, (const char *const[]) { j->tenant, j->reminder }))
            goto fail;
        rem_channel_t ch = rem_channel_parse(j->channel);
        if (ch == REM_CH_PHONE || ch == REM_CH_HANDOFF) {
            char debtor[24];
            snprintf(debtor, sizeof debtor, "%" PRId64, j->debtor);
            char today[11];
            date_format(c ? c->planned_date : date_today(), today);
            const char *w[] = { j->tenant, j->reminder, debtor, ch == REM_CH_PHONE ? "call" : "handoff",
                                today, c ? c->phone : "", content ? content : "" };
            if (db_run(self->db,
                    "INSERT INTO rem_worklist (tenant, reminder_id, debtor_id, kind, due_date, phone, note)"
                    " VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (tenant, reminder_id, kind) DO NOTHING",
                    7, w))
                goto fail;
        }
        if (add_sent(self, j->tenant, strtoll(j->reminder, NULL, 10), j->debtor, j->level, j->channel))
            goto fail;
        if (commit_publish(self))
            return -1;
        log_info("reminder sent tenant=%s reminder=%s delivery=%s channel=%s attempt=%d provider_id=%s",
                 j->tenant, j->reminder, j->id, j->channel, j->attempts, res->provider_id);
        metric_inc(metrics_counter("creance_reminders_sent_total", "Deliveries acknowledged, by channel",
                                   rem_channel_parse(j->channel) == REM_CH_EMAIL ? "channel=\"email\""
                                   : rem_channel_parse(j->channel) == REM_CH_SMS ? "channel=\"sms\""
                                   : rem_channel_parse(j->channel) == REM_CH_LETTER ? "channel=\"letter\""
                                   : rem_channel_parse(j->channel) == REM_CH_PHONE ? "channel=\"phone\""
                                   : "channel=\"handoff\""));
        return 0;
    }
    bool final = res->status == REM_SEND_PERMANENT || j->attempts >= self->cfg.max_attempts;
    if (!final) {
        char delay[16];
        snprintf(delay, sizeof delay, "%d",
                 rem_delivery_backoff(j->attempts, self->cfg.backoff_base_s, self->cfg.backoff_max_s));
        const char *p[] = { j->tenant, j->id, delay, res->error };
        if (db_run(self->db,
                "UPDATE reminder_deliveries SET status = 'pending', last_error = $4,"
                " next_attempt_at = now() + make_interval(secs => $3::int)"
                " WHERE tenant = $1 AND id = $2", 4, p))
            goto fail;
    } else {
        const char *p[] = { j->tenant, j->id, res->error };
        if (db_run(self->db, "UPDATE reminder_deliveries SET status = 'failed', last_error = $3"
                             " WHERE tenant = $1 AND id = $2", 3, p))
            goto fail;
    }
    if (add_failed(self, j->tenant, strtoll(j->reminder, NULL, 10), j->debtor, j->level, j->channel,
                   res->error, j->attempts))
        goto fail;
    char next[16] = "";
    int fb = final ? fall_back(self, j->tenant, j->reminder, next, sizeof next) : 0;
    if (fb < 0)
        goto fail;
    if (commit_publish(self))
        return -1;
    log_warn("delivery failed tenant=%s reminder=%s delivery=%s channel=%s attempt=%d final=%s"
             " fallback=%s error=\"%s\"", j->tenant, j->reminder, j->id, j->channel, j->attempts,
             final ? "yes" : "no", fb > 0 ? next : "none", res->error);
    metric_inc(metrics_counter("creance_reminders_delivery_failures_total",
                               "Delivery attempts that failed, by finality",
                               final ? "final=\"yes\"" : "final=\"no\""));
    return 0;
fail:
    db_rollback(self->db);
    eventlog_reset(self->events);
    return -1;
}

int rem_delivery_run(rem_delivery_t *self)
{
    PGresult *t = db_exec(self->db,
        "SELECT DISTINCT tenant FROM reminder_deliveries"
        " WHERE status IN ('pending', 'sending') AND next_attempt_at <= now()", 0, NULL);
    if (!t)
        return -1;
    int done = 0;
    char batch[16], lease[16];
    snprintf(batch, sizeof batch, "%d", self->cfg.batch);
    snprintf(lease, sizeof lease, "%d", self->cfg.lease_s);
    for (int ti = 0; ti < PQntuples(t) && done < self->cfg.batch; ti++) {
        const char *tenant = PQgetvalue(t, ti, 0);
        const char *p[] = { tenant, batch };
        PGresult *r = db_exec(self->db,
            "SELECT d.id, d.reminder_id, d.channel, d.idempotency_key, d.recipient, r.debtor_id, r.level"
            " FROM reminder_deliveries d JOIN reminders r ON r.tenant = d.tenant AND r.id = d.reminder_id"
            " WHERE d.tenant = $1 AND d.status IN ('pending', 'sending') AND d.next_attempt_at <= now()"
            /*  Never to an erased debtor (GDPR), whatever is still queued. */
            "   AND NOT EXISTS (SELECT 1 FROM rem_debtors e WHERE e.tenant = r.tenant"
            "                   AND e.debtor_id = r.debtor_id AND e.erased)"
            " ORDER BY d.next_attempt_at, d.id LIMIT $2", 2, p);
        if (!r) {
            PQclear(t);
            return -1;
        }
        for (int i = 0; i < PQntuples(r) && done < self->cfg.batch; i++) {
            job_t j = { 0 };
            snprintf(j.tenant, sizeof j.tenant, "%s", tenant);
            snprintf(j.id, sizeof j.id, "%s", PQgetvalue(r, i, 0));
            snprintf(j.reminder, sizeof j.reminder, "%s", PQgetvalue(r, i, 1));
            snprintf(j.channel, sizeof j.channel, "%s", PQgetvalue(r, i, 2));
            snprintf(j.key, sizeof j.key, "%s", PQgetvalue(r, i, 3));
            snprintf(j.recipient, sizeof j.recipient, "%s", PQgetvalue(r, i, 4));
            j.debtor = strtoll(PQgetvalue(r, i, 5), NULL, 10);
            j.level = atoi(PQgetvalue(r, i, 6));
            /*  1. claim, committed before anything leaves. */
            const char *c[] = { j.tenant, j.id, lease };
            PGresult *cl = db_exec(self->db,
                "UPDATE reminder_deliveries SET status = 'sending', attempts = attempts + 1,"
                " next_attempt_at = now() + make_interval(secs => $3::int)"
                " WHERE tenant = $1 AND id = $2 AND status IN ('pending', 'sending') RETURNING attempts",
                3, c);
            if (!cl) {
                PQclear(r);
                PQclear(t);
                return -1;
            }
            int claimed = PQntuples(cl);
            j.attempts = claimed ? atoi(PQgetvalue(cl, 0, 0)) : 0;
            PQclear(cl);
            if (!claimed)
                continue;
            done++;
            /*  2. compose and send. */
            rem_composed_t *comp = calloc(1, sizeof *comp);
            rem_send_result_t res;
            if (!comp || rem_compose(self->db, j.tenant, strtoll(j.reminder, NULL, 10), comp)) {
                memset(&res, 0, sizeof res);
                res.status = REM_SEND_RETRY;
                snprintf(res.error, sizeof res.error, "reminder could not be composed");
            } else {
                log_debug("delivery attempt tenant=%s reminder=%s delivery=%s channel=%s attempt=%d key=%s",
                          j.tenant, j.reminder, j.id, j.channel, j.attempts, j.key);
                send_job(self, &j, comp, &res);
            }
            /*  3. the outcome. */
            int rc = record_outcome(self, &j, comp, &res);
            if (comp)
                rem_compose_free(comp);
            free(comp);
            if (rc) {
                PQclear(r);
                PQclear(t);
                return -1;
            }
        }
        PQclear(r);
    }
    PQclear(t);
    return done;
}

int rem_delivery_bounce(rem_delivery_t *self, const char *tenant, const char *id, const char *reason)
{
    if (db_begin(self->db))
        return -1;
    const char *p[] = { tenant, id, reason ? reason : "bounced" };
    PGresult *r = db_exec(self->db,
        "UPDATE reminder_deliveries d SET status = 'bounced', last_error = 'bounce: ' || $3"
        " FROM reminders r WHERE d.tenant = $1 AND d.channel = 'email' AND d.status = 'sent'"
        " AND (d.provider_message_id = $2 OR d.idempotency_key = $2)"
        " AND r.tenant = d.tenant AND r.id = d.reminder_id"
        " RETURNING d.reminder_id, r.debtor_id, r.level", 3, p);
    if (!r) {
        db_rollback(self->db);
        return -1;
    }
    if (PQntuples(r) == 0) {
        PQclear(r);
        db_rollback(self->db);
        return 0;
    }
    char reminder[24], debtor[24];
    snprintf(reminder, sizeof reminder, "%s", PQgetvalue(r, 0, 0));
    snprintf(debtor, sizeof debtor, "%s", PQgetvalue(r, 0, 1));
    int level = atoi(PQgetvalue(r, 0, 2));
    PQclear(r);
    const char *o[] = { tenant, debtor };
    char next[16] = "";
    int fb;
    if (db_run(self->db, "INSERT INTO rem_optouts (tenant, debtor_id, channel, reason)"
                         " VALUES ($1, $2, 'email', 'bounce') ON CONFLICT DO NOTHING", 2, o)
        || add_failed(self, tenant, strtoll(reminder, NULL, 10), strtoll(debtor, NULL, 10), level,
                      "email", "bounced", 0)
        || (fb = fall_back(self, tenant, reminder, next, sizeof next)) < 0) {
        db_rollback(self->db);
        eventlog_reset(self->events);
        return -1;
    }
    if (commit_publish(self))
        return -1;
    log_warn("e-mail bounced tenant=%s reminder=%s debtor=%s message_id=%s fallback=%s",
             tenant, reminder, debtor, id, fb > 0 ? next : "none");
    metric_inc(metrics_counter("creance_reminders_bounces_total", "E-mails reported as bounced", NULL));
    return 1;
}
