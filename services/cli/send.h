/*  send: the rows of an import sent to intake as IntakeBatch messages over
    a DEALER socket (REQ envelope: ["", batch] out, ["", IntakeReply] back),
    several batches in flight, replies matched by batch_id, each result
    mapped back to its row. Also a one-shot request/reply helper for the
    other ZeroMQ services (risk). */
#ifndef CLI_SEND_H
#define CLI_SEND_H

#include "cli.h"
#include "creance.pb-c.h"
#include "import.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    const char *endpoint;
    const char *tenant;
    const char *source;
    int timeout_s;              /* no reply for this long: give up */
    size_t batch;               /* rows per batch */
    size_t window;              /* batches in flight */
    bool all_or_nothing;        /* one batch, IntakeBatch.all_or_nothing */
    /* Called after each reply with the rows answered so far. */
    void (*progress)(void *arg, size_t done, size_t total);
    void *progress_arg;
} import_send_opts_t;

typedef enum { ROW_UNSENT = 0, ROW_ACCEPTED, ROW_DUPLICATE, ROW_REJECTED } import_row_status_t;

typedef struct {
    import_row_status_t status;
    char *field;                /* on rejection, as intake named it (owned) */
    char *reason;               /* on rejection (owned) */
} import_row_result_t;

typedef struct {
    size_t accepted, duplicate, rejected, unsent;
    import_row_result_t *rows;  /* one per import row */
    size_t nrows;
    bool unreachable;           /* no reply within the timeout */
    char error[600];            /* whole-batch refusal or transport failure; "" if none */
} import_outcome_t;

/*  Sends every row of `imp`. o->endpoint may list several intakes,
    comma-separated in partition order: each row goes to the one of its
    debtor (import_route), in file order, one socket each. Returns 0 when every batch was answered
    (whatever the items' statuses), -1 otherwise with out->error set. */
int import_send(const import_t *imp, const import_send_opts_t *o, import_outcome_t *out);
void import_outcome_free(import_outcome_t *out);

/*  The intake that records `item`: `list` is CREANCE_INTAKE_ENDPOINT, one
    endpoint or the partitioned intakes in partition order, comma-separated
    (common/intakeroute.h); the chosen one is copied to `out`. False with
    `error` set when the list is malformed. */
bool cli_intake_endpoint(const char *list, const char *tenant, const Creance__IntakeItem *item,
                         char *out, size_t out_len, char *error, size_t error_len);

/*  One request, one reply on a fresh DEALER (linger 0). Returns 0 with the
    reply (caller frees with free()), -1 with `error` set on a timeout or a
    malformed reply. */
int cli_zmq_call(const char *endpoint, const uint8_t *req, size_t req_len, int timeout_s,
                 uint8_t **reply, size_t *reply_len, char *error, size_t error_len);

/*  One query to risk (CREANCE_RISK_ENDPOINT) expecting a DebtorRisk or a
    CreditAnswer (`want`). Returns CLI_OK with *reply (free with
    creance__query_reply__free_unpacked), or the exit status after printing
    why: risk unreachable, an answer of another kind, or risk's refusal. */
int cli_risk_query(const cli_t *cli, const Creance__Query *q,
                   Creance__QueryReply__ReplyCase want, Creance__QueryReply **reply);

#endif
