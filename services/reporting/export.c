/*  export: one debtor's data as one JSON document (export.h). */
#include "export.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "envelope.h"
#include "gdprblank.h"
#include "log.h"
#include "pbjson.h"

#define EVENT_PAGE 2000

/*  Section -> the statement that returns it as one JSON text ($1 tenant,
    $2 debtor id). Lists are ordered by id, so two exports compare. */
static const struct {
    const char *key;
    const char *sql;
} s_sections[] = {
    { "invoices",
      "SELECT COALESCE(json_agg(i ORDER BY i.id), '[]') FROM invoices i"
      " WHERE i.tenant = $1 AND i.debtor_id = $2::bigint" },
    { "invoice_adjustments",
      "SELECT COALESCE(json_agg(a ORDER BY a.id), '[]') FROM invoice_adjustments a"
      " JOIN invoices i ON i.tenant = a.tenant AND i.id = a.invoice_id"
      " WHERE i.tenant = $1 AND i.debtor_id = $2::bigint" },
    { "credit_notes",
      "SELECT COALESCE(json_agg(c ORDER BY c.id), '[]') FROM credit_notes c"
      " WHERE c.tenant = $1 AND c.debtor_id = $2::bigint" },
    { "credit_note_applications",
      "SELECT COALESCE(json_agg(a ORDER BY a.id), '[]') FROM credit_note_applications a"
      " JOIN credit_notes c ON c.tenant = a.tenant AND c.id = a.credit_note_id"
      " WHERE c.tenant = $1 AND c.debtor_id = $2::bigint" },
    { "payments",
      "SELECT COALESCE(json_agg(p ORDER BY p.id), '[]') FROM payments p"
      " WHERE p.tenant = $1 AND p.debtor_id = $2::bigint" },
    { "payment_refunds",
      "SELECT COALESCE(json_agg(r ORDER BY r.id), '[]') FROM payment_refunds r"
      " JOIN payments p ON p.tenant = r.tenant AND p.id = r.payment_id"
      " WHERE p.tenant = $1 AND p.debtor_id = $2::bigint" },
    { "allocations",
      "SELECT COALESCE(json_agg(a ORDER BY a.id), '[]') FROM allocations a"
      " JOIN payments p ON p.tenant = a.tenant AND p.id = a.payment_id"
      " WHERE p.tenant = $1 AND p.debtor_id = $2::bigint" },
    { "write_offs",
      "SELECT COALESCE(json_agg(w ORDER BY w.id), '[]') FROM write_offs w"
      " WHERE w.tenant = $1 AND w.debtor_id = $2::bigint" },
    { "disputes",
      "SELECT COALESCE(json_agg(d ORDER BY d.id), '[]') FROM disputes d"
      " WHERE d.tenant = $1 AND d.debtor_id = $2::bigint" },
    { "payment_plans",
      "SELECT COALESCE(json_agg(to_jsonb(p) || jsonb_build_object('instalments',"
      "  (SELECT COALESCE(json_agg(i ORDER BY i.number), '[]') FROM plan_instalments i"
      "   WHERE i.tenant = p.tenant AND i.plan_id = p.id)) ORDER BY p.id), '[]')"
      " FROM payment_plans p WHERE p.tenant = $1 AND p.debtor_id = $2::bigint" },
    { "promises",
      "SELECT COALESCE(json_agg(p ORDER BY p.id), '[]') FROM promises p"
      " WHERE p.tenant = $1 AND p.debtor_id = $2::bigint" },
    { "reminders",
      "SELECT COALESCE(json_agg(json_build_object('reminder', r,"
      "  'items', (SELECT COALESCE(json_agg(x ORDER BY x.invoice_id), '[]') FROM reminder_items x"
      "            WHERE x.tenant = r.tenant AND x.reminder_id = r.id),"
      "  'deliveries', (SELECT COALESCE(json_agg(d ORDER BY d.id), '[]') FROM reminder_deliveries d"
      "            WHERE d.tenant = r.tenant AND d.reminder_id = r.id),"
      "  'fees', (SELECT COALESCE(json_agg(f ORDER BY f.invoice_id), '[]') FROM reminder_fees f"
      "            WHERE f.tenant = r.tenant AND f.reminder_id = r.id)) ORDER BY r.id), '[]')"
      " FROM reminders r WHERE r.tenant = $1 AND r.debtor_id = $2::bigint" },
    { "worklist",
      "SELECT COALESCE(json_agg(w ORDER BY w.id), '[]') FROM rem_worklist w"
      " WHERE w.tenant = $1 AND w.debtor_id = $2::bigint" },
    { "optouts",
      "SELECT COALESCE(json_agg(o ORDER BY o.channel), '[]') FROM rem_optouts o"
      " WHERE o.tenant = $1 AND o.debtor_id = $2::bigint" },
    { "risk",
      "SELECT json_build_object("
      "  'profile', (SELECT row_to_json(p) FROM risk_debtor_profile p"
      "              WHERE p.tenant = $1 AND p.debtor_id = $2::bigint),"
      "  'score_history', (SELECT COALESCE(json_agg(h ORDER BY h.id), '[]')"
      "              FROM risk_score_history h WHERE h.tenant = $1 AND h.debtor_id = $2::bigint),"
      "  'predictions', (SELECT COALESCE(json_agg(x ORDER BY x.invoice_id), '[]')"
      "              FROM risk_predictions x WHERE x.tenant = $1 AND x.debtor_id = $2::bigint))" },
    { "erasure",
      "SELECT COALESCE((SELECT row_to_json(e) FROM gdpr_erasures e"
      "  WHERE e.tenant = $1 AND e.debtor_id = $2::bigint), 'null'::json)" },
};

/*  The debtor's envelopes in event_log, decoded, in (stream, seq) order. */
static int add_events(db_t *db, const char *tenant, int64_t debtor_id, json_t *doc)
{
    json_t *events = json_array();
    json_object_set_new(doc, "events", events);
    char stream[64] = "", seq[24] = "0", page[16];
    snprintf(page, sizeof page, "%d", EVENT_PAGE);
    for (;;) {
        const char *p[] = { tenant, stream, seq, page };
        /*  Text results but the envelope: encode(..., 'base64') would cost
            more than reading bytea in binary, so all columns are binary
            except those cast to text. */
        PGresult *r = db_exec_ex(db,
            "SELECT stream, seq::text, event_type,"
            " to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), envelope"
            " FROM event_log WHERE tenant = $1 AND (stream, seq) > ($2::text, $3::bigint)"
            " ORDER BY stream, seq LIMIT $4::int", 4, p, NULL, NULL, 1);
        if (!r)
            return -1;
        int n = PQntuples(r);
        for (int i = 0; i < n; i++) {
            snprintf(stream, sizeof stream, "%.*s", PQgetlength(r, i, 0), PQgetvalue(r, i, 0));
            snprintf(seq, sizeof seq, "%.*s", PQgetlength(r, i, 1), PQgetvalue(r, i, 1));
            Creance__Envelope *env = creance__envelope__unpack(
                NULL, (size_t) PQgetlength(r, i, 4), (const uint8_t *) PQgetvalue(r, i, 4));
            if (!env) {
                log_warn("export: envelope not decoded, left out tenant=%s stream=%s seq=%s",
                         tenant, stream, seq);
                continue;
            }
            if (rpt_gdpr_event_debtor(env) == debtor_id) {
                json_t *e = json_object();
                json_object_set_new(e, "stream", json_string(stream));
                json_object_set_new(e, "seq", json_integer(strtoll(seq, NULL, 10)));
                json_object_set_new(e, "type", json_stringn(PQgetvalue(r, i, 2),
                                                            (size_t) PQgetlength(r, i, 2)));
                json_object_set_new(e, "occurred_at", json_stringn(PQgetvalue(r, i, 3),
                                                                   (size_t) PQgetlength(r, i, 3)));
                json_object_set_new(e, "envelope", rpt_pbjson(&env->base));
                json_array_append_new(events, e);
            }
            creance__envelope__free_unpacked(env, NULL);
        }
        PQclear(r);
        if (n < EVENT_PAGE)
            return 0;
    }
}

int rpt_export_debtor(db_t *db, const char *tenant, int64_t debtor_id, json_t **out)
{
    *out = NULL;
    char id[24];
    snprintf(id, sizeof id, "%" PRId64, debtor_id);
    const char *p[] = { tenant, id };
    /*  One snapshot for the whole document: sections agree with each other. */
    if (db_begin(db))
        return -1;
    if (db_run(db, "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY", 0, NULL))
        goto fail;
    PGresult *r = db_exec(db,
        "SELECT row_to_json(d)::text,"
        " to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
        " FROM debtors d WHERE d.tenant = $1 AND d.id = $2::bigint", 2, p);
    if (!r)
        goto fail;
    if (PQntuples(r) != 1) {
        PQclear(r);
        db_rollback(db);
        return 1;
    }
    json_t *doc = json_object();
    json_object_set_new(doc, "tenant", json_string(tenant));
    json_object_set_new(doc, "debtor_id", json_integer(debtor_id));
    json_object_set_new(doc, "generated_at", json_string(PQgetvalue(r, 0, 1)));
    json_object_set_new(doc, "debtor", json_loads(PQgetvalue(r, 0, 0), 0, NULL));
    PQclear(r);
    for (size_t i = 0; i < sizeof s_sections / sizeof s_sections[0]; i++) {
        r = db_exec(db, s_sections[i].sql, 2, p);
        if (!r) {
            json_decref(doc);
            goto fail;
        }
        json_t *v = json_loads(PQgetvalue(r, 0, 0), JSON_DECODE_ANY, NULL);
        PQclear(r);
        json_object_set_new(doc, s_sections[i].key, v ? v : json_null());
    }
    if (add_events(db, tenant, debtor_id, doc)) {
        json_decref(doc);
        goto fail;
    }
    db_rollback(db);        /* read only: nothing to commit */
    *out = doc;
    return 0;
fail:
    db_rollback(db);
    return -1;
}
