/*  rejects: log now, count after commit. */
#include "rejects.h"
#include "envelope.h"
#include "log.h"
#include "metrics.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct rejects_t {
    char *metric;
    char *help;
    metric_t **pending;         /* one per rejection in the open transaction */
    size_t n, cap;
};

rejects_t *
rejects_new(const char *metric, const char *help)
{
    rejects_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->metric = strdup(metric);
    self->help = strdup(help);
    return self;
}

void
rejects_destroy(rejects_t **self_p)
{
    rejects_t *self = *self_p;
    if (!self)
        return;
    free(self->metric);
    free(self->help);
    free(self->pending);
    free(self);
    *self_p = NULL;
}

void
rejects_add(rejects_t *self, const Creance__Envelope *env, const char *field, const char *reason)
{
    log_error("event rejected tenant=%s stream=%s seq=%" PRId64 " event_id=%s type=%s"
              " field=%s reason=%s", env->tenant, env->stream, env->seq, env->event_id,
              envelope_type_name(env), field, reason);
    char labels[96];
    snprintf(labels, sizeof labels, "reason=\"%s\"", reason);
    metric_t *m = metrics_counter(self->metric, self->help, labels);
    if (self->n == self->cap) {
        size_t cap = self->cap ? 2 * self->cap : 16;
        metric_t **grown = realloc(self->pending, cap * sizeof *grown);
        if (!grown) {
            metric_inc(m);      /* counted early rather than not at all */
            return;
        }
        self->pending = grown;
        self->cap = cap;
    }
    self->pending[self->n++] = m;
}

void
rejects_committed(rejects_t *self)
{
    for (size_t i = 0; i < self->n; i++)
        metric_inc(self->pending[i]);
    self->n = 0;
}

void
rejects_aborted(rejects_t *self)
{
    self->n = 0;
}
