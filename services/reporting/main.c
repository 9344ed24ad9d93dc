/*  creance-reporting: KPI totals from the ledger stream, served as a JSON
    API and a dashboard.

    One zloop: the consumer keeps rpt_totals and the KPI facts up to date
    from streams "ledger" and "reminders" (effectively once, see
    consumer.h), a timer takes the weekly forecast snapshot (forecast.h),
    and the HTTP server answers
    GET / (dashboard), GET /api/v1/outstanding, the KPI endpoints of
    kpiapi.h, /healthz and /metrics. */
#include <stdlib.h>

#include "admin.h"
#include "aggregates.h"
#include "api.h"
#include "costs.h"
#include "consumer.h"
#include "dashboard.h"
#include "dates.h"
#include "db.h"
#include "forecast.h"
#include "gdprapi.h"
#include "http.h"
#include "kpiapi.h"
#include "log.h"
#include "retention.h"
#include "search.h"
#include "segments.h"
#include "service.h"

static const config_entry_t s_config[] = {
    { "CREANCE_REPORTING_HTTP", "127.0.0.1:8080", false,
      "dashboard, JSON API, health and metrics (host:port)" },
    { RPT_ADMIN_TOKEN_VAR, "", true,
      "SHA-256 (hex) of the operator token of /admin/v1/ (empty: operator API disabled)" },
    { "CREANCE_REPORTING_SNAPSHOT_MS", "3600000", false,
      "how often to check that this week's forecast snapshot is taken (ms)" },
    { "CREANCE_REPORTING_RETENTION_MS", "3600000", false,
      "how often to check whether today's retention pass (personal data) has run (ms)" },
    { "CREANCE_REPORTING_RETENTION_BATCH", "100", false,
      "debtors the retention pass erases per tenant and run (small transactions)" },
    { NULL, NULL, false, NULL }
};

/*  Checked in order; "/" is a prefix route, so it comes last. */
static const http_route_t s_routes[] = {
    { "GET", "/api/v1/outstanding", rpt_api_outstanding },
    { "GET", "/api/v1/kpis", rpt_kpiapi_kpis },
    { "GET", "/api/v1/kpis.csv", rpt_kpiapi_kpis },
    { "GET", "/api/v1/aging", rpt_kpiapi_aging },
    { "GET", "/api/v1/aging.csv", rpt_kpiapi_aging },
    { "GET", "/api/v1/dso", rpt_kpiapi_dso },
    { "GET", "/api/v1/dso.csv", rpt_kpiapi_dso },
    { "GET", "/api/v1/riskiest", rpt_kpiapi_riskiest },
    { "GET", "/api/v1/riskiest.csv", rpt_kpiapi_riskiest },
    { "GET", "/api/v1/forecast", rpt_kpiapi_forecast },
    { "GET", "/api/v1/forecast.csv", rpt_kpiapi_forecast },
    { "GET", "/api/v1/forecast/actual", rpt_kpiapi_forecast_actual },
    { "GET", "/api/v1/forecast/actual.csv", rpt_kpiapi_forecast_actual },
    { "GET", "/api/v1/reminders", rpt_kpiapi_reminders },
    { "GET", "/api/v1/reminders.csv", rpt_kpiapi_reminders },
    { "GET", "/api/v1/rollrates", rpt_kpiapi_rollrates },
    { "GET", "/api/v1/rollrates.csv", rpt_kpiapi_rollrates },
    /*  .../{id}/export here, the debtor view (kpiapi.h) otherwise. */
    { "GET", "/api/v1/debtors/", rpt_gdprapi_get },
    { "POST", "/api/v1/debtors/", rpt_gdprapi_post },
    { "PUT", "/api/v1/debtors/", rpt_segments_assign },
    { "GET", "/api/v1/debtors", rpt_search_debtors },
    { "GET", "/api/v1/channel-costs", rpt_costs_handle },
    { "GET", "/api/v1/channel-costs/", rpt_costs_handle },
    { "PUT", "/api/v1/channel-costs/", rpt_costs_handle },
    { "DELETE", "/api/v1/channel-costs/", rpt_costs_handle },
    { "GET", "/admin/v1/", rpt_admin_handle },
    { "POST", "/admin/v1/", rpt_admin_handle },
    { "DELETE", "/admin/v1/", rpt_admin_handle },
    { "PUT", "/admin/v1/", rpt_admin_handle },
    { "GET", "/", rpt_dashboard_page },
    { NULL, NULL, NULL }
};

/*  "reminders": ReminderScheduled / ReminderSent for reminder effectiveness
    (collect.h); "risk": RiskScored for the grade segment (segments.h). One
    position per stream, the same consumer. */
static const char *const s_streams[] = { "ledger", "reminders", "risk", NULL };

/*  The retention pass (retention.h), once a day: the timer ticks hourly
    and the pass runs on the first tick of each new day. Not at start: a
    start is when the consumer catches up, and a crash loop must not turn
    into a loop of passes. POST /admin/v1/retention/run runs it at once. */
typedef struct {
    db_t *db;
    bus_t *bus;
    int batch;
    int32_t last_day;
} retention_timer_t;

static int s_retention_tick(zloop_t *loop, int timer_id, void *arg)
{
    retention_timer_t *rt = arg;
    int32_t today = date_today();
    if (rt->last_day == today || !db_ready(rt->db))
        return 0;
    rpt_retention_stats_t st;
    if (rpt_retention_run(rt->db, rt->bus, NULL, rt->batch, &st) == 0)
        rt->last_day = today;
    else
        log_warn("retention pass not finished, retried on the next tick");
    return 0;
}

/*  Takes this week's forecast snapshot if it is not taken yet (forecast.h);
    a failure is retried on the next tick. */
static int s_snapshot_tick(zloop_t *loop, int timer_id, void *arg)
{
    if (db_ready(arg) && rpt_forecast_snapshot(arg, date_today()) < 0)
        log_warn("forecast snapshot not taken, retried on the next tick");
    return 0;
}

int main(void)
{
    service_t *service = service_new("reporting", s_config);
    if (!service)
        return EXIT_FAILURE;
    config_t *config = service_config(service);
    int rc = EXIT_FAILURE;
    rpt_aggregates_t *aggregates = NULL;
    consumer_t *consumer = NULL;
    http_server_t *http = NULL;
    bus_t *bus = NULL;

    /*  The database may still be starting: db_new does not need it up, the
        consumer and /healthz wait for it. */
    db_t *db = db_new(config_get(config, "CREANCE_DB_URL"));
    aggregates = rpt_aggregates_new();
    /*  Reporting publishes one kind of event: DebtorErased (erase.h). */
    bus = bus_pub_new(config_get(config, "CREANCE_BROKER_PUB"));
    if (!db || !aggregates || !bus)
        goto done;

    consumer_config_t ccfg = {
        .name = "reporting",
        .streams = s_streams,
        .apply = rpt_aggregates_apply,
        .committed = rpt_aggregates_committed,
        .aborted = rpt_aggregates_aborted,
        .arg = aggregates,
    };
    consumer = consumer_new(&ccfg, db, config_get(config, "CREANCE_BROKER_SUB"));
    if (!consumer)
        goto done;

    rpt_api_t api = { .db = db, .consumer = consumer, .bus = bus };
    rpt_admin_configure(config);
    const char *addr = config_get(config, "CREANCE_REPORTING_HTTP");
    /*  GETs, and the operator API's small JSON bodies: no request body is
        worth more than a few kilobytes. */
    http = http_server_new(addr, s_routes, &api, 4096);
    if (!http) {
        log_error("http server not started addr=%s", addr);
        goto done;
    }
    http_server_set_health(http, rpt_api_health, &api);

    zloop_t *loop = service_loop(service);
    if (consumer_attach(consumer, loop) || http_server_attach(http, loop))
        goto done;
    long snapshot_ms = strtol(config_get(config, "CREANCE_REPORTING_SNAPSHOT_MS"), NULL, 10);
    if (snapshot_ms < 100)
        snapshot_ms = 3600000;
    s_snapshot_tick(loop, 0, db);
    zloop_timer(loop, (size_t) snapshot_ms, 0, s_snapshot_tick, db);
    long retention_ms = strtol(config_get(config, "CREANCE_REPORTING_RETENTION_MS"), NULL, 10);
    if (retention_ms < 100)
        retention_ms = 3600000;
    retention_timer_t rt = {
        .db = db, .bus = bus, .last_day = date_today(),
        .batch = (int) strtol(config_get(config, "CREANCE_REPORTING_RETENTION_BATCH"), NULL, 10),
    };
    zloop_timer(loop, (size_t) retention_ms, 0, s_retention_tick, &rt);
    log_info("reporting ready http=%s port=%d", addr, http_server_port(http));
    rc = service_run(service);

done:
    http_server_destroy(&http);
    consumer_destroy(&consumer);
    rpt_aggregates_destroy(&aggregates);
    bus_destroy(&bus);
    db_destroy(&db);
    service_destroy(&service);
    return rc;
}
