/* httpd_config.c: the HTTP keys every daemon shares ([SECTION] http_*), with the rule that
 * a bind address other than loopback needs a bearer token (docs/dashboards.md). */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/error.h"
#include "common/httpd.h"

void httpd_config_defaults(struct httpd_config *out)
{
	memset(out, 0, sizeof(*out));
	out->enabled = true;
	snprintf(out->bind, sizeof(out->bind), "127.0.0.1");
	out->max_connections = 1024;
	out->sse_max = 256;
	out->timeout_ns = INT64_C(10000000000);
	out->request_bytes = 16384;
}

static bool is_loopback(const char *addr)
{
	struct in_addr a4;
	struct in6_addr a6;

	if (inet_pton(AF_INET, addr, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, addr, &a6) == 1)
		return IN6_IS_ADDR_LOOPBACK(&a6);
	return false;
}

static int get_range(const struct cfg *c, const char *sec, const char *key, int64_t lo,
		     int64_t hi, int64_t *v, struct cfg_error *err)
{
	int rc = cfg_get_int(c, sec, key, v, err);
	if (rc)
		return rc;
	if (*v < lo || *v > hi)
		return cfg_error_at(c, sec, key, err, "must be in %lld..%lld", (long long)lo,
				    (long long)hi);
	return 0;
}

static int read_token(const struct cfg *c, const char *sec, const char *path, char *out,
		      size_t len, struct cfg_error *err)
{
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return cfg_error_at(c, sec, "http_token_file", err, "%s: %s", path,
				    strerror(errno));
	if (!fgets(out, (int)len, f))
		out[0] = 0;
	fclose(f);
	n = strcspn(out, "\r\n");
	out[n] = 0;
	if (n < HTTPD_TOKEN_MIN)
		return cfg_error_at(c, sec, "http_token_file", err,
				    "%s: the token must be one line of at least %d characters",
				    path, HTTPD_TOKEN_MIN);
	for (size_t i = 0; i < n; i++)
		if (out[i] <= ' ' || out[i] > '~')
			return cfg_error_at(c, sec, "http_token_file", err,
					    "%s: the token has a space or control character",
					    path);
	return 0;
}

int httpd_config_load(const struct cfg *c, const char *sec, struct httpd_config *out,
		      struct cfg_error *err)
{
	const char *s;
	int64_t v;
	int rc;

	httpd_config_defaults(out);
	if ((rc = cfg_get_bool(c, sec, "http_enabled", &out->enabled, err)))
		return rc;
	if ((rc = cfg_get_string(c, sec, "http_bind", &s, err)))
		return rc;
	struct in_addr a4;
	struct in6_addr a6;
	if (strlen(s) >= sizeof(out->bind) ||
	    (inet_pton(AF_INET, s, &a4) != 1 && inet_pton(AF_INET6, s, &a6) != 1))
		return cfg_error_at(c, sec, "http_bind", err,
				    "not a numeric IPv4 or IPv6 address: %s", s);
	snprintf(out->bind, sizeof(out->bind), "%s", s);
	if ((rc = get_range(c, sec, "http_port", 0, 65535, &v, err)))
		return rc;
	out->port = (int)v;
	if ((rc = cfg_get_string(c, sec, "http_token_file", &s, err)))
		return rc;
	if (*s && (rc = read_token(c, sec, s, out->token, sizeof(out->token), err)))
		return rc;
	if (out->enabled && !is_loopback(out->bind) && !out->token[0])
		return cfg_error_at(c, sec, "http_bind", err,
				    "%s is not a loopback address: serving it needs a bearer token "
				    "(http_token_file)",
				    out->bind);
	if ((rc = get_range(c, sec, "http_max_connections", 1, 65536, &v, err)))
		return rc;
	out->max_connections = (size_t)v;
	if ((rc = get_range(c, sec, "http_sse_max", 0, 65536, &v, err)))
		return rc;
	out->sse_max = (size_t)v;
	if ((rc = cfg_get_duration(c, sec, "http_timeout", &out->timeout_ns, err)))
		return rc;
	if (out->timeout_ns < INT64_C(1000000000) || out->timeout_ns > INT64_C(3600000000000))
		return cfg_error_at(c, sec, "http_timeout", err, "must be in 1s..1h");
	if ((rc = get_range(c, sec, "http_request_bytes", 4096, 1 << 20, &v, err)))
		return rc;
	out->request_bytes = (size_t)v;
	if ((rc = cfg_get_string(c, sec, "http_pages_dir", &s, err)))
		return rc;
	if (strlen(s) >= sizeof(out->pages_dir))
		return cfg_error_at(c, sec, "http_pages_dir", err, "too long");
	snprintf(out->pages_dir, sizeof(out->pages_dir), "%s", s);
	return 0;
}
