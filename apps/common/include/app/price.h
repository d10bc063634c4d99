/* price.h: where a nom app learns the price of its traffic.
 *
 * Inside a nom instance the price comes from the bulletin board (the nom runtime); an app run
 * alone reads a price schedule file. Both are price sources behind one interface, so the
 * adaptive controller does not care which (the board becomes one more implementation).
 * Prices are in dollars per Gbit of transmitted traffic (the unit of nom/econ.h); times are
 * nanoseconds since the source was started.
 *
 * The schedule file (docs/apps.md): one step per line, `time_offset price`, the offset in
 * seconds since the app started (decimal, or with a unit: 500ms, 60s, 2m) and the price in
 * dollars per Gbit ("1", "0.25", "$10"); offsets strictly increase and the first is 0; '#'
 * starts a comment. The price of a step holds until the next step's offset. */
#ifndef APP_PRICE_H
#define APP_PRICE_H

#include <stddef.h>
#include <stdint.h>

#define PRICE_SOURCE_VERSION 1
#define PRICE_SCHEDULE_MAX_STEPS 10000
#define PRICE_SCHEDULE_MAX_BYTES (1u << 20)

struct price_source_ops {
	unsigned version; /* PRICE_SOURCE_VERSION */
	const char *name;
	/* The price at t_ns (>= 0) and the time of the next known change (INT64_MAX: none).
	 * Returns 0 or -errno. */
	int (*get)(void *priv, int64_t t_ns, double *price, int64_t *next_ns);
	void (*destroy)(void *priv);
};

struct price_source {
	const struct price_source_ops *ops;
	void *priv;
};

/* Wrappers: check the answer (finite, >= 0) before anyone uses it. */
int price_get(const struct price_source *s, int64_t t_ns, double *price, int64_t *next_ns);
void price_destroy(struct price_source *s);

/* A constant price. Returns 0 or -EINVAL (negative or not finite), -ENOMEM. */
int price_fixed(double price, struct price_source **out);

/* Parses schedule text (len bytes); name stands for the file in errors. On failure returns
 * -RAAS_EPARSE or -RAAS_ETOOBIG and writes "NAME:LINE: message" into err. */
int price_schedule_parse(const char *name, const char *text, size_t len,
			 struct price_source **out, char *err, size_t errlen);
/* Reads and parses a file; errors as above, or -errno when it cannot be read. */
int price_schedule_load(const char *path, struct price_source **out, char *err, size_t errlen);

#endif
