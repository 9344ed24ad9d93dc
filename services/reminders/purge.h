/*  purge: deletes the letters' PDF files queued in gdpr_file_purges.

    The outbox folder (CREANCE_LETTER_OUTBOX) belongs to reminders and may
    be on another host than reporting, which erases debtors and runs the
    retention pass (reporting's erase.h, retention.h): those queue the
    files' names in their transaction, and reminders deletes them on its
    delivery tick, a few at a time. A file already gone (the print provider
    took it, an earlier tick deleted it) counts as deleted; any other error
    leaves the row for the next tick. Counted in
    creance_reminders_outbox_files_purged_total. */
#ifndef CREANCE_REMINDERS_PURGE_H
#define CREANCE_REMINDERS_PURGE_H

#include "db.h"

/*  Pure. True when `name` may be deleted from the outbox: a plain file
    name ending in ".pdf", no '/' and not "." or "..". */
int rem_purge_name_ok(const char *name);

/*  Deletes up to `batch` queued files from `outbox`. Returns how many rows
    were done, or -1 on a database error. */
int rem_purge_run(db_t *db, const char *outbox, int batch);

#endif
