/* test_agent.c: the agent core against the fake backend: reconciliation, shrink-before-grow
 * apply order, rollback when a backend fails mid-apply, acks, registration, meters. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/error.h"
#include "common/log.h"
#include "hostagent/agent.h"
#include "fake.h"
#include "agent_util.h"

#define BW RAAS__RESOURCE__RESOURCE_BANDWIDTH
#define CORES RAAS__RESOURCE__RESOURCE_CORES
#define MEM RAAS__RESOURCE__RESOURCE_MEMORY
#define LLC RAAS__RESOURCE__RESOURCE_LLC

static const char *base_config =
	"[agent]\nhost = h1\n"
	"[capacity]\ncores = 4\nmemory_mib = 1024\nbandwidth_mbit = 300\nllc_ways = 8\n"
	"[backends]\ncores = fake\nmemory = fake\nbandwidth = fake\nllc = fake\n"
	"[tenant.a]\ncgroup = a\n[tenant.b]\ncgroup = b\n[tenant.c]\ncgroup = c\n";

static struct clk clock_;

static struct ha_config *config(const char *extra)
{
	struct ha_config *c;
	struct cfg_error err;
	char text[4096], buf[1024];
	snprintf(text, sizeof(text), "%s%s", base_config, extra ? extra : "");
	if (ha_config_load_string("test.ini", text, &c, &err))
		TEST_FAIL("config: %s", cfg_error_format(&err, buf, sizeof(buf)));
	return c;
}

static struct ha_agent *agent(struct ha_config *c)
{
	struct ha_agent *a;
	char why[256];
	if (ha_agent_create(c, &clock_, &a, why, sizeof(why)))
		TEST_FAIL("agent: %s", why);
	return a;
}

static struct enf_instance *fake(struct ha_agent *a)
{
	return enf_instance(ha_agent_backend(a, ENF_BANDWIDTH));
}

static void check(struct ha_agent *a)
{
	char why[256];
	if (ha_agent_check(a, why, sizeof(why)))
		TEST_FAIL("ha_agent_check: %s", why);
}

/* Sends a set and returns the decoded ack (free with wire_free). */
static Raas__Envelope *send_set(struct ha_agent *a, uint64_t round, const char *host,
				const struct alloc *al, size_t n)
{
	uint8_t *buf, *reply;
	size_t len, reply_len;
	enum ha_msg_kind kind;
	set_bytes(round, host, al, n, &buf, &len);
	ASSERT_OK(ha_agent_receive(a, buf, len, 42, &kind, NULL, &reply, &reply_len));
	free(buf);
	ASSERT_EQ(kind, HA_MSG_ALLOCATION_SET);
	ASSERT_TRUE(reply != NULL);
	Raas__Envelope *e = decode(reply, reply_len);
	free(reply);
	ASSERT_EQ(e->body_case, RAAS__ENVELOPE__BODY_ALLOCATION_ACK);
	ASSERT_EQ(e->request_id, 42);
	ASSERT_EQ(e->allocation_ack->round, round);
	check(a);
	return e;
}

static int64_t enforced(struct ha_agent *a, const char *tenant, enum enf_resource r)
{
	struct enf_setting s;
	if (enf_fake_state(fake(a), r, tenant, &s))
		return -1;
	return s.quantity;
}

static void test_apply_and_order(void)
{
	struct ha_config *c = config(NULL);
	struct ha_agent *a = agent(c);
	struct alloc first[] = {{"a", BW, 100}, {"b", BW, 200}, {"a", CORES, 2}, {"b", CORES, 1},
				{"a", MEM, 512}, {"c", LLC, 3}};
	Raas__Envelope *e = send_set(a, 1, "h1", first, 6);
	ASSERT_EQ(e->allocation_ack->complete, true);
	ASSERT_EQ(e->allocation_ack->n_failures, 0);
	wire_free(e);
	ASSERT_EQ(enforced(a, "a", ENF_BANDWIDTH), 100);
	ASSERT_EQ(enforced(a, "b", ENF_BANDWIDTH), 200);
	ASSERT_EQ(enforced(a, "c", ENF_BANDWIDTH), 0); /* absent: holds nothing */
	ASSERT_EQ(enforced(a, "a", ENF_CORES), 2);
	ASSERT_EQ(enforced(a, "c", ENF_LLC), 3);
	ASSERT_EQ(ha_agent_last_round(a), 1);

	/* a grows 100 -> 250, b shrinks 200 -> 50: b's apply must come first. */
	enf_fake_clear_calls(fake(a));
	struct alloc second[] = {{"a", BW, 250}, {"b", BW, 50}, {"a", CORES, 2}, {"b", CORES, 1},
				 {"a", MEM, 512}, {"c", LLC, 3}};
	e = send_set(a, 2, "h1", second, 6);
	ASSERT_EQ(e->allocation_ack->complete, true);
	wire_free(e);
	size_t n;
	const struct enf_fake_call *calls = enf_fake_calls(fake(a), &n);
	ASSERT_EQ(n, 2); /* only what changed */
	ASSERT_STR_EQ(calls[0].tenant, "b");
	ASSERT_EQ(calls[0].setting.quantity, 50);
	ASSERT_STR_EQ(calls[1].tenant, "a");
	ASSERT_EQ(calls[1].setting.quantity, 250);

	/* The same set again changes nothing. */
	enf_fake_clear_calls(fake(a));
	e = send_set(a, 3, "h1", second, 6);
	wire_free(e);
	calls = enf_fake_calls(fake(a), &n);
	ASSERT_EQ(n, 0);
	ha_agent_destroy(a);
	ha_config_destroy(c);
}

static void test_fail_mid_apply(void)
{
	struct ha_config *c = config(NULL);
	struct ha_agent *a = agent(c);
	struct alloc first[] = {{"a", BW, 100}, {"b", BW, 100}, {"c", BW, 100}, {"a", MEM, 100}};
	wire_free(send_set(a, 1, "h1", first, 4));

	/* Round 2: a shrinks, b and c grow; the third bandwidth apply (c's; the fourth apply:
	 * memory comes first) fails with EIO. Bandwidth rolls back to round 1 in reverse
	 * order; memory (independent) stays applied. */
	enf_fake_clear_calls(fake(a));
	enf_fake_fail_nth(fake(a), ENF_FAKE_APPLY, 4, EIO);
	struct alloc second[] = {{"a", BW, 20}, {"b", BW, 130}, {"c", BW, 150}, {"a", MEM, 300}};
	Raas__Envelope *e = send_set(a, 2, "h1", second, 4);
	Raas__AllocationAck *ack = e->allocation_ack;
	ASSERT_EQ(ack->complete, false);
	ASSERT_EQ(ack->n_failures, 1);
	ASSERT_STR_EQ(ack->failures[0]->tenant, "c");
	ASSERT_EQ(ack->failures[0]->resource, BW);
	ASSERT_EQ(ack->failures[0]->errno_value, EIO);
	ASSERT_STR_CONTAINS(ack->failures[0]->message, "injected failure");
	wire_free(e);
	ASSERT_EQ(enforced(a, "a", ENF_BANDWIDTH), 100);
	ASSERT_EQ(enforced(a, "b", ENF_BANDWIDTH), 100);
	ASSERT_EQ(enforced(a, "c", ENF_BANDWIDTH), 100);
	ASSERT_EQ(enforced(a, "a", ENF_MEMORY), 300);
	size_t n;
	const struct enf_fake_call *calls = enf_fake_calls(fake(a), &n);
	/* memory, then a->20, b->130, c->150 fails, then b->100, a->100 (reverse). */
	ASSERT_EQ(n, 6);
	ASSERT_EQ(calls[0].res, ENF_MEMORY);
	ASSERT_STR_EQ(calls[1].tenant, "a");
	ASSERT_EQ(calls[1].setting.quantity, 20);
	ASSERT_STR_EQ(calls[3].tenant, "c");
	ASSERT_EQ(calls[3].ret, -EIO);
	ASSERT_STR_EQ(calls[4].tenant, "b");
	ASSERT_EQ(calls[4].setting.quantity, 100);
	ASSERT_STR_EQ(calls[5].tenant, "a");
	ASSERT_EQ(calls[5].setting.quantity, 100);

	/* The next round succeeds: the failure is not sticky. */
	e = send_set(a, 3, "h1", second, 4);
	ASSERT_EQ(e->allocation_ack->complete, true);
	wire_free(e);
	ASSERT_EQ(enforced(a, "c", ENF_BANDWIDTH), 150);
	ha_agent_destroy(a);
	ha_config_destroy(c);
}

static void test_rollback_reverts_new(void)
{
	struct ha_config *c = config(NULL);
	struct ha_agent *a = agent(c);
	/* Nothing enforced before: a's apply succeeds, b's fails: a is reverted, not set. */
	enf_fake_fail_tenant(fake(a), "b", EPERM);
	struct alloc al[] = {{"a", LLC, 2}, {"b", LLC, 2}};
	Raas__Envelope *e = send_set(a, 1, "h1", al, 2);
	ASSERT_EQ(e->allocation_ack->complete, false);
	ASSERT_EQ(e->allocation_ack->failures[0]->errno_value, EPERM);
	wire_free(e);
	ASSERT_EQ(enforced(a, "a", ENF_LLC), -1);
	size_t n;
	const struct enf_fake_call *calls = enf_fake_calls(fake(a), &n);
	bool reverted = false;
	for (size_t i = 0; i < n; i++)
		if (calls[i].op == ENF_FAKE_REVERT && strcmp(calls[i].tenant, "a") == 0)
			reverted = true;
	ASSERT_TRUE(reverted);
	struct enf_setting s;
	ASSERT_EQ(ha_agent_enforced(a, 0, ENF_LLC, &s), -ENOENT);
	ha_agent_destroy(a);
	ha_config_destroy(c);
}

static void test_refusals(void)
{
	struct ha_config *c = config(NULL);
	struct ha_agent *a = agent(c);
	struct alloc ok[] = {{"a", BW, 100}};
	wire_free(send_set(a, 5, "h1", ok, 1));

	/* Another host's set: nothing applied. */
	enf_fake_clear_calls(fake(a));
	struct alloc big[] = {{"a", BW, 200}};
	Raas__Envelope *e = send_set(a, 6, "h2", big, 1);
	ASSERT_EQ(e->allocation_ack->complete, false);
	ASSERT_STR_CONTAINS(e->allocation_ack->failures[0]->message, "host \"h2\"");
	wire_free(e);
	size_t n;
	enf_fake_calls(fake(a), &n);
	ASSERT_EQ(n, 0);

	/* An older round: refused. */
	e = send_set(a, 4, "h1", big, 1);
	ASSERT_EQ(e->allocation_ack->complete, false);
	ASSERT_EQ(e->allocation_ack->failures[0]->errno_value, RAAS_ESTALE);
	wire_free(e);
	ASSERT_EQ(enforced(a, "a", ENF_BANDWIDTH), 100);

	/* Over capacity for bandwidth, unknown tenant, duplicate memory: each refused alone;
	 * cores still applied. */
	struct alloc mixed[] = {{"a", BW, 200}, {"b", BW, 200}, {"zed", CORES, 1},
				{"a", CORES, 1}, {"a", MEM, 10}, {"a", MEM, 20},
				{"a", RAAS__RESOURCE__RESOURCE_EGRESS, 5}};
	e = send_set(a, 7, "h1", mixed, 7);
	Raas__AllocationAck *ack = e->allocation_ack;
	ASSERT_EQ(ack->complete, false);
	bool cap = false, unknown = false, dup = false, egress = false;
	for (size_t i = 0; i < ack->n_failures; i++) {
		const char *m = ack->failures[i]->message;
		cap |= ack->failures[i]->errno_value == RAAS_ENOSUPPLY && strstr(m, "400") != NULL;
		unknown |= ack->failures[i]->errno_value == ENOENT && strstr(m, "zed") != NULL;
		dup |= strstr(m, "allocated twice") != NULL;
		egress |= strstr(m, "resource 5") != NULL;
	}
	ASSERT_TRUE(cap && unknown && dup && egress);
	wire_free(e);
	ASSERT_EQ(enforced(a, "a", ENF_BANDWIDTH), 100);
	ASSERT_EQ(enforced(a, "a", ENF_CORES), 1);
	ASSERT_EQ(enforced(a, "a", ENF_MEMORY), 0); /* unchanged since round 5 */

	/* Garbage is ignored, not fatal. */
	enum ha_msg_kind kind;
	uint8_t *reply;
	size_t reply_len;
	ASSERT_OK(ha_agent_receive(a, "\x01\x02garbage", 9, 1, &kind, NULL, &reply, &reply_len));
	ASSERT_EQ(kind, HA_MSG_INVALID);
	ASSERT_TRUE(reply == NULL);
	ha_agent_destroy(a);
	ha_config_destroy(c);
}

static void test_restart_reconciles(void)
{
	char state[64];
	snprintf(state, sizeof(state), "/tmp/hostagent-%d-fake.state", (int)getpid());
	unlink(state);
	char extra[256];
	snprintf(extra, sizeof(extra), "[fake]\nstate_file = %s\n", state);
	struct ha_config *c = config(extra);
	struct ha_agent *a = agent(c);
	struct alloc al[] = {{"a", BW, 50}, {"b", BW, 200}, {"a", CORES, 2}};
	wire_free(send_set(a, 1, "h1", al, 3));
	ha_agent_destroy(a);

	/* A new agent reads back what the first left in force and registers it. */
	a = agent(c);
	uint8_t *buf;
	size_t len;
	ASSERT_OK(ha_agent_register_msg(a, 9, &buf, &len));
	Raas__Envelope *e = decode(buf, len);
	free(buf);
	ASSERT_EQ(e->body_case, RAAS__ENVELOPE__BODY_HOST_REGISTER);
	Raas__HostRegister *reg = e->host_register;
	ASSERT_EQ(reg->n_capacity, 4);
	int64_t bw_a = -1, bw_b = -1, cores_a = -1;
	for (size_t i = 0; i < reg->n_enforced; i++) {
		Raas__Allocation *x = reg->enforced[i];
		if (x->resource == BW && !strcmp(x->tenant, "a"))
			bw_a = x->quantity;
		if (x->resource == BW && !strcmp(x->tenant, "b"))
			bw_b = x->quantity;
		if (x->resource == CORES && !strcmp(x->tenant, "a"))
			cores_a = x->quantity;
		ASSERT_STR_EQ(x->host, "h1");
	}
	ASSERT_EQ(bw_a, 50);
	ASSERT_EQ(bw_b, 200);
	ASSERT_EQ(cores_a, 2);
	wire_free(e);
	/* The market's current allocation equals what is enforced: no call at all. */
	enf_fake_clear_calls(fake(a));
	wire_free(send_set(a, 2, "h1", al, 3));
	size_t n;
	const struct enf_fake_call *calls = enf_fake_calls(fake(a), &n);
	for (size_t i = 0; i < n; i++)
		ASSERT_TRUE(calls[i].op != ENF_FAKE_APPLY || strcmp(calls[i].tenant, "c") == 0);
	ha_agent_destroy(a);
	ha_config_destroy(c);
	unlink(state);
}

static void test_unavailable(void)
{
	struct ha_config *c = config("[fake]\nunsupported = llc\n");
	struct ha_agent *a = agent(c);
	const char *reason;
	ASSERT_TRUE(!ha_agent_available(a, ENF_LLC, &reason));
	ASSERT_STR_CONTAINS(reason, "unsupported");
	ASSERT_TRUE(ha_agent_available(a, ENF_BANDWIDTH, &reason));
	uint8_t *buf;
	size_t len;
	ASSERT_OK(ha_agent_register_msg(a, 1, &buf, &len));
	Raas__Envelope *e = decode(buf, len);
	free(buf);
	bool seen = false;
	for (size_t i = 0; i < e->host_register->n_capacity; i++) {
		Raas__Capacity *cap = e->host_register->capacity[i];
		if (cap->resource == LLC) {
			seen = true;
			ASSERT_EQ(cap->available, false);
			ASSERT_EQ(cap->quantity, 8);
			ASSERT_STR_CONTAINS(cap->reason, "unsupported");
		} else {
			ASSERT_EQ(cap->available, true);
		}
	}
	ASSERT_TRUE(seen);
	wire_free(e);
	struct alloc al[] = {{"a", LLC, 2}, {"a", BW, 10}};
	e = send_set(a, 1, "h1", al, 2);
	ASSERT_EQ(e->allocation_ack->complete, false);
	ASSERT_EQ(e->allocation_ack->n_failures, 1);
	ASSERT_EQ(e->allocation_ack->failures[0]->errno_value, ENOTSUP);
	wire_free(e);
	ASSERT_EQ(enforced(a, "a", ENF_BANDWIDTH), 10);
	ha_agent_destroy(a);
	ha_config_destroy(c);
}

static void test_meters(void)
{
	struct ha_config *c = config(NULL);
	struct ha_agent *a = agent(c);
	struct alloc al[] = {{"a", BW, 8}, {"a", CORES, 1}};
	wire_free(send_set(a, 1, "h1", al, 2));
	uint64_t last_tx = 0, last_cpu = 0;
	for (int i = 0; i < 5; i++) {
		uint8_t *buf;
		size_t len;
		clk_manual_advance(&clock_, NS_PER_S);
		ASSERT_OK(ha_agent_meter_msg(a, 100 + (uint64_t)i, &buf, &len));
		Raas__Envelope *e = decode(buf, len);
		free(buf);
		ASSERT_EQ(e->body_case, RAAS__ENVELOPE__BODY_METERS);
		Raas__MeterReport *m = e->meters;
		ASSERT_EQ(m->round, 1);
		ASSERT_EQ(m->n_meters, 3);
		ASSERT_STR_EQ(m->meters[0]->tenant, "a");
		ASSERT_GE(m->meters[0]->tx_bytes, last_tx);
		ASSERT_GE(m->meters[0]->cpu_ns, last_cpu);
		if (i > 0)
			ASSERT_GT(m->meters[0]->tx_bytes, last_tx);
		last_tx = m->meters[0]->tx_bytes;
		last_cpu = m->meters[0]->cpu_ns;
		ASSERT_EQ(m->meters[1]->tx_bytes, 0);
		ASSERT_GT(m->end_wall_ns, m->start_wall_ns);
		wire_free(e);
		check(a);
	}
	ha_agent_destroy(a);
	ha_config_destroy(c);
}

/* The decoded registration the agent would send now (free with wire_free). */
static Raas__Envelope *registration(struct ha_agent *a)
{
	uint8_t *buf;
	size_t len;
	ASSERT_OK(ha_agent_register_msg(a, 7, &buf, &len));
	Raas__Envelope *e = decode(buf, len);
	free(buf);
	ASSERT_EQ(e->body_case, RAAS__ENVELOPE__BODY_HOST_REGISTER);
	return e;
}

/* A tenant whose VM stopped: left out of the registration, what it held removed, its
 * allocations reported failed (so credited) while the others' are applied. */
static void test_tenant_down(void)
{
	struct ha_config *c = config(NULL);
	struct ha_agent *a = agent(c);
	struct alloc first[] = {{"a", BW, 100}, {"b", BW, 50}, {"a", CORES, 2}};
	char why[256];
	wire_free(send_set(a, 1, "h1", first, 3));
	ASSERT_EQ(enforced(a, "a", ENF_BANDWIDTH), 100);

	ASSERT_OK(ha_agent_tenant_down(a, "a", "its VM (domain a) is not running: it crashed",
				       why, sizeof(why)));
	ASSERT_TRUE(ha_agent_tenant_is_down(a, "a"));
	ASSERT_EQ(ha_agent_tenant_down(a, "zed", "x", why, sizeof(why)), -ENOENT);
	ASSERT_EQ(enforced(a, "a", ENF_BANDWIDTH), -1); /* reverted: nothing enforced */
	ASSERT_EQ(enforced(a, "a", ENF_CORES), -1);
	Raas__Envelope *e = registration(a);
	Raas__HostRegister *reg = e->host_register;
	ASSERT_TRUE(reg->tenants_listed);
	ASSERT_EQ(reg->n_tenants, 2);
	for (size_t i = 0; i < reg->n_tenants; i++)
		ASSERT_TRUE(strcmp(reg->tenants[i], "a") != 0);
	for (size_t i = 0; i < reg->n_enforced; i++)
		ASSERT_TRUE(strcmp(reg->enforced[i]->tenant, "a") != 0);
	wire_free(e);

	/* The market's set still has a (a round cleared before it heard): a's entries fail,
	 * nothing is applied for a, b's change is. */
	enf_fake_clear_calls(fake(a));
	struct alloc second[] = {{"a", BW, 100}, {"b", BW, 80}, {"a", CORES, 2}};
	e = send_set(a, 2, "h1", second, 3);
	Raas__AllocationAck *ack = e->allocation_ack;
	ASSERT_EQ(ack->complete, false);
	ASSERT_EQ(ack->n_failures, 2);
	for (size_t i = 0; i < ack->n_failures; i++) {
		ASSERT_STR_EQ(ack->failures[i]->tenant, "a");
		ASSERT_EQ(ack->failures[i]->errno_value, ENOENT);
		ASSERT_STR_CONTAINS(ack->failures[i]->message, "it crashed");
	}
	wire_free(e);
	size_t n;
	const struct enf_fake_call *calls = enf_fake_calls(fake(a), &n);
	for (size_t i = 0; i < n; i++)
		ASSERT_TRUE(strcmp(calls[i].tenant, "a") != 0);
	ASSERT_EQ(enforced(a, "b", ENF_BANDWIDTH), 80);
	ASSERT_EQ(enforced(a, "a", ENF_BANDWIDTH), -1);

	/* Its VM runs again: listed and enforced again. */
	ASSERT_OK(ha_agent_tenant_up(a, "a"));
	e = registration(a);
	ASSERT_EQ(e->host_register->n_tenants, 3);
	wire_free(e);
	e = send_set(a, 3, "h1", second, 3);
	ASSERT_EQ(e->allocation_ack->complete, true);
	wire_free(e);
	ASSERT_EQ(enforced(a, "a", ENF_BANDWIDTH), 100);
	ASSERT_EQ(enforced(a, "a", ENF_CORES), 2);
	ha_agent_destroy(a);
	ha_config_destroy(c);
}

/* A Reply envelope carrying the market's refusal msg, as the agent receives it. */
static void receive_refusal(struct ha_agent *a, uint64_t id, const char *msg)
{
	Raas__Envelope e;
	Raas__Reply r = RAAS__REPLY__INIT;
	Raas__Error er = RAAS__ERROR__INIT;
	uint8_t *buf, *reply = NULL;
	size_t len, reply_len = 0;
	enum ha_msg_kind kind;
	int code = 0;

	er.code = RAAS__ERROR_CODE__ERROR_MALFORMED;
	er.message = (char *)msg;
	r.error = &er;
	wire_envelope_init(&e, id);
	e.body_case = RAAS__ENVELOPE__BODY_REPLY;
	e.reply = &r;
	ASSERT_OK(wire_encode(&e, &buf, &len));
	ASSERT_OK(ha_agent_receive(a, buf, len, id, &kind, &code, &reply, &reply_len));
	free(buf);
	free(reply);
	ASSERT_EQ(kind, HA_MSG_REPLY);
	ASSERT_EQ(code, RAAS__ERROR_CODE__ERROR_MALFORMED);
}

static int count_in(const char *text, const char *what)
{
	int n = 0;
	for (const char *p = text; (p = strstr(p, what)); p += strlen(what))
		n++;
	return n;
}

/* The market's refusals are logged once a minute while the same one repeats (struct
 * log_limit on the agent's clock); a different refusal is logged at once. */
static void test_refusal_log(void)
{
	struct ha_config *c = config(NULL);
	struct ha_agent *a = agent(c);
	char *text = NULL;
	size_t tlen = 0;
	FILE *mem = open_memstream(&text, &tlen);
	enum log_level was = log_get_level();

	ASSERT_TRUE(mem != NULL);
	log_set_sink(mem);
	log_set_level(LOG_WARN);
	for (int i = 0; i < 10; i++) { /* 10 in 9 s: one line */
		receive_refusal(a, 100 + (uint64_t)i, "key not known");
		clk_manual_advance(&clock_, NS_PER_S);
	}
	receive_refusal(a, 200, "host name taken"); /* another message: at once */
	receive_refusal(a, 201, "key not known");   /* back to the first: at once */
	for (int i = 0; i < 3; i++)                  /* held back */
		receive_refusal(a, 300 + (uint64_t)i, "key not known");
	clk_manual_advance(&clock_, 60 * NS_PER_S);
	receive_refusal(a, 202, "key not known");   /* a minute on: with the mark */
	fflush(mem);
	log_set_sink(NULL);
	log_set_level(was);
	fclose(mem);
	ASSERT_EQ(count_in(text, "market refused request"), 4);
	ASSERT_EQ(count_in(text, "market refused request 100: key not known\n"), 1);
	ASSERT_EQ(count_in(text, "request 101:"), 0);
	ASSERT_EQ(count_in(text, "request 300:"), 0);
	/* The 9 held back are owned up to on the next line written, whatever its message. */
	ASSERT_EQ(count_in(text, "market refused request 200: host name taken (repeated since "
				 "the last report)\n"), 1);
	ASSERT_EQ(count_in(text, "market refused request 201: key not known\n"), 1);
	ASSERT_EQ(count_in(text, "market refused request 202: key not known (repeated since the "
				 "last report)"), 1);
	free(text);
	ha_agent_destroy(a);
	ha_config_destroy(c);
}

int main(void)
{
	log_init("test_agent", getenv("TEST_DEBUG") ? LOG_DEBUG : LOG_ERROR, false);
	clk_manual_init(&clock_, NS_PER_S, 1700000000 * NS_PER_S);
	test_apply_and_order();
	test_fail_mid_apply();
	test_rollback_reverts_new();
	test_refusals();
	test_restart_reconciles();
	test_unavailable();
	test_meters();
	test_tenant_down();
	test_refusal_log();
	return 0;
}
