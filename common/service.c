/*  service: logging, configuration, signals and the run loop. */
#include "service.h"
#include "curve.h"
#include "log.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t s_term;
static volatile sig_atomic_t s_hup;

static void
s_on_signal(int sig)
{
    if (sig == SIGHUP) {
        s_hup = 1;
        return;
    }
    if (s_term) {
        /* Second request while draining: the operator wants out now. */
        static const char msg[] = "second termination signal: exiting at once\n";
        ssize_t rc = write(STDERR_FILENO, msg, sizeof msg - 1);
        (void) rc;
        _exit(1);
    }
    s_term = 1;
}

struct service_t {
    char *name;
    config_t *config;
    zloop_t *loop;
    service_fn *drain, *reload;
    void *drain_arg, *reload_arg;
};

service_t *
service_new(const char *name, const config_entry_t *table)
{
    /* Our own handlers, not CZMQ's: CZMQ's would make every socket call
       fail after the first SIGTERM, and we want to drain first. */
    zsys_handler_set(NULL);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = s_on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    log_init(name);
    service_t *self = calloc(1, sizeof *self);
    self->name = strdup(name);
    self->config = config_new(name, table);
    if (log_set_level(config_get(self->config, "CREANCE_LOG_LEVEL")) != 0)
        log_warn("config CREANCE_LOG_LEVEL=%s is not debug, info, warn or error; using info",
                 config_get(self->config, "CREANCE_LOG_LEVEL"));
    log_info("starting pid=%d", (int) getpid());
    config_print(self->config);
    /* A bad CURVE folder fails closed: the sockets then refuse to set up. */
    curve_setup(config_get(self->config, "CREANCE_CURVE_DIR"),
                config_get(self->config, "CREANCE_CURVE_CERT"));
    zsys_set_linger(0);
    self->loop = zloop_new();
    return self;
}

void
service_destroy(service_t **self_p)
{
    service_t *self = *self_p;
    if (!self)
        return;
    zloop_destroy(&self->loop);
    curve_shutdown();       /* the authentication actor must end before zsys */
    config_destroy(&self->config);
    free(self->name);
    free(self);
    *self_p = NULL;
}

zloop_t *
service_loop(service_t *self)
{
    return self->loop;
}

config_t *
service_config(service_t *self)
{
    return self->config;
}

const char *
service_name(const service_t *self)
{
    return self->name;
}

void
service_on_drain(service_t *self, service_fn *fn, void *arg)
{
    self->drain = fn;
    self->drain_arg = arg;
}

void
service_on_reload(service_t *self, service_fn *fn, void *arg)
{
    self->reload = fn;
    self->reload_arg = arg;
}

bool
service_stopping(void)
{
    return s_term != 0;
}

/*  A signal that arrives while a handler runs (not inside zmq_poll) would
    otherwise wait for the next event; this tick notices it. */
static int
s_on_tick(zloop_t *loop, int timer_id, void *arg)
{
    return (s_term || s_hup) ? -1 : 0;
}

int
service_run(service_t *self)
{
    zloop_timer(self->loop, 100, 0, s_on_tick, self);
    if (curve_watch(self->loop) != 0)
        log_error("curve: cannot watch for refused clients");
    for (;;) {
        int rc = zloop_start(self->loop);
        if (s_term)
            break;
        if (s_hup) {
            s_hup = 0;
            /* Live: the log level here, what the service's reload callback
               applies, and CURVE's authorized/ (re-read on change, no
               signal needed). Addresses, URLs and keys take effect at the
               next start. */
            int changed = config_reload(self->config);
            if (changed < 0) {
                log_error("configuration NOT reloaded: CREANCE_CONFIG_FILE unreadable; "
                          "the running configuration stays");
                continue;
            }
            if (log_set_level(config_get(self->config, "CREANCE_LOG_LEVEL")) != 0)
                log_warn("config CREANCE_LOG_LEVEL=%s is not debug, info, warn or error; "
                         "level unchanged", config_get(self->config, "CREANCE_LOG_LEVEL"));
            log_info("configuration reloaded changed=%d", changed);
            config_print(self->config);
            if (self->reload)
                self->reload(self->reload_arg);
            continue;
        }
        if (rc == -1) {
            log_error("event loop stopped by a handler; exiting");
            return 1;
        }
        /* Interrupted by another signal (EINTR): carry on. */
    }
    log_info("termination requested: draining");
    if (self->drain)
        self->drain(self->drain_arg);
    log_info("drained; exiting");
    return 0;
}
