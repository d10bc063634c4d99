/* prom.h: writing the Prometheus text format (0.0.4): families, samples, histograms.
 *
 * Each daemon renders its /metrics page into an sbuf from its own loop (never from the HTTP
 * thread), with these helpers so that every page has the same shape: a HELP and a TYPE line
 * per family, label values escaped, integers printed exactly. Names follow the project's
 * rule (raas_ prefix, the unit in the name); docs/dashboards.md lists them. */
#ifndef COMMON_PROM_H
#define COMMON_PROM_H

#include <stddef.h>
#include <stdint.h>

#include "common/sbuf.h"

/* "# HELP name help\n# TYPE name type\n"; type is "counter", "gauge" or "histogram". */
void prom_family(struct sbuf *b, const char *name, const char *type, const char *help);
/* One sample: name{labels} value. labels is NULL or a rendered list (prom_labels). */
void prom_int(struct sbuf *b, const char *name, const char *labels, int64_t v);
void prom_double(struct sbuf *b, const char *name, const char *labels, double v);
/* Renders k1="v1",k2="v2" (values escaped) into out; n pairs of (key, value). Returns out. */
char *prom_labels(char *out, size_t len, size_t n, const char *const *kv);

/* A histogram of durations in nanoseconds, written in seconds. Bounds are fixed at init. */
#define PROM_HIST_MAX_BUCKETS 24
struct prom_hist {
	size_t nb;
	int64_t bound_ns[PROM_HIST_MAX_BUCKETS];
	uint64_t count[PROM_HIST_MAX_BUCKETS]; /* not cumulative; the +Inf bucket is total */
	uint64_t total;
	int64_t sum_ns;
};
/* Bounds from first_ns, each factor times the last (nb of them, at most the maximum). */
void prom_hist_init(struct prom_hist *h, int64_t first_ns, double factor, size_t nb);
void prom_hist_observe(struct prom_hist *h, int64_t ns);
/* Writes the family (HELP, TYPE histogram) with _bucket, _sum and _count. */
void prom_hist_write(struct sbuf *b, const char *name, const char *help,
		     const struct prom_hist *h);

#endif
