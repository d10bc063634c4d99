/* stack.c: nomnet's life cycle: lwIP bring-up, the netif over a driver, the knobs, the lock.
 *
 * lwIP (Debian's liblwip 2.1.3, the GNU Hurd build: NO_SYS=0 with core locking, options baked
 * into the .so, so its lwipopts.h is used unchanged) is started once per process with
 * tcpip_init(); its tcpip thread then runs the stack's timers. Received frames do not go
 * through tcpip_input()'s mailbox: the loop calls the netif's input function itself with the
 * core lock held, so a whole batch crosses into the stack under one lock acquisition and no
 * thread hop. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <lwip/etharp.h>
#include <lwip/init.h>
#include <lwip/netif.h>
#include <lwip/tcpip.h>
#include <netif/ethernet.h>

#include "common/log.h"
#include "stack.h"

struct nomnet *nomnet__current;
static pthread_mutex_t current_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t lwip_once = PTHREAD_ONCE_INIT;
static sem_t lwip_ready;

void nomnet_config_init(struct nomnet_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->driver = "tap";
	cfg->addr = "10.77.0.2/24";
	cfg->delay_ns = 0;
	cfg->mode = NOMNET_POLL;
	cfg->rx_batch = 64;
	cfg->tx_batch = 64;
	cfg->xdp_mode = "auto";
	cfg->cpu = -1;
}

static void lwip_started(void *arg)
{
	sem_post(arg);
}

static void lwip_start(void)
{
	sem_init(&lwip_ready, 0, 0);
	tcpip_init(lwip_started, &lwip_ready);
	while (sem_wait(&lwip_ready) != 0 && errno == EINTR)
		;
}

static int copy_str(char *dst, size_t cap, const char *src, const char *what)
{
	if (!src) {
		dst[0] = '\0';
		return 0;
	}
	if (strlen(src) >= cap) {
		log_error("nomnet: %s \"%s\" is too long (max %zu)", what, src, cap - 1);
		return -EINVAL;
	}
	strcpy(dst, src);
	return 0;
}

/* "10.77.0.2/24" -> address and netmask (network order). */
static int parse_cidr(const char *text, ip4_addr_t *ip, ip4_addr_t *mask)
{
	char buf[64];
	char *slash, *end;
	long prefix = 32;
	struct in_addr a;

	if (!text || strlen(text) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, text);
	slash = strchr(buf, '/');
	if (slash) {
		*slash = '\0';
		errno = 0;
		prefix = strtol(slash + 1, &end, 10);
		if (errno || *end || end == slash + 1 || prefix < 1 || prefix > 32)
			return -EINVAL;
	}
	if (inet_pton(AF_INET, buf, &a) != 1)
		return -EINVAL;
	ip->addr = a.s_addr;
	mask->addr = htonl(prefix == 32 ? 0xffffffffu : ~(0xffffffffu >> prefix));
	return 0;
}

static err_t netif_setup(struct netif *netif)
{
	struct nomnet *n = netif->state;

	netif->name[0] = 'n';
	netif->name[1] = 'm';
	netif->output = etharp_output;
	netif->linkoutput = nomnet__linkoutput;
	netif->mtu = (u16_t)n->drv.mtu;
	netif->hwaddr_len = 6;
	memcpy(netif->hwaddr, n->drv.mac, 6);
	netif->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP | NETIF_FLAG_ETHERNET;
	return ERR_OK;
}

static int check_config(const struct nomnet_config *cfg)
{
	if (cfg->delay_ns < 0 || cfg->delay_ns > NOMNET_DELAY_MAX_NS) {
		log_error("nomnet: delay %lld ns outside 0..%lld", (long long)cfg->delay_ns,
			  (long long)NOMNET_DELAY_MAX_NS);
		return -EINVAL;
	}
	if (cfg->spin_ns < 0 || cfg->spin_ns > NOMNET_SPIN_MAX_NS) {
		log_error("nomnet: spin budget %lld ns outside 0..%lld", (long long)cfg->spin_ns,
			  (long long)NOMNET_SPIN_MAX_NS);
		return -EINVAL;
	}
	if (cfg->nice < -20 || cfg->nice > 19) {
		log_error("nomnet: nice %d outside -20..19", cfg->nice);
		return -EINVAL;
	}
	if (cfg->rt_priority < 0 || cfg->rt_priority > 99) {
		log_error("nomnet: real-time priority %d outside 0..99", cfg->rt_priority);
		return -EINVAL;
	}
	if (cfg->mode != NOMNET_POLL && cfg->mode != NOMNET_INTERRUPT) {
		log_error("nomnet: unknown mode %d", (int)cfg->mode);
		return -EINVAL;
	}
	if (cfg->rx_batch < 1 || cfg->rx_batch > NOMNET_BATCH_MAX || cfg->tx_batch < 1 ||
	    cfg->tx_batch > NOMNET_BATCH_MAX) {
		log_error("nomnet: batch limits rx %u tx %u outside 1..%d", cfg->rx_batch,
			  cfg->tx_batch, NOMNET_BATCH_MAX);
		return -EINVAL;
	}
	if (cfg->ring_size && (cfg->ring_size & (cfg->ring_size - 1))) {
		log_error("nomnet: ring size %u is not a power of two", cfg->ring_size);
		return -EINVAL;
	}
	return 0;
}

static int copy_config(struct nomnet *n, const struct nomnet_config *cfg)
{
	int rc = 0;

	n->cfg = *cfg;
	rc |= copy_str(n->driver_name, sizeof(n->driver_name), cfg->driver, "driver");
	rc |= copy_str(n->ifname, sizeof(n->ifname), cfg->ifname, "interface name");
	rc |= copy_str(n->addr, sizeof(n->addr), cfg->addr, "address");
	rc |= copy_str(n->gateway, sizeof(n->gateway), cfg->gateway, "gateway");
	rc |= copy_str(n->mac_text, sizeof(n->mac_text), cfg->mac, "MAC address");
	rc |= copy_str(n->xdp_mode, sizeof(n->xdp_mode), cfg->xdp_mode ? cfg->xdp_mode : "auto",
		       "xdp mode");
	rc |= copy_str(n->stats_name, sizeof(n->stats_name), cfg->stats_name, "stats name");
	if (rc)
		return -EINVAL;
	n->cfg.driver = n->driver_name;
	n->cfg.ifname = n->ifname[0] ? n->ifname : NULL;
	n->cfg.addr = n->addr;
	n->cfg.gateway = n->gateway[0] ? n->gateway : NULL;
	n->cfg.mac = n->mac_text[0] ? n->mac_text : NULL;
	n->cfg.xdp_mode = n->xdp_mode;
	n->cfg.stats_name = n->stats_name[0] ? n->stats_name : NULL;
	return 0;
}

static int open_events(struct nomnet *n)
{
	struct epoll_event ev = {.events = EPOLLIN};

	n->epfd = epoll_create1(EPOLL_CLOEXEC);
	n->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (n->epfd < 0 || n->evfd < 0)
		return -errno;
	ev.data.fd = n->evfd;
	if (epoll_ctl(n->epfd, EPOLL_CTL_ADD, n->evfd, &ev) < 0)
		return -errno;
	if (n->drv.fd >= 0) {
		ev.data.fd = n->drv.fd;
		if (epoll_ctl(n->epfd, EPOLL_CTL_ADD, n->drv.fd, &ev) < 0)
			return -errno;
	}
	return 0;
}

int nomnet_create(const struct nomnet_config *cfg, struct nomnet **out)
{
	const struct nomnet_driver *ops;
	struct nomnet *n;
	ip4_addr_t ip, mask, gw;
	int rc;

	if (!cfg || !out)
		return -EINVAL;
	rc = check_config(cfg);
	if (rc < 0)
		return rc;
	ops = nomnet__driver_find(cfg->driver);
	if (!ops) {
		log_error("nomnet: unknown driver \"%s\" (tap, packet, xdp)",
			  cfg->driver ? cfg->driver : "");
		return -ENODEV;
	}
	if (parse_cidr(cfg->addr, &ip, &mask) < 0) {
		log_error("nomnet: bad address \"%s\" (want a.b.c.d/prefix)",
			  cfg->addr ? cfg->addr : "");
		return -EINVAL;
	}
	gw.addr = 0;
	if (cfg->gateway) {
		struct in_addr a;

		if (inet_pton(AF_INET, cfg->gateway, &a) != 1) {
			log_error("nomnet: bad gateway \"%s\"", cfg->gateway);
			return -EINVAL;
		}
		gw.addr = a.s_addr;
	}

	pthread_mutex_lock(&current_lock);
	if (nomnet__current) {
		pthread_mutex_unlock(&current_lock);
		return -EBUSY;
	}
	n = calloc(1, sizeof(*n));
	if (!n) {
		pthread_mutex_unlock(&current_lock);
		return -ENOMEM;
	}
	nomnet__current = n;
	pthread_mutex_unlock(&current_lock);

	n->epfd = n->evfd = -1;
	n->stats = &n->local;
	pthread_mutex_init(&n->tx_lock, NULL);
	rc = copy_config(n, cfg);
	if (rc < 0)
		goto fail;
	atomic_store(&n->delay_ns, cfg->delay_ns);
	atomic_store(&n->mode, (int)cfg->mode);
	atomic_store(&n->spin_ns, cfg->spin_ns);
	n->sched_fd = -1;

	rc = nomnet__drv_open(&n->drv, ops, &n->cfg);
	if (rc < 0) {
		log_error("nomnet: driver %s on %s: %s", ops->name,
			  n->cfg.ifname ? n->cfg.ifname : "(new)", strerror(-rc));
		goto fail;
	}
	if (n->cfg.mac && nomnet__mac_parse(n->cfg.mac, n->drv.mac) < 0) {
		log_error("nomnet: bad MAC address \"%s\"", n->cfg.mac);
		rc = -EINVAL;
		goto fail;
	}
	rc = nomnet__stats_open(n);
	if (rc < 0)
		goto fail;
	NOMNET_STAT_SET(n, delay_ns, cfg->delay_ns);
	NOMNET_STAT_SET(n, mode, (int64_t)cfg->mode);
	NOMNET_STAT_SET(n, spin_ns, cfg->spin_ns);
	rc = open_events(n);
	if (rc < 0)
		goto fail;

	pthread_once(&lwip_once, lwip_start);
	LOCK_TCPIP_CORE();
	if (!netif_add(&n->netif, &ip, &mask, &gw, n, netif_setup, ethernet_input)) {
		UNLOCK_TCPIP_CORE();
		log_error("nomnet: lwIP refused the interface");
		rc = -ENOMEM;
		goto fail;
	}
	n->netif_added = true;
	netif_set_default(&n->netif);
	netif_set_link_up(&n->netif);
	netif_set_up(&n->netif);
	UNLOCK_TCPIP_CORE();
	log_info("nomnet: %s on %s, %s, delay %lld ns, %s mode", ops->name, n->drv.ifname,
		 n->addr, (long long)cfg->delay_ns, nomnet_mode_name(cfg->mode));
	*out = n;
	return 0;

fail:
	nomnet_destroy(n);
	return rc;
}

void nomnet_destroy(struct nomnet *n)
{
	if (!n)
		return;
	nomnet_stop(n);
	if (n->netif_added) {
		LOCK_TCPIP_CORE();
		nomnet__tcp_abort_all(n);
		netif_set_down(&n->netif);
		netif_remove(&n->netif);
		UNLOCK_TCPIP_CORE();
		n->netif_added = false;
	}
	for (unsigned i = 0; i < n->rx_count; i++)
		pbuf_free(n->rx_batch[i]);
	n->rx_count = 0;
	pthread_mutex_lock(&n->tx_lock);
	nomnet__tx_flush_locked(n, NOMNET_HOLD);
	pthread_mutex_unlock(&n->tx_lock);
	nomnet__drv_close(&n->drv);
	if (n->epfd >= 0)
		close(n->epfd);
	if (n->evfd >= 0)
		close(n->evfd);
	nomnet__stats_close(n);
	pthread_mutex_destroy(&n->tx_lock);
	pthread_mutex_lock(&current_lock);
	if (nomnet__current == n)
		nomnet__current = NULL;
	pthread_mutex_unlock(&current_lock);
	free(n);
}

int nomnet_start(struct nomnet *n)
{
	int rc;

	if (n->running)
		return -EALREADY;
	atomic_store(&n->stop, false);
	rc = pthread_create(&n->thread, NULL, nomnet__loop_main, n);
	if (rc != 0)
		return -rc;
	n->running = true;
	return 0;
}

void nomnet_stop(struct nomnet *n)
{
	if (!n->running)
		return;
	atomic_store(&n->stop, true);
	nomnet__loop_wake(n);
	pthread_join(n->thread, NULL);
	n->running = false;
}

int nomnet_set_delay(struct nomnet *n, int64_t delay_ns)
{
	if (delay_ns < 0 || delay_ns > NOMNET_DELAY_MAX_NS)
		return -EINVAL;
	if (atomic_exchange(&n->delay_ns, delay_ns) != delay_ns) {
		__atomic_fetch_add(&n->stats->delay_changes, 1, __ATOMIC_RELAXED);
		NOMNET_STAT_SET(n, delay_ns, delay_ns);
	}
	return 0;
}

int nomnet_set_spin(struct nomnet *n, int64_t spin_ns)
{
	if (spin_ns < 0 || spin_ns > NOMNET_SPIN_MAX_NS)
		return -EINVAL;
	if (atomic_exchange(&n->spin_ns, spin_ns) != spin_ns) {
		__atomic_fetch_add(&n->stats->spin_changes, 1, __ATOMIC_RELAXED);
		NOMNET_STAT_SET(n, spin_ns, spin_ns);
	}
	return 0;
}

int64_t nomnet_get_spin(const struct nomnet *n)
{
	return atomic_load(&((struct nomnet *)n)->spin_ns);
}

int64_t nomnet_get_delay(const struct nomnet *n)
{
	return atomic_load(&((struct nomnet *)n)->delay_ns);
}

int nomnet_set_mode(struct nomnet *n, enum nomnet_mode mode)
{
	if (mode != NOMNET_POLL && mode != NOMNET_INTERRUPT)
		return -EINVAL;
	if (atomic_exchange(&n->mode, (int)mode) != (int)mode) {
		__atomic_fetch_add(&n->stats->mode_changes, 1, __ATOMIC_RELAXED);
		NOMNET_STAT_SET(n, mode, (int64_t)mode);
		nomnet__loop_wake(n);
	}
	return 0;
}

enum nomnet_mode nomnet_get_mode(const struct nomnet *n)
{
	return (enum nomnet_mode)atomic_load(&((struct nomnet *)n)->mode);
}

const char *nomnet_mode_name(enum nomnet_mode mode)
{
	return mode == NOMNET_INTERRUPT ? "interrupt" : "poll";
}

int nomnet_mode_parse(const char *name, enum nomnet_mode *out)
{
	if (name && strcmp(name, "poll") == 0)
		*out = NOMNET_POLL;
	else if (name && strcmp(name, "interrupt") == 0)
		*out = NOMNET_INTERRUPT;
	else
		return -EINVAL;
	return 0;
}

void nomnet_lock(struct nomnet *n)
{
	(void)n;
	LOCK_TCPIP_CORE();
}

void nomnet_unlock(struct nomnet *n)
{
	(void)n;
	UNLOCK_TCPIP_CORE();
}

#define CHECK(cond) \
	do { \
		if (!(cond)) { \
			fprintf(stderr, "nomnet__check: %s:%d: %s\n", __FILE__, __LINE__, #cond); \
			abort(); \
		} \
	} while (0)

void nomnet__check(struct nomnet *n)
{
	CHECK(nomnet__current == n);
	CHECK(n->rx_count <= NOMNET_BATCH_MAX);
	for (unsigned i = 0; i < n->rx_count; i++)
		CHECK(n->rx_batch[i] != NULL);
	pthread_mutex_lock(&n->tx_lock);
	CHECK(atomic_load(&n->tx_count) <= n->cfg.tx_batch);
	pthread_mutex_unlock(&n->tx_lock);
	LOCK_TCPIP_CORE();
	CHECK(!n->netif_added || (n->netif.state == n && netif_is_up(&n->netif)));
	CHECK(n->ack_list == NULL); /* emptied at the end of every batch */
	UNLOCK_TCPIP_CORE();
	CHECK(atomic_load(&n->delay_ns) >= 0 && atomic_load(&n->delay_ns) <= NOMNET_DELAY_MAX_NS);
}
