/*  costs: what one reminder action costs the tenant, per channel, for the
    cost-of-collection KPI (kpiapi.c: cost of the reminders sent in the
    period ÷ collected). Defaults for every tenant live under tenant '*' in
    rpt_channel_costs (0041_reporting_collection.sql); a tenant's own row
    overrides the default of its channel.

        GET    /api/v1/channel-costs
            200 {"tenant":..,"costs":[{"channel":"email","cost_minor":5,
                 "source":"default"|"tenant"}, ...]}   every channel, in order
        PUT    /api/v1/channel-costs/{channel}   {"cost_minor": 120}
            200 the channel's line; 400 names the field (channel, cost_minor)
        DELETE /api/v1/channel-costs/{channel}
            200 the channel's line, back to the default

    Costs are minor units of the currency of the reminders they price (a
    tenant collecting in one currency sets them in it). Changes apply to
    every period asked afterwards: the KPI is computed when asked, from the
    reminders sent per day and channel, not stored. */
#ifndef CREANCE_REPORTING_COSTS_H
#define CREANCE_REPORTING_COSTS_H

#include <stdbool.h>
#include <stdint.h>
#include "http.h"

/*  The tenant's ($1) cost per channel action: its own, else the default
    ('*'). Columns: channel, cost_minor, own (the tenant's own price). */
#define RPT_CHANNEL_COSTS_SQL \
    "SELECT DISTINCT ON (channel) channel, cost_minor, tenant <> '*' AS own" \
    " FROM rpt_channel_costs WHERE tenant IN ($1, '*') ORDER BY channel, tenant = '*'"

/*  Pure: whether `channel` is one whose actions are priced. */
bool rpt_costs_channel_ok(const char *channel);
/*  Pure: parses a PUT body; false with *why set when it is not
    {"cost_minor": integer 0..RPT_COST_MAX}. */
#define RPT_COST_MAX 100000000      /* 1,000,000.00 per action: surely a typo beyond */
bool rpt_costs_parse(const char *body, size_t len, int64_t *cost, const char **why);

/*  http_handler_fn for GET, PUT and DELETE under /api/v1/channel-costs;
    arg is the rpt_api_t. */
void rpt_costs_handle(const http_request_t *req, http_response_t *res, void *arg);

#endif
