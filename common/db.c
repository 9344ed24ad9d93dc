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

/*  A statement db_defer queued: its own copies of the text and parameters. */
typedef struct {
    char *sql;
    int nparams;
    char **params;
} deferred_t;

struct db_t {
    char *conninfo;
    PGconn *conn;
    time_t last_attempt;      /* reconnect at most once per second */
    bool in_tx;
    bool tx_lost;             /* the connection dropped inside a transaction */
    /*  Inside a transaction, what needs no answer waits and goes with the
        next statement that does (or the COMMIT), in one round trip (libpq
        pipeline mode): the BEGIN itself, and what db_defer queued. On a
        loaded machine a round trip costs 150-250 us, as much as most of
        risk's statements take to run. */
    bool begin_pending;
    deferred_t *queue;
    size_t nqueue, queue_cap;
    char sqlstate[6];
    char error[512];
    zhashx_t *stmts;          /* SQL text -> statement name, on this connection */
    unsigned next_stmt;
};

static void
s_queue_clear(db_t *self)
{
    for (size_t i = 0; i < self->nqueue; i++) {
        deferred_t *d = &self->queue[i];
        for (int k = 0; k < d->nparams; k++)
            free(d->params[k]);
        free(d->params);
        free(d->sql);
    }
    self->nqueue = 0;
}

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
    s_queue_clear(self);
    free(self->queue);
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
    /*  Connecting first: finding the connection broken here is losing the
        transaction too (s_drop), and the new one must not run its rest. */
    PGconn *conn = self->tx_lost ? NULL : db_conn(self);
    if (self->tx_lost) {
        snprintf(self->error, sizeof self->error, "connection lost inside the transaction");
        snprintf(self->sqlstate, sizeof self->sqlstate, "08006");
        return NULL;
    }
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

/*  Sends one statement into the open pipeline; 0 if libpq took it. */
static int
s_send(PGconn *conn, const char *name, const char *sql, int nparams, const char *const *params,
       const int *lengths, const int *formats, int result_format)
{
    if (name)
        return PQsendQueryPrepared(conn, name, nparams, params, lengths, formats, result_format) ? 0 : -1;
    return PQsendQueryParams(conn, sql, nparams, NULL, params, lengths, formats,
                             result_format) ? 0 : -1;
}

/*  What is pending (the BEGIN, the queue) and then `sql`, if not NULL, in
    one pipeline and one round trip; *out = `sql`'s result. 0, or -1 with
    the error of the first statement that failed (the server skips the
    rest, and the transaction is aborted: the caller rolls back). The
    connection stays blocking: the results before the last statement are
    command tags, far too small to fill the socket while we still send. */
static int
s_pipeline(db_t *self, PGconn *conn, const char *sql, int nparams, const char *const *params,
           const int *lengths, const int *formats, int result_format, PGresult **out)
{
    *out = NULL;
    /*  Prepared first, one round trip each on their first use only: a
        synchronous prepare is not allowed inside the pipeline. */
    size_t n = self->nqueue;
    const char **names = calloc(n + 1, sizeof *names);
    PGresult *r = NULL, *last = NULL;
    const char *failed_sql = NULL;
    bool ok = names != NULL;
    for (size_t i = 0; ok && i <= n; i++) {
        const char *text = i < n ? self->queue[i].sql : sql;
        if (!text)
            continue;
        names[i] = s_statement(self, conn, text, i < n ? self->queue[i].nparams : nparams, &r);
        if (r) {
            s_failed(self, conn, r, NULL, text);
            ok = false;
        }
    }
    if (!ok) {
        if (!names)
            snprintf(self->error, sizeof self->error, "out of memory");
        s_queue_clear(self);
        free(names);
        return -1;
    }
    size_t sent = 0;
    bool begin = self->begin_pending;
    ok = PQenterPipelineMode(conn) == 1;
    if (ok && begin)
        ok = s_send(conn, NULL, "BEGIN", 0, NULL, NULL, NULL, 0) == 0 && ++sent;
    for (size_t i = 0; ok && i < n; i++) {
        deferred_t *d = &self->queue[i];
        ok = s_send(conn, names[i], d->sql, d->nparams, (const char *const *) d->params,
                    NULL, NULL, 0) == 0 && ++sent;
    }
    if (ok && sql)
        ok = s_send(conn, names[n], sql, nparams, params, lengths, formats, result_format) == 0 && ++sent;
    ok = PQpipelineSync(conn) == 1 && ok;
    self->begin_pending = false;
    /*  One result (then NULL) per statement sent, then the sync's. */
    for (size_t i = 0; i < sent; i++) {
        size_t k = i - begin;           /* the queue's index, n for `sql` */
        const char *text = begin && i == 0 ? "BEGIN" : k < n ? self->queue[k].sql : sql;
        const char *name = begin && i == 0 ? NULL : names[k];
        while ((r = PQgetResult(conn))) {
            ExecStatusType st = PQresultStatus(r);
            if ((st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) && !failed_sql) {
                if (sql && i == sent - 1) {
                    last = r;
                    continue;
                }
            }
            else if (st != PGRES_PIPELINE_ABORTED && !failed_sql) {
                failed_sql = text;
                s_failed(self, conn, r, name, text);
                if (self->conn != conn) {
                    if (last)
                        PQclear(last);
                    s_queue_clear(self);
                    free(names);
                    return -1;              /* the connection broke and is gone */
                }
                continue;
            }
            PQclear(r);
        }
    }
    for (;;) {
        r = PQgetResult(conn);
        if (!r)
            break;
        ExecStatusType st = PQresultStatus(r);
        PQclear(r);
        if (st == PGRES_PIPELINE_SYNC)
            break;
    }
    if (PQexitPipelineMode(conn) != 1 || PQstatus(conn) != CONNECTION_OK) {
        if (!failed_sql) {
            snprintf(self->error, sizeof self->error, "pipeline: %s", PQerrorMessage(conn));
            snprintf(self->sqlstate, sizeof self->sqlstate, "08006");
        }
        log_warn("database connection lost in a pipeline: %s", self->error);
        s_drop(self);
        ok = false;
    }
    s_queue_clear(self);
    free(names);
    if (!ok && !failed_sql && self->conn == conn)
        snprintf(self->error, sizeof self->error, "pipeline: %s", PQerrorMessage(conn));
    if (!ok || failed_sql) {
        if (last)
            PQclear(last);
        return -1;
    }
    *out = last;
    return 0;
}

/*  Sends what is pending, if anything, before a statement that cannot go
    in a pipeline (COPY). 0, or -1 with the error set. */
static int
s_flush(db_t *self, PGconn *conn)
{
    PGresult *none;
    if (!self->begin_pending && self->nqueue == 0)
        return 0;
    return s_pipeline(self, conn, NULL, 0, NULL, NULL, NULL, 0, &none);
}

PGresult *
db_exec_ex(db_t *self, const char *sql, int nparams, const char *const *params,
           const int *lengths, const int *formats, int result_format)
{
    PGconn *conn = s_usable(self);
    if (!conn)
        return NULL;
    if (self->begin_pending || self->nqueue > 0) {
        PGresult *r;
        return s_pipeline(self, conn, sql, nparams, params, lengths, formats, result_format, &r) == 0
               ? r : NULL;
    }
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
db_defer(db_t *self, const char *sql, int nparams, const char *const *params)
{
    if (!self->in_tx)
        return db_run(self, sql, nparams, params);
    if (!s_usable(self))
        return -1;
    if (self->nqueue == self->queue_cap) {
        size_t cap = self->queue_cap ? self->queue_cap * 2 : 8;
        deferred_t *q = realloc(self->queue, cap * sizeof *q);
        if (!q)
            return -1;
        self->queue = q;
        self->queue_cap = cap;
    }
    deferred_t *d = &self->queue[self->nqueue];
    d->sql = strdup(sql);
    d->nparams = nparams;
    d->params = calloc(nparams > 0 ? (size_t) nparams : 1, sizeof *d->params);
    bool ok = d->sql && d->params;
    for (int k = 0; ok && k < nparams; k++)
        if (params[k] && !(d->params[k] = strdup(params[k])))
            ok = false;
    self->nqueue++;                 /* counted even when incomplete: s_queue_clear frees it */
    if (!ok) {
        snprintf(self->error, sizeof self->error, "out of memory");
        return -1;
    }
    return 0;
}

int
db_copy_in(db_t *self, const char *sql, const char *data, size_t len)
{
    PGconn *conn = s_usable(self);
    if (!conn || s_flush(self, conn) != 0)
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

/*  The BEGIN waits for the transaction's first statement. */
int
db_begin(db_t *self)
{
    self->tx_lost = false;
    if (!s_usable(self))
        return -1;
    s_queue_clear(self);
    self->begin_pending = true;
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
    if (self->begin_pending && self->nqueue == 0) {
        /* Nothing was sent: nothing to commit. */
        self->begin_pending = false;
        self->in_tx = false;
        return 0;
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
    s_queue_clear(self);
    if (!self->begin_pending && self->conn && PQstatus(self->conn) == CONNECTION_OK) {
        PGresult *r = PQexec(self->conn, "ROLLBACK");
        PQclear(r);
    }
    self->begin_pending = false;
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
