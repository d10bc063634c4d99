/* test_http_parse.c: the request parser: good requests, every error status it yields, target
 * normalization (no way above the root), incremental input, and pipelined heads. */
#include <stdio.h>
#include <string.h>

#include "http_parse.h"
#include "test.h"

static struct http_limits lim;

static enum http_result parse(const char *s, struct http_request *r, size_t *used, int *st)
{
	return http_parse((const uint8_t *)s, strlen(s), &lim, r, used, st);
}

static void ok(const char *s, const char *path, enum http_method m, bool keep)
{
	struct http_request r;
	size_t used = 0;
	int st = -1;

	if (parse(s, &r, &used, &st) != HTTP_DONE)
		TEST_FAIL("\"%s\" did not parse (status %d)", s, st);
	ASSERT_STR_EQ(r.path, path);
	ASSERT_EQ(r.method, m);
	ASSERT_EQ(r.keep_alive, keep);
	ASSERT_EQ(used, strlen(s));
}

static void fails(const char *s, int status)
{
	struct http_request r;
	size_t used = 0;
	int st = 0;

	if (parse(s, &r, &used, &st) != HTTP_FAIL)
		TEST_FAIL("\"%s\" did not fail", s);
	if (st != status)
		TEST_FAIL("\"%s\": status %d, want %d", s, st, status);
}

#define H "Host: x\r\n"

int main(void)
{
	static char big[40000];
	struct http_request r;
	size_t used;
	int st;

	http_limits_default(&lim);
	ok("GET / HTTP/1.1\r\n" H "\r\n", "/", HTTP_GET, true);
	ok("HEAD /a/b.html HTTP/1.1\r\n" H "\r\n", "/a/b.html", HTTP_HEAD, true);
	ok("GET /x HTTP/1.1\r\n" H "Connection: close\r\n\r\n", "/x", HTTP_GET, false);
	ok("GET /x HTTP/1.1\r\n" H "Connection: Keep-Alive, Close\r\n\r\n", "/x", HTTP_GET, false);
	ok("GET /x HTTP/1.0\r\n\r\n", "/x", HTTP_GET, false);
	ok("GET /x HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", "/x", HTTP_GET, true);
	ok("GET /x HTTP/1.1\n" H "\n", "/x", HTTP_GET, true);
	ok("\r\nGET /x HTTP/1.1\r\n" H "\r\n", "/x", HTTP_GET, true);
	ok("POST /form HTTP/1.1\r\n" H "Content-Length: 5\r\n\r\n", "/form", HTTP_OTHER, true);
	ok("BREW /pot HTTP/1.1\r\n" H "\r\n", "/pot", HTTP_OTHER, true);
	ok("GET http://example.com/a/b?q=1 HTTP/1.1\r\n" H "\r\n", "/a/b", HTTP_GET, true);
	ok("GET http://example.com HTTP/1.1\r\n" H "\r\n", "/", HTTP_GET, true);
	ok("GET /a%20b/%41 HTTP/1.1\r\n" H "\r\n", "/a b/A", HTTP_GET, true);
	ok("GET /a/./b/../c HTTP/1.1\r\n" H "\r\n", "/a/c", HTTP_GET, true);
	ok("GET //a///b/ HTTP/1.1\r\n" H "\r\n", "/a/b/", HTTP_GET, true);
	ok("GET /a/.. HTTP/1.1\r\n" H "\r\n", "/", HTTP_GET, true);
	ok("GET /dir/ HTTP/1.1\r\n" H "\r\n", "/dir/", HTTP_GET, true);
	ok("GET /x HTTP/1.1\r\nhOsT:   spaced   \r\nX-Empty:\r\n\r\n", "/x", HTTP_GET, true);
	ok("GET /x?a=/../../etc HTTP/1.1\r\n" H "\r\n", "/x", HTTP_GET, true);

	/* No way above the root, however it is spelled. */
	fails("GET /.. HTTP/1.1\r\n" H "\r\n", 400);
	fails("GET /a/../../etc/passwd HTTP/1.1\r\n" H "\r\n", 400);
	fails("GET /%2e%2e/etc/passwd HTTP/1.1\r\n" H "\r\n", 400);
	fails("GET /a/%2E%2E%2f%2e%2e/x HTTP/1.1\r\n" H "\r\n", 400);
	fails("GET /a%00b HTTP/1.1\r\n" H "\r\n", 400);
	fails("GET /a%zz HTTP/1.1\r\n" H "\r\n", 400);
	fails("GET /a% HTTP/1.1\r\n" H "\r\n", 400);
	fails("GET /a%4 HTTP/1.1\r\n" H "\r\n", 400);

	/* Malformed lines and fields. */
	fails("GET / HTTP/1.1\r\n\r\n", 400);                          /* no Host */
	fails("GET / HTTP/1.1\r\n" H H "\r\n", 400);                   /* two Hosts */
	fails("GET /  HTTP/1.1\r\n" H "\r\n", 400);
	fails("GET / HTTP/1.1 \r\n" H "\r\n", 400);
	fails("GET * HTTP/1.1\r\n" H "\r\n", 400);
	fails("GET relative HTTP/1.1\r\n" H "\r\n", 400);
	fails("G(T / HTTP/1.1\r\n" H "\r\n", 400);
	fails("GET / HTTP/1.1\r\n" H "Bad Name: x\r\n\r\n", 400);
	fails("GET / HTTP/1.1\r\n" H "Name : x\r\n\r\n", 400);
	fails("GET / HTTP/1.1\r\n" H "NoColon\r\n\r\n", 400);
	fails("GET / HTTP/1.1\r\n" H " folded\r\n\r\n", 400);
	fails("GET / HTTP/1.1\r\n" H "X: a\x01b\r\n\r\n", 400);
	fails("GET / HTTP/1.1\r\n" H "Content-Length: 5x\r\n\r\n", 400);
	fails("GET / HTTP/1.1\r\n" H "Content-Length: 1\r\nContent-Length: 2\r\n\r\n", 400);
	fails("GET / HTTP/1.1\r\n" H "Content-Length: 99999999999999999999\r\n\r\n", 400);
	fails("GET / HTTP/1.1\r\n" H "Transfer-Encoding: chunked\r\n\r\n", 501);
	fails("GET / HTTP/1.1\r\n" H "Transfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n",
	      400);
	fails("GET / HTTP/1.1\r\n" H "Content-Length: 1048577\r\n\r\n", 413);
	fails("GET / HTTP/2.0\r\n" H "\r\n", 505);
	fails("GET / HTTP/0.9\r\n" H "\r\n", 505);
	fails("GET / HTTP/1.2\r\n" H "\r\n", 505);
	fails("GET / HTTPS/1.1\r\n" H "\r\n", 400);
	fails("GET / HTTP/1.x\r\n" H "\r\n", 400);
	fails("GET /\r\n\r\n", 400);
	fails("\x16\x03\x01\x02\x05 / HTTP/1.1\r\n\r\n", 400); /* TLS on the plain port */

	/* Limits: a long line is 414, long or many fields 431. */
	memset(big, 'a', sizeof(big) - 1);
	memcpy(big, "GET /", 5);
	ASSERT_EQ(http_parse((const uint8_t *)big, 9000, &lim, &r, &used, &st), HTTP_FAIL);
	ASSERT_EQ(st, 414);
	{
		char req[20000];
		size_t n = (size_t)sprintf(req, "GET / HTTP/1.1\r\n" H "X: ");

		memset(req + n, 'v', 17000);
		n += 17000;
		memcpy(req + n, "\r\n\r\n", 5);
		ASSERT_EQ(http_parse((const uint8_t *)req, n + 4, &lim, &r, &used, &st), HTTP_FAIL);
		ASSERT_EQ(st, 431);
		/* ...and even before its end arrives. */
		ASSERT_EQ(http_parse((const uint8_t *)req, n, &lim, &r, &used, &st), HTTP_FAIL);
		ASSERT_EQ(st, 431);
		n = (size_t)sprintf(req, "GET / HTTP/1.1\r\n" H);
		for (int i = 0; i < 101; i++)
			n += (size_t)sprintf(req + n, "X%d: v\r\n", i);
		n += (size_t)sprintf(req + n, "\r\n");
		ASSERT_EQ(http_parse((const uint8_t *)req, n, &lim, &r, &used, &st), HTTP_FAIL);
		ASSERT_EQ(st, 431);
	}

	/* Every proper prefix of a request needs more; pipelined heads parse one at a time. */
	{
		const char *two = "GET /1 HTTP/1.1\r\n" H "\r\nHEAD /2 HTTP/1.1\r\n" H "\r\n";
		size_t first = strlen("GET /1 HTTP/1.1\r\n" H "\r\n");

		for (size_t n = 0; n < first; n++)
			ASSERT_EQ(http_parse((const uint8_t *)two, n, &lim, &r, &used, &st),
				  HTTP_NEED_MORE);
		ASSERT_EQ(parse(two, &r, &used, &st), HTTP_DONE);
		ASSERT_EQ(used, first);
		ASSERT_STR_EQ(r.path, "/1");
		ASSERT_EQ(parse(two + used, &r, &used, &st), HTTP_DONE);
		ASSERT_STR_EQ(r.path, "/2");
		ASSERT_EQ(r.method, HTTP_HEAD);
	}
	ASSERT_STR_EQ(http_reason(431), "Request Header Fields Too Large");
	printf("test_http_parse: ok\n");
	return 0;
}
