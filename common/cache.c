/*  cache: a hiredis connection that comes back after Redis does. */
#include "cache.h"
#include "log.h"
#include "metrics.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct cache_t {
    char host[256];
    int port;
    redisContext *ctx;
    time_t last_attempt;
};

cache_t *
cache_new(const char *url)
{
    cache_t *self = calloc(1, sizeof *self);
    const char *p = strncmp(url, "redis://", 8) == 0 ? url + 8 : url;
    const char *colon = strrchr(p, ':');
    self->port = 6379;
    if (colon) {
        snprintf(self->host, sizeof self->host, "%.*s", (int) (colon - p), p);
        self->port = atoi(colon + 1);
    }
    else
        snprintf(self->host, sizeof self->host, "%s", p);
    char *slash = strchr(self->host, '/');
    if (slash)
        *slash = 0;
    return self;
}

void
cache_destroy(cache_t **self_p)
{
    cache_t *self = *self_p;
    if (!self)
        return;
    if (self->ctx)
        redisFree(self->ctx);
    free(self);
    *self_p = NULL;
}

static void
s_drop(cache_t *self, const char *why)
{
    if (self->ctx) {
        log_warn("redis connection lost: %s", why);
        redisFree(self->ctx);
        self->ctx = NULL;
    }
    metric_inc(metrics_counter("creance_cache_errors_total", "Redis commands that failed", NULL));
}

static redisContext *
s_ctx(cache_t *self)
{
    if (self->ctx)
        return self->ctx;
    time_t now = time(NULL);
    if (now == self->last_attempt)
        return NULL;            /* at most one attempt per second while down */
    self->last_attempt = now;
    struct timeval tv = { 1, 0 };
    redisContext *c = redisConnectWithTimeout(self->host, self->port, tv);
    if (!c || c->err) {
        log_warn("redis unavailable at %s:%d: %s", self->host, self->port,
                 c ? c->errstr : "out of memory");
        if (c)
            redisFree(c);
        return NULL;
    }
    redisSetTimeout(c, tv);
    self->ctx = c;
    log_info("redis connected at %s:%d", self->host, self->port);
    return c;
}

bool
cache_ready(cache_t *self)
{
    return s_ctx(self) != NULL;
}

static redisReply *
s_check(cache_t *self, redisReply *r)
{
    if (!r) {
        s_drop(self, self->ctx && self->ctx->errstr[0] ? self->ctx->errstr : "no reply");
        return NULL;
    }
    if (r->type == REDIS_REPLY_ERROR) {
        log_warn("redis error: %s", r->str);
        metric_inc(metrics_counter("creance_cache_errors_total", "Redis commands that failed", NULL));
        freeReplyObject(r);
        return NULL;
    }
    return r;
}

redisReply *
cache_cmd(cache_t *self, const char *fmt, ...)
{
    redisContext *c = s_ctx(self);
    if (!c)
        return NULL;
    va_list ap;
    va_start(ap, fmt);
    redisReply *r = redisvCommand(c, fmt, ap);
    va_end(ap);
    return s_check(self, r);
}

redisReply *
cache_cmd_argv(cache_t *self, int argc, const char **argv, const size_t *lens)
{
    redisContext *c = s_ctx(self);
    if (!c)
        return NULL;
    return s_check(self, redisCommandArgv(c, argc, argv, lens));
}

int
cache_append(cache_t *self, const char *fmt, ...)
{
    redisContext *c = s_ctx(self);
    if (!c)
        return -1;
    va_list ap;
    va_start(ap, fmt);
    int rc = redisvAppendCommand(c, fmt, ap);
    va_end(ap);
    return rc == REDIS_OK ? 0 : -1;
}

int
cache_pipeline_end(cache_t *self, int count)
{
    if (!self->ctx)
        return -1;
    int ok = 0;
    for (int i = 0; i < count; i++) {
        void *reply = NULL;
        if (redisGetReply(self->ctx, &reply) != REDIS_OK) {
            s_drop(self, self->ctx->errstr);
            return -1;
        }
        redisReply *r = reply;
        if (r->type != REDIS_REPLY_ERROR)
            ok++;
        else
            log_warn("redis error: %s", r->str);
        freeReplyObject(r);
    }
    return ok;
}
