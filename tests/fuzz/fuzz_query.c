/*  Fuzz target: risk's query decoding and checking (risk_query_check) and
    the replies that need neither PostgreSQL nor Redis (risk_query_answer
    for a refused query), as a client's bytes reach them. A well-formed
    query reads Redis and PostgreSQL: the e2e tests cover it.

    The input is the Query payload frame.

    Properties beyond "no crash, no leak, no UB":
    - risk_query_check refuses with a field, a reason and a metric code;
    - the reply decodes as a QueryReply with a DebtorRisk or CreditAnswer,
      and a refusal carries an error.
    - every string of the reply is valid UTF-8 (proto3 strings): a refusal
      once echoed an invalid tenant and could not be decoded. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "log.h"
#include "../../services/intake/validate.h"
#include "../../services/risk/query.h"

static risk_query_t *s_query;

static int s_utf8(const char *s)
{
    return !s || intake_utf8_valid(s, strlen(s), NULL);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    log_init("fuzz");
    log_set_level("error");
    /* No socket, database, cache or scoring: only the paths that need none are
       driven below. */
    s_query = risk_query_new(NULL, NULL, NULL, NULL);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    Creance__Query *query = NULL;
    if (size <= RISK_QUERY_MAX_BYTES)
        query = creance__query__unpack(NULL, size, data);
    risk_query_error_t err;
    int rc = risk_query_check(query, &err);
    if (rc != 0) {
        CHECK(rc == -1);
        CHECK(err.field[0] && err.reason[0] && err.code && err.code[0]);
    }
    bool answerable = rc != 0 || size > RISK_QUERY_MAX_BYTES;
    if (query)
        creance__query__free_unpacked(query, NULL);
    if (!answerable)
        return 0;       /* a well-formed query reads Redis/PostgreSQL */

    size_t len = 0;
    uint8_t *buf = risk_query_answer(s_query, data, size, &len);
    CHECK(buf);
    Creance__QueryReply *reply = creance__query_reply__unpack(NULL, len, buf);
    CHECK(reply);
    if (reply->reply_case == CREANCE__QUERY_REPLY__REPLY_DEBTOR_RISK) {
        CHECK(reply->debtor_risk);
        CHECK(reply->debtor_risk->error && reply->debtor_risk->error[0]);
        CHECK(s_utf8(reply->debtor_risk->tenant));
        CHECK(s_utf8(reply->debtor_risk->error));
    }
    else {
        CHECK(reply->reply_case == CREANCE__QUERY_REPLY__REPLY_CREDIT_ANSWER);
        CHECK(reply->credit_answer && reply->credit_answer->error[0]);
        CHECK(s_utf8(reply->credit_answer->tenant));
        CHECK(s_utf8(reply->credit_answer->error));
    }
    creance__query_reply__free_unpacked(reply, NULL);
    free(buf);
    return 0;
}
