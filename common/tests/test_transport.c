/* test_transport.c: key files, CURVE + ZAP identity, framing and bounds, PUB/SUB, retry.
 *
 * A small echo server runs in a thread on loopback (random port): it answers each request
 * with a Reply whose hello.tenant is the ZAP identity libzmq attached to the message, and
 * each bad message with an Error naming what was wrong. The main thread plays the clients. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#include "common/clock.h"
#include "common/error.h"
#include "common/log.h"
#include "common/transport.h"
#include "test.h"

static char tmpdir[256];

static void cleanup(void)
{
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", tmpdir);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	ASSERT_TRUE(f != NULL);
	fputs(text, f);
	fclose(f);
}

static void test_keys(void)
{
	struct tp_keypair kp, back;
	char path[512], pub[TP_KEY_Z85_LEN + 1], why[256];
	struct stat st;

	ASSERT_OK(tp_keypair_generate(&kp));
	ASSERT_TRUE(tp_key_valid(kp.public_key));
	ASSERT_TRUE(tp_key_valid(kp.secret_key));
	ASSERT_TRUE(!tp_key_valid("short"));

	snprintf(path, sizeof(path), "%s/keys", tmpdir);
	ASSERT_OK(tp_key_save(path, "alice", &kp, false));
	ASSERT_EQ(tp_key_save(path, "alice", &kp, false), -EEXIST);
	ASSERT_EQ(tp_key_save(path, "../evil", &kp, false), -EINVAL);

	snprintf(path, sizeof(path), "%s/keys/alice.key", tmpdir);
	ASSERT_OK(stat(path, &st));
	ASSERT_EQ(st.st_mode & 0777, 0600);
	ASSERT_OK(tp_key_load_pair(path, &back, why, sizeof(why)));
	ASSERT_STR_EQ(back.public_key, kp.public_key);
	ASSERT_STR_EQ(back.secret_key, kp.secret_key);
	ASSERT_OK(tp_key_load_public(path, pub, why, sizeof(why)));
	ASSERT_STR_EQ(pub, kp.public_key);

	snprintf(path, sizeof(path), "%s/keys/alice.pub", tmpdir);
	ASSERT_OK(tp_key_load_public(path, pub, why, sizeof(why)));
	ASSERT_STR_EQ(pub, kp.public_key);
	/* A .pub file is not a key pair. */
	ASSERT_EQ(tp_key_load_pair(path, &back, why, sizeof(why)), -RAAS_EPARSE);
	ASSERT_STR_CONTAINS(why, "no secret key");

	/* Errors name the file and line. */
	snprintf(path, sizeof(path), "%s/bad.pub", tmpdir);
	write_file(path, "# comment\npublic = tooshort\n");
	ASSERT_EQ(tp_key_load_public(path, pub, why, sizeof(why)), -RAAS_EPARSE);
	ASSERT_STR_CONTAINS(why, "bad.pub:2: public key is not 40 z85 characters");
	write_file(path, "\nkey = x\n");
	ASSERT_EQ(tp_key_load_public(path, pub, why, sizeof(why)), -RAAS_EPARSE);
	ASSERT_STR_CONTAINS(why, ":2: unknown field \"key\"");

	struct tp_keypair other;
	char text[256];
	ASSERT_OK(tp_keypair_generate(&other));
	snprintf(text, sizeof(text), "public = %s\nsecret = %s\n", other.public_key,
		 kp.secret_key);
	ASSERT_EQ(tp_key_parse(text, strlen(text), "mixed.key", true, &back, why, sizeof(why)),
		  -RAAS_EPARSE);
	ASSERT_STR_CONTAINS(why, "do not belong together");

	snprintf(path, sizeof(path), "%s/missing.key", tmpdir);
	ASSERT_EQ(tp_key_load_pair(path, &back, why, sizeof(why)), -ENOENT);
	ASSERT_STR_CONTAINS(why, "missing.key");
}

/* ---- Echo server ---- */

struct server {
	void *ctx;
	struct tp_keypair key;
	char known_public[TP_KEY_Z85_LEN + 1];
	char endpoint[256];
	void *router;
	struct tp_zap *zap;
	volatile int stop;
	int received; /* valid requests */
	int errors;   /* bad messages answered */
	pthread_t thread;
};

static int lookup(void *arg, const char *domain, const char *key, char *id, size_t len)
{
	struct server *s = arg;

	if (strcmp(domain, "tenant") == 0 && strcmp(key, s->known_public) == 0) {
		snprintf(id, len, "tenant:alice");
		return 0;
	}
	return -ENOENT;
}

static void reply_error(void *sock, const struct tp_route *route, uint64_t rid,
			Raas__ErrorCode code, const char *why)
{
	Raas__Envelope e;
	Raas__Reply r = RAAS__REPLY__INIT;
	Raas__Error err = RAAS__ERROR__INIT;

	wire_envelope_init(&e, rid);
	err.code = code;
	err.message = (char *)why;
	r.error = &err;
	e.body_case = RAAS__ENVELOPE__BODY_REPLY;
	e.reply = &r;
	tp_send(sock, route, &e, ZMQ_DONTWAIT);
}

static void *server_main(void *arg)
{
	struct server *s = arg;

	while (!s->stop) {
		zmq_pollitem_t items[2] = {
			{.socket = tp_zap_socket(s->zap), .events = ZMQ_POLLIN},
			{.socket = s->router, .events = ZMQ_POLLIN},
		};
		if (zmq_poll(items, 2, 10) <= 0)
			continue;
		tp_zap_handle(s->zap);
		for (;;) {
			struct tp_msg m;
			char why[256];
			int err = tp_recv(s->router, ZMQ_DONTWAIT, 1024, &m, why, sizeof(why));
			if (err == -EAGAIN)
				break;
			if (err) {
				Raas__ErrorCode code = err == -RAAS_ETOOBIG	 ? RAAS__ERROR_CODE__ERROR_TOO_BIG
						       : err == -RAAS_EVERSION ? RAAS__ERROR_CODE__ERROR_VERSION
									       : RAAS__ERROR_CODE__ERROR_MALFORMED;
				char text[400];
				snprintf(text, sizeof(text), "%s (from %s)", why, m.user_id);
				/* Count before replying: the client reads the count after the reply. */
				__atomic_add_fetch(&s->errors, 1, __ATOMIC_SEQ_CST);
				reply_error(s->router, &m.route, 0, code, text);
				continue;
			}
			Raas__Envelope e;
			Raas__Reply r = RAAS__REPLY__INIT;
			Raas__HelloReply h = RAAS__HELLO_REPLY__INIT;
			wire_envelope_init(&e, m.env->request_id);
			h.tenant = m.user_id;
			r.result_case = RAAS__REPLY__RESULT_HELLO;
			r.hello = &h;
			e.body_case = RAAS__ENVELOPE__BODY_REPLY;
			e.reply = &r;
			__atomic_add_fetch(&s->received, 1, __ATOMIC_SEQ_CST);
			tp_send(s->router, &m.route, &e, ZMQ_DONTWAIT);
			tp_msg_clear(&m);
		}
	}
	return NULL;
}

static void server_start(struct server *s, void *ctx)
{
	memset(s, 0, sizeof(*s));
	s->ctx = ctx;
	ASSERT_OK(tp_keypair_generate(&s->key));
	ASSERT_OK(tp_zap_create(ctx, lookup, s, &s->zap));
	ASSERT_OK(tp_bind(ctx, ZMQ_ROUTER, "tcp://127.0.0.1:*", &s->key, "tenant", &s->router,
			  s->endpoint, sizeof(s->endpoint)));
	ASSERT_TRUE(strncmp(s->endpoint, "tcp://127.0.0.1:", 16) == 0);
	ASSERT_OK(pthread_create(&s->thread, NULL, server_main, s));
}

static void server_stop(struct server *s)
{
	s->stop = 1;
	pthread_join(s->thread, NULL);
	tp_close(s->router);
	tp_zap_destroy(s->zap);
}

static void hello_envelope(Raas__Envelope *e, Raas__Hello *h, uint64_t rid)
{
	wire_envelope_init(e, rid);
	raas__hello__init(h);
	h->client = "test_transport";
	e->body_case = RAAS__ENVELOPE__BODY_HELLO;
	e->hello = h;
}

static void test_identity_and_errors(void *ctx, struct server *s)
{
	struct tp_keypair alice;
	void *dealer;
	Raas__Envelope e, *reply;
	Raas__Hello h;

	ASSERT_OK(tp_keypair_generate(&alice));
	memcpy(s->known_public, alice.public_key, sizeof(s->known_public));
	ASSERT_OK(tp_connect(ctx, ZMQ_DEALER, s->endpoint, &alice, s->key.public_key, &dealer));

	hello_envelope(&e, &h, 41);
	/* The request goes out when the handshake completes, not after a retry interval: with
	 * a 5 s retry a reply within 1 s proves it. */
	struct tp_call_timing timing;
	int64_t t0 = clk_mono(&clk_real);
	ASSERT_OK(tp_call_timed(ctx, dealer, &e, 5 * NS_PER_S, 10 * NS_PER_S, WIRE_MAX_BYTES,
				NULL, NULL, &reply, &timing));
	ASSERT_LT(clk_mono(&clk_real) - t0, NS_PER_S);
	ASSERT_EQ(timing.tries, 1);
	ASSERT_GE(timing.reply_ns, 0);
	ASSERT_EQ(reply->request_id, 41);
	ASSERT_EQ(reply->reply->result_case, RAAS__REPLY__RESULT_HELLO);
	/* The server learned who we are from the key, not from the message. */
	ASSERT_STR_EQ(reply->reply->hello->tenant, "tenant:alice");
	wire_free(reply);

	/* Raw bad messages: each gets an error reply naming the problem and the sender. */
	struct {
		const void *data;
		size_t len;
		int frames;
		Raas__ErrorCode code;
		const char *text;
	} bad[] = {
		{"\xff\xff\xff garbage", 12, 1, RAAS__ERROR_CODE__ERROR_MALFORMED, "do not decode"},
		{"", 0, 1, RAAS__ERROR_CODE__ERROR_MALFORMED, "empty message"},
		{"\x08\x01", 2, 2, RAAS__ERROR_CODE__ERROR_MALFORMED, "one payload frame expected"},
		/* version 2, hello body */
		{"\x08\x02\x52\x00", 4, 1, RAAS__ERROR_CODE__ERROR_VERSION, "protocol version 2"},
		{NULL, 2000, 1, RAAS__ERROR_CODE__ERROR_TOO_BIG, "over the 1024-byte bound"},
	};
	char big[2000];
	memset(big, 'x', sizeof(big));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const void *data = bad[i].data ? bad[i].data : big;
		for (int f = 0; f < bad[i].frames; f++)
			ASSERT_TRUE(zmq_send(dealer, data, bad[i].len,
					     f + 1 < bad[i].frames ? ZMQ_SNDMORE : 0) >= 0);
		zmq_pollitem_t item = {.socket = dealer, .events = ZMQ_POLLIN};
		ASSERT_EQ(zmq_poll(&item, 1, 10000), 1);
		struct tp_msg m;
		char why[256];
		ASSERT_OK(tp_recv(dealer, 0, WIRE_MAX_BYTES, &m, why, sizeof(why)));
		ASSERT_EQ(m.env->body_case, RAAS__ENVELOPE__BODY_REPLY);
		ASSERT_TRUE(m.env->reply->error != NULL);
		if ((int)m.env->reply->error->code != (int)bad[i].code)
			TEST_FAIL("case %zu: code %d, want %d (%s)", i, m.env->reply->error->code,
				  bad[i].code, m.env->reply->error->message);
		ASSERT_STR_CONTAINS(m.env->reply->error->message, bad[i].text);
		ASSERT_STR_CONTAINS(m.env->reply->error->message, "tenant:alice");
		tp_msg_clear(&m);
	}
	ASSERT_EQ(__atomic_load_n(&s->errors, __ATOMIC_SEQ_CST), 5);

	/* The server is still answering. */
	hello_envelope(&e, &h, 42);
	ASSERT_OK(tp_call(NULL, dealer, &e, 500 * NS_PER_MS, 10 * NS_PER_S, WIRE_MAX_BYTES, NULL,
			  NULL, &reply));
	ASSERT_EQ(reply->request_id, 42);
	wire_free(reply);
	tp_close(dealer);
}

static void test_unknown_key(void *ctx, struct server *s)
{
	struct tp_keypair mallory;
	void *dealer;
	Raas__Envelope e, *reply = NULL;
	Raas__Hello h;
	int before = __atomic_load_n(&s->received, __ATOMIC_SEQ_CST);
	/* The refusals' log lines, counted below. */
	FILE *logf = tmpfile();
	log_set_sink(logf);
	log_set_level(LOG_WARN);

	ASSERT_OK(tp_keypair_generate(&mallory));
	void *mon;
	ASSERT_OK(tp_connect_monitored(ctx, ZMQ_DEALER, s->endpoint, &mallory, s->key.public_key,
				       &dealer, &mon));
	hello_envelope(&e, &h, 7);
	int err = tp_call_on(dealer, mon, &e, 200 * NS_PER_MS, 3 * NS_PER_S, WIRE_MAX_BYTES, NULL,
			     NULL, &reply, NULL);
	ASSERT_EQ(err, -EACCES);
	tp_monitor_stop(dealer, mon);
	ASSERT_TRUE(reply == NULL);
	ASSERT_EQ(__atomic_load_n(&s->received, __ATOMIC_SEQ_CST), before);
	struct tp_zap_stats st;
	tp_zap_get_stats(s->zap, &st);
	ASSERT_GE(st.denied, 1);
	tp_close(dealer);

	/* Ten more unknown keys within the minute: refused, and not one log line each (a key
	 * scan must not fill the disk): mallory's refusal above wrote the minute's line. */
	uint64_t denied0 = st.denied;
	for (int i = 0; i < 10; i++) {
		struct tp_keypair k;
		ASSERT_OK(tp_keypair_generate(&k));
		ASSERT_OK(tp_connect_monitored(ctx, ZMQ_DEALER, s->endpoint, &k,
					       s->key.public_key, &dealer, &mon));
		err = tp_call_on(dealer, mon, &e, 200 * NS_PER_MS, 3 * NS_PER_S, WIRE_MAX_BYTES,
				 NULL, NULL, &reply, NULL);
		ASSERT_EQ(err, -EACCES);
		tp_monitor_stop(dealer, mon);
		tp_close(dealer);
	}
	tp_zap_get_stats(s->zap, &st);
	ASSERT_GE(st.denied - denied0, 10);
	fflush(logf);
	rewind(logf);
	char line[1024];
	int zap_lines = 0;
	while (fgets(line, sizeof(line), logf))
		zap_lines += strstr(line, "zap: refused") != NULL;
	log_set_sink(stderr);
	log_set_level(LOG_ERROR);
	fclose(logf);
	ASSERT_EQ(zap_lines, 1);
	printf("zap: %llu more refused handshakes, %d log lines\n",
	       (unsigned long long)(st.denied - denied0), zap_lines);

	/* A client with the wrong server key never gets through either. */
	struct tp_keypair wrong;
	ASSERT_OK(tp_keypair_generate(&wrong));
	ASSERT_OK(tp_connect(ctx, ZMQ_DEALER, s->endpoint, &mallory, wrong.public_key, &dealer));
	err = tp_call(NULL, dealer, &e, 200 * NS_PER_MS, 1 * NS_PER_S, WIRE_MAX_BYTES, NULL,
		      NULL, &reply);
	ASSERT_EQ(err, -ETIMEDOUT);
	ASSERT_EQ(__atomic_load_n(&s->received, __ATOMIC_SEQ_CST), before);
	tp_close(dealer);
	/* With a monitor the wrong server key is told apart from silence, and soon. */
	ASSERT_OK(tp_connect_monitored(ctx, ZMQ_DEALER, s->endpoint, &mallory, wrong.public_key,
				       &dealer, &mon));
	int64_t t0 = clk_mono(&clk_real);
	err = tp_call_on(dealer, mon, &e, 200 * NS_PER_MS, 5 * NS_PER_S, WIRE_MAX_BYTES, NULL, NULL,
			 &reply, NULL);
	ASSERT_EQ(err, -EKEYREJECTED);
	tp_monitor_stop(dealer, mon);
	ASSERT_LT(clk_mono(&clk_real) - t0, 3 * NS_PER_S);
	ASSERT_EQ(__atomic_load_n(&s->received, __ATOMIC_SEQ_CST), before);
	tp_close(dealer);
	/* Nobody listening: a timeout, not a key problem. */
	struct tp_keypair nobody;
	ASSERT_OK(tp_keypair_generate(&nobody));
	ASSERT_OK(tp_connect(ctx, ZMQ_DEALER, "tcp://127.0.0.1:1", &mallory, nobody.public_key,
			     &dealer));
	err = tp_call(ctx, dealer, &e, 200 * NS_PER_MS, 500 * NS_PER_MS, WIRE_MAX_BYTES, NULL,
		      NULL, &reply);
	ASSERT_EQ(err, -ETIMEDOUT);
	tp_close(dealer);

	/* No unauthenticated TCP endpoints. */
	void *sock;
	ASSERT_EQ(tp_bind(ctx, ZMQ_ROUTER, "tcp://127.0.0.1:*", NULL, NULL, &sock, NULL, 0),
		  -EINVAL);
}

static void test_pubsub(void *ctx)
{
	struct server s = {0};
	struct tp_keypair sub_key;
	void *pub, *sub;
	char ep[256];

	/* The subscriber's key must be known to the ZAP handler (domain "prices"). */
	ASSERT_OK(tp_keypair_generate(&s.key));
	ASSERT_OK(tp_keypair_generate(&sub_key));
	memcpy(s.known_public, sub_key.public_key, sizeof(s.known_public));
	ASSERT_OK(tp_zap_create(ctx, lookup, &s, &s.zap));
	ASSERT_OK(tp_bind(ctx, ZMQ_PUB, "tcp://127.0.0.1:*", &s.key, "tenant", &pub, ep,
			  sizeof(ep)));
	ASSERT_OK(tp_connect(ctx, ZMQ_SUB, ep, &sub_key, s.key.public_key, &sub));
	ASSERT_OK(tp_subscribe(sub, "price/bandwidth/"));

	Raas__Envelope e;
	Raas__PriceUpdate p = RAAS__PRICE_UPDATE__INIT;
	wire_envelope_init(&e, 0);
	p.round = 9;
	p.resource = RAAS__RESOURCE__RESOURCE_BANDWIDTH;
	p.host = "h1";
	p.unit_price = 123456;
	e.body_case = RAAS__ENVELOPE__BODY_PRICE;
	e.price = &p;

	/* PUB/SUB joins late: publish until the first message arrives. */
	int64_t deadline = clk_mono(&clk_real) + 10 * NS_PER_S;
	bool got = false;
	while (!got && clk_mono(&clk_real) < deadline) {
		tp_zap_handle(s.zap);
		ASSERT_OK(tp_publish(pub, "price/cores/h1", &e)); /* not subscribed: filtered */
		ASSERT_OK(tp_publish(pub, "price/bandwidth/h1", &e));
		zmq_pollitem_t item = {.socket = sub, .events = ZMQ_POLLIN};
		if (zmq_poll(&item, 1, 20) == 1) {
			struct tp_msg m;
			char why[256];
			ASSERT_OK(tp_recv(sub, 0, WIRE_MAX_BYTES, &m, why, sizeof(why)));
			ASSERT_STR_EQ(m.topic, "price/bandwidth/h1");
			ASSERT_EQ(m.env->price->unit_price, 123456);
			ASSERT_EQ(m.env->price->round, 9);
			tp_msg_clear(&m);
			got = true;
		}
	}
	ASSERT_TRUE(got);
	tp_close(sub);
	tp_close(pub);
	tp_zap_destroy(s.zap);
}

int main(void)
{
	log_init("test_transport", LOG_ERROR, false);
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/common-transport-%ld", (long)getpid());
	ASSERT_OK(mkdir(tmpdir, 0700));
	atexit(cleanup);

	test_keys();

	void *ctx = tp_context_create(0, 1);
	ASSERT_TRUE(ctx != NULL);
	struct server s;
	server_start(&s, ctx);
	test_identity_and_errors(ctx, &s);
	test_unknown_key(ctx, &s);
	server_stop(&s);
	tp_context_destroy(ctx);

	/* A context of its own: a ZAP handler is bound once per context. */
	ctx = tp_context_create(0, 1);
	ASSERT_TRUE(ctx != NULL);
	test_pubsub(ctx);
	tp_context_destroy(ctx);
	printf("test_transport: ok\n");
	return 0;
}
