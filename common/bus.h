/*  bus: publishing and subscribing to envelopes through the broker.

    A message is two frames: the topic "<stream>/<tenant>" and the encoded
    Envelope. Subscribers filter by stream prefix ("ledger/"). The bus is a
    fast notification path only: PUB/SUB drops at the high-water mark and
    to late joiners, so every consumer also reads event_log (consumer.h).
    Both sockets use CURVE when the process configured it (curve.h); then
    a missing certificate makes bus_pub_new / bus_sub_new return NULL. */
#ifndef CREANCE_BUS_H
#define CREANCE_BUS_H

#include <czmq.h>
#include "creance.pb-c.h"

typedef struct bus_t bus_t;

/*  PUB socket connected to the broker's XSUB side. */
bus_t   *bus_pub_new(const char *broker_pub);
/*  SUB socket connected to the broker's XPUB side, subscribed to each of
    `streams` (NULL-terminated). */
bus_t   *bus_sub_new(const char *broker_sub, const char *const *streams);
void     bus_destroy(bus_t **self_p);
zsock_t *bus_sock(bus_t *self);

int      bus_publish(bus_t *self, const char *tenant, const char *stream,
                     const uint8_t *data, size_t len);

/*  Receives one message without blocking. Returns 1 and sets *env (free
    with envelope_free), 0 when nothing is waiting, -1 when a message was
    not a valid envelope: it is logged, counted in
    creance_bus_invalid_frames_total and dropped. */
int      bus_recv(bus_t *self, Creance__Envelope **env);

#endif
