/*  send: rows of an import to intake, pipelined (see send.h). */
#include "send.h"

#include "creance.pb-c.h"
#include "curve.h"
#include "intakeroute.h"

#include <czmq.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    bool used;
    char batch_id[80];
    size_t first, count;        /* of the instance's rows (see inst_t.rows) */
} slot_t;

/*  One intake of the endpoint list: its socket, its share of the rows (in
    file order) and its batches in flight. */
typedef struct {
    const char *endpoint;
    zsock_t *sock;
    size_t *rows;               /* NULL: every row (one endpoint) */
    size_t nrows, next, inflight;
    slot_t *slots;
    int64_t last_reply;
    bool any_reply;
} inst_t;

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

static size_t
s_row(const inst_t *in, size_t k)
{
    return in->rows ? in->rows[k] : k;
}

/*  Splits the rows between the endpoints (import_route); with one endpoint
    nothing is computed: it gets every row. */
static int
s_plan(const import_t *imp, const import_send_opts_t *o, inst_t *inst, size_t n,
       import_outcome_t *out)
{
    size_t total = imp->nrows;
    if (n == 1) {
        inst[0].nrows = total;
        return 0;
    }
    uint32_t *where = malloc(total * sizeof *where);
    if (!where || !import_route(imp, o->tenant, (uint32_t) n, where)) {
        free(where);
        snprintf(out->error, sizeof out->error, "cannot route the lines to %zu intakes", n);
        return -1;
    }
    for (size_t i = 0; i < total; i++)
        inst[where[i]].nrows++;
    size_t used = 0;
    for (size_t k = 0; k < n; k++) {
        used += inst[k].nrows > 0;
        inst[k].rows = malloc((inst[k].nrows ? inst[k].nrows : 1) * sizeof *inst[k].rows);
        if (!inst[k].rows) {
            free(where);
            snprintf(out->error, sizeof out->error, "out of memory");
            return -1;
        }
        inst[k].nrows = 0;
    }
    for (size_t i = 0; i < total; i++) {
        inst_t *in = &inst[where[i]];
        in->rows[in->nrows++] = i;
    }
    free(where);
    if (o->all_or_nothing && used > 1) {
        /* One intake applies all_or_nothing to its batch; nothing spans two. */
        snprintf(out->error, sizeof out->error, "--all-or-nothing: the lines belong to %zu of "
                 "the %zu intake partitions, and one all-or-nothing batch goes to one intake; "
                 "split the file by partition or import without --all-or-nothing; nothing sent",
                 used, n);
        return -1;
    }
    return 0;
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
    /* CREANCE_INTAKE_ENDPOINT may list the partitioned intakes in order:
       each line goes to the one of its debtor (common/intakeroute.h). */
    char **endpoints = NULL;
    size_t n = 0;
    char why[400];
    if (!intakeroute_endpoints(o->endpoint, &endpoints, &n, why, sizeof why)) {
        snprintf(out->error, sizeof out->error, "CREANCE_INTAKE_ENDPOINT: %s", why);
        out->unsent = total;
        return -1;
    }
    size_t batch = o->all_or_nothing ? total : (o->batch ? o->batch : 500);
    size_t window = o->window ? o->window : 8;
    inst_t *inst = calloc(n, sizeof *inst);
    zmq_pollitem_t *polls = calloc(n, sizeof *polls);
    zuuid_t *uuid = zuuid_new();
    size_t inflight = 0, answered = 0, number = 0;
    bool stop = false;
    int rc = 0;
    if (!inst || !polls) {
        snprintf(out->error, sizeof out->error, "out of memory");
        rc = -1;
        goto done;
    }
    for (size_t k = 0; k < n; k++) {
        inst[k].endpoint = endpoints[k];
        inst[k].slots = calloc(window, sizeof *inst[k].slots);
        if (!inst[k].slots) {
            snprintf(out->error, sizeof out->error, "out of memory");
            rc = -1;
            goto done;
        }
    }
    if (s_plan(imp, o, inst, n, out) != 0) {
        rc = -1;
        goto done;
    }
    /* Every connection as the one before: CURVE with this client's key. */
    for (size_t k = 0; k < n; k++) {
        inst[k].sock = s_dealer(inst[k].endpoint, out->error, sizeof out->error);
        if (!inst[k].sock) {
            rc = -1;
            goto done;
        }
        polls[k] = (zmq_pollitem_t) { .socket = zsock_resolve(inst[k].sock), .events = ZMQ_POLLIN };
    }

    for (;;) {
        for (size_t k = 0; k < n && !stop; k++) {
            inst_t *in = &inst[k];
            while (in->next < in->nrows && in->inflight < window && !stop) {
                slot_t *slot = NULL;
                for (size_t i = 0; i < window && !slot; i++)
                    if (!in->slots[i].used)
                        slot = &in->slots[i];
                size_t count = in->nrows - in->next < batch ? in->nrows - in->next : batch;
                snprintf(slot->batch_id, sizeof slot->batch_id, "csv-%s-%zu",
                         zuuid_str_canonical(uuid), ++number);
                uint8_t *data;
                size_t len;
                bool packed = in->rows
                    ? import_pack_rows(imp, in->rows + in->next, count, o->tenant, o->source,
                                       slot->batch_id, o->all_or_nothing, &data, &len)
                    : import_pack_batch(imp, in->next, count, o->tenant, o->source,
                                        slot->batch_id, o->all_or_nothing, &data, &len);
                if (!packed) {
                    snprintf(out->error, sizeof out->error, "out of memory");
                    rc = -1;
                    goto done;
                }
                int sent = s_send(in->sock, data, len);
                free(data);
                if (sent != 0) {
                    snprintf(out->error, sizeof out->error, "cannot send to intake at %s: %s",
                             in->endpoint, zmq_strerror(zmq_errno()));
                    rc = -1;
                    goto done;
                }
                if (in->inflight == 0)
                    in->last_reply = zclock_mono();     /* the clock runs while we wait */
                slot->used = true;
                slot->first = in->next;
                slot->count = count;
                in->next += count;
                in->inflight++;
                inflight++;
            }
        }
        if (inflight == 0)
            break;
        if (zmq_poll(polls, (int) n, 200) < 0 && zmq_errno() != EINTR) {
            snprintf(out->error, sizeof out->error, "cannot wait for intake: %s",
                     zmq_strerror(zmq_errno()));
            rc = -1;
            goto done;
        }
        for (size_t k = 0; k < n; k++) {
            inst_t *in = &inst[k];
            if (!(polls[k].revents & ZMQ_POLLIN)) {
                if (in->inflight > 0
                    && zclock_mono() - in->last_reply > (int64_t) o->timeout_s * 1000) {
                    out->unreachable = true;
                    if (!in->any_reply)
                        snprintf(out->error, sizeof out->error,
                                 "intake unreachable at %s: no reply within %d s", in->endpoint,
                                 o->timeout_s);
                    else
                        snprintf(out->error, sizeof out->error,
                                 "intake at %s stopped answering: no reply within %d s",
                                 in->endpoint, o->timeout_s);
                    rc = -1;
                    goto done;
                }
                continue;
            }
            zmsg_t *msg = zmsg_recv(in->sock);      /* ready: does not wait */
            if (!msg)
                continue;
            in->last_reply = zclock_mono();
            in->any_reply = true;
            zframe_t *payload = s_payload(msg);
            Creance__IntakeReply *r = payload
                ? creance__intake_reply__unpack(NULL, zframe_size(payload), zframe_data(payload))
                : NULL;
            zmsg_destroy(&msg);
            if (!r)
                continue;                           /* not an answer of ours */
            slot_t *slot = NULL;
            for (size_t i = 0; i < window && !slot; i++)
                if (in->slots[i].used && strcmp(in->slots[i].batch_id, r->batch_id) == 0)
                    slot = &in->slots[i];
            if (!slot) {
                creance__intake_reply__free_unpacked(r, NULL);
                continue;
            }
            if (r->error && *r->error) {
                /* Bad tenant, intake unavailable...: the next batches would
                   fare no better. */
                if (!*out->error) {
                    size_t l1 = imp->rows[s_row(in, slot->first)].line;
                    size_t l2 = imp->rows[s_row(in, slot->first + slot->count - 1)].line;
                    if (n == 1)
                        snprintf(out->error, sizeof out->error, "intake refused the batch of "
                                 "lines %zu to %zu: %s", l1, l2, r->error);
                    else
                        snprintf(out->error, sizeof out->error, "intake at %s refused a batch "
                                 "of %zu lines (from line %zu to %zu): %s", in->endpoint,
                                 slot->count, l1, l2, r->error);
                }
                stop = true;
                rc = -1;
            }
            else {
                for (size_t i = 0; i < r->n_results; i++) {
                    const Creance__ItemResult *x = r->results[i];
                    if (x->index < 0 || (size_t) x->index >= slot->count)
                        continue;
                    import_row_result_t *row =
                        &out->rows[s_row(in, slot->first + (size_t) x->index)];
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
            in->inflight--;
            inflight--;
            if (o->progress)
                o->progress(o->progress_arg, answered, total);
        }
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
    for (size_t k = 0; inst && k < n; k++) {
        free(inst[k].slots);
        free(inst[k].rows);
        zsock_destroy(&inst[k].sock);
    }
    free(inst);
    free(polls);
    intakeroute_endpoints_free(&endpoints);
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

bool
cli_intake_endpoint(const char *list, const char *tenant, const Creance__IntakeItem *item,
                    char *out, size_t out_len, char *error, size_t error_len)
{
    char **endpoints;
    size_t n;
    if (!intakeroute_endpoints(list, &endpoints, &n, error, error_len))
        return false;
    uint32_t k = intakeroute_instance(tenant, item, (uint32_t) n);
    snprintf(out, out_len, "%s", endpoints[k]);
    intakeroute_endpoints_free(&endpoints);
    return true;
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
