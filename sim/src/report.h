/* report.h: what a run file says, for people: CSVs, gnuplot charts, a summary table.
 *
 * sim_report() exports every result table of a run file as CSV into a folder, draws PNG
 * charts with gnuplot (Debian's gnuplot-nox; skipped with a note when it is missing): price
 * per resource over time, cumulative provider revenue, profit per class and strategy,
 * utilization; and prints the summary table. The summary compares variants (mechanisms) when
 * there are several, and, for scenarios with `[report] reference = nom-thesis`, prints the
 * profit table beside the thesis's own figures and explains the differences. */
#ifndef SIM_REPORT_H
#define SIM_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* Writes CSVs (and charts unless !charts) into out_dir (created if missing) and the summary
 * to summary (may be NULL). Returns 0, -ENOENT / -EINVAL for a missing or foreign file, -EIO
 * with why filled. */
int sim_report(const char *run_path, const char *out_dir, bool charts, FILE *summary, char *why,
	       size_t why_len);
/* Only the summary table. */
int sim_report_summary(const char *run_path, FILE *out, char *why, size_t why_len);
/* Two run files side by side (simulated or live testbed runs): metrics, each class's profit
 * and payment, prices, with the gaps. Returns 0, -ENOENT / -EINVAL with why filled. */
int sim_report_compare(const char *path_a, const char *path_b, FILE *out, char *why,
		       size_t why_len);

#endif
