/* net.h: nomnet, an app's private TCP/IP stack (lwIP) with its own NIC driver and a batching
 * delay it can retune while traffic flows.
 *
 * A nom app owns its network stack (DESIGN.md section 9, thesis section 3.6): lwIP runs inside
 * the app's process over a driver of the project's own (`tap` on /dev/net/tun, `packet` on an
 * AF_PACKET TPACKET_V3 ring, `xdp` on an AF_XDP socket), and one loop thread moves frames
 * between the driver and the stack. The loop batches: received frames are handed to the stack
 * when the batching delay W has passed since the first of them, when the batch reaches its
 * maximum, or when no more frames are pending; transmitted frames wait in the driver's ring
 * until the first of them has waited W or the batch is full. W = 0 is run to completion: each
 * frame goes through the stack and its replies leave at once. W and the mode (busy `poll` or
 * `interrupt`, sleeping in epoll) change at any time, from any thread.
 *
 * The app talks TCP through the callback API below (lwIP's raw API under the core lock; the
 * sequential and socket APIs cost extra thread hops and lwIP fds cannot go into epoll). lwIP
 * keeps its state in globals, so a process holds one stack (nomnet_create() fails with -EBUSY
 * for a second one while the first lives).
 *
 * Threads: the loop thread (nomnet_start) and lwIP's own tcpip thread (timers) both run stack
 * code, each holding the stack lock; every TCP callback therefore runs with the lock held, on
 * one of those two threads, never two at a time. Calls from callbacks need no locking; calls
 * from any other thread go between nomnet_lock() and nomnet_unlock().
 *
 * Units: time in int64 nanoseconds (W included); sizes in bytes. */
#ifndef NOM_NET_H
#define NOM_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nom/net_stats.h"

/* The largest batching delay accepted (the thesis sweeps 0-40 us). */
#define NOMNET_DELAY_MAX_NS INT64_C(1000000)
#define NOMNET_BATCH_MAX 256 /* largest rx/tx batch limit */
/* The largest busy-poll budget accepted. */
#define NOMNET_SPIN_MAX_NS INT64_C(1000000000) /* 1 s */

enum nomnet_mode {
	NOMNET_POLL = 0,      /* the loop busy-polls the ring: microsecond delays are exact */
	NOMNET_INTERRUPT = 1, /* the loop sleeps in epoll while nothing is pending */
};

struct nomnet_config {
	const char *driver;   /* "tap", "packet", "xdp" (and "mem" in tests) */
	const char *ifname;   /* tap: the device to create or attach; packet/xdp: an existing
				 interface, normally one end of a veth pair */
	const char *addr;     /* IPv4 address and prefix, "10.77.0.2/24" */
	const char *gateway;  /* IPv4 default gateway or NULL */
	const char *mac;      /* "02:00:00:00:00:01", or NULL: the interface's own (packet, xdp)
				 or a random locally administered one (tap) */
	int64_t delay_ns;     /* initial batching delay W, 0..NOMNET_DELAY_MAX_NS */
	enum nomnet_mode mode;
	int64_t spin_ns;      /* interrupt mode: busy-poll this long after the last work before
				 sleeping in epoll (hybrid polling), 0..NOMNET_SPIN_MAX_NS; 0:
				 sleep at once */
	unsigned rx_batch;    /* most frames handed to the stack at once (1..NOMNET_BATCH_MAX) */
	unsigned tx_batch;    /* most frames waiting in the ring before a flush */
	unsigned ring_size;   /* driver ring entries (power of two; 0: driver default) */
	const char *xdp_mode; /* xdp: "auto" (native, else generic), "native", "generic" */
	int cpu;              /* pin the loop thread to this CPU; -1: no pinning */
	int rt_priority;      /* run the loop thread SCHED_FIFO at this priority (1-99), so that
				 the client its transmit wakes cannot preempt it inside the kick
				 (docs/nomnet.md, "the tail"); 0: the normal scheduler */
	int nice;             /* the loop thread's nice value (-20..19; 0: unchanged): a low value
				 keeps the normal scheduler (the client it wakes stays on its CPU)
				 but lets the loop win the CPU back at once when preempted */
	const char *stats_name; /* publish statistics as /dev/shm/nomnet.<name>, or NULL */
};

/* Fills cfg with defaults: driver "tap", W = 0, poll mode, batches of 64, no pinning. */
void nomnet_config_init(struct nomnet_config *cfg);

struct nomnet;

/* Opens the driver and brings up lwIP on it (not yet moving frames: see nomnet_start). cfg is
 * borrowed for the call. Returns 0 and *out (owned by the caller, freed by nomnet_destroy), or
 * -EINVAL (bad config; the log says which field), -EBUSY (a stack already exists in this
 * process), -EPERM (no privilege for the driver), -ENODEV (no such interface or driver),
 * -ENOMEM. */
int nomnet_create(const struct nomnet_config *cfg, struct nomnet **out);
/* Stops the loop if running, closes every connection (reset), closes the driver. */
void nomnet_destroy(struct nomnet *n);

/* Starts the loop thread. Returns 0, -EALREADY or -errno from pthread_create. */
int nomnet_start(struct nomnet *n);
/* Stops and joins the loop thread (frames stay in the rings). Idempotent. */
void nomnet_stop(struct nomnet *n);

/* Sets the batching delay W (any thread, any time; takes effect on the loop's next pass).
 * Returns 0 or -EINVAL outside 0..NOMNET_DELAY_MAX_NS. */
int nomnet_set_delay(struct nomnet *n, int64_t delay_ns);
int64_t nomnet_get_delay(const struct nomnet *n);
/* Sets the busy-poll budget (any thread, any time): in interrupt mode the loop keeps polling
 * for spin_ns after its last work before it sleeps, so that a request arriving within the
 * budget finds it awake (no wake-up), at the price of the CPU it burns meanwhile. Returns 0 or
 * -EINVAL outside 0..NOMNET_SPIN_MAX_NS. */
int nomnet_set_spin(struct nomnet *n, int64_t spin_ns);
int64_t nomnet_get_spin(const struct nomnet *n);
/* Switches between busy polling and sleeping in epoll (any thread, any time). */
int nomnet_set_mode(struct nomnet *n, enum nomnet_mode mode);
enum nomnet_mode nomnet_get_mode(const struct nomnet *n);
/* "poll" / "interrupt" <-> mode. parse returns 0 or -EINVAL. */
const char *nomnet_mode_name(enum nomnet_mode mode);
int nomnet_mode_parse(const char *name, enum nomnet_mode *out);

/* Copies the statistics (counters are monotonic; any thread). */
void nomnet_stats_read(const struct nomnet *n, struct nomnet_stats *out);

/* The stack lock, for TCP calls made outside callbacks. Not recursive. */
void nomnet_lock(struct nomnet *n);
void nomnet_unlock(struct nomnet *n);

/* Prepares a kernel interface for a software stack on the other end of the wire: turns off
 * transmit checksum offload, TSO, GSO, GRO and LRO, so that every frame that crosses it is
 * complete and at most MTU-sized. The packet and xdp drivers do this to their own interface;
 * run it (nomnet-ctl ifprep) on the kernel peer of a veth too. Returns 0 or -errno. */
int nomnet_if_prepare(const char *ifname);

/* ---- TCP ---------------------------------------------------------------------------- */

struct nomnet_tcp;

/* What a connection tells its app. Every callback runs with the stack lock held; arg is the
 * value the app gave at accept or connect. Optional callbacks may be NULL. */
struct nomnet_tcp_handler {
	/* A listener accepted conn. Return 0 and set *conn_arg to keep it, or a negative value
	 * to reset it. Required on listeners. */
	int (*accept)(void *listen_arg, struct nomnet_tcp *conn, void **conn_arg);
	/* A connect finished (err 0) or failed (err < 0; the handle is then already gone and
	 * `closed` is not called). Required for nomnet_tcp_connect. */
	void (*connected)(void *arg, struct nomnet_tcp *conn, int err);
	/* In-order bytes arrived; data is borrowed for the call. The receive window reopens only
	 * as the app calls nomnet_tcp_recved(), so an app that cannot keep up stops its peer. */
	void (*recv)(void *arg, struct nomnet_tcp *conn, const void *data, size_t len);
	/* The peer finished sending (FIN). The connection stays open for writing. */
	void (*eof)(void *arg, struct nomnet_tcp *conn);
	/* len bytes were acknowledged: that much more room in the send buffer. */
	void (*sent)(void *arg, struct nomnet_tcp *conn, size_t len);
	/* The connection died (reset by the peer, retransmissions gave up: err < 0). The handle
	 * is freed after this returns. Not called after the app's own close or abort. */
	void (*closed)(void *arg, struct nomnet_tcp *conn, int err);
};

/* Listens on port (all of the stack's addresses). handler is borrowed and must outlive the
 * listener; arg is passed to accept. Returns 0 and *out, or -EADDRINUSE, -ENOMEM. */
int nomnet_tcp_listen(struct nomnet *n, uint16_t port, const struct nomnet_tcp_handler *handler,
		      void *arg, struct nomnet_tcp **out);
/* Connects to ip:port ("10.77.0.1"). `connected` reports the outcome. Returns 0 and *out, or
 * -EINVAL, -ENOMEM. */
int nomnet_tcp_connect(struct nomnet *n, const char *ip, uint16_t port,
		       const struct nomnet_tcp_handler *handler, void *arg,
		       struct nomnet_tcp **out);
/* Copies up to len bytes into the send buffer and queues them for output; *accepted says how
 * many (0 when the buffer is full: wait for `sent`). Returns 0, -ENOTCONN or -ENOMEM. */
int nomnet_tcp_write(struct nomnet_tcp *c, const void *data, size_t len, size_t *accepted);
/* Free room in the send buffer, bytes. */
size_t nomnet_tcp_sndbuf(const struct nomnet_tcp *c);
/* The app consumed len received bytes: reopen the window by that much. */
void nomnet_tcp_recved(struct nomnet_tcp *c, size_t len);
/* Closes gracefully: queued data is still sent, then FIN. The handle is invalid afterwards and
 * no callback runs for it again. Returns 0 (a close the stack could not start at once is
 * retried by the stack). */
int nomnet_tcp_close(struct nomnet_tcp *c);
/* Resets the connection (RST) and frees the handle; no callback runs for it again. */
void nomnet_tcp_abort(struct nomnet_tcp *c);
/* Disables Nagle's algorithm (on by default for accepted and connected handles: request and
 * response traffic wants each reply out at once). */
void nomnet_tcp_nodelay(struct nomnet_tcp *c, bool on);
/* "a.b.c.d:port" of the remote end into buf. */
char *nomnet_tcp_peer(const struct nomnet_tcp *c, char *buf, size_t len);

#endif
