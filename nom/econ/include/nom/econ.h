/* econ.h: nom's economics: the utility (profit) functions of a nom app, in explicit units.
 *
 * A nom app earns money for the traffic it serves and pays the resource's price for it; how
 * much a Gbit of traffic is worth depends on the service's latency and jitter, as written in
 * the app owner's service-level agreement. The three agreements of the nom thesis (Ben-Yehuda,
 * Agmon Ben-Yehuda, Tsafrir, "The nom Profit-Maximizing Operating System", VEE 2016, Eq. 1-4;
 * M.Sc. thesis, Technion 2015, chapter 4) are implemented here exactly, shared by libnom (the
 * runtime's optimizer), the nom apps and raas-sim, so that a simulated app and a real one make
 * the same decision from the same numbers.
 *
 * This library is pure: no I/O (except econ_profile_load(), in its own file), no clock reads,
 * no random numbers, no globals. Every function is safe to call from any thread.
 *
 * Units (docs/economics.md explains each choice and its source):
 *   T      throughput, Gbit/s of the app's transmitted payload (econ_gbps() converts requests
 *          per second and bytes per request)
 *   L      mean latency, microseconds
 *   sigma  jitter: the standard deviation of latency, microseconds
 *   P      price of the traffic, dollars per Gbit
 *   U      utility (profit rate), dollars per second: U = T * (a(L, sigma) - P)
 *   a      the value of one Gbit served at (L, sigma), dollars per Gbit ("value per Gbit")
 *
 * The three functions all have the form U = T * (a - P), with a independent of the price:
 *   penalty  a = alpha * (1 - min(1, X * N(L0, L, sigma))),  N = P[latency > L0],
 *            latency ~ Normal(mean L, deviation sigma)                       (VEE'16 Eq. 2)
 *   refund   a = max(0, alpha - beta * L)                                     (VEE'16 Eq. 3)
 *   bonus    a = alpha + min(gamma / L, delta)                                (VEE'16 Eq. 4)
 * In refund and bonus the thesis gives beta = 10 and gamma = 0.01 without a unit for L; this
 * library reads L in milliseconds there (beta in $/Gbit per ms, gamma in $/Gbit x ms), the
 * only reading under which the refund is neither zero for every measured latency (L in us:
 * alpha - beta * L < 0 above 2 us) nor invisible (L in s); see docs/economics.md. The field
 * names carry the unit so that a caller cannot mix them up. */
#ifndef NOM_ECON_H
#define NOM_ECON_H

#include <math.h>
#include <stdbool.h>
#include <stddef.h>

/* Thesis parameters (DESIGN.md section 9; VEE'16 section 5). */
#define ECON_THESIS_ALPHA 20.0       /* $/Gbit: value of a Gbit served within the SLA */
#define ECON_THESIS_BETA_PER_MS 10.0 /* $/Gbit per ms of mean latency (refund) */
#define ECON_THESIS_GAMMA_MS 0.01    /* $/Gbit x ms (bonus): bonus = gamma / L[ms] */
#define ECON_THESIS_DELTA INFINITY   /* $/Gbit: cap of the bonus; none */
#define ECON_THESIS_X 100.0          /* penalty factor (GoGrid's 100x SLA credit) */
#define ECON_THESIS_L0_US 750.0      /* us: the SLA's latency bound */
#define ECON_THESIS_PRICE_LOW 1.0    /* $/Gbit for the first 60 s of the thesis's runs */
#define ECON_THESIS_PRICE_HIGH 10.0  /* $/Gbit after that */
#define ECON_THESIS_PRICE_STEP_S 60  /* s: when the price steps up */

enum econ_kind {
	ECON_PENALTY,
	ECON_REFUND,
	ECON_BONUS,
};

/* A utility function and its parameters. Only the fields of its kind are read. */
struct econ_utility {
	enum econ_kind kind;
	double alpha;       /* $/Gbit (all kinds) */
	double x;           /* penalty: dimensionless factor on the tail probability */
	double l0_us;       /* penalty: SLA latency bound, us */
	double beta_per_ms; /* refund: $/Gbit lost per ms of mean latency */
	double gamma_ms;    /* bonus: $/Gbit x ms; bonus = gamma_ms / (L_us / 1000) */
	double delta;       /* bonus: cap in $/Gbit; INFINITY for none */
};

/* Fills *u with kind and the thesis's parameters. */
void econ_utility_thesis(enum econ_kind kind, struct econ_utility *u);
/* Checks the parameters: finite alpha >= 0; x >= 0; l0_us > 0; beta_per_ms >= 0;
 * gamma_ms >= 0; delta >= 0 (INFINITY allowed). Returns 0 or -EINVAL with a reason in why
 * (a static string) when why is not NULL. */
int econ_utility_check(const struct econ_utility *u, const char **why);

/* "penalty", "refund", "bonus". */
const char *econ_kind_name(enum econ_kind kind);
/* Parses a kind name. Returns 0 or -EINVAL. */
int econ_kind_parse(const char *name, enum econ_kind *out);

/* N(L0, L, sigma) = P[latency > l0_us] for latency ~ Normal(latency_us, jitter_us). With
 * jitter 0 the latency is exactly latency_us: 1 above l0_us, else 0. Inputs in us. */
double econ_tail_prob(double l0_us, double latency_us, double jitter_us);

/* a(L, sigma): the value of a Gbit served at this latency and jitter, $/Gbit. latency_us must
 * be > 0 for the bonus (it returns alpha + delta, or INFINITY when delta is, at L <= 0). */
double econ_value_per_gbit(const struct econ_utility *u, double latency_us, double jitter_us);

/* U = T * (a(L, sigma) - P): the profit rate in $/s of serving tput_gbps at this working
 * point and paying price_per_gbit for the traffic. */
double econ_utility_rate(const struct econ_utility *u, double tput_gbps, double latency_us,
			 double jitter_us, double price_per_gbit);

/* Gbit/s of requests_per_s requests of bytes_per_request bytes each. */
double econ_gbps(double requests_per_s, double bytes_per_request);

/* Does the utility depend on jitter? (Only the penalty does.) */
bool econ_uses_jitter(const struct econ_utility *u);

#endif
