/*  cache: a Redis connection (hiredis) that reconnects after the server
    comes back. Redis only ever holds copies of what PostgreSQL has: a
    failed command is logged and reported, and the caller carries on from
    PostgreSQL. Keys follow "creance:{<tenant>:<debtor>}:..." so that one
    debtor's keys share a cluster hash slot. */
#ifndef CREANCE_CACHE_H
#define CREANCE_CACHE_H

#include <hiredis/hiredis.h>
#include <stdbool.h>

typedef struct cache_t cache_t;

/*  url: "redis://host:port" or "host:port". */
cache_t    *cache_new(const char *url);
void        cache_destroy(cache_t **self_p);
bool        cache_ready(cache_t *self);
/*  NULL when Redis is unreachable or answered an error (logged). Caller
    freeReplyObject()s. */
redisReply *cache_cmd(cache_t *self, const char *fmt, ...);
redisReply *cache_cmd_argv(cache_t *self, int argc, const char **argv, const size_t *lens);
/*  Pipelining: queue commands, then read that many replies with
    cache_pipeline_end; returns the number of replies that were not errors,
    or -1 if the connection failed. */
int         cache_append(cache_t *self, const char *fmt, ...);
int         cache_pipeline_end(cache_t *self, int count);

#endif
