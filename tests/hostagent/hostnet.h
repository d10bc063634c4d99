/* hostnet.h: a host in network namespaces for the agent's integration tests.
 *
 * Namespaces (all named hostagent-<pid>-*): "host" (where the agent and the scripted market
 * run; the test process itself moves there), one per tenant ("t1", "t2", ...) with a veth to
 * the host (10.201.<i>.2 -> 10.201.<i>.1), and "sink" behind the host's uplink veth "up0"
 * (10.201.100.1 -> 10.201.100.2) where iperf3 servers listen. The host forwards; tenants'
 * traffic leaves through up0, where the agent's tc backend shapes it. Everything is removed
 * at exit, also on failure. Root only (tests exit 77 otherwise). */
#ifndef HOSTAGENT_TESTS_HOSTNET_H
#define HOSTAGENT_TESTS_HOSTNET_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define HN_MAX_TENANTS 4

struct hostnet {
	int ntenants;
	char dir[128];    /* scratch directory (config, keys, logs) */
	char ns_host[64], ns_sink[64], ns_tenant[HN_MAX_TENANTS][64];
	pid_t agent;
	pid_t servers[HN_MAX_TENANTS];
};

/* Builds the namespaces and moves the calling process into the host namespace. */
void hn_setup(struct hostnet *h, int ntenants);
/* Runs a shell command (printf format); returns its exit status. */
int hn_sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Writes the agent config: [agent]/[capacity]/[backends] for tc, one tenant per namespace
 * (class 0x10 * (i + 1), src 10.201.<i+1>.2), plus extra text. Returns its path. */
const char *hn_write_config(struct hostnet *h, int market_port, const char *extra);
/* Starts raas-hostagentd in the host namespace (with one --set override when set is not
 * NULL); its log goes to <dir>/agent.log. */
void hn_start_agent(struct hostnet *h, const char *config, const char *set);
/* Sends sig and reaps the agent. */
void hn_stop_agent(struct hostnet *h, int sig);
/* Starts an iperf3 server in the sink for each tenant (port 5201 + i), waits until they
 * listen. */
void hn_start_servers(struct hostnet *h);
/* The HTB class rate of a tenant on up0 in bits/s as tc shows it (0: no such class), and
 * the bytes it sent. */
uint64_t hn_class_rate(int tenant_index, uint64_t *bytes);
/* A tenant interface's transmit byte counter (inside its namespace). */
uint64_t hn_tx_bytes(struct hostnet *h, int tenant_index);
/* Runs iperf3 from each listed tenant at once for secs seconds (omitting the first omit
 * seconds) and stores each receiver-side rate in Mbit/s; per-second rates go to
 * intervals[i][0..*nint) when intervals is not NULL. */
void hn_iperf(struct hostnet *h, const int *tenants, int n, int secs, int omit, double *mbit,
	      double (*intervals)[64], int *nint);
/* In a forked child: leave the namespaces to the parent (no teardown at the child's exit). */
void hn_child(void);
/* Prints the agent's log (on failure). */
void hn_dump_log(struct hostnet *h);
/* Monotonic milliseconds. */
int64_t hn_now_ms(void);

#endif
