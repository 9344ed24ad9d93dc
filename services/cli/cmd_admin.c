/*  cmd_admin: `creance admin tenant create|list` and `creance admin token
    create|list|revoke`, on reporting's operator API (/admin/v1/, see
    services/reporting/admin.h) with the operator token of
    --admin-token or CREANCE_ADMIN_TOKEN. Never the database. */
#include "cli.h"
#include "apicall.h"
#include "table.h"

#include <curl/curl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { O_NAME = 1, O_ADMIN_TOKEN };

static const cli_option_t s_options[] = {
    { "name", true, O_NAME },
    { "admin-token", true, O_ADMIN_TOKEN },
    { NULL, false, 0 }
};

typedef struct {
    const cli_t *cli;
    const cli_command_t *cmd;
    const char *name;
    const char *admin_token;
} admin_opts_t;

static int
s_on_option(void *arg, int code, const char *value)
{
    admin_opts_t *o = arg;
    if (code == O_NAME) {
        if (!*value)
            return cli_usage_error(o->cli, o->cmd, "--name: empty");
        o->name = value;
    }
    else if (code == O_ADMIN_TOKEN) {
        if (!*value)
            return cli_usage_error(o->cli, o->cmd, "--admin-token: empty");
        o->admin_token = value;
    }
    return CLI_OK;
}

/*  Parses the command line: pos[0] is the action. CLI_OK, or CLI_USAGE
    (printed), or -1 after --help was printed. */
static int
s_parse(cli_t *cli, const cli_command_t *cmd, int argc, char **argv, admin_opts_t *o,
        char **pos, size_t max_pos, size_t *npos)
{
    memset(o, 0, sizeof *o);
    o->cli = cli;
    o->cmd = cmd;
    o->admin_token = cli_env("CREANCE_ADMIN_TOKEN", NULL);
    int rc = cli_parse_options(cli, cmd, argc, argv, s_options, s_on_option, o, pos, max_pos,
                               npos);
    if (rc != CLI_OK)
        return rc;
    if (cli->help) {
        cli_print_help(cmd);
        return -1;
    }
    if (*npos == 0)
        return cli_usage_error(cli, cmd, "an action is required");
    return CLI_OK;
}

static int
s_need_token(const admin_opts_t *o)
{
    if (!o->admin_token)
        return cli_usage_error(o->cli, o->cmd, "no operator token: give --admin-token or set "
                               "CREANCE_ADMIN_TOKEN");
    return CLI_OK;
}

static void
s_print_json(json_t *j)
{
    json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    fputc('\n', stdout);
}

/*  A path segment percent-encoded (a token name may hold spaces). */
static void
s_segment(const char *text, char *out, size_t len)
{
    char *esc = curl_easy_escape(NULL, text, 0);
    snprintf(out, len, "%s", esc ? esc : "");
    curl_free(esc);
}

static void
s_print_rows(const cli_t *cli, cli_table_t *t)
{
    if (cli->csv)
        cli_table_print_csv(t, stdout);
    else
        cli_table_print(t, stdout, cli->color_out);
}

/* ------------------------------------------------------------ tenants */

int
cmd_admin_tenant(cli_t *cli, const cli_command_t *cmd, int argc, char **argv)
{
    admin_opts_t o;
    char *pos[3];
    size_t npos;
    int rc = s_parse(cli, cmd, argc, argv, &o, pos, 3, &npos);
    if (rc)
        return rc < 0 ? CLI_OK : rc;
    const char *action = pos[0];
    json_t *reply = NULL;
    if (strcmp(action, "create") == 0) {
        if (npos != 2)
            return cli_usage_error(cli, cmd, "admin tenant create: a tenant id is required");
        if (!cli_tenant_valid(pos[1]))
            return cli_usage_error(cli, cmd, "'%s' is not a tenant id (1 to 63 of a-z 0-9 _ -, "
                                   "starting with a letter or digit)", pos[1]);
        if (!o.name)
            return cli_usage_error(cli, cmd, "admin tenant create: --name is required");
        if ((rc = s_need_token(&o)) != CLI_OK)
            return rc;
        json_t *body = json_pack("{s:s, s:s}", "id", pos[1], "name", o.name);
        char *text = json_dumps(body, JSON_COMPACT);
        json_decref(body);
        rc = cli_api_call(cli, &cli_reporting, "POST", "/admin/v1/tenants", o.admin_token, text,
                          NULL, &reply, NULL);
        free(text);
        if (rc != CLI_OK)
            return rc;
        if (cli->json)
            s_print_json(reply);
        else
            printf("tenant %s created (%s)\n", cli_json_str(reply, "id"), cli_json_str(reply, "name"));
        json_decref(reply);
        return CLI_OK;
    }
    if (strcmp(action, "list") == 0) {
        if (npos != 1)
            return cli_usage_error(cli, cmd, "admin tenant list: no argument expected");
        if (o.name)
            return cli_usage_error(cli, cmd, "--name: only for 'admin tenant create'");
        if ((rc = s_need_token(&o)) != CLI_OK)
            return rc;
        rc = cli_api_call(cli, &cli_reporting, "GET", "/admin/v1/tenants", o.admin_token, NULL,
                          NULL, &reply, NULL);
        if (rc != CLI_OK)
            return rc;
        if (cli->json) {
            s_print_json(reply);
            json_decref(reply);
            return CLI_OK;
        }
        static const char *const h[] = { "tenant", "name", "created", "active tokens" };
        static const bool right[] = { false, false, false, true };
        cli_table_t *t = cli_table_new(4, h, right);
        size_t i;
        json_t *row;
        json_array_foreach(json_object_get(reply, "tenants"), i, row) {
            char n[24];
            snprintf(n, sizeof n, "%lld",
                     (long long) json_integer_value(json_object_get(row, "active_tokens")));
            const char *cells[] = { cli_json_str(row, "id"), cli_json_str(row, "name"),
                                    cli_json_str(row, "created_at"), n };
            cli_table_add(t, cells);
        }
        s_print_rows(cli, t);
        cli_table_destroy(&t);
        json_decref(reply);
        return CLI_OK;
    }
    return cli_usage_error(cli, cmd, "'%s' is not create or list", action);
}

/* ------------------------------------------------------------ tokens */

int
cmd_admin_token(cli_t *cli, const cli_command_t *cmd, int argc, char **argv)
{
    admin_opts_t o;
    char *pos[4];
    size_t npos;
    int rc = s_parse(cli, cmd, argc, argv, &o, pos, 4, &npos);
    if (rc)
        return rc < 0 ? CLI_OK : rc;
    const char *action = pos[0];
    bool create = strcmp(action, "create") == 0, list = strcmp(action, "list") == 0,
         revoke = strcmp(action, "revoke") == 0;
    if (!create && !list && !revoke)
        return cli_usage_error(cli, cmd, "'%s' is not create, list or revoke", action);
    size_t want = revoke ? 3 : 2;
    if (npos < 2)
        return cli_usage_error(cli, cmd, "admin token %s: a tenant id is required", action);
    if (npos != want)
        return cli_usage_error(cli, cmd, revoke
                               ? "admin token revoke: the tenant and the token's name or prefix "
                                 "are required"
                               : "admin token %s: one tenant id expected", action);
    const char *tenant = pos[1];
    if (!cli_tenant_valid(tenant))
        return cli_usage_error(cli, cmd, "'%s' is not a tenant id (1 to 63 of a-z 0-9 _ -, "
                               "starting with a letter or digit)", tenant);
    if (o.name && !create)
        return cli_usage_error(cli, cmd, "--name: only for 'admin token create'");
    if (revoke && !*pos[2])
        return cli_usage_error(cli, cmd, "admin token revoke: empty token name or prefix");
    if (revoke && strchr(pos[2], '/'))
        return cli_usage_error(cli, cmd, "admin token revoke: '%s': token names and prefixes "
                               "have no '/'", pos[2]);
    if ((rc = s_need_token(&o)) != CLI_OK)
        return rc;

    char path[512], what[128], ref[300];
    snprintf(path, sizeof path, "/admin/v1/tenants/%s/tokens", tenant);
    snprintf(what, sizeof what, "tenant %s", tenant);
    json_t *reply = NULL;
    if (create) {
        json_t *body = o.name ? json_pack("{s:s}", "name", o.name) : json_object();
        char *text = json_dumps(body, JSON_COMPACT);
        json_decref(body);
        rc = cli_api_call(cli, &cli_reporting, "POST", path, o.admin_token, text, what, &reply,
                          NULL);
        free(text);
        if (rc != CLI_OK)
            return rc;
        if (cli->json)
            s_print_json(reply);
        else {
            /* The token alone on stdout, so that `$(creance admin token
               create ...)` is the token; what it is on stderr. */
            printf("%s\n", cli_json_str(reply, "token"));
            fflush(stdout);
            fprintf(stderr, "creance: token '%s' (%s) created for tenant %s; it is shown only "
                    "this once: keep it now\n", cli_json_str(reply, "name"), cli_json_str(reply, "prefix"),
                    tenant);
        }
        json_decref(reply);
        return CLI_OK;
    }
    if (revoke) {
        s_segment(pos[2], ref, sizeof ref);
        size_t n = strlen(path);
        snprintf(path + n, sizeof path - n, "/%s", ref);
        rc = cli_api_call(cli, &cli_reporting, "DELETE", path, o.admin_token, NULL, NULL, &reply,
                          NULL);
        if (rc != CLI_OK)
            return rc;
        if (cli->json)
            s_print_json(reply);
        else
            printf("token '%s' (%s) of tenant %s revoked\n", cli_json_str(reply, "name"),
                   *cli_json_str(reply, "prefix") ? cli_json_str(reply, "prefix") : "no prefix", tenant);
        json_decref(reply);
        return CLI_OK;
    }
    rc = cli_api_call(cli, &cli_reporting, "GET", path, o.admin_token, NULL, what, &reply, NULL);
    if (rc != CLI_OK)
        return rc;
    if (cli->json) {
        s_print_json(reply);
        json_decref(reply);
        return CLI_OK;
    }
    static const char *const h[] = { "name", "prefix", "created", "status" };
    cli_table_t *t = cli_table_new(4, h, NULL);
    size_t i;
    json_t *row;
    json_array_foreach(json_object_get(reply, "tokens"), i, row) {
        char status[64];
        const char *revoked = cli_json_str(row, "revoked_at");
        snprintf(status, sizeof status, "%s%s", *revoked ? "revoked " : "active", revoked);
        const char *cells[] = { cli_json_str(row, "name"), *cli_json_str(row, "prefix") ? cli_json_str(row, "prefix")
                                                                          : "-",
                                cli_json_str(row, "created_at"), status };
        cli_table_add(t, cells);
    }
    s_print_rows(cli, t);
    cli_table_destroy(&t);
    json_decref(reply);
    return CLI_OK;
}
