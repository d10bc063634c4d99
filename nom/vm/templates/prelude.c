/* main.c: @APP@, a nom app made by `raas app init --template @TEMPLATE@`: @SUMMARY@
 *
 * Build it with `raas app build` (against the installed libnom), deploy it with `raas app
 * deploy`. The request handler comes first, then what every template shares. */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <nom/nom.h>

/* A client connection: what it sent that is not answered yet, and what it was sent. */
struct conn {
	int fd;
	char in[8192];
	size_t len;
	uint64_t sent;
};

/* Writes all of buf to the client, counting it. 0, or -1 when the client is gone. */
int send_all(struct conn *c, const void *buf, size_t len);

/* Drops the first n bytes of what the client sent (an answered request). */
static void consume(struct conn *c, size_t n)
{
	memmove(c->in, c->in + n, c->len - n + 1);
	c->len -= n;
}

