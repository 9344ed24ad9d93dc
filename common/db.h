/*  db: a PostgreSQL connection (libpq) that comes back after the server
    does. Any call that finds the connection broken drops it; the next call
    reconnects, at most once per second, so a down server costs one failed
    attempt per second, not one per event. Only parameterised SQL (and
    COPY FROM STDIN, whose rows are data). */
#ifndef CREANCE_DB_H
#define CREANCE_DB_H

#include <libpq-fe.h>
#include <stdbool.h>

typedef struct db_t db_t;

db_t     *db_new(const char *conninfo);
void      db_destroy(db_t **self_p);
/*  The live connection, connecting if needed; NULL while the server is down. */
PGconn   *db_conn(db_t *self);
bool      db_ready(db_t *self);

/*  Text parameters, text results. Returns a result whose status is
    PGRES_COMMAND_OK or PGRES_TUPLES_OK, or NULL after logging the error
    (and dropping the connection if it broke). Caller PQclear()s. */
PGresult *db_exec(db_t *self, const char *sql, int nparams, const char *const *params);
/*  Full control over formats (bytea parameters are binary: formats[i] = 1). */
PGresult *db_exec_ex(db_t *self, const char *sql, int nparams, const char *const *params,
                     const int *lengths, const int *formats, int result_format);
/*  For statements without a result set: 0 on success, -1 on error. */
int       db_run(db_t *self, const char *sql, int nparams, const char *const *params);
/*  `sql` is a COPY ... FROM STDIN; `data` its whole input, in the format
    the statement names. 0 on success, -1 on error (as db_run). */
int       db_copy_in(db_t *self, const char *sql, const char *data, size_t len);

/*  A statement whose result is not needed: inside a transaction it is
    queued and sent with the transaction's next statement, or its COMMIT,
    in one round trip; that call then reports its error, if any (the
    transaction is aborted: roll back). Outside a transaction it runs at
    once, as db_run. 0, or -1 on error. */
int       db_defer(db_t *self, const char *sql, int nparams, const char *const *params);

/*  BEGIN is sent with the transaction's first statement; a transaction
    that sent none commits without a round trip. */
int       db_begin(db_t *self);
int       db_commit(db_t *self);
void      db_rollback(db_t *self);
/*  SQLSTATE of the last failed statement ("" if none), e.g. "23505". */
const char *db_last_sqlstate(const db_t *self);
const char *db_last_error(const db_t *self);

#endif
