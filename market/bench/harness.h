/* harness.h: runs a real raas-marketd for the market's integration tests and benchmark.
 *
 * A harness owns a scratch directory (/tmp/market-<test>-<pid>), the market's key pair and
 * those of the tenants and hosts it registers in a fresh ledger, an INI config, and the
 * daemon process: started with --ready-file on free loopback ports, waited for with a
 * deadline, killed (SIGKILL for crash tests) and restarted on the same ports. Everything is
 * cleaned up at exit, also when a test fails. Clients are DEALER/SUB sockets with the
 * tenants' keys. */
#ifndef MARKET_BENCH_HARNESS_H
#define MARKET_BENCH_HARNESS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/transport.h"
#include "market/ledger.h"

#define H_MAX_PEERS 64

struct h_peer {
	char name[64];
	struct tp_keypair key;
};

struct harness {
	char dir[256];
	char config[320];
	char ledger[320];
	char ready[320];
	char log[320];
	char extra[4096];            /* config text appended after [market] */
	int round_ms;
	char sync[16];               /* the ledger's durability: "normal" unless set */
	pid_t pid;
	void *ctx;
	struct tp_keypair market_key;
	char tenant_ep[256], price_ep[256], host_ep[256];
	struct h_peer tenants[H_MAX_PEERS];
	int ntenants;
	struct h_peer hosts[H_MAX_PEERS];
	int nhosts;
};

/* Sets up the directory, the market key and the ledger; name goes into the directory name.
 * extra_config is appended to the config (pool and resource sections). */
void h_init(struct harness *h, const char *name, int round_ms, const char *extra_config);
/* Registers a tenant (budget -1: unlimited) or a host with a fresh key. Returns its index. */
int h_add_tenant(struct harness *h, const char *name, money_t budget);
int h_add_host(struct harness *h, const char *name);
/* Starts raas-marketd (first time on free ports, later on the same ones) and waits until it
 * serves. Exits the test (skip 77) when the binary is missing. */
void h_start(struct harness *h);
/* Stops it: SIGKILL (crash) or SIGTERM (clean). Waits for it to exit. */
void h_stop(struct harness *h, bool crash);
bool h_alive(struct harness *h);
/* Removes everything; called at exit too. */
void h_cleanup(struct harness *h);

/* A DEALER for tenant i (or host i on the host API), connected. */
void *h_dealer(struct harness *h, int tenant);
void *h_host_dealer(struct harness *h, int host);
/* A SUB to the price feed with tenant i's key, subscribed to prefix. */
void *h_sub(struct harness *h, int tenant, const char *prefix);

/* Sends e on a dealer and waits up to timeout_ms for its reply (other messages go to other
 * with arg). Fails the test on timeout. The caller frees the reply with wire_free. */
Raas__Envelope *h_call(struct harness *h, void *dealer, Raas__Envelope *e, int timeout_ms,
		       tp_other_fn other, void *arg);
/* The same, for a hello. */
Raas__Envelope *h_hello(struct harness *h, void *dealer);

/* Opens the ledger read-only (the daemon may be running). */
struct ledger *h_ledger(struct harness *h);
/* Runs ledger_check and fails the test with its text if it finds anything. */
void h_check_ledger(struct harness *h);

/* A monotonic deadline helper. */
int64_t h_now_ms(void);

#endif
