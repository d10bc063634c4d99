/* model_trace.c: a posted price replayed from a price trace (EC2 spot CSV).
 *
 * Lets the market and the simulator run against real historical prices: the 2009-2011 EC2
 * spot traces in ../shared/data, or any file in the same format. The file is read once, at
 * create (pm_trace_load); clearing maps pool time onto trace time and posts the step price
 * in force, scaled (e.g. from per instance-hour to per core-hour).
 *
 * State and invariants (trace_check(), reached through pm_check()):
 *   1. The trace has at least one point, timestamps strictly ascending.
 *   2. Once started, t0 is the now_ns of the first call and never changes. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/config.h"
#include "pm_internal.h"
#include "pricing/models.h"
#include "pricing/trace.h"

struct trace_model {
	struct pm_trace trace;
	double scale;
	int64_t offset;
	bool loop;
	bool started;
	int64_t t0;
	struct pm_posted_ws ws;
};

static money_t price_now(struct trace_model *m, int64_t now)
{
	if (!m->started) {
		m->started = true;
		m->t0 = now;
	}
	const struct pm_trace *t = &m->trace;
	const int64_t first = t->points[0].t_ns, span = t->points[t->n - 1].t_ns - first;
	__int128 at = (__int128)m->offset + ((__int128)now - m->t0); /* since the first line */
	if (m->loop && span > 0) {
		at %= span;
		if (at < 0)
			at += span;
	}
	int64_t when = at > INT64_MAX - first ? INT64_MAX : at < -first ? INT64_MIN + 1 : first + (int64_t)at;
	double p = (double)pm_trace_price_at(t, when) * m->scale;
	return p >= 9.2e18 ? INT64_MAX : (money_t)llround(p);
}

static int trace_clear(struct pm_instance *inst, const struct pm_pool *pool,
		       const struct pm_bid *bids, size_t nbids, struct pm_result *res,
		       struct pm_error *err)
{
	struct trace_model *m = (struct trace_model *)inst;
	return pm__posted_clear(&m->ws, bids, nbids, pool->supply, price_now(m, pool->now_ns), res,
				err);
}

static int trace_posted_price(struct pm_instance *inst, const struct pm_pool *pool, money_t *out)
{
	*out = price_now((struct trace_model *)inst, pool->now_ns);
	return 0;
}

static int trace_check(struct pm_instance *inst, struct pm_error *err)
{
	struct trace_model *m = (struct trace_model *)inst;
	if (!m->trace.n)
		return pm__errorf(err, -EPROTO, "trace: empty trace");
	for (size_t i = 1; i < m->trace.n; i++)
		if (m->trace.points[i].t_ns <= m->trace.points[i - 1].t_ns)
			return pm__errorf(err, -EPROTO, "trace: point %zu not after point %zu", i,
					  i - 1);
	return 0;
}

static int trace_create(const struct pm_param *params, size_t nparams, struct pm_instance **out,
			struct pm_error *err)
{
	double scale;
	int64_t offset;
	bool loop;
	int rc;

	if ((rc = pm__param_double(params, nparams, "scale", &scale, err)) ||
	    (rc = pm__param_duration(params, nparams, "offset", &offset, err)))
		return rc;
	const char *file = pm__param(params, nparams, "file");
	const char *loop_text = pm__param(params, nparams, "loop");
	if (!file || !*file)
		return pm__errorf(err, -EINVAL, "trace: file must name a trace file");
	if (!(scale >= 0 && scale <= 1e9))
		return pm__errorf(err, -EINVAL, "trace: scale must be in [0, 1e9] (got %g)", scale);
	if (!loop_text || cfg_parse_bool(loop_text, &loop))
		return pm__errorf(err, -EINVAL, "trace: loop=%.20s: expected true or false",
				  loop_text ? loop_text : "");
	struct trace_model *m = calloc(1, sizeof(*m));
	if (!m)
		return pm__errorf(err, -ENOMEM, "trace: out of memory");
	if ((rc = pm_trace_load(file, &m->trace, err))) {
		free(m);
		return rc;
	}
	m->scale = scale;
	m->offset = offset;
	m->loop = loop;
	*out = (struct pm_instance *)m;
	return 0;
}

static void trace_destroy(struct pm_instance *inst)
{
	struct trace_model *m = (struct trace_model *)inst;
	pm_trace_free(&m->trace);
	pm__posted_ws_free(&m->ws);
	free(m);
}

static const struct pm_param_spec trace_params[] = {
	{"file", PM_PARAM_STRING, NULL, "the trace file (YYYY-MM-DD HH:MM:SS,price lines)"},
	{"scale", PM_PARAM_DOUBLE, "1", "multiplies every trace price (e.g. per instance to per unit)"},
	{"offset", PM_PARAM_DURATION, "0s", "start this far into the trace"},
	{"loop", PM_PARAM_STRING, "false", "true: wrap around at the trace's end; false: hold"},
};

const struct pm_model pm_model_trace = {
	.api_version = PM_API_VERSION,
	.size = sizeof(struct pm_model),
	.name = "trace",
	.summary = "replays a price trace file (EC2 spot CSV) as a step function",
	.params = trace_params,
	.nparams = sizeof(trace_params) / sizeof(trace_params[0]),
	.create = trace_create,
	.destroy = trace_destroy,
	.clear = trace_clear,
	.posted_price = trace_posted_price,
	.check = trace_check,
};
