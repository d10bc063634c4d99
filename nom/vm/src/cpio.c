/* cpio.c: the gzip'd cpio newc writer of nom VM images (see cpio.h for why it is fixed). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#include "cpio.h"

struct vm_cpio {
	FILE *f;
	z_stream z;
	uint32_t ino;
	size_t out_bytes;
	int err;
};

static int put(struct vm_cpio *c, const void *data, size_t len, int flush)
{
	unsigned char buf[65536];
	c->z.next_in = (unsigned char *)data;
	c->z.avail_in = (uInt)len;
	do {
		c->z.next_out = buf;
		c->z.avail_out = sizeof(buf);
		int r = deflate(&c->z, flush);
		if (r == Z_STREAM_ERROR)
			return c->err = -EIO;
		size_t n = sizeof(buf) - c->z.avail_out;
		if (n && fwrite(buf, 1, n, c->f) != n)
			return c->err = -errno;
		c->out_bytes += n;
	} while (c->z.avail_out == 0);
	return 0;
}

/* data may be longer than zlib's uInt: feed it in pieces. */
static int put_all(struct vm_cpio *c, const void *data, size_t len)
{
	const unsigned char *p = data;
	while (len) {
		size_t n = len > (1u << 30) ? (1u << 30) : len;
		int r = put(c, p, n, Z_NO_FLUSH);
		if (r)
			return r;
		p += n;
		len -= n;
	}
	return 0;
}

static int pad4(struct vm_cpio *c, size_t len)
{
	static const char zero[4];
	return (len & 3) ? put_all(c, zero, 4 - (len & 3)) : 0;
}

int vm_cpio_open(const char *path, struct vm_cpio **out)
{
	struct vm_cpio *c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->f = fopen(path, "wb");
	if (!c->f) {
		int e = -errno;
		free(c);
		return e;
	}
	/* 15 + 16: a gzip wrapper; zlib leaves its time and name fields zero. */
	if (deflateInit2(&c->z, 9, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY) != Z_OK) {
		fclose(c->f);
		free(c);
		return -ENOMEM;
	}
	*out = c;
	return 0;
}

int vm_cpio_add(struct vm_cpio *c, const char *name, mode_t mode, const void *data, size_t len)
{
	char hdr[160];
	size_t namesize = strlen(name) + 1;
	if (c->err)
		return c->err;
	if (len > 0xffffffffu)
		return -EFBIG;
	snprintf(hdr, sizeof(hdr),
		 "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X", ++c->ino,
		 (unsigned)mode, 0u, 0u, (mode & S_IFMT) == S_IFDIR ? 2u : 1u, 0u, (unsigned)len, 0u, 0u, 0u,
		 0u, (unsigned)namesize, 0u);
	int r;
	if ((r = put_all(c, hdr, 110)) || (r = put_all(c, name, namesize)) ||
	    (r = pad4(c, 110 + namesize)) || (r = put_all(c, data, len)) || (r = pad4(c, len)))
		return r;
	return 0;
}

int vm_cpio_close(struct vm_cpio *c, size_t *bytes)
{
	int r = vm_cpio_add(c, "TRAILER!!!", 0, NULL, 0);
	if (!r)
		r = put(c, NULL, 0, Z_FINISH);
	deflateEnd(&c->z);
	if (fclose(c->f) != 0 && !r)
		r = -errno;
	if (bytes)
		*bytes = c->out_bytes;
	free(c);
	return r;
}

void vm_cpio_abort(struct vm_cpio *c)
{
	deflateEnd(&c->z);
	fclose(c->f);
	free(c);
}
