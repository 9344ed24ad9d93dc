/*  bus: envelopes through the broker (PUB -> XSUB | XPUB -> SUB). */
#include "bus.h"
#include "curve.h"
#include "envelope.h"
#include "log.h"
#include "metrics.h"

#include <stdio.h>
#include <string.h>

struct bus_t {
    zsock_t *sock;
};

/*  A consumer that falls this far behind on the wire loses messages there
    and reads them from event_log instead; the limit bounds memory (at
    100,000, a consumer lagging behind a feed held ~100 MB of envelopes). */
#define BUS_HWM 10000
/*  The broker accepts frames up to CREANCE_BROKER_MAX_MSG (1 MiB by
    default) from publishers; a subscriber refuses larger ones too, so a
    misconfigured broker cannot make it buffer without bound. */
#define BUS_MAX_MSG (1024 * 1024)

bus_t *
bus_pub_new(const char *broker_pub)
{
    zsock_t *sock = zsock_new(ZMQ_PUB);
    zsock_set_sndhwm(sock, BUS_HWM);
    /* CURVE when configured (curve.h): the broker answers only known keys. */
    if (curve_client(sock) != 0) {
        log_error("bus: no CURVE credentials for %s: %s", broker_pub, curve_error());
        zsock_destroy(&sock);
        return NULL;
    }
    if (zsock_connect(sock, "%s", broker_pub) != 0) {
        log_error("bus: cannot connect to %s", broker_pub);
        zsock_destroy(&sock);
        return NULL;
    }
    bus_t *self = calloc(1, sizeof *self);
    self->sock = sock;
    return self;
}

bus_t *
bus_sub_new(const char *broker_sub, const char *const *streams)
{
    zsock_t *sock = zsock_new(ZMQ_SUB);
    zsock_set_rcvhwm(sock, BUS_HWM);
    zsock_set_maxmsgsize(sock, BUS_MAX_MSG);
    for (const char *const *s = streams; *s; s++) {
        char prefix[128];
        snprintf(prefix, sizeof prefix, "%s/", *s);
        zsock_set_subscribe(sock, prefix);
    }
    if (curve_client(sock) != 0) {
        log_error("bus: no CURVE credentials for %s: %s", broker_sub, curve_error());
        zsock_destroy(&sock);
        return NULL;
    }
    if (zsock_connect(sock, "%s", broker_sub) != 0) {
        log_error("bus: cannot connect to %s", broker_sub);
        zsock_destroy(&sock);
        return NULL;
    }
    bus_t *self = calloc(1, sizeof *self);
    self->sock = sock;
    return self;
}

void
bus_destroy(bus_t **self_p)
{
    bus_t *self = *self_p;
    if (!self)
        return;
    zsock_destroy(&self->sock);
    free(self);
    *self_p = NULL;
}

zsock_t *
bus_sock(bus_t *self)
{
    return self->sock;
}

int
bus_publish(bus_t *self, const char *tenant, const char *stream, const uint8_t *data, size_t len)
{
    char topic[256];
    int tlen = snprintf(topic, sizeof topic, "%s/%s", stream, tenant);
    void *s = zsock_resolve(self->sock);
    /* PUB never blocks: at the high-water mark it drops, and the consumer
       reads the event from event_log. */
    if (zmq_send(s, topic, (size_t) tlen, ZMQ_SNDMORE) < 0 || zmq_send(s, data, len, 0) < 0) {
        metric_inc(metrics_counter("creance_bus_publish_errors_total",
                                   "envelopes that could not be handed to the bus", NULL));
        return -1;
    }
    return 0;
}

static void
s_invalid(const char *why)
{
    log_warn("bus: dropped invalid frame: %s", why);
    metric_inc(metrics_counter("creance_bus_invalid_frames_total",
                               "messages from the bus that were not valid envelopes", NULL));
}

int
bus_recv(bus_t *self, Creance__Envelope **env)
{
    *env = NULL;
    void *s = zsock_resolve(self->sock);
    zmq_msg_t topic, body;
    zmq_msg_init(&topic);
    if (zmq_msg_recv(&topic, s, ZMQ_DONTWAIT) < 0) {
        zmq_msg_close(&topic);
        return 0;
    }
    if (!zmq_msg_more(&topic)) {
        zmq_msg_close(&topic);
        s_invalid("single-frame message (expected topic and envelope)");
        return -1;
    }
    zmq_msg_init(&body);
    zmq_msg_recv(&body, s, 0);
    int extra = zmq_msg_more(&body);
    while (zmq_msg_more(&body)) {       /* drain whatever else the sender attached */
        zmq_msg_close(&body);
        zmq_msg_init(&body);
        zmq_msg_recv(&body, s, 0);
    }
    int rc = -1;
    char err[160];
    if (extra)
        s_invalid("more than two frames");
    else {
        *env = envelope_decode(zmq_msg_data(&body), zmq_msg_size(&body), err, sizeof err);
        if (*env) {
            /* The topic must match the envelope, or a subscriber filtering
               by topic would see another tenant's or stream's events. */
            char expect[256];
            int n = snprintf(expect, sizeof expect, "%s/%s", (*env)->stream, (*env)->tenant);
            if ((size_t) n != zmq_msg_size(&topic) || memcmp(expect, zmq_msg_data(&topic), (size_t) n)) {
                envelope_free(*env);
                *env = NULL;
                s_invalid("topic does not match the envelope's stream and tenant");
            }
            else
                rc = 1;
        }
        else
            s_invalid(err);
    }
    zmq_msg_close(&topic);
    zmq_msg_close(&body);
    return rc;
}
