/*  cmd_reminders: `creance reminders preview` (what the dunning pass would
    send today, and why, or why it holds a debtor) and `creance reminders
    worklist` (the phone tasks), from reminders' JSON API with the tenant's
    API token. */
#include "cli.h"
#include "apicall.h"
#include "table.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

static void
s_print_json(json_t *body)
{
    json_dumpf(body, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    fputc('\n', stdout);
}

static void
s_int(json_t *o, const char *key, char *out, size_t len)
{
    cli_api_value(key, json_object_get(o, key), NULL, out, len);
}

int
cmd_reminders_preview(cli_t *cli, const cli_command_t *cmd, int argc, char **argv)
{
    char *pos[1];
    size_t npos;
    int rc = cli_parse_options(cli, cmd, argc, argv, NULL, NULL, NULL, pos, 0, &npos);
    if (rc != CLI_OK)
        return rc;
    if (cli->help) {
        cli_print_help(cmd);
        return CLI_OK;
    }
    if (!cli->token)
        return cli_usage_error(cli, cmd, "no API token: give --token or set CREANCE_TOKEN");
    json_t *body;
    rc = cli_api_get(cli, &cli_reminders, "/api/v1/reminders/preview", NULL, &body, NULL);
    if (rc != CLI_OK)
        return rc;
    json_t *items = json_object_get(body, "items");
    if (!json_is_array(items)) {
        json_decref(body);
        return cli_fail(cli, "reminders' preview has no items");
    }
    if (cli->json) {
        s_print_json(body);
        json_decref(body);
        return CLI_OK;
    }
    static const char *const headers[] = { "debtor", "action", "level", "channel", "currency",
                                           "amount", "invoices", "reason" };
    static const bool right[] = { true, false, true, false, false, true, true, false };
    cli_table_t *t = cli_table_new(8, headers, right);
    size_t i, sends = 0, holds = 0;
    json_t *it;
    json_array_foreach(items, i, it) {
        char debtor[24], level[16], amount[40], ninv[16];
        const char *action = cli_json_str(it, "action");
        const char *cur = cli_json_str(it, "currency");
        bool send = strcmp(action, "send") == 0;
        sends += send;
        holds += !send;
        s_int(it, "debtor_id", debtor, sizeof debtor);
        if (send) {
            s_int(it, "level", level, sizeof level);
            cli_api_value("total_minor", json_object_get(it, "total_minor"), cur, amount,
                          sizeof amount);
        }
        else {
            snprintf(level, sizeof level, "-");
            snprintf(amount, sizeof amount, "-");
        }
        snprintf(ninv, sizeof ninv, "%zu", json_array_size(json_object_get(it, "invoices")));
        const char *cells[] = { debtor, action, level, send ? cli_json_str(it, "channel") : "-",
                                send ? cur : "-", amount, ninv, cli_json_str(it, "reason") };
        cli_table_add(t, cells);
    }
    if (cli->csv)
        cli_table_print_csv(t, stdout);
    else {
        printf("reminders for %s as of %s (%s): %zu to send, %zu held\n", cli_json_str(body, "tenant"),
               cli_json_str(body, "as_of"), cli_json_str(body, "now_utc"), sends, holds);
        if (sends + holds)
            cli_table_print(t, stdout, cli->color_out);
    }
    cli_table_destroy(&t);
    json_decref(body);
    return CLI_OK;
}

enum { O_STATUS = 1 };

static const cli_option_t s_worklist_options[] = {
    { "status", true, O_STATUS },
    { NULL, false, 0 }
};

typedef struct {
    const cli_t *cli;
    const cli_command_t *cmd;
    const char *status;
} worklist_opts_t;

static int
s_worklist_option(void *arg, int code, const char *value)
{
    worklist_opts_t *o = arg;
    if (code == O_STATUS) {
        if (strcmp(value, "open") && strcmp(value, "done") && strcmp(value, "all"))
            return cli_usage_error(o->cli, o->cmd, "--status: '%s' is not open, done or all",
                                   value);
        o->status = value;
    }
    return CLI_OK;
}

int
cmd_reminders_worklist(cli_t *cli, const cli_command_t *cmd, int argc, char **argv)
{
    worklist_opts_t o = { cli, cmd, "open" };
    char *pos[1];
    size_t npos;
    int rc = cli_parse_options(cli, cmd, argc, argv, s_worklist_options, s_worklist_option, &o,
                               pos, 0, &npos);
    if (rc != CLI_OK)
        return rc;
    if (cli->help) {
        cli_print_help(cmd);
        return CLI_OK;
    }
    if (!cli->token)
        return cli_usage_error(cli, cmd, "no API token: give --token or set CREANCE_TOKEN");
    cli_path_t path;
    cli_path_init(&path, "/api/v1/worklist");
    cli_path_add(&path, "status", o.status);
    json_t *body;
    rc = cli_api_get(cli, &cli_reminders, path.text, NULL, &body, NULL);
    if (rc != CLI_OK)
        return rc;
    json_t *tasks = json_object_get(body, "tasks");
    if (!json_is_array(tasks)) {
        json_decref(body);
        return cli_fail(cli, "reminders' worklist has no tasks");
    }
    if (cli->json) {
        s_print_json(body);
        json_decref(body);
        return CLI_OK;
    }
    static const char *const headers[] = { "task", "due", "debtor", "name", "phone", "level",
                                           "currency", "amount", "status", "note" };
    static const bool right[] = { true, false, true, false, false, true, false, true, false,
                                  false };
    cli_table_t *t = cli_table_new(10, headers, right);
    size_t i;
    json_t *it;
    json_array_foreach(tasks, i, it) {
        char task[24], debtor[24], level[16], amount[40];
        const char *cur = cli_json_str(it, "currency");
        s_int(it, "task_id", task, sizeof task);
        s_int(it, "debtor_id", debtor, sizeof debtor);
        s_int(it, "level", level, sizeof level);
        cli_api_value("total_minor", json_object_get(it, "total_minor"), cur, amount,
                      sizeof amount);
        const char *cells[] = { task, cli_json_str(it, "due_date"), debtor, cli_json_str(it, "debtor"),
                                cli_json_str(it, "phone"), level, cur, amount, cli_json_str(it, "status"),
                                cli_json_str(it, "note") };
        cli_table_add(t, cells);
    }
    if (cli->csv)
        cli_table_print_csv(t, stdout);
    else {
        printf("phone worklist for %s (%s): %zu task%s\n", cli_json_str(body, "tenant"), o.status,
               json_array_size(tasks), json_array_size(tasks) == 1 ? "" : "s");
        if (json_array_size(tasks))
            cli_table_print(t, stdout, cli->color_out);
    }
    cli_table_destroy(&t);
    json_decref(body);
    return CLI_OK;
}
