/* report_html.c: report.html, the run drawn by the dashboards' own charts, in one file.
 *
 * A simulated run and a live market should look alike: this page holds the run's prices,
 * allocation and revenue in the shapes of raas-marketd's /api/pools and /api/rounds
 * (docs/dashboards.md) and draws them with the market page's code (dashboards/src/raas.js)
 * and uPlot, both inlined from the built dashboards folder (RAAS_DASHBOARDS, else the build
 * tree's), so the file opens offline and can be sent on its own. The gnuplot charts beside it
 * are shown below the live-style charts. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "report_internal.h"

static const char *dashboards_dir(void)
{
	const char *d = getenv("RAAS_DASHBOARDS");
	return d && *d ? d : RAAS_DASHBOARDS_DEFAULT;
}

/* Copies the file DIR/NAME into out; -ENOENT with why when it cannot be read. */
static int inline_file(FILE *out, const char *name, char *why, size_t why_len)
{
	char path[1200], buf[8192];
	size_t n;

	snprintf(path, sizeof(path), "%s/%s", dashboards_dir(), name);
	FILE *f = fopen(path, "r");
	if (!f) {
		snprintf(why, why_len, "%s: %s (set RAAS_DASHBOARDS to the built dashboards folder)",
			 path, strerror(errno));
		return -ENOENT;
	}
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		fwrite(buf, 1, n, out);
	fclose(f);
	return 0;
}

static const char *unit_of(const char *res)
{
	if (!strcmp(res, "egress"))
		return "Gbit";
	if (!strcmp(res, "bandwidth"))
		return "Mbit/s";
	if (!strcmp(res, "memory"))
		return "MiB";
	if (!strcmp(res, "llc"))
		return "ways";
	return "cores";
}

/* The base variant's rounds as {"pools": [...], "rounds": [...]} (a pool per resource: the
 * mean price over its pools). Names come from the run file: escaped as JSON strings. */
static void write_data(struct report *r, FILE *out)
{
	sqlite3_stmt *st;
	const char *v = r->variants[0];
	bool first = true;

	fputs("{\"pools\": [", out);
	if (sqlite3_prepare_v2(r->db,
			       "SELECT DISTINCT resource FROM rounds WHERE variant = ? ORDER BY resource",
			       -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, v, -1, SQLITE_STATIC);
		while (sqlite3_step(st) == SQLITE_ROW) {
			char res[64];
			sqlite3_stmt *h;
			snprintf(res, sizeof(res), "%s", (const char *)sqlite3_column_text(st, 0));
			for (char *c = res; *c; c++)
				if (*c == '"' || *c == '\\' || (unsigned char)*c < 0x20)
					*c = '_';
			fprintf(out, "%s\n {\"key\": \"%s\", \"resource\": \"%s\", \"unit\": \"%s\", "
				     "\"history\": [",
				first ? "" : ",", res, res, unit_of(res));
			first = false;
			if (sqlite3_prepare_v2(r->db,
					       "SELECT round, price_mean, allocated, supply FROM rounds WHERE"
					       " variant = ? AND resource = ? ORDER BY round",
					       -1, &h, NULL) == SQLITE_OK) {
				sqlite3_bind_text(h, 1, v, -1, SQLITE_STATIC);
				sqlite3_bind_text(h, 2, res, -1, SQLITE_TRANSIENT);
				for (bool f1 = true; sqlite3_step(h) == SQLITE_ROW; f1 = false)
					fprintf(out, "%s{\"round\": %lld, \"price_nd\": %lld, \"allocated\": %lld}",
						f1 ? "" : ", ", (long long)sqlite3_column_int64(h, 0),
						(long long)sqlite3_column_int64(h, 1),
						(long long)sqlite3_column_int64(h, 2));
				sqlite3_finalize(h);
			}
			fputs("]}", out);
		}
		sqlite3_finalize(st);
	}
	fputs("],\n\"rounds\": [", out);
	if (sqlite3_prepare_v2(r->db,
			       "SELECT round, sum(revenue), sum(bids) FROM rounds WHERE variant = ?"
			       " GROUP BY round ORDER BY round",
			       -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, v, -1, SQLITE_STATIC);
		for (first = true; sqlite3_step(st) == SQLITE_ROW; first = false)
			fprintf(out, "%s\n {\"round\": %lld, \"revenue_nd\": %lld, \"bids\": %lld}",
				first ? "" : ",", (long long)sqlite3_column_int64(st, 0),
				(long long)sqlite3_column_int64(st, 1),
				(long long)sqlite3_column_int64(st, 2));
		sqlite3_finalize(st);
	}
	fputs("]}", out);
}

int report__html(struct report *r, const char *dir, char *why, size_t why_len)
{
	static const char *const pngs[] = {"profit.png",	     "frontier-memcached.png",
					   "frontier-nhttpd.png",    "frontier-netpipe.png",
					   "revenue.png",	     "utilization.png"};
	char name[64], path[1200];
	FILE *out = report__open_in(dir, "report.html", why, why_len);
	int rc;

	if (!out)
		return -EIO;
	report_meta(r, "name", "run", name, sizeof(name));
	for (char *c = name; *c; c++)
		if (*c == '<' || *c == '&' || *c == '"')
			*c = '_';
	fprintf(out, "<!doctype html>\n<!-- report.html: raas-sim report of %s, drawn as the "
		     "market page draws a live market. -->\n<html lang=\"en\"><head><meta "
		     "charset=\"utf-8\"><title>raas-sim: %s</title>\n<style>\n",
		name, name);
	if ((rc = inline_file(out, "uPlot.min.css", why, why_len)) ||
	    (rc = inline_file(out, "style.css", why, why_len)))
		goto fail;
	fprintf(out, "</style></head><body>\n<nav><b>raas-sim report: %s</b> (%zu rounds of "
		     "%.0f s simulated)<span id=\"status\"></span></nav>\n"
		     "<div id=\"price\" class=\"chart\"></div><div id=\"allocated\" "
		     "class=\"chart\"></div><div id=\"revenue\" class=\"chart\"></div>\n",
		name, (size_t)report_number(r, "SELECT count(DISTINCT round) FROM rounds WHERE variant = ?",
					    r->variants[0]),
		r->duration_s);
	for (size_t i = 0; i < sizeof(pngs) / sizeof(pngs[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, pngs[i]);
		if (access(path, R_OK) == 0)
			fprintf(out, "<p><img src=\"%s\" alt=\"%s\" style=\"max-width:100%%\"></p>\n",
				pngs[i], pngs[i]);
	}
	fputs("<script>\n", out);
	if ((rc = inline_file(out, "uPlot.iife.min.js", why, why_len)))
		goto fail;
	fputs("\n</script>\n<script>\n", out);
	if ((rc = inline_file(out, "raas.js", why, why_len)))
		goto fail;
	fputs("\n</script>\n<script>\nwindow.RAAS_DATA = ", out);
	write_data(r, out);
	fputs(";\nraas.poolCharts(RAAS_DATA.pools, document.getElementById('price'),"
	      " document.getElementById('allocated'));\n"
	      "raas.revenueChart(RAAS_DATA.rounds, document.getElementById('revenue'));\n"
	      "</script>\n</body></html>\n",
	      out);
	if (fclose(out) != 0) {
		snprintf(why, why_len, "%s/report.html: write failed", dir);
		return -EIO;
	}
	return 0;
fail:
	fclose(out);
	snprintf(path, sizeof(path), "%s/report.html", dir);
	unlink(path);
	return rc;
}
