/* files.h: nhttpd's view of its document root: path resolution that cannot leave the root,
 * and a memory cache of file contents revalidated against the file system once a second.
 *
 * A request path (already decoded and normalized by http_parse) is looked up under the root;
 * a path ending in "/" or naming a directory serves its index.html. The resolved real path
 * (symbolic links followed) must stay inside the root's real path, or the file is "not found",
 * so a symbolic link pointing out of the root serves nothing. Only regular files are served.
 *
 * Design notes (files_check() asserts them): every entry is in one hash chain and in the LRU
 * list; bytes is the sum of the entries' sizes and stays <= max_bytes after every lookup,
 * unless one file alone is larger (it is served, then dropped at the next lookup). */
#ifndef NHTTPD_FILES_H
#define NHTTPD_FILES_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct file_entry {
	struct file_entry *hnext, *prev, *next;
	char *key;               /* the request path */
	uint8_t *data;
	size_t size;
	time_t mtime;
	uint64_t ino;
	int64_t checked_ns;      /* last stat */
	const char *ctype;       /* static string */
	char last_modified[40];  /* IMF-fixdate */
};

struct file_cache;

/* root must be a directory (its real path is kept). Returns 0, -ENOTDIR, -errno, -ENOMEM. */
int files_create(const char *root, size_t max_bytes, size_t max_file,
		 struct file_cache **out);
void files_destroy(struct file_cache *fc);

/* The file for path at time now_ns (monotonic): 0 and *e (borrowed until the next call), or
 * -ENOENT (absent, outside the root, not a regular file), -EACCES (unreadable), -EFBIG (over
 * max_file), -ENOMEM, -EIO. */
int files_get(struct file_cache *fc, const char *path, int64_t now_ns,
	      const struct file_entry **e);
/* The Content-Type for a file name, by extension. */
const char *files_content_type(const char *name);
void files_check(const struct file_cache *fc);

#endif
