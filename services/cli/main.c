/*  creance: the command-line client of Créance, for credit controllers and
    operators. It talks to the services over their public interfaces
    (intake and risk over ZeroMQ, reporting over HTTP), never to the
    database. See docs/cli.md.

        creance [global options] COMMAND [SUBCOMMAND] [options] [arguments]

    Commands live in a table (name, subcommand, handler, usage, help); each
    handler parses its own options with the global ones mixed in.
    Exit status: 0 success, 1 refused or failed, 2 usage error. */
#include "cli.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const cli_command_t s_commands[] = {
    { "import", NULL, cmd_import,
      "import [debtors|invoices|payments] FILE.csv [--kind KIND] [--dry-run] [--all-or-nothing] "
      "[--source NAME]",
      "Imports debtors, invoices or payments from a CSV file (header row, columns in\n"
      "docs/cli.md) into intake, and reports every bad line as FILE:LINE:COLUMN (name): reason.\n"
      "\n"
      "  KIND, --kind KIND  debtors, invoices or payments (default: guessed from the header)\n"
      "  --dry-run          check the file only; send nothing\n"
      "  --all-or-nothing   refuse the whole file if any line is bad (at most 5000 lines);\n"
      "                     default: record the good lines, report the bad ones\n"
      "  --source NAME      the sending system, part of each line's idempotency key\n"
      "                     (default: csv); importing the same file again changes nothing\n"
      "  FILE '-'           read standard input\n"
      "\n"
      "Separators ',' or ';' (detected), quotes as RFC 4180, UTF-8 (a BOM is fine).\n"
      "Amounts: 1234.50 (or 1234,50 in a ';' file). Dates: YYYY-MM-DD or DD/MM/YYYY.\n"
      "A progress bar shows on a terminal. Exit 1 if any line was bad or refused.\n"
      "Environment: CREANCE_INTAKE_ENDPOINT (default tcp://127.0.0.1:5560); partitioned\n"
      "intakes: their endpoints in partition order, comma-separated, and each line goes\n"
      "to the intake of its debtor.\n" },
    { "report", "outstanding", cmd_report_outstanding,
      "report outstanding [--token TOKEN] [--json|--csv]",
      "Prints what the tenant's debtors owe, per currency, from reporting's JSON API\n"
      "(GET /api/v1/outstanding; the API token names the tenant).\n"
      "Environment: CREANCE_REPORTING_HTTP (default 127.0.0.1:8080), CREANCE_TOKEN.\n" },
#define REPORT_OPTS \
      "  --as-of DATE     the day the figures are for (default: today)\n" \
      "  --from DATE, --to DATE  the period of flow KPIs (default: the 90 days to --as-of)\n" \
      "  --currency CUR   one currency only (default: all, one column or row each)\n"
#define REPORT_ENV \
      "--csv prints reporting's own CSV (amounts in minor units), --json its JSON.\n" \
      "Environment: CREANCE_REPORTING_HTTP (default 127.0.0.1:8080), CREANCE_TOKEN.\n"
    { "report", "kpis", cmd_report_api,
      "report kpis [--as-of DATE] [--from DATE] [--to DATE] [--currency CUR] "
      "[--segment country|kind] [--json|--csv]",
      "Prints the collection KPIs (outstanding, overdue, aging, DSO simple and count-back,\n"
      "CEI, recovery rate, days to pay, disputes...; definitions in docs/openapi.yaml),\n"
      "one line per KPI, one column per currency (GET /api/v1/kpis).\n\n"
      REPORT_OPTS
      "  --segment S      split by debtor country or kind\n"
      REPORT_ENV },
    { "report", "aging", cmd_report_api,
      "report aging [--as-of DATE] [--currency CUR] [--segment country|kind] [--json|--csv]",
      "Prints the open receivables by age bucket (GET /api/v1/aging).\n\n"
      REPORT_OPTS
      "  --segment S      split by debtor country or kind\n"
      REPORT_ENV },
    { "report", "dso", cmd_report_api,
      "report dso [--as-of DATE] [--months N] [--currency CUR] [--json|--csv]",
      "Prints DSO month by month (GET /api/v1/dso).\n\n"
      REPORT_OPTS
      "  --months N       how many months back (1..36, default 12)\n"
      REPORT_ENV },
    { "report", "forecast", cmd_report_api,
      "report forecast [--as-of DATE] [--currency CUR] [--json|--csv]",
      "Prints the 13-week cash-in forecast: what risk expects the open invoices to bring,\n"
      "week by week from --as-of (GET /api/v1/forecast).\n\n"
      REPORT_OPTS
      REPORT_ENV },
    { "costs", NULL, cmd_costs,
      "costs [show | set CHANNEL MINOR | reset CHANNEL] [--json|--csv]",
      "Shows or sets what one reminder action costs the tenant, per channel (email, sms,\n"
      "letter, phone, handoff, unspecified), in minor units (cents) of the reminders'\n"
      "currency: the cost-of-collection KPI is the cost of the reminders sent in a period\n"
      "divided by what was collected (GET/PUT/DELETE /api/v1/channel-costs). 'reset' goes\n"
      "back to the default price.\n"
      "Environment: CREANCE_REPORTING_HTTP (default 127.0.0.1:8080), CREANCE_TOKEN.\n" },
    { "reminders", "preview", cmd_reminders_preview,
      "reminders preview [--token TOKEN] [--json|--csv]",
      "Prints what the dunning pass would send today, debtor by debtor, and why: the\n"
      "level, channel, amount and reason of each reminder, or why a debtor is held\n"
      "(dispute, plan, promise, quiet hours...). Sends nothing\n"
      "(GET /api/v1/reminders/preview on reminders).\n"
      "Environment: CREANCE_REMINDERS_HTTP (default 127.0.0.1:8083), CREANCE_TOKEN.\n" },
    { "reminders", "worklist", cmd_reminders_worklist,
      "reminders worklist [--status open|done|all] [--token TOKEN] [--json|--csv]",
      "Prints the phone tasks of the dunning ladder (GET /api/v1/worklist on reminders).\n\n"
      "  --status S       open (default), done or all\n"
      "Environment: CREANCE_REMINDERS_HTTP (default 127.0.0.1:8083), CREANCE_TOKEN.\n" },
    { "credit", "check", cmd_credit_check,
      "credit check DEBTOR AMOUNT [--currency CUR] [--external] [--json]",
      "Asks risk whether to extend AMOUNT more credit to a debtor (CheckCredit over ZeroMQ)\n"
      "and prints the decision (approve, review or refuse) with its reasons.\n\n"
      "  DEBTOR           Créance's debtor id (or, with --external, your own)\n"
      "  AMOUNT           decimal amount, e.g. 2500.00\n"
      "  --currency CUR   the amount's currency (default EUR)\n"
      "  --external       DEBTOR is your own external id\n"
      "Exit 0 whenever risk answered, whatever the decision; 1 if it could not answer.\n"
      "Environment: CREANCE_RISK_ENDPOINT (default tcp://127.0.0.1:5570).\n" },
#define FACT_ENV \
      "  --source NAME    the system the ids belong to (default: csv, as 'creance import')\n" \
      "Prints intake's answer: recorded (with Créance's id), already recorded (nothing\n" \
      "changes; exit 0) or rejected with the field and reason (exit 1).\n" \
      "Environment: CREANCE_INTAKE_ENDPOINT (default tcp://127.0.0.1:5560; a comma-\n" \
      "separated list for partitioned intakes: the fact goes to its debtor's).\n"
    { "dispute", "open", cmd_fact,
      "dispute open INVOICE --id ID [--amount X] [--currency CUR] [--reason TEXT] "
      "[--date DATE] [--source NAME]",
      "Records that the debtor disputes an invoice (reminders pause on it).\n\n"
      "  INVOICE          the invoice's external id\n"
      "  --id ID          the dispute's id in your system (required)\n"
      "  --amount X       the disputed part (default: the whole open amount)\n"
      "  --currency CUR   of --amount (default EUR)\n"
      "  --reason TEXT    why\n"
      "  --date DATE      opened on (default: today)\n"
      FACT_ENV },
    { "dispute", "resolve", cmd_fact,
      "dispute resolve ID --outcome upheld|rejected|settled [--date DATE] [--source NAME]",
      "Records the end of a dispute.\n\n"
      "  ID               the dispute's id given to 'dispute open --id'\n"
      "  --outcome O      upheld, rejected or settled (required)\n"
      "  --date DATE      resolved on (default: today)\n"
      FACT_ENV },
    { "promise", "record", cmd_fact,
      "promise record DEBTOR AMOUNT --id ID --date DATE [--currency CUR] [--invoice INV]... "
      "[--source NAME]",
      "Records a debtor's promise to pay AMOUNT by DATE (reminders wait for it).\n\n"
      "  DEBTOR           the debtor's external id\n"
      "  --id ID          the promise's id in your system (required)\n"
      "  --date DATE      the promised day (required)\n"
      "  --currency CUR   default EUR\n"
      "  --invoice INV    an invoice the promise covers (repeatable)\n"
      FACT_ENV },
    { "payment", "record", cmd_fact,
      "payment record DEBTOR AMOUNT --id ID [--date DATE] [--currency CUR] [--method M] "
      "[--invoice INV]... [--source NAME]",
      "Records a payment received from a debtor, allocated to the invoices named, then to\n"
      "the oldest due.\n\n"
      "  DEBTOR           the debtor's external id\n"
      "  --id ID          the payment's id in your system (required)\n"
      "  --date DATE      received on (default: today)\n"
      "  --currency CUR   default EUR\n"
      "  --method M       transfer, card, direct_debit, cheque...\n"
      "  --invoice INV    an invoice the payer named, in order (repeatable)\n"
      FACT_ENV },
    { "plan", "create", cmd_fact,
      "plan create DEBTOR --id ID --instalment DATE:AMOUNT... [--invoice INV]... "
      "[--currency CUR] [--date DATE] [--source NAME]",
      "Records a payment plan agreed with a debtor (reminders pause while it holds).\n\n"
      "  DEBTOR           the debtor's external id\n"
      "  --id ID          the plan's id in your system (required)\n"
      "  --instalment DATE:AMOUNT  one instalment, in date order (repeatable, at least one),\n"
      "                   e.g. --instalment 2024-07-31:500.00\n"
      "  --invoice INV    an invoice the plan covers (repeatable)\n"
      "  --currency CUR   of the instalments (default EUR)\n"
      "  --date DATE      agreed on (default: today)\n"
      FACT_ENV },
    { "plan", "show", cmd_plan_show,
      "plan show PLAN | plan show --debtor DEBTOR [--json|--csv]",
      "Prints a payment plan, or every plan of a debtor, with its instalments: due date,\n"
      "amount and state (due, overdue: not paid yet after its day, paid, missed), from\n"
      "reminders (GET /api/v1/plans); the token names the tenant.\n\n"
      "  PLAN             Créance's plan id ('plan create' prints it)\n"
      "  --debtor         the argument is Créance's debtor id: all its plans\n"
      "--csv: one line per instalment.\n"
      "Environment: CREANCE_REMINDERS_HTTP (default 127.0.0.1:8083), CREANCE_TOKEN.\n" },
    { "debtor", "risk", cmd_debtor_risk,
      "debtor risk ID [--external] [--json|--csv]",
      "Prints a debtor's risk score, grade, outstanding and overdue amounts and the\n"
      "factors of the score, from risk (GetDebtorRisk over ZeroMQ).\n"
      "\n"
      "  ID            Créance's debtor id\n"
      "  --external    ID is your own external id for the debtor\n"
      "Environment: CREANCE_RISK_ENDPOINT (default tcp://127.0.0.1:5570).\n" },
    { "debtor", "show", cmd_debtor_show,
      "debtor show ID [--token TOKEN] [--json|--csv]",
      "Prints a debtor: name, balance per currency, open invoices (with their days late and\n"
      "disputed part), the risk score and its factors, and the last 20 reminders.\n"
      "From reporting (GET /api/v1/debtors/ID), risk (GetDebtorRisk) and reminders\n"
      "(GET /api/v1/reminders?debtor_id=ID); the token names the tenant.\n"
      "--csv prints the open invoices only. Plans and promises are not shown: no service\n"
      "serves them per debtor yet.\n\n"
      "  ID            Créance's debtor id\n"
      "Environment: CREANCE_REPORTING_HTTP, CREANCE_REMINDERS_HTTP, CREANCE_RISK_ENDPOINT,\n"
      "CREANCE_TOKEN.\n" },
    { "debtor", "search", cmd_debtor_search,
      "debtor search TEXT [--limit N] [--token TOKEN] [--json|--csv]",
      "Finds the tenant's debtors whose name, external id, company id or e-mail contains\n"
      "TEXT, whatever the case, and prints them with what they owe (GET /api/v1/debtors?q=\n"
      "on reporting; the token names the tenant). Exact ids and e-mails come first, then\n"
      "names and ids that start with TEXT, then the rest, by name. Nothing found: a line\n"
      "that says so, exit 0.\n\n"
      "  TEXT          1 to 100 characters\n"
      "  --limit N     at most N debtors (1..200, default 20)\n"
      "Environment: CREANCE_REPORTING_HTTP (default 127.0.0.1:8080), CREANCE_TOKEN.\n" },
    { "debtor", "export", cmd_debtor_export,
      "debtor export ID [--output FILE] [--token TOKEN]",
      "Prints everything Créance holds about a debtor as one JSON document (GDPR access and\n"
      "portability): identity and contact, invoices, payments, allocations, credit notes,\n"
      "write-offs, disputes, plans, promises, reminders with what each delivery sent and to\n"
      "whom, worklist, opt-outs, risk profile and score history, and its events\n"
      "(GET /api/v1/debtors/ID/export on reporting; the token names the tenant).\n\n"
      "  ID              Créance's debtor id\n"
      "  --output FILE   write the document to FILE instead of standard output\n"
      "Environment: CREANCE_REPORTING_HTTP (default 127.0.0.1:8080), CREANCE_TOKEN.\n" },
    { "debtor", "erase", cmd_debtor_erase,
      "debtor erase ID --yes [--force] [--token TOKEN]",
      "Erases a debtor's personal data (GDPR): its name becomes 'erased-ID', its company id,\n"
      "e-mail, phone, address, free-text reasons and the reminders' contents are blanked in\n"
      "every service and in the event log; amounts, dates, invoice numbers and ids are kept,\n"
      "so totals and KPIs do not change. Reminders never contact it again; intake refuses\n"
      "its personal data from then on. Cannot be undone.\n"
      "Refused (exit 1) while the debtor has open invoices, an open dispute, an active plan\n"
      "or an open promise: it is still being collected.\n\n"
      "  ID              Créance's debtor id\n"
      "  --yes           required: confirms the erasure\n"
      "  --force         erase even while something is open (amounts are kept either way)\n"
      "(POST /api/v1/debtors/ID/erase on reporting; the token names the tenant.)\n"
      "Environment: CREANCE_REPORTING_HTTP (default 127.0.0.1:8080), CREANCE_TOKEN.\n" },
#define ADMIN_ENV \
      "\n" \
      "  --admin-token T  the operator token (default: $CREANCE_ADMIN_TOKEN; prefer the\n" \
      "                   variable: a command line is visible to other users)\n" \
      "Reporting must know the operator token's SHA-256 (CREANCE_ADMIN_TOKEN_SHA256); without\n" \
      "it the operator API answers 403. 'make up' makes one: var/admin-token.\n" \
      "Environment: CREANCE_REPORTING_HTTP (default 127.0.0.1:8080), CREANCE_ADMIN_TOKEN.\n"
    { "admin", "tenant", cmd_admin_tenant,
      "admin tenant create ID --name NAME | admin tenant list [--json|--csv]",
      "Creates a tenant (a creditor whose ledger Créance keeps apart), or lists them with\n"
      "their number of active API tokens, on reporting's operator API (/admin/v1/tenants).\n\n"
      "  ID               1 to 63 of a-z 0-9 _ -, starting with a letter or digit\n"
      "  --name NAME      the tenant's name, as people read it (required)\n"
      "Exit 1 when the id is taken.\n"
      ADMIN_ENV },
    { "admin", "token", cmd_admin_token,
      "admin token create TENANT [--name N] | admin token list TENANT | "
      "admin token revoke TENANT NAME-or-PREFIX",
      "Makes, lists or revokes a tenant's API tokens (/admin/v1/tenants/ID/tokens).\n\n"
      "create  prints the new token, alone on stdout, this once: only its SHA-256 is kept,\n"
      "        with its prefix (\"ct_\" and 8 characters) to tell it apart. --name N names it\n"
      "        (default: the prefix); an active token of the tenant cannot have the same name.\n"
      "list    every token of the tenant: name, prefix, created, active or revoked when.\n"
      "revoke  the active token with that name, or else with that prefix (at least \"ct_\"\n"
      "        and 4 characters); refused (exit 1) when none or several match. Requests\n"
      "        with a revoked token are refused (401) at once.\n"
      ADMIN_ENV },
    { "admin", "retention", cmd_admin_retention,
      "admin retention show|run [--tenant ID] | admin retention set [--tenant ID] "
      "[--personal-data-years N] [--raw-payload-days N] [--reminder-content-days N]",
      "Shows or sets how long personal data is kept, per tenant (--tenant) or by default,\n"
      "and runs the retention pass now (reporting also runs it once a day):\n"
      "  - debtors with nothing open and no activity for N years are erased as by\n"
      "    'debtor erase' (default 3 years; CNIL recommends 3 years after the end of\n"
      "    the business relationship; amounts are kept);\n"
      "  - kept webhook answers (Stripe) older than N days are deleted (default 90);\n"
      "  - delivered reminders' recipient, subject and content, done worklist notes and\n"
      "    the letters' PDF files older than N days are purged (default 365).\n"
      "set changes only the periods given. run: --batch N debtors per tenant (default 100).\n"
      "(/admin/v1/retention, /admin/v1/tenants/ID/retention, /admin/v1/retention/run)\n"
      ADMIN_ENV },
    /* admin keys (the bus's CURVE keys) is in cmd_keys.c. */
    { "admin", "keys", cmd_admin_keys, "admin keys generate NAME --dir DIR [--force]",
      "Writes a CURVE key pair for a service or a client: DIR/NAME.key (public; copy it into\n"
      "the servers' CREANCE_CURVE_DIR/authorized/ folder) and DIR/NAME.key_secret (mode 0600;\n"
      "NAME uses it as CREANCE_CURVE_CERT=DIR/NAME.key). Never overwrites without --force.\n" },
};

#define NCOMMANDS (sizeof s_commands / sizeof s_commands[0])

static void
s_help(void)
{
    printf("usage: creance [global options] COMMAND [SUBCOMMAND] [options] [arguments]\n\n"
           "The command-line client of Créance (accounts-receivable collection).\n\n"
           "Commands:\n");
    for (size_t i = 0; i < NCOMMANDS; i++)
        printf("  creance %s\n", s_commands[i].usage);
    printf("\n'creance COMMAND [SUBCOMMAND] --help' tells more about each.\n"
           "\nGlobal options (before or after the command):\n"
           "  --tenant ID       tenant to work for (default: $CREANCE_TENANT)\n"
           "  --token TOKEN     API token for the HTTP services (default: $CREANCE_TOKEN)\n"
           "  --json            machine-readable output on stdout\n"
           "  --csv             CSV output on stdout (tables)\n"
           "  --timeout SECS    how long to wait for a service (default: $CREANCE_TIMEOUT or 30)\n"
           "  -h, --help        this help\n"
           "\nColours only on a terminal, never with NO_COLOR set.\n"
           "Exit status: 0 success, 1 refused or failed (with a message), 2 usage error.\n");
}

int
main(int argc, char **argv)
{
    cli_t cli = { .timeout_s = 30 };
    bool no_color = getenv("NO_COLOR") && *getenv("NO_COLOR");
    cli.color_out = !no_color && isatty(STDOUT_FILENO);
    cli.color_err = !no_color && isatty(STDERR_FILENO);
    const char *t = cli_env("CREANCE_TIMEOUT", NULL);
    if (t) {
        long v = strtol(t, NULL, 10);
        if (v < 1 || v > 3600) {
            fprintf(stderr, "creance: CREANCE_TIMEOUT='%s' is not a number of seconds from 1 "
                    "to 3600\n", t);
            return CLI_USAGE;
        }
        cli.timeout_s = (int) v;
    }
    const char *tenant = cli_env("CREANCE_TENANT", NULL);
    if (tenant) {
        if (!cli_tenant_valid(tenant)) {
            fprintf(stderr, "creance: CREANCE_TENANT='%s' is not a tenant id\n", tenant);
            return CLI_USAGE;
        }
        cli.tenant = tenant;
    }
    cli.token = cli_env("CREANCE_TOKEN", NULL);

    /* Global options before the command. */
    int i = 1;
    for (; i < argc; i++) {
        int g = cli_global_option(&cli, argc, argv, &i);
        if (g < 0)
            return CLI_USAGE;
        if (g == 0)
            break;
    }
    if (i >= argc) {
        if (cli.help) {
            s_help();
            return CLI_OK;
        }
        fprintf(stderr, "creance: a command is required\ntry 'creance --help'\n");
        return CLI_USAGE;
    }
    if (argv[i][0] == '-') {
        fprintf(stderr, "creance: %s: unknown option\ntry 'creance --help'\n", argv[i]);
        return CLI_USAGE;
    }
    const char *name = argv[i];
    const char *sub = i + 1 < argc ? argv[i + 1] : NULL;
    const cli_command_t *cmd = NULL;
    bool name_known = false;
    for (size_t k = 0; k < NCOMMANDS && !cmd; k++) {
        if (strcmp(s_commands[k].name, name) != 0)
            continue;
        name_known = true;
        if (!s_commands[k].sub || (sub && strcmp(s_commands[k].sub, sub) == 0))
            cmd = &s_commands[k];
    }
    if (!cmd) {
        if (!name_known) {
            fprintf(stderr, "creance: '%s' is not a command\ntry 'creance --help'\n", name);
            return CLI_USAGE;
        }
        if (cli.help || (sub && (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0))) {
            for (size_t k = 0; k < NCOMMANDS; k++)
                if (strcmp(s_commands[k].name, name) == 0)
                    printf("usage: creance %s\n", s_commands[k].usage);
            return CLI_OK;
        }
        fprintf(stderr, "creance %s: %s%s%s: expected one of:", name, sub ? "'" : "",
                sub ? sub : "a subcommand is required", sub ? "' is not a subcommand" : "");
        for (size_t k = 0; k < NCOMMANDS; k++)
            if (strcmp(s_commands[k].name, name) == 0)
                fprintf(stderr, " %s", s_commands[k].sub);
        fprintf(stderr, "\ntry 'creance %s --help'\n", name);
        return CLI_USAGE;
    }
    int skip = cmd->sub ? 1 : 0;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    int rc = cmd->run(&cli, cmd, argc - i - skip, argv + i + skip);
    curl_global_cleanup();
    fflush(stdout);
    return rc;
}
