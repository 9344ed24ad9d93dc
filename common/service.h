/*  service: what every Créance process does around its event loop.

    service_new sets up logging and configuration (printed, secrets masked)
    and signal handling; service_run runs the zloop until asked to stop:
      - SIGTERM or SIGINT: stop taking new work, run the drain callback
        (finish and commit what is in hand, publish what is committed), exit 0;
      - a second SIGTERM while draining: exit at once;
      - SIGHUP: reload the configuration from the environment and call the
        reload callback. */
#ifndef CREANCE_SERVICE_H
#define CREANCE_SERVICE_H

#include <czmq.h>
#include "config.h"

typedef struct service_t service_t;
typedef void (service_fn)(void *arg);

service_t *service_new(const char *name, const config_entry_t *table);
void       service_destroy(service_t **self_p);
zloop_t   *service_loop(service_t *self);
config_t  *service_config(service_t *self);
const char *service_name(const service_t *self);
void       service_on_drain(service_t *self, service_fn *fn, void *arg);
void       service_on_reload(service_t *self, service_fn *fn, void *arg);
/*  Returns the process exit status. */
int        service_run(service_t *self);
/*  True once SIGTERM arrived (handlers may refuse new work). */
bool       service_stopping(void);

#endif
