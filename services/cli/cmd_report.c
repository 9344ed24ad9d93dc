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

/* ------------------------------------------------ kpis, aging, dso, forecast */

#include "apicall.h"
#include "dates.h"

#include <stdlib.h>

typedef struct {
    const char *sub;            /* "kpis" */
    const char *path;           /* "/api/v1/kpis" */
    const char *rows_key;       /* where the rows are in the JSON answer */
    const char *title;          /* first line of the table output */
    bool transpose;             /* one line per KPI, one column per currency */
} report_t;

static const report_t s_reports[] = {
    { "kpis", "/api/v1/kpis", "kpis", "collection KPIs", true },
    { "aging", "/api/v1/aging", "buckets", "aging of open receivables", false },
    { "dso", "/api/v1/dso", "trend", "DSO by month", false },
    { "forecast", "/api/v1/forecast", "weeks", "13-week cash-in forecast", false },
};

enum { O_AS_OF = 1, O_FROM, O_TO, O_CURRENCY, O_SEGMENT, O_MONTHS };

static const cli_option_t s_report_options[] = {
    { "as-of", true, O_AS_OF },
    { "from", true, O_FROM },
    { "to", true, O_TO },
    { "currency", true, O_CURRENCY },
    { "segment", true, O_SEGMENT },
    { "months", true, O_MONTHS },
    { NULL, false, 0 }
};

typedef struct {
    const cli_t *cli;
    const cli_command_t *cmd;
    const char *as_of, *from, *to, *currency, *segment, *months;
} report_opts_t;

static int
s_report_option(void *arg, int code, const char *value)
{
    report_opts_t *o = arg;
    int32_t d;
    switch (code) {
    case O_AS_OF: case O_FROM: case O_TO: {
        const char *name = code == O_AS_OF ? "--as-of" : code == O_FROM ? "--from" : "--to";
        if (!date_parse(value, &d))
            return cli_usage_error(o->cli, o->cmd, "%s: '%s' is not a date YYYY-MM-DD", name,
                                   value);
        *(code == O_AS_OF ? &o->as_of : code == O_FROM ? &o->from : &o->to) = value;
        return CLI_OK;
    }
    case O_CURRENCY:
        if (!currency_known(value))
            return cli_usage_error(o->cli, o->cmd, "--currency: '%s' is not an ISO 4217 "
                                   "currency code", value);
        o->currency = value;
        return CLI_OK;
    case O_SEGMENT:
        if (strcmp(o->cmd->sub, "kpis") && strcmp(o->cmd->sub, "aging"))
            return cli_usage_error(o->cli, o->cmd, "--segment: only for kpis and aging");
        if (strcmp(value, "country") && strcmp(value, "kind"))
            return cli_usage_error(o->cli, o->cmd, "--segment: '%s' is not country or kind",
                                   value);
        o->segment = value;
        return CLI_OK;
    case O_MONTHS: {
        char *end;
        long n = strtol(value, &end, 10);
        if (strcmp(o->cmd->sub, "dso"))
            return cli_usage_error(o->cli, o->cmd, "--months: only for dso");
        if (!*value || *end || n < 1 || n > 36)
            return cli_usage_error(o->cli, o->cmd, "--months: '%s' is not a number from 1 "
                                   "to 36", value);
        o->months = value;
        return CLI_OK;
    }
    }
    return CLI_USAGE;
}

/*  The label of a row's group: "EUR", or "EUR FR" with a segment. */
static void
s_group(json_t *row, char *out, size_t len)
{
    const char *cur = json_string_value(json_object_get(row, "currency"));
    const char *seg = json_string_value(json_object_get(row, "segment"));
    snprintf(out, len, "%s%s%s", cur ? cur : "?", seg ? " " : "", seg ? seg : "");
}

static void
s_print_transposed(json_t *rows, bool bold)
{
    size_t ncols = 1 + json_array_size(rows);
    const char **cells = calloc(ncols, sizeof *cells);
    char (*text)[64] = calloc(ncols, sizeof *text);
    cells[0] = "kpi";
    for (size_t c = 1; c < ncols; c++) {
        s_group(json_array_get(rows, c - 1), text[c], sizeof text[c]);
        cells[c] = text[c];
    }
    bool *right = calloc(ncols, sizeof *right);
    for (size_t c = 1; c < ncols; c++)
        right[c] = true;
    cli_table_t *t = cli_table_new(ncols, cells, right);
    const char *key;
    json_t *v;
    json_object_foreach(json_array_get(rows, 0), key, v) {
        if (strcmp(key, "currency") == 0 || strcmp(key, "segment") == 0)
            continue;
        cli_api_header(key, text[0], sizeof text[0]);
        cells[0] = text[0];
        for (size_t c = 1; c < ncols; c++) {
            json_t *row = json_array_get(rows, c - 1);
            cli_api_value(key, json_object_get(row, key),
                          json_string_value(json_object_get(row, "currency")), text[c],
                          sizeof text[c]);
            cells[c] = text[c];
        }
        cli_table_add(t, cells);
    }
    cli_table_print(t, stdout, bold);
    cli_table_destroy(&t);
    free(right);
    free(text);
    free(cells);
}

static void
s_print_rows(json_t *rows, bool bold)
{
    json_t *first = json_array_get(rows, 0);
    size_t ncols = json_object_size(first), c = 0;
    const char **cells = calloc(ncols, sizeof *cells);
    const char **keys = calloc(ncols, sizeof *keys);
    char (*text)[64] = calloc(ncols, sizeof *text);
    bool *right = calloc(ncols, sizeof *right);
    const char *key;
    json_t *v;
    json_object_foreach(first, key, v) {
        keys[c] = key;
        cli_api_header(key, text[c], sizeof text[c]);
        cells[c] = text[c];
        right[c] = json_is_integer(v);
        c++;
    }
    cli_table_t *t = cli_table_new(ncols, cells, right);
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row) {
        const char *cur = json_string_value(json_object_get(row, "currency"));
        for (c = 0; c < ncols; c++) {
            cli_api_value(keys[c], json_object_get(row, keys[c]), cur, text[c], sizeof text[c]);
            cells[c] = text[c];
        }
        cli_table_add(t, cells);
    }
    cli_table_print(t, stdout, bold);
    cli_table_destroy(&t);
    free(right);
    free(text);
    free(keys);
    free(cells);
}

int
cmd_report_api(cli_t *cli, const cli_command_t *cmd, int argc, char **argv)
{
    const report_t *rep = NULL;
    for (size_t k = 0; k < sizeof s_reports / sizeof s_reports[0]; k++)
        if (strcmp(s_reports[k].sub, cmd->sub) == 0)
            rep = &s_reports[k];
    if (!rep)
        return cli_usage_error(cli, cmd, "no such report");
    report_opts_t o = { .cli = cli, .cmd = cmd };
    char *pos[1];
    size_t npos;
    int rc = cli_parse_options(cli, cmd, argc, argv, s_report_options, s_report_option, &o,
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
    cli_path_init(&path, rep->path);
    cli_path_add(&path, "as_of", o.as_of);
    cli_path_add(&path, "from", o.from);
    cli_path_add(&path, "to", o.to);
    cli_path_add(&path, "currency", o.currency);
    cli_path_add(&path, "segment", o.segment);
    cli_path_add(&path, "months", o.months);
    if (cli->csv) {
        /* Reporting's own CSV: the same columns as the JSON rows. */
        cli_path_add(&path, "format", "csv");
        char *raw;
        rc = cli_api_get(cli, &cli_reporting, path.text, NULL, NULL, &raw);
        if (rc == CLI_OK)
            fputs(raw, stdout);
        free(raw);
        return rc;
    }
    json_t *body;
    rc = cli_api_get(cli, &cli_reporting, path.text, NULL, &body, NULL);
    if (rc != CLI_OK)
        return rc;
    json_t *rows = json_object_get(body, rep->rows_key);
    if (!json_is_array(rows)) {
        json_decref(body);
        return cli_fail(cli, "reporting's answer has no %s", rep->rows_key);
    }
    if (cli->json) {
        json_dumpf(body, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        fputc('\n', stdout);
        json_decref(body);
        return CLI_OK;
    }
    const char *tenant = json_string_value(json_object_get(body, "tenant"));
    const char *as_of = json_string_value(json_object_get(body, "as_of"));
    const char *from = json_string_value(json_object_get(body, "from"));
    printf("%s for %s", rep->title, tenant ? tenant : "?");
    if (from)
        printf(" from %s to %s\n", from, as_of ? as_of : "?");
    else
        printf(" as of %s\n", as_of ? as_of : "?");
    if (json_array_size(rows) == 0)
        printf("(nothing yet)\n");
    else if (rep->transpose)
        s_print_transposed(rows, cli->color_out);
    else
        s_print_rows(rows, cli->color_out);
    json_decref(body);
    return CLI_OK;
}
