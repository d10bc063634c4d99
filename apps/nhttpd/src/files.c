/* files.c: the document root and its cache (files.h). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "app/lru.h"
#include "files.h"

#define BUCKETS 4096
#define REVALIDATE_NS INT64_C(1000000000)

struct file_cache {
	char root[PATH_MAX];
	size_t root_len;
	size_t max_bytes, max_file, bytes;
	struct file_entry *table[BUCKETS];
	struct file_entry *head, *tail; /* LRU: head is most recent */
};

static const struct {
	const char *ext;
	const char *type;
} types[] = {
	{"html", "text/html; charset=utf-8"}, {"htm", "text/html; charset=utf-8"},
	{"txt", "text/plain; charset=utf-8"}, {"css", "text/css"},
	{"js", "text/javascript"},            {"json", "application/json"},
	{"xml", "application/xml"},           {"csv", "text/csv"},
	{"png", "image/png"},                 {"jpg", "image/jpeg"},
	{"jpeg", "image/jpeg"},               {"gif", "image/gif"},
	{"svg", "image/svg+xml"},             {"ico", "image/x-icon"},
	{"webp", "image/webp"},               {"pdf", "application/pdf"},
	{"wasm", "application/wasm"},         {"gz", "application/gzip"},
};

const char *files_content_type(const char *name)
{
	const char *dot = strrchr(name, '.'), *slash = strrchr(name, '/');

	if (dot && (!slash || dot > slash))
		for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
			if (strcasecmp(dot + 1, types[i].ext) == 0)
				return types[i].type;
	return "application/octet-stream";
}

int files_create(const char *root, size_t max_bytes, size_t max_file, struct file_cache **out)
{
	struct file_cache *fc = calloc(1, sizeof(*fc));
	struct stat st;

	if (!fc)
		return -ENOMEM;
	if (!realpath(root, fc->root)) {
		int rc = -errno;

		free(fc);
		return rc;
	}
	if (stat(fc->root, &st) < 0 || !S_ISDIR(st.st_mode)) {
		free(fc);
		return -ENOTDIR;
	}
	fc->root_len = strlen(fc->root);
	fc->max_bytes = max_bytes;
	fc->max_file = max_file;
	*out = fc;
	return 0;
}

static unsigned hash(const char *s)
{
	unsigned h = 2166136261u;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 16777619u;
	return h % BUCKETS;
}

static void lru_unlink(struct file_cache *fc, struct file_entry *e)
{
	LRU_UNLINK(fc->head, fc->tail, e);
}

static void lru_push(struct file_cache *fc, struct file_entry *e)
{
	LRU_PUSH(fc->head, fc->tail, e);
}

static void drop(struct file_cache *fc, struct file_entry *e)
{
	struct file_entry **pp = &fc->table[hash(e->key)];

	while (*pp && *pp != e)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = e->hnext;
	lru_unlink(fc, e);
	fc->bytes -= e->size;
	free(e->key);
	free(e->data);
	free(e);
}

void files_destroy(struct file_cache *fc)
{
	if (!fc)
		return;
	while (fc->head)
		drop(fc, fc->head);
	free(fc);
}

/* The real path of the file a request path names, inside the root. */
static int resolve(const struct file_cache *fc, const char *path, char *real, struct stat *st)
{
	char full[PATH_MAX * 2];
	size_t n = strlen(path);

	if (fc->root_len + n + 16 >= sizeof(full))
		return -ENOENT;
	snprintf(full, sizeof(full), "%s%s%s", fc->root, path,
		 n && path[n - 1] == '/' ? "index.html" : "");
	if (stat(full, st) == 0 && S_ISDIR(st->st_mode)) {
		size_t fl = strlen(full);

		if (fl + 12 >= sizeof(full))
			return -ENOENT;
		memcpy(full + fl, "/index.html", 12);
	}
	if (!realpath(full, real))
		return errno == EACCES ? -EACCES : -ENOENT;
	if (strncmp(real, fc->root, fc->root_len) != 0 ||
	    (real[fc->root_len] != '/' && real[fc->root_len] != '\0'))
		return -ENOENT; /* a link out of the root */
	if (stat(real, st) < 0)
		return -ENOENT;
	if (!S_ISREG(st->st_mode))
		return -ENOENT;
	return 0;
}

static int load(struct file_cache *fc, const char *real, const struct stat *st,
		uint8_t **data)
{
	int fd;
	size_t got = 0;

	if ((size_t)st->st_size > fc->max_file)
		return -EFBIG;
	fd = open(real, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == EACCES ? -EACCES : -ENOENT;
	*data = malloc((size_t)st->st_size + 1);
	if (!*data) {
		close(fd);
		return -ENOMEM;
	}
	while (got < (size_t)st->st_size) {
		ssize_t r = read(fd, *data + got, (size_t)st->st_size - got);

		if (r <= 0) {
			if (r < 0 && errno == EINTR)
				continue;
			free(*data);
			close(fd);
			return -EIO; /* shrank under us, or an I/O error */
		}
		got += (size_t)r;
	}
	close(fd);
	return 0;
}

int files_get(struct file_cache *fc, const char *path, int64_t now_ns,
	      const struct file_entry **out)
{
	struct file_entry *e;
	char real[PATH_MAX];
	struct stat st;
	uint8_t *data;
	int rc;

	for (e = fc->table[hash(path)]; e; e = e->hnext)
		if (strcmp(e->key, path) == 0)
			break;
	if (e && now_ns - e->checked_ns < REVALIDATE_NS) {
		lru_unlink(fc, e);
		lru_push(fc, e);
		*out = e;
		return 0;
	}
	rc = resolve(fc, path, real, &st);
	if (rc < 0) {
		if (e)
			drop(fc, e);
		return rc;
	}
	if (e && e->mtime == st.st_mtime && e->size == (size_t)st.st_size &&
	    e->ino == (uint64_t)st.st_ino) {
		e->checked_ns = now_ns;
		lru_unlink(fc, e);
		lru_push(fc, e);
		*out = e;
		return 0;
	}
	if (e)
		drop(fc, e);
	rc = load(fc, real, &st, &data);
	if (rc < 0)
		return rc;
	e = calloc(1, sizeof(*e));
	if (!e || !(e->key = strdup(path))) {
		free(e);
		free(data);
		return -ENOMEM;
	}
	e->data = data;
	e->size = (size_t)st.st_size;
	e->mtime = st.st_mtime;
	e->ino = (uint64_t)st.st_ino;
	e->checked_ns = now_ns;
	e->ctype = files_content_type(real);
	{
		struct tm tm;

		gmtime_r(&st.st_mtime, &tm);
		strftime(e->last_modified, sizeof(e->last_modified), "%a, %d %b %Y %H:%M:%S GMT",
			 &tm);
	}
	/* Make room: the least recently used files go (the new one may exceed the limit
	 * alone, then it is served once and dropped at the next lookup). */
	while (fc->tail && fc->bytes + e->size > fc->max_bytes)
		drop(fc, fc->tail);
	e->hnext = fc->table[hash(path)];
	fc->table[hash(path)] = e;
	lru_push(fc, e);
	fc->bytes += e->size;
	*out = e;
	return 0;
}

void files_check(const struct file_cache *fc)
{
	size_t bytes = 0, n = 0, chained = 0;

	for (const struct file_entry *e = fc->head; e; e = e->next) {
		bytes += e->size;
		n++;
		if (e->next && e->next->prev != e)
			abort();
	}
	for (unsigned b = 0; b < BUCKETS; b++)
		for (const struct file_entry *e = fc->table[b]; e; e = e->hnext)
			chained++;
	if (bytes != fc->bytes || n != chained || (n > 1 && fc->bytes > fc->max_bytes))
		abort();
}
