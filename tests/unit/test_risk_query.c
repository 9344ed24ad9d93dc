/*  risk: query validation and refused / not-yet-available answers
    (services/risk/query.c). Paths that need PostgreSQL or Redis are
    exercised by the end-to-end tests. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "metrics.h"
#include "../../services/risk/query.h"

static Creance__QueryReply *
s_answer(risk_query_t *q, const uint8_t *data, size_t len)
{
    size_t n = 0;
    uint8_t *buf = risk_query_answer(q, data, len, &n);
    assert_non_null(buf);
    Creance__QueryReply *reply = creance__query_reply__unpack(NULL, n, buf);
    free(buf);
    assert_non_null(reply);
    return reply;
}

static Creance__QueryReply *
s_answer_query(risk_query_t *q, const Creance__Query *query)
{
    size_t n = creance__query__get_packed_size(query);
    uint8_t *buf = malloc(n ? n : 1);
    creance__query__pack(query, buf);
    Creance__QueryReply *reply = s_answer(q, buf, n);
    free(buf);
    return reply;
}

static double
s_rejected(const char *reason)
{
    char labels[64];
    snprintf(labels, sizeof labels, "reason=\"%s\"", reason);
    return metric_value(metrics_counter("creance_risk_rejected_total", "", labels));
}

static void
test_check(void **state)
{
    risk_query_error_t err;
    Creance__Query q = CREANCE__QUERY__INIT;
    Creance__GetDebtorRisk g = CREANCE__GET_DEBTOR_RISK__INIT;

    assert_int_equal(risk_query_check(NULL, &err), -1);
    assert_string_equal(err.code, "undecodable");

    assert_int_equal(risk_query_check(&q, &err), -1);
    assert_string_equal(err.field, "query");
    assert_string_equal(err.code, "missing_query");

    q.query_case = CREANCE__QUERY__QUERY_GET_DEBTOR_RISK;
    q.get_debtor_risk = &g;
    assert_int_equal(risk_query_check(&q, &err), -1);
    assert_string_equal(err.field, "get_debtor_risk.tenant");
    assert_string_equal(err.reason, "required");

    g.tenant = "ACME";
    assert_int_equal(risk_query_check(&q, &err), -1);
    assert_string_equal(err.code, "bad_tenant");

    g.tenant = "acme";
    assert_int_equal(risk_query_check(&q, &err), -1);
    assert_string_equal(err.field, "get_debtor_risk.debtor_id");
    assert_string_equal(err.code, "missing_debtor");

    g.debtor_id = -4;
    assert_int_equal(risk_query_check(&q, &err), -1);
    assert_string_equal(err.code, "bad_debtor_id");

    g.debtor_id = 4;
    assert_int_equal(risk_query_check(&q, &err), 0);

    char longid[300];
    memset(longid, 'x', sizeof longid - 1);
    longid[sizeof longid - 1] = 0;
    g.debtor_id = 0;
    g.debtor_external_id = longid;
    assert_int_equal(risk_query_check(&q, &err), -1);
    assert_string_equal(err.field, "get_debtor_risk.debtor_external_id");

    g.debtor_external_id = "CUST-1";
    assert_int_equal(risk_query_check(&q, &err), 0);
}

static void
test_refused_answers(void **state)
{
    risk_query_t *q = risk_query_new(NULL, NULL, NULL, NULL);
    assert_non_null(q);

    /* Bytes that are not a Query. */
    double before = s_rejected("undecodable");
    const uint8_t garbage[] = { 0xff, 0xff, 0xff, 0xff };
    Creance__QueryReply *r = s_answer(q, garbage, sizeof garbage);
    assert_int_equal(r->reply_case, CREANCE__QUERY_REPLY__REPLY_DEBTOR_RISK);
    assert_string_equal(r->debtor_risk->error, "query: not a valid Query message");
    assert_false(r->debtor_risk->found);
    creance__query_reply__free_unpacked(r, NULL);
    assert_true(s_rejected("undecodable") == before + 1);

    /* An empty message decodes to a Query with nothing asked. */
    r = s_answer(q, (const uint8_t *) "", 0);
    assert_string_equal(r->debtor_risk->error,
                        "query: one of get_debtor_risk, check_credit is required");
    creance__query_reply__free_unpacked(r, NULL);

    /* A field error echoes tenant and debtor. */
    Creance__Query query = CREANCE__QUERY__INIT;
    Creance__GetDebtorRisk g = CREANCE__GET_DEBTOR_RISK__INIT;
    g.tenant = "acme";
    g.debtor_id = -1;
    query.query_case = CREANCE__QUERY__QUERY_GET_DEBTOR_RISK;
    query.get_debtor_risk = &g;
    r = s_answer_query(q, &query);
    assert_string_equal(r->debtor_risk->error, "get_debtor_risk.debtor_id: must be positive");
    assert_string_equal(r->debtor_risk->tenant, "acme");
    creance__query_reply__free_unpacked(r, NULL);

    /* Too large to be a query. */
    uint8_t *big = calloc(1, RISK_QUERY_MAX_BYTES + 1);
    r = s_answer(q, big, RISK_QUERY_MAX_BYTES + 1);
    assert_string_equal(r->debtor_risk->error, "query: larger than 65536 bytes");
    creance__query_reply__free_unpacked(r, NULL);
    free(big);

    risk_query_destroy(&q);
    assert_null(q);
}

/*  CheckCredit is validated like GetDebtorRisk, plus its amount, and a
    refused credit question gets a CreditAnswer carrying the error. */
static void
test_check_credit_refused(void **state)
{
    risk_query_t *q = risk_query_new(NULL, NULL, NULL, NULL);
    Creance__Query query = CREANCE__QUERY__INIT;
    Creance__CheckCredit c = CREANCE__CHECK_CREDIT__INIT;
    Creance__Money amount = CREANCE__MONEY__INIT;
    c.tenant = "acme";
    c.debtor_id = 3;
    query.query_case = CREANCE__QUERY__QUERY_CHECK_CREDIT;
    query.check_credit = &c;

    Creance__QueryReply *r = s_answer_query(q, &query);
    assert_int_equal(r->reply_case, CREANCE__QUERY_REPLY__REPLY_CREDIT_ANSWER);
    assert_string_equal(r->credit_answer->error, "check_credit.amount: required");
    assert_int_equal(r->credit_answer->decision, CREANCE__CREDIT_DECISION__CREDIT_DECISION_UNSPECIFIED);
    assert_string_equal(r->credit_answer->tenant, "acme");
    assert_int_equal(r->credit_answer->debtor_id, 3);
    creance__query_reply__free_unpacked(r, NULL);

    amount.minor = 500000;
    amount.currency = "eur";
    c.amount = &amount;
    r = s_answer_query(q, &query);
    assert_string_equal(r->credit_answer->error,
                        "check_credit.amount.currency: must be three upper-case letters (ISO 4217)");
    creance__query_reply__free_unpacked(r, NULL);

    amount.currency = "EUR";
    amount.minor = -1;
    r = s_answer_query(q, &query);
    assert_string_equal(r->credit_answer->error, "check_credit.amount.minor: must not be negative");
    creance__query_reply__free_unpacked(r, NULL);

    amount.minor = 1;
    c.tenant = "";
    r = s_answer_query(q, &query);
    assert_string_equal(r->credit_answer->error, "check_credit.tenant: required");
    creance__query_reply__free_unpacked(r, NULL);
    risk_query_destroy(&q);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_check),
        cmocka_unit_test(test_refused_answers),
        cmocka_unit_test(test_check_credit_refused),
    };
    return cmocka_run_group_tests_name("risk_query", tests, NULL, NULL);
}
