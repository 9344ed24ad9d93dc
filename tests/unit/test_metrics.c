/*  Unit tests for common/metrics: registry, values, text exposition. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"

static int
s_reset(void **state)
{
    metrics_reset();
    return 0;
}

/*  True when `text` holds `line` as a whole line. */
static bool
s_has_line(const char *text, const char *line)
{
    size_t n = strlen(line);
    for (const char *p = text; (p = strstr(p, line)); p++)
        if ((p == text || p[-1] == '\n') && p[n] == '\n')
            return true;
    return false;
}

static int
s_count(const char *text, const char *needle)
{
    int count = 0;
    for (const char *p = text; (p = strstr(p, needle)); p++)
        count++;
    return count;
}

static void
test_same_metric_found_again(void **state)
{
    metric_t *a = metrics_counter("creance_things_total", "Things.", "reason=\"x\"");
    metric_t *b = metrics_counter("creance_things_total", "Things.", "reason=\"x\"");
    metric_t *c = metrics_counter("creance_things_total", "Things.", "reason=\"y\"");
    metric_t *d = metrics_counter("creance_things_total", "Things.", NULL);
    assert_non_null(a);
    assert_ptr_equal(a, b);
    assert_ptr_not_equal(a, c);
    assert_ptr_not_equal(a, d);
    assert_ptr_equal(d, metrics_counter("creance_things_total", "Things.", ""));
    metric_inc(a);
    metric_add(b, 2.5);
    assert_true(metric_value(a) == 3.5);
    assert_true(metric_value(c) == 0);
}

static void
test_counter_only_goes_up(void **state)
{
    metric_t *m = metrics_counter("creance_up_total", "Up.", NULL);
    metric_add(m, 5);
    metric_add(m, -2);
    assert_true(metric_value(m) == 5);
    metric_t *g = metrics_gauge("creance_level", "Level.", NULL);
    metric_set(g, 10);
    metric_add(g, -3);
    assert_true(metric_value(g) == 7);
}

static void
test_type_conflict_refused(void **state)
{
    assert_non_null(metrics_counter("creance_x_total", "X.", "a=\"1\""));
    /*  Same name, other type: refused (a scrape would be rejected whole). */
    assert_null(metrics_gauge("creance_x_total", "X.", "a=\"2\""));
    assert_null(metrics_histogram("creance_x_total", "X.", "a=\"1\""));
    assert_null(metrics_counter("9bad", "Bad.", NULL));
    assert_null(metrics_counter("bad-name", "Bad.", NULL));
    /*  NULL metrics are no-ops, not crashes. */
    metric_inc(NULL);
    metric_observe(NULL, 1);
    assert_true(metric_value(NULL) == 0);
}

static void
test_render_counters_and_gauges(void **state)
{
    metric_add(metrics_counter("creance_rejects_total", "Rejected items by reason.",
                               "reason=\"bad_currency\""), 3);
    metric_inc(metrics_counter("creance_rejects_total", "Rejected items by reason.",
                               "reason=\"bad_date\""));
    metric_set(metrics_gauge("creance_queue_depth", "Items waiting.", NULL), 12.5);
    metric_add(metrics_counter("creance_big_total", "Big.", NULL), 12345678);
    char *text = metrics_render();

    assert_true(s_has_line(text, "# HELP creance_rejects_total Rejected items by reason."));
    assert_true(s_has_line(text, "# TYPE creance_rejects_total counter"));
    assert_true(s_has_line(text, "creance_rejects_total{reason=\"bad_currency\"} 3"));
    assert_true(s_has_line(text, "creance_rejects_total{reason=\"bad_date\"} 1"));
    assert_true(s_has_line(text, "# TYPE creance_queue_depth gauge"));
    assert_true(s_has_line(text, "creance_queue_depth 12.5"));
    assert_true(s_has_line(text, "creance_big_total 12345678"));
    /*  One HELP/TYPE per name, however many label sets. */
    assert_int_equal(s_count(text, "# HELP creance_rejects_total "), 1);
    assert_int_equal(s_count(text, "# TYPE creance_rejects_total "), 1);
    /*  A name's samples follow its TYPE line with nothing else between. */
    const char *type = strstr(text, "# TYPE creance_rejects_total counter\n");
    const char *next = type + strlen("# TYPE creance_rejects_total counter\n");
    assert_int_equal(strncmp(next, "creance_rejects_total{", 22), 0);
    next = strchr(next, '\n') + 1;
    assert_int_equal(strncmp(next, "creance_rejects_total{", 22), 0);
    assert_true(text[strlen(text) - 1] == '\n');
    free(text);
}

static void
test_render_grouping_interleaved(void **state)
{
    /*  Registered interleaved; still rendered grouped under one header. */
    metric_inc(metrics_counter("creance_a_total", "A.", "k=\"1\""));
    metric_inc(metrics_counter("creance_b_total", "B.", "k=\"1\""));
    metric_inc(metrics_counter("creance_a_total", "A.", "k=\"2\""));
    char *text = metrics_render();
    assert_int_equal(s_count(text, "# TYPE creance_a_total counter"), 1);
    const char *a1 = strstr(text, "creance_a_total{k=\"1\"} 1\n");
    const char *a2 = strstr(text, "creance_a_total{k=\"2\"} 1\n");
    const char *b = strstr(text, "# HELP creance_b_total");
    assert_non_null(a1);
    assert_non_null(a2);
    assert_non_null(b);
    assert_true(a1 < a2 && a2 < b);
    free(text);
}

static void
test_help_escaped(void **state)
{
    metrics_counter("creance_esc_total", "line one\nback\\slash", NULL);
    char *text = metrics_render();
    assert_true(s_has_line(text, "# HELP creance_esc_total line one\\nback\\\\slash"));
    free(text);
}

static void
test_histogram(void **state)
{
    metric_t *h = metrics_histogram("creance_req_seconds", "Latency.", "path=\"/x\"");
    metric_observe(h, 0.0003);      /* <= 0.0005 */
    metric_observe(h, 0.0005);      /* exactly on a bound counts in it */
    metric_observe(h, 0.003);       /* <= 0.005 */
    metric_observe(h, 0.2);         /* <= 0.25 */
    metric_observe(h, 42);          /* only +Inf */
    assert_true(metric_value(h) == 5);
    char *text = metrics_render();

    assert_true(s_has_line(text, "# TYPE creance_req_seconds histogram"));
    assert_true(s_has_line(text, "creance_req_seconds_bucket{path=\"/x\",le=\"0.0005\"} 2"));
    assert_true(s_has_line(text, "creance_req_seconds_bucket{path=\"/x\",le=\"0.001\"} 2"));
    assert_true(s_has_line(text, "creance_req_seconds_bucket{path=\"/x\",le=\"0.0025\"} 2"));
    assert_true(s_has_line(text, "creance_req_seconds_bucket{path=\"/x\",le=\"0.005\"} 3"));
    assert_true(s_has_line(text, "creance_req_seconds_bucket{path=\"/x\",le=\"0.1\"} 3"));
    assert_true(s_has_line(text, "creance_req_seconds_bucket{path=\"/x\",le=\"0.25\"} 4"));
    assert_true(s_has_line(text, "creance_req_seconds_bucket{path=\"/x\",le=\"10\"} 4"));
    assert_true(s_has_line(text, "creance_req_seconds_bucket{path=\"/x\",le=\"+Inf\"} 5"));
    assert_true(s_has_line(text, "creance_req_seconds_count{path=\"/x\"} 5"));
    assert_non_null(strstr(text, "creance_req_seconds_sum{path=\"/x\"} 42.2038"));

    /*  All 15 buckets, in order, never decreasing (cumulative). */
    static const char *bounds[] = {
        "0.0005", "0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1",
        "0.25", "0.5", "1", "2.5", "5", "10", "+Inf",
    };
    const char *at = text;
    long previous = -1;
    for (size_t i = 0; i < 15; i++) {
        char prefix[96];
        snprintf(prefix, sizeof prefix, "creance_req_seconds_bucket{path=\"/x\",le=\"%s\"} ", bounds[i]);
        const char *p = strstr(at, prefix);
        if (!p)
            fail_msg("missing or out of order: %s", prefix);
        long value = strtol(p + strlen(prefix), NULL, 10);
        assert_true(value >= previous);
        previous = value;
        at = p + 1;
    }
    assert_int_equal(s_count(text, "creance_req_seconds_bucket{"), 15);
    free(text);
}

static void
test_histogram_without_labels(void **state)
{
    metric_observe(metrics_histogram("creance_plain_seconds", "Plain.", NULL), 0.01);
    char *text = metrics_render();
    assert_true(s_has_line(text, "creance_plain_seconds_bucket{le=\"0.01\"} 1"));
    assert_true(s_has_line(text, "creance_plain_seconds_bucket{le=\"0.005\"} 0"));
    assert_true(s_has_line(text, "creance_plain_seconds_count 1"));
    assert_true(s_has_line(text, "creance_plain_seconds_sum 0.01"));
    free(text);
}

static void
test_reset(void **state)
{
    metric_inc(metrics_counter("creance_gone_total", "Gone.", NULL));
    metrics_reset();
    char *text = metrics_render();
    assert_string_equal(text, "");
    free(text);
    /*  Registered afresh after a reset: starts from zero. */
    assert_true(metric_value(metrics_counter("creance_gone_total", "Gone.", NULL)) == 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_same_metric_found_again, s_reset),
        cmocka_unit_test_setup(test_counter_only_goes_up, s_reset),
        cmocka_unit_test_setup(test_type_conflict_refused, s_reset),
        cmocka_unit_test_setup(test_render_counters_and_gauges, s_reset),
        cmocka_unit_test_setup(test_render_grouping_interleaved, s_reset),
        cmocka_unit_test_setup(test_help_escaped, s_reset),
        cmocka_unit_test_setup(test_histogram, s_reset),
        cmocka_unit_test_setup(test_histogram_without_labels, s_reset),
        cmocka_unit_test_setup(test_reset, s_reset),
    };
    return cmocka_run_group_tests(tests, NULL, s_reset);
}
