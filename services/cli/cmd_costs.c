/*  cmd_costs: the tenant's price of a reminder action per channel, which
    the cost-of-collection KPI divides by what was collected.

        creance costs show
        creance costs set CHANNEL MINOR      e.g. costs set letter 210
        creance costs reset CHANNEL          back to the default

    On reporting's /api/v1/channel-costs (services/reporting/costs.h) with
    the tenant's token. Amounts are minor units (cents), as the API's, so
    that no currency has to be guessed. */
#include "cli.h"
#include "apicall.h"
#include "table.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*  One line per channel, from a list or from a single channel's answer. */
static void
s_print(const cli_t *cli, json_t *reply)
{
    if (cli->json) {
        char *text = json_dumps(reply, JSON_INDENT(2));
        if (text)
            puts(text);
        free(text);
        return;
    }
    static const char *const h[] = { "channel", "cost_minor", "source" };
    static const bool right[] = { false, true, false };
    cli_table_t *t = cli_table_new(3, h, right);
    json_t *list = json_object_get(reply, "costs"), *one = json_array();
    if (!list) {
        json_array_append(one, reply);
        list = one;
    }
    size_t i;
    json_t *row;
    json_array_foreach(list, i, row) {
        char n[24];
        snprintf(n, sizeof n, "%lld", (long long) json_integer_value(json_object_get(row, "cost_minor")));
        const char *cells[] = { cli_json_str(row, "channel"), n, cli_json_str(row, "source") };
        cli_table_add(t, cells);
    }
    json_decref(one);
    if (cli->csv)
        cli_table_print_csv(t, stdout);
    else
        cli_table_print(t, stdout, cli->color_out);
    cli_table_destroy(&t);
}

int
cmd_costs(cli_t *cli, const cli_command_t *cmd, int argc, char **argv)
{
    static const cli_option_t none[] = { { NULL, false, 0 } };
    char *pos[4];
    size_t npos = 0;
    int rc = cli_parse_options(cli, cmd, argc, argv, none, NULL, NULL, pos, 4, &npos);
    if (rc != CLI_OK)
        return rc;
    if (cli->help) {
        cli_print_help(cmd);
        return CLI_OK;
    }
    const char *action = npos ? pos[0] : "show";
    char path[128], body[64];
    const char *method = "GET", *text = NULL;
    if (strcmp(action, "show") == 0) {
        if (npos > 1)
            return cli_usage_error(cli, cmd, "costs show: no argument expected");
        snprintf(path, sizeof path, "/api/v1/channel-costs");
    }
    else if (strcmp(action, "set") == 0) {
        if (npos != 3)
            return cli_usage_error(cli, cmd, "costs set: CHANNEL and MINOR are required");
        char *end;
        errno = 0;
        long long minor = strtoll(pos[2], &end, 10);
        if (errno || end == pos[2] || *end || minor < 0)
            return cli_usage_error(cli, cmd, "MINOR: '%s' is not a whole number of minor units "
                                   "(cents) from 0", pos[2]);
        snprintf(path, sizeof path, "/api/v1/channel-costs/%s", pos[1]);
        snprintf(body, sizeof body, "{\"cost_minor\": %lld}", minor);
        method = "PUT";
        text = body;
    }
    else if (strcmp(action, "reset") == 0) {
        if (npos != 2)
            return cli_usage_error(cli, cmd, "costs reset: CHANNEL is required");
        snprintf(path, sizeof path, "/api/v1/channel-costs/%s", pos[1]);
        method = "DELETE";
    }
    else
        return cli_usage_error(cli, cmd, "'%s' is not show, set or reset", action);
    if (npos > 1 && strspn(pos[1], "abcdefghijklmnopqrstuvwxyz") != strlen(pos[1]))
        return cli_usage_error(cli, cmd, "CHANNEL: '%s' is not a channel name", pos[1]);
    json_t *reply = NULL;
    rc = cli_api_call(cli, &cli_reporting, method, path, cli->token, text, NULL, &reply, NULL);
    if (rc != CLI_OK)
        return rc;
    s_print(cli, reply);
    json_decref(reply);
    return CLI_OK;
}
