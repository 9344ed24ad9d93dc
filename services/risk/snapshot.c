/*  snapshot: scored state <-> JSON text (jansson). */
#include "snapshot.h"
#include "dates.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

static json_t *
s_factors(const risk_score_t *score)
{
    json_t *a = json_array();
    for (int i = 0; a && i < score->nfactors; i++) {
        const risk_factor_t *f = &score->factors[i];
        json_array_append_new(a, json_pack("{s:s, s:i, s:s}", "name", f->name,
                                           "points", f->points, "detail", f->detail));
    }
    return a;
}

static json_t *
s_opt_int(bool present, int64_t v)
{
    return present ? json_integer(v) : json_null();
}

/*  One decimal for the averages: readable, and the same text every time. */
static double
s_round(double v, double scale)
{
    return round(v * scale) / scale;
}

char *
risk_snapshot_build(int32_t as_of, const risk_inputs_t *in, const risk_score_t *score,
                    const risk_prediction_t *pred)
{
    char day[11], grade[2] = { score->grade, 0 };
    date_format(as_of, day);
    json_t *o = json_object();
    if (!o)
        return NULL;
    json_object_set_new(o, "as_of", json_string(day));
    json_object_set_new(o, "currency", json_string(in->currency));
    json_object_set_new(o, "outstanding", json_integer(in->outstanding_minor));
    json_object_set_new(o, "overdue", json_integer(in->overdue_minor));
    json_object_set_new(o, "oldest_overdue_days", json_integer(in->oldest_overdue_days));
    json_object_set_new(o, "open_invoices", json_integer(in->open_invoices));
    json_object_set_new(o, "credit_limit", json_integer(in->credit_limit_minor));
    json_object_set_new(o, "current_assets", s_opt_int(in->has_figures, in->current_assets_minor));
    json_object_set_new(o, "current_liabilities",
                        s_opt_int(in->has_figures, in->current_liabilities_minor));
    json_object_set_new(o, "open_disputes", json_integer(in->open_disputes));
    json_object_set_new(o, "active_plans", json_integer(in->active_plans));
    json_object_set_new(o, "active_promises", json_integer(in->active_promises));
    json_object_set_new(o, "broken_promises", json_integer(in->broken_promises));
    json_object_set_new(o, "missed_instalments", json_integer(in->missed_instalments));
    json_object_set_new(o, "paid_invoices", json_integer(in->paid_count));
    json_object_set_new(o, "paid_late", json_integer(in->late_count));
    json_object_set_new(o, "sum_delay_days", json_integer(in->sum_delay_days));
    json_object_set_new(o, "avg_days_late", json_real(s_round(in->ew_days_late, 100)));
    json_object_set_new(o, "p_late", json_real(s_round(pred->p_late, 10000)));
    json_object_set_new(o, "expected_delay_days", json_real(s_round(pred->delay_days, 100)));
    json_object_set_new(o, "score", json_integer(score->score));
    json_object_set_new(o, "grade", json_string(grade));
    json_object_set_new(o, "factors", s_factors(score));
    char *text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
    json_decref(o);
    return text;
}

static bool
s_int(json_t *o, const char *key, int64_t *out)
{
    json_t *v = json_object_get(o, key);
    if (!json_is_integer(v))
        return false;
    *out = json_integer_value(v);
    return true;
}

int
risk_snapshot_parse(const char *text, int32_t *as_of, risk_inputs_t *in, risk_score_t *score)
{
    memset(in, 0, sizeof *in);
    memset(score, 0, sizeof *score);
    json_t *o = text ? json_loads(text, 0, NULL) : NULL;
    if (!json_is_object(o)) {
        json_decref(o);
        return -1;
    }
    int rc = -1;
    int64_t v[16];
    const char *day = json_string_value(json_object_get(o, "as_of"));
    const char *cur = json_string_value(json_object_get(o, "currency"));
    const char *grade = json_string_value(json_object_get(o, "grade"));
    json_t *factors = json_object_get(o, "factors");
    json_t *assets = json_object_get(o, "current_assets");
    json_t *liab = json_object_get(o, "current_liabilities");
    if (!day || !date_parse(day, as_of) || !cur || strlen(cur) != 3 || !grade || strlen(grade) != 1
        || !json_is_array(factors)
        || !s_int(o, "outstanding", &v[0]) || !s_int(o, "overdue", &v[1])
        || !s_int(o, "oldest_overdue_days", &v[2]) || !s_int(o, "open_invoices", &v[3])
        || !s_int(o, "credit_limit", &v[4]) || !s_int(o, "open_disputes", &v[5])
        || !s_int(o, "active_plans", &v[6]) || !s_int(o, "active_promises", &v[7])
        || !s_int(o, "broken_promises", &v[8]) || !s_int(o, "missed_instalments", &v[9])
        || !s_int(o, "paid_invoices", &v[10]) || !s_int(o, "paid_late", &v[11])
        || !s_int(o, "sum_delay_days", &v[12]) || !s_int(o, "score", &v[13]))
        goto done;
    memcpy(in->currency, cur, 4);
    in->outstanding_minor = v[0];
    in->overdue_minor = v[1];
    in->oldest_overdue_days = (int32_t) v[2];
    in->open_invoices = (int32_t) v[3];
    in->credit_limit_minor = v[4];
    in->open_disputes = (int32_t) v[5];
    in->active_plans = (int32_t) v[6];
    in->active_promises = (int32_t) v[7];
    in->broken_promises = (int32_t) v[8];
    in->missed_instalments = (int32_t) v[9];
    in->paid_count = (int32_t) v[10];
    in->late_count = (int32_t) v[11];
    in->sum_delay_days = v[12];
    in->ew_days_late = json_number_value(json_object_get(o, "avg_days_late"));
    in->has_figures = json_is_integer(assets) && json_is_integer(liab);
    if (in->has_figures) {
        in->current_assets_minor = json_integer_value(assets);
        in->current_liabilities_minor = json_integer_value(liab);
    }
    score->score = (int) v[13];
    score->grade = grade[0];
    size_t i;
    json_t *f;
    json_array_foreach(factors, i, f) {
        if (score->nfactors == RISK_FACTOR_MAX)
            break;
        const char *name = json_string_value(json_object_get(f, "name"));
        const char *detail = json_string_value(json_object_get(f, "detail"));
        json_t *points = json_object_get(f, "points");
        if (!name || !json_is_integer(points))
            goto done;
        risk_factor_t *rf = &score->factors[score->nfactors++];
        snprintf(rf->name, sizeof rf->name, "%s", name);
        snprintf(rf->detail, sizeof rf->detail, "%s", detail ? detail : "");
        rf->points = (int) json_integer_value(points);
    }
    rc = 0;
done:
    json_decref(o);
    return rc;
}
