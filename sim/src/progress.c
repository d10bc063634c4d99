/* progress.c: the progress bar and JSON progress lines of progress.h. */
#include <stdio.h>
#include <unistd.h>

#include "common/clock.h"
#include "progress.h"

void progress_start(struct progress *p, enum sim_progress_mode mode, const char *label,
		    uint64_t total)
{
	p->mode = mode;
	p->tty = isatty(STDERR_FILENO);
	p->label = label;
	p->total = total ? total : 1;
	p->start_ns = clk_mono(&clk_real);
	p->last_ns = 0;
	p->last_permille = -1;
}

void progress_step(struct progress *p, uint64_t done, double sim_s)
{
	int64_t now = clk_mono(&clk_real);
	int permille = (int)(done * 1000 / p->total);
	bool last = done >= p->total;

	if (p->mode == SIM_PROGRESS_NEVER || (p->mode == SIM_PROGRESS_AUTO && !p->tty))
		return;
	if (!last && now - p->last_ns < 100 * NS_PER_MS && permille == p->last_permille)
		return;
	if (p->mode == SIM_PROGRESS_JSON) {
		if (!last && now - p->last_ns < 500 * NS_PER_MS)
			return;
		fprintf(stderr,
			"{\"variant\":\"%s\",\"round\":%llu,\"rounds\":%llu,\"sim_s\":%.3f,"
			"\"wall_s\":%.3f}\n",
			p->label, (unsigned long long)done, (unsigned long long)p->total, sim_s,
			(double)(now - p->start_ns) / 1e9);
	} else {
		char bar[41];
		int fill = permille * 40 / 1000;
		for (int i = 0; i < 40; i++)
			bar[i] = i < fill ? '#' : '.';
		bar[40] = '\0';
		double wall = (double)(now - p->start_ns) / 1e9;
		double eta = done ? wall * (double)(p->total - done) / (double)done : 0;
		fprintf(stderr, "\r%-16.16s [%s] %5.1f%% round %llu/%llu %6.1fs left ", p->label,
			bar, permille / 10.0, (unsigned long long)done,
			(unsigned long long)p->total, eta);
	}
	fflush(stderr);
	p->last_ns = now;
	p->last_permille = permille;
}

void progress_end(struct progress *p)
{
	if (p->mode == SIM_PROGRESS_AUTO && p->tty) {
		fputc('\n', stderr);
		fflush(stderr);
	}
}
