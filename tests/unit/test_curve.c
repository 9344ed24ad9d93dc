/*  curve: CURVE off by default, fail-closed configuration errors, and real
    sockets on loopback TCP: an allowed client is answered, an unknown one
    is refused, logged and counted. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "curve.h"
#include "metrics.h"

static char s_dir[256];

static void
s_save(const char *dir, const char *name, zcert_t **keep)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s.key", dir, name);
    zcert_t *cert = zcert_new();
    assert_int_equal(zcert_save(cert, path), 0);
    if (keep)
        *keep = cert;
    else
        zcert_destroy(&cert);
}

/*  DIR/server.key(_secret), DIR/certs/{good,bad}.key(_secret),
    DIR/authorized/good.key. */
static int
s_setup(void **state)
{
    snprintf(s_dir, sizeof s_dir, "/tmp/creance-test-curve-XXXXXX");
    assert_non_null(mkdtemp(s_dir));
    char sub[300];
    snprintf(sub, sizeof sub, "%s/certs", s_dir);
    mkdir(sub, 0700);
    snprintf(sub, sizeof sub, "%s/authorized", s_dir);
    mkdir(sub, 0700);
    s_save(s_dir, "server", NULL);
    snprintf(sub, sizeof sub, "%s/certs", s_dir);
    s_save(sub, "good", NULL);
    s_save(sub, "bad", NULL);
    char from[400], to[400];
    snprintf(from, sizeof from, "%s/certs/good.key", s_dir);
    snprintf(to, sizeof to, "%s/authorized/good.key", s_dir);
    zcert_t *good = zcert_load(from);
    assert_non_null(good);
    assert_int_equal(zcert_save_public(good, to), 0);
    zcert_destroy(&good);
    return 0;
}

static int
s_teardown(void **state)
{
    curve_shutdown();
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", s_dir);
    return system(cmd) == 0 ? 0 : -1;
}

static char *
s_path(const char *rel)
{
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", s_dir, rel);
    return path;
}

static void
test_off_by_default(void **state)
{
    assert_int_equal(curve_setup(NULL, NULL), 0);
    assert_false(curve_enabled());
    assert_int_equal(curve_setup("", "ignored"), 0);
    assert_false(curve_enabled());
    zsock_t *sock = zsock_new(ZMQ_DEALER);
    assert_int_equal(curve_client(sock), 0);
    assert_int_equal(zsock_mechanism(sock), ZMQ_NULL);
    assert_int_equal(curve_server(sock, "test"), 0);
    assert_int_equal(zsock_mechanism(sock), ZMQ_NULL);
    zsock_destroy(&sock);
}

static void
test_configuration_errors_fail_closed(void **state)
{
    zsock_t *sock = zsock_new(ZMQ_DEALER);

    /* Not a folder: setup and every socket refuse. */
    assert_int_equal(curve_setup("/nonexistent/creance-curve", NULL), -1);
    assert_true(curve_enabled());
    assert_non_null(strstr(curve_error(), "/nonexistent/creance-curve"));
    assert_int_equal(curve_client(sock), -1);
    assert_int_equal(curve_server(sock, "test"), -1);

    /* A client without its own certificate. */
    assert_int_equal(curve_setup(s_dir, ""), 0);
    assert_int_equal(curve_client(sock), -1);
    assert_non_null(strstr(curve_error(), "CREANCE_CURVE_CERT"));

    /* A certificate whose secret half is missing. */
    char pub[512];
    snprintf(pub, sizeof pub, "%s", s_path("lonely.key"));
    zcert_t *cert = zcert_new();
    assert_int_equal(zcert_save_public(cert, pub), 0);
    zcert_destroy(&cert);
    assert_int_equal(curve_setup(s_dir, pub), 0);
    assert_int_equal(curve_client(sock), -1);
    assert_non_null(strstr(curve_error(), "lonely.key_secret"));

    /* A certificate that does not exist. */
    assert_int_equal(curve_setup(s_dir, s_path("certs/absent.key")), 0);
    assert_int_equal(curve_client(sock), -1);
    assert_non_null(strstr(curve_error(), "absent.key"));
    assert_int_equal(zsock_mechanism(sock), ZMQ_NULL);
    zsock_destroy(&sock);
    curve_shutdown();
}

static void
test_secret_file_name_is_accepted(void **state)
{
    zsock_t *sock = zsock_new(ZMQ_DEALER);
    assert_int_equal(curve_setup(s_dir, s_path("certs/good.key_secret")), 0);
    assert_int_equal(curve_client(sock), 0);
    assert_int_equal(zsock_mechanism(sock), ZMQ_CURVE);
    zsock_destroy(&sock);
    curve_shutdown();
}

/*  A client socket with the certificate `name` under certs/. */
static zsock_t *
s_client(const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/certs/%s.key", s_dir, name);
    assert_int_equal(curve_setup(s_dir, path), 0);
    zsock_t *sock = zsock_new(ZMQ_DEALER);
    zsock_set_linger(sock, 0);
    assert_int_equal(curve_client(sock), 0);
    return sock;
}

static double
s_refused(const char *reason)
{
    char labels[128];
    snprintf(labels, sizeof labels, "socket=\"test\",reason=\"%s\"", reason);
    return metric_value(metrics_counter("creance_curve_refused_total",
                                        "connections refused by CURVE authentication", labels));
}

static void
test_allowed_answered_unknown_refused(void **state)
{
    /* Clients first: curve_setup replaces the process's settings, and a
       socket keeps what was applied to it. */
    zsock_t *good = s_client("good");
    zsock_t *bad = s_client("bad");
    /* The server side of the process. */
    assert_int_equal(curve_setup(s_dir, NULL), 0);
    zsock_t *server = zsock_new(ZMQ_ROUTER);
    zsock_set_linger(server, 0);
    assert_int_equal(curve_server(server, "test"), 0);
    assert_int_equal(zsock_mechanism(server), ZMQ_CURVE);
    int port = zsock_bind(server, "tcp://127.0.0.1:*");
    assert_true(port > 0);
    char endpoint[64];
    snprintf(endpoint, sizeof endpoint, "tcp://127.0.0.1:%d", port);
    double before = s_refused("key_not_allowed");

    assert_int_equal(zsock_connect(good, "%s", endpoint), 0);
    assert_int_equal(zsock_connect(bad, "%s", endpoint), 0);
    zstr_send(good, "hello from good");
    zstr_send(bad, "hello from bad");

    zpoller_t *poller = zpoller_new(server, NULL);
    int got_good = 0, got_bad = 0;
    /* Bounded wait for the good message and the refusal of the bad key. */
    for (int i = 0; i < 100 && !(got_good && s_refused("key_not_allowed") > before); i++) {
        if (zpoller_wait(poller, 50) == server) {
            zmsg_t *msg = zmsg_recv(server);
            zmsg_first(msg);
            char *text = zframe_strdup(zmsg_next(msg));
            got_good += strcmp(text, "hello from good") == 0;
            got_bad += strcmp(text, "hello from bad") == 0;
            free(text);
            zmsg_destroy(&msg);
        }
        curve_poll();
    }
    assert_int_equal(got_good, 1);
    assert_int_equal(got_bad, 0);
    assert_true(s_refused("key_not_allowed") >= before + 1);
    /* And nothing from the refused client arrived meanwhile either. */
    assert_null(zpoller_wait(poller, 200));

    zpoller_destroy(&poller);
    zsock_destroy(&good);
    zsock_destroy(&bad);
    zsock_destroy(&server);
    curve_shutdown();
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_off_by_default),
        cmocka_unit_test(test_configuration_errors_fail_closed),
        cmocka_unit_test(test_secret_file_name_is_accepted),
        cmocka_unit_test(test_allowed_answered_unknown_refused),
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
