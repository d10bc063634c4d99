/* ---- The handler: HTTP/1.1 GET with keep-alive, every path answered with body_bytes. ---- */
#define DEFAULT_PORT 8080
#define BODY_BYTES 16384 /* what every GET is answered with */

/* Answers every complete request in c->in; returns how many, or -1 to close. */
static int serve(struct conn *c)
{
	static char *body;
	static size_t body_len;
	char head[160];
	int n = 0;
	if (!body) {
		body_len = BODY_BYTES;
		body = malloc(body_len);
		if (!body)
			return -1;
		for (size_t i = 0; i < body_len; i++)
			body[i] = (char)('a' + i % 26);
	}
	char *end;
	while ((end = strstr(c->in, "\r\n\r\n")) != NULL) {
		if (strncmp(c->in, "GET ", 4) != 0)
			return -1;
		int hl = snprintf(head, sizeof(head),
				  "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\nContent-Type: "
				  "text/plain\r\n\r\n", body_len);
		if (send_all(c, head, (size_t)hl) || send_all(c, body, body_len))
			return -1;
		consume(c, (size_t)(end + 4 - c->in));
		n++;
	}
	return n;
}

