/* http_parse.c: nhttpd's request parser (http_parse.h). */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "http_parse.h"

void http_limits_default(struct http_limits *lim)
{
	lim->line_max = 8192;
	lim->head_max = 16384;
	lim->fields_max = 100;
	lim->body_max = 1u << 20;
}

const char *http_reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 304: return "Not Modified";
	case 400: return "Bad Request";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 413: return "Content Too Large";
	case 414: return "URI Too Long";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 503: return "Service Unavailable";
	case 505: return "HTTP Version Not Supported";
	default: return "";
	}
}

static bool tchar(unsigned char c)
{
	return isalnum(c) || (c && strchr("!#$%&'*+-.^_`|~", c));
}

static int hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (unsigned char)tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Lowercase comparison of a field name. */
static bool name_is(const uint8_t *name, size_t n, const char *want)
{
	return strlen(want) == n && strncasecmp((const char *)name, want, n) == 0;
}

/* Comma-separated tokens of a Connection field. */
static void connection_tokens(const uint8_t *v, size_t n, bool *close, bool *keep)
{
	size_t i = 0;

	while (i < n) {
		size_t s, e;

		while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
			i++;
		s = i;
		while (i < n && v[i] != ',')
			i++;
		e = i;
		while (e > s && (v[e - 1] == ' ' || v[e - 1] == '\t'))
			e--;
		if (e - s == 5 && strncasecmp((const char *)v + s, "close", 5) == 0)
			*close = true;
		if (e - s == 10 && strncasecmp((const char *)v + s, "keep-alive", 10) == 0)
			*keep = true;
	}
}

/* The request target -> a decoded, normalized path. Returns 0 or a status. */
static int target_path(const uint8_t *t, size_t n, char *out)
{
	char dec[HTTP_PATH_MAX];
	size_t dn = 0, on = 0, i = 0, end;

	if (n >= 8 && strncasecmp((const char *)t, "https://", 8) == 0)
		i = 8;
	else if (n >= 7 && strncasecmp((const char *)t, "http://", 7) == 0)
		i = 7;
	if (i) { /* absolute-form: skip the authority */
		while (i < n && t[i] != '/' && t[i] != '?' && t[i] != '#')
			i++;
		if (i == n || t[i] != '/') {
			out[0] = '/';
			out[1] = '\0';
			return 0;
		}
	} else if (n == 0 || t[0] != '/') {
		return 400; /* "*" or a relative path */
	}
	for (end = i; end < n && t[end] != '?' && t[end] != '#'; end++)
		;
	for (; i < end; i++) {
		unsigned char c = t[i];

		if (c == '%') {
			int hi, lo;

			if (end - i < 3)
				return 400;
			hi = hexval(t[i + 1]);
			lo = hexval(t[i + 2]);
			if (hi < 0 || lo < 0)
				return 400;
			c = (unsigned char)(hi * 16 + lo);
			if (c == 0)
				return 400;
			i += 2;
		}
		if (dn + 1 >= sizeof(dec))
			return 414;
		dec[dn++] = (char)c;
	}
	/* Resolve "." and ".." segment by segment. */
	out[on++] = '/';
	for (size_t s = 0; s < dn;) {
		size_t e = s;

		while (e < dn && dec[e] != '/')
			e++;
		if (e == s || (e - s == 1 && dec[s] == '.')) {
			/* empty or "." */
		} else if (e - s == 2 && dec[s] == '.' && dec[s + 1] == '.') {
			if (on == 1)
				return 400; /* above the root */
			on--;           /* drop the '/' that ends the previous segment */
			while (on > 1 && out[on - 1] != '/')
				on--;
		} else {
			if (on + (e - s) + 1 >= HTTP_PATH_MAX)
				return 414;
			memcpy(out + on, dec + s, e - s);
			on += e - s;
			out[on++] = '/';
		}
		s = e + 1;
	}
	/* Keep a trailing slash only when the target had one (a directory). */
	if (on > 1 && !(dn > 0 && dec[dn - 1] == '/'))
		on--;
	out[on] = '\0';
	return 0;
}

enum http_result http_parse(const uint8_t *d, size_t len, const struct http_limits *lim,
			    struct http_request *req, size_t *used, int *status)
{
	const uint8_t *line, *sp1, *sp2, *nl, *target;
	size_t p = 0, ll, tl, start;
	unsigned hosts = 0, cls = 0;
	bool te = false, close = false, keep = false;
	int st;

	memset(req, 0, sizeof(*req));
	/* Empty lines before a request are ignored (RFC 9112 section 2.2). */
	while (p < len && p < 8 && (d[p] == '\r' || d[p] == '\n'))
		p++;
	start = p;
	nl = memchr(d + p, '\n', len - p);
	if (!nl || (size_t)(nl - (d + p)) > lim->line_max) {
		if (len - p > lim->line_max) {
			*status = 414;
			return HTTP_FAIL;
		}
		return HTTP_NEED_MORE;
	}
	/* The whole head must be here before anything else is judged. */
	{
		const uint8_t *q = nl + 1;
		bool complete = false;

		while (q < d + len) {
			const uint8_t *n2 = memchr(q, '\n', (size_t)(d + len - q));

			if (!n2)
				break;
			if (n2 == q || (n2 == q + 1 && q[0] == '\r')) {
				complete = true;
				*used = (size_t)(n2 + 1 - d);
				break;
			}
			q = n2 + 1;
			if ((size_t)(q - (d + start)) > lim->head_max)
				break;
		}
		if (!complete) {
			if (len - start > lim->head_max) {
				*status = 431;
				return HTTP_FAIL;
			}
			return HTTP_NEED_MORE;
		}
		if (*used - start > lim->head_max) {
			*status = 431;
			return HTTP_FAIL;
		}
	}
	/* Request line: method SP target SP HTTP/x.y */
	line = d + p;
	ll = (size_t)(nl - line);
	if (ll && line[ll - 1] == '\r')
		ll--;
	*status = 400;
	sp1 = memchr(line, ' ', ll);
	if (!sp1 || sp1 == line || (size_t)(sp1 - line) >= sizeof(req->method_name))
		return HTTP_FAIL;
	for (const uint8_t *m = line; m < sp1; m++)
		if (!tchar(*m))
			return HTTP_FAIL;
	target = sp1 + 1;
	sp2 = memchr(target, ' ', (size_t)(line + ll - target));
	if (!sp2 || sp2 == target)
		return HTTP_FAIL;
	tl = (size_t)(sp2 - target);
	for (size_t i = 0; i < tl; i++)
		if (target[i] <= 0x20 || target[i] >= 0x7f)
			return HTTP_FAIL;
	{
		const uint8_t *v = sp2 + 1;
		size_t vl = (size_t)(line + ll - v);

		if (vl != 8 || memcmp(v, "HTTP/", 5) != 0 || !isdigit(v[5]) || v[6] != '.' ||
		    !isdigit(v[7]))
			return HTTP_FAIL;
		if (v[5] != '1' || v[7] > '1') {
			*status = 505;
			return HTTP_FAIL;
		}
		req->minor = v[7] - '0';
	}
	memcpy(req->method_name, line, (size_t)(sp1 - line));
	req->method_name[sp1 - line] = '\0';
	if (strcmp(req->method_name, "GET") == 0)
		req->method = HTTP_GET;
	else if (strcmp(req->method_name, "HEAD") == 0)
		req->method = HTTP_HEAD;
	else
		req->method = HTTP_OTHER;

	/* Header fields. */
	p = (size_t)(nl + 1 - d);
	for (;;) {
		const uint8_t *f = d + p, *colon, *v;
		size_t fl, vl;

		nl = memchr(f, '\n', len - p);
		fl = (size_t)(nl - f);
		p += fl + 1;
		if (fl && f[fl - 1] == '\r')
			fl--;
		if (fl == 0)
			break;
		if (f[0] == ' ' || f[0] == '\t')
			return HTTP_FAIL; /* obsolete line folding */
		if (++req->fields > lim->fields_max) {
			*status = 431;
			return HTTP_FAIL;
		}
		colon = memchr(f, ':', fl);
		if (!colon || colon == f)
			return HTTP_FAIL;
		for (const uint8_t *c = f; c < colon; c++)
			if (!tchar(*c))
				return HTTP_FAIL; /* includes space before the colon */
		v = colon + 1;
		vl = (size_t)(f + fl - v);
		while (vl && (*v == ' ' || *v == '\t'))
			v++, vl--;
		while (vl && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
			vl--;
		for (size_t i = 0; i < vl; i++)
			if ((v[i] < 0x20 && v[i] != '\t') || v[i] == 0x7f)
				return HTTP_FAIL;
		if (name_is(f, (size_t)(colon - f), "host")) {
			hosts++;
		} else if (name_is(f, (size_t)(colon - f), "connection")) {
			connection_tokens(v, vl, &close, &keep);
		} else if (name_is(f, (size_t)(colon - f), "transfer-encoding")) {
			te = true;
		} else if (name_is(f, (size_t)(colon - f), "content-length")) {
			uint64_t n = 0;

			if (vl == 0 || vl > 19)
				return HTTP_FAIL;
			for (size_t i = 0; i < vl; i++) {
				if (!isdigit(v[i]))
					return HTTP_FAIL;
				n = n * 10 + (uint64_t)(v[i] - '0');
			}
			if (cls++ && n != req->content_length)
				return HTTP_FAIL;
			req->content_length = n;
		}
	}
	if (req->minor == 1 && hosts != 1)
		return HTTP_FAIL;
	if (te) {
		*status = cls ? 400 : 501;
		return HTTP_FAIL;
	}
	if (req->content_length > lim->body_max) {
		*status = 413;
		return HTTP_FAIL;
	}
	st = target_path(target, tl, req->path);
	if (st) {
		*status = st;
		return HTTP_FAIL;
	}
	req->keep_alive = req->minor == 1 ? !close : (keep && !close);
	*status = 0;
	return HTTP_DONE;
}
