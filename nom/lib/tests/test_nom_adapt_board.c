/* test_nom_adapt_board.c: libnom's controller on a real bulletin board (written here, with no
 * nom-priced behind it): the board price source's price, round and host; a request that fails
 * (no local API) is not repeated in the same round but is in the next; a stale market is said
 * once however many decisions follow, changes nothing and sends nothing; fresh again, it is
 * said once and the controller decides at the new price; a stopped nom-priced reads stale. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bb/bb.h"
#include "nom/adapt.h"
#include "nom/nom.h"
#include "test.h"

#define MS INT64_C(1000000)

static const char profile_csv[] =
	"app,load,delay_us,throughput_rps,latency_us,jitter_us,bytes_per_request,source\n"
	"memcached,many,0,30000,60,5,1100,test\n"
	"memcached,many,10,36000,120,8,1100,test\n"
	"memcached,many,40,45000,200,10,1100,test\n";

static int count(const char *text, const char *needle)
{
	int n = 0;

	for (const char *p = text; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

static void publish(struct bb_writer *w, uint32_t state, int64_t price, uint64_t round)
{
	struct bb_body *b = bb_writer_body(w);
	char why[200];

	b->state.market_state = state;
	bb_set_string(b->state.host, sizeof(b->state.host), "h1");
	bb_set_string(b->state.market_message, sizeof(b->state.market_message),
		      state == BB_MARKET_STALE ? "market lost: \"test\"" : "");
	struct bb_price *e = bb_body_price_upsert(b, BB_RES_BANDWIDTH, "h1");
	e->unit_price = price;
	e->round = round;
	e->published_wall_ns = (int64_t)round * 1000;
	b->state.round = round;
	ASSERT_OK(bb_writer_publish(w, 1, 1, why, sizeof(why)));
}

int main(void)
{
	char inst[64], msg[256];
	struct econ_profile *p;
	struct econ_error eerr;
	struct bb_writer *w;
	struct nom *n;
	struct nom_source *s;
	struct nom_adapt *a;
	struct nom_adapt_status st;
	char *out = NULL;
	size_t outlen = 0;
	FILE *f = open_memstream(&out, &outlen);

	ASSERT_OK(econ_profile_parse("t.csv", profile_csv, strlen(profile_csv), &p, &eerr));
	snprintf(inst, sizeof(inst), "test-adapt-%d", (int)getpid());
	ASSERT_OK(bb_writer_open(inst, 0600, &w));
	/* $3.6 per Mbit/s-hour is $1/Gbit. */
	publish(w, BB_MARKET_FRESH, 3600000000, 5);
	ASSERT_OK(nom_open(inst, NULL, &n));
	ASSERT_OK(nom_source_board(n, NULL, &s));
	struct nom_adapt_config c = {.size = sizeof(c), .profile = p, .app = "memcached",
				     .prices = s, .nom = n, .out = f};
	econ_utility_thesis(ECON_REFUND, &c.utility);
	ASSERT_OK(nom_adapt_create(&c, &a, msg, sizeof(msg)));

	/* Fresh: W = 40 wants 396 Mbit/s; no nom-priced answers: one refused request. */
	for (int i = 0; i < 3; i++)
		nom_adapt_step(a, i * MS, 0);
	nom_adapt_status(a, &st);
	ASSERT_NEAR(st.wp.price, 1, 1e-9);
	ASSERT_EQ(st.wp.round, 5);
	ASSERT_EQ(st.wp.published_wall_ns, 5000);
	ASSERT_EQ(st.wp.bandwidth_mbit, 396);
	ASSERT_EQ(st.holds, 1);
	ASSERT_EQ(st.hold_errors, 1);

	/* Stale: said once over five decisions; no request; the point kept. */
	publish(w, BB_MARKET_STALE, 36000000000, 6);
	for (int i = 0; i < 5; i++)
		ASSERT_TRUE(!nom_adapt_step(a, (10 + i) * MS, 0));
	nom_adapt_status(a, &st);
	ASSERT_TRUE(st.stale);
	ASSERT_EQ(st.stale_events, 1);
	ASSERT_EQ(st.holds, 1);
	ASSERT_NEAR(st.wp.price, 1, 1e-9);

	/* Fresh again at $10/Gbit (round 7): said once, decided at the new price, and the
	 * refused request is asked again in the new round. */
	publish(w, BB_MARKET_FRESH, 36000000000, 7);
	nom_adapt_step(a, 20 * MS, 0);
	nom_adapt_step(a, 21 * MS, 0);
	nom_adapt_status(a, &st);
	ASSERT_TRUE(!st.stale);
	ASSERT_NEAR(st.wp.price, 10, 1e-9);
	ASSERT_EQ(st.wp.round, 7);
	ASSERT_EQ(st.holds, 2);
	fflush(f);
	ASSERT_EQ(count(out, "\"state\":\"stale\""), 1);
	ASSERT_EQ(count(out, "\"state\":\"fresh\""), 1);
	ASSERT_EQ(count(out, "\"event\":\"hold\""), 2);
	ASSERT_TRUE(strstr(out, "market lost: \\\"test\\\"") != NULL); /* escaped in JSON */

	/* nom-priced stopped: the source says stale, and why. */
	nom_adapt_destroy(a);
	publish(w, BB_MARKET_STOPPED, 36000000000, 8);
	bb_writer_close(w, false);
	struct nom_prices pr;
	ASSERT_OK(nom_source_get(s, 0, &pr, NULL));
	ASSERT_TRUE(pr.stale);
	ASSERT_STR_CONTAINS(pr.why, "stopped");
	nom_source_destroy(s);
	nom_close(n);
	char path[96];
	bb_path(inst, path, sizeof(path));
	unlink(path);
	econ_profile_destroy(p);
	fclose(f);
	printf("events:\n%stest_nom_adapt_board: ok\n", out);
	free(out);
	return 0;
}
