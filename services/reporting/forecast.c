/*  forecast: weekly forecast snapshots. See forecast.h. */
#include "forecast.h"

#include <stdbool.h>
#include <stdlib.h>

#include "dates.h"
#include "log.h"

int32_t rpt_forecast_monday(int32_t d)
{
    /*  1970-01-01 (day 0) was a Thursday: Mondays are the days with
        (d + 3) % 7 == 0. */
    int32_t back = ((d + 3) % 7 + 7) % 7;
    return d - back;
}

int rpt_forecast_snapshot(db_t *db, int32_t today)
{
    PGresult *r = db_exec(db, "SELECT to_regclass('risk_predictions') IS NOT NULL", 0, NULL);
    if (!r)
        return -1;
    bool available = PQntuples(r) == 1 && PQgetvalue(r, 0, 0)[0] == 't';
    PQclear(r);
    if (!available)
        return 0;
    char monday[11];
    date_format(rpt_forecast_monday(today), monday);
    const char *params[] = { monday };
    /*  One statement for every tenant: a tenant whose snapshot of this week
        exists already is left alone (the primary key would refuse it too). */
    r = db_exec(db,
        "INSERT INTO rpt_forecast_snapshots (tenant, taken_on, currency, week_start,"
        " expected_minor, invoices)"
        " SELECT tenant, $1::date, currency,"
        "  $1::date + 7 * least(greatest((expected_pay_date - $1::date) / 7, 0), 13),"
        "  sum(open_minor), count(*)"
        " FROM risk_predictions p WHERE NOT EXISTS (SELECT 1 FROM rpt_forecast_snapshots s"
        "  WHERE s.tenant = p.tenant AND s.taken_on = $1::date)"
        " GROUP BY 1, 2, 3, 4"
        " ON CONFLICT DO NOTHING", 1, params);
    if (!r)
        return -1;
    int n = atoi(PQcmdTuples(r));
    PQclear(r);
    if (n > 0)
        log_info("forecast snapshot taken week=%s rows=%d", monday, n);
    return n;
}
