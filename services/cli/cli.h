/*  cli: what the commands of `creance` share: the global options, the
    command table's entry type, messages and option parsing.

    Exit codes: CLI_OK 0 success, CLI_FAILED 1 refused or failed (with a
    message), CLI_USAGE 2 bad command line. */
#ifndef CLI_CLI_H
#define CLI_CLI_H

#include <stdbool.h>
#include <stddef.h>

enum { CLI_OK = 0, CLI_FAILED = 1, CLI_USAGE = 2 };

typedef struct {
    const char *tenant;         /* --tenant or CREANCE_TENANT */
    const char *token;          /* --token or CREANCE_TOKEN */
    bool json, csv;             /* output format */
    int timeout_s;              /* --timeout or CREANCE_TIMEOUT, seconds */
    bool color_out, color_err;  /* a terminal and no NO_COLOR */
    bool help;                  /* --help seen */
} cli_t;

typedef struct cli_command cli_command_t;
struct cli_command {
    const char *name;           /* "import", "report" */
    const char *sub;            /* "outstanding", or NULL */
    /* argv[0] is the command's name; the options and arguments follow. */
    int (*run)(cli_t *cli, const cli_command_t *cmd, int argc, char **argv);
    const char *usage;          /* one line, after "creance " */
    const char *help;           /* the rest of --help */
};

/*  An option of a command: `code` is returned by cli_parse_options. */
typedef struct {
    const char *name;           /* without the dashes */
    bool has_arg;
    int code;
} cli_option_t;

/*  Parses argv[1..] (argv[0] is the command's name): the command's own
    options, then the global ones (--tenant, --token, --json, --csv,
    --timeout, --help/-h). Calls on_option for each of the command's
    options; collects positional arguments (in order) into pos[], at most
    max_pos. Returns CLI_OK, or CLI_USAGE after printing why. */
int cli_parse_options(cli_t *cli, const cli_command_t *cmd, int argc, char **argv,
                      const cli_option_t *own,
                      int (*on_option)(void *arg, int code, const char *value), void *arg,
                      char **pos, size_t max_pos, size_t *npos);
/*  Parses a global option at argv[*i] (before the command); returns 1 if
    it was one (and advances *i past its value), 0 if not, -1 on a usage
    error (printed). */
int cli_global_option(cli_t *cli, int argc, char **argv, int *i);

/*  "creance: error: ..." on stderr (red on a terminal); returns CLI_FAILED. */
int cli_fail(const cli_t *cli, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/*  "creance <cmd>: ..." and "try 'creance <cmd> --help'"; returns CLI_USAGE. */
int cli_usage_error(const cli_t *cli, const cli_command_t *cmd, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void cli_print_help(const cli_command_t *cmd);
/*  getenv with a default for unset or empty. */
const char *cli_env(const char *name, const char *dflt);
/*  A tenant id as intake accepts it: 1 to 63 of a-z 0-9 _ -, starting
    with a letter or digit. */
bool cli_tenant_valid(const char *t);

/*  The commands (cmd_*.c). */
int cmd_import(cli_t *cli, const cli_command_t *cmd, int argc, char **argv);
int cmd_report_outstanding(cli_t *cli, const cli_command_t *cmd, int argc, char **argv);
int cmd_debtor_risk(cli_t *cli, const cli_command_t *cmd, int argc, char **argv);
int cmd_debtor_show(cli_t *cli, const cli_command_t *cmd, int argc, char **argv);
int cmd_report_api(cli_t *cli, const cli_command_t *cmd, int argc, char **argv);
int cmd_reminders_preview(cli_t *cli, const cli_command_t *cmd, int argc, char **argv);
int cmd_reminders_worklist(cli_t *cli, const cli_command_t *cmd, int argc, char **argv);
int cmd_credit_check(cli_t *cli, const cli_command_t *cmd, int argc, char **argv);
/*  dispute open|resolve, promise record, payment record, plan create. */
int cmd_fact(cli_t *cli, const cli_command_t *cmd, int argc, char **argv);
int cmd_debtor_search(cli_t *cli, const cli_command_t *cmd, int argc, char **argv);
int cmd_plan_show(cli_t *cli, const cli_command_t *cmd, int argc, char **argv);
/*  admin tenant create|list, admin token create|list|revoke (cmd_admin.c). */
int cmd_admin_tenant(cli_t *cli, const cli_command_t *cmd, int argc, char **argv);
int cmd_admin_token(cli_t *cli, const cli_command_t *cmd, int argc, char **argv);
/*  admin keys generate NAME --dir DIR (cmd_keys.c). */
int cmd_admin_keys(cli_t *cli, const cli_command_t *cmd, int argc, char **argv);
/*  debtor export|erase, admin retention show|set|run (cmd_gdpr.c). */
int cmd_debtor_export(cli_t *cli, const cli_command_t *cmd, int argc, char **argv);
int cmd_debtor_erase(cli_t *cli, const cli_command_t *cmd, int argc, char **argv);
int cmd_admin_retention(cli_t *cli, const cli_command_t *cmd, int argc, char **argv);
/*  costs show|set|reset (cmd_costs.c). */
int cmd_costs(cli_t *cli, const cli_command_t *cmd, int argc, char **argv);

#endif
