/* daemon.c: the market link of raas-hostagentd: a DEALER over common/transport.h (CURVE),
 * registration, heartbeats, fail-static reconnection with backoff (daemon.h).
 *
 * States: WAITING (no socket; retry at retry_at) -> REGISTERING (socket open, HostRegister
 * sent and re-sent every REGISTER_RESEND_NS, since the DEALER queues nothing before its
 * connection is up; waiting for any answer until the deadline) -> UP (heartbeats and meters
 * flow). Any message from the market moves REGISTERING to UP; silence longer than
 * market_timeout, no answer to the registration, or the market refusing our key (seen by a
 * socket monitor) moves to WAITING with the backoff doubled (reset on UP). Enforcement is
 * never touched by these transitions: only AllocationSets change it.
 *
 * Reload (SIGHUP): a second agent is created from the new config beside the running one
 * (backends opened, probed, read back); only when that worked are the tenants the new config
 * dropped reverted through the old agent, the old one closed (which leaves enforcement as it
 * is) and the new one registered on the same connection, so that the market learns the new
 * tenants at once and sends the last round's set for them. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "common/clock.h"
#include "common/error.h"
#include "common/log.h"
#include "common/transport.h"
#include "common/wire.h"
#include "hostagent/daemon.h"
#include "hostagent/metrics.h"
#include "hostagent/vms.h"

#define REGISTER_RESEND_NS (200 * NS_PER_MS)
#define VM_POLL_NS (250 * NS_PER_MS)

enum link_state { LINK_WAITING, LINK_REGISTERING, LINK_UP };

struct link {
	struct ha_config *conf;     /* owned */
	ha_config_loader load;
	void *load_arg;
	int64_t next_round_log;
	struct ha_agent *agent;
	void *zctx;
	void *sock;
	void *monitor;
	enum link_state state;
	struct tp_keypair key;
	char server_key[TP_KEY_Z85_LEN + 1];
	uint64_t next_id;
	int64_t backoff_ns;
	int64_t retry_at, deadline, resend_at, last_rx, next_heartbeat, next_meter;
	struct tp_link link;        /* what the monitor saw of this socket */
	bool retrying;              /* registering again after a failed attempt */
	struct httpd *http;         /* /metrics, or NULL ([agent] http_enabled = false) */
	struct ha_totals totals;    /* since start, across reloads */
	bool dirty;                 /* /metrics to render again */
	struct ha_vms *vms;         /* the tenants' VMs this agent boots (NULL: none) */
	int64_t next_vm_poll;
	bool vm_changed;            /* a VM came up or went down: register again */
};

static void close_socket(struct link *l)
{
	tp_monitor_stop(l->sock, l->monitor);
	tp_close(l->sock);
	l->monitor = l->sock = NULL;
	memset(&l->link, 0, sizeof(l->link));
}

/* Sends encoded bytes; takes buf. A send that cannot go now (no connection) is dropped:
 * registrations are re-sent, heartbeats and meters are periodic. */
static void send_bytes(struct link *l, uint8_t *buf, size_t len, const char *what)
{
	int ret = l->sock ? tp_send_raw(l->sock, NULL, buf, len, ZMQ_DONTWAIT) : -ENOTCONN;
	if (ret)
		log_debug("could not send %s to the market: %s", what, raas_strerror(ret));
	free(buf);
}

static void send_register(struct link *l, int64_t now)
{
	uint8_t *buf;
	size_t len;
	if (ha_agent_register_msg(l->agent, ++l->next_id, &buf, &len) == 0)
		send_bytes(l, buf, len, "registration");
	l->resend_at = now + REGISTER_RESEND_NS;
}

static void start_registering(struct link *l, int64_t now)
{
	int ret = tp_connect_monitored(l->zctx, ZMQ_DEALER, l->conf->market, &l->key,
				       l->server_key, &l->sock, &l->monitor);
	if (ret) {
		log_error("cannot open a socket to the market at %s: %s", l->conf->market,
			  raas_strerror(ret));
		l->state = LINK_WAITING;
		l->retry_at = now + l->backoff_ns;
		return;
	}
	l->state = LINK_REGISTERING;
	l->deadline = now + l->conf->market_timeout_ns;
	/* Once per loss of the market at info; the retries of a backoff at debug. */
	if (!l->retrying)
		log_info("registering with the market at %s", l->conf->market);
	else
		log_debug("registering with the market at %s (again)", l->conf->market);
	l->retrying = true;
	send_register(l, now);
}

static void go_waiting(struct link *l, int64_t now, const char *why)
{
	close_socket(l);
	l->state = LINK_WAITING;
	l->retry_at = now + l->backoff_ns;
	l->dirty = true;
	log_warn("market unreachable (%s): enforcement stays as it is; retrying in %.1f s", why,
		 (double)l->backoff_ns / 1e9);
	l->backoff_ns *= 2;
	if (l->backoff_ns > l->conf->reconnect_max_ns)
		l->backoff_ns = l->conf->reconnect_max_ns;
}

static void send_meters(struct link *l, int64_t now)
{
	uint8_t *buf;
	size_t len;
	if (ha_agent_meter_msg(l->agent, ++l->next_id, &buf, &len) == 0)
		send_bytes(l, buf, len, "meters");
	l->dirty = true;
	l->next_meter = now + l->conf->meter_interval_ns;
}

static void on_message(struct link *l, const Raas__Envelope *env, int64_t now)
{
	enum ha_msg_kind kind;
	int reply_error = 0;
	uint8_t *reply;
	size_t reply_len;

	if (ha_agent_handle(l->agent, env, ++l->next_id, &kind, &reply_error, &reply, &reply_len))
		return;
	l->last_rx = now;
	l->dirty = true;
	if (kind == HA_MSG_REPLY && reply_error == RAAS__ERROR_CODE__ERROR_DENIED) {
		go_waiting(l, now, "the market refused this host's registration");
		return;
	}
	if (l->state == LINK_REGISTERING) {
		l->state = LINK_UP;
		l->retrying = false;
		l->backoff_ns = l->conf->reconnect_min_ns;
		l->next_heartbeat = now + l->conf->heartbeat_ns;
		log_info("registered with the market as host %s", l->conf->host);
	}
	if (reply) {
		send_bytes(l, reply, reply_len, "allocation ack");
		send_meters(l, now);
	}
}

/* Receives every message waiting. Undecodable ones are logged and dropped. */
static void drain(struct link *l, int64_t now)
{
	while (l->sock) {
		struct tp_msg msg;
		char why[256];
		int ret = tp_recv(l->sock, ZMQ_DONTWAIT, WIRE_MAX_BYTES, &msg, why, sizeof(why));
		if (ret == -EAGAIN || ret == -EINTR)
			return;
		if (ret) {
			log_warn("ignoring a message from the market: %s", why);
			continue;
		}
		on_message(l, msg.env, now);
		tp_msg_clear(&msg);
	}
}

static int64_t earliest(const struct link *l)
{
	int64_t t = 0;
	switch (l->state) {
	case LINK_WAITING:
		t = l->retry_at;
		return l->vms && l->next_vm_poll < t ? l->next_vm_poll : t;
	case LINK_REGISTERING:
		t = l->resend_at < l->deadline ? l->resend_at : l->deadline;
		break;
	case LINK_UP: {
		t = l->next_heartbeat < l->next_meter ? l->next_heartbeat : l->next_meter;
		int64_t dead = l->last_rx + l->conf->market_timeout_ns;
		t = t < dead ? t : dead;
		break;
	}
	}
	if (l->vms && l->next_vm_poll < t)
		t = l->next_vm_poll;
	/* Look at the handshake monitor now and then. */
	if (l->monitor && t - clk_mono(&clk_real) > 100 * NS_PER_MS)
		t = clk_mono(&clk_real) + 100 * NS_PER_MS;
	return t;
}

static void tick(struct link *l, int64_t now)
{
	switch (l->state) {
	case LINK_WAITING:
		if (now >= l->retry_at)
			start_registering(l, now);
		break;
	case LINK_REGISTERING:
		if (l->monitor)
			tp_monitor_update(l->monitor, &l->link);
		if (l->link.refused) {
			go_waiting(l, now, "the market refused this host's CURVE key; is it "
					   "registered with `raas host add`?");
		} else if (l->link.broken >= 3 && !l->link.handshakes) {
			go_waiting(l, now, "the market's key does not match [agent] "
					   "market_public_key (the handshake fails on its side)");
		} else if (now >= l->deadline) {
			go_waiting(l, now, "no answer to the registration");
		} else if (now >= l->resend_at) {
			send_register(l, now);
		}
		break;
	case LINK_UP:
		if (now - l->last_rx > l->conf->market_timeout_ns) {
			go_waiting(l, now, "no message within market_timeout");
			break;
		}
		if (now >= l->next_heartbeat) {
			uint8_t *buf;
			size_t len;
			if (ha_agent_heartbeat_msg(l->agent, ++l->next_id, &buf, &len) == 0)
				send_bytes(l, buf, len, "heartbeat");
			l->next_heartbeat = now + l->conf->heartbeat_ns;
		}
		if (now >= l->next_meter)
			send_meters(l, now);
		break;
	}
}

static int load_keys(const struct ha_config *conf, char server_key[TP_KEY_Z85_LEN + 1],
		     struct tp_keypair *key, char *why, size_t why_len)
{
	int ret;
	if (!conf->market_public_key || !conf->key) {
		snprintf(why, why_len, "[agent] market_public_key and key are required (CURVE key "
				       "files made by `raas keygen`)");
		return -RAAS_ECONFIG;
	}
	ret = tp_key_load_public(conf->market_public_key, server_key, why, why_len);
	if (!ret)
		ret = tp_key_load_pair(conf->key, key, why, why_len);
	return ret;
}

static bool has_tenant(const struct ha_config *c, const char *name)
{
	for (size_t i = 0; i < c->ntargets; i++)
		if (strcmp(c->targets[i].tenant, name) == 0)
			return true;
	return false;
}

/* A VM's state, from vms.c: the agent stops (or starts again) serving its tenant. */
static void on_vm_state(void *arg, const char *tenant, const char *domain, bool up,
			const char *why)
{
	struct link *l = arg;
	char err[512] = "", reason[192];

	if (up) {
		if (ha_agent_tenant_is_down(l->agent, tenant)) {
			ha_agent_tenant_up(l->agent, tenant);
			l->vm_changed = true;
		}
		return;
	}
	snprintf(reason, sizeof(reason), "its VM (domain %s) is not running: %s", domain, why);
	if (!ha_agent_tenant_is_down(l->agent, tenant))
		l->vm_changed = true;
	if (ha_agent_tenant_down(l->agent, tenant, reason, err, sizeof(err)) != 0)
		log_warn("vm: tenant %s: removing what it held failed: %s", tenant, err);
	log_info("vm: tenant %s no longer served here (%s); telling the market", tenant, reason);
}

/* The VMs of conf: the libvirt connection opened when the first one is configured. */
static void vms_sync(struct link *l)
{
	char why[512];
	if (!l->vms && l->conf->nvms) {
		const char *uri = cfg_get(l->conf->cfg, "libvirt", "uri");
		if (ha_vms_create(uri ? uri : "qemu:///system", on_vm_state, l, &l->vms, why,
				  sizeof(why)) != 0) {
			/* Every VM is then down: its tenants are not listed, never charged. */
			log_error("%s", why);
			for (size_t i = 0; i < l->conf->nvms; i++)
				on_vm_state(l, l->conf->vms[i].tenant, l->conf->vms[i].domain, false,
					    why);
			return;
		}
	}
	if (l->vms)
		ha_vms_sync(l->vms, l->conf);
}

static void vms_poll(struct link *l, int64_t now)
{
	if (!l->vms || now < l->next_vm_poll)
		return;
	l->next_vm_poll = now + VM_POLL_NS;
	ha_vms_poll(l->vms);
	if (l->vm_changed && l->state == LINK_UP) {
		log_info("registering again: the tenants served here changed");
		send_register(l, now);
	}
	l->vm_changed = false;
}

/* SIGHUP: the difference between the running config and the one on disk. */
static void reload(struct link *l, int64_t now)
{
	struct ha_config *next = NULL;
	struct ha_agent *agent = NULL;
	struct tp_keypair key;
	char server_key[TP_KEY_Z85_LEN + 1], why[1024] = "";
	int ret;

	dmn_notify("RELOADING=1");
	ret = l->load(l->load_arg, &next, why, sizeof(why));
	if (!ret && strcmp(next->host, l->conf->host) != 0) {
		snprintf(why, sizeof(why), "[agent] host cannot change (%s -> %s): restart the agent",
			 l->conf->host, next->host);
		ret = -EINVAL;
	}
	if (!ret)
		ret = load_keys(next, server_key, &key, why, sizeof(why));
	if (!ret)
		ret = ha_agent_create(next, &clk_real, &agent, why, sizeof(why));
	if (ret) {
		log_error("reload refused, the running config stays in force: %s", why);
		ha_config_destroy(next);
		dmn_notify("READY=1");
		return;
	}
	size_t added = 0, removed = 0;
	for (size_t i = 0; i < next->ntargets; i++)
		if (!has_tenant(l->conf, next->targets[i].tenant)) {
			log_info("reload: tenant %s added", next->targets[i].tenant);
			added++;
		}
	for (size_t i = 0; i < l->conf->ntargets; i++) {
		const char *name = l->conf->targets[i].tenant;
		if (has_tenant(next, name))
			continue;
		removed++;
		if (ha_agent_revert_tenant(l->agent, name, why, sizeof(why)) != 0)
			log_warn("reload: tenant %s dropped, but removing what it held failed: %s",
				 name, why);
		else
			log_info("reload: tenant %s dropped; what it held is removed", name);
	}
	bool relink = strcmp(next->market, l->conf->market) != 0 ||
		      strcmp(server_key, l->server_key) != 0 ||
		      strcmp(key.public_key, l->key.public_key) != 0;
	ha_agent_destroy(l->agent);
	ha_config_destroy(l->conf);
	ha_agent_set_totals(agent, &l->totals);
	l->dirty = true;
	l->agent = agent;
	l->conf = next;
	l->key = key;
	memcpy(l->server_key, server_key, sizeof(l->server_key));
	vms_sync(l); /* the new agent learns which VMs run; new VMs boot, dropped ones stop */
	l->vm_changed = false;
	log_info("reloaded: %zu tenants (%zu added, %zu dropped); registering again%s",
		 next->ntargets, added, removed, relink ? " (new market endpoint or keys)" : "");
	if (relink || l->state != LINK_UP) {
		close_socket(l);
		start_registering(l, now);
	} else {
		send_register(l, now); /* same connection: the market answers and sends the set */
	}
	dmn_notify("READY=1");
}

/* The info line of the rounds applied since the last one. */
static void round_log(struct link *l, int64_t now)
{
	struct ha_agent_stats st;

	if (now < l->next_round_log)
		return;
	l->next_round_log = now + (l->conf->round_log_ns > 0 ? l->conf->round_log_ns : 0);
	ha_agent_take_stats(l->agent, &st);
	if (!st.sets)
		return;
	log_info("up to round %llu: %llu sets applied (%llu with failures, %llu failures), %.1f "
		 "allocations a set, apply %.3f ms mean, %.3f ms max; market %s",
		 (unsigned long long)st.last_round, (unsigned long long)st.sets,
		 (unsigned long long)st.sets_failed, (unsigned long long)st.failures,
		 (double)st.allocations / (double)st.sets,
		 (double)st.apply_ns / (double)st.sets / 1e6, (double)st.apply_max_ns / 1e6,
		 l->state == LINK_UP ? "up" : "unreachable");
}

int ha_daemon_run(struct ha_config *conf, ha_config_loader load, void *load_arg,
		  const struct dmn_args *args, char *why, size_t why_len)
{
	struct link l;
	char ready[512];
	int ret;

	memset(&l, 0, sizeof(l));
	l.conf = conf;
	l.load = load;
	l.load_arg = load_arg;
	if ((ret = load_keys(conf, l.server_key, &l.key, why, why_len)) ||
	    (ret = ha_agent_create(conf, &clk_real, &l.agent, why, why_len))) {
		ha_config_destroy(l.conf);
		return ret;
	}
	l.zctx = tp_context_create(0, 1);
	if (!l.zctx) {
		ha_agent_destroy(l.agent);
		ha_config_destroy(l.conf);
		snprintf(why, why_len, "ZeroMQ context: %s", zmq_strerror(errno));
		return -ENOMEM;
	}
	ha_totals_init(&l.totals);
	ha_agent_set_totals(l.agent, &l.totals);
	if (conf->http.enabled) {
		const struct httpd_options opts = {
			.server = "raas-hostagentd/0.1",
			.metrics_prefix = "raas_hostagent",
		};
		if ((ret = httpd_start(&conf->http, &opts, &l.http, why, why_len)) != 0) {
			tp_context_destroy(l.zctx);
			ha_agent_destroy(l.agent);
			ha_config_destroy(l.conf);
			return ret;
		}
		ha_metrics_publish(&l.totals, l.agent, l.conf, false, l.http);
	}
	l.backoff_ns = conf->reconnect_min_ns;
	int64_t now = clk_mono(&clk_real);
	l.next_meter = now + conf->meter_interval_ns;
	l.next_round_log = now + conf->round_log_ns;
	vms_sync(&l); /* boot the tenants' VMs before the market hears of them */
	l.vm_changed = false;
	l.next_vm_poll = now + VM_POLL_NS;
	start_registering(&l, now);
	snprintf(ready, sizeof(ready), "host=%s\nmarket=%s\ntenants=%zu\nhttp_endpoint=%s\n",
		 conf->host, conf->market, conf->ntargets, l.http ? httpd_endpoint(l.http) : "");
	if ((ret = dmn_ready(args, ready, why, why_len)) != 0) {
		httpd_stop(l.http);
		close_socket(&l);
		tp_context_destroy(l.zctx);
		ha_vms_destroy(l.vms, true);
		ha_agent_destroy(l.agent);
		ha_config_destroy(l.conf);
		return ret;
	}
	for (;;) {
		now = clk_mono(&clk_real);
		int64_t wait = earliest(&l) - now;
		if (wait < 0)
			wait = 0;
		if (l.conf->round_log_ns > 0 && l.next_round_log - now < wait)
			wait = l.next_round_log - now > 0 ? l.next_round_log - now : 0;
		zmq_pollitem_t items[2] = {{.fd = dmn_signal_fd(), .events = ZMQ_POLLIN},
					   {.socket = l.sock, .events = ZMQ_POLLIN}};
		long ms = (long)((wait + NS_PER_MS - 1) / NS_PER_MS);
		int n = zmq_poll(items, l.sock ? 2 : 1, ms);
		if (n < 0 && errno != EINTR) {
			log_error("zmq_poll: %s", zmq_strerror(errno));
			break;
		}
		now = clk_mono(&clk_real);
		enum dmn_signal sig = dmn_signal_next();
		if (sig == DMN_SIG_STOP)
			break;
		if (sig == DMN_SIG_RELOAD)
			reload(&l, now);
		if (n > 0 && l.sock && (items[1].revents & ZMQ_POLLIN))
			drain(&l, now);
		tick(&l, now);
		vms_poll(&l, now);
		round_log(&l, now);
		if (l.dirty && l.http) {
			ha_metrics_publish(&l.totals, l.agent, l.conf, l.state == LINK_UP, l.http);
			l.dirty = false;
		}
		dmn_tick();
	}
	log_info("stopping; enforcement stays in force%s",
		 l.vms ? ", the VMs this agent booted are stopped" : "");
	httpd_stop(l.http);
	ha_vms_destroy(l.vms, true);
	close_socket(&l);
	tp_context_destroy(l.zctx);
	ha_agent_destroy(l.agent);
	ha_config_destroy(l.conf);
	return 0;
}
