/*  creance-broker: the bus. A stateless XSUB <-> XPUB proxy: publishers
    connect to the XSUB side, subscribers to the XPUB side, and
    subscriptions flow upstream so publishers only send what someone wants.
    It holds nothing: restarting it loses only messages in flight, which
    consumers read again from event_log.

    With CURVE configured (curve.h) both sides are CURVE servers: only
    publishers and subscribers whose keys are in authorized/ get through. */
#include "curve.h"
#include "http.h"
#include "log.h"
#include "metrics.h"
#include "service.h"

#include <czmq.h>

static const config_entry_t s_config[] = {
    { "CREANCE_BROKER_HWM", "10000", false, "messages queued per peer before dropping" },
    { "CREANCE_BROKER_HTTP", "127.0.0.1:8084", false, "health and metrics (host:port)" },
    { "CREANCE_BROKER_MAX_MSG", "1048576", false,
      "largest frame accepted from a publisher (bytes); larger: libzmq drops the peer" },
    { NULL, NULL, false, NULL }
};

typedef struct {
    zsock_t *xsub, *xpub;
    metric_t *forwarded;
} broker_t;

/*  Forward one whole multi-frame message from `from` to `to`, at most 1000
    messages per call so the other direction gets its turn. XPUB does not
    block at the high-water mark: it drops, and consumers catch up from
    event_log. */
static void
s_send(void *dst, zmq_msg_t *msg, int more)
{
    if (zmq_msg_send(msg, dst, more ? ZMQ_SNDMORE : 0) < 0)
        zmq_msg_close(msg);     /* on failure the message is still ours */
}

static int
s_forward(zsock_t *from, zsock_t *to)
{
    void *src = zsock_resolve(from), *dst = zsock_resolve(to);
    for (int i = 0; i < 1000; i++) {
        zmq_msg_t msg;
        zmq_msg_init(&msg);
        if (zmq_msg_recv(&msg, src, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&msg);
            return i;
        }
        int more = zmq_msg_more(&msg);
        s_send(dst, &msg, more);
        while (more) {
            zmq_msg_init(&msg);
            zmq_msg_recv(&msg, src, 0);
            more = zmq_msg_more(&msg);
            s_send(dst, &msg, more);
        }
    }
    return 1000;
}

static int
s_on_publisher(zloop_t *loop, zsock_t *reader, void *arg)
{
    broker_t *b = arg;
    metric_add(b->forwarded, s_forward(b->xsub, b->xpub));
    return 0;
}

static int
s_on_subscriber(zloop_t *loop, zsock_t *reader, void *arg)
{
    broker_t *b = arg;
    s_forward(b->xpub, b->xsub);     /* subscription messages go upstream */
    return 0;
}

/*  A subscriber only sends subscriptions: a topic prefix, short. */
#define SUBSCRIPTION_MAX_MSG 4096

int
main(void)
{
    service_t *svc = service_new("broker", s_config);
    config_t *cfg = service_config(svc);
    /*  A subscriber that falls behind reads what it missed from event_log
        (DESIGN.md), so a deep queue here buys nothing and costs memory: at
        100,000 a consumer lagging behind a feed kept the broker at 154 MB
        (make bench). 10,000 envelopes are seconds of any live stream. */
    int hwm = (int) config_get_int(cfg, "CREANCE_BROKER_HWM", 10000);
    long max_msg = config_get_int(cfg, "CREANCE_BROKER_MAX_MSG", 1048576);
    if (max_msg < 1024 || max_msg > 256L * 1024 * 1024) {
        log_warn("config CREANCE_BROKER_MAX_MSG=%ld must be from 1024 to 268435456; using 1048576",
                 max_msg);
        max_msg = 1048576;
    }
    int rc = 1;
    http_server_t *http = NULL;
    broker_t b = { 0 };
    b.xsub = zsock_new(ZMQ_XSUB);
    b.xpub = zsock_new(ZMQ_XPUB);
    zsock_set_rcvhwm(b.xsub, hwm);
    zsock_set_sndhwm(b.xpub, hwm);
    /* An event is a few hundred bytes; a larger frame is a broken or
       hostile peer, which libzmq disconnects before buffering it. */
    zsock_set_maxmsgsize(b.xsub, (int) max_msg);
    zsock_set_maxmsgsize(b.xpub, SUBSCRIPTION_MAX_MSG);
    b.forwarded = metrics_counter("creance_broker_messages_total", "messages forwarded", NULL);
    if (curve_server(b.xsub, "broker_publishers") != 0
        || curve_server(b.xpub, "broker_subscribers") != 0) {
        log_error("broker not started: CURVE is configured but not usable");
        goto done;
    }
    if (zsock_bind(b.xsub, "%s", config_get(cfg, "CREANCE_BROKER_PUB")) < 0
        || zsock_bind(b.xpub, "%s", config_get(cfg, "CREANCE_BROKER_SUB")) < 0) {
        log_error("cannot bind %s / %s: %s", config_get(cfg, "CREANCE_BROKER_PUB"),
                  config_get(cfg, "CREANCE_BROKER_SUB"), zmq_strerror(zmq_errno()));
        goto done;
    }
    log_info("listening publishers=%s subscribers=%s curve=%s max_msg=%ld",
             config_get(cfg, "CREANCE_BROKER_PUB"), config_get(cfg, "CREANCE_BROKER_SUB"),
             curve_enabled() ? "on" : "off", max_msg);
    zloop_reader(service_loop(svc), b.xsub, s_on_publisher, &b);
    zloop_reader(service_loop(svc), b.xpub, s_on_subscriber, &b);
    static const http_route_t no_routes[] = { { NULL, NULL, NULL } };
    http = http_server_new(config_get(cfg, "CREANCE_BROKER_HTTP"), no_routes, &b, 0);
    if (!http || http_server_attach(http, service_loop(svc)) != 0) {
        log_error("cannot serve HTTP on %s", config_get(cfg, "CREANCE_BROKER_HTTP"));
        goto done;
    }
    rc = service_run(svc);
done:
    http_server_destroy(&http);
    zsock_destroy(&b.xsub);
    zsock_destroy(&b.xpub);
    service_destroy(&svc);
    return rc;
}
