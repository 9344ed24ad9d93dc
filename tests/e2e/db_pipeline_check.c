/*  db_pipeline_check: common/db.c's deferred statements and pipelined
    transactions against a real PostgreSQL (test_db_pipeline.py runs it on
    the stack's database).

    usage: db-pipeline-check <conninfo> <table>

    Creates <table> (id integer primary key), runs each case, prints
    "ok <case>" or "FAIL <case>: <why>", drops the table; exits 1 if any
    case failed. Each case can fail: it checks what a second connection
    sees, not what the first one says. */
#include "db.h"
#include "log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static db_t *s_db, *s_peer;         /* the connection under test; an observer */
static const char *s_table;
static int s_failures;

static char *
s_sql(const char *fmt)
{
    static char buf[4][256];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], fmt, s_table);
    return buf[k];
}

/*  The ids in the table as "1,2,3", seen from the observer. */
static const char *
s_ids(void)
{
    static char out[256];
    PGresult *r = db_exec(s_peer, s_sql("SELECT coalesce(string_agg(id::text, ',' ORDER BY id), '') "
                                        "FROM %s"), 0, NULL);
    snprintf(out, sizeof out, "%s", r ? PQgetvalue(r, 0, 0) : "(query failed)");
    if (r)
        PQclear(r);
    return out;
}

static int
s_insert(int id)
{
    char v[16];
    snprintf(v, sizeof v, "%d", id);
    const char *params[] = { v };
    return db_defer(s_db, s_sql("INSERT INTO %s (id) VALUES ($1::integer)"), 1, params);
}

static void
s_case(const char *name, const char *why)
{
    if (why) {
        printf("FAIL %s: %s\n", name, why);
        s_failures++;
    }
    else
        printf("ok %s\n", name);
}

static void
s_expect_ids(const char *name, const char *want)
{
    const char *got = s_ids();
    char why[320];
    snprintf(why, sizeof why, "ids %s, expected %s", got, want);
    s_case(name, strcmp(got, want) == 0 ? NULL : why);
}

int
main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: db-pipeline-check <conninfo> <table>\n");
        return 2;
    }
    log_init("db-pipeline-check");
    s_table = argv[2];
    s_db = db_new(argv[1]);
    s_peer = db_new(argv[1]);
    if (db_run(s_db, s_sql("CREATE TABLE %s (id integer PRIMARY KEY)"), 0, NULL) != 0) {
        fprintf(stderr, "cannot create the table: %s\n", db_last_error(s_db));
        return 2;
    }

    /* Deferred writes are sent before the next read, in order, and that
       read sees them; the peer sees nothing before the COMMIT. */
    db_begin(s_db);
    s_insert(1);
    s_insert(2);
    s_case("deferred writes are not sent before a read",
           strcmp(s_ids(), "") == 0 ? NULL : "the peer saw rows before any statement was read");
    PGresult *r = db_exec(s_db, s_sql("SELECT count(*) FROM %s"), 0, NULL);
    s_case("a read sees the deferred writes before it",
           r && strcmp(PQgetvalue(r, 0, 0), "2") == 0 ? NULL : "count is not 2");
    if (r)
        PQclear(r);
    s_case("uncommitted rows stay invisible", strcmp(s_ids(), "") == 0 ? NULL : "the peer saw rows");
    s_case("commit after a read", db_commit(s_db) == 0 ? NULL : db_last_error(s_db));
    s_expect_ids("the committed rows", "1,2");

    /* A transaction of deferred writes only: they go with the COMMIT. */
    db_begin(s_db);
    s_insert(3);
    s_case("commit carrying deferred writes", db_commit(s_db) == 0 ? NULL : db_last_error(s_db));
    s_expect_ids("rows committed with the COMMIT", "1,2,3");

    /* Rolled back before anything was sent: nothing reaches the server. */
    db_begin(s_db);
    s_insert(4);
    db_rollback(s_db);
    s_expect_ids("rollback of unsent writes", "1,2,3");

    /* A failing deferred statement fails the call that sends it, with its
       own SQLSTATE; the statements after it are skipped, nothing commits. */
    db_begin(s_db);
    s_insert(5);
    s_insert(1);                    /* duplicate key */
    s_insert(6);
    r = db_exec(s_db, "SELECT 1", 0, NULL);
    s_case("a failed deferred write fails the read that sends it",
           !r && strcmp(db_last_sqlstate(s_db), "23505") == 0 ? NULL : "no 23505 from the read");
    if (r)
        PQclear(r);
    db_rollback(s_db);
    s_expect_ids("nothing of a failed pipeline commits", "1,2,3");

    /* The same failure carried by the COMMIT: the commit reports it. */
    db_begin(s_db);
    s_insert(7);
    s_insert(2);
    int rc = db_commit(s_db);
    s_case("a failed deferred write fails the commit",
           rc != 0 && strcmp(db_last_sqlstate(s_db), "23505") == 0 ? NULL : "commit did not fail with 23505");
    db_rollback(s_db);
    s_expect_ids("nothing of a failed commit is kept", "1,2,3");

    /* The connection is usable afterwards, in and out of transactions. */
    r = db_exec(s_db, "SELECT 41 + 1", 0, NULL);
    s_case("the connection is usable after a failed pipeline",
           r && strcmp(PQgetvalue(r, 0, 0), "42") == 0 ? NULL : db_last_error(s_db));
    if (r)
        PQclear(r);

    /* COPY cannot go in a pipeline: what is pending is sent first. */
    db_begin(s_db);
    s_insert(8);
    const char rows[] = "9\n";
    rc = db_copy_in(s_db, s_sql("COPY %s (id) FROM STDIN"), rows, sizeof rows - 1);
    s_case("copy after deferred writes", rc == 0 && db_commit(s_db) == 0 ? NULL : db_last_error(s_db));
    s_expect_ids("rows of the deferred write and the copy", "1,2,3,8,9");

    /* Outside a transaction a deferred statement runs at once. */
    s_insert(10);
    s_expect_ids("a deferred write outside a transaction runs at once", "1,2,3,8,9,10");

    /* An empty transaction commits without a statement. */
    db_begin(s_db);
    s_case("an empty transaction commits", db_commit(s_db) == 0 ? NULL : db_last_error(s_db));

    db_run(s_db, s_sql("DROP TABLE %s"), 0, NULL);
    db_destroy(&s_db);
    db_destroy(&s_peer);
    return s_failures ? 1 : 0;
}
