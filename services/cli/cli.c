/*  cli: option parsing and messages shared by the commands (see cli.h). */
#include "cli.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *
cli_env(const char *name, const char *dflt)
{
    const char *v = getenv(name);
    return v && *v ? v : dflt;
}

bool
cli_tenant_valid(const char *t)
{
    size_t n = strlen(t);
    if (n < 1 || n > 63)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = t[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
                  || (i > 0 && (c == '_' || c == '-'));
        if (!ok)
            return false;
    }
    return true;
}

int
cli_fail(const cli_t *cli, const char *fmt, ...)
{
    fflush(stdout);
    fprintf(stderr, "creance: %serror:%s ", cli->color_err ? "\033[1;31m" : "",
            cli->color_err ? "\033[0m" : "");
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return CLI_FAILED;
}

static void
s_cmd_name(const cli_command_t *cmd, char *out, size_t len)
{
    if (!cmd)
        snprintf(out, len, "creance");
    else if (cmd->sub)
        snprintf(out, len, "creance %s %s", cmd->name, cmd->sub);
    else
        snprintf(out, len, "creance %s", cmd->name);
}

int
cli_usage_error(const cli_t *cli, const cli_command_t *cmd, const char *fmt, ...)
{
    char name[64];
    s_cmd_name(cmd, name, sizeof name);
    fflush(stdout);
    fprintf(stderr, "%s: ", name);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\ntry '%s --help'\n", name);
    return CLI_USAGE;
}

void
cli_print_help(const cli_command_t *cmd)
{
    printf("usage: creance %s\n\n%s", cmd->usage, cmd->help);
    printf("\nGlobal options:\n"
           "  --tenant ID       tenant to work for (default: $CREANCE_TENANT)\n"
           "  --token TOKEN     API token for the HTTP services (default: $CREANCE_TOKEN)\n"
           "  --json            machine-readable output on stdout\n"
           "  --csv             CSV output on stdout (tables)\n"
           "  --timeout SECS    how long to wait for a service (default: $CREANCE_TIMEOUT or 30)\n"
           "  -h, --help        this help\n"
           "\nExit status: 0 success, 1 refused or failed (with a message), 2 usage error.\n");
}

enum { G_TENANT = -100, G_TOKEN, G_JSON, G_CSV, G_TIMEOUT, G_HELP };

static const cli_option_t s_globals[] = {
    { "tenant", true, G_TENANT },
    { "token", true, G_TOKEN },
    { "json", false, G_JSON },
    { "csv", false, G_CSV },
    { "timeout", true, G_TIMEOUT },
    { "help", false, G_HELP },
    { NULL, false, 0 }
};

/*  Applies a global option; CLI_USAGE (printed) on a bad value. */
static int
s_apply_global(cli_t *cli, const cli_command_t *cmd, int code, const char *value)
{
    switch (code) {
    case G_TENANT:
        if (!cli_tenant_valid(value))
            return cli_usage_error(cli, cmd, "--tenant: '%s' is not a tenant id "
                                   "(1 to 63 of a-z 0-9 _ -, starting with a letter or digit)",
                                   value);
        cli->tenant = value;
        return CLI_OK;
    case G_TOKEN:
        if (!*value)
            return cli_usage_error(cli, cmd, "--token: empty");
        cli->token = value;
        return CLI_OK;
    case G_JSON: cli->json = true; return CLI_OK;
    case G_CSV:  cli->csv = true; return CLI_OK;
    case G_TIMEOUT: {
        char *end;
        long v = strtol(value, &end, 10);
        if (!*value || *end || v < 1 || v > 3600)
            return cli_usage_error(cli, cmd, "--timeout: '%s' is not a number of seconds "
                                   "from 1 to 3600", value);
        cli->timeout_s = (int) v;
        return CLI_OK;
    }
    case G_HELP: cli->help = true; return CLI_OK;
    }
    return CLI_USAGE;
}

/*  Finds `arg` ("--name" or "--name=value") in `table`; *value points
    after '=' when there is one. */
static const cli_option_t *
s_find(const cli_option_t *table, const char *arg, const char **value)
{
    const char *name = arg + 2;
    size_t n = strcspn(name, "=");
    for (const cli_option_t *o = table; o && o->name; o++)
        if (strlen(o->name) == n && strncmp(o->name, name, n) == 0) {
            *value = name[n] == '=' ? name + n + 1 : NULL;
            return o;
        }
    return NULL;
}

static int
s_take(cli_t *cli, const cli_command_t *cmd, const cli_option_t *o, const char *inline_value,
       int argc, char **argv, int *i, const char **value)
{
    *value = NULL;
    if (!o->has_arg) {
        if (inline_value)
            return cli_usage_error(cli, cmd, "--%s takes no value", o->name);
        return CLI_OK;
    }
    if (inline_value) {
        *value = inline_value;
        return CLI_OK;
    }
    if (*i + 1 >= argc)
        return cli_usage_error(cli, cmd, "--%s: a value is required", o->name);
    *value = argv[++*i];
    return CLI_OK;
}

int
cli_global_option(cli_t *cli, int argc, char **argv, int *i)
{
    const char *arg = argv[*i];
    if (strcmp(arg, "-h") == 0) {
        cli->help = true;
        return 1;
    }
    if (strncmp(arg, "--", 2) != 0 || !arg[2])
        return 0;
    const char *inline_value, *value;
    const cli_option_t *o = s_find(s_globals, arg, &inline_value);
    if (!o)
        return 0;
    if (s_take(cli, NULL, o, inline_value, argc, argv, i, &value) != CLI_OK
        || s_apply_global(cli, NULL, o->code, value) != CLI_OK)
        return -1;
    return 1;
}

int
cli_parse_options(cli_t *cli, const cli_command_t *cmd, int argc, char **argv,
                  const cli_option_t *own,
                  int (*on_option)(void *arg, int code, const char *value), void *arg,
                  char **pos, size_t max_pos, size_t *npos)
{
    *npos = 0;
    bool options_done = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!options_done && strcmp(a, "--") == 0) {
            options_done = true;
            continue;
        }
        if (!options_done && strcmp(a, "-h") == 0) {
            cli->help = true;
            continue;
        }
        if (!options_done && a[0] == '-' && a[1] != '\0') {
            if (a[1] != '-')
                return cli_usage_error(cli, cmd, "%s: unknown option", a);
            const char *inline_value, *value;
            const cli_option_t *o = s_find(own, a, &inline_value);
            bool global = false;
            if (!o) {
                o = s_find(s_globals, a, &inline_value);
                global = true;
            }
            if (!o)
                return cli_usage_error(cli, cmd, "%.*s: unknown option", (int) strcspn(a, "="), a);
            int rc = s_take(cli, cmd, o, inline_value, argc, argv, &i, &value);
            if (rc != CLI_OK)
                return rc;
            rc = global ? s_apply_global(cli, cmd, o->code, value)
                        : on_option ? on_option(arg, o->code, value) : CLI_OK;
            if (rc != CLI_OK)
                return rc;
            continue;
        }
        if (*npos >= max_pos)
            return cli_usage_error(cli, cmd, "%s: unexpected argument", a);
        pos[(*npos)++] = (char *) a;
    }
    if (cli->json && cli->csv)
        return cli_usage_error(cli, cmd, "--json and --csv: choose one");
    return CLI_OK;
}
