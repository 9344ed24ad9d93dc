/*  cmd_plan: `creance plan show PLAN` and `creance plan show --debtor
    DEBTOR`: payment plans with their instalments and where each stands,
    from reminders (GET /api/v1/plans, services/reminders/plans.h). */
#include "cli.h"
#include "apicall.h"
#include "table.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { O_DEBTOR = 1 };

static const cli_option_t s_options[] = {
    { "debtor", false, O_DEBTOR },
    { NULL, false, 0 }
};

static int
s_on_option(void *arg, int code, const char *value)
{
    if (code == O_DEBTOR)
        *(bool *) arg = true;
    return CLI_OK;
}

/*  What a person calls an instalment's state: paid and missed as intake's
    watcher decided; an open one is "overdue" once its day has passed (not
    judged yet), else "due". */
static const char *
s_state(json_t *inst)
{
    const char *status = cli_json_str(inst, "status");
    if (strcmp(status, "open") == 0)
        return json_is_true(json_object_get(inst, "overdue")) ? "overdue" : "due";
    return status;
}

static void
s_print_plan(const cli_t *cli, json_t *plan, cli_table_t *csv)
{
    json_t *insts = json_object_get(plan, "instalments");
    char pid[24], did[24];
    cli_api_value("plan_id", json_object_get(plan, "plan_id"), NULL, pid, sizeof pid);
    cli_api_value("debtor_id", json_object_get(plan, "debtor_id"), NULL, did, sizeof did);
    /* Totals per currency: a plan has one, but nothing forbids two. */
    char currency[4] = "";
    int64_t total = 0, paid = 0;
    bool one_currency = true;
    size_t i, npaid = 0, nmissed = 0;
    json_t *it;
    json_array_foreach(insts, i, it) {
        const char *cur = cli_json_str(it, "currency");
        if (!*currency)
            snprintf(currency, sizeof currency, "%s", cur);
        else if (strcmp(currency, cur) != 0)
            one_currency = false;
        int64_t amount = (int64_t) json_integer_value(json_object_get(it, "amount_minor"));
        total += amount;
        if (strcmp(cli_json_str(it, "status"), "paid") == 0) {
            paid += amount;
            npaid++;
        }
        else if (strcmp(cli_json_str(it, "status"), "missed") == 0)
            nmissed++;
    }
    if (csv) {
        json_array_foreach(insts, i, it) {
            char num[16], amount[40];
            const char *cur = cli_json_str(it, "currency");
            cli_api_value("number", json_object_get(it, "number"), cur, num, sizeof num);
            cli_api_value("amount_minor", json_object_get(it, "amount_minor"), cur, amount,
                          sizeof amount);
            const char *cells[] = { pid, did, cli_json_str(plan, "status"), num, cli_json_str(it, "due_date"),
                                    cur, amount, s_state(it) };
            cli_table_add(csv, cells);
        }
        return;
    }
    const char *name = cli_json_str(plan, "legal_name"), *agreed = cli_json_str(plan, "agreed_date");
    printf("plan %s of debtor %s%s%s%s: %s", pid, did, *name ? " (" : "", name, *name ? ")" : "",
           cli_json_str(plan, "status"));
    if (*agreed)
        printf(", agreed %s", agreed);
    putchar('\n');
    if (one_currency && *currency) {
        char t[40], p[40];
        json_t *jt = json_integer(total), *jp = json_integer(paid);
        cli_api_value("total_minor", jt, currency, t, sizeof t);
        cli_api_value("paid_minor", jp, currency, p, sizeof p);
        json_decref(jt);
        json_decref(jp);
        printf("%zu instalment%s, %s %s; paid %s (%zu), missed %zu\n", json_array_size(insts),
               json_array_size(insts) == 1 ? "" : "s", t, currency, p, npaid, nmissed);
    }
    static const char *const h[] = { "#", "due", "currency", "amount", "state" };
    static const bool right[] = { true, false, false, true, false };
    cli_table_t *t = cli_table_new(5, h, right);
    json_array_foreach(insts, i, it) {
        char num[16], amount[40];
        const char *cur = cli_json_str(it, "currency");
        cli_api_value("number", json_object_get(it, "number"), cur, num, sizeof num);
        cli_api_value("amount_minor", json_object_get(it, "amount_minor"), cur, amount,
                      sizeof amount);
        const char *cells[] = { num, cli_json_str(it, "due_date"), cur, amount, s_state(it) };
        cli_table_add(t, cells);
    }
    cli_table_print(t, stdout, cli->color_out);
    cli_table_destroy(&t);
}

int
cmd_plan_show(cli_t *cli, const cli_command_t *cmd, int argc, char **argv)
{
    bool by_debtor = false;
    char *pos[1];
    size_t npos;
    int rc = cli_parse_options(cli, cmd, argc, argv, s_options, s_on_option, &by_debtor, pos, 1,
                               &npos);
    if (rc != CLI_OK)
        return rc;
    if (cli->help) {
        cli_print_help(cmd);
        return CLI_OK;
    }
    if (npos != 1)
        return cli_usage_error(cli, cmd, by_debtor ? "a debtor id is required"
                                                   : "a plan id is required");
    char *end;
    errno = 0;
    long long id = strtoll(pos[0], &end, 10);
    if (errno || *end || end == pos[0] || id <= 0)
        return cli_usage_error(cli, cmd, "'%s' is not a %s id (a positive integer: Créance's id, "
                               "as 'plan create' printed it)", pos[0],
                               by_debtor ? "debtor" : "plan");
    if (!cli->token)
        return cli_usage_error(cli, cmd, "no API token: give --token or set CREANCE_TOKEN");
    char path[96], what[64];
    snprintf(path, sizeof path, "/api/v1/plans?%s=%lld", by_debtor ? "debtor_id" : "plan_id", id);
    snprintf(what, sizeof what, "plan %lld", id);
    json_t *body;
    rc = cli_api_get(cli, &cli_reminders, path, by_debtor ? NULL : what, &body, NULL);
    if (rc != CLI_OK)
        return rc;
    json_t *plans = json_object_get(body, "plans");
    if (!json_is_array(plans)) {
        json_decref(body);
        return cli_fail(cli, "reminders' answer has no plans");
    }
    if (cli->json) {
        json_dumpf(body, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        fputc('\n', stdout);
        json_decref(body);
        return CLI_OK;
    }
    size_t i;
    json_t *plan;
    if (cli->csv) {
        static const char *const h[] = { "plan", "debtor", "plan status", "instalment", "due",
                                         "currency", "amount", "state" };
        cli_table_t *t = cli_table_new(8, h, NULL);
        json_array_foreach(plans, i, plan)
            s_print_plan(cli, plan, t);
        cli_table_print_csv(t, stdout);
        cli_table_destroy(&t);
    }
    else if (json_array_size(plans) == 0)
        printf("debtor %lld has no payment plan\n", id);
    else
        json_array_foreach(plans, i, plan) {
            if (i)
                putchar('\n');
            s_print_plan(cli, plan, NULL);
        }
    json_decref(body);
    return CLI_OK;
}
