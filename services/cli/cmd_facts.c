/*  cmd_facts: the commands that record one fact through intake, as a
    billing system would: `dispute open|resolve`, `promise record`,
    `payment record`, `plan create`. Each builds one IntakeItem, sends it
    in a one-item IntakeBatch over ZeroMQ and prints intake's answer:
    accepted (with Créance's id), duplicate (already recorded: the id of
    the first time; exit 0, resending is safe) or rejected (field: reason;
    exit 1). Identities are the source's ids: `--id` is required, so that
    running a command twice records the fact once. */
#include "cli.h"
#include "send.h"

#include "creance.pb-c.h"
#include "dates.h"
#include "money.h"

#include <czmq.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_INTAKE "tcp://127.0.0.1:5560"
#define MAX_LIST 100

enum {
    O_ID = 1, O_SOURCE, O_DATE, O_CURRENCY, O_AMOUNT, O_REASON, O_OUTCOME, O_METHOD, O_INVOICE,
    O_INSTALMENT
};

/*  Which options each command takes (bit per option code). */
#define BIT(o) (1u << (o))
typedef struct {
    const char *name, *sub;
    unsigned allowed;
} fact_cmd_t;

static const cli_option_t s_options[] = {
    { "id", true, O_ID },
    { "source", true, O_SOURCE },
    { "date", true, O_DATE },
    { "currency", true, O_CURRENCY },
    { "amount", true, O_AMOUNT },
    { "reason", true, O_REASON },
    { "outcome", true, O_OUTCOME },
    { "method", true, O_METHOD },
    { "invoice", true, O_INVOICE },
    { "instalment", true, O_INSTALMENT },
    { NULL, false, 0 }
};

static const fact_cmd_t s_fact_cmds[] = {
    { "dispute", "open", BIT(O_ID) | BIT(O_SOURCE) | BIT(O_DATE) | BIT(O_CURRENCY)
                         | BIT(O_AMOUNT) | BIT(O_REASON) },
    { "dispute", "resolve", BIT(O_SOURCE) | BIT(O_DATE) | BIT(O_OUTCOME) },
    { "promise", "record", BIT(O_ID) | BIT(O_SOURCE) | BIT(O_DATE) | BIT(O_CURRENCY)
                           | BIT(O_INVOICE) },
    { "payment", "record", BIT(O_ID) | BIT(O_SOURCE) | BIT(O_DATE) | BIT(O_CURRENCY)
                           | BIT(O_METHOD) | BIT(O_INVOICE) },
    { "plan", "create", BIT(O_ID) | BIT(O_SOURCE) | BIT(O_DATE) | BIT(O_CURRENCY)
                        | BIT(O_INVOICE) | BIT(O_INSTALMENT) },
};

typedef struct {
    const cli_t *cli;
    const cli_command_t *cmd;
    unsigned allowed;
    const char *id, *source, *currency, *amount, *reason, *outcome, *method;
    bool has_date;
    int32_t date;
    char *invoices[MAX_LIST];
    size_t ninvoices;
    char *instalments[MAX_LIST];    /* "DATE:AMOUNT", parsed once the currency is known */
    size_t ninstalments;
} fact_opts_t;

static int
s_on_option(void *arg, int code, const char *value)
{
    fact_opts_t *o = arg;
    const char *name = NULL;
    for (const cli_option_t *x = s_options; x->name; x++)
        if (x->code == code)
            name = x->name;
    if (!(o->allowed & BIT(code)))
        return cli_usage_error(o->cli, o->cmd, "--%s: not an option of this command", name);
    if (!*value && code != O_REASON)
        return cli_usage_error(o->cli, o->cmd, "--%s: empty", name);
    switch (code) {
    case O_ID:       o->id = value; break;
    case O_SOURCE:   o->source = value; break;
    case O_AMOUNT:   o->amount = value; break;
    case O_REASON:   o->reason = value; break;
    case O_METHOD:   o->method = value; break;
    case O_DATE:
        if (!date_parse(value, &o->date))
            return cli_usage_error(o->cli, o->cmd, "--date: '%s' is not a date YYYY-MM-DD",
                                   value);
        o->has_date = true;
        break;
    case O_CURRENCY:
        if (!currency_known(value))
            return cli_usage_error(o->cli, o->cmd, "--currency: '%s' is not an ISO 4217 "
                                   "currency code", value);
        o->currency = value;
        break;
    case O_OUTCOME:
        if (strcmp(value, "upheld") && strcmp(value, "rejected") && strcmp(value, "settled"))
            return cli_usage_error(o->cli, o->cmd, "--outcome: '%s' is not upheld, rejected "
                                   "or settled", value);
        o->outcome = value;
        break;
    case O_INVOICE:
        if (o->ninvoices == MAX_LIST)
            return cli_usage_error(o->cli, o->cmd, "--invoice: at most %d", MAX_LIST);
        o->invoices[o->ninvoices++] = (char *) value;
        break;
    case O_INSTALMENT:
        if (o->ninstalments == MAX_LIST)
            return cli_usage_error(o->cli, o->cmd, "--instalment: at most %d", MAX_LIST);
        o->instalments[o->ninstalments++] = (char *) value;
        break;
    }
    return CLI_OK;
}

static bool
s_amount(fact_opts_t *o, const char *what, const char *text, int64_t *minor)
{
    if (money_parse(text, o->currency, minor) && *minor > 0)
        return true;
    cli_usage_error(o->cli, o->cmd, "%s: '%s' is not an amount of %s (e.g. 1234.50, "
                    "positive, at most %d decimals)", what, text, o->currency,
                    currency_exponent(o->currency));
    return false;
}

/*  Sends `item` alone and prints intake's answer; `what` names the fact. */
static int
s_send(const cli_t *cli, const char *source, Creance__IntakeItem *item, const char *what,
       const char *ext_id)
{
    Creance__IntakeBatch b = CREANCE__INTAKE_BATCH__INIT;
    zuuid_t *uuid = zuuid_new();
    char batch_id[64];
    snprintf(batch_id, sizeof batch_id, "cli-%s", zuuid_str_canonical(uuid));
    zuuid_destroy(&uuid);
    b.tenant = (char *) cli->tenant;
    b.source = (char *) source;
    b.batch_id = batch_id;
    b.n_items = 1;
    b.items = &item;
    size_t len = creance__intake_batch__get_packed_size(&b);
    uint8_t *req = malloc(len ? len : 1);
    creance__intake_batch__pack(&b, req);
    /* Partitioned intakes: the one of the item's debtor, or the first for
       a dispute, which names only its invoice (any intake records it). */
    char endpoint[512];
    char error[600];
    if (!cli_intake_endpoint(cli_env("CREANCE_INTAKE_ENDPOINT", DEFAULT_INTAKE), cli->tenant,
                             item, endpoint, sizeof endpoint, error, sizeof error)) {
        free(req);
        return cli_fail(cli, "CREANCE_INTAKE_ENDPOINT: %s", error);
    }
    uint8_t *data;
    size_t data_len;
    int rc = cli_zmq_call(endpoint, req, len, cli->timeout_s, &data, &data_len, error,
                          sizeof error);
    free(req);
    if (rc != 0)
        return cli_fail(cli, "intake unreachable at %s: %s", endpoint, error);
    Creance__IntakeReply *r = creance__intake_reply__unpack(NULL, data_len, data);
    free(data);
    if (!r)
        return cli_fail(cli, "intake at %s gave an answer that is not an IntakeReply", endpoint);
    const char *status = NULL, *field = "", *reason = "";
    long long id = 0;
    if (r->error && *r->error)
        rc = cli_fail(cli, "intake refused the request: %s", r->error);
    else if (r->n_results != 1)
        rc = cli_fail(cli, "intake answered %zu results for one %s", r->n_results, what);
    else {
        const Creance__ItemResult *x = r->results[0];
        id = (long long) x->id;
        field = x->field ? x->field : "";
        reason = x->reason ? x->reason : "";
        if (x->status == CREANCE__ITEM_STATUS__ACCEPTED)
            status = "accepted";
        else if (x->status == CREANCE__ITEM_STATUS__DUPLICATE)
            status = "duplicate";
        else {
            status = "rejected";
            rc = cli_fail(cli, "intake rejected the %s %s: %s%s%s", what, ext_id, field,
                          *field ? ": " : "", reason);
        }
    }
    if (status && cli->json) {
        json_t *j = json_pack("{s:s, s:s, s:s}", "kind", what, "external_id", ext_id,
                              "status", status);
        if (strcmp(status, "rejected") == 0) {
            json_object_set_new(j, "field", json_string(field));
            json_object_set_new(j, "reason", json_string(reason));
        }
        else
            json_object_set_new(j, "id", json_integer(id));
        json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        fputc('\n', stdout);
        json_decref(j);
    }
    else if (status && strcmp(status, "accepted") == 0)
        printf("%s %s recorded (id %lld)\n", what, ext_id, id);
    else if (status && strcmp(status, "duplicate") == 0)
        printf("%s %s was already recorded (id %lld); nothing changed\n", what, ext_id, id);
    creance__intake_reply__free_unpacked(r, NULL);
    return rc;
}

int
cmd_fact(cli_t *cli, const cli_command_t *cmd, int argc, char **argv)
{
    fact_opts_t o = { .cli = cli, .cmd = cmd, .source = "csv", .currency = "EUR" };
    for (size_t k = 0; k < sizeof s_fact_cmds / sizeof s_fact_cmds[0]; k++)
        if (strcmp(s_fact_cmds[k].name, cmd->name) == 0 && strcmp(s_fact_cmds[k].sub, cmd->sub) == 0)
            o.allowed = s_fact_cmds[k].allowed;
    bool is_dispute = strcmp(cmd->name, "dispute") == 0;
    bool two_args = strcmp(cmd->name, "promise") == 0 || strcmp(cmd->name, "payment") == 0;
    char *pos[2];
    size_t npos;
    int rc = cli_parse_options(cli, cmd, argc, argv, s_options, s_on_option, &o, pos,
                               two_args ? 2 : 1, &npos);
    if (rc != CLI_OK)
        return rc;
    if (cli->help) {
        cli_print_help(cmd);
        return CLI_OK;
    }
    if (npos != (two_args ? 2u : 1u))
        return cli_usage_error(cli, cmd, "%s", is_dispute && strcmp(cmd->sub, "open") == 0
                               ? "the disputed invoice's external id is required"
                               : is_dispute ? "the dispute's external id is required"
                               : two_args ? "a debtor external id and an amount are required"
                               : "a debtor external id is required");
    if (!cli->tenant)
        return cli_usage_error(cli, cmd, "no tenant: give --tenant or set CREANCE_TENANT");
    bool resolve = is_dispute && strcmp(cmd->sub, "resolve") == 0;
    if (!resolve && !o.id)
        return cli_usage_error(cli, cmd, "--id is required: the fact's own id in your system "
                               "(recording it twice then changes nothing)");
    if (resolve && !o.outcome)
        return cli_usage_error(cli, cmd, "--outcome is required (upheld, rejected or settled)");
    if (strcmp(cmd->name, "promise") == 0 && !o.has_date)
        return cli_usage_error(cli, cmd, "--date is required: the day the debtor promised "
                               "to pay by");
    if (strcmp(cmd->name, "plan") == 0 && o.ninstalments == 0)
        return cli_usage_error(cli, cmd, "at least one --instalment DATE:AMOUNT is required");
    int32_t date = o.has_date ? o.date : date_today();

    Creance__IntakeItem item = CREANCE__INTAKE_ITEM__INIT;
    Creance__Date d = CREANCE__DATE__INIT;
    date_to_pb(date, &d);
    Creance__Money money = CREANCE__MONEY__INIT;
    money.currency = (char *) o.currency;
    int64_t minor = 0;
    const char *what = NULL, *ext_id = NULL;
    Creance__DisputeFact dispute = CREANCE__DISPUTE_FACT__INIT;
    Creance__PromiseFact promise = CREANCE__PROMISE_FACT__INIT;
    Creance__PaymentFact payment = CREANCE__PAYMENT_FACT__INIT;
    Creance__PaymentPlanFact plan = CREANCE__PAYMENT_PLAN_FACT__INIT;
    Creance__Instalment inst[MAX_LIST];
    Creance__Instalment *instp[MAX_LIST];
    Creance__Date inst_date[MAX_LIST];
    Creance__Money inst_money[MAX_LIST];

    if (is_dispute && !resolve) {
        what = "dispute";
        ext_id = o.id;
        dispute.external_id = (char *) o.id;
        dispute.invoice_external_id = pos[0];
        dispute.reason = (char *) (o.reason ? o.reason : "");
        dispute.opened_date = &d;
        if (o.amount) {
            if (!s_amount(&o, "--amount", o.amount, &minor))
                return CLI_USAGE;
            money.minor = minor;
            dispute.amount = &money;
        }
        item.fact_case = CREANCE__INTAKE_ITEM__FACT_DISPUTE;
        item.dispute = &dispute;
    }
    else if (resolve) {
        what = "dispute resolution";
        ext_id = pos[0];
        dispute.external_id = pos[0];
        dispute.resolve = true;
        dispute.outcome = (char *) o.outcome;
        dispute.resolved_date = &d;
        item.fact_case = CREANCE__INTAKE_ITEM__FACT_DISPUTE;
        item.dispute = &dispute;
    }
    else if (strcmp(cmd->name, "promise") == 0) {
        what = "promise";
        ext_id = o.id;
        if (!s_amount(&o, "AMOUNT", pos[1], &minor))
            return CLI_USAGE;
        money.minor = minor;
        promise.external_id = (char *) o.id;
        promise.debtor_external_id = pos[0];
        promise.amount = &money;
        promise.promised_date = &d;
        promise.n_invoice_external_ids = o.ninvoices;
        promise.invoice_external_ids = o.invoices;
        item.fact_case = CREANCE__INTAKE_ITEM__FACT_PROMISE;
        item.promise = &promise;
    }
    else if (strcmp(cmd->name, "payment") == 0) {
        what = "payment";
        ext_id = o.id;
        if (!s_amount(&o, "AMOUNT", pos[1], &minor))
            return CLI_USAGE;
        money.minor = minor;
        payment.external_id = (char *) o.id;
        payment.debtor_external_id = pos[0];
        payment.amount = &money;
        payment.received_date = &d;
        payment.method = (char *) (o.method ? o.method : "");
        payment.n_invoice_external_ids = o.ninvoices;
        payment.invoice_external_ids = o.invoices;
        item.fact_case = CREANCE__INTAKE_ITEM__FACT_PAYMENT;
        item.payment = &payment;
    }
    else {
        what = "payment plan";
        ext_id = o.id;
        for (size_t i = 0; i < o.ninstalments; i++) {
            char *spec = o.instalments[i];
            char *colon = strchr(spec, ':');
            char day[16];
            int32_t due;
            if (!colon || (size_t) (colon - spec) >= sizeof day)
                return cli_usage_error(cli, cmd, "--instalment: '%s' is not DATE:AMOUNT "
                                       "(e.g. 2024-07-31:500.00)", spec);
            memcpy(day, spec, (size_t) (colon - spec));
            day[colon - spec] = '\0';
            if (!date_parse(day, &due))
                return cli_usage_error(cli, cmd, "--instalment: '%s' is not a date "
                                       "YYYY-MM-DD", day);
            int64_t m;
            if (!s_amount(&o, "--instalment", colon + 1, &m))
                return CLI_USAGE;
            creance__instalment__init(&inst[i]);
            creance__date__init(&inst_date[i]);
            creance__money__init(&inst_money[i]);
            date_to_pb(due, &inst_date[i]);
            inst_money[i].minor = m;
            inst_money[i].currency = (char *) o.currency;
            inst[i].number = (int32_t) i + 1;
            inst[i].due_date = &inst_date[i];
            inst[i].amount = &inst_money[i];
            instp[i] = &inst[i];
        }
        plan.external_id = (char *) o.id;
        plan.debtor_external_id = pos[0];
        plan.agreed_date = &d;
        plan.n_invoice_external_ids = o.ninvoices;
        plan.invoice_external_ids = o.invoices;
        plan.n_instalments = o.ninstalments;
        plan.instalments = instp;
        item.fact_case = CREANCE__INTAKE_ITEM__FACT_PAYMENT_PLAN;
        item.payment_plan = &plan;
    }
    return s_send(cli, o.source, &item, what, ext_id);
}
