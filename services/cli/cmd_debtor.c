/*  cmd_debtor: `creance debtor risk ID`, a GetDebtorRisk query to risk over
    ZeroMQ (REQ envelope on a DEALER). */
#include "cli.h"
#include "send.h"
#include "table.h"

#include "creance.pb-c.h"
#include "money.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { O_EXTERNAL = 1 };

static const cli_option_t s_options[] = {
    { "external", false, O_EXTERNAL },
    { NULL, false, 0 }
};

static int
s_on_option(void *arg, int code, const char *value)
{
    if (code == O_EXTERNAL)
        *(bool *) arg = true;
    return CLI_OK;
}

static void
s_money(const Creance__Money *m, char *out, size_t len)
{
    if (!m || !m->currency || currency_exponent(m->currency) < 0) {
        snprintf(out, len, "0");
        return;
    }
    char amount[32];
    money_format(m->minor, m->currency, amount, sizeof amount);
    snprintf(out, len, "%s %s", amount, m->currency);
}

int
cmd_debtor_risk(cli_t *cli, const cli_command_t *cmd, int argc, char **argv)
{
    bool external = false;
    char *pos[1];
    size_t npos;
    int rc = cli_parse_options(cli, cmd, argc, argv, s_options, s_on_option, &external, pos, 1,
                               &npos);
    if (rc != CLI_OK)
        return rc;
    if (cli->help) {
        cli_print_help(cmd);
        return CLI_OK;
    }
    if (npos != 1)
        return cli_usage_error(cli, cmd, "a debtor id is required");
    if (!cli->tenant)
        return cli_usage_error(cli, cmd, "no tenant: give --tenant or set CREANCE_TENANT");

    Creance__GetDebtorRisk get = CREANCE__GET_DEBTOR_RISK__INIT;
    get.tenant = (char *) cli->tenant;
    if (!external) {
        char *end;
        errno = 0;
        long long id = strtoll(pos[0], &end, 10);
        if (errno || *end || end == pos[0] || id <= 0)
            return cli_usage_error(cli, cmd, "'%s' is not a debtor id (a positive integer; "
                                   "use --external for your own ids)", pos[0]);
        get.debtor_id = id;
    }
    else
        get.debtor_external_id = pos[0];
    Creance__Query q = CREANCE__QUERY__INIT;
    q.query_case = CREANCE__QUERY__QUERY_GET_DEBTOR_RISK;
    q.get_debtor_risk = &get;
    Creance__QueryReply *reply;
    rc = cli_risk_query(cli, &q, CREANCE__QUERY_REPLY__REPLY_DEBTOR_RISK, &reply);
    if (rc != CLI_OK)
        return rc;
    const Creance__DebtorRisk *r = reply->debtor_risk;
    if (!r->found)
        rc = cli_fail(cli, "debtor %s not found for tenant %s", pos[0], cli->tenant);
    else {
        char outstanding[64], overdue[64];
        s_money(r->outstanding, outstanding, sizeof outstanding);
        s_money(r->overdue, overdue, sizeof overdue);
        if (cli->json) {
            json_t *factors = json_array();
            for (size_t i = 0; i < r->n_factors; i++)
                json_array_append_new(factors, json_pack("{s:s, s:i, s:s}",
                    "name", r->factors[i]->name, "contribution", r->factors[i]->contribution,
                    "detail", r->factors[i]->detail));
            json_t *j = json_pack("{s:s, s:I, s:i, s:s, s:{s:I, s:s}, s:{s:I, s:s}, s:o}",
                "tenant", r->tenant, "debtor_id", (json_int_t) r->debtor_id,
                "score", r->score, "grade", r->grade,
                "outstanding", "minor", (json_int_t) (r->outstanding ? r->outstanding->minor : 0),
                "currency", r->outstanding ? r->outstanding->currency : "",
                "overdue", "minor", (json_int_t) (r->overdue ? r->overdue->minor : 0),
                "currency", r->overdue ? r->overdue->currency : "",
                "factors", factors);
            json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
            fputc('\n', stdout);
            json_decref(j);
        }
        else {
            static const char *const headers[] = { "factor", "points", "detail" };
            static const bool right[] = { false, true, false };
            cli_table_t *t = cli_table_new(3, headers, right);
            for (size_t i = 0; i < r->n_factors; i++) {
                char pts[16];
                snprintf(pts, sizeof pts, "%d", r->factors[i]->contribution);
                const char *cells[] = { r->factors[i]->name, pts, r->factors[i]->detail };
                cli_table_add(t, cells);
            }
            if (cli->csv)
                cli_table_print_csv(t, stdout);
            else {
                printf("debtor %lld  score %d  grade %s\noutstanding %s  overdue %s\n\n",
                       (long long) r->debtor_id, r->score, *r->grade ? r->grade : "-",
                       outstanding, overdue);
                cli_table_print(t, stdout, cli->color_out);
            }
            cli_table_destroy(&t);
        }
        rc = CLI_OK;
    }
    creance__query_reply__free_unpacked(reply, NULL);
    return rc;
}

/* ------------------------------------------------------------ debtor show */

#include "apicall.h"

/*  GetDebtorRisk for `tenant`'s debtor `id`; *out the DebtorRisk reply
    (caller frees *reply) or CLI_FAILED after printing why. */
static int
s_query_risk(const cli_t *cli, const char *tenant, long long id, Creance__QueryReply **reply)
{
    Creance__GetDebtorRisk get = CREANCE__GET_DEBTOR_RISK__INIT;
    get.tenant = (char *) tenant;
    get.debtor_id = id;
    Creance__Query q = CREANCE__QUERY__INIT;
    q.query_case = CREANCE__QUERY__QUERY_GET_DEBTOR_RISK;
    q.get_debtor_risk = &get;
    return cli_risk_query(cli, &q, CREANCE__QUERY_REPLY__REPLY_DEBTOR_RISK, reply);
}

static const char *
s_jstr(json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

int
cmd_debtor_show(cli_t *cli, const cli_command_t *cmd, int argc, char **argv)
{
    char *pos[1];
    size_t npos;
    int rc = cli_parse_options(cli, cmd, argc, argv, NULL, NULL, NULL, pos, 1, &npos);
    if (rc != CLI_OK)
        return rc;
    if (cli->help) {
        cli_print_help(cmd);
        return CLI_OK;
    }
    if (npos != 1)
        return cli_usage_error(cli, cmd, "a debtor id is required");
    char *end;
    errno = 0;
    long long id = strtoll(pos[0], &end, 10);
    if (errno || *end || end == pos[0] || id <= 0)
        return cli_usage_error(cli, cmd, "'%s' is not a debtor id (a positive integer)", pos[0]);
    if (!cli->token)
        return cli_usage_error(cli, cmd, "no API token: give --token or set CREANCE_TOKEN");

    char path[64], what[64];
    snprintf(path, sizeof path, "/api/v1/debtors/%lld", id);
    snprintf(what, sizeof what, "debtor %lld", id);
    json_t *rep = NULL, *rem = NULL;
    Creance__QueryReply *risk = NULL;
    rc = cli_api_get(cli, &cli_reporting, path, what, &rep, NULL);
    if (rc != CLI_OK)
        return rc;
    /* The token named the tenant; risk is asked for the same one. */
    const char *tenant = s_jstr(rep, "tenant");
    snprintf(path, sizeof path, "/api/v1/reminders?debtor_id=%lld&limit=20", id);
    rc = cli_api_get(cli, &cli_reminders, path, NULL, &rem, NULL);
    if (rc == CLI_OK)
        rc = s_query_risk(cli, tenant, id, &risk);
    if (rc != CLI_OK)
        goto done;
    const Creance__DebtorRisk *r = risk->debtor_risk;
    json_t *invoices = json_object_get(rep, "invoices");
    json_t *reminders = json_object_get(rem, "reminders");

    if (cli->json) {
        json_t *factors = json_array();
        for (size_t i = 0; r->found && i < r->n_factors; i++)
            json_array_append_new(factors, json_pack("{s:s, s:i, s:s}",
                "name", r->factors[i]->name, "contribution", r->factors[i]->contribution,
                "detail", r->factors[i]->detail));
        json_t *j = json_pack("{s:s, s:O, s:O, s:O, s:O}", "tenant", tenant,
                              "debtor", json_object_get(rep, "debtor"),
                              "balance", json_object_get(rep, "risk"),
                              "invoices", invoices ? invoices : json_null(),
                              "reminders", reminders ? reminders : json_null());
        json_object_set_new(j, "risk", r->found
            ? json_pack("{s:i, s:s, s:o}", "score", r->score, "grade", r->grade,
                        "factors", factors)
            : (json_decref(factors), json_null()));
        json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        fputc('\n', stdout);
        json_decref(j);
        goto done;
    }

    static const char *const ih[] = { "invoice", "number", "due", "days late", "currency",
                                      "amount", "open", "disputed" };
    static const bool ir[] = { true, false, false, true, false, true, true, true };
    cli_table_t *inv = cli_table_new(8, ih, ir);
    size_t i, nopen = 0;
    json_t *it;
    json_array_foreach(invoices, i, it) {
        if (json_integer_value(json_object_get(it, "open_minor")) <= 0)
            continue;
        nopen++;
        const char *cur = s_jstr(it, "currency");
        char iid[24], late[16], amount[40], open[40], disputed[40];
        cli_api_value("invoice_id", json_object_get(it, "invoice_id"), cur, iid, sizeof iid);
        cli_api_value("days_past_due", json_object_get(it, "days_past_due"), cur, late,
                      sizeof late);
        cli_api_value("amount_minor", json_object_get(it, "amount_minor"), cur, amount,
                      sizeof amount);
        cli_api_value("open_minor", json_object_get(it, "open_minor"), cur, open, sizeof open);
        cli_api_value("disputed_minor", json_object_get(it, "disputed_minor"), cur, disputed,
                      sizeof disputed);
        const char *cells[] = { iid, s_jstr(it, "number"), s_jstr(it, "due_date"), late, cur,
                                amount, open, disputed };
        cli_table_add(inv, cells);
    }
    if (cli->csv) {
        /* CSV: the open invoices, the one table of the page. */
        cli_table_print_csv(inv, stdout);
        cli_table_destroy(&inv);
        goto done;
    }
    json_t *d = json_object_get(rep, "debtor");
    /* Reporting's copy may not know the external id: say only what it knows. */
    const char *ext = s_jstr(d, "external_id"), *country = s_jstr(d, "country");
    printf("debtor %lld  %s", id, s_jstr(d, "legal_name"));
    if (*ext || *country)
        printf("  (%s%s%s%s)", *ext ? "external id " : "", ext, *ext && *country ? ", " : "",
               country);
    putchar('\n');
    json_t *bal;
    json_array_foreach(json_object_get(rep, "risk"), i, bal) {
        char o[40];
        const char *cur = s_jstr(bal, "currency");
        cli_api_value("outstanding_minor", json_object_get(bal, "outstanding_minor"), cur, o,
                      sizeof o);
        printf("balance %s %s, %lld open invoice%s\n", o, cur,
               (long long) json_integer_value(json_object_get(bal, "open_invoices")),
               json_integer_value(json_object_get(bal, "open_invoices")) == 1 ? "" : "s");
    }
    if (r->found)
        printf("risk score %d, grade %s\n", r->score, *r->grade ? r->grade : "-");
    else
        printf("risk: not scored yet\n");

    printf("\nopen invoices (%zu)\n", nopen);
    if (nopen)
        cli_table_print(inv, stdout, cli->color_out);
    cli_table_destroy(&inv);

    if (r->found && r->n_factors) {
        static const char *const fh[] = { "factor", "points", "detail" };
        static const bool fr[] = { false, true, false };
        cli_table_t *f = cli_table_new(3, fh, fr);
        for (size_t k = 0; k < r->n_factors; k++) {
            char pts[16];
            snprintf(pts, sizeof pts, "%d", r->factors[k]->contribution);
            const char *cells[] = { r->factors[k]->name, pts, r->factors[k]->detail };
            cli_table_add(f, cells);
        }
        printf("\nscore factors\n");
        cli_table_print(f, stdout, cli->color_out);
        cli_table_destroy(&f);
    }

    static const char *const rh[] = { "reminder", "planned", "level", "channel", "status",
                                      "currency", "amount", "reason" };
    static const bool rr[] = { true, false, true, false, false, false, true, false };
    cli_table_t *rt = cli_table_new(8, rh, rr);
    json_array_foreach(reminders, i, it) {
        const char *cur = s_jstr(it, "currency");
        char rid[24], level[16], amount[40];
        cli_api_value("reminder_id", json_object_get(it, "reminder_id"), cur, rid, sizeof rid);
        cli_api_value("level", json_object_get(it, "level"), cur, level, sizeof level);
        cli_api_value("total_minor", json_object_get(it, "total_minor"), cur, amount,
                      sizeof amount);
        const char *cells[] = { rid, s_jstr(it, "planned_date"), level, s_jstr(it, "channel"),
                                s_jstr(it, "status"), cur, amount, s_jstr(it, "reason") };
        cli_table_add(rt, cells);
    }
    printf("\nreminders (last %zu)\n", json_array_size(reminders));
    if (json_array_size(reminders))
        cli_table_print(rt, stdout, cli->color_out);
    cli_table_destroy(&rt);
done:
    if (risk)
        creance__query_reply__free_unpacked(risk, NULL);
    json_decref(rep);
    json_decref(rem);
    return rc;
}

/* ------------------------------------------------------------ debtor search */

enum { O_LIMIT = 1 };

static const cli_option_t s_search_options[] = {
    { "limit", true, O_LIMIT },
    { NULL, false, 0 }
};

typedef struct {
    const cli_t *cli;
    const cli_command_t *cmd;
    const char *limit;
} search_opts_t;

static int
s_search_option(void *arg, int code, const char *value)
{
    search_opts_t *o = arg;
    char *end;
    long n = strtol(value, &end, 10);
    if (!*value || *end || n < 1 || n > 200)
        return cli_usage_error(o->cli, o->cmd, "--limit: '%s' is not a number from 1 to 200",
                               value);
    o->limit = value;
    return CLI_OK;
}

/*  "1500.50 EUR, 20.00 USD" from the answer's open balances. */
static void
s_open_text(json_t *open, char *out, size_t len)
{
    size_t n = 0, i;
    json_t *b;
    out[0] = '\0';
    json_array_foreach(open, i, b) {
        const char *cur = s_jstr(b, "currency");
        char amount[40];
        cli_api_value("open_minor", json_object_get(b, "open_minor"), cur, amount, sizeof amount);
        int w = snprintf(out + n, len - n, "%s%s %s", i ? ", " : "", amount, cur);
        if (w < 0 || (size_t) w >= len - n)
            break;
        n += (size_t) w;
    }
    if (!n)
        snprintf(out, len, "-");
}

int
cmd_debtor_search(cli_t *cli, const cli_command_t *cmd, int argc, char **argv)
{
    search_opts_t o = { .cli = cli, .cmd = cmd };
    char *pos[1];
    size_t npos;
    int rc = cli_parse_options(cli, cmd, argc, argv, s_search_options, s_search_option, &o, pos,
                               1, &npos);
    if (rc != CLI_OK)
        return rc;
    if (cli->help) {
        cli_print_help(cmd);
        return CLI_OK;
    }
    if (npos != 1)
        return cli_usage_error(cli, cmd, "the text to search for is required");
    const char *q = pos[0];
    while (*q == ' ')
        q++;
    size_t qlen = strlen(q);
    while (qlen && q[qlen - 1] == ' ')
        qlen--;
    if (qlen == 0 || qlen > 100)
        return cli_usage_error(cli, cmd, "the text to search for must have 1 to 100 characters");
    if (!cli->token)
        return cli_usage_error(cli, cmd, "no API token: give --token or set CREANCE_TOKEN");
    cli_path_t path;
    cli_path_init(&path, "/api/v1/debtors");
    cli_path_add(&path, "q", pos[0]);
    cli_path_add(&path, "limit", o.limit);
    json_t *body;
    rc = cli_api_get(cli, &cli_reporting, path.text, NULL, &body, NULL);
    if (rc != CLI_OK)
        return rc;
    json_t *debtors = json_object_get(body, "debtors");
    if (!json_is_array(debtors)) {
        json_decref(body);
        return cli_fail(cli, "reporting's answer has no debtors");
    }
    if (cli->json) {
        json_dumpf(body, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        fputc('\n', stdout);
        json_decref(body);
        return CLI_OK;
    }
    static const char *const h[] = { "debtor", "external id", "name", "company id", "e-mail",
                                     "country", "open" };
    static const bool right[] = { true, false, false, false, false, false, true };
    cli_table_t *t = cli_table_new(7, h, right);
    size_t i;
    json_t *d;
    json_array_foreach(debtors, i, d) {
        char id[24], open[160];
        cli_api_value("debtor_id", json_object_get(d, "debtor_id"), NULL, id, sizeof id);
        s_open_text(json_object_get(d, "open"), open, sizeof open);
        const char *cells[] = { id, s_jstr(d, "external_id"), s_jstr(d, "legal_name"),
                                s_jstr(d, "company_id"), s_jstr(d, "email"), s_jstr(d, "country"),
                                open };
        cli_table_add(t, cells);
    }
    size_t n = json_array_size(debtors);
    bool truncated = json_is_true(json_object_get(body, "truncated"));
    if (cli->csv)
        cli_table_print_csv(t, stdout);
    else if (n == 0)
        printf("no debtor of %s matches '%s'\n", s_jstr(body, "tenant"), s_jstr(body, "q"));
    else {
        printf("%s%zu debtor%s of %s matching '%s'\n", truncated ? "the first " : "", n,
               n == 1 ? "" : "s", s_jstr(body, "tenant"), s_jstr(body, "q"));
        cli_table_print(t, stdout, cli->color_out);
        if (truncated)
            printf("(more match: narrow the text, or --limit up to 200)\n");
    }
    cli_table_destroy(&t);
    json_decref(body);
    return CLI_OK;
}
