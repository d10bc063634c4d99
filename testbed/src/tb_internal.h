/* tb_internal.h: what the testbed's files share: the running testbed's state folder, its
 * manifest of everything started or created, and the commands it runs.
 *
 * Design notes (the manifest):
 *  1. Everything the testbed makes is written to STATE/manifest before it can exist beyond
 *     the next step: a process's line right after fork (signals blocked in between), a
 *     namespace's or cgroup's before it is created. A line for something that was never made
 *     is harmless at teardown (deleting it fails quietly); something made without a line
 *     would leak, so the line comes first.
 *  2. Teardown (tb_down) reads the manifest, whoever wrote it (the same process after Ctrl-C,
 *     a failure or a timeout, or `raas testbed down` later), and undoes it newest first:
 *     processes (SIGTERM, then SIGKILL), cgroups (their processes killed first), namespaces
 *     (their veths, bridge and qdiscs go with them), boards and sockets, then the folder.
 *  3. A process is named by pid and start time (/proc/PID/stat field 22), so a pid reused by
 *     another process after ours exited is never signalled. */
#ifndef TESTBED_TB_INTERNAL_H
#define TESTBED_TB_INTERNAL_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "testbed/testbed.h"

struct tb_run;

struct tb_state {
	const struct testbed *tb;
	char dir[512];      /* STATE: /tmp/raas-testbed/NAME, or $RAAS_TESTBED_DIR/NAME */
	char bin[512];      /* where raas-marketd and the others are */
	char source[512];   /* the project's source folder (profiles) */
	char core_ns[32];   /* tb-NAME: the bridge, the market, the load generators */
	char market[128];   /* the market's endpoints, from its ready file */
	char prices[128];
	char hostapi[128];
	char dash_url[256];  /* the dashboards, from the root namespace (with ?token=) */
	char cg_mem_parent[256]; /* this process's memory cgroup (v1), where the subtree goes */
	char cg_cpu_parent[256]; /* its cpuset cgroup (v1): hosts selling cores */
	char cg_acct_parent[256]; /* its cpuacct cgroup (v1): the agents' CPU meters */
	/* What is in force now: each host's capacity per resource (supply events change it and
	 * reload the agent) and each resource's model and parameters (price events change them
	 * and reload the market). */
	int64_t supply[TB_MAX_HOSTS][TB_NRES];
	char res_model[TB_MAX_RESOURCES][32];
	char res_params[TB_MAX_RESOURCES][512];
	/* Events carried out: when on the run's clock (-1: not yet), and 0 or -errno. */
	int64_t event_done_ns[TB_MAX_EVENTS];
	int event_rc[TB_MAX_EVENTS];
	int64_t t0_ns;      /* monotonic, when up started */
	bool tenant_up[TB_MAX_TENANTS];
	bool host_up[TB_MAX_HOSTS];
	bool tenant_done[TB_MAX_TENANTS]; /* left: never joins again */
	pid_t loadgen[TB_MAX_TENANTS];
	pid_t app[TB_MAX_TENANTS];
	pid_t priced[TB_MAX_TENANTS];
	pid_t agent[TB_MAX_HOSTS];
	pid_t market_pid;
	int64_t market_ready_ns; /* monotonic: the run's clock (and price traces) start here */
	int64_t market_ready_wall_ns; /* the same moment on the wall clock (the ledger's rounds) */
	bool verbose;
};

/* Set by SIGINT/SIGTERM; every wait checks it. */
extern volatile sig_atomic_t tb_interrupted;
void tb_signals_install(void);

/* ---- tb_proc.c ---- */
/* Appends a line to STATE/manifest (fsync'd). 0 or -errno. */
int tb_manifest_add(struct tb_state *st, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Starts argv (NULL-terminated) in its own session, in network namespace ns (NULL: this
 * one), stdout and stderr appended to STATE/LOG; its pid goes into the manifest under label
 * before this returns. Returns the pid, or -errno. */
pid_t tb_spawn(struct tb_state *st, const char *label, const char *ns, const char *log,
	       char *const argv[]);
/* As tb_spawn, but only the network namespace is entered (setns): the mounts stay this
 * process's, /sys/fs/cgroup included (ip netns exec mounts the namespace's own /sys). */
pid_t tb_spawn_netonly(struct tb_state *st, const char *label, const char *ns, const char *log,
		       char *const argv[]);
/* Runs argv to completion (stdout and stderr to STATE/setup.log, or to out if given, up to
 * outlen bytes). Returns its exit status (0-255), or -errno; 128+N for a signal. */
int tb_run_cmd(struct tb_state *st, char *out, size_t outlen, char *const argv[]);
/* tb_sh: formats a command line and runs it with /bin/sh -c (the testbed's names are
 * checked to be plain words, so nothing here needs quoting). */
int tb_sh(struct tb_state *st, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Waits until STATE/name exists and is not empty, pid is alive, and not past deadline
 * (monotonic ns). 0, -ETIMEDOUT, -ECHILD (the process exited), -EINTR (interrupted). */
int tb_wait_file(struct tb_state *st, const char *path, pid_t pid, int64_t deadline_ns);
/* Waits until a TCP connect from namespace ns to ip:port succeeds. Same returns. */
int tb_wait_listen(struct tb_state *st, const char *ns, const char *ip, int port, pid_t pid,
		   int64_t deadline_ns);
/* The process's start time (/proc/PID/stat field 22), 0 if it is gone. */
unsigned long long tb_proc_start(pid_t pid);
int64_t tb_now(void);

/* ---- tb_up.c ---- */
int tb_state_init(struct tb_state *st, const struct testbed *tb);
/* Brings the whole testbed up (tenants joining at 0; with all_tenants every tenant). On
 * failure or interruption the caller tears down. Prints progress to stderr. */
int tb_up(struct tb_state *st, bool all_tenants);
int tb_tenant_start(struct tb_state *st, int t);
/* Stops a tenant's load generator and app (nom-priced then releases what it holds). */
int tb_tenant_stop(struct tb_state *st, int t);
int tb_host_fail(struct tb_state *st, int h);
/* Writes the market's and a host agent's config from what is in force now (st->supply,
 * st->res_model, st->res_params). 0 or -errno. */
int tb_write_market_ini(struct tb_state *st);
int tb_write_agent_ini(struct tb_state *st, int h, const char *hostapi);
/* The cgroup directory of controller ("cpuset", "memory", "cpuacct") for a host (t < 0) or a
 * tenant on it. */
void tb_cg_dir(const struct tb_state *st, const char *ctrl, int h, int t, char *buf, size_t len);
/* A supply or price event: the new config written and its daemon reloaded (SIGHUP). */
int tb_event_apply(struct tb_state *st, int e);

/* ---- tb_down.c ---- */
/* Undoes everything in dir's manifest and removes dir. Returns 0 or the count of things
 * that could not be removed. */
int tb_down(const char *dir, bool quiet);
/* Prints every component of the testbed in dir and its health; 0 when all are healthy. */
int tb_status(const char *dir);

/* ---- tb_run.c ---- */
int tb_run(struct tb_state *st, const char *out_path);

#endif
