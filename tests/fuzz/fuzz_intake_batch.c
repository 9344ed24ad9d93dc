/*  Fuzz target: what intake does with a billing system's bytes before any
    database work: the REQ framing and IntakeBatch decoding
    (intake_endpoint_parse), the whole-batch and per-item validation
    (intake_validate_batch, intake_validate_item), the idempotency key
    (intake_item_kind / intake_item_external_id) and the reply encoding
    (intake_request_reply), as intake_endpoint_recv and intake_process
    chain them.

    The input is the body frame, sent as [identity][empty][body].

    Properties beyond "no crash, no leak, no UB":
    - every error names a field and a reason, both valid UTF-8 (validate.h
      promises it: the reply's strings are proto3 strings);
    - the reply decodes as an IntakeReply; its batch_id and error are valid
      UTF-8; it has one result per item unless it carries an error;
    - an item that passes validation has a kind and an external id. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "log.h"
#include "../../services/intake/endpoint.h"
#include "../../services/intake/intake.h"
#include "../../services/intake/validate.h"

static int s_utf8(const char *s)
{
    return s && intake_utf8_valid(s, strlen(s), NULL);
}

static void s_check_error(const intake_error_t *err)
{
    CHECK(err->key && err->key[0]);
    CHECK(err->field[0]);
    CHECK(err->reason[0]);
    CHECK(s_utf8(err->field));
    CHECK(s_utf8(err->reason));
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    log_init("fuzz");
    log_set_level("error");
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    zmsg_t *msg = zmsg_new();
    zmsg_addstr(msg, "peer");
    zmsg_addmem(msg, NULL, 0);
    zmsg_addmem(msg, data, size);

    zmsg_t *route = NULL;
    Creance__IntakeBatch *batch = NULL;
    intake_error_t err;
    memset(&err, 0, sizeof err);
    endpoint_verdict_t verdict = intake_endpoint_parse(&msg, &route, &batch, &err);
    CHECK(msg == NULL);
    if (verdict != ENDPOINT_REQUEST) {
        CHECK(verdict == ENDPOINT_ANSWER);      /* this framing is always answerable */
        CHECK(route && !batch);
        s_check_error(&err);
        zmsg_destroy(&route);
        return 0;
    }
    CHECK(route && batch);

    bool batch_ok = intake_validate_batch(batch, 5000, &err);
    if (!batch_ok)
        s_check_error(&err);
    for (size_t i = 0; i < batch->n_items; i++) {
        const Creance__IntakeItem *item = batch->items[i];
        memset(&err, 0, sizeof err);
        if (intake_validate_item(item, &err)) {
            const char *kind = intake_item_kind(item);
            const char *ext = intake_item_external_id(item);
            CHECK(kind && kind[0]);
            CHECK(ext && ext[0] && s_utf8(ext));
        }
        else
            s_check_error(&err);
    }

    intake_request_t *req = intake_request_new(route, batch);
    if (!batch_ok) {
        /* What intake_process does with a refused batch. */
        if (asprintf(&req->error, "%s: %s", err.field, err.reason) < 0)
            req->error = NULL;
    }
    zframe_t *frame = intake_request_reply(req);
    Creance__IntakeReply *reply =
        creance__intake_reply__unpack(NULL, zframe_size(frame), zframe_data(frame));
    CHECK(reply);
    CHECK(s_utf8(reply->batch_id));
    CHECK(s_utf8(reply->error));
    if (!req->error)
        CHECK(reply->n_results == batch->n_items);
    creance__intake_reply__free_unpacked(reply, NULL);
    zframe_destroy(&frame);
    intake_request_destroy(&req);
    return 0;
}
