/*  creance-risk: keeps each debtor's exposure and payment behaviour from
    the ledger stream, scores it, and answers queries about it.

    One zloop runs everything: the ledger consumer (exposure.c, which passes
    each event on to scoring.c: behaviour, score and grade, RiskScored /
    GradeChanged on stream "risk", predictions per open invoice), the query
    ROUTER (query.c: GetDebtorRisk, CheckCredit), the HTTP health/metrics
    server, a 1 s timer that rebuilds the Redis copy whenever it was flushed
    or a write failed (riskcache.c), and a 1 s timer for the daily rescoring
    of time-dependent factors (overdue amounts and ages). Redis being down
    does not make the service unhealthy: queries are then answered from
    PostgreSQL. */
#include "bus.h"
#include "cache.h"
#include "consumer.h"
#include "db.h"
#include "exposure.h"
#include "http.h"
#include "log.h"
#include "partition.h"
#include "query.h"
#include "riskcache.h"
#include "scoring.h"
#include "service.h"

#include <stdio.h>
#include <stdlib.h>

#define CACHE_CHECK_MS 1000
#define DAILY_CHECK_MS 1000         /* one batch of the daily rescoring per tick */

static const config_entry_t s_config[] = {
    { "CREANCE_RISK_ENDPOINT", "tcp://127.0.0.1:5570", false,
      "queries (ROUTER, binds): Query -> QueryReply" },
    { "CREANCE_RISK_HTTP", "127.0.0.1:8082", false, "HTTP health and metrics (host:port)" },
    { "CREANCE_RISK_PARTITION", "0/1", false,
      "k/N: this instance applies the ledger events of the debtors of partition k of N "
      "(docs/scaling.md); 0/1 = all" },
    { NULL, NULL, false, NULL }
};

typedef struct {
    db_t *db;
    cache_t *cache;
    risk_cache_t *riskcache;
    bus_t *bus;
    risk_scoring_t *scoring;
    risk_exposure_t *exposure;
    consumer_t *consumer;
    risk_query_t *query;
    http_server_t *http;
} risk_t;

static const char *
s_health(void *arg)
{
    risk_t *risk = arg;
    if (!db_ready(risk->db))
        return "database unavailable";
    if (!consumer_caught_up(risk->consumer))
        return "catching up";
    return NULL;
}

static int
s_on_cache_tick(zloop_t *loop, int timer_id, void *arg)
{
    risk_cache_check(((risk_t *) arg)->riskcache);
    return 0;
}

/*  Time-dependent factors (overdue amounts and ages) move with the
    calendar: once a day, every debtor with open invoices is rescored, a
    batch per tick so that queries and events are not held up. */
static int
s_on_daily_tick(zloop_t *loop, int timer_id, void *arg)
{
    risk_t *risk = arg;
    if (consumer_caught_up(risk->consumer))
        risk_scoring_daily(risk->scoring, risk->db);
    return 0;
}

static const http_route_t s_routes[] = {
    { NULL, NULL, NULL }
};

static const char *const s_streams[] = { "ledger", NULL };

/*  A partitioned instance starting with no positions of its own, on a
    database where the single instance ("risk") has applied events, would
    apply the whole stream again over rows already written: refused. The
    positions are seeded by the procedure of docs/scaling.md. */
static int
s_check_positions(db_t *db, const char *name)
{
    const char *params[] = { name };
    PGresult *r = db_exec(db, "SELECT (SELECT count(*) FROM consumer_positions WHERE consumer = $1), "
                          "(SELECT count(*) FROM consumer_positions WHERE consumer = 'risk')",
                          1, params);
    if (!r)
        return -1;
    long mine = atol(PQgetvalue(r, 0, 0)), single = atol(PQgetvalue(r, 0, 1));
    PQclear(r);
    if (mine == 0 && single > 0) {
        log_error("consumer=%s has no positions but consumer=risk has %ld: starting would apply "
                  "the ledger again; seed this instance's positions first (docs/scaling.md)",
                  name, single);
        return -1;
    }
    return 0;
}

int
main(void)
{
    service_t *service = service_new("risk", s_config);
    if (!service)
        return 1;
    config_t *config = service_config(service);
    zloop_t *loop = service_loop(service);
    risk_t risk = { 0 };
    int status = 1;

    partition_t part;
    char perr[160], name[48];
    if (!partition_parse(config_get(config, "CREANCE_RISK_PARTITION"), &part, perr, sizeof perr)) {
        log_error("CREANCE_RISK_PARTITION: %s", perr);
        goto done;
    }
    /* 0/1 keeps the name "risk", so that existing positions stay valid;
       each partition keeps its own positions. */
    if (partition_all(&part))
        snprintf(name, sizeof name, "risk");
    else
        snprintf(name, sizeof name, "risk.%u-of-%u", part.index, part.count);

    risk.db = db_new(config_get(config, "CREANCE_DB_URL"));
    risk.cache = cache_new(config_get(config, "CREANCE_REDIS_URL"));
    if (!risk.db || !risk.cache)
        goto done;
    if (!partition_all(&part) && s_check_positions(risk.db, name) != 0)
        goto done;
    risk.riskcache = risk_cache_new(risk.cache, risk.db);
    risk_cache_set_partition(risk.riskcache, &part, name);
    /* RiskScored and GradeChanged go out on stream "risk". */
    risk.bus = bus_pub_new(config_get(config, "CREANCE_BROKER_PUB"));
    if (!risk.bus) {
        log_error("cannot connect to the broker");
        goto done;
    }
    risk.scoring = risk_scoring_new(risk.riskcache, risk.bus);
    risk.exposure = risk_exposure_new(risk.riskcache, risk.scoring);
    risk_scoring_set_partition(risk.scoring, &part);
    risk_exposure_set_partition(risk.exposure, &part);
    log_info("partition %u of %u consumer=%s", part.index, part.count, name);

    consumer_config_t cc = {
        .name = name,
        .streams = s_streams,
        .apply = risk_exposure_apply,
        .precommit = risk_exposure_precommit,
        .committed = risk_exposure_committed,
        .aborted = risk_exposure_aborted,
        .arg = risk.exposure,
    };
    risk.consumer = consumer_new(&cc, risk.db, config_get(config, "CREANCE_BROKER_SUB"));
    if (!risk.consumer || consumer_attach(risk.consumer, loop) != 0) {
        log_error("cannot start the ledger consumer");
        goto done;
    }

    risk.query = risk_query_new(config_get(config, "CREANCE_RISK_ENDPOINT"), risk.db, risk.riskcache,
                                risk.scoring);
    if (!risk.query || risk_query_attach(risk.query, loop) != 0)
        goto done;

    risk.http = http_server_new(config_get(config, "CREANCE_RISK_HTTP"), s_routes, &risk, 1024);
    if (!risk.http) {
        log_error("cannot start HTTP server addr=%s", config_get(config, "CREANCE_RISK_HTTP"));
        goto done;
    }
    http_server_set_health(risk.http, s_health, &risk);
    if (http_server_attach(risk.http, loop) != 0)
        goto done;

    /* A first rebuild check now: a Redis emptied while we were down is
       filled again before the first query, when Redis is up. */
    risk_cache_check(risk.riskcache);
    if (zloop_timer(loop, CACHE_CHECK_MS, 0, s_on_cache_tick, &risk) < 0
        || zloop_timer(loop, DAILY_CHECK_MS, 0, s_on_daily_tick, &risk) < 0)
        goto done;

    status = service_run(service);

done:
    http_server_destroy(&risk.http);
    risk_query_destroy(&risk.query);
    consumer_destroy(&risk.consumer);
    risk_exposure_destroy(&risk.exposure);
    risk_scoring_destroy(&risk.scoring);
    bus_destroy(&risk.bus);
    risk_cache_destroy(&risk.riskcache);
    cache_destroy(&risk.cache);
    db_destroy(&risk.db);
    service_destroy(&service);
    return status;
}
