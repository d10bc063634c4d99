/* ---- The handler: memcached's text protocol, get and set, on a small table. ---- */
#define DEFAULT_PORT 11211
#define SLOTS 1024

struct item {
	char key[251];
	char *data;
	size_t len;
};
static struct item table[SLOTS];

static struct item *slot_of(const char *key)
{
	unsigned h = 5381;
	for (const char *p = key; *p; p++)
		h = h * 33 + (unsigned char)*p;
	return &table[h % SLOTS];
}

/* Answers every complete command in c->in; returns how many, or -1 to close. */
static int serve(struct conn *c)
{
	char *eol, key[251];
	int n = 0;
	while ((eol = strstr(c->in, "\r\n")) != NULL) {
		size_t line = (size_t)(eol + 2 - c->in);
		unsigned flags;
		long exp;
		size_t len;
		if (sscanf(c->in, "get %250s", key) == 1) {
			struct item *it = slot_of(key);
			char head[300];
			if (strcmp(it->key, key) == 0 && it->data) {
				int hl = snprintf(head, sizeof(head), "VALUE %s 0 %zu\r\n", key, it->len);
				if (send_all(c, head, (size_t)hl) || send_all(c, it->data, it->len) ||
				    send_all(c, "\r\nEND\r\n", 7))
					return -1;
			} else if (send_all(c, "END\r\n", 5)) {
				return -1;
			}
			consume(c, line);
		} else if (sscanf(c->in, "set %250s %u %ld %zu", key, &flags, &exp, &len) == 4) {
			if (len > sizeof(c->in) / 2)
				return -1;
			if (c->len < line + len + 2)
				break; /* the data is not all here yet */
			struct item *it = slot_of(key);
			char *data = malloc(len ? len : 1);
			if (!data)
				return -1;
			memcpy(data, c->in + line, len);
			free(it->data);
			snprintf(it->key, sizeof(it->key), "%s", key);
			it->data = data;
			it->len = len;
			if (send_all(c, "STORED\r\n", 8))
				return -1;
			consume(c, line + len + 2);
		} else {
			if (send_all(c, "ERROR\r\n", 7))
				return -1;
			consume(c, line);
		}
		n++;
	}
	return n;
}

