/*  db: a libpq connection that survives server restarts. */
#include "db.h"
#include "log.h"
#include "metrics.h"

#include <czmq.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/*  Statements are prepared once per connection and executed by name
    after: parsing and analysis are paid once, not per call. Planning is
    still per call (plan_cache_mode = force_custom_plan, set at connect),
    because a generic plan is made once, from the statistics of the
    moment, and kept: risk's rescoring statement planned generically ran
    ten times slower (p50 at 2,000 events/s 19 ms against 9 ms), and on a
    young database PostgreSQL's own foreign-key checks (prepared queries
    planned under the same setting) settled on an index with the tenant
    alone and filtered the id: 0.4-2 ms per inserted allocation instead of
    20 us, until the next ANALYZE. Measured: item-by-item intake 559 ->
    867 items/s with prepared statements. A
    service runs a fixed set of statements, so the cache stays small; past
    DB_STATEMENTS_MAX (statements built from unexpected input) the rest
    run unprepared. Keyed by the text, so a statement built in a buffer
    (the KPI API's segment variants) is found again. */
#define DB_STATEMENTS_MAX 512

struct db_t {
    char *conninfo;
    PGconn *conn;
    time_t last_attempt;      /* reconnect at most once per second */
    bool in_tx;
    bool tx_lost;             /* the connection dropped inside a transaction */
    char sqlstate[6];
    char error[512];
    zhashx_t *stmts;          /* SQL text -> statement name, on this connection */
    unsigned next_stmt;
};

db_t *
db_new(const char *conninfo)
{
    db_t *self = calloc(1, sizeof *self);
    self->conninfo = strdup(conninfo);
    self->stmts = zhashx_new();
    zhashx_set_destructor(self->stmts, (zhashx_destructor_fn *) zstr_free);
    return self;
}

void
db_destroy(db_t **self_p)
{
    db_t *self = *self_p;
    if (!self)
        return;
    if (self->conn)
        PQfinish(self->conn);
    free(self->conninfo);
    zhashx_destroy(&self->stmts);
    free(self);
    *self_p = NULL;
}

static void
s_drop(db_t *self)
{
    zhashx_purge(self->stmts);      /* they died with the session */
    if (self->conn) {
        PQfinish(self->conn);
        self->conn = NULL;
        metric_inc(metrics_counter("creance_db_disconnects_total",
                                   "PostgreSQL connections lost", NULL));
    }
    /* A transaction dies with its connection. Until the caller ends it, no
       statement may run on a new connection: it would run outside any
       transaction, and a later COMMIT would "succeed" having written
       nothing, or only part. */
    if (self->in_tx)
        self->tx_lost = true;
}

static void
s_notice(void *arg, const char *message)
{
    log_warn("postgresql: %.*s", (int) strcspn(message, "\n"), message);
}

PGconn *
db_conn(db_t *self)
{
    if (self->conn && PQstatus(self->conn) == CONNECTION_OK)
        return self->conn;
    if (self->conn)
        s_drop(self);
    time_t now = time(NULL);
    if (now == self->last_attempt)
        return NULL;
    self->last_attempt = now;
    PGconn *conn = PQconnectdb(self->conninfo);
    if (PQstatus(conn) != CONNECTION_OK) {
        char *msg = PQerrorMessage(conn);
        snprintf(self->error, sizeof self->error, "%s", msg);
        log_warn("database unavailable: %.*s", (int) strcspn(msg, "\n"), msg);
        PQfinish(conn);
        return NULL;
    }
    /* Dates are dates and instants are UTC, whatever the server's defaults;
       prepared statements planned per call (DB_STATEMENTS_MAX above). */
    PQsetNoticeProcessor(conn, s_notice, NULL);
    PGresult *r = PQexec(conn, "SET TIME ZONE 'UTC'; SET DateStyle = 'ISO, YMD'; SET plan_cache_mode = force_custom_plan");
    PQclear(r);
    self->conn = conn;
    log_info("database connected");
    return conn;
}

/*  The name of `sql` prepared on this connection, preparing it on first
    use; NULL to run it unprepared (cache full), or NULL and *failed = the
    prepare's error result (the error of the statement, as the call would
    have reported it: executing it after would only say the transaction
    is aborted). */
static const char *
s_statement(db_t *self, PGconn *conn, const char *sql, int nparams, PGresult **failed)
{
    *failed = NULL;
    const char *name = zhashx_lookup(self->stmts, sql);
    if (name || zhashx_size(self->stmts) >= DB_STATEMENTS_MAX)
        return name;
    char buf[32];
    snprintf(buf, sizeof buf, "creance_%u", self->next_stmt++);
    PGresult *r = PQprepare(conn, buf, sql, nparams, NULL);
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
        *failed = r;
        return NULL;
    }
    PQclear(r);
    char *copy = strdup(buf);
    if (!copy || zhashx_insert(self->stmts, sql, copy) != 0) {
        free(copy);
        return NULL;
    }
    return zhashx_lookup(self->stmts, sql);
}

static void
s_forget_statement(db_t *self, PGconn *conn, const char *sql)
{
    const char *name = zhashx_lookup(self->stmts, sql);
    if (!name)
        return;
    if (!self->in_tx) {
        /* Inside a transaction the DEALLOCATE would fail as aborted; the
           statement then stays on the server under a name never reused. */
        char cmd[64];
        snprintf(cmd, sizeof cmd, "DEALLOCATE %s", name);
        PQclear(PQexec(conn, cmd));
    }
    zhashx_delete(self->stmts, sql);
}

bool
db_ready(db_t *self)
{
    return db_conn(self) != NULL;
}

/*  The connection a statement may run on, or NULL with the error set. */
static PGconn *
s_usable(db_t *self)
{
    self->sqlstate[0] = 0;
    self->error[0] = 0;
    if (self->tx_lost) {
        snprintf(self->error, sizeof self->error, "connection lost inside the transaction");
        snprintf(self->sqlstate, sizeof self->sqlstate, "08006");
        return NULL;
    }
    PGconn *conn = db_conn(self);
    if (!conn) {
        snprintf(self->error, sizeof self->error, "database unavailable");
        snprintf(self->sqlstate, sizeof self->sqlstate, "08006");
    }
    return conn;
}

/*  Records the error of failed result `r` (and clears it), dropping the
    connection if it broke. `name`: the prepared statement of `sql`, if any. */
static void
s_failed(db_t *self, PGconn *conn, PGresult *r, const char *name, const char *sql)
{
    const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
    snprintf(self->sqlstate, sizeof self->sqlstate, "%s", state ? state : "");
    /*  A prepared statement the server no longer has (26000), or whose
        cached plan a schema change made invalid for its result shape
        (0A000, "cached plan must not change result type"): forget it, the
        next call prepares it again. The failed call fails, as any error
        does; callers retry their transaction. */
    if (name && (strcmp(self->sqlstate, "26000") == 0 || strcmp(self->sqlstate, "0A000") == 0))
        s_forget_statement(self, conn, sql);
    const char *msg = PQresultErrorMessage(r);
    snprintf(self->error, sizeof self->error, "%.*s", (int) strcspn(msg, "\n"), msg);
    PQclear(r);
    if (PQstatus(conn) != CONNECTION_OK) {
        log_warn("database connection lost: %s", self->error);
        s_drop(self);
    }
    else if (strcmp(self->sqlstate, "25P02") != 0)   /* "current transaction is aborted" is noise */
        log_debug("sql error sqlstate=%s error=\"%s\"", self->sqlstate, self->error);
}

PGresult *
db_exec_ex(db_t *self, const char *sql, int nparams, const char *const *params,
           const int *lengths, const int *formats, int result_format)
{
    PGconn *conn = s_usable(self);
    if (!conn)
        return NULL;
    PGresult *r;
    const char *name = s_statement(self, conn, sql, nparams, &r);
    if (name)
        r = PQexecPrepared(conn, name, nparams, params, lengths, formats, result_format);
    else if (!r)
        r = PQexecParams(conn, sql, nparams, NULL, params, lengths, formats, result_format);
    ExecStatusType st = PQresultStatus(r);
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
        return r;
    s_failed(self, conn, r, name, sql);
    return NULL;
}

int
db_copy_in(db_t *self, const char *sql, const char *data, size_t len)
{
    PGconn *conn = s_usable(self);
    if (!conn)
        return -1;
    PGresult *r = PQexec(conn, sql);
    if (PQresultStatus(r) != PGRES_COPY_IN) {
        s_failed(self, conn, r, NULL, sql);
        return -1;
    }
    PQclear(r);
    /*  Blocking connection: PQputCopyData returns 1 once the piece is
        queued, -1 on failure. Pieces of at most 1 MB: its length is an
        int, and libpq copies each into its output buffer. */
    int ok = 1;
    for (size_t off = 0; ok == 1 && off < len;) {
        size_t n = len - off < (1u << 20) ? len - off : (1u << 20);
        ok = PQputCopyData(conn, data + off, (int) n);
        off += n;
    }
    ok = PQputCopyEnd(conn, ok == 1 ? NULL : "creance: sending the rows failed") == 1 && ok == 1;
    int rc = ok ? 0 : -1;
    /*  The COPY's own result, then NULL; a failure sets the error. */
    while ((r = PQgetResult(conn))) {
        if (PQresultStatus(r) == PGRES_COMMAND_OK) {
            PQclear(r);
            continue;
        }
        s_failed(self, conn, r, NULL, sql);
        if (self->conn != conn)
            return -1;              /* the connection broke and is gone */
        rc = -1;
    }
    if (!ok && rc == 0) {
        snprintf(self->error, sizeof self->error, "%s", PQerrorMessage(conn));
        rc = -1;
    }
    return rc;
}

PGresult *
db_exec(db_t *self, const char *sql, int nparams, const char *const *params)
{
    return db_exec_ex(self, sql, nparams, params, NULL, NULL, 0);
}

int
db_run(db_t *self, const char *sql, int nparams, const char *const *params)
{
    PGresult *r = db_exec(self, sql, nparams, params);
    if (!r)
        return -1;
    PQclear(r);
    return 0;
}

int
db_begin(db_t *self)
{
    self->tx_lost = false;
    if (db_run(self, "BEGIN", 0, NULL) != 0)
        return -1;
    self->in_tx = true;
    return 0;
}

int
db_commit(db_t *self)
{
    if (!self->in_tx) {
        snprintf(self->error, sizeof self->error, "COMMIT without BEGIN");
        return -1;
    }
    PGresult *r = db_exec(self, "COMMIT", 0, NULL);
    self->in_tx = false;
    self->tx_lost = false;
    if (!r)
        return -1;
    /* COMMIT of a transaction that had failed "succeeds" with the tag
       ROLLBACK: nothing was written, and the caller must know. */
    bool rolled_back = strcmp(PQcmdStatus(r), "ROLLBACK") == 0;
    PQclear(r);
    if (rolled_back) {
        snprintf(self->error, sizeof self->error, "transaction was rolled back");
        return -1;
    }
    return 0;
}

void
db_rollback(db_t *self)
{
    if (self->conn && PQstatus(self->conn) == CONNECTION_OK) {
        PGresult *r = PQexec(self->conn, "ROLLBACK");
        PQclear(r);
    }
    self->in_tx = false;
    self->tx_lost = false;
}

const char *
db_last_sqlstate(const db_t *self)
{
    return self->sqlstate;
}

const char *
db_last_error(const db_t *self)
{
    return self->error;
}
