/*  curve: CURVE on the sockets between services (see curve.h). */
#include "curve.h"
#include "log.h"
#include "metrics.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/*  Server sockets per process: the broker has two, intake and risk one. */
#define CURVE_MAX_WATCHED 8

typedef struct {
    zsock_t *monitor;           /* PAIR reading the server socket's events */
    char what[48];              /* metric label: "broker_publishers", ... */
} curve_watch_t;

/*  Process-wide, like the ZeroMQ context the sockets share: CZMQ's
    authentication handler (ZAP) serves every socket of the context. */
static struct {
    bool on;
    bool broken;                /* set up with a bad folder: fail closed */
    char dir[1024];
    char cert[1024];
    zcert_t *server;            /* server.key (+ secret when serving) */
    bool server_secret;
    zcert_t *client;
    zactor_t *auth;
    curve_watch_t watched[CURVE_MAX_WATCHED];
    int nwatched;
    int monitors;               /* inproc names, unique per process */
    char error[1200];
} s_curve;

static int
s_fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s_curve.error, sizeof s_curve.error, fmt, ap);
    va_end(ap);
    log_error("curve: %s", s_curve.error);
    return -1;
}

static bool
s_is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static bool
s_is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/*  A certificate whose secret half did not load has an all-zero key. */
static bool
s_has_secret(zcert_t *cert)
{
    const byte *key = zcert_secret_key(cert);
    for (int i = 0; i < 32; i++)
        if (key[i])
            return true;
    return false;
}

/*  Loads NAME.key and, when `secret`, NAME.key_secret; NULL with the
    reason recorded. `path` may name either file. */
static zcert_t *
s_load(const char *path, bool secret, const char *what)
{
    char pub[1100];
    snprintf(pub, sizeof pub, "%s", path);
    size_t n = strlen(pub);
    if (n > 7 && strcmp(pub + n - 7, "_secret") == 0)
        pub[n - 7] = 0;
    char sec[1120];
    snprintf(sec, sizeof sec, "%s_secret", pub);
    if (!s_is_file(pub)) {
        s_fail("%s certificate %s not found", what, pub);
        return NULL;
    }
    if (secret && !s_is_file(sec)) {
        s_fail("%s secret certificate %s not found", what, sec);
        return NULL;
    }
    zcert_t *cert = zcert_load(pub);
    if (!cert) {
        s_fail("%s certificate %s is not a readable certificate", what, pub);
        return NULL;
    }
    if (secret && !s_has_secret(cert)) {
        zcert_destroy(&cert);
        s_fail("%s secret certificate %s holds no secret key", what, sec);
        return NULL;
    }
    return cert;
}

int
curve_setup(const char *dir, const char *cert)
{
    curve_shutdown();
    if (!dir || !*dir)
        return 0;
    s_curve.on = true;
    snprintf(s_curve.dir, sizeof s_curve.dir, "%s", dir);
    snprintf(s_curve.cert, sizeof s_curve.cert, "%s", cert ? cert : "");
    if (!s_is_dir(dir)) {
        s_curve.broken = true;
        return s_fail("CREANCE_CURVE_DIR=%s is not a folder", dir);
    }
    return 0;
}

int
curve_setup_env(void)
{
    return curve_setup(getenv("CREANCE_CURVE_DIR"), getenv("CREANCE_CURVE_CERT"));
}

bool
curve_enabled(void)
{
    return s_curve.on;
}

const char *
curve_error(void)
{
    return s_curve.error;
}

/*  The servers' certificate: public half for clients, both for servers. */
static zcert_t *
s_server_cert(bool secret)
{
    if (s_curve.server && (s_curve.server_secret || !secret))
        return s_curve.server;
    zcert_destroy(&s_curve.server);
    char path[1100];
    snprintf(path, sizeof path, "%s/server.key", s_curve.dir);
    s_curve.server = s_load(path, secret, "server");
    s_curve.server_secret = secret;
    return s_curve.server;
}

int
curve_client(zsock_t *sock)
{
    if (!s_curve.on)
        return 0;
    if (s_curve.broken)
        return s_fail("not connecting: CREANCE_CURVE_DIR=%s is not a folder", s_curve.dir);
    if (!s_curve.client) {
        if (!*s_curve.cert)
            return s_fail("CREANCE_CURVE_DIR is set but CREANCE_CURVE_CERT is not: a client "
                          "needs its own certificate (creance admin keys generate NAME)");
        s_curve.client = s_load(s_curve.cert, true, "client (CREANCE_CURVE_CERT)");
        if (!s_curve.client)
            return -1;
    }
    zcert_t *server = s_server_cert(false);
    if (!server)
        return -1;
    zcert_apply(s_curve.client, sock);
    zsock_set_curve_serverkey(sock, zcert_public_txt(server));
    return 0;
}

/*  The ZAP handler lives in an actor (a thread): it is library
    infrastructure, like libzmq's own I/O thread, and answers libzmq's
    authentication requests without touching any service state. Each
    service still runs its one zloop; refusals reach that loop through the
    socket monitors below. */
static int
s_auth_start(void)
{
    if (s_curve.auth)
        return 0;
    char authorized[1100];
    snprintf(authorized, sizeof authorized, "%s/authorized", s_curve.dir);
    if (!s_is_dir(authorized))
        return s_fail("%s is not a folder: it must hold the public certificates of the "
                      "allowed clients (it may be empty)", authorized);
    s_curve.auth = zactor_new(zauth, NULL);
    if (!s_curve.auth)
        return s_fail("cannot start the authentication handler");
    zstr_sendx(s_curve.auth, "CURVE", authorized, NULL);
    zsock_wait(s_curve.auth);
    log_info("curve on: clients allowed from %s", authorized);
    return 0;
}

int
curve_server(zsock_t *sock, const char *what)
{
    if (!s_curve.on)
        return 0;
    if (s_curve.broken)
        return s_fail("not serving %s: CREANCE_CURVE_DIR=%s is not a folder", what, s_curve.dir);
    zcert_t *server = s_server_cert(true);
    if (!server || s_auth_start() != 0)
        return -1;
    if (s_curve.nwatched == CURVE_MAX_WATCHED)
        return s_fail("more than %d server sockets", CURVE_MAX_WATCHED);
    zcert_apply(server, sock);
    zsock_set_curve_server(sock, 1);
    zsock_set_zap_domain(sock, "creance");

    /* Handshake failures as monitor events: the ZAP refusal (a key not in
       authorized/), a client without CURVE, a client with a wrong server
       key. The PAIR is connected at once so no event is lost before the
       loop runs. */
    char endpoint[64];
    snprintf(endpoint, sizeof endpoint, "inproc://creance-curve-monitor-%d", s_curve.monitors++);
    if (zmq_socket_monitor(zsock_resolve(sock), endpoint,
                           ZMQ_EVENT_HANDSHAKE_FAILED_AUTH | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL
                           | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL) != 0)
        return s_fail("cannot watch %s: %s", what, zmq_strerror(zmq_errno()));
    zsock_t *monitor = zsock_new(ZMQ_PAIR);
    if (!monitor || zsock_connect(monitor, "%s", endpoint) != 0) {
        zsock_destroy(&monitor);
        return s_fail("cannot watch %s: monitor connection failed", what);
    }
    curve_watch_t *w = &s_curve.watched[s_curve.nwatched++];
    w->monitor = monitor;
    snprintf(w->what, sizeof w->what, "%s", what);
    log_info("curve server socket=%s server_key=%s", what, zcert_public_txt(server));
    return 0;
}

static const char *
s_reason(uint16_t event, uint32_t value)
{
    if (event == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH)
        return value == 400 ? "key_not_allowed" : "auth_failed";
    if (event == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL) {
        if (value == ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH)
            return "not_curve";
        if (value == ZMQ_PROTOCOL_ERROR_ZMTP_CRYPTOGRAPHIC)
            return "bad_handshake";
        return "protocol";
    }
    /* The peer went away mid-handshake: a client without CURVE (libzmq
       4.3 reports no mismatch then, only the disconnection), one with a
       wrong server key, or a bare TCP probe. */
    return "handshake_failed";
}

/*  One event: [uint16 event, uint32 value][endpoint]. */
static int
s_read_event(curve_watch_t *w)
{
    void *s = zsock_resolve(w->monitor);
    zmq_msg_t head;
    zmq_msg_init(&head);
    if (zmq_msg_recv(&head, s, ZMQ_DONTWAIT) < 0) {
        zmq_msg_close(&head);
        return -1;
    }
    uint16_t event = 0;
    uint32_t value = 0;
    if (zmq_msg_size(&head) >= 6) {
        memcpy(&event, zmq_msg_data(&head), 2);
        memcpy(&value, (char *) zmq_msg_data(&head) + 2, 4);
    }
    char endpoint[256] = "";
    while (zmq_msg_more(&head)) {
        zmq_msg_close(&head);
        zmq_msg_init(&head);
        if (zmq_msg_recv(&head, s, 0) < 0)
            break;
        snprintf(endpoint, sizeof endpoint, "%.*s", (int) zmq_msg_size(&head),
                 (char *) zmq_msg_data(&head));
    }
    zmq_msg_close(&head);
    if (!(event & (ZMQ_EVENT_HANDSHAKE_FAILED_AUTH | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL
                   | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL)))
        return 0;                       /* MONITOR_STOPPED at close */
    const char *reason = s_reason(event, value);
    /* A known peer with a bad key is worth a warning; a connection that
       never finished its handshake (port probes too) only a note. */
    log_write(event == ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL ? LOGL_INFO : LOGL_WARN,
              "curve refused socket=%s endpoint=%s reason=%s code=0x%x", w->what, endpoint,
              reason, value);
    char labels[128];
    snprintf(labels, sizeof labels, "socket=\"%s\",reason=\"%s\"", w->what, reason);
    metric_inc(metrics_counter("creance_curve_refused_total",
                               "connections refused by CURVE authentication", labels));
    return 1;
}

int
curve_poll(void)
{
    int refused = 0;
    for (int i = 0; i < s_curve.nwatched; i++)
        for (int k = 0; k < 1000; k++) {
            int rc = s_read_event(&s_curve.watched[i]);
            if (rc < 0)
                break;
            refused += rc;
        }
    return refused;
}

static int
s_on_monitor(zloop_t *loop, zsock_t *reader, void *arg)
{
    curve_poll();
    return 0;
}

int
curve_watch(zloop_t *loop)
{
    for (int i = 0; i < s_curve.nwatched; i++)
        if (zloop_reader(loop, s_curve.watched[i].monitor, s_on_monitor, NULL) != 0)
            return -1;
    return 0;
}

void
curve_shutdown(void)
{
    for (int i = 0; i < s_curve.nwatched; i++)
        zsock_destroy(&s_curve.watched[i].monitor);
    zactor_destroy(&s_curve.auth);
    zcert_destroy(&s_curve.server);
    zcert_destroy(&s_curve.client);
    int monitors = s_curve.monitors;
    memset(&s_curve, 0, sizeof s_curve);
    s_curve.monitors = monitors;
}
