/*  http: a small HTTP server (libmicrohttpd) driven by the service's zloop.

    libmicrohttpd runs without a thread of its own: its epoll descriptor is
    polled by the zloop and MHD_run is called when it is ready, so handlers
    run on the service's only thread and may use its database and sockets.

    Routes are a table of {method, path, handler}. A path ending in '/' is
    a prefix. Every server also answers GET /healthz (200 "ok" or 503 with
    the reason from the health callback) and GET /metrics. */
#ifndef CREANCE_HTTP_H
#define CREANCE_HTTP_H

#include <czmq.h>
#include <jansson.h>
#include <stddef.h>

typedef struct http_request_t http_request_t;

typedef struct {
    int status;
    const char *content_type;
    char *body;                 /* malloc'd; freed by the server */
    size_t len;
    char *extra_header_name;    /* optional, e.g. WWW-Authenticate; malloc'd */
    char *extra_header_value;
} http_response_t;

typedef void (http_handler_fn)(const http_request_t *req, http_response_t *res, void *arg);

typedef struct {
    const char *method;         /* "GET", "POST" */
    const char *path;           /* "/api/v1/outstanding" or prefix "/api/v1/debtors/" */
    http_handler_fn *fn;
} http_route_t;

/*  Returns NULL when ready, else a reason for 503. */
typedef const char *(http_health_fn)(void *arg);

typedef struct http_server_t http_server_t;

/*  addr "host:port" (port 0 picks a free one). `routes` ends with {NULL}. */
http_server_t *http_server_new(const char *addr, const http_route_t *routes, void *arg,
                               size_t max_body);
void        http_server_destroy(http_server_t **self_p);
void        http_server_set_health(http_server_t *self, http_health_fn *fn, void *arg);
int         http_server_attach(http_server_t *self, zloop_t *loop);
int         http_server_port(const http_server_t *self);

const char *http_method(const http_request_t *req);
const char *http_path(const http_request_t *req);
const char *http_header(const http_request_t *req, const char *name);
const char *http_query(const http_request_t *req, const char *name);
const char *http_body(const http_request_t *req, size_t *len);
/*  An optional integer query parameter within [lo, hi]. Absent: true, *out
    unchanged (the caller's default). Present and valid: true, *out set.
    Otherwise false, with a 400 already in `res` naming the parameter and
    the accepted range. */
bool        http_query_long(const http_request_t *req, http_response_t *res, const char *name,
                            long lo, long hi, long *out);

/*  Set the response; the body is copied. */
void http_reply(http_response_t *res, int status, const char *content_type, const char *body, size_t len);
/*  Steals `obj`. */
void http_reply_json(http_response_t *res, int status, json_t *obj);
/*  {"error": {"field": field, "reason": reason}} with `status`. */
void http_reply_error(http_response_t *res, int status, const char *field, const char *reason);

#endif
