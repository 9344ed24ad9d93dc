/*  policy: ladders, contact rules, channel choice and grouping (pure). */
#include "policy.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

static const char *const s_channel_names[] = {
    [REM_CH_NONE] = "none", [REM_CH_EMAIL] = "email", [REM_CH_SMS] = "sms",
    [REM_CH_LETTER] = "letter", [REM_CH_PHONE] = "phone", [REM_CH_HANDOFF] = "handoff",
};

const char *rem_channel_name(rem_channel_t c)
{
    return (c >= REM_CH_NONE && c <= REM_CH_HANDOFF) ? s_channel_names[c] : "none";
}

rem_channel_t rem_channel_parse(const char *s)
{
    if (!s)
        return REM_CH_NONE;
    for (int c = REM_CH_EMAIL; c <= REM_CH_HANDOFF; c++)
        if (strcmp(s, s_channel_names[c]) == 0)
            return (rem_channel_t) c;
    return REM_CH_NONE;
}

static const char *const s_hold_names[] = {
    [REM_HOLD_NONE] = "none", [REM_HOLD_DISPUTE] = "dispute", [REM_HOLD_PLAN] = "payment_plan",
    [REM_HOLD_PROMISE] = "promise", [REM_HOLD_QUIET_HOURS] = "quiet_hours",
    [REM_HOLD_WEEKEND] = "weekend", [REM_HOLD_HOLIDAY] = "public_holiday",
    [REM_HOLD_MIN_INTERVAL] = "min_days_between_contacts",
    [REM_HOLD_WEEKLY_LIMIT] = "max_contacts_per_7_days", [REM_HOLD_NO_CHANNEL] = "no_channel",
    [REM_HOLD_NO_LADDER] = "no_policy", [REM_HOLD_ALREADY_SENT] = "already_sent",
    [REM_HOLD_NOT_DUE] = "not_due",
};

const char *rem_hold_name(rem_hold_t h)
{
    return (h >= REM_HOLD_NONE && h <= REM_HOLD_NOT_DUE) ? s_hold_names[h] : "unknown";
}

/* ------------------------------------------------------------ ladders */

int rem_ladder_add(rem_ladder_t *l, const rem_level_t *lv)
{
    if (l->n >= REM_MAX_LEVELS)
        return -1;
    int i = l->n;
    while (i > 0 && l->levels[i - 1].level > lv->level) {
        l->levels[i] = l->levels[i - 1];
        i--;
    }
    if (i > 0 && l->levels[i - 1].level == lv->level) {
        /* undo the shift */
        memmove(&l->levels[i], &l->levels[i + 1], (size_t) (l->n - i) * sizeof l->levels[0]);
        return -1;
    }
    l->levels[i] = *lv;
    l->n++;
    return 0;
}

const rem_level_t *rem_ladder_get(const rem_ladder_t *l, int level)
{
    for (int i = 0; i < l->n; i++)
        if (l->levels[i].level == level)
            return &l->levels[i];
    return NULL;
}

int rem_ladder_level_for(const rem_ladder_t *l, int days_past_due)
{
    /*  Offsets are expected to grow with the level, but a ladder written
        otherwise still gives the highest level whose offset is reached. */
    int best = 0;
    for (int i = 0; i < l->n; i++)
        if (l->levels[i].offset_days <= days_past_due && l->levels[i].level > best)
            best = l->levels[i].level;
    return best;
}

int rem_ladder_target(const rem_ladder_t *l, int days_past_due, int min_level, int last_level)
{
    if (l->n == 0)
        return 0;
    int t = rem_ladder_level_for(l, days_past_due);
    if (min_level > t) {
        /*  Escalation asks for the first existing level at or above it. */
        int esc = 0;
        for (int i = 0; i < l->n; i++)
            if (l->levels[i].level >= min_level) {
                esc = l->levels[i].level;
                break;
            }
        t = esc ? esc : l->levels[l->n - 1].level;
    }
    return t > last_level ? t : 0;
}

int rem_ladder_min_offset(const rem_ladder_t *l)
{
    int m = 0;
    for (int i = 0; i < l->n; i++)
        if (i == 0 || l->levels[i].offset_days < m)
            m = l->levels[i].offset_days;
    return m;
}

const rem_ladder_t *rem_ladder_pick(const rem_ladder_t *v, size_t n, const char *grade)
{
    const rem_ladder_t *best = NULL;
    int best_rank = 0;
    bool has_grade = grade && *grade;
    for (size_t i = 0; i < n; i++) {
        const rem_ladder_t *l = &v[i];
        int rank;
        if (l->grade[0]) {
            if (!has_grade || strcmp(l->grade, grade) != 0)
                continue;
            rank = l->tenant_specific ? 4 : 2;
        } else {
            rank = l->tenant_specific ? 3 : 1;
        }
        if (rank > best_rank) {
            best = l;
            best_rank = rank;
        }
    }
    return best;
}

/* ------------------------------------------------------------ contact rules */

void rem_rules_default(rem_rules_t *r)
{
    r->min_days_between = 3;
    r->max_per_7_days = 2;
    r->quiet_start_min = 20 * 60;
    r->quiet_end_min = 8 * 60;
    r->skip_weekends = true;
    r->skip_holidays = true;
    r->promise_grace_days = 3;
    r->instalment_notice_days = 3;
    r->limitation_warning_days = 90;
}

bool rem_quiet_hours(const rem_rules_t *r, int minute)
{
    if (r->quiet_start_min == r->quiet_end_min)
        return false;
    if (r->quiet_start_min < r->quiet_end_min)
        return minute >= r->quiet_start_min && minute < r->quiet_end_min;
    /* wraps over midnight: 20:00 .. 08:00 */
    return minute >= r->quiet_start_min || minute < r->quiet_end_min;
}

rem_hold_t rem_contact_check(const rem_rules_t *r, const rem_local_t *local, bool holiday,
                             int32_t today, int32_t last_contact, int contact_days_7)
{
    if (r->skip_holidays && holiday)
        return REM_HOLD_HOLIDAY;
    if (r->skip_weekends && (local->weekday == 0 || local->weekday == 6))
        return REM_HOLD_WEEKEND;
    if (rem_quiet_hours(r, local->minute))
        return REM_HOLD_QUIET_HOURS;
    if (last_contact != INT32_MIN && today - last_contact < r->min_days_between)
        return REM_HOLD_MIN_INTERVAL;
    if (contact_days_7 >= r->max_per_7_days)
        return REM_HOLD_WEEKLY_LIMIT;
    return REM_HOLD_NONE;
}

bool rem_channel_usable(rem_channel_t c, unsigned optout, unsigned available)
{
    if (c == REM_CH_HANDOFF)
        return true;
    return !(optout & REM_CH_BIT(c)) && (available & REM_CH_BIT(c));
}

rem_channel_t rem_pick_channel(const rem_level_t *lv, unsigned optout_mask, unsigned available_mask,
                               rem_channel_t rest[REM_MAX_FALLBACK], int *n_rest)
{
    *n_rest = 0;
    rem_channel_t chosen = REM_CH_NONE;
    int from = 0;
    if (rem_channel_usable(lv->channel, optout_mask, available_mask)) {
        chosen = lv->channel;
    } else {
        for (int i = 0; i < lv->n_fallback; i++)
            if (rem_channel_usable(lv->fallback[i], optout_mask, available_mask)) {
                chosen = lv->fallback[i];
                from = i + 1;
                break;
            }
        if (chosen == REM_CH_NONE)
            return REM_CH_NONE;
    }
    for (int i = from; i < lv->n_fallback; i++)
        if (lv->fallback[i] != chosen && rem_channel_usable(lv->fallback[i], optout_mask, available_mask))
            rest[(*n_rest)++] = lv->fallback[i];
    return chosen;
}

/* ------------------------------------------------------------ grouping */

static rem_group_t *group_for(rem_plan_t *plan, int level, const char *currency)
{
    for (size_t i = 0; i < plan->n; i++)
        if (plan->v[i].level == level && strcmp(plan->v[i].currency, currency) == 0)
            return &plan->v[i];
    if (plan->n == plan->cap) {
        size_t cap = plan->cap ? plan->cap * 2 : 4;
        rem_group_t *v = realloc(plan->v, cap * sizeof *v);
        if (!v)
            return NULL;
        memset(v + plan->cap, 0, (cap - plan->cap) * sizeof *v);
        plan->v = v;
        plan->cap = cap;
    }
    rem_group_t *g = &plan->v[plan->n++];
    size_t *keep = g->idx;
    memset(g, 0, sizeof *g);
    free(keep);
    g->level = level;
    memcpy(g->currency, currency, 4);
    g->currency[3] = '\0';
    return g;
}

static int group_cmp(const void *a, const void *b)
{
    const rem_group_t *x = a, *y = b;
    if (x->level != y->level)
        return x->level < y->level ? -1 : 1;
    return strcmp(x->currency, y->currency);
}

int rem_plan_debtor(const rem_debtor_ctx_t *ctx, rem_item_t *items, size_t n, rem_plan_t *plan)
{
    rem_plan_reset(plan);
    for (size_t i = 0; i < n; i++) {
        rem_item_t *it = &items[i];
        it->target = 0;
        it->hold = REM_HOLD_NONE;
        if (!ctx->ladder) {
            it->hold = REM_HOLD_NO_LADDER;
            continue;
        }
        int t = rem_ladder_target(ctx->ladder, it->days_past_due, it->min_level, it->last_level);
        if (!t) {
            int reached = rem_ladder_level_for(ctx->ladder, it->days_past_due);
            it->hold = (reached || it->min_level) ? REM_HOLD_ALREADY_SENT : REM_HOLD_NOT_DUE;
            continue;
        }
        /*  Pauses, in the order a collector would give them. */
        if (it->open_minor - it->disputed_minor <= 0) {
            it->hold = REM_HOLD_DISPUTE;
            continue;
        }
        if (it->in_plan) {
            it->hold = REM_HOLD_PLAN;
            continue;
        }
        if (it->has_promise && ctx->today <= it->promise_date + ctx->rules->promise_grace_days) {
            it->hold = REM_HOLD_PROMISE;
            continue;
        }
        it->target = t;
        plan->n_due++;
    }
    if (plan->n_due == 0)
        return 0;

    rem_hold_t h = rem_contact_check(ctx->rules, &ctx->local, ctx->holiday, ctx->today,
                                     ctx->last_contact, ctx->contact_days_7);
    if (h != REM_HOLD_NONE) {
        plan->debtor_hold = h;
        for (size_t i = 0; i < n; i++)
            if (items[i].target) {
                items[i].target = 0;
                items[i].hold = h;
            }
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        rem_item_t *it = &items[i];
        if (!it->target)
            continue;
        rem_group_t *g = group_for(plan, it->target, it->currency);
        if (!g)
            return -1;
        if (!g->lv) {
            g->lv = rem_ladder_get(ctx->ladder, it->target);
            g->channel = rem_pick_channel(g->lv, ctx->optout_mask, ctx->available_mask,
                                          g->rest, &g->n_rest);
        }
        size_t *idx = realloc(g->idx, (g->n + 1) * sizeof *idx);
        if (!idx)
            return -1;
        g->idx = idx;
        g->idx[g->n++] = i;
        g->total_minor += it->open_minor - it->disputed_minor;
    }
    /*  A level without any usable channel is held, the others go out. */
    size_t kept = 0;
    for (size_t k = 0; k < plan->n; k++) {
        rem_group_t *g = &plan->v[k];
        if (g->channel == REM_CH_NONE) {
            for (size_t j = 0; j < g->n; j++) {
                items[g->idx[j]].target = 0;
                items[g->idx[j]].hold = REM_HOLD_NO_CHANNEL;
            }
            free(g->idx);
            g->idx = NULL;
            continue;
        }
        if (kept != k) {
            plan->v[kept] = *g;
            g->idx = NULL;
        }
        kept++;
    }
    plan->n = kept;
    if (plan->n == 0)
        plan->debtor_hold = REM_HOLD_NO_CHANNEL;
    qsort(plan->v, plan->n, sizeof *plan->v, group_cmp);
    return 0;
}

void rem_plan_reset(rem_plan_t *plan)
{
    for (size_t i = 0; i < plan->n; i++) {
        free(plan->v[i].idx);
        plan->v[i].idx = NULL;
    }
    plan->n = 0;
    plan->debtor_hold = REM_HOLD_NONE;
    plan->n_due = 0;
}

void rem_plan_free(rem_plan_t *plan)
{
    rem_plan_reset(plan);
    for (size_t i = 0; i < plan->cap; i++)
        free(plan->v[i].idx);
    free(plan->v);
    memset(plan, 0, sizeof *plan);
}
