/*  costs: the tenant's price of a reminder action per channel. */
#include "costs.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#include "api.h"
#include "auth.h"
#include "log.h"
#include "metrics.h"

/*  The channels reminders uses (services/reminders/policy.h), and
    "unspecified" for reminders recorded without one. */
static const char *const s_channels[] = {
    "email", "sms", "letter", "phone", "handoff", "unspecified", NULL
};

#define PREFIX "/api/v1/channel-costs"

bool
rpt_costs_channel_ok(const char *channel)
{
    for (const char *const *c = s_channels; *c; c++)
        if (strcmp(*c, channel) == 0)
            return true;
    return false;
}

bool
rpt_costs_parse(const char *body, size_t len, int64_t *cost, const char **why)
{
    json_error_t jerr;
    json_t *doc = body && len ? json_loadb(body, len, 0, &jerr) : NULL;
    json_t *c = json_is_object(doc) ? json_object_get(doc, "cost_minor") : NULL;
    bool ok = false;
    if (!doc)
        *why = "expected a JSON body {\"cost_minor\": integer}";
    else if (!c)
        *why = "missing: the cost of one action in minor units";
    else if (!json_is_integer(c))
        *why = "expected an integer number of minor units";
    else if (json_integer_value(c) < 0 || json_integer_value(c) > RPT_COST_MAX)
        *why = "expected from 0 to 100000000 minor units";
    else {
        *cost = json_integer_value(c);
        ok = true;
    }
    json_decref(doc);
    return ok;
}

static void
s_refuse(http_response_t *res, int status, const char *field, const char *reason)
{
    char labels[64];
    snprintf(labels, sizeof labels, "field=\"%s\"", field);
    metric_inc(metrics_counter("creance_reporting_costs_refused_total",
                               "Channel cost requests refused, by field", labels));
    http_reply_error(res, status, field, reason);
}

static void
s_unavailable(http_response_t *res)
{
    metric_inc(metrics_counter("creance_reporting_api_unavailable_total",
                               "API requests answered 503 because the database failed", NULL));
    http_reply_error(res, 503, "database", "unavailable");
}

/*  The effective cost of every channel (or of one), in s_channels order. */
static json_t *
s_lines(db_t *db, const char *tenant, const char *only)
{
    const char *p[] = { tenant };
    PGresult *r = db_exec(db, RPT_CHANNEL_COSTS_SQL, 1, p);
    if (!r)
        return NULL;
    json_t *lines = json_array();
    for (const char *const *c = s_channels; *c; c++) {
        if (only && strcmp(only, *c) != 0)
            continue;
        int64_t cost = 0;
        const char *source = "none";        /* no default row: costs nothing */
        for (int i = 0; i < PQntuples(r); i++)
            if (strcmp(PQgetvalue(r, i, 0), *c) == 0) {
                cost = strtoll(PQgetvalue(r, i, 1), NULL, 10);
                source = PQgetvalue(r, i, 2)[0] == 't' ? "tenant" : "default";
            }
        json_array_append_new(lines, json_pack("{s:s, s:I, s:s}", "channel", *c,
                                               "cost_minor", (json_int_t) cost, "source", source));
    }
    PQclear(r);
    return lines;
}

void
rpt_costs_handle(const http_request_t *req, http_response_t *res, void *arg)
{
    rpt_api_t *api = arg;
    char tenant[64];
    if (!auth_tenant(api->db, req, res, tenant))
        return;
    const char *path = http_path(req), *method = http_method(req);
    const char *channel = NULL;
    if (strncmp(path, PREFIX "/", strlen(PREFIX "/")) == 0)
        channel = path + strlen(PREFIX "/");
    else if (strcmp(path, PREFIX) != 0) {
        s_refuse(res, 404, "path", "expected " PREFIX " or " PREFIX "/{channel}");
        return;
    }
    bool read = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
    if (!read && !channel) {
        s_refuse(res, 404, "path", "expected " PREFIX "/{channel}");
        return;
    }
    if (channel && !rpt_costs_channel_ok(channel)) {
        s_refuse(res, 404, "channel",
                 "unknown channel: expected email, sms, letter, phone, handoff or unspecified");
        return;
    }
    if (strcmp(method, "PUT") == 0) {
        size_t len = 0;
        const char *body = http_body(req, &len), *why = NULL;
        int64_t cost;
        if (!rpt_costs_parse(body, len, &cost, &why)) {
            s_refuse(res, 400, "cost_minor", why);
            return;
        }
        char costs[24];
        snprintf(costs, sizeof costs, "%" PRId64, cost);
        const char *p[] = { tenant, channel, costs };
        if (db_run(api->db, "INSERT INTO rpt_channel_costs (tenant, channel, cost_minor)"
                            " VALUES ($1, $2, $3::bigint) ON CONFLICT (tenant, channel)"
                            " DO UPDATE SET cost_minor = EXCLUDED.cost_minor, updated_at = now()",
                   3, p)) {
            s_unavailable(res);
            return;
        }
        log_info("channel cost set tenant=%s channel=%s cost_minor=%" PRId64, tenant, channel, cost);
    }
    else if (strcmp(method, "DELETE") == 0) {
        const char *p[] = { tenant, channel };
        if (db_run(api->db, "DELETE FROM rpt_channel_costs WHERE tenant = $1 AND channel = $2",
                   2, p)) {
            s_unavailable(res);
            return;
        }
        log_info("channel cost back to default tenant=%s channel=%s", tenant, channel);
    }
    json_t *lines = s_lines(api->db, tenant, channel);
    if (!lines) {
        s_unavailable(res);
        return;
    }
    if (channel) {
        json_t *line = json_incref(json_array_get(lines, 0));
        json_decref(lines);
        json_object_set_new(line, "tenant", json_string(tenant));
        http_reply_json(res, 200, line);
        return;
    }
    http_reply_json(res, 200, json_pack("{s:s, s:o}", "tenant", tenant, "costs", lines));
}
