/* cpio.h: a reproducible gzip'd cpio "newc" writer (the Linux initramfs format).
 *
 * The kernel unpacks an initramfs from this format only; entries are written in the order
 * given with inode numbers counted from 1, mtime 0, owner root, so the bytes depend on the
 * contents alone. zlib writes the gzip header without a time or a name. */
#ifndef NOMVM_CPIO_H
#define NOMVM_CPIO_H
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct vm_cpio;

/* Opens path for writing (truncates). Returns 0 or -errno. */
int vm_cpio_open(const char *path, struct vm_cpio **out);
/* Adds a directory, a symlink (data = its target) or a regular file (data, len borrowed).
 * mode includes the type bits (S_IFDIR, S_IFLNK, S_IFREG). Returns 0 or -errno. */
int vm_cpio_add(struct vm_cpio *c, const char *name, mode_t mode, const void *data, size_t len);
/* Writes the trailer, flushes and closes; frees c. Returns 0 or -errno (and removes nothing:
 * the caller owns the file). bytes: the compressed size. */
int vm_cpio_close(struct vm_cpio *c, size_t *bytes);
/* Frees c after an error without finishing the archive. */
void vm_cpio_abort(struct vm_cpio *c);
#endif
