/* load.h: the load meter of a nom app: its request rate and concurrency over windows.
 *
 * The load level that selects a profile's rows (docs/profiles.md: "many", "single", a client
 * count) is measured by the app itself, not given on the command line. The app's serving
 * threads report every batch of completed requests with the connection they came on
 * (nom_load_add) and every connection opened or closed (nom_load_conn); the meter cuts time
 * into windows (50 ms by default) and, for each window, records how many requests completed,
 * over how long, and from how many distinct connections (the clients served). A window closes
 * at the first report after its end, so nothing runs while the app is idle: no timer. A gap
 * with no request longer than a window ends the window at its last request, so the rate is
 * the rate served while loaded.
 *
 * Each closed window, and the close of the last open connection, kicks the word given to
 * nom_load_notify() (bb_kick), which wakes the controller's sleep (nom/adapt.h): the
 * controller reads the recent windows (nom_load_read) and decides. docs/economics.md says how
 * the level follows from them and how fast.
 *
 * Thread-safe: any number of serving threads may report; one mutex, held for a few stores. */
#ifndef NOM_LOAD_H
#define NOM_LOAD_H

#include <stdint.h>
#include <stddef.h>

#define NOM_LOAD_WINDOW_NS INT64_C(50000000) /* default window: 50 ms */
#define NOM_LOAD_SAMPLES 16                  /* closed windows kept */

struct nom_load;

struct nom_load_sample {
	int64_t end_ns;    /* when the window closed (the reports' clock) */
	int64_t len_ns;    /* how long it was loaded */
	uint64_t requests; /* requests completed in it */
	uint32_t clients;  /* distinct connections that completed requests in it */
};

struct nom_load_view {
	uint64_t windows;  /* windows closed so far */
	uint64_t requests; /* requests reported so far */
	int64_t open;      /* connections open now */
	size_t n;          /* samples below, oldest first */
	struct nom_load_sample s[NOM_LOAD_SAMPLES];
};

/* A meter with windows of window_ns (0: NOM_LOAD_WINDOW_NS). The caller owns *out. */
int nom_load_create(int64_t window_ns, struct nom_load **out);
void nom_load_destroy(struct nom_load *l);

/* Where to kick at every closed window and when the last connection closes (NULL: nowhere).
 * The word must outlive the meter (or be unset first). */
void nom_load_notify(struct nom_load *l, uint32_t *word);

/* n requests completed at now_ns (CLOCK_MONOTONIC) on the connection whose token this is (a
 * uint64_t per connection, zero when it opens; the meter keeps in it the last window it was
 * counted in). */
void nom_load_add(struct nom_load *l, int64_t now_ns, uint64_t n, uint64_t *token);
/* A connection opened (delta +1) or closed (-1). */
void nom_load_conn(struct nom_load *l, int delta);
/* A consistent copy of the recent windows. */
void nom_load_read(struct nom_load *l, struct nom_load_view *out);

/* The median request rate (requests/s) and the median number of clients of the last n
 * windows of v that lasted at least 1 ms; 0 when none. */
double nom_load_rate(const struct nom_load_view *v, size_t n);
double nom_load_clients(const struct nom_load_view *v, size_t n);

#endif
