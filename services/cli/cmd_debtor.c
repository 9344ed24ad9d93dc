/*  cmd_debtor: `creance debtor risk ID`, a GetDebtorRisk query to risk over
    ZeroMQ (REQ envelope on a DEALER). */
#include "cli.h"
#include "send.h"
#include "table.h"

#include "creance.pb-c.h"
#include "money.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_RISK "tcp://127.0.0.1:5570"

enum { O_EXTERNAL = 1 };

static const cli_option_t s_options[] = {
    { "external", false, O_EXTERNAL },
    { NULL, false, 0 }
};

static int
s_on_option(void *arg, int code, const char *value)
{
    if (code == O_EXTERNAL)
        *(bool *) arg = true;
    return CLI_OK;
}

static void
s_money(const Creance__Money *m, char *out, size_t len)
{
    if (!m || !m->currency || currency_exponent(m->currency) < 0) {
        snprintf(out, len, "0");
        return;
    }
    char amount[32];
    money_format(m->minor, m->currency, amount, sizeof amount);
    snprintf(out, len, "%s %s", amount, m->currency);
}

int
cmd_debtor_risk(cli_t *cli, const cli_command_t *cmd, int argc, char **argv)
{
    bool external = false;
    char *pos[1];
    size_t npos;
    int rc = cli_parse_options(cli, cmd, argc, argv, s_options, s_on_option, &external, pos, 1,
                               &npos);
    if (rc != CLI_OK)
        return rc;
    if (cli->help) {
        cli_print_help(cmd);
        return CLI_OK;
    }
    if (npos != 1)
        return cli_usage_error(cli, cmd, "a debtor id is required");
    if (!cli->tenant)
        return cli_usage_error(cli, cmd, "no tenant: give --tenant or set CREANCE_TENANT");

    Creance__GetDebtorRisk get = CREANCE__GET_DEBTOR_RISK__INIT;
    get.tenant = (char *) cli->tenant;
    if (!external) {
        char *end;
        errno = 0;
        long long id = strtoll(pos[0], &end, 10);
        if (errno || *end || end == pos[0] || id <= 0)
            return cli_usage_error(cli, cmd, "'%s' is not a debtor id (a positive integer; "
                                   "use --external for your own ids)", pos[0]);
        get.debtor_id = id;
    }
    else
        get.debtor_external_id = pos[0];
    Creance__Query q = CREANCE__QUERY__INIT;
    q.query_case = CREANCE__QUERY__QUERY_GET_DEBTOR_RISK;
    q.get_debtor_risk = &get;
    size_t len = creance__query__get_packed_size(&q);
    uint8_t *req = malloc(len ? len : 1);
    creance__query__pack(&q, req);
    const char *endpoint = cli_env("CREANCE_RISK_ENDPOINT", DEFAULT_RISK);
    uint8_t *data;
    size_t data_len;
    char error[256];
    rc = cli_zmq_call(endpoint, req, len, cli->timeout_s, &data, &data_len, error, sizeof error);
    free(req);
    if (rc != 0)
        return cli_fail(cli, "risk unreachable at %s: %s", endpoint, error);
    Creance__QueryReply *reply = creance__query_reply__unpack(NULL, data_len, data);
    free(data);
    if (!reply || reply->reply_case != CREANCE__QUERY_REPLY__REPLY_DEBTOR_RISK) {
        if (reply)
            creance__query_reply__free_unpacked(reply, NULL);
        return cli_fail(cli, "risk at %s gave an answer that is not a DebtorRisk", endpoint);
    }
    const Creance__DebtorRisk *r = reply->debtor_risk;
    if (r->error && *r->error)
        rc = cli_fail(cli, "risk refused the query: %s", r->error);
    else if (!r->found)
        rc = cli_fail(cli, "debtor %s not found for tenant %s", pos[0], cli->tenant);
    else {
        char outstanding[64], overdue[64];
        s_money(r->outstanding, outstanding, sizeof outstanding);
        s_money(r->overdue, overdue, sizeof overdue);
        if (cli->json) {
            json_t *factors = json_array();
            for (size_t i = 0; i < r->n_factors; i++)
                json_array_append_new(factors, json_pack("{s:s, s:i, s:s}",
                    "name", r->factors[i]->name, "contribution", r->factors[i]->contribution,
                    "detail", r->factors[i]->detail));
            json_t *j = json_pack("{s:s, s:I, s:i, s:s, s:{s:I, s:s}, s:{s:I, s:s}, s:o}",
                "tenant", r->tenant, "debtor_id", (json_int_t) r->debtor_id,
                "score", r->score, "grade", r->grade,
                "outstanding", "minor", (json_int_t) (r->outstanding ? r->outstanding->minor : 0),
                "currency", r->outstanding ? r->outstanding->currency : "",
                "overdue", "minor", (json_int_t) (r->overdue ? r->overdue->minor : 0),
                "currency", r->overdue ? r->overdue->currency : "",
                "factors", factors);
            json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
            fputc('\n', stdout);
            json_decref(j);
        }
        else {
            static const char *const headers[] = { "factor", "points", "detail" };
            static const bool right[] = { false, true, false };
            cli_table_t *t = cli_table_new(3, headers, right);
            for (size_t i = 0; i < r->n_factors; i++) {
                char pts[16];
                snprintf(pts, sizeof pts, "%d", r->factors[i]->contribution);
                const char *cells[] = { r->factors[i]->name, pts, r->factors[i]->detail };
                cli_table_add(t, cells);
            }
            if (cli->csv)
                cli_table_print_csv(t, stdout);
            else {
                printf("debtor %lld  score %d  grade %s\noutstanding %s  overdue %s\n\n",
                       (long long) r->debtor_id, r->score, *r->grade ? r->grade : "-",
                       outstanding, overdue);
                cli_table_print(t, stdout, cli->color_out);
            }
            cli_table_destroy(&t);
        }
        rc = CLI_OK;
    }
    creance__query_reply__free_unpacked(reply, NULL);
    return rc;
}
