/*  query: GetDebtorRisk / CheckCredit over a ROUTER socket. */
#include "query.h"
#include "curve.h"
#include "dates.h"
#include "debtor.h"
#include "log.h"
#include "metrics.h"
#include "credit.h"
#include "snapshot.h"
#include "store.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EXTERNAL_ID_MAX 255
/*  A Query is a few ids and an amount; a larger frame is not one, and
    libzmq disconnects its sender before buffering it (ZMQ_MAXMSGSIZE). */
#define QUERY_MAX_MSG 65536

struct risk_query_t {
    zsock_t *sock;
    db_t *db;
    risk_cache_t *cache;
    risk_scoring_t *scoring;
    metric_t *m_latency;
};

risk_query_t *
risk_query_new(const char *endpoint, db_t *db, risk_cache_t *cache, risk_scoring_t *scoring)
{
    risk_query_t *self = calloc(1, sizeof *self);
    self->db = db;
    self->cache = cache;
    self->scoring = scoring;
    self->m_latency = metrics_histogram("creance_risk_query_seconds",
                                        "time to answer one query", NULL);
    if (endpoint) {
        self->sock = zsock_new(ZMQ_ROUTER);
        if (self->sock)
            zsock_set_maxmsgsize(self->sock, QUERY_MAX_MSG);
        if (!self->sock || curve_server(self->sock, "risk_queries") != 0
            || zsock_bind(self->sock, "%s", endpoint) < 0) {
            log_error("cannot bind query endpoint=%s: %s", endpoint, zmq_strerror(zmq_errno()));
            risk_query_destroy(&self);
            return NULL;
        }
        log_info("queries on endpoint=%s", endpoint);
    }
    return self;
}

void
risk_query_destroy(risk_query_t **self_p)
{
    risk_query_t *self = *self_p;
    if (!self)
        return;
    zsock_destroy(&self->sock);
    free(self);
    *self_p = NULL;
}

static int
s_error(risk_query_error_t *err, const char *code, const char *field, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->reason, sizeof err->reason, fmt, ap);
    va_end(ap);
    snprintf(err->field, sizeof err->field, "%s", field);
    err->code = code;
    return -1;
}

/*  The (tenant, debtor) reference that GetDebtorRisk and CheckCredit share. */
static int
s_check_ref(const char *prefix, const char *tenant, int64_t debtor_id, const char *external_id,
            risk_query_error_t *err)
{
    char field[64];
    snprintf(field, sizeof field, "%s.tenant", prefix);
    if (!tenant || !tenant[0])
        return s_error(err, "missing_tenant", field, "required");
    if (!risk_tenant_valid(tenant))
        return s_error(err, "bad_tenant", field, "must match ^[a-z0-9][a-z0-9_-]{0,62}$");
    snprintf(field, sizeof field, "%s.debtor_id", prefix);
    if (debtor_id < 0)
        return s_error(err, "bad_debtor_id", field, "must be positive");
    if (debtor_id == 0) {
        if (!external_id || !external_id[0])
            return s_error(err, "missing_debtor", field, "required (or debtor_external_id)");
        snprintf(field, sizeof field, "%s.debtor_external_id", prefix);
        if (strlen(external_id) > EXTERNAL_ID_MAX)
            return s_error(err, "bad_external_id", field, "longer than %d bytes", EXTERNAL_ID_MAX);
    }
    return 0;
}

int
risk_query_check(const Creance__Query *query, risk_query_error_t *err)
{
    memset(err, 0, sizeof *err);
    if (!query)
        return s_error(err, "undecodable", "query", "not a valid Query message");
    switch (query->query_case) {
    case CREANCE__QUERY__QUERY_GET_DEBTOR_RISK: {
        const Creance__GetDebtorRisk *q = query->get_debtor_risk;
        if (!q)
            return s_error(err, "missing_query", "get_debtor_risk", "required");
        return s_check_ref("get_debtor_risk", q->tenant, q->debtor_id, q->debtor_external_id, err);
    }
    case CREANCE__QUERY__QUERY_CHECK_CREDIT: {
        const Creance__CheckCredit *q = query->check_credit;
        if (!q)
            return s_error(err, "missing_query", "check_credit", "required");
        if (s_check_ref("check_credit", q->tenant, q->debtor_id, q->debtor_external_id, err) != 0)
            return -1;
        if (!q->amount)
            return s_error(err, "missing_amount", "check_credit.amount", "required");
        if (!risk_currency_valid(q->amount->currency))
            return s_error(err, "bad_currency", "check_credit.amount.currency",
                           "must be three upper-case letters (ISO 4217)");
        if (q->amount->minor < 0)
            return s_error(err, "negative_amount", "check_credit.amount.minor", "must not be negative");
        return 0;
    }
    default:
        return s_error(err, "missing_query", "query",
                       "one of get_debtor_risk, check_credit is required");
    }
}

static void
s_count(const char *name, const char *help, const char *label, const char *value)
{
    char labels[96];
    snprintf(labels, sizeof labels, "%s=\"%s\"", label, value);
    metric_inc(metrics_counter(name, help, labels));
}

static void
s_count_query(const char *kind)
{
    s_count("creance_risk_queries_total", "queries answered, by kind", "kind", kind);
}

static void
s_count_failure(const char *reason)
{
    s_count("creance_risk_query_failures_total",
            "well-formed queries that could not be answered (dependency down)", "reason", reason);
}

/*  Finds a debtor's state for a valid query: `*debtor_id` (resolved from
    the external id when 0), `state` from Redis or else PostgreSQL. Returns
    1 found, 0 unknown, -1 with `error` set (unavailable, ambiguous). */
static int
s_lookup(risk_query_t *self, const char *prefix, const char *tenant, int64_t *debtor_id,
         const char *external_id, risk_debtor_t *state, char *error, size_t errlen)
{
    if (*debtor_id == 0) {
        int n = risk_store_resolve_external(self->db, tenant, external_id, debtor_id);
        if (n < 0) {
            s_count_failure("database_unavailable");
            snprintf(error, errlen, "unavailable: database unavailable, retry later");
            return -1;
        }
        if (n == 0)
            return 0;
        if (n > 1) {
            s_count("creance_risk_rejected_total", "queries refused, by reason", "reason",
                    "ambiguous_external_id");
            snprintf(error, errlen, "%s.debtor_external_id: several debtors "
                     "(from different sources) have this external id; ask by debtor_id", prefix);
            return -1;
        }
    }

    int cached = risk_cache_read(self->cache, tenant, *debtor_id, state);
    if (cached == 1 && state->snapshot)
        return 1;
    int rc = risk_store_load(self->db, tenant, *debtor_id, state);
    if (rc < 0) {
        s_count_failure("database_unavailable");
        snprintf(error, errlen, "unavailable: database unavailable, retry later");
        return -1;
    }
    if (rc == 0) {
        /* No exposure yet: a known debtor owes nothing, an unknown one
           is not found. */
        char currency[4];
        int known = risk_store_debtor_currency(self->db, tenant, *debtor_id, currency);
        if (known < 0) {
            s_count_failure("database_unavailable");
            snprintf(error, errlen, "unavailable: database unavailable, retry later");
            return -1;
        }
        if (known == 1)
            risk_debtor_set(state, currency, 0);
        return known;
    }
    /* A miss with Redis up: write the copy back. With Redis down the
       rebuild does it once Redis is back. */
    if (cached == 0)
        risk_cache_write(self->cache, &state, 1);
    return 1;
}

/*  Fills `out` (already initialised with tenant and debtor_id) for a valid
    GetDebtorRisk. `error` is a caller buffer that out->error may point to;
    `state`, `score`, `factors`, `text` and the Money hold what `out`
    points into. */
static void
s_get_debtor_risk(risk_query_t *self, const Creance__GetDebtorRisk *q, Creance__DebtorRisk *out,
                  Creance__Money *money, Creance__Money *overdue, risk_debtor_t *state,
                  risk_score_t *score, Creance__RiskFactor *factors, Creance__RiskFactor **fp,
                  char text[8], char *error, size_t errlen)
{
    int64_t debtor_id = q->debtor_id;
    int found = s_lookup(self, "get_debtor_risk", q->tenant, &debtor_id, q->debtor_external_id,
                         state, error, errlen);
    if (found < 0) {
        out->error = error;
        return;
    }
    out->debtor_id = debtor_id;
    out->found = found == 1;
    const risk_amount_t *main = risk_debtor_main(state);
    if (out->found && main) {
        money->minor = main->outstanding_minor;
        money->currency = (char *) main->currency;
        out->outstanding = money;
    }
    risk_inputs_t in;
    int32_t as_of;
    if (out->found && state->snapshot
        && risk_snapshot_parse(state->snapshot, &as_of, &in, score) == 0) {
        /* text: the grade as a string, then the currency. */
        text[0] = score->grade;
        text[1] = 0;
        memcpy(text + 2, in.currency, 4);
        out->score = score->score;
        out->grade = text;
        overdue->minor = in.overdue_minor;
        overdue->currency = text + 2;
        out->overdue = overdue;
        for (int i = 0; i < score->nfactors; i++) {
            creance__risk_factor__init(&factors[i]);
            factors[i].name = score->factors[i].name;
            factors[i].contribution = score->factors[i].points;
            factors[i].detail = score->factors[i].detail;
            fp[i] = &factors[i];
        }
        out->n_factors = (size_t) score->nfactors;
        out->factors = fp;
    }
}

static const Creance__CreditDecision s_decisions[] = {
    [RISK_CREDIT_APPROVE] = CREANCE__CREDIT_DECISION__APPROVE,
    [RISK_CREDIT_REVIEW] = CREANCE__CREDIT_DECISION__REVIEW,
    [RISK_CREDIT_REFUSE] = CREANCE__CREDIT_DECISION__REFUSE,
};

/*  Fills `out` for a valid CheckCredit; `credit` and `rp` hold the reasons. */
static void
s_check_credit(risk_query_t *self, const Creance__CheckCredit *q, Creance__CreditAnswer *out,
               risk_debtor_t *state, risk_credit_t *credit, char **rp, char *error, size_t errlen)
{
    int64_t debtor_id = q->debtor_id;
    int found = s_lookup(self, "check_credit", q->tenant, &debtor_id, q->debtor_external_id,
                         state, error, errlen);
    out->debtor_id = debtor_id;
    if (found <= 0 || !state->snapshot) {
        if (found >= 0)
            snprintf(error, errlen, "check_credit.debtor_id: %s", found == 0 ? "unknown debtor"
                     : "not scored yet, retry later");
        out->error = error;
        return;
    }
    risk_inputs_t in;
    risk_score_t score;
    int32_t as_of;
    risk_policy_t policy;
    if (risk_snapshot_parse(state->snapshot, &as_of, &in, &score) != 0) {
        snprintf(error, errlen, "unavailable: debtor state unreadable, retry later");
        out->error = error;
        return;
    }
    if (strcmp(in.currency, q->amount->currency) != 0) {
        snprintf(error, errlen, "check_credit.amount.currency: the debtor is billed in %s",
                 in.currency);
        out->error = error;
        return;
    }
    if (!self->scoring || risk_scoring_policy(self->scoring, self->db, q->tenant, &policy) != 0) {
        s_count_failure("database_unavailable");
        snprintf(error, errlen, "unavailable: database unavailable, retry later");
        out->error = error;
        return;
    }
    risk_credit_check(&in, score.grade, q->amount->minor, &policy, credit);
    out->decision = s_decisions[credit->decision];
    for (int i = 0; i < credit->nreasons; i++)
        rp[i] = credit->reasons[i];
    out->n_reasons = (size_t) credit->nreasons;
    out->reasons = rp;
    log_info("credit check tenant=%s debtor=%" PRId64 " amount=%" PRId64 " %s decision=%d reasons=%d",
             q->tenant, debtor_id, q->amount->minor, q->amount->currency, (int) credit->decision,
             credit->nreasons);
}

static uint8_t *
s_pack(const Creance__QueryReply *reply, size_t *reply_len)
{
    size_t n = creance__query_reply__get_packed_size(reply);
    uint8_t *buf = malloc(n ? n : 1);
    if (buf)
        creance__query_reply__pack(reply, buf);
    *reply_len = buf ? n : 0;
    return buf;
}

/*  Counts and logs a refused query and builds its reply: a CreditAnswer
    for a credit question, else a DebtorRisk, carrying the error, so that
    even a client whose bytes could not be decoded gets a readable answer. */
static uint8_t *
s_refuse(const risk_query_error_t *err, const Creance__Query *query, size_t *reply_len)
{
    Creance__QueryReply reply = CREANCE__QUERY_REPLY__INIT;
    Creance__DebtorRisk risk = CREANCE__DEBTOR_RISK__INIT;
    Creance__CreditAnswer credit = CREANCE__CREDIT_ANSWER__INIT;
    char error[256];
    s_count_query("invalid");
    s_count("creance_risk_rejected_total", "queries refused, by reason", "reason", err->code);
    log_info("query refused field=%s reason=\"%s\"", err->field, err->reason);
    snprintf(error, sizeof error, "%s: %s", err->field, err->reason);
    if (query && query->query_case == CREANCE__QUERY__QUERY_CHECK_CREDIT && query->check_credit) {
        credit.error = error;
        /* Echo the tenant only when it is one: an invalid string (bad
           UTF-8, say) would make the refusal itself undecodable. */
        if (risk_tenant_valid(query->check_credit->tenant))
            credit.tenant = query->check_credit->tenant;
        credit.debtor_id = query->check_credit->debtor_id;
        reply.reply_case = CREANCE__QUERY_REPLY__REPLY_CREDIT_ANSWER;
        reply.credit_answer = &credit;
        return s_pack(&reply, reply_len);
    }
    const Creance__GetDebtorRisk *q = query && query->query_case
        == CREANCE__QUERY__QUERY_GET_DEBTOR_RISK ? query->get_debtor_risk : NULL;
    risk.error = error;
    if (q) {
        if (risk_tenant_valid(q->tenant))
            risk.tenant = q->tenant;
        risk.debtor_id = q->debtor_id;
    }
    reply.reply_case = CREANCE__QUERY_REPLY__REPLY_DEBTOR_RISK;
    reply.debtor_risk = &risk;
    return s_pack(&reply, reply_len);
}

uint8_t *
risk_query_answer(risk_query_t *self, const uint8_t *data, size_t len, size_t *reply_len)
{
    int64_t started = now_us();
    Creance__QueryReply reply = CREANCE__QUERY_REPLY__INIT;
    Creance__DebtorRisk risk = CREANCE__DEBTOR_RISK__INIT;
    Creance__CreditAnswer credit = CREANCE__CREDIT_ANSWER__INIT;
    Creance__Money money = CREANCE__MONEY__INIT, overdue = CREANCE__MONEY__INIT;
    Creance__RiskFactor factors[RISK_FACTOR_MAX], *fp[RISK_FACTOR_MAX];
    risk_score_t score;
    risk_credit_t decision;
    char *reasons[RISK_CREDIT_REASONS_MAX];
    char text[8];
    risk_debtor_t state;
    char error[256];
    risk_query_error_t err;

    Creance__Query *query = NULL;
    if (len <= RISK_QUERY_MAX_BYTES)
        query = creance__query__unpack(NULL, len, data);
    risk_debtor_init(&state, "", 0);

    int rc;
    if (len > RISK_QUERY_MAX_BYTES)
        rc = s_error(&err, "too_large", "query", "larger than %d bytes", RISK_QUERY_MAX_BYTES);
    else
        rc = risk_query_check(query, &err);

    if (rc != 0) {
        uint8_t *buf = s_refuse(&err, query, reply_len);
        if (query)
            creance__query__free_unpacked(query, NULL);
        return buf;
    }
    else if (query->query_case == CREANCE__QUERY__QUERY_GET_DEBTOR_RISK) {
        const Creance__GetDebtorRisk *q = query->get_debtor_risk;
        s_count_query("get_debtor_risk");
        risk.tenant = q->tenant;
        risk.debtor_id = q->debtor_id;
        s_get_debtor_risk(self, q, &risk, &money, &overdue, &state, &score, factors, fp, text,
                          error, sizeof error);
        log_debug("query get_debtor_risk tenant=%s debtor=%" PRId64 " found=%d%s%s", q->tenant,
                  risk.debtor_id, (int) risk.found, risk.error[0] ? " error=" : "", risk.error);
        reply.reply_case = CREANCE__QUERY_REPLY__REPLY_DEBTOR_RISK;
        reply.debtor_risk = &risk;
    }
    else {
        const Creance__CheckCredit *q = query->check_credit;
        s_count_query("check_credit");
        credit.tenant = q->tenant;
        credit.debtor_id = q->debtor_id;
        s_check_credit(self, q, &credit, &state, &decision, reasons, error, sizeof error);
        reply.reply_case = CREANCE__QUERY_REPLY__REPLY_CREDIT_ANSWER;
        reply.credit_answer = &credit;
    }

    uint8_t *buf = s_pack(&reply, reply_len);
    risk_debtor_clear(&state);
    if (query)
        creance__query__free_unpacked(query, NULL);
    int64_t took = now_us() - started;
    metric_observe(self->m_latency, took > 0 ? (double) took / 1e6 : 0.0);
    return buf;
}

/*  One request per call; zloop calls again while more are waiting. */
static int
s_on_request(zloop_t *loop, zsock_t *sock, void *arg)
{
    risk_query_t *self = arg;
    zmsg_t *msg = zmsg_recv(sock);
    if (!msg)
        return 0;
    /* Route = every frame up to the empty delimiter; the payload follows. */
    zmsg_t *reply = zmsg_new();
    zframe_t *frame = zmsg_first(msg);
    bool delimited = false;
    while (frame) {
        zmsg_addmem(reply, zframe_data(frame), zframe_size(frame));
        if (zframe_size(frame) == 0 && zmsg_size(reply) > 1) {
            delimited = true;
            break;
        }
        frame = zmsg_next(msg);
    }
    zframe_t *payload = delimited ? zmsg_next(msg) : NULL;
    if (!payload) {
        /* No REQ envelope: there is nowhere sensible to answer. */
        s_count("creance_risk_rejected_total", "queries refused, by reason", "reason",
                "bad_envelope");
        log_warn("query dropped: not [identity][empty][payload] frames=%zu", zmsg_size(msg));
        zmsg_destroy(&reply);
        zmsg_destroy(&msg);
        return 0;
    }
    size_t len = 0;
    uint8_t *answer;
    if (zmsg_next(msg)) {
        risk_query_error_t err;
        s_error(&err, "extra_frames", "query", "expected one payload frame");
        answer = s_refuse(&err, NULL, &len);
    }
    else
        answer = risk_query_answer(self, zframe_data(payload), zframe_size(payload), &len);
    if (answer) {
        zmsg_addmem(reply, answer, len);
        free(answer);
        zmsg_send(&reply, sock);
    }
    zmsg_destroy(&reply);
    zmsg_destroy(&msg);
    return 0;
}

int
risk_query_attach(risk_query_t *self, zloop_t *loop)
{
    if (!self->sock)
        return -1;
    return zloop_reader(loop, self->sock, s_on_request, self);
}
