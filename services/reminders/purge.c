/*  purge: queued outbox files deleted (purge.h). */
#include "purge.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "metrics.h"

int rem_purge_name_ok(const char *name)
{
    size_t n = name ? strlen(name) : 0;
    if (n < 5 || n > 250 || strchr(name, '/') || name[0] == '.')
        return 0;
    return strcmp(name + n - 4, ".pdf") == 0;
}

int rem_purge_run(db_t *db, const char *outbox, int batch)
{
    char lim[16];
    snprintf(lim, sizeof lim, "%d", batch > 0 ? batch : 20);
    const char *p[] = { lim };
    PGresult *r = db_exec(db, "SELECT tenant, delivery_id::text, file FROM gdpr_file_purges"
                              " ORDER BY queued_at, tenant, delivery_id LIMIT $1::int", 1, p);
    if (!r)
        return -1;
    int done = 0;
    for (int i = 0; i < PQntuples(r); i++) {
        const char *tenant = PQgetvalue(r, i, 0), *delivery = PQgetvalue(r, i, 1),
                   *file = PQgetvalue(r, i, 2);
        bool gone = true;
        if (rem_purge_name_ok(file) && outbox && *outbox) {
            char path[1024];
            snprintf(path, sizeof path, "%s/%s", outbox, file);
            if (unlink(path) != 0 && errno != ENOENT) {
                log_warn("outbox file not deleted, retried tenant=%s delivery=%s file=%s error=%s",
                         tenant, delivery, file, strerror(errno));
                gone = false;
            }
        } else if (!rem_purge_name_ok(file)) {
            /*  Never a path outside the outbox: such a row is dropped. */
            log_warn("outbox purge refused tenant=%s delivery=%s field=file reason=\"not a"
                     " file name of the outbox\"", tenant, delivery);
        }
        if (!gone)
            continue;
        const char *d[] = { tenant, delivery };
        if (db_run(db, "DELETE FROM gdpr_file_purges WHERE tenant = $1 AND delivery_id = $2::bigint",
                   2, d)) {
            PQclear(r);
            return -1;
        }
        done++;
        log_info("outbox file deleted tenant=%s delivery=%s file=%s", tenant, delivery, file);
        metric_inc(metrics_counter("creance_reminders_outbox_files_purged_total",
                                   "Letters' PDF files deleted from the outbox (GDPR erasure,"
                                   " retention)", NULL));
    }
    PQclear(r);
    return done;
}
