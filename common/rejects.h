/*  rejects: consumed events that change nothing because they are invalid.

    A consumer applies events inside a transaction that may roll back and be
    read again from event_log; a rejection is therefore logged at once (with
    the field and the reason) but counted only when its transaction commits,
    so that a retried batch does not count it twice. */
#ifndef CREANCE_REJECTS_H
#define CREANCE_REJECTS_H

#include "creance.pb-c.h"

typedef struct rejects_t rejects_t;

/*  `metric` is the counter's name, labelled by reason. */
rejects_t *rejects_new(const char *metric, const char *help);
void       rejects_destroy(rejects_t **self_p);
void       rejects_add(rejects_t *self, const Creance__Envelope *env,
                       const char *field, const char *reason);
void       rejects_committed(rejects_t *self);
void       rejects_aborted(rejects_t *self);

#endif
