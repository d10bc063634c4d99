/* test_httpd.c: nhttpd's request handling over a real temporary document root: files and
 * index.html served with the right headers, HEAD without a body, 404 for missing files and
 * for a symbolic link out of the root, 405 with Allow, pipelined requests answered in order,
 * bodies skipped, Connection: close and HTTP/1.0 honoured, a changed file served anew. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "httpd.h"
#include "test.h"

static int64_t now = 1;

static int64_t clk(void *a)
{
	(void)a;
	return now;
}

static char root[64], outside[64];

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	ASSERT_TRUE(f != NULL);
	fputs(text, f);
	fclose(f);
}

/* Runs input through a fresh connection; returns the output (caller frees). */
static char *run(struct httpd *h, const char *in, bool *closed)
{
	struct httpd_conn c;
	char *out;
	size_t used;

	httpd_conn_init(&c, h);
	used = httpd_process(&c, (const uint8_t *)in, strlen(in));
	if (!c.close)
		ASSERT_EQ(used, strlen(in));
	*closed = c.close;
	out = calloc(1, c.out.len + 1);
	memcpy(out, buf_head(&c.out), c.out.len);
	httpd_conn_fini(&c);
	return out;
}

static int count(const char *hay, const char *needle)
{
	int n = 0;

	for (const char *p = hay; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

int main(void)
{
	struct httpd h;
	char path[256], *r;
	bool closed;

	snprintf(root, sizeof(root), "/tmp/apps-httpd-%d", (int)getpid());
	snprintf(outside, sizeof(outside), "/tmp/apps-httpd-out-%d", (int)getpid());
	mkdir(root, 0755);
	snprintf(path, sizeof(path), "%s/sub", root);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/index.html", root);
	write_file(path, "<h1>home</h1>");
	snprintf(path, sizeof(path), "%s/sub/index.html", root);
	write_file(path, "sub");
	snprintf(path, sizeof(path), "%s/a.txt", root);
	write_file(path, "hello");
	write_file(outside, "secret");
	snprintf(path, sizeof(path), "%s/leak", root);
	ASSERT_OK(symlink(outside, path));

	memset(&h, 0, sizeof(h));
	ASSERT_OK(files_create(root, 1u << 20, 1u << 20, &h.files));
	http_limits_default(&h.limits);
	h.now_ns = clk;

	r = run(&h, "GET /a.txt HTTP/1.1\r\nHost: t\r\n\r\n", &closed);
	ASSERT_STR_CONTAINS(r, "HTTP/1.1 200 OK\r\n");
	ASSERT_STR_CONTAINS(r, "Content-Type: text/plain; charset=utf-8\r\n");
	ASSERT_STR_CONTAINS(r, "Content-Length: 5\r\n");
	ASSERT_STR_CONTAINS(r, "Last-Modified: ");
	ASSERT_TRUE(strlen(r) > 5 && strcmp(r + strlen(r) - 9, "\r\n\r\nhello") == 0);
	ASSERT_TRUE(!closed);
	free(r);

	r = run(&h, "HEAD / HTTP/1.1\r\nHost: t\r\n\r\n", &closed);
	ASSERT_STR_CONTAINS(r, "Content-Length: 13\r\n");
	ASSERT_TRUE(strstr(r, "home") == NULL);
	free(r);

	r = run(&h, "GET /sub HTTP/1.1\r\nHost: t\r\n\r\nGET /sub/ HTTP/1.1\r\nHost: t\r\n\r\n", &closed);
	ASSERT_EQ(count(r, "200 OK"), 2);
	ASSERT_EQ(count(r, "\r\n\r\nsub"), 2);
	free(r);

	/* Not found: missing, and a symbolic link out of the root. */
	r = run(&h, "GET /nope HTTP/1.1\r\nHost: t\r\n\r\nGET /leak HTTP/1.1\r\nHost: t\r\n\r\n",
		&closed);
	ASSERT_EQ(count(r, "HTTP/1.1 404 Not Found\r\n"), 2);
	ASSERT_TRUE(strstr(r, "secret") == NULL);
	ASSERT_TRUE(!closed);
	free(r);

	/* 405 keeps the connection; its body is skipped; the next request is served. */
	r = run(&h, "POST /a.txt HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\n\r\nbodyGET /a.txt "
		    "HTTP/1.1\r\nHost: t\r\n\r\n", &closed);
	ASSERT_STR_CONTAINS(r, "HTTP/1.1 405 Method Not Allowed\r\n");
	ASSERT_STR_CONTAINS(r, "Allow: GET, HEAD\r\n");
	ASSERT_TRUE(strstr(r, "405") < strstr(r, "200 OK"));
	ASSERT_TRUE(!closed);
	free(r);

	/* Pipelined: answers in order, and the close after Connection: close. */
	r = run(&h, "GET /a.txt HTTP/1.1\r\nHost: t\r\n\r\nGET / HTTP/1.1\r\nHost: t\r\n"
		    "Connection: close\r\n\r\nGET /a.txt HTTP/1.1\r\nHost: t\r\n\r\n", &closed);
	ASSERT_EQ(count(r, "200 OK"), 2);
	ASSERT_TRUE(strstr(r, "hello") < strstr(r, "home"));
	ASSERT_STR_CONTAINS(r, "Connection: close\r\n");
	ASSERT_TRUE(closed);
	free(r);

	/* HTTP/1.0: closes unless asked to keep alive. */
	r = run(&h, "GET /a.txt HTTP/1.0\r\n\r\n", &closed);
	ASSERT_TRUE(closed);
	free(r);
	r = run(&h, "GET /a.txt HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", &closed);
	ASSERT_TRUE(!closed);
	ASSERT_STR_CONTAINS(r, "Connection: keep-alive\r\n");
	free(r);

	/* Errors answer and close. */
	r = run(&h, "GET /../etc/passwd HTTP/1.1\r\nHost: t\r\n\r\n", &closed);
	ASSERT_STR_CONTAINS(r, "HTTP/1.1 400 Bad Request\r\n");
	ASSERT_TRUE(closed);
	free(r);
	r = run(&h, "GET / HTTP/1.1\r\nHost: t\r\nContent-Length: 2000000\r\n\r\n", &closed);
	ASSERT_STR_CONTAINS(r, "HTTP/1.1 413 Content Too Large\r\n");
	free(r);

	/* A changed file is served anew once the cache revalidates (a second later). */
	snprintf(path, sizeof(path), "%s/a.txt", root);
	write_file(path, "changed!");
	now += 2000000000;
	r = run(&h, "GET /a.txt HTTP/1.1\r\nHost: t\r\n\r\n", &closed);
	ASSERT_STR_CONTAINS(r, "\r\n\r\nchanged!");
	free(r);
	files_check(h.files);

	files_destroy(h.files);
	snprintf(path, sizeof(path), "rm -rf %s %s", root, outside);
	ASSERT_EQ(system(path), 0);
	printf("test_httpd: ok\n");
	return 0;
}
