/*  bus_bench: envelopes per second through the real broker.

    usage: bus_bench BROKER_PUB BROKER_SUB SIZE COUNT
    A publisher thread sends COUNT envelopes of SIZE encoded bytes (a
    DebtorCreated whose name pads the envelope to SIZE) on topic
    "bench/<tenant>" with bus_publish; the main thread receives them with
    bus_recv (which decodes and checks every envelope, as a service does)
    through the broker's XPUB side. Prints one line:
        size=100 sent=N received=N seconds=S rate=R
    The rate is envelopes received per second, from the first to the last
    received. PUB/SUB may drop at the high-water mark: received < sent is
    reported, not hidden. */
#include <czmq.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus.h"
#include "curve.h"
#include "envelope.h"
#include "log.h"

typedef struct {
    const char *pub;
    size_t size;
    long count;
} args_t;

static uint8_t *s_encode(size_t size, size_t *len)
{
    Creance__Envelope env;
    Creance__DebtorCreated dc = CREANCE__DEBTOR_CREATED__INIT;
    envelope_init(&env, "bench", "bench", "bus_bench");
    env.seq = 1;
    dc.debtor_id = 1;
    dc.external_id = "D1";
    env.event_case = CREANCE__ENVELOPE__EVENT_DEBTOR_CREATED;
    env.debtor_created = &dc;
    /* Grow the name until the envelope reaches the size (a length prefix
       may take one more byte: adjust down). */
    char *name = calloc(size + 1, 1);
    dc.legal_name = name;
    size_t n = creance__envelope__get_packed_size(&env);
    size_t pad = n < size ? size - n : 0;
    while (pad > 0) {
        memset(name, 'x', pad);
        name[pad] = 0;
        n = creance__envelope__get_packed_size(&env);
        if (n <= size)
            break;
        pad--;
    }
    uint8_t *buf = malloc(n);
    creance__envelope__pack(&env, buf);
    *len = n;
    env.debtor_created = NULL;
    env.event_case = CREANCE__ENVELOPE__EVENT__NOT_SET;
    envelope_clear(&env);
    free(name);
    return buf;
}

static void s_publisher(zsock_t *pipe, void *arg)
{
    args_t *a = arg;
    bus_t *bus = bus_pub_new(a->pub);
    size_t len;
    uint8_t *buf = s_encode(a->size, &len);
    zsock_signal(pipe, 0);
    /* Starts when the subscriber has seen its probes come back. */
    char *go = zstr_recv(pipe);
    zstr_free(&go);
    for (long i = 0; i < a->count; i++)
        while (bus_publish(bus, "bench", "bench", buf, len) != 0)
            zclock_sleep(1);
    zsock_signal(pipe, 0);
    /* Keep the socket (and what it still queues) until the subscriber is
       done: zactor_destroy sends $TERM. */
    char *term = zstr_recv(pipe);
    zstr_free(&term);
    free(buf);
    bus_destroy(&bus);
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: bus_bench BROKER_PUB BROKER_SUB SIZE COUNT\n");
        return 2;
    }
    log_init("bus_bench");
    log_set_level("error");
    /* Through a broker that runs CURVE, as the services do: the keys of
       CREANCE_CURVE_DIR / CREANCE_CURVE_CERT, none when unset. */
    if (curve_setup_env() != 0) {
        fprintf(stderr, "bus_bench: %s\n", curve_error());
        return 1;
    }
    args_t a = { argv[1], (size_t) atol(argv[3]), atol(argv[4]) };
    const char *streams[] = { "bench", NULL };
    bus_t *sub = bus_sub_new(argv[2], streams);
    zsock_t *sock = bus_sock(sub);
    bus_t *probe = bus_pub_new(argv[1]);
    size_t plen;
    uint8_t *pbuf = s_encode(a.size, &plen);
    /* Wait until the subscription has reached the publisher side. */
    bool ready = false;
    for (int i = 0; i < 500 && !ready; i++) {
        bus_publish(probe, "bench", "bench", pbuf, plen);
        zclock_sleep(10);
        Creance__Envelope *env;
        while (bus_recv(sub, &env) == 1) {
            envelope_free(env);
            ready = true;
        }
    }
    bus_destroy(&probe);
    free(pbuf);
    if (!ready) {
        fprintf(stderr, "bus_bench: no probe came back through the broker\n");
        return 1;
    }
    zactor_t *pub = zactor_new(s_publisher, &a);
    zstr_send(zactor_sock(pub), "go");

    zpoller_t *poller = zpoller_new(sock, NULL);
    long received = 0;
    int64_t first = 0, last = 0;
    while (received < a.count) {
        if (!zpoller_wait(poller, 2000))
            break;              /* two quiet seconds: the rest was dropped */
        Creance__Envelope *env;
        int rc;
        while ((rc = bus_recv(sub, &env)) != 0) {
            if (rc == 1) {
                if (received == 0)
                    first = zclock_usecs();
                received++;
                envelope_free(env);
            }
        }
        last = zclock_usecs();
    }
    zsock_wait(zactor_sock(pub));       /* everything was handed to the bus */
    zactor_destroy(&pub);
    zpoller_destroy(&poller);
    bus_destroy(&sub);
    double secs = (double) (last - first) / 1e6;
    printf("size=%zu sent=%ld received=%ld seconds=%.3f rate=%.0f\n", a.size, a.count, received,
           secs, secs > 0 ? (double) received / secs : 0.0);
    return received > 0 ? 0 : 1;
}
