/*  creance-reminders: graduated dunning, sent exactly once.

    One zloop:
      - the consumer applies streams "ledger" and "risk" effectively once
        into reminders' own view (items.h: open items; pauses.h: debtors,
        disputes, plans, promises, grades);
      - the dunning pass (dunning.h) runs every CREANCE_REMINDERS_PASS_MS
        and once as soon as the consumer has caught up after start: it
        records decisions in the outbox, one transaction per debtor;
      - the sender (delivery.h) runs every CREANCE_REMINDERS_DELIVERY_MS and
        delivers a small batch from the outbox (e-mail over SMTP, SMS
        gateway, letter PDFs, the collectors' worklist);
      - the HTTP server answers the dunning API (api.h), /healthz, /metrics. */
#include <stdlib.h>

#include "api.h"
#include "bus.h"
#include "consumer.h"
#include "dates.h"
#include "db.h"
#include "delivery.h"
#include "dunning.h"
#include "http.h"
#include "items.h"
#include "log.h"
#include "plans.h"
#include "purge.h"
#include "service.h"
#include "tzlocal.h"

static const config_entry_t s_config[] = {
    { "CREANCE_REMINDERS_HTTP", "127.0.0.1:8083", false,
      "dunning API, health and metrics (host:port)" },
    { "CREANCE_REMINDERS_PASS_MS", "60000", false,
      "milliseconds between two dunning passes; 0 turns the automatic pass off (preview still answers)" },
    { "CREANCE_REMINDERS_DELIVERY_MS", "1000", false, "milliseconds between two delivery batches" },
    { "CREANCE_REMINDERS_DELIVERY_BATCH", "10", false, "deliveries per batch (each blocks up to its timeout)" },
    { "CREANCE_REMINDERS_MAX_ATTEMPTS", "5", false, "attempts on one channel before falling back" },
    { "CREANCE_REMINDERS_BACKOFF_S", "30", false, "first retry delay; doubles per attempt, capped at 1 h" },
    { "CREANCE_SMTP_URL", "smtp://127.0.0.1:2525", false, "SMTP relay (smtp:// or smtps://)" },
    { "CREANCE_SMTP_FROM", "relances@creance.local", false, "sender address of reminder e-mails" },
    { "CREANCE_SMTP_USER", "", false, "SMTP AUTH user (empty: no AUTH)" },
    { "CREANCE_SMTP_PASSWORD", "", true, "SMTP AUTH password" },
    { "CREANCE_SMTP_TIMEOUT_MS", "10000", false, "longest wait for one SMTP delivery" },
    { "CREANCE_SMS_URL", "", false, "SMS gateway endpoint (HTTP POST JSON); empty: SMS fall back" },
    { "CREANCE_SMS_TOKEN", "", true, "SMS gateway bearer token" },
    { "CREANCE_SMS_TIMEOUT_MS", "5000", false, "longest wait for the SMS gateway" },
    { "CREANCE_LETTER_OUTBOX", "var/letters", false, "folder the print provider collects PDF letters from" },
    { "CREANCE_TODAY", "", false, "the dunning date (YYYY-MM-DD; empty: today in UTC)" },
    { "CREANCE_NOW_UTC", "", false, "the pass's instant for quiet hours (YYYY-MM-DDTHH:MM:SSZ; empty: clock)" },
    { NULL, NULL, false, NULL }
};

static const http_route_t s_routes[] = {
    { "GET", "/api/v1/open-items/summary", rem_api_summary },
    { "GET", "/api/v1/reminders/preview", rem_api_preview },
    { "GET", "/api/v1/reminders/limitation", rem_api_limitation },
    { "GET", "/api/v1/reminders", rem_api_reminders },
    { "GET", "/api/v1/worklist", rem_api_worklist },
    { "GET", "/api/v1/plans", rem_plans_get },
    { "POST", "/api/v1/bounces", rem_api_bounces },
    { "POST", "/api/v1/optouts", rem_api_optouts },
    { NULL, NULL, NULL }
};

static const char *const s_streams[] = { "ledger", "risk", NULL };

typedef struct {
    consumer_t *consumer;
    rem_dunning_t *dunning;
    rem_delivery_t *delivery;
    bool first_pass_done;
    bool recovered;
    db_t *db;
    const char *outbox;
} app_t;

static void run_pass(app_t *app, const char *why)
{
    rem_pass_stats_t st = { 0 };
    int64_t start = now_us();
    int rc = rem_dunning_run(app->dunning, date_today(), rem_now_seconds(), &st);
    char today[11];
    date_format(date_today(), today);
    log_info("dunning pass done trigger=%s ok=%s today=%s tenants=%lld debtors=%lld items=%lld"
             " reminders=%lld invoices=%lld held_debtors=%lld conflicts=%lld ms=%lld", why,
             rc ? "no" : "yes", today, (long long) st.tenants, (long long) st.debtors,
             (long long) st.items, (long long) st.reminders, (long long) st.decided_items,
             (long long) st.held_debtors, (long long) st.conflicts,
             (long long) ((now_us() - start) / 1000));
}

static int on_pass_timer(zloop_t *loop, int timer_id, void *arg)
{
    app_t *app = arg;
    if (service_stopping() || !consumer_caught_up(app->consumer))
        return 0;
    app->first_pass_done = true;
    run_pass(app, "timer");
    return 0;
}

/*  The first pass as soon as the view is caught up after start. */
static int on_start_timer(zloop_t *loop, int timer_id, void *arg)
{
    app_t *app = arg;
    if (app->first_pass_done || service_stopping() || !consumer_caught_up(app->consumer))
        return 0;
    app->first_pass_done = true;
    run_pass(app, "start");
    return 0;
}

static int on_delivery_timer(zloop_t *loop, int timer_id, void *arg)
{
    app_t *app = arg;
    if (service_stopping())
        return 0;
    if (!app->recovered)
        app->recovered = rem_delivery_recover(app->delivery) == 0;
    if (app->recovered)
        rem_delivery_run(app->delivery);
    /*  Letters of erased debtors or past their retention (purge.h). */
    rem_purge_run(app->db, app->outbox, 20);
    return 0;
}

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
    bus_t *bus = NULL;
    app_t app = { 0 };

    /*  db_new does not need the server up: the consumer and /healthz wait. */
    db_t *db = db_new(config_get(config, "CREANCE_DB_URL"));
    items = rem_items_new();
    bus = bus_pub_new(config_get(config, "CREANCE_BROKER_PUB"));
    if (!db || !items || !bus)
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

    rem_delivery_config_t dcfg = {
        .smtp = {
            .url = config_get(config, "CREANCE_SMTP_URL"),
            .from = config_get(config, "CREANCE_SMTP_FROM"),
            .user = config_get(config, "CREANCE_SMTP_USER"),
            .password = config_get(config, "CREANCE_SMTP_PASSWORD"),
            .timeout_ms = config_get_int(config, "CREANCE_SMTP_TIMEOUT_MS", 10000),
        },
        .sms = {
            .url = config_get(config, "CREANCE_SMS_URL"),
            .token = config_get(config, "CREANCE_SMS_TOKEN"),
            .timeout_ms = config_get_int(config, "CREANCE_SMS_TIMEOUT_MS", 5000),
        },
        .letter_outbox = config_get(config, "CREANCE_LETTER_OUTBOX"),
        .batch = (int) config_get_int(config, "CREANCE_REMINDERS_DELIVERY_BATCH", 10),
        .max_attempts = (int) config_get_int(config, "CREANCE_REMINDERS_MAX_ATTEMPTS", 5),
        .backoff_base_s = (int) config_get_int(config, "CREANCE_REMINDERS_BACKOFF_S", 30),
        .backoff_max_s = 3600,
        .lease_s = 300,
    };
    app.consumer = consumer;
    app.db = db;
    app.outbox = config_get(config, "CREANCE_LETTER_OUTBOX");
    app.dunning = rem_dunning_new(db, bus);
    app.delivery = rem_delivery_new(db, bus, &dcfg);
    if (!app.dunning || !app.delivery)
        goto done;

    rem_api_t api = { .db = db, .consumer = consumer, .dunning = app.dunning, .delivery = app.delivery };
    const char *addr = config_get(config, "CREANCE_REMINDERS_HTTP");
    http = http_server_new(addr, s_routes, &api, 16384);
    if (!http) {
        log_error("http server not started addr=%s", addr);
        goto done;
    }
    http_server_set_health(http, rem_api_health, &api);

    zloop_t *loop = service_loop(service);
    long pass_ms = config_get_int(config, "CREANCE_REMINDERS_PASS_MS", 60000);
    long delivery_ms = config_get_int(config, "CREANCE_REMINDERS_DELIVERY_MS", 1000);
    if (consumer_attach(consumer, loop) || http_server_attach(http, loop)
        || (pass_ms > 0 && zloop_timer(loop, pass_ms > 10 ? (size_t) pass_ms : 10, 0, on_pass_timer, &app) < 0)
        || (pass_ms > 0 && zloop_timer(loop, 200, 0, on_start_timer, &app) < 0)
        || zloop_timer(loop, delivery_ms > 10 ? (size_t) delivery_ms : 10, 0, on_delivery_timer, &app) < 0)
        goto done;
    log_info("reminders ready http=%s port=%d pass_ms=%ld delivery_ms=%ld", addr,
             http_server_port(http), pass_ms, delivery_ms);
    rc = service_run(service);

done:
    http_server_destroy(&http);
    consumer_destroy(&consumer);
    rem_delivery_destroy(&app.delivery);
    rem_dunning_destroy(&app.dunning);
    rem_items_destroy(&items);
    bus_destroy(&bus);
    db_destroy(&db);
    service_destroy(&service);
    return rc;
}
