/* testbed.h: a private RaaS cloud on this machine, described in one INI file (docs/testbed.md).
 *
 * A testbed file names the market (round length, a pricing model per resource), the hosts
 * (each an emulated host: its own network namespace, an uplink veth into the testbed's bridge,
 * tc on that uplink, a cgroup subtree and its own raas-hostagentd; or a remote host that runs
 * its own agent and is only registered), the tenants (a nom instance each: nom-priced and one
 * app started by nom-run, driven by a load generator in load phases) and events on a
 * timeline. tb_load() reads and checks all of it before anything is started, so a bad file
 * gets one "FILE:LINE: key: why" and nothing else happens. */
#ifndef TESTBED_TESTBED_H
#define TESTBED_TESTBED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/config.h"
#include "common/money.h"

#define TB_MAX_HOSTS 16
#define TB_MAX_TENANTS 32
#define TB_MAX_RESOURCES 4
#define TB_MAX_PHASES 8
#define TB_MAX_EVENTS 16

enum tb_host_kind { TB_HOST_EMULATED, TB_HOST_REMOTE };
enum tb_app { TB_APP_MEMCACHED, TB_APP_NHTTPD, TB_APP_NETPIPE };
enum tb_strategy { TB_ADAPTIVE, TB_STATIC_TPT, TB_STATIC_LAT, TB_STATIC, TB_PRICE_UNAWARE };
enum tb_load_tool { TB_LOAD_NOM_LOADGEN, TB_LOAD_MEMCASLAP, TB_LOAD_WRK, TB_LOAD_NPTCP };
enum tb_event_kind { TB_EV_HOST_FAIL, TB_EV_SUPPLY, TB_EV_PRICE };
/* What a host sells (the market's resources the testbed's hosts enforce). */
enum tb_res { TB_RES_BANDWIDTH, TB_RES_CORES, TB_RES_MEMORY, TB_NRES };

struct tb_resource {
	char name[32];    /* cores, memory, bandwidth, llc */
	char model[32];   /* a pricing model (docs/pricing-models.md) */
	char params[512]; /* its parameters, passed to the market as written */
};

struct tb_host {
	char name[16];
	enum tb_host_kind kind;
	int index;              /* 1..: the host's uplink address 10.N.0.(10 + index) */
	int64_t bandwidth_mbit; /* uplink capacity sold */
	int64_t cores;          /* cores sold (cgroup cpuset), CPUs 0..cores-1; 0: none */
	int64_t memory_mib;     /* memory sold (cgroup memory limit); 0: none */
	char key[512];          /* remote: the agent's public key file */
};

struct tb_phase {
	int64_t duration_ns;
	int conns; /* connections (NPtcp: ignored, one stream) */
};

struct tb_tenant {
	char name[16];
	int index;    /* 1..: the tenant's subnet 10.N.index.0/24, its tc class 0x10 x index */
	int host;     /* index into testbed.hosts */
	money_t budget; /* -1: unlimited */
	enum tb_app app;
	char utility[16]; /* penalty, refund, bonus */
	/* The utility function's parameters (docs/economics.md); NAN when not given (the app's
	 * default, the thesis's). */
	double alpha, beta, gamma, delta, x, l0;
	enum tb_strategy strategy;
	int64_t delay_us; /* static and price-unaware: the fixed batching delay W */
	bool kernel_stack; /* price-unaware on kernel sockets */
	enum tb_load_tool load;
	struct tb_phase phases[TB_MAX_PHASES];
	int nphases;
	/* Standing bids for the host's cores and memory (placed through its nom-priced before
	 * the app starts): at most cores/memory_mib, at least *_min, limit price per unit-hour.
	 * 0: none. */
	int64_t cores, cores_min, memory_mib, memory_min;
	money_t cores_price, memory_price;
	char profile_app[32]; /* the profile's rows it reads (--profile-app); "" = its app's */
	char http_path[64];   /* nhttpd under nom-loadgen: the file it fetches */
	int64_t join_ns;  /* offset into the run */
	int64_t leave_ns; /* -1: stays to the end */
	bool vm;          /* instance = vm: a nom VM its host's agent boots (docs/vm.md) */
	char vm_type[8];  /* auto, kvm, qemu (the agent's vm_type) */
};

struct tb_event {
	char name[32];   /* the section's NAME */
	int64_t at_ns;
	enum tb_event_kind kind;
	int host;        /* host-fail, supply: index into hosts */
	int resource;    /* supply, price: index into resources */
	int64_t supply;  /* supply: the host's new capacity of the resource */
	char model[32];  /* price: the resource's model from now on */
	char params[512]; /* price: its parameters (a relative file= resolved) */
};

struct testbed {
	char file[256];
	char name[16];       /* every namespace, cgroup, board and file is tb-NAME-... */
	int net;             /* the testbed's /16 is 10.net.0.0 */
	int64_t duration_ns; /* run length */
	int64_t startup_timeout_ns;
	uint64_t seed;
	int64_t round_ns;
	char profile[512];   /* the apps' working points (docs/profiles.md) */
	struct tb_resource resources[TB_MAX_RESOURCES];
	int nresources;
	struct tb_host hosts[TB_MAX_HOSTS];
	int nhosts;
	struct tb_tenant tenants[TB_MAX_TENANTS];
	int ntenants;
	struct tb_event events[TB_MAX_EVENTS];
	int nevents;
	char *text; /* the file as read (recorded in the run file) */
};

/* Reads and checks a testbed file into tb (caller's storage, zeroed here). Returns 0, or
 * -RAAS_ECONFIG (or -errno for I/O) with err at the offending line and key; tb then holds
 * nothing to free. tb_fini() frees what a successful load allocated. */
int tb_load(const char *path, struct testbed *tb, struct cfg_error *err);
void tb_fini(struct testbed *tb);
/* --help-config: every key of a testbed file, its default, range and help (one table). */
void tb_help_config(FILE *f);

const char *tb_app_name(enum tb_app a);
const char *tb_strategy_name(enum tb_strategy s);
/* The apps' --strategy word for s (apps/common opts). */
const char *tb_strategy_arg(enum tb_strategy s);
const char *tb_load_name(enum tb_load_tool l);
const char *tb_res_name(enum tb_res r);
/* The resource's enum of a [resource.NAME] section of tb. */
enum tb_res tb_resource_res(const struct tb_resource *r);
/* The host's capacity of r as the file gives it. */
int64_t tb_host_capacity(const struct tb_host *h, enum tb_res r);

/* The app's server port (memcached 11211, nhttpd 8080, netpipe 5002). */
int tb_app_port(enum tb_app a);

#endif
