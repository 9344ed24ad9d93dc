/*  Unit tests for common/http: a real server on 127.0.0.1:<free port>
    driven by a zloop on this thread, and a raw TCP client on another
    thread (so the loop keeps turning while the client waits). cmocka
    asserts stay on the main thread: the client only records what it got. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "http.h"
#include "metrics.h"

#define MAX_BODY 1024

/*  ------------------------------------------------------------------------
    Routes under test */

static void
s_echo(const http_request_t *req, http_response_t *res, void *arg)
{
    size_t len;
    const char *body = http_body(req, &len);
    /*  The body is NUL terminated for handlers that parse text. */
    assert_true(body[len] == '\0');
    http_reply(res, 200, "application/octet-stream", body, len);
}

static void
s_item(const http_request_t *req, http_response_t *res, void *arg)
{
    const char *q = http_query(req, "q");
    const char *h = http_header(req, "x-test");     /* case-insensitive */
    char text[256];
    snprintf(text, sizeof text, "method=%s path=%s q=%s h=%s arg=%s", http_method(req),
             http_path(req), q ? q : "-", h ? h : "-", (const char *) arg);
    http_reply(res, 200, "text/plain", text, strlen(text));
}

static void
s_json(const http_request_t *req, http_response_t *res, void *arg)
{
    json_t *obj = json_pack("{s:s, s:i}", "tenant", "acme", "count", 3);
    http_reply_json(res, 201, obj);
}

static void
s_auth(const http_request_t *req, http_response_t *res, void *arg)
{
    http_reply_error(res, 401, "Authorization", "missing bearer token");
    res->extra_header_name = strdup("WWW-Authenticate");
    res->extra_header_value = strdup("Bearer");
}

static void
s_silent(const http_request_t *req, http_response_t *res, void *arg)
{
    /*  Forgets to answer: the server must still answer something. */
}

static const http_route_t s_routes[] = {
    { "POST", "/echo", s_echo },
    { "GET", "/items/", s_item },
    { "POST", "/items/", s_item },
    { "GET", "/json", s_json },
    { "GET", "/auth", s_auth },
    { "GET", "/silent", s_silent },
    { NULL, NULL, NULL }
};

/*  ------------------------------------------------------------------------
    Fixture: server + loop; client thread */

typedef struct {
    zloop_t *loop;
    http_server_t *server;
    int port;
    const char *health_reason;
} fixture_t;

typedef struct {
    int port;
    const char *parts[4];           /* sent one after the other */
    int pause_ms;                   /* between parts */
    char *response;                 /* all bytes read until the server closes */
    atomic_bool done;
} exchange_t;

static const char *
s_health(void *arg)
{
    return ((fixture_t *) arg)->health_reason;
}

static int
s_setup(void **state)
{
    metrics_reset();
    fixture_t *fx = calloc(1, sizeof *fx);
    fx->loop = zloop_new();
    fx->server = http_server_new("127.0.0.1:0", s_routes, "ctx", MAX_BODY);
    assert_non_null(fx->server);
    fx->port = http_server_port(fx->server);
    assert_true(fx->port > 0);
    assert_int_equal(http_server_attach(fx->server, fx->loop), 0);
    http_server_set_health(fx->server, s_health, fx);
    *state = fx;
    return 0;
}

static int
s_teardown(void **state)
{
    fixture_t *fx = *state;
    http_server_destroy(&fx->server);
    assert_null(fx->server);
    zloop_destroy(&fx->loop);
    free(fx);
    return 0;
}

static void *
s_client(void *arg)
{
    exchange_t *ex = arg;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons((uint16_t) ex->port) };
    inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
    struct timeval tv = { 5, 0 };   /* a hung server fails the test, not the run */
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (connect(fd, (struct sockaddr *) &sin, sizeof sin) == 0) {
        for (int i = 0; i < 4 && ex->parts[i]; i++) {
            if (i && ex->pause_ms)
                usleep((useconds_t) ex->pause_ms * 1000);
            size_t len = strlen(ex->parts[i]), sent = 0;
            while (sent < len) {
                ssize_t n = send(fd, ex->parts[i] + sent, len - sent, MSG_NOSIGNAL);
                if (n <= 0)
                    break;
                sent += (size_t) n;
            }
        }
        size_t size = 4096, used = 0;
        char *buf = malloc(size);
        for (;;) {
            if (used + 1 == size)
                buf = realloc(buf, size *= 2);
            ssize_t n = recv(fd, buf + used, size - used - 1, 0);
            if (n <= 0)
                break;
            used += (size_t) n;
        }
        buf[used] = '\0';
        ex->response = buf;
    }
    close(fd);
    atomic_store(&ex->done, true);
    return NULL;
}

static int
s_check_done(zloop_t *loop, int timer_id, void *arg)
{
    return atomic_load(&((exchange_t *) arg)->done) ? -1 : 0;
}

/*  Runs the loop while the client thread talks to the server. */
static void
s_exchange(fixture_t *fx, exchange_t *ex)
{
    ex->port = fx->port;
    atomic_init(&ex->done, false);
    pthread_t thread;
    assert_int_equal(pthread_create(&thread, NULL, s_client, ex), 0);
    int timer = zloop_timer(fx->loop, 1, 0, s_check_done, ex);
    zloop_start(fx->loop);
    zloop_timer_end(fx->loop, timer);
    pthread_join(thread, NULL);
    assert_non_null(ex->response);
}

typedef struct {
    int status;
    char *raw;                      /* whole response */
    const char *body;               /* into raw */
} reply_t;

/*  One request with Connection: close; the reply is read to EOF. */
static reply_t
s_request(fixture_t *fx, const char *method, const char *target,
          const char *headers, const char *body)
{
    char *head = zsys_sprintf("%s %s HTTP/1.1\r\nHost: test\r\nConnection: close\r\n%s"
                              "Content-Length: %zu\r\n\r\n",
                              method, target, headers ? headers : "", body ? strlen(body) : 0);
    exchange_t ex = { .parts = { head, body } };
    s_exchange(fx, &ex);
    zstr_free(&head);
    reply_t reply = { 0, ex.response, "" };
    sscanf(ex.response, "HTTP/1.1 %d", &reply.status);
    char *end = strstr(ex.response, "\r\n\r\n");
    if (end)
        reply.body = end + 4;
    return reply;
}

/*  Case-insensitive header check on the raw response. */
static bool
s_has_header(const reply_t *reply, const char *name, const char *value)
{
    char *line = zsys_sprintf("\r\n%s: %s\r\n", name, value);
    bool found = strcasestr(reply->raw, line) != NULL;
    zstr_free(&line);
    return found;
}

/*  ------------------------------------------------------------------------
    Tests */

static void
test_bad_address(void **state)
{
    assert_null(http_server_new("127.0.0.1", s_routes, NULL, MAX_BODY));
    assert_null(http_server_new("127.0.0.1:99999", s_routes, NULL, MAX_BODY));
    assert_null(http_server_new("127.0.0.1:80x", s_routes, NULL, MAX_BODY));
    assert_null(http_server_new("no.such.host.invalid:0", s_routes, NULL, MAX_BODY));
    assert_null(http_server_new(NULL, s_routes, NULL, MAX_BODY));
}

static void
test_port_in_use(void **state)
{
    fixture_t *fx = *state;
    char addr[32];
    snprintf(addr, sizeof addr, "127.0.0.1:%d", fx->port);
    assert_null(http_server_new(addr, s_routes, NULL, MAX_BODY));
}

static void
test_healthz(void **state)
{
    fixture_t *fx = *state;
    reply_t r = s_request(fx, "GET", "/healthz", NULL, NULL);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "ok\n");
    free(r.raw);

    fx->health_reason = "database unreachable";
    r = s_request(fx, "GET", "/healthz", NULL, NULL);
    assert_int_equal(r.status, 503);
    assert_string_equal(r.body, "database unreachable\n");
    free(r.raw);
    fx->health_reason = NULL;

    r = s_request(fx, "POST", "/healthz", NULL, "x");
    assert_int_equal(r.status, 405);
    assert_true(s_has_header(&r, "Allow", "GET"));
    free(r.raw);
}

static void
test_metrics_counts_requests(void **state)
{
    fixture_t *fx = *state;
    free(s_request(fx, "GET", "/healthz", NULL, NULL).raw);
    free(s_request(fx, "GET", "/healthz", NULL, NULL).raw);
    free(s_request(fx, "GET", "/no/such/thing", NULL, NULL).raw);
    free(s_request(fx, "GET", "/items/1", NULL, NULL).raw);
    free(s_request(fx, "GET", "/items/2", NULL, NULL).raw);

    reply_t r = s_request(fx, "GET", "/metrics", NULL, NULL);
    assert_int_equal(r.status, 200);
    assert_true(s_has_header(&r, "Content-Type", "text/plain; version=0.0.4"));
    assert_non_null(strstr(r.body, "# TYPE creance_http_requests_total counter\n"));
    assert_non_null(strstr(r.body, "\ncreance_http_requests_total{path=\"/healthz\",code=\"200\"} 2\n"));
    /*  Labelled by route, not by URL: bounded cardinality. */
    assert_non_null(strstr(r.body, "\ncreance_http_requests_total{path=\"/items/\",code=\"200\"} 2\n"));
    assert_null(strstr(r.body, "/items/1"));
    assert_null(strstr(r.body, "/no/such/thing"));
    assert_non_null(strstr(r.body, "\ncreance_http_requests_total{path=\"unmatched\",code=\"404\"} 1\n"));
    assert_non_null(strstr(r.body, "\ncreance_http_request_seconds_count{path=\"/healthz\"} 2\n"));
    assert_non_null(strstr(r.body, "creance_http_request_seconds_bucket{path=\"/items/\",le=\"+Inf\"} 2\n"));
    free(r.raw);
}

static void
test_not_found(void **state)
{
    fixture_t *fx = *state;
    reply_t r = s_request(fx, "GET", "/nope", NULL, NULL);
    assert_int_equal(r.status, 404);
    assert_true(s_has_header(&r, "Content-Type", "application/json"));
    json_t *obj = json_loads(r.body, 0, NULL);
    assert_non_null(obj);
    assert_string_equal(json_string_value(json_object_get(json_object_get(obj, "error"), "field")), "path");
    json_decref(obj);
    free(r.raw);

    /*  "/items" is not under the prefix "/items/"; "/echo/x" is not "/echo". */
    r = s_request(fx, "GET", "/items", NULL, NULL);
    assert_int_equal(r.status, 404);
    free(r.raw);
    r = s_request(fx, "POST", "/echo/x", NULL, "hi");
    assert_int_equal(r.status, 404);
    free(r.raw);
}

static void
test_wrong_method(void **state)
{
    fixture_t *fx = *state;
    reply_t r = s_request(fx, "GET", "/echo", NULL, NULL);
    assert_int_equal(r.status, 405);
    assert_true(s_has_header(&r, "Allow", "POST"));
    assert_non_null(strstr(r.body, "\"field\":\"method\""));
    free(r.raw);

    r = s_request(fx, "DELETE", "/items/7", NULL, NULL);
    assert_int_equal(r.status, 405);
    assert_true(s_has_header(&r, "Allow", "GET, POST"));
    free(r.raw);
}

static void
test_post_echo(void **state)
{
    fixture_t *fx = *state;
    reply_t r = s_request(fx, "POST", "/echo", "Content-Type: text/plain\r\n", "hello, créance");
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "hello, créance");
    assert_true(s_has_header(&r, "Content-Type", "application/octet-stream"));
    free(r.raw);

    /*  Exactly max_body is accepted. */
    char *full = malloc(MAX_BODY + 1);
    memset(full, 'a', MAX_BODY);
    full[MAX_BODY] = '\0';
    r = s_request(fx, "POST", "/echo", NULL, full);
    assert_int_equal(r.status, 200);
    assert_int_equal(strlen(r.body), MAX_BODY);
    free(r.raw);
    free(full);

    /*  Empty body. */
    r = s_request(fx, "POST", "/echo", NULL, "");
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "");
    free(r.raw);
}

/*  Headers, then the body in two parts with pauses: the server must keep
    the request across several loop turns and answer promptly after. */
static void
test_post_in_parts(void **state)
{
    fixture_t *fx = *state;
    exchange_t ex = {
        .parts = { "POST /echo HTTP/1.1\r\nHost: t\r\nConnection: close\r\n"
                   "Content-Length: 10\r\n\r\n", "01234", "56789" },
        .pause_ms = 30,
    };
    s_exchange(fx, &ex);
    assert_non_null(strstr(ex.response, "HTTP/1.1 200"));
    assert_non_null(strstr(ex.response, "\r\n\r\n0123456789"));
    free(ex.response);

    /*  Chunked upload is accumulated as well. */
    exchange_t chunked = {
        .parts = { "POST /echo HTTP/1.1\r\nHost: t\r\nConnection: close\r\n"
                   "Transfer-Encoding: chunked\r\n\r\n", "3\r\nabc\r\n", "2\r\nde\r\n0\r\n\r\n" },
        .pause_ms = 10,
    };
    s_exchange(fx, &chunked);
    assert_non_null(strstr(chunked.response, "HTTP/1.1 200"));
    assert_non_null(strstr(chunked.response, "\r\n\r\nabcde"));
    free(chunked.response);
}

static void
test_oversize_body(void **state)
{
    fixture_t *fx = *state;
    char *big = malloc(5 * MAX_BODY + 1);
    memset(big, 'b', 5 * MAX_BODY);
    big[5 * MAX_BODY] = '\0';
    reply_t r = s_request(fx, "POST", "/echo", NULL, big);
    assert_int_equal(r.status, 413);
    json_t *obj = json_loads(r.body, 0, NULL);
    assert_non_null(obj);
    json_t *err = json_object_get(obj, "error");
    assert_string_equal(json_string_value(json_object_get(err, "field")), "body");
    assert_non_null(strstr(json_string_value(json_object_get(err, "reason")), "1024"));
    json_decref(obj);
    free(r.raw);

    /*  One byte over. */
    big[MAX_BODY + 1] = '\0';
    r = s_request(fx, "POST", "/echo", NULL, big);
    assert_int_equal(r.status, 413);
    free(r.raw);
    free(big);

    /*  The server is still fine afterwards. */
    r = s_request(fx, "POST", "/echo", NULL, "small");
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "small");
    free(r.raw);
}

static void
test_prefix_query_header(void **state)
{
    fixture_t *fx = *state;
    reply_t r = s_request(fx, "GET", "/items/42?q=a%20b&z=1", "X-Test: yes\r\n", NULL);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "method=GET path=/items/42 q=a b h=yes arg=ctx");
    free(r.raw);

    r = s_request(fx, "GET", "/items/", NULL, NULL);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "method=GET path=/items/ q=- h=- arg=ctx");
    free(r.raw);
}

static void
test_json_and_errors(void **state)
{
    fixture_t *fx = *state;
    reply_t r = s_request(fx, "GET", "/json", NULL, NULL);
    assert_int_equal(r.status, 201);
    assert_true(s_has_header(&r, "Content-Type", "application/json"));
    assert_string_equal(r.body, "{\"tenant\":\"acme\",\"count\":3}");
    free(r.raw);

    r = s_request(fx, "GET", "/auth", NULL, NULL);
    assert_int_equal(r.status, 401);
    assert_true(s_has_header(&r, "WWW-Authenticate", "Bearer"));
    assert_string_equal(r.body,
        "{\"error\":{\"field\":\"Authorization\",\"reason\":\"missing bearer token\"}}");
    free(r.raw);

    r = s_request(fx, "GET", "/silent", NULL, NULL);
    assert_int_equal(r.status, 500);
    free(r.raw);
}

/*  Two requests on one keep-alive connection, and many in a row: served
    from epoll readiness, not from the 100 ms housekeeping tick. */
static void
test_keep_alive_and_latency(void **state)
{
    fixture_t *fx = *state;
    exchange_t ex = {
        .parts = { "GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n",
                   "GET /items/9 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n" },
        .pause_ms = 20,
    };
    s_exchange(fx, &ex);
    assert_non_null(strstr(ex.response, "ok\n"));
    assert_non_null(strstr(ex.response, "path=/items/9"));
    free(ex.response);

    int64_t start = zclock_mono();
    for (int i = 0; i < 20; i++) {
        reply_t r = s_request(fx, "GET", "/healthz", NULL, NULL);
        assert_int_equal(r.status, 200);
        free(r.raw);
    }
    int64_t elapsed = zclock_mono() - start;
    /*  20 requests waiting on the tick would take at least 2 s. */
    assert_true(elapsed < 1500);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_address),
        cmocka_unit_test_setup_teardown(test_port_in_use, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_healthz, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_metrics_counts_requests, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_not_found, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_wrong_method, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_post_echo, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_post_in_parts, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_oversize_body, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_prefix_query_header, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_json_and_errors, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_keep_alive_and_latency, s_setup, s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
