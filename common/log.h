/*  log: one line per event, "<UTC instant> <service> <LEVEL> <message>".
    Messages are written as key=value pairs with the ids involved, e.g.
        log_info("batch accepted tenant=%s items=%d", tenant, n);
    Logs go to stderr, which the local stack and containers capture. */
#ifndef CREANCE_LOG_H
#define CREANCE_LOG_H

/* Not LOG_DEBUG...: <syslog.h>, which CZMQ includes, defines those. */
typedef enum { LOGL_DEBUG = 0, LOGL_INFO, LOGL_WARN, LOGL_ERROR } log_level_t;

void log_init(const char *service);
/*  Accepts "debug", "info", "warn", "error"; returns -1 on anything else. */
int  log_set_level(const char *name);
void log_write(log_level_t level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_debug(...) log_write(LOGL_DEBUG, __VA_ARGS__)
#define log_info(...)  log_write(LOGL_INFO, __VA_ARGS__)
#define log_warn(...)  log_write(LOGL_WARN, __VA_ARGS__)
#define log_error(...) log_write(LOGL_ERROR, __VA_ARGS__)

#endif
