/* fuzz_allocset.c: libFuzzer target for the agent's handling of market messages.
 *
 * Any bytes go to ha_agent_receive() of one agent (fake backends for every resource, four
 * tenants, small capacities); whatever they are (an AllocationSet with any quantities,
 * tenants, hosts, rounds and duplicates, or garbage), the agent must not crash, must answer
 * every decodable AllocationSet with a decodable AllocationAck for the same round, and its
 * invariants (ha_agent_check) must hold afterwards. */
#include <stdio.h>
#include <stdlib.h>

#include "common/log.h"
#include "common/wire.h"
#include "hostagent/agent.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *config_text =
	"[agent]\nhost = h1\n"
	"[capacity]\ncores = 4\nmemory_mib = 4096\nbandwidth_mbit = 1000\nllc_ways = 11\n"
	"[backends]\ncores = fake\nmemory = fake\nbandwidth = fake\nllc = fake\n"
	"[fake]\nfail_tenant = d\n"
	"[tenant.a]\ncgroup = a\n[tenant.b]\ncgroup = b\n[tenant.c]\ncgroup = c\n"
	"[tenant.d]\ncgroup = d\n";

static struct ha_agent *agent;
static struct ha_config *conf;

static void setup(void)
{
	struct cfg_error err;
	char why[256];
	log_init("fuzz_allocset", LOG_ERROR, false);
	log_set_level(LOG_ERROR + 0);
	if (ha_config_load_string("fuzz.ini", config_text, &conf, &err) ||
	    ha_agent_create(conf, &clk_real, &agent, why, sizeof(why)))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum ha_msg_kind kind;
	uint8_t *reply;
	size_t reply_len;
	char why[256];

	if (!agent)
		setup();
	/* Quiet: bad input is logged as a warning, which would flood the fuzzer's output. */
	FILE *devnull = fopen("/dev/null", "w");
	if (devnull)
		log_set_sink(devnull);
	if (ha_agent_receive(agent, data, size, 7, &kind, NULL, &reply, &reply_len))
		abort();
	log_set_sink(stderr);
	if (devnull)
		fclose(devnull);
	if (kind == HA_MSG_ALLOCATION_SET) {
		Raas__Envelope *e;
		if (!reply || wire_decode(reply, reply_len, WIRE_MAX_BYTES, &e, why, sizeof(why)) ||
		    e->body_case != RAAS__ENVELOPE__BODY_ALLOCATION_ACK)
			abort();
		wire_free(e);
	} else if (reply) {
		abort();
	}
	free(reply);
	if (ha_agent_check(agent, why, sizeof(why))) {
		fprintf(stderr, "invariant broken: %s\n", why);
		abort();
	}
	return 0;
}
