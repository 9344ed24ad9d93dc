/*  creance-reminders: keeps its view of open invoices (rem_open_items) from
    the ledger stream, for the dunning pass (a later issue), and serves an
    operations summary.

    One zloop: the consumer applies stream "ledger" effectively once (see
    consumer.h); the HTTP server answers /api/v1/open-items/summary,
    /healthz and /metrics. */
#include <stdlib.h>

#include "api.h"
#include "consumer.h"
#include "db.h"
#include "http.h"
#include "items.h"
#include "log.h"
#include "service.h"

static const config_entry_t s_config[] = {
    { "CREANCE_REMINDERS_HTTP", "127.0.0.1:8083", false,
      "operations API, health and metrics (host:port)" },
    { NULL, NULL, false, NULL }
};

static const http_route_t s_routes[] = {
    { "GET", "/api/v1/open-items/summary", rem_api_summary },
    { NULL, NULL, NULL }
};

static const char *const s_streams[] = { "ledger", NULL };

int main(void)
{
    service_t *service = service_new("reminders", s_config);
    if (!service)
        return EXIT_FAILURE;
    config_t *config = service_config(service);
    int rc = EXIT_FAILURE;
    rem_items_t *items = NULL;
    consumer_t *consumer = NULL;
    http_server_t *http = NULL;

    /*  db_new does not need the server up: the consumer and /healthz wait. */
    db_t *db = db_new(config_get(config, "CREANCE_DB_URL"));
    items = rem_items_new();
    if (!db || !items)
        goto done;

    consumer_config_t ccfg = {
        .name = "reminders",
        .streams = s_streams,
        .apply = rem_items_apply,
        .committed = rem_items_committed,
        .aborted = rem_items_aborted,
        .arg = items,
    };
    consumer = consumer_new(&ccfg, db, config_get(config, "CREANCE_BROKER_SUB"));
    if (!consumer)
        goto done;

    rem_api_t api = { .db = db, .consumer = consumer };
    const char *addr = config_get(config, "CREANCE_REMINDERS_HTTP");
    http = http_server_new(addr, s_routes, &api, 4096);
    if (!http) {
        log_error("http server not started addr=%s", addr);
        goto done;
    }
    http_server_set_health(http, rem_api_health, &api);

    zloop_t *loop = service_loop(service);
    if (consumer_attach(consumer, loop) || http_server_attach(http, loop))
        goto done;
    log_info("reminders ready http=%s port=%d", addr, http_server_port(http));
    rc = service_run(service);

done:
    http_server_destroy(&http);
    consumer_destroy(&consumer);
    rem_items_destroy(&items);
    db_destroy(&db);
    service_destroy(&service);
    return rc;
}
