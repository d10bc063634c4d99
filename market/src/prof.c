/* prof.c: the market's stage times (market.h struct market_prof) and their stats file.
 *
 * raas-bench-market must say where the market's time goes without attaching a profiler to a
 * daemon on a loaded machine, so the main thread keeps a sum per stage and raas-marketd
 * writes the sums after every round when [market] stats_file is set. The file is text, one
 * "stage ns n" line per stage after "rounds R", replaced whole (write, then rename) so that a
 * reader sees one round's sums or the next's, never a mix. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "market_internal.h"

static const char *const stage_names[MARKET_STAGES] = {
	[MARKET_ST_RECV] = "recv",     [MARKET_ST_DECODE] = "decode",
	[MARKET_ST_CHECK] = "check",   [MARKET_ST_LEDGER] = "ledger",
	[MARKET_ST_CLEAR] = "clear",   [MARKET_ST_BILL] = "bill",
	[MARKET_ST_ENCODE] = "encode", [MARKET_ST_SEND] = "send",
	[MARKET_ST_WAIT] = "ledger_wait",
};

static int64_t cpu_now(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0)
		return 0;
	return (int64_t)ts.tv_sec * INT64_C(1000000000) + ts.tv_nsec;
}

void market_prof_begin(struct market_prof *p)
{
	memset(p->pass_ns, 0, sizeof(p->pass_ns));
	p->pass_direct_cpu = p->pass_direct_mono = 0;
	p->pass_cpu0 = cpu_now();
	p->pass_mono0 = clk_mono(&clk_real);
	p->in_pass = true;
}

void market_prof_end(struct market_prof *p)
{
	if (!p->in_pass)
		return;
	int64_t cpu = cpu_now() - p->pass_cpu0 - p->pass_direct_cpu;
	int64_t mono = clk_mono(&clk_real) - p->pass_mono0 - p->pass_direct_mono;
	/* The share of the pass's monotonic time the thread was on a CPU. */
	double f = mono > 0 && cpu > 0 ? (double)cpu / (double)mono : 1.0;
	if (f > 1.0)
		f = 1.0;
	for (int i = 0; i < MARKET_STAGES; i++)
		p->ns[i] += (int64_t)((double)p->pass_ns[i] * f);
	p->in_pass = false;
}

void market_prof_add(struct market_prof *p, enum market_stage st, int64_t *t0, uint64_t n)
{
	int64_t now = clk_mono(&clk_real);

	if (p->in_pass)
		p->pass_ns[st] += now - *t0;
	else
		p->ns[st] += now - *t0;
	p->n[st] += n;
	*t0 = now;
}

void market_prof_add_ns(struct market_prof *p, enum market_stage st, int64_t ns, uint64_t n)
{
	if (p->in_pass)
		p->pass_ns[st] += ns;
	else
		p->ns[st] += ns;
	p->n[st] += n;
}

int64_t market_prof_stage_ns(const struct market_prof *p, enum market_stage st)
{
	return p->ns[st] + (p->in_pass ? p->pass_ns[st] : 0);
}

void market_prof_cpu_start(int64_t t[2])
{
	t[0] = cpu_now();
	t[1] = clk_mono(&clk_real);
}

void market_prof_cpu_stop(struct market_prof *p, enum market_stage st, const int64_t t[2])
{
	int64_t cpu = cpu_now() - t[0], mono = clk_mono(&clk_real) - t[1];

	if (mono < cpu)
		mono = cpu;
	p->ns[st] += cpu;
	p->n[st]++;
	p->ns[MARKET_ST_WAIT] += mono - cpu;
	p->n[MARKET_ST_WAIT]++;
	if (p->in_pass) {
		p->pass_direct_cpu += cpu;
		p->pass_direct_mono += mono;
	}
}

const char *market_stage_name(int stage)
{
	return stage >= 0 && stage < MARKET_STAGES ? stage_names[stage] : "?";
}

struct market_prof *market_prof(struct market *m)
{
	return &m->prof;
}

int market_prof_write(const struct market_prof *prof, uint64_t rounds, const char *path)
{
	char tmp[MCFG_PATH_MAX + 8];
	FILE *f;
	int err = 0;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	if (!(f = fopen(tmp, "w")))
		return -errno;
	fprintf(f, "rounds %llu\n", (unsigned long long)rounds);
	for (int i = 0; i < MARKET_STAGES; i++)
		fprintf(f, "%s %lld %llu\n", stage_names[i], (long long)prof->ns[i],
			(unsigned long long)prof->n[i]);
	fprintf(f, "sqlite_memory %lld 0\n", (long long)ledger_memory_used());
	if (ferror(f))
		err = -EIO;
	if (fclose(f) != 0 && !err)
		err = -errno;
	if (!err && rename(tmp, path) != 0)
		err = -errno;
	if (err)
		remove(tmp);
	return err;
}
