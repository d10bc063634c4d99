/* test_pm_api.c: the registry, the wrappers' checks and the parameter parser, error texts
 * included. A deliberately broken model, registered at run time, shows that pm_clear() catches
 * a model that breaks its output contract. */
#include <errno.h>
#include <string.h>

#include "common/error.h"
#include "pm_testutil.h"
#include "pricing/models.h"
#include "test.h"

static struct pm_error err;

static void registry(void)
{
	const struct pm_model *all[32];
	size_t n = pm_models(all, 32);
	static const char *names[] = {"fixed",        "uniform",  "vcg",         "psp",  "mpsp",
				      "proportional", "spot-ar1", "utilization", "trace",
				      "spot-ar1-paper"};
	ASSERT_EQ(n, 10);
	for (size_t i = 0; i < 10; i++) {
		ASSERT_STR_EQ(all[i]->name, names[i]);
		ASSERT_TRUE(pm_find(names[i]) == all[i]);
		ASSERT_EQ(all[i]->api_version, PM_API_VERSION);
		ASSERT_TRUE(all[i]->summary && *all[i]->summary);
		for (size_t k = 0; k < all[i]->nparams; k++)
			ASSERT_TRUE(all[i]->params[k].help && *all[i]->params[k].help);
	}
	ASSERT_TRUE(pm_find("nope") == NULL);
	ASSERT_TRUE(pm_find(NULL) == NULL);

	struct pm_model copy = pm_model_fixed;
	ASSERT_EQ(pm_register(&copy), -EEXIST);
	copy.name = "fixed2";
	copy.api_version = PM_API_VERSION + 1;
	ASSERT_EQ(pm_register(&copy), -RAAS_EVERSION);
	copy.api_version = PM_API_VERSION;
	copy.size = 8;
	ASSERT_EQ(pm_register(&copy), -RAAS_EVERSION);
	copy.size = sizeof(copy);
	copy.clear = NULL;
	ASSERT_EQ(pm_register(&copy), -EINVAL);
	copy.clear = pm_model_fixed.clear;
	copy.name = "Bad Name";
	ASSERT_EQ(pm_register(&copy), -EINVAL);
}

/* A model that gives every bidder one unit more than its maximum, or charges a negative
 * price, depending on its parameter. */
struct broken {
	int64_t mode;
};

static int broken_create(const struct pm_param *p, size_t n, struct pm_instance **out,
			 struct pm_error *e)
{
	struct broken *b = malloc(sizeof(*b));
	b->mode = strtoll(p[0].value, NULL, 10);
	*out = (struct pm_instance *)b;
	(void)n, (void)e;
	return 0;
}

static void broken_destroy(struct pm_instance *inst)
{
	free(inst);
}

static int broken_clear(struct pm_instance *inst, const struct pm_pool *pool,
			const struct pm_bid *bids, size_t n, struct pm_result *res,
			struct pm_error *e)
{
	struct broken *b = (struct broken *)inst;
	for (size_t i = 0; i < n; i++) {
		res->outcomes[i].quantity = bids[i].max_quantity + (b->mode == 0);
		res->outcomes[i].payment = b->mode == 1 ? -1 : 1;
		res->allocated += res->outcomes[i].quantity;
		res->revenue += res->outcomes[i].payment + (b->mode == 2);
	}
	if (b->mode == 3) {
		snprintf(e->message, sizeof(e->message), "broken: refuses");
		return -EAGAIN;
	}
	return 0;
}

static const struct pm_param_spec broken_params[] = {
	{"mode", PM_PARAM_INT, "0", "which contract to break"},
};

static const struct pm_model broken_model = {
	.api_version = PM_API_VERSION,
	.size = sizeof(struct pm_model),
	.name = "broken",
	.summary = "breaks the output contract (tests only)",
	.params = broken_params,
	.nparams = 1,
	.create = broken_create,
	.destroy = broken_destroy,
	.clear = broken_clear,
};

static void output_checks(void)
{
	ASSERT_OK(pm_register(&broken_model));
	static const char *modes[] = {"mode=0", "mode=1", "mode=2", "mode=3"};
	static const char *want[] = {
		"model 'broken' broke its contract: bid 0 (bidder 5) got 3 units, outside [0, "
		"max_quantity 2]",
		"model 'broken' broke its contract: bid 0 (bidder 5) has a negative payment -1",
		"model 'broken' broke its contract: revenue 2 is not the sum of payments 1",
		"broken: refuses"};
	struct pm_bid b[] = {pmt_flat(5, 2, CENT)};
	struct pm_outcome out[1];
	for (int k = 0; k < 4; k++) {
		struct pm_instance *inst = pmt_create("broken", modes[k]);
		struct pm_pool pool = {.supply = 10};
		struct pm_result res = {.outcomes = out};
		int rc = pm_clear(inst, &pool, b, 1, &res, &err);
		ASSERT_EQ(rc, k == 3 ? -EAGAIN : -EPROTO);
		ASSERT_STR_EQ(err.message, want[k]);
		ASSERT_EQ(out[0].quantity, 0); /* a failed clearing leaves nothing behind */
		ASSERT_EQ(res.revenue, 0);
		money_t p;
		ASSERT_EQ(pm_posted_price(inst, &pool, &p), -ENOTSUP);
		pm_destroy(inst);
	}
	/* Over the supply in total. */
	struct pm_instance *inst = pmt_create("broken", "mode=4");
	struct pm_bid two[] = {pmt_flat(1, 2, CENT), pmt_flat(2, 2, CENT)};
	struct pm_outcome o2[2];
	struct pm_pool pool = {.supply = 3};
	struct pm_result res = {.outcomes = o2};
	ASSERT_EQ(pm_clear(inst, &pool, two, 2, &res, &err), -EPROTO);
	ASSERT_STR_EQ(err.message,
		      "model 'broken' broke its contract: allocated 4 units of a supply of 3");
	pm_destroy(inst);
}

static void create_errors(void)
{
	struct pm_instance *inst;
	struct pm_param p[4];

	ASSERT_EQ(pm_create("unifrom", NULL, 0, &inst, &err), -RAAS_ENOMODEL);
	ASSERT_STR_EQ(err.message, "unknown pricing model 'unifrom' (did you mean 'uniform'?)");
	ASSERT_EQ(pm_create("spot_ar1", NULL, 0, &inst, &err), -RAAS_ENOMODEL);
	ASSERT_STR_EQ(err.message, "unknown pricing model 'spot_ar1' (did you mean 'spot-ar1'?)");
	ASSERT_EQ(pm_create("zzzzzzzzzzzz", NULL, 0, &inst, &err), -RAAS_ENOMODEL);
	ASSERT_STR_CONTAINS(err.message, "unknown pricing model 'zzzzzzzzzzzz' (known: fixed, "
					 "uniform, vcg, psp, mpsp, proportional");

	p[0] = (struct pm_param){"reserv", "$1"};
	ASSERT_EQ(pm_create("uniform", p, 1, &inst, &err), -EINVAL);
	ASSERT_STR_EQ(err.message,
		      "model 'uniform': unknown parameter 'reserv' (did you mean 'reserve'?)");
	p[0] = (struct pm_param){"colour", "red"};
	ASSERT_EQ(pm_create("uniform", p, 1, &inst, &err), -EINVAL);
	ASSERT_STR_EQ(err.message, "model 'uniform': unknown parameter 'colour' (parameters: "
				   "reserve, supply_cap)");
	p[0] = (struct pm_param){"reserve", "1e3"};
	ASSERT_EQ(pm_create("uniform", p, 1, &inst, &err), -EINVAL);
	ASSERT_STR_EQ(err.message,
		      "model 'uniform': reserve=1e3: unexpected character after the amount");
	p[0] = (struct pm_param){"reserve", "$1"};
	p[1] = (struct pm_param){"reserve", "$2"};
	ASSERT_EQ(pm_create("uniform", p, 2, &inst, &err), -EINVAL);
	ASSERT_STR_EQ(err.message, "model 'uniform': parameter 'reserve' given twice");
	p[0] = (struct pm_param){"supply_cap", "3.5"};
	ASSERT_EQ(pm_create("uniform", p, 1, &inst, &err), -EINVAL);
	ASSERT_STR_EQ(err.message, "model 'uniform': supply_cap=3.5: expected an integer");
	p[0] = (struct pm_param){"min_interval", "60"};
	ASSERT_EQ(pm_create("spot-ar1", p, 1, &inst, &err), -EINVAL);
	ASSERT_STR_EQ(err.message, "model 'spot-ar1': min_interval=60: expected a duration with "
				   "a unit such as 250ms, 10s or 1h");
	p[0] = (struct pm_param){"a", "fast"};
	ASSERT_EQ(pm_create("spot-ar1", p, 1, &inst, &err), -EINVAL);
	ASSERT_STR_EQ(err.message, "model 'spot-ar1': a=fast: expected a finite number such as 0.7");
	ASSERT_EQ(pm_create("trace", NULL, 0, &inst, &err), -EINVAL);
	ASSERT_STR_EQ(err.message, "model 'trace': parameter 'file' is required (the trace file "
				   "(YYYY-MM-DD HH:MM:SS,price lines))");

	/* Semantic checks by the models. */
	p[0] = (struct pm_param){"reserve", "-$1"};
	ASSERT_EQ(pm_create("vcg", p, 1, &inst, &err), -EINVAL);
	ASSERT_STR_EQ(err.message, "vcg: reserve must not be negative");
	p[0] = (struct pm_param){"floor", "$0.05"};
	p[1] = (struct pm_param){"ceiling", "$0.0505"};
	ASSERT_EQ(pm_create("spot-ar1", p, 2, &inst, &err), -EINVAL);
	ASSERT_STR_CONTAINS(err.message, "spot-ar1: the band [floor, ceiling] must hold at least "
					 "two tick values");
	p[0] = (struct pm_param){"levels", "0:1 0.5:x"};
	ASSERT_EQ(pm_create("utilization", p, 1, &inst, &err), -EINVAL);
	ASSERT_STR_EQ(err.message, "utilization: levels: item 2 '0.5:x': bad multiplier");
	p[0] = (struct pm_param){"levels", "0.1:1"};
	ASSERT_EQ(pm_create("utilization", p, 1, &inst, &err), -EINVAL);
	ASSERT_STR_EQ(err.message, "utilization: levels: the first threshold must be 0 (got 0.1)");
	p[0] = (struct pm_param){"levels", "0:1 0.5:2 0.4:3"};
	ASSERT_EQ(pm_create("utilization", p, 1, &inst, &err), -EINVAL);
	ASSERT_STR_EQ(err.message, "utilization: levels: item 3: threshold 0.4 does not increase");
	p[0] = (struct pm_param){"chunk", "0"};
	ASSERT_EQ(pm_create("mpsp", p, 1, &inst, &err), -EINVAL);
	ASSERT_STR_EQ(err.message, "mpsp: chunk must be at least 1 unit");
	p[0] = (struct pm_param){"file", "/dev/null"};
	p[1] = (struct pm_param){"loop", "sometimes"};
	ASSERT_EQ(pm_create("trace", p, 2, &inst, &err), -EINVAL);
	ASSERT_STR_EQ(err.message, "trace: loop=sometimes: expected true or false");

	/* Every model creates with its defaults (trace needs its file). */
	const struct pm_model *all[16];
	size_t n = pm_models(all, 16);
	for (size_t i = 0; i < n; i++) {
		if (!strcmp(all[i]->name, "trace") || !strcmp(all[i]->name, "broken"))
			continue;
		ASSERT_OK(pm_create(all[i]->name, NULL, 0, &inst, &err));
		ASSERT_TRUE(pm_instance_model(inst) == all[i]);
		pm_destroy(inst);
	}
}

static void params_parse(void)
{
	struct pm_param p[4];
	char *s;

	int n = pm_params_parse(" reserve = $0.05 ,levels=\"0:1, 0.5:2\", file=\"a \\\"b\\\" \\\\c\"",
				p, 4, &s, &err);
	ASSERT_EQ(n, 3);
	ASSERT_STR_EQ(p[0].name, "reserve");
	ASSERT_STR_EQ(p[0].value, "$0.05");
	ASSERT_STR_EQ(p[1].name, "levels");
	ASSERT_STR_EQ(p[1].value, "0:1, 0.5:2");
	ASSERT_STR_EQ(p[2].value, "a \"b\" \\c");
	free(s);
	ASSERT_EQ(pm_params_parse("   ", p, 4, &s, &err), 0);
	free(s);
	ASSERT_EQ(pm_params_parse("levels=0:1 0.5:2", p, 4, &s, &err), 1);
	ASSERT_STR_EQ(p[0].value, "0:1 0.5:2");
	free(s);

	static const struct {
		const char *text, *msg;
	} bad[] = {
		{"reserve", "parameters: column 8: expected '=' after 'reserve'"},
		{"reserve=", "parameters: column 9: empty value for 'reserve'"},
		{"a=1,,b=2", "parameters: column 5: empty parameter"},
		{"a=1,", "parameters: column 5: empty parameter"},
		{"=1", "parameters: column 1: expected a parameter name (letters, digits, _) at '=1'"},
		{"a=\"x", "parameters: column 3: unterminated quote"},
		{"a=\"x\" y", "parameters: column 7: expected ',' after the quoted value, got 'y'"},
		{"a=x\"y\"", "parameters: column 4: a quote inside an unquoted value"},
		{"a=\"\\n\"", "parameters: column 4: only \\\" and \\\\ may be escaped inside quotes"},
		{"a=1,b=2,c=3,d=4,e=5", "parameters: column 17: too many parameters at 'e'"},
		{"a=1\x01", "parameters: column 4: control character in a value"},
	};
	for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		s = (char *)1;
		ASSERT_EQ(pm_params_parse(bad[k].text, p, 4, &s, &err), -RAAS_EPARSE);
		ASSERT_STR_EQ(err.message, bad[k].msg);
		ASSERT_TRUE(s == NULL);
	}
}

/* Each bad field is refused naming the bid and the field. */
static void input_checks(void)
{
	struct pm_instance *inst = pmt_create("uniform", "");
	struct pm_outcome out[3];
	struct pm_result res = {.outcomes = out};
	struct pm_pool pool = {.supply = 10};
	struct pm_segment inc[] = {{2, 5 * CENT}, {2, 5 * CENT}};
	struct pm_segment zero_q[] = {{0, 5 * CENT}};
	struct pm_segment neg[] = {{1, -1}};
	struct pm_segment huge[] = {{INT64_MAX / 2, 4}};
	struct pm_range unsorted[] = {{4, 6}, {1, 2}};
	struct pm_range overlap[] = {{1, 3}, {3, 5}};
	struct pm_range wide[] = {{1, 30}};
	struct pm_range inverted[] = {{3, 1}};

	struct {
		struct pm_bid b;
		const char *msg;
		int rc;
	} cases[] = {
		{{.bidder = 4, .min_quantity = -1, .max_quantity = 2},
		 "bid 1 (bidder 4): min_quantity -1 is negative", -EINVAL},
		{{.bidder = 4, .max_quantity = -2}, "bid 1 (bidder 4): max_quantity -2 is negative",
		 -EINVAL},
		{{.bidder = 4, .min_quantity = 3, .max_quantity = 2},
		 "bid 1 (bidder 4): max_quantity 2 is below min_quantity 3", -EINVAL},
		{{.bidder = 4, .max_quantity = 2, .unit_price = -5 * CENT},
		 "bid 1 (bidder 4): unit_price -$0.05 is negative", -EINVAL},
		{{.bidder = 4, .max_quantity = 2, .held = -1}, "bid 1 (bidder 4): held -1 is negative",
		 -EINVAL},
		{{.bidder = 4, .max_quantity = 4, .curve = inc, .ncurve = 2},
		 "bid 1 (bidder 4): curve segment 1: marginal value $0.05 does not decrease "
		 "(segment 0: $0.05)",
		 -EINVAL},
		{{.bidder = 4, .max_quantity = 4, .curve = zero_q, .ncurve = 1},
		 "bid 1 (bidder 4): curve segment 0: quantity 0 is not positive", -EINVAL},
		{{.bidder = 4, .max_quantity = 4, .true_curve = neg, .ntrue = 1},
		 "bid 1 (bidder 4): true_curve segment 0: marginal value -$0.000000001 is negative",
		 -EINVAL},
		{{.bidder = 4, .max_quantity = 4, .curve = NULL, .ncurve = 3},
		 "bid 1 (bidder 4): curve is NULL with 3 segments", -EINVAL},
		{{.bidder = 4, .max_quantity = 4, .curve = huge, .ncurve = 1},
		 "bid 1 (bidder 4): curve overflows (total value past int64 at segment 0)",
		 -RAAS_EOVERFLOW},
		{{.bidder = 4, .max_quantity = INT64_MAX / 2, .unit_price = 4},
		 "bid 1 (bidder 4): declared value unit_price x max_quantity overflows",
		 -RAAS_EOVERFLOW},
		{{.bidder = 4, .max_quantity = 6, .ranges = unsorted, .nranges = 2},
		 "bid 1 (bidder 4): ranges 0 and 1 are unsorted or overlap ([4, 6] then [1, 2])",
		 -EINVAL},
		{{.bidder = 4, .max_quantity = 6, .ranges = overlap, .nranges = 2},
		 "bid 1 (bidder 4): ranges 0 and 1 are unsorted or overlap ([1, 3] then [3, 5])",
		 -EINVAL},
		{{.bidder = 4, .max_quantity = 6, .ranges = wide, .nranges = 1},
		 "bid 1 (bidder 4): range 0 [1, 30] exceeds max_quantity 6", -EINVAL},
		{{.bidder = 4, .max_quantity = 6, .ranges = inverted, .nranges = 1},
		 "bid 1 (bidder 4): range 0 [3, 1] is not a range (need 0 <= min <= max)", -EINVAL},
		{{.bidder = 4, .max_quantity = 6, .ranges = NULL, .nranges = 1},
		 "bid 1 (bidder 4): ranges is NULL with 1 ranges", -EINVAL},
		{{.bidder = 9, .max_quantity = 1}, "bids 1 and 2: duplicate bidder 9", -EINVAL},
	};
	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		struct pm_bid b[3] = {pmt_flat(1, 2, CENT), cases[k].b, pmt_flat(9, 1, CENT)};
		ASSERT_EQ(pm_clear(inst, &pool, b, 3, &res, &err), cases[k].rc);
		ASSERT_STR_EQ(err.message, cases[k].msg);
	}
	/* Values that each fit but sum past int64. */
	struct pm_bid big[3] = {pmt_flat(1, 1, INT64_MAX / 2), pmt_flat(2, 1, INT64_MAX / 2),
				pmt_flat(3, 1, INT64_MAX / 2)};
	ASSERT_EQ(pm_clear(inst, &pool, big, 3, &res, &err), -RAAS_EOVERFLOW);
	ASSERT_STR_EQ(err.message, "bid 2: the bids' declared values sum past int64 (nanodollars "
				   "per hour)");
	pool.supply = -1;
	ASSERT_EQ(pm_clear(inst, &pool, big, 0, &res, &err), -EINVAL);
	ASSERT_STR_EQ(err.message, "pool: supply -1 is negative");
	pool.supply = 1;
	ASSERT_EQ(pm_clear(inst, &pool, NULL, 2, &res, &err), -EINVAL);
	ASSERT_STR_EQ(err.message, "pm_clear: NULL bids");
	ASSERT_EQ(pm_clear(NULL, &pool, big, 1, &res, &err), -EINVAL);
	ASSERT_STR_EQ(err.message, "pm_clear: not an instance from pm_create");
	/* A good clearing still works after the refusals and reports its time. */
	struct pm_bid good[2] = {pmt_flat(1, 2, CENT), pmt_flat(2, 2, 2 * CENT)};
	ASSERT_OK(pm_clear(inst, &pool, good, 2, &res, &err));
	ASSERT_EQ(out[1].quantity, 1);
	ASSERT_GE(res.clear_ns, 0);
	ASSERT_OK(pm_check(inst, &err));
	pm_destroy(inst);
	pm_destroy(NULL);
}

int main(void)
{
	registry();
	create_errors();
	params_parse();
	input_checks();
	output_checks();
	printf("api: registry, wrappers and parameter errors pass\n");
	return 0;
}
