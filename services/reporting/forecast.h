/*  forecast: weekly snapshots of the 13-week cash-in forecast
    (rpt_forecast_snapshots, 0041_reporting_collection.sql), so that the
    cash that came in can be set against what was forecast for that week.

    Risk keeps one prediction per open invoice (risk_predictions: open
    amount, expected payment date) and overwrites it as the ledger moves:
    the forecast of a past week is gone unless it was copied. Once a week
    (the week starts on Monday), for every tenant with predictions and no
    snapshot for this week yet, reporting copies the predictions grouped by
    forecast week: weeks 1..13 start on this Monday + 7(k - 1), a date
    before this Monday counts in week 1, after week 13 in week 14. The check
    runs at start and on a timer (CREANCE_REPORTING_SNAPSHOT_MS), so a
    service down on Monday takes the week's snapshot when it comes back.

    Forecast against actual (GET /api/v1/forecast/actual, kpiapi.c): for
    each past week, the forecast from the latest snapshot taken on or before
    that week's Monday, and the payments allocated to invoices in the week
    (rpt_daily.collected_minor) and the cash received (payments_minor). */
#ifndef CREANCE_REPORTING_FORECAST_H
#define CREANCE_REPORTING_FORECAST_H

#include <stdint.h>
#include "db.h"

/*  Pure: the Monday on or before day d. */
int32_t rpt_forecast_monday(int32_t d);
/*  Takes the snapshot of the week of `today` for the tenants that have
    none. Returns the rows written, or -1 on a database error (nothing
    written). A database without risk_predictions writes nothing. */
int     rpt_forecast_snapshot(db_t *db, int32_t today);

#endif
