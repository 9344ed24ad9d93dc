/*  Unit tests of services/intake/endpoint (framing of the REQ envelope on
    the ROUTER side) and of the reply encoding in intake.c. No sockets, no
    database: messages are built in memory. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "../../services/intake/endpoint.h"
#include "../../services/intake/intake.h"

/*  An encoded IntakeBatch with one empty item. */
static zframe_t *s_batch_frame(const char *tenant, const char *batch_id)
{
    Creance__IntakeItem item = CREANCE__INTAKE_ITEM__INIT, *items[] = { &item };
    Creance__IntakeBatch b = CREANCE__INTAKE_BATCH__INIT;
    b.tenant = (char *) tenant;
    b.source = "erp";
    b.batch_id = (char *) batch_id;
    b.items = items;
    b.n_items = 1;
    zframe_t *f = zframe_new(NULL, creance__intake_batch__get_packed_size(&b));
    creance__intake_batch__pack(&b, zframe_data(f));
    return f;
}

static zmsg_t *s_msg(int n, ...)
{
    zmsg_t *m = zmsg_new();
    va_list ap;
    va_start(ap, n);
    for (int i = 0; i < n; i++) {
        zframe_t *f = va_arg(ap, zframe_t *);
        zmsg_append(m, &f);
    }
    va_end(ap);
    return m;
}

static zframe_t *s_text(const char *s) { return zframe_new(s, strlen(s)); }
static zframe_t *s_empty(void) { return zframe_new_empty(); }

static void test_request(void **state)
{
    zmsg_t *msg = s_msg(3, s_text("peer"), s_empty(), s_batch_frame("acme", "b-1"));
    zmsg_t *route;
    Creance__IntakeBatch *batch;
    intake_error_t err;
    assert_int_equal(intake_endpoint_parse(&msg, &route, &batch, &err), ENDPOINT_REQUEST);
    assert_null(msg);
    assert_int_equal(zmsg_size(route), 2);
    assert_true(zframe_streq(zmsg_first(route), "peer"));
    assert_int_equal(zframe_size(zmsg_next(route)), 0);
    assert_string_equal(batch->tenant, "acme");
    assert_int_equal(batch->n_items, 1);
    zmsg_destroy(&route);
    creance__intake_batch__free_unpacked(batch, NULL);
}

static void test_request_through_proxy(void **state)
{
    zmsg_t *msg = s_msg(4, s_text("proxy"), s_text("peer"), s_empty(), s_batch_frame("acme", "b"));
    zmsg_t *route;
    Creance__IntakeBatch *batch;
    intake_error_t err;
    assert_int_equal(intake_endpoint_parse(&msg, &route, &batch, &err), ENDPOINT_REQUEST);
    assert_int_equal(zmsg_size(route), 3);
    zmsg_destroy(&route);
    creance__intake_batch__free_unpacked(batch, NULL);
}

static void test_empty_body_is_an_empty_batch(void **state)
{
    /* An IntakeBatch with every field at its default encodes to 0 bytes. */
    zmsg_t *msg = s_msg(3, s_text("peer"), s_empty(), s_empty());
    zmsg_t *route;
    Creance__IntakeBatch *batch;
    intake_error_t err;
    assert_int_equal(intake_endpoint_parse(&msg, &route, &batch, &err), ENDPOINT_REQUEST);
    assert_string_equal(batch->tenant, "");
    zmsg_destroy(&route);
    creance__intake_batch__free_unpacked(batch, NULL);
}

typedef struct {
    zmsg_t *msg;
    endpoint_verdict_t verdict;
    const char *key, *field;
} bad_case_t;

static void test_bad_framing(void **state)
{
    size_t big = ENDPOINT_MAX_BODY + 1;
    zframe_t *huge = zframe_new(NULL, big);
    memset(zframe_data(huge), 0, big);
    bad_case_t cases[] = {
        { s_msg(2, s_text("peer"), s_batch_frame("acme", "b")), ENDPOINT_DROP, "no_delimiter", "envelope" },
        { s_msg(1, s_text("peer")), ENDPOINT_DROP, "no_delimiter", "envelope" },
        { s_msg(2, s_empty(), s_batch_frame("acme", "b")), ENDPOINT_DROP, "no_delimiter", "envelope" },
        { s_msg(2, s_text("peer"), s_empty()), ENDPOINT_ANSWER, "missing_body", "body" },
        { s_msg(4, s_text("peer"), s_empty(), s_batch_frame("a", "b"), s_text("x")),
          ENDPOINT_ANSWER, "too_many_frames", "envelope" },
        { s_msg(3, s_text("peer"), s_empty(), s_text("\xff\xff\xff garbage")),
          ENDPOINT_ANSWER, "bad_body", "body" },
        { s_msg(3, s_text("peer"), s_empty(), huge), ENDPOINT_ANSWER, "oversize", "body" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        zmsg_t *route;
        Creance__IntakeBatch *batch;
        intake_error_t err;
        endpoint_verdict_t v = intake_endpoint_parse(&cases[i].msg, &route, &batch, &err);
        assert_int_equal(v, cases[i].verdict);
        assert_string_equal(err.key, cases[i].key);
        assert_string_equal(err.field, cases[i].field);
        assert_null(batch);
        if (v == ENDPOINT_ANSWER) {
            assert_non_null(route);
            assert_true(zframe_streq(zmsg_first(route), "peer"));
            zmsg_destroy(&route);
        }
        else
            assert_null(route);
    }
}

static void test_bad_body_message(void **state)
{
    zmsg_t *msg = s_msg(3, s_text("peer"), s_empty(), s_text("\x0a\x05oops"));  /* truncated field */
    zmsg_t *route;
    Creance__IntakeBatch *batch;
    intake_error_t err;
    assert_int_equal(intake_endpoint_parse(&msg, &route, &batch, &err), ENDPOINT_ANSWER);
    assert_string_equal(err.reason, "not a valid IntakeBatch");
    zmsg_destroy(&route);
}

static Creance__IntakeReply *s_reply(intake_request_t *req)
{
    zframe_t *f = intake_request_reply(req);
    Creance__IntakeReply *r = creance__intake_reply__unpack(NULL, zframe_size(f), zframe_data(f));
    zframe_destroy(&f);
    assert_non_null(r);
    return r;
}

static void test_reply_encoding(void **state)
{
    zframe_t *body = s_batch_frame("acme", "b-42");
    Creance__IntakeBatch *batch = creance__intake_batch__unpack(NULL, zframe_size(body), zframe_data(body));
    zframe_destroy(&body);
    intake_request_t *req = intake_request_new(zmsg_new(), batch);
    req->results[0].status = CREANCE__ITEM_STATUS__ACCEPTED;
    req->results[0].id = 7;
    Creance__IntakeReply *r = s_reply(req);
    assert_string_equal(r->batch_id, "b-42");
    assert_string_equal(r->error, "");
    assert_int_equal(r->n_results, 1);
    assert_int_equal(r->results[0]->index, 0);
    assert_int_equal(r->results[0]->status, CREANCE__ITEM_STATUS__ACCEPTED);
    assert_int_equal(r->results[0]->id, 7);
    creance__intake_reply__free_unpacked(r, NULL);
    intake_request_destroy(&req);
    assert_null(req);
}

static void test_reply_does_not_echo_bad_batch_id(void **state)
{
    /* A batch id that is not UTF-8 would make the reply undecodable. */
    zframe_t *body = s_batch_frame("acme", "b\xff");
    Creance__IntakeBatch *batch = creance__intake_batch__unpack(NULL, zframe_size(body), zframe_data(body));
    zframe_destroy(&body);
    intake_request_t *req = intake_request_new(zmsg_new(), batch);
    req->error = strdup("batch_id: not valid UTF-8 (at byte 1)");
    Creance__IntakeReply *r = s_reply(req);
    assert_string_equal(r->batch_id, "");
    assert_string_equal(r->error, "batch_id: not valid UTF-8 (at byte 1)");
    assert_int_equal(r->n_results, 0);
    creance__intake_reply__free_unpacked(r, NULL);
    intake_request_destroy(&req);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_request),
        cmocka_unit_test(test_request_through_proxy),
        cmocka_unit_test(test_empty_body_is_an_empty_batch),
        cmocka_unit_test(test_bad_framing),
        cmocka_unit_test(test_bad_body_message),
        cmocka_unit_test(test_reply_encoding),
        cmocka_unit_test(test_reply_does_not_echo_bad_batch_id),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
