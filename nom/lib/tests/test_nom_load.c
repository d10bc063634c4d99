/* test_nom_load.c: the load meter: windows close at the first report after their end, count
 * each connection once per window, end at the last request across a gap, keep the last
 * windows in order; medians of rate and clients; the kick at every closed window and when the
 * last connection closes; several threads reporting at once lose nothing. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "nom/load.h"
#include "test.h"

#define MS INT64_C(1000000)

static struct nom_load *shared;

static void *reporter(void *arg)
{
	uint64_t token = 0;
	int64_t t0 = (int64_t)(intptr_t)arg * 1000;

	for (int i = 0; i < 100000; i++)
		nom_load_add(shared, t0 + i * 1000, 1, &token);
	return NULL;
}

int main(void)
{
	struct nom_load *l;
	struct nom_load_view v;
	uint32_t kick = 0;
	uint64_t tok[4] = {0};

	ASSERT_OK(nom_load_create(50 * MS, &l));
	nom_load_notify(l, &kick);
	/* Window 1: 0..50 ms, 3 clients, 10 requests each per 10 ms. */
	for (int64_t t = 0; t < 50 * MS; t += 10 * MS)
		for (int c = 0; c < 3; c++)
			nom_load_add(l, t, 10, &tok[c]);
	nom_load_read(l, &v);
	ASSERT_EQ(v.windows, 0);
	ASSERT_EQ(kick, 0);
	/* The first report at or after 50 ms closes it. */
	nom_load_add(l, 50 * MS, 10, &tok[0]);
	nom_load_read(l, &v);
	ASSERT_EQ(v.windows, 1);
	ASSERT_EQ(kick, 1);
	ASSERT_EQ(v.n, 1);
	ASSERT_EQ(v.s[0].requests, 150); /* the report that closed it counts in the next */
	ASSERT_EQ(v.s[0].clients, 3);
	ASSERT_EQ(v.s[0].len_ns, 50 * MS);
	ASSERT_NEAR(nom_load_rate(&v, 5), 3000, 1e-9);
	ASSERT_NEAR(nom_load_clients(&v, 5), 3, 0);
	/* Window 2 (from 50 ms): one client until 80 ms, then a gap of a second: the window ends
	 * at its last request (80 ms), and the report after the gap opens window 3. */
	nom_load_add(l, 80 * MS, 30, &tok[1]);
	nom_load_add(l, 1080 * MS, 1, &tok[1]);
	nom_load_read(l, &v);
	ASSERT_EQ(v.windows, 2);
	ASSERT_EQ(v.s[1].len_ns, 30 * MS);
	ASSERT_EQ(v.s[1].requests, 40);
	ASSERT_EQ(v.s[1].clients, 2); /* tok[0] at 50 ms and tok[1] at 80 ms */
	ASSERT_NEAR(nom_load_rate(&v, 1), 40 / 0.03, 1e-6);
	/* 22 more reports 50 ms apart from 1,100 ms: 21 more windows (window 3 opened at
	 * 1,080 ms closes at 1,150); the ring keeps the last 16, oldest first. */
	for (int64_t t = 1100 * MS; t < 2200 * MS; t += 50 * MS)
		nom_load_add(l, t, 5, &tok[2]);
	nom_load_read(l, &v);
	ASSERT_EQ(v.windows, 23);
	ASSERT_EQ(v.n, NOM_LOAD_SAMPLES);
	for (size_t i = 1; i < v.n; i++)
		ASSERT_TRUE(v.s[i].end_ns > v.s[i - 1].end_ns);
	ASSERT_EQ(v.requests, 160 + 30 + 1 + 22 * 5);
	/* Connections: the kick when the last one closes. */
	uint32_t k0 = kick;
	nom_load_conn(l, 1);
	nom_load_conn(l, 1);
	nom_load_conn(l, -1);
	ASSERT_EQ(kick, k0);
	nom_load_conn(l, -1);
	ASSERT_EQ(kick, k0 + 1);
	nom_load_read(l, &v);
	ASSERT_EQ(v.open, 0);
	nom_load_notify(l, NULL);
	nom_load_destroy(l);

	/* Four threads, 100,000 requests each: every one counted. */
	ASSERT_OK(nom_load_create(MS, &shared));
	pthread_t th[4];
	for (intptr_t i = 0; i < 4; i++)
		ASSERT_OK(pthread_create(&th[i], NULL, reporter, (void *)i));
	for (int i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	nom_load_read(shared, &v);
	ASSERT_EQ(v.requests, 400000);
	ASSERT_GT(v.windows, 50);
	for (size_t i = 0; i < v.n; i++)
		ASSERT_TRUE(v.s[i].clients <= 4 && v.s[i].clients <= v.s[i].requests);
	nom_load_destroy(shared);
	printf("test_nom_load: ok\n");
	return 0;
}
