/*  metrics: process-wide Prometheus counters, gauges and latency histograms,
    rendered in the text exposition format at /metrics. Services are single
    threaded (one event loop), so no locking. A metric is found again by
    (name, labels): calling metrics_counter twice returns the same one. */
#ifndef CREANCE_METRICS_H
#define CREANCE_METRICS_H

typedef struct metric_t metric_t;

/*  labels: NULL or a Prometheus label list without braces, e.g.
    "reason=\"bad_currency\"". */
metric_t *metrics_counter(const char *name, const char *help, const char *labels);
metric_t *metrics_gauge(const char *name, const char *help, const char *labels);
/*  Buckets in seconds from 0.5 ms to 10 s. */
metric_t *metrics_histogram(const char *name, const char *help, const char *labels);

void   metric_add(metric_t *m, double by);
void   metric_inc(metric_t *m);
void   metric_set(metric_t *m, double value);
void   metric_observe(metric_t *m, double seconds);
double metric_value(const metric_t *m);      /* counter/gauge value, histogram count */

/*  Text exposition format; caller frees. */
char  *metrics_render(void);
/*  Forgets every metric (tests). */
void   metrics_reset(void);

#endif
