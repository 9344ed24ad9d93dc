/*  query: risk's request/reply endpoint (ROUTER, REQ envelope).

    Request  [identity...][empty][Query bytes]
    Reply    [identity...][empty][QueryReply bytes]
    A client may use REQ, or DEALER sending ["", Query] and pipelining.

    GetDebtorRisk answers from the debtor's Redis hash; on a miss, or while
    Redis is down, from risk_debtor_state and risk_debtor_profile (and the
    hash is written again). A debtor given by debtor_external_id is
    resolved through debtors; an external id that several sources share is
    refused (ask by debtor_id). `outstanding` is the debtor's currency with
    the largest outstanding; score, grade, factors (the contributions sum to
    the score) and overdue come from the scored snapshot (snapshot.h).

    CheckCredit reads the same state and answers approve / review / refuse
    with its reasons (credit.h), under the tenant's policy. The amount must
    be in the debtor's currency.

    Bad input (undecodable bytes, a missing or malformed field) gets a reply
    whose error names the field and the reason, counted in
    creance_risk_rejected_total{reason}; it changes nothing. */
#ifndef CREANCE_RISK_QUERY_H
#define CREANCE_RISK_QUERY_H

#include <czmq.h>
#include "creance.pb-c.h"
#include "db.h"
#include "riskcache.h"
#include "scoring.h"

#define RISK_QUERY_MAX_BYTES 65536

typedef struct {
    char field[64];
    char reason[160];
    const char *code;               /* metric label */
} risk_query_error_t;

typedef struct risk_query_t risk_query_t;

/*  Binds a ROUTER on `endpoint`; NULL endpoint: no socket (tests call
    risk_query_answer). Returns NULL if the bind fails. */
risk_query_t *risk_query_new(const char *endpoint, db_t *db, risk_cache_t *cache,
                              risk_scoring_t *scoring);
void     risk_query_destroy(risk_query_t **self_p);
int      risk_query_attach(risk_query_t *self, zloop_t *loop);

/*  Pure: 0 when the decoded query is well formed, else -1 and `err`. */
int      risk_query_check(const Creance__Query *query, risk_query_error_t *err);

/*  Answers one request payload: the encoded QueryReply (caller frees) and
    its length in *reply_len. NULL only when out of memory. */
uint8_t *risk_query_answer(risk_query_t *self, const uint8_t *data, size_t len, size_t *reply_len);

#endif
