/* test_sim_scenario.c: scenario loading: the good paths, and every error path with its message.
 *
 * Each bad scenario below is one mistake a researcher could make; the test checks the return
 * code and that the message names the file, the line and the key (or the override), and says
 * what is wrong. Files live in a scratch folder under /tmp, removed at the end. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/error.h"
#include "scenario.h"
#include "sim_testutil.h"

static char dir[256];

static void write_file(const char *name, const char *text)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	ASSERT_TRUE(f != NULL);
	fputs(text, f);
	fclose(f);
}

static const char *profile =
	"app,load,delay_us,throughput_rps,latency_us,jitter_us,bytes_per_request\n"
	"t,many,0,1000,50,5,1000\n"
	"t,many,10,2000,60,6,1000\n"
	"t,single,0,500,40,4,1000\n"
	"t,single,10,400,50,5,1000\n"
	"t,few,10,400,50,5,1000\n"
	"t-linux,many,0,800,90,45,1000\n"
	"t-linux,single,0,400,50,25,1000\n";

#define BASE \
	"[sim]\nduration = 10s\nround = 1s\n" \
	"[hosts]\ncount = 2\nbandwidth = 100\ncores = 4\n" \
	"[resource.egress]\nmodel = schedule\nschedule = 0s $1, 5s $2\n" \
	"[resource.bandwidth]\nmodel = uniform\n" \
	"[resource.cores]\nmodel = fixed\nparams = price=$0.05\n"
/* BASE has 15 lines; a class section starts at line 16. */
#define NOM "[class.a]\napp = t\nprofile = p.csv\n"

static char msg[2048];

static int load(const char *text, const char *const *ov, size_t nov, struct sim_scenario **s,
		struct cfg_error *err)
{
	char path[512];

	write_file("s.ini", text);
	snprintf(path, sizeof(path), "%s/s.ini", dir);
	return sim_scenario_load(path, NULL, ov, nov, s, err);
}

static void expect_ov(const char *text, const char *const *ov, size_t nov, int code,
		      const char *place, const char *words)
{
	struct sim_scenario *s = NULL;
	struct cfg_error err;

	int rc = load(text, ov, nov, &s, &err);
	cfg_error_format(&err, msg, sizeof(msg));
	if (rc != code)
		TEST_FAIL("expected %d, got %d (%s) for:\n%s", code, rc, msg, text);
	ASSERT_TRUE(s == NULL);
	ASSERT_STR_CONTAINS(msg, place);
	ASSERT_STR_CONTAINS(msg, words);
}

static void expect(const char *text, int code, const char *place, const char *words)
{
	expect_ov(text, NULL, 0, code, place, words);
}

static void test_good(void)
{
	struct sim_scenario *s;
	struct cfg_error err;
	const char *ov[] = {"class.b.count=7", "sim.seed=99"};

	write_file("p.csv", profile);
	write_file("load.csv", "# t, level, scale\n0,many\n2.5,single,0.5\n");
	int rc = load(BASE "[template.tm]\napp = t\nprofile = p.csv\nutility = refund\nbeta = 3\n"
			   "[class.a]\ntemplate = tm\nstrategy = static-tpt\nload = phases\n"
			   "phases = many:3s, single:2s:0.5\nphases_repeat = true\n"
			   "[class.b]\ntemplate = tm\nutility = bonus\ndelta = 0.5\nload = trace\n"
			   "load_trace = load.csv\nresource = bandwidth\n"
			   "[class.c]\nkind = flat\nresource = cores\nquantity = 2\n"
			   "value = normal:$0.05:$0.01\n"
			   "[class.d]\napp = t-linux\nprofile = p.csv\nstrategy = unaware\n"
			   "[variant.v1]\nbandwidth = vcg: reserve=$0.01\n"
			   "[variant.v2]\nset = hosts.count=3; class.c.count=5\n",
		     ov, 2, &s, &err);
	if (rc)
		TEST_FAIL("%s", cfg_error_format(&err, msg, sizeof(msg)));
	ASSERT_EQ(s->duration_ns, 10 * INT64_C(1000000000));
	ASSERT_EQ(s->seed, 99);
	ASSERT_EQ(s->hosts, 2);
	ASSERT_EQ(s->nclasses, 4);
	ASSERT_EQ(s->nvariants, 2);
	ASSERT_STR_EQ(s->variants[1], "v2");
	ASSERT_EQ(s->res[raas_resource_index(RAAS_RES_EGRESS)].pricing, SIM_PRICING_SCHEDULE);
	ASSERT_EQ(s->res[raas_resource_index(RAAS_RES_EGRESS)].schedule.n, 2);
	ASSERT_EQ(s->res[raas_resource_index(RAAS_RES_EGRESS)].schedule.price[1], 2 * MONEY_PER_DOLLAR);
	ASSERT_EQ(s->res[raas_resource_index(RAAS_RES_BANDWIDTH)].pricing, SIM_PRICING_MODEL);
	ASSERT_STR_EQ(s->res[raas_resource_index(RAAS_RES_BANDWIDTH)].model, "uniform");
	ASSERT_EQ(s->res[raas_resource_index(RAAS_RES_BANDWIDTH)].capacity, 100);
	const struct sim_class_cfg *a = &s->classes[0], *b = &s->classes[1], *c = &s->classes[2];
	/* Template inheritance and the class's own keys. */
	ASSERT_EQ(a->utility.kind, ECON_REFUND);
	ASSERT_NEAR(a->utility.beta_per_ms, 3, 0);
	ASSERT_EQ(a->strategy, SIM_STATIC_TPT);
	ASSERT_NEAR(a->delay_us, 10, 0); /* best throughput at "many" */
	ASSERT_EQ(a->resource, RAAS_RES_EGRESS);
	ASSERT_EQ(a->load.kind, SIM_LOAD_PHASES);
	ASSERT_EQ(a->load.nsteps, 2);
	ASSERT_TRUE(a->load.repeat);
	int level;
	double scale;
	sim_load_at(&a->load, INT64_C(4000000000), &level, &scale);
	ASSERT_STR_EQ(a->app->levels[level].name, "single");
	ASSERT_NEAR(scale, 0.5, 0);
	sim_load_at(&a->load, INT64_C(5500000000), &level, &scale); /* repeats after 5 s */
	ASSERT_STR_EQ(a->app->levels[level].name, "many");
	ASSERT_EQ(sim_load_next(&a->load, INT64_C(5500000000)), INT64_C(8000000000));
	ASSERT_EQ(b->count, 7);
	ASSERT_EQ(b->utility.kind, ECON_BONUS);
	ASSERT_NEAR(b->utility.delta, 0.5, 0);
	ASSERT_EQ(b->load.kind, SIM_LOAD_TRACE);
	ASSERT_EQ(b->load.nsteps, 2);
	ASSERT_EQ(b->resource, RAAS_RES_BANDWIDTH);
	ASSERT_EQ(c->kind, SIM_KIND_FLAT);
	ASSERT_EQ(c->min_quantity, 2);
	ASSERT_EQ(c->value.kind, SIM_DIST_NORMAL);
	ASSERT_EQ(c->value.b, MONEY_PER_DOLLAR / 100);
	ASSERT_EQ(s->classes[3].strategy, SIM_UNAWARE);
	ASSERT_TRUE(strstr(s->config, "seed = 99") != NULL);
	ASSERT_TRUE(strstr(s->text, "[variant.v2]") != NULL);
	sim_scenario_destroy(s);

	/* A variant applies its keys; the command line still wins. */
	char path[512];
	snprintf(path, sizeof(path), "%s/s.ini", dir);
	ASSERT_OK(sim_scenario_load(path, "v1", ov, 2, &s, &err));
	ASSERT_STR_EQ(s->res[raas_resource_index(RAAS_RES_BANDWIDTH)].model, "vcg");
	ASSERT_STR_EQ(s->res[raas_resource_index(RAAS_RES_BANDWIDTH)].params, "reserve=$0.01");
	ASSERT_STR_EQ(s->variant, "v1");
	sim_scenario_destroy(s);
	ASSERT_OK(sim_scenario_load(path, "v2", ov, 2, &s, &err));
	ASSERT_EQ(s->hosts, 3);
	ASSERT_EQ(s->classes[2].count, 5);
	sim_scenario_destroy(s);
	ASSERT_EQ(sim_scenario_load(path, "v3", NULL, 0, &s, &err), -RAAS_ECONFIG);
	ASSERT_STR_CONTAINS(cfg_error_format(&err, msg, sizeof(msg)), "variant.v3: no such variant");
}

static void test_sections_and_types(void)
{
	expect(BASE "[sims]\n" NOM, -RAAS_ECONFIG, "s.ini:16: [sims]: ",
	       "unknown section (did you mean [sim]?)");
	expect(BASE NOM "cont = 5\n", -RAAS_ECONFIG, "s.ini:19: class.a.cont: ",
	       "unknown key (did you mean 'count'?)");
	expect("[sim]\nduration = 10\n" NOM, -RAAS_ECONFIG, "s.ini:2: sim.duration: ",
	       "'10' is not a duration");
	expect("[sim]\nround = 100ns\n" NOM, -RAAS_ECONFIG, "s.ini:2: sim.round: ",
	       "at least 1us");
	expect("[sim]\nduration = 1s\nround = 2s\n" NOM, -RAAS_ECONFIG, "s.ini:2: sim.duration: ",
	       "at least one round");
	expect("[sim]\nseed = -4\n" NOM, -RAAS_ECONFIG, "s.ini:2: sim.seed: ", "must be >= 0");
	expect("[sim]\nthreads = 999\n" NOM, -RAAS_ECONFIG, "s.ini:2: sim.threads: ", "0 to 256");
	expect("[hosts]\ncount = 0\n" NOM, -RAAS_ECONFIG, "s.ini:2: hosts.count: ",
	       "1 to 10,000,000");
	expect("[hosts]\nplacement = best\n" NOM, -RAAS_ECONFIG, "s.ini:2: hosts.placement: ",
	       "not round-robin or random");
	expect("[hosts]\ncores = -1\n" NOM, -RAAS_ECONFIG, "s.ini:2: hosts.cores: ", "0 to 2^40");
	expect("[sim]\nduration = 1h\n" NOM "[output]\npool_prices = some\n", -RAAS_ECONFIG,
	       "s.ini:7: output.pool_prices: ", "not auto, all or none");
	expect(NOM "[output]\nrecord_bids = -3\n", -RAAS_ECONFIG, "s.ini:5: output.record_bids: ",
	       "-1, 0 or more");
	expect(NOM "[report]\nreference = vee\n", -RAAS_ECONFIG, "s.ini:5: report.reference: ",
	       "not none or nom-thesis");
	expect(BASE, -RAAS_ECONFIG, "s.ini: ", "no [class.NAME] section");
	const char *bad_set[] = {"sim.duration"};
	expect_ov(BASE NOM, bad_set, 1, -RAAS_ECONFIG, "--set: ", "is not section.key=value");
	const char *bad_val[] = {"sim.round=fast"};
	expect_ov(BASE NOM, bad_val, 1, -RAAS_ECONFIG, "--set: sim.round: ",
		  "'fast' is not a duration");
}

static void test_resources(void)
{
	expect("[hosts]\ncores = 1\n[resource.gpu]\nmodel = fixed\n" NOM, -RAAS_ECONFIG,
	       "s.ini:4: resource.gpu.model: ", "unknown resource 'gpu'");
	expect("[hosts]\ncores = 1\n[resource.cores]\nmodel = fixed\nscope = rack\n" NOM,
	       -RAAS_ECONFIG, "s.ini:5: resource.cores.scope: ", "not host or global");
	expect("[resource.egress]\nmodel = schedule\n" NOM, -RAAS_ECONFIG,
	       "s.ini:2: resource.egress.model: ", "needs a 'schedule' key");
	expect("[hosts]\ncores = 1\n[resource.cores]\nmodel = schedule\nschedule = 0s $1\n" NOM,
	       -RAAS_ECONFIG, "s.ini:4: resource.cores.model: ", "metered egress only");
	expect("[resource.egress]\nmodel = schedule\nschedule = 5s $1\n" NOM, -RAAS_ECONFIG,
	       "s.ini:3: resource.egress.schedule: ", "entry 1: the first entry must be at 0s");
	expect("[resource.egress]\nmodel = schedule\nschedule = 0s $1, 9s $2, 8s $3\n" NOM,
	       -RAAS_ECONFIG, "s.ini:3: resource.egress.schedule: ", "entry 3: times must increase");
	expect("[resource.egress]\nmodel = schedule\nschedule = 0s one\n" NOM, -RAAS_ECONFIG,
	       "s.ini:3: resource.egress.schedule: ", "entry 1: the price is not a dollar amount");
	expect("[resource.egress]\nmodel = schedule\nschedule = 0s\n" NOM, -RAAS_ECONFIG,
	       "s.ini:3: resource.egress.schedule: ", "expected 'TIME PRICE'");
	expect("[resource.egress]\nmodel = fixed\nschedule = 0s $1\n" NOM, -RAAS_ECONFIG,
	       "s.ini:3: resource.egress.schedule: ", "only read with model = schedule");
	expect("[hosts]\ncores = 1\n[resource.cores]\nmodel = vgc\n" NOM, -RAAS_ECONFIG,
	       "s.ini:4: resource.cores.model: ", "unknown pricing model 'vgc' (did you mean 'vcg'?)");
	expect("[hosts]\ncores = 1\n[resource.cores]\nmodel = vcg\nparams = reserv=$1\n" NOM,
	       -RAAS_ECONFIG, "s.ini:5: resource.cores.params: ",
	       "unknown parameter 'reserv' (did you mean 'reserve'?)");
	expect("[hosts]\ncores = 1\n[resource.cores]\nmodel = vcg\nparams = reserve=lots\n" NOM,
	       -RAAS_ECONFIG, "s.ini:5: resource.cores.params: ", "reserve=lots");
	expect("[resource.egress]\nmodel = vcg\n" NOM, -RAAS_ECONFIG,
	       "s.ini:2: resource.egress.model: ", "model 'vcg' has no posted price");
	expect("[resource.cores]\nmodel = vcg\n" NOM, -RAAS_ECONFIG,
	       "s.ini:2: resource.cores.model: ", "hosts.cores is 0");
	expect("[sim]\ndata_dir = /nonexistent-sim-data\n[resource.egress]\nmodel = trace\n"
	       "params = file=${data}/x.csv\n" NOM,
	       -ENOENT, "s.ini:5: resource.egress.params: ",
	       "shared data folder was not found (looked in: /nonexistent-sim-data)");
}

static void test_classes(void)
{
	expect(BASE "[class.a.b]\napp = t\n", -RAAS_ECONFIG, "class.a.b.kind: ",
	       "class names are 1-63 letters");
	expect(BASE NOM "template = x\n", -RAAS_ECONFIG, "s.ini:19: class.a.template: ",
	       "no [template.x] section");
	expect(BASE "[template.x]\ntemplate = y\n" NOM "template = x\n", -RAAS_ECONFIG,
	       "s.ini:17: template.x.template: ", "templates do not nest");
	expect(BASE NOM "kind = big\n", -RAAS_ECONFIG, "s.ini:19: class.a.kind: ",
	       "'big' is not nom or flat");
	expect(BASE NOM "count = -1\n", -RAAS_ECONFIG, "s.ini:19: class.a.count: ",
	       "0 to 100,000,000");
	expect(BASE NOM "count = 0\n", -RAAS_ECONFIG, "s.ini:19: class.a.count: ",
	       "no tenants: count is 0 and there are no arrivals");
	expect(BASE NOM "lifetime = forever\n", -RAAS_ECONFIG, "s.ini:19: class.a.lifetime: ",
	       "not none, exp or fixed");
	expect(BASE NOM "lifetime = exp\nlifetime_mean = 0s\n", -RAAS_ECONFIG,
	       "s.ini:20: class.a.lifetime_mean: ", "must be > 0");
	expect(BASE "[class.a]\nkind = flat\n", -RAAS_ECONFIG, "class.a.resource: ",
	       "flat tenants need a resource");
	expect(BASE NOM "resource = disk\n", -RAAS_ECONFIG, "s.ini:19: class.a.resource: ",
	       "'disk' is not cores, memory");
	expect("[hosts]\ncores = 4\n[resource.cores]\nmodel = fixed\n" NOM "resource = llc\n",
	       -RAAS_ECONFIG, "class.a.resource: ", "llc is not priced");
	expect(BASE "[class.a]\napp = t\nprofile = missing.csv\n", -RAAS_ECONFIG,
	       "s.ini:18: class.a.profile: ", "missing.csv: No such file");
	write_file("bad.csv", "app,load,delay_us,throughput_rps,latency_us,jitter_us,"
			      "bytes_per_request\nt,many,0,100,-5,1,100\n");
	expect(BASE "[class.a]\napp = t\nprofile = bad.csv\n", -RAAS_ECONFIG,
	       "s.ini:18: class.a.profile: ", "bad.csv:2: latency_us: -5 is not > 0");
	expect(BASE "[class.a]\napp = u\nprofile = p.csv\n", -RAAS_ECONFIG,
	       "s.ini:17: class.a.app: ", "no app 'u' in");
	expect(BASE "[class.a]\napp = u\nprofile = p.csv\n", -RAAS_ECONFIG, "", "(apps: t, t-linux)");
	expect(BASE NOM "resource = cores\n", -RAAS_ECONFIG, "s.ini:19: class.a.resource: ",
	       "a nom app buys egress or bandwidth, not cores");
	expect(BASE NOM "utility = profit\n", -RAAS_ECONFIG, "s.ini:19: class.a.utility: ",
	       "not penalty, refund or bonus");
	expect(BASE NOM "delta = lots\n", -RAAS_ECONFIG, "s.ini:19: class.a.delta: ",
	       "not a number >= 0 or inf");
	expect(BASE NOM "alpha = -20\n", -RAAS_ECONFIG, "s.ini:19: class.a.alpha: ", "must be >= 0");
	expect(BASE NOM "l0 = 0us\n", -RAAS_ECONFIG, "s.ini:19: class.a.l0: ", "must be > 0");
	expect(BASE NOM "load = bursty\n", -RAAS_ECONFIG, "s.ini:19: class.a.load: ",
	       "not constant, phases, diurnal or trace");
	expect(BASE NOM "level = huge\n", -RAAS_ECONFIG, "s.ini:19: class.a.level: ",
	       "level 'huge' is not in the profile of app t (levels: many, single, few)");
	expect(BASE NOM "load = phases\n", -RAAS_ECONFIG, "s.ini:19: class.a.load: ",
	       "needs a 'phases' key");
	expect(BASE NOM "load = phases\nphases = many:1s, lots:1s\n", -RAAS_ECONFIG,
	       "s.ini:20: class.a.phases: ", "level 'lots' is not in the profile");
	expect(BASE NOM "load = phases\nphases = many:1s, single\n", -RAAS_ECONFIG,
	       "s.ini:20: class.a.phases: ", "phase 2: expected LEVEL:DURATION[:SCALE]");
	expect(BASE NOM "load = phases\nphases = many:0s\n", -RAAS_ECONFIG,
	       "s.ini:20: class.a.phases: ", "phase 1: '0s' is not a duration > 0");
	expect(BASE NOM "load = phases\nphases = many:1s:2\n", -RAAS_ECONFIG,
	       "s.ini:20: class.a.phases: ", "phase 1: scale '2' is not in (0, 1]");
	expect(BASE NOM "load = diurnal\ndiurnal_min = 0\n", -RAAS_ECONFIG,
	       "s.ini:20: class.a.diurnal_min: ", "must be in (0, 1]");
	expect(BASE NOM "load = diurnal\ndiurnal_period = 0s\n", -RAAS_ECONFIG,
	       "s.ini:20: class.a.diurnal_period: ", "must be > 0");
	expect(BASE NOM "load = trace\n", -RAAS_ECONFIG, "s.ini:19: class.a.load: ",
	       "needs a 'load_trace' key");
	expect(BASE NOM "load = trace\nload_trace = nope.csv\n", -RAAS_ECONFIG,
	       "s.ini:20: class.a.load_trace: ", "nope.csv: No such file");
	write_file("bad-load.csv", "0,many\n5,single,1.5\n");
	expect(BASE NOM "load = trace\nload_trace = bad-load.csv\n", -RAAS_ECONFIG,
	       "s.ini:20: class.a.load_trace: ", "bad-load.csv:2: scale '1.5' is not a number");
	write_file("bad-level.csv", "0,many\n5,crowd\n");
	expect(BASE NOM "load = trace\nload_trace = bad-level.csv\n", -RAAS_ECONFIG,
	       "s.ini:20: class.a.load_trace: ", "bad-level.csv:2: level 'crowd' is not in");
	expect(BASE NOM "strategy = greedy\n", -RAAS_ECONFIG, "s.ini:19: class.a.strategy: ",
	       "not adaptive, static-tpt, static-lat or unaware");
	expect(BASE NOM "strategy = static-lat\nload = phases\nphases = single:1s, few:1s\n",
	       -RAAS_ECONFIG, "s.ini:19: class.a.strategy: ",
	       "the best-latency delay, 0 us, has no row at level 'few' of app t");
	expect(BASE NOM "strategy = unaware\ndelay = 5us\n", -RAAS_ECONFIG,
	       "s.ini:19: class.a.strategy: ", "the given delay, 5 us, has no row at level 'many'");
	expect(BASE NOM "static_level = none\n", -RAAS_ECONFIG, "s.ini:19: class.a.static_level: ",
	       "level 'none' is not in the profile");
	expect(BASE "[class.a]\nkind = flat\nresource = egress\n", -RAAS_ECONFIG,
	       "s.ini:18: class.a.resource: ", "egress is metered");
	expect(BASE "[class.a]\nkind = flat\nresource = cores\nquantity = 0\n", -RAAS_ECONFIG,
	       "s.ini:19: class.a.quantity: ", "must be 1 to 2^40");
	expect(BASE "[class.a]\nkind = flat\nresource = cores\nquantity = 2\nmin_quantity = 3\n",
	       -RAAS_ECONFIG, "s.ini:20: class.a.min_quantity: ", "must be -1 or 0 to quantity (2)");
	expect(BASE "[class.a]\nkind = flat\nresource = cores\nvalue = cheap\n", -RAAS_ECONFIG,
	       "s.ini:19: class.a.value: ", "'cheap' is not $V, uniform:$A:$B");
	expect(BASE "[class.a]\nkind = flat\nresource = cores\nvalue = uniform:$2:$1\n",
	       -RAAS_ECONFIG, "s.ini:19: class.a.value: ", "needs A < B");
	expect(BASE "[class.a]\nkind = flat\nresource = cores\nvalue = pareto:$1:-2\n",
	       -RAAS_ECONFIG, "s.ini:19: class.a.value: ", "pareto:$MIN:SHAPE");
}

static void test_variants(void)
{
	struct sim_scenario *s;
	struct cfg_error err;
	char path[512];

	snprintf(path, sizeof(path), "%s/s.ini", dir);
	write_file("s.ini", BASE NOM "[variant.v]\nset = sim.duraton=5s\n");
	ASSERT_EQ(sim_scenario_load(path, "v", NULL, 0, &s, &err), -RAAS_ECONFIG);
	cfg_error_format(&err, msg, sizeof(msg));
	ASSERT_STR_CONTAINS(msg, "s.ini:20: variant.v.set: 'sim.duraton=5s': ");
	ASSERT_STR_CONTAINS(msg, "unknown key (did you mean 'duration'?)");
	write_file("s.ini", BASE NOM "[variant.v]\ncores = fixed: price=dear\n");
	struct sim_scenario *base;
	ASSERT_OK(sim_scenario_load(path, NULL, NULL, 0, &base, &err)); /* the base is fine */
	sim_scenario_destroy(base);
	ASSERT_EQ(sim_scenario_load(path, "v", NULL, 0, &s, &err), -RAAS_ECONFIG);
	ASSERT_STR_CONTAINS(cfg_error_format(&err, msg, sizeof(msg)),
			    "s.ini:20: variant.v.cores: resource.cores.params: model 'fixed': price=dear");
	write_file("s.ini", BASE NOM "[variant.v]\ncores =    \nset = hosts.count=zero\n");
	ASSERT_EQ(sim_scenario_load(path, "v", NULL, 0, &s, &err), -RAAS_ECONFIG);
	ASSERT_STR_CONTAINS(cfg_error_format(&err, msg, sizeof(msg)),
			    "variant.v.set: 'hosts.count=zero': --set: hosts.count: 'zero' is not "
			    "an integer");
}

int main(void)
{
	st_scratch(dir, sizeof(dir), "scenario");
	test_good();
	test_sections_and_types();
	test_resources();
	test_classes();
	test_variants();
	st_remove(dir);
	printf("test_sim_scenario: ok\n");
	return 0;
}
