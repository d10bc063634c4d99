/* error.h: the project's error convention and its own error codes.
 *
 * Every function that can fail returns int: 0 on success, a negative errno on failure. Errors
 * that errno has no word for live in one reserved range (RAAS_E_BASE and up) and are returned
 * negated like errno values; raas_strerror() names both kinds. */
#ifndef COMMON_ERROR_H
#define COMMON_ERROR_H

#define RAAS_E_BASE 4096

enum raas_error {
	RAAS_EOVERFLOW = RAAS_E_BASE, /* checked money or time arithmetic overflowed */
	RAAS_EPARSE,                  /* malformed text: a number, a price, a line */
	RAAS_ECONFIG,                 /* a config file or override is wrong */
	RAAS_EUNKNOWNKEY,             /* a config key that no component knows */
	RAAS_EPROTO,                  /* a malformed wire message */
	RAAS_EVERSION,                /* a wire, shared-memory or plugin version mismatch */
	RAAS_ETOOBIG,                 /* input over its size bound */
	RAAS_ENOMODEL,                /* no pricing model registered under that name */
	RAAS_EBUDGET,                 /* a bid beyond the tenant's budget */
	RAAS_ENOSUPPLY,               /* not enough of a resource to satisfy the request */
	RAAS_EDENIED,                 /* the caller may not do this (identity, ownership) */
	RAAS_ESTALE,                  /* data older than it may be (bulletin board, round) */
	RAAS_E_LAST
};

/* Names err (a negative errno or a negated raas_error; the sign is ignored). Never NULL;
 * the string is static. */
const char *raas_strerror(int err);

#endif
