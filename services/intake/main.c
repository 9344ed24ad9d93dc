/*  creance-intake: records the facts sent by billing systems (debtors,
    invoices and their changes, credit notes, payments and reversals,
    write-offs, disputes, plans, promises) and publishes the ledger events.

    One zloop: the ROUTER endpoint (IntakeBatch -> IntakeReply, see
    endpoint.h) and the HTTP server (webhooks, see web.h; /healthz,
    /metrics). When the endpoint
    is readable, every waiting request (up to a burst) is processed in one
    transaction (intake.h); replies go out after COMMIT, then the events
    are published. */
#include <stdlib.h>
#include <string.h>

#include "bus.h"
#include "curve.h"
#include "db.h"
#include "endpoint.h"
#include "http.h"
#include "intake.h"
#include "log.h"
#include "service.h"
#include "watch.h"
#include "web.h"
#include "webhook.h"

static const config_entry_t s_config[] = {
    { "CREANCE_INTAKE_ENDPOINT", "tcp://127.0.0.1:5560", false,
      "billing feeds: ROUTER endpoint speaking the REQ envelope (binds)" },
    { "CREANCE_INTAKE_HTTP", "127.0.0.1:8081", false,
      "webhooks (POST /api/v1/intake, /api/v1/stripe/<tenant>), health and metrics (host:port)" },
    { "CREANCE_INTAKE_MAX_BATCH", "5000", false, "most items accepted in one IntakeBatch" },
    { "CREANCE_INTAKE_PARTITION", "0/1", false,
      "k/N: record only the debtors of partition k of N, refuse the others per item "
      "(services/intake/route.h, docs/scaling.md); 0/1 = all" },
    { "CREANCE_INTAKE_BULK", "1", false,
      "1: runs of new debtors, invoices, payments recorded set-based; 0: item by item" },
    { "CREANCE_INTAKE_WATCH_MS", "60000", false,
      "how often the watcher decides promise and plan outcomes (ms; also at start and after payments)" },
    { "CREANCE_PROMISE_GRACE_DAYS", "3", false, "days after the promised date before a promise is broken" },
    { "CREANCE_INSTALMENT_GRACE_DAYS", "3", false, "days after its due date before an instalment is missed" },
    { "CREANCE_PLAN_DEFAULT_MISSED", "2", false, "missed instalments that default a payment plan" },
    { "CREANCE_PLAN_DEFAULT_DAYS", "30", false,
      "days a missed instalment may stay unpaid (after its grace) before the plan defaults" },
    { NULL, NULL, false, NULL }
};

/*  Invalid messages read in one go, beside the burst: a flood of garbage
    must not keep the loop from its other work. */
#define MAX_INVALID_PER_READ 256

/*  At exit, how long queued events may take to reach the broker. */
#define DRAIN_LINGER_MS 2000

typedef struct {
    config_t *config;
    db_t *db;
    bus_t *bus;
    intake_t *intake;
    intake_watch_t *watch;
    zsock_t *router;
} app_t;

/*  The first watcher pass waits this long after start: the PUB socket's
    connection to the broker must be up, or the events would reach
    subscribers only through their event_log catch-up. */
#define WATCH_FIRST_MS 1000

static long
s_config_int(config_t *config, const char *name, long dflt, long min)
{
    long n = config_get_int(config, name, dflt);
    if (n < min) {
        log_warn("config %s=%ld must be at least %ld; using %ld", name, n, min, dflt);
        n = dflt;
    }
    return n;
}

static intake_watch_rules_t
s_watch_rules(config_t *config)
{
    intake_watch_rules_t rules = {
        .promise_grace_days = (int32_t) s_config_int(config, "CREANCE_PROMISE_GRACE_DAYS", 3, 0),
        .instalment_grace_days = (int32_t) s_config_int(config, "CREANCE_INSTALMENT_GRACE_DAYS", 3, 0),
        .default_missed = (int32_t) s_config_int(config, "CREANCE_PLAN_DEFAULT_MISSED", 2, 1),
        .default_days = (int32_t) s_config_int(config, "CREANCE_PLAN_DEFAULT_DAYS", 30, 0),
    };
    return rules;
}

static int
s_on_watch_timer(zloop_t *loop, int timer_id, void *arg)
{
    app_t *app = arg;
    if (!service_stopping())
        intake_watch_run(app->watch, "timer");
    return 0;
}

static int
s_on_watch_first(zloop_t *loop, int timer_id, void *arg)
{
    app_t *app = arg;
    if (!service_stopping())
        intake_watch_run(app->watch, "start");
    return 0;
}

/*  After a committed burst: the tenants whose requests recorded payments
    (the watcher then looks only at the debtors with new payments). */
static void
s_watch_after_burst(app_t *app, intake_request_t **reqs, size_t n)
{
    for (size_t k = 0; k < n; k++) {
        const intake_request_t *req = reqs[k];
        if (req->error || req->accepted == 0 || !req->batch->tenant)
            continue;
        bool payments = false;
        for (size_t i = 0; !payments && i < req->batch->n_items; i++)
            payments = req->batch->items[i]->fact_case == CREANCE__INTAKE_ITEM__FACT_PAYMENT
                    && req->results[i].status == CREANCE__ITEM_STATUS__ACCEPTED;
        bool again = false;                     /* this tenant already looked at */
        for (size_t j = 0; payments && !again && j < k; j++)
            again = reqs[j]->batch->tenant && !strcmp(reqs[j]->batch->tenant, req->batch->tenant);
        if (payments && !again)
            intake_watch_tenant_payments(app->watch, req->batch->tenant);
    }
}

static long
s_max_batch(config_t *config)
{
    long n = config_get_int(config, "CREANCE_INTAKE_MAX_BATCH", 5000);
    if (n < 1) {
        log_warn("config CREANCE_INTAKE_MAX_BATCH=%ld must be at least 1; using 5000", n);
        n = 5000;
    }
    return n;
}

static int
s_on_request(zloop_t *loop, zsock_t *sock, void *arg)
{
    app_t *app = arg;
    /* Draining: take no new work; the sender's REQ times out and resends. */
    if (service_stopping())
        return -1;
    intake_request_t *reqs[INTAKE_BURST_REQUESTS];
    size_t n = 0, items = 0, invalid = 0;
    while (n < INTAKE_BURST_REQUESTS && items < INTAKE_BURST_ITEMS && invalid < MAX_INVALID_PER_READ) {
        intake_request_t *req;
        int rc = intake_endpoint_recv(sock, &req);
        if (rc == 0)
            break;
        if (rc < 0) {
            invalid++;
            continue;
        }
        reqs[n++] = req;
        items += req->batch->n_items;
    }
    if (n == 0)
        return 0;
    int committed = intake_process(app->intake, reqs, n);
    for (size_t k = 0; k < n; k++) {
        intake_endpoint_reply(sock, reqs[k]);
        intake_request_done(app->intake, reqs[k]);
    }
    intake_publish(app->intake, app->bus);
    if (committed == 0)
        s_watch_after_burst(app, reqs, n);
    for (size_t k = 0; k < n; k++)
        intake_request_destroy(&reqs[k]);
    return 0;
}

static const char *
s_health(void *arg)
{
    app_t *app = arg;
    return db_ready(app->db) ? NULL : "database unavailable";
}

/*  Single-threaded: a burst is committed, answered and published inside
    one handler, so nothing is in flight here. Publish anything committed
    and not yet published all the same: committed work is never left
    only in event_log when we could send it now. */
static void
s_drain(void *arg)
{
    app_t *app = arg;
    int sent = intake_publish(app->intake, app->bus);
    /* Services run with linger 0 (service.c): what is still queued in the
       PUB socket at exit would be dropped. Give it a bounded moment to
       reach the broker, so subscribers get the last burst live rather
       than from event_log on their next catch-up. */
    zsock_set_linger(bus_sock(app->bus), DRAIN_LINGER_MS);
    log_info("intake drained published=%d", sent);
}

static void
s_reload(void *arg)
{
    app_t *app = arg;
    intake_set_max_batch(app->intake, s_max_batch(app->config));
    intake_set_bulk(app->intake, s_config_int(app->config, "CREANCE_INTAKE_BULK", 1, 0) != 0);
    intake_watch_rules_t rules = s_watch_rules(app->config);
    intake_watch_set_rules(app->watch, &rules);
}

int
main(void)
{
    service_t *service = service_new("intake", s_config);
    if (!service)
        return EXIT_FAILURE;
    int rc = EXIT_FAILURE;
    app_t app = { .config = service_config(service) };
    http_server_t *http = NULL;

    /* The database may be down at start: requests are then answered
       "unavailable" and /healthz says so until it comes back. */
    app.db = db_new(config_get(app.config, "CREANCE_DB_URL"));
    app.bus = bus_pub_new(config_get(app.config, "CREANCE_BROKER_PUB"));
    if (!app.db || !app.bus)
        goto done;
    app.intake = intake_new(app.db, s_max_batch(app.config));
    intake_set_bulk(app.intake, s_config_int(app.config, "CREANCE_INTAKE_BULK", 1, 0) != 0);
    partition_t part;
    char perr[160];
    if (!partition_parse(config_get(app.config, "CREANCE_INTAKE_PARTITION"), &part, perr, sizeof perr)) {
        log_error("CREANCE_INTAKE_PARTITION: %s", perr);
        goto done;
    }
    intake_set_partition(app.intake, &part);
    intake_watch_rules_t rules = s_watch_rules(app.config);
    app.watch = intake_watch_new(app.db, app.bus, &rules);

    const char *endpoint = config_get(app.config, "CREANCE_INTAKE_ENDPOINT");
    app.router = zsock_new(ZMQ_ROUTER);
    zsock_set_maxmsgsize(app.router, ENDPOINT_HARD_LIMIT);
    /* Billing feeds authenticate with CURVE when it is configured. */
    if (curve_server(app.router, "intake_feeds") != 0)
        goto done;
    if (zsock_bind(app.router, "%s", endpoint) < 0) {
        log_error("cannot bind endpoint=%s: %s", endpoint, zmq_strerror(zmq_errno()));
        goto done;
    }
    const char *addr = config_get(app.config, "CREANCE_INTAKE_HTTP");
    intake_web_t web = { .db = app.db, .intake = app.intake, .bus = app.bus };
    http = http_server_new(addr, intake_web_routes, &web, INTAKE_WEBHOOK_MAX_BODY);
    if (!http) {
        log_error("http server not started addr=%s", addr);
        goto done;
    }
    http_server_set_health(http, s_health, &app);

    zloop_t *loop = service_loop(service);
    if (zloop_reader(loop, app.router, s_on_request, &app) != 0 || http_server_attach(http, loop))
        goto done;
    long watch_ms = s_config_int(app.config, "CREANCE_INTAKE_WATCH_MS", 60000, 1);
    if (zloop_timer(loop, WATCH_FIRST_MS, 1, s_on_watch_first, &app) < 0
        || zloop_timer(loop, (size_t) watch_ms, 0, s_on_watch_timer, &app) < 0)
        goto done;
    service_on_drain(service, s_drain, &app);
    service_on_reload(service, s_reload, &app);
    log_info("intake ready endpoint=%s http=%s port=%d max_batch=%ld", endpoint, addr,
             http_server_port(http), s_max_batch(app.config));
    rc = service_run(service);

done:
    http_server_destroy(&http);
    zsock_destroy(&app.router);
    intake_watch_destroy(&app.watch);
    intake_destroy(&app.intake);
    bus_destroy(&app.bus);
    db_destroy(&app.db);
    service_destroy(&service);
    return rc;
}
