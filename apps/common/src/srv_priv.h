/* srv_priv.h: what the server core (srv.c) and its two backends share.
 *
 * Design notes (srv__conn_check() asserts 1-4):
 *   1. A connection is open until srv__conn_finish() has called the app's close; after that
 *      it is unlinked and freed, never touched again.
 *   2. owed = bytes received and not yet given back to the transport's flow control; the core
 *      keeps owed == max(0, in.len - in_max) after every event (nomnet: tcp_recved).
 *   3. paused <=> out.len > out_high was seen and out.len has not yet fallen below out_low;
 *      no input is handed to the app while paused or closing.
 *   4. in_app > 0 while the app's input callback for this connection runs; a close or abort
 *      asked meanwhile is carried out when it returns.
 * States: open -> closing (app's srv_close, or the peer finished and all replies are out)
 * -> finished; any state -> finished on abort or when the transport dies. */
#ifndef APP_SRV_PRIV_H
#define APP_SRV_PRIV_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "app/buf.h"
#include "common/plugin.h"
#include "app/srv.h"

/* A transport under the server core; the project's plugin template (common/plugin.h), checked
 * by srv_create through the backends' registry in srv.c. window and update are optional. */
#define SRV_BACKEND_VERSION 1
struct srv_backend {
	/* api_version SRV_BACKEND_VERSION, size sizeof(struct srv_backend), name "nomnet" */
	PLUGIN_HEADER;
	int (*listen)(struct srv *s, uint16_t port);
	int (*run)(struct srv *s);
	void (*stop)(struct srv *s);
	void (*destroy)(struct srv *s);
	/* Hands up to len bytes to TCP; returns how many it took, or -errno when the
	 * connection is broken. */
	long (*write)(struct srv_conn *c, const uint8_t *data, size_t len);
	/* Gives n received bytes back to flow control (may be NULL). */
	void (*window)(struct srv_conn *c, size_t n);
	/* Interest changed (want input, has output): kernel backend re-arms epoll. */
	void (*update)(struct srv_conn *c);
	/* Closes the transport gracefully / at once. The connection is freed by the core. */
	void (*close)(struct srv_conn *c);
	void (*abort)(struct srv_conn *c);
};

struct srv_conn {
	struct srv *s;
	void *tcp;              /* nomnet: struct nomnet_tcp *; kernel: unused */
	int fd;                 /* kernel: the socket */
	void *state;            /* the app's */
	struct buf in, out;
	size_t owed;
	unsigned in_app;
	bool paused;
	bool peer_eof;
	bool closing;           /* close when out is empty */
	bool abort_asked;
	bool finished;
	uint32_t events;        /* kernel: epoll interest armed */
	uint64_t load_token;    /* the load meter's note of the window it was counted in */
	struct srv_conn *prev, *next;
};

struct srv {
	struct srv_config cfg;
	const struct srv_backend *be;
	const struct srv_app_ops *ops;
	void *app;
	struct srv_conn *conns;
	atomic_bool stop;
	_Atomic uint64_t requests;
	_Atomic uint64_t accepted, active, bytes_in, bytes_out;
	/* nomnet backend */
	struct nomnet *net;
	struct nomnet_tcp *listeners[4];
	uint16_t ports[4];
	unsigned nlisteners;
	/* kernel backend */
	int epfd;
	int lfds[4];
	unsigned nlfds;
	int wake_fd;
	/* srv_call on the kernel backend */
	pthread_mutex_t call_mu;
	pthread_cond_t call_cv;
	void (*call_fn)(void *arg);
	void *call_arg;
	uint64_t calls_asked, calls_done;
	bool loop_running;
};

/* Kernel backend: the loop runs a pending srv_call (under call_mu) and marks it done. */
void srv__run_call(struct srv *s);
void srv__loop_running(struct srv *s, bool running);

extern const struct srv_backend srv__nomnet;
extern const struct srv_backend srv__kernel;
int srv__nomnet_create(struct srv *s);
int srv__kernel_create(struct srv *s);

/* Core, called by backends. */
struct srv_conn *srv__conn_new(struct srv *s, void *tcp, int fd);
void srv__conn_data(struct srv_conn *c, const uint8_t *data, size_t len);
void srv__conn_eof(struct srv_conn *c);
void srv__conn_writable(struct srv_conn *c);
void srv__conn_gone(struct srv_conn *c);
bool srv__conn_want_input(const struct srv_conn *c);
void srv__conn_check(const struct srv_conn *c);

#endif
