/* ---- The handler: ping-pong, every message (a line) sent back as it came. ---- */
#define DEFAULT_PORT 7000

/* Echoes every complete line in c->in; returns how many, or -1 to close. */
static int serve(struct conn *c)
{
	char *eol;
	int n = 0;
	while ((eol = memchr(c->in, '\n', c->len)) != NULL) {
		size_t len = (size_t)(eol + 1 - c->in);
		if (send_all(c, c->in, len))
			return -1;
		consume(c, len);
		n++;
	}
	return n;
}

