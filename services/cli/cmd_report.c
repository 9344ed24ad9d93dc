/*  cmd_report: `creance report outstanding`, from reporting's JSON API
    (GET /api/v1/outstanding with the tenant's API token). */
#include "cli.h"
#include "httpget.h"
#include "table.h"

#include "money.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define DEFAULT_REPORTING "127.0.0.1:8080"

/*  "12345" minor units of EUR as "123.45". */
static void
s_amount(json_t *minor, const char *currency, char *out, size_t len)
{
    if (json_is_integer(minor) && currency_exponent(currency) >= 0)
        money_format((int64_t) json_integer_value(minor), currency, out, len);
    else if (json_is_integer(minor))
        snprintf(out, len, "%lld", (long long) json_integer_value(minor));
    else
        snprintf(out, len, "-");
}

int
cmd_report_outstanding(cli_t *cli, const cli_command_t *cmd, int argc, char **argv)
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
    const char *addr = cli_env("CREANCE_REPORTING_HTTP", DEFAULT_REPORTING);
    char url[512];
    snprintf(url, sizeof url, "%s%s/api/v1/outstanding",
             strstr(addr, "://") ? "" : "http://", addr);
    cli_http_reply_t reply;
    if (cli_http_get(url, cli->token, cli->timeout_s, &reply) != 0) {
        rc = cli_fail(cli, "reporting unreachable at %s: %s", url, reply.error);
        cli_http_reply_free(&reply);
        return rc;
    }
    json_error_t jerr;
    json_t *body = json_loads(reply.body, 0, &jerr);
    if (reply.status != 200) {
        json_t *reason = json_object_get(json_object_get(body, "error"), "reason");
        rc = cli_fail(cli, "reporting answered %ld: %s", reply.status,
                      json_is_string(reason) ? json_string_value(reason) : reply.body);
        goto done;
    }
    json_t *totals = json_object_get(body, "totals");
    if (!json_is_array(totals)) {
        rc = cli_fail(cli, "reporting's answer has no totals: %.200s", reply.body);
        goto done;
    }
    if (cli->json) {
        json_dumpf(body, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        fputc('\n', stdout);
        rc = CLI_OK;
        goto done;
    }
    static const char *const headers[] = { "currency", "outstanding", "invoiced", "collected",
                                           "invoices", "payments" };
    static const bool right[] = { false, true, true, true, true, true };
    cli_table_t *t = cli_table_new(6, headers, right);
    size_t i;
    json_t *row;
    json_array_foreach(totals, i, row) {
        const char *cur = json_string_value(json_object_get(row, "currency"));
        cur = cur ? cur : "";
        char o[32], inv[32], col[32], ni[24], np[24];
        s_amount(json_object_get(row, "outstanding_minor"), cur, o, sizeof o);
        s_amount(json_object_get(row, "invoiced_minor"), cur, inv, sizeof inv);
        s_amount(json_object_get(row, "collected_minor"), cur, col, sizeof col);
        snprintf(ni, sizeof ni, "%lld",
                 (long long) json_integer_value(json_object_get(row, "invoice_count")));
        snprintf(np, sizeof np, "%lld",
                 (long long) json_integer_value(json_object_get(row, "payment_count")));
        const char *cells[] = { cur, o, inv, col, ni, np };
        cli_table_add(t, cells);
    }
    if (cli->csv)
        cli_table_print_csv(t, stdout);
    else {
        const char *tenant = json_string_value(json_object_get(body, "tenant"));
        const char *as_of = json_string_value(json_object_get(body, "as_of"));
        printf("outstanding for %s as of %s\n", tenant ? tenant : "?", as_of ? as_of : "?");
        cli_table_print(t, stdout, cli->color_out);
    }
    cli_table_destroy(&t);
    rc = CLI_OK;
done:
    json_decref(body);
    cli_http_reply_free(&reply);
    return rc;
}
