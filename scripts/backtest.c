/*  creance-backtest: how good are risk's payment predictions?

    Reads one tenant's invoices from the ledger (invoices: issue, due and
    paid dates), replays them in time order and, on each invoice's issue
    day, predicts from the payments received strictly before that day (no
    peeking: services/risk/predict.c), exactly as the risk service would
    have. Prints, over the invoices whose outcome is known (paid):
      AUC of P(late) for "paid after the due date",
      mean absolute error of the expected payment date, in days,
    beside a naive baseline: everyone pays at the population's average
    delay (known on that day), with the same probability of lateness.

    usage: creance-backtest [--tenant ID] [--k N] [--json]
    The database is $CREANCE_DB_URL (default the local stack's). */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dates.h"
#include "db.h"
#include "log.h"
#include "../services/risk/predict.h"

static const char *usage_text =
    "usage: creance-backtest [--tenant ID] [--k N] [--json]\n"
    "Replays a tenant's invoices in time order and scores risk's payment\n"
    "predictions (made on each invoice's issue day from earlier payments only)\n"
    "against a naive baseline.\n"
    "  --tenant ID   tenant (default demo)\n"
    "  --k N         prior pseudo-observations, 0..1000 (default: the tenant's\n"
    "                risk policy, else 5)\n"
    "  --json        one JSON object instead of the table\n"
    "Database: $CREANCE_DB_URL (default postgresql://creance@127.0.0.1:55432/creance).\n";

static const char *SQL_INVOICES =
    "SELECT id, debtor_id, issue_date - date '1970-01-01', due_date - date '1970-01-01', "
    "  CASE WHEN status = 'paid' AND paid_date IS NOT NULL "
    "       THEN paid_date - date '1970-01-01' ELSE -1 END "
    "FROM invoices WHERE tenant = $1 AND status <> 'cancelled' ORDER BY issue_date, id";

static const char *SQL_K =
    "SELECT shrink_k FROM risk_policies WHERE tenant IN ($1, '*') ORDER BY (tenant = '*') LIMIT 1";

int
main(int argc, char **argv)
{
    const char *tenant = "demo";
    int k = -1;
    bool json = false;
    static const struct option opts[] = {
        { "tenant", required_argument, NULL, 't' },
        { "k", required_argument, NULL, 'k' },
        { "json", no_argument, NULL, 'j' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 't': tenant = optarg; break;
        case 'k': {
            char *end;
            long v = strtol(optarg, &end, 10);
            if (*end || v < 0 || v > 1000) {
                fprintf(stderr, "creance-backtest: --k: must be an integer 0..1000\n");
                return 2;
            }
            k = (int) v;
            break;
        }
        case 'j': json = true; break;
        case 'h': fputs(usage_text, stdout); return 0;
        default: fputs(usage_text, stderr); return 2;
        }
    }
    log_init("backtest");
    log_set_level(getenv("CREANCE_LOG_LEVEL") ? getenv("CREANCE_LOG_LEVEL") : "warn");
    const char *url = getenv("CREANCE_DB_URL");
    db_t *db = db_new(url && *url ? url : "postgresql://creance@127.0.0.1:55432/creance");
    if (!db || !db_ready(db)) {
        fprintf(stderr, "creance-backtest: database unavailable\n");
        return 1;
    }
    const char *params[] = { tenant };
    if (k < 0) {
        PGresult *r = db_exec(db, SQL_K, 1, params);
        k = r && PQntuples(r) == 1 ? atoi(PQgetvalue(r, 0, 0)) : 5;
        if (r)
            PQclear(r);
    }
    PGresult *r = db_exec(db, SQL_INVOICES, 1, params);
    if (!r) {
        fprintf(stderr, "creance-backtest: cannot read invoices: %s\n", db_last_error(db));
        db_destroy(&db);
        return 1;
    }
    size_t n = (size_t) PQntuples(r);
    risk_bt_invoice_t *inv = calloc(n + 1, sizeof *inv);
    for (size_t i = 0; i < n; i++) {
        inv[i].invoice_id = strtoll(PQgetvalue(r, (int) i, 0), NULL, 10);
        inv[i].debtor_id = strtoll(PQgetvalue(r, (int) i, 1), NULL, 10);
        inv[i].issue_date = atoi(PQgetvalue(r, (int) i, 2));
        inv[i].due_date = atoi(PQgetvalue(r, (int) i, 3));
        inv[i].paid_date = atoi(PQgetvalue(r, (int) i, 4));
    }
    PQclear(r);
    db_destroy(&db);

    risk_bt_result_t res;
    if (risk_backtest(inv, n, k, NULL, &res) != 0) {
        fprintf(stderr, "creance-backtest: out of memory\n");
        free(inv);
        return 1;
    }
    free(inv);
    if (json)
        printf("{\"tenant\":\"%s\",\"k\":%d,\"invoices\":%zu,\"evaluated\":%zu,\"paid_late\":%zu,"
               "\"auc\":%.4f,\"baseline_auc\":%.4f,\"mae_days\":%.2f,\"baseline_mae_days\":%.2f}\n",
               tenant, k, res.invoices, res.evaluated, res.late, res.auc, res.baseline_auc,
               res.mae_days, res.baseline_mae_days);
    else {
        printf("tenant %s: %zu invoices replayed, %zu paid (%zu late), k=%d\n", tenant,
               res.invoices, res.evaluated, res.late, k);
        printf("%-34s %10s %10s\n", "", "model", "baseline");
        printf("%-34s %10.4f %10.4f\n", "AUC, paid late", res.auc, res.baseline_auc);
        printf("%-34s %10.2f %10.2f\n", "MAE, payment date (days)", res.mae_days,
               res.baseline_mae_days);
    }
    return res.evaluated > 0 ? 0 : 1;
}
