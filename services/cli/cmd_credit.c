/*  cmd_credit: `creance credit check DEBTOR AMOUNT`, risk's CheckCredit
    over ZeroMQ: approve, review or refuse, with the reasons. The exit
    status says whether the answer was obtained, not what it was (0 for a
    refusal too): scripts read the decision from the output. */
#include "cli.h"
#include "send.h"

#include "creance.pb-c.h"
#include "money.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { O_EXTERNAL = 1, O_CURRENCY };

static const cli_option_t s_options[] = {
    { "external", false, O_EXTERNAL },
    { "currency", true, O_CURRENCY },
    { NULL, false, 0 }
};

typedef struct {
    const cli_t *cli;
    const cli_command_t *cmd;
    bool external;
    const char *currency;
} credit_opts_t;

static int
s_on_option(void *arg, int code, const char *value)
{
    credit_opts_t *o = arg;
    if (code == O_EXTERNAL)
        o->external = true;
    else if (code == O_CURRENCY) {
        if (!currency_known(value))
            return cli_usage_error(o->cli, o->cmd, "--currency: '%s' is not an ISO 4217 "
                                   "currency code", value);
        o->currency = value;
    }
    return CLI_OK;
}

static const char *
s_decision(Creance__CreditDecision d)
{
    switch (d) {
    case CREANCE__CREDIT_DECISION__APPROVE: return "approve";
    case CREANCE__CREDIT_DECISION__REVIEW:  return "review";
    case CREANCE__CREDIT_DECISION__REFUSE:  return "refuse";
    default:                                return "unspecified";
    }
}

int
cmd_credit_check(cli_t *cli, const cli_command_t *cmd, int argc, char **argv)
{
    credit_opts_t o = { cli, cmd, false, "EUR" };
    char *pos[2];
    size_t npos;
    int rc = cli_parse_options(cli, cmd, argc, argv, s_options, s_on_option, &o, pos, 2, &npos);
    if (rc != CLI_OK)
        return rc;
    if (cli->help) {
        cli_print_help(cmd);
        return CLI_OK;
    }
    if (npos != 2)
        return cli_usage_error(cli, cmd, "a debtor and an amount are required");
    if (!cli->tenant)
        return cli_usage_error(cli, cmd, "no tenant: give --tenant or set CREANCE_TENANT");
    Creance__CheckCredit check = CREANCE__CHECK_CREDIT__INIT;
    check.tenant = (char *) cli->tenant;
    if (!o.external) {
        char *end;
        errno = 0;
        long long id = strtoll(pos[0], &end, 10);
        if (errno || *end || end == pos[0] || id <= 0)
            return cli_usage_error(cli, cmd, "'%s' is not a debtor id (a positive integer; "
                                   "use --external for your own ids)", pos[0]);
        check.debtor_id = id;
    }
    else
        check.debtor_external_id = pos[0];
    int64_t minor;
    if (!money_parse(pos[1], o.currency, &minor) || minor < 0)
        return cli_usage_error(cli, cmd, "'%s' is not an amount of %s (e.g. 1234.50, at most "
                               "%d decimals, not negative)", pos[1], o.currency,
                               currency_exponent(o.currency));
    Creance__Money amount = CREANCE__MONEY__INIT;
    amount.minor = minor;
    amount.currency = (char *) o.currency;
    check.amount = &amount;
    Creance__Query q = CREANCE__QUERY__INIT;
    q.query_case = CREANCE__QUERY__QUERY_CHECK_CREDIT;
    q.check_credit = &check;
    Creance__QueryReply *reply;
    rc = cli_risk_query(cli, &q, CREANCE__QUERY_REPLY__REPLY_CREDIT_ANSWER, &reply);
    if (rc != CLI_OK)
        return rc;
    const Creance__CreditAnswer *a = reply->credit_answer;
    if (cli->json) {
        json_t *reasons = json_array();
        for (size_t i = 0; i < a->n_reasons; i++)
            json_array_append_new(reasons, json_string(a->reasons[i]));
        json_t *j = json_pack("{s:s, s:I, s:{s:I, s:s}, s:s, s:o}", "tenant", a->tenant,
                              "debtor_id", (json_int_t) a->debtor_id, "amount", "minor",
                              (json_int_t) minor, "currency", o.currency, "decision",
                              s_decision(a->decision), "reasons", reasons);
        json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        fputc('\n', stdout);
        json_decref(j);
        rc = CLI_OK;
    }
    else {
        char text[40];
        money_format(minor, o.currency, text, sizeof text);
        const char *colour = !cli->color_out ? ""
            : a->decision == CREANCE__CREDIT_DECISION__APPROVE ? "\033[1;32m"
            : a->decision == CREANCE__CREDIT_DECISION__REVIEW ? "\033[1;33m" : "\033[1;31m";
        printf("debtor %lld, %s %s: %s%s%s\n", (long long) a->debtor_id, text, o.currency,
               colour, s_decision(a->decision), cli->color_out ? "\033[0m" : "");
        for (size_t i = 0; i < a->n_reasons; i++)
            printf("  - %s\n", a->reasons[i]);
        rc = CLI_OK;
    }
    creance__query_reply__free_unpacked(reply, NULL);
    return rc;
}
