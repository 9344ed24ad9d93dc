/*  http: a small HTTP server (libmicrohttpd) driven by the service's zloop.

    libmicrohttpd is started without a thread of its own (MHD_USE_EPOLL, no
    MHD_USE_INTERNAL_POLLING_THREAD). Its epoll descriptor is one fd that
    becomes readable when any of its sockets has work; the zloop polls that
    fd and calls MHD_run, so request handlers run on the service's only
    thread and may use its database connection and sockets without locks.
    The price: a slow handler stalls the loop, so handlers must be quick.

    A request goes through the access handler several times: once when the
    headers are in (we allocate our request), once per chunk of body (we
    accumulate up to max_body) and a last time with no data, when we route
    it and queue the response. */
#include "http.h"
#include "log.h"
#include "metrics.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

/*  Housekeeping tick: MHD must be run now and then even without socket
    activity, to close idle connections. */
#define HTTP_TICK_MSECS 100
/*  Idle keep-alive connections are closed after this. */
#define HTTP_CONNECTION_TIMEOUT_SECS 30
/*  MHD_run may leave ready connections for the next run (edge-triggered
    epoll: they will not wake the loop again); run again while MHD says it
    has work pending, but not forever. */
#define HTTP_MAX_RUNS 64

/*  Label used for requests matching no route: the raw URL would let any
    client create unbounded metric series. */
#define HTTP_UNMATCHED "unmatched"

struct http_server_t {
    struct MHD_Daemon *daemon;
    http_route_t *routes;           /* copy of the table, NULL-terminated */
    void *arg;
    size_t max_body;
    http_health_fn *health;
    void *health_arg;
    zloop_t *loop;
    zmq_pollitem_t item;
    int timer_id;
    int port;
};

struct http_request_t {
    struct MHD_Connection *connection;
    const char *method;             /* owned by MHD, valid for the request */
    const char *url;
    char *body;                     /* always NUL terminated */
    size_t body_len;
    size_t body_size;
    bool too_large;
    int64_t started_us;             /* monotonic */
};

static int64_t
s_monotonic_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/*  ------------------------------------------------------------------------
    Responses */

static void
s_response_clear(http_response_t *res)
{
    free(res->body);
    free(res->extra_header_name);
    free(res->extra_header_value);
    memset(res, 0, sizeof *res);
}

void
http_reply(http_response_t *res, int status, const char *content_type, const char *body, size_t len)
{
    /*  A handler that answers twice keeps the last answer, without leaking
        the first; the extra header belongs to whoever set it, so it stays. */
    free(res->body);
    res->status = status;
    res->content_type = content_type;
    res->body = malloc(len + 1);
    if (len)
        memcpy(res->body, body, len);
    res->body[len] = '\0';
    res->len = len;
}

void
http_reply_json(http_response_t *res, int status, json_t *obj)
{
    char *text = obj ? json_dumps(obj, JSON_COMPACT) : NULL;
    json_decref(obj);
    if (!text) {
        static const char fail[] = "{\"error\":{\"field\":\"response\",\"reason\":\"cannot encode JSON\"}}";
        http_reply(res, 500, "application/json", fail, sizeof fail - 1);
        return;
    }
    free(res->body);
    res->status = status;
    res->content_type = "application/json";
    res->body = text;               /* jansson allocates with malloc by default */
    res->len = strlen(text);
}

void
http_reply_error(http_response_t *res, int status, const char *field, const char *reason)
{
    json_t *obj = json_pack("{s:{s:s, s:s}}", "error",
                            "field", field ? field : "",
                            "reason", reason ? reason : "");
    http_reply_json(res, status, obj);
}

static void
s_set_extra_header(http_response_t *res, const char *name, const char *value)
{
    free(res->extra_header_name);
    free(res->extra_header_value);
    res->extra_header_name = strdup(name);
    res->extra_header_value = strdup(value);
}

/*  ------------------------------------------------------------------------
    Request accessors */

const char *
http_method(const http_request_t *req)
{
    return req->method;
}

const char *
http_path(const http_request_t *req)
{
    return req->url;
}

const char *
http_header(const http_request_t *req, const char *name)
{
    return MHD_lookup_connection_value(req->connection, MHD_HEADER_KIND, name);
}

const char *
http_query(const http_request_t *req, const char *name)
{
    return MHD_lookup_connection_value(req->connection, MHD_GET_ARGUMENT_KIND, name);
}

bool
http_query_long(const http_request_t *req, http_response_t *res, const char *name,
                long lo, long hi, long *out)
{
    const char *v = http_query(req, name);
    if (!v)
        return true;
    char *end;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (!*v || *end || errno || n < lo || n > hi) {
        char why[96];
        snprintf(why, sizeof why, "expected an integer from %ld to %ld", lo, hi);
        http_reply_error(res, 400, name, why);
        return false;
    }
    *out = n;
    return true;
}

const char *
http_body(const http_request_t *req, size_t *len)
{
    if (len)
        *len = req->body_len;
    return req->body ? req->body : "";
}

/*  ------------------------------------------------------------------------
    Routing */

static bool
s_path_matches(const char *route, const char *path)
{
    size_t n = strlen(route);
    if (n > 0 && route[n - 1] == '/')
        return strncmp(route, path, n) == 0;
    return strcmp(route, path) == 0;
}

/*  HEAD is answered as GET; MHD leaves the body out. */
static bool
s_method_matches(const char *route, const char *method)
{
    return strcmp(route, method) == 0
        || (strcmp(method, "HEAD") == 0 && strcmp(route, "GET") == 0);
}

static void
s_health(http_server_t *self, const http_request_t *req, http_response_t *res)
{
    const char *reason = self->health ? self->health(self->health_arg) : NULL;
    if (reason) {
        char *text = zsys_sprintf("%s\n", reason);
        http_reply(res, 503, "text/plain; charset=utf-8", text, strlen(text));
        zstr_free(&text);
    }
    else
        http_reply(res, 200, "text/plain; charset=utf-8", "ok\n", 3);
}

static void
s_metrics(http_server_t *self, const http_request_t *req, http_response_t *res)
{
    free(res->body);
    res->status = 200;
    res->content_type = "text/plain; version=0.0.4";
    res->body = metrics_render();
    res->len = strlen(res->body);
}

/*  Answered by every server, before its own routes. */
typedef void (builtin_fn)(http_server_t *self, const http_request_t *req, http_response_t *res);
static const struct {
    const char *path;
    builtin_fn *fn;
} s_builtins[] = {
    { "/healthz", s_health },
    { "/metrics", s_metrics },
};

static void
s_reply_too_large(http_server_t *self, http_response_t *res)
{
    char reason[96];
    snprintf(reason, sizeof reason, "larger than %zu bytes", self->max_body);
    http_reply_error(res, 413, "body", reason);
}

/*  Fills `res` and returns the route path for the metrics label. */
static const char *
s_dispatch(http_server_t *self, http_request_t *req, http_response_t *res)
{
    for (size_t i = 0; i < sizeof s_builtins / sizeof s_builtins[0]; i++)
        if (strcmp(req->url, s_builtins[i].path) == 0) {
            if (!s_method_matches("GET", req->method)) {
                http_reply_error(res, 405, "method", "method not allowed on this path");
                s_set_extra_header(res, "Allow", "GET");
            }
            else if (req->too_large)
                s_reply_too_large(self, res);
            else
                s_builtins[i].fn(self, req, res);
            return s_builtins[i].path;
        }

    const http_route_t *route = NULL;
    const http_route_t *same_path = NULL;
    for (const http_route_t *r = self->routes; r->method; r++) {
        if (!s_path_matches(r->path, req->url))
            continue;
        if (!same_path)
            same_path = r;
        if (s_method_matches(r->method, req->method)) {
            route = r;
            break;
        }
    }
    if (!route && !same_path) {
        http_reply_error(res, 404, "path", "no such route");
        return HTTP_UNMATCHED;
    }
    if (!route) {
        /*  Allow lists the methods the path does take (RFC 9110). */
        char allow[128] = "";
        for (const http_route_t *r = self->routes; r->method; r++)
            if (s_path_matches(r->path, req->url) && !strstr(allow, r->method)) {
                size_t n = strlen(allow);
                snprintf(allow + n, sizeof allow - n, "%s%s", n ? ", " : "", r->method);
            }
        http_reply_error(res, 405, "method", "method not allowed on this path");
        s_set_extra_header(res, "Allow", allow);
        return same_path->path;
    }
    if (req->too_large) {
        s_reply_too_large(self, res);
        return route->path;
    }
    route->fn(req, res, self->arg);
    if (res->status == 0) {
        log_error("http: handler set no response method=%s path=%s", req->method, route->path);
        s_response_clear(res);
        http_reply_error(res, 500, "response", "handler produced no response");
    }
    return route->path;
}

/*  Label values escape backslash, double quote and newline. */
static void
s_label_escape(const char *in, char *out, size_t size)
{
    size_t n = 0;
    for (const char *p = in; *p && n + 3 < size; p++) {
        if (*p == '\\' || *p == '"') {
            out[n++] = '\\';
            out[n++] = *p;
        }
        else if (*p == '\n') {
            out[n++] = '\\';
            out[n++] = 'n';
        }
        else
            out[n++] = *p;
    }
    out[n] = '\0';
}

static void
s_count_request(const char *path, int status, double seconds)
{
    char escaped[256], labels[320];
    s_label_escape(path, escaped, sizeof escaped);
    snprintf(labels, sizeof labels, "path=\"%s\",code=\"%d\"", escaped, status);
    metric_inc(metrics_counter("creance_http_requests_total",
                               "HTTP requests by route and status code", labels));
    snprintf(labels, sizeof labels, "path=\"%s\"", escaped);
    metric_observe(metrics_histogram("creance_http_request_seconds",
                                     "HTTP request latency by route", labels), seconds);
}

static enum MHD_Result
s_queue(http_request_t *req, http_response_t *res)
{
    struct MHD_Response *response;
    if (res->body && res->len) {
        response = MHD_create_response_from_buffer(res->len, res->body, MHD_RESPMEM_MUST_FREE);
        if (response)
            res->body = NULL;       /* MHD frees it */
    }
    else
        response = MHD_create_response_from_buffer(0, (void *) "", MHD_RESPMEM_PERSISTENT);
    if (!response)
        return MHD_NO;
    MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE,
                            res->content_type ? res->content_type : "text/plain; charset=utf-8");
    if (res->extra_header_name && res->extra_header_value)
        MHD_add_response_header(response, res->extra_header_name, res->extra_header_value);
    enum MHD_Result rc = MHD_queue_response(req->connection, (unsigned int) res->status, response);
    MHD_destroy_response(response);
    return rc;
}

static enum MHD_Result
s_access(void *cls, struct MHD_Connection *connection, const char *url, const char *method,
         const char *version, const char *upload_data, size_t *upload_data_size, void **con_cls)
{
    http_server_t *self = (http_server_t *) cls;
    http_request_t *req = (http_request_t *) *con_cls;

    if (!req) {
        /*  Headers are in; the body, if any, comes in the next calls. */
        req = calloc(1, sizeof *req);
        req->connection = connection;
        req->method = method;
        req->url = url;
        req->started_us = s_monotonic_us();
        *con_cls = req;
        return MHD_YES;
    }
    if (*upload_data_size) {
        size_t chunk = *upload_data_size;
        *upload_data_size = 0;
        /*  An oversize body is read and dropped, not cut short: closing
            on a client still sending makes it see a reset, not our 413. */
        if (req->too_large || req->body_len + chunk > self->max_body) {
            req->too_large = true;
            free(req->body);
            req->body = NULL;
            req->body_len = 0;
            return MHD_YES;
        }
        if (req->body_len + chunk + 1 > req->body_size) {
            size_t size = req->body_size ? req->body_size : 4096;
            while (size < req->body_len + chunk + 1)
                size *= 2;
            req->body = realloc(req->body, size);
            req->body_size = size;
        }
        memcpy(req->body + req->body_len, upload_data, chunk);
        req->body_len += chunk;
        req->body[req->body_len] = '\0';
        return MHD_YES;
    }

    http_response_t res = { 0 };
    const char *label = s_dispatch(self, req, &res);
    double seconds = (double) (s_monotonic_us() - req->started_us) / 1e6;
    s_count_request(label, res.status, seconds);
    if (res.status >= 500)
        log_warn("http request method=%s path=%s status=%d ms=%.1f",
                 method, url, res.status, seconds * 1000);
    else
        log_debug("http request method=%s path=%s status=%d ms=%.1f",
                  method, url, res.status, seconds * 1000);
    enum MHD_Result rc = s_queue(req, &res);
    s_response_clear(&res);
    return rc;
}

static void
s_completed(void *cls, struct MHD_Connection *connection, void **con_cls,
            enum MHD_RequestTerminationCode toe)
{
    http_request_t *req = (http_request_t *) *con_cls;
    if (req) {
        free(req->body);
        free(req);
        *con_cls = NULL;
    }
}

static void
s_mhd_log(void *cls, const char *fmt, va_list ap)
{
    char text[512];
    vsnprintf(text, sizeof text, fmt, ap);
    size_t n = strlen(text);
    while (n && (text[n - 1] == '\n' || text[n - 1] == '\r'))
        text[--n] = '\0';
    log_warn("http: %s", text);
}

/*  ------------------------------------------------------------------------
    Server */

/*  "host:port" into an IPv4 address; "*" or an empty host is any. */
static bool
s_parse_addr(const char *addr, struct sockaddr_in *sin)
{
    const char *colon = addr ? strrchr(addr, ':') : NULL;
    if (!colon || !colon[1] || strlen(colon + 1) > 5)
        return false;
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (*end || port < 0 || port > 65535 || colon[1] < '0' || colon[1] > '9')
        return false;

    char host[256];
    size_t len = (size_t) (colon - addr);
    if (len >= sizeof host)
        return false;
    memcpy(host, addr, len);
    host[len] = '\0';

    memset(sin, 0, sizeof *sin);
    sin->sin_family = AF_INET;
    sin->sin_port = htons((uint16_t) port);
    if (len == 0 || strcmp(host, "*") == 0) {
        sin->sin_addr.s_addr = htonl(INADDR_ANY);
        return true;
    }
    if (inet_pton(AF_INET, host, &sin->sin_addr) == 1)
        return true;
    struct addrinfo hints = { .ai_family = AF_INET, .ai_socktype = SOCK_STREAM };
    struct addrinfo *found = NULL;
    if (getaddrinfo(host, NULL, &hints, &found) != 0 || !found)
        return false;
    sin->sin_addr = ((struct sockaddr_in *) found->ai_addr)->sin_addr;
    freeaddrinfo(found);
    return true;
}

http_server_t *
http_server_new(const char *addr, const http_route_t *routes, void *arg, size_t max_body)
{
    struct sockaddr_in sin;
    if (!s_parse_addr(addr, &sin)) {
        log_error("http: bad listen address addr=%s (want host:port)", addr ? addr : "(null)");
        return NULL;
    }
    http_server_t *self = calloc(1, sizeof *self);
    self->arg = arg;
    self->max_body = max_body;
    self->timer_id = -1;

    size_t count = 0;
    while (routes && routes[count].method)
        count++;
    self->routes = calloc(count + 1, sizeof *self->routes);
    if (count)
        memcpy(self->routes, routes, count * sizeof *routes);

    self->daemon = MHD_start_daemon(MHD_USE_EPOLL | MHD_USE_ERROR_LOG, 0,
                                    NULL, NULL, s_access, self,
                                    MHD_OPTION_EXTERNAL_LOGGER, s_mhd_log, NULL,
                                    MHD_OPTION_SOCK_ADDR, (struct sockaddr *) &sin,
                                    MHD_OPTION_NOTIFY_COMPLETED, s_completed, NULL,
                                    MHD_OPTION_CONNECTION_TIMEOUT,
                                    (unsigned int) HTTP_CONNECTION_TIMEOUT_SECS,
                                    MHD_OPTION_END);
    if (!self->daemon) {
        log_error("http: cannot listen addr=%s", addr);
        free(self->routes);
        free(self);
        return NULL;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(self->daemon, MHD_DAEMON_INFO_BIND_PORT);
    self->port = info ? info->port : 0;
    log_info("http listening addr=%s port=%d", addr, self->port);
    return self;
}

void
http_server_destroy(http_server_t **self_p)
{
    http_server_t *self = *self_p;
    if (!self)
        return;
    /*  The loop must still exist: it holds our poller and timer. */
    if (self->loop) {
        zloop_poller_end(self->loop, &self->item);
        zloop_timer_end(self->loop, self->timer_id);
    }
    MHD_stop_daemon(self->daemon);
    free(self->routes);
    free(self);
    *self_p = NULL;
}

void
http_server_set_health(http_server_t *self, http_health_fn *fn, void *arg)
{
    self->health = fn;
    self->health_arg = arg;
}

/*  Runs MHD until it has nothing ready. Never ends the loop: an HTTP
    problem must not stop the service. */
static void
s_run(http_server_t *self)
{
    for (int i = 0; i < HTTP_MAX_RUNS; i++) {
        MHD_run(self->daemon);
        MHD_UNSIGNED_LONG_LONG timeout;
        if (MHD_get_timeout(self->daemon, &timeout) != MHD_YES || timeout > 0)
            break;
    }
}

static int
s_on_epoll(zloop_t *loop, zmq_pollitem_t *item, void *arg)
{
    s_run((http_server_t *) arg);
    return 0;
}

static int
s_on_tick(zloop_t *loop, int timer_id, void *arg)
{
    s_run((http_server_t *) arg);
    return 0;
}

int
http_server_attach(http_server_t *self, zloop_t *loop)
{
    if (self->loop) {
        log_error("http: server already attached to a loop");
        return -1;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(self->daemon, MHD_DAEMON_INFO_EPOLL_FD);
    if (!info) {
        log_error("http: no epoll descriptor");
        return -1;
    }
    self->item = (zmq_pollitem_t) { NULL, info->epoll_fd, ZMQ_POLLIN, 0 };
    if (zloop_poller(loop, &self->item, s_on_epoll, self) != 0) {
        log_error("http: cannot poll the epoll descriptor");
        return -1;
    }
    /*  An error on the descriptor must not remove it from the loop for
        good: the server would silently go deaf. */
    zloop_poller_set_tolerant(loop, &self->item);
    self->timer_id = zloop_timer(loop, HTTP_TICK_MSECS, 0, s_on_tick, self);
    if (self->timer_id < 0) {
        zloop_poller_end(loop, &self->item);
        log_error("http: cannot add timer");
        return -1;
    }
    self->loop = loop;
    return 0;
}

int
http_server_port(const http_server_t *self)
{
    return self ? self->port : 0;
}
