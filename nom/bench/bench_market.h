/* bench_market.h: the market side of nom-bench's publish-to-app measurement: a price
 * publisher speaking the market's wire contract on loopback with CURVE, and a real nom-priced
 * for the instance, started as a child process. */
#ifndef NOM_BENCH_MARKET_H
#define NOM_BENCH_MARKET_H

struct bench_market;

/* Starts the publisher and nom-priced for instance (board and local API of its own, keys in
 * a temporary directory). Returns 0 or a negative errno. */
int bench_market_start(const char *instance, struct bench_market **out);
/* Causes the next price publish (round `i` + 1) on bandwidth/h1. */
void bench_market_publish(struct bench_market *m, int i);
/* Waits between samples, so that the app is asleep when the next price comes. */
void bench_market_pace(struct bench_market *m);
/* What publishes: "market double" or "raas-marketd". */
const char *bench_market_kind(void);
/* Stops nom-priced and the publisher, removes the keys, the board and the socket. */
void bench_market_stop(struct bench_market *m);

#endif
