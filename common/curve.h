/*  curve: CURVE encryption and client authentication on the ZeroMQ sockets
    between services (broker XSUB/XPUB, intake's and risk's ROUTERs, and
    every socket that connects to them).

    Configuration, for the whole process:
      CREANCE_CURVE_DIR   empty: no CURVE (plain TCP, for development only).
                          Otherwise a folder holding
                            server.key         the servers' public certificate
                                               (all a client needs from it)
                            server.key_secret  its secret half (servers only)
                            authorized/        the public certificates
                                               (NAME.key) of the clients
                                               allowed to connect
      CREANCE_CURVE_CERT  this process's own client certificate NAME.key
                          (the secret half is read from NAME.key_secret);
                          needed by every process that connects.
    Certificates are CZMQ zcert files (`creance admin keys generate`).
    Both are read at start (SIGHUP does not change them); the certificates
    are loaded when the first socket needs them.

    A bound socket (curve_server) answers only clients whose public key is
    in authorized/; the folder is read again when it changes, so adding or
    removing a client needs no restart. A refused client connects, then
    gets nothing: its handshake fails. Each refusal is logged ("curve
    refused ...") and counted in creance_curve_refused_total{socket,reason}:
    reason key_not_allowed (ZAP said no: a key not in authorized/), or
    handshake_failed (the peer left mid-handshake: no CURVE at all, a wrong
    server key, or a bare TCP probe), not_curve, bad_handshake, protocol.

    Anything missing or unreadable fails closed: curve_server and
    curve_client return -1 and log why, so the service does not start
    rather than run without CURVE. */
#ifndef CREANCE_CURVE_H
#define CREANCE_CURVE_H

#include <czmq.h>
#include <stdbool.h>

/*  Records the process's settings (an empty or NULL `dir` turns CURVE
    off). Returns -1 when `dir` is set but is not a folder; the socket
    calls below then fail too. Calling it again replaces the settings. */
int         curve_setup(const char *dir, const char *cert);
/*  curve_setup from CREANCE_CURVE_DIR and CREANCE_CURVE_CERT, for the
    programs that have no config table (the CLI, the simulator). */
int         curve_setup_env(void);
bool        curve_enabled(void);
/*  Why the last call failed (for programs that print rather than log). */
const char *curve_error(void);

/*  Before bind: CURVE server with the servers' certificate, clients
    checked against authorized/ (starts the authentication actor once),
    refusals watched under the name `what` (a metric label). 0 when CURVE
    is off. */
int         curve_server(zsock_t *sock, const char *what);
/*  Before connect: this process's certificate and the server's public
    key. 0 when CURVE is off. */
int         curve_client(zsock_t *sock);

/*  Adds the refusal watchers of every curve_server socket so far to the
    service's loop (service_run does it). */
int         curve_watch(zloop_t *loop);
/*  Reads the refusal events waiting, logs and counts them; returns how
    many were refusals. curve_watch's readers call it; tests may too. */
int         curve_poll(void);
/*  Stops the authentication actor and the watchers; settings are
    forgotten (CURVE off). */
void        curve_shutdown(void);

#endif
