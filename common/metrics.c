/*  metrics: process-wide Prometheus counters, gauges and histograms.

    A metric is a (name, labels) pair; the registry is a hash keyed by
    "name{labels}" so the hot path (metrics_counter in a request handler)
    costs one lookup, plus an array in registration order for rendering.
    Services are single threaded, so there is no locking.

    Rendering groups the metrics of one name under a single # HELP / # TYPE
    pair, as the exposition format requires: Prometheus rejects a scrape in
    which a name's samples are split or its TYPE repeated. */
#include "metrics.h"
#include "log.h"

#include <czmq.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum { METRIC_COUNTER, METRIC_GAUGE, METRIC_HISTOGRAM } metric_type_t;

static const char *s_type_names[] = { "counter", "gauge", "histogram" };

/*  Upper bounds in seconds, from 0.5 ms (a cache hit) to 10 s (a stuck
    query); +Inf is implicit and equals the count. */
static const double s_buckets[] = {
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10
};
#define BUCKET_COUNT (sizeof s_buckets / sizeof s_buckets[0])

struct metric_t {
    metric_type_t type;
    char *name;
    char *help;
    char *labels;                   /* "" when none */
    size_t seq;                     /* registration order, keeps render stable */
    double value;                   /* counter, gauge; histogram sum */
    uint64_t count;                 /* histogram observations */
    uint64_t buckets[BUCKET_COUNT]; /* cumulative: observations <= bound */
};

static zhashx_t *s_index;           /* "name{labels}" -> metric_t, owned by s_all */
static metric_t **s_all;
static size_t s_count, s_size;

static bool
s_valid_name(const char *name)
{
    if (!name || !*name)
        return false;
    for (const char *p = name; *p; p++) {
        bool alpha = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || *p == '_' || *p == ':';
        bool digit = *p >= '0' && *p <= '9';
        if (!alpha && !(digit && p > name))
            return false;
    }
    return true;
}

static metric_t *
s_get(metric_type_t type, const char *name, const char *help, const char *labels)
{
    if (!s_valid_name(name)) {
        log_error("metrics: invalid name=%s", name ? name : "(null)");
        return NULL;
    }
    if (!labels)
        labels = "";
    if (!s_index)
        s_index = zhashx_new();

    char *key = zsys_sprintf("%s{%s}", name, labels);
    metric_t *m = (metric_t *) zhashx_lookup(s_index, key);
    if (m) {
        zstr_free(&key);
        if (m->type == type)
            return m;
        log_error("metrics: name=%s already registered as %s, not %s",
                  name, s_type_names[m->type], s_type_names[type]);
        return NULL;
    }
    /*  One name, one type: a scrape with a name declared both counter and
        gauge is rejected whole, so we refuse the second declaration. Every
        metric_* function accepts NULL, so the caller only loses that one. */
    for (size_t i = 0; i < s_count; i++)
        if (strcmp(s_all[i]->name, name) == 0 && s_all[i]->type != type) {
            log_error("metrics: name=%s already registered as %s, not %s",
                      name, s_type_names[s_all[i]->type], s_type_names[type]);
            zstr_free(&key);
            return NULL;
        }

    m = calloc(1, sizeof *m);
    m->type = type;
    m->name = strdup(name);
    m->help = strdup(help ? help : "");
    m->labels = strdup(labels);
    m->seq = s_count;
    if (s_count == s_size) {
        s_size = s_size ? s_size * 2 : 64;
        s_all = realloc(s_all, s_size * sizeof *s_all);
    }
    s_all[s_count++] = m;
    zhashx_insert(s_index, key, m);
    zstr_free(&key);
    return m;
}

metric_t *
metrics_counter(const char *name, const char *help, const char *labels)
{
    return s_get(METRIC_COUNTER, name, help, labels);
}

metric_t *
metrics_gauge(const char *name, const char *help, const char *labels)
{
    return s_get(METRIC_GAUGE, name, help, labels);
}

metric_t *
metrics_histogram(const char *name, const char *help, const char *labels)
{
    return s_get(METRIC_HISTOGRAM, name, help, labels);
}

void
metric_add(metric_t *m, double by)
{
    if (!m || m->type == METRIC_HISTOGRAM)
        return;
    /*  A counter that goes down reads as a process restart to Prometheus
        and rate() would report a spike. */
    if (m->type == METRIC_COUNTER && !(by >= 0))
        return;
    m->value += by;
}

void
metric_inc(metric_t *m)
{
    metric_add(m, 1);
}

void
metric_set(metric_t *m, double value)
{
    if (m && m->type != METRIC_HISTOGRAM)
        m->value = value;
}

void
metric_observe(metric_t *m, double seconds)
{
    if (!m || m->type != METRIC_HISTOGRAM || isnan(seconds))
        return;
    for (size_t i = 0; i < BUCKET_COUNT; i++)
        if (seconds <= s_buckets[i])
            m->buckets[i]++;
    m->count++;
    m->value += seconds;
}

double
metric_value(const metric_t *m)
{
    if (!m)
        return 0;
    return m->type == METRIC_HISTOGRAM ? (double) m->count : m->value;
}

/*  Integers print as integers (a counter at 1e7 should not read 1e+07);
    the rest with enough digits to round-trip. */
static void
s_format_value(char *out, size_t size, double v)
{
    if (isnan(v))
        snprintf(out, size, "NaN");
    else if (isinf(v))
        snprintf(out, size, v > 0 ? "+Inf" : "-Inf");
    else if (v == floor(v) && fabs(v) < 9007199254740992.0)     /* 2^53 */
        snprintf(out, size, "%.0f", v);
    else
        snprintf(out, size, "%.17g", v);
}

/*  # HELP text escapes backslash and newline only (the format says so). */
static void
s_append_help(zchunk_t *out, const char *help)
{
    for (const char *p = help; *p; p++) {
        if (*p == '\\')
            zchunk_extend(out, "\\\\", 2);
        else if (*p == '\n')
            zchunk_extend(out, "\\n", 2);
        else
            zchunk_extend(out, p, 1);
    }
}

static void
s_append(zchunk_t *out, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *text = zsys_vprintf(fmt, ap);
    va_end(ap);
    if (text) {
        zchunk_extend(out, text, strlen(text));
        zstr_free(&text);
    }
}

/*  A sample line: name[suffix]{labels[,extra]} value */
static void
s_append_sample(zchunk_t *out, const metric_t *m, const char *suffix,
                const char *extra, double value)
{
    char text[64];
    s_format_value(text, sizeof text, value);
    const char *sep = *m->labels && extra ? "," : "";
    if (*m->labels || extra)
        s_append(out, "%s%s{%s%s%s} %s\n", m->name, suffix, m->labels, sep,
                 extra ? extra : "", text);
    else
        s_append(out, "%s%s %s\n", m->name, suffix, text);
}

static void
s_render_one(zchunk_t *out, const metric_t *m)
{
    if (m->type != METRIC_HISTOGRAM) {
        s_append_sample(out, m, "", NULL, m->value);
        return;
    }
    char le[32];
    for (size_t i = 0; i < BUCKET_COUNT; i++) {
        snprintf(le, sizeof le, "le=\"%g\"", s_buckets[i]);
        s_append_sample(out, m, "_bucket", le, (double) m->buckets[i]);
    }
    s_append_sample(out, m, "_bucket", "le=\"+Inf\"", (double) m->count);
    s_append_sample(out, m, "_sum", NULL, m->value);
    s_append_sample(out, m, "_count", NULL, (double) m->count);
}

/*  By name, then registration order: groups a name's samples together and
    keeps the output stable from one scrape to the next. */
static int
s_compare(const void *a, const void *b)
{
    const metric_t *x = *(metric_t *const *) a;
    const metric_t *y = *(metric_t *const *) b;
    int c = strcmp(x->name, y->name);
    if (c)
        return c;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

char *
metrics_render(void)
{
    zchunk_t *out = zchunk_new(NULL, 4096);
    metric_t **sorted = NULL;
    if (s_count) {
        sorted = malloc(s_count * sizeof *sorted);
        memcpy(sorted, s_all, s_count * sizeof *sorted);
        qsort(sorted, s_count, sizeof *sorted, s_compare);
    }
    for (size_t i = 0; i < s_count; i++) {
        const metric_t *m = sorted[i];
        if (i == 0 || strcmp(sorted[i - 1]->name, m->name) != 0) {
            s_append(out, "# HELP %s ", m->name);
            s_append_help(out, m->help);
            s_append(out, "\n# TYPE %s %s\n", m->name, s_type_names[m->type]);
        }
        s_render_one(out, m);
    }
    free(sorted);

    size_t size = zchunk_size(out);
    char *text = malloc(size + 1);
    memcpy(text, zchunk_data(out), size);
    text[size] = '\0';
    zchunk_destroy(&out);
    return text;
}

void
metrics_reset(void)
{
    for (size_t i = 0; i < s_count; i++) {
        free(s_all[i]->name);
        free(s_all[i]->help);
        free(s_all[i]->labels);
        free(s_all[i]);
    }
    free(s_all);
    s_all = NULL;
    s_count = s_size = 0;
    zhashx_destroy(&s_index);
}
