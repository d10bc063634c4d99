/* prom.c: the Prometheus text format helpers of prom.h. */
#include <stdio.h>
#include <string.h>

#include "common/prom.h"

void prom_family(struct sbuf *b, const char *name, const char *type, const char *help)
{
	sbuf_printf(b, "# HELP %s ", name);
	for (const char *p = help; *p; p++) {
		if (*p == '\\')
			sbuf_puts(b, "\\\\");
		else if (*p == '\n')
			sbuf_puts(b, "\\n");
		else
			sbuf_add(b, p, 1);
	}
	sbuf_printf(b, "\n# TYPE %s %s\n", name, type);
}

void prom_int(struct sbuf *b, const char *name, const char *labels, int64_t v)
{
	if (labels && *labels)
		sbuf_printf(b, "%s{%s} %lld\n", name, labels, (long long)v);
	else
		sbuf_printf(b, "%s %lld\n", name, (long long)v);
}

void prom_double(struct sbuf *b, const char *name, const char *labels, double v)
{
	if (labels && *labels)
		sbuf_printf(b, "%s{%s} %.9g\n", name, labels, v);
	else
		sbuf_printf(b, "%s %.9g\n", name, v);
}

char *prom_labels(char *out, size_t len, size_t n, const char *const *kv)
{
	size_t o = 0;

	out[0] = 0;
	for (size_t i = 0; i < n && o + 1 < len; i++) {
		int w = snprintf(out + o, len - o, "%s%s=\"", i ? "," : "", kv[2 * i]);
		if (w < 0 || (size_t)w >= len - o)
			break;
		o += (size_t)w;
		for (const char *p = kv[2 * i + 1]; *p && o + 3 < len; p++) {
			if (*p == '\\' || *p == '"' || *p == '\n') {
				out[o++] = '\\';
				out[o++] = *p == '\n' ? 'n' : *p;
			} else {
				out[o++] = *p;
			}
		}
		if (o + 1 < len)
			out[o++] = '"';
		out[o] = 0;
	}
	return out;
}

void prom_hist_init(struct prom_hist *h, int64_t first_ns, double factor, size_t nb)
{
	double b = (double)first_ns;

	memset(h, 0, sizeof(*h));
	if (nb > PROM_HIST_MAX_BUCKETS)
		nb = PROM_HIST_MAX_BUCKETS;
	h->nb = nb;
	for (size_t i = 0; i < nb; i++, b *= factor)
		h->bound_ns[i] = (int64_t)b;
}

void prom_hist_observe(struct prom_hist *h, int64_t ns)
{
	h->total++;
	h->sum_ns += ns;
	for (size_t i = 0; i < h->nb; i++) {
		if (ns <= h->bound_ns[i]) {
			h->count[i]++;
			return;
		}
	}
}

void prom_hist_write(struct sbuf *b, const char *name, const char *help,
		     const struct prom_hist *h)
{
	uint64_t cum = 0;

	prom_family(b, name, "histogram", help);
	for (size_t i = 0; i < h->nb; i++) {
		cum += h->count[i];
		sbuf_printf(b, "%s_bucket{le=\"%.9g\"} %llu\n", name, (double)h->bound_ns[i] / 1e9,
			    (unsigned long long)cum);
	}
	sbuf_printf(b, "%s_bucket{le=\"+Inf\"} %llu\n", name, (unsigned long long)h->total);
	sbuf_printf(b, "%s_sum %.9g\n", name, (double)h->sum_ns / 1e9);
	sbuf_printf(b, "%s_count %llu\n", name, (unsigned long long)h->total);
}
