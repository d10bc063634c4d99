/* schedule.c: price schedules ("0s $1, 60s $10"): parsing and lookup. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/config.h"
#include "common/error.h"
#include "schedule.h"

void sim_schedule_fini(struct sim_schedule *s)
{
	free(s->t_ns);
	free(s->price);
	memset(s, 0, sizeof(*s));
}

/* Copies text[0..n) trimmed of blanks into buf (cap bytes). Returns false when too long. */
static bool trimmed(const char *text, size_t n, char *buf, size_t cap)
{
	while (n > 0 && (*text == ' ' || *text == '\t')) {
		text++;
		n--;
	}
	while (n > 0 && (text[n - 1] == ' ' || text[n - 1] == '\t'))
		n--;
	if (n >= cap)
		return false;
	memcpy(buf, text, n);
	buf[n] = '\0';
	return true;
}

int sim_schedule_parse(const char *text, struct sim_schedule *out, const char **why,
		       size_t *entry)
{
	struct sim_schedule s = {0};
	size_t cap = 0;
	const char *p = text;
	int rc = 0;

	*why = NULL;
	*entry = 0;
	for (;;) {
		const char *comma = strchr(p, ',');
		size_t n = comma ? (size_t)(comma - p) : strlen(p);
		char item[128], *sp;
		int64_t t;
		money_t price;
		(*entry)++;
		if (!trimmed(p, n, item, sizeof(item))) {
			*why = "entry too long";
			goto bad;
		}
		sp = strpbrk(item, " \t");
		if (!sp) {
			*why = "expected 'TIME PRICE', e.g. '60s $10'";
			goto bad;
		}
		*sp++ = '\0';
		while (*sp == ' ' || *sp == '\t')
			sp++;
		if (cfg_parse_duration(item, &t)) {
			*why = "the time is not a duration (0s, 60s, 5m, 1h)";
			goto bad;
		}
		if (money_parse(sp, &price, NULL) || price < 0) {
			*why = "the price is not a dollar amount >= 0 ($1, $0.25)";
			goto bad;
		}
		if (s.n == 0 && t != 0) {
			*why = "the first entry must be at 0s";
			goto bad;
		}
		if (s.n > 0 && t <= s.t_ns[s.n - 1]) {
			*why = "times must increase";
			goto bad;
		}
		if (s.n == SIM_SCHEDULE_MAX) {
			*why = "more than 4096 entries";
			goto bad;
		}
		if (s.n == cap) {
			size_t nc = cap ? 2 * cap : 8;
			int64_t *tv = realloc(s.t_ns, nc * sizeof(*tv));
			if (tv)
				s.t_ns = tv;
			money_t *pv = realloc(s.price, nc * sizeof(*pv));
			if (pv)
				s.price = pv;
			if (!tv || !pv) {
				rc = -ENOMEM;
				*why = "out of memory";
				goto fail;
			}
			cap = nc;
		}
		s.t_ns[s.n] = t;
		s.price[s.n] = price;
		s.n++;
		if (!comma)
			break;
		p = comma + 1;
	}
	*out = s;
	return 0;
bad:
	rc = -RAAS_EPARSE;
fail:
	sim_schedule_fini(&s);
	return rc;
}

/* The index of the last step at or before t. */
static size_t step_at(const struct sim_schedule *s, int64_t t)
{
	size_t lo = 0, hi = s->n;

	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;
		if (s->t_ns[mid] <= t)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

money_t sim_schedule_price(const struct sim_schedule *s, int64_t t)
{
	return s->n ? s->price[step_at(s, t)] : 0;
}

int64_t sim_schedule_next(const struct sim_schedule *s, int64_t t)
{
	if (s->n == 0)
		return INT64_MAX;
	size_t i = step_at(s, t);
	if (s->t_ns[i] > t)
		return s->t_ns[i];
	return i + 1 < s->n ? s->t_ns[i + 1] : INT64_MAX;
}
