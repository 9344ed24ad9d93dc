/*  cmd_gdpr: personal data (GDPR) from the command line.

        creance debtor export ID [--output FILE]          (tenant token)
        creance debtor erase ID --yes [--force]           (tenant token)
        creance admin retention show|set|run ...          (operator token)

    On reporting's APIs (services/reporting/gdprapi.h, admin.h); never the
    database. Erasure cannot be undone: without --yes the command refuses
    (exit 2) and says what it would do. */
#include "cli.h"
#include "apicall.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { O_OUTPUT = 1, O_YES, O_FORCE, O_ADMIN_TOKEN, O_YEARS, O_PAYLOAD, O_CONTENT, O_BATCH };

static const cli_option_t s_options[] = {
    { "output", true, O_OUTPUT },
    { "yes", false, O_YES },
    { "force", false, O_FORCE },
    { "admin-token", true, O_ADMIN_TOKEN },
    { "personal-data-years", true, O_YEARS },
    { "raw-payload-days", true, O_PAYLOAD },
    { "reminder-content-days", true, O_CONTENT },
    { "batch", true, O_BATCH },
    { NULL, false, 0 }
};

typedef struct {
    const cli_t *cli;
    const cli_command_t *cmd;
    const char *output;
    bool yes, force;
    const char *admin_token;
    long years, payload, content, batch;    /* 0: not given */
} gdpr_opts_t;

/*  A whole number from 1 to max, for option `name`. */
static int s_number(const gdpr_opts_t *o, const char *name, const char *value, long max, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(value, &end, 10);
    if (errno || end == value || *end || v < 1 || v > max)
        return cli_usage_error(o->cli, o->cmd, "--%s: '%s' is not a whole number from 1 to %ld",
                               name, value, max);
    *out = v;
    return CLI_OK;
}

static int s_on_option(void *arg, int code, const char *value)
{
    gdpr_opts_t *o = arg;
    switch (code) {
    case O_OUTPUT:
        if (!*value)
            return cli_usage_error(o->cli, o->cmd, "--output: empty");
        o->output = value;
        return CLI_OK;
    case O_YES:     o->yes = true; return CLI_OK;
    case O_FORCE:   o->force = true; return CLI_OK;
    case O_ADMIN_TOKEN:
        if (!*value)
            return cli_usage_error(o->cli, o->cmd, "--admin-token: empty");
        o->admin_token = value;
        return CLI_OK;
    case O_YEARS:   return s_number(o, "personal-data-years", value, 100, &o->years);
    case O_PAYLOAD: return s_number(o, "raw-payload-days", value, 36500, &o->payload);
    case O_CONTENT: return s_number(o, "reminder-content-days", value, 36500, &o->content);
    case O_BATCH:   return s_number(o, "batch", value, 10000, &o->batch);
    }
    return CLI_OK;
}

/*  Options and positional arguments; -1 after --help was printed. */
static int s_parse(cli_t *cli, const cli_command_t *cmd, int argc, char **argv, gdpr_opts_t *o,
                   char **pos, size_t max_pos, size_t *npos)
{
    memset(o, 0, sizeof *o);
    o->cli = cli;
    o->cmd = cmd;
    o->admin_token = cli_env("CREANCE_ADMIN_TOKEN", NULL);
    int rc = cli_parse_options(cli, cmd, argc, argv, s_options, s_on_option, o, pos, max_pos, npos);
    if (rc != CLI_OK)
        return rc;
    if (cli->help) {
        cli_print_help(cmd);
        return -1;
    }
    return CLI_OK;
}

static int s_debtor_id(const gdpr_opts_t *o, char **pos, size_t npos, long long *id)
{
    if (npos != 1)
        return cli_usage_error(o->cli, o->cmd, "a debtor id is required");
    char *end;
    errno = 0;
    *id = strtoll(pos[0], &end, 10);
    if (errno || *end || end == pos[0] || *id <= 0)
        return cli_usage_error(o->cli, o->cmd, "'%s' is not a debtor id (a positive integer)",
                               pos[0]);
    if (!o->cli->token)
        return cli_usage_error(o->cli, o->cmd, "no API token: give --token or set CREANCE_TOKEN");
    return CLI_OK;
}

int cmd_debtor_export(cli_t *cli, const cli_command_t *cmd, int argc, char **argv)
{
    gdpr_opts_t o;
    char *pos[1];
    size_t npos = 0;
    long long id;
    int rc = s_parse(cli, cmd, argc, argv, &o, pos, 1, &npos);
    if (rc)
        return rc < 0 ? CLI_OK : rc;
    if ((rc = s_debtor_id(&o, pos, npos, &id)) != CLI_OK)
        return rc;
    char path[96], what[64];
    snprintf(path, sizeof path, "/api/v1/debtors/%lld/export", id);
    snprintf(what, sizeof what, "debtor %lld", id);
    json_t *doc = NULL;
    rc = cli_api_get(cli, &cli_reporting, path, what, &doc, NULL);
    if (rc != CLI_OK)
        return rc;
    FILE *f = stdout;
    if (o.output && !(f = fopen(o.output, "w"))) {
        json_decref(doc);
        return cli_fail(cli, "--output %s: %s", o.output, strerror(errno));
    }
    /*  The document is JSON whatever --json says: it is the export format. */
    json_dumpf(doc, f, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    fputc('\n', f);
    if (f != stdout && fclose(f) != 0) {
        json_decref(doc);
        return cli_fail(cli, "--output %s: %s", o.output, strerror(errno));
    }
    if (f != stdout)
        fprintf(stderr, "debtor %lld exported to %s (%zu events)\n", id, o.output,
                json_array_size(json_object_get(doc, "events")));
    json_decref(doc);
    return CLI_OK;
}

int cmd_debtor_erase(cli_t *cli, const cli_command_t *cmd, int argc, char **argv)
{
    gdpr_opts_t o;
    char *pos[1];
    size_t npos = 0;
    long long id;
    int rc = s_parse(cli, cmd, argc, argv, &o, pos, 1, &npos);
    if (rc)
        return rc < 0 ? CLI_OK : rc;
    if ((rc = s_debtor_id(&o, pos, npos, &id)) != CLI_OK)
        return rc;
    if (!o.yes)
        return cli_usage_error(cli, cmd, "erasing debtor %lld's personal data cannot be undone; "
                               "give --yes to confirm", id);
    char path[96], what[64];
    snprintf(path, sizeof path, "/api/v1/debtors/%lld/erase", id);
    snprintf(what, sizeof what, "debtor %lld", id);
    json_t *reply = NULL;
    rc = cli_api_call(cli, &cli_reporting, "POST", path, cli->token,
                      o.force ? "{\"force\":true}" : "{}", what, &reply, NULL);
    if (rc != CLI_OK)
        return rc;
    if (cli->json) {
        json_dumpf(reply, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        fputc('\n', stdout);
    } else if (json_is_true(json_object_get(reply, "already_erased")))
        printf("debtor %lld was already erased (%s)\n", id,
               json_string_value(json_object_get(reply, "erased_at")));
    else
        printf("debtor %lld erased: now '%s'; %lld rows and %lld events rewritten, %lld letter"
               " files to delete; amounts kept\n", id,
               json_string_value(json_object_get(reply, "pseudonym")),
               (long long) json_integer_value(json_object_get(reply, "rows_changed")),
               (long long) json_integer_value(json_object_get(reply, "events_rewritten")),
               (long long) json_integer_value(json_object_get(reply, "files_queued")));
    json_decref(reply);
    return CLI_OK;
}

static void s_print_periods(const cli_t *cli, json_t *r)
{
    if (cli->json) {
        json_dumpf(r, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        fputc('\n', stdout);
        return;
    }
    const char *tenant = json_string_value(json_object_get(r, "tenant"));
    printf("retention of %s%s\n", tenant ? tenant : "the default",
           tenant && !json_is_true(json_object_get(r, "own")) ? " (the default's)" : "");
    printf("  personal data          %lld years after the last activity, nothing open\n",
           (long long) json_integer_value(json_object_get(r, "personal_data_years")));
    printf("  webhook payloads       %lld days\n",
           (long long) json_integer_value(json_object_get(r, "raw_payload_days")));
    printf("  reminder contents      %lld days\n",
           (long long) json_integer_value(json_object_get(r, "reminder_content_days")));
}

int cmd_admin_retention(cli_t *cli, const cli_command_t *cmd, int argc, char **argv)
{
    gdpr_opts_t o;
    char *pos[1];
    size_t npos = 0;
    int rc = s_parse(cli, cmd, argc, argv, &o, pos, 1, &npos);
    if (rc)
        return rc < 0 ? CLI_OK : rc;
    if (npos != 1)
        return cli_usage_error(cli, cmd, "an action is required: show, set or run");
    if (!o.admin_token)
        return cli_usage_error(cli, cmd, "no operator token: give --admin-token or set "
                               "CREANCE_ADMIN_TOKEN");
    const char *action = pos[0];
    char path[160];
    if (cli->tenant)
        snprintf(path, sizeof path, "/admin/v1/tenants/%s/retention", cli->tenant);
    else
        snprintf(path, sizeof path, "/admin/v1/retention");
    json_t *reply = NULL;
    if (strcmp(action, "show") == 0) {
        rc = cli_api_call(cli, &cli_reporting, "GET", path, o.admin_token, NULL, "tenant",
                          &reply, NULL);
        if (rc == CLI_OK)
            s_print_periods(cli, reply);
    } else if (strcmp(action, "set") == 0) {
        json_t *body = json_object();
        if (o.years)
            json_object_set_new(body, "personal_data_years", json_integer(o.years));
        if (o.payload)
            json_object_set_new(body, "raw_payload_days", json_integer(o.payload));
        if (o.content)
            json_object_set_new(body, "reminder_content_days", json_integer(o.content));
        if (json_object_size(body) == 0) {
            json_decref(body);
            return cli_usage_error(cli, cmd, "set: give at least one of --personal-data-years,"
                                   " --raw-payload-days, --reminder-content-days");
        }
        char *text = json_dumps(body, JSON_COMPACT);
        json_decref(body);
        rc = cli_api_call(cli, &cli_reporting, "PUT", path, o.admin_token, text, "tenant",
                          &reply, NULL);
        free(text);
        if (rc == CLI_OK)
            s_print_periods(cli, reply);
    } else if (strcmp(action, "run") == 0) {
        json_t *body = json_object();
        if (cli->tenant)
            json_object_set_new(body, "tenant", json_string(cli->tenant));
        if (o.batch)
            json_object_set_new(body, "batch", json_integer(o.batch));
        char *text = json_dumps(body, JSON_COMPACT);
        json_decref(body);
        rc = cli_api_call(cli, &cli_reporting, "POST", "/admin/v1/retention/run", o.admin_token,
                          text, "tenant", &reply, NULL);
        free(text);
        if (rc == CLI_OK && cli->json) {
            json_dumpf(reply, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
            fputc('\n', stdout);
        } else if (rc == CLI_OK)
            printf("retention pass done: %lld tenants, %lld debtors erased%s, %lld webhook"
                   " payloads deleted, %lld reminder contents and %lld worklist notes purged,"
                   " %lld letter files to delete\n",
                   (long long) json_integer_value(json_object_get(reply, "tenants")),
                   (long long) json_integer_value(json_object_get(reply, "debtors_erased")),
                   json_integer_value(json_object_get(reply, "tenants_with_more"))
                       ? " (more left for the next run)" : "",
                   (long long) json_integer_value(json_object_get(reply, "stripe_events_deleted")),
                   (long long) json_integer_value(json_object_get(reply, "reminder_contents_purged")),
                   (long long) json_integer_value(json_object_get(reply, "worklist_notes_purged")),
                   (long long) json_integer_value(json_object_get(reply, "files_queued")));
    } else
        return cli_usage_error(cli, cmd, "'%s' is not an action: show, set or run", action);
    json_decref(reply);
    return rc;
}
