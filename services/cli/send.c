/*  send: rows of an import to intake, pipelined (see send.h). */
#include "send.h"

#include "creance.pb-c.h"
#include "curve.h"

#include <czmq.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    bool used;
    char batch_id[80];
    size_t first, count;
} slot_t;

static zsock_t *
s_dealer(const char *endpoint, char *error, size_t error_len)
{
    /* A command-line tool: ^C must stop it at once, not be swallowed by
       CZMQ's handler. */
    zsys_handler_set(NULL);
    zsock_t *sock = zsock_new(ZMQ_DEALER);
    if (!sock) {
        snprintf(error, error_len, "cannot create a ZeroMQ socket");
        return NULL;
    }
    zsock_set_linger(sock, 0);
    zsock_set_sndhwm(sock, 0);
    zsock_set_rcvhwm(sock, 0);
    zsock_set_rcvtimeo(sock, 200);
    /* CURVE when CREANCE_CURVE_DIR is set: CREANCE_CURVE_CERT is ours. */
    if (curve_setup_env() != 0 || curve_client(sock) != 0) {
        snprintf(error, error_len, "CURVE: %s", curve_error());
        zsock_destroy(&sock);
        return NULL;
    }
    if (zsock_connect(sock, "%s", endpoint) != 0) {
        snprintf(error, error_len, "cannot connect to '%s': %s", endpoint,
                 zmq_strerror(zmq_errno()));
        zsock_destroy(&sock);
        return NULL;
    }
    return sock;
}

static int
s_send(zsock_t *sock, const uint8_t *data, size_t len)
{
    zmsg_t *msg = zmsg_new();
    zmsg_addmem(msg, "", 0);
    zmsg_addmem(msg, data, len);
    return zmsg_send(&msg, sock);
}

/*  The payload of a ["", payload] reply, or NULL. */
static zframe_t *
s_payload(zmsg_t *msg)
{
    if (zmsg_size(msg) != 2)
        return NULL;
    zframe_t *empty = zmsg_first(msg);
    if (zframe_size(empty) != 0)
        return NULL;
    return zmsg_next(msg);
}

static char *
s_dup(const char *s)
{
    return strdup(s ? s : "");
}

int
import_send(const import_t *imp, const import_send_opts_t *o, import_outcome_t *out)
{
    memset(out, 0, sizeof *out);
    size_t total = imp->nrows;
    out->rows = calloc(total ? total : 1, sizeof *out->rows);
    if (!out->rows) {
        snprintf(out->error, sizeof out->error, "out of memory");
        return -1;
    }
    out->nrows = total;
    if (total == 0)
        return 0;
    zsock_t *sock = s_dealer(o->endpoint, out->error, sizeof out->error);
    if (!sock) {
        out->unsent = total;
        return -1;
    }
    size_t batch = o->all_or_nothing ? total : (o->batch ? o->batch : 500);
    size_t window = o->window ? o->window : 8;
    slot_t *slots = calloc(window, sizeof *slots);
    zuuid_t *uuid = zuuid_new();
    size_t next = 0, inflight = 0, answered = 0, number = 0;
    bool stop = false, any_reply = false;
    int64_t last_reply = zclock_mono();
    int rc = 0;

    while ((next < total && !stop) || inflight > 0) {
        while (next < total && inflight < window && !stop) {
            slot_t *slot = NULL;
            for (size_t i = 0; i < window && !slot; i++)
                if (!slots[i].used)
                    slot = &slots[i];
            size_t count = total - next < batch ? total - next : batch;
            snprintf(slot->batch_id, sizeof slot->batch_id, "csv-%s-%zu", zuuid_str_canonical(uuid),
                     ++number);
            uint8_t *data;
            size_t len;
            if (!import_pack_batch(imp, next, count, o->tenant, o->source, slot->batch_id,
                                   o->all_or_nothing, &data, &len)) {
                snprintf(out->error, sizeof out->error, "out of memory");
                rc = -1;
                goto done;
            }
            int sent = s_send(sock, data, len);
            free(data);
            if (sent != 0) {
                snprintf(out->error, sizeof out->error, "cannot send to intake at %s: %s",
                         o->endpoint, zmq_strerror(zmq_errno()));
                rc = -1;
                goto done;
            }
            if (inflight == 0)
                last_reply = zclock_mono();     /* the clock runs while we wait */
            slot->used = true;
            slot->first = next;
            slot->count = count;
            next += count;
            inflight++;
        }
        zmsg_t *msg = zmsg_recv(sock);
        if (!msg) {
            if (zclock_mono() - last_reply > (int64_t) o->timeout_s * 1000) {
                out->unreachable = true;
                if (!any_reply)
                    snprintf(out->error, sizeof out->error,
                             "intake unreachable at %s: no reply within %d s", o->endpoint,
                             o->timeout_s);
                else
                    snprintf(out->error, sizeof out->error,
                             "intake at %s stopped answering: no reply within %d s",
                             o->endpoint, o->timeout_s);
                rc = -1;
                goto done;
            }
            continue;
        }
        last_reply = zclock_mono();
        any_reply = true;
        zframe_t *payload = s_payload(msg);
        Creance__IntakeReply *r = payload
            ? creance__intake_reply__unpack(NULL, zframe_size(payload), zframe_data(payload))
            : NULL;
        zmsg_destroy(&msg);
        if (!r)
            continue;                           /* not an answer of ours */
        slot_t *slot = NULL;
        for (size_t i = 0; i < window && !slot; i++)
            if (slots[i].used && strcmp(slots[i].batch_id, r->batch_id) == 0)
                slot = &slots[i];
        if (!slot) {
            creance__intake_reply__free_unpacked(r, NULL);
            continue;
        }
        if (r->error && *r->error) {
            /* Bad tenant, intake unavailable...: the next batches would fare
               no better. */
            if (!*out->error)
                snprintf(out->error, sizeof out->error, "intake refused the batch of lines "
                         "%zu to %zu: %s", imp->rows[slot->first].line,
                         imp->rows[slot->first + slot->count - 1].line, r->error);
            stop = true;
            rc = -1;
        }
        else {
            for (size_t i = 0; i < r->n_results; i++) {
                const Creance__ItemResult *x = r->results[i];
                if (x->index < 0 || (size_t) x->index >= slot->count)
                    continue;
                import_row_result_t *row = &out->rows[slot->first + (size_t) x->index];
                if (row->status != ROW_UNSENT)
                    continue;
                switch (x->status) {
                case CREANCE__ITEM_STATUS__ACCEPTED:  row->status = ROW_ACCEPTED; break;
                case CREANCE__ITEM_STATUS__DUPLICATE: row->status = ROW_DUPLICATE; break;
                default:
                    row->status = ROW_REJECTED;
                    row->field = s_dup(x->field);
                    row->reason = s_dup(x->status == CREANCE__ITEM_STATUS__REJECTED
                                        ? x->reason : "intake gave no status for the line");
                    break;
                }
            }
        }
        answered += slot->count;
        creance__intake_reply__free_unpacked(r, NULL);
        slot->used = false;
        inflight--;
        if (o->progress)
            o->progress(o->progress_arg, answered, total);
    }

done:
    for (size_t i = 0; i < total; i++)
        switch (out->rows[i].status) {
        case ROW_ACCEPTED:  out->accepted++; break;
        case ROW_DUPLICATE: out->duplicate++; break;
        case ROW_REJECTED:  out->rejected++; break;
        default:            out->unsent++; break;
        }
    zuuid_destroy(&uuid);
    free(slots);
    zsock_destroy(&sock);
    return rc;
}

void
import_outcome_free(import_outcome_t *out)
{
    if (!out->rows)
        return;
    for (size_t i = 0; i < out->nrows; i++) {
        free(out->rows[i].field);
        free(out->rows[i].reason);
    }
    free(out->rows);
    out->rows = NULL;
}

int
cli_zmq_call(const char *endpoint, const uint8_t *req, size_t req_len, int timeout_s,
             uint8_t **reply, size_t *reply_len, char *error, size_t error_len)
{
    *reply = NULL;
    *reply_len = 0;
    zsock_t *sock = s_dealer(endpoint, error, error_len);
    if (!sock)
        return -1;
    int rc = -1;
    if (s_send(sock, req, req_len) != 0) {
        snprintf(error, error_len, "cannot send to %s: %s", endpoint, zmq_strerror(zmq_errno()));
        goto done;
    }
    int64_t start = zclock_mono();
    for (;;) {
        zmsg_t *msg = zmsg_recv(sock);
        if (!msg) {
            if (zclock_mono() - start > (int64_t) timeout_s * 1000) {
                snprintf(error, error_len, "no reply within %d s", timeout_s);
                goto done;
            }
            continue;
        }
        zframe_t *payload = s_payload(msg);
        if (!payload) {
            zmsg_destroy(&msg);
            snprintf(error, error_len, "malformed reply (expected an empty frame then the answer)");
            goto done;
        }
        *reply_len = zframe_size(payload);
        *reply = malloc(*reply_len ? *reply_len : 1);
        memcpy(*reply, zframe_data(payload), *reply_len);
        zmsg_destroy(&msg);
        rc = 0;
        break;
    }
done:
    zsock_destroy(&sock);
    return rc;
}

int
cli_risk_query(const cli_t *cli, const Creance__Query *q,
               Creance__QueryReply__ReplyCase want, Creance__QueryReply **reply)
{
    *reply = NULL;
    const char *want_name = want == CREANCE__QUERY_REPLY__REPLY_DEBTOR_RISK ? "DebtorRisk"
                                                                          : "CreditAnswer";
    size_t len = creance__query__get_packed_size(q);
    uint8_t *req = malloc(len ? len : 1);
    creance__query__pack(q, req);
    const char *endpoint = cli_env("CREANCE_RISK_ENDPOINT", "tcp://127.0.0.1:5570");
    uint8_t *data;
    size_t data_len;
    char error[256];
    int rc = cli_zmq_call(endpoint, req, len, cli->timeout_s, &data, &data_len, error,
                          sizeof error);
    free(req);
    if (rc != 0)
        return cli_fail(cli, "risk unreachable at %s: %s", endpoint, error);
    Creance__QueryReply *r = creance__query_reply__unpack(NULL, data_len, data);
    free(data);
    if (!r || r->reply_case != want) {
        if (r)
            creance__query_reply__free_unpacked(r, NULL);
        return cli_fail(cli, "risk at %s gave an answer that is not a %s", endpoint, want_name);
    }
    const char *refused = want == CREANCE__QUERY_REPLY__REPLY_DEBTOR_RISK ? r->debtor_risk->error
                                                                        : r->credit_answer->error;
    if (refused && *refused) {
        rc = cli_fail(cli, "risk refused the query: %s", refused);
        creance__query_reply__free_unpacked(r, NULL);
        return rc;
    }
    *reply = r;
    return CLI_OK;
}
